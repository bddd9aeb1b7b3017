package reachability

import (
	"strconv"
	"strings"

	"github.com/draconsec/dracon/internal/config"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// frameSep joins a call path's frames.
const frameSep = " -> "

// callPaths are govulncheck's call paths for one advisory, entry first:
// the trace annotation's lines when the parser writes them, else the
// description's call sites ("dep.Func called from pkg.Caller at
// file:line" becomes "pkg.Caller (file:line) -> dep.Func").
func callPaths(is *v1.Issue) []string {
	var out []string
	add := func(p string) {
		if p = strings.TrimSpace(p); p != "" && !contains(out, p) {
			out = append(out, p)
		}
	}
	if t := is.GetAnnotations()[TraceAnnotation]; strings.TrimSpace(t) != "" {
		for _, line := range strings.Split(t, "\n") {
			add(line)
		}
		return out
	}
	desc := is.GetDescription()
	i := strings.Index(desc, callsHeading)
	if i < 0 {
		return nil
	}
	for _, line := range strings.Split(desc[i+len(callsHeading):], "\n") {
		site, ok := strings.CutPrefix(line, "- ")
		if !ok {
			break // the list ends the paragraph
		}
		sym, caller, found := strings.Cut(site, " called from ")
		if !found {
			add(sym) // no frame in the scanned code had a position
			continue
		}
		if j := strings.LastIndex(caller, " at "); j >= 0 {
			caller = caller[:j] + " (" + caller[j+len(" at "):] + ")"
		}
		add(caller + frameSep + sym)
	}
	return out
}

// Frames kept of a long call path: the first few are the scanned code
// and the dependency's API it calls, the last few the way into the
// vulnerable function; the middle is the dependency's internals.
const (
	headFrames = 3
	tailFrames = 2
)

// cutEvidence joins the call paths, one a line, within max characters
// (runes): long paths lose their middle frames, then paths beyond the
// first that do not fit are counted instead of shown, and a first path
// that alone is too long is cut.
func cutEvidence(paths []string, max int) string {
	if len(paths) == 0 {
		return ""
	}
	if max <= 0 {
		max = config.DefaultReachabilityMaxEvidence
	}
	// Room kept for the count of the paths left out, while any are left.
	room := runes("\n(+" + strconv.Itoa(len(paths)) + " more call paths)")
	var b strings.Builder
	used, shown := 0, 0
	for i, p := range paths {
		line := shorten(p)
		if shown > 0 {
			line = "\n" + line
		}
		need := used + runes(line)
		if i < len(paths)-1 {
			need += room // the paths after it may not fit
		}
		if shown > 0 && need > max {
			break
		}
		b.WriteString(line)
		used += runes(line)
		shown++
	}
	body, suffix := b.String(), ""
	if n := len(paths) - shown; n == 1 {
		suffix = "\n(+1 more call path)"
	} else if n > 1 {
		suffix = "\n(+" + strconv.Itoa(n) + " more call paths)"
	}
	if r := []rune(body); len(r)+runes(suffix) > max {
		body = string(r[:max-runes(suffix)-1]) + "…"
	}
	return body + suffix
}

// shorten drops a long path's middle frames, saying how many.
func shorten(p string) string {
	frames := strings.Split(p, frameSep)
	if len(frames) <= headFrames+tailFrames+1 {
		return p
	}
	n := len(frames) - headFrames - tailFrames
	kept := append(append(append([]string{}, frames[:headFrames]...), "… "+strconv.Itoa(n)+" frames …"), frames[len(frames)-tailFrames:]...)
	return strings.Join(kept, frameSep)
}

func runes(s string) int { return len([]rune(s)) }
