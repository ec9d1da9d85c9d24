# ironclaw-pipe: `make` builds, `make test` and `make demo` also install what they need.
.DELETE_ON_ERROR:
.SUFFIXES:
.SECONDARY:

B := build
CLANG ?= clang
CC ?= cc
BPFTOOL ?= bpftool
ARCH_INC := /usr/include/$(shell uname -m)-linux-gnu

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

VERSION := 0.6.0
CFLAGS := -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude -Iloader -I$(B) \
	-DIRONCLAW_VERSION='"$(VERSION)"'
LDLIBS := -lxdp -lbpf -lelf -lz -lsystemd
BPF_CFLAGS := -O2 -g -target bpf -mcpu=v3 -Wall -Werror -Iinclude -Iprogs -I$(ARCH_INC)

DEB_PACKAGES := clang llvm libbpf-dev libxdp-dev bpftool libcriterion-dev iproute2 \
	pkg-config libelf-dev zlib1g-dev libsystemd-dev make gcc clang-format git python3 systemd groff-base man-db \
	libclang-rt-14-dev libjson-c-dev containernetworking-plugins jq python3-yaml \
	prometheus dnsmasq-base bind9-dnsutils curl

PROGS_SRC := $(wildcard progs/*.bpf.c)
PROGS_OBJ := $(patsubst progs/%.bpf.c,$(B)/progs/%.bpf.o,$(PROGS_SRC))
SKELS := $(patsubst progs/%.bpf.c,$(B)/%.skel.h,$(PROGS_SRC))
EXAMPLE_OBJ := $(B)/examples/stage_postgres.bpf.o
# the same stage under another name and slot: two stages claiming tcp/5432
CONFLICT_OBJ := $(B)/tests/stage_pgdup.bpf.o
SANDBOX_PROGS_OBJ := $(B)/tests/allow_all.bpf.o $(B)/tests/vlan_tag.bpf.o
# two versions of one plug-in stage, for replacing a stage under traffic
FLOW_OBJ := $(B)/tests/stage_flow.bpf.o $(B)/tests/stage_flow_v2.bpf.o
BPF_HDRS := $(wildcard include/*.h include/ironclaw/*.h progs/lib/*.h)
# what a stage object includes: the public, versioned header (README: "Stages, and adding one")
STAGE_API_HDR := include/ironclaw/stage.h

LOADER_SRC := $(filter-out loader/main.c,$(wildcard loader/*.c))
LOADER_OBJ := $(patsubst loader/%.c,$(B)/loader/%.o,$(LOADER_SRC))
LOADER_HDRS := $(wildcard loader/*.h include/*.h)
LIB := $(B)/libironclaw.a
BIN := $(B)/ironclaw-pipe
# the CNI plugin: its own front end over the instance layer (json-c reads the runtime's JSON)
CNI_BIN := $(B)/cni/ironclaw-pipe
CNI_LDLIBS := -ljson-c
TOOLS := $(B)/netprobe $(B)/rawframe $(B)/dnsprobe
BENCH_BINS := $(B)/bench/icbench $(B)/bench/udpflood $(B)/bench/bench_progs.bpf.o \
	$(B)/bench/stage_probe.bpf.o $(B)/bench/stage_probe_noop.bpf.o $(B)/bench/stage_probe_count.bpf.o \
	$(B)/bench/snibench $(B)/bench/memchase $(B)/bench/memchase.bpf.o
# what the bench needs beyond the build: the filters it compares with, plots, veth features
BENCH_PACKAGES := nftables iptables gnuplot-nox ethtool

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(B)/tests/unit/%,$(UNIT_SRC))
BPFTEST_SRC := $(wildcard tests/bpf/test_*.c)
BPFTEST_BIN := $(patsubst tests/bpf/%.c,$(B)/tests/bpf/%,$(BPFTEST_SRC))
# libFuzzer harnesses (tests/fuzz): the loader built again with clang's sanitizers
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRC))
FUZZ_CFLAGS := $(filter-out -O2,$(CFLAGS)) -O1 -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_LIB := $(B)/fuzz/libironclaw.a
FUZZ_SECONDS ?= 300

.PHONY: all deps deps-bench test test-bins demo clean format bench bench-quick bench-control bench-bins bench-ab bench-fast bench-live bench-sni \
	install uninstall deb fuzz fuzz-bins fuzz-frames crash-test install-cni uninstall-cni
all: $(BIN) $(CNI_BIN) $(TOOLS) $(EXAMPLE_OBJ)

deps deps-bench:
	$(Q)missing=$$(for p in $(DEB_PACKAGES) $(if $(filter deps-bench,$@),$(BENCH_PACKAGES)); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "  DEPS     installing" $$missing; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(B)/progs/%.bpf.o: progs/%.bpf.c $(BPF_HDRS) Makefile
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(EXAMPLE_OBJ): examples/stage_postgres/stage_postgres.bpf.c $(STAGE_API_HDR) $(BPF_HDRS)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(CONFLICT_OBJ): examples/stage_postgres/stage_postgres.bpf.c $(STAGE_API_HDR) $(BPF_HDRS)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(BPF_CFLAGS) '-DPOSTGRES_STAGE_NAME="pgdup"' \
		-DPOSTGRES_STAGE_SLOT=9 -c $< -o $@

$(B)/tests/%.bpf.o: tests/e2e/%.bpf.c
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(B)/tests/stage_flow.bpf.o: tests/e2e/stage_flow.bpf.c $(STAGE_API_HDR) $(BPF_HDRS)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(B)/tests/stage_flow_v2.bpf.o: tests/e2e/stage_flow.bpf.c $(STAGE_API_HDR) $(BPF_HDRS)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(BPF_CFLAGS) -DFLOW_STAGE_V2 -c $< -o $@

$(B)/bench/bench_progs.bpf.o: bench/bench_progs.bpf.c bench/bench.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(BPF_CFLAGS) -Ibench -c $< -o $@

# the 1M-rule lookup's parts, one dependent step a repetition (memchase)
$(B)/bench/memchase.bpf.o: bench/memchase.bpf.c bench/bench.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(BPF_CFLAGS) -Ibench -c $< -o $@

# the bench's plug-in stage: an exact lookup, and a judge that allows without one (fast.sh)
$(B)/bench/stage_probe.bpf.o: bench/stage_probe.bpf.c $(STAGE_API_HDR) $(BPF_HDRS)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(B)/bench/stage_probe_noop.bpf.o: bench/stage_probe.bpf.c $(STAGE_API_HDR) $(BPF_HDRS)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(BPF_CFLAGS) -DPROBE_NOOP -c $< -o $@

$(B)/bench/stage_probe_count.bpf.o: bench/stage_probe.bpf.c $(STAGE_API_HDR) $(BPF_HDRS)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(BPF_CFLAGS) -DPROBE_COUNT -c $< -o $@

# the TLS server-name check's cost: the tests' frames (tests/bpf/flow_frames.h), the packet builder
$(B)/bench/snibench: bench/snibench.c tests/bpf/flow_frames.h $(B)/loader/pkt_build.o loader/pkt_build.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) -Itests/bpf -o $@ $< $(B)/loader/pkt_build.o $(LDLIBS)

$(B)/bench/%: bench/%.c bench/bench.h bench/ruleset.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) -Ibench -o $@ $< $(LDLIBS)

$(B)/%.skel.h: $(B)/progs/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst .bpf,,$*) > $@

$(B)/loader/%.o: loader/%.c $(LOADER_HDRS) $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LOADER_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN): $(B)/loader/main.o $(LIB)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(CNI_BIN): cni/plugin.c $(LIB) $(LOADER_HDRS)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDLIBS) $(CNI_LDLIBS)

# the plugin where runtimes look for it: /opt/cni/bin (containerd, CRI-O, Kubernetes) and
# $(PREFIX)/lib/cni (podman's CNI backend searches it, beside /usr/lib/cni of Debian's plugins);
# make install calls it
install-cni: $(CNI_BIN)
	$(Q)install -D -m 0755 $(CNI_BIN) $(DESTDIR)/opt/cni/bin/ironclaw-pipe
	$(Q)install -D -m 0755 $(CNI_BIN) $(DESTDIR)$(PREFIX)/lib/cni/ironclaw-pipe

uninstall-cni:
	$(Q)rm -f $(DESTDIR)/opt/cni/bin/ironclaw-pipe $(DESTDIR)$(PREFIX)/lib/cni/ironclaw-pipe

$(B)/%: tools/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) -O2 -g -Wall -Wextra -Werror -o $@ $<

# the tools that craft packets link the packet builder alone, not the whole library
$(B)/dnsprobe: $(B)/%: tools/%.c $(B)/loader/pkt_build.o loader/pkt_build.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) -O2 -g -Wall -Wextra -Werror -Iloader -o $@ $< \
		$(B)/loader/pkt_build.o

$(B)/rawframe: tools/rawframe.c tools/rawframe_tcp.c tools/rawframe.h $(B)/loader/pkt_build.o \
		loader/pkt_build.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) -O2 -g -Wall -Wextra -Werror -Iloader -o $@ \
		tools/rawframe.c tools/rawframe_tcp.c $(B)/loader/pkt_build.o

$(B)/tests/unit/%: tests/unit/%.c $(LIB) $(wildcard tests/*.h)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) -Itests -o $@ $< $(LIB) $(LDLIBS) -lcriterion

$(B)/tests/bpf/%: tests/bpf/%.c $(LIB) $(wildcard tests/*.h tests/bpf/*.h)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) $(CFLAGS) -Itests -o $@ $< $(LIB) $(LDLIBS) -lcriterion

$(B)/fuzz/loader/%.o: loader/%.c $(LOADER_HDRS) $(SKELS)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_LIB): $(patsubst loader/%.c,$(B)/fuzz/loader/%.o,$(LOADER_SRC))
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB)
	$(call msg,LD-FUZZ,$@)
	$(Q)mkdir -p $(@D) && $(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) $(LDLIBS)

fuzz-bins: $(FUZZ_BIN)
	@:

# each harness for FUZZ_SECONDS (both at once, one a core); new inputs kept in build/fuzz/corpus
fuzz: deps
	$(Q)$(MAKE) --no-print-directory fuzz-bins
	$(Q)tests/fuzz/run.sh $(B) $(FUZZ_SECONDS) keep

# the loader killed at random points under flows (tests/e2e/t_crash.sh): CRASH_KILLS=N CRASH_SEED=S
crash-test: deps
	$(Q)$(MAKE) --no-print-directory test-bins
	$(Q)tests/e2e/run.sh $(B) crash

test: deps
	$(Q)$(MAKE) --no-print-directory test-bins
	$(Q)tests/run-all.sh $(B)

test-bins: all $(UNIT_BIN) $(BPFTEST_BIN) $(FUZZ_BIN) $(CONFLICT_OBJ) $(SANDBOX_PROGS_OBJ) $(FLOW_OBJ)
	@:

# the frame fuzzer (tests/bpf/test_frame_fuzz.c) for longer than make test runs it (20 s):
# FUZZ_FRAMES frames or FUZZ_SECONDS seconds, whichever ends first; FRAME_FUZZ_SEED=N repeats a run
FUZZ_FRAMES ?= 10000000
FUZZ_SECONDS ?= 600
fuzz-frames: deps
	$(Q)$(MAKE) --no-print-directory test-bins
	$(Q)FRAME_FUZZ_FRAMES=$(FUZZ_FRAMES) FRAME_FUZZ_SECONDS=$(FUZZ_SECONDS) \
		$(B)/tests/bpf/test_frame_fuzz --jobs 1

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tools/demo.sh $(B)

bench-bins: all $(BENCH_BINS)
	@:

# every measurement; about 11 minutes (bench/README.md)
bench: deps-bench
	$(Q)$(MAKE) --no-print-directory bench-bins
	$(Q)bench/run.sh $(B) full

# the same measurements, fewer sizes and repeats: under a minute, to check the harness
bench-quick: deps-bench
	$(Q)$(MAKE) --no-print-directory bench-bins
	$(Q)bench/run.sh $(B) quick

# the control plane alone: install, allow, revoke, reload of 1k, 100k, 1M rules, 7 runs each
bench-control: deps-bench
	$(Q)$(MAKE) --no-print-directory bench-bins
	$(Q)bench/run.sh $(B) control

# every C file git tracks; tests/lint/run.sh (part of make test) checks it leaves them as they are
# the fast path's targets (issue 15), pinned and interleaved, with in-situ cost: make bench-fast
# [FAST_BASE=BUILD_DIR_OF_ANOTHER_REVISION] (bench/README.md)
bench-fast: deps-bench
	$(Q)$(MAKE) --no-print-directory bench-bins
	$(Q)bench/fast.sh $(B) $(FAST_BASE)

# the live targets (issue 15): interleaved, rates per CPU second, A/A beside (bench/README.md)
bench-live: deps-bench
	$(Q)$(MAKE) --no-print-directory bench-bins
	$(Q)bench/live_ab.sh $(B)

# the TLS server-name check's cost per packet, per new flow, and the verifier's (bench/README.md)
bench-sni: deps-bench
	$(Q)$(MAKE) --no-print-directory bench-bins
	$(Q)bench/sni.sh $(B)

# this build against another revision, interleaved, beside an A/A: make bench-ab BASE=REV
BASE ?= HEAD~1
bench-ab: deps-bench
	$(Q)$(MAKE) --no-print-directory bench-bins
	$(Q)bench/ab.sh $(B) $(BASE)

# make install [PREFIX=/usr/local] [DESTDIR=...]: the binary, man pages, stage objects and the
# stage API header, the default profile (/etc/ironclaw-pipe: never overwritten), the systemd
# unit and bash completion. The configuration stays in /etc whatever PREFIX is: the binary reads
# /etc/ironclaw-pipe.
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
LIBDIR ?= $(PREFIX)/lib
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
INCLUDEDIR ?= $(PREFIX)/include
UNITDIR ?= $(LIBDIR)/systemd/system
COMPLETIONDIR ?= $(DATADIR)/bash-completion/completions
PROFILEDIR := /etc/ironclaw-pipe/profiles/default
INSTALL_FILES := $(SBINDIR)/ironclaw-pipe $(MANDIR)/man8/ironclaw-pipe.8 \
	$(MANDIR)/man5/ironclaw-pipe-instance.5 $(UNITDIR)/ironclaw-pipe@.service \
	$(UNITDIR)/ironclaw-pipe-collect.service \
	$(COMPLETIONDIR)/ironclaw-pipe $(INCLUDEDIR)/ironclaw/stage.h \
	$(patsubst progs/%.bpf.c,$(LIBDIR)/ironclaw-pipe/stages/%.bpf.o,$(wildcard progs/stage_*.bpf.c)) \
	$(LIBDIR)/ironclaw-pipe/examples/stage_postgres.bpf.o \
	$(DATADIR)/ironclaw-pipe/examples/stage_postgres.bpf.c

install: all
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -D -m 0755 $(BIN) $(DESTDIR)$(SBINDIR)/ironclaw-pipe
	$(Q)install -D -m 0644 docs/ironclaw-pipe.8 $(DESTDIR)$(MANDIR)/man8/ironclaw-pipe.8
	$(Q)install -D -m 0644 docs/ironclaw-pipe-instance.5 \
		$(DESTDIR)$(MANDIR)/man5/ironclaw-pipe-instance.5
	$(Q)install -d -m 0755 $(DESTDIR)$(UNITDIR)
	$(Q)for u in ironclaw-pipe@.service ironclaw-pipe-collect.service; do \
		sed 's|@SBINDIR@|$(SBINDIR)|g' deploy/systemd/$$u >$(DESTDIR)$(UNITDIR)/$$u && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; done
	$(Q)install -D -m 0644 deploy/bash-completion/ironclaw-pipe \
		$(DESTDIR)$(COMPLETIONDIR)/ironclaw-pipe
	$(Q)install -D -m 0644 $(STAGE_API_HDR) $(DESTDIR)$(INCLUDEDIR)/ironclaw/stage.h
	$(Q)install -d -m 0755 $(DESTDIR)$(LIBDIR)/ironclaw-pipe/stages \
		$(DESTDIR)$(LIBDIR)/ironclaw-pipe/examples $(DESTDIR)$(DATADIR)/ironclaw-pipe/examples
	$(Q)install -m 0644 $(filter $(B)/progs/stage_%,$(PROGS_OBJ)) \
		$(DESTDIR)$(LIBDIR)/ironclaw-pipe/stages/
	$(Q)install -m 0644 $(EXAMPLE_OBJ) $(DESTDIR)$(LIBDIR)/ironclaw-pipe/examples/
	$(Q)install -m 0644 examples/stage_postgres/stage_postgres.bpf.c \
		$(DESTDIR)$(DATADIR)/ironclaw-pipe/examples/
	$(Q)install -d -m 0755 $(DESTDIR)$(PROFILEDIR) $(DESTDIR)/etc/ironclaw-pipe/instances
	$(Q)for f in rules.d/*.rules rules.d/*.test; do [ -e $(DESTDIR)$(PROFILEDIR)/$${f#rules.d/} ] || \
		install -m 0644 $$f $(DESTDIR)$(PROFILEDIR)/; done
	$(Q)$(if $(wildcard $(B)/cni/ironclaw-pipe),$(MAKE) --no-print-directory install-cni,:)

# what install put there; the profile only where it is still as shipped (a changed one is kept)
uninstall:
	$(call msg,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(addprefix $(DESTDIR),$(INSTALL_FILES))
	$(Q)$(MAKE) --no-print-directory uninstall-cni
	$(Q)for f in rules.d/*.rules rules.d/*.test; do t=$(DESTDIR)$(PROFILEDIR)/$${f#rules.d/}; \
		! cmp -s $$f $$t || rm -f $$t; done
	$(Q)rmdir $(DESTDIR)$(PROFILEDIR) $(DESTDIR)/etc/ironclaw-pipe/profiles \
		$(DESTDIR)/etc/ironclaw-pipe/instances $(DESTDIR)/etc/ironclaw-pipe \
		$(DESTDIR)$(LIBDIR)/ironclaw-pipe/stages $(DESTDIR)$(LIBDIR)/ironclaw-pipe/examples \
		$(DESTDIR)$(LIBDIR)/ironclaw-pipe \
		$(DESTDIR)$(DATADIR)/ironclaw-pipe/examples $(DESTDIR)$(DATADIR)/ironclaw-pipe \
		$(DESTDIR)$(INCLUDEDIR)/ironclaw 2>/dev/null || true

# build/deb/ironclaw-pipe_VERSION_ARCH.deb, with dpkg-deb (tools/mkdeb.sh); a packager gives
# DEB_MAINTAINER="Name <address>"
DEB_MAINTAINER ?= ironclaw-pipe authors <ironclaw-pipe@localhost>
deb: all
	$(Q)DEB_MAINTAINER='$(DEB_MAINTAINER)' tools/mkdeb.sh $(B) $(VERSION)

format:
	$(Q)git ls-files '*.c' '*.h' | xargs clang-format -i

clean:
	$(call msg,CLEAN,$(B))
	$(Q)rm -rf $(B)
