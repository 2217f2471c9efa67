/* The SIGSYS disposition as the raw rt_sigaction shows it: after a raw
 * set (unknown sa_flags bits cleared since Linux 5.11, SIGKILL/SIGSTOP out
 * of the mask, the restorer kept as given), after libc's sigaction
 * (SA_RESTORER and libc's restorer added) and after signal(); the libc
 * view of the same; the kernel's errors (size, bad pointers, order). */
#include "common.h"
#include <stdint.h>

struct ksa {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

static void h1(int s) { }
static void h2(int s) { }
static void *libc_restorer;

static long raw(int sig, const struct ksa *act, struct ksa *old, size_t size)
{
	return syscall(SYS_rt_sigaction, sig, act, old, size);
}

static const char *hname(void *h)
{
	return h == (void *)h1 ? "h1" : h == (void *)h2 ? "h2"
		: h == (void *)SIG_DFL ? "SIG_DFL" : h == (void *)SIG_IGN ? "SIG_IGN"
		: "other";
}

static const char *rname(void *r)
{
	return !r ? "0" : r == libc_restorer ? "libc" : r == (void *)0x1234 ? "given" : "other";
}

static void raw_view(const char *step)
{
	struct ksa o;
	memset(&o, 0xa5, sizeof o);
	long r = raw(SIGSYS, 0, &o, 8);
	if (r < 0) {
		out("%s: rt_sigaction = -1 %s", step, errname(errno));
		return;
	}
	out("%s: handler=%s flags=%lx restorer=%s mask=%llx", step, hname(o.handler),
	    o.flags, rname(o.restorer), (unsigned long long)o.mask);
}

static void libc_view(const char *step)
{
	struct sigaction o;
	memset(&o, 0, sizeof o);
	if (sigaction(SIGSYS, 0, &o)) {
		out("%s: sigaction = -1 %s", step, errname(errno));
		return;
	}
	uint64_t m;
	memcpy(&m, &o.sa_mask, 8);
	out("%s: libc handler=%s flags=%x restorer=%s mask=%llx", step,
	    hname((void *)o.sa_handler), (unsigned)o.sa_flags, rname((void *)o.sa_restorer),
	    (unsigned long long)m);
}

int main(void)
{
	scenario_init();
	probe_pidfd_open();
	long fd;

	/* libc's restorer, as the kernel shows it for another signal. */
	struct sigaction s = {.sa_handler = h1};
	sigaction(SIGUSR2, &s, 0);
	struct ksa k;
	raw(SIGUSR2, 0, &k, 8);
	libc_restorer = k.restorer;

	raw_view("initial");
	libc_view("initial");

	struct ksa all = {.handler = (void *)h1, .flags = ~0UL & ~0x04000000UL,
			  .restorer = (void *)0x1234, .mask = ~0ULL};
	struct ksa o;
	memset(&o, 0, sizeof o);
	long r = raw(SIGSYS, &all, &o, 8);
	out("raw-set-all-flags: rt_sigaction = %ld old handler=%s flags=%lx restorer=%s",
	    r, hname(o.handler), o.flags, rname(o.restorer));
	raw_view("raw-set-all-flags");
	libc_view("raw-set-all-flags");

	struct ksa plain = {.handler = (void *)h2, .flags = SA_SIGINFO | 0x04000000UL,
			    .restorer = 0, .mask = 1ULL << (SIGUSR1 - 1)};
	raw(SIGSYS, &plain, 0, 8);
	raw_view("raw-set-restorer-flag-no-restorer");

	struct sigaction sa = {.sa_handler = h1, .sa_flags = SA_SIGINFO | SA_RESTART | 0x400 | 0x1000};
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGKILL);
	sigaddset(&sa.sa_mask, SIGUSR1);
	struct sigaction lo;
	memset(&lo, 0, sizeof lo);
	r = sigaction(SIGSYS, &sa, &lo);
	out("libc-set: sigaction = %ld old handler=%s flags=%x restorer=%s", r,
	    hname((void *)lo.sa_handler), (unsigned)lo.sa_flags, rname((void *)lo.sa_restorer));
	raw_view("libc-set");
	libc_view("libc-set");

	signal(SIGSYS, SIG_IGN);
	raw_view("signal-ign");
	libc_view("signal-ign");
	signal(SIGSYS, h2);
	raw_view("signal-h2");

	/* Errors: the size first, then act, then the action is set before
	 * oact is written. */
	r = raw(SIGSYS, &all, 0, 16);
	res("bad-size", "rt_sigaction", r, 0);
	raw_view("after-bad-size");
	r = raw(SIGSYS, (void *)8, 0, 8);
	res("bad-act", "rt_sigaction", r, 0);
	raw_view("after-bad-act");
	r = raw(SIGSYS, &plain, (void *)8, 8);
	res("bad-oact", "rt_sigaction", r, 0);
	raw_view("after-bad-oact");

	raw(SIGSYS, &(struct ksa){.handler = SIG_DFL}, 0, 8);
	raw_view("reset");
	libc_view("reset");

	fd = sys_pidfd_open(getpid(), 0);
	res("after", "pidfd_open", fd, 1);
	return 0;
}
