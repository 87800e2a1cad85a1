package scf

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// apigwEvent is the part of Tencent API Gateway's trigger event that makes
// the HTTP request. Routing uses the top-level httpMethod and path: the
// requestContext copies hold the API's configured method (often ANY) and
// path template instead.
type apigwEvent struct {
	HTTPMethod      string      `json:"httpMethod"`
	Path            string      `json:"path"`
	Headers         params      `json:"headers"`
	QueryString     params      `json:"queryString"`
	Body            string      `json:"body"`
	IsBase64Encoded bool        `json:"isBase64Encoded"`
	RequestContext  apigwReqCtx `json:"requestContext"`
}

type apigwReqCtx struct {
	Path      string `json:"path"` // the configured path, "/sessions/{id}/enrich"
	ServiceID string `json:"serviceId"`
	RequestID string `json:"requestId"`
	SourceIP  string `json:"sourceIp"`
	Stage     string `json:"stage"`
}

// param is one query parameter or header value. Bare marks a query key
// that came without a value (?key), which API Gateway reports as true.
type param struct {
	Key, Value string
	Bare       bool
}

// params is a JSON object whose members are a string, the boolean true, or
// an array of those: API Gateway reports ?a=b&a=c as {"a":["b","c"]} and
// ?k as {"k":true}. Numbers are taken as their text. false and null carry
// no value and are dropped, as are members with an empty name. Members are kept sorted by key, values in order.
type params []param

func (p *params) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		if k != "" { // names nothing, in a query as in headers
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := make(params, 0, len(m))
	for _, k := range keys {
		raw := bytes.TrimSpace(m[k])
		if len(raw) > 0 && raw[0] == '[' {
			var items []json.RawMessage
			if err := json.Unmarshal(raw, &items); err != nil {
				return fmt.Errorf("%q: %w", k, err)
			}
			for _, item := range items {
				v, ok, err := scalar(item)
				if err != nil {
					return fmt.Errorf("%q: %w", k, err)
				}
				if ok {
					out = append(out, param{Key: k, Value: v.Value, Bare: v.Bare})
				}
			}
			continue
		}
		v, ok, err := scalar(raw)
		if err != nil {
			return fmt.Errorf("%q: %w", k, err)
		}
		if ok {
			out = append(out, param{Key: k, Value: v.Value, Bare: v.Bare})
		}
	}
	*p = out
	return nil
}

// scalar decodes one value of a params member; ok is false for values that
// carry nothing (false, null).
func scalar(raw json.RawMessage) (v param, ok bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return param{}, false, errors.New("empty value")
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return param{}, false, err
		}
		return param{Value: s}, true, nil
	case 't', 'f', 'n':
		var b *bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return param{}, false, err
		}
		if b != nil && *b {
			return param{Bare: true}, true, nil
		}
		return param{}, false, nil
	case '{', '[':
		return param{}, false, errors.New("want a string, a boolean or a number")
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return param{}, false, err
	}
	return param{Value: n.String()}, true, nil
}

// encode renders the parameters as a URL query: bare keys without "=".
func (p params) encode() string {
	var b strings.Builder
	for i, q := range p {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(q.Key))
		if !q.Bare {
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(q.Value))
		}
	}
	return b.String()
}

// request builds the *http.Request that the event describes, with ctx.
func (ev *apigwEvent) request(ctx context.Context) (*http.Request, error) {
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
	}
	path := routePath(ev.Path, ev.RequestContext)
	if path == "" {
		path = "/"
	}
	u, err := url.Parse(path)
	if err != nil || !strings.HasPrefix(path, "/") || u.Host != "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("path %q is not an absolute path", path)
	}
	u.RawQuery = ev.QueryString.encode()
	r, err := http.NewRequestWithContext(ctx, ev.HTTPMethod, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("method %q: %w", ev.HTTPMethod, err)
	}
	r.RequestURI = u.RequestURI()
	for _, h := range ev.Headers {
		switch strings.ToLower(h.Key) {
		case "host":
			r.Host = h.Value
		case "content-length":
			// The length is the decoded body's; a base64 body arrives
			// with the length of its encoding.
		default:
			r.Header.Add(h.Key, h.Value)
		}
	}
	// RemoteAddr is the bare client address, as aws-lambda-go-api-proxy
	// sets it for AWS: the gateway does not report the client's port.
	r.RemoteAddr = ev.RequestContext.SourceIP
	if r.Header.Get("X-Request-Id") == "" && ev.RequestContext.RequestID != "" {
		r.Header.Set("X-Request-Id", ev.RequestContext.RequestID)
	}
	return r, nil
}

// stages are the environments an API Gateway service publishes to, as the
// trigger's parameters.environment documents them.
var stages = []string{"release", "test", "prepub"}

// routePath returns the path the handler routes on. Through the gateway's
// default domain the path begins with the stage ("/release/push"), as an
// AWS REST API's does; a first segment that names the event's stage or a
// documented one is removed, unless the API's configured path
// (requestContext.path) begins with the same segment: then it belongs to
// the route.
func routePath(path string, rc apigwReqCtx) string {
	rest, ok := strings.CutPrefix(path, "/")
	if !ok {
		return path
	}
	seg, rest, _ := strings.Cut(rest, "/")
	if seg == "" || seg != rc.Stage && !slices.Contains(stages, seg) {
		return path
	}
	if first, _, _ := strings.Cut(strings.TrimPrefix(rc.Path, "/"), "/"); first == seg {
		return path
	}
	return "/" + rest
}

// apigwResponse is the integrated-response reply: single-valued headers,
// and a body that is base64 when it is not UTF-8 text.
type apigwResponse struct {
	IsBase64Encoded bool              `json:"isBase64Encoded"`
	StatusCode      int               `json:"statusCode"`
	Headers         map[string]string `json:"headers"`
	Body            string            `json:"body"`
}

// recorder is the http.ResponseWriter behind an API Gateway event. It keeps
// net/http's rules that matter to a handler: the first WriteHeader wins, a
// Write without one means 200, and a missing Content-Type is sniffed.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: make(http.Header)} }

func (w *recorder) Header() http.Header { return w.header }

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
}

func (w *recorder) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(b)
}

func (w *recorder) apigwResponse() apigwResponse {
	status := w.status
	if status == 0 {
		status = http.StatusOK
	}
	body := w.body.Bytes()
	if _, set := w.header["Content-Type"]; !set && len(body) > 0 {
		w.header.Set("Content-Type", http.DetectContentType(body))
	}
	resp := apigwResponse{StatusCode: status, Headers: make(map[string]string, len(w.header))}
	for k, vs := range w.header {
		if len(vs) > 0 {
			// The reply has one value per header; a comma-joined list is
			// the HTTP equivalent for every header but Set-Cookie.
			resp.Headers[k] = strings.Join(vs, ", ")
		}
	}
	if utf8.Valid(body) {
		resp.Body = string(body)
	} else {
		resp.Body = base64.StdEncoding.EncodeToString(body)
		resp.IsBase64Encoded = true
	}
	return resp
}
