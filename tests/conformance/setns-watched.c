/* setns(2) into a user, mount and time namespace while live processes are
 * watched through pidfds: the kernel wants a single-threaded process for
 * them (userns_install, mntns_install: EINVAL; timens_install: EUSERS),
 * and natively the program is one. By a pidfd and by namespace fds, with
 * a watched child that keeps running, one that exits around the call (its
 * pidfd readable after it all the same), a watched non-child (a pidfd of
 * ourselves) and a watched child whose pidfd's exit the program reaps
 * with waitid(P_PIDFD) after the calls. Needs root (unshare). */
#include "common.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const char *const names[] = {"user", "mnt", "time"};
static const int flags[] = {CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWTIME};

/* A child in new user, mount and time namespaces (the time one entered
 * through time_for_children, as the kernel's pidfd_setns_test does), told
 * to exit by a byte on CMD. */
static pid_t spawn_ns_child(int *cmd)
{
	int up[2], down[2];
	if (pipe2(up, O_CLOEXEC) || pipe2(down, O_CLOEXEC))
		die("pipe2");
	fflush(stdout);
	pid_t c = track(fork());
	if (c < 0)
		die("fork");
	if (c == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		char r = 'n';
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWTIME) == 0) {
			int t = open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
			if (t >= 0 && setns(t, CLONE_NEWTIME) == 0)
				r = 'y';
		}
		if (write(up[1], &r, 1) < 0) {}
		char b;
		if (read(down[0], &b, 1) < 0) {}
		_exit(7);
	}
	close(up[1]);
	close(down[0]);
	char r = 0;
	if (read(up[0], &r, 1) != 1)
		die("read");
	close(up[0]);
	out("ns child: %s", r == 'y' ? "namespaces made" : "namespaces not made");
	*cmd = down[1];
	return c;
}

int main(void)
{
	scenario_init();
	if (!setns_usable())
		return 0;
	/* watched: a child that keeps running, ourselves */
	pid_t live = spawn_pause();
	long plive = sys_pidfd_open(live, 0);
	res("live", "pidfd_open", plive, 1);
	long pself = sys_pidfd_open(getpid(), 0);
	res("self", "pidfd_open", pself, 1);

	int cmd1, cmd2;
	pid_t t1 = spawn_ns_child(&cmd1);
	long p1 = sys_pidfd_open(t1, 0);
	res("target", "pidfd_open", p1, 1);
	pid_t t2 = spawn_ns_child(&cmd2);
	long p2 = sys_pidfd_open(t2, 0);
	res("target2", "pidfd_open", p2, 1);

	int r, nsfd[3]; /* opened while we may (not from t1's user namespace) */
	for (int i = 0; i < 3; i++) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)t2, names[i]);
		nsfd[i] = open(path, O_RDONLY | O_CLOEXEC);
		out("nsfd-%s: open %s", names[i], nsfd[i] < 0 ? errname(errno) : "fd");
	}

	/* by namespace fds, one at a time, into the second target's, from a
	 * fork child that watches a child of its own */
	fflush(stdout);
	pid_t sub = track(fork());
	if (sub < 0)
		die("fork");
	if (sub == 0) {
		pid_t k = spawn_pause();
		long pk = sys_pidfd_open(k, 0);
		res("sub-live", "pidfd_open", pk, 1);
		for (int i = 0; i < 3; i++) {
			char step[32];
			snprintf(step, sizeof step, "nsfd-%s", names[i]);
			errno = 0;
			r = nsfd[i] < 0 ? -1 : setns(nsfd[i], flags[i]);
			out("%s: %d %s", step, r, r < 0 ? errname(errno) : "");
			same_ns(step, t2, names[i]);
		}
		poll_report("sub-live-after", (int)pk, POLLIN, 0);
		kill(k, SIGKILL);
		poll_report("sub-live-exit", (int)pk, POLLIN, 3000);
		reap(k);
		fflush(stdout);
		_exit(0);
	}
	int st = 0;
	waitpid(sub, &st, 0);
	out("sub: %s", status_text(st));
	for (int i = 0; i < 3; i++)
		if (nsfd[i] >= 0)
			close(nsfd[i]);

	/* by pidfd, all three at once; a watched child exits meanwhile */
	pid_t quick = spawn_exit_later(5, 1);
	long pquick = sys_pidfd_open(quick, 0);
	res("quick", "pidfd_open", pquick, 1);
	errno = 0;
	r = setns((int)p1, CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWTIME);
	out("pidfd-user-mnt-time: %d %s", r, r < 0 ? errname(errno) : "");
	for (int i = 0; i < 3; i++)
		same_ns("pidfd-user-mnt-time", t1, names[i]);
	poll_report("quick-exit", (int)pquick, POLLIN, 3000);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	waitid_report("quick-reap", sys_waitid(P_PIDFD, pquick, &si, WEXITED), &si, quick);

	/* the watches still work: ourselves not readable, the live child
	 * readable once killed, a target readable at its exit */
	poll_report("self-after", (int)pself, POLLIN, 0);
	poll_report("live-before-kill", (int)plive, POLLIN, 0);
	res("live-kill", "pidfd_send_signal",
	    sys_pidfd_send_signal(plive, SIGKILL, NULL, 0), 0);
	poll_report("live-exit", (int)plive, POLLIN, 3000);
	memset(&si, 0, sizeof si);
	waitid_report("live-reap", sys_waitid(P_PIDFD, plive, &si, WEXITED), &si, live);
	if (write(cmd1, "x", 1) < 0) {}
	poll_report("target-exit", (int)p1, POLLIN, 3000);
	memset(&si, 0, sizeof si);
	waitid_report("target-reap", sys_waitid(P_PIDFD, p1, &si, WEXITED), &si, t1);
	if (write(cmd2, "x", 1) < 0) {}
	poll_report("target2-exit", (int)p2, POLLIN, 3000);
	reap(t2);
	return 0;
}
