// Package reconcile delivers the calls that CCC's data push did not. CCC
// gives up on a push after three failed attempts, and a wrong push address
// loses every call until someone notices; DescribeTelCdr still lists them
// all. Reconciliation lists the calls, turns each into the CDR push CCC
// would have sent, and runs it through the same enrich pipeline as a push:
// the record, and its id, are the push's, so consumers that deduplicate on
// the id see every call once however often it arrives.
//
// The scheduled job keeps no state. Each run covers one slot of call end
// times derived from its scheduled time alone (see SlotFor), and sends
// every call of the slot, those the push already delivered included:
// resending them costs a DescribeSessionDetail each and nothing else.
// DescribeTelCdr selects calls by start time, so a slot [S, E) is listed
// as the calls that started in [S − Lookback, E], and those that ended in
// [S, E) are kept.
//
// A run goes through all calls of its slot even when some fail, and then
// returns an error if any failed or could not be attempted before the
// context's deadline, so that the platform runs the whole slot again. A
// record that the sink refuses and the dead-letter sink takes is durable
// and counts as delivered, as it does for a push.
//
// Backfill does the same over any range within the API's 180 days, window
// by window in order of time, and tells how far it got, so that an
// interrupted backfill resumes where it stopped.
package reconcile

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/ccc"
	"github.com/ccc-enricher/ccc-enricher/internal/enrich"
	"github.com/ccc-enricher/ccc-enricher/internal/push"
	"github.com/ccc-enricher/ccc-enricher/internal/record"
)

const (
	// DefaultLookback is how long before a slot's start a call may have
	// started and still be found: the longest call reconciliation accounts
	// for. A call that lasted longer ends in its slot but is not listed
	// there.
	DefaultLookback = 6 * time.Hour
	// MaxWindow is the largest span of end times Backfill covers with one
	// listing, and its default.
	MaxWindow = 24 * time.Hour
	// DefaultWorkers is how many calls are enriched at once. The CCC
	// client's limiter paces them; a few in flight hide the API's and the
	// sink's latency behind it.
	DefaultWorkers = 4
	// DefaultMaxFailures is how many failed calls stop a backfill.
	DefaultMaxFailures = 20
)

const (
	// maxAge is how far back DescribeTelCdr lists calls.
	maxAge = 180 * 24 * time.Hour
	// ageMargin keeps queries clear of the 180-day limit, for clock skew
	// and for the time a backfill takes to reach its first window.
	ageMargin = 10 * time.Minute
)

// Oldest is the earliest time a backfill may start from at now: DescribeTelCdr
// lists calls of the last 180 days, less a margin for clock skew.
func Oldest(now time.Time) time.Time {
	return now.Add(-maxAge + ageMargin)
}

// CDRLister lists call records: *cccapi.Client, whose limiter and retries
// DescribeTelCdr shares with DescribeSessionDetail.
type CDRLister interface {
	ListTelCdr(ctx context.Context, q ccc.TelCdrQuery, fn func(ccc.TelCdrInfo) error) error
}

// Ledger tells which records are delivered: *archive.Records in
// production, whose objects are written after every other destination took
// the record.
type Ledger interface {
	// Delivered reports whether the record id, of a call that started at
	// start, is delivered.
	Delivered(ctx context.Context, id string, start time.Time) (bool, error)
}

