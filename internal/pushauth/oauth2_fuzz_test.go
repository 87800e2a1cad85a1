package pushauth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

// deterministic stands in for crypto/rand so that every fuzzing process
// issues the same tokens.
type deterministic struct{ r *rand.ChaCha8 }

func (d deterministic) Read(b []byte) (int, error) { return d.r.Read(b) }

func fuzzIssuer(tb testing.TB) (*OAuth2, []string) {
	o := NewOAuth2(testClientID, testSecret, time.Hour, func() time.Time { return testNow })
	o.random = deterministic{rand.NewChaCha8([32]byte{1})}
	var issued []string
	for range 3 {
		tok, err := o.issue()
		if err != nil {
			tb.Fatal(err)
		}
		issued = append(issued, tok)
	}
	return o, issued
}

func FuzzBearer(f *testing.F) {
	o, issued := fuzzIssuer(f)
	other := NewOAuth2(testClientID, "other secret", time.Hour, func() time.Time { return testNow })
	otherToken, _ := other.issue()
	for _, tok := range issued {
		f.Add("Bearer " + tok)
		f.Add("bearer  " + tok)
		f.Add("Bearer " + tok + "=")
		f.Add("Bearer " + strings.ToUpper(tok))
		parts := strings.Split(tok, ".")
		f.Add("Bearer " + parts[0] + "." + parts[1] + ".")
		f.Add("Bearer " + parts[1] + "." + parts[0] + "." + parts[2])
	}
	f.Add("Bearer " + otherToken)
	f.Add("Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJpc3MiOiJjY2MtZW5yaWNoZXIifQ.")
	f.Add("")
	f.Add("Basic Zm9vOmJhcg==")
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest(http.MethodPost, "/push", nil)
		r.Header["Authorization"] = []string{header}
		err := o.Authenticate(r)
		if err != nil {
			if !errors.Is(err, ErrUnauthorized) || !retry.IsPermanent(err) {
				t.Fatalf("error %v is not a permanent ErrUnauthorized", err)
			}
			return
		}
		scheme, tok, _ := strings.Cut(header, " ")
		tok = strings.TrimLeft(tok, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			t.Fatalf("accepted scheme %q", scheme)
		}
		for _, s := range issued {
			if tok == s {
				return
			}
		}
		t.Fatalf("accepted a token that was not issued: %q", tok)
	})
}

func FuzzTokenRequest(f *testing.F) {
	basic := func(u, p string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p)) }
	good := basic(url.QueryEscape(testClientID), url.QueryEscape(testSecret))
	for _, tc := range [][2]string{
		{"grant_type=client_credentials", good},
		{"grant_type=client_credentials", basic(testClientID, testSecret)},
		{"grant_type=client_credentials&scope=a%20b", good},
		{"grant_type=client_credentials&client_id=" + url.QueryEscape(testClientID) + "&client_secret=" + url.QueryEscape(testSecret), ""},
		{"grant_type=client_credentials&client_id=" + url.QueryEscape(testClientID) + "&client_secret=" + url.QueryEscape(testSecret), good},
		{"grant_type=client_credentials&client_id=x", good},
		{"grant_type=password", good},
		{"grant_type=client_credentials&grant_type=client_credentials", good},
		{"%zz", good},
		{"", ""},
		{"grant_type=client_credentials", "Bearer x"},
		{"grant_type=client_credentials", "Basic !!"},
	} {
		f.Add(tc[0], tc[1])
	}
	o := NewOAuth2(testClientID, testSecret, time.Minute, func() time.Time { return testNow })
	h := o.TokenHandler()
	f.Fuzz(func(t *testing.T, body, authorization string) {
		r := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if authorization != "" {
			r.Header["Authorization"] = []string{authorization}
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		var reply map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &reply); err != nil {
			t.Fatalf("reply is not JSON: %q", w.Body)
		}
		switch w.Code {
		case 400, 401, 413:
			if _, ok := reply["error"].(string); !ok {
				t.Fatalf("error reply without error: %q", w.Body)
			}
			return
		case 200:
		default:
			t.Fatalf("status %d", w.Code)
		}
		// A token only for the right secret, by one of the two methods.
		form, err := url.ParseQuery(body)
		if err != nil || form.Get("grant_type") != "client_credentials" {
			t.Fatalf("token for body %q", body)
		}
		user, pass, basicOK := r.BasicAuth()
		switch {
		case basicOK:
			if !(user == testClientID && pass == testSecret || formDecode(user) == testClientID && formDecode(pass) == testSecret) {
				t.Fatalf("token for Basic %q:%q", user, pass)
			}
		case form.Get("client_id") != testClientID || form.Get("client_secret") != testSecret:
			t.Fatalf("token for body credentials %q", body)
		}
		tok, _ := reply["access_token"].(string)
		if err := o.Authenticate(requestWith("Bearer " + tok)); err != nil {
			t.Fatalf("issued token refused: %v", err)
		}
	})
}
