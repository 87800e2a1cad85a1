// Package awssecret reads credentials kept in AWS Secrets Manager, so
// that on Lambda the Tencent Cloud key pair need not sit in the function's
// environment: it is fetched once, at cold start.
package awssecret

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

// TencentSecret reads a Tencent Cloud key pair from the AWS Secrets Manager
// secret arn. Call it once, at cold start. The secret is a JSON object,
// {"SecretId":"…","SecretKey":"…"}, or with the SDK's environment names
// {"TENCENTCLOUD_SECRET_ID":"…","TENCENTCLOUD_SECRET_KEY":"…"}.
//
// Errors name the secret but never hold any of its contents. A missing or
// forbidden secret and malformed contents are marked retry.Permanent.
func TencentSecret(ctx context.Context, awsCfg aws.Config, arn string) (secretID, secretKey string, err error) {
	out, err := secretsmanager.NewFromConfig(awsCfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId: aws.String(arn),
	})
	if err != nil {
		err = fmt.Errorf("read secret %s: %w", arn, err)
		var api smithy.APIError
		if errors.As(err, &api) {
			switch api.ErrorCode() {
			case "ResourceNotFoundException", "AccessDeniedException", "AccessDenied",
				"InvalidParameterException", "InvalidRequestException", "DecryptionFailure":
				err = retry.Permanent(err)
			}
		}
		return "", "", err
	}
	raw := out.SecretBinary
	if out.SecretString != nil {
		raw = []byte(*out.SecretString)
	}
	secretID, secretKey, err = parseTencentSecret(raw)
	if err != nil {
		return "", "", retry.Permanent(fmt.Errorf("secret %s: %w", arn, err))
	}
	return secretID, secretKey, nil
}

// errSecretShape is the one error for malformed contents: a JSON decoder's
// message could quote a piece of the secret.
var errSecretShape = errors.New(`want a JSON object {"SecretId":"…","SecretKey":"…"} or {"TENCENTCLOUD_SECRET_ID":"…","TENCENTCLOUD_SECRET_KEY":"…"} with string values`)

// parseTencentSecret takes the key pair from the secret's contents. A pair
// must come whole under one naming; SecretId/SecretKey wins over the
// environment-style names when both are complete.
func parseTencentSecret(raw []byte) (id, key string, err error) {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return "", "", errSecretShape
	}
	str := func(name string) (string, error) {
		v, ok := m[name]
		if !ok {
			return "", nil
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			return "", errSecretShape
		}
		return strings.TrimSpace(s), nil
	}
	for _, names := range [][2]string{{"SecretId", "SecretKey"}, {"TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY"}} {
		id, err := str(names[0])
		if err != nil {
			return "", "", err
		}
		key, err := str(names[1])
		if err != nil {
			return "", "", err
		}
		if id != "" && key != "" {
			return id, key, nil
		}
	}
	return "", "", errSecretShape
}
