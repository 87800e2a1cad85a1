package handler_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/handler"
	"github.com/ccc-enricher/ccc-enricher/internal/enrich"
	"github.com/ccc-enricher/ccc-enricher/internal/intake"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
	"github.com/ccc-enricher/ccc-enricher/internal/sink"
)

// queue is an intake queue in memory that fails with err when set.
type queue struct {
	mu  sync.Mutex
	err error
	got []sink.Message
}

func (q *queue) Send(_ context.Context, m sink.Message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	q.got = append(q.got, m)
	return nil
}
func (q *queue) Name() string { return "memory" }

// With queued intake a push is acknowledged once the queue has it, without
// a DescribeSessionDetail call, and a queue failure makes CCC push again.
func TestPushQueued(t *testing.T) {
	for _, tc := range []struct {
		name    string
		err     error
		status  int
		errCode int
	}{
		{"queued", nil, http.StatusOK, 0},
		{"queue unavailable", errors.New("connection refused"), http.StatusServiceUnavailable, 50303},
		{"queue refuses", retry.Permanent(errors.New("no such queue")), http.StatusBadGateway, 50203},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := &queue{err: tc.err}
			e := newEnv(t, func(o *handler.Options, _ *enrich.Enricher) { o.Intake = q })
			r := e.push("cdr", e.sample.CDRPush)
			if r.status != tc.status || r.ErrCode != tc.errCode {
				t.Fatalf("reply %d %d %q, want %d %d", r.status, r.ErrCode, r.ErrMsg, tc.status, tc.errCode)
			}
			if n := e.emu.Calls("DescribeSessionDetail"); n != 0 {
				t.Errorf("%d DescribeSessionDetail calls on the intake path", n)
			}
			if tc.err != nil {
				return
			}
			if len(q.got) != 1 {
				t.Fatalf("%d messages queued", len(q.got))
			}
			env, p, err := intake.Decode(q.got[0].Body, time.Now())
			if err != nil || env.PushUUID != "push-uuid-1" || p.SessionID != e.sample.SessionID {
				t.Errorf("queued %+v, %v", env, err)
			}
		})
	}
}
