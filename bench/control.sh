# control.sh: part 3 of the bench, sourced by run.sh. The control plane: time to install a
# profile of N exact rules into a fresh instance (host-side tc ingress, CTRL_RUNS runs); over
# the last one, CTRL_EDIT_RUNS live 'allow's and 'revoke's of one exact rule (in place when the
# stage's rules are in its hash map: the note says whether the generation stayed) and as many
# reloads of the unchanged profile (no switch); CTRL_SWITCH_RUNS (3) reloads of a changed one
# (a prefix rule added, then removed: each a switch); and the kernel memory the instance's maps use
# (the memlock line of each map's fdinfo, as bpftool shows it).

CTRL_CSV=control.csv

# instance_maps INSTANCE: the ids of every map its programs use
instance_maps() {
	local p
	{
		bpftool prog show pinned "/sys/fs/bpf/ironclaw/$1/dispatch_tc"
		for p in $("$BIN" status --name "$1" --json | grep -o '"prog_id":[0-9]*' | cut -d: -f2); do
			bpftool prog show id "$p"
		done
	} | grep -o 'map_ids [0-9,]*' | cut -d' ' -f2 | tr , '\n' | sort -un
}

# memlock INSTANCE: "total rules" bytes: all its maps, and the rule maps with the rule counters
memlock() {
	local id line total=0 rules=0 b
	for id in $(instance_maps "$1"); do
		line=$(bpftool map show id "$id")
		b=$(echo "$line" | grep -o 'memlock [0-9]*B' | grep -o '[0-9]*')
		total=$((total + b))
		case $line in *" name rules "* | *" name rules4 "* | *" name rule_counts "*) rules=$((rules + b)) ;; esac
	done
	echo "$total $rules"
}

# ctrl_row WHAT N VALUES...: median, min, max of the values
ctrl_row() {
	local what=$1 n=$2 unit=$3 note=${CTRL_NOTE:-}
	shift 3
	printf '%s\n' "$@" | sort -g | awk -v w="$what" -v n="$n" -v u="$unit" -v k=$# -v note="$note" '
		{ v[NR] = $1 }
		END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		      printf "%s,%s,%s,%d,%s,%s,%s,%s\n", w, n, u, k, m, v[1], v[NR], note }' >>"$OUT/$CTRL_CSV"
}

ctrl_time() { # sets CT_S to the seconds CMD... took; fails as CMD does
	local t0 t1 rc=0
	t0=$(date +%s.%N)
	"$@" >/dev/null 2>"$WORK/err" || rc=$?
	t1=$(date +%s.%N)
	CT_S=$(awk "BEGIN { printf \"%.3f\", $t1 - $t0 }")
	return $rc
}

ctrl_gen() { "$BIN" status --name "$1" --json | grep -o '"generation":[01]'; }

