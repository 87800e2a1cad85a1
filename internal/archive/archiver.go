package archive

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/ccc-enricher/ccc-enricher/internal/ccc"
	"github.com/ccc-enricher/ccc-enricher/internal/push"
	"github.com/ccc-enricher/ccc-enricher/internal/record"
)

// Archiver stores a call's media in a Store and rewrites its record to
// point there. It is the pipeline's enrich.Media.
type Archiver struct {
	Store Store
	Keys  Keys
	Fetcher
	// KeepLinks leaves the signed links in the record once its media is
	// archived (KEEP_SIGNED_LINKS=true).
	KeepLinks bool
}

// item is one file a push and its detail carry.
type item struct {
	kind     string
	recordID string
	// link is the signed link to download; custom the customer's own copy,
	// recorded instead when CCC made one.
	link, custom string
	key          string
}

// Archive stores the recordings and transcripts of p and d (d may be nil)
// and adds their media entries, and the transcript, to r. Once everything
// is stored, the signed links are emptied from r's push, detail and CDR
// list, unless KeepLinks. A failure leaves r's links as they were; it
// wraps enrich.ErrLinkExpired when a link was out of date.
func (a *Archiver) Archive(ctx context.Context, r *record.Record, p *push.Push, d *ccc.SessionDetail) error {
	items := a.items(p, d, r.Meta.ReceivedAt)
	if len(items) == 0 {
		return nil
	}
	media := make([]record.Media, 0, len(items))
	transcript := ""
	for _, it := range items {
		if it.custom != "" {
			media = append(media, record.Media{Kind: it.kind, RecordID: it.recordID, URI: it.custom})
			continue
		}
		m, text, err := a.store(ctx, p.SessionID, it)
		if err != nil {
			return fmt.Errorf("archive %s of session %s: %w", it.kind, p.SessionID, err)
		}
		media = append(media, m)
		if it.kind == record.MediaTranscript {
			transcript = text
		}
	}
	r.Media, r.Transcript = media, transcript
	if !a.KeepLinks {
		r.Push, r.Detail, r.CDRList = withoutLinks(r.Push), withoutLinks(r.Detail), withoutLinks(r.CDRList)
		r.Meta.RecordingLinksExpireAt = nil
	}
	return nil
}

// store downloads one file and puts it at its key, unless an object with
// the same sha256 is already there. It returns the media entry and, for a
// transcript small enough to carry inline, its text.
func (a *Archiver) store(ctx context.Context, session string, it item) (record.Media, string, error) {
	s, err := a.fetch(ctx, it.link)
	if err != nil {
		return record.Media{}, "", err
	}
	defer s.close()
	ext := extension(it.key, "bin")
	m := record.Media{
		Kind: it.kind, RecordID: it.recordID, URI: a.Store.URI(it.key),
		Bytes: s.size, SHA256: s.sha256, ContentType: contentType(s.contentType, ext),
	}
	if it.kind == record.MediaTranscript || it.kind == record.MediaVoicemailTranscript {
		m.ContentType = contentTypes["txt"]
	}
	old, ok, err := a.Store.Stat(ctx, it.key)
	if err != nil {
		return record.Media{}, "", storeError(a.Store, "stat", it.key, err)
	}
	if !ok || old.Meta[MetaSHA256] != s.sha256 {
		meta := map[string]string{MetaSession: session, MetaSHA256: s.sha256}
		if it.recordID != "" {
			meta[MetaRecordID] = it.recordID
		}
		// A section of the file: seekable for the SDKs' signing and
		// retries, and not a Closer they would close.
		body := io.NewSectionReader(s.f, 0, s.size)
		if err := a.Store.Put(ctx, it.key, body, s.size, Object{ContentType: m.ContentType, Meta: meta}); err != nil {
			return record.Media{}, "", storeError(a.Store, "put", it.key, err)
		}
	}
	text := ""
	if it.kind == record.MediaTranscript && s.size <= record.MaxTranscript {
		if _, err := s.f.Seek(0, io.SeekStart); err != nil {
			return record.Media{}, "", fmt.Errorf("read transcript: %w", err)
		}
		b, err := io.ReadAll(s.f)
		if err != nil {
			return record.Media{}, "", fmt.Errorf("read transcript: %w", err)
		}
		if utf8.Valid(b) {
			text = string(b)
		}
	}
	return m, text, nil
}

// items lists the files of d and p, each once, by key: the detail's
// customer-side recording, each participant's, the voicemails and the ASR
// texts, then the push's own recording or voicemail.
func (a *Archiver) items(p *push.Push, d *ccc.SessionDetail, received time.Time) []item {
	day := callDay(p, d, received)
	session := p.SessionID
	var out []item
	seen := map[string]bool{}
	add := func(kind, recordID, name, link, custom string, transcript bool) {
		if link == "" && custom == "" {
			return
		}
		var key string
		if transcript {
			key = a.Keys.Transcript(day, session, name)
		} else {
			key = a.Keys.Recording(day, session, name, extension(linkPath(cmp.Or(link, custom)), "mp3"))
		}
		if seen[key] {
			return
		}
		seen[key] = true
		out = append(out, item{kind: kind, recordID: recordID, link: link, custom: custom, key: key})
	}
	if d != nil {
		add(record.MediaRecording, "", "customer", d.RecordURL, d.CustomRecordURL, false)
		for i, sp := range d.ServeParticipants {
			add(record.MediaParticipant, sp.RecordId, nameOr(sp.RecordId, "participant-"+strconv.Itoa(i+1)), sp.RecordURL, sp.CustomRecordURL, false)
		}
		for i, link := range d.VoicemailRecordURL {
			add(record.MediaVoicemail, "", "voicemail-"+strconv.Itoa(i+1), link, "", false)
		}
		add(record.MediaTranscript, "", "", d.AsrURL, "", true)
		for i, link := range d.VoicemailAsrURL {
			add(record.MediaVoicemailTranscript, "", "voicemail-"+strconv.Itoa(i+1), link, "", true)
		}
	}
	// The push's own file last: the detail's link to the same file (a
	// participant's recording of the same RecordId) is the fresher one.
	if r := p.Recording; r != nil {
		add(record.MediaRecording, r.RecordId, nameOr(r.RecordId, "customer"), r.RecordURL, r.CustomRecordURL, false)
	}
	if v := p.Voicemail; v != nil {
		add(record.MediaVoicemail, "", "voicemail-1", v.RecordURL, "", false)
	}
	return out
}

func nameOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// linkPath is a link's path, for its extension.
func linkPath(link string) string {
	u, err := url.Parse(link)
	if err != nil {
		return ""
	}
	return u.Path
}

// callDay is the day a call's files are filed under: its start, from the
// detail or the push, else when the push was received.
func callDay(p *push.Push, d *ccc.SessionDetail, received time.Time) time.Time {
	var ts int64
	switch {
	case d != nil && d.StartTimeStamp > 0:
		ts = d.StartTimeStamp
	case p.CDR != nil && p.CDR.StartTimestamp > 0:
		ts = p.CDR.StartTimestamp
	case p.Recording != nil && p.Recording.Timestamp > 0:
		ts = p.Recording.Timestamp
	case p.Voicemail != nil && p.Voicemail.Timestamp > 0:
		ts = p.Voicemail.Timestamp
	default:
		return received
	}
	return time.Unix(ts, 0)
}
