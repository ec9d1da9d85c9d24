#!/usr/bin/env bash
# fast_report.sh FAST_CSV: the tables of bench/fast.sh's run (markdown, on stdout).
# A target is "met" only when the whole min-max range of its figure clears it.
set -eu
awk -F, '
/^#/ { if ($0 ~ /^# (machine|kernel|date|runs)/) hdr = hdr substr($0, 3) "; "; next }
/^id,/ { next }
{
	k = $1 "/" $2
	what[k] = $3; ns[k] = $5; nsmin[k] = $6; nsmax[k] = $7; base[k] = $8
	ab[k] = $11; abmin[k] = $12; abmax[k] = $13; r[k] = $14; rmin[k] = $15; rmax[k] = $16
	order[++n] = k
}
function rng(lo, hi) { return lo "-" hi }
function verdict(ok, fig) { return ok ? "met" : "not met: " fig }
function target(name, limit, fig, ok) { printf "| %s | %s | %s | %s |\n", name, limit, fig, verdict(ok, fig) }
END {
	print "Run: " hdr
	print ""
	print "Each row is an interleaved pair, pinned to one CPU: the median of the per-run differences"
	print "and ratios and their whole range; `aa` (the empty program against itself) is the noise"
	print "floor. `insitu`: the attached program'"'"'s run_time_ns / run_cnt under live frames"
	print "(kernel.bpf_stats_enabled=1; at XDP the pipeline'"'"'s figure includes libxdp'"'"'s dispatcher and"
	print "the entry program in front of it, the empty program is attached alone). A target is met only"
	print "when the whole min-max range of its figure clears it."
	print ""
	print "| row | hook | what | ns (min-max) | baseline ns | above baseline, median (min-max) | ratio (min-max) |"
	print "|---|---|---|---|---|---|---|"
	for (i = 1; i <= n; i++) {
		k = order[i]; split(k, p, "/")
		if (p[1] ~ /^insitu/ || p[1] ~ /^(chase|lookup|buckets|oa)$/)
			printf "| %s | %s | %s | %s (%s) | | | |\n", p[1], p[2], what[k], ns[k], rng(nsmin[k], nsmax[k])
		else
			printf "| %s | %s | %s | %s (%s) | %s | %s (%s) | %s (%s) |\n", p[1], p[2], what[k], ns[k],
				rng(nsmin[k], nsmax[k]), base[k], ab[k], rng(abmin[k], abmax[k]), r[k], rng(rmin[k], rmax[k])
	}
	print ""
	print "| target | limit | measured (median, min-max of the per-run pairs) | status |"
	print "|---|---|---|---|"
	lim["tc"] = 30; lim["xdp"] = 35
	for (h in lim) hooks[h] = 1
	split("tc xdp", hl, " ")
	for (j = 1; j <= 2; j++) {
		h = hl[j]; k = "allow/" h
		if (k in ab) target("allowed, exact rule, hot, " h ": ns above empty", "<= " lim[h], ab[k] " (" rng(abmin[k], abmax[k]) ")", abmax[k] <= lim[h])
	}
	for (j = 1; j <= 2; j++) {
		h = hl[j]; k = "small/" h
		if (k in ab) target("16-rule stage against a no-op stage, " h, "<= 5 ns", ab[k] " (" rng(abmin[k], abmax[k]) ")", abmax[k] <= 5)
	}
	for (j = 1; j <= 2; j++) {
		h = hl[j]; a = "allow/" h; d = "deny/" h
		if ((a in ab) && (d in ab) && ab[a] > 0 && abmin[a] > 0) {
			med = ab[d] / ab[a]; worst = abmax[d] / abmin[a]; best = abmin[d] / abmax[a]
			target("denied / allowed (above empty), 1 rule, " h, "<= 2", sprintf("%.2f (%.2f-%.2f)", med, best, worst), worst <= 2)
		}
	}
	for (j = 1; j <= 2; j++) {
		h = hl[j]; b = "bigmix/" h; a = "allow/" h
		c = ("chase/" h) in ns ? "chase/" h : "chase/-" # beside the hook rows, or one for both
		if ((b in ab) && (c in ns)) {
			bound = ab[a] + 2 * ns[c]
			target("1M exact rules, random, " h ": above empty", sprintf("<= hot %s + 2 x %s = %.0f", ab[a], ns[c], bound),
				ab[b] " (" rng(abmin[b], abmax[b]) ")", abmax[b] <= bound)
		}
	}
	for (j = 1; j <= 2; j++) {
		h = hl[j]; b = "bigdeny/" h; a = "bigmix/" h
		if ((a in ab) && (b in ab) && abmin[a] > 0) {
			med = ab[b] / ab[a]; worst = abmax[b] / abmin[a]; best = abmin[b] / abmax[a]
			target("denied / allowed, 1M rules, random, " h, "<= 2", sprintf("%.2f (%.2f-%.2f)", med, best, worst), worst <= 2)
		}
	}
}' "$1"
