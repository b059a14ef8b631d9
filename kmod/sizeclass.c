// SPDX-License-Identifier: GPL-2.0
/*
 * Size classes: Go's 67 small object classes (8 B .. 32 KiB) and the number
 * of 8 KiB heap pages in a span of each (internal/runtime/gc/sizeclasses.go).
 * Keeping Go's table unchanged keeps Go's waste bounds: at most 12.5 % lost
 * to rounding a request up and at most 12.5 % of a span left as tail.
 *
 * Invariants (checked by sizeclass_test.c): sizes strictly increase; for
 * every class nelems = span bytes / size and div_magic = 2^32 / size rounded
 * up, so (off * div_magic) >> 32 is the object index of every offset in a
 * span (Lemire). Class 0 stands for large objects.
 * Locking: none, the table is read-only.
 */
#include <linux/export.h>
#include <kunit/visibility.h>
#include "sizeclass.h"

const struct gcheap_class_info gcheap_classes[GCHEAP_NUM_SIZE_CLASSES] = {
	/* size, npages, nelems, div_magic */
	{ 0, 0, 0, 0 },		/* large objects */
	{ 8, 1, 1024, 536870912 },
	{ 16, 1, 512, 268435456 },
	{ 24, 1, 341, 178956971 },
	{ 32, 1, 256, 134217728 },
	{ 48, 1, 170, 89478486 },
	{ 64, 1, 128, 67108864 },
	{ 80, 1, 102, 53687092 },
	{ 96, 1, 85, 44739243 },
	{ 112, 1, 73, 38347923 },
	{ 128, 1, 64, 33554432 },
	{ 144, 1, 56, 29826162 },
	{ 160, 1, 51, 26843546 },
	{ 176, 1, 46, 24403224 },
	{ 192, 1, 42, 22369622 },
	{ 208, 1, 39, 20648882 },
	{ 224, 1, 36, 19173962 },
	{ 240, 1, 34, 17895698 },
	{ 256, 1, 32, 16777216 },
	{ 288, 1, 28, 14913081 },
	{ 320, 1, 25, 13421773 },
	{ 352, 1, 23, 12201612 },
	{ 384, 1, 21, 11184811 },
	{ 416, 1, 19, 10324441 },
	{ 448, 1, 18, 9586981 },
	{ 480, 1, 17, 8947849 },
	{ 512, 1, 16, 8388608 },
	{ 576, 1, 14, 7456541 },
	{ 640, 1, 12, 6710887 },
	{ 704, 1, 11, 6100806 },
	{ 768, 1, 10, 5592406 },
	{ 896, 1, 9, 4793491 },
	{ 1024, 1, 8, 4194304 },
	{ 1152, 1, 7, 3728271 },
	{ 1280, 1, 6, 3355444 },
	{ 1408, 2, 11, 3050403 },
	{ 1536, 1, 5, 2796203 },
	{ 1792, 2, 9, 2396746 },
	{ 2048, 1, 4, 2097152 },
	{ 2304, 2, 7, 1864136 },
	{ 2688, 1, 3, 1597831 },
	{ 3072, 3, 8, 1398102 },
	{ 3200, 2, 5, 1342178 },
	{ 3456, 3, 7, 1242757 },
	{ 4096, 1, 2, 1048576 },
	{ 4864, 3, 5, 883012 },
	{ 5376, 2, 3, 798916 },
	{ 6144, 3, 4, 699051 },
	{ 6528, 4, 5, 657931 },
	{ 6784, 5, 6, 633103 },
	{ 6912, 6, 7, 621379 },
	{ 8192, 1, 1, 524288 },
	{ 9472, 7, 6, 453439 },
	{ 9728, 6, 5, 441506 },
	{ 10240, 5, 4, 419431 },
	{ 10880, 4, 3, 394759 },
	{ 12288, 3, 2, 349526 },
	{ 13568, 5, 3, 316552 },
	{ 14336, 7, 4, 299594 },
	{ 16384, 2, 1, 262144 },
	{ 18432, 9, 4, 233017 },
	{ 19072, 7, 3, 225198 },
	{ 20480, 5, 2, 209716 },
	{ 21760, 8, 3, 197380 },
	{ 24576, 3, 1, 174763 },
	{ 27264, 10, 3, 157533 },
	{ 28672, 7, 2, 149797 },
	{ 32768, 4, 1, 131072 },
};
EXPORT_SYMBOL_IF_KUNIT(gcheap_classes);
