package record

import (
	"cmp"
	"slices"

	"github.com/ccc-enricher/ccc-enricher/internal/ccc"
	"github.com/ccc-enricher/ccc-enricher/internal/push"
)

// Metrics are derived from the call's timestamps and events. Durations are
// whole seconds, as CCC's timestamps are; a duration is absent (null) when
// the timestamps it needs are missing, which is not the same as zero.
type Metrics struct {
	// Answered is true when someone picked up (AcceptTimestamp is set).
	Answered bool `json:"answered"`
	// EndStatus is CCC's end status code and EndStatusName its name from
	// the documented table: the detail's code, else the code of the push's
	// EndStatusString (the push has no number). A code the table does not
	// know keeps an empty name; a name it does not know is kept as it came,
	// with a null code.
	EndStatus     *int64 `json:"endStatus"`
	EndStatusName string `json:"endStatusName"`
	HungUpSide    string `json:"hungUpSide,omitempty"`
	// TotalSeconds runs from the session's start to its end.
	TotalSeconds *int64 `json:"totalSeconds"`
	// IVRSeconds runs from the start until the call entered the queue.
	IVRSeconds *int64 `json:"ivrSeconds"`
	// QueueSeconds runs from entering the queue until an agent's phone rang
	// (or the call ended in the queue).
	QueueSeconds *int64 `json:"queueSeconds"`
	// RingSeconds runs from ringing until answer (or the end, unanswered).
	RingSeconds *int64 `json:"ringSeconds"`
	// TalkSeconds runs from answer to end, holds included.
	TalkSeconds *int64 `json:"talkSeconds"`
	// HoldSeconds and MuteSeconds sum the StaffHold→StaffUnhold and
	// StaffMute→StaffUnmute spans; a span still open at the end closes
	// there. They are null when no event list was available (push-only
	// records): the push does not carry events.
	HoldSeconds *int64 `json:"holdSeconds"`
	HoldCount   *int   `json:"holdCount"`
	MuteSeconds *int64 `json:"muteSeconds"`
	MuteCount   *int   `json:"muteCount"`
	// Transfers counts legs that were transferred to; Participants counts
	// service legs.
	Transfers    int `json:"transfers"`
	Participants int `json:"participants"`
}

// call is the part of a call the metrics need, from whichever source has
// it: the session detail when fetched, else the push.
type call struct {
	start, ring, accept, queued, end int64
	endStatus                        *int64
	endStatusName                    string
	hungUpSide                       string
	events                           []ccc.SessionEvent
	haveEvents                       bool
	// legs and transfers count the service legs and the legs that were
	// transferred to.
	legs, transfers int
}

func callOf(p *push.Push, d *ccc.SessionDetail) call {
	if d != nil {
		return call{
			start: d.StartTimeStamp, ring: d.RingTimestamp, accept: d.AcceptTimestamp,
			queued: d.QueuedTimestamp, end: d.EndedTimestamp,
			endStatus: &d.EndStatus, endStatusName: ccc.EndStatusName(d.EndStatus), hungUpSide: d.HungUpSide,
			events: d.Events, haveEvents: true,
			legs: len(d.ServeParticipants), transfers: transfers(d.ServeParticipants, func(l ccc.ServeParticipant) string { return l.TransferFrom }),
		}
	}
	if c := p.CDR; c != nil {
		return call{
			start: c.StartTimestamp, ring: c.RingTimestamp, accept: c.AcceptTimestamp,
			queued: c.QueuedTimestamp, end: c.EndedTimestamp,
			endStatus: endStatusOf(c.EndStatusString), endStatusName: c.EndStatusString, hungUpSide: c.HungUpSide,
			legs: len(c.ServeParticipants), transfers: transfers(c.ServeParticipants, func(l push.Participant) string { return l.TransferFrom }),
		}
	}
	return call{}
}

// endStatusOf is the code of a push's EndStatusString, or nil for a name
// CCC added after this program's table.
func endStatusOf(name string) *int64 {
	if code, ok := ccc.EndStatusCode(name); ok {
		return &code
	}
	return nil
}

// metricsBox holds the metrics and the durations and counts they point
// to, so that a record's metrics are one allocation.
type metricsBox struct {
	m Metrics
	// spans are the durations of span, in the order taken; n counts them.
	spans        [5]int64
	n            int
	hold, mute   int64
	holds, mutes int
}

// span returns to−from, kept in the box, or nil when either is unset
// or they are out of order.
func (b *metricsBox) span(from, to int64) *int64 {
	if from <= 0 || to <= 0 || to < from {
		return nil
	}
	v := &b.spans[b.n]
	b.n++
	*v = to - from
	return v
}

func metricsOf(c call) *Metrics {
	b := &metricsBox{}
	m := &b.m
	*m = Metrics{
		Answered:      c.accept > 0,
		EndStatus:     c.endStatus,
		EndStatusName: c.endStatusName,
		HungUpSide:    c.hungUpSide,
		TotalSeconds:  b.span(c.start, c.end),
		TalkSeconds:   b.span(c.accept, c.end),
		Participants:  c.legs,
		Transfers:     c.transfers,
	}
	if c.queued > 0 {
		m.IVRSeconds = b.span(c.start, c.queued)
		m.QueueSeconds = b.span(c.queued, first(c.ring, c.accept, c.end))
	}
	if c.ring > 0 {
		m.RingSeconds = b.span(c.ring, first(c.accept, c.end))
	}
	if c.haveEvents {
		b.hold, b.holds = paired(c.events, "StaffHold", "StaffUnhold", c.end)
		b.mute, b.mutes = paired(c.events, "StaffMute", "StaffUnmute", c.end)
		m.HoldSeconds, m.HoldCount = &b.hold, &b.holds
		m.MuteSeconds, m.MuteCount = &b.mute, &b.mutes
	}
	return m
}

// transfers counts the legs a call was transferred to.
func transfers[L any](legs []L, from func(L) string) int {
	n := 0
	for _, l := range legs {
		if from(l) != "" {
			n++
		}
	}
	return n
}

// first returns the first set timestamp.
func first(ts ...int64) int64 {
	for _, t := range ts {
		if t > 0 {
			return t
		}
	}
	return 0
}

// paired sums the spans between on and off events in time order. A second
// "on" while already on is ignored; an "on" never followed by "off" closes
// at end.
func paired(events []ccc.SessionEvent, on, off string, end int64) (total int64, count int) {
	// Calls hold and mute a few times at most: the buffer on the stack
	// spares an allocation for them.
	var buf [16]ccc.SessionEvent
	evs := buf[:0]
	for _, e := range events {
		// An event at no time (or before 1970) is corrupt; skipping it
		// keeps every span, and so their sum, within (0, MaxInt64].
		if e.Timestamp > 0 && (e.EventType == on || e.EventType == off) {
			evs = append(evs, e)
		}
	}
	slices.SortStableFunc(evs, func(a, b ccc.SessionEvent) int { return cmp.Compare(a.Timestamp, b.Timestamp) })
	var since int64
	active := false
	for _, e := range evs {
		switch {
		case e.EventType == on && !active:
			active, since = true, e.Timestamp
			count++
		case e.EventType == off && active:
			active = false
			total += max(e.Timestamp-since, 0)
		}
	}
	if active && end > since {
		total += end - since
	}
	return total, count
}
