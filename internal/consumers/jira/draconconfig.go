package jira

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/draconsec/dracon/internal/config"
	"gopkg.in/yaml.v3"
)

// readDraconConfig reads Dracon's Jira configuration file: JSON as
// Dracon's V2 consumer read it (encoding/json, unknown keys ignored), or
// YAML with the same keys as its v1 read it. A relative path is taken
// from the scanned folder, where the config that names it lives.
func readDraconConfig(path, source string) (*config.JiraDraconConfig, error) {
	if !filepath.IsAbs(path) {
		path = filepath.Join(source, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseDraconConfig(data)
}

// parseDraconConfig reads JSON when the document is a JSON object, else
// YAML. Both ignore keys they do not know, as Dracon did, so a config
// written for a later Dracon still loads.
func parseDraconConfig(data []byte) (*config.JiraDraconConfig, error) {
	var dc config.JiraDraconConfig
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, errors.New("the file is empty")
	}
	if trimmed[0] == '{' {
		if err := json.Unmarshal(trimmed, &dc); err != nil {
			return nil, fmt.Errorf("JSON: %w", err)
		}
		return &dc, nil
	}
	if err := yaml.Unmarshal(trimmed, &dc); err != nil {
		return nil, fmt.Errorf("YAML: %w", err)
	}
	return &dc, nil
}

// checkDraconConfig is config.JiraDraconConfig.Check as one error.
func checkDraconConfig(where string, dc *config.JiraDraconConfig) error {
	var problems []string
	dc.Check(where, func(key, format string, args ...any) {
		problems = append(problems, key+": "+fmt.Sprintf(format, args...))
	})
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}
