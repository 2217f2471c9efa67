/* Trace mode: the traced tasks, their memory and registers, and calls
 * made in a stopped tracee (injection), each finished with a result or
 * left to the tracee as its own call. */
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
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "trace.h"
#include "env.h"

/* ---- traced tasks ---------------------------------------------------- */

struct task tasks[TASK_SLOTS];
int ntasks;

struct task *task_find(pid_t tid)
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

struct task *task_add(pid_t tid)
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
void task_del(pid_t tid)
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

/* ---- cost counters ---------------------------------------------------- */

int trace_stats;
static struct {
	long nr, calls, stops, injected;
} stats[16]; /* the calls served (trace.c's filter), and "other" last */
#define STAT_OTHER ((int)(sizeof stats / sizeof stats[0]) - 1)

static int stat_slot(long nr)
{
	for (int i = 0; i < STAT_OTHER; i++)
		if (stats[i].calls && stats[i].nr == nr)
			return i;
	for (int i = 0; i < STAT_OTHER; i++)
		if (!stats[i].calls) {
			stats[i].nr = nr;
			return i;
		}
	return STAT_OTHER;
}

void stat_call(pid_t tid, long nr)
{
	if (!trace_stats)
		return;
	int i = stat_slot(nr);
	stats[i].calls++;
	stats[i].stops++;
	struct task *t = task_find(tid);
	if (t)
		t->stat_slot = i + 1;
}

/* The counters TID's stops and injections go to. */
static int stat_of(pid_t tid)
{
	struct task *t = task_find(tid);
	return t && t->stat_slot ? t->stat_slot - 1 : STAT_OTHER;
}

void stat_stop(pid_t tid)
{
	if (trace_stats)
		stats[stat_of(tid)].stops++;
}

static const char *call_name(long nr)
{
	switch (nr) {
	case SF_NR_pidfd_open:
		return "pidfd_open";
	case SF_NR_pidfd_send_signal:
		return "pidfd_send_signal";
	case SF_NR_pidfd_getfd:
		return "pidfd_getfd";
	case SF_NR_waitid:
		return "waitid";
	case SF_NR_ioctl:
		return "ioctl";
	case SF_NR_clone:
		return "clone";
	case SF_NR_clone3:
		return "clone3";
	case SF_NR_rt_sigaction:
		return "rt_sigaction";
	case SF_NR_rt_sigprocmask:
		return "rt_sigprocmask";
	case SF_NR_ptrace:
		return "ptrace";
	}
	return NULL;
}

void stat_report(void)
{
	if (!trace_stats)
		return;
	for (int i = 0; i <= STAT_OTHER; i++) {
		if (!stats[i].calls && !stats[i].stops)
			continue;
		const char *name = i == STAT_OTHER ? "other" : call_name(stats[i].nr);
		char nr[24], buf[160];
		if (!name) {
			snprintf(nr, sizeof nr, "%ld", stats[i].nr);
			name = nr;
		}
		int n = snprintf(buf, sizeof buf, "sysfill: stats: %s calls=%ld "
				 "stops=%ld injected=%ld\n", name, stats[i].calls,
				 stats[i].stops, stats[i].injected);
		if (write(env_log_fd(), buf, (size_t)n) < 0) {
		}
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
int handoff;
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

/* Does a signal sent to a task in a ptrace stop stay unnoticed once the
 * task is resumed? gVisor's: it is queued, but a stopped task is not
 * interrupted for it (pkg/sentry/kernel/task_signals.go,
 * canReceiveSignalLocked: "Do not choose stopped tasks"), and a resumed
 * task looks at its queue only when next interrupted, which a task
 * blocked in read() never is: the signal is as good as lost
 * (tests/tools/gvisor-exec-stop-signal.c: 10 of 10 stuck; Linux 0). Told
 * by gVisor's uname release, 4.4.0 (a real 4.4 kernel would only pay one
 * more stop per exec). */
static int signals_stick(void)
{
	static int stick = -1;
	if (stick < 0) {
		struct utsname u;
		stick = uname(&u) == 0 && !strcmp(u.release, "4.4.0");
	}
	return stick;
}

void resume_noticing(pid_t tid)
{
	resume(PTRACE_CONT, tid, 0);
	/* running now: an interrupt makes it look at its queue (after a
	 * PTRACE_EVENT_STOP, resumed as any other) */
	if (signals_stick())
		ptrace(PTRACE_INTERRUPT, tid, 0, 0);
}

/* TID reported its PTRACE_EVENT_EXEC stop: TID is the thread that
 * exec'd, in its new image (under the leader's tid: any other thread, the
 * old leader too, is gone, with whatever we had in flight for it). */
void exec_event(pid_t tid)
{
	unsigned long msg = 0;
	if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg) == 0 && (pid_t)msg != tid)
		task_del((pid_t)msg); /* a thread that vanished */
	trace_clone_gone(tid);
	struct task *t = task_find(tid);
	if (t) {
		t->fix = 0; /* a deferred waitid of the old leader */
		/* a new address space: no trampoline page */
		t->tramp = 0, t->notramp = 0, t->tramp_sealed = 0;
	}
	sigsys_exec(tid);
	/* its vfork parent runs again already, and may signal it (python's
	 * Popen + kill) */
	resume_noticing(tid);
}

