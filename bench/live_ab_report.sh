#!/usr/bin/env bash
# live_ab_report.sh RUNS_CSV [INSITU_CSV]: live_ab.sh's table from its runs (markdown on stdout)
# and live_ab.csv beside RUNS_CSV. Per round and variant: the median of its passes' rates
# (delivered / CPU seconds of the sender; wall-clock beside); per round the ratio to the
# hook's first empty program; per variant the median of the rounds' ratios and their range.
# Targets (issue 15): the pipeline at host-side XDP and tc ingress >= 80 %, the sandbox path
# >= 95 %; "met" only when the whole range clears the target.
set -eu
RUNS=$1
INSITU=${2:-}
DELIVERED=${3:-}
DIR=$(dirname "$RUNS")
sed -n 's/^# //p' "$RUNS" | sed 's/^/    /'
echo
awk -F, -v csv="$DIR/live_ab.csv" '
function med(a, n,    i, j, t) { # sorts a[1..n] in place, returns the median
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
/^#/ || $1 == "round" { next }
{
	v = $3; r = $1
	if (!(v in seen)) { seen[v] = 1; order[++nv] = v; hook[v] = $4; what[v] = $5; n[v] = $6 }
	if (r > nr) nr = r
	c = ++cnt[v, r]
	cpu[v, r, c] = $7 / $9; wall[v, r, c] = $7 / $8
}
END {
	for (i = 1; i <= nv; i++) {
		v = order[i]
		for (r = 1; r <= nr; r++) {
			m = cnt[v, r]
			for (c = 1; c <= m; c++) { a[c] = cpu[v, r, c]; b[c] = wall[v, r, c] }
			rc[v, r] = med(a, m); rw[v, r] = med(b, m)
		}
	}
	print "hook,what,n,rounds,mpps_cpu,ns_frame,ratio,ratio_min,ratio_max,above_ns,above_min,above_max,wall_ratio,wall_min,wall_max,target,verdict" > csv
	print "| path, hook | filter | N | frames/s a CPU (ns a frame) | against empty: median (min-max) | ns above empty | wall clock: median (min-max) | target | |"
	print "|---|---|---|---|---|---|---|---|---|"
	for (i = 1; i <= nv; i++) {
		v = order[i]; base = hook[v] "-empty1"
		if (v == base) continue
		for (r = 1; r <= nr; r++) {
			x[r] = rc[v, r] / rc[base, r]; y[r] = rw[v, r] / rw[base, r]
			d[r] = 1e9 / rc[v, r] - 1e9 / rc[base, r]; z[r] = rc[v, r]
		}
		xm = med(x, nr); ym = med(y, nr); dm = med(d, nr); zm = med(z, nr)
		tgt = what[v] != "pipeline" ? "" : hook[v] == "sbx" ? 0.95 : 0.80
		verdict = tgt == "" ? (what[v] ~ /^empty/ ? "noise floor" : "part") : x[1] >= tgt ? "met" : "not met"
		place = hook[v] == "xdp" ? "host side, XDP" : hook[v] == "tc" ? "host side, tc ingress" : "sandbox path, tc egress in the sandbox"
		filt = what[v] == "pipeline" ? "pipeline" : what[v] ~ /^empty/ ? "empty (A/A)" : \
			what[v] == "entry" ? "part: an entry tail-calling the empty program" : \
			what[v] == "meta" ? "part: the empty program growing the XDP metadata (20 bytes)" : \
			what[v] == "markmeta" ? "part: the empty program growing the 28 bytes of metadata with a mark" : \
			what[v] == "tcbehind" ? "part: the empty program and an empty tc ingress program behind it" : \
			what[v] == "mark" ? "part: the shape of the one-pass mark, nothing judged (28 bytes and a mark at XDP, the mark checked at tc ingress)" : \
			what[v] ~ /^spin/ ? "part: the empty program slowed by " substr(what[v], 5) " multiplications (no more code or data)" : \
			what[v] == "wide" ? "part: the empty program slowed by several KB of straight code" : \
			what[v] == "xdponly" ? "part: the pipeline at XDP without its tc ingress pass (not valid)" : \
			what[v] == "nol2" ? "part: the pipeline without the layer-2 entry of host0 (not valid)" : \
			what[v] == "base" ? "the pipeline of the base build (LIVE_BASE)" : what[v]
		printf "%s,%s,%s,%d,%.3f,%.1f,%.3f,%.3f,%.3f,%.1f,%.1f,%.1f,%.3f,%.3f,%.3f,%s,%s\n", hook[v], what[v], n[v], nr,
			zm / 1e6, 1e9 / zm, xm, x[1], x[nr], dm, d[1], d[nr], ym, y[1], y[nr], tgt, verdict > csv
		printf "| %s | %s | %s | %.2f M (%.0f) | %.0f %% (%.0f-%.0f %%) | %.0f (%.0f..%.0f) | %.0f %% (%.0f-%.0f %%) | %s | %s |\n", place, filt,
			n[v] ? n[v] : "", zm / 1e6, 1e9 / zm, 100 * xm, 100 * x[1], 100 * x[nr], dm, d[1], d[nr],
			100 * ym, 100 * y[1], 100 * y[nr], tgt == "" ? "" : ">= " 100 * tgt " %", verdict
	}
	# LIVE_BASE: the pipeline of this build against that of the base, per round (rate ratio)
	for (i = 1; i <= nv; i++) {
		v = order[i]; p = hook[v] "-pipeline-" n[v]
		if (what[v] != "base" || !(p in seen)) continue
		if (!hdr++) print "\n| hook | N | this build against base: rate, median (min-max) | ns a frame less: median (min-max) |\n|---|---|---|---|"
		for (r = 1; r <= nr; r++) { x[r] = rc[p, r] / rc[v, r]; d[r] = 1e9 / rc[v, r] - 1e9 / rc[p, r] }
		xm = med(x, nr); dm = med(d, nr)
		printf "| %s | %s | %.0f %% (%.0f-%.0f %%) | %.0f (%.0f..%.0f) |\n", hook[v], n[v], 100 * xm, 100 * x[1], 100 * x[nr], dm, d[1], d[nr]
	}
	for (i = 1; i <= nv; i++) {
		v = order[i]
		if (v ~ /empty1$/) printf "\n%s: the empty program %.2f M frames/s a CPU (%.0f ns a frame for the whole path)", hook[v], med_of(v) / 1e6, 1e9 / med_of(v)
	}
	print ""
}
function med_of(v,    r, t) { for (r = 1; r <= nr; r++) t[r] = rc[v, r]; return med(t, nr) }
' "$RUNS"
if [ -n "$DELIVERED" ] && [ -s "$DELIVERED" ]; then
	echo
	awk -F, '{ t += $2 } $3 != $2 { printf "%s: %d sent, %d reached the IP layer\n", $1, $2, $3; bad = 1 }
		END { if (!bad) printf "Every frame sent reached the receiving side'"'"'s IP layer (%d, InReceives)\n", t }' "$DELIVERED"
fi
if [ -n "$INSITU" ] && [ -s "$INSITU" ]; then
	echo
	echo "In situ (kernel.bpf_stats_enabled=1, 3 runs a variant): run_time_ns / run_cnt of each program attached on the path"
	echo
	echo "| variant | program | ns a run | runs |"
	echo "|---|---|---|---|"
	awk -F, 'NR > 1 { printf "| %s | %s (id %s) | %s | %s |\n", $1, $3, $2, $4, $5 }' "$INSITU"
fi
