package handler_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/handler"
	"github.com/ccc-enricher/ccc-enricher/internal/cccapi"
	"github.com/ccc-enricher/ccc-enricher/internal/enrich"
	"github.com/ccc-enricher/ccc-enricher/internal/pushauth"
	"github.com/ccc-enricher/ccc-enricher/internal/record"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
	"github.com/ccc-enricher/ccc-enricher/internal/sink"
	"github.com/ccc-enricher/ccc-enricher/internal/sink/webhook"
	"github.com/ccc-enricher/ccc-enricher/internal/tcemu"
	"github.com/ccc-enricher/ccc-enricher/internal/testenv"
)

// row is one line of docs/FAILURES.md: a failure, set up, and what CCC,
// the sinks and the log must show.
type row struct {
	name string
	// partial runs with ON_DETAIL_FAILURE=forward-partial.
	partial bool
	// api is called with the emulator before the push, body and shift
	// (seconds added to the push's timestamps) make the push.
	api   func(emu *tcemu.Server, session string)
	body  func(sample []byte) []byte
	shift int64
	// webhook answers the webhook's attempts in turn, the last one for
	// all further ones; 0 stores the record, -1 never answers, -2 means the
	// receiver is not listening at all.
	webhook []int
	// dlq is the dead-letter sink's error; noDLQ runs without one.
	dlq   error
	noDLQ bool
	// attemptTimeout bounds one webhook attempt; zero means webhookTimeout.
	attemptTimeout time.Duration
	// timeout is the handler's deadline; zero means 1.5 s.
	timeout time.Duration

	status, errCode int
	// where is "sink", "dlq" or "" (nowhere) for the record.
	where        string
	completeness string // of the record where it went
	// apiCalls, when not -1, is the DescribeSessionDetail calls wanted.
	apiCalls int
	// webhookCalls, when non-zero, is the webhook attempts wanted.
	webhookCalls int
	// logHas are strings the request's log line must hold.
	logHas []string
}

