package depsdev

import (
	"net/url"
	"strings"
)

// Key names one package version the way deps.dev does: its system (GO,
// NPM, PYPI, MAVEN, CARGO, NUGET), the package's name in that system
// (a Go module path, "@scope/name", "group:artifact") and the version.
type Key struct {
	System, Name, Version string
}

// String is the key as the cache stores it.
func (k Key) String() string { return k.System + "|" + k.Name + "|" + k.Version }

// systems maps package URL types to deps.dev's systems.
var systems = map[string]string{
	"golang": "GO",
	"npm":    "NPM",
	"pypi":   "PYPI",
	"maven":  "MAVEN",
	"cargo":  "CARGO",
	"nuget":  "NUGET",
}

// FromPurl reads a package URL (pkg:type/namespace/name@version?...#...)
// into deps.dev's key; version stands in when the purl has none (a
// dependency finding's PackageVersion). ok is false for a type deps.dev
// does not know, a purl without a version, or Go's standard library and
// toolchain (which deps.dev has no package for).
func FromPurl(purl, version string) (Key, bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(purl), "pkg:")
	if !ok {
		return Key{}, false
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i]
	}
	rest = strings.TrimLeft(rest, "/") // "pkg://npm/x" is read as "pkg:npm/x", as the spec says
	if i := strings.LastIndexByte(rest, '@'); i > strings.LastIndexByte(rest, '/') {
		rest, version = rest[:i], unescape(rest[i+1:])
	}
	typ, path, ok := strings.Cut(rest, "/")
	system := systems[strings.ToLower(typ)]
	if !ok || system == "" {
		return Key{}, false
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i, s := range segs {
		segs[i] = unescape(s)
	}
	name := segs[len(segs)-1]
	ns := segs[:len(segs)-1]
	switch system {
	case "MAVEN":
		// group:artifact, as deps.dev names Maven packages.
		if len(ns) > 0 {
			name = strings.Join(ns, ".") + ":" + name
		}
	case "PYPI":
		name = strings.ToLower(name)
	default:
		// Go module paths and npm scopes keep their slashes.
		if len(ns) > 0 {
			name = strings.Join(ns, "/") + "/" + name
		}
	}
	version = strings.TrimSpace(version)
	if name == "" || version == "" {
		return Key{}, false
	}
	if system == "GO" {
		if name == "stdlib" || name == "toolchain" {
			return Key{}, false
		}
		// Go versions are v-prefixed; some scanners write them bare.
		if !strings.HasPrefix(version, "v") {
			version = "v" + version
		}
	}
	return Key{System: system, Name: name, Version: version}, true
}

func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// escape percent-encodes a path parameter as deps.dev's documentation
// asks: everything but RFC 3986's unreserved characters, so "/" in a Go
// module path is %2F, "@" of an npm scope %40 and ":" of a Maven name
// %3A.
func escape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// versionPath is the API path of k's GetVersion.
func (k Key) versionPath() string {
	return "/v3/systems/" + strings.ToLower(k.System) + "/packages/" + escape(k.Name) + "/versions/" + escape(k.Version)
}

// WebURL is k's page on deps.dev.
func (k Key) WebURL() string {
	return "https://deps.dev/" + strings.ToLower(k.System) + "/" + escape(k.Name) + "/" + escape(k.Version)
}

// projectPath is the API path of a project's GetProject.
func projectPath(id string) string { return "/v3/projects/" + escape(id) }
