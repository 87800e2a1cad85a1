package scf

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/handler"
	"github.com/ccc-enricher/ccc-enricher/internal/ccc"
	"github.com/ccc-enricher/ccc-enricher/internal/enrich"
	"github.com/ccc-enricher/ccc-enricher/internal/platform"
	"github.com/ccc-enricher/ccc-enricher/internal/pushauth"
	"github.com/ccc-enricher/ccc-enricher/internal/testenv"
)

// FuzzDispatchToHandler feeds arbitrary events to the SCF dispatcher in
// front of the real handler (basic authentication, the documented sample
// as the session detail, a counting sink). Nothing panics, not even into
// the dispatcher's recovery; an event of no known shape is an error; an
// API Gateway or function URL reply has a valid status;
// and ErrCode 0 is answered only when the record reached the sink.
func FuzzDispatchToHandler(f *testing.F) {
	const user, password = "ccc", "fuzz-push-password"
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
	cdr, err := os.ReadFile("../push/testdata/push-cdr.json")
	if err != nil {
		f.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		var ev map[string]any
		if json.Unmarshal(b, &ev) != nil {
			continue
		}
		if h, ok := ev["headers"].(map[string]any); ok {
			h["authorization"] = auth
			ev["body"] = string(cdr)
			delete(ev, "isBase64Encoded")
			if b, err := json.Marshal(ev); err == nil {
				f.Add(b)
			}
		}
	}

	var detail struct{ Response ccc.SessionDetail }
	raw, err := os.ReadFile("../tcemu/samples/describe-session-detail.response.json")
	if err != nil {
		f.Fatal(err)
	}
	if err := json.Unmarshal(raw, &detail); err != nil {
		f.Fatal(err)
	}
	out := &testenv.Counter{}
	d := &dispatcher{
		h: handler.New(handler.Options{
			Auth:     pushauth.Basic(user, password),
			AllowApp: func(id int64) bool { return id == 1400000000 },
			Enricher: &enrich.Enricher{Detail: testenv.Detail{D: &detail.Response}, Sink: out},
			Timeout:  10 * time.Second,
		}),
		jobs: platform.Jobs{platform.DefaultJob: func(context.Context, time.Time) error { return nil }},
		log:  slog.New(slog.NewTextHandler(io.Discard, nil)),
	}

	f.Fuzz(func(t *testing.T, event []byte) {
		before := out.Count()
		reply, err := d.dispatch(context.Background(), event)
		delivered := out.Count() - before
		if ee, ok := errors.AsType[*eventError](err); ok && ee.kind == "Panic" {
			t.Fatalf("dispatch recovered a panic: %v", err)
		}
		var probe struct {
			Type       string
			HTTPMethod string          `json:"httpMethod"`
			RC         json.RawMessage `json:"requestContext"`
			Headers    json.RawMessage `json:"headers"`
		}
		parsed := json.Unmarshal(event, &probe) == nil && probe.HTTPMethod != ""
		// A function URL event is one without requestContext, with headers.
		apigw := parsed && (isObject(probe.RC) || isAbsent(probe.RC) && isObject(probe.Headers))
		if err != nil {
			if delivered != 0 {
				t.Fatalf("error %v after delivering a record", err)
			}
			return
		}
		if !apigw {
			// This dispatcher has no queue: a timer is the only other
			// event it may answer.
			if probe.Type != "Timer" {
				t.Fatalf("event of no known shape answered %q", reply)
			}
			if delivered != 0 {
				t.Fatalf("%d records delivered by a timer event", delivered)
			}
			return
		}
		var resp apigwResponse
		if err := json.Unmarshal(reply, &resp); err != nil || resp.StatusCode < 200 || resp.StatusCode > 599 {
			t.Fatalf("reply %q is not an integrated response", reply)
		}
		body := []byte(resp.Body)
		if resp.IsBase64Encoded {
			if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
				t.Fatalf("reply body is not base64: %v", err)
			}
		}
		var ccc struct{ ErrCode *int }
		accepted := json.Unmarshal(body, &ccc) == nil && ccc.ErrCode != nil && *ccc.ErrCode == 0
		if accepted && (resp.StatusCode != 200 || delivered != 1) {
			t.Fatalf("ErrCode 0 with status %d and %d records delivered", resp.StatusCode, delivered)
		}
		if !accepted && delivered != 0 {
			t.Fatalf("%d records delivered, reply %d %s", delivered, resp.StatusCode, body)
		}
	})
}
