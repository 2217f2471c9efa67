/* setns(2) with an emulated pidfd (Linux 5.8, kernel/nsproxy.c): FLAGS
 * names the namespaces of the pidfd's process to enter at once.
 *
 * The kernel checks the flags (check_setns_flags: none, or one outside
 * CLONE_NEW{NS,UTS,IPC,NET,TIME,USER,PID,CGROUP}, or one of a namespace
 * type it is built without: EINVAL), then that the process still has its
 * namespaces (reaped or a zombie: ESRCH), validates every namespace
 * against the caller (user first, then mnt, uts, ipc, pid, cgroup, net,
 * time) and commits them all or none. Here each one is entered with
 * setns on /proc/PID/ns/NAME in the same order, every file opened before
 * the first is entered (a process that is gone or refuses access changes
 * nothing); a later refusal puts the caller back into the namespaces it
 * had, which works for all but a user namespace entered before it (none
 * may return to an ancestor): the README says so.
 *
 * Every step is the caller's own call (sf_caller.sys): the library makes
 * them in its process, the tracer injects them into the tracee, whose
 * /proc, namespaces and credentials they are.
 *
 * User and mount namespaces are refused (EINVAL) to a process with other
 * threads or a shared fs_struct: in the library, its helper threads (a
 * waiter per watched live child) make it one; the kernel would refuse such
 * a program too. Normal context; not from the SIGSYS handler. */
#include <sched.h>
#include <string.h>
#include "sf.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif

static const struct {
	int flag;
	const char *name;
} kinds[] = { /* validate_nsset's order */
	{CLONE_NEWUSER, "user"},     {CLONE_NEWNS, "mnt"},
	{CLONE_NEWUTS, "uts"},       {CLONE_NEWIPC, "ipc"},
	{CLONE_NEWPID, "pid"},       {CLONE_NEWCGROUP, "cgroup"},
	{CLONE_NEWNET, "net"},       {CLONE_NEWTIME, "time"},
};
#define NKINDS ((int)(sizeof kinds / sizeof kinds[0]))

static long as_caller(const struct sf_caller *c, long nr, long a0, long a1)
{
	const long a[6] = {a0, a1, 0, 0, 0, 0};
	return sf_caller_sys(c, nr, a, NULL, 0);
}

/* openat(AT_FDCWD, PATH, O_RDONLY | O_CLOEXEC) as the caller. */
static long open_as_caller(const struct sf_caller *c, const char *path)
{
	const long a[6] = {AT_FDCWD, 0, O_RDONLY | O_CLOEXEC, 0, 0, 0};
	const struct sf_buf b = {1, SF_BUF_IN, (void *)path, strlen(path) + 1};
	return sf_caller_sys(c, SF_NR_openat, a, &b, 1);
}

static void close_all(const struct sf_caller *c, const long *fds)
{
	for (int i = 0; i < NKINDS; i++)
		if (fds[i] >= 0)
			as_caller(c, SF_NR_close, fds[i], 0);
}

long sf_setns(const struct sf_caller *c, int fd, int flags)
{
	long pid = sf_caller_getpid(c, fd);
	if (pid == -EBADF) { /* not an emulated pidfd: the kernel's */
		const long a[6] = {fd, flags, 0, 0, 0, 0};
		return sf_caller_last(c, SF_NR_setns, a, NULL, 0);
	}
	int all = 0;
	for (int i = 0; i < NKINDS; i++)
		all |= kinds[i].flag;
	if (!flags || (flags & ~all))
		return -EINVAL;
	char path[64];
	struct {
		uint64_t dev, ino;
		char rest[128];
	} st;
	for (int i = 0; i < NKINDS; i++) {
		sf_fmt(path, sizeof path, "/proc/self/ns/%s", kinds[i].name);
		if ((flags & kinds[i].flag) &&
		    sf_sys4(SF_NR_newfstatat, AT_FDCWD, path, &st, 0) == -ENOENT)
			return -EINVAL; /* a kernel without this namespace type */
	}
	if (pid < 0) /* reaped; outside our pid namespace we cannot reach it */
		return -ESRCH;
	char state = 0;
	if (proc_stat_in(sf_caller_proc(c), (pid_t)pid, 0, &state) < 0 ||
	    state == 'Z' || state == 'X')
		return -ESRCH; /* exited: no nsproxy */
	long to[NKINDS], back[NKINDS];
	for (int i = 0; i < NKINDS; i++)
		to[i] = back[i] = -1;
	long r = 0;
	for (int i = 0; i < NKINDS && r >= 0; i++) {
		if (!(flags & kinds[i].flag))
			continue;
		sf_fmt(path, sizeof path, "/proc/%ld/ns/%s", pid, kinds[i].name);
		to[i] = open_as_caller(c, path);
		if (to[i] < 0) {
			r = to[i] == -ENOENT ? -ESRCH : to[i] == -EACCES ? -EPERM : to[i];
			break;
		}
		sf_fmt(path, sizeof path, "/proc/thread-self/ns/%s", kinds[i].name);
		back[i] = open_as_caller(c, path);
		if (back[i] < 0)
			r = back[i];
	}
	/* The process must still be the one the pidfd names (its files
	 * belong to whatever has the pid now). */
	if (r >= 0 && sf_caller_getpid(c, fd) != pid)
		r = -ESRCH;
	int done = -1;
	for (int i = 0; i < NKINDS && r >= 0; i++) {
		if (to[i] < 0)
			continue;
		r = as_caller(c, SF_NR_setns, to[i], kinds[i].flag);
		if (r >= 0)
			done = i;
	}
	if (r < 0)
		for (int i = done; i >= 0; i--)
			if (to[i] >= 0 && kinds[i].flag != CLONE_NEWUSER)
				as_caller(c, SF_NR_setns, back[i], kinds[i].flag);
	close_all(c, to);
	close_all(c, back);
	sf_log(SF_LOG_DEBUG, "setns(%d, %x) = %ld%s%s", fd, flags, r,
	       r < 0 ? " " : "", r < 0 ? sf_errname(r) : "");
	return r < 0 ? r : 0;
}
