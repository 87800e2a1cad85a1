package tcemu_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/tcemu"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
)

// detailParams is the DescribeSessionDetail request of a sample session,
// with a window that holds the call.
func detailParams(sm tcemu.Sample) map[string]any {
	var d struct{ StartTimeStamp, EndedTimestamp int64 }
	json.Unmarshal(sm.Detail, &d)
	return map[string]any{
		"SdkAppId":       sm.SdkAppID,
		"SessionId":      sm.SessionID,
		"StartTimestamp": d.StartTimeStamp - 3600,
		"EndTimestamp":   d.EndedTimestamp + 3600,
	}
}

func allSamples(sm tcemu.Sample) []tcemu.Sample {
	return append([]tcemu.Sample{sm}, sm.Others...)
}

func withoutRequestID(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "RequestId")
	return m
}

// The SDK's own signing gets through, and the answer is the stored detail
// field for field, with a fresh RequestId.
func TestSDKDescribeSessionDetail(t *testing.T) {
	for _, tc := range []struct {
		name  string
		token string
		cred  common.CredentialIface
	}{
		{"permanent key", "", common.NewCredential(testID, testKey)},
		{"temporary key with token", "tok-123", common.NewTokenCredential(testID, testKey, "tok-123")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tcemu.Options{Token: tc.token})
			c := e.sdk(tc.cred, "")
			for _, sm := range allSamples(e.sample) {
				got, code := sdkCall(t, c, "ccc", "2020-02-10", "DescribeSessionDetail", detailParams(sm))
				if code != "" {
					t.Fatalf("%s: error %s", sm.SessionID, code)
				}
				b, _ := json.Marshal(got)
				if want := withoutRequestID(t, sm.Detail); !reflect.DeepEqual(withoutRequestID(t, b), want) {
					t.Errorf("%s: answer differs from the stored detail:\n got %s\nwant %s", sm.SessionID, b, sm.Detail)
				}
				var stored struct{ RequestId string }
				json.Unmarshal(sm.Detail, &stored)
				if got["RequestId"] == stored.RequestId {
					t.Errorf("RequestId %v is the stored one, not a fresh one", got["RequestId"])
				}
			}
			// The sample request file holds a valid window as it is.
			var p map[string]any
			json.Unmarshal(e.sample.Request, &p)
			if _, code := sdkCall(t, c, "ccc", "2020-02-10", "DescribeSessionDetail", p); code != "" {
				t.Errorf("sample request: %s", code)
			}
		})
	}
}

// Mistakes made through the SDK are refused with the real API's codes.
func TestSDKRefusals(t *testing.T) {
	for _, tc := range []struct {
		name             string
		token            string // expected by the emulator
		cred             common.CredentialIface
		service, version string
		action           string
		want             string
	}{
		{"wrong key", "", common.NewCredential(testID, "wrong"), "ccc", "2020-02-10", "DescribeSessionDetail", "AuthFailure.SignatureFailure"},
		{"unknown secret id", "", common.NewCredential("AKIDother", testKey), "ccc", "2020-02-10", "DescribeSessionDetail", "AuthFailure.SecretIdNotFound"},
		{"token not expected", "", common.NewTokenCredential(testID, testKey, "tok"), "ccc", "2020-02-10", "DescribeSessionDetail", "AuthFailure.TokenFailure"},
		{"token missing", "tok", common.NewCredential(testID, testKey), "ccc", "2020-02-10", "DescribeSessionDetail", "AuthFailure.TokenFailure"},
		{"token wrong", "tok", common.NewTokenCredential(testID, testKey, "tok2"), "ccc", "2020-02-10", "DescribeSessionDetail", "AuthFailure.TokenFailure"},
		{"scope of another service", "", common.NewCredential(testID, testKey), "tdmq", "2020-02-10", "DescribeSessionDetail", "AuthFailure.InvalidAuthorization"},
		{"wrong version", "", common.NewCredential(testID, testKey), "ccc", "2017-03-12", "DescribeSessionDetail", "NoSuchVersion"},
		{"unknown action", "", common.NewCredential(testID, testKey), "ccc", "2020-02-10", "DescribeSessionDetails", "InvalidAction"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tcemu.Options{Token: tc.token})
			_, code := sdkCall(t, e.sdk(tc.cred, ""), tc.service, tc.version, tc.action, detailParams(e.sample))
			if code != tc.want {
				t.Errorf("got %q, want %q", code, tc.want)
			}
			if n := e.emu.Calls(tc.action); n != 0 {
				t.Errorf("Calls = %d for a refused request", n)
			}
		})
	}
}

