package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/config"
	"github.com/ccc-enricher/ccc-enricher/internal/reconcile"
)

// reconcileJob reconciles the slot that the scheduled time designates.
func (a *app) reconcileJob(ctx context.Context, scheduled time.Time) error {
	sum, err := a.reconciler(a.log).Reconcile(ctx, scheduled)
	recordRun(ctx, sum)
	return err
}

// reconciler is the reconciliation the configuration describes, sharing
// the app's CCC client, and so its rate limit, with the pushes.
func (a *app) reconciler(log *slog.Logger) *reconcile.Reconciler {
	return &reconcile.Reconciler{
		CDR:       a.ccc,
		Enricher:  a.enricher,
		SdkAppIDs: a.cfg.Push.SdkAppIDs,
		Slot:      a.cfg.Reconcile.Slot,
		Delay:     a.cfg.Reconcile.Delay,
		Lookback:  a.cfg.Reconcile.Lookback,
		CDROnly:   a.cfg.Reconcile.Mode == config.ReconcileCDROnly,
		Ledger:    a.ledger(),
		Logger:    log,
	}
}

// command is a subcommand's surroundings, apart for tests. getenv goes to
// config.Load and nowhere else.
type command struct {
	getenv         func(string) string
	stdout, stderr io.Writer
}

const reconcileUsage = `usage: bootstrap reconcile [-at time]

Reconciles one slot now, as the scheduled job does: every call of every
CCC_SDK_APP_IDS application that ended in the slot is sent again, with the
record id its push has. The slot is RECONCILE_SLOT long and ends
RECONCILE_DELAY before the scheduled time (docs/RECONCILE.md). The
configuration is the function's, from the environment; the summary is
logged as one JSON line on stderr.

`

const backfillUsage = `usage: bootstrap backfill -sdk-app-id N -from time [-to time] [-dry-run]
                          [-mode detail|cdr-only] [-window d] [-max-failures n]

Delivers every call of one application that ended in [-from, -to), in
order of time, with the record id its push has (consumers deduplicate on
it), through the function's configuration (sink, dead-letter sink,
ON_DETAIL_FAILURE, MASK_PHONE_NUMBERS). CCC lists calls of the last 180
days. Progress goes to stderr, a bar on a terminal. At the end, and after
a failure or Ctrl-C, it prints the time up to which every call is
delivered, and the command that resumes from there.

With -dry-run nothing is sent and DescribeSessionDetail is not called:
stdout lists the calls, one per line: end time, SdkAppId, SessionId,
record id.

Times are RFC 3339 (2026-01-02T15:04:05Z) or Unix seconds.

`

func (c *command) run(ctx context.Context, args []string) error {
	switch args[0] {
	case "reconcile":
		return c.reconcile(ctx, args[1:])
	case "backfill":
		return c.backfill(ctx, args[1:])
	}
	return fmt.Errorf("unknown command %q", args[0])
}

func (c *command) reconcile(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("reconcile", flag.ContinueOnError)
	var at timeFlag
	fs.Var(&at, "at", "the scheduled `time` whose slot to reconcile (default now)")
	if done, err := c.parse(fs, reconcileUsage, args); done || err != nil {
		return err
	}
	cfg, err := config.LoadFor(c.getenv, config.ReconcileCommand)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, log, err := c.app(ctx, cfg, c.stderr)
	if err != nil {
		return err
	}
	defer a.close()
	scheduled := time.Now()
	if at.set {
		scheduled = at.t
	}
	ctx, flush := a.measure(ctx, "reconcile")
	defer flush()
	sum, err := a.reconciler(log).Reconcile(ctx, scheduled)
	recordRun(ctx, sum)
	return err
}

// backfillFlags are the flags of the backfill subcommand.
type backfillFlags struct {
	fs          *flag.FlagSet
	from, to    timeFlag
	appID       *int64
	dryRun      *bool
	mode        *string
	window      *time.Duration
	maxFailures *int
}

func newBackfillFlags() *backfillFlags {
	fs := flag.NewFlagSet("backfill", flag.ContinueOnError)
	b := &backfillFlags{fs: fs}
	b.appID = fs.Int64("sdk-app-id", 0, "the CCC application `id` (default: the only one in CCC_SDK_APP_IDS)")
	fs.Var(&b.from, "from", "deliver the calls that ended at or after this `time` (required)")
	fs.Var(&b.to, "to", "and before this `time` (default now)")
	b.dryRun = fs.Bool("dry-run", false, "list the calls, send nothing")
	b.mode = fs.String("mode", "", "`detail` (call DescribeSessionDetail) or cdr-only (default RECONCILE_MODE)")
	b.window = fs.Duration("window", reconcile.MaxWindow, "list calls one `span` of end times at a time, 1m to 24h; smaller resumes finer")
	b.maxFailures = fs.Int("max-failures", reconcile.DefaultMaxFailures, "stop after `n` failed calls; 0 means never")
	return b
}

