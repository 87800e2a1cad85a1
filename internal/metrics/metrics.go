// Package metrics gathers one invocation's or one job run's figures and
// writes them as one JSON line: CloudWatch Embedded Metric Format (EMF) on
// Lambda, where CloudWatch Logs turns the line into metrics with no API
// call, and the same fields without EMF's "_aws" block elsewhere (on SCF,
// CLS charts fields of JSON log lines).
//
// A Collector travels in the context; the packages that do the work record
// into it with small calls that do nothing when there is none, so that
// tests and callers without metrics need not care. The line is one
// document because an EMF document is the unit CloudWatch extracts, and
// one per invocation keeps the log volume fixed.
package metrics

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

// Destination is the role a sink plays, and so the dimension its figures
// are published under: a line can name one destination per role.
type Destination string

const (
	// Primary is the sink (dimension "Sink").
	Primary Destination = "Sink"
	// DeadLetter is the dead-letter sink (dimension "DeadLetterSink").
	DeadLetter Destination = "DeadLetterSink"
)

// MaxValues bounds the observations kept of one metric in one line: EMF
// takes at most 100 values per metric per document.
const MaxValues = 100

// unit names, as EMF spells them.
const (
	count        = "Count"
	milliseconds = "Milliseconds"
)

// metric is one metric the program publishes. A counter is summed into one
// value; any other metric keeps each observation.
type metric struct {
	name, unit string
	counter    bool
	dims       []string
}

var (
	opDims   = []string{"Operation"}
	pushDims = []string{"Kind", "ErrCode"}
	sinkDims = []string{string(Primary)}
	dlqDims  = []string{string(DeadLetter)}
)

// catalogue is every metric, in the order a line lists them; the
// dashboard and alarms in template.yaml name them.
var catalogue = []metric{
	{"Pushes", count, true, pushDims},
	{"DetailLatency", milliseconds, false, opDims},
	{"DetailAttempts", count, false, opDims},
	{"TelCdrLatency", milliseconds, false, opDims},
	{"TelCdrAttempts", count, false, opDims},
	{"RequestLimitExceeded", count, true, opDims},
	{"IntakeEnqueueLatency", milliseconds, false, opDims},
	{"ReconcileSeen", count, true, opDims},
	{"ReconcileInSlot", count, true, opDims},
	{"ReconcileSent", count, true, opDims},
	{"ReconcileFailed", count, true, opDims},
	{"SinkLatency", milliseconds, false, sinkDims},
	{"SinkAttempts", count, false, sinkDims},
	{"SinkDelivered", count, true, sinkDims},
	{"SinkRefused", count, true, sinkDims},
	{"SinkFailed", count, true, sinkDims},
	{"DeadLetterLatency", milliseconds, false, dlqDims},
	{"DeadLetterAttempts", count, false, dlqDims},
	{"DeadLettered", count, true, dlqDims},
	{"DeadLetterFailed", count, true, dlqDims},
}

// Collector gathers the figures of one invocation or job run. Its methods
// are safe for concurrent use and do nothing on a nil Collector.
type Collector struct {
	mu     sync.Mutex
	dims   map[string]string
	values map[string][]float64
}

// New returns a Collector for an operation: "http" for a request, or the
// name of a job ("reconcile", "redrive", "backfill").
func New(operation string) *Collector {
	return &Collector{dims: map[string]string{"Operation": operation}, values: map[string][]float64{}}
}

type key struct{}

// NewContext returns ctx carrying c.
func NewContext(ctx context.Context, c *Collector) context.Context {
	return context.WithValue(ctx, key{}, c)
}

// FromContext returns the Collector ctx carries, or nil.
func FromContext(ctx context.Context) *Collector {
	c, _ := ctx.Value(key{}).(*Collector)
	return c
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// add records observations under the lock; a dimension is set with them.
func (c *Collector) add(dim, value string, obs ...observation) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if dim != "" {
		c.dims[dim] = value
	}
	for _, o := range obs {
		v := c.values[o.name]
		switch {
		case isCounter(o.name) && len(v) == 1:
			v[0] += o.v
		case len(v) < MaxValues:
			v = append(v, o.v)
		}
		c.values[o.name] = v
	}
}

type observation struct {
	name string
	v    float64
}

func isCounter(name string) bool {
	i := slices.IndexFunc(catalogue, func(m metric) bool { return m.name == name })
	return i >= 0 && catalogue[i].counter
}

// Push records the answer to one push: its kind and the ErrCode CCC got.
func (c *Collector) Push(kind string, errCode int) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.dims["Kind"], c.dims["ErrCode"] = kind, strconv.Itoa(errCode)
	c.mu.Unlock()
	c.add("", "", observation{"Pushes", 1})
}

// CCCCall records one CCC API operation, all its attempts together:
// DescribeSessionDetail as Detail…, DescribeTelCdr pages as TelCdr…, and
// the attempts CCC refused with RequestLimitExceeded.
func (c *Collector) CCCCall(action string, took time.Duration, attempts, limited int) {
	prefix := "TelCdr"
	if action == "DescribeSessionDetail" {
		prefix = "Detail"
	}
	c.add("", "",
		observation{prefix + "Latency", ms(took)},
		observation{prefix + "Attempts", float64(attempts)},
		observation{"RequestLimitExceeded", float64(limited)})
}

// Delivery records one send to a destination: how long it took, its
// attempts, and its outcome (err nil: delivered; permanent: refused; else
// failed).
func (c *Collector) Delivery(dest Destination, name string, took time.Duration, attempts int, err error) {
	if dest == DeadLetter {
		outcome := "DeadLettered"
		if err != nil {
			outcome = "DeadLetterFailed"
		}
		c.add(string(dest), name, observation{"DeadLetterLatency", ms(took)},
			observation{"DeadLetterAttempts", float64(attempts)}, observation{outcome, 1})
		return
	}
	outcome := "SinkDelivered"
	switch {
	case retry.IsPermanent(err):
		outcome = "SinkRefused"
	case err != nil:
		outcome = "SinkFailed"
	}
	c.add(string(dest), name, observation{"SinkLatency", ms(took)},
		observation{"SinkAttempts", float64(attempts)}, observation{outcome, 1})
}

// Enqueue records how long writing one push to the intake queue took.
func (c *Collector) Enqueue(took time.Duration) {
	c.add("", "", observation{"IntakeEnqueueLatency", ms(took)})
}

// Reconcile records a reconciliation or backfill run: the calls listed,
// those in its slot or range (each re-delivered: the function keeps no
// state to tell which the pushes missed), those sent and those failed.
func (c *Collector) Reconcile(seen, inSlot, sent, failed int) {
	c.add("", "",
		observation{"ReconcileSeen", float64(seen)},
		observation{"ReconcileInSlot", float64(inSlot)},
		observation{"ReconcileSent", float64(sent)},
		observation{"ReconcileFailed", float64(failed)})
}

// Names lists every metric's name, in the order a line lists them.
func Names() []string {
	names := make([]string, len(catalogue))
	for i, m := range catalogue {
		names[i] = m.name
	}
	return names
}
