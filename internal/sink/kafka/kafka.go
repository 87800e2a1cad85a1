// Package kafka is the destination that produces each record to a Kafka
// topic (CKafka, MSK or any broker) with franz-go.
package kafka

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

	"github.com/ccc-enricher/ccc-enricher/internal/config"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
	"github.com/ccc-enricher/ccc-enricher/internal/sink"
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

// New returns a Kafka for cfg, as config.Load accepts it. It does not
// connect: the first Send does. The extra client options come after those
// New derives from cfg and so override them, as tests do to trust a
// private CA (kgo.DialTLSConfig) or to shorten backoffs.
func New(cfg config.Kafka, extra ...kgo.Opt) (*Kafka, error) {
	conn, err := Connection(cfg)
	if err != nil {
		return nil, err
	}
	opts := append(conn,
		kgo.DefaultProduceTopic(cfg.Topic),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.AllowIdempotentProduceCancellation(),
		// One record at a time, waited for: lingering only adds latency.
		kgo.ProducerLinger(0),
		// After NOT_LEADER and the like, the default waits up to 5s before
		// learning the new leader: much of an invocation's budget.
		kgo.MetadataMinAge(500*time.Millisecond),
	)
	client, err := kgo.NewClient(append(opts, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("kafka: %w", err)
	}
	return &Kafka{client: client, topic: cfg.Topic, timeout: sink.AttemptTimeout, policy: retry.Default}, nil
}

// Connection returns the client options that reach cfg's brokers: seed
// brokers, client id, SASL and TLS. The intake topic's consumer
// (internal/intake/kafkaqueue) connects as the producer does.
func Connection(cfg config.Kafka) ([]kgo.Opt, error) {
	opts := []kgo.Opt{kgo.SeedBrokers(cfg.Brokers...), kgo.ClientID("ccc-enricher")}
	mech, err := saslMechanism(cfg)
	if err != nil {
		return nil, err
	}
	if mech != nil {
		opts = append(opts, kgo.SASL(mech))
	}
	if cfg.TLS {
		opts = append(opts, kgo.DialTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12}))
	}
	return opts, nil
}

func saslMechanism(cfg config.Kafka) (sasl.Mechanism, error) {
	if cfg.SASLMechanism == "" {
		return nil, nil
	}
	switch strings.ToUpper(cfg.SASLMechanism) {
	case "PLAIN":
		return plain.Auth{User: cfg.Username, Pass: cfg.Password}.AsMechanism(), nil
	case "SCRAM-SHA-256":
		return scram.Auth{User: cfg.Username, Pass: cfg.Password}.AsSha256Mechanism(), nil
	case "SCRAM-SHA-512":
		return scram.Auth{User: cfg.Username, Pass: cfg.Password}.AsSha512Mechanism(), nil
	}
	return nil, fmt.Errorf("kafka: SASL mechanism %q: want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", cfg.SASLMechanism)
}

// Name returns "kafka".
func (k *Kafka) Name() string { return config.KindKafka }

// Send produces m and waits until the in-sync replicas have it.
func (k *Kafka) Send(ctx context.Context, m sink.Message) error {
	if err := m.Validate(); err != nil {
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
		for name, value := range m.Attrs() {
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: name, Value: []byte(value)})
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
