package mask

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"github.com/ccc-enricher/ccc-enricher/internal/push"
)

func FuzzMaskRaw(f *testing.F) {
	for _, name := range []string{"push-cdr.json", "push-record.json", "push-voicemail.json"} {
		f.Add(load(f, name))
	}
	for _, s := range []string{
		`{"Caller":"008613812345678","Phones":["13812345678",13812345678],"EndpointUser":13123456789}`,
		`{"SeatUser":{"Phone":"+86 138 1234 5678"},"TransferTo":"foo@x","x":"\u2028<>&"}`,
		`{"a":1,"a":2,"Phone":{"Phone":"12345678"}}`, `"13812345678"`, `[1,"2",{"Callee":"3"}]`,
		`{"Callee":"xxxx13812345678","Caller":"1381234xxxx"}`, `{`, `{"Phone":"\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		// MaskPhone keeps the length and every non-digit, and is idempotent.
		s := string(raw)
		m := MaskPhone(s)
		if len(m) != len(s) || MaskPhone(m) != m {
			t.Fatalf("MaskPhone(%q) = %q", s, m)
		}
		for i := 0; i < len(s); i++ {
			if !isDigit(s[i]) && m[i] != s[i] || isDigit(s[i]) && m[i] != s[i] && m[i] != '*' {
				t.Fatalf("MaskPhone(%q) = %q", s, m)
			}
		}

		out := MaskRaw(raw)
		if !json.Valid(raw) || depth(t, raw) > push.MaxDepth {
			if out != nil {
				t.Fatalf("MaskRaw of invalid input = %q", out)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("MaskRaw(%q) = %q, not JSON", raw, out)
		}
		if again := MaskRaw(out); !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %q then %q", out, again)
		}
		a, b := decodeAny(t, raw), decodeAny(t, out)
		sameExceptPhones(t, a, b, notPhone)
	})
}

// depth returns how deeply valid JSON nests, by encoding/json's tokens.
func depth(t *testing.T, b []byte) int {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber() // 1E700 is valid JSON but no float64
	n, deepest := 0, 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return deepest
		}
		if err != nil {
			t.Fatal(err)
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			n++
			deepest = max(deepest, n)
		case json.Delim('}'), json.Delim(']'):
			n--
		}
	}
}

func decodeAny(t *testing.T, b []byte) any {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// sameExceptPhones checks that MaskRaw changed only the phone values.
func sameExceptPhones(t *testing.T, a, b any, kind phoneKind) {
	t.Helper()
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok || len(av) != len(bv) {
			t.Fatalf("object changed: %v → %v", a, b)
		}
		for k, v := range av {
			sameExceptPhones(t, v, bv[k], phoneKindOf([]byte(k)))
		}
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			t.Fatalf("array changed: %v → %v", a, b)
		}
		for i := range av {
			sameExceptPhones(t, av[i], bv[i], kind)
		}
	case string:
		want := av
		if kind == phone || kind == maybePhone && looksLikePhone([]byte(av)) {
			want = MaskPhone(av)
		}
		if b != want {
			t.Fatalf("string %q → %v, want %q", av, b, want)
		}
	case json.Number:
		var want any = av
		if kind != notPhone && isPhoneNumber([]byte(av)) {
			want = MaskPhone(string(av))
		}
		if b != want {
			t.Fatalf("number %v → %v (%T), want %v", av, b, b, want)
		}
	default:
		if a != b {
			t.Fatalf("%v → %v", a, b)
		}
	}
}
