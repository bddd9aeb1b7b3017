// Package policy evaluates Rego policies with embedded OPA: Dracon's own
// per-finding "allow" policies, unchanged, which annotate each finding,
// and Dracon's deny/warn rules on findings and on the whole run, which
// decide the verdict. Policies are read once per run and every kind is
// evaluated over the whole batch with one prepared query.
package policy

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/util"

	"github.com/draconsec/dracon/internal/policy/builtin"
)

// BuiltinDefault names the bundled default policies.
const BuiltinDefault = "builtin:default"

// Source is one place policies come from.
type Source struct {
	// Path is a .rego file, a folder of them (with data.json / data.yaml
	// files, as in an OPA bundle), a bundle (.tar.gz), or BuiltinDefault.
	// A relative path is read through Options.Repo.
	Path string
	// Base64 is a policy as Dracon's enricher took it
	// (enricher-policy-base64-policy); Path is then ignored.
	Base64 string
	// RegoVersion pins the syntax: "v0" or "v1". "" reads v1 and falls
	// back to v0, with a notice, for a file that parses only as v0.
	RegoVersion string
}

func (s Source) String() string {
	if s.Base64 != "" {
		return "base64 policy"
	}
	return s.Path
}

// Options for Load.
type Options struct {
	Sources []Source
	// Open says which file system reads a path, the name of the path in
	// it, and the name to report (a pull request reads the repository's
	// policies from its target branch: a change cannot weaken its own
	// gate). nil reads the file system.
	Open func(path string) (fsys fs.FS, name, label string, err error)
	// Data is put under data (data.dracon.exceptions, data.dracon.sla).
	Data map[string]any
	// Notice receives one-line notices (a policy read as Rego v0).
	Notice func(string)
	// Tests also reads the Rego unit tests (*_test.rego) the paths hold:
	// dracon policy test.
	Tests bool
}

// file is one policy module as read.
type file struct {
	name    string // as reported: path, builtin:default/x.rego, base64
	src     []byte
	module  *ast.Module
	version ast.RegoVersion
}

// loaded is everything Load read.
type loaded struct {
	files []*file
	data  map[string]any
	tests bool
}

// readSources reads and parses every source.
func readSources(o Options) (*loaded, error) {
	l := &loaded{data: map[string]any{}, tests: o.Tests}
	for k, v := range o.Data {
		l.data[k] = v
	}
	notice := o.Notice
	if notice == nil {
		notice = func(string) {}
	}
	for _, s := range o.Sources {
		pin, err := parseVersion(s.RegoVersion)
		if err != nil {
			return nil, fmt.Errorf("policy %s: %w", s, err)
		}
		switch {
		case s.Base64 != "":
			src, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s.Base64))
			if err != nil {
				return nil, fmt.Errorf("policy base64: not base64 (standard encoding): %w", err)
			}
			if err := l.addModule("base64", src, pin, notice); err != nil {
				return nil, err
			}
		case s.Path == BuiltinDefault:
			names := builtin.Files()
			if o.Tests {
				names, _ = fs.Glob(builtin.FS, "*.rego")
			}
			for _, name := range names {
				src, err := fs.ReadFile(builtin.FS, name)
				if err != nil {
					return nil, err
				}
				if err := l.addModule(BuiltinDefault+"/"+name, src, ast.RegoV1, notice); err != nil {
					return nil, err
				}
			}
		case strings.HasPrefix(s.Path, "builtin:"):
			return nil, fmt.Errorf("policy %s: unknown built-in policy set (there is %s)", s.Path, BuiltinDefault)
		default:
			open := o.Open
			if open == nil {
				open = OpenOS
			}
			fsys, rel, label, err := open(s.Path)
			if err != nil {
				return nil, fmt.Errorf("policy %s: %w", s.Path, err)
			}
			if err := l.addPath(fsys, rel, label, pin, notice); err != nil {
				return nil, err
			}
		}
	}
	if len(l.files) == 0 {
		return nil, errors.New("no policy: the named policy paths hold no .rego file")
	}
	return l, nil
}

// OpenOS reads p from the file system.
func OpenOS(p string) (fs.FS, string, string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return nil, "", "", err
	}
	return os.DirFS(filepath.Dir(abs)), filepath.Base(abs), p, nil
}

