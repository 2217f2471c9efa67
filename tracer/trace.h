/* Trace mode (`sysfill run --mode=trace`): interfaces between its parts.
 *
 * trace.c    the supervisor: start, the ptrace event loop, the filter,
 *            which call is served how
 * tracee.c   traced tasks, tracee memory and registers, injection
 * tpidfd.c   the pidfd object in the tracee, its identity and exit,
 *            pidfd_open
 * tcaller.c  the engine's rules (shim/) run for a tracee: struct
 *            sf_caller by ptrace
 * tsigsys.c  the calls of an inherited libsysfill.so filter
 * clone.c    clone3 and clone(CLONE_PIDFD), validated by the engine
 *            (shim/clone_args.c)
 *
 * Every rule of the pidfd calls is the engine's; these files only know
 * how a tracee's call is caught and answered. */
#ifndef SYSFILL_TRACE_H
#define SYSFILL_TRACE_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include "../shim/sf.h"

#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif
#define PRELOAD_TRAP_TAG SF_TRAP_TAG /* libsysfill.so's SECCOMP_RET_DATA */
#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1 /* si_code of a seccomp trap */
#endif
#define SYSGOOD_TRAP (SIGTRAP | 0x80)

/* ---- trace.c ---- */
extern int log_level; /* 0 error, 1 warn, 2 info, 3 debug */
void tlog(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
struct call;
extern pid_t main_pid; /* the program: our child, reaped by our waits */
/* Serve the stopped call C (one of the emulated or trapped calls). */
void serve(struct call *c);
/* A traced task is gone (exit report STATUS). */
void task_exited(pid_t tid, int status);

/* ---- tracee.c: tasks ---- */
#define TASK_SLOTS 32768 /* power of two */
struct task {
	pid_t tid;     /* 0: free */
	int sigsys_blocked; /* under an inherited filter: blocked, virtually */
	int ptrace_warned;
	/* Under an inherited filter, in a thread-group leader's task: the
	 * program's SIGSYS action, recorded, not installed (tsigsys.c). */
	int sigsys_set;
	struct sf_ksigaction sigsys;
	/* A blocking waitid left to run as the program's call, whose result
	 * is fixed at its syscall-exit stop (gVisor's stop reports). */
	int fix;
	int fix_entry_seen;
	pid_t fix_pid;
	int fix_fd, fix_options;
	uintptr_t fix_si, fix_infop, fix_ru;
	struct user_regs_struct fix_orig;
	int stat_slot; /* its last emulated call's counters (stat_call) + 1 */
	int nsdepth;   /* entries of its NSpid line + 1 (proc_view); 0 unknown */
	int nsview;    /* deeper: its root's /proc is its namespace's (1), not (-1) */
	/* its pid namespace (tpidns.c): 1 + levels below ours, -1 deeper but
	 * not known which, 0 not looked at yet; and its inode (0: unknown) */
	int nslevel;
	ino_t nsino;
	/* the trampoline page in its address space that puts the program's
	 * registers back after a tail call (tcaller.c), 0 none yet; notramp:
	 * none can be made */
	uintptr_t tramp;
	int notramp, tramp_sealed;
	int nosock;    /* cannot reach the supervisor's socket: pipe pidfds */
	int sock_slot; /* its socket's slot (tpidfd.c) + 1, 0 unknown */
};
extern struct task tasks[TASK_SLOTS];
extern int ntasks;
struct task *task_find(pid_t tid);
struct task *task_add(pid_t tid);
void task_del(pid_t tid);

/* ---- tracee.c: cost counters (SYSFILL_TRACE_STATS=1) ----
 * Per emulated call: how many, the ptrace stops of the calling thread
 * while it is served (its seccomp or SIGSYS stop included; the stops every
 * traced clone has, its event and the child's first stop, not), and the
 * syscalls injected into it (each waited for at its exit stop). */
extern int trace_stats;
/* TID stopped for emulated call NR: a call, and its first stop. */
void stat_call(pid_t tid, long nr);
/* One more stop of TID, counted to its last emulated call. */
void stat_stop(pid_t tid);
/* The counters, one line per call made, to the log. */
void stat_report(void);

/* ---- tracee.c: memory, registers, injection ---- */
/* Copy N bytes between us and the stopped tracee's memory at ADDR (WR:
 * to the tracee). Returns 0 or -EFAULT. */
int mem_rw(pid_t tid, uintptr_t addr, void *buf, size_t n, int wr);
enum at { AT_SECCOMP, AT_EXIT, AT_SIGNAL };
/* Signals held during an injection: each arrival is one stop, so more
 * than a program's pending signals (a standard one once, real-time ones
 * queued) rarely come in the few calls of one emulation. */
#define NPEND 64
struct call {
	pid_t tid;
	enum at at;
	struct user_regs_struct orig; /* at the stop; pc after the syscall */
	struct user_regs_struct cur;
	long nr, a[6];
	int gone;                     /* the tracee died during injection */
	int npend;
	siginfo_t pend[NPEND];        /* signals that arrived mid-injection */
};
/* A call of TID stopped AT (trace.c). */
void call_init(struct call *c, pid_t tid, enum at at);
int getregs(pid_t tid, struct user_regs_struct *r);
int setregs(pid_t tid, const struct user_regs_struct *r);
extern int handoff, follow_cpu;
extern long spin_ns;
long resume(int req, pid_t tid, long sig);
/* Resume TID (PTRACE_CONT) from a stop in which a signal may have come
 * for it, so that it sees that signal where the kernel would not look
 * (gVisor; tracee.c). */
void resume_noticing(pid_t tid);
/* TID's PTRACE_EVENT_EXEC stop: forget what belonged to its old image
 * and to the threads the exec ended, and resume it (tracee.c). */
void exec_event(pid_t tid);
pid_t wait_any(pid_t tid, int *st);
/* Run syscall NR in C's tracee; its result (-errno), or -ESRCH with
 * c->gone set if the tracee died. */
long tsys(struct call *c, long nr, long a0, long a1, long a2, long a3,
	  long a4, long a5);
/* LEN bytes of scratch memory in C's tracee, below its red zone. */
uintptr_t scratch(const struct call *c, size_t len);
int tgid_of(pid_t tid);
/* Queue again the signals that arrived during injection. */
void requeue(struct call *c);
/* The program sees RESULT; C resumes. */
void finish(struct call *c, long result);
/* Set C's registers so that its tracee makes NR(ARGS) as its own call
 * once resumed (rewritten in place at a seccomp stop, else the syscall
 * instruction run again; registers past NR's arguments keep the
 * program's values). 0 or -errno. */
int trace_reissue(struct call *c, long nr, const long args[6]);
/* C makes NR(ARGS) as its own call, resumed with REQ (PTRACE_CONT, or
 * PTRACE_SYSCALL to stop at its exit). */
void leave_to_tracee(struct call *c, int req, long nr, const long args[6]);
/* Resume C->tid with PTRACE_SYSCALL up to its next syscall stop (signals
 * meanwhile kept in C->pend). 0, or -ESRCH if it died. */
int to_syscall_stop(struct call *c);
/* How many arguments NR takes (of the calls finish_with makes; 6 for
 * the others). */
int sys_arity(long nr);
/* C makes NR(A0..A4) as its own call, whose result is the program's. */
void finish_with(struct call *c, long nr, long a0, long a1, long a2, long a3,
		 long a4);

/* ---- tpidfd.c ---- */
/* A pidfd is an epoll fd the supervisor made (holding an eventfd it
 * writes at the exit) and sent to the tracee over its socket (TW_EPOLL),
 * or, where the tracee cannot reach the supervisor's socket (another
 * network namespace, socket() refused), the read end of a pipe made in
 * the tracee whose write end the supervisor holds (TW_PIPE). */
enum { TW_PIPE, TW_EPOLL };
struct watch {
	int used;
	int kind;          /* TW_* */
	dev_t dev;         /* TW_PIPE: the pipe's inode */
	ino_t ino;
	uint64_t cookie;   /* TW_EPOLL: the epoll data of its eventfd */
	int wfd;           /* our write end of the pipe, or our eventfd */
	int statfd;        /* /proc/PID/stat, kept for untraced/exited ones */
	pid_t pid;         /* as the tracee named it */
	pid_t gpid;        /* in our pid namespace */
	uint64_t starttime;
	int nonblock;      /* PIDFD_NONBLOCK asked */
	int traced;        /* the process is one of our tracees */
	int exited;        /* notified */
	int seen;          /* gc: some pidfd file of it still exists */
	/* where pid is a number: the creator's pid namespace (tpidns.c) */
	int nslevel;
	ino_t nsino;
	pid_t creator;     /* the creating tracee's process, our number */
	/* PIDFD_THREAD (6.9): pid/gpid is one thread, of the thread group
	 * tgid (as the creator named it) / gtgid (ours) */
	int thread;
	pid_t tgid, gtgid;
	/* what PIDFD_INFO_EXIT reports (the engine's exitinfo_*: its
	 * exit_known, exit_code, exit_dumped, exit_cgroupid; pid = gpid) */
	struct sf_watch ex;
};
extern struct watch *watches;
extern int nwatches, nused;
struct watch *watch_new(void);
void watch_fire(struct watch *w);
void watch_free(struct watch *w);
/* Exit of traced task GPID (reported to us with wait status STATUS):
 * its pidfds are ready, and know its exit. */
void watches_exit(pid_t gpid, int status);
/* Is the process behind W gone for good (reaped)? */
int watch_reaped(struct watch *w);
/* Periodic: exits of untraced processes; drop pidfds nobody holds. */
void watches_tick(void);
/* The emulated pidfd behind C's tracee's FD, NULL if none (*GONE set if
 * it is one whose process is reaped and whose watch cannot be told);
 * *PROCDIR (if not NULL) gets the pid of a /proc/<pid> directory fd (-1:
 * gone); *NONBLOCK (if not NULL) the O_NONBLOCK of an epoll pidfd's file
 * (left as it is for a pipe). May inject calls into C's tracee (gVisor). */
struct watch *resolve_fd(struct call *c, long fd, pid_t *procdir, int *gone,
			 int *nonblock);
/* The /proc the tracee sees, as we reach it. */
void proc_view(pid_t tid, char *buf, size_t len);
/* A new emulated pidfd for PID (as C's tracee names it) with FLAGS
 * (PIDFD_NONBLOCK) in C's tracee. Returns the tracee's fd or -errno. */
long trace_pidfd_new(struct call *c, pid_t pid, unsigned flags);
void do_pidfd_open(struct call *c);

/* ---- tpidns.c: tracees in deeper pid namespaces ---- */
/* The NSpid entries of our /proc/PID/status (ours first) into V (up to
 * N): how many, 0 if the line is missing (gVisor), -1 if unreadable. */
int trace_nspid(pid_t pid, long *v, int n);
/* C's tracee's pid namespace: levels below ours (0: ours), -1 unknown. */
int trace_ns_level(struct call *c);
/* Our number for the process (THREAD: the task) PID names in C's
 * tracee's namespace: 0 if none, -1 if it cannot be told (never a
 * guess). */
pid_t trace_ns_to_ours(struct call *c, pid_t pid, int thread);
/* Record in W the namespace C's tracee named its process in. */
void trace_ns_mark(struct call *c, struct watch *w);
/* The number C's tracee's namespace has for W's process, -EREMOTE if it
 * has none (or it cannot be told). */
long trace_ns_pid(struct call *c, const struct watch *w);

/* ---- tcaller.c ---- */
/* The engine's view of a stopped call's tracee (struct sf_caller by
 * ptrace): for the engine's rules run from other parts (clone.c). */
struct tcaller {
	struct sf_caller c; /* first: the engine's view */
	struct call *call;
	char proc[64], self[48];
	int nested;         /* the tracee is in a deeper pid namespace */
	int tailed;         /* tail/last: the call to leave to the tracee */
	long tail_nr, tail_a[6];
	size_t tail_bytes;  /* its buffers below the red zone (tc_last) */
	int res_fd, res_idx; /* the last fd resolved, its watch (-1 none) */
};
void tcaller_init(struct tcaller *t, struct call *k);
/* pidfd_send_signal, waitid(P_PIDFD), pidfd_getfd, ioctl: the engine's. */
void do_engine(struct call *c);
/* The exit stop of a deferred waitid peek. */
void waitid_fixup(pid_t tid, struct task *t);
/* finish_with(K, NR, A...), the program's argument registers kept:
 * where NR(A) would leave others, it returns through the tracee's
 * trampoline, which puts them back (BYTES: what the call's buffers take
 * below the red zone, left alone). */
void tail_finish(struct call *k, long nr, const long a[6], size_t bytes);

/* ---- tsigsys.c ---- */
/* The virtual SIGSYS mask bit goes with every new task, the recorded
 * SIGSYS action with a fork (CLONE: a clone event, which may be a
 * thread), and exec resets it as the kernel does. */
void sigsys_inherit(pid_t parent, pid_t child, int clone);
/* TID's recorded SIGSYS action as flush_signal_handlers leaves it (exec,
 * CLONE_CLEAR_SIGHAND). */
void sigsys_exec(pid_t tid);
/* A SIGSYS of an inherited libsysfill.so filter: 1 if served. */
int on_preload_trap(pid_t tid, const siginfo_t *si);

/* ---- clone.c: clone3 and clone(CLONE_PIDFD) ---- */
/* Emulate C (clone3 or clone with CLONE_PIDFD) stopped at a seccomp or
 * signal-delivery stop: validated, rewritten into the legacy clone the
 * tracee then makes; finished at its syscall-exit stop. */
void trace_clone(struct call *c);
/* Main-loop hooks; each returns 1 if it took the stop over (resumed or
 * kept the task). A syscall stop of TID: */
int trace_clone_exit(pid_t tid);
/* PTRACE_EVENT_FORK/VFORK/CLONE of PARENT that made CHILD: */
int trace_clone_event(pid_t parent, pid_t child);
/* A PTRACE_EVENT_STOP of TID (FRESH: the first stop we see of it): */
int trace_clone_first_stop(pid_t tid, int fresh);
/* TID is gone. */
void trace_clone_gone(pid_t tid);

#endif
