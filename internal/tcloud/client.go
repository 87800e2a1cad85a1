// Package tcloud is ccc-enricher's plumbing for Tencent Cloud API 3.0 over
// the common client of tencentcloud-sdk-go (the per-product SDK modules are
// not available): credentials from the typed sources package config reads
// (fixed keys, the rotating SCF role credential, STS AssumeRole), endpoints,
// one JSON call, and the classification of its failures.
//
// The SDK signs (TC3-HMAC-SHA256) and sends; everything else is decided
// here. Its own retries are off, so that retries happen in one place, the
// caller's retry.Do, and its error messages, which may quote a reply body
// holding signed recording links, are replaced by this package's.
package tcloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"

	"github.com/ccc-enricher/ccc-enricher/internal/jsonwalk"
	"github.com/ccc-enricher/ccc-enricher/internal/peer"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

// Config configures a Client.
type Config struct {
	// Endpoint is a host or URL, see ParseEndpoint. Empty means
	// "<service>.tencentcloudapi.com".
	Endpoint string
	// Region is sent as X-TC-Region. CCC does not need it; TDMQ does.
	Region string
	// Timeout bounds one attempt, the reply body included. Zero means
	// DefaultTimeout.
	Timeout time.Duration
}

// DefaultTimeout bounds one attempt when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// maxReply bounds a reply body: a page of 100 CDRs is well under 1 MiB.
const maxReply = 16 << 20

// Client calls the actions of one service and version.
type Client struct {
	service  string
	version  string
	endpoint Endpoint
	timeout  time.Duration
	cred     common.CredentialIface
	sdk      *common.Client
}

// NewClient returns a Client for service (such as "ccc") at version (such
// as "2020-02-10") that signs with cred.
func NewClient(service, version string, cfg Config, cred common.CredentialIface) (*Client, error) {
	switch {
	case service == "" || version == "":
		return nil, errors.New("tcloud: service and version are required")
	case cred == nil:
		return nil, errors.New("tcloud: credential is nil")
	case cfg.Timeout < 0:
		return nil, errors.New("tcloud: timeout is negative")
	case common.DefaultHttpClient != nil:
		// The SDK would share that client among all its clients, and this
		// package sets its transport.
		return nil, errors.New("tcloud: common.DefaultHttpClient must be nil")
	}
	ep := Endpoint{Scheme: "https", Host: service + ".tencentcloudapi.com"}
	if cfg.Endpoint != "" {
		var err error
		if ep, err = ParseEndpoint(cfg.Endpoint); err != nil {
			return nil, fmt.Errorf("tcloud: %w", err)
		}
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}

	cpf := profile.NewClientProfile()
	cpf.HttpProfile.Endpoint = ep.Host
	cpf.HttpProfile.Scheme = strings.ToUpper(ep.Scheme)
	cpf.HttpProfile.ReqMethod = http.MethodPost
	// The attempt's context carries the timeout, with better than the
	// profile's one-second resolution.
	cpf.HttpProfile.ReqTimeout = 0
	cpf.Language = "en-US"
	// Retries belong to the caller's retry.Do, and the region breaker would
	// send requests to another region's endpoint.
	cpf.NetworkFailureMaxRetries = 0
	cpf.RateLimitExceededMaxRetries = 0
	cpf.DisableRegionBreaker = true

	base := http.DefaultTransport.(*http.Transport).Clone()
	base.IdleConnTimeout = 30 * time.Second
	base.MaxIdleConnsPerHost = 32 // the 20 req/s of one instance reuse connections
	sdk := common.NewCommonClient(cred, cfg.Region, cpf).
		WithHttpTransport(watcher{base: base}).
		WithRequestClient("ccc-enricher")

	return &Client{service: service, version: version, endpoint: ep, timeout: timeout, cred: cred, sdk: sdk}, nil
}

// Endpoint returns where the client sends requests.
func (c *Client) Endpoint() Endpoint { return c.endpoint }

