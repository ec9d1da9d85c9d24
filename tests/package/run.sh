#!/usr/bin/env bash
# package/run.sh: what `make install`, `make uninstall` and `make deb` put on a machine: the files,
# the systemd units (systemd-analyze verify), the man pages, bash completion, and the .deb
# installed with apt and removed again. Prints PASS/FAIL per check and "package: N passed, N failed".
#   tests/package/run.sh [BUILD]   (from the top of the repository, as root)
set -u
BUILD=${1:-build}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/../checks.sh"

# the files install puts below DESTDIR (PREFIX=/usr), and nothing of them after uninstall
install_and_uninstall() {
	local d=$TMP/dest f want
	make --no-print-directory install DESTDIR="$d" PREFIX=/usr B="$BUILD" >/dev/null || return 1
	want="etc/ironclaw-pipe/profiles/default/10-dns.rules
etc/ironclaw-pipe/profiles/default/20-https.rules
etc/ironclaw-pipe/profiles/default/30-internal.rules
usr/include/ironclaw/stage.h
usr/lib/ironclaw-pipe/examples/stage_postgres.bpf.o
usr/lib/ironclaw-pipe/stages/stage_dns.bpf.o
usr/lib/ironclaw-pipe/stages/stage_https.bpf.o
usr/lib/ironclaw-pipe/stages/stage_internal.bpf.o
usr/lib/systemd/system/ironclaw-pipe-collect.service
usr/lib/systemd/system/ironclaw-pipe@.service
usr/sbin/ironclaw-pipe
usr/share/bash-completion/completions/ironclaw-pipe
usr/share/ironclaw-pipe/examples/stage_postgres.bpf.c
usr/share/man/man5/ironclaw-pipe-instance.5
usr/share/man/man8/ironclaw-pipe.8"
	for f in $(cd "$d" && find . -type f | sed 's|^\./||' | sort); do
		case " $want " in *"$f"*) ;; *) [ -e "$BUILD/cni/ironclaw-pipe" ] ||
			{ echo "unexpected file $f"; return 1; } ;; esac
	done
	for f in $want; do [ -f "$d/$f" ] || { echo "missing $f"; return 1; }; done
	grep -q "^ExecStart=/usr/sbin/ironclaw-pipe restore --journald %i$" "$d/usr/lib/systemd/system/ironclaw-pipe@.service" ||
		{ echo "the unit's ExecStart: $(grep ExecStart "$d/usr/lib/systemd/system/ironclaw-pipe@.service")"; return 1; }
	grep -q "^ExecStart=/usr/sbin/ironclaw-pipe collect --journald$" "$d/usr/lib/systemd/system/ironclaw-pipe-collect.service" ||
		{ echo "the collector unit's ExecStart: $(grep ExecStart "$d/usr/lib/systemd/system/ironclaw-pipe-collect.service")"; return 1; }
	"$d/usr/sbin/ironclaw-pipe" --version | grep -q '^ironclaw-pipe [0-9]' || return 1
	# a profile changed by its user is kept by another install and by uninstall
	echo "allow tcp 10.42.7.99 port 80" >>"$d/etc/ironclaw-pipe/profiles/default/30-internal.rules"
	make --no-print-directory install DESTDIR="$d" PREFIX=/usr B="$BUILD" >/dev/null || return 1
	grep -q 10.42.7.99 "$d/etc/ironclaw-pipe/profiles/default/30-internal.rules" ||
		{ echo "install overwrote a changed profile"; return 1; }
	make --no-print-directory uninstall DESTDIR="$d" PREFIX=/usr >/dev/null || return 1
	[ "$(cd "$d" && find . -type f | sed 's|^\./||')" = etc/ironclaw-pipe/profiles/default/30-internal.rules ] ||
		{ echo "uninstall left: $(cd "$d" && find . -type f)"; return 1; }
}

