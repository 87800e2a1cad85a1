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
	type participant struct {
		Mail           string
		SkillGroupId   int64
		SkillGroupName string
	}
	var last participant
	var groups []string
	for _, raw := range d.ServeParticipants {
		var p participant
		if err := json.Unmarshal(raw, &p); err != nil {
			return cdrEntry{}, fmt.Errorf("ServeParticipants: %w", err)
		}
		last = p
		if p.Mail == d.StaffUserId && p.SkillGroupName != "" && !slices.Contains(groups, p.SkillGroupName) {
			groups = append(groups, p.SkillGroupName)
		}
	}
	keys := []string{}
	for _, raw := range d.IVRKeyPressed {
		var k struct{ Key string }
		if err := json.Unmarshal(raw, &k); err != nil {
			return cdrEntry{}, fmt.Errorf("IVRKeyPressed: %w", err)
		}
		keys = append(keys, k.Key)
	}
	for _, raw := range d.PostIVRKeyPressed {
		var k struct{ Key string }
		if err := json.Unmarshal(raw, &k); err != nil {
			return cdrEntry{}, fmt.Errorf("PostIVRKeyPressed: %w", err)
		}
	}

	c := telCdrInfo{
		Caller:                d.Caller,
		Callee:                d.Callee,
		Time:                  d.StartTimeStamp,
		Direction:             1,
		CallType:              d.CallType,
		RecordURL:             d.RecordURL,
		EndStatus:             d.EndStatus,
		SkillGroup:            cmp.Or(last.SkillGroupName, d.QueuedSkillGroupName),
		RingTimestamp:         d.RingTimestamp,
		AcceptTimestamp:       d.AcceptTimestamp,
		EndedTimestamp:        d.EndedTimestamp,
		IVRKeyPressed:         keys,
		IVRKeyPressedEx:       nonNil(d.IVRKeyPressed),
		HungUpSide:            d.HungUpSide,
		ServeParticipants:     nonNil(d.ServeParticipants),
		SkillGroupId:          cmp.Or(last.SkillGroupId, d.QueuedSkillGroupId),
		EndStatusString:       endStatusString[d.EndStatus],
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
	if d.CallType == 2 || d.CallType == 3 { // inbound, audio inbound
		c.Direction = 0
	}
	if d.AcceptTimestamp > 0 && d.EndedTimestamp > d.AcceptTimestamp {
		c.Duration = d.EndedTimestamp - d.AcceptTimestamp
	}
	if d.QueuedTimestamp > 0 && d.QueuedTimestamp > d.StartTimeStamp {
		c.IVRDuration = d.QueuedTimestamp - d.StartTimeStamp
	}
	if d.AsrURL != "" {
		c.AsrStatus = "Complete"
	}
	if d.StaffUserId != "" {
		u := &seatUserInfo{Mail: d.StaffUserId, UserId: d.StaffUserId, SkillGroupNameList: nonNil(groups)}
		for _, e := range d.Events {
			for _, st := range e.StaffEventDetail.Staffs {
				if st.Mail == d.StaffUserId && st.StaffNumber != "" {
					u.StaffNumber = st.StaffNumber
				}
			}
		}
		c.SeatUser = u
	}
	raw, err := marshal(c)
	if err != nil {
		return cdrEntry{}, err
	}
	return cdrEntry{raw: raw, sessionID: sessionID, caller: d.Caller, callee: d.Callee, time: d.StartTimeStamp}, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// endStatusString is the EndStatus → EndStatusString table of the API.
var endStatusString = map[int64]string{
	1: "ok", 100: "blackList", 102: "ivrGiveUp", 103: "waitingGiveUp", 104: "ringingGiveUp",
	105: "noSeatOnline", 106: "notWorkTime", 107: "ivrEnd", 108: "restrictedCallee",
	109: "tooManyRequest", 110: "restrictedArea", 111: "restrictedTime", 202: "notAnswer",
	203: "userReject", 204: "powerOff", 205: "numberNotExist", 206: "busy", 207: "outOfCredit",
	208: "operatorError", 209: "callerCancel", 210: "notInService", 211: "clientError",
	212: "carrierBlocked", 213: "callReminder", 215: "numberInvalid", 216: "callRestricted",
	217: "calleeRestricted", 218: "areaRestricted", 219: "promptCallForwarding",
	220: "callerCancelWhileRing", 221: "callerCancelWithoutRing", 222: "voiceMailReached",
	501: "callConflict", 502: "clientTimeout", 503: "voipClientError",
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
