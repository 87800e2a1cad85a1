package push

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

var fuzzKinds = []Kind{KindCDR, KindRecord, KindVoicemail}

func FuzzParse(f *testing.F) {
	for i, name := range []string{"push-cdr.json", "push-record.json", "push-voicemail.json"} {
		body := load(f, name)
		for k := range fuzzKinds {
			f.Add(uint8(k), body)
		}
		f.Add(uint8(i), compacted(f, body))
	}
	for _, s := range []string{
		`{}`, `[]`, `null`, `{"SdkAppId":"1","SessionId":"a"}`,
		`{"SdkAppId":1400000000,"SessionId":"a","RecordId":"r","Timestamp":"1756892231","EndpointUser":1}`,
		`{"SdkAppId":1,"SessionId":"a","SessionId":"a"}`, `{"SdkAppId":1,"sessionid":"a","SessionId":"b"}`,
		`{"a":"\u0053","\u0041":1,"A":2}`, `{"a":"\\\"","b":"\\"}`, `{"a":[[[[[[]]]]]]}`,
		`{"SdkAppId":1e3,"SessionId":"a"}`, `{"SdkAppId":1,"SessionId":"a"} `, `{"SdkAppId":1,"SessionId":"a"}}`,
		"{\"SdkAppId\":1,\"SessionId\":\"a\xff\"}",
	} {
		f.Add(uint8(0), []byte(s))
	}
	f.Fuzz(func(t *testing.T, k uint8, body []byte) {
		kind := fuzzKinds[int(k)%len(fuzzKinds)]
		p, err := Parse(kind, body, testNow)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || !retry.IsPermanent(err) {
				t.Fatalf("error %v (%T) is not a permanent *ValidationError", err, err)
			}
			if len(err.Error()) > 200 {
				t.Fatalf("error too long: %q", err)
			}
			return
		}
		if p.Kind != kind || p.SdkAppID <= 0 || checkID("SessionId", p.SessionID) != nil {
			t.Fatalf("accepted a bad identity: %+v", p)
		}
		set := 0
		for _, ok := range []bool{p.CDR != nil, p.Recording != nil, p.Voicemail != nil} {
			if ok {
				set++
			}
		}
		if set != 1 {
			t.Fatalf("%d typed bodies set", set)
		}
		if !json.Valid(p.Raw) || !bytes.Equal(compacted(t, p.Raw), p.Raw) || p.Raw[0] != '{' {
			t.Fatalf("Raw is not a compact object: %q", p.Raw)
		}
		// Raw says the same as the body: parsing it again gives the same push.
		again, err := Parse(kind, p.Raw, testNow)
		if err != nil {
			t.Fatalf("Raw refused: %v", err)
		}
		if !reflect.DeepEqual(p, again) {
			t.Fatalf("Raw parses differently:\n%+v\n%+v", p, again)
		}
	})
}

// deterministic stands in for crypto/rand so that every fuzzing process
// issues the same tokens.
type deterministic struct{ r *rand.ChaCha8 }

func (d deterministic) Read(b []byte) (int, error) { return d.r.Read(b) }

func fuzzIssuer(tb testing.TB) (*OAuth2, []string) {
	o := NewOAuth2(testClientID, testSecret, time.Hour, func() time.Time { return testNow })
	o.random = deterministic{rand.NewChaCha8([32]byte{1})}
	var issued []string
	for range 3 {
		tok, err := o.issue()
		if err != nil {
			tb.Fatal(err)
		}
		issued = append(issued, tok)
	}
	return o, issued
}

func FuzzBearer(f *testing.F) {
	o, issued := fuzzIssuer(f)
	other := NewOAuth2(testClientID, "other secret", time.Hour, func() time.Time { return testNow })
	otherToken, _ := other.issue()
	for _, tok := range issued {
		f.Add("Bearer " + tok)
		f.Add("bearer  " + tok)
		f.Add("Bearer " + tok + "=")
		f.Add("Bearer " + strings.ToUpper(tok))
		parts := strings.Split(tok, ".")
		f.Add("Bearer " + parts[0] + "." + parts[1] + ".")
		f.Add("Bearer " + parts[1] + "." + parts[0] + "." + parts[2])
	}
	f.Add("Bearer " + otherToken)
	f.Add("Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJpc3MiOiJjY2MtZW5yaWNoZXIifQ.")
	f.Add("")
	f.Add("Basic Zm9vOmJhcg==")
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest(http.MethodPost, "/push", nil)
		r.Header["Authorization"] = []string{header}
		err := o.Authenticate(r)
		if err != nil {
			if !errors.Is(err, ErrUnauthorized) || !retry.IsPermanent(err) {
				t.Fatalf("error %v is not a permanent ErrUnauthorized", err)
			}
			return
		}
		scheme, tok, _ := strings.Cut(header, " ")
		tok = strings.TrimLeft(tok, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			t.Fatalf("accepted scheme %q", scheme)
		}
		for _, s := range issued {
			if tok == s {
				return
			}
		}
		t.Fatalf("accepted a token that was not issued: %q", tok)
	})
}

