# t_tools.sh: rules for one tool (a cgroup below the sandbox's): at host-side tc, where the socket's
# cgroup is known, and at the cgroup hooks; nested cgroups, sockets that move, a cgroup made again,
# and the tool names refused.

area tools "tools_profile" "" \
	test_per_tool_rules_at_host_side test_bad_tools_refused test_tools_at_the_cgroup_hooks \
	test_socket_keeps_its_tool test_tool_cgroup_created_again

# tool_gets ok|timeout TOOL PROBE-ARGS...: at tc, what a tool's probe gets ("" = the sandbox root)
tool_gets() {
	local v=$1 t=$2 out
	shift 2
	out=$(tool_out "$t" "$@")
	case $v in
	ok) [ "${out%% *}" = ok ] ;;
	timeout) case $out in "fail "*ETIMEDOUT) ;; *) false ;; esac ;;
	*) false ;;
	esac || fail "tool '${t:-(sandbox root)}' $*: want $v, got: $out"
}

# the 8080 rule for memscraper alone, enforced at the host side (no cgroup hooks)
test_per_tool_rules_at_host_side() {
	local p=$WORK/prof-tools out
	[ -n "$CGROOT" ] || fail "no cgroup v2 mount" || return 1
	mkdir -p "$CG/memscraper/nested" "$CG/other" "$p"
	cp rules.d/10-dns.rules rules.d/20-https.rules "$p/"
	echo "allow tcp 10.42.7.11 port 8080 tool memscraper" >"$p/30-internal.rules"
	"$BIN" install --profile "$p" --tc-ingress "host0@$CORP" --sandbox-netns "$SBX" \
		--sandbox-cgroup "$CG" --name "$INSTANCE" >/dev/null || fail "install with tools failed" || return 1
	"$BIN" check --profile "$p" --sandbox-cgroup "$CG" | grep -q "allow tcp 10.42.7.11 port 8080 tool memscraper" ||
		fail "check does not show the tool"
	# memscraper's POST, and a process nested below memscraper is memscraper; the other tool and
	# the sandbox root are not; memscraper has no other port or host; rules without a tool hold
	# for every process
	each_row tool_gets <<-'EOF'
		ok memscraper connect 10.42.7.11 8080 --post from-memscraper
		ok memscraper/nested connect 10.42.7.11 8080 --timeout-ms 2000
		timeout other connect 10.42.7.11 8080 --timeout-ms 800
		timeout "" connect 10.42.7.11 8080 --timeout-ms 800
		timeout memscraper connect 10.42.7.11 8081 --timeout-ms 800
		timeout memscraper connect 10.42.7.12 8080 --timeout-ms 800
		ok other udp 10.42.0.53 53
	EOF
}

# tool_refused RULE-LINE RC PATTERN COMMAND...: with RULE-LINE as the profile's 30-internal.rules,
# COMMAND exits RC saying PATTERN
tool_refused() {
	echo "$1" >"$WORK/prof-badtool/30-internal.rules"
	shift
	exits_with "$@"
}

test_bad_tools_refused() {
	local p=$WORK/prof-badtool
	mkdir -p "$CG/memscraper" "$p"
	local install=("$BIN" install --profile "$p" --tc-ingress "host0@$CORP" --sandbox-netns "$SBX")
	# a missing tool cgroup; a path as tool; a tool without --sandbox-cgroup; a missing sandbox cgroup
	each_row tool_refused <<-'EOF' || return 1
		"allow tcp 10.42.7.11 port 8080 tool ghost" 1 "30-internal.rules:1: tool 'ghost': no cgroup $CG/ghost" "${install[@]}" --sandbox-cgroup "$CG" --name "$INSTANCE"
		"allow tcp 10.42.7.11 port 8080 tool ../memscraper" 1 "30-internal.rules:1: bad tool '../memscraper'" "$BIN" check --profile "$p"
		"allow tcp 10.42.7.11 port 8080 tool memscraper" 1 "30-internal.rules:1: rule names tool 'memscraper': give the sandbox's cgroup" "${install[@]}" --name "$INSTANCE"
		"allow tcp 10.42.7.11 port 8080 tool memscraper" 1 "sandbox cgroup '$CG/nope'" "${install[@]}" --sandbox-cgroup "$CG/nope" --name "$INSTANCE"
	EOF
	[ ! -e "$PIN_DIR" ] || fail "a refused install left pins"
}

test_tools_at_the_cgroup_hooks() {
	install_cgroup || return 1
	want_ok memscraper connect 10.42.7.11 8080 --post from-cgroup-mode || return 1
	sleep 0.1
	grep -q "body=from-cgroup-mode" "$LOGS/collector.log" || fail "collector got nothing" || return 1
	# UDP: sendto() to a denied destination, and to the resolver; an IPv4-mapped IPv6 destination
	# is judged as the IPv4 address it maps to
	each_row want <<-'EOF'
		eperm other connect 10.42.7.11 8080
		eperm "" connect 10.42.7.11 8080
		eperm memscraper connect 10.42.7.11 8081
		eperm memscraper connect 10.42.7.12 8080
		ok memscraper/nested connect 10.42.7.11 8080
		eperm other udp 10.42.0.99 53 --unconnected
		ok other udp 10.42.0.53 53 --unconnected
		eperm other udp 10.42.0.99 53
		eperm other connect ::ffff:10.42.7.11 8080
		ok memscraper connect ::ffff:10.42.7.11 8080
	EOF
}

# moving TOOL TARGET ARGS...: netprobe in TOOL with fd 7 open on TARGET's cgroup.procs
# (opened before ip netns exec, which hides /sys/fs/cgroup)
moving() {
	local dir=$CG/$1 target=$CG/$2/cgroup.procs
	shift 2
	sh -c 'echo $$ > "$1/cgroup.procs" && exec 7>"$2" && shift 2 && exec ip netns exec "$@"' \
		sh "$dir" "$target" "$SBX" "$BUILD/netprobe" "$@" --move-fd 7 --timeout-ms 2000 2>/dev/null
}

# moved_gets ok|eperm FROM TO PROBE-ARGS...: what the probe gets when it moves from FROM to TO
moved_gets() {
	local v=$1 out
	shift
	out=$(moving "$@")
	case $v in
	ok) [ "${out%% *}" = ok ] ;;
	eperm) case $out in "fail "*EPERM) ;; *) false ;; esac ;;
	*) false ;;
	esac || fail "$*: want $v, got: $out"
}

# sockets keep the cgroup they were created in: moved then socket, socket then moved, both ways
test_socket_keeps_its_tool() {
	install_cgroup || return 1
	each_row moved_gets <<-'EOF'
		ok other memscraper connect 10.42.7.11 8080
		eperm other memscraper connect 10.42.7.11 8080 --move-after-socket
		ok memscraper other connect 10.42.7.11 8080 --move-after-socket
		eperm memscraper other connect 10.42.7.11 8080
	EOF
}

# a tool cgroup removed and created again has a new id: denied until the next install
test_tool_cgroup_created_again() {
	install_cgroup || return 1
	want_ok memscraper/nested connect 10.42.7.11 8080 || return 1
	rmdir "$CG/memscraper/nested" "$CG/memscraper" || fail "cannot remove the tool's cgroup" || return 1
	mkdir -p "$CG/memscraper/nested"
	want_eperm memscraper connect 10.42.7.11 8080 || return 1
	install_cgroup || return 1
	want_ok memscraper connect 10.42.7.11 8080
}
