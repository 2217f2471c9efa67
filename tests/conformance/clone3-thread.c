/* clone3(CLONE_PIDFD|CLONE_THREAD) and clone(CLONE_PIDFD|CLONE_THREAD)
 * (6.9: a PIDFD_THREAD pidfd of the new thread). Raw calls with a thread
 * stack: the pidfd's number (the lowest free one), its flags, that it is
 * written before the thread runs; a thread that exits at once (its pidfd
 * readable, signals ESRCH) and one that lives (not readable, a signal
 * through it taken by that thread, PIDFD_GET_INFO's pid and tgid, waitid),
 * readable at its exit while the process lives; the flag combinations that
 * stay EINVAL, a bad pidfd slot (EFAULT, no thread); 40 threads that exit at
 * once, each with its pidfd, and 4 pthreads making 25 each at once; vfork
 * threads (gone once their parent is back).
 *
 * The calls are inline syscall instructions, never libc's, so that only a
 * seccomp filter can catch them. */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/resource.h>
#include <linux/futex.h>
#include "common.h"

#define NR_clone3 435
#define NR_clone 56
#define THREAD_FLAGS                                                          \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |   \
	 CLONE_SYSVSEM | CLONE_CHILD_CLEARTID)

struct thr {
	volatile int slot;  /* where the pidfd goes */
	volatile int seen;  /* the slot as the thread first read it */
	volatile int ran;
	volatile int stop;
	volatile int tid;   /* CLONE_CHILD_CLEARTID: 0 once gone */
	long r;             /* the clone's result */
	char stack[65536] __attribute__((aligned(16)));
};

static int quick(void *arg)
{
	struct thr *t = arg;
	t->seen = t->slot;
	t->ran = 1;
	return 0;
}

static int lives(void *arg)
{
	struct thr *t = arg;
	t->seen = t->slot;
	t->ran = 1;
	while (!t->stop)
		syscall(SYS_futex, &t->stop, FUTEX_WAIT, 0, NULL);
	return 0;
}

/* Wait until the thread is gone (the kernel clears tid at its exit). */
static void join(struct thr *t)
{
	int v;
	while ((v = __atomic_load_n(&t->tid, __ATOMIC_ACQUIRE)) != 0)
		syscall(SYS_futex, &t->tid, FUTEX_WAIT, v, NULL);
}

/* Wait (up to 5 s) until thread TID is released: its tid cleared
 * (join) comes before, while it is still exiting. */
static void released(long tid)
{
	for (int i = 0; i < 5000 && syscall(SYS_tgkill, getpid(), tid, 0) == 0; i++)
		usleep(1000);
}

static long clone3_thread(struct thr *t, uint64_t extra, uintptr_t slot,
			  int (*fn)(void *))
{
	struct sysfill_clone_args a = {
		.flags = THREAD_FLAGS | CLONE_PIDFD | extra,
		.pidfd = slot,
		.child_tid = (uintptr_t)&t->tid,
		.stack = (uintptr_t)t->stack,
		.stack_size = sizeof t->stack};
	t->slot = -1;
	t->seen = -2;
	t->ran = t->stop = 0;
	t->tid = -1;
	return raw_clone(NR_clone3, (long)&a, sizeof a, 0, 0, 0, fn, t);
}

/* Legacy clone: the pidfd goes to parent_tid (SLOT). */
static long clone_thread(struct thr *t, unsigned long extra, uintptr_t slot,
			 int (*fn)(void *))
{
	t->slot = -1;
	t->seen = -2;
	t->ran = t->stop = 0;
	t->tid = -1;
	return raw_clone(NR_clone, (long)(THREAD_FLAGS | CLONE_PIDFD | extra),
			 (long)(t->stack + sizeof t->stack), (long)slot,
			 (long)&t->tid, 0, fn, t);
}

static int lowest_free(void)
{
	int fd = fcntl(0, F_DUPFD_CLOEXEC, 0);
	if (fd >= 0)
		close(fd);
	return fd;
}

static volatile int got_tid[65];

static void on_sig(int sig)
{
	got_tid[sig] = (int)syscall(SYS_gettid);
}

/* The pidfd's number, flags and first observations of a new thread. */
static void made(const char *step, long r, struct thr *t, int expect_fd)
{
	if (r < 0) {
		out("%s: -1 %s", step, errname((int)-r));
		return;
	}
	int fd = t->slot;
	out("%s: thread, pidfd lowest free fd: %s", step,
	    fd == expect_fd ? "yes" : fd < 0 ? "none" : "no");
	if (fd < 0)
		return;
	out("%s: F_GETFL = 0x%x F_GETFD = %d", step, fcntl(fd, F_GETFL),
	    fcntl(fd, F_GETFD));
}

