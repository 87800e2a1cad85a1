package handler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ccc-enricher/ccc-enricher/handler"
	"github.com/ccc-enricher/ccc-enricher/internal/cccapi"
	"github.com/ccc-enricher/ccc-enricher/internal/config"
	"github.com/ccc-enricher/ccc-enricher/internal/enrich"
	"github.com/ccc-enricher/ccc-enricher/internal/push"
	"github.com/ccc-enricher/ccc-enricher/internal/pushauth"
	"github.com/ccc-enricher/ccc-enricher/internal/record"
	"github.com/ccc-enricher/ccc-enricher/internal/redrive"
	"github.com/ccc-enricher/ccc-enricher/internal/sink"
	"github.com/ccc-enricher/ccc-enricher/internal/sink/kafka"
	"github.com/ccc-enricher/ccc-enricher/internal/sink/webhook"
	"github.com/ccc-enricher/ccc-enricher/internal/tcemu"
	"github.com/ccc-enricher/ccc-enricher/internal/testenv"
)

const (
	dlqTopic = "ccc-enricher-dlq"
	otherApp = 1400000009

	// cccRetries is how many more times CCC pushes after a failure.
	cccRetries = 3
	// workers is how many pushes CCC has in flight at once.
	workers = 48

	// The time limits. The handler's deadline is the invocation's; CCC
	// gives up a little earlier, so that pushes that use all their time
	// are cut off mid-way, as a real CCC timeout would.
	handlerTimeout = 2 * time.Second
	cccTimeout     = time.Second
	apiTimeout     = 500 * time.Millisecond // one CCC API request
	webhookTimeout = 250 * time.Millisecond // one webhook attempt
)

// pushCount is the number of pushes: CCC_ENRICHER_FAULT_PUSHES, else 2000
// (300 with -short).
func pushCount(t *testing.T) int {
	if v := os.Getenv("CCC_ENRICHER_FAULT_PUSHES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("CCC_ENRICHER_FAULT_PUSHES=%q: want a positive number", v)
		}
		return n
	}
	if testing.Short() {
		return 300
	}
	return 2000
}

// dice is a seeded random source shared by the goroutines of the test.
type dice struct {
	mu sync.Mutex
	r  *rand.Rand
}

func newDice(seed uint64) *dice {
	return &dice{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (d *dice) float() float64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.r.Float64()
}

func (d *dice) n(k int) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.r.IntN(k)
}

func (d *dice) dur(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(d.n(int(hi-lo)+1))
}

// category is what a push is, and so what CCC should see.
type category int

const (
	valid      category = iota
	lagging             // detail lags the push: SessionNotExists within the grace period
	gone                // CCC does not know the session past the grace period
	tooOld              // the call started more than 180 days ago
	malformed           // not a valid push
	unknownApp          // an SdkAppId not in CCC_SDK_APP_IDS
)

var categoryNames = [...]string{"valid", "lagging", "gone", "too-old", "malformed", "unknown-app"}

func (c category) String() string { return categoryNames[c] }

// pushCase is one push and what CCC saw of it.
type pushCase struct {
	kind    push.Kind
	cat     category
	partial bool // pushed to the ON_DETAIL_FAILURE=forward-partial handler
	uuid    string
	body    []byte
	id      string // the record id it should have

	attempts int
	timeouts int
	replies  []faultReply
	last     string // the last answer, or "timeout"
	acked    bool
}

// reply is one answer CCC got: the HTTP status and the ErrCode, -1 when
// the body was not CCC's {"ErrCode","ErrMsg"} form.
type faultReply struct{ status, errCode int }

func (r faultReply) String() string { return fmt.Sprintf("%d/%d", r.status, r.errCode) }

// stored is what the webhook receiver holds of one record.
type stored struct {
	deliveries   int
	completeness string
}

