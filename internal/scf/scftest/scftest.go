// Package scftest provides an emulator of the Tencent SCF Custom Runtime API
// on loopback, for testing runtimes such as package scf's Serve or a whole
// bootstrap executable.
//
// The emulator is strict where a real runtime API would misbehave silently:
// it records every protocol violation (a wrong method or path, fetching an
// event before init/ready, a second init/ready, a reply with no invocation
// outstanding) and reports them from Err.
package scftest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"
)

// Result is what the runtime posted for one invocation.
type Result struct {
	RequestID string
	// Error is true when the reply went to /runtime/invocation/error.
	Error bool
	Body  []byte
}

// Server is a runtime API emulator. Set TimeLimit and MemoryLimitMB, if
// needed, before the first Invoke.
type Server struct {
	// Host and Port are the values for SCF_RUNTIME_API and
	// SCF_RUNTIME_API_PORT; Addr is "Host:Port".
	Host, Port, Addr string
	// TimeLimit and MemoryLimitMB are announced with every event, in the
	// time_limit_in_ms and memory_limit_in_mb headers. Defaults: 30 s, 128.
	TimeLimit     time.Duration
	MemoryLimitMB int

	srv     *httptest.Server
	ready   chan struct{}
	pending chan *invocation
	quit    chan struct{}

	mu         sync.Mutex
	isReady    bool
	current    *invocation
	seq        int
	violations []string
}

type invocation struct {
	id      string
	payload []byte
	done    chan Result
}

// NewServer starts an emulator on 127.0.0.1. Close it when done.
func NewServer() *Server {
	s := &Server{
		TimeLimit:     30 * time.Second,
		MemoryLimitMB: 128,
		ready:         make(chan struct{}),
		pending:       make(chan *invocation),
		quit:          make(chan struct{}),
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.Addr = s.srv.Listener.Addr().String()
	s.Host, s.Port, _ = net.SplitHostPort(s.Addr)
	return s
}

// Close shuts the emulator down; a runtime polling it then sees the runtime
// API gone.
func (s *Server) Close() {
	close(s.quit)
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Ready is closed when the runtime has posted /runtime/init/ready.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Err reports the protocol violations seen so far, or nil.
func (s *Server) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.violations) == 0 {
		return nil
	}
	errs := make([]error, len(s.violations))
	for i, v := range s.violations {
		errs[i] = errors.New(v)
	}
	return errors.Join(errs...)
}

// Invoke hands event to the runtime as the next invocation and waits for
// its reply. It fails if ctx ends first.
func (s *Server) Invoke(ctx context.Context, event []byte) (Result, error) {
	s.mu.Lock()
	s.seq++
	inv := &invocation{
		id:      fmt.Sprintf("req-%04d-%d", s.seq, time.Now().UnixNano()),
		payload: event,
		done:    make(chan Result, 1),
	}
	s.mu.Unlock()
	select {
	case s.pending <- inv:
	case <-ctx.Done():
		return Result{}, fmt.Errorf("invocation %s not fetched by the runtime: %w", inv.id, ctx.Err())
	}
	select {
	case r := <-inv.done:
		return r, nil
	case <-ctx.Done():
		return Result{}, fmt.Errorf("invocation %s not answered by the runtime: %w", inv.id, ctx.Err())
	}
}

func (s *Server) violate(w http.ResponseWriter, code int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.mu.Lock()
	s.violations = append(s.violations, msg)
	s.mu.Unlock()
	http.Error(w, msg, code)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	want := map[string]string{
		"/runtime/init/ready":          http.MethodPost,
		"/runtime/invocation/next":     http.MethodGet,
		"/runtime/invocation/response": http.MethodPost,
		"/runtime/invocation/error":    http.MethodPost,
	}
	method, ok := want[r.URL.Path]
	if !ok {
		s.violate(w, http.StatusNotFound, "%s %s: no such runtime API path", r.Method, r.URL.Path)
		return
	}
	if r.Method != method {
		s.violate(w, http.StatusMethodNotAllowed, "%s %s: want %s", r.Method, r.URL.Path, method)
		return
	}
	switch r.URL.Path {
	case "/runtime/init/ready":
		s.mu.Lock()
		again := s.isReady
		s.isReady = true
		s.mu.Unlock()
		if again {
			s.violate(w, http.StatusBadRequest, "init/ready posted twice")
			return
		}
		close(s.ready)
	case "/runtime/invocation/next":
		s.next(w, r)
	default:
		s.reply(w, r, r.URL.Path == "/runtime/invocation/error")
	}
}

func (s *Server) next(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ready, inv := s.isReady, s.current
	s.mu.Unlock()
	if !ready {
		s.violate(w, http.StatusBadRequest, "invocation/next before init/ready")
		return
	}
	// Like SCF, a second fetch within one invocation returns its event again.
	if inv == nil {
		select {
		case inv = <-s.pending:
		case <-r.Context().Done():
			return
		case <-s.quit:
			http.Error(w, "runtime API shutting down", http.StatusServiceUnavailable)
			return
		}
		s.mu.Lock()
		s.current = inv
		s.mu.Unlock()
	}
	h := w.Header()
	h.Set("request_id", inv.id)
	h.Set("memory_limit_in_mb", strconv.Itoa(s.MemoryLimitMB))
	h.Set("time_limit_in_ms", strconv.FormatInt(s.TimeLimit.Milliseconds(), 10))
	h.Set("Content-Type", "application/json")
	w.Write(inv.payload)
}

func (s *Server) reply(w http.ResponseWriter, r *http.Request, isError bool) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	inv := s.current
	s.current = nil
	s.mu.Unlock()
	if inv == nil {
		s.violate(w, http.StatusBadRequest, "%s with no invocation outstanding", r.URL.Path)
		return
	}
	inv.done <- Result{RequestID: inv.id, Error: isError, Body: body}
}
