package ccc

import (
	"encoding/json"
	"errors"

	"github.com/ccc-enricher/ccc-enricher/internal/jsonwalk"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

// The models below mirror the API's JSON field for field: Go field names
// are the API's names, integers are int64 whatever their range, and no
// documented field is omitempty, so that a detail decoded and encoded again
// (as a record carries it) loses nothing. Cross-checked against the API
// documentation and tencentcloud-sdk-nodejs 4.1.313's ccc_models.d.ts.

// SessionDetail is the reply of DescribeSessionDetail: the details of one
// finished call. RecordURL, AsrURL and the voicemail links are signed and
// valid for 24 hours: never persist or log them; call again for fresh ones.
type SessionDetail struct {
	Caller string `json:"Caller"`
	Callee string `json:"Callee"`
	// CallType: 1 outbound, 2 inbound, 3 audio dial-in, 5 predictive
	// outbound, 6 internal call; see CallTypeName.
	CallType int64 `json:"CallType"`
	// StartTimeStamp is the call's start, Unix seconds. The capital S in
	// "TimeStamp" is the API's.
	StartTimeStamp  int64  `json:"StartTimeStamp"`
	RingTimestamp   int64  `json:"RingTimestamp"`
	AcceptTimestamp int64  `json:"AcceptTimestamp"`
	EndedTimestamp  int64  `json:"EndedTimestamp"`
	QueuedTimestamp int64  `json:"QueuedTimestamp"`
	StaffUserId     string `json:"StaffUserId"`
	// EndStatus: see EndStatusName.
	EndStatus            int64  `json:"EndStatus"`
	QueuedSkillGroupId   int64  `json:"QueuedSkillGroupId"`
	QueuedSkillGroupName string `json:"QueuedSkillGroupName"`
	// RecordURL is signed and valid for 24 hours.
	RecordURL string `json:"RecordURL"`
	// CustomRecordURL is the recording copied to the customer's own bucket.
	CustomRecordURL string `json:"CustomRecordURL"`
	// AsrURL is signed and valid for 24 hours.
	AsrURL             string   `json:"AsrURL"`
	VoicemailRecordURL []string `json:"VoicemailRecordURL"`
	VoicemailAsrURL    []string `json:"VoicemailAsrURL"`
	// IVRKeyPressed are the IVR keys; PostIVRKeyPressed the satisfaction
	// survey's.
	IVRKeyPressed     []IVRKeyPressedElement `json:"IVRKeyPressed"`
	PostIVRKeyPressed []IVRKeyPressedElement `json:"PostIVRKeyPressed"`
	// HungUpSide is "seat", "user" or "system".
	HungUpSide string `json:"HungUpSide"`
	// UUI is the customer's User-to-User Information.
	UUI                   string             `json:"UUI"`
	Events                []SessionEvent     `json:"Events"`
	ServeParticipants     []ServeParticipant `json:"ServeParticipants"`
	SysHangupReason       int64              `json:"SysHangupReason"`
	SysHangupReasonString string             `json:"SysHangupReasonString"`

	// RequestID is the RequestId of the reply the detail came from, for
	// support requests. It is not part of the detail's JSON form.
	RequestID string `json:"-"`
	// Raw is the Response object as the API returned it, less its
	// RequestId: every field, known to this program or not, and none it
	// did not send. The typed fields above are decoded from it for the
	// metrics. Nil for a detail made in code.
	Raw json.RawMessage `json:"-"`
}

// IVRKeyPressedElement is one IVR or survey input.
type IVRKeyPressedElement struct {
	// Key is the key pressed or the keyword hit.
	Key   string `json:"Key"`
	Label string `json:"Label"`
	// Timestamp is in Unix milliseconds, unlike the other timestamps.
	Timestamp int64  `json:"Timestamp"`
	NodeLabel string `json:"NodeLabel"`
	// OriginalContent is the user's raw input.
	OriginalContent string `json:"OriginalContent"`
	TTSPrompt       string `json:"TTSPrompt"`
}

// SessionEvent is one in-call event.
type SessionEvent struct {
	// Timestamp is in Unix seconds.
	Timestamp int64 `json:"Timestamp"`
	// EventType is StaffHold, StaffUnhold, StaffMute or StaffUnmute (so far).
	EventType        string           `json:"EventType"`
	StaffEventDetail StaffEventDetail `json:"StaffEventDetail"`
}

// StaffEventDetail names the agents of an event (EventStaffDetail in the
// API's models).
type StaffEventDetail struct {
	Staffs []EventStaff `json:"Staffs"`
}

// EventStaff is one agent of an event (EventStaffElement in the API's
// models).
type EventStaff struct {
	Mail        string `json:"Mail"`
	StaffNumber string `json:"StaffNumber"`
}

// ServeParticipant is one service leg of a call: an agent, a transfer.
type ServeParticipant struct {
	Mail            string `json:"Mail"`
	Phone           string `json:"Phone"`
	RingTimestamp   int64  `json:"RingTimestamp"`
	AcceptTimestamp int64  `json:"AcceptTimestamp"`
	EndedTimestamp  int64  `json:"EndedTimestamp"`
	RecordId        string `json:"RecordId"`
	// Type is staffSeat, outboundSeat or staffPhoneSeat; so are the
	// TransferFromType and TransferToType.
	Type             string `json:"Type"`
	TransferFrom     string `json:"TransferFrom"`
	TransferFromType string `json:"TransferFromType"`
	TransferTo       string `json:"TransferTo"`
	TransferToType   string `json:"TransferToType"`
	SkillGroupId     int64  `json:"SkillGroupId"`
	EndStatusString  string `json:"EndStatusString"`
	// RecordURL is signed and valid for 24 hours.
	RecordURL string `json:"RecordURL"`
	// Sequence numbers the legs from 0.
	Sequence        int64  `json:"Sequence"`
	StartTimestamp  int64  `json:"StartTimestamp"`
	SkillGroupName  string `json:"SkillGroupName"`
	CustomRecordURL string `json:"CustomRecordURL"`
}

// TelCdrInfo is one call record of DescribeTelCdr.
type TelCdrInfo struct {
	Caller string `json:"Caller"`
	Callee string `json:"Callee"`
	// Time is when the call was placed, Unix seconds.
	Time int64 `json:"Time"`
	// Direction: 0 inbound, 1 outbound.
	Direction int64 `json:"Direction"`
	CallType  int64 `json:"CallType"`
	// Duration is in seconds.
	Duration  int64        `json:"Duration"`
	RecordURL string       `json:"RecordURL"`
	RecordId  string       `json:"RecordId"`
	SeatUser  SeatUserInfo `json:"SeatUser"`
	EndStatus int64        `json:"EndStatus"`
	// SkillGroup is the skill group's name.
	SkillGroup     string `json:"SkillGroup"`
	CallerLocation string `json:"CallerLocation"`
	// IVRDuration is in seconds.
	IVRDuration     int64 `json:"IVRDuration"`
	RingTimestamp   int64 `json:"RingTimestamp"`
	AcceptTimestamp int64 `json:"AcceptTimestamp"`
	EndedTimestamp  int64 `json:"EndedTimestamp"`
	// IVRKeyPressed is deprecated in favour of IVRKeyPressedEx.
	IVRKeyPressed     []string               `json:"IVRKeyPressed"`
	IVRKeyPressedEx   []IVRKeyPressedElement `json:"IVRKeyPressedEx"`
	HungUpSide        string                 `json:"HungUpSide"`
	ServeParticipants []ServeParticipant     `json:"ServeParticipants"`
	SkillGroupId      int64                  `json:"SkillGroupId"`
	EndStatusString   string                 `json:"EndStatusString"`
	StartTimestamp    int64                  `json:"StartTimestamp"`
	QueuedTimestamp   int64                  `json:"QueuedTimestamp"`
	// PostIVRKeyPressed is deprecated in favour of PostIVRKeyPressedEx.
	PostIVRKeyPressed   []IVRKeyPressedElement `json:"PostIVRKeyPressed"`
	PostIVRKeyPressedEx []IVRKeyPressedElement `json:"PostIVRKeyPressedEx"`
	QueuedSkillGroupId  int64                  `json:"QueuedSkillGroupId"`
	SessionId           string                 `json:"SessionId"`
	// ProtectedCaller and ProtectedCallee replace Caller and Callee when
	// number protection is on.
	ProtectedCaller string `json:"ProtectedCaller"`
	ProtectedCallee string `json:"ProtectedCallee"`
	// Uui is deprecated in favour of UUI.
	Uui string `json:"Uui"`
	UUI string `json:"UUI"`
	// AsrUrl is signed; AsrStatus is Complete, Processing or NotExists.
	AsrUrl                string   `json:"AsrUrl"`
	AsrStatus             string   `json:"AsrStatus"`
	CustomRecordURL       string   `json:"CustomRecordURL"`
	Remark                string   `json:"Remark"`
	QueuedSkillGroupName  string   `json:"QueuedSkillGroupName"`
	VoicemailRecordURL    []string `json:"VoicemailRecordURL"`
	VoicemailAsrURL       []string `json:"VoicemailAsrURL"`
	AIAgentId             int64    `json:"AIAgentId"`
	AIAgentName           string   `json:"AIAgentName"`
	SysHangupReason       int64    `json:"SysHangupReason"`
	SysHangupReasonString string   `json:"SysHangupReasonString"`

	// Raw is the record as the API listed it, every field kept; the typed
	// fields above are decoded from it. Nil for a record made in code.
	Raw json.RawMessage `json:"-"`
}

// SeatUserInfo is the agent of a TelCdrInfo.
type SeatUserInfo struct {
	Name        string `json:"Name"`
	Mail        string `json:"Mail"`
	StaffNumber string `json:"StaffNumber"`
	// Phone carries the 0086 prefix.
	Phone              string   `json:"Phone"`
	Nick               string   `json:"Nick"`
	UserId             string   `json:"UserId"`
	SkillGroupNameList []string `json:"SkillGroupNameList"`
	// Role: 1 administrator, 2 quality inspector, 3 agent, else a custom
	// role's id.
	Role            int64  `json:"Role"`
	ExtensionNumber string `json:"ExtensionNumber"`
}

// DescribeSessionDetailRequest is the request of DescribeSessionDetail.
type DescribeSessionDetailRequest struct {
	SdkAppId  int64  `json:"SdkAppId"`
	SessionId string `json:"SessionId"`
	// StartTimestamp lies within the last 180 days; EndTimestamp −
	// StartTimestamp is under 90 days. See QueryWindow.
	StartTimestamp int64 `json:"StartTimestamp"`
	EndTimestamp   int64 `json:"EndTimestamp"`
}

// DescribeSessionDetailResponse is the Response object of
// DescribeSessionDetail.
type DescribeSessionDetailResponse struct {
	SessionDetail
	RequestId string `json:"RequestId"`
}

// DescribeTelCdrRequest is the request of DescribeTelCdr. Note the
// "TimeStamp" spelling, unlike DescribeSessionDetail's.
type DescribeTelCdrRequest struct {
	StartTimeStamp int64 `json:"StartTimeStamp"`
	EndTimeStamp   int64 `json:"EndTimeStamp"`
	SdkAppId       int64 `json:"SdkAppId"`
	// PageSize is at most 100; PageNumber counts from 0.
	PageSize   int64 `json:"PageSize"`
	PageNumber int64 `json:"PageNumber"`
	// InstanceId, Limit and Offset are deprecated.
	InstanceId int64    `json:"InstanceId,omitempty"`
	Limit      int64    `json:"Limit,omitempty"`
	Offset     int64    `json:"Offset,omitempty"`
	Phones     []string `json:"Phones,omitempty"`
	SessionIds []string `json:"SessionIds,omitempty"`
}

// TelCdrPage is one page of DescribeTelCdr: its Response object less
// RequestId.
type TelCdrPage struct {
	// TotalCount counts the records of the whole query, all pages.
	TotalCount int64        `json:"TotalCount"`
	TelCdrList []TelCdrInfo `json:"TelCdrList"`
	// TelCdrs is the deprecated twin of TelCdrList.
	TelCdrs []TelCdrInfo `json:"TelCdrs"`

	// RequestID is the RequestId of the reply; not part of the JSON form.
	RequestID string `json:"-"`
}

// DescribeTelCdrResponse is the Response object of DescribeTelCdr.
type DescribeTelCdrResponse struct {
	TelCdrPage
	RequestId string `json:"RequestId"`
}

// UnmarshalJSON keeps the record as listed in Raw, and decodes the typed
// fields tolerantly: a field of a surprising type is left out of them, not
// a reason to lose the page.
func (c *TelCdrInfo) UnmarshalJSON(b []byte) error {
	type plain TelCdrInfo
	err := json.Unmarshal(b, (*plain)(c))
	if _, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		err = nil
	}
	c.Raw = append(json.RawMessage(nil), b...)
	return err
}

// DecodeSessionDetail decodes the Response object of a DescribeSessionDetail
// reply: the typed view, and the reply itself, less RequestId, as Raw. A
// field of a surprising type is left out of the typed view (encoding/json
// goes on past it) but kept in Raw: the API adding or retyping a field must
// not cost the call its record. Its error is permanent.
func DecodeSessionDetail(raw json.RawMessage) (*SessionDetail, error) {
	var resp DescribeSessionDetailResponse
	if err := json.Unmarshal(raw, &resp); err != nil {
		if _, ok := errors.AsType[*json.UnmarshalTypeError](err); !ok {
			return nil, retry.Permanent(errors.New("DescribeSessionDetail: decode reply: not a session detail"))
		}
	}
	d := resp.SessionDetail
	d.RequestID = resp.RequestId
	d.Raw, _ = jsonwalk.Without(raw, "RequestId")
	return &d, nil
}
