/* The pidfd API of 6.13-6.18 that needs the exit kept or the fdinfo
 * shown: PIDFD_GET_INFO with PIDFD_INFO_EXIT (6.15) for children that
 * exited, were killed, were reaped by waitid(P_PIDFD), by waitid(P_PID) and
 * wait4 (raw syscall()), a pidfd made of a zombie, a non-child reaped by
 * its own parent after its pidfd became readable; the mask rules (no EXIT
 * before the reap, ESRCH after it without EXIT, COREDUMP as asked); the
 * Pid:/NSpid: lines of /proc/self/fdinfo/<pidfd> read through open(),
 * openat() and fopen(), live, zombie and reaped; pidfd_getpid() (glibc
 * 2.39's, or this scenario's copy of it where libc has none). */
#include <dlfcn.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include "common.h"


static uint64_t live_cgroup; /* our children's cgroup id, from a live one */

static void info_step(const char *step, long fd, unsigned size, uint64_t mask)
{
	static unsigned char buf[512];
	struct info in;
	memset(buf, 0x5a, sizeof buf);
	memcpy(buf, &mask, sizeof mask);
	long r = ioctl(fd, INFO(size), buf);
	memcpy(&in, buf, sizeof in);
	if (r < 0) {
		out("%s: ioctl(PIDFD_GET_INFO, mask %#llx) = -1 %s", step,
		    (unsigned long long)mask, errname(errno));
		return;
	}
	char exit[128] = "", cg[64] = "", core[64] = "";
	if (in.mask & 8)
		snprintf(exit, sizeof exit, " exit_code=%#x pid=%u tgid=%u ppid=%u ruid=%u euid=%u",
			 in.exit_code, in.pid, in.tgid, in.ppid, in.ruid, in.euid);
	if (in.mask & 4)
		snprintf(cg, sizeof cg, " cgroupid %s",
			 in.cgroupid == live_cgroup ? "= the children's" : "other");
	if (in.mask & 16)
		snprintf(core, sizeof core, " coredump_mask=%#x", in.coredump_mask);
	out("%s: ioctl(PIDFD_GET_INFO, mask %#llx) = 0 mask=%#llx%s%s%s", step,
	    (unsigned long long)mask, (unsigned long long)in.mask, exit, cg, core);
}

/* The Pid: and NSpid: lines and the other keys of /proc/self/fdinfo/FD,
 * opened by HOW. */
static void fdinfo_step(const char *step, long fd, const char *how, pid_t who)
{
	char path[64], text[2048];
	snprintf(path, sizeof path, "/proc/self/fdinfo/%ld", fd);
	long n = -1;
	if (!strcmp(how, "fopen")) {
		FILE *f = fopen(path, "re");
		if (f) {
			n = (long)fread(text, 1, sizeof text - 1, f);
			fclose(f);
		}
	} else {
		int d = !strcmp(how, "open") ? open(path, O_RDONLY | O_CLOEXEC)
					     : openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
		if (d >= 0) {
			n = read(d, text, sizeof text - 1);
			close(d);
		}
	}
	if (n < 0) {
		out("%s: %s(fdinfo) = -1 %s", step, how, errname(errno));
		return;
	}
	text[n] = 0;
	char keys[256] = "";
	for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
		char *colon = strchr(l, ':');
		if (!colon)
			continue;
		*colon = 0;
		long v = strtol(colon + 1, 0, 10);
		if (!strcmp(l, "Pid") || !strcmp(l, "NSpid"))
			out("%s: %s %s: %s", step, how, l,
			    v == who ? "it" : v == -1 ? "-1" : v == 0 ? "0" : "other");
		else if (!strcmp(l, "flags")) /* gVisor shows no pos, mnt_id, ino */
			strcat(keys, " flags");
	}
	out("%s: %s also:%s", step, how, keys);
}

/* glibc 2.39's pidfd_getpid, where libc has one; else the same rules over
 * libc's fopen, as glibc reads the file. */
static pid_t getpid_of(int fd)
{
	static pid_t (*libc)(int);
	static int looked;
	if (!looked) {
		libc = (pid_t (*)(int))dlsym(RTLD_DEFAULT, "pidfd_getpid");
		looked = 1;
	}
	if (libc)
		return libc(fd);
	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
	FILE *f = fopen(path, "re");
	long v = 0;
	int found = 0;
	while (f && !found && fgets(line, sizeof line, f))
		if (!strncmp(line, "Pid:", 4))
			found = 1, v = strtol(line + 4, 0, 10);
	if (f)
		fclose(f);
	errno = !found ? EBADF : v == 0 ? EREMOTE : ESRCH;
	return found && v > 0 ? (pid_t)v : -1;
}

static void getpid_step(const char *step, long fd, pid_t who)
{
	pid_t r = getpid_of((int)fd);
	if (r < 0)
		out("%s: pidfd_getpid = -1 %s", step, errno == EREMOTE ? "EREMOTE" : errname(errno));
	else
		out("%s: pidfd_getpid = %s", step, r == who ? "it" : "other");
}

/* A child that exits with CODE once it reads a byte. */
static pid_t spawn_on_byte(int *wr, int code)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		die("pipe2");
	fflush(stdout);
	pid_t c = track(fork());
	if (c < 0)
		die("fork");
	if (c == 0) {
		char b;
		close(p[1]);
		if (read(p[0], &b, 1) < 0) {}
		_exit(code);
	}
	close(p[0]);
	*wr = p[1];
	return c;
}

