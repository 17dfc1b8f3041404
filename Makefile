# SPDX-License-Identifier: GPL-2.0
#
# fewmul top-level Makefile. `make help` lists the targets.
#
# The kernel module itself is described by ./Kbuild; the module is built
# out of a copy of the sources under build/kmod-<target>/ so that the same
# checkout can hold builds for several kernels at once.

# The one place the version is written; Kbuild reads it too.
VERSION      := $(shell cat $(dir $(lastword $(MAKEFILE_LIST)))VERSION)
O            ?= build
PREFIX       ?= /usr/local
LIBDIR       ?= $(PREFIX)/lib
BINDIR       ?= $(PREFIX)/bin
SBINDIR      ?= $(PREFIX)/sbin
INCLUDEDIR   ?= $(PREFIX)/include
MANDIR       ?= $(PREFIX)/share/man
DESTDIR      ?=

# Kernel to build the module for: the running one when its headers are
# installed, otherwise the newest Debian 6.1 headers on the machine.
KVER ?= $(shell if [ -d /lib/modules/$$(uname -r)/build ]; then uname -r; \
	 else ls -d /lib/modules/6.1.*/build 2>/dev/null | sort -V | tail -1 | cut -d/ -f4; fi)
KDIR ?= /lib/modules/$(KVER)/build

CC           ?= gcc
NL_CFLAGS    := $(shell pkg-config --cflags libnl-genl-3.0 2>/dev/null)
NL_LIBS      := $(shell pkg-config --libs libnl-genl-3.0 2>/dev/null) -lz -lpthread -lm
# fewmulctl draws charts with cairo (fontconfig: its caches are released
# at exit, see userspace/fewmulctl/chart.c).
CAIRO_CFLAGS := $(shell pkg-config --cflags cairo fontconfig 2>/dev/null)
CAIRO_LIBS   := $(shell pkg-config --libs cairo fontconfig 2>/dev/null)
# fewmulctl export writes .npz (zip) archives with libzip.
ZIP_CFLAGS   := $(shell pkg-config --cflags libzip 2>/dev/null)
ZIP_LIBS     := $(shell pkg-config --libs libzip 2>/dev/null)
# fewmulctl predict reads PNG images with libpng.
PNG_CFLAGS   := $(shell pkg-config --cflags libpng 2>/dev/null)
PNG_LIBS     := $(shell pkg-config --libs libpng 2>/dev/null)
WARN         := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
		-Wmissing-prototypes -Wno-missing-field-initializers
US_CFLAGS    := -std=c11 -D_GNU_SOURCE -O2 -g $(WARN) -Iuapi \
		-Iuserspace/include -Iuserspace/lib -Ikmod/core $(NL_CFLAGS) $(CFLAGS)
SAN_FLAGS    := -fsanitize=address,undefined -fno-sanitize-recover=all \
		-fno-omit-frame-pointer

CORE_SRCS    := kmod/core/fewmul_rng.c kmod/core/fewmul_engine.c kmod/core/fewmul_fast.c \
		kmod/core/fewmul_step.c kmod/core/fewmul_simd.c
# Vector kernels: compiled for their instruction set, one object each, and
# linked wherever the core is (fewmul_simd.c refers to their tables).
ARCH         := $(shell uname -m)
ifeq ($(ARCH),x86_64)
SIMD_SRCS    := kmod/core/fewmul_avx2.c
SIMD_FLAGS   := -mavx2 -O3
US_CFLAGS    += -DFEWMUL_HAVE_AVX2
endif
ifeq ($(ARCH),aarch64)
SIMD_SRCS    := kmod/core/fewmul_neon.c
SIMD_FLAGS   := -O3
US_CFLAGS    += -DFEWMUL_HAVE_NEON
endif
SIMD_OBJS    := $(SIMD_SRCS:%.c=$(O)/simd/%.o)
SIMD_PIC     := $(SIMD_SRCS:%.c=$(O)/simd-pic/%.o)
SIMD_ASAN    := $(SIMD_SRCS:%.c=$(O)/simd-asan/%.o)
LIB_SRCS     := userspace/lib/device.c userspace/lib/genl.c userspace/lib/idx.c \
		userspace/lib/cpu.c userspace/lib/kernel.c userspace/lib/trainer.c \
		userspace/lib/modelfile.c userspace/lib/outfile.c userspace/lib/names.c \
		userspace/lib/simd.c \
		$(CORE_SRCS)
