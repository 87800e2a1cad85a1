package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"

	"github.com/ccc-enricher/ccc-enricher/internal/enrich"
	"github.com/ccc-enricher/ccc-enricher/internal/peer"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

// DefaultMaxBytes is the largest media file archived when no limit is
// configured.
const DefaultMaxBytes = 512 << 20

// Fetcher downloads media into temporary files: streamed, hashed on the
// way, never whole in memory, and bounded.
type Fetcher struct {
	// Client fetches the media; nil means a client on
	// http.DefaultTransport. Its redirects are checked against Hosts.
	Client *http.Client
	Hosts  Hosts
	// MaxBytes bounds one file; zero means DefaultMaxBytes.
	MaxBytes int64
	// TempDir holds the files while they are stored; "" means
	// os.TempDir().
	TempDir string
}

// spooled is one downloaded file, on disk until it is stored.
type spooled struct {
	f           *os.File
	size        int64
	sha256      string
	contentType string
}

func (s *spooled) close() {
	s.f.Close()
	os.Remove(s.f.Name())
}

// errTooLarge marks a file above MaxBytes: no retry can help.
var errTooLarge = errors.New("media file larger than the archive's limit")

// fetch downloads link into a temporary file. Its errors name the link's
// host, never the link, whose query is a signature. A 403 from the media
// host wraps enrich.ErrLinkExpired: the signed link is out of date.
func (f *Fetcher) fetch(ctx context.Context, link string) (*spooled, error) {
	u, err := url.Parse(link)
	if err != nil {
		return nil, retry.Permanent(errors.New("media link is not a URL"))
	}
	if !f.Hosts.Allows(u) {
		return nil, retry.Permanent(fmt.Errorf("media host %q is not allowed (or not over https)", u.Hostname()))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err != nil {
		return nil, retry.Permanent(errors.New("media link is not a URL"))
	}
	resp, err := f.client().Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch media from %s: %w", u.Hostname(), peer.Error(err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("fetch media from %s: HTTP 403: %w", u.Hostname(), enrich.ErrLinkExpired)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("fetch media from %s: HTTP %d", u.Hostname(), resp.StatusCode)
	}
	limit := f.maxBytes()
	if resp.ContentLength > limit {
		return nil, retry.Permanent(fmt.Errorf("fetch media from %s: %d bytes: %w", u.Hostname(), resp.ContentLength, errTooLarge))
	}
	tmp, err := os.CreateTemp(f.TempDir, "ccc-enricher-media-*")
	if err != nil {
		return nil, fmt.Errorf("spool media: %w", err)
	}
	s := &spooled{f: tmp}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(resp.Body, limit+1))
	switch {
	case err != nil:
		s.close()
		return nil, fmt.Errorf("fetch media from %s: after %d bytes: %w", u.Hostname(), n, peer.Error(err))
	case n > limit:
		s.close()
		return nil, retry.Permanent(fmt.Errorf("fetch media from %s: more than %d bytes: %w", u.Hostname(), limit, errTooLarge))
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		s.close()
		return nil, fmt.Errorf("spool media: %w", err)
	}
	s.size, s.sha256 = n, hex.EncodeToString(h.Sum(nil))
	if mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err == nil {
		s.contentType = mime.FormatMediaType(mt, params)
	}
	return s, nil
}

func (f *Fetcher) maxBytes() int64 {
	if f.MaxBytes > 0 {
		return f.MaxBytes
	}
	return DefaultMaxBytes
}

// client is the configured client with its redirects held to the
// allow-list.
func (f *Fetcher) client() *http.Client {
	c := http.Client{}
	if f.Client != nil {
		c = *f.Client
	}
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 || !f.Hosts.Allows(req.URL) {
			return retry.Permanent(errors.New("media link redirects to a host that is not allowed"))
		}
		return nil
	}
	return &c
}
