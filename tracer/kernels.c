/* The process-API feature table: which kernel introduced what, and what a
 * program sees on an older one. It drives `sysfill probe` (names, order),
 * `sysfill run --kernel` (the seccomp filter) and `sysfill run --help`.
 *
 * Versions, from the man pages (pidfd_open(2), pidfd_send_signal(2),
 * clone(2), waitid(2), pidfd_getfd(2)) and the merge commits:
 *   5.1  pidfd_send_signal (on /proc/<pid> dir fds)
 *   5.2  CLONE_PIDFD for clone() (the pidfd goes to parent_tid)
 *   5.3  pidfd_open, clone3, poll() on pidfds
 *   5.4  waitid(P_PIDFD)
 *   5.6  pidfd_getfd
 *   5.8  setns() with a pidfd (kernel/nsproxy.c)
 *   5.10 PIDFD_NONBLOCK for pidfd_open; process_madvise
 *   5.15 process_mrelease
 *   6.9  PIDFD_THREAD for pidfd_open; PIDFD_SIGNAL_* scope flags for
 *        pidfd_send_signal
 *   6.11 PIDFD_GET_*_NAMESPACE ioctls (fs/pidfs.c)
 *   6.13 PIDFD_GET_INFO ioctl
 *   6.15 PIDFD_INFO_EXIT: exit information after the reap */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include "sysfill/uapi.h"
#include "tracer.h"

