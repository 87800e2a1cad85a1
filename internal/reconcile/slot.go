package reconcile

import (
	"fmt"
	"time"
)

// Slot is a half-open span of call end times, [Start, End).
type Slot struct {
	Start, End time.Time
}

// Contains reports whether a call that ended at t (Unix seconds) belongs
// to the slot.
func (s Slot) Contains(t int64) bool {
	return s.Start.Unix() <= t && t < s.End.Unix()
}

func (s Slot) String() string {
	return s.Start.UTC().Format(time.RFC3339) + "/" + s.End.UTC().Format(time.RFC3339)
}

// SlotFor returns the slot a run scheduled at t reconciles:
//
//	E = truncate(t − delay + ε, slot), S = E − slot
//
// truncated to a multiple of slot since the Unix epoch, so that every
// instance of every run agrees on the slot without shared state. ε is
// min(slot, delay)/10 (a minute with the defaults): a trigger that fires
// up to ε early still gets its own slot, not the one before; one that fires
// up to slot − ε late gets its own slot too. Runs scheduled one slot apart
// thus cover contiguous slots, and each call is reconciled exactly once.
// Because ε ≤ delay/10, E never lies after t − 0.9·delay: the slot is over
// when its run starts.
//
// slot is counted in whole seconds and at least one second; a negative
// delay counts as zero.
func SlotFor(t time.Time, slot, delay time.Duration) Slot {
	size := max(int64(slot/time.Second), 1)
	delay = max(delay, 0)
	eps := min(time.Duration(size)*time.Second, delay) / 10
	at := t.Add(eps - delay).Unix()
	end := at - mod(at, size)
	return Slot{Start: time.Unix(end-size, 0).UTC(), End: time.Unix(end, 0).UTC()}
}

// mod is the floor modulus, non-negative for a positive n even before 1970.
func mod(a, n int64) int64 {
	m := a % n
	if m < 0 {
		m += n
	}
	return m
}

// windows splits [from, to) into consecutive spans of at most size.
func windows(from, to time.Time, size time.Duration) []Slot {
	var ws []Slot
	for s := from; s.Before(to); {
		e := s.Add(size)
		if e.After(to) {
			e = to
		}
		ws = append(ws, Slot{Start: s, End: e})
		s = e
	}
	return ws
}

// checkSlot refuses a span the API cannot serve or that has not ended.
func checkSlot(s Slot, now time.Time) error {
	switch {
	case !s.Start.Before(s.End):
		return fmt.Errorf("span %s is empty", s)
	case s.End.After(now):
		return fmt.Errorf("span %s has not ended yet (now %s)", s, now.UTC().Format(time.RFC3339))
	case s.Start.Before(Oldest(now)):
		return fmt.Errorf("span %s starts more than 180 days ago: CCC keeps call records for 180 days", s)
	}
	return nil
}
