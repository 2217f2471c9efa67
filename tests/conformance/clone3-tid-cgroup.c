/* clone3's set_tid and CLONE_INTO_CGROUP (fork shape): the child gets the
 * pid asked for, or starts in the cgroup asked for, and the errors: a pid
 * in use, out of range, more levels than the pid namespace has, no
 * privilege; a cgroup fd that is no cgroup2 directory. Needs root and a
 * writable ns_last_pid (gVisor has none: skipped there). */
#include <sched.h>
#include <stdint.h>
#include <sys/stat.h>
#include "common.h"

#define NR_clone3 435

/* Raw clone3 whose child exits at once with FN()'s value. */
static long raw_clone3(struct sysfill_clone_args *a, size_t size, int (*fn)(void))
{
	long ret;
	register long r13 __asm__("r13") = (long)fn;
	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "and $-16, %%rsp\n\t"
			 "call *%%r13\n\t"
			 "mov %%eax, %%edi\n\t"
			 "mov $231, %%eax\n\t"
			 "syscall\n\t"
			 "hlt\n"
			 "1:"
			 : "=a"(ret)
			 : "a"(NR_clone3), "D"(a), "S"(size), "r"(r13)
			 : "rcx", "r11", "memory");
	return ret;
}

static void report(const char *step, long r)
{
	if (r < 0) {
		out("%s: -1 %s", step, errname((int)-r));
		return;
	}
	int st;
	if (waitpid((pid_t)r, &st, __WALL) != r)
		out("%s: child not found", step);
	else if (WIFEXITED(st))
		out("%s: child exited %d", step, WEXITSTATUS(st));
	else
		out("%s: child status 0x%x", step, st);
}

static pid_t asked;
static int child_has_pid(void)
{
	return getpid() == asked ? 0 : 1;
}

static char cgpath[512];
static int child_in_cgroup(void)
{
	/* "0::/path" of the cgroup2 hierarchy must end in our directory. */
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[600];
	int ok = 1;
	const char *leaf = strrchr(cgpath, '/');
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = 0;
			size_t n = strlen(line), m = strlen(leaf);
			ok = !(n >= m && !strcmp(line + n - m, leaf));
		}
	if (f)
		fclose(f);
	return ok;
}

static int exit0(void)
{
	return 0;
}

static void set_tid(void)
{
	int tids[2];
	struct sysfill_clone_args a = {.exit_signal = SIGCHLD,
				       .set_tid = (uintptr_t)tids,
				       .set_tid_size = 1};
	asked = free_pid(300);
	tids[0] = asked;
	fflush(stdout);
	report("set-tid-free", raw_clone3(&a, sizeof a, child_has_pid));

	tids[0] = getpid();
	report("set-tid-in-use", raw_clone3(&a, sizeof a, exit0));
	tids[0] = 0;
	report("set-tid-zero", raw_clone3(&a, sizeof a, exit0));
	tids[0] = INT32_MAX;
	report("set-tid-above-pid-max", raw_clone3(&a, sizeof a, exit0));
	tids[0] = free_pid(300);
	tids[1] = tids[0];
	a.set_tid_size = 2;
	report("set-tid-two-levels-in-the-initial-ns", raw_clone3(&a, sizeof a, exit0));

	/* Without CAP_SYS_ADMIN / CAP_CHECKPOINT_RESTORE: EPERM. */
	fflush(stdout);
	pid_t k = fork();
	if (k == 0) {
		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(3);
		struct sysfill_clone_args u = {.exit_signal = SIGCHLD,
					       .set_tid = (uintptr_t)tids,
					       .set_tid_size = 1};
		tids[0] = free_pid(300);
		report("set-tid-unprivileged", raw_clone3(&u, sizeof u, exit0));
		_exit(0);
	}
	waitpid(k, NULL, 0);
}

static void into_cgroup(void)
{
	FILE *m = fopen("/proc/self/mountinfo", "re");
	char line[1024], mnt[400] = "";
	while (m && fgets(line, sizeof line, m)) {
		char *sep = strstr(line, " - cgroup2 ");
		if (!sep)
			continue;
		char path[400];
		if (sscanf(line, "%*s %*s %*s %*s %399s", path) == 1) {
			snprintf(mnt, sizeof mnt, "%s", path);
			break;
		}
	}
	if (m)
		fclose(m);
	snprintf(cgpath, sizeof cgpath, "%s/sysfill-conformance-%d", mnt, (int)getpid());
	if (!mnt[0] || mkdir(cgpath, 0755) < 0) {
		out("into-cgroup: no writable cgroup2 hierarchy");
		return;
	}
	int fd = open(cgpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct sysfill_clone_args a = {.flags = CLONE_INTO_CGROUP,
				       .exit_signal = SIGCHLD, .cgroup = (uint64_t)fd};
	fflush(stdout);
	report("into-cgroup", raw_clone3(&a, sizeof a, child_in_cgroup));

	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	a.cgroup = (uint64_t)devnull;
	report("into-cgroup-not-a-directory", raw_clone3(&a, sizeof a, exit0));
	a.cgroup = 9999;
	report("into-cgroup-bad-fd", raw_clone3(&a, sizeof a, exit0));
	int tmp = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	a.cgroup = (uint64_t)tmp;
	report("into-cgroup-not-cgroup2", raw_clone3(&a, sizeof a, exit0));
	close(devnull);
	close(tmp);
	close(fd);
	rmdir(cgpath);
}

int main(void)
{
	scenario_init();
	int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		out("skip: no writable /proc/sys/kernel/ns_last_pid (gVisor lacks it)");
		return 0;
	}
	close(fd);
	set_tid();
	into_cgroup();
	return 0;
}
