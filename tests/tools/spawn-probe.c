/* spawn-probe MODE: try one way of starting a thread or process and report
 * "MODE: OK" (exit 0) or "MODE: ERRNAME (message)" (exit 1).
 *   clone3  raw clone3(NULL, 0): the kernel answers EINVAL; a filter that
 *           catches clone3 answers first (EPERM under eperm-profile)
 *   thread  pthread_create + pthread_join (glibc: clone3 first)
 *   spawn   posix_spawn of /bin/true + waitpid (glibc: clone3 first) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void *noop(void *arg)
{
	return arg;
}

static int report(const char *mode, int err)
{
	if (!err) {
		printf("%s: OK\n", mode);
		return 0;
	}
	printf("%s: %s (%s)\n", mode, strerrorname_np(err), strerror(err));
	return 1;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	if (!strcmp(mode, "clone3")) {
		long r = syscall(435, NULL, 0);
		return report(mode, r < 0 ? errno : 0);
	}
	if (!strcmp(mode, "thread")) {
		pthread_t t;
		int err = pthread_create(&t, NULL, noop, NULL);
		if (!err)
			err = pthread_join(t, NULL);
		return report(mode, err);
	}
	if (!strcmp(mode, "spawn")) {
		pid_t pid;
		char *args[] = {"/bin/true", NULL};
		int err = posix_spawn(&pid, "/bin/true", NULL, NULL, args, environ);
		int st;
		if (!err && waitpid(pid, &st, 0) != pid)
			err = errno;
		return report(mode, err);
	}
	fprintf(stderr, "usage: %s clone3|thread|spawn\n", argv[0]);
	return 2;
}
