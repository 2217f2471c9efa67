/* `sysfill run --mode=trace`: the ptrace front end.
 *
 * The supervisor (this process) forks the program, PTRACE_SEIZEs it with
 * fork/vfork/clone/exec/exit tracing, and the child loads a seccomp filter
 * that returns SECCOMP_RET_TRACE only for the calls emulated here
 * (pidfd_open, pidfd_send_signal, pidfd_getfd, waitid with P_PIDFD, clone3
 * and clone with CLONE_PIDFD: clone.c) and for ptrace; every other call
 * runs without a stop. clone3 gets ENOSYS from the filter itself under
 * --kernel < 5.3 or a profile that refuses it.
 *
 * Everything the program asks for is done BY THE TRACEE, with its own
 * credentials: a stopped call is rewritten in place into the call that does
 * the work (kill, rt_sigqueueinfo, waitid(P_PID), openat of /proc/PID/fd/N),
 * or further calls are injected (rewind the program counter to the syscall
 * instruction at a syscall-exit stop). The supervisor only reads /proc and
 * the tracee's memory to decide what to run.
 *
 * An emulated pidfd is the read end of a pipe created in the tracee
 * (pipe2, O_CLOEXEC|O_NONBLOCK); the supervisor opens the write end through
 * /proc/TID/fd/W and writes one byte when the process exits, which makes
 * the pidfd readable (POLLIN) as a real one. The pipe's (st_dev, st_ino)
 * is its identity: an fd number is resolved with stat(/proc/TID/fd/N), so
 * dup'd, inherited and exec-inherited fds work, and a reused number (a
 * different inode) is never taken for a pidfd. When the program has closed
 * every copy of the read end, the write end reports POLLERR and the entry
 * is dropped.
 *
 * Exit notification: exact for traced processes (the supervisor reaps the
 * ptrace exit report, after which the real parent can wait for it); other
 * processes are checked every 100 ms through a kept /proc/PID/stat fd.
 *
 * A process that inherited libsysfill.so's filter (RET_TRAP, tag 0x5f5f)
 * stops in a signal-delivery stop for that SIGSYS before it is delivered:
 * it is served as the emulated call here and the signal is suppressed. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <stddef.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/seccomp.h>
#include "sysfill/uapi.h"
#include "../shim/arch/arch.h"
#include "tracer.h"
#include "trace.h"
#include "env.h"

#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif
#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1
#endif
#define PRELOAD_TRAP_TAG 0x5f5f /* libsysfill.so's SECCOMP_RET_DATA */

/* SECCOMP_RET_DATA of our RET_TRACE rules. */
enum {
	TR_PIDFD_OPEN = 1,
	TR_SEND_SIGNAL,
	TR_GETFD,
	TR_WAITID,
	TR_PTRACE,
	TR_CLONE_PIDFD,
	TR_CLONE3,
};

extern char **environ;

static int log_level = 1; /* 0 error, 1 warn, 2 info, 3 debug */

void tlog(int level, const char *fmt, ...)
{
	if (level > log_level)
		return;
	static const char *tags[] = {"error", "warn", "info", "debug"};
	char buf[512];
	int n = snprintf(buf, sizeof buf, "sysfill[%d]: %s: ", (int)getpid(),
			 tags[level]);
	va_list ap;
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof buf - 2)
		n = (int)sizeof buf - 2;
	buf[n++] = '\n';
	if (write(env_log_fd(), buf, (size_t)n) < 0) {
	}
}

/* ---- traced tasks ---------------------------------------------------- */

#define TASK_SLOTS 32768 /* power of two */
struct task {
	pid_t tid;     /* 0: free */
	int sigsys_blocked; /* under an inherited filter: blocked, virtually */
	int ptrace_warned;
	/* A blocking waitid left to run as the program's call, whose result
	 * is fixed at its syscall-exit stop (gVisor's stop reports). */
	int fix;
	int fix_entry_seen;
	pid_t fix_pid;
	int fix_options;
	uintptr_t fix_si;
	struct user_regs_struct fix_orig;
};
static struct task tasks[TASK_SLOTS];
static int ntasks;

static struct task *task_find(pid_t tid)
{
	unsigned h = (unsigned)tid * 2654435761u;
	for (unsigned i = 0; i < TASK_SLOTS; i++) {
		struct task *t = &tasks[(h + i) & (TASK_SLOTS - 1)];
		if (t->tid == tid)
			return t;
		if (!t->tid)
			return NULL;
	}
	return NULL;
}

static struct task *task_add(pid_t tid)
{
	struct task *t = task_find(tid);
	if (t)
		return t;
	if (ntasks >= TASK_SLOTS / 2)
		return NULL;
	unsigned h = (unsigned)tid * 2654435761u;
	for (unsigned i = 0; i < TASK_SLOTS; i++) {
		t = &tasks[(h + i) & (TASK_SLOTS - 1)];
		if (t->tid <= 0) {
			memset(t, 0, sizeof *t);
			t->tid = tid;
			ntasks++;
			return t;
		}
	}
	return NULL;
}

/* Remove with backward-shift so that probing stays correct. */
static void task_del(pid_t tid)
{
	unsigned h = (unsigned)tid * 2654435761u, i;
	for (i = 0; i < TASK_SLOTS; i++)
		if (tasks[(h + i) & (TASK_SLOTS - 1)].tid == tid)
			break;
		else if (!tasks[(h + i) & (TASK_SLOTS - 1)].tid)
			return;
	if (i == TASK_SLOTS)
		return;
	unsigned hole = (h + i) & (TASK_SLOTS - 1);
	tasks[hole].tid = 0;
	ntasks--;
	for (unsigned j = (hole + 1) & (TASK_SLOTS - 1); tasks[j].tid;
	     j = (j + 1) & (TASK_SLOTS - 1)) {
		unsigned home = ((unsigned)tasks[j].tid * 2654435761u) &
				(TASK_SLOTS - 1);
		/* j's entry may move into the hole if its home is not in
		 * (hole, j] cyclically. */
		int between = hole <= j ? (home > hole && home <= j)
					: (home > hole || home <= j);
		if (!between) {
			tasks[hole] = tasks[j];
			tasks[j].tid = 0;
			hole = j;
		}
	}
}

/* ---- emulated pidfds -------------------------------------------------- */

struct watch {
	int used;
	dev_t dev;
	ino_t ino;
	int wfd;           /* our write end of the tracee's pipe */
	int statfd;        /* /proc/PID/stat, kept for untraced/exited ones */
	pid_t pid;         /* as the tracee named it */
	pid_t gpid;        /* in our pid namespace */
	uint64_t starttime;
	int nonblock;      /* PIDFD_NONBLOCK asked */
	int traced;        /* the process is one of our tracees */
	int exited;        /* byte written */
};
static struct watch *watches;
static int nwatches, watch_cap, nused;

static struct watch *watch_find(dev_t dev, ino_t ino)
{
	for (int i = 0; i < nwatches; i++)
		if (watches[i].used && watches[i].ino == ino &&
		    watches[i].dev == dev)
			return &watches[i];
	return NULL;
}

static struct watch *watch_new(void)
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

static void watch_fire(struct watch *w)
{
	if (w->exited)
		return;
	w->exited = 1;
	if (write(w->wfd, "x", 1) < 0) {
	} /* EPIPE: nobody holds the pidfd any more */
}

static void watch_free(struct watch *w)
{
	close(w->wfd);
	if (w->statfd >= 0)
		close(w->statfd);
	w->used = 0;
	nused--;
}

