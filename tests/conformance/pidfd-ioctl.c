/* ioctl on a pidfd (6.18): PIDFD_GET_INFO (sizes from VER0 = 64 up, the
 * tail zeroed; mask in and out; pid/tgid/ppid, credentials, cgroup id;
 * ESRCH once reaped), the namespace ioctls, ENOTTY for unknown pidfs
 * commands, and pidfs commands on other fds left to the kernel. */
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include "common.h"

#define NS(n) _IO(0xFF, n)

static unsigned char buf[512];

static uint64_t cgroup_of(pid_t pid)
{
	char path[800], line[512], mnt[256] = "";
	FILE *m = fopen("/proc/self/mountinfo", "re");
	while (m && fgets(line, sizeof line, m))
		if (strstr(line, " - cgroup2 ") &&
		    sscanf(line, "%*s %*s %*s %*s %255s", mnt) == 1)
			break;
	if (m)
		fclose(m);
	if (!mnt[0])
		return 1; /* the default hierarchy is not mounted: its root */
	snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
	FILE *f = fopen(path, "re");
	uint64_t id = 0;
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = 0;
			snprintf(path, sizeof path, "%s%s", mnt, line + 3);
			struct stat st;
			if (mnt[0] && !stat(path, &st))
				id = st.st_ino;
		}
	if (f)
		fclose(f);
	return id;
}

static void info_step(const char *step, long fd, unsigned size, uint64_t mask, pid_t who)
{
	memset(buf, 0x5a, sizeof buf);
	memcpy(buf, &mask, sizeof mask);
	long r = ioctl(fd, INFO(size), buf);
	res(step, "ioctl(PIDFD_GET_INFO)", r, 0);
	int last = -1;
	for (int i = 0; i < (int)sizeof buf; i++)
		if (buf[i] != 0x5a)
			last = i;
	struct info in;
	memcpy(&in, buf, sizeof in);
	out("%s: mask=%#llx bytes written=%d", step, (unsigned long long)in.mask, last + 1);
	if (r < 0 || size < 64)
		return;
	out("%s: pid=%s tgid=%s ppid=%s", step, in.pid == (uint32_t)who ? "it" : "other",
	    in.tgid == (uint32_t)who ? "it" : "other",
	    in.ppid == (uint32_t)getpid() ? "us" : in.ppid == (uint32_t)getppid() ? "our parent" : "other");
	out("%s: ruid=%u euid=%u suid=%u fsuid=%u rgid=%u egid=%u sgid=%u fsgid=%u", step,
	    in.ruid, in.euid, in.suid, in.fsuid, in.rgid, in.egid, in.sgid, in.fsgid);
	out("%s: cgroupid %s exit_code=%d coredump_mask=%u", step,
	    !(in.mask & 4) ? "not given" : in.cgroupid == cgroup_of(who) ? "= the cgroup's inode" : "other",
	    in.exit_code, in.coredump_mask);
	int zero = 1;
	for (unsigned i = 64; i < size && i < sizeof buf; i++)
		if (i >= 64 + 8 && buf[i])
			zero = 0;
	out("%s: tail %s", step, zero ? "zero" : "not zero");
}

static void ns_step(const char *step, long fd, int n, const char *name, pid_t who, long arg)
{
	long r = ioctl(fd, NS(n), arg);
	if (r < 0) {
		out("%s: ioctl(PIDFD_GET_NS) = -1 %s", step, errname(errno));
		return;
	}
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)who, name);
	struct stat a, b;
	out("%s: ioctl(PIDFD_GET_NS) = fd of the same namespace: %s", step,
	    !fstat(r, &a) && !stat(path, &b) && a.st_ino == b.st_ino && a.st_dev == b.st_dev
		    ? "yes" : "no");
	close(r);
}

int main(void)
{
	scenario_init();
	pid_t c = spawn_pause();
	long fd = sys_pidfd_open(c, 0);
	res("live", "pidfd_open", fd, 1);
	unsigned sizes[] = {0, 8, 56, 64, 72, 80, 88, 96, 200};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		char step[32];
		snprintf(step, sizeof step, "info-%u", sizes[i]);
		info_step(step, fd, sizes[i], 0, c);
	}
	info_step("info-mask-all", fd, 88, ~0ULL, c);
	info_step("info-mask-exit", fd, 64, 8, c);
	info_step("info-mask-coredump", fd, 64, 16, c);
	res("info-null", "ioctl", ioctl(fd, INFO(64), 0), 0);
	res("info-bad", "ioctl", ioctl(fd, INFO(64), 1), 0);
	res("info-read-only-dir", "ioctl", ioctl(fd, _IOC(_IOC_READ, 0xFF, 11, 64), buf), 0);
	res("info-no-dir", "ioctl", ioctl(fd, _IOC(_IOC_NONE, 0xFF, 11, 64), buf), 0);
	res("pidfs-nr-99", "ioctl", ioctl(fd, _IO(0xFF, 99), 0), 0);
	res("pidfs-nr-0", "ioctl", ioctl(fd, _IO(0xFF, 0), 0), 0);
	res("pidfs-nr-12", "ioctl", ioctl(fd, _IO(0xFF, 12), 0), 0);
	res("pidfs-nr-3-with-size", "ioctl", ioctl(fd, _IOC(_IOC_READ, 0xFF, 3, 8), buf), 0);
	res("unknown-type", "ioctl", ioctl(fd, 0x1234, 0), 0);
	res("fioclex", "ioctl", ioctl(fd, FIOCLEX, 0), 0);

	ns_step("ns-mnt", fd, 3, "mnt", c, 0);
	ns_step("ns-net", fd, 4, "net", c, 0);
	ns_step("ns-pid", fd, 5, "pid", c, 0);
	ns_step("ns-user", fd, 9, "user", c, 0);
	ns_step("ns-uts", fd, 10, "uts", c, 0);
	ns_step("ns-cgroup", fd, 1, "cgroup", c, 0);
	ns_step("ns-arg", fd, 3, "mnt", c, 1);

	/* pidfs commands on an fd that is no pidfd: the kernel's answer */
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		die("pipe2");
	res("pipe-info", "ioctl", ioctl(p[0], INFO(64), buf), 0);
	res("pipe-ns", "ioctl", ioctl(p[0], NS(3), 0), 0);
	res("badfd-info", "ioctl", ioctl(900, INFO(64), buf), 0);
	close(p[0]);
	close(p[1]);

	/* zombie: still answered; reaped: ESRCH, the namespaces too */
	kill(c, SIGKILL);
	wait_zombie(c);
	info_step("zombie", fd, 64, 0, c);
	ns_step("zombie-ns-mnt", fd, 3, "mnt", c, 0);
	reap(c);
	info_step("reaped", fd, 64, 0, c);
	res("reaped-bad", "ioctl", ioctl(fd, INFO(64), 1), 0);
	res("reaped-nr-99", "ioctl", ioctl(fd, _IO(0xFF, 99), 0), 0);
	ns_step("reaped-ns-mnt", fd, 3, "mnt", c, 0);
	close(fd);

	/* our own pidfd */
	fd = sys_pidfd_open(getpid(), 0);
	info_step("self", fd, 64, 0, getpid());
	close(fd);
	return 0;
}
