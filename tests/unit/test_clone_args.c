// build: shim/clone_args.c shim/caller.c shim/log.c
/* cargs_load against the native clone3 of this kernel: every case calls the
 * real clone3 (nr 435) with the same memory and size, checks the errno the
 * kernel gives, and checks that cargs_load gives exactly that.
 *
 * No case may create a process except the fork-like ones (flags 0, child
 * _exits at once and is reaped). Cases the kernel accepts are otherwise made
 * to fail at creation, after every check cargs_load mirrors: set_tid naming
 * our own pid (EEXIST as root, EPERM without CAP_CHECKPOINT_RESTORE) or
 * CLONE_INTO_CGROUP with a closed fd (EBADF). */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clone_args.h"

#define PAGE 4096UL
#define JUNK 0xbadc0ded00000000ULL /* strace's junk for unused upper bits */
#define TASK_SIZE_MAX_47 0x7ffffffff000UL

/* Four pages: none | rw | rw | none. The struct normally sits at the start
 * of the first rw page; tests that need a fault place it across an edge. */
static unsigned char *region;
static struct sysfill_clone_args *args;
static int32_t own_tid[1];
static int pidfd_slot, ptid_slot;

static void setup(void)
{
	region = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(region != MAP_FAILED);
	cr_assert(mprotect(region, PAGE, PROT_NONE) == 0);
	cr_assert(mprotect(region + 3 * PAGE, PAGE, PROT_NONE) == 0);
	args = (struct sysfill_clone_args *)(region + PAGE);
	own_tid[0] = getpid();
}

TestSuite(clone_args, .init = setup);

/* The real clone3. Returns 0 if it created a (fork-like) child, which is
 * reaped, or -errno. Skips the test where the kernel's answer is not the
 * oracle: no clone3 (gVisor, qemu-user: ENOSYS) or a filter answering it
 * (EPERM profiles); clone3(NULL, 0) is EINVAL on every real kernel >= 5.3. */
static long native_clone3(uintptr_t uargs, size_t size)
{
	errno = 0;
	if (syscall(SF_NR_clone3, NULL, 0) != -1 || errno != EINVAL)
		cr_skip_test("native clone3 unavailable (%s): no oracle",
			     strerrorname_np(errno));
	long r = syscall(SF_NR_clone3, uargs, size);
	if (r == 0)
		_exit(0);
	if (r > 0) {
		int st;
		cr_assert_eq(waitpid((pid_t)r, &st, __WALL), r);
		return 0;
	}
	return -errno;
}

static long ours(uintptr_t uargs, size_t size)
{
	struct sysfill_clone_args out;
	return cargs_load(&sf_self_caller, uargs, size, &out);
}

/* The kernel refuses (UARGS, SIZE) with ERR before creating anything, and
 * so does cargs_load. */
static void expect_rejected_at(uintptr_t uargs, size_t size, int err)
{
	long n = native_clone3(uargs, size);
	cr_assert_eq(n, -err, "native clone3 gave %ld (%s), expected -%d (%s)",
		     n, strerror((int)-n), err, strerror(err));
	long o = ours(uargs, size);
	cr_assert_eq(o, n, "cargs_load gave %ld (%s), native %ld (%s)", o,
		     strerror((int)-o), n, strerror((int)-n));
}

static void expect_rejected(size_t size, int err)
{
	expect_rejected_at((uintptr_t)args, size, err);
}

enum creation { FORKS, SET_TID_TAKEN, CGROUP_BAD_FD };

/* The kernel gets past every argument check, and cargs_load returns 0. */
static void expect_accepted_at(uintptr_t uargs, size_t size, enum creation how)
{
	long n = native_clone3(uargs, size);
	switch (how) {
	case FORKS:
		cr_assert_eq(n, 0, "native clone3 gave %ld (%s)", n,
			     strerror((int)-n));
		break;
	case SET_TID_TAKEN:
		cr_assert(n == -EEXIST || n == -EPERM,
			  "native clone3 gave %ld (%s), expected EEXIST/EPERM from alloc_pid",
			  n, strerror((int)-n));
		break;
	case CGROUP_BAD_FD:
		cr_assert_eq(n, -EBADF, "native clone3 gave %ld (%s)", n,
			     strerror((int)-n));
		break;
	}
	long o = ours(uargs, size);
	cr_assert_eq(o, 0, "cargs_load gave %ld (%s), native got to creation",
		     o, strerror((int)-o));
}

static void expect_accepted(size_t size, enum creation how)
{
	expect_accepted_at((uintptr_t)args, size, how);
}

