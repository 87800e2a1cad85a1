package config

import (
	"strings"
	"testing"
)

// TestLoadIntake checks INTAKE and its variables: the defaults, each
// queue's variables read with the INTAKE_ prefix, and errors naming the
// variable.
func TestLoadIntake(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
		check   func(Intake) bool
	}{
		{name: "off", env: nil, check: func(i Intake) bool {
			return i.Queue.Kind == "" && i.QueueName() == "" && i.KafkaGroup == "ccc-enricher" && i.Concurrency == 4 && i.MaxReceives == 5
		}},
		{name: "sqs", env: map[string]string{"INTAKE": "SQS", "INTAKE_SQS_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/intake.fifo",
			"WORKER_CONCURRENCY": "8", "INTAKE_MAX_RECEIVES": "3"},
			check: func(i Intake) bool {
				return i.Queue.Kind == KindSQS && i.QueueName() == "intake.fifo" && i.Concurrency == 8 && i.MaxReceives == 3
			}},
		{name: "kafka", env: map[string]string{"INTAKE": "kafka", "INTAKE_KAFKA_BROKERS": "a:9092,b:9092", "INTAKE_KAFKA_TOPIC": "pushes",
			"INTAKE_KAFKA_GROUP": "g", "INTAKE_KAFKA_TLS": "true"},
			check: func(i Intake) bool {
				return len(i.Queue.Kafka.Brokers) == 2 && i.QueueName() == "pushes" && i.KafkaGroup == "g" && i.Queue.Kafka.TLS
			}},
		{name: "cmq", env: map[string]string{"INTAKE": "cmq", "INTAKE_CMQ_QUEUE": "pushes", "INTAKE_CMQ_REGION": "ap-guangzhou", "INTAKE_CMQ_ENDPOINT": "http://127.0.0.1:1"},
			check: func(i Intake) bool { return i.QueueName() == "pushes" && i.Queue.CMQ.Endpoint == "http://127.0.0.1:1" }},
		{name: "webhook is no queue", env: map[string]string{"INTAKE": "webhook"}, wantErr: `INTAKE is "webhook"; want one of sqs, kafka, cmq`},
		{name: "sqs without URL", env: map[string]string{"INTAKE": "sqs"}, wantErr: "INTAKE_SQS_QUEUE_URL is required when INTAKE=sqs"},
		{name: "kafka without topic", env: map[string]string{"INTAKE": "kafka", "INTAKE_KAFKA_BROKERS": "a:9092"}, wantErr: "INTAKE_KAFKA_TOPIC is required when INTAKE=kafka"},
		{name: "cmq without region", env: map[string]string{"INTAKE": "cmq", "INTAKE_CMQ_QUEUE": "q"}, wantErr: "INTAKE_CMQ_REGION is required when INTAKE=cmq"},
		{name: "the sink's queue", env: map[string]string{"INTAKE": "sqs", "INTAKE_SQS_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/1/q",
			"SINK": "sqs", "SQS_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/1/q"}, wantErr: "INTAKE must not name the same queue"},
		{name: "concurrency zero", env: map[string]string{"WORKER_CONCURRENCY": "0"}, wantErr: `WORKER_CONCURRENCY is "0"`},
		{name: "receives not a number", env: map[string]string{"INTAKE_MAX_RECEIVES": "many"}, wantErr: `INTAKE_MAX_RECEIVES is "many"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(env(base(tt.env)))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c.Intake) {
				t.Errorf("unexpected intake configuration: %+v", c.Intake)
			}
		})
	}
}
