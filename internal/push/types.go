package push

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"

	"github.com/ccc-enricher/ccc-enricher/internal/ccc"
)

// CDR is the body of an action=cdr push: one record of a whole call
// session, sent when it ended, with the fields, names, order and JSON types
// of CCC's documentation and sample, so that reconciliation writes the push
// CCC would have sent (see reconcile.CDRPush).
// https://www.tencentcloud.com/document/product/1229/59641
type CDR struct {
	SdkAppId  int64
	SessionId string
	Caller    string
	Callee    string
	// Direction is 0 for inbound, 1 for outbound.
	Direction int64
	// CallType is 1 outbound, 2 inbound, 3 audio inbound, 5 predictive
	// outbound, 6 internal.
	CallType int64
	// Duration is EndedTimestamp − AcceptTimestamp, in seconds.
	Duration int64
	// SeatUser is the agent; the last one after transfers.
	SeatUser       *SeatUser `json:",omitempty"`
	CallerLocation string
	// IVRDuration is QueuedTimestamp − StartTimestamp, in seconds.
	IVRDuration int64
	// The timestamps are Unix seconds; zero when the call never got there.
	RingTimestamp     int64
	AcceptTimestamp   int64
	EndedTimestamp    int64
	StartTimestamp    int64
	IVRKeyPressed     []string
	IVRKeyPressedEx   []ccc.IVRKeyPressedElement
	HungUpSide        string
	ServeParticipants []Participant
	// EndStatusString names the call's end, a name of CCC's EndStatus
	// table; the push has no numeric EndStatus (ccc.EndStatusCode maps it).
	EndStatusString string
	QueuedTimestamp int64
	// PostIVRKeyPressed are the keys pressed after the call, such as a
	// satisfaction survey.
	PostIVRKeyPressed    []ccc.IVRKeyPressedElement
	QueuedSkillGroupName string
	QueuedSkillGroupId   int64
	// RecordId is the customer side's recording.
	RecordId string
	// The push documents UserRemark and Uui, but its sample has neither:
	// they are sent only when set.
	UserRemark string `json:",omitempty"`
	// Uui is the user-to-user data carried with the call.
	Uui string `json:",omitempty"`
}

// SeatUser is a CDR push's agent. DescribeTelCdr's SeatUserInfo has Role
// and ExtensionNumber too; a push's sample has neither, so a reconciled
// record keeps them in its cdrList, and a push that has them keeps them in
// Raw.
type SeatUser struct {
	Mail               string
	StaffNumber        string
	Name               string
	Nick               string
	Phone              string
	UserId             string
	SkillGroupNameList []string
}

// Participant is one service leg of a CDR push (ServeParticipants), in the
// order of CCC's sample. Unlike DescribeSessionDetail's, it carries no
// recording links: those are signed and expire, and live in the detail.
type Participant struct {
	AcceptTimestamp  int64
	EndStatusString  string
	EndedTimestamp   int64
	Mail             string
	Phone            string
	RecordId         string
	RingTimestamp    int64
	Sequence         int64
	SkillGroupId     int64
	SkillGroupName   string
	StartTimestamp   int64
	TransferFrom     string
	TransferFromType string
	TransferTo       string
	TransferToType   string
	Type             string
}

// Recording is the body of an action=record push: one participant side's
// recording of a call, sides told apart by EndpointUser.
// https://www.tencentcloud.com/document/product/1229/59642
type Recording struct {
	SdkAppId  int64
	RecordId  string
	SessionId string
	// Timestamp is when the recording was made, Unix seconds.
	Timestamp int64
	// EndpointUser is the customer's phone number or the agent's mail.
	EndpointUser string
	RecordURL    string
	// CustomRecordURL is set when recordings are copied to the customer's
	// own COS bucket.
	CustomRecordURL string
}

// Voicemail is the body of an action=voicemail push: a caller's message
// left in an IVR voicemail node.
// https://www.tencentcloud.com/document/product/1229/59643
type Voicemail struct {
	SdkAppId  int64
	SessionId string
	// Timestamp is when the recording was made, Unix seconds.
	Timestamp int64
	RecordURL string
	// EndpointUser is the caller's phone number.
	EndpointUser string
}

