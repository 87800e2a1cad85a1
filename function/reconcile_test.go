package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/config"
	"github.com/ccc-enricher/ccc-enricher/internal/push"
	"github.com/ccc-enricher/ccc-enricher/internal/reconcile"
	"github.com/ccc-enricher/ccc-enricher/internal/record"
	"github.com/ccc-enricher/ccc-enricher/internal/tcemu"
	"github.com/ccc-enricher/ccc-enricher/internal/testenv"
)

const testApp = 1400000000

// cmdEnv runs the subcommands in-process against a CCC API emulator and a
// webhook receiver on loopback, configured through the environment as in
// production.
type cmdEnv struct {
	t      *testing.T
	emu    *tcemu.Server
	sample tcemu.Sample
	hour   time.Time // the samples ended in [hour, hour+1h)
	env    map[string]string
	recv   *testenv.Receiver
}

func newCmdEnv(t *testing.T) *cmdEnv {
	t.Helper()
	hour := time.Now().Add(-2 * time.Hour).Truncate(time.Hour)
	api := testenv.NewCCC(t, hour.Add(30*time.Minute), tcemu.Options{})
	e := &cmdEnv{t: t, emu: api.Emu, sample: api.Sample, hour: hour, recv: testenv.NewReceiver(t)}
	e.env = map[string]string{
		"PUSH_AUTH":               "none",
		"CCC_SDK_APP_IDS":         strconv.Itoa(testApp),
		"CCC_ENDPOINT":            api.URL,
		"TENCENTCLOUD_SECRET_ID":  testenv.SecretID,
		"TENCENTCLOUD_SECRET_KEY": testenv.SecretKey,
		"SINK":                    "webhook",
		"WEBHOOK_URL":             e.recv.URL,
		"WEBHOOK_SECRET":          testenv.WebhookSecret,
		"LOG_LEVEL":               "warn",
	}
	return e
}

// received is what a consumer deduplicating on the record id holds: the
// deliveries of each id, in the order they came.
func (e *cmdEnv) received() map[string][]record.Record {
	e.t.Helper()
	out := map[string][]record.Record{}
	for _, r := range e.recv.Records(e.t) {
		out[r.ID] = append(out[r.ID], r)
	}
	return out
}

func (e *cmdEnv) run(ctx context.Context, args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	c := &command{getenv: func(k string) string { return e.env[k] }, stdout: &out, stderr: &errOut}
	err = c.run(ctx, args)
	return out.String(), errOut.String(), err
}

func (e *cmdEnv) sessions() []string {
	return []string{e.sample.SessionID, e.sample.Others[0].SessionID, e.sample.Others[1].SessionID}
}

// checkReceived asserts that the deduplicating receiver holds one record
// per sample call, of the source.
func (e *cmdEnv) checkReceived(source string) {
	e.t.Helper()
	received := e.received()
	if len(received) != 3 {
		e.t.Errorf("received %d records, want 3", len(received))
	}
	for _, s := range e.sessions() {
		rs := received[record.ID(testApp, s, push.KindCDR, "")]
		if len(rs) == 0 {
			e.t.Errorf("session %s not received", s)
			continue
		}
		if r := rs[len(rs)-1]; r.Source != source || r.Completeness != record.Full {
			e.t.Errorf("session %s: source %s, completeness %s", s, r.Source, r.Completeness)
		}
	}
}

func TestBackfillCommand(t *testing.T) {
	e := newCmdEnv(t)
	from, to := stamp(e.hour), stamp(e.hour.Add(time.Hour))
	stdout, stderr, err := e.run(context.Background(), "backfill", "-sdk-app-id", strconv.Itoa(testApp), "-from", from, "-to", strconv.FormatInt(e.hour.Add(time.Hour).Unix(), 10))
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout: %q", stdout)
	}
	for _, want := range []string{
		"backfill of SdkAppId 1400000000, calls that ended from " + from + " to " + to + " (detail):",
		"3 sessions seen on 1 page, 3 in range: 3 forwarded, 0 dead-lettered, 0 partial, 0 failed",
		"done up to " + to + ": complete",
		"backfill: 100% up to " + to, // the plain progress line of the one window
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	e.checkReceived(record.SourceBackfill)
}

