/* Trace mode's pidfd object, as the library's: an epoll fd holding an
 * eventfd the supervisor writes at the exit, made by the supervisor and
 * passed to the tracee over a unix socket (a pipe where the tracee cannot
 * reach that socket); its identity, the exits of the processes behind
 * it, and pidfd_open. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "trace.h"

/* ---- emulated pidfds -------------------------------------------------- */

struct watch *watches;
int nwatches, watch_cap, nused;

static struct watch *watch_find(dev_t dev, ino_t ino)
{
	for (int i = 0; i < nwatches; i++)
		if (watches[i].used && watches[i].kind == TW_PIPE &&
		    watches[i].ino == ino && watches[i].dev == dev)
			return &watches[i];
	return NULL;
}

/* The cookie of a TW_EPOLL watch: a random base, a serial, and the slot
 * in the low bits (found without a search). */
#define COOKIE_SLOT_BITS 24
#define COOKIE_SLOT_MASK ((1ULL << COOKIE_SLOT_BITS) - 1)
static uint64_t cookie_base, cookie_serial;

static struct watch *watch_by_cookie(uint64_t ck)
{
	uint64_t i = ck & COOKIE_SLOT_MASK;
	if (i >= (uint64_t)nwatches || !watches[i].used ||
	    watches[i].kind != TW_EPOLL || watches[i].cookie != ck)
		return NULL;
	return &watches[i];
}

struct watch *watch_new(void)
{
	if (nwatches >= (int)COOKIE_SLOT_MASK)
		return NULL;
	nused++;
	for (int i = 0; i < nwatches; i++)
		if (!watches[i].used)
			return memset(&watches[i], 0, sizeof watches[i]);
	if (nwatches == watch_cap) {
		int cap = watch_cap ? watch_cap * 2 : 64;
		struct watch *n = realloc(watches, (size_t)cap * sizeof *n);
		if (!n) {
			nused--;
			return NULL;
		}
		watches = n;
		watch_cap = cap;
	}
	return memset(&watches[nwatches++], 0, sizeof *watches);
}

void watch_fire(struct watch *w)
{
	if (w->exited)
		return;
	w->exited = 1;
	uint64_t one = 1;
	if (w->kind == TW_EPOLL) {
		if (write(w->wfd, &one, sizeof one) < 0) {
		} /* cannot fail: a count of 1 */
	} else if (write(w->wfd, "x", 1) < 0) {
	} /* EPIPE: nobody holds the pidfd any more */
}

void watch_free(struct watch *w)
{
	close(w->wfd);
	if (w->statfd >= 0)
		close(w->statfd);
	w->used = 0;
	nused--;
}

/* Exit of traced task gpid (reported to us with wait STATUS): its
 * pidfds become ready and keep the exit (the engine's exitinfo rules),
 * with the cgroup it died in (once reaped, the one seen at pidfd_open). */
void watches_exit(pid_t gpid, int status)
{
	int cg_read = 0;
	uint64_t cg = 0;
	for (int i = 0; i < nwatches; i++) {
		struct watch *w = &watches[i];
		if (!w->used || !w->traced || w->gpid != gpid)
			continue;
		if (!w->ex.exit_known) {
			if (!cg_read++)
				cg = sf_cgroup2_id(gpid);
			exitinfo_note_cg(&w->ex, status, cg);
		}
		watch_fire(w);
	}
}

/* ---- the supervisor's socket ------------------------------------------
 * A TW_EPOLL pidfd is made here (an epoll holding our eventfd, tagged
 * F_SETSIG SF_TAG_PIDFD and F_SETOWN its process as the library's are)
 * and reaches the tracee by SCM_RIGHTS: each traced process gets, the
 * first time, a unix stream socket connected to our listening one at an
 * abstract address, moved above the numbers the program uses; a pidfd is
 * then one injected recvmsg, which takes the lowest free number as the
 * kernel's pidfd_open does. The socket is checked (its inode, through
 * /proc) before each use: a program that closed or replaced it, an exec
 * (O_CLOEXEC), gets a new one. Every pidfd file we made is in the
 * sentry epoll (level-triggered, data = its cookie): an epoll's
 * registration lives as long as the file, so once a watch has exited, the
 * sentry lists it as long as some process still holds one of its pidfds
 * (watches_tick frees the others). */
static int lsock = -2; /* the listening socket, -1 none */
static struct sockaddr_un laddr;
static socklen_t laddr_len;
static int sentry = -1;

struct tsock {
	ino_t ino; /* of the tracee's end: socket:[ino] */
	int fd;    /* its number in the tracee(s) */
	int conn;  /* our end, -1: slot free */
};
static struct tsock *socks;
static int nsocks;

