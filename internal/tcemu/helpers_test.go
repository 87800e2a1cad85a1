package tcemu_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/tcemu"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
)

const (
	testID  = "AKIDtcemuTESTabcdefghijklmnopqrstuv"
	testKey = "tcemuTESTsecretKEYabcdefghijklmno"
)

// clock is a fake clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is an emulator on loopback loaded with the samples.
type env struct {
	emu    *tcemu.Server
	srv    *httptest.Server
	clock  *clock
	sample tcemu.Sample
}

// newEnv starts an emulator whose clock is frozen at the real time (the SDK
// signs with the real time), loaded with the samples.
func newEnv(t testing.TB, o tcemu.Options) *env {
	t.Helper()
	c := newClock(time.Now())
	if o.SecretID == "" {
		o.SecretID, o.SecretKey = testID, testKey
	}
	if o.Now == nil {
		o.Now = c.Now
	}
	emu := tcemu.New(o)
	sm, err := tcemu.LoadSamples(emu, c.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return &env{emu: emu, srv: srv, clock: c, sample: sm}
}

// sdk returns tencentcloud-sdk-go's common client pointed at the emulator.
func (e *env) sdk(cred common.CredentialIface, region string) *common.Client {
	p := profile.NewClientProfile()
	p.HttpProfile.Endpoint = strings.TrimPrefix(e.srv.URL, "http://")
	p.HttpProfile.Scheme = "http"
	p.HttpProfile.ReqTimeout = 10
	return common.NewCommonClient(cred, region, p)
}

// sdkCall sends one action through the SDK and returns the Response object
// and the API error code ("" on success).
func sdkCall(t testing.TB, c *common.Client, service, version, action string, params any) (map[string]any, string) {
	t.Helper()
	req := tchttp.NewCommonRequest(service, version, action)
	if err := req.SetActionParameters(params); err != nil {
		t.Fatal(err)
	}
	resp := tchttp.NewCommonResponse()
	if err := c.Send(req, resp); err != nil {
		var sdkErr *tcerr.TencentCloudSDKError
		if !errors.As(err, &sdkErr) {
			t.Fatalf("%s: %v", action, err)
		}
		if sdkErr.GetRequestId() == "" && !strings.HasPrefix(sdkErr.GetCode(), "ClientError") {
			t.Errorf("%s: error %s has no RequestId", action, sdkErr.GetCode())
		}
		return nil, sdkErr.GetCode()
	}
	var out struct{ Response map[string]any }
	if err := json.Unmarshal(resp.GetBody(), &out); err != nil {
		t.Fatal(err)
	}
	return out.Response, ""
}

// wire is a hand-built API 3.0 request, signed by the test's own
// implementation of the published TC3-HMAC-SHA256 steps.
type wire struct {
	action, version, service string
	body                     string
	ts                       int64
	id, key, token, region   string
	contentType              string
	signed                   []string          // SignedHeaders, default content-type;host
	headers                  map[string]string // extra headers, set before signing
	unsignedPayload          bool              // the spec's X-TC-Content-SHA256 opt-out
}

func (e *env) detailRequest() wire {
	return wire{
		action: "DescribeSessionDetail", version: "2020-02-10", service: "ccc",
		body: string(e.sample.Request), ts: e.clock.Now().Unix(),
		id: testID, key: testKey, contentType: "application/json; charset=utf-8",
	}
}

func (w wire) build(t testing.TB, url string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, url, strings.NewReader(w.body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", w.contentType)
	r.Header.Set("X-TC-Action", w.action)
	r.Header.Set("X-TC-Version", w.version)
	r.Header.Set("X-TC-Timestamp", fmt.Sprint(w.ts))
	if w.token != "" {
		r.Header.Set("X-TC-Token", w.token)
	}
	if w.region != "" {
		r.Header.Set("X-TC-Region", w.region)
	}
	for k, v := range w.headers {
		r.Header.Set(k, v)
	}
	payload := []byte(w.body)
	if w.unsignedPayload {
		r.Header.Set("X-TC-Content-SHA256", "UNSIGNED-PAYLOAD")
		payload = []byte("UNSIGNED-PAYLOAD")
	}
	signed := w.signed
	if signed == nil {
		signed = []string{"content-type", "host"}
	}
	date := time.Unix(w.ts, 0).UTC().Format("2006-01-02")
	var canon strings.Builder
	canon.WriteString("POST\n/\n\n")
	for _, h := range signed {
		v := r.Header.Get(h)
		if h == "host" {
			v = r.URL.Host
		}
		canon.WriteString(h + ":" + strings.ToLower(strings.TrimSpace(v)) + "\n")
	}
	canon.WriteString("\n" + strings.Join(signed, ";") + "\n" + hexSHA256(payload))
	toSign := "TC3-HMAC-SHA256\n" + fmt.Sprint(w.ts) + "\n" + date + "/" + w.service + "/tc3_request\n" + hexSHA256([]byte(canon.String()))
	k := hmacOf([]byte("TC3"+w.key), date)
	k = hmacOf(k, w.service)
	k = hmacOf(k, "tc3_request")
	r.Header.Set("Authorization", "TC3-HMAC-SHA256 Credential="+w.id+"/"+date+"/"+w.service+"/tc3_request, SignedHeaders="+
		strings.Join(signed, ";")+", Signature="+hex.EncodeToString(hmacOf(k, toSign)))
	return r
}

func hmacOf(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func hexSHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// send posts r and returns the API error code ("" for success) and the
// Response object, checking the envelope every answer must have.
func send(t testing.TB, r *http.Request) (string, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return decodeAnswer(t, resp.StatusCode, body)
}

func decodeAnswer(t testing.TB, status int, body []byte) (string, map[string]any) {
	t.Helper()
	if status != http.StatusOK {
		t.Fatalf("HTTP %d: %s", status, body)
	}
	var env struct {
		Response map[string]any
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&env); err != nil || env.Response == nil {
		t.Fatalf("answer is not an API envelope (%v): %s", err, body)
	}
	if id, _ := env.Response["RequestId"].(string); !isUUID(id) {
		t.Errorf("RequestId %q is not a UUID: %s", id, body)
	}
	if e, ok := env.Response["Error"].(map[string]any); ok {
		code, _ := e["Code"].(string)
		if code == "" || e["Message"] == "" {
			t.Errorf("malformed error: %s", body)
		}
		return code, env.Response
	}
	return "", env.Response
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdef", c) {
				return false
			}
		}
	}
	return true
}
