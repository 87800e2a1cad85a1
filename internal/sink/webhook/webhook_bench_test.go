package webhook

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/sink/sinktest"
)

// BenchmarkWebhookSend delivers the sample record to a receiver on
// loopback that answers 204 at once: signing, the HTTP round trip on a
// kept-alive connection, and the reply.
func BenchmarkWebhookSend(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	w := newTestWebhook(b, srv.URL+"/hook", 5*time.Second)
	m := sinktest.Message()
	ctx := context.Background()
	b.SetBytes(int64(len(m.Body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Send(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
}
