// SPDX-License-Identifier: LGPL-2.1-or-later
/* The shadow-graph torture test on a heap that marks concurrently. */
#define TORTURE_CONCURRENT
#include "torture.c"
