/* Helper threads outlive the thread whose call created them: a thread with
 * a stack of its own (glibc puts its TCB there) opens pidfds of a child and
 * of a non-child, exits, and its stack is unmapped. The pidfds must still
 * become readable at the exits, with the library built with
 * -fstack-protector-all (every function reads the canary at %fs:0x28).
 * Prints one line per step; the same natively. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define STACK (256 * 1024)
static int fds[2];
static pid_t kids[2];

static void *opener(void *arg)
{
	for (int i = 0; i < 2; i++)
		fds[i] = syscall(434 /* pidfd_open */, kids[i], 0);
	return NULL;
}

static const char *ready(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int r = poll(&p, 1, 5000);
	return r == 1 && (p.revents & POLLIN) ? "readable" : r == 0 ? "not readable" : "poll error";
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(30);
	int go[2], pp[2];
	if (pipe2(go, O_CLOEXEC) || pipe2(pp, O_CLOEXEC))
		return 2;
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	kids[0] = fork();
	if (kids[0] == 0) {
		char c;
		_exit(read(go[0], &c, 1) == 1 ? 5 : 6);
	}
	pid_t helper = fork();
	if (helper == 0) {
		pid_t g = fork();
		if (g == 0) {
			for (;;)
				pause();
		}
		if (write(pp[1], &g, sizeof g) != sizeof g)
			_exit(1);
		for (;;)
			pause();
	}
	if (read(pp[0], &kids[1], sizeof kids[1]) != sizeof kids[1])
		return 2;

	void *stack = mmap(0, STACK, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setstack(&a, stack, STACK);
	pthread_t t;
	if (pthread_create(&t, &a, opener, NULL))
		return 2;
	pthread_join(t, NULL);
	munmap(stack, STACK); /* the opener's TCB with it */
	printf("pidfds: %s %s\n", fds[0] >= 0 ? "fd" : strerror(errno),
	       fds[1] >= 0 ? "fd" : strerror(errno));

	if (write(go[1], "x", 1) != 1)
		return 2;
	printf("child: %s\n", ready(fds[0]));
	int st = 0;
	waitpid(kids[0], &st, 0);
	printf("child: exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	kill(kids[1], SIGKILL);
	printf("non-child: %s\n", ready(fds[1]));
	kill(helper, SIGKILL);
	waitpid(helper, NULL, 0);
	waitpid(kids[1], NULL, 0);
	printf("done\n");
	return 0;
}
