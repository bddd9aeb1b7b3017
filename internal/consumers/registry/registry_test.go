package registry

import (
	"reflect"
	"strings"
	"testing"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/consumers/consumertest"
)

// TestEveryBlockIsRegistered: each consumer block dracon.yaml has (a
// pointer field of config.Consumers) has one registry entry by its key,
// and each entry reads its own block.
func TestEveryBlockIsRegistered(t *testing.T) {
	typ := reflect.TypeOf(config.Consumers{})
	var blocks []string
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		if f.Type.Kind() == reflect.Pointer {
			blocks = append(blocks, strings.Split(f.Tag.Get("yaml"), ",")[0])
		}
	}
	if got, want := strings.Join(Names(), " "), strings.Join(sortedCopy(blocks), " "); got != want {
		t.Fatalf("registry %s, config blocks %s", got, want)
	}
	for _, e := range All() {
		c := &config.Consumers{}
		if _, ok := e.Block(c); ok {
			t.Errorf("%s: present in an empty config", e.Name)
		}
		v := reflect.ValueOf(c).Elem()
		for i := 0; i < typ.NumField(); i++ {
			if strings.Split(typ.Field(i).Tag.Get("yaml"), ",")[0] == e.Name {
				v.Field(i).Set(reflect.New(typ.Field(i).Type.Elem()))
			}
		}
		if _, ok := e.Block(c); !ok {
			t.Errorf("%s: does not read consumers.%s", e.Name, e.Name)
		}
	}
	if e, err := Lookup("Dependency-Track"); err != nil || e.Name != "dependency_track" {
		t.Errorf("Lookup(Dependency-Track) = %v, %v", e.Name, err)
	}
	if _, err := Lookup("mongodb"); err == nil || !strings.Contains(err.Error(), "known: defectdojo") {
		t.Errorf("Lookup(mongodb): %v", err)
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// TestBuild: a consumer without its credentials comes back as a failed
// outcome naming what is missing, not dropped; in a dry run it is built;
// naming a consumer the config has no block for is an error.
func TestBuild(t *testing.T) {
	c := &config.Consumers{Jira: &config.Jira{URL: "https://acme.atlassian.net", Project: "SEC"}, Webhook: &config.Webhook{URL: "http://127.0.0.1:1/hook"}}
	env := consumertest.Env(t, nil, nil)
	pubs, failed, err := Build(c, env, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(pubs) != 1 || pubs[0].Publisher.String() != "webhook" || len(failed) != 1 || failed[0].Name != "jira" ||
		!strings.Contains(strings.Join(failed[0].Errors, " "), "DRACON_JIRA_TOKEN") {
		t.Errorf("built %v, failed %+v", pubs, failed)
	}
	env.DryRun = true
	if pubs, failed, _ := Build(c, env, []string{"jira"}); len(pubs) != 1 || len(failed) != 0 {
		t.Errorf("dry run: built %v, failed %+v", pubs, failed)
	}
	// Every consumer without its credentials, in a dry run: built.
	all := &config.Consumers{Jira: &config.Jira{Project: "SEC"}, Slack: &config.Slack{}, Elasticsearch: &config.Elasticsearch{},
		DefectDojo: &config.DefectDojo{}, Phorge: &config.Phorge{}, DependencyTrack: &config.DependencyTrack{}}
	if pubs, failed, _ := Build(all, env, nil); len(pubs) != 6 || len(failed) != 0 {
		t.Errorf("dry run without credentials: built %d, failed %+v", len(pubs), failed)
	}
	if _, _, err := Build(c, env, []string{"slack"}); err == nil || !strings.Contains(err.Error(), "no consumers.slack block") {
		t.Errorf("slack without a block: %v", err)
	}
}
