package tcemu

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"hash/crc64"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// COS emulates one bucket of Tencent Cloud Object Storage's XML API: PUT,
// HEAD and GET of objects, each request's signature verified as COS
// verifies it (https://www.tencentcloud.com/document/product/436/7778,
// "Request signature"), so that a store that talks to it is a store whose
// requests COS would accept. The bucket is served at the root: the
// server's URL is the bucket's URL.
type COS struct {
	// SecretID and SecretKey are the one key pair accepted; Token, when
	// set, must arrive in x-cos-security-token (a role's temporary key),
	// and a token is refused when it is empty.
	SecretID, SecretKey, Token string
	// Now is the clock for the signature's validity; nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	objects map[string]cosObject
	// Refused counts the requests refused for their signature.
	refused int
}

type cosObject struct {
	body   []byte
	header http.Header
}

// Refused counts the requests the emulator refused as unsigned or
// wrongly signed.
func (c *COS) Refused() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.refused
}

// Keys lists the keys stored.
func (c *COS) Keys() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Sorted(maps.Keys(c.objects))
}

// Object returns the bytes stored at key and their headers.
func (c *COS) Object(key string) ([]byte, http.Header, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	o, ok := c.objects[key]
	return o.body, o.header, ok
}

func (c *COS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if code, msg := c.verify(r); code != "" {
		c.mu.Lock()
		c.refused++
		c.mu.Unlock()
		cosError(w, http.StatusForbidden, code, msg)
		return
	}
	key := strings.TrimPrefix(r.URL.Path, "/")
	if key == "" {
		cosError(w, http.StatusBadRequest, "InvalidURI", "bucket operations are not emulated")
		return
	}
	switch r.Method {
	case http.MethodPut:
		c.put(w, r, key)
	case http.MethodHead, http.MethodGet:
		c.mu.Lock()
		o, ok := c.objects[key]
		c.mu.Unlock()
		if !ok {
			cosError(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
			return
		}
		maps.Copy(w.Header(), o.header)
		w.Header().Set("Content-Length", strconv.Itoa(len(o.body)))
		if r.Method == http.MethodGet {
			w.Write(o.body)
		}
	default:
		cosError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "method not emulated")
	}
}

func (c *COS) put(w http.ResponseWriter, r *http.Request, key string) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		cosError(w, http.StatusBadRequest, "IncompleteBody", "body cut short")
		return
	}
	if r.ContentLength >= 0 && int64(len(body)) != r.ContentLength {
		cosError(w, http.StatusBadRequest, "IncompleteBody", "body does not match Content-Length")
		return
	}
	h := http.Header{}
	for k, v := range r.Header {
		if lk := strings.ToLower(k); lk == "content-type" || strings.HasPrefix(lk, "x-cos-meta-") {
			h[k] = slices.Clone(v)
		}
	}
	sum := sha1.Sum(body)
	h.Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
	// COS answers every upload with its CRC-64/ECMA, which the SDK checks.
	h.Set("x-cos-hash-crc64ecma", strconv.FormatUint(crc64.Checksum(body, crc64.MakeTable(crc64.ECMA)), 10))
	c.mu.Lock()
	if c.objects == nil {
		c.objects = map[string]cosObject{}
	}
	c.objects[key] = cosObject{body: body, header: h}
	c.mu.Unlock()
	w.Header().Set("ETag", h.Get("ETag"))
	w.Header().Set("x-cos-hash-crc64ecma", h.Get("x-cos-hash-crc64ecma"))
	w.WriteHeader(http.StatusOK)
}

// verify checks r's Authorization header and returns the COS error code
// and message of a refusal, or "".
func (c *COS) verify(r *http.Request) (code, msg string) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return "AccessDenied", "Access Denied."
	}
	q := map[string]string{}
	for _, kv := range strings.Split(auth, "&") {
		k, v, _ := strings.Cut(kv, "=")
		q[k] = v
	}
	if q["q-sign-algorithm"] != "sha1" {
		return "AccessDenied", "q-sign-algorithm must be sha1"
	}
	if q["q-ak"] != c.SecretID {
		return "InvalidAccessKeyId", "The access key Id format you provided is invalid."
	}
	if token := r.Header.Get("x-cos-security-token"); token != c.Token {
		return "InvalidAccessKeyId", "x-cos-security-token does not belong to the key"
	}
	if !c.inWindow(q["q-sign-time"]) || !c.inWindow(q["q-key-time"]) {
		return "AccessDenied", "Request has expired"
	}
	headers, params, code, msg := signedParts(r, q["q-header-list"], q["q-url-param-list"])
	if code != "" {
		return code, msg
	}
	want := COSSignature(c.SecretKey, q["q-key-time"], r.Method, r.URL.Path, params, headers)
	if subtle.ConstantTimeCompare([]byte(want), []byte(q["q-signature"])) != 1 {
		return "SignatureDoesNotMatch", "The calculated signature does not match the one provided."
	}
	return "", ""
}