static void info_step(const char *step, int fd, pid_t tid)
{
	struct info in;
	memset(&in, 0, sizeof in);
	in.mask = 0;
	if (ioctl(fd, INFO(64), &in) < 0) {
		out("%s: ioctl(PIDFD_GET_INFO) = -1 %s", step, errname(errno));
		return;
	}
	out("%s: ioctl(PIDFD_GET_INFO) = 0 pid=%s tgid=%s", step,
	    in.pid == (uint32_t)tid ? "thread" : in.pid == (uint32_t)getpid() ? "leader" : "other",
	    in.tgid == (uint32_t)getpid() ? "ours" : "other");
}

/* The Pid: line of /proc/self/fdinfo/FD: the thread's id, -1, or other. */
static void fdinfo_pid(const char *step, int fd, pid_t tid)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
	FILE *f = fopen(path, "re");
	const char *what = "no Pid: line";
	long v;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "Pid: %ld", &v) == 1) {
			what = v == tid ? "the thread" : v == -1 ? "-1" : v == getpid() ? "the leader" : "other";
			break;
		}
	if (f)
		fclose(f);
	out("%s: fdinfo Pid: %s", step, what);
}

static void waitid_step(const char *step, int fd)
{
	siginfo_t si;
	memset(&si, 0, sizeof si);
	waitid_report(step, sys_waitid(P_PIDFD, fd, &si, WEXITED | WNOHANG), &si, 0);
}

static struct thr T[3];

/* A new thread running FN with its pidfd in T->slot (legacy: clone). */
static long start(const char *name, struct thr *t, int legacy, int (*fn)(void *))
{
	int expect = lowest_free();
	long r = legacy ? clone_thread(t, 0, (uintptr_t)&t->slot, fn)
			: clone3_thread(t, 0, (uintptr_t)&t->slot, fn);
	made(name, r, t, expect);
	return r;
}

/* Thread R (T) made by step NAME exits of its own: what it saw, then its
 * pidfd once it is released. */
static void exited(const char *name, struct thr *t, long r)
{
	char step[64];
	join(t);
	released(r);
	int fd = t->slot;
	out("%s: the thread ran: %s, saw its pidfd in the slot: %s", name,
	    t->ran ? "yes" : "no", t->seen == fd ? "yes" : "no");
	if (fd < 0)
		return;
	snprintf(step, sizeof step, "%s-exited", name);
	poll_report(step, fd, POLLIN, 5000);
	res(step, "pidfd_send_signal", sys_pidfd_send_signal(fd, 0, NULL, 0), 0);
	waitid_step(step, fd);
	info_step(step, fd, (pid_t)r);
	close(fd);
}

static void exits_at_once(const char *name, int legacy)
{
	struct thr *t = &T[0];
	long r = start(name, t, legacy, quick);
	if (r < 0)
		return;
	exited(name, t, r);
}

static void lives_on(const char *name, int legacy)
{
	char step[64];
	struct thr *t = &T[1];
	long r = start(name, t, legacy, lives);
	if (r < 0)
		return;
	while (!t->ran)
		usleep(1000);
	int fd = t->slot;
	out("%s: saw its pidfd in the slot: %s", name, t->seen == fd ? "yes" : "no");
	if (fd < 0) {
		t->stop = 1;
		syscall(SYS_futex, &t->stop, FUTEX_WAKE, 1);
		join(t);
		return;
	}
	snprintf(step, sizeof step, "%s-live", name);
	poll_report(step, fd, POLLIN, 0);
	got_tid[SIGUSR1] = 0;
	long s = sys_pidfd_send_signal(fd, SIGUSR1, NULL, 0);
	for (int i = 0; i < 2000 && s == 0 && !got_tid[SIGUSR1]; i++)
		usleep(1000);
	if (s < 0)
		out("%s: pidfd_send_signal = -1 %s", step, errname(errno));
	else
		out("%s: pidfd_send_signal = 0, taken by %s", step,
		    got_tid[SIGUSR1] == r ? "the thread" : got_tid[SIGUSR1] ? "another thread" : "nobody");
	res(step, "pidfd_send_signal(PIDFD_SIGNAL_THREAD, 0)",
	    sys_pidfd_send_signal(fd, 0, NULL, PIDFD_SIGNAL_THREAD), 0);
	waitid_step(step, fd);
	info_step(step, fd, (pid_t)r);
	fdinfo_pid(step, fd, (pid_t)r);
	t->stop = 1;
	syscall(SYS_futex, &t->stop, FUTEX_WAKE, 1);
	join(t);
	released(r);
	snprintf(step, sizeof step, "%s-exited", name);
	poll_report(step, fd, POLLIN, 5000);
	res(step, "pidfd_send_signal", sys_pidfd_send_signal(fd, 0, NULL, 0), 0);
	close(fd);
}

