#!/bin/bash
# Dist suite: `make dist` artifacts read with libelf (dist/libsysfill.so needs
# no glibc symbol version newer than GLIBC_2.17, dist/sysfill no interpreter
# or library) and run each copied alone: dist/sysfill in an empty chroot and
# in gVisor, dist/libsysfill.so preloaded into python3 in gVisor and where
# memfd_create is missing (Linux < 3.17). Also: manual pages render without
# warnings, `make install`/`uninstall` with DESTDIR (pkg-config, linking
# against the installed libraries), --help/--version, and the README's
# feature table equals `sysfill features --markdown` (tracer/kernels.c).
# Prints "PASS name" / "FAIL name: why" / "SKIP name: reason"; exits non-zero
# on failure.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
CC=${CC:-cc}
PY=/usr/bin/python3
FLOOR=2.17
RUNSC=(runsc --network=none --platform=ptrace "do")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$out"' EXIT

# run CMD...: CMD's stdout+stderr into $out; returns CMD's status.
run() { "$@" >"$out" 2>&1 </dev/null; }
has() { grep -qF -- "$1" "$out"; }
gvisor() { "${RUNSC[@]}" "$@" </dev/null 2>&1 | cat; }

version=$(sed -n 's/^#define SYSFILL_VERSION "\(.*\)"$/\1/p' tracer/tracer.h)

# ---- build ------------------------------------------------------------
t0=$(date +%s%N)
if ! run make -s ${CI:+CI=1} all dist man; then
	fail make-dist "make dist failed"
	exit 1
fi
pass make-dist
echo "    make all dist man: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
tools=build/tests/tools
mkdir -p "$tools"
for t in elf-needs:-lelf deny-call:-lseccomp; do
	name=${t%%:*}
	if ! run "$CC" -std=gnu11 -O1 -Wall -Wextra ${CI:+-Werror} -D_GNU_SOURCE \
		"tests/tools/$name.c" "${t#*:}" -o "$tools/$name"; then
		fail "build-$name" "does not compile"
		exit 1
	fi
done

# ---- the ELF files ----------------------------------------------------
# newest GLIBC_x.y that FILE needs (from .gnu.version_r), "none" if none
newest_glibc() {
	local v
	v=$("$tools/elf-needs" "$1" | awk '$1 == "version" && $3 ~ /^GLIBC_[0-9]/ {
		print substr($3, 7) }' | sort -V | tail -n 1)
	echo "${v:-none}"
}
run "$tools/elf-needs" dist/libsysfill.so
lib_newest=$(newest_glibc dist/libsysfill.so)
build_newest=$(newest_glibc build/libsysfill.so)
echo "    newest glibc version needed: dist/libsysfill.so GLIBC_$lib_newest," \
	"build/libsysfill.so GLIBC_$build_newest"
if [ "$lib_newest" = none ] || ! has "version libc.so.6 GLIBC_2.2.5"; then
	fail dist-lib-versions-readable "no GLIBC version needs found"
elif [ "$(printf '%s\n%s\n' "$lib_newest" "$FLOOR" | sort -V | tail -n 1)" != "$FLOOR" ]; then
	fail dist-lib-needs-glibc-2.17-at-most "needs GLIBC_$lib_newest"
else
	pass dist-lib-needs-glibc-2.17-at-most
