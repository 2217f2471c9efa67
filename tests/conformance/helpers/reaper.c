/* reaper CMD ARGS...: run CMD as a child subreaper and reap every process
 * orphaned below it (runsc leaves two exited helpers per run, which a pid 1
 * that does not reap would keep as zombies). Exits with CMD's status. */
#include <stdio.h>
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: reaper CMD [ARGS...]\n");
		return 2;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		perror("reaper: PR_SET_CHILD_SUBREAPER");
	pid_t c = fork();
	if (c < 0) {
		perror("reaper: fork");
		return 2;
	}
	if (c == 0) {
		execvp(argv[1], argv + 1);
		perror("reaper: exec");
		_exit(127);
	}
	int st, rc = 2;
	for (;;) {
		pid_t p = waitpid(-1, &st, 0);
		if (p < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p == c)
			rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	}
	return rc;
}
