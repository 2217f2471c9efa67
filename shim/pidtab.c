/* The pidfd table.
 *
 * An emulated pidfd is an epoll fd (O_CLOEXEC, O_NONBLOCK for
 * PIDFD_NONBLOCK) holding one registration: the eventfd of the watched
 * process, written when the process exits. poll/select/epoll on the pidfd
 * then give POLLIN, and read/write fail with EINVAL, as on a real pidfd.
 *
 * Identity, so that a closed and reused fd number never reaches a process:
 * fd N is our pidfd for watch W only if epoll_ctl(N, EPOLL_CTL_MOD, W.evfd)
 * succeeds, i.e. N is an epoll that holds W's eventfd file. fdmap[N] caches
 * the candidate watch; F_SETOWN(pid) on the pidfd finds it for dup'd
 * numbers. The eventfd carries F_SETOWN(pid) too: F_GETOWN gives 0 once the
 * process is reaped (Linux 6.x, gVisor), so a reused pid is never taken for
 * the old process.
 *
 * Locking: one spinlock. Every holder runs with all signals blocked (the
 * SIGSYS handler, the masked direct calls, the monitor threads), so the
 * holder cannot be interrupted by code that wants the lock. */
#include <string.h>
#include <sys/epoll.h>
#include "sf.h"

/* What pidfd_open writes sits in as few pages as possible: right after a
 * fork every page is shared copy-on-write with the child, and each one the
 * call writes costs a fault and, in a process with our threads, a TLB
 * shootdown (together 5-20 us in a VM). Here: the scalars with the first
 * fd numbers, the watch (with its pid-hash link), one pid-hash bucket. */
static struct {
	int lock_word;
	int fdmap_hi;    /* highest fd ever mapped + 1 */
	int nwatches_hi; /* highest slot ever used + 1 */
	int nfree_lo;    /* free slots below nwatches_hi */
	int alloc_next;  /* where watch_alloc looks first */
	int fdmap[SF_MAX_FDMAP]; /* watch index + 1, 0 = none */
} pt __attribute__((aligned(4096)));
static struct sf_watch watches[SF_MAX_WATCHES];
#define PIDHASH 4096
static int pidhead[PIDHASH]; /* watch index + 1 */

/* Give back a slot that watch_alloc handed out (it is SF_W_FREE again). */
static void watch_unalloc(void)
{
	pt.nfree_lo++;
}

int sf_dead_watches SF_HIDDEN; /* exited/reaped watches holding an eventfd */

int pidtab_count(void)
{
	return pt.nwatches_hi;
}

struct sf_watch *pidtab_watch(int idx)
{
	return &watches[idx];
}

/* The epoll data of our registrations: a magic that /proc/PID/fdinfo shows,
 * so that a pidfd inherited through execve is recognised. */
#define SF_COOKIE_MAGIC 0x5f5fULL
static uint64_t cookie(int idx)
{
	return SF_COOKIE_MAGIC << 48 |
	       (uint64_t)(watches[idx].gen & 0xffffff) << 24 | (uint64_t)idx;
}

static int holds(int fd, int idx)
{
	struct sf_watch *w = &watches[idx];
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = cookie(idx)};
	if (w->state == SF_W_FREE || w->evfd < 0)
		return 0;
	return sf_sys4(SF_NR_epoll_ctl, fd, EPOLL_CTL_MOD, w->evfd, &ev) == 0;
}

static void map_fd(int fd, int idx)
{
	if (fd >= SF_MAX_FDMAP) {
		if (idx >= 0)
			watches[idx].nfds++; /* untracked number: never released */
		return;
	}
	int old = pt.fdmap[fd] - 1;
	if (old == idx)
		return;
	if (old >= 0)
		watches[old].nfds--;
	pt.fdmap[fd] = idx + 1;
	if (idx >= 0)
		watches[idx].nfds++;
	if (fd >= pt.fdmap_hi)
		pt.fdmap_hi = fd + 1;
}

