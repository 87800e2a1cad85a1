package tcemu

import (
	"embed"
	"encoding/json"
	"fmt"
	"time"
)

//go:embed samples/*.json
var sampleFiles embed.FS

// Sample is one embedded sample session, its timestamps shifted.
type Sample struct {
	SdkAppID  int64
	SessionID string
	// Shift is the number of seconds added to every sample timestamp.
	Shift int64
	// CDRPush is the body of the session's call-end push (action=cdr).
	CDRPush []byte
	// RecordPush is the body of a recording-ready push (action=record), or
	// nil when the session has no recording.
	RecordPush []byte
	// VoicemailPush is the body of a voicemail push (action=voicemail) for
	// the session; set for the documented session only.
	VoicemailPush []byte
	// Detail is the DescribeSessionDetail Response object (the value of
	// "Response", with the sample's RequestId), as stored in the Server.
	Detail []byte
	// Request is a DescribeSessionDetail request body whose window holds
	// the call; set for the documented session only.
	Request []byte
	// Others are the synthetic sessions, loaded too: an inbound call that
	// queued, was held twice and transferred once, with IVR and survey
	// keys; and an outbound call not answered (EndStatus 202). Set on the
	// documented session only.
	Others []Sample
}

// sampleSet names the files of one sample session in samples/.
var sampleSets = []struct{ detail, cdr, record, request string }{
	{"describe-session-detail.response.json", "push-cdr.json", "push-record.json", "describe-session-detail.request.json"},
	{"inbound-transfer.response.json", "inbound-transfer.push-cdr.json", "inbound-transfer.push-record.json", ""},
	{"outbound-noanswer.response.json", "outbound-noanswer.push-cdr.json", "", ""},
}

// LoadSamples stores the embedded sample sessions in s, every timestamp
// shifted by the same amount so that the documented call ended one minute
// before now, which puts all of them inside CCC's 180-day query window.
// Each session gets its detail (AddSession) and an explicit TelCdrInfo
// (AddCdr): the one derived from the detail, completed with the fields of
// the session's CDR push (but ServeParticipants), so that DescribeTelCdr
// and the push agree.
// It returns the documented session, with the synthetic ones in Others.
func LoadSamples(s *Server, now time.Time) (Sample, error) {
	var main struct {
		Response struct{ EndedTimestamp int64 }
	}
	if err := readSample(sampleSets[0].detail, 0, &main); err != nil {
		return Sample{}, err
	}
	shift := now.Unix() - 60 - main.Response.EndedTimestamp

	var all []Sample
	for _, set := range sampleSets {
		sm, err := loadSample(s, shift, set.detail, set.cdr, set.record, set.request)
		if err != nil {
			return Sample{}, err
		}
		all = append(all, sm)
	}
	all[0].Others = all[1:]
	var err error
	if all[0].VoicemailPush, err = shiftedSample("push-voicemail.json", shift); err != nil {
		return Sample{}, err
	}
	return all[0], nil
}

func loadSample(s *Server, shift int64, detailFile, cdrFile, recordFile, requestFile string) (Sample, error) {
	sm := Sample{Shift: shift}
	var err error
	if sm.CDRPush, err = shiftedSample(cdrFile, shift); err != nil {
		return sm, err
	}
	var push struct {
		SdkAppId  int64
		SessionId string
	}
	if err := json.Unmarshal(sm.CDRPush, &push); err != nil {
		return sm, fmt.Errorf("sample %s: %w", cdrFile, err)
	}
	sm.SdkAppID, sm.SessionID = push.SdkAppId, push.SessionId
	if recordFile != "" {
		if sm.RecordPush, err = shiftedSample(recordFile, shift); err != nil {
			return sm, err
		}
	}
	if requestFile != "" {
		if sm.Request, err = shiftedSample(requestFile, shift); err != nil {
			return sm, err
		}
	}
	var wrapped struct{ Response json.RawMessage }
	if err := readSample(detailFile, shift, &wrapped); err != nil {
		return sm, err
	}
	sm.Detail = wrapped.Response
	if err := s.AddSession(sm.SdkAppID, sm.SessionID, sm.Detail); err != nil {
		return sm, fmt.Errorf("sample %s: %w", detailFile, err)
	}

	s.mu.Lock()
	derived := s.sessions[sessionKey{sm.SdkAppID, sm.SessionID}].cdr.raw
	s.mu.Unlock()
	base, err := objectMembers(derived)
	if err != nil {
		return sm, fmt.Errorf("sample %s: %w", detailFile, err)
	}
	top, err := objectMembers(sm.CDRPush)
	if err != nil {
		return sm, fmt.Errorf("sample %s: %w", cdrFile, err)
	}
	// The push's ServeParticipants lack the legs' recording links, which
	// the API lists; keep the detail's.
	cdr, err := encodeObject(overlay(base, withoutMember(withoutMember(top, "SdkAppId"), "ServeParticipants")))
	if err != nil {
		return sm, fmt.Errorf("sample %s: %w", cdrFile, err)
	}
	if err := s.AddCdr(sm.SdkAppID, cdr); err != nil {
		return sm, fmt.Errorf("sample %s: %w", cdrFile, err)
	}
	return sm, nil
}

func shiftedSample(name string, shift int64) ([]byte, error) {
	b, err := sampleFiles.ReadFile("samples/" + name)
	if err != nil {
		return nil, fmt.Errorf("sample %s: %w", name, err)
	}
	if b, err = shiftTimestamps(b, shift); err != nil {
		return nil, fmt.Errorf("sample %s: %w", name, err)
	}
	return b, nil
}

func readSample(name string, shift int64, v any) error {
	b, err := shiftedSample(name, shift)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("sample %s: %w", name, err)
	}
	return nil
}
