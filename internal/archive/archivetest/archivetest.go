// Package archivetest holds what the archive's tests share: an in-memory
// Store, a media server on loopback with known bytes, and the conformance
// suite every Store passes.
package archivetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"maps"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ccc-enricher/ccc-enricher/internal/archive"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

// Mem is a Store in memory. Err, when set, fails every call.
type Mem struct {
	Bucket string
	Err    error

	mu      sync.Mutex
	objects map[string]memObject
	puts    int
	stats   int
}

type memObject struct {
	body []byte
	o    archive.Object
}

// Name is "mem".
func (m *Mem) Name() string { return "mem" }

// URI is s3://bucket/key, as if the bucket were in S3.
func (m *Mem) URI(key string) string { return "s3://" + m.Bucket + "/" + key }

// Put keeps the object.
func (m *Mem) Put(ctx context.Context, key string, body io.Reader, size int64, o archive.Object) error {
	if err := errors.Join(ctx.Err(), m.Err); err != nil {
		return err
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	if int64(len(b)) != size {
		return retry.Permanent(errors.New("size does not match the body"))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.objects == nil {
		m.objects = map[string]memObject{}
	}
	o.Meta = maps.Clone(o.Meta)
	m.objects[key] = memObject{body: b, o: o}
	m.puts++
	return nil
}

// Stat returns the object's metadata.
func (m *Mem) Stat(ctx context.Context, key string) (archive.Object, bool, error) {
	if err := errors.Join(ctx.Err(), m.Err); err != nil {
		return archive.Object{}, false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stats++
	obj, ok := m.objects[key]
	return obj.o, ok, nil
}

// Get returns an object's bytes, or nil.
func (m *Mem) Get(key string) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.objects[key].body
}

// Keys lists the keys with prefix.
func (m *Mem) Keys(prefix string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for k := range m.objects {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	return out
}

// Puts counts the objects written.
func (m *Mem) Puts() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.puts
}

// SHA256 is the hex sha256 of b.
func SHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// RunStore checks a Store against the contract the archive relies on;
// get reads an object's bytes back by the store's own client.
func RunStore(t *testing.T, s archive.Store, get func(t *testing.T, key string) []byte) {
	t.Helper()
	ctx := context.Background()
	key := "conformance/recordings/2025/09/03/s-1/r-1.mp3"
	if _, ok, err := s.Stat(ctx, key); err != nil || ok {
		t.Fatalf("Stat of a missing object = %v, %v; want false, nil", ok, err)
	}
	body := bytes.Repeat([]byte("ID3 recording "), 1000)
	o := archive.Object{ContentType: "audio/mpeg", Meta: map[string]string{
		archive.MetaSession: "s-1", archive.MetaRecordID: "r-1", archive.MetaSHA256: SHA256(body),
	}}
	if err := s.Put(ctx, key, bytes.NewReader(body), int64(len(body)), o); err != nil {
		t.Fatalf("Put: %v", err)
	}
	got, ok, err := s.Stat(ctx, key)
	if err != nil || !ok {
		t.Fatalf("Stat after Put = %v, %v", ok, err)
	}
	if got.ContentType != o.ContentType {
		t.Errorf("content type %q, want %q", got.ContentType, o.ContentType)
	}
	for k, v := range o.Meta {
		if got.Meta[k] != v {
			t.Errorf("metadata %s = %q, want %q", k, got.Meta[k], v)
		}
	}
	if b := get(t, key); !bytes.Equal(b, body) {
		t.Errorf("stored %d bytes, want the %d put", len(b), len(body))
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Put(cctx, key+".2", bytes.NewReader(body), int64(len(body)), o); err == nil || retry.IsPermanent(err) {
		t.Errorf("Put with a cancelled context = %v, want a transient error", err)
	}
}

// ValidateRecord checks an encoded record against internal/record's JSON
// Schema.
func ValidateRecord(t *testing.T, body []byte) {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	c := jsonschema.NewCompiler()
	s, err := c.Compile(filepath.Join(filepath.Dir(here), "..", "..", "record", "schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(v); err != nil {
		t.Errorf("record does not match schema.json: %v", err)
	}
}
