# Exceptions: time-limited, owned exemptions from the default policies.
#
# data.dracon.exceptions is a list of objects:
#
#   {"id": "...", "rule": "G101", "tool": "gosec", "path": "internal/**",
#    "owner": "@acme/payments", "reason": "...", "expires": "2025-12-31"}
#
# The selectors (id, rule, tool, path) pick the findings; an exception
# matches a finding when every selector it gives matches, and one that gives
# none matches nothing:
#
#   id    the finding's id or its hash
#   rule  the finding's rule id
#   tool  the tool that reported it, or any other tool that reported it too
#   path  a glob over the finding's path: "*" within a folder, "**" across
#         folders, "?" one character, "[abc]" one of those, "{a,b}" either,
#         "\" escapes the next character
#
# owner, reason and expires are required: an exception missing one, whose
# expires is not a YYYY-MM-DD date, or whose path is not such a glob, is
# ignored. An exception holds through
# the day it expires (UTC) and no longer after it.
#
# While it holds, a matching exception exempts the finding from every
# default deny (the policies call exempt). This package's warn reports the
# exceptions that are ignored or expired, once each, whichever policies use
# them.
package dracon.builtin.exceptions

import data.dracon.builtin.lib

# The exceptions, none when data.dracon.exceptions is absent.
exceptions := data.dracon.exceptions if {
	is_array(data.dracon.exceptions)
} else := []

selectors := ["id", "rule", "tool", "path"]

required := ["owner", "reason", "expires"]

# exempt(f): an exception that holds matches the finding.
exempt(f) if {
	some e in valid
	not expired(e)
	matches(e, f)
}

# matches(e, f): every selector e gives matches the finding, and it gives one.
matches(e, f) if {
	has_selector(e)
	every k in selectors {
		selector_matches(e, k, f)
	}
}

selector_matches(e, k, _) if not given(e, k)

selector_matches(e, "id", f) if e.id in {f.id, f.hash}

selector_matches(e, "rule", f) if e.rule == f.rule

selector_matches(e, "tool", f) if e.tool == f.tool

selector_matches(e, "tool", f) if e.tool in f.tools

selector_matches(e, "path", f) if glob.match(e.path, ["/"], f.path)

# given(e, k): the exception gives selector (or field) k.
given(e, k) if e[k] != ""

has_selector(e) if {
	some k in selectors
	given(e, k)
}

# expired(e): the day after the exception's expiry date has begun.
expired(e) if e.expires < lib.today

# problem contains [i, why] for each reason exception i is ignored.
problem contains [i, "it is not an object"] if {
	some i, e in exceptions
	not is_object(e)
}

problem contains [i, sprintf("it has no %s", [k])] if {
	some i, e in exceptions
	is_object(e)
	some k in required
	not filled(e, k)
}

problem contains [i, sprintf("expires %v is not a date (YYYY-MM-DD)", [e.expires])] if {
	some i, e in exceptions
	filled(e, "expires")
	not date(e.expires)
}

problem contains [i, sprintf("%s is not a string", [k])] if {
	some i, e in exceptions
	some k in selectors
	given(e, k)
	not is_string(e[k])
}

problem contains [i, sprintf("path %q is not a glob (*, **, ?, [abc], {a,b}, \\ escapes)", [e.path])] if {
	some i, e in exceptions
	given(e, "path")
	is_string(e.path)
	not valid_glob(e.path)
}

problem contains [i, "it has no selector (id, rule, tool or path), so it would match nothing"] if {
	some i, e in exceptions
	is_object(e)
	not has_selector(e)
}

filled(e, k) if {
	is_string(e[k])
	trim_space(e[k]) != ""
}

# date(s): s is a day of the calendar, "YYYY-MM-DD".
date(s) if {
	is_string(s)
	regex.match(`^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$`, s)
	[y, m, d] := split(s, "-")
	d <= last_day(y, m)
}

last_day(_, m) := "31" if m in {"01", "03", "05", "07", "08", "10", "12"}

last_day(_, m) := "30" if m in {"04", "06", "09", "11"}

last_day(y, "02") := "29" if leap(to_number(y))

last_day(y, "02") := "28" if not leap(to_number(y))

leap(n) if {
	n % 4 == 0
	n % 100 != 0
}

leap(n) if n % 400 == 0

# valid_glob(p): p is a glob glob.match reads. Stricter than glob.match, which
# fails on a malformed one: character classes list characters (no ranges or
# negation), alternatives nest one level.
valid_glob(p) if regex.match(`^([^\[\]{}\\]|\\.|\[[^\[\]{}\\!^-]+\]|\{([^{}\[\]\\]|\{[^{}\[\]\\]*\})*\})*$`, p)

# valid[i] is exception i, when nothing is wrong with it.
valid[i] := e if {
	some i, e in exceptions
	not ignored[i]
}

ignored contains i if some [i, _] in problem

# describe(i) names exception i in a message:
# `data.dracon.exceptions[2] (rule "G101", path "cmd/**")`.
describe(i) := sprintf("data.dracon.exceptions[%d]%s", [i, selected(exceptions[i])])

selected(e) := sprintf(" (%s)", [concat(", ", parts)]) if {
	parts := [sprintf("%s %q", [k, e[k]]) | some k in selectors; given(e, k); is_string(e[k])]
	count(parts) > 0
} else := ""

# The findings an expired exception would still match, by exception.
expired_matches[i] := ids if {
	some i, e in valid
	expired(e)
	ids := [f.id | some f in input.findings; matches(e, f)]
}

warn contains "data.dracon.exceptions is not a list: no exception applies" if {
	x := data.dracon.exceptions
	not is_array(x)
}

warn contains msg if {
	some i in ignored
	why := concat("; ", sort([w | some [j, w] in problem; j == i]))
	msg := sprintf("%s is ignored: %s", [describe(i), why])
}

warn contains {"msg": msg, "findings": ids} if {
	some i, ids in expired_matches
	count(ids) > 0
	msg := sprintf(
		"%s, owned by %s, expired on %s and no longer exempts its %d finding(s): fix them or renew the exception",
		[describe(i), exceptions[i].owner, exceptions[i].expires, count(ids)],
	)
}

warn contains msg if {
	some i, ids in expired_matches
	count(ids) == 0
	msg := sprintf(
		"%s, owned by %s, expired on %s; it matches no finding: remove it",
		[describe(i), exceptions[i].owner, exceptions[i].expires],
	)
}
