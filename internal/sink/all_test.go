package sink_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/ccc-enricher/ccc-enricher/internal/retry"
	"github.com/ccc-enricher/ccc-enricher/internal/sink"
	"github.com/ccc-enricher/ccc-enricher/internal/sink/sinktest"
)

// memSink keeps what it is sent, or answers with err.
type memSink struct {
	name string
	err  error
	mu   sync.Mutex
	got  []sink.Message
}

func (m *memSink) Name() string { return m.name }

func (m *memSink) Send(ctx context.Context, msg sink.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if m.err != nil {
		return m.err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.got = append(m.got, msg)
	return nil
}

func (m *memSink) deliveries() []sinktest.Delivery {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []sinktest.Delivery
	for _, g := range m.got {
		out = append(out, sinktest.Delivery{ID: g.ID, SchemaVersion: g.SchemaVersion, Body: g.Body})
	}
	return out
}

func TestAllConformance(t *testing.T) {
	sinktest.Run(t, sinktest.Harness{
		Working: func(t *testing.T) (sink.Sink, func(*testing.T) []sinktest.Delivery) {
			a, b := &memSink{name: "webhook"}, &memSink{name: "archive"}
			return sink.All(a, b), func(t *testing.T) []sinktest.Delivery {
				if len(a.got) != len(b.got) {
					t.Errorf("webhook has %d messages, archive %d", len(a.got), len(b.got))
				}
				return b.deliveries()
			}
		},
		Refusing: func(*testing.T) sink.Sink {
			return sink.All(&memSink{name: "webhook"}, &memSink{name: "archive", err: retry.Permanent(errors.New("access denied"))})
		},
		Failing: func(*testing.T) sink.Sink {
			return sink.All(&memSink{name: "webhook", err: errors.New("HTTP 503")}, &memSink{name: "archive"})
		},
	})
}

func TestAllStopsAtFirstFailure(t *testing.T) {
	a := &memSink{name: "webhook", err: errors.New("HTTP 503")}
	b := &memSink{name: "archive"}
	s := sink.All(a, b)
	if s.Name() != "webhook+archive" {
		t.Errorf("Name = %q", s.Name())
	}
	err := s.Send(context.Background(), sinktest.Message())
	if err == nil || !strings.HasPrefix(err.Error(), "webhook: ") {
		t.Fatalf("Send = %v, want the webhook's error", err)
	}
	if len(b.got) != 0 {
		t.Errorf("the archive took a record the webhook refused")
	}
	if one := (&memSink{name: "x"}); sink.All(one) != one {
		t.Errorf("All of one sink is not that sink")
	}
}

// The dead-letter sink catches any one destination failing, and says
// which.
func TestAllWithDeadLetter(t *testing.T) {
	hook, archive := &memSink{name: "webhook"}, &memSink{name: "archive", err: errors.New("SlowDown")}
	dlq := &memSink{name: "sqs"}
	out, err := sink.Deliver(context.Background(), sink.WithDeadLetter(sink.All(hook, archive), dlq), sinktest.Message())
	if err != nil || !out.DeadLettered || out.Sink != "sqs" {
		t.Fatalf("Deliver = %+v, %v; want dead-lettered to sqs", out, err)
	}
	if len(dlq.got) != 1 || dlq.got[0].Attributes[sink.AttrDeadLetterFrom] != "webhook+archive" ||
		!strings.HasPrefix(dlq.got[0].Attributes[sink.AttrDeadLetterReason], "archive: ") {
		t.Errorf("dead-lettered %+v", dlq.got)
	}
}
