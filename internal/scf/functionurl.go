package scf

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// functionURLEvent is a function URL's event for an event function: the
// API Gateway event without requestContext, isBase64Encoded and the
// *Parameters members. Headers come lower-case and single-valued, the
// client's address in x-scf-remote-addr; the body is the request's text,
// with no base64 flag.
type functionURLEvent struct {
	HTTPMethod  string `json:"httpMethod"`
	Path        string `json:"path"`
	Headers     params `json:"headers"`
	QueryString params `json:"queryString"`
	Body        string `json:"body"`
}

// functionURLResponse is the reply a function URL turns into the HTTP
// response. It has no base64 flag, so its body is text.
type functionURLResponse struct {
	StatusCode int               `json:"statusCode"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
}

// serveFunctionURL serves a function URL event with the handler. It is
// converted as the API Gateway event it resembles, with the client address
// from x-scf-remote-addr and the invocation's request id standing in for
// the gateway's.
func (d *dispatcher) serveFunctionURL(ctx context.Context, event []byte) ([]byte, error) {
	var fu functionURLEvent
	if err := json.Unmarshal(event, &fu); err != nil {
		return nil, &eventError{kind: "BadEvent", err: fmt.Errorf("function URL event: %w", err)}
	}
	ev := apigwEvent{HTTPMethod: fu.HTTPMethod, Path: fu.Path, Headers: fu.Headers, QueryString: fu.QueryString, Body: fu.Body,
		RequestContext: apigwReqCtx{RequestID: RequestID(ctx)}}
	for _, h := range fu.Headers {
		if strings.EqualFold(h.Key, "x-scf-remote-addr") {
			ev.RequestContext.SourceIP = h.Value
		}
	}
	r, err := ev.request(ctx)
	if err != nil {
		return nil, &eventError{kind: "BadEvent", err: fmt.Errorf("function URL event: %w", err)}
	}
	w := newRecorder()
	d.h.ServeHTTP(w, r)
	resp := w.apigwResponse()
	if resp.IsBase64Encoded {
		return nil, &eventError{kind: "BadReply", err: errors.New("function URL reply: the body is not UTF-8 text, which a function URL reply cannot carry")}
	}
	return json.Marshal(functionURLResponse{StatusCode: resp.StatusCode, Headers: resp.Headers, Body: resp.Body})
}

// isAbsent reports whether raw is a missing or null member.
func isAbsent(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}
