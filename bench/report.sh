# report.sh: part 4 of the bench, sourced by run.sh. From this run's CSVs: results.md (the
# tables and the targets, each value measured in this run), PNG plots (gnuplot), and for a
# full run the tables in bench/README.md and the headline in README.md.

# rows of a CSV without its header lines
rows() { grep -v '^#' "$OUT/$1" | tail -n +2; }

# tr_table HOOK: one row per program and packet, one column per N: ns (ratio to empty)
tr_table() {
	local hook=$1
	rows "$TR_CSV" | awk -F, -v hook="$hook" -v ns="$TR_NS" '
		BEGIN { nn = split(ns, N, " ")
			name["ifchain_plain"] = "if-chain, as written (clang -O2)"
			name["ifchain_chain"] = "if-chain, one test per rule"
			name["exact"] = "pipeline, N exact rules"
			name["cidr"] = "pipeline, N CIDR prefixes" }
		$1 == hook {
			k = $2 "," $4 "," $5
			if (!(k in seen)) { seen[k] = 1; order[++nk] = k }
			if ($16 ~ /^skipped/ || $16 ~ /^failed/) cell[k, $3] = "-"
			else cell[k, $3] = $7 " (" $14 "x)" ($16 != "" ? " !" : "")
			if ($10 != "") { ne++; if (emin == "" || $10 < emin) emin = $10; if ($10 > emax) emax = $10 }
		}
		END {
			if (!nk) exit
			printf "| %s: program, packet, destination |", hook
			for (i = 1; i <= nn; i++) printf " N=%s |", N[i]
			printf "\n|---|"
			for (i = 1; i <= nn; i++) printf "---|"
			printf "\n"
			for (j = 1; j <= nk; j++) {
				split(order[j], f, ",")
				printf "| %s, %s, %s |", name[f[1]], f[2] == "hit" ? "matching" : "not matching", f[3]
				for (i = 1; i <= nn; i++) printf " %s |", ((order[j], N[i]) in cell) ? cell[order[j], N[i]] : ""
				printf "\n"
			}
			if (ne) printf "\nThe empty %s program, measured beside each of these: %s to %s ns (hot and mix).\n", hook, emin, emax
		}'
}

limits_table() {
	echo "| hook | style | N | compile s | BPF insns | verifier | load s | processed insns | why it stops |"
	echo "|---|---|---|---|---|---|---|---|---|"
	rows "$LIMITS_CSV" | awk -F, '{ m = $10; for (i = 11; i <= NF; i++) m = m "," $i
		sub(/; processed .*\(/, " (", m)
		printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $9, m }'
}

live_table() { # PATH
	rows "$LIVE_CSV" | awk -F, -v path="$1" -v ns="$LIVE_NS" '
		BEGIN { nn = split(ns, N, " ") }
		$1 == path && $2 != "all" {
			k = $2 "@" $3
			if (!(k in seen)) { seen[k] = 1; order[++nk] = k }
			if ($6 == "") { note = $11; sub(/; processed .*\(/, " (", note); cell[k, $4] = "- (" note ")" }
			else if ($7 < 10000) { cell[k, $4] = sprintf("%d (%d-%d)", $6, $7, $8); pps[k, $4] = $6 }
			else { cell[k, $4] = sprintf("%.0f k (%.0f-%.0f k)", $6 / 1000, $7 / 1000, $8 / 1000); pps[k, $4] = $6 }
			if ($10 != "") setup[k, $4] = $10
		}
		END {
			if (!nk) exit
			printf "| filter @ where |"
			for (i = 1; i <= nn; i++) printf " N=%s: packets/s (min-max) | vs empty |", N[i]
			printf "\n|---|"
			for (i = 1; i <= nn; i++) printf "---|---|"
			printf "\n"
			for (j = 1; j <= nk; j++) {
				k = order[j]; split(k, f, "@")
				base = f[2] == "sbx-output" || f[2] == "none" ? "empty@sbx-tc-egress" : "empty@" f[2]
				if (path != "sandbox" && f[2] == "none") base = "empty@host-xdp"
				printf "| %s |", k
				for (i = 1; i <= nn; i++) {
					r = ((base, N[i]) in pps) && ((k, N[i]) in pps) ? sprintf("%.0f %%", 100 * pps[k, N[i]] / pps[base, N[i]]) : ""
					printf " %s | %s |", cell[k, N[i]], r
				}
				printf "\n"
			}
		}'
}

control_table() {
	echo "| what | N | runs | median | min | max | |"
	echo "|---|---|---|---|---|---|---|"
	rows "$CTRL_CSV" | awk -F, '{
		if ($3 == "bytes") printf "| %s | %s | %s | %.1f MB | | | |\n", $1, $2, $4, $5 / 1e6
		else if ($5 == "") printf "| %s | %s | %s | %s | | | |\n", $1, $2, $4, $8
		else printf "| %s | %s | %s | %s s | %s s | %s s | %s |\n", $1, $2, $4, $5, $6, $7, $8 }'
}

