# t_cli.sh: the command line: refusals with their messages and exit codes, check --json, every
# command's --help, the man page naming every command.

area cli "" "" \
	test_cli_errors test_profile_tests_unprivileged

test_cli_errors() {
	local out c
	# a profile only root may write: a group-writable rules file or directory, a symlinked file
	mkdir -p "$WORK/prof-gw" "$WORK/prof-gwdir" "$WORK/prof-link"
	cp rules.d/*.rules "$WORK/prof-gw/"
	cp rules.d/*.rules "$WORK/prof-gwdir/"
	cp rules.d/10-dns.rules "$WORK/prof-link/"
	chmod 0664 "$WORK/prof-gw/20-https.rules"
	chmod 0775 "$WORK/prof-gwdir"
	ln -s "$PWD/rules.d/20-https.rules" "$WORK/prof-link/20-https.rules"
	# exit code, what the message says ("" : anything), the command
	each_row exits_with <<-'EOF' || return 1
		1 "must run as root" setpriv --reuid=65534 --regid=65534 --clear-groups "$BIN" install --profile rules.d --tc-ingress host0
		1 "no interface 'nope0'" "$BIN" install --profile rules.d --tc-ingress nope0 --source 10.42.0.2 --sandbox-cgroup "$CG" --name "$INSTANCE"
		1 "no network namespace 'nosuchns$$'" "$BIN" install --profile rules.d --tc "sbx0@nosuchns$$" --sandbox-cgroup "$CG" --name "$INSTANCE"
		1 "give --source ADDR or --sandbox-netns" "$BIN" install --profile rules.d --tc-ingress "host0@$CORP" --sandbox-cgroup "$CG" --name "$INSTANCE"
		2 "" "$BIN" install --bogus
		2 "bad --source address '10.42.0.300'" "$BIN" install --profile rules.d --tc-ingress host0 --source 10.42.0.300
		2 "^ironclaw-pipe install: --source 10.42.0.0/24: a source is one address of the sandbox's own; a prefix would let it pose as its neighbours (see 'ironclaw-pipe install --help')$" "$BIN" install --profile rules.d --tc-ingress host0 --source 10.42.0.0/24
		2 "--source fd00:42::/64: a source is one address" "$BIN" install --profile rules.d --tc-ingress host0 --source fd00:42::/64
		1 "cannot read profile directory" "$BIN" check --profile "$WORK/no-such-dir"
		1 "no instance 'nosuch$$'" "$BIN" status --name "nosuch$$"
		1 "no instance 'nosuch$$'" "$BIN" block --name "nosuch$$"
		1 "no instance 'nosuch$$'" "$BIN" reload --name "nosuch$$"
		1 "no instance 'nosuch$$'" "$BIN" uninstall --name "nosuch$$"
		2 "unknown command 'instal'; did you mean 'install'?" "$BIN" instal --profile rules.d
		2 "^ironclaw-pipe install: --profile needs an argument (see 'ironclaw-pipe install --help')$" "$BIN" install --profile
		2 "unknown option '--json'" "$BIN" block --json
		2 "bad instance name 'Bad/Name'" "$BIN" status --name Bad/Name
		1 "sandbox cgroup '/nosuch-cgroup$$'" "$BIN" install --profile rules.d --cgroup "/nosuch-cgroup$$"
		1 "prof-gw/20-https.rules: rules file is writable by its group: refused" "$BIN" check --profile "$WORK/prof-gw"
		1 "prof-gwdir: profile directory is writable by its group: refused" "$BIN" check --profile "$WORK/prof-gwdir"
		1 "prof-link/20-https.rules: cannot read: a symlink, refused" "$BIN" check --profile "$WORK/prof-link"
	EOF
	[ "$("$BIN" install --profile 2>&1 | wc -l)" = 1 ] || fail "a missing option argument takes more than one line" || return 1
	"$BIN" --version | grep -Eq '^ironclaw-pipe [0-9]+\.[0-9]+\.[0-9]+$' || fail "--version: $("$BIN" --version 2>&1)" || return 1
	[ -z "$(lock_files "nosuch$$")" ] || fail "a command on no instance left a lock file" || return 1
	"$BIN" uninstall --help | grep -q "OPENS the sandbox's egress" || fail "uninstall help lacks the warning"
	# check --json: the plan, or the errors with file and line
	out=$("$BIN" check --profile rules.d --json 2>&1)
	[ $? = 0 ] && echo "$out" | grep -q '^{"profile":"rules.d","valid":true,' &&
		echo "$out" | grep -q '{"file":"rules.d/30-internal.rules","line":3,"text":"allow tcp 10.42.7.11 port 8080 tool memscraper","protocol":"tcp","destination":"10.42.7.11","port_from":8080,"port_to":8080,"tool":"memscraper","host":null}' ||
		fail "check --json: $out" || return 1
	mkdir -p "$WORK/prof-bad-json"
	printf 'allow tcp 10.42.7.11 port 8080\nallow tcp "x port 1\n' >"$WORK/prof-bad-json/10-a.rules"
	out=$("$BIN" check --profile "$WORK/prof-bad-json" --json 2>/dev/null)
	[ $? = 1 ] && echo "$out" | grep -q '"valid":false,.*"errors":\[{"file":"[^"]*/10-a.rules","line":2,"message":"[^"]*\\"x[^"]*"}\]' ||
		fail "check --json with an error: $out" || return 1
	for c in check install status rules log suggest explain reload allow revoke block uninstall; do
		"$BIN" "$c" --help | grep -q "^usage: ironclaw-pipe $c" || fail "$c --help" || return 1
	done
	"$BIN" --help | grep -q "^  rules " || fail "the command list lacks rules"
	# the man page names every command the binary has
	for c in $("$BIN" --help | awk '/^  [a-z]/ {print $1}'); do
		grep -Eq "^\.BI? \"?$c[ \"]" docs/ironclaw-pipe.8 || fail "the man page lacks $c" || return 1
	done
	[ ! -e "$PIN_DIR" ] || fail "a failed install left pins"
}

