package vendored

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const tree = "testdata/tree"

// cases lists every file of testdata/tree with the verdict of the
// built-in rules ("" for the project's own) and, where the config's globs
// below change it, with them.
var cases = []struct {
	path, want, withRules string
}{
	{path: "README.md"},
	{path: "app/main.go"},
	{path: "app/api.pb.go", want: "generated (Code generated ... DO NOT EDIT.)"},
	{path: "app/color_string.go", want: "generated (Code generated ... DO NOT EDIT.)"}, // after a licence header
	{path: "app/template.go"}, // the marker is in a string, after the package clause
	{path: "web/static/js/jquery-3.2.1.min.js", want: "minified"},
	{path: "web/static/js/jquery.js", want: "library (jQuery)"},
	{path: "web/static/js/bootstrap.js", want: "library (Bootstrap)"}, // Bootstrap's banner
	{path: "web/src/bootstrap.js"},                                    // the application's entry point, same name
	{path: "web/static/js/loader.js", want: "minified (lines average 1830 characters)"},
	{path: "web/src/app.js"},
	{path: "web/build/main.js", want: "generated (has a source map)"},
	{path: "web/src/components/Chart.js"}, // not Chart.js the library: no banner
	{path: "web/src/__relay/AppQuery.js", want: "generated (@generated)"},
	{path: "web/src/notes.js"}, // mentions @generated, not as a marker
	{path: "web/src/wide.js"},
	{path: "web/node_modules/left-pad/index.js", want: "vendored folder (node_modules)"},
	{path: "vendor/github.com/other/lib/lib.go", want: "vendored folder (vendor)"},
	{path: "vendor/github.com/acme/shared/shared.go", want: "vendored folder (vendor)", withRules: "-"},
	{path: "third_party/cpplint/cpplint.py", want: "vendored folder (third party)"},
	{path: "tools/cpplint.py", want: "library (cpplint)"},
	{path: "env/lib/python3.11/site-packages/requests/api.py", want: "vendored folder (Python packages)"},
	{path: "py/models_pb2.py", want: "generated (protoc)"},
	{path: "py/app.py"},
	{path: "configure", want: "generated (GNU Autoconf)"},
	{path: "scripts/configure"},
	{path: "gradlew", want: "generated (Gradle wrapper)"},
	{path: ".pnp.cjs", want: "generated (Yarn Plug'n'Play loader)"},
	{path: "web/static/css/site.min.css", want: "minified"},
	{path: "ui/__generated__/AppQuery.graphql.js", want: "generated (Relay)"},
	{path: "proto/api.ts", want: "generated (Code generated ... DO NOT EDIT.)"},
	{path: "legacy/old.js", withRules: `vendored.skip "legacy/**"`},
	{path: "web/static/app/app.min.js", want: "minified", withRules: "-"},
}

var testRules = Rules{
	Scan: []string{"web/static/app/**", "vendor/github.com/acme"},
	Skip: []string{"legacy/**"},
}

func (c *Classifier) mustWhy(t *testing.T, rel string) string {
	t.Helper()
	return c.Classify(tree, rel).Why
}

func TestClassify(t *testing.T) {
	plain, err := New(Rules{})
	if err != nil {
		t.Fatal(err)
	}
	withRules, err := New(testRules)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			if got := plain.mustWhy(t, tc.path); got != tc.want {
				t.Errorf("built-in rules: %q, want %q", got, tc.want)
			}
			want := tc.want
			switch tc.withRules {
			case "":
			case "-":
				want = ""
			default:
				want = tc.withRules
			}
			if got := withRules.mustWhy(t, tc.path); got != want {
				t.Errorf("with the config's globs: %q, want %q", got, want)
			}
		})
	}
	// A nil classifier applies the built-in rules.
	var none *Classifier
	if got := none.Classify(tree, "web/static/js/loader.js"); got.Kind != Minified {
		t.Errorf("nil classifier: %+v", got)
	}
}

