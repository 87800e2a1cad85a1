// Package push parses and validates what Tencent Cloud Contact Center
// (CCC) sends to its data-push address: a CDR when a call ends, a
// recording when one is ready, a voicemail when one was left.
//
// Parse turns a body into a typed Push and refuses, with a permanent
// *ValidationError, anything no retry can make acceptable. It is strict
// about what identifies a call (SdkAppId, SessionId, RecordId, the
// timestamps that bound the DescribeSessionDetail query) and keeps every
// field it does not know in Push.Raw, because CCC adds fields over time.
//
// Package pushauth checks who sent them.
//
// Field names of the typed bodies are CCC's own spellings (SdkAppId,
// SessionId), as in tencentcloud-sdk-go, so that they read the same as
// CCC's documentation and the JSON.
package push

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

// MaxBodyBytes is the default cap on a push body. CCC's largest push, a CDR
// with many transfers, is a few kilobytes.
const MaxBodyBytes = 1 << 20

// MaxDepth is how deeply a push body may nest objects and arrays, the body
// itself counting as 1. CCC's deepest documented field is at depth 3.
const MaxDepth = 32

// MaxIDLength bounds SessionId and RecordId: they become parts of record
// ids, queue keys and log lines.
const MaxIDLength = 128

// Kind is the kind of data a push carries: CCC's action query parameter.
type Kind string

// The push kinds. The action names are CCC's: see
// https://www.tencentcloud.com/document/product/1229/59641 (cdr),
// https://www.tencentcloud.com/document/product/1229/59642 (record) and
// https://www.tencentcloud.com/document/product/1229/59643 (voicemail,
// "?action=voicemail"; same on https://cloud.tencent.com/document/product/679/86651).
//
// imcdr (an online chat session ended) and videoCdr (a video call ended)
// are pushed too, and any action CCC adds later: the function does not
// enrich those, but forwards them as they came (see Kind.Enriched), since
// a refusal only makes CCC send the same body three more times and drop it.
const (
	KindCDR       Kind = "cdr"
	KindRecord    Kind = "record"
	KindVoicemail Kind = "voicemail"
	KindIMCDR     Kind = "imcdr"
	KindVideoCDR  Kind = "videoCdr"
)

// KindUnknown is the record kind of a push whose action this program does
// not know; the record keeps the action itself.
const KindUnknown Kind = "unknown"

// maxActionLength bounds an action name: it goes into record ids and logs.
const maxActionLength = 32

// ParseKind returns the kind named by a push's action parameter: one of
// the constants, or, for an action this program does not know, the action
// itself. Names are case-sensitive, as CCC sends them. Only a missing
// action, or one that is not a short name of letters, digits, '_' and '-',
// is an error: nothing CCC would send.
func ParseKind(action string) (Kind, error) {
	if action == "" {
		return "", invalid("action", "missing: CCC names the push's kind in ?action=")
	}
	if len(action) > maxActionLength {
		return "", invalid("action", "longer than "+strconv.Itoa(maxActionLength)+" characters")
	}
	for i := 0; i < len(action); i++ {
		c := action[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return "", invalid("action", "not a name of letters, digits, '_' and '-'")
		}
	}
	return Kind(action), nil
}

// Enriched reports whether pushes of kind k are calls that the function
// enriches with their session detail: cdr, record and voicemail.
func (k Kind) Enriched() bool {
	return k == KindCDR || k == KindRecord || k == KindVoicemail
}

// Known reports whether k is one of CCC's documented push kinds.
func (k Kind) Known() bool { return k.Enriched() || k == KindIMCDR || k == KindVideoCDR }

// Push is one parsed and validated push.
type Push struct {
	Kind      Kind
	SdkAppID  int64
	SessionID string
	// Raw is the body's JSON object, compacted, every field kept. It is
	// nil for a push made by ForSession.
	Raw json.RawMessage
	// TypeMismatch names a field that did not have its documented type,
	// and both types ("SeatUser.StaffNumber: want a string, got number"),
	// never its value; empty when every field did. The typed view lacks
	// that value; Raw has it as it came.
	TypeMismatch string
	// For the enriched kinds, exactly one of CDR, Recording and Voicemail
	// is set, as Kind says; for the others none, and SessionID may be
	// empty.
	CDR       *CDR
	Recording *Recording
	Voicemail *Voicemail
}

// ValidationError says why a push was refused. Parse returns it marked
// retry.Permanent. It names the field but never repeats its value, which
// may be long, personal or crafted.
type ValidationError struct {
	// Field is the JSON name of the offending field ("SessionId",
	// "ServeParticipants.SkillGroupId"), or "body" or "action".
	Field  string
	Reason string
}

func (e *ValidationError) Error() string {
	return "invalid push: " + e.Field + ": " + e.Reason
}

func invalid(field, reason string) error {
	return retry.Permanent(&ValidationError{Field: field, Reason: reason})
}

