// Package sqsqueue is the intake queue's SQS side beyond sending (which
// internal/sink/sqs does): hiding a message for the wait the CCC API
// asked, with aws-sdk-go-v2's ChangeMessageVisibility.
package sqsqueue

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// maxVisibility is SQS's longest visibility timeout, 12 hours.
const maxVisibility = 12 * time.Hour

// Queue is one SQS queue, by URL.
type Queue struct {
	client *sqs.Client
	url    string
	name   string
}

// New returns the queue at queueURL with awsCfg's credentials, region and
// endpoint.
func New(queueURL string, awsCfg aws.Config) (*Queue, error) {
	u, err := url.Parse(queueURL)
	if err != nil || u.Path == "" {
		return nil, errors.New("sqsqueue: the queue URL does not parse")
	}
	return &Queue{client: sqs.NewFromConfig(awsCfg), url: queueURL, name: path.Base(u.Path)}, nil
}

// Hide makes the message with receiptHandle invisible for wait, rounded up
// to a whole second (at least one, at most 12 hours), from now.
func (q *Queue) Hide(ctx context.Context, receiptHandle string, wait time.Duration) error {
	wait = min(max(wait, time.Second), maxVisibility)
	secs := int32((wait + time.Second - 1) / time.Second)
	_, err := q.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(q.url), ReceiptHandle: aws.String(receiptHandle), VisibilityTimeout: secs,
	})
	if err != nil {
		return fmt.Errorf("sqs %s: change message visibility: %w", q.name, err)
	}
	return nil
}
