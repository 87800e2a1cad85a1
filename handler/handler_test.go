package handler_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/handler"
	"github.com/ccc-enricher/ccc-enricher/internal/cccapi"
	"github.com/ccc-enricher/ccc-enricher/internal/enrich"
	"github.com/ccc-enricher/ccc-enricher/internal/push"
	"github.com/ccc-enricher/ccc-enricher/internal/pushauth"
	"github.com/ccc-enricher/ccc-enricher/internal/record"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
	"github.com/ccc-enricher/ccc-enricher/internal/sink/webhook"
	"github.com/ccc-enricher/ccc-enricher/internal/tcemu"
	"github.com/ccc-enricher/ccc-enricher/internal/testenv"
)

const (
	apiToken   = "test-api-token-0123456789"
	basicUser  = "ccc"
	basicPass  = "push-password"
	otherAppID = 1400000009
)

// env is a whole deployment on loopback: the CCC API emulator, the real
// CCC client and SDK signing, the real webhook sink, a receiver that
// verifies signatures, and the handler behind an HTTP server.
type env struct {
	t      *testing.T
	emu    *tcemu.Server
	sample tcemu.Sample
	fn     *httptest.Server
	logs   *bytes.Buffer
	recv   *testenv.Receiver
}

type envOption func(*handler.Options, *enrich.Enricher)

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	api := testenv.NewCCC(t, time.Now(), tcemu.Options{})
	e := &env{t: t, emu: api.Emu, sample: api.Sample, logs: &bytes.Buffer{}, recv: testenv.NewReceiver(t)}
	out := webhook.New(testenv.WebhookConfig(e.recv.URL, time.Second), e.recv.Client())
	enr := &enrich.Enricher{
		Detail: api.Client(t, cccapi.Options{SessionGrace: 2 * time.Minute, Retry: retry.Policy{Base: time.Millisecond, Max: 5 * time.Millisecond}}, time.Second),
		Sink:   out,
	}
	o := handler.Options{
		Auth:     pushauth.Basic(basicUser, basicPass),
		AllowApp: func(id int64) bool { return id == e.sample.SdkAppID },
		Enricher: enr,
		APIToken: apiToken,
		Timeout:  5 * time.Second,
		Logger:   slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, opt := range opts {
		opt(&o, enr)
	}
	e.fn = httptest.NewServer(handler.New(o))
	t.Cleanup(e.fn.Close)
	return e
}

type reply struct {
	status  int
	ErrCode int
	ErrMsg  string
	body    []byte
}