// Timestamps before this cannot be CCC's: the product did not exist.
var minTimestamp = time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC).Unix()

// maxClockSkew is how far in the future of now a timestamp may be. More
// means a bug, such as milliseconds where CCC documents seconds.
const maxClockSkew = 24 * time.Hour

// Parse parses and validates the body of a push of the given kind. now
// bounds its timestamps. Every error is a *ValidationError marked
// retry.Permanent.
//
// The body must be one JSON object in UTF-8, at most MaxBodyBytes long,
// nested at most MaxDepth deep, with no key given twice in any object, nor
// SdkAppId, SessionId or RecordId twice in different case. It must name the
// call: SdkAppId > 0 and a SessionId of at most MaxIDLength visible ASCII
// characters (and a RecordId alike for a recording). Timestamps, in Unix
// seconds, may be 0 (unset) or lie between 2015 and a day after now; a
// CDR's EndedTimestamp may not precede its StartTimestamp. SdkAppId and the
// timestamps may come as JSON numbers or as strings of digits, and phone
// numbers as strings or numbers; other fields must have their documented
// type.
func Parse(kind Kind, body []byte, now time.Time) (*Push, error) {
	if _, err := ParseKind(string(kind)); err != nil {
		return nil, err
	}
	raw, err := compact(body)
	if err != nil {
		return nil, err
	}
	if !kind.Enriched() {
		var id essentials
		if err := decode(raw, &id); err != nil {
			return nil, err
		}
		p := &Push{Kind: kind, Raw: raw, SdkAppID: int64(id.SdkAppId), SessionID: id.SessionId}
		if err := checkOther(p); err != nil {
			return nil, err
		}
		return p, nil
	}
	// The essentials and the typed view are decoded in one pass.
	p, w := newWire(kind)
	mismatch, err := view(raw, w)
	if err != nil {
		return nil, err
	}
	p.Kind, p.Raw, p.TypeMismatch = kind, raw, mismatch
	p.SdkAppID, p.SessionID = w.identity()
	if err := checkIdentity(p.SdkAppID, p.SessionID); err != nil {
		return nil, err
	}
	ts := timestampChecker{max: now.Add(maxClockSkew).Unix()}
	if err := w.check(&ts); err != nil {
		return nil, err
	}
	if ts.err != nil {
		return nil, ts.err
	}
	return p, nil
}

// newWire returns a push of an enriched kind and the wire type that fills
// its typed body.
func newWire(kind Kind) (*Push, wire) {
	switch kind {
	case KindCDR:
		return newBox(func(p *Push, w *cdrWire, c *CDR) { p.CDR, w.CDR = c, c })
	case KindRecord:
		return newBox(func(p *Push, w *recordingWire, r *Recording) { p.Recording, w.Recording = r, r })
	}
	return newBox(func(p *Push, w *voicemailWire, v *Voicemail) { p.Voicemail, w.Voicemail = v, v })
}

// newBox makes a push, its wire type and its typed body in one
// allocation, linked by link.
func newBox[W any, PW interface {
	*W
	wire
}, T any](link func(*Push, PW, *T)) (*Push, wire) {
	b := new(struct {
		p Push
		w W
		t T
	})
	link(&b.p, PW(&b.w), &b.t)
	return &b.p, PW(&b.w)
}

// ForSession returns a push standing for a call that CCC did not push,
// for on-demand enrichment and reconciliation: kind cdr, with only the
// call's identity set and no Raw body. It validates the identity as Parse
// does. now is when the caller asked; no field depends on it yet.
func ForSession(sessionID string, sdkAppID int64, now time.Time) (*Push, error) {
	if err := checkIdentity(sdkAppID, sessionID); err != nil {
		return nil, err
	}
	return &Push{
		Kind:      KindCDR,
		SdkAppID:  sdkAppID,
		SessionID: sessionID,
		CDR:       &CDR{SdkAppId: sdkAppID, SessionId: sessionID},
	}, nil
}

