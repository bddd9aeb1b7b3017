package trufflehog

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/producertest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

func TestCorpus(t *testing.T) {
	got := producertest.CheckCorpus(t, "trufflehog", Parse, nil)

	git := got["trufflehog/v3_git.json"].Issues
	aws := git[0]
	if aws.RuleId != "AWS" || aws.Type != "AWS" || aws.Title != "AWS secret" || aws.Target != "keys:4" ||
		aws.Severity != v1.Severity_SEVERITY_CRITICAL || aws.Confidence != v1.Confidence_CONFIDENCE_CRITICAL ||
		aws.Location.Path != "keys" || aws.Location.StartLine != 4 ||
		aws.GetContextSegment() != "AKIA****REDACTED****" ||
		// The old format's Raw is base64: the fingerprint is of the secret itself.
		aws.Fingerprint != producers.SecretFingerprint("AKIAYVP4CIPPERUVIFXG") ||
		aws.Annotations["commit"] != "fbc14303ffbf8fb1c2c1914e8dda7d0121633aca" || aws.Annotations["source"] != "Git" ||
		!reflect.DeepEqual(aws.Tags, []string{"secret", "verified"}) ||
		!strings.Contains(aws.Description, "arn: arn:aws:iam::595918472158:user/") {
		t.Errorf("AWS issue = %v", aws)
	}
	uri := git[1]
	if uri.RuleId != "URI" || uri.Target != "keys:3" ||
		uri.GetContextSegment() != "https://*****:*****@the-internet.herokuapp.com/basic_auth" {
		t.Errorf("URI issue = %v", uri)
	}
	if key := git[2]; key.RuleId != "PrivateKey" || key.Target != "keys:1" || key.GetContextSegment() != "----****REDACTED****" {
		t.Errorf("private key issue = %v", key)
	}
	gh := got["trufflehog/v3_github.json"].Issues[0]
	if gh.Target != "keys:4" || gh.Annotations["source"] != "Github" ||
		!reflect.DeepEqual(gh.References, []string{"https://github.com/trufflesecurity/test_keys/blob/fbc14303ffbf8fb1c2c1914e8dda7d0121633aca/keys"}) ||
		gh.Fingerprint != aws.Fingerprint {
		t.Errorf("GitHub issue = %v", gh)
	}
}

// rawValues returns every Raw and RawV2 of a report, as written and
// base64-decoded where they decode.
func rawValues(t *testing.T, data []byte) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var r struct{ Raw, RawV2 string }
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{r.Raw, r.RawV2} {
			if v == "" {
				continue
			}
			out = append(out, v)
			if b, err := base64.StdEncoding.DecodeString(v); err == nil {
				out = append(out, string(b))
			}
		}
	}
	return out
}

// v2Values returns every string in stringsFound of a TruffleHog v2
// report (either layout), and every group of a grouped match.
func v2Values(t *testing.T, data []byte) []string {
	t.Helper()
	var out []string
	dec := json.NewDecoder(strings.NewReader(string(data)))
	for dec.More() {
		var r struct{ StringsFound []any }
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		var walk func(v any)
		walk = func(v any) {
			switch x := v.(type) {
			case string:
				out = append(out, x)
			case []any:
				for _, e := range x {
					walk(e)
				}
			}
		}
		walk(r.StringsFound)
	}
	return out
}

// TestNoSecretLeaks marshals every issue of every report and looks for
// each raw secret value in it.
func TestNoSecretLeaks(t *testing.T) {
	files := []string{"testdata/v3.90.jsonl", "testdata/v2.1.13.jsonl", "testdata/v2.0.88.json"}
	for _, row := range producertest.Expected(t, "trufflehog") {
		files = append(files, row.File)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var raws []string
		if strings.Contains(f, "/v2.") {
			raws = v2Values(t, data)
		} else {
			raws = rawValues(t, data)
		}
		if len(raws) == 0 {
			t.Fatalf("%s: no raw values to look for", f)
		}
		r, err := Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		for i, is := range r.Issues {
			b, err := protojson.Marshal(is)
			if err != nil {
				t.Fatal(err)
			}
			text := string(b)
			// protojson escapes some characters; compare on the decoded form too.
			var round map[string]any
			_ = json.Unmarshal(b, &round)
			plain, _ := json.Marshal(round)
			for _, raw := range raws {
				if len(raw) < 4 {
					continue
				}
				if strings.Contains(text, raw) || strings.Contains(is.String(), raw) || strings.Contains(string(plain), raw) {
					t.Errorf("%s: issue %d shows a raw secret value: %s", f, i, text)
				}
			}
		}
	}
}