/* Make creation fail in alloc_pid: set_tid names our own, taken, pid. */
static void set_tid_probe(struct sysfill_clone_args *a)
{
	a->set_tid = (uintptr_t)own_tid;
	a->set_tid_size = 1;
}

/* Results that depend on the machine (paging mode): cargs_load must give
 * whatever the kernel gives. */
static void expect_same(size_t size)
{
	long n = native_clone3((uintptr_t)args, size);
	long o = ours((uintptr_t)args, size);
	if (n == -EINVAL || n == -E2BIG || n == -EFAULT)
		cr_assert_eq(o, n, "cargs_load %ld, native %ld", o, n);
	else
		cr_assert_eq(o, 0, "cargs_load %ld, native got to creation (%ld)",
			     o, n);
}

/* ---- size and copy (copy_clone_args_from_user, copy_struct_from_user) */

Test(clone_args, size_zero_is_einval)
{
	expect_rejected(0, EINVAL);
}

Test(clone_args, size_below_ver0_is_einval)
{
	expect_rejected(SYSFILL_CLONE_ARGS_SIZE_VER0 - 1, EINVAL);
}

Test(clone_args, size_ver0_64_forks)
{
	args->exit_signal = SIGCHLD;
	expect_accepted(SYSFILL_CLONE_ARGS_SIZE_VER0, FORKS);
}

Test(clone_args, size_ver0_ignores_and_zero_extends_fields_beyond_it)
{
	args->exit_signal = SIGCHLD;
	args->set_tid = 1;      /* beyond 64 bytes: not part of the struct */
	args->set_tid_size = 99;
	args->cgroup = JUNK;
	expect_accepted(SYSFILL_CLONE_ARGS_SIZE_VER0, FORKS);
	struct sysfill_clone_args out;
	memset(&out, 0xa5, sizeof(out));
	cr_assert_eq(cargs_load(&sf_self_caller, (uintptr_t)args,
				SYSFILL_CLONE_ARGS_SIZE_VER0, &out), 0);
	cr_assert_eq(out.exit_signal, SIGCHLD);
	cr_assert_eq(out.set_tid, 0);
	cr_assert_eq(out.set_tid_size, 0);
	cr_assert_eq(out.cgroup, 0);
}

Test(clone_args, size_72_cuts_set_tid_size_to_zero_so_set_tid_is_einval)
{
	set_tid_probe(args); /* set_tid_size lies beyond the 72 bytes */
	expect_rejected(72, EINVAL);
}

Test(clone_args, size_ver1_80_accepted)
{
	set_tid_probe(args);
	expect_accepted(SYSFILL_CLONE_ARGS_SIZE_VER1, SET_TID_TAKEN);
}

Test(clone_args, size_ver2_88_accepted)
{
	set_tid_probe(args);
	expect_accepted(SYSFILL_CLONE_ARGS_SIZE_VER2, SET_TID_TAKEN);
}

Test(clone_args, size_page_4096_with_zero_tail_accepted)
{
	set_tid_probe(args);
	expect_accepted(PAGE, SET_TID_TAKEN);
}

Test(clone_args, size_page_4096_with_junk_in_last_byte_is_e2big)
{
	set_tid_probe(args);
	((unsigned char *)args)[PAGE - 1] = 1;
	expect_rejected(PAGE, E2BIG);
}

Test(clone_args, size_4097_is_e2big)
{
	expect_rejected(PAGE + 1, E2BIG);
}

Test(clone_args, size_with_junk_in_upper_bits_is_e2big)
{
	args->exit_signal = SIGCHLD;
	expect_rejected((size_t)(JUNK | SYSFILL_CLONE_ARGS_SIZE_VER2), E2BIG);
}

Test(clone_args, e2big_for_size_is_checked_before_the_pointer)
{
	expect_rejected_at(0, PAGE + 1, E2BIG);
}

Test(clone_args, trailing_junk_after_ver2_is_e2big)
{
	((unsigned char *)args)[SYSFILL_CLONE_ARGS_SIZE_VER2 + 5] = 0xff;
	expect_rejected(SYSFILL_CLONE_ARGS_SIZE_VER2 + 8, E2BIG);
}

Test(clone_args, trailing_zero_bytes_after_ver2_accepted)
{
	set_tid_probe(args);
	expect_accepted(SYSFILL_CLONE_ARGS_SIZE_VER2 + 8, SET_TID_TAKEN);
}

