/* pidfd_send_signal: who gets what, siginfo rules, flags, fds that are not
 * pidfds, stale and reused fd numbers, dup/dup2, the /proc/<pid> form. */
#include "common.h"

static siginfo_t mkinfo(int signo, int code)
{
	siginfo_t si;
	memset(&si, 0, sizeof si);
	si.si_signo = signo;
	si.si_code = code;
	si.si_pid = GIVEN_PID;
	si.si_uid = getuid();
	si.si_value.sival_int = GIVEN_VALUE;
	return si;
}

/* Take one pending signal of ours (blocked in the caller) and print it. */
static void self_check(const char *step)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	siginfo_t si;
	struct timespec zero = { 0, 0 };
	int s = sigtimedwait(&set, &si, &zero);
	if (s < 0) {
		out("%s: self got nothing", step);
		return;
	}
	out("%s: self got %s si_code=%s si_pid=%s si_value=%d", step, signame(s),
	    codename(s, si.si_code),
	    si.si_pid == getpid() ? "self" : si.si_pid == GIVEN_PID ? "given" : "other",
	    si.si_code == SI_QUEUE || si.si_code == SI_USER ? si.si_value.sival_int : -1);
}

#define SEND(step, fd, sig, info, flags) \
	res(step, "pidfd_send_signal", sys_pidfd_send_signal(fd, sig, info, flags), 0)

