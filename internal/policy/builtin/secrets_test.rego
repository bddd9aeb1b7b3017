package dracon.builtin.secrets_test

import data.dracon.builtin.fixtures
import data.dracon.builtin.secrets

denied(event, over) := result if {
	result := secrets.deny with input as fixtures.run(event, [fixtures.secret(over)])
}

test_secret_denied if {
	denied("pull_request", {}) == {{
		"msg": "secret aws-access-token (gitleaks) in deploy/env.sh:3: rotate it, then remove it from the code",
		"finding": "s1",
	}}
}

test_secret_denied_on_every_event if {
	every event in fixtures.events {
		fixtures.ids(denied(event, {})) == {"s1"}
	}
}

test_secret_denied_whatever_its_status if {
	every status in ["new", "existing", "outside_diff"] {
		fixtures.ids(denied("pull_request", {"status": status})) == {"s1"}
	}
}

test_secret_denied_whatever_its_severity_and_confidence if {
	every level in ["critical", "high", "medium", "low", "info", "unknown"] {
		fixtures.ids(denied("push", {"severity": level, "confidence": level})) == {"s1"}
	}
}

test_suppressed_secret_not_denied if {
	count(denied("pull_request", {"suppressed": true, "suppression_reason": "gitleaks:allow"})) == 0
}

test_triaged_secret_not_denied if {
	every triage in ["suppressed", "false_positive", "accepted_risk"] {
		count(denied("release", {"triage": triage})) == 0
	}
}

test_reopened_secret_denied if {
	fixtures.ids(denied("release", {"triage": "reopened"})) == {"s1"}
}

test_other_kinds_not_denied if {
	every kind in ["code", "dependency", "iac", "dast"] {
		count(denied("pull_request", {"kind": kind})) == 0
	}
}

test_exception_by_path_exempts if {
	result := secrets.deny with input as fixtures.run("push", [fixtures.secret({})])
		with data.dracon.exceptions as [{"tool": "gitleaks", "path": "deploy/**", "owner": "@acme/ops", "reason": "dummy keys", "expires": "2025-07-01"}]
	count(result) == 0
}

test_expired_exception_does_not_exempt if {
	result := secrets.deny with input as fixtures.run("push", [fixtures.secret({})])
		with data.dracon.exceptions as [{"tool": "gitleaks", "path": "deploy/**", "owner": "@acme/ops", "reason": "dummy keys", "expires": "2025-06-01"}]
	fixtures.ids(result) == {"s1"}
}

test_exception_without_reason_does_not_exempt if {
	result := secrets.deny with input as fixtures.run("push", [fixtures.secret({})])
		with data.dracon.exceptions as [{"tool": "gitleaks", "owner": "@acme/ops", "expires": "2025-07-01"}]
	fixtures.ids(result) == {"s1"}
}

test_only_secrets_denied if {
	findings := [fixtures.base, fixtures.secret({}), fixtures.secret({"id": "s2", "suppressed": true})]
	result := secrets.deny with input as fixtures.run("schedule", findings)
	fixtures.ids(result) == {"s1"}
}
