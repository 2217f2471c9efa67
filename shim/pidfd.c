/* The emulated calls: pidfd_open, pidfd_send_signal, waitid(P_PIDFD),
 * pidfd_getfd, with the checks in the order Linux 6.18 makes them
 * (kernel/pid.c, kernel/signal.c, kernel/exit.c). */
#include <limits.h>
#include <sys/resource.h>
#include <string.h>
#include "sf.h"

long sf_pidfd_open(pid_t pid, unsigned flags)
{
	if (flags & ~(PIDFD_NONBLOCK | PIDFD_THREAD))
		return -EINVAL;
	if (pid <= 0)
		return -EINVAL;
	sf_lock();
	long r = pidtab_new_pidfd(pid, flags);
	sf_unlock();
	sf_log(SF_LOG_DEBUG, "pidfd_open(%d, %x) = %ld%s%s", (int)pid, flags, r,
	       r < 0 ? " " : "", r < 0 ? sf_errname(r) : "");
	return r;
}

/* The pid behind pidfd FD, or -errno (EBADF: not a pidfd; ESRCH: reaped;
 * EREMOTE: its process has no pid in our pid namespace, reaped or not,
 * as access_pidfd_pidns and pidfd_info tell by the pid's namespace).
 * Also accepts a /proc/<pid> directory fd, as pidfd_send_signal does. */
static long fd_to_pid(int fd, int allow_procdir)
{
	int idx = pidtab_resolve(fd);
	if (idx >= 0) {
		struct sf_watch *w = pidtab_watch(idx);
		if (w->foreign)
			return -EREMOTE;
		if (pidtab_is_reaped(w))
			return -ESRCH;
		return w->pid;
	}
	if (!allow_procdir || idx != -EBADF)
		return idx;
	/* /proc/<pid> opened as a directory (the Linux 5.1 form). */
	char link[64], path[40];
	sf_fmt(path, sizeof path, "/proc/self/fd/%d", fd);
	long n = sf_sys3(SF_NR_readlink, path, link, sizeof link - 1);
	if (n <= 6)
		return -EBADF;
	link[n] = 0;
	if (strncmp(link, "/proc/", 6))
		return -EBADF;
	char *end = strstr(link, " (deleted)");
	if (end && !end[10])
		*end = 0; /* its process is gone */
	long pid = 0;
	for (char *p = link + 6; *p; p++) {
		if (*p < '0' || *p > '9' || pid > INT_MAX / 10)
			return -EBADF;
		pid = pid * 10 + (*p - '0');
	}
	if (!pid)
		return -EBADF;
	/* The directory outlives its process: it must still be there. */
	long st = sf_sys4(SF_NR_openat, fd, "stat", O_RDONLY | O_CLOEXEC, 0);
	if (st < 0)
		return -ESRCH;
	sf_sys1(SF_NR_close, st);
	return pid;
}

long sf_caller_pidfd(const struct sf_caller *c, int fd, int procdir,
		     int *nonblock)
{
	if (c->pidfd)
		return c->pidfd(c, fd, procdir, nonblock);
	sf_lock();
	long pid = fd_to_pid(fd, procdir);
	if (pid >= 0 && nonblock) {
		long fl = sf_sys2(SF_NR_fcntl, fd, F_GETFL);
		*nonblock = fl > 0 && (fl & O_NONBLOCK);
	}
	sf_unlock();
	return pid;
}

/* The library's state part of a wait that consumed an exit. */
static void caller_reaped(const struct sf_caller *c, int fd,
			  const siginfo_t *si)
{
	if (c->reaps_seen)
		return;
	if (c->reaped) {
		c->reaped(c, fd);
		return;
	}
	sf_lock();
	int idx = pidtab_resolve(fd);
	if (idx >= 0) {
		exitinfo_note_cg(pidtab_watch(idx), sf_wait_status(si), 0);
		pidtab_mark_reaped(pidtab_watch(idx));
	}
	sf_unlock();
}

static long c_sys(const struct sf_caller *c, long nr, long a0, long a1,
		  long a2, long a3, long a4)
{
	const long a[6] = {a0, a1, a2, a3, a4, 0};
	return sf_caller_sys(c, nr, a, 0, 0);
}

/* The kernel's siginfo (struct kernel_siginfo: 48 bytes on 64-bit) and
 * the expansion a user siginfo has after it. */
#define KSIGINFO_SIZE 48
#define SI_EXPANSION (sizeof(siginfo_t) - KSIGINFO_SIZE)

/* known_siginfo_layout (kernel/signal.c, 6.18): the signal-specific
 * si_code ranges (NSIG* of include/uapi/asm-generic/siginfo.h). */
static int known_layout(unsigned sig, int code)
{
	static const unsigned char limit[] = {
		[SIGILL] = 11, [SIGFPE] = 15, [SIGSEGV] = 10, [SIGBUS] = 5,
		[SIGTRAP] = 6, [SIGCHLD] = 6, [SIGPOLL] = 6,  [SIGSYS] = 2,
	};
	if (code == SI_KERNEL)
		return 1;
	if (code > SI_USER) {
		if (sig < sizeof limit && limit[sig])
			return code <= limit[sig];
		return code <= 6; /* NSIGPOLL */
	}
	return code >= -7 /* SI_DETHREAD */ || code == -60 /* SI_ASYNCNL */;
}

/* copy_siginfo_from_user: the kernel's part of the siginfo at UINFO
 * (EFAULT within it only); for a layout the kernel does not know, the
 * expansion must be readable (EFAULT) and zero (E2BIG). INFO's expansion
 * is zero. Returns 0 or -errno. */
