package jsonwalk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// tokens lists the tokens of data as kind@depth key=text.
func tokens(data []byte) []string {
	var out []string
	w := New(data)
	for w.Next() {
		t := w.Token()
		s := fmt.Sprintf("%d@%d %s", t.Kind, t.Depth, data[t.Start:t.End])
		if t.Key != nil {
			s = fmt.Sprintf("%d@%d %s=%s", t.Kind, t.Depth, t.Key, data[t.Start:t.End])
		}
		out = append(out, s)
	}
	return out
}

func TestWalk(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{`1`, []string{"6@0 1"}},
		{` "a\"b" `, []string{`5@0 "a\"b"`}},
		{`{}`, []string{"1@0 {", "2@0 }"}},
		{`{"a":1,"b":[true,null,{"c":"d"}],"":-1.5e3}`, []string{
			"1@0 {", "6@1 a=1", "3@1 b=[", "7@2 true", "7@2 null", "1@2 {", `5@3 c="d"`, "2@2 }", "4@1 ]",
			"6@1 =-1.5e3", "2@0 }",
		}},
		{"{ \"k\\\\\" :\n[ ] , \"x\" : { } }", []string{"1@0 {", `3@1 k\\=[`, "4@1 ]", "1@1 x={", "2@1 }", "2@0 }"}},
		{`[{"a":"b"},"c"]`, []string{"3@0 [", "1@1 {", `5@2 a="b"`, "2@1 }", `5@1 "c"`, "4@0 ]"}},
	} {
		if got := tokens([]byte(tc.in)); strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%s:\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

func TestWalkDeep(t *testing.T) {
	const n = 300
	doc := strings.Repeat(`{"a":[`, n) + strings.Repeat(`]}`, n)
	if err := checkWalk([]byte(doc)); err != nil {
		t.Fatal(err)
	}
}

func TestUnquote(t *testing.T) {
	for _, in := range []string{
		`""`, `"abc"`, `"\"\\\/\b\f\n\r\t"`, `"\u0041\u00e9\u4f60"`, `"\ud83d\ude00"`, `"\ud83d"`, `"\ud83dx"`,
		`"\ude00\ud83d"`, `"\ud83d\u0041"`, "\"\xff\xfe\"", "\"\xed\xa0\x80\"", `"é€😀"`,
	} {
		var want string
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatal(in, err)
		}
		s := []byte(in[1 : len(in)-1])
		if got := Unquote(nil, s); string(got) != want {
			t.Errorf("Unquote(%s) = %q, want %q", in, got, want)
		}
		if NeedsUnquote(s) != (string(s) != want) {
			t.Errorf("NeedsUnquote(%s) = %v", in, NeedsUnquote(s))
		}
	}
}

// checkWalk rebuilds data, valid JSON, from its tokens and compares the
// result with json.Compact, checks the depths, and the unquoting of every
// key and string against encoding/json.
func checkWalk(data []byte) error {
	var want bytes.Buffer
	if err := json.Compact(&want, data); err != nil {
		return err
	}
	var out []byte
	var starts []Token
	w := New(data)
	for w.Next() {
		t := w.Token()
		if n := len(out); n > 0 && out[n-1] != '{' && out[n-1] != '[' && t.Kind != ObjectEnd && t.Kind != ArrayEnd {
			out = append(out, ',')
		}
		if t.Key != nil {
			if err := checkUnquote(append(append([]byte{'"'}, t.Key...), '"')); err != nil {
				return err
			}
			out = append(append(append(append(out, '"'), t.Key...), '"'), ':')
		}
		out = append(out, data[t.Start:t.End]...)
		switch t.Kind {
		case ObjectStart, ArrayStart:
			starts = append(starts, t)
		case ObjectEnd, ArrayEnd:
			s := starts[len(starts)-1]
			starts = starts[:len(starts)-1]
			if s.Depth != t.Depth || (s.Kind == ObjectStart) != (t.Kind == ObjectEnd) {
				return fmt.Errorf("end %+v closes %+v", t, s)
			}
		case String:
			if err := checkUnquote(data[t.Start:t.End]); err != nil {
				return err
			}
		}
		if t.Depth != len(starts) && t.Kind != ObjectStart && t.Kind != ArrayStart {
			return fmt.Errorf("token %+v at depth %d", t, len(starts))
		}
	}
	if !bytes.Equal(out, want.Bytes()) {
		return fmt.Errorf("rebuilt\n%s\nwant\n%s", out, want.Bytes())
	}
	return nil
}

func checkUnquote(quoted []byte) error {
	var want string
	if err := json.Unmarshal(quoted, &want); err != nil {
		return err
	}
	if got := Unquote(nil, quoted[1:len(quoted)-1]); string(got) != want {
		return fmt.Errorf("Unquote(%s) = %q, want %q", quoted, got, want)
	}
	return nil
}

// FuzzWalk checks the walk of valid documents against encoding/json, and
// that any other bytes end the walk without a panic.
func FuzzWalk(f *testing.F) {
	for _, s := range []string{
		`{"a":1,"b":[true,null,{"c":"d"}],"":-1.5e3}`, `[{"\u0041":"\ud83d\ude00\ud83d"}]`, "\"\xff\"",
		`{"a":"\\"}`, `{"a" 1}`, `{"a":"`, `"\u12`, `]]]}}`, `[[[[[[[[{"a":[]}]]]]]]]]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			w := New(data)
			for n := 0; w.Next(); n++ {
				if t := w.Token(); n > len(data) || t.Start < 0 || t.End > len(data) || t.Start >= t.End {
					panic(fmt.Sprintf("token %+v of %q", t, data))
				}
			}
			Unquote(nil, data)
			return
		}
		if err := checkWalk(data); err != nil {
			t.Fatal(err)
		}
	})
}

func TestWithout(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{`{"a":1,"RequestId":"x","b":2}`, `{"a":1,"b":2}`, true},
		{`{"RequestId":"x","b":2}`, `{"b":2}`, true},
		{`{"a":1,"RequestId":"x"}`, `{"a":1}`, true},
		{`{"RequestId":"x"}`, `{}`, true},
		{"{ \"a\" : 1 ,\n \"RequestId\" : \"x\" }", "{ \"a\" : 1  }", true},
		{`{"a":{"RequestId":"x"}}`, `{"a":{"RequestId":"x"}}`, false},
		{`{"a":1}`, `{"a":1}`, false},
		{`{"RequestId":{"x":1}}`, `{"RequestId":{"x":1}}`, false},
	} {
		got, ok := Without([]byte(tc.in), "RequestId")
		if string(got) != tc.want || ok != tc.ok {
			t.Errorf("Without(%s) = %s, %v; want %s, %v", tc.in, got, ok, tc.want, tc.ok)
		}
		if !json.Valid(got) {
			t.Errorf("Without(%s) = %s: not JSON", tc.in, got)
		}
	}
}
