// Package scf runs ccc-enricher as a Tencent Cloud SCF event function with
// a Custom Runtime: the executable named bootstrap talks plain HTTP to the
// runtime API at SCF_RUNTIME_API:SCF_RUNTIME_API_PORT and needs nothing from
// scf-go-lib (which the module proxy refuses to serve).
//
// The protocol, as documented by Tencent for custom runtimes:
//
//	POST /runtime/init/ready          once, when initialisation is done
//	GET  /runtime/invocation/next     long poll; the body is the event, the
//	                                  headers request_id, memory_limit_in_mb
//	                                  and time_limit_in_ms describe it
//	POST /runtime/invocation/response the reply, for a successful invocation
//	POST /runtime/invocation/error    the failure, for a failed one
//
// Unlike AWS Lambda the request id is not part of the URLs: an instance runs
// one invocation at a time and the reply belongs to the last event fetched.
//
// Events are told apart by their shape:
//
//   - An API Gateway trigger event has a top-level httpMethod and a
//     requestContext object. It becomes an *http.Request served by the
//     handler; the recorded response is returned in the integrated-response
//     shape, so the API must have integrated response switched on. A
//     leading "/<stage>" that the gateway's default domain puts in the
//     path is removed (see routePath).
//   - A function URL event is the API Gateway event without requestContext
//     (and without isBase64Encoded and the *Parameters members): a
//     top-level httpMethod and a headers object. It is served the same
//     way and answered {"statusCode","headers","body"}.
//   - A timer trigger event has "Type": "Timer". It runs the job named by its
//     TriggerName, else the job named by its Message (the trigger's
//     argument), else platform.DefaultJob.
//   - A CMQ topic trigger event ({"Records":[{"CMQ":{…,"msgBody":…}}]}) or
//     a CKafka trigger event ({"Records":[{"Ckafka":{"topic","partition",
//     "offset","msgKey","msgBody"}}]}), when Serve was given a queue
//     function: each message body goes to it in turn. If any fails, the
//     invocation fails with errorType RecordsFailed and a message naming
//     each failed message (CMQ msgId; CKafka topic, partition and offset),
//     and the trigger retries the whole batch: messages that succeeded are
//     handled again, which the queue function must take (redrive does: a
//     record keeps its id). Messages not yet tried when the deadline
//     passes count as failed.
//   - Anything else is reported to /runtime/invocation/error, so that the
//     platform records a failure instead of a silent success.
//
// The package knows net/http and nothing of the handler behind it.
package scf

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/platform"
)

// Runtime API paths; the header names are spelled as Tencent's documentation
// spells them in its Chinese pages (HTTP header names are case-insensitive).
const (
	pathReady    = "/runtime/init/ready"
	pathNext     = "/runtime/invocation/next"
	pathResponse = "/runtime/invocation/response"
	pathError    = "/runtime/invocation/error"

	headerRequestID   = "request_id"
	headerMemoryLimit = "memory_limit_in_mb"
	headerTimeLimit   = "time_limit_in_ms"
)

// replyTimeout bounds the posting of one reply; the runtime API is local and
// answers at once, so a reply that takes longer means the runtime is gone.
const replyTimeout = 10 * time.Second

type ctxKey struct{}

// invocation is what the runtime API says about one event.
type invocation struct {
	requestID     string
	memoryLimitMB int
	timeLimit     time.Duration
}

// RequestID returns the SCF request id of the invocation that ctx belongs
// to, or "" outside an invocation. Logs add it as request_id.
func RequestID(ctx context.Context) string {
	inv, _ := ctx.Value(ctxKey{}).(*invocation)
	if inv == nil {
		return ""
	}
	return inv.requestID
}

// Serve runs the SCF Custom Runtime loop against the runtime API at addr
// ("host:port" from SCF_RUNTIME_API and SCF_RUNTIME_API_PORT): it reports
// ready once, then forever fetches the next event, dispatches it and posts
// the reply or the error. API Gateway events are served with h; timer
// events run jobs; CMQ and CKafka trigger events give each message body to
// queue, unless it is nil (see the package documentation).
//
// Each invocation's context has the deadline now + time_limit_in_ms and
// carries the request id (see RequestID). Serve returns nil when ctx is
// cancelled, and an error when the runtime API fails or goes away: the
// process should then exit so that SCF replaces the instance.
func Serve(ctx context.Context, addr string, h http.Handler, jobs platform.Jobs, queue platform.Queue) error {
	return ServeIntake(ctx, addr, h, jobs, queue, nil)
}

