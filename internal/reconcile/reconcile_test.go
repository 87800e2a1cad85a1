package reconcile_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/handler"
	"github.com/ccc-enricher/ccc-enricher/internal/cccapi"
	"github.com/ccc-enricher/ccc-enricher/internal/enrich"
	"github.com/ccc-enricher/ccc-enricher/internal/push"
	"github.com/ccc-enricher/ccc-enricher/internal/pushauth"
	"github.com/ccc-enricher/ccc-enricher/internal/reconcile"
	"github.com/ccc-enricher/ccc-enricher/internal/record"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
	"github.com/ccc-enricher/ccc-enricher/internal/sink"
	"github.com/ccc-enricher/ccc-enricher/internal/tcemu"
	"github.com/ccc-enricher/ccc-enricher/internal/testenv"
)

const (
	app     = 1400000000
	slotLen = 10 * time.Minute
	delay   = 20 * time.Minute
)

// memSink is a destination that keeps every message it accepts.
type memSink struct {
	name string
	mu   sync.Mutex
	msgs []sink.Message
	// refuse, when set, decides the fate of each message: non-nil refuses.
	refuse func(m sink.Message) error
	// block, when set and true for a message, holds it until its context
	// is done.
	block func(m sink.Message) bool
}

func (s *memSink) Name() string { return s.name }

func (s *memSink) Send(ctx context.Context, m sink.Message) error {
	if s.block != nil && s.block(m) {
		<-ctx.Done()
		return fmt.Errorf("%s: %w", s.name, ctx.Err())
	}
	if s.refuse != nil {
		if err := s.refuse(m); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	return nil
}

// consumer is what a deduplicating consumer ends with: one record per id.
func (s *memSink) consumer(t *testing.T) map[string]record.Record {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]record.Record{}
	for _, m := range s.msgs {
		var r record.Record
		if err := json.Unmarshal(m.Body, &r); err != nil {
			t.Fatal(err)
		}
		if r.ID != m.ID {
			t.Errorf("message %s carries record %s", m.ID, r.ID)
		}
		out[m.ID] = r
	}
	return out
}

// count returns how many messages carried each id.
func (s *memSink) count() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := map[string]int{}
	for _, m := range s.msgs {
		n[m.ID]++
	}
	return n
}

// bodies returns the raw records of an id, in the order received.
func (s *memSink) bodies(id string) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b [][]byte
	for _, m := range s.msgs {
		if m.ID == id {
			b = append(b, m.Body)
		}
	}
	return b
}

type env struct {
	t    *testing.T
	emu  *tcemu.Server
	ccc  *cccapi.Client
	out  *memSink
	enr  *enrich.Enricher
	r    *reconcile.Reconciler
	logs *testenv.Buffer
}

type envOpts struct {
	rate    float64 // the CCC client's rate; zero means fast
	emuRate int     // the emulator's RateLimit; zero means none
}

