package webhook

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/retry"
	"github.com/ccc-enricher/ccc-enricher/internal/sink/sinktest"
)

// rawReceiver is a receiver on loopback that answers every request with
// reply, written as is, then closes the connection.
func rawReceiver(t *testing.T, reply string) (url string, attempts *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	attempts = new(atomic.Int32)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
					return
				}
				attempts.Add(1)
				c.Write([]byte(reply))
			}()
		}
	}()
	return "http://" + ln.Addr().String() + "/hook", attempts
}

const phone = "008613812345678"

// TestWebhookHostileReplies: a receiver's bytes never reach the error (and
// so neither the log nor the dead-letter-reason attribute), a reply cut
// short is not a delivery, and a redirect is a permanent error.
func TestWebhookHostileReplies(t *testing.T) {
	for _, tt := range []struct {
		name, reply, want string
		permanent         bool
		once              bool
	}{
		{"status code", "HTTP/1.1 " + phone + " X\r\n\r\n", "malformed status line", false, false},
		{"status line", "HTTP/1.1 https://evil.example/tcccadmin/getRecord/x\r\n\r\n", "malformed status line", false, false},
		{"content length", "HTTP/1.1 200 OK\r\nContent-Length: " + phone + "x\r\n\r\n", "bad Content-Length", false, false},
		{"truncated 2xx", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nok", "connection closed before the reply was complete", false, false},
		{"redirect", "HTTP/1.1 302 Found\r\nLocation: http://" + phone + ".evil.example/\r\nContent-Length: 0\r\n\r\n", "redirect refused: HTTP 302", true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			url, attempts := rawReceiver(t, tt.reply)
			w := newTestWebhook(t, url, time.Second)
			w.policy = retry.Policy{Attempts: 3, Base: time.Millisecond, Max: time.Millisecond}
			err := w.Send(context.Background(), sinktest.Message())
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want %q", err, tt.want)
			}
			for _, bad := range []string{phone, "getRecord", "evil"} {
				if strings.Contains(err.Error(), bad) {
					t.Errorf("error quotes the receiver: %q", err)
				}
			}
			if retry.IsPermanent(err) != tt.permanent {
				t.Errorf("permanent = %v, want %v", retry.IsPermanent(err), tt.permanent)
			}
			if n := attempts.Load(); tt.once && n != 1 || !tt.once && n < 2 {
				t.Errorf("%d attempts", n)
			}
		})
	}
}
