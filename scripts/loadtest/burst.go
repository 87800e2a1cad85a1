package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ccc-enricher/ccc-enricher/internal/loopback"
	"github.com/ccc-enricher/ccc-enricher/internal/push"
	"github.com/ccc-enricher/ccc-enricher/internal/record"
	"github.com/ccc-enricher/ccc-enricher/internal/tcemu"
	"github.com/ccc-enricher/ccc-enricher/scripts/internal/machine"
)

// burstConfig is the -burst run: calls ending at rate for duration, each
// with a cdr push and a record push, against instances push instances
// (each serving one request at a time, as Lambda and SCF run them) and an
// emulator that admits 20 DescribeSessionDetail requests in any rolling
// second for the whole account, each answered after latency.
type burstConfig struct {
	rate       float64
	duration   time.Duration
	instances  int
	workers    int
	latency    time.Duration
	cccTimeout time.Duration
	cccRetry   time.Duration
	syncRate   string
}

const (
	intakeTopic = "ccc-enricher-intake"
	intakeGroup = "ccc-enricher"
	// cccRetries is how many more times CCC pushes after a failure.
	cccRetries = 3
)

// burstPush is one push of a call, as CCC delivers it: attempts until
// ErrCode 0, at most 1+cccRetries.
type burstPush struct {
	call     int
	body     []byte
	kind     push.Kind
	id       string // the record id the push's record gets
	attempts int
	acked    bool
	firstOK  bool
	ackTook  time.Duration // the acknowledged attempt's latency
}

// burstResult is one mode's row.
type burstResult struct {
	mode                         string
	calls                        int
	pushes                       []*burstPush
	detailCalls, limited         int64
	lastCall, lastDelivery       time.Time
	queueSend                    []time.Duration
	delivered, lost, notFull     int
	callsAcked, callsNeverAcked  int
	pushesFirst, pushesNeverAckd int
}

// burstMain runs -burst and exits on failure.
func burstMain(bc burstConfig, bin string) {
	if bc.rate <= 0 || bc.rate > 1000 || bc.duration <= 0 || bc.duration > 10*time.Minute || bc.instances < 1 || bc.instances > 256 || bc.workers < 1 || bc.workers > 20 {
		fmt.Fprintln(os.Stderr, "loadtest: -burst wants a rate of 1-1000/s, a duration up to 10m, 1-256 instances and 1-20 workers")
		os.Exit(2)
	}
	bc.syncRate = strconv.FormatFloat(20/float64(bc.instances), 'f', -1, 64)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	bin, cleanup, err := bootstrap(ctx, bin)
	if err == nil {
		err = runBurst(ctx, bc, bin, os.Stdout)
		cleanup()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		stop()
		os.Exit(1)
	}
}

// runBurst runs the synchronous mode and then the intake mode, and prints
// their table.
func runBurst(ctx context.Context, bc burstConfig, bin string, out io.Writer) error {
	var emu atomic.Pointer[tcemu.Server]
	var detailCalls, limited atomic.Int64
	api, rcv, hook, err := listen(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The emulator's answers are sniffed for the rate refusals.
		rw := &sniffer{ResponseWriter: w}
		emu.Load().ServeHTTP(rw, r)
		if r.Header.Get("X-TC-Action") == "DescribeSessionDetail" {
			detailCalls.Add(1)
			if bytes.Contains(rw.head, []byte("RequestLimitExceeded")) {
				limited.Add(1)
			}
		}
	}))
	if err != nil {
		return err
	}
	defer api.Close()
	defer hook.Close()
	common := append(functionEnv(api.Addr, hook.Addr), "LOG_LEVEL=warn")
	fmt.Fprintf(out, "ccc-enricher burst: %s, %d CPUs, %s; %g calls/s for %s (a cdr and a record push each), %d push instances serving one request at a time, CCC: %s timeout, %d retries %s apart; emulator: 20 DescribeSessionDetail/s for the account, %s each\n\n",
		machine.CPUModel(), runtime.NumCPU(), runtime.Version(), bc.rate, bc.duration, bc.instances, bc.cccTimeout, cccRetries, bc.cccRetry, bc.latency)
	newEmu := func() (tcemu.Sample, error) {
		e := tcemu.New(tcemu.Options{SecretID: secretID, SecretKey: secretKey})
		sample, err := tcemu.LoadSamples(e, time.Now())
		if err != nil {
			return tcemu.Sample{}, err
		}
		e.SetFaults(func(action string) *tcemu.Fault {
			if action == "DescribeSessionDetail" {
				return &tcemu.Fault{Delay: bc.latency}
			}
			return nil
		})
		emu.Store(e)
		detailCalls.Store(0)
		limited.Store(0)
		return sample, nil
	}

	var results []*burstResult
	for _, mode := range []string{"sync", "intake"} {
		sample, err := newEmu()
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "burst: %s mode…\n", mode)
		b := &burst{cfg: bc, bin: bin, env: common, emu: emu.Load(), sample: sample, rcv: rcv, mode: mode}
		res, err := b.run(ctx)
		if err != nil {
			return fmt.Errorf("%s mode: %w", mode, err)
		}
		res.detailCalls, res.limited = detailCalls.Load(), limited.Load()
		results = append(results, res)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	fmt.Fprintln(out, "| mode | calls | pushes | acked at 1st attempt | pushes never acked | calls never acked | delivered | lost (acked, not delivered) | not full | CCC detail calls | RequestLimitExceeded | detail calls per call end | ack p50 ms | ack p99 ms | queue send p99 ms | last call → last delivery | bound calls/20+60 s |")
	fmt.Fprintln(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range results {
		fmt.Fprintln(out, r.row())
	}
	return nil
}

