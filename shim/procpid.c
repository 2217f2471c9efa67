/* pidfd <-> /proc/<pid>, as the first pidfd_open series proposed it
 * (Christian Brauner, LKML, March 2019: pidfd_open(pid_t pid, int procfd,
 * int pidfd, unsigned int flags) with PIDFD_TO_PROCFD and PROCFD_TO_PIDFD;
 * its selftest: pidfd = pidfd_open(getpid(), -1, -1, 0); procpidfd =
 * pidfd_open(-1, procfd, pidfd, PIDFD_TO_PROCFD); pidfd2 = pidfd_open(-1,
 * procpidfd, -1, PROCFD_TO_PIDFD), and /proc/<pid>/status of procpidfd
 * shows the pid). The series was replaced by pidfd_open(pid, flags) (5.3)
 * and no kernel has the translation; its kernel text is not in the
 * sources we could search, so the errno rules below are those of the
 * merged pidfd calls, which the series' code shared:
 * - a number that is no open fd, or an fd that is no pidfd (pidfd_pid():
 *   ERR_PTR(-EBADF)) or no /proc/<pid> directory (tgid_pidfd_to_pid():
 *   ERR_PTR(-EBADF), 5.1's pidfd_send_signal): EBADF;
 * - a procfd that is not the root of a proc mount, unknown flags: EINVAL;
 * - the process reaped (pid recycling): ESRCH, as every pidfd call;
 * - the process has no pid in the procfd mount's pid namespace: ENOENT
 *   (what the openat of its number there gives; our choice).
 * Both directions check after the open that the process is still the one
 * they started from (the series' rule: a pidfd's process is not reaped
 * while its pid is looked up, so the pid names it): the pidfd's process
 * is still not reaped, or the /proc/<pid> directory still has its files.
 *
 * Works with the kernel's pidfds (the pid from PIDFD_GET_INFO, 6.13, or
 * the Pid: line of the fdinfo, 5.4) and with emulated ones (the table).
 * Normal context (not the SIGSYS handler): blocks signals only around the
 * engine calls. */
#include <string.h>
#include "sf.h"

#define PROC_SUPER_MAGIC 0x9fa0
#define PIDFD_GET_INFO_K \
	((IOC_RW << 30) | ((unsigned)sizeof(struct pidfd_info_k) << 16) | \
	 (PIDFS_IOC_TYPE << 8) | PIDFD_INFO_NR)

long sf_any_pidfd_info(int fd, uint64_t mask, struct pidfd_info_k *k)
{
	memset(k, 0, sizeof *k);
	k->mask = mask;
	const long a[6] = {fd, (long)PIDFD_GET_INFO_K, (long)k, 0, 0, 0};
	if (sf_init() & SF_FEAT_PIDFD_FAMILY)
		return sf_engine_call_masked(SF_NR_ioctl, a);
	return sf_syscall6(SF_NR_ioctl, a[0], a[1], a[2], 0, 0, 0);
}

/* The Pid: line of the kernel's own /proc/self/fdinfo/FD (a kernel pidfd
 * on 5.4-6.12): the pid, -ESRCH for -1 (reaped), -ENOENT for 0 (outside
 * our pid namespace), -EBADF without the line (no pidfd). */
static long fdinfo_pid(int fd)
{
	char path[48], buf[1024];
	sf_fmt(path, sizeof path, "/proc/self/fdinfo/%d", fd);
	if (proc_read(path, buf, sizeof buf) <= 0)
		return -EBADF;
	const char *p = strstr(buf, "\nPid:");
	if (!p)
		return -EBADF;
	p += 5;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '-')
		return -ESRCH;
	long pid = (long)proc_number(p);
	return pid ? pid : -ENOENT;
}

long sf_any_pidfd_pid(int fd)
{
	if (fd < 0 || sf_sys2(SF_NR_fcntl, fd, F_GETFD) < 0)
		return -EBADF;
	long r = sf_pidfd_getpid(fd); /* emulated */
	if (r != -EBADF)
		return r == -EREMOTE ? -ENOENT : r;
	struct pidfd_info_k k;
	r = sf_any_pidfd_info(fd, PIDFD_INFO_PID, &k);
	if (r == 0)
		return k.pid ? (long)k.pid : -ENOENT;
	if (r == -ESRCH)
		return r;
	/* ENOTTY or EINVAL: no pidfd, or a kernel before PIDFD_GET_INFO */
	return fdinfo_pid(fd);
}

