package config

import (
	"strings"
	"testing"
	"time"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func base(extra map[string]string) map[string]string {
	m := map[string]string{"PUSH_AUTH": "none", "CCC_SDK_APP_IDS": "1400000000"}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(base(nil)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 9000 || c.CCC.Endpoint != "ccc.intl.tencentcloudapi.com" || c.CCC.Rate != 20 ||
		c.Sink.Kind != KindStdout || c.DeadLetter.Kind != "" || c.OnDetailFailure != DetailRetry ||
		c.Push.MaxBodyBytes != 1<<20 || c.Push.OAuthTokenTTL != 15*time.Minute || c.MaskPhoneNumbers ||
		c.Reconcile.Slot != 10*time.Minute || c.Reconcile.Delay != 20*time.Minute || c.Reconcile.Mode != ReconcileDetail {
		t.Errorf("unexpected defaults: %+v", c)
	}
	if !c.AllowsApp(1400000000) || c.AllowsApp(1400000001) {
		t.Error("allow-list")
	}
}

func TestLoadFull(t *testing.T) {
	c, err := Load(env(base(map[string]string{
		"PUSH_AUTH": "oauth2", "PUSH_OAUTH_CLIENT_ID": "ccc", "PUSH_OAUTH_CLIENT_SECRET": "0123456789abcdef0123",
		"CCC_SDK_APP_IDS": " 1400000000, 1400000001 ", "CCC_ENDPOINT": "http://127.0.0.1:8080",
		"SINK": "kafka", "KAFKA_BROKERS": "a:9092, b:9092", "KAFKA_TOPIC": "calls",
		"KAFKA_SASL_MECHANISM": "SCRAM-SHA-512", "KAFKA_USERNAME": "u", "KAFKA_PASSWORD": "p", "KAFKA_TLS": "true",
		"DLQ_SINK": "sqs", "DLQ_SQS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/1/dlq",
		"ON_DETAIL_FAILURE": "forward-partial", "MASK_PHONE_NUMBERS": "true",
	})))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Push.SdkAppIDs) != 2 || c.Sink.Kafka.Brokers[1] != "b:9092" || !c.Sink.Kafka.TLS ||
		c.Sink.Kafka.SASLMechanism != "SCRAM-SHA-512" || c.DeadLetter.SQS.QueueURL == "" ||
		c.OnDetailFailure != DetailForwardPartial || !c.MaskPhoneNumbers {
		t.Errorf("unexpected config: %+v", c)
	}
}

// Every bad value fails at start-up with a message naming its variable.
func TestLoadErrorsNameTheVariable(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want []string
	}{
		{map[string]string{}, []string{"PUSH_AUTH is required", "CCC_SDK_APP_IDS is required"}},
		{base(map[string]string{"PUSH_AUTH": "token"}), []string{`PUSH_AUTH is "token"`}},
		{base(map[string]string{"PUSH_AUTH": "basic"}), []string{"PUSH_BASIC_USERNAME is required", "PUSH_BASIC_PASSWORD is required"}},
		{base(map[string]string{"PUSH_AUTH": "basic", "PUSH_BASIC_USERNAME": "ccc:push", "PUSH_BASIC_PASSWORD": "p"}), []string{"PUSH_BASIC_USERNAME must not contain ':'"}},
		{base(map[string]string{"API_TOKEN": "abc"}), []string{"API_TOKEN must be at least 16 characters"}},
		{base(map[string]string{"PUSH_AUTH": "oauth2", "PUSH_OAUTH_CLIENT_ID": "x", "PUSH_OAUTH_CLIENT_SECRET": "short"}), []string{"PUSH_OAUTH_CLIENT_SECRET must be at least 16"}},
		{base(map[string]string{"CCC_SDK_APP_IDS": "14x"}), []string{`CCC_SDK_APP_IDS has "14x"`}},
		{base(map[string]string{"PORT": "70000"}), []string{"PORT"}},
		{base(map[string]string{"CCC_RATE_LIMIT": "50"}), []string{"CCC_RATE_LIMIT"}},
		{base(map[string]string{"CCC_ENDPOINT": "ftp://x"}), []string{"CCC_ENDPOINT"}},
		{base(map[string]string{"CCC_SESSION_GRACE": "soon"}), []string{"CCC_SESSION_GRACE"}},
		{base(map[string]string{"MASK_PHONE_NUMBERS": "yes please"}), []string{"MASK_PHONE_NUMBERS"}},
		{base(map[string]string{"SINK": "s3"}), []string{`SINK is "s3"`}},
		{base(map[string]string{"SINK": "webhook"}), []string{"WEBHOOK_URL is required when SINK=webhook", "WEBHOOK_SECRET is required"}},
		{base(map[string]string{"SINK": "webhook", "WEBHOOK_URL": "http://x", "WEBHOOK_SECRET": "plain"}), []string{"WEBHOOK_SECRET must start with"}},
		{base(map[string]string{"SINK": "webhook", "WEBHOOK_URL": "x", "WEBHOOK_SECRET": "whsec_AAAA"}), []string{"WEBHOOK_URL must be an http"}},
		{base(map[string]string{"SINK": "cmq"}), []string{"CMQ_QUEUE is required", "CMQ_REGION is required"}},
		{base(map[string]string{"SINK": "kafka", "KAFKA_SASL_MECHANISM": "PLAIN"}), []string{"KAFKA_BROKERS is required", "KAFKA_TOPIC", "KAFKA_USERNAME", "KAFKA_PASSWORD"}},
		{base(map[string]string{"DLQ_SINK": "sqs"}), []string{"DLQ_SQS_QUEUE_URL is required when DLQ_SINK=sqs"}},
		{base(map[string]string{"SINK": "sqs", "SQS_QUEUE_URL": "q", "DLQ_SINK": "sqs", "DLQ_SQS_QUEUE_URL": "q"}), []string{"DLQ_SINK must not be the same destination"}},
		{base(map[string]string{"ON_DETAIL_FAILURE": "drop"}), []string{"ON_DETAIL_FAILURE"}},
		{base(map[string]string{"RECONCILE_SLOT": "10s"}), []string{"RECONCILE_SLOT"}},
		{base(map[string]string{"RECONCILE_MODE": "full"}), []string{"RECONCILE_MODE"}},
	}
	for _, tt := range tests {
		_, err := Load(env(tt.env))
		if err == nil {
			t.Errorf("%v: no error", tt.env)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %q does not mention %q", tt.env, err, w)
			}
		}
	}
}

