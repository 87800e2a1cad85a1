package intake

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/ccc"
	"github.com/ccc-enricher/ccc-enricher/internal/enrich"
	"github.com/ccc-enricher/ccc-enricher/internal/push"
	"github.com/ccc-enricher/ccc-enricher/internal/record"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
	"github.com/ccc-enricher/ccc-enricher/internal/sink"
)

var now = time.Unix(1756892400, 0)

const (
	cdrBody = `{"SdkAppId":1400000000,"SessionId":"s-1","StartTimestamp":1756890000,"EndedTimestamp":1756890100,"Caller":"008613812345678"}`
	recBody = `{"SdkAppId":1400000000,"SessionId":"s-1","RecordId":"r-1","Timestamp":1756890200}`
)

func message(t *testing.T, kind push.Kind, body string) sink.Message {
	t.Helper()
	p, err := push.Parse(kind, []byte(body), now)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Message(p, "uuid-"+string(kind), now.Add(-time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// An envelope carries the push as validated and decodes to the same push;
// its message id is the record id the push becomes.
func TestMessageRoundTrip(t *testing.T) {
	m := message(t, push.KindRecord, recBody)
	env, p, err := Decode(m.Body, now)
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != record.IDOf(p) || m.Key != "s-1" || m.Group != "1400000000" {
		t.Errorf("message %+v", m)
	}
	if env.PushUUID != "uuid-record" || !env.ReceivedAt.Equal(now.Add(-time.Second)) || string(env.Body) != recBody {
		t.Errorf("envelope %+v", env)
	}
}

func TestDecodeRefuses(t *testing.T) {
	good := message(t, push.KindCDR, cdrBody).Body
	edit := func(f func(map[string]any)) []byte {
		var v map[string]any
		json.Unmarshal(good, &v)
		f(v)
		b, _ := json.Marshal(v)
		return b
	}
	for name, b := range map[string][]byte{
		"not JSON":        []byte("{"),
		"an array":        []byte("[]"),
		"unknown field":   edit(func(v map[string]any) { v["extra"] = 1 }),
		"other version":   edit(func(v map[string]any) { v["v"] = 2 }),
		"no receivedAt":   edit(func(v map[string]any) { delete(v, "receivedAt") }),
		"unknown kind":    edit(func(v map[string]any) { v["kind"] = "fa x" }),
		"invalid push":    edit(func(v map[string]any) { v["body"] = map[string]any{"SdkAppId": 1} }),
		"another session": edit(func(v map[string]any) { v["sessionId"] = "s-2" }),
		"trailing data":   append(append([]byte{}, good...), []byte(" {}")...),
		"too large":       []byte(`{"v":1,"body":"` + strings.Repeat("x", MaxBodyBytes) + `"}`),
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := Decode(b, now)
			if !errors.Is(err, ErrMalformed) || !retry.IsPermanent(err) {
				t.Fatalf("err = %v, want a permanent ErrMalformed", err)
			}
			if strings.Contains(err.Error(), "0086138") {
				t.Errorf("error quotes the message: %v", err)
			}
		})
	}
}

// detailSource counts calls and fails the first failures of them.
type detailSource struct {
	mu       sync.Mutex
	calls    int
	failures int
	queries  []ccc.SessionQuery
}

func (d *detailSource) DescribeSessionDetail(_ context.Context, q ccc.SessionQuery) (*ccc.SessionDetail, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls++
	d.queries = append(d.queries, q)
	if d.calls <= d.failures {
		return nil, retry.After(errors.New("RequestLimitExceeded"), time.Second)
	}
	return &ccc.SessionDetail{RequestID: "req"}, nil
}

type memSink struct {
	mu  sync.Mutex
	got []sink.Message
}

func (m *memSink) Send(_ context.Context, msg sink.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.got = append(m.got, msg)
	return nil
}
func (m *memSink) Name() string { return "mem" }

// A record push and its cdr push in one batch share one detail call with
// the cdr's window, and each becomes its own record.
func TestWorkerSharesDetail(t *testing.T) {
	d, out := &detailSource{}, &memSink{}
	w := &Worker{Enricher: &enrich.Enricher{Detail: d, Sink: out}, Now: func() time.Time { return now }}
	rec, cdr := message(t, push.KindRecord, recBody), message(t, push.KindCDR, cdrBody)
	errs := w.Process(context.Background(), []Delivery{{Body: rec.Body}, {Body: cdr.Body}, {Body: []byte("junk")}})
	if errs[0] != nil || errs[1] != nil || !retry.IsPermanent(errs[2]) {
		t.Fatalf("errs = %v", errs)
	}
	if d.calls != 1 || d.queries[0].Start != 1756890000 || d.queries[0].End != 1756890100 {
		t.Errorf("%d detail calls, %+v; want one with the cdr's window", d.calls, d.queries)
	}
	ids := map[string]bool{}
	for _, m := range out.got {
		ids[m.ID] = true
	}
	if len(out.got) != 2 || !ids[rec.ID] || !ids[cdr.ID] {
		t.Errorf("delivered %d messages with ids %v, want %s and %s", len(out.got), ids, rec.ID, cdr.ID)
	}
}

// Before the last delivery a detail failure is the message's, with the
// wait the API asked for; on the last one the configured policy decides.
func TestWorkerDetailFailure(t *testing.T) {
	for _, tc := range []struct {
		name        string
		final       bool
		wantErr     bool
		wantPartial bool
	}{
		{"early delivery", false, true, false},
		{"final delivery, forward-partial", true, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, out := &detailSource{failures: 1}, &memSink{}
			w := &Worker{Enricher: &enrich.Enricher{Detail: d, Sink: out, ForwardPartial: true}}
			errs := w.Process(context.Background(), []Delivery{{Body: message(t, push.KindCDR, cdrBody).Body, Final: tc.final}})
			if got := errs[0] != nil; got != tc.wantErr {
				t.Fatalf("err = %v", errs[0])
			}
			if tc.wantErr {
				if wait, ok := retry.Wait(errs[0]); !ok || wait != time.Second || retry.IsPermanent(errs[0]) {
					t.Errorf("err %v: wait %v %v, want a transient error asking for 1s", errs[0], wait, ok)
				}
				return
			}
			if len(out.got) != 1 || !strings.Contains(string(out.got[0].Body), `"completeness":"partial"`) {
				t.Errorf("delivered %d, want one partial record", len(out.got))
			}
		})
	}
}
