package main

// Bootstrap-level tests: the real executable under the AWS Lambda Runtime
// Interface Emulator and under an emulated SCF runtime API, with the
// embedded CCC API emulator behind it (CCC_ENDPOINT=emulator) and records
// printed to standard output (SINK=stdout).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/push"
	"github.com/ccc-enricher/ccc-enricher/internal/record"
	"github.com/ccc-enricher/ccc-enricher/internal/scf/scftest"
	"github.com/ccc-enricher/ccc-enricher/internal/tcemu"
	"github.com/ccc-enricher/ccc-enricher/internal/testenv"
)

func TestBootstrap(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bootstrap executable")
	}
	bin := buildBootstrap(t, "-tags", "lambda.norpc")
	sample, err := tcemu.LoadSamples(tcemu.New(tcemu.Options{SecretID: "x", SecretKey: "y"}), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"CCC_ENDPOINT=emulator",
		"SINK=stdout",
		"PUSH_AUTH=none",
		"CCC_SDK_APP_IDS=" + strconv.FormatInt(sample.SdkAppID, 10),
		"LOG_LEVEL=debug",
	}
	t.Run("aws-lambda-rie", func(t *testing.T) { testRIE(t, bin, env, sample) })
	t.Run("scf-runtime-api", func(t *testing.T) { testSCF(t, bin, env, sample) })
}

// cccReply is CCC's expected reply to a push.
type cccReply struct {
	ErrCode *int   `json:"ErrCode"`
	ErrMsg  string `json:"ErrMsg"`
}

func checkAccepted(t *testing.T, status int, body string) {
	t.Helper()
	var r cccReply
	if err := json.Unmarshal([]byte(body), &r); status != 200 || err != nil || r.ErrCode == nil || *r.ErrCode != 0 || r.ErrMsg != "ok" {
		t.Fatalf("push reply %d %s, want 200 {\"ErrCode\":0,\"ErrMsg\":\"ok\"}", status, body)
	}
}