const struct kfeature kfeatures[KF_COUNT] = {
	[KF_PIDFD_SEND_SIGNAL] = {
		.name = "pidfd_send_signal", .key = "pidfd_send_signal",
		.syscall = "pidfd_send_signal", .since = KV(5, 1),
		.kind = KF_SYSCALL, .err = ENOSYS, .emulated = 1, .trigger = 1,
		.before = "ENOSYS",
	},
	[KF_CLONE_PIDFD] = {
		.name = "clone(CLONE_PIDFD)", .key = "clone_pidfd",
		.syscall = "clone", .since = KV(5, 2),
		.kind = KF_IGNORED, .arg = 0, .mask = CLONE_PIDFD, .emulated = 1,
		.before = "flag silently ignored: no pidfd, parent_tid untouched",
	},
	[KF_PIDFD_OPEN] = {
		.name = "pidfd_open", .key = "pidfd_open",
		.syscall = "pidfd_open", .since = KV(5, 3),
		.kind = KF_SYSCALL, .err = ENOSYS, .emulated = 1, .trigger = 1,
		.before = "ENOSYS",
	},
	[KF_CLONE3] = {
		.name = "clone3", .key = "clone3",
		.syscall = "clone3", .since = KV(5, 3),
		.kind = KF_SYSCALL, .err = ENOSYS, .emulated = 1,
		.before = "ENOSYS (glibc falls back to clone)",
	},
	[KF_PIDFD_POLL] = {
		.name = "pollable pidfd", .key = "pidfd_poll",
		.syscall = "poll", .since = KV(5, 3),
		.kind = KF_PROPERTY, .emulated = 1,
		.before = "no exit notification through poll (pidfds only from CLONE_PIDFD)",
	},
	[KF_WAITID_PIDFD] = {
		.name = "waitid(P_PIDFD)", .key = "waitid_pidfd",
		.syscall = "waitid", .since = KV(5, 4),
		/* idtype_t is an int: compare the low 32 bits only. */
		.kind = KF_ARG_EQ, .arg = 0, .mask = 0xffffffffu,
		.value = P_PIDFD, .err = EINVAL, .emulated = 1,
		.trigger = 1,
		.before = "EINVAL (unknown idtype)",
	},
	[KF_PIDFD_GETFD] = {
		.name = "pidfd_getfd", .key = "pidfd_getfd",
		.syscall = "pidfd_getfd", .since = KV(5, 6),
		.kind = KF_SYSCALL, .err = ENOSYS, .emulated = 1, .trigger = 1,
		.before = "ENOSYS",
	},
	[KF_SETNS_PIDFD] = {
		.name = "setns(pidfd)", .key = "setns_pidfd",
		.syscall = "setns", .since = KV(5, 8),
		/* no filter tells a pidfd from a namespace fd */
		.kind = KF_PROPERTY, .emulated = 1, .needs = KF_PIDFD_OPEN + 1,
		.before = "EINVAL (not a namespace fd)",
	},
	[KF_PIDFD_NONBLOCK] = {
		.name = "PIDFD_NONBLOCK", .key = "pidfd_nonblock",
		.syscall = "pidfd_open", .since = KV(5, 10),
		.kind = KF_ARG_BITS, .arg = 1, .mask = PIDFD_NONBLOCK,
		.err = EINVAL, .emulated = 1,
		.before = "EINVAL (unknown flag)",
	},
	[KF_PROCESS_MADVISE] = {
		.name = "process_madvise", .key = "process_madvise",
		.syscall = "process_madvise", .since = KV(5, 10),
		/* not emulated: made with a real pidfd where the kernel has it */
		.kind = KF_SYSCALL, .err = ENOSYS,
		.before = "ENOSYS",
	},
	[KF_PROCESS_MRELEASE] = {
		.name = "process_mrelease", .key = "process_mrelease",
		.syscall = "process_mrelease", .since = KV(5, 15),
		.kind = KF_SYSCALL, .err = ENOSYS,
		.before = "ENOSYS",
	},
	[KF_PIDFD_THREAD] = {
		.name = "PIDFD_THREAD", .key = "pidfd_thread",
		.syscall = "pidfd_open", .since = KV(6, 9),
		.kind = KF_ARG_BITS, .arg = 1, .mask = PIDFD_THREAD,
		.err = EINVAL, .emulated = 1,
		.before = "EINVAL (unknown flag)",
	},
	[KF_PIDFD_SIGNAL_FLAGS] = {
		.name = "pidfd_send_signal flags", .key = "pidfd_signal_flags",
		.syscall = "pidfd_send_signal", .since = KV(6, 9),
		.kind = KF_ARG_BITS, .arg = 3,
		.mask = PIDFD_SIGNAL_THREAD | PIDFD_SIGNAL_THREAD_GROUP |
			PIDFD_SIGNAL_PROCESS_GROUP,
		.err = EINVAL, .emulated = 1,
		.before = "EINVAL (unknown flag)",
	},
	[KF_PIDFD_NS_IOCTL] = {
		.name = "namespace ioctls", .key = "pidfd_ns_ioctl",
		.syscall = "ioctl", .since = KV(6, 11),
		/* _IO(0xFF, 1..10); 0, 11 without a size and 12-15 are
		 * ENOTTY on 6.18 as well */
		.kind = KF_ARG_EQ, .arg = 1, .mask = 0xfffffff0u, .value = 0xff00u,
		.err = ENOTTY, .emulated = 1,
		.before = "ENOTTY (no pidfd ioctls)",
	},
	[KF_PIDFD_GET_INFO] = {
		.name = "PIDFD_GET_INFO", .key = "pidfd_get_info",
		.syscall = "ioctl", .since = KV(6, 13),
		/* _IOWR(0xFF, 11, any size) */
		.kind = KF_ARG_EQ, .arg = 1, .mask = 0xc000ffffu,
		.value = 0xc000ff0bu, .err = ENOTTY, .emulated = 1,
		.before = "ENOTTY (no pidfd ioctls)",
	},
	[KF_PIDFD_INFO_EXIT] = {
		.name = "PIDFD_INFO_EXIT", .key = "pidfd_info_exit",
		.syscall = "ioctl", .since = KV(6, 15),
		.kind = KF_PROPERTY, .emulated = 1, .needs = KF_PIDFD_GET_INFO + 1,
		.before = "PIDFD_GET_INFO of a reaped process: ESRCH",
	},
};

static const struct kprofile_rule container_eperm_rules[] = {
	{"clone3", EPERM},
	{0, 0},
};

