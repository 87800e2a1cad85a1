package awsconf

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/ccc-enricher/ccc-enricher/internal/config"
)

// load is config.Load's AWS part for the variables given.
func load(t *testing.T, vars map[string]string) config.AWS {
	t.Helper()
	vars["PUSH_AUTH"], vars["CCC_SDK_APP_IDS"] = "none", "1400000000"
	c, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	return c.AWS
}

// credentialServer serves the ECS credential JSON to requests bearing
// token, counting them.
type credentialServer struct {
	*httptest.Server
	mu    sync.Mutex
	calls int
}

func newCredentialServer(t *testing.T, token string) *credentialServer {
	s := &credentialServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.calls++
		s.mu.Unlock()
		if r.URL.Path != "/creds" || r.Header.Get("Authorization") != token {
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(map[string]string{"code": "Unauthorized", "message": "no"})
			return
		}
		json.NewEncoder(w).Encode(map[string]string{
			"AccessKeyId": "ASIACONTAINER", "SecretAccessKey": "container-secret", "Token": "container-session",
			"Expiration": time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
		})
	}))
	t.Cleanup(s.Close)
	return s
}

func TestCredentials(t *testing.T) {
	srv := newCredentialServer(t, "container-token")
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("container-token"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		vars map[string]string
		want aws.Credentials
		err  string
	}{
		{name: "static", vars: map[string]string{"AWS_ACCESS_KEY_ID": "AKIASTATIC", "AWS_SECRET_ACCESS_KEY": "static-secret", "AWS_SESSION_TOKEN": "static-session"},
			want: aws.Credentials{AccessKeyID: "AKIASTATIC", SecretAccessKey: "static-secret", SessionToken: "static-session"}},
		{name: "container with token", vars: map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": srv.URL + "/creds", "AWS_CONTAINER_AUTHORIZATION_TOKEN": "container-token"},
			want: aws.Credentials{AccessKeyID: "ASIACONTAINER", SecretAccessKey: "container-secret", SessionToken: "container-session", CanExpire: true}},
		{name: "container with token file", vars: map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": srv.URL + "/creds", "AWS_CONTAINER_AUTHORIZATION_TOKEN": "stale", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile},
			want: aws.Credentials{AccessKeyID: "ASIACONTAINER", SecretAccessKey: "container-secret", SessionToken: "container-session", CanExpire: true}},
		{name: "container refuses", vars: map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": srv.URL + "/creds", "AWS_CONTAINER_AUTHORIZATION_TOKEN": "wrong-token"},
			err: "failed to load credentials"},
		{name: "token file missing", vars: map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": srv.URL + "/creds", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile + ".absent"},
			err: "container authorization token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := New(load(t, tt.vars))
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := cfg.Credentials.(*aws.CredentialsCache); !ok {
				t.Errorf("credentials are a %T, not behind the SDK's cache", cfg.Credentials)
			}
			got, err := cfg.Credentials.Retrieve(context.Background())
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Retrieve: %v, want an error containing %q", err, tt.err)
				}
				if strings.Contains(err.Error(), "container-token") {
					t.Errorf("error %q carries the token", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.AccessKeyID != tt.want.AccessKeyID || got.SecretAccessKey != tt.want.SecretAccessKey ||
				got.SessionToken != tt.want.SessionToken || got.CanExpire != tt.want.CanExpire {
				t.Errorf("credentials %s (expiring %v), want %s (expiring %v)", got.AccessKeyID, got.CanExpire, tt.want.AccessKeyID, tt.want.CanExpire)
			}
		})
	}
}

