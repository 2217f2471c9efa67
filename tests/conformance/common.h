/* Shared helpers for the conformance scenarios: raw pidfd calls, errno and
 * si_code names, children that report the signals they received. Output is
 * one observable per line, never a raw pid or fd number, so a native run and
 * an emulated run can be compared line by line. */
#ifndef CONFORMANCE_COMMON_H
#define CONFORMANCE_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sysfill/uapi.h>

#define NR_pidfd_send_signal 424
#define NR_pidfd_open 434
#define NR_pidfd_getfd 438
#define NR_waitid 247

static __attribute__((unused)) inline long sys_pidfd_open(long pid, unsigned long flags)
{
	return syscall(NR_pidfd_open, pid, flags);
}
static __attribute__((unused)) inline long sys_pidfd_send_signal(long fd, long sig, void *info, unsigned long flags)
{
	return syscall(NR_pidfd_send_signal, fd, sig, info, flags);
}
static __attribute__((unused)) inline long sys_pidfd_getfd(long pidfd, long fd, unsigned long flags)
{
	return syscall(NR_pidfd_getfd, pidfd, fd, flags);
}
static __attribute__((unused)) inline long sys_waitid(long which, long id, void *info, long options)
{
	return syscall(NR_waitid, which, id, info, options, NULL);
}

/* PIDFD_GET_INFO of any size, and struct pidfd_info up to
 * PIDFD_INFO_SIZE_VER3 (include/uapi/linux/pidfd.h, 6.18) */
#define INFO(sz) _IOC(_IOC_READ | _IOC_WRITE, 0xFF, 11, sz)
struct info {
	uint64_t mask, cgroupid;
	uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid,
		fsgid;
	int32_t exit_code;
	uint32_t coredump_mask, coredump_signal;
	uint64_t spare;
};

static __attribute__((unused)) const char *errname(int e)
{
	switch (e) {
#define E(x) case x: return #x;
	E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG)
	E(ENOEXEC) E(EBADF) E(ECHILD) E(EAGAIN) E(ENOMEM) E(EACCES)
	E(EFAULT) E(EBUSY) E(EEXIST) E(EXDEV) E(ENODEV) E(ENOTDIR)
	E(EISDIR) E(EINVAL) E(ENFILE) E(EMFILE) E(ENOTTY) E(ESPIPE)
	E(EROFS) E(EPIPE) E(ERANGE) E(ENOSYS) E(ENOTSUP) E(EOVERFLOW)
	E(EPROTONOSUPPORT) E(ETIMEDOUT) E(EREMOTE)
#undef E
	}
	static char buf[32];
	snprintf(buf, sizeof buf, "E#%d", e);
	return buf;
}

static __attribute__((unused)) const char *signame(int s)
{
	switch (s) {
#define S(x) case x: return #x;
	S(SIGHUP) S(SIGINT) S(SIGQUIT) S(SIGILL) S(SIGTRAP) S(SIGABRT)
	S(SIGBUS) S(SIGFPE) S(SIGKILL) S(SIGUSR1) S(SIGSEGV) S(SIGUSR2)
	S(SIGPIPE) S(SIGALRM) S(SIGTERM) S(SIGCHLD) S(SIGCONT) S(SIGSTOP)
	S(SIGTSTP) S(SIGSYS)
#undef S
	case 0: return "0";
	}
	static char buf[32];
	snprintf(buf, sizeof buf, "SIG#%d", s);
	return buf;
}

/* si_code name; for SIGCHLD the CLD_* names. */
static __attribute__((unused)) const char *codename(int signo, int code)
{
	if (signo == SIGCHLD && code > 0) {
		switch (code) {
		case CLD_EXITED: return "CLD_EXITED";
		case CLD_KILLED: return "CLD_KILLED";
		case CLD_DUMPED: return "CLD_DUMPED";
		case CLD_TRAPPED: return "CLD_TRAPPED";
		case CLD_STOPPED: return "CLD_STOPPED";
		case CLD_CONTINUED: return "CLD_CONTINUED";
		}
	}
	switch (code) {
	case SI_USER: return "SI_USER";
	case SI_QUEUE: return "SI_QUEUE";
	case SI_TKILL: return "SI_TKILL";
	case SI_KERNEL: return "SI_KERNEL";
	case SI_TIMER: return "SI_TIMER";
	case SI_MESGQ: return "SI_MESGQ";
	case SI_ASYNCIO: return "SI_ASYNCIO";
	}
	static char buf[32];
	snprintf(buf, sizeof buf, "code#%d", code);
	return buf;
}

