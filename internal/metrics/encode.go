package metrics

import (
	"io"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Writer writes Collectors as lines on W, which is the log's writer: the
// line is not a log record, so the logger's redaction (which would turn
// the EMF block into a string) does not apply, and its values are numbers
// and fixed names that need none.
type Writer struct {
	// W receives one line per Write, in one call. Share it, locked, with
	// the logger so that lines do not interleave.
	W io.Writer
	// Namespace is the CloudWatch namespace (METRICS_NAMESPACE).
	Namespace string
	// EMF adds the "_aws" block that makes CloudWatch Logs extract the
	// metrics; without it the line carries the same fields.
	EMF bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Write writes c as one line. A nil Writer, or a Collector with nothing
// recorded, writes nothing.
func (w *Writer) Write(c *Collector) error {
	if w == nil || c == nil {
		return nil
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	b := c.Append(nil, w.Namespace, w.EMF, now())
	if b == nil {
		return nil
	}
	_, err := w.W.Write(b)
	return err
}

// Append appends c's line to b, fields in a fixed order: time, level and
// msg as the log's lines have them; with emf the "_aws" block; the
// dimensions; the metrics, a counter as one number and any other metric as
// one number or an array of observations. It returns nil when nothing was
// recorded.
func (c *Collector) Append(b []byte, namespace string, emf bool, now time.Time) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	var used []metric
	for _, m := range catalogue {
		if len(c.values[m.name]) > 0 && c.hasDims(m.dims) {
			used = append(used, m)
		}
	}
	if len(used) == 0 {
		return nil
	}
	b = append(b, `{"time":`...)
	b = strconv.AppendQuote(b, now.UTC().Format(time.RFC3339Nano))
	b = append(b, `,"level":"INFO","msg":"metrics"`...)
	if emf {
		b = appendAWS(b, namespace, now, used)
	}
	for _, d := range dimOrder {
		if v, ok := c.dims[d]; ok {
			b = append(b, ',')
			b = strconv.AppendQuote(b, d)
			b = append(b, ':')
			b = strconv.AppendQuote(b, v)
		}
	}
	for _, m := range used {
		b = append(b, ',')
		b = strconv.AppendQuote(b, m.name)
		b = append(b, ':')
		b = appendValues(b, c.values[m.name])
	}
	return append(b, '}', '\n')
}

// dimOrder is the order of the dimensions in a line.
var dimOrder = []string{"Operation", "Kind", "ErrCode", string(Primary), string(DeadLetter)}

func (c *Collector) hasDims(dims []string) bool {
	for _, d := range dims {
		if c.dims[d] == "" {
			return false
		}
	}
	return true
}

// appendAWS appends the EMF metadata: one directive per dimension set, in
// the catalogue's order.
func appendAWS(b []byte, namespace string, now time.Time, used []metric) []byte {
	b = append(b, `,"_aws":{"Timestamp":`...)
	b = strconv.AppendInt(b, now.UnixMilli(), 10)
	b = append(b, `,"CloudWatchMetrics":[`...)
	var sets [][]string
	for _, m := range used {
		if !slices.ContainsFunc(sets, func(s []string) bool { return slices.Equal(s, m.dims) }) {
			sets = append(sets, m.dims)
		}
	}
	for i, set := range sets {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"Namespace":`...)
		b = strconv.AppendQuote(b, namespace)
		b = append(b, `,"Dimensions":[[`...)
		for j, d := range set {
			if j > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendQuote(b, d)
		}
		b = append(b, `]],"Metrics":[`...)
		first := true
		for _, m := range used {
			if !slices.Equal(m.dims, set) {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(b, `{"Name":`...)
			b = strconv.AppendQuote(b, m.name)
			b = append(b, `,"Unit":`...)
			b = strconv.AppendQuote(b, m.unit)
			b = append(b, '}')
		}
		b = append(b, "]}"...)
	}
	return append(b, "]}"...)
}

func appendValues(b []byte, v []float64) []byte {
	if len(v) == 1 {
		return strconv.AppendFloat(b, v[0], 'f', -1, 64)
	}
	b = append(b, '[')
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, x, 'f', -1, 64)
	}
	return append(b, ']')
}

// SyncWriter serialises writes to W, so that the logger and the metrics
// Writer can share one stream without interleaving their lines.
type SyncWriter struct {
	mu sync.Mutex
	W  io.Writer
}

// Write writes p to W under the lock.
func (s *SyncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.W.Write(p)
}
