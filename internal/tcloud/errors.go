package tcloud

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"

	"github.com/ccc-enricher/ccc-enricher/internal/peer"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

// APIError is an error envelope returned by a Tencent Cloud API:
// {"Response":{"Error":{"Code":…,"Message":…},"RequestId":…}}.
type APIError struct {
	Action    string
	Code      string
	Message   string
	RequestID string
}

// Error names the action, the code and the request id, each only if it
// looks like one: the message, and anything else the API sent, may quote a
// parameter, a link or a number, and errors reach logs and dead-letter
// attributes. The Message field keeps it for callers that need it.
func (e *APIError) Error() string {
	return fmt.Sprintf("%s: %s (RequestId %s)", e.Action, token(e.Code), token(e.RequestID))
}

// token returns s if it is a code or an id as the API makes them (letters,
// digits, '.', '-', '_', a letter among them, at most 100 bytes), else a
// placeholder.
func token(s string) string {
	letter := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			letter = true
		case c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_':
		default:
			return "<unprintable>"
		}
	}
	if !letter || len(s) > 100 {
		return "<unprintable>"
	}
	return s
}

// IsCode reports whether err wraps an *APIError whose code is code or, when
// code names a family such as "RequestLimitExceeded" or "AuthFailure", one of
// its sub-codes ("RequestLimitExceeded.UinLimitExceeded").
func IsCode(err error, code string) bool {
	var e *APIError
	if !errors.As(err, &e) {
		return false
	}
	return hasCode(e.Code, code)
}

func hasCode(got, code string) bool {
	return got == code || strings.HasPrefix(got, code+".")
}

// maxMessage bounds the server's message kept in an APIError: messages of
// InvalidParameterValue may echo a parameter, and no parameter belongs in a
// log line in full.
const maxMessage = 200

// permanentCodes are the API error codes no retry can cure: the request or
// the credential is wrong, or the thing asked for does not exist. Matched
// with hasCode, so a family covers its sub-codes.
var permanentCodes = []string{
	"InvalidParameter",
	"InvalidParameterValue",
	"MissingParameter",
	"UnknownParameter",
	"InvalidAction",
	"NoSuchVersion",
	"UnauthorizedOperation",
	"ResourceNotFound",
	// Common API 3.0 errors about the request's form or destination.
	"UnsupportedProtocol",
	"UnsupportedRegion",
	"UnsupportedOperation",
	"RequestSizeLimitExceeded",
	"ResponseSizeLimitExceeded",
}

// throttleWait is the minimum wait after RequestLimitExceeded: the limits
// are per second, so retrying sooner only spends an attempt.
const throttleWait = time.Second

// attempt is what the transport saw of one request: the HTTP status of the
// reply, the credential the request was signed with (compared, never
// printed) and, for a plain success, the reply's Response object.
type attempt struct {
	status   int
	secretID string
	token    string
	// response is the Response object of a reply shortCut found a
	// success; nil when the SDK parsed the reply as it came.
	response []byte
}

// classify turns an error from the SDK's Client.Send into this package's
// errors and marks the ones no retry can cure with retry.Permanent. It is
// the one place where Tencent Cloud failures are classified.
//
// API error codes:
//   - permanent: InvalidParameter*, InvalidParameterValue*, MissingParameter,
//     UnknownParameter, InvalidAction, NoSuchVersion, UnauthorizedOperation*,
//     ResourceNotFound*, UnsupportedProtocol, UnsupportedRegion,
//     UnsupportedOperation*, Request/ResponseSizeLimitExceeded, and
//     AuthFailure.* except the two below;
//   - transient after ~1 s: RequestLimitExceeded*;
//   - transient: AuthFailure.SignatureExpire (clock skew or a request that
//     waited too long), AuthFailure.TokenFailure (a role token that rotated:
//     the next attempt re-reads it), InternalError*, ResourceUnavailable*,
//     and any code not listed, FailedOperation.* included: the caller knows
//     better (package ccc handles FailedOperation.SessionNotExists), and a
//     needless retry costs less than a record wrongly given up.
//
// AuthFailure.SignatureFailure and AuthFailure.SecretIdNotFound are
// permanent: with a consistent credential they mean a wrong key or a deleted
// one, and retrying a wrong key until the deadline would only make CCC push
// every call again and again. Rotating credentials are the one case where
// they can be cured: when the credential in use has changed since the
// failed request was signed (stale is true), every AuthFailure is
// transient, since the next attempt signs with the new one. A torn tuple
// (a new id with an old key) is guarded against where it could arise: the
// SCF credential reads its variables until two reads agree, and the SDK's
// RoleArnCredential swaps its tuple under a lock.
//
// Failures without an API envelope: no reply (network error, timeout,
// cancelled context), HTTP 5xx, 408, 425, 429 and a 200 reply that is not
// JSON are transient; any other HTTP 4xx reply without an envelope
// (a wrong endpoint, a proxy refusing the request) is permanent.
//
// Messages never include reply bodies: a body can hold signed recording
// links.
func classify(action string, a *attempt, stale bool, err error) error {
	var sdk *tcerr.TencentCloudSDKError
	if !errors.As(err, &sdk) {
		// Not from the SDK's transport: building the request failed.
		return retry.Permanent(fmt.Errorf("%s: %w", action, err))
	}
	if !strings.HasPrefix(sdk.Code, "ClientError.") {
		e := &APIError{Action: action, Code: sdk.Code, Message: truncate(sdk.Message, maxMessage), RequestID: sdk.RequestId}
		return classifyAPI(e, stale)
	}
	status := 0
	if a != nil {
		status = a.status
	}
	switch {
	case peer.IsRedirect(status):
		return fmt.Errorf("%s: %w", action, peer.Redirect(status))
	case sdk.Code == "ClientError.NetworkError":
		if cause := errors.Unwrap(sdk); cause != nil {
			return fmt.Errorf("%s: no reply: %w", action, peer.Error(cause))
		}
		return fmt.Errorf("%s: no reply", action)
	case status == 0:
		// The transport saw no reply (or was not ours to watch): say what
		// the SDK reports, without its message, which may quote the body.
		return fmt.Errorf("%s: %s", action, sdk.Code)
	case status >= 500 || status == http.StatusRequestTimeout || status == http.StatusTooEarly || status == http.StatusTooManyRequests:
		return fmt.Errorf("%s: HTTP %d %s", action, status, http.StatusText(status))
	case status != http.StatusOK:
		return retry.Permanent(fmt.Errorf("%s: HTTP %d %s without an API reply", action, status, http.StatusText(status)))
	default:
		return fmt.Errorf("%s: reply is not an API 3.0 JSON envelope", action)
	}
}

// classifyAPI marks an API error envelope; see classify.
func classifyAPI(e *APIError, stale bool) error {
	switch {
	case hasCode(e.Code, "RequestLimitExceeded"):
		// Jittered, so that the calls throttled together spread out.
		return retry.After(e, throttleWait*3/4+rand.N(throttleWait/2))
	case hasCode(e.Code, "AuthFailure"):
		if stale || e.Code == "AuthFailure.SignatureExpire" || e.Code == "AuthFailure.TokenFailure" {
			return e
		}
		return retry.Permanent(e)
	}
	for _, c := range permanentCodes {
		if hasCode(e.Code, c) {
			return retry.Permanent(e)
		}
	}
	return e
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary: messages are often Chinese.
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
