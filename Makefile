# vigil — the one entry point.
#
#   make [BOARD=name]   static, stripped vigild for a board (default: host)
#   make all-boards     vigild for every board
#   make run            build and run vigild on this machine (foreground)
#   make check          everything the CI runs; ends with "N passed, N failed"
#   make fuzz           long fuzzing runs (FUZZ_SECONDS each, default 600)
#   make fuzz-long      every fuzz target for 10 million executions
#   make bench          benchmarks against reference implementations
#   make size           vigild's size per board, by part (vigil, mbedTLS, musl)
#   make hot-order      firmware/agent/hot.ld: the functions a backup runs
#   make soak           long forms of tests (the exporter with 500 agents,
#                       the full reliability campaign: docs/reliability.md)
#   make campaign       the reliability campaign alone (VIGIL_CAMPAIGN=short|full)
#   make sessfuzz       the stateful fuzzer of vigil-backupd's sessions (ASan build)
#   make suite-asan     the integration suite against ASan builds of the servers
#   make suite-valgrind the integration suite with the servers under valgrind
#   make image          the board's appliance image in build/image/BOARD
#   make boot           boot a qemu board's image, console on this terminal
#   make toolchain      packages + musl sysroots + mbedTLS (cached)
#   make clean          remove build/ (the toolchain cache stays)
#
# Every target installs the Debian packages it needs and builds the
# toolchain first (toolchain/README.md).  V=1 shows the commands.

.DEFAULT_GOAL := all
BOARD ?= host
BOARDS := host qemu-x86_64 qemu-aarch64 qemu-armv7 rpi4 bbb
# Boards whose image/build.sh recipe boots under qemu-system (tests/e2e).
QEMU_BOARDS := qemu-x86_64 qemu-aarch64 qemu-armv7
IMAGE_BOARDS := $(QEMU_BOARDS) rpi4 bbb
TEST_ARCHES := x86_64 aarch64 armv7
VERSION := 0.1.0
# Reproducible builds: the build date in vigild and every time stamp in an
# image come from the last commit, unless the caller sets it.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null)
export SOURCE_DATE_EPOCH
FUZZ_SECONDS ?= 600
Q := $(if $(V),,@)

# ---- toolchain (cached outside the tree, keyed by its recipe) ----
VIGIL_CACHE ?= $(HOME)/.cache/vigil
TC_RECIPE := toolchain/build.sh toolchain/fetch-sources.sh \
	toolchain/sources.sha256 toolchain/vigil_mbedtls_config.h
TC_HASH := $(shell cat $(TC_RECIPE) 2>/dev/null | sha256sum | cut -c1-12)
TC_DIR := $(VIGIL_CACHE)/toolchain-$(TC_HASH)
TC_STAMP := $(TC_DIR)/.done
musl_cc = $(TC_DIR)/musl/$(1)/bin/musl-gcc

# ---- flags ----
# The board link writes a map beside the binary (make size reads the one
# of the link without LTO, build/<board>/nolto/vigild.map).
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wvla -Wlogical-op \
	-Wconversion
CSTD := -std=c11 -D_POSIX_C_SOURCE=200809L
# INCLUDES BOARD MBEDTLS-TARGET; mbed_libs MBEDTLS-TARGET (toolchain/README.md)
INCLUDES = -Ihal/include $(FW_INCLUDES) -Iprotocol -Iboard/$(1) -Ibuild/gen \
	-Itoolchain -DMBEDTLS_CONFIG_FILE='"vigil_mbedtls_config.h"' \
	-I$(TC_DIR)/mbedtls/$(2)/include
mbed_libs = -L$(TC_DIR)/mbedtls/$(1)/lib -lmbedtls -lmbedx509 -lmbedcrypto
# No unwind tables: vigild is C without exceptions or backtraces, and
# .eh_frame was 27 KB of its file on aarch64 (mbedTLS's another 32 KB:
# toolchain/build.sh builds it the same way).
TARGET_CFLAGS := -Os -ffunction-sections -fdata-sections \
	-fno-asynchronous-unwind-tables -fno-unwind-tables
