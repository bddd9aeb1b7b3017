package acme.bad

deny contains msg if {
	some f in input.findings
	msg := f.rule +
}
