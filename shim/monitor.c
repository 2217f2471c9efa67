/* Exit notification.
 *
 * Children: a waiter thread per watched live child, blocked in
 * waitid(P_PID, pid, WEXITED|WNOWAIT|__WALL). WNOWAIT never reaps, no
 * signal is consumed or blocked for the program, and the wake-up comes
 * straight from the child's exit (not from a ptrace stop, which a tracer
 * is told of too). Waiters are raw threads (clone with CLONE_THREAD, our
 * own 16 KiB stack with a TCB of their own at its bottom, every signal
 * blocked, no libc state) and go back to a pool when their child has
 * exited.
 *
 * Other processes, which old kernels cannot wait for: one monitor thread
 * polls them every SF_POLL_MS with F_GETOWN on the watch's eventfd (0 once
 * the process is reaped; 0.2 us a process) and reads /proc/PID/stat of up
 * to SF_ZOMBIE_READS of them a tick, round robin, to see a zombie. Where
 * the process may (CAP_NET_ADMIN: root), the proc connector reports every
 * exit at once and the monitor sleeps in its socket instead (not in gVisor:
 * EPROTONOSUPPORT). Either way a process has exited only when its whole
 * thread group has. The same thread releases the eventfds of exited
 * processes whose pidfds have all been closed.
 *
 * Helpers exist only while needed: an idle waiter, and a monitor with
 * nothing watched and nothing to release, exit after SF_IDLE_MS, so that
 * a program that has closed its pidfds is single-threaded again (Linux
 * refuses unshare(CLONE_NEWUSER) to a multithreaded process). */
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/futex.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <sched.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include "sf.h"

#define SF_POLL_MS 100
#define SF_ZOMBIE_READS 25 /* /proc/PID/stat reads a tick (~8 us each) */
#define SF_CN_SCAN_MS 1000 /* with the connector: the safety scan's period */
#define SF_IDLE_MS 500 /* a helper with nothing to do exits after this */
#define WAITER_STACK (16 * 1024)
#define MONITOR_STACK (64 * 1024)
#define MAX_WAITERS SF_MAX_WATCHES

extern int sf_dead_watches;

struct waiter {
	int assigned; /* futex: watch index, -1 idle */
	pid_t pid;    /* the watch's pid, written before assigned */
	int next, prev; /* idle or free list links (index + 1, 0 = none) */
	int tid;      /* the thread's id; the kernel clears it at its exit */
	int on_idle;  /* on the idle list */
	int stop;     /* sf_helpers_pause: leave, keeping the assignment */
	int left;     /* it did (set just before its exit) */
	void *stack;  /* WAITER_STACK bytes, its TCB at the bottom; kept */
};
/* The pool in one block: assigning a waiter (pidfd_open of a child) writes
 * the list head and the first waiters' entries, in one page (see the
 * copy-on-write note in pidtab.c). Slots whose thread has exited are on
 * the free list, and get a new thread on their old stack. */
static struct {
	int idle_head; /* idle waiters (index + 1, 0 = empty) */
	int free_head; /* slots without a thread, through next */
	int nwaiters;  /* slots ever used */
	struct waiter w[MAX_WAITERS];
} pool __attribute__((aligned(4096)));

/* Set by sf_helpers_retire: helpers with nothing to do leave now. */
static int retire_now;
/* Set by sf_helpers_pause: the monitor leaves even with work to do. */
static int monitor_stop;
/* The signal that interrupts a helper's blocking call (sf_helpers_pause),
 * left unblocked in waiters and the monitor: SIGSYS where the library's
 * handler is SIGSYS's (sf_helper_wake_ours tells ours apart), 0 where no
 * helper may be interrupted (every signal blocked). */
int sf_helper_wake_sig;
static int monitor_tid; /* cleared by the kernel when the thread is gone */
static int monitor_running; /* the thread runs and has not decided to exit */
static int monitor_wake; /* futex */
static int nonchild_count;
/* Watches whose leader is a zombie while other threads run, by index:
 * Linux notifies a pidfd only once the whole thread group is dead
 * (do_notify_pidfd via do_notify_parent; the kernel's pidfd_test checks
 * it). */
static unsigned char leader_dead[SF_MAX_WATCHES];

static const unsigned long thread_flags = CLONE_VM | CLONE_FS | CLONE_FILES |
					  CLONE_SIGHAND | CLONE_THREAD |
					  CLONE_SYSVSEM;

static long futex_wait(int *addr, int val, long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	return sf_sys4(SF_NR_futex, addr, FUTEX_WAIT_PRIVATE, val,
		       ms >= 0 ? &ts : 0);
}

static void futex_wake(int *addr)
{
	sf_sys3(SF_NR_futex, addr, FUTEX_WAKE_PRIVATE, 1);
}

static void nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	sf_sys2(SF_NR_nanosleep, &ts, 0);
}

