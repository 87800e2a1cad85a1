package archive

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/ccc"
	"github.com/ccc-enricher/ccc-enricher/internal/push"
)

func TestWithoutLinks(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"RecordURL":"https://x/y?sign=1","CustomRecordURL":"https://c/1.mp3"}`, `{"RecordURL":"","CustomRecordURL":"https://c/1.mp3"}`},
		{`{"A":1,"VoicemailRecordURL":["https://a","https://b"],"B":[1]}`, `{"A":1,"VoicemailRecordURL":[],"B":[1]}`},
		{`{"ServeParticipants":[{"RecordURL":"https://p","RecordId":"r"}],"AsrURL":"https://t"}`, `{"ServeParticipants":[{"RecordURL":"","RecordId":"r"}],"AsrURL":""}`},
		{`{"AsrUrl":"https://t","VoicemailAsrURL":[]}`, `{"AsrUrl":"","VoicemailAsrURL":[]}`},
		{`{"RecordURL":null,"Note":"RecordURL"}`, `{"RecordURL":null,"Note":"RecordURL"}`},
		{``, ``},
	}
	for _, tt := range tests {
		if got := string(withoutLinks([]byte(tt.in))); got != tt.want {
			t.Errorf("withoutLinks(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestKeys(t *testing.T) {
	day := time.Date(2025, 9, 3, 23, 59, 0, 0, time.FixedZone("CST", 8*3600)) // 15:59 UTC
	k := NewKeys("ccc")
	tests := []struct{ got, want string }{
		{k.Recording(day, "0f507d5d-e1e4", "8a76adc6", "mp3"), "ccc/recordings/2025/09/03/0f507d5d-e1e4/8a76adc6.mp3"},
		{k.Transcript(day, "s-1", ""), "ccc/transcripts/2025/09/03/s-1.txt"},
		{k.Transcript(day, "s-1", "voicemail-1"), "ccc/transcripts/2025/09/03/s-1-voicemail-1.txt"},
		{k.Record(day, "cer_1"), "ccc/records/dt=2025-09-03/cer_1.json"},
		{NewKeys("").Recording(day, "../..", "a/b", "wav"), "recordings/2025/09/03/.._../a_b.wav"},
		{NewKeys("/p/").Record(day, "x"), "p/records/dt=2025-09-03/x.json"},
		{NewKeys("").Transcript(day, "..", ""), "transcripts/2025/09/03/__.txt"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("key %q, want %q", tt.got, tt.want)
		}
	}
	for in, want := range map[string]string{"/a/b.MP3": "mp3", "/a/b": "mp3", "/a/b.toolong": "mp3", "/a.w-v": "mp3", "/x.wav": "wav"} {
		if got := extension(in, "mp3"); got != want {
			t.Errorf("extension(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHosts(t *testing.T) {
	def := NewHosts(nil)
	loop := NewHosts([]string{"127.0.0.1", "*.media.example"})
	tests := []struct {
		h    Hosts
		link string
		want bool
	}{
		{def, "https://tccc.qcloud.com/tcccadmin/getRecord/x.mp3?sign=1", true},
		{def, "https://bucket-125.cos.ap-guangzhou.myqcloud.com/r.mp3", true},
		{def, "http://tccc.qcloud.com/x.mp3", false},
		{def, "https://tccc.qcloud.com:8443/x.mp3", false},
		{def, "https://tccc.qcloud.com.evil.example/x.mp3", false},
		{def, "https://169.254.169.254/latest/meta-data", false},
		{def, "https://127.0.0.1/x", false},
		{def, "https://user@tccc.qcloud.com/x", false},
		{def, "file:///etc/passwd", false},
		{loop, "http://127.0.0.1:8080/media/x.mp3", true},
		{loop, "http://localhost:8080/media/x.mp3", false},
		{loop, "https://a.media.example/x", true},
		{loop, "https://media.example/x", false},
		{loop, "https://tccc.qcloud.com/x.mp3", false},
		{loop, "ftp://127.0.0.1/x", false},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.link)
		if err != nil {
			t.Fatal(err)
		}
		if got := tt.h.Allows(u); got != tt.want {
			t.Errorf("Allows(%s) = %v, want %v", tt.link, got, tt.want)
		}
	}
}

func TestRecordDay(t *testing.T) {
	tests := []struct {
		body string
		want string
	}{
		{`{"detail":{"StartTimeStamp":1756892198},"push":{"StartTimestamp":1}}`, "2025-09-03"},
		{`{"push":{"StartTimestamp":1756892198}}`, "2025-09-03"},
		{`{"push":{"StartTimestamp":"x","Timestamp":1756892198}}`, "2025-09-03"},
		{`{"meta":{"receivedAt":"2025-01-02T03:04:05Z"}}`, "2025-01-02"},
	}
	for _, tt := range tests {
		if got := RecordDay([]byte(tt.body)).Format(time.DateOnly); got != tt.want {
			t.Errorf("RecordDay(%s) = %s, want %s", tt.body, got, tt.want)
		}
	}
}

func TestItems(t *testing.T) {
	a := &Archiver{Keys: NewKeys("p/")}
	d := &ccc.SessionDetail{
		StartTimeStamp:     1756892198,
		RecordURL:          "https://tccc.qcloud.com/r/customer.wav?sign=1",
		AsrURL:             "https://tccc.qcloud.com/asr?sign=2",
		VoicemailRecordURL: []string{"https://tccc.qcloud.com/vm/1.mp3?sign=3"},
		VoicemailAsrURL:    []string{"https://tccc.qcloud.com/vm/1.txt?sign=4"},
		ServeParticipants: []ccc.ServeParticipant{
			{RecordId: "r-1", RecordURL: "https://tccc.qcloud.com/p/1.mp3?sign=5"},
			{RecordURL: "https://tccc.qcloud.com/p/2.mp3?sign=6", CustomRecordURL: "https://b-125.cos.ap-guangzhou.myqcloud.com/2.mp3"},
			{}, // a leg without a recording
		},
	}
	p := &push.Push{SessionID: "s-1", Recording: &push.Recording{RecordId: "r-1", RecordURL: "https://tccc.qcloud.com/push/r-1.mp3?sign=7"}}
	var got []string
	for _, it := range a.items(p, d, time.Time{}) {
		got = append(got, it.kind+" "+it.key+" "+it.custom)
	}
	want := []string{
		"recording p/recordings/2025/09/03/s-1/customer.wav ",
		"participant-recording p/recordings/2025/09/03/s-1/r-1.mp3 ",
		"participant-recording p/recordings/2025/09/03/s-1/participant-2.mp3 https://b-125.cos.ap-guangzhou.myqcloud.com/2.mp3",
		"voicemail p/recordings/2025/09/03/s-1/voicemail-1.mp3 ",
		"transcript p/transcripts/2025/09/03/s-1.txt ",
		"voicemail-transcript p/transcripts/2025/09/03/s-1-voicemail-1.txt ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("items:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
