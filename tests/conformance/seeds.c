/* conformance: link libsysfill */
/* sysfill's own calls for the designs no kernel merged (include/sysfill.h):
 * pidfd <-> /proc/<pid> (the first pidfd_open series) and CLONE_FD's exit
 * information. No kernel has them, so there is no kernel oracle: natively
 * they answer on the kernel's pidfds, forced and in gVisor on emulated
 * ones, and the transcripts must be the same. */
#include "common.h"
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <sysfill.h>

static int procfd = -1;
static int mismatches; /* results that contradict what the scenario knows */

/* Whether the status of /proc/<pid> directory DIR shows WANT and a
 * zombie. */
static void dir_report(const char *step, int dir, pid_t want)
{
	int st = openat(dir, "status", O_RDONLY | O_CLOEXEC);
	if (st < 0) {
		out("%s: open status = -1 %s", step, errname(errno));
		return;
	}
	char buf[4096];
	ssize_t n = read(st, buf, sizeof buf - 1);
	close(st);
	buf[n > 0 ? n : 0] = 0;
	const char *p = strstr(buf, "\nPid:");
	const char *s = strstr(buf, "State:");
	int pid = p ? atoi(p + 5) : -1;
	char state = 0;
	if (s) {
		s += 6;
		while (*s == ' ' || *s == '\t')
			s++;
		state = *s;
	}
	out("%s: status Pid is the process: %s, zombie: %s", step,
	    pid == want ? "yes" : "no", state == 'Z' ? "yes" : "no");
	mismatches += pid != want;
}

static void to_procfd(const char *step, int pidfd, int pfd, unsigned flags, pid_t want)
{
	int d = sysfill_pidfd_to_procfd(pidfd, pfd, flags);
	res(step, "sysfill_pidfd_to_procfd", d, 1);
	if (d >= 0) {
		int fl = fcntl(d, F_GETFD);
		out("%s: cloexec=%s", step, fl >= 0 && (fl & FD_CLOEXEC) ? "yes" : "no");
		dir_report(step, d, want);
		close(d);
	}
}

/* A pidfd from /proc/<pid> directory DIR; it must name the process: its
 * /proc/<pid> again shows WANT. */
static void to_pidfd(const char *step, int dir, unsigned flags, pid_t want)
{
	int f = sysfill_procfd_to_pidfd(dir, flags);
	res(step, "sysfill_procfd_to_pidfd", f, 1);
	if (f < 0)
		return;
	int fl = fcntl(f, F_GETFL), fd = fcntl(f, F_GETFD);
	out("%s: nonblock=%s cloexec=%s", step, fl >= 0 && (fl & O_NONBLOCK) ? "yes" : "no",
	    fd >= 0 && (fd & FD_CLOEXEC) ? "yes" : "no");
	res(step, "pidfd_send_signal(0)", sys_pidfd_send_signal(f, 0, NULL, 0), 0);
	to_procfd(step, f, procfd, 0, want);
	close(f);
}

