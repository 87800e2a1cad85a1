package record

import (
	"github.com/ccc-enricher/ccc-enricher/internal/ccc"
	"github.com/ccc-enricher/ccc-enricher/internal/record/mask"
)

// maskPhones replaces the phone numbers in r with masked ones. The detail
// is masked as mask.MaskRaw would mask its JSON, so that push and detail
// agree on the phone fields (a transfer to a phone puts the number in
// TransferTo); r.Detail is replaced, never changed, since the caller may
// share it.
func maskPhones(r *Record) {
	r.Meta.PhonesMasked = true
	if r.Push != nil {
		r.Push = mask.MaskRaw(r.Push)
	}
	if r.Detail != nil {
		r.Detail = mask.MaskDetail(r.Detail)
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
