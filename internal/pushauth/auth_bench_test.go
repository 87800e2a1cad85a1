package pushauth

import (
	"net/http"
	"testing"
	"time"
)

// BenchmarkAuthenticate checks one push's credentials in each mode.
func BenchmarkAuthenticate(b *testing.B) {
	o := NewOAuth2(testClientID, testSecret, time.Hour, func() time.Time { return testNow })
	tok, err := o.issue()
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		a    Authenticator
		r    *http.Request
		ok   bool
	}{
		{"basic", Basic("ccc", "push-password"), requestWith(basicHeader("ccc", "push-password")), true},
		{"basic-wrong", Basic("ccc", "push-password"), requestWith(basicHeader("ccc", "wrong")), false},
		{"oauth2", o, requestWith("Bearer " + tok), true},
		{"oauth2-forged", o, requestWith("Bearer " + tok[:len(tok)-2] + "AA"), false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := tc.a.Authenticate(tc.r); (err == nil) != tc.ok {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkIssueToken is the token endpoint's signing.
func BenchmarkIssueToken(b *testing.B) {
	o := NewOAuth2(testClientID, testSecret, time.Hour, nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := o.issue(); err != nil {
			b.Fatal(err)
		}
	}
}
