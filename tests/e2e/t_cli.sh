# t_cli.sh: the command line: refusals with their messages and exit codes, check --json, every
# command's --help, the man page naming every command.

area cli "" "" \
	test_cli_errors

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
