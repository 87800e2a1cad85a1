// Package s3 is the archive's Store in Amazon S3 (or anything that speaks
// its protocol), with aws-sdk-go-v2.
package s3

import (
	"context"
	"errors"
	"io"
	"maps"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ccc-enricher/ccc-enricher/internal/archive"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

// Store is one S3 bucket.
type Store struct {
	client *s3.Client
	bucket string
}

// Options configure a Store beyond the AWS configuration.
type Options struct {
	Bucket string
	// Region overrides the AWS configuration's region; "" keeps it.
	Region string
	// Endpoint, when set (AWS_ENDPOINT_URL_S3), is used with path-style
	// addressing, as S3-compatible servers and moto need.
	Endpoint string
}

// New returns the Store of o.Bucket.
func New(o Options, awsCfg aws.Config) *Store {
	client := s3.NewFromConfig(awsCfg, func(so *s3.Options) {
		if o.Region != "" {
			so.Region = o.Region
		}
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
			so.UsePathStyle = true
		}
	})
	return &Store{client: client, bucket: o.Bucket}
}

// Name is "s3".
func (s *Store) Name() string { return "s3" }

// URI is s3://bucket/key.
func (s *Store) URI(key string) string { return "s3://" + s.bucket + "/" + key }

// Put uploads size bytes of body in one PutObject: a file from the
// archive's spool, which the SDK reads as it sends (and, over plain HTTP,
// once more to sign it), never whole in memory.
func (s *Store) Put(ctx context.Context, key string, body io.Reader, size int64, o archive.Object) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(key),
		Body:          body,
		ContentLength: aws.Int64(size),
		ContentType:   aws.String(o.ContentType),
		Metadata:      o.Meta,
	})
	return classify(err)
}

// Stat is HeadObject; a 404 is no object.
func (s *Store) Stat(ctx context.Context, key string) (archive.Object, bool, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		var nf *types.NotFound
		if re, ok := errors.AsType[*smithyhttp.ResponseError](err); (ok && re.HTTPStatusCode() == 404 && !isNoSuchBucket(err)) || errors.As(err, &nf) {
			return archive.Object{}, false, nil
		}
		return archive.Object{}, false, classify(err)
	}
	meta := make(map[string]string, len(out.Metadata))
	for k, v := range maps.All(out.Metadata) {
		meta[strings.ToLower(k)] = v
	}
	return archive.Object{ContentType: aws.ToString(out.ContentType), Meta: meta}, true, nil
}

func isNoSuchBucket(err error) bool {
	apiErr, ok := errors.AsType[smithy.APIError](err)
	return ok && apiErr.ErrorCode() == "NoSuchBucket"
}

// classify marks what no retry cures: a 4xx answer other than throttling
// and timeouts (a missing bucket, denied access). The SDK has retried the
// rest already; they stay transient, so that CCC pushes again.
func classify(err error) error {
	if err == nil {
		return nil
	}
	re, ok := errors.AsType[*smithyhttp.ResponseError](err)
	if !ok {
		return err
	}
	switch code := re.HTTPStatusCode(); {
	case code == 408 || code == 429:
		return err
	case code >= 400 && code <= 499:
		if isNoSuchBucket(err) {
			err = errors.Join(err, archive.ErrNotFound)
		}
		return retry.Permanent(err)
	}
	return err
}
