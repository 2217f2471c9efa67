/* The `sysfill` command: internal interfaces between its parts.
 *
 * kernels.c  the one table of process-API features (what each kernel
 *            version lacks and how it fails there) and the seccomp filter
 *            built from it
 * probe.c    `sysfill probe`: what the running kernel/sandbox has
 * elfinfo.c  ELF inspection (libelf) for `check` and `run --mode=auto`
 * run.c      `sysfill run`
 * trace*.c, tracee.c, tpidfd.c, tcaller.c, tsigsys.c
 *            `sysfill run --mode=trace`, the ptrace front end (trace.h)
 * main.c     argument dispatch, help, exit status
 * selftrap.c the supervisor's own calls under an inherited libsysfill.so
 *            filter
 *
 * Only the command functions (cmd_*) print; helpers return -errno or fill
 * structs. */
#ifndef SYSFILL_TRACER_H
#define SYSFILL_TRACER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define SYSFILL_VERSION "0.1.0"

/* Exit statuses of `sysfill run`, as env(1). */
#define EXIT_SF_FAIL 125     /* sysfill's own failure (bad option, ...) */
#define EXIT_SF_NOEXEC 126   /* program found but cannot be executed */
#define EXIT_SF_NOTFOUND 127 /* program not found */
/* Exit status of the other subcommands on a usage error. */
#define EXIT_SF_USAGE 2

/* Serve the traps of an inherited libsysfill.so filter that hit sysfill's
 * own calls (a static sysfill run from a program with the library): first
 * thing in main. */
void selftrap_init(void);

/* eintr.c: at a signal-delivery stop of SIG in task TID: if the call it
 * was in returns -EINTR, make it end as natively, where an ignored signal
 * is never queued (restarted unless a handler runs). */
void eintr_restartable(pid_t tid, int sig);
/* At a group stop of TID: a stop signal's call ends with EINTR. */
void eintr_group_stop(pid_t tid);

/* ---- kernels.c: the feature table ---------------------------------- */

#define KV(major, minor) (((unsigned)(major) << 16) | (unsigned)(minor))
#define KV_MAJOR(v) ((v) >> 16)
#define KV_MINOR(v) ((v) & 0xffff)

enum kf_id {
	KF_PIDFD_SEND_SIGNAL,
	KF_CLONE_PIDFD,
	KF_PIDFD_OPEN,
	KF_CLONE3,
	KF_PIDFD_POLL,
	KF_WAITID_PIDFD,
	KF_PIDFD_GETFD,
	KF_SETNS_PIDFD,
	KF_PIDFD_NONBLOCK,
	KF_PROCESS_MADVISE,
	KF_PROCESS_MRELEASE,
	KF_PIDFD_THREAD,
	KF_PIDFD_SIGNAL_FLAGS,
	KF_PIDFD_NS_IOCTL,
	KF_PIDFD_GET_INFO,
	KF_PIDFD_INFO_EXIT,
	KF_COUNT
};

/* How a kernel older than the feature answers. */
enum kf_kind {
	KF_SYSCALL,   /* the whole call is unknown: ERRNO(err) */
	KF_ARG_EQ,    /* (arg & mask) == value is unknown: ERRNO(err) */
	KF_ARG_BITS,  /* any bit of mask set in arg is unknown: ERRNO(err) */
	KF_IGNORED,   /* flag silently ignored: no errno filter can do that */
	KF_PROPERTY,  /* behaviour of pidfds, not a call: no filter rule */
};

struct kfeature {
	const char *name;    /* as printed: "waitid(P_PIDFD)" */
	const char *key;     /* JSON key: "waitid_pidfd" */
	const char *syscall; /* libseccomp name of the call it belongs to */
	unsigned since;      /* KV() of the first kernel that has it */
	enum kf_kind kind;
	int arg;             /* argument index for KF_ARG_*, KF_IGNORED */
	uint64_t mask, value;
	int err;             /* errno before `since` (KF_SYSCALL, KF_ARG_*) */
	int emulated;        /* libsysfill.so emulates it when active */
	int trigger;         /* its absence makes libsysfill.so emulate */
	int needs;           /* KF_* + 1 of a feature without which this one
				cannot be used (hidden with it), 0 none */
	const char *before;  /* what programs see before `since` */
};