// Hand-signed requests: accepted as built, refused with the right code
// after each tampering.
func TestWire(t *testing.T) {
	for _, tc := range []struct {
		name  string
		token string              // expected by the emulator
		edit  func(*wire)         // before signing
		after func(*http.Request) // after signing
		want  string
	}{
		{name: "valid"},
		{name: "content-type without charset", edit: func(w *wire) { w.contentType = "application/json" }},
		{name: "more signed headers", edit: func(w *wire) {
			w.signed = []string{"content-type", "host", "x-tc-action"}
		}},
		{name: "region is optional and accepted for ccc", edit: func(w *wire) { w.region = "ap-guangzhou" }},
		{name: "token", token: "tok", edit: func(w *wire) { w.token = "tok" }},
		{name: "clock skew of 4 minutes", edit: func(w *wire) { w.ts -= 240 }},
		{name: "unsigned payload", edit: func(w *wire) { w.unsignedPayload = true }},
		{name: "unsigned payload, body changed", edit: func(w *wire) { w.unsignedPayload = true },
			after: func(r *http.Request) { setBody(r, addField(string(mustRead(r)), `"Limit":1`)) }, want: "UnknownParameter"},
		{name: "unsigned payload header added after signing", after: func(r *http.Request) {
			r.Header.Set("X-TC-Content-SHA256", "UNSIGNED-PAYLOAD")
		}, want: "AuthFailure.SignatureFailure"},

		{name: "body changed after signing", after: func(r *http.Request) { setBody(r, `{"SdkAppId":1400000001}`) }, want: "AuthFailure.SignatureFailure"},
		{name: "signed action header changed", edit: func(w *wire) {
			w.signed = []string{"content-type", "host", "x-tc-action"}
		}, after: func(r *http.Request) { r.Header.Set("X-TC-Action", "DescribeTelCdr") }, want: "AuthFailure.SignatureFailure"},
		{name: "content-type changed after signing", after: func(r *http.Request) {
			r.Header.Set("Content-Type", "application/json")
		}, want: "AuthFailure.SignatureFailure"},
		{name: "wrong key", edit: func(w *wire) { w.key = "not-the-key" }, want: "AuthFailure.SignatureFailure"},
		{name: "unknown secret id", edit: func(w *wire) { w.id = "AKIDunknown" }, want: "AuthFailure.SecretIdNotFound"},
		{name: "wrong service scope", edit: func(w *wire) { w.service = "tdmq" }, want: "AuthFailure.InvalidAuthorization"},
		{name: "stale timestamp", edit: func(w *wire) { w.ts -= 301 }, want: "AuthFailure.SignatureExpire"},
		{name: "future timestamp", edit: func(w *wire) { w.ts += 301 }, want: "AuthFailure.SignatureExpire"},
		{name: "timestamp changed after signing", after: func(r *http.Request) {
			ts, _ := strconv.ParseInt(r.Header.Get("X-TC-Timestamp"), 10, 64)
			r.Header.Set("X-TC-Timestamp", strconv.FormatInt(ts-1, 10))
		}, want: "AuthFailure.SignatureFailure"},
		{name: "scope date is not the timestamp's date", after: func(r *http.Request) {
			a := r.Header.Get("Authorization")
			i := strings.Index(a, "/") + 1
			r.Header.Set("Authorization", a[:i]+"2001-01-01"+a[i+10:])
		}, want: "AuthFailure.InvalidAuthorization"},
		{name: "token missing", token: "tok", want: "AuthFailure.TokenFailure"},
		{name: "token wrong", token: "tok", edit: func(w *wire) { w.token = "tok2" }, want: "AuthFailure.TokenFailure"},
		{name: "token not expected", edit: func(w *wire) { w.token = "tok" }, want: "AuthFailure.TokenFailure"},
		{name: "no authorization", after: func(r *http.Request) { r.Header.Del("Authorization") }, want: "AuthFailure.SignatureFailure"},
		{name: "other algorithm", after: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "TC3-HMAC-SHA256", "HmacSHA256", 1))
		}, want: "AuthFailure.InvalidAuthorization"},
		{name: "host not signed", edit: func(w *wire) { w.signed = []string{"content-type"} }, want: "AuthFailure.InvalidAuthorization"},
		{name: "signed headers unsorted", edit: func(w *wire) { w.signed = []string{"host", "content-type"} }, want: "AuthFailure.InvalidAuthorization"},
		{name: "signature not hex", after: func(r *http.Request) {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:len(a)-1]+"z")
		}, want: "AuthFailure.InvalidAuthorization"},
		{name: "missing action", edit: func(w *wire) { w.action = "" }, want: "MissingParameter"},
		{name: "missing version", edit: func(w *wire) { w.version = "" }, want: "MissingParameter"},
		{name: "unknown action", edit: func(w *wire) { w.action = "DescribeTelCdrs" }, want: "InvalidAction"},
		{name: "wrong version", edit: func(w *wire) { w.version = "2019-01-01" }, want: "NoSuchVersion"},
		{name: "not JSON", edit: func(w *wire) { w.contentType = "application/x-www-form-urlencoded" }, want: "UnsupportedProtocol"},
		{name: "unknown parameter", edit: func(w *wire) { w.body = addField(w.body, `"Limit":1`) }, want: "UnknownParameter"},
		{name: "parameter name case", edit: func(w *wire) { w.body = strings.Replace(w.body, "SessionId", "SessionID", 1) }, want: "UnknownParameter"},
		{name: "missing parameter", edit: func(w *wire) { w.body = `{"SdkAppId":1400000000}` }, want: "MissingParameter"},
		{name: "null parameter", edit: func(w *wire) { w.body = strings.Replace(w.body, `"0f507d5d-e1e4-436e-a655-1d6c75a79b4f"`, "null", 1) }, want: "MissingParameter"},
		{name: "parameter of wrong type", edit: func(w *wire) { w.body = strings.Replace(w.body, "1400000000", `"1400000000"`, 1) }, want: "InvalidParameter"},
		{name: "body not an object", edit: func(w *wire) { w.body = `[1]` }, want: "InvalidParameter"},
		{name: "session unknown", edit: func(w *wire) { w.body = strings.Replace(w.body, "0f507d5d", "00000000", 1) }, want: "FailedOperation.SessionNotExists"},
		{name: "other application", edit: func(w *wire) { w.body = strings.Replace(w.body, "1400000000", "1400000001", 1) }, want: "FailedOperation.SessionNotExists"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tcemu.Options{Token: tc.token})
			w := e.detailRequest()
			if tc.edit != nil {
				tc.edit(&w)
			}
			r := w.build(t, e.srv.URL)
			if tc.after != nil {
				tc.after(r)
			}
			code, resp := send(t, r)
			if code != tc.want {
				t.Fatalf("got %q, want %q: %v", code, tc.want, resp)
			}
			if code == "" && resp["Caller"] != "00860755xxxxxxxx" {
				t.Errorf("unexpected answer %v", resp)
			}
		})
	}
}