/* CLOCK_MONOTONIC in ms. Signal-safe. */
static long now_ms(void)
{
	struct timespec ts = {0, 0};
	sf_sys2(SF_NR_clock_gettime, CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* Wait until the thread whose id is in *TID (CLONE_CHILD_CLEARTID) is
 * gone, so that its stack may be reused. It has decided to exit and holds
 * nothing: this takes microseconds. 0, or -EAGAIN after a second. */
static int thread_gone(int *tid)
{
	for (int n = 0; n < 1000; n++) {
		int t = __atomic_load_n(tid, __ATOMIC_ACQUIRE);
		if (!t)
			return 0;
		struct timespec ts = {0, 1000000L};
		/* Not private: the kernel's wake at exit is a shared one. */
		sf_sys4(SF_NR_futex, tid, FUTEX_WAIT, t, &ts);
	}
	return -EAGAIN;
}

/* Start FN(ARG) on the SIZE-byte STACK, with its own TCB at the stack's
 * bottom; *TID tracks the thread. Returns the tid or -errno. */
static long helper_start_flags(unsigned long flags, void *stack, size_t size,
			       int (*fn)(void *), void *arg, int *tid)
{
	void *tcb = sf_arch_tcb_init(stack);
	return sf_arch_clone_thread(flags, (char *)stack + size, fn, arg, tid,
				    tcb);
}

static long helper_start(void *stack, size_t size, int (*fn)(void *),
			 void *arg, int *tid)
{
	return helper_start_flags(thread_flags, stack, size, fn, arg, tid);
}

static void idle_push(int i)
{
	struct waiter *wt = &pool.w[i];
	wt->prev = 0;
	wt->next = pool.idle_head;
	if (pool.idle_head)
		pool.w[pool.idle_head - 1].prev = i + 1;
	pool.idle_head = i + 1;
	wt->on_idle = 1;
}

static void idle_remove(int i)
{
	struct waiter *wt = &pool.w[i];
	if (wt->prev)
		pool.w[wt->prev - 1].next = wt->next;
	else
		pool.idle_head = wt->next;
	if (wt->next)
		pool.w[wt->next - 1].prev = wt->prev;
	wt->on_idle = 0;
}

static void free_push(int i)
{
	pool.w[i].next = pool.free_head;
	pool.free_head = i + 1;
}

/* Did SI (a WEXITED|WNOWAIT report) report an exit? A tracer is told of
 * its tracees' ptrace stops (CLD_TRAPPED) without WUNTRACED, again and
 * again until it consumes them; gVisor reports a stop as CLD_KILLED or
 * CLD_DUMPED with status 127, which no signal has (see pidfd.c). */
int sf_reports_exit(const siginfo_t *si)
{
	return si->si_code == CLD_EXITED ||
	       ((si->si_code == CLD_KILLED || si->si_code == CLD_DUMPED) &&
		si->si_status != 127);
}

#define SIGBIT(sig) (1ULL << ((sig) - 1))

/* A helper's first step: the wake signal unblocked (sf_helpers_pause). */
static void helper_wakeable(void)
{
	int sig = __atomic_load_n(&sf_helper_wake_sig, __ATOMIC_ACQUIRE);
	if (sig) {
		uint64_t set = SIGBIT(sig);
		sf_sigmask(SIG_UNBLOCK, &set, 0);
	}
}

static int waiter_main(void *arg)
{
	struct waiter *wt = arg;
	int me = (int)(wt - pool.w);
	helper_wakeable();
	for (;;) {
		int idx = __atomic_load_n(&wt->assigned, __ATOMIC_ACQUIRE);
		if (idx < 0) {
			if (futex_wait(&wt->assigned, -1, SF_IDLE_MS) != -ETIMEDOUT &&
			    !__atomic_load_n(&retire_now, __ATOMIC_ACQUIRE))
				continue;
			/* Idle for SF_IDLE_MS: leave, unless assigned meanwhile
			 * (assignments are made under the lock). */
			sf_lock();
			int leave = wt->assigned < 0 && wt->on_idle;
			if (leave) {
				idle_remove(me);
				free_push(me);
			}
			sf_unlock();
			if (leave)
				return 0; /* the kernel clears wt->tid */
			continue;
		}
		/* No lock before the wait: the thread that assigned us may
		 * still hold it (we can be woken onto its CPU and preempt it).
		 * The watch cannot be freed while we are assigned to it. */
		struct sf_watch *w = pidtab_watch(idx);
		pid_t pid = wt->pid;
		siginfo_t si;
		long r, delay = 1;
		for (;;) {
			/* Paused: leave, still assigned (a new thread waits
			 * on after sf_helpers_resume; WNOWAIT consumed
			 * nothing). Nothing is held here. */
			if (__atomic_load_n(&wt->stop, __ATOMIC_ACQUIRE)) {
				__atomic_store_n(&wt->left, 1, __ATOMIC_RELEASE);
				return 0; /* the kernel clears wt->tid */
			}
			long t0 = now_ms();
			r = sf_sys5(SF_NR_waitid, P_PID, pid, &si,
				    WEXITED | WNOWAIT | __WALL, 0);
			if (r == -EINTR)
				continue;
			if (r < 0 || sf_reports_exit(&si))
				break;
			/* A stop: Linux makes the pidfd readable only at the
			 * exit. Look again until the tracer has consumed it,
			 * backing off while the same stop is reported. */
			if (now_ms() - t0 > delay)
				delay = 1; /* we blocked: a new stop */
			nap_ms(delay);
			if (delay < SF_POLL_MS)
				delay *= 2;
		}
		/* The exit status for PIDFD_INFO_EXIT; the pidfd is ready at
		 * once. The cgroup is the one the child was in when the pidfd
		 * was made (exitinfo_reset): reading the one it died in takes
		 * a /proc read, made by the reader thread (its start delayed
		 * the readiness by tens of us, and a thread started after it
		 * takes a pid the program may be about to reuse). */
		int32_t code = r == 0 ? sf_wait_status(&si) : -1;
		sf_lock();
		if (code >= 0)
			exitinfo_note_cg(w, code, 0);
		if (r == -ECHILD)
			pidtab_mark_reaped(w);
		else
			pidtab_mark_exited(w);
		w->waiter = -1;
		__atomic_store_n(&wt->assigned, -1, __ATOMIC_RELEASE);
		idle_push(me);
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
		idle_remove(i);
		return i;
	}
	int i;
	if (pool.free_head > 0) {
		i = pool.free_head - 1;
		pool.free_head = pool.w[i].next;
	} else if (pool.nwaiters < MAX_WAITERS) {
		i = pool.nwaiters++;
	} else {
		return -EAGAIN;
	}
	struct waiter *wt = &pool.w[i];
	int r = thread_gone(&wt->tid);
	if (!r && !wt->stack && !(wt->stack = stack_alloc(WAITER_STACK)))
		r = -ENOMEM;
	if (!r) {
		wt->assigned = -1;
		long tid = helper_start(wt->stack, WAITER_STACK, waiter_main, wt,
					&wt->tid);
		r = tid < 0 ? (int)tid : 0;
	}
	if (r < 0) {
		free_push(i);
		return r;
	}
	return i;
}

/* The reader: the helpers' /proc reads (proc_read from a waiter or the
 * monitor) are made by this thread, whose fd table is not the program's
 * (no CLONE_FILES): every fd an open makes is the lowest free number, and
 * one made in the program's table by a thread running beside the
 * program's own opens would move those to another number, or let the
 * program see a number taken that it never opened. Its copy of the
 * program's table is closed first thing (the files are the program's,
 * held for that moment as by a fork child). One request at a time (the
 * requesters are helpers, all signals blocked). It lives for a burst of
 * reads: the monitor, done with its reads for a tick, lets it go
 * (reader_done; a waiter reads nothing at its child's exit), so that it is
 * never the thread the program finds left over; and it leaves after
 * SF_IDLE_MS without a request. */
#define READER_STACK (16 * 1024)
static struct {
	int lock;    /* futex: 1 while a helper's request is in progress */
	int req;     /* futex: requests made */
	int done;    /* futex: requests answered */
	int tid;     /* cleared by the kernel when the thread is gone */
	int running; /* the thread runs and has not decided to exit */
	int leave;   /* reader_done: leave once nothing is asked */
	const char *path;
	char *buf;
	size_t len;
	long result;
	void *stack;
} rd;

static int reader_main(void *arg)
{
	uint64_t all = ~0ULL; /* its creator's mask may let the wake signal in */
	sf_sigmask(SIG_SETMASK, &all, 0);
	if (sf_sys3(SF_NR_close_range, 0, 0x7fffffff, 0) < 0) {
		struct rlimit rl = {1024, 1024};
		sf_sys4(SF_NR_prlimit64, 0, RLIMIT_NOFILE, 0, &rl);
		for (long fd = 0; fd < (long)rl.rlim_cur && fd < 65536; fd++)
			sf_sys1(SF_NR_close, fd);
	}
	for (;;) {
		int req = __atomic_load_n(&rd.req, __ATOMIC_ACQUIRE);
		if (req != rd.done) {
			rd.result = proc_read_here(rd.path, rd.buf, rd.len);
			__atomic_store_n(&rd.done, req, __ATOMIC_RELEASE);
			futex_wake(&rd.done);
			continue;
		}
		int go = __atomic_load_n(&rd.leave, __ATOMIC_ACQUIRE);
		long w = go ? -ETIMEDOUT : futex_wait(&rd.req, req, SF_IDLE_MS);
		if (w != -ETIMEDOUT && !go &&
		    !__atomic_load_n(&retire_now, __ATOMIC_ACQUIRE) &&
		    !__atomic_load_n(&rd.leave, __ATOMIC_ACQUIRE))
			continue;
		/* Idle or let go: leave, unless a request is being made (it
		 * holds the lock from before it looks at running until it is
		 * answered). */
		if (__atomic_exchange_n(&rd.lock, 1, __ATOMIC_ACQUIRE))
			continue;
		int leave = __atomic_load_n(&rd.req, __ATOMIC_ACQUIRE) == rd.done;
		if (leave) {
			rd.running = 0;
			rd.leave = 0;
		}
		__atomic_store_n(&rd.lock, 0, __ATOMIC_RELEASE);
		futex_wake(&rd.lock);
		if (leave)
			return 0; /* the kernel clears rd.tid */
	}
}

static long helper_start_flags(unsigned long flags, void *stack, size_t size,
			       int (*fn)(void *), void *arg, int *tid);

/* A helper is done with its reads for now. */
static void reader_done(void)
{
	if (!__atomic_load_n(&rd.running, __ATOMIC_ACQUIRE))
		return;
	__atomic_store_n(&rd.leave, 1, __ATOMIC_RELEASE);
	futex_wake(&rd.req);
}

long sf_helper_proc_read(const char *path, char *buf, size_t len)
{
	while (__atomic_exchange_n(&rd.lock, 1, __ATOMIC_ACQUIRE))
		futex_wait(&rd.lock, 1, -1);
	long r = 0, started = 0;
	if (!rd.running) {
		r = thread_gone(&rd.tid); /* a reader that just left */
		if (!r && !rd.stack && !(rd.stack = stack_alloc(READER_STACK)))
			r = -ENOMEM;
		if (!r) {
			long tid = helper_start_flags(thread_flags & ~CLONE_FILES,
						      rd.stack, READER_STACK,
						      reader_main, 0, &rd.tid);
			r = tid < 0 ? tid : 0;
		}
		if (!r)
			__atomic_store_n(&rd.running, 1, __ATOMIC_RELEASE);
		else
			started = r;
	}
	__atomic_store_n(&rd.leave, 0, __ATOMIC_RELEASE);
	if (!r) {
		rd.path = path;
		rd.buf = buf;
		rd.len = len;
		int req = rd.req + 1;
		__atomic_store_n(&rd.req, req, __ATOMIC_RELEASE);
		futex_wake(&rd.req);
		int d;
		while ((d = __atomic_load_n(&rd.done, __ATOMIC_ACQUIRE)) != req)
			futex_wait(&rd.done, d, -1);
		r = rd.result;
	}
	__atomic_store_n(&rd.lock, 0, __ATOMIC_RELEASE);
	futex_wake(&rd.lock);
	if (started < 0) {
		/* No such thread here (qemu-user makes threads only with
		 * the whole set of thread flags; RLIMIT_NPROC, memory): read
		 * in our own table, as before there was a reader. */
		static int told;
		if (!told++)
			sf_log(SF_LOG_DEBUG, "reader thread: %s; helpers read "
					     "/proc in the program's fd table",
			       sf_errname(started));
		return proc_read_here(path, buf, len);
	}
	return r;
}

static int cn_sock = -1;
static int zombie_cursor;
static int cn_unavailable; /* its first error: not tried again */
static int cn_lost; /* scans with /proc reads still due after an overflow */

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

static int watch_index(const struct sf_watch *w)
{
	return (int)(w - pidtab_watch(0));
}

static void nonchild_exited(struct sf_watch *w)
{
	if (w->state == SF_W_LIVE && !w->is_child) {
		pidtab_mark_exited(w);
		nonchild_count--;
	}
	leader_dead[watch_index(w)] = 0;
}

/* Is the process of non-child watch W gone as a whole, as /proc shows
 * it: no such process, another one with its pid, or a zombie leader
 * alone (field 20, num_threads, counts the threads not yet released)? A
 * zombie leader whose other threads run is not: W is marked in
 * leader_dead and looked at again. SETTLE (the safety scan) unmarks a
 * marked W whose leader is no zombie (a non-leader thread exec'd and took
 * its place; Linux 6.18 keeps such a pidfd unreadable). Caller holds the
 * lock. */
static int nonchild_gone(struct sf_watch *w, int settle)
{
	char path[48], buf[1024];
	int idx = watch_index(w);
	sf_fmt(path, sizeof path, "/proc/%d/stat", (int)w->pid);
	long n = proc_read(path, buf, sizeof buf);
	if (n == -ENOENT || n == -ESRCH || n == 0)
		return 1;
	if (n < 0)
		return 0;
	int leader_zombie;
	int r = proc_stat_gone(buf, w->starttime, &leader_zombie);
	if (r < 0)
		return 0;
	/* a thread pidfd: that thread alone (pidfd_poll, 6.9) */
	if (r || (leader_zombie && w->thread)) {
		const char *p = strrchr(buf, ')');
		if (p && p[1] == ' ' && p[2] == 'Z')
			exitinfo_note_proc(w); /* a zombie: its exit code */
		return 1;
	}
	if (leader_zombie)
		leader_dead[idx] = 1;
	else if (settle)
		leader_dead[idx] = 0;
	return 0;
}

/* After an exit event of a marked group: look again in 1, 2, 4 .. 128 ms
 * (the event comes before the thread is released). */
static long recheck_at, recheck_ms;

static void recheck_soon(void)
{
	recheck_ms = 1;
	recheck_at = now_ms() + recheck_ms;
}

static int event_from_leader;

/* A thread of W's process exited (proc connector). Caller holds the lock. */
static void exit_event(struct sf_watch *w)
{
	if (w->state != SF_W_LIVE || w->is_child)
		return;
	int idx = watch_index(w);
	if (event_from_leader)
		leader_dead[idx] = 1;
	else if (!leader_dead[idx])
		return; /* a thread of a group whose leader runs */
	if (nonchild_gone(w, 0))
		nonchild_exited(w);
	else
		recheck_soon();
}

/* The leader of TGID exited with CODE (the connector's exit event, sent
 * from do_exit): the exit information of TGID's live non-child watches.
 * Caller holds the lock. */
static int32_t cn_code;
static void cn_note(struct sf_watch *w)
{
	if (w->state != SF_W_REAPED && !w->is_child)
		exitinfo_note(w, cn_code);
}

static void connector_exit_code(pid_t tgid, int32_t code)
{
	cn_code = code;
	pidtab_each_of_pid(tgid, cn_note);
}

/* A thread with a PIDFD_THREAD watch W exited (the connector's event,
 * before the thread is released): look again soon. Lock held. */
static void thread_exit_event(struct sf_watch *w)
{
	if (w->state != SF_W_LIVE || !w->thread)
		return;
	leader_dead[watch_index(w)] = 1;
	recheck_soon();
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
			const char *cn = NLMSG_DATA(nl);
			size_t avail = nl->nlmsg_len - NLMSG_LENGTH(0);
			struct proc_event ev;
			/* The event sits at a 4-byte boundary and holds a
			 * u64: copy it out. */
			if (avail < sizeof(struct cn_msg) +
					    offsetof(struct proc_event, event_data) +
					    sizeof ev.event_data.exit)
				continue;
			avail -= sizeof(struct cn_msg);
			memcpy(&ev, cn + sizeof(struct cn_msg),
			       avail < sizeof ev ? avail : sizeof ev);
			if (ev.what != PROC_EVENT_EXIT)
				continue;
			event_from_leader = ev.event_data.exit.process_pid ==
					    ev.event_data.exit.process_tgid;
			if (event_from_leader)
				connector_exit_code(ev.event_data.exit.process_tgid,
						    (int32_t)ev.event_data.exit.exit_code);
			else
				pidtab_each_of_pid(ev.event_data.exit.process_pid,
						   thread_exit_event);
			pidtab_each_of_pid(ev.event_data.exit.process_tgid,
					   exit_event);
		}
	}
}

