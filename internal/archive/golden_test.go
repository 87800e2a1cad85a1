package archive_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/archive"
	"github.com/ccc-enricher/ccc-enricher/internal/archive/archivetest"
	"github.com/ccc-enricher/ccc-enricher/internal/ccc"
	"github.com/ccc-enricher/ccc-enricher/internal/push"
	"github.com/ccc-enricher/ccc-enricher/internal/record"
	"github.com/ccc-enricher/ccc-enricher/internal/tcemu"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// An archived record, as the pipeline forwards it: the sample push and
// detail of internal/record/testdata, the media in the bucket, no signed
// link left. It matches the schema and testdata/cdr-archived.golden.json.
func TestGoldenArchived(t *testing.T) {
	recordData := filepath.Join("..", "record", "testdata")
	pushBody, err := os.ReadFile(filepath.Join(recordData, "push-cdr.json"))
	if err != nil {
		t.Fatal(err)
	}
	received := time.Unix(1756892232, 0).UTC()
	p, err := push.Parse(push.KindCDR, pushBody, received)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(recordData, "describe-session-detail.response.json"))
	if err != nil {
		t.Fatal(err)
	}
	var env struct{ Response json.RawMessage }
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(nil)
	defer srv.Close()
	media := tcemu.NewMedia(srv.URL)
	srv.Config.Handler = media
	raw, _, err := media.Relink(p.SessionID, env.Response, false)
	if err != nil {
		t.Fatal(err)
	}
	d, err := ccc.DecodeSessionDetail(raw)
	if err != nil {
		t.Fatal(err)
	}
	r := record.Build(record.Input{Push: p, Source: record.SourcePush, PushUUID: "uuid-1", ReceivedAt: received,
		Detail: d, DetailRequestID: d.RequestID, DetailFetchedAt: received.Add(700 * time.Millisecond)})
	a := &archive.Archiver{Store: &archivetest.Mem{Bucket: "calls"}, Keys: archive.NewKeys("ccc/"),
		Fetcher: archive.Fetcher{Hosts: archive.NewHosts([]string{"127.0.0.1"}), TempDir: t.TempDir()}}
	if err := a.Archive(context.Background(), r, p, d); err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	archivetest.ValidateRecord(t, got)
	golden := filepath.Join("testdata", "cdr-archived.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test ./internal/archive -update creates it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("record differs from %s (go test ./internal/archive -update rewrites it):\n%s", golden, got)
	}
}
