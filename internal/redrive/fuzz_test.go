package redrive

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ccc-enricher/ccc-enricher/internal/push"
	"github.com/ccc-enricher/ccc-enricher/internal/record"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

// FuzzDecode feeds arbitrary message bodies to decode. It never panics; it
// accepts a body only when the id is the one its call gives, and every
// refusal is a permanent ErrMalformed that does not quote the body.
func FuzzDecode(f *testing.F) {
	// The golden records of package record: full, partial, masked, recording.
	files, _ := filepath.Glob(filepath.Join("..", "record", "testdata", "*.golden.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"schemaVersion":"1.0","id":"cer_x","kind":"cdr","sdkAppId":1,"sessionId":"s"}`))
	f.Add([]byte(`{"meta":{"receivedAt":"not a time"}}`))
	f.Add([]byte(`hello from CMQ`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rec, err := decode(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) || !retry.IsPermanent(err) {
				t.Fatalf("error %v is not a permanent ErrMalformed", err)
			}
			if len(body) >= 16 && strings.Contains(err.Error(), string(body[:16])) {
				t.Fatalf("error %q quotes the body", err)
			}
			return
		}
		part := ""
		if rec.Kind == push.KindRecord {
			part = rec.RecordID
		}
		if rec.ID != record.ID(rec.SdkAppID, rec.SessionID, rec.Kind, part) {
			t.Fatalf("accepted record %s whose id does not match its call", rec.ID)
		}
	})
}
