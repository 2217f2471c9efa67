#!/bin/bash
# `sysfill check`: the calls found by disassembly in a program built here
# with one site of each kind (dynamic and static), in Debian's real users of
# the API (python3, pidwait, killall, glib), the verdict for this kernel,
# for --kernel and inside gVisor (where the calls are missing), JSON, exit
# statuses and errors.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
S=$PWD/build/sysfill
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$out"' EXIT

capture() {
	timeout -k 5 120 "$@" >"$tmp/out" 2>"$tmp/err"
	st=$?
	cp "$tmp/out" "$out"
}
# expect NAME STATUS STDOUT-SUBSTRING STDERR-SUBSTRING CMD...
expect() {
	local name=$1 want_st=$2 want_out=$3 want_err=$4
	shift 4
	capture "$@"
	if [ "$st" != "$want_st" ]; then
		fail "$name" "exit status $st, expected $want_st; err: $(head -c 300 "$tmp/err")"
	elif [ -n "$want_out" ] && ! grep -qF -- "$want_out" "$tmp/out"; then
		fail "$name" "stdout lacks '$want_out'"
	elif [ -n "$want_err" ] && ! grep -qF -- "$want_err" "$tmp/err"; then
		fail "$name" "stderr lacks '$want_err': $(head -c 300 "$tmp/err")"
	else
		pass "$name"
	fi
}
# has NAME LINE-PREFIX SUBSTRING: the first line of stdout starting with
# LINE-PREFIX (after blanks) contains SUBSTRING.
has() {
	local line
	line=$(sed -n "s/^ *$2//p" "$tmp/out" | head -n 1)
	if [[ "$line" == *"$3"* ]]; then pass "$1"; else
		fail "$1" "'$2' line lacks '$3': $line"; fi
}

cc -O1 -o "$tmp/calls" tests/check/calls.c
printf 'int main(void) { return 0; }\n' >"$tmp/plain.c"
cc -O1 -o "$tmp/plain" "$tmp/plain.c"
static_ok=0
cc -O1 -static -o "$tmp/calls-static" tests/check/calls.c 2>/dev/null && static_ok=1

# ---- the fixture: every kind of site -------------------------------------
expect check-fixture-runs-on-this-kernel 0 "needs nothing" "" "$S" check "$tmp/calls"
has check-finds-syscall-instruction "calls:" "pidfd_getfd [syscall instruction]"
has check-finds-libc-syscall "calls:" "pidfd_open [syscall()]"
has check-finds-libc-syscall-2 "calls:" "pidfd_send_signal [syscall()]"
has check-finds-waitid-p-pidfd "calls:" "waitid(P_PIDFD) [libc waitid()]"
has check-finds-clone-pidfd "calls:" "clone(CLONE_PIDFD) [syscall()]"
has check-counts-sites "syscall sites:" "1 syscall instructions (0 with a number not constant), 3 calls of syscall() (0)"
has check-names-kernel "here (kernel" "$(uname -r)): has every call it makes"
expect check-kernel-4.19-needs-sysfill 1 "on kernel 4.19: lacks pidfd_open pidfd_send_signal pidfd_getfd waitid(P_PIDFD) clone(CLONE_PIDFD): needs sysfill" "" \
	"$S" check --kernel 4.19 "$tmp/calls"
expect check-kernel-5.3-lacks-only-later-calls 1 "on kernel 5.3: lacks pidfd_getfd waitid(P_PIDFD): needs sysfill" "" \
	"$S" check --kernel=5.3 "$tmp/calls"
expect check-kernel-6.1-needs-nothing 0 "on kernel 6.1: has every call it makes" "" "$S" check --kernel 6.1 "$tmp/calls"
if [ $static_ok = 1 ]; then
	expect check-static-fixture 1 "statically linked" "" "$S" check --kernel 4.19 "$tmp/calls-static"
	has check-static-finds-libc-syscall "calls:" "pidfd_open [syscall()]"
	has check-static-finds-syscall-instruction "calls:" "pidfd_getfd [syscall instruction"
	has check-static-finds-waitid "calls:" "waitid(P_PIDFD)"
	printf '#include <pthread.h>\nstatic void *f(void *a) { return a; }\nint main(void) { pthread_t t; pthread_create(&t, 0, f, 0); return pthread_join(t, 0); }\n' >"$tmp/thr.c"
	cc -O1 -static -pthread -o "$tmp/thr-static" "$tmp/thr.c"
	expect check-static-threads-use-clone3 0 "clone3 [syscall instruction]" "" "$S" check "$tmp/thr-static"
	expect check-static-threads-clone3-eperm-kernel 1 "lacks clone3: needs sysfill" "" "$S" check --kernel 5.2 "$tmp/thr-static"
	has check-static-says-trace-mode "=>" "trace mode"
else
	skip check-static-fixture "no static libc (libc6-dev static archive missing)"
fi

