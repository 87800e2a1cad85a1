package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/ccc-enricher/ccc-enricher/internal/config"
	"github.com/ccc-enricher/ccc-enricher/internal/intake"
	"github.com/ccc-enricher/ccc-enricher/internal/push"
	"github.com/ccc-enricher/ccc-enricher/internal/record"
	"github.com/ccc-enricher/ccc-enricher/internal/sink"
	"github.com/ccc-enricher/ccc-enricher/internal/sink/kafka"
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
	writer, err := sqs.New(config.SQS{QueueURL: queueURL}, awsCfg)
	if err != nil {
		t.Fatal(err)
	}
	killWorker(t, writer, 2, "INTAKE=sqs", "INTAKE_SQS_QUEUE_URL="+queueURL,
		"AWS_ENDPOINT_URL_SQS="+endpoint, "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=test-secret")
}

// TestKafkaWorkerKilled is TestWorkerKilled on a Kafka intake topic
// (kfake): the killed worker committed nothing, so the second member of the
// group starts at the messages it had in flight.
func TestKafkaWorkerKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the bootstrap executable")
	}
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "ccc-intake"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	brokers := strings.Join(cluster.ListenAddrs(), ",")
	writer, err := kafka.New(config.Kafka{Brokers: cluster.ListenAddrs(), Topic: "ccc-intake"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { writer.Close() })
	killWorker(t, writer, 1, "INTAKE=kafka", "INTAKE_KAFKA_BROKERS="+brokers, "INTAKE_KAFKA_TOPIC=ccc-intake", "INTAKE_KAFKA_GROUP=workers")
}

// killWorker queues a cdr and a record push of one call with writer,
// starts `bootstrap worker` with the intake variables given, kills it with
// SIGKILL once its inFlight detail calls hang (two on SQS, a message per
// receive; one on Kafka, where both are polled in one batch and share
// it), and waits for a second worker to deliver both records, full, with
// the ids the pushes give them.
func killWorker(t *testing.T, writer sink.Sink, inFlight int, intakeEnv ...string) {
	ctx := context.Background()
	ccc := testenv.NewCCC(t, time.Now(), tcemu.Options{})
	// The first worker's detail calls hang until it is killed.
	for range inFlight {
		ccc.Emu.Inject("DescribeSessionDetail", tcemu.Fault{Delay: time.Minute})
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

	bin := buildBootstrap(t)
	env := append([]string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "WORKER_CONCURRENCY=2",
		"CCC_ENDPOINT=" + ccc.URL, "TENCENTCLOUD_SECRET_ID=" + testenv.SecretID, "TENCENTCLOUD_SECRET_KEY=" + testenv.SecretKey,
		"SINK=stdout", "PUSH_AUTH=none", "CCC_SDK_APP_IDS=" + strconv.FormatInt(ccc.Sample.SdkAppID, 10),
	}, intakeEnv...)
	start := func() (*exec.Cmd, *process) {
		cmd := exec.Command(bin, "worker")
		cmd.Env = env
		return cmd, startProcess(t, cmd)
	}

	first, p1 := start()
	deadline := time.Now().Add(20 * time.Second)
	for ccc.Emu.Calls("DescribeSessionDetail") < inFlight {
		if time.Now().After(deadline) {
			t.Fatalf("the first worker made %d detail calls, want %d in flight\n%s", ccc.Emu.Calls("DescribeSessionDetail"), inFlight, p1.stderr())
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
	// The worker writes one metrics line per batch, as an invocation does.
	deadline = time.Now().Add(10 * time.Second)
	for !strings.Contains(p2.stderr(), `"Operation":"intake"`) {
		if time.Now().After(deadline) {
			t.Fatalf("no metrics line of operation intake:\n%s", p2.stderr())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// buildBootstrap builds bootstrap from this directory with the build flags
// given, CGO off, and returns its path.
func buildBootstrap(t *testing.T, flags ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bootstrap")
	build := exec.Command("go", append(append([]string{"build"}, flags...), "-o", bin, ".")...)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
