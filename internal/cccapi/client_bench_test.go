package cccapi

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/ccc"

	"github.com/ccc-enricher/ccc-enricher/internal/tcemu"
	"github.com/ccc-enricher/ccc-enricher/internal/tcloud"
)

// BenchmarkDescribeSessionDetail calls the emulator on loopback with the
// limiter and the emulator's rate limit off: the SDK's TC3 signing, the
// HTTP round trip, the emulator's verification and answer, and decoding
// the documented reply into ccc.SessionDetail. The emulator runs in this
// process, so its cost is included: the figure bounds the client's.
func BenchmarkDescribeSessionDetail(b *testing.B) {
	emu := tcemu.New(tcemu.Options{SecretID: testID, SecretKey: testKey, RateLimit: -1})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	s, err := tcemu.LoadSamples(emu, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	tc, err := tcloud.NewClient(Service, Version, tcloud.Config{Endpoint: srv.URL, Timeout: 5 * time.Second},
		tcloud.StaticCredential(testID, testKey, ""))
	if err != nil {
		b.Fatal(err)
	}
	c := New(tc, Options{Rate: 1e9, Retry: fast})
	var push struct{ StartTimestamp, EndedTimestamp int64 }
	if err := json.Unmarshal(s.CDRPush, &push); err != nil {
		b.Fatal(err)
	}
	q := ccc.SessionQuery{SdkAppID: s.SdkAppID, SessionID: s.SessionID, Start: push.StartTimestamp, End: push.EndedTimestamp}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.DescribeSessionDetail(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
}
