package pushauth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// DefaultTokenTTL is how long an access token lives when NewOAuth2 is
// given no ttl. CCC fetches a new one when it expires.
const DefaultTokenTTL = 15 * time.Minute

const (
	// tokenLeeway absorbs clock differences between function instances.
	tokenLeeway   = 10 * time.Second
	tokenIssuer   = "ccc-enricher"
	tokenAudience = "ccc-enricher/push"
	// keyLabel derives the signing key from the client secret. Changing it
	// revokes every token, as rotating the secret does.
	keyLabel = "ccc-enricher/push/oauth2-token-signing-key/v1"
	// Our tokens are about 300 bytes; longer ones are refused unparsed.
	maxTokenBytes = 2 << 10
	// maxTokenRequestBytes caps a token request: a few form fields.
	maxTokenRequestBytes = 8 << 10
)

// OAuth2 implements CCC's "OAuth2.0 client credentials" push mode. It is
// both the token endpoint CCC is configured with (TokenHandler) and the
// check of the bearer tokens CCC then sends with each push (Authenticate).
//
// Tokens are stateless JWTs (HS256) signed with a key derived from the
// client secret: every function instance verifies the tokens of every
// other without shared state, and rotating the secret revokes them all.
// A token is valid for the ttl given to NewOAuth2 and cannot be revoked
// otherwise, which is why that ttl should stay short. A verified token is
// remembered until then (tokenCache), so that the token CCC sends with
// every push is verified once.
type OAuth2 struct {
	clientID string
	pair     secretPair
	key      []byte
	ttl      time.Duration
	now      func() time.Time
	parser   *jwt.Parser
	verified tokenCache
	// random makes token ids; nil means crypto/rand. Tests set it to
	// issue the same tokens in every process.
	random io.Reader
}

// NewOAuth2 returns the OAuth2 authenticator for one client. ttl ≤ 0
// means DefaultTokenTTL; now nil means time.Now. With an empty client id
// or secret it issues no tokens and accepts none.
func NewOAuth2(clientID, clientSecret string, ttl time.Duration, now func() time.Time) *OAuth2 {
	if ttl <= 0 {
		ttl = DefaultTokenTTL
	}
	if now == nil {
		now = time.Now
	}
	mac := hmac.New(sha256.New, []byte(clientSecret))
	mac.Write([]byte(keyLabel))
	return &OAuth2{
		clientID: clientID,
		pair:     newSecretPair(clientID, clientSecret),
		key:      mac.Sum(nil),
		ttl:      ttl,
		now:      now,
		parser: jwt.NewParser(
			// Pinning the algorithm refuses "none" and the RSA/HMAC
			// confusion; strict decoding refuses non-canonical base64, so
			// an accepted token is byte for byte one that was issued.
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithStrictDecoding(),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(tokenLeeway),
			jwt.WithIssuer(tokenIssuer),
			jwt.WithAudience(tokenAudience),
			jwt.WithSubject(clientID),
			jwt.WithTimeFunc(now),
		),
	}
}

var (
	bearerChallenge        = `Bearer realm="` + Realm + `"`
	invalidBearerChallenge = `Bearer realm="` + Realm + `", error="invalid_token"`
)

// Authenticate checks the bearer token of a push (RFC 6750).
func (o *OAuth2) Authenticate(r *http.Request) error {
	h := r.Header.Get("Authorization")
	if h == "" {
		return refuse(bearerChallenge, "missing bearer token")
	}
	scheme, token, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return refuse(bearerChallenge, "not a bearer token")
	}
	token = strings.TrimLeft(token, " ")
	switch {
	case !o.pair.set:
		return refuse(invalidBearerChallenge, "OAuth2 client not configured")
	case token == "":
		return refuse(invalidBearerChallenge, "empty bearer token")
	case len(token) > maxTokenBytes:
		return refuse(invalidBearerChallenge, "bearer token too long")
	}
	key := tokenKey(token)
	if o.verified.valid(key, o.now()) {
		return nil
	}
	claims := &jwt.RegisteredClaims{}
	_, err := o.parser.ParseWithClaims(token, claims, o.keyFunc)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return refuse(invalidBearerChallenge, "bearer token expired")
	case err != nil:
		return refuse(invalidBearerChallenge, "invalid bearer token")
	}
	o.verified.add(key, claims, tokenLeeway, o.now())
	return nil
}

func (o *OAuth2) keyFunc(t *jwt.Token) (any, error) {
	if t.Method != jwt.SigningMethodHS256 {
		return nil, errors.New("unexpected signing method")
	}
	return o.key, nil
}

// issue returns a new access token.
func (o *OAuth2) issue() (string, error) {
	now := o.now()
	var id [16]byte
	if o.random != nil {
		if _, err := io.ReadFull(o.random, id[:]); err != nil {
			return "", fmt.Errorf("token id: %w", err)
		}
	} else {
		rand.Read(id[:])
	}
	claims := jwt.RegisteredClaims{
		Issuer:    tokenIssuer,
		Subject:   o.clientID,
		Audience:  jwt.ClaimStrings{tokenAudience},
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(o.ttl)),
		ID:        base64.RawURLEncoding.EncodeToString(id[:]),
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(o.key)
	if err != nil {
		return "", fmt.Errorf("sign access token: %w", err)
	}
	return s, nil
}

