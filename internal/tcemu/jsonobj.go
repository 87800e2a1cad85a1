package tcemu

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
)

// member is one name/value pair of a JSON object, kept in document order
// with its value's bytes untouched, so that what a test stored is what the
// API answers, field for field and in the same order.
type member struct {
	name  string
	value json.RawMessage
}

// objectMembers splits a JSON object into its members.
func objectMembers(data []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	var ms []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, ok := tok.(string)
		if !ok {
			return nil, errors.New("object key is not a string")
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		ms = append(ms, member{name, v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	return ms, nil
}

// encodeObject joins members back into a compact JSON object.
func encodeObject(ms []member) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := marshal(m.name)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		if err := json.Compact(&b, m.value); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// withoutMember returns ms less every member called name.
func withoutMember(ms []member, name string) []member {
	out := make([]member, 0, len(ms))
	for _, m := range ms {
		if m.name != name {
			out = append(out, m)
		}
	}
	return out
}

// overlay replaces the members of base that top also has, in place, and
// appends the rest of top.
func overlay(base, top []member) []member {
	out := append([]member(nil), base...)
next:
	for _, t := range top {
		for i := range out {
			if out[i].name == t.name {
				out[i].value = t.value
				continue next
			}
		}
		out = append(out, t)
	}
	return out
}

// shiftTimestamps adds shift seconds to every non-zero integer whose member
// name ends in "Timestamp" or "TimeStamp", or is "Time", anywhere in the
// document, and leaves every other byte as it was. Values of 1e11 and above
// are Unix milliseconds (IVRKeyPressedElement.Timestamp) and move by
// shift×1000. Zero stays zero: CCC uses it for "did not happen", such as
// QueuedTimestamp of a call that never queued.
func shiftTimestamps(data []byte, shift int64) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var (
		path jsonPath
		out  bytes.Buffer
		last int64
		seen bool
	)
	for {
		tok, err := dec.Token()
		if err == io.EOF && seen && path.depth() == 0 {
			break
		}
		if err == io.EOF {
			return nil, io.ErrUnexpectedEOF
		}
		if err != nil {
			return nil, err
		}
		seen = true
		key, isValue := path.step(tok)
		n, ok := tok.(json.Number)
		if !isValue || !ok || !isTimestampName(key) {
			continue
		}
		v, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil || v == 0 {
			continue
		}
		end := dec.InputOffset()
		out.Write(data[last : end-int64(len(n))])
		out.WriteString(strconv.FormatInt(v+timestampShift(v, shift), 10))
		last = end
	}
	out.Write(data[last:])
	return out.Bytes(), nil
}

// timestampShift is how far a timestamp v moves for a shift in seconds:
// values of 1e11 and above (in magnitude) are Unix milliseconds.
func timestampShift(v, shift int64) int64 {
	if v >= 1e11 || v <= -1e11 {
		return shift * 1000
	}
	return shift
}

// jsonPath follows a json.Decoder's token stream to tell which member name
// each value belongs to.
type jsonPath struct {
	stack []pathFrame
}

// pathFrame is one open object or array.
type pathFrame struct {
	object, wantKey bool
	key             string
}

func (p *jsonPath) depth() int { return len(p.stack) }

// step takes the next token. It returns false for a member name, and
// otherwise the name of the member whose value (or the start of whose
// value) tok is: "" outside an object, in an array, or for a closing
// delimiter.
func (p *jsonPath) step(tok json.Token) (key string, isValue bool) {
	d, isDelim := tok.(json.Delim)
	if n := len(p.stack); n > 0 && p.stack[n-1].object && d != '}' {
		top := &p.stack[n-1]
		if top.wantKey {
			top.key, _ = tok.(string)
			top.wantKey = false
			return "", false
		}
		key = top.key
		top.wantKey = true
	}
	if isDelim {
		switch d {
		case '{':
			p.stack = append(p.stack, pathFrame{object: true, wantKey: true})
		case '[':
			p.stack = append(p.stack, pathFrame{})
		default:
			p.stack = p.stack[:len(p.stack)-1]
		}
	}
	return key, true
}

func isTimestampName(k string) bool {
	return k == "Time" || strings.HasSuffix(k, "Timestamp") || strings.HasSuffix(k, "TimeStamp")
}
