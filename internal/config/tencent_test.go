package config

import (
	"strings"
	"testing"

	"github.com/ccc-enricher/ccc-enricher/internal/tcloud"
)

func TestTencentCredentials(t *testing.T) {
	scf := map[string]string{"TENCENTCLOUD_SECRETID": "scf-id", "TENCENTCLOUD_SECRETKEY": "scf-key", "TENCENTCLOUD_SESSIONTOKEN": "scf-token"}
	sdk := map[string]string{"TENCENTCLOUD_SECRET_ID": "sdk-id", "TENCENTCLOUD_SECRET_KEY": "sdk-key"}
	const arn = "qcs::cam::uin/1:roleName/r"
	tests := []struct {
		name     string
		env      map[string]string
		rotating tcloud.Keys
		static   tcloud.Keys
		sts      string
		err      string
	}{
		{name: "scf role", env: scf, rotating: tcloud.Keys{ID: "scf-id", Key: "scf-key", Token: "scf-token"}},
		{name: "scf without token", env: with(scf, map[string]string{"TENCENTCLOUD_SESSIONTOKEN": ""}), rotating: tcloud.Keys{ID: "scf-id", Key: "scf-key"}},
		{name: "sdk keys", env: sdk, static: tcloud.Keys{ID: "sdk-id", Key: "sdk-key"}},
		{name: "sdk keys with token", env: with(sdk, map[string]string{"TENCENTCLOUD_SESSION_TOKEN": "sdk-token"}), static: tcloud.Keys{ID: "sdk-id", Key: "sdk-key", Token: "sdk-token"}},
		{name: "both", env: with(scf, sdk), rotating: tcloud.Keys{ID: "scf-id", Key: "scf-key", Token: "scf-token"}, static: tcloud.Keys{ID: "sdk-id", Key: "sdk-key"}},
		{name: "role with sts", env: with(sdk, map[string]string{"TENCENTCLOUD_ROLE_ARN": arn, "TENCENTCLOUD_STS_ENDPOINT": "sts.example.com:8443"}), static: tcloud.Keys{ID: "sdk-id", Key: "sdk-key"}, sts: "sts.example.com:8443"},
		{name: "nothing", err: ErrNoCredential.Error()},
		{name: "only a token", env: map[string]string{"TENCENTCLOUD_SESSIONTOKEN": "t"}, err: ErrNoCredential.Error()},
		{name: "scf id alone", env: map[string]string{"TENCENTCLOUD_SECRETID": "scf-id"}, err: "TENCENTCLOUD_SECRETID is set but TENCENTCLOUD_SECRETKEY is empty"},
		{name: "sdk key alone", env: with(scf, map[string]string{"TENCENTCLOUD_SECRET_KEY": "sdk-key"}), err: "TENCENTCLOUD_SECRET_KEY is set but TENCENTCLOUD_SECRET_ID is empty"},
		{name: "role without base keys", env: map[string]string{"TENCENTCLOUD_ROLE_ARN": arn}, err: "TENCENTCLOUD_ROLE_ARN is set but no base keys"},
		{name: "role with http sts", env: with(sdk, map[string]string{"TENCENTCLOUD_ROLE_ARN": arn, "TENCENTCLOUD_STS_ENDPOINT": "http://127.0.0.1:1"}), err: "TENCENTCLOUD_STS_ENDPOINT: must be https"},
		{name: "role with bad sts", env: with(sdk, map[string]string{"TENCENTCLOUD_ROLE_ARN": arn, "TENCENTCLOUD_STS_ENDPOINT": "sts/x"}), err: "TENCENTCLOUD_STS_ENDPOINT: endpoint must be a host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(env(base(tt.env)))
			if err != nil {
				t.Fatalf("Load: %v (credential problems are not Load's)", err)
			}
			creds, err := c.Tencent.Credentials()
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
			var rotating tcloud.Keys
			if creds.Rotating != nil {
				rotating = creds.Rotating()
			}
			if rotating != tt.rotating || creds.Static != tt.static || creds.STSEndpoint != tt.sts {
				t.Errorf("credentials: rotating %+v, static %+v, sts %q; want %+v, %+v, %q", rotating, creds.Static, creds.STSEndpoint, tt.rotating, tt.static, tt.sts)
			}
		})
	}
}

// The SCF role credential is read again at every call: SCF rotates it.
func TestTencentRotatingRereads(t *testing.T) {
	vars := base(map[string]string{"TENCENTCLOUD_SECRETID": "id-1", "TENCENTCLOUD_SECRETKEY": "key-1", "TENCENTCLOUD_SESSIONTOKEN": "token-1"})
	c, err := Load(env(vars))
	if err != nil {
		t.Fatal(err)
	}
	creds, err := c.Tencent.Credentials()
	if err != nil {
		t.Fatal(err)
	}
	vars["TENCENTCLOUD_SECRETID"], vars["TENCENTCLOUD_SECRETKEY"], vars["TENCENTCLOUD_SESSIONTOKEN"] = "id-2", "key-2", "token-2"
	if got := creds.Rotating(); got != (tcloud.Keys{ID: "id-2", Key: "key-2", Token: "token-2"}) {
		t.Errorf("after rotation: %+v", got)
	}
}

func TestRuntime(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want Runtime
		err  string
	}{
		{env: nil, want: Runtime{Platform: PlatformLocal}},
		{env: map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"}, want: Runtime{Platform: PlatformLambda}},
		{env: map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "SCF_RUNTIME_API": "x"}, want: Runtime{Platform: PlatformLambda}},
		{env: map[string]string{"SCF_RUNTIME_API": "127.0.0.1", "SCF_RUNTIME_API_PORT": "9001"}, want: Runtime{Platform: PlatformSCF, SCFRuntimeAPI: "127.0.0.1:9001"}},
		{env: map[string]string{"SCF_RUNTIME_API": "::1", "SCF_RUNTIME_API_PORT": "9001"}, want: Runtime{Platform: PlatformSCF, SCFRuntimeAPI: "[::1]:9001"}},
		{env: map[string]string{"SCF_RUNTIME_API": "127.0.0.1"}, err: "SCF_RUNTIME_API_PORT must be a port number"},
		{env: map[string]string{"SCF_RUNTIME_API": "127.0.0.1", "SCF_RUNTIME_API_PORT": "x"}, err: "SCF_RUNTIME_API_PORT must be a port number"},
	}
	for _, tt := range tests {
		c, err := Load(env(base(tt.env)))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%v: err = %v, want %q", tt.env, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tt.env, err)
			continue
		}
		if c.Runtime != tt.want {
			t.Errorf("%v: Runtime = %+v, want %+v", tt.env, c.Runtime, tt.want)
		}
	}
}
