/* Pid namespaces of tracees (issue 12 item 15): a tracee in a deeper pid
 * namespace names processes by that namespace's numbers, and a pidfd it
 * makes may travel to a tracee of another namespace. The kernel's pidfd
 * holds the process (struct pid), so each holder reaches the same one:
 * here each watch keeps our number for the process and the namespace its
 * creator named it in, and a tracee is told the number its own namespace
 * has for it, or that it has none (-EREMOTE: kernel/signal.c
 * access_pidfd_pidns, fs/pidfs.c). What cannot be told (gVisor shows no
 * NSpid lines and no /proc/PID/ns) is refused, never guessed: a wrong
 * number would signal or wait for another process. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "trace.h"

#ifndef NS_GET_PARENT
#define NS_GET_PARENT _IO(0xb7, 0x2)
#endif

int trace_nspid(pid_t pid, long *v, int n)
{
	char path[48], buf[2048];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if (proc_read(path, buf, sizeof buf) <= 0)
		return -1;
	char *l = strstr(buf, "\nNSpid:");
	if (!l)
		return 0;
	int k = 0;
	for (char *p = l + 7; *p && *p != '\n' && k < n;) {
		char *e;
		long x = strtol(p, &e, 10);
		if (e == p)
			break;
		v[k++] = x;
		p = e;
	}
	return k;
}

/* Inode of the pid namespace LEVELS above the one of our /proc/PID's
 * process (0: its own), 0 if it cannot be read. */
static ino_t pidns_up(pid_t pid, int levels)
{
	char path[48];
	snprintf(path, sizeof path, "/proc/%d/ns/pid", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	for (int i = 0; fd >= 0 && i < levels; i++) {
		int up = ioctl(fd, NS_GET_PARENT);
		close(fd);
		fd = up;
	}
	struct stat st;
	ino_t ino = fd >= 0 && fstat(fd, &st) == 0 ? st.st_ino : 0;
	if (fd >= 0)
		close(fd);
	return ino;
}

/* Where TID's pid namespace is: the task's cached answer, found once
 * (a task's pid namespace is its own for life). */
static struct task *ns_of(struct call *c)
{
	struct task *k = task_find(c->tid);
	if (!k || k->nslevel)
		return k;
	long mine[33], its[33]; /* MAX_PID_NS_LEVEL 32 */
	int m = trace_nspid(getpid(), mine, 33), t = trace_nspid(c->tid, its, 33);
	if (m > 0 && t >= m) {
		k->nslevel = 1 + (t - m);
		k->nsino = pidns_up(c->tid, 0);
		if (t > m && !k->nsino)
			k->nslevel = -1;
		return k;
	}
	/* No NSpid (gVisor): the tracee's own getpid tells whether its
	 * namespace is ours, not which one it is otherwise. */
	long own = tsys(c, SF_NR_getpid, 0, 0, 0, 0, 0, 0);
	if (c->gone)
		return k;
	k->nslevel = own == tgid_of(c->tid) ? 1 : -1;
	k->nsino = 0;
	return k;
}

int trace_ns_level(struct call *c)
{
	struct task *k = ns_of(c);
	return k && k->nslevel > 0 ? k->nslevel - 1 : -1;
}

void trace_ns_mark(struct call *c, struct watch *w)
{
	struct task *k = ns_of(c);
	w->nslevel = k ? k->nslevel : -1;
	w->nsino = k ? k->nsino : 0;
	/* only trace_ns_pid's test for a namespace it cannot name reads it:
	 * no /proc read for a pidfd_open of our own namespace */
	w->creator = w->nslevel == 1 ? 0 : tgid_of(c->tid);
}

/* Is task T (ours) the one PID names in the namespace LVL levels below
 * ours whose inode is NS? */
static int ns_names(pid_t t, int lvl, pid_t pid, ino_t ns)
{
	long v[33];
	int n = trace_nspid(t, v, 33);
	return n > lvl && v[lvl] == pid && pidns_up(t, n - 1 - lvl) == ns;
}

/* The task of thread group T (ours) that PID names there, 0 if none. */
static pid_t ns_task_of(pid_t t, int lvl, pid_t pid, ino_t ns)
{
	char path[48];
	snprintf(path, sizeof path, "/proc/%d/task", (int)t);
	DIR *d = opendir(path);
	if (!d)
		return 0;
	pid_t found = 0;
	struct dirent *e;
	while (!found && (e = readdir(d))) {
		char *end;
		long x = strtol(e->d_name, &end, 10);
		if (!*end && x > 0 && ns_names((pid_t)x, lvl, pid, ns))
			found = (pid_t)x;
	}
	closedir(d);
	return found;
}

/* Our number of the process PID (a thread-group leader; with THREAD any
 * task) names in tracee C's pid namespace: 0 if there is none, -1 if it
 * cannot be told. */
pid_t trace_ns_to_ours(struct call *c, pid_t pid, int thread)
{
	int lvl = trace_ns_level(c);
	if (lvl == 0)
		return pid;
	if (lvl < 0)
		return -1;
	ino_t ns = ns_of(c)->nsino;
	DIR *d = opendir("/proc");
	if (!d)
		return -1;
	pid_t found = 0;
	struct dirent *e;
	while (!found && (e = readdir(d))) {
		char *end;
		long t = strtol(e->d_name, &end, 10);
		if (*end || t <= 0)
			continue;
		if (ns_names((pid_t)t, lvl, pid, ns))
			found = (pid_t)t;
		else if (thread)
			found = ns_task_of((pid_t)t, lvl, pid, ns);
	}
	closedir(d);
	return found;
}

/* The number tracee C's pid namespace has for the process of watch W:
 * the pid, -EREMOTE if it has none there (or it cannot be told). */
long trace_ns_pid(struct call *c, const struct watch *w)
{
	struct task *k = ns_of(c);
	if (!k || !k->nslevel)
		return -EREMOTE;
	/* named in this namespace: its creator's number */
	if (w->nslevel == k->nslevel &&
	    (k->nslevel == 1 || (k->nsino && k->nsino == w->nsino) ||
	     w->creator == tgid_of(c->tid)))
		return w->pid;
	if (w->gpid <= 0)
		return -EREMOTE;
	if (k->nslevel == 1)
		return w->gpid; /* ours */
	if (k->nslevel < 0 || !k->nsino)
		return -EREMOTE;
	long v[33];
	int lvl = k->nslevel - 1, n = trace_nspid(w->gpid, v, 33);
	if (n > lvl && pidns_up(w->gpid, n - 1 - lvl) == k->nsino)
		return v[lvl];
	return -EREMOTE;
}
