// Package stdout is the destination of records when none is configured:
// one JSON line each on standard output, which SCF and Lambda send to
// their log services.
package stdout

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/ccc-enricher/ccc-enricher/internal/config"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
	"github.com/ccc-enricher/ccc-enricher/internal/sink"
)

// Stdout writes each record as one JSON line, the body compacted and
// otherwise as is. It is the sink when none is configured: on SCF and Lambda
// standard output goes to the platform's log service, so records are at
// least searchable. The record id and schema version are fields of the
// record itself, so nothing is added around it.
type Stdout struct {
	mu sync.Mutex // serialises writes so that lines never interleave
	w  io.Writer
}

// New returns a Stdout writing to w, or to os.Stdout if w is nil.
func New(w io.Writer) *Stdout {
	if w == nil {
		w = os.Stdout
	}
	return &Stdout{w: w}
}

// Name returns "stdout".
func (s *Stdout) Name() string { return config.KindStdout }

// Send writes m.Body and a newline in one Write call. A body that is not
// JSON is a permanent error; a failed write is transient.
func (s *Stdout) Send(ctx context.Context, m sink.Message) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("stdout: %w", err)
	}
	var line bytes.Buffer
	line.Grow(len(m.Body) + 1)
	if err := json.Compact(&line, m.Body); err != nil {
		return retry.Permanent(fmt.Errorf("stdout: record %s: body is not JSON: %w", m.ID, err))
	}
	line.WriteByte('\n')
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("stdout: record %s: %w", m.ID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.w.Write(line.Bytes()); err != nil {
		return fmt.Errorf("stdout: record %s: %w", m.ID, err)
	}
	return nil
}