static int new_watch(pid_t pid);

/* Is FD an emulated pidfd made by an earlier program of this process (it
 * came through execve with FD_CLOEXEC cleared)? Its fdinfo lists our
 * registration with the cookie magic; gVisor's fdinfo lists none, so there
 * an epoll whose owner is set is taken for one. Returns a watch for OWN,
 * now registered in FD too, or -1. Caller holds the lock. */
static int adopt(int fd, pid_t own)
{
	char path[48], buf[1024];
	sf_fmt(path, sizeof path, "/proc/self/fd/%d", fd);
	long n = sf_sys3(SF_NR_readlink, path, buf, sizeof buf - 1);
	if (n < 0)
		return -1;
	buf[n] = 0;
	if (strcmp(buf, "anon_inode:[eventpoll]"))
		return -1;
	sf_fmt(path, sizeof path, "/proc/self/fdinfo/%d", fd);
	long info = sf_sys4(SF_NR_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
	if (info < 0)
		return -1;
	n = sf_sys3(SF_NR_read, info, buf, sizeof buf - 1);
	sf_sys1(SF_NR_close, info);
	if (n < 0)
		return -1;
	buf[n] = 0;
	if (strstr(buf, "tfd:")) {
		char *d = strstr(buf, "data:");
		if (d)
			for (d += 5; *d == ' ' || *d == '\t'; d++)
				;
		if (!d || strncmp(d, "5f5f", 4) || strstr(d, "tfd:"))
			return -1; /* not ours, or a second registration */
	}
	int idx = new_watch(own);
	if (idx < 0)
		return -1;
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = cookie(idx)};
	if (sf_sys4(SF_NR_epoll_ctl, fd, EPOLL_CTL_ADD, watches[idx].evfd, &ev) < 0)
		return -1; /* the watch stays, as any live one */
	sf_log(SF_LOG_DEBUG, "fd %d: pidfd of %d inherited through execve", fd,
	       (int)own);
	return idx;
}

int pidtab_resolve(int fd)
{
	if (fd < 0)
		return -EBADF;
	if (fd < SF_MAX_FDMAP && pt.fdmap[fd] && holds(fd, pt.fdmap[fd] - 1))
		return pt.fdmap[fd] - 1;
	/* Not the number we handed out: closed, reused, or a dup. */
	long own = sf_sys2(SF_NR_fcntl, fd, F_GETOWN);
	if (own < 0) {
		map_fd(fd, -1);
		return (int)own; /* EBADF */
	}
	int found = -1;
	if (own > 0) {
		for (int i = pidhead[own % PIDHASH] - 1; i >= 0 && found < 0;
		     i = watches[i].pidnext - 1)
			if (watches[i].pid == own && holds(fd, i))
				found = i;
	} else {
		/* The owner was reaped (F_GETOWN 0) or this is not ours. Only
		 * an epoll can be ours: EPOLL_CTL_MOD on anything else fails
		 * with EINVAL before looking at the target. */
		for (int i = 0; i < pt.nwatches_hi && found < 0; i++) {
			if (watches[i].state == SF_W_FREE || watches[i].evfd < 0)
				continue;
			struct epoll_event ev = {0};
			long r = sf_sys4(SF_NR_epoll_ctl, fd, EPOLL_CTL_MOD,
					 watches[i].evfd, &ev);
			if (r == -EINVAL || r == -EBADF)
				break; /* not an epoll */
			if (holds(fd, i))
				found = i;
		}
	}
	if (found < 0 && own > 0)
		found = adopt(fd, (pid_t)own);
	map_fd(fd, found);
	return found >= 0 ? found : -EBADF;
}

static void hash_insert(int idx)
{
	int h = watches[idx].pid % PIDHASH;
	watches[idx].pidnext = pidhead[h];
	pidhead[h] = idx + 1;
}

static void hash_remove(int idx)
{
	int h = watches[idx].pid % PIDHASH;
	for (int *p = &pidhead[h]; *p; p = &watches[*p - 1].pidnext) {
		if (*p - 1 == idx) {
			*p = watches[idx].pidnext;
			return;
		}
	}
}

