/* A pidfd names a process, not a number, across pid namespaces (issue 12
 * item 15): pidfds that travel over SCM_RIGHTS between a process and the
 * init of a pid namespace below it.
 * - Outward: the parent P receives the pidfd of C, a child of the inner
 *   init I (pid 2 there): P's signal reaches C (I sees it die of it), P's
 *   PIDFD_GET_INFO gives C's pid in P's namespace (checked against that
 *   /proc entry: its parent is I, and its NSpid line, where /proc has one
 *   (not gVisor), pairs it with C's pid in I's namespace), its fdinfo
 *   Pid: line the same, and waitid gives ECHILD (C is I's child).
 * - Inward: I receives the pidfd of P's child A, which is not in I's
 *   namespace: pidfd_send_signal gives EINVAL (kernel/signal.c
 *   access_pidfd_pidns) and A gets no signal, waitid ECHILD, PIDFD_GET_INFO
 *   EREMOTE (no pid in the caller's namespace: fs/pidfs.c), the fdinfo
 *   Pid: line is A's pid in the proc mount's namespace (I keeps P's
 *   /proc), and the pidfd is not readable while A lives. It is readable
 *   once A is a zombie of P (its fdinfo still shows A's pid) and after P
 *   reaped A (fdinfo Pid: -1), and the namespace rules hold either way:
 *   pidfd_send_signal EINVAL, PIDFD_GET_INFO EREMOTE. The same for the
 *   pidfd of A2, a child P made after I's namespace (so I never inherited
 *   anything of it), and P's own pidfd of A2 stays unreadable after I
 *   used it. (Not its fdinfo in I: the library cannot know A2's number
 *   there, docs/design.md.) */
#include "common.h"
#include <sched.h>
#include <sys/socket.h>

static void send_fd(int s, int fd, int val)
{
	char ctl[CMSG_SPACE(sizeof(int))];
	memset(ctl, 0, sizeof ctl);
	struct iovec iov = { &val, sizeof val };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl, .msg_controllen = sizeof ctl };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof fd);
	if (sendmsg(s, &mh, 0) != (ssize_t)sizeof val)
		die("sendmsg");
}

static int recv_fd(int s, int *val)
{
	char ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { val, sizeof *val };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl, .msg_controllen = sizeof ctl };
	if (recvmsg(s, &mh, MSG_CMSG_CLOEXEC) != (ssize_t)sizeof *val)
		die("recvmsg");
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof fd);
	return fd;
}

static void msg(int s, int v)
{
	if (write(s, &v, sizeof v) != (ssize_t)sizeof v)
		die("write");
}

static int get(int s)
{
	int v = 0;
	if (read(s, &v, sizeof v) != (ssize_t)sizeof v)
		die("read");
	return v;
}

/* The Pid: line of fd's fdinfo: "missing" or the number. */
static long fdinfo_pid(int fd)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
	int f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return LONG_MIN;
	ssize_t n = read(f, buf, sizeof buf - 1);
	close(f);
	buf[n > 0 ? n : 0] = 0;
	char *p = strstr(buf, "\nPid:");
	return p ? strtol(p + 5, NULL, 10) : LONG_MIN;
}

/* The first LEN-1 bytes of /proc/PID/NAME into BUF; 0 or -1. */
static int proc_text(long pid, const char *name, char *buf, size_t len)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%ld/%s", pid, name);
	FILE *f = pid > 0 ? fopen(path, "re") : NULL;
	if (!f)
		return -1;
	size_t n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = 0;
	return 0;
}

/* Is our PID the process that is INNER in the namespace below ours, the
 * only child of the inner init (our pid IPID)? */
static const char *which(long pid, long inner, long ipid)
{
	char buf[2048];
	if (proc_text(pid, "stat", buf, sizeof buf) < 0)
		return "no /proc entry";
	char *p = strrchr(buf, ')');
	long ppid = 0;
	if (!p || sscanf(p + 1, " %*c %ld", &ppid) != 1 || ppid != ipid)
		return "another process";
	if (proc_text(pid, "status", buf, sizeof buf) < 0)
		return "no /proc entry";
	char *l = strstr(buf, "\nNSpid:");
	long outer = 0, inn = 0;
	if (l && (sscanf(l + 7, "%ld %ld", &outer, &inn) != 2 ||
		  outer != pid || inn != inner))
		return "another process";
	return "C";
}

static void info_report(const char *step, int fd, pid_t expect)
{
	struct info in;
	memset(&in, 0, sizeof in);
	in.mask = 1; /* PIDFD_INFO_PID */
	long r = ioctl(fd, INFO(sizeof in), &in);
	if (r < 0)
		out("%s: ioctl(PIDFD_GET_INFO) = -1 %s", step, errname(errno));
	else
		out("%s: ioctl(PIDFD_GET_INFO) = 0, pid %s", step,
		    (pid_t)in.pid == expect ? "the expected one" : "another");
}

