package mask

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/ccc-enricher/ccc-enricher/internal/ccc"
)

// fill sets every string of v to s, every integer to n and gives every
// slice two elements, recursively.
func fill(v reflect.Value, s string, n int64) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(n)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), s, n)
			}
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range v.Len() {
			fill(v.Index(i), s, n)
		}
	}
}

// TestMaskDetailAsMaskRaw checks that MaskDetail masks what MaskRaw masks
// in the detail's JSON, for every field SessionDetail has: a new phone
// field makes it fail.
func TestMaskDetailAsMaskRaw(t *testing.T) {
	for _, s := range []string{"13812345678", "+86 138 1234 5678", "foo@tencent.com", "8001"} {
		var d ccc.SessionDetail
		fill(reflect.ValueOf(&d).Elem(), s, 13812345678)
		d.RequestID = "req-1"
		orig := d
		orig.ServeParticipants = append([]ccc.ServeParticipant(nil), d.ServeParticipants...)

		b, err := json.Marshal(&d)
		if err != nil {
			t.Fatal(err)
		}
		var want ccc.SessionDetail
		if err := json.Unmarshal(MaskRaw(b), &want); err != nil {
			t.Fatalf("%s: the masked JSON does not decode: %v", s, err)
		}
		want.RequestID = d.RequestID

		got := MaskDetail(&d)
		if !reflect.DeepEqual(got, &want) {
			t.Errorf("%s: MaskDetail =\n%+v\nMaskRaw gives\n%+v", s, got, &want)
		}
		if !reflect.DeepEqual(d, orig) {
			t.Errorf("%s: MaskDetail changed its argument", s)
		}
	}
	if got := MaskDetail(&ccc.SessionDetail{Caller: "13812345678"}); got.ServeParticipants != nil || got.Caller != "138****5678" {
		t.Errorf("MaskDetail = %+v", got)
	}
}
