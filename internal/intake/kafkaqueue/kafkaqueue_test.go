package kafkaqueue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ccc-enricher/ccc-enricher/internal/config"
	"github.com/ccc-enricher/ccc-enricher/internal/platform"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

const topic = "ccc-intake"

// fast keeps franz-go's group protocol and backoffs short in tests.
var fast = []kgo.Opt{
	kgo.RetryBackoffFn(func(int) time.Duration { return 10 * time.Millisecond }),
	kgo.MetadataMinAge(10 * time.Millisecond),
	kgo.HeartbeatInterval(100 * time.Millisecond),
	kgo.SessionTimeout(2 * time.Second),
	kgo.RebalanceTimeout(5 * time.Second),
	kgo.FetchMaxWait(100 * time.Millisecond),
}

func newCluster(t *testing.T, partitions int32) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, topic),
		kfake.GroupMinSessionTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// produce writes the bodies, each keyed by itself, and waits for them.
func produce(t *testing.T, c *kfake.Cluster, bodies ...string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for _, b := range bodies {
		recs = append(recs, &kgo.Record{Key: []byte(b), Value: []byte(b)})
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// log records what the workers processed.
type log struct {
	mu   sync.Mutex
	seen map[string][]string // body → the workers that processed it, in order
	all  []platform.Delivery
}

func (l *log) add(worker string, d platform.Delivery) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = map[string][]string{}
	}
	l.seen[string(d.Body)] = append(l.seen[string(d.Body)], worker)
	l.all = append(l.all, d)
	return len(l.seen)
}

func (l *log) distinct() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.seen)
}

func (l *log) workers(body string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.seen[body]...)
}

