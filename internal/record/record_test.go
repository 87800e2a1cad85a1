package record

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ccc-enricher/ccc-enricher/internal/ccc"
	"github.com/ccc-enricher/ccc-enricher/internal/push"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// The samples are from September 2025; records are built as if the push
// arrived right after the call.
var received = time.Unix(1756892232, 0).UTC()

func loadPush(t testing.TB, kind push.Kind, file string) *push.Push {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	p, err := push.Parse(kind, b, received)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func loadDetail(t testing.TB) (*ccc.SessionDetail, json.RawMessage) {
	t.Helper()
	b, err := os.ReadFile("testdata/describe-session-detail.response.json")
	if err != nil {
		t.Fatal(err)
	}
	var env struct{ Response json.RawMessage }
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatal(err)
	}
	d, err := ccc.DecodeSessionDetail(env.Response) // as cccapi.Client does
	if err != nil {
		t.Fatal(err)
	}
	return d, env.Response
}

func TestGolden(t *testing.T) {
	detail, _ := loadDetail(t)
	fetched := received.Add(700 * time.Millisecond)
	tests := []struct {
		name string
		in   Input
	}{
		{"cdr", Input{Push: loadPush(t, push.KindCDR, "push-cdr.json"), Source: SourcePush, PushUUID: "uuid-1",
			ReceivedAt: received, Detail: detail, DetailRequestID: detail.RequestID, DetailFetchedAt: fetched}},
		{"cdr-masked", Input{Push: loadPush(t, push.KindCDR, "push-cdr.json"), Source: SourcePush, PushUUID: "uuid-1",
			ReceivedAt: received, Detail: detail, DetailRequestID: detail.RequestID, DetailFetchedAt: fetched, MaskPhones: true}},
		{"cdr-partial", Input{Push: loadPush(t, push.KindCDR, "push-cdr.json"), Source: SourcePush,
			ReceivedAt: received, DetailError: "describe session: FailedOperation.SessionNotExists"}},
		{"record", Input{Push: loadPush(t, push.KindRecord, "push-record.json"), Source: SourcePush, PushUUID: "uuid-2",
			ReceivedAt: received, Detail: detail, DetailRequestID: detail.RequestID, DetailFetchedAt: fetched}},
		// Kinds that are not enriched: the push is the record.
		{"imcdr", Input{Push: loadPush(t, push.KindIMCDR, "push-imcdr.json"), Source: SourcePush, PushUUID: "uuid-3", ReceivedAt: received}},
		{"videocdr", Input{Push: loadPush(t, push.KindVideoCDR, "push-videocdr.json"), Source: SourcePush, PushUUID: "uuid-4", ReceivedAt: received}},
		{"unknown-action", Input{Push: loadPush(t, push.Kind("surveyResult"), "push-unknown.json"), Source: SourcePush, PushUUID: "uuid-5", ReceivedAt: received}},
	}
	schema := compileSchema(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.MarshalIndent(Build(tt.in), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			validate(t, schema, got)
			golden := filepath.Join("testdata", tt.name+".golden.json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./record -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("record differs from %s (go test ./record -update rewrites it):\n%s", golden, got)
			}
		})
	}
}

// Every field of the documented DescribeSessionDetail example survives into
// the record, value for value.
func TestDetailIsLossless(t *testing.T) {
	detail, raw := loadDetail(t)
	r := Build(Input{Push: loadPush(t, push.KindCDR, "push-cdr.json"), Source: SourcePush,
		ReceivedAt: received, Detail: detail, DetailRequestID: detail.RequestID, DetailFetchedAt: received})
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ Detail map[string]any }
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	if out.Detail == nil {
		t.Fatal("no detail in the record")
	}
	out.Detail["RequestId"] = r.Meta.DetailRequestID // kept in meta, not in detail
	for k, v := range want {
		if !reflect.DeepEqual(out.Detail[k], v) {
			t.Errorf("detail field %s: got %v, want %v", k, out.Detail[k], v)
		}
	}
	// Nothing the API did not send: the example lacks SysHangupReason and
	// SysHangupReasonString, and so does the record.
	for k := range out.Detail {
		if _, ok := want[k]; !ok {
			t.Errorf("detail field %s is not in the reply", k)
		}
	}
}

