package pushauth

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// maxCachedTokens bounds the verified-token cache. CCC sends one token
// until it expires, then fetches the next: a handful are live at a time.
const maxCachedTokens = 64

// tokenCache remembers the bearer tokens that passed verification, so that
// the token CCC sends with every push is parsed and verified once rather
// than per push (golang-jwt decodes and allocates for every part of it).
//
// Everything verification checks but time — the signature under this
// authenticator's key, the algorithm, issuer, audience and subject — is the
// same every time for the same bytes; the time checks are kept as the
// window the token is valid in, leeway included, and a token is served from
// the cache only while the clock is inside it. Outside, it is verified
// again, which gives the error verification gives. The cache belongs to one
// OAuth2, whose key is fixed: a new client secret is a new OAuth2 with an
// empty cache. Entries are keyed by the token's SHA-256, so the cache holds
// no token.
type tokenCache struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]tokenWindow
}

// tokenWindow is when a verified token is valid: from notBefore on, before
// expires.
type tokenWindow struct {
	notBefore, expires time.Time
}

// tokenKey is the cache's key for token, which is at most maxTokenBytes
// long: hashed from a copy on the stack, since converting the string would
// allocate.
func tokenKey(token string) [sha256.Size]byte {
	var buf [maxTokenBytes]byte
	return sha256.Sum256(buf[:copy(buf[:], token)])
}

// valid reports whether token was verified and is still valid at now.
func (c *tokenCache) valid(key [sha256.Size]byte, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	w, ok := c.m[key]
	if !ok {
		return false
	}
	if now.Before(w.notBefore) || !now.Before(w.expires) {
		delete(c.m, key)
		return false
	}
	return true
}

// add remembers a token that verification accepted with claims, as the
// validator of golang-jwt checks them with leeway: exp (required), and
// nbf and iat when present.
func (c *tokenCache) add(key [sha256.Size]byte, claims *jwt.RegisteredClaims, leeway time.Duration, now time.Time) {
	if claims.ExpiresAt == nil {
		return
	}
	w := tokenWindow{expires: claims.ExpiresAt.Add(leeway)}
	for _, t := range []*jwt.NumericDate{claims.NotBefore, claims.IssuedAt} {
		if t != nil && t.Add(-leeway).After(w.notBefore) {
			w.notBefore = t.Add(-leeway)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[[sha256.Size]byte]tokenWindow, maxCachedTokens)
	}
	if len(c.m) >= maxCachedTokens {
		c.evict(now)
	}
	c.m[key] = w
}

// evict drops the tokens no longer valid and, if that frees nothing, one
// other.
func (c *tokenCache) evict(now time.Time) {
	for k, w := range c.m {
		if now.Before(w.notBefore) || !now.Before(w.expires) {
			delete(c.m, k)
		}
	}
	for k := range c.m {
		if len(c.m) < maxCachedTokens {
			return
		}
		delete(c.m, k)
	}
}
