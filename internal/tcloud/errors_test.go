package tcloud

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"

	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

func TestClassifyAPICodes(t *testing.T) {
	tests := []struct {
		code      string
		permanent bool
		throttled bool
	}{
		{code: "InvalidParameter", permanent: true},
		{code: "InvalidParameter.InvalidSdkAppId", permanent: true},
		{code: "InvalidParameterValue", permanent: true},
		{code: "InvalidParameterValue.InstanceNotExist", permanent: true},
		{code: "MissingParameter", permanent: true},
		{code: "UnknownParameter", permanent: true},
		{code: "InvalidAction", permanent: true},
		{code: "NoSuchVersion", permanent: true},
		{code: "UnauthorizedOperation", permanent: true},
		{code: "AuthFailure.UnauthorizedOperation", permanent: true},
		{code: "AuthFailure.SecretIdNotFound", permanent: true},
		{code: "AuthFailure.SignatureFailure", permanent: true},
		{code: "AuthFailure.InvalidSecretId", permanent: true},
		{code: "ResourceNotFound", permanent: true},
		{code: "ResourceNotFound.QueueNotExist", permanent: true},
		{code: "RequestLimitExceeded", throttled: true},
		{code: "RequestLimitExceeded.UinLimitExceeded", throttled: true},
		{code: "InternalError"},
		{code: "InternalError.DBError"},
		{code: "ResourceUnavailable"},
		{code: "AuthFailure.SignatureExpire"},
		{code: "AuthFailure.TokenFailure"},
		{code: "FailedOperation.SessionNotExists"},
		{code: "FailedOperation"},
		{code: "SomethingNew.NeverSeen"},
		// A family name must match whole segments.
		{code: "InvalidParameterish"},
		{code: "ResourceNotFoundX"},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			err := classify("DescribeSessionDetail", &attempt{status: 200}, false,
				tcerr.NewTencentCloudSDKError(tt.code, "the message", "req-1"))
			if got := retry.IsPermanent(err); got != tt.permanent {
				t.Errorf("IsPermanent = %v, want %v", got, tt.permanent)
			}
			var api *APIError
			if !errors.As(err, &api) {
				t.Fatalf("not an *APIError: %v", err)
			}
			want := APIError{Action: "DescribeSessionDetail", Code: tt.code, Message: "the message", RequestID: "req-1"}
			if *api != want {
				t.Errorf("APIError = %+v, want %+v", *api, want)
			}
			if !IsCode(err, tt.code) {
				t.Errorf("IsCode(err, %q) = false", tt.code)
			}
			if got := throttled(err); got != tt.throttled {
				t.Errorf("throttled = %v, want %v", got, tt.throttled)
			}
		})
	}
}

// throttled reports whether err asks retry.Do for a wait of at least half a
// second: with a policy of 1 ms backoffs and a deadline 300 ms away, retry.Do
// then gives up after the first attempt instead of trying again.
func throttled(err error) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	calls := 0
	_ = retry.Do(ctx, retry.Policy{Attempts: 2, Base: time.Millisecond, Max: time.Millisecond}, func(context.Context) error {
		calls++
		return err
	})
	return calls == 1 && !retry.IsPermanent(err)
}

func TestClassifyStaleCredential(t *testing.T) {
	for _, code := range []string{"AuthFailure.SignatureFailure", "AuthFailure.SecretIdNotFound", "AuthFailure.UnauthorizedOperation"} {
		err := classify("X", &attempt{status: 200}, true, tcerr.NewTencentCloudSDKError(code, "m", "r"))
		if retry.IsPermanent(err) {
			t.Errorf("%s with a rotated credential is permanent; want transient", code)
		}
	}
	// Staleness cures authentication only.
	err := classify("X", &attempt{status: 200}, true, tcerr.NewTencentCloudSDKError("InvalidParameter", "m", "r"))
	if !retry.IsPermanent(err) {
		t.Error("InvalidParameter with stale=true is transient; want permanent")
	}
}