// A field the API adds later survives into the record as it came, and a
// field of another type than this program knows is kept, not refused.
func TestDetailKeepsUnknownFields(t *testing.T) {
	_, raw := loadDetail(t)
	var m map[string]any
	json.Unmarshal(raw, &m)
	m["FutureField"] = map[string]any{"Nested": []any{1.0, "two"}}
	m["HungUpSide"] = 3.0 // a string in the models
	b, _ := json.Marshal(m)
	d, err := ccc.DecodeSessionDetail(b)
	if err != nil {
		t.Fatal(err)
	}
	r := Build(Input{Push: loadPush(t, push.KindCDR, "push-cdr.json"), Source: SourcePush,
		ReceivedAt: received, Detail: d, DetailRequestID: d.RequestID, DetailFetchedAt: received})
	out, _ := json.Marshal(r)
	var got struct{ Detail map[string]any }
	json.Unmarshal(out, &got)
	delete(m, "RequestId")
	if !reflect.DeepEqual(got.Detail, m) {
		t.Errorf("detail is not the reply as it came:\n got %v\nwant %v", got.Detail, m)
	}
	if d.Caller == "" || r.Metrics.HoldCount == nil {
		t.Errorf("the typed view lost more than the retyped field: %+v", d)
	}
}

// The push's own fields, unknown ones included, survive into the record.
func TestPushIsLossless(t *testing.T) {
	b, _ := os.ReadFile("testdata/push-cdr.json")
	var m map[string]any
	json.Unmarshal(b, &m)
	m["SomeFutureField"] = map[string]any{"x": 1.0}
	b, _ = json.Marshal(m)
	p, err := push.Parse(push.KindCDR, b, received)
	if err != nil {
		t.Fatal(err)
	}
	r := Build(Input{Push: p, Source: SourcePush, ReceivedAt: received, DetailError: "x"})
	var got map[string]any
	json.Unmarshal(r.Push, &got)
	if !reflect.DeepEqual(got, m) {
		t.Errorf("push changed:\n got %v\nwant %v", got, m)
	}
}

func TestID(t *testing.T) {
	a := ID(1400000000, "s1", push.KindCDR, "")
	if a != ID(1400000000, "s1", push.KindCDR, "") {
		t.Error("not deterministic")
	}
	distinct := []string{
		a,
		ID(1400000001, "s1", push.KindCDR, ""),
		ID(1400000000, "s2", push.KindCDR, ""),
		ID(1400000000, "s1", push.KindRecord, ""),
		ID(1400000000, "s1", push.KindRecord, "r1"),
		ID(1400000000, "s1\x00record", push.KindCDR, ""), // field boundaries cannot be forged
	}
	seen := map[string]bool{}
	for _, id := range distinct {
		if seen[id] {
			t.Errorf("collision: %s", id)
		}
		seen[id] = true
		if len(id) != 36 || !strings.HasPrefix(id, "cer_") {
			t.Errorf("id %q: want cer_ and 32 hex digits", id)
		}
	}
}

