package tekton

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// entries lists an archive: name → body ("-> target" for a link).
func entries(t *testing.T, b []byte) map[string]string {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	got := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return got
		}
		if err != nil {
			t.Fatal(err)
		}
		if !h.ModTime.Equal(time.Unix(0, 0)) || h.Uid != 0 || h.Uname != "" {
			t.Errorf("%s: time %v, owner %d %q: not zeroed", h.Name, h.ModTime, h.Uid, h.Uname)
		}
		switch h.Typeflag {
		case tar.TypeSymlink:
			got[h.Name] = "-> " + h.Linkname
		default:
			body, _ := io.ReadAll(tr)
			got[h.Name] = string(body)
		}
	}
}

func TestArchivePlainFolder(t *testing.T) {
	src := t.TempDir()
	write(t, src, map[string]string{"main.go": "package main", "sub/a.py": "print(1)", ".git/config": "x", ".dracon/findings.db": "db", "sub/.dracon/keep": "k"})
	if err := os.Symlink("sub/a.py", filepath.Join(src, "link.py")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(src, "out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../x", filepath.Join(src, "sub", "up")); err != nil {
		t.Fatal(err)
	}
	a, err := Archive(src)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"main.go": "package main", "sub/a.py": "print(1)", "link.py": "-> sub/a.py"}
	if got := entries(t, a); !reflect.DeepEqual(got, want) {
		t.Errorf("archive holds %v, want %v", got, want)
	}
	// The same bytes again, whatever the files' times.
	later := time.Now().Add(time.Hour)
	_ = os.Chtimes(filepath.Join(src, "main.go"), later, later)
	b, err := Archive(src)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("two archives of the same files differ")
	}
}

func TestArchiveGitCheckout(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	repo := t.TempDir()
	write(t, repo, map[string]string{".gitignore": "*.log\nbuild/\n", "app/main.go": "package main", "app/debug.log": "noise", "app/build/out.bin": "bin",
		"app/new.go": "package main // untracked", "other/x.go": "package x", "app/.dracon/runs/r1/summary.json": "{}"})
	for _, args := range [][]string{{"init", "-q"}, {"add", ".gitignore", "app/main.go", "other/x.go"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	// A folder of the checkout: paths relative to it, ignored files out.
	a, err := Archive(filepath.Join(repo, "app"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"main.go": "package main", "new.go": "package main // untracked"}
	if got := entries(t, a); !reflect.DeepEqual(got, want) {
		t.Errorf("archive holds %v, want %v", got, want)
	}
	a, err = Archive(repo)
	if err != nil {
		t.Fatal(err)
	}
	got := entries(t, a)
	if _, ok := got["other/x.go"]; !ok || len(got) != 4 {
		t.Errorf("whole checkout: %v", got)
	}
}

func TestArchiveTooLarge(t *testing.T) {
	src := t.TempDir()
	// Random bytes do not compress.
	big := make([]byte, MaxArchive+1)
	_, _ = rand.Read(big)
	write(t, src, map[string]string{"a.txt": "small", "blob.bin": string(big)})
	_, err := Archive(src)
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{"over 900 KiB", "tekton.source: git", "--tekton-git-url"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
}