// compact checks that body is one JSON object within the limits and
// returns it compacted, in a new slice.
func compact(body []byte) (json.RawMessage, error) {
	if len(body) > MaxBodyBytes {
		return nil, invalid("body", "larger than "+strconv.Itoa(MaxBodyBytes)+" bytes")
	}
	// CCC sends UTF-8; bytes that are not would pass into Raw unchanged
	// and break consumers downstream.
	if !utf8.Valid(body) {
		return nil, invalid("body", "not valid UTF-8")
	}
	switch start := bytes.TrimLeft(body, " \t\r\n"); {
	case len(start) == 0:
		return nil, invalid("body", "empty")
	case start[0] != '{':
		return nil, invalid("body", "not a JSON object")
	}
	buf := bytes.NewBuffer(make([]byte, 0, len(body)))
	if err := json.Compact(buf, body); err != nil {
		return nil, syntaxError(body)
	}
	if err := prescan(buf.Bytes()); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// syntaxError describes why json.Compact refused body.
func syntaxError(body []byte) error {
	// A first value that decodes alone is followed by something.
	var v json.RawMessage
	if json.NewDecoder(bytes.NewReader(body)).Decode(&v) == nil {
		return invalid("body", "trailing data after the JSON object")
	}
	// json.Compact's SyntaxError has no offset (always 0); Unmarshal's has.
	if se, ok := errors.AsType[*json.SyntaxError](json.Unmarshal(body, new(any))); ok {
		return invalid("body", "not valid JSON at offset "+strconv.FormatInt(se.Offset, 10))
	}
	return invalid("body", "not valid JSON")
}

// decode decodes the essential fields of an already compacted, valid
// object, turning a type mismatch into a validation error that names the
// field.
func decode(raw []byte, v *essentials) error {
	err := json.Unmarshal(raw, v)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return invalid(te.Field, "wrong JSON type: want "+jsonType(te.Type))
	}
	return invalid("body", "cannot decode")
}

// view fills a wire type, the essentials and the typed view of the push,
// and returns what did not have its documented type, as "path: want …,
// got …" (empty when everything did). encoding/json leaves such a value
// out and goes on with the rest, so the view lacks just that value; the
// body stays in Raw as it came. Only the first mismatch is named.
//
// An essential field that cannot be decoded refuses the push. The wire
// stops at the first such field; the error is then the one decode gives
// for the essentials alone, so that which field is named, when several
// are wrong, is as encoding/json decides it.
func view(raw []byte, v wire) (string, error) {
	err := json.Unmarshal(raw, v)
	if errors.Is(err, errEssential) {
		if err := decode(raw, new(essentials)); err != nil {
			return "", err
		}
		return "", invalid("body", "cannot decode")
	}
	v.apply()
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && te.Field != "" {
		path := te.Field
		if i := strings.IndexByte(path, '.'); i >= 0 && strings.ToUpper(path[:1]) == path[:1] && isEmbedded(path[:i]) {
			path = path[i+1:]
		}
		return path + ": want " + jsonType(te.Type) + ", got " + te.Value, nil
	}
	if err != nil {
		return "body: not decodable as its kind", nil
	}
	return "", nil
}

// isEmbedded reports whether name is a wire type's embedded struct, which
// encoding/json puts in front of the paths of its fields.
func isEmbedded(name string) bool {
	return name == "CDR" || name == "Recording" || name == "Voicemail"
}

// jsonType names the JSON type a Go type decodes from.
func jsonType(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map, reflect.Pointer:
		return "an object"
	}
	return "another type"
}

// checkOther checks a push of a kind that is forwarded as it came: it
// needs its application, for the allow-list, and a SessionId, if it has
// one, must be one an id can be made of.
func checkOther(p *Push) error {
	if p.SdkAppID <= 0 {
		return invalid("SdkAppId", "missing or not a positive integer")
	}
	if p.SessionID != "" {
		return checkID("SessionId", p.SessionID)
	}
	return nil
}

// checkIdentity checks what names the call: the record id, the detail
// query and the sink's keys are made of it.
func checkIdentity(sdkAppID int64, sessionID string) error {
	if sdkAppID <= 0 {
		return invalid("SdkAppId", "missing or not a positive integer")
	}
	return checkID("SessionId", sessionID)
}

// checkID requires a non-empty id of at most MaxIDLength visible ASCII
// characters. CCC's ids are UUIDs; anything else would end up in keys and
// log lines.
func checkID(field, id string) error {
	if id == "" {
		return invalid(field, "missing")
	}
	if len(id) > MaxIDLength {
		return invalid(field, "longer than "+strconv.Itoa(MaxIDLength)+" characters")
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c > '~' {
			return invalid(field, "contains a space, control or non-ASCII character")
		}
	}
	return nil
}

// timestampChecker keeps the first timestamp that is out of bounds. Zero
// means unset (an unanswered call has no AcceptTimestamp).
type timestampChecker struct {
	max int64
	err error
}

// require checks a timestamp that must be set.
func (c *timestampChecker) require(field string, t int64) {
	if c.err == nil && t == 0 {
		c.err = invalid(field, "missing: the time bounds the detail query")
	}
	c.check(field, t)
}

// outOfBounds reports whether a set timestamp fails the checks, without
// keeping the error.
func (c *timestampChecker) outOfBounds(t int64) bool {
	probe := timestampChecker{max: c.max}
	probe.check("", t)
	return probe.err != nil
}

func (c *timestampChecker) check(field string, t int64) {
	switch {
	case c.err != nil || t == 0:
	case t < 0:
		c.err = invalid(field, "negative")
	case t < minTimestamp:
		c.err = invalid(field, "before 2015")
	case t > c.max:
		c.err = invalid(field, fmt.Sprintf("more than %s in the future (want Unix seconds)", maxClockSkew))
	}
}