static long siginfo_from_user(const struct sf_caller *c, siginfo_t *info,
			      uintptr_t uinfo)
{
	memset(info, 0, sizeof *info);
	if (c->read(c, info, uinfo, KSIGINFO_SIZE) < 0)
		return -EFAULT;
	if (known_layout((unsigned)info->si_signo, info->si_code))
		return 0;
	unsigned char x[SI_EXPANSION];
	if (c->read(c, x, uinfo + KSIGINFO_SIZE, sizeof x) < 0)
		return -EFAULT;
	for (size_t i = 0; i < sizeof x; i++)
		if (x[i])
			return -E2BIG;
	return 0;
}

/* The thread group of FD's thread if FD is an emulated PIDFD_THREAD
 * pidfd (of this process's table, or the front end's), else 0. */
static pid_t fd_thread_group(const struct sf_caller *c, int fd)
{
	if (c->pidfd) { /* another front end's pidfds: its record */
		struct sf_watch w;
		return c->watch && c->watch(c, fd, &w) == 0 && w.thread ? w.tgid
									: 0;
	}
	sf_lock();
	int idx = pidtab_resolve(fd);
	pid_t tg = 0;
	if (idx >= 0 && pidtab_watch(idx)->thread)
		tg = pidtab_watch(idx)->tgid;
	sf_unlock();
	return tg;
}

/* SIG with INFO (engine memory, NULL: none) to PID, made by C: NR is
 * rt_sigqueueinfo (or kill), or with TGID (thread-directed: PID is a
 * thread of TGID) rt_tgsigqueueinfo (or tgkill). */
static long send_as(const struct sf_caller *c, int last, long tgid, long pid,
		    int sig, siginfo_t *info)
{
	long a[6] = {pid, sig, 0, 0, 0, 0};
	long nr = info ? SF_NR_rt_sigqueueinfo : SF_NR_kill;
	struct sf_buf b = {2, SF_BUF_IN, info, sizeof *info};
	if (tgid) {
		a[0] = tgid, a[1] = pid, a[2] = sig;
		nr = info ? SF_NR_rt_tgsigqueueinfo : SF_NR_tgkill;
		b.arg = 3;
	}
	return last ? sf_caller_last(c, nr, a, &b, info ? 1 : 0)
		    : sf_caller_sys(c, nr, a, &b, info ? 1 : 0);
}

struct pgrp_send {
	const struct sf_caller *c;
	pid_t pgrp;
	int sig;
	siginfo_t *info;
	int sent;  /* one member took it */
	long last; /* the last member's answer */
};

static int pgrp_member(pid_t pid, void *arg)
{
	struct pgrp_send *g = arg;
	if (proc_stat_field_in(sf_caller_proc(g->c), pid, 5) != g->pgrp)
		return 0;
	long r = send_as(g->c, 0, 0, pid, g->sig, g->info);
	if (r != -ESRCH) { /* a member that went meanwhile is no member */
		g->sent |= !r;
		g->last = r;
	}
	return 0;
}

/* kill_pgrp_info (kernel/signal.c): SIG to every process of the process
 * group PGRP; 0 if one took it, else the last error, ESRCH if none.
 * kill(-PGRP) gives exactly that, except for group 1 (kill(-1) is every
 * process) and with a siginfo: those go member by member (/proc). */
static long pgrp_send(const struct sf_caller *c, pid_t pgrp, int sig,
		      siginfo_t *info)
{
	if (!info && pgrp > 1)
		return send_as(c, 1, 0, -pgrp, sig, 0);
	struct pgrp_send g = {c, pgrp, sig, info, 0, -ESRCH};
	long r = proc_each_pid_in(sf_caller_proc(c), pgrp_member, &g);
	if (r < 0)
		return r;
	return g.sent ? 0 : g.last;
}

long sf_pidfd_send_signal(const struct sf_caller *c, int fd, int sig,
			  uintptr_t uinfo, unsigned flags)
{
	const unsigned known = PIDFD_SIGNAL_THREAD | PIDFD_SIGNAL_THREAD_GROUP |
			       PIDFD_SIGNAL_PROCESS_GROUP;
	if (flags & ~known)
		return -EINVAL;
	if (flags & (flags - 1))
		return -EINVAL; /* one scope at most */
	long pid = sf_caller_pidfd(c, fd, 1, 0);
	pid_t tg = pid > 0 ? fd_thread_group(c, fd) : 0;
	long r;
	siginfo_t info;
	/* a process outside the caller's pid namespace (access_pidfd_pidns):
	 * before info is read */
	if (pid == -EREMOTE) {
		r = -EINVAL;
		goto out;
	}
	/* Linux checks the fd, then info, and only then whether the process
	 * still exists (do_pidfd_send_signal, 6.9+). */
	if (pid < 0 && pid != -ESRCH) {
		r = pid;
		goto out;
	}
	if (uinfo) {
		r = siginfo_from_user(c, &info, uinfo);
		if (r < 0)
			goto out;
		if (info.si_signo != sig) {
			r = -EINVAL;
			goto out;
		}
		/* Only to yourself (the calling thread is the one the pidfd
		 * names, and not as a group) may you send any si_code. */
		long self = c_sys(c, SF_NR_gettid, 0, 0, 0, 0, 0);
		if ((self != pid || flags == PIDFD_SIGNAL_PROCESS_GROUP) &&
		    (info.si_code >= 0 || info.si_code == SI_TKILL)) {
			r = -EPERM;
			goto out;
		}
	}
	if (pid < 0) {
		r = pid;
		goto out;
	}
	/* Sent by the caller: the kernel checks its permission. A thread
	 * pidfd's scope is its thread (6.9), a process pidfd's its thread
	 * group; the group of a thread pidfd is its thread's. */
	long group = tg ? tg : pid;
	switch (flags ? flags : tg ? PIDFD_SIGNAL_THREAD : 0) {
	case PIDFD_SIGNAL_THREAD: /* the thread the pidfd names */
		r = send_as(c, 1, group, pid, sig, uinfo ? &info : 0);
		break;
	case PIDFD_SIGNAL_PROCESS_GROUP: /* the group whose id is the pid */
		r = pgrp_send(c, (pid_t)pid, sig, uinfo ? &info : 0);
		break;
	default: /* the thread group */
		r = send_as(c, 1, 0, group, sig, uinfo ? &info : 0);
	}
out:
	sf_log(SF_LOG_DEBUG, "pidfd_send_signal(%d, %d, %lx, %x) = %ld%s%s", fd,
	       sig, (unsigned long)uinfo, flags, r, r < 0 ? " " : "",
	       r < 0 ? sf_errname(r) : "");
	return r;
}

