package dracon.builtin.release_test

import data.dracon.builtin.fixtures
import data.dracon.builtin.release

denied(over) := result if {
	result := release.deny with input as fixtures.run("release", [fixtures.finding(over)])
}

# denied_with_sla(over, sla) is what is denied with data.dracon.sla as sla.
denied_with_sla(over, sla) := result if {
	result := release.deny with input as fixtures.run("release", [fixtures.finding(over)])
		with data.dracon.sla as sla
}

test_open_critical_denied if {
	denied({"severity": "critical", "age_days": 0}) == {{
		"msg": "open critical finding G101 (gosec) in a/b.go:12: a release may not ship with an open critical finding",
		"finding": "f1",
	}}
}

test_critical_denied_on_tag if {
	result := release.deny with input as fixtures.run("tag", [fixtures.finding({"severity": "critical"})])
	fixtures.ids(result) == {"f1"}
}

test_critical_denied_whatever_its_status if {
	every status in ["new", "existing", "outside_diff"] {
		fixtures.ids(denied({"severity": "critical", "status": status})) == {"f1"}
	}
}

test_suppressed_or_triaged_critical_not_denied if {
	count(denied({"severity": "critical", "suppressed": true})) == 0
	every triage in ["suppressed", "false_positive", "accepted_risk"] {
		count(denied({"severity": "critical", "triage": triage})) == 0
	}
}

test_exempt_critical_not_denied if {
	result := release.deny with input as fixtures.run("release", [fixtures.finding({"severity": "critical"})])
		with data.dracon.exceptions as [fixtures.exception({"id": "f1"})]
	count(result) == 0
}

test_expired_exception_critical_denied if {
	result := release.deny with input as fixtures.run("release", [fixtures.finding({"severity": "critical"})])
		with data.dracon.exceptions as [fixtures.exception({"id": "f1", "expires": "2024-12-31"})]
	fixtures.ids(result) == {"f1"}
}

test_other_events_not_denied if {
	every event in ["pull_request", "push", "schedule", "manual"] {
		result := release.deny with input as fixtures.run(event, [fixtures.finding({"severity": "critical", "age_days": 400})])
		count(result) == 0
	}
}

# With no data.dracon.sla, high findings have 30 days. The fixture's owner
# has no team SLA then.
test_high_past_default_sla_denied if {
	denied({"age_days": 31}) == {{
		"msg": "open high finding G101 (gosec) in a/b.go:12 is 31 days old, past the default 30-day SLA",
		"finding": "f1",
	}}
}

test_high_within_default_sla_not_denied if {
	count(denied({"age_days": 30})) == 0
	count(denied({"age_days": 0})) == 0
}

test_high_past_sla_denied_whatever_its_status if {
	fixtures.ids(denied({"age_days": 90, "status": "existing"})) == {"f1"}
}

test_medium_never_denied if {
	count(denied({"severity": "medium", "age_days": 1000})) == 0
}

test_suppressed_high_past_sla_not_denied if {
	count(denied({"age_days": 90, "suppressed": true})) == 0
	count(denied({"age_days": 90, "triage": "accepted_risk"})) == 0
}

test_exempt_high_past_sla_not_denied if {
	result := release.deny with input as fixtures.run("release", [fixtures.finding({"age_days": 90})])
		with data.dracon.exceptions as [fixtures.exception({})]
	count(result) == 0
}

test_default_sla_from_data if {
	fixtures.msgs(denied_with_sla({"age_days": 11}, {"high_days": 10})) == {"open high finding G101 (gosec) in a/b.go:12 is 11 days old, past the default 10-day SLA"}
	count(denied_with_sla({"age_days": 10}, {"high_days": 10})) == 0
	count(denied_with_sla({"age_days": 45}, {"high_days": 60})) == 0
}

test_team_sla if {
	sla := {"high_days": 30, "teams": {"@acme/payments": {"high_days": 14}}}
	fixtures.msgs(denied_with_sla({"age_days": 15}, sla)) == {"open high finding G101 (gosec) in a/b.go:12 is 15 days old, past the 14-day SLA of @acme/payments"}
	count(denied_with_sla({"age_days": 14}, sla)) == 0
}

test_team_sla_of_another_team_does_not_apply if {
	sla := {"teams": {"@acme/web": {"high_days": 7}}}
	count(denied_with_sla({"age_days": 20}, sla)) == 0
	fixtures.msgs(denied_with_sla({"age_days": 31}, sla)) == {"open high finding G101 (gosec) in a/b.go:12 is 31 days old, past the default 30-day SLA"}
}

