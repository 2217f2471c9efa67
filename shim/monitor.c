/* Exit notification.
 *
 * Children: a waiter thread per watched live child, blocked in
 * waitid(P_PID, pid, WEXITED|WNOWAIT|__WALL). WNOWAIT never reaps, no
 * signal is consumed or blocked for the program, and the wake-up comes
 * straight from the child's exit. Waiters are raw threads (clone with
 * CLONE_THREAD, our own 16 KiB stack, every signal blocked, no libc, no
 * TLS use) and go back to a pool when their child has exited.
 *
 * Other processes, which old kernels cannot wait for: one monitor thread
 * polls them every SF_POLL_MS with F_GETOWN on the watch's eventfd (0 once
 * the process is reaped; 0.2 us a process) and reads /proc/PID/stat of up
 * to SF_ZOMBIE_READS of them a tick, round robin, to see a zombie. Where
 * the process may (CAP_NET_ADMIN: root), the proc connector reports every
 * exit at once and the monitor sleeps in its socket instead (not in gVisor:
 * EPROTONOSUPPORT). The same
 * thread releases the eventfds of exited processes whose pidfds have all
 * been closed. */
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/futex.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <sched.h>
#include <sys/mman.h>
#include <time.h>
#include "sf.h"

#define SF_POLL_MS 100
#define SF_ZOMBIE_READS 25 /* /proc/PID/stat reads a tick (~8 us each) */
#define SF_CN_SCAN_MS 1000 /* with the connector: the safety scan's period */
#define WAITER_STACK (16 * 1024)
#define MAX_WAITERS SF_MAX_WATCHES

extern int sf_dead_watches;

struct waiter {
	int assigned; /* futex: watch index, -1 idle */
	pid_t pid;    /* the watch's pid, written before assigned */
	int idle_next; /* idle list link, as idle_head */
	int tid;
	void *stack;
};
/* The pool in one block: assigning a waiter (pidfd_open of a child) writes
 * the list head and the first waiters' entries, in one page (see the
 * copy-on-write note in pidtab.c). */
static struct {
	int idle_head; /* idle list (index + 1, 0 = empty), through idle_next */
	int nwaiters;
	struct waiter w[MAX_WAITERS];
} pool __attribute__((aligned(4096)));

static int monitor_tid;
static int monitor_wake; /* futex */
static int nonchild_count;

static const unsigned long thread_flags = CLONE_VM | CLONE_FS | CLONE_FILES |
					  CLONE_SIGHAND | CLONE_THREAD |
					  CLONE_SYSVSEM;

static void futex_wait(int *addr, int val, long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	sf_sys4(SF_NR_futex, addr, FUTEX_WAIT_PRIVATE, val, ms >= 0 ? &ts : 0);
}

static void futex_wake(int *addr)
{
	sf_sys3(SF_NR_futex, addr, FUTEX_WAKE_PRIVATE, 1);
}

static int waiter_main(void *arg)
{
	struct waiter *wt = arg;
	for (;;) {
		int idx;
		while ((idx = __atomic_load_n(&wt->assigned, __ATOMIC_ACQUIRE)) < 0)
			futex_wait(&wt->assigned, -1, -1);
		/* No lock before the wait: the thread that assigned us may
		 * still hold it (we can be woken onto its CPU and preempt it).
		 * The watch cannot be freed while we are assigned to it. */
		struct sf_watch *w = pidtab_watch(idx);
		pid_t pid = wt->pid;
		siginfo_t si;
		long r;
		do
			r = sf_sys5(SF_NR_waitid, P_PID, pid, &si,
				    WEXITED | WNOWAIT | __WALL, 0);
		while (r == -EINTR);
		sf_lock();
		if (r == -ECHILD)
			pidtab_mark_reaped(w);
		else
			pidtab_mark_exited(w);
		w->waiter = -1;
		__atomic_store_n(&wt->assigned, -1, __ATOMIC_RELEASE);
		int me = (int)(wt - pool.w);
		pool.w[me].idle_next = pool.idle_head;
		pool.idle_head = me + 1;
		sf_unlock();
	}
	return 0;
}

static void *stack_alloc(size_t size)
{
	long p = sf_syscall6(SF_NR_mmap, 0, size, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK |
				     MAP_NORESERVE,
			     -1, 0);
	return p < 0 && p > -4096 ? 0 : (void *)p;
}

/* Returns an idle waiter's index, starting a new thread if needed, or
 * -errno. Caller holds the lock. */
static int waiter_get(void)
{
	if (pool.idle_head > 0) {
		int i = pool.idle_head - 1;
		pool.idle_head = pool.w[i].idle_next;
		return i;
	}
	if (pool.nwaiters >= MAX_WAITERS)
		return -EAGAIN;
	struct waiter *wt = &pool.w[pool.nwaiters];
	if (!wt->stack)
		wt->stack = stack_alloc(WAITER_STACK);
	if (!wt->stack)
		return -ENOMEM;
	wt->assigned = -1;
	long tid = sf_arch_clone_thread(thread_flags,
					(char *)wt->stack + WAITER_STACK,
					waiter_main, wt, 0);
	if (tid < 0)
		return (int)tid;
	wt->tid = (int)tid;
	return pool.nwaiters++;
}

