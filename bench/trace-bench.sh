#!/bin/sh
# Trace mode benchmarks (called from bench/run.sh; also runs alone).
# Usage: trace-bench.sh [percall|workloads] (default: both). Prints, in
# bench/run.sh's format,
#   bench: NAME native=VALUE UNIT emulated=VALUE UNIT ratio=R
#  - trace_CALL: median cost of one call of a static client
#    (bench/trace-bench.c), natively vs under SYSFILL_FORCE=1 sysfill run
#    --mode=trace (getppid is not emulated: no stop), with stops=S
#    injected=I: the ptrace stops and injected syscalls per call
#    (SYSFILL_TRACE_STATS=1); ",same-cpu" lines with SYSFILL_TRACE_CPU=same
#    (supervisor and program on one CPU);
#  - trace_vs_preload_CALL (with PRELOAD_FIGURES=FILE, bench/run.sh's
#    per-call lines): the library's figure as native= against trace mode's;
#  - trace_workload_NAME: wall time of a real workload untraced vs in trace
#    mode, and trace_vs_proot_NAME: PRoot (plain `proot`, which stops at
#    every system call) as native= against trace mode as emulated=
#    (ratio < 1: trace mode is faster). Medians of 3 runs.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
S=$PWD/$BUILD/sysfill
BIN=$BUILD/bench/trace-bench
mkdir -p "$BUILD/bench"
${CC:-cc} -static -O2 -g -std=gnu11 -Wall -Wextra -o "$BIN" bench/trace-bench.c
test -x "$S" || { echo "bench: $S missing (run make)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

what=${1:-all}
CASES="getppid pidfd_send_signal(0) waitid(P_PIDFD,WNOHANG) pidfd_open+close
pidfd_getfd+close clone3(CLONE_PIDFD)+exit+waitpid+close"

# per call: 3 runs of 1,000 calls each; the median of the 3 medians. The
# supervisor's counters (SYSFILL_TRACE_STATS=1) of the first kind of run.
percall() {
	for i in 1 2 3; do
		"$BIN" 1000 > "$tmp/n1"
		cat "$tmp/n1" >> "$tmp/native"
		sed 's/^\([^ ]*\)/\1,same-cpu/' "$tmp/n1" >> "$tmp/native"
		SYSFILL_FORCE=1 SYSFILL_TRACE_STATS=1 "$S" run --mode=trace -- "$BIN" 1000 \
			>> "$tmp/trace" 2>> "$tmp/stats"
		SYSFILL_FORCE=1 SYSFILL_TRACE_CPU=same "$S" run --mode=trace -- "$BIN" 1000 |
			sed 's/^\([^ ]*\)/\1,same-cpu/' >> "$tmp/trace"
	done
	med() { sort -k1,1 -k2,2n "$1" | awk '{ n[$1]++; v[$1, n[$1]] = $2 } END { for (k in n) print k, v[k, 2] }'; }
	med "$tmp/native" > "$tmp/native.m"
	med "$tmp/trace" > "$tmp/trace.m"
	# stops and injected syscalls per call, of the emulated call a case
	# times (its name up to the first "(" or "+")
	for suf in "" ,same-cpu; do
		echo "$CASES" | tr ' ' '\n' | while read -r name; do
			name=$name$suf
			a=$(awk -v k="$name" '$1 == k { print $2 }' "$tmp/native.m")
			b=$(awk -v k="$name" '$1 == k { print $2 }' "$tmp/trace.m")
			awk -v n="$name" -v a="$a" -v b="$b" -v stats="$tmp/stats" 'BEGIN {
				call = n; sub(/[(+,].*/, "", call)
				while ((getline l < stats) > 0) {
					if (split(l, f, " ") < 6 || f[2] != "stats:" || f[3] != call) continue
					for (i = 4; i <= 6; i++) { split(f[i], kv, "="); s[kv[1]] += kv[2] }
				}
				extra = s["calls"] ? sprintf(" stops=%.2f injected=%.2f", s["stops"] / s["calls"], s["injected"] / s["calls"]) : " stops=0 injected=0"
				printf "bench: trace_%s native=%d ns emulated=%d ns ratio=%.2f%s\n", n, a, b, (a ? b / a : 0), extra
			}'
		done
	done | tee "$tmp/percall"
	# beside the library's figures of the same calls
	if [ -n "${PRELOAD_FIGURES:-}" ]; then
		awk 'FNR == NR { if ($1 == "bench:") { v = $5; sub("emulated=", "", v); lib[$2] = v }; next }
		$2 ~ /^trace_/ && $2 !~ /same-cpu/ {
			name = $2; sub("^trace_", "", name)
			if (!(name in lib)) next
			v = $5; sub("emulated=", "", v)
			printf "bench: trace_vs_preload_%s native=%s ns emulated=%s ns ratio=%.2f %s %s\n", name, lib[name], v, v / lib[name], $8, $9
		}' "$PRELOAD_FIGURES" "$tmp/percall"
	fi
}
[ "$what" = workloads ] || percall
[ "$what" = percall ] && exit 0

# ms NAME CMD...: median wall time of 3 runs, in ms
ms() {
	for i in 1 2 3; do
		t0=$(date +%s%N)
		"$@" >/dev/null 2>&1 || true
		t1=$(date +%s%N)
		echo $(( (t1 - t0) / 1000000 ))
	done | sort -n | sed -n 2p
}
line() { # NAME NATIVE EMULATED
	awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "bench: %s native=%d ms emulated=%d ms ratio=%.2f\n", n, a, b, (a ? b / a : 0) }'
}
workload() { # NAME CMD...
	name=$1; shift
	n=$(ms "$@")
	t=$(ms env SYSFILL_FORCE=1 "$S" run --mode=trace -- "$@")
	line "trace_workload_$name" "$n" "$t"
	if command -v proot >/dev/null 2>&1; then
		p=$(ms proot "$@")
		line "trace_vs_proot_$name" "$p" "$t"
	fi
}
workload sh-300-execs sh -c 'i=0; while [ $i -lt 300 ]; do /bin/true; i=$((i+1)); done'
cat > "$tmp/pidfds.py" <<'PY'
import os, select, subprocess
for i in range(50):
    p = subprocess.Popen(["/bin/true"])
    fd = os.pidfd_open(p.pid)
    poll = select.poll(); poll.register(fd, select.POLLIN); poll.poll(5000)
    os.waitid(os.P_PIDFD, fd, os.WEXITED)
    os.close(fd)
PY
workload python-50-pidfd-children python3 "$tmp/pidfds.py"
workload cc-3-compiles sh -c "for i in 1 2 3; do ${CC:-cc} -O1 -c -o $tmp/b.o bench/bench.c; done"
