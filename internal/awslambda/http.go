package awslambda

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
)

// rest serves a payload 1.0 event (REST API, or HTTP API with payload 1.0).
func (d *dispatcher) rest(ctx context.Context, event []byte) (any, error) {
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, fmt.Errorf("API Gateway payload 1.0 event: %w", err)
	}
	ev.Path = routePath(ev.Path, ev.Resource, ev.PathParameters, ev.RequestContext.Stage)
	if err := decodeBody(&ev.Body, &ev.IsBase64Encoded); err != nil {
		return nil, fmt.Errorf("API Gateway payload 1.0 event: %w", err)
	}
	if err := checkTarget(ev.HTTPMethod, ev.RequestContext.DomainName, ev.Path, ""); err != nil {
		return nil, fmt.Errorf("API Gateway payload 1.0 event: %w", err)
	}
	var acc core.RequestAccessor
	r, err := acc.EventToRequestWithContext(ctx, ev)
	if err != nil {
		return nil, fmt.Errorf("API Gateway payload 1.0 event: %w", err)
	}
	finishRequest(r, ev.RequestContext.RequestID)
	w := core.NewProxyResponseWriter()
	serve(d.h, w, r)
	resp, err := w.GetProxyResponse()
	if err != nil {
		return nil, errNoStatus
	}
	return resp, nil
}

// httpAPI serves an HTTP API payload 2.0 event.
func (d *dispatcher) httpAPI(ctx context.Context, event []byte) (any, error) {
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, fmt.Errorf("HTTP API event: %w", err)
	}
	return d.serveV2(ctx, ev, "HTTP API")
}

// functionURL serves a Lambda Function URL event. Its request is the HTTP
// API 2.0 one without route and stage, so it is converted as one.
func (d *dispatcher) functionURL(ctx context.Context, event []byte) (any, error) {
	var ev events.LambdaFunctionURLRequest
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, fmt.Errorf("function URL event: %w", err)
	}
	rc := ev.RequestContext
	v2 := events.APIGatewayV2HTTPRequest{
		Version:               ev.Version,
		RawPath:               ev.RawPath,
		RawQueryString:        ev.RawQueryString,
		Cookies:               ev.Cookies,
		Headers:               ev.Headers,
		QueryStringParameters: ev.QueryStringParameters,
		Body:                  ev.Body,
		IsBase64Encoded:       ev.IsBase64Encoded,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			AccountID:    rc.AccountID,
			RequestID:    rc.RequestID,
			APIID:        rc.APIID,
			DomainName:   rc.DomainName,
			DomainPrefix: rc.DomainPrefix,
			Time:         rc.Time,
			TimeEpoch:    rc.TimeEpoch,
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    rc.HTTP.Method,
				Path:      rc.HTTP.Path,
				Protocol:  rc.HTTP.Protocol,
				SourceIP:  rc.HTTP.SourceIP,
				UserAgent: rc.HTTP.UserAgent,
			},
		},
	}
	resp, err := d.serveV2(ctx, v2, "function URL")
	if err != nil {
		return nil, err
	}
	r := resp.(events.APIGatewayV2HTTPResponse)
	return events.LambdaFunctionURLResponse{
		StatusCode:      r.StatusCode,
		Headers:         r.Headers,
		Body:            r.Body,
		IsBase64Encoded: r.IsBase64Encoded,
		Cookies:         r.Cookies,
	}, nil
}

func (d *dispatcher) serveV2(ctx context.Context, ev events.APIGatewayV2HTTPRequest, kind string) (any, error) {
	path := ev.RawPath
	if path == "" {
		path = ev.RequestContext.HTTP.Path
	}
	template := ""
	if _, t, ok := strings.Cut(ev.RouteKey, " "); ok {
		template = t // "POST /sessions/{id}/enrich"; "$default" has none
	}
	ev.RawPath = routePath(path, template, ev.PathParameters, ev.RequestContext.Stage)
	if err := decodeBody(&ev.Body, &ev.IsBase64Encoded); err != nil {
		return nil, fmt.Errorf("%s event: %w", kind, err)
	}
	if err := checkTarget(ev.RequestContext.HTTP.Method, ev.RequestContext.DomainName, ev.RawPath, ev.RawQueryString); err != nil {
		return nil, fmt.Errorf("%s event: %w", kind, err)
	}
	var acc core.RequestAccessorV2
	r, err := acc.EventToRequestWithContext(ctx, ev)
	if err != nil {
		return nil, fmt.Errorf("%s event: %w", kind, err)
	}
	finishRequest(r, ev.RequestContext.RequestID)
	w := core.NewProxyResponseWriterV2()
	serve(d.h, w, r)
	resp, err := w.GetProxyResponse()
	if err != nil {
		return nil, errNoStatus
	}
	return resp, nil
}

