package tcloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"

	"github.com/ccc-enricher/ccc-enricher/internal/retry"
	"github.com/ccc-enricher/ccc-enricher/internal/tcemu"
)

func newTestClient(t *testing.T, url string, cfg Config, cred any) *Client {
	t.Helper()
	cfg.Endpoint = url
	c, err := NewClient("ccc", "2020-02-10", cfg, cred.(interface {
		GetSecretId() string
		GetToken() string
		GetSecretKey() string
		GetCredential() (string, string, string)
	}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type payload struct {
	SdkAppId int64  `json:"SdkAppId"`
	Name     string `json:"Name"`
}

func TestCallRequest(t *testing.T) {
	var got *http.Request
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(context.Background())
		body, _ = io.ReadAll(r.Body)
		fmt.Fprint(w, `{"Response":{"SdkAppId":9007199254740993,"Name":"n","RequestId":"r1"}}`)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, Config{Region: "ap-guangzhou"}, StaticCredential("the-id", "the-key", "the-token"))

	var out payload
	if err := c.Call(context.Background(), "DescribeThing", payload{SdkAppId: 9007199254740993, Name: "x"}, &out); err != nil {
		t.Fatal(err)
	}
	if out != (payload{SdkAppId: 9007199254740993, Name: "n"}) {
		t.Errorf("decoded %+v", out)
	}
	if string(body) != `{"SdkAppId":9007199254740993,"Name":"x"}` {
		t.Errorf("body = %s", body)
	}
	for h, want := range map[string]string{
		"X-TC-Action":   "DescribeThing",
		"X-TC-Version":  "2020-02-10",
		"X-TC-Region":   "ap-guangzhou",
		"X-TC-Token":    "the-token",
		"X-TC-Language": "en-US",
		"Content-Type":  "application/json",
	} {
		if v := got.Header.Get(h); v != want {
			t.Errorf("%s = %q, want %q", h, v, want)
		}
	}
	if a := got.Header.Get("Authorization"); !strings.HasPrefix(a, "TC3-HMAC-SHA256 Credential=the-id/") || !strings.Contains(a, "/ccc/tc3_request") {
		t.Errorf("Authorization = %q", a)
	}
	if got.Method != http.MethodPost || got.URL.Path != "/" {
		t.Errorf("%s %s", got.Method, got.URL.Path)
	}
}

func TestCallReplies(t *testing.T) {
	const signed = "https://tccc.qcloud.com/getRecord/SIGNED"
	tests := []struct {
		name      string
		status    int
		body      string
		block     bool // answer only when the request is abandoned
		permanent bool
		code      string
		deadline  bool
	}{
		{name: "api error", body: `{"Response":{"Error":{"Code":"InvalidParameterValue","Message":"bad"},"RequestId":"r"}}`, permanent: true, code: "InvalidParameterValue"},
		{name: "throttled", body: `{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"slow down"},"RequestId":"r"}}`, code: "RequestLimitExceeded"},
		{name: "api error with 5xx", status: 503, body: `{"Response":{"Error":{"Code":"InternalError","Message":"x"},"RequestId":"r"}}`, code: "InternalError"},
		{name: "gateway 502", status: 502, body: "<html>" + signed + "</html>"},
		{name: "5xx with json", status: 500, body: `{"Response":{"Name":"` + signed + `"}}`},
		{name: "404", status: 404, body: "<html>" + signed + "</html>", permanent: true},
		{name: "200 not json", body: "<html>" + signed + "</html>"},
		{name: "200 no Response", body: `{"Other":"` + signed + `"}`},
		{name: "200 Response not an object", body: `{"Response":"` + signed + `"}`},
		{name: "wrong field type", body: `{"Response":{"Name":1,"SdkAppId":"` + signed + `"}}`, permanent: true},
		{name: "slow", block: true, deadline: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				// Read the body: only then does the server notice that the
				// client gave up and cancel r.Context().
				io.Copy(io.Discard, r.Body)
				if tt.block {
					<-r.Context().Done()
					return
				}
				if tt.status != 0 {
					w.WriteHeader(tt.status)
				}
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			c := newTestClient(t, srv.URL, Config{Timeout: 100 * time.Millisecond}, StaticCredential("i", "k", ""))
			var out payload
			err := c.Call(context.Background(), "DescribeThing", nil, &out)
			if err == nil {
				t.Fatal("no error")
			}
			if got := retry.IsPermanent(err); got != tt.permanent {
				t.Errorf("IsPermanent = %v, want %v: %v", got, tt.permanent, err)
			}
			if tt.code != "" && !IsCode(err, tt.code) {
				t.Errorf("error %v is not %s", err, tt.code)
			}
			if got := errors.Is(err, context.DeadlineExceeded); got != tt.deadline {
				t.Errorf("errors.Is(DeadlineExceeded) = %v, want %v: %v", got, tt.deadline, err)
			}
			if strings.Contains(err.Error(), "SIGNED") {
				t.Errorf("error quotes the reply: %v", err)
			}
			if n := hits.Load(); n != 1 {
				t.Errorf("server hit %d times; the SDK must not retry", n)
			}
		})
	}
}

func TestCallNoServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c := newTestClient(t, "http://"+addr, Config{}, StaticCredential("i", "k", ""))
	err = c.Call(context.Background(), "DescribeThing", nil, nil)
	if err == nil || retry.IsPermanent(err) || !strings.Contains(err.Error(), "DescribeThing: no reply") {
		t.Fatalf("err = %v; want a transient no-reply error", err)
	}
}

