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
 * threads or a shared fs_struct, a time namespace (EUSERS) to one that is
 * not single-threaded: in the library, its helper threads (a waiter per
 * watched live child, the monitor) would make it one, and they leave for
 * those steps (sf_helpers_pause) and are back before the others: a pid
 * namespace entered makes a new thread impossible (copy_process: EINVAL
 * for CLONE_THREAD once pid_ns_for_children is not the active one). So
 * the library enters user, mnt and time first and then uts, ipc, pid,
 * cgroup and net: when time and one of those are refused both, the
 * errno is time's where the kernel's would be the other's. Normal
 * context; not from the SIGSYS handler. */
#include <sched.h>
#include <string.h>
#include "sf.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif
#define NS_GET_NSTYPE 0xb703 /* _IO(0xb7, 0x3), Linux 4.11 */
/* setns steps the kernel refuses to a process with other threads */
#define ALONE (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWTIME)

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

/* The library's helper threads leave (ON) or are back: only for the
 * library's own calls (the tracer's tracee has none). */
static void alone(const struct sf_caller *c, int on)
{
	if (c != &sf_self_caller)
		return;
	if (on)
		sf_helpers_pause();
	else
		sf_helpers_resume();
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
		int type = flags;
		if (!type && c == &sf_self_caller) /* the fd's, if a namespace's */
			type = (int)sf_sys2(SF_NR_ioctl, fd, NS_GET_NSTYPE);
		if (type <= 0 || !(type & ALONE))
			return sf_caller_last(c, SF_NR_setns, a, NULL, 0);
		alone(c, 1);
		long r = sf_caller_sys(c, SF_NR_setns, a, NULL, 0);
		alone(c, 0);
		return r;
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
	/* The order of the steps: the kernel's, or (the library) ALONE's
	 * first, with the helpers away (see the top). */
	int order[NKINDS], n = 0, nalone = 0;
	int lib = c == &sf_self_caller;
	for (int i = 0; i < NKINDS; i++)
		if (lib && (kinds[i].flag & ALONE) && to[i] >= 0)
			order[n++] = i;
	nalone = n;
	for (int i = 0; i < NKINDS; i++)
		if (!(lib && (kinds[i].flag & ALONE)) && to[i] >= 0)
			order[n++] = i;
	if (r < 0)
		n = nalone = 0;
	int away = nalone > 0; /* the helpers are away */
	if (away)
		alone(c, 1);
	int done = -1;
	for (int k = 0; k < n && r >= 0; k++) {
		int i = order[k];
		if (k == nalone && away) {
			alone(c, 0);
			away = 0;
		}
		r = as_caller(c, SF_NR_setns, to[i], kinds[i].flag);
		if (r >= 0)
			done = k;
	}
	if (r < 0 && done >= 0 && nalone && !away) {
		alone(c, 1); /* to undo ALONE's steps */
		away = 1;
	}
	if (r < 0)
		for (int k = done; k >= 0; k--) {
			int i = order[k];
			if (kinds[i].flag != CLONE_NEWUSER)
				as_caller(c, SF_NR_setns, back[i], kinds[i].flag);
		}
	if (away)
		alone(c, 0);
	close_all(c, to);
	close_all(c, back);
	sf_log(SF_LOG_DEBUG, "setns(%d, %x) = %ld%s%s", fd, flags, r,
	       r < 0 ? " " : "", r < 0 ? sf_errname(r) : "");
	return r < 0 ? r : 0;
}
