/* `sysfill probe`: what the running kernel (or sandbox) offers.
 *
 * Every probe runs in a forked worker that sends a fixed-size report back
 * through a pipe and exits: children it makes, fds it opens and filters it
 * loads die with it, never in the sysfill process. Probes that load a
 * seccomp filter run one level deeper, so the filter cannot distort the
 * probes after it. */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "sysfill/uapi.h"
#include "tracer.h"

enum pstatus { PS_NATIVE, PS_MISSING, PS_IGNORED, PS_ERROR, PS_UNKNOWN };
static const char *const pstatus_word[] = {
	"native", "missing", "ignored", "error", "unknown"};
/* The same states for seccomp, ptrace, proc connector. */
static const char *const facility_word[] = {
	"usable", "unusable", "ignored", "error", "unknown"};

struct pres {
	int status;
	int err;          /* errno of the answer, 0 if none */
	char note[120];   /* why: "seccomp profile", "as before 5.4", ... */
};

struct report {
	struct pres feat[KF_COUNT];
	struct pres seccomp, ptrace, proc_cn;
	int seccomp_mode; /* Seccomp: line of /proc/self/status, -1 unknown */
};

/* ---- helpers ------------------------------------------------------- */

/* Raw system call by name. Returns the result or -errno. */
static long sc(const char *name, long a0, long a1, long a2, long a3, long a4)
{
	long nr = sysnr(name);
	if (nr < 0)
		return -ENOSYS;
	long r = syscall(nr, a0, a1, a2, a3, a4, 0L);
	return r < 0 ? -errno : r;
}

static void set(struct pres *p, int status, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void set(struct pres *p, int status, int err, const char *fmt, ...)
{
	p->status = status;
	p->err = err;
	p->note[0] = 0;
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(p->note, sizeof p->note, fmt, ap);
		va_end(ap);
	}
}

static int seccomp_mode(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	if (!f)
		return -1;
	char line[256];
	int mode = -1;
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, "Seccomp:", 8))
			mode = atoi(line + 8);
	fclose(f);
	return mode;
}

/* Classify a failed answer r (< 0) of the call behind feature id. */
static void set_failed(struct report *rep, int id, long r, const char *why)
{
	struct pres *p = &rep->feat[id];
	int e = (int)-r;
	char v[16];
	kversion_str(kfeatures[id].since, v, sizeof v);
	if (e == ENOSYS)
		set(p, PS_MISSING, e, "%s", why ? why : "");
	else if (e == EPERM)
		set(p, PS_MISSING, e, "%s", rep->seccomp_mode == 2
			    ? "seccomp profile" : "not permitted");
	else if (e == EINVAL && why)
		set(p, PS_MISSING, e, "%s, as before %s", why, v);
	else
		set(p, PS_ERROR, e, "unexpected answer");
}

/* Fork, run fn(arg, out) in the child, copy out back. Returns 0, -ETIMEDOUT
 * (child killed after timeout_ms) or -errno. */
static int isolated(void (*fn)(void *, void *), void *arg, void *out,
		    size_t len, int timeout_ms)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return -e;
	}
	if (pid == 0) {
		close(p[0]);
		fn(arg, out);
		const char *b = out;
		for (size_t off = 0; off < len;) {
			ssize_t w = write(p[1], b + off, len - off);
			if (w <= 0)
				_exit(1);
			off += (size_t)w;
		}
		_exit(0);
	}
	close(p[1]);
	size_t off = 0;
	int r = 0;
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (off < len) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		long left = timeout_ms - ((t.tv_sec - t0.tv_sec) * 1000 +
					  (t.tv_nsec - t0.tv_nsec) / 1000000);
		struct pollfd pf = {.fd = p[0], .events = POLLIN};
		int n = left > 0 ? poll(&pf, 1, (int)left) : 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -ETIMEDOUT;
			kill(pid, SIGKILL);
			break;
		}
		ssize_t got = read(p[0], (char *)out + off, len - off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			r = -ECHILD; /* died before reporting */
			break;
		}
		off += (size_t)got;
	}
	close(p[0]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return r;
}

