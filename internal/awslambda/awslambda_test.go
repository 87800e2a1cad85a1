package awslambda_test

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
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/ccc-enricher/ccc-enricher/internal/awslambda"
	"github.com/ccc-enricher/ccc-enricher/internal/platform"
	"github.com/ccc-enricher/ccc-enricher/internal/testenv"
)

// echo is what echoHandler saw of a request.
type echo struct {
	Method      string              `json:"method"`
	Path        string              `json:"path"`
	RawQuery    string              `json:"rawQuery"`
	Query       map[string][]string `json:"query"`
	Host        string              `json:"host"`
	RemoteAddr  string              `json:"remoteAddr"`
	Header      http.Header         `json:"header"`
	Body        string              `json:"body"`
	AWSRequest  string              `json:"awsRequest"`
	HasDeadline bool                `json:"hasDeadline"`
}

func echoHandler(t *testing.T) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read body: %v", err)
		}
		switch r.URL.Path {
		case "/binary":
			w.Header().Set("Content-Type", "image/png")
			w.Write([]byte{0x89, 'P', 'N', 'G', 0xff})
			return
		case "/multi":
			http.SetCookie(w, &http.Cookie{Name: "a", Value: "1"})
			http.SetCookie(w, &http.Cookie{Name: "b", Value: "2"})
			w.Header().Add("Vary", "Accept")
			w.Header().Add("Vary", "Origin")
			w.WriteHeader(http.StatusCreated)
			w.WriteHeader(http.StatusTeapot) // ignored, as by net/http
			io.WriteString(w, `{"made":true}`)
			return
		case "/empty":
			w.Header().Set("X-Only", "header")
			return
		}
		lc, _ := lambdacontext.FromContext(r.Context())
		_, dl := r.Context().Deadline()
		e := echo{
			Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Query: r.URL.Query(),
			Host: r.Host, RemoteAddr: r.RemoteAddr, Header: r.Header, Body: string(body), HasDeadline: dl,
		}
		if lc != nil {
			e.AWSRequest = lc.AwsRequestID
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(e)
	})
}

// invocationContext is what lambda.Start gives the handler: the Lambda
// context and the invocation's deadline.
func invocationContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: "aws-req-1"})
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// responseBody returns the status and body of any of the three replies.
func responseBody(t *testing.T, resp any) (int, string) {
	t.Helper()
	var status int
	var body string
	var b64 bool
	switch r := resp.(type) {
	case events.APIGatewayProxyResponse:
		status, body, b64 = r.StatusCode, r.Body, r.IsBase64Encoded
	case events.APIGatewayV2HTTPResponse:
		status, body, b64 = r.StatusCode, r.Body, r.IsBase64Encoded
	case events.LambdaFunctionURLResponse:
		status, body, b64 = r.StatusCode, r.Body, r.IsBase64Encoded
	default:
		t.Fatalf("reply is a %T", resp)
	}
	if b64 {
		b, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			t.Fatal(err)
		}
		body = string(b)
	}
	return status, body
}

