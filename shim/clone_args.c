/* clone3 argument copy, validation and translation to legacy clone.
 *
 * The rules and their order are those of Linux 6.18 (kernel/fork.c,
 * include/linux/uaccess.h, lib/usercopy.c, arch/x86/include/asm/
 * uaccess_64.h), checked against the native clone3 of 6.18.44 by
 * tests/unit/test_clone_args.c. Only the order between checks that give
 * different errnos is observable; it is kept everywhere anyway. */
#include <stddef.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "clone_args.h"

/* include/linux/pid_namespace.h */
#define CARGS_MAX_PID_NS_LEVEL 32
/* x86_64 PAGE_SIZE; clone3 refuses larger structs. */
#define CARGS_PAGE_SIZE 4096UL
/* _NSIG on x86_64 (valid_signal: sig <= _NSIG). */
#define CARGS_NSIG 64
/* include/uapi/linux/sched.h: CLONE_LEGACY_FLAGS */
#define CARGS_LEGACY_FLAGS 0xffffffffULL
#define CARGS_INT_MAX 0x7fffffffULL

/* Highest address access_ok() accepts as the end of a range: x86_64
 * valid_user_address() compares with USER_PTR_MAX, which is TASK_SIZE_MAX
 * (measured: a clone3 stack may end at 0x7ffffffff000 but not one byte
 * later). TASK_SIZE_MAX depends on the paging mode: a 5-level kernel honours
 * an mmap hint above 47 bits. Probed once; racing first calls compute the
 * same value. */
