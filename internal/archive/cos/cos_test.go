package cos

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ccc-enricher/ccc-enricher/internal/archive"
	"github.com/ccc-enricher/ccc-enricher/internal/archive/archivetest"
	"github.com/ccc-enricher/ccc-enricher/internal/push"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
	"github.com/ccc-enricher/ccc-enricher/internal/sink"
	"github.com/ccc-enricher/ccc-enricher/internal/sink/sinktest"
	"github.com/ccc-enricher/ccc-enricher/internal/tcemu"
	"github.com/ccc-enricher/ccc-enricher/internal/tcloud"
)

const (
	secretID  = "AKIDcosEXAMPLE000000000000000000000"
	secretKey = "cosSecretKeyEXAMPLE0000000000000"
	// token stands for the SCF role's session token.
	token = "scf-role-session-token"
)

// newBucket serves a bucket from the COS emulator, which verifies every
// request's signature and the role's session token.
func newBucket(t *testing.T) (*Store, *tcemu.COS) {
	t.Helper()
	emu := &tcemu.COS{SecretID: secretID, SecretKey: secretKey, Token: token}
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	s, err := New(Options{Bucket: "calls-1250000000", Region: "ap-guangzhou", Endpoint: srv.URL}, tcloud.StaticCredential(secretID, secretKey, token))
	if err != nil {
		t.Fatal(err)
	}
	return s, emu
}

func TestStore(t *testing.T) {
	s, emu := newBucket(t)
	archivetest.RunStore(t, s, func(t *testing.T, key string) []byte {
		b, _, ok := emu.Object(key)
		if !ok {
			t.Fatalf("no object at %s", key)
		}
		return b
	})
	if got := s.URI("a/b.mp3"); got != "cos://calls-1250000000/a/b.mp3" {
		t.Errorf("URI = %q", got)
	}
	if emu.Refused() != 0 {
		t.Errorf("%d requests refused for their signature", emu.Refused())
	}
}

func TestWrongKeyIsPermanent(t *testing.T) {
	_, emu := newBucket(t)
	srv := httptest.NewServer(emu)
	defer srv.Close()
	s, err := New(Options{Bucket: "calls-1250000000", Endpoint: srv.URL}, tcloud.StaticCredential(secretID, "not-the-key", token))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Put(context.Background(), "k", strings.NewReader("x"), 1, archive.Object{ContentType: "text/plain"})
	if !retry.IsPermanent(err) || !strings.Contains(err.Error(), "SignatureDoesNotMatch") || strings.Contains(err.Error(), "not-the-key") {
		t.Errorf("Put with the wrong key = %v, want a permanent SignatureDoesNotMatch", err)
	}
}

// The whole pipeline into COS: the media the emulator's links lead to is
// in the bucket, with its metadata, and the record says where.
func TestArchiveToCOS(t *testing.T) {
	s, emu := newBucket(t)
	p := archivetest.NewPipeline(t, s, false)
	r, err := p.Process(t, p.CCC.Sample.CDRPush, push.KindCDR)
	if err != nil {
		t.Fatal(err)
	}
	archivetest.CheckArchived(t, r, p.Files, func(uri string) []byte {
		b, _, _ := emu.Object(strings.TrimPrefix(uri, "cos://calls-1250000000/"))
		return b
	})
	for _, m := range r.Media {
		_, h, _ := emu.Object(strings.TrimPrefix(m.URI, "cos://calls-1250000000/"))
		if h.Get("x-cos-meta-sha256") != m.SHA256 || h.Get("x-cos-meta-session") != r.SessionID || h.Get("Content-Type") != m.ContentType {
			t.Errorf("%s: headers %v", m.URI, h)
		}
	}
}

func TestRecordsConformance(t *testing.T) {
	sinktest.Run(t, sinktest.Harness{
		Working: func(t *testing.T) (sink.Sink, func(*testing.T) []sinktest.Delivery) {
			s, emu := newBucket(t)
			rs := &archive.Records{Store: s, Keys: archive.NewKeys("ccc")}
			return rs, func(t *testing.T) []sinktest.Delivery {
				var out []sinktest.Delivery
				for _, k := range emu.Keys() {
					if strings.HasPrefix(k, "ccc/records/dt=") {
						b, _, _ := emu.Object(k)
						out = append(out, sinktest.FromBody(t, b))
					}
				}
				return out
			}
		},
		Refusing: func(t *testing.T) sink.Sink {
			_, emu := newBucket(t)
			srv := httptest.NewServer(emu)
			t.Cleanup(srv.Close)
			s, _ := New(Options{Bucket: "calls-1250000000", Endpoint: srv.URL}, tcloud.StaticCredential(secretID, "wrong", token))
			return &archive.Records{Store: s}
		},
		Failing: func(t *testing.T) sink.Sink {
			s, _ := New(Options{Bucket: "calls-1250000000", Endpoint: "http://" + sinktest.Closed(t)}, tcloud.StaticCredential(secretID, secretKey, token))
			return &archive.Records{Store: s}
		},
		Hanging: func(t *testing.T) sink.Sink {
			s, _ := New(Options{Bucket: "calls-1250000000", Endpoint: "http://" + sinktest.Blackhole(t)}, tcloud.StaticCredential(secretID, secretKey, token))
			return &archive.Records{Store: s}
		},
		Secrets: []string{secretKey, token},
	})
}
