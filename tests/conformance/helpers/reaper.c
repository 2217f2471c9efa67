/* reaper [--kill] CMD ARGS...: run CMD as a child subreaper and reap every
 * process orphaned below it (runsc leaves two exited helpers per run, which
 * a pid 1 that does not reap would keep as zombies). Exits with CMD's
 * status. With --kill, whatever is left below once CMD has exited (or when
 * the reaper gets SIGTERM/SIGINT, as from timeout(1)) is killed: a test
 * child that moved to its own process group and spins with SIGTERM
 * blocked must not outlive its run. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_stop(int sig) { stop = sig; }

/* SIGKILL every child of ours (orphans come to us as subreaper); returns
 * how many were found. */
static int kill_children(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;
	pid_t me = getpid();
	while (d && (e = readdir(d))) {
		char path[300], buf[512];
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		FILE *f = fopen(path, "re");
		if (!f)
			continue;
		size_t len = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[len] = 0;
		char *p = strrchr(buf, ')');
		int ppid = 0;
		if (p && sscanf(p + 2, "%*c %d", &ppid) == 1 && ppid == me) {
			kill(atoi(e->d_name), SIGKILL);
			n++;
		}
	}
	if (d)
		closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	int killall = argc > 1 && !strcmp(argv[1], "--kill");
	if (killall) {
		argv++;
		argc--;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: reaper [--kill] CMD [ARGS...]\n");
		return 2;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		perror("reaper: PR_SET_CHILD_SUBREAPER");
	struct sigaction sa = {.sa_handler = on_stop}; /* no SA_RESTART */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	pid_t c = fork();
	if (c < 0) {
		perror("reaper: fork");
		return 2;
	}
	if (c == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		execvp(argv[1], argv + 1);
		perror("reaper: exec");
		_exit(127);
	}
	int st, rc = 2, cmd_done = 0;
	for (;;) {
		if (killall && (cmd_done || stop))
			kill_children();
		pid_t p = waitpid(-1, &st, 0);
		if (p < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p == c) {
			rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			cmd_done = 1;
		}
	}
	if (stop)
		rc = 128 + stop;
	return rc;
}
