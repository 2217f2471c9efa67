/* When a pidfd becomes readable, and what the helpers behind an emulated
 * one leave behind:
 * - a traced child's ptrace stop (reported to its tracer without
 *   WUNTRACED) is no exit;
 * - a thread-group leader that exits while another thread runs: readable
 *   only once the whole group is dead (child, non-child, non-child
 *   without the proc connector: in a new network namespace);
 * - children made by paths pthread_atfork does not see (raw fork, _Fork,
 *   raw fork while another thread makes pidfd calls, a vfork child's
 *   calls) get working pidfds, and their parent keeps its own;
 * - once every pidfd is closed and its process reaped the program is
 *   single-threaded again: unshare(CLONE_NEWUSER) works. */
#include "common.h"
#include <pthread.h>
#include <sched.h>
#include <dirent.h>
#include <sys/ptrace.h>
#include <time.h>


static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static int task_count(void)
{
	DIR *d = opendir("/proc/self/task");
	int n = 0;
	if (!d)
		return -1;
	for (struct dirent *e; (e = readdir(d));)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* ---- ptrace stop ---- */
static void ptrace_stop(void)
{
	int go[2];
	if (pipe2(go, O_CLOEXEC))
		die("pipe2");
	fflush(stdout);
	pid_t c = track(fork());
	if (c < 0)
		die("fork");
	if (c == 0) {
		char b;
		if (read(go[0], &b, 1) != 1)
			_exit(1);
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		raise(SIGSTOP);
		_exit(7);
	}
	int fd = sys_pidfd_open(c, 0);
	res("trap", "pidfd_open", fd, 1);
	if (write(go[1], "g", 1) != 1)
		die("write");
	for (int i = 1; i <= 2; i++) {
		siginfo_t si;
		memset(&si, 0, sizeof si);
		long r = waitid(P_PID, c, &si, WSTOPPED | WNOWAIT);
		out("trap-stop%d: waitid(WSTOPPED|WNOWAIT) = %ld", i, r);
		poll_report(i == 1 ? "trap-stop1-unconsumed" : "trap-stop2-unconsumed",
			    fd, POLLIN, 300);
		int st = 0;
		r = waitpid(c, &st, 0);
		out("trap-stop%d: waitpid stopped=%d sig=%s", i, r == c && WIFSTOPPED(st),
		    signame(WIFSTOPPED(st) ? WSTOPSIG(st) : 0));
		poll_report(i == 1 ? "trap-stop1-consumed" : "trap-stop2-consumed",
			    fd, POLLIN, 100);
		ptrace(PTRACE_CONT, c, 0, 0);
	}
	poll_report("trap-exited", fd, POLLIN, 5000);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	long r = sys_waitid(P_PIDFD, fd, &si, WEXITED);
	waitid_report("trap-reap", r, &si, c);
	close(fd);
	close(go[0]);
	close(go[1]);
}

/* ---- a leader that exits while another thread runs ---- */
static int lx_cmd = -1, lx_rep = -1;

static void *lx_thread(void *arg)
{
	char state = 0, buf[512];
	/* Until the leader is a zombie (at most 10 s). */
	for (int i = 0; i < 10000 && state != 'Z'; i++) {
		int f = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
		ssize_t n = f >= 0 ? read(f, buf, sizeof buf - 1) : -1;
		if (f >= 0)
			close(f);
		if (n > 0) {
			buf[n] = 0;
			char *p = strrchr(buf, ')');
			if (p && p[1])
				state = p[2];
		}
		if (state != 'Z')
			msleep(1);
	}
	char z = state == 'Z' ? 'z' : '?';
	if (write(lx_rep, &z, 1) != 1)
		_exit(3);
	char c;
	if (read(lx_cmd, &c, 1) != 1)
		_exit(4);
	_exit(0);
}

/* In the process that is to be watched: wait for 'g', start a thread,
 * exit the leader. */
static void lx_body(int cmd, int rep)
{
	char c;
	lx_cmd = cmd;
	lx_rep = rep;
	if (read(cmd, &c, 1) != 1)
		_exit(5);
	pthread_t t;
	if (pthread_create(&t, NULL, lx_thread, NULL))
		_exit(6);
	syscall(SYS_exit, 0);
}

/* STEP: PID runs lx_body on CMD/REP (ours: the other ends). LATE: the
 * pidfd is opened once the leader is a zombie (a live group still). */
static void lx_check(const char *step, pid_t pid, int cmd, int rep, int is_child)
{
	char name[64], c;
	int late = strstr(step, "-open-late") != NULL;
	int fd = late ? -1 : sys_pidfd_open(pid, 0);
	snprintf(name, sizeof name, "%s", step);
	if (!late)
		res(name, "pidfd_open", fd, 1);
	if (write(cmd, "g", 1) != 1)
		die("write g");
	if (read(rep, &c, 1) != 1)
		die("read z");
	out("%s: leader is a zombie, a thread runs: %s", step, c == 'z' ? "yes" : "no");
	if (late) {
		fd = sys_pidfd_open(pid, 0);
		res(name, "pidfd_open", fd, 1);
	}
	snprintf(name, sizeof name, "%s-leader-gone", step);
	poll_report(name, fd, POLLIN, 400);
	if (is_child) {
		siginfo_t si;
		memset(&si, 0, sizeof si);
		long r = sys_waitid(P_PIDFD, fd, &si, WEXITED | WNOHANG);
		snprintf(name, sizeof name, "%s-leader-gone-wnohang", step);
		waitid_report(name, r, &si, pid);
	}
	if (write(cmd, "x", 1) != 1)
		die("write x");
	snprintf(name, sizeof name, "%s-group-gone", step);
	poll_report(name, fd, POLLIN, 5000);
	if (is_child) {
		siginfo_t si;
		memset(&si, 0, sizeof si);
		long r = sys_waitid(P_PIDFD, fd, &si, WEXITED);
		snprintf(name, sizeof name, "%s-reap", step);
		waitid_report(name, r, &si, pid);
	}
	close(fd);
}

static void leader_exit_child(void)
{
	int c[2], r[2];
	if (pipe2(c, O_CLOEXEC) || pipe2(r, O_CLOEXEC))
		die("pipe2");
	fflush(stdout);
	pid_t p = track(fork());
	if (p < 0)
		die("fork");
	if (p == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		lx_body(c[0], r[1]);
	}
	lx_check("leader-child", p, c[1], r[0], 1);
	close(c[0]); close(c[1]); close(r[0]); close(r[1]);
}

static void leader_exit_nonchild(const char *step)
{
	int c[2], r[2], pp[2];
	if (pipe2(c, O_CLOEXEC) || pipe2(r, O_CLOEXEC) || pipe2(pp, O_CLOEXEC))
		die("pipe2");
	fflush(stdout);
	pid_t helper = track(fork());
	if (helper < 0)
		die("fork");
	if (helper == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		pid_t g = fork();
		if (g == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			lx_body(c[0], r[1]);
		}
		if (write(pp[1], &g, sizeof g) != sizeof g)
			_exit(1);
		for (;;)
			pause();
	}
	pid_t g;
	if (read(pp[0], &g, sizeof g) != sizeof g)
		die("read grandchild");
	track(g);
	lx_check(step, g, c[1], r[0], 0);
	kill(helper, SIGKILL);
	reap(helper);
	waitpid(g, NULL, 0); /* handed to us, the subreaper */
	close(c[0]); close(c[1]); close(r[0]); close(r[1]);
	close(pp[0]); close(pp[1]);
}

/* The same without the proc connector: it has no kernel socket in a new
 * network namespace, so the library polls /proc there. */
static void leader_exit_nonchild_polling(void)
{
	fflush(stdout);
	pid_t p = track(fork());
	if (p < 0)
		die("fork");
	if (p == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		scenario_pid = getpid();
		ntracked = 0;
		unshare(CLONE_NEWNET); /* where it fails there is no connector either */
		leader_exit_nonchild("leader-nonchild-no-connector");
		leader_exit_nonchild("leader-nonchild-no-connector-open-late");
		exit(0);
	}
	int st = 0;
	waitpid(p, &st, 0);
	out("leader-nonchild-no-connector: exit %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* ---- children pthread_atfork does not see ---- */
/* In a new process: a child that exits at once must make its pidfd
 * readable. Returns the exit code for the parent to print. */
static int fresh_child_pidfd(void)
{
	pid_t b = fork();
	if (b < 0)
		return 10;
	if (b == 0)
		_exit(3);
	int fd = sys_pidfd_open(b, 0);
	if (fd < 0)
		return 11;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, 5000) != 1)
		return 12;
	siginfo_t si;
	memset(&si, 0, sizeof si);
	if (sys_waitid(P_PIDFD, fd, &si, WEXITED) || si.si_status != 3)
		return 13;
	close(fd);
	return 0;
}

static void report_child(const char *step, pid_t p)
{
	int st = 0;
	if (p < 0) {
		out("%s: fork = -1 %s", step, errname(errno));
		return;
	}
	if (waitpid(p, &st, 0) != p)
		die("waitpid");
	if (WIFEXITED(st))
		out("%s: child exit %d", step, WEXITSTATUS(st));
	else
		out("%s: child killed by %s", step, signame(WTERMSIG(st)));
}

static void unseen_forks(void)
{
	/* A waiter made here, idle again when its child has gone. */
	pid_t a = spawn_exit(0);
	int fd = sys_pidfd_open(a, 0);
	res("unseen", "pidfd_open", fd, 1);
	poll_report("unseen-first-child", fd, POLLIN, 5000);
	reap(a);
	close(fd);

	fflush(stdout);
	pid_t p = syscall(SYS_fork);
	if (p == 0) {
		alarm(10);
		_exit(fresh_child_pidfd());
	}
	report_child("raw-fork", p);

	fflush(stdout);
	p = _Fork();
	if (p == 0) {
		alarm(10);
		_exit(fresh_child_pidfd());
	}
	report_child("_Fork", p);

	/* The parent's own pidfds still work. */
	a = spawn_exit(4);
	fd = sys_pidfd_open(a, 0);
	poll_report("unseen-parent-after", fd, POLLIN, 5000);
	reap(a);
	close(fd);
}

static volatile int hammer_stop;

static void *hammer(void *arg)
{
	pid_t self = getpid();
	while (!hammer_stop) {
		int fd = sys_pidfd_open(self, 0);
		if (fd >= 0)
			close(fd);
	}
	return NULL;
}

/* Raw forks while another thread makes pidfd calls: the lock may be held
 * at the fork. Each child makes a call and exits. */
static void fork_while_locked(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, hammer, NULL))
		die("pthread_create");
	int ok = 0, n = 40;
	for (int i = 0; i < n; i++) {
		fflush(stdout);
		pid_t p = syscall(SYS_fork);
		if (p == 0) {
			alarm(5);
			int fd = sys_pidfd_open(getpid(), 0);
			_exit(fd >= 0 ? 0 : 1);
		}
		int st = 0;
		if (p > 0 && waitpid(p, &st, 0) == p && WIFEXITED(st) &&
		    WEXITSTATUS(st) == 0)
			ok++;
	}
	hammer_stop = 1;
	pthread_join(t, NULL);
	out("fork-while-locked: %d of %d children made a pidfd", ok, n);
}

