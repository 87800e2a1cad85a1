package scftest_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/scf/scftest"
)

func do(t *testing.T, method, url, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestViolations(t *testing.T) {
	tests := []struct {
		name   string
		calls  [][2]string // method, path
		status int         // of the last call
		want   string      // in Err
	}{
		{"next before ready", [][2]string{{"GET", "/runtime/invocation/next"}}, 400, "before init/ready"},
		{"ready twice", [][2]string{{"POST", "/runtime/init/ready"}, {"POST", "/runtime/init/ready"}}, 400, "twice"},
		{"wrong method", [][2]string{{"GET", "/runtime/init/ready"}}, 405, "want POST"},
		{"unknown path", [][2]string{{"POST", "/2018-06-01/runtime/invocation/next"}}, 404, "no such"},
		{"reply without invocation", [][2]string{{"POST", "/runtime/init/ready"}, {"POST", "/runtime/invocation/response"}}, 400, "no invocation outstanding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := scftest.NewServer()
			defer s.Close()
			var resp *http.Response
			for _, c := range tt.calls {
				resp = do(t, c[0], "http://"+s.Addr+c[1], " ")
			}
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if err := s.Err(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Err() = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

// TestProtocol plays a well-behaved runtime by hand.
func TestProtocol(t *testing.T) {
	s := scftest.NewServer()
	defer s.Close()
	s.TimeLimit = 1500 * time.Millisecond
	s.MemoryLimitMB = 256
	base := "http://" + s.Addr
	do(t, "POST", base+"/runtime/init/ready", " ")
	<-s.Ready()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	results := make(chan scftest.Result, 2)
	go func() {
		for _, ev := range []string{`{"n":1}`, `{"n":2}`} {
			r, err := s.Invoke(ctx, []byte(ev))
			if err != nil {
				t.Error(err)
			}
			results <- r
		}
	}()
	for i, path := range []string{"/runtime/invocation/response", "/runtime/invocation/error"} {
		resp := do(t, "GET", base+"/runtime/invocation/next", "")
		body, _ := io.ReadAll(resp.Body)
		id := resp.Header.Get("request_id")
		if id == "" || resp.Header.Get("time_limit_in_ms") != "1500" || resp.Header.Get("memory_limit_in_mb") != "256" {
			t.Errorf("next headers = %v", resp.Header)
		}
		// A second fetch within the invocation returns the same event.
		again := do(t, "GET", base+"/runtime/invocation/next", "")
		body2, _ := io.ReadAll(again.Body)
		if string(body2) != string(body) || again.Header.Get("request_id") != id {
			t.Errorf("second next = %s (%s), want %s (%s)", body2, again.Header.Get("request_id"), body, id)
		}
		do(t, "POST", base+path, "reply")
		r := <-results
		if r.RequestID != id || r.Error != (i == 1) || string(r.Body) != "reply" {
			t.Errorf("result = %+v", r)
		}
	}
	if err := s.Err(); err != nil {
		t.Error(err)
	}
}