/* A vfork thread: its parent is back once it has exited (clone3 and
 * clone with a stack, clone on the caller's own stack as Go's vfork). */
static void vfork_thread(const char *name, long nr, int own_stack)
{
	struct thr *t = &T[0];
	t->slot = -1;
	t->seen = -2;
	t->ran = 0;
	t->tid = -1;
	uint64_t flags = THREAD_FLAGS | CLONE_PIDFD | CLONE_VFORK;
	struct sysfill_clone_args a = {.flags = flags,
				       .pidfd = (uintptr_t)&t->slot,
				       .child_tid = (uintptr_t)&t->tid,
				       .stack = (uintptr_t)t->stack,
				       .stack_size = sizeof t->stack};
	int expect = lowest_free();
	long r = nr == NR_clone3
			 ? raw_clone(nr, (long)&a, sizeof a, 0, 0, 0, quick, t)
			 : raw_clone(nr, (long)flags,
				     own_stack ? 0 : (long)(t->stack + sizeof t->stack),
				     (long)&t->slot, (long)&t->tid, 0, quick, t);
	made(name, r, t, expect);
	if (r < 0)
		return;
	exited(name, t, r);
}

/* Combinations that stay refused, and a bad slot: no thread runs. */
static void refused(void)
{
	struct thr *t = &T[2];
	int ptid;
	long r;
	r = clone_thread(t, CLONE_PARENT_SETTID, (uintptr_t)&ptid, quick);
	out("clone-parent-settid: %s", r < 0 ? errname((int)-r) : "thread");
	if (r > 0)
		join(t);
	r = clone_thread(t, CLONE_DETACHED, (uintptr_t)&t->slot, quick);
	out("clone-detached: %s", r < 0 ? errname((int)-r) : "thread");
	if (r > 0)
		join(t);
	r = clone3_thread(t, CLONE_DETACHED, (uintptr_t)&t->slot, quick);
	out("clone3-detached: %s", r < 0 ? errname((int)-r) : "thread");
	if (r > 0)
		join(t);
	int expect = lowest_free();
	r = clone3_thread(t, 0, 16, quick);
	usleep(50000);
	out("clone3-bad-slot: %s, a thread ran: %s, next fd the same: %s",
	    r < 0 ? errname((int)-r) : "thread", t->ran ? "yes" : "no",
	    lowest_free() == expect ? "yes" : "no");
	if (r > 0)
		join(t);
	r = clone_thread(t, 0, 16, quick);
	usleep(50000);
	out("clone-bad-slot: %s, a thread ran: %s, next fd the same: %s",
	    r < 0 ? errname((int)-r) : "thread", t->ran ? "yes" : "no",
	    lowest_free() == expect ? "yes" : "no");
	if (r > 0)
		join(t);
	/* No fd left for the pidfd: EMFILE, and no thread (the emulation's
	 * held thread exits before it runs). The library's own threads come
	 * and go: "no more than before". */
	struct rlimit rl, low;
	getrlimit(RLIMIT_NOFILE, &rl);
	low = rl;
	low.rlim_cur = (rlim_t)expect;
	int before = count_threads();
	setrlimit(RLIMIT_NOFILE, &low);
	r = clone3_thread(t, 0, (uintptr_t)&t->slot, quick);
	long r2 = clone_thread(&T[0], 0, (uintptr_t)&T[0].slot, quick);
	setrlimit(RLIMIT_NOFILE, &rl);
	usleep(50000);
	out("clone3-no-fd: %s, a thread ran: %s, slot: %s", r < 0 ? errname((int)-r) : "thread",
	    t->ran ? "yes" : "no", t->slot == -1 ? "untouched" : "written");
	out("clone-no-fd: %s, a thread ran: %s, slot: %s", r2 < 0 ? errname((int)-r2) : "thread",
	    T[0].ran ? "yes" : "no", T[0].slot == -1 ? "untouched" : "written");
	out("no-fd: no more threads than before: %s, ctid untouched: %s",
	    count_threads() <= before ? "yes" : "no", t->tid == -1 && T[0].tid == -1 ? "yes" : "no");
	if (r > 0)
		join(t);
	if (r2 > 0)
		join(&T[0]);
	/* a pidfd slot in read-only memory */
	void *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	r = clone3_thread(t, 0, (uintptr_t)ro, quick);
	usleep(50000);
	out("clone3-read-only-slot: %s, a thread ran: %s", r < 0 ? errname((int)-r) : "thread",
	    t->ran ? "yes" : "no");
	if (r > 0)
		join(t);
	munmap(ro, 4096);
}

