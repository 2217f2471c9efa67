/* /proc helpers. Signal-safe: raw syscalls, stack buffers. */
#include "sf.h"

int proc_stat(pid_t pid, uint64_t *starttime, char *state)
{
	char path[48], buf[1024];
	sf_fmt(path, sizeof path, "/proc/%d/stat", (int)pid);
	long fd = sf_sys4(SF_NR_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return fd == -ENOENT ? -ESRCH : (int)fd;
	long n = sf_sys3(SF_NR_read, fd, buf, sizeof buf - 1);
	sf_sys1(SF_NR_close, fd);
	if (n <= 0)
		return n < 0 ? (int)n : -ESRCH;
	buf[n] = 0;
	/* comm may contain spaces and ')': the fields start after the last ')'. */
	char *p = 0;
	for (char *q = buf; *q; q++)
		if (*q == ')')
			p = q;
	if (!p || !p[1] || !p[2])
		return -EIO;
	p += 2; /* field 3: state */
	if (state)
		*state = *p;
	int field = 3;
	while (*p && field < 22) {
		if (*p++ == ' ')
			field++;
	}
	uint64_t v = 0;
	while (*p >= '0' && *p <= '9')
		v = v * 10 + (uint64_t)(*p++ - '0');
	if (starttime)
		*starttime = v;
	return 0;
}
