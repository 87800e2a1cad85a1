// Package webhook is the destination that POSTs each record to a URL,
// signed as the Standard Webhooks specification describes.
package webhook

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/ccc-enricher/ccc-enricher/internal/config"
	"github.com/ccc-enricher/ccc-enricher/internal/peer"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
	"github.com/ccc-enricher/ccc-enricher/internal/sink"
)

const (
	// A reply is read only far enough to know it arrived whole: a receiver
	// that streams megabytes back must not hold the invocation.
	maxReplyRead = 4 << 10

	// headerPrefix prefixes the attributes other than the record id, which
	// travels as webhook-id.
	headerPrefix = "ccc-enricher-"
)

// Webhook POSTs each record as JSON to one URL, signed as the Standard
// Webhooks specification describes (https://www.standardwebhooks.com/), so
// that any of its verifier libraries accepts it.
//
// It sends webhook-id (the record id, stable across retries so the receiver
// can deduplicate), webhook-timestamp (renewed on every attempt),
// webhook-signature, ccc-enricher-schema-version, and one
// ccc-enricher-<name> header per Message.Attributes entry. Redirects are not
// followed: a signed record goes only where it was configured to go.
type Webhook struct {
	url     string
	host    string // for errors: the path or query may carry a token
	signer  *standardwebhooks.Webhook
	client  *http.Client
	timeout time.Duration
	policy  retry.Policy
	now     func() time.Time
}

// New returns a Webhook for cfg, as config.Load accepts it, that sends
// with client, or with a client on http.DefaultTransport if client is nil.
// Its own copy of the client never follows redirects.
func New(cfg config.Webhook, client *http.Client) *Webhook {
	var host string
	if u, err := url.Parse(cfg.URL); err == nil {
		host = u.Host
	}
	// NewWebhookRaw only keeps the key.
	signer, _ := standardwebhooks.NewWebhookRaw(cfg.Key)
	var c http.Client
	if client != nil {
		c = *client
	}
	c.CheckRedirect = peer.NoRedirect
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = sink.AttemptTimeout
	}
	return &Webhook{
		url:     cfg.URL,
		host:    host,
		signer:  signer,
		client:  &c,
		timeout: timeout,
		policy:  retry.Default,
		now:     time.Now,
	}
}

// Name returns "webhook".
func (w *Webhook) Name() string { return config.KindWebhook }

// Send POSTs m until the receiver answers 2xx, retrying network errors,
// timeouts, 408, 429 and 5xx (after Retry-After, if given) within ctx's
// deadline. Other answers are permanent failures.
func (w *Webhook) Send(ctx context.Context, m sink.Message) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	return retry.Do(ctx, w.policy, func(ctx context.Context) error {
		return w.attempt(ctx, m)
	})
}

func (w *Webhook) attempt(ctx context.Context, m sink.Message) error {
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()

	// Each attempt is signed anew: receivers reject stale timestamps.
	ts := w.now()
	sig, err := w.signer.Sign(m.ID, ts, m.Body)
	if err != nil {
		return retry.Permanent(fmt.Errorf("webhook: sign record %s: %w", m.ID, err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(m.Body))
	if err != nil {
		return retry.Permanent(fmt.Errorf("webhook %s: cannot build the request", w.host))
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", sink.UserAgent())
	h.Set(standardwebhooks.HeaderWebhookID, m.ID)
	h.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(standardwebhooks.HeaderWebhookSignature, sig)
	h.Set(headerPrefix+sink.AttrSchemaVersion, m.SchemaVersion)
	for k, v := range m.Attributes {
		h.Set(headerPrefix+k, v)
	}

	resp, err := w.client.Do(req)
	if err != nil {
		// A *url.Error quotes the whole URL, and its cause the receiver's
		// bytes: name the kind of failure only.
		return fmt.Errorf("webhook %s: record %s: %w", w.host, m.ID, peer.Error(err))
	}
	defer resp.Body.Close()
	reply, rerr := io.ReadAll(io.LimitReader(resp.Body, maxReplyRead))

	code := resp.StatusCode
	if peer.IsRedirect(code) {
		// Following a redirect would send the signed record somewhere the
		// operator did not choose.
		return fmt.Errorf("webhook %s: record %s: %w", w.host, m.ID, peer.Redirect(code))
	}
	if rerr != nil {
		// A reply cut short is no answer, whatever its status said: the
		// receiver may not have stored the record.
		return fmt.Errorf("webhook %s: record %s: HTTP %d, reading the reply: %w", w.host, m.ID, code, peer.Error(rerr))
	}
	if code >= 200 && code <= 299 {
		return nil
	}
	// The reply is the receiver's bytes: its size is said, never its
	// content (a receiver that echoes the record would put numbers and
	// signed links in the logs and the dead-letter reason).
	err = fmt.Errorf("webhook %s: record %s: HTTP %d (a %d-byte reply)", w.host, m.ID, code, len(reply))
	switch {
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), w.now()); ok {
			return retry.After(err, d)
		}
		return err
	case code >= 400:
		return retry.Permanent(err)
	}
	// An informational status is not an answer; when in doubt, try again.
	return err
}

// retryAfter parses a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