func setBody(r *http.Request, s string) {
	r.GetBody = nil
	r.ContentLength = int64(len(s))
	r.Body = io.NopCloser(strings.NewReader(s))
}

func mustRead(r *http.Request) []byte {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		panic(err)
	}
	return b
}

func readAll(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func addField(body, field string) string {
	return strings.Replace(body, "{", "{"+field+",", 1)
}

// The window rules of DescribeSessionDetail.
func TestDescribeSessionDetailWindow(t *testing.T) {
	e := newEnv(t, tcemu.Options{})
	var d struct{ StartTimeStamp, EndedTimestamp int64 }
	json.Unmarshal(e.sample.Detail, &d)
	now := e.clock.Now().Unix()
	const day = 86400
	for _, tc := range []struct {
		name       string
		start, end int64
		want       string
	}{
		{"exactly the call", d.StartTimeStamp, d.EndedTimestamp, ""},
		{"89 days", now - 89*day, now, ""},
		{"180 days back is a valid window, without the call", now - 180*day, now - 100*day, "FailedOperation.SessionNotExists"},
		{"starts after the call started", d.StartTimeStamp + 1, now, "FailedOperation.SessionNotExists"},
		{"ends before the call ended", d.StartTimeStamp, d.EndedTimestamp - 1, "FailedOperation.SessionNotExists"},
		{"90 days", now - 90*day, now, "InvalidParameterValue"},
		{"older than 180 days", now - 181*day, now - 100*day, "InvalidParameterValue"},
		{"end before start", now, now - 10, "InvalidParameterValue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := detailParams(e.sample)
			p["StartTimestamp"], p["EndTimestamp"] = tc.start, tc.end
			if _, code := sdkCall(t, e.sdk(common.NewCredential(testID, testKey), ""), "ccc", "2020-02-10", "DescribeSessionDetail", p); code != tc.want {
				t.Errorf("got %q, want %q", code, tc.want)
			}
		})
	}
}

