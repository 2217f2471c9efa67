/* The engine's rules (shim/pidfd.c) for a tracee: the operations of
 * struct sf_caller done by ptrace (memory, injected syscalls, the last
 * call left to the tracee, pidfd resolution, the tracee's /proc). */
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
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "trace.h"

/* ---- the engine's rules, for a tracee --------------------------------
 * pidfd_send_signal, waitid(P_PIDFD), pidfd_getfd and pidfs's ioctls are
 * the engine's (shim/pidfd.c), run with this caller: the tracee's memory,
 * syscalls injected into the tracee (its credentials, namespaces, fd
 * table), the last call of an emulation left to the tracee as its own,
 * pidfds resolved here (tracer pidfds, /proc/<pid> directories, kernel
 * pidfds). */
static struct call *tc_call(const struct sf_caller *c)
{
	return ((const struct tcaller *)c)->call;
}

static long tc_read(const struct sf_caller *c, void *dst, uintptr_t src,
		    size_t n)
{
	return mem_rw(tc_call(c)->tid, src, dst, n, 0);
}

static long tc_write(const struct sf_caller *c, uintptr_t dst, const void *src,
		     size_t n)
{
	return mem_rw(tc_call(c)->tid, dst, (void *)src, n, 1);
}

/* The engine's buffers B, copied below the tracee's red zone; A's
 * arguments pointed there; *USED (if not NULL) gets the bytes taken
 * (scratch(K, *USED) is the lowest). Returns 0 or -EFAULT. */
static long tc_put_bufs(struct call *k, long a[6], const struct sf_buf *b,
			int nb, size_t *used)
{
	size_t total = 0;
	for (int i = 0; i < nb; i++)
		total += (b[i].n + 15) & ~(size_t)15;
	if (used)
		*used = total;
	uintptr_t s = scratch(k, total);
	for (int i = 0; i < nb; i++) {
		a[b[i].arg] = (long)s;
		if (mem_rw(k->tid, s, b[i].p, b[i].n, 1) < 0)
			return -EFAULT; /* cannot happen: the stack */
		s += (b[i].n + 15) & ~(size_t)15;
	}
	return 0;
}

static long tc_sys(const struct sf_caller *c, long nr, const long args[6],
		   const struct sf_buf *b, int nb)
{
	const struct tcaller *t = (const struct tcaller *)c;
	struct call *k = t->call;
	if (k->gone)
		return -ESRCH;
	/* its own ids, known here unless it is in another pid namespace */
	if (!t->nested && nr == SF_NR_gettid)
		return k->tid;
	if (!t->nested && nr == SF_NR_getpid)
		return tgid_of(k->tid);
	/* The inherited library filter traps pidfs's ioctls from anywhere
	 * but its gate, which this process does not have: an open file that
	 * is no pidfd answers them ENOTTY, a closed number EBADF. */
	if (k->at == AT_SIGNAL && nr == SF_NR_ioctl) {
		char path[64];
		struct stat st;
		snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)k->tid,
			 (int)args[0]);
		return args[0] < 0 || args[0] > INT_MAX || lstat(path, &st) < 0
			       ? -EBADF
			       : -ENOTTY;
	}
	long a[6];
	memcpy(a, args, sizeof a);
	if (tc_put_bufs(k, a, b, nb, NULL) < 0)
		return -EFAULT;
	long r = tsys(k, nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	if (k->gone)
		return -ESRCH;
	for (int i = 0; i < nb; i++)
		if ((b[i].dir & SF_BUF_OUT) &&
		    mem_rw(k->tid, (uintptr_t)a[b[i].arg], b[i].p, b[i].n, 0) < 0)
			return -EFAULT;
	return r;
}

static long tc_tail(const struct sf_caller *c, long nr, const long args[6])
{
	struct tcaller *t = (struct tcaller *)c;
	t->tailed = 1;
	t->tail_nr = nr;
	memcpy(t->tail_a, args, sizeof t->tail_a);
	return 0;
}

