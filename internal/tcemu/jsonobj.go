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
	type frame struct {
		object, wantKey bool
		key             string
	}
	var (
		stack []frame
		out   bytes.Buffer
		last  int64
		seen  bool
	)
	for {
		tok, err := dec.Token()
		if err == io.EOF && seen && len(stack) == 0 {
			break
		}
		if err == io.EOF {
			return nil, io.ErrUnexpectedEOF
		}
		if err != nil {
			return nil, err
		}
		seen = true
		var key string
		if n := len(stack); n > 0 && stack[n-1].object {
			top := &stack[n-1]
			if d, ok := tok.(json.Delim); !ok || d != '}' {
				if top.wantKey {
					top.key, _ = tok.(string)
					top.wantKey = false
					continue
				}
				key = top.key
				top.wantKey = true
			}
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, frame{object: true, wantKey: true})
			case '[':
				stack = append(stack, frame{})
			default:
				stack = stack[:len(stack)-1]
			}
		case json.Number:
			if !isTimestampName(key) {
				continue
			}
			v, err := strconv.ParseInt(string(t), 10, 64)
			if err != nil || v == 0 {
				continue
			}
			d := shift
			if v >= 1e11 || v <= -1e11 {
				d *= 1000
			}
			end := dec.InputOffset()
			start := end - int64(len(t))
			out.Write(data[last:start])
			out.WriteString(strconv.FormatInt(v+d, 10))
			last = end
		}
	}
	out.Write(data[last:])
	return out.Bytes(), nil
}

func isTimestampName(k string) bool {
	return k == "Time" || strings.HasSuffix(k, "Timestamp") || strings.HasSuffix(k, "TimeStamp")
}
