/* `sysfill run --mode=trace`: the ptrace front end.
 *
 * The supervisor (this process) forks the program, PTRACE_SEIZEs it with
 * fork/vfork/clone/exec/exit tracing, and the child loads a seccomp filter
 * that returns SECCOMP_RET_TRACE only for the calls emulated here
 * (pidfd_open, pidfd_send_signal, pidfd_getfd, waitid with P_PIDFD, clone3
 * and clone with CLONE_PIDFD: clone.c) and for ptrace; every other call
 * runs without a stop. clone3 gets ENOSYS from the filter itself under
 * --kernel < 5.3 or a profile that refuses it.
 *
 * Everything the program asks for is done BY THE TRACEE, with its own
 * credentials: a stopped call is rewritten in place into the call that does
 * the work (kill, rt_sigqueueinfo, waitid(P_PID), openat of /proc/PID/fd/N),
 * or further calls are injected (rewind the program counter to the syscall
 * instruction at a syscall-exit stop). The supervisor only reads /proc and
 * the tracee's memory to decide what to run.
 *
 * An emulated pidfd is the library's object, an epoll fd holding an
 * eventfd that the supervisor writes when the process exits; the
 * supervisor makes it and passes it to the tracee over a unix socket
 * (tpidfd.c; a pipe where the tracee cannot reach that socket). Its
 * identity is its file (the cookie of its one registration), so dup'd,
 * inherited and passed fds work and a reused number is never taken for a
 * pidfd; an exited watch none of whose files is left is dropped.
 *
 * Exit notification: exact for traced processes (the supervisor reaps the
 * ptrace exit report, after which the real parent can wait for it); other
 * processes are checked every 100 ms through a kept /proc/PID/stat fd.
 *
 * A process that inherited libsysfill.so's filter (RET_TRAP, tag 0x5f5f)
 * stops in a signal-delivery stop for that SIGSYS before it is delivered:
 * it is served as the emulated call here and the signal is suppressed. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <stddef.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/seccomp.h>
#include "sysfill/uapi.h"
#include "trace.h"
#include "tracer.h"
#include "env.h"


/* SECCOMP_RET_DATA of our RET_TRACE rules. */
enum {
	TR_PIDFD_OPEN = 1,
	TR_SEND_SIGNAL,
	TR_GETFD,
	TR_WAITID,
	TR_PTRACE,
	TR_CLONE_PIDFD,
	TR_IOCTL,
	TR_SIGACTION,
	TR_CLONE3,
	TR_SETNS,
	TR_PROCESS_PIDFD,
};

extern char **environ;

int log_level = 1; /* 0 error, 1 warn, 2 info, 3 debug */

void tlog(int level, const char *fmt, ...)
{
	if (level > log_level)
		return;
	static const char *tags[] = {"error", "warn", "info", "debug"};
	char buf[512];
	int n = snprintf(buf, sizeof buf, "sysfill[%d]: %s: ", (int)getpid(),
			 tags[level]);
	va_list ap;
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof buf - 2)
		n = (int)sizeof buf - 2;
	buf[n++] = '\n';
	if (write(env_log_fd(), buf, (size_t)n) < 0) {
	}
}

static int emulating;

static const char *prog_name = "program";

static void do_ptrace(struct call *c)
{
	struct task *t = task_find(c->tid);
	if (!t || !t->ptrace_warned) {
		fprintf(stderr, "sysfill: %s (pid %d) called ptrace(%ld, ...): "
			"not possible under sysfill run --mode=trace (a process "
			"has one tracer, and sysfill is it); it gets EPERM\n",
			prog_name, (int)c->tid, c->a[0]);
		if (t)
			t->ptrace_warned = 1;
	}
	finish(c, -EPERM);
}

/* rt_sigaction(SIGSYS, act, oact, 8) of a program without an inherited
 * filter: installed by the tracee, as Linux stores it. */
static void do_sigaction_sigsys(struct call *c)
{
	struct sf_ksigaction k;
	tlog(3, "[%d] rt_sigaction(SIGSYS, %#lx, %#lx, %ld)", (int)c->tid,
	     c->a[1], c->a[2], c->a[3]);
	if ((size_t)c->a[3] != 8 || !c->a[1])
		return finish_with(c, SF_NR_rt_sigaction, c->a[0], c->a[1],
				   c->a[2], c->a[3], 0);
	if (mem_rw(c->tid, (uintptr_t)c->a[1], &k, sizeof k, 0) < 0)
		return finish(c, -EFAULT);
	sf_ksigaction_store(&k);
	uintptr_t s = scratch(c, sizeof k);
	if (mem_rw(c->tid, s, &k, sizeof k, 1) < 0)
		return finish(c, -EFAULT);
	const long a[6] = {SIGSYS, (long)s, c->a[2], 8, 0, 0};
	tail_finish(c, SF_NR_rt_sigaction, a, sizeof k);
}

