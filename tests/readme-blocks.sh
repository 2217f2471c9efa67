#!/bin/bash
# Generated blocks of the README: the text between the lines
#   <!-- BEGIN NAME -->
#   <!-- END NAME -->
# is the output of a command.
#
#   tests/readme-blocks.sh [--check] [--code] NAME CMD [ARGS...]
#
# replaces block NAME with CMD's stdout (inside a ``` fence with --code);
# with --check it changes nothing and exits 1, printing a diff, when the
# block differs from that output. README=FILE names another file. Exits 2
# when the block is missing or CMD fails.
set -u
check=0 code=0
while [ $# -gt 0 ]; do
	case $1 in
	--check) check=1 ;;
	--code) code=1 ;;
	*) break ;;
	esac
	shift
done
if [ $# -lt 2 ]; then
	echo "usage: tests/readme-blocks.sh [--check] [--code] NAME CMD [ARGS...]" >&2
	exit 2
fi
name=$1
shift
file=${README:-$(dirname "$0")/../README}
begin="<!-- BEGIN $name -->" end="<!-- END $name -->"
if [ "$(grep -cxF -- "$begin" "$file")" != 1 ] || [ "$(grep -cxF -- "$end" "$file")" != 1 ]; then
	echo "readme-blocks: $file has no single block '$name'" >&2
	exit 2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! "$@" >"$tmp/out"; then
	echo "readme-blocks: '$*' failed" >&2
	exit 2
fi
{
	[ $code = 1 ] && echo '```'
	cat "$tmp/out"
	[ $code = 1 ] && echo '```'
} >"$tmp/block"
awk -v b="$begin" -v e="$end" -v blk="$tmp/block" '
	$0 == b { print; while ((getline l < blk) > 0) print l; skip = 1; next }
	$0 == e { skip = 0 }
	!skip' "$file" >"$tmp/new"
if [ $check = 1 ]; then
	diff -u --label "$file" --label "$file (from '$*')" "$file" "$tmp/new" && exit 0
	exit 1
fi
cat "$tmp/new" >"$file"