func (e *env) do(method, path string, body []byte, header http.Header) reply {
	e.t.Helper()
	req, err := http.NewRequest(method, e.fn.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := e.fn.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	r := reply{status: resp.StatusCode}
	r.body, _ = io.ReadAll(resp.Body)
	json.Unmarshal(r.body, &r)
	return r
}

func basic() http.Header {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(basicUser, basicPass)
	r.Header.Set("Content-Type", "application/json;charset=utf8")
	r.Header.Set("X-TCCC-PUSH-UUID", "push-uuid-1")
	return r.Header
}

func (e *env) push(action string, body []byte) reply {
	e.t.Helper()
	return e.do("POST", "/push?action="+action+"&version=1", body, basic())
}

func (e *env) records() []record.Record {
	e.t.Helper()
	return e.recv.Records(e.t)
}

func TestPushCDR(t *testing.T) {
	e := newEnv(t)
	r := e.push("cdr", e.sample.CDRPush)
	if r.status != 200 || r.ErrCode != 0 || r.ErrMsg != "ok" {
		t.Fatalf("reply %d %s", r.status, r.body)
	}
	recs := e.records()
	if len(recs) != 1 {
		t.Fatalf("got %d records, want 1", len(recs))
	}
	rec := recs[0]
	if rec.ID != record.ID(e.sample.SdkAppID, e.sample.SessionID, push.KindCDR, "") ||
		rec.Completeness != record.Full || rec.Detail == nil || rec.Meta.PushUUID != "push-uuid-1" ||
		rec.Metrics == nil || !rec.Metrics.Answered || rec.Meta.RecordingLinksExpireAt == nil {
		t.Errorf("unexpected record: %+v", rec)
	}
	// A redelivery of the same push carries the same record id.
	e.push("cdr", e.sample.CDRPush)
	if recs := e.records(); len(recs) != 2 || recs[1].ID != rec.ID {
		t.Errorf("redelivery changed the id")
	}
}

func TestPushRecording(t *testing.T) {
	e := newEnv(t)
	if r := e.push("record", e.sample.RecordPush); r.ErrCode != 0 {
		t.Fatalf("reply %d %s", r.status, r.body)
	}
	recs := e.records()
	if len(recs) != 1 || recs[0].Kind != push.KindRecord || recs[0].RecordID == "" || recs[0].Detail == nil {
		t.Fatalf("records: %+v", recs)
	}
}

// Bad input gets the right ErrCode and status, and nothing is forwarded.
func TestBadInput(t *testing.T) {
	e := newEnv(t)
	var other map[string]any
	json.Unmarshal(e.sample.CDRPush, &other)
	other["SdkAppId"] = otherAppID
	otherApp, _ := json.Marshal(other)
	noAuth := http.Header{"Content-Type": {"application/json"}}
	wrongPass := basic()
	wrongPass.Set("Authorization", "Basic Y2NjOndyb25n")
	tests := []struct {
		name    string
		method  string
		path    string
		body    []byte
		header  http.Header
		status  int
		errCode int
	}{
		{"no credentials", "POST", "/push?action=cdr&version=1", e.sample.CDRPush, noAuth, 401, 40101},
		{"wrong password", "POST", "/push?action=cdr&version=1", e.sample.CDRPush, wrongPass, 401, 40101},
		{"action not a name", "POST", "/push?action=sms%20x&version=1", e.sample.CDRPush, basic(), 400, 40002},
		{"no action", "POST", "/push", e.sample.CDRPush, basic(), 400, 40002},
		{"future version", "POST", "/push?action=cdr&version=2", e.sample.CDRPush, basic(), 400, 40003},
		{"not JSON", "POST", "/push?action=cdr&version=1", []byte("SdkAppId=1"), basic(), 400, 40001},
		{"JSON array", "POST", "/push?action=cdr&version=1", []byte(`[{"SdkAppId":1}]`), basic(), 400, 40001},
		{"empty body", "POST", "/push?action=cdr&version=1", nil, basic(), 400, 40001},
		{"no session id", "POST", "/push?action=cdr&version=1", []byte(`{"SdkAppId":1400000000}`), basic(), 400, 40001},
		{"deeply nested", "POST", "/push?action=cdr&version=1", []byte(strings.Repeat("[", 10000)), basic(), 400, 40001},
		{"too large", "POST", "/push?action=cdr&version=1", bytes.Repeat([]byte(" "), 2<<20), basic(), 413, 41301},
		{"other SdkAppId", "POST", "/push?action=cdr&version=1", otherApp, basic(), 403, 40301},
		{"GET push", "GET", "/push?action=cdr", nil, basic(), 405, 40501},
		{"unknown route", "POST", "/nope", nil, basic(), 404, 40401},
		{"token endpoint off", "POST", "/oauth/token", nil, nil, 404, 40401},
		{"enrich without token", "POST", "/sessions/x/enrich", []byte(`{"SdkAppId":1400000000}`), nil, 401, 40101},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(tt.method, tt.path, tt.body, tt.header)
			if r.status != tt.status || r.ErrCode != tt.errCode || r.ErrMsg == "" {
				t.Errorf("got %d %s, want %d ErrCode %d", r.status, r.body, tt.status, tt.errCode)
			}
		})
	}
	if n := len(e.records()); n != 0 {
		t.Errorf("%d records forwarded for bad input", n)
	}
	if n := e.emu.Calls("DescribeSessionDetail"); n != 0 {
		t.Errorf("%d CCC calls for bad input", n)
	}
}

