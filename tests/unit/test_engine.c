// build: build/libsysfill.a -pthread
/* The engine (shim/) called directly, each result compared with the native
 * call of this 6.18 kernel on the same kind of process: the native call is
 * the oracle, the engine is the emulation under test. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "sf.h"

static const struct sf_caller *C = &sf_self_caller;

static void setup(void)
{
	sf_init(); /* registers the fork handler, as every entry point does */
}
TestSuite(engine, .init = setup, .timeout = 30);

static int native_open(pid_t pid, unsigned flags)
{
	long r = syscall(SYS_pidfd_open, pid, flags);
	return r < 0 ? -errno : (int)r;
}

static long native_signal(int fd, int sig, siginfo_t *info, unsigned flags)
{
	return syscall(SYS_pidfd_send_signal, fd, sig, info, flags) < 0 ? -errno : 0;
}

/* A child that waits; with REPORT it writes the number of the first
 * signal it gets into the pipe and exits 0. */
static pid_t spawn_sleeper(int report_fd)
{
	/* The child starts with the signals blocked: one sent at once stays
	 * pending instead of killing it before its sigwait. */
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid_t p = fork();
	if (p > 0)
		sigprocmask(SIG_SETMASK, &old, 0);
	if (p == 0) {
		if (report_fd >= 0) {
			int sig = 0;
			sigwait(&all, &sig);
			(void)!write(report_fd, &sig, sizeof sig);
			_exit(0);
		}
		sigprocmask(SIG_SETMASK, &old, 0);
		for (;;)
			pause();
	}
	return p;
}

static int revents(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, ms) == 1 ? p.revents : 0;
}

static int count_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void wait_zombie(pid_t p)
{
	siginfo_t si;
	waitid(P_PID, p, &si, WEXITED | WNOWAIT);
}

Test(engine, child_pidfd_polls_like_native_live_zombie_reaped)
{
	pid_t p = spawn_sleeper(-1);
	int e = (int)sf_pidfd_open(p, 0), n = native_open(p, 0);
	cr_assert(e >= 0 && n >= 0);
	cr_expect_eq(revents(e, 0), revents(n, 0), "live");
	cr_expect_eq(revents(e, 0), 0);
	kill(p, SIGKILL);
	wait_zombie(p);
	cr_expect_eq(revents(e, 5000), POLLIN, "zombie: emulated");
	cr_expect_eq(revents(n, 0), POLLIN, "zombie: native");
	cr_expect_eq(sf_pidfd_send_signal(C, e, 0, 0, 0), native_signal(n, 0, 0, 0));
	waitpid(p, 0, 0);
	/* After the reap: ESRCH for signals and pidfd_open, ECHILD for waitid. */
	cr_expect_eq(sf_pidfd_send_signal(C, e, 0, 0, 0), -ESRCH);
	cr_expect_eq(native_signal(n, 0, 0, 0), -ESRCH);
	cr_expect_eq(sf_pidfd_open(p, 0), -ESRCH);
	cr_expect_eq(native_open(p, 0), -ESRCH);
	siginfo_t si;
	cr_expect_eq(sf_waitid_pidfd(C, e, (uintptr_t)&si, WEXITED, 0), -ECHILD);
	cr_expect_eq(waitid(P_PIDFD, n, &si, WEXITED) < 0 ? -errno : 0, -ECHILD);
	/* POLLIN stays; POLLHUP after the reap exists only since Linux 6.9. */
	cr_expect(revents(e, 0) & POLLIN);
}

Test(engine, pidfd_is_cloexec_and_nonblock_flag_matches_native)
{
	pid_t p = spawn_sleeper(-1);
	int e = (int)sf_pidfd_open(p, PIDFD_NONBLOCK), n = native_open(p, PIDFD_NONBLOCK);
	cr_expect_eq(fcntl(e, F_GETFD), fcntl(n, F_GETFD));
	cr_expect_eq(fcntl(e, F_GETFL), fcntl(n, F_GETFL));
	char b[8];
	errno = 0;
	cr_expect_eq(read(e, b, sizeof b), -1);
	cr_expect_eq(errno, EINVAL, "read on a pidfd: EINVAL, as native");
	/* Non-blocking pidfd of a live child, no WNOHANG: EAGAIN. */
	siginfo_t si;
	cr_expect_eq(sf_waitid_pidfd(C, e, (uintptr_t)&si, WEXITED, 0), -EAGAIN);
	cr_expect_eq(waitid(P_PIDFD, n, &si, WEXITED) < 0 ? -errno : 0, -EAGAIN);
	kill(p, SIGKILL);
	waitpid(p, 0, 0);
}

