// Package stdout is the destination of records when none is configured:
// one JSON line each on standard output, which SCF and Lambda send to
// their log services.
package stdout

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

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
	mu      sync.Mutex // serialises writes so that lines never interleave
	w       io.Writer
	nowhere bool // w is the null device: a record written there is lost
}

// New returns a Stdout writing to w, or to os.Stdout if w is nil.
//
// A file that is the null device (as standard output is when the process
// started with it closed: the Go runtime opens /dev/null in its place)
// makes every Send fail, transiently, so that CCC pushes again rather than
// have its record acknowledged and dropped. Writing to os.Stdout, New also
// asks for SIGPIPE, so that a pipe whose reader has gone makes Send fail
// with EPIPE instead of the runtime killing the process.
func New(w io.Writer) *Stdout {
	if w == nil {
		w = os.Stdout
	}
	f, isFile := w.(*os.File)
	if f == os.Stdout {
		catchSIGPIPE.Do(func() { signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE) })
	}
	return &Stdout{w: w, nowhere: isFile && isNull(f)}
}

var catchSIGPIPE sync.Once

// errNowhere is Send's error when standard output is the null device.
var errNowhere = errors.New("standard output is the null device (closed at start-up?): the record would be lost")

func isNull(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err == nil && os.SameFile(fi, null)
}

// Name returns "stdout".
func (s *Stdout) Name() string { return config.KindStdout }

// Send writes m.Body and a newline in one Write call. A body that is not
// JSON is a permanent error; a failed write (a closed pipe included) and a
// null device are transient.
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
	if s.nowhere {
		return fmt.Errorf("stdout: record %s: %w", m.ID, errNowhere)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.w.Write(line.Bytes()); err != nil {
		return fmt.Errorf("stdout: record %s: %w", m.ID, err)
	}
	return nil
}
