// Package sinktest is the conformance suite every destination's tests run:
// what the enricher and the dead-letter fallback rely on, checked the same
// way against each destination's own test double (a verifying webhook
// receiver, moto, kfake, the TDMQ emulator, a writer). It also holds the
// sample message and the fast retry policy those tests share.
package sinktest

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/retry"
	"github.com/ccc-enricher/ccc-enricher/internal/sink"
)

//go:embed testdata/record.json
var record []byte

// Policy keeps the retry tests quick; the behaviour under test is which
// failures are retried, not the backoff.
var Policy = retry.Policy{Attempts: 5, Base: time.Millisecond, Max: 2 * time.Millisecond}

// Message is the sample record as a sink receives it.
func Message() sink.Message {
	return sink.Message{
		ID:            "cer_5d1f0c3b9a7e4f6c8b2a1d0e9f8c7b6a",
		SchemaVersion: "1.0",
		Key:           "0f507d5d-e1e4-436e-a655-1d6c75a79b4f",
		Group:         "1400000000",
		Body:          append([]byte(nil), record...),
	}
}

// Delivery is one message as its consumer finds it: the record id and
// schema version from wherever the destination carries them (attributes,
// headers, or the record's own fields), and the body.
type Delivery struct {
	ID, SchemaVersion string
	Body              []byte
}

// Harness makes the destinations the suite sends to. Each function is
// called in a subtest and returns a new destination, closed (when it is an
// io.Closer) by the suite.
type Harness struct {
	// Working returns a destination that accepts messages, and a function
	// that returns everything it holds.
	Working func(t *testing.T) (sink.Sink, func(t *testing.T) []Delivery)
	// Refusing returns one that refuses every message for good, as a
	// missing queue or a denied credential does.
	Refusing func(t *testing.T) sink.Sink
	// Failing returns one that fails every message in a way a retry could
	// cure, as an unavailable service does.
	Failing func(t *testing.T) sink.Sink
	// Hanging returns one that never answers. Nil means Failing.
	Hanging func(t *testing.T) sink.Sink
	// Secrets are the secrets in the destinations' configuration, which no
	// error may quote.
	Secrets []string
}

// Phone and Link are put in the messages the suite sends: an error may
// quote neither, nor the body.
const (
	Phone = "008613812345678"
	Link  = "https://tccc.qcloud.com/tcccadmin/getRecord/PEbN/x.mp3?sign=c2lnbmVkLWxpbmstdG9rZW4"
)

// Run runs the suite with h.
func Run(t *testing.T, h Harness) {
	t.Run("delivered once with its id", func(t *testing.T) {
		s, read := h.Working(t)
		closeAtEnd(t, s)
		m := message(t, "cer_00000000000000000000000000c0f0e1")
		if err := s.Send(context.Background(), m); err != nil {
			t.Fatalf("Send: %v", err)
		}
		got := read(t)
		if len(got) != 1 {
			t.Fatalf("%d deliveries, want 1", len(got))
		}
		d := got[0]
		if d.ID != m.ID || d.SchemaVersion != m.SchemaVersion {
			t.Errorf("delivered id %q schema version %q, want %q and %q", d.ID, d.SchemaVersion, m.ID, m.SchemaVersion)
		}
		if !sameJSON(d.Body, m.Body) {
			t.Errorf("body changed in transit:\n%s", d.Body)
		}
	})

	t.Run("refusal is permanent", func(t *testing.T) {
		s := h.Refusing(t)
		closeAtEnd(t, s)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		err := send(t, ctx, s, h.Secrets)
		if !retry.IsPermanent(err) {
			t.Errorf("Send = %v, want a permanent error", err)
		}
	})

	t.Run("failure is transient", func(t *testing.T) {
		s := h.Failing(t)
		closeAtEnd(t, s)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := send(t, ctx, s, h.Secrets); err == nil || retry.IsPermanent(err) {
			t.Errorf("Send = %v, want a transient error", err)
		}
	})

	t.Run("deadline", func(t *testing.T) {
		hanging := h.Hanging
		if hanging == nil {
			hanging = h.Failing
		}
		s := hanging(t)
		closeAtEnd(t, s)
		const timeout = 300 * time.Millisecond
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		start := time.Now()
		err := send(t, ctx, s, h.Secrets)
		if took := time.Since(start); took > timeout+time.Second {
			t.Errorf("Send took %v with a deadline of %v", took, timeout)
		}
		if err == nil || retry.IsPermanent(err) {
			t.Errorf("Send = %v, want a transient error", err)
		}
	})

	t.Run("context already done", func(t *testing.T) {
		s, _ := h.Working(t)
		closeAtEnd(t, s)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		start := time.Now()
		err := send(t, ctx, s, h.Secrets)
		if took := time.Since(start); took > time.Second {
			t.Errorf("Send took %v with a cancelled context", took)
		}
		if err == nil || retry.IsPermanent(err) {
			t.Errorf("Send = %v, want a transient error", err)
		}
	})
}

// send sends a message holding a phone number and a signed link to s and
// checks that its error, if any, quotes neither, nor the body, nor one of
// the secrets.
func send(t *testing.T, ctx context.Context, s sink.Sink, secrets []string) error {
	t.Helper()
	m := message(t, "cer_00000000000000000000000000fa11ed")
	err := s.Send(ctx, m)
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, leak := range append([]string{Phone, Link, string(m.Body), "c2lnbmVkLWxpbmstdG9rZW4"}, secrets...) {
		if leak != "" && strings.Contains(msg, leak) {
			t.Errorf("error %q quotes %q", msg, leak)
		}
	}
	return err
}

// message is the sample record with id, and a caller's number and a
// signed recording link first, where an error quoting the start of the
// body, as a receiver's echo, would have them.
func message(t *testing.T, id string) sink.Message {
	t.Helper()
	m := Message()
	var rec map[string]any
	if err := json.Unmarshal(m.Body, &rec); err != nil {
		t.Fatal(err)
	}
	rec["id"] = id
	rec["push"].(map[string]any)["Caller"] = Phone
	body, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	lead, err := json.Marshal(map[string]string{"caller": Phone, "recordURL": Link})
	if err != nil {
		t.Fatal(err)
	}
	m.ID, m.Body = id, append(append(lead[:len(lead)-1], ','), body[1:]...)
	return m
}

// FromBody reads a delivery's record id and schema version from its body,
// for destinations that carry them only there.
func FromBody(t *testing.T, body []byte) Delivery {
	t.Helper()
	var rec struct {
		ID            string `json:"id"`
		SchemaVersion string `json:"schemaVersion"`
	}
	if err := json.Unmarshal(body, &rec); err != nil {
		t.Fatalf("delivered body is not a record: %v", err)
	}
	return Delivery{ID: rec.ID, SchemaVersion: rec.SchemaVersion, Body: body}
}

// Blackhole returns the address of a loopback listener that accepts
// connections and never answers, for a Hanging destination. It closes when
// the test ends.
func Blackhole(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		close(done)
		ln.Close()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				<-done
				c.Close()
			}()
		}
	}()
	return ln.Addr().String()
}

// Closed returns a loopback address where nothing listens.
func Closed(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func closeAtEnd(t *testing.T, s sink.Sink) {
	if c, ok := s.(interface{ Close() error }); ok {
		t.Cleanup(func() { c.Close() })
	}
}

func sameJSON(a, b []byte) bool {
	var x, y any
	if errors.Join(json.Unmarshal(a, &x), json.Unmarshal(b, &y)) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}