/* Look at the marked groups again. Returns whether one is still marked.
 * Caller holds the lock. */
static int recheck_marked(void)
{
	int n = pidtab_count(), left = 0;
	for (int i = 0; i < n; i++) {
		struct sf_watch *w = pidtab_watch(i);
		if (!leader_dead[i] || w->state != SF_W_LIVE || w->is_child)
			continue;
		if (nonchild_gone(w, 0))
			nonchild_exited(w);
		else
			left |= leader_dead[i];
	}
	return left;
}

/* Watches of other processes still live: nonchild_count as it should
 * be. A wait of the program or a pidfd call can mark such a watch exited
 * (pidtab_mark_exited) without the monitor: the count is corrected from
 * the table. Caller holds the lock. */
static int live_nonchildren(void)
{
	int live = 0, n = pidtab_count();
	for (int i = 0; i < n; i++) {
		struct sf_watch *w = pidtab_watch(i);
		live += w->state == SF_W_LIVE && !w->is_child && !w->foreign;
	}
	return live;
}

static int monitor_main(void *arg)
{
	long gc_ms = SF_POLL_MS, next_scan = 0, next_gc = 0;
	helper_wakeable();
	for (;;) {
		int seq = __atomic_load_n(&monitor_wake, __ATOMIC_ACQUIRE);
		long ms = nonchild_count ? SF_POLL_MS
			  : sf_dead_watches ? gc_ms
					    : SF_IDLE_MS;
		if (recheck_at) {
			long d = recheck_at - now_ms();
			ms = d < 0 ? 0 : d < ms ? d : ms;
		}
		long wr = 0;
		if (cn_sock >= 0) {
			/* Exits arrive on the socket; a futex wake does not end
			 * the poll, so never sleep for ever. */
			struct pollfd p = {.fd = cn_sock, .events = POLLIN};
			sf_sys3(SF_NR_poll, &p, 1, ms);
		} else {
			wr = futex_wait(&monitor_wake, seq, ms);
		}
		sf_lock();
		if (monitor_stop ||
		    ((wr == -ETIMEDOUT || retire_now) && !nonchild_count &&
		     !sf_dead_watches && !recheck_at && cn_sock < 0)) {
			/* Nothing watched and nothing to release for
			 * SF_IDLE_MS, or paused (its state stays for the
			 * monitor sf_helpers_resume starts): a watch made from
			 * now on starts a new monitor (monitor_start, under
			 * the lock). */
			monitor_running = 0;
			sf_unlock();
			return 0; /* the kernel clears monitor_tid */
		}
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
		if (recheck_at && now_ms() >= recheck_at) {
			if (recheck_marked() && recheck_ms < 128) {
				recheck_ms *= 2;
				recheck_at = now_ms() + recheck_ms;
			} else {
				recheck_at = 0;
			}
		}
		/* The connector reports exits itself: no /proc reads then
		 * but for marked groups. Otherwise at most SF_ZOMBIE_READS a
		 * tick, round robin. */
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
			/* a foreign watch's exit is written where it is seen */
			if (w->state != SF_W_LIVE || w->is_child || w->foreign)
				continue;
			if (pidtab_is_reaped(w)) {
				nonchild_count--;
				leader_dead[i] = 0;
				continue;
			}
			if (zombie_reads <= 0 && !leader_dead[i])
				continue;
			if (zombie_reads > 0 && --zombie_reads == 0)
				next_cursor = i + 1;
			if (nonchild_gone(w, cn_sock >= 0))
				nonchild_exited(w);
		}
		zombie_cursor = next_cursor;
		if (scan)
			nonchild_count = live_nonchildren();
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
		/* the reader goes before we sleep: a thread only while we
		 * are awake */
		reader_done();
		if (__atomic_load_n(&rd.tid, __ATOMIC_ACQUIRE))
			thread_gone(&rd.tid);
	}
	return 0;
}

