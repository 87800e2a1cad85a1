package webhook

import "testing"

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"nope", "nope"},
		{"caller 008613812345678 unknown", "caller *************** unknown"},
		{"order 123456 ok", "order 123456 ok"},
		{"bad link https://tccc.qcloud.com/tcccadmin/getRecord/PEbN==/x.mp3?key=abc here", "bad link <link> here"},
		{`{"RecordURL":"HTTPS://cos.example/rec.mp3"}`, `{"RecordURL":"<link>`},
	}
	for _, tt := range tests {
		if got := redact(tt.in); got != tt.want {
			t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
