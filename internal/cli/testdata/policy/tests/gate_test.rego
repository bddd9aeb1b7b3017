package acme.gate_test

import data.acme.gate

test_critical_denied if {
	gate.deny == {"G101"} with input as {"findings": [{"rule": "G101", "severity": "critical"}]}
}

test_high_passes if {
	count(gate.deny) == 0 with input as {"findings": [{"rule": "G102", "severity": "high"}]}
}