static void *monitor_stack;

/* Start the monitor unless it runs. 0 or -errno. Caller holds the lock. */
static int monitor_start(void)
{
	if (monitor_running)
		return 0;
	if (!sf_lock_owner())
		return -ENOSYS; /* a thread here would die with this child */
	int r = thread_gone(&monitor_tid); /* a monitor that just left */
	if (r < 0)
		return r;
	if (!monitor_stack && !(monitor_stack = stack_alloc(MONITOR_STACK)))
		return -ENOMEM;
	long tid = helper_start(monitor_stack, MONITOR_STACK, monitor_main, 0,
				&monitor_tid);
	if (tid < 0)
		return (int)tid;
	monitor_running = 1;
	sf_log(SF_LOG_DEBUG, "monitor thread %ld started", tid);
	return 0;
}

/* Threads: of /proc/self/status (the kernel's nr_threads), -1 unknown. */
static long own_threads(void)
{
	char buf[2048];
	uint64_t v;
	if (proc_read("/proc/self/status", buf, sizeof buf) < 0 ||
	    proc_status_field(buf, "Threads", &v, 1, 10) != 1)
		return -1;
	return (long)v;
}

static void lock_masked(uint64_t *old)
{
	uint64_t all = ~0ULL;
	sf_sigmask(SIG_SETMASK, &all, old);
	sf_lock();
}