Test(clone_args, trailing_bytes_checked_even_at_odd_size)
{
	((unsigned char *)args)[SYSFILL_CLONE_ARGS_SIZE_VER2 + 2] = 1;
	expect_rejected(SYSFILL_CLONE_ARGS_SIZE_VER2 + 3, E2BIG);
}

Test(clone_args, null_uargs_is_efault)
{
	expect_rejected_at(0, SYSFILL_CLONE_ARGS_SIZE_VER2, EFAULT);
}

Test(clone_args, unreadable_uargs_is_efault)
{
	expect_rejected_at((uintptr_t)region, SYSFILL_CLONE_ARGS_SIZE_VER2,
			   EFAULT);
}

Test(clone_args, uargs_with_junk_in_upper_bits_is_efault)
{
	args->exit_signal = SIGCHLD;
	expect_rejected_at((uintptr_t)(JUNK | (uintptr_t)args),
			   SYSFILL_CLONE_ARGS_SIZE_VER2, EFAULT);
}

Test(clone_args, kernel_address_uargs_is_efault)
{
	/* The vsyscall page: readable by some means, never by copy_from_user. */
	expect_rejected_at(0xffffffffff600000UL, SYSFILL_CLONE_ARGS_SIZE_VER0,
			   EFAULT);
}

Test(clone_args, junk_in_tail_beats_unreadable_head_e2big)
{
	/* copy_struct_from_user checks the trailing bytes before it copies
	 * the known part: head half in the PROT_NONE page, junk in the tail. */
	uintptr_t at = (uintptr_t)region + PAGE - 40;
	region[PAGE + 100] = 1;
	expect_rejected_at(at, 200, E2BIG);
}

Test(clone_args, unreadable_head_with_zero_tail_is_efault)
{
	expect_rejected_at((uintptr_t)region + PAGE - 40, 200, EFAULT);
}

Test(clone_args, tail_reaching_unreadable_page_is_efault)
{
	uintptr_t at = (uintptr_t)region + 3 * PAGE - 96;
	expect_rejected_at(at, 200, EFAULT);
}

Test(clone_args, junk_before_unreadable_tail_page_is_e2big)
{
	uintptr_t at = (uintptr_t)region + 3 * PAGE - 96;
	region[3 * PAGE - 2] = 1; /* trailing byte 94, before the fault */
	expect_rejected_at(at, 200, E2BIG);
}

/* ---- set_tid, exit_signal, cgroup (copy_clone_args_from_user) ---- */

Test(clone_args, set_tid_size_above_max_pid_ns_level_is_einval)
{
	args->set_tid = (uintptr_t)own_tid;
	args->set_tid_size = 33;
	expect_rejected(SYSFILL_CLONE_ARGS_SIZE_VER1, EINVAL);
}

Test(clone_args, set_tid_size_with_junk_in_upper_bits_is_einval)
{
	args->set_tid = (uintptr_t)own_tid;
	args->set_tid_size = JUNK | 1;
	expect_rejected(SYSFILL_CLONE_ARGS_SIZE_VER1, EINVAL);
}

Test(clone_args, set_tid_size_without_set_tid_is_einval)
{
	args->set_tid_size = 1;
	expect_rejected(SYSFILL_CLONE_ARGS_SIZE_VER1, EINVAL);
}

Test(clone_args, set_tid_without_set_tid_size_is_einval)
{
	args->set_tid = (uintptr_t)own_tid;
	expect_rejected(SYSFILL_CLONE_ARGS_SIZE_VER1, EINVAL);
}

Test(clone_args, set_tid_bad_pointer_is_efault)
{
	args->set_tid = (uintptr_t)region; /* PROT_NONE */
	args->set_tid_size = 1;
	expect_rejected(SYSFILL_CLONE_ARGS_SIZE_VER1, EFAULT);
}

Test(clone_args, set_tid_pointer_with_junk_in_upper_bits_is_efault)
{
	args->set_tid = JUNK | (uintptr_t)own_tid;
	args->set_tid_size = 1;
	expect_rejected(SYSFILL_CLONE_ARGS_SIZE_VER1, EFAULT);
}

Test(clone_args, set_tid_is_read_for_set_tid_size_entries_only)
{
	/* 4 bytes before the PROT_NONE page: size 1 reads, size 2 faults. */
	int32_t *last = (int32_t *)(region + 3 * PAGE - 4);
	*last = getpid();
	args->set_tid = (uintptr_t)last;
	args->set_tid_size = 1;
	expect_accepted(SYSFILL_CLONE_ARGS_SIZE_VER1, SET_TID_TAKEN);
	args->set_tid_size = 2;
	expect_rejected(SYSFILL_CLONE_ARGS_SIZE_VER1, EFAULT);
}

