package parallel

import (
	"runtime"
	"sync"
	"testing"
)

func TestChunksCoverEveryIndexOnce(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	for _, n := range []int{0, 1, 999, 1000, 1999, 2000, 4001, 100_000} {
		seen := make([]int, n)
		var mu sync.Mutex
		calls := 0
		Chunks(n, func(lo, hi int) {
			mu.Lock()
			calls++
			mu.Unlock()
			for i := lo; i < hi; i++ {
				seen[i]++
			}
		})
		for i, c := range seen {
			if c != 1 {
				t.Fatalf("n=%d: index %d covered %d times", n, i, c)
			}
		}
		want := min(4, n/minChunk)
		if want < 1 {
			want = min(n, 1)
		}
		if calls != want {
			t.Errorf("n=%d: %d calls, want %d", n, calls, want)
		}
	}
}