static void readable(const char *step, long fd)
{
	struct pollfd p = {.fd = (int)fd, .events = POLLIN};
	int r = poll(&p, 1, 10000);
	out("%s: poll = %d readable=%s", step, r, p.revents & POLLIN ? "yes" : "no");
}

int main(void)
{
	scenario_init();

	/* a live child: fdinfo and the cgroup our children are in */
	pid_t c = spawn_pause();
	long fd = sys_pidfd_open(c, 0);
	res("live", "pidfd_open", fd, 1);
	{
		struct info in = {0};
		if (ioctl(fd, INFO(64), &in) == 0)
			live_cgroup = in.cgroupid;
	}
	info_step("live", fd, 64, 8);
	fdinfo_step("live", fd, "open", c);
	fdinfo_step("live", fd, "openat", c);
	fdinfo_step("live", fd, "fopen", c);
	getpid_step("live", fd, c);
	kill(c, SIGTERM);
	wait_zombie(c);
	info_step("killed-zombie", fd, 64, 8);
	info_step("killed-zombie-core", fd, 72, 8 | 16);
	fdinfo_step("killed-zombie", fd, "open", c);
	getpid_step("killed-zombie", fd, c);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	res("killed-reap", "waitid(P_PID)", sys_waitid(P_PID, c, &si, WEXITED), 0);
	info_step("killed-reaped", fd, 64, 8);
	info_step("killed-reaped-nomask", fd, 64, 0);
	info_step("killed-reaped-core", fd, 72, 16);
	info_step("killed-reaped-all", fd, 88, ~0ULL);
	info_step("killed-reaped-200", fd, 200, 8);
	fdinfo_step("killed-reaped", fd, "open", c);
	fdinfo_step("killed-reaped", fd, "fopen", c);
	getpid_step("killed-reaped", fd, c);
	close(fd);

	/* exit status 7, reaped through wait4 */
	int wr;
	c = spawn_on_byte(&wr, 7);
	fd = sys_pidfd_open(c, 0);
	res("exit7", "pidfd_open", fd, 1);
	if (write(wr, "x", 1) != 1)
		die("write");
	close(wr);
	readable("exit7", fd);
	int st = 0;
	long r = syscall(SYS_wait4, c, &st, 0, NULL);
	out("exit7: wait4 = %s status=%#x", r == c ? "it" : "other", st);
	info_step("exit7-reaped", fd, 64, 8);
	close(fd);

	/* exit status 255, reaped through waitid(P_PIDFD) */
	c = spawn_on_byte(&wr, 255);
	fd = sys_pidfd_open(c, PIDFD_NONBLOCK);
	res("exit255", "pidfd_open", fd, 1);
	close(wr); /* read() gives 0: it exits */
	readable("exit255", fd);
	memset(&si, 0, sizeof si);
	waitid_report("exit255", sys_waitid(P_PIDFD, fd, &si, WEXITED), &si, c);
	info_step("exit255-reaped", fd, 64, 8);
	close(fd);

	/* a pidfd of a zombie, reaped */
	c = spawn_exit(3);
	wait_zombie(c);
	fd = sys_pidfd_open(c, 0);
	res("zombie-open", "pidfd_open", fd, 1);
	info_step("zombie-open", fd, 64, 8);
	reap(c);
	info_step("zombie-open-reaped", fd, 64, 8);
	close(fd);

	/* a non-child, reaped by its parent after its pidfd is readable */
	int gcmd[2], hcmd[2], rep[2];
	if (pipe2(gcmd, O_CLOEXEC) || pipe2(hcmd, O_CLOEXEC) || pipe2(rep, O_CLOEXEC))
		die("pipe2");
	fflush(stdout);
	pid_t helper = track(fork());
	if (helper == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		pid_t g = fork();
		if (g == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			char b;
			if (read(gcmd[0], &b, 1) < 0) {}
			_exit(9);
		}
		if (write(rep[1], &g, sizeof g) != sizeof g)
			_exit(1);
		char b;
		if (read(hcmd[0], &b, 1) < 0) {}
		waitpid(g, NULL, 0);
		if (write(rep[1], "r", 1) < 0) {}
		for (;;)
			pause();
	}
	close(gcmd[0]);
	close(hcmd[0]);
	pid_t g;
	if (read(rep[0], &g, sizeof g) != sizeof g)
		die("read grandchild pid");
	track(g);
	fd = sys_pidfd_open(g, 0);
	res("nonchild", "pidfd_open", fd, 1);
	getpid_step("nonchild", fd, g);
	if (write(gcmd[1], "x", 1) != 1) /* the grandchild exits */
		die("write");
	readable("nonchild", fd);
	info_step("nonchild-zombie", fd, 64, 8);
	if (write(hcmd[1], "y", 1) != 1) /* the helper reaps it */
		die("write");
	char b;
	if (read(rep[0], &b, 1) != 1)
		die("read");
	info_step("nonchild-reaped", fd, 64, 8);
	fdinfo_step("nonchild-reaped", fd, "open", g);
	getpid_step("nonchild-reaped", fd, g);
	close(fd);
	kill(helper, SIGKILL);
	reap(helper);

	/* not pidfds */
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		die("pipe2");
	getpid_step("pipe", p[0], 0);
	getpid_step("negative", -1, 0);
	getpid_step("closed", 900, 0);
	fdinfo_step("pipe", p[0], "open", 0);
	close(p[0]);
	close(p[1]);

	/* ourselves */
	fd = sys_pidfd_open(getpid(), 0);
	fdinfo_step("self", fd, "fopen", getpid());
	getpid_step("self", fd, getpid());
	close(fd);
	return 0;
}