/* The numbers of the "NSpid:" line (or "Pid:" where there is none,
 * before 4.1) of the status text BUF into V (N at most). Returns how
 * many. */
static int nspids(const char *buf, uint64_t *v, int n)
{
	long got = proc_status_field(buf, "NSpid", v, n, 10);
	if (got <= 0)
		got = proc_status_field(buf, "Pid", v, 1, 10);
	return got < 0 ? 0 : (int)got;
}

/* The identity of the process whose /proc/<pid> directory is DIRFD (or
 * path DIR if DIRFD < 0): start time and its pid in its own (innermost)
 * namespace. 0 or -ESRCH (gone). */
struct ident {
	uint64_t start, inner;
};

static long ident_of(int dirfd, const char *dir, struct ident *id,
		     uint64_t *v, int *nv)
{
	char path[128], buf[2048];
	long fd;
	for (int i = 0; i < 2; i++) {
		const char *name = i ? "status" : "stat";
		if (dirfd >= 0)
			fd = sf_sys4(SF_NR_openat, dirfd, name,
				     O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0);
		else {
			sf_fmt(path, sizeof path, "%s/%s", dir, name);
			fd = sf_sys4(SF_NR_openat, AT_FDCWD, path,
				     O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0);
		}
		if (fd < 0)
			return -ESRCH;
		long n = sf_syscall6(SF_NR_pread64, fd, (long)buf, sizeof buf - 1,
				     0, 0, 0);
		sf_sys1(SF_NR_close, fd);
		if (n <= 0)
			return -ESRCH;
		buf[n] = 0;
		if (!i) {
			const char *p = 0;
			for (const char *q = buf; *q; q++)
				if (*q == ')')
					p = q;
			if (!p)
				return -ESRCH;
			int f = 2;
			for (; *p && f < 22; p++)
				if (*p == ' ')
					f++;
			id->start = proc_number(p);
		} else {
			uint64_t w[32];
			int m = nspids(buf, w, 32);
			if (!m)
				return -ESRCH;
			id->inner = w[m - 1];
			if (v) {
				memcpy(v, w, sizeof(uint64_t) * (size_t)m);
				*nv = m;
			}
		}
	}
	return 0;
}

/* Is FD the root of a proc mount: 0, -EBADF (no open fd), -EINVAL. */
static long proc_root(int fd)
{
	struct {
		long f_type;
		char rest[112];
	} fs;
	if (fd < 0 || sf_sys2(SF_NR_fcntl, fd, F_GETFD) < 0)
		return -EBADF;
	if (sf_sys2(SF_NR_fstatfs, fd, &fs) < 0 || fs.f_type != PROC_SUPER_MAGIC)
		return -EINVAL;
	char link[32];
	/* the root lists "self"; /proc/<pid> and the rest do not */
	if (sf_sys4(SF_NR_readlinkat, fd, "self", link, sizeof link) <= 0)
		return -EINVAL;
	return 0;
}

/* A look for a process through a proc mount (find_one). */
struct find {
	int procfd;
	const struct ident *want;
	long d; /* the directory found, or -ENOENT */
};

/* The directory of pid PID in proc mount PROCFD if it is the process
 * with identity WANT: a new fd, or -ENOENT. */
static long open_if_same(int procfd, uint64_t pid, const struct ident *want)
{
	char name[24];
	struct ident got;
	sf_fmt(name, sizeof name, "%lu", (unsigned long)pid);
	long d = sf_sys4(SF_NR_openat, procfd, name,
			 O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW, 0);
	if (d >= 0 && (ident_of((int)d, 0, &got, 0, 0) < 0 ||
		       got.start != want->start || got.inner != want->inner)) {
		sf_sys1(SF_NR_close, d);
		d = -ENOENT;
	}
	return d < 0 ? -ENOENT : d;
}

static int find_one(pid_t pid, void *arg)
{
	struct find *f = arg;
	f->d = open_if_same(f->procfd, (uint64_t)pid, f->want);
	return f->d >= 0;
}

