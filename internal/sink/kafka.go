package sink

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

// Kafka produces each record to one topic with franz-go: key Message.Key
// (the SessionId, so one call's records share a partition and stay in
// order), headers record-id, schema-version and Message.Attributes, acks
// from all in-sync replicas and the idempotent producer.
//
// Within one attempt franz-go retries retriable broker errors itself, which
// keeps idempotent sequence numbers right; Send retries whole attempts
// within ctx's deadline. To bound an attempt by its context, Send stops
// waiting when the context ends even if franz-go still holds the record, so
// a record can land twice: consumers deduplicate by the record-id header.
type Kafka struct {
	client  *kgo.Client
	topic   string
	timeout time.Duration
	policy  retry.Policy
}

// NewKafka checks cfg and returns a Kafka sink. It does not connect: the
// first Send does.
func NewKafka(cfg KafkaConfig) (*Kafka, error) {
	return newKafka(cfg, "")
}

// newKafka is NewKafka with env prefixed to the variable names in its
// errors, and further client options for tests.
func newKafka(cfg KafkaConfig, env string, extra ...kgo.Opt) (*Kafka, error) {
	var brokers []string
	for _, b := range cfg.Brokers {
		if b = strings.TrimSpace(b); b != "" {
			brokers = append(brokers, b)
		}
	}
	if len(brokers) == 0 {
		return nil, fmt.Errorf("%sKAFKA_BROKERS is required", env)
	}
	if cfg.Topic == "" {
		return nil, fmt.Errorf("%sKAFKA_TOPIC is required", env)
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(brokers...),
		kgo.ClientID("ccc-enricher"),
		kgo.DefaultProduceTopic(cfg.Topic),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.AllowIdempotentProduceCancellation(),
		// One record at a time, waited for: lingering only adds latency.
		kgo.ProducerLinger(0),
		// After NOT_LEADER and the like, the default waits up to 5s before
		// learning the new leader: much of an invocation's budget.
		kgo.MetadataMinAge(500 * time.Millisecond),
	}
	mech, err := saslMechanism(cfg, env)
	if err != nil {
		return nil, err
	}
	if mech != nil {
		opts = append(opts, kgo.SASL(mech))
	}
	if cfg.TLS || cfg.TLSConfig != nil {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if cfg.TLSConfig != nil {
			tc = cfg.TLSConfig.Clone()
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	client, err := kgo.NewClient(append(opts, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("%sKAFKA_*: %w", env, err)
	}
	return &Kafka{client: client, topic: cfg.Topic, timeout: attemptTimeout, policy: retry.Default}, nil
}

func saslMechanism(cfg KafkaConfig, env string) (sasl.Mechanism, error) {
	if cfg.SASLMechanism == "" {
		return nil, nil
	}
	if cfg.Username == "" || cfg.Password == "" {
		return nil, fmt.Errorf("%sKAFKA_USERNAME and %sKAFKA_PASSWORD are required with %sKAFKA_SASL_MECHANISM", env, env, env)
	}
	switch strings.ToUpper(cfg.SASLMechanism) {
	case "PLAIN":
		return plain.Auth{User: cfg.Username, Pass: cfg.Password}.AsMechanism(), nil
	case "SCRAM-SHA-256":
		return scram.Auth{User: cfg.Username, Pass: cfg.Password}.AsSha256Mechanism(), nil
	case "SCRAM-SHA-512":
		return scram.Auth{User: cfg.Username, Pass: cfg.Password}.AsSha512Mechanism(), nil
	}
	return nil, fmt.Errorf("%sKAFKA_SASL_MECHANISM %q: want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", env, cfg.SASLMechanism)
}

// Name returns "kafka".
func (k *Kafka) Name() string { return KindKafka }

// Send produces m and waits until the in-sync replicas have it.
func (k *Kafka) Send(ctx context.Context, m Message) error {
	if err := m.validate(); err != nil {
		return fmt.Errorf("kafka %s: %w", k.topic, err)
	}
	return retry.Do(ctx, k.policy, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, k.timeout)
		defer cancel()
		// A fresh record each attempt: franz-go fills in the one it sends.
		r := &kgo.Record{Topic: k.topic, Value: m.Body}
		if m.Key != "" {
			r.Key = []byte(m.Key)
		}
		for _, a := range m.attrs() {
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: a.name, Value: []byte(a.value)})
		}
		if err := k.produce(ctx, r); err != nil {
			return classifyKafka(fmt.Errorf("kafka %s: record %s: %w", k.topic, m.ID, err))
		}
		return nil
	})
}

// produce is ProduceSync that returns when ctx ends. franz-go looks at a
// record's context only when it is about to send or has an answer, which a
// pending metadata refresh can put seconds away.
func (k *Kafka) produce(ctx context.Context, r *kgo.Record) error {
	done := make(chan error, 1) // never blocks the promise, even once abandoned
	k.client.Produce(ctx, r, func(_ *kgo.Record, err error) { done <- err })
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		select {
		case err := <-done:
			return err
		default:
			return ctx.Err()
		}
	}
}

// Close closes the client. It returns nil; its signature makes Kafka an
// io.Closer.
func (k *Kafka) Close() error {
	k.client.Close()
	return nil
}

// classifyKafka marks what no retry can cure: a Kafka error code that is
// not retriable (TOPIC_AUTHORIZATION_FAILED, MESSAGE_TOO_LARGE,
// SASL_AUTHENTICATION_FAILED, ...) or a closed client. UNKNOWN_SERVER_ERROR
// says nothing of the cause, and network errors and timeouts say the broker
// may answer later: they stay transient.
func classifyKafka(err error) error {
	if errors.Is(err, kgo.ErrClientClosed) {
		return retry.Permanent(err)
	}
	if ke, ok := errors.AsType[*kerr.Error](err); ok && !ke.Retriable && ke != kerr.UnknownServerError {
		return retry.Permanent(err)
	}
	return err
}
