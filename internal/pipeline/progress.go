package pipeline

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/draconsec/dracon/internal/produce"
)

// progress shows each producer starting and finishing. On a terminal it
// also keeps a live line of what is still running; in CI logs it writes
// plain lines only, since carriage returns make logs unreadable.
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	live    bool
	running map[string]time.Time
	stop    chan struct{}
	done    chan struct{}
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, running: map[string]time.Time{}, live: isTerminal(w)}
	if p.live {
		p.stop, p.done = make(chan struct{}), make(chan struct{})
		go p.tick()
	}
	return p
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("CI") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (p *progress) tick() {
	defer close(p.done)
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.mu.Lock()
			p.statusLine()
			p.mu.Unlock()
		}
	}
}

// statusLine redraws the live line; the caller holds mu.
func (p *progress) statusLine() {
	if !p.live {
		return
	}
	names := make([]string, 0, len(p.running))
	for n := range p.running {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %s", n, time.Since(p.running[n]).Round(time.Second))
	}
	if len(parts) == 0 {
		fmt.Fprint(p.w, "\r\033[K")
		return
	}
	fmt.Fprintf(p.w, "\r\033[Krunning: %s", strings.Join(parts, ", "))
}

func (p *progress) println(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintf(p.w, format+"\n", args...)
	p.statusLine()
}

func (p *progress) start(name string) {
	p.mu.Lock()
	p.running[name] = time.Now()
	p.mu.Unlock()
	p.println("dracon: %s started", name)
}

func (p *progress) finish(o produce.Outcome) {
	p.mu.Lock()
	delete(p.running, o.Producer)
	p.mu.Unlock()
	d := o.Duration.Round(10 * time.Millisecond)
	switch o.Status {
	case produce.OK:
		p.println("dracon: %s finished in %s: %d findings", o.Producer, d, len(o.Parsed.Issues))
	case produce.Skipped:
		p.println("dracon: %s skipped: %s", o.Producer, o.Reason)
	default:
		p.println("dracon: %s FAILED after %s: %s", o.Producer, d, o.Reason)
	}
}

func (p *progress) close() {
	if p.live {
		close(p.stop)
		<-p.done
		p.mu.Lock()
		fmt.Fprint(p.w, "\r\033[K")
		p.mu.Unlock()
	}
}
