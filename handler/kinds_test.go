package handler_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ccc-enricher/ccc-enricher/handler"
	"github.com/ccc-enricher/ccc-enricher/internal/enrich"
	"github.com/ccc-enricher/ccc-enricher/internal/record"
)

// Pushes of kinds the function does not enrich — imcdr, videoCdr, an
// action CCC adds later — are acknowledged and forwarded as they came,
// without a DescribeSessionDetail call; with UNKNOWN_PUSH_KINDS=drop an
// unknown action is acknowledged and dropped.
func TestPushOtherKinds(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("..", "internal", "record", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		name, action, file string
		drop               bool
		kind, wantAction   string
	}{
		{"imcdr", "imcdr", "push-imcdr.json", false, "imcdr", ""},
		{"videoCdr", "videoCdr", "push-videocdr.json", false, "videoCdr", ""},
		{"unknown action", "surveyResult", "push-unknown.json", false, "unknown", "surveyResult"},
		{"unknown action dropped", "surveyResult", "push-unknown.json", true, "", ""},
		{"imcdr with drop on", "imcdr", "push-imcdr.json", true, "imcdr", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(o *handler.Options, _ *enrich.Enricher) { o.DropUnknownKinds = tc.drop })
			// The samples' SdkAppId is the emulator sample's application.
			body := bytes.ReplaceAll(read(tc.file), []byte("1400000000"), []byte(jsonInt(e.sample.SdkAppID)))
			r := e.push(tc.action, body)
			if r.status != 200 || r.ErrCode != 0 {
				t.Fatalf("reply %d %s", r.status, r.body)
			}
			if n := e.emu.Calls("DescribeSessionDetail"); n != 0 {
				t.Errorf("%d DescribeSessionDetail calls", n)
			}
			recs := e.records()
			if tc.kind == "" {
				if len(recs) != 0 {
					t.Errorf("%d records forwarded, want none", len(recs))
				}
				return
			}
			if len(recs) != 1 {
				t.Fatalf("%d records, want 1", len(recs))
			}
			rec := recs[0]
			if string(rec.Kind) != tc.kind || rec.Action != tc.wantAction || rec.Completeness != record.PushOnly || rec.Detail != nil {
				t.Errorf("record kind %q action %q completeness %q", rec.Kind, rec.Action, rec.Completeness)
			}
			var sent, got any
			json.Unmarshal(body, &sent)
			json.Unmarshal(rec.Push, &got)
			if !reflect.DeepEqual(sent, got) {
				t.Errorf("push is not the body as sent")
			}
		})
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

// Every real-shaped variant of internal/push/testdata/variants.jsonl (each
// field of the documented pushes in another JSON type or shape) is
// acknowledged and forwarded through the real handler, its push as sent.
func TestPushVariants(t *testing.T) {
	b, err := os.ReadFile("../internal/push/testdata/variants.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	for _, line := range lines {
		var v struct {
			Name string
			Kind string
			Body json.RawMessage
		}
		if err := json.Unmarshal(line, &v); err != nil {
			t.Fatal(err)
		}
		// The variants are of the sample call; the emulator's sample is the
		// same call at another time, so take its identity and times.
		var body, sample map[string]any
		json.Unmarshal(v.Body, &body)
		src := e.sample.CDRPush
		if v.Kind != "cdr" {
			src = e.sample.RecordPush
		}
		json.Unmarshal(src, &sample)
		for _, k := range []string{"SdkAppId", "SessionId", "StartTimestamp", "EndedTimestamp", "Timestamp", "RecordId"} {
			if sv, ok := sample[k]; ok {
				body[k] = sv
			}
		}
		if v.Kind == "voicemail" {
			body["Timestamp"] = sample["Timestamp"]
		}
		sent, _ := json.Marshal(body)
		before := len(e.records())
		r := e.push(v.Kind, sent)
		if r.status != 200 || r.ErrCode != 0 {
			t.Errorf("%s: reply %d %s", v.Name, r.status, r.body)
			continue
		}
		recs := e.records()
		if len(recs) != before+1 {
			t.Errorf("%s: %d records forwarded", v.Name, len(recs)-before)
			continue
		}
		var got any
		json.Unmarshal(recs[len(recs)-1].Push, &got)
		var want any
		json.Unmarshal(sent, &want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: push is not the body as sent", v.Name)
		}
	}
	if !bytes.Contains(e.logs.Bytes(), []byte(`"type_mismatch":"Duration: want an integer, got string"`)) {
		t.Errorf("no log line names a type mismatch")
	}
}

// A voicemail push comes without version (?action=voicemail): it is
// enriched and acknowledged like the others.
func TestPushVoicemailWithoutVersion(t *testing.T) {
	e := newEnv(t)
	var cdr map[string]any
	json.Unmarshal(e.sample.CDRPush, &cdr)
	body, _ := json.Marshal(map[string]any{
		"SdkAppId": cdr["SdkAppId"], "SessionId": cdr["SessionId"], "Timestamp": cdr["EndedTimestamp"],
		"RecordURL": "https://tccc.qcloud.com/tcccadmin/getVoicemail/EXAMPLE/000-voicemail.mp3", "EndpointUser": "0086158xxxxxxxx",
	})
	r := e.do("POST", "/push?action=voicemail", body, basic())
	if r.status != 200 || r.ErrCode != 0 {
		t.Fatalf("reply %d %s", r.status, r.body)
	}
	recs := e.records()
	if len(recs) != 1 || recs[0].Kind != "voicemail" || recs[0].Completeness != record.Full {
		t.Fatalf("records %+v", recs)
	}
}
