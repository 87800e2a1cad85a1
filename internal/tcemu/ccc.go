package tcemu

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/ccc"
)

// The query windows of DescribeSessionDetail and DescribeTelCdr.
const (
	maxAge   = 180 * 24 * time.Hour
	maxRange = 90 * 24 * time.Hour
)

type sessionKey struct {
	app int64
	id  string
}

// session is a stored DescribeSessionDetail answer.
type session struct {
	detail     []member // without RequestId
	start, end int64    // StartTimeStamp, EndedTimestamp
	cdr        cdrEntry // derived from the detail
}

// cdrEntry is one TelCdrInfo as DescribeTelCdr lists it.
type cdrEntry struct {
	raw                       json.RawMessage
	sessionID, caller, callee string
	time                      int64
}

// sessionDetail holds the fields of a DescribeSessionDetail answer that the
// emulator reads; decoding into it also checks their JSON types.
type sessionDetail struct {
	Caller, Callee                                                                  string
	CallType                                                                        int64
	StartTimeStamp, RingTimestamp, AcceptTimestamp, EndedTimestamp, QueuedTimestamp int64
	StaffUserId                                                                     string
	EndStatus                                                                       int64
	QueuedSkillGroupId                                                              int64
	QueuedSkillGroupName                                                            string
	RecordURL, CustomRecordURL, AsrURL                                              string
	VoicemailRecordURL, VoicemailAsrURL                                             []string
	IVRKeyPressed, PostIVRKeyPressed                                                []json.RawMessage
	HungUpSide, UUI                                                                 string
	Events                                                                          []struct {
		StaffEventDetail struct {
			Staffs []struct{ Mail, StaffNumber string }
		}
	}
	ServeParticipants     []json.RawMessage
	SysHangupReason       int64
	SysHangupReasonString string
}