# ---- Debian's programs that use the API ------------------------------------
PY=$(readlink -f /usr/bin/python3)
expect check-python-kernel-4.19 1 "needs sysfill" "" "$S" check --kernel 4.19 "$PY"
has check-python-pidfd-open "calls:" "pidfd_open [syscall()]"
has check-python-send-signal "calls:" "pidfd_send_signal [syscall()]"
has check-python-clone3-via-libc "calls:" "clone3 [libc.so.6 via pthread_create]"
has check-python-preload "=>" "preload mode works"
for p in pidwait killall; do
	bin=$(command -v $p) || { skip "check-$p" "$p not installed"; continue; }
	expect "check-$p-kernel-4.19" 1 "needs sysfill" "" "$S" check --kernel 4.19 "$bin"
done
has check-killall-send-signal "calls:" "pidfd_send_signal [syscall()]"
capture "$S" check --kernel 4.19 "$(command -v pidwait)"
has check-pidwait-via-libsystemd "calls:" "pidfd_open [syscall(); libsystemd.so.0]"
glib=$(ls /usr/lib/x86_64-linux-gnu/libglib-2.0.so.0 2>/dev/null)
if [ -n "$glib" ]; then
	capture "$S" check "$glib"
	has check-glib-child-watch "calls:" "waitid(P_PIDFD) [libc waitid()]"
	has check-glib-pidfd-open "calls:" "pidfd_open [syscall()]"
else
	skip check-glib "libglib2.0-0 not installed"
fi
expect check-no-process-api 0 "calls: none of the process API" "" "$S" check "$tmp/plain"

# ---- inside gVisor the calls are missing: check says so --------------------
if command -v runsc >/dev/null; then
	g=$(timeout -k 5 120 runsc --network=none --platform=ptrace do "$S" check "$tmp/calls" 2>&1 | cat; echo "rc=${PIPESTATUS[0]}")
	if [[ "$g" == *"lacks pidfd_open pidfd_send_signal pidfd_getfd waitid(P_PIDFD) clone(CLONE_PIDFD): needs sysfill"* && "$g" == *"rc=1"* ]]; then
		pass check-gvisor-needs-sysfill
	else
		fail check-gvisor-needs-sysfill "$(echo "$g" | tail -n 5)"
	fi
else
	skip check-gvisor-needs-sysfill "runsc not installed"
fi

# ---- JSON ------------------------------------------------------------------
capture "$S" check --json --kernel 4.19 "$tmp/calls" "$tmp/plain"
if [ "$st" = 1 ] && "$PY" - "$tmp/out" <<'PYEOF'
import json, sys
j = json.load(open(sys.argv[1]))
a, b = j["files"]
assert j["where"] == "on kernel 4.19" and "Capstone" in j["method"], j
assert a["calls"]["pidfd_getfd"] == ["syscall instruction"], a
assert a["calls"]["waitid(P_PIDFD)"] == ["libc waitid()"], a
assert a["needs_sysfill"] is True and a["mode"] == "preload", a
assert "pidfd_open" in a["missing"] and "libc.so.6" in a["libraries"], a
assert b["needs_sysfill"] is False and b["calls"].get("pidfd_open") is None, b
PYEOF
then pass check-json; else fail check-json "status $st"; fi

# ---- errors and usage --------------------------------------------------------
printf '#!/bin/sh\necho hi\n' >"$tmp/script.sh"
expect check-script-is-not-elf 2 "" "$tmp/script.sh: not an ELF file" "$S" check "$tmp/script.sh"
head -c 4000 "$PY" >"$tmp/trunc"
expect check-truncated-elf 2 "" "$tmp/trunc: truncated" "$S" check "$tmp/trunc"
head -c 30 "$PY" >"$tmp/trunc30"
expect check-truncated-elf-header 2 "" "$tmp/trunc30: truncated" "$S" check "$tmp/trunc30"
expect check-missing-file 2 "" "$tmp/nope: No such file or directory" "$S" check "$tmp/nope"
if [ "$(wc -l <"$tmp/err")" = 1 ]; then pass check-error-is-one-line; else fail check-error-is-one-line "$(cat "$tmp/err")"; fi
expect check-goes-on-after-errors 2 "$PY: ELF64" "$tmp/nope" "$S" check "$tmp/nope" "$PY" "$tmp/trunc"
if [ "$(wc -l <"$tmp/err")" = 2 ]; then pass check-names-each-bad-file; else fail check-names-each-bad-file "$(cat "$tmp/err")"; fi
expect check-method-stated-once 0 "(found by disassembling x86-64 code" "" "$S" check "$tmp/plain" "$tmp/plain"
if [ "$(grep -c 'found by disassembling' "$tmp/out")" = 1 ]; then pass check-method-once; else fail check-method-once "stated $(grep -c 'found by disassembling' "$tmp/out") times"; fi
expect check-without-files-is-usage-error 2 "" "usage" "$S" check
expect check-bad-kernel-is-usage-error 2 "" "--kernel needs a version" "$S" check --kernel banana "$S"
expect check-unknown-option 2 "" "unknown option '--bogus'" "$S" check --bogus "$S"
exit $failed
