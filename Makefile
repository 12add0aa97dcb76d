# spex: a native Mesos v1 executor for Apache Spark.
#
#   make            build build/spex-executor (and the spex CLI)
#   make deps       install the Debian packages the build and tests need
#   make test       unit tests (plain and ASan+UBSan), integration tests
#                   against the test agent (plain and ASan+UBSan), short fuzz
#   make demo       run the Spark fixture task through spex against the test agent
#   make bench      executor RSS and LAUNCH->RUNNING latency, spex du vs du -s
#   make bench-track the inotify tracker on a 1M-file tree (cpu %, staleness)
#   make fuzz       longer libFuzzer runs (FUZZ_SECONDS=60 each)
#   make soak       randomized agent restarts and faults (SOAK_RESTARTS=200)
#   make valgrind   the integration suite with the executor under memcheck
#   make install    PREFIX=/usr/local DESTDIR= (also BINDIR, LIBEXECDIR, MANDIR,
#                   DOCDIR, SYSCONFDIR=/etc: where spex-executor reads spex.json);
#                   an existing spex.json is never overwritten
#   make uninstall  the same variables; leaves the config file
#   make deb        build/spex_VERSION_ARCH.deb (tools/mkdeb.sh, dpkg-deb)
#   make deb-lint   lintian on that .deb (fails on errors)
#   make format / format-check

PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR     ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/spex
SYSCONFDIR ?= /etc
CC         ?= gcc
PYTHON     ?= /usr/bin/python3
FUZZ_CC    ?= clang-14
FUZZ_SECONDS ?= 60
FUZZ_SHORT ?= 10
PKGS       := libprotobuf-c libevent libcgroup libcjson
VERSION    := $(shell cat VERSION 2>/dev/null || echo 0.1.0)

BUILD := build
GEN   := $(BUILD)/gen

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -pthread

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wformat=2 -Wno-format-nonliteral -Wpointer-arith -Wvla
HARDEN   := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fstack-clash-protection -fPIE
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -DSPEX_VERSION='"$(VERSION)"' -g $(WARN) \
            -I$(GEN) -Iexecutor -Iexecutor/core -Isandbox $(PKG_CFLAGS)
CFLAGS   ?= -O2
LDHARDEN := -pie -Wl,-z,relro,-z,now -Wl,--as-needed
SAN      := -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all -fno-omit-frame-pointer

PROTOS    := proto/mesos.proto proto/executor.proto
GEN_SRCS  := $(GEN)/mesos.pb-c.c $(GEN)/executor.pb-c.c
GEN_HDRS  := $(GEN_SRCS:.c=.h)