Test(engine, bad_arguments_give_the_kernels_errno)
{
	int pipefd[2];
	cr_assert(pipe(pipefd) == 0);
	cr_expect_eq(sf_pidfd_open(-1, 0), native_open(-1, 0));
	cr_expect_eq(sf_pidfd_open(0, 0), native_open(0, 0));
	cr_expect_eq(sf_pidfd_open(getpid(), 0x40000000), native_open(getpid(), 0x40000000));
	cr_expect_eq(sf_pidfd_send_signal(C, pipefd[0], 0, 0, 0), native_signal(pipefd[0], 0, 0, 0));
	cr_expect_eq(sf_pidfd_send_signal(C, 999, 0, 0, 0), native_signal(999, 0, 0, 0));
	int self = (int)sf_pidfd_open(getpid(), 0), nself = native_open(getpid(), 0);
	cr_expect_eq(sf_pidfd_send_signal(C, self, 0, 0, 1u << 30),
		     native_signal(nself, 0, 0, 1u << 30));
	cr_expect_eq(sf_pidfd_send_signal(C, self, 0, (uintptr_t)1, 0),
		     native_signal(nself, 0, (siginfo_t *)1, 0), "bad info: EFAULT");
	cr_expect_eq(sf_pidfd_send_signal(C, self, 1000, 0, 0), native_signal(nself, 1000, 0, 0));
	siginfo_t si;
	cr_expect_eq(sf_waitid_pidfd(C, self, (uintptr_t)&si, 0, 0), -EINVAL);
	cr_expect_eq(sf_waitid_pidfd(C, pipefd[0], (uintptr_t)&si, WEXITED, 0),
		     waitid(P_PIDFD, pipefd[0], &si, WEXITED) < 0 ? -errno : 0);
	cr_expect_eq(sf_waitid_pidfd(C, self, (uintptr_t)&si, WEXITED, 0),
		     waitid(P_PIDFD, nself, &si, WEXITED) < 0 ? -errno : 0, "self: ECHILD");
}

Test(engine, closed_pidfd_number_reused_by_another_file_signals_nobody)
{
	int rep[2];
	cr_assert(pipe(rep) == 0);
	pid_t p = spawn_sleeper(rep[1]);
	int e = (int)sf_pidfd_open(p, 0);
	close(e);
	int other = open("/dev/null", O_RDONLY);
	cr_assert_eq(other, e, "the number is reused");
	cr_expect_eq(sf_pidfd_send_signal(C, other, SIGUSR1, 0, 0), -EBADF);
	/* A real pidfd of another process at the same number: still EBADF for
	 * our table (it is not one of ours) -- and the child got nothing. */
	int flags = fcntl(rep[0], F_GETFL);
	fcntl(rep[0], F_SETFL, flags | O_NONBLOCK);
	int sig = 0;
	cr_expect_eq(read(rep[0], &sig, sizeof sig), -1, "no signal reached the child");
	kill(p, SIGTERM);
	waitpid(p, 0, 0);
}

Test(engine, dup2_of_one_pidfd_onto_another_follows_the_new_target)
{
	int ra[2], rb[2];
	cr_assert(pipe(ra) == 0 && pipe(rb) == 0);
	pid_t a = spawn_sleeper(ra[1]), b = spawn_sleeper(rb[1]);
	int ea = (int)sf_pidfd_open(a, 0), eb = (int)sf_pidfd_open(b, 0);
	cr_assert(dup2(ea, eb) == eb);
	cr_expect_eq(sf_pidfd_send_signal(C, eb, SIGUSR2, 0, 0), 0);
	int sig = 0;
	cr_expect_eq(read(ra[0], &sig, sizeof sig), (ssize_t)sizeof sig);
	cr_expect_eq(sig, SIGUSR2, "A got the signal sent through B's number");
	int d = dup(eb);
	waitpid(a, 0, 0);
	cr_expect_eq(sf_pidfd_send_signal(C, d, 0, 0, 0), -ESRCH, "dup of a reaped pidfd");
	kill(b, SIGTERM);
	waitpid(b, 0, 0);
}

