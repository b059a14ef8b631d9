// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What keeps an object alive besides stacks and objects: the data and bss
 * of the program and of a library dlopen()ed after the heap opened (and
 * the opt-out, GCHEAP_NO_STATIC_ROOTS); thread-local variables, static and
 * dynamic (a dlopen()ed library's __thread), of the main thread and of a
 * thread parked by another's collection; a coroutine's stack registered
 * with gch_stack_add, running (it collects, or is parked by another
 * thread's collection) or suspended; a thread's stack switched with
 * gch_thread_set_stack; a signal handler on a registered sigaltstack.
 *
 * libgcheap's own variables, linked into the program, are not: the heap's
 * first object dies.
 *
 * Each object's only reference is the place under test; a disappearing
 * link (not itself a root) in malloc'd memory says whether it survived.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>
#include <sys/wait.h>

#include "gcheap.h"
#include "tap.h"

#define NOINLINE __attribute__((noinline))
#define PATTERN 0x5a5a5a5a5a5a5a5aUL

struct obj {
	unsigned long pattern[4];
};

static void **links;		/* malloc'd: not a root */
static unsigned int nlinks;

static NOINLINE void clear_stack(void)
{
	char buf[32768];

	memset(buf, 0, sizeof(buf));
	__asm__ __volatile__("" : : "r"(buf) : "memory");
}

/* A new object whose survival link @i tracks; the caller stores it. */
static NOINLINE struct obj *tracked(unsigned int i)
{
	struct obj *o = gch_alloc(sizeof(*o));
	unsigned int k;

	if (!o)
		return NULL;
	for (k = 0; k < 4; k++)
		o->pattern[k] = PATTERN ^ i;
	links[i] = o;	/* cleared by the collector if o dies */
	if (gch_register_link(&links[i], o) < 0)
		return NULL;
	return o;
}

static bool alive(unsigned int i, const struct obj *o)
{
	unsigned int k;

	if (!links[i] || links[i] != o) {
		tap_diag("object %u at %p: link %p, size %zu", i, (const void *)o, links[i],
			 gch_size(o, NULL));
		return false;
	}
	for (k = 0; k < 4; k++)
		if (o->pattern[k] != (PATTERN ^ i))
			return false;
	return true;
}

static NOINLINE int collect(void)
{
	clear_stack();
	return gch_collect();
}

/* Globals */

/* The heap's first object: its address is the heap's base, which libgcheap keeps. */
static NOINLINE void first_object(void)
{
	tracked(8);
}

static struct obj *global_obj;
static void *mod;
static void (*mod_set_global)(void *), (*mod_set_tls)(void *);
static void *(*mod_get_global)(void), *(*mod_get_tls)(void);

static NOINLINE void set_global(void)
{
	global_obj = tracked(0);
}

static NOINLINE void set_mod_global(void)
{
	mod_set_global(tracked(1));
}

static void load_module(const char *self)
{
	char path[PATH_MAX], *slash;
	ssize_t n = readlink(self, path, sizeof(path) - 64);

	if (n < 0)
		return;
	path[n] = 0;
	slash = strrchr(path, '/');
	if (!slash)
		return;
	strcpy(slash, "/../testlib/rootsmod.so");
	mod = dlopen(path, RTLD_NOW);
	if (!mod) {
		tap_diag("dlopen: %s", dlerror());
		return;
	}
	mod_set_global = (void (*)(void *))dlsym(mod, "rootsmod_set_global");
	mod_get_global = (void *(*)(void))dlsym(mod, "rootsmod_get_global");
	mod_set_tls = (void (*)(void *))dlsym(mod, "rootsmod_set_tls");
	mod_get_tls = (void *(*)(void))dlsym(mod, "rootsmod_get_tls");
}

static void test_globals(void)
{
	set_global();
	ok(collect() == 0 && alive(0, global_obj), "an object in the program's bss survives");
	load_module("/proc/self/exe");
	ok(mod && mod_set_global && mod_get_global && mod_set_tls && mod_get_tls,
	   "the test library loads");
	if (!mod)
		return;
	set_mod_global();
	ok(collect() == 0 && alive(1, mod_get_global()),
	   "an object in a library dlopen()ed after the heap opened survives");
}

/* Opt-out: run in a child with GCHEAP_NO_STATIC_ROOTS=1. */
static int optout_child(void)
{
	set_global();
	if (collect() < 0)
		return 2;
	return links[0] ? 1 : 0;
}

static void test_optout(const char *argv0)
{
	pid_t pid = fork();
	int st = -1;

	if (pid == 0) {
		setenv("GCHEAP_NO_STATIC_ROOTS", "1", 1);
		execl("/proc/self/exe", argv0, "optout", (char *)NULL);
		_exit(3);
	}
	if (pid > 0)
		waitpid(pid, &st, 0);
	ok(pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	   "GCHEAP_NO_STATIC_ROOTS=1: globals are not roots (status %#x)", st);
}

/* Thread-local variables */

static __thread struct obj *tls_obj;

static NOINLINE void set_tls(void)
{
	tls_obj = tracked(2);
}

static NOINLINE void set_mod_tls(unsigned int i)
{
	mod_set_tls(tracked(i));
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int phase;

static void wait_phase(int p)
{
	pthread_mutex_lock(&lock);
	while (phase < p)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
}

static void set_phase(int p)
{
	pthread_mutex_lock(&lock);
	phase = p;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

static NOINLINE void thread_set(void)
{
	tls_obj = tracked(4);
	if (mod)
		set_mod_tls(5);
}

static void *tls_thread(void *arg)
{
	bool *good = arg;

	thread_set();
	clear_stack();
	set_phase(1);
	wait_phase(2);
	good[0] = alive(4, tls_obj);
	good[1] = mod && alive(5, mod_get_tls());
	return NULL;
}

static void test_tls(void)
{
	bool good[2] = { false, false };
	pthread_t t;
	int ret;

	set_tls();
	ok(collect() == 0 && alive(2, tls_obj), "an object in the main thread's __thread survives");
	if (mod) {
		set_mod_tls(3);
		ok(collect() == 0 && alive(3, mod_get_tls()),
		   "an object in a dlopen()ed library's __thread (main thread) survives");
	}
	if (gch_pthread_create(&t, NULL, tls_thread, good)) {
		ok(0, "gch_pthread_create");
		return;
	}
	wait_phase(1);
	ret = collect();
	set_phase(2);
	pthread_join(t, NULL);
	ok(ret == 0 && good[0], "an object in a parked thread's __thread survives");
	if (mod)
		ok(ret == 0 && good[1],
		   "an object in a dlopen()ed library's __thread (parked thread) survives");
}

/* Stacks the thread switches to */

#define CO_STACK (256 << 10)

static ucontext_t main_ctx, co_ctx;
static int co_collect_ret = -1;
static bool co_good[2];

static NOINLINE struct obj *co_alloc(unsigned int i)
{
	return tracked(i);
}

static void coroutine(void)
{
	struct obj *volatile o = co_alloc(6);

	/* Collect while running here. */
	co_collect_ret = collect();
	co_good[0] = alive(6, o);
	/* Suspended: the main stack collects. */
	swapcontext(&co_ctx, &main_ctx);
	co_good[1] = alive(6, o);
}

static void test_coroutine(void)
{
	char *stack = calloc(1, CO_STACK);
	int ret;

	if (!stack || gch_stack_add(stack, stack + CO_STACK) < 0) {
		ok(0, "gch_stack_add (errno %d)", errno);
		return;
	}
	getcontext(&co_ctx);
	co_ctx.uc_stack.ss_sp = stack;
	co_ctx.uc_stack.ss_size = CO_STACK;
	co_ctx.uc_link = &main_ctx;
	makecontext(&co_ctx, coroutine, 0);
	swapcontext(&main_ctx, &co_ctx);
	ok(co_collect_ret == 0 && co_good[0],
	   "a coroutine on a malloc'd stack collects, keeping its object (ret %d)", co_collect_ret);
	ret = collect();
	swapcontext(&main_ctx, &co_ctx);
	ok(ret == 0 && co_good[1], "a suspended coroutine's object survives a collection");
	ok(gch_stack_remove(stack, stack + CO_STACK) == 0, "gch_stack_remove");
	free(stack);
}

/*
 * Another thread on a coroutine stack: registered with gch_stack_add, or
 * made its stack with gch_thread_set_stack. It collects itself, then waits
 * there while the main thread collects (its handler runs on that stack).
 */
static ucontext_t t_main, t_co;
static char *t_stack;
static bool t_set;
static bool t_good[2];
static int t_phase;
static uintptr_t t_lo, t_hi;

static void t_coroutine(void)
{
	unsigned int id = t_set ? 10 : 9;
	struct obj *volatile o;
	bool set_ok = !t_set || gch_thread_set_stack(t_stack, t_stack + CO_STACK) == 0;

	o = co_alloc(id);
	t_good[0] = set_ok && collect() == 0 && alive(id, o);
	set_phase(t_phase);
	wait_phase(t_phase + 1);
	t_good[1] = alive(id, o);
	if (t_set && gch_thread_set_stack((void *)t_lo, (void *)t_hi) < 0)
		t_good[1] = false;
}

static void *co_thread(void *arg)
{
	pthread_attr_t attr;
	size_t size;
	void *addr;

	(void)arg;
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		pthread_attr_getstack(&attr, &addr, &size);
		pthread_attr_destroy(&attr);
		t_lo = (uintptr_t)addr;
		t_hi = t_lo + size;
	}
	getcontext(&t_co);
	t_co.uc_stack.ss_sp = t_stack;
	t_co.uc_stack.ss_size = CO_STACK;
	t_co.uc_link = &t_main;
	makecontext(&t_co, t_coroutine, 0);
	swapcontext(&t_main, &t_co);
	return NULL;
}

static void run_co_thread(bool set, int ph, const char *what)
{
	pthread_t t;
	int ret;

	t_set = set;
	t_phase = ph;
	t_good[0] = t_good[1] = false;
	if (gch_pthread_create(&t, NULL, co_thread, NULL)) {
		ok(0, "gch_pthread_create");
		return;
	}
	wait_phase(ph);
	ret = collect();
	set_phase(ph + 1);
	pthread_join(t, NULL);
	ok(t_good[0], "a thread on %s collects, keeping its object", what);
	ok(ret == 0 && t_good[1], "its object survives another thread's collection");
}

static void test_thread_coroutine(void)
{
	t_stack = calloc(1, CO_STACK);
	if (!t_stack || gch_stack_add(t_stack, t_stack + CO_STACK) < 0) {
		ok(0, "gch_stack_add");
		return;
	}
	run_co_thread(false, 3, "a coroutine stack registered with gch_stack_add");
	gch_stack_remove(t_stack, t_stack + CO_STACK);
	memset(t_stack, 0, CO_STACK);
	run_co_thread(true, 5, "a coroutine stack given by gch_thread_set_stack");
	free(t_stack);
}

static int alt_ret = -1;
static bool alt_good;

static void alt_handler(int sig)
{
	struct obj *volatile o = co_alloc(7);

	(void)sig;
	alt_ret = collect();
	alt_good = alive(7, o);
}

static void test_sigaltstack(void)
{
	size_t size = 256 << 10;
	stack_t ss = { .ss_sp = calloc(1, size), .ss_size = size };
	struct sigaction sa;

	if (!ss.ss_sp || sigaltstack(&ss, NULL) < 0 ||
	    gch_stack_add(ss.ss_sp, (char *)ss.ss_sp + size) < 0) {
		ok(0, "sigaltstack and gch_stack_add (errno %d)", errno);
		return;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = alt_handler;
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	ok(alt_ret == 0 && alt_good,
	   "a handler on a registered sigaltstack collects, keeping its object (ret %d)", alt_ret);
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	gch_stack_remove(ss.ss_sp, (char *)ss.ss_sp + size);
}

int main(int argc, char **argv)
{
	links = calloc(16, sizeof(*links));
	nlinks = 16;
	if (!links || gch_init(NULL) < 0) {
		perror("roots: heap");
		return 1;
	}
	if (argc > 1 && !strcmp(argv[1], "optout"))
		return optout_child();
	first_object();
	ok(collect() == 0 && !links[8],
	   "the heap's first object dies: libgcheap's own variables are not roots");
	test_globals();
	test_optout(argv[0]);
	test_tls();
	test_coroutine();
	test_thread_coroutine();
	test_sigaltstack();
	return tap_done();
}