/* A child made by fork-like raw clone or fork: wait on the pipe, exit. */
static void child_wait_exit(int rfd, int wfd)
{
	char c;
	close(wfd);
	while (read(rfd, &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

static void reap(pid_t pid)
{
	while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
		;
}

/* clone(CLONE_PIDFD | SIGCHLD) without a new stack (fork-like). parent_tid
 * is the third argument of the raw call on x86-64, i386, arm64 and riscv.
 * Returns the child's pid (the child returns 0) or -errno. */
static long clone_pidfd(int *pidfd)
{
#if defined(__s390__) || defined(__s390x__)
	(void)pidfd;
	return -EOPNOTSUPP; /* (stack, flags, ...) order: not done here */
#else
	return sc("clone", CLONE_PIDFD | SIGCHLD, 0, (long)pidfd, 0, 0);
#endif
}

/* ---- facility probes ----------------------------------------------- */

static volatile sig_atomic_t got_sigsys;
static void on_sigsys(int sig)
{
	(void)sig;
	got_sigsys = 1;
}

/* In a disposable child: load a filter with an ERRNO and a TRAP rule and
 * check that both act. */
static void seccomp_test(void *arg, void *out)
{
	(void)arg;
	struct pres *p = out;
	long nr_ppid = sysnr("getppid"), nr_pgid = sysnr("getpgid");
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx || nr_ppid < 0 || nr_pgid < 0) {
		set(p, PS_ERROR, ENOMEM, "libseccomp setup failed");
		return;
	}
	/* The kernel's own errno, not libseccomp's ECANCELED. */
	seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
	int r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EXDEV), (int)nr_ppid, 0);
	if (!r)
		r = seccomp_rule_add(ctx, SCMP_ACT_TRAP, (int)nr_pgid, 0);
	if (!r)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r) {
		set(p, PS_MISSING, -r, "loading a filter failed");
		return;
	}
	long a = sc("getppid", 0, 0, 0, 0, 0);
	struct sigaction sa = {.sa_handler = on_sigsys};
	sigaction(SIGSYS, &sa, NULL);
	sc("getpgid", 0, 0, 0, 0, 0);
	if (a != -EXDEV)
		set(p, PS_ERROR, 0, "filter loaded but its ERRNO action did not act");
	else if (!got_sigsys)
		set(p, PS_ERROR, 0, "ERRNO works but TRAP raised no SIGSYS");
	else
		set(p, PS_NATIVE, 0, "filter loads; ERRNO and TRAP actions work");
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* PTRACE_SEIZE a child with PTRACE_O_TRACESECCOMP and see it stop at a
 * SECCOMP_RET_TRACE rule. Runs in the worker (it is the tracer). */
static void ptrace_test(struct pres *p)
{
	int go[2];
	if (pipe2(go, O_CLOEXEC) < 0) {
		set(p, PS_ERROR, errno, "pipe");
		return;
	}
	pid_t pid = fork();
	if (pid < 0) {
		set(p, PS_ERROR, errno, "fork");
		close(go[0]);
		close(go[1]);
		return;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(go[1]);
		char c;
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
		if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_TRACE(1),
					     (int)sysnr("getppid"), 0) ||
		    seccomp_load(ctx))
			_exit(3);
		sc("getppid", 0, 0, 0, 0, 0);
		_exit(0);
	}
	close(go[0]);
	long r = ptrace(PTRACE_SEIZE, pid, 0L,
			(long)(PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL));
	if (r < 0) {
		set(p, PS_MISSING, errno, "PTRACE_SEIZE failed");
		close(go[1]);
		kill(pid, SIGKILL);
		reap(pid);
		return;
	}
	struct sigaction sa = {.sa_handler = on_alarm}, old;
	sigaction(SIGALRM, &sa, &old);
	alarm(5);
	if (write(go[1], "g", 1) != 1)
		set(p, PS_ERROR, errno, "pipe write");
	close(go[1]);
	int st = 0, stopped = 0;
	for (;;) {
		pid_t w = waitpid(pid, &st, __WALL);
		if (w < 0) {
			set(p, PS_ERROR, errno, "waitpid on the tracee");
			kill(pid, SIGKILL);
			reap(pid);
			break;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			if (stopped)
				set(p, PS_NATIVE, 0, "PTRACE_SEIZE with "
				    "PTRACE_O_TRACESECCOMP works; seccomp stop seen");
			else if (WIFEXITED(st) && WEXITSTATUS(st) == 3)
				set(p, PS_ERROR, 0, "seize works; tracee could "
				    "not load a filter");
			else
				set(p, PS_ERROR, 0, "seize works but no seccomp "
				    "stop came");
			break;
		}
		if (WIFSTOPPED(st)) {
			if (st >> 8 == (SIGTRAP | (PTRACE_EVENT_SECCOMP << 8)))
				stopped = 1;
			int sig = WSTOPSIG(st);
			/* Pass real signals on; swallow our stops. */
			ptrace(PTRACE_CONT, pid, 0L,
			       (long)(sig == SIGTRAP || sig == SIGSTOP ? 0 : sig));
		}
	}
	alarm(0);
	sigaction(SIGALRM, &old, NULL);
}