CTL_SRCS     := userspace/fewmulctl/fewmulctl.c userspace/fewmulctl/json.c \
		userspace/fewmulctl/options.c \
		userspace/fewmulctl/cmd_info.c userspace/fewmulctl/cmd_train.c \
		userspace/fewmulctl/cmd_count.c userspace/fewmulctl/cmd_bench.c \
		userspace/fewmulctl/cmd_eval.c userspace/fewmulctl/cmd_stats.c \
		userspace/fewmulctl/cmd_monitor.c userspace/fewmulctl/cmd_hist.c \
		userspace/fewmulctl/cmd_predict.c userspace/fewmulctl/cmd_plot.c \
		userspace/fewmulctl/chart.c userspace/fewmulctl/float_ref.c \
		userspace/fewmulctl/output.c userspace/fewmulctl/par_none.c \
		userspace/fewmulctl/cmd_export.c
HDRS         := $(wildcard uapi/linux/*.h userspace/include/*.h \
		  userspace/lib/*.h userspace/fewmulctl/*.h kmod/core/*.h)

LIB_PIC_OBJS := $(LIB_SRCS:%.c=$(O)/pic/%.o) $(SIMD_PIC)
LIB_OBJS     := $(LIB_SRCS:%.c=$(O)/obj/%.o) $(SIMD_OBJS)
CTL_OBJS     := $(CTL_SRCS:%.c=$(O)/obj/%.o)

SONAME       := libfewmul.so.0
KMOD_SRCS    := Kbuild VERSION $(wildcard kmod/*.c kmod/*.h kmod/*.mk kmod/core/*.c \
		  kmod/core/*.h uapi/linux/*.h tests/kunit/*.c tests/*.h)

.PHONY: all help print-kver print-version module-test module compat module-compat deb userspace mpi install-mpi bench-mpi deps deps-bench bench bench-sections test-kernel check \
	unit unit-arm64 selftests stress demo bench-guest install uninstall checkpatch clean fuzz fuzz-build mutants paper
.DEFAULT_GOAL := all

all: module userspace

help:
	@echo "Main jobs:"
	@echo "  make              module (for $(KVER)) and userspace"
	@echo "  make demo         the main job, in a virtme-ng guest"
	@echo "  make check        all tests: unit, fuzz, checkpatch, KUnit, selftests, guests"
	@echo "  make deps         install every Debian package needed (root)"
	@echo "  make install      library, CLI, headers, udev rule, man pages, DKMS"
	@echo "  make deb          Debian packages in $(O)/deb (fewmul-dkms, libfewmul0, -dev, fewmulctl)"
	@echo "  make uninstall    remove what make install put in place"
	@echo "Parts:"
	@echo "  make module       fewmul.ko against KDIR ($(KDIR))"
	@echo "  make module-test  fewmul.ko and the KUnit module against TEST_KDIR"
	@echo "  make userspace    libfewmul (shared, static, .pc) and fewmulctl"
	@echo "  make mpi          fewmulctl-mpi, data-parallel training over Open MPI"
	@echo "  make install-mpi  install fewmulctl-mpi and its manual page"
	@echo "  make test-kernel  build (or reuse) the cached KUnit/KASAN test kernel"
	@echo "  make unit         native unit tests only (ASan+UBSan)"
	@echo "  make unit-arm64   the core's tests (NEON kernels too) cross-built for arm64, under qemu-user"
	@echo "  make selftests    the kselftest binaries (KSRC=<kernel tree>)"
	@echo "  make fuzz         every libFuzzer harness for FUZZ_SECONDS (default 60)"
	@echo "  make fuzz-build   build the fuzzers without running them"
	@echo "  make checkpatch   checkpatch.pl --strict over kmod/ and uapi/"
	@echo "  make stress       random multi-process stress of the module in a guest (STRESS_OPS)"
	@echo "  make mutants      break the engine on purpose (tests/mutants/); every mutant must fail a test"
	@echo "  make paper        the paper's protocol, resumable (long; QUICK=1: minutes)"
	@echo "  make compat       the module against 6.1, 6.12, 6.12-rt, the newest linux-source and arm64"
	@echo "  make bench        engine throughput vs PyTorch float32 (make deps-bench)"
	@echo "  make deps-bench   PyTorch and OpenBLAS for make bench"
	@echo "  make bench-guest  kernel vs cpu backend throughput in one guest"
	@echo "  make bench-sections how long the vector (kernel_fpu) sections of a step run"
	@echo "  make bench-mpi    2 MPI ranks x 1 thread vs 1 process x 2 threads"
	@echo "  make print-kver   the kernel version make module builds for"
	@echo "  make print-version the project version"
	@echo "  make clean        remove $(O)/"

# --- kernel module --------------------------------------------------------

# $(call kmod_build,<name>,<kernel dir>)
define kmod_build
	@mkdir -p $(O)/kmod-$(1)
	@rsync -a --delete --exclude '*.o' --exclude '*.ko' --exclude '.*.cmd' \
		--exclude '*.mod*' --exclude 'Module.symvers' --exclude 'modules.order' \
		--include 'Kbuild' --include 'VERSION' --include 'kmod/***' --include 'uapi/***' \
		--include 'tests/' --include 'tests/kunit/***' --include 'tests/*.h' \
		--exclude '*' ./ $(O)/kmod-$(1)/
	$(MAKE) -C $(2) O= M=$(abspath $(O)/kmod-$(1)) KCFLAGS=-Werror $(COMPAT_MAKEFLAGS) modules
endef

module: $(O)/kmod-stock/fewmul.ko

$(O)/kmod-stock/fewmul.ko: $(KMOD_SRCS)
	@test -d $(KDIR) || { echo "no kernel headers in $(KDIR) (run: make deps)"; exit 1; }
	$(call kmod_build,stock,$(KDIR))

# Module and KUnit module for the test kernel (TEST_KDIR from check.sh).
module-test:
	$(call kmod_build,test,$(TEST_KDIR))

# The module against every supported kernel (scripts/compat-build.sh), and
# the one build it runs per kernel: build/kmod-compat-<COMPAT_NAME>/.
compat:
	@scripts/compat-build.sh

module-compat:
	$(call kmod_build,compat-$(COMPAT_NAME),$(COMPAT_KDIR))

# --- userspace ------------------------------------------------------------

userspace: $(O)/lib/libfewmul.so $(O)/lib/libfewmul.a $(O)/fewmulctl \
	   $(O)/lib/libfewmul.pc

# The core is built as the kernel builds it: no FPU or SIMD registers.
CORE_FLAGS   := -mgeneral-regs-only
$(O)/pic/kmod/core/%.o $(O)/obj/kmod/core/%.o: US_CFLAGS += $(CORE_FLAGS)

# FEWMUL_SHARED: the shared library's objects (symbol versions, genl.c)
$(O)/pic/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) -fPIC -fvisibility=hidden -DFEWMUL_SHARED -c -o $@ $<

$(O)/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) -fvisibility=hidden -c -o $@ $<

$(O)/simd/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) $(SIMD_FLAGS) -fvisibility=hidden -c -o $@ $<

$(O)/simd-pic/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) $(SIMD_FLAGS) -fPIC -fvisibility=hidden -c -o $@ $<

$(O)/simd-asan/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) $(SIMD_FLAGS) $(SAN_FLAGS) -c -o $@ $<

$(O)/lib/libfewmul.so: $(LIB_PIC_OBJS) userspace/lib/libfewmul.map
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,$(SONAME) \
		-Wl,--version-script=userspace/lib/libfewmul.map \
		-o $@.$(VERSION) $(LIB_PIC_OBJS) $(NL_LIBS) $(LDFLAGS)
	ln -sf libfewmul.so.$(VERSION) $(O)/lib/$(SONAME)
	ln -sf $(SONAME) $@

$(O)/lib/libfewmul.a: $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(O)/lib/libfewmul.pc: userspace/lib/libfewmul.pc.in Makefile
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|' $< >$@

$(CTL_OBJS): US_CFLAGS += $(CAIRO_CFLAGS) $(ZIP_CFLAGS) $(PNG_CFLAGS)

$(O)/fewmulctl: $(CTL_OBJS) $(O)/lib/libfewmul.a
	@test -n "$(CAIRO_LIBS)" || { echo "cairo or fontconfig not found by pkg-config (run: make deps)"; exit 1; }
	@test -n "$(ZIP_LIBS)" || { echo "libzip not found by pkg-config (run: make deps)"; exit 1; }
	@test -n "$(PNG_LIBS)" || { echo "libpng not found by pkg-config (run: make deps)"; exit 1; }
	$(CC) -o $@ $(CTL_OBJS) $(O)/lib/libfewmul.a $(NL_LIBS) $(CAIRO_LIBS) $(ZIP_LIBS) $(PNG_LIBS) $(LDFLAGS)

# fewmulctl-mpi: fewmulctl whose train runs as the ranks of an MPI job
# (Open MPI, make deps); the plain fewmulctl and libfewmul never need MPI.
MPI_CFLAGS   := $(shell pkg-config --cflags ompi-c 2>/dev/null)
MPI_LIBS     := $(shell pkg-config --libs ompi-c 2>/dev/null)
MPI_CTL_OBJS := $(filter-out $(O)/obj/userspace/fewmulctl/par_none.o,$(CTL_OBJS)) \
		$(O)/obj/userspace/fewmulctl/par_mpi.o

$(O)/obj/userspace/fewmulctl/par_mpi.o: US_CFLAGS += $(MPI_CFLAGS)
$(O)/obj/userspace/fewmulctl/par_mpi.o: userspace/fewmulctl/par_mpi.c $(HDRS)
	@test -n "$(MPI_LIBS)" || { echo "Open MPI not found by pkg-config (run: make deps)"; exit 1; }
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) -c -o $@ $<

$(O)/fewmulctl-mpi: $(MPI_CTL_OBJS) $(O)/lib/libfewmul.a
	$(CC) -o $@ $(MPI_CTL_OBJS) $(O)/lib/libfewmul.a $(NL_LIBS) $(CAIRO_LIBS) $(ZIP_LIBS) $(PNG_LIBS) $(MPI_LIBS) $(LDFLAGS)

mpi: $(O)/fewmulctl-mpi

# 2 ranks x 1 thread against 1 process x 2 threads (Documentation/scaling.rst)
bench-mpi: $(O)/fewmulctl $(O)/fewmulctl-mpi
	@scripts/bench-mpi.sh $(O)

# --- tests ----------------------------------------------------------------

UNIT_TESTS := $(O)/asan/test_core $(O)/asan/test_engine $(O)/asan/test_numerics $(O)/asan/test_simd $(O)/asan/test_lib $(O)/asan/test_idx $(O)/asan/test_trainer $(O)/asan/test_dp $(O)/asan/test_dp_kernel $(O)/asan/test_modelfile $(O)/asan/test_cli \
	      $(O)/asan/test_simd_cli $(O)/asan/test_golden $(O)/asan/test_version $(O)/asan/test_export \
	      $(O)/asan/test_docs

# Tests of the core alone, and tests of the library (core included).
CORE_TESTS   := $(O)/asan/test_core $(O)/asan/test_engine $(O)/asan/test_numerics \
		$(O)/asan/test_simd
LIB_TESTS    := $(O)/asan/test_lib $(O)/asan/test_idx $(O)/asan/test_trainer $(O)/asan/test_dp \
		$(O)/asan/test_modelfile

$(CORE_TESTS): $(O)/asan/%: tests/unit/%.c $(CORE_SRCS) $(HDRS) tests/*.h tests/unit/*.h $(SIMD_ASAN)
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) $(SAN_FLAGS) -Itests -o $@ $< $(CORE_SRCS) $(SIMD_ASAN) -lm

$(LIB_TESTS): $(O)/asan/%: tests/unit/%.c $(LIB_SRCS) $(HDRS) tests/unit/*.h $(SIMD_ASAN)
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) $(SAN_FLAGS) -Itests -Iuserspace/lib -o $@ $< $(LIB_SRCS) $(SIMD_ASAN) $(NL_LIBS)

# test_dp with kernel-backend processes on the stand-in module (fakedev.h)
$(O)/asan/test_dp_kernel: tests/unit/test_dp.c $(LIB_SRCS) $(HDRS) tests/unit/*.h $(SIMD_ASAN)
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) $(SAN_FLAGS) -DFEWMUL_TEST_DP_KERNEL -Itests -Iuserspace/lib -o $@ $< \
		$(LIB_SRCS) $(SIMD_ASAN) $(NL_LIBS)

$(O)/asan/fewmulctl: $(CTL_SRCS) $(LIB_SRCS) $(HDRS) $(SIMD_ASAN)
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) $(CAIRO_CFLAGS) $(ZIP_CFLAGS) $(PNG_CFLAGS) $(SAN_FLAGS) -o $@ $(CTL_SRCS) $(LIB_SRCS) \
		$(SIMD_ASAN) $(NL_LIBS) $(CAIRO_LIBS) $(ZIP_LIBS) $(PNG_LIBS)

# Shell tests of the ASan build of fewmulctl.
$(O)/asan/test_cli $(O)/asan/test_golden $(O)/asan/test_simd_cli $(O)/asan/test_version \
		$(O)/asan/test_export $(O)/asan/test_docs: $(O)/asan/%: \
		tests/unit/%.sh $(O)/asan/fewmulctl
	install -m 755 $< $@

unit: $(UNIT_TESTS)
	@tests/run-unit.sh $(O)/asan $(notdir $(UNIT_TESTS))

# The core's tests cross-compiled for arm64 (NEON kernels included) and
# run under qemu-user: make deps installs gcc-aarch64-linux-gnu and
# qemu-user. LeakSanitizer cannot run under qemu-user; ASan and UBSan do.
ARM64_CC     := aarch64-linux-gnu-gcc
ARM64_SYSROOT := /usr/aarch64-linux-gnu
ARM64_TESTS  := $(CORE_TESTS:$(O)/asan/%=$(O)/arm64/%)

$(ARM64_TESTS): $(O)/arm64/%: tests/unit/%.c $(CORE_SRCS) kmod/core/fewmul_neon.c $(HDRS) \
		tests/*.h tests/unit/*.h
	@mkdir -p $(dir $@)
	$(ARM64_CC) $(filter-out $(NL_CFLAGS) -DFEWMUL_HAVE_AVX2,$(US_CFLAGS)) -DFEWMUL_HAVE_NEON \
		$(SAN_FLAGS) -Itests -o $@ $< $(CORE_SRCS) kmod/core/fewmul_neon.c -lm

unit-arm64: $(ARM64_TESTS)
	@ASAN_DETECT_LEAKS=0 FEWMUL_RUN="qemu-aarch64 -L $(ARM64_SYSROOT)" \
		tests/run-unit.sh $(O)/arm64 $(notdir $(ARM64_TESTS))

# kselftest-harness selftests; the harness header comes from the kernel
# source tree (KSRC: the test kernel tree, or any linux-source-6.1 tree).
$(O)/selftests/%: tests/selftests/%.c tests/selftests/pins.h tests/selftests/ioc.h uapi/linux/fewmul.h
	@test -n "$(KSRC)" || { echo "KSRC= (a kernel source tree) is required"; exit 1; }
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -Wall -Werror -D_GNU_SOURCE -Iuapi \
		-I$(KSRC)/tools/testing/selftests -o $@ $< -lpthread

selftests: $(O)/selftests/fewmul_test $(O)/selftests/fewmul_train_test

# Random stress of the module (tests/stress/): STRESS_OPS operations from
# several processes and threads, in a guest. `make stress` runs the full
# million on the stock kernel (STRESS_KERNEL=<bzImage> and
# STRESS_KMOD=<dir of fewmul.ko> for the debug kernel); results in
# $(O)/results/stress/.
STRESS_OPS    ?= 1000000
STRESS_SEED   ?= 1
STRESS_ARGS   ?= -p 3 -t 3
STRESS_KERNEL ?= $(lastword $(sort $(wildcard /boot/vmlinuz-6.1.*-amd64)))
STRESS_KMOD   ?= $(O)/kmod-stock

$(O)/stress/fewmul_stress: tests/stress/fewmul_stress.c tests/selftests/pins.h tests/selftests/ioc.h uapi/linux/fewmul.h
	@mkdir -p $(dir $@)
	$(CC) -O2 -g $(WARN) -D_GNU_SOURCE -Iuapi -o $@ $< -lpthread

stress: module $(O)/stress/fewmul_stress
	scripts/run-guest.sh $(STRESS_KERNEL) $(O)/results/stress \
		tests/stress/run.sh $(abspath $(STRESS_KMOD)) \
		$(abspath $(O)/stress/fewmul_stress) $(abspath $(O)/results/stress) \
		-n $(STRESS_OPS) -s $(STRESS_SEED) $(STRESS_ARGS)

# libFuzzer harnesses (clang), ASan+UBSan; `make fuzz` runs each for
# FUZZ_SECONDS (default 60) and keeps its corpus in build/fuzz/corpus-*.
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_FLAGS   := -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -Iuapi -Iuserspace/include -Iuserspace/lib \
		-Iuserspace/fewmulctl -Ikmod/core $(NL_CFLAGS)
FUZZERS      := $(O)/fuzz/fuzz_idx $(O)/fuzz/fuzz_model $(O)/fuzz/fuzz_args \
		$(O)/fuzz/fuzz_files
$(O)/fuzz/fuzz_args $(O)/fuzz/fuzz_files: $(O)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c \
		$(LIB_SRCS) $(CTL_SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -Dmain=fewmulctl_main -o $@ $< $(LIB_SRCS) $(CTL_SRCS) \
		$(CAIRO_CFLAGS) $(ZIP_CFLAGS) $(PNG_CFLAGS) $(NL_LIBS) $(CAIRO_LIBS) $(ZIP_LIBS) $(PNG_LIBS)

$(O)/fuzz/%: tests/fuzz/%.c $(LIB_SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(LIB_SRCS) $(NL_LIBS)

fuzz: $(FUZZERS)
	@tests/fuzz/run.sh $(O)/fuzz $(FUZZ_SECONDS)

# Build every harness without running it (make check runs them briefly).
fuzz-build: $(FUZZERS)

check:
	@scripts/check.sh

# Mutation testing (about 1 minute per mutant: a scratch copy, an ASan
# build of the engine tests, a run); not part of make check.
mutants:
	@scripts/mutants.sh

# The paper's protocol on the cpu backend (scripts/paper.sh: hours to
# days; QUICK=1 runs the same plan on a slice). Not part of make check.
paper: userspace
	@scripts/paper.sh

print-kver:
	@echo $(KVER)

print-version:
	@echo $(VERSION)

demo:
	@scripts/demo.sh

deps:
	@scripts/deps.sh

# PyTorch (Debian's python3-torch) on OpenBLAS for the float32 reference
# of `make bench`; not needed by anything else.
deps-bench: deps
	@DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		python3-torch libopenblas0-openmp

# Training throughput on the seed's MNIST net, batch 200, 1 and 2 threads.
bench: userspace
	$(O)/fewmulctl bench --threads 1,2

# Lengths of the vector sections (kernel_fpu/kernel_neon sections in the
# module), measured on the same code in userspace, one thread.
# The core as the kernel compiles it (general registers only), plus timing.
$(O)/bench/core-timing.o: $(CORE_SRCS) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) $(CORE_FLAGS) -DFEWMUL_SIMD_TIMING -r -nostdlib -o $@ $(CORE_SRCS)

$(O)/bench/sections: tests/bench/sections.c $(O)/bench/core-timing.o $(SIMD_OBJS) $(HDRS) \
		tests/unit/model_buf.h
	$(CC) $(US_CFLAGS) -DFEWMUL_SIMD_TIMING -Itests -o $@ $< $(O)/bench/core-timing.o \
		$(SIMD_OBJS) -lm

bench-sections: $(O)/bench/sections
	$(O)/bench/sections

# Kernel backend vs cpu backend, same guest (Debian's stock kernel), same run.
bench-guest:
	@scripts/bench-guest.sh

test-kernel:
	@scripts/build-test-kernel.sh

checkpatch:
	@scripts/checkpatch.sh

# Debian packages (debian/) into build/deb/, then lintian over them.
deb:
	@scripts/deb-build.sh

# --- install --------------------------------------------------------------

install: userspace
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(LIBDIR)/pkgconfig \
		$(DESTDIR)$(BINDIR) $(DESTDIR)$(INCLUDEDIR)/linux \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)/usr/lib/udev/rules.d \
		$(DESTDIR)/usr/lib/sysusers.d $(DESTDIR)/usr/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/fewmul
	install -m 755 $(O)/lib/libfewmul.so.$(VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libfewmul.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libfewmul.so
	install -m 644 $(O)/lib/libfewmul.a $(DESTDIR)$(LIBDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@VERSION@|$(VERSION)|' \
		userspace/lib/libfewmul.pc.in >$(DESTDIR)$(LIBDIR)/pkgconfig/libfewmul.pc
	install -m 755 $(O)/fewmulctl $(DESTDIR)$(BINDIR)/
	install -m 644 userspace/include/libfewmul.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 uapi/linux/fewmul.h $(DESTDIR)$(INCLUDEDIR)/linux/
	install -m 644 userspace/fewmulctl/fewmulctl.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 644 userspace/lib/libfewmul.3 $(DESTDIR)$(MANDIR)/man3/
	install -m 644 packaging/60-fewmul.rules $(DESTDIR)/usr/lib/udev/rules.d/
	install -m 644 packaging/fewmul.sysusers $(DESTDIR)/usr/lib/sysusers.d/fewmul.conf
	install -m 644 packaging/completion/fewmulctl $(DESTDIR)/usr/share/bash-completion/completions/
	install -m 644 userspace/bench/torch_mlp.py $(DESTDIR)$(PREFIX)/share/fewmul/
	install -m 644 Documentation/export_infer.py Documentation/export_example.c \
		$(DESTDIR)$(PREFIX)/share/fewmul/
	@if [ -z "$(DESTDIR)" ]; then scripts/dkms-install.sh $(VERSION); \
	 else echo "DESTDIR set: skipping DKMS registration"; fi

# fewmulctl-mpi and its manual page (not part of install: it needs MPI)
install-mpi: mpi
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 755 $(O)/fewmulctl-mpi $(DESTDIR)$(BINDIR)/
	install -m 644 userspace/fewmulctl/fewmulctl-mpi.8 $(DESTDIR)$(MANDIR)/man8/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/fewmulctl-mpi $(DESTDIR)$(MANDIR)/man8/fewmulctl-mpi.8
	rm -f $(DESTDIR)$(LIBDIR)/libfewmul.so* $(DESTDIR)$(LIBDIR)/libfewmul.a \
	      $(DESTDIR)$(LIBDIR)/pkgconfig/libfewmul.pc $(DESTDIR)$(BINDIR)/fewmulctl \
	      $(DESTDIR)$(INCLUDEDIR)/libfewmul.h $(DESTDIR)$(INCLUDEDIR)/linux/fewmul.h \
	      $(DESTDIR)$(MANDIR)/man8/fewmulctl.8 $(DESTDIR)$(MANDIR)/man3/libfewmul.3 \
	      $(DESTDIR)/usr/lib/udev/rules.d/60-fewmul.rules \
	      $(DESTDIR)/usr/lib/sysusers.d/fewmul.conf \
	      $(DESTDIR)/usr/share/bash-completion/completions/fewmulctl
	rm -rf $(DESTDIR)$(PREFIX)/share/fewmul
	-dkms remove fewmul/$(VERSION) --all 2>/dev/null

clean:
	rm -rf $(O)
