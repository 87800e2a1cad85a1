package main

import (
	"context"

	"github.com/ccc-enricher/ccc-enricher/internal/redrive"
)

// redrive is the queue function of both platforms' queue triggers (SQS on
// Lambda; CKafka or a CMQ topic on SCF): it sends one dead-lettered record
// back to the primary sink, enriching it again if it is partial. The
// primary sink alone, without the dead-letter fallback, so that a record
// that fails again stays in the queue instead of being written back to it.
func (a *app) redrive(ctx context.Context, body []byte) error {
	ctx, flush := a.measure(ctx, "redrive")
	defer flush()
	r := redrive.Redriver{Sink: a.primary, Enricher: a.enricher, Logger: a.log}
	return r.Redrive(ctx, body)
}