# Link-time optimization across vigil and mbedTLS (whose archives hold
# LTO and plain code, toolchain/build.sh): 27 KB less on aarch64.  The
# link gets the board's CFLAGS too: code generation happens there.  One
# partition: the whole program is optimized as one unit, and lto-wrapper
# does not warn about serial jobs.
TARGET_LTO := -flto -flto-partition=one
# norelro: a static non-PIE musl program never mprotects its RELRO range
# (only the dynamic linker does), so the page padding for it is waste.
# common-page-size=64: with the page size as common page size, ld may
# start the data segment on a fresh page to save one page of memory
# (of .bss, which costs nothing until touched) and pad the file up to
# 4 KiB for it: the "4 KiB steps" vigild's size moved in (776 B of
# padding on aarch64 when this was set).
TARGET_LDFLAGS := -static -Wl,--gc-sections -Wl,-z,norelro \
	-Wl,-z,common-page-size=64 -s -Wl,-Map=$$@.map
# vigild's link puts the functions a backup runs first and together
# (firmware/agent/hot.ld, written by make hot-order): the kernel maps code
# in 64 KiB windows around each fault, so this keeps the code resident
# during a backup to those windows (hal_mem_drop_code; docs/architecture.md).
VIGILD_LDFLAGS := -Wl,-T,firmware/agent/hot.ld
TEST_CFLAGS := -O1 -g -Itests/unit
ASAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer

# ---- sources ----
HAL_LINUX := $(wildcard hal/linux/*.c)
# The sim shares the Linux text code of addresses and interface states
# and the CPU feature query (no system calls in them).
HAL_SIM := $(wildcard hal/sim/*.c) hal/linux/net_addr.c hal/linux/netif_text.c \
	hal/linux/cpu.c
# cksum_crc and the SHA-256 block function have one implementation per
# arch (protocol/<m>_<arch>.c, else <m>_generic.c); exactly one of each is
# linked, like musl's arch directories.
ARCH_MODS := cksum sha256
PROTO_ARCH := $(foreach m,$(ARCH_MODS),$(wildcard protocol/$(m)_generic.c \
	protocol/$(m)_x86_64.c protocol/$(m)_aarch64.c))
PROTO_COMMON := $(filter-out $(PROTO_ARCH),$(wildcard protocol/*.c))
proto = $(PROTO_COMMON) $(foreach m,$(ARCH_MODS),\
	$(or $(wildcard protocol/$(m)_$(1).c),$(wildcard protocol/$(m)_generic.c)))
HOST_ARCH := $(shell uname -m)
# vigild is lib/ (shared with vigil-backupd) plus firmware/<subsystem>/.
FW_DIRS := lib $(sort $(dir $(wildcard firmware/*/*.c)))
FW_DIRS := $(patsubst %/,%,$(FW_DIRS))
# Each folder sees only the folders layers.mk allows; protocol/ and hal/
# see none of them; code outside (tests, tools, the server) sees every
# folder.  Expanded per source file
# when its recipe runs ($$< is the source).
include layers.mk
fw_dirs_for = $(if $(filter $(1),$(FW_DIRS)),$(1) $(LAYER_$(1)),\
	$(if $(filter protocol hal/%,$(1)),,$(FW_DIRS)))
fw_inc = $(addprefix -I,$(call fw_dirs_for,$(patsubst %/,%,$(dir $(1)))))
FW_INCLUDES = $$(call fw_inc,$$<)
# firmware/agent/libc_vfprintf.c replaces musl's vfprintf (lib/fmt.h),
# libc_gmtime.c its gmtime_r (lib/tz.h, keeps musl's TZ reader out),
# mbedtls_no_tls13_server.c mbedTLS's TLS 1.3 server (vigild serves only
# DTLS 1.2): only in the static board links of vigild, never under a
# host libc nor in vigil-backupd.
VIGILD_ONLY := firmware/agent/main.c firmware/agent/libc_vfprintf.c \
	firmware/agent/libc_gmtime.c firmware/agent/mbedtls_no_tls13_server.c
