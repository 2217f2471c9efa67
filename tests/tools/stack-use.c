/* Stack use of one call of each kind sysfill traps, from a thread whose
 * stack is filled with a pattern before each call: the bytes below the
 * caller's stack pointer that the call overwrote (the kernel's signal frame
 * plus the SIGSYS handler's frames when the call is trapped; 0 natively).
 * Prints "NAME BYTES" per call, then "max BYTES" and "frame BYTES" (the
 * kernel's signal frame alone: a SIGUSR1 handler that does nothing).
 * Used by tests/suite-safety.sh. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sysfill/uapi.h>

#define STACK (256 * 1024)
#define PAT 0xa5

static unsigned char *base;
static long maxuse;

struct call {
	const char *name;
	long nr, a0, a1, a2, a3, a4;
};

/* Fill the stack from its base up to the red zone with the pattern, then
 * make the call (an inline syscall instruction): returns its result, *SP
 * the stack pointer at the call. The argument registers count as
 * clobbered: sysfill's tail calls leave the reissued call's arguments. */
static __attribute__((noinline)) long raw(const struct call *c, uintptr_t *sp)
{
	long r, a0 = c->a0, a1 = c->a1, a2 = c->a2;
	uintptr_t s;
	register long r10 __asm__("r10") = c->a3;
	register long r8 __asm__("r8") = c->a4;
	__asm__ volatile("mov %%rdi, %%r12\n\t"
			 "mov %%rax, %%r13\n\t"
			 "mov %%rsp, %%rcx\n\t"
			 "sub $128, %%rcx\n\t"
			 "mov %[base], %%rdi\n\t"
			 "sub %%rdi, %%rcx\n\t"
			 "mov $0xa5, %%eax\n\t"
			 "cld\n\t"
			 "rep stosb\n\t"
			 "mov %%r12, %%rdi\n\t"
			 "mov %%r13, %%rax\n\t"
			 "mov %%rsp, %[s]\n\t"
			 "syscall"
			 : "=a"(r), [s] "=&r"(s), "+D"(a0), "+S"(a1), "+d"(a2),
			   "+r"(r10), "+r"(r8)
			 : "a"(c->nr), [base] "r"(base)
			 : "rcx", "r11", "r12", "r13", "memory");
	*sp = s;
	return r;
}

/* Bytes below the red zone under SP that differ from the pattern. */
static long measure(const struct call *c, long *res)
{
	uintptr_t sp;
	*res = raw(c, &sp);
	unsigned char *p = base, *end = (unsigned char *)sp - 128;
	while (p < end && *p == PAT)
		p++;
	return end - p;
}

static void report(const struct call *c)
{
	long r, u = measure(c, &r);
	if (u > maxuse)
		maxuse = u;
	printf("%s %ld (result %s)\n", c->name, u,
	       r >= 0 ? "ok" : strerror((int)-r));
}

static void on_usr1(int sig) { (void)sig; }

static void *thread(void *arg)
{
	(void)arg;
	long me = getpid();
	struct call open = {"pidfd_open", SYS_pidfd_open, me, 0, 0, 0, 0};
	long r;
	measure(&open, &r); /* first calls map and initialise things */
	measure(&open, &r);
	long fd = r;
	if (fd < 0) {
		printf("pidfd_open failed: %s\n", strerror((int)-r));
		return 0;
	}
	report(&open);

	struct call send = {"pidfd_send_signal", SYS_pidfd_send_signal, fd, 0,
			    0, 0, 0};
	report(&send);
	pid_t child = fork();
	if (child == 0)
		_exit(0);
	struct call copen = {"pidfd_open-child", SYS_pidfd_open, child, 0, 0, 0,
			     0};
	long cfd = -1;
	measure(&copen, &cfd);
	report(&copen);
	struct call getfd = {"pidfd_getfd", SYS_pidfd_getfd, fd, 1, 0, 0, 0};
	report(&getfd);
	static unsigned char info[64] = {0};
	info[0] = 3; /* PIDFD_INFO_PID | PIDFD_INFO_CREDS */
	struct call ioc = {"ioctl-PIDFD_GET_INFO", SYS_ioctl, cfd,
			   (long)_IOWR(0xFF, 11, unsigned char[64]), (long)info,
			   0, 0};
	report(&ioc);
	siginfo_t si;
	struct call wait = {"waitid-P_PIDFD", SYS_waitid, P_PIDFD, cfd,
			    (long)&si, WEXITED, 0};
	report(&wait);
	syscall(SYS_close, cfd);
	uint64_t set = 0, old;
	struct call mask = {"rt_sigprocmask", SYS_rt_sigprocmask, SIG_BLOCK,
			    (long)&set, (long)&old, 8, 0};
	report(&mask);
	struct sysfill_clone_args ca = {.exit_signal = SIGCHLD};
	struct call c3 = {"clone3", SYS_clone3, (long)&ca, sizeof ca, 0, 0, 0};
	long u = measure(&c3, &r);
	if (r == 0)
		_exit(0);
	if (u > maxuse)
		maxuse = u;
	printf("clone3 %ld (result %s)\n", u, r > 0 ? "ok" : strerror((int)-r));
	if (r > 0)
		waitpid((pid_t)r, 0, 0);
	printf("max %ld\n", maxuse);
	/* The kernel's frame alone: a signal whose handler does nothing. */
	signal(SIGUSR1, on_usr1);
	long tid = syscall(SYS_gettid);
	struct call kill = {"tgkill", SYS_tgkill, me, tid, SIGUSR1, 0, 0};
	printf("frame %ld\n", measure(&kill, &r));
	return 0;
}

int main(void)
{
	base = mmap(0, STACK, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return 1;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setstack(&a, base, STACK);
	pthread_t t;
	if (pthread_create(&t, &a, thread, 0))
		return 1;
	pthread_join(t, 0);
	return 0;
}
