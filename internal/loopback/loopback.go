// Package loopback serves HTTP on free ports of 127.0.0.1, for the programs
// that run a deployment's parts on one machine: the offline demo and the
// load and cold-start measurements.
package loopback

import (
	"net"
	"net/http"
	"time"
)

// Server is an http.Server serving on a loopback port. Close or Shutdown
// it when done.
type Server struct {
	*http.Server
	// Addr is the address it listens on, "127.0.0.1:port".
	Addr string
}

// Listen serves h on a free loopback port.
func Listen(h http.Handler) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{Server: &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}, Addr: ln.Addr().String()}
	go s.Serve(ln)
	return s, nil
}

// FreePort returns a loopback port that was free a moment ago, for a child
// process to listen on. Another process may take it in between.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
