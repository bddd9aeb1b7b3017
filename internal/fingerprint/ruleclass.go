package fingerprint

import "strings"

// A rule class names one weakness the way several tools' rules mean it,
// so two SAST tools flagging the same lines for the same reason are one
// finding. The table is curated: only rules whose documentation describes
// the same flaw share a class. CWE alone never merges (a CWE is broad: two
// different SQL injections in one statement share CWE-89), and a rule
// missing from the table merges with nothing.
var ruleClasses = map[string]string{
	// gosec (github.com/securego/gosec rules list)
	"gosec:G101": classCredential,
	"gosec:G102": "bind-all-interfaces",
	"gosec:G201": classSQLi, "gosec:G202": classSQLi, "gosec:G701": classSQLi,
	"gosec:G204": classCmdi, "gosec:G702": classCmdi,
	"gosec:G203": classXSS, "gosec:G705": classXSS,
	"gosec:G303": "insecure-temp-file",
	"gosec:G304": classPathTraversal, "gosec:G703": classPathTraversal,
	"gosec:G401": classWeakHash, "gosec:G501": classWeakHash, "gosec:G505": classWeakHash,
	"gosec:G402": classTLSVerify,
	"gosec:G404": "weak-random",
	// bandit (bandit.readthedocs.io plugin list)
	"bandit:B104": "bind-all-interfaces",
	"bandit:B105": classCredential, "bandit:B106": classCredential, "bandit:B107": classCredential,
	"bandit:B108": "insecure-temp-file",
	"bandit:B301": classDeserialise, "bandit:B302": classDeserialise, "bandit:B506": classDeserialise,
	"bandit:B303": classWeakHash, "bandit:B324": classWeakHash,
	"bandit:B307": classEval,
	"bandit:B311": "weak-random",
	"bandit:B501": classTLSVerify,
	"bandit:B602": classCmdi, "bandit:B605": classCmdi,
	"bandit:B608": classSQLi,
}

const (
	classCredential    = "hardcoded-credential"
	classSQLi          = "sql-injection"
	classCmdi          = "command-injection"
	classXSS           = "xss"
	classPathTraversal = "path-traversal"
	classWeakHash      = "weak-hash"
	classTLSVerify     = "tls-verification-disabled"
	classDeserialise   = "unsafe-deserialisation"
	classEval          = "code-injection-eval"
)

// ruleWords classify the rules of tools whose ids describe themselves
// (semgrep's "python.lang.security.audit.formatted-sql-query", CodeQL's
// "go/sql-injection"): the last path element of the id is matched. Order
// matters: the first hit wins.
var ruleWords = []struct{ word, class string }{
	{"sql-injection", classSQLi}, {"formatted-sql", classSQLi}, {"sqli", classSQLi}, {"tainted-sql", classSQLi},
	{"command-injection", classCmdi}, {"command-line-injection", classCmdi}, {"subprocess-shell-true", classCmdi},
	{"dangerous-subprocess", classCmdi}, {"dangerous-system-call", classCmdi},
	{"insecure-hash", classWeakHash}, {"use-of-md5", classWeakHash}, {"use-of-sha1", classWeakHash},
	{"weak-hash", classWeakHash}, {"weak-cryptographic-algorithm", classWeakHash},
	{"insecure-skip-verify", classTLSVerify}, {"disabled-cert-validation", classTLSVerify},
	{"request-without-cert-verification", classTLSVerify}, {"disabled-certificate-validation", classTLSVerify},
	{"hardcoded-credentials", classCredential}, {"hardcoded-secret", classCredential},
	{"hardcoded-password", classCredential}, {"hardcoded-token", classCredential}, {"hardcoded-credential", classCredential},
	{"avoid-pickle", classDeserialise}, {"avoid-pyyaml-load", classDeserialise}, {"unsafe-deserialization", classDeserialise},
	{"eval-injection", classEval}, {"eval-detected", classEval}, {"code-injection", classEval},
	{"reflected-xss", classXSS}, {"stored-xss", classXSS}, {"xss", classXSS},
	{"path-injection", classPathTraversal}, {"path-traversal", classPathTraversal},
}

// RuleClass is the weakness class of a tool's rule, or "" when the table
// does not know it.
func RuleClass(tool, rule string) string {
	if c, ok := ruleClasses[strings.ToLower(tool)+":"+strings.ToUpper(rule)]; ok {
		return c
	}
	switch strings.ToLower(tool) {
	case "gosec", "bandit":
		return "" // their ids say nothing; only the table classifies them
	}
	last := strings.ToLower(rule)
	if i := strings.LastIndexAny(last, "./"); i >= 0 {
		last = last[i+1:]
	}
	for _, w := range ruleWords {
		if strings.Contains(last, w.word) {
			return w.class
		}
	}
	return ""
}