static void unlock_masked(const uint64_t *old)
{
	sf_unlock();
	sf_sigmask(SIG_SETMASK, old, 0);
}

/* Is SI the wake signal of sf_helpers_pause? Signal-safe. */
int sf_helper_wake_ours(const siginfo_t *si)
{
	return si->si_code == SI_QUEUE && si->si_value.sival_ptr == &pool &&
	       si->si_pid == sf_getpid();
}

/* Interrupt helper TID's blocking call (sf_helper_wake_ours). */
static void helper_wake(int tid)
{
	siginfo_t si;
	memset(&si, 0, sizeof si);
	si.si_signo = sf_helper_wake_sig;
	si.si_code = SI_QUEUE;
	si.si_pid = sf_getpid();
	si.si_uid = (uid_t)sf_sys0(SF_NR_getuid);
	si.si_value.sival_ptr = &pool;
	sf_sys4(SF_NR_rt_tgsigqueueinfo, si.si_pid, tid, si.si_signo, &si);
}

/* The N running helpers leave: the idle ones, and with STOP the busy
 * ones too (waiters keep their assignment, the monitor its state), woken
 * out of their blocking calls. Caller holds the lock (lock_masked, OLD);
 * it is released. The kernel clears each tid at the exit and takes the
 * thread out of the group a moment later (release_task): this waits for
 * both, at most 1 s in all (a loaded machine may not run them at once).
 * 0, or -EBUSY if one is still there. */
