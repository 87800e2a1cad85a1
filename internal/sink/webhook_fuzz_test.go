package sink

import (
	"strings"
	"testing"
)

// webhookKeyMessages is every fixed text webhookKey's errors are made of.
const webhookKeyMessages = `is required must start with "whsec_" must be "whsec_" followed by standard base64 must decode to 24 to 64 bytes, not `

// FuzzNewWebhook gives NewWebhook arbitrary WEBHOOK_URL and WEBHOOK_SECRET
// values: it never panics, accepts only an absolute http(s) URL and a
// "whsec_" secret of 24 to 64 bytes, and its errors name the variable but
// quote neither the secret nor the URL, whose path or query may carry a
// token.
func FuzzNewWebhook(f *testing.F) {
	for _, s := range []string{testSecret, "whsec_", "whsec_!!!!", "whsec_" + strings.Repeat("A", 200), "plain-secret-value", "", "WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"} {
		for _, u := range []string{"https://example.com/hook?token=url-secret-1", "http://127.0.0.1:1/x", "ftp://x/y", "https://", "/relative/path-secret", "http://[::1", ""} {
			f.Add(u, s)
		}
	}
	f.Fuzz(func(t *testing.T, rawURL, secret string) {
		w, err := NewWebhook(WebhookConfig{URL: rawURL, Secret: secret}, nil)
		if err == nil {
			key, kerr := webhookKey(secret)
			if kerr != nil || len(key) < minWebhookKey || len(key) > maxWebhookKey || w.host == "" || w.url != rawURL {
				t.Fatalf("accepted URL %q, secret %q", rawURL, secret)
			}
			return
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "WEBHOOK_URL ") && !strings.HasPrefix(msg, "WEBHOOK_SECRET") {
			t.Fatalf("error %q does not name the variable", msg)
		}
		enc := strings.TrimPrefix(secret, "whsec_")
		if len(enc) >= 6 && strings.Contains(msg, enc) && !strings.Contains(webhookKeyMessages, enc) {
			t.Fatalf("error %q quotes the secret", msg)
		}
		if len(rawURL) >= 6 && strings.Contains(msg, rawURL) {
			t.Fatalf("error %q quotes the URL", msg)
		}
	})
}