static int sock_setup(void)
{
	if (lsock != -2)
		return lsock;
	lsock = -1;
	uint64_t rnd[2] = {0, 0};
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, rnd, sizeof rnd) < 0) {
		} /* the pid and the clock below still differ per run */
		close(fd);
	}
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	rnd[0] ^= (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL;
	cookie_base = rnd[1] & ~COOKIE_SLOT_MASK;
	sentry = epoll_create1(EPOLL_CLOEXEC);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0 || sentry < 0) {
		if (s >= 0)
			close(s);
		return -1;
	}
	memset(&laddr, 0, sizeof laddr);
	laddr.sun_family = AF_UNIX;
	int n = snprintf(laddr.sun_path + 1, sizeof laddr.sun_path - 1,
			 "sysfill-trace-%d-%016llx", (int)getpid(),
			 (unsigned long long)rnd[0]);
	laddr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
	if (bind(s, (struct sockaddr *)&laddr, laddr_len) < 0 ||
	    listen(s, 64) < 0) {
		tlog(1, "no socket for pidfds (%s): pidfds are pipes",
		     strerror(errno));
		close(s);
		return -1;
	}
	return lsock = s;
}

/* The inode of the socket at the tracee's FD, 0 if it holds none. */
static ino_t sock_ino(pid_t tid, int fd)
{
	char path[64], buf[64];
	snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)tid, fd);
	ssize_t n = readlink(path, buf, sizeof buf - 1);
	if (n <= 8)
		return 0;
	buf[n] = 0;
	if (strncmp(buf, "socket:[", 8))
		return 0;
	return (ino_t)strtoull(buf + 8, NULL, 10);
}

static void sock_drop(struct tsock *k)
{
	close(k->conn);
	k->conn = -1;
}

/* The tracee's socket slot if TID holds it. */
static struct tsock *sock_held(pid_t tid, int slot)
{
	if (slot < 0 || slot >= nsocks || socks[slot].conn < 0)
		return NULL;
	struct tsock *k = &socks[slot];
	return sock_ino(tid, k->fd) == k->ino ? k : NULL;
}

/* Where C's tracee's internal fds go: above 3/4 of its soft
 * RLIMIT_NOFILE, at most 1024 (as the library's, sf_fd_hide). Asked of
 * the tracee (gVisor has no /proc/PID/limits). */
static long hidden_base(struct call *c)
{
	struct rlimit rl;
	uintptr_t s = scratch(c, sizeof rl);
	if (tsys(c, SF_NR_prlimit64, 0, RLIMIT_NOFILE, 0, (long)s, 0, 0) < 0 ||
	    mem_rw(c->tid, s, &rl, sizeof rl, 0) < 0)
		return -1;
	long top = rl.rlim_cur > 1024 ? 1024 : (long)rl.rlim_cur;
	return top - top / 4;
}