static long tc_last(const struct sf_caller *c, long nr, const long args[6],
		    const struct sf_buf *b, int nb)
{
	struct tcaller *t = (struct tcaller *)c;
	if (t->call->at == AT_SIGNAL && nr == SF_NR_ioctl)
		return -ENOSYS; /* see tc_sys */
	long a[6];
	memcpy(a, args, sizeof a);
	/* the buffers stay below the red zone until the call has read them:
	 * the tracee runs no code of its own before it */
	if (tc_put_bufs(t->call, a, b, nb, &t->tail_bytes) < 0)
		return -EFAULT;
	return tc_tail(c, nr, a);
}

/* The tracee's fdinfo of fd in buf; its O_NONBLOCK into *nonblock if
 * that is non-NULL. 0 or -EBADF. */
static int fdinfo(pid_t tid, int fd, char *buf, size_t len, int *nonblock)
{
	char path[64];
	uint64_t v;
	snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", (int)tid, fd);
	if (proc_read(path, buf, len) <= 0)
		return -EBADF;
	if (nonblock && proc_status_field(buf, "flags", &v, 1, 8) == 1)
		*nonblock = !!(v & O_NONBLOCK);
	return 0;
}

/* A kernel pidfd of the tracee (a kernel with CLONE_PIDFD but not the
 * later calls): its pid (fdinfo "Pid:", -1 once reaped), or -EBADF. */
static long kernel_pidfd(pid_t tid, int fd, int *nonblock)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)tid, fd);
	ssize_t n = readlink(path, buf, sizeof buf - 1);
	if (n <= 0)
		return -EBADF;
	buf[n] = 0;
	if (strcmp(buf, "anon_inode:[pidfd]") && strncmp(buf, "pidfd:", 6))
		return -EBADF;
	if (fdinfo(tid, fd, buf, sizeof buf, nonblock) < 0)
		return -EBADF;
	long pid;
	char *p = strstr(buf, "\nPid:");
	if (!p)
		return -EBADF;
	for (p += 5; *p == ' ' || *p == '\t'; p++)
		;
	pid = *p == '-' ? -1 : (long)proc_number(p);
	return pid > 0 ? pid : -ESRCH;
}

static long tc_pidfd(const struct sf_caller *c, int fd, int procdir,
		     int *nonblock)
{
	struct call *k = tc_call(c);
	pid_t ppid = 0;
	int gone = 0, fl = 1;
	struct watch *w = resolve_fd(k, fd, procdir ? &ppid : NULL, &gone,
				     nonblock ? &fl : NULL);
	struct tcaller *t = (struct tcaller *)c;
	t->res_fd = fd;
	t->res_idx = w ? (int)(w - watches) : -1;
	if (gone)
		return -ESRCH;
	if (w) {
		if (watch_reaped(w))
			return -ESRCH;
		/* The kernel reads O_NONBLOCK from the file at each wait. A
		 * pipe is always non-blocking (a read must not block), so a
		 * pipe pidfd opened without PIDFD_NONBLOCK stays blocking
		 * whatever F_SETFL does; one opened with it blocks once F_SETFL
		 * has cleared O_NONBLOCK (pidfd_wait's wait_nonblock does so).
		 * An epoll pidfd's flag is the file's own. */
		if (nonblock && w->kind == TW_EPOLL) {
			*nonblock = fl;
		} else if (nonblock) {
			char buf[256];
			fdinfo(k->tid, fd, buf, sizeof buf, &fl);
			*nonblock = w->nonblock && fl;
		}
		/* the number the caller's pid namespace has for it */
		return trace_ns_pid(k, w);
	}
	if (ppid)
		return ppid > 0 ? ppid : -ESRCH;
	return kernel_pidfd(k->tid, fd, nonblock);
}

/* The engine's record of pidfd FD (the watch tc_pidfd found for it, or
 * found now): thread, its group as C's namespace numbers it, the exit. */
