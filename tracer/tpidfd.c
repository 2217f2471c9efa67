/* Trace mode's pidfd object: the read end of a pipe created in the
 * tracee, whose write end the supervisor holds and writes at the exit;
 * its identity, the exits of the processes behind it, and pidfd_open. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "trace.h"

/* ---- emulated pidfds -------------------------------------------------- */

struct watch *watches;
int nwatches, watch_cap, nused;

static struct watch *watch_find(dev_t dev, ino_t ino)
{
	for (int i = 0; i < nwatches; i++)
		if (watches[i].used && watches[i].ino == ino &&
		    watches[i].dev == dev)
			return &watches[i];
	return NULL;
}

struct watch *watch_new(void)
{
	nused++;
	for (int i = 0; i < nwatches; i++)
		if (!watches[i].used)
			return memset(&watches[i], 0, sizeof watches[i]);
	if (nwatches == watch_cap) {
		int cap = watch_cap ? watch_cap * 2 : 64;
		struct watch *n = realloc(watches, (size_t)cap * sizeof *n);
		if (!n) {
			nused--;
			return NULL;
		}
		watches = n;
		watch_cap = cap;
	}
	return memset(&watches[nwatches++], 0, sizeof *watches);
}

void watch_fire(struct watch *w)
{
	if (w->exited)
		return;
	w->exited = 1;
	if (write(w->wfd, "x", 1) < 0) {
	} /* EPIPE: nobody holds the pidfd any more */
}

void watch_free(struct watch *w)
{
	close(w->wfd);
	if (w->statfd >= 0)
		close(w->statfd);
	w->used = 0;
	nused--;
}

/* Exit of traced process gpid (reported to us): its pidfds become ready. */
void watches_exit(pid_t gpid)
{
	for (int i = 0; i < nwatches; i++)
		if (watches[i].used && watches[i].traced && !watches[i].exited &&
		    watches[i].gpid == gpid)
			watch_fire(&watches[i]);
}

/* Fields of a /proc/PID/stat text: state, pgrp, starttime. 0 or -errno. */
static int parse_stat(const char *buf, char *state, pid_t *pgrp,
		      uint64_t *start)
{
	const char *p = strrchr(buf, ')');
	if (!p || !p[1] || !p[2])
		return -EIO;
	p += 2;
	if (state)
		*state = *p;
	int field = 3;
	long pg = 0;
	while (*p && field < 22) {
		if (*p++ == ' ') {
			field++;
			if (field == 5)
				pg = strtol(p, NULL, 10);
		}
	}
	if (pgrp)
		*pgrp = (pid_t)pg;
	if (start)
		*start = strtoull(p, NULL, 10);
	return 0;
}

static int read_stat_fd(int fd, char *state, pid_t *pgrp, uint64_t *start)
{
	char buf[1024];
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	if (n <= 0)
		return -ESRCH;
	buf[n] = 0;
	return parse_stat(buf, state, pgrp, start);
}

/* Is the process behind w gone for good (reaped)? A traced process that
 * has not exited cannot be (we would have reaped its exit report first). */
int watch_reaped(struct watch *w)
{
	if (w->traced && !w->exited)
		return 0;
	if (w->statfd < 0) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/stat", (int)w->gpid);
		w->statfd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
		if (w->statfd < 0)
			return 1;
	}
	uint64_t st;
	char state;
	if (read_stat_fd(w->statfd, &state, NULL, &st) < 0 ||
	    st != w->starttime)
		return 1;
	return 0;
}

/* Periodic: exits of untraced processes; drop pidfds nobody holds. */
void watches_tick(void)
{
	for (int i = 0; i < nwatches; i++) {
		struct watch *w = &watches[i];
		if (!w->used)
			continue;
		struct pollfd p = {.fd = w->wfd, .events = 0};
		if (poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP))) {
			watch_free(w);
			continue;
		}
		if (w->exited || w->traced)
			continue;
		/* the engine's rule: a zombie leader whose threads run has not
		 * exited yet */
		char buf[1024];
		ssize_t n = pread(w->statfd, buf, sizeof buf - 1, 0);
		if (n > 0)
			buf[n] = 0;
		if (n <= 0 || proc_stat_gone(buf, w->starttime, NULL) != 0)
			watch_fire(w);
	}
}

/* ---- resolving a tracee's fd ------------------------------------------ */

/* The emulated pidfd behind the tracee's fd, NULL if it is none. If it is
 * a /proc/<pid> directory and procdir is non-NULL, *procdir gets the pid
 * (0 otherwise). */
