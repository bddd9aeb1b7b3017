# The base branch's policy: any high or critical finding fails.
package acme.gate

deny contains {"msg": sprintf("%s finding %s in %s:%d", [f.severity, f.rule, f.path, f.start_line]), "finding": f.id} if {
	some f in input.findings
	f.severity in {"high", "critical"}
	not f.suppressed
}