/* Exit of traced process gpid (reported to us): its pidfds become ready. */
static void watches_exit(pid_t gpid)
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
static int watch_reaped(struct watch *w)
{
	if (w->traced && !w->exited)
		return 0;
	if (w->statfd < 0) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/stat", (int)w->gpid);
		w->statfd = open(path, O_RDONLY | O_CLOEXEC);
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
static void watches_tick(void)
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
		char state = 0;
		uint64_t st = 0;
		if (read_stat_fd(w->statfd, &state, NULL, &st) < 0 ||
		    st != w->starttime || state == 'Z' || state == 'X')
			watch_fire(w);
	}
}

/* ---- tracee memory ----------------------------------------------------- */

static int no_vm_rw;   /* process_vm_* missing (gVisor) */
static int no_mem_file; /* /proc/PID/mem not usable for this direction */

/* PEEKDATA/POKEDATA, a word at a time (gVisor's /proc/PID/mem is not
 * writable). Returns 0 or -EFAULT. */
static int mem_words(pid_t tid, uintptr_t addr, char *buf, size_t n, int wr)
{
	const size_t W = sizeof(long);
	while (n) {
		uintptr_t base = addr & ~(uintptr_t)(W - 1);
		size_t off = addr - base, k = W - off < n ? W - off : n;
		errno = 0;
		long word = ptrace(PTRACE_PEEKDATA, tid, (void *)base, 0);
		if (errno)
			return -EFAULT;
		if (wr) {
			memcpy((char *)&word + off, buf, k);
			if (ptrace(PTRACE_POKEDATA, tid, (void *)base,
				   (void *)word) < 0)
				return -EFAULT;
		} else {
			memcpy(buf, (char *)&word + off, k);
		}
		buf += k;
		addr += k;
		n -= k;
	}
	return 0;
}

/* Copy n bytes between us and the stopped tracee's memory at addr.
 * Returns 0 or -EFAULT (never faults here). */
int mem_rw(pid_t tid, uintptr_t addr, void *buf, size_t n, int wr)
{
	if (!no_vm_rw) {
		struct iovec l = {buf, n}, r = {(void *)addr, n};
		ssize_t k = wr ? process_vm_writev(tid, &l, 1, &r, 1, 0)
			       : process_vm_readv(tid, &l, 1, &r, 1, 0);
		if (k == (ssize_t)n)
			return 0;
		if (k >= 0 || errno == EFAULT)
			return -EFAULT;
		if (errno != ENOSYS && errno != EPERM)
			return -EFAULT;
		no_vm_rw = 1;
	}
	if (!(no_mem_file & (1 << wr))) {
		char path[48];
		snprintf(path, sizeof path, "/proc/%d/mem", (int)tid);
		int fd = open(path, (wr ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
		if (fd >= 0) {
			ssize_t k = wr ? pwrite(fd, buf, n, (off_t)addr)
				       : pread(fd, buf, n, (off_t)addr);
			int e = errno;
			close(fd);
			if (k == (ssize_t)n)
				return 0;
			if (k >= 0 || e == EFAULT || e == EIO)
				return -EFAULT;
		}
		no_mem_file |= 1 << wr;
	}
	return mem_words(tid, addr, buf, n, wr);
}

/* ---- one stopped call -------------------------------------------------- */

int getregs(pid_t tid, struct user_regs_struct *r)
{
	return ptrace(PTRACE_GETREGS, tid, 0, r) < 0 ? -errno : 0;
}
int setregs(pid_t tid, const struct user_regs_struct *r)
{
	return ptrace(PTRACE_SETREGS, tid, 0, r) < 0 ? -errno : 0;
}

/* Resume a stopped tracee (PTRACE_CONT, PTRACE_SYSCALL, ...). With
 * SYSFILL_TRACE_HANDOFF=1 the supervisor is SCHED_IDLE while it wakes the
 * tracee: a CPU that runs only SCHED_IDLE tasks counts as idle when the
 * kernel places a woken task, so the tracee tends to run on our CPU.
 * Measured here it costs 3-4 us per stop (two sched_setscheduler calls)
 * and gains nothing over the short poll in wait_any: off by default. */
static int handoff;
long resume(int req, pid_t tid, long sig)
{
	static const struct sched_param zero;
	if (handoff)
		sched_setscheduler(0, SCHED_IDLE, &zero);
	long r = ptrace(req, tid, 0, sig);
	if (handoff)
		sched_setscheduler(0, SCHED_OTHER, &zero);
	return r;
}


/* Wait briefly by polling, then block. A tracee usually stops again
 * within microseconds (the syscall we injected, or the program's next
 * emulated call), and a blocked supervisor costs a wake-up, 60-70 us when
 * it comes from the other CPU (DESIGN.md). SYSFILL_TRACE_SPIN_US (default
 * 10) bounds the polling; the yield lets the tracee run when it shares
 * our CPU. */
static long spin_ns = 10000;
static long mono_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000L + t.tv_nsec;
}
/* After a blocking wait: if the tracee stopped on another CPU, move there
 * (SYSFILL_TRACE_FOLLOW=1; off by default: measured here, the woken
 * tracee then tends to move to the CPU we left, and we chase it). */
static int follow_cpu;
static void move_to_cpu_of(pid_t tid)
{
	char path[48], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)tid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = 0;
	const char *p = strrchr(buf, ')');
	if (!p)
		return;
	int field = 2;
	while (*p && field < 39)
		if (*p++ == ' ')
			field++;
	int cpu = atoi(p);
	if (cpu < 0 || cpu >= CPU_SETSIZE || cpu == sched_getcpu())
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof set, &set);
}

static pid_t wait_any(pid_t tid, int *st)
{
	if (spin_ns > 0) {
		long end = mono_ns() + spin_ns;
		do {
			pid_t w = waitpid(tid, st, WNOHANG | __WALL);
			if (w != 0)
				return w;
			/* on the tracee's CPU, let it run; elsewhere this
			 * returns at once */
			sched_yield();
		} while (mono_ns() < end);
	}
	pid_t w = waitpid(tid, st, __WALL);
	if (w > 0 && follow_cpu && WIFSTOPPED(*st))
		move_to_cpu_of(w);
	return w;
}

/* Resume c->tid with PTRACE_SYSCALL and wait for its next syscall stop.
 * Signals arriving meanwhile are kept in c->pend and queued again at the
 * end. Returns 0, or -ESRCH if the tracee died. */
int to_syscall_stop(struct call *c)
{
	if (resume(PTRACE_SYSCALL, c->tid, 0) < 0)
		return c->gone = 1, -ESRCH;
	for (;;) {
		int st;
		pid_t w = wait_any(c->tid, &st);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return c->gone = 1, -ESRCH;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			task_exited(c->tid, st);
			return c->gone = 1, -ESRCH;
		}
		if (!WIFSTOPPED(st))
			continue;
		int sig = WSTOPSIG(st), ev = st >> 16;
		if (sig == SYSGOOD_TRAP)
			return 0;
		if (ev == PTRACE_EVENT_EXIT) {
			/* killed (SIGKILL) during our work */
			resume(PTRACE_CONT, c->tid, 0);
			return c->gone = 1, -ESRCH;
		}
		if (ev == 0 && c->npend < 4 &&
		    ptrace(PTRACE_GETSIGINFO, c->tid, 0, &c->pend[c->npend]) == 0)
			c->npend++;
		/* group-stop or other event mid-call: keep going */
		if (resume(PTRACE_SYSCALL, c->tid, 0) < 0)
			return c->gone = 1, -ESRCH;
	}
}