// sniffer keeps the start of a reply.
type sniffer struct {
	http.ResponseWriter
	head []byte
}

func (s *sniffer) Write(p []byte) (int, error) {
	if len(s.head) < 512 {
		s.head = append(s.head, p[:min(len(p), 512-len(s.head))]...)
	}
	return s.ResponseWriter.Write(p)
}

// burst is one mode's run.
type burst struct {
	cfg    burstConfig
	bin    string
	env    []string
	emu    *tcemu.Server
	sample tcemu.Sample
	rcv    *receiver
	mode   string

	procs []*exec.Cmd
	free  chan string // the push instances not serving a request
}

func (b *burst) run(ctx context.Context) (*burstResult, error) {
	defer b.stop()
	env := append(slices.Clone(b.env), "CCC_RATE_LIMIT="+b.cfg.syncRate, "REQUEST_TIMEOUT="+b.cfg.cccTimeout.String())
	res := &burstResult{mode: b.mode}
	var probe *kgo.Client
	if b.mode == "intake" {
		cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(int32(b.cfg.workers), intakeTopic, "probe"))
		if err != nil {
			return nil, err
		}
		defer cluster.Close()
		if env, probe, err = b.startIntake(ctx, cluster); err != nil {
			return nil, err
		}
		defer probe.Close()
	}
	b.free = make(chan string, b.cfg.instances)
	for range b.cfg.instances {
		base, err := b.start(env)
		if err != nil {
			return nil, err
		}
		b.free <- base
	}

	var cdr, rec map[string]json.RawMessage
	if err := json.Unmarshal(b.sample.CDRPush, &cdr); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b.sample.RecordPush, &rec); err != nil {
		return nil, err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: b.cfg.cccTimeout}
	var (
		wg     sync.WaitGroup
		probes []time.Duration
	)
	stopProbe := make(chan struct{})
	if probe != nil {
		wg.Go(func() { probes = measureSends(ctx, probe, stopProbe) })
	}
	calls := int(b.cfg.rate * b.cfg.duration.Seconds())
	tick := time.NewTicker(time.Duration(float64(time.Second) / b.cfg.rate))
	var pushWG sync.WaitGroup
	for i := range calls {
		if ctx.Err() != nil {
			break
		}
		session := fmt.Sprintf("burst-%s-%05d-%s", b.mode, i, randomHex(6))
		if err := b.emu.AddSession(b.sample.SdkAppID, session, b.sample.Detail); err != nil {
			return nil, err
		}
		for _, p := range []struct {
			kind push.Kind
			body map[string]json.RawMessage
		}{{push.KindCDR, cdr}, {push.KindRecord, rec}} {
			bp, err := newBurstPush(i, p.kind, p.body, session)
			if err != nil {
				return nil, err
			}
			res.pushes = append(res.pushes, bp)
			pushWG.Go(func() { b.deliver(ctx, client, bp) })
		}
		res.lastCall = time.Now()
		<-tick.C
	}
	tick.Stop()
	res.calls = calls
	pushWG.Wait()
	close(stopProbe)
	wg.Wait()
	res.queueSend = probes

	// Every acknowledged push's record, within the bound.
	deadline := res.lastCall.Add(time.Duration(calls/20)*time.Second + 60*time.Second)
	if b.mode == "sync" {
		// Nothing is queued: what is not delivered once CCC has given up
		// and the last request's deadline has passed never will be.
		deadline = time.Now().Add(b.cfg.cccTimeout + time.Second)
	}
	for time.Now().Before(deadline) && ctx.Err() == nil && b.undelivered(res) > 0 {
		time.Sleep(200 * time.Millisecond)
	}
	if b.mode == "sync" {
		time.Sleep(time.Until(deadline))
	}
	res.lastDelivery = b.rcv.lastNew()
	res.tally(b.rcv)
	return res, nil
}