# The pure core (executor/core: no sockets, no fork, no root) plus the
# loop-free filesystem adapters (sandbox/, cgroup.c, which the unit tests
# drive over temporary trees); linked into unit tests and fuzzers.
FS_ADAPT_SRCS := executor/cgroup.c
SANDBOX_SRCS ?= $(wildcard sandbox/*.c)
CORE_SRCS := $(sort $(wildcard executor/core/*.c) $(SANDBOX_SRCS) $(FS_ADAPT_SRCS))
# Adapters that need the event loop or processes: session, tasks, main.
ADAPT_SRCS := $(sort $(filter-out $(FS_ADAPT_SRCS),$(wildcard executor/*.c)))
# The CLI: main and its verb table (tools/spex.c), and the modules under it,
# which the unit tests also link (as an archive: a test pulls only what it uses).
TOOL_MAIN     := tools/spex.c
TOOL_LIB_SRCS := $(sort $(filter-out $(TOOL_MAIN),$(wildcard tools/*.c)))

obj = $(patsubst %.c,$(1)/obj/%.o,$(2))

PLAIN_CORE := $(call obj,$(BUILD),$(GEN_SRCS:$(BUILD)/%=%) $(CORE_SRCS))
ASAN_CORE  := $(call obj,$(BUILD)/asan,$(GEN_SRCS:$(BUILD)/%=%) $(CORE_SRCS))
PLAIN_TOOL := $(BUILD)/libspex-cli.a
ASAN_TOOL  := $(BUILD)/asan/libspex-cli.a

UNIT_SRCS  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_PLAIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
UNIT_ASAN  := $(patsubst tests/unit/%.c,$(BUILD)/asan/tests/%,$(UNIT_SRCS))
FUZZ_SRCS  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS  := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))

.PHONY: all deps asan test unit integration fuzz-short fuzz demo bench install \
        uninstall deb deb-lint format format-check clean soak valgrind bench-track
.SECONDARY:

all: $(BUILD)/spex-executor $(BUILD)/spex

deps:
	@sh tools/deps.sh

# --- generated protobuf-c code (never committed) -------------------------
$(GEN)/%.pb-c.c $(GEN)/%.pb-c.h: proto/%.proto
	@mkdir -p $(GEN)
	protoc-c --c_out=$(GEN) -Iproto $<

# Generated code goes to build/gen; its objects are build/obj/gen/*.o.
$(BUILD)/obj/gen/%.o: $(GEN)/%.c $(GEN_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(HARDEN) -c -o $@ $<
$(BUILD)/asan/obj/gen/%.o: $(GEN)/%.c $(GEN_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -O1 $(SAN) -c -o $@ $<

$(BUILD)/obj/%.o: %.c $(GEN_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(HARDEN) -MMD -MP -c -o $@ $<
$(BUILD)/asan/obj/%.o: %.c $(GEN_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -O1 $(SAN) -MMD -MP -c -o $@ $<

$(BUILD)/spex-executor: $(PLAIN_CORE) $(call obj,$(BUILD),$(ADAPT_SRCS))
	$(CC) $(LDHARDEN) -o $@ $^ $(PKG_LIBS)
$(BUILD)/asan/spex-executor: $(ASAN_CORE) $(call obj,$(BUILD)/asan,$(ADAPT_SRCS))
	$(CC) $(SAN) -o $@ $^ $(PKG_LIBS)

$(PLAIN_TOOL): $(call obj,$(BUILD),$(TOOL_LIB_SRCS))
	rm -f $@ && ar rcs $@ $^
$(ASAN_TOOL): $(call obj,$(BUILD)/asan,$(TOOL_LIB_SRCS))
	rm -f $@ && ar rcs $@ $^

$(BUILD)/spex: $(call obj,$(BUILD),$(TOOL_MAIN)) $(PLAIN_TOOL) $(PLAIN_CORE)
	$(CC) $(LDHARDEN) -o $@ $^ $(PKG_LIBS)
$(BUILD)/asan/spex: $(call obj,$(BUILD)/asan,$(TOOL_MAIN)) $(ASAN_TOOL) $(ASAN_CORE)
	$(CC) $(SAN) -o $@ $^ $(PKG_LIBS)

asan: $(BUILD)/asan/spex-executor $(BUILD)/asan/spex

# --- unit tests -----------------------------------------------------------
$(BUILD)/tests/%: tests/unit/%.c tests/unit/harness.h tests/unit/tree.h $(PLAIN_TOOL) $(PLAIN_CORE)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -Itests/unit -Itools $(CFLAGS) -o $@ $< $(PLAIN_TOOL) $(PLAIN_CORE) \
		$(PKG_LIBS)
$(BUILD)/asan/tests/%: tests/unit/%.c tests/unit/harness.h tests/unit/tree.h $(ASAN_TOOL) $(ASAN_CORE)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -Itests/unit -Itools -O1 $(SAN) -o $@ $< $(ASAN_TOOL) $(ASAN_CORE) \
		$(PKG_LIBS)

unit: $(UNIT_PLAIN) $(UNIT_ASAN)
	@sh tests/unit/run.sh $(UNIT_PLAIN) $(UNIT_ASAN)

integration: all asan
	cd tests/integration && SPEX_BIN=$(CURDIR)/$(BUILD)/spex-executor \
		$(PYTHON) -m pytest -q -p no:cacheprovider .
	cd tests/integration && SPEX_BIN=$(CURDIR)/$(BUILD)/asan/spex-executor SPEX_ASAN=1 \
		$(PYTHON) -m pytest -q -p no:cacheprovider .

# --- fuzzing (libFuzzer, clang-14) -----------------------------------------
FUZZ_CORE_SRCS := $(GEN_SRCS) $(CORE_SRCS)
$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_CORE_SRCS) $(GEN_HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -g -O1 -I$(GEN) -Iexecutor -Iexecutor/core -Isandbox $(PKG_CFLAGS) \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o $@ $< $(FUZZ_CORE_SRCS) $(PKG_LIBS)

fuzz-short: $(FUZZ_BINS)
	@sh tests/fuzz/run.sh $(FUZZ_SHORT) $(FUZZ_BINS)
fuzz: deps $(FUZZ_BINS)
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

test: deps
	$(MAKE) --no-print-directory format-check
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory integration
	$(MAKE) --no-print-directory fuzz-short

demo: deps all
	$(PYTHON) tests/demo.py $(CURDIR)/$(BUILD)/spex-executor

bench: deps all
	$(PYTHON) tests/bench.py $(CURDIR)/$(BUILD)/spex-executor
	sh tests/bench_du.sh

SOAK_RESTARTS ?= 200
SOAK_SEED     ?= 1
soak: deps all
	SPEX_BIN=$(CURDIR)/$(BUILD)/spex-executor SOAK_RESTARTS=$(SOAK_RESTARTS) SOAK_SEED=$(SOAK_SEED) \
		$(PYTHON) tests/soak.py

valgrind: deps all
	cd tests/integration && SPEX_BIN=$(CURDIR)/$(BUILD)/spex-executor SPEX_VALGRIND=1 \
		$(PYTHON) -m pytest -q -p no:cacheprovider .

# The incremental tracker on a 1M-file tree (generated once: ~4 GB in build/).
bench-track: deps
	sh tests/bench_track.sh

# --- install and the Debian package ----------------------------------------
# Man pages: every docs/*.1 and docs/*.8 present; docs: README and docs/*.md.
# libexec/spex/mesos-executor (what the agent's --launcher_dir points at) is a
# relative symlink to bin/spex-executor: one binary, upgraded in one place.
MANPAGES := $(wildcard docs/*.1 docs/*.8)
DOCS     := README.md $(wildcard docs/*.md)
CONFIG   := $(wildcard tools/spex.json)
CONF_DST  = $(DESTDIR)$(SYSCONFDIR)/spex/spex.json

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR)/spex $(DESTDIR)$(DOCDIR)
	install -m 0755 $(BUILD)/spex-executor $(DESTDIR)$(BINDIR)/spex-executor
	install -m 0755 $(BUILD)/spex $(DESTDIR)$(BINDIR)/spex
	ln -sfn "$$(realpath -m --relative-to=$(LIBEXECDIR)/spex $(BINDIR)/spex-executor)" \
		$(DESTDIR)$(LIBEXECDIR)/spex/mesos-executor
	@set -e; for f in $(MANPAGES); do \
		d=$(DESTDIR)$(MANDIR)/man$${f##*.}; \
		echo "install -m 0644 $$f $$d/"; install -d $$d; install -m 0644 $$f $$d/; \
	done
	install -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	@set -e; if [ -z "$(CONFIG)" ]; then :; \
	elif [ -e "$(CONF_DST)" ]; then echo "install: keeping the existing $(CONF_DST)"; \
	else echo "install -m 0644 $(CONFIG) $(CONF_DST)"; \
		install -d $(dir $(CONF_DST)); install -m 0644 $(CONFIG) $(CONF_DST); fi
	@if [ -n "$(CONFIG)" ] && [ "$(SYSCONFDIR)" != /etc ]; then \
		echo "note: spex-executor reads /etc/spex/spex.json; set SPEX_CONFIG=$(SYSCONFDIR)/spex/spex.json" \
		     "(agent --executor_environment_variables)"; fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/spex-executor $(DESTDIR)$(BINDIR)/spex \
		$(DESTDIR)$(LIBEXECDIR)/spex/mesos-executor
	-rmdir $(DESTDIR)$(LIBEXECDIR)/spex
	@set -e; for f in $(notdir $(MANPAGES)); do \
		d=$(DESTDIR)$(MANDIR)/man$${f##*.}; echo "rm -f $$d/$$f $$d/$$f.gz"; rm -f $$d/$$f $$d/$$f.gz; \
	done
	cd $(DESTDIR)$(DOCDIR) 2>/dev/null && rm -f $(notdir $(DOCS)) || true
	-rmdir $(DESTDIR)$(DOCDIR)
	@if [ -e "$(CONF_DST)" ]; then echo "uninstall: left $(CONF_DST) in place"; fi

DEB_ARCH  = $(shell dpkg --print-architecture)
DEB       = $(BUILD)/spex_$(VERSION)_$(DEB_ARCH).deb
DEB_ROOT  = $(BUILD)/deb/root

deb: all
	rm -rf $(BUILD)/deb
	$(MAKE) --no-print-directory install DESTDIR=$(CURDIR)/$(DEB_ROOT) PREFIX=/usr \
		BINDIR=/usr/bin LIBEXECDIR=/usr/libexec MANDIR=/usr/share/man \
		DOCDIR=/usr/share/doc/spex SYSCONFDIR=/etc
	sh tools/mkdeb.sh $(DEB_ROOT) $(VERSION) $(DEB_ARCH) $(DEB)

deb-lint: deb
	lintian --fail-on error --display-info $(DEB)

FORMAT_FILES = $(wildcard executor/*.[ch] executor/core/*.[ch] sandbox/*.[ch] tools/*.[ch] \
               tests/unit/*.[ch] tests/fuzz/*.c tests/bench_track.c)
format:
	clang-format -i $(FORMAT_FILES)
format-check:
	@clang-format --dry-run --Werror $(FORMAT_FILES)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
