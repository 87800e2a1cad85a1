// Command bootstrap is ccc-enricher's one executable. It serves every
// environment without flags, chosen by what the environment provides:
//
//   - AWS_LAMBDA_RUNTIME_API set: an AWS Lambda function (provided.al2023)
//     for API Gateway REST, HTTP API and Function URL events, scheduled
//     events, SQS redrive and the SQS intake queue (INTAKE=sqs);
//   - SCF_RUNTIME_API set: a Tencent SCF custom-runtime event function for
//     API Gateway and timer triggers, and CKafka or CMQ triggers that
//     redrive dead-lettered records;
//   - neither: a local HTTP server on PORT serving the same handler.
//
// "worker" consumes the intake queue (INTAKE=sqs or kafka) as a long-running
// process. Subcommands run the same pipeline by hand: "demo" runs offline against
// the embedded CCC API emulator and prints an enriched record; "reconcile"
// and "backfill" deliver calls that never reached the sink.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/ccc-enricher/ccc-enricher/internal/awslambda"
	"github.com/ccc-enricher/ccc-enricher/internal/config"
	"github.com/ccc-enricher/ccc-enricher/internal/logging"
	"github.com/ccc-enricher/ccc-enricher/internal/metrics"
	"github.com/ccc-enricher/ccc-enricher/internal/scf"
)

func main() {
	// The environment is read by config.Load alone, here or in the
	// subcommands once their flags are parsed.
	if err := run(context.Background(), os.Args[1:], os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "ccc-enricher:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string) error {
	if len(args) > 0 {
		switch args[0] {
		case "demo":
			return demo(ctx, os.Stdout, os.Stderr)
		case "worker":
			ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
			defer stop()
			return worker(ctx, getenv)
		case "reconcile", "backfill":
			c := &command{getenv: getenv, stdout: os.Stdout, stderr: os.Stderr}
			return c.run(ctx, args)
		case "-h", "-help", "--help", "help":
			fmt.Fprint(os.Stdout, usage)
			return nil
		default:
			return fmt.Errorf("unknown command %q\n%s", args[0], usage)
		}
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	// The metrics lines share the log's stream; the lock keeps lines whole.
	logw := &metrics.SyncWriter{W: os.Stderr}
	log := newLogger(logw, cfg.LogLevel)
	// The platform adapters log through the default logger, and net/http
	// through the standard log package: both go through the redaction.
	logging.Install(log)
	switch cfg.Runtime.Platform {
	case config.PlatformLambda:
		a, err := newApp(ctx, cfg, log)
		if err != nil {
			return err
		}
		a.observe(logw)
		lambda.Start(awslambda.NewIntakeHandler(a.handler, a.jobs, a.redrive, a.intakeQueue))
		return nil
	case config.PlatformSCF:
		a, err := newApp(ctx, cfg, log)
		if err != nil {
			return err
		}
		a.observe(logw)
		return scf.ServeIntake(ctx, cfg.Runtime.SCFRuntimeAPI, a.handler, a.jobs, a.redrive, a.intakeQueue)
	default:
		ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
		a, err := newApp(ctx, cfg, log)
		if err != nil {
			return err
		}
		a.observe(logw)
		defer a.close()
		return serve(ctx, a, fmt.Sprintf(":%d", cfg.Port), log)
	}
}

const usage = `usage: bootstrap [command]

With no command, bootstrap serves: under AWS Lambda or Tencent SCF when their
runtime API is present, else as a local HTTP server on PORT (default 9000).

commands:
  demo        run offline against the embedded CCC API emulator: send a sample
              push through the whole pipeline and print the enriched record
  worker      consume the intake queue (INTAKE=sqs or kafka) until SIGTERM, with
              WORKER_CONCURRENCY messages in flight sharing CCC_RATE_LIMIT
  reconcile   reconcile one slot of calls now (see RECONCILE_SLOT)
  backfill    deliver the calls of a time range (bootstrap backfill -h)
`

// serve runs the local HTTP server until ctx is done.
func serve(ctx context.Context, a *app, addr string, log *slog.Logger) error {
	srv := &http.Server{
		Addr:              addr,
		Handler:           a.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("listening", "addr", addr)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func newLogger(w io.Writer, level string) *slog.Logger {
	return logging.New(w, logging.ParseLevel(level))
}
