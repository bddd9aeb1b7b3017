// Package secret reads credentials from where the config says they are
// (env:NAME, file:PATH) and keeps them out of logs: every value read is
// registered with a Masker, which replaces it in everything written
// through it.
package secret

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Mask is what a credential is replaced with.
const Mask = "***"

// Masker replaces registered credentials in what is written through it
// and in strings it is asked to clean (errors that may quote a URL that
// holds a token, say).
type Masker struct {
	mu     sync.RWMutex
	wmu    sync.Mutex // one Write at a time, so side-by-side consumers' lines stay whole
	w      io.Writer
	values []string // longest first, so a value inside another is not half-masked
	// announce, when set, is told of each new value: in GitHub Actions it
	// prints ::add-mask:: so the runner masks it in the job's log too.
	announce func(string)
}

// NewMasker masks what is written to w. announce may be nil.
func NewMasker(w io.Writer, announce func(string)) *Masker {
	if w == nil {
		w = io.Discard
	}
	return &Masker{w: w, announce: announce}
}

// Add registers a credential. Values shorter than 4 bytes are not
// masked: masking "a" would garble every log line and hide nothing.
func (m *Masker) Add(v string) {
	if m == nil || len(v) < 4 {
		return
	}
	m.mu.Lock()
	for _, have := range m.values {
		if have == v {
			m.mu.Unlock()
			return
		}
	}
	m.values = append(m.values, v)
	sort.Slice(m.values, func(i, j int) bool { return len(m.values[i]) > len(m.values[j]) })
	announce := m.announce
	m.mu.Unlock()
	if announce != nil {
		announce(v)
	}
}

// Clean returns s with every registered credential masked.
func (m *Masker) Clean(s string) string {
	if m == nil {
		return s
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, v := range m.values {
		s = strings.ReplaceAll(s, v, Mask)
	}
	return s
}

// Write masks p and writes it on. It reports len(p) written when the
// masked bytes were all written, as a masking writer must.
func (m *Masker) Write(p []byte) (int, error) {
	m.mu.RLock()
	out := p
	for _, v := range m.values {
		if bytes.Contains(out, []byte(v)) {
			out = bytes.ReplaceAll(out, []byte(v), []byte(Mask))
		}
	}
	w := m.w
	m.mu.RUnlock()
	m.wmu.Lock()
	defer m.wmu.Unlock()
	if _, err := w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Resolve reads the credential ref names: "env:NAME" or "file:PATH" (a
// relative path is taken from dir). An empty ref reads the environment
// variable fallback, if one is given. The value is registered with m (which
// may be nil). A reference that names nothing is an error that says which.
func Resolve(ref, fallback string, getenv func(string) string, dir string, m *Masker) (string, error) {
	if ref == "" {
		if fallback == "" {
			return "", nil
		}
		ref = "env:" + fallback
	}
	kind, name, ok := strings.Cut(ref, ":")
	var v string
	switch {
	case ok && kind == "env" && name != "":
		v = getenv(name)
	case ok && kind == "file" && name != "":
		if !filepath.IsAbs(name) {
			name = filepath.Join(dir, name)
		}
		b, err := os.ReadFile(name)
		if err != nil {
			return "", fmt.Errorf("secret %s: %w", ref, err)
		}
		// A secret file written by echo or kubectl ends in a newline that
		// is not part of the credential.
		v = strings.TrimRight(string(b), "\r\n")
	default:
		return "", fmt.Errorf("secret %q: read from env:NAME or file:PATH", ref)
	}
	m.Add(v)
	return v, nil
}
