/* A program with one site of each kind `sysfill check` must find: an inline
 * syscall instruction (pidfd_getfd), libc's syscall() (pidfd_open,
 * pidfd_send_signal), libc's waitid(P_PIDFD, ...), and clone with
 * CLONE_PIDFD through syscall(). It is never run for its calls: with an
 * argument it exits at once. */
#define _GNU_SOURCE
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static long raw_getfd(long fd, long target)
{
	long r;
	__asm__ volatile("mov $438, %%eax\n\tsyscall"
			 : "=a"(r) : "D"(fd), "S"(target), "d"(0L)
			 : "rcx", "r11", "memory");
	return r;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		return 0;
	siginfo_t si;
	long fd = syscall(434, (long)getpid(), 0L);
	syscall(424, fd, 0L, 0L, 0L);
	waitid((idtype_t)3, (id_t)fd, &si, WEXITED | WNOHANG);
	syscall(SYS_clone, (long)(CLONE_PIDFD | SIGCHLD), 0L, &fd, 0L, 0L);
	return (int)raw_getfd(fd, 0);
}