// suite is the whole deployment on loopback.
type suite struct {
	t        *testing.T
	d        *dice
	emu      *tcemu.Server
	sample   tcemu.Sample
	detail   *cccapi.Client
	recv     *testenv.Receiver
	webhook  *webhook.Webhook
	dlq      *kafka.Kafka
	kafka    *kfake.Cluster
	retryURL string // the handler with ON_DETAIL_FAILURE=retry
	partURL  string // the handler with ON_DETAIL_FAILURE=forward-partial
	ccc      *http.Client

	// faulty makes the receiver answer 500, 429 or 400, or nothing, to
	// some deliveries.
	faulty   atomic.Bool
	mu       sync.Mutex
	answered map[string]int // faults the receiver answered, by kind
}

func newSuite(t *testing.T, seed uint64) *suite {
	s := &suite{t: t, d: newDice(seed), answered: map[string]int{}}

	// The CCC API. Its rate limit is off and the client's is far above
	// CCC's 20/s: at 20/s the pushes alone would take minutes, and the
	// limiter has tests of its own (package ccc). RequestLimitExceeded
	// still comes, injected at random below.
	api := testenv.NewCCC(t, time.Now(), tcemu.Options{RateLimit: -1})
	s.emu, s.sample = api.Emu, api.Sample
	// A grace period longer than the suite, so that lagging sessions stay
	// within it however long the run.
	s.detail = api.Client(t, cccapi.Options{Rate: 5000, SessionGrace: 30 * time.Minute}, apiTimeout)

	// The webhook and its receiver.
	s.recv = testenv.NewReceiver(t)
	s.recv.Answer(s.answer)
	s.webhook = webhook.New(testenv.WebhookConfig(s.recv.URL, webhookTimeout), s.recv.Client())
	var err error

	// The dead-letter sink.
	if s.kafka, err = kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, dlqTopic)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.kafka.Close)
	if s.dlq, err = kafka.New(config.Kafka{Brokers: s.kafka.ListenAddrs(), Topic: dlqTopic}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.dlq.Close() })

	// The handlers.
	for _, partial := range []bool{false, true} {
		o := handler.Options{
			Auth:     pushauth.Basic(basicUser, basicPass),
			AllowApp: func(id int64) bool { return id == s.sample.SdkAppID },
			Enricher: &enrich.Enricher{Detail: s.detail, Sink: sink.WithDeadLetter(s.webhook, s.dlq), ForwardPartial: partial},
			Timeout:  handlerTimeout,
			Logger:   slog.New(slog.DiscardHandler),
		}
		fn := httptest.NewServer(handler.New(o))
		t.Cleanup(fn.Close)
		if partial {
			s.partURL = fn.URL
		} else {
			s.retryURL = fn.URL
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = workers
	s.ccc = &http.Client{Transport: tr, Timeout: cccTimeout}
	t.Cleanup(tr.CloseIdleConnections)
	return s
}

// answer is the webhook receiver's answer to a delivery: while faulty,
// 500, 429 or 400, or nothing, to some of them.
func (s *suite) answer(http.ResponseWriter, *http.Request) int {
	if !s.faulty.Load() {
		return 0
	}
	fault := ""
	switch x := s.d.float(); {
	case x < 0.05:
		fault = "500"
	case x < 0.09:
		fault = "429"
	case x < 0.11:
		fault = "400"
	case x < 0.12:
		fault = "hang"
	}
	if fault == "" {
		return 0
	}
	s.mu.Lock()
	s.answered[fault]++
	s.mu.Unlock()
	if fault == "hang" {
		return -1 // until the sender gives up on this attempt
	}
	code, _ := strconv.Atoi(fault)
	return code
}

// delivered is what the receiver holds, by record id.
func (s *suite) delivered() map[string]*stored {
	out := map[string]*stored{}
	for _, r := range s.recv.Records(s.t) {
		st := out[r.ID]
		if st == nil {
			st = &stored{}
			out[r.ID] = st
		}
		st.deliveries++
		st.completeness = r.Completeness
	}
	return out
}

// faults switches every party's random failures on or off.
func (s *suite) faults(on bool) {
	s.faulty.Store(on)
	if !on {
		s.emu.SetFaults(nil)
		return
	}
	s.emu.SetFaults(func(action string) *tcemu.Fault {
		if action != "DescribeSessionDetail" {
			return nil
		}
		switch x := s.d.float(); {
		case x < 0.05:
			return &tcemu.Fault{Code: "RequestLimitExceeded"}
		case x < 0.10:
			return &tcemu.Fault{Code: "InternalError"}
		case x < 0.13:
			return &tcemu.Fault{Status: http.StatusBadGateway}
		case x < 0.135:
			return &tcemu.Fault{Code: "AuthFailure.SecretIdNotFound"}
		case x < 0.185:
			return &tcemu.Fault{Delay: s.d.dur(20*time.Millisecond, 200*time.Millisecond)}
		case x < 0.19:
			return &tcemu.Fault{Delay: 2 * time.Second} // past the request timeout
		}
		return nil
	})
}

// dlqFaults makes the dead-letter topic refuse some produce requests:
// mostly NOT_ENOUGH_REPLICAS, which the producer retries, rarely
// MESSAGE_TOO_LARGE, which it does not.
func (s *suite) dlqFaults() (remove func()) {
	h := s.kafka.Fault(
		kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: dlqTopic, Err: kerr.NotEnoughReplicas, Count: -1,
			When: func(kmsg.Request) bool { return s.d.float() < 0.05 }},
		kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: dlqTopic, Err: kerr.MessageTooLarge, Count: -1,
			When: func(kmsg.Request) bool { return s.d.float() < 0.005 }},
	)
	return h.Remove
}