/* Subscribe to the proc connector and wait for the exit of a child. */
static void proc_cn_test(struct pres *p)
{
	int s = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
	if (s < 0) {
		set(p, PS_MISSING, errno, "socket(NETLINK_CONNECTOR)");
		return;
	}
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC};
	if (bind(s, (struct sockaddr *)&sa, sizeof sa) < 0) {
		set(p, PS_MISSING, errno, "bind to CN_IDX_PROC");
		close(s);
		return;
	}
	struct {
		struct nlmsghdr nl;
		struct cn_msg cn;
		enum proc_cn_mcast_op op;
	} __attribute__((packed)) msg = {
		.nl = {.nlmsg_len = sizeof msg, .nlmsg_type = NLMSG_DONE,
		       .nlmsg_pid = (unsigned)getpid()},
		.cn = {.id = {.idx = CN_IDX_PROC, .val = CN_VAL_PROC},
		       .len = sizeof(enum proc_cn_mcast_op)},
		.op = PROC_CN_MCAST_LISTEN,
	};
	if (send(s, &msg, sizeof msg, 0) < 0) {
		set(p, PS_MISSING, errno, "PROC_CN_MCAST_LISTEN");
		close(s);
		return;
	}
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	if (pid < 0) {
		set(p, PS_ERROR, errno, "fork");
		close(s);
		return;
	}
	int seen = 0;
	for (int tries = 0; tries < 200 && !seen; tries++) {
		struct pollfd pf = {.fd = s, .events = POLLIN};
		if (poll(&pf, 1, 10) <= 0)
			continue;
		char buf[4096] __attribute__((aligned(NLMSG_ALIGNTO)));
		ssize_t n = recv(s, buf, sizeof buf, MSG_DONTWAIT);
		if (n <= 0)
			continue;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf;
		     NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			struct cn_msg *cn = NLMSG_DATA(h);
			if (cn->len < sizeof(struct proc_event))
				continue;
			struct proc_event *ev = (struct proc_event *)cn->data;
			if (ev->what == PROC_EVENT_EXIT &&
			    ev->event_data.exit.process_pid == pid)
				seen = 1;
		}
	}
	reap(pid);
	close(s);
	if (seen)
		set(p, PS_NATIVE, 0, "exit events arrive");
	else
		set(p, PS_ERROR, 0, "subscribed, but no exit event within 2 s");
}

/* ---- the feature probes -------------------------------------------- */

/* Get a pidfd for a child that exits when wfd is closed. Returns the pidfd
 * or -1; *child is its pid. */
static int pollable_child(struct report *rep, int rfd, int wfd, pid_t *child)
{
	if (rep->feat[KF_PIDFD_OPEN].status == PS_NATIVE) {
		pid_t pid = fork();
		if (pid == 0)
			child_wait_exit(rfd, wfd);
		if (pid < 0)
			return -1;
		*child = pid;
		int fd = (int)sc("pidfd_open", pid, 0, 0, 0, 0);
		return fd < 0 ? -1 : fd;
	}
	if (rep->feat[KF_CLONE_PIDFD].status == PS_NATIVE) {
		int fd = -1;
		long pid = clone_pidfd(&fd);
		if (pid == 0)
			child_wait_exit(rfd, wfd);
		if (pid < 0)
			return -1;
		*child = (pid_t)pid;
		return fd;
	}
	return -1;
}

