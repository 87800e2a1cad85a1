package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/ccc-enricher/ccc-enricher/internal/config"
	"github.com/ccc-enricher/ccc-enricher/internal/intake"
	"github.com/ccc-enricher/ccc-enricher/internal/push"
	"github.com/ccc-enricher/ccc-enricher/internal/record"
	"github.com/ccc-enricher/ccc-enricher/internal/sink/sqs"
	"github.com/ccc-enricher/ccc-enricher/internal/tcemu"
	"github.com/ccc-enricher/ccc-enricher/internal/testenv"
)

// TestWorkerKilled runs the real bootstrap as `bootstrap worker` on an SQS
// intake queue (moto_server) and kills it with SIGKILL while its detail
// calls hang: nothing is lost, the messages come back after their
// visibility timeout and a second worker delivers them with the same
// record ids.
func TestWorkerKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bootstrap executable")
	}
	endpoint := testenv.StartMoto(t)
	ctx := context.Background()
	awsCfg := testenv.AWSConfig(endpoint)
	cq, err := awssqs.NewFromConfig(awsCfg).CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String("intake"),
		Attributes: map[string]string{"VisibilityTimeout": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	queueURL := aws.ToString(cq.QueueUrl)

	ccc := testenv.NewCCC(t, time.Now(), tcemu.Options{})
	// The first worker's detail calls hang until it is killed.
	ccc.Emu.Inject("DescribeSessionDetail", tcemu.Fault{Delay: time.Minute}, tcemu.Fault{Delay: time.Minute})
	writer, err := sqs.New(config.SQS{QueueURL: queueURL}, awsCfg)
	if err != nil {
		t.Fatal(err)
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
		m, err := intake.Message(pp, "uuid-"+string(p.kind), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := writer.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
		want[record.IDOf(pp)] = true
	}

	bin := filepath.Join(t.TempDir(), "bootstrap")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
		"INTAKE=sqs", "INTAKE_SQS_QUEUE_URL=" + queueURL, "WORKER_CONCURRENCY=2",
		"AWS_ENDPOINT_URL_SQS=" + endpoint, "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=test-secret",
		"CCC_ENDPOINT=" + ccc.URL, "TENCENTCLOUD_SECRET_ID=" + testenv.SecretID, "TENCENTCLOUD_SECRET_KEY=" + testenv.SecretKey,
		"SINK=stdout", "PUSH_AUTH=none", "CCC_SDK_APP_IDS=" + strconv.FormatInt(ccc.Sample.SdkAppID, 10),
	}
	start := func() (*exec.Cmd, *process) {
		cmd := exec.Command(bin, "worker")
		cmd.Env = env
		return cmd, startProcess(t, cmd)
	}

	first, p1 := start()
	deadline := time.Now().Add(20 * time.Second)
	for ccc.Emu.Calls("DescribeSessionDetail") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the first worker made %d detail calls, want 2 in flight\n%s", ccc.Emu.Calls("DescribeSessionDetail"), p1.stderr())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p1.exited

	_, p2 := start()
	for len(want) > 0 {
		rec := p2.waitFor(t, "the records the killed worker had in flight", func(r outRecord) bool { return want[r.ID] })
		if rec.Completeness != "full" {
			t.Errorf("record %s is %s, want full", rec.ID, rec.Completeness)
		}
		delete(want, rec.ID)
	}
}
