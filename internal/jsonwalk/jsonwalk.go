// Package jsonwalk walks a JSON document that encoding/json has already
// found valid (json.Valid, json.Compact or json.Unmarshal did the syntax)
// and reports its structure token by token: each value's kind and byte
// span, the name of the object member it is the value of, and how deeply
// it nests. Checks and rewrites written on it cost one pass over the bytes
// and no allocation per token.
//
// It does not check syntax. Given bytes that are not valid JSON it reports
// tokens that mean nothing, but it ends and does not panic.
package jsonwalk

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"
)

// Kind is the kind of a token.
type Kind uint8

// The token kinds.
const (
	ObjectStart Kind = iota + 1
	ObjectEnd
	ArrayStart
	ArrayEnd
	String
	Number
	Literal // true, false or null
)

// Token is one value, or the end of an object or array.
type Token struct {
	Kind Kind
	// Start and End delimit the token in the document: the whole text of
	// a string (quotes included), number or literal, the bracket of a
	// start or an end.
	Start, End int
	// Depth is the number of objects and arrays around the token: 0 for
	// the document's value, 1 for its members. An end has the depth of
	// its start.
	Depth int
	// Key is the name of the object member whose value the token is, as
	// written between the quotes (see Unquote); nil in an array, at the
	// top and for ends.
	Key []byte
}

// Walker reports the tokens of one document, in order.
type Walker struct {
	data      []byte
	pos       int
	depth     int
	expectKey bool
	// objects has bit d set when the container at depth d+1 is an object:
	// the first 64 levels inline, deeper ones in more.
	objects uint64
	more    []uint64
	tok     Token
}

// New returns a Walker over data, which must be valid JSON.
func New(data []byte) Walker { return Walker{data: data} }

// Token returns the token that the last successful Next found.
func (w *Walker) Token() Token { return w.tok }

// Next advances to the next token and reports whether there is one.
func (w *Walker) Next() bool {
	var key []byte
	for w.pos < len(w.data) {
		start := w.pos
		c := w.data[start]
		switch c {
		case ' ', '\t', '\n', '\r', ':':
			w.pos++
			continue
		case ',':
			w.pos++
			w.expectKey = w.inObject()
			continue
		case '"':
			w.pos = stringEnd(w.data, start)
			if w.expectKey {
				w.expectKey = false
				key = w.data[start+1 : max(w.pos-1, start+1)]
				continue
			}
			w.set(String, start, key)
		case '{', '[':
			w.pos++
			w.set(ArrayStart, start, key)
			if c == '{' {
				w.tok.Kind = ObjectStart
			}
			w.push(c == '{')
		case '}', ']':
			w.pos++
			w.depth = max(w.depth-1, 0)
			w.set(ArrayEnd, start, nil)
			if c == '}' {
				w.tok.Kind = ObjectEnd
			}
			w.expectKey = false
		default:
			w.pos = scalarEnd(w.data, start)
			w.set(Number, start, key)
			if c == 't' || c == 'f' || c == 'n' {
				w.tok.Kind = Literal
			}
		}
		return true
	}
	return false
}

func (w *Walker) set(k Kind, start int, key []byte) {
	w.tok = Token{Kind: k, Start: start, End: w.pos, Depth: w.depth, Key: key}
}

func (w *Walker) push(object bool) {
	d := w.depth
	w.depth++
	w.expectKey = object
	var bit uint64 = 1 << (d % 64)
	p := &w.objects
	if d >= 64 {
		for len(w.more) <= d/64-1 {
			w.more = append(w.more, 0)
		}
		p = &w.more[d/64-1]
	}
	if object {
		*p |= bit
	} else {
		*p &^= bit
	}
}

// inObject reports whether the innermost open container is an object.
func (w *Walker) inObject() bool {
	d := w.depth - 1
	switch {
	case d < 0:
		return false
	case d < 64:
		return w.objects&(1<<d) != 0
	case d/64-1 < len(w.more):
		return w.more[d/64-1]&(1<<(d%64)) != 0
	}
	return false
}

