package tcemu

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The TC3-HMAC-SHA256 verifier, written from Tencent Cloud's public
// "Signature v3" specification:
//
//	CanonicalRequest = Method \n "/" \n "" \n CanonicalHeaders \n SignedHeaders \n hex(sha256(payload))
//	StringToSign     = "TC3-HMAC-SHA256" \n Timestamp \n Date/Service/tc3_request \n hex(sha256(CanonicalRequest))
//	Signature        = hex(HMAC(HMAC(HMAC(HMAC("TC3"+SecretKey, Date), Service), "tc3_request"), StringToSign))
//
// CanonicalHeaders lists the signed headers as "key:value\n", key and value
// lower-cased and trimmed, in the order of SignedHeaders, which is sorted.

const algorithm = "TC3-HMAC-SHA256"

// credential is a parsed Authorization header.
type credential struct {
	secretID, date, service string
	signedHeaders           []string
	signature               []byte
}

// parseAuthorization parses
// "TC3-HMAC-SHA256 Credential=ID/DATE/SERVICE/tc3_request, SignedHeaders=a;b, Signature=HEX".
// The message of a failure is the reason the real API gives.
func parseAuthorization(h string) (credential, string) {
	var c credential
	rest, ok := strings.CutPrefix(h, algorithm+" ")
	if !ok {
		return c, "the algorithm must be " + algorithm
	}
	fields, why := authFields(rest)
	if why != "" {
		return c, why
	}
	if why := c.parseScope(fields["Credential"]); why != "" {
		return c, why
	}
	if why := c.parseSignedHeaders(fields["SignedHeaders"]); why != "" {
		return c, why
	}
	sig, err := hex.DecodeString(fields["Signature"])
	if err != nil || len(sig) != sha256.Size || fields["Signature"] != strings.ToLower(fields["Signature"]) {
		return c, "`Signature` must be 64 lower-case hex digits"
	}
	c.signature = sig
	return c, ""
}

// authFields splits the comma-separated key=value pairs after the
// algorithm: exactly Credential, SignedHeaders and Signature, each once.
func authFields(s string) (map[string]string, string) {
	fields := map[string]string{}
	for part := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, "`" + part + "` is not a key=value pair"
		}
		if _, dup := fields[k]; dup {
			return nil, "`" + k + "` is repeated"
		}
		fields[k] = v
	}
	for _, k := range []string{"Credential", "SignedHeaders", "Signature"} {
		if fields[k] == "" {
			return nil, "`" + k + "` is missing"
		}
	}
	if len(fields) != 3 {
		return nil, "unexpected fields"
	}
	return fields, ""
}

// parseScope parses the Credential field, SecretId/Date/Service/tc3_request.
func (c *credential) parseScope(s string) string {
	scope := strings.Split(s, "/")
	if len(scope) != 4 || scope[0] == "" || scope[3] != "tc3_request" {
		return "`Credential` must be SecretId/Date/Service/tc3_request"
	}
	c.secretID, c.date, c.service = scope[0], scope[1], scope[2]
	if _, err := time.Parse(time.DateOnly, c.date); err != nil {
		return "`Date` in Credential not valid format"
	}
	if c.service == "" {
		return "`Service` in Credential not valid"
	}
	return ""
}

// parseSignedHeaders parses the SignedHeaders field: sorted, distinct,
// lower-case names that include the two the spec requires.
func (c *credential) parseSignedHeaders(s string) string {
	c.signedHeaders = strings.Split(s, ";")
	for i, h := range c.signedHeaders {
		if h == "" || h != strings.ToLower(h) || (i > 0 && h <= c.signedHeaders[i-1]) {
			return "`SignedHeaders` must be distinct lower-case header names in ascending order"
		}
	}
	if !slices.Contains(c.signedHeaders, "content-type") || !slices.Contains(c.signedHeaders, "host") {
		return "`SignedHeaders` must include content-type and host"
	}
	return ""
}

// canonicalRequest builds the canonical request of r for the given signed
// headers and payload.
func canonicalRequest(r *http.Request, signed []string, payload []byte) string {
	var b strings.Builder
	b.WriteString(r.Method + "\n/\n\n")
	for _, h := range signed {
		var v string
		if h == "host" {
			// net/http moves Host out of the header map.
			v = r.Host
		} else {
			v = strings.Join(r.Header.Values(h), ",")
		}
		b.WriteString(h + ":" + strings.ToLower(strings.TrimSpace(v)) + "\n")
	}
	b.WriteString("\n" + strings.Join(signed, ";") + "\n")
	if r.Header.Get("X-TC-Content-SHA256") == "UNSIGNED-PAYLOAD" {
		// The spec's opt-out for large bodies: the payload is not signed.
		payload = []byte("UNSIGNED-PAYLOAD")
	}
	b.WriteString(sha256hex(payload))
	return b.String()
}

