package trufflehog

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
)

// v2result is one result of TruffleHog v2 (the Python truffleHog, 2.0 to
// 2.2, before the Go rewrite): truffleHog.py's print_results writes each
// found issue with json.dumps(issue, sort_keys=True), one object per line
// from 2.0.89 on and pretty-printed (indent=4) before.
type v2result struct {
	Branch     string `json:"branch"`
	Commit     string `json:"commit"` // the commit message
	CommitHash string `json:"commitHash"`
	Date       string `json:"date"` // "2019-03-07 16:45:00", the scanning machine's local time
	// Diff and PrintDiff hold the diff the secret was found in, in clear
	// (PrintDiff with the secrets between ANSI colour codes). Neither is
	// copied into an issue.
	Diff         string    `json:"diff"`
	PrintDiff    string    `json:"printDiff"`
	Path         string    `json:"path"`
	Reason       *string   `json:"reason"` // "High Entropy" or the name of the regex that matched
	StringsFound v2strings `json:"stringsFound"`
}

// v2strings is stringsFound: the strings the entropy check or a regex
// found. A regex with several groups makes Python's findall return tuples,
// which json.dumps writes as arrays: each is one match, its parts kept.
type v2strings [][]string

func (s *v2strings) UnmarshalJSON(b []byte) error {
	var items []json.RawMessage
	if err := json.Unmarshal(b, &items); err != nil {
		return errors.New(`"stringsFound" is not a list`)
	}
	for _, it := range items {
		var one string
		if json.Unmarshal(it, &one) == nil {
			*s = append(*s, []string{one})
			continue
		}
		var group []string
		if err := json.Unmarshal(it, &group); err != nil {
			return errors.New(`"stringsFound" holds something that is neither a string nor a list of strings`)
		}
		*s = append(*s, group)
	}
	return nil
}

// isV2 reports whether a decoded object has v2's keys: every v2 result
// names its reason and what it found.
func isV2(raw []byte) bool {
	var keys map[string]json.RawMessage
	if json.Unmarshal(raw, &keys) != nil {
		return false
	}
	_, reason := keys["reason"]
	_, found := keys["stringsFound"]
	return reason && found
}

const entropyReason = "High Entropy"

// issue builds the v2 result's issue; key identifies it for dedup.
func (r *v2result) issue() (iss *v1.Issue, key string, secrets []string, err error) {
	reason := strings.TrimSpace(*r.Reason)
	if reason == "" {
		return nil, "", nil, errors.New(`empty "reason"`)
	}
	if len(r.StringsFound) == 0 {
		return nil, "", nil, errors.New(`no "stringsFound"`)
	}
	// Each match is one secret value; a regex match with groups is its
	// groups joined, and each group is hidden too.
	var values []string
	seen := map[string]bool{}
	for _, m := range r.StringsFound {
		v := strings.Join(m, "")
		if strings.TrimSpace(v) == "" || seen[v] {
			continue
		}
		seen[v] = true
		values = append(values, v)
		secrets = append(secrets, v)
		if len(m) > 1 {
			secrets = append(secrets, m...)
		}
	}
	if len(values) == 0 {
		return nil, "", nil, errors.New(`"stringsFound" holds only blank strings`)
	}
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })

	sorted := append([]string(nil), values...)
	sort.Strings(sorted)
	fp := producers.SecretFingerprint(strings.Join(sorted, "\n"))

	masked := make([]string, 0, len(values))
	for i, v := range values {
		if i == maxShown {
			masked = append(masked, fmt.Sprintf("... and %d more", len(values)-maxShown))
			break
		}
		masked = append(masked, producers.RedactSecret(v))
	}
	shown := strings.Join(masked, "\n")

	sev, conf, title := v1.Severity_SEVERITY_HIGH, v1.Confidence_CONFIDENCE_MEDIUM, reason+" secret"
	tags := []string{"secret", "unverified"}
	if reason == entropyReason {
		// Entropy finds random-looking strings, secrets or not (hashes,
		// lockfile checksums): a lead to check, not a known key.
		sev, conf, title = v1.Severity_SEVERITY_MEDIUM, v1.Confidence_CONFIDENCE_LOW, "High-entropy string (possible secret)"
		tags = append(tags, "entropy")
	}

	path := strings.TrimSpace(r.Path)
	var b strings.Builder
	fmt.Fprintf(&b, "TruffleHog v2 found %s (%s) in ", plural(len(values), "string", "strings"), reason)
	if path != "" {
		b.WriteString(path)
	} else {
		b.WriteString("a file")
	}
	b.WriteString(" in the history of the git repository. TruffleHog v2 does not verify what it finds.")
	msg, _, _ := strings.Cut(strings.TrimSpace(r.Commit), "\n")
	for _, f := range [][2]string{{"Commit", r.CommitHash}, {"Date", r.Date}, {"Branch", r.Branch}, {"Commit message", msg}} {
		if v := strings.TrimSpace(f[1]); v != "" {
			b.WriteString("\n" + f[0] + ": " + v)
		}
	}
	if len(values) == 1 {
		b.WriteString("\nSecret: " + shown)
	} else {
		b.WriteString("\nStrings found:\n" + shown)
	}

	target := producers.FirstNonEmpty(path, r.CommitHash, r.Branch, "git history")
	iss = &v1.Issue{
		Target:         target,
		Type:           reason,
		RuleId:         reason,
		Title:          title,
		Severity:       sev,
		Confidence:     conf,
		Description:    b.String(),
		ContextSegment: &shown,
		Fingerprint:    fp,
		Tags:           tags,
		ToolName:       name,
	}
	if path != "" {
		iss.Location = producers.Loc(path, 0, 0)
	}
	ann := map[string]string{"source": "Git"}
	for k, v := range map[string]string{"commit": r.CommitHash, "branch": r.Branch, "date": r.Date} {
		if v != "" {
			ann[k] = v
		}
	}
	iss.Annotations = ann
	scrub(iss, secrets)
	key = strings.Join([]string{"v2", reason, fp, path, r.CommitHash}, "\x00")
	return iss, key, secrets, nil
}

// maxShown is how many masked strings one issue lists; an entropy hit on
// a lockfile finds hundreds.
const maxShown = 20

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
