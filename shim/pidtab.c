/* The pidfd table.
 *
 * An emulated pidfd is an epoll fd (O_CLOEXEC, O_NONBLOCK for
 * PIDFD_NONBLOCK) holding one registration: the eventfd of the watched
 * process, written when the process exits. poll/select/epoll on the pidfd
 * then give POLLIN, and read/write fail with EINVAL, as on a real pidfd.
 *
 * Identity, so that a closed and reused fd number never reaches a process:
 * fd N is our pidfd for watch W only if epoll_ctl(N, EPOLL_CTL_MOD, W.evfd)
 * succeeds, i.e. N is an epoll that holds W's eventfd file at W's number
 * (epoll keys a registration by file and number). fdmap[N] caches the
 * candidate watch; F_SETOWN(pid) on the pidfd finds it for dup'd numbers.
 * The eventfd carries F_SETOWN(pid) too: F_GETOWN gives 0 once the process
 * is reaped (Linux 6.x, gVisor), so a reused pid is never taken for the old
 * process.
 *
 * The program's fd space: the table's own fds (eventfds, the sentry epoll)
 * are moved above a high base (sf_fd_hide), so that the pidfd gets the
 * lowest free number and later opens get the numbers they would natively.
 * Each carries an F_SETSIG tag of ours (per open file description) and is
 * checked (tag, owner, and before a write or close its /proc/self/fd link)
 * before every use: a program that closes them (close_range, dup2) loses
 * the exit notification of that watch, never a file of its own.
 *
 * Lifetime: the sentry epoll holds every pidfd we made or adopted (nested
 * epoll, level-triggered, data = the watch's cookie). An epoll's
 * registration lives as long as its file, whatever number, dup, fork child
 * or SCM_RIGHTS message holds it; once a watch has exited its pidfds are
 * readable, so one epoll_wait on the sentry lists the exited watches some
 * pidfd file still refers to. gc frees only the others.
 *
 * Locking: one spinlock. Every holder runs with all signals blocked (the
 * SIGSYS handler, the masked direct calls, the monitor threads), so the
 * holder cannot be interrupted by code that wants the lock. */
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
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
	int sentry;      /* the sentry epoll, -1 = none yet (stored + 1) */
	uint32_t serial; /* of the sentry's registrations */
	int fdmap[SF_MAX_FDMAP]; /* watch index + 1, 0 = none */
} pt __attribute__((aligned(4096)));
static struct sf_watch watches[SF_MAX_WATCHES];
#define PIDHASH 4096
static int pidhead[PIDHASH]; /* watch index + 1 */
/* evmap[N]: index + 1 of the watch whose eventfd we put at number N. */
static int evmap[SF_MAX_FDMAP];

#define TAG_EVFD SF_TAG_EVFD
#define TAG_PIDFD SF_TAG_PIDFD
#define TAG_SENTRY SF_TAG_SENTRY

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

int sf_fd_hide(int fd)
{
	struct rlimit rl;
	if (fd < 0 || sf_sys4(SF_NR_prlimit64, 0, RLIMIT_NOFILE, 0, &rl) < 0)
		return fd;
	/* A high number makes the fd table, which every fork copies, that
	 * large: stay below 1024 (glibc's FD_SETSIZE, the usual soft limit). */
	long top = rl.rlim_cur > 1024 ? 1024 : (long)rl.rlim_cur;
	long n = -1;
	if (top - top / 4 > fd)
		n = sf_sys3(SF_NR_fcntl, fd, F_DUPFD_CLOEXEC, top - top / 4);
	if (n < 0 && top / 2 > fd)
		n = sf_sys3(SF_NR_fcntl, fd, F_DUPFD_CLOEXEC, top / 2);
	if (n < 0)
		return fd; /* a low limit, or all taken: keep the number */
	sf_sys1(SF_NR_close, fd);
	return (int)n;
}

int sf_fd_tagged(int fd, int tag)
{
	if (sf_sys2(SF_NR_fcntl, fd, F_GETSIG) == tag)
		return 1;
	sf_log(SF_LOG_WARN, "the program closed sysfill's fd %d", fd);
	return 0;
}

