package cccapi

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/metrics"
	"github.com/ccc-enricher/ccc-enricher/internal/tcemu"
)

// TestMetrics: a detail call throttled once is recorded as one call of two
// attempts, one of them RequestLimitExceeded, with its latency.
func TestMetrics(t *testing.T) {
	f := newFixture(t, tcemu.Options{})
	f.emu.Inject("DescribeSessionDetail", tcemu.Fault{Code: "RequestLimitExceeded"})
	c := f.client(t, nil, 0, Options{})
	m := metrics.New("http")
	if _, err := c.DescribeSessionDetail(metrics.NewContext(testContext(t), m), f.query); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(m.Append(nil, "ns", false, time.Now()), &got); err != nil {
		t.Fatal(err)
	}
	if got["DetailAttempts"] != 2.0 || got["RequestLimitExceeded"] != 1.0 {
		t.Errorf("DetailAttempts %v, RequestLimitExceeded %v; want 2 and 1", got["DetailAttempts"], got["RequestLimitExceeded"])
	}
	if l, ok := got["DetailLatency"].(float64); !ok || l <= 0 {
		t.Errorf("DetailLatency %v", got["DetailLatency"])
	}
}