struct watch *resolve_fd(pid_t tid, long fd, pid_t *procdir)
{
	if (procdir)
		*procdir = 0;
	if (fd < 0 || fd > INT_MAX)
		return NULL;
	char path[64];
	struct stat st;
	snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)tid, (int)fd);
	if (stat(path, &st) < 0)
		return NULL;
	if (S_ISFIFO(st.st_mode))
		return watch_find(st.st_dev, st.st_ino);
	if (!procdir || !S_ISDIR(st.st_mode))
		return NULL;
	char link[PATH_MAX];
	ssize_t n = readlink(path, link, sizeof link - 1);
	if (n <= 6)
		return NULL;
	link[n] = 0;
	char *del = strstr(link, " (deleted)");
	if (del && !del[10])
		*del = 0;
	if (strncmp(link, "/proc/", 6))
		return NULL;
	long pid = 0;
	for (char *p = link + 6; *p; p++) {
		if (*p < '0' || *p > '9' || pid > INT_MAX / 10)
			return NULL;
		pid = pid * 10 + (*p - '0');
	}
	*procdir = (pid_t)pid;
	/* The directory outlives its process: still there? */
	char sp[80];
	snprintf(sp, sizeof sp, "%s/stat", path);
	if (access(sp, F_OK) < 0)
		*procdir = -1;
	return NULL;
}

/* ---- the emulated calls ------------------------------------------------ */


/* Number of entries of the NSpid line of /proc/PID/status (the depth of
 * its pid namespace), 0 if there is none (gVisor), -1 if unreadable. */
static int nspid_depth(pid_t pid)
{
	long v[33];
	return trace_nspid(pid, v, 33);
}

/* The start time (field 22) in the stat file at PATH, 0 if unreadable. */
static uint64_t stat_start(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
	uint64_t st = 0;
	if (fd >= 0) {
		if (read_stat_fd(fd, NULL, NULL, &st) < 0)
			st = 0;
		close(fd);
	}
	return st;
}

/* Is DIR a /proc of TID's own pid namespace: is TID there under the
 * number its namespace gives it (the last of its NSpid line)? A tracee
 * that unshared its pid namespace and kept its parent's /proc sees the
 * numbers of another namespace there. */
static int view_is_own(pid_t tid, const char *dir)
{
	char path[128], buf[2048];
	snprintf(path, sizeof path, "/proc/%d/status", (int)tid);
	if (proc_read(path, buf, sizeof buf) <= 0)
		return 0;
	char *l = strstr(buf, "\nNSpid:"), *e, *last;
	if (!l)
		return 0;
	if ((e = strchr(l + 1, '\n')))
		*e = 0;
	if (!(last = strrchr(l, '\t')))
		return 0;
	long own = strtol(last + 1, NULL, 10);
	snprintf(path, sizeof path, "/proc/%d/stat", (int)tid);
	uint64_t a = stat_start(path);
	snprintf(path, sizeof path, "%s/%ld/stat", dir, own);
	return a && a == stat_start(path);
}

/* /proc as the tracee sees it: ours, unless it is in a deeper pid
 * namespace (then its root's /proc, which it mounted; if it did not, a
 * path that opens nothing: the engine then finds no process rather than
 * another namespace's). A task's pid namespace is its own for life: its
 * depth is read once per traced task. */
void proc_view(pid_t tid, char *buf, size_t len)
{
	static int mine = -1;
	if (mine < 0) {
		int d = nspid_depth(getpid());
		mine = d > 0 ? d : 0;
	}
	struct task *k = task_find(tid);
	int depth = k && k->nsdepth ? k->nsdepth - 1 : -1;
	int own = k ? k->nsview : 0;
	if (mine && depth < 0) {
		depth = nspid_depth(tid);
		if (depth > mine) {
			snprintf(buf, len, "/proc/%d/root/proc", (int)tid);
			own = view_is_own(tid, buf) ? 1 : -1;
		}
		if (k && depth >= 0) {
			k->nsdepth = depth + 1;
			k->nsview = own;
		}
	}
	if (mine && depth > mine)
		snprintf(buf, len, own > 0 ? "/proc/%d/root/proc" :
			 "/proc/%d/root/proc/.sysfill-not-this-pid-namespace",
			 (int)tid);
	else
		snprintf(buf, len, "/proc");
}

