package tcemu_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/ccc-enricher/ccc-enricher/internal/tcemu"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
)

type modelField struct {
	Type     string `json:"type"`
	Required bool   `json:"required"`
}

// loadModels reads the API's models as the Node.js SDK declares them.
func loadModels(t *testing.T) map[string]map[string]modelField {
	t.Helper()
	b, err := os.ReadFile("testdata/models.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]map[string]modelField
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// checkModel reports every field of v that the model typ does not declare,
// or that has another JSON type.
func checkModel(t *testing.T, models map[string]map[string]modelField, typ string, v any, path string) {
	t.Helper()
	switch {
	case typ == "string", typ == "number", typ == "boolean":
		ok := false
		switch v.(type) {
		case string:
			ok = typ == "string"
		case float64:
			ok = typ == "number"
		case bool:
			ok = typ == "boolean"
		}
		if !ok {
			t.Errorf("%s: %T (%v), want %s", path, v, v, typ)
		}
	case strings.HasPrefix(typ, "Array<"):
		a, ok := v.([]any)
		if !ok {
			t.Errorf("%s: %T, want %s", path, v, typ)
			return
		}
		for i, x := range a {
			checkModel(t, models, strings.TrimSuffix(strings.TrimPrefix(typ, "Array<"), ">"), x, fmt.Sprintf("%s[%d]", path, i))
		}
	default:
		fields, ok := models[typ]
		if !ok {
			t.Fatalf("%s: no model %s", path, typ)
		}
		o, ok := v.(map[string]any)
		if !ok {
			t.Errorf("%s: %T, want object %s", path, v, typ)
			return
		}
		for k, x := range o {
			f, ok := fields[k]
			if !ok {
				t.Errorf("%s.%s: not a field of %s", path, k, typ)
				continue
			}
			checkModel(t, models, f.Type, x, path+"."+k)
		}
	}
}

// Every field answered has the name and JSON type of the API's models.
func TestAnswersMatchModels(t *testing.T) {
	models := loadModels(t)
	e := newEnv(t, tcemu.Options{})
	c := e.sdk(common.NewCredential(testID, testKey), "ap-guangzhou")
	for _, sm := range allSamples(e.sample) {
		resp, code := sdkCall(t, c, "ccc", "2020-02-10", "DescribeSessionDetail", detailParams(sm))
		if code != "" {
			t.Fatal(code)
		}
		checkModel(t, models, "DescribeSessionDetailResponse", resp, sm.SessionID)
	}
	now := e.clock.Now().Unix()
	resp, code := sdkCall(t, c, "ccc", "2020-02-10", "DescribeTelCdr", map[string]any{
		"SdkAppId": e.sample.SdkAppID, "StartTimeStamp": now - 86400, "EndTimeStamp": now, "PageSize": 100, "PageNumber": 0,
	})
	if code != "" {
		t.Fatal(code)
	}
	checkModel(t, models, "DescribeTelCdrResponse", resp, "DescribeTelCdr")
	if n := len(resp["TelCdrList"].([]any)); n != 3 {
		t.Errorf("%d samples listed, want 3", n)
	}
	resp, code = sdkCall(t, c, "tdmq", "2020-02-17", "SendCmqMsg", map[string]any{"QueueName": "q", "MsgContent": "m", "DelaySeconds": 0})
	if code != "" {
		t.Fatal(code)
	}
	checkModel(t, models, "SendCmqMsgResponse", resp, "SendCmqMsg")
}

// The TelCdrInfo of a sample agrees with its CDR push and its detail.
func TestTelCdrOfSamples(t *testing.T) {
	e := newEnv(t, tcemu.Options{})
	c := e.sdk(common.NewCredential(testID, testKey), "")
	now := e.clock.Now().Unix()
	for _, sm := range allSamples(e.sample) {
		resp, code := sdkCall(t, c, "ccc", "2020-02-10", "DescribeTelCdr", map[string]any{
			"SdkAppId": sm.SdkAppID, "StartTimeStamp": now - 86400, "EndTimeStamp": now, "PageSize": 10, "PageNumber": 0,
			"SessionIds": []string{sm.SessionID},
		})
		if code != "" {
			t.Fatal(code)
		}
		list := resp["TelCdrList"].([]any)
		if len(list) != 1 || resp["TotalCount"] != float64(1) {
			t.Fatalf("%s: %v", sm.SessionID, resp)
		}
		cdr := list[0].(map[string]any)
		var push, detail map[string]any
		json.Unmarshal(sm.CDRPush, &push)
		json.Unmarshal(sm.Detail, &detail)
		for k, v := range push {
			if k == "SdkAppId" || k == "ServeParticipants" {
				continue
			}
			if !reflect.DeepEqual(cdr[k], v) {
				t.Errorf("%s: %s = %v, push has %v", sm.SessionID, k, cdr[k], v)
			}
		}
		for cdrField, detailField := range map[string]string{
			"Time": "StartTimeStamp", "StartTimestamp": "StartTimeStamp", "RecordURL": "RecordURL",
			"AsrUrl": "AsrURL", "UUI": "UUI", "CustomRecordURL": "CustomRecordURL",
			"VoicemailRecordURL": "VoicemailRecordURL", "ServeParticipants": "ServeParticipants",
			"PostIVRKeyPressedEx": "PostIVRKeyPressed",
		} {
			if !reflect.DeepEqual(cdr[cdrField], detail[detailField]) {
				t.Errorf("%s: %s = %v, detail %s = %v", sm.SessionID, cdrField, cdr[cdrField], detailField, detail[detailField])
			}
		}
	}
}

// A TelCdrInfo derived from a detail alone, without AddCdr.
func TestTelCdrDerived(t *testing.T) {
	e := newEnv(t, tcemu.Options{})
	in := e.sample.Others[0] // the inbound transfer
	if err := e.emu.AddSession(1400000009, "derived", in.Detail); err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now().Unix()
	resp, code := sdkCall(t, e.sdk(common.NewCredential(testID, testKey), ""), "ccc", "2020-02-10", "DescribeTelCdr", map[string]any{
		"SdkAppId": 1400000009, "StartTimeStamp": now - 86400, "EndTimeStamp": now, "PageSize": 10, "PageNumber": 0,
	})
	if code != "" {
		t.Fatal(code)
	}
	cdr := resp["TelCdrList"].([]any)[0].(map[string]any)
	var push map[string]any
	json.Unmarshal(in.CDRPush, &push)
	for _, k := range []string{"Caller", "Callee", "Direction", "CallType", "Duration", "IVRDuration", "IVRKeyPressed", "IVRKeyPressedEx",
		"EndStatusString", "HungUpSide", "QueuedSkillGroupId", "QueuedSkillGroupName", "QueuedTimestamp",
		"RingTimestamp", "AcceptTimestamp", "EndedTimestamp", "StartTimestamp", "PostIVRKeyPressed", "Uui"} {
		if !reflect.DeepEqual(cdr[k], push[k]) {
			t.Errorf("%s = %v, push has %v", k, cdr[k], push[k])
		}
	}
	seat := cdr["SeatUser"].(map[string]any)
	if seat["Mail"] != "baz@example.com" || seat["StaffNumber"] != "30002" || !reflect.DeepEqual(seat["SkillGroupNameList"], []any{"billing-l2"}) {
		t.Errorf("SeatUser = %v", seat)
	}
	if cdr["SessionId"] != "derived" || cdr["SkillGroup"] != "billing-l2" || cdr["AsrStatus"] != "Complete" {
		t.Errorf("cdr = %v", cdr)
	}
}

// DescribeTelCdr lists by time then SessionId, page by page.
func TestDescribeTelCdrPages(t *testing.T) {
	e := newEnv(t, tcemu.Options{RateLimit: -1})
	now := e.clock.Now().Unix()
	app := e.sample.SdkAppID
	// Seven more CDRs: two at the same second (ordered by SessionId), one
	// of another application, one outside the window.
	for _, c := range []struct {
		app  int64
		id   string
		time int64
	}{
		{app, "s-b", now - 7200}, {app, "s-a", now - 7200}, {app, "s-c", now - 5000},
		{app, "s-d", now - 100}, {app, "s-e", now - 10},
		{app + 1, "other-app", now - 50}, {app, "too-old", now - 3*86400},
	} {
		cdr := fmt.Sprintf(`{"SessionId":%q,"Time":%d,"Caller":"0086100%s","Callee":"0086200"}`, c.id, c.time, c.id)
		if err := e.emu.AddCdr(c.app, json.RawMessage(cdr)); err != nil {
			t.Fatal(err)
		}
	}
	in, out := e.sample.Others[0].SessionID, e.sample.Others[1].SessionID
	want := []string{"s-a", "s-b", "s-c", in, out, "s-d", e.sample.SessionID, "s-e"}

	c := e.sdk(common.NewCredential(testID, testKey), "")
	query := func(size, page int, extra map[string]any) ([]string, float64, string) {
		p := map[string]any{"SdkAppId": app, "StartTimeStamp": now - 86400, "EndTimeStamp": now, "PageSize": size, "PageNumber": page}
		for k, v := range extra {
			p[k] = v
		}
		resp, code := sdkCall(t, c, "ccc", "2020-02-10", "DescribeTelCdr", p)
		if code != "" {
			return nil, 0, code
		}
		var ids []string
		for _, x := range resp["TelCdrList"].([]any) {
			ids = append(ids, x.(map[string]any)["SessionId"].(string))
		}
		if !reflect.DeepEqual(resp["TelCdrList"], resp["TelCdrs"]) {
			t.Errorf("TelCdrs differs from TelCdrList")
		}
		return ids, resp["TotalCount"].(float64), ""
	}

	var got []string
	for page := 0; ; page++ {
		ids, total, code := query(3, page, nil)
		if code != "" {
			t.Fatal(code)
		}
		if total != float64(len(want)) {
			t.Errorf("page %d: TotalCount = %v, want %d", page, total, len(want))
		}
		if len(ids) == 0 {
			if page != 3 {
				t.Errorf("empty page %d, want the end at page 3", page)
			}
			break
		}
		if len(ids) > 3 {
			t.Errorf("page %d has %d items", page, len(ids))
		}
		got = append(got, ids...)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("pages list %v, want %v", got, want)
	}

	for _, tc := range []struct {
		name       string
		size, page int
		extra      map[string]any
		want       []string
		code       string
	}{
		{"one page of all", 100, 0, nil, want, ""},
		{"by phone", 100, 0, map[string]any{"Phones": []string{"0086139xxxxxxxx"}}, []string{in}, ""},
		{"by session ids", 100, 0, map[string]any{"SessionIds": []string{"s-e", e.sample.SessionID, "nope"}}, []string{e.sample.SessionID, "s-e"}, ""},
		{"deprecated paging accepted", 2, 1, map[string]any{"Limit": 10, "Offset": 0}, []string{"s-c", in}, ""},
		{"page past the end", 3, 3, nil, nil, ""},
		{"huge page number", 100, math.MaxInt64, nil, nil, ""},
		{"page size over 100", 101, 0, nil, nil, "InvalidParameterValue"},
		{"page size 0", 0, 0, nil, nil, "InvalidParameterValue"},
		{"negative page", 10, -1, nil, nil, "InvalidParameterValue"},
		{"window of 90 days", 10, 0, map[string]any{"StartTimeStamp": now - 90*86400}, nil, "InvalidParameterValue"},
		{"window older than 180 days", 10, 0, map[string]any{"StartTimeStamp": now - 181*86400, "EndTimeStamp": now - 170*86400}, nil, "InvalidParameterValue"},
		{"unknown parameter", 10, 0, map[string]any{"StartTimestamp": now}, nil, "UnknownParameter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ids, _, code := query(tc.size, tc.page, tc.extra)
			if code != tc.code || !reflect.DeepEqual(ids, tc.want) {
				t.Errorf("got %v %q, want %v %q", ids, code, tc.want, tc.code)
			}
		})
	}
}

func TestAddInvalid(t *testing.T) {
	emu := tcemu.New(tcemu.Options{SecretID: testID, SecretKey: testKey})
	for _, tc := range []struct {
		name string
		add  func() error
	}{
		{"session not an object", func() error { return emu.AddSession(1, "s", json.RawMessage(`[]`)) }},
		{"session not JSON", func() error { return emu.AddSession(1, "s", json.RawMessage(`{"Caller":`)) }},
		{"session of wrong types", func() error { return emu.AddSession(1, "s", json.RawMessage(`{"StartTimeStamp":"1"}`)) }},
		{"session without start", func() error { return emu.AddSession(1, "s", json.RawMessage(`{"Caller":"1"}`)) }},
		{"session without id", func() error { return emu.AddSession(1, "", json.RawMessage(`{"StartTimeStamp":1}`)) }},
		{"session trailing data", func() error { return emu.AddSession(1, "s", json.RawMessage(`{"StartTimeStamp":1} {}`)) }},
		{"cdr without session", func() error { return emu.AddCdr(1, json.RawMessage(`{"Time":1}`)) }},
		{"cdr without time", func() error { return emu.AddCdr(1, json.RawMessage(`{"SessionId":"s"}`)) }},
		{"cdr without app", func() error { return emu.AddCdr(0, json.RawMessage(`{"SessionId":"s","Time":1}`)) }},
	} {
		if err := tc.add(); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	if err := emu.AddSession(1, "s", json.RawMessage(`{"Response":{"StartTimeStamp":1,"RequestId":"x"}}`)); err != nil {
		t.Errorf("wrapped detail: %v", err)
	}
}
