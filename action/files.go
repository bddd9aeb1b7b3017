package action

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/uuid"
)

// fileCommands writes the runner's file commands: step outputs
// (GITHUB_OUTPUT), the job summary (GITHUB_STEP_SUMMARY) and job
// environment (GITHUB_ENV). go-githubactions panics when one of those
// variables is unset (it opens ""), and writes every value between the
// fixed delimiter _GitHubActionsFileCommandDelimeter_, which a value
// (a finding's message, a path) may contain; this checks the variable
// first, and each value gets a random delimiter it does not contain, as
// @actions/core does (ghadelimiter_<uuid>).
type fileCommands struct {
	getenv func(string) string
	log    io.Writer // where a value goes when its file is not set
}

// setOutput sets step output name. Without GITHUB_OUTPUT (a run outside
// Actions) it is logged instead.
func (f fileCommands) setOutput(name, value string) error {
	return f.keyValue("GITHUB_OUTPUT", "output", name, value)
}

// setEnv sets a variable for the job's later steps.
func (f fileCommands) setEnv(name, value string) error {
	return f.keyValue("GITHUB_ENV", "env", name, value)
}

func (f fileCommands) keyValue(variable, what, name, value string) error {
	path := f.getenv(variable)
	if path == "" {
		if f.log != nil {
			fmt.Fprintf(f.log, "dracon: %s %s=%s (%s is not set)\n", what, name, oneLine(value), variable)
		}
		return nil
	}
	if strings.ContainsAny(name, "\r\n=") || name == "" {
		return fmt.Errorf("%s name %q", what, name)
	}
	return appendFile(path, heredoc(name, value))
}

// heredoc is name<<DELIM, the value, DELIM, with a delimiter the value
// does not contain.
func heredoc(name, value string) string {
	delim := "ghadelimiter_" + uuid.NewString()
	for strings.Contains(value, delim) || strings.Contains(name, delim) {
		delim = "ghadelimiter_" + uuid.NewString()
	}
	return name + "<<" + delim + "\n" + value + "\n" + delim + "\n"
}

// addSummary appends markdown to the job summary. Without
// GITHUB_STEP_SUMMARY it reports false and writes nothing.
func (f fileCommands) addSummary(markdown string) (bool, error) {
	path := f.getenv("GITHUB_STEP_SUMMARY")
	if path == "" {
		return false, nil
	}
	if !strings.HasSuffix(markdown, "\n") {
		markdown += "\n"
	}
	return true, appendFile(path, markdown)
}

// summaryBytes is how much the job summary file already holds (another
// step's, or this step's earlier parts): GitHub takes 1 MiB per step.
func (f fileCommands) summaryBytes() int {
	if path := f.getenv("GITHUB_STEP_SUMMARY"); path != "" {
		if st, err := os.Stat(path); err == nil {
			return int(st.Size())
		}
	}
	return 0
}

func appendFile(path, s string) (err error) {
	fh, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
	}()
	_, err = io.WriteString(fh, s)
	return err
}

// oneLine is s on one line, for a log.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
