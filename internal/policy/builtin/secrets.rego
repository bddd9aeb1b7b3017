# Secrets: a committed secret fails the scan whatever the event, and wherever
# it is: new, already there, or outside the lines a pull request changed.
# A leaked credential is compromised until it is rotated, whether or not this
# change added it.
#
# Deny each finding of kind "secret" that is open (not suppressed, not
# triaged as suppressed, false positive or accepted risk) and that no
# exception exempts, whatever its severity and confidence.
package dracon.builtin.secrets

import data.dracon.builtin.exceptions
import data.dracon.builtin.lib

deny contains {"msg": msg, "finding": f.id} if {
	some f in input.findings
	f.kind == "secret"
	lib.open(f)
	not exceptions.exempt(f)
	msg := sprintf("secret %s (%s)%s: rotate it, then remove it from the code", [lib.label(f), f.tool, lib.at(f)])
}
