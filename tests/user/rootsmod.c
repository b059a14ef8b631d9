// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A shared object the roots test dlopen()s: a global and a thread-local
 * pointer, each the only reference to a heap object the test checks.
 */
void *rootsmod_global;
__thread void *rootsmod_tls;

void rootsmod_set_global(void *p)
{
	rootsmod_global = p;
}

void *rootsmod_get_global(void)
{
	return rootsmod_global;
}

void rootsmod_set_tls(void *p)
{
	rootsmod_tls = p;
}

void *rootsmod_get_tls(void)
{
	return rootsmod_tls;
}
