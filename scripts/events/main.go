// Command events prints an AWS Lambda event that works today, for
// scripts/invoke-rie.sh: a push carries the embedded CCC API emulator's
// sample session with its timestamps moved to the present, so that a
// function run with CCC_ENDPOINT=emulator finds its detail (fixed files
// fall out of CCC's 180-day window, and out of the emulator's, in time).
//
//	go run ./scripts/events push        # HTTP API POST /push?action=cdr&version=1
//	go run ./scripts/events record      # … action=record
//	go run ./scripts/events voicemail   # … action=voicemail
//	go run ./scripts/events healthz     # HTTP API GET /healthz
//	go run ./scripts/events schedule    # EventBridge scheduled event, now: the reconcile job
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/tcemu"
)

const usage = "usage: go run ./scripts/events push|record|voicemail|healthz|schedule"

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	ev, err := event(os.Args[1], time.Now())
	if err != nil {
		fmt.Fprintln(os.Stderr, "events:", err)
		os.Exit(2)
	}
	b, _ := json.MarshalIndent(ev, "", "  ")
	fmt.Println(string(b))
}

func event(name string, now time.Time) (any, error) {
	sample, err := tcemu.LoadSamples(tcemu.New(tcemu.Options{SecretID: "x", SecretKey: "y"}), now)
	if err != nil {
		return nil, err
	}
	switch name {
	case "push":
		return httpAPI("POST", "/push", "action=cdr&version=1", sample.CDRPush, now), nil
	case "record":
		return httpAPI("POST", "/push", "action=record&version=1", sample.RecordPush, now), nil
	case "voicemail":
		return httpAPI("POST", "/push", "action=voicemail&version=1", sample.VoicemailPush, now), nil
	case "healthz":
		return httpAPI("GET", "/healthz", "", nil, now), nil
	case "schedule":
		return map[string]any{
			"version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event",
			"source": "aws.events", "account": "123456789012", "time": now.UTC().Format(time.RFC3339),
			"region": "eu-west-1", "resources": []string{"arn:aws:events:eu-west-1:123456789012:rule/ccc-enricher-reconcile"},
			"detail": map[string]any{},
		}, nil
	}
	return nil, fmt.Errorf("no event %q\n%s", name, usage)
}

// httpAPI is an HTTP API (payload 2.0) request, as the stack's API sends
// it to the function.
func httpAPI(method, path, query string, body []byte, now time.Time) map[string]any {
	headers := map[string]string{"host": "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com"}
	if body != nil {
		headers["content-type"] = "application/json;charset=utf8"
		headers["x-tccc-push-uuid"] = fmt.Sprintf("invoke-rie-%d", now.UnixNano())
	}
	return map[string]any{
		"version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
		"headers": headers,
		"requestContext": map[string]any{
			"domainName": "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com",
			"http":       map[string]any{"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "198.51.100.13", "userAgent": "invoke-rie"},
			"requestId":  "invoke-rie", "routeKey": "$default", "stage": "$default",
			"timeEpoch": now.UnixMilli(),
		},
		"body": string(body), "isBase64Encoded": false,
	}
}
