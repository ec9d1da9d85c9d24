# t_run.sh: `run` starts a command inside the sandbox (its cgroup, its namespace, no privileges),
# and namespaces named by path or pid: as well as by name.

area run "flow_profiles" "" \
	test_run_starts_inside_the_sandbox test_run_refusals test_netns_by_path_and_pid

# run_out ARGS...: the output of ironclaw-pipe run for the instance, stderr too
run_out() { "$BIN" run --name "$INSTANCE" "$@" 2>&1; }

test_run_starts_inside_the_sandbox() {
	local out want pid rc
	install_ingress || return 1
	# born in the sandbox's cgroup (the tool's with --tool), in its namespace, as nobody
	out=$(run_out --user nobody -- cat /proc/self/cgroup | grep "^0::")
	[ "$out" = "0::${CG#"$CGROOT"}" ] || fail "cgroup of run: $out" || return 1
	out=$(run_out --tool memscraper --user nobody -- cat /proc/self/cgroup | grep "^0::")
	[ "$out" = "0::${CG#"$CGROOT"}/memscraper" ] || fail "cgroup of run --tool: $out" || return 1
	want="net:[$(stat -L -c %i "/run/netns/$SBX")]"
	out=$(run_out --user nobody -- readlink /proc/self/ns/net)
	[ "$out" = "$want" ] || fail "namespace of run: $out, want $want" || return 1
	# no capabilities, none to regain, no_new_privs
	out=$(run_out --user nobody -- grep -E '^(Uid|Gid|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):' /proc/self/status)
	for want in "Uid:.65534.65534.65534.65534" "CapInh:.0000000000000000" \
		"CapPrm:.0000000000000000" "CapEff:.0000000000000000" "CapBnd:.0000000000000000" \
		"CapAmb:.0000000000000000" "NoNewPrivs:.1"; do
		echo "$out" | grep -q "^$want$" || fail "run's /proc/self/status lacks $want: $out" || return 1
	done
	# none of the loader's files crosses: only stdin, stdout, stderr (and ls's own directory)
	out=$(run_out --user nobody -- sh -c 'ls /proc/self/fd | wc -l')
	[ "$out" = 4 ] || fail "open files in run: $(run_out --user nobody -- ls -l /proc/self/fd)" || return 1
	# the policy holds for it: the tool's rule for memscraper only
	out=$(run_out --tool memscraper --user nobody -- "$BUILD/netprobe" connect 10.42.7.11 8080 --timeout-ms 3000)
	[ "${out%% *}" = ok ] || fail "memscraper's allowed connect under run: $out" || return 1
	out=$(run_out --user nobody -- "$BUILD/netprobe" connect 10.42.7.11 8080 --timeout-ms 800)
	case $out in *"fail "*ETIMEDOUT) ;; *) fail "the sandbox root's connect under run: $out" || return 1 ;; esac
	# the command's exit status, 127 when it is not found, 128+N when a signal ends it
	run_out --user nobody -- sh -c 'exit 7' >/dev/null
	[ $? = 7 ] || fail "exit status not passed through" || return 1
	out=$(run_out --user nobody -- /nonexistent/cmd)
	rc=$?
	[ $rc = 127 ] && [ "$out" = "cannot execute '/nonexistent/cmd': No such file or directory" ] ||
		fail "a missing command: exit $rc: $out" || return 1
	"$BIN" run --name "$INSTANCE" --user nobody -- sleep 20 &
	pid=$!
	defer kill -9 "$pid"
	sleep 0.5
	kill -TERM "$pid"
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	wait "$pid"
	rc=$?
	[ $rc = 143 ] || fail "SIGTERM to run: exit $rc, want 143 (the command ended by it)" || return 1
	[ -z "$(pgrep -u nobody -x sleep)" ] || fail "the command outlived run's SIGTERM"
}