static long tc_watch(const struct sf_caller *c, int fd, struct sf_watch *e)
{
	struct tcaller *t = (struct tcaller *)c;
	struct call *k = t->call;
	struct watch *w = NULL;
	if (t->res_fd == fd && t->res_fd >= 0)
		w = t->res_idx >= 0 ? &watches[t->res_idx] : NULL;
	else
		w = resolve_fd(k, fd, NULL, &(int){0}, NULL);
	if (!w || !w->used)
		return -EBADF;
	*e = w->ex;
	e->thread = w->thread;
	e->tgid = 0;
	if (w->thread) {
		struct watch g = *w;
		g.pid = w->tgid;
		g.gpid = w->gtgid;
		long tg = trace_ns_pid(k, &g);
		e->tgid = tg > 0 ? (pid_t)tg : 0;
		if (!e->tgid)
			e->thread = 0;
	}
	return 0;
}

static long tc_defer_stop_wait(const struct sf_caller *c, pid_t pid,
			       uintptr_t infop, int options, uintptr_t ru);

void tcaller_init(struct tcaller *t, struct call *k)
{
	memset(t, 0, sizeof *t);
	t->call = k;
	t->c.read = tc_read;
	t->c.write = tc_write;
	t->c.tail = tc_tail;
	t->c.sys = tc_sys;
	t->c.pidfd = tc_pidfd;
	t->c.watch = tc_watch;
	t->res_fd = -1;
	/* a traced process's exit is reported here before any wait can
	 * reap it; the others are checked against /proc (watch_reaped) */
	t->c.reaps_seen = 1;
	t->c.defer_stop_wait = tc_defer_stop_wait;
	t->c.last = tc_last;
	proc_view(k->tid, t->proc, sizeof t->proc);
	t->nested = strcmp(t->proc, "/proc") != 0 || trace_ns_level(k) != 0;
	snprintf(t->self, sizeof t->self, "/proc/%d", (int)k->tid);
	t->c.proc = t->proc;
	t->c.self = t->self;
}

/* ---- the program's registers after a tail call -----------------------
 * A system call leaves every register but the result (and rcx, r11) as
 * the program had them; a tail call made with other arguments would
 * leave its own. As the library's tail (preload/tail.c), the call
 * returns into a trampoline that puts the program's back, mapped once
 * per address space (an injected mmap, written by ptrace, sealed where
 * mseal exists, else checked before each use; inherited by threads and
 * forks, dropped at exec). Its forms:
 *  B (only rdi differs) and C (waitid(P_PIDFD, fd) made as waitid(P_PID,
 *    pid): rdi and rsi): the program's value and the return address
 *    ride in rcx and r11, which the call clobbers anyway and the kernel
 *    returns as the tracer set them from a call rewritten in place;
 *    where the tracee makes the call itself (a restart, which lands on
 *    the jump before the entry; a call re-run from a signal-delivery or
 *    exit stop) the trampoline keeps them on its stack meanwhile. No
 *    memory is written by the tracer.
 *  A (any other): the tracer writes the program's registers below the
 *    call's buffers, which the call runs on; a `syscall` first, where a
 *    restart begins.
 * No further stop in any form. */