/* Another thread may take a stop or continue report between our peek and
 * our consume: a blocking wait then waits again, at most this many times
 * (each needs a new report taken by someone else: no spin). */
#define STOP_WAIT_RETRIES 1000

/* waitid(P_PID) for a stop or continue report. gVisor (2022-2026) reports
 * a stop as CLD_KILLED and a continue as CLD_DUMPED, both with status
 * 127, which no real signal has; wait4 reports them right. Peek with
 * WNOWAIT, then consume with the call that reads the event correctly. */
/* waitid(P_PID) made by C into SI and RU (engine memory; RU may be 0). */
static long c_waitid(const struct sf_caller *c, pid_t pid, siginfo_t *si,
		     int opts, struct rusage *ru)
{
	const long a[6] = {P_PID, pid, 0, opts, 0, 0};
	const struct sf_buf b[2] = {{2, SF_BUF_OUT, si, sizeof *si},
				    {4, SF_BUF_OUT, ru, sizeof *ru}};
	return sf_caller_sys(c, SF_NR_waitid, a, b, ru ? 2 : 1);
}

static long waitid_stop_safe(const struct sf_caller *c, pid_t pid,
			     siginfo_t *si, int opts, struct rusage *ru)
{
	for (int tries = 0;; tries++) {
		long r = c_waitid(c, pid, si, opts | WNOWAIT, ru);
		if (r < 0 || si->si_pid != pid || si->si_status != 127 ||
		    (si->si_code != CLD_KILLED && si->si_code != CLD_DUMPED &&
		     si->si_code != CLD_TRAPPED)) {
			if (r == 0 && si->si_pid == pid && !(opts & WNOWAIT))
				r = c_waitid(c, pid, si, opts, ru);
			return r;
		}
		if (opts & WNOWAIT) {
			/* wait4 cannot peek: report the kind without the
			 * signal. */
			si->si_code = si->si_code == CLD_KILLED ? CLD_STOPPED
								: CLD_CONTINUED;
			si->si_status =
				si->si_code == CLD_CONTINUED ? SIGCONT : SIGSTOP;
			return 0;
		}
		int st = 0;
		int wopts = WNOHANG | (opts & WSTOPPED ? WUNTRACED : 0) |
			    (opts & WCONTINUED ? WCONTINUED : 0) | (opts & __WALL);
		const long a[6] = {pid, 0, wopts, 0, 0, 0};
		const struct sf_buf b[2] = {{1, SF_BUF_OUT, &st, sizeof st},
					    {3, SF_BUF_OUT, ru, sizeof *ru}};
		r = sf_caller_sys(c, SF_NR_wait4, a, b, ru ? 2 : 1);
		if (r < 0)
			return r;
		if (r == pid) {
			if (WIFSTOPPED(st)) {
				si->si_code = CLD_STOPPED;
				si->si_status = WSTOPSIG(st);
			} else if (WIFCONTINUED(st)) {
				si->si_code = CLD_CONTINUED;
				si->si_status = SIGCONT;
			}
			return 0;
		}
		/* The report went to another wait in between: none now. */
		memset(si, 0, sizeof *si);
		if ((opts & WNOHANG) || tries == STOP_WAIT_RETRIES)
			return 0;
	}
}

/* What this kernel's waitid does as Linux does (bits, asked once,
 * lazily): WAIT_STOPS_RIGHT, it reports stops and continues right (not as
 * gVisor does, see waitid_stop_safe); WAIT_INFOP_EXACT, it writes only the
 * six fields of infop SYSCALL_DEFINE5(waitid) writes (gVisor writes the
 * whole siginfo). Asked of a grandchild that stops itself, so that the
 * program gets no SIGCHLD: the child is cloned with no exit signal and
 * reports through its exit status. Returns the bits, 0 if unknown.
 * Signal-safe; all signals blocked. */
#define WAIT_STOPS_RIGHT 1
#define WAIT_INFOP_EXACT 2
static int wait_facts(void)
{
	static volatile int known; /* 0 unknown, else 4 | the bits */
	if (known)
		return known & 3;
	long c = sf_syscall6(SF_NR_clone, 0, 0, 0, 0, 0, 0);
	if (c == 0) {
		long g = sf_syscall6(SF_NR_clone, SIGCHLD, 0, 0, 0, 0, 0);
		if (g == 0) {
			sf_sys2(SF_NR_kill, sf_getpid(), SIGSTOP);
			sf_sys1(SF_NR_exit_group, 0);
		}
		siginfo_t si;
		int facts = 0;
		/* g has not exited: no report, and only the fields written */
		memset(&si, 0x5a, sizeof si);
		if (g > 0 && sf_sys5(SF_NR_waitid, P_PID, g, &si,
				     WEXITED | WNOHANG, 0) == 0 &&
		    ((unsigned char *)&si)[12] == 0x5a &&
		    ((unsigned char *)&si)[sizeof si - 1] == 0x5a)
			facts |= WAIT_INFOP_EXACT;
		memset(&si, 0, sizeof si);
		long r = g < 0 ? g : sf_sys5(SF_NR_waitid, P_PID, g, &si,
					       WSTOPPED, 0);
		if (r == 0 && si.si_code == CLD_STOPPED && si.si_status == SIGSTOP)
			facts |= WAIT_STOPS_RIGHT;
		if (g > 0) {
			sf_sys2(SF_NR_kill, g, SIGKILL);
			sf_sys4(SF_NR_wait4, g, 0, 0, 0);
		}
		sf_sys1(SF_NR_exit_group, 4 | facts);
	}
	int st = 0;
	if (c < 0 || sf_sys4(SF_NR_wait4, c, &st, __WALL, 0) != c ||
	    !WIFEXITED(st) || !(WEXITSTATUS(st) & 4))
		return 0; /* unknown this time: ask again next time */
	known = WEXITSTATUS(st) & 7;
	return known & 3;
}

