#!/bin/bash
# The kernel's own pidfd and clone3 selftests (Linux 6.1, from Debian's
# linux-source-6.1 package), in six modes, each compared with native:
#   native        the kernel's own answers: the oracle
#   forced        SYSFILL_FORCE=1 LD_PRELOAD=build/libsysfill.so
#   gvisor-nolib  gVisor without sysfill: must differ from native, proving
#                 that the calls are missing there
#   gvisor-lib    gVisor + SYSFILL_FORCE=1 LD_PRELOAD=build/libsysfill.so
#   gvisor-trace  gVisor + build/sysfill run -- STATIC (trace mode)
#   trace         SYSFILL_FORCE=1 build/sysfill run --mode=trace -- STATIC
# The preload modes run the dynamically linked build, the trace modes the
# -static one. Every run has a hard timeout: a hang is a failure.
#
# Each program's TAP output (ok N, not ok N, # SKIP, Bail out!, the plan
# and the exit status) gives one result per test number; a mode must give
# native's result for every test number and native's exit status. What
# differs is a failure unless it is listed in
#   tests/kselftest/gvisor-only.tsv        what gVisor alone cannot do
#                                          (gvisor-* modes only)
#   tests/kselftest/expected-failures.tsv  sysfill's known defects
# An entry of either list that no longer fails is itself a failure
# ("XPASS ... remove the entry"): the lists only shrink.
#
# Nothing of the kernel is committed: the package is fetched with
# apt-get download into $SYSFILL_CACHE/kselftest (default
# /var/cache/sysfill/kselftest), unpacked (only the two test directories
# and the kselftest headers) and built once per package version.
#
# usage: suite-kselftest.sh [--markdown]
#   --markdown  also print the per-mode table as markdown (for the README)
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/when.sh
ROOT=$PWD
SELF=$ROOT/tests/suite-kselftest.sh
LIB=$ROOT/build/libsysfill.so
SF=$ROOT/build/sysfill
DATA=$ROOT/tests/kselftest
OUT=$ROOT/build/tests/kselftest
CACHE=${SYSFILL_CACHE:-/var/cache/sysfill}/kselftest
PKG=linux-source-6.1
JOBS=${KSELFTEST_JOBS:-2}
RUNSC=(runsc --network=none --platform=ptrace "do")
PROGS="pidfd_test pidfd_fdinfo_test pidfd_open_test pidfd_poll_test pidfd_wait
pidfd_getfd_test pidfd_setns_test clone3 clone3_clear_sighand clone3_set_tid
clone3_cap_checkpoint_restore"
MODES="native forced gvisor-nolib gvisor-lib gvisor-trace trace"
# seconds per run; gVisor runs are slower
TMO_NATIVE=${KSELFTEST_TIMEOUT:-120}
TMO_GVISOR=${KSELFTEST_TIMEOUT_GVISOR:-120}
NOREG="the Debian package registry cannot be reached (linux-source-6.1, libcap-dev)"

# ---- one run: suite-kselftest.sh --run MODE PROG ---------------------------
# Writes $OUT/MODE/PROG.out (stdout and stderr) and $OUT/MODE/PROG.res (the
# parsed results, see parse()). Needs $BIN and $REAPER in the environment.