static void probe_poll(struct report *rep)
{
	struct pres *p = &rep->feat[KF_PIDFD_POLL];
	int pp[2];
	if (pipe2(pp, O_CLOEXEC) < 0) {
		set(p, PS_ERROR, errno, "pipe");
		return;
	}
	pid_t child = -1;
	int fd = pollable_child(rep, pp[0], pp[1], &child);
	close(pp[0]);
	if (fd < 0) {
		close(pp[1]);
		if (child > 0)
			reap(child);
		set(p, PS_UNKNOWN, 0, "no pidfd to test: pidfd_open and "
		    "CLONE_PIDFD unavailable");
		return;
	}
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	int early = poll(&pf, 1, 0);
	close(pp[1]); /* the child exits now */
	pf.revents = 0;
	int late = poll(&pf, 1, 5000);
	if (early > 0)
		set(p, PS_MISSING, 0, "poll reports ready while the process "
		    "runs, as before 5.3");
	else if (late > 0 && (pf.revents & POLLIN))
		set(p, PS_NATIVE, 0, "POLLIN when the process exits");
	else
		set(p, PS_MISSING, 0, "no POLLIN within 5 s of the exit");
	siginfo_t si = {0};
	if (rep->feat[KF_WAITID_PIDFD].status == PS_NATIVE &&
	    sc("waitid", P_PIDFD, fd, (long)&si, WEXITED, 0) == 0 &&
	    si.si_pid == child) {
		/* confirms waitid(P_PIDFD) beyond its EBADF probe */
	} else {
		reap(child);
	}
	close(fd);
}

/* The pidfs ioctls (6.11, 6.13, 6.15) on PIDFD (of this process) and on a
 * pidfd of a reaped child. */
static void probe_pidfd_ioctls(struct report *rep, long pidfd)
{
	struct pres *f = rep->feat;
	const int ids[] = {KF_PIDFD_NS_IOCTL, KF_PIDFD_GET_INFO, KF_PIDFD_INFO_EXIT};
	if (pidfd < 0) {
		for (int i = 0; i < 3; i++)
			set(&f[ids[i]], PS_UNKNOWN, 0, "no pidfd to test");
		return;
	}
	long r = sc("ioctl", pidfd, 0xff03, 0, 0, 0); /* PIDFD_GET_MNT_NAMESPACE */
	if (r >= 0) {
		close((int)r);
		set(&f[KF_PIDFD_NS_IOCTL], PS_NATIVE, 0, "mount namespace fd of self");
	} else {
		set(&f[KF_PIDFD_NS_IOCTL], r == -ENOTTY ? PS_MISSING : PS_ERROR,
		    (int)-r, r == -ENOTTY ? "no pidfd ioctls" : "unexpected answer");
	}
	uint64_t info[11] = {0};
	r = sc("ioctl", pidfd, 0xc058ff0b, (long)info, 0, 0); /* PIDFD_GET_INFO */
	if (r == 0)
		set(&f[KF_PIDFD_GET_INFO], PS_NATIVE, 0, "information of self");
	else
		set(&f[KF_PIDFD_GET_INFO], r == -ENOTTY ? PS_MISSING : PS_ERROR,
		    (int)-r, r == -ENOTTY ? "no pidfd ioctls" : "unexpected answer");
	pid_t c = fork();
	if (c == 0)
		_exit(5);
	long cfd = c > 0 ? sc("pidfd_open", c, 0, 0, 0, 0) : -1;
	if (c > 0)
		reap(c);
	memset(info, 0, sizeof info);
	info[0] = 8; /* PIDFD_INFO_EXIT */
	r = cfd >= 0 ? sc("ioctl", cfd, 0xc058ff0b, (long)info, 0, 0) : cfd;
	if (cfd >= 0)
		close((int)cfd);
	int32_t code;
	memcpy(&code, (char *)info + 60, sizeof code); /* exit_code */
	if (r == 0 && (info[0] & 8) && code == 0x500)
		set(&f[KF_PIDFD_INFO_EXIT], PS_NATIVE, 0, "exit status of a reaped child");
	else if (r == 0 || r == -ESRCH || r == -ENOTTY)
		set(&f[KF_PIDFD_INFO_EXIT], PS_MISSING, (int)-r, "none after the reap");
	else
		set(&f[KF_PIDFD_INFO_EXIT], PS_ERROR, (int)-r, "unexpected answer");
}