// Call makes one attempt at action: it encodes request as the JSON body
// (nil sends {}), signs and sends it within ctx and the client's timeout,
// and decodes the reply's Response object into response (which may be nil).
// It never retries: that is the caller's retry.Do.
//
// An API error envelope becomes an *APIError. Errors no retry can cure are
// marked retry.Permanent: invalid, missing or unknown parameters, unknown
// actions and versions, unauthorised operations, missing resources,
// authentication failures (except an expired signature or token, or a
// credential that rotated while the request was in flight), 4xx replies
// without an envelope, and replies that do not decode into response.
// RequestLimitExceeded asks for a jittered wait of about a second
// (retry.After). Everything else is transient: network failures, timeouts,
// 5xx replies, internal errors, unknown codes (FailedOperation.* included,
// for the caller to judge). Error messages never quote a reply body.
func (c *Client) Call(ctx context.Context, action string, request, response any) error {
	body := []byte("{}")
	if request != nil {
		b, err := json.Marshal(request)
		if err != nil {
			return retry.Permanent(fmt.Errorf("%s: encode request: %w", action, err))
		}
		body = b
	}
	req := &rawRequest{BaseRequest: &tchttp.BaseRequest{}, body: body}
	req.Init().WithApiInfo(c.service, c.version, action)

	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	a := &attempt{}
	req.SetContext(context.WithValue(ctx, attemptKey{}, a))

	resp := &rawResponse{BaseResponse: &tchttp.BaseResponse{}}
	if err := c.sdk.Send(req, resp); err != nil {
		return classify(action, a, c.stale(a, err), err)
	}
	if a.response != nil {
		return decodeResponse(action, a.response, response)
	}
	return decodeReply(action, resp.body, response)
}

// stale reports whether err is an authentication failure of a request
// signed with a credential that has since changed.
func (c *Client) stale(a *attempt, err error) bool {
	var sdk *tcerr.TencentCloudSDKError
	if !errors.As(err, &sdk) || !hasCode(sdk.Code, "AuthFailure") || a.secretID == "" {
		return false
	}
	id, _, token := c.cred.GetCredential()
	return id != a.secretID || token != a.token
}

// decodeReply decodes the Response object of a successful reply into out.
func decodeReply(action string, body []byte, out any) error {
	var env struct {
		Response json.RawMessage
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("%s: reply has no Response object", action)
	}
	return decodeResponse(action, env.Response, out)
}

// decodeResponse decodes a reply's Response object into out.
func decodeResponse(action string, response []byte, out any) error {
	if len(response) == 0 || response[0] != '{' {
		return fmt.Errorf("%s: reply has no Response object", action)
	}
	switch out := out.(type) {
	case nil:
		return nil
	case *json.RawMessage:
		// The bytes are valid JSON (json.Valid or Unmarshal said so) and
		// the caller's: the reply body they are a slice of is not reused.
		*out = response
		return nil
	}
	if err := json.Unmarshal(response, out); err != nil {
		// The same reply would fail the same way.
		return retry.Permanent(fmt.Errorf("%s: decode reply: %w", action, err))
	}
	return nil
}

// rawRequest hands the SDK a body encoded with encoding/json, so that large
// integers keep their precision (the SDK's CommonRequest goes through
// map[string]interface{}).
type rawRequest struct {
	*tchttp.BaseRequest
	body []byte
}

func (r *rawRequest) MarshalJSON() ([]byte, error) { return r.body, nil }

// rawResponse keeps the reply body for decodeReply: a decoding error of the
// SDK would quote the whole body.
type rawResponse struct {
	*tchttp.BaseResponse
	body []byte
}

func (r *rawResponse) UnmarshalJSON(b []byte) error {
	r.body = append(r.body[:0], b...)
	return nil
}

type attemptKey struct{}

// watcher records in the request's *attempt what classify needs and the SDK
// does not report: the HTTP status and the credential used. It also bounds
// the reply body and refuses redirects.
type watcher struct{ base http.RoundTripper }

