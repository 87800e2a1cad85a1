package config

import (
	"encoding/base64"
	"strings"
	"testing"
)

// testSecret is a Standard Webhooks secret of 32 bytes.
var testSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

// TestLoadSinks checks each destination's variables, for the sink and the
// dead-letter sink: what is accepted, and that an error names the
// variable, with its prefix, and quotes no secret or URL token.
func TestLoadSinks(t *testing.T) {
	short := "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 16))
	long := "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 65))
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string // "" for success
		check   func(*Config) bool
	}{
		{name: "webhook", env: map[string]string{"SINK": "webhook", "WEBHOOK_URL": "https://example.com/hook", "WEBHOOK_SECRET": testSecret},
			check: func(c *Config) bool {
				return c.Sink.Webhook.URL == "https://example.com/hook" && string(c.Sink.Webhook.Key) == "0123456789abcdef0123456789abcdef"
			}},
		{name: "webhook key of 24 bytes", env: map[string]string{"SINK": "webhook", "WEBHOOK_URL": "http://127.0.0.1:8080/", "WEBHOOK_SECRET": "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 24))},
			check: func(c *Config) bool { return len(c.Sink.Webhook.Key) == 24 }},
		{name: "dead-letter webhook without URL", env: map[string]string{"DLQ_SINK": "webhook", "DLQ_WEBHOOK_SECRET": testSecret},
			wantErr: "DLQ_WEBHOOK_URL is required when DLQ_SINK=webhook"},
		{name: "relative URL", env: map[string]string{"SINK": "webhook", "WEBHOOK_URL": "/hook?token=tok3n", "WEBHOOK_SECRET": testSecret}, wantErr: "WEBHOOK_URL must be"},
		{name: "ftp URL", env: map[string]string{"SINK": "webhook", "WEBHOOK_URL": "ftp://example.com/tok3n", "WEBHOOK_SECRET": testSecret}, wantErr: "WEBHOOK_URL must be"},
		{name: "bad URL", env: map[string]string{"SINK": "webhook", "WEBHOOK_URL": "https://exa mple.com/tok3n", "WEBHOOK_SECRET": testSecret}, wantErr: "WEBHOOK_URL must be"},
		{name: "dead-letter webhook with a bad secret", env: map[string]string{"DLQ_SINK": "webhook", "DLQ_WEBHOOK_URL": "https://example.com/dlq", "DLQ_WEBHOOK_SECRET": "hunter2hunter2hunter2hunter2"},
			wantErr: `DLQ_WEBHOOK_SECRET must start with "whsec_"`},
		{name: "secret not base64", env: map[string]string{"SINK": "webhook", "WEBHOOK_URL": "https://example.com", "WEBHOOK_SECRET": "whsec_not*base64*tok3n"}, wantErr: "WEBHOOK_SECRET must be"},
		{name: "short key", env: map[string]string{"SINK": "webhook", "WEBHOOK_URL": "https://example.com", "WEBHOOK_SECRET": short}, wantErr: "WEBHOOK_SECRET must decode to 24 to 64 bytes, not 16"},
		{name: "long key", env: map[string]string{"SINK": "webhook", "WEBHOOK_URL": "https://example.com", "WEBHOOK_SECRET": long}, wantErr: "not 65"},
		{name: "sqs", env: map[string]string{"SINK": "sqs", "SQS_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/records"},
			check: func(c *Config) bool {
				return c.Sink.SQS.QueueURL == "https://sqs.eu-west-1.amazonaws.com/123456789012/records"
			}},
		{name: "sqs queue name only", env: map[string]string{"SINK": "sqs", "SQS_QUEUE_URL": "records"}, wantErr: "SQS_QUEUE_URL must be a queue URL"},
		{name: "dead-letter sqs URL without path", env: map[string]string{"DLQ_SINK": "sqs", "DLQ_SQS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/"}, wantErr: "DLQ_SQS_QUEUE_URL must be a queue URL"},
		{name: "kafka", env: map[string]string{"SINK": "kafka", "KAFKA_BROKERS": " a:9092,, b:9092 ", "KAFKA_TOPIC": "t", "KAFKA_SASL_MECHANISM": "scram-sha-512", "KAFKA_USERNAME": "u", "KAFKA_PASSWORD": "p"},
			check: func(c *Config) bool {
				k := c.Sink.Kafka
				return strings.Join(k.Brokers, ",") == "a:9092,b:9092" && k.SASLMechanism == "SCRAM-SHA-512"
			}},
		{name: "kafka brokers only commas", env: map[string]string{"SINK": "kafka", "KAFKA_BROKERS": " , ", "KAFKA_TOPIC": "t"}, wantErr: "KAFKA_BROKERS is required when SINK=kafka"},
		{name: "dead-letter kafka without topic", env: map[string]string{"DLQ_SINK": "kafka", "DLQ_KAFKA_BROKERS": "b:9092"}, wantErr: "DLQ_KAFKA_TOPIC is required when DLQ_SINK=kafka"},
		{name: "dead-letter kafka with SASL but no password", env: map[string]string{"DLQ_SINK": "kafka", "DLQ_KAFKA_BROKERS": "b:9092", "DLQ_KAFKA_TOPIC": "t", "DLQ_KAFKA_SASL_MECHANISM": "PLAIN", "DLQ_KAFKA_USERNAME": "u"},
			wantErr: "DLQ_KAFKA_PASSWORD is required when DLQ_SINK=kafka"},
		{name: "unknown SASL mechanism", env: map[string]string{"SINK": "kafka", "KAFKA_BROKERS": "b:9092", "KAFKA_TOPIC": "t", "KAFKA_SASL_MECHANISM": "GSSAPI", "KAFKA_PASSWORD": "hunter2"},
			wantErr: `KAFKA_SASL_MECHANISM is "GSSAPI"`},
		{name: "cmq", env: map[string]string{"SINK": "cmq", "CMQ_QUEUE": "records", "CMQ_REGION": "ap-guangzhou"},
			check: func(c *Config) bool { return c.Sink.CMQ.Queue == "records" && c.Sink.CMQ.Region == "ap-guangzhou" }},
		{name: "dead-letter cmq without region", env: map[string]string{"DLQ_SINK": "cmq", "DLQ_CMQ_QUEUE": "records"}, wantErr: "DLQ_CMQ_REGION is required when DLQ_SINK=cmq"},
		{name: "unknown dead-letter kind", env: map[string]string{"DLQ_SINK": "kinesis"}, wantErr: `DLQ_SINK is "kinesis"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkLoad(t, tt.env, tt.wantErr, tt.check) })
	}
}
