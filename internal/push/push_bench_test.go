package push

import (
	"testing"
)

// BenchmarkParse parses and validates each sample push kind.
func BenchmarkParse(b *testing.B) {
	for _, tc := range []struct {
		kind Kind
		file string
	}{{KindCDR, "push-cdr.json"}, {KindRecord, "push-record.json"}, {KindVoicemail, "push-voicemail.json"}} {
		body := load(b, tc.file)
		b.Run(string(tc.kind), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(tc.kind, body, testNow); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
