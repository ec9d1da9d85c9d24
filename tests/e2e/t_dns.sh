# t_dns.sh: 'allow dns' lines: only allowed names reach the resolver, at host-side tc and at the
# cgroup hooks; the counters and explain agree; live edits of names; bad names refused.

area dns "tools_profile dns_profile" "" \
	test_dns_names_at_host_side test_dns_names_at_cgroup_hooks test_dns_bad_names_refused \
	test_dns_live_edits test_dns_suggest_by_name

# the tools' profile with three names, one of them for memscraper alone
DNS_PROFILE=$WORK/prof-dns
fixture_dns_profile() {
	mkdir -p "$DNS_PROFILE"
	cp "$TOOLS_PROFILE"/*.rules "$DNS_PROFILE/"
	printf 'allow dns log-collector.internal.corp\nallow dns *.internal.corp\nallow dns update.example tool memscraper\n' \
		>"$DNS_PROFILE/15-names.rules"
}

# dns_out TOOL ARGS...: dnsprobe query to the resolver, as a process of TOOL
dns_out() {
	local t=$1
	shift
	in_tool "$t" "$BUILD/dnsprobe" query 10.42.0.53 "$@" 2>/dev/null
}

dns_ok() {
	local t=$1 out
	shift
	out=$(dns_out "$t" "$@") || fail "tool '$t' query $*: want a reply, got: $out"
}

# dns_denied WANT TOOL ARGS...: the query fails with WANT (ETIMEDOUT at tc, EPERM at the cgroup)
dns_denied() {
	local want=$1 t=$2 out
	shift 2
	out=$(dns_out "$t" "$@" --timeout-ms 500)
	case $out in
	"fail "*"$want replies 0/"*) ;;
	*) fail "tool '$t' query $*: want $want, got: $out" ;;
	esac
}

# dns_gets ok|ETIMEDOUT|EPERM TOOL ARGS...: a table row for dns_ok / dns_denied
dns_gets() {
	case $1 in
	ok) shift && dns_ok "$@" ;;
	*) dns_denied "$@" ;;
	esac
}

# 'allow dns' lines: only allowed names reach the resolver, TCP DNS is denied (host-side tc)
test_dns_names_at_host_side() {
	local c out
	install_ingress "$TOOLS_PROFILE" || return 1
	# without name rules: any name, and TCP (refused: nothing listens on tcp/53, so the SYN got there)
	dns_ok other attacker.example --type 16 || return 1
	out=$(dns_out other attacker.example --tcp --timeout-ms 1000)
	case $out in "fail "*ECONNREFUSED*) ;; *) fail "TCP DNS without name rules: $out" ;; esac || return 1
	install_ingress "$DNS_PROFILE" || return 1
	# names in any case, below a wildcard, a tool's own; then: another tool's name, a suffix
	# that is no label, the bare wildcard parent, a type not allowed, two questions, compression,
	# a name too long, TCP
	each_row dns_gets <<-'EOF' || return 1
		ok other log-collector.internal.corp
		ok other LOG-Collector.Internal.CORP
		ok other a.b.internal.corp --type 28
		ok memscraper update.example
		ETIMEDOUT other update.example
		ETIMEDOUT other evilinternal.corp
		ETIMEDOUT other internal.corp
		ETIMEDOUT other log-collector.internal.corp --type 16
		ETIMEDOUT other log-collector.internal.corp --questions 2
		ETIMEDOUT other log-collector.internal.corp --questions 2 --compress
		ETIMEDOUT other log-collector.internal.corp --compress
		ETIMEDOUT other x.internal.corp --random-labels 4 --label-len 63
		ETIMEDOUT other log-collector.internal.corp --tcp
	EOF
	for c in qname dns_qtype dns_qdcount dns_compression dns_name_len dns_tcp; do
		[ "$(count "$c")" -ge 1 ] || fail "reason $c was not counted" || return 1
	done
	# explain carries the question, and agrees: exit, the line it prints, tool and packet
	each_row explains <<-'EOF' || return 1
		0 "^tc          allow       rule            dns        $DNS_PROFILE/15-names.rules:1: allow dns log-collector.internal.corp$" other udp 10.42.0.53 53 query LOG-Collector.Internal.CORP
		0 "^tc          allow       rule            dns        $DNS_PROFILE/15-names.rules:2: allow dns \*.internal.corp$" other udp 10.42.0.53 53 query a.b.internal.corp AAAA
		1 "^tc          deny        qname           dns        -$" other udp 10.42.0.53 53 query evilinternal.corp
		1 "^tc          deny        dns_qtype " other udp 10.42.0.53 53 query log-collector.internal.corp TXT
		1 "^tc          deny        dns_malformed " other udp 10.42.0.53 53
	EOF
	# a tunnel's pattern: fresh long random labels below a suffix no rule allows
	c=$(count qname)
	out=$(dns_out other t.attacker.example --random-labels 3 --label-len 50 --count 20 --timeout-ms 200)
	case $out in "fail "*"replies 0/20") ;; *) fail "tunnelling queries: $out" ;; esac || return 1
	[ "$(count qname)" -ge $((c + 20)) ] || fail "qname went $c -> $(count qname), want +20" || return 1
	# rules lists the names with what they let through; check shows them
	"$BIN" rules --name "$INSTANCE" --json | grep -q '"stage":"dns","file":"'"$DNS_PROFILE"'/15-names.rules","line":2,"text":"allow dns \*.internal.corp","packets":[1-9]' ||
		fail "rules --json: $("$BIN" rules --name "$INSTANCE" --json)" || return 1
	"$BIN" check --profile "$DNS_PROFILE" | grep -q "^  query types: A AAAA CNAME PTR SRV (the default)" ||
		fail "check: $("$BIN" check --profile "$DNS_PROFILE")" || return 1
	"$BIN" check --profile "$DNS_PROFILE" --json | grep -q '"dns_names":\[.*{"file":"'"$DNS_PROFILE"'/15-names.rules","line":2,"text":"allow dns \*.internal.corp","name":"internal.corp","wildcard":true,"tool":null}.*\],"dns_qtypes":\[1,28,5,12,33\]' ||
		fail "check --json: $("$BIN" check --profile "$DNS_PROFILE" --json)"
}

# at the cgroup hooks: sendto() to the resolver passes, cgroup_skb judges the name (EPERM)
test_dns_names_at_cgroup_hooks() {
	local out
	"$BIN" install --profile "$DNS_PROFILE" --cgroup "$CG" --sandbox-netns "$SBX" \
		--name "$INSTANCE" >/dev/null || fail "install at the cgroup hooks" || return 1
	each_row dns_gets <<-'EOF' || return 1
		ok other log-collector.internal.corp
		ok memscraper update.example
		EPERM other update.example
		EPERM other evilinternal.corp
		EPERM other log-collector.internal.corp --type 255
	EOF
	# TCP DNS fails at connect(), at once
	out=$(dns_out other log-collector.internal.corp --tcp --timeout-ms 2000)
	case $out in "fail "*EPERM*) ;; *) fail "TCP DNS at the connect hook: $out" ;; esac || return 1
	"$BIN" log --name "$INSTANCE" --json 2>/dev/null | grep -q '"hook":"cgroup_skb".*"destination":"10.42.0.53:53","stage":"dns","reason":"qname"' ||
		fail "no qname event in the log"
}

# allow and revoke take 'allow dns' lines too; revoke knows the line however spelled
test_dns_live_edits() {
	local out
	install_ingress "$DNS_PROFILE" || return 1
	dns_denied ETIMEDOUT other x.attacker.example || return 1
	out=$("$BIN" allow --name "$INSTANCE" dns '*.attacker.example' 2>&1) || fail "allow dns: $out" || return 1
	dns_ok other x.attacker.example || return 1
	dns_denied ETIMEDOUT other attacker.example || return 1
	out=$("$BIN" revoke --name "$INSTANCE" dns 'x.attacker.example' 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "was not added with allow" || fail "revoke of another name: $out" || return 1
	"$BIN" revoke --name "$INSTANCE" dns '*.ATTACKER.example.' >/dev/null || fail "revoke dns" || return 1
	dns_denied ETIMEDOUT other x.attacker.example
}

# a profile whose name rules are wrong is refused whole, naming file:line
test_dns_bad_names_refused() {
	local p=$WORK/prof-dns-bad out
	mkdir -p "$p"
	cp "$DNS_PROFILE"/*.rules "$p/"
	echo "allow dns evil!.corp" >"$p/16-bad.rules"
	out=$("$BIN" check --profile "$p" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "16-bad.rules:1: bad name 'evil!.corp'" || fail "bad name: $out" || return 1
	printf 'dns qtype A TXT\ndns qtype A\n' >"$p/16-bad.rules"
	out=$("$BIN" check --profile "$p" 2>&1)
	[ $? = 1 ] && echo "$out" | grep -q "16-bad.rules:2: query types already set at $p/16-bad.rules:1" ||
		fail "two qtype lines: $out"
}

# audit mode: a denied query name is logged with the name (escaped), suggest proposes 'allow dns
# NAME' (not the resolver's address, which the profile has), and check accepts the profile with
# what suggest printed
test_dns_suggest_by_name() {
	local out p=$WORK/prof-dns-suggest bad
	bad=$(printf 'ev\033il')
	"$BIN" install --profile "$DNS_PROFILE" --tc-ingress "host0@$CORP" --sandbox-netns "$SBX" \
		--sandbox-cgroup "$CG" --name "$INSTANCE" --audit >/dev/null || fail "install --audit" || return 1
	"$BIN" log --name "$INSTANCE" >/dev/null 2>&1 # start from an empty buffer
	dns_ok other new-name.example || return 1
	dns_out other "$bad.example" >/dev/null
	out=$("$BIN" log --name "$INSTANCE" --json 2>/dev/null)
	echo "$out" | grep -q '"reason":"qname","verdict":"would-deny","kind":"deny","query":"new-name.example"' ||
		fail "log --json: the denied name: $out" || return 1
	echo "$out" | grep -q '"query":"ev\\\\027il.example"' || fail "log --json: the hostile name: $out" || return 1
	dns_ok other new-name.example || return 1
	dns_ok other www.new-name.example || return 1
	dns_out other "$bad.example" >/dev/null
	dns_ok other log-collector.internal.corp || return 1
	out=$("$BIN" log --name "$INSTANCE" 2>/dev/null)
	echo "$out" | grep -q "would-deny qname .* query ev\\\\027il.example$" || fail "log: $(echo "$out" | cat -v)" || return 1
	echo "$out" | LC_ALL=C grep -q "$(printf '\033')" && fail "a raw escape on a terminal line: $(echo "$out" | cat -v)" && return 1
	dns_ok other new-name.example || return 1
	dns_ok other www.new-name.example || return 1
	dns_out other "$bad.example" >/dev/null
	out=$("$BIN" suggest --name "$INSTANCE" 2>/dev/null)
	echo "$out" | grep -q '^allow dns new-name.example tool other  # 1 would-deny$' || fail "suggest: $out" || return 1
	echo "$out" | grep -q '^allow dns www.new-name.example tool other  # 1 would-deny$' || fail "suggest: $out" || return 1
	echo "$out" | grep -q '^allow udp' && fail "suggest proposes the resolver again: $out" && return 1
	echo "$out" | grep -q "^# a query for 'ev\\\\027il.example': no 'allow dns' line can name it" ||
		fail "suggest, a name no line can hold: $(echo "$out" | cat -v)" || return 1
	echo "$out" | LC_ALL=C grep -q "$(printf '\033')" && fail "a raw escape in suggest: $(echo "$out" | cat -v)" && return 1
	mkdir -p "$p"
	cp "$DNS_PROFILE"/*.rules "$p/"
	echo "$out" >"$p/90-suggested.rules"
	out=$("$BIN" check --profile "$p" --sandbox-cgroup "$CG" 2>&1) ||
		fail "check refuses the profile with suggest's lines: $out"
}