static void probe_all(void *arg, void *out)
{
	(void)arg;
	struct report *rep = out;
	memset(rep, 0, sizeof *rep);
	rep->seccomp_mode = seccomp_mode();
	struct pres *f = rep->feat;
	pid_t self = getpid();
	int procfd = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	long pidfd = sc("pidfd_open", self, 0, 0, 0, 0);
	if (pidfd >= 0)
		set(&f[KF_PIDFD_OPEN], PS_NATIVE, 0, "pidfd_open(getpid(), 0) gave an fd");
	else
		set_failed(rep, KF_PIDFD_OPEN, pidfd, NULL);

	/* 5.1 form first: a /proc/<pid> directory fd is a process handle. */
	int target = pidfd >= 0 ? (int)pidfd : procfd;
	long r = sc("pidfd_send_signal", target, 0, 0, 0, 0);
	if (r == 0)
		set(&f[KF_PIDFD_SEND_SIGNAL], PS_NATIVE, 0, "signal 0 to self delivered");
	else
		set_failed(rep, KF_PIDFD_SEND_SIGNAL, r, NULL);

	if (pidfd >= 0) {
		/* Without /proc (an empty chroot) the pidfd duplicates itself. */
		r = sc("pidfd_getfd", pidfd, procfd >= 0 ? procfd : pidfd, 0, 0, 0);
		if (r >= 0) {
			close((int)r);
			set(&f[KF_PIDFD_GETFD], PS_NATIVE, 0, "duplicated an fd of self");
		} else {
			set_failed(rep, KF_PIDFD_GETFD, r, NULL);
		}
	} else {
		r = sc("pidfd_getfd", -1, 0, 0, 0, 0);
		if (r == -EBADF)
			set(&f[KF_PIDFD_GETFD], PS_NATIVE, 0, "EBADF for fd -1: the call exists");
		else
			set_failed(rep, KF_PIDFD_GETFD, r, NULL);
	}

	/* glibc's probe: EBADF where P_PIDFD exists, EINVAL before 5.4. */
	siginfo_t si;
	r = sc("waitid", P_PIDFD, INT_MAX, (long)&si, WEXITED, 0);
	if (r == -EBADF)
		set(&f[KF_WAITID_PIDFD], PS_NATIVE, 0, "EBADF for a bad fd: idtype known");
	else
		set_failed(rep, KF_WAITID_PIDFD, r < 0 ? r : -EIO, "unknown idtype");

	r = sc("clone3", 0, 0, 0, 0, 0);
	if (r == 0)
		_exit(0); /* an emulator that made a child of nothing */
	if (r > 0) {
		reap((pid_t)r);
		set(&f[KF_CLONE3], PS_ERROR, 0, "clone3(NULL, 0) made a child");
	} else if (r == -EINVAL) {
		set(&f[KF_CLONE3], PS_NATIVE, 0, "EINVAL for size 0: the call exists");
	} else {
		set_failed(rep, KF_CLONE3, r, NULL);
	}

	int cfd = -1;
	r = clone_pidfd(&cfd);
	if (r == 0)
		sc("exit_group", 0, 0, 0, 0, 0);
	if (r > 0) {
		reap((pid_t)r);
		if (cfd >= 0) {
			set(&f[KF_CLONE_PIDFD], PS_NATIVE, 0, "parent_tid received a pidfd");
			close(cfd);
		} else {
			set(&f[KF_CLONE_PIDFD], PS_IGNORED, 0, "flag silently dropped: "
			    "parent_tid left at -1, as before 5.2");
		}
	} else if (r == -EINVAL) {
		/* qemu-user rejects the flags it does not know */
		set(&f[KF_CLONE_PIDFD], PS_MISSING, EINVAL, "clone rejects the flag");
	} else {
		set_failed(rep, KF_CLONE_PIDFD, r, NULL);
	}

	probe_poll(rep);

	r = sc("pidfd_open", self, PIDFD_NONBLOCK, 0, 0, 0);
	if (r >= 0) {
		int fl = fcntl((int)r, F_GETFL);
		close((int)r);
		if (fl >= 0 && (fl & O_NONBLOCK))
			set(&f[KF_PIDFD_NONBLOCK], PS_NATIVE, 0, "fd is O_NONBLOCK");
		else
			set(&f[KF_PIDFD_NONBLOCK], PS_ERROR, 0, "fd is not O_NONBLOCK");
	} else {
		set_failed(rep, KF_PIDFD_NONBLOCK, r,
			   r == -EINVAL ? "unknown flag" : "pidfd_open");
	}

	r = sc("pidfd_open", self, PIDFD_THREAD, 0, 0, 0);
	if (r >= 0) {
		close((int)r);
		set(&f[KF_PIDFD_THREAD], PS_NATIVE, 0, "pidfd of the main thread");
	} else {
		set_failed(rep, KF_PIDFD_THREAD, r,
			   r == -EINVAL ? "unknown flag" : "pidfd_open");
	}

	r = sc("pidfd_send_signal", target, 0, 0, PIDFD_SIGNAL_THREAD_GROUP, 0);
	if (r == 0)
		set(&f[KF_PIDFD_SIGNAL_FLAGS], PS_NATIVE, 0, "PIDFD_SIGNAL_THREAD_GROUP accepted");
	else
		set_failed(rep, KF_PIDFD_SIGNAL_FLAGS, r,
			   r == -EINVAL ? "unknown flag" : "pidfd_send_signal");

	probe_pidfd_ioctls(rep, pidfd);

	/* fd -1: EBADF where the calls exist */
	static const int pcalls[] = {KF_PROCESS_MADVISE, KF_PROCESS_MRELEASE};
	for (int k = 0; k < 2; k++) {
		r = sc(kfeatures[pcalls[k]].syscall, -1, 0, 0, 0, 0);
		if (r == -EBADF)
			set(&f[pcalls[k]], PS_NATIVE, 0, "EBADF for fd -1: the call exists");
		else
			set_failed(rep, pcalls[k], r, NULL);
	}

	/* re-entering our own uts namespace: 0 (root), EPERM (not), or
	 * EINVAL where a pidfd is no namespace fd */
	r = pidfd >= 0 ? sc("setns", pidfd, CLONE_NEWUTS, 0, 0, 0) : pidfd;
	if (r == 0 || r == -EPERM)
		set(&f[KF_SETNS_PIDFD], PS_NATIVE, 0, "pidfd accepted as a handle");
	else if (pidfd < 0)
		set(&f[KF_SETNS_PIDFD], PS_UNKNOWN, 0, "no pidfd to test");
	else
		set_failed(rep, KF_SETNS_PIDFD, r, "not a namespace fd");

	if (pidfd >= 0)
		close((int)pidfd);
	if (procfd >= 0)
		close(procfd);

	int e = isolated(seccomp_test, NULL, &rep->seccomp, sizeof rep->seccomp, 5000);
	if (e < 0)
		set(&rep->seccomp, PS_ERROR, -e, "probe child failed");
	ptrace_test(&rep->ptrace);
	proc_cn_test(&rep->proc_cn);
}

