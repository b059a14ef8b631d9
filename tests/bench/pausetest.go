// SPDX-License-Identifier: LGPL-2.1-or-later

// The pause test of pausetest.c in Go: a table of chains of 8 nodes of 64
// bytes (256 MiB, PAUSETEST_MB), then two goroutines replace random chains
// for PAUSETEST_SECONDS (10), each noting gaps of more than 200 us between
// two replacements. Prints the line pausetest.c prints (impl=go); the
// collector's own view is MemStats (NumGC, the longest PauseNs entry).
// Standard library only; builds without a module.
package main

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"
)

const (
	chainLen = 8
	gapNs    = 200000
	pauseNs  = 1000000
)

var windows = []int64{10000000, 50000000, 100000000}

type node struct {
	next *node
	pad  [7]uint64
}

type gap struct{ start, len int64 }

var table []*node

func chainNew() *node {
	var head *node
	for k := 0; k < chainLen; k++ {
		head = &node{next: head}
	}
	return head
}

func rngNext(s *uint64) uint64 {
	*s += 0x9e3779b97f4a7c15
	z := *s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func worstWindow(g []gap, windowNs int64) int64 {
	var best int64
	for i := range g {
		lo, hi := g[i].start, g[i].start+windowNs
		var sum int64
		for j := i; j < len(g) && g[j].start < hi; j++ {
			e := g[j].start + g[j].len
			if e > hi {
				e = hi
			}
			sum += e - g[j].start
		}
		if sum > best {
			best = sum
		}
		hi = g[i].start + g[i].len
		lo = hi - windowNs
		sum = 0
		for j := i; j >= 0 && g[j].start+g[j].len > lo; j-- {
			s := g[j].start
			if s < lo {
				s = lo
			}
			sum += g[j].start + g[j].len - s
		}
		if sum > best {
			best = sum
		}
	}
	if best > windowNs {
		best = windowNs
	}
	return best
}

func envInt(name string, def int64) int64 {
	if v, err := strconv.ParseInt(os.Getenv(name), 0, 64); err == nil {
		return v
	}
	return def
}

func main() {
	mb := envInt("PAUSETEST_MB", 256)
	secs := envInt("PAUSETEST_SECONDS", 10)
	nslots := int(mb << 20 / (chainLen * 64))
	table = make([]*node, nslots)
	for i := range table {
		table[i] = chainNew()
	}
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	start := time.Now()
	end := start.Add(time.Duration(secs) * time.Second)
	var wg sync.WaitGroup
	ops := make([]int64, 2)
	gaps := make([][]gap, 2)
	for k := 0; k < 2; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			rng := uint64(0x5eed + k)
			last := time.Now()
			for {
				table[rngNext(&rng)%uint64(nslots)] = chainNew()
				ops[k]++
				t := time.Now()
				if d := t.Sub(last).Nanoseconds(); d > gapNs {
					gaps[k] = append(gaps[k], gap{last.Sub(start).Nanoseconds(), d})
				}
				last = t
				if t.After(end) {
					return
				}
			}
		}(k)
	}
	wg.Wait()
	total := time.Since(start)
	runtime.ReadMemStats(&ms1)

	var nops, maxgap int64
	worst := make([]int64, len(windows))
	var pl []int64
	for k := 0; k < 2; k++ {
		nops += ops[k]
		for i, win := range windows {
			if w := worstWindow(gaps[k], win); w > worst[i] {
				worst[i] = w
			}
		}
		for _, g := range gaps[k] {
			if g.len > maxgap {
				maxgap = g.len
			}
			if g.len > pauseNs {
				pl = append(pl, g.len)
			}
		}
	}
	sort.Slice(pl, func(i, j int) bool { return pl[i] < pl[j] })
	var p99 int64
	if len(pl) > 0 {
		i := len(pl) * 99 / 100
		if i >= len(pl) {
			i = len(pl) - 1
		}
		p99 = pl[i] / 1000
	}
	var gcMax uint64
	for n := ms0.NumGC + 1; n <= ms1.NumGC; n++ {
		if p := ms1.PauseNs[(n+255)%256]; p > gcMax {
			gcMax = p
		}
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Printf("pausetest impl=go total_ms=%d ops=%d pauses=%d pause_max_us=%d "+
		"pause_p99_us=%d mmu10_pct=%d mmu50_pct=%d mmu100_pct=%d gcs=%d "+
		"gc_pause_max_us=%d peak_rss_kb=%d\n",
		total.Milliseconds(), nops, len(pl), maxgap/1000, p99,
		100-worst[0]*100/windows[0], 100-worst[1]*100/windows[1],
		100-worst[2]*100/windows[2], ms1.NumGC-ms0.NumGC, gcMax/1000, ru.Maxrss)
}
