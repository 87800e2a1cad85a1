package scf_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/platform"
	"github.com/ccc-enricher/ccc-enricher/internal/scf"
	"github.com/ccc-enricher/ccc-enricher/internal/scf/scftest"
)

// echo is what echoHandler saw of a request.
type echo struct {
	Method      string              `json:"method"`
	Path        string              `json:"path"`
	EscapedPath string              `json:"escapedPath"`
	RawQuery    string              `json:"rawQuery"`
	Query       map[string][]string `json:"query"`
	Host        string              `json:"host"`
	RemoteAddr  string              `json:"remoteAddr"`
	Header      http.Header         `json:"header"`
	Body        string              `json:"body"`
	ContentLen  int64               `json:"contentLength"`
	RequestID   string              `json:"requestID"`
	Deadline    time.Time           `json:"deadline"`
}

// echoHandler replies with what it saw, or with the reply a test asks for
// through the path.
func echoHandler(t *testing.T) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read body: %v", err)
		}
		switch r.URL.Path {
		case "/binary":
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write([]byte{0xff, 0x00, 0xfe})
			return
		case "/multi":
			w.Header().Add("Vary", "Accept")
			w.Header().Add("Vary", "Origin")
			w.WriteHeader(http.StatusCreated)
			w.WriteHeader(http.StatusTeapot) // ignored, as by net/http
			io.WriteString(w, "<html>made</html>")
			return
		case "/empty":
			w.Header().Set("X-Only", "header")
			return
		case "/panic":
			panic("handler exploded")
		}
		dl, _ := r.Context().Deadline()
		e := echo{
			Method: r.Method, Path: r.URL.Path, EscapedPath: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
			Query: r.URL.Query(), Host: r.Host, RemoteAddr: r.RemoteAddr, Header: r.Header,
			Body: string(body), ContentLen: r.ContentLength, RequestID: scf.RequestID(r.Context()), Deadline: dl,
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(e)
	})
}

// reply is the integrated-response shape.
type reply struct {
	IsBase64Encoded bool              `json:"isBase64Encoded"`
	StatusCode      int               `json:"statusCode"`
	Headers         map[string]string `json:"headers"`
	Body            string            `json:"body"`
}

// start runs Serve against a fresh emulator and stops both at the end of
// the test, checking that Serve returned as documented.
func start(t *testing.T, h http.Handler, jobs platform.Jobs) *scftest.Server {
	return startQueue(t, h, jobs, nil)
}

// startQueue is start with a queue function.
func startQueue(t *testing.T, h http.Handler, jobs platform.Jobs, queue platform.Queue) *scftest.Server {
	t.Helper()
	return startIntake(t, h, jobs, queue, nil)
}

// startIntake is startQueue with queued intake.
func startIntake(t *testing.T, h http.Handler, jobs platform.Jobs, queue platform.Queue, in *platform.Intake) *scftest.Server {
	t.Helper()
	emu := scftest.NewServer()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- scf.ServeIntake(ctx, emu.Addr, h, jobs, queue, in) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve after cancel = %v, want nil", err)
		}
		emu.Close()
		if err := emu.Err(); err != nil {
			t.Errorf("runtime API protocol violations:\n%v", err)
		}
	})
	return emu
}

