package trivy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/producers/producertest"
	bolt "go.etcd.io/bbolt"
)

// vulnDBBucket is where trivy v0.74.0 looks up npm advisories: the
// detector (pkg/detector/library) reads every root bucket whose name
// starts with "npm::", then the bucket named after the package, whose
// keys are vulnerability ids.
const vulnDBBucket = "npm::GitHub Security Advisory npm"

// vulnDBAdvisories are the advisories of the test database, by package and
// vulnerability id, in trivy-db's Advisory JSON (pkg/types).
var vulnDBAdvisories = map[string]map[string]any{
	"lodash": {
		// Applies to the pinned 4.17.20: fixed in 4.17.21.
		"CVE-2021-23337": map[string]any{
			"VendorIDs":          []string{"GHSA-35jh-r3h4-6jhm"},
			"VulnerableVersions": []string{"<4.17.21"},
			"PatchedVersions":    []string{"4.17.21"},
		},
		// Fixed in 4.17.19, before the pinned version: not reported.
		"CVE-2020-8203": map[string]any{
			"VendorIDs":          []string{"GHSA-p6mc-m468-83gw"},
			"VulnerableVersions": []string{">=3.7.0, <4.17.19"},
			"PatchedVersions":    []string{"4.17.19"},
		},
	},
	"minimist": {
		// Fixed in 1.2.6; the pinned 1.2.8 is not affected.
		"CVE-2021-44906": map[string]any{
			"VendorIDs":          []string{"GHSA-xvch-5gv4-984h"},
			"VulnerableVersions": []string{"<0.2.4", ">=1.0.0, <1.2.6"},
			"PatchedVersions":    []string{"0.2.4", "1.2.6"},
		},
	},
}

