package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/ccc-enricher/ccc-enricher/internal/config"
	"github.com/ccc-enricher/ccc-enricher/internal/loopback"
)

// demo runs the whole pipeline offline: the embedded CCC API emulator
// answers DescribeSessionDetail, a webhook receiver on loopback verifies
// the Standard Webhooks signature, and the sample CDR push goes through the
// real handler over HTTP with basic authentication. It prints CCC's reply
// and the record the receiver got.
func demo(ctx context.Context, stdout, stderr io.Writer) error {
	const secret = "whsec_ZGVtby1zZWNyZXQtZm9yLWNjYy1lbnJpY2hlcg=="
	received := make(chan []byte, 1)
	verifier, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return err
	}
	receiver, err := loopback.Listen(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := verifier.Verify(body, r.Header); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		received <- body
		w.WriteHeader(http.StatusNoContent)
	}))
	if err != nil {
		return err
	}
	defer receiver.Close()

	env := map[string]string{
		"PUSH_AUTH":           "basic",
		"PUSH_BASIC_USERNAME": "ccc",
		"PUSH_BASIC_PASSWORD": "demo-password",
		"CCC_ENDPOINT":        config.EmulatorEndpoint,
		"CCC_SDK_APP_IDS":     "1400000000",
		"SINK":                "webhook",
		"WEBHOOK_URL":         "http://" + receiver.Addr + "/ccc-records",
		"WEBHOOK_SECRET":      secret,
		"LOG_LEVEL":           "warn",
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		return err
	}
	a, err := newApp(ctx, cfg, newLogger(os.Stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer a.close()
	fn, err := loopback.Listen(a.handler)
	if err != nil {
		return err
	}
	defer fn.Close()

	url := "http://" + fn.Addr + "/push?action=cdr&version=1"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(a.sample.CDRPush))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json;charset=utf8")
	req.Header.Set("X-TCCC-PUSH-UUID", "demo-push-0001")
	req.SetBasicAuth("ccc", "demo-password")
	fmt.Fprintf(stderr, "POST %s (session %s)\n", url, a.sample.SessionID)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	reply, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Fprintf(stderr, "CCC gets: %d %s", resp.StatusCode, reply)

	select {
	case body := <-received:
		var pretty bytes.Buffer
		json.Indent(&pretty, body, "", "  ")
		fmt.Fprintf(stdout, "%s\n", pretty.Bytes())
		return nil
	case <-time.After(5 * time.Second):
		return fmt.Errorf("the webhook receiver got no record")
	}
}
