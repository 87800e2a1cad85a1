package tcemu_test

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/tcemu"
)

// The samples in samples/ are copies of shared/samples/ and the synthetic
// ones; every timestamp moves by Shift (×1000 for Unix milliseconds), zero
// stays zero, and every other byte stays as it was.
func TestLoadSamples(t *testing.T) {
	const origEnded = 1756892230 // EndedTimestamp of the documented call
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	emu := tcemu.New(tcemu.Options{SecretID: testID, SecretKey: testKey})
	sm, err := tcemu.LoadSamples(emu, now)
	if err != nil {
		t.Fatal(err)
	}
	if want := now.Unix() - 60 - origEnded; sm.Shift != want {
		t.Fatalf("Shift = %d, want %d", sm.Shift, want)
	}
	if sm.SdkAppID != 1400000000 || sm.SessionID != "0f507d5d-e1e4-436e-a655-1d6c75a79b4f" || len(sm.Others) != 2 {
		t.Fatalf("sample = %d %s, %d others", sm.SdkAppID, sm.SessionID, len(sm.Others))
	}
	var d struct{ EndedTimestamp int64 }
	json.Unmarshal(sm.Detail, &d)
	if d.EndedTimestamp != now.Unix()-60 {
		t.Errorf("the call ended at %d, want %d", d.EndedTimestamp, now.Unix()-60)
	}

	type pair struct {
		file    string
		shifted []byte
	}
	var pairs []pair
	files := map[string][2]string{
		sm.SessionID:           {"describe-session-detail", "push"},
		sm.Others[0].SessionID: {"inbound-transfer", "inbound-transfer.push"},
		sm.Others[1].SessionID: {"outbound-noanswer", "outbound-noanswer.push"},
	}
	for _, s := range append([]tcemu.Sample{sm}, sm.Others...) {
		if s.Shift != sm.Shift {
			t.Errorf("%s: Shift %d", s.SessionID, s.Shift)
		}
		f := files[s.SessionID]
		pairs = append(pairs, pair{f[1] + "-cdr.json", s.CDRPush})
		if s.RecordPush != nil {
			pairs = append(pairs, pair{f[1] + "-record.json", s.RecordPush})
		}
		var orig struct{ Response json.RawMessage }
		json.Unmarshal(readFile(t, "samples/"+f[0]+".response.json"), &orig)
		compareShift(t, f[0], orig.Response, s.Detail, sm.Shift)
	}
	pairs = append(pairs, pair{"describe-session-detail.request.json", sm.Request})
	if len(pairs) != 6 {
		t.Errorf("%d documents, want 6", len(pairs))
	}
	for _, p := range pairs {
		compareShift(t, p.file, readFile(t, "samples/"+p.file), p.shifted, sm.Shift)
	}

	// The copies are the shared samples, byte for byte.
	for _, f := range []string{"describe-session-detail.request.json", "describe-session-detail.response.json", "push-cdr.json", "push-record.json"} {
		shared, err := os.ReadFile("../../../shared/samples/" + f)
		if err != nil {
			t.Logf("shared/samples not beside the repository: %v", err)
			break
		}
		if !bytes.Equal(shared, readFile(t, "samples/"+f)) {
			t.Errorf("samples/%s differs from shared/samples/%s", f, f)
		}
	}
}

// With a zero shift the documents are the files themselves.
func TestLoadSamplesZeroShift(t *testing.T) {
	emu := tcemu.New(tcemu.Options{SecretID: testID, SecretKey: testKey})
	sm, err := tcemu.LoadSamples(emu, time.Unix(1756892230+60, 0))
	if err != nil {
		t.Fatal(err)
	}
	if sm.Shift != 0 || !bytes.Equal(sm.CDRPush, readFile(t, "samples/push-cdr.json")) ||
		!bytes.Equal(sm.RecordPush, readFile(t, "samples/push-record.json")) ||
		!bytes.Equal(sm.Request, readFile(t, "samples/describe-session-detail.request.json")) {
		t.Errorf("zero shift changed the samples")
	}
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// compareShift checks shifted against orig: same bytes once digits are
// dropped, and every number the same but timestamps, moved by shift.
func compareShift(t *testing.T, name string, orig, shifted []byte, shift int64) {
	t.Helper()
	noDigits := func(b []byte) []byte {
		return bytes.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return -1
			}
			return r
		}, b)
	}
	if !bytes.Equal(noDigits(orig), noDigits(shifted)) {
		t.Errorf("%s: more than numbers changed", name)
	}
	var o, s any
	for _, x := range []struct {
		b []byte
		v *any
	}{{orig, &o}, {shifted, &s}} {
		dec := json.NewDecoder(bytes.NewReader(x.b))
		dec.UseNumber()
		if err := dec.Decode(x.v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	walkShift(t, name, "", o, s, shift)
}

func walkShift(t *testing.T, path, key string, o, s any, shift int64) {
	switch o := o.(type) {
	case map[string]any:
		sm, _ := s.(map[string]any)
		if len(sm) != len(o) {
			t.Errorf("%s: members differ", path)
		}
		for k, v := range o {
			walkShift(t, path+"."+k, k, v, sm[k], shift)
		}
	case []any:
		sa, _ := s.([]any)
		if len(sa) != len(o) {
			t.Errorf("%s: lengths differ", path)
			return
		}
		for i := range o {
			walkShift(t, path, "", o[i], sa[i], shift)
		}
	case json.Number:
		ov, _ := o.Int64()
		sv, _ := s.(json.Number).Int64()
		want := ov
		isTS := key == "Time" || strings.HasSuffix(key, "Timestamp") || strings.HasSuffix(key, "TimeStamp")
		switch {
		case !isTS || ov == 0:
		case ov >= 1e11:
			want = ov + shift*1000
		default:
			want = ov + shift
		}
		if sv != want {
			t.Errorf("%s: %d shifted to %d, want %d", path, ov, sv, want)
		}
	default:
		if o != s {
			t.Errorf("%s: %v became %v", path, o, s)
		}
	}
}
