# Inputs the tests of the default policies share. Not a policy: the engine
# loads no *_test.rego file as one.
package dracon.builtin.fixtures

# now is when the tests decide: 15 June 2025, noon UTC.
now := "2025-06-15T12:00:00Z"

events := {"pull_request", "push", "schedule", "release", "tag", "manual"}

context(event) := {
	"repository": "acme/app",
	"ref": "refs/pull/7/merge",
	"commit": "0123456789abcdef0123456789abcdef01234567",
	"event": event,
	"base_ref": "main",
	"default_branch": "main",
	"on_default_branch": false,
	"ci": "github",
	"scan_id": "scan-1",
	"now": now,
}

# base is a finding as input.go writes it: new, open, high, highly
# confident gosec G101 in a/b.go:12, owned by @acme/payments, 20 days old.
base := {
	"id": "f1",
	"hash": "h1",
	"tool": "gosec",
	"tools": ["gosec"],
	"kind": "code",
	"rule": "G101",
	"title": "Potential hardcoded credentials",
	"severity": "high",
	"confidence": "high",
	"cwe": [798],
	"cve": "",
	"cvss": 0,
	"path": "a/b.go",
	"start_line": 12,
	"end_line": 12,
	"target": "a/b.go:12",
	"package_url": "",
	"package_version": "",
	"fixed_version": "",
	"owners": ["@acme/payments"],
	"status": "new",
	"triage": "open",
	"times_seen": 1,
	"age_days": 20,
	"suppressed": false,
	"suppression_reason": "",
	"duplicate_of": "",
	"link": "https://github.com/acme/app/blob/0123456789abcdef0123456789abcdef01234567/a/b.go#L12",
	"first_seen": "2025-05-26T12:00:00Z",
	"last_seen": "2025-06-15T12:00:00Z",
	"annotations": {"Owner-1": "@acme/payments"},
}

# finding(over) is base with over's fields instead.
finding(over) := object.union(base, over)

# secret(over) is a gitleaks finding: existing, medium, no confidence.
secret(over) := finding(object.union(
	{
		"id": "s1", "hash": "hs1", "tool": "gitleaks", "tools": ["gitleaks"],
		"kind": "secret", "rule": "aws-access-token", "title": "AWS access key",
		"severity": "medium", "confidence": "unknown", "cwe": [], "path": "deploy/env.sh",
		"start_line": 3, "end_line": 3, "target": "deploy/env.sh:3", "status": "existing",
	},
	over,
))

# run(event, findings) is the run-level input of a scan of that event.
run(event, findings) := {
	"context": context(event),
	"counts": {
		"total": count(findings),
		"new": count([f | some f in findings; f.status == "new"]),
		"existing": count([f | some f in findings; f.status == "existing"]),
		"outside_diff": count([f | some f in findings; f.status == "outside_diff"]),
		"suppressed": count([f | some f in findings; f.suppressed]),
		"by_severity": {s: n |
			some s in ["critical", "high", "medium", "low", "info", "unknown"]
			n := count([f | some f in findings; f.severity == s])
		},
	},
	"producers": [{"name": "gosec", "status": "ok", "reason": "", "allow_failure": false, "findings": count(findings)}],
	"findings": findings,
}

# exception(over) is an exception for gosec's G101 that holds until the end
# of 2025, with over's fields instead.
exception(over) := object.union(
	{"rule": "G101", "owner": "@acme/payments", "reason": "test credentials only", "expires": "2025-12-31"},
	over,
)

# ids(results) is the set of finding ids that deny or warn results name.
ids(results) := {id |
	some r in results
	some id in refs(r)
}

refs(r) := [r.finding] if {
	is_object(r)
	r.finding
} else := r.findings if {
	is_object(r)
	r.findings
} else := []

# msgs(results) is the set of their messages.
msgs(results) := {msg(r) | some r in results}

msg(r) := r if {
	is_string(r)
} else := r.msg
