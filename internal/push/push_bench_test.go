package push

import (
	"net/http"
	"testing"
	"time"
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

// BenchmarkMaskRaw masks the phone numbers of the sample CDR push, as a
// record does with MASK_PHONE_NUMBERS=true.
func BenchmarkMaskRaw(b *testing.B) {
	p, err := Parse(KindCDR, load(b, "push-cdr.json"), testNow)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(p.Raw)))
	b.ReportAllocs()
	for b.Loop() {
		if MaskRaw(p.Raw) == nil {
			b.Fatal("not masked")
		}
	}
}

// BenchmarkAuthenticate checks one push's credentials in each mode.
func BenchmarkAuthenticate(b *testing.B) {
	o := NewOAuth2(testClientID, testSecret, time.Hour, func() time.Time { return testNow })
	tok, err := o.issue()
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		a    Authenticator
		r    *http.Request
		ok   bool
	}{
		{"basic", Basic("ccc", "push-password"), requestWith(basicHeader("ccc", "push-password")), true},
		{"basic-wrong", Basic("ccc", "push-password"), requestWith(basicHeader("ccc", "wrong")), false},
		{"oauth2", o, requestWith("Bearer " + tok), true},
		{"oauth2-forged", o, requestWith("Bearer " + tok[:len(tok)-2] + "AA"), false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := tc.a.Authenticate(tc.r); (err == nil) != tc.ok {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkIssueToken is the token endpoint's signing.
func BenchmarkIssueToken(b *testing.B) {
	o := NewOAuth2(testClientID, testSecret, time.Hour, nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := o.issue(); err != nil {
			b.Fatal(err)
		}
	}
}
