/* thread-probe: start one thread with pthread_create and print
 * "thread: OK" or "thread: <ERRNO name>". Exit 0 on success, 1 otherwise.
 * Used by tests/suite-cli.sh to see what `sysfill run --profile=...` does
 * to glibc's clone3-first pthread_create. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static void *body(void *arg)
{
	return arg;
}

int main(void)
{
	pthread_t t;
	int e = pthread_create(&t, NULL, body, NULL);
	if (e) {
		const char *n = strerrorname_np(e);
		printf("thread: %s\n", n ? n : "?");
		return 1;
	}
	pthread_join(t, NULL);
	printf("thread: OK\n");
	return 0;
}