// TokenHandler serves the token endpoint (POST /oauth/token): the client
// credentials grant of RFC 6749 §4.4. The client authenticates with HTTP
// Basic or with client_id and client_secret in the body (§2.3.1); both
// may be given only if they agree. A scope, which tokens do not carry, is
// echoed back.
func (o *OAuth2) TokenHandler() http.Handler { return http.HandlerFunc(o.serveToken) }

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope,omitempty"`
}

// tokenError is an error reply of RFC 6749 §5.2.
type tokenError struct {
	status int
	Code   string `json:"error"`
	Desc   string `json:"error_description"`
}

func errInvalidRequest(desc string) *tokenError {
	return &tokenError{status: http.StatusBadRequest, Code: "invalid_request", Desc: desc}
}

func errInvalidClient(desc string) *tokenError {
	return &tokenError{status: http.StatusUnauthorized, Code: "invalid_client", Desc: desc}
}

func (o *OAuth2) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeTokenReply(w, http.StatusMethodNotAllowed, errInvalidRequest("the token endpoint accepts only POST"))
		return
	}
	scope, terr := o.readTokenRequest(w, r)
	if terr != nil {
		if terr.status == http.StatusUnauthorized {
			// RFC 6749 §5.2: invalid_client is a 401 with a challenge.
			w.Header().Set("WWW-Authenticate", `Basic realm="`+Realm+`"`)
		}
		writeTokenReply(w, terr.status, terr)
		return
	}
	token, err := o.issue()
	if err != nil {
		writeTokenReply(w, http.StatusInternalServerError, &tokenError{Code: "server_error", Desc: "cannot issue a token"})
		return
	}
	writeTokenReply(w, http.StatusOK, tokenResponse{
		AccessToken: token,
		TokenType:   "Bearer",
		ExpiresIn:   int64(o.ttl / time.Second),
		Scope:       scope,
	})
}

// readTokenRequest reads and checks a token request, returning the scope
// to echo.
func (o *OAuth2) readTokenRequest(w http.ResponseWriter, r *http.Request) (string, *tokenError) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return "", errInvalidRequest("Content-Type must be application/x-www-form-urlencoded")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxTokenRequestBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return "", &tokenError{status: http.StatusRequestEntityTooLarge, Code: "invalid_request", Desc: "request body too large"}
	case err != nil:
		return "", errInvalidRequest("cannot read the request body")
	}
	user, pass, basic := r.BasicAuth()
	if !basic && r.Header.Get("Authorization") != "" {
		return "", errInvalidClient("unsupported client authentication: use Basic or the request body")
	}
	return o.checkTokenRequest(body, user, pass, basic)
}

// checkTokenRequest checks the form body of a token request and the
// client's credentials, from the Authorization header if basic is true.
func (o *OAuth2) checkTokenRequest(body []byte, user, pass string, basic bool) (string, *tokenError) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return "", errInvalidRequest("the body is not form-encoded")
	}
	for _, v := range form {
		if len(v) > 1 {
			// RFC 6749 §3.2: parameters must not be repeated.
			return "", errInvalidRequest("a parameter is repeated")
		}
	}
	grant := form.Get("grant_type")
	if grant == "" {
		return "", errInvalidRequest("grant_type is missing")
	}
	_, hasID := form["client_id"]
	_, hasSecret := form["client_secret"]
	id, secret := form.Get("client_id"), form.Get("client_secret")
	var ok bool
	switch {
	case basic:
		// RFC 6749 §2.3.1 has the client form-encode both before Basic
		// encoding; not every client does, so either form is accepted.
		du, dp := formDecode(user), formDecode(pass)
		if hasID && id != user && id != du {
			return "", errInvalidRequest("client_id differs from the Authorization header's")
		}
		if hasSecret && secret != pass && secret != dp {
			return "", errInvalidRequest("client_secret differs from the Authorization header's")
		}
		ok = o.pair.match(user, pass)
		if !ok && (du != user || dp != pass) {
			ok = o.pair.match(du, dp)
		}
	case hasID || hasSecret:
		ok = o.pair.match(id, secret)
	default:
		return "", errInvalidClient("client authentication is required")
	}
	if !ok {
		return "", errInvalidClient("client authentication failed")
	}
	if grant != "client_credentials" {
		return "", &tokenError{status: http.StatusBadRequest, Code: "unsupported_grant_type", Desc: "only client_credentials is supported"}
	}
	scope := form.Get("scope")
	if !validScope(scope) {
		return "", &tokenError{status: http.StatusBadRequest, Code: "invalid_scope", Desc: "malformed scope"}
	}
	return scope, nil
}

func formDecode(s string) string {
	if d, err := url.QueryUnescape(s); err == nil {
		return d
	}
	return s
}

// validScope checks RFC 6749 §3.3's syntax: space-separated tokens of
// printable ASCII other than '"' and '\'. Empty means none.
func validScope(s string) bool {
	if s == "" {
		return true
	}
	for _, tok := range strings.Split(s, " ") {
		if tok == "" {
			return false
		}
		for i := 0; i < len(tok); i++ {
			if c := tok[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
				return false
			}
		}
	}
	return true
}

func writeTokenReply(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
