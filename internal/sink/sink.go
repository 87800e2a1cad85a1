// Package sink is what every destination of enriched call records shares:
// the Sink interface, the Message it carries and its checks, and the
// dead-letter fallback. The destinations themselves (a signed webhook, TDMQ
// for CMQ, SQS, Kafka, standard output) are its subpackages, so that this
// package, and the enricher that uses it, import no cloud SDK.
//
// A Sink receives an already encoded record and its idempotency key; it knows
// nothing of CCC. Every Sink returns nil only once the message is durably
// accepted by its destination, and classifies its failures with package
// retry, so that the caller can decide between retrying, dead-lettering and
// asking CCC to push again.
package sink

import (
	"context"
	"fmt"
	"iter"
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

// AttemptTimeout bounds one attempt of a sink that has no configured
// timeout, so that one stuck connection leaves time for a retry within the
// invocation.
const AttemptTimeout = 10 * time.Second

// Limits of the record id and schema version. 128 printable ASCII
// characters without space is what SQS allows for MessageDeduplicationId
// and MessageGroupId, the strictest of the destinations.
const (
	maxIDLen        = 128
	maxAttrValueLen = 256
)

// Validate rejects a message no destination could carry faithfully. It is
// a programming error upstream, so the error is permanent. Every Sink
// calls it first.
func (m Message) Validate() error {
	if err := CheckToken("record id", m.ID); err != nil {
		return retry.Permanent(err)
	}
	if err := CheckToken("schema version", m.SchemaVersion); err != nil {
		return retry.Permanent(err)
	}
	if len(m.Body) == 0 {
		return retry.Permanent(fmt.Errorf("record %s: empty body", m.ID))
	}
	for k, v := range m.Attributes {
		if !validAttrName(k) || k == AttrRecordID || k == AttrSchemaVersion {
			return retry.Permanent(fmt.Errorf("record %s: invalid attribute name %q", m.ID, k))
		}
		if v == "" || len(v) > maxAttrValueLen || Sanitize(v, maxAttrValueLen) != v {
			return retry.Permanent(fmt.Errorf("record %s: attribute %s: value is empty, too long or not printable", m.ID, k))
		}
	}
	return nil
}

// CheckToken accepts 1 to 128 characters of printable ASCII without space,
// what every destination can carry as an id; what names s in the error.
func CheckToken(what, s string) error {
	if s == "" {
		return fmt.Errorf("%s is empty", what)
	}
	if len(s) > maxIDLen {
		return fmt.Errorf("%s is longer than %d characters", what, maxIDLen)
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

// Attrs yields the names and values a queue carries beside the body: the
// record id, the schema version and the extra attributes, in a stable
// order.
func (m Message) Attrs() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		if !yield(AttrRecordID, m.ID) || !yield(AttrSchemaVersion, m.SchemaVersion) {
			return
		}
		for _, k := range slices.Sorted(maps.Keys(m.Attributes)) {
			if !yield(k, m.Attributes[k]) {
				return
			}
		}
	}
}

// Sanitize makes outside text (a reply body, an error) safe to put in an
// error, a log line or a header: valid UTF-8, printable, runs of space and
// control characters collapsed to one space, at most limit bytes.
func Sanitize(s string, limit int) string {
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
	s := Sanitize(err.Error(), 200)
	if s == "" {
		return "unknown error"
	}
	return s
}

// modulePath is this program's module, whose version goes in User-Agent.
const modulePath = "github.com/ccc-enricher/ccc-enricher"

// UserAgent is the User-Agent of the destinations that send HTTP
// requests: "ccc-enricher/" and the module version.
func UserAgent() string { return "ccc-enricher/" + version() }

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
