package acme.folder

deny contains msg if {
	some f in input.findings
	f.rule in data.acme.banned
	msg := sprintf("banned rule %s", [f.rule])
}
