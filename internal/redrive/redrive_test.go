package redrive_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/ccc"
	"github.com/ccc-enricher/ccc-enricher/internal/cccapi"
	"github.com/ccc-enricher/ccc-enricher/internal/enrich"
	"github.com/ccc-enricher/ccc-enricher/internal/push"
	"github.com/ccc-enricher/ccc-enricher/internal/record"
	"github.com/ccc-enricher/ccc-enricher/internal/redrive"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
	"github.com/ccc-enricher/ccc-enricher/internal/tcemu"
	"github.com/ccc-enricher/ccc-enricher/internal/testenv"
)

// env is the CCC API emulator with its sample sessions behind the real
// CCC client, a primary sink and the Redriver.
type env struct {
	emu    *tcemu.Server
	sample tcemu.Sample
	out    *testenv.Sink
	logs   *bytes.Buffer
	r      *redrive.Redriver
}

func newEnv(t *testing.T, mask bool) *env {
	t.Helper()
	api := testenv.NewCCC(t, time.Now(), tcemu.Options{})
	e := &env{emu: api.Emu, sample: api.Sample, out: testenv.NewSink("mem"), logs: &bytes.Buffer{}}
	e.r = &redrive.Redriver{
		Sink: e.out,
		Enricher: &enrich.Enricher{
			Detail:     api.Client(t, cccapi.Options{Retry: retry.Policy{Attempts: 3, Base: time.Millisecond, Max: 5 * time.Millisecond}}, time.Second),
			MaskPhones: mask,
		},
		Logger: slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	return e
}

// receivedAt is when the records in these tests say CCC pushed.
var receivedAt = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// build returns the record of a sample push as the push handler would
// have built it: full with the sample's detail, else partial.
func (e *env) build(t *testing.T, kind push.Kind, body []byte, full bool) ([]byte, *record.Record) {
	t.Helper()
	p, err := push.Parse(kind, body, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	in := record.Input{Push: p, Source: record.SourcePush, PushUUID: "uuid-1", ReceivedAt: receivedAt,
		DetailError: "describe session: InternalError"}
	if full {
		var d ccc.SessionDetail
		if err := json.Unmarshal(e.sample.Detail, &d); err != nil {
			t.Fatal(err)
		}
		in.Detail, in.DetailError, in.DetailFetchedAt = &d, "", receivedAt
	}
	r := record.Build(in)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b, r
}

func decodeRecord(t *testing.T, b []byte) record.Record {
	t.Helper()
	var r record.Record
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("sent body is not a record: %v", err)
	}
	return r
}

func TestRedrive(t *testing.T) {
	e := newEnv(t, false)
	fullBody, full := e.build(t, push.KindCDR, e.sample.CDRPush, true)
	partialBody, partial := e.build(t, push.KindCDR, e.sample.CDRPush, false)
	recPartialBody, recPartial := e.build(t, push.KindRecord, e.sample.RecordPush, false)
	withField := func(b []byte, key string, v any) []byte {
		var m map[string]any
		json.Unmarshal(b, &m)
		m[key] = v
		out, _ := json.Marshal(m)
		return out
	}
	noPush := withField(partialBody, "push", nil)
	cdrOnly := withField(partialBody, "completeness", record.CDROnly)

	tests := []struct {
		name         string
		body         []byte
		id           string
		unchanged    bool   // the body is sent as it came
		completeness string // of the record sent
	}{
		{"full record goes out unchanged", fullBody, full.ID, true, record.Full},
		{"partial record is enriched again", partialBody, partial.ID, false, record.Full},
		{"partial recording record is enriched again", recPartialBody, recPartial.ID, false, record.Full},
		{"partial record without its push goes out as it is", noPush, partial.ID, true, record.Partial},
		{"cdr-only record goes out as it is", cdrOnly, partial.ID, true, record.CDROnly},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.out.Sent = nil
			if err := e.r.Redrive(context.Background(), tt.body); err != nil {
				t.Fatal(err)
			}
			if len(e.out.Sent) != 1 {
				t.Fatalf("sent %d messages, want 1", len(e.out.Sent))
			}
			m := e.out.Sent[0]
			if m.ID != tt.id || m.SchemaVersion != record.SchemaVersion || m.Key != e.sample.SessionID ||
				m.Group != "1400000000" || len(m.Attributes) != 0 {
				t.Errorf("message id %q version %q key %q group %q attrs %v", m.ID, m.SchemaVersion, m.Key, m.Group, m.Attributes)
			}
			if tt.unchanged && !bytes.Equal(m.Body, tt.body) {
				t.Errorf("body changed:\n%s\nwant\n%s", m.Body, tt.body)
			}
			got := decodeRecord(t, m.Body)
			if got.ID != tt.id || got.Completeness != tt.completeness {
				t.Fatalf("sent record %s %s, want %s %s", got.ID, got.Completeness, tt.id, tt.completeness)
			}
			if !tt.unchanged {
				if got.Detail == nil || got.DetailError != "" || got.Meta.DetailFetchedAt == nil {
					t.Errorf("enriched record lacks the detail: %+v", got)
				}
				if !got.Meta.ReceivedAt.Equal(receivedAt) || got.Meta.PushUUID != "uuid-1" || got.Source != record.SourcePush {
					t.Errorf("enriched record lost the push's meta: source %q meta %+v", got.Source, got.Meta)
				}
			}
		})
	}
}

