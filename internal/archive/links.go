package archive

import (
	"encoding/json"

	"github.com/ccc-enricher/ccc-enricher/internal/jsonwalk"
)

// signedLinks are the members, at any depth, that hold links CCC signs for
// 24 hours: in DescribeSessionDetail, DescribeTelCdr items and the record
// and voicemail pushes. CustomRecordURL, the customer's own copy, is kept.
var signedLinks = map[string]bool{
	"RecordURL": true, "AsrURL": true, "AsrUrl": true,
	"VoicemailRecordURL": true, "VoicemailAsrURL": true,
}

// withoutLinks returns raw with every signed link emptied: a string
// member becomes "" and an array of them [], so the shape the API
// documents stays and the other members keep their order and bytes. It
// returns raw itself when there is nothing to cut.
func withoutLinks(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return raw
	}
	var out []byte
	last := 0
	w := jsonwalk.New(raw)
	for w.Next() {
		t := w.Token()
		if !signedLinks[string(t.Key)] {
			continue
		}
		switch t.Kind {
		case jsonwalk.String:
			out = append(append(out, raw[last:t.Start]...), `""`...)
			last = t.End
		case jsonwalk.ArrayStart:
			end := arrayEnd(&w, t.Depth)
			out = append(append(out, raw[last:t.Start]...), `[]`...)
			last = end
		}
	}
	if out == nil {
		return raw
	}
	return append(out, raw[last:]...)
}

// arrayEnd walks w to the end of the array just started at depth and
// returns the offset after its closing bracket.
func arrayEnd(w *jsonwalk.Walker, depth int) int {
	for w.Next() {
		if t := w.Token(); t.Kind == jsonwalk.ArrayEnd && t.Depth == depth {
			return t.End
		}
	}
	return 0
}
