package awslambda_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ccc-enricher/ccc-enricher/internal/awslambda"
	"github.com/ccc-enricher/ccc-enricher/internal/platform"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

// withReceives sets each record's ApproximateReceiveCount and receipt
// handle.
func withReceives(t *testing.T, event []byte, counts ...string) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(event, &ev); err != nil {
		t.Fatal(err)
	}
	for i, r := range ev["Records"].([]any) {
		m := r.(map[string]any)
		attrs := map[string]any{}
		for k, v := range m["attributes"].(map[string]any) {
			attrs[k] = v
		}
		attrs["ApproximateReceiveCount"] = counts[i]
		m["attributes"], m["receiptHandle"] = attrs, "rh-"+m["messageId"].(string)
	}
	out, _ := json.Marshal(ev)
	return out
}

// TestSQSIntake checks that events of the intake queue reach the worker as
// one batch, Final from the receive count, that failures are reported in
// batchItemFailures, and that a throttled message is hidden for the wait
// the API asked; events of another queue (the dead-letter queue) still go
// to the queue function.
func TestSQSIntake(t *testing.T) {
	const (
		intakeARN = "arn:aws:sqs:us-west-2:123456789012:ccc-enricher-intake"
		fifoARN   = "arn:aws:sqs:us-west-2:123456789012:ccc-enricher-intake.fifo"
		dlqARN    = "arn:aws:sqs:us-west-2:123456789012:ccc-enricher-dlq"
	)
	outcome := map[string]error{
		"ok":   nil,
		"slow": retry.After(errors.New("RequestLimitExceeded"), 1500*time.Millisecond),
		"bad":  retry.Permanent(errors.New("malformed intake message")),
	}
	tests := []struct {
		name       string
		source     string
		event      []byte
		wantBatch  []platform.Delivery
		wantFailed []string
		wantHidden map[string]time.Duration
		wantQueue  []string
	}{
		{name: "standard", source: "ccc-enricher-intake",
			event:      withReceives(t, sqsEvent(t, intakeARN, "ok", "slow", "bad", "ok"), "1", "2", "3", "5"),
			wantBatch:  []platform.Delivery{{Body: []byte("ok")}, {Body: []byte("slow")}, {Body: []byte("bad"), Final: true}, {Body: []byte("ok"), Final: true}},
			wantFailed: []string{"m-1", "m-2"}, wantHidden: map[string]time.Duration{"rh-m-1": 1500 * time.Millisecond}},
		{name: "FIFO keeps the order after a failure", source: "ccc-enricher-intake.fifo",
			event:      withReceives(t, sqsEvent(t, fifoARN, "ok", "bad", "ok"), "1", "1", "1"),
			wantBatch:  []platform.Delivery{{Body: []byte("ok")}, {Body: []byte("bad")}, {Body: []byte("ok")}},
			wantFailed: []string{"m-1", "m-2"}, wantHidden: map[string]time.Duration{}},
		{name: "dead-letter queue goes to redrive", source: "ccc-enricher-intake",
			event:      withReceives(t, sqsEvent(t, dlqARN, "ok", "bad"), "1", "1"),
			wantFailed: []string{"m-1"}, wantHidden: map[string]time.Duration{}, wantQueue: []string{"ok", "bad"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var batch []platform.Delivery
			var queued []string
			hidden := map[string]time.Duration{}
			in := &platform.Intake{
				Source: tt.source, MaxReceives: 3,
				Process: func(_ context.Context, b []platform.Delivery) []error {
					batch = b
					errs := make([]error, len(b))
					for i, d := range b {
						errs[i] = outcome[string(d.Body)]
					}
					return errs
				},
				Hide: func(_ context.Context, rh string, wait time.Duration) error {
					hidden[rh] = wait
					return nil
				},
			}
			queue := func(_ context.Context, body []byte) error {
				queued = append(queued, string(body))
				return outcome[string(body)]
			}
			h := awslambda.NewIntakeHandler(echoHandler(t), nil, queue, in)
			resp, err := h(invocationContext(t), tt.event)
			if err != nil {
				t.Fatal(err)
			}
			failed := []string{}
			for _, f := range resp.(events.SQSEventResponse).BatchItemFailures {
				failed = append(failed, f.ItemIdentifier)
			}
			if !reflect.DeepEqual(batch, tt.wantBatch) || !reflect.DeepEqual(failed, tt.wantFailed) ||
				!reflect.DeepEqual(hidden, tt.wantHidden) || !reflect.DeepEqual(queued, tt.wantQueue) {
				t.Errorf("batch %+v failed %q hidden %v queued %q;\nwant batch %+v failed %q hidden %v queued %q",
					batch, failed, hidden, queued, tt.wantBatch, tt.wantFailed, tt.wantHidden, tt.wantQueue)
			}
		})
	}
}