/* How a wait status ended: "exited N", "killed by SIGNAME". */
static __attribute__((unused)) const char *status_text(int st)
{
	static char buf[64];
	if (WIFEXITED(st))
		snprintf(buf, sizeof buf, "exited %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, sizeof buf, "killed by %s", signame(WTERMSIG(st)));
	else
		snprintf(buf, sizeof buf, "status 0x%x", st);
	return buf;
}

/* Every child we fork is tracked so that the scenario never leaves a
 * process behind, whatever failed (see scenario_init). */
static pid_t tracked[64];
static int ntracked;

static __attribute__((unused)) pid_t track(pid_t p)
{
	if (p > 0 && ntracked < 64)
		tracked[ntracked++] = p;
	return p;
}

static __attribute__((unused)) void out(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* "= fd" for a new fd, "= N" otherwise, "= -1 ENAME" on error. */
static __attribute__((unused)) void res(const char *step, const char *call, long r, int is_fd)
{
	if (r < 0)
		out("%s: %s = -1 %s", step, call, errname(errno));
	else if (is_fd)
		out("%s: %s = fd", step, call);
	else
		out("%s: %s = %ld", step, call, r);
}

static __attribute__((unused)) void die(const char *what)
{
	out("FATAL: %s: %s", what, errname(errno));
	exit(2);
}

/* A scenario's first line: pidfd_open of itself (in gVisor without the
 * library: ENOSYS, which suite-conformance.sh looks for). */
static __attribute__((unused)) void probe_pidfd_open(void)
{
	long fd = sys_pidfd_open(getpid(), 0);
	res("probe", "pidfd_open", fd, 1);
	if (fd >= 0)
		close((int)fd);
}

static __attribute__((unused)) const char *pollname(int ev)
{
	static char buf[128];
	if (!ev)
		return "0";
	buf[0] = 0;
	static const struct { int bit; const char *n; } t[] = {
		{ POLLIN, "POLLIN" }, { POLLPRI, "POLLPRI" }, { POLLOUT, "POLLOUT" },
		{ POLLRDNORM, "POLLRDNORM" }, { POLLRDBAND, "POLLRDBAND" },
		{ POLLWRNORM, "POLLWRNORM" }, { POLLWRBAND, "POLLWRBAND" },
		{ POLLERR, "POLLERR" }, { POLLHUP, "POLLHUP" }, { POLLNVAL, "POLLNVAL" },
		{ POLLRDHUP, "POLLRDHUP" },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		if (ev & t[i].bit) {
			if (buf[0])
				strcat(buf, "|");
			strcat(buf, t[i].n);
			ev &= ~t[i].bit;
		}
	}
	if (ev)
		sprintf(buf + strlen(buf), "%s0x%x", buf[0] ? "|" : "", ev);
	return buf;
}

/* poll one fd; prints "revents = ..." or the poll error. A negative fd
 * (the call that should have made it failed) is not polled, so a run where
 * the calls are missing does not wait for the timeout. */
static __attribute__((unused)) void poll_report(const char *step, int fd, short events, int timeout_ms)
{
	if (fd < 0) {
		out("%s: no pidfd", step);
		return;
	}
	struct pollfd p = { .fd = fd, .events = events };
	int r = poll(&p, 1, timeout_ms);
	if (r < 0)
		out("%s: poll = -1 %s", step, errname(errno));
	else
		out("%s: poll = %d revents = %s", step, r, pollname(p.revents));
}

/* Wait (up to the scenario's alarm) until child pid is a zombie, without
 * reaping it. */
static __attribute__((unused)) void wait_zombie(pid_t pid)
{
	siginfo_t si;
	memset(&si, 0, sizeof si);
	if (waitid(P_PID, pid, &si, WEXITED | WNOWAIT) < 0)
		die("waitid(P_PID, WNOWAIT)");
}

static __attribute__((unused)) void reap(pid_t pid)
{
	siginfo_t si;
	if (waitid(P_PID, pid, &si, WEXITED) < 0)
		die("waitid(P_PID) reap");
}

/* A child that blocks SIGUSR1/SIGUSR2/SIGTERM, then for every command byte
 * on its command pipe:
 *   'c' - take a pending signal (no waiting: pidfd_send_signal queues before
 *         it returns) and write a one-line report to the report pipe;
 *   'x' - _exit(0) (any other byte: _exit(byte)).
 * Reports name the signal, si_code, whether si_pid is the parent / the value
 * the sender put in its siginfo, and si_value. */
struct kid {
	pid_t pid;
	int cmd;   /* write end */
	int rep;   /* read end */
};

#define GIVEN_PID 4242
#define GIVEN_VALUE 77

static __attribute__((unused)) void kid_loop(int cmd, int rep, pid_t parent)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGTERM);
	for (;;) {
		char c;
		ssize_t n = read(cmd, &c, 1);
		if (n <= 0)
			_exit(0);
		if (c == 'x')
			_exit(0);
		if (c != 'c')
			_exit((unsigned char)c);
		char buf[200];
		siginfo_t si;
		struct timespec zero = { 0, 0 };
		int s = sigtimedwait(&set, &si, &zero);
		if (s < 0) {
			snprintf(buf, sizeof buf, "got nothing\n");
		} else {
			const char *who = si.si_pid == parent ? "parent"
				: si.si_pid == getpid() ? "self"
				: si.si_pid == GIVEN_PID ? "given" : "other";
			int v = si.si_code == SI_QUEUE ? si.si_value.sival_int : -1;
			const char *code = codename(s, si.si_code);
			int more = sigtimedwait(&set, &si, &zero) >= 0;
			snprintf(buf, sizeof buf, "got %s si_code=%s si_pid=%s si_value=%d%s\n",
				 signame(s), code, who, v,
				 more ? " (and more)" : "");
		}
		if (write(rep, buf, strlen(buf)) < 0)
			_exit(3);
	}
}

