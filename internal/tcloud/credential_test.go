package tcloud

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"

	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

// env is a fake environment, safe for concurrent use.
type env struct {
	mu   sync.Mutex
	vars map[string]string
}

func newEnv(kv ...string) *env {
	e := &env{vars: map[string]string{}}
	e.set(kv...)
	return e
}

func (e *env) set(kv ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := 0; i+1 < len(kv); i += 2 {
		e.vars[kv[i]] = kv[i+1]
	}
}

func (e *env) get(k string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.vars[k]
}

type tuple struct{ id, key, token string }

func tupleOf(c common.CredentialIface) tuple {
	id, key, token := c.GetCredential()
	return tuple{id, key, token}
}

// rotating is the SCF role credential as config reads it: the three
// values from e, read again at every call.
func rotating(e *env) func() Keys {
	return func() Keys { return Keys{ID: e.get("id"), Key: e.get("key"), Token: e.get("token")} }
}

func TestNewCredential(t *testing.T) {
	scf := newEnv("id", "scf-id", "key", "scf-key", "token", "scf-token")
	sdk := Keys{ID: "sdk-id", Key: "sdk-key"}
	tests := []struct {
		name string
		c    Credentials
		want tuple
		err  string
	}{
		{name: "scf role", c: Credentials{Rotating: rotating(scf)}, want: tuple{"scf-id", "scf-key", "scf-token"}},
		{name: "sdk keys", c: Credentials{Static: sdk}, want: tuple{"sdk-id", "sdk-key", ""}},
		{name: "sdk keys with token", c: Credentials{Static: Keys{"sdk-id", "sdk-key", "sdk-token"}}, want: tuple{"sdk-id", "sdk-key", "sdk-token"}},
		{name: "scf wins over sdk", c: Credentials{Static: sdk, Rotating: rotating(scf)}, want: tuple{"scf-id", "scf-key", "scf-token"}},
		{name: "nothing", err: errNoCredential.Error()},
		{name: "half a key pair", c: Credentials{Static: Keys{ID: "sdk-id"}}, err: errNoCredential.Error()},
		{name: "role without base keys", c: Credentials{RoleARN: "qcs::cam::uin/1:roleName/r"}, err: errNoCredential.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cred, err := NewCredential(tt.c)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tupleOf(cred); got != tt.want {
				t.Errorf("credential = %+v, want %+v", got, tt.want)
			}
			if cred.GetSecretId() != tt.want.id || cred.GetSecretKey() != tt.want.key || cred.GetToken() != tt.want.token {
				t.Error("the single getters disagree with GetCredential")
			}
		})
	}
}

func TestSCFCredentialRotates(t *testing.T) {
	e := newEnv("id", "id-1", "key", "key-1", "token", "token-1")
	cred, err := NewCredential(Credentials{Rotating: rotating(e)})
	if err != nil {
		t.Fatal(err)
	}
	if got := tupleOf(cred); got != (tuple{"id-1", "key-1", "token-1"}) {
		t.Fatalf("first credential = %+v", got)
	}
	e.set("id", "id-2", "key", "key-2", "token", "token-2")
	if got := tupleOf(cred); got != (tuple{"id-2", "key-2", "token-2"}) {
		t.Fatalf("after rotation = %+v", got)
	}
}

// A rotation that lands between the reads of one tuple must not produce a
// torn tuple.
func TestSCFCredentialTornRead(t *testing.T) {
	old := map[string]string{"id": "id-1", "key": "key-1", "token": "token-1"}
	cur := map[string]string{"id": "id-2", "key": "key-2", "token": "token-2"}
	for rotateAt := 1; rotateAt <= 3; rotateAt++ {
		reads := 0
		getenv := func(k string) string {
			reads++
			if reads <= rotateAt {
				return old[k]
			}
			return cur[k]
		}
		c := &rotatingCredential{read: func() Keys { return Keys{ID: getenv("id"), Key: getenv("key"), Token: getenv("token")} }}
		if got := tupleOf(c); got != (tuple{"id-2", "key-2", "token-2"}) {
			t.Errorf("rotation after read %d: credential = %+v", rotateAt, got)
		}
	}
}

func TestStaticCredential(t *testing.T) {
	if got := tupleOf(StaticCredential("i", "k", "t")); got != (tuple{"i", "k", "t"}) {
		t.Errorf("StaticCredential = %+v", got)
	}
}

// fakeSTS answers AssumeRole on loopback over TLS (the SDK's STS client
// speaks only https) and records what it was asked.
type fakeSTS struct {
	t        *testing.T
	mu       sync.Mutex
	calls    int
	lifetime int64 // seconds of validity in each reply
	code     string
	got      []stsCall
}

type stsCall struct {
	secretID, token string
	RoleArn         string
	RoleSessionName string
	DurationSeconds int64
}

func (s *fakeSTS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Header.Get("X-TC-Action") != "AssumeRole" || r.Header.Get("X-TC-Version") != "2018-08-13" {
		s.t.Errorf("STS got action %q version %q", r.Header.Get("X-TC-Action"), r.Header.Get("X-TC-Version"))
	}
	var c stsCall
	if err := json.NewDecoder(r.Body).Decode(&c); err != nil {
		s.t.Errorf("STS body: %v", err)
	}
	c.secretID = secretIDOf(r.Header.Get("Authorization"))
	c.token = r.Header.Get("X-TC-Token")
	s.got = append(s.got, c)
	s.calls++
	w.Header().Set("Content-Type", "application/json")
	if s.code != "" {
		fmt.Fprintf(w, `{"Response":{"Error":{"Code":%q,"Message":"no"},"RequestId":"sts-req"}}`, s.code)
		return
	}
	exp := time.Now().Unix() + s.lifetime
	fmt.Fprintf(w, `{"Response":{"Credentials":{"Token":"tmp-token-%d","TmpSecretId":"tmp-id-%d","TmpSecretKey":"tmp-key-%d"},"ExpiredTime":%d,"Expiration":%q,"RequestId":"sts-req"}}`,
		s.calls, s.calls, s.calls, exp, time.Unix(exp, 0).UTC().Format(time.RFC3339))
}