func TestFailureTable(t *testing.T) {
	inject := func(faults ...tcemu.Fault) func(*tcemu.Server, string) {
		return func(emu *tcemu.Server, _ string) { emu.Inject("DescribeSessionDetail", faults...) }
	}
	always := func(f tcemu.Fault) func(*tcemu.Server, string) {
		return func(emu *tcemu.Server, _ string) {
			emu.SetFaults(func(string) *tcemu.Fault { return &f })
		}
	}
	hide := func(n int) func(*tcemu.Server, string) {
		return func(emu *tcemu.Server, session string) { emu.HideSession(session, n) }
	}
	transientDLQ := errors.New("dlq: throttled")
	permanentDLQ := retry.Permanent(errors.New("dlq: queue does not exist"))
	const hour, days180 = -3600, -181 * 24 * 3600
	rows := []row{
		// The CCC API.
		{name: "CCC API 5xx once", api: inject(tcemu.Fault{Status: 502}), status: 200, where: "sink", completeness: record.Full, apiCalls: 2},
		{name: "CCC API InternalError until the deadline", api: always(tcemu.Fault{Code: "InternalError"}), timeout: time.Second,
			status: 503, errCode: 50301, apiCalls: -1, logHas: []string{`"err_code":50301`, "InternalError"}},
		{name: "CCC API InternalError until the deadline, forward-partial", partial: true, api: always(tcemu.Fault{Code: "InternalError"}),
			timeout: time.Second, status: 200, where: "sink", completeness: record.Partial, apiCalls: -1, logHas: []string{`"completeness":"partial"`}},
		{name: "CCC API timeout", api: inject(tcemu.Fault{Delay: 2 * time.Second}), status: 200, where: "sink", completeness: record.Full, apiCalls: 2},
		{name: "CCC API timeout until the deadline", api: always(tcemu.Fault{Delay: 2 * time.Second}), status: 503, errCode: 50301,
			apiCalls: -1, logHas: []string{"context deadline exceeded"}},
		// RequestLimitExceeded waits about a second before the next attempt.
		{name: "CCC API RequestLimitExceeded", api: inject(tcemu.Fault{Code: "RequestLimitExceeded"}), timeout: 3 * time.Second,
			status: 200, where: "sink", completeness: record.Full, apiCalls: 2},
		{name: "SessionNotExists within the grace period", api: hide(2), timeout: 3 * time.Second, status: 200, where: "sink",
			completeness: record.Full, apiCalls: 3},
		{name: "SessionNotExists past the grace period", shift: hour, status: 502, errCode: 50202, apiCalls: 1,
			logHas: []string{"session not found"}},
		{name: "SessionNotExists past the grace period, forward-partial", partial: true, shift: hour, status: 200, where: "sink",
			completeness: record.Partial, apiCalls: 1},
		{name: "AuthFailure of the key", api: inject(tcemu.Fault{Code: "AuthFailure.SecretIdNotFound"}), status: 502, errCode: 50202,
			apiCalls: 1, logHas: []string{"AuthFailure.SecretIdNotFound"}},
		{name: "AuthFailure.SignatureExpire", api: inject(tcemu.Fault{Code: "AuthFailure.SignatureExpire"}), status: 200, where: "sink",
			completeness: record.Full, apiCalls: 2},
		{name: "call older than 180 days", shift: days180, status: 502, errCode: 50202, apiCalls: 0, logHas: []string{"180-day"}},
		{name: "call older than 180 days, forward-partial", partial: true, shift: days180, status: 200, where: "sink",
			completeness: record.Partial, apiCalls: 0},

		// The sink.
		{name: "sink 5xx once", webhook: []int{503, 0}, status: 200, where: "sink", completeness: record.Full, apiCalls: -1, webhookCalls: 2},
		{name: "sink 5xx, dead-lettered", webhook: []int{500}, status: 200, where: "dlq", completeness: record.Full, apiCalls: -1,
			logHas: []string{`"dead_lettered":true`, `"dead_letter_cause":"webhook`}},
		{name: "sink 5xx, no dead-letter sink", webhook: []int{500}, noDLQ: true, status: 503, errCode: 50302, apiCalls: -1},
		{name: "sink 429 once", webhook: []int{429, 0}, status: 200, where: "sink", completeness: record.Full, apiCalls: -1, webhookCalls: 2},
		{name: "sink 400, dead-lettered", webhook: []int{400}, status: 200, where: "dlq", completeness: record.Full, apiCalls: -1,
			webhookCalls: 1, logHas: []string{`"dead_lettered":true`}},
		{name: "sink 400, no dead-letter sink", webhook: []int{400}, noDLQ: true, status: 502, errCode: 50201, apiCalls: -1, webhookCalls: 1},
		{name: "sink timeout, dead-lettered", webhook: []int{-1}, status: 200, where: "dlq", completeness: record.Full, apiCalls: -1},
		// An attempt longer than the invocation, so that the retries always
		// run into the request's deadline (504). With shorter attempts,
		// whether the next wait fits before the deadline, and so 504 or 503,
		// is up to the backoff's jitter.
		{name: "sink timeout, no dead-letter sink", webhook: []int{-1}, attemptTimeout: 10 * time.Second, noDLQ: true, status: 504,
			errCode: 50401, apiCalls: -1},
		{name: "sink unreachable, dead-lettered", webhook: []int{-2}, status: 200, where: "dlq", completeness: record.Full, apiCalls: -1},
		{name: "sink unreachable, no dead-letter sink", webhook: []int{-2}, noDLQ: true, status: 503, errCode: 50302, apiCalls: -1},
		{name: "dead-letter sink failing too", webhook: []int{500}, dlq: transientDLQ, status: 503, errCode: 50302, apiCalls: -1,
			logHas: []string{"dead-letter: dlq: throttled"}},
		{name: "both refusing for good", webhook: []int{400}, dlq: permanentDLQ, status: 502, errCode: 50201, apiCalls: -1},

		// The invocation and the push.
		// The detail's share of the time (60%) runs out first: the detail is
		// what failed, so CCC gets 50301.
		{name: "invocation deadline near", api: always(tcemu.Fault{Delay: 5 * time.Second}), timeout: 300 * time.Millisecond,
			status: 503, errCode: 50301, apiCalls: -1},
		{name: "malformed push", body: func([]byte) []byte { return []byte(`{"SdkAppId":1400000000}`) }, status: 400, errCode: 40001,
			apiCalls: 0, logHas: []string{`"err_code":40001`}},
		{name: "unknown SdkAppId", body: func(b []byte) []byte { return bytes.Replace(b, []byte("1400000000"), []byte("1400000009"), 1) },
			status: 403, errCode: 40301, apiCalls: 0, logHas: []string{`"sdk_app_id":1400000009`}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			runRow(t, r)
		})
	}
}

