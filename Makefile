# Dracon's developer entry points. `make demo` and `make test` are the two
# commands the README promises work on a fresh machine that has Go.
GO       ?= go
BIN      := bin/dracon
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X github.com/draconsec/dracon/internal/cli.Version=$(VERSION)
# The scanners the tests run for real that Dracon installs itself (Go
# programs and npm packages), built once per machine into Dracon's tool
# cache (~/.cache/dracon/tools/<name>/<version>). bandit and shellcheck come
# from Debian's packages (.ci/run installs them).
TEST_TOOLS ?= gosec gitleaks tfsec kics trivy govulncheck osv-scanner grype syft eslint
# act (github.com/nektos/act) runs action.yml's workflows offline for
# action/act_test.go. It is not a scanner, so not a dracon tool: `go install`
# puts it in the same cache, at act/<version>/act (action.ActVersion).
ACT_VERSION ?= v0.2.87

.PHONY: build demo test tools proto lint bench bench-store bench-policy bench-consumers dracon-compat clean corpus image

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/dracon

# Scan the bundled vulnerable app. The gate fails on purpose (exit code 1:
# the bundled policies fail on the fake AWS key in examples/); any other
# non-zero code is a real error.
demo: build
	./$(BIN) tools install gosec gitleaks
	./$(BIN) run --source examples; code=$$?; \
	  if [ $$code -eq 1 ]; then echo "make demo: the gate failed, as it should on examples/ (see dracon.sarif and summary.json)"; \
	  elif [ $$code -ne 0 ]; then exit $$code; fi

# The GitLab component's default image (Containerfile), built with podman
# from a debootstrap base and host-built binaries: no registry needed.
IMAGE ?= localhost/dracon:dev
image:
	scripts/build-image.sh $(IMAGE)

tools: build
	./$(BIN) tools install $(TEST_TOOLS)
	d="$${DRACON_TOOLS_DIR:-$${XDG_CACHE_HOME:-$$HOME/.cache}/dracon/tools}/gitlab-ci-local/4.73.0"; test -x "$$d/node_modules/.bin/gitlab-ci-local" || npm install --prefix "$$d" --no-audit --no-fund gitlab-ci-local@4.73.0
	@d="$${DRACON_TOOLS_DIR:-$${XDG_CACHE_HOME:-$$HOME/.cache}/dracon/tools}/act/$(ACT_VERSION)"; test -x "$$d/act" || { echo "act $(ACT_VERSION): building github.com/nektos/act"; GOBIN="$$d" $(GO) install github.com/nektos/act@$(ACT_VERSION); }

test: tools
	$(GO) vet ./...
	$(GO) test -timeout 30m ./...

