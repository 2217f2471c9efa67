/* deny-call CALL PROG ARGS...: run PROG where the system call CALL (a
 * libseccomp name, e.g. memfd_create) answers ENOSYS, as on a kernel that
 * predates it (memfd_create: before 3.17, e.g. CentOS 7's 3.10). Sets
 * no_new_privs. Exits 126 if the filter cannot be installed, 127 if PROG
 * cannot be executed. */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s CALL PROG [ARGS...]\n", argv[0]);
		return 2;
	}
	int nr = seccomp_syscall_resolve_name(argv[1]);
	if (nr == __NR_SCMP_ERROR) {
		fprintf(stderr, "deny-call: unknown system call %s\n", argv[1]);
		return 126;
	}
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx) {
		fprintf(stderr, "deny-call: seccomp_init failed\n");
		return 126;
	}
	int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
	if (rc == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		rc = -errno;
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0) {
		fprintf(stderr, "deny-call: filter: %s\n", strerror(-rc));
		return 126;
	}
	execvp(argv[2], argv + 2);
	fprintf(stderr, "deny-call: %s: %s\n", argv[2], strerror(errno));
	return 127;
}