Test(clone_args, exit_signal_with_junk_in_upper_bits_is_einval)
{
	args->exit_signal = JUNK | SIGCHLD;
	expect_rejected(SYSFILL_CLONE_ARGS_SIZE_VER0, EINVAL);
}

Test(clone_args, exit_signal_above_nsig_is_einval)
{
	args->exit_signal = 65;
	expect_rejected(SYSFILL_CLONE_ARGS_SIZE_VER0, EINVAL);
}

Test(clone_args, exit_signal_nsig_64_accepted)
{
	args->exit_signal = 64;
	set_tid_probe(args);
	expect_accepted(SYSFILL_CLONE_ARGS_SIZE_VER1, SET_TID_TAKEN);
}

Test(clone_args, exit_signal_above_nsig_is_checked_before_set_tid_is_read)
{
	/* 6.18.44: valid_signal() in copy_clone_args_from_user. Upstream
	 * 09e7827e7857 moves it after the set_tid copy (EFAULT here then). */
	args->exit_signal = 65;
	args->set_tid = (uintptr_t)region;
	args->set_tid_size = 1;
	expect_rejected(SYSFILL_CLONE_ARGS_SIZE_VER1, EINVAL);
}

Test(clone_args, into_cgroup_with_cgroup_above_int_max_is_einval)
{
	args->flags = CLONE_INTO_CGROUP;
	args->cgroup = 0x80000000ULL;
	expect_rejected(SYSFILL_CLONE_ARGS_SIZE_VER2, EINVAL);
}

Test(clone_args, into_cgroup_with_junk_in_upper_bits_of_cgroup_is_einval)
{
	args->flags = CLONE_INTO_CGROUP;
	args->cgroup = JUNK | 3;
	expect_rejected(SYSFILL_CLONE_ARGS_SIZE_VER2, EINVAL);
}

Test(clone_args, into_cgroup_with_struct_without_cgroup_is_einval)
{
	args->flags = CLONE_INTO_CGROUP;
	expect_rejected(SYSFILL_CLONE_ARGS_SIZE_VER1, EINVAL);
}

Test(clone_args, into_cgroup_with_closed_fd_gets_to_creation)
{
	args->flags = CLONE_INTO_CGROUP;
	args->cgroup = 1000; /* closed: cgroup_can_fork gives EBADF */
	expect_accepted(SYSFILL_CLONE_ARGS_SIZE_VER2, CGROUP_BAD_FD);
}

Test(clone_args, set_tid_efault_beats_clone3_args_valid)
{
	args->flags = 1ULL << 40; /* unknown: EINVAL, but only afterwards */
	args->set_tid = (uintptr_t)region;
	args->set_tid_size = 1;
	expect_rejected(SYSFILL_CLONE_ARGS_SIZE_VER1, EFAULT);
}

/* ---- flags and stack (clone3_args_valid, clone3_stack_valid) ---- */

Test(clone_args, unknown_flag_above_32_bits_is_einval)
{
	args->flags = 1ULL << 34;
	expect_rejected(SYSFILL_CLONE_ARGS_SIZE_VER2, EINVAL);
}

Test(clone_args, flags_with_junk_in_upper_bits_is_einval)
{
	args->flags = JUNK;
	expect_rejected(SYSFILL_CLONE_ARGS_SIZE_VER0, EINVAL);
}

Test(clone_args, clone_detached_is_einval)
{
	args->flags = CLONE_DETACHED;
	expect_rejected(SYSFILL_CLONE_ARGS_SIZE_VER0, EINVAL);
}

Test(clone_args, exit_signal_in_flags_is_einval)
{
	args->flags = SIGCHLD; /* the CSIGNAL bits are not flags in clone3 */
	expect_rejected(SYSFILL_CLONE_ARGS_SIZE_VER0, EINVAL);
}

Test(clone_args, clone_newtime_is_the_one_csignal_bit_allowed)
{
	args->flags = CLONE_NEWTIME;
	set_tid_probe(args);
	expect_accepted(SYSFILL_CLONE_ARGS_SIZE_VER1, SET_TID_TAKEN);
}

Test(clone_args, clear_sighand_with_sighand_is_einval)
{
	args->flags = CLONE_CLEAR_SIGHAND | CLONE_SIGHAND | CLONE_VM;
	expect_rejected(SYSFILL_CLONE_ARGS_SIZE_VER0, EINVAL);
}

