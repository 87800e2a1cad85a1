package sink

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

// fakeSink answers every Send with err and records what it was given.
type fakeSink struct {
	name string
	err  error

	mu        sync.Mutex
	got       []Message
	deadlines []time.Time // zero when the context had none
	closed    bool
}

func (f *fakeSink) Name() string { return f.name }

func (f *fakeSink) Send(ctx context.Context, m Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, _ := ctx.Deadline()
	f.got = append(f.got, m)
	f.deadlines = append(f.deadlines, d)
	return f.err
}

func (f *fakeSink) Close() error {
	f.closed = true
	return nil
}

func TestDeadLetter(t *testing.T) {
	permanent := retry.Permanent(errors.New("webhook example.com: record x: HTTP 410: \"gone\""))
	transient := errors.New("webhook example.com: record x: HTTP 503:\n\"busy\"")
	dlqDown := errors.New("sqs dlq: throttled")
	dlqRefuses := retry.Permanent(errors.New("sqs dlq: QueueDoesNotExist"))

	tests := []struct {
		name              string
		primaryErr        error
		dlqErr            error
		cancelled         bool // ctx done before Deliver
		wantSink          string
		wantDeadLettered  bool
		wantErr           bool
		wantPermanent     bool
		wantDLQCalls      int
		wantClass, reason string
	}{
		{name: "primary accepts", wantSink: "webhook"},
		{name: "permanent failure dead-lettered", primaryErr: permanent,
			wantSink: "sqs", wantDeadLettered: true, wantDLQCalls: 1,
			wantClass: "permanent", reason: `webhook example.com: record x: HTTP 410: "gone"`},
		{name: "transient failure dead-lettered", primaryErr: transient,
			wantSink: "sqs", wantDeadLettered: true, wantDLQCalls: 1,
			wantClass: "transient", reason: `webhook example.com: record x: HTTP 503: "busy"`},
		{name: "no time left", primaryErr: transient, cancelled: true, wantErr: true},
		{name: "no time left after a permanent failure", primaryErr: permanent, cancelled: true, wantErr: true},
		{name: "both permanent", primaryErr: permanent, dlqErr: dlqRefuses, wantDLQCalls: 1, wantErr: true, wantPermanent: true, wantClass: "permanent"},
		{name: "permanent then transient", primaryErr: permanent, dlqErr: dlqDown, wantDLQCalls: 1, wantErr: true, wantClass: "permanent"},
		{name: "transient then permanent", primaryErr: transient, dlqErr: dlqRefuses, wantDLQCalls: 1, wantErr: true, wantClass: "transient"},
		{name: "both transient", primaryErr: transient, dlqErr: dlqDown, wantDLQCalls: 1, wantErr: true, wantClass: "transient"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			primary := &fakeSink{name: "webhook", err: tt.primaryErr}
			dlq := &fakeSink{name: "sqs", err: tt.dlqErr}
			s := WithDeadLetter(primary, dlq)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if tt.cancelled {
				cancel()
			}
			m := testMessage(t)
			m.Attributes = map[string]string{"origin": "push"}

			out, err := Deliver(ctx, s, m)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Deliver = %+v, %v; want error %v", out, err, tt.wantErr)
			}
			if err != nil {
				if retry.IsPermanent(err) != tt.wantPermanent {
					t.Errorf("permanent = %v, want %v: %v", retry.IsPermanent(err), tt.wantPermanent, err)
				}
				var dle *DeadLetterError
				if !errors.As(err, &dle) || dle.Primary != tt.primaryErr {
					t.Errorf("error %v does not carry the primary's", err)
				}
				if !strings.Contains(err.Error(), "dead-letter") {
					t.Errorf("error %q does not mention the dead-letter sink", err)
				}
			}
			if sendErr := s.Send(ctx, m); (sendErr != nil) != tt.wantErr {
				t.Errorf("Send = %v, disagrees with Deliver", sendErr)
			}
			if out.Sink != tt.wantSink || out.DeadLettered != tt.wantDeadLettered {
				t.Errorf("Outcome = %+v, want sink %q dead-lettered %v", out, tt.wantSink, tt.wantDeadLettered)
			}
			if tt.wantDeadLettered && out.Cause != tt.primaryErr {
				t.Errorf("Outcome.Cause = %v, want the primary's error", out.Cause)
			}
			if n := len(dlq.got) / 2; n != tt.wantDLQCalls { // Deliver and Send
				t.Fatalf("dead-letter sink called %d times per send, want %d", n, tt.wantDLQCalls)
			}
			if len(m.Attributes) != 1 {
				t.Errorf("caller's attributes changed: %v", m.Attributes)
			}
			if tt.wantDLQCalls == 0 {
				return
			}
			got := dlq.got[0]
			if got.ID != m.ID || string(got.Body) != string(m.Body) || got.Attributes["origin"] != "push" {
				t.Errorf("dead-letter message differs from the original: %+v", got)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("dead-letter message is invalid: %v", err)
			}
			want := map[string]string{AttrDeadLetterFrom: "webhook", AttrDeadLetterClass: tt.wantClass}
			if tt.reason != "" {
				want[AttrDeadLetterReason] = tt.reason
			}
			for k, v := range want {
				if got.Attributes[k] != v {
					t.Errorf("attribute %s = %q, want %q", k, got.Attributes[k], v)
				}
			}
		})
	}
}

