package config

import (
	"math"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// fuzzVars are the variables FuzzLoad sets: every one Load reads.
var fuzzVars = []string{
	"PORT", "LOG_LEVEL", "REQUEST_TIMEOUT",
	"PUSH_AUTH", "PUSH_BASIC_USERNAME", "PUSH_BASIC_PASSWORD",
	"PUSH_OAUTH_CLIENT_ID", "PUSH_OAUTH_CLIENT_SECRET", "PUSH_OAUTH_TOKEN_TTL",
	"PUSH_MAX_BODY_BYTES", "CCC_SDK_APP_IDS",
	"CCC_ENDPOINT", "CCC_REGION", "CCC_RATE_LIMIT", "CCC_SESSION_GRACE", "CCC_TIMEOUT",
	"SINK", "WEBHOOK_URL", "WEBHOOK_SECRET", "WEBHOOK_TIMEOUT",
	"CMQ_QUEUE", "CMQ_REGION", "CMQ_ENDPOINT", "SQS_QUEUE_URL",
	"KAFKA_BROKERS", "KAFKA_TOPIC", "KAFKA_SASL_MECHANISM", "KAFKA_USERNAME", "KAFKA_PASSWORD", "KAFKA_TLS",
	"DLQ_SINK", "DLQ_WEBHOOK_URL", "DLQ_WEBHOOK_SECRET", "DLQ_SQS_QUEUE_URL", "DLQ_KAFKA_PASSWORD",
	"ON_DETAIL_FAILURE", "API_TOKEN", "MASK_PHONE_NUMBERS",
	"RECONCILE_SLOT", "RECONCILE_DELAY", "RECONCILE_LOOKBACK", "RECONCILE_MODE",
	"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
	"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_SECRETS_MANAGER",
}

// secretVars hold secrets: no error may depend on their content.
var secretVars = []string{
	"PUSH_BASIC_PASSWORD", "PUSH_OAUTH_CLIENT_SECRET", "WEBHOOK_SECRET", "DLQ_WEBHOOK_SECRET",
	"KAFKA_PASSWORD", "DLQ_KAFKA_PASSWORD", "API_TOKEN",
	"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
}

// fuzzBases are valid configurations that the fuzzed values change.
var fuzzBases = []map[string]string{
	{"PUSH_AUTH": "basic", "PUSH_BASIC_USERNAME": "ccc", "PUSH_BASIC_PASSWORD": "base-password-0001",
		"CCC_SDK_APP_IDS": "1400000000", "SINK": "webhook", "WEBHOOK_URL": "https://example.com/hook",
		"WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "API_TOKEN": "base-api-token-0001"},
	{"PUSH_AUTH": "oauth2", "PUSH_OAUTH_CLIENT_ID": "ccc", "PUSH_OAUTH_CLIENT_SECRET": "base-oauth-secret-0001",
		"CCC_SDK_APP_IDS": "1400000000,1400000001", "SINK": "kafka", "KAFKA_BROKERS": "a:9092",
		"KAFKA_TOPIC": "calls", "KAFKA_SASL_MECHANISM": "PLAIN", "KAFKA_USERNAME": "u",
		"KAFKA_PASSWORD": "base-kafka-password-1", "DLQ_SINK": "sqs",
		"DLQ_SQS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/1/dlq"},
	{"PUSH_AUTH": "none", "CCC_SDK_APP_IDS": "1400000000", "CCC_ENDPOINT": "emulator"},
}

// FuzzLoad gives Load arbitrary values for up to three variables on top of
// a valid configuration. Load never panics; an error has one line per
// problem, each starting with the variable's name; an error never depends
// on the content of a secret, only on whether it is set, its length, its
// "whsec_" prefix and, after that prefix, its shape as base64; and an
// accepted configuration is within the documented bounds.
func FuzzLoad(f *testing.F) {
	for i := range fuzzVars {
		f.Add(uint8(0), uint8(i), "x", uint8(i), "", uint8(0), "")
	}
	seeds := []struct {
		name, value string
	}{
		{"PORT", "70000"}, {"PORT", " 8080 "}, {"PORT", "-1"}, {"PUSH_AUTH", "OAuth2"},
		{"PUSH_MAX_BODY_BYTES", "9223372036854775807"}, {"CCC_SDK_APP_IDS", ",,1,-2,x"},
		{"CCC_ENDPOINT", "http://user:pass@127.0.0.1:1/?x"}, {"CCC_ENDPOINT", "ccc.tencentcloudapi.com/"},
		{"CCC_RATE_LIMIT", "NaN"}, {"CCC_RATE_LIMIT", "1e-400"}, {"CCC_RATE_LIMIT", "+Inf"},
		{"CCC_SESSION_GRACE", "-1s"}, {"REQUEST_TIMEOUT", "9223372036s"},
		{"SINK", "WEBHOOK"}, {"WEBHOOK_URL", "http://[::1"}, {"WEBHOOK_SECRET", "whsec_"},
		{"PUSH_OAUTH_CLIENT_SECRET", "short"}, {"PUSH_OAUTH_CLIENT_SECRET", " 0123456789abcde\t"},
		{"KAFKA_SASL_MECHANISM", "scram-sha-512"}, {"DLQ_SINK", "webhook"}, {"MASK_PHONE_NUMBERS", "T"},
		{"RECONCILE_SLOT", "24h0m1s"}, {"RECONCILE_DELAY", "-0s"},
		{"AWS_ACCESS_KEY_ID", "AKIAEXAMPLE"}, {"AWS_SESSION_TOKEN", "t"}, {"AWS_REGION", "eu west"},
		{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://[::ffff:127.0.0.1]:1/c"}, {"AWS_ENDPOINT_URL_SQS", "http://u:p@[::1"},
	}
	for _, s := range seeds {
		for b := range fuzzBases {
			f.Add(uint8(b), uint8(slices.Index(fuzzVars, s.name)), s.value, uint8(0), "", uint8(0), "")
		}
	}
	f.Add(uint8(0), uint8(slices.Index(fuzzVars, "PUSH_AUTH")), "oauth2",
		uint8(slices.Index(fuzzVars, "PUSH_OAUTH_CLIENT_SECRET")), "tiny", uint8(slices.Index(fuzzVars, "PUSH_OAUTH_CLIENT_ID")), "")
	f.Add(uint8(1), uint8(slices.Index(fuzzVars, "DLQ_SINK")), "kafka",
		uint8(slices.Index(fuzzVars, "DLQ_KAFKA_PASSWORD")), "p", uint8(slices.Index(fuzzVars, "SINK")), "kafka")

	f.Fuzz(func(t *testing.T, base, n1 uint8, v1 string, n2 uint8, v2 string, n3 uint8, v3 string) {
		env := make(map[string]string)
		for k, v := range fuzzBases[int(base)%len(fuzzBases)] {
			env[k] = v
		}
		for _, kv := range []struct {
			n uint8
			v string
		}{{n1, v1}, {n2, v2}, {n3, v3}} {
			env[fuzzVars[int(kv.n)%len(fuzzVars)]] = kv.v
		}
		c, err := Load(func(k string) string { return env[k] })
		var awsErr error
		if err == nil {
			checkAccepted(t, c)
			if awsErr = c.AWS.Check(); awsErr != nil {
				checkErrorLines(t, "invalid configuration:\n"+awsErr.Error())
			}
		} else {
			checkErrorLines(t, err.Error())
		}

		// The same configuration with every secret's content replaced
		// gives the same answer, word for word.
		ref := make(map[string]string, len(env))
		for k, v := range env {
			if slices.Contains(secretVars, k) {
				v = sameShape(v)
			}
			ref[k] = v
		}
		refC, refErr := Load(func(k string) string { return ref[k] })
		if (err == nil) != (refErr == nil) || err != nil && err.Error() != refErr.Error() {
			t.Fatalf("the answer depends on a secret's content:\n%v\nwith the secrets replaced:\n%v", err, refErr)
		}
		if err == nil {
			if refAWS := refC.AWS.Check(); (awsErr == nil) != (refAWS == nil) || awsErr != nil && awsErr.Error() != refAWS.Error() {
				t.Fatalf("AWS.Check depends on a secret's content:\n%v\nwith the secrets replaced:\n%v", awsErr, refAWS)
			}
		}
	})
}

// sameShape returns a value of the same length, surrounding space and
// "whsec_" prefix as v. After that prefix, which asks for base64, it keeps
// what is not a base64 letter (padding, line breaks, invalid bytes), so
// that it decodes, or fails to, as v does, to as many bytes; it has no
// other content in common with v.
func sameShape(v string) string {
	trimmed := strings.TrimSpace(v)
	if trimmed == "" {
		return v
	}
	lead := v[:len(v)-len(strings.TrimLeftFunc(v, unicode.IsSpace))]
	trail := v[len(strings.TrimRightFunc(v, unicode.IsSpace)):]
	rest, ok := strings.CutPrefix(trimmed, "whsec_")
	if !ok {
		return lead + strings.Repeat("Z", len(trimmed)) + trail
	}
	b := []byte(rest)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' {
			b[i] = 'Z'
		}
	}
	return lead + "whsec_" + string(b) + trail
}

// checkErrorLines wants a header line and then one line per problem, each
// naming a variable Load reads.
func checkErrorLines(t *testing.T, msg string) {
	t.Helper()
	lines := strings.Split(msg, "\n")
	if lines[0] != "invalid configuration:" || len(lines) < 2 {
		t.Fatalf("error %q: want a header and one line per problem", msg)
	}
	for _, l := range lines[1:] {
		name, _, _ := strings.Cut(l, " ")
		if !slices.Contains(fuzzVars, name) && !slices.Contains(fuzzVars, strings.TrimPrefix(name, "DLQ_")) {
			t.Fatalf("error line %q does not start with a variable name", l)
		}
	}
}

// checkAccepted checks an accepted configuration against the documented
// bounds.
func checkAccepted(t *testing.T, c *Config) {
	t.Helper()
	switch {
	case c.Port < 1 || c.Port > 65535:
		t.Fatalf("PORT %d accepted", c.Port)
	case !slices.Contains([]string{AuthNone, AuthBasic, AuthOAuth2}, c.Push.Auth):
		t.Fatalf("PUSH_AUTH %q accepted", c.Push.Auth)
	case c.Push.Auth == AuthBasic && (c.Push.BasicUsername == "" || c.Push.BasicPassword == ""):
		t.Fatal("basic auth without credentials accepted")
	case c.Push.Auth == AuthOAuth2 && (c.Push.OAuthClientID == "" || len(c.Push.OAuthSecret) < 16):
		t.Fatal("oauth2 without a client id or with a short secret accepted")
	case c.Push.MaxBodyBytes < 1024 || c.Push.MaxBodyBytes > 64<<20:
		t.Fatalf("PUSH_MAX_BODY_BYTES %d accepted", c.Push.MaxBodyBytes)
	case len(c.Push.SdkAppIDs) == 0:
		// A blank list (" ", ",") was once accepted (K2).
		t.Fatal("empty CCC_SDK_APP_IDS accepted")
	// NaN passes "< 0.1 || > 20": config.go once accepted it, which turned
	// the rate limiter off (docs/SECURITY.md, K1).
	case math.IsNaN(c.CCC.Rate) || c.CCC.Rate < 0.1 || c.CCC.Rate > 20:
		t.Fatalf("CCC_RATE_LIMIT %v accepted", c.CCC.Rate)
	case c.RequestTimeout < 0 || c.CCC.SessionGrace < 0 || c.CCC.Timeout < 0 || c.Push.OAuthTokenTTL < 0:
		t.Fatal("a negative duration accepted")
	case c.Sink.Kind == "":
		t.Fatal("no sink kind")
	}
	for _, id := range c.Push.SdkAppIDs {
		if id <= 0 {
			t.Fatalf("SdkAppId %d accepted", id)
		}
	}
}
