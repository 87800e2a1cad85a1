package pushauth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	testClientID = "ccc push/client" // characters that RFC 6749 §2.3.1 encoding changes
	testSecret   = "0123456789abcdef+/%=secret"
)

// fakeClock is a settable clock shared by the issuer and the verifier.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: testNow} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// protected serves a push endpoint guarded by a.
func protected(a Authenticator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.Authenticate(r); err != nil {
			var ae *AuthError
			if errors.As(err, &ae) {
				w.Header().Set("WWW-Authenticate", ae.Challenge)
			}
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		io.WriteString(w, `{"ErrCode":0,"ErrMsg":"ok"}`)
	})
}

// TestOAuth2EndToEnd runs CCC's flow over loopback: fetch a token from the
// token endpoint, push with it.
func TestOAuth2EndToEnd(t *testing.T) {
	clock := newClock()
	o := NewOAuth2(testClientID, testSecret, 0, clock.Now)
	mux := http.NewServeMux()
	mux.Handle("/oauth/token", o.TokenHandler())
	mux.Handle("/push", protected(o))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, tc := range []struct {
		name string
		req  func() *http.Request
	}{
		{"Basic, form-encoded as RFC 6749 asks", func() *http.Request {
			r := tokenRequest(srv.URL, "grant_type=client_credentials&scope=push")
			r.SetBasicAuth(url.QueryEscape(testClientID), url.QueryEscape(testSecret))
			return r
		}},
		{"Basic, raw", func() *http.Request {
			r := tokenRequest(srv.URL, "grant_type=client_credentials&scope=push")
			r.SetBasicAuth(testClientID, testSecret)
			return r
		}},
		{"credentials in the body", func() *http.Request {
			return tokenRequest(srv.URL, url.Values{
				"grant_type": {"client_credentials"}, "client_id": {testClientID},
				"client_secret": {testSecret}, "scope": {"push"},
			}.Encode())
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := srv.Client().Do(tc.req())
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b, _ := io.ReadAll(resp.Body)
				t.Fatalf("token: %s %s", resp.Status, b)
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q", cc)
			}
			var tok struct {
				AccessToken string `json:"access_token"`
				TokenType   string `json:"token_type"`
				ExpiresIn   int    `json:"expires_in"`
				Scope       string `json:"scope"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken == "" || tok.TokenType != "Bearer" || tok.ExpiresIn != int(DefaultTokenTTL/time.Second) || tok.Scope != "push" {
				t.Fatalf("token reply = %+v", tok)
			}
			if code := push(t, srv.URL, "Bearer "+tok.AccessToken); code != http.StatusOK {
				t.Errorf("push with the token: %d", code)
			}
			// Another instance with the same secret accepts it: no shared state.
			if err := NewOAuth2(testClientID, testSecret, 0, clock.Now).Authenticate(requestWith("Bearer " + tok.AccessToken)); err != nil {
				t.Errorf("another instance: %v", err)
			}
			// Rotating the secret revokes it.
			if err := NewOAuth2(testClientID, testSecret+"2", 0, clock.Now).Authenticate(requestWith("Bearer " + tok.AccessToken)); err == nil {
				t.Error("a rotated secret accepts the old token")
			}
		})
	}

	t.Run("without a token", func(t *testing.T) {
		if code := push(t, srv.URL, ""); code != http.StatusUnauthorized {
			t.Errorf("push without a token: %d", code)
		}
	})
}

func tokenRequest(base, form string) *http.Request {
	r, err := http.NewRequest(http.MethodPost, base+"/oauth/token", strings.NewReader(form))
	if err != nil {
		panic(err)
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

func push(t *testing.T, base, authorization string) int {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, base+"/push?action=cdr&version=1", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		r.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer ") {
		t.Errorf("401 without a Bearer challenge")
	}
	return resp.StatusCode
}

func TestTokenEndpoint(t *testing.T) {
	o := NewOAuth2(testClientID, testSecret, 5*time.Minute, newClock().Now)
	basic := func(user, pass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	good := basic(url.QueryEscape(testClientID), url.QueryEscape(testSecret))
	const form = "application/x-www-form-urlencoded"
	for _, tc := range []struct {
		name        string
		method      string
		contentType string
		auth        string
		body        string
		status      int
		code        string // error code; "" for success
	}{
		{"ok", "POST", form, good, "grant_type=client_credentials", 200, ""},
		{"ok with charset", "POST", form + "; charset=UTF-8", good, "grant_type=client_credentials", 200, ""},
		{"ok, both methods agreeing", "POST", form, good, "grant_type=client_credentials&client_id=" + url.QueryEscape(testClientID) + "&client_secret=" + url.QueryEscape(testSecret), 200, ""},
		{"ok, scope echoed", "POST", form, good, "grant_type=client_credentials&scope=a+b", 200, ""},
		{"GET", "GET", form, good, "", 405, "invalid_request"},
		{"PUT", "PUT", form, good, "grant_type=client_credentials", 405, "invalid_request"},
		{"JSON body", "POST", "application/json", good, `{"grant_type":"client_credentials"}`, 400, "invalid_request"},
		{"no content type", "POST", "", good, "grant_type=client_credentials", 400, "invalid_request"},
		{"bad content type", "POST", "multipart/form-data; boundary", good, "grant_type=client_credentials", 400, "invalid_request"},
		{"oversized body", "POST", form, good, "grant_type=client_credentials&pad=" + strings.Repeat("a", maxTokenRequestBytes), 413, "invalid_request"},
		{"empty body", "POST", form, good, "", 400, "invalid_request"},
		{"bad escape", "POST", form, good, "grant_type=client_credentials&x=%zz", 400, "invalid_request"},
		{"semicolon", "POST", form, good, "grant_type=client_credentials;x=1", 400, "invalid_request"},
		{"repeated parameter", "POST", form, good, "grant_type=client_credentials&grant_type=client_credentials", 400, "invalid_request"},
		{"password grant", "POST", form, good, "grant_type=password&username=a&password=b", 400, "unsupported_grant_type"},
		{"authorization code grant", "POST", form, good, "grant_type=authorization_code&code=x", 400, "unsupported_grant_type"},
		{"no client authentication", "POST", form, "", "grant_type=client_credentials", 401, "invalid_client"},
		{"wrong secret (Basic)", "POST", form, basic(url.QueryEscape(testClientID), "wrong"), "grant_type=client_credentials", 401, "invalid_client"},
		{"wrong client (Basic)", "POST", form, basic("other", url.QueryEscape(testSecret)), "grant_type=client_credentials", 401, "invalid_client"},
		{"wrong secret (body)", "POST", form, "", "grant_type=client_credentials&client_id=" + url.QueryEscape(testClientID) + "&client_secret=wrong", 401, "invalid_client"},
		{"client_id alone", "POST", form, "", "grant_type=client_credentials&client_id=" + url.QueryEscape(testClientID), 401, "invalid_client"},
		{"bad client and bad grant", "POST", form, basic("x", "y"), "grant_type=password", 401, "invalid_client"},
		{"bearer on the token endpoint", "POST", form, "Bearer abc", "grant_type=client_credentials", 401, "invalid_client"},
		{"malformed Basic", "POST", form, "Basic !!!", "grant_type=client_credentials", 401, "invalid_client"},
		{"conflicting client_id", "POST", form, good, "grant_type=client_credentials&client_id=other", 400, "invalid_request"},
		{"conflicting client_secret", "POST", form, good, "grant_type=client_credentials&client_secret=other", 400, "invalid_request"},
		{"malformed scope", "POST", form, good, "grant_type=client_credentials&scope=a%22b", 400, "invalid_scope"},
		{"scope with double space", "POST", form, good, "grant_type=client_credentials&scope=a++b", 400, "invalid_scope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "/oauth/token", strings.NewReader(tc.body))
			if tc.contentType != "" {
				r.Header.Set("Content-Type", tc.contentType)
			}
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			w := httptest.NewRecorder()
			o.TokenHandler().ServeHTTP(w, r)
			if w.Code != tc.status {
				t.Errorf("status = %d, want %d (%s)", w.Code, tc.status, w.Body)
			}
			if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q", cc)
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q", ct)
			}
			var reply map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &reply); err != nil {
				t.Fatalf("reply %q: %v", w.Body, err)
			}
			if tc.code == "" {
				token, _ := reply["access_token"].(string)
				if err := o.Authenticate(requestWith("Bearer " + token)); err != nil {
					t.Errorf("issued token refused: %v", err)
				}
				if reply["expires_in"] != float64(300) || reply["token_type"] != "Bearer" {
					t.Errorf("reply = %v", reply)
				}
				if strings.Contains(tc.body, "scope=a+b") && reply["scope"] != "a b" {
					t.Errorf("scope = %v", reply["scope"])
				}
				return
			}
			if reply["error"] != tc.code {
				t.Errorf("error = %v, want %s", reply["error"], tc.code)
			}
			if _, ok := reply["access_token"]; ok {
				t.Error("error reply carries a token")
			}
			if strings.Contains(w.Body.String(), testSecret) {
				t.Error("reply repeats the secret")
			}
			if got := w.Header().Get("WWW-Authenticate"); (tc.status == 401) != strings.HasPrefix(got, "Basic ") {
				t.Errorf("WWW-Authenticate = %q for status %d", got, tc.status)
			}
			if tc.status == 405 && w.Header().Get("Allow") != "POST" {
				t.Errorf("Allow = %q", w.Header().Get("Allow"))
			}
		})
	}
}

// TestTokenEndpointColon checks a client id with a colon, which only the
// form-encoding of RFC 6749 §2.3.1 lets through Basic authentication.
func TestTokenEndpointColon(t *testing.T) {
	o := NewOAuth2("ccc:push", "secret:with:colons", 0, newClock().Now)
	for _, tc := range []struct {
		user, pass string
		status     int
	}{
		{url.QueryEscape("ccc:push"), url.QueryEscape("secret:with:colons"), 200},
		{"ccc:push", "secret:with:colons", 401},
	} {
		r := httptest.NewRequest("POST", "/oauth/token", strings.NewReader("grant_type=client_credentials"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth(tc.user, tc.pass)
		w := httptest.NewRecorder()
		o.TokenHandler().ServeHTTP(w, r)
		if w.Code != tc.status {
			t.Errorf("%q:%q: status %d, want %d", tc.user, tc.pass, w.Code, tc.status)
		}
	}
}

func TestTokenEndpointUnconfigured(t *testing.T) {
	for _, o := range []*OAuth2{NewOAuth2("", "", 0, nil), NewOAuth2("id", "", 0, nil), NewOAuth2("", "secret", 0, nil)} {
		for _, body := range []string{
			"grant_type=client_credentials&client_id=&client_secret=",
			"grant_type=client_credentials&client_id=id&client_secret=",
			"grant_type=client_credentials&client_id=&client_secret=secret",
		} {
			r := httptest.NewRequest("POST", "/oauth/token", strings.NewReader(body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			w := httptest.NewRecorder()
			o.TokenHandler().ServeHTTP(w, r)
			if w.Code != 401 {
				t.Errorf("unconfigured endpoint answered %d to %q", w.Code, body)
			}
		}
		// Nor does it accept a token signed with the key of an empty secret.
		forged := signed(t, o.key, jwt.SigningMethodHS256, claims(testNow, o.clientID))
		if err := o.Authenticate(requestWith("Bearer " + forged)); err == nil {
			t.Error("unconfigured OAuth2 accepted a token")
		}
	}
}

func claims(now time.Time, sub string) jwt.RegisteredClaims {
	return jwt.RegisteredClaims{
		Issuer:    tokenIssuer,
		Subject:   sub,
		Audience:  jwt.ClaimStrings{tokenAudience},
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute)),
		ID:        "test",
	}
}

func signed(t testing.TB, key any, m jwt.SigningMethod, c jwt.Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBearer(t *testing.T) {
	clock := newClock()
	o := NewOAuth2(testClientID, testSecret, 10*time.Minute, clock.Now)
	good, err := o.issue()
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	otherKey := NewOAuth2(testClientID, "another secret entirely", 0, clock.Now)
	otherToken, _ := otherKey.issue()

	with := func(f func(*jwt.RegisteredClaims)) jwt.RegisteredClaims {
		c := claims(testNow, testClientID)
		f(&c)
		return c
	}
	// The signature's last base64 character carries 4 bits of the hash
	// and 2 padding bits; flipping a padding bit leaves the bytes alone.
	sig := parts[2]
	last := strings.IndexByte(base64URLAlphabet, sig[len(sig)-1])
	noncanonical := parts[0] + "." + parts[1] + "." + sig[:len(sig)-1] + string(base64URLAlphabet[last^1])

	tamperedClaims := func() string {
		c, _ := base64.RawURLEncoding.DecodeString(parts[1])
		c2 := strings.Replace(string(c), tokenAudience, tokenAudience+"x", 1)
		return parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(c2)) + "." + parts[2]
	}()
	flipped := []byte(good)
	flipped[len(parts[0])+5] ^= 1

	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims(testNow, testClientID)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name   string
		header string
		at     time.Time // zero: testNow
		ok     bool
	}{
		{"issued", "Bearer " + good, time.Time{}, true},
		{"scheme in lower case", "bearer " + good, time.Time{}, true},
		{"just before exp + leeway", "Bearer " + good, testNow.Add(10*time.Minute + tokenLeeway - time.Second), true},
		{"hand-made with the right key", "Bearer " + signed(t, o.key, jwt.SigningMethodHS256, claims(testNow, testClientID)), time.Time{}, true},

		{"missing", "", time.Time{}, false},
		{"Basic", "Basic " + base64.StdEncoding.EncodeToString([]byte(testClientID+":"+testSecret)), time.Time{}, false},
		{"empty", "Bearer ", time.Time{}, false},
		{"scheme only", "Bearer", time.Time{}, false},
		{"garbage", "Bearer garbage", time.Time{}, false},
		{"three empty segments", "Bearer ..", time.Time{}, false},
		{"four segments", "Bearer " + good + ".x", time.Time{}, false},
		{"too long", "Bearer " + good + strings.Repeat("A", maxTokenBytes), time.Time{}, false},
		{"expired", "Bearer " + good, testNow.Add(10*time.Minute + tokenLeeway + time.Second), false},
		{"long expired", "Bearer " + good, testNow.Add(24 * time.Hour), false},
		{"issued in the future", "Bearer " + signed(t, o.key, jwt.SigningMethodHS256, with(func(c *jwt.RegisteredClaims) {
			c.IssuedAt = jwt.NewNumericDate(testNow.Add(time.Hour))
			c.ExpiresAt = jwt.NewNumericDate(testNow.Add(2 * time.Hour))
		})), time.Time{}, false},
		{"tampered claims", "Bearer " + tamperedClaims, time.Time{}, false},
		{"tampered header", "Bearer " + string(flipped), time.Time{}, false},
		{"non-canonical base64", "Bearer " + noncanonical, time.Time{}, false},
		{"padded base64", "Bearer " + good + "=", time.Time{}, false},
		{"alg none", "Bearer " + none, time.Time{}, false},
		{"alg none, signature kept", "Bearer " + strings.Join(append(strings.Split(none, ".")[:2], parts[2]), "."), time.Time{}, false},
		{"HS512 with the right key", "Bearer " + signed(t, o.key, jwt.SigningMethodHS512, claims(testNow, testClientID)), time.Time{}, false},
		{"HS384 with the right key", "Bearer " + signed(t, o.key, jwt.SigningMethodHS384, claims(testNow, testClientID)), time.Time{}, false},
		{"other key", "Bearer " + otherToken, time.Time{}, false},
		{"raw secret as key", "Bearer " + signed(t, []byte(testSecret), jwt.SigningMethodHS256, claims(testNow, testClientID)), time.Time{}, false},
		{"wrong audience", "Bearer " + signed(t, o.key, jwt.SigningMethodHS256, with(func(c *jwt.RegisteredClaims) { c.Audience = jwt.ClaimStrings{"other"} })), time.Time{}, false},
		{"no audience", "Bearer " + signed(t, o.key, jwt.SigningMethodHS256, with(func(c *jwt.RegisteredClaims) { c.Audience = nil })), time.Time{}, false},
		{"wrong issuer", "Bearer " + signed(t, o.key, jwt.SigningMethodHS256, with(func(c *jwt.RegisteredClaims) { c.Issuer = "other" })), time.Time{}, false},
		{"wrong subject", "Bearer " + signed(t, o.key, jwt.SigningMethodHS256, with(func(c *jwt.RegisteredClaims) { c.Subject = "other" })), time.Time{}, false},
		{"no exp", "Bearer " + signed(t, o.key, jwt.SigningMethodHS256, with(func(c *jwt.RegisteredClaims) { c.ExpiresAt = nil })), time.Time{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			at := tc.at
			if at.IsZero() {
				at = testNow
			}
			clock.Set(at)
			err := o.Authenticate(requestWith(tc.header))
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			assertAuthError(t, err, "Bearer")
			if strings.Contains(err.Error(), good[:20]) {
				t.Errorf("error repeats the token: %v", err)
			}
		})
	}
}

const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func TestIssuedTokenClaims(t *testing.T) {
	o := NewOAuth2(testClientID, testSecret, 0, newClock().Now)
	a, _ := o.issue()
	b, _ := o.issue()
	if a == b {
		t.Error("two tokens are equal: jti is not random")
	}
	var c jwt.RegisteredClaims
	if _, err := jwt.ParseWithClaims(a, &c, func(*jwt.Token) (any, error) { return o.key, nil }, jwt.WithTimeFunc(newClock().Now)); err != nil {
		t.Fatal(err)
	}
	if c.Issuer != tokenIssuer || c.Subject != testClientID || len(c.Audience) != 1 || c.Audience[0] != tokenAudience ||
		!c.IssuedAt.Equal(testNow) || !c.ExpiresAt.Equal(testNow.Add(DefaultTokenTTL)) || len(c.ID) < 16 {
		t.Errorf("claims = %+v", c)
	}
}
