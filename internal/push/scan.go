package push

import (
	"bytes"
	"slices"
	"strconv"

	"github.com/ccc-enricher/ccc-enricher/internal/jsonwalk"
)

// identityKeys are the top-level fields that name a call. encoding/json
// matches names without regard to case, so {"SessionId":"a","sessionid":"b"}
// would decode to "b" while a consumer of Raw may read "a": such a body is
// refused. Case variants of other fields are left alone, since CCC does
// send pairs like Uui and UUI elsewhere (DescribeTelCdr).
var identityKeys = []string{"SdkAppId", "SessionId", "RecordId"}

// prescan refuses, in one pass over valid JSON and before the decoder
// sees it, nesting deeper than MaxDepth (encoding/json recurses per level)
// and objects with duplicate keys, which parsers disagree about (first
// wins in some, last in encoding/json).
func prescan(raw []byte) error {
	// keys holds the keys of every open object, outermost first; starts[d]
	// is where those of the object at depth d+1 begin.
	var keyBuf [64][]byte
	keys := keyBuf[:0]
	var starts [MaxDepth]int
	// unquoted holds the keys that have escapes, undone.
	var unquoted []byte
	w := jsonwalk.New(raw)
	for w.Next() {
		t := w.Token()
		if t.Key != nil {
			keys, unquoted = appendKey(keys, unquoted, t.Key)
		}
		switch t.Kind {
		case jsonwalk.ObjectStart, jsonwalk.ArrayStart:
			if t.Depth == MaxDepth {
				return invalid("body", "nested deeper than "+strconv.Itoa(MaxDepth)+" levels")
			}
			starts[t.Depth] = len(keys)
		case jsonwalk.ObjectEnd:
			if err := checkKeys(keys[starts[t.Depth]:], t.Depth == 0); err != nil {
				return err
			}
			keys = keys[:starts[t.Depth]]
		}
	}
	return nil
}

// appendKey appends key, unquoted into unquoted if it has escapes.
func appendKey(keys [][]byte, unquoted, key []byte) ([][]byte, []byte) {
	if bytes.IndexByte(key, '\\') >= 0 {
		n := len(unquoted)
		unquoted = jsonwalk.Unquote(unquoted, key)
		key = unquoted[n:len(unquoted):len(unquoted)]
	}
	return append(keys, key), unquoted
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
