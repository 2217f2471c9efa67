#!/bin/sh
# make bench: build bench/bench.c, run it natively, under libsysfill.so
# (SYSFILL_FORCE=1) and under an allow-all seccomp filter, and print
#   bench: NAME native=VALUE UNIT emulated=VALUE UNIT ratio=R
# (R = emulated/native). The last line compares the allow-all-filter run
# (as native=) with the library run (as emulated=) for getppid.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
LIB=$PWD/$BUILD/libsysfill.so
BIN=$BUILD/bench/bench
mkdir -p "$BUILD/bench"
${CC:-cc} -O2 -g -std=gnu11 -Wall -Wextra -o "$BIN" bench/bench.c -ldl
test -f "$LIB" || { echo "bench: $LIB missing (run make)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$BIN" native > "$tmp/native"
LD_PRELOAD=$LIB SYSFILL_FORCE=1 "$BIN" emulated > "$tmp/emulated"
"$BIN" filter > "$tmp/filter"

# Join on NAME, in the order of the native run.
awk -v filter="$tmp/filter" '
function ratio(n, e) {
	if (n + 0 == 0) return (e + 0 == 0) ? "1.00" : "inf"
	return sprintf("%.2f", e / n)
}
FNR == NR { ev[$1] = $2; eu[$1] = $3; next }
{
	if (!($1 in ev)) { print "bench: " $1 " missing from emulated run" > "/dev/stderr"; bad = 1; next }
	printf "bench: %s native=%s %s emulated=%s %s ratio=%s\n", $1, $2, $3, ev[$1], eu[$1], ratio($2, ev[$1])
}
END {
	while ((getline l < filter) > 0) {
		split(l, f, " ")
		if (f[1] == "getppid" && ("getppid" in ev))
			printf "bench: getppid-vs-allow-all-filter native=%s %s emulated=%s %s ratio=%s\n", f[2], f[3], ev["getppid"], eu["getppid"], ratio(f[2], ev["getppid"])
	}
	exit bad
}' "$tmp/emulated" "$tmp/native"

# Trace mode (`sysfill run --mode=trace`): per-call costs and workloads
# against untraced runs and PRoot.
./bench/trace-bench.sh
