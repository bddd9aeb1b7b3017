// Package vulnlib stands in for a dependency with known vulnerabilities.
package vulnlib

// Run is the vulnerable function of advisory GO-2099-0001.
func Run(args []string) string {
	out := ""
	for _, a := range args {
		out += a + " "
	}
	return out
}

// Other is the vulnerable function of advisory GO-2099-0002; the app
// imports this package but never calls it.
func Other() string { return "other" }