control_all() {
	local n r prof inst=${PFX}c ns=${PFX}k installs allows revokes reloads switches mem gen switched switch_each unchanged
	INSTANCES+=("$inst")
	netns "$ns"
	ip -n "$ns" link add b0 type veth peer name b1
	{
		header
		echo "what,n,unit,runs,median,min,max,note"
	} >"$OUT/$CTRL_CSV"
	for n in $CTRL_NS; do
		prof=$WORK/ctrl_prof_$n
		mkdir -p "$prof"
		"$ICB" gen-profile exact "$n" "$prof/10-exact.rules"
		installs=()
		allows=()
		revokes=()
		reloads=()
		switches=()
		mem=
		for r in $(seq "$CTRL_RUNS"); do
			"$BIN" uninstall --name "$inst" >/dev/null 2>&1 || true
			if ! ctrl_time "$BIN" install --profile "$prof" --tc-ingress "b0@$ns" \
				--source 10.42.0.2 --name "$inst"; then
				say control "install of $n rules failed: $(head -3 "$WORK/err")"
				echo "install,$n,s,0,,,,failed: $(head -1 "$WORK/err" | tr ',' ';')" >>"$OUT/$CTRL_CSV"
				continue 2
			fi
			installs+=("$CT_S")
			[ -n "$mem" ] || mem=$(memlock "$inst")
		done
		# live edits over the last install: one exact rule allowed, then revoked
		gen=$(ctrl_gen "$inst")
		switched=0
		for r in $(seq "${CTRL_EDIT_RUNS:-$CTRL_RUNS}"); do
			if ctrl_time "$BIN" allow --name "$inst" udp 10.42.7.11 port $((9000 + r)); then
				allows+=("$CT_S")
			else
				say control "allow over $n rules failed: $(head -3 "$WORK/err")"
			fi
			if ctrl_time "$BIN" revoke --name "$inst" udp 10.42.7.11 port $((9000 + r)); then
				revokes+=("$CT_S")
			else
				say control "revoke over $n rules failed: $(head -3 "$WORK/err")"
			fi
			[ "$(ctrl_gen "$inst")" = "$gen" ] || switched=1
			gen=$(ctrl_gen "$inst")
		done
		# reloads of the profile in force: once to settle (an edit may have switched), then timed
		"$BIN" reload --name "$inst" >/dev/null 2>&1 || true
		unchanged=1
		gen=$(ctrl_gen "$inst")
		for r in $(seq "${CTRL_EDIT_RUNS:-$CTRL_RUNS}"); do
			ctrl_time "$BIN" reload --name "$inst" && reloads+=("$CT_S")
			[ "$(ctrl_gen "$inst")" = "$gen" ] || unchanged=0
		done
		# switches: reloads of a changed profile, a prefix rule added then removed (a prefix
		# is not edited in place: each reload loads and fills a new generation)
		switch_each=1
		for r in $(seq "${CTRL_SWITCH_RUNS:-3}"); do
			if [ $((r % 2)) = 1 ]; then
				echo "allow tcp 10.99.0.0/16 port 443" >"$prof/20-switch.rules"
			else
				rm -f "$prof/20-switch.rules"
			fi
			gen=$(ctrl_gen "$inst")
			if ctrl_time "$BIN" reload --name "$inst"; then
				switches+=("$CT_S")
			else
				say control "switch over $n rules failed: $(head -3 "$WORK/err")"
			fi
			[ "$(ctrl_gen "$inst")" != "$gen" ] || switch_each=0
		done
		"$BIN" uninstall --name "$inst" >/dev/null 2>&1 || true
		ctrl_row install "$n" s "${installs[@]}"
		CTRL_NOTE=$([ $switched = 0 ] && echo "in place" || echo "switched")
		[ ${#allows[@]} = 0 ] || ctrl_row allow "$n" s "${allows[@]}"
		[ ${#revokes[@]} = 0 ] || ctrl_row revoke "$n" s "${revokes[@]}"
		CTRL_NOTE=$([ $unchanged = 1 ] && echo "no switch" || echo "switched")
		[ ${#reloads[@]} = 0 ] || ctrl_row reload_unchanged "$n" s "${reloads[@]}"
		CTRL_NOTE=$([ $switch_each = 1 ] && echo "switched" || echo "did not switch")
		[ ${#switches[@]} = 0 ] || ctrl_row switch "$n" s "${switches[@]}"
		CTRL_NOTE=
		ctrl_row memory_total "$n" bytes "${mem% *}"
		ctrl_row memory_rules "$n" bytes "${mem#* }"
		say control "n=$n: install $(printf '%s ' "${installs[@]}")s, switch $(printf '%s ' "${switches[@]}")s, allow $(printf '%s ' "${allows[@]}")s, revoke $(printf '%s ' "${revokes[@]}")s, reload $(printf '%s ' "${reloads[@]}")s, kernel memory ${mem% *} bytes (rules ${mem#* })"
		rm -rf "$prof"
	done
}
