package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/ccc-enricher/ccc-enricher/internal/archive"
	archivecos "github.com/ccc-enricher/ccc-enricher/internal/archive/cos"
	archives3 "github.com/ccc-enricher/ccc-enricher/internal/archive/s3"
	"github.com/ccc-enricher/ccc-enricher/internal/config"
	"github.com/ccc-enricher/ccc-enricher/internal/enrich"
	"github.com/ccc-enricher/ccc-enricher/internal/reconcile"
	"github.com/ccc-enricher/ccc-enricher/internal/sink"
)

// newArchiveStore returns the bucket ARCHIVE names, or nil for none.
func newArchiveStore(ctx context.Context, cfg config.Archive, deps sinkDeps) (archive.Store, error) {
	switch cfg.Kind {
	case "":
		return nil, nil
	case config.ArchiveS3:
		if deps.aws == nil {
			return nil, errors.New("ARCHIVE=s3: no AWS configuration loader")
		}
		awsCfg, err := deps.aws(ctx)
		if err != nil {
			return nil, fmt.Errorf("ARCHIVE=s3: load AWS configuration: %w", err)
		}
		return archives3.New(archives3.Options{Bucket: cfg.Bucket, Region: cfg.Region, Endpoint: cfg.S3Endpoint}, awsCfg), nil
	case config.ArchiveCOS:
		s, err := archivecos.New(archivecos.Options{Bucket: cfg.Bucket, Region: cfg.Region, Endpoint: cfg.COSEndpoint}, deps.tencent)
		if err != nil {
			return nil, fmt.Errorf("ARCHIVE_COS_ENDPOINT: %w", err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("ARCHIVE %q: want s3 or cos", cfg.Kind)
}

// newSinks returns every destination SINK lists as one sink. The records
// archive goes last whatever its place in the list, so that a record in it
// is a record every other destination took: the ledger reconciliation
// trusts.
func newSinks(ctx context.Context, cfg *config.Config, deps sinkDeps, store archive.Store) (sink.Sink, error) {
	var out []sink.Sink
	var records sink.Sink
	for _, c := range cfg.Sinks {
		if c.Kind == config.KindArchive {
			records = &archive.Records{Store: store, Keys: archive.NewKeys(cfg.Archive.Prefix)}
			continue
		}
		s, err := newSink(ctx, c, deps, "")
		if err != nil {
			for _, made := range out {
				if c, ok := made.(io.Closer); ok {
					c.Close()
				}
			}
			return nil, err
		}
		out = append(out, s)
	}
	if records != nil {
		out = append(out, records)
	}
	return sink.All(out...), nil
}

// newMedia returns the media step of the pipeline, or nil without an
// archive.
func newMedia(cfg config.Archive, store archive.Store) enrich.Media {
	if store == nil {
		return nil
	}
	return &archive.Archiver{
		Store:     store,
		Keys:      archive.NewKeys(cfg.Prefix),
		KeepLinks: cfg.KeepSignedLinks,
		Fetcher: archive.Fetcher{
			Client:   &http.Client{},
			Hosts:    archive.NewHosts(cfg.MediaHosts),
			MaxBytes: cfg.MaxBytes,
		},
	}
}

// ledger is the records archive reconciliation consults, or nil unless
// RECONCILE_SKIP_DELIVERED.
func (a *app) ledger() reconcile.Ledger {
	if !a.cfg.Reconcile.SkipDelivered || a.store == nil {
		return nil
	}
	return &archive.Records{Store: a.store, Keys: archive.NewKeys(a.cfg.Archive.Prefix)}
}
