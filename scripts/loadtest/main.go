// Command loadtest measures ccc-enricher under load on loopback. It is not
// part of the test suite: run it by hand, on a quiet machine.
//
//	go run ./scripts/loadtest               # steps 1,4,16,64,256, 10 s each
//	go run ./scripts/loadtest -steps 1,16 -duration 5s
//	go run ./scripts/loadtest -burst        # the burst simulation, about 2.5 minutes
//	go run ./scripts/loadtest -node         # beside a Node.js function, about 1.5 minutes
//
// It builds bootstrap from ./function (or runs -bootstrap) as its own
// process, the local HTTP server, wired as in production from the
// environment: basic push authentication, the CCC API at CCC_ENDPOINT with
// API keys, and a signed webhook. The CCC API is the tcemu emulator, with
// CCC's real limit of 20 DescribeSessionDetail requests in any rolling
// second; the webhook receiver verifies every signature. At each
// concurrency step, that many clients push distinct calls (each a new
// session in the emulator) as fast as the function answers, for -duration;
// then, at each arrival rate, pushes arrive on a clock whatever the
// function answers, as calls end in a contact centre.
//
// Per step it reports the pushes answered, throughput, latency (p50, p99,
// max), the ErrCode distribution, the most DescribeSessionDetail requests
// the emulator saw in one rolling second (one instance must never exceed
// CCC's 20: pushes beyond that budget wait, or are answered 503 so that CCC
// pushes them again), CCC calls, records delivered, pushes acknowledged
// without a delivered record (must be 0), and the function process's CPU
// time per push, resident memory and peak resident memory (VmHWM).
//
// -burst runs the burst of issue 16 instead, both modes in one run against
// one emulator that admits 20 DescribeSessionDetail requests in any rolling
// second for the whole account (each answered after -ccc-latency): calls
// end at -burst-rate for -burst-duration, each sending a cdr and a record
// push, to -instances bootstrap processes that each serve one request at a
// time (a push finding none free is throttled, as the platform does), with
// CCC simulated: -ccc-timeout per attempt, 3 retries -ccc-retry apart.
// First the synchronous mode (CCC_RATE_LIMIT = 20/instances each), then
// queued intake: the same instances with INTAKE=kafka on a kfake broker in
// this process, and -workers `bootstrap worker` processes with
// CCC_RATE_LIMIT = 20/workers. Per mode it reports the pushes acknowledged
// at the first attempt and never, the records delivered and lost
// (acknowledged, not delivered), the share of CCC calls refused with
// RequestLimitExceeded, the detail calls served per call end delivered, push
// acknowledgement p50/p99, the Kafka send p99 measured beside the pushes
// (intake), and the time from the last call to the last delivery against
// the bound calls/20 + 60 s. Every wait is bounded: intake's by that bound.
//
// -node runs ccc-enricher beside the Node.js function of scripts/nodefn
// (the same cdr push path, built on tencentcloud-sdk-nodejs-common, which
// npm installs into a temporary directory unless -node-modules names one)
// and a Go floor (scripts/floorfn: the push's HTTP exchanges only), in
// turns against one emulator and receiver (see node.go): per function, the
// median cold start of -colds fresh processes (exec to the first 200 on
// /healthz, and to the first push answered), then pushes at -node-rate for
// -node-duration in -node-rounds turns, and the ratios of CPU per push,
// push latency p50/p99, cold start and peak RSS.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/ccc-enricher/ccc-enricher/internal/loopback"
	"github.com/ccc-enricher/ccc-enricher/internal/tcemu"
	"github.com/ccc-enricher/ccc-enricher/scripts/internal/machine"
)

const (
	secretID     = "AKIDloadtestEXAMPLE000000000000000"
	secretKey    = "loadtestSecretKeyEXAMPLE0000000000"
	pushUser     = "ccc"
	pushPassword = "loadtest-push-password"
)

var webhookSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("loadtest-webhook-signing-key-32b"))

type config struct {
	steps          []int
	rates          []float64
	duration       time.Duration
	bootstrap      string
	requestTimeout time.Duration
	rate           string
	logLevel       string
}