/* Does /proc/self/fd/FD link to WANT? */
static int link_is(int fd, const char *want)
{
	char path[48], buf[64];
	sf_fmt(path, sizeof path, "/proc/self/fd/%d", fd);
	long n = sf_sys3(SF_NR_readlink, path, buf, sizeof buf - 1);
	if (n < 0)
		return 0;
	buf[n] = 0;
	return !strcmp(buf, want);
}

/* W's eventfd number no longer holds its eventfd (the program closed or
 * replaced it): forget the number without touching it. */
static void evfd_lost(struct sf_watch *w)
{
	int idx = (int)(w - watches);
	sf_log(SF_LOG_WARN,
	       "pidfd of %d: the program closed sysfill's eventfd %d; its pidfds "
	       "will not become readable at the exit unless used again",
	       (int)w->pid, w->evfd);
	if (w->evfd < SF_MAX_FDMAP && evmap[w->evfd] == idx + 1)
		evmap[w->evfd] = 0;
	w->evfd = -1;
}

/* F_GETOWN of W's eventfd: W's pid, or 0 once reaped; -1 when the number
 * no longer holds W's eventfd (then forgotten). STRICT adds the
 * /proc/self/fd check, required before a close. Lock held. */
static long evfd_owner(struct sf_watch *w, int strict)
{
	if (w->evfd < 0)
		return -1;
	long own = -1;
	if (sf_sys2(SF_NR_fcntl, w->evfd, F_GETSIG) == TAG_EVFD) {
		own = sf_sys2(SF_NR_fcntl, w->evfd, F_GETOWN);
		if (own != 0 && own != w->pid)
			own = -1;
	}
	if (own >= 0 && strict && !link_is(w->evfd, "anon_inode:[eventfd]"))
		own = -1;
	if (own < 0)
		evfd_lost(w);
	return own;
}

static int sentry_fd(void)
{
	return pt.sentry - 1;
}

/* The program closed the sentry: watches made so far can no longer tell
 * whether a pidfd file refers to them, so they are kept for good. */
static void sentry_lost(void)
{
	sf_log(SF_LOG_WARN, "the program closed sysfill's epoll %d: the "
	       "eventfds of pidfds made so far stay open", sentry_fd());
	for (int i = 0; i < pt.nwatches_hi; i++)
		if (watches[i].state != SF_W_FREE)
			watches[i].pinned = 1;
	pt.sentry = 0;
}

/* We have just been given number FD: what the table thought was there is
 * gone (its owner was closed by the program). */
static void claim_fd(int fd)
{
	if (fd < 0)
		return;
	if (fd == sentry_fd())
		sentry_lost();
	if (fd >= SF_MAX_FDMAP)
		return;
	int old = evmap[fd] - 1;
	if (old >= 0 && watches[old].evfd == fd)
		evfd_lost(&watches[old]);
	evmap[fd] = 0;
}

/* Is the sentry still ours? Lock held. */
static int sentry_ok(void)
{
	if (pt.sentry &&
	    sf_sys2(SF_NR_fcntl, sentry_fd(), F_GETSIG) != TAG_SENTRY)
		sentry_lost();
	return pt.sentry != 0;
}

/* Put pidfd EP (of watch IDX) into the sentry; a watch whose pidfd cannot
 * be tracked there is never freed. Lock held. */
#define SENTRY_MAX 100
static void sentry_add(int ep, int idx)
{
	if (!sentry_ok()) {
		long s = sf_sys1(SF_NR_epoll_create1, EPOLL_CLOEXEC);
		if (s >= 0 && sf_sys3(SF_NR_fcntl, s, F_SETSIG, TAG_SENTRY) < 0) {
			sf_sys1(SF_NR_close, s);
			s = -1;
		}
		if (s >= 0) {
			s = sf_fd_hide((int)s);
			claim_fd((int)s);
			pt.sentry = (int)s + 1;
		}
	}
	/* Each registration is a wakeup path of the watch's eventfd, and Linux
	 * allows 500 of that length (fs/eventpoll.c, path_limits): leave the
	 * program's own epolls room. */
	if (watches[idx].nsentry >= SENTRY_MAX) {
		watches[idx].pinned = 1;
		return;
	}
	uint32_t serial = ++pt.serial;
	struct epoll_event ev = {
		.events = EPOLLIN,
		.data.u64 = 0x5f5eULL << 48 | (uint64_t)serial << 16 | (uint64_t)idx};
	long r = pt.sentry ? sf_sys4(SF_NR_epoll_ctl, sentry_fd(), EPOLL_CTL_ADD,
				    ep, &ev)
			   : -1;
	if (r == 0)
		watches[idx].nsentry++;
	else if (!pt.sentry ||
		 sf_sys4(SF_NR_epoll_ctl, sentry_fd(), EPOLL_CTL_MOD, ep, &ev) < 0)
		watches[idx].pinned = 1;
}

