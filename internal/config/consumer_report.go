package config

import (
	"fmt"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// Report configures consumers.report. Report: a self-contained HTML report for auditors (and PDF where a headless browser exists).
type Report struct {
	Delivery `yaml:",inline"`
	// Path is the HTML file, relative to the run's output folder (--out);
	// an absolute path is taken as it is. Default dracon-report.html. It
	// must end in .html or .htm: a browser opening a file:// address
	// knows it is HTML by that ending.
	Path string `yaml:"path"`
	// PDF prints the report to PDF with a headless browser: false (the
	// default), true (dracon-report.pdf beside the HTML, when a browser
	// is found; a notice in the log otherwise), "required" (the same, and
	// a delivery error when no browser is found), a path ending in .pdf
	// (relative to --out, like path), or {path, required}.
	PDF ReportPDF `yaml:"pdf"`
	// Browser is the Chromium or Chrome to print with: a path or a name
	// looked up on PATH. Default: the first of chromium,
	// chromium-browser, google-chrome, google-chrome-stable on PATH.
	Browser string `yaml:"browser"`
}

// ReportPDF is consumers.report.pdf: whether to print the report to PDF,
// where, and whether a missing browser fails the delivery.
type ReportPDF struct {
	// On: a PDF is wanted.
	On bool
	// Path is the PDF file; empty: the HTML's path ending in .pdf.
	Path string `yaml:"path"`
	// Required: no browser to print with is a delivery error rather than
	// a notice.
	Required bool `yaml:"required"`
}

// UnmarshalYAML reads false, true, "required", a path, or a mapping
// {path, required}.
func (p *ReportPDF) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!bool" {
			var on bool
			if err := n.Decode(&on); err != nil {
				return err
			}
			*p = ReportPDF{On: on}
			return nil
		}
		if n.Tag == "!!null" {
			*p = ReportPDF{}
			return nil
		}
		if n.Value == "required" {
			*p = ReportPDF{On: true, Required: true}
			return nil
		}
		*p = ReportPDF{On: true, Path: n.Value}
		return nil
	case yaml.MappingNode:
		// Decode within UnmarshalYAML does not check for unknown keys as
		// the config's decoder does: a typo would be ignored.
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i].Value; k != "path" && k != "required" {
				return fmt.Errorf("line %d: field %s not found in pdf (path, required)", n.Content[i].Line, k)
			}
		}
		type plain ReportPDF
		var v plain
		if err := n.Decode(&v); err != nil {
			return err
		}
		*p = ReportPDF(v)
		p.On = true
		return nil
	}
	return fmt.Errorf("line %d: pdf is true, false, required, a path ending in .pdf, or {path, required}", n.Line)
}

// validate checks what is particular to this consumer; the common block
// is checked by Delivery.validate.
func (c *Report) validate(key string, add func(key, format string, args ...any)) {
	if c.Path != "" {
		if ext := strings.ToLower(filepath.Ext(c.Path)); ext != ".html" && ext != ".htm" {
			add(key+".path", "%q does not end in .html or .htm (a browser opening the file goes by its ending)", c.Path)
		}
	}
	if c.PDF.Path != "" && !strings.EqualFold(filepath.Ext(c.PDF.Path), ".pdf") {
		add(key+".pdf", "%q is neither true, false, required nor a path ending in .pdf", c.PDF.Path)
	}
	// A path may hold spaces ("Google Chrome"); " -" is an argument,
	// which Dracon would take as part of the file name.
	if strings.Contains(c.Browser, " -") || strings.TrimSpace(c.Browser) != c.Browser {
		add(key+".browser", "%q looks like a command line: give the browser's path or name alone, without arguments", c.Browser)
	}
}