Test(clone_args, clear_sighand_alone_accepted)
{
	args->flags = CLONE_CLEAR_SIGHAND;
	set_tid_probe(args);
	expect_accepted(SYSFILL_CLONE_ARGS_SIZE_VER1, SET_TID_TAKEN);
}

Test(clone_args, thread_with_exit_signal_is_einval)
{
	args->flags = CLONE_THREAD | CLONE_SIGHAND | CLONE_VM;
	args->exit_signal = SIGCHLD;
	expect_rejected(SYSFILL_CLONE_ARGS_SIZE_VER0, EINVAL);
}

Test(clone_args, parent_with_exit_signal_is_einval)
{
	args->flags = CLONE_PARENT;
	args->exit_signal = SIGCHLD;
	expect_rejected(SYSFILL_CLONE_ARGS_SIZE_VER0, EINVAL);
}

Test(clone_args, stack_without_stack_size_is_einval)
{
	args->stack = (uintptr_t)region + PAGE;
	expect_rejected(SYSFILL_CLONE_ARGS_SIZE_VER0, EINVAL);
}

Test(clone_args, stack_size_without_stack_is_einval)
{
	args->stack_size = PAGE;
	expect_rejected(SYSFILL_CLONE_ARGS_SIZE_VER0, EINVAL);
}

Test(clone_args, stack_with_junk_in_upper_bits_is_einval)
{
	args->stack = JUNK | ((uintptr_t)region + PAGE);
	args->stack_size = PAGE;
	expect_rejected(SYSFILL_CLONE_ARGS_SIZE_VER0, EINVAL);
}

Test(clone_args, stack_size_with_junk_in_upper_bits_is_einval)
{
	args->stack = (uintptr_t)region + PAGE;
	args->stack_size = JUNK | PAGE;
	expect_rejected(SYSFILL_CLONE_ARGS_SIZE_VER0, EINVAL);
}

Test(clone_args, stack_wrapping_around_zero_is_einval)
{
	args->stack = -PAGE;
	args->stack_size = PAGE;
	expect_rejected(SYSFILL_CLONE_ARGS_SIZE_VER0, EINVAL);
}

Test(clone_args, stack_is_not_dereferenced_only_range_checked)
{
	args->stack = (uintptr_t)region; /* PROT_NONE: still accepted */
	args->stack_size = PAGE;
	set_tid_probe(args);
	expect_accepted(SYSFILL_CLONE_ARGS_SIZE_VER1, SET_TID_TAKEN);
}

Test(clone_args, stack_may_end_at_task_size_max)
{
	args->stack = 0x1000;
	args->stack_size = TASK_SIZE_MAX_47 - 0x1000;
	set_tid_probe(args);
	expect_same(SYSFILL_CLONE_ARGS_SIZE_VER1);
	cr_assert_eq(ours((uintptr_t)args, SYSFILL_CLONE_ARGS_SIZE_VER1), 0);
}

Test(clone_args, stack_ending_past_task_size_max_matches_kernel)
{
	/* EINVAL with 4-level paging (here); accepted with 5-level. */
	args->stack = 0x1000;
	args->stack_size = TASK_SIZE_MAX_47 - 0x1000 + 1;
	set_tid_probe(args);
	expect_same(SYSFILL_CLONE_ARGS_SIZE_VER1);
}

/* ---- kernel_clone and copy_process ---- */

Test(clone_args, pidfd_at_parent_tid_address_is_einval)
{
	args->flags = CLONE_PIDFD | CLONE_PARENT_SETTID;
	args->pidfd = args->parent_tid = (uintptr_t)&pidfd_slot;
	expect_rejected(SYSFILL_CLONE_ARGS_SIZE_VER0, EINVAL);
}

Test(clone_args, pidfd_and_parent_tid_at_distinct_addresses_accepted)
{
	args->flags = CLONE_PIDFD | CLONE_PARENT_SETTID;
	args->pidfd = (uintptr_t)&pidfd_slot;
	args->parent_tid = (uintptr_t)&ptid_slot;
	set_tid_probe(args);
	expect_accepted(SYSFILL_CLONE_ARGS_SIZE_VER1, SET_TID_TAKEN);
}

Test(clone_args, newns_with_fs_is_einval)
{
	args->flags = CLONE_NEWNS | CLONE_FS;
	expect_rejected(SYSFILL_CLONE_ARGS_SIZE_VER0, EINVAL);
}

