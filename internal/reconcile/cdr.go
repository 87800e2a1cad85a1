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

// CDRPush returns the action=cdr push body CCC would have sent for a call
// that DescribeTelCdr lists for the application sdkAppID.
//
// The fields are the push's own (see push.CDR); what else the list has is
// in the record's cdrList. PostIVRKeyPressed is the
// list's PostIVRKeyPressedEx (its deprecated PostIVRKeyPressed when that is
// empty), Uui its UUI (or deprecated Uui), UserRemark its Remark, and a
// StartTimestamp of zero is taken from Time. Empty lists are [] as in the
// push, never null.
func CDRPush(sdkAppID int64, c ccc.TelCdrInfo) ([]byte, error) {
	b := push.CDR{
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
		ServeParticipants:    make([]push.Participant, 0, len(c.ServeParticipants)),
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
		b.SeatUser = &push.SeatUser{
			Mail: u.Mail, StaffNumber: u.StaffNumber, Name: u.Name, Nick: u.Nick,
			Phone: u.Phone, UserId: u.UserId, SkillGroupNameList: nonNil(u.SkillGroupNameList),
		}
	}
	for _, p := range c.ServeParticipants {
		b.ServeParticipants = append(b.ServeParticipants, push.Participant{
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