// stringEnd returns the index after the quote that closes the string
// opening at b[start], or len(b).
func stringEnd(b []byte, start int) int {
	for i := start + 1; ; {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			return len(b)
		}
		i += q
		backslashes := 0
		for j := i - 1; j > start && b[j] == '\\'; j-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return i + 1
		}
		i++
	}
}

// scalarEnd returns the index after the number or literal starting at
// b[start].
func scalarEnd(b []byte, start int) int {
	i := start + 1
	for i < len(b) {
		switch b[i] {
		case ',', ':', '}', ']', ' ', '\t', '\n', '\r', '"', '{', '[':
			return i
		}
		i++
	}
	return i
}

// NeedsUnquote reports whether s, the text of a string between its
// quotes, reads differently once decoded: it has an escape, or bytes that
// are not UTF-8, which encoding/json decodes to U+FFFD.
func NeedsUnquote(s []byte) bool {
	return bytes.IndexByte(s, '\\') >= 0 || !utf8.Valid(s)
}

// Unquote appends to dst the text of a string between its quotes, s,
// decoded as encoding/json decodes it: escapes undone, bytes that are not
// UTF-8 and unpaired surrogates replaced with U+FFFD.
func Unquote(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			var n int
			dst, n = unescape(dst, s[i:])
			i += n
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			r, size := utf8.DecodeRune(s[i:])
			dst = utf8.AppendRune(dst, r)
			i += size
		}
	}
	return dst
}

// unescape appends the character that the escape at the start of s
// stands for and returns how many bytes of s it took.
func unescape(dst, s []byte) ([]byte, int) {
	switch c := s[1]; c {
	case 'b':
		return append(dst, '\b'), 2
	case 'f':
		return append(dst, '\f'), 2
	case 'n':
		return append(dst, '\n'), 2
	case 'r':
		return append(dst, '\r'), 2
	case 't':
		return append(dst, '\t'), 2
	case 'u':
		r := hex4(s)
		if r < 0 {
			return append(dst, s[:2]...), 2
		}
		if utf16.IsSurrogate(r) {
			if d := utf16.DecodeRune(r, hex4(s[6:])); d != utf8.RuneError {
				return utf8.AppendRune(dst, d), 12
			}
			r = utf8.RuneError
		}
		return utf8.AppendRune(dst, r), 6
	default:
		return append(dst, c), 2
	}
}

// hex4 returns the code unit of the \uXXXX escape at the start of s, or
// -1.
func hex4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// Without returns a copy of the JSON object data without its top-level
// member named key (written without escapes, as an API writes its own
// names), or data itself, and false, when the object has no such member or
// is not one. The other members keep their order and bytes.
func Without(data []byte, key string) ([]byte, bool) {
	w := New(data)
	for w.Next() {
		t := w.Token()
		if t.Depth != 1 || string(t.Key) != key {
			continue
		}
		if t.Kind == ObjectStart || t.Kind == ArrayStart {
			return data, false // a value with insides: not what the callers cut
		}
		// Back from the value over ':' and the key to what comes before.
		i := skipBack(data, t.Start-1)
		if i < 0 || data[i] != ':' {
			return data, false
		}
		i = skipBack(data, i-1)
		keyStart := i - len(key) - 1
		if keyStart < 0 || string(data[keyStart:i+1]) != `"`+key+`"` {
			return data, false
		}
		before := skipBack(data, keyStart-1)
		end := t.End
		switch {
		case before >= 0 && data[before] == ',':
			keyStart = before // drop the comma before the member
		case before >= 0 && data[before] == '{':
			// The first member: drop the comma after it, if any.
			j := end
			for j < len(data) && isSpace(data[j]) {
				j++
			}
			if j < len(data) && data[j] == ',' {
				end = j + 1
			}
		default:
			return data, false
		}
		out := make([]byte, 0, len(data)-(end-keyStart))
		return append(append(out, data[:keyStart]...), data[end:]...), true
	}
	return data, false
}

// skipBack returns the index of the last byte at or before i that is not
// JSON white space, or -1.
func skipBack(b []byte, i int) int {
	for i >= 0 && isSpace(b[i]) {
		i--
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
