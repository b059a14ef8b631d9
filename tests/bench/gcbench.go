// SPDX-License-Identifier: LGPL-2.1-or-later

// GCBench in Go: the workload of gcbench.c (a stretch tree of depth 18, a
// long-lived tree of depth 16 and a long-lived array of 500,000 float64s,
// then short-lived trees of depth 4..16 built top down and bottom up), so
// that Go's collector can be compared with libgc and gcheap on the same
// machine. Standard library only; builds without a module:
//
//	GOCACHE=/tmp/gocache GOPATH=/tmp/gopath GO111MODULE=off \
//		go build -o /tmp/gcbench-go gcbench.go
//
// Prints a human-readable block, then one line
//
//	gcbench impl=go total_ms=<n> gcs=<n> max_pause_us=<n> peak_rss_kb=<n>
//
// gcs is runtime.MemStats.NumGC after minus before; max_pause_us is the
// longest MemStats.PauseNs entry (stop-the-world time of one cycle) among
// the cycles run; peak_rss_kb is getrusage's ru_maxrss. Exits 1 if the
// long-lived structures did not survive intact.
package main

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"
)

const (
	kStretchTreeDepth   = 18 // about 16 MB
	kLongLivedTreeDepth = 16 // about 4 MB
	kArraySize          = 500000
	kMinTreeDepth       = 4
	kMaxTreeDepth       = 16
)

// Node has the C layout: two pointers and two 32-bit ints, 24 bytes.
type Node struct {
	left, right *Node
	i, j        int32
}

// newNode always allocates on the heap, as GC_MALLOC does.
//
//go:noinline
func newNode(l, r *Node) *Node {
	return &Node{left: l, right: r}
}

// TreeSize is the number of nodes in a complete binary tree of depth i.
func TreeSize(i int) int {
	return (1 << (i + 1)) - 1
}

// NumIters is how many trees of depth i allocate as much as two stretch trees.
func NumIters(i int) int {
	return 2 * TreeSize(kStretchTreeDepth) / TreeSize(i)
}

// Populate gives an existing node two children, recursively (top down).
func Populate(depth int, n *Node) {
	if depth <= 0 {
		return
	}
	depth--
	n.left = newNode(nil, nil)
	n.right = newNode(nil, nil)
	Populate(depth, n.left)
	Populate(depth, n.right)
}

// MakeTree builds both subtrees, then their parent (bottom up).
func MakeTree(depth int) *Node {
	if depth <= 0 {
		return newNode(nil, nil)
	}
	l := MakeTree(depth - 1)
	r := MakeTree(depth - 1)
	return newNode(l, r)
}

// pauses tracks the longest stop-the-world pause among the cycles completed
// since start. MemStats.PauseNs keeps only the last 256 cycles, so it is
// sampled between phases (ReadMemStats stops the world briefly; that is
// outside the timed phases' loops).
type pauses struct {
	lastGC uint32
	max    uint64
	total  uint64
	lost   uint32 // cycles that fell out of PauseNs before being seen
}

func (p *pauses) sample() uint32 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	n := ms.NumGC - p.lastGC
	if n > uint32(len(ms.PauseNs)) {
		p.lost += n - uint32(len(ms.PauseNs))
		n = uint32(len(ms.PauseNs))
	}
	for k := uint32(0); k < n; k++ {
		// Cycle c's pause is PauseNs[(c+255)%256]; the newest is NumGC.
		c := ms.NumGC - k
		v := ms.PauseNs[(c+uint32(len(ms.PauseNs))-1)%uint32(len(ms.PauseNs))]
		p.total += v
		if v > p.max {
			p.max = v
		}
	}
	p.lastGC = ms.NumGC
	return ms.NumGC
}

type depthTimes struct {
	depth, iters      int
	topDown, bottomUp time.Duration
}