/* Run system call nr(a) in the tracee. Returns its result (-errno), or
 * -ESRCH with c->gone set if the tracee died. */
long tsys(struct call *c, long nr, long a0, long a1, long a2, long a3,
	  long a4, long a5)
{
	long a[6] = {a0, a1, a2, a3, a4, a5};
	struct user_regs_struct r = c->orig;
	sf_pt_set_args(&r, a);
	sf_pt_set_nr(&r, nr);
	if (c->at == AT_SECCOMP) {
		/* rewrite the stopped call in place */
		if (setregs(c->tid, &r) < 0)
			return c->gone = 1, -ESRCH;
		if (to_syscall_stop(c) < 0) /* its exit */
			return -ESRCH;
		/* gVisor stops at the syscall entry after a seccomp stop (Linux
		 * before 4.8 did too); none of the calls we run gives ENOSYS. */
		if (getregs(c->tid, &c->cur) < 0)
			return c->gone = 1, -ESRCH;
		if (sf_pt_result(&c->cur) == -ENOSYS && to_syscall_stop(c) < 0)
			return -ESRCH;
	} else {
		/* rerun the syscall instruction */
		sf_pt_set_pc(&r, sf_pt_pc(&c->orig) - SF_SYSCALL_INSN_LEN);
		sf_pt_set_result(&r, nr);
		if (setregs(c->tid, &r) < 0)
			return c->gone = 1, -ESRCH;
		if (to_syscall_stop(c) < 0 || /* entry */
		    to_syscall_stop(c) < 0)   /* exit */
			return -ESRCH;
	}
	c->at = AT_EXIT;
	if (getregs(c->tid, &c->cur) < 0)
		return c->gone = 1, -ESRCH;
	return sf_pt_result(&c->cur);
}

/* Scratch memory in the tracee: below the red zone of its stack. */
uintptr_t scratch(const struct call *c, size_t len)
{
	return (sf_pt_sp(&c->orig) - SF_RED_ZONE - len - 64) & ~(uintptr_t)15;
}

static int tgid_of(pid_t tid)
{
	char path[48], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/status", (int)tid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return tid;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return tid;
	buf[n] = 0;
	char *t = strstr(buf, "\nTgid:");
	return t ? (int)strtol(t + 6, NULL, 10) : tid;
}

/* Re-queue signals that arrived while we ran calls in the tracee: sent by
 * the tracee to itself, any si_code is allowed, so they arrive as they
 * were (thread-directed). */
static void requeue(struct call *c)
{
	for (int i = 0; i < c->npend && !c->gone; i++) {
		uintptr_t s = scratch(c, sizeof(siginfo_t));
		if (mem_rw(c->tid, s, &c->pend[i], sizeof c->pend[i], 1) < 0)
			continue;
		tsys(c, SF_NR_rt_tgsigqueueinfo, tgid_of(c->tid), c->tid,
		     c->pend[i].si_signo, (long)s, 0, 0);
	}
	c->npend = 0;
}

/* Finish: the program sees result; resume it. */
void finish(struct call *c, long result)
{
	if (c->gone)
		return;
	requeue(c);
	if (c->gone)
		return;
	struct user_regs_struct r = c->orig;
	if (c->at == AT_SECCOMP)
		sf_pt_set_nr(&r, -1); /* skip the call */
	sf_pt_set_result(&r, result);
	setregs(c->tid, &r);
	resume(PTRACE_CONT, c->tid, 0);
}

/* Finish by letting the kernel run nr(a) as the program's call, in the
 * tracee, with its credentials; its result is the program's. No stop
 * follows: the call may block (waitid) while we serve the others. */
static void finish_with(struct call *c, long nr, long a0, long a1, long a2,
			long a3, long a4)
{
	if (c->gone)
		return;
	requeue(c);
	if (c->gone)
		return;
	long a[6] = {a0, a1, a2, a3, a4, 0};
	trace_reissue(c, nr, a);
	resume(PTRACE_CONT, c->tid, 0);
}

int trace_reissue(struct call *c, long nr, const long a[6])
{
	struct user_regs_struct r = c->orig;
	sf_pt_set_args(&r, a);
	sf_pt_set_nr(&r, nr);
	if (c->at != AT_SECCOMP) {
		/* back to the syscall instruction, with nr to run */
		sf_pt_set_pc(&r, sf_pt_pc(&c->orig) - SF_SYSCALL_INSN_LEN);
		sf_pt_set_result(&r, nr);
	}
	return setregs(c->tid, &r);
}

/* ---- resolving a tracee's fd ------------------------------------------ */

/* The emulated pidfd behind the tracee's fd, NULL if it is none. If it is
 * a /proc/<pid> directory and procdir is non-NULL, *procdir gets the pid
 * (0 otherwise). */
static struct watch *resolve_fd(pid_t tid, long fd, pid_t *procdir)
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

static int emulating;
static int gvisor_wait_quirk; /* stop/continue reports need fixing */

/* Number of entries of the NSpid line of /proc/PID/status (the depth of
 * its pid namespace), 0 if there is none (gVisor). */
long trace_read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, len - 1);
	int e = errno;
	close(fd);
	if (n < 0)
		return -e;
	buf[n] = 0;
	return n;
}

static int nspid_depth(const char *pid)
{
	char path[64], buf[2048];
	snprintf(path, sizeof path, "/proc/%s/status", pid);
	if (trace_read_file(path, buf, sizeof buf) <= 0)
		return 0;
	char *l = strstr(buf, "\nNSpid:");
	if (!l)
		return 0;
	int d = 0;
	for (l += 7; *l && *l != '\n'; l++)
		if (*l == '\t')
			d++;
	return d;
}

/* /proc as the tracee sees it: ours, unless it is in a deeper pid
 * namespace (then its root's /proc, which it mounted). */
static void proc_view(pid_t tid, char *buf, size_t len)
{
	static int mine = -1;
	if (mine < 0)
		mine = nspid_depth("self");
	char t[16];
	snprintf(t, sizeof t, "%d", (int)tid);
	if (mine && nspid_depth(t) > mine)
		snprintf(buf, len, "/proc/%d/root/proc", (int)tid);
	else
		snprintf(buf, len, "/proc");
}

/* The traced process (our pid) that is pid in a deeper namespace and
 * started at start, or 0: the last entry of its NSpid line is pid. */