// startIntake starts the workers on cluster, waits for their group to be
// stable, and returns the push instances' environment and a producer
// configured as the push route's (acks from all replicas, no linger), to
// measure the queue's own send latency beside the pushes.
func (b *burst) startIntake(ctx context.Context, cluster *kfake.Cluster) ([]string, *kgo.Client, error) {
	brokers := strings.Join(cluster.ListenAddrs(), ",")
	intake := []string{"INTAKE=kafka", "INTAKE_KAFKA_BROKERS=" + brokers, "INTAKE_KAFKA_TOPIC=" + intakeTopic, "INTAKE_KAFKA_GROUP=" + intakeGroup}
	workerEnv := append(slices.Clone(b.env), intake...)
	workerEnv = append(workerEnv, "CCC_RATE_LIMIT="+strconv.FormatFloat(20/float64(b.cfg.workers), 'f', -1, 64), "WORKER_CONCURRENCY=4")
	for range b.cfg.workers {
		if _, err := b.start(workerEnv, "worker"); err != nil {
			return nil, nil, err
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := cluster.WaitGroupStable(wctx, intakeGroup, b.cfg.workers); err != nil {
		return nil, nil, fmt.Errorf("the %d workers did not join the group within 30 s: %w", b.cfg.workers, err)
	}
	probe, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.DefaultProduceTopic("probe"),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerLinger(0))
	if err != nil {
		return nil, nil, err
	}
	env := append(slices.Clone(b.env), intake...)
	return append(env, "REQUEST_TIMEOUT="+b.cfg.cccTimeout.String()), probe, nil
}

// measureSends produces a small message every 50 ms until stop, and
// returns each send's latency.
func measureSends(ctx context.Context, cl *kgo.Client, stop chan struct{}) []time.Duration {
	var out []time.Duration
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return out
		case <-ctx.Done():
			return out
		case <-t.C:
		}
		start := time.Now()
		if err := cl.ProduceSync(ctx, &kgo.Record{Key: []byte(randomHex(8)), Value: bytes.Repeat([]byte("x"), 2048)}).FirstErr(); err == nil {
			out = append(out, time.Since(start))
		}
	}
}

func newBurstPush(call int, kind push.Kind, tmpl map[string]json.RawMessage, session string) (*burstPush, error) {
	body := make(map[string]json.RawMessage, len(tmpl))
	for k, v := range tmpl {
		body[k] = v
	}
	body["SessionId"], _ = json.Marshal(session)
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	p, err := push.Parse(kind, b, time.Now())
	if err != nil {
		return nil, err
	}
	return &burstPush{call: call, body: b, kind: kind, id: record.IDOf(p)}, nil
}

// deliver is CCC pushing: again, with the same UUID, after cccRetry, up
// to cccRetries more times while the answer is not ErrCode 0 in time. A
// push that finds every instance busy is throttled, as the platform does
// beyond the function's concurrency, and counts as a failed attempt.
func (b *burst) deliver(ctx context.Context, client *http.Client, p *burstPush) {
	uuid := randomHex(16)
	for attempt := range 1 + cccRetries {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(b.cfg.cccRetry):
			}
		}
		p.attempts++
		var base string
		select {
		case base = <-b.free:
		default:
			continue // throttled
		}
		start := time.Now()
		ok := b.post(ctx, client, base, p, uuid)
		took := time.Since(start)
		b.free <- base
		if ok {
			p.acked, p.firstOK, p.ackTook = true, attempt == 0, took
			return
		}
	}
}

