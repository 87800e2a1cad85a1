package sqsqueue

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/ccc-enricher/ccc-enricher/internal/platform"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

// finishTimeout bounds the work on a message already received when the
// consumer is stopped: it is finished, not abandoned, and if it cannot be
// finished in time the queue delivers it again after its visibility
// timeout.
const finishTimeout = 30 * time.Second

// Consumer is the long-running worker's side of an SQS intake queue: it
// long-polls (WaitTimeSeconds 20) with Concurrency receivers, each with
// one message in flight, and settles each message by its outcome:
// deleted once done; hidden for the wait a transient failure asks
// (ChangeMessageVisibility); left alone on a permanent failure, so that
// the queue's redrive policy moves it to the dead-letter queue.
type Consumer struct {
	Queue *Queue
	// Process handles one delivery; see platform.Intake.Process.
	Process func(ctx context.Context, batch []platform.Delivery) []error
	// MaxReceives is the receive count from which a delivery is Final.
	MaxReceives int
	// Concurrency is the number of messages in flight.
	Concurrency int
	// WaitTime is the long poll, 20 s when zero.
	WaitTime time.Duration
	Logger   *slog.Logger
}

// Run consumes until ctx is done, then finishes the messages in flight
// and returns nil. Receive errors are logged and retried after a pause.
func (c *Consumer) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for range max(c.Concurrency, 1) {
		wg.Go(func() { c.receiveLoop(ctx) })
	}
	wg.Wait()
	return nil
}

func (c *Consumer) receiveLoop(ctx context.Context) {
	wait := c.WaitTime
	if wait == 0 {
		wait = 20 * time.Second
	}
	for ctx.Err() == nil {
		out, err := c.Queue.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(c.Queue.url),
			MaxNumberOfMessages:         1,
			WaitTimeSeconds:             int32(wait / time.Second),
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount},
		})
		if err != nil {
			if ctx.Err() == nil {
				c.logger().WarnContext(ctx, "intake: receive failed", "queue", c.Queue.name, "error", err.Error())
				sleep(ctx, time.Second)
			}
			continue
		}
		for _, m := range out.Messages {
			// A message received is finished even once ctx is done.
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
			c.settle(fctx, m)
			cancel()
		}
	}
}

// settle processes one message and tells the queue the outcome.
func (c *Consumer) settle(ctx context.Context, m types.Message) {
	n, _ := strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
	err := c.Process(ctx, []platform.Delivery{{Body: []byte(aws.ToString(m.Body)), Final: n >= c.MaxReceives}})[0]
	attrs := []any{"queue", c.Queue.name, "message_id", aws.ToString(m.MessageId), "receive_count", n}
	switch {
	case err == nil:
		_, derr := c.Queue.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(c.Queue.url), ReceiptHandle: m.ReceiptHandle})
		if derr != nil {
			// The message comes back and is delivered again with the same
			// record id.
			c.logger().WarnContext(ctx, "intake: delete failed", append(attrs, "error", derr.Error())...)
		}
	case retry.IsPermanent(err):
		c.logger().WarnContext(ctx, "intake: message failed for good; the redrive policy moves it", append(attrs, "error", err.Error())...)
	default:
		if w, ok := retry.Wait(err); ok && w > 0 {
			if herr := c.Queue.Hide(ctx, aws.ToString(m.ReceiptHandle), w); herr != nil {
				attrs = append(attrs, "hide_error", herr.Error())
			}
		}
		c.logger().WarnContext(ctx, "intake: message failed; the queue delivers it again", append(attrs, "error", err.Error())...)
	}
}

func (c *Consumer) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