static pid_t traced_by_nspid(pid_t pid, uint64_t start)
{
	for (int i = 0; i < TASK_SLOTS; i++) {
		pid_t tid = tasks[i].tid;
		if (tid <= 0)
			continue;
		char path[64], buf[2048];
		snprintf(path, sizeof path, "/proc/%d/stat", (int)tid);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		uint64_t st = 0;
		int ok = read_stat_fd(fd, NULL, NULL, &st) == 0 && st == start;
		close(fd);
		if (!ok)
			continue;
		snprintf(path, sizeof path, "/proc/%d/status", (int)tid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = 0;
		char *t = strstr(buf, "\nTgid:"), *ns = strstr(buf, "\nNSpid:");
		if (!t || !ns || strtol(t + 6, NULL, 10) != tid)
			continue;
		char *e = strchr(ns + 1, '\n');
		if (e)
			*e = 0;
		char *last = strrchr(ns, '\t');
		if (last && strtol(last + 1, NULL, 10) == pid)
			return tid;
	}
	return 0;
}

long trace_pidfd_new(struct call *c, pid_t pid, unsigned flags)
{
	char view[64], path[128], buf[2048];
	proc_view(c->tid, view, sizeof view);
	snprintf(path, sizeof path, "%s/%d/status", view, (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ESRCH;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH;
	buf[n] = 0;
	char *t = strstr(buf, "\nTgid:");
	if (t && strtol(t + 6, NULL, 10) != pid) {
		/* A thread, not a process; one that has exited is gone (its
		 * ptrace exit report may still wait for us). */
		char *sl = strstr(buf, "\nState:");
		if (sl && (strchr("ZX", sl[8 + strspn(sl + 8, " \t")])))
			return -ESRCH;
		return -ENOENT;
	}
	snprintf(path, sizeof path, "%s/%d/stat", view, (int)pid);
	int sfd = open(path, O_RDONLY | O_CLOEXEC);
	uint64_t start = 0;
	char state = 0;
	if (sfd < 0 || read_stat_fd(sfd, &state, NULL, &start) < 0 ||
	    state == 'X') {
		if (sfd >= 0)
			close(sfd);
		return -ESRCH;
	}
	/* Our number for it: the same, unless the tracee is in a deeper pid
	 * namespace (then a tracee of ours, if it is one, or unknown). */
	pid_t gpid = strcmp(view, "/proc") ? traced_by_nspid(pid, start) : pid;
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
		w->gpid = gpid ? gpid : -1;
		w->starttime = start;
		w->nonblock = !!(flags & PIDFD_NONBLOCK);
		w->traced = gpid && task_find(gpid) != NULL;
		w->statfd = -1;
		if (!w->traced) {
			w->statfd = sfd;
			sfd = -1;
		}
		if (state == 'Z')
			watch_fire(w);
	}
	if (sfd >= 0)
		close(sfd);
	tsys(c, SF_NR_close, pfd[1], 0, 0, 0, 0, 0);
	return res;
}

static void do_pidfd_open(struct call *c)
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

/* Read the siginfo at uinfo and check it as pidfd_send_signal does.
 * Returns 0 or -errno. */
static long check_info(struct call *c, uintptr_t uinfo, int sig, pid_t pid,
		       unsigned flags, siginfo_t *info)
{
	if (mem_rw(c->tid, uinfo, info, sizeof *info, 0) < 0)
		return -EFAULT;
	if (info->si_signo != sig)
		return -EINVAL;
	/* Only to yourself may you send any si_code. */
	if ((c->tid != pid || flags == PIDFD_SIGNAL_PROCESS_GROUP) &&
	    (info->si_code >= 0 || info->si_code == SI_TKILL))
		return -EPERM;
	return 0;
}

static void do_send_signal(struct call *c)
{
	int sig = (int)c->a[1];
	uintptr_t uinfo = (uintptr_t)c->a[2];
	unsigned flags = (unsigned)c->a[3];
	const unsigned known = PIDFD_SIGNAL_THREAD | PIDFD_SIGNAL_THREAD_GROUP |
			       PIDFD_SIGNAL_PROCESS_GROUP;
	if ((flags & ~known) || (flags & (flags - 1)))
		return finish(c, -EINVAL);
	pid_t procpid;
	struct watch *w = resolve_fd(c->tid, c->a[0], &procpid);
	if (!w && procpid == 0)
		return finish(c, -EBADF);
	pid_t pid = w ? w->pid : procpid;
	int reaped = w ? watch_reaped(w) : procpid < 0;
	siginfo_t info;
	if (uinfo) {
		long r = check_info(c, uinfo, sig, pid, flags, &info);
		if (r < 0)
			return finish(c, r);
	}
	if (reaped)
		return finish(c, -ESRCH);
	tlog(3, "[%d] pidfd_send_signal(%ld -> pid %d, %d, %#lx, %#x)",
	     (int)c->tid, c->a[0], (int)pid, sig, (unsigned long)uinfo, flags);
	switch (flags) {
	case PIDFD_SIGNAL_THREAD:
		if (uinfo)
			return finish_with(c, SF_NR_rt_tgsigqueueinfo, pid, pid,
					   sig, (long)uinfo, 0);
		return finish_with(c, SF_NR_tgkill, pid, pid, sig, 0, 0);
	case PIDFD_SIGNAL_PROCESS_GROUP: {
		if (uinfo)
			return finish(c, -EPERM);
		char path[80];
		pid_t pgrp = 0;
		snprintf(path, sizeof path, "/proc/%d/stat", (int)(w ? w->gpid : pid));
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || read_stat_fd(fd, NULL, &pgrp, NULL) < 0 || pgrp <= 0) {
			if (fd >= 0)
				close(fd);
			return finish(c, -ESRCH);
		}
		close(fd);
		return finish_with(c, SF_NR_kill, -pgrp, sig, 0, 0, 0);
	}
	default:
		if (uinfo)
			return finish_with(c, SF_NR_rt_sigqueueinfo, pid, sig,
					   (long)uinfo, 0, 0);
		return finish_with(c, SF_NR_kill, pid, sig, 0, 0, 0);
	}
}

static void do_waitid(struct call *c)
{
	long fd = (int)c->a[1];
	uintptr_t infop = (uintptr_t)c->a[2];
	int options = (int)c->a[3];
	const int known = WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED |
			  __WNOTHREAD | __WCLONE | __WALL;
	if ((options & ~known) || !(options & (WEXITED | WSTOPPED | WCONTINUED)))
		return finish(c, -EINVAL);
	if (fd < 0)
		return finish(c, -EINVAL);
	struct watch *w = resolve_fd(c->tid, fd, NULL);
	if (!w)
		return finish(c, -EBADF);
	if (watch_reaped(w))
		return finish(c, -ECHILD);
	tlog(3, "[%d] waitid(P_PIDFD, %ld -> pid %d, %#x)", (int)c->tid, fd,
	     (int)w->pid, options);
	int eagain = w->nonblock && !(options & WNOHANG);
	int stopq = gvisor_wait_quirk && (options & (WSTOPPED | WCONTINUED));
	if (!eagain && !stopq)
		return finish_with(c, SF_NR_waitid, P_PID, w->pid, (long)infop,
				   options, c->a[4]);
	/* PIDFD_NONBLOCK: WNOHANG, and EAGAIN when nothing was there. */
	int opts = options | (eagain ? WNOHANG : 0);
	uintptr_t si = infop ? infop : scratch(c, sizeof(siginfo_t));
	siginfo_t got;
	memset(&got, 0, sizeof got);
	long r;
	if (stopq && !(opts & WNOHANG)) {
		/* Blocking: the peek runs as the program's own call (other
		 * tracees must be served meanwhile); fixed up at its exit. */
		struct task *t = task_find(c->tid);
		if (t) {
			requeue(c);
			if (c->gone)
				return;
			t->fix = 1;
			t->fix_entry_seen = 0;
			t->fix_pid = w->pid;
			t->fix_options = options;
			t->fix_si = si;
			t->fix_orig = c->orig;
			long a[6] = {P_PID, w->pid, (long)si, opts | WNOWAIT, 0, 0};
			struct user_regs_struct r = c->orig;
			sf_pt_set_args(&r, a);
			sf_pt_set_nr(&r, SF_NR_waitid);
			if (c->at != AT_SECCOMP) {
				sf_pt_set_pc(&r, sf_pt_pc(&c->orig) -
							 SF_SYSCALL_INSN_LEN);
				sf_pt_set_result(&r, SF_NR_waitid);
			}
			setregs(c->tid, &r);
			resume(PTRACE_SYSCALL, c->tid, 0);
			return;
		}
		opts |= WNOHANG; /* cannot defer: do not block us */
	}
	if (stopq) {
		/* gVisor (2022) reports a stop as CLD_KILLED and a continue as
		 * CLD_DUMPED, both with status 127, which no real signal has;
		 * wait4 reads them right (as shim/pidfd.c does). Peek first. */
		r = tsys(c, SF_NR_waitid, P_PID, w->pid, (long)si,
			 opts | WNOWAIT, 0, 0);
		if (r == 0 && mem_rw(c->tid, si, &got, sizeof got, 0) == 0 &&
		    got.si_pid == w->pid && got.si_status == 127 &&
		    (got.si_code == CLD_KILLED || got.si_code == CLD_DUMPED)) {
			int code = got.si_code == CLD_KILLED ? CLD_STOPPED
							     : CLD_CONTINUED;
			int status = code == CLD_STOPPED ? SIGSTOP : SIGCONT;
			if (!(options & WNOWAIT)) {
				uintptr_t ws = scratch(c, 8);
				int wst = 0;
				long k = tsys(c, SF_NR_wait4, w->pid, (long)ws,
					      WNOHANG | WUNTRACED | WCONTINUED |
						      (options & __WALL),
					      c->a[4], 0, 0);
				if (k == w->pid &&
				    mem_rw(c->tid, ws, &wst, sizeof wst, 0) == 0 &&
				    WIFSTOPPED(wst))
					status = WSTOPSIG(wst);
			}
			if (mem_rw(c->tid, si + offsetof(siginfo_t, si_code),
				   &code, sizeof code, 1) < 0 ||
			    mem_rw(c->tid, si + offsetof(siginfo_t, si_status),
				   &status, sizeof status, 1) < 0)
				r = -EFAULT;
			return finish(c, r);
		}
		if (r < 0 || (options & WNOWAIT)) {
			if (r == 0 && eagain && got.si_pid == 0)
				r = -EAGAIN;
			return finish(c, r);
		}
	}
	r = tsys(c, SF_NR_waitid, P_PID, w->pid, (long)si, opts, c->a[4], 0);
	if (r == 0 && eagain && mem_rw(c->tid, si, &got, sizeof got, 0) == 0 &&
	    got.si_pid == 0)
		r = -EAGAIN;
	finish(c, r);
}

/* The exit stop of a deferred waitid peek (see do_waitid). */
static void waitid_fixup(pid_t tid, struct task *t)
{
	struct call c;
	memset(&c, 0, sizeof c);
	c.tid = tid;
	c.at = AT_EXIT;
	c.orig = t->fix_orig;
	if (getregs(tid, &c.cur) < 0)
		return;
	long r = sf_pt_result(&c.cur);
	if (sf_pt_nr(&c.cur) != SF_NR_waitid || sf_pt_arg(&c.cur, 0) != P_PID ||
	    sf_pt_arg(&c.cur, 1) != t->fix_pid ||
	    (uintptr_t)sf_pt_arg(&c.cur, 2) != t->fix_si) {
		/* a call of a signal handler that ran first: not ours */
		resume(PTRACE_SYSCALL, tid, 0);
		return;
	}
	if (!t->fix_entry_seen && r == -ENOSYS) {
		/* gVisor: this is the entry stop */
		t->fix_entry_seen = 1;
		resume(PTRACE_SYSCALL, tid, 0);
		return;
	}
	t->fix = 0;
	if (r <= -512 && r >= -516) {
		/* Interrupted by a signal (SIGCHLD reaches a traced process
		 * even when ignored): put the program's own call back, so that
		 * the kernel's restart runs it, and it stops here again. */
		struct user_regs_struct back = t->fix_orig;
		sf_pt_set_result(&back, r);
		setregs(tid, &back);
		resume(PTRACE_CONT, tid, 0);
		return;
	}
	pid_t pid = t->fix_pid;
	int options = t->fix_options;
	uintptr_t si = t->fix_si;
	siginfo_t got;
	memset(&got, 0, sizeof got);
	if (r == 0 && mem_rw(tid, si, &got, sizeof got, 0) == 0 &&
	    got.si_pid == pid && got.si_status == 127 &&
	    (got.si_code == CLD_KILLED || got.si_code == CLD_DUMPED)) {
		int code = got.si_code == CLD_KILLED ? CLD_STOPPED : CLD_CONTINUED;
		int status = code == CLD_STOPPED ? SIGSTOP : SIGCONT;
		if (!(options & WNOWAIT)) {
			uintptr_t ws = scratch(&c, 8);
			int wst = 0;
			long k = tsys(&c, SF_NR_wait4, pid, (long)ws,
				      WNOHANG | WUNTRACED | WCONTINUED |
					      (options & __WALL),
				      sf_pt_arg(&c.orig, 4), 0, 0);
			if (k == pid && mem_rw(tid, ws, &wst, sizeof wst, 0) == 0 &&
			    WIFSTOPPED(wst))
				status = WSTOPSIG(wst);
		}
		if (mem_rw(tid, si + offsetof(siginfo_t, si_code), &code,
			   sizeof code, 1) < 0 ||
		    mem_rw(tid, si + offsetof(siginfo_t, si_status), &status,
			   sizeof status, 1) < 0)
			r = -EFAULT;
		return finish(&c, r);
	}
	if (r == 0 && !(options & WNOWAIT))
		r = tsys(&c, SF_NR_waitid, P_PID, pid, (long)si,
			 options | WNOHANG, sf_pt_arg(&c.orig, 4), 0);
	finish(&c, r);
}

static void do_getfd(struct call *c)
{
	int targetfd = (int)c->a[1];
	unsigned flags = (unsigned)c->a[2];
	if (flags)
		return finish(c, -EINVAL);
	struct watch *w = resolve_fd(c->tid, c->a[0], NULL);
	if (!w)
		return finish(c, -EBADF);
	if (watch_reaped(w))
		return finish(c, -ESRCH);
	/* The file's access mode, from fdinfo; then the tracee reopens it
	 * through /proc/PID/fd/N itself (its own permission check). */
	char path[96], buf[256];
	snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", (int)w->gpid, targetfd);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		tlog(3, "[%d] pidfd_getfd: %s: %s", (int)c->tid, path, strerror(e));
		if (e == ENOENT) {
			char state = 0;
			int gone = w->exited || watch_reaped(w);
			if (!gone && w->statfd >= 0 &&
			    read_stat_fd(w->statfd, &state, NULL, NULL) == 0 &&
			    (state == 'Z' || state == 'X'))
				gone = 1;
			return finish(c, gone ? -ESRCH : -EBADF);
		}
		return finish(c, e == EACCES ? -EPERM : -e);
	}
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return finish(c, -EBADF);
	buf[n] = 0;
	int acc = O_RDONLY;
	char *f = strstr(buf, "flags:");
	if (f) {
		long v = strtol(f + 6, NULL, 8);
		acc = (int)(v & O_ACCMODE);
	}
	/* A FIFO opened by path waits for the other end: open it
	 * non-blocking, then clear the flag. */
	struct stat st;
	snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)w->gpid, targetfd);
	int fifo = stat(path, &st) == 0 && S_ISFIFO(st.st_mode);
	int len = snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)w->pid,
			   targetfd);
	uintptr_t s = scratch(c, (size_t)len + 1);
	if (mem_rw(c->tid, s, path, (size_t)len + 1, 1) < 0)
		return finish(c, -EFAULT);
	long r = tsys(c, SF_NR_openat, AT_FDCWD, (long)s,
		      acc | O_CLOEXEC | (fifo ? O_NONBLOCK : 0), 0, 0, 0);
	if (r >= 0 && fifo)
		tsys(c, SF_NR_fcntl, r, F_SETFL, 0, 0, 0, 0);
	if (r == -ENOENT)
		r = -EBADF;
	else if (r == -EACCES)
		r = -EPERM;
	tlog(3, "[%d] pidfd_getfd(pid %d, %d) = %ld", (int)c->tid, (int)w->pid,
	     targetfd, r);
	finish(c, r);
}

