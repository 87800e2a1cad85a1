package kafka

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ccc-enricher/ccc-enricher/internal/config"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
	"github.com/ccc-enricher/ccc-enricher/internal/sink"
	"github.com/ccc-enricher/ccc-enricher/internal/sink/sinktest"
)

const testTopic = "ccc-records"

// fastKafka keeps franz-go's own backoff short in tests.
var fastKafka = []kgo.Opt{
	kgo.RetryBackoffFn(func(int) time.Duration { return 10 * time.Millisecond }),
	kgo.MetadataMinAge(10 * time.Millisecond),
}

func newCluster(t *testing.T, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(1, testTopic)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func newTestKafka(t *testing.T, cfg config.Kafka, extra ...kgo.Opt) *Kafka {
	t.Helper()
	k, err := New(cfg, append(fastKafka, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	k.policy = sinktest.Policy
	t.Cleanup(func() { k.Close() })
	return k
}

// consume reads n records from the start of the topic.
func consume(t *testing.T, c *kfake.Cluster, n int, opts ...kgo.Opt) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(c.ListenAddrs()...),
		kgo.ConsumeTopics(testTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) < n {
		f := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d records: %v", len(recs), n, err)
		}
		recs = append(recs, f.Records()...)
	}
	return recs
}

func headers(r *kgo.Record) map[string]string {
	h := map[string]string{}
	for _, kv := range r.Headers {
		h[kv.Key] = string(kv.Value)
	}
	return h
}

func TestConformance(t *testing.T) {
	const password = "kafka-s3cret-pass"
	sinktest.Run(t, sinktest.Harness{
		Working: func(t *testing.T) (sink.Sink, func(*testing.T) []sinktest.Delivery) {
			c := newCluster(t)
			return newTestKafka(t, config.Kafka{Brokers: c.ListenAddrs(), Topic: testTopic}), func(t *testing.T) []sinktest.Delivery {
				var out []sinktest.Delivery
				for _, r := range consume(t, c, 1) {
					h := headers(r)
					out = append(out, sinktest.Delivery{ID: h[sink.AttrRecordID], SchemaVersion: h[sink.AttrSchemaVersion], Body: r.Value})
				}
				return out
			}
		},
		Refusing: func(t *testing.T) sink.Sink {
			c := newCluster(t)
			c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: testTopic, Err: kerr.TopicAuthorizationFailed, Count: -1})
			return newTestKafka(t, config.Kafka{Brokers: c.ListenAddrs(), Topic: testTopic})
		},
		// kfake hangs up on a wrong password, as a network failure would.
		Failing: func(t *testing.T) sink.Sink {
			c := newCluster(t, kfake.EnableSASL(), kfake.Superuser("PLAIN", "ccc", "right-pass"))
			k := newTestKafka(t, config.Kafka{Brokers: c.ListenAddrs(), Topic: testTopic, SASLMechanism: "PLAIN", Username: "ccc", Password: password})
			k.timeout = 200 * time.Millisecond
			return k
		},
		Hanging: func(t *testing.T) sink.Sink {
			return newTestKafka(t, config.Kafka{Brokers: []string{sinktest.Blackhole(t)}, Topic: testTopic})
		},
		Secrets: []string{password},
	})
}

func TestKafkaProduceConsume(t *testing.T) {
	c := newCluster(t)
	k := newTestKafka(t, config.Kafka{Brokers: c.ListenAddrs(), Topic: testTopic})
	m := sinktest.Message()
	m.Attributes = map[string]string{sink.AttrDeadLetterFrom: "webhook"}
	if err := k.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	recs := consume(t, c, 1)
	r := recs[0]
	if string(r.Key) != m.Key || string(r.Value) != string(m.Body) {
		t.Errorf("record key %q value %q", r.Key, r.Value)
	}
	h := headers(r)
	for name, want := range map[string]string{sink.AttrRecordID: m.ID, sink.AttrSchemaVersion: m.SchemaVersion, sink.AttrDeadLetterFrom: "webhook"} {
		if h[name] != want {
			t.Errorf("header %s = %q, want %q", name, h[name], want)
		}
	}
	if k.Name() != "kafka" {
		t.Errorf("Name = %q", k.Name())
	}
}

func TestKafkaSASL(t *testing.T) {
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
		t.Run(mech, func(t *testing.T) {
			c := newCluster(t, kfake.EnableSASL(), kfake.Superuser(mech, "ccc", "s3cret-pass"))
			cfg := config.Kafka{Brokers: c.ListenAddrs(), Topic: testTopic, SASLMechanism: mech, Username: "ccc", Password: "s3cret-pass"}
			if err := newTestKafka(t, cfg).Send(context.Background(), sinktest.Message()); err != nil {
				t.Fatalf("Send: %v", err)
			}

			// kfake hangs up on a wrong password, as a network failure
			// would; a real broker's SASL_AUTHENTICATION_FAILED is permanent
			// (see TestClassifyKafka).
			cfg.Password = "wrong-pass"
			k := newTestKafka(t, cfg)
			k.timeout = 200 * time.Millisecond
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			err := k.Send(ctx, sinktest.Message())
			if err == nil || retry.IsPermanent(err) {
				t.Errorf("Send with a wrong password = %v, want a transient error", err)
			}
			if err != nil && strings.Contains(err.Error(), "wrong-pass") {
				t.Errorf("error %q reveals the password", err)
			}
		})
	}
}

