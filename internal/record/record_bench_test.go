package record

import (
	"encoding/json"
	"testing"

	"github.com/ccc-enricher/ccc-enricher/internal/push"
)

// BenchmarkBuild builds the record of the sample CDR push from the
// documented DescribeSessionDetail reply, and encodes it as the sinks
// receive it.
func BenchmarkBuild(b *testing.B) {
	p := loadPush(b, push.KindCDR, "push-cdr.json")
	detail, _ := loadDetail(b)
	for _, tc := range []struct {
		name string
		mask bool
	}{{"plain", false}, {"masked", true}} {
		in := Input{Push: p, Source: SourcePush, PushUUID: "uuid-1", ReceivedAt: received,
			Detail: detail, DetailRequestID: detail.RequestID, DetailFetchedAt: received, MaskPhones: tc.mask}
		b.Run("build/"+tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Build(in)
			}
		})
		b.Run("build+encode/"+tc.name, func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for b.Loop() {
				out, err := json.Marshal(Build(in))
				if err != nil {
					b.Fatal(err)
				}
				n = len(out)
			}
			b.SetBytes(int64(n))
		})
	}
}