static int stop_reports_right(void)
{
	return wait_facts() & WAIT_STOPS_RIGHT;
}

/* The wait itself, for PID of pidfd FD, and the copy-out of its result
 * R (or, with R == 1, of the wait made here with OPTS). */
static long wait_pid(const struct sf_caller *c, long r, int fd, pid_t pid,
		     uintptr_t infop, int options, int opts, int nonblock,
		     uintptr_t ru)
{
	siginfo_t si;
	struct rusage rus;
	memset(&si, 0, sizeof si);
	if (r == 1) {
		if (opts & (WSTOPPED | WCONTINUED))
			r = waitid_stop_safe(c, pid, &si, opts, ru ? &rus : 0);
		else
			r = c_waitid(c, pid, &si, opts, ru ? &rus : 0);
		if (r == 0 && si.si_pid == pid && !(options & WNOWAIT) &&
		    (si.si_code == CLD_EXITED || si.si_code == CLD_KILLED ||
		     si.si_code == CLD_DUMPED))
			caller_reaped(c, fd, &si);
		if (r == 0 && !(options & WNOHANG) && si.si_pid == 0 && nonblock)
			r = -EAGAIN;
	}
	/* As SYSCALL_DEFINE5(waitid) (kernel/exit.c): the rusage only for a
	 * reported child (EFAULT before infop is touched), then the six
	 * fields of infop, zero after an error, EFAULT over any error. */
	if (r < 0)
		memset(&si, 0, sizeof si);
	if (r == 0 && si.si_pid && ru &&
	    c->write(c, ru, &rus, sizeof rus) < 0) {
		r = -EFAULT;
	} else if (infop) {
		const struct sf_piece p[2] = {
			{infop, &si, 12},                  /* signo, errno, code */
			{infop + 16, (char *)&si + 16, 12}, /* pid, uid, status */
		};
		if (sf_write_pieces(c, p, 2) < 0)
			r = -EFAULT;
	}
	return r;
}

long sf_waitid_pidfd(const struct sf_caller *c, int fd, uintptr_t infop,
		     int options, uintptr_t ru)
{
	long r, pid = 0;
	const int known = WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED |
			  __WNOTHREAD | __WCLONE | __WALL;
	int nonblock = 0, opts = options;
	if ((options & ~known) || !(options & (WEXITED | WSTOPPED | WCONTINUED))) {
		r = -EINVAL;
		goto out;
	}
	if (fd < 0) {
		r = -EINVAL;
		goto out;
	}
	/* eligible_child: __WALL takes every child, whatever __WCLONE says.
	 * gVisor's waitid refuses the two together (EINVAL); Linux takes
	 * them: the P_PID calls below get __WALL alone. */
	if (options & __WALL)
		opts = options &= ~__WCLONE;
	/* PIDFD_NONBLOCK only matters to a call that would block. */
	pid = sf_caller_pidfd(c, fd, 0, options & WNOHANG ? 0 : &nonblock);
	/* reaped: no such child any more; outside the caller's pid
	 * namespace: never its child */
	if (pid == -ESRCH || pid == -EREMOTE) {
		r = -ECHILD;
		goto out;
	}
	if (pid < 0) {
		r = pid;
		goto out;
	}
	if (nonblock)
		opts |= WNOHANG;
	/* A wait that blocks is the caller's own waitid(P_PID), interruptible
	 * and restartable as the kernel's; the kernel then writes infop and
	 * ru itself. The watch learns of a reap from F_GETOWN (pidtab). */
	int stops = opts & (WSTOPPED | WCONTINUED);
	if (!(opts & WNOHANG) && c->tail &&
	    (!stops || stop_reports_right() || c->defer_stop_wait)) {
		const long ta[6] = {P_PID, pid, (long)infop, options, (long)ru, 0};
		/* What the kernel leaves there after an error (EINTR): gVisor
		 * leaves P_PID's infop alone then. Not where a bad rusage
		 * makes the kernel skip infop; a fault is the call's. */
		struct rusage cur;
		if (infop && (!ru || (c->read(c, &cur, ru, sizeof cur) == 0 &&
				      c->write(c, ru, &cur, sizeof cur) == 0))) {
			static const siginfo_t zero;
			const struct sf_piece p[2] = {
				{infop, &zero, 12}, {infop + 16, &zero, 12}};
			sf_write_pieces(c, p, 2);
		}
		if (stops && !stop_reports_right() ?
			    c->defer_stop_wait(c, (pid_t)pid, infop, options, ru) == 0
			    : c->tail(c, SF_NR_waitid, ta) == 0) {
			r = SF_TAIL;
			goto out;
		}
	}
	/* One that cannot block and needs nothing done after it is the
	 * caller's own waitid(P_PID) too where the front end has it make the
	 * call as its last step (trace mode: no stop more) and the kernel's
	 * copy-out is Linux's: the kernel then writes infop and ru itself. */
	if ((options & WNOHANG) && c->last && c->reaps_seen &&
	    (wait_facts() & WAIT_INFOP_EXACT) && (!stops || stop_reports_right())) {
		const long ta[6] = {P_PID, pid, (long)infop, options, (long)ru, 0};
		if (c->last(c, SF_NR_waitid, ta, 0, 0) == 0) {
			r = SF_TAIL;
			goto out;
		}
	}
	r = wait_pid(c, 1, fd, (pid_t)pid, infop, options, opts, nonblock, ru);
	sf_log(SF_LOG_DEBUG, "waitid(P_PIDFD, %d, %x) = %ld%s%s", fd, options, r,
	       r < 0 ? " " : "", r < 0 ? sf_errname(r) : "");
	return r;
out:
	if (r == SF_TAIL) {
		sf_log(SF_LOG_DEBUG, "waitid(P_PIDFD, %d, %x): left to the caller",
		       fd, options);
		return r;
	}
	r = wait_pid(c, r, fd, (pid_t)pid, infop, options, opts, 0, ru);
	sf_log(SF_LOG_DEBUG, "waitid(P_PIDFD, %d, %x) = %ld%s%s", fd, options, r,
	       r < 0 ? " " : "", r < 0 ? sf_errname(r) : "");
	return r;
}

