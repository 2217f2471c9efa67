/* libc symbols sysfill interposes.
 *
 * - syscall(), pidfd_open(), pidfd_send_signal(), pidfd_getfd(), waitid():
 *   emulated calls go straight to the engine (no trap: they also work while
 *   the caller blocks SIGSYS, and in interpose mode without seccomp).
 * - wait(), waitpid(), wait3(), wait4(), waitid() and syscall(wait4 or
 *   waitid): a wait that reports a child's exit first makes the child's
 *   pidfds readable, as the kernel does when the child becomes a zombie
 *   (asyncio polls the pidfd after its waitpid). A raw wait4/waitid made
 *   without libc is not seen: there readiness comes from the waiter thread,
 *   a little after the exit.
 * - sigprocmask(), pthread_sigmask(), sigaction(), signal(): a trap raised
 *   while SIGSYS is blocked kills the process, so SIGSYS is never really
 *   blocked in seccomp mode; the program sees the mask and the SIGSYS
 *   disposition it asked for, and a SIGSYS sent to it while it "blocks" it
 *   is delivered when it unblocks it.
 * - execve() and friends: the filter survives execve; LD_PRELOAD is kept
 *   (put back if the program removed it) so the new program has the
 *   handler too. */
#include <dlfcn.h>
#include <sched.h>
#include <elf.h>
#include <spawn.h>
#include <stdarg.h>
#include <sys/resource.h>
#include <string.h>
#include <unistd.h>
#include "preload.h"

int (*pl_real_sigaction)(int, const struct sigaction *, struct sigaction *);
static int (*real_waitid)(idtype_t, id_t, siginfo_t *, int);
static pid_t (*real_wait4)(pid_t, int *, int, struct rusage *);
static int (*real_pthread_sigmask)(int, const sigset_t *, sigset_t *);
static int (*real_sigpending)(sigset_t *);
static int (*real_execve)(const char *, char *const[], char *const[]);
static int (*real_execvpe)(const char *, char *const[], char *const[]);
static int (*real_posix_spawn)(pid_t *, const char *,
			       const posix_spawn_file_actions_t *,
			       const posix_spawnattr_t *, char *const[],
			       char *const[]);
static int (*real_posix_spawnp)(pid_t *, const char *,
				const posix_spawn_file_actions_t *,
				const posix_spawnattr_t *, char *const[],
				char *const[]);

#define REAL(name) real_##name = (__typeof__(real_##name))dlsym(RTLD_NEXT, #name)

/* Also called by a wrapper that runs before our constructor: the ASan
 * runtime, preloaded first, calls sigaction() from its own initializer. */
void pl_interpose_init(void)
{
	REAL(waitid);
	REAL(wait4);
	REAL(pthread_sigmask);
	REAL(sigpending);
	REAL(execve);
	REAL(execvpe);
	REAL(posix_spawn);
	REAL(posix_spawnp);
	pl_real_sigaction = (__typeof__(pl_real_sigaction))dlsym(RTLD_NEXT,
								"sigaction");
}

