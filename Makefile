# gcheap: kernel module (kmod/), user library (userlib/), tests (tests/).
#
#   make              module against KDIR, plus libgcheap.{so,a}
#   make run          the demo inside a VM running Debian's 6.1 kernel
#   make check        every test: lint, KUnit, user tests on three kernels
#   make soak         long stress runs (not part of check): the user tests
#                     at soak length and a million fuzzer operations
#   make bench        benchmarks in a VM: allocation throughput (gcheap,
#                     malloc, libgc), how pages reach the process, what
#                     the write barrier costs a store, GCBench and a pause
#                     test (gcheap in both modes, libgc, Go)
#   make install      library, header and pkg-config file under PREFIX
#   make dkms-install the module's sources under /usr/src, built by DKMS
#
# KDIR defaults to the running kernel's build directory, else the newest
# Debian headers installed here.

KDIR ?= $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) \
	  $(lastword $(sort $(wildcard /usr/src/linux-headers-*-amd64))))
PREFIX ?= /usr/local
CC ?= cc
CFLAGS ?= -O2 -g
GCH_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I. -Iuserlib/include
OBJ := build/obj

LIB_SRC := $(wildcard userlib/*.c)
LIB_PIC := $(LIB_SRC:userlib/%.c=$(OBJ)/pic/%.o)
LIB_OBJ := $(LIB_SRC:userlib/%.c=$(OBJ)/static/%.o)
LIB_HDR := $(wildcard userlib/*.h userlib/include/*.h) uapi/gcheap.h

TEST_SRC := $(wildcard tests/user/*.c)
TEST_BIN := $(patsubst tests/user/%.c,build/tests/%,$(filter-out tests/user/tap.c tests/user/rootsmod.c,$(TEST_SRC)))
ifeq ($(shell uname -m),x86_64)
TEST_BIN += build/abi32/abi32
endif
DEMO_BIN := build/demo
# The device fuzzer: booted on its own (tests/check's fuzz phase), not with tests/user.
FUZZ_BIN := build/fuzz/fuzz

.PHONY: all module lib tests clean check run soak deps lint install bench bench-spike dkms-install

all: module lib

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

lib: userlib/libgcheap.a userlib/libgcheap.so build/libgcheap.abi-checked

$(OBJ)/pic/%.o: userlib/%.c $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(GCH_CFLAGS) -fPIC -fvisibility=hidden -c -o $@ $<

$(OBJ)/static/%.o: userlib/%.c $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(GCH_CFLAGS) -fvisibility=hidden -c -o $@ $<

userlib/libgcheap.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

userlib/libgcheap.so: $(LIB_PIC) userlib/libgcheap.map
	$(CC) -shared -Wl,-soname,libgcheap.so.0 -Wl,--version-script=userlib/libgcheap.map \
		-o $@ $(LIB_PIC) -pthread

# Every export versioned, no __tls_get_addr (tests/lib-abi); fails the build.
build/libgcheap.abi-checked: userlib/libgcheap.so tests/lib-abi
	tests/lib-abi userlib/libgcheap.so
	@mkdir -p $(@D) && touch $@

tests: $(TEST_BIN) $(DEMO_BIN) $(FUZZ_BIN)

# A 32-bit x86 caller, freestanding so that no 32-bit libc is needed; run
# by build/tests/abi where the kernel runs 32-bit programs.
build/abi32/abi32: tests/abi32/abi32.c uapi/gcheap.h
	@mkdir -p $(@D)
	$(CC) -m32 -std=c11 -O2 -ffreestanding -nostdlib -static -fno-pic -fno-stack-protector \
		-Wall -Wextra -Werror -I. -I/usr/include/$(shell $(CC) -dumpmachine) -o $@ $<

build/tests/%: tests/user/%.c tests/user/tap.c tests/user/tap.h tests/user/knob.h tests/user/cgroup.h \
		userlib/libgcheap.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(GCH_CFLAGS) -o $@ $< tests/user/tap.c userlib/libgcheap.a -pthread

# The library the roots test dlopen()s; not in build/tests, where every
# executable is a test.
build/tests/roots: build/testlib/rootsmod.so

build/testlib/rootsmod.so: tests/user/rootsmod.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(GCH_CFLAGS) -shared -fPIC -o $@ $<

build/fuzz/%: tests/fuzz/%.c tests/user/tap.c tests/user/tap.h userlib/libgcheap.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(GCH_CFLAGS) -Itests/user -o $@ $< tests/user/tap.c userlib/libgcheap.a -pthread

$(DEMO_BIN): tests/demo/demo.c userlib/libgcheap.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(GCH_CFLAGS) -o $@ $< userlib/libgcheap.a -pthread

deps:
	tests/vm/install-deps

lint:
	tests/vm/lint

check:
	tests/check

run:
	tests/vm/install-deps
	$(MAKE) lib tests
	tests/vm/build-module deb61
	tests/vm/run deb61 -- $(CURDIR)/$(DEMO_BIN)

soak:
	tests/check --soak

BENCH_BIN := build/bench/alloc build/bench/fault build/bench/wbstore
GCBENCH_BIN := build/bench/gcbench-gcheap build/bench/gcbench-gcheap-conc \
	       build/bench/gcbench-libgc build/bench/gcbench-go
PAUSETEST_BIN := build/bench/pausetest-gcheap-conc build/bench/pausetest-gcheap \
		 build/bench/pausetest-libgc build/bench/pausetest-go
SPIKE_BIN := build/bench/spike-gcheap build/bench/spike-libgc build/bench/spike-go

build/bench/%: tests/bench/%.c userlib/libgcheap.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(GCH_CFLAGS) -o $@ $< userlib/libgcheap.a -lgc -pthread

# GCBench: one source against gcheap's gc.h and against Debian's libgc.
build/bench/gcbench-gcheap: tests/bench/gcbench.c userlib/libgcheap.a $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(GCH_CFLAGS) -DGCBENCH_GCHEAP -DGCBENCH_IMPL='"gcheap"' -o $@ $< \
		userlib/libgcheap.a -pthread

build/bench/gcbench-gcheap-conc: tests/bench/gcbench.c userlib/libgcheap.a $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(GCH_CFLAGS) -DGCBENCH_GCHEAP -DGCBENCH_CONCURRENT \
		-DGCBENCH_IMPL='"gcheap-concurrent"' -o $@ $< userlib/libgcheap.a -pthread

# The pause test: one source for gcheap (both modes) and libgc, and Go's.
build/bench/pausetest-gcheap: tests/bench/pausetest.c userlib/libgcheap.a $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(GCH_CFLAGS) -o $@ $< userlib/libgcheap.a -pthread

build/bench/pausetest-gcheap-conc: tests/bench/pausetest.c userlib/libgcheap.a $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(GCH_CFLAGS) -DPT_CONCURRENT -o $@ $< userlib/libgcheap.a -pthread

build/bench/pausetest-libgc: tests/bench/pausetest.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -DPT_LIBGC -o $@ $< -lgc -pthread

build/bench/pausetest-go: tests/bench/pausetest.go
	@mkdir -p $(@D)
	cd tests/bench && GOCACHE=$(CURDIR)/build/gocache GOPATH=$(CURDIR)/build/gopath \
		GO111MODULE=off go build -o $(CURDIR)/$@ pausetest.go

# Memory through a 512 MiB spike: gcheap, libgc (unmapping on and off), Go.
build/bench/spike-gcheap: tests/bench/spike.c userlib/libgcheap.a $(LIB_HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(GCH_CFLAGS) -o $@ $< userlib/libgcheap.a -pthread

build/bench/spike-libgc: tests/bench/spike.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -DSPIKE_LIBGC -o $@ $< -lgc

build/bench/spike-go: tests/bench/spike.go
	@mkdir -p $(@D)
	cd tests/bench && GOCACHE=$(CURDIR)/build/gocache GOPATH=$(CURDIR)/build/gopath \
		GO111MODULE=off go build -o $(CURDIR)/$@ spike.go

# Not GCH_CFLAGS: its -Iuserlib/include would pick gcheap's gc.h over libgc's.
build/bench/gcbench-libgc: tests/bench/gcbench.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -DGCBENCH_IMPL='"libgc"' \
		-o $@ $< -lgc

# Go needs a cache directory even where HOME is unset.
build/bench/gcbench-go: tests/bench/gcbench.go
	@mkdir -p $(@D)
	cd tests/bench && GOCACHE=$(CURDIR)/build/gocache GOPATH=$(CURDIR)/build/gopath \
		GO111MODULE=off go build -o $(CURDIR)/$@ gcbench.go

# Every benchmark in one boot, so their numbers come from one VM run.
# PAUSETEST_MB and PAUSETEST_SECONDS size the pause test (256 MiB, 10 s).
bench: $(BENCH_BIN) $(GCBENCH_BIN) $(PAUSETEST_BIN)
	tests/vm/install-deps
	tests/vm/build-module deb61
	tests/vm/run $(if $(GCHEAP_BENCH_SCALE),--env GCHEAP_BENCH_SCALE=$(GCHEAP_BENCH_SCALE)) \
		$(if $(GCHEAP_BENCH_SIZES),--env GCHEAP_BENCH_SIZES=$(GCHEAP_BENCH_SIZES)) \
		$(if $(PAUSETEST_MB),--env PAUSETEST_MB=$(PAUSETEST_MB)) \
		$(if $(PAUSETEST_SECONDS),--env PAUSETEST_SECONDS=$(PAUSETEST_SECONDS)) \
		--deadline 3600 deb61 -- \
		/bin/sh -c '$(CURDIR)/build/bench/fault && $(CURDIR)/build/bench/wbstore && \
		$(CURDIR)/build/bench/alloc && \
		$(CURDIR)/tests/bench/gcbench-report $(addprefix $(CURDIR)/,$(GCBENCH_BIN) \
			$(PAUSETEST_BIN))'

# The spike, every implementation in one boot; samples in build/bench/spike.log,
# the plot in build/bench/spike.svg. SPIKE_SECONDS: how long after the drop (30).
bench-spike: $(SPIKE_BIN)
	tests/vm/install-deps
	tests/vm/build-module deb61
	tests/vm/run $(if $(SPIKE_SECONDS),--env SPIKE_SECONDS=$(SPIKE_SECONDS)) \
		--deadline 3600 deb61 -- \
		$(CURDIR)/tests/bench/spike-run $(CURDIR)/build/bench/spike-gcheap \
		$(CURDIR)/build/bench/spike-libgc \
		'env GC_UNMAP_THRESHOLD=0 $(CURDIR)/build/bench/spike-libgc' \
		$(CURDIR)/build/bench/spike-go | tee build/bench/spike.log
	tests/bench/gcbench-report - < build/bench/spike.log
	tests/bench/spike-plot build/bench/spike.log > build/bench/spike.svg

install: lib
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 userlib/libgcheap.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 userlib/libgcheap.so $(DESTDIR)$(PREFIX)/lib/libgcheap.so.0
	ln -sf libgcheap.so.0 $(DESTDIR)$(PREFIX)/lib/libgcheap.so
	install -d $(DESTDIR)$(PREFIX)/include/gc
	install -m 644 userlib/include/gcheap.h userlib/include/gc.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 userlib/include/gc/gc.h $(DESTDIR)$(PREFIX)/include/gc/
	sed 's|@PREFIX@|$(PREFIX)|' userlib/gcheap.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/gcheap.pc
	install -d $(DESTDIR)$(PREFIX)/share/man/man3 $(DESTDIR)$(PREFIX)/share/man/man4
	install -m 644 man/*.3 $(DESTDIR)$(PREFIX)/share/man/man3/
	install -m 644 man/*.4 $(DESTDIR)$(PREFIX)/share/man/man4/

DKMS_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' dkms.conf)
DKMS_SRC := $(DESTDIR)/usr/src/gcheap-$(DKMS_VERSION)

# Only the sources: DKMS builds them for every installed kernel.
dkms-install:
	install -d $(DKMS_SRC)/kmod $(DKMS_SRC)/uapi
	install -m 644 Kbuild dkms.conf $(DKMS_SRC)/
	install -m 644 $(filter-out %.mod.c,$(wildcard kmod/*.[ch])) kmod/Kbuild $(DKMS_SRC)/kmod/
	install -m 644 uapi/gcheap.h $(DKMS_SRC)/uapi/
	dkms add -m gcheap -v $(DKMS_VERSION)
	dkms build -m gcheap -v $(DKMS_VERSION) && dkms install -m gcheap -v $(DKMS_VERSION)

clean:
	-[ -d "$(KDIR)" ] && $(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf build userlib/libgcheap.a userlib/libgcheap.so