long sf_waitid_resume(const struct sf_caller *c, long r, int fd, pid_t pid,
		      uintptr_t infop, int options, uintptr_t ru)
{
	/* The peek found a report (or failed): take it without blocking. */
	if (r == 0)
		r = 1;
	return wait_pid(c, r, fd, pid, infop, options, options | WNOHANG, 0, ru);
}

#define CAP_SYS_PTRACE_BIT (1ULL << 19)

/* The numbers of the uid_map of /proc directory DIR, up to N. Returns
 * how many, or -errno. */
static long uid_map(const char *dir, uint64_t *v, int n)
{
	char path[128], buf[512];
	sf_fmt(path, sizeof path, "%s/uid_map", dir);
	long len = proc_read(path, buf, sizeof buf);
	if (len < 0)
		return len;
	int i = 0;
	for (const char *p = buf; *p && i < n;) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (*p < '0' || *p > '9')
			break;
		v[i++] = proc_number(p);
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return i;
}

/* Does a capability of ours count in PID's user namespace? Namespace links
 * are no help (gVisor shows another inode for each process): the same
 * uid mapping is read as the same namespace, and the initial namespace's
 * (0 0 4294967295) as the ancestor of every other; unreadable maps as one
 * namespace. */
static int same_user_ns_or_below(const struct sf_caller *c, long pid)
{
	uint64_t a[30], b[30];
	char dir[96];
	sf_fmt(dir, sizeof dir, "%s/%ld", sf_caller_proc(c), pid);
	long na = uid_map(sf_caller_self(c), a, 30), nb = uid_map(dir, b, 30);
	if (na <= 0 || nb <= 0)
		return 1;
	if (na == 3 && a[0] == 0 && a[1] == 0 && a[2] == 4294967295ULL)
		return 1;
	return na == nb && !memcmp(a, b, (size_t)na * sizeof a[0]);
}

/* ptrace_may_access(task, PTRACE_MODE_ATTACH_REALCREDS) as kernel/ptrace.c
 * (__ptrace_may_access) and Yama decide it, from /proc: the same thread
 * group; or the caller's real uid and gid equal to each of the target's
 * real/effective/saved ids, or CAP_SYS_PTRACE; then a target that is not
 * dumpable (its /proc/PID belongs to root while its euid is not root)
 * needs CAP_SYS_PTRACE; then Yama's ptrace_scope (1: the caller is an
 * ancestor, 2: CAP_SYS_PTRACE, 3: never). A capability counts in the
 * target's user namespace when both share one or the caller is in the
 * initial one; PR_SET_PTRACER exceptions are not visible in /proc.
 * The credentials are C's (its /proc status), never the engine's
 * process's. Returns 0, -EPERM, or -ESRCH (the target is gone). */
static long ptrace_attach_allowed(const struct sf_caller *c, long pid)
{
	long self = c_sys(c, SF_NR_getpid, 0, 0, 0, 0, 0);
	if (pid == self)
		return 0;
	const char *root = sf_caller_proc(c);
	char path[128], buf[2048];
	uint64_t uid[3], gid[3], cap = 0, ruid = (uint64_t)-1, rgid = (uint64_t)-1;
	sf_fmt(path, sizeof path, "%s/%ld/status", root, pid);
	if (proc_read(path, buf, sizeof buf) <= 0)
		return -ESRCH;
	if (proc_status_field(buf, "Uid", uid, 3, 10) != 3 ||
	    proc_status_field(buf, "Gid", gid, 3, 10) != 3)
		return -EPERM;
	sf_fmt(path, sizeof path, "%s/status", sf_caller_self(c));
	if (proc_read(path, buf, sizeof buf) > 0) {
		proc_status_field(buf, "CapEff", &cap, 1, 16);
		proc_status_field(buf, "Uid", &ruid, 1, 10);
		proc_status_field(buf, "Gid", &rgid, 1, 10);
	}
	int capable = (cap & CAP_SYS_PTRACE_BIT) && same_user_ns_or_below(c, pid);
	int same = 1;
	for (int i = 0; i < 3; i++)
		same &= uid[i] == ruid && gid[i] == rgid;
	if (!same && !capable)
		return -EPERM;
	/* get_dumpable() != SUID_DUMP_USER: /proc/PID is root's (task_dump_owner)
	 * while the euid is another user's; a zombie (no mm) is not checked
	 * (its /proc/PID shows the euid again). */
	struct {
		uint64_t dev, ino, nlink;
		uint32_t mode, uid, gid;
		char rest[108];
	} st;
	sf_fmt(path, sizeof path, "%s/%ld", root, pid);
	if (sf_sys4(SF_NR_newfstatat, AT_FDCWD, path, &st, 0) < 0)
		return -ESRCH;
	if (st.uid == 0 && uid[1] != 0 && !capable)
		return -EPERM;
	/* gVisor keeps /proc/PID the euid's: ask its own dumpable check,
	 * which guards /proc/PID/cwd (a zombie has none: ENOENT), as C */
	char link[8];
	int len = sf_fmt(path, sizeof path, "/proc/%ld/cwd", pid);
	const long ra[6] = {0, 0, sizeof link, 0, 0, 0};
	const struct sf_buf rb[2] = {{0, SF_BUF_IN, path, (size_t)len + 1},
				     {1, SF_BUF_OUT, link, sizeof link}};
	if (!capable &&
	    sf_caller_sys(c, SF_NR_readlink, ra, rb, 2) == -EACCES)
		return -EPERM;
	if (proc_read("/proc/sys/kernel/yama/ptrace_scope", buf, 8) <= 0)
		return 0;
	switch (buf[0]) {
	case '0':
		return 0;
	case '1': /* task_is_descendant: walk the real parents */
		if (capable)
			return 0;
		for (long p = pid, n = 0; p > 1 && n < 4096; n++) {
			p = proc_stat_field_in(root, (pid_t)p, 4);
			if (p == self)
				return 0;
		}
		return -EPERM;
	case '2':
		return capable ? 0 : -EPERM;
	default:
		return -EPERM;
	}
}

