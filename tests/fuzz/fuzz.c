/* fuzz SEED CALLS: a seeded differential fuzzer of every call sysfill
 * catches (pidfd_open, pidfd_send_signal, waitid, pidfd_getfd, clone3,
 * clone(CLONE_PIDFD), rt_sigprocmask, rt_sigaction).
 *
 * Prints one line per call: "N<TAB>call<TAB>args<TAB>result", everything
 * symbolic (fd classes, pointer classes, child#N, errno names, the bytes the
 * kernel wrote into out-parameters, the signals that arrived and from whom),
 * so that two native runs with the same seed print the same transcript and an
 * emulated run (tests/suite-fuzz.sh) can be diffed against it. Lines whose
 * call is "op" or "setup" change the harness' state (children, fds) and are
 * compared too. The last line counts fds, threads and children left over.
 *
 * Children are kept in known states (running, stopped, zombie, reaped) by
 * talking to them over pipes and by asking the kernel (waitid(P_PID, WNOWAIT),
 * /proc/PID/stat) after every call that may change them; a blocking waitid is
 * only made when something will end it (a child told to exit or stop after a
 * delay, or an alarm). Signals only go to processes the fuzzer started or to
 * itself with signals it blocks; SIGKILL, SIGSTOP and SIGSYS never to itself.
 * A helper child kills the fuzzer if it is still running after its deadline;
 * every child has PR_SET_PDEATHSIG(SIGKILL). No library needed: cc -pthread. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NR_waitid 247
#define NR_clone 56
#define NR_rt_sigaction 13
#define NR_rt_sigprocmask 14
#define NR_pidfd_send_signal 424
#define NR_pidfd_open 434
#define NR_clone3 435
#define NR_pidfd_getfd 438
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#define F_PIDFD_NONBLOCK O_NONBLOCK
#define F_PIDFD_THREAD O_EXCL
#define F_CLONE_PIDFD 0x1000ULL
#define F_CLONE_CLEAR_SIGHAND 0x100000000ULL
#define F_CLONE_INTO_CGROUP 0x200000000ULL
#define F_CLONE_NEWTIME 0x80ULL
#define K_WNOWAIT 0x01000000
#define K_SA_RESTORER 0x04000000
#define K_WNOTHREAD 0x20000000
#define K_WALL 0x40000000
#define K_WCLONE 0x80000000U
#define KERNEL_PTR 0xffff800000000000UL
#define PAT 0xa5
#define MAXCH 16384
#define MAXH 160

/* ---- PRNG (splitmix64) ---- */
static uint64_t rs;
static uint64_t rnd(void)
{
	uint64_t z = (rs += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}
static unsigned rn(unsigned n) { return (unsigned)(rnd() % n); }
static int chance(unsigned pct) { return rn(100) < pct; }

/* ---- output: one line at a time, written with write(2) so that forked
 * children never flush a copy of it ---- */
static char lb[16384];
static size_t lp;
static void out(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(lb + lp, sizeof lb - lp, fmt, ap);
	va_end(ap);
	if (n > 0)
		lp += (size_t)n < sizeof lb - lp ? (size_t)n : sizeof lb - lp - 1;
}
static void endline(void)
{
	if (lp < sizeof lb)
		lb[lp++] = '\n';
	size_t o = 0;
	while (o < lp) {
		ssize_t w = write(1, lb + o, lp - o);
		if (w <= 0) {
			if (w < 0 && errno == EINTR)
				continue;
			_exit(3);
		}
		o += (size_t)w;
	}
	lp = 0;
}

static const char *errname(long e)
{
	switch (e) {
#define E(x) case x: return #x;
	E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG)
	E(ENOEXEC) E(EBADF) E(ECHILD) E(EAGAIN) E(ENOMEM) E(EACCES)
	E(EFAULT) E(EBUSY) E(EEXIST) E(EXDEV) E(ENODEV) E(ENOTDIR)
	E(EISDIR) E(EINVAL) E(ENFILE) E(EMFILE) E(ENOTTY) E(ESPIPE)
	E(EROFS) E(EPIPE) E(ERANGE) E(ENOSYS) E(EOPNOTSUPP) E(EOVERFLOW)
	E(EUSERS) E(ENOSPC) E(ETIMEDOUT)
#undef E
	}
	static char b[32];
	snprintf(b, sizeof b, "E#%ld", e);
	return b;
}

