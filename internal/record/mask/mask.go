// Package mask masks the phone numbers in records, for deployments that
// must not pass them on (MASK_PHONE_NUMBERS): in a push's JSON as CCC sent
// it and in the call's session detail.
package mask

import (
	"bytes"
	"encoding/json"

	"github.com/ccc-enricher/ccc-enricher/internal/jsonwalk"
	"github.com/ccc-enricher/ccc-enricher/internal/push"
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
	b := []byte(s)
	maskDigits(b)
	return string(b)
}

// maskDigits masks the phone number in b in place, as MaskPhone.
func maskDigits(b []byte) {
	digits := 0
	for _, c := range b {
		if isDigit(c) {
			digits++
		}
	}
	if digits == 0 || alreadyMasked(b) {
		return
	}
	head, tail := 0, 0
	if digits >= 8 {
		head, tail = min(digits-8, 7), 4
	}
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
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isMaskChar(c byte) bool { return c == '*' || c == 'x' || c == 'X' }

// alreadyMasked reports whether s has at least four mask characters and
// at most four digits after the last one.
func alreadyMasked(s []byte) bool {
	masks, after := 0, 0
	for _, c := range s {
		switch {
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
func looksLikePhone(s []byte) bool {
	digit := false
	for _, c := range s {
		switch {
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

func phoneKindOf(key []byte) phoneKind {
	for _, k := range maybePhoneKeys {
		if bytes.EqualFold(key, []byte(k)) {
			return maybePhone
		}
	}
	for _, s := range phoneSuffixes {
		if len(key) >= len(s) && bytes.EqualFold(key[len(key)-len(s):], []byte(s)) {
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
// push.MaxDepth: nothing unmasked gets through by accident.
func MaskRaw(raw json.RawMessage) json.RawMessage {
	if !json.Valid(raw) {
		return nil
	}
	m := masker{out: make([]byte, 0, len(raw)), raw: raw}
	w := jsonwalk.New(raw)
	for w.Next() {
		if !m.token(w.Token()) {
			return nil
		}
	}
	return m.out
}

// masker copies a document token by token, rewriting the phone numbers.
type masker struct {
	out, raw []byte
	// arrays[d] is the kind of the key that holds the array at depth d+1:
	// arrays inherit their key's kind ("Phones": [...]), objects start
	// afresh.
	arrays [push.MaxDepth]phoneKind
	// scratch holds a string while it is unescaped.
	scratch []byte
}

// token copies t, reporting false if it nests too deeply.
func (m *masker) token(t jsonwalk.Token) bool {
	if t.Kind == jsonwalk.ObjectEnd || t.Kind == jsonwalk.ArrayEnd {
		m.out = append(m.out, m.raw[t.Start])
		return true
	}
	if n := len(m.out); n > 0 && m.out[n-1] != '{' && m.out[n-1] != '[' {
		m.out = append(m.out, ',')
	}
	kind := notPhone
	if t.Key != nil {
		kind = m.key(t.Key)
	} else if t.Depth > 0 {
		kind = m.arrays[t.Depth-1]
	}
	text := m.raw[t.Start:t.End]
	switch t.Kind {
	case jsonwalk.ObjectStart, jsonwalk.ArrayStart:
		if t.Depth == push.MaxDepth {
			return false
		}
		if t.Kind == jsonwalk.ObjectStart {
			kind = notPhone
		}
		m.arrays[t.Depth] = kind
		m.out = append(m.out, text...)
	case jsonwalk.String:
		m.string(text, kind)
	case jsonwalk.Number:
		if kind != notPhone && isPhoneNumber(text) {
			m.out = append(m.out, '"')
			m.out = append(m.out, text...)
			maskDigits(m.out[len(m.out)-len(text):])
			m.out = append(m.out, '"')
			break
		}
		m.out = append(m.out, text...)
	default:
		m.out = append(m.out, text...)
	}
	return true
}

// key copies a member's name and returns its kind.
func (m *masker) key(key []byte) phoneKind {
	if jsonwalk.NeedsUnquote(key) {
		m.scratch = jsonwalk.Unquote(m.scratch[:0], key)
		key = m.scratch
		m.out = appendString(m.out, key)
	} else {
		m.out = append(append(append(m.out, '"'), key...), '"')
	}
	m.out = append(m.out, ':')
	return phoneKindOf(key)
}

// string copies a string, quotes included, masking it if it is a phone
// number. One that reads the same decoded is copied as written, which is
// what appendString would write for it.
func (m *masker) string(text []byte, kind phoneKind) {
	s := text[1 : len(text)-1]
	if !jsonwalk.NeedsUnquote(s) {
		start := len(m.out)
		m.out = append(m.out, text...)
		if isPhone(kind, s) {
			maskDigits(m.out[start+1 : len(m.out)-1])
		}
		return
	}
	m.scratch = jsonwalk.Unquote(m.scratch[:0], s)
	if isPhone(kind, m.scratch) {
		maskDigits(m.scratch)
	}
	m.out = appendString(m.out, m.scratch)
}

// isPhone reports whether the string s under a key of the given kind is
// a phone number.
func isPhone(kind phoneKind, s []byte) bool {
	return kind == phone || kind == maybePhone && looksLikePhone(s)
}

// isPhoneNumber reports whether a JSON number is a phone number rather
// than a flag or a count under a phone-like key (IsForceUseMobile: 1): a
// plain integer of at least 7 digits.
func isPhoneNumber(n []byte) bool {
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

// appendString appends s, valid UTF-8, as a JSON string. Unlike
// encoding/json it leaves <, > and & alone: the output is data, not HTML.
func appendString(b, s []byte) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, c := range s {
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
	}
	return append(b, '"')
}
