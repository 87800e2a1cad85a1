package handler_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/push"
	"github.com/ccc-enricher/ccc-enricher/internal/record"
)

// fuzzNow is the handler's clock in FuzzHandler: a little after the
// samples' calls, so that their timestamps are valid and the tokens
// issued at start-up stay valid whatever the wall clock says.
var fuzzNow = time.Unix(1756892300, 0)

// FuzzHandler drives the whole handler with arbitrary requests, in front
// of in-process fakes whose behaviour the input also picks (detail found,
// transiently or permanently failing; sink accepting or refusing; basic
// or OAuth2 authentication; masking; forward-partial; the sink behind an
// always failing primary, as the dead-letter sink). Whatever comes:
//
//   - nothing panics (the handler recovers panics into ErrCode 50001, so
//     that code and a "panic" log line are failures here);
//   - every reply that is not a success is CCC's form, its ErrCode's first
//     three digits being the HTTP status (net/http's own redirect of an
//     unclean path such as "//push" once got through: K6 in
//     docs/SECURITY.md);
//   - ErrCode 0 is answered only for an authenticated push of an allowed
//     SdkAppId whose record reached the sink, and a record reaches the
//     sink only when the reply says so (ErrCode 0, or an on-demand record
//     with forward=true and the API token).
func FuzzHandler(f *testing.F) {
	cdr := readFile(f, "../internal/push/testdata/push-cdr.json")
	rec := readFile(f, "../internal/push/testdata/push-record.json")
	vm := readFile(f, "../internal/push/testdata/push-voicemail.json")
	bearerAPI := "Bearer " + fakeAPIToken
	seeds := []struct {
		mode                 uint8
		method, target, auth string
		body                 []byte
	}{
		{0, "POST", "/push?action=cdr&version=1", fakeBasicHeader, cdr},
		{0, "POST", "/push?action=record&version=1", fakeBasicHeader, rec},
		{0, "POST", "/push?action=voicemail", fakeBasicHeader, vm},
		{1, "POST", "/push?action=cdr&version=1", fakeBasicHeader, cdr},
		{2, "POST", "/push?action=cdr&version=1", fakeBasicHeader, cdr},
		{3, "POST", "/push?action=cdr&version=1", fakeBasicHeader, cdr},
		{37, "POST", "/push?action=cdr&version=1", fakeBasicHeader, cdr},
		{16, "POST", "/push?action=cdr&version=1", fakeBasicHeader, cdr},
		{0, "POST", "/push?action=cdr&version=2", fakeBasicHeader, cdr},
		{0, "POST", "/push?action=cdr&action=record", fakeBasicHeader, cdr},
		{0, "POST", "/push?action=cdr", basicHeader(fakeUser, "wrong"), cdr},
		{0, "POST", "/push?action=cdr", "", cdr},
		{0, "POST", "/push?action=cdr", fakeBasicHeader, bytes.Replace(cdr, []byte("1400000000"), []byte("1400000009"), 1)},
		{0, "POST", "/push?action=cdr", fakeBasicHeader, []byte(`{"SdkAppId":"1400000000","SessionId":"s"}`)},
		{0, "POST", "/push?action=cdr", fakeBasicHeader, append([]byte(`{"a":`), bytes.Repeat([]byte("["), 100)...)},
		{0, "GET", "/healthz", "", nil},
		{0, "GET", "/push", "", nil},
		{0, "PUT", "/oauth/token", "", nil},
		{8, "POST", "/oauth/token", basicHeader(fakeClientID, fakeSecret), []byte("grant_type=client_credentials")},
		{8, "POST", "/push?action=cdr", "Bearer x.y.z", cdr},
		{0, "POST", "/sessions/0f507d5d-e1e4-436e-a655-1d6c75a79b4f/enrich", bearerAPI, []byte(`{"SdkAppId":1400000000}`)},
		{0, "POST", "/sessions/0f507d5d-e1e4-436e-a655-1d6c75a79b4f/enrich?forward=true", bearerAPI, []byte(`{"SdkAppId":1400000000,"StartTimestamp":1756892198}`)},
		{1, "POST", "/sessions/x/enrich?forward=true", bearerAPI, []byte(`{"SdkAppId":1400000000}`)},
		{0, "POST", "/sessions/x/enrich", bearerAPI, []byte(`{"SdkAppId":1400000000,"x":1}`)},
		{0, "POST", "/sessions/%20/enrich", bearerAPI, []byte(`{"SdkAppId":1400000000} {}`)},
		{0, "POST", "/sessions//enrich", "Bearer ", nil},
		{0, "POST", "/nope/../push?action=cdr", fakeBasicHeader, cdr},
	}
	for _, s := range seeds {
		f.Add(s.mode, s.method, s.target, s.auth, "", s.body)
	}
	f.Add(uint8(0), "POST", "/push?action=cdr&version=1", fakeBasicHeader, strings.Repeat("r", 129), cdr)

	// One world per mode, built once: the fuzz function only reads them,
	// but for the sink's count, which it compares before and after.
	worlds := make(map[uint8]*fakeWorld)
	tokens := make(map[uint8]string)
	world := func(mode uint8) *fakeWorld {
		mode &= 0x3f
		if w, ok := worlds[mode]; ok {
			return w
		}
		auth := "basic"
		if mode&8 != 0 {
			auth = "oauth2"
		}
		o := fakeOptions{auth: auth, mask: mode&16 != 0, forwardPartial: mode&4 != 0, keep: true, logs: true,
			now: func() time.Time { return fuzzNow }}
		if mode&32 != 0 {
			o.deadLetter = errPermanent
		}
		w := newFakeWorld(f, o)
		switch mode & 3 {
		case 1:
			w.detail.err = errTransient
		case 2:
			w.detail.err = errPermanent
		case 3:
			w.sink.err = errTransient
		}
		if auth == "oauth2" {
			tokens[mode] = "Bearer " + w.token(f)
		}
		worlds[mode] = w
		return w
	}
	for m := range uint8(64) {
		world(m)
		if tok, ok := tokens[m]; ok {
			f.Add(m, "POST", "/push?action=cdr&version=1", tok, "", cdr)
		}
	}

	f.Fuzz(func(t *testing.T, mode uint8, method, target, authorization, requestID string, body []byte) {
		if !strings.HasPrefix(target, "/") {
			return
		}
		r, err := http.NewRequest(method, "http://function.example"+target, bytes.NewReader(body))
		if err != nil {
			return
		}
		if authorization != "" {
			r.Header["Authorization"] = []string{authorization}
		}
		if requestID != "" {
			r.Header["X-Request-Id"] = []string{requestID}
		}
		r.Header.Set("Content-Type", "application/json")
		if r.URL.Path == "/oauth/token" {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		w := world(mode)
		before := w.sink.count()
		w.logs.Reset()
		rec := httptest.NewRecorder()
		w.h.ServeHTTP(rec, r)
		delivered := w.sink.count() - before

		if bytes.Contains(w.logs.Bytes(), []byte(`"msg":"panic"`)) {
			t.Fatalf("the handler panicked:\n%s", w.logs)
		}
		var reply struct {
			ErrCode *int
			ErrMsg  string
		}
		isCCC := json.Unmarshal(rec.Body.Bytes(), &reply) == nil && reply.ErrCode != nil
		oauthRoute := w.oauth != nil && r.URL.Path == "/oauth/token" && r.Method == "POST"
		switch {
		case oauthRoute:
			// RFC 6749's replies; FuzzTokenRequest checks them.
		case rec.Code == 200 && isCCC && *reply.ErrCode == 0:
			if !(r.Method == "POST" && r.URL.Path == "/push") {
				t.Fatalf("ErrCode 0 for %s %s", r.Method, r.URL.Path)
			}
			checkAcceptedPush(t, w, r, body, delivered)
			return
		case rec.Code == 200:
			// Health, or an on-demand record.
			if r.URL.Path != "/healthz" && !strings.HasSuffix(r.URL.Path, "/enrich") {
				t.Fatalf("200 for %s %s: %s", r.Method, r.URL.Path, rec.Body)
			}
			if strings.HasSuffix(r.URL.Path, "/enrich") && authorization != "Bearer "+fakeAPIToken {
				t.Fatalf("on-demand record without the API token (%q)", authorization)
			}
			if delivered > 0 && r.URL.Query().Get("forward") != "true" {
				t.Fatal("on-demand record forwarded without forward=true")
			}
			return
		default:
			if !isCCC || *reply.ErrCode/100 != rec.Code || reply.ErrMsg == "" {
				t.Fatalf("reply %d %q is not CCC's form with a matching status", rec.Code, rec.Body)
			}
			if *reply.ErrCode == 50001 {
				t.Fatalf("internal error: %s\n%s", rec.Body, w.logs)
			}
		}
		if delivered != 0 {
			t.Fatalf("%d records reached the sink, reply %d %s", delivered, rec.Code, rec.Body)
		}
	})
}

// checkAcceptedPush checks an ErrCode 0: the push was authentic, its app
// allowed, and its record is in the sink.
func checkAcceptedPush(t *testing.T, w *fakeWorld, r *http.Request, body []byte, delivered int) {
	t.Helper()
	if delivered != 1 {
		t.Fatalf("ErrCode 0 with %d records delivered", delivered)
	}
	if w.oauth == nil {
		if u, p, ok := r.BasicAuth(); !ok || u != fakeUser || p != fakePassword {
			t.Fatalf("ErrCode 0 for Authorization %q", r.Header.Get("Authorization"))
		}
	} else if err := w.oauth.Authenticate(r); err != nil {
		t.Fatalf("ErrCode 0 with a token the authenticator refuses: %v", err)
	}
	kind, err := push.ParseKind(r.URL.Query().Get("action"))
	if err != nil {
		t.Fatalf("ErrCode 0 for action %q", r.URL.Query().Get("action"))
	}
	p, err := push.Parse(kind, body, fuzzNow)
	if err != nil {
		t.Fatalf("ErrCode 0 for a body Parse refuses: %v", err)
	}
	msgs := w.sink.messages()
	var got record.Record
	if err := json.Unmarshal(msgs[len(msgs)-1].Body, &got); err != nil {
		t.Fatalf("delivered record: %v", err)
	}
	if got.SdkAppID != sampleAppID || p.SdkAppID != sampleAppID || got.SessionID != p.SessionID || got.Kind != kind {
		t.Fatalf("delivered record %s/%d/%s for push %d/%s", got.Kind, got.SdkAppID, got.SessionID, p.SdkAppID, p.SessionID)
	}
}
