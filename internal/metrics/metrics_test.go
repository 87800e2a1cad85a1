package metrics

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

var update = flag.Bool("update", false, "rewrite the golden lines")

var at = time.Date(2026, 12, 1, 10, 0, 0, 123e6, time.UTC)

// invocation is a push answered after a throttled detail call, a primary
// sink that refused the record and a dead-letter sink that took it.
func invocation() *Collector {
	c := New("http")
	c.Push("cdr", 0)
	c.CCCCall("DescribeSessionDetail", 41250*time.Microsecond, 2, 1)
	c.Delivery(Primary, "webhook", 12*time.Millisecond, 3, retry.Permanent(errors.New("410")))
	c.Delivery(DeadLetter, "sqs", 8500*time.Microsecond, 1, nil)
	return c
}

// job is a reconcile run of three calls, one of them failed.
func job() *Collector {
	c := New("reconcile")
	c.CCCCall("DescribeTelCdr", 30*time.Millisecond, 1, 0)
	for i, d := range []time.Duration{10, 20, 30} {
		c.CCCCall("DescribeSessionDetail", d*time.Millisecond, 1, 0)
		var err error
		if i == 2 {
			err = errors.New("timeout")
		}
		c.Delivery(Primary, "stdout", time.Millisecond, 1, err)
	}
	c.Reconcile(5, 3, 2, 1)
	return c
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    *Collector
		emf  bool
	}{
		{"invocation-emf", invocation(), true},
		{"invocation-json", invocation(), false},
		{"job-emf", job(), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.c.Append(nil, "ccc-enricher", tc.emf, at)
			path := filepath.Join("testdata", tc.name+".jsonl")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("line differs from %s (go test -update rewrites it):\ngot  %s\nwant %s", path, got, want)
			}
			if !json.Valid(got) || bytes.Count(got, []byte("\n")) != 1 {
				t.Errorf("not one JSON line: %s", got)
			}
		})
	}
}

// emfDoc is what CloudWatch reads of an EMF document.
type emfDoc struct {
	AWS struct {
		Timestamp         int64
		CloudWatchMetrics []struct {
			Namespace  string
			Dimensions [][]string
			Metrics    []struct{ Name, Unit string }
		}
	} `json:"_aws"`
}

// TestEMFSpec checks what the EMF specification requires of a document:
// every dimension and metric a directive names is a member of the root,
// metric values are numbers or arrays of at most 100 numbers, and the
// timestamp is in milliseconds.
func TestEMFSpec(t *testing.T) {
	c := job()
	for range 150 {
		c.CCCCall("DescribeSessionDetail", time.Millisecond, 1, 0)
	}
	line := c.Append(nil, "ns", true, at)
	var doc emfDoc
	var root map[string]any
	if err := json.Unmarshal(line, &doc); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(line, &root)
	if doc.AWS.Timestamp != at.UnixMilli() || len(doc.AWS.CloudWatchMetrics) == 0 {
		t.Fatalf("_aws %+v", doc.AWS)
	}
	for _, d := range doc.AWS.CloudWatchMetrics {
		if d.Namespace != "ns" || len(d.Dimensions) != 1 {
			t.Errorf("directive %+v", d)
		}
		for _, dim := range d.Dimensions[0] {
			if _, ok := root[dim].(string); !ok {
				t.Errorf("dimension %s: root has %v", dim, root[dim])
			}
		}
		for _, m := range d.Metrics {
			switch v := root[m.Name].(type) {
			case float64:
			case []any:
				if len(v) > MaxValues {
					t.Errorf("%s has %d values", m.Name, len(v))
				}
			default:
				t.Errorf("metric %s: root has %v", m.Name, root[m.Name])
			}
		}
	}
}

func TestNilAndEmpty(t *testing.T) {
	var c *Collector
	c.Push("cdr", 0)
	c.Enqueue(time.Second)
	FromContext(context.Background()).Reconcile(1, 1, 1, 0)
	var buf bytes.Buffer
	w := &Writer{W: &buf, Namespace: "ns", EMF: true}
	if err := w.Write(c); err != nil || buf.Len() != 0 {
		t.Fatalf("nil collector wrote %q, %v", buf.String(), err)
	}
	if err := w.Write(New("http")); err != nil || buf.Len() != 0 {
		t.Fatalf("empty collector wrote %q, %v", buf.String(), err)
	}
	var off *Writer
	if err := off.Write(invocation()); err != nil {
		t.Fatal(err)
	}
}

func TestCounters(t *testing.T) {
	c := New("intake")
	ctx := NewContext(context.Background(), c)
	for range 3 {
		FromContext(ctx).Enqueue(2 * time.Millisecond)
		FromContext(ctx).CCCCall("DescribeSessionDetail", time.Millisecond, 1, 2)
	}
	if got := c.values["RequestLimitExceeded"]; !slices.Equal(got, []float64{6}) {
		t.Errorf("RequestLimitExceeded %v, want one summed value", got)
	}
	if got := c.values["IntakeEnqueueLatency"]; !slices.Equal(got, []float64{2, 2, 2}) {
		t.Errorf("IntakeEnqueueLatency %v, want each observation", got)
	}
}
