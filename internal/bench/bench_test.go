// Package bench measures Dracon's hot paths: parsing and normalising large
// reports. `make bench` prints these as a table; targets are in the README.
package bench

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/draconsec/dracon/internal/bench/synth"
	"github.com/draconsec/dracon/internal/producers"
	"github.com/draconsec/dracon/internal/producers/gosec"
	"github.com/draconsec/dracon/internal/producers/producertest"
	"github.com/draconsec/dracon/internal/producers/sarif"
	v1 "github.com/draconsec/dracon/proto/dracon/v1"
	"google.golang.org/protobuf/proto"
)

const n = 100_000

var (
	sarifOnce, gosecOnce sync.Once
	sarifData, gosecData []byte
)

func sarifInput() []byte { sarifOnce.Do(func() { sarifData = synth.SARIF(n) }); return sarifData }
func gosecInput() []byte { gosecOnce.Do(func() { gosecData = synth.Gosec(n) }); return gosecData }

// BenchmarkSARIF100k parses and normalises a 100,000-result SARIF log.
func BenchmarkSARIF100k(b *testing.B) {
	benchParse(b, sarifInput(), sarif.Parse)
}

// BenchmarkGosec100k turns 100,000 gosec findings into protobuf issues and
// marshals them as a LaunchToolResponse (what Dracon's gosec producer does).
func BenchmarkGosec100k(b *testing.B) {
	data := gosecInput()
	toProto := func(data []byte) (*producers.Parsed, error) {
		got, err := gosec.Parse(data)
		if err != nil {
			return nil, err
		}
		_, err = proto.Marshal(&v1.LaunchToolResponse{ToolName: "gosec", Issues: got.Issues})
		return got, err
	}
	benchParse(b, data, toProto)
}

func benchParse(b *testing.B, data []byte, parse producers.ParseFunc) {
	got, err := parse(data)
	if err != nil || len(got.Issues) != n {
		b.Fatalf("%v, want %d issues", err, n)
	}
	producertest.BenchParse(b, parse, data)
	b.ReportMetric(peakRatio(b, data, parse), "peak/input")
}

// peakRatio runs one parse while sampling the heap, and returns the peak
// heap growth (what the parse held at once, garbage included) over the
// input's size. The input itself is already in memory and not counted.
func peakRatio(b *testing.B, data []byte, parse producers.ParseFunc) float64 {
	b.StopTimer()
	defer b.StartTimer()
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	peak := base
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak {
				peak = v
			}
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Microsecond):
			}
		}
	}()
	got, err := parse(data)
	close(stop)
	<-done
	if err != nil {
		b.Fatal(err)
	}
	runtime.KeepAlive(got)
	return float64(peak-base) / float64(len(data))
}