func runRow(t *testing.T, r row) {
	api := testenv.NewCCC(t, time.Now(), tcemu.Options{RateLimit: -1})
	emu, sample := api.Emu, api.Sample

	recv := testenv.NewReceiver(t)
	var mu sync.Mutex
	calls := 0
	recv.Answer(func(w http.ResponseWriter, _ *http.Request) int {
		mu.Lock()
		defer mu.Unlock()
		answer := 0
		if len(r.webhook) > 0 {
			answer = r.webhook[min(calls, len(r.webhook)-1)]
		}
		calls++
		if answer == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "0")
		}
		return answer
	})
	url := recv.URL
	if len(r.webhook) > 0 && r.webhook[0] == -2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		url = "http://" + ln.Addr().String()
		ln.Close() // nothing listens there any more
	}
	attempt := r.attemptTimeout
	if attempt == 0 {
		attempt = webhookTimeout
	}
	wh := webhook.New(testenv.WebhookConfig(url, attempt), recv.Client())
	dlq := testenv.NewSink("dlq")
	dlq.Err = r.dlq
	var out sink.Sink = wh
	if !r.noDLQ {
		out = sink.WithDeadLetter(wh, dlq)
	}
	timeout := r.timeout
	if timeout == 0 {
		timeout = 1500 * time.Millisecond
	}
	logs := &bytes.Buffer{}
	h := handler.New(handler.Options{
		Auth:     pushauth.Basic(basicUser, basicPass),
		AllowApp: func(id int64) bool { return id == sample.SdkAppID },
		Enricher: &enrich.Enricher{
			Detail:         api.Client(t, cccapi.Options{Rate: 1000}, apiTimeout),
			Sink:           out,
			ForwardPartial: r.partial,
		},
		Timeout: timeout,
		Logger:  slog.New(slog.NewJSONHandler(logs, nil)),
	})

	body := sample.CDRPush
	if r.shift != 0 {
		body = pushBody(t, decodeNumbers(t, body), nil, r.shift)
	}
	if r.body != nil {
		body = r.body(body)
	}
	if r.api != nil {
		r.api(emu, sample.SessionID)
	}
	req := httptest.NewRequest(http.MethodPost, "/push?action=cdr&version=1", bytes.NewReader(body))
	req.SetBasicAuth(basicUser, basicPass)
	req.Header.Set("X-TCCC-PUSH-UUID", "table-push-1")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)

	var faultReply struct {
		ErrCode *int
		ErrMsg  string
	}
	if err := json.Unmarshal(w.Body.Bytes(), &faultReply); err != nil || faultReply.ErrCode == nil || faultReply.ErrMsg == "" {
		t.Fatalf("reply %d %s is not CCC's form", w.Code, w.Body)
	}
	if w.Code != r.status || *faultReply.ErrCode != r.errCode {
		t.Errorf("reply %d %s, want %d ErrCode %d\n%s", w.Code, w.Body, r.status, r.errCode, logs)
	}

	sunk := recv.Bodies()
	mu.Lock()
	webhookCalls := calls
	mu.Unlock()
	var where string
	var got []byte
	switch {
	case len(sunk) > 0 && len(dlq.Sent) > 0:
		t.Errorf("the record went to both sinks")
	case len(sunk) > 0:
		where, got = "sink", sunk[len(sunk)-1]
	case len(dlq.Sent) > 0:
		where, got = "dlq", dlq.Sent[0].Body
		if a := dlq.Sent[0].Attributes; a[sink.AttrDeadLetterFrom] != "webhook" || a[sink.AttrDeadLetterClass] == "" || a[sink.AttrDeadLetterReason] == "" {
			t.Errorf("dead-letter attributes %v", a)
		}
	}
	if where != r.where {
		t.Errorf("record in %q, want %q", where, r.where)
	}
	if got != nil {
		var rec record.Record
		if err := json.Unmarshal(got, &rec); err != nil || rec.Completeness != r.completeness || rec.Meta.PushUUID != "table-push-1" {
			t.Errorf("record %s, want completeness %s: %v", got, r.completeness, err)
		}
	}
	if r.apiCalls >= 0 {
		if n := emu.Calls("DescribeSessionDetail"); n != r.apiCalls {
			t.Errorf("%d DescribeSessionDetail calls, want %d", n, r.apiCalls)
		}
	}
	if r.webhookCalls > 0 && webhookCalls != r.webhookCalls {
		t.Errorf("%d webhook attempts, want %d", webhookCalls, r.webhookCalls)
	}
	line := logs.String()
	for _, s := range append([]string{`"push_uuid":"table-push-1"`}, r.logHas...) {
		if !strings.Contains(line, s) {
			t.Errorf("log line lacks %s:\n%s", s, line)
		}
	}
}
