package example.gosec

default allow := false

allow if check_severity

check_severity if input.severity == "SEVERITY_LOW"

check_severity if input.severity == "SEVERITY_HIGH"

check_severity if input.severity == "SEVERITY_MEDIUM"