func newEnv(t *testing.T, o envOpts) *env {
	t.Helper()
	if o.rate == 0 {
		o.rate = 2000
	}
	if o.emuRate == 0 {
		o.emuRate = -1
	}
	api := testenv.NewCCC(t, time.Time{}, tcemu.Options{RateLimit: o.emuRate})
	e := &env{t: t, emu: api.Emu, logs: &testenv.Buffer{}}
	e.ccc = api.Client(t, cccapi.Options{Rate: o.rate, Retry: retry.Policy{Attempts: 5, Base: time.Millisecond, Max: 5 * time.Millisecond}}, 2*time.Second)
	e.out = &memSink{name: "mem"}
	e.enr = &enrich.Enricher{Detail: e.ccc, Sink: e.out}
	e.r = &reconcile.Reconciler{
		CDR: e.ccc, Enricher: e.enr, SdkAppIDs: []int64{app}, Slot: slotLen, Delay: delay,
		Logger: slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	return e
}

// past returns a slot that ended about an hour ago and the time of the
// run that reconciles it.
func past() (reconcile.Slot, time.Time) {
	s := reconcile.SlotFor(time.Now().Add(-time.Hour), slotLen, delay)
	return s, s.End.Add(delay)
}

// addCall stores a call that started at start and ended at end, with its
// detail (from which the emulator derives its list entry).
func (e *env) addCall(id string, start, end time.Time) {
	e.t.Helper()
	s, en := start.Unix(), end.Unix()
	detail := fmt.Sprintf(`{"Caller":"0086100xxxx%04d","Callee":"0086200xxxx","CallType":1,"StartTimeStamp":%d,`+
		`"RingTimestamp":%d,"AcceptTimestamp":%d,"EndedTimestamp":%d,"EndStatus":1,"HungUpSide":"user",`+
		`"StaffUserId":"agent@example.com","Events":[],"ServeParticipants":[],"IVRKeyPressed":[],"PostIVRKeyPressed":[],`+
		`"RecordURL":"","AsrURL":"","CustomRecordURL":"","VoicemailRecordURL":[],"VoicemailAsrURL":[]}`,
		len(id), s, min(s+2, en), min(s+5, en), en)
	if err := e.emu.AddSession(app, id, json.RawMessage(detail)); err != nil {
		e.t.Fatal(err)
	}
}

// addCalls stores n calls of 90 s that end spread over the slot.
func (e *env) addCalls(prefix string, n int, s reconcile.Slot) []string {
	var ids []string
	step := s.End.Sub(s.Start) / time.Duration(n)
	for i := range n {
		id := fmt.Sprintf("%s-%04d", prefix, i)
		end := s.Start.Add(time.Duration(i) * step)
		e.addCall(id, end.Add(-90*time.Second), end)
		ids = append(ids, id)
	}
	return ids
}

func recordID(sessionID string) string { return record.ID(app, sessionID, push.KindCDR, "") }

// checkDelivered asserts that the consumer holds exactly the records of
// ids, each from one of sources.
func (e *env) checkDelivered(ids []string, sources ...string) {
	e.t.Helper()
	got := e.out.consumer(e.t)
	if len(got) != len(ids) {
		e.t.Errorf("the consumer holds %d records, want %d", len(got), len(ids))
	}
	for _, id := range ids {
		r, ok := got[recordID(id)]
		if !ok {
			e.t.Errorf("session %s not delivered", id)
			continue
		}
		if r.SessionID != id || r.SdkAppID != app || r.Kind != push.KindCDR {
			e.t.Errorf("record of %s: %+v", id, r)
		}
		if len(sources) > 0 && !contains(sources, r.Source) {
			e.t.Errorf("record of %s has source %q, want one of %v", id, r.Source, sources)
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// A run delivers the calls CCC never pushed, resends those it pushed with
// the same id, keeps to the slot, and logs one summary line.
func TestReconcile(t *testing.T) {
	e := newEnv(t, envOpts{})
	slot, scheduled := past()
	sm, pushURL := e.samplesPushed(slot)

	ids := e.addCalls("never-pushed", 20, slot)
	e.addCall("long-call", slot.Start.Add(-2*time.Hour), slot.Start.Add(time.Minute))
	// Outside the slot: ends on its end edge, before it, and a call longer
	// than the lookback (the documented limit).
	e.addCall("ends-at-slot-end", slot.End.Add(-time.Minute), slot.End)
	e.addCall("ended-before", slot.Start.Add(-time.Hour), slot.Start.Add(-time.Second))
	e.addCall("longer-than-lookback", slot.Start.Add(-reconcile.DefaultLookback-time.Minute), slot.Start.Add(time.Minute))
	_ = pushURL

	sum, err := e.r.Reconcile(context.Background(), scheduled)
	if err != nil {
		t.Fatal(err)
	}
	want := append(append(ids, "long-call"), sm...)
	if sum.InSlot != len(want) || sum.Forwarded != len(want) || sum.Failed != 0 || sum.DeadLettered != 0 || sum.Seen != len(want)+2 {
		t.Errorf("summary %+v, want %d in slot and forwarded, %d seen", sum, len(want), len(want)+2)
	}
	if !sum.Start.Equal(slot.Start) || !sum.End.Equal(slot.End) || !sum.Done.Equal(slot.End) || sum.Source != record.SourceReconcile {
		t.Errorf("summary %+v, want slot %s done", sum, slot)
	}
	e.checkDelivered(want, record.SourcePush, record.SourceReconcile)
	counts := e.out.count()
	for _, id := range sm {
		if counts[recordID(id)] != 2 {
			t.Errorf("pushed session %s: %d messages, want the push's and the reconciliation's", id, counts[recordID(id)])
		}
	}
	for _, id := range ids {
		if r := e.out.consumer(t)[recordID(id)]; r.Source != record.SourceReconcile || r.Completeness != record.Full || r.Detail == nil {
			t.Errorf("record of %s: source %s, completeness %s", id, r.Source, r.Completeness)
		}
	}

	var line map[string]any
	for _, l := range strings.Split(strings.TrimSpace(e.logs.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "reconcile" {
			if line != nil {
				t.Errorf("two summary lines")
			}
			line = m
		}
	}
	if line == nil || line["slot_start"] != slot.Start.Format(time.RFC3339) || line["slot_end"] != slot.End.Format(time.RFC3339) ||
		line["forwarded"] != float64(len(want)) || line["in_slot"] != float64(len(want)) || line["failed"] != float64(0) || line["level"] != "INFO" {
		t.Errorf("summary line %v", line)
	}
	if strings.Contains(e.logs.String(), "0086100") {
		t.Errorf("a phone number is in the logs")
	}
}

// samplesPushed stores the emulator's samples so that they ended in the
// slot and sends their CDR pushes through the real push handler. It
// returns their session ids.
func (e *env) samplesPushed(slot reconcile.Slot) ([]string, string) {
	e.t.Helper()
	// The documented call ends a minute before the time given, the other
	// two 3 and 6 minutes before it.
	sample, err := tcemu.LoadSamples(e.emu, slot.Start.Add(9*time.Minute))
	if err != nil {
		e.t.Fatal(err)
	}
	fn := httptest.NewServer(handler.New(handler.Options{
		Auth: pushauth.NoAuth(), AllowApp: func(id int64) bool { return id == app }, Enricher: e.enr, Timeout: 5 * time.Second,
	}))
	e.t.Cleanup(fn.Close)
	var ids []string
	for i, s := range append([]tcemu.Sample{sample}, sample.Others...) {
		req, _ := http.NewRequest(http.MethodPost, fn.URL+"/push?action=cdr&version=1", bytes.NewReader(s.CDRPush))
		req.Header.Set("Content-Type", "application/json;charset=utf8")
		req.Header.Set("X-TCCC-PUSH-UUID", fmt.Sprintf("push-uuid-%d", i))
		resp, err := fn.Client().Do(req)
		if err != nil {
			e.t.Fatal(err)
		}
		var reply struct{ ErrCode int }
		json.NewDecoder(resp.Body).Decode(&reply)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || reply.ErrCode != 0 {
			e.t.Fatalf("push of %s: %d %+v", s.SessionID, resp.StatusCode, reply)
		}
		ids = append(ids, s.SessionID)
	}
	return ids, fn.URL
}

// The record reconciliation makes of a call equals the one its push made,
// but for what only the push has: how and when it arrived and was fetched.
func TestReconciledEqualsPushed(t *testing.T) {
	for _, mask := range []bool{false, true} {
		t.Run(fmt.Sprintf("masked=%t", mask), func(t *testing.T) {
			e := newEnv(t, envOpts{})
			e.enr.MaskPhones = mask
			slot, scheduled := past()
			ids, _ := e.samplesPushed(slot)
			if _, err := e.r.Reconcile(context.Background(), scheduled); err != nil {
				t.Fatal(err)
			}
			for _, id := range ids {
				bodies := e.out.bodies(recordID(id))
				if len(bodies) != 2 {
					t.Fatalf("%s: %d records", id, len(bodies))
				}
				pushed, reconciled := comparable(t, bodies[0]), comparable(t, bodies[1])
				// The listed item, every field, is the reconciled record's
				// own: a push has none.
				if _, ok := pushed["cdrList"]; ok {
					t.Errorf("%s: pushed record has a cdrList", id)
				}
				if l, ok := reconciled["cdrList"].(map[string]any); !ok || l["SessionId"] != id || l["RecordURL"] == nil {
					t.Errorf("%s: reconciled record's cdrList = %v", id, reconciled["cdrList"])
				}
				delete(reconciled, "cdrList")
				if !reflect.DeepEqual(pushed, reconciled) {
					t.Errorf("%s: records differ\npushed:     %s\nreconciled: %s", id, bodies[0], bodies[1])
				}
			}
		})
	}
}

// comparable decodes a record without its push-only metadata.
func comparable(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "source")
	meta := m["meta"].(map[string]any)
	for _, k := range []string{"pushUuid", "receivedAt", "detailFetchedAt", "detailRequestId", "recordingLinksExpireAt"} {
		delete(meta, k)
	}
	return m
}

// A call that ends exactly on the edge between two slots is reconciled
// once by two consecutive runs, however late they fire.
func TestSlotEdgeAcrossRuns(t *testing.T) {
	e := newEnv(t, envOpts{})
	slot, scheduled := past()
	next := reconcile.Slot{Start: slot.End, End: slot.End.Add(slotLen)}
	e.addCall("on-start-edge", slot.Start.Add(-time.Minute), slot.Start)
	e.addCall("on-middle-edge", slot.End.Add(-time.Minute), slot.End)
	e.addCall("on-end-edge", next.End.Add(-time.Minute), next.End)
	e.addCall("last-second", next.End.Add(-time.Minute), next.End.Add(-time.Second))
	for _, at := range []time.Time{scheduled.Add(7 * time.Second), scheduled.Add(slotLen + 3*time.Minute)} {
		if _, err := e.r.Reconcile(context.Background(), at); err != nil {
			t.Fatal(err)
		}
	}
	counts := e.out.count()
	for id, want := range map[string]int{"on-start-edge": 1, "on-middle-edge": 1, "on-end-edge": 0, "last-second": 1} {
		if counts[recordID(id)] != want {
			t.Errorf("%s delivered %d times, want %d", id, counts[recordID(id)], want)
		}
	}
}

// Several pages are walked, and counted.
func TestPagination(t *testing.T) {
	e := newEnv(t, envOpts{})
	slot, scheduled := past()
	ids := e.addCalls("paged", 250, slot)
	sum, err := e.r.Reconcile(context.Background(), scheduled)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Pages != 3 || e.emu.Calls("DescribeTelCdr") != 3 || sum.Seen != 250 || sum.Forwarded != 250 {
		t.Errorf("summary %+v; %d DescribeTelCdr calls, want 3 pages", sum, e.emu.Calls("DescribeTelCdr"))
	}
	if n := e.emu.Calls("DescribeSessionDetail"); n != 250 {
		t.Errorf("%d DescribeSessionDetail calls, want 250", n)
	}
	e.checkDelivered(ids, record.SourceReconcile)
}

// At the real rate limit, the client's limiter keeps both actions within
// the API's 20 requests per second.
func TestRealRate(t *testing.T) {
	e := newEnv(t, envOpts{rate: cccapi.DefaultRate, emuRate: 20})
	slot, scheduled := past()
	ids := e.addCalls("paced", 30, slot)
	sum, err := e.r.Reconcile(context.Background(), scheduled)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Forwarded != 30 {
		t.Errorf("summary %+v", sum)
	}
	for _, action := range []string{"DescribeSessionDetail", "DescribeTelCdr"} {
		if r := e.emu.MaxRate(action); r > 20 {
			t.Errorf("%s: %d requests in a second", action, r)
		}
	}
	e.checkDelivered(ids)
}

// A run cut short by its deadline fails; its retry completes the slot, and
// the consumer ends with one record per call.
func TestDeadline(t *testing.T) {
	e := newEnv(t, envOpts{})
	slot, scheduled := past()
	ids := e.addCalls("deadline", 12, slot)
	var mu sync.Mutex
	sent, blocking := 0, true
	e.out.block = func(sink.Message) bool {
		mu.Lock()
		defer mu.Unlock()
		sent++
		return blocking && sent > 3
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	sum, err := e.r.Reconcile(ctx, scheduled)
	if err == nil || sum.Forwarded >= len(ids) || !sum.Done.Equal(slot.Start) {
		t.Fatalf("cut-short run: %+v, %v", sum, err)
	}
	if !strings.Contains(err.Error(), slot.String()) {
		t.Errorf("error %q does not name the slot", err)
	}
	mu.Lock()
	blocking = false
	mu.Unlock()
	sum, err = e.r.Reconcile(context.Background(), scheduled)
	if err != nil || sum.Forwarded != len(ids) {
		t.Fatalf("retry: %+v, %v", sum, err)
	}
	e.checkDelivered(ids, record.SourceReconcile)
}

// cdr-only forwards the list's data without DescribeSessionDetail.
func TestCDROnly(t *testing.T) {
	e := newEnv(t, envOpts{})
	e.r.CDROnly = true
	slot, scheduled := past()
	ids := e.addCalls("cdr-only", 5, slot)
	sum, err := e.r.Reconcile(context.Background(), scheduled)
	if err != nil || sum.Forwarded != 5 {
		t.Fatalf("%+v, %v", sum, err)
	}
	if n := e.emu.Calls("DescribeSessionDetail"); n != 0 {
		t.Errorf("%d DescribeSessionDetail calls", n)
	}
	for id, r := range e.out.consumer(t) {
		if r.Completeness != record.CDROnly || r.Detail != nil || r.Metrics == nil || r.Metrics.TotalSeconds == nil || *r.Metrics.TotalSeconds != 90 {
			t.Errorf("%s: %+v", id, r)
		}
	}
	e.checkDelivered(ids, record.SourceReconcile)
}

// A call CCC lists but whose detail it does not know fails the slot under
// ON_DETAIL_FAILURE=retry, while the others are delivered, and is
// forwarded partial under forward-partial. The slot's other calls go
// through either way.
func TestDetailFailure(t *testing.T) {
	for _, partial := range []bool{false, true} {
		t.Run(fmt.Sprintf("forward-partial=%t", partial), func(t *testing.T) {
			e := newEnv(t, envOpts{})
			e.enr.ForwardPartial = partial
			slot, scheduled := past()
			ids := e.addCalls("ok", 4, slot)
			end := slot.Start.Add(time.Minute).Unix()
			if err := e.emu.AddCdr(app, json.RawMessage(fmt.Sprintf(
				`{"SessionId":"listed-only","Time":%d,"StartTimestamp":%d,"EndedTimestamp":%d,"EndStatus":1}`, end-60, end-60, end))); err != nil {
				t.Fatal(err)
			}
			sum, err := e.r.Reconcile(context.Background(), scheduled)
			if partial {
				if err != nil || sum.Forwarded != 5 || sum.Partial != 1 {
					t.Fatalf("%+v, %v", sum, err)
				}
				r := e.out.consumer(t)[recordID("listed-only")]
				if r.Completeness != record.Partial || r.DetailError == "" {
					t.Errorf("record %+v", r)
				}
				e.checkDelivered(append(ids, "listed-only"))
				return
			}
			if err == nil || !errors.Is(err, cccapi.ErrSessionNotFound) || sum.Failed != 1 || sum.Forwarded != 4 {
				t.Fatalf("%+v, %v", sum, err)
			}
			e.checkDelivered(ids)
		})
	}
}

// A record the sink refuses and the dead-letter sink takes is durable: the
// run succeeds and counts it.
func TestDeadLetter(t *testing.T) {
	e := newEnv(t, envOpts{})
	primary := &memSink{name: "primary", refuse: func(sink.Message) error { return retry.Permanent(errors.New("410 gone")) }}
	dlq := &memSink{name: "dlq"}
	e.enr.Sink = sink.WithDeadLetter(primary, dlq)
	slot, scheduled := past()
	e.addCalls("dead", 3, slot)
	sum, err := e.r.Reconcile(context.Background(), scheduled)
	if err != nil || sum.DeadLettered != 3 || sum.Forwarded != 0 || len(dlq.count()) != 3 {
		t.Fatalf("%+v, %v, dlq %v", sum, err, dlq.count())
	}
}

func TestReconcileRefuses(t *testing.T) {
	e := newEnv(t, envOpts{})
	slot, scheduled := past()
	e.addCalls("x", 2, slot)

	if _, err := e.r.Reconcile(context.Background(), time.Now().Add(time.Hour)); err == nil || !strings.Contains(err.Error(), "not ended") {
		t.Errorf("future slot: %v", err)
	}
	r := *e.r
	r.SdkAppIDs = nil
	if _, err := r.Reconcile(context.Background(), scheduled); err == nil {
		t.Errorf("no applications: accepted")
	}

	// A listing refused for one application does not keep the next from
	// its slot, and fails the run.
	r = *e.r
	r.SdkAppIDs = []int64{app + 1, app}
	e.emu.Inject("DescribeTelCdr", tcemu.Fault{Code: "AuthFailure.UnauthorizedOperation"})
	sum, err := r.Reconcile(context.Background(), scheduled)
	if err == nil || !strings.Contains(err.Error(), "SdkAppId 1400000001") || sum.Forwarded != 2 {
		t.Errorf("%+v, %v", sum, err)
	}
}

// Backfill covers a range window by window, lists in a dry run, tells
// where to resume after a failure or an interruption, and the resumed
// backfill completes the range.
func TestBackfill(t *testing.T) {
	e := newEnv(t, envOpts{})
	from := time.Now().Add(-6 * time.Hour).Truncate(time.Hour)
	to := from.Add(5 * time.Hour)
	var ids []string
	for h := range 5 {
		w := reconcile.Slot{Start: from.Add(time.Duration(h) * time.Hour), End: from.Add(time.Duration(h+1) * time.Hour)}
		ids = append(ids, e.addCalls(fmt.Sprintf("h%d", h), 4, w)...)
	}
	e.addCall("after-range", to.Add(-time.Minute), to)
	rg := reconcile.Range{SdkAppID: app, From: from, To: to, Window: 2 * time.Hour}

	t.Run("dry run", func(t *testing.T) {
		dry := rg
		dry.DryRun = true
		var listed []reconcile.Call
		dry.List = func(c reconcile.Call) { listed = append(listed, c) }
		sum, err := e.r.Backfill(context.Background(), dry)
		if err != nil || sum.Listed != len(ids) || sum.Forwarded != 0 || !sum.Done.Equal(to) {
			t.Fatalf("%+v, %v", sum, err)
		}
		if len(listed) != len(ids) || e.emu.Calls("DescribeSessionDetail") != 0 || len(e.out.count()) != 0 {
			t.Fatalf("listed %d, %d detail calls, %d sent", len(listed), e.emu.Calls("DescribeSessionDetail"), len(e.out.count()))
		}
		for i, c := range listed {
			if i > 0 && c.End.Before(listed[i-1].End) {
				t.Errorf("listed out of order: %v after %v", c.End, listed[i-1].End)
			}
			if c.RecordID != recordID(c.SessionID) || c.SdkAppID != app {
				t.Errorf("call %+v", c)
			}
		}
		if sum.Pages != 3 {
			t.Errorf("%d pages, want one per window", sum.Pages)
		}
	})

	t.Run("failure and resume", func(t *testing.T) {
		bad := recordID("h2-0001")
		e.out.refuse = func(m sink.Message) error {
			if m.ID == bad {
				return retry.Permanent(errors.New("422 unprocessable"))
			}
			return nil
		}
		var last reconcile.Progress
		first := rg
		first.Progress = func(p reconcile.Progress) { last = p }
		sum, err := e.r.Backfill(context.Background(), first)
		failedEnd := from.Add(2*time.Hour + 15*time.Minute) // h2-0001 ends a quarter into hour 2
		if err == nil || sum.Failed != 1 || sum.Forwarded != len(ids)-1 || !sum.Done.Equal(failedEnd) {
			t.Fatalf("%+v, %v; want done up to %s", sum, err, failedEnd)
		}
		if !last.At.Equal(to) || last.Forwarded != sum.Forwarded || !last.Done.Equal(failedEnd) {
			t.Errorf("last progress %+v", last)
		}
		e.out.refuse = nil
		resumed := rg
		resumed.From = sum.Done
		sum, err = e.r.Backfill(context.Background(), resumed)
		if err != nil || !sum.Done.Equal(to) {
			t.Fatalf("resumed: %+v, %v", sum, err)
		}
		e.checkDelivered(ids, record.SourceBackfill)
	})

	t.Run("interrupted", func(t *testing.T) {
		e.out.msgs = nil
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var mu sync.Mutex
		n := 0
		e.out.refuse = func(sink.Message) error {
			mu.Lock()
			defer mu.Unlock()
			if n++; n == 6 {
				cancel()
			}
			return nil
		}
		sum, err := e.r.Backfill(ctx, rg)
		if !errors.Is(err, context.Canceled) || sum.Done.Equal(to) || sum.Done.Before(from) {
			t.Fatalf("%+v, %v", sum, err)
		}
		e.out.refuse = nil
		resumed := rg
		resumed.From = sum.Done
		if sum, err := e.r.Backfill(context.Background(), resumed); err != nil || !sum.Done.Equal(to) {
			t.Fatalf("resumed: %+v, %v", sum, err)
		}
		e.checkDelivered(ids, record.SourceBackfill)
	})

	t.Run("stops after too many failures", func(t *testing.T) {
		e.out.refuse = func(sink.Message) error { return retry.Permanent(errors.New("403 forbidden")) }
		defer func() { e.out.refuse = nil }()
		many := rg
		many.MaxFailures = 3
		many.Window = time.Hour
		sum, err := e.r.Backfill(context.Background(), many)
		if err == nil || !strings.Contains(err.Error(), "stopped after") || sum.Failed < 3 || sum.Failed >= len(ids) || !sum.Done.Equal(from) {
			t.Fatalf("%+v, %v", sum, err)
		}
	})

	t.Run("refused ranges", func(t *testing.T) {
		now := time.Now()
		for _, tc := range []struct {
			name string
			rg   reconcile.Range
		}{
			{"no application", reconcile.Range{From: from, To: to}},
			{"empty", reconcile.Range{SdkAppID: app, From: to, To: from}},
			{"older than 180 days", reconcile.Range{SdkAppID: app, From: now.Add(-181 * 24 * time.Hour), To: to}},
			{"window too large", reconcile.Range{SdkAppID: app, From: from, To: to, Window: 25 * time.Hour}},
		} {
			if _, err := e.r.Backfill(context.Background(), tc.rg); err == nil {
				t.Errorf("%s: accepted", tc.name)
			}
		}
		// A range reaching into the future stops at now.
		sum, err := e.r.Backfill(context.Background(), reconcile.Range{SdkAppID: app, From: to, To: now.Add(time.Hour), DryRun: true})
		if err != nil || sum.End.After(now.Add(time.Second)) || sum.Listed != 1 {
			t.Errorf("%+v, %v", sum, err)
		}
	})
}