// Reconciler reconciles slots and backfills ranges. Its fields are read,
// never changed, so one Reconciler may run several jobs at once.
type Reconciler struct {
	// CDR lists the calls; Enricher enriches and delivers them.
	CDR      CDRLister
	Enricher *enrich.Enricher
	// SdkAppIDs are the applications Reconcile goes through
	// (CCC_SDK_APP_IDS).
	SdkAppIDs []int64
	// Slot and Delay place a scheduled run's slot (RECONCILE_SLOT,
	// RECONCILE_DELAY); see SlotFor. Zero Slot means 10 minutes.
	Slot, Delay time.Duration
	// Lookback bounds how long a call may last and still be found; zero
	// means DefaultLookback.
	Lookback time.Duration
	// CDROnly forwards the listed data without calling
	// DescribeSessionDetail (RECONCILE_MODE=cdr-only).
	CDROnly bool
	// Ledger, when set, is asked whether a call's record was delivered
	// already before its detail is fetched; such calls are skipped
	// (RECONCILE_SKIP_DELIVERED with the records archive).
	Ledger Ledger
	// Workers is how many calls are enriched at once; zero means
	// DefaultWorkers.
	Workers int
	// Logger receives one line per failed call and one summary per run;
	// nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Summary counts what a run did.
type Summary struct {
	// Source is record.SourceReconcile or record.SourceBackfill.
	Source string
	// Start and End bound the call end times the run covered: the slot, or
	// the backfill's range.
	Start, End time.Time
	// Seen counts the calls DescribeTelCdr listed (each once per listing;
	// a listing reaches Lookback before its window, so a call may be seen
	// by two windows of a backfill). Pages counts the pages of the lists.
	Seen, Pages int
	// InSlot counts the calls that ended in [Start, End): those the run
	// is to deliver.
	InSlot int
	// Forwarded counts records the sink took, DeadLettered those the
	// dead-letter sink took instead, Partial the records of either kind
	// sent without the detail (ON_DETAIL_FAILURE=forward-partial), Listed
	// the calls a dry run would have sent.
	Forwarded, DeadLettered, Partial, Listed int
	// Skipped counts calls the Ledger holds already: neither fetched nor
	// sent again.
	Skipped int
	// Failed counts calls that could not be delivered.
	Failed int
	// Done is how far the run got: every call that ended in [Start, Done)
	// is delivered (or, in a dry run, listed). A run resumed from Done
	// misses nothing.
	Done time.Time
}

// attrs are the summary's log attributes.
func (s Summary) attrs() []any {
	return []any{
		"source", s.Source,
		"slot_start", s.Start.UTC().Format(time.RFC3339), "slot_end", s.End.UTC().Format(time.RFC3339),
		"seen", s.Seen, "in_slot", s.InSlot, "forwarded", s.Forwarded, "dead_lettered", s.DeadLettered,
		"partial", s.Partial, "listed", s.Listed, "skipped", s.Skipped, "failed", s.Failed, "pages", s.Pages,
		"done", s.Done.UTC().Format(time.RFC3339),
	}
}

// Call is one call a run handles, as Range.List receives it.
type Call struct {
	SdkAppID  int64
	SessionID string
	// RecordID is the id of the call's record: the one its push has.
	RecordID   string
	Start, End time.Time
}

// Progress is the state of a backfill, reported after every call.
type Progress struct {
	Summary
	// At is how far the backfill has gone: every call that ended before At
	// is delivered or has failed.
	At time.Time
}

// Reconcile reconciles the slot SlotFor gives for the scheduled time,
// for every application of SdkAppIDs, with records of source
// record.SourceReconcile. It returns an error when a call failed, could
// not be attempted before ctx was done, or a listing failed; the slot is
// then to be run again.
func (r *Reconciler) Reconcile(ctx context.Context, scheduled time.Time) (Summary, error) {
	slot := SlotFor(scheduled, cmp.Or(r.Slot, 10*time.Minute), r.Delay)
	ru := r.newRun(record.SourceReconcile, slot, nil)
	var errs []error
	switch err := checkSlot(slot, r.now()); {
	case err != nil:
		errs = append(errs, err)
	case len(r.SdkAppIDs) == 0:
		errs = append(errs, errors.New("no SdkAppIds to reconcile"))
	}
	if len(errs) == 0 {
		for _, app := range r.SdkAppIDs {
			if err := ru.window(ctx, app, slot); err != nil {
				errs = append(errs, err)
			}
			if ctx.Err() != nil {
				break
			}
		}
	}
	_, err := ru.finish(errs)
	ru.mu.Lock()
	// With several applications the calls delivered make no prefix of the
	// slot: it is done whole or not at all.
	ru.sum.Done = slot.End
	if err != nil {
		ru.sum.Done = slot.Start
	}
	ru.mu.Unlock()
	ru.log(ctx, "reconcile", err, "sdk_app_ids", r.SdkAppIDs)
	return ru.summary(), err
}

// Range is what Backfill covers.
type Range struct {
	SdkAppID int64
	// From and To bound the call end times, [From, To). To is cut to now.
	From, To time.Time
	// Window is the span of end times one listing covers, at most
	// MaxWindow; zero means MaxWindow. A smaller window gives finer resume
	// points, and lists the Lookback before each window once more.
	Window time.Duration
	// DryRun lists the calls, validated as pushes, without
	// DescribeSessionDetail or the sink; List receives each.
	DryRun bool
	List   func(Call)
	// Progress, when set, is called after every call and every window,
	// from one goroutine at a time.
	Progress func(Progress)
	// MaxFailures stops the backfill when that many calls failed; zero
	// means DefaultMaxFailures, negative no limit.
	MaxFailures int
}

// Backfill delivers the calls of an application that ended in a range,
// with records of source record.SourceBackfill, window by window in order
// of time. It goes on past a failed call, and stops at a failed listing,
// when ctx is done or after MaxFailures failed calls. Summary.Done tells
// where to resume in every case.
func (r *Reconciler) Backfill(ctx context.Context, rg Range) (Summary, error) {
	now := r.now()
	span := Slot{Start: rg.From.Truncate(time.Second), End: rg.To.Truncate(time.Second)}
	if span.End.After(now) {
		span.End = now.Truncate(time.Second)
	}
	size := cmp.Or(rg.Window, MaxWindow)
	ru := r.newRun(record.SourceBackfill, span, &rg)
	var errs []error
	switch err := checkSlot(span, now); {
	case rg.SdkAppID <= 0:
		errs = append(errs, errors.New("SdkAppId is required"))
	case size < time.Second || size > MaxWindow:
		errs = append(errs, fmt.Errorf("window %s is not from 1s to %s", size, MaxWindow))
	case err != nil:
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		for _, w := range windows(span.Start, span.End, size) {
			if err := ru.window(ctx, rg.SdkAppID, w); err != nil {
				errs = append(errs, err)
				break
			}
		}
	}
	_, err := ru.finish(errs)
	ru.log(ctx, "backfill", err, "sdk_app_id", rg.SdkAppID, "dry_run", rg.DryRun)
	return ru.summary(), err
}

// run is the state of one Reconcile or Backfill.
type run struct {
	r      *Reconciler
	rg     *Range // nil for Reconcile
	log0   *slog.Logger
	slot   Slot
	report sync.Mutex // serialises Progress calls

	mu       sync.Mutex
	sum      Summary
	frozen   bool // a call was not delivered: Done stays where it is
	firstErr error
	skipped  int // calls not attempted
	stopped  bool
}

func (r *Reconciler) newRun(source string, slot Slot, rg *Range) *run {
	log := r.Logger
	if log == nil {
		log = slog.Default()
	}
	return &run{r: r, rg: rg, log0: log, slot: slot, sum: Summary{Source: source, Start: slot.Start, End: slot.End, Done: slot.Start}}
}

// listed is a call of the window being worked on.
type listed struct {
	info ccc.TelCdrInfo
	end  int64
}

// window lists the calls of app that ended in w and delivers them. Its
// error is one that ends the run: a failed listing, ctx done, too many
// failures. Failed calls are counted, not returned.
func (ru *run) window(ctx context.Context, app int64, w Slot) error {
	calls, err := ru.list(ctx, app, w)
	if err != nil {
		ru.mu.Lock()
		ru.frozen = true
		ru.mu.Unlock()
		return fmt.Errorf("list the calls of SdkAppId %d that ended in %s: %w", app, w, err)
	}
	ru.deliverAll(ctx, app, calls, w)
	ru.mu.Lock()
	defer ru.mu.Unlock()
	if ru.stopped {
		return fmt.Errorf("stopped after %d failed calls", ru.sum.Failed)
	}
	if ru.skipped > 0 {
		return fmt.Errorf("%d calls not attempted: %w", ru.skipped, context.Cause(ctx))
	}
	return nil
}

// list returns the calls of app that ended in w, each once, by end time.
func (ru *run) list(ctx context.Context, app int64, w Slot) ([]listed, error) {
	lookback := cmp.Or(ru.r.Lookback, DefaultLookback)
	start := w.Start.Add(-lookback)
	if o := Oldest(ru.r.now()); start.Before(o) {
		// Calls that began before the API's horizon are out of reach.
		start = o
	}
	q := ccc.TelCdrQuery{SdkAppID: app, Start: start.Unix(), End: w.End.Unix()}
	var (
		calls []listed
		n     int
		seen  = make(map[string]bool)
	)
	err := ru.r.CDR.ListTelCdr(ctx, q, func(c ccc.TelCdrInfo) error {
		n++
		if seen[c.SessionId] {
			return nil // the pages shifted under a call that started meanwhile
		}
		seen[c.SessionId] = true
		if end := endOf(c); w.Contains(end) {
			calls = append(calls, listed{info: c, end: end})
		}
		return nil
	})
	ru.mu.Lock()
	ru.sum.Seen += len(seen)
	// ListTelCdr stops at the first short page, or when the pages hold
	// TotalCount records.
	ru.sum.Pages += max(1, (n+99)/100)
	if err == nil {
		ru.sum.InSlot += len(calls)
	}
	ru.mu.Unlock()
	if err != nil {
		return nil, err
	}
	slices.SortFunc(calls, func(a, b listed) int {
		return cmp.Or(cmp.Compare(a.end, b.end), strings.Compare(a.info.SessionId, b.info.SessionId))
	})
	return calls, nil
}

// deliverAll delivers calls, a few at a time, and keeps Done: it advances
// over the calls delivered in order of end time and stops for good at the
// first one that is not.
func (ru *run) deliverAll(ctx context.Context, app int64, calls []listed, w Slot) {
	o := &order{calls: calls, slot: w, ok: make([]bool, len(calls)), finished: make([]bool, len(calls))}
	workers := max(1, cmp.Or(ru.r.Workers, DefaultWorkers))
	if ru.rg != nil && ru.rg.DryRun {
		workers = 1 // a dry run waits for nothing, and lists in order
	}
	idx := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range idx {
				if ctx.Err() != nil {
					// Out of time: the call is not attempted, which is
					// not its failure.
					ru.mu.Lock()
					ru.skipped++
					ru.mu.Unlock()
					continue
				}
				ru.done(o, i, ru.deliver(ctx, app, calls[i].info))
			}
		})
	}
	fed := ru.feed(ctx, idx, len(calls))
	close(idx)
	wg.Wait()

	ru.mu.Lock()
	if len(calls)-fed > 0 && !ru.stopped {
		ru.skipped += len(calls) - fed
	}
	if o.next < len(calls) {
		ru.frozen = true
	}
	if !ru.frozen {
		ru.sum.Done = w.End
	}
	p := Progress{Summary: ru.sum, At: o.at(o.handled)}
	ru.mu.Unlock()
	ru.progress(p)
}