/* The flags F_SETFL can give a file (fs/fcntl.c SETFL_MASK). */
#define SETFL_FLAGS (O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME)

long sf_pidfd_getfd(int fd, int targetfd, unsigned flags)
{
	return sf_pidfd_getfd_as(&sf_self_caller, fd, targetfd, flags);
}

long sf_pidfd_getfd_as(const struct sf_caller *c, int fd, int targetfd,
		       unsigned flags)
{
	long r;
	const char *root = sf_caller_proc(c);
	if (flags) {
		r = -EINVAL;
		goto out;
	}
	long pid = sf_caller_pidfd(c, fd, 0, 0);
	if (pid < 0) {
		/* outside the caller's pid namespace the kernel still reaches
		 * the process; no number names it here (a limit) */
		r = pid == -EREMOTE ? -ESRCH : pid;
		goto out;
	}
	/* The caller's own process: the file itself (receive_fd: the same
	 * open file description at the lowest free number, close-on-exec),
	 * which the reopen below cannot give (a reaped process's /proc dir,
	 * anonymous inodes); ptrace_may_access allows one's own group. A
	 * thread pidfd's files are its group's. */
	pid_t tg = fd_thread_group(c, fd);
	if ((tg ? tg : pid) == c_sys(c, SF_NR_getpid, 0, 0, 0, 0, 0)) {
		r = c_sys(c, SF_NR_fcntl, targetfd, F_DUPFD_CLOEXEC, 0, 0, 0);
		goto out;
	}
	/* __pidfd_fget: the permission first, then the fd. */
	r = ptrace_attach_allowed(c, pid);
	if (r < 0)
		goto out;
	/* Without the call the only way in is /proc/PID/fd/N, which opens the
	 * file anew: a new open file description, given the target's access
	 * mode, status flags and offset (fdinfo) at this moment; the offset
	 * is not shared afterwards (README). */
	char path[128], buf[256];
	sf_fmt(path, sizeof path, "%s/%ld/fdinfo/%d", root, pid, targetfd);
	long n = proc_read(path, buf, sizeof buf);
	if (n < 0) {
		char state = 0;
		/* Linux 6.9+: an exiting process's files are gone: ESRCH. Our
		 * waiter may not have seen the exit yet: ask /proc. */
		r = n == -ENOENT ? (proc_stat_in(root, (pid_t)pid, 0, &state) < 0 ||
				    state == 'Z' ||
				    state == 'X' ? -ESRCH : -EBADF)
		    : n == -EACCES ? -EPERM : n;
		goto out;
	}
	if (n == 0) {
		r = -EBADF;
		goto out;
	}
	long fl = 0;
	uint64_t pos = 0;
	char *f = strstr(buf, "flags:");
	if (f) {
		for (f += 6; *f == ' ' || *f == '\t'; f++)
			;
		while (*f >= '0' && *f <= '7')
			fl = fl * 8 + (*f++ - '0');
	}
	f = strstr(buf, "pos:");
	if (f) {
		for (f += 4; *f == ' ' || *f == '\t'; f++)
			;
		pos = proc_number(f);
	}
	/* Opened non-blocking (a FIFO must not block the handler) and as no
	 * controlling terminal; O_SYNC/O_DSYNC and O_PATH only come with the
	 * open; the F_SETFL flags are put as the target has them. */
	int oflags = (fl & O_PATH) ? O_PATH
				   : (int)(fl & (O_ACCMODE | O_SYNC | O_DSYNC)) |
					     O_NONBLOCK | O_NOCTTY;
	/* opened by C, in its own /proc */
	int len = sf_fmt(path, sizeof path, "/proc/%ld/fd/%d", pid, targetfd);
	const long oa[6] = {AT_FDCWD, 0, oflags | O_CLOEXEC, 0, 0, 0};
	const struct sf_buf ob = {1, SF_BUF_IN, path, (size_t)len + 1};
	r = sf_caller_sys(c, SF_NR_openat, oa, &ob, 1);
	if (r < 0) {
		/* __pidfd_fget: a process past exit_files has no files
		 * (ESRCH), whatever the reopen says (gVisor still shows a
		 * zombie's fdinfo, then refuses the open: ENODEV). */
		char state = 0;
		if (proc_stat_in(root, (pid_t)pid, 0, &state) < 0 ||
		    state == 'Z' || state == 'X')
			r = -ESRCH;
	}
	if (r == -ENOENT)
		r = -EBADF;
	else if (r == -EACCES)
		r = -EPERM;
	if (r < 0 || (fl & O_PATH))
		goto out;
	long want = fl & SETFL_FLAGS;
	if (c_sys(c, SF_NR_fcntl, r, F_SETFL, want, 0, 0) < 0)
		/* O_DIRECT or O_NOATIME refused for the new description: keep
		 * the others */
		c_sys(c, SF_NR_fcntl, r, F_SETFL, want & ~(O_DIRECT | O_NOATIME),
		      0, 0);
	if (pos)
		c_sys(c, SF_NR_lseek, r, (long)pos, SEEK_SET, 0, 0);
out:
	sf_log(SF_LOG_DEBUG, "pidfd_getfd(%d, %d, %x) = %ld%s%s", fd, targetfd,
	       flags, r, r < 0 ? " " : "", r < 0 ? sf_errname(r) : "");
	return r;
}

