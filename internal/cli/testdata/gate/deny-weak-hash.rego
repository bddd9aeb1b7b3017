# A team's own release rule: no MD5 password hashing ships, whatever its age.
package acme.release

deny contains {"msg": msg, "finding": f.id} if {
	some f in input.findings
	f.rule == "ACME-WEAKHASH"
	not f.suppressed
	msg := sprintf("weak password hash in %s: use bcrypt or argon2", [f.path])
}
