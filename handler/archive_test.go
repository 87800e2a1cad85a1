package handler_test

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ccc-enricher/ccc-enricher/handler"
	"github.com/ccc-enricher/ccc-enricher/internal/archive"
	"github.com/ccc-enricher/ccc-enricher/internal/archive/archivetest"
	"github.com/ccc-enricher/ccc-enricher/internal/enrich"
	"github.com/ccc-enricher/ccc-enricher/internal/tcemu"
)

// A push with ARCHIVE: CCC gets ErrCode 0 once the media is in the bucket
// and the record, without signed links, at the webhook; a media failure
// is answered by its class, or forwarded flagged when so configured.
func TestPushArchivesMedia(t *testing.T) {
	tests := []struct {
		name     string
		hosts    []string
		storeErr error
		forward  bool
		errCode  int
		media    int // media entries of the delivered record; -1 none delivered
	}{
		{name: "archived", hosts: []string{"127.0.0.1"}, errCode: 0, media: 3},
		{name: "host not allowed", hosts: []string{"media.example"}, errCode: 50204, media: -1},
		{name: "bucket unavailable", hosts: []string{"127.0.0.1"}, storeErr: errors.New("SlowDown"), errCode: 50304, media: -1},
		{name: "forwarded without media", hosts: []string{"127.0.0.1"}, storeErr: errors.New("SlowDown"), forward: true, errCode: 0, media: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := &archivetest.Mem{Bucket: "calls", Err: tt.storeErr}
			e := newEnv(t, func(_ *handler.Options, enr *enrich.Enricher) {
				enr.Media = &archive.Archiver{Store: mem, Keys: archive.NewKeys("ccc/"),
					Fetcher: archive.Fetcher{Hosts: archive.NewHosts(tt.hosts), TempDir: t.TempDir()}}
				enr.ForwardWithoutMedia = tt.forward
			})
			srv := httptest.NewServer(nil)
			defer srv.Close()
			media := tcemu.NewMedia(srv.URL)
			srv.Config.Handler = media
			d, _, err := media.Relink(e.sample.SessionID, e.sample.Detail, false)
			if err != nil {
				t.Fatal(err)
			}
			if err := e.emu.AddSession(e.sample.SdkAppID, e.sample.SessionID, d); err != nil {
				t.Fatal(err)
			}
			r := e.push("cdr", e.sample.CDRPush)
			if r.ErrCode != tt.errCode {
				t.Fatalf("reply %d %s, want ErrCode %d", r.status, r.body, tt.errCode)
			}
			recs := e.records()
			if tt.media < 0 {
				if len(recs) != 0 {
					t.Errorf("%d records delivered", len(recs))
				}
				return
			}
			if len(recs) != 1 || len(recs[0].Media) != tt.media {
				t.Fatalf("%d records delivered, want 1 with %d media entries", len(recs), tt.media)
			}
			linked := strings.Contains(string(recs[0].Detail), srv.URL)
			if tt.forward != linked || (tt.forward && (recs[0].MediaComplete == nil || *recs[0].MediaComplete)) {
				t.Errorf("links kept %v, mediaComplete %v", linked, recs[0].MediaComplete)
			}
		})
	}
}