static __attribute__((unused)) struct kid kid_start(void)
{
	int c[2], r[2];
	struct kid k;
	if (pipe2(c, O_CLOEXEC) || pipe2(r, O_CLOEXEC))
		die("pipe2");
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, &old);
	pid_t parent = getpid();
	fflush(stdout);
	k.pid = track(fork());
	if (k.pid < 0)
		die("fork");
	if (k.pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		close(c[1]);
		close(r[0]);
		kid_loop(c[0], r[1], parent);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(c[0]);
	close(r[1]);
	k.cmd = c[1];
	k.rep = r[0];
	return k;
}

/* Ask the kid what it received; print "<step>: <report>". */
static __attribute__((unused)) void kid_check(const char *step, struct kid *k)
{
	char buf[256];
	if (write(k->cmd, "c", 1) != 1) {
		out("%s: kid gone", step);
		return;
	}
	size_t len = 0;
	while (len < sizeof buf - 1) {
		ssize_t n = read(k->rep, buf + len, 1);
		if (n <= 0)
			break;
		if (buf[len] == '\n')
			break;
		len++;
	}
	buf[len] = 0;
	out("%s: child %s", step, len ? buf : "(no report)");
}

/* Tell the kid to exit with code; wait until it is a zombie (not reaped). */
static __attribute__((unused)) void kid_exit(struct kid *k, int code)
{
	char c = code ? (char)code : 'x';
	if (write(k->cmd, &c, 1) != 1)
		die("kid_exit write");
	wait_zombie(k->pid);
}

static __attribute__((unused)) void kid_close(struct kid *k)
{
	close(k->cmd);
	close(k->rep);
}

