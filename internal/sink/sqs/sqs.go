// Package sqs is the destination that sends each record to an Amazon SQS
// queue with aws-sdk-go-v2.
package sqs

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsretry "github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ccc-enricher/ccc-enricher/internal/config"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
	"github.com/ccc-enricher/ccc-enricher/internal/sink"
)

// SQS sends each record to an Amazon SQS queue with SendMessage, the record
// id and schema version as String message attributes. A FIFO queue (its URL
// ends in ".fifo") gets MessageGroupId = Message.Group and
// MessageDeduplicationId = Message.ID, so SQS drops a redelivered record
// within its five-minute deduplication window.
//
// The SDK's own retryer is off: retries happen once, in Send, with the same
// policy and deadline as every other sink.
type SQS struct {
	client  *sqs.Client
	queue   string // the queue URL
	name    string // the queue name, for errors
	fifo    bool
	timeout time.Duration
	policy  retry.Policy
}

// New returns an SQS sink for cfg, as config.Load accepts it, using
// awsCfg's credentials, region and endpoint (AWS_ENDPOINT_URL_SQS and the
// like apply when awsCfg comes from awsconf.New). A region in
// an AWS queue URL (sqs.<region>.amazonaws.com) takes precedence over
// awsCfg.Region; with neither, New fails.
func New(cfg config.SQS, awsCfg aws.Config) (*SQS, error) {
	u, err := url.Parse(cfg.QueueURL)
	if err != nil {
		return nil, errors.New("sqs: the queue URL does not parse")
	}
	region := queueRegion(u.Hostname())
	if region == "" {
		region = awsCfg.Region
	}
	if region == "" {
		return nil, errors.New("sqs: no AWS region: neither the queue URL nor the AWS configuration (AWS_REGION) names one")
	}
	name := path.Base(u.Path)
	client := sqs.NewFromConfig(awsCfg, func(o *sqs.Options) {
		o.Region = region
		o.Retryer = aws.NopRetryer{}
		o.RetryMaxAttempts = 1
	})
	return &SQS{
		client:  client,
		queue:   cfg.QueueURL,
		name:    name,
		fifo:    strings.HasSuffix(name, ".fifo"),
		timeout: sink.AttemptTimeout,
		policy:  retry.Default,
	}, nil
}

// queueRegion returns the region of an AWS SQS host, such as us-east-1 in
// sqs.us-east-1.amazonaws.com, or "" for any other host.
func queueRegion(host string) string {
	rest, ok := strings.CutPrefix(host, "sqs.")
	if !ok {
		return ""
	}
	region, domain, ok := strings.Cut(rest, ".")
	if !ok || !strings.HasPrefix(domain, "amazonaws.") {
		return ""
	}
	return region
}

// Name returns "sqs".
func (s *SQS) Name() string { return config.KindSQS }

// Send calls SendMessage until SQS accepts m, retrying throttling, 5xx and
// network failures within ctx's deadline.
func (s *SQS) Send(ctx context.Context, m sink.Message) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("sqs %s: %w", s.name, err)
	}
	in := &sqs.SendMessageInput{
		QueueUrl:          aws.String(s.queue),
		MessageBody:       aws.String(string(m.Body)),
		MessageAttributes: make(map[string]types.MessageAttributeValue, 2+len(m.Attributes)),
	}
	for name, value := range m.Attrs() {
		in.MessageAttributes[name] = types.MessageAttributeValue{
			DataType:    aws.String("String"),
			StringValue: aws.String(value),
		}
	}
	if s.fifo {
		if err := sink.CheckToken("group (SdkAppId) of a FIFO message", m.Group); err != nil {
			return retry.Permanent(fmt.Errorf("sqs %s: record %s: %w", s.name, m.ID, err))
		}
		in.MessageGroupId = aws.String(m.Group)
		in.MessageDeduplicationId = aws.String(m.ID)
	}
	return retry.Do(ctx, s.policy, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, s.timeout)
		defer cancel()
		if _, err := s.client.SendMessage(ctx, in); err != nil {
			return classifySQS(fmt.Errorf("sqs %s: record %s: %w", s.name, m.ID, err))
		}
		return nil
	})
}

// SQS error codes that the SDK's lists do not name as retryable although
// waiting helps.
var sqsTransientCodes = map[string]bool{
	"KmsThrottled": true, // the queue's KMS key is rate limited
	"OverLimit":    true, // too many in-flight messages
}

// classifySQS marks what no retry can cure: an error answer from SQS with a
// 4xx status (a missing queue, denied access, an invalid parameter) that is
// neither throttling nor a request timeout. Network errors, timeouts and 5xx
// stay transient.
func classifySQS(err error) error {
	if awsretry.IsErrorRetryables(awsretry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary ||
		awsretry.IsErrorThrottles(awsretry.DefaultThrottles).IsErrorThrottle(err) == aws.TrueTernary {
		return err
	}
	apiErr, ok := errors.AsType[smithy.APIError](err)
	if !ok || sqsTransientCodes[apiErr.ErrorCode()] {
		return err
	}
	if re, ok := errors.AsType[*smithyhttp.ResponseError](err); ok {
		if code := re.HTTPStatusCode(); code >= 400 && code <= 499 && code != 408 && code != 429 {
			return retry.Permanent(err)
		}
		return err
	}
	if apiErr.ErrorFault() == smithy.FaultClient {
		return retry.Permanent(err)
	}
	return err
}