func TestKafkaTLS(t *testing.T) {
	serverCfg, roots := selfSigned(t)
	c := newCluster(t, kfake.TLS(serverCfg))
	cfg := config.Kafka{Brokers: c.ListenAddrs(), Topic: testTopic, TLS: true}
	if err := newTestKafka(t, cfg, kgo.DialTLSConfig(&tls.Config{RootCAs: roots})).Send(context.Background(), sinktest.Message()); err != nil {
		t.Fatalf("Send over TLS: %v", err)
	}
	if n := len(consume(t, c, 1, kgo.DialTLSConfig(&tls.Config{RootCAs: roots}))); n != 1 {
		t.Errorf("consumed %d records", n)
	}
}

// selfSigned returns a server TLS configuration for 127.0.0.1 and a pool
// that trusts it.
func selfSigned(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "kfake"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

// TestKafkaBrokerErrors injects produce errors with kfake's faults.
func TestKafkaBrokerErrors(t *testing.T) {
	tests := []struct {
		name      string
		err       *kerr.Error
		count     int // -1: until the end of the test
		wantErr   bool
		permanent bool
		wantHits  int // 0: not checked
	}{
		{"not leader three times", kerr.NotLeaderForPartition, 3, false, false, 3},
		{"not enough replicas twice", kerr.NotEnoughReplicas, 2, false, false, 2},
		{"unknown server error once", kerr.UnknownServerError, 1, false, false, 1},
		{"topic authorization failed", kerr.TopicAuthorizationFailed, -1, true, true, 1},
		{"message too large", kerr.MessageTooLarge, -1, true, true, 1},
		{"invalid record", kerr.InvalidRecord, -1, true, true, 1},
		{"not leader until the deadline", kerr.NotLeaderForPartition, -1, true, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCluster(t)
			k := newTestKafka(t, config.Kafka{Brokers: c.ListenAddrs(), Topic: testTopic})
			k.timeout = 300 * time.Millisecond
			h := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: testTopic, Err: tt.err, Count: tt.count})
			defer h.Remove()

			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			err := k.Send(ctx, sinktest.Message())
			if tt.count < 0 && !tt.permanent && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Send = %v, want it to end with the deadline", err)
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("Send = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && retry.IsPermanent(err) != tt.permanent {
				t.Errorf("permanent = %v, want %v: %v", retry.IsPermanent(err), tt.permanent, err)
			}
			if tt.wantHits > 0 && h.Hits() != tt.wantHits {
				t.Errorf("fault answered %d produce requests, want %d", h.Hits(), tt.wantHits)
			}
			if !tt.wantErr {
				if n := len(consume(t, c, 1)); n != 1 {
					t.Errorf("consumed %d records", n)
				}
			}
		})
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		cfg     config.Kafka
		wantErr string
	}{
		{"ok", config.Kafka{Brokers: []string{"127.0.0.1:9092"}, Topic: "t"}, ""},
		{"sasl ok", config.Kafka{Brokers: []string{"b:9092"}, Topic: "t", SASLMechanism: "scram-sha-512", Username: "u", Password: "p"}, ""},
		{"tls ok", config.Kafka{Brokers: []string{"b:9092"}, Topic: "t", TLS: true}, ""},
		{"unknown mechanism", config.Kafka{Brokers: []string{"b:9092"}, Topic: "t", SASLMechanism: "GSSAPI", Username: "u", Password: "hunter2"}, `SASL mechanism "GSSAPI"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := New(tt.cfg)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				k.Close()
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New = %v, want %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q reveals the password", err)
			}
		})
	}
}

func TestClassifyKafka(t *testing.T) {
	tests := []struct {
		err       error
		permanent bool
	}{
		{kerr.SaslAuthenticationFailed, true},
		{kerr.TopicAuthorizationFailed, true},
		{kerr.MessageTooLarge, true},
		{kerr.PolicyViolation, true},
		{kgo.ErrClientClosed, true},
		{kerr.UnknownServerError, false},
		{kerr.NotLeaderForPartition, false},
		{kerr.RequestTimedOut, false},
		{kgo.ErrRecordTimeout, false},
		{context.DeadlineExceeded, false},
		{io.EOF, false},
	}
	for _, tt := range tests {
		err := classifyKafka(fmt.Errorf("kafka t: record r: %w", tt.err))
		if retry.IsPermanent(err) != tt.permanent {
			t.Errorf("%v: permanent = %v, want %v", tt.err, retry.IsPermanent(err), tt.permanent)
		}
	}
}

func TestKafkaClosed(t *testing.T) {
	c := newCluster(t)
	k := newTestKafka(t, config.Kafka{Brokers: c.ListenAddrs(), Topic: testTopic})
	k.Close()
	if err := k.Send(context.Background(), sinktest.Message()); !retry.IsPermanent(err) {
		t.Errorf("Send after Close = %v, want permanent", err)
	}
}