static uintptr_t cargs_user_ptr_max(void)
{
	static uintptr_t cached;
	uintptr_t max = __atomic_load_n(&cached, __ATOMIC_RELAXED);
	if (max)
		return max;
	max = 0x7ffffffff000UL; /* (1 << 47) - PAGE_SIZE */
	long p = sf_syscall6(SF_NR_mmap, (long)(1UL << 47), 4096, PROT_NONE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if ((unsigned long)p < -4095UL) {
		if ((uintptr_t)p >= (1UL << 47))
			max = 0x00fffffffffff000UL; /* (1 << 56) - PAGE_SIZE */
		sf_sys2(SF_NR_munmap, p, 4096);
	}
	__atomic_store_n(&cached, max, __ATOMIC_RELAXED);
	return max;
}

/* access_ok(ADDR, N) for a size that is not a compile-time constant
 * (x86_64 __access_ok): the end must be a user address and not wrap. */
static int cargs_access_ok(uintptr_t addr, uint64_t n)
{
	uintptr_t end = addr + n;
	return end >= addr && end <= cargs_user_ptr_max();
}

/* copy_from_user: 0 or -EFAULT. */
static long cargs_copy(const struct sf_caller *c, void *dst, uintptr_t src,
		       size_t n)
{
	if (!cargs_access_ok(src, n))
		return -EFAULT;
	return c->read(c, dst, src, n) ? -EFAULT : 0;
}

/* check_zeroed_user (lib/usercopy.c): 1 if [SRC, SRC+N) is all zero, 0 if
 * not, -EFAULT. The kernel reads aligned words in address order and stops
 * at the first non-zero one, so junk before an unreadable page gives 0
 * (E2BIG), an unreadable page before any junk gives -EFAULT. Faults are
 * per page, so reading page by page keeps that order. */
static long cargs_zeroed(const struct sf_caller *c, uintptr_t src, size_t n)
{
	unsigned char buf[256];
	if (!n)
		return 1;
	if (!cargs_access_ok(src, n))
		return -EFAULT;
	while (n) {
		size_t chunk = CARGS_PAGE_SIZE - (src & (CARGS_PAGE_SIZE - 1));
		if (chunk > sizeof(buf))
			chunk = sizeof(buf);
		if (chunk > n)
			chunk = n;
		if (c->read(c, buf, src, chunk))
			return -EFAULT;
		for (size_t i = 0; i < chunk; i++)
			if (buf[i])
				return 0;
		src += chunk;
		n -= chunk;
	}
	return 1;
}

/* copy_struct_from_user (include/linux/uaccess.h) into the VER2 struct:
 * trailing bytes first (E2BIG/EFAULT), then the known head (EFAULT); a
 * shorter struct is zero-extended. */
static long cargs_copy_struct(const struct sf_caller *c,
			      struct sysfill_clone_args *dst, uintptr_t src,
			      size_t usize)
{
	const size_t ksize = sizeof(*dst);
	size_t size = usize < ksize ? usize : ksize;
	unsigned char *d = (unsigned char *)dst;

	if (usize < ksize) {
		for (size_t i = size; i < ksize; i++)
			d[i] = 0;
	} else if (usize > ksize) {
		long ret = cargs_zeroed(c, src + ksize, usize - ksize);
		if (ret <= 0)
			return ret ? ret : -E2BIG;
	}
	return cargs_copy(c, dst, src, size);
}

/* copy_process's flag checks that need no process, in its order (both
 * clone3 and the legacy clone): 0 or -EINVAL. */
static long cargs_copy_process_flags(uint64_t flags)
{
	if ((flags & (CLONE_NEWNS | CLONE_FS)) == (CLONE_NEWNS | CLONE_FS))
		return -EINVAL;
	if ((flags & (CLONE_NEWUSER | CLONE_FS)) == (CLONE_NEWUSER | CLONE_FS))
		return -EINVAL;
	if ((flags & CLONE_THREAD) && !(flags & CLONE_SIGHAND))
		return -EINVAL;
	if ((flags & CLONE_SIGHAND) && !(flags & CLONE_VM))
		return -EINVAL;
	/* Left to the creating call: CLONE_PARENT when the caller is a pid
	 * namespace's init (SIGNAL_UNKILLABLE). */
	if ((flags & CLONE_THREAD) && (flags & (CLONE_NEWUSER | CLONE_NEWPID)))
		return -EINVAL;
	/* Left to the creating call: CLONE_THREAD after unshare(CLONE_NEWPID)
	 * (pid_ns_for_children differs from the active one). */
	/* copy_namespaces (kernel/nsproxy.c): a new IPC namespace cannot keep
	 * the SysV semaphore undo list (gVisor's clone takes the pair). */
	if ((flags & (CLONE_NEWIPC | CLONE_SYSVSEM)) ==
	    (CLONE_NEWIPC | CLONE_SYSVSEM))
		return -EINVAL;
	return 0;
}

_Static_assert(sizeof(struct sysfill_clone_args) ==
		       SYSFILL_CLONE_ARGS_SIZE_VER2,
	       "struct clone_args VER2 is 88 bytes");

long cargs_load(const struct sf_caller *c, uintptr_t uargs, size_t size,
		struct sysfill_clone_args *out)
{
	struct sysfill_clone_args a;
	long ret;

	/* ---- copy_clone_args_from_user ---- */
	if (size > CARGS_PAGE_SIZE)
		return -E2BIG;
	if (size < SYSFILL_CLONE_ARGS_SIZE_VER0)
		return -EINVAL;
	ret = cargs_copy_struct(c, &a, uargs, size);
	if (ret)
		return ret;
	if (a.set_tid_size > CARGS_MAX_PID_NS_LEVEL)
		return -EINVAL;
	if (!a.set_tid && a.set_tid_size > 0)
		return -EINVAL;
	if (a.set_tid && a.set_tid_size == 0)
		return -EINVAL;
	/* Upper bits, then valid_signal(). Upstream 09e7827e7857 (2026, stable
	 * backports) moves valid_signal() into kernel_clone, after the set_tid
	 * copy and clone3_args_valid; 6.18.44 here still checks it here. */
	if ((a.exit_signal & ~(uint64_t)CSIGNAL) || a.exit_signal > CARGS_NSIG)
		return -EINVAL;
	if ((a.flags & CLONE_INTO_CGROUP) &&
	    (a.cgroup > CARGS_INT_MAX || size < SYSFILL_CLONE_ARGS_SIZE_VER2))
		return -EINVAL;
	if (a.set_tid) {
		int32_t tids[CARGS_MAX_PID_NS_LEVEL];
		if (cargs_copy(c, tids, (uintptr_t)a.set_tid,
			       a.set_tid_size * sizeof(tids[0])))
			return -EFAULT;
	}

	/* ---- clone3_args_valid ---- */
	if (a.flags &
	    ~(CARGS_LEGACY_FLAGS | CLONE_CLEAR_SIGHAND | CLONE_INTO_CGROUP))
		return -EINVAL;
	/* CLONE_DETACHED and the CSIGNAL bits are reserved in clone3, except
	 * CLONE_NEWTIME (6.2, "fork: allow CLONE_NEWTIME in clone3 flags"). */
	if (a.flags & (CLONE_DETACHED | (CSIGNAL & ~CLONE_NEWTIME)))
		return -EINVAL;
	if ((a.flags & (CLONE_SIGHAND | CLONE_CLEAR_SIGHAND)) ==
	    (CLONE_SIGHAND | CLONE_CLEAR_SIGHAND))
		return -EINVAL;
	if ((a.flags & (CLONE_THREAD | CLONE_PARENT)) && a.exit_signal)
		return -EINVAL;
	/* clone3_stack_valid */
	if (a.stack == 0) {
		if (a.stack_size > 0)
			return -EINVAL;
	} else if (a.stack_size == 0 ||
		   !cargs_access_ok((uintptr_t)a.stack, a.stack_size)) {
		return -EINVAL;
	}

	/* ---- kernel_clone ---- */
	if ((a.flags & CLONE_PIDFD) && (a.flags & CLONE_PARENT_SETTID) &&
	    a.pidfd == a.parent_tid)
		return -EINVAL;

	/* ---- copy_process, the checks that need no process ---- */
	ret = cargs_copy_process_flags(a.flags);
	if (ret)
		return ret;
	/* CLONE_PIDFD with CLONE_DETACHED (unreachable: clone3_args_valid
	 * already refused CLONE_DETACHED). CLONE_PIDFD with CLONE_THREAD is
	 * allowed since 6.9 (PIDFD_THREAD). */
	if ((a.flags & CLONE_PIDFD) && (a.flags & CLONE_DETACHED))
		return -EINVAL;

	*out = a;
	return 0;
}

long cargs_to_legacy(const struct sysfill_clone_args *a, long out[6],
		     unsigned long *extra_flags)
{
	uint64_t flags = a->flags;
	unsigned long extra = 0;

	if (a->set_tid_size)
		return -E2BIG;
	if (flags & CLONE_INTO_CGROUP)
		return a->cgroup ? -E2BIG : -EINVAL;
	if (flags & CLONE_NEWTIME)
		return -EINVAL;
	if (flags & CLONE_CLEAR_SIGHAND) {
		extra |= CLONE_CLEAR_SIGHAND;
		flags &= ~(uint64_t)CLONE_CLEAR_SIGHAND;
	}
	if (flags & ~CARGS_LEGACY_FLAGS)
		return -EINVAL;
	if (flags & CLONE_PIDFD) {
		extra |= CLONE_PIDFD;
		flags &= ~(uint64_t)CLONE_PIDFD;
	}
	out[0] = (long)(flags | a->exit_signal);
	out[1] = a->stack ? (long)(a->stack + a->stack_size) : 0;
	out[2] = (long)a->parent_tid;
	out[3] = (long)a->child_tid;
	out[4] = (long)a->tls;
	out[5] = 0;
	*extra_flags = extra;
	return 0;
}

/* ---- set_tid and CLONE_INTO_CGROUP, made as the caller (sf_caller_sys) ----
 * A front end holds the child, before it runs any of the program's code,
 * until the parent has checked its pid (set_tid: ns_last_pid was set to
 * set_tid - 1 first) or moved it into the cgroup (written to cgroup.procs
 * with the program's credentials, as the kernel checks the caller's). If
 * that fails the child is killed and reaped; its exit still queues
 * SIGCHLD (README). */
#define NS_LAST_PID "/proc/sys/kernel/ns_last_pid"

static long csys(const struct sf_caller *c, long nr, long a0, long a1,
		 long a2, long a3)
{
	const long a[6] = {a0, a1, a2, a3, 0, 0};
	return sf_caller_sys(c, nr, a, NULL, 0); /* caller addresses */
}

static size_t cstrlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

/* The decimal text of V (>= 0) in OUT (24 bytes). */
static const char *cdec(char *out, long v)
{
	char *p = out + 23;
	*p = 0;
	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) && p > out);
	return p;
}

