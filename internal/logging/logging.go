// Package logging builds the program's one kind of logger: JSON lines whose
// messages and string values are redacted, so that no phone number, signed
// link, token or peer's bytes reach a log whatever a caller passes it.
//
// Redaction is a property of the handler rather than of each call site:
// call sites log errors and values that quote the network (net/http's
// diagnostics, a receiver's status line, an API's message), and one missed
// site would be enough to leak. Links ("scheme://…") become "<link>", runs
// of seven or more digits are masked unless a letter, digit or underscore
// precedes them, and every string is cut to MaxLen bytes. Identifiers the
// program made or validated itself survive: their digits follow word
// characters (cer_…), they are logged under an identifier key (request_id,
// session_id…) with a letter in them, or they are numbers (sdk_app_id).
package logging

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"
)

// MaxLen bounds every message and string value, in bytes.
const MaxLen = 512

// LogLevel is the level at which the standard log package's output (for
// one, net/http's diagnostics about a peer) is recorded: a warning, since
// it reports something the program did not expect.
const LogLevel = slog.LevelWarn

// The patterns are compiled when first needed, behind their cheap
// pre-checks, rather than at start-up, where compiling them took half a
// millisecond of every cold start.
var (
	// scheme://rest-up-to-whitespace-or-quote
	linkRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.-]*://[^\s"'<>]*`)
	})
	// Runs of 7+ digits; maskDigits keeps those that follow a word character.
	digitsRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\+?[0-9]{7,}`) })
	// quotedRE matches a Go-quoted string (%q), the form in which libraries
	// quote what they received.
	quotedRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`"(?:[^"\\]|\\.)*"?`) })
)

// identifiers are the attribute keys whose values the program made or
// validated itself; they are logged as they are when they look like an
// identifier (see isIdentifier) rather than a number.
var identifiers = map[string]bool{
	"request_id": true, "record_id": true, "session_id": true,
	"push_uuid": true, "sdk_app_id": true, "call_id": true,
}

// isIdentifier reports whether v, the value of key, is an identifier as
// the program makes or validates them: 1 to 128 letters, digits and
// "_.:-", starting with a letter or digit, with a letter in it, so that it
// cannot be a phone number.
func isIdentifier(key, v string) bool {
	if !identifiers[key] || len(v) == 0 || len(v) > 128 || !isAlnum(v[0]) {
		return false
	}
	letter := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			letter = true
		case c >= '0' && c <= '9' || c == '_' || c == '.' || c == ':' || c == '-':
		default:
			return false
		}
	}
	return letter
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// Redact returns s with links replaced by "<link>", long digit runs masked,
// invalid UTF-8 replaced and the length bounded by MaxLen.
func Redact(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.Contains(s, "://") {
		s = linkRE().ReplaceAllString(s, "<link>")
	}
	if hasDigitRun(s) {
		s = maskDigits(s)
	}
	if len(s) > MaxLen {
		cut := MaxLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// hasDigitRun is a fast pre-check for maskDigits: seven digits in a row.
func hasDigitRun(s string) bool {
	n := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' {
			n++
			if n >= 7 {
				return true
			}
		} else {
			n = 0
		}
	}
	return false
}

func isWord(c byte) bool { return c == '_' || isAlnum(c) }

func maskDigits(s string) string {
	locs := digitsRE().FindAllStringIndex(s, -1)
	var b strings.Builder
	last := 0
	for _, l := range locs {
		i, j := l[0], l[1]
		// Joined on the left to a word, the digits are part of an
		// identifier (cer_…, a hex digest); a letter after them is not
		// enough to make them one ("008613812345678x").
		if i > 0 && isWord(s[i-1]) {
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString("<number>")
		last = j
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// Handler redacts the message and every string-valued attribute (errors,
// Stringers and other values are first formatted) before handing the
// record to the next handler.
type Handler struct{ next slog.Handler }

// NewHandler returns a Handler in front of next.
func NewHandler(next slog.Handler) *Handler { return &Handler{next: next} }

// Enabled reports whether next handles level.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle redacts r and passes it on.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, Redact(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redactAttr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

// WithAttrs redacts attrs once, when they are added.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		red[i] = redactAttr(a)
	}
	return &Handler{next: h.next.WithAttrs(red)}
}

// WithGroup opens a group in next.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name)}
}

func redactAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		if isIdentifier(a.Key, v.String()) {
			return slog.Attr{Key: a.Key, Value: v}
		}
		return slog.String(a.Key, Redact(v.String()))
	case slog.KindGroup:
		g := v.Group()
		red := make([]slog.Attr, len(g))
		for i, x := range g {
			red[i] = redactAttr(x)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(red...)}
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, Redact(x.Error()))
		case []byte:
			return slog.String(a.Key, Redact(string(x)))
		default:
			return slog.String(a.Key, Redact(fmt.Sprint(x)))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

// New returns the program's logger: redacted JSON lines on w at level.
func New(w io.Writer, level slog.Leveler) *slog.Logger {
	return slog.New(NewHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})))
}

// ParseLevel parses a LOG_LEVEL value as slog does; anything else is INFO.
func ParseLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo
	}
	return l
}

// Install makes l the default logger and routes the standard log
// package's output through it at LogLevel. Libraries write free text
// there, and net/http quotes a peer's bytes in it ("Unsolicited response
// received on idle HTTP channel starting with %q"): every quoted part of
// such a line is dropped before the line is logged, and the rest is
// redacted like everything else.
func Install(l *slog.Logger) {
	slog.SetDefault(l)
	log.SetFlags(0)
	log.SetOutput(libraryWriter{l})
}

// libraryWriter logs each line the standard log package writes.
type libraryWriter struct{ l *slog.Logger }

func (w libraryWriter) Write(p []byte) (int, error) {
	msg := quotedRE().ReplaceAllString(strings.TrimRight(string(p), "\n"), `"…"`)
	w.l.Log(context.Background(), LogLevel, msg, "source", "library")
	return len(p), nil
}

// Discard returns a logger that writes nothing.
func Discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