fi
# Only libc.so.6 and libdl.so.2 (glibc >= 2.34 keeps libdl.so.2 as a stub
# that still defines the old versions; a libpthread.so.0 dependency would
# drag in nothing we use).
others=$(awk '($1 == "needed" || $1 == "version") && $2 != "libc.so.6" &&
	$2 != "libdl.so.2" || $1 == "interp"' "$out")
if [ -z "$others" ] && has "needed libc.so.6"; then
	pass dist-lib-needs-only-libc-and-libdl
else
	fail dist-lib-needs-only-libc-and-libdl "also: $(echo "$others" | tr '\n' ' ')"
fi
exports() { readelf -W --dyn-syms "$1" | awk '$7 != "UND" && $5 == "GLOBAL" {
	sub(/@.*/, "", $8); print $8 }' | sort -u; }
if [ "$(exports dist/libsysfill.so)" = "$(exports build/libsysfill.so)" ] &&
	[ -n "$(exports dist/libsysfill.so)" ]; then
	pass dist-lib-exports-as-build-lib
else
	fail dist-lib-exports-as-build-lib "$(diff <(exports build/libsysfill.so) \
		<(exports dist/libsysfill.so) | tr '\n' ' ')"
fi
if run "$tools/elf-needs" dist/sysfill && [ ! -s "$out" ] &&
	readelf -h dist/sysfill | grep -q 'Type: *EXEC'; then
	pass dist-sysfill-static-no-interp-no-needed
else
	fail dist-sysfill-static-no-interp-no-needed "needs something"
fi

# ---- run them alone ---------------------------------------------------
alone=$tmp/alone
mkdir -p "$alone/root" "$alone/lib"
cp dist/sysfill "$alone/root/sysfill"
cp dist/libsysfill.so "$alone/lib/libsysfill.so"
if [ "$(id -u)" != 0 ]; then
	skip dist-sysfill-alone-in-chroot "chroot needs root"
else
	if run chroot "$alone/root" /sysfill --version && has "sysfill $version"; then
		pass dist-sysfill-version-in-empty-chroot
	else
		fail dist-sysfill-version-in-empty-chroot "expected 'sysfill $version'"
	fi
	# no /proc, no /dev, no library: the probe still reports every feature
	if run chroot "$alone/root" /sysfill probe && has "pidfd_getfd" &&
		has "all calls native" && ! has "error"; then
		pass dist-sysfill-probe-in-empty-chroot
	else
		fail dist-sysfill-probe-in-empty-chroot "expected every call native"
	fi
	if run chroot "$alone/root" /sysfill probe --json &&
		"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1]));
assert d["features"]["pidfd_open"]["status"] == "native"' "$out" 2>/dev/null; then
		pass dist-sysfill-probe-json-in-empty-chroot
	else
		fail dist-sysfill-probe-json-in-empty-chroot "not JSON or pidfd_open not native"
	fi
fi
run gvisor "$alone/root/sysfill" probe
if grep -Eq '^pidfd_open +5\.3 +emulated \(preload, trace\) +missing \(ENOSYS\)' "$out" &&
	has "=> pidfd calls missing"; then
	pass dist-sysfill-probe-in-gvisor
else
	fail dist-sysfill-probe-in-gvisor "expected pidfd_open missing (ENOSYS)"
fi

prog=$PWD/tests/tools/pidfd-demo.py
ok="child found killed by signal 15"
run gvisor env LD_PRELOAD="$alone/lib/libsysfill.so" SYSFILL_LOG=info "$PY" "$prog"
if has "$ok" && has "mode=seccomp"; then
	pass dist-lib-alone-python-pidfds-in-gvisor
else
	fail dist-lib-alone-python-pidfds-in-gvisor "expected '$ok' in seccomp mode"
fi
# Linux < 3.17 (CentOS 7) lacks memfd_create, which glibc 2.17 lacks too:
# the library's replacement must still give it its seccomp filter.
run "$tools/deny-call" memfd_create env LD_PRELOAD="$alone/lib/libsysfill.so" \
	SYSFILL_FORCE=1 SYSFILL_LOG=info "$PY" "$prog"
if has "$ok" && has "mode=seccomp"; then
	pass dist-lib-seccomp-mode-without-memfd-create
else
	fail dist-lib-seccomp-mode-without-memfd-create "expected '$ok' in seccomp mode"
fi
# sysfill run finds the library next to itself
cp dist/sysfill "$alone/lib/sysfill"
run "$alone/lib/sysfill" run --kernel 4.19 -q -- "$PY" "$prog"
if has "$ok"; then
	pass dist-run-kernel-4.19-with-dist-lib
else
	fail dist-run-kernel-4.19-with-dist-lib "expected '$ok'"
fi
# A static program exec'd from a program with the library is rerouted to
# the static sysfill next to it, which keeps the library's filter: the
# supervisor's own trapped calls (its probe's pidfd_open in gVisor) must
# not kill it (tracer/selftrap.c), and the program gets the emulation.
if cc -static -O1 -D_GNU_SOURCE -o "$tools/client" tests/trace/client.c \
	-lpthread >"$out" 2>&1; then
	for c in stopcont threads; do
		timeout -k 5 60 "$tools/client" $c >"$tmp/static-$c.native" 2>&1
		echo "exit: $?" >>"$tmp/static-$c.native"
		timeout -k 5 90 "${RUNSC[@]}" env LD_PRELOAD="$alone/lib/libsysfill.so" \
			/bin/sh -c "$PWD/$tools/client $c" </dev/null >"$tmp/static-$c.gvisor" 2>&1
		echo "exit: $?" >>"$tmp/static-$c.gvisor"
		if diff -u "$tmp/static-$c.native" "$tmp/static-$c.gvisor" >"$out"; then
			pass "dist-pair-static-client-$c-in-gvisor"
		else
			fail "dist-pair-static-client-$c-in-gvisor" "differs from native: $(tr '\n' ' ' <"$out" | cut -c1-300)"
		fi
	done
else
	fail dist-pair-static-client-build "cc -static failed: $(head -3 "$out")"
fi

# ---- the README's feature table ---------------------------------------
# README.dist.md holds the text until it is merged into README.
build/sysfill features --markdown >"$tmp/table"
table_in() { "$PY" -c 'import sys; t = open(sys.argv[1]).read(); f = open(sys.argv[2]).read()
sys.exit(0 if "\n" + t in "\n" + f else 1)' "$tmp/table" "$1"; }
if table_in README; then
	pass readme-feature-table-is-kernels-c
elif [ -f README.dist.md ] && table_in README.dist.md; then
	pass readme-feature-table-is-kernels-c
	echo "    (README.dist.md: not merged into README yet)"
else
	cp "$tmp/table" "$out"
	fail readme-feature-table-is-kernels-c "README lacks the output of 'sysfill features --markdown'"
fi

# ---- manual pages -----------------------------------------------------
for page in build/man/sysfill.1 build/man/libsysfill.3; do
	name=$(basename "$page")
	if ! command -v groff >/dev/null || ! command -v man >/dev/null; then
		fail "man-$name" "groff or man missing (make test-deps)"
		continue
	fi
	groff -man -Tutf8 -ww -z "$page" >"$out" 2>&1
	if [ -s "$out" ]; then
		fail "man-$name-no-groff-warnings" "groff -ww warns"
	else
		pass "man-$name-no-groff-warnings"
	fi
	if MANWIDTH=80 run man -l "$page" && has "NAME" && has "SEE ALSO" &&
		has "sysfill $version" && ! grep -q '@[A-Z]*@' "$out"; then
		pass "man-$name-renders-with-version"
	else
		fail "man-$name-renders-with-version" "man -l output lacks NAME, SEE ALSO or 'sysfill $version'"
	fi
done
# every command of `sysfill --help` is documented in sysfill(1), every
# feature of the table is in its FEATURES section
MANWIDTH=200 man -l build/man/sysfill.1 >"$tmp/man1" 2>/dev/null
missing=""
for c in $(build/sysfill --help | awk '/^commands:/ { on = 1; next } /^$/ { on = 0 }
	on && /^  [a-z]/ { print $1 }'); do
	grep -q "^       $c\b" "$tmp/man1" || missing="$missing $c"
done
while IFS='|' read -r _ f _ since _; do
	f=$(echo $f) since=$(echo $since)
	grep -qE "^ +$(printf '%s' "$f" | sed 's/[()]/\\&/g') +$since " "$tmp/man1" ||
		missing="$missing feature:$f"
done < <(tail -n +3 "$tmp/table")
if [ -z "$missing" ]; then
	pass man-sysfill.1-documents-every-command-and-feature
else
	cp "$tmp/man1" "$out"
	fail man-sysfill.1-documents-every-command-and-feature "missing:$missing"
fi

# ---- --help and --version ---------------------------------------------
if run build/sysfill --version && [ "$(cat "$out")" = "sysfill $version" ] &&
	run build/sysfill -V && [ "$(cat "$out")" = "sysfill $version" ]; then
	pass version-from-tracer-h
else
	fail version-from-tracer-h "expected 'sysfill $version'"
fi
bad=""
for a in --help -h "probe --help" "check --help" "run --help" "features --help" \
	"probe -h" "check -h" "run -h" "features -h"; do
	# shellcheck disable=SC2086
	run build/sysfill $a && has "usage: sysfill" || bad="$bad '$a'"
done
if [ -z "$bad" ]; then
	pass help-for-every-command
else
	fail help-for-every-command "no usage, or non-zero exit, for:$bad"
fi
if run build/sysfill frobnicate; [ $? = 2 ] && has "sysfill --help"; then
	pass unknown-command-exits-2
else
	fail unknown-command-exits-2 "expected status 2 and a pointer to --help"
fi

# ---- install, pkg-config, uninstall -----------------------------------
dest=$tmp/destdir
if ! run make -s ${CI:+CI=1} install DESTDIR="$dest" PREFIX=/usr/local; then
	fail make-install-destdir "make install failed"
else
	want="bin/sysfill lib/libsysfill.so.0 lib/libsysfill.a include/sysfill.h
include/sysfill/uapi.h lib/pkgconfig/sysfill.pc share/man/man1/sysfill.1
share/man/man3/libsysfill.3 share/man/man3/sysfill_pidfd_open.3
share/doc/sysfill/README share/doc/sysfill/design.md"
	miss=""
	for f in $want; do [ -f "$dest/usr/local/$f" ] || miss="$miss $f"; done
	if [ -z "$miss" ]; then pass make-install-destdir; else fail make-install-destdir "missing:$miss"; fi
	if [ "$(readlink "$dest/usr/local/lib/libsysfill.so")" = libsysfill.so.0 ] &&
		readelf -d "$dest/usr/local/lib/libsysfill.so.0" | grep -q 'SONAME.*\[libsysfill\.so\.0\]' &&
		readelf -d dist/libsysfill.so | grep -q 'SONAME.*\[libsysfill\.so\.0\]'; then
		pass installed-library-soname-and-dev-link
	else
		fail installed-library-soname-and-dev-link "libsysfill.so is not a link to libsysfill.so.0 with that SONAME"
	fi
	# the installed pair finds each other: run preloads ../lib's library
	if run "$dest/usr/local/bin/sysfill" run --mode=preload -- sh -c 'echo "pre=$LD_PRELOAD"' &&
		has "pre=$dest/usr/local/lib/libsysfill.so.0"; then
		pass installed-sysfill-run-finds-the-library
	else
		fail installed-sysfill-run-finds-the-library "LD_PRELOAD not the installed library"
	fi
	export PKG_CONFIG_PATH=$dest/usr/local/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$dest
	if run pkg-config --cflags --libs sysfill && has "-I$dest/usr/local/include" &&
		has "-lsysfill" && [ "$(pkg-config --modversion sysfill)" = "$version" ] &&
		pkg-config --static --libs sysfill | grep -q -- -lpthread; then
		pass pkg-config-sysfill
	else
		fail pkg-config-sysfill "expected -I, -lsysfill, version $version, Libs.private -lpthread"
	fi
	cat >"$tmp/use.c" <<'EOF'
#include <sysfill.h>
#include <stdio.h>
#include <unistd.h>
int main(void)
{
	int fd = sysfill_pidfd_open(getpid(), 0);
	if (fd < 0 || sysfill_pidfd_send_signal(fd, 0, NULL, 0) < 0) {
		perror("sysfill");
		return 1;
	}
	printf("pidfd ok, emulating=%d\n", sysfill_emulating());
	return 0;
}
EOF
	# libsysfill.a: -static, with Libs.private
	# shellcheck disable=SC2046
	if run "$CC" -static "$tmp/use.c" -o "$tmp/use-static" \
		$(pkg-config --static --cflags --libs sysfill) &&
		run env SYSFILL_FORCE=1 "$tmp/use-static" && has "pidfd ok, emulating=1" &&
		! "$tools/elf-needs" "$tmp/use-static" | grep -q .; then
		pass installed-libsysfill-a-links-static-and-emulates
	else
		fail installed-libsysfill-a-links-static-and-emulates "did not link or run"
	fi
	# shellcheck disable=SC2046
	if run "$CC" "$tmp/use.c" -o "$tmp/use-dyn" $(pkg-config --cflags --libs sysfill) &&
		run env LD_LIBRARY_PATH="$dest/usr/local/lib" "$tmp/use-dyn" &&
		has "pidfd ok, emulating=0"; then
		pass installed-libsysfill-so-links-dynamic
	else
		fail installed-libsysfill-so-links-dynamic "did not link or run"
	fi
	unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
	if MANWIDTH=80 run man -M "$dest/usr/local/share/man" sysfill_waitid &&
		has "LIBSYSFILL(3)" && MANWIDTH=80 run man -M "$dest/usr/local/share/man" 1 sysfill &&
		has "SYSFILL(1)"; then
		pass installed-man-pages-found-by-man
	else
		fail installed-man-pages-found-by-man "man -M ... sysfill_waitid / sysfill"
	fi
	run make -s uninstall DESTDIR="$dest" PREFIX=/usr/local
	left=$(cd "$dest" && find . ! -type d)
	if [ -z "$left" ]; then
		pass make-uninstall-leaves-no-file
	else
		fail make-uninstall-leaves-no-file "left: $(echo "$left" | tr '\n' ' ')"
	fi
fi
# GNU directories: a multiarch LIBDIR and a DOCDIR elsewhere
dest=$tmp/destdir-gnu
ma="LIBDIR=/usr/lib/x86_64-linux-gnu DOCDIR=/usr/share/doc/sysfill-dev"
# shellcheck disable=SC2086
if run make -s install DESTDIR="$dest" PREFIX=/usr $ma &&
	[ -f "$dest/usr/lib/x86_64-linux-gnu/libsysfill.so.0" ] &&
	[ -f "$dest/usr/lib/x86_64-linux-gnu/pkgconfig/sysfill.pc" ] &&
	grep -qx 'libdir=/usr/lib/x86_64-linux-gnu' "$dest/usr/lib/x86_64-linux-gnu/pkgconfig/sysfill.pc" &&
	[ -f "$dest/usr/share/doc/sysfill-dev/README" ] && [ -x "$dest/usr/bin/sysfill" ]; then
	pass make-install-gnu-directories
else
	fail make-install-gnu-directories "multiarch LIBDIR, pkgconfig or DOCDIR not where asked"
fi
if run "$dest/usr/bin/sysfill" run --mode=preload -- sh -c 'echo "pre=$LD_PRELOAD"' &&
	has "pre=$dest/usr/lib/x86_64-linux-gnu/libsysfill.so.0"; then
	pass multiarch-sysfill-run-finds-the-library
else
	fail multiarch-sysfill-run-finds-the-library "LD_PRELOAD not the multiarch library"
fi
# shellcheck disable=SC2086
run make -s uninstall DESTDIR="$dest" PREFIX=/usr $ma
left=$(cd "$dest" && find . ! -type d)
if [ -z "$left" ]; then pass make-uninstall-gnu-directories; else fail make-uninstall-gnu-directories "left: $(echo "$left" | tr '\n' ' ')"; fi

# ---- the release tarball ------------------------------------------------
name=sysfill-$version-x86_64-linux
if [ -f "dist/$name.tar.gz" ] && (cd dist && sha256sum -c --quiet SHA256SUMS) >"$out" 2>&1; then
	pass dist-tarball-and-sha256sums
else
	fail dist-tarball-and-sha256sums "dist/$name.tar.gz or SHA256SUMS missing or wrong"
fi
rel=$tmp/release
mkdir -p "$rel" && tar -C "$rel" -xzf "dist/$name.tar.gz"
miss=""
for f in sysfill libsysfill.so sysfill.1 libsysfill.3 README docs/design.md; do
	[ -f "$rel/$name/$f" ] || miss="$miss $f"
done
if [ -z "$miss" ] && [ "$(tar -tzf "dist/$name.tar.gz" | grep -cv "^$name/")" = 0 ]; then
	pass dist-tarball-contents
else
	fail dist-tarball-contents "missing:$miss (or files outside $name/)"
fi
if run "$rel/$name/sysfill" --version && has "sysfill $version" &&
	run "$rel/$name/sysfill" run --kernel 4.19 -q -- "$PY" "$prog" && has "$ok"; then
	pass dist-tarball-runs
else
	fail dist-tarball-runs "sysfill --version or run --kernel 4.19 from the tarball"
fi
# a lone release sysfill: auto mode falls back to trace mode
lone=$tmp/lone
mkdir -p "$lone" && cp dist/sysfill "$lone/"
if run "$lone/sysfill" run -q --kernel 4.19 -- "$PY" "$prog" && has "$ok"; then
	pass dist-lone-sysfill-runs-dynamic-program-in-trace-mode
else
	fail dist-lone-sysfill-runs-dynamic-program-in-trace-mode "expected '$ok'"
fi
exit $failed