/* A new socket in C's tracee, connected to ours. NULL if it cannot be. */
static struct tsock *sock_new(struct call *c, int *lasting)
{
	*lasting = 0;
	long base = hidden_base(c);
	if (base < 4 || sock_setup() < 0)
		return NULL;
	long s = tsys(c, SF_NR_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
		      0, 0, 0);
	/* refused for good (a filter, no AF_UNIX), or a full fd table */
	*lasting = s < 0 && s != -EMFILE && s != -ENFILE && s != -ENOMEM;
	if (s < 0)
		return NULL;
	/* The connection is told from others to our address (any process
	 * of the network namespace may connect; gVisor's SO_PEERCRED on an
	 * accepted socket names the listener) by a nonce the tracee writes. */
	uint64_t nonce[2] = {cookie_base ^ (uint64_t)c->tid,
			     ++cookie_serial * 0x9e3779b97f4a7c15ULL};
	uintptr_t a = scratch(c, sizeof laddr + sizeof nonce);
	long r = mem_rw(c->tid, a, &laddr, laddr_len, 1);
	if (r == 0)
		r = mem_rw(c->tid, a + sizeof laddr, nonce, sizeof nonce, 1);
	if (r == 0)
		r = tsys(c, SF_NR_connect, s, (long)a, laddr_len, 0, 0, 0);
	/* another network namespace than ours: not our address */
	*lasting = r == -ECONNREFUSED || r == -ENOENT || r == -EACCES ||
		   r == -EPERM;
	if (r == 0 && tsys(c, SF_NR_write, s, (long)(a + sizeof laddr),
			   sizeof nonce, 0, 0, 0) != sizeof nonce)
		r = -EIO;
	int conn = -1;
	while (r == 0) {
		conn = accept4(lsock, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (conn < 0)
			break;
		uint64_t got[2];
		if (recv(conn, got, sizeof got, MSG_DONTWAIT) == sizeof got &&
		    !memcmp(got, nonce, sizeof got))
			break;
		close(conn);
		conn = -1;
	}
	long h = conn >= 0 ? tsys(c, SF_NR_fcntl, s, F_DUPFD_CLOEXEC, base, 0, 0, 0)
			   : -EBADF;
	if (!c->gone)
		tsys(c, SF_NR_close, s, 0, 0, 0, 0, 0);
	ino_t ino = h >= 0 && !c->gone ? sock_ino(c->tid, (int)h) : 0;
	if (!ino) {
		if (conn >= 0)
			close(conn);
		if (h >= 0 && !c->gone)
			tsys(c, SF_NR_close, h, 0, 0, 0, 0, 0);
		tlog(2, "[%d] no socket for pidfds: pipe pidfds", (int)c->tid);
		return NULL;
	}
	int slot = 0;
	while (slot < nsocks && socks[slot].conn >= 0)
		slot++;
	if (slot == nsocks) {
		struct tsock *n = realloc(socks, (size_t)(nsocks + 16) * sizeof *n);
		if (!n) {
			close(conn);
			tsys(c, SF_NR_close, h, 0, 0, 0, 0, 0);
			return NULL;
		}
		socks = n;
		for (int i = nsocks; i < nsocks + 16; i++)
			socks[i].conn = -1;
		nsocks += 16;
	}
	socks[slot] = (struct tsock){.ino = ino, .fd = (int)h, .conn = conn};
	return &socks[slot];
}

/* C's tracee's socket: the one it holds (made for it or inherited), or a
 * new one; NULL if it cannot have one (then pidfds are pipes). */
static struct tsock *tracee_sock(struct call *c)
{
	struct task *t = task_find(c->tid);
	if (t && t->nosock)
		return NULL;
	struct tsock *k = t ? sock_held(c->tid, t->sock_slot - 1) : NULL;
	/* a fork child holds its parent's, at the same number */
	for (int i = 0; !k && i < nsocks; i++)
		k = sock_held(c->tid, i);
	int lasting = 0;
	if (!k && !(k = sock_new(c, &lasting)) && t && !c->gone && lasting)
		t->nosock = 1;
	if (k && t)
		t->sock_slot = (int)(k - socks) + 1;
	return k;
}

/* Drop the sockets no tracee holds any more (exec, exit). */
static void socks_tick(void)
{
	for (int i = 0; i < nsocks; i++) {
		if (socks[i].conn < 0)
			continue;
		struct pollfd p = {.fd = socks[i].conn, .events = POLLIN};
		if (poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLIN)))
			sock_drop(&socks[i]);
	}
}

/* Send pidfd file EP through K and receive it in C's tracee (the lowest
 * free number, O_CLOEXEC). Returns the tracee's fd or -errno. */
static long sock_pass(struct call *c, struct tsock *k, int ep)
{
	char byte = 0;
	struct iovec iov = {&byte, 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof u);
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1,
			   .msg_control = u.buf, .msg_controllen = sizeof u.buf};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &ep, sizeof ep);
	if (sendmsg(k->conn, &m, MSG_NOSIGNAL | MSG_DONTWAIT) != 1) {
		sock_drop(k);
		return -ENOMEM;
	}
	/* the tracee's side: msghdr, iovec, control, byte */
	struct {
		struct msghdr m;
		struct iovec iov;
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} u;
		char byte;
	} t;
	uintptr_t s = scratch(c, sizeof t);
	memset(&t, 0, sizeof t);
	t.iov.iov_base = (void *)(s + offsetof(__typeof__(t), byte));
	t.iov.iov_len = 1;
	t.m.msg_iov = (struct iovec *)(s + offsetof(__typeof__(t), iov));
	t.m.msg_iovlen = 1;
	t.m.msg_control = (void *)(s + offsetof(__typeof__(t), u));
	t.m.msg_controllen = sizeof t.u.buf;
	if (mem_rw(c->tid, s, &t, sizeof t, 1) < 0)
		return -EFAULT; /* cannot happen: the stack */
	long r = tsys(c, SF_NR_recvmsg, k->fd, (long)s,
		      MSG_CMSG_CLOEXEC | MSG_DONTWAIT, 0, 0, 0);
	if (r != 1 || mem_rw(c->tid, s, &t, sizeof t, 0) < 0) {
		/* the message may still wait there: never use K again */
		if (!c->gone)
			tsys(c, SF_NR_close, k->fd, 0, 0, 0, 0, 0);
		sock_drop(k);
		return r < 0 && r != -EAGAIN ? r : -ENOMEM;
	}
	int fd = -1;
	if (t.m.msg_controllen >= CMSG_LEN(sizeof(int)) &&
	    t.u.align.cmsg_level == SOL_SOCKET &&
	    t.u.align.cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(&t.u.align), sizeof fd);
	/* no room in its fd table: the kernel dropped the fd (MSG_CTRUNC) */
	return fd >= 0 ? fd : -EMFILE;
}