func FuzzTokenRequest(f *testing.F) {
	basic := func(u, p string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p)) }
	good := basic(url.QueryEscape(testClientID), url.QueryEscape(testSecret))
	for _, tc := range [][2]string{
		{"grant_type=client_credentials", good},
		{"grant_type=client_credentials", basic(testClientID, testSecret)},
		{"grant_type=client_credentials&scope=a%20b", good},
		{"grant_type=client_credentials&client_id=" + url.QueryEscape(testClientID) + "&client_secret=" + url.QueryEscape(testSecret), ""},
		{"grant_type=client_credentials&client_id=" + url.QueryEscape(testClientID) + "&client_secret=" + url.QueryEscape(testSecret), good},
		{"grant_type=client_credentials&client_id=x", good},
		{"grant_type=password", good},
		{"grant_type=client_credentials&grant_type=client_credentials", good},
		{"%zz", good},
		{"", ""},
		{"grant_type=client_credentials", "Bearer x"},
		{"grant_type=client_credentials", "Basic !!"},
	} {
		f.Add(tc[0], tc[1])
	}
	o := NewOAuth2(testClientID, testSecret, time.Minute, func() time.Time { return testNow })
	h := o.TokenHandler()
	f.Fuzz(func(t *testing.T, body, authorization string) {
		r := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if authorization != "" {
			r.Header["Authorization"] = []string{authorization}
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		var reply map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &reply); err != nil {
			t.Fatalf("reply is not JSON: %q", w.Body)
		}
		switch w.Code {
		case 400, 401, 413:
			if _, ok := reply["error"].(string); !ok {
				t.Fatalf("error reply without error: %q", w.Body)
			}
			return
		case 200:
		default:
			t.Fatalf("status %d", w.Code)
		}
		// A token only for the right secret, by one of the two methods.
		form, err := url.ParseQuery(body)
		if err != nil || form.Get("grant_type") != "client_credentials" {
			t.Fatalf("token for body %q", body)
		}
		user, pass, basicOK := r.BasicAuth()
		switch {
		case basicOK:
			if !(user == testClientID && pass == testSecret || formDecode(user) == testClientID && formDecode(pass) == testSecret) {
				t.Fatalf("token for Basic %q:%q", user, pass)
			}
		case form.Get("client_id") != testClientID || form.Get("client_secret") != testSecret:
			t.Fatalf("token for body credentials %q", body)
		}
		tok, _ := reply["access_token"].(string)
		if err := o.Authenticate(requestWith("Bearer " + tok)); err != nil {
			t.Fatalf("issued token refused: %v", err)
		}
	})
}

func FuzzMaskRaw(f *testing.F) {
	for _, name := range []string{"push-cdr.json", "push-record.json", "push-voicemail.json"} {
		f.Add(load(f, name))
	}
	for _, s := range []string{
		`{"Caller":"008613812345678","Phones":["13812345678",13812345678],"EndpointUser":13123456789}`,
		`{"SeatUser":{"Phone":"+86 138 1234 5678"},"TransferTo":"foo@x","x":"\u2028<>&"}`,
		`{"a":1,"a":2,"Phone":{"Phone":"12345678"}}`, `"13812345678"`, `[1,"2",{"Callee":"3"}]`,
		`{"Callee":"xxxx13812345678","Caller":"1381234xxxx"}`, `{`, `{"Phone":"\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		// MaskPhone keeps the length and every non-digit, and is idempotent.
		s := string(raw)
		m := MaskPhone(s)
		if len(m) != len(s) || MaskPhone(m) != m {
			t.Fatalf("MaskPhone(%q) = %q", s, m)
		}
		for i := 0; i < len(s); i++ {
			if !isDigit(s[i]) && m[i] != s[i] || isDigit(s[i]) && m[i] != s[i] && m[i] != '*' {
				t.Fatalf("MaskPhone(%q) = %q", s, m)
			}
		}

		out := MaskRaw(raw)
		if !json.Valid(raw) || tooDeep(raw) {
			if out != nil {
				t.Fatalf("MaskRaw of invalid input = %q", out)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("MaskRaw(%q) = %q, not JSON", raw, out)
		}
		if again := MaskRaw(out); !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %q then %q", out, again)
		}
		a, b := decodeAny(t, raw), decodeAny(t, out)
		sameExceptPhones(t, a, b, notPhone)
	})
}

func decodeAny(t *testing.T, b []byte) any {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// sameExceptPhones checks that MaskRaw changed only the phone values.
func sameExceptPhones(t *testing.T, a, b any, kind phoneKind) {
	t.Helper()
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok || len(av) != len(bv) {
			t.Fatalf("object changed: %v → %v", a, b)
		}
		for k, v := range av {
			sameExceptPhones(t, v, bv[k], phoneKindOf(k))
		}
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			t.Fatalf("array changed: %v → %v", a, b)
		}
		for i := range av {
			sameExceptPhones(t, av[i], bv[i], kind)
		}
	case string:
		want := av
		if kind == phone || kind == maybePhone && looksLikePhone(av) {
			want = MaskPhone(av)
		}
		if b != want {
			t.Fatalf("string %q → %v, want %q", av, b, want)
		}
	case json.Number:
		var want any = av
		if kind != notPhone && isPhoneNumber(av) {
			want = MaskPhone(string(av))
		}
		if b != want {
			t.Fatalf("number %v → %v (%T), want %v", av, b, b, want)
		}
	default:
		if a != b {
			t.Fatalf("%v → %v", a, b)
		}
	}
}
