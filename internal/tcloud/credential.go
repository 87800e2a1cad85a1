package tcloud

import (
	"errors"
	"fmt"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
)

// Environment variables read by CredentialFromEnv.
const (
	// Injected by SCF when the function has an execution role; temporary and
	// rotated by the platform. Note: no underscore inside the names.
	envSCFSecretID     = "TENCENTCLOUD_SECRETID"
	envSCFSecretKey    = "TENCENTCLOUD_SECRETKEY"
	envSCFSessionToken = "TENCENTCLOUD_SESSIONTOKEN"

	// The SDK's own names (common.DefaultEnvProvider reads the first two).
	envSecretID     = "TENCENTCLOUD_SECRET_ID"
	envSecretKey    = "TENCENTCLOUD_SECRET_KEY"
	envSessionToken = "TENCENTCLOUD_SESSION_TOKEN"

	envRoleArn         = "TENCENTCLOUD_ROLE_ARN"
	envRoleSessionName = "TENCENTCLOUD_ROLE_SESSION_NAME"
	envSTSEndpoint     = "TENCENTCLOUD_STS_ENDPOINT"
)

const (
	defaultRoleSessionName = "ccc-enricher"
	// roleDuration is the lifetime asked of AssumeRole, the SDK's default.
	// The SDK's RoleArnCredential renews the credential after a tenth of it.
	roleDuration = 7200
)

// ErrNoCredential is returned by CredentialFromEnv when the environment
// holds no credential.
var ErrNoCredential = errors.New("no Tencent Cloud credential: set " +
	envSCFSecretID + " and " + envSCFSecretKey + " (SCF execution role), or " +
	envSecretID + " and " + envSecretKey + ", optionally with " + envRoleArn)

// CredentialFromEnv returns the credential the environment describes, read
// through getenv (os.Getenv outside tests). The first match wins:
//
//  1. TENCENTCLOUD_SECRETID, TENCENTCLOUD_SECRETKEY and
//     TENCENTCLOUD_SESSIONTOKEN, the role credential SCF injects. It
//     rotates, so the returned credential reads the three variables again
//     for every request.
//  2. TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY (and
//     TENCENTCLOUD_SESSION_TOKEN when set), the SDK's names.
//
// TENCENTCLOUD_ROLE_ARN, when set, is never ignored: it turns the keys found
// into base keys for STS AssumeRole (the SDK's RoleArnProvider, session name
// TENCENTCLOUD_ROLE_SESSION_NAME or "ccc-enricher", 7200 s, renewed by the
// SDK's RoleArnCredential), and requests are signed with the assumed role.
// For the base keys the SDK's variables (2) come first, since setting them
// beside a role ARN is a deliberate choice, while SCF injects (1) whenever
// the function has an execution role; without (2), the SCF role credential
// itself assumes the role (role chaining), read again at each renewal.
// TENCENTCLOUD_STS_ENDPOINT (a host, https) overrides
// sts.tencentcloudapi.com. The first AssumeRole happens here, so a wrong
// role or base key fails at start-up, not on the first push.
//
// A half-set pair (an id without its key) is an error, not a reason to fall
// through to the next source. Errors name variables, never values.
func CredentialFromEnv(getenv func(string) string) (common.CredentialIface, error) {
	scf, err := pairSet(getenv, envSCFSecretID, envSCFSecretKey)
	if err != nil {
		return nil, err
	}
	sdk, err := pairSet(getenv, envSecretID, envSecretKey)
	if err != nil {
		return nil, err
	}
	var base common.CredentialIface
	switch {
	case sdk && getenv(envRoleArn) != "":
		base = StaticCredential(getenv(envSecretID), getenv(envSecretKey), getenv(envSessionToken))
	case scf:
		base = &envCredential{getenv: getenv, id: envSCFSecretID, key: envSCFSecretKey, token: envSCFSessionToken}
	case sdk:
		base = StaticCredential(getenv(envSecretID), getenv(envSecretKey), getenv(envSessionToken))
	}
	arn := getenv(envRoleArn)
	switch {
	case base == nil && arn != "":
		return nil, fmt.Errorf("%s is set but no base keys to assume it with: %w", envRoleArn, ErrNoCredential)
	case base == nil:
		return nil, ErrNoCredential
	case arn == "":
		return base, nil
	}
	return assumeRole(base, arn, getenv)
}

// assumeRole calls STS AssumeRole once and returns the SDK's self-renewing
// RoleArnCredential.
func assumeRole(base common.CredentialIface, arn string, getenv func(string) string) (common.CredentialIface, error) {
	name := getenv(envRoleSessionName)
	if name == "" {
		name = defaultRoleSessionName
	}
	p := common.NewRoleArnProviderWithCredential(base, arn, name, roleDuration)
	if s := getenv(envSTSEndpoint); s != "" {
		ep, err := ParseEndpoint(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", envSTSEndpoint, err)
		}
		if ep.Scheme != "https" {
			// The SDK's STS client always speaks https.
			return nil, fmt.Errorf("%s: must be https", envSTSEndpoint)
		}
		p.Endpoint = ep.Host
	}
	cred, err := p.GetCredential()
	if err != nil {
		return nil, fmt.Errorf("assume role %s: %w", arn, classify("AssumeRole", nil, false, err))
	}
	return cred, nil
}

// pairSet reports whether both variables of a pair are set, and fails when
// only one is.
func pairSet(getenv func(string) string, id, key string) (bool, error) {
	switch hasID, hasKey := getenv(id) != "", getenv(key) != ""; {
	case hasID && hasKey:
		return true, nil
	case hasID:
		return false, fmt.Errorf("%s is set but %s is empty", id, key)
	case hasKey:
		return false, fmt.Errorf("%s is set but %s is empty", key, id)
	}
	return false, nil
}

// StaticCredential returns a credential of fixed keys, for keys fetched
// elsewhere (AWS Secrets Manager on Lambda). token may be empty.
func StaticCredential(id, key, token string) common.CredentialIface {
	return common.NewTokenCredential(id, key, token)
}

// envCredential reads a rotating credential from environment variables for
// every request.
type envCredential struct {
	getenv         func(string) string
	id, key, token string // variable names
}

func (c *envCredential) GetSecretId() string  { id, _, _ := c.GetCredential(); return id }
func (c *envCredential) GetSecretKey() string { _, key, _ := c.GetCredential(); return key }
func (c *envCredential) GetToken() string     { _, _, tok := c.GetCredential(); return tok }

// GetCredential returns the three values together. Environment variables
// cannot be read atomically, so it reads them until two reads in a row agree:
// a rotation that happens between the reads of one tuple would otherwise
// pair a new id with an old key and fail the signature.
func (c *envCredential) GetCredential() (string, string, string) {
	id, key, tok := c.read()
	for range 3 {
		id2, key2, tok2 := c.read()
		if id2 == id && key2 == key && tok2 == tok {
			break
		}
		id, key, tok = id2, key2, tok2
	}
	return id, key, tok
}

func (c *envCredential) read() (string, string, string) {
	return c.getenv(c.id), c.getenv(c.key), c.getenv(c.token)
}
