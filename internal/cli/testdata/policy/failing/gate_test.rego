package acme.gate_test

import data.acme.gate

# Wrong on purpose: a high finding is not denied.
test_high_denied if {
	gate.deny == {"G102"} with input as {"findings": [{"rule": "G102", "severity": "high"}]}
}
