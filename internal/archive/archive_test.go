package archive_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/archive"
	"github.com/ccc-enricher/ccc-enricher/internal/archive/archivetest"
	"github.com/ccc-enricher/ccc-enricher/internal/ccc"
	"github.com/ccc-enricher/ccc-enricher/internal/cccapi"
	"github.com/ccc-enricher/ccc-enricher/internal/enrich"
	"github.com/ccc-enricher/ccc-enricher/internal/push"
	"github.com/ccc-enricher/ccc-enricher/internal/record"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
	"github.com/ccc-enricher/ccc-enricher/internal/sink"
	"github.com/ccc-enricher/ccc-enricher/internal/sink/sinktest"
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

// setup is the emulator with the sample session's links pointing at a
// loopback media server, and an enricher archiving into store.
type setup struct {
	ccc    *testenv.CCC
	media  *tcemu.Media
	files  []tcemu.MediaFile
	detail *counting
	e      *enrich.Enricher
	out    *testenv.Sink
}

func newSetup(t *testing.T, store archive.Store, keepCustom bool) *setup {
	t.Helper()
	s := &setup{ccc: testenv.NewCCC(t, time.Now(), tcemu.Options{})}
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	s.media = tcemu.NewMedia(srv.URL)
	srv.Config.Handler = s.media
	sample := s.ccc.Sample
	var err error
	var detail json.RawMessage
	if detail, s.files, err = s.media.Relink(sample.SessionID, sample.Detail, keepCustom); err != nil {
		t.Fatal(err)
	}
	if err := s.ccc.Emu.AddSession(sample.SdkAppID, sample.SessionID, detail); err != nil {
		t.Fatal(err)
	}
	s.detail = &counting{DetailSource: s.ccc.Client(t, cccapi.Options{Rate: -1}, 5*time.Second)}
	s.out = testenv.NewSink("webhook")
	s.e = &enrich.Enricher{
		Detail: s.detail,
		Sink:   s.out,
		Media: &archive.Archiver{
			Store:   store,
			Keys:    archive.NewKeys("ccc/"),
			Fetcher: archive.Fetcher{Hosts: archive.NewHosts([]string{"127.0.0.1"}), TempDir: t.TempDir()},
		},
	}
	return s
}