long sf_pidfd_to_procfd(int pidfd, int procfd, unsigned flags)
{
	if (flags)
		return -EINVAL;
	long pid = sf_any_pidfd_pid(pidfd);
	if (pid < 0)
		return pid;
	long r = proc_root(procfd);
	if (r < 0)
		return r;
	/* The pids it has from our /proc's namespace down (a mount of ours
	 * or of a namespace below); else the mount's of an ancestor
	 * namespace, found by a look at each of its processes. */
	char dir[48];
	uint64_t v[32];
	int nv = 0;
	struct ident want;
	sf_fmt(dir, sizeof dir, "%s/%ld", sf_caller_proc(&sf_self_caller), pid);
	r = ident_of(-1, dir, &want, v, &nv);
	long d = -ENOENT;
	for (int i = 0; r == 0 && i < nv && d < 0; i++)
		d = open_if_same(procfd, v[i], &want);
	if (r == 0 && d < 0) {
		struct find f = {procfd, &want, -ENOENT};
		sf_fmt(dir, sizeof dir, "/proc/self/fd/%d", procfd);
		proc_each_pid_in(dir, find_one, &f);
		d = f.d;
	}
	/* still the process of the pidfd: then its pid named it all along */
	long again = sf_any_pidfd_pid(pidfd);
	if (again != pid) {
		if (d >= 0)
			sf_sys1(SF_NR_close, d);
		return again < 0 ? again : -ESRCH;
	}
	return d;
}

/* Is FD a /proc/<pid> directory (a thread group's, not a task/<tid>
 * one): its pid as its mount shows it, or -EBADF. */
static long tgid_dir(int fd)
{
	struct {
		long f_type;
		char rest[112];
	} fs;
	if (fd < 0 || sf_sys2(SF_NR_fcntl, fd, F_GETFD) < 0 ||
	    sf_sys2(SF_NR_fstatfs, fd, &fs) < 0 || fs.f_type != PROC_SUPER_MAGIC)
		return -EBADF;
	char link[256], path[40];
	sf_fmt(path, sizeof path, "/proc/self/fd/%d", fd);
	long n = sf_sys3(SF_NR_readlink, path, link, sizeof link - 1);
	if (n <= 0)
		return -EBADF;
	link[n] = 0;
	char *end = strstr(link, " (deleted)");
	if (end && !end[10])
		*end = 0; /* its process is gone */
	char *last = strrchr(link, '/');
	if (!last || !last[1])
		return -EBADF;
	for (char *p = last + 1; *p; p++)
		if (*p < '0' || *p > '9')
			return -EBADF;
	*last = 0;
	char *parent = strrchr(link, '/');
	if (parent && !strcmp(parent, "/task"))
		return -EBADF;
	return (long)proc_number(last + 1);
}

/* pidfd_open as the library answers it (emulated or the kernel's). */
static long open_pidfd(long pid, unsigned flags)
{
	const long a[6] = {pid, flags, 0, 0, 0, 0};
	if (sf_init() & SF_FEAT_PIDFD_FAMILY)
		return sf_engine_call_masked(SF_NR_pidfd_open, a);
	return sf_syscall6(SF_NR_pidfd_open, pid, flags, 0, 0, 0, 0);
}

long sf_procfd_to_pidfd(int procpidfd, unsigned flags)
{
	if (flags & ~PIDFD_NONBLOCK)
		return -EINVAL;
	long r = tgid_dir(procpidfd);
	if (r < 0)
		return r;
	uint64_t v[32];
	int nv = 0;
	struct ident want, got;
	if (ident_of(procpidfd, 0, &want, v, &nv) < 0)
		return -ESRCH;
	/* its number in our namespace: one of those its mount shows, the one
	 * our /proc shows as the same process */
	long pid = -ESRCH;
	for (int i = 0; i < nv && pid < 0; i++) {
		char dir[48];
		sf_fmt(dir, sizeof dir, "%s/%lu", sf_caller_proc(&sf_self_caller),
		       (unsigned long)v[i]);
		if (ident_of(-1, dir, &got, 0, 0) == 0 && got.start == want.start &&
		    got.inner == want.inner)
			pid = (long)v[i];
	}
	if (pid < 0)
		return pid;
	long fd = open_pidfd(pid, flags);
	if (fd < 0)
		return fd;
	/* the directory's process still there: the pid was its own */
	if (ident_of(procpidfd, 0, &got, 0, 0) < 0 || got.start != want.start) {
		sf_sys1(SF_NR_close, fd);
		return -ESRCH;
	}
	return fd;
}