// cases makes n pushes of every category, and the emulator's sessions for
// them.
func (s *suite) cases(n int) []*pushCase {
	s.t.Helper()
	base := map[push.Kind]map[string]any{
		push.KindCDR:    decodeNumbers(s.t, s.sample.CDRPush),
		push.KindRecord: decodeNumbers(s.t, s.sample.RecordPush),
	}
	app := s.sample.SdkAppID
	out := make([]*pushCase, n)
	for i := range out {
		c := &pushCase{kind: push.KindCDR, partial: i%2 == 1, uuid: fmt.Sprintf("fault-push-%06d", i)}
		if s.d.float() < 0.2 {
			c.kind = push.KindRecord
		}
		switch x := s.d.float(); {
		case x < 0.02:
			c.cat = malformed
		case x < 0.03:
			c.cat = unknownApp
		case x < 0.05:
			c.cat = gone
		case x < 0.06:
			c.cat = tooOld
		case x < 0.11:
			c.cat = lagging
		}
		session := fmt.Sprintf("fault-session-%06d", i)
		recordID, part := "", ""
		if c.kind == push.KindRecord {
			recordID = fmt.Sprintf("fault-recording-%06d", i)
			part = recordID
		}
		fields := map[string]any{"SessionId": session}
		if recordID != "" {
			fields["RecordId"] = recordID
		}
		var shift int64
		switch c.cat {
		case valid, lagging:
			if err := s.emu.AddSession(app, session, s.sample.Detail); err != nil {
				s.t.Fatal(err)
			}
			if c.cat == lagging {
				s.emu.HideSession(session, 1+s.d.n(2))
			}
		case gone:
			shift = -3600 // ended an hour ago; CCC never had it
		case tooOld:
			shift = -200 * 24 * 3600
		case unknownApp:
			fields["SdkAppId"] = json.Number(strconv.Itoa(otherApp))
		}
		c.body = pushBody(s.t, base[c.kind], fields, shift)
		c.id = record.ID(app, session, c.kind, part)
		if c.cat == unknownApp {
			c.id = record.ID(otherApp, session, c.kind, part)
		}
		if c.cat == malformed {
			c.id = ""
			switch i % 3 {
			case 0:
				c.body = []byte(`{"SdkAppId":` + strconv.FormatInt(app, 10) + `}`) // no SessionId
			case 1:
				c.body = c.body[:len(c.body)/2] // cut short
			default:
				c.body = []byte("SessionId=" + session)
			}
		}
		out[i] = c
	}
	return out
}