/* ---- output ---------------------------------------------------------- */

/* "missing (EPERM: seccomp profile)" */
static const char *describe(const struct pres *p, int facility, char *buf,
			    size_t len)
{
	char en[16];
	const char *w = (facility ? facility_word : pstatus_word)[p->status];
	if (p->status == PS_NATIVE)
		snprintf(buf, len, "%s", w);
	else if (p->status == PS_IGNORED || (!p->err && p->note[0]))
		snprintf(buf, len, "%s (%s)", w, p->note);
	else if (p->err && p->note[0])
		snprintf(buf, len, "%s (%s: %s)", w, errname(p->err, en, sizeof en),
			 p->note);
	else if (p->err)
		snprintf(buf, len, "%s (%s)", w, errname(p->err, en, sizeof en));
	else
		snprintf(buf, len, "%s", w);
	return buf;
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_pres(FILE *f, const struct pres *p, int facility,
		      unsigned since, const char *with)
{
	char en[16];
	fprintf(f, "{\"status\":\"%s\",",
		(facility ? facility_word : pstatus_word)[p->status]);
	if (since)
		fprintf(f, "\"since\":\"%s\",", kversion_str(since, en, sizeof en));
	if (with)
		fprintf(f, "\"with_sysfill\":\"%s\",", with);
	fputs("\"errno\":", f);
	if (p->err)
		json_str(f, errname(p->err, en, sizeof en));
	else
		fputs("null", f);
	fputs(",\"detail\":", f);
	json_str(f, p->note);
	fputc('}', f);
}

/* What sysfill makes of feature I here: "native" (passed through),
 * "emulated (...)" or "unavailable". The library emulates the whole pidfd
 * family (and clone3, CLONE_PIDFD, poll) as soon as one call is missing,
 * so that every pidfd is of one kind; clone3 also alone (EPERM profile). */
static const char *with_sysfill(const struct report *rep, int i, char *buf,
				size_t len)
{
	static const int fam[] = {KF_PIDFD_OPEN, KF_PIDFD_SEND_SIGNAL,
				  KF_PIDFD_GETFD, KF_WAITID_PIDFD};
	const struct pres *f = rep->feat;
	int family = 0;
	for (size_t k = 0; k < sizeof fam / sizeof fam[0]; k++)
		family |= f[fam[k]].status != PS_NATIVE;
	int emulated = kfeatures[i].emulated &&
		       (family || (i == KF_CLONE3 && f[i].status != PS_NATIVE));
	if (!emulated) {
		snprintf(buf, len, "%s",
			 f[i].status == PS_NATIVE ? "native" : "unavailable");
		return buf;
	}
	int seccomp = rep->seccomp.status == PS_NATIVE;
	int ptrace = rep->ptrace.status == PS_NATIVE;
	snprintf(buf, len, "emulated (%s%s)",
		 seccomp ? "preload" : "preload: calls made through libc only",
		 /* trace mode emulates them, but for a clone3 that a
		  * seccomp profile refuses with EPERM (its rule wins over
		  * trace mode's SECCOMP_RET_TRACE: answered ENOSYS), and
		  * but for what only the library has: setns,
		  * process_madvise/mrelease, PIDFD_THREAD, exit info */
		 ptrace && !(i == KF_CLONE3 && f[i].err == EPERM) &&
				 i != KF_SETNS_PIDFD && i != KF_PROCESS_MADVISE &&
				 i != KF_PROCESS_MRELEASE && i != KF_PIDFD_THREAD &&
				 i != KF_PIDFD_INFO_EXIT
			 ? ", trace"
			 : "");
	return buf;
}

/* One line: what the results mean for the user. */
static void advice(const struct report *rep, char *buf, size_t len)
{
	static const int fam[] = {KF_PIDFD_OPEN, KF_PIDFD_SEND_SIGNAL,
				  KF_PIDFD_GETFD, KF_WAITID_PIDFD};
	const struct pres *f = rep->feat;
	char missing[160] = "";
	for (size_t i = 0; i < sizeof fam / sizeof fam[0]; i++)
		if (f[fam[i]].status != PS_NATIVE)
			snprintf(missing + strlen(missing), sizeof missing - strlen(missing),
				 "%s%s", missing[0] ? ", " : "", kfeatures[fam[i]].name);
	char lib[4096];
	if (sysfill_lib_path(lib, sizeof lib) < 0)
		snprintf(lib, sizeof lib, "libsysfill.so");
	size_t n = 0;
#define ADD(...) (n += (size_t)snprintf(buf + n, n < len ? len - n : 0, __VA_ARGS__))
	buf[0] = 0;
	if (missing[0]) {
		ADD("pidfd calls missing (%s): use LD_PRELOAD=%s or sysfill run "
		    "(static binaries need trace mode)", missing, lib);
		if (rep->seccomp.status != PS_NATIVE)
			ADD("; seccomp is unusable here, so the library can only "
			    "interpose libc functions (raw syscalls are not caught)");
	} else {
		ADD("pidfd calls native: sysfill passes them through");
	}
	if (f[KF_CLONE3].status == PS_MISSING && f[KF_CLONE3].err == EPERM)
		ADD("; clone3 answers EPERM (a container seccomp profile): glibc "
		    "thread and posix_spawn creation fail; libsysfill emulates "
		    "clone3 with clone");
	else if (f[KF_CLONE3].status != PS_NATIVE)
		ADD("; clone3 missing: libsysfill emulates it with clone (without "
		    "it glibc falls back to clone)");
	if (f[KF_CLONE_PIDFD].status == PS_IGNORED)
		ADD("; clone(CLONE_PIDFD) is silently ignored: the pidfd slot "
		    "keeps what the caller put there (libsysfill makes the pidfd)");
	char newer[120] = "";
	for (int i = KF_PIDFD_NONBLOCK; i <= KF_PIDFD_SIGNAL_FLAGS && !missing[0]; i++)
		if (f[i].status != PS_NATIVE && kfeatures[i].kind != KF_SYSCALL)
			snprintf(newer + strlen(newer), sizeof newer - strlen(newer),
				 "%s%s", newer[0] ? ", " : "", kfeatures[i].name);
	if (newer[0])
		ADD("; newer flags missing (%s): programs get EINVAL", newer);
	char ioc[120] = "";
	for (int i = KF_PIDFD_NS_IOCTL; i < KF_COUNT && !missing[0]; i++)
		if (f[i].status != PS_NATIVE)
			snprintf(ioc + strlen(ioc), sizeof ioc - strlen(ioc),
				 "%s%s", ioc[0] ? ", " : "", kfeatures[i].name);
	if (ioc[0])
		ADD("; newer pidfd ioctls missing (%s)", ioc);
	if (!missing[0] && f[KF_CLONE3].status == PS_NATIVE &&
	    f[KF_CLONE_PIDFD].status == PS_NATIVE && f[KF_PIDFD_POLL].status == PS_NATIVE &&
	    !newer[0] && !ioc[0])
		snprintf(buf, len, "all calls native: sysfill passes them through");
#undef ADD
}

static int usage(void)
{
	fprintf(stderr, "usage: sysfill probe [--json]\n");
	return EXIT_SF_USAGE;
}

int cmd_probe(int argc, char **argv)
{
	int json = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: sysfill probe [--json]\n"
			       "Probe the process API of the running kernel or "
			       "sandbox, and whether\nseccomp, ptrace and the proc "
			       "connector are usable. --json: one JSON object.\n");
			return 0;
		} else {
			fprintf(stderr, "sysfill probe: unknown option '%s'\n",
				argv[i]);
			return usage();
		}
	}
	struct report *rep = calloc(1, sizeof *rep);
	if (!rep) {
		fprintf(stderr, "sysfill: out of memory\n");
		return 1;
	}
	fflush(NULL);
	int e = isolated(probe_all, NULL, rep, sizeof *rep, 30000);
	if (e < 0) {
		fprintf(stderr, "sysfill probe: the probe process failed: %s\n",
			e == -ETIMEDOUT ? "timed out after 30 s" : strerror(-e));
		free(rep);
		return 1;
	}
	struct utsname u;
	if (uname(&u) < 0)
		memset(&u, 0, sizeof u);
	char adv[1024], d[200], v[16];
	advice(rep, adv, sizeof adv);
	if (json) {
		printf("{\"sysfill\":\"%s\",\"kernel\":", SYSFILL_VERSION);
		json_str(stdout, u.release);
		printf(",\"machine\":");
		json_str(stdout, u.machine);
		printf(",\"seccomp_mode\":%d,\"features\":{", rep->seccomp_mode);
		for (int i = 0; i < KF_COUNT; i++) {
			printf("%s\"%s\":", i ? "," : "", kfeatures[i].key);
			char w[96];
			json_pres(stdout, &rep->feat[i], 0, kfeatures[i].since,
				  with_sysfill(rep, i, w, sizeof w));
		}
		printf("},\"facilities\":{\"seccomp\":");
		json_pres(stdout, &rep->seccomp, 1, 0, 0);
		printf(",\"ptrace\":");
		json_pres(stdout, &rep->ptrace, 1, 0, 0);
		printf(",\"proc_connector\":");
		json_pres(stdout, &rep->proc_cn, 1, 0, 0);
		printf("},\"advice\":");
		json_str(stdout, adv);
		printf("}\n");
	} else {
		printf("kernel: %s (%s)%s\n", u.release, u.machine,
		       rep->seccomp_mode == 2 ? ", this process runs under a "
						"seccomp filter" : "");
		printf("%-26s %-6s %-32s %s\n", "feature", "since", "with sysfill",
		       "kernel");
		for (int i = 0; i < KF_COUNT; i++) {
			char w[96];
			printf("%-26s %-6s %-32s %s\n", kfeatures[i].name,
			       kversion_str(kfeatures[i].since, v, sizeof v),
			       with_sysfill(rep, i, w, sizeof w),
			       describe(&rep->feat[i], 0, d, sizeof d));
		}
		printf("%-33s %s\n", "seccomp filters",
		       describe(&rep->seccomp, 1, d, sizeof d));
		printf("%-33s %s\n", "ptrace (seize + TRACESECCOMP)",
		       describe(&rep->ptrace, 1, d, sizeof d));
		printf("%-33s %s\n", "proc connector (netlink)",
		       describe(&rep->proc_cn, 1, d, sizeof d));
		printf("=> %s\n", adv);
	}
	free(rep);
	return fflush(stdout) ? 1 : 0;
}