func testRIE(t *testing.T, bin string, env []string, sample tcemu.Sample) {
	rie, err := exec.LookPath("aws-lambda-rie")
	if err != nil {
		if out, gerr := exec.Command("go", "env", "GOPATH").Output(); gerr == nil {
			p := filepath.Join(strings.TrimSpace(string(out)), "bin", "aws-lambda-rie")
			if _, serr := os.Stat(p); serr == nil {
				rie, err = p, nil
			}
		}
	}
	if err != nil {
		if os.Getenv("CCC_ENRICHER_REQUIRE_RIE") == "1" {
			t.Fatal("aws-lambda-rie not found and CCC_ENRICHER_REQUIRE_RIE=1")
		}
		t.Skip("aws-lambda-rie not found; go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@latest (CI sets CCC_ENRICHER_REQUIRE_RIE=1)")
	}
	addr := freeAddr(t)
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", addr, bin)
	cmd.Env = append(env, "AWS_LAMBDA_FUNCTION_TIMEOUT=30", "AWS_REGION=us-east-1")
	out := startProcess(t, cmd)
	url := "http://" + addr + "/2015-03-31/functions/function/invocations"
	waitListening(t, addr)

	invoke := func(t *testing.T, event []byte) map[string]any {
		t.Helper()
		resp, err := http.Post(url, "application/json", bytes.NewReader(event))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("RIE reply %d %s: %v\n%s", resp.StatusCode, b, err, out.stderr())
		}
		return m
	}
	httpReply := func(t *testing.T, m map[string]any) (int, string) {
		t.Helper()
		status, _ := m["statusCode"].(float64)
		body, _ := m["body"].(string)
		if b64, _ := m["isBase64Encoded"].(bool); b64 {
			b, _ := base64.StdEncoding.DecodeString(body)
			body = string(b)
		}
		if status == 0 {
			t.Fatalf("not an HTTP reply: %v\n%s", m, out.stderr())
		}
		return int(status), body
	}

	for i, name := range []string{"apigw-request.json", "apigw-v2-request-no-authorizer.json", "lambda-urls-request.json"} {
		t.Run(name, func(t *testing.T) {
			event := pushEvent(t, testenv.LambdaFixture(t, name), sample.CDRPush, fmt.Sprintf("rie-push-%d", i))
			status, body := httpReply(t, invoke(t, event))
			checkAccepted(t, status, body)
			out.waitRecord(t, sample.SessionID)
		})
	}
	t.Run("push metrics in EMF", func(t *testing.T) {
		m := out.waitMetrics(t, "http", true)
		checkMetrics(t, m, "Kind", "ErrCode", "Sink", "Pushes", "DetailLatency", "DetailAttempts", "RequestLimitExceeded", "SinkLatency", "SinkAttempts", "SinkDelivered")
		if m["Kind"] != "cdr" || m["ErrCode"] != "0" || m["Sink"] != "stdout" {
			t.Errorf("dimensions Kind %v ErrCode %v Sink %v", m["Kind"], m["ErrCode"], m["Sink"])
		}
	})
	t.Run("GET /healthz", func(t *testing.T) {
		ev := mutateJSON(t, testenv.LambdaFixture(t, "apigw-v2-request-no-authorizer.json"), func(e map[string]any) {
			e["rawPath"] = "/healthz"
			e["requestContext"].(map[string]any)["http"].(map[string]any)["path"] = "/healthz"
		})
		if status, body := httpReply(t, invoke(t, ev)); status != 200 {
			t.Fatalf("healthz %d %s", status, body)
		}
	})
	t.Run("scheduled event", func(t *testing.T) {
		m := invoke(t, []byte(`{"version":"0","id":"x","detail-type":"Scheduled Event","source":"aws.events","time":"2026-01-02T03:10:00Z","resources":[],"detail":{}}`))
		// The reconcile job ran: it either succeeded or reported its own
		// failure, never "no job" or an unrecognized event.
		if m["job"] != "reconcile" && !strings.Contains(fmt.Sprint(m["errorMessage"]), "job reconcile") {
			t.Fatalf("scheduled event reply %v", m)
		}
	})
	t.Run("scheduled run metrics in EMF", func(t *testing.T) {
		now := time.Now().UTC().Format(time.RFC3339)
		invoke(t, []byte(`{"version":"0","id":"y","detail-type":"Scheduled Event","source":"aws.events","time":"`+now+`","resources":[],"detail":{}}`))
		m := out.waitMetrics(t, "reconcile", true, "TelCdrLatency")
		checkMetrics(t, m, "Operation", "ReconcileSeen", "ReconcileInSlot", "ReconcileSent", "ReconcileFailed", "TelCdrLatency")
	})
	t.Run("EventBridge Scheduler without input", func(t *testing.T) {
		m := invoke(t, []byte(`{}`))
		if m["job"] != "reconcile" && !strings.Contains(fmt.Sprint(m["errorMessage"]), "job reconcile") {
			t.Fatalf("{} reply %v, want the reconcile job run", m)
		}
	})
	t.Run("WebSocket event", func(t *testing.T) {
		m := invoke(t, testenv.LambdaFixture(t, "apigw-websocket-request.json"))
		if !strings.Contains(fmt.Sprint(m["errorMessage"]), "unrecognized event") {
			t.Fatalf("reply %v, want an unrecognized-event error", m)
		}
	})
	t.Run("SQS redrive", func(t *testing.T) {
		partial, id := partialRecord(t, sample)
		ev := mutateJSON(t, testenv.LambdaFixture(t, "sqs-event.json"), func(e map[string]any) {
			proto := e["Records"].([]any)[0].(map[string]any)
			bad := make(map[string]any, len(proto))
			for k, v := range proto {
				bad[k] = v
			}
			proto["messageId"], proto["body"] = "redrive-1", string(partial)
			bad["messageId"], bad["body"] = "redrive-2", "not a record"
			e["Records"] = []any{proto, bad}
		})
		m := invoke(t, ev)
		// The record was redriven; the malformed message alone goes back.
		if fmt.Sprint(m["batchItemFailures"]) != "[map[itemIdentifier:redrive-2]]" {
			t.Fatalf("SQS reply %v, want the second message reported failed\n%s", m, out.stderr())
		}
		out.waitFullRecord(t, id)
	})
	t.Run("unrecognized event", func(t *testing.T) {
		m := invoke(t, []byte(`{"Records":[{"eventSource":"aws:s3"}]}`))
		if !strings.Contains(fmt.Sprint(m["errorMessage"]), "unrecognized event") {
			t.Fatalf("reply %v, want an unrecognized-event error", m)
		}
	})
}