// vulnDBDetails is the "vulnerability" bucket: the details trivy adds to
// a match. VendorSeverity values are trivy-db's Severity numbers
// (1 LOW, 2 MEDIUM, 3 HIGH, 4 CRITICAL). GitHub's and NVD's scores differ
// so that the test sees which one trivy chose (the data source's, ghsa).
var vulnDBDetails = map[string]any{
	"CVE-2021-23337": map[string]any{
		"Title":          "lodash: command injection via template",
		"Description":    "Lodash versions prior to 4.17.21 are vulnerable to Command Injection via the template function.",
		"Severity":       "HIGH",
		"CweIDs":         []string{"CWE-77", "CWE-94"},
		"VendorSeverity": map[string]int{"ghsa": 3, "nvd": 4},
		"CVSS": map[string]any{
			"ghsa": map[string]any{"V3Vector": "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H", "V3Score": 7.2},
			"nvd":  map[string]any{"V3Vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "V3Score": 9.8},
		},
		"References": []string{
			"https://github.com/advisories/GHSA-35jh-r3h4-6jhm",
			"https://nvd.nist.gov/vuln/detail/CVE-2021-23337",
		},
	},
	"CVE-2020-8203": map[string]any{
		"Title":          "nodejs-lodash: prototype pollution in zipObjectDeep function",
		"Severity":       "HIGH",
		"CweIDs":         []string{"CWE-1321"},
		"VendorSeverity": map[string]int{"ghsa": 3},
	},
	"CVE-2021-44906": map[string]any{
		"Title":          "minimist: prototype pollution",
		"Severity":       "CRITICAL",
		"CweIDs":         []string{"CWE-1321"},
		"VendorSeverity": map[string]int{"ghsa": 4},
	},
}

// writeVulnDB builds a trivy vulnerability database in trivy-db's layout
// (schema version 2) under cache/db: trivy.db, a BoltDB file, and
// metadata.json.
func writeVulnDB(t *testing.T, cache string) {
	t.Helper()
	dir := filepath.Join(cache, "db")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(filepath.Join(dir, "trivy.db"), 0o644, &bolt.Options{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	put := func(b *bolt.Bucket, key string, v any) error {
		data, err := json.Marshal(v)
		if err != nil {
			return err
		}
		return b.Put([]byte(key), data)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		// The data source of the advisory bucket: it makes trivy take the
		// severity from GitHub's ("ghsa") entry.
		ds, err := tx.CreateBucketIfNotExists([]byte("data-source"))
		if err != nil {
			return err
		}
		if err := put(ds, vulnDBBucket, map[string]string{
			"ID": "ghsa", "Name": "GitHub Security Advisory npm",
			"URL": "https://github.com/advisories?query=type%3Areviewed+ecosystem%3Anpm",
		}); err != nil {
			return err
		}
		root, err := tx.CreateBucketIfNotExists([]byte(vulnDBBucket))
		if err != nil {
			return err
		}
		for pkg, advisories := range vulnDBAdvisories {
			b, err := root.CreateBucketIfNotExists([]byte(pkg))
			if err != nil {
				return err
			}
			for id, adv := range advisories {
				if err := put(b, id, adv); err != nil {
					return err
				}
			}
		}
		vb, err := tx.CreateBucketIfNotExists([]byte("vulnerability"))
		if err != nil {
			return err
		}
		for id, v := range vulnDBDetails {
			if err := put(vb, id, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	meta, err := json.Marshal(map[string]any{
		"Version":      2, // trivy-db's SchemaVersion, which trivy v0.74.0 requires
		"NextUpdate":   now.Add(24 * time.Hour),
		"UpdatedAt":    now,
		"DownloadedAt": now,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "metadata.json"), meta, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRealTrivyVuln runs the pinned trivy's vulnerability scanner, offline,
// on testdata/npm (a package-lock.json pinning lodash 4.17.20 and minimist
// 1.2.8) against a database the test writes, through Producer's own
// arguments with DRACON_TRIVY_CACHE set. Of the database's three
// advisories only lodash's CVE-2021-23337 applies; the other two were
// fixed before the pinned versions.
func TestRealTrivyVuln(t *testing.T) {
	producertest.RequireTool(t, Producer)
	cache := t.TempDir()
	writeVulnDB(t, cache)
	t.Setenv(CacheEnv, cache)

	args := Producer.Tool.Args("SRC", "OUT")
	for _, want := range []string{"--scanners vuln,misconfig,secret", "--cache-dir " + cache, "--skip-db-update", "--skip-java-db-update", "--offline-scan"} {
		if !strings.Contains(strings.Join(args, " "), want) {
			t.Fatalf("args %q lack %q", args, want)
		}
	}

	src := t.TempDir()
	b, err := os.ReadFile(filepath.Join("testdata", "npm", "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "package-lock.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	got := producertest.RunTool(t, Producer, src)
	if len(got.Issues) != 1 {
		for _, is := range got.Issues {
			t.Log(line(is))
		}
		t.Fatalf("%d issues, want 1", len(got.Issues))
	}
	is := got.Issues[0]
	// ghsa is the data source, so its severity (HIGH) and score (7.2)
	// win over NVD's (CRITICAL, 9.8).
	want := "CVE-2021-23337 | lodash@4.17.20 in package-lock.json | SEVERITY_HIGH | cvss 7.2 | cve CVE-2021-23337 | " +
		"cwe [77 94] | purl pkg:npm/lodash@4.17.20 | fixed 4.17.21 | [lang-pkgs npm status:fixed]"
	if s := line(is); s != want {
		t.Errorf("finding:\n got %s\nwant %s", s, want)
	}
	if is.PackageVersion != "4.17.20" || is.Title != "lodash: command injection via template" ||
		!slices.Equal(is.Aliases, []string{"GHSA-35jh-r3h4-6jhm"}) || is.Location.GetPath() != "package-lock.json" ||
		is.Annotations["severity_source"] != "ghsa" ||
		is.Annotations["cvss_vector"] != "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H" ||
		!slices.Contains(is.References, "https://nvd.nist.gov/vuln/detail/CVE-2021-23337") {
		t.Errorf("finding = %v", is)
	}
}