// ServeIntake is Serve with queued intake: CKafka and CMQ trigger events
// whose topic or queue is in.Source go to in.Process as one batch; other
// trigger events go to queue as before.
func ServeIntake(ctx context.Context, addr string, h http.Handler, jobs platform.Jobs, queue platform.Queue, in *platform.Intake) error {
	if addr == "" {
		return errors.New("scf: no runtime API address")
	}
	rt := &runtimeAPI{base: "http://" + addr, client: &http.Client{}}
	log := slog.Default()
	if err := rt.post(ctx, pathReady, []byte(" ")); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("scf: report ready: %w", err)
	}
	d := &dispatcher{h: h, jobs: jobs, queue: queue, intake: in, log: log}
	for {
		event, inv, err := rt.next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("scf: next invocation: %w", err)
		}
		ictx := context.WithValue(ctx, ctxKey{}, inv)
		cancel := context.CancelFunc(func() {})
		if inv.timeLimit > 0 {
			ictx, cancel = context.WithDeadline(ictx, time.Now().Add(inv.timeLimit))
		}
		reply, err := d.dispatch(ictx, event)
		cancel()

		// The reply is posted even when ctx was cancelled meanwhile: the
		// work is done and the platform should learn its outcome.
		pctx, pcancel := context.WithTimeout(context.WithoutCancel(ctx), replyTimeout)
		if err != nil {
			log.WarnContext(ctx, "invocation failed", "request_id", inv.requestID, "error", err.Error())
			err = rt.post(pctx, pathError, errorBody(err))
		} else {
			err = rt.post(pctx, pathResponse, reply)
		}
		pcancel()
		if err != nil {
			return fmt.Errorf("scf: reply to %s: %w", inv.requestID, err)
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// runtimeAPI is a client of the SCF runtime API.
type runtimeAPI struct {
	base   string
	client *http.Client
}

// next long-polls for the next event.
func (rt *runtimeAPI) next(ctx context.Context) ([]byte, *invocation, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rt.base+pathNext, nil)
	if err != nil {
		return nil, nil, err
	}
	resp, err := rt.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("GET %s: %s", pathNext, resp.Status)
	}
	inv := &invocation{requestID: resp.Header.Get(headerRequestID)}
	// Malformed limits are not worth failing the event for: without a time
	// limit the handler simply runs without a deadline of its own and the
	// platform still stops it at the configured timeout.
	if ms, err := strconv.ParseInt(resp.Header.Get(headerTimeLimit), 10, 64); err == nil && ms > 0 {
		inv.timeLimit = time.Duration(ms) * time.Millisecond
	}
	if mb, err := strconv.Atoi(resp.Header.Get(headerMemoryLimit)); err == nil {
		inv.memoryLimitMB = mb
	}
	return body, inv, nil
}

// post sends body to one of the runtime API's POST endpoints.
func (rt *runtimeAPI) post(ctx context.Context, path string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rt.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := rt.client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %s", path, resp.Status)
	}
	return nil
}

// errorBody is what /runtime/invocation/error receives. Tencent documents no
// schema for it; this is the shape AWS Lambda uses, which the SCF console
// shows as text either way.
func errorBody(err error) []byte {
	typ := "InvocationError"
	var ee *eventError
	if errors.As(err, &ee) {
		typ = ee.kind
	}
	b, _ := json.Marshal(struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}{typ, err.Error()})
	return b
}

// eventError names the kind of a failed invocation for errorBody.
type eventError struct {
	kind string
	err  error
}

func (e *eventError) Error() string { return e.err.Error() }
func (e *eventError) Unwrap() error { return e.err }

// dispatcher routes one event to the handler or to a job.
type dispatcher struct {
	h      http.Handler
	jobs   platform.Jobs
	queue  platform.Queue
	intake *platform.Intake
	log    *slog.Logger
}

