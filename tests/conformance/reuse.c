/* pid reuse: in a new pid namespace (with its own /proc), a reaped child's
 * pid is given to a new child through ns_last_pid. The old pidfd and the old
 * /proc/<pid> directory fd must keep naming the dead process: ESRCH, no
 * signal to the new one, no readiness change, no wait on it. */
#include "common.h"
#include <sched.h>
#include <sys/mount.h>

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

static int ns_init(void)
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
	out("ns: init is pid %s", getpid() == 1 ? "1" : "not 1");

	struct kid a = kid_start();
	pid_t old = a.pid;
	long fa = sys_pidfd_open(a.pid, 0);
	res("open-a", "pidfd_open", fa, 1);
	char path[64];
	snprintf(path, sizeof path, "/proc/%d", (int)a.pid);
	int pd = open(path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	res("open-a-proc-dir", "open(/proc/pid)", pd, 1);
	res("a-sig0", "pidfd_send_signal", sys_pidfd_send_signal(fa, 0, NULL, 0), 0);
	kid_exit(&a, 0);
	reap(a.pid);
	kid_close(&a);

	if (set_last_pid(old - 1) < 0)
		die("write ns_last_pid");
	struct kid b = kid_start();
	out("reuse: new child has the old pid = %s", b.pid == old ? "yes" : "no");

	res("old-pidfd-sig0", "pidfd_send_signal", sys_pidfd_send_signal(fa, 0, NULL, 0), 0);
	res("old-pidfd-sigusr1", "pidfd_send_signal", sys_pidfd_send_signal(fa, SIGUSR1, NULL, 0), 0);
	res("old-proc-dir-sigusr1", "pidfd_send_signal", sys_pidfd_send_signal(pd, SIGUSR1, NULL, 0), 0);
	kid_check("new-child-after-old-sends", &b);
	poll_report("old-pidfd-poll", fa, POLLIN, 5000);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	waitid_report("old-pidfd-waitid", sys_waitid(P_PIDFD, fa, &si, WEXITED | WNOHANG), &si, b.pid);
	res("old-pidfd-getfd", "pidfd_getfd", sys_pidfd_getfd(fa, 0, 0), 1);
	memset(&si, 0, sizeof si);
	long r = waitid(P_PID, b.pid, &si, WEXITED | WNOHANG | WNOWAIT);
	waitid_report("new-child-still-alive", r, &si, b.pid);

	long fb = sys_pidfd_open(b.pid, 0);
	res("open-new", "pidfd_open", fb, 1);
	poll_report("new-pidfd-poll", fb, POLLIN, 0);
	res("new-pidfd-sigusr1", "pidfd_send_signal", sys_pidfd_send_signal(fb, SIGUSR1, NULL, 0), 0);
	kid_check("new-child-after-new-send", &b);

	/* once more, the old pidfd closed first: its number is reused */
	close(fa);
	long fb2 = sys_pidfd_open(b.pid, 0);
	out("reuse-number: %s", fb2 == fa ? "same number" : "different number");
	res("reuse-number-sigusr2", "pidfd_send_signal", sys_pidfd_send_signal(fb2, SIGUSR2, NULL, 0), 0);
	kid_check("reuse-number", &b);

	kid_exit(&b, 0);
	memset(&si, 0, sizeof si);
	waitid_report("new-child-exit", sys_waitid(P_PIDFD, fb, &si, WEXITED), &si, b.pid);
	if (fb < 0) reap(b.pid);
	kid_close(&b);
	return 0;
}

int main(void)
{
	scenario_init();
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
		_exit(ns_init());
	}
	int st;
	waitpid(init, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		out("ns: init ended with status 0x%x", st);
	return 0;
}
