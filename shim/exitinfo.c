/* Exit information of watched processes: what PIDFD_GET_INFO with
 * PIDFD_INFO_EXIT (Linux 6.15, fs/pidfs.c pidfs_exit) reports once the
 * process has been reaped: its exit code in the form of a wait status
 * (tsk->exit_code) and the id of the cgroup2 cgroup it died in.
 *
 * The kernel records it at the reap for every process some pidfd refers
 * to. Without pidfs it is learnt where a report passes by: for children,
 * the waiter thread's waitid(WNOWAIT), the pidfd's own waitid and the
 * program's libc wait calls (preload/interpose.c); for other processes,
 * the exit_code field of /proc/PID/stat while the monitor sees the zombie
 * (where ptrace READ_FSCREDS access is given and the field is kept: not
 * in gVisor) and the proc connector's exit
 * event (root). A process reaped before any of them saw it has none: the
 * kernel's answer for a pidfd without exit information (mask without
 * PIDFD_INFO_EXIT).
 *
 * Everything here runs on small stacks (the waiter threads' 16 KiB):
 * buffers stay under 2 KiB. */
#include <string.h>
#include <sys/time.h>
#include "sf.h"

/* The cgroup2 mount point, looked up once (/proc/self/mountinfo, with
 * the table lock held: big buffer, big stack) and never changed after. */
static char cg_mnt[256];
static int cg_state; /* 0 unknown, 1 cg_mnt, 2 no cgroup2 mount */

/* The mount point of a cgroup2 hierarchy (SELF/mountinfo, SELF a
 * process's /proc directory) into MNT (LEN bytes). 0 or -ENOENT. Big
 * stack. */
static int cgroup2_mount(const char *self, char *mnt, size_t len)
{
	char buf[8192], path[128];
	sf_fmt(path, sizeof path, "%s/mountinfo", self);
	if (proc_read(path, buf, sizeof buf) <= 0)
		return -ENOENT;
	for (char *l = buf; *l;) {
		char *nl = l;
		while (*nl && *nl != '\n')
			nl++;
		char *sep = strstr(l, " - cgroup2 ");
		if (sep && sep < nl) {
			/* fields: id parent dev root mountpoint ... */
			char *f = l;
			for (int i = 0; i < 4 && f < nl; i++) {
				while (f < nl && *f != ' ')
					f++;
				f++;
			}
			size_t n = 0;
			while (f + n < nl && f[n] != ' ')
				n++;
			if (n && n < len) {
				memcpy(mnt, f, n);
				mnt[n] = 0;
				return 0;
			}
		}
		l = *nl ? nl + 1 : nl;
	}
	return -ENOENT;
}

/* Look the cgroup2 mount up unless known. Caller holds the lock (or is
 * the only thread that may, see sf_cgroup2_id); big stack. */
static void cg_mount_lookup(void)
{
	if (__atomic_load_n(&cg_state, __ATOMIC_ACQUIRE))
		return;
	int st = cgroup2_mount("/proc/self", cg_mnt, sizeof cg_mnt) == 0 ? 1 : 2;
	__atomic_store_n(&cg_state, st, __ATOMIC_RELEASE);
}

/* cgroup_id() of PID's cgroup2 cgroup (PROC/PID/cgroup, under the cgroup2
 * mount MNT): the inode of its directory (kernfs ids are inode numbers).
 * 0 if unknown. */
static uint64_t cgroup2_id_at(const char *proc, const char *mnt, long pid)
{
	char path[1280], buf[1024];
	sf_fmt(path, 128, "%s/%ld/cgroup", proc, pid);
	if (proc_read(path, buf, sizeof buf) <= 0)
		return 0;
	char *l = buf;
	while (*l && strncmp(l, "0::", 3))
		while (*l && *l++ != '\n')
			;
	if (!*l)
		return 0;
	char *e = l + 3;
	while (*e && *e != '\n')
		e++;
	*e = 0;
	sf_fmt(path, sizeof path, "%s%s", mnt, l + 3);
	struct {
		long f_type;
		char rest[112];
	} fs;
	struct {
		uint64_t dev, ino;
		char rest[128];
	} sb;
	if (sf_sys2(SF_NR_statfs, path, &fs) < 0 || fs.f_type != 0x63677270 ||
	    sf_sys4(SF_NR_newfstatat, AT_FDCWD, path, &sb, 0) < 0)
		return 0;
	return sb.ino;
}

