/* A system call leaves every register but rax, rcx and r11 as it found
 * them (x86-64 syscall ABI; the kernel restores pt_regs). A blocking
 * waitid(P_PIDFD) that the emulation leaves to the thread as its own
 * waitid(P_PID) must too: inline-asm callers keep values in the argument
 * registers across the call. Each case makes the raw call with known
 * values in rdi, rsi, rdx, r10, r8, r9 and reports which changed. */
#include "common.h"

struct regs {
	long rdi, rsi, rdx, r10, r8, r9;
};

static long raw_waitid(long fd, siginfo_t *si, long options, struct regs *out)
{
	long ret;
	register long r10 __asm__("r10") = options;
	register long r8 __asm__("r8") = 0;
	register long r9 __asm__("r9") = 0x5a5a5a5a5a5a5a5aL;
	long rdi = P_PIDFD, rsi = fd, rdx = (long)si;
	__asm__ volatile("syscall"
			 : "=a"(ret), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(r10),
			   "+r"(r8), "+r"(r9)
			 : "a"((long)NR_waitid)
			 : "rcx", "r11", "memory");
	*out = (struct regs){rdi, rsi, rdx, r10, r8, r9};
	return ret;
}

static void regs_report(const char *step, long fd, const siginfo_t *si,
			long options, const struct regs *g)
{
	out("%s: rdi %s, rsi %s, rdx %s, r10 %s, r8 %s, r9 %s", step,
	    g->rdi == P_PIDFD ? "kept" : "changed", g->rsi == fd ? "kept" : "changed",
	    g->rdx == (long)si ? "kept" : "changed",
	    g->r10 == options ? "kept" : "changed", g->r8 == 0 ? "kept" : "changed",
	    g->r9 == 0x5a5a5a5a5a5a5a5aL ? "kept" : "changed");
}

static void on_usr1(int sig)
{
	(void)sig;
}

/* A child that sends SIGUSR1 to us after ms milliseconds. */
static pid_t poke_later(int ms)
{
	pid_t parent = getpid();
	fflush(stdout);
	pid_t p = track(fork());
	if (p < 0)
		die("fork");
	if (p == 0) {
		usleep((useconds_t)ms * 1000);
		kill(parent, SIGUSR1);
		_exit(0);
	}
	return p;
}

int main(void)
{
	scenario_init();
	siginfo_t si;
	struct regs g;

	/* blocking, the child exits while the call waits */
	pid_t c = spawn_exit_later(3, 200);
	long fd = sys_pidfd_open(c, 0);
	res("blocking", "pidfd_open", fd, 1);
	memset(&si, 0, sizeof si);
	long r = raw_waitid(fd, &si, WEXITED, &g);
	waitid_report("blocking", r, &si, c);
	regs_report("blocking", fd, &si, WEXITED, &g);
	close((int)fd);

	/* interrupted by a handled signal (no SA_RESTART): EINTR */
	struct sigaction sa = {.sa_handler = on_usr1};
	sigaction(SIGUSR1, &sa, NULL);
	c = spawn_exit_later(4, 800);
	fd = sys_pidfd_open(c, 0);
	pid_t k = poke_later(150);
	memset(&si, 0, sizeof si);
	r = raw_waitid(fd, &si, WEXITED, &g);
	out("eintr: waitid = %ld %s", r < 0 ? -1L : r, r < 0 ? errname((int)-r) : "");
	regs_report("eintr", fd, &si, WEXITED, &g);
	reap(k);

	/* restarted under SA_RESTART, then the exit */
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	k = poke_later(100);
	memset(&si, 0, sizeof si);
	r = raw_waitid(fd, &si, WEXITED, &g);
	waitid_report("restarted", r, &si, c);
	regs_report("restarted", fd, &si, WEXITED, &g);
	reap(k);
	close((int)fd);

	/* not blocking (WNOHANG on a zombie): the emulation answers itself */
	c = spawn_exit(5);
	wait_zombie(c);
	fd = sys_pidfd_open(c, 0);
	memset(&si, 0, sizeof si);
	r = raw_waitid(fd, &si, WEXITED | WNOHANG, &g);
	waitid_report("wnohang", r, &si, c);
	regs_report("wnohang", fd, &si, WEXITED | WNOHANG, &g);
	close((int)fd);
	return 0;
}
