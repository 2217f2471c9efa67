/* conformance: link libsysfill */
/* sysfill's pidfd <-> /proc/<pid> calls against pid reuse and across proc
 * mounts (include/sysfill.h; see seeds.c): in a new pid namespace with its
 * own /proc, a reaped child's pid is given to a new child through
 * ns_last_pid. The old pidfd and the old /proc/<pid> directory fd must
 * give ESRCH, never the new process; the outer namespace's /proc mount
 * shows the new child under its outer number. */
#include "common.h"
#include <sched.h>
#include <sys/mount.h>
#include <sysfill.h>

static int mismatches; /* results that contradict what the scenario knows */

/* A call that must fail with ESRCH (the process is gone) failed so. */
static void expect_esrch(long r)
{
	mismatches += !(r < 0 && errno == ESRCH);
}

static int set_last_pid(pid_t p)
{
	int f = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
	if (f < 0)
		return -1;
	char buf[16];
	int n = snprintf(buf, sizeof buf, "%d", (int)p);
	int r = write(f, buf, n) == n ? 0 : -1;
	close(f);
	return r;
}

/* The Pid: and the last NSpid: entry of DIR's status. */
static void status_pids(int dir, int *pid, int *inner)
{
	*pid = *inner = -1;
	int st = openat(dir, "status", O_RDONLY | O_CLOEXEC);
	if (st < 0)
		return;
	char buf[4096];
	ssize_t n = read(st, buf, sizeof buf - 1);
	close(st);
	buf[n > 0 ? n : 0] = 0;
	const char *p = strstr(buf, "\nPid:");
	if (p)
		*pid = atoi(p + 5);
	p = strstr(buf, "\nNSpid:");
	if (p) {
		const char *e = strchr(p + 1, '\n');
		const char *q = e;
		while (q > p && q[-1] != '\t' && q[-1] != ' ')
			q--;
		*inner = atoi(q);
	}
}

static void to_procfd(const char *step, int pidfd, int pfd, pid_t want, int outer)
{
	int d = sysfill_pidfd_to_procfd(pidfd, pfd, 0);
	res(step, "sysfill_pidfd_to_procfd", d, 1);
	if (d < 0)
		return;
	int pid, inner;
	status_pids(d, &pid, &inner);
	int ok = outer ? pid != want && pid > 0 && inner == want : pid == want;
	if (outer)
		out("%s: the mount's own number: %s, innermost is the process: %s", step,
		    pid != want && pid > 0 ? "yes" : "no", inner == want ? "yes" : "no");
	else
		out("%s: status Pid is the process: %s", step, pid == want ? "yes" : "no");
	mismatches += !ok;
	close(d);
}

static int ns_init(int outer_proc)
{
	/* best effort: keep the new /proc out of the parent's namespace */
	(void)mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		out("skip: cannot mount a new /proc (%s)", errname(errno));
		return 0;
	}
	if (access("/proc/sys/kernel/ns_last_pid", W_OK) < 0) {
		out("skip: no writable /proc/sys/kernel/ns_last_pid (gVisor lacks it)");
		return 0;
	}
	int procfd = open("/proc", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (procfd < 0)
		die("open /proc");

	struct kid a = kid_start();
	pid_t old = a.pid;
	long fa = sys_pidfd_open(a.pid, 0);
	res("open-a", "pidfd_open", fa, 1);
	char path[64];
	snprintf(path, sizeof path, "/proc/%d", (int)a.pid);
	int pd = open(path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	res("open-a-proc-dir", "open(/proc/pid)", pd, 1);
	to_procfd("a-to-procfd", fa, procfd, a.pid, 0);
	to_procfd("a-to-outer-procfd", fa, outer_proc, a.pid, 1);
	kid_exit(&a, 5);
	reap(a.pid);
	kid_close(&a);

	if (set_last_pid(old - 1) < 0)
		die("write ns_last_pid");
	struct kid b = kid_start();
	out("reuse: new child has the old pid = %s", b.pid == old ? "yes" : "no");

	to_procfd("old-pidfd-to-procfd", fa, procfd, b.pid, 0);
	to_procfd("old-pidfd-to-outer-procfd", fa, outer_proc, b.pid, 1);
	expect_esrch(sysfill_pidfd_to_procfd(fa, procfd, 0));
	long r0 = sysfill_procfd_to_pidfd(pd, 0);
	res("old-proc-dir-to-pidfd", "sysfill_procfd_to_pidfd", r0, 1);
	expect_esrch(r0);
	struct sysfill_exit_info e;
	memset(&e, 0, sizeof e);
	int r = sysfill_pidfd_exit_info(fa, &e, 0);
	res("old-pidfd-exit-info", "sysfill_pidfd_exit_info", r, 0);
	out("old-pidfd-exit-info: code=%s status=%d", e.code == CLD_EXITED ? "CLD_EXITED" : "other",
	    e.status);
	mismatches += r != SYSFILL_EXIT_CODE || e.code != CLD_EXITED || e.status != 5;
	kid_check("new-child-untouched", &b);

	long fb = sys_pidfd_open(b.pid, 0);
	res("open-new", "pidfd_open", fb, 1);
	to_procfd("new-to-procfd", fb, procfd, b.pid, 0);
	to_procfd("new-to-outer-procfd", fb, outer_proc, b.pid, 1);
	snprintf(path, sizeof path, "/proc/%d", (int)b.pid);
	int nd = open(path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	long f2 = sysfill_procfd_to_pidfd(nd, 0);
	res("new-proc-dir-to-pidfd", "sysfill_procfd_to_pidfd", f2, 1);
	res("new-proc-dir-to-pidfd-sigusr1", "pidfd_send_signal",
	    sys_pidfd_send_signal(f2, SIGUSR1, NULL, 0), 0);
	kid_check("new-child-signalled", &b);
	/* its directory in the outer mount gives a pidfd of it too */
	int od = sysfill_pidfd_to_procfd(fb, outer_proc, 0);
	long f3 = sysfill_procfd_to_pidfd(od, 0);
	res("new-outer-dir-to-pidfd", "sysfill_procfd_to_pidfd", f3, 1);
	res("new-outer-dir-to-pidfd-sigusr2", "pidfd_send_signal",
	    sys_pidfd_send_signal(f3, SIGUSR2, NULL, 0), 0);
	kid_check("new-child-signalled-again", &b);

	kid_exit(&b, 0);
	reap(b.pid);
	kid_close(&b);
	if (mismatches)
		out("FATAL: %d results contradict the scenario's own observations", mismatches);
	return mismatches ? 1 : 0;
}

int main(void)
{
	scenario_init();
	int outer_proc = open("/proc", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (outer_proc < 0)
		die("open /proc");
	if (unshare(CLONE_NEWPID | CLONE_NEWNS) < 0) {
		out("skip: unshare(CLONE_NEWPID|CLONE_NEWNS) failed (%s)", errname(errno));
		return 0;
	}
	fflush(stdout);
	pid_t init = track(fork());
	if (init < 0)
		die("fork");
	if (init == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(ns_init(outer_proc));
	}
	int st;
	waitpid(init, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		out("ns: init ended with status 0x%x", st);
	return 0;
}