// check checks the flags among themselves, before the configuration is
// read; -to defaults to now.
func (b *backfillFlags) check(now time.Time) error {
	if !b.to.set {
		b.to.t = now
	}
	switch {
	case !b.from.set:
		return errors.New("-from is required: the end time of the first calls to deliver")
	case !b.to.t.After(b.from.t):
		return fmt.Errorf("-to %s is not after -from %s", stamp(b.to.t), stamp(b.from.t))
	case b.from.t.Before(reconcile.Oldest(now)):
		return fmt.Errorf("-from %s is more than 180 days ago: CCC lists the calls of the last 180 days (from %s)", stamp(b.from.t), stamp(reconcile.Oldest(now).Add(time.Minute)))
	case *b.mode != "" && *b.mode != config.ReconcileDetail && *b.mode != config.ReconcileCDROnly:
		return fmt.Errorf("-mode %q: want detail or cdr-only", *b.mode)
	case *b.window < time.Minute || *b.window > reconcile.MaxWindow:
		return fmt.Errorf("-window %s: want 1m to 24h", *b.window)
	case *b.maxFailures < 0:
		return fmt.Errorf("-max-failures %d: want 0 or more", *b.maxFailures)
	}
	return nil
}

// pickApp checks -sdk-app-id against the configured applications, and
// defaults it to the only one.
func (b *backfillFlags) pickApp(ids []int64) error {
	switch {
	case *b.appID == 0 && len(ids) == 1:
		*b.appID = ids[0]
	case *b.appID == 0 && len(ids) == 0:
		return errors.New("-sdk-app-id is required")
	case len(ids) == 0:
		// No CCC_SDK_APP_IDS: the flag alone names the application.
	case *b.appID == 0:
		return fmt.Errorf("-sdk-app-id is required: one of CCC_SDK_APP_IDS (%s)", joinIDs(ids))
	case !slices.Contains(ids, *b.appID):
		return fmt.Errorf("-sdk-app-id %d is not in CCC_SDK_APP_IDS (%s)", *b.appID, joinIDs(ids))
	}
	return nil
}

// rangeOf is the range the flags ask for; a dry run lists its calls on
// stdout.
func (b *backfillFlags) rangeOf(stdout io.Writer, progress func(reconcile.Progress)) reconcile.Range {
	rg := reconcile.Range{
		SdkAppID: *b.appID, From: b.from.t, To: b.to.t, Window: *b.window, DryRun: *b.dryRun,
		Progress: progress, MaxFailures: *b.maxFailures,
	}
	if *b.maxFailures == 0 {
		rg.MaxFailures = -1
	}
	if *b.dryRun {
		rg.List = func(call reconcile.Call) {
			fmt.Fprintf(stdout, "%s\t%d\t%s\t%s\n", stamp(call.End), call.SdkAppID, call.SessionID, call.RecordID)
		}
	}
	return rg
}

// resume is the command that carries on from where a backfill stopped,
// with the same flags.
func (b *backfillFlags) resume(sum reconcile.Summary) string {
	resume := []string{"bootstrap", "backfill", "-sdk-app-id", strconv.FormatInt(*b.appID, 10), "-from", stamp(sum.Done), "-to", stamp(sum.End)}
	b.fs.Visit(func(f *flag.Flag) {
		if !slices.Contains([]string{"sdk-app-id", "from", "to"}, f.Name) {
			resume = append(resume, "-"+f.Name+"="+f.Value.String())
		}
	})
	return strings.Join(resume, " ")
}

