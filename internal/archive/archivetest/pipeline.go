package archivetest

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/archive"
	"github.com/ccc-enricher/ccc-enricher/internal/ccc"
	"github.com/ccc-enricher/ccc-enricher/internal/cccapi"
	"github.com/ccc-enricher/ccc-enricher/internal/enrich"
	"github.com/ccc-enricher/ccc-enricher/internal/push"
	"github.com/ccc-enricher/ccc-enricher/internal/record"
	"github.com/ccc-enricher/ccc-enricher/internal/tcemu"
	"github.com/ccc-enricher/ccc-enricher/internal/testenv"
)

// counting counts DescribeSessionDetail calls.
type counting struct {
	enrich.DetailSource
	n atomic.Int64
}

func (c *counting) DescribeSessionDetail(ctx context.Context, q ccc.SessionQuery) (*ccc.SessionDetail, error) {
	c.n.Add(1)
	return c.DetailSource.DescribeSessionDetail(ctx, q)
}

// Pipeline is the emulator with the sample session's links pointing at a
// loopback media server, and an enricher archiving into store.
type Pipeline struct {
	CCC   *testenv.CCC
	Media *tcemu.Media
	// Files are what the media server serves at the sample's links.
	Files  []tcemu.MediaFile
	detail *counting
	E      *enrich.Enricher
	Out    *testenv.Sink
}

// NewPipeline starts the emulator with the sample sessions, a media server
// on loopback, and an enricher that archives into store and delivers to
// Out. Unless keepCustom, the sample's CustomRecordURL links are emptied,
// so that every recording is downloaded.
func NewPipeline(t *testing.T, store archive.Store, keepCustom bool) *Pipeline {
	t.Helper()
	s := &Pipeline{CCC: testenv.NewCCC(t, time.Now(), tcemu.Options{})}
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	s.Media = tcemu.NewMedia(srv.URL)
	srv.Config.Handler = s.Media
	sample := s.CCC.Sample
	var err error
	var detail json.RawMessage
	if detail, s.Files, err = s.Media.Relink(sample.SessionID, sample.Detail, keepCustom); err != nil {
		t.Fatal(err)
	}
	if err := s.CCC.Emu.AddSession(sample.SdkAppID, sample.SessionID, detail); err != nil {
		t.Fatal(err)
	}
	s.detail = &counting{DetailSource: s.CCC.Client(t, cccapi.Options{Rate: -1}, 5*time.Second)}
	s.Out = testenv.NewSink("webhook")
	s.E = &enrich.Enricher{
		Detail: s.detail,
		Sink:   s.Out,
		Media: &archive.Archiver{
			Store:   store,
			Keys:    archive.NewKeys("ccc/"),
			Fetcher: archive.Fetcher{Hosts: archive.NewHosts([]string{"127.0.0.1"}), TempDir: t.TempDir()},
		},
	}
	return s
}

// DetailCalls counts the DescribeSessionDetail calls made.
func (s *Pipeline) DetailCalls() int64 { return s.detail.n.Load() }

// Process parses body as a push of kind and runs it through the pipeline.
func (s *Pipeline) Process(t *testing.T, body []byte, kind push.Kind) (*record.Record, error) {
	t.Helper()
	p, err := push.Parse(kind, body, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := s.E.Process(context.Background(), enrich.Request{Push: p, Source: record.SourcePush})
	return r, err
}

// CheckArchived checks r's media entries against the files the media
// server served: one entry each, the stored bytes' sha256 that of the
// served bytes, the transcript inline, and no signed link left.
func CheckArchived(t *testing.T, r *record.Record, files []tcemu.MediaFile, get func(uri string) []byte) {
	t.Helper()
	if len(r.Media) != len(files) {
		t.Fatalf("%d media entries, want %d: %+v", len(r.Media), len(files), r.Media)
	}
	bySHA := map[string]record.Media{}
	for _, m := range r.Media {
		bySHA[m.SHA256] = m
	}
	for _, f := range files {
		m, ok := bySHA[SHA256(f.Body)]
		if !ok {
			t.Errorf("no media entry with the sha256 of %s", f.Member)
			continue
		}
		if m.Bytes != int64(len(f.Body)) {
			t.Errorf("%s: %d bytes, want %d", f.Member, m.Bytes, len(f.Body))
		}
		if got := get(m.URI); SHA256(got) != m.SHA256 {
			t.Errorf("%s: stored bytes at %s do not have the served sha256", f.Member, m.URI)
		}
		if f.Member == "AsrURL" {
			if m.Kind != record.MediaTranscript || r.Transcript != string(f.Body) {
				t.Errorf("transcript entry %+v, text %q", m, r.Transcript)
			}
		}
	}
	body, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.Contains(string(body), strings.SplitN(f.Link, "?", 2)[0]) {
			t.Errorf("record still carries the link of %s", f.Member)
		}
	}
	if r.Meta.RecordingLinksExpireAt != nil {
		t.Errorf("recordingLinksExpireAt set once the links are gone")
	}
	ValidateRecord(t, body)
}
