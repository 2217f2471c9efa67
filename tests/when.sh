# A listed failure that sysfill reports itself when it happens (a warning)
# is written 'when "TEXT": why' in the lists (tests/kselftest/
# expected-failures.tsv, tests/conformance/expected-failures.tsv,
# tests/trace/expected-failures.tsv): it covers a failing run only when
# that run's output has TEXT, and a passing run is no XPASS.
#
# when_cond WHY: TEXT of a 'when "TEXT": ...' WHY, else nothing.
when_cond() {
	local t
	[[ $1 == 'when "'* ]] || return 0
	t=${1#when \"}
	printf '%s\n' "${t%%\"*}"
}
# when_holds WHY FILE: true unless WHY is conditional and FILE lacks TEXT.
when_holds() {
	local c
	c=$(when_cond "$1")
	[ -z "$c" ] || grep -qF -- "$c" "$2" 2>/dev/null
}
