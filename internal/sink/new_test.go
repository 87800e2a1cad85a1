package sink

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
)

func TestNew(t *testing.T) {
	webhook := WebhookConfig{URL: "https://example.com/hook", Secret: testSecret}
	tests := []struct {
		name     string
		cfg      Config
		prefix   string
		awsErr   error
		noAWS    bool
		tencent  bool   // pass a Tencent Cloud credential
		wantKind string // Name() of the sink; "" when an error is wanted
		wantErr  string
		wantAWS  int // calls to Deps.AWS
	}{
		{name: "default", cfg: Config{}, wantKind: "stdout"},
		{name: "stdout", cfg: Config{Kind: KindStdout}, wantKind: "stdout"},
		{name: "webhook", cfg: Config{Kind: KindWebhook, Webhook: webhook}, wantKind: "webhook"},
		{name: "webhook without URL", cfg: Config{Kind: KindWebhook, Webhook: WebhookConfig{Secret: testSecret}},
			wantErr: "WEBHOOK_URL is required when SINK=webhook"},
		{name: "dead-letter webhook without URL", cfg: Config{Kind: KindWebhook, Webhook: WebhookConfig{Secret: testSecret}}, prefix: "DLQ_",
			wantErr: "DLQ_WEBHOOK_URL is required when DLQ_SINK=webhook"},
		{name: "webhook without secret", cfg: Config{Kind: KindWebhook, Webhook: WebhookConfig{URL: webhook.URL}},
			wantErr: "WEBHOOK_SECRET is required when SINK=webhook"},
		{name: "dead-letter webhook with a bad secret", cfg: Config{Kind: KindWebhook, Webhook: WebhookConfig{URL: webhook.URL, Secret: "hunter2hunter2hunter2hunter2"}}, prefix: "DLQ_",
			wantErr: `DLQ_WEBHOOK_SECRET must start with "whsec_"`},
		{name: "sqs", cfg: Config{Kind: KindSQS, SQS: SQSConfig{QueueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/records"}},
			wantKind: "sqs", wantAWS: 1},
		{name: "sqs without queue", cfg: Config{Kind: KindSQS}, prefix: "DLQ_",
			wantErr: "DLQ_SQS_QUEUE_URL is required when DLQ_SINK=sqs"},
		{name: "sqs with a failing AWS configuration", cfg: Config{Kind: KindSQS, SQS: SQSConfig{QueueURL: "https://sqs.us-east-1.amazonaws.com/1/q"}}, awsErr: errors.New("no profile"),
			wantErr: "SINK=sqs: load AWS configuration: no profile", wantAWS: 1},
		{name: "sqs without AWS loader", cfg: Config{Kind: KindSQS, SQS: SQSConfig{QueueURL: "https://sqs.us-east-1.amazonaws.com/1/q"}}, noAWS: true,
			wantErr: "SINK=sqs: no AWS configuration loader"},
		{name: "kafka", cfg: Config{Kind: KindKafka, Kafka: KafkaConfig{Brokers: []string{"127.0.0.1:9092"}, Topic: "records"}}, wantKind: "kafka"},
		{name: "kafka without brokers", cfg: Config{Kind: KindKafka, Kafka: KafkaConfig{Topic: "records"}},
			wantErr: "KAFKA_BROKERS is required when SINK=kafka"},
		{name: "kafka without topic", cfg: Config{Kind: KindKafka, Kafka: KafkaConfig{Brokers: []string{"b:9092"}}}, prefix: "DLQ_",
			wantErr: "DLQ_KAFKA_TOPIC is required when DLQ_SINK=kafka"},
		{name: "dead-letter kafka with SASL but no user", cfg: Config{Kind: KindKafka, Kafka: KafkaConfig{Brokers: []string{"b:9092"}, Topic: "t", SASLMechanism: "PLAIN"}}, prefix: "DLQ_",
			wantErr: "DLQ_KAFKA_USERNAME and DLQ_KAFKA_PASSWORD are required with DLQ_KAFKA_SASL_MECHANISM"},
		{name: "cmq without queue", cfg: Config{Kind: KindCMQ, CMQ: CMQConfig{Region: "ap-guangzhou"}},
			wantErr: "CMQ_QUEUE is required when SINK=cmq"},
		{name: "dead-letter cmq without region", cfg: Config{Kind: KindCMQ, CMQ: CMQConfig{Queue: "records"}}, prefix: "DLQ_",
			wantErr: "DLQ_CMQ_REGION is required when DLQ_SINK=cmq"},
		{name: "cmq without credential", cfg: Config{Kind: KindCMQ, CMQ: CMQConfig{Queue: "records", Region: "ap-guangzhou"}},
			wantErr: "SINK=cmq: no Tencent Cloud credential"},
		{name: "cmq", cfg: Config{Kind: KindCMQ, CMQ: CMQConfig{Queue: "records", Region: "ap-guangzhou"}}, tencent: true, wantKind: "cmq"},
		{name: "unknown kind", cfg: Config{Kind: "kinesis"}, prefix: "DLQ_",
			wantErr: `DLQ_SINK "kinesis": want webhook, cmq, sqs, kafka or stdout`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			awsCalls := 0
			deps := Deps{Stdout: &out, Prefix: tt.prefix}
			if tt.tencent {
				deps.Tencent = common.NewCredential("AKIDtest", "test-key")
			}
			if !tt.noAWS {
				deps.AWS = func(context.Context) (aws.Config, error) {
					awsCalls++
					return aws.Config{Region: "us-east-1"}, tt.awsErr
				}
			}
			s, err := New(context.Background(), tt.cfg, deps)
			if awsCalls != tt.wantAWS {
				t.Errorf("AWS configuration loaded %d times, want %d", awsCalls, tt.wantAWS)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New = %v, %v; want error %q", s, err, tt.wantErr)
				}
				if s != nil {
					t.Errorf("New returned a sink (%T) with its error", s)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("error %q reveals the secret", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if c, ok := s.(io.Closer); ok {
				defer c.Close()
			}
			if s.Name() != tt.wantKind {
				t.Errorf("Name = %q, want %q", s.Name(), tt.wantKind)
			}
			if tt.wantKind == "stdout" {
				if err := s.Send(context.Background(), testMessage(t)); err != nil || out.Len() == 0 {
					t.Errorf("stdout sink did not write to Deps.Stdout: %v", err)
				}
			}
		})
	}
}
