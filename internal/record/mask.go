package record

import (
	"github.com/ccc-enricher/ccc-enricher/internal/ccc"
	"github.com/ccc-enricher/ccc-enricher/internal/record/mask"
)

// maskPhones replaces the phone numbers in r with masked ones. Push and
// detail go through mask.MaskRaw alike, so that they agree on the phone
// fields (a transfer to a phone puts the number in TransferTo); both are
// replaced, never changed, since the caller may share them.
func maskPhones(r *Record) {
	r.Meta.PhonesMasked = true
	if r.Push != nil {
		r.Push = mask.MaskRaw(r.Push)
	}
	if r.Detail != nil {
		r.Detail = mask.MaskRaw(r.Detail)
	}
	if r.CDRList != nil {
		r.CDRList = mask.MaskRaw(r.CDRList)
	}
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
