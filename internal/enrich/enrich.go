// Package enrich is the pipeline behind every route and job: fetch a
// call's session detail from CCC, build the enriched record, and deliver it
// to the sink. The push handler, on-demand enrichment and reconciliation
// all go through it, so a call is enriched the same way whichever way it
// arrives.
package enrich

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/ccc"
	"github.com/ccc-enricher/ccc-enricher/internal/push"
	"github.com/ccc-enricher/ccc-enricher/internal/record"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
	"github.com/ccc-enricher/ccc-enricher/internal/sink"
)

// DetailSource fetches one call's session detail: *cccapi.Client in
// production.
type DetailSource interface {
	DescribeSessionDetail(ctx context.Context, q ccc.SessionQuery) (*ccc.SessionDetail, error)
}

// Media keeps a call's recordings and transcripts where they outlive the
// signed links: *archive.Archiver in production. Archive adds the media
// entries to r and may rewrite its push, detail and CDR list (d may be
// nil); an error leaves r as it was.
type Media interface {
	Archive(ctx context.Context, r *record.Record, p *push.Push, d *ccc.SessionDetail) error
}

// ErrLinkExpired marks a media failure caused by a signed link that is
// out of date: the media host refused it. The detail is fetched once more
// for fresh links.
var ErrLinkExpired = errors.New("media link expired")

// ErrMedia marks a failure to archive a record's media, as opposed to a
// failure to fetch its detail or deliver it.
var ErrMedia = errors.New("media not archived")

// Enricher runs the pipeline.
type Enricher struct {
	Detail DetailSource
	// Sink receives every record; it includes the dead-letter fallback when
	// one is configured.
	Sink sink.Sink
	// ForwardPartial forwards the push data alone, flagged partial, when the
	// detail cannot be fetched; otherwise the failure is returned so that
	// CCC pushes again.
	ForwardPartial bool
	// MaskPhones masks phone numbers in records.
	MaskPhones bool
	// Media, when set, archives every record's recordings and transcripts
	// before it is delivered (ARCHIVE).
	Media Media
	// ForwardWithoutMedia forwards a record whose media could not be
	// archived, flagged mediaComplete false; otherwise the failure is
	// returned so that CCC pushes again (ARCHIVE_FAILURE).
	ForwardWithoutMedia bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Request is one call to enrich.
type Request struct {
	Push     *push.Push
	Source   string
	PushUUID string
	// ReceivedAt is when CCC pushed; zero means now. A worker taking the
	// push off the intake queue sets it from the envelope.
	ReceivedAt time.Time
	// Start and End bound the call's time (Unix seconds) for the detail
	// query. Both zero means the span the push tells of: a CDR's own start
	// and end, or the hours before a recording or voicemail was ready.
	Start, End int64
	// RequireDetail returns a detail failure as an error even when the
	// Enricher forwards partial records: for a caller who asked for this
	// record (on-demand enrichment) or is completing a partial one (redrive).
	RequireDetail bool
	// CDRList is the DescribeTelCdr item the push was made from, kept in
	// the record (reconciliation and backfill).
	CDRList json.RawMessage
	// CDROnly skips the detail call: the record carries the push (or CDR
	// list) data alone, flagged cdr-only (RECONCILE_MODE=cdr-only).
	CDROnly bool
	// Session, when set, shares one detail fetch with the other requests
	// for the same call that carry it: the first to need the detail fetches
	// it with its own window, the others take its detail or its error.
	Session *Session
	// DetailBudget is the share of the context's remaining time the detail
	// fetch may use; the rest is kept for delivery. Zero means 0.6.
	DetailBudget float64
}

// ErrDetail marks a failure to fetch the session detail, as opposed to a
// failure to deliver the record.
var ErrDetail = errors.New("session detail unavailable")

// WindowError is the request's fault: timestamps that cannot bound a
// detail query (see ccc.QueryWindow).
type WindowError = ccc.WindowError

// Build fetches the detail and builds the record, without delivering it.
// A detail failure is returned (wrapping ErrDetail) unless ForwardPartial
// is set and the request does not RequireDetail, in which case the record
// is partial and the error nil.
func (e *Enricher) Build(ctx context.Context, req Request) (*record.Record, error) {
	now := e.now()
	p := req.Push
	in := record.Input{
		Push:       p,
		Source:     req.Source,
		PushUUID:   req.PushUUID,
		ReceivedAt: cmp.Or(req.ReceivedAt, now),
		MaskPhones: e.MaskPhones,
		CDRList:    req.CDRList,
	}
	if req.CDROnly || !p.Kind.Enriched() {
		// A kind that is not a call has no detail to fetch.
		in.CDROnly = req.CDROnly
		return record.Build(in), nil
	}
	detail, fetchedAt, err := e.shared(ctx, req)
	if err != nil {
		if !e.ForwardPartial || req.RequireDetail {
			return nil, err
		}
		in.DetailError = errors.Unwrap(err).Error()
	} else {
		in.Detail = detail
		in.DetailRequestID = detail.RequestID
		in.DetailFetchedAt = fetchedAt
	}
	r := record.Build(in)
	if e.Media == nil {
		return r, nil
	}
	return e.archive(ctx, req, in, r)
}

// archive stores the record's media. A link the media host refuses as out
// of date is answered by fetching the detail once more, for fresh links.
func (e *Enricher) archive(ctx context.Context, req Request, in record.Input, r *record.Record) (*record.Record, error) {
	err := e.Media.Archive(ctx, r, req.Push, in.Detail)
	if errors.Is(err, ErrLinkExpired) && in.Detail != nil {
		detail, ferr := e.fetch(ctx, req)
		if ferr != nil {
			err = fmt.Errorf("%w (and fetching fresh links: %w)", err, ferr)
		} else {
			in.Detail, in.DetailRequestID, in.DetailFetchedAt = detail, detail.RequestID, e.now()
			r = record.Build(in)
			err = e.Media.Archive(ctx, r, req.Push, detail)
		}
	}
	switch {
	case err == nil:
		return r, nil
	case e.ForwardWithoutMedia:
		complete := false
		r.MediaComplete = &complete
		return r, nil
	}
	return nil, &mediaError{err: err}
}

// mediaError wraps a media failure so that errors.Is(err, ErrMedia) holds
// while the cause keeps its retry class.
type mediaError struct{ err error }

func (e *mediaError) Error() string        { return e.err.Error() }
func (e *mediaError) Unwrap() error        { return e.err }
func (e *mediaError) Is(target error) bool { return target == ErrMedia }

// A Session shares one DescribeSessionDetail call among the pushes of one
// call handled together, such as a record push and its cdr push taken off
// the intake queue in one batch. The zero value is ready to use.
type Session struct {
	once      sync.Once
	detail    *ccc.SessionDetail
	fetchedAt time.Time
	err       error
}

// shared fetches the detail, once per Session when the request has one.
func (e *Enricher) shared(ctx context.Context, req Request) (*ccc.SessionDetail, time.Time, error) {
	s := req.Session
	if s == nil {
		d, err := e.fetch(ctx, req)
		return d, e.now(), err
	}
	s.once.Do(func() {
		s.detail, s.err = e.fetch(ctx, req)
		s.fetchedAt = e.now()
	})
	return s.detail, s.fetchedAt, s.err
}

// fetch calls DescribeSessionDetail with part of the context's time.
func (e *Enricher) fetch(ctx context.Context, req Request) (*ccc.SessionDetail, error) {
	budget := req.DetailBudget
	if budget <= 0 || budget > 1 {
		budget = 0.6
	}
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, time.Now().Add(time.Duration(float64(time.Until(deadline))*budget)))
		defer cancel()
	}
	p := req.Push
	start, end := req.Start, req.End
	if start == 0 && end == 0 {
		start, end = window(p)
	}
	d, err := e.Detail.DescribeSessionDetail(ctx, ccc.SessionQuery{
		SdkAppID: p.SdkAppID, SessionID: p.SessionID, Start: start, End: end,
	})
	if err != nil {
		return nil, &detailError{err: err}
	}
	return d, nil
}