# parse OUTFILE STATUS: "exit S", "plan N", "bail", then "N pass|fail|skip"
# per test number (a number reported twice, as a child's copy of the stdio
# buffer does, takes the worst result).
parse() {
	awk -v st="$2" '
	function put(n, r) {
		if (!(n in res) || r == "fail" || (r == "pass" && res[n] == "skip")) res[n] = r
	}
	/^1\.\.[0-9]+/ { plan = substr($1, 4) + 0; if ($0 ~ /# SKIP/) allskip = 1 }
	/^Bail out!/ { bail = 1 }
	/^not ok [0-9]+/ { put($3 + 0, "fail"); next }
	/^ok [0-9]+/ { put($2 + 0, ($0 ~ /# [Ss][Kk][Ii][Pp]/) ? "skip" : "pass") }
	END {
		print "exit " st
		print "plan " plan + 0
		if (bail) print "bail"
		if (allskip) print "allskip"
		for (n in res) print n, res[n]
	}' "$1" | sort -k1,1n
}

run_one() {
	local mode=$1 p=$2 d=$OUT/$1 st t0=$SECONDS args=()
	local dyn=$BIN/$p static=$BIN/$p.static
	# 10000 fork+kill+poll rounds take minutes in gVisor: 1000 there
	case $mode,$p in gvisor-*,pidfd_poll_test) args=(1000) ;; esac
	mkdir -p "$d"
	cd "$d" || exit 1
	case $mode in
	native)
		timeout -k 5 "$TMO_NATIVE" "$REAPER" --kill "$dyn" "${args[@]}" </dev/null >"$p.out" 2>&1
		st=$? ;;
	forced)
		# env, so that only the program (not timeout) has the library
		timeout -k 5 "$TMO_NATIVE" "$REAPER" --kill env SYSFILL_FORCE=1 LD_PRELOAD="$LIB" "$dyn" "${args[@]}" </dev/null >"$p.out" 2>&1
		st=$? ;;
	trace)
		timeout -k 5 "$TMO_NATIVE" "$REAPER" --kill env SYSFILL_FORCE=1 "$SF" run --mode=trace -- "$static" "${args[@]}" </dev/null >"$p.out" 2>&1
		st=$? ;;
	gvisor-*)
		# runsc: stdin from /dev/null and output through a pipe (it may
		# lose output written straight to a file); under a subreaper
		# for the helpers it leaves behind
		local cmd
		case $mode in
		gvisor-nolib) cmd=("$dyn" "${args[@]}") ;;
		gvisor-lib) cmd=(env SYSFILL_FORCE=1 LD_PRELOAD="$LIB" "$dyn" "${args[@]}") ;;
		gvisor-trace) cmd=("$SF" run -- "$static" "${args[@]}") ;;
		esac
		timeout -k 5 "$TMO_GVISOR" "$REAPER" "${RUNSC[@]}" "${cmd[@]}" </dev/null 2>&1 | cat >"$p.out"
		st=${PIPESTATUS[0]} ;;
	esac
	parse "$p.out" "$st" >"$p.res"
	echo "$((SECONDS - t0))" >"$p.time"
}

if [ "${1:-}" = --run ]; then
	run_one "$2" "$3"
	exit 0
fi

markdown=0
[ "${1:-}" = --markdown ] && markdown=1
t0=$(date +%s)
failed=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; failed=1; }
skip() {
	if [ "${SYSFILL_MUST_WORK:-0}" = 1 ]; then fail "$1" "skip not allowed: $2"; else echo "SKIP $1: $2"; fi
}
# show FILE: its last lines, indented
show() { sed 's/^/    | /' "$1" | tail -n "${2:-15}"; }

mkdir -p "$OUT"
if [ ! -f "$LIB" ] || [ ! -x "$SF" ]; then
	make -C "$ROOT" >"$OUT/make.log" 2>&1 || { fail kselftest/build-sysfill "make failed"; show "$OUT/make.log"; exit 1; }
fi

# ---- fetch, unpack, build (cached per package version) ---------------------
candidate() { apt-cache policy "$PKG" 2>/dev/null | sed -n 's/^ *Candidate: //p' | grep -v '(none)'; }
ver=$(candidate)
if [ -z "$ver" ]; then
	timeout -k 5 300 apt-get update -qq >"$OUT/apt-update.log" 2>&1
	ver=$(candidate)
fi
if [ -z "$ver" ] && [ -d "$CACHE" ]; then
	# no registry: a tree unpacked before will do
	ver=$(ls "$CACHE" 2>/dev/null | while read -r v; do [ -f "$CACHE/$v/src.done" ] && echo "$v"; done | sort -V | tail -n1)
fi
if [ -z "$ver" ]; then
	skip kselftest "$NOREG"
	exit 0
