#!/bin/sh
# Trace mode benchmarks (called from bench/run.sh; also runs alone).
# Prints, in bench/run.sh's format,
#   bench: NAME native=VALUE UNIT emulated=VALUE UNIT ratio=R
#  - trace_CALL: median cost of one call of a static client
#    (bench/trace-bench.c), natively vs under SYSFILL_FORCE=1 sysfill run
#    --mode=trace (getppid is not emulated: no stop); ",same-cpu" lines
#    with SYSFILL_TRACE_CPU=same (supervisor and program on one CPU);
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

# per call: 3 runs of 1,000 calls each; the median of the 3 medians
for i in 1 2 3; do
	"$BIN" 1000 >> "$tmp/native"
	SYSFILL_FORCE=1 "$S" run --mode=trace -- "$BIN" 1000 >> "$tmp/trace"
	SYSFILL_FORCE=1 SYSFILL_TRACE_CPU=same "$S" run --mode=trace -- "$BIN" 1000 |
		sed 's/^\([^ ]*\)/\1,same-cpu/' >> "$tmp/trace"
	sed 's/^\([^ ]*\)/\1,same-cpu/' "$tmp/native" | tail -4 >> "$tmp/native"
done
med() { sort -k1,1 -k2,2n "$1" | awk '{ n[$1]++; v[$1, n[$1]] = $2 } END { for (k in n) print k, v[k, 2] }'; }
med "$tmp/native" > "$tmp/native.m"
med "$tmp/trace" > "$tmp/trace.m"
for name in getppid 'pidfd_send_signal(0)' 'waitid(P_PIDFD,WNOHANG)' pidfd_open+close \
	getppid,same-cpu 'pidfd_send_signal(0),same-cpu' 'waitid(P_PIDFD,WNOHANG),same-cpu' pidfd_open+close,same-cpu; do
	a=$(awk -v k="$name" '$1 == k { print $2 }' "$tmp/native.m")
	b=$(awk -v k="$name" '$1 == k { print $2 }' "$tmp/trace.m")
	awk -v n="$name" -v a="$a" -v b="$b" 'BEGIN { printf "bench: trace_%s native=%d ns emulated=%d ns ratio=%.2f\n", n, a, b, (a ? b / a : 0) }'
done

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