/* A TW_EPOLL pidfd for W in C's tracee through K: the fd or -errno. */
static long epoll_pidfd(struct call *c, struct tsock *k, struct watch *w)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int ev = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	w->cookie = cookie_base + (++cookie_serial << COOKIE_SLOT_BITS) +
		    (uint64_t)(w - watches);
	struct epoll_event e = {.events = EPOLLIN, .data.u64 = w->cookie};
	if (ep < 0 || ev < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e) < 0 ||
	    epoll_ctl(sentry, EPOLL_CTL_ADD, ep, &e) < 0) {
		/* our own EMFILE is not the tracee's */
		if (ep >= 0)
			close(ep);
		if (ev >= 0)
			close(ev);
		return -ENOMEM;
	}
	fcntl(ep, F_SETSIG, SF_TAG_PIDFD);
	/* 0 for F_GETOWN once reaped; a thread's as the library's (its
	 * F_GETOWN_EX type tells a thread pidfd of a leader) */
	struct f_owner_ex own = {F_OWNER_TID, w->gpid};
	if (w->gpid > 0 && w->thread)
		fcntl(ep, F_SETOWN_EX, &own);
	else if (w->gpid > 0)
		fcntl(ep, F_SETOWN, w->gpid);
	if (w->nonblock)
		fcntl(ep, F_SETFL, O_NONBLOCK);
	long fd = sock_pass(c, k, ep);
	close(ep);
	if (fd < 0) {
		close(ev);
		return fd;
	}
	w->kind = TW_EPOLL;
	w->wfd = ev;
	return fd;
}

/* Periodic gc of the exited TW_EPOLL watches: free those whose pidfd
 * files are all gone (the sentry lists the others). */
static void sentry_tick(void)
{
	int n = 0;
	for (int i = 0; i < nwatches; i++)
		if (watches[i].used && watches[i].kind == TW_EPOLL &&
		    watches[i].exited) {
			watches[i].seen = 0;
			n++;
		}
	if (!n)
		return;
	struct epoll_event *ev = malloc((size_t)(n + 1) * sizeof *ev);
	if (!ev)
		return;
	int r = epoll_wait(sentry, ev, n + 1, 0);
	for (int i = 0; i < r; i++) {
		struct watch *w = watch_by_cookie(ev[i].data.u64);
		if (w)
			w->seen = 1;
	}
	free(ev);
	if (r < 0)
		return;
	for (int i = 0; i < nwatches; i++)
		if (watches[i].used && watches[i].kind == TW_EPOLL &&
		    watches[i].exited && !watches[i].seen)
			watch_free(&watches[i]);
}

/* Fields of a /proc/PID/stat text: state, pgrp, starttime. 0 or -errno. */
static int parse_stat(const char *buf, char *state, pid_t *pgrp,
		      uint64_t *start)
{
	const char *p = strrchr(buf, ')');
	if (!p || !p[1] || !p[2])
		return -EIO;
	p += 2;
	if (state)
		*state = *p;
	int field = 3;
	long pg = 0;
	while (*p && field < 22) {
		if (*p++ == ' ') {
			field++;
			if (field == 5)
				pg = strtol(p, NULL, 10);
		}
	}
	if (pgrp)
		*pgrp = (pid_t)pg;
	if (start)
		*start = strtoull(p, NULL, 10);
	return 0;
}

static uint64_t stat_start(const char *path);

static int read_stat_fd(int fd, char *state, pid_t *pgrp, uint64_t *start)
{
	char buf[1024];
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	if (n <= 0)
		return -ESRCH;
	buf[n] = 0;
	return parse_stat(buf, state, pgrp, start);
}

/* Is the process behind w gone for good (reaped)? A traced process that
 * has not exited cannot be (we would have reaped its exit report first). */
int watch_reaped(struct watch *w)
{
	if (w->traced && !w->exited)
		return 0;
	if (w->statfd < 0) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/stat", (int)w->gpid);
		w->statfd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
		if (w->statfd < 0)
			return 1;
	}
	uint64_t st;
	char state;
	if (read_stat_fd(w->statfd, &state, NULL, &st) < 0 ||
	    st != w->starttime)
		return 1;
	/* gVisor: an open stat file of a reaped process still reads, as
	 * the zombie it was: a zombie's is looked up anew */
	if (state == 'Z' || state == 'X') {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/stat", (int)w->gpid);
		return stat_start(path) != w->starttime;
	}
	return 0;
}

