package main

import (
	"context"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/config"
	"github.com/ccc-enricher/ccc-enricher/internal/metrics"
	"github.com/ccc-enricher/ccc-enricher/internal/reconcile"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
	"github.com/ccc-enricher/ccc-enricher/internal/sink"
)

// observe turns the metrics on, as the configuration says, writing one
// line per request, job run or redriven record to w, the log's writer: EMF
// on Lambda, the same fields elsewhere. It wraps the handler and the jobs,
// so the platform adapters and the local server need not know.
func (a *app) observe(w io.Writer) {
	if !a.cfg.Metrics.On {
		return
	}
	a.metrics = &metrics.Writer{W: w, Namespace: a.cfg.Metrics.Namespace, EMF: a.cfg.Runtime.Platform == config.PlatformLambda}
	next := a.handler
	a.handler = http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		ctx, flush := a.measure(r.Context(), "http")
		defer flush()
		next.ServeHTTP(rw, r.WithContext(ctx))
	})
	for name, job := range a.jobs {
		a.jobs[name] = func(ctx context.Context, scheduled time.Time) error {
			ctx, flush := a.measure(ctx, name)
			defer flush()
			return job(ctx, scheduled)
		}
	}
}

// measure returns ctx carrying a new collector for the operation, and the
// function that writes its line; without metrics, ctx and a no-op.
func (a *app) measure(ctx context.Context, operation string) (context.Context, func()) {
	if a.metrics == nil {
		return ctx, func() {}
	}
	c := metrics.New(operation)
	return metrics.NewContext(ctx, c), func() {
		if err := a.metrics.Write(c); err != nil {
			a.log.Warn("metrics line not written", "error", err)
		}
	}
}

// recordRun records a reconciliation or backfill run's summary.
func recordRun(ctx context.Context, sum reconcile.Summary) {
	metrics.FromContext(ctx).Reconcile(sum.Seen, sum.InSlot, sum.Forwarded+sum.DeadLettered, sum.Failed)
}

// measuredSink records each send to a destination, with its attempts
// counted by retry.Do, into the collector of the send's context.
type measuredSink struct {
	sink.Sink
	dest metrics.Destination
}

func (m measuredSink) Send(ctx context.Context, msg sink.Message) error {
	var attempts atomic.Int64
	start := time.Now()
	err := m.Sink.Send(retry.CountAttempts(ctx, &attempts), msg)
	// A sink that does not retry (stdout) made one attempt.
	metrics.FromContext(ctx).Delivery(m.dest, m.Name(), time.Since(start), max(int(attempts.Load()), 1), err)
	return err
}

// Close closes the sink when it has something to close.
func (m measuredSink) Close() error {
	if c, ok := m.Sink.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
