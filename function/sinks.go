package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"

	"github.com/ccc-enricher/ccc-enricher/internal/config"
	"github.com/ccc-enricher/ccc-enricher/internal/sink"
	"github.com/ccc-enricher/ccc-enricher/internal/sink/cmq"
	"github.com/ccc-enricher/ccc-enricher/internal/sink/kafka"
	"github.com/ccc-enricher/ccc-enricher/internal/sink/sqs"
	"github.com/ccc-enricher/ccc-enricher/internal/sink/stdout"
	"github.com/ccc-enricher/ccc-enricher/internal/sink/webhook"
)

// sinkDeps are what newSink needs from the program beyond the
// configuration.
type sinkDeps struct {
	// httpClient sends webhooks; nil means a client on
	// http.DefaultTransport.
	httpClient *http.Client
	// stdout receives the stdout sink's lines; nil means os.Stdout.
	stdout io.Writer
	// aws loads the AWS configuration. It is called only for the sqs sink,
	// so that other sinks do not pay for, or fail on, loading it.
	aws func(context.Context) (aws.Config, error)
	// tencent signs TDMQ calls for the cmq sink.
	tencent common.CredentialIface
}

// newSink returns the destination cfg names, as config.Load accepts it;
// Kind "" means stdout. prefix is "" for the sink and "DLQ_" for the
// dead-letter sink: its errors name the variable to look at.
func newSink(ctx context.Context, cfg config.Sink, deps sinkDeps, prefix string) (sink.Sink, error) {
	return newDestination(ctx, cfg, deps, prefix+"SINK")
}

// newDestination is newSink for the destination the variable kindVar
// names (SINK, DLQ_SINK or INTAKE).
func newDestination(ctx context.Context, cfg config.Sink, deps sinkDeps, kindVar string) (sink.Sink, error) {
	var (
		s   sink.Sink
		err error
	)
	switch cfg.Kind {
	case "", config.KindStdout:
		return stdout.New(deps.stdout), nil
	case config.KindWebhook:
		return webhook.New(cfg.Webhook, deps.httpClient), nil
	case config.KindSQS:
		s, err = newSQS(ctx, cfg.SQS, deps.aws)
	case config.KindKafka:
		s, err = nonNil(kafka.New(cfg.Kafka))
	case config.KindCMQ:
		s, err = nonNil(cmq.New(cfg.CMQ, deps.tencent))
	default:
		return nil, fmt.Errorf("%s %q: want webhook, cmq, sqs, kafka or stdout", kindVar, cfg.Kind)
	}
	if err != nil {
		return nil, fmt.Errorf("%s=%s: %w", kindVar, cfg.Kind, err)
	}
	return s, nil
}

// newSQS loads the AWS configuration, which only the sqs sink needs, and
// builds the sink with it.
func newSQS(ctx context.Context, cfg config.SQS, load func(context.Context) (aws.Config, error)) (sink.Sink, error) {
	if load == nil {
		return nil, errors.New("no AWS configuration loader")
	}
	awsCfg, err := load(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	return nonNil(sqs.New(cfg, awsCfg))
}

// nonNil returns a constructor's result as a Sink, keeping a nil pointer
// from becoming a non-nil interface.
func nonNil[S sink.Sink](s S, err error) (sink.Sink, error) {
	if err != nil {
		return nil, err
	}
	return s, nil
}