Test(clone_args, newuser_with_fs_is_einval)
{
	args->flags = CLONE_NEWUSER | CLONE_FS;
	expect_rejected(SYSFILL_CLONE_ARGS_SIZE_VER0, EINVAL);
}

Test(clone_args, thread_without_sighand_is_einval)
{
	args->flags = CLONE_THREAD | CLONE_VM;
	expect_rejected(SYSFILL_CLONE_ARGS_SIZE_VER0, EINVAL);
}

Test(clone_args, sighand_without_vm_is_einval)
{
	args->flags = CLONE_SIGHAND;
	expect_rejected(SYSFILL_CLONE_ARGS_SIZE_VER0, EINVAL);
}

Test(clone_args, thread_with_newpid_is_einval)
{
	args->flags = CLONE_THREAD | CLONE_SIGHAND | CLONE_VM | CLONE_NEWPID;
	expect_rejected(SYSFILL_CLONE_ARGS_SIZE_VER0, EINVAL);
}

Test(clone_args, thread_with_newuser_is_einval)
{
	args->flags = CLONE_THREAD | CLONE_SIGHAND | CLONE_VM | CLONE_NEWUSER;
	expect_rejected(SYSFILL_CLONE_ARGS_SIZE_VER0, EINVAL);
}

Test(clone_args, pidfd_with_thread_accepted_since_6_9)
{
	args->flags = CLONE_PIDFD | CLONE_THREAD | CLONE_SIGHAND | CLONE_VM;
	args->pidfd = (uintptr_t)&pidfd_slot;
	set_tid_probe(args);
	expect_accepted(SYSFILL_CLONE_ARGS_SIZE_VER1, SET_TID_TAKEN);
}

/* ---- cargs_to_legacy ---- */

static struct sysfill_clone_args loaded(size_t size)
{
	struct sysfill_clone_args out;
	long r = cargs_load(&sf_self_caller, (uintptr_t)args, size, &out);
	cr_assert_eq(r, 0, "cargs_load: %ld", r);
	return out;
}

Test(clone_args, legacy_carries_exit_signal_and_stack_top)
{
	args->flags = CLONE_VM | CLONE_VFORK | CLONE_SETTLS |
		      CLONE_CHILD_CLEARTID | CLONE_PARENT_SETTID;
	args->exit_signal = SIGCHLD;
	args->stack = 0x10000;
	args->stack_size = 0x8000;
	args->parent_tid = 0x1111;
	args->child_tid = 0x2222;
	args->tls = 0x3333;
	struct sysfill_clone_args a = loaded(SYSFILL_CLONE_ARGS_SIZE_VER0);
	long out[6];
	unsigned long extra = 1;
	cr_assert_eq(cargs_to_legacy(&a, out, &extra), 0);
	cr_assert_eq(out[0], (long)(CLONE_VM | CLONE_VFORK | CLONE_SETTLS |
				    CLONE_CHILD_CLEARTID | CLONE_PARENT_SETTID |
				    SIGCHLD));
	cr_assert_eq(out[1], 0x18000);
	cr_assert_eq(out[2], 0x1111);
	cr_assert_eq(out[3], 0x2222);
	cr_assert_eq(out[4], 0x3333);
	cr_assert_eq(out[5], 0);
	cr_assert_eq(extra, 0);
}

Test(clone_args, legacy_without_stack_keeps_the_callers_stack)
{
	args->exit_signal = SIGCHLD;
	struct sysfill_clone_args a = loaded(SYSFILL_CLONE_ARGS_SIZE_VER0);
	long out[6];
	unsigned long extra;
	cr_assert_eq(cargs_to_legacy(&a, out, &extra), 0);
	cr_assert_eq(out[0], SIGCHLD);
	cr_assert_eq(out[1], 0);
}

Test(clone_args, legacy_leaves_pidfd_to_the_caller)
{
	args->flags = CLONE_PIDFD | CLONE_PARENT_SETTID;
	args->pidfd = (uintptr_t)&pidfd_slot;
	args->parent_tid = (uintptr_t)&ptid_slot;
	struct sysfill_clone_args a = loaded(SYSFILL_CLONE_ARGS_SIZE_VER0);
	long out[6];
	unsigned long extra;
	cr_assert_eq(cargs_to_legacy(&a, out, &extra), 0);
	cr_assert_eq(out[0], CLONE_PARENT_SETTID);
	cr_assert_eq(out[2], (long)(uintptr_t)&ptid_slot);
	cr_assert_eq(extra, CLONE_PIDFD);
}