func invoke(t *testing.T, emu *scftest.Server, event []byte) scftest.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := emu.Invoke(ctx, event)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestServeAPIGateway(t *testing.T) {
	emu := start(t, echoHandler(t), nil)
	emu.TimeLimit = 7 * time.Second
	tests := []struct {
		file       string
		method     string
		path       string
		escaped    string
		rawQuery   string
		query      map[string][]string
		host       string
		remoteAddr string
		requestID  string // X-Request-Id seen by the handler
		headers    map[string]string
		body       string
	}{{
		file: "apigw-push.json", method: "POST", path: "/push", escaped: "/push",
		rawQuery: "action=cdr&version=1", query: map[string][]string{"action": {"cdr"}, "version": {"1"}},
		host: "service-0ccc0001-1250000000.gz.apigw.tencentcs.com", remoteAddr: "203.0.113.7",
		requestID: "0f4a0c5e-5b7e-4b2d-9f55-2d6c1f3e9a01",
		headers: map[string]string{
			"Content-Type":     "application/json;charset=utf8",
			"X-Tccc-Push-Uuid": "5c0d6a43-2d40-4c2e-9c51-6c1a3b4f0b11",
			"Content-Length":   "",
		},
		body: `{"SdkAppId":1400000001,"SessionId":"session-0001"}`,
	}, {
		file: "apigw-query-oddities.json", method: "POST", path: "/sessions/session 0002/enrich", escaped: "/sessions/session%200002/enrich",
		rawQuery: "a=b&a=c&i&n=5&sp+ace=v%26w&x=y",
		query:    map[string][]string{"a": {"b", "c"}, "i": {""}, "n": {"5"}, "sp ace": {"v&w"}, "x": {"y"}},
		host:     "api.example.com", remoteAddr: "198.51.100.20",
		requestID: "caller-chosen-id",
		headers:   map[string]string{"Accept": "application/json"},
	}, {
		file: "apigw-base64.json", method: "POST", path: "/push", escaped: "/push",
		rawQuery: "action=cdr&version=1", query: map[string][]string{"action": {"cdr"}, "version": {"1"}},
		host: "api.example.com", remoteAddr: "203.0.113.8",
		requestID: "2c3d4e5f-0000-4000-8000-000000000003",
		body:      `{"SdkAppId":1400000001,"SessionId":"b64"}`,
	}, {
		// The default domain's path begins with the stage.
		file: "apigw-stage-prefix.json", method: "POST", path: "/push", escaped: "/push",
		rawQuery: "action=cdr&version=1", host: "service-0ccc0001-1250000000.gz.apigw.tencentcs.com",
		remoteAddr: "203.0.113.12", requestID: "4e5f6071-0000-4000-8000-000000000005",
		body: `{"SdkAppId":1400000001,"SessionId":"session-0001"}`,
	}, {
		file: "apigw-healthz.json", method: "GET", path: "/healthz", escaped: "/healthz",
		query: map[string][]string{}, host: "api.example.com", remoteAddr: "203.0.113.9",
		requestID: "3d4e5f60-0000-4000-8000-000000000004",
	}}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			before := time.Now()
			res := invoke(t, emu, readTestdata(t, tt.file))
			if res.Error {
				t.Fatalf("invocation error: %s", res.Body)
			}
			var rep reply
			if err := json.Unmarshal(res.Body, &rep); err != nil {
				t.Fatalf("reply %s: %v", res.Body, err)
			}
			if rep.StatusCode != 200 || rep.IsBase64Encoded || rep.Headers["Content-Type"] != "application/json" {
				t.Fatalf("reply = %+v", rep)
			}
			var got echo
			if err := json.Unmarshal([]byte(rep.Body), &got); err != nil {
				t.Fatal(err)
			}
			if got.Method != tt.method || got.Path != tt.path || got.EscapedPath != tt.escaped || got.RawQuery != tt.rawQuery {
				t.Errorf("request line = %s %s (%s) ?%s, want %s %s (%s) ?%s",
					got.Method, got.Path, got.EscapedPath, got.RawQuery, tt.method, tt.path, tt.escaped, tt.rawQuery)
			}
			if len(tt.query) > 0 && !reflect.DeepEqual(got.Query, tt.query) {
				t.Errorf("query = %v, want %v", got.Query, tt.query)
			}
			if got.Host != tt.host || got.RemoteAddr != tt.remoteAddr {
				t.Errorf("host, remote = %q, %q; want %q, %q", got.Host, got.RemoteAddr, tt.host, tt.remoteAddr)
			}
			if id := got.Header.Get("X-Request-Id"); id != tt.requestID {
				t.Errorf("X-Request-Id = %q, want %q", id, tt.requestID)
			}
			for k, v := range tt.headers {
				if g := http.Header(got.Header).Get(k); g != v {
					t.Errorf("header %s = %q, want %q", k, g, v)
				}
			}
			if got.Body != tt.body || got.ContentLen != int64(len(tt.body)) {
				t.Errorf("body = %q (length %d), want %q", got.Body, got.ContentLen, tt.body)
			}
			if got.RequestID != res.RequestID {
				t.Errorf("RequestID(ctx) = %q, want %q", got.RequestID, res.RequestID)
			}
			// The deadline is the fetch time plus time_limit_in_ms: after
			// the invocation began, before the reply came back.
			if lo, hi := before.Add(emu.TimeLimit), time.Now().Add(emu.TimeLimit); got.Deadline.Before(lo.Truncate(time.Millisecond)) || got.Deadline.After(hi) {
				t.Errorf("deadline %v not within [%v, %v]", got.Deadline, lo, hi)
			}
		})
	}
}