uint64_t sf_cgroup2_id(long pid)
{
	int st = __atomic_load_n(&cg_state, __ATOMIC_ACQUIRE);
	if (!st)
		return 0; /* not looked up yet (no watch was ever made) */
	if (st == 2)
		return 1; /* not mounted: all in its root (cgrp_dfl_root, id 1) */
	return cgroup2_id_at("/proc", cg_mnt, pid);
}

uint64_t sf_caller_cgroup2_id(const struct sf_caller *c, long pid)
{
	if (!c->proc && !c->self) {
		cg_mount_lookup();
		return sf_cgroup2_id(pid);
	}
	char mnt[256];
	if (cgroup2_mount(sf_caller_self(c), mnt, sizeof mnt) < 0)
		return 1;
	return cgroup2_id_at(sf_caller_proc(c), mnt, pid);
}

int32_t sf_wait_status(const siginfo_t *si)
{
	switch (si->si_code) {
	case CLD_EXITED:
		return (si->si_status & 0xff) << 8;
	case CLD_KILLED:
		return si->si_status & 0x7f;
	case CLD_DUMPED:
		return (si->si_status & 0x7f) | 0x80;
	}
	return 0;
}

void exitinfo_reset(struct sf_watch *w)
{
	w->exit_known = 0;
	w->exit_code = 0;
	w->exit_dumped = 0;
	cg_mount_lookup();
	/* Where a report comes after the reap: the cgroup it was in when
	 * the pidfd was made. */
	w->exit_cgroupid = w->pid > 0 ? sf_cgroup2_id(w->pid) : 0;
}

void exitinfo_note_cg(struct sf_watch *w, int32_t code, uint64_t cg)
{
	if (w->exit_known || w->state == SF_W_FREE)
		return;
	w->exit_code = code;
	w->exit_dumped = (code & 0x7f) && (code & 0x80);
	if (cg)
		w->exit_cgroupid = cg;
	w->exit_known = 1;
}

void exitinfo_note(struct sf_watch *w, int32_t code)
{
	if (!w->exit_known)
		exitinfo_note_cg(w, code, sf_cgroup2_id(w->pid));
}

/* May we read PID's exit_code in /proc/PID/stat (do_task_stat shows 0
 * otherwise): ptrace_may_access(PTRACE_MODE_READ_FSCREDS) of a zombie,
 * which has no mm to check: our fsuid/fsgid equal to each of its
 * real/effective/saved ids, or CAP_SYS_PTRACE. */
static int stat_exit_code_shown(pid_t pid)
{
	char path[48], buf[1536];
	uint64_t uid[3], gid[3], me[4], mg[4], cap = 0;
	sf_fmt(path, sizeof path, "/proc/%d/status", (int)pid);
	if (proc_read(path, buf, sizeof buf) <= 0 ||
	    proc_status_field(buf, "Uid", uid, 3, 10) != 3 ||
	    proc_status_field(buf, "Gid", gid, 3, 10) != 3)
		return 0;
	if (proc_read("/proc/self/status", buf, sizeof buf) <= 0 ||
	    proc_status_field(buf, "Uid", me, 4, 10) != 4 ||
	    proc_status_field(buf, "Gid", mg, 4, 10) != 4)
		return 0;
	proc_status_field(buf, "CapEff", &cap, 1, 16);
	if (cap & (1ULL << 19))
		return 1;
	for (int i = 0; i < 3; i++)
		if (uid[i] != me[3] || gid[i] != mg[3])
			return 0;
	return 1;
}

/* The exit_code field (52) of /proc/PID/stat of a zombie in STAT, or -1
 * if it has none (before 3.5). */
static long stat_exit_code(const char *stat)
{
	/* comm may hold spaces and ')': fields start after the last ')' */
	const char *p = 0;
	for (const char *q = stat; *q; q++)
		if (*q == ')')
			p = q;
	if (!p || p[1] != ' ' || p[2] != 'Z')
		return -1;
	p += 2; /* field 3 */
	int field = 3;
	for (; *p && field < 52; p++)
		if (*p == ' ')
			field++;
	if (field != 52 || *p < '0' || *p > '9')
		return -1;
	return (long)proc_number(p);
}

