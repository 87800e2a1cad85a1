package sink

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

func TestStdoutOneCompactLine(t *testing.T) {
	var buf bytes.Buffer
	s := NewStdout(&buf)
	m := testMessage(t)
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
			m := testMessage(t)
			m.Body = []byte(tt.body)
			err := NewStdout(tt.w).Send(context.Background(), m)
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
	s := NewStdout(w)
	const n = 50
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			m := testMessage(t)
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