func TestHTTPEvents(t *testing.T) {
	h := awslambda.NewHandler(echoHandler(t), nil, nil)
	tests := []struct {
		name       string
		event      []byte
		reply      any // zero value of the expected reply type
		method     string
		path       string
		query      map[string][]string
		host       string
		remoteAddr string
		requestID  string
		headers    map[string][]string
		body       string
	}{{
		name: "aws-lambda-go apigw-request.json", event: testenv.LambdaFixture(t, "apigw-request.json"),
		reply: events.APIGatewayProxyResponse{}, method: "POST", path: "/hello/world",
		query: map[string][]string{"name": {"me"}}, host: "gy415nuibc.execute-api.us-east-2.amazonaws.com",
		remoteAddr: "192.168.196.186", requestID: "deef4878-7910-11e6-8f14-25afc3e9ae33",
		headers: map[string][]string{"Headername": {"headerValue"}, "Accept-Encoding": {"gzip, deflate"}},
		body:    "{\r\n\t\"a\": 1\r\n}",
	}, {
		name: "aws-lambda-go apigw-v2-request-no-authorizer.json", event: testenv.LambdaFixture(t, "apigw-v2-request-no-authorizer.json"),
		reply: events.APIGatewayV2HTTPResponse{}, method: "GET", path: "/", query: map[string][]string{},
		host: "aaaaaaaaaa.execute-api.us-west-2.amazonaws.com", remoteAddr: "1.2.3.4", requestID: "LV7fzho-PHcEJPw=",
		headers: map[string][]string{"User-Agent": {"curl/7.58.0"}},
	}, {
		name: "aws-lambda-go lambda-urls-request.json", event: testenv.LambdaFixture(t, "lambda-urls-request.json"),
		reply: events.LambdaFunctionURLResponse{}, method: "POST", path: "/my/path",
		query: map[string][]string{"parameter1": {"value1", "value2"}, "parameter2": {"value"}},
		host:  "<url-id>.lambda-url.us-west-2.on.aws", remoteAddr: "123.123.123.123", requestID: "id",
		headers: map[string][]string{"Header2": {"value1", "value2"}, "Cookie": {"cookie1", "cookie2"}},
		body:    "Hello from client!",
	}, {
		name: "REST behind a base path mapping", event: readTestdata(t, "rest-base-path.json"),
		reply: events.APIGatewayProxyResponse{}, method: "POST", path: "/sessions/session-0001/enrich",
		query: map[string][]string{"a": {"1", "2"}, "force": {"true"}}, host: "calls.example.com",
		remoteAddr: "198.51.100.10", requestID: "rest-request-0001",
		headers: map[string][]string{"X-Multi": {"one", "two"}}, body: `{"force":true}`,
	}, {
		name: "REST proxy resource", event: readTestdata(t, "rest-proxy.json"),
		reply: events.APIGatewayProxyResponse{}, method: "POST", path: "/push",
		query: map[string][]string{"action": {"cdr"}, "version": {"1"}},
		host:  "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com", remoteAddr: "198.51.100.11", requestID: "client-id-1",
		headers: map[string][]string{"X-Tccc-Push-Uuid": {"rest-uuid-1"}}, body: `{"SessionId":"s"}`,
	}, {
		name: "HTTP API on a named stage", event: readTestdata(t, "httpapi-named-stage.json"),
		reply: events.APIGatewayV2HTTPResponse{}, method: "POST", path: "/push",
		query: map[string][]string{"action": {"cdr"}, "version": {"1"}},
		host:  "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com", remoteAddr: "198.51.100.12", requestID: "v2-request-0001",
		headers: map[string][]string{"Cookie": {"session=abc", "theme=dark"}, "Accept": {"application/json", "text/plain"}},
		body:    `{"SessionId":"v2"}`,
	}, {
		name: "HTTP API default route on a named stage", event: readTestdata(t, "httpapi-default-route.json"),
		reply: events.APIGatewayV2HTTPResponse{}, method: "GET", path: "/healthz", query: map[string][]string{},
		host: "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com", remoteAddr: "198.51.100.13", requestID: "v2-request-0002",
	}, {
		name: "HTTP API payload 1.0", event: readTestdata(t, "httpapi-payload1.json"),
		reply: events.APIGatewayProxyResponse{}, method: "GET", path: "/healthz", query: map[string][]string{},
		host: "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com", remoteAddr: "198.51.100.14", requestID: "v1-httpapi-0001",
	}, {
		name: "function URL with a routeKey", event: readTestdata(t, "function-url.json"),
		reply: events.LambdaFunctionURLResponse{}, method: "POST", path: "/oauth/token", query: map[string][]string{},
		host: "abcdefghij.lambda-url.eu-west-1.on.aws", remoteAddr: "198.51.100.15", requestID: "url-request-0001",
		headers: map[string][]string{"Authorization": {"Basic Y2xpZW50OnNlY3JldA=="}},
		body:    "grant_type=client_credentials",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := h(invocationContext(t), tt.event)
			if err != nil {
				t.Fatal(err)
			}
			if reflect.TypeOf(resp) != reflect.TypeOf(tt.reply) {
				t.Fatalf("reply is a %T, want %T", resp, tt.reply)
			}
			status, body := responseBody(t, resp)
			if status != 200 {
				t.Fatalf("status %d: %s", status, body)
			}
			var got echo
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("%v: %s", err, body)
			}
			if got.Method != tt.method || got.Path != tt.path {
				t.Errorf("request = %s %s, want %s %s", got.Method, got.Path, tt.method, tt.path)
			}
			if !reflect.DeepEqual(got.Query, tt.query) {
				t.Errorf("query = %v, want %v", got.Query, tt.query)
			}
			if got.Host != tt.host || got.RemoteAddr != tt.remoteAddr {
				t.Errorf("host, remote = %q, %q; want %q, %q", got.Host, got.RemoteAddr, tt.host, tt.remoteAddr)
			}
			if id := got.Header.Get("X-Request-Id"); id != tt.requestID {
				t.Errorf("X-Request-Id = %q, want %q", id, tt.requestID)
			}
			for k, v := range tt.headers {
				if g := got.Header.Values(k); !reflect.DeepEqual(g, v) {
					t.Errorf("header %s = %q, want %q", k, g, v)
				}
			}
			if got.Body != tt.body {
				t.Errorf("body = %q, want %q", got.Body, tt.body)
			}
			if got.AWSRequest != "aws-req-1" || !got.HasDeadline {
				t.Errorf("request context lost the Lambda context (%q) or deadline (%v)", got.AWSRequest, got.HasDeadline)
			}
		})
	}
}