/* Periodic: exits of untraced processes; drop pidfds nobody holds. */
void watches_tick(void)
{
	for (int i = 0; i < nwatches; i++) {
		struct watch *w = &watches[i];
		if (!w->used)
			continue;
		struct pollfd p = {.fd = w->wfd, .events = 0};
		if (w->kind == TW_PIPE && poll(&p, 1, 0) == 1 &&
		    (p.revents & (POLLERR | POLLHUP))) {
			watch_free(w);
			continue;
		}
		/* a traced process's exit is reported to us; a thread's too,
		 * but a leader thread's only with its group's */
		if (w->exited || (w->traced && !w->thread))
			continue;
		/* the engine's rule: a zombie leader whose threads run has not
		 * exited yet (a thread pidfd of it has) */
		char buf[1024];
		int lz = 0;
		ssize_t n = pread(w->statfd, buf, sizeof buf - 1, 0);
		if (n > 0)
			buf[n] = 0;
		if (n <= 0 || proc_stat_gone(buf, w->starttime, &lz) != 0 ||
		    (lz && w->thread)) {
			if (!w->traced)
				exitinfo_note_proc(&w->ex); /* a zombie's code */
			watch_fire(w);
		}
	}
	sentry_tick();
	socks_tick();
}

/* ---- resolving a tracee's fd ------------------------------------------ */

/* The TW_EPOLL watch of epoll fd FD of C's tracee: natively its fdinfo
 * lists our eventfd's registration with the watch's cookie; gVisor lists
 * none, and there the tags on the file tell (F_GETSIG ours, F_GETOWN_EX
 * the process or thread, 0 once reaped: then the ready event of an
 * exited watch's eventfd carries its cookie; else *GONE). *NONBLOCK (if
 * not NULL) gets the file's O_NONBLOCK from that fdinfo. */
static struct watch *resolve_epoll(struct call *c, int fd, int *gone,
				   int *nonblock)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", (int)c->tid, fd);
	if (proc_read(path, buf, sizeof buf) <= 0)
		return NULL;
	uint64_t fl;
	if (nonblock && proc_status_field(buf, "flags", &fl, 1, 8) == 1)
		*nonblock = !!(fl & O_NONBLOCK);
	char *t = strstr(buf, "\ntfd:");
	if (t) {
		if (strstr(t + 1, "\ntfd:"))
			return NULL; /* ours hold one registration */
		char *d = strstr(t, " data: ");
		return d ? watch_by_cookie(strtoull(d + 7, NULL, 16)) : NULL;
	}
	if (strstr(buf, "pos:") || c->gone)
		return NULL; /* Linux: an epoll that holds nothing */
	if (tsys(c, SF_NR_fcntl, fd, F_GETSIG, 0, 0, 0, 0) != SF_TAG_PIDFD)
		return NULL;
	struct f_owner_ex own = {0, 0};
	struct epoll_event ev;
	uintptr_t s = scratch(c, sizeof own > sizeof ev ? sizeof own : sizeof ev);
	if (tsys(c, SF_NR_fcntl, fd, F_GETOWN_EX, (long)s, 0, 0, 0) < 0 ||
	    mem_rw(c->tid, s, &own, sizeof own, 0) < 0)
		return NULL;
	struct watch *found = NULL;
	int thread = own.type == F_OWNER_TID;
	for (int i = 0; own.pid > 0 && i < nwatches; i++)
		if (watches[i].used && watches[i].kind == TW_EPOLL &&
		    watches[i].pid == own.pid && watches[i].thread == thread)
			found = &watches[i]; /* the same process for all */
	if (own.pid == 0 &&
	    tsys(c, SF_NR_epoll_pwait, fd, (long)s, 1, 0, 0, 8) == 1 &&
	    mem_rw(c->tid, s, &ev, sizeof ev, 0) == 0)
		found = watch_by_cookie(ev.data.u64);
	if (own.pid == 0 && !found && gone)
		*gone = 1;
	return found;
}

/* The last watch each (task, fd) was found to be, checked again with
 * kcmp(KCMP_EPOLL_TFD): is the tracee's fd an epoll that holds our
 * eventfd's registration? One call where the fdinfo read takes a
 * readlink, an open and a read (make bench, same CPU: pidfd_send_signal
 * 41 -> 21 times native, waitid WNOHANG 55 -> 27). Not in gVisor (no
 * kcmp): the fdinfo way there. A wait that needs the file's O_NONBLOCK
 * reads the fdinfo. */