/* The epoll data of our registrations: a magic that /proc/PID/fdinfo shows,
 * so that a pidfd inherited through execve is recognised. */
#define SF_COOKIE_MAGIC 0x5f5fULL
static uint64_t cookie(int idx)
{
	return SF_COOKIE_MAGIC << 48 |
	       (uint64_t)(watches[idx].gen & 0xffffff) << 24 | (uint64_t)idx;
}

/* epoll_ctl(FD, EPOLL_CTL_MOD) of watch IDX's registration: 0 if FD holds
 * it, -errno else (EINVAL/EBADF: FD is no epoll). */
static long holds_r(int fd, int idx)
{
	struct sf_watch *w = &watches[idx];
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = cookie(idx)};
	if (w->state == SF_W_FREE || evfd_owner(w, 0) < 0)
		return -ENOENT;
	return sf_sys4(SF_NR_epoll_ctl, fd, EPOLL_CTL_MOD, w->evfd, &ev);
}

static int holds(int fd, int idx)
{
	return holds_r(fd, idx) == 0;
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

static int new_watch(pid_t pid, int thread);
static long own_thread(int fd, pid_t tid);
static int find_watch(pid_t pid, int thread);
static int evfd_make(int idx, int owned);
static int watch_alloc(void);
static void watch_free(int idx);
static void hash_insert(int idx);

/* FD carries our pidfd tag but holds no registration of a watch of ours:
 * made by another process (fork, SCM_RIGHTS) or an earlier program of this
 * one (execve), or its eventfd was closed. Its fdinfo must list nothing but
 * registrations of ours (gVisor's lists none). Returns a watch for OWN, now
 * registered in FD too, or -1. Caller holds the lock. */
static int adopt(int fd, pid_t own)
{
	char path[48], buf[1024];
	sf_fmt(path, sizeof path, "/proc/self/fdinfo/%d", fd);
	/* Unreadable (EMFILE): the tag alone says it is ours. */
	if (proc_read(path, buf, sizeof buf) < 0)
		buf[0] = 0;
	for (char *t = strstr(buf, "tfd:"); t; t = strstr(t + 4, "tfd:")) {
		char *d = strstr(t, "data:");
		if (d)
			for (d += 5; *d == ' ' || *d == '\t'; d++)
				;
		if (!d || strncmp(d, "5f5f", 4))
			return -1; /* not ours */
	}
	int idx = find_watch(own, 0);
	if (idx < 0)
		idx = new_watch(own, 0);
	if (idx < 0)
		return -1;
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = cookie(idx)};
	if (sf_sys4(SF_NR_epoll_ctl, fd, EPOLL_CTL_ADD, watches[idx].evfd, &ev) < 0)
		return -1; /* the watch stays, as any live one */
	sentry_add(fd, idx);
	sf_log(SF_LOG_DEBUG, "fd %d: pidfd of %d adopted", fd, (int)own);
	return idx;
}

/* Is FD, which holds no registration of watch IDX, still its pidfd whose
 * registration went with an eventfd the program closed (our tag, owner the
 * watch's pid, or 0 once reaped)? Returns F_GETOWN of FD, or -1. */
static long orphaned_pidfd(int fd, int idx)
{
	struct sf_watch *w = &watches[idx];
	if (w->state == SF_W_FREE || w->evfd >= 0 || w->foreign ||
	    sf_sys2(SF_NR_fcntl, fd, F_GETSIG) != TAG_PIDFD)
		return -1;
	long own = sf_sys2(SF_NR_fcntl, fd, F_GETOWN);
	if ((own != 0 && own != w->pid) || (own != 0 && w->state == SF_W_REAPED))
		return -1; /* another process's pidfd at this number */
	return own;
}

/* FD is an orphaned pidfd of watch IDX: give the watch a new eventfd.
 * Returns 0 if FD is still that pidfd, -1 else. */