ctrl_field() { # WHAT N FIELD (6: min, 7: max, 8: note)
	rows "$CTRL_CSV" | awk -F, -v w="$1" -v n="$2" -v f="$3" '$1 == w && $2 == n && $5 != "" { print $f; exit }'
}

# the control plane's targets (issue 15): met only when the whole min-max range clears them
control_targets() {
	local n v lo hi note w ok
	n=$(echo "$CTRL_NS" | awk '{ print $NF }')
	for w in allow revoke; do
		v=$(ctrl_field "$w" "$n" 5) hi=$(ctrl_field "$w" "$n" 7) lo=$(ctrl_field "$w" "$n" 6)
		note=$(ctrl_field "$w" "$n" 8)
		target "$w on a $n-rule profile under 100 ms, whatever its size" \
			"${v:--} s (${lo:-}-${hi:-}, $note); at each N: $(for m in $CTRL_NS; do printf '%s %s s; ' "$m" "$(ctrl_get "$w" "$m")"; done)" \
			"$([ -n "$hi" ] && { le "$hi" 0.1 && echo 1 || echo 0; })"
	done
	v=$(ctrl_get reload_unchanged "$n") hi=$(ctrl_field reload_unchanged "$n" 7)
	note=$(ctrl_field reload_unchanged "$n" 8)
	ok=$([ -n "$v" ] && { [ "$note" = "no switch" ] && echo 1 || echo 0; })
	target "reload of an unchanged $n-rule profile: no switch" "${v:--} s (max ${hi:-}, $note)" "$ok"
	v=$(ctrl_get install "$n") hi=$(ctrl_field install "$n" 7)
	target "$n rules installed in under 2 s" "${v:--} s (median, max ${hi:-})" \
		"$([ -n "$hi" ] && { le "$hi" 2 && echo 1 || echo 0; })"
	# a switch (a reload of a changed profile) loads and fills a generation as an install does,
	# and carries the counters over: no dearer than the install, by the medians
	lo=$(ctrl_get switch "$n") note=$(ctrl_field switch "$n" 8)
	target "a switch at $n rules no dearer than an install" \
		"switch ${lo:--} s (max $(ctrl_field switch "$n" 7), $note), install ${v:--} s" \
		"$([ -n "$lo" ] && [ -n "$v" ] && { le "$lo" "$v" && echo 1 || echo 0; })"
}

# tr_get HOOK IMPL N PACKET DEST FIELD
tr_get() {
	rows "$TR_CSV" | awk -F, -v h="$1" -v i="$2" -v n="$3" -v p="$4" -v d="$5" -v f="$6" \
		'$1 == h && $2 == i && $3 == n && $4 == p && $5 == d && $16 == "" { print $f; exit }'
}

live_get() { # PATH FILTER WHERE N: median pps
	rows "$LIVE_CSV" | awk -F, -v p="$1" -v f="$2" -v w="$3" -v n="$4" \
		'$1 == p && $2 == f && $3 == w && $4 == n && $6 != "" { print $6; exit }'
}

ctrl_get() { # WHAT N
	rows "$CTRL_CSV" | awk -F, -v w="$1" -v n="$2" '$1 == w && $2 == n && $5 != "" { print $5; exit }'
}

