package handler

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestReplyBody checks that the hand-written reply is byte for byte what
// json.Encoder writes, escapes included.
func TestReplyBody(t *testing.T) {
	for _, tc := range []struct {
		code int
		msg  string
	}{
		{0, "ok"},
		{40001, "missing SessionId"},
		{50301, "rate limited: push again later"},
		{-1, ""},
		{400, `quote " and \ backslash`},
		{400, "<script>&amp;</script>"},
		{400, "tab\tnewline\n nul\x00 del\x7f"},
		{400, "non-ASCII é 号码 \u2028 \u2029"},
		{400, "invalid UTF-8 \xff\xfe"},
	} {
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(struct {
			ErrCode int
			ErrMsg  string
		}{tc.code, tc.msg}); err != nil {
			t.Fatal(err)
		}
		if got := replyBody(tc.code, tc.msg); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("replyBody(%d, %q) = %s, want %s", tc.code, tc.msg, got, want.Bytes())
		}
	}
}

// FuzzReplyBody holds replyBody to json.Encoder's output for any message.
func FuzzReplyBody(f *testing.F) {
	f.Add(0, "ok")
	f.Add(400, "<&>\"\\\x00\xff é")
	f.Fuzz(func(t *testing.T, code int, msg string) {
		var want bytes.Buffer
		json.NewEncoder(&want).Encode(struct {
			ErrCode int
			ErrMsg  string
		}{code, msg})
		if got := replyBody(code, msg); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("replyBody(%d, %q) = %s, want %s", code, msg, got, want.Bytes())
		}
	})
}