// signature computes the hex signature of a string to sign.
func signature(secretKey, date, service, stringToSign string) string {
	k := hmacSHA256([]byte("TC3"+secretKey), date)
	k = hmacSHA256(k, service)
	k = hmacSHA256(k, "tc3_request")
	return hex.EncodeToString(hmacSHA256(k, stringToSign))
}

func stringToSign(timestamp, date, service, canonical string) string {
	return algorithm + "\n" + timestamp + "\n" + date + "/" + service + "/tc3_request\n" + sha256hex([]byte(canonical))
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// authenticate checks the common parameters and the signature of r, in the
// order the real API does, and returns the requested action.
func (s *Server) authenticate(r *http.Request, body []byte) (string, action, *apiError) {
	name, version, ts := r.Header.Get("X-TC-Action"), r.Header.Get("X-TC-Version"), r.Header.Get("X-TC-Timestamp")
	for _, p := range []struct{ name, value string }{{"Action", name}, {"Version", version}, {"Timestamp", ts}} {
		if p.value == "" {
			return "", action{}, errorf("MissingParameter", "The request is missing a required parameter `%s`.", p.name)
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return "", action{}, errorf("InvalidParameter", "The value of parameter `Timestamp` is not a Unix time in seconds.")
	}

	auths := r.Header.Values("Authorization")
	if len(auths) == 0 {
		return "", action{}, errorf("AuthFailure.SignatureFailure", "The request carries no `Authorization` header.")
	}
	if len(auths) > 1 {
		return "", action{}, errorf("AuthFailure.InvalidAuthorization", "The request `Authorization` header does not conform to tencentcloud standards: it is repeated.")
	}
	cred, why := parseAuthorization(auths[0])
	if why != "" {
		return "", action{}, errorf("AuthFailure.InvalidAuthorization", "The request `Authorization` header does not conform to tencentcloud standards: %s.", why)
	}
	signedAt := time.Unix(unix, 0)
	if skew := s.opts.Now().Sub(signedAt); skew > maxSkew || skew < -maxSkew {
		return "", action{}, errorf("AuthFailure.SignatureExpire", "Signature expired: the request timestamp %d is more than 5 minutes away from the server time.", unix)
	}
	if cred.date != signedAt.UTC().Format(time.DateOnly) {
		return "", action{}, errorf("AuthFailure.InvalidAuthorization", "The request `Authorization` header does not conform to tencentcloud standards: `Date` in Credential does not match the UTC date of X-TC-Timestamp.")
	}
	if cred.secretID != s.opts.SecretID {
		return "", action{}, errorf("AuthFailure.SecretIdNotFound", "The SecretId is not found, please ensure that your SecretId is correct.")
	}
	token := r.Header.Get("X-TC-Token")
	switch {
	case s.opts.Token == "" && token != "":
		return "", action{}, errorf("AuthFailure.TokenFailure", "The token is invalid: this SecretId is a permanent key and takes no token.")
	case s.opts.Token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.opts.Token)) != 1:
		return "", action{}, errorf("AuthFailure.TokenFailure", "The token is missing or invalid for this temporary SecretId.")
	}
	want := signature(s.opts.SecretKey, cred.date, cred.service, stringToSign(ts, cred.date, cred.service, canonicalRequest(r, cred.signedHeaders, body)))
	got := hex.EncodeToString(cred.signature)
	if subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
		return "", action{}, errorf("AuthFailure.SignatureFailure", "The provided credentials could not be validated. Please check your signature is correct.")
	}

	a, ok := actions[name]
	if !ok {
		return "", action{}, errorf("InvalidAction", "The requested action `%s` does not exist.", name)
	}
	if cred.service != a.service {
		// The real endpoint derives its service from the host name; a scope
		// for another product is refused before the action runs.
		return "", action{}, errorf("AuthFailure.InvalidAuthorization", "The request `Authorization` header does not conform to tencentcloud standards: `Service` in Credential not valid.")
	}
	if version != a.version {
		return "", action{}, errorf("NoSuchVersion", "The requested version `%s` of action `%s` does not exist.", version, name)
	}
	return name, a, nil
}