# verdict line of a target: VALUE-TEXT MET(1|0|"")
target() {
	local what=$1 value=$2 met=$3
	case $met in
	1) met=met ;;
	0) met="**missed**" ;;
	*) met="not measured" ;;
	esac
	echo "| $what | $value | $met |"
}

ratio() { awk "BEGIN { if ($2 + 0 == 0) exit 1; printf \"%.2f\", $1 / $2 }"; }
le() { awk "BEGIN { exit !($1 <= $2) }"; }

targets_table() {
	local v a b lo n ok w min_r x y p
	echo "| target | measured in this run | |"
	echo "|---|---|---|"
	v=$(tr_get tc exact 1 hit hot 13)
	a=$(rows "$TR_CSV" | awk -F, '$1 == "tc" && $2 == "exact" && $4 == "hit" && $16 == "" { if ($13 > m) m = $13 } END { print m }')
	if [ -n "$v" ]; then
		target "exact rules at tc: at most 25 ns above the empty program" \
			"$v ns at 1 rule (hot); at most $a ns over every N and destination mix" \
			"$(le "$a" 25 && echo 1 || echo 0)"
	else
		target "exact rules at tc: at most 25 ns above the empty program" "-" ""
	fi
	n=$(echo "$TR_NS" | awk '{ print $NF }')
	for d in hot mix; do
		a=$(tr_get tc exact 1 hit $d 7)
		b=$(tr_get tc exact "$n" hit $d 7)
		if [ -n "$a" ] && [ -n "$b" ]; then
			x=$(ratio "$b" "$a")
			target "exact rules at tc, $n rules within 1.3x of 1 rule ($d)" "$b ns / $a ns = ${x}x" \
				"$(le "$x" 1.3 && echo 1 || echo 0)"
		else
			target "exact rules at tc, $n rules within 1.3x of 1 rule ($d)" "-" ""
		fi
	done
	for d in hot mix; do
		a=$(tr_get tc exact 1000 hit $d 7)
		b=$(tr_get tc ifchain_chain 1000 hit $d 7)
		if [ -n "$a" ] && [ -n "$b" ]; then
			x=$(ratio "$b" "$a")
			target "at least 10x faster than the if-chain at 1,000 rules (tc, matching, $d)" \
				"if-chain $b ns / pipeline $a ns = ${x}x" "$(le 10 "$x" && echo 1 || echo 0)"
		fi
	done
	for st in plain chain; do
		a=$(tr_get tc exact 3 hit hot 7)
		b=$(tr_get tc ifchain_$st 3 hit hot 7)
		if [ -n "$a" ] && [ -n "$b" ]; then
			x=$(ratio "$a" "$b")
			target "at 3 rules no more than 2x slower than the if-chain ($st, tc, matching)" \
				"pipeline $a ns / if-chain $b ns = ${x}x" "$(le "$x" 2 && echo 1 || echo 0)"
		fi
	done
	# live: the pipeline against the empty program at the same hook, every N
	for p in sandbox:sbx-tc-egress sandbox:host-tc-ingress host:host-tc-ingress host:host-xdp; do
		min_r=
		w=
		for n in $LIVE_NS; do
			a=$(live_get "${p%%:*}" pipeline "${p#*:}" "$n")
			b=$(live_get "${p%%:*}" empty "${p#*:}" "$n")
			[ -n "$a" ] && [ -n "$b" ] || continue
			x=$(awk "BEGIN { printf \"%.0f\", 100 * $a / $b }")
			w="$w N=$n: $x %;"
			if [ -z "$min_r" ] || [ "$x" -lt "$min_r" ]; then min_r=$x; fi
		done
		target "live, ${p%%:*} path, pipeline at ${p#*:}: at least 90 % of the empty program's rate" \
			"${w:--}" "$([ -n "$min_r" ] && { [ "$min_r" -ge 90 ] && echo 1 || echo 0; })"
	done
	for p in sbx-tc-egress host-tc-ingress; do
		ok=
		w=
		for n in $LIVE_NS; do
			[ "$n" -ge 1000 ] || continue
			a=$(live_get sandbox pipeline "$p" "$n")
			for f in nftables iptables iptables-legacy; do
				b=$(live_get sandbox "$f" sbx-output "$n")
				[ -n "$a" ] && [ -n "$b" ] || continue
				w="$w N=$n: $(ratio "$a" "$b")x $f;"
				if awk "BEGIN { exit !($a > $b) }"; then ok=${ok:-1}; else ok=0; fi
			done
		done
		target "live, sandbox path: pipeline at $p ahead of nftables and iptables at N >= 1,000" \
			"${w:--}" "$ok"
	done
	control_targets
	n=$(echo "$CTRL_NS" | awk '{ print $NF }')
	v=$(ctrl_get memory_total "$n")
	target "$n rules in under 200 MB of kernel memory" \
		"$([ -n "$v" ] && awk "BEGIN { printf \"%.1f MB (all the instance's maps)\", $v / 1e6 }" || echo -)" \
		"$([ -n "$v" ] && { le "$v" 200000000 && echo 1 || echo 0; })"
}

