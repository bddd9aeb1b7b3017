package dependencycheck

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/depkit"
)

// The JSON report (reportSchema 1.1), as templates/jsonReport.vsl writes it.
// Evidence is not decoded: it is most of the report and says nothing a
// finding needs.
type jsonReport struct {
	ReportSchema string `json:"reportSchema"`
	ScanInfo     *struct {
		EngineVersion string `json:"engineVersion"`
	} `json:"scanInfo"`
	Dependencies *[]jsonDep `json:"dependencies"`
}

type jsonDep struct {
	FileName         string   `json:"fileName"`
	FilePath         string   `json:"filePath"`
	Packages         []jsonID `json:"packages"`
	VulnerabilityIDs []jsonID `json:"vulnerabilityIds"`
	Related          []struct {
		FilePath string `json:"filePath"`
	} `json:"relatedDependencies"`
	Vulnerabilities           []jsonVuln `json:"vulnerabilities"`
	SuppressedVulnerabilities []jsonVuln `json:"suppressedVulnerabilities"`
}

type jsonID struct {
	ID         string `json:"id"`
	Confidence string `json:"confidence"`
}

type jsonVuln struct {
	Source   string `json:"source"`
	Name     string `json:"name"`
	Severity string `json:"severity"`
	CVSSv2   *struct {
		Score    flexFloat `json:"score"`
		Severity string    `json:"severity"`
	} `json:"cvssv2"`
	CVSSv3 *struct {
		BaseScore    flexFloat `json:"baseScore"`
		BaseSeverity string    `json:"baseSeverity"`
	} `json:"cvssv3"`
	CVSSv4 *struct {
		BaseScore    flexFloat `json:"baseScore"`
		BaseSeverity string    `json:"baseSeverity"`
	} `json:"cvssv4"`
	CWEs        []string `json:"cwes"`
	Description string   `json:"description"`
	Notes       string   `json:"notes"`
	References  []struct {
		URL  string `json:"url"`
		Name string `json:"name"`
	} `json:"references"`
	VulnerableSoftware []struct {
		Software struct {
			Matched             string `json:"vulnerabilityIdMatched"`
			VersionEndExcluding string `json:"versionEndExcluding"`
		} `json:"software"`
	} `json:"vulnerableSoftware"`
	KEV *struct{} `json:"knownExploitedVulnerability"`
}

// flexFloat reads a score written as a number or as a numeric string.
type flexFloat float64

func (f *flexFloat) UnmarshalJSON(b []byte) error {
	b = bytes.Trim(b, `"`)
	if string(b) == "null" || len(b) == 0 {
		return nil
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return err
	}
	*f = flexFloat(v)
	return nil
}

func parseJSON(data []byte) ([]dep, string, error) {
	var r jsonReport
	if err := producers.DecodeJSON(name, data, &r); err != nil {
		return nil, "", err
	}
	if r.Dependencies == nil || (r.ScanInfo == nil && r.ReportSchema == "") {
		return nil, "", producers.Errorf(name, `not a Dependency-Check JSON report: no "reportSchema"/"scanInfo" and "dependencies" keys`)
	}
	version := ""
	if r.ScanInfo != nil {
		version = r.ScanInfo.EngineVersion
	}
	deps := make([]dep, 0, len(*r.Dependencies))
	for i := range *r.Dependencies {
		jd := &(*r.Dependencies)[i]
		if len(jd.Vulnerabilities)+len(jd.SuppressedVulnerabilities) == 0 {
			continue
		}
		d := dep{fileName: strings.TrimSpace(jd.FileName), filePath: strings.TrimSpace(jd.FilePath)}
		for _, p := range jd.Packages {
			if strings.HasPrefix(p.ID, "pkg:") {
				d.purls = depkit.AppendUnique(d.purls, p.ID)
			}
			d.confidence = better(d.confidence, p.Confidence)
		}
		for _, id := range jd.VulnerabilityIDs {
			d.confidence = better(d.confidence, id.Confidence)
		}
		for _, rd := range jd.Related {
			d.related = depkit.AppendUnique(d.related, rd.FilePath)
		}
		for _, jv := range jd.Vulnerabilities {
			d.vulns = append(d.vulns, jsonToVuln(&jv, false))
		}
		for _, jv := range jd.SuppressedVulnerabilities {
			d.vulns = append(d.vulns, jsonToVuln(&jv, true))
		}
		deps = append(deps, d)
	}
	return deps, version, nil
}

func jsonToVuln(jv *jsonVuln, suppressed bool) vuln {
	v := vuln{
		source: jv.Source, name: strings.TrimSpace(jv.Name), severity: jv.Severity,
		cwes: jv.CWEs, description: jv.Description, notes: jv.Notes,
		suppressed: suppressed, kev: jv.KEV != nil,
	}
	if c := jv.CVSSv2; c != nil {
		v.cvss2, v.sev2 = float64(c.Score), c.Severity
	}
	if c := jv.CVSSv3; c != nil {
		v.cvss3, v.sev3 = float64(c.BaseScore), c.BaseSeverity
	}
	if c := jv.CVSSv4; c != nil {
		v.cvss4, v.sev4 = float64(c.BaseScore), c.BaseSeverity
	}
	for _, ref := range jv.References {
		if u := strings.TrimSpace(ref.URL); strings.HasPrefix(u, "http") {
			v.refs = depkit.AppendUnique(v.refs, u)
		} else {
			v.refs = depkit.AppendUnique(v.refs, depkit.URLs(ref.Name)...)
		}
	}
	for _, vs := range jv.VulnerableSoftware {
		if vs.Software.Matched == "true" && vs.Software.VersionEndExcluding != "" {
			v.fixed = vs.Software.VersionEndExcluding
			break
		}
	}
	return v
}
