package handler_test

// The handler's own cost, without a network: the real handler with its
// real authenticators, parser, record builder and encoder, in front of a
// detail source that returns the documented sample at once and a sink that
// keeps messages in memory. This is the "handler overhead" figure of
// docs/PERFORMANCE.md. The fakes are shared with the fuzz and security
// tests of this package.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/handler"
	"github.com/ccc-enricher/ccc-enricher/internal/ccc"
	"github.com/ccc-enricher/ccc-enricher/internal/enrich"
	"github.com/ccc-enricher/ccc-enricher/internal/pushauth"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
	"github.com/ccc-enricher/ccc-enricher/internal/sink"
)

// sampleAppID is the SdkAppId of the samples in push/testdata.
const sampleAppID = 1400000000

// fakeDetail answers DescribeSessionDetail with the documented sample, or
// with err when set.
type fakeDetail struct {
	detail *ccc.SessionDetail
	err    error
}

func (f *fakeDetail) DescribeSessionDetail(ctx context.Context, q ccc.SessionQuery) (*ccc.SessionDetail, error) {
	if f.err != nil {
		return nil, f.err
	}
	return f.detail, nil
}

// memSink keeps what it is sent; err, when set, refuses every message.
type memSink struct {
	mu   sync.Mutex
	msgs []sink.Message
	err  error
	// keep false drops messages after counting them, for benchmarks.
	keep bool
	n    int
}

func (s *memSink) Name() string { return "memory" }

func (s *memSink) Send(ctx context.Context, m sink.Message) error {
	if s.err != nil {
		return s.err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	if s.keep {
		s.msgs = append(s.msgs, m)
	}
	return nil
}

func (s *memSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func (s *memSink) messages() []sink.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sink.Message(nil), s.msgs...)
}

