/* Does a signal sent to a tracee in a PTRACE_EVENT_SECCOMP stop survive
 * PTRACE_CONT (data 0)? Child: seccomp RET_TRACE on getppid, loops on
 * getppid; tracer: at a seccomp stop it kills the child with SIGTERM, waits
 * 2 ms and resumes it. Linux: the signal stays pending, the child dies of
 * it every round ("lost 0 of N"). gVisor (Debian runsc 0.0~20221219.0, ptrace
 * platform): the signal is gone ("lost N of N"). Not part of make check
 * (it tests gVisor, not sysfill); why trace mode traps as few calls as it
 * can (tracer/trace.c build_trace_filter).
 *   cc -static -o r tests/tools/gvisor-seccomp-stop-signal.c
 *   ./r 30; runsc --network=none --platform=ptrace do ./r 30 </dev/null | cat */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 20, lost = 0;
	for (int i = 0; i < rounds; i++) {
		pid_t c = fork();
		if (c == 0) {
			struct sock_filter f[] = {
				BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
				BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
				BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
				BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
			};
			struct sock_fprog p = {4, f};
			prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
			raise(SIGSTOP);
			if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &p))
				_exit(9);
			for (;;)
				syscall(SYS_getppid);
		}
		int st;
		waitpid(c, &st, WUNTRACED);
		ptrace(PTRACE_SEIZE, c, 0, PTRACE_O_TRACESECCOMP);
		kill(c, SIGCONT);
		int killed = 0, done = 0;
		for (int n = 0; !done && n < 10000; n++) {
			if (waitpid(c, &st, __WALL) < 0)
				break;
			if (WIFSIGNALED(st) || WIFEXITED(st)) {
				done = 1;
				if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM))
					printf("round %d: status %#x\n", i, st);
				break;
			}
			int ev = st >> 16, sig = WSTOPSIG(st);
			if (ev == PTRACE_EVENT_SECCOMP && !killed && n > 3) {
				kill(c, SIGTERM); /* while it is in the seccomp stop */
				usleep(2000);
				killed = 1;
				ptrace(PTRACE_CONT, c, 0, 0);
			} else if (ev == 0 && sig != SIGTRAP && sig != SIGSTOP && sig != SIGCONT) {
				ptrace(PTRACE_CONT, c, 0, sig); /* deliver */
			} else {
				ptrace(PTRACE_CONT, c, 0, 0);
			}
			if (killed && n > 2000) {
				lost++;
				kill(c, SIGKILL);
				while (waitpid(c, &st, __WALL) > 0 && !WIFSIGNALED(st))
					ptrace(PTRACE_CONT, c, 0, 0);
				done = 1;
			}
		}
	}
	printf("lost %d of %d\n", lost, rounds);
	return 0;
}
