# Pull requests: a change may not bring in a new high or critical finding.
#
# On a pull request, deny each finding that
#   - the change introduces (status "new": the base branch does not have it),
#   - is high or critical,
#   - the tool is at least medium sure of (or gave no confidence: fail closed),
#   - is open (not suppressed, not triaged as suppressed, false positive or
#     accepted risk), and
#   - no exception exempts.
# Findings the base branch already has are the branch policy's concern.
package dracon.builtin.pull_request

import data.dracon.builtin.exceptions
import data.dracon.builtin.lib

deny contains {"msg": msg, "finding": f.id} if {
	input.context.event == "pull_request"
	some f in input.findings
	f.status == "new"
	lib.severe(f)
	lib.confident(f)
	lib.open(f)
	not exceptions.exempt(f)
	msg := sprintf("new %s", [lib.name(f)])
}
