package record

import (
	"encoding/json"

	"github.com/ccc-enricher/ccc-enricher/internal/ccc"
	"github.com/ccc-enricher/ccc-enricher/internal/push"
)

// mask replaces the phone numbers in r with masked ones. The detail goes
// through push.MaskRaw like the push, so that both know the same phone
// fields (a transfer to a phone puts the number in TransferTo); r.Detail is
// replaced, never changed, since the caller may share it.
func mask(r *Record) {
	r.Meta.PhonesMasked = true
	if r.Push != nil {
		r.Push = push.MaskRaw(r.Push)
	}
	if r.Detail == nil {
		return
	}
	var d ccc.SessionDetail
	b, err := json.Marshal(r.Detail)
	if err == nil {
		err = json.Unmarshal(push.MaskRaw(b), &d)
	}
	if err != nil {
		// Cannot happen for a decoded detail; never let a number through.
		r.Detail, r.DetailError, r.Completeness = nil, "detail withheld: it could not be masked", Partial
		return
	}
	d.RequestID = r.Detail.RequestID
	r.Detail = &d
}

// hasSignedLinks reports whether d carries links that expire.
func hasSignedLinks(d *ccc.SessionDetail) bool {
	if d.RecordURL != "" || d.AsrURL != "" || len(d.VoicemailRecordURL) > 0 || len(d.VoicemailAsrURL) > 0 {
		return true
	}
	for _, p := range d.ServeParticipants {
		if p.RecordURL != "" {
			return true
		}
	}
	return false
}
