/* Process accounting shared by the stress programs: open fds, threads and
 * children (zombies included) of this process, from /proc. The includer
 * defines main_pid. */
#ifndef STRESS_PROC_COUNTS_H
#define STRESS_PROC_COUNTS_H
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own fd */
}

static int count_threads(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	if (!f)
		return -1;
	char line[256];
	int n = -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

/* Processes whose parent is this process, from /proc (zombies included). */
static int count_children(char *list, size_t len)
{
	DIR *d = opendir("/proc");
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	list[0] = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		char path[300], buf[512];
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t m = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (m <= 0)
			continue;
		buf[m] = 0;
		char *rp = strrchr(buf, ')'), state;
		int ppid;
		if (rp && sscanf(rp + 1, " %c %d", &state, &ppid) == 2 &&
		    ppid == main_pid) {
			n++;
			size_t l = strlen(list);
			snprintf(list + l, len - l, " %s(%c)", e->d_name, state);
		}
	}
	closedir(d);
	return n;
}

/* Wait up to 1 s for COUNT() <= LIMIT. Returns the ms it took, -1 if never. */
static long settle(int (*count)(void), int limit, int *last)
{
	long t0 = now_us();
	for (;;) {
		*last = count();
		if (*last >= 0 && *last <= limit)
			return (now_us() - t0) / 1000;
		if (now_us() - t0 > 1000000)
			return -1;
		usleep(5000);
	}
}

#endif
