#!/bin/bash
# The release artifacts (make dist: static sysfill, portable libsysfill.so)
# on a real old userland: a Debian 11 root (glibc 2.31, Python 3.9) made by
# debootstrap from the Debian package registry and cached outside the work
# tree. In it, on this kernel with emulation forced and inside gVisor (where
# the calls are missing):
#  - a Python program using os.pidfd_open, signal.pidfd_send_signal,
#    os.waitid(P_PIDFD), threads and subprocesses, with the library
#    preloaded: the same transcript as natively, and ENOSYS in gVisor
#    without it;
#  - a static program (tests/trace/client.c) under the static sysfill.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh
cache=${SYSFILL_CACHE:-/var/cache/sysfill}/bullseye
root=$cache/root
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$out"; [ -n "${opt:-}" ] && rm -rf "$opt"' EXIT

if [ "$(id -u)" != 0 ]; then
	skip bullseye "needs root (debootstrap, chroot)"
	exit 0
fi
# ---- the root, made once ---------------------------------------------------
if [ ! -x "$root/usr/bin/python3" ]; then
	./tests/ensure-deps.sh debootstrap >/dev/null 2>&1
	rm -rf "$cache/new"
	mkdir -p "$cache"
	echo "bullseye: making a Debian 11 root in $cache (once; a few minutes)"
	if ! timeout -k 10 1500 debootstrap --variant=minbase \
		--include=python3-minimal bullseye "$cache/new" >"$tmp/debootstrap.log" 2>&1; then
		tail -n 5 "$tmp/debootstrap.log" | sed 's/^/    | /'
		if grep -qiE 'resolv|connect|network|unreachable|temporary failure|404' "$tmp/debootstrap.log"; then
			skip bullseye "the Debian package registry cannot be reached (debootstrap bullseye failed)"
			exit 0
		fi
		cp "$tmp/debootstrap.log" "$out"
		fail bullseye-root "debootstrap bullseye failed"
		exit 1
	fi
	rm -rf "$root"
	mv "$cache/new" "$root"
fi
glibc=$(chroot "$root" /usr/bin/ldd --version 2>/dev/null | head -n 1 | grep -o '[0-9.]*$')
pyver=$(chroot "$root" /usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
if [ "$glibc" = 2.31 ] && [ "$pyver" = 3.9 ]; then pass bullseye-root-is-glibc-2.31-python-3.9
else fail bullseye-root-is-glibc-2.31-python-3.9 "glibc '$glibc', python '$pyver'"; fi

# ---- the artifacts, copied alone into the root -----------------------------
if ! make -s dist >"$tmp/dist.log" 2>&1; then
	cp "$tmp/dist.log" "$out"
	fail bullseye-make-dist "make dist failed"
	exit 1
fi
opt=$root/opt/sysfill-test
rm -rf "$opt"
mkdir -p "$opt"
cp dist/sysfill dist/libsysfill.so tests/bullseye/pidfd.py "$opt/"
if ! cc -static -O1 -D_GNU_SOURCE -o "$opt/client" tests/trace/client.c -lpthread >"$tmp/cc.log" 2>&1; then
	cp "$tmp/cc.log" "$out"
	fail bullseye-build-static-client "cc -static failed"
	exit 1
fi
O=/opt/sysfill-test
have_runsc=0
command -v runsc >/dev/null && have_runsc=1
# inroot MODE CMD...: run CMD in the root with a /proc of its own (mounted
# in a private mount namespace natively, inside the sandbox in gVisor);
# MODE native (this kernel) or gvisor.
inroot() {
	local mode=$1
	shift
	local setup='mount -t proc proc "$0/proc" && exec chroot "$0" "$@"'
	if [ "$mode" = gvisor ]; then
		timeout -k 5 180 runsc --network=none --platform=ptrace do \
			sh -c "$setup" "$root" "$@" </dev/null 2>&1 | cat
		return "${PIPESTATUS[0]}"
	fi
	timeout -k 5 120 unshare --mount --propagation private \
		sh -c "$setup" "$root" "$@" </dev/null 2>&1
}
# compare NAME REFERENCE-FILE MODE CMD...
compare() {
	local name=$1 ref=$2 mode=$3
	shift 3
	inroot "$mode" "$@" >"$tmp/$name" 2>&1
	local st=$?
	cp "$tmp/$name" "$out"
	if [ "$st" != 0 ]; then fail "$name" "exit status $st"
	elif ! diff -u "$ref" "$tmp/$name" >"$tmp/$name.diff"; then
		cp "$tmp/$name.diff" "$out"
		fail "$name" "transcript differs from the native one"
	else pass "$name"; fi
}

# ---- Python 3.9 with the portable library ----------------------------------
inroot native env -i /usr/bin/python3 $O/pidfd.py >"$tmp/py.native" 2>&1
st=$?
cp "$tmp/py.native" "$out"
if [ $st = 0 ] && grep -q 'waitid: True True 15' "$tmp/py.native"; then
	pass bullseye-python-native
else
	fail bullseye-python-native "status $st"
fi
compare bullseye-python-forced "$tmp/py.native" native \
	env -i SYSFILL_FORCE=1 LD_PRELOAD=$O/libsysfill.so /usr/bin/python3 $O/pidfd.py
if [ $have_runsc = 1 ]; then
	inroot gvisor env -i /usr/bin/python3 $O/pidfd.py >"$tmp/py.nolib" 2>&1
	cp "$tmp/py.nolib" "$out"
	if grep -q 'OSError: \[Errno 38\] Function not implemented' "$tmp/py.nolib"; then
		pass bullseye-python-gvisor-without-sysfill-enosys
	else
		fail bullseye-python-gvisor-without-sysfill-enosys "no ENOSYS"
	fi
	compare bullseye-python-gvisor "$tmp/py.native" gvisor \
		env -i LD_PRELOAD=$O/libsysfill.so /usr/bin/python3 $O/pidfd.py
	compare bullseye-python-gvisor-sysfill-run "$tmp/py.native" gvisor \
		env -i $O/sysfill run -- /usr/bin/python3 $O/pidfd.py
else
	skip bullseye-python-gvisor "runsc not installed"
fi

# ---- a static program under the static sysfill ------------------------------
for c in stopcont threads; do
	inroot native $O/client $c >"$tmp/static-$c.native" 2>&1
	compare "bullseye-static-$c-traced" "$tmp/static-$c.native" native \
		env -i SYSFILL_FORCE=1 $O/sysfill run -- $O/client $c
	if [ $have_runsc = 1 ]; then
		compare "bullseye-static-$c-gvisor" "$tmp/static-$c.native" gvisor \
			env -i $O/sysfill run -- $O/client $c
	fi
done
exit $failed