static int helpers_leave(int n, int stop, uint64_t *old)
{
	long before = own_threads();
	__atomic_store_n(&retire_now, 1, __ATOMIC_RELEASE);
	if (stop)
		__atomic_store_n(&monitor_stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < pool.nwaiters; i++)
		if (pool.w[i].on_idle)
			futex_wake(&pool.w[i].assigned);
	__atomic_add_fetch(&monitor_wake, 1, __ATOMIC_RELEASE);
	futex_wake(&monitor_wake);
	futex_wake(&rd.req);
	unlock_masked(old);
	/* A busy helper sits in waitid or poll: the signal ends the call
	 * (our handler has no SA_RESTART). A signal or futex wake that comes
	 * between a helper's look at its flags and its call is missed: both
	 * are made again every ms until every helper is gone. */
	long deadline = now_ms() + 1000;
	for (;;) {
		int *wait_on = 0, t = 0;
		for (int i = -2; i < pool.nwaiters; i++) {
			int *tid = i == -2 ? &rd.tid : i < 0 ? &monitor_tid : &pool.w[i].tid;
			int v = __atomic_load_n(tid, __ATOMIC_ACQUIRE);
			if (!v)
				continue;
			if (!wait_on) {
				wait_on = tid;
				t = v;
			}
			if (stop && (i == -1 || (i >= 0 && pool.w[i].stop)))
				helper_wake(v);
			else if (i >= 0 && pool.w[i].on_idle)
				futex_wake(&pool.w[i].assigned);
		}
		if (!wait_on || now_ms() >= deadline)
			break;
		futex_wake(&rd.req);
		futex_wake(&monitor_wake);
		futex_wait(wait_on, t, 1);
	}
	while (before > 0 && own_threads() > before - n && now_ms() < deadline)
		nap_ms(1);
	lock_masked(old);
	__atomic_store_n(&retire_now, 0, __ATOMIC_RELEASE);
	int left = __atomic_load_n(&monitor_tid, __ATOMIC_ACQUIRE) != 0;
	left += __atomic_load_n(&rd.tid, __ATOMIC_ACQUIRE) != 0;
	for (int i = 0; i < pool.nwaiters; i++)
		left += __atomic_load_n(&pool.w[i].tid, __ATOMIC_ACQUIRE) != 0;
	unlock_masked(old);
	return left ? -EBUSY : 0;
}

