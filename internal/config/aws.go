package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
)

// AWS is what the AWS SDK clients (SQS, S3, Secrets Manager) are built
// from: the variables AWS Lambda, ECS and Fargate set, read here instead
// of by the SDK's configuration loader, which would also read ~/.aws,
// profiles and SSO caches and link STS, SSO and credential_process in.
type AWS struct {
	// Region is AWS_REGION, else AWS_DEFAULT_REGION.
	Region string
	// Keys are AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
	// AWS_SESSION_TOKEN (what Lambda gives a function); the zero AWSKeys
	// when unset. They come first, as in the SDK's chain.
	Keys AWSKeys
	// Container is the container credentials endpoint (ECS, Fargate, EKS
	// Pod Identity, some Lambda modes), used when Keys are unset; its URL
	// is "" when there is none. With neither, the EC2 instance role
	// (instance metadata) is the credential.
	Container AWSContainer
	// Endpoint is AWS_ENDPOINT_URL, every service's endpoint.
	Endpoint string
	// ServiceEndpoints are AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_S3 and
	// AWS_ENDPOINT_URL_SECRETS_MANAGER by the SDK's service id ("SQS",
	// "S3", "Secrets Manager"): they take precedence over Endpoint.
	ServiceEndpoints map[string]string

	// err says what is wrong with the variables above.
	err error
}

// AWSKeys are static AWS credentials. They print as "[redacted]" (with
// fmt, in slog and as JSON, also inside AWS), so that no log line or error
// can carry them.
type AWSKeys struct {
	ID, Secret, Token string
}

// String hides the keys.
func (AWSKeys) String() string { return "[redacted]" }

// GoString hides the keys from %#v.
func (AWSKeys) GoString() string { return "config.AWSKeys{[redacted]}" }

// LogValue hides the keys from slog.
func (AWSKeys) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// MarshalJSON hides the keys from encoding/json, which slog's JSON
// handler uses for a struct that holds them.
func (AWSKeys) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }

// AWSContainer is a container credentials endpoint: the URL that serves
// the ECS credential JSON, with the value of its Authorization header.
type AWSContainer struct {
	// URL is AWS_CONTAINER_CREDENTIALS_RELATIVE_URI on ecsCredentialsHost,
	// else AWS_CONTAINER_CREDENTIALS_FULL_URI.
	URL string
	// Token is AWS_CONTAINER_AUTHORIZATION_TOKEN.
	Token string
	// TokenFile is AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, which takes
	// precedence over Token: a file read at every fetch, since EKS Pod
	// Identity rotates it.
	TokenFile string
}

// String hides the token.
func (c AWSContainer) String() string { return "{" + c.URL + " [redacted]}" }

// GoString hides the token from %#v.
func (c AWSContainer) GoString() string { return "config.AWSContainer" + c.String() }

// LogValue hides the token from slog.
func (c AWSContainer) LogValue() slog.Value { return slog.StringValue(c.String()) }

// MarshalJSON hides the token from encoding/json.
func (c AWSContainer) MarshalJSON() ([]byte, error) { return json.Marshal(c.String()) }

// ecsCredentialsHost is where ECS serves AWS_CONTAINER_CREDENTIALS_RELATIVE_URI.
const ecsCredentialsHost = "http://169.254.170.2"

// The AWS variables.
const (
	envAWSKeyID        = "AWS_ACCESS_KEY_ID"
	envAWSSecret       = "AWS_SECRET_ACCESS_KEY"
	envAWSSessionToken = "AWS_SESSION_TOKEN"
	envAWSRelativeURI  = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"
	envAWSFullURI      = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
	envAWSEndpoint     = "AWS_ENDPOINT_URL"
)

// awsServices are the services the program calls, by SDK service id, and
// their endpoint variables: AWS_ENDPOINT_URL_ and the id in capitals with
// underscores, as the SDK names them.
var awsServices = []struct{ id, env string }{
	{"SQS", "AWS_ENDPOINT_URL_SQS"},
	{"S3", "AWS_ENDPOINT_URL_S3"},
	{"Secrets Manager", "AWS_ENDPOINT_URL_SECRETS_MANAGER"},
}

