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

func TestCredentialFromEnv(t *testing.T) {
	scf := []string{envSCFSecretID, "scf-id", envSCFSecretKey, "scf-key", envSCFSessionToken, "scf-token"}
	sdk := []string{envSecretID, "sdk-id", envSecretKey, "sdk-key"}
	tests := []struct {
		name string
		env  []string
		want tuple
		err  string
	}{
		{name: "scf role", env: scf, want: tuple{"scf-id", "scf-key", "scf-token"}},
		{name: "scf without token", env: scf[:4], want: tuple{"scf-id", "scf-key", ""}},
		{name: "sdk keys", env: sdk, want: tuple{"sdk-id", "sdk-key", ""}},
		{name: "sdk keys with token", env: append(sdk[:4:4], envSessionToken, "sdk-token"), want: tuple{"sdk-id", "sdk-key", "sdk-token"}},
		{name: "scf wins over sdk", env: append(scf[:6:6], sdk...), want: tuple{"scf-id", "scf-key", "scf-token"}},
		{name: "nothing", err: ErrNoCredential.Error()},
		{name: "only a token", env: []string{envSCFSessionToken, "t"}, err: ErrNoCredential.Error()},
		{name: "scf id alone", env: []string{envSCFSecretID, "scf-id"}, err: "TENCENTCLOUD_SECRETID is set but TENCENTCLOUD_SECRETKEY is empty"},
		{name: "sdk key alone", env: append(scf[:6:6], envSecretKey, "sdk-key"), err: "TENCENTCLOUD_SECRET_KEY is set but TENCENTCLOUD_SECRET_ID is empty"},
		{name: "role without base keys", env: []string{envRoleArn, "qcs::cam::uin/1:roleName/r"}, err: "TENCENTCLOUD_ROLE_ARN is set but no base keys"},
		{name: "role with http sts", env: append(sdk[:4:4], envRoleArn, "qcs::cam::uin/1:roleName/r", envSTSEndpoint, "http://127.0.0.1:1"), err: "must be https"},
		{name: "role with bad sts", env: append(sdk[:4:4], envRoleArn, "qcs::cam::uin/1:roleName/r", envSTSEndpoint, "sts/x"), err: "TENCENTCLOUD_STS_ENDPOINT: endpoint must be a host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cred, err := CredentialFromEnv(newEnv(tt.env...).get)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one containing %q", err, tt.err)
				}
				for _, secret := range []string{"scf-key", "sdk-key", "scf-token"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q contains a secret", err)
					}
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
	e := newEnv(envSCFSecretID, "id-1", envSCFSecretKey, "key-1", envSCFSessionToken, "token-1")
	cred, err := CredentialFromEnv(e.get)
	if err != nil {
		t.Fatal(err)
	}
	if got := tupleOf(cred); got != (tuple{"id-1", "key-1", "token-1"}) {
		t.Fatalf("first credential = %+v", got)
	}
	e.set(envSCFSecretID, "id-2", envSCFSecretKey, "key-2", envSCFSessionToken, "token-2")
	if got := tupleOf(cred); got != (tuple{"id-2", "key-2", "token-2"}) {
		t.Fatalf("after rotation = %+v", got)
	}
}

// A rotation that lands between the reads of one tuple must not produce a
// torn tuple.
func TestSCFCredentialTornRead(t *testing.T) {
	old := map[string]string{envSCFSecretID: "id-1", envSCFSecretKey: "key-1", envSCFSessionToken: "token-1"}
	cur := map[string]string{envSCFSecretID: "id-2", envSCFSecretKey: "key-2", envSCFSessionToken: "token-2"}
	for rotateAt := 1; rotateAt <= 3; rotateAt++ {
		reads := 0
		getenv := func(k string) string {
			reads++
			if reads <= rotateAt {
				return old[k]
			}
			return cur[k]
		}
		c := &envCredential{getenv: getenv, id: envSCFSecretID, key: envSCFSecretKey, token: envSCFSessionToken}
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
	tests := []struct {
		name      string
		env       []string
		wantBase  tuple // the credential STS is called with (key unseen)
		wantName  string
		scfRotate bool
	}{
		{
			name:     "sdk keys",
			env:      []string{envSecretID, "sdk-id", envSecretKey, "sdk-key"},
			wantBase: tuple{id: "sdk-id"}, wantName: "ccc-enricher",
		},
		{
			name: "sdk keys beat scf role, custom session name",
			env: []string{envSecretID, "sdk-id", envSecretKey, "sdk-key", envSessionToken, "sdk-token",
				envSCFSecretID, "scf-id", envSCFSecretKey, "scf-key", envRoleSessionName, "nightly"},
			wantBase: tuple{id: "sdk-id", token: "sdk-token"}, wantName: "nightly",
		},
		{
			name:     "scf role chains",
			env:      []string{envSCFSecretID, "scf-id", envSCFSecretKey, "scf-key", envSCFSessionToken, "scf-token"},
			wantBase: tuple{id: "scf-id", token: "scf-token"}, wantName: "ccc-enricher",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sts, host := startSTS(t, 7200)
			e := newEnv(append(tt.env, envRoleArn, arn, envSTSEndpoint, host)...)
			cred, err := CredentialFromEnv(e.get)
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
	e := newEnv(envSCFSecretID, "scf-id-1", envSCFSecretKey, "k", envSCFSessionToken, "t1",
		envRoleArn, "qcs::cam::uin/1:roleName/r", envSTSEndpoint, host)
	cred, err := CredentialFromEnv(e.get)
	if err != nil {
		t.Fatal(err)
	}
	e.set(envSCFSecretID, "scf-id-2", envSCFSessionToken, "t2")
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
	e := newEnv(envSecretID, "sdk-id", envSecretKey, "sdk-key", envRoleArn, "qcs::cam::uin/1:roleName/r", envSTSEndpoint, host)
	_, err := CredentialFromEnv(e.get)
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