# plot FILE TITLE XLABEL YLABEL DATA: one line per series; DATA lines: "series x y [ylow yhigh]"
plot() {
	local png=$1 title=$2 xl=$3 yl=$4 data=$5 dir s first=1 cols
	[ -s "$data" ] || return 0
	dir=$WORK/plot.$$
	rm -rf "$dir"
	mkdir -p "$dir"
	awk -v d="$dir" '{ f = d "/" $1; print $2, $3, $4, $5 >f }' "$data"
	cols=$(awk 'NF >= 5 { print "errors"; exit }' "$data")
	{
		echo "set terminal pngcairo size 960,560 noenhanced"
		echo "set output '$png'"
		echo "set title '$title'"
		echo "set logscale xy; set xlabel '$xl'; set ylabel '$yl'; set grid"
		echo "set offsets graph 0.05, graph 0.05, 0, 0; set key outside right"
		printf "plot "
		for s in $(ls "$dir"); do
			[ $first = 1 ] || printf ", "
			first=0
			if [ -n "$cols" ]; then
				printf "'%s/%s' using 1:2:3:4 with yerrorlines title '%s'" "$dir" "$s" "$s"
			else
				printf "'%s/%s' using 1:2 with linespoints title '%s'" "$dir" "$s" "$s"
			fi
		done
		echo
	} | gnuplot 2>"$WORK/gp.err" || say report "gnuplot: $(head -1 "$WORK/gp.err")"
	rm -rf "$dir"
}

plot_testrun() { # HOOK
	rows "$TR_CSV" | awk -F, -v h="$1" '$1 == h && $16 == "" && $4 == "hit" {
		print $2 "_" $5, $3, $7; if (!($5 in e) || $10 < e[$5]) e[$5] = $10 }
		END { for (d in e) print "empty_program_" d, 1, e[d] }' >"$WORK/plot.dat"
	# the empty program is as long as the x axis
	awk -v max="${TR_NS##* }" '$1 ~ /^empty/ { print; $2 = max; print }' "$WORK/plot.dat" >"$WORK/plot.e"
	grep -v '^empty' "$WORK/plot.dat" >>"$WORK/plot.e" || true
	plot "$OUT/testrun_$1.png" "ns per matching packet at $1, BPF_PROG_TEST_RUN median ($DATE)" \
		"rules (N)" "ns per packet" "$WORK/plot.e"
}

plot_live() { # PATH
	rows "$LIVE_CSV" | awk -F, -v p="$1" '$1 == p && $6 != "" { print $2 "@" $3, $4, $6, $7, $8 }' \
		>"$WORK/plot.dat"
	plot "$OUT/live_$1.png" "live, $1 path: packets/s delivered, median and min-max ($DATE)" \
		"rules (N)" "packets per second" "$WORK/plot.dat"
}

# replace what is between the markers BEGIN and END in FILE with the file CONTENT
splice() {
	local file=$1 begin=$2 end=$3 content=$4
	grep -q "$begin" "$file" || return 0
	awk -v b="$begin" -v e="$end" -v c="$content" '
		index($0, b) { print; while ((getline l < c) > 0) print l; skip = 1; next }
		index($0, e) { skip = 0 }
		!skip { print }' "$file" >"$file.new" && mv "$file.new" "$file"
}

