package intake

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/enrich"
	"github.com/ccc-enricher/ccc-enricher/internal/logging"
	"github.com/ccc-enricher/ccc-enricher/internal/push"
	"github.com/ccc-enricher/ccc-enricher/internal/record"
)

// Delivery is one message a consumer took off the intake queue.
type Delivery struct {
	Body []byte
	// Final is set when the queue will not deliver the message again (its
	// last receive before the dead-letter queue): the configured
	// ON_DETAIL_FAILURE policy then decides. Before that, a detail failure
	// is the message's failure, and the queue delivers it again later,
	// when the account's budget may have room.
	Final bool
}

// Worker enriches and delivers the pushes of the intake queue. It is safe
// for concurrent use.
type Worker struct {
	// Enricher runs the pipeline: its detail source (and so its limiter)
	// is shared by every message the process handles.
	Enricher *enrich.Enricher
	// Logger gets one line per message; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Process handles one batch and returns one error per delivery, in order:
// nil once the delivery's record is durable in the sink or the dead-letter
// sink. Errors keep their class (retry.Permanent for a malformed message or
// a record refused for good; transient otherwise, with retry.Wait telling
// how long the queue should hide the message when the API asked for a
// wait).
//
// The pushes of one call in the batch (a cdr push and its record pushes)
// share one DescribeSessionDetail call: the cdr's window, which is exact,
// is used when there is one.
func (w *Worker) Process(ctx context.Context, batch []Delivery) []error {
	errs := make([]error, len(batch))
	type item struct {
		i   int
		env *Envelope
		p   *push.Push
	}
	calls := map[callKey][]item{}
	var order []callKey
	for i, d := range batch {
		env, p, err := Decode(d.Body, w.now())
		if err != nil {
			errs[i] = err
			w.logger().WarnContext(ctx, "intake: message refused", "error", err.Error())
			continue
		}
		k := callKey{p.SdkAppID, p.SessionID}
		if _, ok := calls[k]; !ok {
			order = append(order, k)
		}
		calls[k] = append(calls[k], item{i, env, p})
	}
	var wg sync.WaitGroup
	for _, k := range order {
		items := calls[k]
		// The cdr push first: its window bounds the shared detail query.
		slices.SortStableFunc(items, func(a, b item) int {
			return cmp.Compare(rank(a.p.Kind), rank(b.p.Kind))
		})
		wg.Go(func() {
			s := new(enrich.Session)
			for _, it := range items {
				errs[it.i] = w.one(ctx, it.env, it.p, s, batch[it.i].Final)
			}
		})
	}
	wg.Wait()
	return errs
}

type callKey struct {
	app     int64
	session string
}

func rank(k push.Kind) int {
	if k == push.KindCDR {
		return 0
	}
	return 1
}

// one enriches and delivers one push.
func (w *Worker) one(ctx context.Context, env *Envelope, p *push.Push, s *enrich.Session, final bool) error {
	rec, out, err := w.Enricher.Process(ctx, enrich.Request{
		Push: p, Source: record.SourcePush, PushUUID: env.PushUUID, ReceivedAt: env.ReceivedAt,
		Session: s, RequireDetail: !final,
	})
	attrs := []any{"sdk_app_id", p.SdkAppID, "session_id", p.SessionID, "kind", string(p.Kind), "push_uuid", env.PushUUID}
	if rec != nil {
		attrs = append(attrs, "record_id", rec.ID, "completeness", rec.Completeness, "sink", out.Sink)
	}
	switch {
	case err != nil:
		w.logger().WarnContext(ctx, "intake: push not delivered; the queue delivers it again", append(attrs, "error", err.Error())...)
	case out.DeadLettered:
		w.logger().WarnContext(ctx, "intake: record dead-lettered", append(attrs, "dead_letter_cause", out.Cause.Error())...)
	default:
		w.logger().InfoContext(ctx, "intake: record delivered", attrs...)
	}
	return err
}

func (w *Worker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *Worker) logger() *slog.Logger {
	if w.Logger == nil {
		return logging.Discard()
	}
	return w.Logger
}