/* The exit information of the watch behind pidfd FD (zeroed if none,
 * or another front end's that keeps none). */
static void fd_exit_info(const struct sf_caller *c, int fd, struct sf_watch *e)
{
	memset(e, 0, sizeof *e);
	if (c->pidfd) {
		if (c->watch && c->watch(c, fd, e) < 0)
			memset(e, 0, sizeof *e);
		return;
	}
	sf_lock();
	int idx = pidtab_resolve(fd);
	if (idx >= 0)
		*e = *pidtab_watch(idx);
	sf_unlock();
}

/* PIDFD_GET_INFO as pidfd_info (fs/pidfs.c, 6.18): exit information (E,
 * a copy of the watch) once reaped and only as asked; of a reaped
 * process nothing else, and ESRCH if not asked; else identifiers and
 * credentials always, the cgroup id where cgroup2 shows it, COREDUMP as
 * asked (the mask bit even when nothing is known); a size past the
 * kernel's struct is zeroed. */
static long pidfd_get_info(const struct sf_caller *c, long pid, int reaped,
			   const struct sf_watch *e, unsigned cmd, uintptr_t arg)
{
	size_t usize = IOC_SIZE(cmd);
	struct pidfd_info_k k;
	uint64_t mask;
	if (!arg)
		return -EINVAL;
	if (c->read(c, &mask, arg, sizeof mask) < 0)
		return -EFAULT;
	memset(&k, 0, sizeof k);
	if ((mask & PIDFD_INFO_EXIT) && reaped && e->exit_known) {
		k.mask |= PIDFD_INFO_EXIT;
		k.exit_code = e->exit_code;
		k.cgroupid = e->exit_cgroupid;
		if (k.cgroupid)
			k.mask |= PIDFD_INFO_CGROUPID;
	}
	if (mask & PIDFD_INFO_COREDUMP) {
		k.mask |= PIDFD_INFO_COREDUMP;
		/* pidfs_coredump: how it was dumped (as the user: the
		 * default of suid_dumpable 0) and that it was */
		if (e->exit_known && e->exit_dumped)
			k.coredump_mask = 4 | 1;
	}
	if (reaped) {
		if (!(mask & PIDFD_INFO_EXIT))
			return -ESRCH; /* only exit information is left */
		goto copy_out;
	}
	const char *root = sf_caller_proc(c);
	char path[128], buf[2048];
	uint64_t v[4];
	sf_fmt(path, sizeof path, "%s/%ld/status", root, pid);
	if (proc_read(path, buf, sizeof buf) <= 0)
		return -ESRCH;
	if (proc_status_field(buf, "Uid", v, 4, 10) == 4) {
		k.ruid = (uint32_t)v[0], k.euid = (uint32_t)v[1];
		k.suid = (uint32_t)v[2], k.fsuid = (uint32_t)v[3];
	}
	if (proc_status_field(buf, "Gid", v, 4, 10) == 4) {
		k.rgid = (uint32_t)v[0], k.egid = (uint32_t)v[1];
		k.sgid = (uint32_t)v[2], k.fsgid = (uint32_t)v[3];
	}
	k.mask |= PIDFD_INFO_CREDS;
	if (proc_status_field(buf, "Tgid", v, 1, 10) == 1)
		k.tgid = (uint32_t)v[0];
	if (proc_status_field(buf, "PPid", v, 1, 10) == 1)
		k.ppid = (uint32_t)v[0];
	/* PIDFD_COREDUMP_USER / _SKIP from the mm's dumpability (see
	 * ptrace_attach_allowed); a zombie has no mm */
	char state = 0;
	if ((mask & PIDFD_INFO_COREDUMP) && !k.coredump_mask &&
	    proc_stat_in(root, (pid_t)pid, 0, &state) == 0 &&
	    state != 'Z' && state != 'X') {
		struct {
			uint64_t dev, ino, nlink;
			uint32_t mode, uid, gid;
			char rest[108];
		} st;
		sf_fmt(path, sizeof path, "%s/%ld", root, pid);
		if (sf_sys4(SF_NR_newfstatat, AT_FDCWD, path, &st, 0) == 0)
			k.coredump_mask = st.uid == 0 && k.euid != 0 ? 2 : 4;
	}
	k.cgroupid = sf_caller_cgroup2_id(c, pid);
	if (k.cgroupid)
		k.mask |= PIDFD_INFO_CGROUPID;
	k.pid = (uint32_t)pid;
	k.mask |= PIDFD_INFO_PID;
	if (!k.pid || !k.tgid)
		return -ESRCH;
copy_out:;
	/* copy_struct_to_user: the tail past our struct zeroed first */
	static const char zero[256];
	for (size_t off = sizeof k; off < usize;) {
		size_t n = usize - off < sizeof zero ? usize - off : sizeof zero;
		if (c->write(c, arg + off, zero, n) < 0)
			return -EFAULT;
		off += n;
	}
	if (c->write(c, arg, &k, usize < sizeof k ? usize : sizeof k) < 0)
		return -EFAULT;
	return 0;
}

