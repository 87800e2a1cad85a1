// Package kafkaqueue is the long-running worker's side of a Kafka intake
// topic (CKafka, MSK or any broker): a consumer group with franz-go that
// commits an offset only once every message up to it is durable, so that a
// worker that crashes or is stopped leaves its unfinished messages to the
// next owner of their partition.
package kafkaqueue

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ccc-enricher/ccc-enricher/internal/config"
	"github.com/ccc-enricher/ccc-enricher/internal/platform"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
	"github.com/ccc-enricher/ccc-enricher/internal/sink/kafka"
)

const (
	// finishTimeout bounds one attempt at the messages of a poll, also
	// once the consumer is stopped: they are finished, not abandoned.
	finishTimeout = 30 * time.Second
	// maxBackoff bounds the pause between attempts at a transient failure
	// that asked for no wait of its own.
	maxBackoff = 30 * time.Second
)

// Group is a member of the workers' consumer group on the intake topic.
type Group struct {
	client *kgo.Client
	topic  string
	group  string
}

// NewGroup returns a member of group consuming cfg's topic with cfg's
// brokers, SASL and TLS. It does not connect: Consumer.Run does. Offsets
// are committed by the consumer alone (no autocommit), a new group starts
// at the topic's oldest message, so that pushes queued before the first
// worker started are not skipped, and a rebalance waits for the messages
// polled to be settled and committed. A member that stops heartbeating
// (a worker killed) loses its partitions after 10 s, Kafka's classic
// default, rather than franz-go's 45 s. The extra options come last and so
// override these, as tests do to shorten timeouts.
func NewGroup(cfg config.Kafka, group string, extra ...kgo.Opt) (*Group, error) {
	opts, err := kafka.Connection(cfg)
	if err != nil {
		return nil, err
	}
	opts = append(opts,
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(cfg.Topic),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.SessionTimeout(10*time.Second),
	)
	client, err := kgo.NewClient(append(opts, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("kafka intake: %w", err)
	}
	return &Group{client: client, topic: cfg.Topic, group: group}, nil
}

// Consumer is `bootstrap worker` on a Kafka intake topic. It polls at most
// Concurrency messages at a time and hands them to Process as one batch
// (so that a call's cdr and record pushes polled together share one
// detail call). A transient failure is retried in place, after the wait
// the error asks (retry.Wait) or a doubling backoff, and from the
// MaxReceives-th attempt the delivery is Final; a permanent failure is
// logged with the message's partition and offset and skipped. Once the
// batch is settled its offsets are committed, and only then may the group
// rebalance.
//
// A worker holds its partitions while it retries: a message that keeps
// failing transiently (a sink that is down) holds back its partition, as
// it must, for the messages after it are not yet durable either.
type Consumer struct {
	Group *Group
	// Process handles one batch; see platform.Intake.Process.
	Process func(ctx context.Context, batch []platform.Delivery) []error
	// MaxReceives is the attempt from which a delivery is Final.
	MaxReceives int
	// Concurrency is the most messages in flight.
	Concurrency int
	// Backoff is the first pause before a transient failure is retried,
	// one second when zero; it doubles up to 30 s.
	Backoff time.Duration
	Logger  *slog.Logger
}

// Run consumes until ctx is done, then finishes the messages polled,
// commits what is durable, leaves the group and returns nil. Messages not
// finished stay uncommitted: the partition's next owner gets them again,
// with the same record ids.
func (c *Consumer) Run(ctx context.Context) error {
	cl := c.Group.client
	defer cl.CloseAllowingRebalance()
	for {
		fs := cl.PollRecords(ctx, max(c.Concurrency, 1))
		fs.EachError(func(topic string, partition int32, err error) {
			if ctx.Err() == nil {
				c.logger().WarnContext(ctx, "intake: fetch failed", "topic", topic, "partition", partition, "error", err.Error())
			}
		})
		if recs := fs.Records(); len(recs) > 0 {
			c.commit(ctx, c.settle(ctx, recs), recs)
		}
		cl.AllowRebalance()
		if ctx.Err() != nil {
			return nil
		}
		if fs.IsClientClosed() {
			return fmt.Errorf("kafka intake %s: client closed", c.Group.topic)
		}
	}
}

// settle processes recs until each is durable or failed for good, or ctx
// is done, and returns which are settled.
func (c *Consumer) settle(ctx context.Context, recs []*kgo.Record) []bool {
	settled := make([]bool, len(recs))
	pending := make([]int, len(recs))
	for i := range recs {
		pending[i] = i
	}
	for attempt := 1; ; attempt++ {
		batch := make([]platform.Delivery, len(pending))
		for j, i := range pending {
			batch[j] = platform.Delivery{Body: recs[i].Value, Final: attempt >= c.MaxReceives}
		}
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
		errs := c.Process(actx, batch)
		cancel()
		var again []int
		wait := c.backoff(attempt)
		for j, i := range pending {
			err := errs[j]
			attrs := []any{"topic", recs[i].Topic, "partition", recs[i].Partition, "offset", recs[i].Offset, "attempt", attempt}
			switch {
			case err == nil:
				settled[i] = true
			case retry.IsPermanent(err):
				// Kafka has no redrive: the message stays in the topic
				// (its retention) at the offset logged.
				c.logger().ErrorContext(ctx, "intake: message failed for good; skipped", append(attrs, "error", err.Error())...)
				settled[i] = true
			default:
				if w, ok := retry.Wait(err); ok {
					wait = max(wait, w)
				}
				c.logger().WarnContext(ctx, "intake: message failed; retried in place", append(attrs, "retry_in", wait.String(), "error", err.Error())...)
				again = append(again, i)
			}
		}
		if len(again) == 0 || !sleep(ctx, wait) {
			return settled
		}
		pending = again
	}
}

// commit commits, for each partition, the offsets up to its first message
// not settled.
func (c *Consumer) commit(ctx context.Context, settled []bool, recs []*kgo.Record) {
	type tp struct {
		topic     string
		partition int32
	}
	blocked := map[tp]bool{}
	var upto []*kgo.Record
	for i, r := range recs {
		k := tp{r.Topic, r.Partition}
		if blocked[k] || !settled[i] {
			blocked[k] = true
			continue
		}
		upto = append(upto, r)
	}
	if len(upto) == 0 {
		return
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancel()
	if err := c.Group.client.CommitRecords(cctx, upto...); err != nil {
		// The messages come back to this worker or another, with the same
		// record ids.
		c.logger().WarnContext(ctx, "intake: commit failed", "topic", c.Group.topic, "group", c.Group.group, "error", err.Error())
	}
}

func (c *Consumer) backoff(attempt int) time.Duration {
	b := c.Backoff
	if b <= 0 {
		b = time.Second
	}
	for range min(attempt-1, 16) {
		b *= 2
	}
	return min(b, maxBackoff)
}

func (c *Consumer) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// sleep waits d and reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