// TestCasesCoverTree keeps the table above in step with testdata/tree.
func TestCasesCoverTree(t *testing.T) {
	var files []string
	err := filepath.WalkDir(tree, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(tree, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, tc := range cases {
		listed[tc.path] = true
	}
	for _, f := range files {
		if !listed[f] {
			t.Errorf("%s is not in the table", f)
		}
	}
	if len(files) != len(cases) {
		t.Errorf("%d files, %d cases", len(files), len(cases))
	}
}

func TestKindAndDir(t *testing.T) {
	c, _ := New(Rules{})
	for _, tc := range []struct {
		path string
		kind Kind
		dir  string
	}{
		{"web/node_modules/left-pad/index.js", Folder, "web/node_modules/"},
		{"a/node_modules/b/node_modules/c.js", Folder, "a/node_modules/"}, // the outermost folder
		{"web/static/js/jquery.js", Library, ""},
		{"web/static/js/loader.js", Minified, ""},
		{"app/api.pb.go", Generated, ""},
		{"app/main.go", "", ""},
	} {
		v := c.Classify(tree, tc.path)
		if v.Kind != tc.kind || v.Dir != tc.dir || v.Own() != (tc.kind == "") {
			t.Errorf("%s: %+v, want kind %q dir %q", tc.path, v, tc.kind, tc.dir)
		}
	}
}

// TestPathRules: rules that need no file, for paths that are not on disk
// (a finding in a file another checkout had).
func TestPathRules(t *testing.T) {
	c, _ := New(Rules{})
	for path, want := range map[string]string{
		"static/jquery-3.2.1-min.js":                    "minified",
		"static/js/bootstrap.min.js":                    "minified",
		"assets/jquery-1.12.4.js":                       "library (jQuery)",
		"assets/jquery-3.5.1.slim.js":                   "library (jQuery)",
		"assets/jquery-ui-1.12.1.custom.js":             "library (jQuery UI)",
		"Scripts/jquery.validate.unobtrusive.js":        "library (jQuery Validation)",
		"js/modernizr-2.8.3.js":                         "library (Modernizr)",
		"js/html5shiv.js":                               "library (html5shiv)",
		"ThirdParty/x.c":                                "vendored folder (third party)",
		"3rd-party/x.c":                                 "vendored folder (third party)",
		"public/bower_components/angular/angular.js":    "vendored folder (bower_components)",
		"Godeps/_workspace/src/a/a.go":                  "vendored folder (Godeps)",
		".yarn/releases/yarn-4.1.0.cjs":                 "vendored folder (Yarn)",
		"static/ace-builds/src/ace.js":                  "library (Ace)",
		"app.js.map":                                    "generated (source map)",
		"mvnw":                                          "generated (Maven wrapper)",
		".pnp.loader.mjs":                               "generated (Yarn Plug'n'Play loader)",
		"js/mootools-core-1.4.5-full-compat.js":         "library (MooTools)",
		"js/tiny_mce_src.js":                            "library (TinyMCE)",
		"build-aux/config.guess":                        "generated (GNU config script)",
		"Forms/Main.Designer.cs":                        "generated (Visual Studio designer)",
		"src/minimal.js":                                "",
		"src/vendoring.go":                              "",
		"internal/cache/cache.go":                       "", // Linguist's cache/ rule is left out
		"dist/Dockerfile":                               "", // and its dist/ rule
		".github/workflows/ci.yml":                      "",
		"Jenkinsfile":                                   "",
		"package-lock.json":                             "",
		"src/jquery-helpers/x.js":                       "",
		"web/src/bootstrap.js":                          "", // decided by its content, absent here
		"notvendor/x.go":                                "",
		"pkg/vendors/x.go":                              "vendored folder (vendor)",
		"lib/python3.12/dist-packages/yaml/__init__.py": "vendored folder (Python packages)",
	} {
		if got := c.ClassifyPath(path).Why; got != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
	}
}

func TestBadGlob(t *testing.T) {
	if _, err := New(Rules{Skip: []string{"a/[b"}}); err == nil {
		t.Error("New accepts a bad glob")
	}
}

// TestWalk: walking the tree finds what classifying each file finds, and
// Want and SkipDir limit it.
func TestWalk(t *testing.T) {
	c, _ := New(testRules)
	got, err := c.Walk(tree, WalkOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, tc := range cases {
		why := tc.want
		switch tc.withRules {
		case "":
		case "-":
			why = ""
		default:
			why = tc.withRules
		}
		if why != "" {
			want = append(want, tc.path+": "+why)
		}
	}
	sort.Strings(want)
	var lines []string
	for _, f := range got {
		lines = append(lines, f.Path+": "+f.Why)
	}
	sort.Strings(lines)
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("walk:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}

	js, err := c.Walk(tree, WalkOptions{
		Want:    func(rel string) bool { return strings.HasSuffix(rel, ".js") },
		SkipDir: func(name string) bool { return name == "node_modules" || name == "static" },
	})
	if err != nil {
		t.Fatal(err)
	}
	lines = nil
	for _, f := range js {
		lines = append(lines, f.Path)
	}
	if w := "legacy/old.js ui/__generated__/AppQuery.graphql.js web/build/main.js web/src/__relay/AppQuery.js"; strings.Join(lines, " ") != w {
		t.Errorf("walk of .js files outside static/ and node_modules/: %v, want %s", lines, w)
	}
}
