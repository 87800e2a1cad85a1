package config

import (
	"net/url"
	"strings"
	"testing"
)

// webhookKeyMessages is every fixed text WebhookKey's errors are made of.
const webhookKeyMessages = `must start with "whsec_" followed by base64 (Standard Webhooks) must be "whsec_" followed by standard base64 must decode to 24 to 64 bytes, not `

// FuzzWebhook gives Load arbitrary WEBHOOK_URL and WEBHOOK_SECRET values:
// it never panics, accepts only an absolute http(s) URL and a "whsec_"
// secret of 24 to 64 bytes, which it decodes into the key, and its errors
// name the variable but quote neither the secret nor the URL, whose path or
// query may carry a token.
func FuzzWebhook(f *testing.F) {
	for _, s := range []string{testSecret, "whsec_", "whsec_!!!!", "whsec_" + strings.Repeat("A", 200), "plain-secret-value", "", "WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"} {
		for _, u := range []string{"https://example.com/hook?token=url-secret-1", "http://127.0.0.1:1/x", "ftp://x/y", "https://", "/relative/path-secret", "http://[::1", ""} {
			f.Add(u, s)
		}
	}
	f.Fuzz(func(t *testing.T, rawURL, secret string) {
		c, err := Load(env(base(map[string]string{"SINK": "webhook", "WEBHOOK_URL": rawURL, "WEBHOOK_SECRET": secret})))
		if err == nil {
			w := c.Sink.Webhook
			u, uerr := url.Parse(w.URL)
			key, kerr := WebhookKey(strings.TrimSpace(secret))
			if uerr != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || w.URL != strings.TrimSpace(rawURL) ||
				kerr != nil || len(key) < minWebhookKey || len(key) > maxWebhookKey || string(w.Key) != string(key) {
				t.Fatalf("accepted URL %q, secret %q", rawURL, secret)
			}
			return
		}
		for _, line := range strings.Split(err.Error(), "\n")[1:] {
			if !strings.HasPrefix(line, "WEBHOOK_URL ") && !strings.HasPrefix(line, "WEBHOOK_SECRET ") {
				t.Fatalf("error line %q does not name a webhook variable", line)
			}
		}
		msg := err.Error()
		enc := strings.TrimPrefix(strings.TrimSpace(secret), "whsec_")
		if len(enc) >= 6 && strings.Contains(msg, enc) && !strings.Contains(webhookKeyMessages, enc) {
			t.Fatalf("error %q quotes the secret", msg)
		}
		if u := strings.TrimSpace(rawURL); len(u) >= 6 && strings.Contains(msg, u) {
			t.Fatalf("error %q quotes the URL", msg)
		}
	})
}
