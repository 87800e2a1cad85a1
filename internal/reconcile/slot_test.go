package reconcile

import (
	"testing"
	"time"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestSlotFor(t *testing.T) {
	const m = time.Minute
	for _, tc := range []struct {
		name         string
		scheduled    string
		slot, delay  time.Duration
		start, end   string
		wantContains []string // end times that belong to the slot
	}{
		{"on time", "2026-03-10T10:00:00Z", 10 * m, 20 * m, "2026-03-10T09:30:00Z", "2026-03-10T09:40:00Z", nil},
		{"seconds late", "2026-03-10T10:00:07Z", 10 * m, 20 * m, "2026-03-10T09:30:00Z", "2026-03-10T09:40:00Z", nil},
		{"almost nine minutes late", "2026-03-10T10:08:59Z", 10 * m, 20 * m, "2026-03-10T09:30:00Z", "2026-03-10T09:40:00Z", nil},
		{"nine minutes late is the next run's", "2026-03-10T10:09:00Z", 10 * m, 20 * m, "2026-03-10T09:40:00Z", "2026-03-10T09:50:00Z", nil},
		{"half a minute early", "2026-03-10T09:59:30Z", 10 * m, 20 * m, "2026-03-10T09:30:00Z", "2026-03-10T09:40:00Z", nil},
		{"a minute early", "2026-03-10T09:59:00Z", 10 * m, 20 * m, "2026-03-10T09:30:00Z", "2026-03-10T09:40:00Z", nil},
		{"more than a minute early is the previous run's", "2026-03-10T09:58:59Z", 10 * m, 20 * m, "2026-03-10T09:20:00Z", "2026-03-10T09:30:00Z", nil},
		{"no delay, no early tolerance", "2026-03-10T10:00:00Z", 10 * m, 0, "2026-03-10T09:50:00Z", "2026-03-10T10:00:00Z", nil},
		{"no delay, a second early", "2026-03-10T09:59:59Z", 10 * m, 0, "2026-03-10T09:40:00Z", "2026-03-10T09:50:00Z", nil},
		// 7 minutes do not divide an hour: slots are aligned to the Unix
		// epoch. 10:00 − 20m + 42s is 09:40:42; the multiple of 420 s below
		// it is 09:37 (1773135420 = 4221751·420).
		{"slot of 7 minutes", "2026-03-10T10:00:00Z", 7 * m, 20 * m, "2026-03-10T09:30:00Z", "2026-03-10T09:37:00Z", nil},
		{"day slot", "2026-03-29T00:30:00Z", 24 * time.Hour, 20 * m, "2026-03-28T00:00:00Z", "2026-03-29T00:00:00Z", nil},
		{"before 1970", "1969-12-31T23:55:00Z", 10 * m, 0, "1969-12-31T23:40:00Z", "1969-12-31T23:50:00Z", nil},
		{"sub-second slot counts as one second", "2026-03-10T10:00:00.5Z", time.Millisecond, 0, "2026-03-10T09:59:59Z", "2026-03-10T10:00:00Z", nil},
		{"edges", "2026-03-10T10:00:00Z", 10 * m, 20 * m, "2026-03-10T09:30:00Z", "2026-03-10T09:40:00Z",
			[]string{"2026-03-10T09:30:00Z", "2026-03-10T09:39:59Z"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := SlotFor(at(tc.scheduled), tc.slot, tc.delay)
			if !s.Start.Equal(at(tc.start)) || !s.End.Equal(at(tc.end)) {
				t.Errorf("SlotFor(%s, %s, %s) = %s, want %s/%s", tc.scheduled, tc.slot, tc.delay, s, tc.start, tc.end)
			}
			for _, e := range tc.wantContains {
				if !s.Contains(at(e).Unix()) {
					t.Errorf("%s does not contain %s", s, e)
				}
			}
			if s.Contains(s.End.Unix()) || !s.Contains(s.Start.Unix()) {
				t.Errorf("%s is not half-open", s)
			}
		})
	}
}

// Runs scheduled every slot, firing up to a minute early or several
// minutes late, cover contiguous slots; a call that ends on a slot edge
// belongs to exactly one of them; and nothing depends on DST (time is UTC
// Unix seconds) or leap seconds (which Unix time does not count).
func TestSlotsContiguous(t *testing.T) {
	for _, tc := range []struct {
		slot, delay time.Duration
		first       string
	}{
		{10 * time.Minute, 20 * time.Minute, "2026-03-28T22:00:00Z"}, // across the EU DST change
		{time.Minute, 5 * time.Minute, "2016-12-31T23:30:00Z"},       // across a leap second
		{15 * time.Minute, time.Hour, "2026-11-01T05:00:00Z"},        // across the US DST change
	} {
		first := at(tc.first)
		jitter := []time.Duration{0, 7 * time.Second, -tc.slot / 20, 3 * time.Second, tc.slot * 8 / 10, -time.Second, tc.slot / 2}
		var prev Slot
		for i := range 300 {
			scheduled := first.Add(time.Duration(i) * tc.slot).Add(jitter[i%len(jitter)])
			s := SlotFor(scheduled, tc.slot, tc.delay)
			if i > 0 && !s.Start.Equal(prev.End) {
				t.Fatalf("slot %s, %d-th, after %s: not contiguous (run at %s)", s, i, prev, scheduled)
			}
			if i > 0 {
				edge := s.Start.Unix()
				if prev.Contains(edge) == s.Contains(edge) {
					t.Fatalf("a call ending at %s is in %s: %t and %s: %t", s.Start, prev, prev.Contains(edge), s, s.Contains(edge))
				}
			}
			if s.End.After(scheduled) {
				t.Fatalf("slot %s ends after its run at %s", s, scheduled)
			}
			prev = s
		}
	}
}

func TestWindows(t *testing.T) {
	ws := windows(at("2026-03-10T00:00:00Z"), at("2026-03-12T06:00:00Z"), 24*time.Hour)
	want := []string{"2026-03-10T00:00:00Z/2026-03-11T00:00:00Z", "2026-03-11T00:00:00Z/2026-03-12T00:00:00Z", "2026-03-12T00:00:00Z/2026-03-12T06:00:00Z"}
	if len(ws) != len(want) {
		t.Fatalf("windows = %v", ws)
	}
	for i, w := range ws {
		if w.String() != want[i] {
			t.Errorf("window %d = %s, want %s", i, w, want[i])
		}
	}
	if ws := windows(at("2026-03-10T00:00:00Z"), at("2026-03-10T00:00:00Z"), time.Hour); len(ws) != 0 {
		t.Errorf("empty range: %v", ws)
	}
}
