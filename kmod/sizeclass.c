// SPDX-License-Identifier: GPL-2.0
/*
 * Size classes: Go's 67 small object classes (8 B .. 32 KiB) and the number
 * of 8 KiB heap pages in a span of each (internal/runtime/gc/sizeclasses.go).
 * Keeping Go's table unchanged keeps Go's waste bounds: at most 12.5 % lost
 * to rounding a request up and at most 12.5 % of a span left as tail.
 *
 * Invariants: the table is constant, sizes strictly increase, and for every
 * class nelems = span bytes / size and div_magic = 2^32 / size rounded up,
 * so (off * div_magic) >> 32 is the object index for every offset in a span
 * (Lemire). Class 0 stands for large objects. No locking: read-only data.
 */
#include <kunit/visibility.h>
#include "sizeclass.h"

#define SC(sz, np) {							\
	.size = (sz),							\
	.npages = (np),							\
	.nelems = (np) * GCHEAP_PAGE_SIZE / (sz),			\
	.div_magic = 0xFFFFFFFFu / (sz) + 1,				\
}

const struct gcheap_class_info gcheap_classes[GCHEAP_NUM_SIZE_CLASSES] = {
	{ 0 },
	SC(8, 1), SC(16, 1), SC(24, 1), SC(32, 1), SC(48, 1), SC(64, 1), SC(80, 1),
	SC(96, 1), SC(112, 1), SC(128, 1), SC(144, 1), SC(160, 1), SC(176, 1),
	SC(192, 1), SC(208, 1), SC(224, 1), SC(240, 1), SC(256, 1), SC(288, 1),
	SC(320, 1), SC(352, 1), SC(384, 1), SC(416, 1), SC(448, 1), SC(480, 1),
	SC(512, 1), SC(576, 1), SC(640, 1), SC(704, 1), SC(768, 1), SC(896, 1),
	SC(1024, 1), SC(1152, 1), SC(1280, 1), SC(1408, 2), SC(1536, 1), SC(1792, 2),
	SC(2048, 1), SC(2304, 2), SC(2688, 1), SC(3072, 3), SC(3200, 2), SC(3456, 3),
	SC(4096, 1), SC(4864, 3), SC(5376, 2), SC(6144, 3), SC(6528, 4), SC(6784, 5),
	SC(6912, 6), SC(8192, 1), SC(9472, 7), SC(9728, 6), SC(10240, 5),
	SC(10880, 4), SC(12288, 3), SC(13568, 5), SC(14336, 7), SC(16384, 2),
	SC(18432, 9), SC(19072, 7), SC(20480, 5), SC(21760, 8), SC(24576, 3),
	SC(27264, 10), SC(28672, 7), SC(32768, 4),
};
EXPORT_SYMBOL_IF_KUNIT(gcheap_classes);
