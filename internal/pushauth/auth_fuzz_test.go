package pushauth

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

// FuzzBasic gives the Basic authenticator arbitrary Authorization headers:
// it accepts exactly the configured user and password, in any scheme case
// (RFC 7617), and refuses everything else with a permanent ErrUnauthorized
// that quotes nothing of the header. An authenticator with an empty user
// or password accepts nothing.
func FuzzBasic(f *testing.F) {
	const user, pass = "ccc", "p@ss:word with spaces"
	enc := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, h := range []string{
		"Basic " + enc(user+":"+pass), "basic " + enc(user+":"+pass), "Basic  " + enc(user+":"+pass),
		"Basic " + enc(user+":"+pass+"x"), "Basic " + enc(user+"x:"+pass), "Basic " + enc(user),
		"Basic " + enc(":"), "Basic " + enc(user+":"), "Basic " + enc(":"+pass),
		"Basic " + strings.TrimRight(enc(user+":"+pass), "="), "Basic " + base64.URLEncoding.EncodeToString([]byte(user+":"+pass)),
		"Bearer " + enc(user+":"+pass), "Basic", "", "Basic !!!!",
	} {
		f.Add(h, uint8(0))
		f.Add(h, uint8(1))
	}
	good := Basic(user, pass)
	empty := []Authenticator{Basic("", pass), Basic(user, ""), Basic("", "")}
	f.Fuzz(func(t *testing.T, header string, which uint8) {
		r := requestWith(header)
		a := good
		if which%4 != 0 {
			a = empty[int(which%4)-1]
		}
		err := a.Authenticate(r)
		if err == nil {
			u, p, ok := r.BasicAuth()
			if a != good || !ok || u != user || p != pass {
				t.Fatalf("accepted %q", header)
			}
			return
		}
		if !errors.Is(err, ErrUnauthorized) || !retry.IsPermanent(err) {
			t.Fatalf("error %v is not a permanent ErrUnauthorized", err)
		}
		if ae, ok := errors.AsType[*AuthError](err); !ok || ae.Challenge == "" {
			t.Fatalf("error %v has no challenge", err)
		}
		if u, p, ok := r.BasicAuth(); ok && a == good && u == user && p == pass {
			t.Fatalf("refused the right credentials: %v", err)
		}
		if len(header) >= 14 && strings.Contains(err.Error(), header[6:]) {
			t.Fatalf("error %q quotes the header", err)
		}
	})
}
