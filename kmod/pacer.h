/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _GCHEAP_PACER_H
#define _GCHEAP_PACER_H

#include <linux/types.h>
#include "heap.h"

#define GCHEAP_HEAP_MINIMUM	(4ULL << 20)	/* Go's defaultHeapMinimum */
#define GCHEAP_PACER_RUNWAY_MIN	(4ULL << 20)	/* trigger may be as late as goal - this */
#define GCHEAP_ASSIST_MIN_LEFT	1000ULL		/* Go's floor on the scan work left */
#define GCHEAP_LIMIT_HEADROOM_MIN	BIT_ULL(20)	/* under the memory limit, at least */
#define GCHEAP_ASSIST_MAX_RATIO	BIT_ULL(32)	/* 4M bytes scanned per byte: all there is */

struct gcheap_mark;

u64 gcheap_pacer_goal(u64 marked, int gogc);
u64 gcheap_pacer_live(const struct gcheap *heap);
bool gcheap_pacer_due(const struct gcheap *heap);
int gcheap_default_gogc(void);
void gcheap_pacer_note_alloc(struct gcheap *heap, s64 bytes);
void gcheap_pacer_cycle_start(struct gcheap *heap);
void gcheap_pacer_cycle_end(struct gcheap *heap, u64 marked, u64 scan_work, u64 inuse,
			    u64 gc_ns, u64 mut_ns);
u64 gcheap_pacer_limit_goal(u64 limit, u64 frag, u64 marked);
u64 gcheap_pacer_trigger(u64 marked, u64 goal, u64 runway);
u64 gcheap_pacer_runway(const u32 *cons, unsigned int n, u64 scan_work);
u32 gcheap_pacer_cons(u64 alloc, u64 scan_work);
u64 gcheap_pacer_assist_ratio(u64 expected, u64 done, u64 live, u64 goal);
u64 gcheap_pacer_mark_ratio(struct gcheap *heap, struct gcheap_mark *mark);
void gcheap_pacer_workers(unsigned int cpus, unsigned int percent,
			  unsigned int *nworkers, unsigned int *permille);
unsigned int gcheap_pacer_cpu_percent(void);
int gcheap_pacer_set_gogc(struct gcheap *heap, int gogc);
int gcheap_pacer_setgc(struct gcheap *heap, struct gcheap_setgc *req);

#endif /* _GCHEAP_PACER_H */
