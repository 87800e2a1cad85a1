// Package testenv starts the parts of a ccc-enricher deployment on loopback
// for tests: the CCC API emulator with its sample sessions, a CCC client
// that signs for it with the SDK as in production, and a webhook receiver
// that verifies every delivery's Standard Webhooks signature. It also holds
// the few test helpers several packages share.
package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/ccc-enricher/ccc-enricher/internal/ccc"
	"github.com/ccc-enricher/ccc-enricher/internal/cccapi"
	"github.com/ccc-enricher/ccc-enricher/internal/config"
	"github.com/ccc-enricher/ccc-enricher/internal/record"
	"github.com/ccc-enricher/ccc-enricher/internal/sink"
	"github.com/ccc-enricher/ccc-enricher/internal/tcemu"
	"github.com/ccc-enricher/ccc-enricher/internal/tcloud"
)

// SecretID and SecretKey are the key pair the emulator accepts, unless
// told otherwise; WebhookSecret is the one the Receiver verifies with.
const (
	SecretID      = "AKIDtestenvEXAMPLE000000000000000000"
	SecretKey     = "testenvSecretKeyEXAMPLE0000000000"
	WebhookSecret = "whsec_dGVzdGVudi13ZWJob29rLXNpZ25pbmctc2VjcmV0LTMy"
)

// WebhookConfig configures a webhook to url signed with WebhookSecret, as
// a Receiver verifies; timeout bounds one attempt.
func WebhookConfig(url string, timeout time.Duration) config.Webhook {
	key, err := config.WebhookKey(WebhookSecret)
	if err != nil {
		panic(err)
	}
	return config.Webhook{URL: url, Key: key, Timeout: timeout}
}

// CCC is the CCC API emulator, serving on URL.
type CCC struct {
	Emu *tcemu.Server
	URL string
	// Sample is the documented sample session, the others in its Others;
	// zero when NewCCC loaded none.
	Sample tcemu.Sample

	id, key string
}

// NewCCC starts the emulator with o, and SecretID and SecretKey when o
// names no key pair. Unless samplesAt is zero it loads the sample
// sessions, the documented call ending a minute before samplesAt. The
// server closes when the test ends.
func NewCCC(t testing.TB, samplesAt time.Time, o tcemu.Options) *CCC {
	t.Helper()
	if o.SecretID == "" {
		o.SecretID, o.SecretKey = SecretID, SecretKey
	}
	c := &CCC{Emu: tcemu.New(o), id: o.SecretID, key: o.SecretKey}
	if !samplesAt.IsZero() {
		s, err := tcemu.LoadSamples(c.Emu, samplesAt)
		if err != nil {
			t.Fatal(err)
		}
		c.Sample = s
	}
	srv := httptest.NewServer(c.Emu)
	t.Cleanup(srv.Close)
	c.URL = srv.URL
	return c
}

// Client returns a CCC client for the emulator. Its requests are signed
// by the SDK, so the emulator's check of each is a check of the client;
// timeout bounds one attempt.
func (c *CCC) Client(t testing.TB, o cccapi.Options, timeout time.Duration) *cccapi.Client {
	t.Helper()
	tc, err := tcloud.NewClient(cccapi.Service, cccapi.Version, tcloud.Config{Endpoint: c.URL, Timeout: timeout},
		tcloud.StaticCredential(c.id, c.key, ""))
	if err != nil {
		t.Fatal(err)
	}
	return cccapi.New(tc, o)
}

// Receiver is a webhook destination on URL. A delivery whose signature
// does not verify with WebhookSecret fails the test and is answered 401;
// one that does is a record named by its webhook-id, stored and answered
// 204, unless Answer says otherwise.
type Receiver struct {
	URL string

	t        testing.TB
	srv      *httptest.Server
	verifier *standardwebhooks.Webhook
	done     chan struct{} // closed when the test ends

	mu         sync.Mutex
	answer     func(http.ResponseWriter, *http.Request) int
	deliveries []Delivery
}

