package action

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"github.com/sethvargo/go-githubactions"
)

// GitHub's annotation limits (actions/toolkit docs/problem-matchers.md):
// 10 of each level per step, 50 per job; the rest are dropped silently.
const (
	MaxAnnotationsPerLevel = 10
	MaxAnnotationsPerJob   = 50
)

// Annotation levels, as the workflow commands name them.
const (
	LevelError   = "error"
	LevelWarning = "warning"
	LevelNotice  = "notice"
)

// reserved is how many annotations of each level the findings leave to
// the action's own messages (the verdict, a skipped upload, the "N more"
// notice), so those are never the ones GitHub drops.
var reserved = map[string]int{LevelError: 1, LevelWarning: 2, LevelNotice: 2}

// annotator issues annotations within GitHub's limits; past them it
// writes plain log lines.
type annotator struct {
	gha   *githubactions.Action
	log   io.Writer
	used  map[string]int
	total int
}

func newAnnotator(gha *githubactions.Action, log io.Writer) *annotator {
	return &annotator{gha: gha, log: log, used: map[string]int{}}
}

// room says whether one more annotation of level fits, keeping keep of
// that level free.
func (n *annotator) room(level string, keep int) bool {
	return n.used[level] < MaxAnnotationsPerLevel-keep && n.total < MaxAnnotationsPerJob
}

func (n *annotator) issue(level string, fields map[string]string, msg string) {
	a := n.gha
	if len(fields) > 0 {
		a = a.WithFieldsMap(fields)
	}
	switch level {
	case LevelError:
		a.Errorf("%s", msg)
	case LevelWarning:
		a.Warningf("%s", msg)
	default:
		a.Noticef("%s", msg)
	}
	n.used[level]++
	n.total++
}

// message is one of the action's own messages: an annotation while there
// is room, else a log line.
func (n *annotator) message(level, title, msg string) {
	if !n.room(level, 0) {
		fmt.Fprintf(n.log, "dracon: %s: %s\n", level, oneLine(msg))
		return
	}
	var fields map[string]string
	if title != "" {
		fields = map[string]string{"title": title}
	}
	n.issue(level, fields, msg)
}

// levelOf is the annotation level of a severity: critical and high are
// errors, medium warnings, the rest notices.
func levelOf(s v1.Severity) string {
	switch {
	case s >= v1.Severity_SEVERITY_HIGH:
		return LevelError
	case s == v1.Severity_SEVERITY_MEDIUM:
		return LevelWarning
	}
	return LevelNotice
}

// annotate issues an annotation for the findings that matter most, at
// most max of them: those not suppressed and not outside the diff, in the
// order of sortFindings (new ones on changed lines first, then new ones,
// the most severe first), within GitHub's limits, then one notice saying
// how many more the job summary lists. It returns how many it issued.
func (n *annotator) annotate(fs []Finding, maxN int) int {
	var cands []Finding
	for _, f := range fs {
		if !f.Suppressed && !f.OutsideDiff && f.Path != "" && !strings.Contains(f.Path, "://") && !strings.HasPrefix(f.Path, "pkg:") {
			cands = append(cands, f)
		}
	}
	done := 0
	for _, f := range cands {
		if done >= maxN {
			break
		}
		level := levelOf(f.Severity)
		if !n.room(level, reserved[level]) {
			continue // a less severe level may still have room
		}
		n.issue(level, annotationFields(f), annotationMessage(f))
		done++
	}
	if more := len(cands) - done; more > 0 {
		n.message(LevelNotice, "Dracon", fmt.Sprintf("%s in the job summary (GitHub shows %d annotations of each level per step)",
			plural(more, "more finding"), MaxAnnotationsPerLevel))
	}
	return done
}

func annotationFields(f Finding) map[string]string {
	m := map[string]string{"file": f.Path, "title": annotationTitle(f)}
	if f.Start > 0 {
		m["line"] = strconv.Itoa(f.Start)
		if f.End > f.Start {
			m["endLine"] = strconv.Itoa(f.End)
		}
	}
	return m
}

func annotationTitle(f Finding) string {
	t := SeverityWord(f.Severity) + " " + f.Tool
	if f.Rule != "" {
		t += " " + f.Rule
	}
	if f.New {
		t += " (new)"
	}
	return cut(t, 200)
}

func annotationMessage(f Finding) string {
	msg := f.Title
	switch m := strings.TrimSpace(f.Message); {
	case m == "" || oneLine(m) == f.Title:
	case strings.HasPrefix(oneLine(m), f.Title):
		msg = cutLines(m, 2000) // the description repeats the title
	default:
		msg += "\n\n" + cutLines(m, 2000)
	}
	switch f.Gate {
	case "deny":
		msg += "\n\nA policy fails the run on this finding."
	case "warn":
		msg += "\n\nA policy warns of this finding."
	}
	return msg
}

// cutLines keeps s's lines, cut to n characters.
func cutLines(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