test_strictest_team_sla_applies if {
	sla := {"teams": {"@acme/payments": {"high_days": 14}, "@acme/ledger": {"high_days": 7}}}
	over := {"owners": ["@acme/payments", "@acme/ledger"], "age_days": 8}
	fixtures.msgs(denied_with_sla(over, sla)) == {"open high finding G101 (gosec) in a/b.go:12 is 8 days old, past the 7-day SLA of @acme/ledger"}
	count(denied_with_sla(object.union(over, {"age_days": 7}), sla)) == 0
}

test_teams_with_the_same_sla_are_all_named if {
	sla := {"teams": {"@acme/payments": {"high_days": 7}, "@acme/ledger": {"high_days": 7}}}
	over := {"owners": ["@acme/payments", "@acme/ledger"], "age_days": 8}
	fixtures.msgs(denied_with_sla(over, sla)) == {"open high finding G101 (gosec) in a/b.go:12 is 8 days old, past the 7-day SLA of @acme/ledger, @acme/payments"}
}

# An owner whose team has no SLA is held to the default: a co-owner's laxer
# team SLA does not relax it.
test_owner_without_team_sla_keeps_the_default if {
	sla := {"teams": {"@acme/research": {"high_days": 90}}}
	fixtures.msgs(denied_with_sla({"owners": ["@acme/research", "@acme/web"], "age_days": 45}, sla)) == {"open high finding G101 (gosec) in a/b.go:12 is 45 days old, past the default 30-day SLA"}
	count(denied_with_sla({"owners": ["@acme/research"], "age_days": 45}, sla)) == 0
	fixtures.ids(denied_with_sla({"owners": ["@acme/research"], "age_days": 91}, sla)) == {"f1"}
}

test_unowned_finding_gets_the_default if {
	sla := {"high_days": 20, "teams": {"@acme/payments": {"high_days": 14}}}
	count(denied_with_sla({"owners": [], "age_days": 20}, sla)) == 0
	fixtures.msgs(denied_with_sla({"owners": [], "age_days": 21}, sla)) == {"open high finding G101 (gosec) in a/b.go:12 is 21 days old, past the default 20-day SLA"}
}

test_sla_that_is_not_a_number_is_ignored if {
	sla := {"high_days": "ten", "teams": {"@acme/payments": {"high_days": "soon"}}}
	count(denied_with_sla({"age_days": 30}, sla)) == 0
	fixtures.ids(denied_with_sla({"age_days": 31}, sla)) == {"f1"}
}

test_team_without_high_days_gets_the_default if {
	sla := {"high_days": 25, "teams": {"@acme/payments": {"critical_days": 3}}}
	count(denied_with_sla({"age_days": 25}, sla)) == 0
	fixtures.ids(denied_with_sla({"age_days": 26}, sla)) == {"f1"}
}

test_several_findings if {
	findings := [
		fixtures.finding({"id": "c1", "severity": "critical", "age_days": 1}),
		fixtures.finding({"id": "h1", "age_days": 40}),
		fixtures.finding({"id": "h2", "age_days": 10}),
		fixtures.finding({"id": "m1", "severity": "medium", "age_days": 400}),
		fixtures.finding({"id": "c2", "severity": "critical", "triage": "false_positive"}),
	]
	result := release.deny with input as fixtures.run("release", findings)
	fixtures.ids(result) == {"c1", "h1"}
}

# kev(over) is a medium osv-scanner finding on golang.org/x/net whose CVE
# the exploits enricher found in CISA's catalogue, with over's fields
# instead.
kev(over) := fixtures.finding(object.union(
	{
		"tool": "osv-scanner", "tools": ["osv-scanner"], "kind": "dependency", "rule": "GHSA-qppj-fm5r-hxr3",
		"title": "HTTP/2 Stream Cancellation Attack", "severity": "medium", "cwe": [], "cve": "CVE-2023-44487",
		"path": "go.mod", "start_line": 0, "end_line": 0, "target": "pkg:golang/golang.org/x/net@v0.8.0",
		"annotations": {
			"known_exploited": "true", "kev_cve": "CVE-2023-44487", "kev_date_added": "2023-10-10",
			"kev_due_date": "2023-10-31", "kev_ransomware": "Unknown", "epss": "0.941", "epss_percentile": "0.9991",
		},
	},
	over,
))