int main(void)
{
	scenario_init();
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);

	struct kid a = kid_start();
	long fa = sys_pidfd_open(a.pid, 0);
	res("open-a", "pidfd_open", fa, 1);

	/* sig 0 and a real signal, info NULL */
	SEND("sig0-live", fa, 0, NULL, 0);
	kid_check("sig0-live", &a);
	SEND("sigusr1", fa, SIGUSR1, NULL, 0);
	kid_check("sigusr1", &a);

	/* info supplied */
	siginfo_t si = mkinfo(SIGUSR1, SI_QUEUE);
	SEND("info-queue", fa, SIGUSR1, &si, 0);
	kid_check("info-queue", &a);
	si = mkinfo(SIGUSR1, SI_USER);
	SEND("info-user-other", fa, SIGUSR1, &si, 0);
	kid_check("info-user-other", &a);
	si = mkinfo(SIGUSR1, SI_TKILL);
	SEND("info-tkill-other", fa, SIGUSR1, &si, 0);
	kid_check("info-tkill-other", &a);
	si = mkinfo(SIGUSR1, SI_KERNEL);
	SEND("info-kernel-other", fa, SIGUSR1, &si, 0);
	kid_check("info-kernel-other", &a);
	si = mkinfo(SIGUSR2, SI_QUEUE);
	SEND("info-signo-mismatch", fa, SIGUSR1, &si, 0);
	kid_check("info-signo-mismatch", &a);
	SEND("info-efault", fa, SIGUSR1, (void *)1, 0);
	kid_check("info-efault", &a);
	/* argument order: the fd is looked up before info is read */
	SEND("info-efault-badfd", -1, SIGUSR1, (void *)1, 0);
	si = mkinfo(SIGUSR2, SI_QUEUE);
	SEND("info-mismatch-badfd", -1, SIGUSR1, &si, 0);

	/* flags */
	SEND("flags-unknown", fa, SIGUSR1, NULL, 1u << 30);
	kid_check("flags-unknown", &a);
	SEND("flags-unknown-badfd", -1, SIGUSR1, NULL, 1u << 30);
	SEND("flags-upper-junk", fa, 0, NULL, 0xdead00000000UL);

	/* signal numbers */
	SEND("sig-1000", fa, 1000, NULL, 0);
	SEND("sig-minus1", fa, -1, NULL, 0);
	SEND("sig-65", fa, 65, NULL, 0);
	SEND("sig-upper-junk", fa, 0x500000000L | SIGUSR2, NULL, 0);
	kid_check("sig-upper-junk", &a);

	/* fds that are not pidfds */
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		die("pipe2");
	SEND("notpidfd-pipe", p[0], SIGUSR1, NULL, 0);
	int dn = open("/dev/null", O_RDWR | O_CLOEXEC);
	SEND("notpidfd-devnull", dn, SIGUSR1, NULL, 0);
	SEND("notpidfd-minus1", -1, SIGUSR1, NULL, 0);
	SEND("notpidfd-intmax", INT_MAX, SIGUSR1, NULL, 0);
	close(dn);
	close(p[0]);
	close(p[1]);
	kid_check("notpidfd", &a);

	/* self, with SI_USER info: allowed for oneself */
	long fs = sys_pidfd_open(getpid(), 0);
	res("open-self", "pidfd_open", fs, 1);
	SEND("self-sig0", fs, 0, NULL, 0);
	SEND("self-sigusr1", fs, SIGUSR1, NULL, 0);
	self_check("self-sigusr1");
	si = mkinfo(SIGUSR1, SI_USER);
	SEND("self-info-user", fs, SIGUSR1, &si, 0);
	self_check("self-info-user");
	si = mkinfo(SIGUSR2, SI_QUEUE);
	SEND("self-info-queue", fs, SIGUSR2, &si, 0);
	self_check("self-info-queue");

	/* dup: the copy signals the same process, also after the original
	 * is closed */
	long fd2 = fa >= 0 ? dup(fa) : -1;
	SEND("dup", fd2, SIGUSR1, NULL, 0);
	kid_check("dup", &a);
	long fd3 = fa >= 0 ? fcntl(fa, F_DUPFD_CLOEXEC, 100) : -1;
	close(fd2);
	SEND("dupfd-cloexec-after-close", fd3, SIGUSR2, NULL, 0);
	kid_check("dupfd-cloexec-after-close", &a);
	close(fd3);

	/* dup2 of pidfd A onto pidfd B: B's number now reaches A */
	struct kid b = kid_start();
	long fb = sys_pidfd_open(b.pid, 0);
	res("open-b", "pidfd_open", fb, 1);
	if (fa >= 0 && fb >= 0)
		res("dup2-a-onto-b", "dup2", dup2(fa, fb) == fb ? 0 : -1, 0);
	SEND("dup2-signal-b", fb, SIGUSR1, NULL, 0);
	kid_check("dup2-signal-b-a", &a);
	kid_check("dup2-signal-b-b", &b);
	close(fb);

	/* a closed pidfd whose number is reused by open(): not a pidfd */
	long fc = sys_pidfd_open(b.pid, 0);
	res("open-b-again", "pidfd_open", fc, 1);
	close(fc);
	int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
	out("reused-number: %s", nul == fc ? "same number" : "different number");
	SEND("reused-number", nul, SIGUSR1, NULL, 0);
	kid_check("reused-number", &b);
	close(nul);
	SEND("closed-fd", fc, SIGUSR1, NULL, 0);
	kid_check("closed-fd", &b);

	/* /proc/<pid> directory fd (the 5.1 form) */
	char path[64];
	snprintf(path, sizeof path, "/proc/%d", (int)b.pid);
	int pd = open(path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	res("proc-dir-open", "open(/proc/pid)", pd, 1);
	SEND("proc-dir", pd, SIGUSR1, NULL, 0);
	kid_check("proc-dir", &b);
	si = mkinfo(SIGUSR2, SI_QUEUE);
	SEND("proc-dir-info", pd, SIGUSR2, &si, 0);
	kid_check("proc-dir-info", &b);
	snprintf(path, sizeof path, "/proc/%d/stat", (int)b.pid);
	int ps = open(path, O_RDONLY | O_CLOEXEC);
	SEND("proc-stat-file", ps, SIGUSR1, NULL, 0);
	close(ps);
	snprintf(path, sizeof path, "/proc/%d/task/%d", (int)b.pid, (int)b.pid);
	int pt = open(path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	SEND("proc-task-dir", pt, SIGUSR1, NULL, 0);
	close(pt);
	int pself = open("/proc/self", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	SEND("proc-self-dir", pself, SIGUSR1, NULL, 0);
	self_check("proc-self-dir");
	close(pself);
	kid_check("proc-others", &b);

	/* zombie and reaped */
	kid_exit(&a, 0);
	SEND("zombie-sig0", fa, 0, NULL, 0);
	SEND("zombie-sigusr1", fa, SIGUSR1, NULL, 0);
	SEND("zombie-sig-1000", fa, 1000, NULL, 0);
	si = mkinfo(SIGUSR1, SI_QUEUE);
	SEND("zombie-info-queue", fa, SIGUSR1, &si, 0);
	reap(a.pid);
	SEND("reaped-sig0", fa, 0, NULL, 0);
	SEND("reaped-sigusr1", fa, SIGUSR1, NULL, 0);
	si = mkinfo(SIGUSR2, SI_QUEUE);
	SEND("reaped-info-mismatch", fa, SIGUSR1, &si, 0);
	SEND("reaped-info-efault", fa, SIGUSR1, (void *)1, 0);
	SEND("reaped-flags-unknown", fa, SIGUSR1, NULL, 1u << 30);

	kid_exit(&b, 0);
	SEND("proc-dir-zombie", pd, 0, NULL, 0);
	reap(b.pid);
	SEND("proc-dir-reaped", pd, 0, NULL, 0);
	close(pd);
	kid_close(&a);
	kid_close(&b);

	/* SIGKILL through the pidfd; the exit status shows it */
	pid_t k = spawn_pause();
	long fk = sys_pidfd_open(k, 0);
	SEND("sigkill", fk, SIGKILL, NULL, 0);
	if (fk < 0)
		kill(k, SIGKILL);
	int st;
	waitpid(k, &st, 0);
	out("sigkill: child %s", WIFSIGNALED(st) ? signame(WTERMSIG(st)) : "exited");
	return 0;
}
