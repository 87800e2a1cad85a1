package record

import (
	"slices"

	"github.com/ccc-enricher/ccc-enricher/ccc"
	"github.com/ccc-enricher/ccc-enricher/push"
)

// mask replaces the phone numbers in r with masked ones. Detail is copied
// first: it may be shared with the caller.
func mask(r *Record) {
	r.Meta.PhonesMasked = true
	if r.Push != nil {
		r.Push = push.MaskRaw(r.Push)
	}
	if r.Detail == nil {
		return
	}
	d := *r.Detail
	d.Caller = push.MaskPhone(d.Caller)
	d.Callee = push.MaskPhone(d.Callee)
	d.ServeParticipants = slices.Clone(d.ServeParticipants)
	for i := range d.ServeParticipants {
		d.ServeParticipants[i].Phone = push.MaskPhone(d.ServeParticipants[i].Phone)
	}
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
