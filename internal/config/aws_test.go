package config

import (
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
)

func TestAWS(t *testing.T) {
	lambda := map[string]string{"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1",
		"AWS_ACCESS_KEY_ID": "ASIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "lambda-secret", "AWS_SESSION_TOKEN": "lambda-token"}
	ecs := map[string]string{"AWS_REGION": "us-east-1", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc"}
	tests := []struct {
		name string
		env  map[string]string
		want AWS
		err  string
	}{
		{name: "nothing: the instance role", want: AWS{}},
		{name: "lambda", env: lambda, want: AWS{Region: "eu-west-1", Keys: AWSKeys{ID: "ASIAEXAMPLE", Secret: "lambda-secret", Token: "lambda-token"}}},
		{name: "default region", env: map[string]string{"AWS_DEFAULT_REGION": "ap-southeast-1"}, want: AWS{Region: "ap-southeast-1"}},
		{name: "AWS_REGION first", env: map[string]string{"AWS_REGION": " us-west-2 ", "AWS_DEFAULT_REGION": "ap-southeast-1"}, want: AWS{Region: "us-west-2"}},
		{name: "keys without token", env: map[string]string{"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "s"}, want: AWS{Keys: AWSKeys{ID: "AKIAEXAMPLE", Secret: "s"}}},
		{name: "ecs relative", env: ecs, want: AWS{Region: "us-east-1", Container: AWSContainer{URL: "http://169.254.170.2/v2/credentials/abc"}}},
		{name: "keys before the container", env: with(ecs, map[string]string{"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "s"}),
			want: AWS{Region: "us-east-1", Keys: AWSKeys{ID: "AKIAEXAMPLE", Secret: "s"}}},
		{name: "relative before full", env: with(ecs, map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "https://creds.example.com/x"}),
			want: AWS{Region: "us-east-1", Container: AWSContainer{URL: "http://169.254.170.2/v2/credentials/abc"}}},
		{name: "full on loopback with token", env: map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9911/creds", "AWS_CONTAINER_AUTHORIZATION_TOKEN": "container-token"},
			want: AWS{Container: AWSContainer{URL: "http://127.0.0.1:9911/creds", Token: "container-token"}}},
		{name: "full on eks pod identity", env: map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.23/v1/credentials", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "/var/run/token"},
			want: AWS{Container: AWSContainer{URL: "http://169.254.170.23/v1/credentials", TokenFile: "/var/run/token"}}},
		{name: "full on eks ipv6", env: map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://[fd00:ec2::23]/v1/credentials"},
			want: AWS{Container: AWSContainer{URL: "http://[fd00:ec2::23]/v1/credentials"}}},
		{name: "full on localhost", env: map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://localhost:1/c"}, want: AWS{Container: AWSContainer{URL: "http://localhost:1/c"}}},
		{name: "full over https anywhere", env: map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "https://creds.example.com/x"}, want: AWS{Container: AWSContainer{URL: "https://creds.example.com/x"}}},
		{name: "endpoints", env: map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:5000",
			"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:5001", "AWS_ENDPOINT_URL_SECRETS_MANAGER": "https://sm.example.com"},
			want: AWS{Endpoint: "http://127.0.0.1:4566", ServiceEndpoints: map[string]string{"SQS": "http://127.0.0.1:5000", "S3": "http://127.0.0.1:5001", "Secrets Manager": "https://sm.example.com"}}},

		{name: "key id alone", env: map[string]string{"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE"}, err: "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is empty"},
		{name: "secret alone", env: with(ecs, map[string]string{"AWS_SECRET_ACCESS_KEY": "lambda-secret"}), err: "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is empty"},
		{name: "token alone", env: map[string]string{"AWS_SESSION_TOKEN": "lambda-token"}, err: "AWS_SESSION_TOKEN is set but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are empty"},
		{name: "relative not a path", env: map[string]string{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "v2/creds"}, err: "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must be a path starting with /"},
		{name: "full over http elsewhere", env: map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://creds.example.com/x"}, err: "AWS_CONTAINER_CREDENTIALS_FULL_URI over http must be on loopback"},
		{name: "full not a URL", env: map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": "/creds"}, err: "AWS_CONTAINER_CREDENTIALS_FULL_URI must be an http or https URL"},
		{name: "bad endpoint", env: map[string]string{"AWS_ENDPOINT_URL": "127.0.0.1:4566"}, err: "AWS_ENDPOINT_URL must be an http or https URL"},
		{name: "bad service endpoint, password hidden", env: map[string]string{"AWS_ENDPOINT_URL_SQS": "ftp://user:lambda-secret@host"}, err: "AWS_ENDPOINT_URL_SQS must be an http or https URL"},
		{name: "bad region", env: map[string]string{"AWS_REGION": "us east 1"}, err: "AWS_REGION (or AWS_DEFAULT_REGION) must be a region name"},
		{name: "every problem", env: map[string]string{"AWS_REGION": "us/east", "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_ENDPOINT_URL_S3": "s3"},
			err: "AWS_REGION (or AWS_DEFAULT_REGION) must be a region name such as us-east-1\nAWS_ENDPOINT_URL_S3 must be an http or https URL such as http://127.0.0.1:5000\nAWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(env(base(tt.env)))
			if err != nil {
				t.Fatalf("Load: %v (AWS problems are not Load's)", err)
			}
			err = c.AWS.Check()
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Check = %v, want an error containing %q", err, tt.err)
				}
				for _, secret := range []string{"lambda-secret", "lambda-token"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q contains a secret", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := c.AWS
			got.err = nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("AWS = %+v %v, want %+v %v", got, got.Keys.ID, tt.want, tt.want.Keys.ID)
			}
			if got.Keys != tt.want.Keys {
				t.Errorf("keys differ") // DeepEqual above, without printing them
			}
		})
	}
}

// The keys and the container token never print, however the struct is
// formatted or logged.
func TestAWSRedacted(t *testing.T) {
	c, err := Load(env(base(map[string]string{"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "the-secret-key",
		"AWS_SESSION_TOKEN": "the-session-token", "AWS_CONTAINER_AUTHORIZATION_TOKEN": "the-container-token"})))
	if err != nil {
		t.Fatal(err)
	}
	cont := AWSContainer{URL: "http://127.0.0.1/c", Token: "the-container-token"}
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "aws", c.AWS, "keys", c.AWS.Keys, "container", cont)
	for _, out := range []string{
		fmt.Sprint(c.AWS), fmt.Sprintf("%+v", c.AWS), fmt.Sprintf("%#v", c.AWS), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", cont), fmt.Sprintf("%#v", cont),
		logged.String(),
	} {
		for _, secret := range []string{"the-secret-key", "the-session-token", "the-container-token"} {
			if strings.Contains(out, secret) {
				t.Errorf("%q shows %s", out, secret)
			}
		}
	}
	if !strings.Contains(fmt.Sprintf("%+v", cont), "http://127.0.0.1/c") {
		t.Errorf("%+v hides the URL too", cont)
	}
}

func with(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}