func TestClassifyWithoutEnvelope(t *testing.T) {
	const body = `<html>https://tccc.qcloud.com/getRecord/SIGNED-LINK</html>`
	cause := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	tests := []struct {
		name      string
		status    int
		err       error
		permanent bool
		want      string
	}{
		{"network", 0, tcerr.NewTencentCloudSDKErrorWithCause("ClientError.NetworkError", "Fail to get response", "", cause), false, "A: no reply: connection failed (dial)"},
		{"502 html", 502, tcerr.NewTencentCloudSDKError("ClientError.ParseJsonError", "Fail to parse json content: "+body, ""), false, "A: HTTP 502 Bad Gateway"},
		{"503 json", 503, tcerr.NewTencentCloudSDKError("ClientError.HttpStatusCodeError", "Request fail with http status code: 503, with body: "+body, ""), false, "A: HTTP 503 Service Unavailable"},
		{"429", 429, tcerr.NewTencentCloudSDKError("ClientError.ParseJsonError", body, ""), false, "A: HTTP 429 Too Many Requests"},
		{"408", 408, tcerr.NewTencentCloudSDKError("ClientError.ParseJsonError", body, ""), false, "A: HTTP 408 Request Timeout"},
		{"404", 404, tcerr.NewTencentCloudSDKError("ClientError.ParseJsonError", body, ""), true, "A: HTTP 404 Not Found without an API reply"},
		{"403", 403, tcerr.NewTencentCloudSDKError("ClientError.HttpStatusCodeError", body, ""), true, "A: HTTP 403 Forbidden without an API reply"},
		{"200 not json", 200, tcerr.NewTencentCloudSDKError("ClientError.ParseJsonError", "Fail to parse json content: "+body, ""), false, "A: reply is not an API 3.0 JSON envelope"},
		{"unwatched", 0, tcerr.NewTencentCloudSDKError("ClientError.ParseJsonError", body, ""), false, "A: ClientError.ParseJsonError"},
		{"not from the sdk", 0, errors.New("encode: bad"), true, "A: encode: bad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := classify("A", &attempt{status: tt.status}, false, tt.err)
			if got := retry.IsPermanent(err); got != tt.permanent {
				t.Errorf("IsPermanent = %v, want %v", got, tt.permanent)
			}
			if err.Error() != tt.want {
				t.Errorf("Error() = %q, want %q", err.Error(), tt.want)
			}
			if strings.Contains(err.Error(), "SIGNED-LINK") {
				t.Error("message quotes the reply body")
			}
		})
	}
	err := classify("A", &attempt{}, false, tcerr.NewTencentCloudSDKErrorWithCause("ClientError.NetworkError", "", "", context.DeadlineExceeded))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("network error does not wrap its cause: %v", err)
	}
}

func TestIsCode(t *testing.T) {
	err := fmt.Errorf("describe session s: %w", &APIError{Code: "RequestLimitExceeded.UinLimitExceeded"})
	tests := []struct {
		code string
		want bool
	}{
		{"RequestLimitExceeded.UinLimitExceeded", true},
		{"RequestLimitExceeded", true},
		{"RequestLimit", false},
		{"RequestLimitExceeded.Uin", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsCode(err, tt.code); got != tt.want {
			t.Errorf("IsCode(%q) = %v, want %v", tt.code, got, tt.want)
		}
	}
	if IsCode(errors.New("RequestLimitExceeded"), "RequestLimitExceeded") {
		t.Error("IsCode matched a plain error")
	}
}

func TestTruncate(t *testing.T) {
	long := strings.Repeat("参数", 200)
	got := truncate(long, maxMessage)
	if len(got) > maxMessage+len("…") || !strings.HasSuffix(got, "…") {
		t.Errorf("truncate kept %d bytes", len(got))
	}
	if !strings.HasPrefix(long, strings.TrimSuffix(got, "…")) || !utf8Valid(got) {
		t.Error("truncate cut inside a rune")
	}
	if truncate("short", maxMessage) != "short" {
		t.Error("truncate changed a short message")
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }
