package handler_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/handler"
	"github.com/ccc-enricher/ccc-enricher/internal/metrics"
	"github.com/ccc-enricher/ccc-enricher/internal/pushauth"
)

// TestMetricsPush: every push is counted once by kind and ErrCode, an
// action this version does not know as "unknown" and one the request
// does not name as "none"; other routes count no push.
func TestMetricsPush(t *testing.T) {
	h := handler.New(handler.Options{Auth: pushauth.NoAuth(), AllowApp: func(int64) bool { return false }})
	body := `{"SdkAppId":1400000000,"SessionId":"s-1","StartTimestamp":1764560000,"EndedTimestamp":1764560030}`
	for _, tt := range []struct{ target, kind, errCode string }{
		{"/push?action=cdr&version=1", "cdr", "40301"},
		{"/push?action=somethingNew&version=1", "unknown", "40301"},
		{"/push?version=1", "none", "40002"},
		{"/healthz", "", ""},
	} {
		t.Run(tt.target, func(t *testing.T) {
			c := metrics.New("http")
			method := "POST"
			if tt.target == "/healthz" {
				method = "GET"
			}
			r := httptest.NewRequest(method, tt.target, strings.NewReader(body))
			h.ServeHTTP(httptest.NewRecorder(), r.WithContext(metrics.NewContext(r.Context(), c)))
			line := c.Append(nil, "ns", false, time.Now())
			if tt.kind == "" {
				if line != nil {
					t.Fatalf("metrics %s, want none", line)
				}
				return
			}
			var got map[string]any
			if err := json.Unmarshal(line, &got); err != nil {
				t.Fatalf("%v: %s", err, line)
			}
			if got["Kind"] != tt.kind || got["ErrCode"] != tt.errCode || got["Pushes"] != 1.0 {
				t.Errorf("metrics %s, want Kind %s ErrCode %s Pushes 1", line, tt.kind, tt.errCode)
			}
		})
	}
}