denied_kev(over) := result if {
	result := release.deny with input as fixtures.run("release", [kev(over)])
}

test_known_exploited_denied if {
	denied_kev({}) == {{
		"msg": "open medium finding GHSA-qppj-fm5r-hxr3 (osv-scanner) in go.mod is known to be exploited (CISA KEV CVE-2023-44487, remediation due 2023-10-31): a release may not ship with a known exploited vulnerability",
		"finding": "f1",
	}}
}

test_known_exploited_denied_whatever_its_severity if {
	every severity in ["high", "medium", "low", "info", "unknown"] {
		fixtures.ids(denied_kev({"severity": severity, "age_days": 0})) == {"f1"}
	}
}

test_known_exploited_denied_on_tag_whatever_its_status if {
	every status in ["new", "existing", "outside_diff"] {
		result := release.deny with input as fixtures.run("tag", [kev({"status": status})])
		fixtures.ids(result) == {"f1"}
	}
}

# A critical one is denied by both rules: each message is a reason.
test_known_exploited_critical_has_both_reasons if {
	fixtures.msgs(denied_kev({"severity": "critical", "rule": "CVE-2021-44228", "path": "pom.xml", "annotations": {"kev_cve": "CVE-2021-44228", "kev_due_date": "2021-12-24"}})) == {
		"open critical finding CVE-2021-44228 (osv-scanner) in pom.xml: a release may not ship with an open critical finding",
		"open critical finding CVE-2021-44228 (osv-scanner) in pom.xml is known to be exploited (CISA KEV CVE-2021-44228, remediation due 2021-12-24): a release may not ship with a known exploited vulnerability",
	}
}

test_known_exploited_names_every_listed_cve if {
	fixtures.msgs(denied_kev({"annotations": {"kev_cve": "CVE-2021-3156,CVE-2022-22965", "kev_due_date": "2022-04-25"}})) == {"open medium finding GHSA-qppj-fm5r-hxr3 (osv-scanner) in go.mod is known to be exploited (CISA KEV CVE-2021-3156, CVE-2022-22965, remediation due 2022-04-25): a release may not ship with a known exploited vulnerability"}
}

# Without the enricher's kev_cve and due date (an annotation a custom
# policy or a tool wrote), the finding's CVE, else "its CVE".
test_known_exploited_without_kev_details if {
	bare := {"known_exploited": "true"}
	with_cve := release.deny with input as fixtures.run("release", [fixtures.finding({"severity": "low", "cve": "CVE-2024-3400", "annotations": bare})])
	fixtures.msgs(with_cve) == {"open low finding G101 (gosec) in a/b.go:12 is known to be exploited (CISA KEV CVE-2024-3400): a release may not ship with a known exploited vulnerability"}
	without := release.deny with input as fixtures.run("release", [fixtures.finding({"severity": "low", "annotations": bare})])
	fixtures.msgs(without) == {"open low finding G101 (gosec) in a/b.go:12 is known to be exploited (CISA KEV its CVE): a release may not ship with a known exploited vulnerability"}
}

test_not_known_exploited_not_denied if {
	every v in ["false", "True", "yes", ""] {
		count(denied_kev({"annotations": {"known_exploited": v}})) == 0
	}

	# No such annotation: the enricher found nothing, or had no data.
	scored := release.deny with input as fixtures.run("release", [fixtures.finding({"severity": "medium", "annotations": {"epss": "0.97"}})])
	count(scored) == 0
}

test_suppressed_or_exempt_known_exploited_not_denied if {
	count(denied_kev({"suppressed": true})) == 0
	every triage in ["suppressed", "false_positive", "accepted_risk"] {
		count(denied_kev({"triage": triage})) == 0
	}
	result := release.deny with input as fixtures.run("release", [kev({})])
		with data.dracon.exceptions as [fixtures.exception({"rule": "GHSA-qppj-fm5r-hxr3", "reason": "not reachable: no HTTP/2 server"})]
	count(result) == 0
}

test_known_exploited_other_events_not_denied if {
	every event in ["pull_request", "push", "schedule", "manual"] {
		result := release.deny with input as fixtures.run(event, [kev({})])
		count(result) == 0
	}
}

test_no_warn if {
	not release.warn with input as fixtures.run("release", [fixtures.finding({"severity": "critical"})])
}
