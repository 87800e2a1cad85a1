// Package cos is the archive's Store in Tencent Cloud Object Storage, with
// Tencent's cos-go-sdk-v5, signed with the function's credentials (an SCF
// role's temporary key and its session token included).
package cos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	cos "github.com/tencentyun/cos-go-sdk-v5"

	"github.com/ccc-enricher/ccc-enricher/internal/archive"
	"github.com/ccc-enricher/ccc-enricher/internal/peer"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

// Credential is what signs the requests: the tencentcloud-sdk-go
// credential the rest of the program uses, which refreshes a role's key.
type Credential interface {
	GetSecretId() string
	GetSecretKey() string
	GetToken() string
}

// Options name the bucket.
type Options struct {
	// Bucket is the bucket's name with its APPID ("calls-1250000000").
	Bucket string
	Region string
	// Endpoint overrides https://<bucket>.cos.<region>.myqcloud.com, for
	// an emulator.
	Endpoint string
	// Transport carries the requests; nil means http.DefaultTransport.
	Transport http.RoundTripper
}

// Store is one COS bucket.
type Store struct {
	client *cos.Client
	bucket string
}

// New returns the Store of o.Bucket, signing with cred.
func New(o Options, cred Credential) (*Store, error) {
	if cred == nil {
		return nil, errors.New("cos: no Tencent Cloud credential")
	}
	base := o.Endpoint
	if base == "" {
		base = fmt.Sprintf("https://%s.cos.%s.myqcloud.com", o.Bucket, o.Region)
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return nil, errors.New("bucket URL is not a URL")
	}
	client := cos.NewClient(&cos.BaseURL{BucketURL: u}, &http.Client{
		Transport:     &cos.CredentialTransport{Credential: cred, Transport: o.Transport},
		CheckRedirect: peer.NoRedirect,
	})
	client.Conf.RetryOpt.Count = 2
	return &Store{client: client, bucket: o.Bucket}, nil
}

// Name is "cos".
func (s *Store) Name() string { return "cos" }

// URI is cos://bucket/key.
func (s *Store) URI(key string) string { return "cos://" + s.bucket + "/" + key }

// metaPrefix is the header of user metadata.
const metaPrefix = "x-cos-meta-"

// Put uploads size bytes of body in one PUT Object.
func (s *Store) Put(ctx context.Context, key string, body io.Reader, size int64, o archive.Object) error {
	meta := http.Header{}
	for k, v := range o.Meta {
		meta.Set(metaPrefix+k, v)
	}
	_, err := s.client.Object.Put(ctx, key, body, &cos.ObjectPutOptions{
		ObjectPutHeaderOptions: &cos.ObjectPutHeaderOptions{
			ContentType: o.ContentType, ContentLength: size, XCosMetaXXX: &meta,
		},
	})
	return classify(err)
}

// Stat is HEAD Object; a 404 is no object.
func (s *Store) Stat(ctx context.Context, key string) (archive.Object, bool, error) {
	resp, err := s.client.Object.Head(ctx, key, nil)
	if err != nil {
		if cos.IsNotFoundError(err) {
			return archive.Object{}, false, nil
		}
		return archive.Object{}, false, classify(err)
	}
	o := archive.Object{ContentType: resp.Header.Get("Content-Type"), Meta: map[string]string{}}
	for k, v := range resp.Header {
		if name, ok := strings.CutPrefix(strings.ToLower(k), metaPrefix); ok && len(v) > 0 {
			o.Meta[name] = v[0]
		}
	}
	return o, true, nil
}

// classify names a COS refusal by its status and code, never its message,
// and marks what no retry cures: a 4xx other than throttling and
// timeouts. Transport errors are named by kind: the SDK's quote the URL.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var cerr *cos.ErrorResponse
	if !errors.As(err, &cerr) || cerr.Response == nil {
		return fmt.Errorf("cos: %w", peer.Error(err))
	}
	status := cerr.Response.StatusCode
	e := fmt.Errorf("cos: HTTP %d %s", status, sanitizeCode(cerr.Code))
	switch {
	case status == 408 || status == 429:
		return e
	case status >= 400 && status <= 499:
		if cerr.Code == "NoSuchBucket" {
			e = errors.Join(e, archive.ErrNotFound)
		}
		return retry.Permanent(e)
	}
	return e
}

// sanitizeCode keeps an error code's letters and digits.
func sanitizeCode(code string) string {
	return strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			return r
		}
		return -1
	}, code)
}