func main() {
	var c config
	steps := flag.String("steps", "1,4,16,64,256", "comma-separated concurrency steps (closed loop: each client pushes again once answered)")
	rates := flag.String("rates", "5,15,30", "comma-separated arrival rates in pushes/s (open loop: pushes arrive on a clock, as calls end), run after the steps; empty for none")
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "how long each step sends pushes")
	flag.StringVar(&c.bootstrap, "bootstrap", "", "bootstrap executable to run (default: build ./function)")
	flag.DurationVar(&c.requestTimeout, "request-timeout", 25*time.Second, "the function's REQUEST_TIMEOUT (its default)")
	flag.StringVar(&c.rate, "rate", "20", "the function's CCC_RATE_LIMIT")
	flag.StringVar(&c.logLevel, "log-level", "info", "the function's LOG_LEVEL (its logs are discarded)")
	burstMode := flag.Bool("burst", false, "run the burst simulation instead: the synchronous and the queued-intake mode side by side (see burst.go)")
	var bc burstConfig
	flag.Float64Var(&bc.rate, "burst-rate", 60, "-burst: calls ending per second, each with a cdr and a record push")
	flag.DurationVar(&bc.duration, "burst-duration", 20*time.Second, "-burst: how long calls end at -burst-rate")
	flag.IntVar(&bc.instances, "instances", 16, "-burst: push instances, each serving one request at a time")
	flag.IntVar(&bc.workers, "workers", 4, "-burst: bootstrap worker processes (CCC_RATE_LIMIT 20/workers each)")
	flag.DurationVar(&bc.latency, "ccc-latency", 60*time.Millisecond, "-burst: the emulator's DescribeSessionDetail latency")
	flag.DurationVar(&bc.cccTimeout, "ccc-timeout", 5*time.Second, "-burst: how long CCC waits for a push's answer (and the instances' REQUEST_TIMEOUT)")
	flag.DurationVar(&bc.cccRetry, "ccc-retry", 2*time.Second, "-burst: CCC's pause before each of its 3 retries")
	nodeMode := flag.Bool("node", false, "run ccc-enricher beside the Node.js function of scripts/nodefn instead, and report the ratios (see node.go)")
	var nc nodeConfig
	flag.Float64Var(&nc.rate, "node-rate", 10, "-node: pushes per second, paced")
	flag.DurationVar(&nc.duration, "node-duration", 30*time.Second, "-node: how long each function receives paced pushes")
	flag.IntVar(&nc.colds, "colds", 5, "-node: fresh processes per cold-start figure (the median is reported)")
	flag.IntVar(&nc.rounds, "node-rounds", 3, "-node: turns in which each function receives its share of -node-duration")
	flag.StringVar(&nc.nodeDir, "node-dir", "scripts/nodefn", "-node: the Node.js function's directory (index.js, package.json)")
	flag.StringVar(&nc.nodeModules, "node-modules", "", "-node: a node_modules directory holding tencentcloud-sdk-nodejs-common (default: npm install into a temporary one)")
	flag.Parse()
	if *nodeMode {
		nc.bootstrap = c.bootstrap
		if nc.rate <= 0 || nc.rate > 1000 || nc.colds < 1 || nc.colds > 100 || nc.rounds < 1 || nc.rounds > 100 || nc.duration <= 0 || nc.duration > time.Hour {
			fmt.Fprintln(os.Stderr, "loadtest: -node-rate must be in (0, 1000], -colds and -node-rounds in [1, 100], -node-duration in (0, 1h]")
			os.Exit(2)
		}
		nodeMain(nc)
		return
	}
	if *burstMode {
		burstMain(bc, c.bootstrap)
		return
	}
	for _, s := range strings.Split(*steps, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 4096 {
			fmt.Fprintf(os.Stderr, "loadtest: bad step %q\n", s)
			os.Exit(2)
		}
		c.steps = append(c.steps, n)
	}
	for _, s := range strings.Split(*rates, ",") {
		if strings.TrimSpace(s) == "" {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || f <= 0 || f > 1000 {
			fmt.Fprintf(os.Stderr, "loadtest: bad rate %q\n", s)
			os.Exit(2)
		}
		c.rates = append(c.rates, f)
	}
	runMode(func(ctx context.Context) error { return run(ctx, c, os.Stdout) })
}