static int clone_pidfd_ignored;

void serve(struct call *c)
{
	switch (c->nr) {
	case SF_NR_pidfd_open:
		return do_pidfd_open(c);
	case SF_NR_pidfd_send_signal:
	case SF_NR_pidfd_getfd:
	case SF_NR_ioctl:
	case SF_NR_setns:
	case SF_NR_process_madvise:
	case SF_NR_process_mrelease:
		return do_engine(c);
	case SF_NR_waitid:
		if ((int)c->a[0] == P_PIDFD)
			return do_engine(c);
		return finish_with(c, SF_NR_waitid, c->a[0], c->a[1], c->a[2],
				   c->a[3], c->a[4]);
	case SF_NR_ptrace:
		return do_ptrace(c);
	case SF_NR_rt_sigaction:
		return do_sigaction_sigsys(c);
	case SF_NR_clone:
		/* --kernel < 5.2: CLONE_PIDFD ignored, the slot untouched */
		if (clone_pidfd_ignored)
			return finish_with(c, SF_NR_clone,
					   c->a[0] & ~(long)CLONE_PIDFD, c->a[1],
					   c->a[2], c->a[3], c->a[4]);
		return trace_clone(c);
	case SF_NR_clone3:
		return trace_clone(c);
	}
	finish(c, -ENOSYS);
}

void call_init(struct call *c, pid_t tid, enum at at)
{
	c->tid = tid;
	c->at = at;
	c->gone = 0;
	c->npend = 0;
}

/* A seccomp stop of one of our rules. */
static void on_seccomp(pid_t tid)
{
	struct call c;
	call_init(&c, tid, AT_SECCOMP);
	if (getregs(tid, &c.orig) < 0)
		return;
	c.nr = sf_pt_nr(&c.orig);
	stat_call(tid, c.nr);
	for (int i = 0; i < 6; i++)
		c.a[i] = sf_pt_arg(&c.orig, i);
	serve(&c);
}

/* ---- the main loop ----------------------------------------------------- */

pid_t main_pid;
static int main_status = -1;
static volatile sig_atomic_t tick_due;

static void on_forward(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	/* Terminal signals reach the program's process group by themselves. */
	if (si && si->si_code == SI_KERNEL)
		return;
	if (main_pid > 0)
		kill(main_pid, sig);
}

static void on_tick(int sig)
{
	(void)sig;
	tick_due = 1;
}

void task_exited(pid_t tid, int status)
{
	trace_clone_gone(tid);
	task_del(tid);
	watches_exit(tid, status);
	if (tid == main_pid)
		main_status = status;
}

static void set_ticker(int on)
{
	static int is_on;
	if (on == is_on)
		return;
	struct itimerval it = {{0, on ? 100000 : 0}, {0, on ? 100000 : 0}};
	setitimer(ITIMER_REAL, &it, NULL);
	is_on = on;
}

