package ccc

import (
	"errors"
	"fmt"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

// The API's rules for a query window (DescribeSessionDetail and
// DescribeTelCdr): the start within the last 180 days, the span under 90
// days.
const (
	maxAge  = 180 * 24 * time.Hour
	maxSpan = 90*24*time.Hour - time.Second
)

const (
	// windowMargin widens a call's own times on each side, for pushes whose
	// times differ a little from CCC's record of the call.
	windowMargin = 10 * time.Minute
	// clockSkew is kept between the window's start and the 180-day limit,
	// in case the API's clock runs ahead of ours.
	clockSkew = 5 * time.Minute
	// maxTimestamp (year 9999) refuses nonsense before it overflows.
	maxTimestamp = 253402300799
)

// ErrTooOld is wrapped by QueryWindow's error for a call that started more
// than 180 days ago, which the API no longer serves.
var ErrTooOld = errors.New("call is older than the API's 180-day window")

// WindowError is a push's or request's timestamps that cannot bound a
// detail query: the caller's fault, which no retry cures.
type WindowError struct{ Reason string }

func (e *WindowError) Error() string {
	return "timestamps cannot bound a detail query: " + e.Reason
}

// QueryWindow returns the DescribeSessionDetail window [from, to] (Unix
// seconds) for a call that started at start and ended at end (the push's
// StartTimestamp and EndedTimestamp), seen at now.
//
// The window is the call widened by 10 minutes on each side, its end cut to
// now (the future holds nothing; a call ending after now, by clock skew,
// keeps its end), and kept within the API's rules: a start no earlier than
// 180 days ago (less 5 minutes for skew) and a span under 90 days, the
// margins giving way first. A zero start means the start is unknown: the
// window begins 10 minutes before the end. A zero end means the call has
// not reported its end: the window runs to now.
//
// The error, always retry.Permanent, reports: both timestamps zero, a
// negative or absurd timestamp, an end before the start, a call longer than
// the 90-day span, and a call older than 180 days (wrapping ErrTooOld).
func QueryWindow(start, end int64, now time.Time) (from, to int64, err error) {
	from, to, err = queryWindow(start, end, now)
	if err != nil {
		return 0, 0, retry.Permanent(fmt.Errorf("query window: %w", err))
	}
	return from, to, nil
}

func queryWindow(start, end int64, now time.Time) (from, to int64, err error) {
	n := now.Unix()
	switch {
	case start < 0 || end < 0 || start > maxTimestamp || end > maxTimestamp:
		return 0, 0, &WindowError{fmt.Sprintf("StartTimestamp %d or EndTimestamp %d is not a Unix time in seconds", start, end)}
	case start == 0 && end == 0:
		return 0, 0, &WindowError{"StartTimestamp and EndedTimestamp (a recording's Timestamp; the enrich route's EndTimestamp) are both missing or zero"}
	case start == 0:
		start = end
	case end == 0:
		end = max(start, n)
	}
	span := int64(maxSpan / time.Second)
	switch {
	case end < start:
		return 0, 0, &WindowError{fmt.Sprintf("EndTimestamp %d is before StartTimestamp %d", end, start)}
	case end-start > span:
		return 0, 0, &WindowError{fmt.Sprintf("StartTimestamp to EndTimestamp spans %d s, more than the API's 90 days", end-start)}
	}
	oldest := now.Add(-maxAge + clockSkew).Unix()
	if start < oldest {
		return 0, 0, fmt.Errorf("started at %d, before %d: %w", start, oldest, ErrTooOld)
	}
	margin := int64(windowMargin / time.Second)
	from = max(start-margin, oldest)
	to = end + margin
	if to > n {
		to = max(n, end)
	}
	if to-from > span {
		// Only the margins are cut: end − start fits.
		to = max(from+span, end)
		from = to - span
	}
	return from, to, nil
}

// checkWindow applies the API's rules to a window given by the caller.
func checkWindow(from, to int64, now time.Time) error {
	switch {
	case from <= 0 || to <= 0:
		return fmt.Errorf("window %d–%d: both ends are required", from, to)
	case to < from:
		return fmt.Errorf("window %d–%d ends before it starts", from, to)
	case time.Unix(from, 0).Before(now.Add(-maxAge)):
		return fmt.Errorf("window %d–%d: %w", from, to, ErrTooOld)
	case to-from > int64(maxSpan/time.Second):
		return fmt.Errorf("window %d–%d spans 90 days or more", from, to)
	}
	return nil
}
