package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

// The dead-letter sink's share of the time left: a third of it, at most
// maxDeadLetterReserve. The primary sink gets the rest, so that a primary
// that keeps timing out cannot leave the dead-letter sink nothing.
const (
	deadLetterShare      = 3
	maxDeadLetterReserve = 10 * time.Second
)

// Outcome tells where Deliver put a message.
type Outcome struct {
	// Sink names the sink that accepted the message.
	Sink string
	// DeadLettered reports that the primary sink failed and the message is
	// in the dead-letter sink instead. The record is durable, so the push
	// may be acknowledged; the caller logs and counts it.
	DeadLettered bool
	// Cause is the primary sink's error when DeadLettered.
	Cause error
}

// deliverer is a Sink that knows where its messages end up.
type deliverer interface {
	Deliver(ctx context.Context, m Message) (Outcome, error)
}

// Deliver sends m with s and tells where it went: through a dead-letter
// fallback (see WithDeadLetter) either sink may have taken it, any other
// sink is the only place it can be.
func Deliver(ctx context.Context, s Sink, m Message) (Outcome, error) {
	if d, ok := s.(deliverer); ok {
		return d.Deliver(ctx, m)
	}
	if err := s.Send(ctx, m); err != nil {
		return Outcome{}, err
	}
	return Outcome{Sink: s.Name()}, nil
}

// DeadLetter sends to a primary sink and, when that fails, to a dead-letter
// sink. Use Deliver (or its Deliver method) to learn which one took the
// message: Send returns nil in both cases, since either is durable.
type DeadLetter struct {
	primary, dlq Sink
}

// WithDeadLetter returns a Sink that sends to primary and falls back to dlq
// (see DeadLetter). A nil dlq returns primary itself.
func WithDeadLetter(primary, dlq Sink) Sink {
	if dlq == nil {
		return primary
	}
	return &DeadLetter{primary: primary, dlq: dlq}
}

// Name returns the primary sink's name.
func (d *DeadLetter) Name() string { return d.primary.Name() }

// Send is Deliver without the Outcome.
func (d *DeadLetter) Send(ctx context.Context, m Message) error {
	_, err := d.Deliver(ctx, m)
	return err
}

// Deliver sends m to the primary sink within ctx's deadline minus a reserve,
// and, if that fails, to the dead-letter sink with the attributes
// AttrDeadLetterFrom, AttrDeadLetterClass and AttrDeadLetterReason added. A
// transient failure is dead-lettered only while ctx is not done.
//
// If both fail, the error is a *DeadLetterError, permanent only if both
// failures are.
func (d *DeadLetter) Deliver(ctx context.Context, m Message) (Outcome, error) {
	pctx, cancel := primaryContext(ctx)
	err := d.primary.Send(pctx, m)
	cancel()
	if err == nil {
		return Outcome{Sink: d.primary.Name()}, nil
	}

	class := "transient"
	if retry.IsPermanent(err) {
		class = "permanent"
	}
	if cerr := ctx.Err(); cerr != nil {
		// Nothing is stored; CCC must push again, whatever the class.
		return Outcome{}, &DeadLetterError{
			Primary:    err,
			DeadLetter: fmt.Errorf("%s: not attempted: %w", d.dlq.Name(), cerr),
		}
	}

	dm := m
	dm.Attributes = make(map[string]string, len(m.Attributes)+3)
	maps.Copy(dm.Attributes, m.Attributes)
	dm.Attributes[AttrDeadLetterFrom] = d.primary.Name()
	dm.Attributes[AttrDeadLetterClass] = class
	dm.Attributes[AttrDeadLetterReason] = shortError(err)
	derr := d.dlq.Send(ctx, dm)
	if derr == nil {
		return Outcome{Sink: d.dlq.Name(), DeadLettered: true, Cause: err}, nil
	}
	e := &DeadLetterError{Primary: err, DeadLetter: derr}
	if retry.IsPermanent(err) && retry.IsPermanent(derr) {
		return Outcome{}, retry.Permanent(e)
	}
	return Outcome{}, e
}

// primaryContext derives the primary sink's context: ctx's deadline minus
// the dead-letter sink's reserve. Without a deadline, the primary's retry
// policy bounds it.
func primaryContext(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	reserve := min(time.Until(deadline)/deadLetterShare, maxDeadLetterReserve)
	return context.WithDeadline(ctx, deadline.Add(-max(reserve, 0)))
}

// Close closes the sinks that hold connections (implement io.Closer).
func (d *DeadLetter) Close() error {
	var errs []error
	for _, s := range []Sink{d.primary, d.dlq} {
		if c, ok := s.(io.Closer); ok {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}

// DeadLetterError is the failure of both the primary and the dead-letter
// sink. It deliberately does not unwrap: the pair is classified as a whole
// (transient unless both failures are permanent), and errors.As would find
// a permanent mark on either one. Inspect Primary and DeadLetter instead.
type DeadLetterError struct {
	Primary, DeadLetter error
}

func (e *DeadLetterError) Error() string {
	return fmt.Sprintf("%v; dead-letter: %v", e.Primary, e.DeadLetter)
}