# as_nobody COMMAND...: an unprivileged user's run
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

# 'test' runs a profile's NN-name.test files as any user; failures name file:line and the rule
test_profile_tests_unprivileged() {
	local out own
	out=$(as_nobody "$BIN" test --profile rules.d 2>&1)
	[ $? = 0 ] && echo "$out" | grep -q '^profile rules.d: [0-9]* tests passed$' ||
		fail "test of the shipped profile as nobody: $out" || return 1
	as_nobody "$BIN" test --profile tests/profiles/prefixes >/dev/null 2>&1 ||
		fail "test of tests/profiles/prefixes: $(as_nobody "$BIN" test --profile tests/profiles/prefixes 2>&1)" || return 1
	# the fixture that fails on purpose: exit 1, each failure at its file:line with the judge's word
	out=$(as_nobody "$BIN" test --profile tests/profiles/failing 2>&1)
	[ $? = 1 ] || fail "a failing test exited 0: $out" || return 1
	echo "$out" | grep -qx "tests/profiles/failing/50-wrong.test:3: 'expect allow tcp 10.42.7.11 port 8080' failed: the judge says deny (no_rule)" &&
		echo "$out" | grep -qx "tests/profiles/failing/50-wrong.test:5: 'expect deny tcp 10.42.7.11 port 8080 tool memscraper' failed: the judge says allow (rule) by tests/profiles/failing/10-net.rules:2 ('allow tcp 10.42.7.11 port 8080 tool memscraper')" &&
		echo "$out" | grep -qx 'profile tests/profiles/failing: 2 of 4 tests failed' &&
		[ "$(echo "$out" | grep -c 'failed: the judge says')" = 2 ] ||
		fail "test of the failing fixture said: $out" || return 1
	# check runs them too
	out=$("$BIN" check --profile tests/profiles/failing 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "50-wrong.test:3: 'expect allow" ||
		fail "check of the failing fixture: $out" || return 1
	# a user's own profile: theirs to test, not root's to install
	own=$(mktemp -d /tmp/ironclaw-own.XXXXXX)
	defer rm -rf "$own"
	chmod 0755 "$own"
	cp rules.d/*.rules rules.d/*.test "$own/"
	printf 'expect allow tcp 10.42.7.11 port 8080 tool memscraper\nexpect deny udp 10.42.0.53 port\n' >"$own/60-bad.test"
	chown -R 65534:65534 "$own"
	out=$(as_nobody "$BIN" test --profile "$own" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "^$own/60-bad.test:2: missing port after 'port'" ||
		fail "a bad test line: $out" || return 1
	rm "$own/60-bad.test"
	as_nobody "$BIN" test --profile "$own" >/dev/null 2>&1 || fail "nobody's own profile: $(as_nobody "$BIN" test --profile "$own" 2>&1)" || return 1
	out=$("$BIN" test --profile "$own" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "profile directory is owned by uid 65534, not root: refused" ||
		fail "root read nobody's profile: $out" || return 1
	chown 1:1 "$own/50-scenario.test"
	out=$(as_nobody "$BIN" test --profile "$own" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "50-scenario.test: test file is owned by uid 1, neither root nor you (uid 65534): refused" ||
		fail "nobody read uid 1's file: $out"
}