// order follows which of a window's calls, sorted by end time, are
// delivered and which finished either way.
type order struct {
	calls        []listed
	slot         Slot
	ok, finished []bool
	// next is the first call not delivered, handled the first not finished.
	next, handled int
}

// at is the end time of calls[i], or the window's end past the last.
func (o *order) at(i int) time.Time { return endAt(o.calls, i, o.slot) }

// done records call i's outcome, moves Done forward over the calls
// delivered in order, stops the run past the failure limit and reports
// progress.
func (ru *run) done(o *order, i int, delivered bool) {
	ru.mu.Lock()
	o.ok[i], o.finished[i] = delivered, true
	for o.next < len(o.calls) && o.ok[o.next] {
		o.next++
	}
	for o.handled < len(o.calls) && o.finished[o.handled] {
		o.handled++
	}
	if !ru.frozen {
		ru.sum.Done = o.at(o.next)
	}
	if lim := ru.maxFailures(); lim > 0 && ru.sum.Failed >= lim {
		ru.stopped = true
	}
	p := Progress{Summary: ru.sum, At: o.at(o.handled)}
	ru.mu.Unlock()
	ru.progress(p)
}

// feed hands the workers the indexes of n calls until the run stops or ctx
// ends, and returns how many it handed out.
func (ru *run) feed(ctx context.Context, idx chan<- int, n int) int {
	for fed := 0; fed < n; fed++ {
		ru.mu.Lock()
		stop := ru.stopped
		ru.mu.Unlock()
		if stop {
			return fed
		}
		select {
		case idx <- fed:
		case <-ctx.Done():
			return fed
		}
	}
	return n
}

