package awslambda

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/platform"
)

func TestRoutePath(t *testing.T) {
	tests := []struct {
		name, path, template string
		params               map[string]string
		stage, want          string
	}{
		{"plain route", "/push", "/push", nil, "prod", "/push"},
		{"base path mapping", "/v1/push", "/push", nil, "prod", "/push"},
		{"templated route", "/v1/sessions/abc/enrich", "/sessions/{id}/enrich", map[string]string{"id": "abc"}, "prod", "/sessions/abc/enrich"},
		{"greedy proxy", "/api/sessions/abc/enrich", "/{proxy+}", map[string]string{"proxy": "sessions/abc/enrich"}, "prod", "/sessions/abc/enrich"},
		{"greedy under a prefix", "/v1/api/x/y", "/api/{rest+}", map[string]string{"rest": "x/y"}, "", "/api/x/y"},
		{"trailing slash kept", "/v1/push/", "/push", nil, "prod", "/push/"},
		{"root resource", "/v1", "/", nil, "prod", "/"},
		{"HTTP API stage prefix", "/prod/push", "/push", nil, "prod", "/push"},
		{"default route strips the stage", "/staging/healthz", "", nil, "staging", "/healthz"},
		{"default route on $default", "/healthz", "", nil, "$default", "/healthz"},
		{"stage alone", "/staging", "", nil, "staging", "/"},
		{"stage-like first segment is kept", "/stagingarea/x", "", nil, "staging", "/stagingarea/x"},
		{"greedy value missing: stage rule", "/prod/push", "/{proxy+}", nil, "prod", "/push"},
		{"template longer than path", "/push", "/a/b/c", nil, "", "/push"},
		{"empty path", "", "", nil, "", "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := routePath(tt.path, tt.template, tt.params, tt.stage); got != tt.want {
				t.Errorf("routePath(%q, %q, %v, %q) = %q, want %q", tt.path, tt.template, tt.params, tt.stage, got, tt.want)
			}
		})
	}
}

// FuzzHandler feeds arbitrary events to the Lambda handler: it returns a
// reply or an error and never panics, and every reply it gives (the HTTP
// shapes, job results, SQS batch responses) marshals.
func FuzzHandler(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	h := NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(w, r.Body)
	}), platform.Jobs{platform.DefaultJob: func(context.Context, time.Time) error { return nil }},
		func(_ context.Context, body []byte) error {
			if len(body) == 0 {
				return errors.New("empty")
			}
			return nil
		})
	f.Fuzz(func(t *testing.T, event []byte) {
		resp, err := h(context.Background(), json.RawMessage(event))
		if err != nil {
			if resp != nil {
				t.Fatalf("error %v with reply %#v", err, resp)
			}
			return
		}
		if _, err := json.Marshal(resp); err != nil {
			t.Fatalf("reply %#v does not marshal: %v", resp, err)
		}
	})
}
