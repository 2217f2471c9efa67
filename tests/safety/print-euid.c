/* Installed setuid root by the safety suite: prints what it got. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(void)
{
	char line[256];
	int nnp = -1;
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "NoNewPrivs:", 11))
			nnp = line[12] - '0';
	printf("euid=%d nnp=%d\n", (int)geteuid(), nnp);
	return 0;
}