func TestServeAPIGatewayReplies(t *testing.T) {
	emu := start(t, echoHandler(t), nil)
	event := func(path string) []byte {
		return []byte(`{"httpMethod":"GET","path":"` + path + `","headers":{},"queryString":{},"requestContext":{"requestId":"x","sourceIp":"192.0.2.1"}}`)
	}
	tests := []struct {
		path string
		want reply
	}{
		{"/binary", reply{IsBase64Encoded: true, StatusCode: 200,
			Headers: map[string]string{"Content-Type": "application/octet-stream"},
			Body:    base64.StdEncoding.EncodeToString([]byte{0xff, 0x00, 0xfe})}},
		{"/multi", reply{StatusCode: 201,
			Headers: map[string]string{"Vary": "Accept, Origin", "Content-Type": "text/html; charset=utf-8"},
			Body:    "<html>made</html>"}},
		{"/empty", reply{StatusCode: 200, Headers: map[string]string{"X-Only": "header"}}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res := invoke(t, emu, event(tt.path))
			if res.Error {
				t.Fatalf("invocation error: %s", res.Body)
			}
			var got reply
			if err := json.Unmarshal(res.Body, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("reply = %+v\nwant    %+v", got, tt.want)
			}
		})
	}
}

// TestServeFunctionURL serves function URL events, the shape Tencent
// documents for event functions (testdata/function-url-*.json), and checks
// the request the handler sees and the reply's shape.
func TestServeFunctionURL(t *testing.T) {
	emu := start(t, echoHandler(t), nil)
	tests := []struct {
		file, method, path, rawQuery, remoteAddr string
		requestID                                string // "" for the invocation's
		body                                     string
	}{
		{"function-url-push.json", "POST", "/push", "action=cdr&version=1", "203.0.113.10", "",
			`{"SdkAppId":1400000001,"SessionId":"session-0001"}`},
		{"function-url-healthz.json", "GET", "/healthz", "", "203.0.113.11", "client-chosen-id", ""},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			res := invoke(t, emu, readTestdata(t, tt.file))
			if res.Error {
				t.Fatalf("invocation error: %s", res.Body)
			}
			var members map[string]json.RawMessage
			if err := json.Unmarshal(res.Body, &members); err != nil {
				t.Fatal(err)
			}
			if len(members) != 3 || members["statusCode"] == nil || members["headers"] == nil || members["body"] == nil {
				t.Errorf("reply %s: want exactly statusCode, headers and body", res.Body)
			}
			var rep reply
			json.Unmarshal(res.Body, &rep)
			var got echo
			if err := json.Unmarshal([]byte(rep.Body), &got); rep.StatusCode != 200 || err != nil {
				t.Fatalf("reply %d %s: %v", rep.StatusCode, rep.Body, err)
			}
			want := tt.requestID
			if want == "" {
				want = res.RequestID
			}
			if got.Method != tt.method || got.Path != tt.path || got.RawQuery != tt.rawQuery ||
				got.Host != "1250000000-0ccc0001.gz.tencentscf.com" || got.RemoteAddr != tt.remoteAddr ||
				got.Header.Get("X-Request-Id") != want || got.Body != tt.body || got.ContentLen != int64(len(tt.body)) {
				t.Errorf("request = %+v", got)
			}
		})
	}
	t.Run("replies", func(t *testing.T) {
		event := func(path string) []byte {
			return []byte(`{"httpMethod":"GET","path":"` + path + `","headers":{},"queryString":{},"body":""}`)
		}
		res := invoke(t, emu, event("/multi"))
		want := `{"statusCode":201,"headers":{"Content-Type":"text/html; charset=utf-8","Vary":"Accept, Origin"},"body":"\u003chtml\u003emade\u003c/html\u003e"}`
		if res.Error || string(res.Body) != want {
			t.Errorf("reply error=%v %s\nwant %s", res.Error, res.Body, want)
		}
		// A function URL reply has no base64 flag to carry bytes.
		if got := errType(t, invoke(t, emu, event("/binary"))); got != "BadReply" {
			t.Errorf("binary reply: error type %q, want BadReply", got)
		}
	})
}