static long ret_errno(long r)
{
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

static int emulated(long nr, long a0)
{
	if (pl_mode == MODE_NATIVE)
		return 0;
	switch (nr) {
	case SF_NR_pidfd_open:
	case SF_NR_pidfd_send_signal:
	case SF_NR_pidfd_getfd:
		return 1;
	case SF_NR_waitid:
		return (int)a0 == P_PIDFD;
	}
	return 0;
}

/* A wait reported child PID's exit (REAPED: it was reaped, not only seen
 * with WNOWAIT): mark its watches, so its pidfds are readable before the
 * program has the report. Keeps errno. */
static void saw_exit(pid_t pid, int reaped, int32_t code)
{
	if (pl_mode == MODE_NATIVE || pid <= 0 || !pidtab_count())
		return;
	sigset_t all, old;
	sigfillset(&all);
	sf_sigmask(SIG_SETMASK, &all, &old); /* as every holder of the lock */
	sf_lock();
	exitinfo_saw_exit(pid, reaped, code);
	sf_unlock();
	sf_sigmask(SIG_SETMASK, &old, 0);
}

/* wait4 as the kernel's, then saw_exit for an exit it reported. */
static long wait4_seen(pid_t pid, int *status, int options, struct rusage *ru)
{
	int st = 0;
	long r = sf_syscall6(SF_NR_wait4, pid, (long)(status ? status : &st),
			     options, (long)ru, 0, 0);
	if (r > 0) {
		if (status)
			__builtin_memcpy(&st, status, sizeof st);
		if (WIFEXITED(st) || WIFSIGNALED(st))
			saw_exit((pid_t)r, 1, st & 0xffff);
	}
	return r;
}

/* waitid (not P_PIDFD) as the kernel's, then saw_exit. */
static long waitid_seen(long idtype, long id, siginfo_t *info, long options,
			long ru)
{
	siginfo_t si;
	siginfo_t *p = info ? info : &si;
	if (!info)
		si.si_pid = 0;
	long r = sf_syscall6(SF_NR_waitid, idtype, id, (long)p, options, ru, 0);
	if (r == 0 && p->si_pid > 0 && (options & WEXITED) && sf_reports_exit(p))
		saw_exit(p->si_pid, !(options & WNOWAIT), sf_wait_status(p));
	return r;
}

SF_EXPORT long syscall(long nr, ...)
{
	va_list ap;
	long a[6];
	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (emulated(nr, a[0]))
		return ret_errno(sf_engine_call_masked(nr, a));
	if (nr == SF_NR_setns && pl_mode != MODE_NATIVE)
		return ret_errno(sf_setns(&sf_self_caller, (int)a[0], (int)a[1]));
	if ((nr == SF_NR_process_madvise || nr == SF_NR_process_mrelease) &&
	    pl_mode != MODE_NATIVE)
		return ret_errno(sf_process_pidfd_call(&sf_self_caller, nr, a));
	if (nr == SF_NR_wait4 && pl_mode != MODE_NATIVE)
		return ret_errno(wait4_seen((pid_t)a[0], (int *)a[1], (int)a[2],
					    (struct rusage *)a[3]));
	if (nr == SF_NR_waitid && pl_mode != MODE_NATIVE)
		return ret_errno(waitid_seen(a[0], a[1], (siginfo_t *)a[2], a[3],
					     a[4]));
	return ret_errno(sf_syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5]));
}

static long call4(long nr, long a0, long a1, long a2, long a3)
{
	const long a[6] = {a0, a1, a2, a3, 0, 0};
	if (emulated(nr, a0))
		return ret_errno(sf_engine_call_masked(nr, a));
	return ret_errno(sf_syscall6(nr, a0, a1, a2, a3, 0, 0));
}

/* setns with an emulated pidfd (shim/setns.c); any other fd goes to the
 * kernel. Not trapped: a static program exec'd from here must keep its
 * setns. */
SF_EXPORT int setns(int fd, int nstype)
{
	if (pl_mode == MODE_NATIVE)
		return (int)ret_errno(sf_syscall6(SF_NR_setns, fd, nstype, 0, 0, 0, 0));
	return (int)ret_errno(sf_setns(&sf_self_caller, fd, nstype));
}

/* glibc 2.36's wrappers of the calls that take a pidfd (shim/procfd.c) */
SF_EXPORT ssize_t process_madvise(int fd, const struct iovec *iov,
				  size_t n, int advice, unsigned int flags)
{
	const long a[6] = {fd, (long)iov, (long)n, advice, flags, 0};
	if (pl_mode == MODE_NATIVE)
		return ret_errno(sf_syscall6(SF_NR_process_madvise, a[0], a[1],
					     a[2], a[3], a[4], 0));
	return ret_errno(sf_process_pidfd_call(&sf_self_caller, SF_NR_process_madvise, a));
}

SF_EXPORT int process_mrelease(int fd, unsigned int flags)
{
	const long a[6] = {fd, flags, 0, 0, 0, 0};
	if (pl_mode == MODE_NATIVE)
		return (int)ret_errno(sf_syscall6(SF_NR_process_mrelease, fd,
						  flags, 0, 0, 0, 0));
	return (int)ret_errno(sf_process_pidfd_call(&sf_self_caller, SF_NR_process_mrelease, a));
}

