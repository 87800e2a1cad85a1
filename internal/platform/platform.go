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
