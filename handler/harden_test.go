package handler_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestPushBadTimestamps: timestamps that cannot bound a detail query are
// the push's fault, 400/40001 naming the field, with no CCC call.
func TestPushBadTimestamps(t *testing.T) {
	e := newEnv(t)
	var cdr map[string]any
	if err := json.Unmarshal(e.sample.CDRPush, &cdr); err != nil {
		t.Fatal(err)
	}
	for k := range cdr {
		if strings.HasSuffix(k, "Timestamp") {
			delete(cdr, k)
		}
	}
	body, _ := json.Marshal(cdr)
	r := e.push("cdr", body)
	if r.status != 400 || r.ErrCode != 40001 || !strings.Contains(r.ErrMsg, "StartTimestamp") {
		t.Errorf("reply %d %s", r.status, r.body)
	}
}

func bearer() http.Header {
	return http.Header{"Authorization": {"Bearer " + apiToken}, "Content-Type": {"application/json"}}
}

// TestEnrichStrict: the enrich route refuses what the push route refuses,
// in words that fit it.
func TestEnrichStrict(t *testing.T) {
	e := newEnv(t)
	path := "/sessions/" + e.sample.SessionID + "/enrich"
	app := e.sample.SdkAppID
	for _, tt := range []struct {
		name, query, body, want string
	}{
		{"duplicate key", "", `{"SdkAppId":1,"sdkappid":2}`, "given twice"},
		{"type", "", `{"SdkAppId":"x"}`, "field SdkAppId must be an integer"},
		{"syntax", "", `{"SdkAppId":1,}`, "invalid JSON at offset 15"},
		{"end before start", "", `{"SdkAppId":` + itoa(app) + `,"StartTimestamp":1780000000,"EndTimestamp":1770000000}`, "EndTimestamp"},
		{"negative", "", `{"SdkAppId":` + itoa(app) + `,"StartTimestamp":-5}`, "StartTimestamp"},
		{"forward", "?forward=yes", `{"SdkAppId":` + itoa(app) + `}`, "forward"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("POST", path+tt.query, []byte(tt.body), bearer())
			if r.status != 400 || r.ErrCode != 40001 || !strings.Contains(r.ErrMsg, tt.want) || strings.Contains(r.ErrMsg, "Go struct") {
				t.Errorf("reply %d %s, want 400/40001 with %q", r.status, r.body, tt.want)
			}
		})
	}
	if strings.Contains(e.logs.String(), "push again") {
		t.Error("the enrich route says push again")
	}
}

// TestQueryAndPathStrict: repeated action or version, unclean paths, and
// a reason on every 4xx log line.
func TestQueryAndPathStrict(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct {
		path   string
		status int
		code   int
	}{
		{"/push?action=cdr&action=record&version=1", 400, 40002},
		{"/push?action=cdr&version=1&version=2", 400, 40003},
		{"//push?action=cdr&version=1", 404, 40401},
		{"/./push?action=cdr&version=1", 404, 40401},
		{"/a/../push?action=cdr&version=1", 404, 40401},
	} {
		req, _ := http.NewRequest("POST", e.fn.URL+tt.path, bytes.NewReader(e.sample.CDRPush))
		req.URL.Opaque = strings.SplitN(tt.path, "?", 2)[0] // keep the path as written
		req.Header = basic()
		resp, err := e.fn.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var r reply
		json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		if resp.StatusCode != tt.status || r.ErrCode != tt.code {
			t.Errorf("%s: %d %d, want %d %d", tt.path, resp.StatusCode, r.ErrCode, tt.status, tt.code)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(e.logs.String()), "\n") {
		if !strings.Contains(line, `"reason"`) {
			t.Errorf("4xx log line without a reason: %s", line)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
