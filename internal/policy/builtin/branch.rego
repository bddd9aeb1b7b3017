# Branches: report, never block, what a push, a scheduled scan or a local
# ("manual") run finds.
#
# Warn for each open, unexempted finding that is
#   - high or critical and new (the branch's last scan did not have it), or
#   - critical and already there (status "existing" or "outside_diff").
# A new critical finding is warned about once, as new.
package dracon.builtin.branch

import data.dracon.builtin.exceptions
import data.dracon.builtin.lib

events := {"push", "schedule", "manual"}

warn contains {"msg": msg, "finding": f.id} if {
	input.context.event in events
	some f in input.findings
	f.status == "new"
	lib.severe(f)
	lib.open(f)
	not exceptions.exempt(f)
	msg := sprintf("new %s", [lib.name(f)])
}

warn contains {"msg": msg, "finding": f.id} if {
	input.context.event in events
	some f in input.findings
	f.status != "new"
	f.severity == "critical"
	lib.open(f)
	not exceptions.exempt(f)
	msg := sprintf("open %s", [lib.name(f)])
}
