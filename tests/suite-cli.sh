#!/bin/bash
# CLI suite: the `sysfill` command (tracer/): probe natively, simulated and
# in gVisor; check on dynamic, static, script, truncated and missing files;
# run with --kernel/--no-emulate, --profile, preload mode, and env(1)-style
# exit statuses. Prints "PASS name" / "FAIL name: why" / "SKIP name: why";
# exits non-zero on failure.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
CC=${CC:-cc}
PY=/usr/bin/python3
S=$ROOT/build/sysfill
LIB=$ROOT/build/libsysfill.so
RUNSC=(runsc --network=none --platform=ptrace "do")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rc=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; rc=1; }
skip() {
	if [ "${SYSFILL_MUST_WORK:-0}" = 1 ]; then fail "$1" "skip not allowed: $2"; else echo "SKIP $1: $2"; fi
}
oneline() { printf '%s' "$1" | tail -n 4 | tr '\n' ' ' | cut -c1-300; }

# ---- build ------------------------------------------------------------
if grep -q 'tracer/tracer.mk' Makefile; then
	build=(make -s build/sysfill)
else
	build=(make -s -f tracer/tracer.mk build/sysfill) # fragment not included yet
fi
if ! log=$("${build[@]}" 2>&1); then
	fail build-sysfill "$(oneline "$log")"
	exit 1
fi
pass build-sysfill
have_lib=1
make -s build/libsysfill.so >/dev/null 2>&1 || have_lib=0
[ -f "$LIB" ] || have_lib=0

tools=$tmp/tools
mkdir -p "$tools"
if ! log=$("$CC" -std=gnu11 -O1 -Wall -Wextra ${CI:+-Werror} tests/cli/thread-probe.c \
	-pthread -o "$tools/thread-probe" 2>&1); then
	fail build-thread-probe "$(oneline "$log")"
	exit 1
fi
printf '#include <stdio.h>\nint main(void) { puts("static: OK"); return 0; }\n' >"$tmp/st.c"
static_ok=1
if ! log=$("$CC" -static -O1 "$tmp/st.c" -o "$tools/static-hello" 2>&1); then
	fail build-static-hello "$(oneline "$log")"
	static_ok=0
fi

