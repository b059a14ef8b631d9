/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A small TAP producer for the user-space tests. Each check prints one
 * "ok N - ..." or "not ok N - ..." line; tap_done() prints the plan and
 * returns the exit status (non-zero if any check failed or none ran).
 */
#ifndef GCH_TAP_H
#define GCH_TAP_H

#include <stdbool.h>

bool tap_check(bool cond, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int tap_done(void);

#define ok(cond, ...) tap_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#endif /* GCH_TAP_H */