func readFile(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// sampleDetail decodes the documented DescribeSessionDetail reply.
func sampleDetail(tb testing.TB) *ccc.SessionDetail {
	tb.Helper()
	var env struct {
		Response struct {
			ccc.SessionDetail
			RequestId string
		}
	}
	if err := json.Unmarshal(readFile(tb, "../internal/tcemu/samples/describe-session-detail.response.json"), &env); err != nil {
		tb.Fatal(err)
	}
	d := env.Response.SessionDetail
	d.RequestID = env.Response.RequestId
	return &d
}

// fakeWorld is the handler in front of the fakes.
type fakeWorld struct {
	h      http.Handler
	detail *fakeDetail
	sink   *memSink
	logs   *bytes.Buffer
	oauth  *pushauth.OAuth2
}

type fakeOptions struct {
	auth           string // "none", "basic" or "oauth2"
	mask           bool
	forwardPartial bool
	keep           bool
	// logs keeps the JSON log lines in fakeWorld.logs; otherwise they are
	// encoded and discarded, which costs what production logging costs.
	logs bool
	now  func() time.Time
	// deadLetter puts the memory sink behind a primary sink that always
	// fails with this error, as the dead-letter sink.
	deadLetter error
}

const (
	fakeUser        = "ccc"
	fakePassword    = "fake-push-password"
	fakeClientID    = "ccc-console"
	fakeSecret      = "fake-oauth-client-secret-0123"
	fakeAPIToken    = "fake-api-token-0123456789"
	fakeBasicHeader = "Basic Y2NjOmZha2UtcHVzaC1wYXNzd29yZA==" // ccc:fake-push-password
)

func newFakeWorld(tb testing.TB, o fakeOptions) *fakeWorld {
	tb.Helper()
	if basicHeader(fakeUser, fakePassword) != fakeBasicHeader {
		tb.Fatal("fakeBasicHeader is stale")
	}
	w := &fakeWorld{
		detail: &fakeDetail{detail: sampleDetail(tb)},
		sink:   &memSink{keep: o.keep},
		logs:   &bytes.Buffer{},
	}
	var out sink.Sink = w.sink
	if o.deadLetter != nil {
		out = sink.WithDeadLetter(&memSink{err: o.deadLetter}, w.sink)
	}
	var logs io.Writer = io.Discard
	if o.logs {
		logs = w.logs
	}
	opts := handler.Options{
		AllowApp: func(id int64) bool { return id == sampleAppID },
		Enricher: &enrich.Enricher{
			Detail: w.detail, Sink: out, MaskPhones: o.mask, ForwardPartial: o.forwardPartial, Now: o.now,
		},
		APIToken: fakeAPIToken,
		Timeout:  25 * time.Second,
		Logger:   slog.New(slog.NewJSONHandler(logs, nil)),
		Now:      o.now,
	}
	switch o.auth {
	case "none":
		opts.Auth = pushauth.NoAuth()
	case "oauth2":
		w.oauth = pushauth.NewOAuth2(fakeClientID, fakeSecret, time.Hour, o.now)
		opts.Auth, opts.TokenEndpoint = w.oauth, w.oauth.TokenHandler()
	default:
		opts.Auth = pushauth.Basic(fakeUser, fakePassword)
	}
	w.h = handler.New(opts)
	return w
}

func basicHeader(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// token fetches an access token from the handler's token endpoint.
func (w *fakeWorld) token(tb testing.TB) string {
	tb.Helper()
	r := httptest.NewRequest("POST", "/oauth/token", bytes.NewReader([]byte("grant_type=client_credentials")))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Authorization", basicHeader(fakeClientID, fakeSecret))
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, r)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil || rec.Code != 200 || tok.AccessToken == "" {
		tb.Fatalf("token endpoint: %d %s", rec.Code, rec.Body)
	}
	return tok.AccessToken
}

// pushRequest is a push as CCC sends it.
func pushRequest(action string, body []byte, authorization string) *http.Request {
	r := httptest.NewRequest("POST", "/push?action="+action+"&version=1", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json;charset=utf8")
	r.Header.Set("X-TCCC-PUSH-UUID", "8b4a9c3e-2f1d-4e5a-9b7c-6d5e4f3a2b1c")
	if authorization != "" {
		r.Header.Set("Authorization", authorization)
	}
	return r
}

// benchRequest serves one request again and again, as cheaply as it can
// around the handler, so that a benchmark counts what the handler
// allocates: every call of serve is handler.New's ServeHTTP with a new
// *http.Request, as net/http hands it over, whose body reads the same bytes
// again, and a ResponseWriter whose header map and body buffer are cleared
// for the next call rather than made anew. The request's Header map and URL
// are the template's, shared: the handler only reads them.
type benchRequest struct {
	tmpl *http.Request
	body []byte
	r    *bytes.Reader
	rc   io.ReadCloser
	w    benchWriter
}

func newBenchRequest(tmpl *http.Request, body []byte) *benchRequest {
	br := &benchRequest{tmpl: tmpl, body: body, r: bytes.NewReader(body), w: benchWriter{header: http.Header{}}}
	br.rc = io.NopCloser(br.r)
	return br
}

// serve serves the request once and returns the reply's status.
func (br *benchRequest) serve(h http.Handler) int {
	br.r.Reset(br.body)
	br.w.reset()
	r := new(http.Request)
	*r = *br.tmpl
	r.Body = br.rc
	h.ServeHTTP(&br.w, r)
	return br.w.status
}

// benchWriter is a minimal http.ResponseWriter, reused.
type benchWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *benchWriter) reset() {
	clear(w.header)
	w.status = 0
	w.body.Reset()
}

func (w *benchWriter) Header() http.Header { return w.header }

func (w *benchWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *benchWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(b)
}

// benchPush serves one push per iteration and fails on any reply but
// ErrCode 0.
func benchPush(b *testing.B, w *fakeWorld, action string, body []byte, authorization string) {
	br := newBenchRequest(pushRequest(action, body, authorization), body)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if status := br.serve(w.h); status != 200 {
			b.Fatalf("reply %d %s", status, &br.w.body)
		}
	}
	if w.sink.count() == 0 {
		b.Fatal("nothing reached the sink")
	}
}