func TestHTTPReplies(t *testing.T) {
	h := awslambda.NewHandler(echoHandler(t), nil, nil)
	withPath := func(t *testing.T, file, path string) []byte {
		var ev map[string]any
		if err := json.Unmarshal(readTestdata(t, file), &ev); err != nil {
			t.Fatal(err)
		}
		if _, ok := ev["rawPath"]; ok {
			ev["rawPath"] = path
			ev["routeKey"] = "$default"
		} else {
			ev["path"], ev["resource"] = path, path
		}
		b, _ := json.Marshal(ev)
		return b
	}
	binary := base64.StdEncoding.EncodeToString([]byte{0x89, 'P', 'N', 'G', 0xff})
	tests := []struct {
		file, path string
		want       any
	}{
		{"rest-proxy.json", "/binary", events.APIGatewayProxyResponse{StatusCode: 200, IsBase64Encoded: true, Body: binary,
			MultiValueHeaders: map[string][]string{"Content-Type": {"image/png"}}}},
		{"rest-proxy.json", "/multi", events.APIGatewayProxyResponse{StatusCode: 201, Body: `{"made":true}`,
			MultiValueHeaders: map[string][]string{"Set-Cookie": {"a=1", "b=2"}, "Vary": {"Accept", "Origin"}, "Content-Type": {"text/plain; charset=utf-8"}}}},
		{"rest-proxy.json", "/empty", events.APIGatewayProxyResponse{StatusCode: 200,
			MultiValueHeaders: map[string][]string{"X-Only": {"header"}}}},
		{"httpapi-named-stage.json", "/binary", events.APIGatewayV2HTTPResponse{StatusCode: 200, IsBase64Encoded: true, Body: binary,
			Headers: map[string]string{"Content-Type": "image/png"}, Cookies: []string{}}},
		{"httpapi-named-stage.json", "/multi", events.APIGatewayV2HTTPResponse{StatusCode: 201, Body: `{"made":true}`,
			Headers: map[string]string{"Vary": "Accept,Origin", "Content-Type": "text/plain; charset=utf-8"}, Cookies: []string{"a=1", "b=2"}}},
		{"httpapi-named-stage.json", "/empty", events.APIGatewayV2HTTPResponse{StatusCode: 200,
			Headers: map[string]string{"X-Only": "header"}, Cookies: []string{}}},
		{"function-url.json", "/multi", events.LambdaFunctionURLResponse{StatusCode: 201, Body: `{"made":true}`,
			Headers: map[string]string{"Vary": "Accept,Origin", "Content-Type": "text/plain; charset=utf-8"}, Cookies: []string{"a=1", "b=2"}}},
		{"function-url.json", "/empty", events.LambdaFunctionURLResponse{StatusCode: 200,
			Headers: map[string]string{"X-Only": "header"}, Cookies: []string{}}},
	}
	for _, tt := range tests {
		t.Run(tt.file+tt.path, func(t *testing.T) {
			got, err := h(invocationContext(t), withPath(t, tt.file, tt.path))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("reply = %#v\nwant    %#v", got, tt.want)
			}
		})
	}
}