func TimeConstruction(depth int, p *pauses) depthTimes {
	iters := NumIters(depth)
	dt := depthTimes{depth: depth, iters: iters}
	fmt.Printf("Creating %d trees of depth %d\n", iters, depth)

	t0 := time.Now()
	for i := 0; i < iters; i++ {
		tempTree := newNode(nil, nil)
		Populate(depth, tempTree)
	}
	dt.topDown = time.Since(t0)
	fmt.Printf("\tTop down construction took %.1f msec\n", msec(dt.topDown))

	t0 = time.Now()
	for i := 0; i < iters; i++ {
		tempTree := MakeTree(depth)
		_ = tempTree
	}
	dt.bottomUp = time.Since(t0)
	fmt.Printf("\tBottom up construction took %.1f msec\n", msec(dt.bottomUp))
	p.sample()
	return dt
}

func msec(d time.Duration) float64 {
	return float64(d.Nanoseconds()) / 1e6
}

func main() {
	var p pauses
	gcBefore := p.sample()
	p.max, p.total = 0, 0

	fmt.Println("Garbage Collector Test (go)")
	fmt.Printf(" Live storage will peak at %d bytes.\n\n",
		2*24*TreeSize(kLongLivedTreeDepth)+8*kArraySize)
	fmt.Printf(" Stretching memory with a binary tree of depth %d\n", kStretchTreeDepth)

	tStart := time.Now()

	// Stretch the heap to its likely peak size.
	tempTree := MakeTree(kStretchTreeDepth)
	tempTree = nil
	_ = tempTree
	stretch := time.Since(tStart)
	p.sample()

	// Long-lived structures, reachable until the end.
	t0 := time.Now()
	fmt.Printf(" Creating a long-lived binary tree of depth %d\n", kLongLivedTreeDepth)
	longLivedTree := newNode(nil, nil)
	Populate(kLongLivedTreeDepth, longLivedTree)

	fmt.Printf(" Creating a long-lived array of %d doubles\n", kArraySize)
	array := make([]float64, kArraySize)
	for i := 0; i < kArraySize/2; i++ {
		array[i] = 1.0 / float64(i)
	}
	longLived := time.Since(t0)
	p.sample()

	var dts []depthTimes
	for d := kMinTreeDepth; d <= kMaxTreeDepth; d += 2 {
		dts = append(dts, TimeConstruction(d, &p))
	}

	ok := longLivedTree != nil && longLivedTree.left != nil &&
		longLivedTree.right != nil && array[1000] == 1.0/1000

	total := time.Since(tStart)
	gcs := p.sample() - gcBefore
	runtime.KeepAlive(longLivedTree)
	runtime.KeepAlive(array)

	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)

	fmt.Printf("\nPhases (msec):\n")
	fmt.Printf("  %-24s %10.1f\n", "stretch (depth 18)", msec(stretch))
	fmt.Printf("  %-24s %10.1f\n", "long-lived tree + array", msec(longLived))
	for _, dt := range dts {
		fmt.Printf("  %-24s %10.1f  (%d trees)\n",
			fmt.Sprintf("depth %d top-down", dt.depth), msec(dt.topDown), dt.iters)
		fmt.Printf("  %-24s %10.1f\n",
			fmt.Sprintf("depth %d bottom-up", dt.depth), msec(dt.bottomUp))
	}
	fmt.Printf("Completed in %.1f msec\n", msec(total))
	fmt.Printf("Completed %d collections\n", gcs)
	fmt.Printf("Heap size is %d (HeapSys)\n", ms.HeapSys)
	fmt.Printf("Peak RSS is %d KiB\n", ru.Maxrss)
	fmt.Printf("Pauses: max %.3f msec, total %.1f msec (GOMAXPROCS %d, %s)\n",
		float64(p.max)/1e6, float64(p.total)/1e6, runtime.GOMAXPROCS(0), runtime.Version())
	if p.lost > 0 {
		fmt.Printf("Warning: %d cycles' pauses were not seen\n", p.lost)
	}
	if !ok {
		fmt.Println("Failed: the long-lived structures did not survive")
		os.Exit(1)
	}

	fmt.Printf("gcbench impl=go total_ms=%d gcs=%d max_pause_us=%d peak_rss_kb=%d\n",
		total.Milliseconds(), gcs, p.max/1000, ru.Maxrss)
}
