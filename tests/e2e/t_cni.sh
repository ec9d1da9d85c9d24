# t_cni.sh: the CNI plugin, called as a runtime calls it: Debian's reference plugins (bridge +
# host-local, ptp) and ours in a conflist chain, one step at a time as libcni runs it, in a "host"
# namespace the test makes; then real traffic from the container's namespace, CHECK, DEL and gc.

area cni "" "" \
	test_cni_version test_cni_bridge_chain test_cni_two_containers_on_a_bridge \
	test_cni_add_refreshes_other_instances test_cni_ptp \
	test_cni_bad_configs test_cni_gc test_cni_kubernetes_conflist

CNI_BIN=$BUILD/cni/ironclaw-pipe
CNI_REF=/usr/lib/cni                     # Debian's containernetworking-plugins
CNI_HOST=${NET_PREFIX}cnihost            # the "node": bridge, host-side veths, servers
CNI_C1=${NET_PREFIX}cnic1                # containers
CNI_C2=${NET_PREFIX}cnic2

# cni_up: the node's namespace with the servers on its loopback, two container namespaces
cni_up() {
	[ -x "$CNI_REF/bridge" ] || fail "no $CNI_REF/bridge: make deps installs containernetworking-plugins" || return 1
	mkdir -p "$WORK/cni-path" "$WORK/ipam"
	ln -sf "$CNI_REF"/* "$WORK/cni-path/"
	ln -sf "$(realpath "$CNI_BIN")" "$WORK/cni-path/ironclaw-pipe"
	ip netns add "$CNI_HOST" && defer ip netns del "$CNI_HOST"
	ip netns add "$CNI_C1" && defer ip netns del "$CNI_C1"
	ip netns add "$CNI_C2" && defer ip netns del "$CNI_C2"
	ip -n "$CNI_HOST" link set lo up
	ip -n "$CNI_HOST" addr add 10.42.7.11/32 dev lo
	for port in 8080 8081; do
		ip netns exec "$CNI_HOST" "$BUILD/netprobe" serve tcp 10.42.7.11 $port --timeout-ms 120000 \
			>"$WORK/cni-serve-$port.log" 2>&1 &
	done
	for _ in $(seq 50); do
		ip netns exec "$CNI_HOST" sh -c 'grep -q ":1F91 " /proc/net/tcp' && break
		sleep 0.05
	done
	# whatever the test leaves: our instances go (gc cannot know a test ended)
	defer cni_instances_down
}

# the instances of the plugin a test made, by the names it recorded
cni_instances_down() {
	local n
	for n in $(cat "$WORK/cni-names" 2>/dev/null); do
		"$BIN" block --name "$n"
		"$BIN" uninstall --name "$n"
	done
	rm -f "$WORK/cni-names"
}

# cni_name NETWORK CONTAINER IFNAME: the instance the plugin makes: cni- and 16 hex of SHA-256
cni_name() {
	echo "cni-$(printf '%s\0%s\0%s\0' "$1" "$2" "$3" | sha256sum | cut -c1-16)"
}

# cni_exec CMD ID NETNS CONF-JSON [CNI_ARGS]: one plugin (of the config's type), as a runtime
# runs it: in the node's namespace, config on stdin, the CNI_* variables, nothing else
cni_exec() {
	local cmd=$1 id=$2 ns=$3 conf=$4 args=${5:-} type
	type=$(jq -r .type <<<"$conf" 2>/dev/null) || type=ironclaw-pipe
	nsenter --net="/run/netns/$CNI_HOST" env -i PATH="$PATH" CNI_COMMAND="$cmd" \
		CNI_CONTAINERID="$id" CNI_NETNS="$ns" CNI_IFNAME="${CNI_IFNAME:-eth0}" \
		CNI_PATH="$WORK/cni-path" CNI_ARGS="$args" "$WORK/cni-path/$type" <<<"$conf"
}

# cni_list CMD CONFLIST ID NETNS [CNI_ARGS]: the chain, as libcni runs it: ADD in order, each
# plugin given the previous result as prevResult (the last result is kept for CHECK and DEL);
# CHECK in order and DEL in reverse, each with the kept result
cni_list() {
	local cmd=$1 list=$2 id=$3 ns=$4 args=${5:-} n i conf prev res cache=$WORK/cni-result-$3
	n=$(jq '.plugins | length' "$list")
	prev=$(cat "$cache" 2>/dev/null)
	[ "$cmd" = ADD ] && prev=
	local order=$(seq 0 $((n - 1)))
	[ "$cmd" = DEL ] && order=$(seq $((n - 1)) -1 0)
	for i in $order; do
		conf=$(jq -c --argjson i "$i" --argjson prev "${prev:-null}" \
			'.plugins[$i] + {cniVersion: .cniVersion, name: .name} +
			 (if $prev then {prevResult: $prev} else {} end)' "$list")
		res=$(cni_exec "$cmd" "$id" "$ns" "$conf" "$args") || {
			echo "$res"
			return 1
		}
		if [ "$cmd" = ADD ]; then
			prev=$res
			echo "$res" >"$WORK/cni-step-$i"
			# a test's step between the plugins (CNI_BETWEEN: a command, given the step)
			[ -n "${CNI_BETWEEN:-}" ] && [ "$i" -lt $((n - 1)) ] && { $CNI_BETWEEN "$i" || return 1; }
			[ "$(jq -r .type <<<"$conf")" = ironclaw-pipe ] &&
				cni_name "$(jq -r .name "$list")" "$id" "${CNI_IFNAME:-eth0}" >>"$WORK/cni-names"
		fi
	done
	[ "$cmd" = ADD ] && echo "$prev" >"$cache" && echo "$prev"
	[ "$cmd" = DEL ] && rm -f "$cache"
	return 0
}

# cni_conflist FILE NAME FIRST-PLUGIN-JSON OUR-PLUGIN-JSON [VERSION]: a conflist of two
cni_conflist() {
	jq -n --arg name "$2" --argjson a "$3" --argjson b "$4" --arg v "${5:-1.0.0}" \
		'{cniVersion: $v, name: $name, plugins: [$a, $b]}' >"$1"
}

cni_bridge() {
	jq -n --arg dir "$WORK/ipam" '{type: "bridge", bridge: "icpbr0", isGateway: true,
		ipMasq: false, ipam: {type: "host-local", ranges: [[{subnet: "10.89.0.0/24"}]],
		routes: [{dst: "0.0.0.0/0"}], dataDir: $dir}}'
}

# cni_profile DIR PORT: a profile that allows tcp 10.42.7.11 PORT, nothing else
cni_profile() {
	mkdir -p "$1"
	echo "allow tcp 10.42.7.11 port $2" >"$1/10-collector.rules"
}

# reach NETNS PORT ok|denied: a TCP connect from the container to the node's server
reach() {
	local out
	out=$(ip netns exec "$1" "$BUILD/netprobe" connect 10.42.7.11 "$2" --timeout-ms 1500 2>/dev/null)
	case $3:$out in
	ok:"ok "*) ;;
	denied:"fail "*ETIMEDOUT) ;;
	*) fail "$1 -> 10.42.7.11:$2: want $3, got: $out" ;;
	esac
}

# no_trace NAME: nothing of instance NAME is left: pins, runtime state
no_trace() {
	[ ! -e "$PIN_ROOT/$1" ] || fail "pins of $1 left: $(ls "$PIN_ROOT/$1")" || return 1
	[ ! -e "$STATE_DIR/$1" ] || fail "state of $1 left: $(ls "$STATE_DIR/$1")"
}

# link_ids NAME: the ids of the BPF links instance NAME has pinned
link_ids() {
	local p
	for p in "$PIN_ROOT/$1"/link*; do
		[ -e "$p" ] && bpftool -j link show pinned "$p" | jq -r .id
	done
}

test_cni_version() {
	local out
	out=$(echo '{"cniVersion":"1.0.0"}' | CNI_COMMAND=VERSION "$CNI_BIN")
	[ "$out" = '{"cniVersion":"1.0.0","supportedVersions":["0.4.0","1.0.0"]}' ] ||
		fail "VERSION: $out"
}

test_cni_bridge_chain() {
	local list=$WORK/bridge.conflist res veth name out rc before
	cni_up || return 1
	cni_profile "$WORK/prof-a" 8080
	cni_conflist "$list" icpcni "$(cni_bridge)" "{\"type\":\"ironclaw-pipe\",\"profile\":\"$WORK/prof-a\"}"
	res=$(cni_list ADD "$list" c1id "/run/netns/$CNI_C1") || fail "ADD: $res" || return 1
	# our plugin printed the bridge's result on, unchanged
	[ "$(jq -S . "$WORK/cni-step-0")" = "$(jq -S . "$WORK/cni-step-1")" ] ||
		fail "the result changed: $(cat "$WORK/cni-step-0") became $res" || return 1
	veth=$(jq -r '.interfaces[] | select(.sandbox == null and .name != "icpbr0") | .name' <<<"$res")
	name=$(cni_name icpcni c1id eth0)
	[ -d "$PIN_ROOT/$name" ] || fail "no pins for $name" || return 1
	grep -qx "container=c1id" "$STATE_DIR/$name/cni.conf" && grep -qx "host_if=$veth" "$STATE_DIR/$name/cni.conf" ||
		fail "the attachment is not kept: $(cat "$STATE_DIR/$name/cni.conf")" || return 1
	"$BIN" status --name "$name" | grep -q "$veth" || fail "status: $("$BIN" status --name "$name")" || return 1
	# the container's traffic: through the bridge to the gateway, judged at the host-side veth
	reach "$CNI_C1" 8080 ok || return 1
	reach "$CNI_C1" 8081 denied || return 1
	[ "$(count_of "$name" no_rule)" -ge 1 ] || fail "no no_rule counted" || return 1
	out=$(cni_list CHECK "$list" c1id "/run/netns/$CNI_C1") || fail "CHECK: $out" || return 1
	# DEL: ours first (reverse order): its link comes off the veth, its pins and state go
	before=$(link_ids "$name")
	[ -n "$before" ] || fail "no link pinned for $name before DEL" || return 1
	out=$(cni_exec DEL c1id "/run/netns/$CNI_C1" "$(jq -c --argjson p "$res" '.plugins[1] + {cniVersion, name, prevResult: $p}' "$list")") ||
		fail "DEL: $out" || return 1
	for id in $before; do
		! bpftool link show id "$id" >/dev/null 2>&1 || fail "link $id is left after DEL" || return 1
	done
	no_trace "$name" || return 1
	# DEL again, and without prevResult: still success
	out=$(cni_exec DEL c1id "/run/netns/$CNI_C1" "$(jq -c '.plugins[1] + {cniVersion, name}' "$list")") ||
		fail "a second DEL: $out" || return 1
	# CHECK of a deleted instance: an error object
	out=$(cni_exec CHECK c1id "/run/netns/$CNI_C1" "$(jq -c --argjson p "$res" '.plugins[1] + {cniVersion, name, prevResult: $p}' "$list")")
	rc=$?
	[ $rc != 0 ] && [ "$(jq .code <<<"$out")" = 104 ] || fail "CHECK after DEL: exit $rc: $out" || return 1
	cni_list DEL "$list" c1id "/run/netns/$CNI_C1" >/dev/null || fail "DEL of the chain" || return 1
	no_trace "$name"
}

# count_of INSTANCE REASON: packets that instance counted for REASON
count_of() {
	"$BIN" status --name "$1" --json |
		grep -o "\"$2\":{\"verdict\":\"[a-z]*\",\"packets\":[0-9]*" | grep -o '[0-9]*$'
}

test_cni_two_containers_on_a_bridge() {
	local list_a=$WORK/a.conflist list_b=$WORK/b.conflist out
	cni_up || return 1
	cni_profile "$WORK/prof-a" 8080
	cni_profile "$WORK/prof-b" 8081
	# one network, one bridge; the container's profile is per conflist here (per namespace below)
	cni_conflist "$list_a" icpcni "$(cni_bridge)" "{\"type\":\"ironclaw-pipe\",\"profile\":\"$WORK/prof-a\"}"
	cni_conflist "$list_b" icpcni "$(cni_bridge)" "{\"type\":\"ironclaw-pipe\",\"profile\":\"$WORK/prof-b\"}"
	out=$(cni_list ADD "$list_a" c1id "/run/netns/$CNI_C1") || fail "ADD c1: $out" || return 1
	out=$(cni_list ADD "$list_b" c2id "/run/netns/$CNI_C2") || fail "ADD c2: $out" || return 1
	reach "$CNI_C1" 8080 ok || return 1
	reach "$CNI_C1" 8081 denied || return 1
	reach "$CNI_C2" 8081 ok || return 1
	reach "$CNI_C2" 8080 denied || return 1
	cni_list DEL "$list_a" c1id "/run/netns/$CNI_C1" >/dev/null || fail "DEL c1" || return 1
	no_trace "$(cni_name icpcni c1id eth0)" || return 1
	# the other container keeps its filter
	reach "$CNI_C2" 8080 denied || return 1
	reach "$CNI_C2" 8081 ok || return 1
	cni_list DEL "$list_b" c2id "/run/netns/$CNI_C2" >/dev/null || fail "DEL c2" || return 1
	no_trace "$(cni_name icpcni c2id eth0)"
}

# bridge_mac: the node's bridge's MAC
bridge_mac() { ip -n "$CNI_HOST" -j link show icpbr0 | jq -r '.[0].address'; }

# new_bridge_mac STEP: between the bridge plugin and ours, the bridge's MAC changes (a bridge
# whose MAC was never set takes its lowest port's; Debian's bridge plugin sets it, but the node's
# own network tools may set it again): container 1's filter knows the old one
new_bridge_mac() {
	ip -n "$CNI_HOST" link set dev icpbr0 address 02:00:00:00:00:01 || return 1
	# container 1 asks for the gateway's MAC again: frames to the new one; not refreshed, denied
	ip -n "$CNI_C1" neigh flush all
	reach "$CNI_C1" 8080 denied || return 1
	[ "$(count_of "$(cni_name icpcni c1id eth0)" l2_dst)" -ge 1 ] ||
		fail "container 1's frames to the bridge's new MAC were not denied as l2_dst" || return 1
}

# the bridge's MAC changed since a container's ADD: the next ADD refreshes every other CNI
# instance's layer 2, so their containers reach the gateway at its new MAC
test_cni_add_refreshes_other_instances() {
	local list=$WORK/a.conflist out
	cni_up || return 1
	cni_profile "$WORK/prof-a" 8080
	cni_conflist "$list" icpcni "$(cni_bridge)" "{\"type\":\"ironclaw-pipe\",\"profile\":\"$WORK/prof-a\"}"
	out=$(cni_list ADD "$list" c1id "/run/netns/$CNI_C1") || fail "ADD c1: $out" || return 1
	reach "$CNI_C1" 8080 ok || return 1
	out=$(CNI_BETWEEN=new_bridge_mac cni_list ADD "$list" c2id "/run/netns/$CNI_C2") ||
		fail "ADD c2: $out" || return 1
	ip -n "$CNI_C1" neigh flush all
	reach "$CNI_C1" 8080 ok || return 1
	reach "$CNI_C2" 8080 ok || return 1
	cni_list DEL "$list" c2id "/run/netns/$CNI_C2" >/dev/null && cni_list DEL "$list" c1id "/run/netns/$CNI_C1" >/dev/null ||
		fail "DEL"
}

test_cni_ptp() {
	local list=$WORK/ptp.conflist out ptp
	cni_up || return 1
	cni_profile "$WORK/prof-a" 8080
	ptp=$(jq -n --arg dir "$WORK/ipam" '{type: "ptp", ipMasq: false, ipam: {type: "host-local",
		ranges: [[{subnet: "10.90.0.0/24"}]], routes: [{dst: "0.0.0.0/0"}], dataDir: $dir}}')
	# spec 0.4.0 this time
	cni_conflist "$list" icpptp "$ptp" "{\"type\":\"ironclaw-pipe\",\"profile\":\"$WORK/prof-a\"}" 0.4.0
	out=$(cni_list ADD "$list" c1id "/run/netns/$CNI_C1") || fail "ADD: $out" || return 1
	reach "$CNI_C1" 8080 ok || return 1
	reach "$CNI_C1" 8081 denied || return 1
	out=$(cni_list CHECK "$list" c1id "/run/netns/$CNI_C1") || fail "CHECK: $out" || return 1
	cni_list DEL "$list" c1id "/run/netns/$CNI_C1" >/dev/null || fail "DEL" || return 1
	no_trace "$(cni_name icpptp c1id eth0)"
}

# refused CODE PATTERN CONF [NETNS] [CNI_ARGS]: ADD of our plugin alone exits non-zero with a
# CNI error object of that code whose msg matches, and leaves no instance
refused() {
	local code=$1 pat=$2 conf=$3 ns=${4:-/run/netns/$CNI_C1} args=${5:-} out rc
	out=$(cni_exec ADD badid "$ns" "$conf" "$args" 2>/dev/null)
	rc=$?
	[ $rc != 0 ] && [ "$(jq .code <<<"$out")" = "$code" ] && jq -r '.msg + " " + (.details // "")' <<<"$out" | grep -q -- "$pat" ||
		fail "want code $code, '$pat': exit $rc: $out" || return 1
	no_trace "$(cni_name "$(jq -r .name <<<"$conf" 2>/dev/null)" badid eth0)" || return 1
	[ -z "$(ls "$PIN_ROOT" 2>/dev/null | grep '^cni-')" ] || fail "an instance is left: $(ls "$PIN_ROOT")"
}

test_cni_bad_configs() {
	local list=$WORK/bridge.conflist res ok hostless noprof tools
	cni_up || return 1
	cni_profile "$WORK/prof-a" 8080
	mkdir -p "$WORK/prof-tools" "$WORK/profiles-empty"
	echo "allow tcp 10.42.7.11 port 8080 tool scraper" >"$WORK/prof-tools/10-tool.rules"
	cni_conflist "$list" icpcni "$(cni_bridge)" "{\"type\":\"ironclaw-pipe\",\"profile\":\"$WORK/prof-a\"}"
	# a real interface plugin's result, for the prevResult of the rows
	res=$(cni_exec ADD badid "/run/netns/$CNI_C1" "$(jq -c '.plugins[0] + {cniVersion, name}' "$list")") ||
		fail "bridge ADD: $res" || return 1
	defer cni_exec DEL badid "/run/netns/$CNI_C1" "$(jq -c '.plugins[0] + {cniVersion, name}' "$list")"
	# ok [JSON]: a good configuration of ours, with JSON's members over it
	ok() {
		local extra=${1:-'{}'}
		jq -c --argjson p "$res" --arg prof "$WORK/prof-a" '{cniVersion: "1.0.0", name: "icpcni",
			type: "ironclaw-pipe", profile: $prof, prevResult: $p} + '"$extra" -n
	}
	hostless=$(jq -c '.interfaces |= map(select(.sandbox != null))' <<<"$res")
	each_row refused <<-EOF || return 1
		7 'either "profile": DIR or "profiles": DIR' "\$(ok | jq -c 'del(.profile)')"
		7 'not both' "\$(ok '{"profiles": "/etc"}')"
		102 "no profile for the pod of namespace 'team-a'" "\$(ok | jq -c --arg d "$WORK/profiles-empty" 'del(.profile) + {profiles: \$d}')" /run/netns/$CNI_C1 "K8S_POD_NAMESPACE=team-a"
		102 "$WORK/nonexistent" "\$(ok '{"profile": "$WORK/nonexistent"}')"
		102 "rules for a tool" "\$(ok '{"profile": "$WORK/prof-tools"}')"
		101 'no interface without "sandbox"' "\$(ok | jq -c --argjson p '$hostless' '.prevResult = \$p')"
		7 'no prevResult' "\$(ok | jq -c 'del(.prevResult)')"
		103 "no network namespace '/run/netns/nonexistent'" "\$(ok)" /run/netns/nonexistent
		1 'cniVersion "9.9.9"' "\$(ok '{"cniVersion": "9.9.9"}')"
		6 'not a JSON object' '{"cniVersion": "1.0.0", "name": '
		7 'needs a "name"' "\$(ok | jq -c 'del(.name)')"
	EOF
	# the bridge's veth alone, and none of ours, on the node
	[ -z "$(ls "$PIN_ROOT" 2>/dev/null | grep '^cni-')" ] || fail "instances left: $(ls "$PIN_ROOT")"
	# an interface that is not the veth's peer is not taken for it: the bridge alone
	refused 101 "is the host-side peer" "$(ok | jq -c '.prevResult.interfaces |= map(if .sandbox == null then .name = "icpbr0" else . end)')" || return 1
	# environment: no container id
	local out
	out=$(nsenter --net="/run/netns/$CNI_HOST" env -i CNI_COMMAND=ADD CNI_IFNAME=eth0 CNI_NETNS=/run/netns/$CNI_C1 "$CNI_BIN" <<<"$(ok)")
	[ "$(jq .code <<<"$out")" = 4 ] || fail "no CNI_CONTAINERID: $out"
}

test_cni_gc() {
	local list=$WORK/bridge.conflist out name
	cni_up || return 1
	cni_profile "$WORK/prof-a" 8080
	cni_conflist "$list" icpcni "$(cni_bridge)" "{\"type\":\"ironclaw-pipe\",\"profile\":\"$WORK/prof-a\"}"
	out=$(cni_list ADD "$list" c1id "/run/netns/$CNI_C1") || fail "ADD c1: $out" || return 1
	out=$(cni_list ADD "$list" c2id "/run/netns/$CNI_C2") || fail "ADD c2: $out" || return 1
	name=$(cni_name icpcni c1id eth0)
	# the runtime forgets DEL: the container's namespace goes, and its veth with it
	ip netns del "$CNI_C1"
	out=$(nsenter --net="/run/netns/$CNI_HOST" "$BIN" gc) || fail "gc: $out" || return 1
	echo "$out" | grep -q "removed instance '$name' (container c1id, interface eth0)" ||
		fail "gc: $out" || return 1
	echo "$out" | grep -q "gc: 1 CNI instance removed" || fail "gc: $out" || return 1
	no_trace "$name" || return 1
	# the live container's instance stays, and filters
	[ -d "$PIN_ROOT/$(cni_name icpcni c2id eth0)" ] || fail "gc removed the live container's" || return 1
	reach "$CNI_C2" 8081 denied || return 1
	# gc run in another namespace than the node's leaves the node's instances alone
	out=$("$BIN" gc) && [ -d "$PIN_ROOT/$(cni_name icpcni c2id eth0)" ] || fail "gc elsewhere: $out" || return 1
	ip netns add "$CNI_C1"
	cni_list DEL "$list" c1id "/run/netns/$CNI_C1" >/dev/null || fail "DEL c1 after gc" || return 1
	cni_list DEL "$list" c2id "/run/netns/$CNI_C2" >/dev/null || fail "DEL c2" || return 1
	no_trace "$(cni_name icpcni c2id eth0)"
}

# the manifests parse, and say what the DaemonSet needs of itself (no cluster here to ask)
k8s_manifests_check() {
	python3 - deploy/kubernetes/daemonset.yaml deploy/kubernetes/configmap-profiles.yaml <<-'PY'
		import sys, yaml
		docs = {d["kind"]: d for f in sys.argv[1:] for d in yaml.safe_load_all(open(f))}
		ds, cm = docs["DaemonSet"], docs["ConfigMap"]
		assert ds["apiVersion"] == "apps/v1" and cm["apiVersion"] == "v1"
		spec = ds["spec"]
		assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
		pod = spec["template"]["spec"]
		vols = {v["name"]: v for v in pod["volumes"]}
		for c in pod["initContainers"] + pod["containers"]:
		    assert c["image"] and c["command"], c["name"]
		    for m in c.get("volumeMounts", []):
		        assert m["name"] in vols, (c["name"], m["name"])
		assert vols["profiles-src"]["configMap"]["name"] == cm["metadata"]["name"]
		assert pod["initContainers"][0]["command"][-1] == "install"
		for key in cm["data"]:
		    ns, _, f = key.partition(".")
		    assert ns and f.endswith(".rules"), key
		print("ok")
	PY
}

test_cni_kubernetes_conflist() {
	local list=$WORK/k8s/etc/cni/net.d/10-bridge.conflist out src=$WORK/k8s/configmap dest=$WORK/k8s/profiles
	out=$(k8s_manifests_check 2>&1) || fail "manifests: $out" || return 1
	cni_up || return 1
	# the node's conflist before the DaemonSet: an interface plugin alone
	mkdir -p "${list%/*}" "$src"
	jq -n --argjson b "$(cni_bridge)" '{cniVersion: "1.0.0", name: "k8s-pod-network", plugins: [$b]}' >"$list"
	PROFILES_DIR=$dest deploy/kubernetes/ironclaw-node.sh conflist "$list" >/dev/null || fail "conflist" || return 1
	PROFILES_DIR=$dest deploy/kubernetes/ironclaw-node.sh conflist "$list" | grep -q "already chains" ||
		fail "a second run changed the conflist again" || return 1
	[ "$(jq -c '[.plugins[].type]' "$list")" = '["bridge","ironclaw-pipe"]' ] &&
		[ "$(jq -r '.plugins[1].profiles' "$list")" = "$dest" ] || fail "conflist: $(cat "$list")" || return 1
	# the ConfigMap's volume: a file per key, as symlinks like the kubelet makes them
	mkdir -p "$src/..data"
	python3 -c '
import sys, yaml
cm = yaml.safe_load(open("deploy/kubernetes/configmap-profiles.yaml"))
for k, v in cm["data"].items():
    open(sys.argv[1] + "/..data/" + k, "w").write(v)' "$src" || fail "configmap" || return 1
	for f in "$src/..data"/*; do ln -s "..data/${f##*/}" "$src/${f##*/}"; done
	# the shipped profiles allow the cluster DNS; the test's pods reach 10.42.7.11 by these
	echo "allow tcp 10.42.7.11 port 8081" >"$src/..data/default.20-test.rules"
	ln -s ..data/default.20-test.rules "$src/default.20-test.rules"
	deploy/kubernetes/ironclaw-node.sh sync "$src" "$dest" || fail "sync" || return 1
	[ -f "$dest/scrapers/30-internal.rules" ] && [ ! -L "$dest/scrapers/30-internal.rules" ] &&
		[ -f "$dest/default/10-dns.rules" ] || fail "sync made: $(find "$dest")" || return 1
	# a pod of namespace scrapers gets its profile, one of any other namespace the default
	out=$(cni_list ADD "$list" pod1 "/run/netns/$CNI_C1" "IgnoreUnknown=1;K8S_POD_NAMESPACE=scrapers;K8S_POD_NAME=a") ||
		fail "ADD pod1: $out" || return 1
	out=$(cni_list ADD "$list" pod2 "/run/netns/$CNI_C2" "IgnoreUnknown=1;K8S_POD_NAMESPACE=web;K8S_POD_NAME=b") ||
		fail "ADD pod2: $out" || return 1
	reach "$CNI_C1" 8080 ok || return 1
	reach "$CNI_C1" 8081 denied || return 1
	reach "$CNI_C2" 8081 ok || return 1
	reach "$CNI_C2" 8080 denied || return 1
	out=$(cni_list CHECK "$list" pod1 "/run/netns/$CNI_C1" "IgnoreUnknown=1;K8S_POD_NAMESPACE=scrapers") || fail "CHECK: $out" || return 1
	cni_list DEL "$list" pod1 "/run/netns/$CNI_C1" >/dev/null || fail "DEL pod1" || return 1
	cni_list DEL "$list" pod2 "/run/netns/$CNI_C2" >/dev/null || fail "DEL pod2" || return 1
	no_trace "$(cni_name k8s-pod-network pod1 eth0)" || return 1
	no_trace "$(cni_name k8s-pod-network pod2 eth0)" || return 1
	# a namespace taken out of the ConfigMap goes from the node
	rm "$src/scrapers."* 
	deploy/kubernetes/ironclaw-node.sh sync "$src" "$dest" || fail "sync" || return 1
	[ ! -e "$dest/scrapers" ] || fail "sync kept a namespace no key names"
}
