package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/loopback"
	"github.com/ccc-enricher/ccc-enricher/internal/tcemu"
	"github.com/ccc-enricher/ccc-enricher/scripts/internal/machine"
)

// nodeConfig is the side-by-side run of -node (issue 14): ccc-enricher,
// the Node.js function of scripts/nodefn and the Go floor of
// scripts/floorfn, in turns, against the same emulator, receiver and paced
// pushes.
type nodeConfig struct {
	rate        float64
	duration    time.Duration
	colds       int
	rounds      int
	nodeDir     string
	nodeModules string
	bootstrap   string
}

// contender is one function under test: how to start it on a port.
type contender struct {
	name    string
	command func(port int) *exec.Cmd
}

// figures are one contender's measurements.
type figures struct {
	pushes, ok, delivered int
	cpuPerPush            float64 // ms of utime+stime per push
	p50, p99              float64 // ms
	coldHealth, coldPush  float64 // ms, medians
	hwm                   int64   // kB
}

func nodeMain(c nodeConfig) {
	runMode(func(ctx context.Context) error { return runNode(ctx, c, os.Stdout) })
}

func runNode(ctx context.Context, c nodeConfig, out io.Writer) error {
	rg, err := newRig(ctx, c.bootstrap)
	if err != nil {
		return err
	}
	defer rg.Close()
	emu, api, rcv, hook, bin := &rg.emu, rg.api, rg.rcv, rg.hook, rg.bin
	modules, cleanupModules, err := nodeModules(ctx, c.nodeDir, c.nodeModules)
	if err != nil {
		return err
	}
	defer cleanupModules()
	script, err := filepath.Abs(filepath.Join(c.nodeDir, "index.js"))
	if err != nil {
		return err
	}
	floor, cleanupFloor, err := build(ctx, "./scripts/floorfn", "floorfn")
	if err != nil {
		return err
	}
	defer cleanupFloor()

	contenders := []contender{
		{"ccc-enricher", func(port int) *exec.Cmd {
			cmd := exec.Command(bin)
			cmd.Env = append(functionEnv(api.Addr, hook.Addr), "PORT="+strconv.Itoa(port), "CCC_RATE_LIMIT=20", "LOG_LEVEL=info")
			return cmd
		}},
		{"Go floor", func(port int) *exec.Cmd {
			cmd := exec.Command(floor)
			cmd.Env = append(functionEnv(api.Addr, hook.Addr), "PORT="+strconv.Itoa(port))
			return cmd
		}},
		{"Node.js", func(port int) *exec.Cmd {
			cmd := exec.Command("node", script)
			cmd.Env = []string{
				"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir(), "NODE_ENV=production", "NODE_PATH=" + modules,
				"PORT=" + strconv.Itoa(port),
				"PUSH_BASIC_USERNAME=" + pushUser, "PUSH_BASIC_PASSWORD=" + pushPassword,
				"CCC_SDK_APP_IDS=1400000000", "CCC_ADDR=" + api.Addr,
				"TENCENTCLOUD_SECRET_ID=" + secretID, "TENCENTCLOUD_SECRET_KEY=" + secretKey,
				"WEBHOOK_URL=http://" + hook.Addr + "/records", "WEBHOOK_SECRET=" + webhookSecret,
			}
			return cmd
		}},
	}
	fmt.Fprintf(out, "ccc-enricher beside a Node.js function: %s, %d CPUs, %s, node %s, tencentcloud-sdk-nodejs-common %s\n",
		machine.CPUModel(), runtime.NumCPU(), runtime.Version(), nodeVersion(ctx), sdkVersion(modules))
	fmt.Fprintf(out, "%g pushes/s for %s each, in %d turns of each; cold start: median of %d fresh processes of each, in turn\n\n", c.rate, c.duration, c.rounds, c.colds)

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}, Timeout: 30 * time.Second}
	e := tcemu.New(tcemu.Options{SecretID: secretID, SecretKey: secretKey})
	sample, err := tcemu.LoadSamples(e, time.Now())
	if err != nil {
		return err
	}
	emu.Store(e)
	figs, err := measureAll(ctx, contenders, step{rate: c.rate, emu: e, sample: sample, client: client, rcv: rcv}, c)
	if err != nil {
		return err
	}
	writeSideBySide(out, figs[0], figs[2], figs[1])
	return nil
}

// measureAll measures the contenders interleaved, so that whatever else
// the machine does at the time falls on all of them alike: the cold starts
// one fresh process of each in turn, then, with one process of each
// running, the paced pushes in c.rounds slices of each in turn. CPU time
// and peak RSS come from /proc.
func measureAll(ctx context.Context, cts []contender, base step, c nodeConfig) ([]figures, error) {
	figs := make([]figures, len(cts))
	health, first := make([][]time.Duration, len(cts)), make([][]time.Duration, len(cts))
	for i := range c.colds {
		for j, ct := range cts {
			s := base
			s.prefix = fmt.Sprintf("side-%d-", j)
			h, err := coldStart(ctx, ct, &s, false, i)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", ct.name, err)
			}
			p, err := coldStart(ctx, ct, &s, true, i)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", ct.name, err)
			}
			health[j], first[j] = append(health[j], h), append(first[j], p)
		}
	}

	fns := make([]*exec.Cmd, len(cts))
	urls, logs := make([]string, len(cts)), make([]*tail, len(cts))
	for j, ct := range cts {
		fn, url, stderr, err := start(ct)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ct.name, err)
		}
		defer stopProcess(fn)
		if err := waitHealthy(ctx, url+"/healthz"); err != nil {
			return nil, fmt.Errorf("%s: %w\n%s", ct.name, err, stderr)
		}
		fns[j], urls[j], logs[j] = fn, url, stderr
	}
	lat, cpu := make([][]time.Duration, len(cts)), make([]time.Duration, len(cts))
	for r := range c.rounds {
		for j, ct := range cts {
			fmt.Fprintf(os.Stderr, "round %d of %d: %s…\n", r+1, c.rounds, ct.name)
			s := base
			s.url, s.prefix = urls[j]+"/push?action=cdr&version=1", fmt.Sprintf("side-%d-%d-", j, r)
			cpu0 := cpuTime(fns[j].Process.Pid)
			res, err := s.run(ctx, c.duration/time.Duration(c.rounds))
			if err != nil {
				return nil, fmt.Errorf("%s: %w\n%s", ct.name, err, logs[j])
			}
			cpu[j] += cpuTime(fns[j].Process.Pid) - cpu0
			f := &figs[j]
			f.pushes, f.delivered = f.pushes+len(res.outcomes), f.delivered+res.delivered
			for _, o := range res.outcomes {
				lat[j] = append(lat[j], o.latency)
				if o.errCode == 0 {
					f.ok++
				}
			}
		}
	}
	for j, ct := range cts {
		f := &figs[j]
		f.coldHealth, f.coldPush = ms(percentile(health[j], 0.5)), ms(percentile(first[j], 0.5))
		f.hwm = memory(fns[j].Process.Pid, "VmHWM")
		f.p50, f.p99 = ms(percentile(lat[j], 0.5)), ms(percentile(lat[j], 0.99))
		if f.pushes > 0 {
			f.cpuPerPush = float64(cpu[j].Microseconds()) / 1000 / float64(f.pushes)
		}
		if f.ok < f.pushes {
			fmt.Fprintf(os.Stderr, "%s: %d of %d pushes not answered ErrCode 0; its log ends:\n%s\n", ct.name, f.pushes-f.ok, f.pushes, logs[j])
		}
	}
	return figs, nil
}

// coldStart starts a fresh process and returns the time from exec to its
// first 200 on /healthz or, with push, to its first push answered
// ErrCode 0, polling every 200 µs for at most 30 s.
func coldStart(ctx context.Context, ct contender, s *step, push bool, i int) (time.Duration, error) {
	var body map[string]json.RawMessage
	if err := json.Unmarshal(s.sample.CDRPush, &body); err != nil {
		return 0, err
	}
	poll := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	fn, base, stderr, err := start(ct)
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	defer stopProcess(fn)
	cold := *s
	cold.client, cold.url = poll, base+"/push?action=cdr&version=1"
	for n := 0; time.Since(t0) < 30*time.Second; n++ {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		if push {
			o, err := cold.one(ctx, body, fmt.Sprintf("%scold-%d-%d", s.prefix, i, n))
			if err != nil {
				return 0, err
			}
			if o.errCode == 0 {
				return time.Since(t0), nil
			}
		} else if resp, err := poll.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(t0), nil
			}
		}
		time.Sleep(200 * time.Microsecond)
	}
	return 0, fmt.Errorf("no answer within 30 s of exec\n%s", stderr)
}

// start runs a contender on a free loopback port.
func start(ct contender) (*exec.Cmd, string, *tail, error) {
	port, err := loopback.FreePort()
	if err != nil {
		return nil, "", nil, err
	}
	fn := ct.command(port)
	stderr := &tail{}
	fn.Stdout, fn.Stderr = io.Discard, stderr
	if err := fn.Start(); err != nil {
		return nil, "", nil, err
	}
	return fn, "http://127.0.0.1:" + strconv.Itoa(port), stderr, nil
}

