// Package parallel splits per-finding work that needs no order over the
// machine's CPUs: a scan's 100,000 findings are fingerprinted and hashed
// on every core instead of one.
package parallel

import (
	"runtime"
	"sync"
)

// minChunk is the least work worth a goroutine: below it, the goroutine
// costs more than it saves.
const minChunk = 1000

// Chunks calls f over contiguous ranges [lo, hi) that together cover
// [0, n), one range per CPU, concurrently, and returns when all are done.
// f must only touch what belongs to its range. Under 2*minChunk items it
// calls f once, here.
func Chunks(n int, f func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n/minChunk)
	if workers <= 1 {
		if n > 0 {
			f(0, n)
		}
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(lo, hi)
		}()
	}
	wg.Wait()
}