const struct kprofile kprofiles[] = {
	{"container-eperm",
	 "seccomp profile of container runtimes older than clone3: "
	 "clone3 -> EPERM (breaks glibc >= 2.34 pthread_create/posix_spawn)",
	 container_eperm_rules},
	{0, 0, 0},
};

const struct kprofile *kprofile_find(const char *name)
{
	for (const struct kprofile *p = kprofiles; p->name; p++)
		if (!strcmp(p->name, name))
			return p;
	return NULL;
}

static int parse_num(const char **s, unsigned *out)
{
	if (**s < '0' || **s > '9')
		return -EINVAL;
	unsigned long v = 0;
	while (**s >= '0' && **s <= '9') {
		v = v * 10 + (unsigned)(**s - '0');
		if (v > 0xffff)
			return -EINVAL;
		(*s)++;
	}
	*out = (unsigned)v;
	return 0;
}

int kversion_triggers_emulation(unsigned kv)
{
	for (int i = 0; i < KF_COUNT; i++)
		if (kfeatures[i].trigger && kv < kfeatures[i].since)
			return 1;
	return 0;
}

int kversion_parse(const char *s, unsigned *out)
{
	unsigned major, minor = 0, patch;
	if (parse_num(&s, &major) < 0)
		return -EINVAL;
	if (*s == '.') {
		s++;
		if (parse_num(&s, &minor) < 0)
			return -EINVAL;
		if (*s == '.') {
			s++;
			if (parse_num(&s, &patch) < 0)
				return -EINVAL;
		}
	}
	/* A release suffix ("-rc1", "-amd64") is allowed after a dash. */
	if (*s && *s != '-')
		return -EINVAL;
	if (major < 2 || major > 99)
		return -EINVAL;
	*out = KV(major, minor);
	return 0;
}

const char *kversion_str(unsigned kv, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u", KV_MAJOR(kv), KV_MINOR(kv));
	return buf;
}

long sysnr(const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);
	return nr == __NR_SCMP_ERROR || nr < 0 ? -1 : nr;
}

const char *errname(int err, char *buf, size_t len)
{
	const char *n = strerrorname_np(err);
	if (n)
		return n;
	snprintf(buf, len, "E%d", err);
	return buf;
}

/* Add one ERRNO rule. Returns 0 or -errno (libseccomp's). */
static int add_rule(scmp_filter_ctx ctx, int nr, int err, int ncmp,
		    const struct scmp_arg_cmp *cmp)
{
	return seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(err), nr, ncmp, cmp);
}

static int profile_covers(const struct kprofile *prof, const char *sc)
{
	if (!prof)
		return 0;
	for (const struct kprofile_rule *r = prof->rules; r->syscall; r++)
		if (!strcmp(r->syscall, sc))
			return 1;
	return 0;
}

