package ccc

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// goModels maps the npm models' names to this package's types.
var goModels = map[string]reflect.Type{
	"DescribeSessionDetailRequest":  reflect.TypeFor[DescribeSessionDetailRequest](),
	"DescribeSessionDetailResponse": reflect.TypeFor[DescribeSessionDetailResponse](),
	"IVRKeyPressedElement":          reflect.TypeFor[IVRKeyPressedElement](),
	"SessionEvent":                  reflect.TypeFor[SessionEvent](),
	"EventStaffDetail":              reflect.TypeFor[StaffEventDetail](),
	"EventStaffElement":             reflect.TypeFor[EventStaff](),
	"ServeParticipant":              reflect.TypeFor[ServeParticipant](),
	"TelCdrInfo":                    reflect.TypeFor[TelCdrInfo](),
	"SeatUserInfo":                  reflect.TypeFor[SeatUserInfo](),
	"DescribeTelCdrRequest":         reflect.TypeFor[DescribeTelCdrRequest](),
	"DescribeTelCdrResponse":        reflect.TypeFor[DescribeTelCdrResponse](),
}

type npmField struct {
	Type     string `json:"type"`
	Required bool   `json:"required"`
}

func loadNPM(t testing.TB) map[string]map[string]npmField {
	b, err := os.ReadFile("testdata/npm-models.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]map[string]npmField
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// jsonFields lists a struct's fields by JSON name, embedded structs
// flattened, "-" fields left out.
func jsonFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if f.Anonymous && tag == "" {
			for k, v := range jsonFields(f.Type) {
				out[k] = v
			}
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		out[name] = f
	}
	return out
}

// goTypeOf returns the Go type a TypeScript type of the npm models maps to.
func goTypeOf(ts string) (reflect.Type, bool) {
	switch ts {
	case "number":
		return reflect.TypeFor[int64](), true
	case "string":
		return reflect.TypeFor[string](), true
	case "boolean":
		return reflect.TypeFor[bool](), true
	}
	if elem, ok := strings.CutPrefix(ts, "Array<"); ok {
		et, ok := goTypeOf(strings.TrimSuffix(elem, ">"))
		if !ok {
			return nil, false
		}
		return reflect.SliceOf(et), true
	}
	t, ok := goModels[ts]
	return t, ok
}

func TestModelsMatchNPM(t *testing.T) {
	npm := loadNPM(t)
	for name, model := range npm {
		goType, ok := goModels[name]
		if !ok {
			t.Errorf("no Go type for npm model %s", name)
			continue
		}
		fields := jsonFields(goType)
		for fname, f := range model {
			gf, ok := fields[fname]
			if !ok {
				t.Errorf("%s: field %s missing", goType.Name(), fname)
				continue
			}
			want, ok := goTypeOf(f.Type)
			if !ok {
				t.Errorf("%s.%s: npm type %s unknown", name, fname, f.Type)
				continue
			}
			if gf.Type != want {
				t.Errorf("%s.%s is %v, want %v (npm %s)", goType.Name(), fname, gf.Type, want, f.Type)
			}
			optional := strings.Contains(gf.Tag.Get("json"), "omitempty")
			if f.Required && optional {
				t.Errorf("%s.%s is required but omitempty", goType.Name(), fname)
			}
			if optional && !strings.HasSuffix(name, "Request") {
				t.Errorf("%s.%s: reply fields must not be omitempty", goType.Name(), fname)
			}
		}
		for fname := range fields {
			if _, ok := model[fname]; !ok {
				t.Errorf("%s: field %s is not in the npm model %s", goType.Name(), fname, name)
			}
		}
	}
}

// fill builds a JSON value of an npm model with every field set to a
// non-zero value.
func fill(t *testing.T, npm map[string]map[string]npmField, ts string, n *int) any {
	*n++
	switch ts {
	case "number":
		return *n
	case "string":
		return fmt.Sprintf("s%d", *n)
	case "boolean":
		return true
	}
	if elem, ok := strings.CutPrefix(ts, "Array<"); ok {
		elem = strings.TrimSuffix(elem, ">")
		return []any{fill(t, npm, elem, n), fill(t, npm, elem, n)}
	}
	model, ok := npm[ts]
	if !ok {
		t.Fatalf("npm type %s unknown", ts)
	}
	obj := map[string]any{}
	for _, fname := range slices.Sorted(maps.Keys(model)) {
		obj[fname] = fill(t, npm, model[fname].Type, n)
	}
	return obj
}

// Every field of every model survives decode and encode: none is dropped,
// renamed or retyped.
func TestModelsRoundTrip(t *testing.T) {
	npm := loadNPM(t)
	for name, goType := range goModels {
		t.Run(name, func(t *testing.T) {
			n := 0
			in, err := json.Marshal(fill(t, npm, name, &n))
			if err != nil {
				t.Fatal(err)
			}
			v := reflect.New(goType)
			if err := json.Unmarshal(in, v.Interface()); err != nil {
				t.Fatal(err)
			}
			out, err := json.Marshal(v.Interface())
			if err != nil {
				t.Fatal(err)
			}
			assertSameJSON(t, out, in)
		})
	}
}

func assertSameJSON(t *testing.T, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("JSON differs:\n got %s\nwant %s", got, want)
	}
}

