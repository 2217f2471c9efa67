/* A signal sent to a tracee while it waits in its PTRACE_EVENT_EXEC stop:
 * is it delivered once the tracer resumes it (PTRACE_CONT, data 0)?
 *
 * Child: stops itself, then execs itself as "sleeper" (pause() in a loop).
 * Tracer: PTRACE_SEIZE with PTRACE_O_TRACEEXEC; at the exec stop it sends
 * the child SIGTERM, waits 2 ms and resumes it; then waits up to 2 s for the
 * child to die of SIGTERM. Linux: it does, every round ("lost 0 of N").
 * gVisor (Debian runsc 0.0~20221219.0, ptrace platform): lost N of N.
 *
 * The signal is not dropped: it stays queued, but nothing wakes the task
 * for it. gVisor's sendSignalLocked interrupts a task only if it "can
 * receive" the signal (pkg/sentry/kernel/task_signals.go,
 * canReceiveSignalLocked: "Do not choose stopped tasks"), and a resumed
 * task looks at its queue only when interrupted (runInterrupt). Hence
 * "stuck N": after the 2 s, an ignored SIGCONT (queued for a traced task,
 * and an interrupt) lets each lost SIGTERM be delivered at once.
 *
 * Argument "kick": after PTRACE_CONT the tracer also sends PTRACE_INTERRUPT
 * (and resumes the PTRACE_EVENT_STOP it makes), what sysfill's supervisor
 * does after an exec stop in gVisor (tracer/tracee.c, resume_noticing):
 * "lost 0 of N" in gVisor too.
 *
 * Not part of make check (it tests gVisor, not sysfill).
 *   cc -static -o r tests/tools/gvisor-exec-stop-signal.c
 *   ./r 30; runsc --network=none --platform=ptrace do ./r 30 [kick] </dev/null | cat */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long ms_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000;
}

/* Wait for C's end, resuming its stops (delivering real signals), for at
 * most MS milliseconds. Returns its status, or -1 if it still lives. */
static int wait_end(pid_t c, long ms)
{
	long end = ms_now() + ms;
	while (ms_now() < end) {
		int st;
		pid_t w = waitpid(c, &st, __WALL | WNOHANG);
		if (w < 0)
			return -2;
		if (w == 0) {
			usleep(1000);
			continue;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st))
			return st;
		int ev = st >> 16, sig = WSTOPSIG(st);
		ptrace(PTRACE_CONT, c, 0, ev == 0 && sig != SIGTRAP ? sig : 0);
	}
	return -1;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "sleeper")) {
		for (;;)
			pause();
	}
	int rounds = argc > 1 ? atoi(argv[1]) : 20, lost = 0, stuck = 0;
	int kick = argc > 2 && !strcmp(argv[2], "kick");
	for (int i = 0; i < rounds; i++) {
		pid_t c = fork();
		if (c == 0) {
			raise(SIGSTOP);
			execl("/proc/self/exe", argv[0], "sleeper", (char *)NULL);
			_exit(9);
		}
		int st;
		waitpid(c, &st, WUNTRACED);
		ptrace(PTRACE_SEIZE, c, 0, PTRACE_O_TRACEEXEC);
		kill(c, SIGCONT);
		for (;;) {
			if (waitpid(c, &st, __WALL) < 0 || WIFEXITED(st) ||
			    WIFSIGNALED(st))
				break;
			if (st >> 16 == PTRACE_EVENT_EXEC) {
				kill(c, SIGTERM); /* while it is in the exec stop */
				usleep(2000);
				ptrace(PTRACE_CONT, c, 0, 0);
				if (kick)
					ptrace(PTRACE_INTERRUPT, c, 0, 0);
				break;
			}
			ptrace(PTRACE_CONT, c, 0, 0);
		}
		st = wait_end(c, 2000);
		if (st == -1) {
			lost++;
			kill(c, SIGCONT);
			st = wait_end(c, 1000);
			if (st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM)
				stuck++;
			kill(c, SIGKILL);
			wait_end(c, 1000);
		} else if (!(st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM)) {
			printf("round %d: status %#x\n", i, st);
		}
	}
	printf("lost %d of %d%s (stuck %d: delivered at the next interrupt)\n",
	       lost, rounds, kick ? " with PTRACE_INTERRUPT" : "", stuck);
	return 0;
}
