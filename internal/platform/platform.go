// Package platform is the contract between the program and the serverless
// adapters (internal/awslambda, internal/scf): the jobs a schedule runs,
// the function a queue trigger feeds, and how an event that matches no
// known shape is described. The adapters translate events to and from
// these; what a job or a queue message does is the program's business.
package platform

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Job runs a scheduled job for the time it was scheduled.
type Job func(ctx context.Context, scheduled time.Time) error

// Jobs names the jobs a platform's timer or schedule can run.
type Jobs map[string]Job

// DefaultJob is the job a scheduled event runs when it names none.
const DefaultJob = "reconcile"

// Queue processes the body of one queue message, such as a dead-lettered
// record to redrive. A non-nil error means the message was not handled:
// the platform delivers it again (Lambda reports the message failed, SCF
// fails the invocation and its trigger retries the batch).
type Queue func(ctx context.Context, body []byte) error

// maxMembers bounds the member names Describe lists.
const maxMembers = 10

// Describe names an unrecognised event by its member names, sorted, at
// most ten: enough to tell what sent it, while the values may hold
// credentials.
func Describe(event []byte) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(event, &m) != nil {
		return "not a JSON object"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if len(keys) > maxMembers {
		keys = append(keys[:maxMembers], "…")
	}
	return fmt.Sprintf("object with members %v", keys)
}

// Delivery is one message of the intake queue as a trigger delivered it.
type Delivery struct {
	Body []byte
	// Final is set on the message's last receive (INTAKE_MAX_RECEIVES):
	// the queue will not deliver it again.
	Final bool
}

// Intake is the queue function of the intake queue (package intake): a
// trigger whose source is the intake queue hands it the whole batch,
// every other queue trigger goes to the Queue function.
type Intake struct {
	// Source is the intake queue's name as events name their source: the
	// SQS queue name, the CKafka topic or the CMQ queue or topic.
	Source string
	// MaxReceives is the receive count from which a delivery is Final.
	MaxReceives int
	// Process handles a batch and returns one error per delivery, nil for
	// those done; retry.Wait on an error asks the queue to wait that long.
	Process func(ctx context.Context, batch []Delivery) []error
	// Hide, when set, makes an SQS message invisible for wait (its
	// receipt handle given), so that it comes back when the CCC API's
	// budget has room instead of at the queue's visibility timeout.
	Hide func(ctx context.Context, receiptHandle string, wait time.Duration) error
}

// Takes reports whether a trigger's messages from source belong to in.
func (in *Intake) Takes(source string) bool {
	return in != nil && in.Process != nil && in.Source != "" && source == in.Source
}
