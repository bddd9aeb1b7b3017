package dracon.builtin.exceptions_test

import data.dracon.builtin.exceptions
import data.dracon.builtin.fixtures

# exempt(e, over): exception e exempts base with over's fields.
exempt(e, over) if {
	exceptions.exempt(fixtures.finding(over)) with input as fixtures.run("pull_request", [fixtures.finding(over)])
		with data.dracon.exceptions as [e]
}

# warned(list, findings) is the exceptions warnings on a run of findings.
warned(list, findings) := result if {
	result := exceptions.warn with input as fixtures.run("pull_request", findings)
		with data.dracon.exceptions as list
}

valid := {"owner": "@acme/payments", "reason": "test credentials only", "expires": "2025-12-31"}

test_exempt_by_id_or_hash if {
	exempt(object.union(valid, {"id": "f1"}), {})
	exempt(object.union(valid, {"id": "h1"}), {})
	not exempt(object.union(valid, {"id": "f2"}), {})
}

test_exempt_by_rule if {
	exempt(object.union(valid, {"rule": "G101"}), {})
	not exempt(object.union(valid, {"rule": "G102"}), {})
}

test_exempt_by_tool if {
	exempt(object.union(valid, {"tool": "gosec"}), {})
	not exempt(object.union(valid, {"tool": "semgrep"}), {})
}

# A finding several tools reported matches any of them.
test_exempt_by_any_tool_that_reported_it if {
	exempt(object.union(valid, {"tool": "semgrep"}), {"tools": ["gosec", "semgrep"]})
}

test_exempt_by_path_glob if {
	exempt(object.union(valid, {"path": "a/*.go"}), {})
	exempt(object.union(valid, {"path": "**/b.go"}), {})
	exempt(object.union(valid, {"path": "a/b.go"}), {})
	not exempt(object.union(valid, {"path": "*.go"}), {})
	not exempt(object.union(valid, {"path": "a/*.go"}), {"path": "a/c/b.go"})
	exempt(object.union(valid, {"path": "a/**"}), {"path": "a/c/b.go"})
}

test_every_selector_must_match if {
	exempt(object.union(valid, {"rule": "G101", "tool": "gosec", "path": "a/**", "id": "f1"}), {})
	not exempt(object.union(valid, {"rule": "G101", "tool": "gosec", "path": "vendor/**"}), {})
	not exempt(object.union(valid, {"rule": "G101", "tool": "semgrep"}), {})
}

# An empty selector is no selector.
test_empty_selector_is_not_given if {
	exempt(object.union(valid, {"rule": "G101", "path": ""}), {})
}

test_exception_without_selector_matches_nothing if {
	not exempt(valid, {})
	not exempt(object.union(valid, {"rule": ""}), {})
	warned([valid], [fixtures.base]) == {"data.dracon.exceptions[0] is ignored: it has no selector (id, rule, tool or path), so it would match nothing"}
}

test_exception_missing_owner_reason_or_expires_is_ignored if {
	every k in ["owner", "reason", "expires"] {
		e := object.remove(fixtures.exception({}), [k])
		not exempt(e, {})
		warned([e], [fixtures.base]) == {sprintf(`data.dracon.exceptions[0] (rule "G101") is ignored: it has no %s`, [k])}
	}
}

test_exception_with_blank_owner_is_ignored if {
	e := fixtures.exception({"owner": "  "})
	not exempt(e, {})
	warned([e], [fixtures.base]) == {`data.dracon.exceptions[0] (rule "G101") is ignored: it has no owner`}
}

test_exception_missing_everything_lists_every_reason if {
	warned([{"path": "a/**"}], []) == {`data.dracon.exceptions[0] (path "a/**") is ignored: it has no expires; it has no owner; it has no reason`}
}

test_exception_with_a_bad_date_is_ignored if {
	every expires in ["31/12/2025", "2025-13-01", "2025-02-30", "2025-04-31", "2100-02-29", "0999-01-01", "2025-12-31T00:00:00Z"] {
		e := fixtures.exception({"expires": expires})
		not exempt(e, {})
		warned([e], [fixtures.base]) == {sprintf(`data.dracon.exceptions[0] (rule "G101") is ignored: expires %s is not a date (YYYY-MM-DD)`, [expires])}
	}
}

test_leap_days_are_dates if {
	every expires in ["2028-02-29", "2400-02-29"] {
		exempt(fixtures.exception({"expires": expires}), {})
	}
}

# glob.match fails on a malformed glob, which would fail the evaluation with
# strict built-in errors: such an exception is ignored instead.
test_exception_with_a_bad_glob_is_ignored if {
	every path in ["a/[b", "a/{b,c", "a/b]", "[a-z].go", "[!a].go", "a\\"] {
		e := fixtures.exception({"path": path})
		not exempt(e, {})
		warned([e], [fixtures.base]) == {sprintf(`data.dracon.exceptions[0] (rule "G101", path %q) is ignored: path %q is not a glob (*, **, ?, [abc], {a,b}, \ escapes)`, [path, path])}
	}
}

test_globs_that_are_read if {
	every path in ["a/b.go", "a/*", "**/*.go", "a/?.go", "a/[bc].go", "a/{b,c}.go", "{a,x/{y,z}}/b.go", "a/b\\.go"] {
		exempt(fixtures.exception({"path": path}), {})
	}
}