SF_EXPORT int pidfd_open(pid_t pid, unsigned int flags)
{
	return (int)call4(SF_NR_pidfd_open, pid, flags, 0, 0);
}

SF_EXPORT int pidfd_send_signal(int pidfd, int sig, siginfo_t *info,
				unsigned int flags)
{
	return (int)call4(SF_NR_pidfd_send_signal, pidfd, sig, (long)info, flags);
}

SF_EXPORT int pidfd_getfd(int pidfd, int targetfd, unsigned int flags)
{
	return (int)call4(SF_NR_pidfd_getfd, pidfd, targetfd, flags, 0);
}

SF_EXPORT int waitid(idtype_t idtype, id_t id, siginfo_t *info, int options)
{
	if (emulated(SF_NR_waitid, idtype) || !real_waitid)
		return (int)call4(SF_NR_waitid, idtype, id, (long)info, options);
	if (pl_mode == MODE_NATIVE)
		return real_waitid(idtype, id, info, options);
	siginfo_t si;
	siginfo_t *p = info ? info : &si;
	if (!info)
		si.si_pid = 0;
	int r = real_waitid(idtype, id, p, options);
	if (r == 0 && p->si_pid > 0 && (options & WEXITED) && sf_reports_exit(p))
		saw_exit(p->si_pid, !(options & WNOWAIT), sf_wait_status(p));
	return r;
}

/* glibc's wait(), waitpid() and wait3() call the wait4 syscall themselves:
 * each is interposed. Cancellation points, as libc's (real_wait4). */
SF_EXPORT pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
	if (!real_wait4) {
		errno = ENOSYS;
		return -1;
	}
	if (pl_mode == MODE_NATIVE)
		return real_wait4(pid, status, options, ru);
	int st = 0;
	pid_t r = real_wait4(pid, status ? status : &st, options, ru);
	if (r > 0) {
		if (status)
			st = *status;
		if (WIFEXITED(st) || WIFSIGNALED(st))
			saw_exit(r, 1, st & 0xffff);
	}
	return r;
}

SF_EXPORT pid_t waitpid(pid_t pid, int *status, int options)
{
	return wait4(pid, status, options, 0);
}

SF_EXPORT pid_t wait(int *status)
{
	return wait4(-1, status, 0, 0);
}

SF_EXPORT pid_t wait3(int *status, int options, struct rusage *ru)
{
	return wait4(-1, status, options, ru);
}

/* ---- signal masks ---- */

/* Returns 0 or an errno value (pthread_sigmask's convention). */
static int mask_call(int (*real)(int, const sigset_t *, sigset_t *), int how,
		     const sigset_t *set, sigset_t *old)
{
	if (!pl_traps || !real)
		return real ? real(how, set, old) : EINVAL;
	int want = pl_sigsys_blocked;
	sigset_t copy;
	if (set) {
		int has = sigismember(set, SIGSYS);
		if (how == SIG_BLOCK && has)
			want = 1;
		else if (how == SIG_UNBLOCK && has)
			want = 0;
		else if (how == SIG_SETMASK)
			want = has;
		copy = *set;
		if (how != SIG_UNBLOCK)
			sigdelset(&copy, SIGSYS);
		set = &copy;
	}
	int was = pl_sigsys_blocked, r;
	if (pl_mask_trapped) {
		/* Through the gate, not libc (its call would trap): what
		 * glibc's pthread_sigmask does, SIGCANCEL and SIGSETXID (32,
		 * 33: glibc's own) never blocked. */
		if (set) /* by hand: glibc's sigdelset refuses them (EINVAL) */
			((unsigned long *)&copy)[0] &= ~(3UL << 31); /* 32, 33 */
		r = (int)-sf_sigmask(how, set, old);
	} else {
		r = real(how, set, old);
	}
	if (r == 0) {
		if (old && was)
			sigaddset(old, SIGSYS);
		if (set && (how == SIG_BLOCK || how == SIG_UNBLOCK ||
			    how == SIG_SETMASK)) {
			pl_sigsys_blocked = want;
			if (!want)
				pl_flush_deferred();
		}
	}
	return r;
}

