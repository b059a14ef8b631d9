// SPDX-License-Identifier: LGPL-2.1-or-later

// Memory through a spike: spike.c in Go (its scavenger at work). A live
// heap of 512 MiB of 64 KiB slices is dropped and collected once; then 64
// KiB of 1 KiB objects every 10 ms for SPIKE_SECONDS (30), the cgroup's
// memory.current and RSS sampled every 250 ms.
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

const (
	kib  = 1024
	mib  = 1024 * kib
	obj  = 64 * kib
	nobj = 512 * mib / obj
)

var table [nobj][]byte
var sink []byte

func readNum(path, key string) uint64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if key == "" {
			v, _ := strconv.ParseUint(strings.TrimSpace(line), 10, 64)
			return v
		}
		if strings.HasPrefix(line, key) {
			v, _ := strconv.ParseUint(strings.Fields(line[len(key):])[0], 10, 64)
			return v * kib
		}
	}
	return 0
}

func main() {
	seconds := 30.0
	if s := os.Getenv("SPIKE_SECONDS"); s != "" {
		seconds, _ = strconv.ParseFloat(s, 64)
	}
	cg := ""
	if b, err := os.ReadFile("/proc/self/cgroup"); err == nil && strings.HasPrefix(string(b), "0::") {
		cg = "/sys/fs/cgroup" + strings.TrimSpace(string(b)[3:]) + "/memory.current"
	}
	mem := func() uint64 {
		if cg == "" {
			return 0
		}
		return readNum(cg, "")
	}
	rss := func() uint64 { return readNum("/proc/self/status", "VmRSS:") }
	base := mem()
	for i := range table {
		table[i] = make([]byte, obj)
		table[i][0] = 1
	}
	peak := mem() - base
	fmt.Printf("# spike go: 512 MiB live, memory %d MiB, RSS %d MiB\n", peak/mib, rss()/mib)
	for i := range table {
		table[i] = nil
	}
	runtime.GC()
	marks := []float64{1, 5, 10, 30}
	at := make([]uint64, 4)
	var settle int64 = -1
	t0 := time.Now()
	next := 0.0
	var m uint64
	for {
		t := time.Since(t0).Seconds()
		if t >= seconds {
			break
		}
		for k := 0; k < 64; k++ {
			sink = make([]byte, 1024)
		}
		if t >= next {
			m = mem() - base
			if m > peak {
				peak = m
			}
			fmt.Printf("spike-sample impl=go t_ms=%.0f mem_kib=%d rss_kib=%d\n", t*1000, m/kib, rss()/kib)
			for k := range marks {
				if at[k] == 0 && t >= marks[k] {
					at[k] = m
				}
			}
			if settle < 0 && m <= 64*mib {
				settle = int64(t * 1000)
			}
			next += 0.25
		}
		time.Sleep(10 * time.Millisecond)
	}
	m = mem() - base
	for k := range at {
		if at[k] == 0 {
			at[k] = m
		}
	}
	fmt.Printf("spike impl=go peak_mib=%d at1s_mib=%d at5s_mib=%d at10s_mib=%d at30s_mib=%d under64_ms=%d\n",
		peak/mib, at[0]/mib, at[1]/mib, at[2]/mib, at[3]/mib, settle)
}
