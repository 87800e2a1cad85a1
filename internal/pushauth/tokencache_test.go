package pushauth

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// A token served from the cache gets the answer verification would give,
// at every time around the edges of its validity: an authenticator that
// has it cached and one that has never seen it agree.
func TestTokenCacheAgreesWithVerification(t *testing.T) {
	const ttl = time.Minute
	clock := newClock()
	o := NewOAuth2(testClientID, testSecret, ttl, clock.Now)
	tok, err := o.issue()
	if err != nil {
		t.Fatal(err)
	}
	hand := signed(t, o.key, jwt.SigningMethodHS256, func() jwt.RegisteredClaims {
		c := claims(testNow, testClientID)
		c.NotBefore = jwt.NewNumericDate(testNow.Add(20 * time.Second))
		return c
	}())
	for _, token := range []string{tok, hand} {
		var times []time.Time
		for _, edge := range []time.Time{testNow.Add(-tokenLeeway), testNow.Add(20*time.Second - tokenLeeway), testNow.Add(ttl + tokenLeeway)} {
			for _, d := range []time.Duration{-time.Second, -time.Nanosecond, 0, time.Nanosecond, time.Second} {
				times = append(times, edge.Add(d))
			}
		}
		// Forth and back, so that a cached token meets a clock set back too.
		for i := len(times) - 1; i >= 0; i-- {
			times = append(times, times[i])
		}
		clock.Set(testNow.Add(30 * time.Second))
		if err := o.Authenticate(requestWith("Bearer " + token)); err != nil {
			t.Fatal(err)
		}
		for _, at := range times {
			clock.Set(at)
			got := o.Authenticate(requestWith("Bearer " + token))
			want := NewOAuth2(testClientID, testSecret, ttl, clock.Now).Authenticate(requestWith("Bearer " + token))
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("at %v: cached %v, verified %v", at.Sub(testNow), got, want)
			}
		}
	}
}

// Rotating the client secret revokes every token, cached or not: the new
// secret is a new OAuth2, with its own key and an empty cache.
func TestTokenCacheRotation(t *testing.T) {
	clock := newClock()
	old := NewOAuth2(testClientID, testSecret, 0, clock.Now)
	tok, _ := old.issue()
	if err := old.Authenticate(requestWith("Bearer " + tok)); err != nil {
		t.Fatal(err)
	}
	rotated := NewOAuth2(testClientID, testSecret+"-rotated", 0, clock.Now)
	assertAuthError(t, rotated.Authenticate(requestWith("Bearer "+tok)), "Bearer")
	if n := len(rotated.verified.m); n != 0 {
		t.Errorf("rotated authenticator cached %d tokens it refused", n)
	}
}

// Only verified tokens are cached, never more than maxCachedTokens of
// them, the expired ones dropped first; an evicted token is verified again.
func TestTokenCacheBound(t *testing.T) {
	clock := newClock()
	o := NewOAuth2(testClientID, testSecret, time.Minute, clock.Now)
	assertAuthError(t, o.Authenticate(requestWith("Bearer garbage")), "Bearer")
	if n := len(o.verified.m); n != 0 {
		t.Fatalf("a refused token was cached (%d)", n)
	}
	var tokens []string
	for range 3 * maxCachedTokens {
		tok, err := o.issue()
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, tok)
		if err := o.Authenticate(requestWith("Bearer " + tok)); err != nil {
			t.Fatal(err)
		}
		if n := len(o.verified.m); n > maxCachedTokens {
			t.Fatalf("%d tokens cached", n)
		}
	}
	for _, tok := range tokens {
		if err := o.Authenticate(requestWith("Bearer " + tok)); err != nil {
			t.Fatalf("an evicted token: %v", err)
		}
	}

	clock.Set(testNow.Add(time.Minute + tokenLeeway))
	fresh, _ := o.issue()
	if err := o.Authenticate(requestWith("Bearer " + fresh)); err != nil {
		t.Fatal(err)
	}
	if n := len(o.verified.m); n != 1 {
		t.Errorf("%d tokens cached after all but one expired, want 1", n)
	}
	assertAuthError(t, o.Authenticate(requestWith("Bearer "+tokens[0])), "Bearer")
}

// The cache is shared by concurrent requests (run with -race).
func TestTokenCacheConcurrent(t *testing.T) {
	o := NewOAuth2(testClientID, testSecret, 0, newClock().Now)
	var wg sync.WaitGroup
	for range 4 {
		tok, _ := o.issue()
		wg.Go(func() {
			for range 50 {
				if err := o.Authenticate(requestWith("Bearer " + tok)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