extern const struct kfeature kfeatures[KF_COUNT];

/* A seccomp profile of a container runtime, simulated by --profile. */
struct kprofile_rule {
	const char *syscall;
	int err;
};
struct kprofile {
	const char *name;
	const char *what;
	const struct kprofile_rule *rules;
};
extern const struct kprofile kprofiles[];

/* Parse "4.19", "5.10.3", "6.9-rc1" into KV(). Returns 0 or -EINVAL. */
int kversion_parse(const char *s, unsigned *out);
/* Format a KV() as "5.10" into buf. Returns buf. */
const char *kversion_str(unsigned kv, char *buf, size_t len);
/* The profile called name, or NULL. */
const struct kprofile *kprofile_find(const char *name);
/* System call number of name on the native arch (libseccomp's table, not
 * the build machine's headers), or -1. */
long sysnr(const char *name);

/* 1 if a kernel kv lacks a call whose absence makes libsysfill.so emulate
 * the pidfd family (so a simulation of kv with emulation forces it). */
int kversion_triggers_emulation(unsigned kv);

/* What a filter for (kernel kv, profile) does. kv == 0: no kernel limit.
 * emulating: libsysfill.so is loaded and emulating (SYSFILL_FORCE), so
 * calls it emulates get no rule (its own trap answers them). */
struct kplan {
	unsigned hidden;  /* bit per kf_id: answered by an errno rule */
	unsigned gaps;    /* bit per kf_id: cannot be simulated by a filter */
	unsigned left_to_emulation; /* bit per kf_id: missing in kv, emulated */
	int nrules;
};

/* Build (but do not load) the filter. Returns 0 or -errno; on success *ctx
 * is a libseccomp context the caller loads or releases. plan may be NULL. */
int kfilter_build(unsigned kv, const struct kprofile *prof, int emulating,
		  void **ctx, struct kplan *plan);
/* Load ctx into this process and release it. Tries without no_new_privs
 * first (needs CAP_SYS_ADMIN), then with it. Returns 0 or -errno; *nnp is
 * set to 1 if no_new_privs had to be set. */
int kfilter_load(void *ctx, int *nnp);

/* Release a built filter that will not be loaded. */
void kfilter_release(void *ctx);

/* Print the feature table (for --help). */
void kfeatures_print(FILE *f);

/* errno name ("ENOSYS"), or "E<number>" in buf. */
const char *errname(int err, char *buf, size_t len);

/* ---- elfinfo.c ------------------------------------------------------ */

enum elf_link {
	EL_DYNAMIC,    /* has PT_INTERP */
	EL_STATIC,     /* ET_EXEC without PT_INTERP */
	EL_STATIC_PIE, /* ET_DYN, no PT_INTERP, DF_1_PIE */
	EL_SHARED,     /* shared object */
	EL_RELOC,      /* ET_REL */
	EL_OTHER,      /* core file, unknown type */
};

/* Libc symbols of the process API we look for. */
enum {
	ES_PIDFD_OPEN,
	ES_PIDFD_SEND_SIGNAL,
	ES_PIDFD_GETFD,
	ES_PIDFD_SPAWN,
	ES_PIDFD_SPAWNP,
	ES_PIDFD_GETPID,
	ES_WAITID,
	ES_CLONE3,
	ES_SYSCALL,
	/* glibc functions that create processes or threads with clone3
	 * (2.34+), when libc itself contains the call. */
	ES_PTHREAD_CREATE,
	ES_POSIX_SPAWN,
	ES_POSIX_SPAWNP,
	ES_SYSTEM,
	ES_POPEN,
	ES_COUNT
};
extern const char *const elf_api_symbols[ES_COUNT];