func TestScheduledEvents(t *testing.T) {
	type run struct {
		name string
		at   time.Time
	}
	runs := make(chan run, 1)
	job := func(name string, err error) platform.Job {
		return func(ctx context.Context, at time.Time) error {
			if _, ok := lambdacontext.FromContext(ctx); !ok {
				t.Errorf("job %s: context without the Lambda context", name)
			}
			runs <- run{name, at}
			return err
		}
	}
	h := awslambda.NewHandler(echoHandler(t), platform.Jobs{
		"reconcile": job("reconcile", nil),
		"backfill":  job("backfill", nil),
		"broken":    job("broken", errors.New("sink down")),
	}, nil)
	tests := []struct {
		name    string
		event   string
		job     string
		at      string
		wantErr string
	}{
		{"EventBridge schedule", string(readTestdata(t, "schedule.json")), "reconcile", "2026-01-02T03:10:00Z", ""},
		{"EventBridge Scheduler", `{"version":"0","detail-type":"Scheduled Event","source":"aws.scheduler","time":"2026-01-02T03:10:00Z","detail":{}}`, "reconcile", "2026-01-02T03:10:00Z", ""},
		{"detail names the job", `{"detail-type":"Scheduled Event","source":"aws.events","time":"2026-01-02T03:10:00Z","detail":{"job":"backfill"}}`, "backfill", "2026-01-02T03:10:00Z", ""},
		{"job event", string(readTestdata(t, "job.json")), "reconcile", "2026-01-02T03:20:00Z", ""},
		{"job fails", `{"job":"broken","time":"2026-01-02T03:20:00Z"}`, "broken", "2026-01-02T03:20:00Z", "job broken for 2026-01-02T03:20:00Z: sink down"},
		{"unknown job", `{"job":"nope"}`, "", "", `no job named "nope"`},
		{"unknown job in detail", `{"detail-type":"Scheduled Event","source":"aws.events","time":"2026-01-02T03:10:00Z","detail":{"job":"nope"}}`, "", "", `no job named "nope"`},
		{"bad job time", `{"job":"reconcile","time":"yesterday"}`, "", "", "not RFC 3339"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := h(invocationContext(t), json.RawMessage(tt.event))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err = %v, want %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if b, _ := json.Marshal(resp); !strings.Contains(string(b), `"job":"`+tt.job+`"`) {
				t.Errorf("reply = %s", b)
			}
			if tt.job == "" {
				select {
				case r := <-runs:
					t.Errorf("ran %s", r.name)
				default:
				}
				return
			}
			r := <-runs
			at, _ := time.Parse(time.RFC3339, tt.at)
			if r.name != tt.job || !r.at.Equal(at) {
				t.Errorf("ran %s for %v, want %s for %v", r.name, r.at, tt.job, at)
			}
		})
	}
	// EventBridge Scheduler sends {} to a target without input.
	for _, ev := range []string{`{}`, " {\n} "} {
		t.Run("empty event "+strconv.Quote(ev), func(t *testing.T) {
			before := time.Now()
			resp, err := h(invocationContext(t), json.RawMessage(ev))
			if err != nil {
				t.Fatal(err)
			}
			r := <-runs
			if r.name != platform.DefaultJob || r.at.Before(before) || r.at.After(time.Now()) {
				t.Errorf("ran %s for %v, want %s for the time of the run", r.name, r.at, platform.DefaultJob)
			}
			if b, _ := json.Marshal(resp); !strings.Contains(string(b), `"job":"`+platform.DefaultJob+`"`) {
				t.Errorf("reply = %s", b)
			}
		})
	}
	t.Run("job event without time", func(t *testing.T) {
		before := time.Now()
		if _, err := h(invocationContext(t), json.RawMessage(`{"job":"backfill"}`)); err != nil {
			t.Fatal(err)
		}
		if r := <-runs; r.at.Before(before) {
			t.Errorf("ran for %v, want the time of the run", r.at)
		}
	})
}

