// Package peer describes what went wrong talking HTTP to another host
// without repeating what the host sent. net/http's errors quote a peer's
// bytes (`malformed HTTP status code "…"`, `bad Content-Length "…"`), and
// those bytes can be anything, a phone number or a signed link among them;
// so every transport error that reaches a log, a reply or a dead-letter
// attribute goes through Error first, and redirects are refused rather
// than followed to a host nobody configured.
package peer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

// TransportError is a failed exchange described by its kind alone. It
// unwraps to the original error, so that errors.Is still finds
// context.DeadlineExceeded and the like, but its text is only the kind.
type TransportError struct {
	Kind string
	err  error
}

func (e *TransportError) Error() string { return e.Kind }
func (e *TransportError) Unwrap() error { return e.err }

// kinds maps fragments of net/http's error texts, which carry no types, to
// the kind named instead. The first match wins.
var kinds = []struct{ fragment, kind string }{
	{"malformed HTTP status code", "malformed status line"},
	{"malformed HTTP response", "malformed status line"},
	{"malformed HTTP version", "malformed status line"},
	{"Content-Length", "bad Content-Length"},
	{"Transfer-Encoding", "bad Transfer-Encoding"},
	{"transfer encoding", "bad Transfer-Encoding"},
	{"malformed MIME header", "malformed header"},
	{"invalid header", "malformed header"},
	{"header", "malformed header"},
	{"HTTP response to HTTPS client", "plain HTTP reply to HTTPS"},
	{"chunk", "malformed chunked body"},
	{"message too large", "reply too large"},
	{"request body too large", "reply too large"},
}

// Error returns err described by its kind (nil for nil): a timeout, a
// cancelled request, a refused or reset connection, a reply cut short, a
// TLS failure, or a malformed reply named by what was malformed, never by
// its content.
func Error(err error) error {
	if err == nil {
		return nil
	}
	var te *TransportError
	if errors.As(err, &te) {
		return te
	}
	return &TransportError{Kind: kindOf(err), err: err}
}

func kindOf(err error) string {
	var ne net.Error
	var tlsErr *tls.RecordHeaderError
	var certErr *tls.CertificateVerificationError
	switch {
	// The context's errors are the program's own words.
	case errors.Is(err, context.Canceled):
		return context.Canceled.Error()
	case errors.Is(err, context.DeadlineExceeded):
		return context.DeadlineExceeded.Error()
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection reset"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "connection closed before the reply was complete"
	case errors.As(err, &tlsErr), errors.As(err, &certErr):
		return "TLS failure"
	}
	msg := err.Error()
	for _, k := range kinds {
		if strings.Contains(msg, k.fragment) {
			return k.kind
		}
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "host not found"
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return "connection failed (" + op.Op + ")"
	}
	if strings.Contains(msg, "tls:") || strings.Contains(msg, "x509:") {
		return "TLS failure"
	}
	return "transport failure"
}

// ErrRedirect is the cause of Redirect's error.
var ErrRedirect = errors.New("redirect refused")

// Redirect returns the permanent error for a reply with a 3xx status,
// naming the status only: the Location may be anything, and a signed
// request or record goes only where it was configured to go.
func Redirect(status int) error {
	return retry.Permanent(fmt.Errorf("%w: HTTP %d", ErrRedirect, status))
}

// NoRedirect is an http.Client CheckRedirect that hands the 3xx reply to
// the caller instead of following it.
func NoRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// IsRedirect reports whether status is a 3xx.
func IsRedirect(status int) bool { return status >= 300 && status <= 399 }
