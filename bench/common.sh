# common.sh: sourced by bench scripts that make instances, pins under $PINS, a $WORK directory
# and namespaces of their own, and turn on the kernel's program statistics: one cleanup for all,
# run on any exit. Callers add to INSTS (instance names), NSS (namespaces) and UNINSTALLERS
# (the ironclaw-pipe binaries that may have installed them).
STATS_OLD=$(sysctl -n kernel.bpf_stats_enabled)
INSTS=()
NSS=()
UNINSTALLERS=()

bench_cleanup() {
	local i b n
	set +e
	sysctl -qw kernel.bpf_stats_enabled="$STATS_OLD"
	for i in "${INSTS[@]:-}"; do
		[ -n "$i" ] || continue
		for b in "${UNINSTALLERS[@]:-}"; do
			[ -n "$b" ] && "$b" uninstall --name "$i" >/dev/null 2>&1
		done
	done
	rm -rf "$PINS" "$WORK"
	for n in "${NSS[@]:-}"; do
		[ -n "$n" ] && ip netns del "$n" 2>/dev/null
	done
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
