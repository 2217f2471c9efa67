/* eperm-profile PROG ARGS...: run PROG under the seccomp profile of old
 * container runtimes, which predate clone3 and answer it with EPERM (their
 * default action for unlisted calls): everything allowed, clone3 -> EPERM.
 * Sets no_new_privs, as an unprivileged filter requires. Exits 126 if the
 * filter cannot be installed, 127 if PROG cannot be executed. */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s PROG [ARGS...]\n", argv[0]);
		return 2;
	}
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx) {
		fprintf(stderr, "eperm-profile: seccomp_init failed\n");
		return 126;
	}
	int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone3), 0);
	if (rc < 0) {
		fprintf(stderr, "eperm-profile: seccomp_rule_add: %s\n", strerror(-rc));
		return 126;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		perror("eperm-profile: PR_SET_NO_NEW_PRIVS");
		return 126;
	}
	rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0) {
		fprintf(stderr, "eperm-profile: seccomp_load: %s\n", strerror(-rc));
		return 126;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "eperm-profile: %s: %s\n", argv[1], strerror(errno));
	return 127;
}
