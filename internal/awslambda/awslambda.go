// Package awslambda runs ccc-enricher as an AWS Lambda function
// (provided.al2023, started with aws-lambda-go's lambda.Start). It adapts
// the platform's events to one http.Handler and runs scheduled jobs; it
// holds no business logic.
//
// # Events
//
// The handler from NewHandler takes the raw event and tells its kind by its
// shape, in this order:
//
//  1. SQS event: "Records" whose every "eventSource" is "aws:sqs", when
//     NewHandler was given a queue function. Each message body goes to the
//     queue function in turn; the reply is an events.SQSEventResponse whose
//     batchItemFailures name the messages that failed, so that only those
//     return to the queue (the event source mapping needs
//     FunctionResponseTypes: ReportBatchItemFailures, or SQS would take
//     the reply for a success of the whole batch). Messages not yet tried
//     when the invocation's deadline passes are reported failed, and so,
//     on a FIFO queue (".fifo"), is every message after the first failure,
//     to keep the group's order. The invocation itself succeeds. With
//     NewIntakeHandler, an event whose source queue (the last part of
//     eventSourceARN) is the intake queue goes instead to the intake
//     worker as one batch (see sqsIntake).
//  2. EventBridge scheduled event: "detail-type" is "Scheduled Event" and
//     "source" is "aws.events" or "aws.scheduler". It runs the job named by
//     the string detail.job, or platform.DefaultJob when there is none (an EventBridge
//     schedule's detail is {}), for the event's "time".
//  3. Job event: an object with a string "job" and no HTTP members, such as
//     {"job":"reconcile","time":"2026-01-02T03:10:00Z"}: the constant Input
//     of a schedule, an EventBridge Scheduler target (whose input template
//     may insert <aws.scheduler.scheduled-time>) or a manual
//     `aws lambda invoke`. "time" (RFC 3339) is optional and defaults to now.
//  4. Payload 2.0 ("version": "2.0"): a Function URL event when
//     requestContext.domainName is a *.lambda-url.* host, or when it has no
//     routeKey (aws-lambda-go's LambdaFunctionURLRequest has none); else an
//     HTTP API event. The two replies differ only in that the HTTP API
//     accepts multiValueHeaders, so a Function URL behind a custom host that
//     sends a routeKey still gets a valid reply.
//  5. Payload 1.0: a string "httpMethod" and a "version" that is absent or
//     "1.0", from a REST API or an HTTP API configured for payload 1.0.
//     Application Load Balancer events (requestContext.elb) are refused, and
//     so are API Gateway WebSocket events, which look like payload 1.0 but
//     have requestContext.eventType, connectionId and routeKey (only a
//     payload 2.0 event has a routeKey there).
//  6. The empty object {}: what EventBridge Scheduler sends to a target
//     without input. It runs platform.DefaultJob for now.
//
// Anything else is an error, which Lambda reports to the caller (API
// Gateway answers 502) or, for asynchronous invocations, retries and then
// sends to the on-failure destination: never a silent success.
//
// # Paths
//
// The handler sees the route path, without what API Gateway puts in front
// of it: the stage (an HTTP API on a named stage puts it in rawPath) or a
// custom domain's base path mapping (which appears in the REST path).
// The route template (REST resource, HTTP API routeKey) and its path
// parameters tell how many trailing segments of the path the route owns;
// without a template ($default route) a leading "/<stage>" is removed.
//
// # Requests and replies
//
// The conversion itself is aws-lambda-go-api-proxy's core package: request
// bodies are base64-decoded as flagged, multi-value query parameters and
// headers (REST), cookies and comma-joined headers (2.0) are restored,
// RemoteAddr is the source IP, and the request context is the invocation's
// (aws-lambda-go's lambdacontext, with its deadline). X-Request-Id is set
// from the gateway's request id when the client sent none. Replies are
// recorded with net/http's rules (the first status wins, 200 by default, a
// missing Content-Type is sniffed) and returned in the event's own shape,
// base64-encoded when the body is not UTF-8.
package awslambda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/ccc-enricher/ccc-enricher/internal/platform"
)

// NewHandler returns the handler for lambda.Start. It recognises API
// Gateway REST (payload 1.0), HTTP API (payload 2.0) and Function URL
// events and serves them with h, replying in the matching shape;
// EventBridge scheduled events and job events run jobs[name] (see the
// package documentation for how an event names its job); SQS events give
// each message body to queue, unless queue is nil; anything else is an
// error the platform sees.
func NewHandler(h http.Handler, jobs platform.Jobs, queue platform.Queue) func(ctx context.Context, event json.RawMessage) (any, error) {
	return newHandler(&dispatcher{h: h, jobs: jobs, queue: queue})
}