func testSCF(t *testing.T, bin string, env []string, sample tcemu.Sample) {
	emu := scftest.NewServer()
	emu.TimeLimit = 30 * time.Second
	cmd := exec.Command(bin)
	cmd.Env = append(env, "SCF_RUNTIME_API="+emu.Host, "SCF_RUNTIME_API_PORT="+emu.Port)
	out := startProcess(t, cmd)
	select {
	case <-emu.Ready():
	case <-out.exited:
		t.Fatalf("bootstrap exited before init/ready\n%s", out.stderr())
	case <-time.After(20 * time.Second):
		t.Fatalf("no init/ready\n%s", out.stderr())
	}
	invoke := func(t *testing.T, event []byte) scftest.Result {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		res, err := emu.Invoke(ctx, event)
		if err != nil {
			t.Fatalf("%v\n%s", err, out.stderr())
		}
		return res
	}
	apigw := func(t *testing.T, res scftest.Result) (int, string) {
		t.Helper()
		if res.Error {
			t.Fatalf("invocation error %s\n%s", res.Body, out.stderr())
		}
		var r struct {
			IsBase64Encoded bool              `json:"isBase64Encoded"`
			StatusCode      int               `json:"statusCode"`
			Headers         map[string]string `json:"headers"`
			Body            string            `json:"body"`
		}
		if err := json.Unmarshal(res.Body, &r); err != nil {
			t.Fatalf("reply %s: %v", res.Body, err)
		}
		if r.IsBase64Encoded {
			b, _ := base64.StdEncoding.DecodeString(r.Body)
			r.Body = string(b)
		}
		return r.StatusCode, r.Body
	}
	event := func(method, path, query string, body []byte, b64 bool, uuid string) []byte {
		ev := map[string]any{
			"requestContext": map[string]any{
				"serviceId": "service-0ccc0001", "path": path, "httpMethod": "ANY",
				"requestId": "apigw-" + uuid, "identity": map[string]any{}, "sourceIp": "203.0.113.7", "stage": "release",
			},
			"headers": map[string]any{
				"host": "service-0ccc0001-1250000000.gz.apigw.tencentcs.com", "content-type": "application/json;charset=utf8",
				"x-tccc-push-uuid": uuid, "x-anonymous-consumer": "true",
			},
			"path": path, "httpMethod": method, "queryString": json.RawMessage(query),
			"body": string(body), "isBase64Encoded": b64,
		}
		if b64 {
			ev["body"] = base64.StdEncoding.EncodeToString(body)
		}
		b, _ := json.Marshal(ev)
		return b
	}

	t.Run("push", func(t *testing.T) {
		status, body := apigw(t, invoke(t, event("POST", "/push", `{"action":"cdr","version":"1"}`, sample.CDRPush, false, "scf-push-1")))
		checkAccepted(t, status, body)
		out.waitRecord(t, sample.SessionID)
	})
	t.Run("push with array, bare key and base64 body", func(t *testing.T) {
		status, body := apigw(t, invoke(t, event("POST", "/push", `{"action":["cdr"],"version":"1","trace":true}`, sample.CDRPush, true, "scf-push-2")))
		checkAccepted(t, status, body)
		out.waitRecord(t, sample.SessionID)
	})
	t.Run("push on the stage path", func(t *testing.T) {
		ev := mutateJSON(t, event("POST", "/push", `{"action":"cdr","version":"1"}`, sample.CDRPush, false, "scf-push-3"), func(e map[string]any) {
			e["path"] = "/release/push"
		})
		status, body := apigw(t, invoke(t, ev))
		checkAccepted(t, status, body)
		out.waitRecord(t, sample.SessionID)
	})
	t.Run("function URL push", func(t *testing.T) {
		// Tencent's documented function URL event, as in internal/scf's testdata.
		fixture, err := os.ReadFile(filepath.Join("..", "internal", "scf", "testdata", "function-url-push.json"))
		if err != nil {
			t.Fatal(err)
		}
		ev := mutateJSON(t, fixture, func(e map[string]any) {
			e["body"] = string(sample.CDRPush)
			h := e["headers"].(map[string]any)
			h["x-tccc-push-uuid"], h["content-length"] = "scf-url-1", strconv.Itoa(len(sample.CDRPush))
		})
		res := invoke(t, ev)
		if res.Error {
			t.Fatalf("invocation error %s\n%s", res.Body, out.stderr())
		}
		var r map[string]json.RawMessage
		if err := json.Unmarshal(res.Body, &r); err != nil || len(r) != 3 || r["headers"] == nil {
			t.Fatalf("reply %s: want {statusCode, headers, body}", res.Body)
		}
		var status int
		var body string
		json.Unmarshal(r["statusCode"], &status)
		json.Unmarshal(r["body"], &body)
		checkAccepted(t, status, body)
		out.waitRecord(t, sample.SessionID)
	})
	t.Run("push metrics", func(t *testing.T) {
		m := out.waitMetrics(t, "http", false)
		checkMetrics(t, m, "Kind", "ErrCode", "Sink", "Pushes", "DetailLatency", "DetailAttempts", "RequestLimitExceeded", "SinkLatency", "SinkAttempts", "SinkDelivered")
	})
	t.Run("GET /healthz", func(t *testing.T) {
		if status, body := apigw(t, invoke(t, event("GET", "/healthz", `{}`, nil, false, "scf-hz"))); status != 200 {
			t.Fatalf("healthz %d %s", status, body)
		}
	})
	t.Run("CKafka redrive", func(t *testing.T) {
		partial, id := partialRecord(t, sample)
		ev, _ := json.Marshal(map[string]any{"Records": []any{
			map[string]any{"Ckafka": map[string]any{"topic": "ccc-enricher-dlq", "partition": 0, "offset": 7, "msgKey": sample.SessionID, "msgBody": string(partial)}},
		}})
		if res := invoke(t, ev); res.Error || string(res.Body) != `{"records":1}` {
			t.Fatalf("reply error=%v %s\n%s", res.Error, res.Body, out.stderr())
		}
		out.waitFullRecord(t, id)
	})
	t.Run("CMQ message that is not a record", func(t *testing.T) {
		res := invoke(t, []byte(`{"Records":[{"CMQ":{"type":"topic","topicName":"dlq","msgId":"m-1","msgBody":"x"}}]}`))
		if !res.Error || !strings.Contains(string(res.Body), "RecordsFailed") || !strings.Contains(string(res.Body), "malformed") {
			t.Fatalf("reply error=%v %s, want a RecordsFailed error", res.Error, res.Body)
		}
	})
	t.Run("unknown event", func(t *testing.T) {
		res := invoke(t, []byte(`{"Records":[{"cos":{"cosBucket":{"name":"x"}}}]}`))
		if !res.Error || !strings.Contains(string(res.Body), "UnrecognizedEvent") {
			t.Fatalf("reply error=%v %s, want an UnrecognizedEvent error", res.Error, res.Body)
		}
	})
	t.Run("timer", func(t *testing.T) {
		res := invoke(t, []byte(`{"Type":"Timer","TriggerName":"reconcile","Time":"2026-01-02T03:10:00Z","Message":"reconcile"}`))
		// The reconcile job ran: a reply naming it, or the job's own failure.
		ok := !res.Error && strings.Contains(string(res.Body), `"job":"reconcile"`) ||
			res.Error && strings.Contains(string(res.Body), "JobFailed")
		if !ok {
			t.Fatalf("timer reply error=%v %s", res.Error, res.Body)
		}
	})
	t.Run("timer run metrics", func(t *testing.T) {
		now := time.Now().UTC().Format(time.RFC3339)
		invoke(t, []byte(`{"Type":"Timer","TriggerName":"reconcile","Time":"`+now+`","Message":"reconcile"}`))
		m := out.waitMetrics(t, "reconcile", false, "TelCdrLatency")
		checkMetrics(t, m, "Operation", "ReconcileSeen", "ReconcileInSlot", "ReconcileSent", "ReconcileFailed", "TelCdrLatency")
	})
	if err := emu.Err(); err != nil {
		t.Errorf("runtime API protocol violations:\n%v", err)
	}
	// Once the runtime API is gone, bootstrap exits with an error.
	emu.Close()
	select {
	case <-out.exited:
		if cmd.ProcessState.Success() {
			t.Errorf("bootstrap exited with success after losing the runtime API")
		}
	case <-time.After(20 * time.Second):
		t.Errorf("bootstrap still running after the runtime API went away")
	}
}