// Transient CCC failures are retried in-process and the push succeeds.
func TestRetriesCCCFailures(t *testing.T) {
	tests := []struct {
		name   string
		faults []tcemu.Fault
	}{
		{"RequestLimitExceeded", []tcemu.Fault{{Code: "RequestLimitExceeded"}, {Code: "RequestLimitExceeded"}}},
		{"InternalError", []tcemu.Fault{{Code: "InternalError"}}},
		{"502 from the gateway", []tcemu.Fault{{Status: 502}, {Status: 503}}},
		{"a slow reply", []tcemu.Fault{{Delay: 1500 * time.Millisecond}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.emu.Inject("DescribeSessionDetail", tt.faults...)
			if r := e.push("cdr", e.sample.CDRPush); r.ErrCode != 0 {
				t.Fatalf("reply %d %s", r.status, r.body)
			}
			if n := len(e.records()); n != 1 {
				t.Errorf("%d records", n)
			}
		})
	}
}

// Detail may lag the push: FailedOperation.SessionNotExists is retried
// within the grace period.
func TestSessionNotYetThere(t *testing.T) {
	// Each SessionNotExists waits about half a second; a generous deadline
	// keeps a loaded machine from turning the wait into a failure.
	e := newEnv(t, func(o *handler.Options, _ *enrich.Enricher) { o.Timeout = 20 * time.Second })
	e.emu.HideSession(e.sample.SessionID, 2)
	if r := e.push("cdr", e.sample.CDRPush); r.ErrCode != 0 {
		t.Fatalf("reply %d %s", r.status, r.body)
	}
	if recs := e.records(); len(recs) != 1 || recs[0].Completeness != record.Full {
		t.Errorf("records: %d", len(recs))
	}
}

// When detail cannot be had in time, the policy decides: retry asks CCC to
// push again; forward-partial delivers the push data flagged partial.
func TestDetailFailurePolicy(t *testing.T) {
	failing := func(e *env) {
		e.emu.SetFaults(func(string) *tcemu.Fault { return &tcemu.Fault{Code: "InternalError"} })
	}
	t.Run("retry", func(t *testing.T) {
		e := newEnv(t, func(o *handler.Options, _ *enrich.Enricher) { o.Timeout = time.Second })
		failing(e)
		r := e.push("cdr", e.sample.CDRPush)
		if r.ErrCode == 0 || r.status < 500 {
			t.Fatalf("reply %d %s; want a 5xx and ErrCode≠0 so that CCC pushes again", r.status, r.body)
		}
		if n := len(e.records()); n != 0 {
			t.Errorf("%d records forwarded", n)
		}
	})
	t.Run("forward-partial", func(t *testing.T) {
		e := newEnv(t, func(o *handler.Options, en *enrich.Enricher) {
			o.Timeout = time.Second
			en.ForwardPartial = true
		})
		failing(e)
		if r := e.push("cdr", e.sample.CDRPush); r.ErrCode != 0 {
			t.Fatalf("reply %d %s\n%s", r.status, r.body, e.logs)
		}
		recs := e.records()
		if len(recs) != 1 || recs[0].Completeness != record.Partial || recs[0].Detail != nil ||
			recs[0].DetailError == "" || len(recs[0].Push) == 0 {
			t.Fatalf("records: %+v", recs)
		}
	})
}

// A sink failure is answered with ErrCode≠0: the record is not durable, so
// CCC must push again.
func TestSinkFailure(t *testing.T) {
	for _, status := range []int{500, 400} {
		e := newEnv(t, func(o *handler.Options, _ *enrich.Enricher) { o.Timeout = 500 * time.Millisecond })
		e.recv.Answer(func(http.ResponseWriter, *http.Request) int { return status })
		r := e.push("cdr", e.sample.CDRPush)
		if r.ErrCode == 0 || r.status < 500 {
			t.Errorf("sink %d: reply %d %s", status, r.status, r.body)
		}
	}
}

