package sink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Fanout sends every message to several destinations, one after another in
// the order given, and succeeds only when every one of them has it. The
// record id makes a redelivery harmless to the destinations that already
// took it, so a failure anywhere is returned as that destination's error
// (with its class) and the caller retries, or dead-letters, the whole.
//
// The order matters for a ledger: a destination listed last (the records
// archive) holds a record only once every other destination took it.
type Fanout struct {
	sinks []Sink
}

// All returns a Sink that sends to every one of sinks (see Fanout); one
// sink is returned as itself.
func All(sinks ...Sink) Sink {
	if len(sinks) == 1 {
		return sinks[0]
	}
	return &Fanout{sinks: sinks}
}

// Name joins the destinations' names with '+': "webhook+archive".
func (f *Fanout) Name() string {
	names := make([]string, len(f.sinks))
	for i, s := range f.sinks {
		names[i] = s.Name()
	}
	return strings.Join(names, "+")
}

// Send delivers m to each destination in turn and stops at the first
// failure, so that a destination later in the list never holds a record an
// earlier one refused.
func (f *Fanout) Send(ctx context.Context, m Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	for _, s := range f.sinks {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s: not attempted: %w", s.Name(), err)
		}
		if err := s.Send(ctx, m); err != nil {
			return fmt.Errorf("%s: %w", s.Name(), err)
		}
	}
	return nil
}

// Close closes the destinations that hold connections.
func (f *Fanout) Close() error {
	var errs []error
	for _, s := range f.sinks {
		if c, ok := s.(io.Closer); ok {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}