static void loop(void)
{
	for (;;) {
		if (tick_due) {
			tick_due = 0;
			watches_tick();
		}
		set_ticker(nused > 0);
		int st;
		pid_t tid = wait_any(-1, &st);
		if (tid < 0) {
			if (errno == EINTR)
				continue;
			return; /* ECHILD: every tracee is gone */
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			task_exited(tid, st);
			continue;
		}
		if (!WIFSTOPPED(st))
			continue;
		int fresh = !task_find(tid);
		task_add(tid);
		int sig = WSTOPSIG(st), ev = st >> 16;
		unsigned long msg = 0;
		switch (ev) {
		case PTRACE_EVENT_SECCOMP:
			on_seccomp(tid);
			continue;
		case PTRACE_EVENT_FORK:
		case PTRACE_EVENT_VFORK:
		case PTRACE_EVENT_CLONE:
			if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg) == 0) {
				if (task_add((pid_t)msg))
					sigsys_inherit(tid, (pid_t)msg,
						       ev == PTRACE_EVENT_CLONE);
				if (trace_clone_event(tid, (pid_t)msg))
					continue;
			}
			resume(PTRACE_CONT, tid, 0);
			continue;
		case PTRACE_EVENT_EXEC:
			exec_event(tid);
			continue;
		case PTRACE_EVENT_VFORK_DONE:
			resume(PTRACE_CONT, tid, 0);
			continue;
		case PTRACE_EVENT_STOP:
			if (trace_clone_first_stop(tid, fresh))
				continue;
			if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN ||
			    sig == SIGTTOU) {
				eintr_group_stop(tid);
				ptrace(PTRACE_LISTEN, tid, 0, 0); /* group-stop */
			}
			else
				resume(PTRACE_CONT, tid, 0);
			continue;
		case 0:
			break;
		default:
			resume(PTRACE_CONT, tid, 0);
			continue;
		}
		if (sig == SYSGOOD_TRAP) {
			stat_stop(tid);
			if (trace_clone_exit(tid))
				continue;
			struct task *t = task_find(tid);
			if (t && t->fix) {
				waitid_fixup(tid, t);
				continue;
			}
			/* a stray syscall stop (an injection aborted): go on */
			resume(PTRACE_CONT, tid, 0);
			continue;
		}
		/* signal-delivery stop */
		if (sig == SIGSYS) {
			siginfo_t si;
			if (ptrace(PTRACE_GETSIGINFO, tid, 0, &si) == 0 &&
			    on_preload_trap(tid, &si))
				continue;
		}
		/* an ignored signal must not end the call it interrupted */
		eintr_restartable(tid, sig);
		/* a deferred waitid must still stop at its exit */
		struct task *t = task_find(tid);
		resume(t && t->fix ? PTRACE_SYSCALL : PTRACE_CONT, tid,
		       (long)sig);
	}
}

/* ---- setup ------------------------------------------------------------- */

static int add_trace(scmp_filter_ctx ctx, const char *name, int tag, int ncmp,
		     const struct scmp_arg_cmp *cmp)
{
	long nr = sysnr(name);
	if (nr < 0)
		return 0;
	return seccomp_rule_add_array(ctx, SCMP_ACT_TRACE((unsigned)tag),
				      (int)nr, (unsigned)ncmp, cmp);
}

/* clone3_enosys: answer clone3 with ENOSYS (--kernel < 5.3, or a profile
 * answers EPERM, which breaks glibc's pthread_create; ENOSYS makes it fall
 * back to clone, and this filter, loaded last, wins over the profile's);
 * otherwise, emulating, clone3 is emulated (clone.c). */
static int build_trace_filter(int emulate, int clone3_enosys,
			      int ignore_clone_pidfd, scmp_filter_ctx *out)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return -ENOMEM;
	/* 32-bit programs: not emulated, never killed. */
	int r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW);
	if (!r)
		r = add_trace(ctx, "ptrace", TR_PTRACE, 0, NULL);
	/* clone(CLONE_PIDFD): the flag ignored (--kernel < 5.2), or
	 * emulated (clone.c) */
	if (!r && (ignore_clone_pidfd || emulate)) {
		struct scmp_arg_cmp f = {
			.arg = 0, .op = SCMP_CMP_MASKED_EQ,
			.datum_a = CLONE_PIDFD, .datum_b = CLONE_PIDFD,
		};
		r = add_trace(ctx, "clone", TR_CLONE_PIDFD, 1, &f);
	}
	if (!r && emulate) {
		struct scmp_arg_cmp pidfd = {
			.arg = 0, .op = SCMP_CMP_MASKED_EQ,
			.datum_a = 0xffffffffu, .datum_b = P_PIDFD,
		};
		r = add_trace(ctx, "pidfd_open", TR_PIDFD_OPEN, 0, NULL);
		if (!r)
			r = add_trace(ctx, "pidfd_send_signal", TR_SEND_SIGNAL, 0,
				      NULL);
		if (!r)
			r = add_trace(ctx, "pidfd_getfd", TR_GETFD, 0, NULL);
		if (!r)
			r = add_trace(ctx, "waitid", TR_WAITID, 1, &pidfd);
		/* pidfs's ioctls (type 0xFF), for emulated pidfds */
		struct scmp_arg_cmp pidfs = {
			.arg = 1, .op = SCMP_CMP_MASKED_EQ,
			.datum_a = 0xff00, .datum_b = 0xff00,
		};
		if (!r)
			r = add_trace(ctx, "ioctl", TR_IOCTL, 1, &pidfs);
		/* rt_sigaction(SIGSYS, act): stored as Linux stores it (gVisor
		 * keeps unknown flag bits), as the library does. A query (act
		 * NULL) is the kernel's own and makes no stop: python queries
		 * every action at startup, and gVisor leaves a signal sent to a
		 * task while it waits in a seccomp stop unnoticed (tests/tools/
		 * gvisor-seccomp-stop-signal.c; after an exec stop the
		 * supervisor wakes the task: resume_noticing). */
		struct scmp_arg_cmp sigsys[2] = {
			{.arg = 0, .op = SCMP_CMP_EQ, .datum_a = SIGSYS},
			{.arg = 1, .op = SCMP_CMP_NE, .datum_a = 0},
		};
		if (!r)
			r = add_trace(ctx, "rt_sigaction", TR_SIGACTION, 2, sigsys);
		/* setns(pidfd) (5.8): every setns, for the emulated pidfds
		 * among them (the others are left to the kernel) */
		if (!r)
			r = add_trace(ctx, "setns", TR_SETNS, 0, NULL);
		/* process_madvise (5.10), process_mrelease (5.15): for the
		 * emulated pidfds among them */
		if (!r)
			r = add_trace(ctx, "process_madvise", TR_PROCESS_PIDFD, 0,
				      NULL);
		if (!r)
			r = add_trace(ctx, "process_mrelease", TR_PROCESS_PIDFD, 0,
				      NULL);
	}
	/* clone3: emulated (clone.c), so that no kernel pidfd comes out of
	 * it; ENOSYS as 5.2 where asked (--kernel < 5.3, or over a profile's
	 * EPERM, which an ERRNO rule of ours can override and a TRACE rule
	 * cannot: glibc then falls back to clone). */
	long nr = sysnr("clone3");
	if (!r && nr >= 0 && clone3_enosys)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), (int)nr, 0);
	else if (!r && nr >= 0 && emulate)
		r = add_trace(ctx, "clone3", TR_CLONE3, 0, NULL);
	if (r) {
		seccomp_release(ctx);
		return r;
	}
	*out = ctx;
	return 0;
}

