package ccc

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

func TestQueryWindow(t *testing.T) {
	now := time.Unix(1_780_000_000, 0)
	n := now.Unix()
	const (
		m    = 600                 // margin
		day  = 86400               // s
		span = 90*day - 1          // the longest window
		skew = 300                 // kept from the 180-day limit
		huge = int64(253402300799) // year 9999
	)
	old := n - 180*day + skew // the oldest start accepted
	tests := []struct {
		name       string
		start, end int64
		from, to   int64
		err        string
		tooOld     bool
	}{
		{name: "just ended", start: n - 100, end: n - 30, from: n - 100 - m, to: n},
		{name: "ended long ago", start: n - 5000, end: n - 4000, from: n - 5000 - m, to: n - 4000 + m},
		{name: "ends exactly a margin ago", start: n - 900, end: n - m, from: n - 900 - m, to: n},
		{name: "end after now (skew)", start: n - 10, end: n + 30, from: n - 10 - m, to: n + 30},
		{name: "no start", end: n - 30, from: n - 30 - m, to: n},
		{name: "no end", start: n - 100, from: n - 100 - m, to: n},
		{name: "no end, start after now", start: n + 5, from: n + 5 - m, to: n + 5},
		{name: "neither", err: "both missing or zero"},
		{name: "end before start", start: n - 10, end: n - 20, err: "is before"},
		{name: "negative", start: -1, end: n, err: "not a Unix time"},
		{name: "absurd", start: n, end: huge + 1, err: "not a Unix time"},
		{name: "year 9999", start: huge, end: huge, from: huge - m, to: huge},
		{name: "oldest start", start: old, end: old + 60, from: old, to: old + 60 + m},
		{name: "margin cut at the oldest", start: old + 10, end: old + 60, from: old, to: old + 60 + m},
		{name: "a second too old", start: old - 1, end: old + 60, err: "180-day", tooOld: true},
		{name: "far too old", start: 1756892198, end: 1756892230, err: "180-day", tooOld: true},
		{name: "longest call", start: n - span - 100, end: n - 100, from: n - span - 100, to: n - 100},
		{name: "long call, margins shrink", start: n - span + 100, end: n - 100, from: n - 100 - span, to: n - 100},
		{name: "long old call, margins shrink", start: n - 100*day, end: n - 100*day + span - 200, from: n - 100*day - 200, to: n - 100*day + span - 200},
		{name: "too long", start: n - span - 101, end: n - 100, err: "90 days"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, to, err := QueryWindow(tt.start, tt.end, now)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("QueryWindow = %d, %d, %v; want error containing %q", from, to, err, tt.err)
				}
				if !retry.IsPermanent(err) {
					t.Error("error is not permanent")
				}
				if errors.Is(err, ErrTooOld) != tt.tooOld {
					t.Errorf("errors.Is(ErrTooOld) = %v, want %v", !tt.tooOld, tt.tooOld)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if from != tt.from || to != tt.to {
				t.Errorf("QueryWindow = %d, %d; want %d, %d (offsets from now: %d, %d)", from, to, tt.from, tt.to, from-n, to-n)
			}
			checkInvariants(t, tt.start, tt.end, from, to, now)
		})
	}
}

// checkInvariants asserts what every window must satisfy: it holds the
// call, and the API accepts it.
func checkInvariants(t *testing.T, start, end, from, to int64, now time.Time) {
	t.Helper()
	if start != 0 && from > start {
		t.Errorf("from %d after the start %d", from, start)
	}
	if end != 0 && to < end {
		t.Errorf("to %d before the end %d", to, end)
	}
	if err := checkWindow(from, to, now); err != nil {
		t.Errorf("the API would refuse %d–%d: %v", from, to, err)
	}
}

func TestCheckWindow(t *testing.T) {
	now := time.Unix(1_780_000_000, 0)
	n := now.Unix()
	tests := []struct {
		from, to int64
		ok       bool
	}{
		{n - 3600, n, true},
		{n - 180*86400, n - 180*86400 + 1, true},
		{n - 180*86400 - 1, n, false},
		{n - 90*86400 + 1, n, true},
		{n - 90*86400, n, false},
		{n, n - 1, false},
		{0, n, false},
		{n, 0, false},
	}
	for _, tt := range tests {
		if err := checkWindow(tt.from, tt.to, now); (err == nil) != tt.ok {
			t.Errorf("checkWindow(now%+d, now%+d) = %v, want ok %v", tt.from-n, tt.to-n, err, tt.ok)
		}
	}
}

func FuzzQueryWindow(f *testing.F) {
	f.Add(int64(1756892198), int64(1756892230), int64(60))
	f.Add(int64(0), int64(1756892230), int64(0))
	f.Add(int64(1756892198), int64(0), int64(86400))
	f.Add(int64(1), int64(253402300799), int64(-1))
	f.Fuzz(func(t *testing.T, start, end, after int64) {
		// now lies after the call by `after` seconds, within reason.
		base := max(start, end)
		if base <= 0 || base > maxTimestamp || after < -86400 || after > 200*86400 {
			return
		}
		now := time.Unix(base+after, 0)
		from, to, err := QueryWindow(start, end, now)
		if err != nil {
			if !retry.IsPermanent(err) {
				t.Fatalf("transient error %v", err)
			}
			return
		}
		checkInvariants(t, start, end, from, to, now)
	})
}