static int cn_sock = -1;
static int zombie_cursor;
static int cn_unavailable; /* its first error: not tried again */
static int cn_lost; /* scans with /proc reads still due after an overflow */

/* CLOCK_MONOTONIC in ms. Signal-safe. */
static long now_ms(void)
{
	struct timespec ts = {0, 0};
	sf_sys2(SF_NR_clock_gettime, CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* Subscribe to the proc connector's exit events. Returns the socket or
 * -errno. Signal-safe. */
static int connector_open(void)
{
	long s = sf_sys3(SF_NR_socket, AF_NETLINK,
			 SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
			 NETLINK_CONNECTOR);
	if (s < 0)
		return (int)s;
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC};
	struct __attribute__((packed)) {
		struct nlmsghdr nl;
		struct cn_msg cn;
		enum proc_cn_mcast_op op;
	} msg = {.nl = {.nlmsg_len = sizeof msg, .nlmsg_type = NLMSG_DONE},
		 .cn = {.id = {CN_IDX_PROC, CN_VAL_PROC},
			.len = sizeof(enum proc_cn_mcast_op)},
		 .op = PROC_CN_MCAST_LISTEN};
	long r = sf_sys3(SF_NR_bind, s, &sa, sizeof sa);
	if (!r)
		r = sf_syscall6(SF_NR_sendto, s, (long)&msg, sizeof msg, 0, 0, 0);
	if (r < 0) {
		sf_sys1(SF_NR_close, s);
		return (int)r;
	}
	sf_sys3(SF_NR_fcntl, s, F_SETSIG, SF_TAG_CONNECTOR);
	return sf_fd_hide((int)s);
}

static void nonchild_exited(struct sf_watch *w)
{
	if (w->state == SF_W_LIVE && !w->is_child) {
		pidtab_mark_exited(w);
		nonchild_count--;
	}
}

/* Mark the watched processes the connector saw exit. Caller holds the
 * lock. */
static void connector_drain(void)
{
	char buf[4096] __attribute__((aligned(8)));
	long n;
	for (;;) {
		n = sf_syscall6(SF_NR_recvfrom, cn_sock, (long)buf, sizeof buf,
				MSG_DONTWAIT, 0, 0);
		if (n == -ENOBUFS) {
			/* The socket overflowed: exits were lost. Read /proc
			 * until every watch has been looked at once. */
			cn_lost = nonchild_count / SF_ZOMBIE_READS + 1;
			continue;
		}
		if (n <= 0)
			break;
		for (struct nlmsghdr *nl = (struct nlmsghdr *)buf;
		     NLMSG_OK(nl, (unsigned long)n); nl = NLMSG_NEXT(nl, n)) {
			struct cn_msg *cn = NLMSG_DATA(nl);
			struct proc_event *ev = (struct proc_event *)cn->data;
			if (ev->what != PROC_EVENT_EXIT ||
			    ev->event_data.exit.process_pid !=
				    ev->event_data.exit.process_tgid)
				continue;
			pidtab_each_of_pid(ev->event_data.exit.process_tgid,
					   nonchild_exited);
		}
	}
}

static int monitor_main(void *arg)
{
	long gc_ms = SF_POLL_MS, next_scan = 0, next_gc = 0;
	for (;;) {
		int seq = __atomic_load_n(&monitor_wake, __ATOMIC_ACQUIRE);
		long ms = nonchild_count ? SF_POLL_MS : sf_dead_watches ? gc_ms : -1;
		if (cn_sock >= 0) {
			/* Exits arrive on the socket; a futex wake does not end
			 * the poll, so never sleep for ever. */
			struct pollfd p = {.fd = cn_sock, .events = POLLIN};
			sf_sys3(SF_NR_poll, &p, 1, ms < 0 ? 1000 : ms);
		} else {
			futex_wait(&monitor_wake, seq, ms);
		}
		sf_lock();
		int scan = 1, gc = 1;
		if (cn_sock >= 0 && !sf_fd_tagged(cn_sock, SF_TAG_CONNECTOR)) {
			cn_sock = -1; /* the program closed it: poll /proc */
			cn_unavailable = -EBADF;
		}
		if (cn_sock >= 0) {
			connector_drain();
			/* The socket wakes us for every process event of the
			 * system and reports the exits itself: the table scan
			 * is only a safety net then (exits before the
			 * subscription, lost events), once a second or at once
			 * after an overflow, and gc keeps its own clock. */
			long t = now_ms();
			scan = cn_lost > 0 || t >= next_scan;
			if (scan)
				next_scan = t + SF_CN_SCAN_MS;
			gc = t >= next_gc;
		}
		/* The connector reports exits itself: no /proc reads then.
		 * Otherwise at most SF_ZOMBIE_READS a tick, round robin. */
		int zombie_reads = cn_sock < 0 || cn_lost > 0 ? SF_ZOMBIE_READS : 0;
		if (cn_lost > 0 && scan)
			cn_lost--;
		int next_cursor = zombie_cursor;
		int n = scan ? pidtab_count() : 0;
		if (scan)
			next_cursor = 0;
		for (int k = 0; k < n; k++) {
			int i = (zombie_cursor + k) % n;
			struct sf_watch *w = pidtab_watch(i);
			if (w->state != SF_W_LIVE || w->is_child)
				continue;
			if (pidtab_is_reaped(w)) {
				nonchild_count--;
				continue;
			}
			if (zombie_reads <= 0)
				continue;
			if (--zombie_reads == 0)
				next_cursor = i + 1;
			uint64_t st;
			char state;
			int r = proc_stat(w->pid, &st, &state);
			if (r < 0 || state == 'Z' ||
			    (w->starttime && st != w->starttime)) {
				pidtab_mark_exited(w);
				nonchild_count--;
			}
		}
		zombie_cursor = next_cursor;
		if (cn_sock >= 0 && nonchild_count <= 0) {
			sf_sys1(SF_NR_close, cn_sock);
			cn_sock = -1;
		}
		if (gc && sf_dead_watches) {
			int before = sf_dead_watches;
			pidtab_gc();
			/* Nothing released: back off up to 250 ms. */
			gc_ms = sf_dead_watches < before ? SF_POLL_MS
			      : gc_ms < 250 ? gc_ms * 2 : 250;
			next_gc = now_ms() + gc_ms;
		}
		sf_unlock();
	}
	return 0;
}

static void *monitor_stack;

static int monitor_start(void)
{
	if (monitor_tid > 0)
		return 0;
	if (!monitor_stack)
		monitor_stack = stack_alloc(64 * 1024);

	if (!monitor_stack)
		return -ENOMEM;
	long tid = sf_arch_clone_thread(thread_flags,
					(char *)monitor_stack + 64 * 1024,
					monitor_main, 0, 0);
	if (tid < 0)
		return (int)tid;
	monitor_tid = (int)tid;
	sf_log(SF_LOG_DEBUG, "monitor thread %d started", monitor_tid);
	return 0;
}

int monitor_watch(int idx)
{
	struct sf_watch *w = pidtab_watch(idx);
	if (!w->is_child) {
		int r = monitor_start();
		if (r < 0)
			return r;
		/* Held only while some other process is watched. */
		int subscribed = 0;
		if (cn_sock < 0 && !cn_unavailable) {
			cn_sock = connector_open();
			if (cn_sock < 0)
				cn_unavailable = cn_sock;
			subscribed = cn_sock >= 0;
			sf_log(SF_LOG_DEBUG, "proc connector: %s",
			       cn_sock >= 0 ? "in use" : sf_errname(cn_sock));
		}
		nonchild_count++;
		if (subscribed) {
			/* An exit between the caller's /proc check and the
			 * subscription is on no socket: look once more. */
			uint64_t st;
			char state;
			if (proc_stat(w->pid, &st, &state) < 0 || state == 'Z' ||
			    (w->starttime && st != w->starttime))
				nonchild_exited(w);
		}
		__atomic_add_fetch(&monitor_wake, 1, __ATOMIC_RELEASE);
		futex_wake(&monitor_wake);
		return 0;
	}
	int r = monitor_start(); /* also releases closed pidfds' eventfds */
	if (r < 0)
		return r;
	int wi = waiter_get();
	if (wi < 0)
		return wi;
	w->waiter = wi;
	pool.w[wi].pid = w->pid;
	__atomic_store_n(&pool.w[wi].assigned, idx, __ATOMIC_RELEASE);
	futex_wake(&pool.w[wi].assigned);
	return 0;
}

/* In a fork child none of the threads exist; their stacks are reused. */
void monitor_atfork_child(void)
{
	/* Write only what differs: every page written here is copied (the
	 * parent shares them), and a child that execs at once pays for it. */
	for (int i = 0; i < pool.nwaiters; i++)
		if (pool.w[i].assigned != -1)
			pool.w[i].assigned = -1;
	pool.idle_head = 0;
	pool.nwaiters = 0;
	monitor_tid = 0;
	monitor_wake = 0;
	if (cn_sock >= 0 && sf_fd_tagged(cn_sock, SF_TAG_CONNECTOR))
		sf_sys1(SF_NR_close, cn_sock); /* subscribed for the parent */
	cn_sock = -1;
	nonchild_count = 0;
	/* The parent's children are not ours: watch them by polling. */
	int n = pidtab_count();
	for (int i = 0; i < n; i++) {
		struct sf_watch *w = pidtab_watch(i);
		if (w->waiter != -1)
			w->waiter = -1;
		if (w->state == SF_W_LIVE) {
			w->is_child = 0;
			nonchild_count++;
		}
	}
}

/* Called with the lock held when the first watch becomes dead (the monitor
 * sleeps without a timeout only while none is), so that it starts
 * releasing closed pidfds' eventfds. */
void monitor_kick(void)
{
	__atomic_add_fetch(&monitor_wake, 1, __ATOMIC_RELEASE);
	futex_wake(&monitor_wake);
}