// Each required parameter of the API's request models is required here too.
func TestRequiredParameters(t *testing.T) {
	models := loadModels(t)
	e := newEnv(t, tcemu.Options{RateLimit: -1})
	now := e.clock.Now().Unix()
	full := map[string]map[string]any{
		"DescribeSessionDetail": detailParams(e.sample),
		"DescribeTelCdr":        {"SdkAppId": e.sample.SdkAppID, "StartTimeStamp": now - 3600, "EndTimeStamp": now, "PageSize": 10, "PageNumber": 0},
		"SendCmqMsg":            {"QueueName": "q", "MsgContent": "m", "DelaySeconds": 0},
	}
	for action, p := range full {
		service, version := "ccc", "2020-02-10"
		if action == "SendCmqMsg" {
			service, version = "tdmq", "2020-02-17"
		}
		c := e.sdk(common.NewCredential(testID, testKey), "ap-guangzhou")
		if _, code := sdkCall(t, c, service, version, action, p); code != "" {
			t.Fatalf("%s: %s", action, code)
		}
		for name, f := range models[action+"Request"] {
			if !f.Required {
				continue
			}
			q := map[string]any{}
			for k, v := range p {
				if k != name {
					q[k] = v
				}
			}
			if _, code := sdkCall(t, c, service, version, action, q); code != "MissingParameter" {
				t.Errorf("%s without %s: got %q, want MissingParameter", action, name, code)
			}
		}
	}
}

// 21 requests inside one second: the 21st is refused, and a second later
// the budget is back. Each action has its own budget.
func TestRateLimit(t *testing.T) {
	e := newEnv(t, tcemu.Options{})
	c := e.sdk(common.NewCredential(testID, testKey), "")
	p := detailParams(e.sample)
	for i := 1; i <= 21; i++ {
		_, code := sdkCall(t, c, "ccc", "2020-02-10", "DescribeSessionDetail", p)
		want := ""
		if i == 21 {
			want = "RequestLimitExceeded"
		}
		if code != want {
			t.Fatalf("request %d: got %q, want %q", i, code, want)
		}
	}
	if got := e.emu.MaxRate("DescribeSessionDetail"); got != 21 {
		t.Errorf("MaxRate = %d, want 21", got)
	}
	now := e.clock.Now().Unix()
	telCdr := map[string]any{"SdkAppId": e.sample.SdkAppID, "StartTimeStamp": now - 3600, "EndTimeStamp": now, "PageSize": 10, "PageNumber": 0}
	if _, code := sdkCall(t, c, "ccc", "2020-02-10", "DescribeTelCdr", telCdr); code != "" {
		t.Errorf("DescribeTelCdr shares the budget: %s", code)
	}
	e.clock.Advance(999 * time.Millisecond)
	if _, code := sdkCall(t, c, "ccc", "2020-02-10", "DescribeSessionDetail", p); code != "RequestLimitExceeded" {
		t.Errorf("0.999 s later: got %q, want RequestLimitExceeded", code)
	}
	e.clock.Advance(time.Millisecond)
	if _, code := sdkCall(t, c, "ccc", "2020-02-10", "DescribeSessionDetail", p); code != "" {
		t.Errorf("1 s later: got %q", code)
	}
	if got := e.emu.Calls("DescribeSessionDetail"); got != 23 {
		t.Errorf("Calls = %d, want 23", got)
	}
}

