# Fail the run on every high or critical finding that is not suppressed.
package acme.denyhigh

deny contains {"msg": msg, "finding": f.id} if {
	some f in input.findings
	f.severity in {"high", "critical"}
	not f.suppressed
	msg := sprintf("%s finding %s (%s)", [f.severity, f.rule, f.tool])
}
