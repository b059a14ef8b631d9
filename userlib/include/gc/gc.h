/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* <gc/gc.h>: libgc's other spelling of <gc.h>, the Boehm-compatible API. */
#include "../gc.h"