// process is a running child: its standard output as lines, its standard
// error kept for failure messages.
type process struct {
	lines  chan string
	exited chan struct{}
	errBuf testenv.Buffer
	// all is every line of standard output, for waitMetrics: under
	// aws-lambda-rie the function's standard error arrives there.
	all testenv.Buffer
	// metricsSeen are the metrics lines waitMetrics has returned.
	metricsSeen map[string]bool
}

func (p *process) stderr() string { return p.errBuf.String() }

// startProcess starts cmd and stops it at the end of the test.
func startProcess(t *testing.T, cmd *exec.Cmd) *process {
	t.Helper()
	p := &process{lines: make(chan string, 10000), exited: make(chan struct{})}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = &p.errBuf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			p.all.Write([]byte(sc.Text() + "\n"))
			select {
			case p.lines <- sc.Text():
			default: // nobody reads that far; drop rather than block the child
			}
		}
	}()
	go func() {
		<-scanned
		cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("%s stderr:\n%s", filepath.Base(cmd.Path), p.stderr())
		}
	})
	return p
}

// outRecord is what the tests read of a record on standard output.
type outRecord struct {
	SchemaVersion string          `json:"schemaVersion"`
	ID            string          `json:"id"`
	SessionID     string          `json:"sessionId"`
	Completeness  string          `json:"completeness"`
	Detail        json.RawMessage `json:"detail"`
}