SF_EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	if (!real_pthread_sigmask)
		pl_interpose_init();
	return mask_call(real_pthread_sigmask, how, set, old);
}

SF_EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	if (!real_pthread_sigmask)
		pl_interpose_init();
	int r = mask_call(real_pthread_sigmask, how, set, old);
	if (!r)
		return 0;
	errno = r;
	return -1;
}

SF_EXPORT int sigaction(int sig, const struct sigaction *act,
			struct sigaction *old)
{
	if (!pl_real_sigaction)
		pl_interpose_init();
	if (!pl_real_sigaction) {
		errno = ENOSYS;
		return -1;
	}
	if (!pl_traps)
		return pl_real_sigaction(sig, act, old);
	if (sig == SIGSYS) {
		/* Ours stays installed; the program's is called for the
		 * SIGSYS signals that are not ours. */
		struct sigaction prev = pl_prog_sigsys;
		if (act)
			pl_prog_sigsys_set(act);
		if (old)
			*old = prev;
		return 0;
	}
	struct sigaction copy;
	int had = 0;
	if (act && sig > 0 && sig < _NSIG) {
		copy = *act;
		had = sigismember(&copy.sa_mask, SIGSYS) == 1;
		sigdelset(&copy.sa_mask, SIGSYS);
		act = &copy;
	}
	int prev_had = sig > 0 && sig < _NSIG ? pl_mask_had_sigsys[sig] : 0;
	int r;
	if (pl_mask_trapped) {
		/* Through the gate, as our other calls; glibc refuses its
		 * own signals (SIGCANCEL, SIGSETXID) as it does. */
		r = sig <= 0 || sig >= _NSIG || sig == 32 || sig == 33
			    ? -EINVAL
			    : pl_raw_sigaction(sig, act, old);
		if (r) {
			errno = -r;
			r = -1;
		}
	} else {
		r = pl_real_sigaction(sig, act, old);
	}
	if (r == 0) {
		if (old && prev_had)
			sigaddset(&old->sa_mask, SIGSYS);
		if (act)
			pl_mask_had_sigsys[sig] = (unsigned char)had;
	}
	return r;
}

/* A SIGSYS the program blocks waits in pl_deferred_info (SIGSYS is never
 * really blocked): it is pending. */
SF_EXPORT int sigpending(sigset_t *set)
{
	if (!real_sigpending) {
		errno = ENOSYS;
		return -1;
	}
	int r = real_sigpending(set);
	if (r == 0 && pl_sigsys_deferred)
		sigaddset(set, SIGSYS);
	return r;
}

SF_EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
	/* glibc's signal(): BSD semantics. */
	struct sigaction sa = {.sa_handler = handler, .sa_flags = SA_RESTART};
	struct sigaction old;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, sig);
	if (sigaction(sig, &sa, &old) < 0)
		return SIG_ERR;
	return old.sa_handler;
}

/* ---- exec: keep LD_PRELOAD ---- */

/* Returns ENVP, or a copy in BUF (room for N+2 pointers) with LD_PRELOAD
 * naming this library. Async-signal-safe (no malloc): the vfork child of
 * posix_spawn and fork children of threaded programs call it. */
static char *const *keep_preload(char *const *envp, char **buf, char *var,
				 size_t varlen)
{
	size_t n = 0;
	int at = -1;
	for (; envp && envp[n]; n++)
		if (!strncmp(envp[n], "LD_PRELOAD=", 11))
			at = (int)n;
	if (at >= 0 && strstr(envp[at], pl_self_path))
		return envp;
	const char *rest = at >= 0 ? envp[at] + 11 : "";
	/* an ASan build of the library needs the ASan runtime first */
	const char *first = pl_asan_path;
	if (sf_fmt(var, varlen, "LD_PRELOAD=%s%s%s%s%s", first, *first ? ":" : "",
		   pl_self_path, *rest ? ":" : "", rest) >= (int)varlen - 1)
		return envp;
	size_t j = 0;
	for (size_t i = 0; i < n; i++)
		if ((int)i != at)
			buf[j++] = envp[i];
	buf[j++] = var;
	buf[j] = 0;
	return buf;
}

