package tcloud

import (
	"errors"
	"fmt"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
)

const (
	defaultRoleSessionName = "ccc-enricher"
	// roleDuration is the lifetime asked of AssumeRole, the SDK's default.
	// The SDK's RoleArnCredential renews the credential after a tenth of it.
	roleDuration = 7200
)

// Keys are a key pair and, for temporary keys, their session token.
type Keys struct {
	ID, Key, Token string
}

// Credentials says where the credential comes from. internal/config fills
// it from the environment and checks it there, so that a missing or
// half-set source fails at start-up with the variable named.
type Credentials struct {
	// Static are fixed keys, the zero Keys when there are none.
	Static Keys
	// Rotating, when not nil, returns a credential that the platform
	// rotates (SCF's execution role) as it is at the moment of the call: it
	// is called again for every request.
	Rotating func() Keys
	// RoleARN, when set, turns the keys found into base keys for STS
	// AssumeRole, and requests are signed with the assumed role.
	RoleARN string
	// RoleSessionName names the assumed role's session; "" means
	// "ccc-enricher".
	RoleSessionName string
	// STSEndpoint is the STS host (https), "" for sts.tencentcloudapi.com.
	STSEndpoint string
}

// errNoCredential is returned for Credentials with neither source;
// internal/config refuses such a configuration first.
var errNoCredential = errors.New("no Tencent Cloud credential")

// NewCredential returns the credential c describes. Of the two sources,
// Rotating wins over Static, except as base keys for RoleARN: setting
// fixed keys beside a role is a deliberate choice, while SCF injects its
// role credential whenever the function has an execution role. Without
// Static keys, the rotating credential itself assumes the role (role
// chaining), read again at each renewal.
//
// The role is assumed with the SDK's RoleArnProvider for 7200 s and renewed
// by the SDK's RoleArnCredential. The first AssumeRole happens here, so a
// wrong role or base key fails at start-up, not on the first push.
func NewCredential(c Credentials) (common.CredentialIface, error) {
	static := c.Static.ID != "" && c.Static.Key != ""
	var base common.CredentialIface
	switch {
	case static && c.RoleARN != "":
		base = StaticCredential(c.Static.ID, c.Static.Key, c.Static.Token)
	case c.Rotating != nil:
		base = &rotatingCredential{read: c.Rotating}
	case static:
		base = StaticCredential(c.Static.ID, c.Static.Key, c.Static.Token)
	default:
		return nil, errNoCredential
	}
	if c.RoleARN == "" {
		return base, nil
	}
	return assumeRole(base, c)
}

// assumeRole calls STS AssumeRole once and returns the SDK's self-renewing
// RoleArnCredential.
func assumeRole(base common.CredentialIface, c Credentials) (common.CredentialIface, error) {
	name := c.RoleSessionName
	if name == "" {
		name = defaultRoleSessionName
	}
	p := common.NewRoleArnProviderWithCredential(base, c.RoleARN, name, roleDuration)
	if c.STSEndpoint != "" {
		p.Endpoint = c.STSEndpoint
	}
	cred, err := p.GetCredential()
	if err != nil {
		return nil, fmt.Errorf("assume role %s: %w", c.RoleARN, classify("AssumeRole", nil, false, err))
	}
	return cred, nil
}

// StaticCredential returns a credential of fixed keys, for keys fetched
// elsewhere (AWS Secrets Manager on Lambda). token may be empty.
func StaticCredential(id, key, token string) common.CredentialIface {
	return common.NewTokenCredential(id, key, token)
}

// rotatingCredential reads a rotating credential for every request.
type rotatingCredential struct {
	read func() Keys
}

func (c *rotatingCredential) GetSecretId() string  { id, _, _ := c.GetCredential(); return id }
func (c *rotatingCredential) GetSecretKey() string { _, key, _ := c.GetCredential(); return key }
func (c *rotatingCredential) GetToken() string     { _, _, tok := c.GetCredential(); return tok }

// GetCredential returns the three values together. The source (environment
// variables) cannot be read atomically, so it reads it until two reads in a
// row agree: a rotation that happens between the reads of one tuple would
// otherwise pair a new id with an old key and fail the signature.
func (c *rotatingCredential) GetCredential() (string, string, string) {
	k := c.read()
	for range 3 {
		k2 := c.read()
		if k2 == k {
			break
		}
		k = k2
	}
	return k.ID, k.Key, k.Token
}
