package logging

import (
	"bytes"
	"errors"
	"log"
	"log/slog"
	"regexp"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"caller 008613812345678 hung up", "caller <number> hung up"},
		{"+8613812345678", "<number>"},
		{`"Caller":"008613812345678"`, `"Caller":"<number>"`},
		{"see https://ccc.example/tcccadmin/getRecord/abc?sign=1234 now", "see <link> now"},
		{`malformed HTTP status code "008613812345678"`, `malformed HTTP status code "<number>"`},
		{"short 123456 stays", "short 123456 stays"},
		{"cer_0123456789abcdef0123456789abcdef", "cer_0123456789abcdef0123456789abcdef"},
		{"abc1234567def", "abc1234567def"},
		{"bad \xff byte", "bad \uFFFD byte"},
	} {
		if got := Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := Redact(strings.Repeat("é", MaxLen)); len(got) > MaxLen+len("…") {
		t.Errorf("Redact kept %d bytes", len(got))
	}
}

func TestHandlerRedactsEverything(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, slog.LevelDebug).With("peer", "tel 13812345678")
	l.Info("got https://evil.example/x 13812345678",
		"error", errors.New(`bad Content-Length "008613812345678x"`),
		"body", []byte("Caller=008613812345678"),
		slog.Group("g", "link", "http://a.example/getRecord/1"),
		"record_id", "cer_0123456789abcdef0123456789abcdef",
		"session_id", "a1b2c3d4-1234-4abc-9def-0123456789ab",
		"push_uuid", "1234567890123", // digits only: masked even here
		"sdk_app_id", int64(1400123456),
	)
	out := buf.String()
	for _, bad := range []string{"13812345678", "008613812345678", "://", "getRecord"} {
		if strings.Contains(out, bad) {
			t.Errorf("log has %q:\n%s", bad, out)
		}
	}
	for _, good := range []string{"cer_0123456789abcdef0123456789abcdef", "a1b2c3d4-1234-4abc-9def-0123456789ab", "1400123456"} {
		if !strings.Contains(out, good) {
			t.Errorf("log lost %q:\n%s", good, out)
		}
	}
}

// The standard log package, which net/http writes its diagnostics to,
// goes through the same redaction once Install has run.
func TestInstallRoutesStandardLog(t *testing.T) {
	old := slog.Default()
	defer slog.SetDefault(old)
	var buf bytes.Buffer
	Install(New(&buf, slog.LevelInfo))
	log.Printf("Unsolicited response received on idle HTTP channel starting with %q", "HTTP/1.1 204\r\n\r\n{\"Caller\":\"008613812345678\",\"Mail\":\"agent@example.com\",\"RecordURL\":\"https://x.example/tcccadmin/getRecord/s\"}")
	out := buf.String()
	// The quoted peer bytes are dropped whole: no number, link or mail.
	if !strings.Contains(out, `"level":"WARN"`) || !strings.Contains(out, "starting with") ||
		strings.Contains(out, "008613812345678") || strings.Contains(out, "getRecord") || strings.Contains(out, "agent@example.com") {
		t.Errorf("log output:\n%s", out)
	}
}

// FuzzIsIdentifier holds isIdentifier to the pattern it replaced, which was
// compiled at every start-up.
func FuzzIsIdentifier(f *testing.F) {
	re := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$`)
	for _, s := range []string{"cer_0123", "8613812345678", "a", "", "-a", "sess:1.2-3_x", strings.Repeat("a", 128), strings.Repeat("a", 129), "é1", "a b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		want := re.MatchString(v) && strings.ContainsFunc(v, func(r rune) bool {
			return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		})
		if got := isIdentifier("session_id", v); got != want {
			t.Fatalf("isIdentifier(%q) = %v, the pattern %v", v, got, want)
		}
	})
}
