#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <linux/seccomp.h>
#include <linux/filter.h>
#define R(name, expr) do { errno = 0; long r_ = (expr); printf("%-40s = %ld (%s)\n", name, r_, r_ < 0 ? strerror(errno) : "ok"); } while (0)
int main(void) {
	pid_t c = fork();
	if (c == 0) { pause(); _exit(0); }
	long fd;
	errno = 0; fd = syscall(434, c, 0);
	printf("%-40s = %ld (%s)\n", "pidfd_open(child)", fd, fd < 0 ? strerror(errno) : "ok");
	R("pidfd_send_signal(fd,SIGTERM)", syscall(424, (int)fd, SIGTERM, NULL, 0));
	struct pollfd p = { (int)fd, POLLIN, 0 };
	R("poll(pidfd,2000ms)", poll(&p, 1, 2000));
	printf("  revents=%#x\n", p.revents);
	siginfo_t si; memset(&si, 0, sizeof si);
	R("waitid(P_PIDFD,fd,WEXITED)", syscall(247, 3, (int)fd, &si, WEXITED, NULL));
	printf("  si_pid=%d si_code=%d si_status=%d\n", si.si_pid, si.si_code, si.si_status);
	if (fd < 0) { kill(c, SIGKILL); waitpid(c, NULL, 0); }
	R("pidfd_getfd(self)", syscall(438, -1, 0, 0));
	R("clone3(NULL,0)", syscall(435, NULL, 0));
	R("prctl(PR_GET_SECCOMP)", prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
	R("prctl(PR_SET_NO_NEW_PRIVS)", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	struct sock_filter f[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
	struct sock_fprog prog = { 1, f };
	R("seccomp(SET_MODE_FILTER)", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog));
	R("prctl(PR_SET_SECCOMP,FILTER)", prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0));
	R("ptrace(PTRACE_TRACEME)", ptrace(PTRACE_TRACEME, 0, 0, 0));
	return 0;
}
