/* sysfill engine: internal interfaces. Internal functions return -errno or a
 * value >= 0; only include/sysfill.h entry points set errno. */
#ifndef SYSFILL_SF_H
#define SYSFILL_SF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <sys/eventfd.h>
#include <errno.h>
#include "arch/arch.h"
#include "../include/sysfill/uapi.h"

#define SF_HIDDEN __attribute__((visibility("hidden")))

/* ---- raw syscalls (signal-safe, never touch errno) ---- */
#define sf_sys0(n) sf_syscall6(n, 0, 0, 0, 0, 0, 0)
#define sf_sys1(n, a) sf_syscall6(n, (long)(a), 0, 0, 0, 0, 0)
#define sf_sys2(n, a, b) sf_syscall6(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define sf_sys3(n, a, b, c) \
	sf_syscall6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sf_sys4(n, a, b, c, d) \
	sf_syscall6(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define sf_sys5(n, a, b, c, d, e)                                          \
	sf_syscall6(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), \
		    0)

/* ---- logging: signal-safe, to stderr ---- */
enum { SF_LOG_ERROR, SF_LOG_WARN, SF_LOG_INFO, SF_LOG_DEBUG };
extern int sf_log_level SF_HIDDEN;
SF_HIDDEN void sf_log_init(void);
SF_HIDDEN void sf_logf(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define sf_log(level, ...)                         \
	do {                                       \
		if ((level) <= sf_log_level)       \
			sf_logf(level, __VA_ARGS__); \
	} while (0)
/* Format into BUF (signal-safe subset: %s %d %u %ld %lu %lx %x %c %%). */
SF_HIDDEN int sf_vfmt(char *buf, size_t len, const char *fmt, va_list ap);
SF_HIDDEN int sf_fmt(char *buf, size_t len, const char *fmt, ...);
SF_HIDDEN const char *sf_errname(long err);

/* ---- caller memory: how the front end reaches the caller's memory ---- */
struct sf_piece { /* one piece of a scattered write */
	uintptr_t dst;
	const void *src;
	size_t n;
};
/* An argument of sf_caller.sys that points to engine memory. */
enum { SF_BUF_IN = 1, SF_BUF_OUT = 2 };
struct sf_buf {
	int arg;   /* index into args */
	int dir;   /* SF_BUF_IN, SF_BUF_OUT or both */
	void *p;
	size_t n;
};
struct sf_watch;
struct sf_caller {
	/* Copy N bytes from caller address SRC; 0 or -EFAULT. */
	long (*read)(const struct sf_caller *c, void *dst, uintptr_t src,
		     size_t n);
	/* Copy N bytes to caller address DST; 0 or -EFAULT. */
	long (*write)(const struct sf_caller *c, uintptr_t dst, const void *src,
		      size_t n);
	/* Optional: the N pieces P in order, as that many writes would do
	 * (0 or -EFAULT, the pieces before a fault written). */
	long (*write_pieces)(const struct sf_caller *c, const struct sf_piece *p,
			     int n);
	/* Optional: leave syscall NR with ARGS to the caller's own thread, made
	 * as an ordinary (interruptible, restartable) call once the engine
	 * returns SF_TAIL. 0 if arranged, -ENOSYS if the front end cannot. */
	long (*tail)(const struct sf_caller *c, long nr, const long args[6]);
	/* The rest is optional too; NULL or 0: the caller is this process
	 * and its pidfds are the library's table (shim/pidtab.c). */
	/* Run syscall NR with ARGS as the caller (its credentials,
	 * namespaces, fd table): the arguments named in B (NB of them) point
	 * to engine memory, copied into the caller before the call
	 * (SF_BUF_IN) and back after it (SF_BUF_OUT). Returns the result or
	 * -errno. */
	long (*sys)(const struct sf_caller *c, long nr, const long args[6],
		    const struct sf_buf *b, int nb);
	/* The pid (in the caller's pid namespace) behind the caller's pidfd
	 * FD: -EBADF (not a pidfd), -ESRCH (its process is reaped),
	 * -EREMOTE (its process has no pid in the caller's namespace). With
	 * PROCDIR a /proc/<pid> directory fd counts as one (the 5.1 form).
	 * *NONBLOCK (if not NULL) gets whether the pidfd's file is
	 * O_NONBLOCK now. */
	long (*pidfd)(const struct sf_caller *c, int fd, int procdir,
		      int *nonblock);
	/* A wait of the caller consumed the exit of the process of pidfd FD
	 * (the state part: its watch is reaped). */
	void (*reaped)(const struct sf_caller *c, int fd);
	/* The engine's record of the caller's emulated pidfd FD into *W:
	 * thread and tgid (PIDFD_THREAD, the caller's number of its group)
	 * and the exit information (exit_known, exit_code, exit_dumped,
	 * exit_cgroupid); 0, or -EBADF if FD is none. NULL with pidfd set:
	 * no thread pidfds, no exit known. */
	long (*watch)(const struct sf_caller *c, int fd, struct sf_watch *w);
	/* Nonzero: the front end learns of every reap itself (the tracer:
	 * exit reports, /proc), reaped is not called, and a non-blocking
	 * wait may be left to the caller (last). */
	int reaps_seen;
	/* A blocking waitid(P_PID, PID, ..., OPTIONS with WSTOPPED or
	 * WCONTINUED) on a kernel whose stop reports must be corrected
	 * (gVisor): leave a WNOWAIT peek to the caller and call
	 * sf_waitid_resume once it returned. 0 if arranged. */
	long (*defer_stop_wait)(const struct sf_caller *c, pid_t pid,
				uintptr_t infop, int options, uintptr_t ru);
	/* Make NR (arguments in B as for sys, SF_BUF_IN only) as the
	 * emulated call's last step, left to the caller's thread as its own
	 * call, whose result is the emulated call's (the tracer: no further
	 * stop). 0 if arranged, then the engine returns SF_TAIL. */
	long (*last)(const struct sf_caller *c, long nr, const long args[6],
		     const struct sf_buf *b, int nb);
	/* The caller's process, as the engine reads /proc: PROC is the /proc
	 * the caller sees ("/proc" if NULL: deeper pid namespaces differ),
	 * SELF its own directory in the engine's /proc ("/proc/self" if
	 * NULL). */
	const char *proc, *self;
	/* Nonzero: the front end makes the PIDFD_THREAD pidfd of a thread
	 * created by clone3/clone with CLONE_PIDFD|CLONE_THREAD (6.9); 0:
	 * cargs_request refuses that with EINVAL, as 5.2-6.8. */
	int thread_pidfds;
};
#define SF_TAIL (-4096L - 1) /* the call was left to the caller (tail) */
/* The operations with their defaults (this process, the library's
 * table); same contracts as the members. */
SF_HIDDEN long sf_caller_sys(const struct sf_caller *c, long nr,
			     const long a[6], const struct sf_buf *b, int nb);
/* NR as the emulated call's last step: its result, or SF_TAIL when it
 * was left to the caller (last). */
SF_HIDDEN long sf_caller_last(const struct sf_caller *c, long nr,
			      const long a[6], const struct sf_buf *b, int nb);
SF_HIDDEN long sf_caller_pidfd(const struct sf_caller *c, int fd, int procdir,
			       int *nonblock);
SF_HIDDEN const char *sf_caller_proc(const struct sf_caller *c);
/* The pid behind C's emulated pidfd FD: -EBADF if FD is none, another
 * negative value if its process is reaped or outside C's pid namespace. */
SF_HIDDEN long sf_caller_getpid(const struct sf_caller *c, int fd);
SF_HIDDEN const char *sf_caller_self(const struct sf_caller *c);
/* Write the N pieces P to the caller (write_pieces, or write for each). */
SF_HIDDEN long sf_write_pieces(const struct sf_caller *c,
			       const struct sf_piece *p, int n);
/* The in-process caller (preload and direct API). */
extern const struct sf_caller sf_self_caller SF_HIDDEN;

/* ---- probe: what the kernel has, decided once ---- */
enum {
	SF_FEAT_PIDFD_OPEN = 1 << 0,
	SF_FEAT_PIDFD_SEND_SIGNAL = 1 << 1,
	SF_FEAT_PIDFD_GETFD = 1 << 2,
	SF_FEAT_WAITID_PIDFD = 1 << 3,
	SF_FEAT_CLONE3 = 1 << 4,
	SF_FEAT_PIDFD_FAMILY = SF_FEAT_PIDFD_OPEN | SF_FEAT_PIDFD_SEND_SIGNAL |
			       SF_FEAT_PIDFD_GETFD | SF_FEAT_WAITID_PIDFD,
};
/* Probe the kernel (once; later calls return the cached answer). Returns
 * the SF_FEAT_* bits the kernel has natively. Not signal-safe the first
 * time: call it from a constructor or under sf_init(). */
SF_HIDDEN unsigned sf_probe_native(void);
/* Decide, once, what to emulate (probe + SYSFILL_FORCE). Returns the
 * SF_FEAT_* bits that are emulated. */
SF_HIDDEN unsigned sf_init(void);
/* Emulate whatever the probe says (our own filter is already in place). */
SF_HIDDEN void sf_force_emulation(void);
extern unsigned sf_emulated SF_HIDDEN;

/* ---- engine ---- */
/* Run emulated syscall NR with ARGS for CALLER. Returns the syscall result
 * or -errno. Requires: all signals blocked in the calling thread (the
 * SIGSYS handler runs so; direct callers use sf_engine_call_masked). */
SF_HIDDEN long sf_engine_call(const struct sf_caller *caller, long nr,
			      const long args[6]);
/* The same from normal context: blocks signals around the call. */
SF_HIDDEN long sf_engine_call_masked(long nr, const long args[6]);

/* pidfd operations, same contract as sf_engine_call. */
SF_HIDDEN long sf_pidfd_open(pid_t pid, unsigned flags);
SF_HIDDEN long sf_pidfd_send_signal(const struct sf_caller *c, int fd,
				    int sig, uintptr_t info, unsigned flags);
SF_HIDDEN long sf_pidfd_getfd(int fd, int targetfd, unsigned flags);
/* The same for CALLER (its credentials decide the permission). */
SF_HIDDEN long sf_pidfd_getfd_as(const struct sf_caller *c, int fd,
				 int targetfd, unsigned flags);
SF_HIDDEN long sf_waitid_pidfd(const struct sf_caller *c, int fd,
			       uintptr_t infop, int options, uintptr_t ru);
/* The end of a wait left to the caller by defer_stop_wait: R is what
 * the peek returned. Returns the emulated call's result. */
SF_HIDDEN long sf_waitid_resume(const struct sf_caller *c, long r, int fd,
				pid_t pid, uintptr_t infop, int options,
				uintptr_t ru);
/* Was SI, a SIGSYS, raised by the kernel for a seccomp trap of the call
 * interrupted with program counter PC and number register NRREG (the
 * result register, rolled back to the number by the trap), by a filter
 * of sysfill's (its arch and TAG in si_errno)? A process may queue itself
 * a SIGSYS with any fields; then NRREG holds the queueing call's result
 * (0), and no filter of ours traps read (0). */
SF_HIDDEN int sf_our_trap(const siginfo_t *si, uintptr_t pc, long nrreg,
			  unsigned tag, int *seccomp);
/* rt_sigaction's action, raw (x86_64 layout), and the sa_flags bits
 * Linux keeps in it (UAPI_SA_FLAGS; SA_EXPOSE_TAGBITS is 0x800): since
 * 5.11 it clears the others in what it stores and shows. */
struct sf_ksigaction {
	uint64_t handler, flags, restorer, mask;
};
#define SF_UAPI_SA_FLAGS                                                   \
	(SA_NOCLDSTOP | SA_NOCLDWAIT | SA_SIGINFO | 0x800UL | SA_ONSTACK | \
	 SA_RESTART | SA_NODEFER | SA_RESETHAND | SA_RESTORER)
/* K as Linux stores an action: unknown flag bits cleared, SIGKILL and
 * SIGSTOP out of the mask. */
SF_HIDDEN void sf_ksigaction_store(struct sf_ksigaction *k);
/* rt_sigprocmask's new mask from OLD, HOW and SET (SIGKILL and SIGSTOP
 * taken out of SET) into *NOW. 0 or -EINVAL (an unknown HOW). */
SF_HIDDEN long sf_sigmask_apply(int how, uint64_t old, uint64_t set,
				uint64_t *now);
/* ioctl CMD (pidfs type 0xFF: the filter traps only those) on FD: the
 * pidfs commands on an emulated pidfd, the kernel's answer for any other
 * fd (made through the gate). */
SF_HIDDEN long sf_pidfd_ioctl(const struct sf_caller *c, int fd, unsigned cmd,
			      uintptr_t arg);

/* pidfs's ioctls (include/uapi/linux/pidfd.h, fs/pidfs.c, 6.18). */
#define PIDFS_IOC_TYPE 0xFFu
#define PIDFD_INFO_NR 11
#define PIDFD_INFO_SIZE_VER0 64
#define PIDFD_INFO_PID (1ULL << 0)
#define PIDFD_INFO_CREDS (1ULL << 1)
#define PIDFD_INFO_CGROUPID (1ULL << 2)
#define PIDFD_INFO_EXIT (1ULL << 3)
#define PIDFD_INFO_COREDUMP (1ULL << 4)
#define IOC_TYPE(c) (((c) >> 8) & 0xffu)
#define IOC_NR(c) ((c) & 0xffu)
#define IOC_SIZE(c) (((c) >> 16) & 0x3fffu)
#define IOC_DIR(c) ((c) >> 30)
#define IOC_RW 3u

struct pidfd_info_k { /* struct pidfd_info up to PIDFD_INFO_SIZE_VER3 */
	uint64_t mask, cgroupid;
	uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid,
		fsgid;
	int32_t exit_code;
	uint32_t coredump_mask, coredump_signal;
	uint64_t spare;
};

/* ---- pidfd table and watches (shim/pidtab.c) ---- */
enum { SF_W_FREE, SF_W_LIVE, SF_W_EXITED, SF_W_REAPED };
struct sf_watch {
	int state;      /* SF_W_*; written under the table lock */
	pid_t pid;
	int evfd;       /* eventfd signalled at exit; F_SETOWN to pid */
	int is_child;
	uint64_t starttime; /* /proc/PID/stat field 22, 0 if unknown */
	int waiter;     /* index of the waiter thread, -1 if none */
	uint32_t gen;   /* bumped at each reuse of the slot */
	int nfds;       /* known pidfd numbers pointing here */
	int pidnext;    /* next watch of the same pid hash + 1 (pidtab.c) */
	int pinned;     /* some pidfd of it is not in the sentry: never freed */
	int nsentry;    /* its pidfds ever put into the sentry (pidtab.c) */
	uint32_t seen;  /* gc pass that saw a pidfd file of it (pidtab.c) */
	/* What PIDFD_INFO_EXIT (6.15) reports once the process is reaped
	 * (shim/exitinfo.c); exit_known 0: not learnt. */
	int exit_known;
	int32_t exit_code;  /* the wait status, as tsk->exit_code */
	uint32_t exit_dumped; /* it dumped core */
	uint64_t exit_cgroupid; /* its cgroup2 id at the exit, 0 unknown */
	int thread;     /* PIDFD_THREAD (6.9): PID is one thread (of TGID) */
	pid_t tgid;
	/* Its process has no pid in this process's pid namespace (a table
	 * inherited into a deeper one, pidtab_atfork_child): PID is its
	 * number in the namespace the watch was made in, STARTTIME its start
	 * there; out of the pid hash, never judged by F_GETOWN or /proc here
	 * (its eventfd is written where it is seen). */
	int foreign;
};
#define SF_MAX_WATCHES 16384
#define SF_MAX_FDMAP 65536

/* The table lock (shim/lock.c). Signal-safe; the caller has all signals
 * blocked. sf_lock also makes a child with its own memory that no
 * pthread_atfork handler saw reset the state it inherited. */
SF_HIDDEN void sf_lock(void);
SF_HIDDEN void sf_unlock(void);
/* In a child with its own memory: the lock is free and the child owns the
 * state. Called last by sf_atfork_child. */
SF_HIDDEN void sf_lock_atfork_child(void);
/* In sf_atfork_child: the process whose state this child inherited (its
 * parent), 0 if unknown. */
SF_HIDDEN int sf_lock_prev_owner(void);
/* Does the lock holder's process own the state (not a vfork child, which
 * shares its parent's)? Caller holds the lock. */
SF_HIDDEN int sf_lock_owner(void);
/* Resolve a pidfd number to its watch. Returns the watch index, -EBADF
 * (not our pidfd), -ESRCH (our pidfd of a reaped process whose watch is
 * gone) or -EREMOTE (our pidfd, unknown to this table, of a process with
 * no pid in our namespace, as far as can be told: pidtab.c). Caller holds
 * the lock. */
SF_HIDDEN int pidtab_resolve(int fd);
/* Create a pidfd for PID (a thread with PIDFD_THREAD in FLAGS); PID 0:
 * of a process or thread already reaped (readable, ESRCH to signals: a
 * vfork thread's, made once its parent is back). Returns the fd or
 * -errno. Caller holds the lock. */
SF_HIDDEN int pidtab_new_pidfd(pid_t pid, unsigned flags);
SF_HIDDEN struct sf_watch *pidtab_watch(int idx);
/* Call FN for every watch of PID (pid hash). Caller holds the lock. */
SF_HIDDEN void pidtab_each_of_pid(pid_t pid, void (*fn)(struct sf_watch *w));
/* Number of watch slots ever used (iterate 0..count-1). Lock held. */
SF_HIDDEN int pidtab_count(void);
/* Is the process behind W gone for good (reaped)? Updates W->state.
 * Caller holds the lock. */
SF_HIDDEN int pidtab_is_reaped(struct sf_watch *w);
/* Mark W exited/reaped and make its pidfds readable. Caller holds the lock. */
SF_HIDDEN void pidtab_mark_exited(struct sf_watch *w);
SF_HIDDEN void pidtab_mark_reaped(struct sf_watch *w);
/* Release internal fds of watches no pidfd refers to any more. */
SF_HIDDEN void pidtab_gc(void);
/* Reset per-process state in a fork child. */
SF_HIDDEN void pidtab_atfork_child(void);
/* Was the table inherited into a pid namespace below its maker's
 * (renumbered or foreign watches)? */
SF_HIDDEN int pidtab_moved(void);
/* F_SETSIG values that mark sysfill's open file descriptions (valid:
 * 0-64, and qemu-user refuses 63 and 64; programs that use F_SETSIG pick
 * SIGIO or a low real-time signal). The tag sticks to the file, whatever
 * number, dup or process holds it. */
enum {
	SF_TAG_CONNECTOR = 59,
	SF_TAG_SENTRY = 60,
	SF_TAG_PIDFD = 61,
	SF_TAG_EVFD = 62,
};
/* Does FD still hold a file of ours tagged TAG? Warns if not. */
SF_HIDDEN int sf_fd_tagged(int fd, int tag);
/* Move internal fd FD above the numbers the program uses (F_DUPFD_CLOEXEC
 * to a high base below RLIMIT_NOFILE; FD is closed). Returns the new
 * number, or FD itself when no high number is free. Signal-safe. */
SF_HIDDEN int sf_fd_hide(int fd);
/* Watch the emulated pidfds among the N fds FDS (received over
 * SCM_RIGHTS), so that they become readable at the exit. Any context;
 * blocks signals and takes the lock. */
SF_HIDDEN void sf_adopt_fds(const int *fds, int n);

/* ---- exit information (shim/exitinfo.c) ---- */
/* The wait status (tsk->exit_code) that the waitid report SI gives. */
SF_HIDDEN int32_t sf_wait_status(const siginfo_t *si);
/* A new watch W: no exit information yet. Caller holds the lock; big
 * stack (looks the cgroup2 mount up the first time). */
SF_HIDDEN void exitinfo_reset(struct sf_watch *w);
/* Keep CODE (a wait status) and the cgroup id CG (0: the one seen when
 * W was made) as W's exit information, unless W has some. Caller holds
 * the lock. */
SF_HIDDEN void exitinfo_note_cg(struct sf_watch *w, int32_t code, uint64_t cg);
/* The same with W's cgroup id read now from /proc. Lock held. */
SF_HIDDEN void exitinfo_note(struct sf_watch *w, int32_t code);
/* The same from /proc/PID/stat (exit_code, field 52) while W's process
 * is a zombie, where the caller may read it. Lock held. */
SF_HIDDEN void exitinfo_note_proc(struct sf_watch *w);
/* A wait of the program's reported PID's exit with wait status CODE (-1
 * unknown), and REAPED it: note it and mark PID's watches exited or
 * reaped. Caller holds the lock. */
SF_HIDDEN void exitinfo_saw_exit(pid_t pid, int reaped, int32_t code);
/* cgroup_id() of PID's cgroup2 cgroup: the inode of its directory in the
 * cgroup2 mount (kernfs ids are inode numbers); 1 if no cgroup2 is
 * mounted, 0 if unknown. Any context; under 3 KiB of stack. */
SF_HIDDEN uint64_t sf_cgroup2_id(long pid);
/* The same for caller C's process PID, as C sees /proc (cgroup2's mount
 * from its mountinfo; this process: sf_cgroup2_id). */
SF_HIDDEN uint64_t sf_caller_cgroup2_id(const struct sf_caller *c, long pid);

/* Exit information of pidfd FD's process (a kernel pidfd or an
 * emulated one), as CLONE_FD's struct clonefd_info (include/sysfill.h,
 * struct sysfill_exit_info): the SF_EXIT_* bits of what is known (after
 * the reap, the code and status only), -EAGAIN before the exit, -ESRCH
 * reaped with nothing known, -EBADF not a pidfd, -EINVAL FLAGS not 0.
 * Normal context. */
struct sf_exit_info {
	int32_t code, status;
	uint64_t utime, stime;
};
enum { SF_EXIT_CODE = 1, SF_EXIT_TIMES = 2 };
SF_HIDDEN long sf_pidfd_exit_info(int fd, struct sf_exit_info *e, unsigned flags);

/* ---- pidfd <-> /proc/<pid> (shim/procpid.c) ---- */
/* PIDFD_GET_INFO with MASK into K on any fd: the engine's answer (an
 * emulated pidfd) or the kernel's. 0 or -errno. Normal context. */
SF_HIDDEN long sf_any_pidfd_info(int fd, uint64_t mask, struct pidfd_info_k *k);
/* The pid (our pid namespace) of kernel or emulated pidfd FD: -EBADF (no
 * pidfd), -ESRCH (reaped), -ENOENT (outside our namespace). Normal
 * context. */
SF_HIDDEN long sf_any_pidfd_pid(int fd);
/* The /proc/<pid> directory (a new O_CLOEXEC fd) in proc mount PROCFD of
 * PIDFD's process, and a pidfd (FLAGS: PIDFD_NONBLOCK) of the process of
 * /proc/<pid> directory fd PROCPIDFD; errno rules in shim/procpid.c.
 * Normal context. */
SF_HIDDEN long sf_pidfd_to_procfd(int pidfd, int procfd, unsigned flags);
SF_HIDDEN long sf_procfd_to_pidfd(int procpidfd, unsigned flags);

/* ---- fdinfo of emulated pidfds (shim/fdinfo.c) ---- */
/* The text /proc/self/fdinfo/FD has on Linux 6.18 for emulated pidfd FD
 * (with its Pid: and NSpid: lines) into BUF (LEN >= 256). Returns its
 * length, or -EBADF if FD is no emulated pidfd. Normal context. */
SF_HIDDEN long sf_pidfd_fdinfo(int fd, char *buf, size_t len);
/* The pid of emulated pidfd FD: the pid, -ESRCH once reaped, -EREMOTE
 * outside the caller's pid namespace, -EBADF if FD is no emulated pidfd.
 * Normal context. */
SF_HIDDEN long sf_pidfd_getpid(int fd);
/* The same as the Pid: line of its fdinfo tells it (glibc's
 * pidfd_getpid): the number in the /proc mount's pid namespace. */
SF_HIDDEN long sf_pidfd_fdinfo_pid(int fd);
/* setns(FD, FLAGS) (shim/setns.c) of caller C: the namespaces of emulated
 * pidfd FD's process, the kernel's answer for any other FD (left to the
 * caller: sf_caller_last). Normal context. */
SF_HIDDEN long sf_setns(const struct sf_caller *c, int fd, int flags);
/* process_madvise or process_mrelease (NR) with ARGS (shim/procfd.c) of
 * caller C: for emulated pidfd ARGS[0] made by C with a real pidfd of its
 * process where the kernel has the call, the kernel's answer otherwise
 * (left to C for any other fd). Normal context. */
SF_HIDDEN long sf_process_pidfd_call(const struct sf_caller *c, long nr,
				     const long a[6]);

/* ---- monitor (shim/monitor.c) ---- */
/* Start watching W (index IDX) for exit. Returns 0 or -errno. Caller holds
 * the lock. */
SF_HIDDEN int monitor_watch(int idx);
/* Watch IDX (another process, just given to monitor_watch) has a zombie
 * leader whose other threads run: its exit is that of its last thread.
 * Caller holds the lock. */
SF_HIDDEN void monitor_leader_zombie(int idx);
/* Did SI, a waitid report, report an exit (not a ptrace stop, nor one of
 * gVisor's stop reports as CLD_KILLED/CLD_DUMPED with status 127)? */
SF_HIDDEN int sf_reports_exit(const siginfo_t *si);
SF_HIDDEN void monitor_atfork_child(void);
SF_HIDDEN void monitor_kick(void);
/* Make the helper threads that have nothing to do leave now, and wait
 * (at most 1 s) until they are out of the thread group, so that the
 * process has no thread the program did not make (unshare(CLONE_NEWUSER)
 * and setns into a user namespace need a single-threaded process). 0, or
 * -EBUSY if a helper is needed (a watched live process) or did not leave.
 * Normal context (not from the SIGSYS handler); blocks signals only
 * around its use of the lock. */
SF_HIDDEN int sf_helpers_retire(void);
/* Make every helper thread leave, busy or not, for a call that needs a
 * single-threaded process (setns into a user or mount namespace,
 * unshare(CLONE_NEWUSER)): waiters and the monitor are interrupted with
 * sf_helper_wake_sig and leave what they watch to sf_helpers_resume, which
 * must follow (the call made or not). Waits at most 1 s. 0, or -EBUSY if
 * a helper did not leave (another thread of the program made one
 * meanwhile; a helper that got a program's SIGSYS blocks it). Without a
 * wake signal: sf_helpers_retire. Normal context; blocks signals only
 * around its use of the lock. */
SF_HIDDEN int sf_helpers_pause(void);
/* After sf_helpers_pause: a new waiter for every watched live child whose
 * waiter left, and the monitor if it has work. Normal context. */
SF_HIDDEN void sf_helpers_resume(void);
/* The signal sf_helpers_pause interrupts helpers with (unblocked in
 * them), set by a front end whose handler it reaches; 0: none. */
extern int sf_helper_wake_sig SF_HIDDEN;
/* Is SI (delivered to a helper thread) sf_helpers_pause's wake signal?
 * Signal-safe. */
SF_HIDDEN int sf_helper_wake_ours(const siginfo_t *si);

/* ---- /proc helpers (shim/proc.c) ---- */
/* Read a small file (up to LEN - 1 bytes, NUL-terminated). Returns the
 * length or -errno. */
SF_HIDDEN long proc_read(const char *path, char *buf, size_t len);
/* proc_read in the calling thread's own fd table. */
SF_HIDDEN long proc_read_here(const char *path, char *buf, size_t len);
/* proc_read for a helper thread: done by the reader thread, whose fd
 * table is its own (shim/monitor.c), so that no number of the program's
 * is ever held by a helper, even for a moment. */
SF_HIDDEN long sf_helper_proc_read(const char *path, char *buf, size_t len);
/* The decimal number at S (its leading digits). */
SF_HIDDEN uint64_t proc_number(const char *s);
/* starttime (field 22) and state char of /proc/PID/stat. 0 or -errno. */
SF_HIDDEN int proc_stat(pid_t pid, uint64_t *starttime, char *state);
/* Numeric field FIELD (>= 4, as proc(5) counts) of /proc/PID/stat, or
 * -errno (-ESRCH: no such process). */
SF_HIDDEN long proc_stat_field(pid_t pid, int field);
/* FN(pid, ARG) for every process /proc lists, until FN returns non-zero.
 * Returns 0, FN's negative value, or -errno. */
SF_HIDDEN long proc_each_pid(int (*fn)(pid_t pid, void *arg), void *arg);
/* Is the process whose /proc/PID/stat text is STAT (started at
 * STARTTIME, 0: unknown) gone as a whole: another process with its pid,
 * state X, or a zombie leader alone (field 20, num_threads, counts the
 * threads not yet released)? A zombie leader whose other threads run is
 * not (*LEADER_ZOMBIE, if not NULL, says so). 1 gone, 0 not, -1 not a
 * stat text. */
SF_HIDDEN int proc_stat_gone(const char *stat, uint64_t starttime,
			     int *leader_zombie);
/* The same in the /proc at ROOT ("/proc", "/proc/TID/root/proc"). */
SF_HIDDEN int proc_stat_in(const char *root, pid_t pid, uint64_t *starttime,
			   char *state);
SF_HIDDEN long proc_stat_field_in(const char *root, pid_t pid, int field);
SF_HIDDEN long proc_each_pid_in(const char *root,
				int (*fn)(pid_t pid, void *arg), void *arg);
/* Up to N numbers (in BASE 10 or 16) of the "KEY:" line of a
 * /proc/PID/status text STATUS into V. Returns how many, or -ENOENT. */
SF_HIDDEN long proc_status_field(const char *status, const char *key,
				 uint64_t *v, int n, int base);

/* ---- clone3 / clone(CLONE_PIDFD) (shim/clone.c) ---- */
/* An ASan build: the stack below TOP unpoisoned (shim/clone.c). */
SF_HIDDEN void sf_stack_fresh(uintptr_t base, uintptr_t top);

/* Is SP on the alternate signal stack whose settings UC saved (the
 * kernel's on_sig_stack())? The SIGSYS handler has SA_ONSTACK. */
static inline int sf_on_altstack(const ucontext_t *uc, uintptr_t sp)
{
	const stack_t *ss = &uc->uc_stack;
	uintptr_t lo = (uintptr_t)ss->ss_sp;
	return !(ss->ss_flags & SS_DISABLE) && sp > lo && sp - lo <= ss->ss_size;
}

/* Emulate clone3 or clone with CLONE_PIDFD (NR, raw ARGS) for the caller
 * interrupted in UC, from its SIGSYS handler (all signals blocked).
 * Returns the value for the caller's return register; a vfork on the
 * caller's own stack does not return (both sides rt_sigreturn). */
SF_HIDDEN long sf_clone_emulate(ucontext_t *uc, long nr, const long a[6]);
/* Set by the front end: in a CLONE_CLEAR_SIGHAND child with its own
 * memory, reset the program's own view of its SIGSYS disposition. */
extern void (*sf_clear_sigsys_hook)(void) SF_HIDDEN;
/* Set by the front end: called by sf_atfork_child. */
extern void (*sf_fork_child_hook)(void) SF_HIDDEN;
/* Reset per-process state in a child that has its own memory. */
SF_HIDDEN void sf_atfork_child(void);

/* ---- the syscall gate (shim/gate.c) ---- */
extern int sf_gate_ready SF_HIDDEN;
/* Map the gate at SF_GATE_ADDR. 0 or -errno (-EEXIST: the address is
 * taken). Not signal-safe: call it from the constructor. */
SF_HIDDEN int sf_gate_init(void);
/* A raw syscall of sysfill's own, through the gate once it exists (the
 * filter lets everything made there through). Signal-safe. */
SF_HIDDEN long sf_gate_call(long nr, long a, long b, long c, long d);
/* rt_sigprocmask for sysfill itself, through the gate once it exists (the
 * filter then lets it through). Signal-safe. */
SF_HIDDEN long sf_sigmask(int how, const void *set, void *old);

/* ---- small helpers ---- */
SF_HIDDEN int sf_getpid(void);

#endif
