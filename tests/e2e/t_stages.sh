# t_stages.sh: plug-in stages (a .bpf.o in the profile): one in force, and the ones refused
# (a claim already taken, a name taken, writable by others, not owned by root).

area stages "" "" \
	test_plugin_stage test_bad_stages_refused

test_plugin_stage() {
	local p=$WORK/prof-pg
	mkdir -p "$p"
	cp rules.d/*.rules "$p/"
	install -m 0644 "$BUILD/examples/stage_postgres.bpf.o" "$p/50-postgres.bpf.o"
	echo "allow tcp 10.42.7.20 port 5432" >"$p/50-postgres.rules"
	install_ingress || return 1
	expect_denied connect 10.42.7.20 5432 || return 1
	"$BIN" check --profile "$p" | grep -q "50-postgres.rules:1: allow tcp 10.42.7.20 port 5432" ||
		fail "check does not list the postgres rule"
	install_ingress "$p" || return 1
	"$BIN" status --name "$INSTANCE" | grep -q "slot 8  postgres" || fail "status shows no postgres stage in slot 8"
	expect_ok connect 10.42.7.20 5432 || return 1
	expect_denied connect 10.42.7.21 5432 || return 1
	expect_ok connect 10.42.7.11 8080 || return 1
	# installing again needs no attach options: the cgroup and sources are the instance's
	"$BIN" install --profile "$p" --name "$INSTANCE" >/dev/null || fail "plain install again" || return 1
	expect_ok connect 10.42.7.20 5432 || return 1
}

test_bad_stages_refused() {
	local p=$WORK/prof-bad
	mkdir -p "$p"
	cp rules.d/*.rules "$p/"
	install -m 0644 "$BUILD/examples/stage_postgres.bpf.o" "$p/50-postgres.bpf.o"
	install -m 0644 "$BUILD/tests/stage_pgdup.bpf.o" "$p/60-pgdup.bpf.o"
	expect_refused "$p" "$p/60-pgdup.bpf.o: stage 'pgdup' claims tcp/5432, already claimed by stage 'postgres' ($p/50-postgres.bpf.o)" || return 1
	rm "$p/60-pgdup.bpf.o"
	install -m 0644 "$BUILD/examples/stage_postgres.bpf.o" "$p/70-again.bpf.o"
	expect_refused "$p" "stage name 'postgres' is already taken" || return 1
	rm "$p/70-again.bpf.o"
	chmod 0666 "$p/50-postgres.bpf.o"
	expect_refused "$p" "50-postgres.bpf.o: stage object is writable by others: refused" || return 1
	chmod 0644 "$p/50-postgres.bpf.o"
	chown 65534 "$p/50-postgres.bpf.o"
	expect_refused "$p" "owned by uid 65534, not root: refused" || return 1
	[ ! -e "$PIN_DIR" ] || fail "a refused install left pins"
}