static const char *prog_name = "program";

static void do_ptrace(struct call *c)
{
	struct task *t = task_find(c->tid);
	if (!t || !t->ptrace_warned) {
		fprintf(stderr, "sysfill: %s (pid %d) called ptrace(%ld, ...): "
			"not possible under sysfill run --mode=trace (a process "
			"has one tracer, and sysfill is it); it gets EPERM\n",
			prog_name, (int)c->tid, c->a[0]);
		if (t)
			t->ptrace_warned = 1;
	}
	finish(c, -EPERM);
}

static int clone_pidfd_ignored;

static void serve(struct call *c)
{
	switch (c->nr) {
	case SF_NR_pidfd_open:
		return do_pidfd_open(c);
	case SF_NR_pidfd_send_signal:
		return do_send_signal(c);
	case SF_NR_pidfd_getfd:
		return do_getfd(c);
	case SF_NR_waitid:
		if ((int)c->a[0] == P_PIDFD)
			return do_waitid(c);
		return finish_with(c, SF_NR_waitid, c->a[0], c->a[1], c->a[2],
				   c->a[3], c->a[4]);
	case SF_NR_ptrace:
		return do_ptrace(c);
	case SF_NR_clone:
		/* --kernel < 5.2: CLONE_PIDFD ignored, the slot untouched */
		if (clone_pidfd_ignored)
			return finish_with(c, SF_NR_clone,
					   c->a[0] & ~(long)CLONE_PIDFD, c->a[1],
					   c->a[2], c->a[3], c->a[4]);
		return trace_clone(c);
	case SF_NR_clone3:
		return trace_clone(c);
	}
	finish(c, -ENOSYS);
}

