package awslambda_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ccc-enricher/ccc-enricher/handler"
	"github.com/ccc-enricher/ccc-enricher/internal/awslambda"
	"github.com/ccc-enricher/ccc-enricher/internal/ccc"
	"github.com/ccc-enricher/ccc-enricher/internal/enrich"
	"github.com/ccc-enricher/ccc-enricher/internal/platform"
	"github.com/ccc-enricher/ccc-enricher/internal/pushauth"
	"github.com/ccc-enricher/ccc-enricher/internal/testenv"
)

const (
	fuzzUser, fuzzPassword = "ccc", "fuzz-push-password"
	fuzzAppID              = 1400000000
)

// eventMembers are the top-level members by which the adapter tells
// events apart; an event with none of them is not one it knows.
var eventMembers = []string{"httpMethod", "requestContext", "version", "routeKey", "detail-type", "job", "Records"}

// FuzzEventToHandler feeds arbitrary events to the Lambda adapter in front
// of the real handler (basic authentication, the documented sample as the
// session detail, a counting sink). It never panics; an event that is not
// a JSON object, or is one with members but none that name an event kind,
// is an error, never a reply ({} runs the default job); every HTTP reply has a valid status; and an HTTP
// reply carries ErrCode 0 only when the record reached the sink.
func FuzzEventToHandler(f *testing.F) {
	// The adapter logs failed invocations with the default logger, and the
	// proxy library prints with the standard one.
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.DiscardHandler))
	log.SetOutput(io.Discard)
	defer log.SetOutput(os.Stderr)

	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	cdr, err := os.ReadFile("../push/testdata/push-cdr.json")
	if err != nil {
		f.Fatal(err)
	}
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(fuzzUser+":"+fuzzPassword))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		// The same event carrying an authentic push.
		var ev map[string]any
		if json.Unmarshal(b, &ev) != nil {
			continue
		}
		if h, ok := ev["headers"].(map[string]any); ok {
			h["authorization"] = auth
			h["Authorization"] = auth
			ev["body"] = string(cdr)
			ev["isBase64Encoded"] = false
			if b, err := json.Marshal(ev); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"version":"2.0","requestContext":{"http":{"method":"POST"}},"rawPath":"push","body":"x"}`))
	f.Add([]byte(`{"httpMethod":"POST","path":"/push","queryStringParameters":{"action":"cdr"},"isBase64Encoded":true,"body":"e30="}`))

	var detail struct{ Response ccc.SessionDetail }
	raw, err := os.ReadFile("../tcemu/samples/describe-session-detail.response.json")
	if err != nil {
		f.Fatal(err)
	}
	if err := json.Unmarshal(raw, &detail); err != nil {
		f.Fatal(err)
	}
	out := &testenv.Counter{}
	h := handler.New(handler.Options{
		Auth:     pushauth.Basic(fuzzUser, fuzzPassword),
		AllowApp: func(id int64) bool { return id == fuzzAppID },
		Enricher: &enrich.Enricher{Detail: testenv.Detail{D: &detail.Response}, Sink: out},
		Timeout:  10 * time.Second,
	})
	jobs := platform.Jobs{platform.DefaultJob: func(context.Context, time.Time) error { return nil }}
	queue := func(context.Context, []byte) error { return nil }
	lambda := awslambda.NewHandler(h, jobs, queue)

	f.Fuzz(func(t *testing.T, event []byte) {
		before := out.Count()
		resp, err := lambda(context.Background(), json.RawMessage(event))
		delivered := out.Count() - before
		var members map[string]json.RawMessage
		known := json.Unmarshal(event, &members) == nil && members != nil
		if known && len(members) > 0 {
			// encoding/json matches member names without regard to case,
			// and so does the adapter: {"JOB":"reconcile"} is a job event.
			known = false
			for name := range members {
				for _, m := range eventMembers {
					known = known || strings.EqualFold(name, m)
				}
			}
		}
		if !known && err == nil {
			t.Fatalf("an unknown event got a reply: %#v", resp)
		}
		if err != nil {
			if resp != nil {
				t.Fatalf("error %v with a reply", err)
			}
			if delivered != 0 {
				t.Fatalf("error %v after delivering a record", err)
			}
			return
		}
		status, body, isHTTP := httpReply(t, resp)
		if !isHTTP {
			return // a job or queue result
		}
		if status < 100 || status > 599 {
			t.Fatalf("HTTP status %d", status)
		}
		var reply struct{ ErrCode *int }
		accepted := json.Unmarshal(body, &reply) == nil && reply.ErrCode != nil && *reply.ErrCode == 0
		if accepted && (status != 200 || delivered != 1) {
			t.Fatalf("ErrCode 0 with status %d and %d records delivered", status, delivered)
		}
		if !accepted && delivered != 0 {
			t.Fatalf("%d records delivered, reply %d %s", delivered, status, body)
		}
	})
}

// httpReply returns the status and decoded body of an HTTP reply.
func httpReply(t *testing.T, resp any) (status int, body []byte, ok bool) {
	var b64 bool
	var s string
	switch r := resp.(type) {
	case events.APIGatewayProxyResponse:
		status, s, b64 = r.StatusCode, r.Body, r.IsBase64Encoded
	case events.APIGatewayV2HTTPResponse:
		status, s, b64 = r.StatusCode, r.Body, r.IsBase64Encoded
	case events.LambdaFunctionURLResponse:
		status, s, b64 = r.StatusCode, r.Body, r.IsBase64Encoded
	default:
		return 0, nil, false
	}
	body = []byte(s)
	if b64 {
		d, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("reply body is not base64: %v", err)
		}
		body = d
	}
	return status, bytes.TrimSpace(body), true
}