static int rearm(int fd, int idx)
{
	struct sf_watch *w = &watches[idx];
	long own = orphaned_pidfd(fd, idx);
	if (own < 0)
		return -1;
	/* The pidfd's owner is alive (so its pid is not reused) or reaped. */
	if (own == 0)
		pidtab_mark_reaped(w);
	if (evfd_make(idx, own != 0 && !w->thread) == 0) {
		if (own != 0 && w->thread)
			own_thread(w->evfd, w->pid);
		struct epoll_event ev = {.events = EPOLLIN, .data.u64 = cookie(idx)};
		uint64_t one = 1;
		if (w->state != SF_W_LIVE)
			sf_sys3(SF_NR_write, w->evfd, &one, sizeof one);
		sf_sys4(SF_NR_epoll_ctl, fd, EPOLL_CTL_ADD, w->evfd, &ev);
		sentry_add(fd, idx);
	}
	return 0;
}

/* A watch of a process (THREAD: a thread) already reaped, with a
 * signalled eventfd, so that its pidfds are readable as the kernel's.
 * Returns the watch or -errno. Caller holds the lock. */
static int gone_watch(int thread)
{
	int idx = watch_alloc();
	if (idx < 0)
		return idx;
	struct sf_watch *w = &watches[idx];
	w->pid = 0; /* never used: a reaped watch answers ESRCH first */
	int r = evfd_make(idx, 0);
	if (r < 0) {
		watch_unalloc();
		return r;
	}
	w->gen++;
	w->nfds = 0;
	w->waiter = -1;
	w->starttime = 0;
	w->pinned = 0;
	w->nsentry = 0;
	w->is_child = 0;
	w->thread = thread;
	w->foreign = 0;
	w->state = SF_W_LIVE;
	exitinfo_reset(w); /* reaped elsewhere: none known */
	hash_insert(idx);
	pidtab_mark_reaped(w);
	return idx;
}

/* FD, our pidfd, came from elsewhere after its process was reaped (it
 * holds no registration of ours): a gone watch for it. Returns the watch
 * or -1. Caller holds the lock. */
static int adopt_reaped(int fd)
{
	int idx = gone_watch(0);
	if (idx < 0)
		return -1;
	struct sf_watch *w = &watches[idx];
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = cookie(idx)};
	if (sf_sys4(SF_NR_epoll_ctl, fd, EPOLL_CTL_ADD, w->evfd, &ev) < 0) {
		watch_free(idx);
		return -1;
	}
	sentry_add(fd, idx);
	return idx;
}

static int moved; /* the table was inherited into a deeper pid namespace */

/* Is FD readable now? */
static int fd_readable(int fd)
{
	struct pollfd p = {fd, POLLIN, 0};
	return sf_sys3(SF_NR_poll, &p, 1, 0) == 1 && (p.revents & POLLIN);
}

int pidtab_resolve(int fd)
{
	if (fd < 0)
		return -EBADF;
	if (fd < SF_MAX_FDMAP && pt.fdmap[fd]) {
		int idx = pt.fdmap[fd] - 1;
		if (holds(fd, idx))
			return idx;
		if (rearm(fd, idx) == 0)
			return idx;
	}
	/* Not the number we handed out: closed, reused, or a dup. Only a
	 * file with our tag is looked into (epoll_ctl MOD writes). */
	long tag = sf_sys2(SF_NR_fcntl, fd, F_GETSIG);
	if (tag != TAG_PIDFD) {
		map_fd(fd, -1);
		return tag < 0 ? (int)tag : -EBADF;
	}
	long own = sf_sys2(SF_NR_fcntl, fd, F_GETOWN);
	int found = -1;
	if (own > 0) {
		for (int i = pidhead[own % PIDHASH] - 1; i >= 0 && found < 0;
		     i = watches[i].pidnext - 1)
			if (watches[i].pid == own && holds(fd, i))
				found = i;
	} else {
		/* The owner was reaped (F_GETOWN 0). */
		for (int i = 0; i < pt.nwatches_hi && found < 0; i++) {
			long r = holds_r(fd, i);
			if (r == -EINVAL || r == -EBADF)
				break; /* not an epoll */
			if (r == 0)
				found = i;
		}
	}
	if (found < 0 && own > 0)
		found = adopt(fd, (pid_t)own);
	/* Below the namespace our table was made in, F_GETOWN 0 is also a
	 * process with no pid here: unless some holder has seen its exit
	 * (the pidfd is readable), it is taken for one, and nothing is put
	 * into the file (a signalled eventfd would make every holder's
	 * pidfd readable while it lives). */
	if (found < 0 && own == 0 && moved && !fd_readable(fd))
		return -EREMOTE;
	if (found < 0 && own == 0)
		found = adopt_reaped(fd);
	map_fd(fd, found);
	if (found < 0 && own == 0)
		return -ESRCH; /* our pidfd of a reaped process */
	return found >= 0 ? found : -EBADF;
}