/* Wait briefly by polling, then block. A tracee usually stops again
 * within microseconds (the syscall we injected, or the program's next
 * emulated call), and a blocked supervisor costs a wake-up, 60-70 us when
 * it comes from the other CPU (DESIGN.md). SYSFILL_TRACE_SPIN_US (default
 * 10) bounds the polling; the yield lets the tracee run when it shares
 * our CPU. */
long spin_ns = 10000;
static long mono_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000L + t.tv_nsec;
}
/* After a blocking wait: if the tracee stopped on another CPU, move there
 * (SYSFILL_TRACE_FOLLOW=1; off by default: measured here, the woken
 * tracee then tends to move to the CPU we left, and we chase it). */
int follow_cpu;
static void move_to_cpu_of(pid_t tid)
{
	char path[48], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)tid);
	if (proc_read(path, buf, sizeof buf) <= 0)
		return;
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

pid_t wait_any(pid_t tid, int *st)
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
		stat_stop(c->tid);
		int sig = WSTOPSIG(st), ev = st >> 16;
		if (sig == SYSGOOD_TRAP)
			return 0;
		if (ev == PTRACE_EVENT_EXEC) {
			/* Another thread exec'd: the task we were serving was
			 * killed, and its tid (the leader's) names the new
			 * image (gVisor; client execrace). Nothing of the call
			 * may touch that one. */
			tlog(2, "[%d] exec by another thread during an emulated "
			     "call: the call is gone with its thread", (int)c->tid);
			exec_event(c->tid);
			return c->gone = 1, -ESRCH;
		}
		if (ev == 0 && c->npend < NPEND &&
		    ptrace(PTRACE_GETSIGINFO, c->tid, 0, &c->pend[c->npend]) == 0) {
			const siginfo_t *si = &c->pend[c->npend];
			/* An inherited libsysfill.so filter trapped the call we
			 * injected (its pidfd_open): no program code runs
			 * during an injection, so the trap is ours. The call
			 * gives ENOSYS, as a kernel without it; the signal
			 * must not reach the program. Told as the library
			 * tells its traps (sf_our_trap). */
			struct user_regs_struct r;
			if (!(sig == SIGSYS && getregs(c->tid, &r) == 0 &&
			      sf_our_trap(si, sf_pt_pc(&r), sf_pt_result(&r),
					  PRELOAD_TRAP_TAG, NULL)))
				c->npend++;
		}
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
	if (trace_stats)
		stats[stat_of(c->tid)].injected++;
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
		if (sf_pt_result(&c->cur) == -ENOSYS &&
		    (to_syscall_stop(c) < 0 || getregs(c->tid, &c->cur) < 0))
			return c->gone = 1, -ESRCH;
	} else {
		/* rerun the syscall instruction */
		sf_pt_set_pc(&r, sf_pt_pc(&c->orig) - SF_SYSCALL_INSN_LEN);
		sf_pt_set_result(&r, nr);
		if (setregs(c->tid, &r) < 0)
			return c->gone = 1, -ESRCH;
		if (to_syscall_stop(c) < 0 || /* entry */
		    to_syscall_stop(c) < 0 || /* exit */
		    getregs(c->tid, &c->cur) < 0)
			return c->gone = 1, -ESRCH;
	}
	c->at = AT_EXIT;
	return sf_pt_result(&c->cur);
}

/* Scratch memory in the tracee: below the red zone of its stack. */
uintptr_t scratch(const struct call *c, size_t len)
{
	return (sf_pt_sp(&c->orig) - SF_RED_ZONE - len - 64) & ~(uintptr_t)15;
}

int tgid_of(pid_t tid)
{
	char path[48], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/status", (int)tid);
	if (proc_read(path, buf, sizeof buf) <= 0)
		return tid;
	char *t = strstr(buf, "\nTgid:");
	return t ? (int)strtol(t + 6, NULL, 10) : tid;
}

/* Re-queue signals that arrived while we ran calls in the tracee: sent by
 * the tracee to itself, any si_code is allowed, so they arrive as they
 * were (thread-directed). */
void requeue(struct call *c)
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
/* How many arguments NR takes, of the calls made by finish_with. */
int sys_arity(long nr)
{
	switch (nr) {
	case SF_NR_kill:
		return 2;
	case SF_NR_tgkill:
	case SF_NR_rt_sigqueueinfo:
	case SF_NR_ioctl:
		return 3;
	case SF_NR_rt_tgsigqueueinfo:
	case SF_NR_rt_sigaction:
		return 4;
	case SF_NR_waitid:
	case SF_NR_clone:
		return 5;
	}
	return 6;
}

int trace_reissue(struct call *c, long nr, const long args[6])
{
	/* The registers past NR's arguments keep the program's values: the
	 * kernel preserves them, and programs rely on it (glibc's sigaction
	 * keeps oact in r8 across the call). */
	long a[6];
	for (int i = 0; i < 6; i++)
		a[i] = i < sys_arity(nr) ? args[i] : sf_pt_arg(&c->orig, i);
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

void leave_to_tracee(struct call *c, int req, long nr, const long args[6])
{
	trace_reissue(c, nr, args);
	resume(req, c->tid, 0);
}

void finish_with(struct call *c, long nr, long a0, long a1, long a2,
		 long a3, long a4)
{
	if (c->gone)
		return;
	requeue(c);
	if (c->gone)
		return;
	const long a[6] = {a0, a1, a2, a3, a4, 0};
	leave_to_tracee(c, PTRACE_CONT, nr, a);
}