func TestRateLimitOptions(t *testing.T) {
	for _, tc := range []struct {
		limit, n, refused int
	}{{-1, 50, 0}, {5, 8, 3}} {
		e := newEnv(t, tcemu.Options{RateLimit: tc.limit})
		refused := 0
		for range tc.n {
			code, _ := send(t, e.detailRequest().build(t, e.srv.URL))
			if code == "RequestLimitExceeded" {
				refused++
			}
		}
		if refused != tc.refused {
			t.Errorf("RateLimit %d: %d of %d refused, want %d", tc.limit, refused, tc.n, tc.refused)
		}
		if got := e.emu.MaxRate("DescribeSessionDetail"); got != tc.n {
			t.Errorf("RateLimit %d: MaxRate = %d, want %d", tc.limit, got, tc.n)
		}
	}
}

func TestHideSession(t *testing.T) {
	e := newEnv(t, tcemu.Options{})
	c := e.sdk(common.NewCredential(testID, testKey), "")
	e.emu.HideSession(e.sample.SessionID, 2)
	for i, want := range []string{"FailedOperation.SessionNotExists", "FailedOperation.SessionNotExists", ""} {
		if _, code := sdkCall(t, c, "ccc", "2020-02-10", "DescribeSessionDetail", detailParams(e.sample)); code != want {
			t.Errorf("call %d: got %q, want %q", i+1, code, want)
		}
	}
}

// Queued faults are served in order, one per request, then the function
// installed with SetFaults, then normal answers.
func TestFaults(t *testing.T) {
	e := newEnv(t, tcemu.Options{})
	e.emu.Inject("DescribeSessionDetail",
		tcemu.Fault{Code: "InternalError"},
		tcemu.Fault{Status: http.StatusBadGateway},
		tcemu.Fault{Delay: time.Millisecond},
		tcemu.Fault{Code: "RequestLimitExceeded", Delay: time.Millisecond},
		tcemu.Fault{Status: 42},
	)
	random := 0
	e.emu.SetFaults(func(action string) *tcemu.Fault {
		if action != "DescribeSessionDetail" {
			t.Errorf("SetFaults asked about %s", action)
		}
		random++
		if random == 1 {
			return &tcemu.Fault{Status: http.StatusServiceUnavailable}
		}
		return nil
	})
	for i, want := range []struct {
		status int
		code   string
	}{{200, "InternalError"}, {502, ""}, {200, ""}, {200, "RequestLimitExceeded"}, {502, ""}, {503, ""}, {200, ""}} {
		resp, err := http.DefaultClient.Do(e.detailRequest().build(t, e.srv.URL))
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		if resp.StatusCode != want.status {
			t.Fatalf("request %d: HTTP %d, want %d", i+1, resp.StatusCode, want.status)
		}
		if want.status != 200 {
			if json.Valid(body) {
				t.Errorf("request %d: gateway error body is JSON: %s", i+1, body)
			}
			continue
		}
		if code, _ := decodeAnswer(t, resp.StatusCode, body); code != want.code {
			t.Errorf("request %d: got %q, want %q", i+1, code, want.code)
		}
	}
	if got := e.emu.Calls("DescribeSessionDetail"); got != 7 {
		t.Errorf("Calls = %d, want 7", got)
	}
	// The SDK reads a gateway's non-JSON answer as a ClientError.
	e.emu.Inject("DescribeSessionDetail", tcemu.Fault{Status: 502})
	if _, code := sdkCall(t, e.sdk(common.NewCredential(testID, testKey), ""), "ccc", "2020-02-10", "DescribeSessionDetail", detailParams(e.sample)); code != "ClientError.ParseJsonError" {
		t.Errorf("SDK: got %q", code)
	}
}