// When the detail still cannot be fetched, the partial record goes out as
// it came.
func TestRedrivePartialStillFailing(t *testing.T) {
	tests := []struct {
		name  string
		setup func(e *env)
	}{
		{"CCC API failing", func(e *env) {
			e.emu.SetFaults(func(string) *tcemu.Fault { return &tcemu.Fault{Code: "InternalError"} })
		}},
		{"credential refused", func(e *env) {
			e.emu.SetFaults(func(string) *tcemu.Fault { return &tcemu.Fault{Code: "AuthFailure.SecretIdNotFound"} })
		}},
		{"no detail source", func(e *env) { e.r.Enricher = nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, false)
			body, rec := e.build(t, push.KindCDR, e.sample.CDRPush, false)
			tt.setup(e)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if err := e.r.Redrive(ctx, body); err != nil {
				t.Fatal(err)
			}
			if len(e.out.Sent) != 1 || !bytes.Equal(e.out.Sent[0].Body, body) || e.out.Sent[0].ID != rec.ID {
				t.Fatalf("sent %d messages; want the partial record unchanged", len(e.out.Sent))
			}
			if !strings.Contains(e.logs.String(), `"reenriched":false`) {
				t.Errorf("log does not say the record stayed partial:\n%s", e.logs)
			}
		})
	}
}

