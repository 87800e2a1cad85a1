package stdout

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/ccc-enricher/ccc-enricher/internal/retry"
	"github.com/ccc-enricher/ccc-enricher/internal/sink"
	"github.com/ccc-enricher/ccc-enricher/internal/sink/sinktest"
)

func TestConformance(t *testing.T) {
	sinktest.Run(t, sinktest.Harness{
		Working: func(t *testing.T) (sink.Sink, func(*testing.T) []sinktest.Delivery) {
			w := &choppyWriter{}
			return New(w), func(t *testing.T) []sinktest.Delivery {
				var out []sinktest.Delivery
				sc := bufio.NewScanner(&w.buf)
				for sc.Scan() {
					out = append(out, sinktest.FromBody(t, bytes.Clone(sc.Bytes())))
				}
				return out
			}
		},
		// A writer cannot say why it fails; one whose error is marked
		// permanent stands for a destination that refuses.
		Refusing: func(*testing.T) sink.Sink {
			return New(&failingWriter{err: retry.Permanent(errors.New("refused"))})
		},
		Failing: func(*testing.T) sink.Sink { return New(&failingWriter{err: errors.New("broken pipe")}) },
	})
}

func TestStdoutOneCompactLine(t *testing.T) {
	var buf bytes.Buffer
	s := New(&buf)
	m := sinktest.Message()
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	var want bytes.Buffer
	if err := json.Compact(&want, m.Body); err != nil {
		t.Fatal(err)
	}
	want.WriteByte('\n')
	if buf.String() != want.String() {
		t.Errorf("wrote %q, want %q", buf.String(), want.String())
	}
	if strings.Count(buf.String(), "\n") != 1 {
		t.Errorf("wrote %d lines", strings.Count(buf.String(), "\n"))
	}
	if s.Name() != "stdout" {
		t.Errorf("Name = %q", s.Name())
	}
}

func TestStdoutErrors(t *testing.T) {
	tests := []struct {
		name      string
		w         *failingWriter
		body      string
		permanent bool
	}{
		{"not JSON", &failingWriter{}, `{"id":`, true},
		{"two values", &failingWriter{}, `{} {}`, true},
		{"write fails", &failingWriter{err: errors.New("broken pipe")}, `{}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := sinktest.Message()
			m.Body = []byte(tt.body)
			err := New(tt.w).Send(context.Background(), m)
			if err == nil || retry.IsPermanent(err) != tt.permanent {
				t.Fatalf("Send = %v, want permanent=%v", err, tt.permanent)
			}
		})
	}
}

type failingWriter struct{ err error }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	return len(p), nil
}

// choppyWriter hands each Write on in small pieces, yielding in between,
// as a pipe may: lines interleave unless the caller serialises.
type choppyWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *choppyWriter) Write(p []byte) (int, error) {
	for i := 0; i < len(p); i += 7 {
		w.mu.Lock()
		w.buf.Write(p[i:min(i+7, len(p))])
		w.mu.Unlock()
		runtime.Gosched()
	}
	return len(p), nil
}

func TestStdoutConcurrentLinesIntact(t *testing.T) {
	w := &choppyWriter{}
	s := New(w)
	const n = 50
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			m := sinktest.Message()
			m.ID = fmt.Sprintf("cer_%032d", i)
			m.Body = fmt.Appendf(nil, `{"id": %q, "pad": %q}`, m.ID, strings.Repeat("x", 100))
			if err := s.Send(context.Background(), m); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	sc := bufio.NewScanner(&w.buf)
	for sc.Scan() {
		var v struct{ ID string }
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		seen[v.ID] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct lines, want %d", len(seen), n)
	}
}

// BenchmarkStdoutSend writes the sample record as one line.
func BenchmarkStdoutSend(b *testing.B) {
	s := New(io.Discard)
	m := sinktest.Message()
	ctx := context.Background()
	b.SetBytes(int64(len(m.Body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Send(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSendGoesNowhere: a null device or a pipe whose reader has gone is a
// transient failure, never an acknowledged record.
func TestSendGoesNowhere(t *testing.T) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	r.Close()
	for name, f := range map[string]*os.File{"null device": null, "broken pipe": w} {
		err := New(f).Send(context.Background(), sinktest.Message())
		if err == nil || retry.IsPermanent(err) {
			t.Errorf("%s: Send = %v, want a transient error", name, err)
		}
	}
}