FW_LIB := $(filter-out $(VIGILD_ONLY),$(wildcard lib/*.c firmware/*/*.c))
UNIT_ALL := $(wildcard tests/unit/*_test.c)
UNIT_LINUX_ONLY := $(wildcard tests/unit/linux_*_test.c)
UNIT_CONTRACT := $(wildcard tests/unit/hal_*_test.c)
# Module tests and sim_* tests run on the sim; hal_* contract tests on both.
unit_sim_srcs = tests/unit/runner.c tests/unit/test_env_sim.c tests/unit/test_util.c \
	$(filter-out $(UNIT_LINUX_ONLY),$(UNIT_ALL)) $(FW_LIB) $(call proto,$(1)) $(HAL_SIM)
# linux_walk_test runs the backup walk over hal/linux's directory reads.
UNIT_LINUX_SRCS := tests/unit/runner.c tests/unit/test_env_linux.c \
	$(UNIT_CONTRACT) $(UNIT_LINUX_ONLY) $(HAL_LINUX) \
	firmware/backup/backup_walk.c lib/mem.c
vigild_srcs = $(VIGILD_ONLY) $(FW_LIB) $(call proto,$(1)) $(HAL_LINUX)
TOOL_NAMES := $(basename $(notdir $(wildcard tests/tools/*.c)))
FUZZ_NAMES := $(basename $(notdir $(wildcard tests/fuzz/*_fuzz.c)))

objs = $(patsubst %.c,$(1)/obj/%.o,$(2))

# ---- per-board settings: board/<name>/board.mk ----
define load_board
include board/$(1)/board.mk
$(1)_ARCH := $$(BOARD_ARCH)
$(1)_CFLAGS := $$(BOARD_CFLAGS)
$(1)_LDFLAGS := $$(BOARD_LDFLAGS)
endef
$(foreach b,$(BOARDS),$(eval $(call load_board,$(b))))

ifeq ($(filter $(BOARD),$(BOARDS)),)
$(error unknown BOARD '$(BOARD)'; boards: $(BOARDS))
endif

# ---- rule templates ----
# A newline, to separate rules that one $(foreach) generates.
define nl


endef

# compile_rules DIR CC CFLAGS: objects under DIR/obj built with CC.
define compile_rules
$(1)/obj/%.o: %.c build/gen/version.h | $(TC_STAMP)
	@mkdir -p $$(@D)
	$$(Q)$(2) $(3) -MMD -MP -c $$< -o $$@
endef

# link_rule OUT SRCS DIR CC LDFLAGS (a linker script OUT depends on,
# such as vigild's hot.ld, is a prerequisite but goes in LDFLAGS as -T)
define link_rule
$(1): $(call objs,$(3),$(2))
	@mkdir -p $$(@D)
	@echo "  LD      $$@"
	$$(Q)$(4) $$(filter-out %.ld,$$^) $(5) -o $$@
endef

# Boards: the product binaries, static and stripped.
define board_rules
$(call compile_rules,build/$(1),$(call musl_cc,$($(1)_ARCH)),\
	$(CSTD) $(WARN) $(TARGET_CFLAGS) $(TARGET_LTO) $($(1)_CFLAGS) $(call INCLUDES,$(1),$($(1)_ARCH)))
$(call link_rule,build/$(1)/bin/vigild,$(call vigild_srcs,$($(1)_ARCH)),build/$(1),\
	$(call musl_cc,$($(1)_ARCH)),$(TARGET_LDFLAGS) $(VIGILD_LDFLAGS) $(TARGET_LTO) $(TARGET_CFLAGS) $($(1)_CFLAGS) $($(1)_LDFLAGS) $(call mbed_libs,$($(1)_ARCH)))
$(foreach t,$(TOOL_NAMES),$(call link_rule,build/$(1)/bin/$(t),\
	tests/tools/$(t).c $(FW_LIB) $(call proto,$($(1)_ARCH)) $(HAL_LINUX),build/$(1),\
	$(call musl_cc,$($(1)_ARCH)),$(TARGET_LDFLAGS) $(TARGET_LTO) -Os $($(1)_CFLAGS) $(call mbed_libs,$($(1)_ARCH)))$(nl))
# make size: the same sources without LTO, only so that the link map can
# say which part each byte comes from (LTO merges them).
$(call compile_rules,build/$(1)/nolto,$(call musl_cc,$($(1)_ARCH)),\
	$(CSTD) $(WARN) $(TARGET_CFLAGS) $($(1)_CFLAGS) $(call INCLUDES,$(1),$($(1)_ARCH)))
$(call link_rule,build/$(1)/nolto/vigild,$(call vigild_srcs,$($(1)_ARCH)),build/$(1)/nolto,\
	$(call musl_cc,$($(1)_ARCH)),$(TARGET_LDFLAGS) $(VIGILD_LDFLAGS) -fno-lto $($(1)_LDFLAGS) $(call mbed_libs,$($(1)_ARCH)))
endef
$(foreach b,$(BOARDS),$(eval $(call board_rules,$(b))))
$(foreach b,$(BOARDS),build/$(b)/bin/vigild build/$(b)/nolto/vigild): \
	firmware/agent/hot.ld

# Unit tests on the host with sanitizers (glibc gcc) ...
$(eval $(call compile_rules,build/test-asan,gcc,\
	$(CSTD) $(WARN) $(TEST_CFLAGS) $(ASAN) $(call INCLUDES,host,host)))
$(eval $(call link_rule,build/test-asan/unit-sim,$(call unit_sim_srcs,$(HOST_ARCH)),\
	build/test-asan,gcc,$(ASAN) $(call mbed_libs,host)))
$(eval $(call link_rule,build/test-asan/unit-linux,$(UNIT_LINUX_SRCS),\
	build/test-asan,gcc,$(ASAN) $(call mbed_libs,host)))

# The cksum tests once more with the one-table build that boards with
# carry-less multiply use (-DCKSUM_SLICES=1, protocol/cksum_table.h).
$(eval $(call compile_rules,build/test-cksum1,gcc,\
	$(CSTD) $(WARN) $(TEST_CFLAGS) $(ASAN) -DCKSUM_SLICES=1 $(call INCLUDES,host,host)))
$(eval $(call link_rule,build/test-cksum1/unit-sim,$(call unit_sim_srcs,$(HOST_ARCH)),\
	build/test-cksum1,gcc,$(ASAN) $(call mbed_libs,host)))

# ... and the same tests, unchanged, as static musl binaries per arch.
define test_arch_rules
$(call compile_rules,build/test-$(1),$(call musl_cc,$(1)),\
	$(CSTD) $(WARN) $(TEST_CFLAGS) $(call INCLUDES,host,$(1)))
$(call link_rule,build/test-$(1)/unit-sim,$(call unit_sim_srcs,$(1)),\
	build/test-$(1),$(call musl_cc,$(1)),-static $(call mbed_libs,$(1)))
$(call link_rule,build/test-$(1)/unit-linux,$(UNIT_LINUX_SRCS),\
	build/test-$(1),$(call musl_cc,$(1)),-static $(call mbed_libs,$(1)))
endef
$(foreach a,$(TEST_ARCHES),$(eval $(call test_arch_rules,$(a))))

# Fuzz targets: libFuzzer, each links its module and the sim HAL;
# FUZZ_SRCS_<name>/FUZZ_LIBS_<name>: a target's extra sources and libraries.
# UBSan stops the run (a crash with its input saved), as ASan does: a
# report it only printed went unnoticed in a long run.
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined
FUZZ_SRCS_exporter_sd_fuzz := tools/vigilctl_exporter_sd.c
FUZZ_LIBS_exporter_sd_fuzz := -ljansson
FUZZ_SRCS_exporter_status_fuzz := tools/vigilctl_exporter_doc.c
FUZZ_SRCS_s3_xml_fuzz := server/backupd_s3_xml.c
$(eval $(call compile_rules,build/fuzz,clang,\
	$(CSTD) $(FUZZ_FLAGS) $(call INCLUDES,host,host)))
$(foreach f,$(FUZZ_NAMES),$(eval $(call link_rule,build/fuzz/$(f),\
	tests/fuzz/$(f).c $(FUZZ_SRCS_$(f)) $(FW_LIB) $(call proto,$(HOST_ARCH)) $(HAL_SIM),\
	build/fuzz,clang,$(FUZZ_FLAGS) $(call mbed_libs,host) $(FUZZ_LIBS_$(f)))))

# Workstation programs (tools/<prog>.c + tools/<prog>_*.c): glibc gcc, -O2;
# TOOL_LIBS_<prog>: Debian libraries only that program links.
HOST_CFLAGS := -O2 -g
TOOL_LIBS_vigilctl := -lmicrohttpd -ljansson -lm
# vigilctl restore is vigild's restore client (firmware/backup/restore_*)
TOOL_SRCS_vigilctl := $(addprefix firmware/backup/,restore_cli.c \
	restore_client.c restore_engine.c restore_files.c backup_cli.c backup_client.c \
	backup_engine.c backup_conn.c backup_tls.c backup_crypto.c \
	backup_identity.c backup_retry.c backup_walk.c backup_manifest.c) \
	$(wildcard firmware/config/*.c firmware/crypto/*.c) lib/arena.c lib/log.c lib/log_json.c lib/mem.c lib/metrics.c \
	lib/num.c lib/pattern.c lib/psk.c lib/tz.c lib/daywin.c $(HAL_LINUX)
TOOL_PROGS := $(basename $(notdir $(wildcard tools/*.c)))
TOOL_PROGS := $(filter-out $(foreach t,$(TOOL_PROGS),$(t)_%),$(TOOL_PROGS))
$(eval $(call compile_rules,build/hosttools,gcc,\
	$(CSTD) $(WARN) $(HOST_CFLAGS) $(call INCLUDES,host,host)))
$(foreach t,$(TOOL_PROGS),$(eval $(call link_rule,build/host/bin/$(t),\
	tools/$(t).c $(wildcard tools/$(t)_*.c) $(TOOL_SRCS_$(t)) $(call proto,$(HOST_ARCH)),\
	build/hosttools,gcc,$(call mbed_libs,host) $(TOOL_LIBS_$(t)))))

# vigil-backupd (server/*.c): a workstation/server program, glibc gcc, with
# the agent's event loop and log, the Linux HAL, SQLite or PostgreSQL
# (libpq) for metadata, libcurl for the S3 store (server/backupd_s3.c).
SERVER_SRCS := $(wildcard server/*.c)
SERVER_BIN := $(if $(SERVER_SRCS),build/host/bin/vigil-backupd)
$(if $(SERVER_SRCS),$(eval $(call link_rule,build/host/bin/vigil-backupd,\
	$(SERVER_SRCS) $(wildcard lib/*.c) $(HAL_LINUX) \
	$(call proto,$(HOST_ARCH)),build/hosttools,gcc,\
	$(call mbed_libs,host) -lsqlite3 -lpq -lcurl)))

# vigild and vigil-backupd with ASan + UBSan (glibc gcc, the unit tests'
# objects): `make asan-bins`, then any test with
# VIGIL_BIN_DIR=build/asan/bin (the campaign against sanitized programs:
# `make campaign VIGIL_BIN=asan`, docs/reliability.md).
$(eval $(call link_rule,build/asan/bin/vigild,$(call vigild_srcs,$(HOST_ARCH)),\
	build/test-asan,gcc,$(ASAN) $(call mbed_libs,host)))
$(if $(SERVER_SRCS),$(eval $(call link_rule,build/asan/bin/vigil-backupd,\
	$(SERVER_SRCS) $(wildcard lib/*.c) $(HAL_LINUX) \
	$(call proto,$(HOST_ARCH)),build/test-asan,gcc,\
	$(ASAN) $(call mbed_libs,host) -lsqlite3 -lpq -lcurl)))
.PHONY: asan-bins
asan-bins: build/asan/bin/vigild $(if $(SERVER_SRCS),build/asan/bin/vigil-backupd)

# vigild for valgrind's memcheck (`make suite-valgrind`): glibc gcc like
# the ASan build, and lib/arena.c tells memcheck its blocks
# (-DARENA_VALGRIND; needs valgrind's headers), so that mbedTLS's heap in
# the static arena is checked like malloc's.
$(eval $(call compile_rules,build/test-valgrind,gcc,\
	$(CSTD) $(WARN) $(TEST_CFLAGS) -DARENA_VALGRIND $(call INCLUDES,host,host)))
$(eval $(call link_rule,build/valgrind/bin/vigild,$(call vigild_srcs,$(HOST_ARCH)),\
	build/test-valgrind,gcc,$(call mbed_libs,host)))
# build/valgrind/bin as a VIGIL_BIN_DIR (make campaign VIGIL_BIN=valgrind):
# that vigild beside the host's vigil-backupd
.PHONY: valgrind-bins
valgrind-bins: build/valgrind/bin/vigild $(SERVER_BIN)
	$(Q)$(if $(SERVER_BIN),ln -sfn "$(CURDIR)/$(SERVER_BIN)" build/valgrind/bin/)

# Benchmarks (tests/bench/<name>_bench.c) and interop helpers
# (tests/interop/<name>.c): -O2 like a release build, libcbor as reference.
BENCH_NAMES := $(basename $(notdir $(wildcard tests/bench/*_bench.c)))
INTEROP_NAMES := $(basename $(notdir $(wildcard tests/interop/*.c)))
$(foreach n,$(BENCH_NAMES),$(eval $(call link_rule,build/bench/$(n),\
	tests/bench/$(n).c $(call proto,$(HOST_ARCH)),build/hosttools,gcc,\
	-lcbor $(call mbed_libs,host))))
$(foreach n,$(INTEROP_NAMES),$(eval $(call link_rule,build/interop/$(n),\
	tests/interop/$(n).c $(call proto,$(HOST_ARCH)),build/hosttools,gcc,\
	-lcbor $(call mbed_libs,host))))

# ---- generated version header (rewritten only when it changes) ----
GIT_REV := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
GIT_DIRTY := $(if $(filter unknown,$(GIT_REV)),,$(shell git diff --quiet HEAD -- 2>/dev/null || echo -dirty))
BUILD_DATE := $(shell date -u -d @$${SOURCE_DATE_EPOCH:-$$(date +%s)} +%Y-%m-%d)
build/gen/version.h: FORCE
	@mkdir -p $(@D)
	@printf '#define VIGIL_VERSION "%s"\n#define VIGIL_GIT_REV "%s"\n#define VIGIL_BUILD_DATE "%s"\n' \
		'$(VERSION)' '$(GIT_REV)$(GIT_DIRTY)' '$(BUILD_DATE)' > $@.new
	@cmp -s $@.new $@ && rm $@.new || mv $@.new $@

# ---- toolchain ----
.PHONY: packages toolchain
packages:
	$(Q)toolchain/install-packages.sh
$(TC_STAMP): | packages
	$(Q)toolchain/build.sh $(TC_DIR)
toolchain: $(TC_STAMP)

# ---- top-level targets ----
.PHONY: all all-boards run check soak campaign fuzz bench size image boot clean FORCE
all: build/$(BOARD)/bin/vigild $(if $(filter host,$(BOARD)),\
	$(addprefix build/host/bin/,$(TOOL_NAMES) $(TOOL_PROGS)) $(SERVER_BIN))

all-boards: $(foreach b,$(BOARDS),build/$(b)/bin/vigild)

UNIT_BINS := build/test-asan/unit-sim build/test-asan/unit-linux \
	build/test-cksum1/unit-sim \
	$(foreach a,$(TEST_ARCHES),build/test-$(a)/unit-sim build/test-$(a)/unit-linux)

check: all-boards $(addprefix build/host/bin/,$(TOOL_NAMES) $(TOOL_PROGS)) $(SERVER_BIN) \
		build/asan/bin/vigild $(if $(SERVER_SRCS),build/asan/bin/vigil-backupd) \
		$(UNIT_BINS) $(addprefix build/fuzz/,$(FUZZ_NAMES)) \
		$(addprefix build/interop/,$(INTEROP_NAMES)) \
		$(foreach b,$(IMAGE_BOARDS),build/image/$(b)/image.txt)
	$(Q)TC_DIR=$(TC_DIR) BOARDS="$(BOARDS)" TEST_ARCHES="$(TEST_ARCHES)" \
		FUZZ_NAMES="$(FUZZ_NAMES)" tests/check.sh

fuzz: $(addprefix build/fuzz/,$(FUZZ_NAMES))
	$(Q)for f in $(FUZZ_NAMES); do \
		tests/fuzz/run.sh $$f $(FUZZ_SECONDS) || exit 1; done

# make fuzz-long: every target for FUZZ_LONG_RUNS executions (default 10
# million, issue 19), one after another; a target that finds a crash
# fails the step after the others ran.  The next full campaign (make
# soak) puts the executions and crashes into docs/reliability.md.
# FUZZ_LONG_SECONDS (default 0: none) caps each target's time, for a
# run that must end by a given hour; the table then shows how far each got.
FUZZ_LONG_RUNS ?= 10000000
FUZZ_LONG_SECONDS ?= 0
.PHONY: fuzz-long
fuzz-long: $(addprefix build/fuzz/,$(FUZZ_NAMES))
	$(Q)rc=0; for f in $(FUZZ_NAMES); do \
		tests/fuzz/run-long.sh $$f $(FUZZ_LONG_RUNS) \
			$(FUZZ_LONG_SECONDS) || rc=1; done; exit $$rc

# make bench writes docs/benchmarks.md (tests/bench/report.py): sizes, idle
# wakeups and RSS measured there, every benchmark program's figures, and
# tests/bench/agent_bench.py (the daemon's backup with 5 CoAP observers),
# tests/bench/s3_bench.py (vigil-backupd on S3 against local disk).
# It fails only when a figure could not be measured, never on a timing.
bench: $(addprefix build/bench/,$(BENCH_NAMES)) build/host/bin/vigild \
		$(addprefix build/host/bin/,$(TOOL_PROGS)) $(SERVER_BIN) \
		$(foreach b,$(IMAGE_BOARDS),build/image/$(b)/image.txt) \
		all-boards $(foreach b,$(BOARDS),build/$(b)/nolto/vigild)
	$(Q)VIGIL_BIN_DIR="$(CURDIR)/build/host/bin" python3 tests/bench/report.py \
		docs/benchmarks.md $(addprefix build/bench/,$(BENCH_NAMES))
	$(Q)echo "=== images" && tests/bench/image_bench.sh

# firmware/agent/hot.ld: the functions vigild runs in a backup with CoAP
# observers, measured under callgrind (tests/bench/hot_order.py); run it
# again when those paths change much (a function missing from the list
# still runs, from the rest of .text: it only costs resident pages).
.PHONY: hot-order
hot-order: build/host/bin/vigild $(addprefix build/host/bin/,$(TOOL_PROGS)) $(SERVER_BIN)
	$(Q)VIGIL_BIN_DIR="$(CURDIR)/build/host/bin" python3 tests/bench/hot_order.py

# Each board's vigild by part, from its link map (tests/size.py); make
# check holds every board to tests/size-budget.txt.
size: all-boards $(foreach b,$(BOARDS),build/$(b)/nolto/vigild)
	$(Q)python3 tests/size.py report $(BOARDS)

# Appliance images (image/build.sh; docs/images.md): image.txt, the
# manifest, is written last and stands for the whole image.
IMAGE_SRCS := $(shell find image -type f 2>/dev/null)
define image_rule
build/image/$(1)/image.txt: build/$(1)/bin/vigild $(IMAGE_SRCS) \
		$(wildcard board/$(1)/image.conf board/$(1)/vigil.conf) | $(TC_STAMP)
	$$(Q)VIGIL_CACHE=$(VIGIL_CACHE) VERSION=$(VERSION) VIGIL_GIT=$(GIT_REV)$(GIT_DIRTY) \
		image/build.sh $(1)
endef
$(foreach b,$(IMAGE_BOARDS),$(eval $(call image_rule,$(b))))
image: $(if $(filter $(BOARD),$(IMAGE_BOARDS)),build/image/$(BOARD)/image.txt)
	$(if $(filter $(BOARD),$(IMAGE_BOARDS)),,$(error BOARD=$(BOARD) has no image; boards with one: $(IMAGE_BOARDS)))

boot: image build/host/bin/vigilctl
	$(if $(filter $(BOARD),$(QEMU_BOARDS)),,$(error make boot needs a qemu board: $(QEMU_BOARDS)))
	$(Q)image/boot.sh $(BOARD)

# Long forms of tests that make check runs smaller: the exporter with the
# issue's 500 devices (prints its RSS and CPU); a file over 4 GiB backed
# up over vigil/2 in 2 GiB segments and restored (~13 GiB of disk); and the
# full reliability
# campaign (tests/integration/test_campaign.py with VIGIL_CAMPAIGN=full:
# 50 MiB files, 100 cut runs, ...), whose figures tests/campaign/report.py
# writes into docs/reliability.md, after the short one against ASan builds
# and under valgrind, and after 20 power cuts of the qemu-x86_64 image
# (its row of the table).  Each states how long it took.
soak: build/host/bin/vigild build/host/bin/vigilctl $(SERVER_BIN) asan-bins \
		build/image/qemu-x86_64/image.txt
	$(Q)t0=$$(date +%s); VIGIL_EXPORTER_DEVICES=500 VIGIL_BIN_DIR="$(CURDIR)/build/host/bin" \
		/usr/bin/python3 -m pytest -q -s -p no:cacheprovider \
		tests/integration/test_exporter.py; rc=$$?; \
		echo "soak: exporter took $$(( $$(date +%s) - t0 )) s"; exit $$rc
	$(Q)t0=$$(date +%s); VIGIL_LARGE_BYTES=4294971393 VIGIL_LARGE_SEGMENT=0 \
		VIGIL_LARGE_TIMEOUT_MS=60000 \
		VIGIL_BIN_DIR="$(CURDIR)/build/host/bin" \
		/usr/bin/python3 -m pytest -q -s -p no:cacheprovider \
		tests/integration/test_large_files.py -k segments_and_restores; \
		rc=$$?; echo "soak: 4 GiB file took $$(( $$(date +%s) - t0 )) s"; \
		exit $$rc
	$(Q)t0=$$(date +%s); VIGIL_POWER_CUTS=20 VIGIL_BIN_DIR="$(CURDIR)/build/host/bin" \
		/usr/bin/python3 -m pytest -q -s -p no:cacheprovider \
		tests/e2e/test_power_cut_x86_64.py; rc=$$?; \
		echo "soak: 20 qemu power cuts took $$(( $$(date +%s) - t0 )) s"; exit $$rc
	$(Q)$(MAKE) --no-print-directory sessfuzz SESSFUZZ_SESSIONS=3000
	$(Q)VIGIL_CAMPAIGN_RUNS=2 $(MAKE) --no-print-directory campaign VIGIL_BIN=asan
	$(Q)VIGIL_CAMPAIGN_RUNS=1 $(MAKE) --no-print-directory campaign VIGIL_BIN=valgrind
	$(Q)$(MAKE) --no-print-directory campaign VIGIL_CAMPAIGN=full

# The stateful fuzzer of vigil-backupd's network input
# (tests/integration/test_session_fuzz.py, tests/campaign/sessfuzz.py):
# SESSFUZZ_SESSIONS random and mutated sessions at the ASan + UBSan build
# (make check runs 40); its figures are printed and appended to
# build/campaign/sessfuzz.jsonl.  The integration suite under valgrind or
# against the ASan builds: make suite-valgrind, make suite-asan
# (tests/campaign/suite_under.sh; long: run them alone, at nice).
SESSFUZZ_SESSIONS ?= 400
.PHONY: sessfuzz suite-asan suite-valgrind
sessfuzz: $(SERVER_BIN) asan-bins
	$(Q)t0=$$(date +%s); VIGIL_SESSFUZZ_SESSIONS=$(SESSFUZZ_SESSIONS) \
		VIGIL_BIN_DIR="$(CURDIR)/build/host/bin" \
		/usr/bin/python3 -m pytest -q -s -p no:cacheprovider \
		tests/integration/test_session_fuzz.py -k mutated; rc=$$?; \
		echo "sessfuzz: $(SESSFUZZ_SESSIONS) sessions took $$(( $$(date +%s) - t0 )) s"; \
		exit $$rc
suite-asan: all asan-bins $(addprefix build/interop/,$(INTEROP_NAMES))
	$(Q)tests/campaign/suite_under.sh asan
suite-valgrind: all valgrind-bins $(addprefix build/interop/,$(INTEROP_NAMES))
	$(Q)tests/campaign/suite_under.sh valgrind

# The reliability campaign alone (VIGIL_CAMPAIGN=short is what make check
# runs; full is make soak's): the table of the run is printed, and the
# full campaign's is written into docs/reliability.md.
# VIGIL_BIN=asan runs it against vigild and vigil-backupd built with
# ASan + UBSan, VIGIL_BIN=valgrind under valgrind's memcheck (any report
# fails the run); their own ledgers are summed up in docs/reliability.md
# by the next full run.
VIGIL_CAMPAIGN ?= short
VIGIL_BIN ?= host
CAMPAIGN_LOG := build/campaign/runs$(if $(filter-out host,$(VIGIL_BIN)),-$(VIGIL_BIN)).jsonl
campaign: $(if $(filter asan,$(VIGIL_BIN)),asan-bins,\
		$(if $(filter valgrind,$(VIGIL_BIN)),valgrind-bins,build/host/bin/vigild $(SERVER_BIN)))
	$(Q)rm -f $(CAMPAIGN_LOG); t0=$$(date +%s); \
		VIGIL_CAMPAIGN=$(VIGIL_CAMPAIGN) VIGIL_CAMPAIGN_LOG=$(CAMPAIGN_LOG) \
		VIGIL_CAMPAIGN_VALGRIND=$(if $(filter valgrind,$(VIGIL_BIN)),both) \
		VIGIL_BIN_DIR="$(CURDIR)/build/$(VIGIL_BIN)/bin" \
		/usr/bin/python3 -m pytest -q -p no:cacheprovider -n $$(nproc) \
		tests/integration/test_campaign.py; rc=$$?; t=$$(( $$(date +%s) - t0 )); \
		python3 tests/campaign/report.py --ledger $(CAMPAIGN_LOG) \
			$(if $(filter full-host,$(VIGIL_CAMPAIGN)-$(VIGIL_BIN)),--write docs/reliability.md \
			--extra asan=build/campaign/runs-asan.jsonl \
			--extra valgrind=build/campaign/runs-valgrind.jsonl \
			--fuzz build/fuzz/long) \
			--duration $$t; \
		echo "campaign ($(VIGIL_CAMPAIGN), $(VIGIL_BIN) binaries) took $$t s"; exit $$rc

run: build/host/bin/vigild build/host/bin/vigilctl $(SERVER_BIN)
	$(Q)tests/run-dev.sh

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