func TestCallCancelled(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, Config{}, StaticCredential("i", "k", ""))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Call(ctx, "DescribeThing", nil, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v; want context.Canceled", err)
	}
}

// An authentication failure of a request signed with a credential that has
// rotated since is transient; with the same credential, permanent.
func TestCallStaleCredential(t *testing.T) {
	e := newEnv("id", "id-1", "key", "key-1", "token", "tok-1")
	var rotate atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rotate.Load() {
			e.set("id", "id-2", "key", "key-2", "token", "tok-2")
		}
		fmt.Fprint(w, `{"Response":{"Error":{"Code":"AuthFailure.SignatureFailure","Message":"no"},"RequestId":"r"}}`)
	}))
	defer srv.Close()
	cred, err := NewCredential(Credentials{Rotating: rotating(e)})
	if err != nil {
		t.Fatal(err)
	}
	c := newTestClient(t, srv.URL, Config{}, cred)
	if err := c.Call(context.Background(), "A", nil, nil); !retry.IsPermanent(err) {
		t.Errorf("same credential: err = %v; want permanent", err)
	}
	rotate.Store(true)
	if err := c.Call(context.Background(), "A", nil, nil); err == nil || retry.IsPermanent(err) {
		t.Errorf("rotated credential: err = %v; want transient", err)
	}
}

func TestNewClient(t *testing.T) {
	cred := StaticCredential("i", "k", "")
	c, err := NewClient("ccc", "2020-02-10", Config{}, cred)
	if err != nil {
		t.Fatal(err)
	}
	if c.Endpoint() != (Endpoint{"https", "ccc.tencentcloudapi.com"}) || c.timeout != DefaultTimeout {
		t.Errorf("defaults: %v %v", c.Endpoint(), c.timeout)
	}
	bad := []struct {
		service string
		cfg     Config
		nilCred bool
	}{
		{service: ""},
		{service: "ccc", nilCred: true},
		{service: "ccc", cfg: Config{Endpoint: "https://h/p"}},
		{service: "ccc", cfg: Config{Timeout: -1}},
	}
	for _, b := range bad {
		cr := cred
		if b.nilCred {
			cr = nil
		}
		if _, err := NewClient(b.service, "2020-02-10", b.cfg, cr); err == nil {
			t.Errorf("NewClient(%q, %+v, nil=%v) succeeded", b.service, b.cfg, b.nilCred)
		}
	}
}

