package config

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Kinds of sink, the values of SINK and DLQ_SINK.
const (
	KindWebhook = "webhook"
	KindCMQ     = "cmq"
	KindSQS     = "sqs"
	KindKafka   = "kafka"
	KindStdout  = "stdout"
	// KindArchive is the records archive (ARCHIVE), in SINK's list only.
	KindArchive = "archive"
)

// Sink selects and configures one destination of records: SINK, WEBHOOK_*,
// CMQ_*, SQS_*, KAFKA_*, or the same with a DLQ_ prefix for the dead-letter
// sink. Only the part Kind names is filled in.
type Sink struct {
	Kind    string
	Webhook Webhook
	CMQ     CMQ
	SQS     SQS
	Kafka   Kafka
}

// Webhook configures the signed webhook (Standard Webhooks).
type Webhook struct {
	URL string
	// Key is the signing key: WEBHOOK_SECRET decoded by WebhookKey.
	Key []byte
	// Timeout bounds one HTTP attempt; zero means the sinks' default.
	Timeout time.Duration
}

// CMQ configures TDMQ for CMQ's SendCmqMsg (tdmq 2020-02-17).
type CMQ struct {
	Queue  string
	Region string
	// Endpoint overrides tdmq.tencentcloudapi.com; "http://host:port" is
	// accepted for the emulator.
	Endpoint string
}

// SQS configures Amazon SQS. FIFO queues (".fifo") get MessageGroupId and
// MessageDeduplicationId.
type SQS struct {
	QueueURL string
}

// Kafka configures a Kafka producer (CKafka, MSK or any broker).
type Kafka struct {
	Brokers []string
	Topic   string
	// SASLMechanism is "", "PLAIN", "SCRAM-SHA-256" or "SCRAM-SHA-512".
	SASLMechanism string
	Username      string
	Password      string
	// TLS dials the brokers with TLS 1.2 or later and the system roots.
	TLS bool
}

// The Standard Webhooks specification asks for a key of 24 to 64 random
// bytes, given as "whsec_" and its base64.
const (
	webhookSecretPrefix = "whsec_"
	minWebhookKey       = 24
	maxWebhookKey       = 64
)

// WebhookKey decodes a Standard Webhooks secret, "whsec_" followed by the
// base64 of 24 to 64 bytes. Its errors describe the secret's shape, never
// its content, and read after the variable's name.
func WebhookKey(secret string) ([]byte, error) {
	enc, ok := strings.CutPrefix(secret, webhookSecretPrefix)
	if !ok {
		return nil, fmt.Errorf("must start with %q followed by base64 (Standard Webhooks)", webhookSecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, fmt.Errorf("must be %q followed by standard base64", webhookSecretPrefix)
	}
	if len(key) < minWebhookKey || len(key) > maxWebhookKey {
		return nil, fmt.Errorf("must decode to %d to %d bytes, not %d", minWebhookKey, maxWebhookKey, len(key))
	}
	return key, nil
}

// sink reads one sink's configuration; prefix is "" for the main sink and
// "DLQ_" for the dead-letter sink.
func (r *reader) sink(prefix string) Sink {
	return r.destination(prefix, prefix+"SINK", KindWebhook, KindCMQ, KindSQS, KindKafka, KindStdout)
}

// destination reads the destination the variable kindVar names, one of
// kinds, and its variables with prefix.
func (r *reader) destination(prefix, kindVar string, kinds ...string) Sink {
	return r.sinkOf(prefix, kindVar, r.oneOf(kindVar, "", kinds...))
}

// sinks reads SINK as a comma-separated list of destinations, every one of
// which gets each record ("webhook,archive"); each kind at most once.
func (r *reader) sinks() []Sink {
	v := r.str("SINK")
	if !strings.Contains(v, ",") {
		if strings.EqualFold(v, KindArchive) {
			return []Sink{{Kind: KindArchive}}
		}
		return []Sink{r.sink("")}
	}
	var out []Sink
	seen := map[string]bool{}
	for _, f := range strings.Split(v, ",") {
		kind := strings.ToLower(strings.TrimSpace(f))
		switch kind {
		case KindWebhook, KindCMQ, KindSQS, KindKafka, KindStdout, KindArchive:
		default:
			r.fail("SINK", fmt.Sprintf("has %q; want a comma-separated list of webhook, cmq, sqs, kafka, stdout and archive", f))
			continue
		}
		if seen[kind] {
			r.fail("SINK", fmt.Sprintf("names %s twice", kind))
			continue
		}
		seen[kind] = true
		out = append(out, r.sinkOf("", "SINK", kind))
	}
	if len(out) == 0 {
		out = []Sink{{}}
	}
	return out
}

// sinkOf reads the variables, with prefix, of a destination of kind, which
// the variable kindVar named.
func (r *reader) sinkOf(prefix, kindVar, kind string) Sink {
	c := Sink{Kind: kind}
	need := func(name, value string) bool {
		r.required(prefix+name, value, fmt.Sprintf("when %s=%s", kindVar, c.Kind))
		return value != ""
	}
	switch c.Kind {
	case KindWebhook:
		c.Webhook = Webhook{
			URL:     r.str(prefix + "WEBHOOK_URL"),
			Timeout: r.duration(prefix+"WEBHOOK_TIMEOUT", 10*time.Second),
		}
		// The URL and the secret are not quoted back: the URL's path or
		// query may hold a token.
		if need("WEBHOOK_URL", c.Webhook.URL) && !httpURL(c.Webhook.URL, false) {
			r.fail(prefix+"WEBHOOK_URL", "must be an http or https URL")
		}
		if secret := r.str(prefix + "WEBHOOK_SECRET"); need("WEBHOOK_SECRET", secret) {
			key, err := WebhookKey(secret)
			if err != nil {
				r.fail(prefix+"WEBHOOK_SECRET", err.Error())
			}
			c.Webhook.Key = key
		}
	case KindCMQ:
		c.CMQ = CMQ{
			Queue:    r.str(prefix + "CMQ_QUEUE"),
			Region:   r.str(prefix + "CMQ_REGION"),
			Endpoint: r.endpoint(prefix+"CMQ_ENDPOINT", ""),
		}
		need("CMQ_QUEUE", c.CMQ.Queue)
		need("CMQ_REGION", c.CMQ.Region)
	case KindSQS:
		c.SQS = SQS{QueueURL: r.str(prefix + "SQS_QUEUE_URL")}
		if need("SQS_QUEUE_URL", c.SQS.QueueURL) && !httpURL(c.SQS.QueueURL, true) {
			r.fail(prefix+"SQS_QUEUE_URL", "must be a queue URL such as https://sqs.us-east-1.amazonaws.com/123456789012/records")
		}
	case KindKafka:
		c.Kafka = r.kafka(prefix, need)
	}
	return c
}

func (r *reader) kafka(prefix string, need func(name, value string) bool) Kafka {
	k := Kafka{
		Topic:         r.str(prefix + "KAFKA_TOPIC"),
		SASLMechanism: r.oneOf(prefix+"KAFKA_SASL_MECHANISM", "", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"),
		Username:      r.str(prefix + "KAFKA_USERNAME"),
		Password:      r.str(prefix + "KAFKA_PASSWORD"),
		TLS:           r.bool(prefix+"KAFKA_TLS", false),
	}
	for _, b := range strings.Split(r.str(prefix+"KAFKA_BROKERS"), ",") {
		if b = strings.TrimSpace(b); b != "" {
			k.Brokers = append(k.Brokers, b)
		}
	}
	if len(k.Brokers) == 0 {
		need("KAFKA_BROKERS", "")
	}
	need("KAFKA_TOPIC", k.Topic)
	if k.SASLMechanism != "" {
		need("KAFKA_USERNAME", k.Username)
		need("KAFKA_PASSWORD", k.Password)
	}
	return k
}

// httpURL reports whether s is an absolute http or https URL, with a path
// beyond "/" if path is set.
func httpURL(s string, path bool) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" &&
		(!path || strings.Trim(u.Path, "/") != "")
}

// where names where a sink delivers, to tell two configurations apart.
func where(c Sink) string {
	switch c.Kind {
	case KindWebhook:
		return c.Kind + " " + c.Webhook.URL
	case KindCMQ:
		return c.Kind + " " + c.CMQ.Region + "/" + c.CMQ.Queue
	case KindSQS:
		return c.Kind + " " + c.SQS.QueueURL
	case KindKafka:
		return c.Kind + " " + strings.Join(c.Kafka.Brokers, ",") + "/" + c.Kafka.Topic
	}
	return c.Kind
}