void call_init(struct call *c, pid_t tid, enum at at)
{
	c->tid = tid;
	c->at = at;
	c->gone = 0;
	c->npend = 0;
}

/* A seccomp stop of one of our rules. */
static void on_seccomp(pid_t tid)
{
	struct call c;
	call_init(&c, tid, AT_SECCOMP);
	if (getregs(tid, &c.orig) < 0)
		return;
	c.nr = sf_pt_nr(&c.orig);
	for (int i = 0; i < 6; i++)
		c.a[i] = sf_pt_arg(&c.orig, i);
	serve(&c);
}

/* ---- the other calls an inherited libsysfill.so filter traps ----------
 * libsysfill.so also traps rt_sigprocmask and rt_sigaction(SIGSYS) (so
 * that its own process never really blocks SIGSYS), clone3 and
 * clone(CLONE_PIDFD). A program without the library gets them as the
 * kernel would give them, run here with ptrace's own access to its mask. */
#define SIGBIT(sig) (1ULL << ((sig) - 1))

/* SIGSYS is never really blocked (a trap of the filter raised while it is
 * blocked would be forced through, or, in gVisor, lost): the program sees
 * the bit it asked for, kept per thread. */
static void inherited_sigmask(struct call *c)
{
	int how = (int)c->a[0];
	uintptr_t set = (uintptr_t)c->a[1], oset = (uintptr_t)c->a[2];
	uint64_t real, old, s, now;
	struct task *t = task_find(c->tid);
	if ((size_t)c->a[3] != 8)
		return finish(c, -EINVAL);
	if (ptrace(PTRACE_GETSIGMASK, c->tid, (void *)8, &real) < 0)
		return finish(c, -EINVAL);
	old = real | (t && t->sigsys_blocked ? SIGBIT(SIGSYS) : 0);
	if (set) {
		if (mem_rw(c->tid, set, &s, 8, 0) < 0)
			return finish(c, -EFAULT);
		s &= ~(SIGBIT(SIGKILL) | SIGBIT(SIGSTOP));
		switch (how) {
		case SIG_BLOCK:
			now = old | s;
			break;
		case SIG_UNBLOCK:
			now = old & ~s;
			break;
		case SIG_SETMASK:
			now = s;
			break;
		default:
			return finish(c, -EINVAL);
		}
		if (t)
			t->sigsys_blocked = !!(now & SIGBIT(SIGSYS));
		now &= ~SIGBIT(SIGSYS);
		if (ptrace(PTRACE_SETSIGMASK, c->tid, (void *)8, &now) < 0)
			return finish(c, -EINVAL);
	}
	if (oset && mem_rw(c->tid, oset, &old, 8, 1) < 0)
		return finish(c, -EFAULT);
	finish(c, 0);
}

/* rt_sigaction(SIGSYS): recorded per process, not installed (a handler
 * of the program's would also receive the inherited filter's traps).
 * Limit: a SIGSYS that is not the filter's (kill(), another filter) then
 * meets the default action. */
static struct {
	pid_t tgid;
	struct k_sigaction ka;
} sigsys_rec[64];

static void inherited_sigaction_sigsys(struct call *c)
{
	if ((int)c->a[0] != SIGSYS || (size_t)c->a[3] != 8)
		return finish(c, (int)c->a[0] != SIGSYS ? -ENOSYS : -EINVAL);
	pid_t tgid = tgid_of(c->tid);
	int slot = -1, freeslot = -1;
	for (int i = 0; i < 64; i++) {
		if (sigsys_rec[i].tgid == tgid)
			slot = i;
		else if (freeslot < 0 && (!sigsys_rec[i].tgid ||
					  kill(sigsys_rec[i].tgid, 0) < 0))
			freeslot = i;
	}
	struct k_sigaction old = {0}, act;
	if (slot >= 0)
		old = sigsys_rec[slot].ka;
	if (c->a[1]) {
		if (mem_rw(c->tid, (uintptr_t)c->a[1], &act, sizeof act, 0) < 0)
			return finish(c, -EFAULT);
		act.mask &= ~(SIGBIT(SIGKILL) | SIGBIT(SIGSTOP));
		if (slot < 0)
			slot = freeslot >= 0 ? freeslot : 0;
		sigsys_rec[slot].tgid = tgid;
		sigsys_rec[slot].ka = act;
	}
	if (c->a[2] &&
	    mem_rw(c->tid, (uintptr_t)c->a[2], &old, sizeof old, 1) < 0)
		return finish(c, -EFAULT);
	finish(c, 0);
}

/* A SIGSYS from libsysfill.so's inherited filter, about to be delivered
 * to a process without the library (a static binary exec'd from an
 * emulating process). Returns 1 if served (signal suppressed). */
static int on_preload_trap(pid_t tid, const siginfo_t *si)
{
	if (si->si_code != SYS_SECCOMP || si->si_errno != PRELOAD_TRAP_TAG ||
	    si->si_arch != SF_AUDIT_ARCH)
		return 0;
	struct call c;
	call_init(&c, tid, AT_SIGNAL);
	if (getregs(tid, &c.orig) < 0)
		return 0;
	c.nr = si->si_syscall;
	for (int i = 0; i < 6; i++)
		c.a[i] = sf_pt_arg(&c.orig, i);
	tlog(3, "[%d] SIGSYS of the inherited libsysfill.so filter for call %ld: "
	     "served here", (int)tid, c.nr);
	switch (c.nr) {
	case SF_NR_pidfd_open:
	case SF_NR_pidfd_send_signal:
	case SF_NR_pidfd_getfd:
	case SF_NR_waitid:
		break;
	case SF_NR_rt_sigprocmask:
		inherited_sigmask(&c);
		return 1;
	case SF_NR_rt_sigaction:
		inherited_sigaction_sigsys(&c);
		return 1;
	case SF_NR_clone3:
	case SF_NR_clone: /* with CLONE_PIDFD: the filter traps no other */
		trace_clone(&c);
		return 1;
	default:
		return 0;
	}
	/* Served even where the kernel has the calls: the inherited filter
	 * would trap them again if they ran as they are. */
	serve(&c);
	return 1;
}