struct elfinfo {
	int elfclass;        /* ELFCLASS32 / ELFCLASS64 */
	int machine;         /* EM_* */
	int etype;           /* ET_* */
	enum elf_link link;
	int pie;             /* ET_DYN executable */
	char interp[256];    /* PT_INTERP contents, "" if none */
	unsigned imports;    /* bit per ES_*: undefined in .dynsym */
	unsigned defines;    /* bit per ES_*: defined function in .symtab */
	int has_symtab;
	int raw_checked;     /* machine supported by the raw-syscall count */
	long raw_syscalls;   /* syscall instruction patterns found */
	const char *raw_pattern; /* what was counted, e.g. "0f 05" */
};

/* Inspect the ELF file at path. Returns 0, or -1 with a one-line reason
 * ("not an ELF file", "truncated: ...", strerror) in why. */
int elf_inspect(const char *path, struct elfinfo *info, char *why,
		size_t whylen);
/* "x86-64", "AArch64", ... or "machine 1234" in buf. */
const char *elf_machine_name(int machine, char *buf, size_t len);
/* 1 if an ELF of this class and machine can load our libsysfill.so. */
int elf_native(const struct elfinfo *info);

/* ---- scan.c: disassembly (Capstone) ---------------------------------- */

/* Process-API calls found in code. */
enum {
	SC_PIDFD_OPEN,
	SC_PIDFD_SEND_SIGNAL,
	SC_PIDFD_GETFD,
	SC_CLONE3,
	SC_WAITID_PIDFD,
	SC_CLONE_PIDFD,
	SC_PROCESS_MADVISE,
	SC_PROCESS_MRELEASE,
	SC_COUNT
};
extern const char *const scan_call_names[SC_COUNT];
struct scaninfo {
	int scanned;        /* x86-64 code was disassembled */
	unsigned raw;       /* bit per SC_*: an inline syscall instruction */
	unsigned via_syscall; /* bit per SC_*: a call of libc's syscall() */
	unsigned via_waitid;  /* bit per SC_*: libc's waitid(P_PIDFD, ...) */
	long syscall_insns, unknown_insns; /* number not a constant */
	long syscall_calls, unknown_calls;
};
/* Disassemble PATH's code. Returns 0 (scanned = 0 for another machine) or
 * -1 with a one-line reason in why. */
int elf_scan(const char *path, struct scaninfo *si, char *why, size_t wl);
/* DT_NEEDED names (at most max), DT_SONAME and DT_RUNPATH (or DT_RPATH)
 * of PATH. Returns the number of names or -1. */
int elf_needed(const char *path, char names[][128], int max, char *soname,
	       size_t sonlen, char *runpath, size_t rplen);

/* ---- run.c ---------------------------------------------------------- */

/* Path of the libsysfill.so that belongs to this sysfill: next to the
 * binary (build tree), else ../lib/ (installed). Returns 0 or -ENOENT
 * (buf then holds the first candidate). */
int sysfill_lib_path(char *buf, size_t len);

/* ---- trace.c -------------------------------------------------------- */

/* 1 if trace mode emulates the pidfd calls: SYSFILL_FORCE, a simulated
 * kernel kv (0: none) that lacks one, or this kernel lacks one. */
int trace_emulates(unsigned kv);
/* Run argv (path resolved) under the tracing supervisor; kctx (may be
 * NULL) is a built --kernel/--profile filter the program gets first;
 * clone3_enosys: answer clone3 with ENOSYS (a profile answers EPERM, or
 * --kernel < 5.3); otherwise, when emulating, clone3 is emulated;
 * no_emulate: emulate nothing, whatever the kernel lacks (--no-emulate);
 * ignore_clone_pidfd: clear CLONE_PIDFD from clone's flags, as a kernel
 * before 5.2 ignores it (--kernel < 5.2).
 * Returns sysfill's exit status, or does not return if the program died
 * by a signal (the supervisor re-raises it). */
int trace_run(const char *path, char **argv, void *kctx, int quiet,
	      int force_emulate, int clone3_enosys, int no_emulate,
	      int ignore_clone_pidfd);

/* ---- commands -------------------------------------------------------- */

int cmd_probe(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_run(int argc, char **argv);

#endif
