package handler_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/handler"
	"github.com/ccc-enricher/ccc-enricher/internal/enrich"
	"github.com/ccc-enricher/ccc-enricher/internal/logging"
	"github.com/ccc-enricher/ccc-enricher/internal/sink/webhook"
	"github.com/ccc-enricher/ccc-enricher/internal/testenv"
)

// syncBuffer is a log capture written to by the handler and net/http's
// goroutines at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// echoReceiver answers every request with reply, then echoes the request
// body on the same connection, which net/http logs as an unsolicited
// response on an idle channel.
func echoReceiver(t *testing.T, reply string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					body, _ := io.ReadAll(req.Body)
					c.Write([]byte(reply))
					time.Sleep(20 * time.Millisecond)
					c.Write(body)
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String() + "/hook"
}

// TestLogsKeepSecretsWhateverThePeerSends: a whole run's log capture,
// the standard log package included, holds no phone number, signed link,
// token or secret, whatever the receiver answers.
func TestLogsKeepSecretsWhateverThePeerSends(t *testing.T) {
	for name, reply := range map[string]string{
		"204 then echo":        "HTTP/1.1 204 No Content\r\n\r\n",
		"status code":          "HTTP/1.1 008613812345678 X\r\n\r\n",
		"content length":       "HTTP/1.1 200 OK\r\nContent-Length: 008613812345678x\r\n\r\n",
		"truncated":            "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nok",
		"redirect":             "HTTP/1.1 302 Found\r\nLocation: https://evil.example/tcccadmin/getRecord/x\r\nContent-Length: 0\r\n\r\n",
		"refusal quoting body": "HTTP/1.1 400 Bad Request\r\nContent-Length: 40\r\n\r\n{\"Caller\":\"008613812345678\",\"x\":\"https:/",
	} {
		t.Run(name, func(t *testing.T) {
			logs := &syncBuffer{}
			log := logging.New(logs, slog.LevelDebug)
			old := slog.Default()
			logging.Install(log)
			defer slog.SetDefault(old)
			url := echoReceiver(t, reply)
			e := newEnv(t, func(o *handler.Options, enr *enrich.Enricher) {
				o.Logger = log
				enr.Sink = webhook.New(testenv.WebhookConfig(url, time.Second), nil)
			})
			var cdr map[string]any
			json.Unmarshal(e.sample.CDRPush, &cdr)
			e.push("cdr", e.sample.CDRPush)
			time.Sleep(100 * time.Millisecond) // net/http logs from its own goroutine
			out := logs.String()
			secrets := []string{"://", "getRecord", apiToken, basicPass, "whsec_", "8613812345678"}
			for _, k := range []string{"Caller", "Called"} {
				if s, ok := cdr[k].(string); ok && len(s) >= 7 {
					secrets = append(secrets, s)
				}
			}
			for _, s := range secrets {
				if strings.Contains(out, s) {
					t.Errorf("log holds %q:\n%s", s, out)
				}
			}
			if name == "204 then echo" && !strings.Contains(out, "Unsolicited response") {
				t.Logf("net/http logged no unsolicited response this time:\n%s", out)
			}
			if !strings.Contains(out, `"msg":"request"`) {
				t.Errorf("no request line:\n%s", out)
			}
		})
	}
}
