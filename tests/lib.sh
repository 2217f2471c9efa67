# Shared by the suites that capture a command's output in $out: result
# lines in the tests/run-all.sh convention. Sets failed=1 on a failure.
failed=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

pass() { echo "PASS $1"; }
fail() {
	echo "FAIL $1: $2"
	failed=1
	sed 's/^/    | /' "$out" | tail -n 40
}
# SYSFILL_MUST_WORK=1 turns an environmental skip into a failure.
skip() {
	if [ "${SYSFILL_MUST_WORK:-0}" = 1 ]; then fail "$1" "skip not allowed: $2"; else echo "SKIP $1: $2"; fi
}