/* A new emulated pidfd for PID (as the tracee of C names it) with FLAGS
 * (PIDFD_NONBLOCK) in C's tracee. Returns the tracee's fd or -errno. */
/* Is the exit report of traced process PID still ours to take (so that
 * its parent cannot reap it yet)? */
static int exit_report_pending(pid_t pid)
{
	siginfo_t si;
	memset(&si, 0, sizeof si);
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) ==
		       0 &&
	       si.si_pid == pid;
}

long trace_pidfd_new(struct call *c, pid_t pid, unsigned flags)
{
	char path[128], buf[2048];
	/* Our number for it: the same, unless the tracee is in a deeper pid
	 * namespace (tpidns.c); what cannot be told is no process. */
	pid_t gpid = trace_ns_to_ours(c, pid);
	if (gpid < 0) {
		static int warned;
		if (!warned++)
			tlog(1, "[%d] is in a pid namespace whose numbers "
			     "cannot be read here (no NSpid in /proc): its "
			     "pidfd_open gives ESRCH", (int)c->tid);
		return -ESRCH;
	}
	if (gpid == 0)
		return -ESRCH;
	snprintf(path, sizeof path, "/proc/%d/status", (int)gpid);
	if (proc_read(path, buf, sizeof buf) <= 0)
		return -ESRCH;
	char *t = strstr(buf, "\nTgid:");
	if (t && strtol(t + 6, NULL, 10) != gpid) {
		/* A thread, not a process; one that has exited is gone (its
		 * ptrace exit report may still wait for us). */
		char *sl = strstr(buf, "\nState:");
		if (sl && (strchr("ZX", sl[8 + strspn(sl + 8, " \t")])))
			return -ESRCH;
		return -ENOENT;
	}
	snprintf(path, sizeof path, "/proc/%d/stat", (int)gpid);
	int sfd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
	uint64_t start = 0;
	char state = 0;
	if (sfd < 0 || read_stat_fd(sfd, &state, NULL, &start) < 0 ||
	    state == 'X') {
		if (sfd >= 0)
			close(sfd);
		return -ESRCH;
	}
	/* the pipe, in the tracee */
	uintptr_t s = scratch(c, 8);
	long r = tsys(c, SF_NR_pipe2, (long)s, O_CLOEXEC | O_NONBLOCK, 0, 0, 0, 0);
	if (r < 0) {
		close(sfd);
		return r;
	}
	int pfd[2];
	if (mem_rw(c->tid, s, pfd, sizeof pfd, 0) < 0) {
		close(sfd);
		return -EFAULT; /* cannot happen: stack */
	}
	snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)c->tid, pfd[1]);
	int wfd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	struct watch *w = NULL;
	long res = pfd[0];
	if (wfd < 0 || fstat(wfd, &st) < 0 || !(w = watch_new())) {
		res = wfd < 0 ? -errno : -ENOMEM;
		if (wfd >= 0)
			close(wfd);
		tsys(c, SF_NR_close, pfd[0], 0, 0, 0, 0, 0);
	} else {
		w->used = 1;
		w->dev = st.st_dev;
		w->ino = st.st_ino;
		w->wfd = wfd;
		w->pid = pid;
		w->gpid = gpid;
		trace_ns_mark(c, w);
		w->starttime = start;
		w->nonblock = !!(flags & PIDFD_NONBLOCK);
		w->traced = task_find(gpid) != NULL;
		w->statfd = -1;
		if (!w->traced) {
			w->statfd = sfd;
			sfd = -1;
		}
		/* A traced zombie's exit report is still ours to take: the
		 * parent can reap it only after that (task_exited fires it). */
		if (state == 'Z' && !(w->traced && exit_report_pending(gpid)))
			watch_fire(w);
	}
	if (sfd >= 0)
		close(sfd);
	tsys(c, SF_NR_close, pfd[1], 0, 0, 0, 0, 0);
	return res;
}

void do_pidfd_open(struct call *c)
{
	pid_t pid = (pid_t)c->a[0];
	unsigned flags = (unsigned)c->a[1];
	/* PIDFD_THREAD (6.9) is not emulated: answer as 5.10-6.8 do. */
	if ((flags & ~(unsigned)PIDFD_NONBLOCK) || pid <= 0)
		return finish(c, -EINVAL);
	long res = trace_pidfd_new(c, pid, flags);
	tlog(3, "[%d] pidfd_open(%d, %#x) = %ld", (int)c->tid, (int)pid, flags,
	     res);
	finish(c, res);
}
