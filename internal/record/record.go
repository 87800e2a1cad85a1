// Package record defines the enriched call record: what ccc-enricher
// delivers for every CCC push, on-demand enrichment and reconciled call.
//
// A record carries the push's own fields as CCC sent them, every field of
// DescribeSessionDetail, and metrics derived from both. Its id is
// deterministic, so a CCC redelivery, an in-process retry and a later
// reconciliation of the same call all carry the same id and consumers can
// deduplicate on it. The shape is versioned by SchemaVersion and described
// by the JSON Schema in schema.json.
package record

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/ccc"
	"github.com/ccc-enricher/ccc-enricher/internal/push"
)

// SchemaVersion is the version of the record's shape. It changes in its
// major part only when a field is removed or changes meaning.
const SchemaVersion = "1.1"

// Producer names this program in every record.
const Producer = "ccc-enricher"

// Sources of a record, the values of Record.Source.
const (
	SourcePush      = "push"      // a CCC data push
	SourceEnrich    = "enrich"    // on-demand enrichment through the API
	SourceReconcile = "reconcile" // the scheduled reconciliation job
	SourceBackfill  = "backfill"  // the backfill command
)

// Completeness of a record, the values of Record.Completeness.
const (
	// Full records carry the session detail.
	Full = "full"
	// Partial records carry the push data only: the detail could not be
	// fetched in time and ON_DETAIL_FAILURE=forward-partial.
	Partial = "partial"
	// CDROnly records carry CDR-list data only (RECONCILE_MODE=cdr-only).
	CDROnly = "cdr-only"
	// PushOnly records carry a push of a kind that is not enriched
	// (imcdr, videoCdr, an action CCC added later): the push is the record.
	PushOnly = "push-only"
)

// RecordingLinkLifetime is how long the signed recording and transcript
// links returned by DescribeSessionDetail stay valid.
const RecordingLinkLifetime = 24 * time.Hour

// Record is one enriched call record.
type Record struct {
	SchemaVersion string    `json:"schemaVersion"`
	ID            string    `json:"id"`
	Kind          push.Kind `json:"kind"`
	Source        string    `json:"source"`
	Completeness  string    `json:"completeness"`
	SdkAppID      int64     `json:"sdkAppId"`
	SessionID     string    `json:"sessionId,omitempty"`
	// Action is the push's action when this program does not know it
	// (Kind unknown).
	Action string `json:"action,omitempty"`
	// RecordID is the recording's id, for Kind record.
	RecordID string `json:"recordId,omitempty"`
	// Push is the push body as CCC sent it, unknown fields included.
	Push json.RawMessage `json:"push,omitempty"`
	// Detail is the DescribeSessionDetail Response object as the API
	// returned it, less RequestId (in Meta): every field, and nothing the
	// API did not send.
	Detail json.RawMessage `json:"detail,omitempty"`
	// CDRList is the DescribeTelCdr item a reconciled or backfilled record
	// was made from, as the API listed it: every field, those a push does
	// not carry included.
	CDRList json.RawMessage `json:"cdrList,omitempty"`
	// DetailError says why Detail is missing from a partial record.
	DetailError string   `json:"detailError,omitempty"`
	Metrics     *Metrics `json:"metrics,omitempty"`
	// Media lists the recordings and transcripts kept in the customer's
	// own bucket (ARCHIVE), one entry per file; absent when nothing is
	// archived.
	Media []Media `json:"media,omitempty"`
	// Transcript is the call's ASR text when it is archived and at most
	// MaxTranscript bytes; its media entry is there either way.
	Transcript string `json:"transcript,omitempty"`
	// MediaComplete is false when some media could not be archived and the
	// record was forwarded anyway (ARCHIVE_FAILURE=forward); absent
	// otherwise.
	MediaComplete *bool `json:"mediaComplete,omitempty"`
	Meta          Meta  `json:"meta"`
}

// MaxTranscript is the largest transcript a record carries inline.
const MaxTranscript = 64 << 10

// Kinds of media, the values of Media.Kind.
const (
	// MediaRecording is the customer-side recording of the call
	// (DescribeSessionDetail's RecordURL, or a record push's).
	MediaRecording = "recording"
	// MediaParticipant is one service leg's recording.
	MediaParticipant = "participant-recording"
	// MediaVoicemail is a voicemail recording.
	MediaVoicemail = "voicemail"
	// MediaTranscript is the call's ASR text (AsrURL).
	MediaTranscript = "transcript"
	// MediaVoicemailTranscript is a voicemail's ASR text.
	MediaVoicemailTranscript = "voicemail-transcript"
)

// Media is one recording or transcript stored in the customer's bucket.
type Media struct {
	Kind string `json:"kind"`
	// RecordID is the recording's id, when CCC gives one.
	RecordID string `json:"recordId,omitempty"`
	// URI is where the file is: s3://bucket/key, cos://bucket/key, or the
	// customer's own COS link where CCC copied it (CustomRecordURL).
	URI string `json:"uri"`
	// Bytes and SHA256 (hex) describe the stored file; both absent for a
	// copy CCC made, which this program did not download.
	Bytes       int64  `json:"bytes,omitempty"`
	SHA256      string `json:"sha256,omitempty"`
	ContentType string `json:"contentType,omitempty"`
}

