package policy

// Decision is what the policies decided on a run.
type Decision struct {
	// Deny fails the run; Warn is reported and never fails it.
	Deny []Violation
	Warn []Violation
	// AllowFailure names the producers a policy lets fail (a run-level
	// package's allow_failure set) without failing the run.
	AllowFailure map[string]bool
	// Policies are the policies that decided, for the summary.
	Policies []Loaded
}

// Violation is one deny or warn message of one rule.
type Violation struct {
	// Rule is the rule that wrote it: "data.dracon.builtin.secrets.deny".
	Rule string
	// Message is the rule's message.
	Message string
	// Findings are the findings it is about (none for a rule on the run).
	Findings []FindingRef
	// File is the policy file the package came from.
	File string
}

// FindingRef names one finding a violation is about, with a link to its
// location on the code host when the scan's context has one.
type FindingRef struct {
	ID       string `json:"id"`
	Tool     string `json:"tool"`
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Path     string `json:"path,omitempty"`
	Line     int    `json:"line,omitempty"`
	Link     string `json:"link,omitempty"`
}

// Loaded describes one policy package a run used.
type Loaded struct {
	// Package is the Rego package path ("example.gosec").
	Package string `json:"package"`
	// Files are where it came from: a path, "builtin:default/<file>",
	// "base64", or "<rev>:<path>" when read from a git revision.
	Files []string `json:"files"`
	// Kind: "dracon" (allow, per finding, annotated), "finding" (deny and
	// warn per finding) or "run" (deny and warn on the whole run).
	Kind string `json:"kind"`
	// RegoVersion is the syntax it was read with: "v0" or "v1".
	RegoVersion string `json:"rego_version"`
	// SHA256 is the hash of its files' contents, in order.
	SHA256 string `json:"sha256"`
}
