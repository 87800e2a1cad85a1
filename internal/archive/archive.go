// Package archive keeps a call's recordings and transcripts, and its
// records, in the customer's own bucket (Amazon S3 or Tencent COS), so that
// they outlive the 24-hour links CCC signs, and so that the bucket is a
// ledger of what was delivered.
//
// This package holds what both clouds share and imports no cloud SDK: the
// object keys, which media a push and its detail carry, the allow-list of
// media hosts, the streaming download with its sha256 and size limit, the
// record's rewrite (media entries, transcript, no signed links), and the
// records sink. A Store is one bucket; archive/s3 and archive/cos provide
// them.
package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
)

// Store is one bucket.
type Store interface {
	// Put stores size bytes of body at key. It returns nil only once the
	// object is durably stored.
	Put(ctx context.Context, key string, body io.Reader, size int64, o Object) error
	// Stat returns the metadata of the object at key; ok is false when
	// there is none.
	Stat(ctx context.Context, key string) (o Object, ok bool, err error)
	// URI names an object: s3://bucket/key or cos://bucket/key.
	URI(key string) string
	// Name names the cloud: "s3" or "cos".
	Name() string
}

// Object is what a Store keeps beside an object's bytes.
type Object struct {
	ContentType string
	// Meta is the user metadata: MetaSession, MetaRecordID, MetaSHA256.
	// Keys are lower-case; the stores carry them as x-amz-meta-* and
	// x-cos-meta-* headers.
	Meta map[string]string
}

// Names of the metadata every stored file carries.
const (
	MetaSession  = "session"
	MetaRecordID = "record-id"
	MetaSHA256   = "sha256"
)

// ErrNotFound is what a Store's errors wrap when a bucket does not exist.
var ErrNotFound = errors.New("no such bucket")

// Keys makes the object keys under one prefix.
type Keys struct {
	// Prefix is put before every key; "" or ending in '/'.
	Prefix string
}

// NewKeys returns the keys under prefix, with a '/' added when it lacks
// one.
func NewKeys(prefix string) Keys {
	prefix = strings.TrimLeft(prefix, "/")
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return Keys{Prefix: prefix}
}

// Recording is the key of one recording of a session, named by its
// RecordId or, lacking one, its side ("customer", "voicemail-1"), with the
// extension ext ("mp3").
func (k Keys) Recording(day time.Time, session, name, ext string) string {
	return k.Prefix + "recordings/" + dayPath(day) + "/" + segment(session) + "/" + segment(name) + "." + ext
}

// Transcript is the key of a session's ASR text; name is "" for the call's
// and "voicemail-1"… for a voicemail's.
func (k Keys) Transcript(day time.Time, session, name string) string {
	file := segment(session)
	if name != "" {
		file += "-" + segment(name)
	}
	return k.Prefix + "transcripts/" + dayPath(day) + "/" + file + ".txt"
}

// Record is the key of a record: partitioned by the call's day (UTC) in
// the dt=yyyy-mm-dd form Athena and Data Lake Compute read, and named by
// the record id, so that a record delivered again lands where it was.
func (k Keys) Record(day time.Time, id string) string {
	return k.Prefix + "records/dt=" + day.UTC().Format(time.DateOnly) + "/" + segment(id) + ".json"
}

func dayPath(t time.Time) string { return t.UTC().Format("2006/01/02") }

// segment makes s safe as one path segment of a key: letters, digits, '-',
// '_' and '.' are kept, anything else becomes '_', and a segment of dots
// only is refused the same way, so a SessionId cannot climb out of its
// folder.
func segment(s string) string {
	if s == "" {
		return "_"
	}
	b := []byte(s)
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	if strings.Trim(string(b), ".") == "" {
		return strings.Repeat("_", len(b))
	}
	return string(b)
}

// extension is a link's file extension ("mp3", "wav"), or def when the
// path has none this program would put in a key.
func extension(p, def string) string {
	ext := strings.ToLower(strings.TrimPrefix(path.Ext(p), "."))
	if ext == "" || len(ext) > 5 {
		return def
	}
	for _, c := range ext {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return def
		}
	}
	return ext
}

// contentTypes are the types of the recordings CCC makes, by extension.
var contentTypes = map[string]string{
	"mp3": "audio/mpeg", "wav": "audio/wav", "ogg": "audio/ogg", "m4a": "audio/mp4",
	"txt": "text/plain; charset=utf-8",
}

// contentType is the type a stored file gets: the media host's when it
// names one, else the extension's.
func contentType(served, ext string) string {
	if served != "" && served != "application/octet-stream" {
		return served
	}
	if t, ok := contentTypes[ext]; ok {
		return t
	}
	return "application/octet-stream"
}

// storeError names the store and the key, never the bytes.
func storeError(s Store, op, key string, err error) error {
	return fmt.Errorf("archive %s: %s %s: %w", s.Name(), op, key, err)
}