// A slow answer gives up when the caller does.
func TestFaultDelayHonoursContext(t *testing.T) {
	e := newEnv(t, tcemu.Options{})
	e.emu.Inject("DescribeSessionDetail", tcemu.Fault{Delay: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	r := e.detailRequest().build(t, e.srv.URL+"/").WithContext(ctx)
	r.Host = r.URL.Host // as the server side sees it
	w := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		e.emu.ServeHTTP(w, r)
		close(done)
	}()
	cancel()
	<-done
	if w.Body.Len() != 0 {
		t.Errorf("answered after the caller left: %s", w.Body)
	}
}

func TestSendCmqMsg(t *testing.T) {
	e := newEnv(t, tcemu.Options{})
	c := e.sdk(common.NewCredential(testID, testKey), "ap-guangzhou")
	var ids []string
	for i, msg := range []string{`{"id":1}`, `{"id":2,"url":"https://x/?a=1&b=<2>"}`} {
		resp, code := sdkCall(t, c, "tdmq", "2020-02-17", "SendCmqMsg", map[string]any{"QueueName": "records", "MsgContent": msg, "DelaySeconds": i * 5})
		if code != "" {
			t.Fatal(code)
		}
		if resp["Result"] != true {
			t.Errorf("Result = %v", resp["Result"])
		}
		id, _ := resp["MsgId"].(string)
		if id == "" {
			t.Errorf("no MsgId: %v", resp)
		}
		ids = append(ids, id)
	}
	got := e.emu.CMQMessages("records")
	want := []tcemu.CMQMessage{{ids[0], `{"id":1}`, 0}, {ids[1], `{"id":2,"url":"https://x/?a=1&b=<2>"}`, 5}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CMQMessages = %+v, want %+v", got, want)
	}
	if got := e.emu.CMQMessages("other"); len(got) != 0 {
		t.Errorf("other queue: %v", got)
	}

	for _, tc := range []struct {
		name   string
		region string
		params map[string]any
		want   string
	}{
		{"no region", "", map[string]any{"QueueName": "q", "MsgContent": "m", "DelaySeconds": 0}, "MissingParameter"},
		{"empty queue name", "ap-guangzhou", map[string]any{"QueueName": "", "MsgContent": "m", "DelaySeconds": 0}, "InvalidParameterValue"},
		{"negative delay", "ap-guangzhou", map[string]any{"QueueName": "q", "MsgContent": "m", "DelaySeconds": -1}, "InvalidParameterValue"},
		{"too large", "ap-guangzhou", map[string]any{"QueueName": "q", "MsgContent": strings.Repeat("x", 1<<20+1), "DelaySeconds": 0}, "InvalidParameterValue"},
		{"unknown parameter", "ap-guangzhou", map[string]any{"QueueName": "q", "MsgContent": "m", "DelaySeconds": 0, "MsgTag": "t"}, "UnknownParameter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, code := sdkCall(t, e.sdk(common.NewCredential(testID, testKey), tc.region), "tdmq", "2020-02-17", "SendCmqMsg", tc.params); code != tc.want {
				t.Errorf("got %q, want %q", code, tc.want)
			}
		})
	}
	// A ccc scope cannot send to tdmq.
	if _, code := sdkCall(t, c, "ccc", "2020-02-17", "SendCmqMsg", map[string]any{"QueueName": "q", "MsgContent": "m", "DelaySeconds": 0}); code != "AuthFailure.InvalidAuthorization" {
		t.Errorf("ccc scope: got %q", code)
	}
}