// essentials are the fields that decide whether a push can be processed
// at all: the call's identity and the times that bound the detail query.
// They are decoded on their own, leniently (a number or a string of
// digits), and a value that is neither refuses the push, naming the field.
type essentials struct {
	SdkAppId       flexInt
	SessionId      string
	RecordId       string
	StartTimestamp flexInt
	EndedTimestamp flexInt
	Timestamp      flexInt
}

// The wire types are the typed views of the three kinds of push: every
// field CCC documents, with its documented type, for the metrics, and the
// essentials. They are tolerant readers: a field of another type is left
// out of the view (see view), never a reason to refuse the push; only an
// essential may be. The essential fields are shadowed by ids, which
// decodes them as essentials does, and the phone numbers and the other
// timestamps take a number or a string.
//
// Each outer field shadows the embedded struct's field of the same JSON
// name, and apply copies it back.

// wire is a wire type.
type wire interface {
	apply()
	// identity returns the SdkAppId and SessionId decoded.
	identity() (int64, string)
	// check checks what the kind needs besides the identity, keeping a
	// timestamp out of bounds in ts.
	check(ts *timestampChecker) error
}

type cdrWire struct {
	*CDR
	SdkAppId, StartTimestamp, EndedTimestamp, Timestamp essentialInt
	SessionId, RecordId                                 essentialString
	Caller, Callee                                      looseString
	RingTimestamp, AcceptTimestamp, QueuedTimestamp     looseInt
}

func (w *cdrWire) identity() (int64, string) { return int64(w.SdkAppId), string(w.SessionId) }

func (w *cdrWire) apply() {
	c := w.CDR
	c.SdkAppId, c.SessionId, c.RecordId = int64(w.SdkAppId), string(w.SessionId), string(w.RecordId)
	c.StartTimestamp, c.EndedTimestamp = int64(w.StartTimestamp), int64(w.EndedTimestamp)
	c.Caller, c.Callee = string(w.Caller), string(w.Callee)
	c.RingTimestamp, c.AcceptTimestamp = int64(w.RingTimestamp), int64(w.AcceptTimestamp)
	c.QueuedTimestamp = int64(w.QueuedTimestamp)
}

func (w *cdrWire) check(ts *timestampChecker) error {
	c := w.CDR
	start, end := c.StartTimestamp, c.EndedTimestamp
	ts.check("StartTimestamp", start)
	ts.check("EndedTimestamp", end)
	switch {
	case ts.err != nil:
	case start == 0 && end == 0:
		ts.err = invalid("StartTimestamp", "missing, and so is EndedTimestamp: the call's time bounds the detail query")
	case start > 0 && end > 0 && end < start:
		ts.err = invalid("EndedTimestamp", "before StartTimestamp")
	}
	// The other timestamps only feed metrics: one out of bounds is left
	// out of them, not a reason to refuse the call.
	for _, t := range []*int64{&c.RingTimestamp, &c.AcceptTimestamp, &c.QueuedTimestamp} {
		if ts.outOfBounds(*t) {
			*t = 0
		}
	}
	return nil
}

type recordingWire struct {
	*Recording
	SdkAppId, StartTimestamp, EndedTimestamp, Timestamp essentialInt
	SessionId, RecordId                                 essentialString
	EndpointUser                                        looseString
}

func (w *recordingWire) identity() (int64, string) { return int64(w.SdkAppId), string(w.SessionId) }

func (w *recordingWire) apply() {
	r := w.Recording
	r.SdkAppId, r.SessionId, r.RecordId, r.Timestamp = int64(w.SdkAppId), string(w.SessionId), string(w.RecordId), int64(w.Timestamp)
	r.EndpointUser = string(w.EndpointUser)
}

func (w *recordingWire) check(ts *timestampChecker) error {
	if err := checkID("RecordId", w.Recording.RecordId); err != nil {
		return err
	}
	ts.require("Timestamp", w.Recording.Timestamp)
	return nil
}

