package sqsqueue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/ccc-enricher/ccc-enricher/internal/platform"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
	"github.com/ccc-enricher/ccc-enricher/internal/testenv"
)

// TestConsumer runs the consumer against moto_server, on a standard and a
// FIFO queue: every message is processed, a throttled one is hidden for
// the API's wait and comes back (its second receive, Final with
// MaxReceives 2), the others are deleted, and the queue is empty at the
// end.
func TestConsumer(t *testing.T) {
	endpoint := testenv.StartMoto(t)
	awsCfg := testenv.AWSConfig(endpoint)
	client := sqs.NewFromConfig(awsCfg)
	for _, name := range []string{"intake", "intake.fifo"} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			attrs := map[string]string{"VisibilityTimeout": "30"}
			if name == "intake.fifo" {
				attrs["FifoQueue"], attrs["ContentBasedDeduplication"] = "true", "true"
			}
			cq, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
			if err != nil {
				t.Fatal(err)
			}
			for i, b := range []string{"a", "slow", "b"} {
				in := &sqs.SendMessageInput{QueueUrl: cq.QueueUrl, MessageBody: aws.String(b)}
				if name == "intake.fifo" {
					in.MessageGroupId = aws.String(fmt.Sprint(i)) // one group each: the throttled one holds no other back
				}
				if _, err := client.SendMessage(ctx, in); err != nil {
					t.Fatal(err)
				}
			}
			q, err := New(aws.ToString(cq.QueueUrl), awsCfg)
			if err != nil {
				t.Fatal(err)
			}
			var (
				mu   sync.Mutex
				seen []platform.Delivery
			)
			done := make(chan struct{})
			runCtx, stop := context.WithCancel(ctx)
			c := &Consumer{Queue: q, MaxReceives: 2, Concurrency: 2, WaitTime: time.Second,
				Process: func(_ context.Context, b []platform.Delivery) []error {
					mu.Lock()
					defer mu.Unlock()
					seen = append(seen, b[0])
					if string(b[0].Body) == "slow" && !b[0].Final {
						return []error{retry.After(errors.New("RequestLimitExceeded"), time.Second)}
					}
					if len(seen) == 4 {
						close(done)
					}
					return []error{nil}
				}}
			ran := make(chan error, 1)
			go func() { ran <- c.Run(runCtx) }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("the throttled message did not come back within 20 s (visibility timeout 30 s)")
			}
			stop()
			if err := <-ran; err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			slow := 0
			for _, d := range seen {
				if string(d.Body) == "slow" {
					if d.Final != (slow == 1) {
						t.Errorf("slow receive %d: Final = %v", slow+1, d.Final)
					}
					slow++
				}
			}
			if len(seen) != 4 || slow != 2 {
				t.Errorf("deliveries %+v, want a, b once and slow twice", seen)
			}
			attrsOut, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: cq.QueueUrl,
				AttributeNames: []types.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}})
			if err != nil {
				t.Fatal(err)
			}
			if a := attrsOut.Attributes; a["ApproximateNumberOfMessages"] != "0" || a["ApproximateNumberOfMessagesNotVisible"] != "0" {
				t.Errorf("queue not empty after the run: %v", a)
			}
		})
	}
}