// A redriven record is masked as the function masks: the push it carries
// is already masked, and the detail fetched again is masked too.
func TestRedriveMasksPhones(t *testing.T) {
	e := newEnv(t, true)
	p, err := push.Parse(push.KindCDR, e.sample.CDRPush, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(record.Build(record.Input{Push: p, Source: record.SourcePush, ReceivedAt: receivedAt,
		DetailError: "x", MaskPhones: true}))
	if err := e.r.Redrive(context.Background(), body); err != nil {
		t.Fatal(err)
	}
	got := decodeRecord(t, e.out.Sent[0].Body)
	if got.Completeness != record.Full || got.Detail == nil || !got.Meta.PhonesMasked {
		t.Errorf("record not masked: %s", e.out.Sent[0].Body)
	}
}

func TestRedriveMalformed(t *testing.T) {
	e := newEnv(t, false)
	good, rec := e.build(t, push.KindCDR, e.sample.CDRPush, false)
	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		json.Unmarshal(good, &m)
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	tests := []struct {
		name string
		body []byte
	}{
		{"empty", nil},
		{"not JSON", []byte("hello from CMQ")},
		{"JSON array", []byte(`[{"id":"cer_00"}]`)},
		{"JSON string", []byte(`"cer_00"`)},
		{"truncated", good[:len(good)/2]},
		{"no id", edit(func(m map[string]any) { delete(m, "id") })},
		{"id of another call", edit(func(m map[string]any) { m["sessionId"] = "another-session" })},
		{"id of another kind", edit(func(m map[string]any) { m["kind"] = "voicemail" })},
		{"unknown kind", edit(func(m map[string]any) { m["kind"] = "sms" })},
		{"no schema version", edit(func(m map[string]any) { delete(m, "schemaVersion") })},
		{"no SdkAppId", edit(func(m map[string]any) { m["sdkAppId"] = 0 })},
		{"SdkAppId a string", edit(func(m map[string]any) { m["sdkAppId"] = "1400000000" })},
		{"bad receivedAt", edit(func(m map[string]any) { m["meta"] = map[string]any{"receivedAt": "https://secret.example/x?sig=abc"} })},
		{"too large", append(append([]byte(`{"id":"`), bytes.Repeat([]byte("a"), redrive.MaxBodyBytes)...), `"}`...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.out.Sent = nil
			err := e.r.Redrive(context.Background(), tt.body)
			if !errors.Is(err, redrive.ErrMalformed) || !retry.IsPermanent(err) {
				t.Fatalf("Redrive = %v, want a permanent ErrMalformed", err)
			}
			if len(e.out.Sent) != 0 {
				t.Errorf("sent %d messages", len(e.out.Sent))
			}
			if strings.Contains(err.Error(), "secret.example") || strings.Contains(err.Error(), "hello") || len(err.Error()) > 300 {
				t.Errorf("error quotes the body: %v", err)
			}
		})
	}
	if e.emu.Calls("DescribeSessionDetail") != 0 {
		t.Error("a malformed message reached the CCC API")
	}
	_ = rec
}

// Sink failures keep their class, so the trigger and the logs can tell a
// record the sink refuses from a sink that is down.
func TestRedriveSinkFailure(t *testing.T) {
	e := newEnv(t, false)
	body, rec := e.build(t, push.KindCDR, e.sample.CDRPush, true)
	tests := []struct {
		name      string
		err       error
		permanent bool
	}{
		{"sink unavailable", errors.New("HTTP 503"), false},
		{"sink refuses the record", retry.Permanent(errors.New("HTTP 400")), true},
		{"deadline", context.DeadlineExceeded, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.out.Err = tt.err
			err := e.r.Redrive(context.Background(), body)
			if err == nil || retry.IsPermanent(err) != tt.permanent || errors.Is(err, redrive.ErrMalformed) || !errors.Is(err, tt.err) {
				t.Fatalf("Redrive = %v, want %v with permanent=%v", err, tt.err, tt.permanent)
			}
			if !strings.Contains(err.Error(), rec.ID) || !strings.Contains(err.Error(), "mem") {
				t.Errorf("error %q does not name the record and the sink", err)
			}
		})
	}
}

// Neither the logs nor the errors carry signed recording links or phone
// numbers.
func TestRedriveLogsKeepSecrets(t *testing.T) {
	e := newEnv(t, false)
	full, _ := e.build(t, push.KindCDR, e.sample.CDRPush, true)
	partial, _ := e.build(t, push.KindRecord, e.sample.RecordPush, false)
	for _, b := range [][]byte{full, partial} {
		if err := e.r.Redrive(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	logs := e.logs.String()
	if strings.Count(logs, "record redriven") != 2 {
		t.Fatalf("logs:\n%s", logs)
	}
	for _, secret := range []string{"getRecord", "tencentcos", "example.invalid", "0086158", testenv.SecretKey} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q", secret)
		}
	}
}