/* Is PATH an ELF executable without PT_INTERP (statically linked)? Such a
 * program inherits our filter but cannot load the library: its first
 * pidfd call would die of SIGSYS. Async-signal-safe. */
static int is_static(const char *path)
{
	long fd = sf_sys4(SF_NR_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	Elf64_Ehdr eh;
	int dynamic = 1;
	if (sf_syscall6(SF_NR_pread64, fd, (long)&eh, sizeof eh, 0, 0, 0) ==
		    (long)sizeof eh &&
	    !memcmp(eh.e_ident, ELFMAG, SELFMAG) &&
	    eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_phentsize == sizeof(Elf64_Phdr)) {
		dynamic = 0;
		for (int i = 0; i < eh.e_phnum && i < 64 && !dynamic; i++) {
			Elf64_Phdr ph;
			if (sf_syscall6(SF_NR_pread64, fd, (long)&ph, sizeof ph,
					(long)(eh.e_phoff + i * sizeof ph), 0, 0) !=
			    (long)sizeof ph)
				dynamic = 1; /* unreadable: say nothing */
			else if (ph.p_type == PT_INTERP)
				dynamic = 1;
		}
	}
	sf_sys1(SF_NR_close, fd);
	return !dynamic;
}

/* The sysfill command that belongs to this library: next to it (build
 * tree: build/sysfill), ../bin/sysfill (installed under lib/) or
 * ../../bin/sysfill (under a multiarch lib/x86_64-linux-gnu/). Returns 1
 * with its path in BUF. Async-signal-safe. */
static int find_sysfill(char *buf, size_t len)
{
	const char *slash = strrchr(pl_self_path, '/');
	if (!slash)
		return 0;
	int dl = (int)(slash - pl_self_path);
	static const char *const rel[] = {"/sysfill", "/../bin/sysfill",
					  "/../../bin/sysfill"};
	for (int i = 0; i < 3; i++) {
		char dir[sizeof pl_self_path];
		memcpy(dir, pl_self_path, (size_t)dl);
		dir[dl] = 0;
		if (sf_fmt(buf, len, "%s%s", dir, rel[i]) >= (int)len - 1)
			return 0;
		if (sf_sys4(SF_NR_faccessat, AT_FDCWD, buf, X_OK, 0) == 0)
			return 1;
	}
	return 0;
}

/* argv for `SYSFILL run --mode=trace -- PATH ARGV[1...]` in OUT (room for
 * argc + 6 pointers). */
static void trace_argv(const char **out, const char *sysfill,
		       const char *path, char *const argv[])
{
	int j = 0;
	out[j++] = sysfill;
	out[j++] = "run";
	out[j++] = "--mode=trace";
	out[j++] = "--";
	out[j++] = path;
	for (int i = 1; argv && argv[0] && argv[i]; i++)
		out[j++] = argv[i];
	out[j] = 0;
}

/* A static PATH from an emulating process: 1 with SF (room for LEN) and
 * TARGV (room for argc + 6) set to run it under `sysfill run --mode=trace`
 * (the supervisor serves the traps of the filter it inherits); 0 if there
 * is no sysfill next to us. */
static int via_trace(const char *path, char *const argv[], char *sf,
		     size_t len, const char **targv)
{
	if (!find_sysfill(sf, len))
		return 0;
	trace_argv(targv, sf, path, argv);
	sf_log(SF_LOG_INFO, "%s is statically linked: running it under %s run "
	       "--mode=trace", path, sf);
	return 1;
}

static void warn_static(const char *path)
{
	sf_log(SF_LOG_WARN,
	       "%s is statically linked: it keeps sysfill's seccomp filter "
	       "but cannot load the library, and no sysfill command was found "
	       "next to %s to trace it: its first pidfd call will be killed by "
	       "SIGSYS (run it with `sysfill run`)",
	       path, pl_self_path);
}

static size_t argv_count(char *const *argv)
{
	size_t n = 0;
	while (argv && argv[n])
		n++;
	return n;
}

static size_t env_count(char *const *envp)
{
	size_t n = 0;
	while (envp && envp[n])
		n++;
	return n;
}

#define WITH_ENV(envp, body)                                                  \
	do {                                                                  \
		char *buf_[env_count(envp) + 2];                              \
		char var_[sizeof pl_self_path + 4096];                        \
		char *const *env_ = pl_filter && pl_self_path[0]              \
					    ? keep_preload(envp, buf_, var_,  \
							   sizeof var_)       \
					    : (envp);                         \
		body;                                                         \
	} while (0)

/* A static program exec'd from an emulating process: run it under
 * `sysfill run --mode=trace` (the supervisor serves the traps of the
 * filter it inherits), or warn if there is no sysfill next to us. */
SF_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	if (pl_traps && is_static(path)) {
		char sf[sizeof pl_self_path + 32];
		const char *targv[argv_count(argv) + 6];
		if (via_trace(path, argv, sf, sizeof sf, targv))
			WITH_ENV(envp, real_execve(sf, (char *const *)targv, env_));
		warn_static(path);
	}
	WITH_ENV(envp, return real_execve(path, argv, env_));
}