// TestDeadLetterReservesTime: the primary must finish early enough to leave
// the dead-letter sink part of the deadline.
func TestDeadLetterReservesTime(t *testing.T) {
	for _, left := range []time.Duration{3 * time.Second, time.Minute, 15 * time.Minute} {
		primary := &fakeSink{name: "webhook", err: errors.New("timeout")}
		dlq := &fakeSink{name: "sqs"}
		ctx, cancel := context.WithTimeout(context.Background(), left)
		deadline, _ := ctx.Deadline()
		if _, err := Deliver(ctx, WithDeadLetter(primary, dlq), testMessage(t)); err != nil {
			t.Fatal(err)
		}
		cancel()
		reserve := deadline.Sub(primary.deadlines[0])
		if reserve <= 0 || reserve > maxDeadLetterReserve || reserve > left/2 {
			t.Errorf("%v left: dead-letter reserve %v", left, reserve)
		}
		if !dlq.deadlines[0].Equal(deadline) {
			t.Errorf("%v left: dead-letter deadline %v, want the caller's %v", left, dlq.deadlines[0], deadline)
		}
	}

	// Without a deadline, nothing is taken from the primary.
	primary := &fakeSink{name: "webhook"}
	if _, err := Deliver(context.Background(), WithDeadLetter(primary, &fakeSink{name: "sqs"}), testMessage(t)); err != nil {
		t.Fatal(err)
	}
	if !primary.deadlines[0].IsZero() {
		t.Errorf("primary got deadline %v without one from the caller", primary.deadlines[0])
	}
}

func TestDeadLetterReasonIsShort(t *testing.T) {
	primary := &fakeSink{name: "webhook", err: errors.New(strings.Repeat("very long\r\n", 100))}
	dlq := &fakeSink{name: "sqs"}
	if _, err := Deliver(context.Background(), WithDeadLetter(primary, dlq), testMessage(t)); err != nil {
		t.Fatal(err)
	}
	r := dlq.got[0].Attributes[AttrDeadLetterReason]
	if len(r) > 200 || strings.ContainsAny(r, "\r\n") {
		t.Errorf("reason %q", r)
	}
}

func TestDeliverPlainSink(t *testing.T) {
	s := &fakeSink{name: "kafka"}
	out, err := Deliver(context.Background(), s, testMessage(t))
	if err != nil || out != (Outcome{Sink: "kafka"}) {
		t.Errorf("Deliver = %+v, %v", out, err)
	}
	s.err = retry.Permanent(errors.New("refused"))
	if _, err := Deliver(context.Background(), s, testMessage(t)); !retry.IsPermanent(err) {
		t.Errorf("Deliver = %v, want the sink's permanent error", err)
	}
}

func TestWithDeadLetterNilAndClose(t *testing.T) {
	primary := &fakeSink{name: "webhook"}
	if s := WithDeadLetter(primary, nil); s != Sink(primary) {
		t.Errorf("WithDeadLetter(p, nil) = %v, want p", s)
	}
	dlq := &fakeSink{name: "sqs"}
	s := WithDeadLetter(primary, dlq)
	if s.Name() != "webhook" {
		t.Errorf("Name = %q", s.Name())
	}
	if err := s.(io.Closer).Close(); err != nil || !primary.closed || !dlq.closed {
		t.Errorf("Close = %v; closed %v %v", err, primary.closed, dlq.closed)
	}
}