// Check reports what is wrong with the AWS variables, every problem, each
// naming its variable and never a value: a half-set key pair, a malformed
// region or URL. Load does not fail for them: they matter only to a
// program that builds an AWS client, which checks at start-up.
func (a AWS) Check() error { return a.err }

// aws reads the AWS variables. Keys and tokens are read as they are,
// untrimmed, as the SDK reads them.
func (r *reader) aws() AWS {
	a := AWS{Region: r.str("AWS_REGION"), Endpoint: r.str(envAWSEndpoint)}
	if a.Region == "" {
		a.Region = r.str("AWS_DEFAULT_REGION")
	}
	var errs []error
	if !validRegion(a.Region) {
		errs = append(errs, errors.New("AWS_REGION (or AWS_DEFAULT_REGION) must be a region name such as us-east-1"))
	}
	errs = append(errs, awsURL(envAWSEndpoint, a.Endpoint))
	for _, s := range awsServices {
		if v := r.str(s.env); v != "" {
			if a.ServiceEndpoints == nil {
				a.ServiceEndpoints = map[string]string{}
			}
			a.ServiceEndpoints[s.id] = v
			errs = append(errs, awsURL(s.env, v))
		}
	}
	var err error
	a.Keys, a.Container, err = r.awsCredential()
	a.err = errors.Join(append(errs, err)...)
	return a
}

// awsCredential reads the static keys, else the container endpoint: a
// half-set pair is an error, not a reason to fall through to the next
// source.
func (r *reader) awsCredential() (AWSKeys, AWSContainer, error) {
	getenv := r.getenv
	keys, err := pairSet(getenv, envAWSKeyID, envAWSSecret)
	switch {
	case err != nil:
		return AWSKeys{}, AWSContainer{}, err
	case keys:
		return AWSKeys{ID: getenv(envAWSKeyID), Secret: getenv(envAWSSecret), Token: getenv(envAWSSessionToken)}, AWSContainer{}, nil
	case getenv(envAWSSessionToken) != "":
		return AWSKeys{}, AWSContainer{}, fmt.Errorf("%s is set but %s and %s are empty", envAWSSessionToken, envAWSKeyID, envAWSSecret)
	}
	c, err := r.awsContainer()
	return AWSKeys{}, c, err
}

// awsContainer reads the container credentials endpoint. A relative URI
// wins over a full one, as in the SDK; a full URI over plain HTTP must be
// on loopback or one of the container hosts ECS and EKS serve credentials
// on, as the SDK requires.
func (r *reader) awsContainer() (AWSContainer, error) {
	c := AWSContainer{
		Token:     r.getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN"),
		TokenFile: r.str("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"),
	}
	if rel := r.str(envAWSRelativeURI); rel != "" {
		if !strings.HasPrefix(rel, "/") {
			return c, fmt.Errorf("%s must be a path starting with /", envAWSRelativeURI)
		}
		c.URL = ecsCredentialsHost + rel
		return c, nil
	}
	full := r.str(envAWSFullURI)
	if full == "" {
		return c, nil
	}
	if err := awsURL(envAWSFullURI, full); err != nil {
		return c, err
	}
	if u, _ := url.Parse(full); u.Scheme == "http" && !containerHost(u.Hostname()) {
		return c, fmt.Errorf("%s over http must be on loopback, 169.254.170.2, 169.254.170.23 or fd00:ec2::23 (else use https)", envAWSFullURI)
	}
	c.URL = full
	return c, nil
}

// containerHost reports whether host may serve container credentials over
// plain HTTP: loopback, or the ECS and EKS credential hosts. Unlike the
// SDK, it does not resolve names other than localhost.
func containerHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || ip.Equal(net.IPv4(169, 254, 170, 2)) ||
		ip.Equal(net.IPv4(169, 254, 170, 23)) || ip.Equal(net.ParseIP("fd00:ec2::23")))
}

// awsURL checks an endpoint variable: "" or an absolute http(s) URL. The
// error does not quote the value, which may carry a password.
func awsURL(name, v string) error {
	if v == "" || httpURL(v, false) {
		return nil
	}
	return fmt.Errorf("%s must be an http or https URL such as http://127.0.0.1:5000", name)
}

// validRegion reports whether s is "" or could be a region name: letters,
// digits and hyphens (the SDK refuses anything else when it builds a
// host name from it).
func validRegion(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return len(s) <= 64
}