func newHandler(d *dispatcher) func(ctx context.Context, event json.RawMessage) (any, error) {
	return func(ctx context.Context, event json.RawMessage) (any, error) {
		resp, err := d.handle(ctx, event)
		if err != nil {
			// Lambda reports the error to the caller but logs nothing of
			// it; the message names the failure, never the event's values.
			slog.Default().WarnContext(ctx, "invocation failed", "request_id", requestID(ctx), "error", err.Error())
		}
		return resp, err
	}
}

type dispatcher struct {
	h      http.Handler
	jobs   platform.Jobs
	queue  platform.Queue
	intake *platform.Intake
}

// probe holds the members that tell events apart.
type probe struct {
	Version        string          `json:"version"`
	RouteKey       *string         `json:"routeKey"`
	HTTPMethod     string          `json:"httpMethod"`
	Source         string          `json:"source"`
	DetailType     string          `json:"detail-type"`
	Job            string          `json:"job"`
	RequestContext json.RawMessage `json:"requestContext"`
	Records        json.RawMessage `json:"Records"`
}

// serveFunc serves one kind of event.
type serveFunc func(ctx context.Context, event []byte) (any, error)

func (d *dispatcher) handle(ctx context.Context, event json.RawMessage) (any, error) {
	serve := d.route(event)
	if serve == nil {
		return nil, fmt.Errorf("unrecognized event: %s", platform.Describe(event))
	}
	return serve(ctx, event)
}

// route picks what serves event by its shape, in the order the package
// documentation gives, or returns nil when nothing does.
func (d *dispatcher) route(event []byte) serveFunc {
	var p probe
	if json.Unmarshal(event, &p) != nil {
		return nil
	}
	rc, ok := p.requestContext()
	switch {
	case !ok:
		return nil
	case isEmptyObject(event):
		return d.defaultJob
	case (d.queue != nil || d.intake != nil) && isSQS(p.Records):
		return d.sqs
	case p.DetailType == "Scheduled Event" && (p.Source == "aws.events" || p.Source == "aws.scheduler"):
		return d.scheduled
	case p.Job != "" && p.HTTPMethod == "" && p.RequestContext == nil && p.Version == "":
		return d.jobEvent
	}
	return d.httpRoute(p, rc)
}

// requestContext holds the members of requestContext that tell the HTTP
// events apart.
type requestContext struct {
	DomainName   string          `json:"domainName"`
	ELB          json.RawMessage `json:"elb"`
	EventType    string          `json:"eventType"`
	ConnectionID string          `json:"connectionId"`
	RouteKey     *string         `json:"routeKey"`
	HTTP         struct {
		Method string `json:"method"`
	} `json:"http"`
}

// requestContext decodes the event's requestContext, when it has one; ok
// is false when it is there but not an object.
func (p *probe) requestContext() (rc requestContext, ok bool) {
	if len(p.RequestContext) == 0 || string(p.RequestContext) == "null" {
		return rc, true
	}
	return rc, json.Unmarshal(p.RequestContext, &rc) == nil
}

// httpRoute picks what serves an API Gateway or Function URL event, or
// returns nil for any other event.
func (d *dispatcher) httpRoute(p probe, rc requestContext) serveFunc {
	switch {
	case rc.EventType != "" || rc.ConnectionID != "" || rc.RouteKey != nil && p.Version != "2.0":
		return nil // WebSocket
	case p.Version == "2.0" && rc.HTTP.Method != "":
		if isFunctionURL(rc.DomainName) || p.RouteKey == nil {
			return d.functionURL
		}
		return d.httpAPI
	case p.HTTPMethod != "" && (p.Version == "" || p.Version == "1.0") && len(rc.ELB) == 0:
		return d.rest
	}
	return nil
}

// isSQS reports whether records is a non-empty list of SQS messages.
func isSQS(records json.RawMessage) bool {
	var rs []struct {
		EventSource string `json:"eventSource"`
	}
	if len(records) == 0 || json.Unmarshal(records, &rs) != nil || len(rs) == 0 {
		return false
	}
	for _, r := range rs {
		if r.EventSource != "aws:sqs" {
			return false
		}
	}
	return true
}

