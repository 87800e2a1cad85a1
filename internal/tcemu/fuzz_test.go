package tcemu_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/tcemu"
)

// fuzzNow is the fuzz targets' frozen clock.
var fuzzNow = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func fuzzServer(t testing.TB, now time.Time) (*tcemu.Server, tcemu.Sample) {
	emu := tcemu.New(tcemu.Options{SecretID: testID, SecretKey: testKey, Now: func() time.Time { return now }})
	sm, err := tcemu.LoadSamples(emu, now)
	if err != nil {
		t.Fatal(err)
	}
	return emu, sm
}

// serve sends one request straight to the handler and checks that any
// HTTP 200 answer is a well-formed API envelope.
func serve(t *testing.T, emu *tcemu.Server, w wire, auth *string) {
	r := w.build(t, "http://127.0.0.1:9/")
	r.Host = r.URL.Host
	if auth != nil {
		r.Header.Set("Authorization", *auth)
	}
	rec := httptest.NewRecorder()
	emu.ServeHTTP(rec, r)
	if rec.Code == 200 {
		decodeAnswer(t, rec.Code, rec.Body.Bytes())
	}
}

// Arbitrary bodies and headers, signed or not, never crash the emulator
// and always get an envelope.
func FuzzServeHTTP(f *testing.F) {
	_, sm := fuzzServer(f, fuzzNow)
	now := fuzzNow.Unix()
	telCdr := fmt.Sprintf(`{"SdkAppId":1400000000,"StartTimeStamp":%d,"EndTimeStamp":%d,"PageSize":2,"PageNumber":1,"Phones":["0086139xxxxxxxx"]}`, now-3600, now)
	for _, s := range []struct {
		body                     string
		action, version, service string
	}{
		{string(sm.Request), "DescribeSessionDetail", "2020-02-10", "ccc"},
		{telCdr, "DescribeTelCdr", "2020-02-10", "ccc"},
		{`{"QueueName":"q","MsgContent":"m","DelaySeconds":0}`, "SendCmqMsg", "2020-02-17", "tdmq"},
		{string(sm.CDRPush), "DescribeSessionDetail", "2020-02-10", "ccc"},
		{`{"SdkAppId":1e400}`, "DescribeSessionDetail", "2020-02-10", "ccc"},
	} {
		f.Add([]byte(s.body), s.action, s.version, s.service, "application/json; charset=utf-8", int64(0), "", true)
		f.Add([]byte(s.body), s.action, s.version, s.service, "application/json", int64(-400), "TC3-HMAC-SHA256 Credential=x/2026-11-24/ccc/tc3_request, SignedHeaders=content-type;host, Signature=00", false)
	}
	f.Fuzz(func(t *testing.T, body []byte, action, version, service, contentType string, skew int64, auth string, sign bool) {
		emu, _ := fuzzServer(t, fuzzNow)
		w := wire{
			action: action, version: version, service: service, body: string(body),
			ts: now + skew%1000, id: testID, key: testKey, contentType: contentType, region: "ap-guangzhou",
		}
		if sign {
			serve(t, emu, w, nil)
		} else {
			serve(t, emu, w, &auth)
		}
	})
}

// Whatever a test stores, the answers built from it are well-formed.
func FuzzAddSession(f *testing.F) {
	_, sm := fuzzServer(f, fuzzNow)
	for _, s := range append([]tcemu.Sample{sm}, sm.Others...) {
		f.Add([]byte(s.Detail))
		f.Add([]byte(`{"Response":` + string(s.Detail) + `}`))
	}
	f.Add([]byte(`{"StartTimeStamp":1,"ServeParticipants":[{"Mail":1}]}`))
	f.Fuzz(func(t *testing.T, detail []byte) {
		emu := tcemu.New(tcemu.Options{SecretID: testID, SecretKey: testKey, Now: func() time.Time { return fuzzNow }})
		if err := emu.AddSession(1400000000, "s", detail); err != nil {
			return
		}
		var d struct {
			Response                       *json.RawMessage
			StartTimeStamp, EndedTimestamp int64
		}
		json.Unmarshal(detail, &d)
		if d.Response != nil {
			json.Unmarshal(*d.Response, &d)
		}
		// Put the call inside the emulator's query windows where possible.
		end := max(d.StartTimeStamp, d.EndedTimestamp)
		emu = tcemu.New(tcemu.Options{SecretID: testID, SecretKey: testKey, Now: func() time.Time { return time.Unix(end, 0) }})
		if err := emu.AddSession(1400000000, "s", detail); err != nil {
			t.Fatalf("accepted once, refused the second time: %v", err)
		}
		base := wire{version: "2020-02-10", service: "ccc", ts: end, id: testID, key: testKey, contentType: "application/json"}
		q := base
		q.action = "DescribeSessionDetail"
		q.body = fmt.Sprintf(`{"SdkAppId":1400000000,"SessionId":"s","StartTimestamp":%d,"EndTimestamp":%d}`, d.StartTimeStamp, end)
		serve(t, emu, q, nil)
		q.action = "DescribeTelCdr"
		q.body = fmt.Sprintf(`{"SdkAppId":1400000000,"StartTimeStamp":%d,"EndTimeStamp":%d,"PageSize":100,"PageNumber":0}`, d.StartTimeStamp, end)
		serve(t, emu, q, nil)
	})
}