#define RCACHE 512
static struct {
	pid_t tid;
	int fd, idx;
} rcache[RCACHE];
static int kcmp_works = 1;

static unsigned rcache_slot(pid_t tid, int fd)
{
	return ((unsigned)tid * 2654435761u ^ (unsigned)fd) % RCACHE;
}

static struct watch *rcache_hit(pid_t tid, int fd)
{
	unsigned h = rcache_slot(tid, fd);
	if (!kcmp_works || rcache[h].tid != tid || rcache[h].fd != fd ||
	    rcache[h].idx >= nwatches)
		return NULL;
	struct watch *w = &watches[rcache[h].idx];
	if (!w->used || w->kind != TW_EPOLL || w->wfd < 0)
		return NULL;
	static pid_t self;
	if (!self)
		self = getpid();
	struct {
		uint32_t efd, tfd, toff;
	} slot = {(uint32_t)fd, (uint32_t)w->wfd, 0};
	long r = syscall(SYS_kcmp, self, tid, 7 /* KCMP_EPOLL_TFD */, w->wfd,
			 &slot);
	if (r < 0 && (errno == ENOSYS || errno == EPERM || errno == EOPNOTSUPP))
		kcmp_works = 0;
	return r == 0 ? w : NULL;
}

static void rcache_put(pid_t tid, int fd, struct watch *w)
{
	unsigned h = rcache_slot(tid, fd);
	rcache[h].tid = tid;
	rcache[h].fd = fd;
	rcache[h].idx = (int)(w - watches);
}

static struct watch *resolve_fd_slow(struct call *c, long fd, pid_t *procdir,
				     int *gone, int *nonblock);

/* The emulated pidfd behind the tracee's fd, NULL if it is none. If it is
 * a /proc/<pid> directory and procdir is non-NULL, *procdir gets the pid
 * (0 otherwise). */
struct watch *resolve_fd(struct call *c, long fd, pid_t *procdir, int *gone,
			 int *nonblock)
{
	if (procdir)
		*procdir = 0;
	if (fd < 0 || fd > INT_MAX)
		return NULL;
	/* the file's O_NONBLOCK is in its fdinfo only */
	struct watch *w = nonblock ? NULL : rcache_hit(c->tid, (int)fd);
	if (w)
		return w;
	w = resolve_fd_slow(c, fd, procdir, gone, nonblock);
	if (w && w->kind == TW_EPOLL)
		rcache_put(c->tid, (int)fd, w);
	return w;
}

static struct watch *resolve_fd_slow(struct call *c, long fd, pid_t *procdir,
				     int *gone, int *nonblock)
{
	pid_t tid = c->tid;
	char path[64], link[PATH_MAX];
	snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)tid, (int)fd);
	ssize_t n = readlink(path, link, sizeof link - 1);
	if (n <= 0)
		return NULL;
	link[n] = 0;
	if (!strcmp(link, "anon_inode:[eventpoll]"))
		return resolve_epoll(c, (int)fd, gone, nonblock);
	struct stat st;
	if (!strncmp(link, "pipe:[", 6))
		return stat(path, &st) == 0 && S_ISFIFO(st.st_mode)
			       ? watch_find(st.st_dev, st.st_ino)
			       : NULL;
	if (!procdir || n <= 6)
		return NULL;
	char *del = strstr(link, " (deleted)");
	if (del && !del[10])
		*del = 0;
	if (strncmp(link, "/proc/", 6))
		return NULL;
	long pid = 0;
	for (char *p = link + 6; *p; p++) {
		if (*p < '0' || *p > '9' || pid > INT_MAX / 10)
			return NULL;
		pid = pid * 10 + (*p - '0');
	}
	*procdir = (pid_t)pid;
	/* The directory outlives its process: still there? */
	char sp[80];
	snprintf(sp, sizeof sp, "%s/stat", path);
	if (access(sp, F_OK) < 0)
		*procdir = -1;
	return NULL;
}

/* ---- the emulated calls ------------------------------------------------ */


/* Number of entries of the NSpid line of /proc/PID/status (the depth of
 * its pid namespace), 0 if there is none (gVisor), -1 if unreadable. */
static int nspid_depth(pid_t pid)
{
	long v[33];
	return trace_nspid(pid, v, 33);
}

/* The start time (field 22) in the stat file at PATH, 0 if unreadable. */
static uint64_t stat_start(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
	uint64_t st = 0;
	if (fd >= 0) {
		if (read_stat_fd(fd, NULL, NULL, &st) < 0)
			st = 0;
		close(fd);
	}
	return st;
}

