# What a change would like its gate to be.
package acme.gate

deny := set()
