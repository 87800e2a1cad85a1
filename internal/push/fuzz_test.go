package push

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

var fuzzKinds = []Kind{KindCDR, KindRecord, KindVoicemail}

func FuzzParse(f *testing.F) {
	for i, name := range []string{"push-cdr.json", "push-record.json", "push-voicemail.json"} {
		body := load(f, name)
		for k := range fuzzKinds {
			f.Add(uint8(k), body)
		}
		f.Add(uint8(i), compacted(f, body))
	}
	for _, s := range []string{
		`{}`, `[]`, `null`, `{"SdkAppId":"1","SessionId":"a"}`,
		`{"SdkAppId":1400000000,"SessionId":"a","RecordId":"r","Timestamp":"1756892231","EndpointUser":1}`,
		`{"SdkAppId":1,"SessionId":"a","SessionId":"a"}`, `{"SdkAppId":1,"sessionid":"a","SessionId":"b"}`,
		`{"a":"\u0053","\u0041":1,"A":2}`, `{"a":"\\\"","b":"\\"}`, `{"a":[[[[[[]]]]]]}`,
		`{"SdkAppId":1e3,"SessionId":"a"}`, `{"SdkAppId":1,"SessionId":"a"} `, `{"SdkAppId":1,"SessionId":"a"}}`,
		"{\"SdkAppId\":1,\"SessionId\":\"a\xff\"}",
	} {
		f.Add(uint8(0), []byte(s))
	}
	f.Fuzz(func(t *testing.T, k uint8, body []byte) {
		kind := fuzzKinds[int(k)%len(fuzzKinds)]
		p, err := Parse(kind, body, testNow)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || !retry.IsPermanent(err) {
				t.Fatalf("error %v (%T) is not a permanent *ValidationError", err, err)
			}
			if len(err.Error()) > 200 {
				t.Fatalf("error too long: %q", err)
			}
			return
		}
		if p.Kind != kind || p.SdkAppID <= 0 || checkID("SessionId", p.SessionID) != nil {
			t.Fatalf("accepted a bad identity: %+v", p)
		}
		set := 0
		for _, ok := range []bool{p.CDR != nil, p.Recording != nil, p.Voicemail != nil} {
			if ok {
				set++
			}
		}
		if set != 1 {
			t.Fatalf("%d typed bodies set", set)
		}
		if !json.Valid(p.Raw) || !bytes.Equal(compacted(t, p.Raw), p.Raw) || p.Raw[0] != '{' {
			t.Fatalf("Raw is not a compact object: %q", p.Raw)
		}
		// Raw says the same as the body: parsing it again gives the same push.
		again, err := Parse(kind, p.Raw, testNow)
		if err != nil {
			t.Fatalf("Raw refused: %v", err)
		}
		if !reflect.DeepEqual(p, again) {
			t.Fatalf("Raw parses differently:\n%+v\n%+v", p, again)
		}
	})
}
