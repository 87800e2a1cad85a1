// Package awsconf builds the aws.Config the program's AWS clients (SQS,
// S3, Secrets Manager) share, from the variables internal/config read:
// the region, static keys or a container credentials endpoint, and the
// endpoint overrides.
//
// It stands in for the SDK's config.LoadDefaultConfig, which reads the
// environment itself and links what a function never uses: shared config
// and credentials files, profiles, SSO and SSO-OIDC, STS (assume role,
// web identity) and credential_process (about 1.7 MB of the executable).
// The pieces are the SDK's own: its static, container-endpoint and EC2
// instance-role credential providers behind its credentials cache, and its
// default HTTP client and retryer, which each client makes when the
// aws.Config leaves them nil.
package awsconf

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"

	"github.com/ccc-enricher/ccc-enricher/internal/config"
)

// New returns the aws.Config c describes, or c.Check's error.
func New(c config.AWS) (aws.Config, error) {
	if err := c.Check(); err != nil {
		return aws.Config{}, err
	}
	cfg := aws.Config{Region: c.Region}
	if c.Endpoint != "" {
		cfg.BaseEndpoint = aws.String(c.Endpoint)
	}
	if len(c.ServiceEndpoints) > 0 {
		cfg.ConfigSources = []any{serviceEndpoints(c.ServiceEndpoints)}
	}
	switch {
	case c.Keys.ID != "":
		k := c.Keys
		cfg.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(k.ID, k.Secret, k.Token))
	case c.Container.URL != "":
		cfg.Credentials = aws.NewCredentialsCache(container(c.Container), func(o *aws.CredentialsCacheOptions) {
			// As LoadDefaultConfig: fetch again five minutes before expiry.
			o.ExpiryWindow = 5 * time.Minute
		})
	default:
		// The EC2 instance role, last in the SDK's chain too (70 KB).
		cfg.Credentials = aws.NewCredentialsCache(ec2rolecreds.New())
	}
	return cfg, nil
}

// container is the SDK's provider of credentials from a container
// endpoint (ECS's credential JSON).
func container(c config.AWSContainer) aws.CredentialsProvider {
	return endpointcreds.New(c.URL, func(o *endpointcreds.Options) {
		o.AuthorizationToken = c.Token
		if file := c.TokenFile; file != "" {
			o.AuthorizationTokenProvider = endpointcreds.TokenProviderFunc(func() (string, error) {
				b, err := os.ReadFile(file)
				if err != nil {
					// The error names the file, never its content.
					return "", fmt.Errorf("container authorization token: %w", err)
				}
				return string(b), nil
			})
		}
	})
}

// serviceEndpoints are the per-service endpoint overrides by SDK service
// id. In aws.Config.ConfigSources, every service client asks them for its
// BaseEndpoint when it is built (the SDK's ServiceBaseEndpointProvider,
// which its own environment config implements), after cfg.BaseEndpoint,
// so that they take precedence over it as in the SDK.
type serviceEndpoints map[string]string

// GetServiceBaseEndpoint returns the endpoint of the service sdkID.
func (s serviceEndpoints) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	v, ok := s[sdkID]
	return v, ok, nil
}