func (l *loaded) addPath(fsys fs.FS, rel, label string, pin ast.RegoVersion, notice func(string)) error {
	st, err := fs.Stat(fsys, rel)
	if err != nil {
		return fmt.Errorf("policy %s: %w", label, unwrapPathError(err))
	}
	switch {
	case st.IsDir():
		n := len(l.files)
		err := fs.WalkDir(fsys, rel, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if p != rel && strings.HasPrefix(d.Name(), ".") {
					return fs.SkipDir
				}
				return nil
			}
			name := label + strings.TrimPrefix(p, rel)
			switch base := d.Name(); {
			case strings.HasSuffix(base, "_test.rego") && !l.tests: // Rego unit tests: dracon policy test
			case strings.HasSuffix(base, ".rego"):
				src, err := fs.ReadFile(fsys, p)
				if err != nil {
					return err
				}
				return l.addModule(name, src, pin, notice)
			case base == "data.json" || base == "data.yaml" || base == "data.yml":
				src, err := fs.ReadFile(fsys, p)
				if err != nil {
					return err
				}
				dir := strings.Trim(strings.TrimPrefix(path.Dir(p), rel), "/")
				return l.addData(name, dir, src)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(l.files) == n {
			return fmt.Errorf("policy %s: the folder holds no .rego file", label)
		}
		return nil
	case strings.HasSuffix(rel, ".tar.gz") || strings.HasSuffix(rel, ".tgz"):
		src, err := fs.ReadFile(fsys, rel)
		if err != nil {
			return err
		}
		return l.addBundle(label, src, pin, notice)
	default:
		src, err := fs.ReadFile(fsys, rel)
		if err != nil {
			return fmt.Errorf("policy %s: %w", label, unwrapPathError(err))
		}
		return l.addModule(label, src, pin, notice)
	}
}

// addModule parses one file: as the pinned version, or as v1 and, when
// only v0 reads it, as v0 with a notice.
func (l *loaded) addModule(name string, src []byte, pin ast.RegoVersion, notice func(string)) error {
	parse := func(v ast.RegoVersion) (*ast.Module, error) {
		return ast.ParseModuleWithOpts(name, string(src), ast.ParserOptions{RegoVersion: v, ProcessAnnotation: true})
	}
	v := pin
	if v == ast.RegoUndefined {
		v = ast.RegoV1
	}
	m, err := parse(v)
	if err != nil && pin == ast.RegoUndefined {
		if m0, err0 := parse(ast.RegoV0); err0 == nil {
			m, err, v = m0, nil, ast.RegoV0
			notice(fmt.Sprintf("dracon: policy %s is Rego v0 syntax: read as v0 (run `opa fmt --v1-compatible` on it to move it to v1, or pin rego_version: v0)", name))
		}
	}
	if err != nil {
		return fmt.Errorf("policy %s does not parse: %w", name, err)
	}
	if m == nil {
		return fmt.Errorf("policy %s is empty", name)
	}
	l.files = append(l.files, &file{name: name, src: src, module: m, version: v})
	return nil
}

func (l *loaded) addData(name, dir string, src []byte) error {
	var v any
	if err := util.Unmarshal(src, &v); err != nil {
		return fmt.Errorf("policy data %s: %w", name, err)
	}
	var keys []string
	if dir != "" && dir != "." {
		keys = strings.Split(dir, "/")
	}
	return mergeData(l.data, keys, v, name)
}

// addBundle reads an OPA bundle. Its manifest may set the Rego version;
// without one, a bundle only v0 reads is read as v0, with a notice.
func (l *loaded) addBundle(name string, src []byte, pin ast.RegoVersion, notice func(string)) error {
	read := func(v ast.RegoVersion) (bundle.Bundle, error) {
		gz, err := gzip.NewReader(bytes.NewReader(src))
		if err != nil {
			return bundle.Bundle{}, err
		}
		gz.Close()
		return bundle.NewReader(bytes.NewReader(src)).WithProcessAnnotations(true).WithRegoVersion(v).WithBundleName(name).Read()
	}
	v := pin
	if v == ast.RegoUndefined {
		v = ast.RegoV1
	}
	b, err := read(v)
	if err != nil && pin == ast.RegoUndefined {
		if b0, err0 := read(ast.RegoV0); err0 == nil {
			b, err, v = b0, nil, ast.RegoV0
			notice(fmt.Sprintf("dracon: policy bundle %s is Rego v0 syntax: read as v0 (run `opa fmt --v1-compatible` on its files, or pin rego_version: v0)", name))
		}
	}
	if err != nil {
		return fmt.Errorf("policy bundle %s: %w", name, err)
	}
	n := 0
	for _, mf := range b.Modules {
		if strings.HasSuffix(mf.Path, "_test.rego") && !l.tests {
			continue
		}
		mv := v
		if mf.Parsed != nil && mf.Parsed.RegoVersion() != ast.RegoUndefined {
			mv = mf.Parsed.RegoVersion()
		}
		l.files = append(l.files, &file{name: name + ":" + strings.TrimPrefix(mf.Path, "/"), src: mf.Raw, module: mf.Parsed, version: mv})
		n++
	}
	if n == 0 {
		return fmt.Errorf("policy bundle %s holds no .rego file", name)
	}
	return mergeData(l.data, nil, b.Data, name)
}

// mergeData puts v at keys in dst; objects merge, anything else set twice
// is an error naming the file.
func mergeData(dst map[string]any, keys []string, v any, name string) error {
	for _, k := range keys {
		next, ok := dst[k].(map[string]any)
		if !ok {
			if _, taken := dst[k]; taken {
				return fmt.Errorf("policy data %s: data.%s is already set", name, strings.Join(keys, "."))
			}
			next = map[string]any{}
			dst[k] = next
		}
		dst = next
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("policy data %s: the document must be an object", name)
	}
	for k, val := range obj {
		if cur, ok := dst[k].(map[string]any); ok {
			if sub, ok := val.(map[string]any); ok {
				if err := mergeData(cur, nil, sub, name); err != nil {
					return err
				}
				continue
			}
		}
		if _, taken := dst[k]; taken {
			return fmt.Errorf("policy data %s: data.%s is already set", name, strings.Join(append(keys, k), "."))
		}
		dst[k] = val
	}
	return nil
}

func parseVersion(s string) (ast.RegoVersion, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return ast.RegoUndefined, nil
	case "v0", "0":
		return ast.RegoV0, nil
	case "v1", "1":
		return ast.RegoV1, nil
	}
	return ast.RegoUndefined, fmt.Errorf("rego_version %q: use v0 or v1", s)
}

func versionName(v ast.RegoVersion) string {
	if v == ast.RegoV0 {
		return "v0"
	}
	return "v1"
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// hashFiles is the sha256 of the files' contents, in order.
func hashFiles(files []*file) string {
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "%d:%s\n", len(f.src), f.name)
		h.Write(f.src)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func sortedKeys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}