/* Is DIR a /proc of TID's own pid namespace: is TID there under the
 * number its namespace gives it (the last of its NSpid line)? A tracee
 * that unshared its pid namespace and kept its parent's /proc sees the
 * numbers of another namespace there. */
static int view_is_own(pid_t tid, const char *dir)
{
	long v[33];
	int n = trace_nspid(tid, v, 33);
	if (n <= 0)
		return 0;
	char path[128];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)tid);
	uint64_t a = stat_start(path);
	snprintf(path, sizeof path, "%s/%ld/stat", dir, v[n - 1]);
	return a && a == stat_start(path);
}

/* /proc as the tracee sees it: ours, unless it is in a deeper pid
 * namespace (then its root's /proc, which it mounted; if it did not, a
 * path that opens nothing: the engine then finds no process rather than
 * another namespace's). A task's pid namespace is its own for life: its
 * depth is read once per traced task. */
void proc_view(pid_t tid, char *buf, size_t len)
{
	static int mine = -1;
	if (mine < 0) {
		int d = nspid_depth(getpid());
		mine = d > 0 ? d : 0;
	}
	struct task *k = task_find(tid);
	int depth = k && k->nsdepth ? k->nsdepth - 1 : -1;
	int own = k ? k->nsview : 0;
	if (mine && depth < 0) {
		depth = nspid_depth(tid);
		if (depth > mine) {
			snprintf(buf, len, "/proc/%d/root/proc", (int)tid);
			own = view_is_own(tid, buf) ? 1 : -1;
		}
		if (k && depth >= 0) {
			k->nsdepth = depth + 1;
			k->nsview = own;
		}
	}
	if (mine && depth > mine)
		snprintf(buf, len, own > 0 ? "/proc/%d/root/proc" :
			 "/proc/%d/root/proc/.sysfill-not-this-pid-namespace",
			 (int)tid);
	else
		snprintf(buf, len, "/proc");
}

/* A new emulated pidfd for PID (as the tracee of C names it) with FLAGS
 * (PIDFD_NONBLOCK) in C's tracee. Returns the tracee's fd or -errno. */
/* Is the exit report of traced process PID still ours to take (so that
 * its parent cannot reap it yet)? */
static int exit_report_pending(pid_t pid)
{
	siginfo_t si;
	memset(&si, 0, sizeof si);
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) ==
		       0 &&
	       si.si_pid == pid;
}

/* A TW_PIPE pidfd for W in C's tracee: the fd or -errno. */
static long pipe_pidfd(struct call *c, struct watch *w)
{
	uintptr_t s = scratch(c, 8);
	long r = tsys(c, SF_NR_pipe2, (long)s, O_CLOEXEC | O_NONBLOCK, 0, 0, 0, 0);
	if (r < 0)
		return r;
	int pfd[2];
	if (mem_rw(c->tid, s, pfd, sizeof pfd, 0) < 0)
		return -EFAULT; /* cannot happen: stack */
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)c->tid, pfd[1]);
	int wfd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	long res = pfd[0];
	if (wfd < 0 || fstat(wfd, &st) < 0) {
		res = -ENOMEM; /* our own failure is not the tracee's */
		if (wfd >= 0)
			close(wfd);
		tsys(c, SF_NR_close, pfd[0], 0, 0, 0, 0, 0);
	} else {
		w->kind = TW_PIPE;
		w->dev = st.st_dev;
		w->ino = st.st_ino;
		w->wfd = wfd;
	}
	tsys(c, SF_NR_close, pfd[1], 0, 0, 0, 0, 0);
	return res;
}

/* W's process is a zombie whose exit report we took already: its exit
 * as the library learns it (pidtab.c new_watch): a child's from a
 * WNOWAIT waitid its parent (C's tracee) makes, another's from /proc. */
static void zombie_exit_info(struct call *c, struct watch *w)
{
	siginfo_t si;
	uintptr_t s = scratch(c, sizeof si);
	long r = tsys(c, SF_NR_waitid, P_PID, w->pid, (long)s,
		      WEXITED | WNOHANG | WNOWAIT | __WALL, 0, 0);
	if (r == 0 && mem_rw(c->tid, s, &si, sizeof si, 0) == 0 &&
	    si.si_pid == w->pid)
		exitinfo_note_cg(&w->ex, sf_wait_status(&si), 0);
	else
		exitinfo_note_proc(&w->ex);
}

