package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ccc-enricher/ccc-enricher/internal/tcemu"
	"github.com/ccc-enricher/ccc-enricher/internal/testenv"
)

// SINK=webhook,archive with ARCHIVE=s3 on moto, through the program's
// wiring: a backfill archives every sample call's media and record, the
// webhook gets records without signed links, and a second backfill with
// RECONCILE_SKIP_DELIVERED pays for no detail call and sends nothing.
func TestArchiveWiring(t *testing.T) {
	e := newCmdEnv(t)
	moto := testenv.StartMoto(t)
	client := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(moto), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""),
	})
	if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("calls")}); err != nil {
		t.Fatal(err)
	}

	// The samples' links lead to a media server on loopback.
	srv := httptest.NewServer(nil)
	defer srv.Close()
	media := tcemu.NewMedia(srv.URL)
	srv.Config.Handler = media
	for _, s := range append([]tcemu.Sample{e.sample}, e.sample.Others...) {
		d, _, err := media.Relink(s.SessionID, s.Detail, false)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.emu.AddSession(s.SdkAppID, s.SessionID, d); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range map[string]string{
		"SINK": "archive, webhook", "ARCHIVE": "s3", "ARCHIVE_BUCKET": "calls", "ARCHIVE_PREFIX": "ccc",
		"AWS_ENDPOINT_URL_S3": moto, "MEDIA_HOSTS": "127.0.0.1", "RECONCILE_SKIP_DELIVERED": "true",
		"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AWS_REGION": "us-east-1",
	} {
		e.env[k] = v
	}
	backfill := func() string {
		t.Helper()
		_, stderr, err := e.run(context.Background(), "backfill", "-from", stamp(e.hour), "-to", stamp(e.hour.Add(time.Hour)))
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		return stderr
	}
	backfill()
	received := e.recv.Bodies()
	if len(received) != 3 {
		t.Fatalf("webhook got %d records, want 3", len(received))
	}
	withMedia := 0
	for _, b := range received {
		var r struct {
			Media []struct{ URI string }
		}
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), srv.URL) {
			t.Errorf("a record carries a signed link")
		}
		for _, m := range r.Media {
			if !strings.HasPrefix(m.URI, "s3://calls/ccc/recordings/") && !strings.HasPrefix(m.URI, "s3://calls/ccc/transcripts/") {
				t.Errorf("media at %s", m.URI)
			}
		}
		if len(r.Media) > 0 {
			withMedia++
		}
	}
	if withMedia != 2 {
		t.Errorf("%d records with media, want 2 (the unanswered call has none)", withMedia)
	}
	out, err := client.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("calls"), Prefix: aws.String("ccc/records/dt=")})
	if err != nil || len(out.Contents) != 3 {
		t.Fatalf("%d records archived (%v), want 3", len(out.Contents), err)
	}

	details := e.emu.Calls("DescribeSessionDetail")
	fetched := media.Hits()
	stderr := backfill()
	if n := e.emu.Calls("DescribeSessionDetail") - details; n != 0 {
		t.Errorf("the second backfill made %d detail calls, want 0", n)
	}
	if len(e.recv.Bodies()) != 3 || media.Hits() != fetched {
		t.Errorf("the second backfill sent %d records, fetched %d files", len(e.recv.Bodies())-3, media.Hits()-fetched)
	}
	if !strings.Contains(stderr, "0 forwarded") || !strings.Contains(stderr, "3 skipped: already in the records archive") {
		t.Errorf("second backfill:\n%s", stderr)
	}
}
