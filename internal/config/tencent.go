package config

import (
	"errors"
	"fmt"

	"github.com/ccc-enricher/ccc-enricher/internal/tcloud"
)

// Tencent says where the Tencent Cloud credential comes from.
type Tencent struct {
	// SecretARN is the AWS Secrets Manager secret holding the key pair
	// (TENCENTCLOUD_SECRET_ARN), honoured on Lambda alone; it then stands
	// in for the credential sources of Credentials.
	SecretARN string

	credentials tcloud.Credentials
	// err says why the environment describes no credential.
	err error
}

// The Tencent Cloud credential variables.
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

// ErrNoCredential is the error of Tencent.Credentials when the environment
// holds no credential.
var ErrNoCredential = errors.New("no Tencent Cloud credential: set " +
	envSCFSecretID + " and " + envSCFSecretKey + " (SCF execution role), or " +
	envSecretID + " and " + envSecretKey + ", optionally with " + envRoleArn)

// Credentials returns the credential sources the environment describes,
// for tcloud.NewCredential:
//
//  1. TENCENTCLOUD_SECRETID, TENCENTCLOUD_SECRETKEY and
//     TENCENTCLOUD_SESSIONTOKEN, the role credential SCF injects, as
//     Rotating: it rotates, so Rotating reads the three variables again
//     whenever it is called.
//  2. TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY (and
//     TENCENTCLOUD_SESSION_TOKEN when set), the SDK's names, as Static.
//
// TENCENTCLOUD_ROLE_ARN, TENCENTCLOUD_ROLE_SESSION_NAME and
// TENCENTCLOUD_STS_ENDPOINT (a host, https, instead of
// sts.tencentcloudapi.com) describe the role to assume with them.
//
// A half-set pair (an id without its key) is an error, not a reason to
// fall through to the next source, and so is a role without keys, or none
// of the sources; errors name variables, never values. Load does not fail
// for them: the program asks for the credential only where it needs one,
// which it does not with CCC_ENDPOINT=emulator or, on Lambda, with
// TENCENTCLOUD_SECRET_ARN.
func (t Tencent) Credentials() (tcloud.Credentials, error) {
	return t.credentials, t.err
}

// tencent reads the credential sources. Keys are read as they are,
// untrimmed, as the SDK reads them.
func (r *reader) tencent() Tencent {
	getenv := r.getenv
	t := Tencent{SecretARN: getenv("TENCENTCLOUD_SECRET_ARN")}
	c := &t.credentials
	c.RoleARN, c.RoleSessionName = getenv(envRoleArn), getenv(envRoleSessionName)
	scf, scfErr := pairSet(getenv, envSCFSecretID, envSCFSecretKey)
	sdk, sdkErr := pairSet(getenv, envSecretID, envSecretKey)
	if sdk {
		c.Static = tcloud.Keys{ID: getenv(envSecretID), Key: getenv(envSecretKey), Token: getenv(envSessionToken)}
	}
	if scf {
		c.Rotating = func() tcloud.Keys {
			return tcloud.Keys{ID: getenv(envSCFSecretID), Key: getenv(envSCFSecretKey), Token: getenv(envSCFSessionToken)}
		}
	}
	switch {
	case scfErr != nil:
		t.err = scfErr
	case sdkErr != nil:
		t.err = sdkErr
	case !scf && !sdk && c.RoleARN != "":
		t.err = fmt.Errorf("%s is set but no base keys to assume it with: %w", envRoleArn, ErrNoCredential)
	case !scf && !sdk:
		t.err = ErrNoCredential
	case c.RoleARN != "":
		c.STSEndpoint, t.err = stsEndpoint(getenv(envSTSEndpoint))
	}
	return t
}

// stsEndpoint reads TENCENTCLOUD_STS_ENDPOINT, "" or a host.
func stsEndpoint(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	ep, err := tcloud.ParseEndpoint(s)
	if err != nil {
		return "", fmt.Errorf("%s: %w", envSTSEndpoint, err)
	}
	if ep.Scheme != "https" {
		// The SDK's STS client always speaks https.
		return "", fmt.Errorf("%s: must be https", envSTSEndpoint)
	}
	return ep.Host, nil
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