func TestEnrichOnDemand(t *testing.T) {
	e := newEnv(t)
	h := http.Header{"Authorization": {"Bearer " + apiToken}}
	body := []byte(`{"SdkAppId":1400000000}`)
	r := e.do("POST", "/sessions/"+e.sample.SessionID+"/enrich", body, h)
	var rec record.Record
	if err := json.Unmarshal(r.body, &rec); err != nil || r.status != 200 {
		t.Fatalf("reply %d %s", r.status, r.body)
	}
	if rec.Source != record.SourceEnrich || rec.Detail == nil || rec.SessionID != e.sample.SessionID {
		t.Errorf("record: %+v", rec)
	}
	if n := len(e.records()); n != 0 {
		t.Errorf("forwarded without ?forward=true")
	}
	e.do("POST", "/sessions/"+e.sample.SessionID+"/enrich?forward=true", body, h)
	if recs := e.records(); len(recs) != 1 || recs[0].ID != rec.ID {
		t.Errorf("forward: %d records", len(recs))
	}
	if r := e.do("POST", "/sessions/no-such-session/enrich", body, h); r.ErrCode == 0 {
		t.Errorf("missing session: %d %s", r.status, r.body)
	}
}

func TestHealthz(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/healthz", nil, nil)
	if r.status != 200 || !bytes.Contains(r.body, []byte(`"ok"`)) {
		t.Errorf("healthz: %d %s", r.status, r.body)
	}
	if e.emu.Calls("DescribeSessionDetail") != 0 {
		t.Error("healthz touched CCC")
	}
}

// No secret, signed recording link or credential reaches the logs.
func TestLogsKeepSecrets(t *testing.T) {
	e := newEnv(t)
	e.push("cdr", e.sample.CDRPush)
	e.push("record", e.sample.RecordPush)
	wrong := basic()
	wrong.Set("Authorization", "Basic "+basicPass)
	e.do("POST", "/push?action=cdr&version=1", e.sample.CDRPush, wrong)
	e.do("POST", "/sessions/"+e.sample.SessionID+"/enrich", []byte(`{"SdkAppId":1400000000}`),
		http.Header{"Authorization": {"Bearer " + apiToken}})
	logs := e.logs.String()
	if !strings.Contains(logs, e.sample.SessionID) {
		t.Fatalf("logs lack the session id:\n%s", logs)
	}
	for _, secret := range []string{testenv.SecretKey, testenv.WebhookSecret, apiToken, basicPass, "getRecord", "getAsrText", "tencentcos", "0086158"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q", secret)
		}
	}
}

// CCC's OAuth2 mode end to end through the handler: CCC fetches a token
// from /oauth/token with its client credentials, then pushes with it.
func TestPushOAuth2(t *testing.T) {
	const clientID, clientSecret = "ccc-console", "a-long-client-secret-0123456789"
	e := newEnv(t, func(o *handler.Options, _ *enrich.Enricher) {
		oa := pushauth.NewOAuth2(clientID, clientSecret, time.Minute, time.Now)
		o.Auth, o.TokenEndpoint = oa, oa.TokenHandler()
	})
	form := []byte("grant_type=client_credentials")
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	req, _ := http.NewRequest("POST", "/", nil)
	req.SetBasicAuth(clientID, clientSecret)
	h.Set("Authorization", req.Header.Get("Authorization"))
	r := e.do("POST", "/oauth/token", form, h)
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal(r.body, &tok); err != nil || r.status != 200 || tok.AccessToken == "" || tok.ExpiresIn != 60 {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	bearer := http.Header{"Authorization": {"Bearer " + tok.AccessToken}, "Content-Type": {"application/json"}}
	if r := e.do("POST", "/push?action=cdr&version=1", e.sample.CDRPush, bearer); r.ErrCode != 0 {
		t.Fatalf("push with token: %d %s", r.status, r.body)
	}
	// A tampered token and a wrong client secret are refused.
	tampered := http.Header{"Authorization": {"Bearer " + tok.AccessToken + "x"}}
	if r := e.do("POST", "/push?action=cdr&version=1", e.sample.CDRPush, tampered); r.status != 401 || r.ErrCode != 40101 {
		t.Errorf("tampered token: %d %s", r.status, r.body)
	}
	req.SetBasicAuth(clientID, "wrong")
	h.Set("Authorization", req.Header.Get("Authorization"))
	if r := e.do("POST", "/oauth/token", form, h); r.status != 401 {
		t.Errorf("wrong secret: %d %s", r.status, r.body)
	}
	if n := len(e.records()); n != 1 {
		t.Errorf("%d records, want 1", n)
	}
}