func TestBackfillDryRun(t *testing.T) {
	e := newCmdEnv(t)
	stdout, stderr, err := e.run(context.Background(), "backfill", "-dry-run", "-from", stamp(e.hour), "-to", stamp(e.hour.Add(time.Hour)))
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("stdout:\n%s", stdout)
	}
	listed := map[string]bool{}
	for _, l := range lines {
		f := strings.Split(l, "\t")
		if len(f) != 4 || f[1] != "1400000000" || f[3] != record.ID(testApp, f[2], push.KindCDR, "") {
			t.Errorf("line %q", l)
			continue
		}
		if _, err := time.Parse(time.RFC3339, f[0]); err != nil {
			t.Errorf("line %q: %v", l, err)
		}
		listed[f[2]] = true
	}
	for _, s := range e.sessions() {
		if !listed[s] {
			t.Errorf("%s not listed", s)
		}
	}
	if !strings.Contains(stderr, "dry run: 3 sessions seen on 1 page, 3 in range, would send 3, 0 invalid") {
		t.Errorf("stderr:\n%s", stderr)
	}
	if n := e.emu.Calls("DescribeSessionDetail"); n != 0 || len(e.received()) != 0 {
		t.Errorf("dry run made %d detail calls and sent %d records", n, len(e.received()))
	}
}

// An interrupted backfill prints where to resume; resumed from there it
// completes, and the receiver holds one record per call.
func TestBackfillInterrupted(t *testing.T) {
	e := newCmdEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var started atomic.Bool
	e.recv.Answer(func(http.ResponseWriter, *http.Request) int {
		if !started.Swap(true) {
			cancel()
			return 0
		}
		return -1 // until the interrupted backfill gives up on it
	})
	_, stderr, err := e.run(ctx, "backfill", "-from", stamp(e.hour), "-to", stamp(e.hour.Add(time.Hour)), "-mode", "detail")
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("err = %v\n%s", err, stderr)
	}
	m := regexp.MustCompile(`resume with -from (\S+):\n  (bootstrap backfill .*)\n`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no resume line:\n%s", stderr)
	}
	args := strings.Fields(m[2])[1:]
	if !strings.Contains(m[2], "-from "+m[1]+" -to "+stamp(e.hour.Add(time.Hour))) || !strings.Contains(m[2], "-mode=detail") {
		t.Errorf("resume command %q", m[2])
	}

	e.recv.Answer(nil)
	_, stderr, err = e.run(context.Background(), args...)
	if err != nil || !strings.Contains(stderr, "complete") {
		t.Fatalf("resumed: %v\n%s", err, stderr)
	}
	e.checkReceived(record.SourceBackfill)
}

// A failed call ends the backfill in error, with where to resume.
func TestBackfillFailure(t *testing.T) {
	e := newCmdEnv(t)
	e.recv.Answer(func(http.ResponseWriter, *http.Request) int { return http.StatusServiceUnavailable })
	e.env["WEBHOOK_TIMEOUT"] = "1s"
	_, stderr, err := e.run(context.Background(), "backfill", "-from", stamp(e.hour), "-max-failures", "1")
	// No call was delivered: everything from the first call's end on is
	// to be done again.
	first := int64(1 << 62)
	for _, sm := range append([]tcemu.Sample{e.sample}, e.sample.Others...) {
		var c struct{ EndedTimestamp int64 }
		json.Unmarshal(sm.CDRPush, &c)
		first = min(first, c.EndedTimestamp)
	}
	if err == nil || !strings.Contains(err.Error(), "stopped after") ||
		!strings.Contains(stderr, "resume with -from "+stamp(time.Unix(first, 0))) || !strings.Contains(stderr, "-max-failures=1") {
		t.Fatalf("err = %v\n%s", err, stderr)
	}
}