func TestMetrics(t *testing.T) {
	hold := func(ts int64, typ string) ccc.SessionEvent { return ccc.SessionEvent{Timestamp: ts, EventType: typ} }
	n := func(v int64) *int64 { return &v }
	tests := []struct {
		name string
		c    call
		want Metrics
	}{
		{"answered outbound", call{start: 100, ring: 103, accept: 106, end: 132, endStatus: n(1), endStatusName: "ok", haveEvents: true,
			events: []ccc.SessionEvent{hold(111, "StaffHold"), hold(119, "StaffUnhold"), hold(122, "StaffMute"), hold(126, "StaffUnmute")}},
			Metrics{Answered: true, EndStatus: n(1), EndStatusName: "ok", TotalSeconds: n(32), RingSeconds: n(3), TalkSeconds: n(26),
				HoldSeconds: n(8), HoldCount: ip(1), MuteSeconds: n(4), MuteCount: ip(1)}},
		{"inbound queued, hold left open, transferred", call{start: 100, queued: 110, ring: 130, accept: 135, end: 200, endStatus: n(1), endStatusName: "ok", haveEvents: true,
			events: []ccc.SessionEvent{hold(150, "StaffHold"), hold(140, "StaffHold"), hold(145, "StaffUnhold"), hold(190, "StaffHold")},
			legs:   2, transfers: 1},
			Metrics{Answered: true, EndStatus: n(1), EndStatusName: "ok", TotalSeconds: n(100), IVRSeconds: n(10), QueueSeconds: n(20),
				RingSeconds: n(5), TalkSeconds: n(65), HoldSeconds: n(5 + 50), HoldCount: ip(2), MuteSeconds: n(0), MuteCount: ip(0),
				Transfers: 1, Participants: 2}},
		{"abandoned in queue", call{start: 100, queued: 120, end: 180, endStatus: n(103), endStatusName: "waitingGiveUp"},
			Metrics{EndStatus: n(103), EndStatusName: "waitingGiveUp", TotalSeconds: n(80), IVRSeconds: n(20), QueueSeconds: n(60)}},
		{"not answered", call{start: 100, ring: 101, end: 131, endStatus: n(202), endStatusName: "notAnswer"},
			Metrics{EndStatus: n(202), EndStatusName: "notAnswer", TotalSeconds: n(31), RingSeconds: n(30)}},
		{"clock went backwards", call{start: 200, accept: 150, end: 100},
			Metrics{Answered: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := metricsOf(tt.c)
			if !reflect.DeepEqual(*got, tt.want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(tt.want)
				t.Errorf("metrics:\n got %s\nwant %s", g, w)
			}
		})
	}
}

func ip(v int) *int { return &v }

func compileSchema(t testing.TB) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validate(t testing.TB, s *jsonschema.Schema, b []byte) {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(v); err != nil {
		t.Errorf("record does not match schema.json: %v", err)
	}
}

// With masking on, no phone number survives anywhere in the record, while
// the rest of the push and detail do.
func TestMaskPhones(t *testing.T) {
	const caller, callee, agent = "008613812345678", "0086075512345678", "13998765432"
	b, _ := os.ReadFile("testdata/push-cdr.json")
	b = bytes.ReplaceAll(b, []byte("00860755xxxxxxxx"), []byte(caller))
	b = bytes.ReplaceAll(b, []byte("0086158xxxxxxxx"), []byte(callee))
	b = bytes.Replace(b, []byte(`"Phone": ""`), []byte(`"Phone": "`+agent+`"`), 1)
	p, err := push.Parse(push.KindCDR, b, received)
	if err != nil {
		t.Fatal(err)
	}
	detail, _ := loadDetail(t)
	d := *detail
	d.Caller, d.Callee = caller, callee
	d.ServeParticipants = append([]ccc.ServeParticipant(nil), d.ServeParticipants...)
	d.ServeParticipants[0].Phone = agent
	r := Build(Input{Push: p, Source: SourcePush, ReceivedAt: received, Detail: &d, DetailFetchedAt: received, MaskPhones: true})
	out, _ := json.Marshal(r)
	for _, n := range []string{caller, callee, agent, "12345678", "98765432"} {
		if bytes.Contains(out, []byte(n)) {
			t.Errorf("masked record contains %q", n)
		}
	}
	if !r.Meta.PhonesMasked || r.SessionID != p.SessionID || !bytes.Contains(out, []byte("5678")) {
		t.Errorf("masking removed too much: %s", out)
	}
	if d.Caller != caller || d.ServeParticipants[0].Phone != agent {
		t.Error("masking changed the caller's detail")
	}
}