/* The inner init: answers P's steps in order over socket s. */
static int inner(int s)
{
	if (getpid() != 1)
		out("inner: not pid 1 of a new namespace");
	/* inward: A's pidfd, A not in our namespace */
	int apid = 0;
	int fa = recv_fd(s, &apid);
	out("in-recv: pidfd received = %s", fa >= 0 ? "yes" : "no");
	res("in-sig0", "pidfd_send_signal", sys_pidfd_send_signal(fa, 0, NULL, 0), 0);
	res("in-sigterm", "pidfd_send_signal", sys_pidfd_send_signal(fa, SIGTERM, NULL, 0), 0);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	res("in-waitid", "waitid(P_PIDFD, WNOHANG)",
	    sys_waitid(P_PIDFD, fa, &si, WEXITED | WNOHANG), 0);
	info_report("in-info", fa, 0);
	long fp = fdinfo_pid(fa);
	out("in-fdinfo: Pid: %s", fp == LONG_MIN ? "missing" :
	    fp == apid ? "A's pid in the proc mount" : fp == 0 ? "0" : "another");
	/* A lives: no readiness, however long the library's monitor looks */
	poll_report("in-poll", fa, POLLIN, 300);
	msg(s, 1); /* P checks that A is alive, kills it, leaves it a zombie */
	get(s);
	poll_report("in-zombie-poll", fa, POLLIN, 3000);
	res("in-zombie-sig0", "pidfd_send_signal", sys_pidfd_send_signal(fa, 0, NULL, 0), 0);
	fp = fdinfo_pid(fa);
	out("in-zombie-fdinfo: Pid: %s", fp == LONG_MIN ? "missing" :
	    fp == apid ? "A's pid in the proc mount" : fp == 0 ? "0" : "another");
	msg(s, 2); /* P reaps A */
	get(s);
	/* POLLHUP after the reap is 6.9's (docs/design.md): readiness only */
	struct pollfd pf = { .fd = fa, .events = POLLIN };
	int pr = poll(&pf, 1, 3000);
	out("in-reaped-poll: %s", pr == 1 && (pf.revents & POLLIN) ? "readable" :
	    "not readable");
	res("in-reaped-sig0", "pidfd_send_signal", sys_pidfd_send_signal(fa, 0, NULL, 0), 0);
	memset(&si, 0, sizeof si);
	res("in-reaped-waitid", "waitid(P_PIDFD, WNOHANG)",
	    sys_waitid(P_PIDFD, fa, &si, WEXITED | WNOHANG), 0);
	info_report("in-reaped-info", fa, 0);
	fp = fdinfo_pid(fa);
	out("in-reaped-fdinfo: Pid: %s", fp == LONG_MIN ? "missing" :
	    fp == -1 ? "-1" : fp == 0 ? "0" : "another");
	close(fa);
	msg(s, 3);
	int a2pid = 0;
	int fa2 = recv_fd(s, &a2pid);
	out("in2-recv: pidfd received = %s", fa2 >= 0 ? "yes" : "no");
	res("in2-sig0", "pidfd_send_signal", sys_pidfd_send_signal(fa2, 0, NULL, 0), 0);
	memset(&si, 0, sizeof si);
	res("in2-waitid", "waitid(P_PIDFD, WNOHANG)",
	    sys_waitid(P_PIDFD, fa2, &si, WEXITED | WNOHANG), 0);
	info_report("in2-info", fa2, 0);
	poll_report("in2-poll", fa2, POLLIN, 300);
	close(fa2);
	msg(s, 4);
	get(s);

	/* outward: the pidfd of our child C, for P */
	fflush(stdout);
	pid_t c = fork();
	if (c < 0)
		die("fork");
	if (c == 0) {
		for (;;)
			pause();
	}
	long fc = sys_pidfd_open(c, 0);
	res("out-open", "pidfd_open", fc, 1);
	if (fc < 0) {
		kill(c, SIGKILL);
		waitpid(c, NULL, 0);
		msg(s, -1);
		return 0;
	}
	out("out-inner-pid: %s", c == 2 ? "2" : "not 2");
	send_fd(s, (int)fc, c);
	close((int)fc);
	get(s); /* P has signalled C */
	memset(&si, 0, sizeof si);
	if (waitid(P_PID, c, &si, WEXITED | WNOWAIT) < 0)
		die("waitid(C, WNOWAIT)");
	out("out-child: %s", si.si_code == CLD_KILLED ? signame(si.si_status) :
			     "not killed");
	msg(s, 2);
	get(s); /* P has looked at the zombie */
	waitpid(c, NULL, 0);
	msg(s, 3);
	get(s);
	return 0;
}

