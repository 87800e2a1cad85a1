package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"

	"github.com/ccc-enricher/ccc-enricher/internal/config"
	"github.com/ccc-enricher/ccc-enricher/internal/sink/sinktest"
)

func TestNewSink(t *testing.T) {
	webhook := config.Webhook{URL: "https://example.com/hook", Key: []byte("0123456789abcdef0123456789abcdef")}
	sqsURL := config.SQS{QueueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/records"}
	tests := []struct {
		name     string
		cfg      config.Sink
		prefix   string
		awsErr   error
		region   string // of the AWS configuration
		noAWS    bool
		tencent  bool   // pass a Tencent Cloud credential
		wantKind string // Name() of the sink; "" when an error is wanted
		wantErr  string
		wantAWS  int // calls to sinkDeps.aws
	}{
		{name: "default", cfg: config.Sink{}, wantKind: "stdout"},
		{name: "stdout", cfg: config.Sink{Kind: config.KindStdout}, wantKind: "stdout"},
		{name: "webhook", cfg: config.Sink{Kind: config.KindWebhook, Webhook: webhook}, wantKind: "webhook"},
		{name: "sqs", cfg: config.Sink{Kind: config.KindSQS, SQS: sqsURL}, wantKind: "sqs", wantAWS: 1},
		{name: "sqs with a failing AWS configuration", cfg: config.Sink{Kind: config.KindSQS, SQS: sqsURL}, awsErr: errors.New("no profile"),
			wantErr: "SINK=sqs: load AWS configuration: no profile", wantAWS: 1},
		{name: "sqs without AWS loader", cfg: config.Sink{Kind: config.KindSQS, SQS: sqsURL}, noAWS: true,
			wantErr: "SINK=sqs: no AWS configuration loader"},
		{name: "dead-letter sqs without a region", cfg: config.Sink{Kind: config.KindSQS, SQS: config.SQS{QueueURL: "http://127.0.0.1:4566/1/dlq"}}, prefix: "DLQ_", region: "none",
			wantErr: "DLQ_SINK=sqs: sqs: no AWS region", wantAWS: 1},
		{name: "kafka", cfg: config.Sink{Kind: config.KindKafka, Kafka: config.Kafka{Brokers: []string{"127.0.0.1:9092"}, Topic: "records"}}, wantKind: "kafka"},
		{name: "cmq without credential", cfg: config.Sink{Kind: config.KindCMQ, CMQ: config.CMQ{Queue: "records", Region: "ap-guangzhou"}},
			wantErr: "SINK=cmq: cmq: no Tencent Cloud credential"},
		{name: "cmq", cfg: config.Sink{Kind: config.KindCMQ, CMQ: config.CMQ{Queue: "records", Region: "ap-guangzhou"}}, tencent: true, wantKind: "cmq"},
		{name: "unknown kind", cfg: config.Sink{Kind: "kinesis"}, prefix: "DLQ_",
			wantErr: `DLQ_SINK "kinesis": want webhook, cmq, sqs, kafka or stdout`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			awsCalls := 0
			deps := sinkDeps{stdout: &out}
			if tt.tencent {
				deps.tencent = common.NewCredential("AKIDtest", "test-key")
			}
			if !tt.noAWS {
				deps.aws = func(context.Context) (aws.Config, error) {
					awsCalls++
					region := "us-east-1"
					if tt.region == "none" {
						region = ""
					}
					return aws.Config{Region: region}, tt.awsErr
				}
			}
			s, err := newSink(context.Background(), tt.cfg, deps, tt.prefix)
			if awsCalls != tt.wantAWS {
				t.Errorf("AWS configuration loaded %d times, want %d", awsCalls, tt.wantAWS)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("newSink = %v, %v; want error %q", s, err, tt.wantErr)
				}
				if s != nil {
					t.Errorf("newSink returned a sink (%T) with its error", s)
				}
				return
			}
			if err != nil {
				t.Fatalf("newSink: %v", err)
			}
			if c, ok := s.(io.Closer); ok {
				defer c.Close()
			}
			if s.Name() != tt.wantKind {
				t.Errorf("Name = %q, want %q", s.Name(), tt.wantKind)
			}
			if tt.wantKind == "stdout" {
				if err := s.Send(context.Background(), sinktest.Message()); err != nil || out.Len() == 0 {
					t.Errorf("stdout sink did not write to sinkDeps.stdout: %v", err)
				}
			}
		})
	}
}

// bootstrap worker refuses to start without an SQS or Kafka intake queue
// (CMQ intake runs as an SCF trigger), naming the variable.
func TestWorkerNeedsQueueIntake(t *testing.T) {
	for _, intake := range []map[string]string{
		{},
		{"INTAKE": "cmq", "INTAKE_CMQ_QUEUE": "q", "INTAKE_CMQ_REGION": "ap-guangzhou"},
	} {
		env := map[string]string{"PUSH_AUTH": "none", "CCC_SDK_APP_IDS": "1400000000"}
		for k, v := range intake {
			env[k] = v
		}
		err := worker(context.Background(), func(k string) string { return env[k] })
		if err == nil || !strings.Contains(err.Error(), "INTAKE") {
			t.Errorf("worker() with %v = %v, want an error naming INTAKE", intake, err)
		}
	}
}

// A bad AWS variable stops start-up, naming the variable, wherever an AWS
// client is built; without an AWS client it does not matter.
func TestAppAWSConfig(t *testing.T) {
	half := map[string]string{"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE"}
	tests := []struct {
		name string
		env  map[string]string
		err  string
	}{
		{"sqs sink", map[string]string{"SINK": "sqs", "SQS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/1/q"}, "SINK=sqs: load AWS configuration: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is empty"},
		{"s3 archive", map[string]string{"ARCHIVE": "s3", "ARCHIVE_BUCKET": "b"}, "ARCHIVE=s3: load AWS configuration: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is empty"},
		{"secret on lambda", map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:1", "TENCENTCLOUD_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:x"},
			"TENCENTCLOUD_SECRET_ARN: load AWS config: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is empty"},
		{"no AWS client", map[string]string{"SINK": "stdout"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"PUSH_AUTH": "none", "CCC_SDK_APP_IDS": "1400000000", "CCC_ENDPOINT": "emulator"}
			if tt.env["TENCENTCLOUD_SECRET_ARN"] != "" {
				delete(env, "CCC_ENDPOINT")
			}
			for _, m := range []map[string]string{half, tt.env} {
				for k, v := range m {
					env[k] = v
				}
			}
			cfg, err := config.Load(func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			a, err := newApp(context.Background(), cfg, newTestLogger())
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				a.close()
				return
			}
			if err == nil {
				a.close()
				t.Fatalf("newApp succeeded, want %q", tt.err)
			}
			if !strings.Contains(err.Error(), tt.err) {
				t.Errorf("newApp: %v, want an error containing %q", err, tt.err)
			}
		})
	}
}