/* Does /proc/PID/stat show a zombie's exit code here (gVisor shows 0)?
 * Asked once, of a child with no exit signal (the program's waits do not
 * see it) that exits with status 3. 1 yes, 0 no or unknown. All signals
 * blocked. */
static int stat_exit_code_works(void)
{
	static volatile int known; /* 0 unknown, 1 works, 2 not */
	if (known)
		return known == 1;
	long c = sf_syscall6(SF_NR_clone, 0, 0, 0, 0, 0, 0);
	if (c == 0)
		sf_sys1(SF_NR_exit_group, 3);
	if (c < 0)
		return 0;
	siginfo_t si;
	char path[48], buf[1024];
	long code = -1;
	if (sf_sys5(SF_NR_waitid, P_PID, c, &si, WEXITED | WNOWAIT | __WALL, 0) == 0) {
		sf_fmt(path, sizeof path, "/proc/%ld/stat", c);
		if (proc_read(path, buf, sizeof buf) > 0)
			code = stat_exit_code(buf);
	}
	sf_sys4(SF_NR_wait4, c, 0, __WALL, 0);
	known = code == 0x300 ? 1 : 2;
	return known == 1;
}

/* The exit code of zombie PID whose /proc/PID/stat text is STAT, where
 * we may read it and it is kept, or -1. All signals blocked. */
static long zombie_exit_code(pid_t pid, const char *stat)
{
	long code = stat_exit_code(stat);
	/* 0 also where the field is not shown to us, or not kept at all */
	if (code < 0 || (code == 0 && (!stat_exit_code_shown(pid) ||
				       !stat_exit_code_works())))
		return -1;
	return code;
}

void exitinfo_note_proc(struct sf_watch *w)
{
	if (w->exit_known)
		return;
	char path[48], buf[1024];
	sf_fmt(path, sizeof path, "/proc/%d/stat", (int)w->pid);
	if (proc_read(path, buf, sizeof buf) <= 0)
		return;
	long code = zombie_exit_code(w->pid, buf);
	if (code >= 0)
		exitinfo_note(w, (int32_t)code);
}

/* ---- exits reported to the program's own wait calls ---- */
static int32_t seen_code;
static int seen_reaped;

static void seen_one(struct sf_watch *w)
{
	if (w->state == SF_W_REAPED)
		return; /* an earlier process with this pid */
	if (seen_code >= 0) /* after a reap /proc has nothing of it */
		exitinfo_note_cg(w, seen_code, seen_reaped ? 0 : sf_cgroup2_id(w->pid));
	if (seen_reaped)
		pidtab_mark_reaped(w);
	else
		pidtab_mark_exited(w);
}

void exitinfo_saw_exit(pid_t pid, int reaped, int32_t code)
{
	seen_code = code;
	seen_reaped = reaped;
	pidtab_each_of_pid(pid, seen_one);
}

/* ---- exit information as CLONE_FD proposed it (sf_pidfd_exit_info) ----
 * Josh Triplett's clone4/CLONE_FD series (2015, never merged): read() on
 * the clonefd of an exited process gave struct clonefd_info { __s32 code;
 * __s32 status; __u64 utime; __u64 stime; }: code and status as waitid's
 * si_code and si_status (task_exit_code_status of the exit code), the
 * times in clock ticks (cputime_to_clock_t: USER_HZ) of the thread group,
 * its dead threads included; EAGAIN before the exit with O_NONBLOCK. */

/* CODE and STATUS of wait status ST (kernel/exit.c wait_task_zombie). */
static void exit_decode(int32_t st, struct sf_exit_info *e)
{
	if (st & 0x7f) {
		e->code = st & 0x80 ? CLD_DUMPED : CLD_KILLED;
		e->status = st & 0x7f;
	} else {
		e->code = CLD_EXITED;
		e->status = (st >> 8) & 0xff;
	}
}

static uint64_t tv_ticks(const struct timeval *tv)
{
	return ((uint64_t)tv->tv_sec * 1000000u + (uint64_t)tv->tv_usec) /
	       (1000000u / SF_USER_HZ);
}

/* Keep the wait status ST of the process of emulated pidfd FD in its
 * watch (none for a kernel pidfd). Normal context. */
