package producers

import (
	"strings"
	"testing"

	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

func TestRedactor(t *testing.T) {
	long := "ghp_" + strings.Repeat("x", 36)
	r := NewRedactor([]string{"", "  ", long, long[:20], "pw123456"})
	ctx := "ENV T=" + long + " P=pw123456"
	is := &v1.Issue{Title: "token " + long, Target: "keys/" + long + ".txt:3", ContextSegment: &ctx,
		Location: &v1.Location{Path: "keys/" + long + ".txt"}, Tags: []string{long}, Annotations: map[string]string{"k": "pw123456"}}
	r.Issue(is)
	for _, s := range []string{is.Title, is.Target, *is.ContextSegment, is.Location.Path, is.Tags[0], is.Annotations["k"]} {
		if strings.Contains(s, long[4:]) || strings.Contains(s, "pw123456") {
			t.Errorf("not hidden: %q", s)
		}
	}
	// The longer secret is hidden whole, not as its prefix plus a tail.
	if *is.ContextSegment != "ENV T=ghp_****REDACTED**** P=****REDACTED****" {
		t.Errorf("context = %q", *is.ContextSegment)
	}
	if !NewRedactor(nil).Empty() || NewRedactor([]string{" "}).String("a b") != "a b" {
		t.Error("an empty redactor changed text")
	}
}