// worker starts a consumer in group that processes with fn, and returns
// its stop function, which waits for Run to return.
func worker(t *testing.T, c *kfake.Cluster, group string, concurrency int, fn func(context.Context, []platform.Delivery) []error) (stop func()) {
	t.Helper()
	g, err := NewGroup(config.Kafka{Brokers: c.ListenAddrs(), Topic: topic}, group, fast...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cons := &Consumer{Group: g, Process: fn, MaxReceives: 3, Concurrency: concurrency, Backoff: 20 * time.Millisecond}
	ran := make(chan error, 1)
	go func() { ran <- cons.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-ran:
				if err != nil {
					t.Error(err)
				}
			case <-time.After(20 * time.Second):
				t.Error("Run did not return within 20 s of its context's end")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// committed returns the group's committed offsets per partition.
func committed(c *kfake.Cluster, group string) map[int32]int64 {
	out := map[int32]int64{}
	if gi := c.GroupInfo(group); gi != nil {
		for p, gc := range gi.Commits[topic] {
			out[p] = gc.Offset
		}
	}
	return out
}

// TestConsumer: every message is processed once, in batches of at most
// Concurrency; a throttled one is retried in place after the wait it
// asked, Final from its MaxReceives-th attempt; a malformed one is skipped;
// every offset is committed, so a new member of the group gets nothing.
func TestConsumer(t *testing.T) {
	c := newCluster(t, 1)
	var bodies []string
	for i := range 10 {
		bodies = append(bodies, fmt.Sprintf("m%02d", i))
	}
	bodies = append(bodies, "slow", "bad")
	produce(t, c, bodies...)
	var (
		l        log
		mu       sync.Mutex
		maxBatch int
		slow     []bool
		slowAt   []time.Time
	)
	stop := worker(t, c, "g", 4, func(_ context.Context, b []platform.Delivery) []error {
		mu.Lock()
		maxBatch = max(maxBatch, len(b))
		mu.Unlock()
		errs := make([]error, len(b))
		for i, d := range b {
			l.add("a", d)
			switch string(d.Body) {
			case "slow":
				mu.Lock()
				slow, slowAt = append(slow, d.Final), append(slowAt, time.Now())
				mu.Unlock()
				if !d.Final {
					errs[i] = retry.After(errors.New("RequestLimitExceeded"), 200*time.Millisecond)
				}
			case "bad":
				errs[i] = retry.Permanent(errors.New("malformed intake message"))
			}
		}
		return errs
	})
	waitUntil(t, "every message", func() bool { return l.distinct() == len(bodies) && len(l.workers("slow")) == 3 })
	waitUntil(t, "the commit of every offset", func() bool { return committed(c, "g")[0] == int64(len(bodies)) })
	stop()
	if maxBatch > 4 {
		t.Errorf("a batch of %d messages, want at most WORKER_CONCURRENCY 4", maxBatch)
	}
	for _, b := range bodies {
		want := 1
		if b == "slow" {
			want = 3
		}
		if n := len(l.workers(b)); n != want {
			t.Errorf("%s processed %d times, want %d", b, n, want)
		}
	}
	if fmt.Sprint(slow) != "[false false true]" {
		t.Errorf("slow's attempts Final %v, want [false false true] with MaxReceives 3", slow)
	}
	for i := 1; i < len(slowAt); i++ {
		if d := slowAt[i].Sub(slowAt[i-1]); d < 190*time.Millisecond {
			t.Errorf("attempt %d came %v after the one before, want the 200ms the API asked", i+1, d)
		}
	}

	// A new member of the group starts at the committed offsets: nothing.
	var again log
	stop2 := worker(t, c, "g", 4, func(_ context.Context, b []platform.Delivery) []error {
		for _, d := range b {
			again.add("b", d)
		}
		return make([]error, len(b))
	})
	time.Sleep(1500 * time.Millisecond)
	stop2()
	if n := again.distinct(); n != 0 {
		t.Errorf("a new member got %d messages already committed", n)
	}
}

// TestRebalance: two workers in one group on a topic of four partitions;
// the second joins while the first is consuming, the partitions are shared
// out, and every message is processed, each by one worker (offsets are
// committed before the group may rebalance).
func TestRebalance(t *testing.T) {
	c := newCluster(t, 4)
	var l log
	process := func(name string) func(context.Context, []platform.Delivery) []error {
		return func(_ context.Context, b []platform.Delivery) []error {
			for _, d := range b {
				l.add(name, d)
			}
			time.Sleep(5 * time.Millisecond)
			return make([]error, len(b))
		}
	}
	var bodies []string
	for i := range 200 {
		bodies = append(bodies, fmt.Sprintf("m%03d", i))
	}
	produce(t, c, bodies[:100]...)
	worker(t, c, "g", 2, process("a"))
	waitUntil(t, "the first worker to start", func() bool { return l.distinct() > 10 })
	worker(t, c, "g", 2, process("b"))
	produce(t, c, bodies[100:]...)
	waitUntil(t, "every message", func() bool { return l.distinct() == len(bodies) })
	by := map[string]int{}
	for _, b := range bodies {
		ws := l.workers(b)
		if len(ws) != 1 {
			t.Errorf("%s processed by %v, want one worker once", b, ws)
		}
		by[ws[0]]++
	}
	if by["a"] == 0 || by["b"] == 0 {
		t.Errorf("messages per worker %v: the rebalance gave the second worker nothing", by)
	}
}

// TestStoppedMidBatch: a worker stopped while a message of its batch is
// still failing commits the offsets before that message only; the next
// member of the group processes the message and those after it, and none
// of those committed.
func TestStoppedMidBatch(t *testing.T) {
	c := newCluster(t, 1)
	produce(t, c, "m0", "m1", "stuck", "m3", "m4")
	var l log
	stop := worker(t, c, "g", 5, func(_ context.Context, b []platform.Delivery) []error {
		errs := make([]error, len(b))
		for i, d := range b {
			l.add("a", d)
			if string(d.Body) == "stuck" {
				errs[i] = retry.After(errors.New("RequestLimitExceeded"), time.Minute)
			}
		}
		return errs
	})
	waitUntil(t, "the first worker's batch", func() bool { return len(l.workers("stuck")) == 1 && l.distinct() == 5 })
	stop()
	if got := committed(c, "g")[0]; got != 2 {
		t.Fatalf("committed offset %d after the stop, want 2 (before the unfinished message)", got)
	}
	stop2 := worker(t, c, "g", 5, func(_ context.Context, b []platform.Delivery) []error {
		for _, d := range b {
			l.add("b", d)
		}
		return make([]error, len(b))
	})
	waitUntil(t, "the second worker", func() bool { return len(l.workers("m4")) == 2 })
	waitUntil(t, "the second worker's commit", func() bool { return committed(c, "g")[0] == 5 })
	stop2()
	want := map[string]string{"m0": "[a]", "m1": "[a]", "stuck": "[a b]", "m3": "[a b]", "m4": "[a b]"}
	for b, w := range want {
		if got := fmt.Sprint(l.workers(b)); got != w {
			t.Errorf("%s processed by %s, want %s", b, got, w)
		}
	}
}
