#!/usr/bin/env bash
# cni_cost.sh BUILD [N]: what one CNI instance costs: kernel memory (the memlock bpftool reports for
# the programs and maps an ADD adds) and the time of ADD and DEL, over N containers (default 5) on
# one bridge, in namespaces of its own. As root, alone (flock /tmp/ironclaw-root-tests.lock).
set -eu
B=${1:-build}
N=${2:-5}
P=iccost$$
W=$(mktemp -d)
chmod 0755 "$W"
cleanup() {
	for i in $(seq "$N"); do
		[ -e "$W/res$i" ] && jq -c --argjson p "$(cat "$W/res$i")" '.plugins[1] + {cniVersion, name, prevResult: $p}' "$W/l" |
			nsenter --net=/run/netns/${P}h env -i CNI_COMMAND=DEL CNI_CONTAINERID=c$i CNI_NETNS=/run/netns/$P$i CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni "$B/cni/ironclaw-pipe" >/dev/null 2>&1
		[ -e "$W/res$i" ] && jq -c --argjson p "$(cat "$W/res$i")" '.plugins[0] + {cniVersion, name, prevResult: $p}' "$W/l" |
			nsenter --net=/run/netns/${P}h env -i CNI_COMMAND=DEL CNI_CONTAINERID=c$i CNI_NETNS=/run/netns/$P$i CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni /usr/lib/cni/bridge >/dev/null 2>&1
		ip netns del "$P$i" 2>/dev/null
	done
	ip netns del "${P}h" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
memlock() { { bpftool -j prog show; bpftool -j map show; } | jq -s '[.[][] | .bytes_memlock // 0 | tonumber] | add'; }
ms() { echo $(($(date +%s%N) / 1000000)); }
mkdir -p "$W/prof"
cp rules.d/*.rules "$W/prof/"
sed -i '/tool /d' "$W/prof/"*.rules
jq -n --arg d "$W/ipam" --arg p "$W/prof" '{cniVersion: "1.0.0", name: "cost", plugins: [
	{type: "bridge", bridge: "costbr0", isGateway: true, ipMasq: false,
	 ipam: {type: "host-local", ranges: [[{subnet: "10.91.0.0/24"}]], dataDir: $d}},
	{type: "ironclaw-pipe", profile: $p}]}' >"$W/l"
ip netns add "${P}h"
echo "instance  memlock_bytes  add_ms  (profile: rules.d without tool rules)"
for i in $(seq "$N"); do
	ip netns add "$P$i"
	env_=(env -i CNI_CONTAINERID=c$i CNI_NETNS=/run/netns/$P$i CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni)
	r=$(jq -c '.plugins[0] + {cniVersion, name}' "$W/l" | nsenter --net=/run/netns/${P}h "${env_[@]}" CNI_COMMAND=ADD /usr/lib/cni/bridge)
	before=$(memlock)
	t0=$(ms)
	jq -c --argjson p "$r" '.plugins[1] + {cniVersion, name, prevResult: $p}' "$W/l" |
		nsenter --net=/run/netns/${P}h "${env_[@]}" CNI_COMMAND=ADD "$B/cni/ironclaw-pipe" >/dev/null
	t1=$(ms)
	echo "$r" >"$W/res$i"
	echo "c$i  $(($(memlock) - before))  $((t1 - t0))"
done
t0=$(ms)
jq -c --argjson p "$(cat "$W/res1")" '.plugins[1] + {cniVersion, name, prevResult: $p}' "$W/l" |
	nsenter --net=/run/netns/${P}h env -i CNI_COMMAND=DEL CNI_CONTAINERID=c1 CNI_NETNS=/run/netns/${P}1 CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni "$B/cni/ironclaw-pipe"
echo "DEL of c1: $(($(ms) - t0)) ms"