int sf_helpers_retire(void)
{
	uint64_t old;
	lock_masked(&old);
	if (sf_dead_watches)
		pidtab_gc(); /* closed pidfds' eventfds: nothing to release */
	nonchild_count = live_nonchildren();
	if (!nonchild_count && cn_sock >= 0) {
		/* nothing left to hear about (the monitor, in its poll,
		 * wakes within SF_POLL_MS and finds it gone) */
		sf_sys1(SF_NR_close, cn_sock);
		cn_sock = -1;
	}
	if (!nonchild_count)
		recheck_at = 0;
	int busy = nonchild_count > 0 || sf_dead_watches;
	int n = 0;
	for (int i = 0; i < pool.nwaiters && !busy; i++) {
		struct waiter *wt = &pool.w[i];
		if (__atomic_load_n(&wt->assigned, __ATOMIC_ACQUIRE) >= 0)
			busy = 1; /* a live child is watched */
		else if (__atomic_load_n(&wt->tid, __ATOMIC_ACQUIRE))
			n++;
	}
	n += !busy && __atomic_load_n(&monitor_tid, __ATOMIC_ACQUIRE) != 0;
	n += !busy && __atomic_load_n(&rd.tid, __ATOMIC_ACQUIRE) != 0;
	if (busy || !n) {
		unlock_masked(&old);
		return busy ? -EBUSY : 0;
	}
	return helpers_leave(n, 0, &old);
}

static int paused;
static int monitor_was_running; /* at the pause: sf_helpers_resume starts it */

/* Can this thread make a thread? Not once its pid namespace for children
 * is not its own, nor its time namespace for children (copy_process:
 * EINVAL for CLONE_THREAD, CLONE_VM). */
static int threads_possible(void)
{
	static const char *const pair[][2] = {
		{"/proc/thread-self/ns/pid", "/proc/thread-self/ns/pid_for_children"},
		{"/proc/thread-self/ns/time", "/proc/thread-self/ns/time_for_children"},
	};
	for (int i = 0; i < 2; i++) {
		struct {
			uint64_t dev, ino;
			char rest[128];
		} a, b;
		if (sf_sys4(SF_NR_newfstatat, AT_FDCWD, pair[i][0], &a, 0) < 0 ||
		    sf_sys4(SF_NR_newfstatat, AT_FDCWD, pair[i][1], &b, 0) < 0)
			continue; /* no such namespace type here */
		if (a.dev != b.dev || a.ino != b.ino)
			return 0;
	}
	return 1;
}

int sf_helpers_pause(void)
{
	/* Helpers that could not be started again stay; the idle ones go. */
	if (!__atomic_load_n(&sf_helper_wake_sig, __ATOMIC_ACQUIRE) ||
	    !threads_possible())
		return sf_helpers_retire();
	uint64_t old;
	lock_masked(&old);
	if (!sf_lock_owner()) { /* a vfork child: the threads are not ours */
		unlock_masked(&old);
		return -EBUSY;
	}
	if (sf_dead_watches)
		pidtab_gc();
	int n = 0;
	for (int i = 0; i < pool.nwaiters; i++) {
		struct waiter *wt = &pool.w[i];
		if (!__atomic_load_n(&wt->tid, __ATOMIC_ACQUIRE))
			continue;
		n++;
		if (wt->assigned >= 0)
			__atomic_store_n(&wt->stop, 1, __ATOMIC_RELEASE);
	}
	n += __atomic_load_n(&monitor_tid, __ATOMIC_ACQUIRE) != 0;
	n += __atomic_load_n(&rd.tid, __ATOMIC_ACQUIRE) != 0;
	paused = 1;
	monitor_was_running = monitor_running;
	if (!n) {
		unlock_masked(&old);
		return 0;
	}
	return helpers_leave(n, 1, &old);
}

void sf_helpers_resume(void)
{
	uint64_t old;
	lock_masked(&old);
	if (!paused) {
		unlock_masked(&old);
		return;
	}
	paused = 0;
	__atomic_store_n(&monitor_stop, 0, __ATOMIC_RELEASE);
	for (int i = 0; i < pool.nwaiters; i++) {
		struct waiter *wt = &pool.w[i];
		if (!wt->stop)
			continue;
		__atomic_store_n(&wt->stop, 0, __ATOMIC_RELEASE);
		if (!__atomic_load_n(&wt->left, __ATOMIC_ACQUIRE))
			continue; /* still there, or done with its child */
		wt->left = 0;
		int idx = wt->assigned;
		if (thread_gone(&wt->tid) < 0) { /* cannot be: it holds nothing */
			sf_log(SF_LOG_WARN, "waiter of %d did not leave",
			       (int)wt->pid);
			continue;
		}
		/* Left while assigned: a new thread on the slot waits for the
		 * child, whose exit meanwhile left a zombie for it to see
		 * (WNOWAIT). Reaped by the program meanwhile (saw_exit): the
		 * watch says so and needs no waiter. */
		struct sf_watch *w = pidtab_watch(idx);
		long tid = -ESRCH;
		if (w->state == SF_W_LIVE && w->waiter == i)
			tid = helper_start(wt->stack, WAITER_STACK, waiter_main,
					   wt, &wt->tid);
		if (tid >= 0)
			continue;
		if (tid != -ESRCH)
			sf_log(SF_LOG_WARN, "waiter of %d: %s; its pidfd is not "
			       "readable at its exit", (int)wt->pid,
			       sf_errname(tid));
		if (w->waiter == i)
			w->waiter = -1;
		wt->assigned = -1;
		free_push(i);
	}
	if (monitor_was_running && !monitor_running) {
		int r = monitor_start();
		if (r < 0)
			sf_log(SF_LOG_WARN, "monitor thread: %s", sf_errname(r));
	}
	unlock_masked(&old);
}

