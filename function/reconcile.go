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
	"sync"
	"syscall"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/config"
	"github.com/ccc-enricher/ccc-enricher/internal/reconcile"
)

// reconcileJob reconciles the slot that the scheduled time designates.
func (a *app) reconcileJob(ctx context.Context, scheduled time.Time) error {
	_, err := a.reconciler(a.log).Reconcile(ctx, scheduled)
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
		Logger:    log,
	}
}

// runCommand runs the reconcile and backfill subcommands.
func runCommand(ctx context.Context, args []string) error {
	c := &command{getenv: os.Getenv, stdout: os.Stdout, stderr: os.Stderr}
	return c.run(ctx, args)
}

// command is a subcommand's surroundings, apart for tests.
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
	cfg, err := config.Load(c.getenv)
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
	_, err = a.reconciler(log).Reconcile(ctx, scheduled)
	return err
}

func (c *command) backfill(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("backfill", flag.ContinueOnError)
	var from, to timeFlag
	appID := fs.Int64("sdk-app-id", 0, "the CCC application `id` (default: the only one in CCC_SDK_APP_IDS)")
	fs.Var(&from, "from", "deliver the calls that ended at or after this `time` (required)")
	fs.Var(&to, "to", "and before this `time` (default now)")
	dryRun := fs.Bool("dry-run", false, "list the calls, send nothing")
	mode := fs.String("mode", "", "`detail` (call DescribeSessionDetail) or cdr-only (default RECONCILE_MODE)")
	window := fs.Duration("window", reconcile.MaxWindow, "list calls one `span` of end times at a time, 1m to 24h; smaller resumes finer")
	maxFailures := fs.Int("max-failures", reconcile.DefaultMaxFailures, "stop after `n` failed calls; 0 means never")
	if done, err := c.parse(fs, backfillUsage, args); done || err != nil {
		return err
	}
	now := time.Now()
	if !to.set {
		to.t = now
	}
	switch {
	case !from.set:
		return errors.New("-from is required: the end time of the first calls to deliver")
	case !to.t.After(from.t):
		return fmt.Errorf("-to %s is not after -from %s", stamp(to.t), stamp(from.t))
	case from.t.Before(reconcile.Oldest(now)):
		return fmt.Errorf("-from %s is more than 180 days ago: CCC lists the calls of the last 180 days (from %s)", stamp(from.t), stamp(reconcile.Oldest(now).Add(time.Minute)))
	case *mode != "" && *mode != config.ReconcileDetail && *mode != config.ReconcileCDROnly:
		return fmt.Errorf("-mode %q: want detail or cdr-only", *mode)
	case *window < time.Minute || *window > reconcile.MaxWindow:
		return fmt.Errorf("-window %s: want 1m to 24h", *window)
	case *maxFailures < 0:
		return fmt.Errorf("-max-failures %d: want 0 or more", *maxFailures)
	}

	cfg, err := config.Load(c.getenv)
	if err != nil {
		return err
	}
	switch ids := cfg.Push.SdkAppIDs; {
	case *appID == 0 && len(ids) == 1:
		*appID = ids[0]
	case *appID == 0:
		return fmt.Errorf("-sdk-app-id is required: one of CCC_SDK_APP_IDS (%s)", joinIDs(ids))
	case !slices.Contains(ids, *appID):
		return fmt.Errorf("-sdk-app-id %d is not in CCC_SDK_APP_IDS (%s)", *appID, joinIDs(ids))
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	ui := &progress{w: c.stderr, tty: isTerminal(c.stderr), window: *window}
	a, log, err := c.app(ctx, cfg, ui)
	if err != nil {
		return err
	}
	defer a.close()

	r := a.reconciler(log)
	if *mode != "" {
		r.CDROnly = *mode == config.ReconcileCDROnly
	}
	rg := reconcile.Range{
		SdkAppID: *appID, From: from.t, To: to.t, Window: *window, DryRun: *dryRun,
		Progress: ui.update, MaxFailures: *maxFailures,
	}
	if *maxFailures == 0 {
		rg.MaxFailures = -1
	}
	if *dryRun {
		rg.List = func(call reconcile.Call) {
			fmt.Fprintf(c.stdout, "%s\t%d\t%s\t%s\n", stamp(call.End), call.SdkAppID, call.SessionID, call.RecordID)
		}
	}
	sum, err := r.Backfill(ctx, rg)
	ui.clear()

	m := "detail"
	if r.CDROnly {
		m = "cdr-only"
	}
	fmt.Fprintf(c.stderr, "backfill of SdkAppId %d, calls that ended from %s to %s (%s):\n", *appID, stamp(sum.Start), stamp(sum.End), m)
	if *dryRun {
		fmt.Fprintf(c.stderr, "  dry run: %d sessions seen on %s, %d in range, %d would be sent, %d invalid\n",
			sum.Seen, pages(sum.Pages), sum.InSlot, sum.Listed, sum.Failed)
	} else {
		fmt.Fprintf(c.stderr, "  %d sessions seen on %s, %d in range: %d forwarded, %d dead-lettered, %d partial, %d failed\n",
			sum.Seen, pages(sum.Pages), sum.InSlot, sum.Forwarded, sum.DeadLettered, sum.Partial, sum.Failed)
	}
	if err == nil {
		fmt.Fprintf(c.stderr, "done up to %s: complete\n", stamp(sum.End))
		return nil
	}
	resume := []string{"bootstrap", "backfill", "-sdk-app-id", strconv.FormatInt(*appID, 10), "-from", stamp(sum.Done), "-to", stamp(sum.End)}
	fs.Visit(func(f *flag.Flag) {
		if !slices.Contains([]string{"sdk-app-id", "from", "to"}, f.Name) {
			resume = append(resume, "-"+f.Name+"="+f.Value.String())
		}
	})
	fmt.Fprintf(c.stderr, "done up to %s; resume with -from %s:\n  %s\n", stamp(sum.Done), stamp(sum.Done), strings.Join(resume, " "))
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: %w", err)
	}
	return err
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

// app wires the function as the configuration says, logging to logw.
func (c *command) app(ctx context.Context, cfg *config.Config, logw io.Writer) (*app, *slog.Logger, error) {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	log := slog.New(slog.NewJSONHandler(logw, &slog.HandlerOptions{Level: level}))
	a, err := newApp(ctx, cfg, c.getenv, log, platformLocal)
	if err != nil {
		return nil, nil, err
	}
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

// isTerminal reports whether w is a terminal, where a bar redrawn in place
// reads well; elsewhere (a file, CI, a pipe) whole lines do.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progress shows a backfill's progress on w: a bar redrawn in place on a
// terminal, else a line per window done and at most one every
// plainEvery. It is also the log's writer, so that a log line does not
// land in the middle of the bar.
type progress struct {
	w              io.Writer
	tty            bool
	window         time.Duration
	mu             sync.Mutex
	bar            string    // on screen, tty only
	drawn, printed time.Time // when the bar was drawn, a plain line printed
	lastAt         time.Time
}

const (
	barWidth   = 30
	redrawGap  = 100 * time.Millisecond
	plainEvery = 10 * time.Second
)

func (p *progress) update(pr reconcile.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	frac := 1.0
	if total := pr.End.Sub(pr.Start); total > 0 {
		frac = min(max(float64(pr.At.Sub(pr.Start))/float64(total), 0), 1)
	}
	counts := fmt.Sprintf("up to %s  seen %d  sent %d  dead-lettered %d  failed %d",
		stamp(pr.At), pr.Seen, pr.Forwarded+pr.DeadLettered+pr.Listed, pr.DeadLettered, pr.Failed)
	now := time.Now()
	if p.tty {
		if now.Sub(p.drawn) < redrawGap && frac < 1 {
			return
		}
		n := int(frac * barWidth)
		p.bar = fmt.Sprintf("[%s%s] %3.0f%%  %s", strings.Repeat("#", n), strings.Repeat("-", barWidth-n), frac*100, counts)
		p.drawn = now
		fmt.Fprint(p.w, "\r\033[K"+p.bar)
		return
	}
	windowDone := pr.At.After(p.lastAt) && pr.At.After(pr.Start) && (pr.At.Equal(pr.End) || pr.At.Sub(pr.Start)%p.window == 0)
	if windowDone || now.Sub(p.printed) >= plainEvery {
		fmt.Fprintf(p.w, "backfill: %3.0f%% %s\n", frac*100, counts)
		p.printed = now
		if windowDone {
			p.lastAt = pr.At
		}
	}
}

// Write writes a log line above the bar.
func (p *progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar == "" {
		return p.w.Write(b)
	}
	fmt.Fprint(p.w, "\r\033[K")
	n, err := p.w.Write(b)
	fmt.Fprint(p.w, p.bar)
	return n, err
}

// clear removes the bar, for the summary to follow.
func (p *progress) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != "" {
		fmt.Fprint(p.w, "\r\033[K")
		p.bar = ""
	}
}
