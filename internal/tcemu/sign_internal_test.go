package tcemu

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The worked example of Tencent Cloud's "Signature v3" documentation
// (CVM DescribeInstances; the published key is masked with '*', and the
// published hashes and signature are those of the masked key).
const (
	docSecretID   = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******"
	docSecretKey  = "Gu5t9xGARNpq86cd98joQYCN3*******"
	docTimestamp  = 1551113065
	docPayload    = `{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}`
	docCanonHash  = "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
	docSignature  = "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
	docAuthHeader = "TC3-HMAC-SHA256 Credential=" + docSecretID + "/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=" + docSignature
)

func TestDocumentedExample(t *testing.T) {
	r := httptest.NewRequest("POST", "https://cvm.tencentcloudapi.com/", strings.NewReader(docPayload))
	r.Header.Set("Content-Type", "application/json; charset=utf-8")
	canon := canonicalRequest(r, []string{"content-type", "host"}, []byte(docPayload))
	if got := sha256hex([]byte(canon)); got != docCanonHash {
		t.Fatalf("canonical request hash %s, want %s:\n%s", got, docCanonHash, canon)
	}
	sts := stringToSign("1551113065", "2019-02-25", "cvm", canon)
	if want := "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n" + docCanonHash; sts != want {
		t.Errorf("string to sign %q, want %q", sts, want)
	}
	if got := signature(docSecretKey, "2019-02-25", "cvm", sts); got != docSignature {
		t.Errorf("signature %s, want %s", got, docSignature)
	}
	c, why := parseAuthorization(docAuthHeader)
	if why != "" || c.secretID != docSecretID || c.date != "2019-02-25" || c.service != "cvm" || strings.Join(c.signedHeaders, ";") != "content-type;host" {
		t.Errorf("parseAuthorization = %+v, %q", c, why)
	}
}

func TestParseAuthorizationRejects(t *testing.T) {
	good := "TC3-HMAC-SHA256 Credential=AKID/2019-02-25/ccc/tc3_request, SignedHeaders=content-type;host, Signature=" + docSignature
	if _, why := parseAuthorization(good); why != "" {
		t.Fatalf("good header refused: %s", why)
	}
	for _, h := range []string{
		"",
		"TC3-HMAC-SHA256",
		"HMAC-SHA256 Credential=AKID/2019-02-25/ccc/tc3_request, SignedHeaders=content-type;host, Signature=" + docSignature,
		"TC3-HMAC-SHA256 Credential=AKID/2019-02-25/ccc/tc3_request, SignedHeaders=content-type;host",
		"TC3-HMAC-SHA256 Credential=AKID/2019-02-25/ccc/tc3_request, SignedHeaders=content-type;host, Signature=" + docSignature + ", Extra=1",
		"TC3-HMAC-SHA256 Credential=AKID/2019-02-25/ccc/tc3_request, Credential=AKID/2019-02-25/ccc/tc3_request, Signature=" + docSignature,
		"TC3-HMAC-SHA256 Credential=AKID/2019-02-25/ccc, SignedHeaders=content-type;host, Signature=" + docSignature,
		"TC3-HMAC-SHA256 Credential=AKID/2019-02-25/ccc/tc4_request, SignedHeaders=content-type;host, Signature=" + docSignature,
		"TC3-HMAC-SHA256 Credential=/2019-02-25/ccc/tc3_request, SignedHeaders=content-type;host, Signature=" + docSignature,
		"TC3-HMAC-SHA256 Credential=AKID/20190225/ccc/tc3_request, SignedHeaders=content-type;host, Signature=" + docSignature,
		"TC3-HMAC-SHA256 Credential=AKID/2019-02-25//tc3_request, SignedHeaders=content-type;host, Signature=" + docSignature,
		"TC3-HMAC-SHA256 Credential=AKID/2019-02-25/ccc/tc3_request, SignedHeaders=Content-Type;host, Signature=" + docSignature,
		"TC3-HMAC-SHA256 Credential=AKID/2019-02-25/ccc/tc3_request, SignedHeaders=content-type;host;host, Signature=" + docSignature,
		"TC3-HMAC-SHA256 Credential=AKID/2019-02-25/ccc/tc3_request, SignedHeaders=content-type;;host, Signature=" + docSignature,
		"TC3-HMAC-SHA256 Credential=AKID/2019-02-25/ccc/tc3_request, SignedHeaders=content-type;x-tc-action, Signature=" + docSignature,
		"TC3-HMAC-SHA256 Credential=AKID/2019-02-25/ccc/tc3_request, SignedHeaders=content-type;host, Signature=" + docSignature[:62],
		"TC3-HMAC-SHA256 Credential=AKID/2019-02-25/ccc/tc3_request, SignedHeaders=content-type;host, Signature=" + strings.ToUpper(docSignature),
	} {
		if _, why := parseAuthorization(h); why == "" {
			t.Errorf("accepted %q", h)
		}
	}
}