int monitor_watch(int idx)
{
	struct sf_watch *w = pidtab_watch(idx);
	/* A child sharing our memory (vfork) would put its own fds and
	 * threads into our table: it gets the answer of a kernel without
	 * pidfds. */
	if (!sf_lock_owner())
		return -ENOSYS;
	leader_dead[idx] = 0;
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
		/* An exit between the caller's /proc check and the
		 * subscription is on no socket: look once more. */
		if (subscribed) {
			if (nonchild_gone(w, 0))
				nonchild_exited(w);
			else if (leader_dead[idx])
				recheck_soon();
		}
		__atomic_add_fetch(&monitor_wake, 1, __ATOMIC_RELEASE);
		futex_wake(&monitor_wake);
		return 0;
	}
	/* A child needs no monitor until it is dead (monitor_kick). */
	int wi = waiter_get();
	if (wi < 0)
		return wi;
	w->waiter = wi;
	pool.w[wi].pid = w->pid;
	__atomic_store_n(&pool.w[wi].assigned, idx, __ATOMIC_RELEASE);
	futex_wake(&pool.w[wi].assigned);
	return 0;
}

void monitor_leader_zombie(int idx)
{
	struct sf_watch *w = pidtab_watch(idx);
	if (w->state != SF_W_LIVE || w->is_child)
		return;
	/* marked: each thread exit event and each scan looks at it, and
	 * at once after an exit between our look and the subscription */
	leader_dead[idx] = 1;
	if (nonchild_gone(w, 0))
		nonchild_exited(w);
	else
		recheck_soon();
	__atomic_add_fetch(&monitor_wake, 1, __ATOMIC_RELEASE);
	futex_wake(&monitor_wake);
}

/* Is our fd table that of process OTHER as well (clone(CLONE_FILES))?
 * FD, ours, is put at a free number above it: the same file there in
 * OTHER's table means one table. 1 also when it cannot be told. */
static int fd_table_shared(int fd, int other)
{
	if (other <= 0 || other == sf_getpid())
		return 1;
	long p = sf_sys3(SF_NR_fcntl, fd, F_DUPFD_CLOEXEC, fd + 1);
	if (p < 0)
		return 1;
	char path[48], mine[64], theirs[64];
	sf_fmt(path, sizeof path, "/proc/self/fd/%ld", p);
	long a = sf_sys3(SF_NR_readlink, path, mine, sizeof mine - 1);
	sf_fmt(path, sizeof path, "/proc/%d/fd/%ld", other, p);
	long b = sf_sys3(SF_NR_readlink, path, theirs, sizeof theirs - 1);
	sf_sys1(SF_NR_close, p);
	if (a <= 0)
		return 1;
	if (b < 0)
		return b == -ENOENT ? 0 : 1; /* no such number there: not shared */
	return a == b && !memcmp(mine, theirs, (size_t)a);
}

/* In a fork child none of the threads exist; their stacks are reused. */
void monitor_atfork_child(void)
{
	/* Write only what differs: every page written here is copied (the
	 * parent shares them), and a child that execs at once pays for it. */
	for (int i = 0; i < pool.nwaiters; i++) {
		struct waiter *wt = &pool.w[i];
		if (wt->assigned != -1)
			wt->assigned = -1;
		if (wt->tid)
			wt->tid = 0;
		if (wt->on_idle)
			wt->on_idle = 0;
	}
	pool.idle_head = 0;
	pool.free_head = 0;
	pool.nwaiters = 0;
	monitor_tid = 0;
	monitor_running = 0;
	monitor_wake = 0;
	if (paused || monitor_stop) { /* forked during a pause */
		paused = 0;
		monitor_stop = 0;
		for (int i = 0; i < pool.nwaiters; i++)
			pool.w[i].stop = pool.w[i].left = 0;
	}
	if (rd.tid || rd.running || rd.lock || rd.leave) {
		rd.tid = 0;
		rd.running = 0;
		rd.lock = 0;
		rd.leave = 0;
	}
	recheck_at = 0;
	/* subscribed for the parent: closed unless the table is the
	 * parent's too (clone(CLONE_FILES)), then only forgotten */
	if (cn_sock >= 0 &&
	    sf_sys2(SF_NR_fcntl, cn_sock, F_GETSIG) == SF_TAG_CONNECTOR &&
	    !fd_table_shared(cn_sock, sf_lock_prev_owner()))
		sf_sys1(SF_NR_close, cn_sock);
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
			nonchild_count += !w->foreign;
		}
	}
}

/* Called with the lock held when the first watch becomes dead: the
 * monitor (started if it had left) releases closed pidfds' eventfds. */
void monitor_kick(void)
{
	int r = monitor_start();
	if (r < 0 && r != -ENOSYS)
		sf_log(SF_LOG_WARN, "monitor thread: %s; closed pidfds' eventfds "
				    "stay open until the next pidfd call",
		       sf_errname(r));
	__atomic_add_fetch(&monitor_wake, 1, __ATOMIC_RELEASE);
	futex_wake(&monitor_wake);
}
