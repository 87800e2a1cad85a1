package enrich

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/ccc"
	"github.com/ccc-enricher/ccc-enricher/internal/push"
	"github.com/ccc-enricher/ccc-enricher/internal/record"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
	"github.com/ccc-enricher/ccc-enricher/internal/sink"
)

// detailSource records the queries it gets and answers with err or a
// detail.
type detailSource struct {
	err     error
	queries []ccc.SessionQuery
}

func (d *detailSource) DescribeSessionDetail(_ context.Context, q ccc.SessionQuery) (*ccc.SessionDetail, error) {
	d.queries = append(d.queries, q)
	if d.err != nil {
		return nil, d.err
	}
	return &ccc.SessionDetail{Caller: "0086100", RequestID: "req-1"}, nil
}

type memSink struct{ got []sink.Message }

func (m *memSink) Send(_ context.Context, msg sink.Message) error {
	m.got = append(m.got, msg)
	return nil
}
func (m *memSink) Name() string { return "mem" }

var now = time.Unix(1756892400, 0)

func mustParse(t *testing.T, kind push.Kind, body string) *push.Push {
	t.Helper()
	p, err := push.Parse(kind, []byte(body), now)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The detail query's window is the push's own unless the request names one.
func TestBuildWindow(t *testing.T) {
	cdr := mustParse(t, push.KindCDR, `{"SdkAppId":1400000000,"SessionId":"s-1","StartTimestamp":1756890000,"EndedTimestamp":1756890100}`)
	rec := mustParse(t, push.KindRecord, `{"SdkAppId":1400000000,"SessionId":"s-2","RecordId":"r-1","Timestamp":1756890200}`)
	vm := mustParse(t, push.KindVoicemail, `{"SdkAppId":1400000000,"SessionId":"s-3","Timestamp":1756890300}`)
	for _, tc := range []struct {
		name       string
		req        Request
		start, end int64
	}{
		{"cdr", Request{Push: cdr}, 1756890000, 1756890100},
		{"recording", Request{Push: rec}, 1756890200 - 12*3600, 1756890200},
		{"voicemail", Request{Push: vm}, 1756890300 - 12*3600, 1756890300},
		{"explicit", Request{Push: cdr, Start: 1, End: 2}, 1, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &detailSource{}
			e := &Enricher{Detail: d, Now: func() time.Time { return now }}
			if _, err := e.Build(context.Background(), tc.req); err != nil {
				t.Fatal(err)
			}
			q := d.queries[0]
			if q.Start != tc.start || q.End != tc.end || q.SessionID != tc.req.Push.SessionID || q.SdkAppID != 1400000000 {
				t.Errorf("query %+v, want window %d–%d", q, tc.start, tc.end)
			}
		})
	}
}

// A detail failure is the caller's error unless partial records are
// forwarded and the request does not require the detail.
func TestBuildDetailFailure(t *testing.T) {
	p := mustParse(t, push.KindCDR, `{"SdkAppId":1400000000,"SessionId":"s-1","EndedTimestamp":1756890100}`)
	cause := retry.Permanent(errors.New("boom"))
	for _, tc := range []struct {
		name           string
		forwardPartial bool
		require        bool
		wantErr        bool
	}{
		{"retry policy", false, false, true},
		{"forward partial", true, false, false},
		{"forward partial, detail required", true, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &Enricher{Detail: &detailSource{err: cause}, ForwardPartial: tc.forwardPartial}
			r, err := e.Build(context.Background(), Request{Push: p, RequireDetail: tc.require})
			if tc.wantErr {
				if !errors.Is(err, ErrDetail) || !retry.IsPermanent(err) {
					t.Fatalf("err = %v, want ErrDetail keeping its class", err)
				}
				return
			}
			if err != nil || r.Completeness != record.Partial || r.DetailError == "" {
				t.Fatalf("record %+v, err %v: want a partial record", r, err)
			}
		})
	}
}

// Message and Encoded map a record to the same message; Encoded keeps the
// body it is given.
func TestMessage(t *testing.T) {
	p := mustParse(t, push.KindCDR, `{"SdkAppId":1400000000,"SessionId":"s-1","EndedTimestamp":1756890100}`)
	e := &Enricher{Detail: &detailSource{}, Sink: &memSink{}}
	r, out, err := e.Process(context.Background(), Request{Push: p, Source: record.SourcePush})
	if err != nil || out.DeadLettered {
		t.Fatal(err, out)
	}
	got := e.Sink.(*memSink).got
	if len(got) != 1 {
		t.Fatalf("%d messages", len(got))
	}
	m := got[0]
	if m.ID != r.ID || m.SchemaVersion != record.SchemaVersion || m.Key != "s-1" || m.Group != "1400000000" {
		t.Errorf("message %+v", m)
	}
	var back record.Record
	if err := json.Unmarshal(m.Body, &back); err != nil || back.ID != r.ID {
		t.Errorf("body does not decode to the record: %v", err)
	}
	raw := []byte(`{"as":"written"}`)
	if again := Encoded(r, raw); string(again.Body) != string(raw) || again.ID != m.ID || again.Key != m.Key || again.Group != m.Group {
		t.Errorf("Encoded = %+v", again)
	}
}
