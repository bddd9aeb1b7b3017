package producers

import (
	"sort"
	"strings"

	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// Redactor hides a set of secret values wherever they appear. Secret
// scanners give their values to one (Parsed.Secrets) so that a secret is
// hidden not only in its own finding but in every other tool's findings
// and raw reports too: a Dockerfile line trivy quotes, a search key kics
// writes, a gitleaks match that holds a second secret.
type Redactor struct {
	secrets []string
	rep     *strings.Replacer
}

// NewRedactor returns a redactor for secrets (blank values are ignored).
func NewRedactor(secrets []string) *Redactor {
	seen := map[string]bool{}
	var list []string
	for _, s := range secrets {
		if strings.TrimSpace(s) != "" && !seen[s] {
			seen[s] = true
			list = append(list, s)
		}
	}
	// Longest first, so that a secret containing another is replaced whole.
	sort.Slice(list, func(i, j int) bool { return len(list[i]) > len(list[j]) })
	r := &Redactor{secrets: list}
	if len(list) > 0 {
		pairs := make([]string, 0, 2*len(list))
		for _, s := range list {
			pairs = append(pairs, s, RedactSecret(s))
		}
		// One pass for all secrets: applying them one after another could
		// match a secret inside another's mask.
		r.rep = strings.NewReplacer(pairs...)
	}
	return r
}

// Empty reports whether there is nothing to hide.
func (r *Redactor) Empty() bool { return r == nil || len(r.secrets) == 0 }

// String hides the secrets in s.
func (r *Redactor) String(s string) string {
	if r.Empty() || s == "" {
		return s
	}
	for _, sec := range r.secrets {
		if strings.Contains(s, sec) {
			return r.rep.Replace(s)
		}
	}
	return s
}

// Issue hides the secrets in every text field of iss.
func (r *Redactor) Issue(iss *v1.Issue) {
	if r.Empty() {
		return
	}
	iss.Target = r.String(iss.Target)
	iss.Type = r.String(iss.Type)
	iss.RuleId = r.String(iss.RuleId)
	iss.Title = r.String(iss.Title)
	iss.Description = r.String(iss.Description)
	iss.Source = r.String(iss.Source)
	if iss.ContextSegment != nil {
		cs := r.String(*iss.ContextSegment)
		iss.ContextSegment = &cs
	}
	if iss.Location != nil {
		iss.Location.Path = r.String(iss.Location.Path)
	}
	for _, list := range [][]string{iss.References, iss.Tags, iss.Aliases} {
		for i := range list {
			list[i] = r.String(list[i])
		}
	}
	for k, v := range iss.Annotations {
		iss.Annotations[k] = r.String(v)
	}
}