void sf_adopt_fds(const int *fds, int n)
{
	sigset_t all, old;
	sigfillset(&all);
	sf_sigmask(SIG_SETMASK, &all, &old);
	sf_lock();
	for (int i = 0; i < n; i++)
		if (sf_sys2(SF_NR_fcntl, fds[i], F_GETSIG) == TAG_PIDFD)
			pidtab_resolve(fds[i]);
	sf_unlock();
	sf_sigmask(SIG_SETMASK, &old, 0);
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
	/* Our tag and W's owner: no file but W's eventfd (or a dup of it)
	 * carries both, and on the exit path a /proc lookup costs. */
	if (evfd_owner(w, 0) >= 0)
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
	if (w->foreign)
		return 0; /* F_GETOWN 0 here is its namespace, not a reap */
	long own = evfd_owner(w, 0);
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
	if (evfd_owner(w, 1) >= 0) {
		if (w->evfd < SF_MAX_FDMAP)
			evmap[w->evfd] = 0;
		sf_sys1(SF_NR_close, w->evfd);
	}
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

/* Find a live-enough watch for PID (same process) that still has its
 * eventfd, or -1. */
static int find_watch(pid_t pid, int thread)
{
	for (int i = pidhead[pid % PIDHASH] - 1; i >= 0; i = watches[i].pidnext - 1) {
		struct sf_watch *w = &watches[i];
		if (w->pid != pid || w->state == SF_W_FREE || w->thread != thread)
			continue;
		if (!pidtab_is_reaped(w) && w->evfd >= 0)
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


/* The thread group of thread TID (/proc/TID/status Tgid), -ESRCH if there
 * is no such thread. */
static long thread_tgid(pid_t tid)
{
	char path[48], buf[1024];
	uint64_t v;
	sf_fmt(path, sizeof path, "/proc/%d/status", (int)tid);
	if (proc_read(path, buf, sizeof buf) <= 0 ||
	    proc_status_field(buf, "Tgid", &v, 1, 10) != 1 || !v)
		return -ESRCH;
	return (long)v;
}

/* F_SETOWN_EX(F_OWNER_TID, TID) on FD: F_GETOWN gives TID while the
 * thread lives, 0 once it is gone. 0 or -errno. */
static long own_thread(int fd, pid_t tid)
{
	struct {
		int type;
		int pid;
	} o = {0 /* F_OWNER_TID */, tid};
	return sf_sys3(SF_NR_fcntl, fd, 15 /* F_SETOWN_EX */, &o);
}

/* A private error of evfd_make: F_SETOWN failed, the process is gone. */
#define ESRCH_GONE 4096

/* Give watch IDX (pid set) a new eventfd, tagged, F_SETOWN to its pid if
 * OWNED (the caller knows the pid is not reused), above the program's
 * numbers. Returns 0 or -errno. Lock held. */
static int evfd_make(int idx, int owned)
{
	struct sf_watch *w = &watches[idx];
	long evfd = sf_sys2(SF_NR_eventfd2, 0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (evfd < 0)
		return (int)evfd;
	long r = owned ? sf_sys3(SF_NR_fcntl, evfd, F_SETOWN, w->pid) : 0;
	if (r < 0)
		r = -ESRCH_GONE;
	else
		r = sf_sys3(SF_NR_fcntl, evfd, F_SETSIG, TAG_EVFD);
	if (r < 0) {
		sf_sys1(SF_NR_close, evfd);
		return (int)r;
	}
	evfd = sf_fd_hide((int)evfd);
	claim_fd((int)evfd);
	if (evfd < SF_MAX_FDMAP)
		evmap[evfd] = idx + 1;
	w->evfd = (int)evfd;
	return 0;
}

static int new_watch(pid_t pid, int thread)
{
	pid_t tgid = pid;
	long r;
	int leader_zombie = 0;
	if (thread) {
		/* any thread (pidfd_prepare: pid_has_task(PIDTYPE_PID)) */
		r = thread_tgid(pid);
		if (r < 0)
			return (int)r;
		tgid = (pid_t)r;
	} else {
		/* A process, not a thread: tgkill(pid, pid) finds only a
		 * thread-group leader. EPERM means it exists but we may not
		 * signal it: fine. */
		r = sf_sys3(SF_NR_tgkill, pid, pid, 0);
		if (r < 0 && r != -EPERM)
			return r == -ESRCH && sf_sys2(SF_NR_kill, pid, 0) != -ESRCH
				       ? -ENOENT
				       : (int)r;
	}
	int idx = watch_alloc();
	if (idx < 0)
		return idx;
	struct sf_watch *w = &watches[idx];
	w->pid = pid;
	w->thread = thread;
	w->tgid = tgid;
	r = evfd_make(idx, !thread);
	if (r == 0 && thread && own_thread(w->evfd, pid) < 0) {
		sf_sys1(SF_NR_close, w->evfd);
		w->evfd = -1;
		r = -ESRCH_GONE;
	}
	if (r < 0) {
		watch_unalloc();
		return r == -ESRCH_GONE ? -ESRCH : (int)r;
	}
	w->gen++;
	w->nfds = 0;
	w->waiter = -1;
	w->starttime = 0;
	w->pinned = 0;
	w->nsentry = 0;
	w->foreign = 0;
	w->state = SF_W_LIVE;
	exitinfo_reset(w);
	hash_insert(idx);

	siginfo_t si = {0};
	/* a thread is watched as another process is: its own exit, not
	 * its group's, makes it readable */
	r = thread ? -ECHILD : sf_sys5(SF_NR_waitid, P_PID, pid, &si,
				       WEXITED | WNOHANG | WNOWAIT | __WALL, 0);
	w->is_child = r == 0;
	if (w->is_child) {
		if (si.si_pid == pid) { /* already a zombie */
			exitinfo_note(w, sf_wait_status(&si));
			pidtab_mark_exited(w);
		}
	} else {
		char state = 0;
		/* A zombie leader has exited only with its whole group (a
		 * thread pidfd: that thread alone), as nonchild_gone tells:
		 * num_threads (field 20) counts the threads not yet
		 * released. */
		if (proc_stat(pid, &w->starttime, &state) == 0 && state == 'Z') {
			if (thread || proc_stat_field(pid, 20) <= 1) {
				exitinfo_note_proc(w);
				pidtab_mark_exited(w);
			} else {
				leader_zombie = 1;
			}
		}
	}
	if (w->state == SF_W_LIVE) {
		r = monitor_watch(idx);
		if (r < 0) {
			watch_free(idx);
			/* No helper thread (RLIMIT_NPROC, memory): pidfd_open(2)
			 * knows ENOMEM for a resource it cannot have, never
			 * EAGAIN. */
			return r == -EAGAIN ? -ENOMEM : (int)r;
		}
		if (leader_zombie)
			monitor_leader_zombie(idx);
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
	claim_fd((int)ep);
	int thread = (flags & PIDFD_THREAD) != 0;
	int idx = pid ? find_watch(pid, thread) : -1;
	int fresh = idx < 0;
	if (fresh) {
		idx = pid ? new_watch(pid, thread) : gone_watch(thread);
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
	if (r == 0)
		r = sf_sys3(SF_NR_fcntl, ep, F_SETSIG, TAG_PIDFD);
	if (r < 0) {
		sf_sys1(SF_NR_close, ep);
		if (fresh && w->state != SF_W_LIVE)
			watch_free(idx); /* a live one stays: its waiter holds it */
		return (int)r;
	}
	if (!pid)
		; /* gone: F_GETOWN 0, as once reaped */
	else if (thread) /* F_SETOWN of a non-leader's pid: F_GETOWN 0 */
		own_thread((int)ep, pid);
	else
		sf_sys3(SF_NR_fcntl, ep, F_SETOWN, pid); /* fails only once reaped */
	sentry_add((int)ep, idx);
	map_fd((int)ep, idx);
	return (int)ep;
}

/* Exited watches that a pidfd file still refers to get SEEN = gc_pass:
 * their pidfds are readable, so the sentry lists them. Returns 0 when the
 * whole ready list was seen, -1 if not (then nothing may be freed). */
static uint32_t gc_pass;
static int sentry_scan(void)
{
	static struct epoll_event ev[256]; /* lock held */
	uint64_t first = 0;
	for (int round = 0; round < 4096; round++) {
		long n = sf_syscall6(SF_NR_epoll_wait, sentry_fd(), (long)ev, 256,
				     0, 0, 0);
		if (n < 0)
			return -1;
		for (long k = 0; k < n; k++) {
			uint64_t d = ev[k].data.u64;
			if (round && d == first)
				return 0; /* round the list once */
			int idx = (int)(d & 0xffff);
			if (d >> 48 == 0x5f5e && idx < pt.nwatches_hi)
				watches[idx].seen = gc_pass;
		}
		/* A full batch: the level-triggered list turns (reported
		 * entries go to its tail); go on until the first comes back. */
		if (n < 256)
			return 0;
		if (!round)
			first = ev[0].data.u64;
	}
	return -1;
}

static int collectable(const struct sf_watch *w)
{
	return (w->state == SF_W_EXITED || w->state == SF_W_REAPED) &&
	       w->nfds <= 0 && w->waiter < 0 && !w->pinned;
}

void pidtab_gc(void)
{
	for (int fd = 0; fd < pt.fdmap_hi; fd++) {
		int idx = pt.fdmap[fd] - 1;
		if (idx < 0)
			continue;
		if (!holds(fd, idx) && orphaned_pidfd(fd, idx) < 0)
			map_fd(fd, -1);
	}
	int cand = 0, used = 0;
	for (int i = 0; i < pt.nwatches_hi; i++) {
		used += watches[i].state != SF_W_FREE;
		cand += collectable(&watches[i]);
	}
	if (cand) {
		/* No sentry (and none lost, which pins every watch): no
		 * pidfd of these watches is left. */
		gc_pass++;
		if (!sentry_ok() || sentry_scan() == 0)
			for (int i = 0; i < pt.nwatches_hi; i++)
				if (collectable(&watches[i]) &&
				    watches[i].seen != gc_pass) {
					watch_free(i);
					used--;
				}
	}
	if (!used && sentry_ok()) {
		/* No watch left: nothing of ours stays in the fd table. */
		if (link_is(sentry_fd(), "anon_inode:[eventpoll]"))
			sf_sys1(SF_NR_close, sentry_fd());
		pt.sentry = 0;
	}
}

/* This fork child is in a pid namespace below its parent's (its parent
 * has no pid here: getppid 0, after unshare(CLONE_NEWPID), clone with
 * CLONE_NEWPID or setns): the table it inherited names processes by the
 * parent's numbers. A watch's eventfd owner (F_GETOWN, pid_vnr) is its
 * process's number here, 0 if it has none here (a fresh namespace holds
 * nothing else yet; in one joined by setns a reaped member reads as
 * outside too): renumbered, or foreign. Its start time, for the fdinfo
 * of a /proc mount of the parent's namespace (shim/fdinfo.c), is read
 * now, while /proc is the parent's. Single-threaded, nothing started. */
static void table_moved(void)
{
	for (int i = 0; i < pt.nwatches_hi; i++) {
		struct sf_watch *w = &watches[i];
		if (w->state == SF_W_FREE || w->foreign)
			continue;
		long own = -1;
		if (w->evfd >= 0 &&
		    sf_sys2(SF_NR_fcntl, w->evfd, F_GETSIG) == TAG_EVFD)
			own = sf_sys2(SF_NR_fcntl, w->evfd, F_GETOWN);
		hash_remove(i);
		/* a thread's group number here is not known: foreign */
		if (own > 0 && (!w->thread || w->tgid == w->pid)) {
			w->pid = w->tgid = (pid_t)own;
			hash_insert(i);
			continue;
		}
		w->foreign = 1;
		if (!w->starttime && w->state != SF_W_REAPED &&
		    proc_stat_in("/proc", w->pid, &w->starttime, 0) < 0)
			w->starttime = 0;
	}
}

int pidtab_moved(void)
{
	return moved;
}

void pidtab_atfork_child(void)
{
	pt.lock_word = 0;
	if (pt.nwatches_hi && sf_sys0(SF_NR_getppid) == 0) {
		table_moved();
		moved = 1;
	}
}