/* ---- the main loop ----------------------------------------------------- */

static pid_t main_pid;
static int main_status = -1;
static volatile sig_atomic_t tick_due;

static void on_forward(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	/* Terminal signals reach the program's process group by themselves. */
	if (si && si->si_code == SI_KERNEL)
		return;
	if (main_pid > 0)
		kill(main_pid, sig);
}

static void on_tick(int sig)
{
	(void)sig;
	tick_due = 1;
}

void task_exited(pid_t tid, int status)
{
	trace_clone_gone(tid);
	task_del(tid);
	watches_exit(tid);
	if (tid == main_pid)
		main_status = status;
}

static void set_ticker(int on)
{
	static int is_on;
	if (on == is_on)
		return;
	struct itimerval it = {{0, on ? 100000 : 0}, {0, on ? 100000 : 0}};
	setitimer(ITIMER_REAL, &it, NULL);
	is_on = on;
}

static void loop(void)
{
	for (;;) {
		if (tick_due) {
			tick_due = 0;
			watches_tick();
		}
		set_ticker(nused > 0);
		int st;
		pid_t tid = wait_any(-1, &st);
		if (tid < 0) {
			if (errno == EINTR)
				continue;
			return; /* ECHILD: every tracee is gone */
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			task_exited(tid, st);
			continue;
		}
		if (!WIFSTOPPED(st))
			continue;
		int fresh = !task_find(tid);
		task_add(tid);
		int sig = WSTOPSIG(st), ev = st >> 16;
		unsigned long msg = 0;
		switch (ev) {
		case PTRACE_EVENT_SECCOMP:
			on_seccomp(tid);
			continue;
		case PTRACE_EVENT_FORK:
		case PTRACE_EVENT_VFORK:
		case PTRACE_EVENT_CLONE:
			if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg) == 0) {
				/* the child's mask is its parent's: the
				 * virtual SIGSYS bit too */
				struct task *pt = task_find(tid),
					    *ct = task_add((pid_t)msg);
				if (pt && ct)
					ct->sigsys_blocked = pt->sigsys_blocked;
				if (trace_clone_event(tid, (pid_t)msg))
					continue;
			}
			resume(PTRACE_CONT, tid, 0);
			continue;
		case PTRACE_EVENT_EXEC:
			if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg) == 0 &&
			    (pid_t)msg != tid)
				task_del((pid_t)msg); /* a thread that vanished */
			resume(PTRACE_CONT, tid, 0);
			continue;
		case PTRACE_EVENT_EXIT:
		case PTRACE_EVENT_VFORK_DONE:
			resume(PTRACE_CONT, tid, 0);
			continue;
		case PTRACE_EVENT_STOP:
			if (trace_clone_first_stop(tid, fresh))
				continue;
			if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN ||
			    sig == SIGTTOU)
				ptrace(PTRACE_LISTEN, tid, 0, 0); /* group-stop */
			else
				resume(PTRACE_CONT, tid, 0);
			continue;
		case 0:
			break;
		default:
			resume(PTRACE_CONT, tid, 0);
			continue;
		}
		if (sig == SYSGOOD_TRAP) {
			if (trace_clone_exit(tid))
				continue;
			struct task *t = task_find(tid);
			if (t && t->fix) {
				waitid_fixup(tid, t);
				continue;
			}
			/* a stray syscall stop (an injection aborted): go on */
			resume(PTRACE_CONT, tid, 0);
			continue;
		}
		/* signal-delivery stop */
		if (sig == SIGSYS) {
			siginfo_t si;
			if (ptrace(PTRACE_GETSIGINFO, tid, 0, &si) == 0 &&
			    on_preload_trap(tid, &si))
				continue;
		}
		/* a deferred waitid must still stop at its exit */
		struct task *t = task_find(tid);
		if (trace_ignored_eintr(tid, sig))
			continue;
		resume(t && t->fix ? PTRACE_SYSCALL : PTRACE_CONT, tid,
		       (long)sig);
	}
}

/* ---- setup ------------------------------------------------------------- */

static int add_trace(scmp_filter_ctx ctx, const char *name, int tag, int ncmp,
		     const struct scmp_arg_cmp *cmp)
{
	long nr = sysnr(name);
	if (nr < 0)
		return 0;
	return seccomp_rule_add_array(ctx, SCMP_ACT_TRACE((unsigned)tag),
				      (int)nr, (unsigned)ncmp, cmp);
}

/* clone3_enosys: answer clone3 with ENOSYS (emulating, or a profile
 * answers EPERM, which breaks glibc's pthread_create; ENOSYS makes it fall
 * back to clone, and this filter, loaded last, wins over the profile's). */
static int build_trace_filter(int emulate, int clone3_enosys,
			      int ignore_clone_pidfd, scmp_filter_ctx *out)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return -ENOMEM;
	/* 32-bit programs: not emulated, never killed. */
	int r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW);
	if (!r)
		r = add_trace(ctx, "ptrace", TR_PTRACE, 0, NULL);
	/* clone(CLONE_PIDFD): the flag ignored (--kernel < 5.2), or
	 * emulated (clone.c) */
	if (!r && (ignore_clone_pidfd || emulate)) {
		struct scmp_arg_cmp f = {
			.arg = 0, .op = SCMP_CMP_MASKED_EQ,
			.datum_a = CLONE_PIDFD, .datum_b = CLONE_PIDFD,
		};
		r = add_trace(ctx, "clone", TR_CLONE_PIDFD, 1, &f);
	}
	if (!r && emulate) {
		struct scmp_arg_cmp pidfd = {
			.arg = 0, .op = SCMP_CMP_MASKED_EQ,
			.datum_a = 0xffffffffu, .datum_b = P_PIDFD,
		};
		r = add_trace(ctx, "pidfd_open", TR_PIDFD_OPEN, 0, NULL);
		if (!r)
			r = add_trace(ctx, "pidfd_send_signal", TR_SEND_SIGNAL, 0,
				      NULL);
		if (!r)
			r = add_trace(ctx, "pidfd_getfd", TR_GETFD, 0, NULL);
		if (!r)
			r = add_trace(ctx, "waitid", TR_WAITID, 1, &pidfd);
	}
	/* clone3: emulated (clone.c), so that no kernel pidfd comes out of
	 * it; ENOSYS as 5.2 where asked (--kernel < 5.3, or over a profile's
	 * EPERM, which an ERRNO rule of ours can override and a TRACE rule
	 * cannot: glibc then falls back to clone). */
	long nr = sysnr("clone3");
	if (!r && nr >= 0 && clone3_enosys)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), (int)nr, 0);
	else if (!r && emulate)
		r = add_trace(ctx, "clone3", TR_CLONE3, 0, NULL);
	if (r) {
		seccomp_release(ctx);
		return r;
	}
	*out = ctx;
	return 0;
}

