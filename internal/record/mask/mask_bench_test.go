package mask

import (
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/push"
)

// BenchmarkMaskRaw masks the phone numbers of the sample CDR push, as a
// record does with MASK_PHONE_NUMBERS=true.
func BenchmarkMaskRaw(b *testing.B) {
	p, err := push.Parse(push.KindCDR, load(b, "push-cdr.json"), time.Unix(1756892300, 0))
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