test_run_refusals() {
	local out rc p=$WORK/prof-run
	# row: exit status, the message (or its start), run's arguments
	run_is() {
		local want=$1 msg=$2
		shift 2
		out=$(run_out "$@")
		rc=$?
		[ $rc = "$want" ] && [ "${out#"$msg"}" != "$out" ] ||
			fail "run $*: exit $rc, want $want with '$msg': $out"
	}
	run_is 1 "no instance '$INSTANCE' installed" --user nobody -- true || return 1
	install_ingress || return 1
	each_row run_is <<-'EOF' || return 1
		1 "--user root: run never starts a command as root" --user root -- true
		1 "--user 0: run never starts a command as root" --user 0 -- true
		1 "--user no-such-user: no such user" --user no-such-user -- true
		1 "--tool nosuch: no cgroup" --tool nosuch --user nobody -- true
		1 "--tool ../x: a tool is a cgroup name" --tool ../x --user nobody -- true
		2 "ironclaw-pipe run: give --user USER" -- true
		2 "ironclaw-pipe run: give the command to run after --" --user nobody
	EOF
	# the command's own options stay its own
	out=$(run_out --user nobody sh -c 'echo "$0 $1"' -x --name)
	[ "$out" = "-x --name" ] || fail "the command's options were taken: $out" || return 1
	# an instance that recorded no cgroup or namespace for the sandbox
	mkdir -p "$p" && cp "$FLOW_PROFILE_NO_TOOLS"/*.rules "$p/"
	"$BIN" uninstall --name "$INSTANCE" >/dev/null
	"$BIN" install --profile "$p" --tc-ingress "host0@$CORP" --sandbox-netns "$SBX" \
		--name "$INSTANCE" >/dev/null || fail "install without a cgroup" || return 1
	run_is 1 "instance '$INSTANCE' has no sandbox cgroup recorded: install it with --sandbox-cgroup PATH" \
		--user nobody -- true || return 1
	"$BIN" uninstall --name "$INSTANCE" >/dev/null
	"$BIN" install --profile "$p" --tc-ingress "host0@$CORP" --source 10.42.0.2 \
		--sandbox-cgroup "$CG" --name "$INSTANCE" >/dev/null || fail "install without a netns" || return 1
	run_is 1 "instance '$INSTANCE' has no sandbox network namespace recorded" --user nobody -- true
}

test_netns_by_path_and_pid() {
	local out rc pid p=$WORK/prof-ns
	mkdir -p "$p" && cp "$FLOW_PROFILE_NO_TOOLS"/*.rules "$p/"
	echo "allow tcp 10.42.7.11 port 8080" >"$p/30-internal.rules"
	# a process in the sandbox's namespace names it by pid: (the sandbox's address is read there)
	ip netns exec "$SBX" sleep 30 &
	pid=$!
	defer kill "$pid"
	sleep 0.2
	"$BIN" install --profile "$p" --tc-ingress "host0@/run/netns/$CORP" --sandbox-netns "pid:$pid" \
		--sandbox-cgroup "$CG" --name "$INSTANCE" >/dev/null || fail "install by path and pid:" || return 1
	"$BIN" status --name "$INSTANCE" | grep -q "^  tc_ingress *host0 in netns /run/netns/$CORP: attached" ||
		fail "status: $("$BIN" status --name "$INSTANCE")" || return 1
	each_row expect <<-'EOF' || return 1
		ok connect 10.42.7.11 8080 --timeout-ms 3000
		denied connect 10.42.7.11 8081
	EOF
	out=$(run_out --user nobody -- readlink /proc/self/ns/net)
	[ "$out" = "net:[$(stat -L -c %i "/run/netns/$SBX")]" ] || fail "run through pid:: $out" || return 1
	"$BIN" reload --name "$INSTANCE" >/dev/null || fail "reload by path" || return 1
	"$BIN" uninstall --name "$INSTANCE" >/dev/null || fail "uninstall by path" || return 1
	# what is not a network namespace: refused, named, nothing left
	row_refused() {
		local want=$1 msg=$2
		shift 2
		out=$("$BIN" install --profile "$p" --name "$INSTANCE" --source 10.42.0.2 "$@" 2>&1)
		rc=$?
		[ $rc = "$want" ] && echo "$out" | grep -qF -- "$msg" ||
			fail "install $*: exit $rc, want $want with '$msg': $out" || return 1
		[ ! -e "$PIN_DIR" ] || fail "a refused install left pins"
	}
	each_row row_refused <<-'EOF'
		1 "'/etc/passwd' (/etc/passwd) is not a network namespace" --tc-ingress host0@/etc/passwd
		1 "'/proc/self/ns/pid' (/proc/self/ns/pid) is not a network namespace" --tc-ingress host0@/proc/self/ns/pid
		1 "no network namespace '/nonexistent/ns'" --tc-ingress host0@/nonexistent/ns
		2 "bad network namespace 'pid:abc': a name in /run/netns, an absolute path or pid:PID" --sandbox-netns pid:abc --tc-ingress host0
		2 "bad interface 'host0@rel/path': IFACE or IFACE@NS" --tc-ingress host0@rel/path
	EOF
}