// Delivery is one delivery a Receiver stored.
type Delivery struct {
	Header http.Header
	Body   []byte
}

// NewReceiver starts a Receiver; it closes when the test ends.
func NewReceiver(t testing.TB) *Receiver {
	t.Helper()
	v, err := standardwebhooks.NewWebhook(WebhookSecret)
	if err != nil {
		t.Fatal(err)
	}
	r := &Receiver{t: t, verifier: v, done: make(chan struct{})}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	r.URL = r.srv.URL
	t.Cleanup(func() {
		close(r.done) // lets the held deliveries go, or Close would wait for them
		r.srv.Close()
	})
	return r
}

// Client is an HTTP client for the Receiver's server.
func (r *Receiver) Client() *http.Client { return r.srv.Client() }

// Answer has fn answer each verified delivery from now on (nil restores
// the default): 0 stores it and answers 204; -1 holds it unanswered until
// its sender gives up or the test ends; any other status is answered as it
// is, with the headers fn set on w, and the delivery is not stored.
func (r *Receiver) Answer(fn func(w http.ResponseWriter, req *http.Request) int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answer = fn
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return // the sender went away
	}
	if err := r.verifier.Verify(body, req.Header); err != nil {
		r.t.Errorf("webhook signature: %v", err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	r.mu.Lock()
	fn := r.answer
	r.mu.Unlock()
	status := 0
	if fn != nil {
		status = fn(w, req)
	}
	switch status {
	case 0:
	case -1:
		select {
		case <-req.Context().Done():
		case <-r.done:
		}
		return
	default:
		w.WriteHeader(status)
		return
	}
	var rec struct{ ID string }
	if err := json.Unmarshal(body, &rec); err != nil || rec.ID != req.Header.Get("webhook-id") {
		r.t.Errorf("webhook body is not the record named by webhook-id %q: %v", req.Header.Get("webhook-id"), err)
	}
	r.mu.Lock()
	r.deliveries = append(r.deliveries, Delivery{Header: req.Header.Clone(), Body: body})
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// Deliveries returns the stored deliveries, in the order they came.
func (r *Receiver) Deliveries() []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Delivery(nil), r.deliveries...)
}

// Bodies returns the bodies of the stored deliveries, in the order they
// came.
func (r *Receiver) Bodies() [][]byte {
	var b [][]byte
	for _, d := range r.Deliveries() {
		b = append(b, d.Body)
	}
	return b
}

// Records decodes the stored deliveries, in the order they came.
func (r *Receiver) Records(t testing.TB) []record.Record {
	t.Helper()
	var out []record.Record
	for _, b := range r.Bodies() {
		var rec record.Record
		if err := json.Unmarshal(b, &rec); err != nil {
			t.Fatal(err)
		}
		out = append(out, rec)
	}
	return out
}

// Sink is a sink.Sink that keeps the messages it accepts in Sent, or
// fails with Err. Set Err and read Sent while nothing sends.
type Sink struct {
	Err  error
	Sent []sink.Message

	name string
	mu   sync.Mutex
}

// NewSink returns an empty Sink with the given name.
func NewSink(name string) *Sink { return &Sink{name: name} }

func (s *Sink) Name() string { return s.name }

func (s *Sink) Send(_ context.Context, m sink.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	s.Sent = append(s.Sent, m)
	return nil
}

// Buffer is a bytes.Buffer safe for concurrent writes, as of a logger or a
// child process's output.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Counter is a sink.Sink that only counts what it accepts, for fuzz
// targets that send millions of records.
type Counter struct{ n atomic.Int64 }

func (*Counter) Name() string { return "memory" }

func (c *Counter) Send(context.Context, sink.Message) error {
	c.n.Add(1)
	return nil
}

// Count is how many messages were sent.
func (c *Counter) Count() int64 { return c.n.Load() }

// Detail is an enrich.DetailSource that answers every query with D.
type Detail struct{ D *ccc.SessionDetail }

func (d Detail) DescribeSessionDetail(context.Context, ccc.SessionQuery) (*ccc.SessionDetail, error) {
	return d.D, nil
}
