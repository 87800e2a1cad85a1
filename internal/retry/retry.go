// Package retry classifies errors as transient or permanent and retries
// transient ones with jittered exponential backoff inside a context's
// deadline.
//
// It is the one place where ccc-enricher decides whether a failure is worth
// another attempt: the CCC API client, the sinks and the push handler all ask
// it, so a failure is classified once, where it happens, and every layer
// above agrees on what to do with it.
package retry

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// permanentError marks an error that no retry can cure: bad input, a
// rejected credential, a destination that answered 4xx.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as not worth retrying. It returns nil for nil.
func Permanent(err error) error {
	if err == nil || IsPermanent(err) {
		return err
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err, or any error it wraps, was marked
// Permanent. Unmarked errors are transient: when in doubt, try again, since a
// retry costs a little time and a wrong "permanent" loses a record.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// afterError carries a minimum wait requested by the other side, such as
// an HTTP Retry-After header.
type afterError struct {
	err   error
	after time.Duration
}

func (e *afterError) Error() string { return e.err.Error() }
func (e *afterError) Unwrap() error { return e.err }

// After marks err as transient with a minimum wait before the next attempt.
func After(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return &afterError{err: err, after: d}
}

// Wait returns the wait err asks for with After, if any: how long a queue
// should hide a message before it is delivered again.
func Wait(err error) (time.Duration, bool) {
	var a *afterError
	if errors.As(err, &a) {
		return a.after, true
	}
	return 0, false
}

// Policy bounds the retries of one operation.
type Policy struct {
	// Attempts is the maximum number of calls, the first included. Zero
	// means no limit other than the context's deadline.
	Attempts int
	// Base is the first backoff; each further one doubles, up to Max.
	Base time.Duration
	Max  time.Duration
}

// Default is the policy for calls to outside services within one
// invocation: quick first retries, bounded by the invocation's deadline.
var Default = Policy{Attempts: 5, Base: 100 * time.Millisecond, Max: 2 * time.Second}

// Do calls fn until it succeeds, returns a permanent error, runs out of
// attempts, or the next wait would end after ctx's deadline. It returns
// the last error from fn, never a bare context error, so callers see why
// the operation failed and not only that time ran out.
func Do(ctx context.Context, p Policy, fn func(ctx context.Context) error) error {
	var err error
	counter, _ := ctx.Value(attemptsKey{}).(*atomic.Int64)
	for attempt := 1; ; attempt++ {
		if counter != nil {
			counter.Add(1)
		}
		err = fn(ctx)
		if err == nil || IsPermanent(err) {
			return err
		}
		if p.Attempts > 0 && attempt >= p.Attempts {
			return err
		}
		wait := p.backoff(attempt)
		var a *afterError
		if errors.As(err, &a) && a.after > wait {
			wait = a.after
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// backoff returns the wait after the given attempt: exponential with full
// jitter, so that many instances that failed together do not retry together.
func (p Policy) backoff(attempt int) time.Duration {
	base, max := p.Base, p.Max
	if base <= 0 {
		base = 100 * time.Millisecond
	}
	if max < base {
		max = base
	}
	d := base << min(attempt-1, 20)
	if d > max || d <= 0 {
		d = max
	}
	return d/2 + rand.N(d/2+1)
}

type attemptsKey struct{}

// CountAttempts returns a context in which Do adds each attempt it makes
// to n, so that whoever calls a sink can count its attempts without the
// sink reporting them.
func CountAttempts(ctx context.Context, n *atomic.Int64) context.Context {
	return context.WithValue(ctx, attemptsKey{}, n)
}