long sf_pidfd_ioctl(const struct sf_caller *c, int fd, unsigned cmd,
		    uintptr_t arg)
{
	static const char *const ns[] = {
		0, "cgroup", "ipc", "mnt", "net", "pid", "pid_for_children",
		"time", "time_for_children", "user", "uts"};
	long pid = sf_caller_pidfd(c, fd, 0, 0);
	struct sf_watch e;
	fd_exit_info(c, fd, &e);
	long r;
	const char *root = sf_caller_proc(c);
	if (pid == -EBADF) { /* not an emulated pidfd: the kernel's */
		const long a[6] = {fd, cmd, (long)arg, 0, 0, 0};
		r = c->pidfd ? sf_caller_last(c, SF_NR_ioctl, a, 0, 0)
			     : sf_gate_call(SF_NR_ioctl, fd, cmd, (long)arg, 0);
		goto out;
	}
	/* pidfs_ioctl_valid: the namespace commands, and PIDFD_GET_INFO of
	 * the right type, direction and at least its first size. */
	int info = IOC_NR(cmd) == PIDFD_INFO_NR &&
		   IOC_TYPE(cmd) == PIDFS_IOC_TYPE && IOC_DIR(cmd) == IOC_RW &&
		   IOC_SIZE(cmd) >= PIDFD_INFO_SIZE_VER0;
	int nsc = cmd >= ((PIDFS_IOC_TYPE << 8) | 1) &&
		  cmd <= ((PIDFS_IOC_TYPE << 8) | 10);
	if (!info && !nsc) {
		r = -ENOTTY;
		goto out;
	}
	if (info) {
		/* no pid in the caller's namespace: EREMOTE (pidfd_info) */
		r = pid == -EREMOTE ? -EREMOTE :
		    pidfd_get_info(c, pid < 0 ? 0 : pid, pid == -ESRCH, &e, cmd, arg);
		goto out;
	}
	if (pid < 0) {
		/* outside the caller's pid namespace: no /proc entry to open
		 * its namespaces from here (a limit) */
		r = pid == -EREMOTE ? -ESRCH : pid;
		goto out;
	}
	if (arg) {
		r = -EINVAL;
		goto out;
	}
	char state = 0;
	if (proc_stat_in(root, (pid_t)pid, 0, &state) < 0 || state == 'Z' ||
	    state == 'X') {
		r = -ESRCH; /* exited: no nsproxy any more */
		goto out;
	}
	/* open_namespace: an nsfs file, as /proc/PID/ns/NAME opens it (the
	 * same ptrace READ_FSCREDS check, EACCES), by C in its own /proc. */
	char path[64];
	int len = sf_fmt(path, sizeof path, "/proc/%ld/ns/%s", pid, ns[IOC_NR(cmd)]);
	const long oa[6] = {AT_FDCWD, 0, O_RDONLY | O_CLOEXEC, 0, 0, 0};
	const struct sf_buf ob = {1, SF_BUF_IN, path, (size_t)len + 1};
	r = sf_caller_sys(c, SF_NR_openat, oa, &ob, 1);
	if (r == -ENOENT)
		r = proc_stat_in(root, (pid_t)pid, 0, 0) < 0 ? -ESRCH : -EOPNOTSUPP;
out:
	sf_log(SF_LOG_DEBUG, "ioctl(%d, %x, %lx) = %ld%s%s", fd, cmd,
	       (unsigned long)arg, r, r < 0 ? " " : "", r < 0 ? sf_errname(r) : "");
	return r;
}

long sf_engine_call(const struct sf_caller *c, long nr, const long a[6])
{
	switch (nr) {
	case SF_NR_pidfd_open:
		return sf_pidfd_open((pid_t)a[0], (unsigned)a[1]);
	case SF_NR_pidfd_send_signal:
		return sf_pidfd_send_signal(c, (int)a[0], (int)a[1],
					    (uintptr_t)a[2], (unsigned)a[3]);
	case SF_NR_ioctl:
		return sf_pidfd_ioctl(c, (int)a[0], (unsigned)a[1], (uintptr_t)a[2]);
	case SF_NR_pidfd_getfd:
		return sf_pidfd_getfd_as(c, (int)a[0], (int)a[1], (unsigned)a[2]);
	case SF_NR_waitid:
		if ((int)a[0] == P_PIDFD)
			return sf_waitid_pidfd(c, (int)a[1], (uintptr_t)a[2],
					       (int)a[3], (uintptr_t)a[4]);
		return sf_syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	}
	return -ENOSYS;
}

/* The direct caller's tail: the call is recorded and made once the
 * caller's signal mask is back (sf_engine_call_masked). */
struct masked_caller {
	struct sf_caller c; /* first: the engine's view */
	long nr, a[6];
};

static long masked_tail(const struct sf_caller *c, long nr, const long a[6])
{
	struct masked_caller *m = (struct masked_caller *)c;
	m->nr = nr;
	__builtin_memcpy(m->a, a, sizeof m->a);
	return 0;
}

long sf_engine_call_masked(long nr, const long a[6])
{
	sigset_t all, old;
	struct masked_caller m = {sf_self_caller, 0, {0}};
	m.c.tail = masked_tail;
	sigfillset(&all);
	sf_sigmask(SIG_SETMASK, &all, &old);
	long r = sf_engine_call(&m.c, nr, a);
	sf_sigmask(SIG_SETMASK, &old, 0);
	if (r == SF_TAIL)
		r = sf_syscall6(m.nr, m.a[0], m.a[1], m.a[2], m.a[3], m.a[4],
				m.a[5]);
	return r;
}