static void note_fd(int fd, int32_t st)
{
	sigset_t all, old;
	sigfillset(&all);
	sf_sigmask(SIG_SETMASK, &all, &old);
	sf_lock();
	int idx = pidtab_resolve(fd);
	if (idx >= 0)
		exitinfo_note(pidtab_watch(idx), st);
	sf_unlock();
	sf_sigmask(SIG_SETMASK, &old, 0);
}

/* What PID (in our pid namespace, not known to be reaped) shows of its
 * exit: the SF_EXIT_* bits, -EAGAIN (not exited), -ESRCH (gone), -errno.
 * *ST gets the wait status (-1 unknown). A child: waitid(WNOWAIT), whose
 * rusage the kernel fills without a reap too (wait_task_zombie: getrusage
 * RUSAGE_BOTH before it leaves the zombie alone); its times include those
 * of the children it waited for, as wait4 reports them. Another process:
 * /proc/PID/stat of its zombie: utime and stime (fields 14 and 15, the
 * thread group's, in ticks), the exit code (field 52) where shown. */
static long zombie_info(pid_t pid, struct sf_exit_info *e, int32_t *st)
{
	siginfo_t si;
	struct {
		struct timeval ut, st;
		long rest[14];
	} ru;
	memset(&si, 0, sizeof si);
	memset(&ru, 0, sizeof ru);
	*st = -1;
	long w = sf_syscall6(SF_NR_waitid, P_PID, pid, (long)&si,
			     WEXITED | WNOHANG | WNOWAIT | __WALL, (long)&ru, 0);
	if (w == 0) {
		if (si.si_pid != pid || !sf_reports_exit(&si))
			return -EAGAIN;
		e->code = si.si_code;
		e->status = si.si_status;
		e->utime = tv_ticks(&ru.ut);
		e->stime = tv_ticks(&ru.st);
		*st = sf_wait_status(&si);
		return SF_EXIT_CODE | SF_EXIT_TIMES;
	}
	if (w != -ECHILD)
		return w;
	char path[48], buf[1024];
	sf_fmt(path, sizeof path, "/proc/%d/stat", (int)pid);
	if (proc_read(path, buf, sizeof buf) <= 0)
		return -ESRCH;
	int leader_zombie = 0;
	int gone = proc_stat_gone(buf, 0, &leader_zombie);
	if (gone < 0)
		return -ESRCH;
	if (!gone)
		return -EAGAIN; /* running, or a leader whose threads run */
	const char *p = 0;
	for (const char *q = buf; *q; q++)
		if (*q == ')')
			p = q;
	uint64_t f[2] = {0, 0};
	int field = 2;
	for (; p && *p && field < 15; p++) {
		if (*p == ' ' && ++field >= 14)
			f[field - 14] = proc_number(p + 1);
	}
	e->utime = f[0];
	e->stime = f[1];
	long bits = SF_EXIT_TIMES;
	sigset_t all, old;
	sigfillset(&all);
	sf_sigmask(SIG_SETMASK, &all, &old);
	long code = zombie_exit_code(pid, buf);
	sf_sigmask(SIG_SETMASK, &old, 0);
	if (code >= 0) {
		exit_decode((int32_t)code, e);
		*st = (int32_t)code;
		bits |= SF_EXIT_CODE;
	}
	return bits;
}

long sf_pidfd_exit_info(int fd, struct sf_exit_info *e, unsigned flags)
{
	memset(e, 0, sizeof *e);
	if (flags)
		return -EINVAL;
	/* the pid, its exit, and the pid again: a pid that still names the
	 * pidfd's process after the look named it during it */
	for (int tries = 0; tries < 3; tries++) {
		long pid = sf_any_pidfd_pid(fd);
		if (pid == -ESRCH) {
			/* reaped: what PIDFD_INFO_EXIT (6.15) keeps, the wait
			 * status only (the kernel's, or the watch's) */
			struct pidfd_info_k k;
			if (sf_any_pidfd_info(fd, PIDFD_INFO_EXIT, &k) < 0 ||
			    !(k.mask & PIDFD_INFO_EXIT))
				return -ESRCH;
			exit_decode(k.exit_code, e);
			return SF_EXIT_CODE;
		}
		if (pid < 0)
			return pid;
		int32_t st;
		long r = zombie_info((pid_t)pid, e, &st);
		if (sf_any_pidfd_pid(fd) == pid) {
			if (st >= 0)
				note_fd(fd, st);
			return r;
		}
		memset(e, 0, sizeof *e);
	}
	return -ESRCH;
}