// signedParts are the HttpHeaders and HttpParameters of r by the lists
// its Authorization names; every header COS reads (host, x-cos-*) and
// every parameter must be among them.
func signedParts(r *http.Request, headerList, paramList string) (headers, params, code, msg string) {
	headers, ok := signedValues(headerList, func(name string) (string, bool) {
		if name == "host" {
			return r.Host, r.Host != ""
		}
		v, ok := r.Header[http.CanonicalHeaderKey(name)]
		if !ok || len(v) != 1 {
			return "", false
		}
		return v[0], true
	})
	if !ok || !slices.Contains(strings.Split(headerList, ";"), "host") {
		return "", "", "AccessDenied", "q-header-list must name host and only headers the request carries"
	}
	for k := range r.Header {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-cos-") && !slices.Contains(strings.Split(headerList, ";"), lk) {
			return "", "", "AccessDenied", "every x-cos- header must be signed"
		}
	}
	query := r.URL.Query()
	params, ok = signedValues(paramList, func(name string) (string, bool) {
		for k, v := range query {
			if strings.ToLower(k) == name && len(v) == 1 {
				return v[0], true
			}
		}
		return "", false
	})
	if !ok || len(query) != len(strings.FieldsFunc(paramList, func(r rune) bool { return r == ';' })) {
		return "", "", "AccessDenied", "q-url-param-list must name every parameter"
	}
	return headers, params, "", ""
}

// inWindow reports whether a "start;end" of Unix seconds holds now.
func (c *COS) inWindow(span string) bool {
	from, to, ok := strings.Cut(span, ";")
	start, err1 := strconv.ParseInt(from, 10, 64)
	end, err2 := strconv.ParseInt(to, 10, 64)
	if !ok || err1 != nil || err2 != nil || start > end {
		return false
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	t := now().Unix()
	return start-60 <= t && t <= end
}

// signedValues is the HttpParameters or HttpHeaders string of a list of
// names ("a;b"), each name's value from get: "name=value" pairs, both
// URL-encoded, in the list's order (sorted, as the signer sorts it). It
// fails when a name has no value or the list is not sorted.
func signedValues(list string, get func(string) (string, bool)) (string, bool) {
	if list == "" {
		return "", true
	}
	names := strings.Split(list, ";")
	if !slices.IsSorted(names) {
		return "", false
	}
	pairs := make([]string, 0, len(names))
	for _, n := range names {
		v, ok := get(n)
		if !ok {
			return "", false
		}
		pairs = append(pairs, n+"="+cosEncode(v))
	}
	return strings.Join(pairs, "&"), true
}

// COSSignature is q-signature by the published algorithm: SignKey is
// HMAC-SHA1(SecretKey, KeyTime); HttpString is the lower-case method, the
// path, the HttpParameters and the HttpHeaders, each followed by a
// newline; StringToSign is "sha1", KeyTime and SHA1(HttpString) in hex,
// each followed by a newline; the signature is HMAC-SHA1(SignKey,
// StringToSign) in hex.
func COSSignature(secretKey, keyTime, method, path, params, headers string) string {
	signKey := hmacSHA1Hex([]byte(secretKey), keyTime)
	httpString := strings.ToLower(method) + "\n" + path + "\n" + params + "\n" + headers + "\n"
	sum := sha1.Sum([]byte(httpString))
	stringToSign := "sha1\n" + keyTime + "\n" + hex.EncodeToString(sum[:]) + "\n"
	return hmacSHA1Hex([]byte(signKey), stringToSign)
}

func hmacSHA1Hex(key []byte, msg string) string {
	h := hmac.New(sha1.New, key)
	h.Write([]byte(msg))
	return hex.EncodeToString(h.Sum(nil))
}

// cosEncode is the URL encoding the signature uses: every byte but
// A-Z a-z 0-9 - _ . ~ as %XX, upper-case.
func cosEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func cosError(w http.ResponseWriter, status int, code, msg string) {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message><RequestId>emu</RequestId></Error>`, code, msg)
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(status)
	w.Write(b.Bytes())
}