// dispatch serves one event and returns the reply for the runtime API. A
// panic below it becomes the invocation's error, so that one bad event does
// not take the instance down with it.
func (d *dispatcher) dispatch(ctx context.Context, event []byte) (reply []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			reply, err = nil, &eventError{kind: "Panic", err: fmt.Errorf("panic: %v", p)}
		}
	}()
	var probe struct {
		Type           string          `json:"Type"`
		HTTPMethod     string          `json:"httpMethod"`
		RequestContext json.RawMessage `json:"requestContext"`
		Headers        json.RawMessage `json:"headers"`
		Records        json.RawMessage `json:"Records"`
	}
	if err := json.Unmarshal(event, &probe); err != nil {
		return nil, &eventError{kind: "UnrecognizedEvent", err: errors.New("event is not a JSON object of a known shape")}
	}
	switch {
	case probe.HTTPMethod != "" && isObject(probe.RequestContext):
		return d.serveAPIGateway(ctx, event)
	case probe.HTTPMethod != "" && isAbsent(probe.RequestContext) && isObject(probe.Headers):
		return d.serveFunctionURL(ctx, event)
	case probe.Type == "Timer":
		return d.runTimer(ctx, event)
	case (d.queue != nil || d.intake != nil) && len(probe.Records) > 0:
		if msgs, ok := queueMessages(probe.Records); ok && d.fromIntake(msgs) {
			return d.runIntake(ctx, msgs)
		} else if ok {
			return d.runQueue(ctx, msgs)
		}
	}
	return nil, &eventError{kind: "UnrecognizedEvent", err: fmt.Errorf("unrecognized event: %s", platform.Describe(event))}
}

// serveAPIGateway serves an API Gateway trigger event with the handler.
func (d *dispatcher) serveAPIGateway(ctx context.Context, event []byte) ([]byte, error) {
	var ev apigwEvent
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, &eventError{kind: "BadEvent", err: fmt.Errorf("API Gateway event: %w", err)}
	}
	r, err := ev.request(ctx)
	if err != nil {
		return nil, &eventError{kind: "BadEvent", err: fmt.Errorf("API Gateway event: %w", err)}
	}
	w := newRecorder()
	d.h.ServeHTTP(w, r)
	return json.Marshal(w.apigwResponse())
}

// timerEvent is the timer trigger's event, for example
// {"Type":"Timer","TriggerName":"reconcile","Time":"2019-08-17T05:26:00Z","Message":""}.
type timerEvent struct {
	Type        string `json:"Type"`
	TriggerName string `json:"TriggerName"`
	Time        string `json:"Time"`
	Message     string `json:"Message"`
}

// runTimer runs the job that a timer event names.
func (d *dispatcher) runTimer(ctx context.Context, event []byte) ([]byte, error) {
	var ev timerEvent
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, &eventError{kind: "BadEvent", err: fmt.Errorf("timer event: %w", err)}
	}
	name, job := d.job(ev)
	if job == nil {
		return nil, &eventError{kind: "UnknownJob", err: fmt.Errorf("timer %q: no job named %q, %q or %q", ev.TriggerName, ev.TriggerName, ev.Message, platform.DefaultJob)}
	}
	scheduled, err := time.Parse(time.RFC3339, ev.Time)
	if err != nil {
		// A job still runs without the time: it then works on the slot
		// that is due now, which is what the timer meant.
		scheduled = time.Now()
		d.log.WarnContext(ctx, "timer event without a valid Time; using now", "request_id", RequestID(ctx), "trigger", ev.TriggerName)
	}
	if err := job(ctx, scheduled); err != nil {
		return nil, &eventError{kind: "JobFailed", err: fmt.Errorf("job %s for %s: %w", name, scheduled.UTC().Format(time.RFC3339), err)}
	}
	d.log.InfoContext(ctx, "job done", "request_id", RequestID(ctx), "job", name, "scheduled", scheduled.UTC().Format(time.RFC3339))
	return json.Marshal(struct {
		Job       string `json:"job"`
		Scheduled string `json:"scheduled"`
	}{name, scheduled.UTC().Format(time.RFC3339)})
}

// job picks the job for a timer event: by trigger name, then by message
// (the trigger's argument), then the default.
func (d *dispatcher) job(ev timerEvent) (string, platform.Job) {
	for _, name := range []string{ev.TriggerName, ev.Message, platform.DefaultJob} {
		if job := d.jobs[name]; name != "" && job != nil {
			return name, job
		}
	}
	return "", nil
}

// isObject reports whether raw is a JSON object.
func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	return len(raw) > 0 && raw[0] == '{'
}