int main(void)
{
	scenario_init();
	probe_pidfd_open();
	int sv[2], ip[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) ||
	    pipe2(ip, O_CLOEXEC))
		die("socketpair/pipe2");
	pid_t a = spawn_pause();
	long fa = sys_pidfd_open(a, 0);
	res("open-a", "pidfd_open", fa, 1);
	if (fa < 0)
		return 0;

	fflush(stdout);
	pid_t b = track(fork());
	if (b < 0)
		die("fork");
	if (b == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(sv[0]);
		if (unshare(CLONE_NEWPID) < 0) {
			out("skip: unshare(CLONE_NEWPID) failed (%s)", errname(errno));
			msg(sv[1], -2);
			_exit(0);
		}
		fflush(stdout);
		pid_t i = fork();
		if (i < 0)
			die("fork");
		if (i == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			_exit(inner(sv[1]));
		}
		/* I's pid in P's namespace */
		if (write(ip[1], &i, sizeof i) != (ssize_t)sizeof i)
			die("write");
		int st;
		waitpid(i, &st, 0);
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 9);
	}
	close(sv[1]);
	close(ip[1]);
	int s = sv[0];
	pid_t ipid = 0;

	send_fd(s, (int)fa, a);
	int v = get(s);
	if (v == -2)
		goto done;
	siginfo_t si;
	memset(&si, 0, sizeof si);
	if (waitid(P_PID, a, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		die("waitid(A)");
	out("in-a-after: %s", si.si_pid ? "exited" : "alive");
	kill(a, SIGKILL);
	wait_zombie(a);
	msg(s, 0);
	get(s); /* I has looked at the zombie */
	reap(a);
	a = 0;
	msg(s, 0);
	get(s); /* I has looked after the reap */
	pid_t a2 = spawn_pause();
	long fa2 = sys_pidfd_open(a2, 0);
	res("open-a2", "pidfd_open", fa2, 1);
	send_fd(s, (int)fa2, a2);
	get(s); /* I has used it */
	poll_report("in2-p-poll", (int)fa2, POLLIN, 0);
	memset(&si, 0, sizeof si);
	if (waitid(P_PID, a2, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		die("waitid(A2)");
	out("in2-a2-after: %s", si.si_pid ? "exited" : "alive");
	close((int)fa2);
	kill(a2, SIGKILL);
	reap(a2);
	msg(s, 0);

	if (read(ip[0], &ipid, sizeof ipid) != (ssize_t)sizeof ipid)
		die("read");
	int cin = 0;
	int fc = recv_fd(s, &cin);
	out("out-recv: pidfd received = %s", fc >= 0 ? "yes" : "no");
	if (fc < 0)
		goto done;
	res("out-sig0", "pidfd_send_signal", sys_pidfd_send_signal(fc, 0, NULL, 0), 0);
	memset(&si, 0, sizeof si);
	res("out-waitid", "waitid(P_PIDFD, WNOHANG)",
	    sys_waitid(P_PIDFD, fc, &si, WEXITED | WNOHANG), 0);
	/* C's pid here, from the fdinfo and PIDFD_GET_INFO, each checked
	 * against /proc's NSpid line */
	long cp = fdinfo_pid(fc);
	out("out-fdinfo: Pid: %s", cp == LONG_MIN ? "missing" : which(cp, cin, ipid));
	struct info in;
	memset(&in, 0, sizeof in);
	in.mask = 1; /* PIDFD_INFO_PID */
	if (ioctl(fc, INFO(sizeof in), &in) < 0)
		out("out-info: ioctl(PIDFD_GET_INFO) = -1 %s", errname(errno));
	else
		out("out-info: ioctl(PIDFD_GET_INFO) = 0, pid %s", which(in.pid, cin, ipid));
	res("out-sigterm", "pidfd_send_signal", sys_pidfd_send_signal(fc, SIGTERM, NULL, 0), 0);
	msg(s, 0);
	get(s); /* C is a zombie of I */
	poll_report("out-zombie", fc, POLLIN, 3000);
	msg(s, 0);
	get(s); /* I reaped C */
	res("out-reaped-sig0", "pidfd_send_signal", sys_pidfd_send_signal(fc, 0, NULL, 0), 0);
	close(fc);
	msg(s, 0);
done:;
	int st;
	waitpid(b, &st, 0);
	out("ns: ended with %s", status_text(st));
	if (a > 0) {
		kill(a, SIGKILL);
		reap(a);
	}
	return 0;
}