static void evfd_signal(struct sf_watch *w)
{
	uint64_t one = 1;
	sf_sys3(SF_NR_write, w->evfd, &one, sizeof one);
}

void pidtab_mark_exited(struct sf_watch *w)
{
	if (w->state != SF_W_LIVE)
		return;
	w->state = SF_W_EXITED;
	evfd_signal(w);
	/* Wake the monitor for the first dead watch only, whoever saw the
	 * exit: a wake-up at every exit competes with the program for the
	 * CPU just when its poll returns. */
	if (sf_dead_watches++ == 0)
		monitor_kick();
}

void pidtab_mark_reaped(struct sf_watch *w)
{
	if (w->state == SF_W_LIVE)
		pidtab_mark_exited(w);
	if (w->state == SF_W_EXITED)
		w->state = SF_W_REAPED;
}

int pidtab_is_reaped(struct sf_watch *w)
{
	if (w->state == SF_W_REAPED)
		return 1;
	long own = sf_sys2(SF_NR_fcntl, w->evfd, F_GETOWN);
	if (own == 0) {
		pidtab_mark_reaped(w);
		return 1;
	}
	if (w->state != SF_W_EXITED)
		return 0;
	/* Exited: kernels that keep F_GETOWN after the reap need a second
	 * opinion. A child is reaped when waitid no longer sees it; another
	 * process when /proc no longer shows the same start time. */
	int gone;
	if (w->is_child) {
		siginfo_t si;
		gone = sf_sys5(SF_NR_waitid, P_PID, w->pid, &si,
			       WEXITED | WNOHANG | WNOWAIT | __WALL, 0) == -ECHILD;
	} else {
		uint64_t st;
		char state;
		gone = proc_stat(w->pid, &st, &state) < 0 ||
		       (w->starttime && st != w->starttime);
	}
	if (gone)
		pidtab_mark_reaped(w);
	return gone;
}

static void watch_free(int idx)
{
	struct sf_watch *w = &watches[idx];
	if (w->state == SF_W_EXITED || w->state == SF_W_REAPED)
		sf_dead_watches--;
	hash_remove(idx);
	if (w->evfd >= 0)
		sf_sys1(SF_NR_close, w->evfd);
	w->evfd = -1;
	w->state = SF_W_FREE;
	watch_unalloc();
}

void pidtab_each_of_pid(pid_t pid, void (*fn)(struct sf_watch *w))
{
	for (int i = pidhead[pid % PIDHASH] - 1; i >= 0; i = watches[i].pidnext - 1)
		if (watches[i].pid == pid && watches[i].state != SF_W_FREE)
			fn(&watches[i]);
}

/* Find a live-enough watch for PID (same process), or -1. */
static int find_watch(pid_t pid)
{
	for (int i = pidhead[pid % PIDHASH] - 1; i >= 0; i = watches[i].pidnext - 1) {
		struct sf_watch *w = &watches[i];
		if (w->pid != pid || w->state == SF_W_FREE)
			continue;
		if (!pidtab_is_reaped(w))
			return i;
	}
	return -1;
}

/* A free slot: round robin among the slots used before while one is free,
 * else a new one, so that nwatches_hi (which every scan of the table and
 * the fork child's reset walk) stays the most watches ever held at once.
 * A slot that stays SF_W_FREE must be given back with watch_unalloc(). */
static int watch_alloc(void)
{
	for (int n = 0; pt.nfree_lo > 0 && n < pt.nwatches_hi; n++) {
		int i = (pt.alloc_next + n) % pt.nwatches_hi;
		if (watches[i].state == SF_W_FREE) {
			pt.alloc_next = i + 1;
			pt.nfree_lo--;
			return i;
		}
	}
	if (pt.nwatches_hi >= SF_MAX_WATCHES)
		return -ENOMEM;
	return pt.nwatches_hi++;
}