static uint64_t cnumber(const char *s)
{
	uint64_t v = 0;
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (uint64_t)(*s++ - '0');
	return v;
}

/* Read PATH as the caller: up to LEN - 1 bytes (at most CARGS_BUF - 1)
 * into OUT, NUL-terminated. The length or -errno. */
static long cread_file(const struct sf_caller *c, uintptr_t buf,
		       const char *path, char *out, size_t len)
{
	if (c->write(c, buf, path, cstrlen(path) + 1))
		return -EFAULT;
	long fd = csys(c, SF_NR_openat, AT_FDCWD, (long)buf,
		       O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return fd;
	if (len > CARGS_BUF)
		len = CARGS_BUF;
	long n = csys(c, SF_NR_read, fd, (long)buf, (long)len - 1, 0);
	csys(c, SF_NR_close, fd, 0, 0, 0);
	if (n < 0)
		return n;
	if (n && c->read(c, out, buf, (size_t)n))
		return -EFAULT;
	out[n] = 0;
	return n;
}

/* Open DIRFD/PATH for writing as the caller and write TEXT. Returns 0, or
 * -errno with *OPEN_FAILED saying which step failed. */
static long cwrite_file(const struct sf_caller *c, uintptr_t buf, int dirfd,
			const char *path, const char *text, int *open_failed)
{
	size_t pl = cstrlen(path) + 1, tl = cstrlen(text);
	*open_failed = 1;
	if (c->write(c, buf, path, pl) || c->write(c, buf + pl, text, tl))
		return -EFAULT;
	long fd = csys(c, SF_NR_openat, dirfd, (long)buf, O_WRONLY | O_CLOEXEC,
		       0);
	if (fd < 0)
		return fd;
	*open_failed = 0;
	long w = csys(c, SF_NR_write, fd, (long)(buf + pl), (long)tl, 0);
	csys(c, SF_NR_close, fd, 0, 0, 0);
	return w < 0 ? w : 0;
}

/* The caller's pid namespace level (its NSpid fields minus one), -1 if
 * unknown. */
static int cpidns_level(const struct sf_caller *c, uintptr_t buf)
{
	char st[CARGS_BUF];
	if (cread_file(c, buf, "/proc/self/status", st, sizeof st) < 0)
		return -1;
	const char *p = st;
	while (*p && !(p[0] == 'N' && !__builtin_memcmp(p, "NSpid:", 6)))
		while (*p && *p++ != '\n')
			;
	if (!*p)
		return -1;
	int n = 0;
	for (p += 6; *p && *p != '\n'; p++)
		if (*p >= '0' && *p <= '9' && (p[-1] == ' ' || p[-1] == '\t'))
			n++;
	return n - 1;
}

/* The inode of the caller's pid namespace file PATH (/proc/self/ns/...,
 * FLAGS as newfstatat's) into *INO: 0 or -errno. */
static long cns_ino(const struct sf_caller *c, uintptr_t buf, const char *path,
		    int flags, uint64_t *ino)
{
	const uintptr_t st = buf + 128; /* a struct stat after the path */
	_Static_assert(128 + sizeof(struct stat) <= CARGS_BUF, "CARGS_BUF");
	if (c->write(c, buf, path, cstrlen(path) + 1))
		return -EFAULT;
	long r = csys(c, SF_NR_newfstatat, AT_FDCWD, (long)buf, (long)st, flags);
	if (r < 0)
		return r;
	return c->read(c, ino, st + offsetof(struct stat, st_ino), sizeof *ino)
		       ? -EFAULT
		       : 0;
}

/* Where the caller's children go (pid_for_children, kernel/pid.c
 * alloc_pid's NS): 0 the caller's own namespace; after
 * unshare(CLONE_NEWPID) 1 a new one with no process yet (the next child
 * becomes its pid 1: no child reaper, and set_tid[0] can only be 1; the
 * kernel then refuses to open pid_for_children, pidns_for_children_get()),
 * 2 a new one that has its pid 1. */
static int cpidns_for_children(const struct sf_caller *c, uintptr_t buf)
{
	static const char kids[] = "/proc/self/ns/pid_for_children";
	uint64_t own = 0, ino = 0;
	if (cns_ino(c, buf, kids, AT_SYMLINK_NOFOLLOW, &ino) < 0)
		return 0; /* before 4.12, or no /proc */
	if (cns_ino(c, buf, "/proc/self/ns/pid", 0, &own) < 0)
		own = 0;
	if (cns_ino(c, buf, kids, 0, &ino) == -ENOENT)
		return 1;
	return own && ino != own ? 2 : 0;
}

/* alloc_pid's reading of set_tid (kernel/pid.c): set_tid[0] is the pid in
 * the child's namespace (a new one with CLONE_NEWPID or after an
 * unshare(CLONE_NEWPID), one level below the caller's), each next one the
 * pid a level up; no more entries than the child's namespace has levels. A new namespace's pid can only be 1 (the
 * legacy clone gives exactly that); the caller's level is emulated with
 * ns_last_pid (Q->has_tid); deeper lists are left to cargs_to_legacy,
 * which answers as 5.3-5.4 (E2BIG): *LEGACY keeps them. 0 or -errno. */
static __attribute__((noinline)) long
set_tid_plan(const struct sf_caller *c, uintptr_t buf,
			 const struct sysfill_clone_args *ca,
			 struct sysfill_clone_args *legacy, struct cargs_req *q)
{
	uint64_t n = ca->set_tid_size;
	if (!n)
		return 0;
	/* a new namespace for the child, of CLONE_NEWPID or of an earlier
	 * unshare(CLONE_NEWPID); both at once are two levels deeper */
	int unshared = cpidns_for_children(c, buf);
	if (unshared == 2 || (unshared && (ca->flags & CLONE_NEWPID) && n > 1))
		return -E2BIG; /* its pids cannot be placed: as 5.4 answers */
	int newpid = (ca->flags & CLONE_NEWPID) || unshared;
	int level = n > 1 ? cpidns_level(c, buf) : 0;
	if (level >= 0 && n > (uint64_t)level + 1 + newpid)
		return -EINVAL;
	if (n > (uint64_t)1 + newpid)
		return 0;
	int32_t tids[2];
	if (c->read(c, tids, (uintptr_t)ca->set_tid, n * sizeof tids[0]))
		return -EFAULT;
	if (newpid) {
		char pm[32];
		if (cread_file(c, buf, "/proc/sys/kernel/pid_max", pm,
			       sizeof pm) > 0 &&
		    (tids[0] < 1 || (uint64_t)tids[0] >= cnumber(pm)))
			return -EINVAL;
		if (tids[0] != 1) /* no child reaper there yet */
			return -EINVAL;
	}
	if (n > (uint64_t)newpid) {
		q->has_tid = 1;
		q->want_tid = tids[newpid];
	}
	legacy->set_tid = legacy->set_tid_size = 0;
	return 0;
}

/* The kernel's set_tid never moves ns_last_pid, which every other process
 * of the namespace allocates from: put it back to LAST unless others have
 * taken it further meanwhile (then it stays where they left it). Pids
 * others took in between stay theirs. */
static void set_tid_restore(const struct sf_caller *c, uintptr_t buf,
			    long last)
{
	char now[32], num[24];
	int open_failed;
	if (cread_file(c, buf, NS_LAST_PID, now, sizeof now) <= 0 ||
	    (long)cnumber(now) >= last)
		return;
	cwrite_file(c, buf, AT_FDCWD, NS_LAST_PID, cdec(num, last),
		    &open_failed);
}

/* Can the pidfd slot at AT be written as the caller? 0 or -EFAULT. */
static long cslot_writable(const struct sf_caller *c, uintptr_t at)
{
	int v;
	return c->read(c, &v, at, sizeof v) || c->write(c, at, &v, sizeof v)
		       ? -EFAULT
		       : 0;
}

/* CLONE_INTO_CGROUP's fd must be a cgroup2 directory (struct statfs:
 * f_type first): 0 or -EBADF. */
static long cgroup_check(const struct sf_caller *c, uintptr_t buf, int fd)
{
	long f_type = 0;
	long r = csys(c, SF_NR_fstatfs, fd, (long)buf, 0, 0);
	if (r >= 0 && c->read(c, &f_type, buf, sizeof f_type))
		r = -EFAULT;
	return r < 0 || f_type != 0x63677270 /* CGROUP2_SUPER_MAGIC */ ? -EBADF
									: 0;
}

/* ns_last_pid's errors as set_tid's: no permission EPERM (the kernel
 * checks CAP_CHECKPOINT_RESTORE), no such file E2BIG (as a kernel without
 * set_tid). */
static long ns_last_pid_err(long r, int open_failed)
{
	return r == -EACCES || r == -EPERM ? -EPERM : open_failed ? -E2BIG : r;
}

/* copy_process stores the pidfd's number (put_user) before
 * cgroup_can_fork looks at the cgroup fd, and releases the number when
 * that fails: a bad cgroup fd (R -EBADF) leaves the lowest free number
 * (get_unused_fd_flags) in the pidfd slot. Returns R or -EFAULT. */
static long cgroup_fail(const struct sf_caller *c, const struct cargs_req *q,
			long r)
{
	if (r != -EBADF || !(q->extra & CLONE_PIDFD))
		return r;
	long fd = csys(c, SF_NR_eventfd2, 0, O_CLOEXEC, 0, 0);
	if (fd < 0)
		return r;
	int v = (int)fd;
	csys(c, SF_NR_close, fd, 0, 0, 0);
	return c->write(c, q->pidfd_at, &v, sizeof v) ? -EFAULT : r;
}

/* cargs_fork_prepare; MOVE 0: the checks alone, ns_last_pid left as it
 * is (a clone3 whose child cannot be held, cargs_request). */
static long fork_prepare(const struct sf_caller *c, uintptr_t buf,
			 struct cargs_req *q, int move)
{
	char txt[32], num[24];
	long r;
	q->last_pid = -1;
	if (q->has_tid) {
		/* the checks alloc_pid makes, in its order (permission, then a
		 * pid in use), then ns_last_pid moved as the very last step:
		 * any other process's fork from there to the clone would take
		 * the pid (EEXIST) */
		if (cread_file(c, buf, "/proc/sys/kernel/pid_max", txt,
			       sizeof txt) < 0)
			return -E2BIG; /* no /proc: as a kernel without set_tid */
		if (q->want_tid < 1 || (uint64_t)q->want_tid >= cnumber(txt))
			return -EINVAL;
		if (cread_file(c, buf, NS_LAST_PID, txt, sizeof txt) <= 0)
			return -E2BIG;
		long last = (long)cnumber(txt);
		const char *lt = cdec(num, last);
		size_t pl = sizeof NS_LAST_PID, ll = cstrlen(lt);
		if (c->write(c, buf, NS_LAST_PID, pl) ||
		    c->write(c, buf + pl, lt, ll))
			return -EFAULT;
		long fd = csys(c, SF_NR_openat, AT_FDCWD, (long)buf,
			       O_WRONLY | O_CLOEXEC, 0);
		if (fd < 0)
			return ns_last_pid_err(fd, 1);
		/* the permission check: its value written back */
		r = csys(c, SF_NR_pwrite64, fd, (long)(buf + pl), (long)ll, 0);
		/* In use (a live process or thread, or a zombie): EEXIST. */
		if (r >= 0 && csys(c, SF_NR_kill, q->want_tid, 0, 0, 0) != -ESRCH)
			r = -EEXIST;
		/* (copy_process: the pidfd slot, then the cgroup fd) */
		if (r >= 0 && !move && (q->extra & CLONE_PIDFD) &&
		    cslot_writable(c, q->pidfd_at))
			r = -EFAULT;
		if (r >= 0 && q->cgroup_fd >= 0)
			r = cgroup_fail(c, q, cgroup_check(c, buf, q->cgroup_fd));
		if (r >= 0 && !move) {
			csys(c, SF_NR_close, fd, 0, 0, 0);
			return 0;
		}
		if (r >= 0) {
			lt = cdec(num, q->want_tid - 1L);
			ll = cstrlen(lt);
			r = c->write(c, buf + pl, lt, ll);
			if (!r)
				r = csys(c, SF_NR_pwrite64, fd, (long)(buf + pl),
					 (long)ll, 0);
		}
		if (r < 0) {
			csys(c, SF_NR_close, fd, 0, 0, 0);
			return r == -EEXIST || r == -EBADF || r == -EFAULT
				       ? r
				       : ns_last_pid_err(r, 0);
		}
		/* kept open: closed after the clone (cargs_fork_finish; the
		 * child's copy by the front end), so that nothing comes between
		 * the write and the clone */
		q->nsfd = (int)fd;
		q->last_pid = last;
		return 0;
	}
	if (!move && (q->extra & CLONE_PIDFD) && cslot_writable(c, q->pidfd_at))
		return -EFAULT;
	if (q->cgroup_fd >= 0)
		return cgroup_fail(c, q, cgroup_check(c, buf, q->cgroup_fd));
	return 0;
}

long cargs_fork_prepare(const struct sf_caller *c, uintptr_t buf,
			struct cargs_req *q)
{
	return fork_prepare(c, buf, q, 1);
}

long cargs_fork_finish(const struct sf_caller *c, uintptr_t buf,
		       struct cargs_req *q, long pid)
{
	char num[24];
	int open_failed;
	if (q->nsfd >= 0) {
		csys(c, SF_NR_close, q->nsfd, 0, 0, 0);
		q->nsfd = -1;
	}
	if (q->last_pid >= 0)
		set_tid_restore(c, buf, q->last_pid);
	if (pid < 0)
		return pid;
	if (q->has_tid && pid != q->want_tid) {
		/* Another process's fork came between the ns_last_pid write
		 * and the clone and took the pid: the kernel's set_tid is
		 * atomic, this cannot be (README, limits). */
		sf_log(SF_LOG_WARN, "clone3 set_tid %d: another process took "
		       "that pid between sysfill's ns_last_pid write and the "
		       "clone; answering EEXIST", (int)q->want_tid);
		return -EEXIST;
	}
	if (q->cgroup_fd >= 0) {
		long r = cwrite_file(c, buf, q->cgroup_fd, "cgroup.procs",
				     cdec(num, pid), &open_failed);
		if (r)
			return open_failed && (r == -ENOTDIR || r == -ENOENT)
				       ? -EBADF
				       : r;
	}
	return 0;
}

/* CLONE_PIDFD with FLAGS: refused (EINVAL, as copy_process of 5.2-6.8
 * refuses CLONE_THREAD) for a thread the front end cannot make a
 * PIDFD_THREAD pidfd of (6.9: copy_process gives one). */
static int thread_pidfd_refused(const struct sf_caller *c, uint64_t flags)
{
	return (flags & CLONE_THREAD) && !c->thread_pidfds;
}

long cargs_request(const struct sf_caller *c, long nr, const long a[6],
		   uintptr_t buf, struct cargs_req *q)
{
	*q = (struct cargs_req){0};
	q->cgroup_fd = -1;
	q->nsfd = -1;
	q->last_pid = -1;
	if (nr == SF_NR_clone3) {
		struct sysfill_clone_args ca;
		long out[6];
		unsigned long extra;
		long r = cargs_load(c, (uintptr_t)a[0], (size_t)a[1], &ca);
		if (r)
			return r;
		/* set_tid and CLONE_INTO_CGROUP where the front end can hold
		 * the child: fork shape (a vfork parent would wait for the
		 * held child for ever). */
		struct sysfill_clone_args legacy = ca;
		if (ca.set_tid_size || (ca.flags & CLONE_INTO_CGROUP)) {
			if (!buf)
				return CARGS_NEED_BUF;
			r = set_tid_plan(c, buf, &ca, &legacy, q);
			if (r)
				return r;
			if (ca.flags & CLONE_INTO_CGROUP) {
				q->cgroup_fd = (int)ca.cgroup;
				legacy.flags &= ~(uint64_t)CLONE_INTO_CGROUP;
				legacy.cgroup = 0;
			}
			if (ca.flags & (CLONE_VM | CLONE_VFORK)) {
				/* No child to hold (a vfork parent would wait
				 * for it for ever): copy_process's answers to
				 * a bad set_tid, pidfd slot or cgroup fd, in
				 * its order; good ones get cargs_to_legacy's
				 * (a kernel without them). */
				q->extra = ca.flags & CLONE_PIDFD;
				q->pidfd_at = (uintptr_t)ca.pidfd;
				r = fork_prepare(c, buf, q, 0);
				if (r)
					return r;
				legacy = ca;
			}
		}
		r = cargs_to_legacy(&legacy, out, &extra);
		if (r)
			return r;
		if ((extra & CLONE_PIDFD) && thread_pidfd_refused(c, ca.flags))
			return -EINVAL;
		q->flags = (unsigned long)out[0];
		q->stack_top = (uintptr_t)out[1];
		q->stack_base = (uintptr_t)ca.stack;
		q->ptid = out[2];
		q->ctid = out[3];
		q->tls = out[4];
		q->extra = extra;
		q->pidfd_at = (uintptr_t)ca.pidfd;
	} else {
		/* Legacy clone with CLONE_PIDFD (the filters catch no other):
		 * the checks of kernel_clone and copy_process on that flag, and
		 * copy_process's flag checks before them (so that they come
		 * before the pidfd slot's EFAULT); the legacy call makes the
		 * others. */
		unsigned long f = (unsigned long)a[0] & 0xffffffffUL;
		if (f & CLONE_PARENT_SETTID) /* kernel_clone: pidfd == parent_tid */
			return -EINVAL;
		long r = cargs_copy_process_flags(f);
		if (r)
			return r;
		if ((f & CLONE_DETACHED) || thread_pidfd_refused(c, f))
			return -EINVAL;
		q->flags = f & ~(unsigned long)CLONE_PIDFD;
		q->stack_top = (uintptr_t)a[1];
		q->ptid = a[2];
		q->ctid = a[3];
		q->tls = a[4];
		q->extra = CLONE_PIDFD;
		q->pidfd_at = (uintptr_t)a[2];
	}
	/* The kernel fails with EFAULT, and no child, when it cannot store the
	 * pidfd: check the slot is writable first. */
	if ((q->extra & CLONE_PIDFD) && cslot_writable(c, q->pidfd_at))
		return -EFAULT;
	return 0;
}