static int open_proc_dir(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d", (int)pid);
	return open(path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
}

static const char *cld(int code)
{
	switch (code) {
	case CLD_EXITED: return "CLD_EXITED";
	case CLD_KILLED: return "CLD_KILLED";
	case CLD_DUMPED: return "CLD_DUMPED";
	case 0: return "0";
	}
	return "other";
}

/* Until child PID is a zombie (not reaped); its waitid report into *SI. */
static void zombie_si(pid_t pid, siginfo_t *si)
{
	memset(si, 0, sizeof *si);
	if (waitid(P_PID, pid, si, WEXITED | WNOWAIT) < 0)
		die("waitid(P_PID, WNOWAIT)");
}

/* sysfill_pidfd_exit_info; times printed as "0", or checked against a
 * range of clock ticks [LO, HI] when HI > 0, or "set" (any value). A
 * known code and status must be those of WANT (the waitid report of the
 * process, taken by the scenario itself), if not NULL; a mismatch makes
 * the scenario exit 1. */
static void exit_step(const char *step, int fd, const siginfo_t *want, long lo, long hi)
{
	struct sysfill_exit_info e;
	memset(&e, 0x5a, sizeof e);
	int r = sysfill_pidfd_exit_info(fd, &e, 0);
	if (r < 0) {
		out("%s: sysfill_pidfd_exit_info = -1 %s", step, errname(errno));
		return;
	}
	char st[32];
	if (e.code == CLD_EXITED || !(r & SYSFILL_EXIT_CODE))
		snprintf(st, sizeof st, "%d", e.status);
	else
		snprintf(st, sizeof st, "%s", signame(e.status));
	char times[96];
	if (!(r & SYSFILL_EXIT_TIMES))
		snprintf(times, sizeof times, "utime=%llu stime=%llu",
			 (unsigned long long)e.utime, (unsigned long long)e.stime);
	else if (hi > 0)
		snprintf(times, sizeof times, "utime in %ld..%ld: %s stime < utime: %s", lo, hi,
			 (long)e.utime >= lo && (long)e.utime <= hi ? "yes" : "no",
			 e.stime < e.utime ? "yes" : "no");
	else
		snprintf(times, sizeof times, "times set, small: %s",
			 e.utime < 100 && e.stime < 100 ? "yes" : "no");
	static const char *const bits[] = {"0", "CODE", "TIMES", "CODE|TIMES"};
	const char *match = "";
	if (want && (r & SYSFILL_EXIT_CODE)) {
		int ok = e.code == want->si_code && e.status == want->si_status;
		match = ok ? " (as waitid)" : " (NOT as waitid)";
		mismatches += !ok;
	}
	out("%s: sysfill_pidfd_exit_info = %s code=%s status=%s %s%s", step,
	    r <= 3 ? bits[r] : "other", cld(e.code), st, times, match);
}

/* A child that burns about 300 ms of user CPU time, then exits 0. */
static pid_t spawn_burner(void)
{
	fflush(stdout);
	pid_t p = track(fork());
	if (p < 0)
		die("fork");
	if (p == 0) {
		struct timespec t;
		volatile unsigned long x = 0;
		do {
			for (int i = 0; i < 100000; i++)
				x += (unsigned long)i * 7;
			clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
		} while (t.tv_sec == 0 && t.tv_nsec < 300000000);
		_exit(0);
	}
	return p;
}

/* A child that dumps core (SIGQUIT with RLIMIT_CORE unlimited) in DIR. */
static pid_t spawn_dumper(const char *dir)
{
	fflush(stdout);
	pid_t p = track(fork());
	if (p < 0)
		die("fork");
	if (p == 0) {
		struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
		if (chdir(dir) < 0 || setrlimit(RLIMIT_CORE, &rl) < 0)
			_exit(1);
		prctl(PR_SET_DUMPABLE, 1);
		signal(SIGQUIT, SIG_DFL);
		raise(SIGQUIT);
		_exit(2);
	}
	return p;
}

/* Up to 5 s until PID is reaped (kill gives ESRCH). */
static void wait_gone(pid_t pid)
{
	for (int i = 0; i < 500 && (kill(pid, 0) == 0 || errno != ESRCH); i++)
		usleep(10000);
}

int main(void)
{
	scenario_init();
	procfd = open("/proc", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (procfd < 0)
		die("open /proc");

	/* self */
	long self = sys_pidfd_open(getpid(), 0);
	res("self", "pidfd_open", self, 1);
	to_procfd("self-to-procfd", self, procfd, 0, getpid());
	int sd = open("/proc/self", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	to_pidfd("self-to-pidfd", sd, 0, getpid());
	to_pidfd("self-to-pidfd-nonblock", sd, PIDFD_NONBLOCK, getpid());
	exit_step("self-exit-info", self, NULL, 0, 0);

	/* a child: alive, zombie (killed), reaped */
	pid_t c = spawn_pause();
	long cf = sys_pidfd_open(c, 0);
	res("child", "pidfd_open", cf, 1);
	to_procfd("child-to-procfd", cf, procfd, 0, c);
	int cd = open_proc_dir(c);
	to_pidfd("child-to-pidfd", cd, 0, c);
	exit_step("child-alive-exit-info", cf, NULL, 0, 0);
	struct sysfill_exit_info *bad = (void *)16;
	res("child-alive-exit-info-efault", "sysfill_pidfd_exit_info",
	    sysfill_pidfd_exit_info(cf, bad, 0), 0);
	kill(c, SIGKILL);
	siginfo_t si;
	zombie_si(c, &si);
	exit_step("child-zombie-exit-info", cf, &si, 0, 0);
	res("child-zombie-exit-info-efault", "sysfill_pidfd_exit_info",
	    sysfill_pidfd_exit_info(cf, bad, 0), 0);
	to_procfd("child-zombie-to-procfd", cf, procfd, 0, c);
	to_pidfd("child-zombie-to-pidfd", cd, 0, c);
	poll_report("child-zombie-poll", cf, POLLIN, 5000);
	waitpid(c, NULL, 0);
	exit_step("child-reaped-exit-info", cf, &si, 0, 0);
	to_procfd("child-reaped-to-procfd", cf, procfd, 0, c);
	to_pidfd("child-reaped-to-pidfd", cd, 0, c);
	close(cd);
	close(cf);

	/* exit codes */
	pid_t e7 = spawn_exit(7);
	long e7f = sys_pidfd_open(e7, 0);
	res("exit7", "pidfd_open", e7f, 1);
	zombie_si(e7, &si);
	exit_step("exit7-zombie-exit-info", e7f, &si, 0, 0);
	poll_report("exit7-poll", e7f, POLLIN, 5000);
	waitpid(e7, NULL, 0);
	exit_step("exit7-reaped-exit-info", e7f, &si, 0, 0);
	close(e7f);

	/* CPU time */
	pid_t b = spawn_burner();
	long bf = sys_pidfd_open(b, 0);
	res("burner", "pidfd_open", bf, 1);
	zombie_si(b, &si);
	exit_step("burner-zombie-exit-info", bf, &si, 20, 100);
	waitpid(b, NULL, 0);
	exit_step("burner-reaped-exit-info", bf, &si, 0, 0);
	close(bf);

	/* a core dump, in a directory of our own */
	char dir[] = "/tmp/sysfill-seeds-XXXXXX";
	if (!mkdtemp(dir))
		die("mkdtemp");
	pid_t dm = spawn_dumper(dir);
	long dmf = sys_pidfd_open(dm, 0);
	res("dumper", "pidfd_open", dmf, 1);
	zombie_si(dm, &si);
	exit_step("dumper-zombie-exit-info", dmf, &si, 0, 0);
	poll_report("dumper-poll", dmf, POLLIN, 5000);
	waitpid(dm, NULL, 0);
	exit_step("dumper-reaped-exit-info", dmf, &si, 0, 0);
	close(dmf);
	char core[128];
	snprintf(core, sizeof core, "%s/core", dir);
	unlink(core);
	snprintf(core, sizeof core, "%s/core.%d", dir, (int)dm);
	unlink(core);
	rmdir(dir);

	/* a non-child: alive, zombie (its parent has not waited), reaped */
	struct gc g = spawn_grandchild();
	long gf = sys_pidfd_open(g.pid, 0);
	res("nonchild", "pidfd_open", gf, 1);
	to_procfd("nonchild-to-procfd", gf, procfd, 0, g.pid);
	int gd = open_proc_dir(g.pid);
	to_pidfd("nonchild-to-pidfd", gd, 0, g.pid);
	exit_step("nonchild-alive-exit-info", gf, NULL, 0, 0);
	kill(g.pid, SIGTERM);
	poll_report("nonchild-poll", gf, POLLIN, 5000);
	memset(&si, 0, sizeof si);
	si.si_code = CLD_KILLED; /* what its parent's wait will report */
	si.si_status = SIGTERM;
	exit_step("nonchild-zombie-exit-info", gf, &si, 0, 0);
	to_procfd("nonchild-zombie-to-procfd", gf, procfd, 0, g.pid);
	stop_grandchild(&g); /* handed to us as subreaper, and reaped */
	wait_gone(g.pid);
	exit_step("nonchild-reaped-exit-info", gf, &si, 0, 0);
	to_procfd("nonchild-reaped-to-procfd", gf, procfd, 0, g.pid);
	to_pidfd("nonchild-reaped-to-pidfd", gd, 0, g.pid);
	close(gd);
	close(gf);

	/* bad input */
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int root = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	char path[64];
	snprintf(path, sizeof path, "/proc/self/task/%d", (int)getpid());
	int task = open(path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	int spare = dup(0); /* the lowest free number, closed */
	close(spare);
	res("bad-pidfd-minus1", "sysfill_pidfd_to_procfd", sysfill_pidfd_to_procfd(-1, procfd, 0), 1);
	res("bad-pidfd-closed", "sysfill_pidfd_to_procfd", sysfill_pidfd_to_procfd(spare, procfd, 0), 1);
	res("bad-pidfd-file", "sysfill_pidfd_to_procfd", sysfill_pidfd_to_procfd(null, procfd, 0), 1);
	res("bad-pidfd-procdir", "sysfill_pidfd_to_procfd", sysfill_pidfd_to_procfd(sd, procfd, 0), 1);
	res("bad-procfd-minus1", "sysfill_pidfd_to_procfd", sysfill_pidfd_to_procfd(self, -1, 0), 1);
	res("bad-procfd-closed", "sysfill_pidfd_to_procfd", sysfill_pidfd_to_procfd(self, spare, 0), 1);
	res("bad-procfd-root", "sysfill_pidfd_to_procfd", sysfill_pidfd_to_procfd(self, root, 0), 1);
	res("bad-procfd-file", "sysfill_pidfd_to_procfd", sysfill_pidfd_to_procfd(self, null, 0), 1);
	res("bad-procfd-procdir", "sysfill_pidfd_to_procfd", sysfill_pidfd_to_procfd(self, sd, 0), 1);
	res("bad-to-procfd-flags", "sysfill_pidfd_to_procfd", sysfill_pidfd_to_procfd(self, procfd, 1), 1);
	res("bad-procpidfd-minus1", "sysfill_procfd_to_pidfd", sysfill_procfd_to_pidfd(-1, 0), 1);
	res("bad-procpidfd-closed", "sysfill_procfd_to_pidfd", sysfill_procfd_to_pidfd(spare, 0), 1);
	res("bad-procpidfd-file", "sysfill_procfd_to_pidfd", sysfill_procfd_to_pidfd(null, 0), 1);
	res("bad-procpidfd-root", "sysfill_procfd_to_pidfd", sysfill_procfd_to_pidfd(root, 0), 1);
	res("bad-procpidfd-proc", "sysfill_procfd_to_pidfd", sysfill_procfd_to_pidfd(procfd, 0), 1);
	res("bad-procpidfd-task", "sysfill_procfd_to_pidfd", sysfill_procfd_to_pidfd(task, 0), 1);
	res("bad-procpidfd-pidfd", "sysfill_procfd_to_pidfd", sysfill_procfd_to_pidfd(self, 0), 1);
	res("bad-to-pidfd-flags", "sysfill_procfd_to_pidfd", sysfill_procfd_to_pidfd(sd, 1), 1);
	res("bad-exit-info-minus1", "sysfill_pidfd_exit_info", sysfill_pidfd_exit_info(-1, NULL, 0), 0);
	res("bad-exit-info-closed", "sysfill_pidfd_exit_info", sysfill_pidfd_exit_info(spare, NULL, 0), 0);
	res("bad-exit-info-file", "sysfill_pidfd_exit_info", sysfill_pidfd_exit_info(null, NULL, 0), 0);
	res("bad-exit-info-procdir", "sysfill_pidfd_exit_info", sysfill_pidfd_exit_info(sd, NULL, 0), 0);
	struct sysfill_exit_info e;
	res("bad-exit-info-flags", "sysfill_pidfd_exit_info", sysfill_pidfd_exit_info(self, &e, 1), 0);
	out("bad: no fd left behind: %s", dup(0) == spare ? "yes" : "no");
	if (mismatches)
		out("FATAL: %d results contradict the scenario's own observations", mismatches);
	return mismatches ? 1 : 0;
}