// decodeBody decodes a base64 body in place. The proxy would do it too, but
// would also log the failure with the standard logger.
func decodeBody(body *string, isBase64 *bool) error {
	if !*isBase64 {
		return nil
	}
	b, err := base64.StdEncoding.DecodeString(*body)
	if err != nil {
		return fmt.Errorf("body: %w", err)
	}
	*body, *isBase64 = string(b), false
	return nil
}

// checkTarget rejects what the proxy's conversion would fail on, before it
// prints its own diagnostics to standard output (where the stdout sink
// writes records).
func checkTarget(method, host, path, rawQuery string) error {
	if !validMethod(method) {
		return fmt.Errorf("method %q is not an HTTP method token", method)
	}
	u := "https://" + host + path
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	if !strings.HasPrefix(path, "/") {
		return fmt.Errorf("path %q is not absolute", path)
	}
	if _, err := url.Parse(u); err != nil {
		return fmt.Errorf("request URL: %w", err)
	}
	return nil
}

// validMethod reports whether m is an RFC 9110 token, as net/http requires.
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, c := range m {
		if c > 0x7e || c <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, c) {
			return false
		}
	}
	return true
}

// finishRequest completes what the proxy leaves out.
func finishRequest(r *http.Request, gatewayRequestID string) {
	if r.Host == "" {
		r.Host = r.Header.Get("Host")
	}
	if r.Header.Get("X-Request-Id") == "" && gatewayRequestID != "" {
		r.Header.Set("X-Request-Id", gatewayRequestID)
	}
}

// serve runs h with net/http's status rules in front of the proxy's
// writers, which let a late WriteHeader override the status and refuse a
// reply that wrote nothing.
func serve(h http.Handler, w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w}
	h.ServeHTTP(sw, r)
	sw.WriteHeader(http.StatusOK)
}

type statusWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *statusWriter) WriteHeader(code int) {
	if w.wrote || code < 200 {
		return
	}
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the proxy's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// routePath returns the path the handler routes on: path without whatever
// API Gateway put in front of the route (see the package documentation).
// template is the route's path template ("/sessions/{id}/enrich",
// "/{proxy+}"), or "" when there is none.
func routePath(path, template string, params map[string]string, stage string) string {
	if path == "" {
		path = "/"
	}
	if n, ok := templateSegments(template, params); ok {
		trailing := len(path) > 1 && strings.HasSuffix(path, "/")
		segs := strings.Split(strings.Trim(path, "/"), "/")
		if strings.Trim(path, "/") == "" {
			segs = nil
		}
		if n <= len(segs) {
			if n == 0 {
				return "/"
			}
			p := "/" + strings.Join(segs[len(segs)-n:], "/")
			if trailing {
				p += "/"
			}
			return p
		}
	}
	if stage != "" && stage != "$default" {
		prefix := "/" + stage
		if path == prefix {
			return "/"
		}
		if strings.HasPrefix(path, prefix+"/") {
			return path[len(prefix):]
		}
	}
	return path
}

// templateSegments counts the path segments that a route template spans,
// expanding a greedy {name+} parameter by its value; ok is false when the
// template cannot tell (none, $default, or a greedy value missing).
func templateSegments(template string, params map[string]string) (n int, ok bool) {
	if !strings.HasPrefix(template, "/") {
		return 0, false
	}
	t := strings.Trim(template, "/")
	if t == "" {
		return 0, true
	}
	for _, seg := range strings.Split(t, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "+}") {
			v := strings.Trim(params[seg[1:len(seg)-2]], "/")
			if v == "" {
				return 0, false
			}
			n += strings.Count(v, "/") + 1
			continue
		}
		n++
	}
	return n, true
}