// AddSession stores a session's DescribeSessionDetail Response object
// (RequestId optional; a {"Response":{...}} wrapper is unwrapped). It also
// derives the session's TelCdrInfo for DescribeTelCdr, unless AddCdr gave
// one. Adding a session again replaces it.
func (s *Server) AddSession(sdkAppID int64, sessionID string, detail json.RawMessage) error {
	if sdkAppID <= 0 || sessionID == "" {
		return fmt.Errorf("add session %q: SdkAppId and SessionId are required", sessionID)
	}
	ms, err := objectMembers(detail)
	if err != nil {
		return fmt.Errorf("add session %s: %w", sessionID, err)
	}
	if len(ms) == 1 && ms[0].name == "Response" {
		if ms, err = objectMembers(ms[0].value); err != nil {
			return fmt.Errorf("add session %s: Response: %w", sessionID, err)
		}
	}
	ms = withoutMember(ms, "RequestId")
	obj, err := encodeObject(ms)
	if err != nil {
		return fmt.Errorf("add session %s: %w", sessionID, err)
	}
	var d sessionDetail
	if err := json.Unmarshal(obj, &d); err != nil {
		return fmt.Errorf("add session %s: %w", sessionID, err)
	}
	if d.StartTimeStamp <= 0 {
		return fmt.Errorf("add session %s: StartTimeStamp is required", sessionID)
	}
	cdr, err := deriveCdr(sessionID, &d)
	if err != nil {
		return fmt.Errorf("add session %s: %w", sessionID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions[sessionKey{sdkAppID, sessionID}] = &session{detail: ms, start: d.StartTimeStamp, end: d.EndedTimestamp, cdr: cdr}
	return nil
}

// AddCdr stores an explicit TelCdrInfo object for DescribeTelCdr. It must
// carry SessionId, and Time or StartTimestamp to place it in time. It
// takes the place of the one derived from the same session's detail.
func (s *Server) AddCdr(sdkAppID int64, cdr json.RawMessage) error {
	ms, err := objectMembers(cdr)
	if err != nil {
		return fmt.Errorf("add cdr: %w", err)
	}
	raw, err := encodeObject(ms)
	if err != nil {
		return fmt.Errorf("add cdr: %w", err)
	}
	var c struct {
		SessionId, Caller, Callee string
		Time, StartTimestamp      int64
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return fmt.Errorf("add cdr: %w", err)
	}
	if sdkAppID <= 0 || c.SessionId == "" {
		return errors.New("add cdr: SdkAppId and SessionId are required")
	}
	t := cmp.Or(c.Time, c.StartTimestamp)
	if t <= 0 {
		return fmt.Errorf("add cdr %s: Time or StartTimestamp is required", c.SessionId)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cdrs[sessionKey{sdkAppID, c.SessionId}] = cdrEntry{raw: raw, sessionID: c.SessionId, caller: c.Caller, callee: c.Callee, time: t}
	return nil
}

// HideSession answers FailedOperation.SessionNotExists to the next n
// DescribeSessionDetail calls for the session: in real CCC the detail lags
// the call-end push by a few seconds.
func (s *Server) HideSession(sessionID string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hidden[sessionID] = n
}

func (s *Server) describeSessionDetail(p map[string]json.RawMessage) ([]byte, *apiError) {
	var (
		app        int64
		id         string
		start, end int64
	)
	if e := decodeParams(p,
		param{"SdkAppId", true, &app},
		param{"SessionId", true, &id},
		param{"StartTimestamp", true, &start},
		param{"EndTimestamp", true, &end},
	); e != nil {
		return nil, e
	}
	if e := s.checkWindow("StartTimestamp", "EndTimestamp", start, end); e != nil {
		return nil, e
	}
	s.mu.Lock()
	hide := s.hidden[id] > 0
	if hide {
		s.hidden[id]--
	}
	sess := s.sessions[sessionKey{app, id}]
	s.mu.Unlock()
	// A call is found only when it lies wholly inside the window asked for.
	if hide || sess == nil || sess.start < start || max(sess.start, sess.end) > end {
		return nil, errorf("FailedOperation.SessionNotExists", "The session does not exist.")
	}
	b, err := encodeObject(sess.detail)
	if err != nil {
		return nil, internalError(err)
	}
	return b, nil
}

func (s *Server) describeTelCdr(p map[string]json.RawMessage) ([]byte, *apiError) {
	var (
		start, end, app, size, page int64
		instanceID, limit, offset   int64
		phones, ids                 []string
	)
	if e := decodeParams(p,
		param{"StartTimeStamp", true, &start},
		param{"EndTimeStamp", true, &end},
		param{"SdkAppId", true, &app},
		param{"PageSize", true, &size},
		param{"PageNumber", true, &page},
		// Deprecated, still accepted by the API, and ignored here.
		param{"InstanceId", false, &instanceID},
		param{"Limit", false, &limit},
		param{"Offset", false, &offset},
		param{"Phones", false, &phones},
		param{"SessionIds", false, &ids},
	); e != nil {
		return nil, e
	}
	if e := s.checkWindow("StartTimeStamp", "EndTimeStamp", start, end); e != nil {
		return nil, e
	}
	if size < 1 || size > 100 {
		return nil, errorf("InvalidParameterValue", "PageSize must be between 1 and 100.")
	}
	if page < 0 {
		return nil, errorf("InvalidParameterValue", "PageNumber must not be negative.")
	}

	list := s.telCdrs(app, start, end, phones, ids)
	items := []json.RawMessage{}
	// page ≤ len/size keeps page*size from overflowing.
	if n := int64(len(list)); page <= n/size {
		for _, c := range list[page*size : min(page*size+size, n)] {
			items = append(items, c.raw)
		}
	}
	b, err := marshal(struct {
		TotalCount int
		TelCdrList []json.RawMessage
		// The deprecated twin of TelCdrList, still returned.
		TelCdrs []json.RawMessage
	}{len(list), items, items})
	if err != nil {
		return nil, internalError(err)
	}
	return b, nil
}

// telCdrs lists the TelCdrInfo of an application whose time lies in
// [start, end] and, when phones or ids are given, that match one of them,
// in the order DescribeTelCdr pages them: by time, then SessionId. An
// explicit AddCdr entry stands for its session.
func (s *Server) telCdrs(app, start, end int64, phones, ids []string) []cdrEntry {
	s.mu.Lock()
	all := maps.Clone(s.cdrs)
	for k, sess := range s.sessions {
		if _, ok := all[k]; !ok {
			all[k] = sess.cdr
		}
	}
	s.mu.Unlock()

	var list []cdrEntry
	for k, c := range all {
		if k.app != app || c.time < start || c.time > end {
			continue
		}
		if len(phones) > 0 && !slices.Contains(phones, c.caller) && !slices.Contains(phones, c.callee) {
			continue
		}
		if len(ids) > 0 && !slices.Contains(ids, c.sessionID) {
			continue
		}
		list = append(list, c)
	}
	slices.SortFunc(list, func(a, b cdrEntry) int {
		return cmp.Or(cmp.Compare(a.time, b.time), strings.Compare(a.sessionID, b.sessionID))
	})
	return list
}

// checkWindow applies CCC's limits on a query window: it starts within the
// last 180 days and spans less than 90 days.
func (s *Server) checkWindow(startName, endName string, start, end int64) *apiError {
	now := s.opts.Now().Unix()
	switch {
	case end < start:
		return errorf("InvalidParameterValue", "%s must not be before %s.", endName, startName)
	case now-start > int64(maxAge/time.Second):
		return errorf("InvalidParameterValue", "%s must be within the last 180 days.", startName)
	case end-start >= int64(maxRange/time.Second):
		return errorf("InvalidParameterValue", "The range from %s to %s must be less than 90 days.", startName, endName)
	}
	return nil
}

// telCdrInfo is DescribeTelCdr's TelCdrInfo, fields in the order of the
// API's model.
type telCdrInfo struct {
	Caller                string
	Callee                string
	Time                  int64
	Direction             int64
	CallType              int64
	Duration              int64
	RecordURL             string
	RecordId              string
	SeatUser              *seatUserInfo `json:",omitempty"`
	EndStatus             int64
	SkillGroup            string
	CallerLocation        string
	IVRDuration           int64
	RingTimestamp         int64
	AcceptTimestamp       int64
	EndedTimestamp        int64
	IVRKeyPressed         []string
	IVRKeyPressedEx       []json.RawMessage
	HungUpSide            string
	ServeParticipants     []json.RawMessage
	SkillGroupId          int64
	EndStatusString       string
	StartTimestamp        int64
	QueuedTimestamp       int64
	PostIVRKeyPressed     []json.RawMessage
	PostIVRKeyPressedEx   []json.RawMessage
	QueuedSkillGroupId    int64
	SessionId             string
	ProtectedCaller       string
	ProtectedCallee       string
	Uui                   string
	UUI                   string
	AsrUrl                string
	AsrStatus             string
	CustomRecordURL       string
	Remark                string
	QueuedSkillGroupName  string
	VoicemailRecordURL    []string
	VoicemailAsrURL       []string
	AIAgentId             int64
	AIAgentName           string
	SysHangupReason       int64
	SysHangupReasonString string
}

type seatUserInfo struct {
	Name               string
	Mail               string
	StaffNumber        string
	Phone              string
	Nick               string
	UserId             string
	SkillGroupNameList []string
}

// deriveCdr builds the TelCdrInfo that DescribeTelCdr lists for a session
// from its detail. Fields the detail does not know (CallerLocation, the
// agent's name, the customer-side RecordId) are left empty; AddCdr gives
// them explicitly.
func deriveCdr(sessionID string, d *sessionDetail) (cdrEntry, error) {
	last, groups, err := servingParticipants(d)
	if err != nil {
		return cdrEntry{}, err
	}
	keys, err := ivrKeys(d)
	if err != nil {
		return cdrEntry{}, err
	}
	c := telCdrInfo{
		Caller:                d.Caller,
		Callee:                d.Callee,
		Time:                  d.StartTimeStamp,
		Direction:             direction(d.CallType),
		CallType:              d.CallType,
		Duration:              span(d.AcceptTimestamp, d.EndedTimestamp),
		RecordURL:             d.RecordURL,
		SeatUser:              seatUser(d, groups),
		EndStatus:             d.EndStatus,
		SkillGroup:            cmp.Or(last.SkillGroupName, d.QueuedSkillGroupName),
		IVRDuration:           span(d.StartTimeStamp, d.QueuedTimestamp),
		RingTimestamp:         d.RingTimestamp,
		AcceptTimestamp:       d.AcceptTimestamp,
		EndedTimestamp:        d.EndedTimestamp,
		IVRKeyPressed:         keys,
		IVRKeyPressedEx:       nonNil(d.IVRKeyPressed),
		HungUpSide:            d.HungUpSide,
		ServeParticipants:     nonNil(d.ServeParticipants),
		SkillGroupId:          cmp.Or(last.SkillGroupId, d.QueuedSkillGroupId),
		EndStatusString:       ccc.EndStatusName(d.EndStatus),
		StartTimestamp:        d.StartTimeStamp,
		QueuedTimestamp:       d.QueuedTimestamp,
		PostIVRKeyPressed:     nonNil(d.PostIVRKeyPressed),
		PostIVRKeyPressedEx:   nonNil(d.PostIVRKeyPressed),
		QueuedSkillGroupId:    d.QueuedSkillGroupId,
		SessionId:             sessionID,
		Uui:                   d.UUI,
		UUI:                   d.UUI,
		AsrUrl:                d.AsrURL,
		AsrStatus:             "NotExists",
		CustomRecordURL:       d.CustomRecordURL,
		QueuedSkillGroupName:  d.QueuedSkillGroupName,
		VoicemailRecordURL:    nonNil(d.VoicemailRecordURL),
		VoicemailAsrURL:       nonNil(d.VoicemailAsrURL),
		SysHangupReason:       d.SysHangupReason,
		SysHangupReasonString: d.SysHangupReasonString,
	}
	if d.AsrURL != "" {
		c.AsrStatus = "Complete"
	}
	raw, err := marshal(c)
	if err != nil {
		return cdrEntry{}, err
	}
	return cdrEntry{raw: raw, sessionID: sessionID, caller: d.Caller, callee: d.Callee, time: d.StartTimeStamp}, nil
}

// participant holds the fields of a ServeParticipants entry that a
// TelCdrInfo takes.
type participant struct {
	Mail           string
	SkillGroupId   int64
	SkillGroupName string
}

// servingParticipants returns the last participant, whose skill group the
// record names, and the distinct skill groups the staff member served in.
func servingParticipants(d *sessionDetail) (last participant, groups []string, err error) {
	for _, raw := range d.ServeParticipants {
		var p participant
		if err := json.Unmarshal(raw, &p); err != nil {
			return participant{}, nil, fmt.Errorf("ServeParticipants: %w", err)
		}
		last = p
		if p.Mail == d.StaffUserId && p.SkillGroupName != "" && !slices.Contains(groups, p.SkillGroupName) {
			groups = append(groups, p.SkillGroupName)
		}
	}
	return last, groups, nil
}

// ivrKeys returns the keys of IVRKeyPressed, in order. The entries of
// PostIVRKeyPressed are checked for the same form, so that AddSession
// refuses a detail of the wrong shape in either list.
func ivrKeys(d *sessionDetail) ([]string, error) {
	keys := []string{}
	for _, raw := range d.IVRKeyPressed {
		k, err := pressedKey(raw)
		if err != nil {
			return nil, fmt.Errorf("IVRKeyPressed: %w", err)
		}
		keys = append(keys, k)
	}
	for _, raw := range d.PostIVRKeyPressed {
		if _, err := pressedKey(raw); err != nil {
			return nil, fmt.Errorf("PostIVRKeyPressed: %w", err)
		}
	}
	return keys, nil
}

func pressedKey(raw json.RawMessage) (string, error) {
	var k struct{ Key string }
	err := json.Unmarshal(raw, &k)
	return k.Key, err
}

// direction is a TelCdrInfo's Direction: 0 for the inbound call types (2,
// inbound; 3, audio inbound), 1 otherwise.
func direction(callType int64) int64 {
	if callType == 2 || callType == 3 {
		return 0
	}
	return 1
}

// span returns to − from in seconds, or 0 when either did not happen (is
// zero) or to does not follow from.
func span(from, to int64) int64 {
	if from > 0 && to > from {
		return to - from
	}
	return 0
}

// seatUser is the SeatUser of the session's staff member, nil when no
// staff member took the call.
func seatUser(d *sessionDetail, groups []string) *seatUserInfo {
	if d.StaffUserId == "" {
		return nil
	}
	u := &seatUserInfo{Mail: d.StaffUserId, UserId: d.StaffUserId, SkillGroupNameList: nonNil(groups)}
	for _, e := range d.Events {
		for _, st := range e.StaffEventDetail.Staffs {
			if st.Mail == d.StaffUserId && st.StaffNumber != "" {
				u.StaffNumber = st.StaffNumber
			}
		}
	}
	return u
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// param is one request parameter of an action, decoded into dst.
type param struct {
	name     string
	required bool
	dst      any
}

// decodeParams checks a request body against an action's parameters the
// way the API does: an unknown name is UnknownParameter, an absent (or
// null) required one MissingParameter, a value of the wrong JSON type
// InvalidParameter.
func decodeParams(got map[string]json.RawMessage, ps ...param) *apiError {
	known := map[string]bool{}
	for _, p := range ps {
		known[p.name] = true
	}
	for _, name := range slices.Sorted(maps.Keys(got)) {
		if !known[name] {
			return errorf("UnknownParameter", "The parameter `%s` is not recognized.", name)
		}
	}
	for _, p := range ps {
		v, ok := got[p.name]
		if !ok || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			if p.required {
				return errorf("MissingParameter", "The request is missing a required parameter `%s`.", p.name)
			}
			continue
		}
		if err := json.Unmarshal(v, p.dst); err != nil {
			return errorf("InvalidParameter", "The value type of parameter `%s` is invalid.", p.name)
		}
	}
	return nil
}
