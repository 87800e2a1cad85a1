package push

// The two-pass Parse this package had before issue 14 (the essentials
// decoded by one json.Unmarshal, then the typed view by another), kept as
// the reference that FuzzParseOnePass holds Parse to.

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func parseTwoPass(kind Kind, body []byte, now time.Time) (*Push, error) {
	if _, err := ParseKind(string(kind)); err != nil {
		return nil, err
	}
	raw, err := compact(body)
	if err != nil {
		return nil, err
	}
	var id essentials
	if err := decode(raw, &id); err != nil {
		return nil, err
	}
	p := &Push{Kind: kind, Raw: raw, SdkAppID: int64(id.SdkAppId), SessionID: id.SessionId}
	if !kind.Enriched() {
		if err := checkOther(p); err != nil {
			return nil, err
		}
		return p, nil
	}
	if err := checkIdentity(p.SdkAppID, p.SessionID); err != nil {
		return nil, err
	}
	ts := timestampChecker{max: now.Add(maxClockSkew).Unix()}
	switch kind {
	case KindCDR:
		start, end := int64(id.StartTimestamp), int64(id.EndedTimestamp)
		ts.check("StartTimestamp", start)
		ts.check("EndedTimestamp", end)
		switch {
		case ts.err != nil:
		case start == 0 && end == 0:
			ts.err = invalid("StartTimestamp", "missing, and so is EndedTimestamp: the call's time bounds the detail query")
		case start > 0 && end > 0 && end < start:
			ts.err = invalid("EndedTimestamp", "before StartTimestamp")
		}
		c := &CDR{SdkAppId: p.SdkAppID, SessionId: p.SessionID, StartTimestamp: start, EndedTimestamp: end}
		p.TypeMismatch = viewTwoPass(raw, &cdrWireTwoPass{CDR: c})
		// The other timestamps only feed metrics: one out of bounds is
		// left out of them, not a reason to refuse the call.
		for _, t := range []*int64{&c.RingTimestamp, &c.AcceptTimestamp, &c.QueuedTimestamp} {
			if ts.outOfBounds(*t) {
				*t = 0
			}
		}
		p.CDR = c
	case KindRecord:
		if err := checkID("RecordId", id.RecordId); err != nil {
			return nil, err
		}
		ts.require("Timestamp", int64(id.Timestamp))
		r := &Recording{SdkAppId: p.SdkAppID, SessionId: p.SessionID, RecordId: id.RecordId, Timestamp: int64(id.Timestamp)}
		p.TypeMismatch = viewTwoPass(raw, &recordingWireTwoPass{Recording: r})
		p.Recording = r
	case KindVoicemail:
		ts.require("Timestamp", int64(id.Timestamp))
		v := &Voicemail{SdkAppId: p.SdkAppID, SessionId: p.SessionID, Timestamp: int64(id.Timestamp)}
		p.TypeMismatch = viewTwoPass(raw, &voicemailWireTwoPass{Voicemail: v})
		p.Voicemail = v
	}
	if ts.err != nil {
		return nil, ts.err
	}
	return p, nil
}

func viewTwoPass(raw []byte, v interface{ apply() }) string {
	err := json.Unmarshal(raw, v)
	v.apply()
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && te.Field != "" {
		path := te.Field
		if i := strings.IndexByte(path, '.'); i >= 0 && strings.ToUpper(path[:1]) == path[:1] && isEmbedded(path[:i]) {
			path = path[i+1:]
		}
		return path + ": want " + jsonType(te.Type) + ", got " + te.Value
	}
	if err != nil {
		return "body: not decodable as its kind"
	}
	return ""
}

// The wire types of the two passes: the essentials shadowed by values
// that decode to nothing.

type cdrWireTwoPass struct {
	*CDR
	SdkAppId, SessionId, StartTimestamp, EndedTimestamp decodedTwoPass
	Caller, Callee                                      looseString
	RingTimestamp, AcceptTimestamp, QueuedTimestamp     looseInt
}

func (w *cdrWireTwoPass) apply() {
	c := w.CDR
	c.Caller, c.Callee = string(w.Caller), string(w.Callee)
	c.RingTimestamp, c.AcceptTimestamp = int64(w.RingTimestamp), int64(w.AcceptTimestamp)
	c.QueuedTimestamp = int64(w.QueuedTimestamp)
}

