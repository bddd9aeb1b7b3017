# Fail the run on any high or critical finding that is not suppressed.
package acme.denyhigh

deny contains {"msg": msg, "finding": f.id} if {
	some f in input.findings
	f.severity in {"high", "critical"}
	not f.suppressed
	msg := sprintf("%s finding %s (%s) in %s:%d", [f.severity, f.rule, f.tool, f.path, f.start_line])
}

warn contains "no producer reported anything" if input.counts.total == 0