/* Does this kernel lack a pidfd call (so that trace mode emulates)? */
static int kernel_lacks_pidfd(void)
{
	long r = syscall(SF_NR_pidfd_open, getpid(), 0);
	if (r >= 0)
		close((int)r);
	else if (errno == ENOSYS || errno == EPERM)
		return 1;
	if (syscall(SF_NR_pidfd_send_signal, -1, 0, 0, 0) < 0 &&
	    (errno == ENOSYS || errno == EPERM))
		return 1;
	if (syscall(SF_NR_pidfd_getfd, -1, 0, 0) < 0 &&
	    (errno == ENOSYS || errno == EPERM))
		return 1;
	if (!(syscall(SF_NR_waitid, P_PIDFD, INT_MAX, 0, WEXITED, 0) < 0 &&
	      errno == EBADF))
		return 1;
	return 0;
}

static void child_fail(const char *prog, int e)
{
	char buf[512];
	int n = snprintf(buf, sizeof buf, "sysfill: %s: %s\n", prog, strerror(e));
	if (write(2, buf, (size_t)n) < 0) {
	}
	_exit(e == ENOENT || e == ENOTDIR ? EXIT_SF_NOTFOUND : EXIT_SF_NOEXEC);
}

int trace_emulates(unsigned kv)
{
	return env_bool("SYSFILL_FORCE", 0) ||
	       (kv && kversion_triggers_emulation(kv)) || kernel_lacks_pidfd();
}

int trace_run(const char *path, char **argv, void *kctx, int quiet,
	      int force_emulate, int clone3_enosys, int no_emulate,
	      int ignore_clone_pidfd)
{
	log_level = env_log_level();
	handoff = env_bool("SYSFILL_TRACE_HANDOFF", handoff);
	follow_cpu = env_bool("SYSFILL_TRACE_FOLLOW", follow_cpu);
	spin_ns = env_ulong("SYSFILL_TRACE_SPIN_US", spin_ns / 1000) * 1000;
	prog_name = argv[0];
	clone_pidfd_ignored = ignore_clone_pidfd;
	int forced = env_bool("SYSFILL_FORCE", 0);
	emulating = !no_emulate &&
		    (forced || force_emulate || kernel_lacks_pidfd());
	/* clone3 refused by a seccomp profile around us: its ERRNO rule
	 * wins over our TRACE one, and ENOSYS from ours over its EPERM */
	errno = 0;
	if (emulating && syscall(SF_NR_clone3, 0, 0) < 0 && errno == EPERM)
		clone3_enosys = 1;
	/* gVisor says 4.4.0; its waitid misreports stops and continues. */
	struct utsname u;
	gvisor_wait_quirk = uname(&u) == 0 && !strcmp(u.release, "4.4.0");
	tlog(2, "trace mode: %s%s", emulating ? "emulating pidfd_open, "
	     "pidfd_send_signal, pidfd_getfd, waitid(P_PIDFD), "
	     "clone(CLONE_PIDFD), clone3 (-> ENOSYS where refused)"
	     : "kernel has the pidfd calls: nothing emulated",
	     forced ? " (SYSFILL_FORCE)" : "");

	scmp_filter_ctx tctx = NULL;
	int r = build_trace_filter(emulating, clone3_enosys, ignore_clone_pidfd,
				   &tctx);
	if (r < 0) {
		fprintf(stderr, "sysfill run: cannot build the seccomp filter: "
			"%s\n", strerror(-r));
		return EXIT_SF_FAIL;
	}
	/* SYSFILL_TRACE_CPU=same: the supervisor and the program share one
	 * CPU, so that no stop costs a cross-CPU wake-up (12-15 us per
	 * emulated call here instead of 40-100 us when the scheduler spreads
	 * them). The program sees a one-CPU affinity mask: for single-threaded
	 * programs that make many emulated calls. */
	const char *cpu = getenv("SYSFILL_TRACE_CPU");
	if (cpu && !strcmp(cpu, "same")) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(sched_getcpu(), &set);
		if (sched_setaffinity(0, sizeof set, &set) < 0)
			tlog(1, "SYSFILL_TRACE_CPU=same: sched_setaffinity: %s",
			     strerror(errno));
	}
	int go[2];
	if (pipe2(go, O_CLOEXEC) < 0) {
		fprintf(stderr, "sysfill run: pipe: %s\n", strerror(errno));
		return EXIT_SF_FAIL;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "sysfill run: fork: %s\n", strerror(errno));
		return EXIT_SF_FAIL;
	}
	if (pid == 0) {
		close(go[1]);
		char ch;
		if (read(go[0], &ch, 1) != 1)
			_exit(EXIT_SF_FAIL); /* the supervisor failed */
		close(go[0]);
		int nnp;
		if (kctx && kfilter_load(kctx, &nnp) < 0)
			_exit(EXIT_SF_FAIL);
		if (kfilter_load(tctx, &nnp) < 0) {
			static const char m[] = "sysfill run: cannot load the "
						"seccomp filter\n";
			if (write(2, m, sizeof m - 1) < 0) {
			}
			_exit(EXIT_SF_FAIL);
		}
		/* raw: if libsysfill.so is loaded here (a static program
		 * rerouted to us by it), its execve wrapper must not see this */
		syscall(SF_NR_execve, path, argv, environ);
		int e = errno;
		if (e == ENOEXEC) {
			int n = 0;
			while (argv[n])
				n++;
			char **sh = calloc((size_t)n + 2, sizeof *sh);
			if (sh) {
				sh[0] = "/bin/sh";
				sh[1] = (char *)path;
				for (int i = 1; i <= n; i++)
					sh[i + 1] = argv[i];
				syscall(SF_NR_execve, "/bin/sh", sh, environ);
				e = errno;
			}
		}
		child_fail(argv[0], e);
	}
	close(go[0]);
	if (kctx)
		kfilter_release(kctx);
	seccomp_release(tctx);
	main_pid = pid;
	long opts = PTRACE_O_TRACESECCOMP | PTRACE_O_TRACESYSGOOD |
		    PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
		    PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC |
		    PTRACE_O_EXITKILL;
	if (ptrace(PTRACE_SEIZE, pid, 0, opts) < 0) {
		int e = errno;
		fprintf(stderr, "sysfill run: cannot trace %s: PTRACE_SEIZE: %s%s\n",
			argv[0], strerror(e), e == EPERM ? " (is sysfill itself "
			"traced, or ptrace forbidden here?)" : "");
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return EXIT_SF_FAIL;
	}
	task_add(pid);
	(void)quiet;

	/* Our own signals: pass the usual ones on to the program. */
	struct sigaction sa = {0};
	sa.sa_sigaction = on_forward;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	int fwd[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2,
		     SIGWINCH};
	for (size_t i = 0; i < sizeof fwd / sizeof fwd[0]; i++)
		sigaction(fwd[i], &sa, NULL);
	struct sigaction tk = {0};
	tk.sa_handler = on_tick; /* no SA_RESTART: waitpid returns EINTR */
	sigaction(SIGALRM, &tk, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (write(go[1], "g", 1) != 1) {
		kill(pid, SIGKILL);
		return EXIT_SF_FAIL;
	}
	close(go[1]);

	loop();

	set_ticker(0);
	int st = main_status;
	if (st < 0)
		return EXIT_SF_FAIL;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	/* Die by the program's signal, without a core file of our own. */
	int sig = WTERMSIG(st);
	struct rlimit no = {0, 0};
	setrlimit(RLIMIT_CORE, &no);
	signal(sig, SIG_DFL);
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	sigprocmask(SIG_UNBLOCK, &s, NULL);
	raise(sig);
	return 128 + sig;
}