func TestServeTimer(t *testing.T) {
	type run struct {
		name      string
		scheduled time.Time
		requestID string
	}
	runs := make(chan run, 1)
	job := func(name string, err error) platform.Job {
		return func(ctx context.Context, scheduled time.Time) error {
			runs <- run{name, scheduled, scf.RequestID(ctx)}
			return err
		}
	}
	jobs := platform.Jobs{
		"reconcile": job("reconcile", nil),
		"backfill":  job("backfill", nil),
		"broken":    job("broken", errors.New("sink unavailable")),
	}
	emu := start(t, echoHandler(t), jobs)
	at := time.Date(2019, 8, 17, 5, 26, 0, 0, time.UTC)
	tests := []struct {
		name    string
		event   string
		job     string // "" for no job run
		errType string // "" for success
	}{
		{"trigger name", `{"Type":"Timer","TriggerName":"backfill","Time":"2019-08-17T05:26:00Z","Message":"reconcile"}`, "backfill", ""},
		{"message", `{"Type":"Timer","TriggerName":"timer-ccc-enricher-dev","Time":"2019-08-17T05:26:00Z","Message":"backfill"}`, "backfill", ""},
		{"default", `{"Type":"Timer","TriggerName":"every10","Time":"2019-08-17T05:26:00Z","Message":""}`, "reconcile", ""},
		{"testdata", string(readTestdata(t, "timer.json")), "reconcile", ""},
		{"job fails", `{"Type":"Timer","TriggerName":"broken","Time":"2019-08-17T05:26:00Z"}`, "broken", "JobFailed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := invoke(t, emu, []byte(tt.event))
			if got := errType(t, res); got != tt.errType {
				t.Fatalf("error type = %q, want %q (reply %s)", got, tt.errType, res.Body)
			}
			select {
			case r := <-runs:
				if r.name != tt.job || !r.scheduled.Equal(at) || r.requestID != res.RequestID {
					t.Errorf("ran %s for %v in %s, want %s for %v in %s", r.name, r.scheduled, r.requestID, tt.job, at, res.RequestID)
				}
			default:
				t.Errorf("no job ran, want %s", tt.job)
			}
		})
	}
	t.Run("no time", func(t *testing.T) {
		before := time.Now()
		res := invoke(t, emu, []byte(`{"Type":"Timer","TriggerName":"reconcile"}`))
		if res.Error {
			t.Fatalf("error: %s", res.Body)
		}
		if r := <-runs; r.scheduled.Before(before) {
			t.Errorf("scheduled = %v, want the time of the run", r.scheduled)
		}
	})
}

func TestServeTimerWithoutJobs(t *testing.T) {
	emu := start(t, echoHandler(t), platform.Jobs{"other": func(context.Context, time.Time) error { return nil }})
	res := invoke(t, emu, readTestdata(t, "timer.json"))
	if got := errType(t, res); got != "UnknownJob" {
		t.Fatalf("error type = %q, want UnknownJob (reply %s)", got, res.Body)
	}
}

