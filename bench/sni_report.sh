#!/usr/bin/env bash
# sni_report.sh SNI_CSV INSNS_CSV SECONDS LOAD: bench/sni.sh's tables in Markdown.
set -eu
CSV=$1
INSNS=$2
SECS=$3
LOAD_END=$4

hdr() { sed -n "s/^# $1: //p" "$CSV"; }

echo "TLS server-name check (\`bench/sni.sh\`, $(hdr date)): $(hdr machine); $(hdr kernel);"
echo "load average $(hdr load) at the start, $LOAD_END at the end; $(hdr runs); $SECS s in all."
echo
echo "ns per packet at the dispatcher (BPF_PROG_TEST_RUN), median of the runs; \`above\`: the"
echo "median of the per-run differences, and their whole range."
echo
echo "| hook | what | checked, ns | unchecked, ns | above (min..max) | ratio |"
echo "|---|---|---|---|---|---|"
awk -F, '!/^#/ && $1 != "id" && $4 == "" {
	printf "| %s | %s | %.0f | %.0f | %.0f (%.0f..%.0f) | %.2f |\n", $2, $3, $7, $10, $13, $14, $15, $16 }' "$CSV"
echo
echo "Whole new flows, one by one (each segment a single test run: cold), the median over"
echo "$(hdr runs | sed "s/.*flows: \([0-9]*\).*/\1/") flows a run, then over the runs; a part's segments summed:"
echo
echo "| hook | what | part (segments) | checked, ns | unchecked, ns | above (min..max) |"
echo "|---|---|---|---|---|---|"
awk -F, '!/^#/ && $1 != "id" && $4 != "" {
	printf "| %s | %s | %s (%s) | %.0f | %.0f | %.0f (%.0f..%.0f) |\n", $2, $3, $4, $5, $7, $10, $13, $14, $15 }' "$CSV"
echo
echo "Verifier, instructions processed (of 1,000,000 a program):"
echo
echo "| instance | hook | program | instructions |"
echo "|---|---|---|---|"
awk -F, 'NR > 1 { printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4 }' "$INSNS"
