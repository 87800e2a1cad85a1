// Package intake decouples answering CCC from enriching a call, for bursts
// beyond CCC's per-account limit of 20 DescribeSessionDetail requests a
// second.
//
// With queued intake the push route authenticates and validates a push as
// always, writes it to a durable queue as an Envelope, and answers CCC as
// soon as the queue has it. Workers then take envelopes off the queue at
// the pace the account's budget allows and run the same pipeline as the
// synchronous path, with the same record ids. A Worker is what every
// consumer (an SQS event source, a CKafka or CMQ trigger, the long-running
// `bootstrap worker`) hands its messages to.
package intake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/push"
	"github.com/ccc-enricher/ccc-enricher/internal/record"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
	"github.com/ccc-enricher/ccc-enricher/internal/sink"
)

// Version is the envelope format's version, its field "v". A worker
// refuses an envelope of another version rather than guess at it.
const Version = 1

// MaxBodyBytes bounds an envelope: a push of at most 1 MiB (the push
// route's limit) and its metadata, within SQS's and Kafka's message limits
// once the route's limit is kept to its default.
const MaxBodyBytes = 2 << 20

// ErrMalformed is wrapped by Decode's error for a message that is not an
// envelope of this program. The error is retry.Permanent.
var ErrMalformed = errors.New("malformed intake message")

// Envelope is one push as the push route received it: what a worker needs
// to enrich it later exactly as the synchronous path would have.
type Envelope struct {
	V          int       `json:"v"`
	Kind       push.Kind `json:"kind"`
	SdkAppID   int64     `json:"sdkAppId"`
	SessionID  string    `json:"sessionId"`
	PushUUID   string    `json:"pushUuid,omitempty"`
	ReceivedAt time.Time `json:"receivedAt"`
	// Body is the push's body as validated (compacted, every field kept).
	Body json.RawMessage `json:"body"`
}

// Message returns the queue message for a validated push. Its id is the
// push's record id, so that a FIFO queue's deduplication collapses CCC's
// resends of one push, and it is keyed by SessionId and grouped by
// SdkAppId like the records themselves.
func Message(p *push.Push, pushUUID string, receivedAt time.Time) (sink.Message, error) {
	env := Envelope{
		V: Version, Kind: p.Kind, SdkAppID: p.SdkAppID, SessionID: p.SessionID,
		PushUUID: pushUUID, ReceivedAt: receivedAt.UTC(), Body: p.Raw,
	}
	body, err := json.Marshal(env)
	if err != nil {
		return sink.Message{}, retry.Permanent(fmt.Errorf("encode intake message for session %s: %w", p.SessionID, err))
	}
	return sink.Message{
		ID:            record.IDOf(p),
		SchemaVersion: fmt.Sprintf("intake-%d", Version),
		Key:           p.SessionID,
		Group:         fmt.Sprint(p.SdkAppID),
		Body:          body,
	}, nil
}

// Decode parses one queue message into an envelope and its push, validated
// by push.Parse as the push route did (now bounds its timestamps). Errors
// are permanent: a message that does not decode now never will. They
// describe the message's shape, never its content.
func Decode(b []byte, now time.Time) (*Envelope, *push.Push, error) {
	if len(b) > MaxBodyBytes {
		return nil, nil, malformed("larger than %d bytes", MaxBodyBytes)
	}
	var env Envelope
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&env); err != nil || d.More() {
		return nil, nil, malformed("not an intake envelope")
	}
	if env.V != Version {
		return nil, nil, malformed("envelope version %d, want %d", env.V, Version)
	}
	if env.ReceivedAt.IsZero() {
		return nil, nil, malformed("no receivedAt")
	}
	p, err := push.Parse(env.Kind, env.Body, now)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if p.SdkAppID != env.SdkAppID || p.SessionID != env.SessionID {
		return nil, nil, malformed("the envelope names another call than its push")
	}
	return &env, p, nil
}

func malformed(format string, args ...any) error {
	return retry.Permanent(fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...)))
}