Test(clone_args, legacy_leaves_clear_sighand_to_the_caller)
{
	args->flags = CLONE_CLEAR_SIGHAND;
	args->exit_signal = SIGCHLD;
	struct sysfill_clone_args a = loaded(SYSFILL_CLONE_ARGS_SIZE_VER0);
	long out[6];
	unsigned long extra;
	cr_assert_eq(cargs_to_legacy(&a, out, &extra), 0);
	cr_assert_eq(out[0], SIGCHLD);
	cr_assert_eq(extra, CLONE_CLEAR_SIGHAND);
}

Test(clone_args, legacy_cannot_set_tid_e2big_as_5_4)
{
	set_tid_probe(args);
	struct sysfill_clone_args a = loaded(SYSFILL_CLONE_ARGS_SIZE_VER1);
	long out[6];
	unsigned long extra;
	cr_assert_eq(cargs_to_legacy(&a, out, &extra), -E2BIG);
}

Test(clone_args, legacy_cannot_clone_into_cgroup_as_5_6)
{
	args->flags = CLONE_INTO_CGROUP;
	args->cgroup = 5;
	struct sysfill_clone_args a = loaded(SYSFILL_CLONE_ARGS_SIZE_VER2);
	long out[6];
	unsigned long extra;
	cr_assert_eq(cargs_to_legacy(&a, out, &extra), -E2BIG);
	args->cgroup = 0;
	a = loaded(SYSFILL_CLONE_ARGS_SIZE_VER2);
	cr_assert_eq(cargs_to_legacy(&a, out, &extra), -EINVAL);
}

Test(clone_args, legacy_cannot_express_newtime)
{
	args->flags = CLONE_NEWTIME;
	struct sysfill_clone_args a = loaded(SYSFILL_CLONE_ARGS_SIZE_VER0);
	long out[6];
	unsigned long extra;
	cr_assert_eq(cargs_to_legacy(&a, out, &extra), -EINVAL);
}

Test(clone_args, legacy_call_made_from_translation_forks)
{
	args->exit_signal = SIGCHLD;
	args->flags = CLONE_PARENT_SETTID;
	args->parent_tid = (uintptr_t)&ptid_slot;
	struct sysfill_clone_args a = loaded(SYSFILL_CLONE_ARGS_SIZE_VER0);
	long out[6];
	unsigned long extra;
	cr_assert_eq(cargs_to_legacy(&a, out, &extra), 0);
	long pid = syscall(SF_NR_clone, out[0], out[1], out[2], out[3], out[4]);
	if (pid == 0)
		_exit(7);
	cr_assert_gt(pid, 0, "clone: %s", strerror(errno));
	cr_assert_eq(ptid_slot, pid);
	int st;
	cr_assert_eq(waitpid((pid_t)pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 7);
}

/* ---- cargs_request: CLONE_PIDFD with CLONE_THREAD (6.9) ----
 * The oracle is the kernel's clone3/clone with the pidfd slot at an
 * unwritable address: every flag check passes before copy_process stores
 * the pidfd, which then fails (EFAULT) with no thread. A thread the kernel
 * makes all the same exits at once (raw exit, on its own stack). */
#define THREAD_PIDFD (CLONE_PIDFD | CLONE_THREAD | CLONE_SIGHAND | CLONE_VM)
static char tstack[16384] __attribute__((aligned(16)));

static long raw_thread_clone(long nr, long a0, long a1, long a2)
{
	long ret;
	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "mov $60, %%eax\n\t"
			 "xor %%edi, %%edi\n\t"
			 "syscall\n\t"
			 "hlt\n"
			 "1:"
			 : "=a"(ret)
			 : "a"(nr), "D"(a0), "S"(a1), "d"(a2)
			 : "rcx", "r11", "memory");
	return ret;
}

/* Native legacy clone(FLAGS) with a stack and the pidfd slot at SLOT, and
 * cargs_request of the same call through C: both give ERR. */
static void legacy_both(const struct sf_caller *c, unsigned long flags,
			long slot, long err, long ours_err)
{
	long top = (long)(tstack + sizeof tstack);
	long n = raw_thread_clone(SF_NR_clone, (long)flags, top, slot);
	cr_assert_eq(n, err, "native clone gave %ld, expected %ld", n, err);
	const long a[6] = {(long)flags, top, slot, 0, 0, 0};
	struct cargs_req q;
	long o = cargs_request(c, SF_NR_clone, a, 0, &q);
	cr_assert_eq(o, ours_err, "cargs_request gave %ld, expected %ld", o,
		     ours_err);
}