# report_md PREFIX: the whole report, links to its files starting with PREFIX
report_md() {
	local rel=$1
	{
		echo "## Results ($MODE run)"
		echo
		echo "Machine: $MACHINE. Kernel: $KERNEL. Date: $DATE. Load average before the run:"
		echo "$LOAD. This run took $DURATION s."
		echo "CSVs: [testrun]($rel/testrun.csv), [limits]($rel/limits.csv), [live]($rel/live.csv), [control]($rel/control.csv)."
		echo
		echo "### Targets"
		echo
		targets_table
		echo
		echo "### Cost per packet (BPF_PROG_TEST_RUN)"
		echo
		echo "ns per packet, median of $TR_RUNS runs of $TR_REPEAT repeats (fewer for programs slower than"
		echo "$TR_BUDGET s a run: see the CSV), and in brackets the ratio to the empty program of the same"
		echo "hook, run beside it. \`hot\`: one destination replayed; \`mix\`: a random destination of the"
		echo "set written into each packet first (a wrapper program, also in front of the empty program)."
		echo "\`!\`: see the CSV's note. \`-\`: skipped or failed (the CSV says why)."
		echo
		tr_table tc
		echo
		tr_table xdp
		echo
		echo "![tc]($rel/testrun_tc.png)"
		echo
		[ -s "$OUT/testrun_xdp.png" ] && echo "![xdp]($rel/testrun_xdp.png)" && echo
		echo "### Where the if-chain stops"
		echo
		limits_table
		echo
		echo "### Live traffic"
		echo
		echo "Packets per second delivered to the corp side's IP layer, median of $LIVE_RUNS runs of"
		echo "at most $LIVE_SECONDS s and $LIVE_COUNT packets, 64-byte frames, every packet allowed by a"
		echo "rule (1,024 of the N rules, at random). \`vs empty\`: against the empty program at the same"
		echo "hook (\`none\` and the netfilter rows: against the empty program at sbx0's tc egress)."
		echo
		echo "**Sandbox egress path** (udpflood in the sandbox, sendmmsg; one CPU carries the send and"
		echo "the host side's receive):"
		echo
		live_table sandbox
		echo
		echo "**Host side at line rate** (XDP live frames into host0; they skip the sandbox's tc"
		echo "egress and netfilter, so only host-side hooks are compared):"
		echo
		live_table host
		echo
		live_table host-pktgen
		rows "$LIVE_CSV" | awk -F, '$1 == "host-pktgen" && $2 == "all" { print "pktgen: " $11; exit }'
		[ "$HAVE_XDP" = 1 ] || echo "The pipeline at XDP: skipped, this build has no \`install --xdp\`."
		echo
		echo "![sandbox path]($rel/live_sandbox.png)"
		echo
		echo "![host side]($rel/live_host.png)"
		echo
		echo "### Control plane"
		echo
		echo "Install of a profile of N exact rules into a fresh instance, one \`allow\` over it (a whole"
		echo "install of the next generation), and the kernel memory of the instance's maps (memlock):"
		echo
		control_table
	}
}

report_all() {
	local md=$OUT/results.md
	plot_testrun tc
	plot_testrun xdp
	plot_live sandbox
	plot_live host
	report_md "" | sed 's|(/|(|g' >"$md"
	# the fast path's own run (bench/fast.sh), kept beside
	if [ -f bench/results/fast.md ] && [ "$MODE" = full ]; then
		printf '\n<!-- fast:begin -->\n\n### Fast path (issue 15): `make bench-fast`, [fast.csv](fast.csv)\n\n'
		cat bench/results/fast.md
		echo '<!-- fast:end -->'
	fi >>"$md"
	say report "$md"
	if [ "$MODE" = full ]; then
		report_md results >"$WORK/readme.md"
		splice bench/README.md '<!-- results:begin -->' '<!-- results:end -->' "$WORK/readme.md"
		{
			echo "Latest \`make bench\` ($DATE, $KERNEL, $(nproc) cores, load average $LOAD before"
			echo "it; medians, their spread and every table in [bench/README.md](bench/README.md)):"
			echo
			targets_table
		} >"$WORK/headline.md"
		splice README.md '<!-- bench:begin -->' '<!-- bench:end -->' "$WORK/headline.md"
	fi
}