func TestShiftTimestamps(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"EndedTimestamp": 100, "Other": 100}`, `{"EndedTimestamp": 110, "Other": 100}`},
		{`{"StartTimeStamp":100,"Time":100,"Timestamp":100}`, `{"StartTimeStamp":110,"Time":110,"Timestamp":110}`},
		{`{"QueuedTimestamp": 0}`, `{"QueuedTimestamp": 0}`},
		{`{"Timestamp": 1756891508345}`, `{"Timestamp": 1756891518345}`},
		{`{"Timestamp": 1.5, "RingTimestamp": "100", "AcceptTimestamp": 1e3}`, `{"Timestamp": 1.5, "RingTimestamp": "100", "AcceptTimestamp": 1e3}`},
		{`{"a":[{"Timestamp":5},{"b":{"Timestamp":6}}],"Timestamp":[7],"x":"Timestamp"}`, `{"a":[{"Timestamp":15},{"b":{"Timestamp":16}}],"Timestamp":[7],"x":"Timestamp"}`},
		{`{"Timestamp":{"Timestamp":1},"EndedTimestamp":2}`, `{"Timestamp":{"Timestamp":11},"EndedTimestamp":12}`},
		{"{\"\\u0054ime\": 1}", "{\"\\u0054ime\": 11}"},
		{`[1, {"Time": 1}]`, `[1, {"Time": 11}]`},
	} {
		got, err := shiftTimestamps([]byte(tc.in), 10)
		if err != nil || string(got) != tc.want {
			t.Errorf("shift %s = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	if _, err := shiftTimestamps([]byte(`{"Time":`), 10); err == nil {
		t.Errorf("truncated JSON accepted")
	}
}

// The documented request, sent whole: the signature is accepted (the
// action is then unknown to this emulator), and one changed digit is not.
func TestDocumentedRequest(t *testing.T) {
	s := New(Options{SecretID: docSecretID, SecretKey: docSecretKey, Now: func() time.Time { return time.Unix(docTimestamp+30, 0) }})
	for _, tc := range []struct {
		auth, want string
	}{
		{docAuthHeader, "InvalidAction"},
		{strings.Replace(docAuthHeader, "Signature=2", "Signature=3", 1), "AuthFailure.SignatureFailure"},
	} {
		r := httptest.NewRequest("POST", "https://cvm.tencentcloudapi.com/", strings.NewReader(docPayload))
		r.Header.Set("Content-Type", "application/json; charset=utf-8")
		r.Header.Set("X-TC-Action", "DescribeInstances")
		r.Header.Set("X-TC-Version", "2017-03-12")
		r.Header.Set("X-TC-Timestamp", "1551113065")
		r.Header.Set("X-TC-Region", "ap-guangzhou")
		r.Header.Set("Authorization", tc.auth)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		var resp struct {
			Response struct{ Error struct{ Code string } }
		}
		if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil || resp.Response.Error.Code != tc.want {
			t.Errorf("got %s, want %s", w.Body, tc.want)
		}
	}
}

func FuzzShiftTimestamps(f *testing.F) {
	for _, name := range []string{"push-cdr.json", "push-record.json", "inbound-transfer.response.json", "describe-session-detail.response.json"} {
		b, err := sampleFiles.ReadFile("samples/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, int64(3600))
	}
	f.Add([]byte(`{"Time":9223372036854775807,"Timestamp":-100000000000}`), int64(-9223372036854775808))
	f.Fuzz(func(t *testing.T, data []byte, shift int64) {
		out, err := shiftTimestamps(data, shift)
		if err == nil && json.Valid(data) && !json.Valid(out) {
			t.Errorf("valid %q became invalid %q", data, out)
		}
	})
}
