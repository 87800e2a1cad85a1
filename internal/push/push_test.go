package push

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/ccc"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

// testNow is a minute after the sample call ended.
var testNow = time.Unix(1756892300, 0)

func load(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// deleted removes a field in edit.
type deletedField struct{}

var deleted deletedField

// edit returns body with top-level fields set to raw JSON (string values)
// or removed (deleted). Key order is lost, which Parse does not mind.
func edit(t testing.TB, body []byte, kv ...any) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(kv); i += 2 {
		k := kv[i].(string)
		switch v := kv[i+1].(type) {
		case deletedField:
			delete(m, k)
		case string:
			m[k] = json.RawMessage(v)
		default:
			t.Fatalf("edit: bad value %T", v)
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func compacted(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParseKind(t *testing.T) {
	for _, tc := range []struct {
		action string
		want   Kind
	}{
		{"cdr", KindCDR},
		{"record", KindRecord},
		{"voicemail", KindVoicemail},
		{"imcdr", KindIMCDR},
		{"videoCdr", KindVideoCDR},
		// Actions this program does not know are kinds of their own,
		// forwarded as kind unknown; names are case-sensitive.
		{"CDR", "CDR"},
		{"voiceMail", "voiceMail"},
		{"callback", "callback"},
		{"future_kind-2", "future_kind-2"},
		// Nothing CCC would send.
		{"", ""},
		{"cdr ", ""},
		{"a/b", ""},
		{"été", ""},
		{strings.Repeat("a", 33), ""},
	} {
		got, err := ParseKind(tc.action)
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("ParseKind(%q) = %q, %v; want %q", tc.action, got, err, tc.want)
		}
		if err != nil {
			assertValidation(t, err, "action")
		}
	}
}

func TestParseCDRSample(t *testing.T) {
	body := load(t, "push-cdr.json")
	p, err := Parse(KindCDR, body, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind != KindCDR || p.SdkAppID != 1400000000 || p.SessionID != "0f507d5d-e1e4-436e-a655-1d6c75a79b4f" {
		t.Errorf("identity = %q %d %q", p.Kind, p.SdkAppID, p.SessionID)
	}
	if p.Recording != nil || p.Voicemail != nil {
		t.Error("Recording or Voicemail set for a cdr push")
	}
	if !bytes.Equal(p.Raw, compacted(t, body)) {
		t.Errorf("Raw = %s\nwant the compacted body", p.Raw)
	}
	want := &CDR{
		SdkAppId: 1400000000, SessionId: "0f507d5d-e1e4-436e-a655-1d6c75a79b4f",
		Caller: "00860755xxxxxxxx", Callee: "0086158xxxxxxxx",
		Direction: 1, CallType: 1, Duration: 26,
		SeatUser: &SeatUser{
			Mail: "foo@tencent.com", StaffNumber: "20012", Name: "foo", Nick: "foo",
			UserId: "foo@tencent.com", SkillGroupNameList: []string{"foo-tel"},
		},
		CallerLocation: "Shenzhen",
		RingTimestamp:  1756892201, AcceptTimestamp: 1756892204, EndedTimestamp: 1756892230, StartTimestamp: 1756892198,
		IVRKeyPressed: []string{}, IVRKeyPressedEx: []ccc.IVRKeyPressedElement{},
		HungUpSide: "user",
		ServeParticipants: []Participant{{
			AcceptTimestamp: 1756892204, EndStatusString: "ok", EndedTimestamp: 1756892230,
			Mail: "foo@tencent.com", RecordId: "8a76adc6-e70c-459d-8921-56c88d91f840",
			RingTimestamp: 1756892198, SkillGroupId: 2522, SkillGroupName: "foo-tel",
			StartTimestamp: 1756892198, Type: "staffSeat",
		}},
		EndStatusString:   "ok",
		PostIVRKeyPressed: []ccc.IVRKeyPressedElement{},
		RecordId:          "f460fff5-0cad-8424-e904ef6a76d2",
	}
	if !reflect.DeepEqual(p.CDR, want) {
		t.Errorf("CDR =\n%+v\nwant\n%+v", p.CDR, want)
	}
}

func TestParseCDRAllFields(t *testing.T) {
	body := edit(t, load(t, "push-cdr.json"),
		"SeatUser", `{"Name":"n","Mail":"m@x","StaffNumber":"1","Phone":"008613800000000","Nick":"k","UserId":"u","SkillGroupNameList":["a","b"],"Role":3,"ExtensionNumber":"8001"}`,
		"IVRKeyPressed", `["1","2"]`,
		"IVRKeyPressedEx", `[{"Key":"1","Label":"sales","Timestamp":1756892199123,"NodeLabel":"menu","OriginalContent":"one","TTSPrompt":"press 1"}]`,
		"PostIVRKeyPressed", `[{"Key":"5","Label":"very satisfied"}]`,
		"QueuedTimestamp", `1756892200`,
		"QueuedSkillGroupName", `"sales"`,
		"QueuedSkillGroupId", `42`,
		"UserRemark", `"vip"`,
		"Uui", `"order=1"`,
		"IVRDuration", `2`,
	)
	p, err := Parse(KindCDR, body, testNow)
	if err != nil {
		t.Fatal(err)
	}
	c := p.CDR
	wantSeat := SeatUser{Name: "n", Mail: "m@x", StaffNumber: "1", Phone: "008613800000000", Nick: "k", UserId: "u", SkillGroupNameList: []string{"a", "b"}}
	if c.SeatUser == nil || !reflect.DeepEqual(*c.SeatUser, wantSeat) {
		t.Errorf("SeatUser = %+v", c.SeatUser)
	}
	wantKey := ccc.IVRKeyPressedElement{Key: "1", Label: "sales", Timestamp: 1756892199123, NodeLabel: "menu", OriginalContent: "one", TTSPrompt: "press 1"}
	if len(c.IVRKeyPressedEx) != 1 || c.IVRKeyPressedEx[0] != wantKey {
		t.Errorf("IVRKeyPressedEx = %+v", c.IVRKeyPressedEx)
	}
	if !reflect.DeepEqual(c.IVRKeyPressed, []string{"1", "2"}) || len(c.PostIVRKeyPressed) != 1 || c.PostIVRKeyPressed[0].Label != "very satisfied" {
		t.Errorf("keys = %v %+v", c.IVRKeyPressed, c.PostIVRKeyPressed)
	}
	if c.QueuedTimestamp != 1756892200 || c.QueuedSkillGroupName != "sales" || c.QueuedSkillGroupId != 42 ||
		c.UserRemark != "vip" || c.Uui != "order=1" || c.IVRDuration != 2 {
		t.Errorf("CDR = %+v", c)
	}
}

func TestParseRecordSample(t *testing.T) {
	body := load(t, "push-record.json")
	p, err := Parse(KindRecord, body, testNow)
	if err != nil {
		t.Fatal(err)
	}
	want := &Recording{
		SdkAppId: 1400000000, RecordId: "8a76adc6-e70c-459d-8921-56c88d91f840",
		SessionId: "0f507d5d-e1e4-436e-a655-1d6c75a79b4f", Timestamp: 1756892231,
		EndpointUser:    "foo@tencent.com",
		RecordURL:       "https://example.invalid/record/8a76adc6.mp3",
		CustomRecordURL: "https://example.cos.ap-guangzhou.tencentcos.cn/record/2025/09/03/17/1756892231_8a76adc6-e70c-459d-8921-56c88d91f840.mp3",
	}
	if !reflect.DeepEqual(p.Recording, want) || p.CDR != nil || p.Voicemail != nil {
		t.Errorf("Recording = %+v", p.Recording)
	}
	if p.SdkAppID != want.SdkAppId || p.SessionID != want.SessionId || !bytes.Equal(p.Raw, compacted(t, body)) {
		t.Errorf("push = %+v", p)
	}
}

func TestParseVoicemailSample(t *testing.T) {
	body := load(t, "push-voicemail.json")
	p, err := Parse(KindVoicemail, body, testNow)
	if err != nil {
		t.Fatal(err)
	}
	want := &Voicemail{
		SdkAppId: 1400000000, SessionId: "0f507d5d-e1e4-436e-a655-1d6c75a79b4f", Timestamp: 1756892231,
		RecordURL: "https://example.invalid/voicemail/0f507d5d.mp3", EndpointUser: "13123456789",
	}
	if !reflect.DeepEqual(p.Voicemail, want) || p.CDR != nil || p.Recording != nil {
		t.Errorf("Voicemail = %+v", p.Voicemail)
	}
	// Raw keeps CCC's number as it came.
	if !bytes.Contains(p.Raw, []byte(`"EndpointUser":13123456789`)) {
		t.Errorf("Raw = %s", p.Raw)
	}
}

func TestParseKeepsUnknownFields(t *testing.T) {
	body := edit(t, load(t, "push-cdr.json"),
		"AIAgentId", `7`,
		"NewThing", `{"Nested":[1,{"x":null}],"Flag":true}`,
	)
	p, err := Parse(KindCDR, body, testNow)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(p.Raw, &m); err != nil {
		t.Fatal(err)
	}
	if string(m["AIAgentId"]) != `7` || string(m["NewThing"]) != `{"Nested":[1,{"x":null}],"Flag":true}` {
		t.Errorf("Raw lost unknown fields: %s", p.Raw)
	}
}

func TestParseRawIsACopy(t *testing.T) {
	body := load(t, "push-record.json")
	p, err := Parse(KindRecord, body, testNow)
	if err != nil {
		t.Fatal(err)
	}
	before := string(p.Raw)
	for i := range body {
		body[i] = ' '
	}
	if string(p.Raw) != before {
		t.Error("Raw aliases the body")
	}
}

func TestParseLenientTypes(t *testing.T) {
	cdr, rec := load(t, "push-cdr.json"), load(t, "push-record.json")
	for _, tc := range []struct {
		name  string
		kind  Kind
		body  []byte
		check func(*Push) bool
	}{
		{"SdkAppId as string", KindCDR, edit(t, cdr, "SdkAppId", `"1400000000"`),
			func(p *Push) bool { return p.SdkAppID == 1400000000 && p.CDR.SdkAppId == 1400000000 }},
		{"timestamps as strings", KindCDR, edit(t, cdr, "StartTimestamp", `"1756892198"`, "EndedTimestamp", `"1756892230"`),
			func(p *Push) bool { return p.CDR.StartTimestamp == 1756892198 && p.CDR.EndedTimestamp == 1756892230 }},
		{"empty string timestamp", KindCDR, edit(t, cdr, "QueuedTimestamp", `""`),
			func(p *Push) bool { return p.CDR.QueuedTimestamp == 0 }},
		{"null timestamp", KindCDR, edit(t, cdr, "AcceptTimestamp", `null`),
			func(p *Push) bool { return p.CDR.AcceptTimestamp == 0 }},
		{"Caller as number", KindCDR, edit(t, cdr, "Caller", `13812345678`),
			func(p *Push) bool { return p.CDR.Caller == "13812345678" }},
		{"null SeatUser", KindCDR, edit(t, cdr, "SeatUser", `null`),
			func(p *Push) bool { return p.CDR.SeatUser == nil || p.CDR.SeatUser.Mail == "" }},
		{"missing optional fields", KindCDR, []byte(`{"SdkAppId":1400000000,"SessionId":"s-1","EndedTimestamp":1756892230}`),
			func(p *Push) bool { return p.CDR.SessionId == "s-1" && p.CDR.StartTimestamp == 0 }},
		{"EndpointUser as number", KindRecord, edit(t, rec, "EndpointUser", `13123456789`),
			func(p *Push) bool { return p.Recording.EndpointUser == "13123456789" }},
		{"Timestamp as string", KindRecord, edit(t, rec, "Timestamp", `"1756892231"`),
			func(p *Push) bool { return p.Recording.Timestamp == 1756892231 }},
		{"Ended equals Start", KindCDR, edit(t, cdr, "StartTimestamp", `1756892230`),
			func(p *Push) bool { return p.CDR.StartTimestamp == p.CDR.EndedTimestamp }},
		{"a day ahead", KindCDR, edit(t, cdr, "EndedTimestamp", `1756978700`),
			func(p *Push) bool { return p.CDR.EndedTimestamp == testNow.Add(24*time.Hour).Unix() }},
		{"whitespace around the body", KindRecord, append(append([]byte(" \r\n\t"), rec...), "\n\n"...),
			func(p *Push) bool { return p.Raw[0] == '{' && p.Raw[len(p.Raw)-1] == '}' }},
		{"case variant of a field", KindCDR, edit(t, cdr, "Uui", deleted, "UUI", `"x"`),
			func(p *Push) bool { return p.CDR.Uui == "x" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(tc.kind, tc.body, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(p) {
				t.Errorf("got %+v %+v %+v", p, p.CDR, p.Recording)
			}
		})
	}
}

// secretish marks values that error messages must not repeat.
const secretish = "SECRETISH"

func TestParseRefuses(t *testing.T) {
	cdr, rec, vm := load(t, "push-cdr.json"), load(t, "push-record.json"), load(t, "push-voicemail.json")
	nested := func(depth int) string { // a value nesting depth levels
		return strings.Repeat("[", depth) + strings.Repeat("]", depth)
	}
	for _, tc := range []struct {
		name  string
		kind  Kind
		body  []byte
		field string
	}{
		{"kind not a name", Kind("cdr 2"), cdr, "action"},
		{"other kind without SdkAppId", KindIMCDR, []byte(`{"SessionId":"s"}`), "SdkAppId"},
		{"other kind with a bad SessionId", Kind("future"), []byte(`{"SdkAppId":1400000000,"SessionId":"a b"}`), "SessionId"},
		{"empty body", KindCDR, nil, "body"},
		{"only spaces", KindCDR, []byte(" \n "), "body"},
		{"array", KindCDR, []byte(`[` + string(cdr) + `]`), "body"},
		{"null", KindCDR, []byte(`null`), "body"},
		{"string", KindCDR, []byte(`"` + secretish + `"`), "body"},
		{"trailing garbage", KindCDR, append(bytes.Clone(cdr), "x"...), "body"},
		{"two objects", KindCDR, append(bytes.Clone(cdr), cdr...), "body"},
		{"truncated", KindCDR, cdr[:len(cdr)/2], "body"},
		{"unterminated string", KindCDR, []byte(`{"SessionId":"abc`), "body"},
		{"bad syntax inside", KindCDR, []byte(`{"SdkAppId":1,"SessionId":"s",}`), "body"},
		{"unbalanced", KindCDR, []byte(`{"a":[}`), "body"},
		{"invalid UTF-8", KindCDR, edit(t, cdr, "UserRemark", "\"\xff\xfe\""), "body"},
		{"too deep", KindCDR, edit(t, cdr, "Extra", nested(MaxDepth)), "body"},
		{"very deep", KindCDR, []byte(`{"a":` + nested(500000) + `}`), "body"},
		{"too large", KindCDR, edit(t, cdr, "Extra", `"`+strings.Repeat("a", MaxBodyBytes)+`"`), "body"},
		{"duplicate key", KindCDR, []byte(`{"SdkAppId":1400000000,"SessionId":"a","SessionId":"b"}`), "SessionId"},
		{"duplicate key by escape", KindCDR, []byte(`{"SdkAppId":1400000000,"SessionId":"a","\u0053essionId":"b"}`), "SessionId"},
		{"duplicate key by case", KindCDR, []byte(`{"SdkAppId":1400000000,"SessionId":"a","sessionid":"b"}`), "SessionId"},
		{"duplicate SdkAppId by case", KindCDR, []byte(`{"SdkAppId":1400000000,"SDKAPPID":1,"SessionId":"a"}`), "SdkAppId"},
		{"duplicate SdkAppId by Kelvin sign", KindCDR, []byte(`{"SdkAppId":1400000000,"Sd\u212aAppId":1,"SessionId":"a"}`), "SdkAppId"},
		{"duplicate SessionId by long s", KindCDR, []byte(`{"SdkAppId":1400000000,"SessionId":"a","Se\u017f\u017fionId":"b"}`), "SessionId"},
		{"SdkAppId missing", KindCDR, edit(t, cdr, "SdkAppId", deleted), "SdkAppId"},
		{"SdkAppId zero", KindCDR, edit(t, cdr, "SdkAppId", `0`), "SdkAppId"},
		{"SdkAppId negative", KindCDR, edit(t, cdr, "SdkAppId", `-1400000000`), "SdkAppId"},
		{"SdkAppId fraction", KindCDR, edit(t, cdr, "SdkAppId", `1400000000.5`), "SdkAppId"},
		{"SdkAppId exponent", KindCDR, edit(t, cdr, "SdkAppId", `1.4e9`), "SdkAppId"},
		{"SdkAppId overflow", KindCDR, edit(t, cdr, "SdkAppId", `99999999999999999999`), "SdkAppId"},
		{"SdkAppId not digits", KindCDR, edit(t, cdr, "SdkAppId", `"`+secretish+`"`), "SdkAppId"},
		{"SdkAppId object", KindCDR, edit(t, cdr, "SdkAppId", `{"n":1}`), "SdkAppId"},
		{"SdkAppId bool", KindRecord, edit(t, rec, "SdkAppId", `true`), "SdkAppId"},
		{"SessionId missing", KindCDR, edit(t, cdr, "SessionId", deleted), "SessionId"},
		{"SessionId empty", KindRecord, edit(t, rec, "SessionId", `""`), "SessionId"},
		{"SessionId too long", KindCDR, edit(t, cdr, "SessionId", `"`+strings.Repeat(secretish, 15)+`"`), "SessionId"},
		{"SessionId with space", KindCDR, edit(t, cdr, "SessionId", `"`+secretish+` x"`), "SessionId"},
		{"SessionId with newline", KindVoicemail, edit(t, vm, "SessionId", `"`+secretish+`\n"`), "SessionId"},
		{"SessionId with NUL", KindCDR, edit(t, cdr, "SessionId", `"`+secretish+`\u0000"`), "SessionId"},
		{"SessionId non-ASCII", KindCDR, edit(t, cdr, "SessionId", `"`+secretish+`é"`), "SessionId"},
		{"SessionId number", KindCDR, edit(t, cdr, "SessionId", `12345`), "SessionId"},
		{"RecordId missing", KindRecord, edit(t, rec, "RecordId", deleted), "RecordId"},
		{"RecordId empty", KindRecord, edit(t, rec, "RecordId", `""`), "RecordId"},
		{"RecordId with space", KindRecord, edit(t, rec, "RecordId", `"`+secretish+` 1"`), "RecordId"},
		{"timestamp before 2015", KindCDR, edit(t, cdr, "StartTimestamp", `1400000000`), "StartTimestamp"},
		{"timestamp in milliseconds", KindCDR, edit(t, cdr, "EndedTimestamp", `1756892230000`), "EndedTimestamp"},
		{"CDR without timestamps", KindCDR, edit(t, cdr, "StartTimestamp", deleted, "EndedTimestamp", deleted), "StartTimestamp"},
		{"CDR timestamps zero", KindCDR, edit(t, cdr, "StartTimestamp", `0`, "EndedTimestamp", `"0"`), "StartTimestamp"},
		{"recording without Timestamp", KindRecord, edit(t, rec, "Timestamp", deleted), "Timestamp"},
		{"voicemail Timestamp zero", KindVoicemail, edit(t, vm, "Timestamp", `0`), "Timestamp"},
		{"StartTimestamp given twice", KindCDR, edit(t, cdr, "starttimestamp", `1756892198`), "StartTimestamp"},
		{"ended before start", KindCDR, edit(t, cdr, "EndedTimestamp", `1756892197`), "EndedTimestamp"},
		{"record timestamp in the future", KindRecord, edit(t, rec, "Timestamp", `4102444800`), "Timestamp"},
		{"voicemail timestamp negative", KindVoicemail, edit(t, vm, "Timestamp", `-1`), "Timestamp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(tc.kind, tc.body, testNow)
			if err == nil {
				t.Fatalf("accepted: %+v", p)
			}
			assertValidation(t, err, tc.field)
		})
	}
}

func assertValidation(t *testing.T, err error, field string) {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T) is not a *ValidationError", err, err)
	}
	if ve.Field != field {
		t.Errorf("Field = %q, want %q (%v)", ve.Field, field, err)
	}
	if !retry.IsPermanent(err) {
		t.Errorf("%v is not permanent", err)
	}
	if msg := err.Error(); strings.Contains(msg, secretish) || len(msg) > 200 {
		t.Errorf("message repeats the value or is long: %q", msg)
	}
}

func TestParseDepthLimit(t *testing.T) {
	cdr := load(t, "push-cdr.json")
	// The body is level 1, so a field may nest MaxDepth-1 levels.
	ok := edit(t, cdr, "Extra", strings.Repeat("[", MaxDepth-1)+strings.Repeat("]", MaxDepth-1))
	if _, err := Parse(KindCDR, ok, testNow); err != nil {
		t.Errorf("depth %d refused: %v", MaxDepth, err)
	}
	deep := edit(t, cdr, "Extra", strings.Repeat(`{"a":`, MaxDepth)+"1"+strings.Repeat("}", MaxDepth))
	if _, err := Parse(KindCDR, deep, testNow); err == nil {
		t.Errorf("depth %d accepted", MaxDepth+1)
	}
}

func TestForSession(t *testing.T) {
	p, err := ForSession("s-1", 1400000000, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind != KindCDR || p.SdkAppID != 1400000000 || p.SessionID != "s-1" || p.Raw != nil ||
		p.CDR == nil || p.CDR.SessionId != "s-1" || p.CDR.SdkAppId != 1400000000 {
		t.Errorf("ForSession = %+v %+v", p, p.CDR)
	}
	for _, tc := range []struct {
		id    string
		app   int64
		field string
	}{
		{"", 1, "SessionId"},
		{"a b", 1, "SessionId"},
		{strings.Repeat("a", MaxIDLength+1), 1, "SessionId"},
		{"s", 0, "SdkAppId"},
		{"s", -1, "SdkAppId"},
	} {
		_, err := ForSession(tc.id, tc.app, testNow)
		assertValidation(t, err, tc.field)
	}
}

func BenchmarkParseCDR(b *testing.B) {
	body := load(b, "push-cdr.json")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(KindCDR, body, testNow); err != nil {
			b.Fatal(err)
		}
	}
}

// A tolerant reader: a field the function does not need to process the
// push never refuses it. The typed view lacks the surprising value, Raw
// keeps it, and TypeMismatch names the field and the types, never the
// value.
func TestParseTolerates(t *testing.T) {
	cdr, rec := load(t, "push-cdr.json"), load(t, "push-record.json")
	for _, tc := range []struct {
		name     string
		kind     Kind
		body     []byte
		mismatch string
		check    func(*Push) bool
	}{
		{"negative RingTimestamp", KindCDR, edit(t, cdr, "RingTimestamp", `-5`), "", func(p *Push) bool { return p.CDR.RingTimestamp == 0 }},
		{"AcceptTimestamp over a day ahead", KindCDR, edit(t, cdr, "AcceptTimestamp", `1756978701`), "", func(p *Push) bool { return p.CDR.AcceptTimestamp == 0 }},
		{"QueuedTimestamp in the future", KindCDR, edit(t, cdr, "QueuedTimestamp", `"4102444800"`), "", func(p *Push) bool { return p.CDR.QueuedTimestamp == 0 }},
		{"AcceptTimestamp as float", KindCDR, edit(t, cdr, "AcceptTimestamp", `1756892204.0`), "", func(p *Push) bool { return p.CDR.AcceptTimestamp == 1756892204 }},
		{"Duration as string", KindCDR, edit(t, cdr, "Duration", `"`+secretish+`"`), "Duration: want an integer, got string", func(p *Push) bool { return p.CDR.Duration == 0 && p.CDR.HungUpSide == "user" }},
		{"Duration as float", KindCDR, edit(t, cdr, "Duration", `26.5`), "Duration: want an integer, got number 26.5", nil},
		{"SeatUser as string", KindCDR, edit(t, cdr, "SeatUser", `"`+secretish+`"`), "SeatUser: want an object, got string", func(p *Push) bool { return p.CDR.SeatUser == nil || p.CDR.SeatUser.Mail == "" }},
		{"StaffNumber as number", KindCDR, edit(t, cdr, "SeatUser", `{"Mail":"a@b","StaffNumber":20012}`), "SeatUser.StaffNumber: want a string, got number", func(p *Push) bool { return p.CDR.SeatUser.Mail == "a@b" }},
		{"Role as string", KindCDR, edit(t, cdr, "SeatUser", `{"Role":"admin"}`), "", nil},
		{"Sequence as string", KindCDR, edit(t, cdr, "ServeParticipants", `[{"Sequence":"0","Mail":"a@b"}]`), "ServeParticipants.Sequence: want an integer, got string", func(p *Push) bool { return p.CDR.ServeParticipants[0].Mail == "a@b" }},
		{"SkillGroupId as string", KindCDR, edit(t, cdr, "ServeParticipants", `[{"SkillGroupId":"`+secretish+`"}]`), "ServeParticipants.SkillGroupId: want an integer, got string", nil},
		{"Direction as string", KindCDR, edit(t, cdr, "Direction", `"1"`), "Direction: want an integer, got string", nil},
		{"CallType as string", KindCDR, edit(t, cdr, "CallType", `"1"`), "CallType: want an integer, got string", nil},
		{"QueuedSkillGroupId as string", KindCDR, edit(t, cdr, "QueuedSkillGroupId", `"7"`), "QueuedSkillGroupId: want an integer, got string", nil},
		{"IVRKeyPressed as objects", KindCDR, edit(t, cdr, "IVRKeyPressed", `[{"Key":"1"}]`), "IVRKeyPressed: want a string, got object", nil},
		{"IVRKeyPressed as numbers", KindCDR, edit(t, cdr, "IVRKeyPressed", `[1,2]`), "IVRKeyPressed: want a string, got number", nil},
		{"IVRKeyPressedEx as strings", KindCDR, edit(t, cdr, "IVRKeyPressedEx", `["1","2"]`), "IVRKeyPressedEx: want an object, got string", nil},
		{"PostIVRKeyPressed as strings", KindCDR, edit(t, cdr, "PostIVRKeyPressed", `["5"]`), "PostIVRKeyPressed: want an object, got string", nil},
		{"ServeParticipants as object", KindCDR, edit(t, cdr, "ServeParticipants", `{"Mail":"a"}`), "ServeParticipants: want an array, got object", nil},
		{"EndpointUser as object", KindRecord, edit(t, rec, "EndpointUser", `{"a":1}`), "", func(p *Push) bool { return p.Recording.EndpointUser == "" }},
		{"RecordURL as number", KindRecord, edit(t, rec, "RecordURL", `1`), "RecordURL: want a string, got number", nil},
		{"unknown nested field", KindCDR, edit(t, cdr, "SeatUser", `{"Mail":"a@b","Future":{"x":[1]}}`), "", func(p *Push) bool { return p.CDR.SeatUser.Mail == "a@b" }},
		{"duplicate nested key", KindCDR, edit(t, cdr, "SeatUser", `{"Mail":"a","Mail":"b"}`), "", nil},
		{"duplicate key in array of objects", KindCDR, edit(t, cdr, "ServeParticipants", `[{"Type":"a"},{"Type":"b","Type":"c"}]`), "", nil},
		{"duplicate top-level field", KindCDR, []byte(`{"SdkAppId":1400000000,"SessionId":"s","EndedTimestamp":1756892230,"Caller":"a","Caller":"b"}`), "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse(tc.kind, tc.body, testNow)
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if p.TypeMismatch != tc.mismatch {
				t.Errorf("TypeMismatch = %q, want %q", p.TypeMismatch, tc.mismatch)
			}
			if strings.Contains(p.TypeMismatch, secretish) {
				t.Errorf("TypeMismatch quotes the value: %q", p.TypeMismatch)
			}
			if tc.check != nil && !tc.check(p) {
				t.Errorf("typed view: %+v", p.CDR)
			}
			var sent, kept any
			json.Unmarshal(tc.body, &sent)
			json.Unmarshal(p.Raw, &kept)
			if !reflect.DeepEqual(sent, kept) {
				t.Errorf("Raw is not the body as sent")
			}
		})
	}
}

// TestSyntaxErrorOffset: a syntax error names where it is, not offset 0.
func TestSyntaxErrorOffset(t *testing.T) {
	_, err := Parse(KindCDR, []byte(`{"SdkAppId":1,}`), time.Now())
	if err == nil || !strings.Contains(err.Error(), "offset 15") {
		t.Errorf("Parse = %v, want offset 15", err)
	}
}