// sqs gives each message of an SQS event to the queue function and reports
// the ones that failed.
func (d *dispatcher) sqs(ctx context.Context, event []byte) (any, error) {
	var ev events.SQSEvent
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, fmt.Errorf("SQS event: %w", err)
	}
	if d.fromIntake(&ev) {
		return d.sqsIntake(ctx, &ev), nil
	}
	// An empty list, not null: the reply says "no failures" explicitly.
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	failed := false
	for _, m := range ev.Records {
		var err error
		switch {
		case failed && strings.HasSuffix(m.EventSourceARN, ".fifo"):
			err = errors.New("not attempted: an earlier message of this FIFO batch failed")
		case ctx.Err() != nil:
			err = fmt.Errorf("not attempted: %w", context.Cause(ctx))
		case d.queue == nil:
			err = errors.New("not attempted: no queue function for this queue")
		default:
			err = d.queue(ctx, []byte(m.Body))
		}
		if err == nil {
			continue
		}
		failed = true
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		slog.Default().WarnContext(ctx, "queue message failed", "request_id", requestID(ctx), "message_id", m.MessageId,
			"queue", queueName(m.EventSourceARN), "receive_count", m.Attributes["ApproximateReceiveCount"], "error", err.Error())
	}
	return resp, nil
}

// queueName is the last part of a queue ARN, arn:aws:sqs:<region>:<account>:<name>.
func queueName(arn string) string {
	return arn[strings.LastIndexByte(arn, ':')+1:]
}

// isFunctionURL reports whether host is a Lambda function URL's,
// <url-id>.lambda-url.<region>.on.aws.
func isFunctionURL(host string) bool {
	return strings.Contains(host, ".lambda-url.")
}

// requestID returns the invocation's AWS request id for logs.
func requestID(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		return lc.AwsRequestID
	}
	return ""
}

// jobReply is the result of a successful job invocation.
type jobReply struct {
	Job       string    `json:"job"`
	Scheduled time.Time `json:"scheduled"`
}

// scheduled runs the job of an EventBridge scheduled event.
func (d *dispatcher) scheduled(ctx context.Context, event []byte) (any, error) {
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, fmt.Errorf("scheduled event: %w", err)
	}
	name := platform.DefaultJob
	var detail struct {
		Job string `json:"job"`
	}
	// A schedule's detail is {}; a rule that forwards another event's
	// detail may name the job there.
	if json.Unmarshal(ev.Detail, &detail) == nil && detail.Job != "" {
		name = detail.Job
	}
	at := ev.Time
	if at.IsZero() {
		at = time.Now()
	}
	return d.run(ctx, name, at)
}

// isEmptyObject reports whether event is {}, with nothing inside.
func isEmptyObject(event []byte) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal(event, &m) == nil && m != nil && len(m) == 0
}

// defaultJob runs platform.DefaultJob for an empty event.
func (d *dispatcher) defaultJob(ctx context.Context, _ []byte) (any, error) {
	return d.run(ctx, platform.DefaultJob, time.Now())
}

// jobEvent runs the job of a job event.
func (d *dispatcher) jobEvent(ctx context.Context, event []byte) (any, error) {
	var ev struct {
		Job  string `json:"job"`
		Time string `json:"time"`
	}
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, fmt.Errorf("job event: %w", err)
	}
	at := time.Now()
	if ev.Time != "" {
		t, err := time.Parse(time.RFC3339, ev.Time)
		if err != nil {
			return nil, fmt.Errorf("job event: time %q is not RFC 3339", ev.Time)
		}
		at = t
	}
	return d.run(ctx, ev.Job, at)
}

func (d *dispatcher) run(ctx context.Context, name string, at time.Time) (any, error) {
	job := d.jobs[name]
	if job == nil {
		return nil, fmt.Errorf("no job named %q", name)
	}
	if err := job(ctx, at); err != nil {
		return nil, fmt.Errorf("job %s for %s: %w", name, at.UTC().Format(time.RFC3339), err)
	}
	slog.Default().InfoContext(ctx, "job done", "request_id", requestID(ctx), "job", name, "scheduled", at.UTC().Format(time.RFC3339))
	return jobReply{Job: name, Scheduled: at.UTC()}, nil
}

// errNoStatus cannot happen with statusWriter in front of the proxy
// writers; it is checked so that a change there fails loudly.
var errNoStatus = errors.New("handler reply has no status")