// The container credentials are fetched once for every client sharing the
// configuration, not once per request.
func TestContainerCached(t *testing.T) {
	srv := newCredentialServer(t, "container-token")
	cfg, err := New(load(t, map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": srv.URL + "/creds", "AWS_CONTAINER_AUTHORIZATION_TOKEN": "container-token"}))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := cfg.Credentials.Retrieve(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.calls != 1 {
		t.Errorf("%d fetches, want 1", srv.calls)
	}
}

// With neither keys nor a container endpoint, the credential is the EC2
// instance role, from instance metadata (IMDSv2).
func TestInstanceRole(t *testing.T) {
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token":
			w.Header().Set("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", "21600")
			w.Write([]byte("imds-token"))
		case r.Header.Get("X-Aws-Ec2-Metadata-Token") != "imds-token":
			w.WriteHeader(http.StatusUnauthorized)
		case r.URL.Path == "/latest/meta-data/iam/security-credentials/":
			w.Write([]byte("worker-role"))
		case r.URL.Path == "/latest/meta-data/iam/security-credentials/worker-role":
			json.NewEncoder(w).Encode(map[string]string{"Code": "Success", "AccessKeyId": "ASIAINSTANCE", "SecretAccessKey": "instance-secret",
				"Token": "instance-session", "Expiration": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
		default:
			http.NotFound(w, r)
		}
	}))
	defer imds.Close()
	// The SDK's metadata client reads its endpoint from the environment.
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.URL)
	cfg, err := New(load(t, map[string]string{"AWS_REGION": "eu-west-1"}))
	if err != nil {
		t.Fatal(err)
	}
	got, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessKeyID != "ASIAINSTANCE" || got.SessionToken != "instance-session" || !got.CanExpire {
		t.Errorf("credentials %s, want the instance role's", got.AccessKeyID)
	}
}

func TestEndpoints(t *testing.T) {
	tests := []struct {
		name                string
		vars                map[string]string
		sqs, s3, secretsmgr string
	}{
		{name: "none", vars: map[string]string{}},
		{name: "every service", vars: map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:4566"},
			sqs: "http://127.0.0.1:4566", s3: "http://127.0.0.1:4566", secretsmgr: "http://127.0.0.1:4566"},
		{name: "one service", vars: map[string]string{"AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:5000"}, sqs: "http://127.0.0.1:5000"},
		{name: "services before the global one", vars: map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
			"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:5001", "AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://127.0.0.1:5002"},
			sqs: "http://127.0.0.1:4566", s3: "http://127.0.0.1:5001", secretsmgr: "http://127.0.0.1:5002"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.vars["AWS_ACCESS_KEY_ID"], tt.vars["AWS_SECRET_ACCESS_KEY"] = "AKIASTATIC", "static-secret"
			cfg, err := New(load(t, tt.vars))
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				service   string
				got, want string
			}{
				{"SQS", aws.ToString(sqs.NewFromConfig(cfg).Options().BaseEndpoint), tt.sqs},
				{"S3", aws.ToString(s3.NewFromConfig(cfg).Options().BaseEndpoint), tt.s3},
				{"Secrets Manager", aws.ToString(secretsmanager.NewFromConfig(cfg).Options().BaseEndpoint), tt.secretsmgr},
			} {
				if c.got != c.want {
					t.Errorf("%s endpoint %q, want %q", c.service, c.got, c.want)
				}
			}
		})
	}
}

// A client built from the configuration sends to the overriding endpoint,
// signed with the container's credentials, in the configured region.
func TestClientSigns(t *testing.T) {
	creds := newCredentialServer(t, "")
	var auth string
	queue := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Write([]byte(`{"QueueUrl":"http://127.0.0.1/1/q"}`))
	}))
	defer queue.Close()
	cfg, err := New(load(t, map[string]string{"AWS_REGION": "ap-southeast-1", "AWS_CONTAINER_CREDENTIALS_FULL_URI": creds.URL + "/creds",
		"AWS_ENDPOINT_URL_SQS": queue.URL}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqs.NewFromConfig(cfg).GetQueueUrl(context.Background(), &sqs.GetQueueUrlInput{QueueName: aws.String("q")}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(auth, "Credential=ASIACONTAINER/") || !strings.Contains(auth, "/ap-southeast-1/sqs/") {
		t.Errorf("Authorization %q: want the container's key in ap-southeast-1", auth)
	}
}

// New refuses what config.AWS.Check refuses.
func TestNewErrors(t *testing.T) {
	for _, tt := range []struct {
		vars map[string]string
		err  string
	}{
		{map[string]string{"AWS_ACCESS_KEY_ID": "AKIASTATIC"}, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is empty"},
		{map[string]string{"AWS_ENDPOINT_URL_SQS": "localhost:5000"}, "AWS_ENDPOINT_URL_SQS must be an http or https URL"},
		{map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://192.0.2.1/creds"}, "AWS_CONTAINER_CREDENTIALS_FULL_URI over http must be on loopback"},
	} {
		if _, err := New(load(t, tt.vars)); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("New(%v) = %v, want an error containing %q", tt.vars, err, tt.err)
		}
	}
}