/* A child that sleeps until killed (SIGKILL on our death). */
static __attribute__((unused)) pid_t spawn_pause(void)
{
	fflush(stdout);
	pid_t p = track(fork());
	if (p < 0)
		die("fork");
	if (p == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	return p;
}

/* A child that exits at once with code. */
static __attribute__((unused)) pid_t spawn_exit(int code)
{
	fflush(stdout);
	pid_t p = track(fork());
	if (p < 0)
		die("fork");
	if (p == 0)
		_exit(code);
	return p;
}

static __attribute__((unused)) long read_long(const char *path)
{
	FILE *f = fopen(path, "re");
	long v = 0;
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

/* A pid nobody uses, OFF past the last one handed out in our pid
 * namespace, counted as the kernel hands them out: after pid_max - 1 it
 * wraps to 300 (RESERVED_PIDS, kernel/pid.c). Near the wrap, last + OFF
 * unwrapped would be past pid_max (EINVAL for set_tid), not a free pid.
 * 0 if none of 100 is free. */
static __attribute__((unused)) pid_t free_pid(int off)
{
	long last = read_long("/proc/sys/kernel/ns_last_pid");
	long max = read_long("/proc/sys/kernel/pid_max");
	for (long i = off; i < off + 100; i++) {
		long p = last + i;
		if (max > 400 && p >= max)
			p = 300 + (p - max);
		if (kill((pid_t)p, 0) < 0 && errno == ESRCH)
			return (pid_t)p;
	}
	return 0;
}

/* A child that exits with code after ms milliseconds. */
static __attribute__((unused)) pid_t spawn_exit_later(int code, int ms)
{
	fflush(stdout);
	pid_t p = track(fork());
	if (p < 0)
		die("fork");
	if (p == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		usleep((useconds_t)ms * 1000);
		_exit(code);
	}
	return p;
}

/* A non-child: a helper child forks a grandchild that sleeps; the helper
 * reports the grandchild's pid and sleeps too, so the grandchild keeps a
 * parent that is not us. stop_grandchild() kills both and reaps the helper. */
struct gc {
	pid_t helper, pid;
};

static __attribute__((unused)) struct gc spawn_grandchild(void)
{
	int p[2];
	struct gc g;
	if (pipe2(p, O_CLOEXEC))
		die("pipe2");
	fflush(stdout);
	g.helper = track(fork());
	if (g.helper < 0)
		die("fork");
	if (g.helper == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		pid_t gp = fork();
		if (gp == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;)
				pause();
		}
		if (write(p[1], &gp, sizeof gp) != sizeof gp)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (read(p[0], &g.pid, sizeof g.pid) != sizeof g.pid)
		die("read grandchild pid");
	close(p[0]);
	track(g.pid);
	return g;
}

static __attribute__((unused)) void stop_grandchild(struct gc *g)
{
	kill(g->pid, SIGKILL);
	kill(g->helper, SIGKILL);
	reap(g->helper);
	/* the grandchild was handed to us (subreaper): reap it */
	waitpid(g->pid, NULL, 0);
}

/* Print a waitid result: return value or errno, then the siginfo fields. */
static __attribute__((unused)) void waitid_report(const char *step, long r, siginfo_t *si, pid_t child)
{
	if (r < 0) {
		out("%s: waitid = -1 %s", step, errname(errno));
		return;
	}
	const char *who = si->si_pid == 0 ? "0" : si->si_pid == child ? "child" : "other";
	int st = si->si_status;
	const char *sts;
	char buf[32];
	if (si->si_code == CLD_EXITED || si->si_pid == 0) {
		snprintf(buf, sizeof buf, "%d", st);
		sts = buf;
	} else {
		sts = signame(st);
	}
	out("%s: waitid = %ld si_signo=%s si_code=%s si_status=%s si_pid=%s si_uid=%s",
	    step, r, signame(si->si_signo),
	    si->si_pid == 0 && si->si_code == 0 ? "0" : codename(si->si_signo, si->si_code),
	    sts, who, si->si_pid == 0 ? (si->si_uid == 0 ? "0" : "nonzero") :
	    si->si_uid == getuid() ? "self" : "other");
}

/* Kill and reap the tracked children that are still ours (alive or
 * zombie: an unreaped child's pid cannot have been reused), then reap
 * orphans handed to us as subreaper. */
/* Threads: of /proc/self/status, -1 if unknown. */
static __attribute__((unused)) int count_threads(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	int n = -1;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	if (f)
		fclose(f);
	return n;
}

/* ---- setns scenarios (setns, setns-watched) */
#include <sched.h>
#include <sys/stat.h>

/* Is our NAME namespace WHO's? */
static __attribute__((unused)) void same_ns(const char *step, pid_t who, const char *name)
{
	char a[64], b[64];
	struct stat x, y;
	snprintf(a, sizeof a, "/proc/self/ns/%s", name);
	snprintf(b, sizeof b, "/proc/%d/ns/%s", (int)who, name);
	out("%s: %s namespace %s", step, name,
	    !stat(a, &x) && !stat(b, &y) && x.st_ino == y.st_ino && x.st_dev == y.st_dev
		    ? "the child's" : "another");
}

/* Can we make new namespaces and enter them? If not, print the skip. */
static __attribute__((unused)) int setns_usable(void)
{
	if (geteuid() != 0) {
		out("skip: needs root (unshare)");
		return 0;
	}
	int own = open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
	if (own < 0 || setns(own, CLONE_NEWUTS) < 0) {
		out("skip: no setns here (gVisor answers ENOTSUP for every fd)");
		return 0;
	}
	close(own);
	return 1;
}

/* ---- an alternate signal stack, raw calls (sigsys-stack, sigsys-foreign) */
#define ALT_SIZE (128 * 1024)

static char *alt;

static __attribute__((unused)) void altstack_init(void)
{
	alt = mmap(0, ALT_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (alt == MAP_FAILED)
		die("mmap");
}

/* Is P on the alternate stack (the kernel's on_sig_stack())? */
static __attribute__((unused)) int on_alt(const void *p)
{
	uintptr_t a = (uintptr_t)p, lo = (uintptr_t)alt;
	return a > lo && a - lo <= ALT_SIZE;
}

static __attribute__((unused)) void set_altstack(int on)
{
	stack_t ss = {.ss_sp = alt, .ss_size = ALT_SIZE,
		      .ss_flags = on ? 0 : SS_DISABLE};
	if (sigaltstack(&ss, NULL))
		die("sigaltstack");
}

/* A raw call (5th and 6th arguments 0), argument registers counted as
 * clobbered (sysfill's tail calls leave the reissued call's there). */
static __attribute__((unused)) long raw5(long nr, long a, long b, long c, long d)
{
	long r;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = 0;
	register long r9 __asm__("r9") = 0;
	__asm__ volatile("syscall"
			 : "=a"(r), "+D"(a), "+S"(b), "+d"(c), "+r"(r10),
			   "+r"(r8), "+r"(r9)
			 : "a"(nr)
			 : "rcx", "r11", "memory");
	return r;
}

static pid_t scenario_pid;

static void cleanup_children(void)
{
	if (scenario_pid != getpid())
		return; /* a forked child that called exit() */
	for (int i = 0; i < ntracked; i++) {
		siginfo_t si;
		memset(&si, 0, sizeof si);
		if (waitid(P_PID, tracked[i], &si, WEXITED | WNOHANG | WNOWAIT) == 0) {
			kill(tracked[i], SIGKILL);
			waitpid(tracked[i], NULL, 0);
		}
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static void on_alarm(int sig)
{
	static const char msg[] = "FATAL: watchdog: scenario took more than 30 s\n";
	if (write(1, msg, sizeof msg - 1) < 0) { }
	for (int i = 0; i < ntracked; i++)
		kill(tracked[i], SIGKILL);
	_exit(3);
}

/* Start of every scenario: line-buffered output, a watchdog so a broken
 * emulation fails instead of hanging, child subreaper so orphaned
 * grandchildren come back to us and are reaped at exit. */
static __attribute__((unused)) void scenario_init(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGALRM, on_alarm);
	alarm(30);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	scenario_pid = getpid();
	atexit(cleanup_children);
}

/* ---- raw clone3/clone (clone3, clone3-thread) */
/* clone3 (or clone, NR) whose child calls FN(ARG) on whatever stack the
 * kernel gave it and exits (the thread, or the process for a lone
 * thread) with FN's value. Returns the parent's result, -errno. */
static __attribute__((unused)) long raw_clone(long nr, long a0, long a1, long a2, long a3, long a4,
		      int (*fn)(void *), void *arg)
{
	long ret;
	register long r10 __asm__("r10") = a3;
	register long r8 __asm__("r8") = a4;
	register long r12 __asm__("r12") = (long)arg;
	register long r13 __asm__("r13") = (long)fn;
	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "xor %%ebp, %%ebp\n\t"
			 "and $-16, %%rsp\n\t"
			 "mov %%r12, %%rdi\n\t"
			 "call *%%r13\n\t"
			 "mov %%eax, %%edi\n\t"
			 "mov $60, %%eax\n\t"
			 "syscall\n\t"
			 "hlt\n"
			 "1:"
			 : "=a"(ret)
			 : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8),
			   "r"(r12), "r"(r13)
			 : "rcx", "r11", "memory");
	return ret;
}

#endif
