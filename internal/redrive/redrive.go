// Package redrive sends dead-lettered records back to the primary sink.
//
// When the sink fails, the dead-letter fallback (package sink) puts the
// enriched record in the dead-letter sink (DLQ_SINK) so that the push can
// still be acknowledged. A queue trigger on that dead-letter queue (SQS on
// AWS Lambda, CKafka or a CMQ topic on Tencent SCF) hands each message body
// to Redriver.Redrive, which sends the record to the primary sink again,
// never through the dead-letter fallback: a record that fails once more
// stays where it is, in the queue, for the queue's own retry and parking
// rules.
//
// A record the detail could not be fetched for (completeness "partial") is
// enriched again first: its push is parsed anew and the session detail
// fetched through the same enrich.Enricher that serves pushes. If the detail
// still fails, the record goes out partial, as it came. Either way the
// record keeps its id, so consumers deduplicate a redriven record like any
// other redelivery.
//
// A message that is not a record of this program (not JSON, no id, an id
// that does not match the call it names) is malformed: Redrive returns an
// error wrapping ErrMalformed, marked retry.Permanent, and sends nothing.
// The trigger reports it as failed; the queue's redrive policy (SQS
// maxReceiveCount, the CKafka trigger's retry count, SCF's dead-letter
// queue for asynchronous invocations) then moves it aside, so it is
// neither lost silently nor retried forever.
package redrive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/enrich"
	"github.com/ccc-enricher/ccc-enricher/internal/logging"
	"github.com/ccc-enricher/ccc-enricher/internal/push"
	"github.com/ccc-enricher/ccc-enricher/internal/record"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
	"github.com/ccc-enricher/ccc-enricher/internal/sink"
)

// MaxBodyBytes bounds a message body. Records are a few kilobytes; the
// largest queue message any sink writes (Kafka's default) is 1 MiB.
const MaxBodyBytes = 4 << 20

// ErrMalformed is wrapped by Redrive's error for a message that is not a
// record of this program. The error is retry.Permanent.
var ErrMalformed = errors.New("malformed dead-letter message")

// Redriver sends dead-lettered records to the primary sink. It is safe for
// concurrent use.
type Redriver struct {
	// Sink, required, is the primary sink, without the dead-letter
	// fallback.
	Sink sink.Sink
	// Enricher fetches the session detail of partial records: its Detail,
	// MaskPhones and Now are used, its Sink and ForwardPartial are not. Nil
	// forwards partial records as they are.
	Enricher *enrich.Enricher
	// Logger gets one line per record redriven; nil discards.
	Logger *slog.Logger
}

// Redrive sends the record in body, one dead-letter message, to the
// primary sink, enriching it again first if it is partial. It returns nil
// once the sink has durably accepted the record.
//
// Errors keep their class: a malformed message (wrapping ErrMalformed) and
// a record the sink refuses for good are retry.Permanent; a sink that is
// unavailable, or a deadline that ran out, is transient. They name the
// record id and never quote the body, which holds signed recording links.
func (r *Redriver) Redrive(ctx context.Context, body []byte) error {
	rec, err := decode(body)
	if err != nil {
		return err
	}
	m := enrich.Encoded(rec, body)
	completeness, detailErr := rec.Completeness, ""
	if rec.Completeness == record.Partial {
		var full *record.Record
		full, detailErr = r.enrich(ctx, rec)
		if full != nil {
			fm, err := enrich.Message(full)
			if err != nil {
				return fmt.Errorf("redrive record %s: %w", rec.ID, err)
			}
			m, completeness = fm, full.Completeness
		}
	}
	if err := r.Sink.Send(ctx, m); err != nil {
		return fmt.Errorf("redrive record %s of session %s to %s: %w", rec.ID, rec.SessionID, r.Sink.Name(), err)
	}
	attrs := []any{
		"record_id", rec.ID, "sdk_app_id", rec.SdkAppID, "session_id", rec.SessionID, "sink", r.Sink.Name(),
		"completeness", completeness,
	}
	if rec.Completeness == record.Partial {
		attrs = append(attrs, "reenriched", completeness != record.Partial)
		if detailErr != "" {
			attrs = append(attrs, "detail_error", detailErr)
		}
	}
	r.logger().InfoContext(ctx, "record redriven", attrs...)
	return nil
}