// endAt is the end time of calls[i], or the window's end past the last.
func endAt(calls []listed, i int, w Slot) time.Time {
	if i < len(calls) {
		return time.Unix(calls[i].end, 0).UTC()
	}
	return w.End
}

// deliver enriches and delivers one call, counts the outcome and reports
// whether the record is durable (or, in a dry run, listed).
func (ru *run) deliver(ctx context.Context, app int64, c ccc.TelCdrInfo) bool {
	r := ru.r
	p, err := ParseCall(app, c, r.now())
	if err != nil {
		ru.fail(ctx, app, c.SessionId, err)
		return false
	}
	if ru.rg != nil && ru.rg.DryRun {
		ru.mu.Lock()
		ru.sum.Listed++
		ru.mu.Unlock()
		if ru.rg.List != nil {
			ru.report.Lock()
			ru.rg.List(Call{
				SdkAppID: app, SessionID: p.SessionID, RecordID: record.ID(app, p.SessionID, push.KindCDR, ""),
				Start: time.Unix(p.CDR.StartTimestamp, 0).UTC(), End: time.Unix(endOf(c), 0).UTC(),
			})
			ru.report.Unlock()
		}
		return true
	}
	if ru.delivered(ctx, p) {
		return true
	}
	rec, out, err := r.Enricher.Process(ctx, enrich.Request{
		Push: p, Source: ru.sum.Source, CDROnly: r.CDROnly, CDRList: c.Raw,
	})
	if err != nil {
		ru.fail(ctx, app, p.SessionID, err)
		return false
	}
	ru.mu.Lock()
	if out.DeadLettered {
		ru.sum.DeadLettered++
	} else {
		ru.sum.Forwarded++
	}
	if rec.Completeness == record.Partial {
		ru.sum.Partial++
	}
	ru.mu.Unlock()
	attrs := []any{"sdk_app_id", app, "session_id", p.SessionID, "record_id", rec.ID, "completeness", rec.Completeness, "sink", out.Sink}
	if out.DeadLettered {
		ru.log0.WarnContext(ctx, ru.sum.Source+": record dead-lettered", append(attrs, "dead_letter_cause", out.Cause.Error())...)
	} else {
		ru.log0.DebugContext(ctx, ru.sum.Source+": record delivered", attrs...)
	}
	return true
}

