package pushauth

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

// testNow is the clock of the tests, shortly after the sample push.
var testNow = time.Unix(1756892300, 0)

func requestWith(authorization string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/push?action=cdr&version=1", nil)
	if authorization != "" {
		r.Header.Set("Authorization", authorization)
	}
	return r
}

func basicHeader(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func TestNoAuth(t *testing.T) {
	if err := NoAuth().Authenticate(requestWith("")); err != nil {
		t.Error(err)
	}
	if err := NoAuth().Authenticate(requestWith("Basic garbage")); err != nil {
		t.Error(err)
	}
}

func TestBasic(t *testing.T) {
	const user, pass = "ccc-push", "s3cret:with:colons"
	a := Basic(user, pass)
	for _, tc := range []struct {
		name   string
		header string
		ok     bool
	}{
		{"right", basicHeader(user, pass), true},
		{"scheme in lower case", "basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass)), true},
		{"missing", "", false},
		{"bearer", "Bearer " + pass, false},
		{"not base64", "Basic !!!", false},
		{"no colon", "Basic " + base64.StdEncoding.EncodeToString([]byte(user)), false},
		{"empty credentials", basicHeader("", ""), false},
		{"wrong user", basicHeader("ccc-push2", pass), false},
		{"wrong password", basicHeader(user, pass+"x"), false},
		{"password prefix", basicHeader(user, "s3cret"), false},
		{"both wrong", basicHeader("x", "y"), false},
		{"swapped", basicHeader(pass, user), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := a.Authenticate(requestWith(tc.header))
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			assertAuthError(t, err, "Basic")
		})
	}
}

// TestBasicSaysNotWhich checks that a wrong user and a wrong password get
// the same answer.
func TestBasicSaysNotWhich(t *testing.T) {
	a := Basic("user", "password")
	e1 := a.Authenticate(requestWith(basicHeader("userx", "password")))
	e2 := a.Authenticate(requestWith(basicHeader("user", "passwordx")))
	e3 := a.Authenticate(requestWith(basicHeader("userx", "passwordx")))
	if e1 == nil || e1.Error() != e2.Error() || e2.Error() != e3.Error() {
		t.Errorf("answers differ: %v / %v / %v", e1, e2, e3)
	}
	for _, e := range []error{e1, e2, e3} {
		if strings.Contains(e.Error(), "password") && !strings.Contains(e.Error(), "username or password") {
			t.Errorf("answer names a half: %v", e)
		}
	}
}

func TestBasicUnconfiguredRefusesAll(t *testing.T) {
	for _, a := range []Authenticator{Basic("", ""), Basic("user", ""), Basic("", "pass")} {
		for _, h := range []string{basicHeader("", ""), basicHeader("user", ""), basicHeader("", "pass"), ""} {
			if err := a.Authenticate(requestWith(h)); err == nil {
				t.Errorf("unconfigured Basic accepted %q", h)
			}
		}
	}
}

func assertAuthError(t *testing.T, err error, scheme string) {
	t.Helper()
	if err == nil {
		t.Fatal("accepted")
	}
	var ae *AuthError
	if !errors.As(err, &ae) || !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("error %v (%T) is not an *AuthError", err, err)
	}
	if !strings.HasPrefix(ae.Challenge, scheme+" ") || !strings.Contains(ae.Challenge, `realm="`+Realm+`"`) {
		t.Errorf("Challenge = %q", ae.Challenge)
	}
	if !retry.IsPermanent(err) {
		t.Errorf("%v is not permanent", err)
	}
}
