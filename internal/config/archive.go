package config

import (
	"fmt"
	"net"
	"strings"
)

// Clouds of the archive, the values of ARCHIVE.
const (
	ArchiveS3  = "s3"
	ArchiveCOS = "cos"
)

// What becomes of a record whose media cannot be archived, the values of
// ARCHIVE_FAILURE.
const (
	// ArchiveRetry answers CCC with an error so that it pushes again.
	ArchiveRetry = "retry"
	// ArchiveForward forwards the record flagged mediaComplete false.
	ArchiveForward = "forward"
)

// Archive configures the customer's bucket that keeps recordings,
// transcripts and records (ARCHIVE_*). Kind "" means no archive.
type Archive struct {
	// Kind is ArchiveS3 or ArchiveCOS.
	Kind   string
	Bucket string
	// Prefix is put before every key; "" or ending in '/'.
	Prefix string
	// Region is the bucket's region: required for COS; for S3 it
	// overrides the AWS configuration's.
	Region string
	// S3Endpoint is AWS_ENDPOINT_URL_S3, the standard override, used with
	// path-style addressing.
	S3Endpoint string
	// COSEndpoint overrides the bucket's COS URL (ARCHIVE_COS_ENDPOINT),
	// for an emulator; "" means https://<bucket>.cos.<region>.myqcloud.com.
	COSEndpoint string
	// MaxBytes bounds one media file (ARCHIVE_MAX_BYTES).
	MaxBytes int64
	// MediaHosts are the hosts media is fetched from (MEDIA_HOSTS); nil
	// means CCC's and COS's, over HTTPS.
	MediaHosts []string
	// KeepSignedLinks keeps the signed links in records whose media is
	// archived (KEEP_SIGNED_LINKS).
	KeepSignedLinks bool
	// Failure is ArchiveRetry or ArchiveForward (ARCHIVE_FAILURE).
	Failure string
}

func (r *reader) archive() Archive {
	a := Archive{
		Kind:            r.oneOf("ARCHIVE", "", ArchiveS3, ArchiveCOS),
		Bucket:          r.str("ARCHIVE_BUCKET"),
		Prefix:          strings.TrimLeft(r.str("ARCHIVE_PREFIX"), "/"),
		Region:          r.str("ARCHIVE_REGION"),
		S3Endpoint:      r.str("AWS_ENDPOINT_URL_S3"),
		COSEndpoint:     r.endpoint("ARCHIVE_COS_ENDPOINT", ""),
		MaxBytes:        int64(r.int("ARCHIVE_MAX_BYTES", 512<<20, 1, 1<<40)),
		KeepSignedLinks: r.bool("KEEP_SIGNED_LINKS", false),
		Failure:         r.oneOf("ARCHIVE_FAILURE", ArchiveRetry, ArchiveRetry, ArchiveForward),
	}
	if a.Prefix != "" && !strings.HasSuffix(a.Prefix, "/") {
		a.Prefix += "/"
	}
	for _, h := range strings.Split(r.str("MEDIA_HOSTS"), ",") {
		if h = strings.ToLower(strings.TrimSpace(h)); h == "" {
			continue
		}
		if !validHostPattern(h) {
			r.fail("MEDIA_HOSTS", fmt.Sprintf("has %q; want host names, IP addresses or *.domain, separated by commas", h))
			continue
		}
		a.MediaHosts = append(a.MediaHosts, h)
	}
	return a
}

// validHostPattern accepts a host name, an IP address, or "*." and a
// domain: no scheme, port or path.
func validHostPattern(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	h = strings.TrimPrefix(h, "*.")
	if h == "" || strings.HasPrefix(h, ".") || strings.HasSuffix(h, ".") || strings.Contains(h, "..") {
		return false
	}
	for _, c := range h {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// validateArchive checks what the archive needs and what needs it.
func (c *Config) validateArchive(r *reader) {
	a := c.Archive
	if a.Kind != "" {
		r.required("ARCHIVE_BUCKET", a.Bucket, "when ARCHIVE is set")
		if a.Kind == ArchiveCOS {
			r.required("ARCHIVE_REGION", a.Region, "when ARCHIVE=cos")
			if a.Bucket != "" && !strings.Contains(a.Bucket, "-") {
				r.fail("ARCHIVE_BUCKET", "must be a COS bucket name with its APPID, such as calls-1250000000")
			}
		}
	}
	for _, s := range c.Sinks {
		if s.Kind == KindArchive && a.Kind == "" {
			r.fail("SINK", "lists archive but ARCHIVE is not set: set ARCHIVE=s3 or cos and ARCHIVE_BUCKET")
		}
	}
	if c.Reconcile.SkipDelivered && !c.ArchivesRecords() {
		r.fail("RECONCILE_SKIP_DELIVERED", "needs the records archive: add archive to SINK")
	}
}

// ArchivesRecords reports whether SINK lists the records archive.
func (c *Config) ArchivesRecords() bool {
	for _, s := range c.Sinks {
		if s.Kind == KindArchive {
			return true
		}
	}
	return false
}