#ifdef __x86_64__
#ifndef SF_NR_mseal
#define SF_NR_mseal 462 /* 6.10 */
#endif
__asm__(".pushsection .rodata\n"
	".p2align 4\n"
	"sf_trace_tramp:\n"
	/* A */
	"	syscall\n"
	"sf_tramp_a:\n"
	"	mov (%rsp), %rdi\n"
	"	mov 8(%rsp), %rsi\n"
	"	mov 16(%rsp), %rdx\n"
	"	mov 24(%rsp), %r10\n"
	"	mov 32(%rsp), %r8\n"
	"	mov 40(%rsp), %r9\n"
	"	mov 48(%rsp), %rcx\n" /* as the kernel leaves it: the return */
	"	mov 56(%rsp), %rsp\n"
	"	jmp *%rcx\n"
	/* B: r11 = the program's rdi, rcx = the return */
	"	jmp sf_tramp_b_own\n"
	"sf_tramp_b:\n"
	"	mov %r11, %rdi\n"
	"	jmp *%rcx\n"
	"sf_tramp_b_own:\n"
	"	lea -128(%rsp), %rsp\n"
	"	push %rcx\n"
	"	push %r11\n"
	"	syscall\n"
	"	pop %rdi\n"
	"	pop %rcx\n"
	"	lea 128(%rsp), %rsp\n"
	"	jmp *%rcx\n"
	/* C: r11 = the program's rsi, its rdi P_PIDFD */
	"	jmp sf_tramp_c_own\n"
	"sf_tramp_c:\n"
	"	mov %r11, %rsi\n"
	"	mov $3, %edi\n"
	"	jmp *%rcx\n"
	"sf_tramp_c_own:\n"
	"	lea -128(%rsp), %rsp\n"
	"	push %rcx\n"
	"	push %r11\n"
	"	syscall\n"
	"	pop %rsi\n"
	"	mov $3, %edi\n"
	"	pop %rcx\n"
	"	lea 128(%rsp), %rsp\n"
	"	jmp *%rcx\n"
	"sf_trace_tramp_end:\n"
	".popsection\n");
extern const unsigned char sf_trace_tramp[], sf_trace_tramp_end[],
	sf_tramp_a[], sf_tramp_b[], sf_tramp_b_own[], sf_tramp_c[],
	sf_tramp_c_own[];
#define TRAMP_OFF(sym) ((uintptr_t)((sym) - sf_trace_tramp))
_Static_assert(P_PIDFD == 3, "form C restores rdi = 3");

/* Is the trampoline at AT in TID's address space? */
static int tramp_at(pid_t tid, uintptr_t at)
{
	size_t n = (size_t)(sf_trace_tramp_end - sf_trace_tramp);
	unsigned char cur[160];
	return at && n <= sizeof cur && mem_rw(tid, at, cur, n, 0) == 0 &&
	       !memcmp(cur, sf_trace_tramp, n);
}

/* The last trampoline made per thread group (threads that were made
 * before it find it here). */
static struct {
	pid_t tgid;
	uintptr_t at;
	int sealed;
} trtab[256];

/* The trampoline in K's tracee, 0 if it has none and none can be made.
 * Mapped read+exec, never writable (filters such as systemd's
 * MemoryDenyWriteExecute refuse an executable mprotect), written by
 * ptrace (which may), then sealed (mseal, 6.10: no munmap, mremap or
 * MAP_FIXED over it; in its place, a check of its bytes at each use). */
