package mask

import "github.com/ccc-enricher/ccc-enricher/internal/ccc"

// MaskDetail returns a copy of d with the phone numbers masked as MaskRaw
// masks them in d's JSON: Caller, Callee, ServeParticipants[].Phone, and
// ServeParticipants[].TransferFrom and TransferTo when they look like a
// number (a transfer to a phone puts the number there). No other field of
// SessionDetail has a phone-like name; TestMaskDetailAsMaskRaw fails if one
// comes. d itself is not changed, since the caller may share it.
func MaskDetail(d *ccc.SessionDetail) *ccc.SessionDetail {
	m := *d
	m.Caller, m.Callee = MaskPhone(d.Caller), MaskPhone(d.Callee)
	if d.ServeParticipants != nil {
		m.ServeParticipants = make([]ccc.ServeParticipant, len(d.ServeParticipants))
		for i, p := range d.ServeParticipants {
			p.Phone = MaskPhone(p.Phone)
			p.TransferFrom, p.TransferTo = maskIfPhone(p.TransferFrom), maskIfPhone(p.TransferTo)
			m.ServeParticipants[i] = p
		}
	}
	return &m
}

// maskIfPhone masks s if it looks like a phone number rather than an
// agent's mail.
func maskIfPhone(s string) string {
	if looksLikePhone([]byte(s)) {
		return MaskPhone(s)
	}
	return s
}
