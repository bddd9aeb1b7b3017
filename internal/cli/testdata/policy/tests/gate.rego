package acme.gate

deny contains f.rule if {
	some f in input.findings
	f.severity == "critical"
}
