# METADATA
# description: findings of SQL injection fail, one rule per finding
# custom:
#   dracon:
#     input: finding
package acme.sqli

deny contains sprintf("SQL injection (CWE-89) in %s", [input.path]) if 89 in input.cwe

warn contains sprintf("%s finding seen %d times", [input.rule, input.times_seen]) if input.times_seen > 1