static uintptr_t tramp_of(struct call *k)
{
	struct task *t = task_find(k->tid);
	if (!t)
		return 0;
	if (t->tramp && (t->tramp_sealed || tramp_at(k->tid, t->tramp)))
		return t->tramp;
	t->tramp = 0;
	if (t->notramp)
		return 0;
	pid_t tg = tgid_of(k->tid);
	unsigned h = (unsigned)tg % 256;
	if (trtab[h].tgid == tg && tramp_at(k->tid, trtab[h].at)) {
		t->tramp_sealed = trtab[h].sealed;
		return t->tramp = trtab[h].at;
	}
	long p = tsys(k, SF_NR_mmap, 0, 4096, PROT_READ | PROT_EXEC,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (k->gone)
		return 0;
	if ((unsigned long)p >= -4095UL) {
		t->notramp = 1; /* refused (a filter, a memory limit) */
		return 0;
	}
	size_t n = (size_t)(sf_trace_tramp_end - sf_trace_tramp);
	for (size_t off = 0; off < n; off += sizeof(long)) {
		long w = 0;
		memcpy(&w, sf_trace_tramp + off,
		       n - off < sizeof w ? n - off : sizeof w);
		if (ptrace(PTRACE_POKEDATA, k->tid, (void *)(p + off),
			   (void *)w) < 0) {
			tsys(k, SF_NR_munmap, p, 4096, 0, 0, 0, 0);
			t->notramp = 1;
			return 0;
		}
	}
	t->tramp_sealed = tsys(k, SF_NR_mseal, p, 4096, 0, 0, 0, 0) == 0;
	trtab[h].tgid = tg;
	trtab[h].at = (uintptr_t)p;
	trtab[h].sealed = t->tramp_sealed;
	return t->tramp = (uintptr_t)p;
}

void tail_finish(struct call *k, long nr, const long a[6], size_t bytes)
{
	int n = sys_arity(nr);
	unsigned diff = 0;
	for (int i = 0; i < n && i < 6; i++)
		if (a[i] != sf_pt_arg(&k->orig, i))
			diff |= 1u << i;
	uintptr_t tr = diff && !k->gone ? tramp_of(k) : 0;
	int form = !tr ? 0 : diff == 1 ? 'B'
		: diff == 3 && nr == SF_NR_waitid && k->orig.rdi == P_PIDFD ? 'C'
		: 'A';
	if (form == 'B' || form == 'C') {
		requeue(k);
		if (k->gone)
			return;
		struct user_regs_struct r = k->orig;
		long args[6];
		for (int i = 0; i < 6; i++)
			args[i] = i < n ? a[i] : sf_pt_arg(&k->orig, i);
		sf_pt_set_args(&r, args);
		sf_pt_set_nr(&r, nr);
		r.rcx = k->orig.rip;
		r.r11 = form == 'B' ? k->orig.rdi : k->orig.rsi;
		if (k->at == AT_SECCOMP) {
			/* rewritten in place: it returns to the loads */
			r.rip = tr + TRAMP_OFF(form == 'B' ? sf_tramp_b : sf_tramp_c);
		} else {
			/* made by the tracee, from the trampoline's own syscall */
			sf_pt_set_result(&r, nr);
			r.rip = tr + TRAMP_OFF(form == 'B' ? sf_tramp_b_own
							   : sf_tramp_c_own);
		}
		setregs(k->tid, &r);
		resume(PTRACE_CONT, k->tid, 0);
		return;
	}
	if (form == 'A') {
		unsigned long long save[8] = {
			k->orig.rdi, k->orig.rsi, k->orig.rdx, k->orig.r10,
			k->orig.r8,  k->orig.r9,  k->orig.rip, k->orig.rsp};
		uintptr_t s = scratch(k, ((bytes + 15) & ~(size_t)15) + sizeof save);
		if (mem_rw(k->tid, s, save, sizeof save, 1) == 0) {
			/* the call returns to the loads (one re-run from a
			 * signal-delivery or exit stop starts at the syscall
			 * before them) */
			k->orig.rip = tr + TRAMP_OFF(sf_tramp_a);
			k->orig.rsp = s;
		}
	}
	finish_with(k, nr, a[0], a[1], a[2], a[3], a[4]);
}
#else
void tail_finish(struct call *k, long nr, const long a[6], size_t bytes)
{
	(void)bytes;
	finish_with(k, nr, a[0], a[1], a[2], a[3], a[4]);
}
#endif

/* Finish C with the engine's answer R. */
static void tc_finish(struct tcaller *t, long r)
{
	struct call *k = t->call;
	if (r != SF_TAIL)
		return finish(k, r);
	if (!t->tailed)
		return; /* deferred: the tracee runs on (tc_defer_stop_wait) */
	long *a = t->tail_a;
	tail_finish(k, t->tail_nr, a, t->tail_bytes);
}

void do_engine(struct call *c)
{
	struct tcaller t;
	tcaller_init(&t, c);
	long r;
	switch (c->nr) {
	case SF_NR_pidfd_send_signal:
		r = sf_pidfd_send_signal(&t.c, (int)c->a[0], (int)c->a[1],
					 (uintptr_t)c->a[2], (unsigned)c->a[3]);
		break;
	case SF_NR_pidfd_getfd:
		r = sf_pidfd_getfd_as(&t.c, (int)c->a[0], (int)c->a[1],
				      (unsigned)c->a[2]);
		break;
	case SF_NR_ioctl:
		r = sf_pidfd_ioctl(&t.c, (int)c->a[0], (unsigned)c->a[1],
				   (uintptr_t)c->a[2]);
		break;
	case SF_NR_setns:
		r = sf_setns(&t.c, (int)c->a[0], (int)c->a[1]);
		break;
	case SF_NR_process_madvise:
	case SF_NR_process_mrelease:
		r = sf_process_pidfd_call(&t.c, c->nr, c->a);
		break;
	default: /* waitid(P_PIDFD) */
		r = sf_waitid_pidfd(&t.c, (int)c->a[1], (uintptr_t)c->a[2],
				    (int)c->a[3], (uintptr_t)c->a[4]);
	}
	tlog(3, "[%d] call %ld: %ld", (int)c->tid, c->nr, r);
	tc_finish(&t, r);
}

/* A blocking waitid for stops or continues where the kernel's reports
 * need the engine's correction (gVisor): the WNOWAIT peek runs as the
 * program's own call (other tracees are served meanwhile); at its exit
 * stop waitid_fixup gives its result to sf_waitid_resume. */
static long tc_defer_stop_wait(const struct sf_caller *c, pid_t pid,
			       uintptr_t infop, int options, uintptr_t ru)
{
	struct call *k = tc_call(c);
	struct task *t = task_find(k->tid);
	if (!t)
		return -ENOSYS;
	requeue(k);
	if (k->gone)
		return 0;
	uintptr_t si = infop ? infop : scratch(k, sizeof(siginfo_t));
	t->fix = 1;
	t->fix_entry_seen = 0;
	t->fix_pid = pid;
	t->fix_fd = (int)k->a[1];
	t->fix_options = options;
	t->fix_infop = infop;
	t->fix_si = si;
	t->fix_ru = ru;
	t->fix_orig = k->orig;
	const long a[6] = {P_PID, pid, (long)si, options | WNOWAIT, 0, 0};
	leave_to_tracee(k, PTRACE_SYSCALL, SF_NR_waitid, a);
	return 0;
}

/* The exit stop of a deferred waitid peek (see tc_defer_stop_wait). */
void waitid_fixup(pid_t tid, struct task *t)
{
	struct call c;
	memset(&c, 0, sizeof c);
	c.tid = tid;
	c.at = AT_EXIT;
	c.orig = t->fix_orig;
	if (getregs(tid, &c.cur) < 0)
		return;
	long r = sf_pt_result(&c.cur);
	if (sf_pt_nr(&c.cur) != SF_NR_waitid || sf_pt_arg(&c.cur, 0) != P_PID ||
	    sf_pt_arg(&c.cur, 1) != t->fix_pid ||
	    (uintptr_t)sf_pt_arg(&c.cur, 2) != t->fix_si) {
		/* a call of a signal handler that ran first: not ours */
		resume(PTRACE_SYSCALL, tid, 0);
		return;
	}
	if (!t->fix_entry_seen && r == -ENOSYS) {
		/* gVisor: this is the entry stop */
		t->fix_entry_seen = 1;
		resume(PTRACE_SYSCALL, tid, 0);
		return;
	}
	t->fix = 0;
	if (r <= -512 && r >= -516) {
		/* Interrupted by a signal (SIGCHLD reaches a traced process
		 * even when ignored): put the program's own call back, so that
		 * the kernel's restart runs it, and it stops here again. */
		struct user_regs_struct back = t->fix_orig;
		sf_pt_set_result(&back, r);
		setregs(tid, &back);
		resume(PTRACE_CONT, tid, 0);
		return;
	}
	struct tcaller tc;
	tcaller_init(&tc, &c);
	r = sf_waitid_resume(&tc.c, r, t->fix_fd, t->fix_pid, t->fix_infop,
			     t->fix_options, t->fix_ru);
	tc_finish(&tc, r);
}
