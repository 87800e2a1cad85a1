package loopback_test

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"

	"github.com/ccc-enricher/ccc-enricher/internal/loopback"
)

func TestListen(t *testing.T) {
	s, err := loopback.Listen(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.URL.Path)
	}))
	if err != nil {
		t.Fatal(err)
	}
	if host, _, err := net.SplitHostPort(s.Addr); err != nil || host != "127.0.0.1" {
		t.Fatalf("Addr = %q, want 127.0.0.1:port", s.Addr)
	}
	resp, err := http.Get("http://" + s.Addr + "/ping")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "/ping" {
		t.Errorf("body = %q, want /ping", body)
	}
	s.Close()
	if _, err := http.Get("http://" + s.Addr + "/ping"); err == nil {
		t.Error("the server still answers after Close")
	}
}

func TestFreePort(t *testing.T) {
	port, err := loopback.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	if port < 1 || port > 65535 {
		t.Fatalf("port = %d", port)
	}
	// Free means a listener can take it now.
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatalf("port %d is not free: %v", port, err)
	}
	ln.Close()
}