func TestServeRejects(t *testing.T) {
	emu := start(t, echoHandler(t), nil)
	tests := []struct {
		name, event, errType string
	}{
		{"CMQ event without a queue function", string(readTestdata(t, "cmq.json")), "UnrecognizedEvent"},
		{"CKafka event without a queue function", string(readTestdata(t, "ckafka.json")), "UnrecognizedEvent"},
		{"empty object", `{}`, "UnrecognizedEvent"},
		{"array", `[1,2]`, "UnrecognizedEvent"},
		{"string", `"hello"`, "UnrecognizedEvent"},
		{"not JSON", `hello`, "UnrecognizedEvent"},
		{"method without context", `{"httpMethod":"GET","path":"/"}`, "UnrecognizedEvent"},
		{"method, null context and no headers", `{"httpMethod":"GET","path":"/","requestContext":null}`, "UnrecognizedEvent"},
		{"headers that are not an object", `{"httpMethod":"GET","path":"/","headers":"x"}`, "UnrecognizedEvent"},
		{"function URL, bad method", `{"httpMethod":"GE T","path":"/","headers":{}}`, "BadEvent"},
		{"function URL, relative path", `{"httpMethod":"GET","path":"push","headers":{}}`, "BadEvent"},
		{"function URL, bad header", `{"httpMethod":"GET","path":"/","headers":{"a":{"b":1}}}`, "BadEvent"},
		{"bad base64", `{"httpMethod":"POST","path":"/push","isBase64Encoded":true,"body":"%%%","requestContext":{}}`, "BadEvent"},
		{"relative path", `{"httpMethod":"GET","path":"push","requestContext":{}}`, "BadEvent"},
		{"host in path", `{"httpMethod":"GET","path":"//evil.example/push","requestContext":{}}`, "BadEvent"},
		{"bad method", `{"httpMethod":"GE T","path":"/","requestContext":{}}`, "BadEvent"},
		{"object query value", `{"httpMethod":"GET","path":"/","queryString":{"a":{"b":1}},"requestContext":{}}`, "BadEvent"},
		{"handler panics", `{"httpMethod":"GET","path":"/panic","requestContext":{}}`, "Panic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := invoke(t, emu, []byte(tt.event))
			if got := errType(t, res); got != tt.errType {
				t.Errorf("error type = %q, want %q (reply %s)", got, tt.errType, res.Body)
			}
		})
	}
	// The loop survives every failure above.
	if res := invoke(t, emu, readTestdata(t, "apigw-healthz.json")); res.Error {
		t.Errorf("after failures: %s", res.Body)
	}
}

func TestServeNeverLogsPayloads(t *testing.T) {
	// The event's headers and body may carry credentials; an unknown event
	// is reported by its member names only.
	emu := start(t, echoHandler(t), nil)
	res := invoke(t, emu, []byte(`{"Authorization":"Basic c2VjcmV0","token":"s3cr3t-value"}`))
	if !res.Error || strings.Contains(string(res.Body), "s3cr3t-value") || strings.Contains(string(res.Body), "c2VjcmV0") {
		t.Errorf("error reply = %s", res.Body)
	}
}

func TestServeRuntimeGone(t *testing.T) {
	emu := scftest.NewServer()
	done := make(chan error, 1)
	go func() { done <- scf.Serve(context.Background(), emu.Addr, echoHandler(t), nil, nil) }()
	<-emu.Ready()
	emu.Close()
	if err := <-done; err == nil {
		t.Fatal("Serve = nil after the runtime API went away, want an error")
	}
}

func TestServeNoRuntime(t *testing.T) {
	emu := scftest.NewServer()
	addr := emu.Addr
	emu.Close()
	if err := scf.Serve(context.Background(), addr, echoHandler(t), nil, nil); err == nil || !strings.Contains(err.Error(), "ready") {
		t.Fatalf("Serve = %v, want an init/ready error", err)
	}
	if err := scf.Serve(context.Background(), "", echoHandler(t), nil, nil); err == nil {
		t.Fatal("Serve with no address = nil")
	}
}

func TestRequestIDOutsideInvocation(t *testing.T) {
	if id := scf.RequestID(context.Background()); id != "" {
		t.Errorf("RequestID = %q, want empty", id)
	}
}

// errType returns the errorType of an error reply, or "" for a success.
func errType(t *testing.T, res scftest.Result) string {
	t.Helper()
	if !res.Error {
		return ""
	}
	var e struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}
	if err := json.Unmarshal(res.Body, &e); err != nil || e.ErrorType == "" || e.ErrorMessage == "" {
		t.Fatalf("error body %s is not {errorType, errorMessage}", res.Body)
	}
	return e.ErrorType
}

