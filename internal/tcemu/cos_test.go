package tcemu

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	cos "github.com/tencentyun/cos-go-sdk-v5"
)

const (
	cosID    = "AKIDcosEXAMPLE000000000000000000000"
	cosKey   = "cosSecretKeyEXAMPLE0000000000000"
	cosToken = "session-token-of-the-role"
)

// COSSignature agrees with cos-go-sdk-v5's own signer on requests of
// every shape: parameters, metadata, odd characters.
func TestCOSSignatureMatchesSDK(t *testing.T) {
	tests := []struct {
		method, target string
		header         map[string]string
	}{
		{"PUT", "http://calls-125.cos.ap-guangzhou.myqcloud.com/ccc/recordings/2025/09/03/s-1/r.mp3", map[string]string{"Content-Type": "audio/mpeg", "x-cos-meta-sha256": "ab12", "Content-Length": "10"}},
		{"HEAD", "http://calls-125.cos.ap-guangzhou.myqcloud.com/a%20b/c+d~e(f).json", nil},
		{"GET", "http://127.0.0.1:8080/k?versionId=x%2By&response-content-type=text%2Fplain", map[string]string{"Range": "bytes=0-9", "x-cos-meta-session": "会话 1"}},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(tt.method, tt.target, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range tt.header {
			req.Header.Set(k, v)
		}
		cos.AddAuthorizationHeader(cosID, cosKey, cosToken, req, cos.NewAuthTime(time.Hour))
		// The emulator sees what a server sees: Host apart from the header.
		srvReq := req.Clone(context.Background())
		srvReq.Header.Del("Host")
		e := &COS{SecretID: cosID, SecretKey: cosKey, Token: cosToken}
		if code, msg := e.verify(srvReq); code != "" {
			t.Errorf("%s %s: SDK-signed request refused: %s %s", tt.method, tt.target, code, msg)
		}
	}
}

func TestCOSRefuses(t *testing.T) {
	now := time.Now()
	sign := func(mutate func(*http.Request), id, key, token string, at *cos.AuthTime) *http.Request {
		req, _ := http.NewRequest("PUT", "http://bucket-1.cos.ap-guangzhou.myqcloud.com/k.txt?uploads=", nil)
		req.Header.Set("Content-Type", "text/plain")
		req.Header.Set("x-cos-meta-sha256", "aa")
		cos.AddAuthorizationHeader(id, key, token, req, at)
		if mutate != nil {
			mutate(req)
		}
		req.Header.Del("Host")
		return req
	}
	fresh := cos.NewAuthTime(time.Hour)
	old := &cos.AuthTime{SignStartTime: now.Add(-2 * time.Hour), SignEndTime: now.Add(-time.Hour), KeyStartTime: now.Add(-2 * time.Hour), KeyEndTime: now.Add(-time.Hour)}
	tests := []struct {
		name string
		req  *http.Request
		want string
	}{
		{"other key", sign(nil, cosID, "wrong", cosToken, fresh), "SignatureDoesNotMatch"},
		{"other id", sign(nil, "AKIDother", cosKey, cosToken, fresh), "InvalidAccessKeyId"},
		{"no token", sign(nil, cosID, cosKey, "", fresh), "InvalidAccessKeyId"},
		{"expired", sign(nil, cosID, cosKey, cosToken, old), "AccessDenied"},
		{"metadata changed", sign(func(r *http.Request) { r.Header.Set("x-cos-meta-sha256", "bb") }, cosID, cosKey, cosToken, fresh), "SignatureDoesNotMatch"},
		{"metadata added", sign(func(r *http.Request) { r.Header.Set("x-cos-meta-extra", "1") }, cosID, cosKey, cosToken, fresh), "AccessDenied"},
		{"path changed", sign(func(r *http.Request) { r.URL.Path = "/other.txt" }, cosID, cosKey, cosToken, fresh), "SignatureDoesNotMatch"},
		{"parameter added", sign(func(r *http.Request) { r.URL.RawQuery += "&acl=" }, cosID, cosKey, cosToken, fresh), "AccessDenied"},
		{"unsigned", func() *http.Request { r, _ := http.NewRequest("GET", "http://b/k", nil); return r }(), "AccessDenied"},
	}
	e := &COS{SecretID: cosID, SecretKey: cosKey, Token: cosToken}
	for _, tt := range tests {
		if code, _ := e.verify(tt.req); code != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, code, tt.want)
		}
	}
}

// The SDK's client puts, heads and gets objects through the emulator.
func TestCOSWithSDK(t *testing.T) {
	e := &COS{SecretID: cosID, SecretKey: cosKey, Token: cosToken}
	srv := httptest.NewServer(e)
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	c := cos.NewClient(&cos.BaseURL{BucketURL: u}, &http.Client{Transport: &cos.AuthorizationTransport{SecretID: cosID, SecretKey: cosKey, SessionToken: cosToken}})
	ctx := context.Background()
	meta := http.Header{}
	meta.Set("x-cos-meta-sha256", "abc")
	body := strings.Repeat("x", 5000)
	if _, err := c.Object.Put(ctx, "a/b.txt", strings.NewReader(body), &cos.ObjectPutOptions{ObjectPutHeaderOptions: &cos.ObjectPutHeaderOptions{ContentType: "text/plain", XCosMetaXXX: &meta}}); err != nil {
		t.Fatal(err)
	}
	resp, err := c.Object.Head(ctx, "a/b.txt", nil)
	if err != nil || resp.Header.Get("x-cos-meta-sha256") != "abc" {
		t.Fatalf("Head: %v %v", resp, err)
	}
	got, err := c.Object.Get(ctx, "a/b.txt", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if !bytes.Equal(b, []byte(body)) {
		t.Errorf("got %d bytes back", len(b))
	}
	if _, err := c.Object.Head(ctx, "missing", nil); !cos.IsNotFoundError(err) {
		t.Errorf("Head of a missing key: %v", err)
	}
	if e.Refused() != 0 {
		t.Errorf("%d SDK requests refused", e.Refused())
	}
}
