// Command coldstart measures how long a bootstrap executable takes from
// process start to serving, the way each platform sees it. scripts/coldstart.sh
// builds bootstrap and runs it; docs/PERFORMANCE.md explains the method.
//
//	go run ./scripts/coldstart -bootstrap dist/build/amd64/bootstrap -n 20
//
// Every run starts a new process, configured as in production (basic push
// authentication, API keys, a signed webhook; nothing is contacted during
// initialisation), and measures from just before exec:
//
//   - lambda: a Lambda Runtime API on loopback sees the first
//     GET /2018-06-01/runtime/invocation/next, which is where Lambda's
//     "Init Duration" ends, then the response to a GET /healthz HTTP API
//     event (init plus a first invocation);
//   - scf: the SCF runtime API emulator (scf/scftest) sees
//     POST /runtime/init/ready, then the reply to an API Gateway /healthz
//     event;
//   - local: the first GET /healthz answered 200 by the local server,
//     polling every 200 µs on fresh connections;
//   - rie: aws-lambda-rie's own "INIT REPORT(durationMs: …)" for the first
//     invocation, as a cross-check of lambda with AWS's emulator (RIE starts
//     the process when the first invocation arrives).
//
// One run of each mode is made first and not counted, so that the
// executable is in the page cache, as it is on a platform's warm host.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/loopback"
	"github.com/ccc-enricher/ccc-enricher/internal/scf/scftest"
	"github.com/ccc-enricher/ccc-enricher/scripts/internal/machine"
)

// productionEnv configures bootstrap as a deployment would, without any
// setting that makes initialisation call out (TENCENTCLOUD_SECRET_ARN,
// TENCENTCLOUD_ROLE_ARN, CCC_ENDPOINT=emulator).
var productionEnv = []string{
	"PUSH_AUTH=basic", "PUSH_BASIC_USERNAME=ccc", "PUSH_BASIC_PASSWORD=coldstart-password",
	"CCC_SDK_APP_IDS=1400000000",
	"TENCENTCLOUD_SECRET_ID=AKIDcoldstartEXAMPLE00000000000000", "TENCENTCLOUD_SECRET_KEY=coldstartSecretKeyEXAMPLE000000000",
	"SINK=webhook", "WEBHOOK_URL=https://example.com/ccc-records",
	"WEBHOOK_SECRET=whsec_Y29sZHN0YXJ0LXdlYmhvb2stc2lnbmluZy1rZXkh",
	"LOG_LEVEL=info",
}

const scfHealthz = `{"requestContext":{"serviceId":"service-0ccc0001","path":"/healthz","httpMethod":"GET","requestId":"cold-1","identity":{},"sourceIp":"203.0.113.9","stage":"release"},"headers":{"host":"api.example.com"},"path":"/healthz","queryString":{},"httpMethod":"GET"}`

const lambdaHealthz = `{"version":"2.0","routeKey":"GET /healthz","rawPath":"/healthz","rawQueryString":"","headers":{"host":"a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com"},"requestContext":{"domainName":"a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com","http":{"method":"GET","path":"/healthz","protocol":"HTTP/1.1","sourceIp":"198.51.100.13","userAgent":"probe"},"requestId":"cold-1","routeKey":"GET /healthz","stage":"$default"},"isBase64Encoded":false}`

func main() {
	bin := flag.String("bootstrap", "", "the bootstrap executable (required)")
	n := flag.Int("n", 20, "runs per mode")
	modes := flag.String("modes", "lambda,scf,local,rie", "comma-separated modes")
	rie := flag.String("rie", "", "aws-lambda-rie (default: on PATH or in $(go env GOPATH)/bin)")
	flag.Parse()
	if *bin == "" || *n < 1 {
		flag.Usage()
		os.Exit(2)
	}
	abs, err := filepath.Abs(*bin)
	if err != nil {
		fatal(err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		fatal(err)
	}
	fmt.Printf("cold start of %s (%.1f MB), %d runs per mode, on %s, %d CPUs\n\n", *bin, float64(fi.Size())/1e6, *n, machine.CPUModel(), runtime.NumCPU())
	fmt.Println("| mode | from exec to | median ms | p90 ms | min ms | max ms |")
	fmt.Println("|---|---|---:|---:|---:|---:|")
	for _, m := range strings.Split(*modes, ",") {
		var measure func() ([]time.Duration, error)
		var labels []string
		switch strings.TrimSpace(m) {
		case "lambda":
			measure, labels = func() ([]time.Duration, error) { return lambda(abs) }, []string{"first /runtime/invocation/next (Init Duration)", "first response (init + GET /healthz)"}
		case "scf":
			measure, labels = func() ([]time.Duration, error) { return scf(abs) }, []string{"POST /runtime/init/ready", "first reply (init + GET /healthz)"}
		case "local":
			measure, labels = func() ([]time.Duration, error) { return local(abs) }, []string{"first GET /healthz answered 200"}
		case "rie":
			r, err := rieBinary(*rie)
			if err != nil {
				fmt.Fprintf(os.Stderr, "coldstart: rie: %v; skipped\n", err)
				continue
			}
			measure, labels = func() ([]time.Duration, error) { return rieInit(r, abs) }, []string{"INIT REPORT durationMs (aws-lambda-rie)"}
		default:
			fatal(fmt.Errorf("unknown mode %q", m))
		}
		if _, err := measure(); err != nil { // warm-up, not counted
			fatal(fmt.Errorf("%s: %w", m, err))
		}
		samples := make([][]time.Duration, len(labels))
		for range *n {
			d, err := measure()
			if err != nil {
				fatal(fmt.Errorf("%s: %w", m, err))
			}
			for i := range labels {
				samples[i] = append(samples[i], d[i])
			}
		}
		for i, l := range labels {
			s := samples[i]
			slices.Sort(s)
			fmt.Printf("| %s | %s | %.2f | %.2f | %.2f | %.2f |\n", m, l, ms(s[(len(s)-1)/2]), ms(s[int(0.9*float64(len(s)-1)+0.5)]), ms(s[0]), ms(s[len(s)-1]))
		}
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "coldstart:", err)
	os.Exit(1)
}

// start runs bin with the production environment and extra variables,
// returning the time just before exec.
func start(bin string, extra ...string) (*exec.Cmd, time.Time, error) {
	cmd := exec.Command(bin)
	cmd.Env = append(append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir()}, productionEnv...), extra...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	t0 := time.Now()
	err := cmd.Start()
	return cmd, t0, err
}

func stop(cmd *exec.Cmd) {
	cmd.Process.Kill()
	cmd.Wait()
}

// lambda serves the Lambda Runtime API for one invocation.
func lambda(bin string) ([]time.Duration, error) {
	var once sync.Once
	next, resp := make(chan time.Time, 1), make(chan time.Time, 1)
	served := false
	var mu sync.Mutex
	api, err := loopback.Listen(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		switch {
		case r.Method == "GET" && r.URL.Path == "/2018-06-01/runtime/invocation/next":
			once.Do(func() { next <- now })
			mu.Lock()
			first := !served
			served = true
			mu.Unlock()
			if !first {
				<-r.Context().Done() // no second event: the process is killed
				return
			}
			h := w.Header()
			h.Set("Lambda-Runtime-Aws-Request-Id", "cold-start-1")
			h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(30*time.Second).UnixMilli(), 10))
			h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:eu-west-1:123456789012:function:ccc-enricher")
			h.Set("Content-Type", "application/json")
			io.WriteString(w, lambdaHealthz)
		case r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/response"):
			io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusAccepted)
			resp <- now
		default:
			b, _ := io.ReadAll(r.Body)
			w.WriteHeader(http.StatusAccepted)
			fmt.Fprintf(os.Stderr, "coldstart: unexpected %s %s: %s\n", r.Method, r.URL.Path, b)
		}
	}))
	if err != nil {
		return nil, err
	}
	defer api.Close()
	cmd, t0, err := start(bin, "AWS_LAMBDA_RUNTIME_API="+api.Addr, "AWS_LAMBDA_FUNCTION_NAME=ccc-enricher",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128", "AWS_REGION=eu-west-1", "_HANDLER=bootstrap")
	if err != nil {
		return nil, err
	}
	defer stop(cmd)
	var d [2]time.Duration
	for i, c := range []chan time.Time{next, resp} {
		select {
		case t := <-c:
			d[i] = t.Sub(t0)
		case <-time.After(30 * time.Second):
			return nil, errors.New("no call from the runtime within 30 s")
		}
	}
	return d[:], nil
}

func scf(bin string) ([]time.Duration, error) {
	emu := scftest.NewServer()
	defer emu.Close()
	cmd, t0, err := start(bin, "SCF_RUNTIME_API="+emu.Host, "SCF_RUNTIME_API_PORT="+emu.Port)
	if err != nil {
		return nil, err
	}
	defer stop(cmd)
	var d []time.Duration
	select {
	case <-emu.Ready():
		d = append(d, time.Since(t0))
	case <-time.After(30 * time.Second):
		return nil, errors.New("no init/ready within 30 s")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := emu.Invoke(ctx, []byte(scfHealthz))
	if err != nil {
		return nil, err
	}
	d = append(d, time.Since(t0))
	if res.Error || !strings.Contains(string(res.Body), `"statusCode":200`) {
		return nil, fmt.Errorf("healthz reply %s", res.Body)
	}
	// The measure counts only for a runtime that keeps the protocol.
	if err := emu.Err(); err != nil {
		return nil, fmt.Errorf("runtime API protocol violations:\n%w", err)
	}
	return d, nil
}

func local(bin string) ([]time.Duration, error) {
	port, err := loopback.FreePort()
	if err != nil {
		return nil, err
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Second}
	url := fmt.Sprintf("http://127.0.0.1:%d/healthz", port)
	cmd, t0, err := start(bin, "PORT="+strconv.Itoa(port))
	if err != nil {
		return nil, err
	}
	defer stop(cmd)
	for time.Since(t0) < 30*time.Second {
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return []time.Duration{time.Since(t0)}, nil
			}
		}
		time.Sleep(200 * time.Microsecond)
	}
	return nil, errors.New("no /healthz within 30 s")
}

var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

func rieBinary(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p, nil
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err != nil {
		return "", err
	}
	p := filepath.Join(strings.TrimSpace(string(out)), "bin", "aws-lambda-rie")
	if _, err := os.Stat(p); err != nil {
		return "", err
	}
	return p, nil
}

// rieInit runs bootstrap under aws-lambda-rie for one invocation and
// returns the init duration RIE reports.
func rieInit(rie, bin string) ([]time.Duration, error) {
	port, err := loopback.FreePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", addr, bin)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir(), "AWS_REGION=eu-west-1"}, productionEnv...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer stop(cmd)
	found := make(chan time.Duration, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := initReport.FindStringSubmatch(sc.Text()); m != nil {
				f, _ := strconv.ParseFloat(m[1], 64)
				select {
				case found <- time.Duration(f * float64(time.Millisecond)):
				default:
				}
			}
		}
	}()
	defer pw.Close()
	url := "http://" + addr + "/2015-03-31/functions/function/invocations"
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Post(url, "application/json", strings.NewReader(lambdaHealthz))
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			return nil, err
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case d := <-found:
		return []time.Duration{d}, nil
	case <-time.After(10 * time.Second):
		return nil, errors.New("no INIT REPORT from aws-lambda-rie")
	}
}