// startSTS starts a fakeSTS and points the SDK's STS client at it. The SDK
// builds that client itself, so the test trusts the server's certificate
// through common.DefaultHttpClient, restored afterwards (no other test of
// this package runs meanwhile: none is parallel).
func startSTS(t *testing.T, lifetime int64) (*fakeSTS, string) {
	sts := &fakeSTS{t: t, lifetime: lifetime}
	srv := httptest.NewTLSServer(sts)
	t.Cleanup(srv.Close)
	common.DefaultHttpClient = srv.Client()
	t.Cleanup(func() { common.DefaultHttpClient = nil })
	return sts, srv.Listener.Addr().String()
}

func TestAssumeRole(t *testing.T) {
	const arn = "qcs::cam::uin/100000000001:roleName/ccc-reader"
	scf := newEnv("id", "scf-id", "key", "scf-key", "token", "scf-token")
	tests := []struct {
		name     string
		c        Credentials
		wantBase tuple // the credential STS is called with (key unseen)
		wantName string
	}{
		{
			name:     "sdk keys",
			c:        Credentials{Static: Keys{ID: "sdk-id", Key: "sdk-key"}},
			wantBase: tuple{id: "sdk-id"}, wantName: "ccc-enricher",
		},
		{
			name:     "sdk keys beat scf role, custom session name",
			c:        Credentials{Static: Keys{"sdk-id", "sdk-key", "sdk-token"}, Rotating: rotating(scf), RoleSessionName: "nightly"},
			wantBase: tuple{id: "sdk-id", token: "sdk-token"}, wantName: "nightly",
		},
		{
			name:     "scf role chains",
			c:        Credentials{Rotating: rotating(scf)},
			wantBase: tuple{id: "scf-id", token: "scf-token"}, wantName: "ccc-enricher",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sts, host := startSTS(t, 7200)
			tt.c.RoleARN, tt.c.STSEndpoint = arn, host
			cred, err := NewCredential(tt.c)
			if err != nil {
				t.Fatal(err)
			}
			if got := tupleOf(cred); got != (tuple{"tmp-id-1", "tmp-key-1", "tmp-token-1"}) {
				t.Errorf("assumed credential = %+v", got)
			}
			// Still fresh: no second AssumeRole.
			tupleOf(cred)
			if sts.calls != 1 {
				t.Errorf("STS called %d times, want 1", sts.calls)
			}
			got := sts.got[0]
			want := stsCall{secretID: tt.wantBase.id, token: tt.wantBase.token, RoleArn: arn, RoleSessionName: tt.wantName, DurationSeconds: 7200}
			if got != want {
				t.Errorf("AssumeRole request = %+v, want %+v", got, want)
			}
		})
	}
}

// The SDK's RoleArnCredential renews itself once a tenth of its lifetime
// has passed; with a base SCF credential, the renewal signs with the
// rotated one.
func TestAssumeRoleRenews(t *testing.T) {
	sts, host := startSTS(t, 6480) // 7200 − 6480 leaves nothing: stale at once
	e := newEnv("id", "scf-id-1", "key", "k", "token", "t1")
	cred, err := NewCredential(Credentials{Rotating: rotating(e), RoleARN: "qcs::cam::uin/1:roleName/r", STSEndpoint: host})
	if err != nil {
		t.Fatal(err)
	}
	e.set("id", "scf-id-2", "token", "t2")
	if got := tupleOf(cred); got.id != "tmp-id-2" {
		t.Errorf("after expiry, credential = %+v; want the renewed tmp-id-2", got)
	}
	if sts.calls != 2 || sts.got[1].secretID != "scf-id-2" || sts.got[1].token != "t2" {
		t.Errorf("renewal: %d calls, last %+v; want 2, signed with scf-id-2", sts.calls, sts.got[len(sts.got)-1])
	}
}

func TestAssumeRoleRefused(t *testing.T) {
	sts, host := startSTS(t, 7200)
	sts.code = "AuthFailure.SecretIdNotFound"
	_, err := NewCredential(Credentials{Static: Keys{ID: "sdk-id", Key: "sdk-key"}, RoleARN: "qcs::cam::uin/1:roleName/r", STSEndpoint: host})
	if err == nil || !retry.IsPermanent(err) || !IsCode(err, "AuthFailure.SecretIdNotFound") {
		t.Fatalf("err = %v; want a permanent AuthFailure.SecretIdNotFound", err)
	}
	if strings.Contains(err.Error(), "sdk-key") {
		t.Errorf("error %q contains the key", err)
	}
	if !strings.Contains(err.Error(), "assume role qcs::cam::uin/1:roleName/r") {
		t.Errorf("error %q does not name the role", err)
	}
	var api *APIError
	if !errors.As(err, &api) || api.RequestID != "sts-req" {
		t.Errorf("error %v lacks the request id", err)
	}
}