// enrich builds the full record of a partial one: the same push, the same
// id, the detail fetched now. It returns nil and the reason when it cannot,
// and the record then goes out as it came.
func (r *Redriver) enrich(ctx context.Context, rec *record.Record) (*record.Record, string) {
	switch {
	case r.Enricher == nil || r.Enricher.Detail == nil:
		return nil, "no detail source"
	case major(rec.SchemaVersion) != major(record.SchemaVersion):
		return nil, "schema version " + rec.SchemaVersion + " is not this program's"
	case len(rec.Push) == 0 || string(rec.Push) == "null":
		return nil, "the record carries no push to enrich"
	}
	now := time.Now
	if r.Enricher.Now != nil {
		now = r.Enricher.Now
	}
	p, err := push.Parse(rec.Kind, rec.Push, now())
	if err != nil {
		return nil, err.Error()
	}
	source := rec.Source
	if source == "" {
		source = record.SourcePush
	}
	// A detail failure must come back as an error, not as another partial.
	full, err := r.Enricher.Build(ctx, enrich.Request{Push: p, Source: source, PushUUID: rec.Meta.PushUUID, RequireDetail: true})
	if err != nil {
		return nil, err.Error()
	}
	if full.ID != rec.ID {
		// decode checked the id against the record's own fields; a push
		// naming another call cannot give the record a new id.
		return nil, "the push names another call than the record"
	}
	if !rec.Meta.ReceivedAt.IsZero() {
		// When CCC pushed is a fact of the push, not of the redrive.
		full.Meta.ReceivedAt = rec.Meta.ReceivedAt.UTC()
	}
	return full, ""
}

func (r *Redriver) logger() *slog.Logger {
	if r.Logger == nil {
		return logging.Discard()
	}
	return r.Logger
}

// decode reads a dead-letter message body as a record; the body itself is
// what is sent on, unknown fields included. Its errors wrap
// ErrMalformed, are retry.Permanent, and describe the shape of the body,
// never its content.
func decode(body []byte) (*record.Record, error) {
	malformed := func(reason string) error {
		return retry.Permanent(fmt.Errorf("%w: %s", ErrMalformed, reason))
	}
	if len(body) > MaxBodyBytes {
		return nil, malformed(fmt.Sprintf("%d bytes, more than %d", len(body), MaxBodyBytes))
	}
	var rec record.Record
	if err := json.Unmarshal(body, &rec); err != nil {
		return nil, malformed("not a JSON record: " + jsonProblem(err))
	}
	if err := checkToken(rec.ID); err != nil || !strings.HasPrefix(rec.ID, "cer_") {
		return nil, malformed("no record id")
	}
	if err := checkToken(rec.SchemaVersion); err != nil {
		return nil, malformed(fmt.Sprintf("record %s: no schemaVersion", rec.ID))
	}
	if _, err := push.ParseKind(string(rec.Kind)); err != nil {
		return nil, malformed(fmt.Sprintf("record %s: no known kind", rec.ID))
	}
	if rec.SdkAppID <= 0 || checkToken(rec.SessionID) != nil || len(rec.SessionID) > push.MaxIDLength {
		return nil, malformed(fmt.Sprintf("record %s: no sdkAppId or sessionId", rec.ID))
	}
	part := ""
	if rec.Kind == push.KindRecord {
		part = rec.RecordID
	}
	if record.ID(rec.SdkAppID, rec.SessionID, rec.Kind, part) != rec.ID {
		// Consumers deduplicate on the id; one that does not belong to the
		// call would make a redriven record a different one.
		return nil, malformed(fmt.Sprintf("record %s: the id does not match its sdkAppId, sessionId, kind and recordId", rec.ID))
	}
	return &rec, nil
}

// checkToken accepts what every sink accepts as an id: 1 to 128 printable
// ASCII characters without space.
func checkToken(s string) error {
	if s == "" || len(s) > 128 {
		return errors.New("empty or too long")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '!' || s[i] > '~' {
			return errors.New("not printable ASCII")
		}
	}
	return nil
}

// jsonProblem describes a decoding error by position and type, since
// encoding/json's messages may quote a piece of the body.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("%s is a JSON %s", typ.Field, typ.Value)
	}
	return "cannot be decoded"
}

// major returns the major part of a schema version, "1" of "1.0".
func major(v string) string {
	m, _, _ := strings.Cut(v, ".")
	return m
}
