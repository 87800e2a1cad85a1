package retry

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

func TestPermanent(t *testing.T) {
	base := errors.New("boom")
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain", base, false},
		{"permanent", Permanent(base), true},
		{"wrapped permanent", fmt.Errorf("ctx: %w", Permanent(base)), true},
		{"after", After(base, time.Second), false},
		{"permanent twice", Permanent(Permanent(base)), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsPermanent(tt.err); got != tt.want {
				t.Errorf("IsPermanent = %v, want %v", got, tt.want)
			}
			if tt.err != nil && !errors.Is(tt.err, base) {
				t.Errorf("marking lost the cause")
			}
		})
	}
	if Permanent(nil) != nil || After(nil, time.Second) != nil {
		t.Error("marking nil must stay nil")
	}
}

func TestDo(t *testing.T) {
	fast := Policy{Attempts: 4, Base: time.Microsecond, Max: time.Microsecond}
	transient := errors.New("transient")
	tests := []struct {
		name      string
		results   []error
		wantCalls int
		wantErr   error
	}{
		{"success first", []error{nil}, 1, nil},
		{"success after transient", []error{transient, transient, nil}, 3, nil},
		{"permanent stops", []error{Permanent(transient)}, 1, transient},
		{"attempts run out", []error{transient, transient, transient, transient, nil}, 4, transient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			err := Do(context.Background(), fast, func(context.Context) error {
				err := tt.results[calls]
				calls++
				return err
			})
			if calls != tt.wantCalls {
				t.Errorf("calls = %d, want %d", calls, tt.wantCalls)
			}
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestDoStopsBeforeTheDeadline(t *testing.T) {
	// The next wait (at least an hour, asked for by the server) would end
	// after the deadline: Do must give up at once with the real error.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	calls := 0
	cause := errors.New("slow down")
	err := Do(ctx, Policy{}, func(context.Context) error {
		calls++
		return After(cause, time.Hour)
	})
	if calls != 1 || !errors.Is(err, cause) {
		t.Fatalf("calls = %d, err = %v; want 1 call and the cause", calls, err)
	}
}

func TestDoStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	cause := errors.New("down")
	err := Do(ctx, Policy{Base: time.Hour, Max: time.Hour}, func(context.Context) error {
		calls++
		cancel()
		return cause
	})
	if calls != 1 || !errors.Is(err, cause) {
		t.Fatalf("calls = %d, err = %v", calls, err)
	}
}

func TestBackoffBounds(t *testing.T) {
	p := Policy{Base: 100 * time.Millisecond, Max: time.Second}
	for attempt := 1; attempt < 70; attempt++ {
		d := p.backoff(attempt)
		ceiling := min(p.Base<<min(attempt-1, 20), p.Max)
		if d < ceiling/2 || d > ceiling {
			t.Fatalf("attempt %d: backoff %v outside [%v, %v]", attempt, d, ceiling/2, ceiling)
		}
	}
}

func TestCountAttempts(t *testing.T) {
	var n atomic.Int64
	ctx := CountAttempts(context.Background(), &n)
	calls := 0
	p := Policy{Attempts: 5, Base: time.Microsecond, Max: time.Microsecond}
	Do(ctx, p, func(context.Context) error {
		if calls++; calls < 3 {
			return errors.New("transient")
		}
		return nil
	})
	Do(ctx, p, func(context.Context) error { return Permanent(errors.New("no")) })
	if n.Load() != 4 {
		t.Errorf("counted %d attempts, want 3 + 1", n.Load())
	}
}
