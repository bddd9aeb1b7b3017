# Helpers the default policies share: how severe and how sure a finding is,
# whether it is still open, and how a message names it.
#
# This package decides nothing itself (it has no deny or warn).
package dracon.builtin.lib

# Severities at which the default policies act.
severe_levels := {"high", "critical"}

# Confidences too low to block a change. Anything else counts as sure
# enough, "unknown" and a missing value included: many scanners give no
# confidence at all, and a gate that let those through would fail open.
doubtful_levels := {"low", "info"}

# Store statuses that mean a triager decided the finding needs no fix.
triaged_away := {"suppressed", "false_positive", "accepted_risk"}

# severe(f): the finding is high or critical.
severe(f) if f.severity in severe_levels

# confident(f): the tool is at least medium sure of it, or did not say.
confident(f) if not doubtful(f)

# (A helper, not "not f.confidence in ...": that is undefined, not true, when
# the finding has no confidence field.)
doubtful(f) if f.confidence in doubtful_levels

# open(f): nothing took the finding out of the gate: it is not suppressed
# (a suppression comment, a suppressions file, a triage decision) and the
# findings store does not hold it as suppressed, false positive or accepted
# risk.
open(f) if {
	not f.suppressed
	not triaged(f)
}

triaged(f) if f.triage in triaged_away

# where(f) is the finding's location: "a/b.go:12", "a/b.go", the scanned
# target (a package, a URL) when it has no path, or "" when it has neither.
where(f) := sprintf("%s:%d", [f.path, f.start_line]) if {
	f.path != ""
	f.start_line > 0
} else := f.path if {
	f.path != ""
} else := f.target if {
	f.target != ""
} else := ""

# label(f) is the finding's rule id, or its title when the tool gave none.
label(f) := f.rule if {
	f.rule != ""
} else := f.title

# name(f) names the finding in a message: "high finding G101 (gosec) in a/b.go:12".
name(f) := sprintf("%s finding %s (%s)%s", [f.severity, label(f), f.tool, at(f)])

at(f) := sprintf(" in %s", [where(f)]) if {
	where(f) != ""
} else := ""

# today is the day the decision is made, "YYYY-MM-DD" in UTC: that of
# input.context.now (RFC 3339 in UTC, as input.go writes it), or the
# evaluation's clock when the input has no such time. Go's zero time
# (0001-01-01T00:00:00Z, an unset clock) counts as none.
#
# Dates compare as strings, and no built-in here can fail on odd input, so
# the policies decide the same with strict built-in errors.
today := substring(input.context.now, 0, 10) if {
	is_string(input.context.now)
	regex.match(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$`, input.context.now)
	not startswith(input.context.now, "0001-")
} else := time.format([time.now_ns(), "UTC", "2006-01-02"])
