package s3

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ccc-enricher/ccc-enricher/internal/archive"
	"github.com/ccc-enricher/ccc-enricher/internal/archive/archivetest"
	"github.com/ccc-enricher/ccc-enricher/internal/ccc"
	"github.com/ccc-enricher/ccc-enricher/internal/push"
	"github.com/ccc-enricher/ccc-enricher/internal/record"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
	"github.com/ccc-enricher/ccc-enricher/internal/sink"
	"github.com/ccc-enricher/ccc-enricher/internal/sink/sinktest"
	"github.com/ccc-enricher/ccc-enricher/internal/tcemu"
	"github.com/ccc-enricher/ccc-enricher/internal/testenv"
)

func awsConfig() aws.Config {
	return aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""),
		RetryMaxAttempts: 2,
	}
}

// newBucket starts moto and makes a bucket; it returns the Store and a
// reader of objects by key.
func newBucket(t *testing.T, endpoint, bucket string) (*Store, func(t *testing.T, key string) []byte) {
	t.Helper()
	s := New(Options{Bucket: bucket, Endpoint: endpoint}, awsConfig())
	if _, err := s.client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	return s, func(t *testing.T, key string) []byte {
		t.Helper()
		out, err := s.client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("GetObject %s: %v", key, err)
		}
		defer out.Body.Close()
		b, err := io.ReadAll(out.Body)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
}

func TestStore(t *testing.T) {
	s, get := newBucket(t, testenv.StartMoto(t), "calls")
	archivetest.RunStore(t, s, get)
	if got := s.URI("a/b.mp3"); got != "s3://calls/a/b.mp3" {
		t.Errorf("URI = %q", got)
	}
}

func TestMissingBucket(t *testing.T) {
	s := New(Options{Bucket: "nowhere", Endpoint: testenv.StartMoto(t)}, awsConfig())
	// HEAD has no body to tell a missing bucket from a missing key: the
	// upload that follows is refused for good.
	err := s.Put(context.Background(), "k", strings.NewReader("x"), 1, archive.Object{ContentType: "text/plain"})
	if !retry.IsPermanent(err) || !errors.Is(err, archive.ErrNotFound) {
		t.Errorf("Put in a missing bucket = %v, want permanent ErrNotFound", err)
	}
}

// The whole pipeline: the emulator's detail links lead to the media
// server, the files land in moto's S3, and the record says where.
func TestArchiveToS3(t *testing.T) {
	s, get := newBucket(t, testenv.StartMoto(t), "calls")
	p := archivetest.NewPipeline(t, s, false)
	r, err := p.Process(t, p.CCC.Sample.CDRPush, push.KindCDR)
	if err != nil {
		t.Fatal(err)
	}
	archivetest.CheckArchived(t, r, p.Files, func(uri string) []byte {
		return get(t, strings.TrimPrefix(uri, "s3://calls/"))
	})
	for _, m := range r.Media {
		o, ok, err := s.Stat(context.Background(), strings.TrimPrefix(m.URI, "s3://calls/"))
		if err != nil || !ok || o.Meta[archive.MetaSHA256] != m.SHA256 || o.Meta[archive.MetaSession] != r.SessionID || o.ContentType != m.ContentType {
			t.Errorf("%s: metadata %+v, %v, %v", m.URI, o, ok, err)
		}
	}
}

func TestRecordsConformance(t *testing.T) {
	endpoint := testenv.StartMoto(t)
	n := 0
	sinktest.Run(t, sinktest.Harness{
		Working: func(t *testing.T) (sink.Sink, func(*testing.T) []sinktest.Delivery) {
			n++
			bucket := "records-" + strconv.Itoa(n)
			s, get := newBucket(t, endpoint, bucket)
			return &archive.Records{Store: s, Keys: archive.NewKeys("ccc")}, func(t *testing.T) []sinktest.Delivery {
				out, err := s.client.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
				if err != nil {
					t.Fatal(err)
				}
				var ds []sinktest.Delivery
				for _, o := range out.Contents {
					ds = append(ds, sinktest.FromBody(t, get(t, aws.ToString(o.Key))))
				}
				return ds
			}
		},
		Refusing: func(*testing.T) sink.Sink {
			return &archive.Records{Store: New(Options{Bucket: "missing", Endpoint: endpoint}, awsConfig())}
		},
		Failing: func(t *testing.T) sink.Sink {
			return &archive.Records{Store: New(Options{Bucket: "calls", Endpoint: "http://" + sinktest.Closed(t)}, awsConfig())}
		},
		Hanging: func(t *testing.T) sink.Sink {
			return &archive.Records{Store: New(Options{Bucket: "calls", Endpoint: "http://" + sinktest.Blackhole(t)}, awsConfig())}
		},
		Secrets: []string{"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
	})
}

// A 200 MiB recording is archived with the process's peak RSS growing by
// less than 32 MiB: it streams from the media host to a spool file and
// from there to S3. It runs with CCC_ENRICHER_BIG_MEDIA=1.
func TestLargeRecordingRSS(t *testing.T) {
	if os.Getenv("CCC_ENRICHER_BIG_MEDIA") != "1" {
		t.Skip("set CCC_ENRICHER_BIG_MEDIA=1 to archive a 200 MiB recording and measure the peak RSS")
	}
	const size = 200 << 20
	s, _ := newBucket(t, testenv.StartMoto(t), "big")
	srv := httptest.NewServer(nil)
	defer srv.Close()
	media := tcemuMedia(srv)
	link := media.AddGenerated("big/customer.mp3", size, "audio/mpeg")

	h := sha256.New()
	if _, err := io.Copy(h, generated(size)); err != nil {
		t.Fatal(err)
	}
	want := hex.EncodeToString(h.Sum(nil))

	runtime.GC()
	debug.FreeOSMemory()
	before := peakRSS(t)
	a := &archive.Archiver{Store: s, Keys: archive.NewKeys(""), Fetcher: archive.Fetcher{
		Hosts: archive.NewHosts([]string{"127.0.0.1"}), TempDir: t.TempDir(),
	}}
	r := &record.Record{Meta: record.Meta{ReceivedAt: time.Now()}}
	start := time.Now()
	err := a.Archive(context.Background(), r, &push.Push{SessionID: "big"}, &ccc.SessionDetail{RecordURL: link, StartTimeStamp: time.Now().Unix()})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	growth := peakRSS(t) - before
	t.Logf("archived %d MiB in %v; peak RSS %d MiB before, grew by %.1f MiB", size>>20, took.Round(time.Millisecond), before>>20, float64(growth)/(1<<20))
	if len(r.Media) != 1 || r.Media[0].SHA256 != want || r.Media[0].Bytes != size {
		t.Fatalf("media %+v, want sha256 %s", r.Media, want)
	}
	head, err := s.client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String("big"), Key: aws.String(strings.TrimPrefix(r.Media[0].URI, "s3://big/"))})
	if err != nil || aws.ToInt64(head.ContentLength) != size {
		t.Fatalf("stored object: %v, %v", head, err)
	}
	if growth >= 32<<20 {
		t.Errorf("peak RSS grew by %d MiB, want less than 32", growth>>20)
	}
}

// peakRSS is the process's peak resident set (VmHWM), in bytes.
func peakRSS(t *testing.T) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status: peak RSS not measurable here")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("VmHWM:")); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(string(rest)), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Skip("no VmHWM in /proc/self/status")
	return 0
}

func tcemuMedia(srv *httptest.Server) *tcemu.Media {
	m := tcemu.NewMedia(srv.URL)
	srv.Config.Handler = m
	return m
}

func generated(n int64) io.Reader { return tcemu.Generated(n) }