fi
V=$CACHE/$ver
SEL=$V/src/tools/testing/selftests
if [ ! -f "$V/src.done" ]; then
	rm -rf "$V/src" "$V/dl"
	mkdir -p "$V/dl" "$V/src"
	if ! (cd "$V/dl" && timeout -k 5 600 apt-get download -qq "$PKG=$ver") >"$OUT/download.log" 2>&1; then
		timeout -k 5 300 apt-get update -qq >"$OUT/apt-update.log" 2>&1
		if ! (cd "$V/dl" && timeout -k 5 600 apt-get download -qq "$PKG=$ver") >"$OUT/download.log" 2>&1; then
			rm -rf "$V"
			skip kselftest "$NOREG"
			exit 0
		fi
	fi
	deb=$(ls "$V"/dl/*.deb)
	# the inner tarball is xz: one pass, only the members we need
	inner=./usr/src/$PKG.tar.xz
	top=$PKG/tools/testing/selftests
	if ! { dpkg-deb --fsys-tarfile "$deb" | tar -xO "$inner" | xz -dc |
		tar -x -C "$V/src" --strip-components=1 --wildcards \
			"$top/pidfd/*" "$top/clone3/*" "$top/kselftest*.h"; } >"$OUT/unpack.log" 2>&1 ||
		[ ! -f "$SEL/kselftest.h" ]; then
		fail kselftest/unpack "could not unpack $top from $deb"
		show "$OUT/unpack.log"
		exit 1
	fi
	rm -rf "$V/dl"
	touch "$V/src.done"
fi

if ! sh tests/ensure-deps.sh libcap-dev xz-utils >"$OUT/deps.log" 2>&1; then
	if grep -q 'missing packages' "$OUT/deps.log"; then
		fail kselftest/deps "$(cat "$OUT/deps.log")"
		exit 1
	fi
	skip kselftest "$NOREG"
	exit 0
fi

# CFLAGS of the 6.1 Makefiles (pidfd: -g -pthread -Wall; clone3: -g
# -std=gnu99 -lcap), the system's uapi headers in place of KHDR_INCLUDES
BIN=$V/bin
CFLAGS="-g -O2 -Wall -std=gnu99 -pthread -I$SEL"
mkdir -p "$BIN"
# rebuild everything when the flags change
[ "$(cat "$BIN/cflags" 2>/dev/null)" = "$CFLAGS" ] || rm -f "$BIN"/*
echo "$CFLAGS" >"$BIN/cflags"
buildok=1
for p in $PROGS; do
	case $p in pidfd*) src=$SEL/pidfd/$p.c ;; *) src=$SEL/clone3/$p.c ;; esac
	for kind in dyn static; do
		o=$BIN/$p; fl=""
		[ $kind = static ] && o=$BIN/$p.static fl=-static
		[ -x "$o" ] && [ "$o" -nt "$src" ] && continue
		if ! cc $CFLAGS $fl -o "$o.tmp" "$src" -lcap >"$OUT/$p.$kind.build.log" 2>&1; then
			fail "kselftest/$p/build-$kind" "does not compile"
			show "$OUT/$p.$kind.build.log"
			buildok=0
			continue
		fi
		mv "$o.tmp" "$o"
	done
done
[ $buildok = 1 ] || exit 1

REAPER=$OUT/reaper
if ! cc -O1 -Wall -D_GNU_SOURCE -o "$REAPER" tests/conformance/helpers/reaper.c >"$OUT/reaper.build.log" 2>&1; then
	fail kselftest/build-reaper "does not compile"
	show "$OUT/reaper.build.log"
	exit 1
fi

have_gvisor=1 gvisor_why=""
if ! command -v runsc >/dev/null; then
	have_gvisor=0 gvisor_why="gVisor (runsc) not installed"
elif [ "$(id -u)" != 0 ]; then
	have_gvisor=0 gvisor_why="gVisor (runsc) cannot run here"
fi

# ---- run every (mode, program), $JOBS at a time -----------------------------
modes=""
for m in $MODES; do
	case $m in gvisor-*) [ $have_gvisor = 1 ] || continue ;; esac
	modes="$modes $m"
done
rm -rf "${OUT:?}"/native "${OUT:?}"/forced "${OUT:?}"/gvisor-* "${OUT:?}"/trace
export BIN REAPER
# the slow ones first (pidfd_test sleeps and forks 32768 times; gVisor is slow)
jobs_list() {
	for m in $modes; do echo "$m pidfd_test"; done
	for m in $modes; do case $m in gvisor-*) for p in $PROGS; do [ $p = pidfd_test ] || echo "$m $p"; done ;; esac; done
	for m in $modes; do case $m in gvisor-*) ;; *) for p in $PROGS; do [ $p = pidfd_test ] || echo "$m $p"; done ;; esac; done
}
jobs_list | xargs -P "$JOBS" -L 1 bash "$SELF" --run

# ---- compare ---------------------------------------------------------------
# res MODE PROG: the parsed results
res() { cat "$OUT/$1/$2.res" 2>/dev/null || echo "exit 255"; }

# outcomes MODE PROG: "KEY RESULT" for every test number 1..max(plan, seen)
# (RESULT pass, fail, skip or missing) and "exit S"
outcomes() {
	res "$1" "$2" | awk '
	$1 == "exit" { print; next }
	$1 == "plan" { plan = $2; next }
	$1 ~ /^[0-9]+$/ { r[$1] = $2; if ($1 + 0 > max) max = $1 + 0 }
	END {
		if (plan > max) max = plan
		for (i = 1; i <= max; i++) print i, ((i in r) ? r[i] : "missing")
	}'
}

# counts MODE PROG: "pass fail skip" (a planned test that never reported
# counts as failed, or as skipped when the program exited 4 = KSFT_SKIP;
# "1..0 # SKIP" is one skip) and a note for a hang or a crash
cell() {
	res "$1" "$2" | awk '
	$1 == "exit" { st = $2 } $1 == "plan" { plan = $2 } $1 == "allskip" { allskip = 1 }
	$1 ~ /^[0-9]+$/ { n++; c[$2]++ }
	END {
		miss = plan - n; if (miss < 0) miss = 0
		if (st == 4) c["skip"] += miss; else c["fail"] += miss
		if (allskip && n == 0) c["skip"]++
		note = ""
		if (st == 124 || st == 137) note = " hang"
		else if (st != 0 && st != 1 && st != 4) note = " exit " st
		printf "%d/%d/%d%s\n", c["pass"], c["fail"], c["skip"], note
	}'
}

# diffs MODE PROG: the keys (test numbers, "exit") where MODE differs from
# native, as "KEY native-result mode-result"
diffs() {
	join -a1 -a2 -e none -o 0,1.2,2.2 <(outcomes native "$2" | sort -k1,1) <(outcomes "$1" "$2" | sort -k1,1) |
		awk '$2 != $3' | sort -k1,1n
}

# entries FILE PROG MODE: "KEY<TAB>text" of FILE's rows for PROG and MODE
# (columns: program, mode (a shell pattern), test number / exit / *, text)
entries() {
	[ -f "$1" ] || return 0
	local prog mode key text
	while IFS=$'\t' read -r prog mode key text; do
		case $prog in ''|'#'*) continue ;; esac
		[ "$prog" = "$2" ] || continue
		# shellcheck disable=SC2254
		case $3 in $mode) printf '%s\t%s\n' "$key" "$text" ;; esac
	done <"$1"
}

# verdict KNOWN DIFFS: KNOWN is "LIST<TAB>KEYS<TAB>text" lines (KEYS: "*", or
# test numbers, ranges N-M and "exit", comma-separated), DIFFS the output of
# diffs(). Prints "BAD<TAB>key<TAB>what" for a difference no entry covers,
# "XPASS<TAB>list<TAB>keys<TAB>text<TAB>detail" for an entry with a key that
# no longer differs, "XFAIL<TAB>list<TAB>keys<TAB>text" for the others.
verdict() {
	awk -v known="$1" -v diffs="$2" 'BEGIN {
		nd = split(diffs, dl, "\n")
		for (i = 1; i <= nd; i++) {
			if (dl[i] == "") continue
			split(dl[i], f, " ")
			D[f[1]] = f[3] " (native: " f[2] ")"; anyd = 1
		}
		nk = split(known, kl, "\n")
		for (i = 1; i <= nk; i++) {
			if (kl[i] == "") continue
			split(kl[i], f, "\t")
			if (f[2] == "*") {
				if (!anyd) { print "XPASS\t" f[1] "\t" f[2] "\t" f[3] "\t"; continue }
				for (k in D) cov[k] = 1
				print "XFAIL\t" f[1] "\t" f[2] "\t" f[3]
				continue
			}
			# "~KEYS": a timing-dependent failure (named so): covers
			# its tests when they differ, never an XPASS
			some = f[2] ~ /^~/
			keys = some ? substr(f[2], 2) : f[2]
			n = split(keys, parts, ","); gone = ""; hit = 0
			for (j = 1; j <= n; j++) {
				lo = hi = parts[j]
				if (parts[j] ~ /^[0-9]+-[0-9]+$/) { split(parts[j], r, "-"); lo = r[1] + 0; hi = r[2] + 0 }
				if (lo == hi) { if (lo in D) cov[lo] = hit = 1; else gone = gone " " lo; continue }
				for (x = lo; x <= hi; x++) if (x in D) cov[x] = hit = 1; else gone = gone " " x
			}
			if (some) { if (hit) print "XFAIL\t" f[1] "\t" f[2] "\t" f[3] }
			else if (gone != "") print "XPASS\t" f[1] "\t" f[2] "\t" f[3] "\t (test" gone ")"
			else print "XFAIL\t" f[1] "\t" f[2] "\t" f[3]
		}
		for (k in D) if (!(k in cov)) print "BAD\t" k "\t" D[k]
	}' | sort -t$'\t' -k1,1 -k2,2n
}

# when_seen OUTPUT: the KNOWN lines on stdin, less the conditional ones
# (tests/when.sh) whose TEXT OUTPUT (the run's stdout and stderr) lacks.
when_seen() {
	local list keys text
	while IFS=$'\t' read -r list keys text; do
		[ -n "$list" ] || continue
		when_holds "$text" "$1" || continue
		printf '%s\t%s\t%s\n' "$list" "$keys" "$text"
	done
}

for p in $PROGS; do
	st=$(res native "$p" | awk '$1 == "exit" { print $2 }')
	case $st in
	0|1|4) pass "kselftest/$p/native"
	       [ "$st" = 1 ] && echo "    native fails: $(grep -m3 -E '^(not ok|Bail out)' "$OUT/native/$p.out" | tr '\n' ' ' | cut -c1-200)" ;;
	*) fail "kselftest/$p/native" "exit status $st ($(cell native "$p"))"; show "$OUT/native/$p.out" ;;
	esac
	for m in $modes; do
		[ "$m" = native ] && continue
		t=kselftest/$p/$m
		d=$(diffs "$m" "$p")
		c=$(cell "$m" "$p")
		if [ "$m" = gvisor-nolib ]; then
			if res "$m" "$p" | grep -qE '^exit (124|137)$'; then
				fail "$t" "hang ($c)"; show "$OUT/$m/$p.out"
			elif [ -z "$d" ]; then
				fail "$t" "same results as native ($c): the calls are not missing in gVisor"
			else
				pass "$t"
			fi
			continue
		fi
		known=$( { case $m in gvisor-*) entries "$DATA/gvisor-only.tsv" "$p" "$m" | sed 's/^/gvisor-only\t/' ;; esac
			   entries "$DATA/expected-failures.tsv" "$p" "$m" | sed 's/^/expected\t/'; } )
		known=$(printf '%s\n' "$known" | when_seen "$OUT/$m/$p.out")
		v=$(verdict "$known" "$d")
		if printf '%s\n' "$v" | grep -qE '^(BAD|XPASS)'; then
			fail "$t" "differs from native ($c vs $(cell native "$p")):$(printf '%s\n' "$v" | awk -F'\t' '
				$1 == "BAD" { printf " test %s: %s;", $2, $3 }
				$1 == "XPASS" { printf " XPASS %s entry \"%s %s %s\" (%s): no longer fails%s, remove the entry;", $2, p, m, $3, $4, $5 }' p="$p" m="$m")"
			printf '%s\n' "$v" | grep -q '^BAD' && show "$OUT/$m/$p.out"
		else
			pass "$t"
		fi
		printf '%s\n' "$v" | awk -F'\t' '$1 == "XFAIL" { printf "    known (%s): test %s: %s\n", $2, $3, $4 }'
	done
done

# ---- the table ---------------------------------------------------------------
echo
echo "kselftest $ver: pass/fail/skip per program and mode ('hang' = killed by the timeout)"
{
	printf '%s' program; for m in $MODES; do printf '\t%s' "$m"; done; echo
	for p in $PROGS; do
		printf '%s' "$p"
		for m in $MODES; do
			if [ -f "$OUT/$m/$p.res" ]; then printf '\t%s' "$(cell "$m" "$p" | tr ' ' '~')"; else printf '\t-'; fi
		done
		echo
	done
} >"$OUT/table.tsv"
column -t -s $'\t' "$OUT/table.tsv" | tr '~' ' '
if [ $markdown = 1 ]; then
	echo
	awk -F'\t' '{ gsub(/~/, " "); line = "|"; for (i = 1; i <= NF; i++) line = line " " ($i) " |"; print line
		if (NR == 1) { line = "|"; for (i = 1; i <= NF; i++) line = line " --- |"; print line } }' "$OUT/table.tsv"
fi
echo "kselftest: $(( $(date +%s) - t0 )) s"
exit $failed