func TestUnrecognizedEvents(t *testing.T) {
	h := awslambda.NewHandler(echoHandler(t), platform.Jobs{"reconcile": func(context.Context, time.Time) error {
		t.Error("job ran for an unrecognized event")
		return nil
	}}, nil)
	tests := []struct{ name, event string }{
		{"SQS", string(readTestdata(t, "sqs.json"))},
		{"ALB", string(readTestdata(t, "alb.json"))},
		{"null", `null`},
		{"object with an unknown member", `{"input":""}`},
		{"WebSocket $connect", string(testenv.LambdaFixture(t, "apigw-websocket-request.json"))},
		{"WebSocket message", string(testenv.LambdaFixture(t, "apigw-websocket-request-send-message.json"))},
		{"WebSocket $disconnect", string(testenv.LambdaFixture(t, "apigw-websocket-request-disconnect.json"))},
		{"WebSocket by eventType", `{"httpMethod":"POST","path":"/push","requestContext":{"eventType":"MESSAGE"}}`},
		{"WebSocket by connectionId", `{"httpMethod":"POST","path":"/push","requestContext":{"connectionId":"abc="}}`},
		{"WebSocket by routeKey", `{"httpMethod":"POST","path":"/push","requestContext":{"routeKey":"$default"}}`},
		{"array", `[]`},
		{"string", `"push"`},
		{"other EventBridge event", `{"detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","detail":{}}`},
		{"schedule from elsewhere", `{"detail-type":"Scheduled Event","source":"my.app","detail":{}}`},
		{"payload 3.0", `{"version":"3.0","routeKey":"$default","requestContext":{"http":{"method":"GET"}}}`},
		{"2.0 without method", `{"version":"2.0","routeKey":"$default","rawPath":"/","requestContext":{}}`},
		{"bad base64", `{"httpMethod":"POST","path":"/push","body":"%%%","isBase64Encoded":true,"requestContext":{}}`},
		{"bad method", `{"httpMethod":"GE T","path":"/push","requestContext":{}}`},
		{"bad URL", `{"version":"2.0","routeKey":"$default","rawPath":"/%zz","requestContext":{"http":{"method":"GET"}}}`},
		{"relative path", `{"version":"2.0","rawPath":"push","requestContext":{"http":{"method":"GET"}}}`},
		{"secret in unknown event", `{"Authorization":"Bearer s3cr3t-token"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := h(invocationContext(t), json.RawMessage(tt.event))
			if err == nil {
				t.Fatalf("reply %#v, want an error", resp)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error %q quotes the event", err)
			}
		})
	}
}

// sqsEvent is aws-lambda-go's SQS fixture with one message per body, ids
// m-0, m-1, ..., from the queue named by arn.
func sqsEvent(t *testing.T, arn string, bodies ...string) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(testenv.LambdaFixture(t, "sqs-event.json"), &ev); err != nil {
		t.Fatal(err)
	}
	proto := ev["Records"].([]any)[0].(map[string]any)
	var records []any
	for i, b := range bodies {
		m := make(map[string]any, len(proto))
		for k, v := range proto {
			m[k] = v
		}
		m["messageId"], m["body"], m["eventSourceARN"] = fmt.Sprintf("m-%d", i), b, arn
		records = append(records, m)
	}
	ev["Records"] = records
	out, _ := json.Marshal(ev)
	return out
}

func TestSQSEvents(t *testing.T) {
	const (
		standard = "arn:aws:sqs:us-west-2:123456789012:ccc-enricher-dlq"
		fifo     = "arn:aws:sqs:us-west-2:123456789012:ccc-enricher-dlq.fifo"
	)
	tests := []struct {
		name     string
		event    []byte
		deadline bool // the invocation's deadline has passed
		tried    []string
		failed   []string
	}{
		{"aws-lambda-go sqs-event.json", testenv.LambdaFixture(t, "sqs-event.json"), false, []string{"Message Body"}, []string{}},
		{"all succeed", sqsEvent(t, standard, "a", "b", "c"), false, []string{"a", "b", "c"}, []string{}},
		{"some fail", sqsEvent(t, standard, "a", "bad", "c", "bad"), false, []string{"a", "bad", "c", "bad"}, []string{"m-1", "m-3"}},
		{"FIFO stops at the first failure", sqsEvent(t, fifo, "a", "bad", "c", "d"), false, []string{"a", "bad"}, []string{"m-1", "m-2", "m-3"}},
		{"deadline passed", sqsEvent(t, standard, "a", "b"), true, nil, []string{"m-0", "m-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tried []string
			h := awslambda.NewHandler(echoHandler(t), nil, func(ctx context.Context, body []byte) error {
				if _, ok := lambdacontext.FromContext(ctx); !ok {
					t.Error("queue function: context without the Lambda context")
				}
				tried = append(tried, string(body))
				if string(body) == "bad" {
					return errors.New("malformed")
				}
				return nil
			})
			ctx := invocationContext(t)
			if tt.deadline {
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, time.Now().Add(-time.Second))
				defer cancel()
			}
			resp, err := h(ctx, tt.event)
			if err != nil {
				t.Fatal(err)
			}
			r, ok := resp.(events.SQSEventResponse)
			if !ok {
				t.Fatalf("reply is a %T, want events.SQSEventResponse", resp)
			}
			failed := []string{}
			for _, f := range r.BatchItemFailures {
				failed = append(failed, f.ItemIdentifier)
			}
			if !reflect.DeepEqual(failed, tt.failed) || !reflect.DeepEqual(tried, tt.tried) {
				t.Errorf("tried %q, failed %q; want tried %q, failed %q", tried, failed, tt.tried, tt.failed)
			}
			// The reply Lambda sends back to the event source mapping.
			b, _ := json.Marshal(resp)
			if !strings.HasPrefix(string(b), `{"batchItemFailures":[`) {
				t.Errorf("reply JSON %s", b)
			}
		})
	}
}

// Without a queue function, and for records of another source, an SQS-like
// event is an error, never a silent success.
func TestSQSEventsRefused(t *testing.T) {
	queue := func(context.Context, []byte) error {
		t.Error("queue function ran")
		return nil
	}
	mixed := `{"Records":[{"messageId":"m-0","body":"a","eventSource":"aws:sqs"},{"eventSource":"aws:s3"}]}`
	tests := []struct {
		name  string
		queue platform.Queue
		event string
	}{
		{"no queue function", nil, string(sqsEvent(t, "arn:aws:sqs:us-west-2:123456789012:q", "a"))},
		{"S3 records", queue, `{"Records":[{"eventSource":"aws:s3"}]}`},
		{"mixed records", queue, mixed},
		{"no records", queue, `{"Records":[]}`},
		{"records not a list", queue, `{"Records":{"eventSource":"aws:sqs"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := awslambda.NewHandler(echoHandler(t), nil, tt.queue)
			if resp, err := h(invocationContext(t), json.RawMessage(tt.event)); err == nil {
				t.Fatalf("reply %#v, want an error", resp)
			}
		})
	}
}
