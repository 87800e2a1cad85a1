package archive_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/archive"
	"github.com/ccc-enricher/ccc-enricher/internal/archive/archivetest"
	"github.com/ccc-enricher/ccc-enricher/internal/push"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
	"github.com/ccc-enricher/ccc-enricher/internal/sink"
	"github.com/ccc-enricher/ccc-enricher/internal/sink/sinktest"
)

func TestArchiveCDRPush(t *testing.T) {
	mem := &archivetest.Mem{Bucket: "calls"}
	s := archivetest.NewPipeline(t, mem, false)
	r, err := s.Process(t, s.CCC.Sample.CDRPush, push.KindCDR)
	if err != nil {
		t.Fatal(err)
	}
	archivetest.CheckArchived(t, r, s.Files, func(uri string) []byte {
		return mem.Get(strings.TrimPrefix(uri, "s3://calls/"))
	})
	if got := strings.Join(mem.Keys("ccc/"), " "); !strings.Contains(got, "ccc/recordings/2025/") && !strings.Contains(got, "ccc/recordings/20") {
		t.Errorf("keys %s", got)
	}
	// The forwarded message carries no signed link either.
	msgs := s.Out.Sent
	if len(msgs) != 1 || strings.Contains(string(msgs[0].Body), "sign=") {
		t.Errorf("forwarded %d messages, or one with a signed link", len(msgs))
	}

	// A redelivery downloads again but rewrites nothing.
	puts := mem.Puts()
	if _, err := s.Process(t, s.CCC.Sample.CDRPush, push.KindCDR); err != nil {
		t.Fatal(err)
	}
	if mem.Puts() != puts {
		t.Errorf("a redelivery wrote %d objects again", mem.Puts()-puts)
	}
}

func TestArchiveCustomRecordURL(t *testing.T) {
	mem := &archivetest.Mem{Bucket: "calls"}
	s := archivetest.NewPipeline(t, mem, true)
	r, err := s.Process(t, s.CCC.Sample.RecordPush, push.KindRecord)
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
	s := archivetest.NewPipeline(t, mem, false)
	s.Media.Refuse(1)
	r, err := s.Process(t, s.CCC.Sample.CDRPush, push.KindCDR)
	if err != nil {
		t.Fatal(err)
	}
	if n := s.DetailCalls(); n != 2 {
		t.Errorf("%d detail calls, want 2: the first links were refused", n)
	}
	if len(r.Media) != len(s.Files) {
		t.Errorf("%d media entries, want %d", len(r.Media), len(s.Files))
	}
}

func TestArchiveFailure(t *testing.T) {
	mem := &archivetest.Mem{Bucket: "calls", Err: errors.New("slow down")}
	s := archivetest.NewPipeline(t, mem, false)
	_, err := s.Process(t, s.CCC.Sample.CDRPush, push.KindCDR)
	if err == nil || retry.IsPermanent(err) {
		t.Fatalf("Process = %v, want a transient error", err)
	}
	if len(s.Out.Sent) != 0 {
		t.Errorf("a record was forwarded without its media")
	}

	s.E.ForwardWithoutMedia = true
	r, err := s.Process(t, s.CCC.Sample.CDRPush, push.KindCDR)
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
	s := archivetest.NewPipeline(t, mem, false)
	a := s.E.Media.(*archive.Archiver)
	a.MaxBytes = 100
	if _, err := s.Process(t, s.CCC.Sample.CDRPush, push.KindCDR); !retry.IsPermanent(err) {
		t.Errorf("a file above the limit: %v, want a permanent error", err)
	}
	a.MaxBytes = 0
	a.Hosts = archive.NewHosts(nil) // loopback not allowed
	_, err := s.Process(t, s.CCC.Sample.CDRPush, push.KindCDR)
	if !retry.IsPermanent(err) || strings.Contains(err.Error(), "sign=") {
		t.Errorf("a link to a host not allowed: %v, want a permanent error without the link", err)
	}
	if s.Media.Hits() != 1 {
		t.Errorf("%d fetches; the host not allowed was fetched", s.Media.Hits())
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

func TestKeepSignedLinks(t *testing.T) {
	mem := &archivetest.Mem{Bucket: "calls"}
	s := archivetest.NewPipeline(t, mem, false)
	s.E.Media.(*archive.Archiver).KeepLinks = true
	r, err := s.Process(t, s.CCC.Sample.CDRPush, push.KindCDR)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Media) != len(s.Files) || !strings.Contains(string(r.Detail), s.Files[0].Link) || r.Meta.RecordingLinksExpireAt == nil {
		t.Errorf("KeepLinks: %d media entries, links kept %v", len(r.Media), strings.Contains(string(r.Detail), s.Files[0].Link))
	}
}
