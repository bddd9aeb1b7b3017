package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/producers/bandit"
	"github.com/draconsec/dracon/internal/producers/gitleaks"
	"github.com/draconsec/dracon/internal/producers/gosec"
	"github.com/draconsec/dracon/internal/producers/producertest"
)

// TestRescanExamples is the README's demo with the real gosec, bandit and
// gitleaks: scan examples/ twice (nothing new the second time), then move
// every finding (a comment block at the top of the Go file, a docstring
// and a line of code in the Python file) and add one vulnerable line:
// exactly that line is new.
func TestRescanExamples(t *testing.T) {
	producertest.RequireTool(t, gosec.Producer)
	producertest.RequireTool(t, bandit.Producer)
	producertest.RequireTool(t, gitleaks.Producer)
	src := t.TempDir()
	copyTree(t, "../../examples", src)
	c, err := config.Load(filepath.Join(src, "dracon.yaml"), ConfigNames())
	if err != nil {
		t.Fatal(err)
	}
	c.Enrichers.Dedup.Store = filepath.Join(t.TempDir(), "findings.db")

	first, _ := run(t, c, src)
	if first.Summary.Counts.Total == 0 || first.Summary.Counts.New != first.Summary.Counts.Total {
		t.Fatalf("first scan: %+v", first.Summary.Counts)
	}
	second, _ := run(t, c, src)
	if second.Summary.Counts.New != 0 || second.Summary.Counts.Total != first.Summary.Counts.Total {
		t.Fatalf("second scan of the same tree: %+v", second.Summary.Counts)
	}

	prepend(t, filepath.Join(src, "goapp", "main.go"), "// Copyright 2026 the Dracon demo's authors.\n//\n// Licensed under the Apache License, Version 2.0.\n\n")
	insertAfter(t, filepath.Join(src, "pyapp", "app.py"), "import yaml\n",
		"\n\ndef settings():\n    \"\"\"Settings, read once at start-up.\"\"\"\n    return eval(open('settings.txt').read())\n")
	third, _ := run(t, c, src)
	if third.Summary.Counts.New != 1 || third.Summary.Counts.Total != first.Summary.Counts.Total+1 {
		t.Fatalf("after moving everything and adding one vulnerable line: %+v", third.Summary.Counts)
	}
	var fresh []string
	for _, r := range third.Results {
		for _, is := range r.Issues {
			if is.IsNew {
				fresh = append(fresh, is.RawIssue.ToolName+" "+is.RawIssue.RuleId+" "+is.RawIssue.Target)
			}
		}
	}
	if strings.Join(fresh, "") != "bandit B307 pyapp/app.py:12" {
		t.Errorf("new: %v, want bandit's B307 on the added eval", fresh)
	}
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func prepend(t *testing.T, path, text string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append([]byte(text), b...), 0o644); err != nil {
		t.Fatal(err)
	}
}

func insertAfter(t *testing.T, path, anchor, text string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if !strings.Contains(s, anchor) {
		t.Fatalf("%s has no %q", path, anchor)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(s, anchor, anchor+text, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}