func (c *command) backfill(ctx context.Context, args []string) error {
	b := newBackfillFlags()
	if done, err := c.parse(b.fs, backfillUsage, args); done || err != nil {
		return err
	}
	if err := b.check(time.Now()); err != nil {
		return err
	}
	cfg, err := config.LoadFor(c.getenv, config.BackfillCommand)
	if err != nil {
		return err
	}
	if err := b.pickApp(cfg.Push.SdkAppIDs); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	ui := &progress{w: c.stderr, tty: isTerminal(c.stderr), window: *b.window, dryRun: *b.dryRun}
	a, log, err := c.app(ctx, cfg, ui)
	if err != nil {
		return err
	}
	defer a.close()

	r := a.reconciler(log)
	if *b.mode != "" {
		r.CDROnly = *b.mode == config.ReconcileCDROnly
	}
	mctx, flush := a.measure(ctx, "backfill")
	sum, err := r.Backfill(mctx, b.rangeOf(c.stdout, ui.update))
	recordRun(mctx, sum)
	ui.clear()
	flush()
	c.summarise(b, r.CDROnly, sum)
	if err == nil {
		fmt.Fprintf(c.stderr, "done up to %s: complete\n", stamp(sum.End))
		return nil
	}
	fmt.Fprintf(c.stderr, "done up to %s; resume with -from %s:\n  %s\n", stamp(sum.Done), stamp(sum.Done), b.resume(sum))
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: %w", err)
	}
	return err
}

// summarise prints what a backfill did.
func (c *command) summarise(b *backfillFlags, cdrOnly bool, sum reconcile.Summary) {
	m := "detail"
	if cdrOnly {
		m = "cdr-only"
	}
	fmt.Fprintf(c.stderr, "backfill of SdkAppId %d, calls that ended from %s to %s (%s):\n", *b.appID, stamp(sum.Start), stamp(sum.End), m)
	if *b.dryRun {
		fmt.Fprintf(c.stderr, "  dry run: %d sessions seen on %s, %d in range, would send %d, %d invalid\n",
			sum.Seen, pages(sum.Pages), sum.InSlot, sum.Listed, sum.Failed)
	} else {
		fmt.Fprintf(c.stderr, "  %d sessions seen on %s, %d in range: %d forwarded, %d dead-lettered, %d partial, %d failed\n",
			sum.Seen, pages(sum.Pages), sum.InSlot, sum.Forwarded, sum.DeadLettered, sum.Partial, sum.Failed)
		if sum.Skipped > 0 {
			fmt.Fprintf(c.stderr, "  %d skipped: already in the records archive (RECONCILE_SKIP_DELIVERED)\n", sum.Skipped)
		}
	}
}

// parse parses a subcommand's flags. done means -h was asked for and the
// usage printed; errors name the flag.
func (c *command) parse(fs *flag.FlagSet, usage string, args []string) (done bool, err error) {
	fs.SetOutput(io.Discard)
	err = fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(c.stdout)
		fmt.Fprint(c.stdout, usage)
		fs.PrintDefaults()
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("%s: %w (see bootstrap %s -h)", fs.Name(), err, fs.Name())
	}
	if fs.NArg() > 0 {
		return false, fmt.Errorf("%s: unexpected argument %q (see bootstrap %s -h)", fs.Name(), fs.Arg(0), fs.Name())
	}
	return false, nil
}

// app wires the function as the configuration says, logging to logw. A
// subcommand runs locally, whatever platform the environment describes.
func (c *command) app(ctx context.Context, cfg *config.Config, logw io.Writer) (*app, *slog.Logger, error) {
	log := newLogger(logw, cfg.LogLevel)
	cfg.Runtime = config.Runtime{Platform: config.PlatformLocal}
	a, err := newApp(ctx, cfg, log)
	if err != nil {
		return nil, nil, err
	}
	a.observe(logw)
	return a, log, nil
}

// timeFlag is a time given as RFC 3339 or Unix seconds.
type timeFlag struct {
	t   time.Time
	set bool
}

func (f *timeFlag) String() string {
	if !f.set {
		return ""
	}
	return stamp(f.t)
}

func (f *timeFlag) Set(s string) error {
	t, err := parseTime(s)
	if err != nil {
		return err
	}
	f.t, f.set = t, true
	return nil
}

// maxUnix is the last second of year 9999: larger numbers are typos or
// milliseconds.
const maxUnix = 253402300799

// parseTime reads an RFC 3339 time or a number of Unix seconds.
func parseTime(s string) (time.Time, error) {
	if s != "" && strings.Trim(s, "0123456789") == "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n > maxUnix {
			return time.Time{}, errors.New("too large for Unix seconds")
		}
		return time.Unix(n, 0).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, errors.New("want an RFC 3339 time such as 2026-01-02T15:04:05Z, or Unix seconds")
	}
	return t.UTC(), nil
}

func pages(n int) string {
	if n == 1 {
		return "1 page"
	}
	return strconv.Itoa(n) + " pages"
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func joinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ", ")
}
