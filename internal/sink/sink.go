// Package sink delivers enriched call records to the user's downstream: a
// signed webhook, a queue (TDMQ for CMQ, SQS, Kafka) or standard output.
//
// A Sink receives an already encoded record and its idempotency key; it knows
// nothing of CCC. Every Sink returns nil only once the message is durably
// accepted by its destination, and classifies its failures with package
// retry, so that the caller can decide between retrying, dead-lettering and
// asking CCC to push again.
package sink

import (
	"context"
	"crypto/tls"
	"fmt"
	"maps"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

// Message is one encoded record and the metadata every destination carries
// as attributes or headers.
type Message struct {
	// ID is the record id: deterministic per call and push kind, so it is the
	// consumer's idempotency key across redeliveries and reconciliation.
	ID string
	// SchemaVersion is the record's schema version.
	SchemaVersion string
	// Key orders and partitions related messages: the SessionId.
	Key string
	// Group is the FIFO group for ordered queues: the SdkAppId.
	Group string
	// Body is the record as JSON.
	Body []byte
	// Attributes are further metadata carried beside ID and SchemaVersion,
	// such as why a message was dead-lettered. Keys are lower-case ASCII
	// letters, digits and '-'; values are short printable text. It may be
	// nil.
	Attributes map[string]string
}

// Names of the attributes (queue message attributes, Kafka headers) every
// destination carries. The webhook carries the record id as webhook-id and
// the others as headers prefixed with "ccc-enricher-".
const (
	AttrRecordID      = "record-id"
	AttrSchemaVersion = "schema-version"
	// AttrDeadLetterFrom names the sink that failed ("webhook", ...).
	AttrDeadLetterFrom = "dead-letter-from"
	// AttrDeadLetterClass is "permanent" or "transient": whether a retry of
	// the primary sink could have succeeded.
	AttrDeadLetterClass = "dead-letter-class"
	// AttrDeadLetterReason is the primary sink's error, shortened.
	AttrDeadLetterReason = "dead-letter-reason"
)

// Sink sends messages to one destination.
type Sink interface {
	// Send delivers m. It returns nil only when the destination has durably
	// accepted m; errors are classified with retry.Permanent where no retry
	// can help.
	Send(ctx context.Context, m Message) error
	// Name names the destination kind for logs and metrics ("webhook", ...).
	Name() string
}

// Kinds of sink, the values of SINK and DLQ_SINK.
const (
	KindWebhook = "webhook"
	KindCMQ     = "cmq"
	KindSQS     = "sqs"
	KindKafka   = "kafka"
	KindStdout  = "stdout"
)

// Config selects and configures one sink. Package config fills it from the
// environment (SINK, WEBHOOK_*, CMQ_*, SQS_*, KAFKA_*; the same with a DLQ_
// prefix for the dead-letter sink).
type Config struct {
	Kind    string
	Webhook WebhookConfig
	CMQ     CMQConfig
	SQS     SQSConfig
	Kafka   KafkaConfig
}

// WebhookConfig configures the signed webhook (Standard Webhooks).
type WebhookConfig struct {
	URL string
	// Secret is the signing secret as given: "whsec_" followed by base64.
	Secret string
	// Timeout bounds one HTTP attempt; zero means 10s.
	Timeout time.Duration
}

// CMQConfig configures TDMQ for CMQ's SendCmqMsg (tdmq 2020-02-17).
type CMQConfig struct {
	Queue  string
	Region string
	// Endpoint overrides tdmq.tencentcloudapi.com; "http://host:port" is
	// accepted for the emulator.
	Endpoint string
}

// SQSConfig configures Amazon SQS. FIFO queues (".fifo") get
// MessageGroupId and MessageDeduplicationId.
type SQSConfig struct {
	QueueURL string
}

// KafkaConfig configures a Kafka producer (CKafka, MSK or any broker).
type KafkaConfig struct {
	Brokers []string
	Topic   string
	// SASLMechanism is "", "PLAIN", "SCRAM-SHA-256" or "SCRAM-SHA-512".
	SASLMechanism string
	Username      string
	Password      string
	TLS           bool
	// TLSConfig, if set, is used (cloned) to dial the brokers, for example
	// to trust a private CA; it implies TLS. Nil with TLS means the system
	// roots and TLS 1.2 or later.
	TLSConfig *tls.Config
}

// attemptTimeout bounds one attempt of a sink that has no configured
// timeout, so that one stuck connection leaves time for a retry within the
// invocation.
const attemptTimeout = 10 * time.Second

// Limits of the record id and schema version. 128 printable ASCII
// characters without space is what SQS allows for MessageDeduplicationId
// and MessageGroupId, the strictest of the destinations.
const (
	maxIDLen        = 128
	maxAttrValueLen = 256
)

// validate rejects a message no destination could carry faithfully. It is
// a programming error upstream, so the error is permanent.
func (m Message) validate() error {
	if err := checkToken("record id", m.ID, maxIDLen); err != nil {
		return retry.Permanent(err)
	}
	if err := checkToken("schema version", m.SchemaVersion, maxIDLen); err != nil {
		return retry.Permanent(err)
	}
	if len(m.Body) == 0 {
		return retry.Permanent(fmt.Errorf("record %s: empty body", m.ID))
	}
	for k, v := range m.Attributes {
		if !validAttrName(k) || k == AttrRecordID || k == AttrSchemaVersion {
			return retry.Permanent(fmt.Errorf("record %s: invalid attribute name %q", m.ID, k))
		}
		if v == "" || len(v) > maxAttrValueLen || sanitize(v, maxAttrValueLen) != v {
			return retry.Permanent(fmt.Errorf("record %s: attribute %s: value is empty, too long or not printable", m.ID, k))
		}
	}
	return nil
}

// checkToken accepts 1 to limit characters of printable ASCII without space.
func checkToken(what, s string, limit int) error {
	if s == "" {
		return fmt.Errorf("%s is empty", what)
	}
	if len(s) > limit {
		return fmt.Errorf("%s is longer than %d characters", what, limit)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '!' || s[i] > '~' {
			return fmt.Errorf("%s %q: only printable ASCII without space is allowed", what, s)
		}
	}
	return nil
}

func validAttrName(k string) bool {
	if k == "" || len(k) > 64 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// attr is one name and value a destination carries.
type attr struct{ name, value string }

// attrs lists the record id, the schema version and the extra attributes,
// in a stable order.
func (m Message) attrs() []attr {
	a := []attr{{AttrRecordID, m.ID}, {AttrSchemaVersion, m.SchemaVersion}}
	for _, k := range slices.Sorted(maps.Keys(m.Attributes)) {
		a = append(a, attr{k, m.Attributes[k]})
	}
	return a
}

// sanitize makes outside text (a reply body, an error) safe to put in an
// error, a log line or a header: valid UTF-8, printable, runs of space and
// control characters collapsed to one space, at most limit bytes.
func sanitize(s string, limit int) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) || unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		n := utf8.RuneLen(r)
		if space {
			n++
		}
		if b.Len()+n > limit {
			break
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// shortError is err's text, sanitised and cut, for an attribute or a reply.
// Errors in this program never carry secrets; this guards only the shape.
func shortError(err error) string {
	s := sanitize(err.Error(), 200)
	if s == "" {
		return "unknown error"
	}
	return s
}

// modulePath is this program's module, whose version goes in User-Agent.
const modulePath = "github.com/ccc-enricher/ccc-enricher"

// version is the module version stamped by the go command at build time
// (a tag or a pseudo-version), or "dev".
var version = sync.OnceValue(func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	mods := append([]*debug.Module{&bi.Main}, bi.Deps...)
	for _, m := range mods {
		if m != nil && m.Path == modulePath && m.Version != "" && m.Version != "(devel)" {
			return m.Version
		}
	}
	return "dev"
})
