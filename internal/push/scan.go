package push

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
)

// identityKeys are the top-level fields that name a call. encoding/json
// matches names without regard to case, so {"SessionId":"a","sessionid":"b"}
// would decode to "b" while a consumer of Raw may read "a": such a body is
// refused. Case variants of other fields are left alone, since CCC does
// send pairs like Uui and UUI elsewhere (DescribeTelCdr).
var identityKeys = []string{"SdkAppId", "SessionId", "RecordId"}

// prescan refuses, in one pass and without decoding, what the decoder
// should never see: a body that is not one object, nesting deeper than
// MaxDepth (encoding/json recurses per level), and objects with duplicate
// keys, which parsers disagree about (first wins in some, last in
// encoding/json). It is lenient about other syntax, which json.Compact
// checks next.
func prescan(body []byte) error {
	type frame struct {
		object    bool
		expectKey bool
		keys      int // where this object's keys start in keys
	}
	var frames [MaxDepth]frame
	var keyBuf [64][]byte
	keys := keyBuf[:0]
	depth := 0

	i := skipSpace(body, 0)
	if i == len(body) {
		return invalid("body", "empty")
	}
	if body[i] != '{' {
		return invalid("body", "not a JSON object")
	}
	for ; i < len(body); i++ {
		switch c := body[i]; c {
		case '"':
			end := stringEnd(body, i)
			if end < 0 {
				return invalid("body", "not valid JSON: unterminated string")
			}
			if depth > 0 && frames[depth-1].expectKey {
				key := body[i+1 : end]
				if bytes.IndexByte(key, '\\') >= 0 {
					var s string
					if err := json.Unmarshal(body[i:end+1], &s); err != nil {
						return invalid("body", "not valid JSON: bad escape in a key")
					}
					key = []byte(s)
				}
				keys = append(keys, key)
				frames[depth-1].expectKey = false
			}
			i = end
		case '{', '[':
			if depth == MaxDepth {
				return invalid("body", "nested deeper than "+strconv.Itoa(MaxDepth)+" levels")
			}
			frames[depth] = frame{object: c == '{', expectKey: c == '{', keys: len(keys)}
			depth++
		case '}', ']':
			if depth == 0 {
				return invalid("body", "not valid JSON: unbalanced brackets")
			}
			depth--
			if f := frames[depth]; f.object {
				if err := checkKeys(keys[f.keys:], depth == 0); err != nil {
					return err
				}
				keys = keys[:f.keys]
			}
			if depth == 0 {
				if skipSpace(body, i+1) != len(body) {
					return invalid("body", "trailing data after the JSON object")
				}
				return nil
			}
		case ',':
			if depth > 0 && frames[depth-1].object {
				frames[depth-1].expectKey = true
			}
		}
	}
	return invalid("body", "not valid JSON: unexpected end")
}

// checkKeys refuses duplicate keys in one object. It reorders keys.
func checkKeys(keys [][]byte, top bool) error {
	if top {
		for _, name := range identityKeys {
			n := 0
			for _, k := range keys {
				if bytes.EqualFold(k, []byte(name)) {
					n++
				}
			}
			if n > 1 {
				return invalid(name, "given more than once (names differing only in case count as one)")
			}
		}
	}
	// Sorting keeps a crafted object with many keys from costing n².
	slices.SortFunc(keys, bytes.Compare)
	for i := 1; i < len(keys); i++ {
		if bytes.Equal(keys[i-1], keys[i]) {
			return invalid(fieldName(keys[i]), "duplicate key")
		}
	}
	return nil
}

// fieldName returns key to name it in an error, or "body" if it is too
// long or odd to repeat.
func fieldName(key []byte) string {
	if len(key) == 0 || len(key) > 64 {
		return "body"
	}
	for _, c := range key {
		if c <= ' ' || c > '~' {
			return "body"
		}
	}
	return string(key)
}

// stringEnd returns the index of the quote closing the string that opens at
// b[start], or -1.
func stringEnd(b []byte, start int) int {
	for i := start + 1; ; {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			return -1
		}
		i += q
		backslashes := 0
		for j := i - 1; j > start && b[j] == '\\'; j-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return i
		}
		i++
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}
