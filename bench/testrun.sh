# testrun.sh: part 1 of the bench, sourced by run.sh. Cost per packet with BPF_PROG_TEST_RUN,
# at tc and at XDP, against the empty program of the same hook measured in the same run
# (interleaved, run by run): the generated if-chain, the pipeline with N exact rules (the
# internal stage) and with N CIDR prefixes (the https stage), matching and not, one hot
# destination and a random mix. Writes testrun.csv and limits.csv (where the if-chain stops).

TR_CSV=testrun.csv
LIMITS_CSV=limits.csv

# verdict HOOK RETVAL: what the return code means
verdict() {
	case $1:$2 in
	tc:-1 | tc:0 | xdp:2) echo allow ;;
	tc:2 | xdp:1) echo deny ;;
	*) echo "ret$2" ;;
	esac
}

# tr_measure HOOK IMPL N SET SPEC [hot-only]: the four packets, one row each
tr_measure() {
	local hook=$1 impl=$2 n=$3 set=$4 spec=$5 dest pkt r v note
	for dest in hot mix; do
		for pkt in hit miss; do
			note=
			if r=$("$ICB" run --prog "$spec" --set "$set" --n "$n" --"$pkt" --"$dest" \
				--repeat "$TR_REPEAT" --runs "$TR_RUNS" --budget "$TR_BUDGET" 2>"$WORK/err"); then
				v=$(verdict "$hook" "${r##*,}")
				r=${r%,*}
				[ "$pkt" = hit ] && [ "$v" != allow ] && note="wrong verdict: a matching packet got $v"
				[ "$pkt" = miss ] && [ "$v" != deny ] && note="wrong verdict: a non-matching packet got $v"
			else
				r=",,,,,,,,"
				v=
				note="failed: $(tr ',\n' '; ' <"$WORK/err")"
			fi
			echo "$hook,$impl,$n,$pkt,$dest,$r,$v,$note" >>"$OUT/$TR_CSV"
			say testrun "$hook $impl n=$n $pkt $dest: $(echo "$r" | cut -d, -f2) ns, empty $(echo "$r" | cut -d, -f5) ns $note"
		done
	done
}

tr_skip() { # HOOK IMPL N WHY
	local pkt dest
	for dest in hot mix; do
		for pkt in hit miss; do
			echo "$1,$2,$3,$pkt,$dest,,,,,,,,,,,skipped: $4" >>"$OUT/$TR_CSV"
		done
	done
}