// stopProcess ends fn with SIGTERM, then SIGKILL after 5 s.
func stopProcess(fn *exec.Cmd) {
	fn.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { fn.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		fn.Process.Kill()
		<-done
	}
}

// nodeModules returns the node_modules directory holding
// tencentcloud-sdk-nodejs-common: dir if given, or a temporary one that
// npm installs dir's package.json into, removed by cleanup.
func nodeModules(ctx context.Context, nodeDir, dir string) (string, func(), error) {
	if dir != "" {
		return dir, func() {}, nil
	}
	tmp, err := os.MkdirTemp("", "ccc-enricher-nodefn")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(tmp) }
	pkg, err := os.ReadFile(filepath.Join(nodeDir, "package.json"))
	if err == nil {
		err = os.WriteFile(filepath.Join(tmp, "package.json"), pkg, 0o644)
	}
	if err != nil {
		cleanup()
		return "", nil, err
	}
	fmt.Fprintln(os.Stderr, "npm install tencentcloud-sdk-nodejs-common…")
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	npm := exec.CommandContext(ctx, "npm", "install", "--prefix", tmp, "--omit=dev", "--no-package-lock", "--no-audit", "--no-fund")
	if b, err := npm.CombinedOutput(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("npm install: %v\n%s", err, b)
	}
	return filepath.Join(tmp, "node_modules"), cleanup, nil
}

func nodeVersion(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	b, err := exec.CommandContext(ctx, "node", "--version").Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}

func sdkVersion(modules string) string {
	var p struct{ Version string }
	b, err := os.ReadFile(filepath.Join(modules, "tencentcloud-sdk-nodejs-common", "package.json"))
	if err != nil || json.Unmarshal(b, &p) != nil {
		return "?"
	}
	return p.Version
}

// writeSideBySide writes the table of g (ccc-enricher), n (Node.js) and
// fl (the Go floor): the ratio of each figure, and what the floor allows.
func writeSideBySide(out io.Writer, g, n, fl figures) {
	ratio := func(node, goFn float64) string {
		if goFn <= 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.1f×", node/goFn)
	}
	mb := func(kb int64) float64 { return float64(kb) / 1024 }
	fmt.Fprintln(out, "| figure | ccc-enricher | Node.js | ratio (Node.js ÷ ccc-enricher) | Go floor | Node.js ÷ Go floor |")
	fmt.Fprintln(out, "|---|---:|---:|---:|---:|---:|")
	fmt.Fprintf(out, "| pushes answered ErrCode 0 / sent | %d / %d | %d / %d | | %d / %d | |\n", g.ok, g.pushes, n.ok, n.pushes, fl.ok, fl.pushes)
	fmt.Fprintf(out, "| records delivered | %d | %d | | (none: unsigned) | |\n", g.delivered, n.delivered)
	row := func(name, format string, gv, nv, fv float64) {
		fmt.Fprintf(out, "| %s | "+format+" | "+format+" | %s | "+format+" | %s |\n", name, gv, nv, ratio(nv, gv), fv, ratio(nv, fv))
	}
	row("CPU per push, ms", "%.3f", g.cpuPerPush, n.cpuPerPush, fl.cpuPerPush)
	row("push latency p50, ms", "%.2f", g.p50, n.p50, fl.p50)
	row("push latency p99, ms", "%.2f", g.p99, n.p99, fl.p99)
	row("cold start, exec → first 200 on /healthz, ms", "%.1f", g.coldHealth, n.coldHealth, fl.coldHealth)
	row("cold start, exec → first push answered, ms", "%.1f", g.coldPush, n.coldPush, fl.coldPush)
	row("peak RSS (VmHWM), MB", "%.1f", mb(g.hwm), mb(n.hwm), mb(fl.hwm))
	if g.ok < g.pushes || n.ok < n.pushes {
		fmt.Fprintln(out, "\nsome pushes were not answered ErrCode 0: the figures are not comparable")
	}
	fmt.Fprintln(out, "\nCPU: the threads' run time in /proc/<pid>/task/*/schedstat over the paced run divided by its pushes; peak RSS: VmHWM at its end.")
	fmt.Fprintln(out, "Go floor: scripts/floorfn, the push's three HTTP exchanges and nothing else (no signing, parsing, record or log): the least any Go function doing this job costs here.")
}
