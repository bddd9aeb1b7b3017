# Releases: nothing ships with an open critical finding, with a high one
# older than its owners' SLA, or with a vulnerability known to be exploited.
#
# On a release or a tag, deny each open, unexempted finding that is
#   - critical, whatever its age, or
#   - high, and first seen more days ago (age_days) than the SLA allows, or
#   - of a CVE in CISA's Known Exploited Vulnerabilities catalogue (the
#     exploits enricher's annotation known_exploited "true"), whatever its
#     severity: it is exploited now, whatever a scanner rated it.
#
# The SLA comes from data.dracon.sla:
#
#   {"high_days": 30, "teams": {"@acme/payments": {"high_days": 14}}}
#
# high_days is the default (30 when absent); teams sets it per CODEOWNERS
# owner. Each of a finding's owners is held to its team's SLA, or the
# default when its team has none, and the finding to the strictest of them.
package dracon.builtin.release

import data.dracon.builtin.exceptions
import data.dracon.builtin.lib

events := {"release", "tag"}

deny contains {"msg": msg, "finding": f.id} if {
	input.context.event in events
	some f in input.findings
	f.severity == "critical"
	lib.open(f)
	not exceptions.exempt(f)
	msg := sprintf("open %s: a release may not ship with an open critical finding", [lib.name(f)])
}

deny contains {"msg": msg, "finding": f.id} if {
	input.context.event in events
	some f in input.findings
	f.severity == "high"
	lib.open(f)
	days := sla_days(f)
	f.age_days > days
	not exceptions.exempt(f)
	msg := sprintf("open %s is %d days old, past %s", [lib.name(f), f.age_days, sla_name(f)])
}

deny contains {"msg": msg, "finding": f.id} if {
	input.context.event in events
	some f in input.findings
	known_exploited(f)
	lib.open(f)
	not exceptions.exempt(f)
	msg := sprintf("open %s is known to be exploited (%s): a release may not ship with a known exploited vulnerability", [lib.name(f), kev_ref(f)])
}

# known_exploited(f): the exploits enricher found the finding's CVE in
# CISA's catalogue. Annotations are strings; only "true" counts.
known_exploited(f) if f.annotations.known_exploited == "true"

# kev_cves(f) names the listed CVEs: the enricher's kev_cve (several are
# comma-separated), else the finding's own CVE, else "its CVE" (an
# annotation written by hand, without the enricher).
kev_cves(f) := concat(", ", split(f.annotations.kev_cve, ",")) if {
	f.annotations.kev_cve != ""
} else := f.cve if {
	f.cve != ""
} else := "its CVE"

# kev_ref(f) is "CISA KEV CVE-2021-44228, remediation due 2021-12-24": the
# catalogue's due date (US federal agencies' deadline), when known.
kev_ref(f) := sprintf("CISA KEV %s, remediation due %s", [kev_cves(f), f.annotations.kev_due_date]) if {
	f.annotations.kev_due_date != ""
} else := sprintf("CISA KEV %s", [kev_cves(f)])

# The default SLA for high findings, in days.
default_high_days := d if {
	d := data.dracon.sla.high_days
	is_number(d)
} else := 30

# team_days(owner) is the owner's team SLA, undefined when it has none.
team_days(owner) := d if {
	d := data.dracon.sla.teams[owner].high_days
	is_number(d)
}

# owner_days(owner) is the SLA an owner is held to.
owner_days(owner) := team_days(owner) if {
	team_days(owner)
} else := default_high_days

# sla_days(f) is the finding's SLA: its strictest owner's, or the default
# when it has no owner.
sla_days(f) := min({owner_days(o) | some o in f.owners}) if {
	count(f.owners) > 0
} else := default_high_days

# sla_name(f) says which SLA that is: "the 14-day SLA of @acme/payments" or
# "the default 30-day SLA".
sla_name(f) := sprintf("the %d-day SLA of %s", [sla_days(f), concat(", ", teams)]) if {
	teams := sort([o | some o in f.owners; team_days(o) == sla_days(f)])
	count(teams) > 0
} else := sprintf("the default %d-day SLA", [sla_days(f)])