proto:
	protoc --plugin=protoc-gen-go=$$($(GO) tool -n protoc-gen-go) --go_out=. --go_opt=paths=source_relative proto/dracon/v1/*.proto

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1)
	$(GO) vet ./...

# Parser benchmarks, per core, as a table with their targets; then the
# whole run (dracon run importing 100,000 SARIF results a second time)
# side by side with Python's json.load of the same file.
bench:
	$(GO) run ./internal/bench/cmd/benchtable
	$(MAKE) --no-print-directory bench-policy
	$(MAKE) --no-print-directory bench-consumers
	$(GO) run ./internal/bench/cmd/wholerun

# The policies' benchmark (internal/policy/bench_test.go): 100,000 findings of
# a pull request through the bundled default policies in one prepared query
# (target: under 1 s), beside one query per finding, as a table.
bench-policy:
	@out=$$(mktemp); \
	$(GO) test ./internal/policy/ -run '^$$' -bench Policies100k -benchtime 3x -cpu 2 > $$out 2>&1 || { cat $$out; rm -f $$out; exit 1; }; \
	awk 'BEGIN { print "| benchmark | findings | wall | CPU | target | met |"; print "|---|---|---|---|---|---|" } \
	/^BenchmarkPolicies100k/ { split($$1, p, "/"); b = p[2]; sub(/-[0-9]+$$/, "", b); \
		for (i = 3; i < NF; i++) { if ($$(i+1) == "ns/op") w = $$i / 1e9; if ($$(i+1) == "cpu-s/op") c = $$i } \
		lim = (b == "batch" ? 1 : 0); \
		printf "| %s | 100,000 | %.2f s | %.2f CPU-s | %s | %s |\n", b, w, c, (lim ? "< " lim " s" : "-"), (lim ? (w < lim ? "yes" : "no") : "-") }' $$out; \
	rm -f $$out

# The consumers' and enrichers' targets (issues 12 and 14), as a table:
# Elasticsearch's 10,000 findings judged by the client's CPU time (its
# test server runs in a child process), Jira's 1,000 new tickets by the
# requests the server counted, the exploit and deps.dev enrichers' 10,000
# findings from warm data by wall time.
bench-consumers:
	@out=$$(mktemp); \
	{ $(GO) test ./internal/consumers/elasticsearch/ -run '^$$' -bench 'Publish10k' -benchtime 3x && \
	  $(GO) test ./internal/consumers/jira/ -run '^$$' -bench 'ThousandNewFindings' -benchtime 1x && \
	  $(GO) test ./internal/enrichers/exploits/ -run '^$$' -bench 'EnrichWarm' -benchtime 3x && \
	  $(GO) test ./internal/enrichers/depsdev/ -run '^$$' -bench 'Warm10k' -benchtime 3x; } > $$out 2>&1 || { cat $$out; rm -f $$out; exit 1; }; \
	awk 'BEGIN { print "| benchmark | measure | value | target | met |"; print "|---|---|---|---|---|" } \
	/^Benchmark/ { name = $$1; sub(/^Benchmark/, "", name); sub(/-[0-9]+$$/, "", name); \
		for (i = 3; i < NF; i++) v[$$(i+1)] = $$i; \
		if (name == "Publish10k") printf "| elasticsearch: 10,000 findings bulk-indexed | client CPU | %.2f s | < 1 s | %s |\n", v["cpu-ns/op"]/1e9, (v["cpu-ns/op"] < 1e9 ? "yes" : "no"); \
		else if (name == "ThousandNewFindings") printf "| jira: 1,000 new tickets | requests | %d | < 1,100 | %s |\n", v["requests/op"], (v["requests/op"] < 1100 ? "yes" : "no"); \
		else printf "| %s: 10,000 findings, warm data | wall | %.2f s | < 1 s | %s |\n", (name == "Warm10k" ? "depsdev" : "exploits"), v["ns/op"]/1e9, (v["ns/op"] < 1e9 ? "yes" : "no"); \
		delete v }' $$out; \
	rm -f $$out

# Fingerprint replay: scan a real repository's last commits with gosec,
# bandit and gitleaks and measure how many findings keep their identity.
# Name a clone: make replay REPLAY_FLAGS='-repo ../replay/pipelines'
replay:
	$(GO) run ./internal/bench/cmd/replay $(REPLAY_FLAGS)

# The findings store's benchmarks (internal/store/bench_test.go: one scan
# observed against a store of a million findings) as a table with their
# targets. With DRACON_DEDUP_BIN (Dracon's built deduplication enricher) and
# DRACON_DEDUP_MIGRATIONS (its pkg/enrichment/migrations) set, also the side
# by side run against it (internal/bench/cmd/dedupcompare; docs/store.md).
bench-store:
	@out=$$(mktemp); \
	$(GO) test ./internal/store/ -run '^$$' -bench Observe -benchtime 3x -cpu 2 > $$out 2>&1 || { cat $$out; rm -f $$out; exit 1; }; \
	awk 'BEGIN { print "| benchmark | backend | wall | CPU | target | met |"; print "|---|---|---|---|---|---|" } \
	/^BenchmarkObserve/ { split($$1, p, "/"); b = p[2]; sub(/-[0-9]+$$/, "", b); n = p[1]; sub(/^BenchmarkObserve/, "", n); \
		for (i = 3; i < NF; i++) { if ($$(i+1) == "ns/op") w = $$i / 1e9; if ($$(i+1) == "cpu-s/op") c = $$i } \
		lim = 0; if (n == "100kInto1M") lim = (b == "sqlite" ? 3 : 5); \
		printf "| %s | %s | %.2f s | %.2f CPU-s | %s | %s |\n", n, b, w, c, (lim ? "< " lim " s" : "-"), (lim ? (w < lim ? "yes" : "no") : "-") }' $$out; \
	rm -f $$out
	$(GO) run ./internal/bench/cmd/dedupcompare

# Dracon compatibility: a consumer built from Dracon's own repository
# (github.com/ocurity/dracon) reads our enriched files and sees the policy
# enricher's annotation (internal/bench/cmd/draconcompat; docs/dracon-compat.md).
# DRACON_COMPONENT is its built stdout-json consumer; DRACON_AGGREGATOR,
# optionally, its built enricher aggregator, which our files then go through.
dracon-compat:
	@if [ -z "$(DRACON_COMPONENT)" ]; then \
	  echo "make dracon-compat: skipped: set DRACON_COMPONENT to Dracon's built stdout-json consumer, e.g."; \
	  echo "  git clone https://github.com/ocurity/dracon /tmp/ocurity-dracon"; \
	  echo "  (cd /tmp/ocurity-dracon && go build -mod=vendor -o /tmp/stdout-json ./components/consumers/stdout-json)"; \
	  echo "  make dracon-compat DRACON_COMPONENT=/tmp/stdout-json"; \
	else \
	  $(GO) run ./internal/bench/cmd/draconcompat -component "$(DRACON_COMPONENT)" $(if $(DRACON_AGGREGATOR),-aggregator "$(DRACON_AGGREGATOR)"); \
	fi

# Refresh the test corpus and schemas from the workplace's shared copy,
# taking only what may be redistributed (testdata/corpus/README.md).
CORPUS_SRC  ?= ../shared/corpus
SCHEMAS_SRC ?= ../shared/schemas
SARIF_WILD  := codeql_skills-introduction-to-codeql_results.sarif gosec_aws-ssm_gosec.sarif \
               trivy_trivy-sarif-demo_trivy-results.sarif grype_trivy-sarif-demo_results.sarif
corpus:
	cp -r $(CORPUS_SRC)/defectdojo/. testdata/corpus/defectdojo/
	for f in $(SARIF_WILD); do cp $(CORPUS_SRC)/sarif-wild/$$f testdata/corpus/sarif-wild/; done
	cp -r $(SCHEMAS_SRC)/. testdata/schemas/

clean:
	rm -rf bin .dracon dracon.sarif summary.json