func (s *setup) process(t *testing.T, body []byte, kind push.Kind) (*record.Record, error) {
	t.Helper()
	p, err := push.Parse(kind, body, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := s.e.Process(context.Background(), enrich.Request{Push: p, Source: record.SourcePush})
	return r, err
}

func TestArchiveCDRPush(t *testing.T) {
	mem := &archivetest.Mem{Bucket: "calls"}
	s := newSetup(t, mem, false)
	r, err := s.process(t, s.ccc.Sample.CDRPush, push.KindCDR)
	if err != nil {
		t.Fatal(err)
	}
	CheckArchived(t, r, s.files, func(uri string) []byte {
		return mem.Get(strings.TrimPrefix(uri, "s3://calls/"))
	})
	if got := strings.Join(mem.Keys("ccc/"), " "); !strings.Contains(got, "ccc/recordings/2025/") && !strings.Contains(got, "ccc/recordings/20") {
		t.Errorf("keys %s", got)
	}
	// The forwarded message carries no signed link either.
	msgs := s.out.Sent
	if len(msgs) != 1 || strings.Contains(string(msgs[0].Body), "sign=") {
		t.Errorf("forwarded %d messages, or one with a signed link", len(msgs))
	}

	// A redelivery downloads again but rewrites nothing.
	puts := mem.Puts()
	if _, err := s.process(t, s.ccc.Sample.CDRPush, push.KindCDR); err != nil {
		t.Fatal(err)
	}
	if mem.Puts() != puts {
		t.Errorf("a redelivery wrote %d objects again", mem.Puts()-puts)
	}
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
		m, ok := bySHA[archivetest.SHA256(f.Body)]
		if !ok {
			t.Errorf("no media entry with the sha256 of %s", f.Member)
			continue
		}
		if m.Bytes != int64(len(f.Body)) {
			t.Errorf("%s: %d bytes, want %d", f.Member, m.Bytes, len(f.Body))
		}
		if got := get(m.URI); archivetest.SHA256(got) != m.SHA256 {
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
	archivetest.ValidateRecord(t, body)
}

func TestArchiveCustomRecordURL(t *testing.T) {
	mem := &archivetest.Mem{Bucket: "calls"}
	s := newSetup(t, mem, true)
	r, err := s.process(t, s.ccc.Sample.RecordPush, push.KindRecord)
	if err != nil {
		t.Fatal(err)
	}
	custom := 0
	for _, m := range r.Media {
		if strings.HasPrefix(m.URI, "https://") {
			custom++
			if m.SHA256 != "" || m.Bytes != 0 {
				t.Errorf("a CCC copy with bytes or sha256: %+v", m)
			}
		}
	}
	if custom == 0 {
		t.Errorf("no media entry names the customer's own copy: %+v", r.Media)
	}
	// Only the transcript was downloaded: CCC copied the recordings.
	if got := len(mem.Keys("ccc/recordings/")); got != 0 {
		t.Errorf("%d recordings downloaded though CCC copied them", got)
	}
}

func TestArchiveExpiredLink(t *testing.T) {
	mem := &archivetest.Mem{Bucket: "calls"}
	s := newSetup(t, mem, false)
	s.media.Refuse(1)
	r, err := s.process(t, s.ccc.Sample.CDRPush, push.KindCDR)
	if err != nil {
		t.Fatal(err)
	}
	if n := s.detail.n.Load(); n != 2 {
		t.Errorf("%d detail calls, want 2: the first links were refused", n)
	}
	if len(r.Media) != len(s.files) {
		t.Errorf("%d media entries, want %d", len(r.Media), len(s.files))
	}
}

func TestArchiveFailure(t *testing.T) {
	mem := &archivetest.Mem{Bucket: "calls", Err: errors.New("slow down")}
	s := newSetup(t, mem, false)
	_, err := s.process(t, s.ccc.Sample.CDRPush, push.KindCDR)
	if err == nil || retry.IsPermanent(err) {
		t.Fatalf("Process = %v, want a transient error", err)
	}
	if len(s.out.Sent) != 0 {
		t.Errorf("a record was forwarded without its media")
	}

	s.e.ForwardWithoutMedia = true
	r, err := s.process(t, s.ccc.Sample.CDRPush, push.KindCDR)
	if err != nil {
		t.Fatal(err)
	}
	if r.MediaComplete == nil || *r.MediaComplete || len(r.Media) != 0 {
		t.Errorf("mediaComplete %v, media %+v", r.MediaComplete, r.Media)
	}
	if !strings.Contains(string(r.Detail), "sign=") {
		t.Errorf("the links were cut though nothing is archived")
	}
}

func TestArchiveLimits(t *testing.T) {
	mem := &archivetest.Mem{Bucket: "calls"}
	s := newSetup(t, mem, false)
	a := s.e.Media.(*archive.Archiver)
	a.MaxBytes = 100
	if _, err := s.process(t, s.ccc.Sample.CDRPush, push.KindCDR); !retry.IsPermanent(err) {
		t.Errorf("a file above the limit: %v, want a permanent error", err)
	}
	a.MaxBytes = 0
	a.Hosts = archive.NewHosts(nil) // loopback not allowed
	_, err := s.process(t, s.ccc.Sample.CDRPush, push.KindCDR)
	if !retry.IsPermanent(err) || strings.Contains(err.Error(), "sign=") {
		t.Errorf("a link to a host not allowed: %v, want a permanent error without the link", err)
	}
	if s.media.Hits() != 1 {
		t.Errorf("%d fetches; the host not allowed was fetched", s.media.Hits())
	}
}

func TestRecordsConformance(t *testing.T) {
	sinktest.Run(t, sinktest.Harness{
		Working: func(t *testing.T) (sink.Sink, func(*testing.T) []sinktest.Delivery) {
			mem := &archivetest.Mem{Bucket: "calls"}
			return &archive.Records{Store: mem, Keys: archive.NewKeys("ccc")}, func(t *testing.T) []sinktest.Delivery {
				var out []sinktest.Delivery
				for _, k := range mem.Keys("ccc/records/dt=") {
					out = append(out, sinktest.FromBody(t, mem.Get(k)))
				}
				return out
			}
		},
		Refusing: func(*testing.T) sink.Sink {
			return &archive.Records{Store: &archivetest.Mem{Err: retry.Permanent(errors.New("AccessDenied"))}}
		},
		Failing: func(*testing.T) sink.Sink {
			return &archive.Records{Store: &archivetest.Mem{Err: errors.New("SlowDown")}}
		},
	})
}

func TestRecordsLedger(t *testing.T) {
	mem := &archivetest.Mem{Bucket: "calls"}
	rs := &archive.Records{Store: mem, Keys: archive.NewKeys("ccc")}
	m := sinktest.Message()
	if err := rs.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	day := archive.RecordDay(m.Body)
	for _, tt := range []struct {
		id   string
		at   time.Time
		want bool
	}{{m.ID, day, true}, {m.ID, day.AddDate(0, 0, 1), false}, {"cer_other", day, false}} {
		got, err := rs.Delivered(context.Background(), tt.id, tt.at)
		if err != nil || got != tt.want {
			t.Errorf("Delivered(%s, %s) = %v, %v; want %v", tt.id, tt.at, got, err, tt.want)
		}
	}
}