func TestServeQueueEvents(t *testing.T) {
	var mu sync.Mutex
	var got []string
	emu := startQueue(t, echoHandler(t), nil, func(ctx context.Context, body []byte) error {
		if scf.RequestID(ctx) == "" {
			t.Error("queue function: context without the request id")
		}
		if _, ok := ctx.Deadline(); !ok {
			t.Error("queue function: context without the invocation's deadline")
		}
		mu.Lock()
		got = append(got, string(body))
		mu.Unlock()
		if strings.HasPrefix(string(body), "bad") {
			return errors.New("malformed dead-letter message")
		}
		return nil
	})
	emu.TimeLimit = 5 * time.Second
	ckafka := func(bodies ...string) string {
		var rs []string
		for i, b := range bodies {
			rs = append(rs, fmt.Sprintf(`{"Ckafka":{"topic":"dlq","partition":0,"offset":%d,"msgKey":"k","msgBody":%q}}`, 40+i, b))
		}
		return `{"Records":[` + strings.Join(rs, ",") + `]}`
	}
	many := make([]string, 8)
	for i := range many {
		many[i] = fmt.Sprintf("bad-%d", i)
	}
	tests := []struct {
		name    string
		event   string
		tried   []string
		errType string
		errHas  []string
	}{
		{"CMQ topic event", string(readTestdata(t, "cmq.json")), []string{"hello"}, "", nil},
		{"CKafka event", string(readTestdata(t, "ckafka.json")), []string{"hello", "world"}, "", nil},
		{"CMQ message as a list of tags", `{"Records":[{"CMQ":{"type":"topic","topicName":"t","msgId":"m-9","msgBody":"x","msgTag":["a","b"]}}]}`, []string{"x"}, "", nil},
		{"one failure fails the batch, every message is tried", ckafka("a", "bad", "c"), []string{"a", "bad", "c"}, "RecordsFailed",
			[]string{"1 of 3 messages failed", "ckafka dlq/0@41: malformed dead-letter message"}},
		{"CMQ failure names the message id", `{"Records":[{"CMQ":{"topicName":"t","msgId":"m-7","msgBody":"bad"}}]}`, []string{"bad"}, "RecordsFailed",
			[]string{"cmq t msgId m-7"}},
		{"many failures are cut short", ckafka(many...), many, "RecordsFailed", []string{"8 of 8 messages failed", "@44", "…"}},
		{"mixed records", `{"Records":[{"CMQ":{"msgBody":"x"}},{"cos":{}}]}`, nil, "UnrecognizedEvent", nil},
		{"both kinds in one record", `{"Records":[{"CMQ":{"msgBody":"x"},"Ckafka":{"msgBody":"y"}}]}`, nil, "UnrecognizedEvent", nil},
		{"no records", `{"Records":[]}`, nil, "UnrecognizedEvent", nil},
		{"offset not a number", `{"Records":[{"Ckafka":{"offset":"36","msgBody":"x"}}]}`, nil, "UnrecognizedEvent", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			got = nil
			mu.Unlock()
			res := invoke(t, emu, []byte(tt.event))
			if et := errType(t, res); et != tt.errType {
				t.Fatalf("error type %q, want %q (reply %s)", et, tt.errType, res.Body)
			}
			for _, s := range tt.errHas {
				if !strings.Contains(string(res.Body), s) {
					t.Errorf("error %s does not say %q", res.Body, s)
				}
			}
			if tt.errType == "" && string(res.Body) != fmt.Sprintf(`{"records":%d}`, len(tt.tried)) {
				t.Errorf("reply %s", res.Body)
			}
			if tt.errType == "RecordsFailed" && strings.Count(string(res.Body), "malformed") > 5 {
				t.Errorf("error lists more than 5 failures: %s", res.Body)
			}
			mu.Lock()
			defer mu.Unlock()
			if !reflect.DeepEqual(got, tt.tried) {
				t.Errorf("tried %q, want %q", got, tt.tried)
			}
		})
	}
}

// Messages not yet tried when the invocation's time runs out fail the
// invocation without being tried.
func TestServeQueueDeadline(t *testing.T) {
	var tried []string
	emu := startQueue(t, echoHandler(t), nil, func(ctx context.Context, body []byte) error {
		tried = append(tried, string(body))
		<-ctx.Done() // the first message takes all the time there is
		return ctx.Err()
	})
	emu.TimeLimit = 50 * time.Millisecond
	res := invoke(t, emu, readTestdata(t, "ckafka.json"))
	if errType(t, res) != "RecordsFailed" || !strings.Contains(string(res.Body), "2 of 2") || !strings.Contains(string(res.Body), "not attempted") {
		t.Fatalf("reply %s", res.Body)
	}
	if !reflect.DeepEqual(tried, []string{"hello"}) {
		t.Errorf("tried %q, want only the first message", tried)
	}
}