func FuzzDecodeReply(f *testing.F) {
	f.Add([]byte(`{"Response":{"SdkAppId":1400000000,"Name":"https://x/?sig=SIGNED","RequestId":"r"}}`))
	f.Add([]byte(`{"Response":{"SdkAppId":"sig=SIGNED"}}`))
	f.Add([]byte(`{"Response":{"Name":["sig=SIGNED"]}}`))
	f.Add([]byte(`{"Response":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var out payload
		err := decodeReply("A", body, &out)
		if err != nil && strings.Contains(err.Error(), "sig=") {
			t.Fatalf("error quotes the reply: %v", err)
		}
	})
}

// The tests below run against the emulator, which checks the SDK's
// TC3-HMAC-SHA256 signature as the real API does.

func startEmulator(t *testing.T, o tcemu.Options) (*tcemu.Server, string) {
	t.Helper()
	emu := tcemu.New(o)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return emu, srv.URL
}

func TestCallEmulator(t *testing.T) {
	emu, url := startEmulator(t, tcemu.Options{SecretID: "AKIDgood", SecretKey: "good-key"})
	s, err := tcemu.LoadSamples(emu, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		id, key   string
		token     string
		code      string
		permanent bool
	}{
		{name: "signed right", id: "AKIDgood", key: "good-key"},
		{name: "unknown id", id: "AKIDother", key: "good-key", code: "AuthFailure.SecretIdNotFound", permanent: true},
		{name: "wrong key", id: "AKIDgood", key: "bad-key", code: "AuthFailure.SignatureFailure", permanent: true},
		{name: "token on a permanent key", id: "AKIDgood", key: "good-key", token: "t", code: "AuthFailure.TokenFailure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestClient(t, url, Config{}, StaticCredential(tt.id, tt.key, tt.token))
			var out map[string]any
			err := c.Call(context.Background(), "DescribeSessionDetail", json.RawMessage(s.Request), &out)
			if tt.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				if out["Caller"] != "00860755xxxxxxxx" {
					t.Errorf("reply %v", out)
				}
				return
			}
			if !IsCode(err, tt.code) || retry.IsPermanent(err) != tt.permanent {
				t.Errorf("err = %v; want %s, permanent %v", err, tt.code, tt.permanent)
			}
			if strings.Contains(err.Error(), tt.key) {
				t.Errorf("error contains the key: %v", err)
			}
		})
	}
}

// SCF rotates its role credential: a request signed just before the
// rotation fails, and the retry, reading the variables again, succeeds.
func TestCallEmulatorRotation(t *testing.T) {
	emu := tcemu.New(tcemu.Options{SecretID: "AKIDnew", SecretKey: "new-key", Token: "new-token"})
	s, err := tcemu.LoadSamples(emu, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv("id", "AKIDold", "key", "old-key", "token", "old-token")
	// The platform rotates the variables while the first request is in
	// flight.
	var rotated atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !rotated.Swap(true) {
			e.set("id", "AKIDnew", "key", "new-key", "token", "new-token")
		}
		emu.ServeHTTP(w, r)
	}))
	defer srv.Close()
	cred, err := NewCredential(Credentials{Rotating: rotating(e)})
	if err != nil {
		t.Fatal(err)
	}
	c := newTestClient(t, srv.URL, Config{}, cred)
	attempts := 0
	err = retry.Do(context.Background(), retry.Policy{Attempts: 3, Base: time.Millisecond}, func(ctx context.Context) error {
		attempts++
		return c.Call(ctx, "DescribeSessionDetail", json.RawMessage(s.Request), nil)
	})
	if err != nil || attempts != 2 {
		t.Fatalf("err = %v after %d attempts; want success on the second", err, attempts)
	}
	// Rotated to a token the API does not know: transient, since the next
	// rotation may fix it.
	e.set("token", "expired")
	if err := c.Call(context.Background(), "DescribeSessionDetail", json.RawMessage(s.Request), nil); !IsCode(err, "AuthFailure.TokenFailure") || retry.IsPermanent(err) {
		t.Errorf("err = %v; want transient AuthFailure.TokenFailure", err)
	}
}

func TestSuccessResponse(t *testing.T) {
	for _, c := range []struct {
		body, want string // want "" means: left to the SDK
	}{
		{`{"Response":{"SessionId":"s","RequestId":"r"}}`, `{"SessionId":"s","RequestId":"r"}`},
		{` { "Response" : { } } `, `{ }`},
		{`{"Response":{"Nested":{"Error":{"Code":"X"}},"List":[{"Error":1}]}}`, `{"Nested":{"Error":{"Code":"X"}},"List":[{"Error":1}]}`},
		{`{"Response":{"Error":{"Code":"AuthFailure"},"RequestId":"r"}}`, ``},
		{`{"Response":{"error":null}}`, ``},
		{`{"Response":{"\u0045rror":{"Code":"X"}}}`, ``},
		{`{"Response":{"RequestId":1}}`, ``},
		{`{"Response":{},"Response":{"Error":{"Code":"X"}}}`, ``},
		{`{"Response":{},"code":4000}`, ``},
		{`{"response":{}}`, ``},
		{`{"Response":null}`, ``},
		{`{"Response":[]}`, ``},
		{`[]`, ``}, {`{`, ``}, {``, ``}, {`{"Response":{}}x`, ``},
	} {
		got, ok := successResponse([]byte(c.body))
		if string(got) != c.want || ok != (c.want != "") {
			t.Errorf("successResponse(%s) = %q, %v; want %q", c.body, got, ok, c.want)
		}
	}
}

// FuzzSuccessResponse holds the short cut to the SDK: a reply it takes
// for a success is one the SDK reads as a success, and the Response it
// keeps is the one encoding/json finds.
func FuzzSuccessResponse(f *testing.F) {
	for _, s := range []string{
		`{"Response":{"SessionId":"s","RequestId":"r"}}`,
		`{"Response":{"Error":{"Code":"AuthFailure.SignatureFailure","Message":"m"},"RequestId":"r"}}`,
		`{"Response":{"Error":{"Code":"X"}},"Response":{"RequestId":"r2"}}`,
		`{"code":4000,"message":"m","codeDesc":"InvalidParameter"}`,
		`{"Response":{"ERROR":{"Code":"X"}}}`, `{"Response":{"Error":{}}}`,
		`{"response":null}`, `{"Response":"x"}`, `[]`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, ok := successResponse(body)
		if !ok {
			return
		}
		if err := tchttp.TryReadErr(&http.Response{Body: io.NopCloser(bytes.NewReader(body))}); err != nil {
			t.Fatalf("successResponse(%q) ok, the SDK's TryReadErr: %v", body, err)
		}
		if err := (&tchttp.BaseResponse{}).ParseErrorFromHTTPResponse(body); err != nil {
			t.Fatalf("successResponse(%q) ok, the SDK's ParseErrorFromHTTPResponse: %v", body, err)
		}
		var env struct{ Response json.RawMessage }
		if err := json.Unmarshal(body, &env); err != nil || !bytes.Equal(env.Response, got) {
			t.Fatalf("successResponse(%q) = %q, encoding/json %q (%v)", body, got, env.Response, err)
		}
	})
}