// waitFor waits for the first record on standard output that match
// accepts; what names it in the failure messages.
func (p *process) waitFor(t *testing.T, what string, match func(outRecord) bool) outRecord {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case line := <-p.lines:
			var rec outRecord
			if json.Unmarshal([]byte(line), &rec) == nil && match(rec) {
				return rec
			}
		case <-p.exited:
			t.Fatalf("process exited before printing %s\n%s", what, p.stderr())
		case <-timeout:
			t.Fatalf("no %s on standard output\n%s", what, p.stderr())
		}
	}
}

// waitRecord waits for the enriched record of sessionID on standard output.
func (p *process) waitRecord(t *testing.T, sessionID string) {
	t.Helper()
	p.waitFor(t, "the record of "+sessionID, func(r outRecord) bool { return r.SchemaVersion != "" && r.SessionID == sessionID })
}

// partialRecord is the record of the sample push as the function builds it
// when the detail cannot be fetched (ON_DETAIL_FAILURE=forward-partial):
// what a dead-letter queue may hold for redrive. It returns the body and
// the record id.
func partialRecord(t *testing.T, sample tcemu.Sample) ([]byte, string) {
	t.Helper()
	p, err := push.Parse(push.KindCDR, sample.CDRPush, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	r := record.Build(record.Input{Push: p, Source: record.SourcePush, PushUUID: "dead-lettered", ReceivedAt: time.Now(),
		DetailError: "describe session: InternalError"})
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b, r.ID
}

// waitFullRecord waits for the record with the given id on standard
// output, and wants it complete: a redriven partial record is enriched
// again.
func (p *process) waitFullRecord(t *testing.T, id string) {
	t.Helper()
	rec := p.waitFor(t, "record "+id, func(r outRecord) bool { return r.ID == id })
	if rec.Completeness != "full" || len(rec.Detail) == 0 {
		t.Fatalf("record %s is %s, want it enriched again", id, rec.Completeness)
	}
}

// pushEvent rewrites one of aws-lambda-go's fixtures into CCC's push:
// POST /push?action=cdr&version=1 with the push as the body.
func pushEvent(t *testing.T, fixture, push []byte, uuid string) []byte {
	return mutateJSON(t, fixture, func(e map[string]any) {
		e["body"] = string(push)
		e["isBase64Encoded"] = false
		rc, _ := e["requestContext"].(map[string]any)
		if _, v2 := e["rawPath"]; v2 {
			e["rawPath"] = "/push"
			e["rawQueryString"] = "action=cdr&version=1"
			e["queryStringParameters"] = map[string]any{"action": "cdr", "version": "1"}
			if _, ok := e["routeKey"]; ok {
				e["routeKey"] = "POST /push"
				rc["routeKey"] = "POST /push"
			}
			h := rc["http"].(map[string]any)
			h["method"], h["path"] = "POST", "/push"
			headers, _ := e["headers"].(map[string]any)
			if headers == nil {
				headers = map[string]any{}
			}
			headers["content-type"] = "application/json;charset=utf8"
			headers["content-length"] = strconv.Itoa(len(push))
			headers["x-tccc-push-uuid"] = uuid
			e["headers"] = headers
			return
		}
		e["httpMethod"], e["path"], e["resource"] = "POST", "/push", "/push"
		rc["httpMethod"], rc["resourcePath"], rc["path"] = "POST", "/push", "/"+fmt.Sprint(rc["stage"])+"/push"
		e["pathParameters"] = nil
		e["queryStringParameters"] = map[string]any{"action": "cdr", "version": "1"}
		e["multiValueQueryStringParameters"] = map[string]any{"action": []string{"cdr"}, "version": []string{"1"}}
		headers, _ := e["headers"].(map[string]any)
		headers["X-TCCC-PUSH-UUID"] = uuid
		headers["Content-Type"] = "application/json;charset=utf8"
		mv, _ := e["multiValueHeaders"].(map[string]any)
		mv["X-TCCC-PUSH-UUID"] = []string{uuid}
		mv["Content-Type"] = []string{"application/json;charset=utf8"}
	})
}

func mutateJSON(t *testing.T, b []byte, f func(map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitListening waits until something accepts connections at addr: the
// emulator gives no other sign of being ready.
func waitListening(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listening at %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitMetrics waits for a metrics line of the operation, not returned
// before, that has the fields want, and checks its form: EMF (the "_aws"
// block naming the namespace, dimensions and metrics) on Lambda, the same
// fields without it on SCF.
func (p *process) waitMetrics(t *testing.T, operation string, emf bool, want ...string) map[string]any {
	t.Helper()
	if p.metricsSeen == nil {
		p.metricsSeen = map[string]bool{}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		lines := strings.Split(p.stderr()+"\n"+p.all.String(), "\n")
		for i := range lines {
			var m map[string]any
			if p.metricsSeen[lines[i]] || json.Unmarshal([]byte(lines[i]), &m) != nil || m["msg"] != "metrics" || m["Operation"] != operation ||
				slices.ContainsFunc(want, func(f string) bool { _, ok := m[f]; return !ok }) {
				continue
			}
			p.metricsSeen[lines[i]] = true
			if _, ok := m["_aws"]; ok != emf {
				t.Fatalf("metrics line with _aws %v, want %v: %s", ok, emf, lines[i])
			}
			if emf {
				checkEMF(t, m, lines[i])
			}
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("no metrics line of %s with %v\n%s%s", operation, want, p.stderr(), p.all.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkEMF checks what CloudWatch needs of an EMF document: the namespace,
// each dimension set and metric naming a member of the line.
func checkEMF(t *testing.T, m map[string]any, line string) {
	t.Helper()
	var doc struct {
		AWS struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
	}
	if err := json.Unmarshal([]byte(line), &doc); err != nil || doc.AWS.Timestamp == 0 || len(doc.AWS.CloudWatchMetrics) == 0 {
		t.Fatalf("EMF block %s: %v", line, err)
	}
	for _, d := range doc.AWS.CloudWatchMetrics {
		if d.Namespace != "ccc-enricher" {
			t.Errorf("namespace %q", d.Namespace)
		}
		for _, set := range d.Dimensions {
			for _, dim := range set {
				if _, ok := m[dim].(string); !ok {
					t.Errorf("dimension %s not in the line", dim)
				}
			}
		}
		for _, x := range d.Metrics {
			if _, ok := m[x.Name]; !ok || x.Unit == "" {
				t.Errorf("metric %s (unit %q) not in the line", x.Name, x.Unit)
			}
		}
	}
}

// checkMetrics wants each of the fields in a metrics line.
func checkMetrics(t *testing.T, m map[string]any, fields ...string) {
	t.Helper()
	for _, f := range fields {
		if _, ok := m[f]; !ok {
			t.Errorf("metrics line lacks %s: %v", f, m)
		}
	}
}