// decodeNumbers decodes a JSON object keeping numbers as they are.
func decodeNumbers(t *testing.T, b []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// pushBody is base with fields set and its top-level timestamps moved by
// shift seconds.
func pushBody(t *testing.T, base, fields map[string]any, shift int64) []byte {
	t.Helper()
	m := make(map[string]any, len(base))
	for k, v := range base {
		m[k] = v
	}
	for k, v := range fields {
		m[k] = v
	}
	for _, k := range []string{"StartTimestamp", "RingTimestamp", "AcceptTimestamp", "QueuedTimestamp", "EndedTimestamp", "Timestamp"} {
		if n, ok := m[k].(json.Number); ok && shift != 0 {
			if v, _ := n.Int64(); v > 0 {
				m[k] = json.Number(strconv.FormatInt(v+shift, 10))
			}
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// push is CCC delivering one push: again, with the same UUID, up to
// cccRetries more times while the answer is not ErrCode 0 in time.
func (s *suite) push(c *pushCase) {
	url := s.retryURL
	if c.partial {
		url = s.partURL
	}
	url += "/push?action=" + string(c.kind) + "&version=1"
	for range 1 + cccRetries {
		c.attempts++
		r, ok := s.post(url, c)
		if !ok {
			c.timeouts++
			c.last = "timeout"
			continue
		}
		c.replies = append(c.replies, r)
		c.last = r.String()
		if r.status == http.StatusOK && r.errCode == 0 {
			c.acked = true
			return
		}
	}
}

func (s *suite) post(url string, c *pushCase) (faultReply, bool) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(c.body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.SetBasicAuth(basicUser, basicPass)
	req.Header.Set("Content-Type", "application/json;charset=utf8")
	req.Header.Set("X-TCCC-PUSH-UUID", c.uuid)
	resp, err := s.ccc.Do(req)
	if err != nil {
		return faultReply{}, false // no answer in time, or none at all
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return faultReply{}, false
	}
	var body struct {
		ErrCode *int
		ErrMsg  *string
	}
	r := faultReply{status: resp.StatusCode, errCode: -1}
	if json.Unmarshal(b, &body) == nil && body.ErrCode != nil && body.ErrMsg != nil {
		r.errCode = *body.ErrCode
	}
	return r, true
}

// dlqRecords reads the whole dead-letter topic.
func (s *suite) dlqRecords() []*kgo.Record {
	s.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.kafka.ListenAddrs()...), kgo.ConsumeTopics(dlqTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		s.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req := kmsg.NewPtrListOffsetsRequest()
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = dlqTopic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Timestamp = -1 // the end
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil || len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		s.t.Fatalf("dead-letter topic's end: %v", err)
	}
	end := resp.Topics[0].Partitions[0].Offset
	var recs []*kgo.Record
	for int64(len(recs)) < end {
		f := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			s.t.Fatalf("read %d of %d dead-lettered records: %v", len(recs), end, ctx.Err())
		}
		recs = append(recs, f.Records()...)
	}
	return recs
}

// TestNothingLost pushes a few thousand CCC pushes
// through the real handler while every outside party fails at random, and
// checks ccc-enricher's one promise to CCC, that a push acknowledged with
// ErrCode 0 is durably in the sink or the dead-letter sink.
//
// The parties, all on loopback and all real code but for the faults:
//
//   - CCC, simulated: it pushes with basic authentication and a
//     X-TCCC-PUSH-UUID, and pushes again, at most three more times with the
//     same UUID, when the answer is not ErrCode 0, not 2xx, or late;
//   - the handler (package handler) over HTTP, twice: ON_DETAIL_FAILURE
//     retry and forward-partial, sharing one CCC client;
//   - the CCC API: the emulator (package tcemu) behind the real client and
//     the SDK's request signing, answering RequestLimitExceeded,
//     InternalError, HTTP 502, AuthFailure, slow replies and
//     FailedOperation.SessionNotExists at random;
//   - the sink: the signed webhook (package sink) to a receiver that
//     verifies signatures and answers 500, 429, 400 or nothing at random;
//   - the dead-letter sink: Kafka (kfake) refusing produce requests at
//     random, transiently or for good.
//
// After CCC has given up, the dead-letter topic is redriven (package
// redrive) to the webhook with the faults off, and every acknowledged
// record must then be at the webhook receiver.
//
// go test ./handler -run TestNothingLost runs 2000 pushes (in well under 20 seconds);
// CCC_ENRICHER_FAULT_PUSHES=10000 runs more, CCC_ENRICHER_FAULT_SEED
// changes the random choices, and -v prints the counts.
func TestNothingLost(t *testing.T) {
	seed := uint64(1)
	if v := os.Getenv("CCC_ENRICHER_FAULT_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("CCC_ENRICHER_FAULT_SEED=%q: %v", v, err)
		}
	}
	n := pushCount(t)
	start := time.Now()
	s := newSuite(t, seed)
	cases := s.cases(n)

	// Phase 1: CCC pushes everything while everything fails now and then.
	s.faults(true)
	removeDLQFaults := s.dlqFaults()
	work := make(chan *pushCase)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for c := range work {
				s.push(c)
			}
		})
	}
	for _, c := range cases {
		work <- c
	}
	close(work)
	wg.Wait()
	pushed := time.Since(start)

	dlq := s.dlqRecords()
	inDLQ := map[string]bool{}
	dlqPartial := map[string]bool{}
	for _, r := range dlq {
		for _, h := range r.Headers {
			if h.Key == sink.AttrRecordID {
				inDLQ[string(h.Value)] = true
				dlqPartial[string(h.Value)] = bytes.Contains(r.Value, []byte(`"completeness":"partial"`))
			}
		}
	}
	inSink := map[string]string{} // id → completeness
	for id, st := range s.delivered() {
		inSink[id] = st.completeness
	}

	var violations []string
	violate := func(c *pushCase, format string, args ...any) {
		violations = append(violations, fmt.Sprintf("%s (%s %s, partial=%v, replies %v, timeouts %d): ", c.uuid, c.cat, c.kind, c.partial, c.replies, c.timeouts)+fmt.Sprintf(format, args...))
	}
	var st stats
	for _, c := range cases {
		st.add(c, inSink, inDLQ)
		for _, r := range c.replies {
			switch {
			case r.errCode < 0:
				violate(c, "a reply is not CCC's {ErrCode, ErrMsg} form")
			case (r.errCode == 0) != (r.status == http.StatusOK):
				violate(c, "ErrCode %d with HTTP %d", r.errCode, r.status)
			case r.errCode != 0 && r.errCode/100 != r.status:
				violate(c, "ErrCode %d does not begin with its HTTP status %d", r.errCode, r.status)
			}
		}
		switch c.cat {
		case malformed, unknownApp:
			want := faultReply{http.StatusBadRequest, 40001}
			if c.cat == unknownApp {
				want = faultReply{http.StatusForbidden, 40301}
			}
			for _, r := range c.replies {
				if r != want {
					violate(c, "answered %v, want %v", r, want)
				}
			}
		default:
			for _, r := range c.replies {
				if r.status >= 400 && r.status < 500 {
					violate(c, "a valid push answered %v: a 4xx says the push itself is wrong", r)
				}
			}
		}
		// The invariant: acknowledged ⇒ durable.
		_, sunk := inSink[c.id]
		if c.acked && !sunk && !inDLQ[c.id] {
			violate(c, "acknowledged, but record %s is neither in the sink nor in the dead-letter sink", c.id)
		}
		if !c.partial && sunk && inSink[c.id] != record.Full {
			violate(c, "ON_DETAIL_FAILURE=retry forwarded a %s record", inSink[c.id])
		}
		if !c.partial && c.acked && (c.cat == gone || c.cat == tooOld) {
			violate(c, "ON_DETAIL_FAILURE=retry acknowledged a push whose detail cannot be had")
		}
	}

	// Phase 2: the faults stop, and the dead-letter topic is redriven to
	// the webhook. Every acknowledged record must then be there.
	s.faults(false)
	removeDLQFaults()
	rd := &redrive.Redriver{Sink: s.webhook, Enricher: &enrich.Enricher{Detail: s.detail}}
	for _, r := range dlq {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := rd.Redrive(ctx, r.Value); err != nil {
			violations = append(violations, fmt.Sprintf("redrive offset %d: %v", r.Offset, err))
		}
		cancel()
	}
	delivered := s.delivered()
	for _, c := range cases {
		if c.acked && delivered[c.id] == nil {
			violate(c, "acknowledged, but record %s is not at the webhook after the redrive", c.id)
		}
		if c.acked && !c.partial && delivered[c.id] != nil && delivered[c.id].completeness != record.Full {
			violate(c, "ON_DETAIL_FAILURE=retry record %s is %s after the redrive", c.id, delivered[c.id].completeness)
		}
	}
	for id, dup := range delivered {
		st.deliveries += dup.deliveries
		if dlqPartial[id] && dup.completeness == record.Full {
			st.reenriched++
		}
	}
	st.stored = len(delivered)
	s.mu.Lock()
	answered := fmt.Sprint(s.answered)
	s.mu.Unlock()

	t.Logf("seed %d: %d pushes in %v (%d CCC API calls; webhook faults answered %s), redrive of %d dead-lettered records in %v",
		seed, n, pushed.Round(time.Millisecond), s.emu.Calls("DescribeSessionDetail"), answered,
		len(dlq), (time.Since(start) - pushed).Round(time.Millisecond))
	st.log(t, len(dlq))
	if len(violations) > 0 {
		slices.Sort(violations)
		t.Errorf("%d violations; the first ones:\n%s", len(violations), strings.Join(violations[:min(len(violations), 20)], "\n"))
	}
}