# the unit and the example sandbox unit, as systemd reads them, with the binary where they say
units_verify() {
	local p=$TMP/prefix out
	make --no-print-directory install PREFIX="$p" DESTDIR= B="$BUILD" >/dev/null || return 1
	sed "s|@SBINDIR@|$p/sbin|g" deploy/systemd/examples/scraper.service >"$p/lib/systemd/system/scraper.service"
	out=$(cd "$p/lib/systemd/system" && MANPATH=$p/share/man systemd-analyze verify \
		ironclaw-pipe@scraper.service ironclaw-pipe-collect.service scraper.service 2>&1) || { echo "$out"; return 1; }
	[ -z "$out" ] || { echo "$out"; return 1; }
	make --no-print-directory uninstall PREFIX="$p" DESTDIR= >/dev/null
	rm -f "$p/lib/systemd/system/scraper.service"
}

# the man pages render without a warning
man_pages() {
	local m out
	for m in docs/*.[0-9]; do
		out=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$m" 2>&1)
		[ -z "$out" ] || { echo "$m: $out"; return 1; }
	done
}

# completion: the commands, an instance's options, instance names for restore
completion() {
	local got
	# shellcheck disable=SC1091
	. deploy/bash-completion/ironclaw-pipe
	COMP_WORDS=("$BUILD/ironclaw-pipe" re)
	COMP_CWORD=1
	_ironclaw_pipe
	got=" ${COMPREPLY[*]} "
	for w in reload restore revoke; do
		[[ $got == *" $w "* ]] || { echo "'re<TAB>' gave:$got"; return 1; }
	done
	COMP_WORDS=("$BUILD/ironclaw-pipe" allow --pe)
	COMP_CWORD=2
	_ironclaw_pipe
	[ "${COMPREPLY[*]}" = --persist ] || { echo "'allow --pe<TAB>' gave: ${COMPREPLY[*]}"; return 1; }
}

# the .deb: its dependencies, then installed with apt, used, and purged (when the machine has
# no ironclaw-pipe package of its own)
deb_package() {
	local deb
	deb=$(make --no-print-directory deb B="$BUILD" | tail -1) || return 1
	dpkg-deb -f "$deb" Depends | grep -q "libbpf1 (>= .*libxdp1 (>= " ||
		{ echo "Depends: $(dpkg-deb -f "$deb" Depends)"; return 1; }
	dpkg-deb -c "$deb" | grep -q ' ./lib/systemd/system/ironclaw-pipe@.service$' || return 1
	if dpkg -s ironclaw-pipe >/dev/null 2>&1; then
		echo "    (the machine has an ironclaw-pipe package: not installing over it)"
		return 0
	fi
	timeout 120 apt-get install -y -o DPkg::Lock::Timeout=60 --no-install-recommends "./$deb" >"$TMP/apt.log" 2>&1 ||
		{ tail -5 "$TMP/apt.log"; return 1; }
	/usr/sbin/ironclaw-pipe --version | grep -q '^ironclaw-pipe [0-9]' &&
		systemd-analyze verify ironclaw-pipe@scraper.service ironclaw-pipe-collect.service \
			>"$TMP/verify.log" 2>&1 &&
		[ ! -s "$TMP/verify.log" ] && man -w ironclaw-pipe-instance >/dev/null ||
		{ cat "$TMP/verify.log"; timeout 120 apt-get purge -y -o DPkg::Lock::Timeout=60 ironclaw-pipe >/dev/null 2>&1; return 1; }
	timeout 120 apt-get purge -y -o DPkg::Lock::Timeout=60 ironclaw-pipe >"$TMP/apt.log" 2>&1 || { tail -5 "$TMP/apt.log"; return 1; }
	[ ! -e /usr/sbin/ironclaw-pipe ] && [ ! -e /etc/ironclaw-pipe/profiles/default ] ||
		{ echo "purge left files"; return 1; }
}

check "make install and uninstall" install_and_uninstall
check "systemd-analyze verify of the units" units_verify
check "man pages" man_pages
check "bash completion" completion
check "make deb, apt install and purge" deb_package
checks_summary package
