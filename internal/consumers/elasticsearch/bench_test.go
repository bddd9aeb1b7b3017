package elasticsearch

import (
	"context"
	"fmt"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/config"
	"github.com/draconsec/dracon/internal/consumers"
	"github.com/draconsec/dracon/internal/consumers/consumertest"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"google.golang.org/protobuf/proto"
)

// manyFindings are n findings made from the test run's real ones, each
// with its own id and target.
func manyFindings(b *testing.B, run *consumers.Run, n int) []consumers.Finding {
	base := findings(run)
	out := make([]consumers.Finding, n)
	for i := range out {
		f := base[i%len(base)]
		is := proto.Clone(f.Issue).(*v1.EnrichedIssue)
		is.FindingId = fmt.Sprintf("bench-%05d", i)
		is.RawIssue.Target = fmt.Sprintf("%s#%d", is.RawIssue.Target, i)
		out[i] = consumers.Finding{Tool: f.Tool, Issue: is}
	}
	return out
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPublish10k bulk-indexes 10,000 findings (20,000 documents, in
// 20 requests of 1,000) into a fake cluster running in a child process,
// into fresh indexes each time. ns/op is wall time, the server's work
// included. cpu-ns/op is this process's user and system CPU time over
// the delivery (getrusage RUSAGE_SELF): the client's alone (the
// consumer, go-elasticsearch, net/http, the garbage collector), since
// the server is another process. server-cpu-ns/op is the child's, from
// /proc.
func BenchmarkPublish10k(b *testing.B) {
	run := consumertest.Run(b)
	run.Fixed = nil
	fs := manyFindings(b, run, 10000)
	srv := startFakeProcess(b)
	var cpu, server time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		index := fmt.Sprintf("bench-%d", i)
		c, err := New(&config.Elasticsearch{URLs: []string{srv.URL}, Index: index}, consumertest.Env(b, nil, nil))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		startCPU, startServer := cpuTime(), srv.cpu()
		d, err := c.Publish(context.Background(), run, fs)
		cpu += cpuTime() - startCPU
		server += srv.cpu() - startServer
		b.StopTimer()
		if err != nil || d.Created != len(fs) {
			b.Fatalf("%+v %v", d, err)
		}
		for _, ix := range []string{index, index + "-findings"} {
			req, _ := http.NewRequest(http.MethodDelete, srv.URL+"/"+ix, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != http.StatusOK {
				b.Fatalf("DELETE /%s: %v %v", ix, resp, err)
			}
			resp.Body.Close()
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(server.Nanoseconds())/float64(b.N), "server-cpu-ns/op")
}