SF_EXPORT int execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}

/* The file execvp(3) would run for FILE, in BUF; 0 if none is found.
 * Async-signal-safe. */
static int search_path(const char *file, char *buf, size_t len)
{
	if (strchr(file, '/'))
		return sf_fmt(buf, len, "%s", file) < (int)len - 1;
	const char *path = 0;
	for (char **e = environ; e && *e; e++)
		if (!strncmp(*e, "PATH=", 5))
			path = *e + 5;
	if (!path)
		path = "/bin:/usr/bin";
	for (const char *p = path;;) {
		const char *end = strchr(p, ':');
		int dl = end ? (int)(end - p) : (int)strlen(p);
		char dir[1024];
		if (dl < (int)sizeof dir) {
			memcpy(dir, p, (size_t)dl);
			dir[dl] = 0;
			if (sf_fmt(buf, len, "%s%s%s", dir, dl ? "/" : "", file) <
				    (int)len - 1 &&
			    sf_sys4(SF_NR_faccessat, AT_FDCWD, buf, X_OK, 0) == 0)
				return 1;
		}
		if (!end)
			return 0;
		p = end + 1;
	}
}

SF_EXPORT int execvpe(const char *file, char *const argv[],
		      char *const envp[])
{
	char path[4096];
	if (pl_traps && search_path(file, path, sizeof path) &&
	    is_static(path))
		return execve(path, argv, envp);
	WITH_ENV(envp, return real_execvpe(file, argv, env_));
}

SF_EXPORT int execvp(const char *file, char *const argv[])
{
	return execvpe(file, argv, environ);
}

SF_EXPORT int posix_spawn(pid_t *pid, const char *path,
			  const posix_spawn_file_actions_t *fa,
			  const posix_spawnattr_t *attr, char *const argv[],
			  char *const envp[])
{
	if (pl_traps && is_static(path)) {
		char sf[sizeof pl_self_path + 32];
		const char *targv[argv_count(argv) + 6];
		int r = -1;
		if (via_trace(path, argv, sf, sizeof sf, targv))
			WITH_ENV(envp, r = real_posix_spawn(pid, sf, fa, attr,
							    (char *const *)targv,
							    env_));
		if (r == 0)
			return 0;
		warn_static(path);
	}
	WITH_ENV(envp, return real_posix_spawn(pid, path, fa, attr, argv, env_));
}

SF_EXPORT int posix_spawnp(pid_t *pid, const char *file,
			   const posix_spawn_file_actions_t *fa,
			   const posix_spawnattr_t *attr, char *const argv[],
			   char *const envp[])
{
	char path[4096];
	if (pl_traps && search_path(file, path, sizeof path) &&
	    is_static(path))
		return posix_spawn(pid, path, fa, attr, argv, envp);
	WITH_ENV(envp, return real_posix_spawnp(pid, file, fa, attr, argv, env_));
}