// runMode runs one mode until it ends or SIGINT or SIGTERM, and exits 1 on
// its error.
func runMode(mode func(ctx context.Context) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := mode(ctx); err != nil {
		stop()
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// rig is what the steady and the Node.js modes run against: the CCC API
// emulator behind a swappable pointer (each step gets a fresh one, so that
// its rate is its own), a receiver that verifies the webhooks, and the
// bootstrap executable.
type rig struct {
	emu       atomic.Pointer[tcemu.Server]
	api, hook *loopback.Server
	rcv       *receiver
	bin       string
	cleanup   func()
}

func newRig(ctx context.Context, bootstrapPath string) (*rig, error) {
	r := &rig{}
	var err error
	r.api, r.rcv, r.hook, err = listen(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { r.emu.Load().ServeHTTP(w, req) }))
	if err != nil {
		return nil, err
	}
	if r.bin, r.cleanup, err = bootstrap(ctx, bootstrapPath); err != nil {
		r.api.Close()
		r.hook.Close()
		return nil, err
	}
	return r, nil
}

func (r *rig) Close() {
	r.cleanup()
	r.api.Close()
	r.hook.Close()
}

func run(ctx context.Context, c config, out io.Writer) error {
	rg, err := newRig(ctx, c.bootstrap)
	if err != nil {
		return err
	}
	defer rg.Close()
	emu, api, rcv, hook, bin := &rg.emu, rg.api, rg.rcv, rg.hook, rg.bin
	port, err := loopback.FreePort()
	if err != nil {
		return err
	}
	fn := exec.Command(bin)
	fn.Env = append(functionEnv(api.Addr, hook.Addr),
		"PORT="+strconv.Itoa(port),
		"CCC_RATE_LIMIT="+c.rate,
		"REQUEST_TIMEOUT="+c.requestTimeout.String(),
		"LOG_LEVEL="+c.logLevel,
	)
	stderr := &tail{}
	fn.Stdout, fn.Stderr = io.Discard, stderr
	if err := fn.Start(); err != nil {
		return err
	}
	defer func() {
		fn.Process.Signal(syscall.SIGTERM)
		fn.Wait()
	}()
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	if err := waitHealthy(ctx, base+"/healthz"); err != nil {
		return fmt.Errorf("%w\n%s", err, stderr)
	}

	fmt.Fprintf(out, "ccc-enricher load test: %s, %d CPUs, %s; bootstrap as its own process (pid %d), CCC_RATE_LIMIT=%s, REQUEST_TIMEOUT=%s, LOG_LEVEL=%s\n\n",
		machine.CPUModel(), runtime.NumCPU(), runtime.Version(), fn.Process.Pid, c.rate, c.requestTimeout, c.logLevel)
	fmt.Fprintln(out, "| clients or arrivals | pushes | pushes/s | p50 ms | p99 ms | max ms | ErrCodes | CCC max/s | CCC calls | delivered | acked, not delivered | fn CPU ms/push | fn RSS MB | fn peak RSS MB |")
	fmt.Fprintln(out, "|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4096}, Timeout: c.requestTimeout + 30*time.Second}
	type load struct {
		n    int
		rate float64
	}
	var loads []load
	for _, n := range c.steps {
		loads = append(loads, load{n: n})
	}
	for _, r := range c.rates {
		loads = append(loads, load{rate: r})
	}
	for i, l := range loads {
		e := tcemu.New(tcemu.Options{SecretID: secretID, SecretKey: secretKey})
		sample, err := tcemu.LoadSamples(e, time.Now())
		if err != nil {
			return err
		}
		emu.Store(e)
		s := step{n: l.n, rate: l.rate, emu: e, sample: sample, client: client, url: base + "/push?action=cdr&version=1", rcv: rcv, prefix: fmt.Sprintf("load-%d-", i)}
		cpu0 := cpuTime(fn.Process.Pid)
		res, err := s.run(ctx, c.duration)
		if err != nil {
			return fmt.Errorf("%w\n%s", err, stderr)
		}
		res.cpu = cpuTime(fn.Process.Pid) - cpu0
		res.rss, res.hwm = memory(fn.Process.Pid, "VmRSS"), memory(fn.Process.Pid, "VmHWM")
		fmt.Fprintln(out, res.row())
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// Let the last step's second pass before the next one starts.
		time.Sleep(1100 * time.Millisecond)
	}
	fmt.Fprintf(out, "\nloadtest process itself (emulator, receiver, clients): peak RSS %.1f MB\n", float64(memory(os.Getpid(), "VmHWM"))/1024)
	return nil
}

// listen serves the CCC API handler and a new webhook receiver on
// loopback.
func listen(apiHandler http.Handler) (api *loopback.Server, rcv *receiver, hook *loopback.Server, err error) {
	if rcv, err = newReceiver(); err != nil {
		return nil, nil, nil, err
	}
	if api, err = loopback.Listen(apiHandler); err != nil {
		return nil, nil, nil, err
	}
	if hook, err = loopback.Listen(rcv); err != nil {
		api.Close()
		return nil, nil, nil, err
	}
	return api, rcv, hook, nil
}

// functionEnv is bootstrap's environment as in production: basic push
// authentication, the CCC API at apiAddr with API keys, and a signed
// webhook at hookAddr.
func functionEnv(apiAddr, hookAddr string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir(),
		"GOMAXPROCS=1", // as serverless.yml and template.yaml set it
		"PUSH_AUTH=basic", "PUSH_BASIC_USERNAME=" + pushUser, "PUSH_BASIC_PASSWORD=" + pushPassword,
		"CCC_SDK_APP_IDS=1400000000", "CCC_ENDPOINT=http://" + apiAddr,
		"TENCENTCLOUD_SECRET_ID=" + secretID, "TENCENTCLOUD_SECRET_KEY=" + secretKey,
		"SINK=webhook", "WEBHOOK_URL=http://" + hookAddr + "/records", "WEBHOOK_SECRET=" + webhookSecret,
	}
}

// bootstrap returns the executable to run: bin, or one built from
// ./function into a temporary directory that cleanup removes.
func bootstrap(ctx context.Context, bin string) (string, func(), error) {
	if bin != "" {
		return bin, func() {}, nil
	}
	return build(ctx, "./function", "bootstrap", "-tags", "lambda.norpc")
}

// build builds pkg as scripts/build.sh does, stripped, into the executable
// name in a temporary directory that cleanup removes.
func build(ctx context.Context, pkg, name string, flags ...string) (string, func(), error) {
	dir, err := os.MkdirTemp("", "ccc-enricher-loadtest")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	bin := filepath.Join(dir, name)
	fmt.Fprintf(os.Stderr, "building %s…\n", pkg)
	args := append(append([]string{"build", "-trimpath"}, flags...), "-ldflags=-s -w", "-o", bin, pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return bin, cleanup, nil
}

// step is one concurrency step (n clients) or arrival rate.
type step struct {
	n      int
	rate   float64
	emu    *tcemu.Server
	sample tcemu.Sample
	client *http.Client
	url    string
	rcv    *receiver
	prefix string
}

type outcome struct {
	latency time.Duration
	errCode int // -1: no reply
	session string
}

type result struct {
	n                  int
	rate               float64
	outcomes           []outcome
	elapsed            time.Duration
	maxRate, calls     int
	delivered, unacked int
	cpu                time.Duration
	rss, hwm           int64 // kB
}

func (s *step) run(ctx context.Context, d time.Duration) (*result, error) {
	var push map[string]json.RawMessage
	if err := json.Unmarshal(s.sample.CDRPush, &push); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(d)
	start := time.Now()
	var (
		mu       sync.Mutex
		outcomes []outcome
		seq      atomic.Int64
		wg       sync.WaitGroup
		firstErr atomic.Pointer[error]
	)
	send := func() bool {
		id := fmt.Sprintf("%s%06d-%s", s.prefix, seq.Add(1), randomHex(8))
		o, err := s.one(ctx, push, id)
		if err != nil {
			firstErr.CompareAndSwap(nil, &err)
			return false
		}
		mu.Lock()
		outcomes = append(outcomes, o)
		mu.Unlock()
		return true
	}
	if s.rate > 0 {
		// Open loop: a push every 1/rate, whether or not the earlier ones
		// were answered.
		tick := time.NewTicker(time.Duration(float64(time.Second) / s.rate))
		for time.Now().Before(deadline) && ctx.Err() == nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				send()
			}()
			<-tick.C
		}
		tick.Stop()
	}
	for range s.n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && ctx.Err() == nil && send() {
			}
		}()
	}
	wg.Wait()
	if p := firstErr.Load(); p != nil {
		return nil, *p
	}
	r := &result{n: s.n, rate: s.rate, outcomes: outcomes, elapsed: time.Since(start),
		maxRate: s.emu.MaxRate("DescribeSessionDetail"), calls: s.emu.Calls("DescribeSessionDetail")}
	for _, o := range outcomes {
		got := s.rcv.count(o.session)
		if got > 0 {
			r.delivered++
		}
		if o.errCode == 0 && got == 0 {
			r.unacked++
		}
	}
	return r, nil
}