func (b *burst) post(ctx context.Context, client *http.Client, base string, p *burstPush, uuid string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/push?action="+string(p.kind)+"&version=1", bytes.NewReader(p.body))
	if err != nil {
		return false
	}
	req.SetBasicAuth(pushUser, pushPassword)
	req.Header.Set("Content-Type", "application/json;charset=utf8")
	req.Header.Set("X-TCCC-PUSH-UUID", uuid)
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	reply, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var r struct{ ErrCode *int }
	return resp.StatusCode == http.StatusOK && json.Unmarshal(reply, &r) == nil && r.ErrCode != nil && *r.ErrCode == 0
}

// start starts bootstrap with env and args and, for a push instance (no
// args), waits for it to answer, returning its base URL.
func (b *burst) start(env []string, args ...string) (string, error) {
	var base string
	if len(args) == 0 {
		port, err := loopback.FreePort()
		if err != nil {
			return "", err
		}
		env = append(slices.Clone(env), "PORT="+strconv.Itoa(port))
		base = "http://127.0.0.1:" + strconv.Itoa(port)
	}
	cmd := exec.Command(b.bin, args...)
	cmd.Env = env
	stderr := &tail{}
	cmd.Stdout, cmd.Stderr = io.Discard, stderr
	if err := cmd.Start(); err != nil {
		return "", err
	}
	b.procs = append(b.procs, cmd)
	if base != "" {
		if err := waitHealthy(context.Background(), base+"/healthz"); err != nil {
			return "", fmt.Errorf("%w\n%s", err, stderr)
		}
	}
	return base, nil
}

// stop ends the mode's processes with SIGTERM and waits for them.
func (b *burst) stop() {
	for _, p := range b.procs {
		p.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range b.procs {
		p.Wait()
	}
}

func (b *burst) undelivered(r *burstResult) int {
	n := 0
	for _, p := range r.pushes {
		if got, _ := b.rcv.record(p.id); p.acked && !got {
			n++
		}
	}
	return n
}

func (r *burstResult) tally(rcv *receiver) {
	acked := map[int]bool{}
	for _, p := range r.pushes {
		if _, ok := acked[p.call]; !ok {
			acked[p.call] = true
		}
		got, full := rcv.record(p.id)
		switch {
		case got:
			r.delivered++
			if !full {
				r.notFull++
			}
		case p.acked:
			r.lost++
		}
		if p.firstOK {
			r.pushesFirst++
		}
		if !p.acked {
			r.pushesNeverAckd++
			acked[p.call] = false
		}
	}
	for _, ok := range acked {
		if ok {
			r.callsAcked++
		} else {
			r.callsNeverAcked++
		}
	}
}

func (r *burstResult) row() string {
	var ack []time.Duration
	for _, p := range r.pushes {
		if p.acked {
			ack = append(ack, p.ackTook)
		}
	}
	send := "–"
	if len(r.queueSend) > 0 {
		send = fmt.Sprintf("%.1f", ms(percentile(r.queueSend, 0.99)))
	}
	limitedShare := 0.0
	if r.detailCalls > 0 {
		limitedShare = 100 * float64(r.limited) / float64(r.detailCalls)
	}
	drain := "–"
	if !r.lastDelivery.IsZero() {
		drain = fmt.Sprintf("%.1f s", r.lastDelivery.Sub(r.lastCall).Seconds())
	}
	return fmt.Sprintf("| %s | %d | %d | %d | %d | %d | %d | %d | %d | %d | %d (%.1f %%) | %.2f | %.1f | %.1f | %s | %s | %d s |",
		r.mode, r.calls, len(r.pushes), r.pushesFirst, r.pushesNeverAckd, r.callsNeverAcked, r.delivered, r.lost, r.notFull,
		r.detailCalls, r.limited, limitedShare, r.perCallEnd(),
		ms(percentile(ack, 0.5)), ms(percentile(ack, 0.99)), send, drain, r.calls/20+60)
}

// perCallEnd is the detail calls served (not refused for rate) per call
// end delivered: the records delivered over the pushes a call sends.
func (r *burstResult) perCallEnd() float64 {
	if r.delivered == 0 || r.calls == 0 {
		return 0
	}
	callEnds := float64(r.delivered) / (float64(len(r.pushes)) / float64(r.calls))
	return float64(r.detailCalls-r.limited) / callEnds
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(p*float64(len(s)-1))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
