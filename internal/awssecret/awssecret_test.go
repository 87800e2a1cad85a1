package awssecret_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/ccc-enricher/ccc-enricher/internal/awssecret"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

// startMoto runs moto_server, a local Secrets Manager, for the test. It
// skips when moto_server is missing, unless CCC_ENRICHER_REQUIRE_MOTO=1.
func startMoto(t *testing.T) aws.Config {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		if os.Getenv("CCC_ENRICHER_REQUIRE_MOTO") == "1" {
			t.Fatal("moto_server not found and CCC_ENRICHER_REQUIRE_MOTO=1")
		}
		t.Skip("moto_server not found; install moto[server] or set CCC_ENRICHER_REQUIRE_MOTO=1 to make this a failure")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", port)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	endpoint := "http://127.0.0.1:" + port
	// moto_server gives no readiness signal but its port: poll it.
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(endpoint + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto_server did not start: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "testing", SecretAccessKey: "testing"}, nil
		}),
	}
}

func TestTencentSecret(t *testing.T) {
	cfg := startMoto(t)
	ctx := context.Background()
	sm := secretsmanager.NewFromConfig(cfg)
	create := func(name string, value string, binary bool) string {
		in := &secretsmanager.CreateSecretInput{Name: aws.String(name)}
		if binary {
			in.SecretBinary = []byte(value)
		} else {
			in.SecretString = aws.String(value)
		}
		out, err := sm.CreateSecret(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.ARN)
	}
	tests := []struct {
		name, arn, id, key string
		permanent          bool // for failures
	}{
		{name: "SDK names", arn: create("sdk", `{"SecretId":"AKIDsdk","SecretKey":"sdk-key"}`, false), id: "AKIDsdk", key: "sdk-key"},
		{name: "environment names", arn: create("env", `{"TENCENTCLOUD_SECRET_ID":"AKIDenv","TENCENTCLOUD_SECRET_KEY":"env-key"}`, false), id: "AKIDenv", key: "env-key"},
		{name: "binary secret", arn: create("bin", `{"SecretId":"AKIDbin","SecretKey":"bin-key"}`, true), id: "AKIDbin", key: "bin-key"},
		{name: "malformed", arn: create("bad", `AKIDbad:bad-key`, false), permanent: true},
		{name: "missing", arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:absent-AbCdEf", permanent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, key, err := awssecret.TencentSecret(ctx, cfg, tt.arn)
			if tt.id != "" {
				if err != nil || id != tt.id || key != tt.key {
					t.Fatalf("TencentSecret = %q, %q, %v; want %q, %q", id, key, err, tt.id, tt.key)
				}
				return
			}
			if err == nil {
				t.Fatalf("TencentSecret = %q, %q, nil; want an error", id, key)
			}
			if retry.IsPermanent(err) != tt.permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, !tt.permanent, tt.permanent)
			}
			if strings.Contains(err.Error(), "bad-key") || strings.Contains(err.Error(), "AKIDbad") {
				t.Errorf("error %q quotes the secret", err)
			}
		})
	}
}
