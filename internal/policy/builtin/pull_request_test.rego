package dracon.builtin.pull_request_test

import data.dracon.builtin.fixtures
import data.dracon.builtin.pull_request

# denied(over) is what the policy denies on a pull request with one finding,
# base with over's fields.
denied(over) := result if {
	result := pull_request.deny with input as fixtures.run("pull_request", [fixtures.finding(over)])
}

test_new_high_denied if {
	pull_request.deny == {{"msg": "new high finding G101 (gosec) in a/b.go:12", "finding": "f1"}} with input as fixtures.run("pull_request", [fixtures.base])
}

test_new_critical_denied if {
	denied({"severity": "critical"}) == {{"msg": "new critical finding G101 (gosec) in a/b.go:12", "finding": "f1"}}
}

test_below_high_not_denied if {
	every severity in ["medium", "low", "info", "unknown"] {
		count(denied({"severity": severity})) == 0
	}
}

test_existing_and_outside_diff_not_denied if {
	count(denied({"status": "existing"})) == 0
	count(denied({"status": "outside_diff"})) == 0
}

test_confident_enough_denied if {
	every confidence in ["critical", "high", "medium"] {
		fixtures.ids(denied({"confidence": confidence})) == {"f1"}
	}
}

# Many scanners give no confidence: a gate that let those through would
# fail open.
test_unknown_confidence_denied if {
	fixtures.ids(denied({"confidence": "unknown"})) == {"f1"}
}

test_missing_confidence_denied if {
	fixtures.ids(pull_request.deny) == {"f1"} with input as fixtures.run("pull_request", [object.remove(fixtures.base, ["confidence"])])
}

test_low_confidence_not_denied if {
	count(denied({"confidence": "low"})) == 0
	count(denied({"confidence": "info"})) == 0
}

test_suppressed_not_denied if {
	count(denied({"suppressed": true, "suppression_reason": "nosec"})) == 0
}

test_triaged_away_not_denied if {
	every triage in ["suppressed", "false_positive", "accepted_risk"] {
		count(denied({"triage": triage})) == 0
	}
}

test_open_triage_denied if {
	every triage in ["", "open", "reopened"] {
		fixtures.ids(denied({"triage": triage})) == {"f1"}
	}
}

test_other_events_not_denied if {
	every event in fixtures.events - {"pull_request"} {
		count(pull_request.deny) == 0 with input as fixtures.run(event, [fixtures.base])
	}
}

test_only_qualifying_findings_denied if {
	findings := [
		fixtures.base,
		fixtures.finding({"id": "f2", "severity": "medium"}),
		fixtures.finding({"id": "f3", "status": "existing"}),
		fixtures.finding({"id": "f4", "severity": "critical", "path": "c.go", "start_line": 0}),
	]
	result := pull_request.deny with input as fixtures.run("pull_request", findings)
	result == {
		{"msg": "new high finding G101 (gosec) in a/b.go:12", "finding": "f1"},
		{"msg": "new critical finding G101 (gosec) in c.go", "finding": "f4"},
	}
}

test_message_names_target_without_path if {
	fixtures.msgs(denied({"path": "", "target": "pkg:golang/x@v1"})) == {"new high finding G101 (gosec) in pkg:golang/x@v1"}
	fixtures.msgs(denied({"path": "", "target": ""})) == {"new high finding G101 (gosec)"}
	fixtures.msgs(denied({"rule": "", "path": "", "target": ""})) == {"new high finding Potential hardcoded credentials (gosec)"}
}

test_no_findings_no_deny if {
	count(pull_request.deny) == 0 with input as fixtures.run("pull_request", [])
}

test_exception_exempts if {
	result := pull_request.deny with input as fixtures.run("pull_request", [fixtures.base])
		with data.dracon.exceptions as [fixtures.exception({})]
	count(result) == 0
}

test_exception_for_another_path_does_not_exempt if {
	result := pull_request.deny with input as fixtures.run("pull_request", [fixtures.base])
		with data.dracon.exceptions as [fixtures.exception({"path": "vendor/**"})]
	fixtures.ids(result) == {"f1"}
}

test_expired_exception_does_not_exempt if {
	result := pull_request.deny with input as fixtures.run("pull_request", [fixtures.base])
		with data.dracon.exceptions as [fixtures.exception({"expires": "2025-06-14"})]
	fixtures.ids(result) == {"f1"}
}

test_invalid_exception_does_not_exempt if {
	result := pull_request.deny with input as fixtures.run("pull_request", [fixtures.base])
		with data.dracon.exceptions as [object.remove(fixtures.exception({}), ["owner"])]
	fixtures.ids(result) == {"f1"}
}

# The pull request policy leaves exception warnings to the exceptions
# package, so they are reported once.
test_no_warn if {
	not pull_request.warn with input as fixtures.run("pull_request", [fixtures.base])
		with data.dracon.exceptions as [fixtures.exception({"expires": "2025-01-01"})]
}
