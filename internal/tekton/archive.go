package tekton

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// MaxArchive is the largest source archive a ConfigMap carries: the
// API server refuses a ConfigMap whose data passes 1 MiB, and the rest of
// the object needs a little room.
const MaxArchive = 900 << 10

// errTooLarge stops packing as soon as the archive passes MaxArchive.
var errTooLarge = errors.New("too large")

// capped is a buffer that refuses to grow past MaxArchive, so a large
// source fails fast instead of being compressed whole into memory.
type capped struct{ bytes.Buffer }

func (c *capped) Write(p []byte) (int, error) {
	if c.Len()+len(p) > MaxArchive {
		return 0, errTooLarge
	}
	return c.Buffer.Write(p)
}

// Archive packs the source folder as a gzip tar, the same bytes for the
// same files: names sorted, times and owners zeroed, modes 0644 or 0755.
// In a git checkout it holds what git would see (tracked and untracked
// files, not ignored ones, submodules' files too); elsewhere every file.
// .git and .dracon folders (runs, the local findings store) stay behind, and so do symbolic links that point out of the source.
func Archive(src string) ([]byte, error) {
	files, err := listFiles(src)
	if err != nil {
		return nil, err
	}
	var buf capped
	gz, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	tw := tar.NewWriter(gz)
	epoch := time.Unix(0, 0)
	n := 0
	for _, rel := range files {
		p := filepath.Join(src, filepath.FromSlash(rel))
		st, err := os.Lstat(p)
		if err != nil {
			if os.IsNotExist(err) {
				continue // listed by git, deleted in the work tree
			}
			return nil, err
		}
		hdr := &tar.Header{Name: rel, ModTime: epoch, Format: tar.FormatPAX}
		switch {
		case st.Mode().IsRegular():
			hdr.Typeflag, hdr.Size, hdr.Mode = tar.TypeReg, st.Size(), 0o644
			if st.Mode()&0o111 != 0 {
				hdr.Mode = 0o755
			}
		case st.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil || !linkInside(rel, target) {
				continue
			}
			hdr.Typeflag, hdr.Linkname, hdr.Mode = tar.TypeSymlink, target, 0o777
		default:
			continue
		}
		err = tw.WriteHeader(hdr)
		if err == nil && hdr.Typeflag == tar.TypeReg {
			err = copyFile(tw, p)
		}
		if err != nil {
			if errors.Is(err, errTooLarge) {
				return nil, tooLarge(n, len(files))
			}
			return nil, err
		}
		n++
	}
	err = tw.Close()
	if err == nil {
		err = gz.Close()
	}
	if errors.Is(err, errTooLarge) {
		return nil, tooLarge(n, len(files))
	}
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func copyFile(w io.Writer, p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

// linkInside says whether a symbolic link at rel pointing to target
// stays inside the archive.
func linkInside(rel, target string) bool {
	if target == "" || path.IsAbs(filepath.ToSlash(target)) {
		return false
	}
	j := path.Join(path.Dir(rel), filepath.ToSlash(target))
	return j != ".." && !strings.HasPrefix(j, "../")
}

func tooLarge(packed, total int) error {
	return fmt.Errorf("the source is over %d KiB compressed (after %d of its %d files), more than a ConfigMap carries: "+
		"let the cluster clone it instead (tekton.source: git, with tekton.git_url or --tekton-git-url; in GitHub Actions and GitLab CI the repository's URL is known)",
		MaxArchive>>10, packed, total)
}

// listFiles names the files to pack, slash-separated and sorted.
func listFiles(src string) ([]string, error) {
	out, err := exec.Command("git", "-C", src, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		// Not a git checkout (or no git): every file.
		return walk(src, "")
	}
	// Paths relative to src, also when src is a folder of the checkout.
	var files []string
	for _, f := range strings.Split(string(out), "\x00") {
		if f == "" || inDracon(f) {
			continue
		}
		if st, err := os.Lstat(filepath.Join(src, filepath.FromSlash(f))); err == nil && st.IsDir() {
			// A submodule: git lists it as one entry.
			sub, err := walk(filepath.Join(src, filepath.FromSlash(f)), f)
			if err != nil {
				return nil, err
			}
			files = append(files, sub...)
			continue
		}
		files = append(files, f)
	}
	sort.Strings(files)
	return files, nil
}

// inDracon says whether a path is in a .dracon folder: a run's own
// files (runs, the local findings store), not source.
func inDracon(p string) bool {
	return p == ".dracon" || strings.HasPrefix(p, ".dracon/") || strings.Contains(p, "/.dracon/")
}

// walk lists every file under dir but those in .git and .dracon
// folders, named prefix/rel.
func walk(dir, prefix string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if d.Name() == ".git" || d.Name() == ".dracon" {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Name() == ".git" {
			return nil // a submodule's or worktree's .git file
		}
		files = append(files, path.Join(prefix, rel))
		return nil
	})
	sort.Strings(files)
	return files, err
}
