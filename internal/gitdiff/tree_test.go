package gitdiff

import (
	"context"
	"io/fs"
	"path/filepath"
	"testing"
)

// TestTree reads a folder and a file as a commit has them, from a
// sub-folder of the checkout, whatever the working tree says.
func TestTree(t *testing.T) {
	repo := t.TempDir()
	gitIn(t, repo, "init", "-q", "-b", "main")
	write(t, repo, "app/policies/deny.rego", "package base\n")
	write(t, repo, "app/policies/data/data.json", "{}\n")
	write(t, repo, "app/dracon.yaml", "version: 1\n")
	gitIn(t, repo, "add", "-A")
	gitIn(t, repo, "commit", "-q", "-m", "base")
	gitIn(t, repo, "checkout", "-q", "-b", "feature")
	write(t, repo, "app/policies/deny.rego", "package head\n")
	write(t, repo, "app/policies/extra.rego", "package extra\n")
	gitIn(t, repo, "add", "-A")
	gitIn(t, repo, "commit", "-q", "-m", "weaken")

	ctx := context.Background()
	app := filepath.Join(repo, "app")
	tree, err := Tree(ctx, app, "main", "policies", "missing.rego")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	fs.WalkDir(tree, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if len(files) != 2 || files[0] != "policies/data/data.json" || files[1] != "policies/deny.rego" {
		t.Errorf("files %v", files)
	}
	if b, _ := fs.ReadFile(tree, "policies/deny.rego"); string(b) != "package base\n" {
		t.Errorf("deny.rego at main: %q", b)
	}
	if b, ok, err := Show(ctx, app, "main", "dracon.yaml"); err != nil || !ok || string(b) != "version: 1\n" {
		t.Errorf("Show dracon.yaml: %q %v %v", b, ok, err)
	}
	if _, ok, err := Show(ctx, app, "main", "policies/extra.rego"); err != nil || ok {
		t.Errorf("Show of a file main lacks: %v %v", ok, err)
	}
	if _, err := Tree(ctx, app, "no-such-branch", "policies"); err == nil {
		t.Error("a missing revision read")
	}
	if _, err := Tree(ctx, app, "main", "../outside"); err == nil {
		t.Error("a path outside the checkout read")
	}
}
