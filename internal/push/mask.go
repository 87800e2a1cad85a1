package push

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"unicode/utf8"
)

// MaskPhone masks a phone number for logs and records. It replaces digits
// with '*' and keeps every other character where it was:
//
//   - numbers of 8 or more digits keep their last 4 digits and up to 7
//     leading ones (country or trunk prefix and the first digits of the
//     subscriber number, which tell the carrier or area): with 8 digits
//     none, then one more per extra digit, so at least 4 are always masked:
//     "15812341234" → "158****1234", "075512345678" → "0755****5678",
//     "008615812341234" → "0086158****1234", "+8615812341234" →
//     "+86158****1234";
//   - shorter numbers (extensions, service codes) are masked whole;
//   - a value already masked, with at least four '*', 'x' or 'X' and at
//     most four digits after the last of them (CCC's own
//     "0086158xxxxxxxx", or MaskPhone's output), is returned unchanged, so
//     masking twice is masking once.
func MaskPhone(s string) string {
	digits := 0
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			digits++
		}
	}
	if digits == 0 || alreadyMasked(s) {
		return s
	}
	head, tail := 0, 0
	if digits >= 8 {
		head, tail = min(digits-8, 7), 4
	}
	b := []byte(s)
	n := 0
	for i, c := range b {
		if !isDigit(c) {
			continue
		}
		if n >= head && n < digits-tail {
			b[i] = '*'
		}
		n++
	}
	return string(b)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isMaskChar(c byte) bool { return c == '*' || c == 'x' || c == 'X' }

// alreadyMasked reports whether s has at least four mask characters and
// at most four digits after the last one.
func alreadyMasked(s string) bool {
	masks, after := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case isMaskChar(c):
			masks++
			after = 0
		case isDigit(c):
			after++
		}
	}
	return masks >= 4 && after <= 4
}

// looksLikePhone reports whether s could be a phone number: digits with the
// usual punctuation and masking, at least one digit. It tells a customer's
// number from an agent's mail in fields that hold either.
func looksLikePhone(s string) bool {
	digit := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case isDigit(c):
			digit = true
		case isMaskChar(c), c == '+', c == '-', c == ' ', c == '(', c == ')':
		default:
			return false
		}
	}
	return digit
}

// phoneSuffixes name the keys whose values are phone numbers, matched
// without regard to case at the end of the key so that the variants in
// CCC's API models are covered (ProtectedCaller, OutBoundCaller,
// CarrierPhoneNumber, CorporationMobile…) and CallerLocation is not.
var phoneSuffixes = []string{
	"caller", "callers", "callee", "callees",
	"phone", "phones", "phonenumber", "phonenumbers",
	"mobile",
}

// maybePhoneKeys hold a phone number or something else (an agent's mail, a
// staff id): their values are masked only when they look like a number.
var maybePhoneKeys = []string{"EndpointUser", "TransferFrom", "TransferTo"}

type phoneKind int

const (
	notPhone phoneKind = iota
	phone
	maybePhone
)

func phoneKindOf(key string) phoneKind {
	for _, k := range maybePhoneKeys {
		if strings.EqualFold(key, k) {
			return maybePhone
		}
	}
	for _, s := range phoneSuffixes {
		if len(key) >= len(s) && strings.EqualFold(key[len(key)-len(s):], s) {
			return phone
		}
	}
	return notPhone
}

// MaskRaw returns raw, compacted, with the phone numbers masked by
// MaskPhone wherever they are nested. Phone numbers are the string values
// of keys ending, in any case, in Caller, Callers, Callee, Callees, Phone,
// Phones, PhoneNumber, PhoneNumbers or Mobile (so ProtectedCaller and
// SeatUser.Phone too), the strings of arrays under such keys, and the
// values of EndpointUser, TransferFrom and TransferTo that look like a
// number rather than an agent's mail. A phone number sent as a JSON number
// (an integer of 7 digits or more) becomes a masked string. Everything
// else keeps its value, key order and duplicates; only the escaping of
// strings may differ. Free text (UserRemark, Uui, IVR input) is not
// searched for numbers.
//
// It returns nil for input that is not valid JSON or nests deeper than
// MaxDepth: nothing unmasked gets through by accident.
func MaskRaw(raw json.RawMessage) json.RawMessage {
	if !json.Valid(raw) || tooDeep(raw) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	out := make([]byte, 0, len(raw))

	type frame struct {
		object bool
		n      int       // tokens so far: keys and values alternate in objects
		kind   phoneKind // of the current key, or of the key that holds this array
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			out = append(out, byte(d))
			stack = stack[:len(stack)-1]
			continue
		}
		kind := notPhone
		if len(stack) > 0 {
			f := &stack[len(stack)-1]
			if f.n > 0 && (!f.object || f.n%2 == 0) {
				out = append(out, ',')
			}
			f.n++
			if f.object && f.n%2 == 1 {
				key := tok.(string)
				f.kind = phoneKindOf(key)
				out = appendString(out, key)
				out = append(out, ':')
				continue
			}
			kind = f.kind
		}
		switch v := tok.(type) {
		case json.Delim:
			out = append(out, byte(v))
			// Arrays inherit their key's kind ("Phones": [...]); objects
			// start afresh.
			inherited := notPhone
			if v == '[' {
				inherited = kind
			}
			stack = append(stack, frame{object: v == '{', kind: inherited})
		case string:
			if kind == phone || kind == maybePhone && looksLikePhone(v) {
				v = MaskPhone(v)
			}
			out = appendString(out, v)
		case json.Number:
			if kind != notPhone && isPhoneNumber(v) {
				out = appendString(out, MaskPhone(v.String()))
			} else {
				out = append(out, v...)
			}
		case bool:
			if v {
				out = append(out, "true"...)
			} else {
				out = append(out, "false"...)
			}
		case nil:
			out = append(out, "null"...)
		}
	}
	return out
}

// isPhoneNumber reports whether a JSON number is a phone number rather
// than a flag or a count under a phone-like key (IsForceUseMobile: 1): a
// plain integer of at least 7 digits.
func isPhoneNumber(n json.Number) bool {
	if len(n) < 7 {
		return false
	}
	for i := 0; i < len(n); i++ {
		if !isDigit(n[i]) {
			return false
		}
	}
	return true
}

// tooDeep reports whether valid JSON nests deeper than MaxDepth.
func tooDeep(b []byte) bool {
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			i = stringEnd(b, i)
		case '{', '[':
			if depth++; depth > MaxDepth {
				return true
			}
		case '}', ']':
			depth--
		}
	}
	return false
}

// appendString appends s as a JSON string. Unlike encoding/json it leaves
// <, > and & alone: the output is data, not HTML.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '\r':
			b = append(b, `\r`...)
		case c == '\t':
			b = append(b, `\t`...)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
		i++
	}
	return append(b, '"')
}