/* Does this kernel lack a pidfd call (so that trace mode emulates)? The
 * engine's probe, as the library decides. */
static int kernel_lacks_pidfd(void)
{
	return (sf_probe_native() & SF_FEAT_PIDFD_FAMILY) != SF_FEAT_PIDFD_FAMILY;
}

static void child_fail(const char *prog, int e)
{
	char buf[512];
	int n = snprintf(buf, sizeof buf, "sysfill: %s: %s\n", prog, strerror(e));
	if (write(2, buf, (size_t)n) < 0) {
	}
	_exit(e == ENOENT || e == ENOTDIR ? EXIT_SF_NOTFOUND : EXIT_SF_NOEXEC);
}

int trace_emulates(unsigned kv)
{
	return env_bool("SYSFILL_FORCE", 0) ||
	       (kv && kversion_triggers_emulation(kv)) || kernel_lacks_pidfd();
}

int trace_run(const char *path, char **argv, void *kctx, int quiet,
	      int force_emulate, int clone3_enosys, int no_emulate,
	      int ignore_clone_pidfd)
{
	log_level = env_log_level();
	sf_log_init();
	handoff = env_bool("SYSFILL_TRACE_HANDOFF", handoff);
	follow_cpu = env_bool("SYSFILL_TRACE_FOLLOW", follow_cpu);
	spin_ns = env_ulong("SYSFILL_TRACE_SPIN_US", spin_ns / 1000) * 1000;
	trace_stats = env_bool("SYSFILL_TRACE_STATS", 0);
	prog_name = argv[0];
	clone_pidfd_ignored = ignore_clone_pidfd;
	int forced = env_bool("SYSFILL_FORCE", 0);
	emulating = !no_emulate &&
		    (forced || force_emulate || kernel_lacks_pidfd());
	/* clone3 refused by a seccomp profile around us: its ERRNO rule
	 * wins over our TRACE one, and ENOSYS from ours over its EPERM */
	errno = 0;
	if (emulating && syscall(SF_NR_clone3, 0, 0) < 0 && errno == EPERM)
		clone3_enosys = 1;
	tlog(2, "trace mode: %s%s", emulating ? "emulating pidfd_open, "
	     "pidfd_send_signal, pidfd_getfd, waitid(P_PIDFD), "
	     "setns(pidfd), process_madvise, process_mrelease, "
	     "clone(CLONE_PIDFD), clone3 (-> ENOSYS where refused)"
	     : "kernel has the pidfd calls: nothing emulated",
	     forced ? " (SYSFILL_FORCE)" : "");

	scmp_filter_ctx tctx = NULL;
	int r = build_trace_filter(emulating, clone3_enosys, ignore_clone_pidfd,
				   &tctx);
	if (r < 0) {
		fprintf(stderr, "sysfill run: cannot build the seccomp filter: "
			"%s\n", strerror(-r));
		return EXIT_SF_FAIL;
	}
	/* SYSFILL_TRACE_CPU=same: the supervisor and the program share one
	 * CPU, so that no stop costs a cross-CPU wake-up (12-15 us per
	 * emulated call here instead of 40-100 us when the scheduler spreads
	 * them). The program sees a one-CPU affinity mask: for single-threaded
	 * programs that make many emulated calls. */
	static const char *const cpu_choices[] = {"any", "same", 0};
	if (env_choice("SYSFILL_TRACE_CPU", cpu_choices, 0) == 1) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(sched_getcpu(), &set);
		if (sched_setaffinity(0, sizeof set, &set) < 0)
			tlog(1, "SYSFILL_TRACE_CPU=same: sched_setaffinity: %s",
			     strerror(errno));
	}
	int go[2];
	if (pipe2(go, O_CLOEXEC) < 0) {
		fprintf(stderr, "sysfill run: pipe: %s\n", strerror(errno));
		return EXIT_SF_FAIL;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "sysfill run: fork: %s\n", strerror(errno));
		return EXIT_SF_FAIL;
	}
	if (pid == 0) {
		close(go[1]);
		char ch;
		if (read(go[0], &ch, 1) != 1)
			_exit(EXIT_SF_FAIL); /* the supervisor failed */
		close(go[0]);
		int nnp;
		if (kctx && kfilter_load(kctx, &nnp) < 0)
			_exit(EXIT_SF_FAIL);
		if (kfilter_load(tctx, &nnp) < 0) {
			static const char m[] = "sysfill run: cannot load the "
						"seccomp filter\n";
			if (write(2, m, sizeof m - 1) < 0) {
			}
			_exit(EXIT_SF_FAIL);
		}
		/* raw: if libsysfill.so is loaded here (a static program
		 * rerouted to us by it), its execve wrapper must not see this */
		syscall(SF_NR_execve, path, argv, environ);
		int e = errno;
		if (e == ENOEXEC) {
			int n = 0;
			while (argv[n])
				n++;
			char **sh = calloc((size_t)n + 2, sizeof *sh);
			if (sh) {
				sh[0] = "/bin/sh";
				sh[1] = (char *)path;
				for (int i = 1; i <= n; i++)
					sh[i + 1] = argv[i];
				syscall(SF_NR_execve, "/bin/sh", sh, environ);
				e = errno;
			}
		}
		child_fail(argv[0], e);
	}
	close(go[0]);
	if (kctx)
		kfilter_release(kctx);
	seccomp_release(tctx);
	main_pid = pid;
	long opts = PTRACE_O_TRACESECCOMP | PTRACE_O_TRACESYSGOOD |
		    PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
		    PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC |
		    PTRACE_O_EXITKILL;
	if (ptrace(PTRACE_SEIZE, pid, 0, opts) < 0) {
		int e = errno;
		fprintf(stderr, "sysfill run: cannot trace %s: PTRACE_SEIZE: %s%s\n",
			argv[0], strerror(e), e == EPERM ? " (is sysfill itself "
			"traced, or ptrace forbidden here?)" : "");
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return EXIT_SF_FAIL;
	}
	task_add(pid);
	(void)quiet;

	/* Our own signals: pass the usual ones on to the program. */
	struct sigaction sa = {0};
	sa.sa_sigaction = on_forward;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	int fwd[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2,
		     SIGWINCH};
	for (size_t i = 0; i < sizeof fwd / sizeof fwd[0]; i++)
		sigaction(fwd[i], &sa, NULL);
	struct sigaction tk = {0};
	tk.sa_handler = on_tick; /* no SA_RESTART: waitpid returns EINTR */
	sigaction(SIGALRM, &tk, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (write(go[1], "g", 1) != 1) {
		kill(pid, SIGKILL);
		return EXIT_SF_FAIL;
	}
	close(go[1]);

	loop();

	set_ticker(0);
	stat_report();
	int st = main_status;
	if (st < 0)
		return EXIT_SF_FAIL;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	/* Die by the program's signal, without a core file of our own. */
	int sig = WTERMSIG(st);
	struct rlimit no = {0, 0};
	setrlimit(RLIMIT_CORE, &no);
	signal(sig, SIG_DFL);
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	sigprocmask(SIG_UNBLOCK, &s, NULL);
	raise(sig);
	return 128 + sig;
}
