/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints gcheap:*, for perf and ftrace (events/gcheap/ in tracefs).
 * Every event names the heap by its owner's thread-group id. Defined once,
 * in trace.c; the rest of the module includes this header plainly.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM gcheap

#if !defined(_GCHEAP_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _GCHEAP_TRACE_H

#include <linux/tracepoint.h>

/* A cycle starts: its number, the live heap and the goal it starts at. */
TRACE_EVENT(gc_start,
	TP_PROTO(pid_t tgid, u64 cycle, u64 live, u64 goal, bool concurrent),
	TP_ARGS(tgid, cycle, live, goal, concurrent),
	TP_STRUCT__entry(
		__field(pid_t, tgid)
		__field(u64, cycle)
		__field(u64, live)
		__field(u64, goal)
		__field(bool, concurrent)
	),
	TP_fast_assign(
		__entry->tgid = tgid;
		__entry->cycle = cycle;
		__entry->live = live;
		__entry->goal = goal;
		__entry->concurrent = concurrent;
	),
	TP_printk("tgid=%d cycle=%llu live=%llu goal=%llu concurrent=%d",
		  __entry->tgid, __entry->cycle, __entry->live, __entry->goal, __entry->concurrent)
);

/* A cycle ends: what it found live, the next goal, its two stops. */
TRACE_EVENT(gc_end,
	TP_PROTO(pid_t tgid, u64 cycle, u64 marked, u64 goal, u64 stw1_ns, u64 stw2_ns),
	TP_ARGS(tgid, cycle, marked, goal, stw1_ns, stw2_ns),
	TP_STRUCT__entry(
		__field(pid_t, tgid)
		__field(u64, cycle)
		__field(u64, marked)
		__field(u64, goal)
		__field(u64, stw1_ns)
		__field(u64, stw2_ns)
	),
	TP_fast_assign(
		__entry->tgid = tgid;
		__entry->cycle = cycle;
		__entry->marked = marked;
		__entry->goal = goal;
		__entry->stw1_ns = stw1_ns;
		__entry->stw2_ns = stw2_ns;
	),
	TP_printk("tgid=%d cycle=%llu marked=%llu goal=%llu stw1_ns=%llu stw2_ns=%llu",
		  __entry->tgid, __entry->cycle, __entry->marked, __entry->goal, __entry->stw1_ns,
		  __entry->stw2_ns)
);

/* The world stops: how many threads are attached. */
TRACE_EVENT(stw_begin,
	TP_PROTO(pid_t tgid, unsigned int threads),
	TP_ARGS(tgid, threads),
	TP_STRUCT__entry(
		__field(pid_t, tgid)
		__field(unsigned int, threads)
	),
	TP_fast_assign(
		__entry->tgid = tgid;
		__entry->threads = threads;
	),
	TP_printk("tgid=%d threads=%u",
		  __entry->tgid, __entry->threads)
);

/* The world restarts, after @duration_ns stopped (or stopping). */
TRACE_EVENT(stw_end,
	TP_PROTO(pid_t tgid, u64 duration_ns),
	TP_ARGS(tgid, duration_ns),
	TP_STRUCT__entry(
		__field(pid_t, tgid)
		__field(u64, duration_ns)
	),
	TP_fast_assign(
		__entry->tgid = tgid;
		__entry->duration_ns = duration_ns;
	),
	TP_printk("tgid=%d duration_ns=%llu",
		  __entry->tgid, __entry->duration_ns)
);

/* The mark is done: bytes marked and scanned. */
TRACE_EVENT(mark_done,
	TP_PROTO(pid_t tgid, u64 marked, u64 scanned),
	TP_ARGS(tgid, marked, scanned),
	TP_STRUCT__entry(
		__field(pid_t, tgid)
		__field(u64, marked)
		__field(u64, scanned)
	),
	TP_fast_assign(
		__entry->tgid = tgid;
		__entry->marked = marked;
		__entry->scanned = scanned;
	),
	TP_printk("tgid=%d marked=%llu scanned=%llu",
		  __entry->tgid, __entry->marked, __entry->scanned)
);

/* The background sweeper is done: bytes the heap has swept, ever. */
TRACE_EVENT(sweep_done,
	TP_PROTO(pid_t tgid, u64 swept),
	TP_ARGS(tgid, swept),
	TP_STRUCT__entry(
		__field(pid_t, tgid)
		__field(u64, swept)
	),
	TP_fast_assign(
		__entry->tgid = tgid;
		__entry->swept = swept;
	),
	TP_printk("tgid=%d swept=%llu",
		  __entry->tgid, __entry->swept)
);

/* Idle heap pages given back (kind: 0 background, 1 sync, 2 shrinker). */
TRACE_EVENT(scavenge,
	TP_PROTO(pid_t tgid, int kind, unsigned long pages, unsigned long resident),
	TP_ARGS(tgid, kind, pages, resident),
	TP_STRUCT__entry(
		__field(pid_t, tgid)
		__field(int, kind)
		__field(unsigned long, pages)
		__field(unsigned long, resident)
	),
	TP_fast_assign(
		__entry->tgid = tgid;
		__entry->kind = kind;
		__entry->pages = pages;
		__entry->resident = resident;
	),
	TP_printk("tgid=%d kind=%d pages=%lu resident=%lu",
		  __entry->tgid, __entry->kind, __entry->pages, __entry->resident)
);

/* The kernel asked the shrinker for @nr_to_scan base pages; @freed went. */
TRACE_EVENT(shrink,
	TP_PROTO(unsigned long nr_to_scan, unsigned long freed),
	TP_ARGS(nr_to_scan, freed),
	TP_STRUCT__entry(
		__field(unsigned long, nr_to_scan)
		__field(unsigned long, freed)
	),
	TP_fast_assign(
		__entry->nr_to_scan = nr_to_scan;
		__entry->freed = freed;
	),
	TP_printk("nr_to_scan=%lu freed=%lu",
		  __entry->nr_to_scan, __entry->freed)
);

/* A thread allocating @bytes while the heap marks paid with @ns of marking. */
TRACE_EVENT(assist,
	TP_PROTO(pid_t tgid, u64 bytes, u64 ns),
	TP_ARGS(tgid, bytes, ns),
	TP_STRUCT__entry(
		__field(pid_t, tgid)
		__field(u64, bytes)
		__field(u64, ns)
	),
	TP_fast_assign(
		__entry->tgid = tgid;
		__entry->bytes = bytes;
		__entry->ns = ns;
	),
	TP_printk("tgid=%d bytes=%llu ns=%llu",
		  __entry->tgid, __entry->bytes, __entry->ns)
);

#endif /* _GCHEAP_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