// one sends one push of a new call.
func (s *step) one(ctx context.Context, push map[string]json.RawMessage, session string) (outcome, error) {
	if err := s.emu.AddSession(s.sample.SdkAppID, session, s.sample.Detail); err != nil {
		return outcome{}, err
	}
	body := make(map[string]json.RawMessage, len(push))
	for k, v := range push {
		body[k] = v
	}
	body["SessionId"], _ = json.Marshal(session)
	b, err := json.Marshal(body)
	if err != nil {
		return outcome{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, strings.NewReader(string(b)))
	if err != nil {
		return outcome{}, err
	}
	req.SetBasicAuth(pushUser, pushPassword)
	req.Header.Set("Content-Type", "application/json;charset=utf8")
	req.Header.Set("X-TCCC-PUSH-UUID", randomHex(16))
	start := time.Now()
	resp, err := s.client.Do(req)
	o := outcome{session: session, errCode: -1}
	if err != nil {
		o.latency = time.Since(start)
		return o, nil
	}
	reply, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	o.latency = time.Since(start)
	var r struct{ ErrCode *int }
	if json.Unmarshal(reply, &r) == nil && r.ErrCode != nil {
		o.errCode = *r.ErrCode
	}
	return o, nil
}

func (r *result) row() string {
	lat := make([]time.Duration, len(r.outcomes))
	codes := map[int]int{}
	for i, o := range r.outcomes {
		lat[i] = o.latency
		codes[o.errCode]++
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		i := int(p * float64(len(lat)-1))
		return float64(lat[i].Microseconds()) / 1000
	}
	var cs []string
	for _, c := range slices.Sorted(mapsKeys(codes)) {
		name := strconv.Itoa(c)
		if c == -1 {
			name = "no reply"
		}
		cs = append(cs, fmt.Sprintf("%s: %d", name, codes[c]))
	}
	perPush := 0.0
	if len(r.outcomes) > 0 {
		perPush = float64(r.cpu.Microseconds()) / 1000 / float64(len(r.outcomes))
	}
	load := strconv.Itoa(r.n)
	if r.rate > 0 {
		load = fmt.Sprintf("%g/s arriving", r.rate)
	}
	return fmt.Sprintf("| %s | %d | %.1f | %.1f | %.1f | %.1f | %s | %d | %d | %d | %d | %.2f | %.1f | %.1f |",
		load, len(r.outcomes), float64(len(r.outcomes))/r.elapsed.Seconds(), pct(0.5), pct(0.99), pct(1),
		strings.Join(cs, ", "), r.maxRate, r.calls, r.delivered, r.unacked, perPush,
		float64(r.rss)/1024, float64(r.hwm)/1024)
}

func mapsKeys(m map[int]int) func(func(int) bool) {
	return func(yield func(int) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// receiver is the webhook receiver: it verifies each delivery's signature
// and counts records per session.
type receiver struct {
	verifier *standardwebhooks.Webhook
	mu       sync.Mutex
	sessions map[string]int
	// ids holds each record id received and whether it was full; last is
	// when a new id last arrived.
	ids  map[string]bool
	last time.Time
}

func newReceiver() (*receiver, error) {
	v, err := standardwebhooks.NewWebhook(webhookSecret)
	if err != nil {
		return nil, err
	}
	return &receiver{verifier: v, sessions: map[string]int{}, ids: map[string]bool{}}, nil
}

// record reports whether the record with id arrived, and whether full.
func (rc *receiver) record(id string) (got, full bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	full, got = rc.ids[id]
	return got, full
}

func (rc *receiver) lastNew() time.Time {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.last
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	if err := rc.verifier.Verify(body, r.Header); err != nil {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var rec struct {
		ID           string `json:"id"`
		SessionID    string `json:"sessionId"`
		Completeness string `json:"completeness"`
	}
	if err := json.Unmarshal(body, &rec); err != nil || rec.SessionID == "" {
		http.Error(w, "not a record", http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	rc.sessions[rec.SessionID]++
	if full, ok := rc.ids[rec.ID]; !ok || !full {
		if !ok {
			rc.last = time.Now()
		}
		rc.ids[rec.ID] = rec.Completeness == "full"
	}
	rc.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) count(session string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.sessions[session]
}

func waitHealthy(ctx context.Context, url string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return errors.New("the function did not answer /healthz within 30 s")
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// memory returns a /proc/<pid>/status value in kB (VmRSS, VmHWM).
func memory(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// cpuTime returns the CPU time a process has used: the sum of its
// threads' run time in /proc/<pid>/task/*/schedstat, in nanoseconds, or,
// without schedstat, utime+stime from /proc/<pid>/stat, in clock ticks of
// 10 ms, too coarse for a few hundred pushes of a millisecond or two.
func cpuTime(pid int) time.Duration {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	var sum time.Duration
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // the thread ended: Go and Node keep theirs
		}
		ns, err := strconv.ParseInt(strings.SplitN(string(b), " ", 2)[0], 10, 64)
		if err != nil {
			sum = -1
			break
		}
		sum += time.Duration(ns)
	}
	if len(tasks) > 0 && sum >= 0 {
		return sum
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name, field 2, may hold spaces: count from its end.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// tail keeps the end of the function's log, to show if it fails.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 8<<10 {
		t.buf = t.buf[len(t.buf)-8<<10:]
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
