package awslambda

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ccc-enricher/ccc-enricher/internal/platform"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

// NewIntakeHandler is NewHandler with queued intake: SQS events from the
// queue in.Source names go to in.Process as one batch (see sqsIntake);
// SQS events from any other queue go to queue as before.
func NewIntakeHandler(h http.Handler, jobs platform.Jobs, queue platform.Queue, in *platform.Intake) func(ctx context.Context, event json.RawMessage) (any, error) {
	return newHandler(&dispatcher{h: h, jobs: jobs, queue: queue, intake: in})
}

// fromIntake reports whether every message of ev comes from the intake
// queue, told by the event's source queue name.
func (d *dispatcher) fromIntake(ev *events.SQSEvent) bool {
	if len(ev.Records) == 0 {
		return false
	}
	for _, m := range ev.Records {
		if !d.intake.Takes(queueName(m.EventSourceARN)) {
			return false
		}
	}
	return true
}

// sqsIntake hands an intake batch to the worker. A message is Final on its
// MaxReceives-th receive (ApproximateReceiveCount). A failed message is
// reported in batchItemFailures; when its error asks for a wait (the CCC
// API's RequestLimitExceeded), its visibility timeout is set to that wait
// so that it comes back when the budget has room. On a FIFO queue every
// message after the first failure is reported failed too, to keep the
// group's order; those already done come back and are deduplicated by
// their record id downstream.
func (d *dispatcher) sqsIntake(ctx context.Context, ev *events.SQSEvent) events.SQSEventResponse {
	batch := make([]platform.Delivery, len(ev.Records))
	for i, m := range ev.Records {
		n, _ := strconv.Atoi(m.Attributes["ApproximateReceiveCount"])
		batch[i] = platform.Delivery{Body: []byte(m.Body), Final: n >= d.intake.MaxReceives}
	}
	errs := d.intake.Process(ctx, batch)
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	failed := false
	for i, m := range ev.Records {
		err := errs[i]
		if err == nil && !(failed && strings.HasSuffix(m.EventSourceARN, ".fifo")) {
			continue
		}
		failed = true
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		if err == nil {
			continue
		}
		attrs := []any{"request_id", requestID(ctx), "message_id", m.MessageId, "queue", queueName(m.EventSourceARN),
			"receive_count", m.Attributes["ApproximateReceiveCount"], "error", err.Error()}
		if w, ok := retry.Wait(err); ok && w > 0 && d.intake.Hide != nil && !retry.IsPermanent(err) {
			if herr := d.intake.Hide(ctx, m.ReceiptHandle, w); herr != nil {
				attrs = append(attrs, "hide_error", herr.Error())
			} else {
				attrs = append(attrs, "hidden_for", w.String())
			}
		}
		slog.Default().WarnContext(ctx, "intake message failed", attrs...)
	}
	return resp
}