long trace_pidfd_new(struct call *c, pid_t pid, unsigned flags)
{
	char path[128], buf[2048];
	/* Our number for it: the same, unless the tracee is in a deeper pid
	 * namespace (tpidns.c); what cannot be told is no process. */
	int thread = !!(flags & PIDFD_THREAD);
	pid_t gpid = trace_ns_to_ours(c, pid, thread);
	if (gpid < 0) {
		static int warned;
		if (!warned++)
			tlog(1, "[%d] is in a pid namespace whose numbers "
			     "cannot be read here (no NSpid in /proc): its "
			     "pidfd_open gives ESRCH", (int)c->tid);
		return -ESRCH;
	}
	if (gpid == 0)
		return -ESRCH;
	snprintf(path, sizeof path, "/proc/%d/status", (int)gpid);
	if (proc_read(path, buf, sizeof buf) <= 0)
		return -ESRCH;
	char *t = strstr(buf, "\nTgid:");
	pid_t gtgid = t ? (pid_t)strtol(t + 6, NULL, 10) : gpid;
	if (gtgid != gpid) {
		/* A thread, not a process (pidfd_prepare: a PIDFD_THREAD
		 * pidfd may name one); one that has exited is gone (its
		 * ptrace exit report may still wait for us). */
		char *sl = strstr(buf, "\nState:");
		if (sl && (strchr("ZX", sl[8 + strspn(sl + 8, " \t")])))
			return -ESRCH;
		if (!thread)
			return -ENOENT;
	}
	/* the group as the tracee's namespace numbers it (NStgid) */
	pid_t tgid = gtgid;
	int lvl = gtgid != gpid ? trace_ns_level(c) : 0;
	if (lvl) {
		uint64_t v[33];
		int n = proc_status_field(buf, "NStgid", v, 33, 10);
		if (lvl < 0 || n <= lvl)
			return -ESRCH; /* cannot be told: refused, not guessed */
		tgid = (pid_t)v[lvl];
	}
	snprintf(path, sizeof path, "/proc/%d/stat", (int)gpid);
	int sfd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
	uint64_t start = 0;
	char state = 0;
	if (sfd < 0 || read_stat_fd(sfd, &state, NULL, &start) < 0 ||
	    state == 'X') {
		if (sfd >= 0)
			close(sfd);
		return -ESRCH;
	}
	struct watch *w = watch_new();
	if (!w) {
		close(sfd);
		return -ENOMEM;
	}
	w->used = 1;
	w->pid = pid;
	w->gpid = gpid;
	w->thread = thread;
	w->tgid = thread ? tgid : pid;
	w->gtgid = gtgid;
	/* No exit known yet. The cgroup id is read at the exit report of a
	 * traced process (a zombie then); the program's (our child, which
	 * our wait reaps) and an untraced one's (learnt after the reap,
	 * perhaps) now, as the library does for every pidfd. */
	w->traced = task_find(gpid) != NULL;
	w->ex.state = SF_W_LIVE;
	w->ex.pid = w->traced && gpid != main_pid ? 0 : gpid;
	exitinfo_reset(&w->ex);
	w->ex.pid = gpid;
	trace_ns_mark(c, w);
	w->starttime = start;
	w->nonblock = !!(flags & PIDFD_NONBLOCK);
	w->statfd = -1;
	w->wfd = -1;
	struct tsock *k = tracee_sock(c);
	long res = k ? epoll_pidfd(c, k, w) : c->gone ? -ESRCH : pipe_pidfd(c, w);
	if (res < 0) {
		w->used = 0;
		nused--;
		close(sfd);
		return res;
	}
	if (!w->traced || thread) {
		w->statfd = sfd;
		sfd = -1;
	}
	/* A traced zombie's exit report is still ours to take: the parent
	 * can reap it only after that (task_exited fires it). A zombie
	 * leader whose threads run has not exited (but as a thread). */
	int lz = 0;
	if (state == 'Z') {
		char sb[1024];
		ssize_t n = pread(w->statfd >= 0 ? w->statfd : sfd, sb,
				  sizeof sb - 1, 0);
		sb[n > 0 ? n : 0] = 0;
		if (n > 0)
			proc_stat_gone(sb, 0, &lz);
	}
	if (state == 'Z' && (thread || !lz) &&
	    !(w->traced && exit_report_pending(gpid))) {
		zombie_exit_info(c, w);
		watch_fire(w);
	}
	if (sfd >= 0)
		close(sfd);
	return res;
}

void do_pidfd_open(struct call *c)
{
	pid_t pid = (pid_t)c->a[0];
	unsigned flags = (unsigned)c->a[1];
	if ((flags & ~(unsigned)(PIDFD_NONBLOCK | PIDFD_THREAD)) || pid <= 0)
		return finish(c, -EINVAL);
	long res = trace_pidfd_new(c, pid, flags);
	tlog(3, "[%d] pidfd_open(%d, %#x) = %ld", (int)c->tid, (int)pid, flags,
	     res);
	finish(c, res);
}
