package push

import (
	"bytes"
	"strconv"

	"github.com/ccc-enricher/ccc-enricher/internal/jsonwalk"
)

// identityKeys are the top-level fields that decide whether and how a push
// is processed (see essentials). encoding/json matches names without regard
// to case and keeps the last of a repeated key, so
// {"SessionId":"a","sessionid":"b"} would decode to "b" while a consumer of
// Raw may read "a": such a body is refused. Repeats of other fields, and
// case variants (CCC does send pairs like Uui and UUI, in DescribeTelCdr),
// are kept as they came: a tolerant reader refuses nothing it does not need.
var identityKeys = []string{"SdkAppId", "SessionId", "RecordId", "StartTimestamp", "EndedTimestamp", "Timestamp"}

// prescan refuses, in one pass over valid JSON and before the decoder
// sees it, nesting deeper than MaxDepth (encoding/json recurses per level)
// and an essential field given twice, which parsers disagree about (first
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
			if t.Depth == 0 {
				if err := checkKeys(keys[starts[0]:]); err != nil {
					return err
				}
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

// checkKeys refuses an identity key given more than once in the body's
// object, names differing only in case counting as one.
func checkKeys(keys [][]byte) error {
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
	return nil
}
