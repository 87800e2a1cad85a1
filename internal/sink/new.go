package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
)

// Deps are what New needs from the program beyond Config.
type Deps struct {
	// HTTPClient sends webhooks; nil means a client on
	// http.DefaultTransport.
	HTTPClient *http.Client
	// Stdout receives the stdout sink's lines; nil means os.Stdout.
	Stdout io.Writer
	// AWS loads the AWS configuration. It is called only for the sqs sink,
	// so that other sinks do not pay for, or fail on, loading it.
	AWS func(context.Context) (aws.Config, error)
	// Tencent signs TDMQ calls for the cmq sink.
	Tencent common.CredentialIface
	// Prefix is prepended to the environment variable names in errors: ""
	// for the sink, "DLQ_" for the dead-letter sink.
	Prefix string
}

// New returns the sink cfg.Kind names; "" means stdout. Its errors name the
// environment variable to fix.
func New(ctx context.Context, cfg Config, deps Deps) (Sink, error) {
	p := deps.Prefix
	required := func(name string) error {
		return fmt.Errorf("%s%s is required when %sSINK=%s", p, name, p, cfg.Kind)
	}
	switch cfg.Kind {
	case "", KindStdout:
		return NewStdout(deps.Stdout), nil

	case KindWebhook:
		switch {
		case cfg.Webhook.URL == "":
			return nil, required("WEBHOOK_URL")
		case cfg.Webhook.Secret == "":
			return nil, required("WEBHOOK_SECRET")
		}
		return nonNil(newWebhook(cfg.Webhook, deps.HTTPClient, p))

	case KindSQS:
		if cfg.SQS.QueueURL == "" {
			return nil, required("SQS_QUEUE_URL")
		}
		if deps.AWS == nil {
			return nil, fmt.Errorf("%sSINK=sqs: no AWS configuration loader", p)
		}
		awsCfg, err := deps.AWS(ctx)
		if err != nil {
			return nil, fmt.Errorf("%sSINK=sqs: load AWS configuration: %w", p, err)
		}
		return nonNil(newSQS(ctx, cfg.SQS, awsCfg, p))

	case KindKafka:
		switch {
		case len(cfg.Kafka.Brokers) == 0:
			return nil, required("KAFKA_BROKERS")
		case cfg.Kafka.Topic == "":
			return nil, required("KAFKA_TOPIC")
		}
		return nonNil(newKafka(cfg.Kafka, p))

	case KindCMQ:
		switch {
		case cfg.CMQ.Queue == "":
			return nil, required("CMQ_QUEUE")
		case cfg.CMQ.Region == "":
			return nil, required("CMQ_REGION")
		}
		if deps.Tencent == nil {
			return nil, errors.New(p + "SINK=cmq: no Tencent Cloud credential")
		}
		c, err := NewCMQ(cfg.CMQ, deps.Tencent)
		if err != nil {
			return nil, fmt.Errorf("%sSINK=cmq: %w", p, err)
		}
		return c, nil
	}
	return nil, fmt.Errorf("%sSINK %q: want webhook, cmq, sqs, kafka or stdout", p, cfg.Kind)
}

// nonNil returns a constructor's result as a Sink, keeping a nil pointer
// from becoming a non-nil interface.
func nonNil[S Sink](s S, err error) (Sink, error) {
	if err != nil {
		return nil, err
	}
	return s, nil
}