/* Many threads that exit at once: each pidfd readable, none signals. */
#define MANY 40
static void many(void)
{
	static struct thr m[MANY];
	int ok = 0, readable = 0, esrch = 0, seen = 0, errs = 0;
	for (int i = 0; i < MANY; i++) {
		struct sysfill_clone_args a = {
			.flags = THREAD_FLAGS | CLONE_PIDFD,
			.pidfd = (uintptr_t)&m[i].slot,
			.child_tid = (uintptr_t)&m[i].tid,
			.stack = (uintptr_t)m[i].stack,
			.stack_size = sizeof m[i].stack};
		m[i].slot = -1;
		m[i].tid = -1;
		long r = raw_clone(i % 2 ? NR_clone3 : NR_clone,
				   i % 2 ? (long)&a : (long)(THREAD_FLAGS | CLONE_PIDFD),
				   i % 2 ? (long)sizeof a : (long)(m[i].stack + sizeof m[i].stack),
				   i % 2 ? 0 : (long)&m[i].slot, i % 2 ? 0 : (long)&m[i].tid, 0,
				   quick, &m[i]);
		m[i].r = r;
		if (r < 0) {
			m[i].tid = 0;
			errs++;
			continue;
		}
		ok++;
	}
	for (int i = 0; i < MANY; i++) {
		join(&m[i]);
		released(m[i].r);
		int fd = m[i].slot;
		if (fd < 0)
			continue;
		seen += m[i].seen == fd;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		readable += poll(&p, 1, 5000) == 1 && (p.revents & POLLIN);
		esrch += sys_pidfd_send_signal(fd, 0, NULL, 0) < 0 && errno == ESRCH;
		close(fd);
	}
	out("many: made=%d errors=%d saw-pidfd=%d readable=%d send-ESRCH=%d", ok, errs,
	    seen, readable, esrch);
}

/* Four pthreads (glibc's clone3) each making 25 threads with pidfds at
 * the same time as the others. */
#define WORKERS 4
#define EACH 25
static struct thr cw[WORKERS][EACH];
static int c_made[WORKERS], c_seen[WORKERS], c_readable[WORKERS];

static void *worker(void *arg)
{
	long w = (long)arg;
	for (int i = 0; i < EACH; i++) {
		struct thr *t = &cw[w][i];
		long r = clone3_thread(t, 0, (uintptr_t)&t->slot, quick);
		if (r < 0)
			continue;
		c_made[w]++;
		join(t);
		int fd = t->slot;
		c_seen[w] += fd >= 0 && t->seen == fd;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		c_readable[w] += fd >= 0 && poll(&p, 1, 5000) == 1 && (p.revents & POLLIN);
		if (fd >= 0)
			close(fd);
	}
	return 0;
}

static void concurrent(void)
{
	pthread_t p[WORKERS];
	int made = 0, seen = 0, readable = 0;
	for (long i = 0; i < WORKERS; i++)
		if (pthread_create(&p[i], NULL, worker, (void *)i))
			die("pthread_create");
	for (int i = 0; i < WORKERS; i++) {
		pthread_join(p[i], NULL);
		made += c_made[i];
		seen += c_seen[i];
		readable += c_readable[i];
	}
	out("concurrent: made=%d saw-pidfd=%d readable=%d", made, seen, readable);
}

int main(void)
{
	scenario_init();
	probe_pidfd_open();
	signal(SIGUSR1, on_sig);
	exits_at_once("clone3-quick", 0);
	lives_on("clone3-lives", 0);
	exits_at_once("clone-quick", 1);
	lives_on("clone-lives", 1);
	vfork_thread("clone3-vfork", NR_clone3, 0);
	vfork_thread("clone-vfork", NR_clone, 0);
	vfork_thread("clone-vfork-own-stack", NR_clone, 1);
	refused();
	many();
	concurrent();
	res("after", "pidfd_open(self)", sys_pidfd_open(getpid(), 0), 1);
	return 0;
}
