package dracon.builtin.lib_test

import data.dracon.builtin.fixtures
import data.dracon.builtin.lib

test_severe if {
	lib.severe({"severity": "high"})
	lib.severe({"severity": "critical"})
	every severity in ["medium", "low", "info", "unknown", ""] {
		not lib.severe({"severity": severity})
	}
	not lib.severe({})
}

test_confident if {
	every confidence in ["critical", "high", "medium", "unknown", ""] {
		lib.confident({"confidence": confidence})
	}
	lib.confident({})
	not lib.confident({"confidence": "low"})
	not lib.confident({"confidence": "info"})
}

test_open if {
	lib.open(fixtures.base)
	lib.open({})
	lib.open(fixtures.finding({"triage": "reopened"}))
	lib.open(fixtures.finding({"triage": ""}))
	not lib.open(fixtures.finding({"suppressed": true}))
	every triage in ["suppressed", "false_positive", "accepted_risk"] {
		not lib.open(fixtures.finding({"triage": triage}))
	}
}

test_where if {
	lib.where(fixtures.base) == "a/b.go:12"
	lib.where(fixtures.finding({"start_line": 0})) == "a/b.go"
	lib.where(fixtures.finding({"path": "", "target": "https://app.example.com/login"})) == "https://app.example.com/login"
	lib.where(fixtures.finding({"path": "", "target": ""})) == ""
}

test_name if {
	lib.name(fixtures.base) == "high finding G101 (gosec) in a/b.go:12"
	lib.name(fixtures.finding({"path": "", "target": ""})) == "high finding G101 (gosec)"
	lib.name(fixtures.finding({"rule": ""})) == "high finding Potential hardcoded credentials (gosec) in a/b.go:12"
}

test_today_from_context if {
	lib.today == "2025-06-15" with input as fixtures.run("push", [])
	lib.today == "2025-06-15" with input as {"context": {"now": "2025-06-15T23:59:59.999Z"}}
}

test_today_without_a_time_is_the_clock if {
	clock := time.format([time.now_ns(), "UTC", "2006-01-02"])
	every inp in [
		{},
		{"context": {}},
		{"context": {"now": ""}},
		{"context": {"now": 1749988800}},
		{"context": {"now": "2025-06-15T12:00:00+02:00"}},
		{"context": {"now": "0001-01-01T00:00:00Z"}},
	] {
		lib.today == clock with input as inp
	}
}