# out/err/st of the last `capture CMD...`
capture() {
	"$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	st=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}
# expect NAME WANT_STATUS WANT_STDOUT_SUBSTR WANT_STDERR_SUBSTR CMD...
expect() {
	local name=$1 want_st=$2 want_out=$3 want_err=$4
	shift 4
	capture "$@"
	if [ "$st" != "$want_st" ]; then
		fail "$name" "exit status $st, expected $want_st; out: $(oneline "$out") err: $(oneline "$err")"
	elif [[ "$out" != *"$want_out"* ]]; then
		fail "$name" "stdout lacks '$want_out': $(oneline "$out")"
	elif [[ "$err" != *"$want_err"* ]]; then
		fail "$name" "stderr lacks '$want_err': $(oneline "$err")"
	else
		pass "$name"
	fi
}
# json_expect NAME JSON_FILE PYTHON_EXPR: EXPR over j (the parsed object)
# must be true; on failure prints the features.
json_expect() {
	local name=$1 file=$2 expr=$3 why
	if why=$("$PY" - "$file" "$expr" 2>&1 <<'EOF'
import json, sys
text = open(sys.argv[1]).read()
start = text.find("{")
j = json.loads(text[start:text.rindex("}") + 1])
f = {k: (v["status"], v["errno"]) for k, v in j["features"].items()}
fac = {k: v["status"] for k, v in j["facilities"].items()}
if not eval(sys.argv[2]):
    print("kernel=%s features=%s facilities=%s" % (j["kernel"], f, fac))
    sys.exit(1)
EOF
	); then pass "$name"; else fail "$name" "$(oneline "$why")"; fi
}

# ---- basics -----------------------------------------------------------
expect version-prints-0.1.0 0 "sysfill 0.1.0" "" "$S" --version
expect help-lists-commands 0 "probe" "" "$S" --help
expect no-command-is-usage-error 2 "" "usage" "$S"
expect unknown-command-is-usage-error 2 "" "unknown command" "$S" frobnicate
expect run-help-shows-feature-table 0 "pidfd_getfd" "" "$S" run --help
capture "$S" run --help
if grep -Eq '^ +PIDFD_THREAD +pidfd_open +6\.9 ' <<<"$out" &&
	grep -Eq '^ +waitid\(P_PIDFD\) +waitid +5\.4 +EINVAL' <<<"$out"; then
	pass run-help-table-has-versions
else
	fail run-help-table-has-versions "$(oneline "$out")"
fi

# ---- probe ------------------------------------------------------------
expect probe-native-says-all-native 0 "all calls native" "" "$S" probe
"$S" probe --json >"$tmp/native.json" 2>&1
json_expect probe-native-json-every-feature-native "$tmp/native.json" \
	'all(s == ("native", None) for s in f.values()) and len(f) == 16'
json_expect probe-native-json-facilities-usable "$tmp/native.json" \
	'fac == {"seccomp": "usable", "ptrace": "usable", "proc_connector": "usable"}'
expect probe-bad-option-is-usage-error 2 "" "usage" "$S" probe --bogus

# The probe must not change the sysfill process: nothing is left open or
# loaded. Run it with an fd table snapshot around it (via /proc of a shell
# that execs sysfill is not possible after exit), so check the children:
# every probe child is reaped, i.e. no zombie remains under a subreaper.
capture "$PY" -c '
import ctypes, os, subprocess, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
subprocess.run([sys.argv[1], "probe"], stdout=subprocess.DEVNULL, check=True)
left = []
try:
    while True:
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            break
        left.append(pid)
except ChildProcessError:
    pass
print("orphans=%d" % len(left))' "$S"
if [ "$st" = 0 ] && [ "$out" = "orphans=0" ]; then
	pass probe-leaves-no-processes
else
	fail probe-leaves-no-processes "status $st: $(oneline "$out $err")"
fi

# Simulated kernels, seen by the probe itself (the filter survives exec).
"$S" run -q --kernel 4.19 --no-emulate -- "$S" probe --json >"$tmp/k419.json" 2>&1
json_expect probe-under-kernel-4.19-sees-it "$tmp/k419.json" \
	'f["pidfd_open"] == ("missing", "ENOSYS") and f["pidfd_send_signal"] == ("missing", "ENOSYS") and f["clone3"] == ("missing", "ENOSYS") and f["waitid_pidfd"] == ("missing", "EINVAL") and f["pidfd_getfd"] == ("missing", "ENOSYS")'
# Before 5.2 clone ignores CLONE_PIDFD: the supervisor clears the flag.
json_expect probe-under-kernel-4.19-clone-pidfd-ignored "$tmp/k419.json" \
	'f["clone_pidfd"] == ("ignored", None)'
"$S" run -q --kernel 5.4 --no-emulate -- "$S" probe --json >"$tmp/k54.json" 2>&1
json_expect probe-under-kernel-5.4-sees-it "$tmp/k54.json" \
	'f["waitid_pidfd"] == ("native", None) and f["clone3"] == ("native", None) and f["pidfd_getfd"] == ("missing", "ENOSYS") and f["pidfd_nonblock"] == ("missing", "EINVAL")'
"$S" run -q --kernel 5.10 --no-emulate -- "$S" probe --json >"$tmp/k510.json" 2>&1
json_expect probe-under-kernel-5.10-sees-it "$tmp/k510.json" \
	'f["pidfd_nonblock"] == ("native", None) and f["pidfd_thread"] == ("missing", "EINVAL") and f["pidfd_signal_flags"] == ("missing", "EINVAL") and f["setns_pidfd"] == ("native", None) and f["pidfd_ns_ioctl"] == ("missing", "ENOTTY") and f["pidfd_get_info"] == ("missing", "ENOTTY") and f["pidfd_info_exit"] == ("missing", "ENOTTY")'
"$S" run --no-emulate --profile=container-eperm -- "$S" probe --json >"$tmp/eperm.json" 2>&1
json_expect probe-under-eperm-profile-clone3-emulated "$tmp/eperm.json" \
	'j["features"]["clone3"]["with_sysfill"].startswith("emulated") and j["features"]["pidfd_open"]["with_sysfill"] == "native"'
json_expect probe-under-eperm-profile-says-seccomp-profile "$tmp/eperm.json" \
	'f["clone3"] == ("missing", "EPERM") and j["features"]["clone3"]["detail"] == "seccomp profile" and "EPERM" in j["advice"]'

# gVisor: the calls are really missing.
if ! command -v runsc >/dev/null; then
	skip probe-gvisor "gVisor (runsc) not installed"
else
	timeout -k 5 90 "${RUNSC[@]}" "$S" probe --json </dev/null 2>&1 | cat >"$tmp/gvisor.json"
	if ! grep -q '"kernel"' "$tmp/gvisor.json"; then
		fail probe-gvisor-runs "no JSON: $(oneline "$(cat "$tmp/gvisor.json")")"
	else
		json_expect probe-gvisor-says-4.4.0 "$tmp/gvisor.json" 'j["kernel"] == "4.4.0"'
		json_expect probe-gvisor-pidfd-calls-enosys "$tmp/gvisor.json" \
			'f["pidfd_open"] == ("missing", "ENOSYS") and f["clone3"] == ("missing", "ENOSYS") and f["pidfd_send_signal"] == ("missing", "ENOSYS") and f["pidfd_getfd"] == ("missing", "ENOSYS")'
		json_expect probe-gvisor-waitid-pidfd-einval "$tmp/gvisor.json" \
			'f["waitid_pidfd"] == ("missing", "EINVAL")'
		json_expect probe-gvisor-clone-pidfd-ignored "$tmp/gvisor.json" \
			'f["clone_pidfd"] == ("ignored", None)'
		json_expect probe-gvisor-says-what-sysfill-emulates "$tmp/gvisor.json" \
			'all(j["features"][k]["with_sysfill"].startswith("emulated") for k in ("pidfd_open", "pidfd_send_signal", "pidfd_getfd", "waitid_pidfd", "clone3", "clone_pidfd", "pidfd_poll")) and j["features"]["pidfd_thread"]["with_sysfill"] == "emulated (preload)"'
		json_expect probe-gvisor-facilities "$tmp/gvisor.json" \
			'fac["seccomp"] == "usable" and fac["ptrace"] == "usable" and fac["proc_connector"] == "unusable"'
		json_expect probe-gvisor-advises-preload "$tmp/gvisor.json" \
			'"pidfd calls missing" in j["advice"] and "LD_PRELOAD=" in j["advice"]'
	fi
fi
# The supervisor's log says what it does: in gVisor it emulates (the
# calls are missing there), never "nothing emulated".
if command -v runsc >/dev/null; then
	timeout -k 5 90 "${RUNSC[@]}" env SYSFILL_LOG=info "$S" run --mode=trace -- /bin/true \
		</dev/null 2>&1 | cat >"$tmp/gvisor-log"
	if grep -q 'info: trace mode: emulating pidfd_open' "$tmp/gvisor-log" &&
		! grep -q 'nothing emulated' "$tmp/gvisor-log"; then
		pass run-gvisor-log-says-emulating
	else
		fail run-gvisor-log-says-emulating "$(oneline "$(cat "$tmp/gvisor-log")")"
	fi
fi

# ---- check: tests/suite-check.sh ----------------------------------------

# ---- run: --kernel --no-emulate -------------------------------------------
pidfd_open='import os; print("pidfd", os.pidfd_open(os.getpid()) >= 0)'
expect run-kernel-4.19-pidfd-open-enosys 1 "" "[Errno 38]" \
	"$S" run -q --kernel 4.19 --no-emulate -- "$PY" -c "$pidfd_open"
expect run-kernel-5.10-pidfd-open-works 0 "pidfd True" "" \
	"$S" run -q --kernel 5.10 --no-emulate -- "$PY" -c "$pidfd_open"
waitid='import os
pid = os.fork()
if pid == 0: os._exit(3)
fd = os.pidfd_open(pid)
try:
    r = os.waitid(os.P_PIDFD, fd, os.WEXITED); print("waitid", r.si_status)
except OSError as e:
    print("waitid", e.errno); os.waitpid(pid, 0)'
expect run-kernel-5.3-waitid-pidfd-einval 0 "waitid 22" "" \
	"$S" run -q --kernel 5.3 --no-emulate -- "$PY" -c "$waitid"
expect run-kernel-5.4-waitid-pidfd-works 0 "waitid 3" "" \
	"$S" run -q --kernel 5.4 --no-emulate -- "$PY" -c "$waitid"
nonblock='import os
try: os.close(os.pidfd_open(os.getpid(), 0o4000)); print("nonblock ok")
except OSError as e: print("nonblock", e.errno)'
expect run-kernel-5.9-pidfd-nonblock-einval 0 "nonblock 22" "" \
	"$S" run -q --kernel 5.9 --no-emulate -- "$PY" -c "$nonblock"
expect run-kernel-5.10-pidfd-nonblock-works 0 "nonblock ok" "" \
	"$S" run -q --kernel 5.10 --no-emulate -- "$PY" -c "$nonblock"
# A kernel without clone3: glibc falls back to clone, threads still work.
expect run-kernel-5.2-threads-fall-back-to-clone 0 "thread: OK" "" \
	"$S" run -q --kernel 5.2 --no-emulate -- "$tools/thread-probe"
# clone(CLONE_PIDFD) before 5.2 cannot be simulated by a filter: the
# program runs under the supervisor, which clears the flag.
expect run-kernel-4.19-no-emulate-runs-under-the-supervisor 0 "" "CLONE_PIDFD" \
	env SYSFILL_LOG=info "$S" run --kernel 4.19 --no-emulate -- true
expect run-quiet-hides-the-warning 0 "" "" "$S" run -q --kernel 4.19 --no-emulate -- true
if [ -z "$err" ]; then pass run-quiet-stderr-empty; else fail run-quiet-stderr-empty "$(oneline "$err")"; fi
expect run-strict-accepts-kernel-4.19 0 "" "" \
	"$S" run --strict --kernel 4.19 --no-emulate -- true
# 5.2's CLONE_PIDFD pidfds were not pollable: nothing can hide that.
expect run-strict-refuses-kernel-5.2 125 "" "refusing" \
	"$S" run --strict --kernel 5.2 --no-emulate -- true
# 5.3-5.7's pidfds were no handles for setns: no filter tells them from
# namespace fds.
expect run-strict-refuses-kernel-5.3 125 "" "setns(pidfd)" \
	"$S" run --strict --kernel 5.3 --no-emulate -- true
expect run-strict-accepts-kernel-5.8 0 "" "" \
	"$S" run --strict --kernel 5.8 --no-emulate -- true
if [ $static_ok = 1 ]; then
	expect run-no-emulate-runs-static-binary 0 "static: OK" "" \
		"$S" run -q --kernel 4.19 --no-emulate -- "$tools/static-hello"
fi

# ---- run: --profile ------------------------------------------------------
expect run-profile-eperm-breaks-pthread-create 1 "thread: EPERM" "" \
	"$S" run --no-emulate --profile=container-eperm -- "$tools/thread-probe"
expect run-unknown-profile-fails 125 "" "unknown profile" \
	"$S" run --profile=nope -- true

# ---- run: preload mode ---------------------------------------------------
expect run-preload-sets-ld-preload 0 "$LIB:/nonexistent-x.so" "" \
	env LD_PRELOAD=/nonexistent-x.so "$S" run --mode=preload -- sh -c 'echo "$LD_PRELOAD"'
expect run-auto-mode-preloads-dynamic 0 "$LIB" "" \
	"$S" run -- sh -c 'echo "pre=$LD_PRELOAD force=${SYSFILL_FORCE:-}"'
if [[ "$out" == *"force=" ]]; then pass run-auto-mode-no-force-without-kernel; else fail run-auto-mode-no-force-without-kernel "$out"; fi
expect run-kernel-with-emulation-forces 0 "force=1" "" \
	"$S" run -q --kernel 4.19 -- sh -c 'echo "force=${SYSFILL_FORCE:-}"'
expect run-kernel-5.10-with-emulation-does-not-force 0 "force=." "" \
	"$S" run -q --kernel 5.10 -- sh -c 'echo "force=${SYSFILL_FORCE:-}."'
if [ $have_lib = 1 ]; then
	expect run-kernel-4.19-emulated-pidfd-open-works 0 "pidfd True" "" \
		"$S" run -q --kernel 4.19 -- "$PY" -c "$pidfd_open"
	expect run-profile-eperm-with-preload-threads-work 0 "thread: OK" "" \
		"$S" run --profile=container-eperm -- "$tools/thread-probe"
else
	fail run-preload-library "build/libsysfill.so does not build"
fi
expect run-mode-trace-runs-program 0 "" "" "$S" run --mode=trace -- true
if [ $static_ok = 1 ]; then
	expect run-auto-static-uses-trace 0 "static: OK" "" "$S" run -- "$tools/static-hello"
fi
expect run-no-emulate-with-preload-contradicts 125 "" "contradicts" \
	"$S" run --no-emulate --mode=preload -- true

# ---- run: exit statuses as env(1) -----------------------------------------
expect run-bad-option-125 125 "" "unknown option" "$S" run --bogus -- true
expect run-bad-kernel-version-125 125 "" "bad kernel version" "$S" run --kernel 4.x --no-emulate -- true
expect run-no-program-125 125 "" "no program" "$S" run --no-emulate
expect run-not-found-127 127 "" "No such file or directory" "$S" run -- sysfill-no-such-program
expect run-not-executable-126 126 "" "Permission denied" "$S" run -- /etc/passwd
expect run-directory-126 126 "" "" "$S" run -- /tmp
expect run-program-status-passes-through 7 "" "" "$S" run --mode=preload -- sh -c 'exit 7'
# (in a child bash, so that no "Terminated" notice lands in the output)
st=$(bash -c '"$1" run --mode=preload -- sh -c "kill -TERM \$\$" >/dev/null 2>&1; echo $?' _ "$S" 2>/dev/null)
if [ "$st" = 143 ]; then pass run-death-by-signal-143; else fail run-death-by-signal-143 "status $st"; fi
# No extra process: the program has sysfill's pid.
capture bash -c '"$1" run -q --kernel 5.4 --no-emulate -- sh -c "echo \$\$" & echo "$!"; wait' _ "$S"
a=$(sed -n 1p <<<"$out") b=$(sed -n 2p <<<"$out")
if [ -n "$a" ] && [ "$a" = "$b" ]; then pass run-execs-in-place; else fail run-execs-in-place "pids: $(oneline "$out")"; fi
# A shebang-less script runs through /bin/sh, as with execvp.
printf 'echo plain-script\n' >"$tmp/plain"
chmod +x "$tmp/plain"
expect run-script-without-shebang 0 "plain-script" "" "$S" run --no-emulate -- "$tmp/plain"

# ---- settings: spellings, warnings, the log file ---------------------------
pidfd_line='import os; os.close(os.pidfd_open(os.getpid())); print("pidfd ok")'
# lib_run NAME WANT_STDERR_SUBSTR ENV...: python3 under the library
lib_run() {
	local name=$1 want=$2
	shift 2
	expect "$name" 0 "pidfd ok" "$want" env LD_PRELOAD="$LIB" "$@" "$PY" -c "$pidfd_line"
}
lib_run settings-log-level-any-case 'info: kernel has' SYSFILL_LOG=INFO
lib_run settings-log-level-number 'debug: pidfd_open(' SYSFILL_LOG=3 SYSFILL_FORCE=1
lib_run settings-log-level-warning-is-warn '' SYSFILL_LOG=Warning
if [ -z "$err" ]; then pass settings-warning-level-is-quiet; else fail settings-warning-level-is-quiet "$(oneline "$err")"; fi
lib_run settings-bad-log-level-warns 'SYSFILL_LOG=verbose: not a log level' SYSFILL_LOG=verbose
if [ "$(grep -c 'SYSFILL_LOG=' <<<"$err")" = 1 ]; then pass settings-bad-value-warned-once; else fail settings-bad-value-warned-once "$(oneline "$err")"; fi
for v in no false OFF 0; do
	lib_run "settings-force-$v-does-not-force" 'pidfd calls native, passing through' SYSFILL_FORCE=$v SYSFILL_LOG=info
done
for v in yes TRUE on 1; do
	lib_run "settings-force-$v-forces" 'emulating the pidfd calls' SYSFILL_FORCE=$v SYSFILL_LOG=info
done
lib_run settings-bad-force-warns 'SYSFILL_FORCE=maybe: not a boolean' SYSFILL_FORCE=maybe
lib_run settings-clone3-enosys-any-case 'clone3 answers ENOSYS' SYSFILL_CLONE3=ENOSYS SYSFILL_FORCE=1 SYSFILL_LOG=info
lib_run settings-bad-clone3-warns 'SYSFILL_CLONE3=bad: not one of emulate, enosys' SYSFILL_CLONE3=bad SYSFILL_FORCE=1
expect settings-command-warns-too 0 "" "SYSFILL_FORCE=maybe: not a boolean" \
	env SYSFILL_FORCE=maybe "$S" run --mode=trace -- true
expect settings-trace-cpu-bad-warns 0 "" "SYSFILL_TRACE_CPU=bogus: not one of any, same" \
	env SYSFILL_TRACE_CPU=bogus "$S" run --mode=trace -- true
# SAME in any case pins supervisor and program to one CPU: the program sees
# one CPU in its affinity mask (this machine has more than one).
if [ "$(nproc)" -gt 1 ]; then
	expect settings-trace-cpu-same-any-case 0 "1" "" \
		env SYSFILL_TRACE_CPU=SAME "$S" run --mode=trace -- nproc
	expect settings-trace-cpu-any-leaves-affinity 0 "$(nproc)" "" \
		env SYSFILL_TRACE_CPU=any "$S" run --mode=trace -- nproc
fi
# An exec'd program under the inherited filter of a forced parent, with
# SYSFILL_FORCE removed: its log must not name SYSFILL_FORCE.
expect settings-exec-child-log-names-the-filter 0 "" "(the inherited filter traps" \
	env LD_PRELOAD="$LIB" SYSFILL_FORCE=1 "$PY" -c 'import os, subprocess
env = dict(os.environ, SYSFILL_LOG="info"); del env["SYSFILL_FORCE"]
subprocess.run(["true"], env=env, check=True)'
if [[ "$err" != *"(SYSFILL_FORCE)"* ]]; then pass settings-exec-child-log-no-false-force; else fail settings-exec-child-log-no-false-force "$(oneline "$err")"; fi

# SYSFILL_LOG_FILE: lines in the file, none on stderr; the fd is high and
# close-on-exec, and a program that closes every fd still gets its log.
logf=$tmp/lib.log
expect log-file-takes-the-lines 0 "pidfd ok" "" env LD_PRELOAD="$LIB" SYSFILL_FORCE=1 \
	SYSFILL_LOG=debug SYSFILL_LOG_FILE="$logf" "$PY" -c "$pidfd_line"
if [ -z "$err" ] && grep -q 'debug: pidfd_open(' "$logf"; then pass log-file-not-stderr; else fail log-file-not-stderr "stderr: $(oneline "$err") file: $(oneline "$(cat "$logf" 2>&1)")"; fi
rm -f "$logf"
expect log-file-after-closerange 0 "pidfd ok" "" env LD_PRELOAD="$LIB" SYSFILL_FORCE=1 \
	SYSFILL_LOG=debug SYSFILL_LOG_FILE="$logf" "$PY" -c 'import os, fcntl
log = os.environ["SYSFILL_LOG_FILE"]
fds = [int(f) for f in os.listdir("/proc/self/fd")
       if os.path.realpath("/proc/self/fd/" + f) == log]
assert len(fds) == 1 and fds[0] > 100, fds
assert fcntl.fcntl(fds[0], fcntl.F_GETFD) & fcntl.FD_CLOEXEC
os.closerange(3, 1 << 20)
os.close(os.pidfd_open(os.getpid())); print("pidfd ok")'
n=$(grep -c 'debug: pidfd_open(' "$logf" 2>/dev/null)
if [ "${n:-0}" = 1 ]; then pass log-file-reopened-after-closerange; else fail log-file-reopened-after-closerange "$n lines: $(oneline "$(cat "$logf" 2>&1)")"; fi
expect log-file-unopenable-warns 0 "pidfd ok" "SYSFILL_LOG_FILE=/nonexistent/x.log: cannot open" \
	env LD_PRELOAD="$LIB" SYSFILL_LOG_FILE=/nonexistent/x.log "$PY" -c "$pidfd_line"

# sysfill run -o FILE / -v: the command's and the library's lines go there.
rm -f "$logf"
expect run-o-v-logs-to-file 0 "pidfd ok" "" "$S" run -v -o "$logf" --mode=preload -- "$PY" -c "$pidfd_line"
if grep -q 'info: preload mode for' "$logf" && grep -q 'kernel has pidfd_open' "$logf"; then
	pass run-o-file-has-command-and-library-lines
else
	fail run-o-file-has-command-and-library-lines "$(oneline "$(cat "$logf" 2>&1)")"
fi
if [ $static_ok = 1 ]; then
	rm -f "$logf"
	expect run-o-trace-mode 0 "static: OK" "" env SYSFILL_FORCE=1 "$S" run -v -o "$logf" -- "$tools/static-hello"
	if grep -q 'info: trace mode: emulating' "$logf"; then pass run-o-file-has-supervisor-lines; else fail run-o-file-has-supervisor-lines "$(oneline "$(cat "$logf" 2>&1)")"; fi
fi
expect run-o-unopenable-125 125 "" "-o /nonexistent/x.log" "$S" run -o /nonexistent/x.log -- true
expect run-o-needs-a-value 125 "" "needs a value" "$S" run -o

# no_new_privs set for an unprivileged user: one warning at the default level
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	d=$(mktemp -d) && chmod 755 "$d" && cp "$LIB" "$d/" && chmod 644 "$d/libsysfill.so"
	expect nnp-warned-at-default-level 0 "pidfd ok" "set no_new_privs" \
		setpriv --reuid=65534 --regid=65534 --clear-groups env LD_PRELOAD="$d/libsysfill.so" \
		SYSFILL_FORCE=1 "$PY" -c 'import subprocess; subprocess.run(["true"])
import os; os.close(os.pidfd_open(os.getpid())); print("pidfd ok")'
	if [ "$(grep -c no_new_privs <<<"$err")" = 1 ]; then pass nnp-warned-once; else fail nnp-warned-once "$(oneline "$err")"; fi
	rm -rf "$d"
else
	skip nnp-warned-at-default-level "needs root and setpriv"
fi

# ---- CLI refusals and the lone release binary ------------------------------
expect version-with-argument-refused 2 "" "takes no arguments" "$S" --version extra
expect help-with-argument-refused 2 "" "takes no arguments" "$S" --help extra
expect probe-bad-option-names-it 2 "" "'--bogus'" "$S" probe --bogus
if [ $static_ok = 1 ]; then
	expect run-preload-kernel-static-refused 125 "" "statically linked" \
		"$S" run --mode=preload --kernel 4.19 -- "$tools/static-hello"
	lone=$tmp/lone
	mkdir -p "$lone" && cp "$S" "$lone/sysfill"
	expect run-lone-binary-auto-falls-back-to-trace 0 "static: OK" "trace mode for" \
		env SYSFILL_LOG=info "$lone/sysfill" run -- "$tools/static-hello"
	expect run-lone-binary-auto-dynamic-uses-trace 0 "pidfd True" "" \
		"$lone/sysfill" run -q --kernel 4.19 -- "$PY" -c "$pidfd_open"
	expect run-lone-binary-preload-refused 125 "" "use --mode=trace" \
		"$lone/sysfill" run --mode=preload -- true
	if [[ "$err" != *"make"* ]]; then pass run-lone-binary-does-not-say-make; else fail run-lone-binary-does-not-say-make "$(oneline "$err")"; fi
fi

exit $rc
