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

# sandbox_veth S C: namespaces S (the sandbox, sbx0 10.42.0.2) and C (the host side, host0
# 10.42.0.1) joined by a veth pair, up; both made and removed on exit
sandbox_veth() {
	ip netns add "$1"
	NSS+=("$1")
	ip netns add "$2"
	NSS+=("$2")
	ip link add sbx0 netns "$1" type veth peer name host0 netns "$2"
	ip -n "$1" addr add 10.42.0.2/24 dev sbx0
	ip -n "$2" addr add 10.42.0.1/24 dev host0
	ip -n "$1" link set sbx0 up
	ip -n "$2" link set host0 up
}

# host_install xdp|tc PROFILE S C NAME: $BIN's pipeline at host0's tc ingress in C (and its XDP
# with xdp), the sandbox S; removed on exit
host_install() {
	local xdp=()
	[ "$1" = xdp ] && xdp=(--xdp "host0@$4")
	INSTS+=("$5")
	"$BIN" install --profile "$2" "${xdp[@]}" --tc-ingress "host0@$4" --sandbox-netns "$3" \
		--name "$5" >/dev/null
}
