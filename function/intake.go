package main

import (
	"context"
	"fmt"

	"github.com/ccc-enricher/ccc-enricher/internal/config"
	"github.com/ccc-enricher/ccc-enricher/internal/intake"
	"github.com/ccc-enricher/ccc-enricher/internal/intake/sqsqueue"
	"github.com/ccc-enricher/ccc-enricher/internal/platform"
	"github.com/ccc-enricher/ccc-enricher/internal/sink"
)

// newIntake returns the intake queue's writer, built by the sinks factory
// from INTAKE and its variables, or nil when queued intake is off.
func newIntake(ctx context.Context, cfg config.Intake, deps sinkDeps) (sink.Sink, error) {
	if cfg.Queue.Kind == "" {
		return nil, nil
	}
	return newDestination(ctx, cfg.Queue, deps, "INTAKE")
}

// intake is what the platforms' queue triggers hand intake batches to, or
// nil when queued intake is off. On SQS it hides a throttled message for
// the wait the CCC API asked.
func (a *app) intake(ctx context.Context, deps sinkDeps) (*platform.Intake, error) {
	cfg := a.cfg.Intake
	if cfg.Queue.Kind == "" {
		return nil, nil
	}
	w := &intake.Worker{Enricher: a.enricher, Logger: a.log}
	in := &platform.Intake{
		Source:      cfg.QueueName(),
		MaxReceives: cfg.MaxReceives,
		Process: func(ctx context.Context, batch []platform.Delivery) []error {
			ds := make([]intake.Delivery, len(batch))
			for i, d := range batch {
				ds[i] = intake.Delivery{Body: d.Body, Final: d.Final}
			}
			return w.Process(ctx, ds)
		},
	}
	if cfg.Queue.Kind == config.KindSQS && deps.aws != nil {
		awsCfg, err := deps.aws(ctx)
		if err != nil {
			return nil, fmt.Errorf("INTAKE=sqs: load AWS configuration: %w", err)
		}
		q, err := sqsqueue.New(cfg.Queue.SQS.QueueURL, awsCfg)
		if err != nil {
			return nil, fmt.Errorf("INTAKE_SQS_QUEUE_URL: %w", err)
		}
		in.Hide = q.Hide
	}
	return in, nil
}