static int new_watch(pid_t pid)
{
	/* A process, not a thread: tgkill(pid, pid) finds only a thread-group
	 * leader. EPERM means it exists but we may not signal it: fine. */
	long r = sf_sys3(SF_NR_tgkill, pid, pid, 0);
	if (r < 0 && r != -EPERM)
		return r == -ESRCH && sf_sys2(SF_NR_kill, pid, 0) != -ESRCH
			       ? -ENOENT
			       : (int)r;
	int idx = watch_alloc();
	if (idx < 0)
		return idx;
	struct sf_watch *w = &watches[idx];
	long evfd = sf_sys2(SF_NR_eventfd2, 0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (evfd < 0) {
		watch_unalloc();
		return (int)evfd;
	}
	r = sf_sys3(SF_NR_fcntl, evfd, F_SETOWN, pid);
	if (r < 0) {
		sf_sys1(SF_NR_close, evfd);
		watch_unalloc();
		return -ESRCH; /* gone since tgkill */
	}
	w->pid = pid;
	w->evfd = (int)evfd;
	w->gen++;
	w->nfds = 0;
	w->waiter = -1;
	w->starttime = 0;
	w->state = SF_W_LIVE;
	hash_insert(idx);

	siginfo_t si = {0};
	r = sf_sys5(SF_NR_waitid, P_PID, pid, &si,
		    WEXITED | WNOHANG | WNOWAIT | __WALL, 0);
	w->is_child = r == 0;
	if (w->is_child) {
		if (si.si_pid == pid)
			pidtab_mark_exited(w); /* already a zombie */
	} else {
		char state = 0;
		if (proc_stat(pid, &w->starttime, &state) == 0 && state == 'Z')
			pidtab_mark_exited(w);
	}
	if (w->state == SF_W_LIVE) {
		r = monitor_watch(idx);
		if (r < 0) {
			watch_free(idx);
			return (int)r;
		}
	}
	return idx;
}

int pidtab_new_pidfd(pid_t pid, unsigned flags)
{
	if (sf_dead_watches > 64)
		pidtab_gc();
	/* The pidfd first, so it gets the lowest free number as a real one. */
	long ep = sf_sys1(SF_NR_epoll_create1, EPOLL_CLOEXEC);
	if (ep < 0)
		return (int)ep;
	int idx = find_watch(pid);
	int fresh = idx < 0;
	if (fresh) {
		idx = new_watch(pid);
		if (idx < 0) {
			sf_sys1(SF_NR_close, ep);
			return idx;
		}
	}
	struct sf_watch *w = &watches[idx];
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = cookie(idx)};
	long r = sf_sys4(SF_NR_epoll_ctl, ep, EPOLL_CTL_ADD, w->evfd, &ev);
	if (r == 0 && (flags & PIDFD_NONBLOCK))
		r = sf_sys3(SF_NR_fcntl, ep, F_SETFL, O_NONBLOCK);
	if (r < 0) {
		sf_sys1(SF_NR_close, ep);
		if (fresh && w->state != SF_W_LIVE)
			watch_free(idx); /* a live one stays: its waiter holds it */
		return (int)r;
	}
	sf_sys3(SF_NR_fcntl, ep, F_SETOWN, pid); /* fails only once reaped */
	map_fd((int)ep, idx);
	return (int)ep;
}

void pidtab_gc(void)
{
	for (int fd = 0; fd < pt.fdmap_hi; fd++) {
		int idx = pt.fdmap[fd] - 1;
		if (idx < 0)
			continue;
		if (!holds(fd, idx))
			map_fd(fd, -1);
	}
	for (int i = 0; i < pt.nwatches_hi; i++) {
		struct sf_watch *w = &watches[i];
		if ((w->state == SF_W_EXITED || w->state == SF_W_REAPED) &&
		    w->nfds <= 0 && w->waiter < 0)
			watch_free(i);
	}
}

void pidtab_atfork_child(void)
{
	pt.lock_word = 0;
}
