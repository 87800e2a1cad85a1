package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/ccc-enricher/ccc-enricher/internal/config"
	"github.com/ccc-enricher/ccc-enricher/internal/intake"
	"github.com/ccc-enricher/ccc-enricher/internal/intake/kafkaqueue"
	"github.com/ccc-enricher/ccc-enricher/internal/intake/sqsqueue"
	"github.com/ccc-enricher/ccc-enricher/internal/logging"
	"github.com/ccc-enricher/ccc-enricher/internal/metrics"
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
			// One metrics line per batch, as per invocation.
			ctx, flush := a.measure(ctx, "intake")
			defer flush()
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

// worker runs `bootstrap worker`: a long-running consumer of the intake
// queue, WORKER_CONCURRENCY messages in flight sharing the process's CCC
// rate limiter, until ctx is done (SIGTERM), finishing the messages in
// flight.
func worker(ctx context.Context, getenv func(string) string) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	if k := cfg.Intake.Queue.Kind; k != config.KindSQS && k != config.KindKafka {
		return fmt.Errorf("INTAKE is %q: bootstrap worker consumes an sqs or kafka intake queue (cmq intake runs as an SCF trigger)", k)
	}
	logw := &metrics.SyncWriter{W: os.Stderr}
	log := newLogger(logw, cfg.LogLevel)
	logging.Install(log)
	a, err := newApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	a.observe(logw)
	log.Info("worker consuming", "queue", cfg.Intake.QueueName(), "concurrency", cfg.Intake.Concurrency)
	if cfg.Intake.Queue.Kind == config.KindKafka {
		return kafkaWorker(ctx, cfg.Intake, a, log)
	}
	awsCfg, err := a.aws()
	if err != nil {
		return fmt.Errorf("INTAKE=sqs: load AWS configuration: %w", err)
	}
	q, err := sqsqueue.New(cfg.Intake.Queue.SQS.QueueURL, awsCfg)
	if err != nil {
		return fmt.Errorf("INTAKE_SQS_QUEUE_URL: %w", err)
	}
	c := &sqsqueue.Consumer{
		Queue: q, Process: a.intakeQueue.Process, MaxReceives: cfg.Intake.MaxReceives,
		Concurrency: cfg.Intake.Concurrency, Logger: log,
	}
	return c.Run(ctx)
}

// kafkaWorker consumes a Kafka intake topic as a member of
// INTAKE_KAFKA_GROUP.
func kafkaWorker(ctx context.Context, cfg config.Intake, a *app, log *slog.Logger) error {
	g, err := kafkaqueue.NewGroup(cfg.Queue.Kafka, cfg.KafkaGroup)
	if err != nil {
		return fmt.Errorf("INTAKE=kafka: %w", err)
	}
	c := &kafkaqueue.Consumer{
		Group: g, Process: a.intakeQueue.Process, MaxReceives: cfg.MaxReceives,
		Concurrency: cfg.Concurrency, Logger: log,
	}
	return c.Run(ctx)
}