/* A vfork child's call must leave its parent's helpers alone. */
static void vfork_child_call(void)
{
	fflush(stdout);
	pid_t p = vfork();
	if (p == 0) {
		long fd = syscall(NR_pidfd_open, getppid(), 0);
		(void)fd;
		_exit(0);
	}
	report_child("vfork", p);
	struct gc g = spawn_grandchild();
	int fd = sys_pidfd_open(g.pid, 0);
	res("vfork-parent", "pidfd_open", fd, 1);
	poll_report("vfork-parent-live", fd, POLLIN, 0);
	kill(g.pid, SIGKILL);
	poll_report("vfork-parent-killed", fd, POLLIN, 5000);
	stop_grandchild(&g);
	close(fd);
}

/* ---- helpers go away ---- */
static void single_threaded_again(void)
{
	fflush(stdout);
	pid_t p = track(fork());
	if (p < 0)
		die("fork");
	if (p) {
		int st = 0;
		waitpid(p, &st, 0);
		out("threads: exit %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		return;
	}
	scenario_pid = getpid();
	ntracked = 0;
	pid_t c = spawn_exit(0);
	int fd = sys_pidfd_open(c, 0);
	poll_report("threads-child", fd, POLLIN, 5000);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	sys_waitid(P_PIDFD, fd, &si, WEXITED);
	close(fd);
	struct gc g = spawn_grandchild();
	fd = sys_pidfd_open(g.pid, 0);
	kill(g.pid, SIGKILL);
	poll_report("threads-nonchild", fd, POLLIN, 5000);
	close(fd);
	stop_grandchild(&g);
	int n = 0;
	for (int i = 0; i < 500 && (n = task_count()) != 1; i++)
		msleep(10);
	out("threads: back to one within 5 s: %s", n == 1 ? "yes" : "no");
	res("threads", "unshare(CLONE_NEWUSER)", unshare(CLONE_NEWUSER), 0);
	exit(0);
}

int main(void)
{
	scenario_init();
	single_threaded_again();
	ptrace_stop();
	leader_exit_child();
	leader_exit_nonchild("leader-nonchild");
	leader_exit_nonchild("leader-nonchild-open-late");
	leader_exit_nonchild_polling();
	unseen_forks();
	fork_while_locked();
	vfork_child_call();
	return 0;
}