test_exception_with_a_selector_that_is_not_a_string_is_ignored if {
	e := fixtures.exception({"rule": 101})
	not exempt(e, {"rule": 101})
	warned([e], [fixtures.base]) == {"data.dracon.exceptions[0] is ignored: rule is not a string"}
}

test_exception_that_is_not_an_object_is_ignored if {
	warned(["G101"], [fixtures.base]) == {"data.dracon.exceptions[0] is ignored: it is not an object"}
}

test_exceptions_that_are_not_a_list if {
	result := exceptions.warn with input as fixtures.run("pull_request", [fixtures.base])
		with data.dracon.exceptions as {"G101": fixtures.exception({})}
	result == {"data.dracon.exceptions is not a list: no exception applies"}
	not exceptions.exempt(fixtures.base) with input as fixtures.run("pull_request", [fixtures.base])
		with data.dracon.exceptions as {"G101": fixtures.exception({})}
}

# An exception holds through the day it expires (UTC); the tests' now is
# 2025-06-15T12:00:00Z.
test_exception_holds_through_its_expiry_day if {
	exempt(fixtures.exception({"expires": "2025-06-15"}), {})
	count(warned([fixtures.exception({"expires": "2025-06-15"})], [fixtures.base])) == 0
}

test_expired_exception_does_not_exempt if {
	not exempt(fixtures.exception({"expires": "2025-06-14"}), {})
}

test_expired_exception_warns_with_owner_expiry_and_findings if {
	findings := [fixtures.base, fixtures.finding({"id": "f2", "path": "c/d.go"}), fixtures.finding({"id": "f3", "rule": "G102"})]
	warned([fixtures.exception({"expires": "2025-06-14"})], findings) == {{
		"msg": `data.dracon.exceptions[0] (rule "G101"), owned by @acme/payments, expired on 2025-06-14 and no longer exempts its 2 finding(s): fix them or renew the exception`,
		"findings": ["f1", "f2"],
	}}
}

test_expired_exception_matching_nothing_warns if {
	warned([fixtures.exception({"rule": "G999", "expires": "2025-01-31"})], [fixtures.base]) == {`data.dracon.exceptions[0] (rule "G999"), owned by @acme/payments, expired on 2025-01-31; it matches no finding: remove it`}
}

test_active_exception_does_not_warn if {
	count(warned([fixtures.exception({})], [fixtures.base])) == 0
}

# One exception that expired and another that holds: the finding stays
# exempt, and the expired one is still reported.
test_active_exception_wins_over_expired if {
	list := [fixtures.exception({"expires": "2025-01-01"}), fixtures.exception({"path": "a/**"})]
	exceptions.exempt(fixtures.base) with input as fixtures.run("pull_request", [fixtures.base])
		with data.dracon.exceptions as list
	fixtures.ids(warned(list, [fixtures.base])) == {"f1"}
}

test_invalid_exception_does_not_stop_the_valid_ones if {
	list := [fixtures.exception({"rule": "G999", "owner": ""}), fixtures.exception({})]
	exceptions.exempt(fixtures.base) with input as fixtures.run("pull_request", [fixtures.base])
		with data.dracon.exceptions as list
	warned(list, [fixtures.base]) == {`data.dracon.exceptions[0] (rule "G999") is ignored: it has no owner`}
}

test_several_exceptions_each_warned_once if {
	list := [
		fixtures.exception({"expires": "2025-01-01"}),
		fixtures.exception({"rule": "G102", "expires": "2025-01-01"}),
		{"rule": "G103"},
		fixtures.exception({"rule": "G104"}),
	]
	result := warned(list, [fixtures.base, fixtures.finding({"id": "f2", "rule": "G102"})])
	count(result) == 3
	fixtures.ids(result) == {"f1", "f2"}
}

test_no_data_no_exemption_no_warning if {
	not exceptions.exempt(fixtures.base) with input as fixtures.run("pull_request", [fixtures.base])
	count(exceptions.warn) == 0 with input as fixtures.run("pull_request", [fixtures.base])
}

test_exceptions_never_deny if {
	not exceptions.deny with input as fixtures.run("pull_request", [fixtures.base])
		with data.dracon.exceptions as [{"rule": "x"}, fixtures.exception({"expires": "2025-01-01"})]
}

# Without input.context.now the evaluation's clock decides.
test_without_now_the_clock_decides if {
	inp := object.remove(fixtures.run("pull_request", [fixtures.base]), ["context"])
	not exceptions.exempt(fixtures.base) with input as inp
		with data.dracon.exceptions as [fixtures.exception({"expires": "2000-01-01"})]
	exceptions.exempt(fixtures.base) with input as inp
		with data.dracon.exceptions as [fixtures.exception({"expires": "2200-01-01"})]
}

# Per-finding input (the finding, its context under "context") works too.
test_finding_input if {
	inp := object.union(fixtures.base, {"context": fixtures.context("pull_request")})
	exceptions.exempt(inp) with input as inp
		with data.dracon.exceptions as [fixtures.exception({})]
	not exceptions.exempt(inp) with input as inp
		with data.dracon.exceptions as [fixtures.exception({"expires": "2025-06-14"})]
}