// The documented example survives decode and encode field for field. It
// lacks SysHangupReason and SysHangupReasonString, which the encoding then
// carries as zero values: documented fields are never omitted.
func TestSessionDetailSample(t *testing.T) {
	b, err := os.ReadFile("testdata/describe-session-detail.response.json")
	if err != nil {
		t.Fatal(err)
	}
	var env struct{ Response json.RawMessage }
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatal(err)
	}
	var resp DescribeSessionDetailResponse
	if err := json.Unmarshal(env.Response, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.RequestId != "d6053004-779e-4cea-bbff-aa689b5fb9ff" {
		t.Errorf("RequestId = %q", resp.RequestId)
	}
	out, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	if err := json.Unmarshal(env.Response, &want); err != nil {
		t.Fatal(err)
	}
	want["SysHangupReason"] = 0.0
	want["SysHangupReasonString"] = ""
	wantJSON, _ := json.Marshal(want)
	assertSameJSON(t, out, wantJSON)

	// The detail alone has no RequestId in its JSON form.
	d, err := json.Marshal(resp.SessionDetail)
	if err != nil {
		t.Fatal(err)
	}
	delete(want, "RequestId")
	wantJSON, _ = json.Marshal(want)
	assertSameJSON(t, d, wantJSON)

	// A few values, typed.
	sd := resp.SessionDetail
	if sd.StartTimeStamp != 1756892198 || sd.EndStatus != 1 || sd.CallType != 1 ||
		len(sd.Events) != 4 || sd.Events[0].StaffEventDetail.Staffs[0].StaffNumber != "20012" ||
		sd.ServeParticipants[0].SkillGroupId != 2522 || sd.IVRKeyPressed == nil {
		t.Errorf("decoded %+v", sd)
	}
}

func FuzzSessionDetail(f *testing.F) {
	b, err := os.ReadFile("testdata/describe-session-detail.response.json")
	if err != nil {
		f.Fatal(err)
	}
	var env struct{ Response json.RawMessage }
	if err := json.Unmarshal(b, &env); err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(env.Response))
	f.Add([]byte(`{"Events":[{"StaffEventDetail":null}],"IVRKeyPressed":[{"Timestamp":1756892201000}]}`))
	f.Add([]byte(`{"CallType":"1"}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		var d SessionDetail
		if json.Unmarshal(in, &d) != nil {
			return
		}
		// Encoding is stable from the first round on.
		once, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var d2 SessionDetail
		if err := json.Unmarshal(once, &d2); err != nil {
			t.Fatal(err)
		}
		twice, err := json.Marshal(d2)
		if err != nil {
			t.Fatal(err)
		}
		if string(once) != string(twice) {
			t.Fatalf("unstable:\n%s\n%s", once, twice)
		}
	})
}