# ifc_build HOOK STYLE N: the generated if-chain compiled (a file per 1,000 rules in the chained
# style, compiled side by side, then linked) and loaded once; sets IFC_OBJ, or IFC_WHY with
# where it stopped. One limits.csv row either way (IFC_LIMITS=0: none).
ifc_build() {
	local hook=$1 style=$2 n=$3 dir obj t0 t1 cs v insns= rc=0
	dir=$WORK/ifchain_${hook}_${style}_$n
	obj=$dir.o
	IFC_OBJ=
	IFC_WHY=
	rm -rf "$dir"
	mkdir -p "$dir"
	"$ICB" gen-ifchain "$n" "$hook" "$style" "$dir"
	t0=$(date +%s.%N)
	(cd "$dir" && ls ./*.c | timeout "$IFC_COMPILE_S" xargs -P "$(nproc)" -I{} \
		$CLANG -O2 -g -target bpf -I"/usr/include/$(uname -m)-linux-gnu" -c {} -o {}.o) \
		2>"$WORK/cc.err" || rc=$?
	[ "$rc" != 0 ] || bpftool gen object "$obj" "$dir"/*.o 2>"$WORK/cc.err" || rc=1
	t1=$(date +%s.%N)
	cs=$(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }")
	rm -rf "$dir"
	if [ "$rc" = 0 ]; then
		insns=$(llvm-objdump -d "$obj" | grep -cE '^ +[0-9]+:' || true)
		v=$("$ICB" verify "$obj" 2>/dev/null || true)
		[ "${IFC_LIMITS:-1}" = 0 ] || echo "$hook,$style,$n,$cs,$insns,$v" >>"$OUT/$LIMITS_CSV"
		case $v in
		ok,*) IFC_OBJ=$obj ;;
		*) IFC_WHY="the verifier refuses $n rules: $(echo "$v" | cut -d, -f5-)" ;;
		esac
	else
		if [ "$rc" = 124 ]; then
			IFC_WHY="clang -O2 did not finish $n rules in $IFC_COMPILE_S s"
		else
			IFC_WHY="clang -O2 fails at $n rules: $(grep -m1 'error:' "$WORK/cc.err" | sed 's/.*error: //' | tr ',' ';')"
		fi
		[ "${IFC_LIMITS:-1}" = 0 ] || echo "$hook,$style,$n,$cs,,compile_failed,,,,$IFC_WHY" >>"$OUT/$LIMITS_CSV"
	fi
}

# the pipeline with N exact rules and N prefixes, at HOOK; sets TR_PIN
tr_install() {
	local hook=$1 n=$2 prof=$WORK/prof_$2
	TR_PIN=
	if [ ! -d "$prof" ]; then
		mkdir -p "$prof"
		"$ICB" gen-profile exact "$n" "$prof/10-exact.rules"
		"$ICB" gen-profile cidr "$n" "$prof/20-cidr.rules"
	fi
	case $hook in
	tc) "$BIN" install --profile "$prof" --tc-ingress "b0@$TR_NETNS" --source 10.42.0.2 \
		--name "$TR_INST" >/dev/null 2>"$WORK/err" || return 1 ;;
	xdp) "$BIN" install --profile "$prof" --xdp "b0@$TR_NETNS" --tc-ingress "b0@$TR_NETNS" \
		--source 10.42.0.2 \
		--name "$TR_INST" >/dev/null 2>"$WORK/err" || return 1 ;;
	esac
	TR_PIN=/sys/fs/bpf/ironclaw/$TR_INST/dispatch_$hook
}

testrun_all() {
	local hook n style stop_chain stop_plain
	TR_NETNS=${PFX}t
	TR_INST=${PFX}t
	CLANG=${CLANG:-clang}
	netns "$TR_NETNS"
	ip -n "$TR_NETNS" link add b0 type veth peer name b1
	INSTANCES+=("$TR_INST")
	{
		header
		echo "hook,impl,n,packet,dest,repeat,ns,ns_min,ns_max,empty_ns,empty_min,empty_max,above_empty_ns,ratio_to_empty,verdict,note"
	} >"$OUT/$TR_CSV"
	{
		header
		echo "hook,style,n,compile_s,bpf_insns,status,load_s,xlated_insns,verified_insns,message"
	} >"$OUT/$LIMITS_CSV"
	for hook in tc xdp; do
		stop_chain=
		stop_plain=
		for n in $TR_NS; do
			for style in chain plain; do
				local stop_var=stop_$style
				if [ -n "${!stop_var}" ]; then
					tr_skip "$hook" "ifchain_$style" "$n" "not attempted: ${!stop_var}"
					echo "$hook,$style,$n,,,not_attempted,,,,${!stop_var}" >>"$OUT/$LIMITS_CSV"
					continue
				fi
				ifc_build "$hook" "$style" "$n"
				if [ -n "$IFC_OBJ" ]; then
					tr_measure "$hook" "ifchain_$style" "$n" exact "obj:$IFC_OBJ:ifchain"
					rm -f "$IFC_OBJ"
				else
					say testrun "$hook if-chain ($style) stops: $IFC_WHY"
					tr_skip "$hook" "ifchain_$style" "$n" "$IFC_WHY"
					printf -v "$stop_var" '%s' "$IFC_WHY"
				fi
			done
			if [ "$hook" = xdp ] && [ "$HAVE_XDP" = 0 ]; then
				tr_skip xdp exact "$n" "this build has no --xdp"
				tr_skip xdp cidr "$n" "this build has no --xdp"
				continue
			fi
			if tr_install "$hook" "$n"; then
				tr_measure "$hook" exact "$n" exact "pin:$TR_PIN"
				tr_measure "$hook" cidr "$n" cidr "pin:$TR_PIN"
			else
				tr_skip "$hook" exact "$n" "install failed: $(tr ',\n' '; ' <"$WORK/err")"
				tr_skip "$hook" cidr "$n" "install failed: $(tr ',\n' '; ' <"$WORK/err")"
			fi
			"$BIN" uninstall --name "$TR_INST" >/dev/null 2>&1 || true
		done
	done
	rm -rf "$WORK"/prof_*
}