type recordingWireTwoPass struct {
	*Recording
	SdkAppId, SessionId, RecordId, Timestamp decodedTwoPass
	EndpointUser                             looseString
}

func (w *recordingWireTwoPass) apply() { w.Recording.EndpointUser = string(w.EndpointUser) }

type voicemailWireTwoPass struct {
	*Voicemail
	SdkAppId, SessionId, Timestamp decodedTwoPass
	EndpointUser                   looseString
}

func (w *voicemailWireTwoPass) apply() { w.Voicemail.EndpointUser = string(w.EndpointUser) }

// decodedTwoPass takes any JSON value and keeps nothing: it shadows a
// field that essentials decoded already.
type decodedTwoPass struct{}

func (decodedTwoPass) UnmarshalJSON([]byte) error { return nil }

// FuzzParseOnePass holds Parse, which decodes the essentials and the typed
// view in one pass, to the two-pass Parse it replaced: the same push, or
// the same error, for any body of any kind.
func FuzzParseOnePass(f *testing.F) {
	for _, name := range []string{"push-cdr.json", "push-record.json", "push-voicemail.json"} {
		body := load(f, name)
		for k := range onePassKinds {
			f.Add(uint8(k), body)
		}
	}
	for _, v := range readVariants(f, "testdata/variants.jsonl") {
		f.Add(uint8(slices.Index(onePassKinds, v.Kind)), []byte(v.Body))
	}
	for _, s := range onePassSeeds {
		for k := range onePassKinds {
			f.Add(uint8(k), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, k uint8, body []byte) {
		kind := onePassKinds[int(k)%len(onePassKinds)]
		got, gotErr := Parse(kind, body, testNow)
		want, wantErr := parseTwoPass(kind, body, testNow)
		if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
			t.Fatalf("error %v, two passes %v", gotErr, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("push\n%+v\ntwo passes\n%+v", got, want)
		}
	})
}

var onePassKinds = []Kind{KindCDR, KindRecord, KindVoicemail, KindIMCDR, "other"}

// onePassSeeds put several essentials wrong at once, in either order and
// with mismatches of other fields before and after, so that which error
// wins is compared.
var onePassSeeds = []string{
	`{"SessionId":5,"SdkAppId":"x","StartTimestamp":1756892198}`,
	`{"SdkAppId":"x","SessionId":5}`,
	`{"SessionId":5,"RecordId":6,"SdkAppId":1400000000,"Timestamp":1756892231}`,
	`{"RecordId":[1],"SessionId":{"a":1},"SdkAppId":1400000000,"Timestamp":1756892231}`,
	`{"Direction":"x","SessionId":5,"SdkAppId":1400000000,"StartTimestamp":1756892198}`,
	`{"SdkAppId":1400000000,"SessionId":"a","StartTimestamp":1756892198,"Direction":"x","Timestamp":"y"}`,
	`{"SdkAppId":1400000000,"SessionId":"a","RecordId":"r","Timestamp":1756892231,"EndpointUser":{},"StartTimestamp":true}`,
	`{"sdkappid":"1400000000","SESSIONID":"a\u0062","recordid":"r","timestamp":"1756892231","starttimestamp":"","EndedTimestamp":null}`,
	`{"SdkAppId":1400000000,"SessionId":null,"RecordId":"r","Timestamp":1756892231}`,
	`{"SdkAppId":1400000000,"SessionId":"a","RecordId":"r\"q","Timestamp":1756892231,"Caller":13800000000,"Callee":null}`,
	`{"SdkAppId":1400000000,"SessionId":"a","StartTimestamp":1756892198,"SeatUser":{"StaffNumber":1},"ServeParticipants":[{"Sequence":"x"}]}`,
	`{"SdkAppId":1.5,"SessionId":"a"}`, `{"SdkAppId":1400000000,"SessionId":"a","Timestamp":"1e3"}`,
	`{"SdkAppId":1400000000,"SessionId":"a","StartTimestamp":1756892198,"RingTimestamp":1.0e9,"QueuedTimestamp":"9"}`,
}