// Deliver encodes r and sends it to the sink, telling where it went: the
// sink, or the dead-letter sink when one is configured and the sink
// failed. Either way a nil error means the record is durable.
func (e *Enricher) Deliver(ctx context.Context, r *record.Record) (sink.Outcome, error) {
	m, err := Message(r)
	if err != nil {
		return sink.Outcome{}, err
	}
	out, err := sink.Deliver(ctx, e.Sink, m)
	if err != nil {
		return out, fmt.Errorf("deliver record %s of session %s to %s: %w", r.ID, r.SessionID, e.Sink.Name(), err)
	}
	return out, nil
}

// Process builds the record and delivers it.
func (e *Enricher) Process(ctx context.Context, req Request) (*record.Record, sink.Outcome, error) {
	r, err := e.Build(ctx, req)
	if err != nil {
		return nil, sink.Outcome{}, err
	}
	out, err := e.Deliver(ctx, r)
	return r, out, err
}

// recordingLag bounds how long before a recording or voicemail push its
// call may have started: the push carries only the time the file was
// ready.
const recordingLag = 12 * time.Hour

// window returns the span of call time a push tells of, for the detail
// query: the CDR's own start and end, or the hours before a recording or
// voicemail was ready.
func window(p *push.Push) (start, end int64) {
	switch {
	case p.CDR != nil:
		return p.CDR.StartTimestamp, p.CDR.EndedTimestamp
	case p.Recording != nil:
		return p.Recording.Timestamp - int64(recordingLag/time.Second), p.Recording.Timestamp
	case p.Voicemail != nil:
		return p.Voicemail.Timestamp - int64(recordingLag/time.Second), p.Voicemail.Timestamp
	}
	return 0, 0
}

// Message encodes a record as a sink message.
func Message(r *record.Record) (sink.Message, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return sink.Message{}, retry.Permanent(fmt.Errorf("encode record %s: %w", r.ID, err))
	}
	return Encoded(r, body), nil
}

// Encoded is the sink message of a record already encoded as body, such as
// a dead-lettered one sent again as it was written: the id, schema version,
// ordering key (the SessionId) and FIFO group (the SdkAppId) come from r.
func Encoded(r *record.Record, body []byte) sink.Message {
	return sink.Message{
		ID:            r.ID,
		SchemaVersion: r.SchemaVersion,
		Key:           r.SessionID,
		Group:         strconv.FormatInt(r.SdkAppID, 10),
		Body:          body,
	}
}

func (e *Enricher) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// detailError wraps a detail failure so that errors.Is(err, ErrDetail)
// holds while the cause keeps its retry class.
type detailError struct{ err error }

func (e *detailError) Error() string        { return ErrDetail.Error() + ": " + e.err.Error() }
func (e *detailError) Unwrap() error        { return e.err }
func (e *detailError) Is(target error) bool { return target == ErrDetail }