// delivered asks the ledger whether p's record is delivered, counting it
// skipped if so. A ledger that cannot answer is logged and the call
// delivered again: a duplicate costs less than a gap.
func (ru *run) delivered(ctx context.Context, p *push.Push) bool {
	if ru.r.Ledger == nil {
		return false
	}
	id := record.IDOf(p)
	ok, err := ru.r.Ledger.Delivered(ctx, id, time.Unix(p.CDR.StartTimestamp, 0))
	if err != nil {
		ru.log0.WarnContext(ctx, ru.sum.Source+": ledger unavailable; delivering again", "session_id", p.SessionID, "record_id", id, "error", err.Error())
		return false
	}
	if ok {
		ru.mu.Lock()
		ru.sum.Skipped++
		ru.mu.Unlock()
	}
	return ok
}

func (ru *run) fail(ctx context.Context, app int64, sessionID string, err error) {
	ru.mu.Lock()
	ru.sum.Failed++
	if ru.firstErr == nil {
		ru.firstErr = err
	}
	ru.mu.Unlock()
	ru.log0.WarnContext(ctx, ru.sum.Source+": call failed", "sdk_app_id", app, "session_id", sessionID, "error", err.Error())
}

func (ru *run) maxFailures() int {
	if ru.rg == nil {
		return 0 // a slot goes through all its calls
	}
	if ru.rg.MaxFailures == 0 {
		return DefaultMaxFailures
	}
	return ru.rg.MaxFailures
}

func (ru *run) progress(p Progress) {
	if ru.rg == nil || ru.rg.Progress == nil {
		return
	}
	ru.report.Lock()
	defer ru.report.Unlock()
	ru.rg.Progress(p)
}

func (ru *run) summary() Summary {
	ru.mu.Lock()
	defer ru.mu.Unlock()
	return ru.sum
}

// finish adds the failed calls to errs and returns the summary and the
// run's error.
func (ru *run) finish(errs []error) (Summary, error) {
	ru.mu.Lock()
	sum, first := ru.sum, ru.firstErr
	ru.mu.Unlock()
	if sum.Failed > 0 {
		errs = append(errs, fmt.Errorf("%d of %d calls failed, the first: %w", sum.Failed, sum.InSlot, first))
	}
	if len(errs) == 0 {
		return sum, nil
	}
	return sum, fmt.Errorf("%s %s: %w", ru.sum.Source, ru.slot, errors.Join(errs...))
}

// log writes the run's summary as one line.
func (ru *run) log(ctx context.Context, msg string, err error, extra ...any) {
	sum := ru.summary()
	mode := "detail"
	if ru.r.CDROnly {
		mode = "cdr-only"
	}
	attrs := append(sum.attrs(), "mode", mode)
	attrs = append(attrs, extra...)
	if err != nil {
		ru.log0.ErrorContext(ctx, msg, append(attrs, "error", err.Error())...)
		return
	}
	ru.log0.InfoContext(ctx, msg, attrs...)
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}