func TestCommandFlags(t *testing.T) {
	e := newCmdEnv(t)
	now := time.Now()
	from := stamp(e.hour)
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string // in the error
	}{
		{"no -from", []string{"backfill"}, nil, "-from is required"},
		{"bad -from", []string{"backfill", "-from", "yesterday"}, nil, `invalid value "yesterday" for flag -from: want an RFC 3339 time`},
		{"milliseconds", []string{"backfill", "-from", "1756892230000000"}, nil, "flag -from: too large"},
		{"bad -to", []string{"backfill", "-from", from, "-to", "2026-13-01T00:00:00Z"}, nil, "flag -to"},
		{"-to before -from", []string{"backfill", "-from", from, "-to", stamp(e.hour.Add(-time.Hour))}, nil, "-to " + stamp(e.hour.Add(-time.Hour)) + " is not after -from"},
		{"-from in the future", []string{"backfill", "-from", stamp(now.Add(time.Hour))}, nil, "is not after -from"},
		{"too old", []string{"backfill", "-from", stamp(now.Add(-181 * 24 * time.Hour))}, nil, "-from " + stamp(now.Add(-181*24*time.Hour)) + " is more than 180 days ago"},
		{"bad -mode", []string{"backfill", "-from", from, "-mode", "full"}, nil, `-mode "full": want detail or cdr-only`},
		{"bad -window", []string{"backfill", "-from", from, "-window", "25h"}, nil, "-window 25h0m0s: want 1m to 24h"},
		{"bad -max-failures", []string{"backfill", "-from", from, "-max-failures", "-1"}, nil, "-max-failures -1"},
		{"-sdk-app-id not allowed", []string{"backfill", "-from", from, "-sdk-app-id", "5"}, nil, "-sdk-app-id 5 is not in CCC_SDK_APP_IDS (1400000000)"},
		{"-sdk-app-id not a number", []string{"backfill", "-from", from, "-sdk-app-id", "x"}, nil, "flag -sdk-app-id"},
		{"-sdk-app-id ambiguous", []string{"backfill", "-from", from}, map[string]string{"CCC_SDK_APP_IDS": "1400000000,1400000001"}, "-sdk-app-id is required: one of CCC_SDK_APP_IDS (1400000000, 1400000001)"},
		{"unknown flag", []string{"backfill", "-frm", from}, nil, "backfill: flag provided but not defined: -frm (see bootstrap backfill -h)"},
		{"extra argument", []string{"backfill", "-from", from, "now"}, nil, `unexpected argument "now"`},
		{"bad configuration", []string{"backfill", "-from", from}, map[string]string{"PUSH_AUTH": "basic"}, "PUSH_BASIC_USERNAME is required"},
		{"no application at all", []string{"backfill", "-from", from}, map[string]string{"CCC_SDK_APP_IDS": ""}, "-sdk-app-id is required"},
		{"reconcile without applications", []string{"reconcile"}, map[string]string{"CCC_SDK_APP_IDS": "", "PUSH_AUTH": ""}, "CCC_SDK_APP_IDS is required"},
		{"reconcile -at", []string{"reconcile", "-at", "noon"}, nil, "flag -at"},
		{"reconcile extra", []string{"reconcile", "x"}, nil, `reconcile: unexpected argument "x"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			saved := map[string]string{}
			for k, v := range tc.env {
				saved[k] = e.env[k]
				e.env[k] = v
			}
			defer func() {
				for k, v := range saved {
					e.env[k] = v
				}
			}()
			_, _, err := e.run(context.Background(), tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if e.emu.Calls("DescribeTelCdr") != 0 || len(e.received()) != 0 {
		t.Errorf("a refused command called CCC or the sink")
	}

	for _, cmd := range []string{"backfill", "reconcile"} {
		stdout, _, err := e.run(context.Background(), cmd, "-h")
		if err != nil || !strings.HasPrefix(stdout, "usage: bootstrap "+cmd) {
			t.Errorf("%s -h: %v\n%s", cmd, err, stdout)
		}
	}
	if stdout, _, _ := e.run(context.Background(), "backfill", "-h"); !strings.Contains(stdout, "-sdk-app-id id") || !strings.Contains(stdout, "-dry-run") {
		t.Errorf("backfill -h:\n%s", stdout)
	}
}

// The reconcile command and the scheduled job reconcile the slot of their
// time, with the function's configuration.
func TestReconcileCommand(t *testing.T) {
	e := newCmdEnv(t)
	e.env["RECONCILE_SLOT"] = "1h"
	e.env["LOG_LEVEL"] = "info"
	at := e.hour.Add(time.Hour + 20*time.Minute)
	_, stderr, err := e.run(context.Background(), "reconcile", "-at", stamp(at))
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var summary map[string]any
	for _, l := range strings.Split(stderr, "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "reconcile" {
			summary = m
		}
	}
	if summary == nil || summary["slot_start"] != stamp(e.hour) || summary["slot_end"] != stamp(e.hour.Add(time.Hour)) || summary["forwarded"] != float64(3) {
		t.Errorf("summary %v\n%s", summary, stderr)
	}
	e.checkReceived(record.SourceReconcile)

	// The job the timers run, through the wiring the platforms use.
	cfg, err := config.Load(func(k string) string { return e.env[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(context.Background(), cfg, newTestLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	if err := a.jobs["reconcile"](context.Background(), at); err != nil {
		t.Fatal(err)
	}
	if err := a.jobs["reconcile"](context.Background(), at.Add(time.Hour)); err != nil {
		t.Fatal(err) // the next slot, empty
	}
	for id, rs := range e.received() {
		if len(rs) != 2 {
			t.Errorf("%s received %d times, want twice", id, len(rs))
		}
	}
}

// With CCC_ENDPOINT=emulator the embedded emulator's samples, which ended
// minutes ago, are there to list.
func TestBackfillEmbeddedEmulator(t *testing.T) {
	e := newCmdEnv(t)
	e.env["CCC_ENDPOINT"] = config.EmulatorEndpoint
	stdout, stderr, err := e.run(context.Background(), "backfill", "-dry-run", "-from", stamp(time.Now().Add(-time.Hour)))
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if n := strings.Count(stdout, "\n"); n != 3 {
		t.Errorf("%d calls listed:\n%s", n, stdout)
	}
}

func TestProgress(t *testing.T) {
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	sum := reconcile.Summary{Start: start, End: start.Add(3 * time.Hour), Seen: 7, Forwarded: 5, Failed: 1}
	ev := func(at time.Duration) reconcile.Progress { return reconcile.Progress{Summary: sum, At: start.Add(at)} }

	var plain bytes.Buffer
	p := &progress{w: &plain, window: time.Hour}
	p.printed = time.Now() // no periodic line within the test
	for _, at := range []time.Duration{10 * time.Minute, time.Hour, time.Hour, 90 * time.Minute, 2 * time.Hour, 3 * time.Hour} {
		p.update(ev(at))
	}
	want := "backfill:  33% up to 2026-03-01T01:00:00Z  seen 7  sent 5  dead-lettered 0  failed 1\n" +
		"backfill:  67% up to 2026-03-01T02:00:00Z  seen 7  sent 5  dead-lettered 0  failed 1\n" +
		"backfill: 100% up to 2026-03-01T03:00:00Z  seen 7  sent 5  dead-lettered 0  failed 1\n"
	if plain.String() != want {
		t.Errorf("plain progress:\n%s\nwant\n%s", plain.String(), want)
	}

	var tty bytes.Buffer
	p = &progress{w: &tty, tty: true, window: time.Hour}
	p.update(ev(90 * time.Minute))
	io.WriteString(p, "{\"msg\":\"log\"}\n")
	p.clear()
	bar := "[###############---------------]  50%  up to 2026-03-01T01:30:00Z  seen 7  sent 5  dead-lettered 0  failed 1"
	if want := "\r\033[K" + bar + "\r\033[K{\"msg\":\"log\"}\n" + bar + "\r\033[K"; tty.String() != want {
		t.Errorf("terminal progress %q, want %q", tty.String(), want)
	}
	if isTerminal(&tty) {
		t.Errorf("a buffer is a terminal")
	}

	// A dry run sends nothing, and says so as its summary does.
	var dry bytes.Buffer
	p = &progress{w: &dry, window: time.Hour, dryRun: true}
	p.printed = time.Now()
	listed := sum
	listed.Forwarded, listed.Listed = 0, 5
	p.update(reconcile.Progress{Summary: listed, At: start.Add(time.Hour)})
	if want := "backfill:  33% up to 2026-03-01T01:00:00Z  seen 7  would send 5  invalid 1\n"; dry.String() != want {
		t.Errorf("dry-run progress %q, want %q", dry.String(), want)
	}
}

func TestParseTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"2026-01-02T15:04:05Z", "2026-01-02T15:04:05Z"},
		{"2026-01-02T23:04:05+08:00", "2026-01-02T15:04:05Z"},
		{"2026-01-02T15:04:05.9Z", "2026-01-02T15:04:05.9Z"},
		{"1767366245", "2026-01-02T15:04:05Z"},
		{"0", "1970-01-01T00:00:00Z"},
		{"", ""}, {"-1", ""}, {"2026-01-02", ""}, {"1e9", ""}, {"99999999999999999999", ""}, {"253402300800", ""},
	} {
		got, err := parseTime(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("parseTime(%q) = %s, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got.Format(time.RFC3339Nano) != tc.want {
			t.Errorf("parseTime(%q) = %s, %v, want %s", tc.in, got.Format(time.RFC3339Nano), err, tc.want)
		}
	}
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2026-01-02T15:04:05Z", "2026-01-02T23:04:05+08:00", "1767366245", "", "abc", "253402300799"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseTime(s)
		if err != nil {
			return
		}
		if got.Location() != time.UTC {
			t.Fatalf("parseTime(%q) is not UTC", s)
		}
		if n, perr := strconv.ParseInt(s, 10, 64); perr == nil && s[0] != '+' && s[0] != '-' && got.Unix() != n {
			t.Fatalf("parseTime(%q) = %d", s, got.Unix())
		}
	})
}

func newTestLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