// TestCurrentFormat reads testdata/v3.90.jsonl, written by hand in the
// shape TruffleHog v3.90 prints with --json (Raw and RawV2 as text,
// DetectorDescription, DecoderName). The secrets in it are made up.
func TestCurrentFormat(t *testing.T) {
	data, err := os.ReadFile("testdata/v3.90.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	producertest.CheckIssues(t, r.Issues)
	var got []string
	for _, is := range r.Issues {
		got = append(got, is.RuleId+" "+is.Target+" "+is.Severity.String()+" "+is.GetContextSegment())
	}
	want := []string{
		"Github config/settings.py:12 SEVERITY_HIGH ghp_****REDACTED****",
		"AWS deploy/env.sh:3 SEVERITY_CRITICAL AKIA****REDACTED****",
		"Postgres docker.io/acme/api:1.2 SEVERITY_HIGH postgres://app:********@db.internal:5432/app",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("issues:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	gh := r.Issues[0]
	if gh.Fingerprint != producers.SecretFingerprint("ghp_R2m9VqJ8wX4tZ7cY1nB5kL3pH6sD0fGaQeUi") ||
		!strings.HasPrefix(gh.Description, "GitHub is a web-based platform") ||
		!strings.Contains(gh.Description, "Verification failed: dial tcp: lookup api.github.com: no such host") ||
		!strings.Contains(gh.Description, "Decoded from: BASE64") ||
		gh.Confidence != v1.Confidence_CONFIDENCE_MEDIUM {
		t.Errorf("GitHub issue = %v", gh)
	}
	aws := r.Issues[1]
	if strings.Contains(aws.Description, "wJalrXUtnFEMI") || !strings.Contains(aws.Description, "account: 123456789012") {
		t.Errorf("AWS issue = %v", aws)
	}
	if pg := r.Issues[2]; pg.Annotations["image"] != "docker.io/acme/api:1.2" || pg.Location != nil {
		t.Errorf("docker issue = %v", pg)
	}
}

// TestV2 reads reports of the real TruffleHog v2 (the Python truffleHog;
// testdata/README.md says how they were made) in both layouts it printed:
// one object per line (2.0.89 and later) and pretty-printed objects one
// after another (2.0.88 and before). The secrets are AWS's documented
// example key, Slack's documentation webhook and two well-known SHA-256
// digests.
func TestV2(t *testing.T) {
	const (
		akia    = "AKIAIOSFODNN7EXAMPLE"
		awsSec  = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
		slack   = "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
		digest1 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
		digest2 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	)
	for _, tc := range []struct {
		file string
		want []string // rule, target, severity, confidence, commit, context
	}{
		{"testdata/v2.1.13.jsonl", []string{
			"High Entropy|keys.json|SEVERITY_MEDIUM|CONFIDENCE_LOW|54487cba8f896feed0802e9134946e4179ece222|9f86****REDACTED****\ne3b0****REDACTED****",
			"High Entropy|config/settings.py|SEVERITY_MEDIUM|CONFIDENCE_LOW|6e825d6630b2003a441bd9a14a09f2f54a404063|wJal****REDACTED****",
			"AWS API Key|config/settings.py|SEVERITY_HIGH|CONFIDENCE_MEDIUM|6e825d6630b2003a441bd9a14a09f2f54a404063|AKIA****REDACTED****",
			"Slack Webhook|notify.js|SEVERITY_HIGH|CONFIDENCE_MEDIUM|19154b170d7fa00842b6b46137bfbb7741e70a4d|http****REDACTED****",
			"High Entropy|config/settings.py|SEVERITY_MEDIUM|CONFIDENCE_LOW|904ff9a623dc999d15905c9b922a72489f0cc597|wJal****REDACTED****",
			"AWS API Key|config/settings.py|SEVERITY_HIGH|CONFIDENCE_MEDIUM|904ff9a623dc999d15905c9b922a72489f0cc597|AKIA****REDACTED****",
		}},
		// 2.0.88 had no Slack webhook regex, and named each result with
		// the hash of the commit before the one that changed the file (a
		// bug 2.0.9x fixed); both are what it printed.
		{"testdata/v2.0.88.json", []string{
			"High Entropy|keys.json|SEVERITY_MEDIUM|CONFIDENCE_LOW|6e825d6630b2003a441bd9a14a09f2f54a404063|9f86****REDACTED****\ne3b0****REDACTED****",
			"High Entropy|config/settings.py|SEVERITY_MEDIUM|CONFIDENCE_LOW|19154b170d7fa00842b6b46137bfbb7741e70a4d|wJal****REDACTED****",
			"AWS API Key|config/settings.py|SEVERITY_HIGH|CONFIDENCE_MEDIUM|19154b170d7fa00842b6b46137bfbb7741e70a4d|AKIA****REDACTED****",
			"High Entropy|config/settings.py|SEVERITY_MEDIUM|CONFIDENCE_LOW|91bdeb65fc8c093ce53d4f53e138ca1db8651eb4|wJal****REDACTED****",
			"AWS API Key|config/settings.py|SEVERITY_HIGH|CONFIDENCE_MEDIUM|91bdeb65fc8c093ce53d4f53e138ca1db8651eb4|AKIA****REDACTED****",
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			producertest.CheckIssues(t, r.Issues)
			var got []string
			for _, is := range r.Issues {
				got = append(got, strings.Join([]string{is.RuleId, is.Target, is.Severity.String(), is.Confidence.String(),
					is.Annotations["commit"], is.GetContextSegment()}, "|"))
				if is.Location == nil || is.Location.Path != is.Target || is.Location.StartLine != 0 ||
					is.Annotations["source"] != "Git" || is.Annotations["date"] == "" || is.Annotations["branch"] == "" ||
					!slices.Contains(is.Tags, "secret") || !slices.Contains(is.Tags, "unverified") {
					t.Errorf("issue %s = %v", is.RuleId, is)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("issues:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			// Every value found is handed to the run, to be hidden everywhere.
			for _, sec := range []string{akia, awsSec, digest1, digest2} {
				if !slices.Contains(r.Secrets, sec) {
					t.Errorf("Secrets lacks %s…", sec[:4])
				}
			}
			var aws *v1.Issue
			for _, is := range r.Issues {
				if is.RuleId == "AWS API Key" {
					aws = is
					break
				}
			}
			if aws == nil {
				t.Fatal("no AWS API Key issue")
			}
			// One leaked value, one fingerprint: the same as gitleaks' and
			// TruffleHog v3's for the same key.
			if aws.Fingerprint != producers.SecretFingerprint(akia) || aws.Title != "AWS API Key secret" ||
				!strings.Contains(aws.Description, "Secret: AKIA****REDACTED****") {
				t.Errorf("AWS issue = %v", aws)
			}
			ent := r.Issues[0]
			if ent.Title != "High-entropy string (possible secret)" || !slices.Contains(ent.Tags, "entropy") ||
				ent.Fingerprint != producers.SecretFingerprint(digest1+"\n"+digest2) ||
				!strings.Contains(ent.Description, "Commit message: Add signing keys for the webhook receiver") {
				t.Errorf("entropy issue = %v", ent)
			}
		})
	}
}

// TestV2Shapes checks what TruffleHog v2's code can print beyond the
// recorded reports: a regex with groups (findall's tuples, printed as
// arrays), a repeated line, and results that are not v2's.
func TestV2Shapes(t *testing.T) {
	line := func(found string) string {
		return `{"branch": "origin/master", "commit": "add creds\n", "commitHash": "0123456789abcdef0123456789abcdef01234567", ` +
			`"date": "2020-01-02 03:04:05", "diff": "+user = \"admin\"\n+pass = \"hunter2hunter2hunter2\"\n", "path": "app.cfg", ` +
			`"printDiff": "\u001b[93mhunter2hunter2hunter2\u001b[0m", "reason": "Password", "stringsFound": ` + found + `}`
	}
	r, err := Parse([]byte(line(`[["admin", "hunter2hunter2hunter2"]]`) + "\n" + line(`[["admin", "hunter2hunter2hunter2"]]`) + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Issues) != 1 {
		t.Fatalf("a repeated line is one issue: got %d", len(r.Issues))
	}
	is := r.Issues[0]
	b, _ := protojson.Marshal(is)
	if strings.Contains(string(b), "hunter2hunter2hunter2") || !slices.Contains(r.Secrets, "hunter2hunter2hunter2") ||
		!slices.Contains(r.Secrets, "adminhunter2hunter2hunter2") || is.Target != "app.cfg" || is.RuleId != "Password" {
		t.Errorf("grouped match: %s (secrets %d)", b, len(r.Secrets))
	}
	for name, in := range map[string]string{
		"no reason":       `{"path": "a", "stringsFound": ["x"]}`,
		"empty reason":    `{"reason": " ", "stringsFound": ["AKIAIOSFODNN7EXAMPLE"], "path": "a"}`,
		"nothing found":   `{"reason": "AWS API Key", "stringsFound": [], "path": "a"}`,
		"found not list":  `{"reason": "AWS API Key", "stringsFound": "AKIAIOSFODNN7EXAMPLE", "path": "a"}`,
		"found a number":  `{"reason": "AWS API Key", "stringsFound": [42], "path": "a"}`,
		"pretty, broken":  "{\n    \"reason\": \"AWS API Key\",\n    \"stringsFound\": [\"AKIAIOSFODNN7EXAMPLE\"\n",
		"pretty, not v2":  "{\n    \"results\": []\n}\n",
		"trufflehog3 cli": `[{"rule": {"id": "high-entropy", "message": "High Entropy", "severity": "LOW"}, "path": "a", "secret": "x"}]`,
	} {
		_, err := Parse([]byte(in))
		var pe *producers.ParseError
		if err == nil || !errors.As(err, &pe) {
			t.Errorf("%s: want a ParseError, got %v", name, err)
			continue
		}
		if strings.Contains(err.Error(), "AKIA") {
			t.Errorf("%s: error shows a secret: %v", name, err)
		}
	}
	_, err = Parse([]byte("{\n    \"reason\": \"AWS API Key\",\n    \"stringsFound\": [\"x\"],\n    \"path\": \"a\"\n}\n{\n    \"oops\": 1\n}\n"))
	if err == nil || !strings.Contains(err.Error(), "line 6") || !strings.Contains(err.Error(), "reads TruffleHog v2 and v3") {
		t.Errorf("pretty-printed error does not name line 6 and the versions read: %v", err)
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"truncated":  `{"SourceMetadata":{"Data":{"Filesystem":{"file":"a"}}},"DetectorName":"AWS","Raw":"AKIA`,
		"gitleaks":   `[{"RuleID":"aws-access-token","Secret":"x","File":"a"}]`,
		"gosec":      `{"Issues": [], "Stats": {}}`,
		"nuclei":     `{"template-id":"x","info":{"name":"x"},"host":"h"}`,
		"no source":  `{"DetectorName":"AWS","Raw":"x"}`,
		"number":     "42",
		"empty name": `{"SourceMetadata":{"Data":{}},"DetectorName":" ","Raw":"x"}`,
		"bad type":   `{"SourceMetadata":{"Data":{}},"DetectorName":"AWS","Verified":"yes-AKIAIOSFODNN7EXAMPLE"}`,
	} {
		_, err := Parse([]byte(in))
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if strings.Contains(err.Error(), "AKIA") {
			t.Errorf("%s: error shows a secret: %v", name, err)
		}
	}
	_, err := Parse([]byte(`{"SourceMetadata":{"Data":{}},"DetectorName":"AWS","Raw":"x"}` + "\n" + `{"oops":1}`))
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("error does not name line 2: %v", err)
	}
}

func TestEmptyIsNoFindings(t *testing.T) {
	for _, in := range []string{"", "\n \n"} {
		r, err := Parse([]byte(in))
		if err != nil || len(r.Issues) != 0 {
			t.Errorf("%q: %v, %v", in, r, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	producertest.Seed(f, []string{"trufflehog"}, "testdata/*.jsonl", "testdata/*.json")
	f.Fuzz(func(t *testing.T, data []byte) { producertest.FuzzParse(t, Parse, data) })
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(producertest.CorpusDir(b) + "/defectdojo/trufflehog/v3_github.json")
	if err != nil {
		b.Fatal(err)
	}
	producertest.BenchParse(b, Parse, data)
}