func (w watcher) RoundTrip(req *http.Request) (*http.Response, error) {
	a, _ := req.Context().Value(attemptKey{}).(*attempt)
	if a != nil {
		a.secretID = secretIDOf(req.Header.Get("Authorization"))
		a.token = req.Header.Get("X-TC-Token")
	}
	resp, err := w.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if a != nil {
		a.status = resp.StatusCode
	}
	if peer.IsRedirect(resp.StatusCode) {
		// The SDK's http.Client would follow it, sending the signed
		// request to wherever Location says; refuse it here, below the
		// client, where it cannot.
		resp.Body.Close()
		return nil, peer.Redirect(resp.StatusCode)
	}
	resp.Body = http.MaxBytesReader(nil, resp.Body, maxReply)
	if a != nil && resp.StatusCode == http.StatusOK && resp.Header.Get("Content-Encoding") == "" &&
		resp.Header.Get("Content-Type") != "text/event-stream" {
		shortCut(a, resp)
	}
	return resp, nil
}

// shortCut reads a reply the SDK would parse, and when it is plainly a
// success keeps its Response object in a and hands the SDK an empty one
// instead: the SDK reads every reply with its own JSON package five times
// (TryReadErr and ParseErrorFromHTTPResponse each once per error form, the
// API 3.0 one and the deprecated one, then once more to hand it to the
// response), which for a ~5 KB DescribeSessionDetail reply cost more CPU
// than the rest of the call. Any other reply goes to the SDK as it came,
// so that its errors stay exactly the SDK's.
func shortCut(a *attempt, resp *http.Response) {
	buf := bytes.NewBuffer(make([]byte, 0, min(max(resp.ContentLength, 0), maxReply)+bytes.MinRead))
	_, err := buf.ReadFrom(resp.Body)
	resp.Body.Close()
	body := buf.Bytes()
	if err != nil {
		// The SDK reports the read error, after the bytes that came.
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
		return
	}
	if r, ok := successResponse(body); ok {
		a.response = r
		body = emptyReply
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
}

// emptyReply is the success the SDK parses in place of one shortCut kept.
var emptyReply = []byte(`{"Response":{}}`)

// successResponse returns the Response object of body when body is a
// reply the SDK would take for a success: valid JSON, an object whose only
// member is "Response", itself an object with no member named like
// "Error" and, if it has a RequestId, a string there. Anything unusual
// (escaped or repeated names, other members) is left to the SDK.
func successResponse(body []byte) ([]byte, bool) {
	if !json.Valid(body) {
		return nil, false
	}
	start, end := -1, -1
	w := jsonwalk.New(body)
	for w.Next() {
		t := w.Token()
		switch {
		case t.Depth == 0:
			if t.Kind != jsonwalk.ObjectStart && t.Kind != jsonwalk.ObjectEnd {
				return nil, false
			}
		case t.Depth == 1 && t.Kind == jsonwalk.ObjectEnd:
			end = t.End
		case t.Depth == 1:
			if string(t.Key) != "Response" || start >= 0 || t.Kind != jsonwalk.ObjectStart {
				return nil, false
			}
			start = t.Start
		case t.Depth == 2 && t.Key != nil:
			if jsonwalk.NeedsUnquote(t.Key) || bytes.EqualFold(t.Key, []byte("Error")) ||
				bytes.EqualFold(t.Key, []byte("RequestId")) && t.Kind != jsonwalk.String {
				return nil, false
			}
		}
	}
	if start < 0 || end < start {
		return nil, false
	}
	return body[start:end], true
}

// errReader returns its error.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// secretIDOf extracts the SecretId from a TC3-HMAC-SHA256 Authorization
// header: "TC3-HMAC-SHA256 Credential=<id>/<date>/<service>/tc3_request, …".
func secretIDOf(auth string) string {
	_, rest, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, "/")
	return id
}