// stats are the counts the test reports.
type stats struct {
	pushes, attempts, timeouts  int
	byCategory                  [len(categoryNames)]int
	ackedFirst, ackedRetried    int
	ackedInSink, ackedOnlyInDLQ int
	ackedPartial                int
	answers                     map[string]int // every answer CCC got but ErrCode 0, by HTTP status/ErrCode
	neverAcked                  map[string]int // valid pushes answered ErrCode≠0 every time, by last answer
	refused                     map[string]int // malformed and unknown-app pushes, by answer
	stored, deliveries          int
	reenriched                  int
}

func (st *stats) add(c *pushCase, inSink map[string]string, inDLQ map[string]bool) {
	if st.neverAcked == nil {
		st.answers, st.neverAcked, st.refused = map[string]int{}, map[string]int{}, map[string]int{}
	}
	for _, r := range c.replies {
		if r.errCode != 0 {
			st.answers[r.String()]++
		}
	}
	st.pushes++
	st.attempts += c.attempts
	st.timeouts += c.timeouts
	st.byCategory[c.cat]++
	last := c.last
	switch {
	case c.cat == malformed || c.cat == unknownApp:
		st.refused[c.cat.String()+" "+last]++
	case !c.acked:
		st.neverAcked[c.cat.String()+" "+last]++
	default:
		if c.attempts == 1 {
			st.ackedFirst++
		} else {
			st.ackedRetried++
		}
		if _, ok := inSink[c.id]; ok {
			st.ackedInSink++
			if inSink[c.id] == record.Partial {
				st.ackedPartial++
			}
		} else if inDLQ[c.id] {
			st.ackedOnlyInDLQ++
		}
	}
}

func (st *stats) log(t *testing.T, dlq int) {
	t.Helper()
	cats := make([]string, len(categoryNames))
	for i, name := range categoryNames {
		cats[i] = fmt.Sprintf("%s %d", name, st.byCategory[i])
	}
	t.Logf("pushes: %d (%s); CCC attempts %d, of which %d timed out; failures answered: %v",
		st.pushes, strings.Join(cats, ", "), st.attempts, st.timeouts, st.answers)
	acked := st.ackedFirst + st.ackedRetried
	t.Logf("acknowledged: %d (%d at the first push, %d after CCC pushed again); %d in the sink (%d partial), %d only in the dead-letter sink",
		acked, st.ackedFirst, st.ackedRetried, st.ackedInSink, st.ackedPartial, st.ackedOnlyInDLQ)
	t.Logf("answered ErrCode≠0 every time (for reconciliation): %d %v", sum(st.neverAcked), st.neverAcked)
	t.Logf("refused as the push's own fault: %d %v", sum(st.refused), st.refused)
	t.Logf("webhook: %d records, %d deliveries (duplicates deduplicated on webhook-id); dead-letter topic: %d records, %d partial ones enriched again by the redrive",
		st.stored, st.deliveries, dlq, st.reenriched)
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