static struct sf_caller no_thread_pidfds(void)
{
	struct sf_caller c = sf_self_caller;
	c.thread_pidfds = 0;
	return c;
}

Test(clone_args, request_legacy_thread_pidfd_gets_to_the_slot_since_6_9)
{
	legacy_both(&sf_self_caller, THREAD_PIDFD, 16, -EFAULT, -EFAULT);
	/* a good slot: a request for the front end */
	long top = (long)(tstack + sizeof tstack);
	const long a[6] = {THREAD_PIDFD, top, (long)&pidfd_slot, 0, 0, 0};
	struct cargs_req q;
	cr_assert_eq(cargs_request(&sf_self_caller, SF_NR_clone, a, 0, &q), 0);
	cr_assert_eq(q.extra, CLONE_PIDFD);
	cr_assert_eq(q.flags, THREAD_PIDFD & ~(unsigned long)CLONE_PIDFD);
	cr_assert_eq(q.pidfd_at, (uintptr_t)&pidfd_slot);
	cr_assert_eq(q.stack_top, (uintptr_t)top);
}

Test(clone_args, request_legacy_thread_pidfd_einval_where_the_front_end_cannot)
{
	struct sf_caller c = no_thread_pidfds();
	legacy_both(&c, THREAD_PIDFD, 16, -EFAULT, -EINVAL); /* as 5.2-6.8 */
}

Test(clone_args, request_legacy_thread_pidfd_with_detached_is_einval)
{
	legacy_both(&sf_self_caller, THREAD_PIDFD | CLONE_DETACHED, 16, -EINVAL,
		    -EINVAL);
}

Test(clone_args, request_legacy_thread_pidfd_with_parent_settid_is_einval)
{
	legacy_both(&sf_self_caller, THREAD_PIDFD | CLONE_PARENT_SETTID, 16,
		    -EINVAL, -EINVAL);
}

Test(clone_args, request_legacy_thread_pidfd_without_sighand_is_einval)
{
	legacy_both(&sf_self_caller, CLONE_PIDFD | CLONE_THREAD | CLONE_VM, 16,
		    -EINVAL, -EINVAL);
}

static long clone3_request(const struct sf_caller *c, struct cargs_req *q)
{
	const long a[6] = {(long)args, SYSFILL_CLONE_ARGS_SIZE_VER0, 0, 0, 0, 0};
	return cargs_request(c, SF_NR_clone3, a, 0, q);
}

Test(clone_args, request_clone3_thread_pidfd_gets_to_the_slot_since_6_9)
{
	args->flags = THREAD_PIDFD;
	args->stack = (uintptr_t)tstack;
	args->stack_size = sizeof tstack;
	args->pidfd = 16;
	long n = raw_thread_clone(SF_NR_clone3, (long)args,
				  SYSFILL_CLONE_ARGS_SIZE_VER0, 0);
	cr_assert_eq(n, -EFAULT, "native clone3 gave %ld", n);
	struct cargs_req q;
	cr_assert_eq(clone3_request(&sf_self_caller, &q), -EFAULT);
	args->pidfd = (uintptr_t)&pidfd_slot;
	cr_assert_eq(clone3_request(&sf_self_caller, &q), 0);
	cr_assert_eq(q.extra, CLONE_PIDFD);
	cr_assert_eq(q.flags, THREAD_PIDFD & ~(unsigned long)CLONE_PIDFD);
	cr_assert_eq(q.pidfd_at, (uintptr_t)&pidfd_slot);
	struct sf_caller c = no_thread_pidfds();
	cr_assert_eq(clone3_request(&c, &q), -EINVAL); /* as 5.3-6.8 */
}

/* A vfork thread too (the front end makes its pidfd once the parent is
 * back: the thread has gone by then). */
Test(clone_args, request_vfork_thread_pidfd_gets_to_the_slot_since_6_9)
{
	args->flags = THREAD_PIDFD | CLONE_VFORK;
	args->stack = (uintptr_t)tstack;
	args->stack_size = sizeof tstack;
	args->pidfd = 16;
	long n = raw_thread_clone(SF_NR_clone3, (long)args,
				  SYSFILL_CLONE_ARGS_SIZE_VER0, 0);
	cr_assert_eq(n, -EFAULT, "native clone3 gave %ld", n);
	struct cargs_req q;
	cr_assert_eq(clone3_request(&sf_self_caller, &q), -EFAULT);
	legacy_both(&sf_self_caller, THREAD_PIDFD | CLONE_VFORK, 16, -EFAULT,
		    -EFAULT);
}
