package sink

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

// testBody is a record as the sinks receive it, cut short: these tests
// look at the message around it. (Package sinktest has the whole sample,
// but it imports this package.)
const testBody = `{"schemaVersion": "1.0", "id": "cer_5d1f0c3b9a7e4f6c8b2a1d0e9f8c7b6a", "kind": "cdr", "metrics": {"note": "caf\u00e9 \u2014 \u4e2d\u6587"}}`

// testMessage is a message as the enricher makes it.
func testMessage(testing.TB) Message {
	return Message{
		ID:            "cer_5d1f0c3b9a7e4f6c8b2a1d0e9f8c7b6a",
		SchemaVersion: "1.0",
		Key:           "0f507d5d-e1e4-436e-a655-1d6c75a79b4f",
		Group:         "1400000000",
		Body:          []byte(testBody),
	}
}

func TestMessageValidate(t *testing.T) {
	base := testMessage(t)
	tests := []struct {
		name string
		edit func(*Message)
		ok   bool
	}{
		{"sample", func(*Message) {}, true},
		{"128-character id", func(m *Message) { m.ID = strings.Repeat("a", 128) }, true},
		{"punctuation in id", func(m *Message) { m.ID = "a-b_c:d!~" }, true},
		{"dead-letter attributes", func(m *Message) {
			m.Attributes = map[string]string{AttrDeadLetterFrom: "webhook", AttrDeadLetterReason: "webhook example.com: HTTP 500: \"down\""}
		}, true},
		{"empty id", func(m *Message) { m.ID = "" }, false},
		{"129-character id", func(m *Message) { m.ID = strings.Repeat("a", 129) }, false},
		{"space in id", func(m *Message) { m.ID = "a b" }, false},
		{"newline in id", func(m *Message) { m.ID = "a\nb" }, false},
		{"non-ASCII id", func(m *Message) { m.ID = "café" }, false},
		{"empty schema version", func(m *Message) { m.SchemaVersion = "" }, false},
		{"empty body", func(m *Message) { m.Body = nil }, false},
		{"upper-case attribute", func(m *Message) { m.Attributes = map[string]string{"Reason": "x"} }, false},
		{"attribute shadows record-id", func(m *Message) { m.Attributes = map[string]string{AttrRecordID: "x"} }, false},
		{"empty attribute value", func(m *Message) { m.Attributes = map[string]string{"x": ""} }, false},
		{"control character in value", func(m *Message) { m.Attributes = map[string]string{"x": "a\r\nb"} }, false},
		{"long value", func(m *Message) { m.Attributes = map[string]string{"x": strings.Repeat("v", 257)} }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := base
			tt.edit(&m)
			err := m.Validate()
			if tt.ok && err != nil {
				t.Fatalf("validate: %v", err)
			}
			if !tt.ok && !retry.IsPermanent(err) {
				t.Fatalf("validate = %v, want a permanent error", err)
			}
		})
	}
}

func TestAttrsOrder(t *testing.T) {
	m := testMessage(t)
	m.Attributes = map[string]string{"b": "2", "a": "1"}
	var names []string
	for name := range m.Attrs() {
		names = append(names, name)
	}
	if got, want := strings.Join(names, ","), "record-id,schema-version,a,b"; got != want {
		t.Errorf("Attrs = %s, want %s", got, want)
	}
}

func TestSanitize(t *testing.T) {
	tests := []struct {
		in    string
		limit int
		want  string
	}{
		{"plain", 10, "plain"},
		{"  lead and trail \n", 50, "lead and trail"},
		{"line1\r\nline2\tcol", 50, "line1 line2 col"},
		{"bad \xff\xfe utf8", 50, "bad utf8"},
		{"bidi \u202e override", 50, "bidi override"},
		{"中文回复", 7, "中文"},
		{"0123456789", 4, "0123"},
		{"\x00\x01", 10, ""},
	}
	for _, tt := range tests {
		if got := Sanitize(tt.in, tt.limit); got != tt.want {
			t.Errorf("Sanitize(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
		}
	}
}

// FuzzSanitize checks that whatever a receiver answers, the quoted snippet
// is short, valid, printable text without leading or doubled spaces.
func FuzzSanitize(f *testing.F) {
	for _, s := range []string{
		"", "ok", `{"ErrCode":0,"ErrMsg":"ok"}`, "<html>\r\n<b>502 Bad Gateway</b></html>",
		"\xff\xfe\x00", "中文 \u202e\u200b", strings.Repeat("x ", 300), testBody,
	} {
		f.Add(s)
	}
	const limit = 200 // what the webhook quotes of a reply
	f.Fuzz(func(t *testing.T, in string) {
		out := Sanitize(in, limit)
		if len(out) > limit || !utf8.ValidString(out) {
			t.Fatalf("Sanitize(%q) = %q: too long or not UTF-8", in, out)
		}
		if strings.HasPrefix(out, " ") || strings.HasSuffix(out, " ") || strings.Contains(out, "  ") {
			t.Fatalf("Sanitize(%q) = %q: stray spaces", in, out)
		}
		for _, r := range out {
			if !unicode.IsPrint(r) || r == utf8.RuneError {
				t.Fatalf("Sanitize(%q) = %q: unprintable %U", in, out, r)
			}
		}
		if Sanitize(out, limit) != out {
			t.Fatalf("Sanitize is not idempotent on %q", out)
		}
	})
}

func TestUserAgent(t *testing.T) {
	v, ok := strings.CutPrefix(UserAgent(), "ccc-enricher/")
	if !ok || v == "" || strings.ContainsAny(v, " \r\n") {
		t.Errorf("UserAgent() = %q", UserAgent())
	}
}