// Meta is what ccc-enricher knows about how the record came to be.
type Meta struct {
	Producer string `json:"producer"`
	// PushUUID is CCC's X-TCCC-PUSH-UUID: the same for CCC's redeliveries
	// of one push.
	PushUUID   string    `json:"pushUuid,omitempty"`
	ReceivedAt time.Time `json:"receivedAt"`
	// DetailFetchedAt is when DescribeSessionDetail answered.
	DetailFetchedAt *time.Time `json:"detailFetchedAt,omitempty"`
	// DetailRequestID is the CCC API's RequestId, for support tickets.
	DetailRequestID string `json:"detailRequestId,omitempty"`
	// RecordingLinksExpireAt is when the signed RecordURL/AsrURL links in
	// Detail stop working; fetch the session again for fresh ones.
	RecordingLinksExpireAt *time.Time `json:"recordingLinksExpireAt,omitempty"`
	// PhonesMasked is true when phone numbers were masked
	// (MASK_PHONE_NUMBERS=true).
	PhonesMasked bool `json:"phonesMasked,omitempty"`
}

// ID returns the record id for one push kind of one call. part tells apart
// several pushes of one kind for a session (the RecordId of a recording
// push, one per participant side); it is empty for cdr pushes.
//
// The id is a hash rather than the joined fields so it has a fixed length
// and alphabet that every sink accepts as an idempotency key (SQS FIFO
// deduplication ids, for one, are limited to 128 characters).
func ID(sdkAppID int64, sessionID string, kind push.Kind, part string) string {
	// The hashed bytes are built on the stack: an id is one allocation.
	var buf [128]byte
	b := strconv.AppendInt(buf[:0], sdkAppID, 10)
	for _, s := range []string{sessionID, string(kind), part} {
		b = append(b, 0)
		b = append(b, s...)
	}
	sum := sha256.Sum256(b)
	var id [len("cer_") + 32]byte
	copy(id[:], "cer_")
	hex.Encode(id[len("cer_"):], sum[:16])
	return string(id[:])
}

// Input is what a record is built from.
type Input struct {
	Push   *push.Push
	Source string
	// PushUUID is the X-TCCC-PUSH-UUID header, if any.
	PushUUID   string
	ReceivedAt time.Time
	// Detail is the session detail, or nil with DetailError set.
	Detail          *ccc.SessionDetail
	DetailRequestID string
	DetailFetchedAt time.Time
	DetailError     string
	// CDRList is the DescribeTelCdr item the push was made from, for
	// reconciliation and backfill.
	CDRList json.RawMessage
	// CDROnly marks a record built on purpose without the detail call.
	CDROnly bool
	// MaskPhones masks phone numbers in Push and Detail.
	MaskPhones bool
}

// Build assembles the record. It does not change in.Push or in.Detail.
func Build(in Input) *Record {
	p := in.Push
	r := &Record{
		SchemaVersion: SchemaVersion,
		ID:            IDOf(p),
		Kind:          p.Kind,
		Source:        in.Source,
		Completeness:  Full,
		SdkAppID:      p.SdkAppID,
		SessionID:     p.SessionID,
		Push:          p.Raw,
		Detail:        detailJSON(in.Detail),
		CDRList:       in.CDRList,
		DetailError:   in.DetailError,
		Meta: Meta{
			Producer:   Producer,
			PushUUID:   in.PushUUID,
			ReceivedAt: in.ReceivedAt.UTC(),
		},
	}
	if p.Recording != nil {
		r.RecordID = p.Recording.RecordId
	}
	if !p.Kind.Enriched() {
		r.Completeness = PushOnly
		if !p.Kind.Known() {
			r.Kind, r.Action = push.KindUnknown, string(p.Kind)
		}
		if in.MaskPhones {
			maskPhones(r)
		}
		return r
	}
	switch {
	case in.Detail == nil && in.CDROnly:
		r.Completeness = CDROnly
	case in.Detail == nil:
		r.Completeness = Partial
	default:
		fetched := in.DetailFetchedAt.UTC()
		r.Meta.DetailFetchedAt = &fetched
		r.Meta.DetailRequestID = in.DetailRequestID
		if hasSignedLinks(in.Detail) {
			expires := fetched.Add(RecordingLinkLifetime)
			r.Meta.RecordingLinksExpireAt = &expires
		}
	}
	r.Metrics = metricsOf(callOf(p, in.Detail))
	if in.MaskPhones {
		maskPhones(r)
	}
	return r
}

// detailJSON is the detail as the record carries it: as the API returned
// it, or encoded from the typed view for a detail made in code.
func detailJSON(d *ccc.SessionDetail) json.RawMessage {
	switch {
	case d == nil:
		return nil
	case d.Raw != nil:
		return d.Raw
	}
	b, err := json.Marshal(d)
	if err != nil {
		return nil // a struct of plain fields always encodes
	}
	return b
}

// IDOf is the id of the record p's push becomes.
func IDOf(p *push.Push) string {
	session := p.SessionID
	if session == "" {
		// A push of another kind without a SessionId is named by its body,
		// which CCC sends again unchanged.
		sum := sha256.Sum256(p.Raw)
		session = "body:" + hex.EncodeToString(sum[:16])
	}
	return ID(p.SdkAppID, session, p.Kind, part(p))
}

// part returns what tells apart several pushes of one kind for a session.
func part(p *push.Push) string {
	if p.Recording != nil {
		return p.Recording.RecordId
	}
	return ""
}
