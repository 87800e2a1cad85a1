// Package pushauth is CCC data-push authentication: none, HTTP Basic, and
// OAuth2 client credentials with the token endpoint CCC fetches bearer
// tokens from. The OAuth2 mode issues stateless signed tokens, so every
// function instance accepts the tokens of every other without shared state.
package pushauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"

	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

// Realm is the realm the authenticators name in their challenges.
const Realm = "ccc-enricher"

// An Authenticator checks that a push comes from CCC, as configured in
// CCC's console (Data Push → authentication).
type Authenticator interface {
	// Authenticate returns nil for an authentic push, else an *AuthError
	// marked retry.Permanent. The error never says which part of a
	// credential was wrong.
	Authenticate(r *http.Request) error
}

// ErrUnauthorized is what every *AuthError is: errors.Is(err,
// ErrUnauthorized) tells an authentication failure from others.
var ErrUnauthorized = errors.New("push: unauthorized")

// AuthError is a refused push credential.
type AuthError struct {
	// Challenge is the WWW-Authenticate value for the 401 reply.
	Challenge string
	reason    string
}

func (e *AuthError) Error() string { return "push authentication failed: " + e.reason }

// Is makes errors.Is(err, ErrUnauthorized) true.
func (e *AuthError) Is(target error) bool { return target == ErrUnauthorized }

func refuse(challenge, reason string) error {
	return retry.Permanent(&AuthError{Challenge: challenge, reason: reason})
}

// NoAuth accepts every push: CCC's "no authentication" mode. Anyone who
// knows the URL can push.
func NoAuth() Authenticator { return noAuth{} }

type noAuth struct{}

func (noAuth) Authenticate(*http.Request) error { return nil }

// Basic checks HTTP Basic credentials: CCC's basicAuth mode. It refuses
// everything if username or password is empty, so that a missing setting
// cannot turn into "anyone may push".
func Basic(username, password string) Authenticator {
	return &basicAuth{
		pair:      newSecretPair(username, password),
		challenge: `Basic realm="` + Realm + `", charset="UTF-8"`,
	}
}

type basicAuth struct {
	pair      secretPair
	challenge string
}

func (b *basicAuth) Authenticate(r *http.Request) error {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return refuse(b.challenge, "missing or malformed Basic credentials")
	}
	if !b.pair.match(user, pass) {
		return refuse(b.challenge, "wrong username or password")
	}
	return nil
}

// secretPair compares a user name and a secret in constant time. It
// compares hashes so that neither the length of the expected values nor the
// position of the first difference shows in the time taken, and it always
// compares both, so that the time does not tell which one was wrong.
type secretPair struct {
	user, secret [sha256.Size]byte
	set          bool
}

func newSecretPair(user, secret string) secretPair {
	return secretPair{
		user:   sha256.Sum256([]byte(user)),
		secret: sha256.Sum256([]byte(secret)),
		set:    user != "" && secret != "",
	}
}

func (p *secretPair) match(user, secret string) bool {
	u := sha256.Sum256([]byte(user))
	s := sha256.Sum256([]byte(secret))
	ok := subtle.ConstantTimeCompare(u[:], p.user[:]) & subtle.ConstantTimeCompare(s[:], p.secret[:])
	return ok == 1 && p.set
}
