/* Statically linked: cannot load libsysfill.so, keeps an inherited filter. */
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void)
{
	long r = syscall(434, getpid(), 0);
	printf("static: pidfd_open %s\n", r >= 0 ? "ok" : "failed");
	return 0;
}
