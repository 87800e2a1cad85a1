package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/push"
	"github.com/ccc-enricher/ccc-enricher/internal/record"
	"github.com/ccc-enricher/ccc-enricher/internal/scf/scftest"
	"github.com/ccc-enricher/ccc-enricher/internal/tcemu"
	"github.com/ccc-enricher/ccc-enricher/internal/testenv"
)

// TestSCFCMQIntake runs queued intake on CMQ through the emulator with the
// real bootstrap under the SCF runtime API: an API Gateway push is written
// to the intake queue with SendCmqMsg (tcemu) and answered ErrCode 0 with
// no detail call; the message, handed back as the CMQ trigger's event,
// becomes the push's record, full, with the id the synchronous path gives
// it, and one DescribeSessionDetail serves the call's cdr and record
// pushes delivered in one batch.
func TestSCFCMQIntake(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bootstrap executable")
	}
	ccc := testenv.NewCCC(t, time.Now(), tcemu.Options{})
	bin := buildBootstrap(t)
	emu := scftest.NewServer()
	emu.TimeLimit = 30 * time.Second
	cmd := exec.Command(bin)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
		"SCF_RUNTIME_API=" + emu.Host, "SCF_RUNTIME_API_PORT=" + emu.Port,
		"INTAKE=cmq", "INTAKE_CMQ_QUEUE=ccc-intake", "INTAKE_CMQ_REGION=ap-guangzhou", "INTAKE_CMQ_ENDPOINT=" + ccc.URL,
		"CCC_ENDPOINT=" + ccc.URL, "TENCENTCLOUD_SECRET_ID=" + testenv.SecretID, "TENCENTCLOUD_SECRET_KEY=" + testenv.SecretKey,
		"SINK=stdout", "PUSH_AUTH=none", "CCC_SDK_APP_IDS=" + strconv.FormatInt(ccc.Sample.SdkAppID, 10),
	}
	out := startProcess(t, cmd)
	select {
	case <-emu.Ready():
	case <-out.exited:
		t.Fatalf("bootstrap exited before init/ready\n%s", out.stderr())
	case <-time.After(20 * time.Second):
		t.Fatalf("no init/ready\n%s", out.stderr())
	}
	invoke := func(event any) scftest.Result {
		t.Helper()
		b, err := json.Marshal(event)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		res, err := emu.Invoke(ctx, b)
		if err != nil || res.Error {
			t.Fatalf("invocation: %v %s\n%s", err, res.Body, out.stderr())
		}
		return res
	}

	want := map[string]bool{}
	for _, p := range []struct {
		kind push.Kind
		body []byte
	}{{push.KindCDR, ccc.Sample.CDRPush}, {push.KindRecord, ccc.Sample.RecordPush}} {
		pp, err := push.Parse(p.kind, p.body, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		want[record.IDOf(pp)] = true
		res := invoke(map[string]any{
			"requestContext": map[string]any{"serviceId": "service-0ccc0001", "path": "/push", "httpMethod": "ANY",
				"requestId": "apigw-" + string(p.kind), "identity": map[string]any{}, "sourceIp": "203.0.113.7", "stage": "release"},
			"headers":     map[string]any{"content-type": "application/json;charset=utf8", "x-tccc-push-uuid": "uuid-" + string(p.kind)},
			"path":        "/push",
			"httpMethod":  "POST",
			"queryString": map[string]any{"action": string(p.kind), "version": "1"},
			"body":        string(p.body),
		})
		var reply struct {
			StatusCode int    `json:"statusCode"`
			Body       string `json:"body"`
		}
		if err := json.Unmarshal(res.Body, &reply); err != nil {
			t.Fatal(err)
		}
		checkAccepted(t, reply.StatusCode, reply.Body)
	}
	if n := ccc.Emu.Calls("DescribeSessionDetail"); n != 0 {
		t.Fatalf("the push route made %d detail calls with queued intake, want none", n)
	}
	msgs := ccc.Emu.CMQMessages("ccc-intake")
	if len(msgs) != 2 {
		t.Fatalf("intake queue holds %d messages, want the 2 pushes", len(msgs))
	}
	var records []any
	for _, m := range msgs {
		records = append(records, map[string]any{"CMQ": map[string]any{
			"type": "topic", "topicName": "ccc-intake", "msgId": m.MsgID, "msgBody": m.Content}})
	}
	if res := invoke(map[string]any{"Records": records}); string(res.Body) != `{"records":2}` {
		t.Fatalf("intake batch reply %s", res.Body)
	}
	for len(want) > 0 {
		rec := out.waitFor(t, "the intake records", func(r outRecord) bool { return want[r.ID] })
		if rec.Completeness != "full" {
			t.Errorf("record %s is %s, want full", rec.ID, rec.Completeness)
		}
		delete(want, rec.ID)
	}
	if n := ccc.Emu.Calls("DescribeSessionDetail"); n != 1 {
		t.Errorf("the batch made %d detail calls, want 1 for the call's two pushes", n)
	}
}
