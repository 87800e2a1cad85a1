package reconcile

import (
	"cmp"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/ccc"
	"github.com/ccc-enricher/ccc-enricher/internal/push"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

// cdrPush is the body of an action=cdr push, with the fields, names and
// JSON types of CCC's documented sample, so that a reconciled record
// carries the same "push" as a pushed one, and no field a push never has.
// What DescribeTelCdr lists beyond it (RecordURL, AsrUrl, SkillGroup,
// AsrStatus, ProtectedCaller, the AI agent…) is in the record's cdrList,
// the item as listed.
type cdrPush struct {
	SdkAppId             int64
	SessionId            string
	Caller               string
	Callee               string
	Direction            int64
	CallType             int64
	Duration             int64
	SeatUser             *seatUser `json:",omitempty"`
	CallerLocation       string
	IVRDuration          int64
	RingTimestamp        int64
	AcceptTimestamp      int64
	EndedTimestamp       int64
	StartTimestamp       int64
	IVRKeyPressed        []string
	IVRKeyPressedEx      []ccc.IVRKeyPressedElement
	HungUpSide           string
	ServeParticipants    []participant
	EndStatusString      string
	QueuedTimestamp      int64
	PostIVRKeyPressed    []ccc.IVRKeyPressedElement
	QueuedSkillGroupName string
	QueuedSkillGroupId   int64
	RecordId             string
	// The push documents UserRemark and Uui but its sample has neither:
	// they are sent only when set.
	UserRemark string `json:",omitempty"`
	Uui        string `json:",omitempty"`
}

// seatUser is the push's SeatUser: DescribeTelCdr's SeatUserInfo less Role
// and ExtensionNumber, which the push does not carry.
type seatUser struct {
	Mail               string
	StaffNumber        string
	Name               string
	Nick               string
	Phone              string
	UserId             string
	SkillGroupNameList []string
}

// participant is a push's ServeParticipants element: DescribeTelCdr's
// less the legs' RecordURL and CustomRecordURL. RecordURL is signed and
// expires; both are in the detail.
type participant struct {
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

// CDRPush returns the action=cdr push body CCC would have sent for a call
// that DescribeTelCdr lists for the application sdkAppID.
//
// The fields are the push's own (see cdrPush); PostIVRKeyPressed is the
// list's PostIVRKeyPressedEx (its deprecated PostIVRKeyPressed when that is
// empty), Uui its UUI (or deprecated Uui), UserRemark its Remark, and a
// StartTimestamp of zero is taken from Time. Empty lists are [] as in the
// push, never null.
func CDRPush(sdkAppID int64, c ccc.TelCdrInfo) ([]byte, error) {
	b := cdrPush{
		SdkAppId:             sdkAppID,
		SessionId:            c.SessionId,
		Caller:               c.Caller,
		Callee:               c.Callee,
		Direction:            c.Direction,
		CallType:             c.CallType,
		Duration:             c.Duration,
		CallerLocation:       c.CallerLocation,
		IVRDuration:          c.IVRDuration,
		RingTimestamp:        c.RingTimestamp,
		AcceptTimestamp:      c.AcceptTimestamp,
		EndedTimestamp:       c.EndedTimestamp,
		StartTimestamp:       cmp.Or(c.StartTimestamp, c.Time),
		IVRKeyPressed:        nonNil(c.IVRKeyPressed),
		IVRKeyPressedEx:      nonNil(c.IVRKeyPressedEx),
		HungUpSide:           c.HungUpSide,
		ServeParticipants:    make([]participant, 0, len(c.ServeParticipants)),
		EndStatusString:      c.EndStatusString,
		QueuedTimestamp:      c.QueuedTimestamp,
		PostIVRKeyPressed:    nonNil(c.PostIVRKeyPressedEx),
		QueuedSkillGroupName: c.QueuedSkillGroupName,
		QueuedSkillGroupId:   c.QueuedSkillGroupId,
		RecordId:             c.RecordId,
		UserRemark:           c.Remark,
		Uui:                  cmp.Or(c.UUI, c.Uui),
	}
	if len(c.PostIVRKeyPressedEx) == 0 {
		b.PostIVRKeyPressed = nonNil(c.PostIVRKeyPressed)
	}
	if u := c.SeatUser; u.Mail+u.UserId+u.StaffNumber+u.Name+u.Nick+u.Phone != "" || len(u.SkillGroupNameList) > 0 {
		b.SeatUser = &seatUser{
			Mail: u.Mail, StaffNumber: u.StaffNumber, Name: u.Name, Nick: u.Nick,
			Phone: u.Phone, UserId: u.UserId, SkillGroupNameList: nonNil(u.SkillGroupNameList),
		}
	}
	for _, p := range c.ServeParticipants {
		b.ServeParticipants = append(b.ServeParticipants, participant{
			AcceptTimestamp: p.AcceptTimestamp, EndStatusString: p.EndStatusString, EndedTimestamp: p.EndedTimestamp,
			Mail: p.Mail, Phone: p.Phone, RecordId: p.RecordId, RingTimestamp: p.RingTimestamp,
			Sequence: p.Sequence, SkillGroupId: p.SkillGroupId, SkillGroupName: p.SkillGroupName,
			StartTimestamp: p.StartTimestamp, TransferFrom: p.TransferFrom, TransferFromType: p.TransferFromType,
			TransferTo: p.TransferTo, TransferToType: p.TransferToType, Type: p.Type,
		})
	}
	body, err := json.Marshal(b)
	if err != nil {
		return nil, retry.Permanent(fmt.Errorf("encode cdr of session %q: %w", c.SessionId, err))
	}
	return body, nil
}

// ParseCall turns a listed call into the push it stands for, validated by
// push.Parse exactly as a real push (now bounds its timestamps). The error
// is permanent: CCC's list holds a call no push could carry.
func ParseCall(sdkAppID int64, c ccc.TelCdrInfo, now time.Time) (*push.Push, error) {
	body, err := CDRPush(sdkAppID, c)
	if err != nil {
		return nil, err
	}
	p, err := push.Parse(push.KindCDR, body, now)
	if err != nil {
		return nil, fmt.Errorf("listed call: %w", err)
	}
	return p, nil
}

// endOf is when a listed call ended, the time that puts it in a slot: its
// EndedTimestamp, else its start.
func endOf(c ccc.TelCdrInfo) int64 {
	return cmp.Or(c.EndedTimestamp, c.StartTimestamp, c.Time)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
