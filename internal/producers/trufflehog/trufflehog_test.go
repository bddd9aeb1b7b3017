package trufflehog

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"reflect"
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

// TestNoSecretLeaks marshals every issue of every report and looks for
// each raw secret value in it.
func TestNoSecretLeaks(t *testing.T) {
	files := []string{"testdata/v3.90.jsonl"}
	for _, row := range producertest.Expected(t, "trufflehog") {
		files = append(files, row.File)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		raws := rawValues(t, data)
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
	producertest.Seed(f, []string{"trufflehog"}, "testdata/*.jsonl")
	f.Fuzz(func(t *testing.T, data []byte) { producertest.FuzzParse(t, Parse, data) })
}

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(producertest.CorpusDir(b) + "/defectdojo/trufflehog/v3_github.json")
	if err != nil {
		b.Fatal(err)
	}
	producertest.BenchParse(b, Parse, data)
}