Test(engine, siginfo_permission_rules_match_native)
{
	int rep[2];
	cr_assert(pipe(rep) == 0);
	pid_t p = spawn_sleeper(-1);
	int e = (int)sf_pidfd_open(p, 0), n = native_open(p, 0);
	siginfo_t si = {.si_signo = SIGUSR1, .si_code = SI_USER};
	cr_expect_eq(sf_pidfd_send_signal(C, e, SIGUSR1, (uintptr_t)&si, 0),
		     native_signal(n, SIGUSR1, &si, 0), "SI_USER to another: EPERM");
	si.si_code = SI_QUEUE;
	si.si_signo = SIGUSR2;
	cr_expect_eq(sf_pidfd_send_signal(C, e, SIGUSR1, (uintptr_t)&si, 0),
		     native_signal(n, SIGUSR1, &si, 0), "si_signo != sig: EINVAL");
	si.si_signo = 0;
	cr_expect_eq(sf_pidfd_send_signal(C, e, 0, (uintptr_t)&si, 0),
		     native_signal(n, 0, &si, 0), "SI_QUEUE, sig 0: allowed");
	kill(p, SIGKILL);
	waitpid(p, 0, 0);
}

Test(engine, waitid_reports_exit_status_and_reaps_once)
{
	pid_t p = fork();
	if (!p)
		_exit(3);
	int e = (int)sf_pidfd_open(p, 0);
	siginfo_t si;
	memset(&si, 0x5a, sizeof si);
	cr_assert_eq(sf_waitid_pidfd(C, e, (uintptr_t)&si, WEXITED | WNOWAIT, 0), 0);
	cr_expect_eq(si.si_pid, p);
	cr_expect_eq(si.si_code, CLD_EXITED);
	cr_expect_eq(si.si_status, 3);
	cr_expect_eq(((unsigned char *)&si)[40], 0x5a, "bytes the kernel does not write stay");
	cr_assert_eq(sf_waitid_pidfd(C, e, (uintptr_t)&si, WEXITED, 0), 0);
	cr_expect_eq(sf_waitid_pidfd(C, e, (uintptr_t)&si, WEXITED, 0), -ECHILD);
	/* SYSCALL waitid: an unwritable infop turns the error into EFAULT */
	cr_expect_eq(sf_waitid_pidfd(C, e, (uintptr_t)1, WEXITED, 0), -EFAULT);
}

Test(engine, waitid_bad_infop_is_efault_after_the_reap_as_native)
{
	pid_t p = fork();
	if (!p)
		_exit(0);
	int e = (int)sf_pidfd_open(p, 0);
	wait_zombie(p);
	cr_expect_eq(sf_waitid_pidfd(C, e, (uintptr_t)1, WEXITED, 0), -EFAULT);
	cr_expect_eq(waitpid(p, 0, WNOHANG), -1, "the child was reaped all the same");
}

Test(engine, failed_pidfd_open_leaves_no_fd)
{
	pid_t p = fork();
	if (!p)
		_exit(0);
	waitpid(p, 0, 0);
	int before = count_fds();
	for (int i = 0; i < 100; i++)
		cr_assert_eq(sf_pidfd_open(p, 0), -ESRCH);
	cr_expect_eq(count_fds(), before);
}

Test(engine, inherited_pidfd_signals_and_polls_in_a_fork_child)
{
	int rep[2];
	cr_assert(pipe(rep) == 0);
	pid_t t = spawn_sleeper(rep[1]);
	int e = (int)sf_pidfd_open(t, 0);
	pid_t c = fork();
	if (!c) {
		long r = sf_pidfd_send_signal(C, e, SIGUSR1, 0, 0);
		_exit(r == 0 && revents(e, 5000) == POLLIN ? 0 : 1);
	}
	int sig = 0;
	cr_expect_eq(read(rep[0], &sig, sizeof sig), (ssize_t)sizeof sig);
	cr_expect_eq(sig, SIGUSR1);
	waitpid(t, 0, 0);
	int st;
	cr_assert_eq(waitpid(c, &st, 0), c);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "the fork child signalled and saw the exit");
}

Test(engine, non_child_exit_is_noticed_by_polling)
{
	int rep[2];
	cr_assert(pipe(rep) == 0);
	pid_t mid = fork();
	if (!mid) { /* a grandchild: not our child */
		pid_t g = fork();
		if (!g) {
			pause();
			_exit(0);
		}
		(void)!write(rep[1], &g, sizeof g);
		waitpid(g, 0, 0);
		_exit(0);
	}
	pid_t g = 0;
	cr_assert_eq(read(rep[0], &g, sizeof g), (ssize_t)sizeof g);
	int e = (int)sf_pidfd_open(g, 0);
	cr_assert(e >= 0);
	cr_expect_eq(revents(e, 0), 0);
	siginfo_t si;
	cr_expect_eq(sf_waitid_pidfd(C, e, (uintptr_t)&si, WEXITED, 0), -ECHILD);
	kill(g, SIGKILL);
	cr_expect_eq(revents(e, 2000), POLLIN, "noticed within 2 s");
	waitpid(mid, 0, 0);
}