type voicemailWire struct {
	*Voicemail
	SdkAppId, StartTimestamp, EndedTimestamp, Timestamp essentialInt
	SessionId, RecordId                                 essentialString
	EndpointUser                                        looseString
}

func (w *voicemailWire) identity() (int64, string) { return int64(w.SdkAppId), string(w.SessionId) }

func (w *voicemailWire) apply() {
	v := w.Voicemail
	v.SdkAppId, v.SessionId, v.Timestamp = int64(w.SdkAppId), string(w.SessionId), int64(w.Timestamp)
	v.EndpointUser = string(w.EndpointUser)
}

func (w *voicemailWire) check(ts *timestampChecker) error {
	ts.require("Timestamp", w.Voicemail.Timestamp)
	return nil
}

// errEssential stops a wire's decoding at an essential field that
// essentials would refuse.
var errEssential = errors.New("an essential field cannot be decoded")

// essentialInt is a flexInt of a wire.
type essentialInt int64

func (n *essentialInt) UnmarshalJSON(b []byte) error {
	if (*flexInt)(n).UnmarshalJSON(b) != nil {
		return errEssential
	}
	return nil
}

// essentialString is a string of a wire: a JSON string, or null.
type essentialString string

func (s *essentialString) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
	case len(b) == 0 || b[0] != '"':
		return errEssential
	default:
		if plain, ok := plainString(b); ok {
			*s = essentialString(plain)
		} else if json.Unmarshal(b, (*string)(s)) != nil {
			return errEssential
		}
	}
	return nil
}

// flexInt decodes an integer sent as a JSON number or as a string of
// decimal digits. Fractions and exponents are refused: no CCC integer has
// them, and rounding an id would name another call.
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		s, ok := plainString(b)
		if !ok {
			return typeError("string", reflect.TypeFor[int64]())
		}
		if len(s) == 0 {
			*n = 0
			return nil
		}
		b = s
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return typeError("number", reflect.TypeFor[int64]())
	}
	*n = flexInt(v)
	return nil
}

// flexString decodes a string sent as a JSON string or as a number, whose
// literal it keeps (13123456789 becomes "13123456789").
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && b[0] == '"':
		if plain, ok := plainString(b); ok {
			*s = flexString(plain)
			return nil
		}
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = flexString(v)
	case len(b) > 0 && (b[0] == '-' || '0' <= b[0] && b[0] <= '9'):
		*s = flexString(b)
	default:
		return typeError("value", reflect.TypeFor[string]())
	}
	return nil
}

// plainString returns the inside of a JSON string literal that has no
// escapes, which is the common case: digits, phone numbers and mails need
// none.
func plainString(b []byte) ([]byte, bool) {
	if len(b) < 2 || b[len(b)-1] != '"' {
		return nil, false
	}
	s := b[1 : len(b)-1]
	return s, bytes.IndexByte(s, '\\') < 0
}

// typeError is what encoding/json returns for a mismatched type; it adds
// the field's path to it.
func typeError(value string, t reflect.Type) error {
	return &json.UnmarshalTypeError{Value: value, Type: t}
}

// looseInt decodes an integer of the typed view from a JSON number (an
// integral float too) or a string of digits, and is left zero for anything
// else: it never fails, so the rest of the view still decodes.
type looseInt int64

func (n *looseInt) UnmarshalJSON(b []byte) error {
	var v flexInt
	if v.UnmarshalJSON(b) == nil {
		*n = looseInt(v)
	} else if f, err := strconv.ParseFloat(string(b), 64); err == nil && f == float64(int64(f)) {
		*n = looseInt(f)
	}
	return nil
}

// looseString decodes a string of the typed view from a JSON string or a
// number (keeping its literal), and is left empty for anything else.
type looseString string

func (s *looseString) UnmarshalJSON(b []byte) error {
	var v flexString
	if v.UnmarshalJSON(b) == nil {
		*s = looseString(v)
	}
	return nil
}