int kfilter_build(unsigned kv, const struct kprofile *prof, int emulating,
		  void **ctxp, struct kplan *planp)
{
	struct kplan plan = {0};
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return -ENOMEM;
	int r = 0;
	/* The same rules for 32-bit programs: without these arches their first
	 * system call would hit libseccomp's bad-arch action (kill). */
	if (seccomp_arch_native() == SCMP_ARCH_X86_64) {
		r = seccomp_arch_add(ctx, SCMP_ARCH_X86);
		if (!r)
			r = seccomp_arch_add(ctx, SCMP_ARCH_X32);
		if (r && r != -EEXIST)
			goto fail;
		r = 0;
	}
	/* The profile sits in front of the kernel: its answer wins for the
	 * calls it names (a 4.19 host behind such a profile answers clone3
	 * with EPERM too). */
	if (prof) {
		for (const struct kprofile_rule *pr = prof->rules; pr->syscall;
		     pr++) {
			long nr = sysnr(pr->syscall);
			if (nr < 0)
				continue; /* call unknown on this arch */
			r = add_rule(ctx, (int)nr, pr->err, 0, NULL);
			if (r)
				goto fail;
			plan.nrules++;
		}
	}
	unsigned whole = 0; /* features whose whole call is hidden */
	for (int pass = 0; pass < 2 && kv; pass++) {
		for (int i = 0; i < KF_COUNT; i++) {
			const struct kfeature *f = &kfeatures[i];
			if (kv >= f->since)
				continue;
			/* Pass 0: whole calls; pass 1: arguments of calls that
			 * remain (a hidden call needs no argument rules). */
			if ((f->kind == KF_SYSCALL) != (pass == 0))
				continue;
			if (emulating && f->emulated) {
				plan.left_to_emulation |= 1u << i;
				continue;
			}
			if (f->needs && (plan.hidden & (1u << (f->needs - 1)))) {
				plan.hidden |= 1u << i; /* cannot be used */
				continue;
			}
			if (f->kind == KF_IGNORED || f->kind == KF_PROPERTY) {
				plan.gaps |= 1u << i;
				continue;
			}
			if (profile_covers(prof, f->syscall))
				continue;
			int hidden_call = 0;
			for (int j = 0; j < KF_COUNT; j++)
				if ((whole & (1u << j)) &&
				    !strcmp(kfeatures[j].syscall, f->syscall))
					hidden_call = 1;
			if (hidden_call) {
				plan.hidden |= 1u << i;
				continue;
			}
			long nr = sysnr(f->syscall);
			if (nr < 0)
				continue;
			if (f->kind == KF_SYSCALL) {
				r = add_rule(ctx, (int)nr, f->err, 0, NULL);
				whole |= 1u << i;
				plan.nrules++;
			} else if (f->kind == KF_ARG_EQ) {
				struct scmp_arg_cmp c = {
					.arg = (unsigned)f->arg,
					.op = SCMP_CMP_MASKED_EQ,
					.datum_a = f->mask, .datum_b = f->value,
				};
				r = add_rule(ctx, (int)nr, f->err, 1, &c);
				plan.nrules++;
			} else { /* KF_ARG_BITS: one rule per bit */
				for (int b = 0; b < 64 && !r; b++) {
					uint64_t bit = 1ull << b;
					if (!(f->mask & bit))
						continue;
					struct scmp_arg_cmp c = {
						.arg = (unsigned)f->arg,
						.op = SCMP_CMP_MASKED_EQ,
						.datum_a = bit, .datum_b = bit,
					};
					r = add_rule(ctx, (int)nr, f->err, 1, &c);
					plan.nrules++;
				}
			}
			if (r)
				goto fail;
			plan.hidden |= 1u << i;
		}
	}
	*ctxp = ctx;
	if (planp)
		*planp = plan;
	return 0;
fail:
	seccomp_release(ctx);
	return r < 0 ? r : -EINVAL;
}

int kfilter_load(void *ctx, int *nnp)
{
	/* Without no_new_privs first: setuid programs the program starts keep
	 * working as on the simulated kernel. Needs CAP_SYS_ADMIN. */
	*nnp = 0;
	seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
	int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (!r)
		r = seccomp_load(ctx);
	if (r == -EACCES || r == -EPERM) {
		*nnp = 1;
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
		if (!r)
			r = seccomp_load(ctx);
	}
	seccomp_release(ctx);
	return r;
}

void kfilter_release(void *ctx)
{
	seccomp_release(ctx);
}

void kfeatures_print(FILE *f)
{
	char v[16];
	fprintf(f, "  %-24s %-18s %-6s %s\n", "feature", "system call", "since",
		"before that");
	for (int i = 0; i < KF_COUNT; i++) {
		const struct kfeature *k = &kfeatures[i];
		fprintf(f, "  %-24s %-18s %-6s %s%s\n", k->name, k->syscall,
			kversion_str(k->since, v, sizeof v), k->before,
			k->kind == KF_IGNORED ? " [simulated under the supervisor]"
			: k->kind == KF_PROPERTY ? " [not simulated]" : "");
	}
}
