package dracon.builtin.branch_test

import data.dracon.builtin.branch
import data.dracon.builtin.fixtures

warned(event, over) := result if {
	result := branch.warn with input as fixtures.run(event, [fixtures.finding(over)])
}

test_new_high_warns_on_each_branch_event if {
	every event in ["push", "schedule", "manual"] {
		warned(event, {}) == {{"msg": "new high finding G101 (gosec) in a/b.go:12", "finding": "f1"}}
	}
}

test_new_critical_warns_once if {
	warned("push", {"severity": "critical"}) == {{"msg": "new critical finding G101 (gosec) in a/b.go:12", "finding": "f1"}}
}

test_open_critical_warns if {
	warned("schedule", {"severity": "critical", "status": "existing"}) == {{"msg": "open critical finding G101 (gosec) in a/b.go:12", "finding": "f1"}}
	fixtures.ids(warned("push", {"severity": "critical", "status": "outside_diff"})) == {"f1"}
}

test_existing_high_does_not_warn if {
	count(warned("push", {"status": "existing"})) == 0
}

test_new_medium_does_not_warn if {
	count(warned("push", {"severity": "medium"})) == 0
	count(warned("push", {"severity": "unknown"})) == 0
}

# A warning asks for no confidence: it only informs.
test_new_high_low_confidence_warns if {
	fixtures.ids(warned("push", {"confidence": "low"})) == {"f1"}
}

test_suppressed_or_triaged_does_not_warn if {
	count(warned("push", {"suppressed": true})) == 0
	count(warned("push", {"severity": "critical", "status": "existing", "suppressed": true})) == 0
	every triage in ["suppressed", "false_positive", "accepted_risk"] {
		count(warned("push", {"severity": "critical", "status": "existing", "triage": triage})) == 0
	}
}

test_exempt_does_not_warn if {
	result := branch.warn with input as fixtures.run("push", [fixtures.finding({"severity": "critical"})])
		with data.dracon.exceptions as [fixtures.exception({})]
	count(result) == 0
}

test_expired_exception_warns if {
	result := branch.warn with input as fixtures.run("push", [fixtures.finding({"severity": "critical"})])
		with data.dracon.exceptions as [fixtures.exception({"expires": "2025-06-01"})]
	fixtures.ids(result) == {"f1"}
}

test_other_events_do_not_warn if {
	every event in ["pull_request", "release", "tag"] {
		count(warned(event, {"severity": "critical"})) == 0
	}
}

test_never_denies if {
	not branch.deny with input as fixtures.run("push", [fixtures.finding({"severity": "critical"})])
}

test_several_findings if {
	findings := [
		fixtures.base,
		fixtures.finding({"id": "f2", "severity": "critical", "status": "existing"}),
		fixtures.finding({"id": "f3", "status": "existing"}),
		fixtures.finding({"id": "f4", "severity": "low"}),
	]
	result := branch.warn with input as fixtures.run("manual", findings)
	fixtures.ids(result) == {"f1", "f2"}
}