// BenchmarkHandlerPush is one CDR push through the whole handler: request
// id, authentication, parsing and validation, the allow-list, the record
// built from the documented DescribeSessionDetail reply, JSON encoding,
// the sink call, the reply and the JSON log line. The request around it
// (benchRequest) costs what BenchmarkHarness measures.
func BenchmarkHandlerPush(b *testing.B) {
	cdr := readFile(b, "../internal/push/testdata/push-cdr.json")
	b.Run("auth=none", func(b *testing.B) {
		benchPush(b, newFakeWorld(b, fakeOptions{auth: "none"}), "cdr", cdr, "")
	})
	b.Run("auth=basic", func(b *testing.B) {
		benchPush(b, newFakeWorld(b, fakeOptions{auth: "basic"}), "cdr", cdr, fakeBasicHeader)
	})
	b.Run("auth=oauth2", func(b *testing.B) {
		w := newFakeWorld(b, fakeOptions{auth: "oauth2"})
		benchPush(b, w, "cdr", cdr, "Bearer "+w.token(b))
	})
	b.Run("auth=basic,mask", func(b *testing.B) {
		benchPush(b, newFakeWorld(b, fakeOptions{auth: "basic", mask: true}), "cdr", cdr, fakeBasicHeader)
	})
	b.Run("auth=basic,action=record", func(b *testing.B) {
		benchPush(b, newFakeWorld(b, fakeOptions{auth: "basic"}), "record", readFile(b, "../internal/push/testdata/push-record.json"), fakeBasicHeader)
	})
}

// BenchmarkHarness is what benchRequest costs around the handler: a new
// request, its body read again, the writer cleared, and a reply written.
// Subtracted from BenchmarkHandlerPush it leaves the handler's own cost.
func BenchmarkHarness(b *testing.B) {
	cdr := readFile(b, "../internal/push/testdata/push-cdr.json")
	br := newBenchRequest(pushRequest("cdr", cdr, fakeBasicHeader), cdr)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			b.Fatal(err)
		}
		w.WriteHeader(200)
	})
	b.ReportAllocs()
	for b.Loop() {
		if br.serve(h) != 200 {
			b.Fatal("no reply")
		}
	}
}

// BenchmarkHandlerRefused is the cost of refusing a push: a wrong password
// and another SdkAppId. Floods of either are what an attacker can send.
func BenchmarkHandlerRefused(b *testing.B) {
	cdr := readFile(b, "../internal/push/testdata/push-cdr.json")
	w := newFakeWorld(b, fakeOptions{auth: "basic"})
	for _, tc := range []struct {
		name, authorization string
		body                []byte
		status              int
	}{
		{"wrong-password", basicHeader(fakeUser, "wrong"), cdr, 401},
		{"other-app", fakeBasicHeader, bytes.Replace(cdr, []byte("1400000000"), []byte("1400000009"), 1), 403},
		{"nested", fakeBasicHeader, append([]byte(`{"a":`), bytes.Repeat([]byte("["), 64<<10)...), 400},
	} {
		b.Run(tc.name, func(b *testing.B) {
			br := newBenchRequest(pushRequest("cdr", tc.body, tc.authorization), tc.body)
			b.ReportAllocs()
			for b.Loop() {
				if status := br.serve(w.h); status != tc.status {
					b.Fatalf("reply %d %s", status, &br.w.body)
				}
			}
		})
	}
}

// BenchmarkHandlerHealthz is the floor: routing, request id, reply, log.
func BenchmarkHandlerHealthz(b *testing.B) {
	w := newFakeWorld(b, fakeOptions{auth: "basic"})
	br := newBenchRequest(httptest.NewRequest("GET", "/healthz", nil), nil)
	b.ReportAllocs()
	for b.Loop() {
		if status := br.serve(w.h); status != 200 {
			b.Fatal(status)
		}
	}
}

// errTransient and errPermanent are what the fakes fail with.
var (
	errTransient = errors.New("fake: transient failure")
	errPermanent = retry.Permanent(errors.New("fake: permanent failure"))
)