/* ---- raw calls: libc's syscall() or an inline syscall instruction ---- */
static long asm_sys6(long n, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
/* clone/clone3 whose child runs nothing but exit(status) (r9), touching
 * neither stack nor TLS: for CLONE_VM, CLONE_VFORK, a given stack or TLS. */
static long asm_clone_exit(long n, long a, long b, long c, long d, long e, long status)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = status;
	long ret;
	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "mov %%r9, %%rdi\n\t"
			 "mov $60, %%eax\n\t"
			 "syscall\n\t"
			 "hlt\n"
			 "1:"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
static int via_asm; /* the current call's path */
static int debug; /* FUZZ_DEBUG=1: each call's line so far on stderr before the call */
static void ph(const char *what, int i)
{
	if (debug) {
		char b[64];
		int n = snprintf(b, sizeof b, "[%s %d]\n", what, i);
		if (write(2, b, n) < 0) {}
	}
}
/* Returns the result or -errno, through the current path. */
static long sys(long n, long a, long b, long c, long d, long e, long f)
{
	if (debug) {
		if (write(2, lb, lp) < 0 || write(2, "...\n", 4) < 0) {}
	}
	if (via_asm)
		return asm_sys6(n, a, b, c, d, e, f);
	long r = syscall(n, a, b, c, d, e, f);
	return r == -1 ? -errno : r;
}
static long raw(long n, long a, long b, long c, long d, long e)
{
	return asm_sys6(n, a, b, c, d, e, 0);
}

/* ---- processes ---- */
enum { ST_RUNNING, ST_STOPPED_EV, ST_STOPPED, ST_CONT_EV, ST_ZOMBIE, ST_REAPED, ST_GONE };
static const char *stname[] = { "running", "stopped*", "stopped", "cont*", "zombie", "reaped", "thread-gone" };
struct child {
	pid_t pid;
	int cmd, rep; /* pipe ends to and from its loop; -1: none */
	int exit_sig; /* SIGCHLD, or another (a "clone child") */
	int pgl; /* leads its own process group */
	int state;
	int code, status; /* last exit report */
	int thread; /* a thread made by a fuzzed clone */
};
static struct child ch[MAXCH];
static int nch;
static pid_t self_pid, thr_tid, nonchild_pid, helper_pid;
static int helper_cmd, thr_cmd, thr_rep, nc_cmd, nc_rep;

static int rd_full(int fd, void *b, size_t n, int ms)
{
	size_t o = 0;
	while (o < n) {
		struct pollfd p = { fd, POLLIN, 0 };
		int r = poll(&p, 1, ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		ssize_t k = read(fd, (char *)b + o, n - o);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		o += (size_t)k;
	}
	return 0;
}

struct rec { int signo, code, err, pid, uid, val; };

/* The loop of every child the fuzzer talks to (raw calls only). */
static void child_loop(int cmd, int rep)
{
	uint64_t all = ~0ULL;
	raw(NR_rt_sigprocmask, SIG_SETMASK, (long)&all, 0, 8, 0);
	for (;;) {
		unsigned char c[2];
		long k = raw(SYS_read, cmd, (long)c, 2, 0, 0);
		if (k == -EINTR)
			continue;
		if (k != 2)
			raw(SYS_exit_group, 111, 0, 0, 0, 0);
		switch (c[0]) {
		case 'p':
			raw(SYS_write, rep, (long)"P", 1, 0, 0);
			break;
		case 'd': {
			for (;;) {
				siginfo_t si;
				struct timespec z = { 0, 0 };
				uint64_t set = ~0ULL;
				long s = raw(SYS_rt_sigtimedwait, (long)&set, (long)&si, (long)&z, 8, 0);
				struct rec r = { 0 };
				if (s > 0) {
					r.signo = si.si_signo;
					r.code = si.si_code;
					r.err = si.si_errno;
					r.pid = si.si_pid;
					r.uid = si.si_uid;
					r.val = si.si_value.sival_int;
				}
				raw(SYS_write, rep, (long)&r, sizeof r, 0, 0);
				if (s <= 0)
					break;
			}
			break;
		}
		case 'x':
			raw(SYS_exit_group, c[1], 0, 0, 0, 0);
			break;
		case 'X': { /* exit after 20 ms */
			struct timespec t = { 0, 20000000 };
			raw(SYS_nanosleep, (long)&t, 0, 0, 0, 0);
			raw(SYS_exit_group, c[1], 0, 0, 0, 0);
			break;
		}
		case 'S': { /* stop itself after 20 ms */
			struct timespec t = { 0, 20000000 };
			raw(SYS_nanosleep, (long)&t, 0, 0, 0, 0);
			raw(SYS_kill, raw(SYS_getpid, 0, 0, 0, 0, 0), SIGSTOP, 0, 0, 0);
			break;
		}
		}
	}
}
/* In a new child: die with the fuzzer, then serve the loop. */
static void child_start(int cmd, int rep)
{
	raw(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	child_loop(cmd, rep);
}

static const char *pidname(long pid)
{
	static char b[4][48];
	static int k;
	char *s = b[k++ & 3];
	if (pid == self_pid)
		return "self";
	if (pid == thr_tid)
		return "thread#1";
	if (pid == nonchild_pid)
		return "nonchild";
	if (pid == helper_pid)
		return "helper";
	for (int i = nch - 1; i >= 0; i--) /* the newest holder of a reused number */
		if (ch[i].pid == pid) {
			snprintf(s, 48, "child#%d", i);
			return s;
		}
	if (pid == 0)
		return "0";
	snprintf(s, 48, "pid?%s", pid < 0 ? "neg" : "");
	return s;
}
static const char *codename(int signo, int code)
{
	static char b[32];
	if (signo == SIGCHLD || code > 0) {
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
	case SI_KERNEL: return "SI_KERNEL";
	case SI_QUEUE: return "SI_QUEUE";
	case SI_TIMER: return "SI_TIMER";
	case SI_MESGQ: return "SI_MESGQ";
	case SI_ASYNCIO: return "SI_ASYNCIO";
	case SI_SIGIO: return "SI_SIGIO";
	case SI_TKILL: return "SI_TKILL";
	}
	snprintf(b, sizeof b, "code%d", code);
	return b;
}
static void out_rec(const char *who, const struct rec *r)
{
	out(" %s<-%d/%s/from=%s/e=%d/u=%d", who, r->signo, codename(r->signo, r->code),
	    pidname(r->pid), r->err, r->uid);
	if (r->code == SI_QUEUE || r->code < -7 || r->code > 6)
		out("/v=%d", r->val);
}

/* Handler-recorded signals (SIGALRM, and any other delivered while a fuzzed
 * mask let it through). */
static volatile int hrec_n;
static struct rec hrec[16];
static void on_sig(int s, siginfo_t *si, void *uc)
{
	if (hrec_n < 16) {
		struct rec r = { s, si->si_code, si->si_errno, si->si_pid, (int)si->si_uid, si->si_value.sival_int };
		hrec[hrec_n++] = r;
	}
}
static uint64_t mainmask; /* all but SIGALRM and SIGSYS (bit s-1: signal s) */

/* Drain the signals pending for the fuzzer, print them as arrivals. */
static void drain_self(void)
{
	for (int i = 0; i < hrec_n; i++)
		out_rec("self(handler)", &hrec[i]);
	hrec_n = 0;
	for (;;) {
		siginfo_t si;
		struct timespec z = { 0, 0 };
		int s = (int)raw(SYS_rt_sigtimedwait, (long)&mainmask, (long)&si, (long)&z, 8, 0);
		if (s <= 0)
			break;
		struct rec r = { s, si.si_code, si.si_errno, si.si_pid, (int)si.si_uid, si.si_value.sival_int };
		out_rec("self", &r);
	}
}
static void drain_peer(const char *who, int cmd, int rep)
{
	ph("drain-peer", cmd);
	unsigned char c[2] = { 'd', 0 };
	if (write(cmd, c, 2) != 2) {
		out(" %s:unreachable", who);
		return;
	}
	for (;;) {
		struct rec r;
		if (rd_full(rep, &r, sizeof r, 3000) < 0) {
			out(" %s:no-answer", who);
			return;
		}
		if (!r.signo)
			return;
		out_rec(who, &r);
	}
}
/* The watchdog of a blocking call: SIGALRM after MS milliseconds (0: off). */
static void alarm_ms(int ms)
{
	struct itimerval t = { { 0, 0 }, { ms / 1000, (ms % 1000) * 1000L } };
	setitimer(ITIMER_REAL, &t, 0);
}
static void sleep_ms(int ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

static char proc_state(pid_t pid)
{
	char p[64], b[512];
	snprintf(p, sizeof p, "/proc/%d/stat", pid);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return '?';
	ssize_t n = read(fd, b, sizeof b - 1);
	close(fd);
	if (n <= 0)
		return '?';
	b[n] = 0;
	char *q = strrchr(b, ')');
	return q && q[1] ? q[2] : '?';
}
/* Stopped: 'T', or 't' for a child of a traced fuzzer (trace mode: it is
 * traced too), whose group stop shows so. 't' is also a passing ptrace
 * stop of a running child: only for a child known to have stopped. */
static int stopped_state(char st, int known) { return st == 'T' || (st == 't' && known); }
static int is_stopped(int i) { return ch[i].state == ST_STOPPED || ch[i].state == ST_STOPPED_EV; }
/* Ask the kernel which state child i is in. */
static void refresh(int i)
{
	struct child *c = &ch[i];
	if (c->state == ST_REAPED || c->state == ST_GONE)
		return;
	if (c->thread) {
		char p[64];
		snprintf(p, sizeof p, "/proc/self/task/%d", c->pid);
		if (access(p, F_OK) < 0)
			c->state = ST_GONE;
		return;
	}
	siginfo_t si;
	memset(&si, 0, sizeof si);
	long r = raw(NR_waitid, P_PID, c->pid, (long)&si,
		     WEXITED | WSTOPPED | WCONTINUED | WNOHANG | K_WNOWAIT | K_WALL, 0);
	if (r == -ECHILD) {
		c->state = ST_REAPED;
		return;
	}
	if (r < 0 || si.si_pid == 0) {
		c->state = stopped_state(proc_state(c->pid), is_stopped(i)) ? ST_STOPPED : ST_RUNNING;
		return;
	}
	/* gVisor reports a stop as CLD_KILLED or CLD_DUMPED with status 127,
	 * which no signal has (shim/pidfd.c): a stop */
	if ((si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED) && si.si_status == 127)
		si.si_code = CLD_STOPPED;
	switch (si.si_code) {
	case CLD_STOPPED: c->state = ST_STOPPED_EV; break;
	case CLD_CONTINUED: c->state = ST_CONT_EV; break;
	default:
		c->state = ST_ZOMBIE;
		c->code = si.si_code;
		c->status = si.si_status;
	}
}
static void refresh_all(void)
{
	for (int i = 0; i < nch; i++)
		refresh(i);
}

/* Block (bounded) until child i reaches a state: 'z' zombie or reaped,
 * 's' stopped (then its SIGCHLD is pending), 'c' continued and running. */
static void sync_child(int i, int what)
{
	ph(what == 'z' ? "sync-z" : what == 's' ? "sync-s" : "sync-c", i);
	struct child *c = &ch[i];
	siginfo_t si;
	if (what == 'z') {
		alarm(5);
		raw(NR_waitid, P_PID, c->pid, (long)&si, WEXITED | K_WNOWAIT | K_WALL, 0);
		alarm(0);
	} else if (what == 's') {
		for (int k = 0; k < 3000 && !stopped_state(proc_state(c->pid), 1) && proc_state(c->pid) != 'Z'; k++)
			sleep_ms(1);
		uint64_t s = 1ULL << (SIGCHLD - 1);
		struct timespec t = { 2, 0 };
		siginfo_t sc;
		int g = (int)raw(SYS_rt_sigtimedwait, (long)&s, (long)&sc, (long)&t, 8, 0);
		if (g == SIGCHLD) {
			struct rec r = { g, sc.si_code, sc.si_errno, sc.si_pid, (int)sc.si_uid, 0 };
			out_rec("self", &r);
		}
	} else if (what == 'c') {
		if (c->cmd >= 0) {
			unsigned char p[2] = { 'p', 0 }, a;
			if (write(c->cmd, p, 2) != 2 || rd_full(c->rep, &a, 1, 3000) < 0)
				out(" child#%d:no-pong", i);
		} else {
			for (int k = 0; k < 3000 && stopped_state(proc_state(c->pid), 1); k++)
				sleep_ms(1);
		}
	}
	refresh(i);
}

/* ---- fd handles ---- */
enum { H_PIDFD_SELF, H_PIDFD_SELF_NB, H_PIDFD_THREAD, H_PIDFD_NONCHILD, H_PIDFD_CHILD,
       H_PROC_SELF, H_PROC_CHILD, H_PROC_NONCHILD, H_PROC_THREAD, H_PIPE_R, H_PIPE_W,
       H_EVENTFD, H_FILE, H_FILE_NOCLOEXEC, H_EPOLL, H_CGROUP, H_CLOSED, H_DEVNULL };
struct handle { int fd, kind, ref, nb; dev_t dev; ino_t ino; };
static struct handle h[MAXH];
static int nh;
static char cgroup_path[512];

static const char *hname(const struct handle *x)
{
	static char b[4][80];
	static int k;
	char *s = b[k++ & 3];
	switch (x->kind) {
	case H_PIDFD_SELF: return "pidfd(self)";
	case H_PIDFD_SELF_NB: return "pidfd(self,nb)";
	case H_PIDFD_THREAD: return "pidfd(thread#1,PIDFD_THREAD)";
	case H_PIDFD_NONCHILD: return "pidfd(nonchild)";
	case H_PIDFD_CHILD:
		snprintf(s, 80, "pidfd(child#%d,%s%s)", x->ref, stname[ch[x->ref].state], x->nb ? ",nb" : "");
		return s;
	case H_PROC_SELF: return "proc_dir(self)";
	case H_PROC_CHILD:
		snprintf(s, 80, "proc_dir(child#%d,%s)", x->ref, stname[ch[x->ref].state]);
		return s;
	case H_PROC_NONCHILD: return "proc_dir(nonchild)";
	case H_PROC_THREAD: return "proc_dir(thread#1)";
	case H_PIPE_R: return "pipe_r";
	case H_PIPE_W: return "pipe_w";
	case H_EVENTFD: return "eventfd";
	case H_FILE: return "file(append)";
	case H_FILE_NOCLOEXEC: return "file(append,nocloexec)";
	case H_EPOLL: return "epoll";
	case H_CGROUP: return "cgroup_dir(self)";
	case H_DEVNULL: return "devnull";
	case H_CLOSED: return "closed";
	}
	return "?";
}
/* A handle; FD < 0 (the open failed) still takes its place in the table,
 * so that a failure under emulation does not shift every later pick. */
static int add_handle(int fd, int kind, int ref, int nb)
{
	if (fd < 0)
		fd = -1;
	for (int i = 0; i < nh && fd >= 0; i++)
		if (h[i].fd == fd) { /* a closed number reused */
			h[i] = h[--nh];
			break;
		}
	if (nh == MAXH) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	struct stat st;
	memset(&st, 0, sizeof st);
	fstat(fd, &st);
	h[nh] = (struct handle){ fd, kind, ref, nb, st.st_dev, st.st_ino };
	return nh++;
}
static void close_handle(int i)
{
	if (h[i].fd >= 0)
		close(h[i].fd);
	h[i].kind = H_CLOSED;
}

/* Lowest free fd number now. */
static int lowest_free(void)
{
	for (int n = 0; n < 65536; n++)
		if (fcntl(n, F_GETFD) < 0 && errno == EBADF)
			return n;
	return -1;
}
/* Describe a returned fd: lowest free number or not, its flags, and which
 * known object it is (same dev+ino), if any. */
static void out_newfd(long fd, int lowest, int ident)
{
	int fl = fcntl(fd, F_GETFL), fdf = fcntl(fd, F_GETFD);
	out("fd(lowest=%s,fl=0x%x,fd=0x%x", fd == lowest ? "yes" : "no", fl, fdf);
	if (ident) {
		struct stat st;
		const char *what = "unknown";
		if (fstat(fd, &st) == 0) {
			for (int i = 0; i < nh; i++)
				if (h[i].kind != H_CLOSED && h[i].dev == st.st_dev && h[i].ino == st.st_ino) {
					what = hname(&h[i]);
					break;
				}
			if (!strcmp(what, "unknown"))
				what = S_ISREG(st.st_mode) ? "reg" : S_ISDIR(st.st_mode) ? "dir" :
				       S_ISFIFO(st.st_mode) ? "fifo" : S_ISCHR(st.st_mode) ? "chr" : "other";
		}
		out(",is=%s", what);
	}
	out(")");
}

/* ---- children ---- */
static int new_child_slot(pid_t pid, int cmd, int rep, int exit_sig, int thread)
{
	if (nch == MAXCH)
		return -1;
	ch[nch] = (struct child){ pid, cmd, rep, exit_sig, 0, ST_RUNNING, 0, 0, thread };
	return nch++;
}
static int pipes[2][2];
static int mk_pipes(void)
{
	if (pipe2(pipes[0], O_CLOEXEC) < 0)
		return -1;
	if (pipe2(pipes[1], O_CLOEXEC) < 0) {
		close(pipes[0][0]);
		close(pipes[0][1]);
		return -1;
	}
	return 0;
}
static void parent_keep(int *cmd, int *rep)
{
	close(pipes[0][0]);
	close(pipes[1][1]);
	*cmd = pipes[0][1];
	*rep = pipes[1][0];
}
static int n_unreaped(void)
{
	int n = 0;
	for (int i = 0; i < nch; i++)
		n += !ch[i].thread && ch[i].state != ST_REAPED;
	return n;
}
static void op_line(const char *what, int i)
{
	out("-\top\t%s child#%d\t%s", what, i, stname[ch[i].state]);
	drain_self();
	endline();
}
static void op_reduce(void)
{
	for (int i = 0; i < nch; i++)
		if (!ch[i].thread && ch[i].state == ST_ZOMBIE) {
			siginfo_t si;
			alarm(5);
			raw(NR_waitid, P_PID, ch[i].pid, (long)&si, WEXITED | K_WALL, 0);
			alarm(0);
			refresh(i);
			op_line("reap", i);
			return;
		}
	for (int i = 0; i < nch; i++)
		if (!ch[i].thread && ch[i].state != ST_REAPED) {
			kill(ch[i].pid, SIGKILL);
			sync_child(i, 'z');
			op_line("kill", i);
			return;
		}
}
static int spawns;
/* Fork a loop child (op line), open its pidfd (and /proc dir). */
static void op_spawn(void)
{
	if (nch >= MAXCH - 2 || mk_pipes() < 0)
		return;
	int pgl = chance(25);
	/* the child starts with every signal blocked: a signal sent to it
	 * before its loop blocks them would run our inherited handler there
	 * and be lost (SIGALRM is not blocked here) */
	uint64_t all = ~0ULL, keep;
	raw(NR_rt_sigprocmask, SIG_SETMASK, (long)&all, (long)&keep, 8, 0);
	pid_t p = fork();
	if (p != 0)
		raw(NR_rt_sigprocmask, SIG_SETMASK, (long)&keep, 0, 8, 0);
	if (p == 0) {
		if (pgl)
			setpgid(0, 0);
		close(pipes[0][1]);
		close(pipes[1][0]);
		child_start(pipes[0][0], pipes[1][1]);
	}
	if (p < 0)
		return;
	if (pgl)
		setpgid(p, p);
	int cmd, rep;
	parent_keep(&cmd, &rep);
	int i = new_child_slot(p, cmd, rep, SIGCHLD, 0);
	ch[i].pgl = pgl;
	int nb = spawns++ % 3 == 2;
	int lw = lowest_free();
	long fd = raw(NR_pidfd_open, p, nb ? F_PIDFD_NONBLOCK : 0, 0, 0, 0);
	out("-\top\tspawn child#%d%s\tpidfd_open=", i, pgl ? " pgl" : "");
	if (fd >= 0)
		out_newfd(fd, lw, 0);
	else
		out("%s", errname(-fd));
	add_handle((int)fd, H_PIDFD_CHILD, i, nb);
	if (chance(40)) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d", p);
		add_handle(open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), H_PROC_CHILD, i, 0);
	}
	endline();
}
/* Keep the pool and the fd table small: close handles of gone children,
 * forget old closed numbers. */
static void prune(void)
{
	for (;;) {
		int n = 0, pick = -1;
		for (int i = 0; i < nh; i++)
			if (h[i].kind == H_PIDFD_CHILD || h[i].kind == H_PROC_CHILD) {
				n++;
				if (pick < 0 && ch[h[i].ref].state == ST_REAPED)
					pick = i;
			}
		if (n <= 20)
			break;
		if (pick < 0)
			for (int i = 0; i < nh && pick < 0; i++)
				if ((h[i].kind == H_PIDFD_CHILD || h[i].kind == H_PROC_CHILD) && ch[h[i].ref].state != ST_RUNNING)
					pick = i;
		if (pick < 0)
			break;
		out("-\top\tclose %s\t-", hname(&h[pick]));
		endline();
		close_handle(pick);
	}
	int nc = 0;
	for (int i = 0; i < nh; i++)
		if (h[i].kind == H_CLOSED && ++nc > 3) {
			h[i] = h[--nh];
			i--;
		}
}
static int n_unreaped(void);
static void op_reduce(void);
/* State changes of the pool, chosen at random. */
static void op_random(void)
{
	ph("op", 0);
	int live[MAXCH], nl = 0, zomb[MAXCH], nz = 0, stop[MAXCH], ns = 0;
	for (int i = 0; i < nch; i++) {
		if (ch[i].thread)
			continue;
		if (ch[i].state == ST_RUNNING || ch[i].state == ST_CONT_EV)
			live[nl++] = i;
		if (ch[i].state == ST_ZOMBIE)
			zomb[nz++] = i;
		if (is_stopped(i))
			stop[ns++] = i;
	}
	int r = rn(100);
	if (n_unreaped() > 12) {
		op_reduce();
		return;
	}
	if ((r < 30 && n_unreaped() < 10) || nl == 0) {
		op_spawn();
	} else if (r < 50 && nl) { /* exit */
		int i = live[rn(nl)];
		unsigned char c[2] = { 'x', (unsigned char)rn(256) };
		if (ch[i].cmd >= 0 && write(ch[i].cmd, c, 2) == 2)
			sync_child(i, 'z');
		op_line("exit", i);
	} else if (r < 62 && nz) { /* reap with P_PID */
		int i = zomb[rn(nz)];
		siginfo_t si;
		alarm(5);
		raw(NR_waitid, P_PID, ch[i].pid, (long)&si, WEXITED | K_WALL, 0);
		alarm(0);
		refresh(i);
		op_line("reap", i);
	} else if (r < 72 && nl) { /* stop */
		int i = live[rn(nl)];
		kill(ch[i].pid, SIGSTOP);
		out("-\top\tstop child#%d\t", i);
		sync_child(i, 's');
		out(" %s", stname[ch[i].state]);
		drain_self();
		endline();
	} else if (r < 82 && ns) { /* continue */
		int i = stop[rn(ns)];
		kill(ch[i].pid, SIGCONT);
		sync_child(i, 'c');
		op_line("cont", i);
	} else if (r < 90 && nl) { /* kill */
		int i = live[rn(nl)];
		kill(ch[i].pid, SIGKILL);
		sync_child(i, 'z');
		op_line("kill", i);
	} else { /* churn: close a pidfd handle, reuse its number */
		int cand[MAXH], nc = 0;
		for (int i = 0; i < nh; i++)
			if (h[i].kind == H_PIDFD_CHILD)
				cand[nc++] = i;
		if (!nc)
			return;
		int i = cand[rn(nc)];
		out("-\top\tclose %s", hname(&h[i]));
		close_handle(i);
		if (chance(50)) {
			int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			out(" reopen=devnull");
			add_handle(fd, H_DEVNULL, 0, 0);
		}
		out("\t-");
		endline();
	}
	/* drop reaped children's handles now and then, so closed numbers exist */
	int nhc = 0;
	for (int i = 0; i < nh; i++)
		nhc += h[i].kind == H_PIDFD_CHILD || h[i].kind == H_PROC_CHILD || h[i].kind == H_DEVNULL;
	if (nhc > 24) {
		for (int i = 0; i < nh; i++)
			if ((h[i].kind == H_PIDFD_CHILD || h[i].kind == H_PROC_CHILD) && ch[h[i].ref].state == ST_REAPED) {
				out("-\top\tclose %s\t-", hname(&h[i]));
				endline();
				close_handle(i);
				break;
			}
		for (int i = 0; i < nh; i++)
			if (h[i].kind == H_DEVNULL) {
				close_handle(i);
				break;
			}
	}
}

/* ---- pointers ---- */
static long pgsz;
static unsigned char *slot_base[6];
enum { P_OK, P_NULL, P_UNALIGNED, P_RO, P_NONE, P_KERNEL, P_EDGE, P_LOW, P_NCLASS };
struct ptr { int cls, edge; unsigned char *p; size_t size; };
static const int edges[] = { 1, 4, 8, 12, 16, 20, 24, 28, 32, 40, 47, 48, 56, 63, 64, 72, 79, 80, 87, 100, 127, 143 };
/* Layout of slot s: [rw page][ro page][none page][rw page][none page]. */
static void slots_init(void)
{
	pgsz = sysconf(_SC_PAGESIZE);
	for (int s = 0; s < 6; s++) {
		unsigned char *b = mmap(0, 5 * pgsz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (b == MAP_FAILED)
			_exit(4);
		mprotect(b + 2 * pgsz, pgsz, PROT_NONE);
		mprotect(b + 4 * pgsz, pgsz, PROT_NONE);
		slot_base[s] = b;
	}
}
static int pick_cls(int okpct)
{
	if (chance(okpct))
		return P_OK;
	static const int w[] = { P_NULL, P_NULL, P_UNALIGNED, P_RO, P_NONE, P_KERNEL, P_EDGE, P_EDGE, P_EDGE, P_LOW };
	return w[rn(sizeof w / sizeof w[0])];
}
/* Place SIZE bytes of CONTENT (or the pattern when NULL) in slot S as
 * class CLS; edge classes leave only some bytes before a PROT_NONE page. */
static struct ptr mkptr(int s, int cls, const void *content, size_t size)
{
	unsigned char *b = slot_base[s];
	struct ptr p = { cls, 0, 0, size };
	mprotect(b + pgsz, pgsz, PROT_READ | PROT_WRITE);
	memset(b, PAT, pgsz);
	memset(b + pgsz, PAT, pgsz);
	memset(b + 3 * pgsz, PAT, pgsz);
	switch (cls) {
	case P_OK: p.p = b + 64; break;
	case P_UNALIGNED: p.p = b + 64 + 1 + rn(3); break;
	case P_RO: p.p = b + pgsz + 64; break;
	case P_NONE: p.p = b + 2 * pgsz + 64; break;
	case P_KERNEL: p.p = (unsigned char *)KERNEL_PTR; break;
	case P_LOW: p.p = (unsigned char *)0x10; break;
	case P_EDGE: {
		int e = edges[rn(sizeof edges / sizeof edges[0])];
		if ((size_t)e >= size)
			e = size > 1 ? (int)(size - 1) : 0;
		p.edge = e;
		p.p = b + 4 * pgsz - e;
		break;
	}
	}
	if (content && (cls == P_OK || cls == P_UNALIGNED || cls == P_RO))
		memcpy(p.p, content, size);
	if (content && cls == P_EDGE)
		memcpy(p.p, content, p.edge);
	mprotect(b + pgsz, pgsz, PROT_READ);
	return p;
}
static const char *pname(const struct ptr *p)
{
	static char b[4][24];
	static int k;
	char *s = b[k++ & 3];
	switch (p->cls) {
	case P_OK: return "ok";
	case P_NULL: return "NULL";
	case P_UNALIGNED: return "unaligned";
	case P_RO: return "ro";
	case P_NONE: return "prot_none";
	case P_KERNEL: return "kernel";
	case P_LOW: return "low";
	}
	snprintf(s, 24, "edge-%d", p->edge);
	return s;
}
/* How many bytes of an out-parameter are visible to us. */
static size_t visible(const struct ptr *p)
{
	if (p->cls == P_OK || p->cls == P_UNALIGNED || p->cls == P_RO)
		return p->size;
	if (p->cls == P_EDGE)
		return p->edge;
	return 0;
}
static int touched(const struct ptr *p, size_t off, size_t n)
{
	size_t v = visible(p);
	for (size_t i = off; i < off + n && i < v; i++)
		if (p->p[i] != PAT)
			return 1;
	return 0;
}
static int32_t get32(const struct ptr *p, size_t off)
{
	int32_t v;
	memcpy(&v, p->p + off, 4);
	return v;
}
/* A field: "-" if untouched, "?" if not visible, else the value. */
static void out_field(const char *name, const struct ptr *p, size_t off, int is_pid)
{
	if (off + 4 > visible(p)) {
		if (off < visible(p) && touched(p, off, 4))
			out(" %s=partial", name);
		return;
	}
	if (!touched(p, off, 4)) {
		out(" %s=-", name);
		return;
	}
	int32_t v = get32(p, off);
	if (is_pid)
		out(" %s=%s", name, pidname(v));
	else
		out(" %s=%d", name, v);
}
/* siginfo written by waitid. */
static void out_siginfo(const struct ptr *p)
{
	if (!visible(p) || p->cls == P_RO)
		return;
	if (!touched(p, 0, p->size)) {
		out(" info=untouched");
		return;
	}
	out(" info={");
	out_field("signo", p, 0, 0);
	out_field("errno", p, 4, 0);
	out_field("code", p, 8, 0);
	out_field("pid", p, 16, 1);
	out_field("uid", p, 20, 0);
	out_field("status", p, 24, 0);
	out(" rest=%s}", touched(p, 12, 4) || touched(p, 28, p->size - 28) ? "touched" : "-");
}
static void out_bytes(const char *name, const struct ptr *p)
{
	if (!visible(p) || p->cls == P_RO)
		return;
	if (!touched(p, 0, p->size)) {
		out(" %s=untouched", name);
		return;
	}
	out(" %s=", name);
	size_t v = visible(p);
	for (size_t i = 0; i < p->size; i++)
		if (i < v)
			out("%02x", p->p[i]);
		else
			out("..");
}

/* Junk in the high half of an int argument, as strace's tests do. */
static int junked;
static long junk(long v)
{
	if (chance(15)) {
		junked = 1;
		return (long)(((uint64_t)0xdeadbeefULL << 32) | (uint32_t)v);
	}
	return v;
}
static const char *jk(void)
{
	int j = junked;
	junked = 0;
	return j ? "+junk" : "";
}

/* ---- picking arguments ---- */
struct fdarg { long v; char name[96]; int h; };
static struct fdarg pick_fd(void)
{
	struct fdarg a = { 0, "", -1 };
	int r = rn(100);
	if (r < 88 && nh) {
		int i = rn(nh);
		a.v = h[i].fd;
		a.h = i;
		snprintf(a.name, sizeof a.name, "%s", hname(&h[i]));
	} else {
		static const long sp[] = { -1, INT_MAX, 1000000, 255, INT_MIN };
		static const char *sn[] = { "-1", "INT_MAX", "1000000", "255(free)", "INT_MIN" };
		int k = rn(5);
		a.v = sp[k];
		snprintf(a.name, sizeof a.name, "%s", sn[k]);
	}
	a.v = junk(a.v);
	strcat(a.name, jk());
	return a;
}
/* A fd handle of a given kind set (bitmask of 1<<kind), -1 if none. */
static int pick_handle(unsigned mask)
{
	int c[MAXH], n = 0;
	for (int i = 0; i < nh; i++)
		if (mask & (1u << h[i].kind))
			c[n++] = i;
	return n ? c[rn(n)] : -1;
}
struct pidarg { long v; char name[64]; int child; };
static struct pidarg pick_pid(void)
{
	struct pidarg a = { 0, "", -1 };
	int r = rn(100);
	int i = nch ? (int)rn(nch) : -1;
	if (r < 50 && i >= 0 && (ch[i].state == ST_REAPED || ch[i].state == ST_GONE))
		r = 50 + rn(50);
	if (r < 50 && i >= 0) {
		a.v = ch[i].pid;
		a.child = i;
		if (ch[i].thread)
			snprintf(a.name, sizeof a.name, "clonethread(%s)", stname[ch[i].state]);
		else
			snprintf(a.name, sizeof a.name, "child#%d(%s)", i, stname[ch[i].state]);
	} else {
		static const char *sn[] = { "self", "thread#1", "nonchild", "0", "-1", "1", "INT_MAX", "INT_MIN", "pid_max+1", "helper" };
		int k = rn(10);
		long v[] = { self_pid, thr_tid, nonchild_pid, 0, -1, 1, INT_MAX, INT_MIN, 4194305, helper_pid };
		a.v = v[k];
		snprintf(a.name, sizeof a.name, "%s", sn[k]);
	}
	a.v = junk(a.v);
	strcat(a.name, jk());
	return a;
}
static const int sigs_any[] = { 0, 1, 2, 3, 9, 10, 12, 13, 14, 15, 17, 18, 19, 20, 21, 22, 23, 28, 31, 32, 33, 34, 35, 50, 63, 64, 65, -1, 128 };
static int pick_sig(void) { return sigs_any[rn(sizeof sigs_any / sizeof sigs_any[0])]; }

/* Out-of-line record: all fuzzer-visible state changes after a call. */
static int last_sent_child = -1;
static void after_call(int sync_sig_child, int sig)
{
	/* a child that got SIGKILL, SIGSTOP or SIGCONT: wait until it shows */
	if (sync_sig_child >= 0) {
		int i = sync_sig_child;
		refresh(i);
		if (sig == SIGKILL && ch[i].state != ST_REAPED)
			sync_child(i, 'z');
		else if (sig == SIGSTOP && !is_stopped(i) && ch[i].state != ST_ZOMBIE)
			sync_child(i, 's');
		else if (sig == SIGCONT && ch[i].cmd >= 0 && ch[i].state != ST_ZOMBIE)
			sync_child(i, 'c');
	}
	refresh_all();
	drain_self();
}

/* ---- the calls ---- */
static void call_pidfd_open(void)
{
	struct pidarg p = pick_pid();
	static const unsigned fl[] = { 0, 0, 0, F_PIDFD_NONBLOCK, F_PIDFD_THREAD, F_PIDFD_THREAD | F_PIDFD_NONBLOCK, 1, 0x40000000, 0x80000000 };
	unsigned f = fl[rn(sizeof fl / sizeof fl[0])];
	long fa = junk(f);
	out("pidfd_open\tpid=%s flags=0x%x%s via=%s\t", p.name, f, jk(), via_asm ? "asm" : "libc");
	int lw = lowest_free();
	long r = sys(NR_pidfd_open, p.v, fa, 0, 0, 0, 0);
	if (r >= 0) {
		out_newfd(r, lw, 0);
		close(r);
	} else
		out("%s", errname(-r));
	after_call(-1, 0);
}

static void fill_siginfo(unsigned char *b, int sig)
{
	memset(b, 0, 128);
	int code;
	static const int codes[] = { SI_QUEUE, SI_QUEUE, SI_USER, SI_KERNEL, SI_TKILL, SI_TIMER, SI_MESGQ, SI_ASYNCIO, SI_SIGIO, -7, -8, -60, 1, 2, 4, 6, 7, 100 };
	code = codes[rn(sizeof codes / sizeof codes[0])];
	int signo = chance(85) ? sig : pick_sig();
	int32_t f[6] = { signo, (int32_t)rn(3), code, (int32_t)self_pid, 0, (int32_t)rn(1000) };
	if (chance(20))
		f[3] = rn(2) ? 0 : 0x7ffffff0; /* above pid_max */
	memcpy(b, f, 12);
	memcpy(b + 16, f + 3, 12); /* pid, uid, value */
	if (chance(25)) { /* nonzero bytes in the tail past the known layouts */
		int off = 48 + rn(80);
		b[off] = 1 + rn(255);
	}
	if (chance(10))
		b[28 + rn(20)] = 7;
}
static void call_pidfd_send_signal(void)
{
	struct fdarg fa;
	/* targets: mostly pidfds and /proc dirs */
	if (chance(85)) {
		int i = pick_handle((1u << H_PIDFD_SELF) | (1u << H_PIDFD_SELF_NB) | (1u << H_PIDFD_THREAD) |
				    (1u << H_PIDFD_NONCHILD) | (1u << H_PIDFD_CHILD) | (1u << H_PIDFD_CHILD) |
				    (1u << H_PROC_SELF) | (1u << H_PROC_CHILD) | (1u << H_PROC_NONCHILD) |
				    (1u << H_PROC_THREAD) | (1u << H_CLOSED));
		if (i < 0)
			return;
		fa.v = h[i].fd;
		fa.h = i;
		snprintf(fa.name, sizeof fa.name, "%s", hname(&h[i]));
		fa.v = junk(fa.v);
		strcat(fa.name, jk());
	} else
		fa = pick_fd();
	static const unsigned fl[] = { 0, 0, 0, 0, 1, 2, 4, 3, 5, 6, 8, 0x80000000 };
	unsigned f = fl[rn(sizeof fl / sizeof fl[0])];
	int hk = fa.h >= 0 ? h[fa.h].kind : -1;
	int child = (hk == H_PIDFD_CHILD || hk == H_PROC_CHILD) ? h[fa.h].ref : -1;
	int sig;
	for (;;) {
		sig = pick_sig();
		int dangerous = sig == SIGKILL || sig == SIGSTOP || sig == SIGSYS || sig == 32 || sig == 33;
		if ((f & 4) && (dangerous || sig == SIGCONT))
			continue;
		if (child < 0 && dangerous)
			continue;
		if (child >= 0 && (sig == SIGSYS || sig == 32 || sig == 33))
			continue;
		break;
	}
	long sa = junk(sig);
	char sname[32];
	snprintf(sname, sizeof sname, "%d%s", sig, jk());
	unsigned char si[128];
	int use_info = chance(45);
	struct ptr ip = { P_NULL, 0, 0, 128 };
	if (use_info) {
		fill_siginfo(si, sig);
		ip = mkptr(0, pick_cls(70), si, 128);
	}
	long fl_a = junk(f);
	out("pidfd_send_signal\tfd=%s sig=%s info=%s", fa.name, sname, pname(&ip));
	if (use_info && (ip.cls == P_OK || ip.cls == P_UNALIGNED || ip.cls == P_RO || ip.cls == P_EDGE)) {
		int32_t signo, code, err;
		memcpy(&signo, si, 4);
		memcpy(&err, si + 4, 4);
		memcpy(&code, si + 8, 4);
		int tail = 0;
		for (int k = 48; k < 128; k++)
			tail |= si[k];
		out("{signo=%d,errno=%d,code=%s%s}", signo, err, codename(signo, code), tail ? ",tail" : "");
	}
	out(" flags=0x%x%s via=%s\t", f, jk(), via_asm ? "asm" : "libc");
	long r = sys(NR_pidfd_send_signal, fa.v, sa, (long)ip.p, fl_a, 0, 0);
	out("%s", r == 0 ? "0" : r > 0 ? "positive" : errname(-r));
	/* who received what */
	if (r == 0) {
		if (child >= 0 && ch[child].cmd >= 0)
			after_call(child, sig);
		else
			after_call(-1, 0);
		char who[32];
		if (f & 4) {
			for (int i = 0; i < nch; i++)
				if (ch[i].cmd >= 0 && ch[i].state == ST_RUNNING) {
					snprintf(who, sizeof who, "child#%d", i);
					drain_peer(who, ch[i].cmd, ch[i].rep);
				}
			drain_peer("nonchild", nc_cmd, nc_rep);
		} else if (child >= 0 && ch[child].cmd >= 0 && (ch[child].state == ST_RUNNING || ch[child].state == ST_CONT_EV)) {
			snprintf(who, sizeof who, "child#%d", child);
			drain_peer(who, ch[child].cmd, ch[child].rep);
		} else if (hk == H_PIDFD_NONCHILD || hk == H_PROC_NONCHILD)
			drain_peer("nonchild", nc_cmd, nc_rep);
		drain_peer("thread#1", thr_cmd, thr_rep);
	} else
		after_call(-1, 0);
	last_sent_child = child;
}

/* Does child i match a waitid selection? */
static int wmatch(int i, int idtype, int id, int hidx, int opt)
{
	struct child *c = &ch[i];
	if (c->thread || c->state == ST_REAPED)
		return 0;
	if (!(opt & K_WALL)) {
		int clonech = c->exit_sig != SIGCHLD;
		if (((opt & K_WCLONE) != 0) != clonech)
			return 0;
	}
	switch (idtype) {
	case P_ALL: return 1;
	case P_PID: return c->pid == id;
	case P_PGID: return (c->pgl ? c->pid : self_pid) == (id == 0 ? self_pid : id);
	case P_PIDFD: return hidx >= 0 && h[hidx].kind == H_PIDFD_CHILD && h[hidx].ref == i;
	}
	return 0;
}
static int reportable(int i, int opt)
{
	int s = ch[i].state;
	return (s == ST_ZOMBIE && (opt & WEXITED)) || (s == ST_STOPPED_EV && (opt & WSTOPPED)) ||
	       (s == ST_CONT_EV && (opt & WCONTINUED));
}
static void call_waitid(void)
{
	static const int idt[] = { P_PIDFD, P_PIDFD, P_PIDFD, P_PIDFD, P_PIDFD, P_ALL, P_PID, P_PID, P_PGID, 4, -1 };
	int idtype = idt[rn(sizeof idt / sizeof idt[0])];
	long id = 0;
	char idname[96];
	int hidx = -1;
	if (idtype == P_PIDFD || (idtype > 3 || idtype < 0)) {
		struct fdarg fa;
		if (chance(80)) {
			int i = pick_handle((1u << H_PIDFD_CHILD) | (1u << H_PIDFD_CHILD) | (1u << H_PIDFD_SELF) |
					    (1u << H_PIDFD_SELF_NB) | (1u << H_PIDFD_THREAD) | (1u << H_PIDFD_NONCHILD) |
					    (1u << H_PROC_CHILD) | (1u << H_CLOSED) | (1u << H_EVENTFD) | (1u << H_FILE));
			if (i < 0)
				return;
			fa.v = h[i].fd;
			fa.h = i;
			snprintf(fa.name, sizeof fa.name, "%s", hname(&h[i]));
			fa.v = junk(fa.v);
			strcat(fa.name, jk());
		} else
			fa = pick_fd();
		id = fa.v;
		hidx = fa.h;
		snprintf(idname, sizeof idname, "%s", fa.name);
	} else if (idtype == P_PID) {
		struct pidarg p = pick_pid();
		id = p.v;
		snprintf(idname, sizeof idname, "%s", p.name);
	} else if (idtype == P_PGID) {
		int k = rn(4);
		if (k == 0) {
			id = 0;
			strcpy(idname, "0");
		} else if (k == 1) {
			id = getpgrp();
			strcpy(idname, "own_pgrp");
		} else {
			int c[MAXCH], n = 0;
			for (int i = 0; i < nch; i++)
				if (ch[i].pgl)
					c[n++] = i;
			if (n && k == 2) {
				int i = c[rn(n)];
				id = ch[i].pid;
				snprintf(idname, sizeof idname, "pgrp(child#%d)", i);
			} else {
				id = -1;
				strcpy(idname, "-1");
			}
		}
	} else {
		id = rn(2) ? 0 : self_pid;
		strcpy(idname, id ? "self" : "0");
	}
	int opt = 0;
	static const int base[] = { WEXITED | WNOHANG, WEXITED, WEXITED | WNOHANG | K_WNOWAIT, WEXITED | K_WNOWAIT,
				    WSTOPPED | WNOHANG, WCONTINUED | WNOHANG, WEXITED | WSTOPPED | WCONTINUED | WNOHANG,
				    WEXITED | WSTOPPED | WCONTINUED, WSTOPPED, WNOHANG, 0 };
	opt = base[rn(sizeof base / sizeof base[0])];
	if (chance(20))
		opt |= K_WALL;
	if (chance(8))
		opt |= (int)K_WCLONE;
	if (chance(8))
		opt |= K_WNOTHREAD;
	if (chance(5))
		opt |= 1 << (10 + rn(14));
	if (chance(5) && !(opt & K_WNOWAIT))
		opt |= K_WNOWAIT;
	struct ptr ip = mkptr(1, pick_cls(70), 0, 128);
	struct ptr rp = { P_NULL, 0, 0, sizeof(struct rusage) };
	if (chance(30))
		rp = mkptr(2, pick_cls(60), 0, sizeof(struct rusage));
	long ida = (idtype == P_PIDFD || idtype == P_PID || idtype == P_PGID) ? id : junk(id);
	(void)ida;
	long ta = junk(idtype);
	char tname[24];
	snprintf(tname, sizeof tname, "%s%s",
		 idtype == P_ALL ? "P_ALL" : idtype == P_PID ? "P_PID" : idtype == P_PGID ? "P_PGID" :
		 idtype == P_PIDFD ? "P_PIDFD" : idtype == 4 ? "4" : "-1", jk());
	long oa = junk(opt);
	out("waitid\t%s id=%s info=%s options=0x%x%s ru=%s via=%s", tname, idname, pname(&ip), opt, jk(), pname(&rp), via_asm ? "asm" : "libc");

	/* A blocking call: make sure something ends it. */
	int plan = -1, planc = 0, armed = 0;
	if (!(opt & WNOHANG) && (opt & (WEXITED | WSTOPPED | WCONTINUED)) && !(opt & ~(WNOHANG | WEXITED | WSTOPPED | WCONTINUED | K_WNOWAIT | K_WALL | (int)K_WCLONE | K_WNOTHREAD))) {
		int any_rep = 0, cand[MAXCH], nc = 0, any = 0;
		int vt = idtype; /* the type the kernel sees */
		for (int i = 0; i < nch; i++)
			if (wmatch(i, vt, (int)id, hidx, opt)) {
				any = 1;
				if (reportable(i, opt))
					any_rep = 1;
				if (ch[i].cmd >= 0 && (ch[i].state == ST_RUNNING || (ch[i].state == ST_CONT_EV && !(opt & WCONTINUED))))
					cand[nc++] = i;
			}
		int nbfd = hidx >= 0 && vt == P_PIDFD && h[hidx].nb;
		if ((opt & K_WALL) || !(opt & (int)K_WCLONE)) /* the helper never ends */
			if (vt == P_ALL || (vt == P_PGID && (id == 0 || (int)id == self_pid)) ||
			    (vt == P_PID && (int)id == helper_pid))
				any = 1;
		if (any && !any_rep && !nbfd) {
			if (nc && (opt & (WEXITED | WSTOPPED))) {
				plan = cand[rn(nc)];
				planc = (opt & WEXITED) ? 'X' : 'S';
				unsigned char c[2] = { (unsigned char)planc, (unsigned char)(planc == 'X' ? rn(256) : 0) };
				if (write(ch[plan].cmd, c, 2) != 2)
					plan = -1;
				out(" [%s child#%d]", planc == 'X' ? "will-exit" : "will-stop", plan);
			} else {
				out(" [alarm]");
			}
		}
		alarm_ms(plan >= 0 ? 5000 : 200);
		armed = 1;
		if (plan < 0 && !(any && !any_rep && !nbfd))
			alarm_ms(5000);
	}
	out("\t");
	long r = sys(NR_waitid, ta, id, (long)ip.p, oa, (long)rp.p, 0);
	if (armed)
		alarm_ms(0);
	out("%s", r == 0 ? "0" : r > 0 ? "positive" : errname(-r));
	out_siginfo(&ip);
	if (visible(&rp) && rp.cls != P_RO)
		out(" ru=%s", touched(&rp, 0, rp.size) ? (touched(&rp, rp.size - 1, 1) || visible(&rp) < rp.size ? "written" : "partial") : "untouched");
	if (plan >= 0)
		sync_child(plan, planc == 'X' ? 'z' : 's');
	after_call(-1, 0);
}

static void call_pidfd_getfd(void)
{
	struct fdarg pf;
	if (chance(85)) {
		int i = pick_handle((1u << H_PIDFD_CHILD) | (1u << H_PIDFD_CHILD) | (1u << H_PIDFD_SELF) |
				    (1u << H_PIDFD_SELF_NB) | (1u << H_PIDFD_THREAD) | (1u << H_PIDFD_NONCHILD) |
				    (1u << H_PROC_SELF) | (1u << H_CLOSED) | (1u << H_PIPE_R));
		if (i < 0)
			return;
		pf.v = h[i].fd;
		pf.h = i;
		snprintf(pf.name, sizeof pf.name, "%s", hname(&h[i]));
		pf.v = junk(pf.v);
		strcat(pf.name, jk());
	} else
		pf = pick_fd();
	struct fdarg tf = pick_fd();
	static const unsigned fl[] = { 0, 0, 0, 0, 0, 1, O_CLOEXEC, 0x80000000 };
	unsigned f = fl[rn(sizeof fl / sizeof fl[0])];
	long fa = junk(f);
	out("pidfd_getfd\tpidfd=%s targetfd=%s flags=0x%x%s via=%s\t", pf.name, tf.name, f, jk(), via_asm ? "asm" : "libc");
	int lw = lowest_free();
	long r = sys(NR_pidfd_getfd, pf.v, tf.v, fa, 0, 0, 0);
	if (r >= 0) {
		out_newfd(r, lw, 1);
		close(r);
	} else
		out("%s", errname(-r));
	after_call(-1, 0);
}

static unsigned long fsbase;
static unsigned char *cstack; /* stacks for CLONE_VM children */
static const uint64_t cflag_pool[] = {
	F_CLONE_PIDFD, F_CLONE_PIDFD, F_CLONE_PIDFD, CLONE_CHILD_SETTID, CLONE_CHILD_CLEARTID,
	CLONE_PARENT_SETTID, CLONE_SETTLS, F_CLONE_CLEAR_SIGHAND, F_CLONE_INTO_CGROUP, CLONE_FS,
	CLONE_FILES, CLONE_SYSVSEM, CLONE_IO, CLONE_UNTRACED, CLONE_DETACHED, CLONE_NEWNS,
	CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWCGROUP, CLONE_NEWUSER, F_CLONE_NEWTIME,
	CLONE_SIGHAND, CLONE_THREAD, CLONE_VM, CLONE_VFORK,
};
/* Record a successful clone: a thread, an exit-at-once child or a loop child. */
static int clone_done(long r, uint64_t flags, int exit_sig, int immediate, int cmd, int rep)
{
	int i;
	if (flags & CLONE_THREAD) {
		i = new_child_slot((pid_t)r, -1, -1, 0, 1);
		for (int k = 0; k < 3000; k++) {
			char p[64];
			snprintf(p, sizeof p, "/proc/self/task/%ld", r);
			if (access(p, F_OK) < 0)
				break;
			sleep_ms(1);
		}
		if (i >= 0)
			refresh(i);
		return i;
	}
	i = new_child_slot((pid_t)r, immediate ? -1 : cmd, immediate ? -1 : rep, exit_sig, 0);
	if (immediate && i >= 0)
		sync_child(i, 'z');
	return i;
}
static void call_clone_common(int is3)
{
	uint64_t allsig = ~0ULL, keepm = 0;
	if (nch >= MAXCH - 2)
		return;
	uint64_t flags = 0;
	int nbits = rn(4);
	for (int k = 0; k < nbits; k++)
		flags |= cflag_pool[rn(sizeof cflag_pool / sizeof cflag_pool[0])];
	if (!is3 && chance(90))
		flags |= F_CLONE_PIDFD;
	if ((flags & CLONE_NEWNS) == 0 && chance(1))
		flags |= CLONE_NEWNET;
	if (chance(4))
		flags |= 1ULL << (34 + rn(20));
	/* shapes: thread needs VM|SIGHAND; VM only through asm with a stack */
	if (flags & CLONE_THREAD && chance(70))
		flags |= CLONE_VM | CLONE_SIGHAND;
	if (flags & CLONE_SIGHAND && chance(70))
		flags |= CLONE_VM;
	/* a pid namespace's init sets SIGCHLD to SIG_IGN in its sighand when it
	 * exits (zap_pid_ns_processes): never share ours with one */
	if (flags & CLONE_SIGHAND)
		flags &= ~(uint64_t)CLONE_NEWPID;
	via_asm = chance(50);
	int needs_asm = (flags & (CLONE_VM | CLONE_VFORK | CLONE_FILES | CLONE_THREAD | CLONE_SIGHAND)) != 0;
	if (needs_asm)
		via_asm = 1;
	int exit_sig = SIGCHLD;
	static const int es[] = { SIGCHLD, SIGCHLD, SIGCHLD, SIGCHLD, 0, SIGUSR1, SIGUSR2, 64, 65, -1 };
	if (chance(25))
		exit_sig = es[rn(sizeof es / sizeof es[0])];
	int immediate = needs_asm;
	int use_stack = (flags & CLONE_VM) || chance(5);
	if (use_stack)
		immediate = via_asm = 1;
	int use_tls = (flags & CLONE_SETTLS) != 0;
	int bad_tls = use_tls && chance(30);
	if (bad_tls)
		immediate = via_asm = 1;
	int cmd = -1, rep = -1;
	if (!immediate && mk_pipes() < 0)
		return;
	int status = 40 + rn(20);

	/* out-parameters */
	struct ptr pidp = mkptr(0, pick_cls(75), 0, 4);
	struct ptr ptid = mkptr(1, pick_cls(75), 0, 4);
	struct ptr ctid = mkptr(2, pick_cls(80), 0, 4);
	long stack = 0, stack_size = 0;
	const char *stk = "none";
	if (use_stack) {
		int k = rn(10);
		stack = (long)cstack;
		stack_size = 65536;
		stk = "ok";
		if (!(flags & CLONE_VM)) {
			if (k == 0) { stack_size = 0; stk = "size0"; }
			else if (k == 1) { stack = 0; stk = "null+size"; }
		}
	}
	long tls = use_tls ? (bad_tls ? 0x1000 : (long)fsbase) : 0;
	char fname[64];
	snprintf(fname, sizeof fname, "0x%llx", (unsigned long long)flags);
	int lw = lowest_free();
	long r;
	int cgfd_h = -1;
	if (is3) {
		unsigned char a[4200];
		memset(a, 0, sizeof a);
		uint64_t *q = (uint64_t *)a;
		q[0] = flags;
		q[1] = (uint64_t)(uintptr_t)pidp.p;
		q[2] = (uint64_t)(uintptr_t)ctid.p;
		q[3] = (uint64_t)(uintptr_t)ptid.p;
		q[4] = (uint64_t)(int64_t)exit_sig;
		if (exit_sig == -1)
			q[4] = 0xdeadbeef00000011ULL;
		q[5] = stack;
		q[6] = stack_size;
		q[7] = tls;
		/* set_tid */
		static pid_t tids[40];
		const char *tidn = "none";
		int tk = chance(12) ? (int)rn(7) : -1;
		if (tk >= 0) {
			tids[0] = tk == 0 ? self_pid : tk == 1 ? 1 : tk == 2 ? 0 : tk == 3 ? -5 : 1;
			tids[1] = self_pid;
			q[8] = (uint64_t)(uintptr_t)tids;
			q[9] = tk == 4 ? 33 : tk == 5 ? 2 : 1;
			if (tk == 6)
				q[8] = KERNEL_PTR;
			static const char *tn[] = { "{self}", "{1}", "{0}", "{-5}", "size33", "{1,self}", "kernel" };
			tidn = tn[tk];
		}
		const char *cgn = "-";
		if (flags & F_CLONE_INTO_CGROUP) {
			int hi = chance(60) ? pick_handle(1u << H_CGROUP) : -1;
			if (hi < 0)
				hi = rn(nh);
			cgfd_h = hi;
			q[10] = (uint64_t)h[hi].fd;
			cgn = hname(&h[hi]);
		}
		static const size_t szs[] = { 88, 88, 88, 88, 88, 64, 64, 80, 80, 0, 32, 63, 72, 96, 96, 4096, 4097, 1 << 20 };
		size_t size = szs[rn(sizeof szs / sizeof szs[0])];
		int tailnz = 0;
		if (size > 88 && size <= 4096 && chance(50)) {
			a[88 + rn(size - 88)] = 1;
			tailnz = 1;
		}
		int acls = pick_cls(85);
		size_t csz = size <= 4096 ? size : 4096;
		if (size == 0)
			csz = 88;
		struct ptr ap;
		if (csz <= (size_t)pgsz - 64 || acls == P_NULL || acls == P_KERNEL || acls == P_LOW || acls == P_NONE)
			ap = mkptr(3, acls, a, csz < (size_t)pgsz - 64 ? csz : (size_t)pgsz - 64);
		else {
			ap = mkptr(3, P_OK, 0, 0);
			ap.p = a; /* large sizes: the stack copy */
			ap.cls = P_OK;
		}
		out("clone3\targs=%s size=%zu%s flags=%s pidfd=%s child_tid=%s parent_tid=%s exit_signal=%d stack=%s tls=%s set_tid=%s cgroup=%s via=%s",
		    pname(&ap), size, tailnz ? "(tail)" : "", fname, pname(&pidp), pname(&ctid), pname(&ptid),
		    exit_sig, stk, use_tls ? (bad_tls ? "bad" : "own") : "-", tidn, cgn, via_asm ? "asm" : "libc");
		raw(NR_rt_sigprocmask, SIG_SETMASK, (long)&allsig, (long)&keepm, 8, 0);
		if (immediate)
			r = asm_clone_exit(NR_clone3, (long)ap.p, (long)size, 0, 0, 0, status);
		else if (via_asm)
			r = asm_sys6(NR_clone3, (long)ap.p, (long)size, 0, 0, 0, 0);
		else {
			r = syscall(NR_clone3, ap.p, size);
			if (r == -1)
				r = -errno;
		}
	} else {
		int es_l = exit_sig;
		if (exit_sig < 0 || exit_sig > 64)
			es_l = exit_sig & 0xff;
		uint64_t fl = flags | (uint64_t)(es_l & 0xff);
		if (fl >> 32) {
			/* legacy clone has 32 flag bits: keep the junk visible */
		}
		out("clone\tflags=0x%llx pidfd/parent_tid=%s child_tid=%s stack=%s tls=%s via=%s",
		    (unsigned long long)fl, pname(&ptid), pname(&ctid), stk, use_tls ? (bad_tls ? "bad" : "own") : "-",
		    via_asm ? "asm" : "libc");
		pidp = ptid;
		raw(NR_rt_sigprocmask, SIG_SETMASK, (long)&allsig, (long)&keepm, 8, 0);
		if (immediate)
			r = asm_clone_exit(NR_clone, (long)fl, stack ? stack + stack_size : 0, (long)ptid.p, (long)ctid.p, tls, status);
		else if (via_asm)
			r = asm_sys6(NR_clone, (long)fl, 0, (long)ptid.p, (long)ctid.p, tls, 0);
		else {
			r = syscall(NR_clone, fl, 0, ptid.p, ctid.p, tls);
			if (r == -1)
				r = -errno;
		}
		exit_sig = es_l;
	}
	/* the child starts with every signal blocked (see op_spawn) */
	if (r != 0)
		raw(NR_rt_sigprocmask, SIG_SETMASK, (long)&keepm, 0, 8, 0);
	if (r == 0) { /* the child, fork-like */
		if (!immediate) {
			close(pipes[0][1]);
			close(pipes[1][0]);
			child_start(pipes[0][0], pipes[1][1]);
		}
		raw(SYS_exit, status, 0, 0, 0, 0);
	}
	via_asm = 0;
	/* A failed call may leave a number in the pidfd slot (copy_process
	 * stores it before the cgroup fd's check): the lowest free fd, as
	 * here (before the pipes go), which a library's own fds may move */
	int lowest = -1;
	if (r < 0 && (lowest = fcntl(1, F_DUPFD_CLOEXEC, 0)) >= 0)
		close(lowest);
	out("\t");
	if (!immediate) {
		if (r > 0)
			parent_keep(&cmd, &rep);
		else {
			close(pipes[0][0]); close(pipes[0][1]); close(pipes[1][0]); close(pipes[1][1]);
		}
	}
	if (r < 0) {
		out("%s", errname(-r));
		int v;
		if (lowest >= 0 && visible(&pidp) >= sizeof v && pidp.cls != P_RO &&
		    touched(&pidp, 0, sizeof v) && (memcpy(&v, pidp.p, sizeof v), v == lowest))
			out(" pidfd=lowest-free-fd");
		else
			out_bytes("pidfd", &pidp);
		if (is3)
			out_bytes("parent_tid", &ptid);
		after_call(-1, 0);
		return;
	}
	int i = clone_done(r, flags, exit_sig, immediate, cmd, rep);
	out("%s", i < 0 ? "pid?" : ch[i].thread ? "clonethread" : pidname(r));
	if (i >= 0 && !ch[i].thread)
		out("(%s)", stname[ch[i].state]);
	if ((flags & F_CLONE_PIDFD) && visible(&pidp) >= 4 && touched(&pidp, 0, 4)) {
		int pfd = get32(&pidp, 0);
		out(" pidfd=");
		if (fcntl(pfd, F_GETFD) >= 0) {
			out_newfd(pfd, lw, 0);
			if (i >= 0 && !ch[i].thread)
				add_handle(pfd, H_PIDFD_CHILD, i, 0);
			else
				close(pfd);
		} else
			out("notfd");
	} else if (flags & F_CLONE_PIDFD)
		out_bytes(" pidfd", &pidp);
	if (is3 && (flags & CLONE_PARENT_SETTID))
		out(" parent_tid=%s", visible(&ptid) >= 4 && touched(&ptid, 0, 4) ? (get32(&ptid, 0) == r ? "child" : "other") : "untouched");
	if (!is3 && (flags & CLONE_PARENT_SETTID) && !(flags & F_CLONE_PIDFD))
		out(" parent_tid=%s", visible(&ptid) >= 4 && touched(&ptid, 0, 4) ? (get32(&ptid, 0) == r ? "child" : "other") : "untouched");
	if ((flags & CLONE_VM) && (flags & (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID)) && visible(&ctid) >= 4)
		out(" child_tid=%s", !touched(&ctid, 0, 4) ? "untouched" : get32(&ctid, 0) == r ? "child" :
				      get32(&ctid, 0) == 0 ? "0" : "other");
	if (i >= 0 && !ch[i].thread && !((flags & F_CLONE_PIDFD) && touched(&pidp, 0, 4))) {
		/* a handle for it all the same */
		add_handle((int)raw(NR_pidfd_open, r, 0, 0, 0, 0), H_PIDFD_CHILD, i, 0);
	}
	(void)cgfd_h;
	after_call(-1, 0);
}

static uint64_t rand_mask(void)
{
	uint64_t m = 0;
	switch (rn(5)) {
	case 0: m = 0; break;
	case 1: m = ~0ULL; break;
	case 2: m = rnd(); break;
	default: m = 1ULL << rn(64); break;
	}
	return m;
}
static void call_rt_sigprocmask(void)
{
	uint64_t saved;
	raw(NR_rt_sigprocmask, SIG_BLOCK, 0, (long)&saved, 8, 0);
	static const int hows[] = { SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK, SIG_BLOCK, SIG_SETMASK, 3, -1 };
	int how = hows[rn(sizeof hows / sizeof hows[0])];
	uint64_t m = rand_mask();
	struct ptr np = { P_NULL, 0, 0, 8 };
	if (chance(80))
		np = mkptr(0, pick_cls(70), &m, 8);
	struct ptr op = { P_NULL, 0, 0, 8 };
	if (chance(70))
		op = mkptr(1, pick_cls(70), 0, 8);
	static const size_t ss[] = { 8, 8, 8, 8, 8, 8, 0, 4, 16, 128 };
	size_t ssz = ss[rn(sizeof ss / sizeof ss[0])];
	long ha = junk(how);
	out("rt_sigprocmask\thow=%d%s set=%s", how, jk(), pname(&np));
	if (np.cls != P_NULL)
		out("{0x%llx}", (unsigned long long)m);
	via_asm = chance(50);
	out(" oldset=%s size=%zu via=%s\t", pname(&op), ssz, via_asm ? "asm" : "libc");
	long r = sys(NR_rt_sigprocmask, ha, (long)np.p, (long)op.p, ssz, 0, 0);
	via_asm = 0;
	uint64_t now = 0;
	raw(NR_rt_sigprocmask, SIG_SETMASK, (long)&saved, (long)&now, 8, 0);
	out("%s", r == 0 ? "0" : errname(-r));
	out_bytes("oldset", &op);
	out(" mask=0x%llx", (unsigned long long)now);
	drain_self();
}

static void *libc_restorer;
static void ksa_print(const char *name, const unsigned char *b, size_t vis, int full)
{
	if (!vis)
		return;
	int any = 0;
	for (size_t i = 0; i < vis; i++)
		any |= b[i] != PAT;
	if (!any) {
		out(" %s=untouched", name);
		return;
	}
	if (vis < 32) { /* which of handler, flags, restorer, mask got bytes */
		out(" %s=partial:", name);
		for (size_t f = 0; f < 4; f++) {
			size_t n = 0;
			for (size_t i = f * 8; i < f * 8 + 8 && i < vis; i++)
				n += b[i] != PAT;
			out("%s%s", f ? "," : "", f * 8 >= vis ? "." : n ? "w" : "-");
		}
		if (vis >= 16)
			out(" flags=0x%llx", (unsigned long long)*(const uint64_t *)(b + 8));
		return;
	}
	uint64_t q[4];
	memcpy(q, b, 32);
	const char *hn = q[0] == (uint64_t)(uintptr_t)SIG_DFL ? "SIG_DFL" : q[0] == (uint64_t)(uintptr_t)SIG_IGN ? "SIG_IGN" :
			 q[0] == (uint64_t)(uintptr_t)on_sig ? "on_sig" : q[0] == 0x1234 ? "0x1234" : "other";
	const char *rn_ = q[2] == 0 ? "0" : q[2] == (uint64_t)(uintptr_t)libc_restorer ? "libc" : q[2] == 0x5678 ? "0x5678" : "other";
	out(" %s={handler=%s flags=0x%llx restorer=%s mask=0x%llx}", name, hn, (unsigned long long)q[1], rn_,
	    (unsigned long long)q[3]);
	(void)full;
}
static void call_rt_sigaction(void)
{
	static const int sg[] = { 0, 1, 2, 9, 10, 11, 12, 14, 15, 17, 19, 20, 31, 32, 33, 34, 50, 64, 65, -1, SIGUSR1, SIGUSR2, SIGCHLD, SIGSYS, SIGTERM };
	int sig = sg[rn(sizeof sg / sizeof sg[0])];
	uint64_t saved[4];
	int valid = sig >= 1 && sig <= 64;
	if (valid)
		raw(NR_rt_sigaction, sig, 0, (long)saved, 8, 0);
	uint64_t act[4];
	static const uint64_t hs[] = { (uint64_t)(uintptr_t)SIG_DFL, (uint64_t)(uintptr_t)SIG_IGN, 0x1234, 0 };
	act[0] = chance(50) ? (uint64_t)(uintptr_t)on_sig : hs[rn(3)];
	static const uint64_t fbits[] = { SA_SIGINFO, K_SA_RESTORER, SA_ONSTACK, SA_RESTART, SA_NODEFER, SA_RESETHAND,
					  SA_NOCLDSTOP, SA_NOCLDWAIT, 0x800 /* SA_EXPOSE_TAGBITS */, 0x400 /* SA_UNSUPPORTED */,
					  0x200, 0x1000, 0x100000000ULL };
	uint64_t fl = K_SA_RESTORER | SA_SIGINFO;
	for (int k = rn(4); k > 0; k--)
		fl ^= fbits[rn(sizeof fbits / sizeof fbits[0])];
	act[1] = fl;
	act[2] = chance(80) ? (uint64_t)(uintptr_t)libc_restorer : rn(2) ? 0 : 0x5678;
	act[3] = rand_mask();
	const char *hn = act[0] == (uint64_t)(uintptr_t)on_sig ? "on_sig" : act[0] == 0 ? "SIG_DFL" : act[0] == 1 ? "SIG_IGN" : "0x1234";
	struct ptr ap = { P_NULL, 0, 0, 32 };
	if (chance(75))
		ap = mkptr(0, pick_cls(75), act, 32);
	struct ptr op = { P_NULL, 0, 0, 32 };
	if (chance(70))
		op = mkptr(1, pick_cls(70), 0, 32);
	static const size_t ss[] = { 8, 8, 8, 8, 8, 8, 0, 4, 16 };
	size_t ssz = ss[rn(sizeof ss / sizeof ss[0])];
	long sa = junk(sig);
	out("rt_sigaction\tsig=%d%s act=%s", sig, jk(), pname(&ap));
	if (ap.cls != P_NULL)
		out("{%s,0x%llx,%s,0x%llx}", hn, (unsigned long long)act[1],
		    act[2] == (uint64_t)(uintptr_t)libc_restorer ? "libc" : act[2] ? "0x5678" : "0", (unsigned long long)act[3]);
	via_asm = chance(50);
	out(" oldact=%s size=%zu via=%s\t", pname(&op), ssz, via_asm ? "asm" : "libc");
	long r = sys(NR_rt_sigaction, sa, (long)ap.p, (long)op.p, ssz, 0, 0);
	via_asm = 0;
	unsigned char now[32];
	memset(now, PAT, sizeof now);
	if (valid)
		raw(NR_rt_sigaction, sig, (long)saved, (long)now, 8, 0);
	out("%s", r == 0 ? "0" : errname(-r));
	if (op.cls != P_RO)
		ksa_print("oldact", op.p, visible(&op), 1);
	if (valid && r == 0 && ap.cls != P_NULL)
		ksa_print("stored", now, 32, 1);
	drain_self();
}

/* ---- the fuzzer's own thread and the helper ---- */
static void *thr_main(void *arg)
{
	int *p = arg;
	thr_tid = (pid_t)syscall(SYS_gettid);
	int cmd = p[0], rep = p[1];
	uint64_t allm = ~0ULL;
	raw(NR_rt_sigprocmask, SIG_SETMASK, (long)&allm, 0, 8, 0);
	char one = 1;
	if (write(rep, &one, 1) != 1)
		return 0;
	for (;;) {
		unsigned char c[2];
		ssize_t k = read(cmd, c, 2);
		if (k != 2 || c[0] == 'q')
			return 0;
		if (c[0] == 'd') {
			for (;;) {
				siginfo_t si;
				struct timespec z = { 0, 0 };
				uint64_t all = ~0ULL;
				int s = (int)raw(SYS_rt_sigtimedwait, (long)&all, (long)&si, (long)&z, 8, 0);
				struct rec r = { 0 };
				if (s > 0) {
					r = (struct rec){ s, si.si_code, si.si_errno, si.si_pid, (int)si.si_uid, si.si_value.sival_int };
				}
				if (write(rep, &r, sizeof r) != sizeof r)
					return 0;
				if (s <= 0)
					break;
			}
		}
	}
}

/* The helper: starts the non-child (its own child, served by our pipes),
 * kills the fuzzer at the deadline, and on 'q' ends the non-child. */
static void helper_main(int hcmd, int ncr, int ncw, int deadline)
{
	raw(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	uint64_t all = ~0ULL;
	raw(NR_rt_sigprocmask, SIG_SETMASK, (long)&all, 0, 8, 0);
	pid_t g = fork();
	if (g == 0)
		child_start(ncr, ncw);
	struct pollfd p = { hcmd, POLLIN, 0 };
	int r = poll(&p, 1, deadline * 1000);
	if (r <= 0) {
		const char m[] = "fuzz: deadline passed, killing the fuzzer (hang)\n";
		if (write(2, m, sizeof m - 1) < 0) {}
		kill(getppid(), SIGKILL);
	}
	kill(g, SIGKILL);
	waitpid(g, 0, 0);
	_exit(0);
}

static int count_dir(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1 * (strcmp(path, "/proc/self/fd") == 0);
}

/* ---- epochs ----
 * Every EPOCH calls the fuzzer returns to the state it had after its
 * setup: every child killed and reaped, every handle made since closed,
 * the signal mask as it was, and the generator reseeded from the seed and
 * the epoch's number. A divergence that changes the fuzzer's state (a
 * clone that fails under emulation, a handle that is not opened) then
 * shifts the picks of its own epoch only: compare.awk compares epoch by
 * epoch. */
#define EPOCH 40
static struct handle fixed[MAXH];
static int nfixed, no_clone3;
static uint64_t setup_mask;
static void end_children(void)
{
	ph("end-children", nch);
	for (int i = 0; i < nch; i++) {
		if (ch[i].thread)
			continue;
		if (ch[i].state != ST_REAPED) {
			kill(ch[i].pid, SIGKILL);
			siginfo_t si;
			alarm(5);
			raw(NR_waitid, P_PID, ch[i].pid, (long)&si, WEXITED | K_WALL, 0);
			alarm(0);
		}
		if (ch[i].cmd >= 0) {
			close(ch[i].cmd);
			close(ch[i].rep);
		}
	}
}
static void epoch_start(uint64_t seed, long e)
{
	ph("epoch", (int)e);
	if (e > 0) {
		end_children();
		for (int i = 0; i < nh; i++) {
			if (h[i].kind == H_CLOSED || h[i].fd < 0)
				continue;
			int keep = 0;
			for (int j = 0; j < nfixed && !keep; j++)
				keep = fixed[j].kind != H_CLOSED && fixed[j].fd == h[i].fd;
			if (!keep)
				close(h[i].fd);
		}
		memcpy(h, fixed, sizeof h);
		nh = nfixed;
		nch = 0;
		spawns = 0;
		alarm_ms(0);
		raw(NR_rt_sigprocmask, SIG_SETMASK, (long)&setup_mask, 0, 8, 0);
		/* what the kill and reap above raised */
		hrec_n = 0;
		uint64_t chld = 1ULL << (SIGCHLD - 1);
		for (;;) {
			siginfo_t si;
			struct timespec z = { 0, 0 };
			if (raw(SYS_rt_sigtimedwait, (long)&chld, (long)&si, (long)&z, 8, 0) <= 0)
				break;
		}
	}
	rs = (seed * 0x2545f4914f6cdd1dULL + 1) ^ ((uint64_t)e * 0x9e3779b97f4a7c15ULL);
	out("-\tepoch\t%ld\t-", e);
	drain_self();
	endline();
	for (int k = 0; k < 3; k++)
		op_spawn();
	out("-\tsetup\thandles\t");
	for (int i = 0; i < nh; i++)
		out(" %s", hname(&h[i]));
	endline();
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: fuzz SEED CALLS\n");
		return 2;
	}
	uint64_t seed = strtoull(argv[1], 0, 0);
	long calls = strtol(argv[2], 0, 0);
	if (getpid() == 1) {
		/* as pid 1 (runsc do), orphans would become our children: run
		 * one level down and reap */
		pid_t c = fork();
		if (c > 0) {
			int st;
			for (;;) {
				pid_t w = wait(&st);
				if (w == c)
					return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
				if (w < 0 && errno != EINTR)
					return 5;
			}
		}
	}
	rs = seed * 0x2545f4914f6cdd1dULL + 1;
	struct rlimit nocore = { 0, 0 };
	setrlimit(RLIMIT_CORE, &nocore);
	setpgid(0, 0);
	self_pid = getpid();
	int fds_before = count_dir("/proc/self/fd");
	int thr_before = count_dir("/proc/self/task");

	/* signals: a recording handler for each catchable one; all blocked
	 * but SIGALRM (the watchdog of blocking calls) and SIGSYS */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sig;
	sa.sa_flags = SA_SIGINFO;
	sigfillset(&sa.sa_mask);
	for (int s = 1; s < 65; s++)
		if (s != SIGKILL && s != SIGSTOP && s != SIGSYS && s != SIGSEGV && s != SIGBUS && s != SIGILL &&
		    s != SIGFPE && s != SIGTRAP && (s < 32 || s > 34))
			sigaction(s, &sa, 0);
	{
		uint64_t k[4];
		raw(NR_rt_sigaction, SIGUSR1, 0, (long)k, 8, 0);
		libc_restorer = (void *)(uintptr_t)k[2];
	}
	mainmask = ~0ULL & ~(1ULL << (SIGALRM - 1)) & ~(1ULL << (SIGSYS - 1));
	raw(NR_rt_sigprocmask, SIG_SETMASK, (long)&mainmask, 0, 8, 0);
	mainmask &= ~(1ULL << (SIGKILL - 1)) & ~(1ULL << (SIGSTOP - 1));
	slots_init();
	cstack = mmap(0, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	syscall(SYS_arch_prctl, 0x1003 /* ARCH_GET_FS */, &fsbase);

	/* the helper and the non-child */
	int hp[2], ncp[2], ncq[2];
	if (pipe2(hp, O_CLOEXEC) < 0 || pipe2(ncp, O_CLOEXEC) < 0 || pipe2(ncq, O_CLOEXEC) < 0)
		return 6;
	int deadline = 60 + (int)(calls / 20);
	helper_pid = fork();
	if (helper_pid == 0) {
		close(hp[1]);
		close(ncp[1]);
		close(ncq[0]);
		helper_main(hp[0], ncp[0], ncq[1], deadline);
	}
	close(hp[0]);
	close(ncp[0]);
	close(ncq[1]);
	helper_cmd = hp[1];
	nc_cmd = ncp[1];
	nc_rep = ncq[0];
	{
		unsigned char c[2] = { 'p', 0 }, a;
		if (write(nc_cmd, c, 2) != 2 || rd_full(nc_rep, &a, 1, 5000) < 0)
			return 7;
		int sp[2];
		if (pipe2(sp, O_CLOEXEC) == 0) {
			/* learn the non-child's pid from its SIGCHLD-free answer: ask
			 * it for the sender of a signal we send it */
			close(sp[0]);
			close(sp[1]);
		}
		/* the helper's only child */
		char path[64], b[256];
		snprintf(path, sizeof path, "/proc/%d/task/%d/children", helper_pid, helper_pid);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, b, sizeof b - 1) : -1;
		if (fd >= 0)
			close(fd);
		nonchild_pid = n > 0 ? (b[n] = 0, atoi(b)) : 0;
		if (!nonchild_pid) { /* no /proc/PID/task/TID/children: scan */
			DIR *d = opendir("/proc");
			struct dirent *e;
			while (d && (e = readdir(d))) {
				int p = atoi(e->d_name);
				if (p <= 0)
					continue;
				snprintf(path, sizeof path, "/proc/%d/stat", p);
				fd = open(path, O_RDONLY | O_CLOEXEC);
				n = fd >= 0 ? read(fd, b, sizeof b - 1) : -1;
				if (fd >= 0)
					close(fd);
				if (n <= 0)
					continue;
				b[n] = 0;
				char *q = strrchr(b, ')');
				int pp = 0;
				if (q && sscanf(q + 2, "%*c %d", &pp) == 1 && pp == helper_pid) {
					nonchild_pid = p;
					break;
				}
			}
			if (d)
				closedir(d);
		}
	}
	/* our own thread */
	int tp[2], tq[2];
	if (pipe2(tp, O_CLOEXEC) < 0 || pipe2(tq, O_CLOEXEC) < 0)
		return 8;
	static int targ[2];
	targ[0] = tp[0];
	targ[1] = tq[1];
	pthread_t th;
	sigset_t all;
	sigfillset(&all);
	sigset_t keep;
	pthread_sigmask(SIG_SETMASK, &all, &keep);
	if (pthread_create(&th, 0, thr_main, targ) != 0)
		return 9;
	pthread_sigmask(SIG_SETMASK, &keep, 0);
	thr_cmd = tp[1];
	thr_rep = tq[0];
	{
		char one;
		if (rd_full(thr_rep, &one, 1, 5000) < 0)
			return 10;
	}

	/* the fixed handles */
	int lw = lowest_free();
	long fd = raw(NR_pidfd_open, self_pid, 0, 0, 0, 0);
	out("-\tsetup\tpidfd(self)\t");
	fd >= 0 ? out_newfd(fd, lw, 0) : out("%s", errname(-fd));
	endline();
	add_handle((int)fd, H_PIDFD_SELF, 0, 0);
	lw = lowest_free();
	fd = raw(NR_pidfd_open, self_pid, F_PIDFD_NONBLOCK, 0, 0, 0);
	out("-\tsetup\tpidfd(self,nb)\t");
	fd >= 0 ? out_newfd(fd, lw, 0) : out("%s", errname(-fd));
	endline();
	add_handle((int)fd, H_PIDFD_SELF_NB, 0, 1);
	lw = lowest_free();
	fd = raw(NR_pidfd_open, thr_tid, F_PIDFD_THREAD, 0, 0, 0);
	out("-\tsetup\tpidfd(thread#1,PIDFD_THREAD)\t");
	fd >= 0 ? out_newfd(fd, lw, 0) : out("%s", errname(-fd));
	endline();
	add_handle((int)fd, H_PIDFD_THREAD, 0, 0);
	lw = lowest_free();
	fd = raw(NR_pidfd_open, nonchild_pid, 0, 0, 0, 0);
	out("-\tsetup\tpidfd(nonchild)\t");
	fd >= 0 ? out_newfd(fd, lw, 0) : out("%s", errname(-fd));
	endline();
	add_handle((int)fd, H_PIDFD_NONCHILD, 0, 0);
	char path[600];
	add_handle(open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC), H_PROC_SELF, 0, 0);
	snprintf(path, sizeof path, "/proc/%d", nonchild_pid);
	add_handle(open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), H_PROC_NONCHILD, 0, 0);
	snprintf(path, sizeof path, "/proc/%d", thr_tid);
	add_handle(open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), H_PROC_THREAD, 0, 0);
	int pp[2];
	if (pipe2(pp, O_CLOEXEC) == 0) {
		add_handle(pp[0], H_PIPE_R, 0, 0);
		add_handle(pp[1], H_PIPE_W, 0, 0);
	}
	add_handle(eventfd(0, EFD_CLOEXEC), H_EVENTFD, 0, 0);
	char tmpl[] = "/tmp/sysfill-fuzz-XXXXXX";
	int tf = mkostemp(tmpl, O_CLOEXEC | O_APPEND);
	if (tf >= 0) {
		unlink(tmpl);
		add_handle(tf, H_FILE, 0, 0);
		add_handle(fcntl(tf, F_DUPFD, 0), H_FILE_NOCLOEXEC, 0, 0);
	}
	add_handle(epoll_create1(EPOLL_CLOEXEC), H_EPOLL, 0, 0);
	{
		int cf = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
		char b[512];
		ssize_t n = cf >= 0 ? read(cf, b, sizeof b - 1) : -1;
		if (cf >= 0)
			close(cf);
		if (n > 3 && !strncmp(b, "0::", 3)) {
			b[n] = 0;
			b[strcspn(b, "\n")] = 0;
			snprintf(cgroup_path, sizeof cgroup_path, "/sys/fs/cgroup%s", b + 3);
			add_handle(open(cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), H_CGROUP, 0, 0);
		}
	}
	/* two closed numbers */
	for (int k = 0; k < 2; k++) {
		int c = open("/dev/null", O_RDONLY | O_CLOEXEC);
		int i = add_handle(c, H_DEVNULL, 0, 0);
		if (i >= 0 && k == 1)
			close_handle(i);
	}
	nfixed = nh;
	memcpy(fixed, h, sizeof h);
	raw(NR_rt_sigprocmask, SIG_BLOCK, 0, (long)&setup_mask, 8, 0);
	debug = getenv("FUZZ_DEBUG") && *getenv("FUZZ_DEBUG") == '1';
	no_clone3 = getenv("FUZZ_NO_CLONE3") && *getenv("FUZZ_NO_CLONE3") == '1';

	long epoch = -1;
	for (long n = 0; n < calls; n++) {
		if (n / EPOCH != epoch) /* n-- below repeats an n */
			epoch_start(seed, epoch = n / EPOCH);
		prune();
		if (chance(18) || n_unreaped() > 16) {
			op_random();
			n--;
			continue;
		}
		out("%ld\t", n);
		via_asm = chance(50);
		int k = rn(100);
		int before = (int)lp;
		if (k < 14)
			call_pidfd_open();
		else if (k < 32)
			call_pidfd_send_signal();
		else if (k < 56)
			call_waitid();
		else if (k < 66)
			call_pidfd_getfd();
		else if (k < 74)
			call_clone_common(!no_clone3);
		else if (k < 79)
			call_clone_common(0);
		else if (k < 89)
			call_rt_sigprocmask();
		else
			call_rt_sigaction();
		via_asm = 0;
		if ((int)lp == before) { /* nothing to call with */
			lp = 0;
			n--;
			continue;
		}
		endline();
	}

	/* cleanup: every child and thread gone, every handle closed */
	end_children();
	for (int i = 0; i < nh; i++)
		if (h[i].kind != H_CLOSED && h[i].fd >= 0)
			close(h[i].fd);
	unsigned char q[2] = { 'q', 0 };
	if (write(thr_cmd, q, 2) != 2) {}
	pthread_join(th, 0);
	close(targ[0]);
	close(targ[1]);
	close(thr_cmd);
	close(thr_rep);
	close(nc_cmd);
	close(nc_rep);
	if (write(helper_cmd, q, 2) != 2) {}
	close(helper_cmd);
	{
		siginfo_t si;
		alarm(5);
		raw(NR_waitid, P_PID, helper_pid, (long)&si, WEXITED, 0);
		alarm(0);
	}
	for (int s = 0; s < 6; s++)
		munmap(slot_base[s], 5 * pgsz);
	/* Library helper threads may take a moment to go. A thread left over
	 * is one that stays: the fewest seen in 1 s (a helper that comes and
	 * goes for a moment, as the library's /proc reader in gVisor does
	 * beside its monitor, is not one; the monitor itself is). */
	int thr_after = count_dir("/proc/self/task");
	for (int k = 0; k < 200 && thr_after > thr_before; k++) {
		sleep_ms(5);
		int t = count_dir("/proc/self/task");
		if (t >= 0 && t < thr_after)
			thr_after = t;
	}
	int fds_after = count_dir("/proc/self/fd");
	siginfo_t si;
	memset(&si, 0, sizeof si);
	long w = raw(NR_waitid, P_ALL, 0, (long)&si, WEXITED | WSTOPPED | WCONTINUED | WNOHANG | K_WNOWAIT | K_WALL, 0);
	out("-\tend\tleaks\tfds%+d threads%+d children=%s zombie=%s", fds_after - fds_before, thr_after - thr_before,
	    w == -ECHILD ? "0" : "some", w == 0 && si.si_pid ? "yes" : "no");
	drain_self();
	endline();
	return 0;
}
