package reconcile

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/ccc"
	"github.com/ccc-enricher/ccc-enricher/internal/push"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const testApp = 1400000000

func readCdr(t testing.TB, name string) ccc.TelCdrInfo {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var c ccc.TelCdrInfo
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// The push body made of a listed call has the push's fields and nothing
// that expires.
func TestCDRPush(t *testing.T) {
	files, _ := filepath.Glob("testdata/telcdr-*.json")
	var inputs []string
	for _, f := range files {
		if !strings.HasSuffix(f, ".golden.json") {
			inputs = append(inputs, f)
		}
	}
	if len(inputs) < 2 {
		t.Fatalf("inputs: %v", inputs)
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			c := readCdr(t, in)
			body, err := CDRPush(testApp, c)
			if err != nil {
				t.Fatal(err)
			}
			var pretty bytes.Buffer
			json.Indent(&pretty, body, "", "  ")
			pretty.WriteByte('\n')
			golden := strings.TrimSuffix(in, ".json") + ".push.golden.json"
			if *update {
				if err := os.WriteFile(golden, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(pretty.Bytes(), want) {
				t.Errorf("CDRPush(%s) =\n%s\nwant\n%s", in, pretty.Bytes(), want)
			}
			for _, secret := range []string{"SIGNED", "getAsrText", "RecordURL", "AsrUrl", "Role", "ExtensionNumber", "null"} {
				if bytes.Contains(body, []byte(secret)) {
					t.Errorf("the body has %q", secret)
				}
			}
			p, err := ParseCall(testApp, c, time.Unix(1756900000, 0))
			if err != nil {
				t.Fatal(err)
			}
			if p.Kind != push.KindCDR || p.SdkAppID != testApp || p.SessionID != c.SessionId || p.CDR.StartTimestamp == 0 {
				t.Errorf("push = %+v", p)
			}
		})
	}
}

// A listed call that no push could carry is refused as a push would be,
// permanently, the field named.
func TestParseCallInvalid(t *testing.T) {
	base := readCdr(t, "testdata/telcdr-transfer.json")
	now := time.Unix(1756900000, 0)
	for _, tc := range []struct {
		name  string
		edit  func(*ccc.TelCdrInfo)
		app   int64
		field string
	}{
		{"no session", func(c *ccc.TelCdrInfo) { c.SessionId = "" }, testApp, "SessionId"},
		{"session with a space", func(c *ccc.TelCdrInfo) { c.SessionId = "a b" }, testApp, "SessionId"},
		{"no application", func(*ccc.TelCdrInfo) {}, 0, "SdkAppId"},
		{"ends before it starts", func(c *ccc.TelCdrInfo) { c.EndedTimestamp = c.StartTimestamp - 1 }, testApp, "EndedTimestamp"},
		{"milliseconds", func(c *ccc.TelCdrInfo) { c.EndedTimestamp *= 1000 }, testApp, "EndedTimestamp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			tc.edit(&c)
			_, err := ParseCall(tc.app, c, now)
			var ve *push.ValidationError
			if !retry.IsPermanent(err) || !errors.As(err, &ve) || ve.Field != tc.field {
				t.Errorf("err = %v, want a permanent validation error of %s", err, tc.field)
			}
		})
	}
}

// Whatever CCC lists, making a push of it neither panics nor changes what
// identifies and places the call.
func FuzzParseCall(f *testing.F) {
	for _, name := range []string{"testdata/telcdr-transfer.json", "testdata/telcdr-protected.json",
		"../tcemu/samples/push-cdr.json", "../tcemu/samples/inbound-transfer.push-cdr.json", "../tcemu/samples/outbound-noanswer.push-cdr.json"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	now := time.Unix(1756900000, 0)
	f.Fuzz(func(t *testing.T, b []byte) {
		var c ccc.TelCdrInfo
		if json.Unmarshal(b, &c) != nil {
			return
		}
		p, err := ParseCall(testApp, c, now)
		if err != nil {
			if !retry.IsPermanent(err) {
				t.Fatalf("transient error: %v", err)
			}
			return
		}
		if p.SessionID != c.SessionId || p.SdkAppID != testApp || p.CDR.EndedTimestamp != c.EndedTimestamp ||
			(c.StartTimestamp != 0 && p.CDR.StartTimestamp != c.StartTimestamp) {
			t.Fatalf("push %+v of %+v", p.CDR, c)
		}
	})
}