// Secrets given in the environment never appear in configuration errors.
func TestLoadErrorsKeepSecrets(t *testing.T) {
	_, err := Load(env(base(map[string]string{
		"PUSH_AUTH": "oauth2", "PUSH_OAUTH_CLIENT_ID": "x", "PUSH_OAUTH_CLIENT_SECRET": "tiny-secret",
		"SINK": "webhook", "WEBHOOK_URL": "http://x", "WEBHOOK_SECRET": "not-whsec-secret-value",
	})))
	if err == nil {
		t.Fatal("want errors")
	}
	for _, s := range []string{"tiny-secret", "not-whsec-secret-value"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q leaks %q", err, s)
		}
	}
}

// The commands need only what they use: reconcile no PUSH_AUTH, backfill
// no CCC_SDK_APP_IDS either; serving needs both.
func TestLoadFor(t *testing.T) {
	emu := map[string]string{"CCC_ENDPOINT": "emulator"}
	if _, err := LoadFor(env(emu), BackfillCommand); err != nil {
		t.Errorf("backfill: %v", err)
	}
	_, err := LoadFor(env(emu), ReconcileCommand)
	if err == nil || strings.Contains(err.Error(), "PUSH_AUTH") || !strings.Contains(err.Error(), "CCC_SDK_APP_IDS is required") {
		t.Errorf("reconcile: %v, want CCC_SDK_APP_IDS alone required", err)
	}
	if _, err := Load(env(emu)); err == nil || !strings.Contains(err.Error(), "PUSH_AUTH is required") {
		t.Errorf("serve: %v", err)
	}
	if _, err := LoadFor(env(map[string]string{"PUSH_AUTH": "basic"}), BackfillCommand); err == nil {
		t.Error("backfill accepted PUSH_AUTH=basic without its credentials")
	}
}

func TestMetricsConfig(t *testing.T) {
	c, err := Load(env(base(nil)))
	if err != nil || !c.Metrics.On || c.Metrics.Namespace != DefaultMetricsNamespace {
		t.Fatalf("defaults %+v, %v", c.Metrics, err)
	}
	c, err = Load(env(base(map[string]string{"METRICS": "off", "METRICS_NAMESPACE": "acme/ccc"})))
	if err != nil || c.Metrics.On || c.Metrics.Namespace != "acme/ccc" {
		t.Fatalf("%+v, %v", c.Metrics, err)
	}
	for _, bad := range []map[string]string{{"METRICS": "yes"}, {"METRICS_NAMESPACE": "AWS/Lambda"}, {"METRICS_NAMESPACE": "a b"}} {
		if _, err := Load(env(base(bad))); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
