package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/reconcile"
)

// isTerminal reports whether w is a terminal, where a bar redrawn in place
// reads well; elsewhere (a file, CI, a pipe) whole lines do.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progress shows a backfill's progress on w: a bar redrawn in place on a
// terminal, else a line per window done and at most one every
// plainEvery. It is also the log's writer, so that a log line does not
// land in the middle of the bar.
type progress struct {
	w              io.Writer
	tty            bool
	window         time.Duration
	dryRun         bool
	mu             sync.Mutex
	bar            string    // on screen, tty only
	drawn, printed time.Time // when the bar was drawn, a plain line printed
	lastAt         time.Time
}

const (
	barWidth   = 30
	redrawGap  = 100 * time.Millisecond
	plainEvery = 10 * time.Second
)

func (p *progress) update(pr reconcile.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	frac := 1.0
	if total := pr.End.Sub(pr.Start); total > 0 {
		frac = min(max(float64(pr.At.Sub(pr.Start))/float64(total), 0), 1)
	}
	counts := fmt.Sprintf("up to %s  seen %d  sent %d  dead-lettered %d  failed %d",
		stamp(pr.At), pr.Seen, pr.Forwarded+pr.DeadLettered, pr.DeadLettered, pr.Failed)
	if p.dryRun {
		// Nothing is sent: the summary's words, "would send".
		counts = fmt.Sprintf("up to %s  seen %d  would send %d  invalid %d", stamp(pr.At), pr.Seen, pr.Listed, pr.Failed)
	}
	now := time.Now()
	if p.tty {
		if now.Sub(p.drawn) < redrawGap && frac < 1 {
			return
		}
		n := int(frac * barWidth)
		p.bar = fmt.Sprintf("[%s%s] %3.0f%%  %s", strings.Repeat("#", n), strings.Repeat("-", barWidth-n), frac*100, counts)
		p.drawn = now
		fmt.Fprint(p.w, "\r\033[K"+p.bar)
		return
	}
	windowDone := pr.At.After(p.lastAt) && pr.At.After(pr.Start) && (pr.At.Equal(pr.End) || pr.At.Sub(pr.Start)%p.window == 0)
	if windowDone || now.Sub(p.printed) >= plainEvery {
		fmt.Fprintf(p.w, "backfill: %3.0f%% %s\n", frac*100, counts)
		p.printed = now
		if windowDone {
			p.lastAt = pr.At
		}
	}
}

// Write writes a log line above the bar.
func (p *progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar == "" {
		return p.w.Write(b)
	}
	fmt.Fprint(p.w, "\r\033[K")
	n, err := p.w.Write(b)
	fmt.Fprint(p.w, p.bar)
	return n, err
}

// clear removes the bar, for the summary to follow.
func (p *progress) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != "" {
		fmt.Fprint(p.w, "\r\033[K")
		p.bar = ""
	}
}
