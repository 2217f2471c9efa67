/* x86_64: syscall numbers, raw syscalls, signal-context registers.
 * Every register name and syscall number used by sysfill lives here. */
#ifndef SYSFILL_ARCH_X86_64_H
#define SYSFILL_ARCH_X86_64_H

#include <stdint.h>
#include <ucontext.h>

#define SF_AUDIT_ARCH 0xc000003eU /* AUDIT_ARCH_X86_64 */
#define SF_USER_HZ 100 /* clock_t ticks of times(2), /proc/PID/stat */

/* Our own table: the build machine's headers may predate these calls. */
enum {
	SF_NR_read = 0,
	SF_NR_write = 1,
	SF_NR_open = 2,
	SF_NR_close = 3,
	SF_NR_fstat = 5,
	SF_NR_poll = 7,
	SF_NR_lseek = 8,
	SF_NR_mmap = 9,
	SF_NR_mprotect = 10,
	SF_NR_munmap = 11,
	SF_NR_rt_sigaction = 13,
	SF_NR_rt_sigprocmask = 14,
	SF_NR_rt_sigreturn = 15,
	SF_NR_ioctl = 16,
	SF_NR_pread64 = 17,
	SF_NR_pwrite64 = 18,
	SF_NR_sched_yield = 24,
	SF_NR_mincore = 27,
	SF_NR_madvise = 28,
	SF_NR_nanosleep = 35,
	SF_NR_getpid = 39,
	SF_NR_socket = 41,
	SF_NR_connect = 42,
	SF_NR_sendto = 44,
	SF_NR_recvfrom = 45,
	SF_NR_recvmsg = 47,
	SF_NR_bind = 49,
	SF_NR_setsockopt = 54,
	SF_NR_clone = 56,
	SF_NR_fork = 57,
	SF_NR_vfork = 58,
	SF_NR_execve = 59,
	SF_NR_exit = 60,
	SF_NR_wait4 = 61,
	SF_NR_kill = 62,
	SF_NR_fcntl = 72,
	SF_NR_getdents64 = 217,
	SF_NR_set_tid_address = 218,
	SF_NR_statfs = 137,
	SF_NR_fstatfs = 138,
	SF_NR_readlink = 89,
	SF_NR_readlinkat = 267,
	SF_NR_ptrace = 101,
	SF_NR_getuid = 102,
	SF_NR_getgid = 104,
	SF_NR_getppid = 110,
	SF_NR_getpgid = 121,
	SF_NR_rt_sigqueueinfo = 129,
	SF_NR_prctl = 157,
	SF_NR_arch_prctl = 158,
	SF_NR_gettid = 186,
	SF_NR_futex = 202,
	SF_NR_clock_gettime = 228,
	SF_NR_exit_group = 231,
	SF_NR_epoll_wait = 232,
	SF_NR_epoll_ctl = 233,
	SF_NR_tgkill = 234,
	SF_NR_waitid = 247,
	SF_NR_openat = 257,
	SF_NR_newfstatat = 262,
	SF_NR_faccessat = 269,
	SF_NR_unshare = 272,
	SF_NR_epoll_pwait = 281,
	SF_NR_setns = 308,
	SF_NR_rt_tgsigqueueinfo = 297,
	SF_NR_recvmmsg = 299,
	SF_NR_prlimit64 = 302,
	SF_NR_eventfd2 = 290,
	SF_NR_epoll_create1 = 291,
	SF_NR_pipe2 = 293,
	SF_NR_getcpu = 309,
	SF_NR_process_vm_readv = 310,
	SF_NR_process_vm_writev = 311,
	SF_NR_kcmp = 312,
	SF_NR_seccomp = 317,
	SF_NR_memfd_create = 319,
	SF_NR_pidfd_send_signal = 424,
	SF_NR_pidfd_open = 434,
	SF_NR_clone3 = 435,
	SF_NR_close_range = 436,
	SF_NR_pidfd_getfd = 438,
	SF_NR_process_madvise = 440,
	SF_NR_process_mrelease = 448,
};

static inline long sf_syscall6(long nr, long a, long b, long c, long d, long e,
			       long f)
{
	long ret;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8),
			   "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

/* The syscall gate (shim/gate.c): `syscall; ret` at a fixed address that
 * no program uses in practice; the filter sees SF_GATE_IP for calls made
 * through it. */
#define SF_GATE_ADDR 0x5f5f5f5f0000UL
#define SF_GATE_IP (SF_GATE_ADDR + 2)
#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000 /* x86: sa_restorer is set */
#endif
/* The signal restorer of sysfill's own handler, on the same page. */
#define SF_GATE_RESTORER (SF_GATE_ADDR + 16)

static inline void sf_arch_gate_fill(unsigned char *p)
{
	static const unsigned char code[] = {
		0x0f, 0x05,			    /* syscall */
		0xc3,				    /* ret */
	};
	static const unsigned char restorer[] = {
		0xb8, SF_NR_rt_sigreturn, 0, 0, 0, /* mov $15, %eax */
		0x0f, 0x05,			    /* syscall */
	};
	__builtin_memcpy(p, code, sizeof code);
	__builtin_memcpy(p + 16, restorer, sizeof restorer);
}

/* A raw syscall made from the gate. The call's return address must not
 * land in the caller's red zone: step over it first. */
static inline long sf_arch_gate_call4(long nr, long a, long b, long c, long d)
{
	long ret;
	register long r10 __asm__("r10") = d;
	__asm__ volatile("sub $128, %%rsp\n\t"
			 "call *%[gate]\n\t"
			 "add $128, %%rsp"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10),
			   [gate] "r"(SF_GATE_ADDR)
			 : "rcx", "r11", "memory");
	return ret;
}

/* Register access in a SIGSYS context: the six arguments and the result. */
static inline long sf_ctx_arg(const ucontext_t *uc, int i)
{
	static const int regs[6] = {REG_RDI, REG_RSI, REG_RDX,
				    REG_R10, REG_R8,  REG_R9};
	return (long)uc->uc_mcontext.gregs[regs[i]];
}

static inline void sf_ctx_set_result(ucontext_t *uc, long ret)
{
	uc->uc_mcontext.gregs[REG_RAX] = (greg_t)ret;
}

static inline uintptr_t sf_ctx_sp(const ucontext_t *uc)
{
	return (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
}

static inline void sf_ctx_set_sp(ucontext_t *uc, uintptr_t sp)
{
	uc->uc_mcontext.gregs[REG_RSP] = (greg_t)sp;
}

/* The floating-point/extended state saved with the frame, and its size
 * (the XSAVE area's extended_size when the kernel marked it, else the
 * 512-byte FXSAVE area). */
static inline void *sf_ctx_fpstate(const ucontext_t *uc)
{
	return uc->uc_mcontext.fpregs;
}

static inline void sf_ctx_set_fpstate(ucontext_t *uc, uintptr_t fp)
{
	uc->uc_mcontext.fpregs = (fpregset_t)fp;
}

static inline size_t sf_arch_fpstate_size(const void *fp)
{
	uint32_t sw[2]; /* _fpx_sw_bytes: magic1, extended_size */
	__builtin_memcpy(sw, (const char *)fp + 464, sizeof sw);
	return sw[0] == 0x46505853U ? sw[1] : 512;
}

/* The part of a ucontext_t the kernel reads back at rt_sigreturn. */
#define SF_UC_KSIZE (__builtin_offsetof(ucontext_t, uc_sigmask) + 8)

static inline uintptr_t sf_ctx_pc(const ucontext_t *uc)
{
	return (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
}

/* One iteration of a spin-wait loop. */
static inline void sf_arch_relax(void)
{
	__builtin_ia32_pause();
}

/* A helper thread's own thread control block: what code built with
 * -fstack-protector (%fs:0x28, the canary) and glibc's inline pointer
 * mangling (%fs:0x30) read, and the self pointers at %fs:0 and %fs:0x10,
 * copied from the creating thread, whose own block may be gone while the
 * helper runs. SF_ARCH_TCB_SIZE bytes, 64-byte aligned. Nothing else of
 * libc's TLS is there: helpers use no libc state. */
#define SF_ARCH_TCB_SIZE 128
#define SF_ARCH_HELPER_MARK 0x48736c6c69467953UL /* "SyFillsH" */
static inline void *sf_arch_tcb_init(void *block)
{
	uintptr_t *t = (uintptr_t *)block, canary, guard;
	__asm__ volatile("mov %%fs:0x28, %0" : "=r"(canary));
	__asm__ volatile("mov %%fs:0x30, %0" : "=r"(guard));
	for (unsigned i = 0; i < SF_ARCH_TCB_SIZE / sizeof *t; i++)
		t[i] = 0;
	t[0] = (uintptr_t)block; /* tcb */
	t[2] = (uintptr_t)block; /* self */
	t[5] = canary;		 /* 0x28: stack_guard */
	t[6] = guard;		 /* 0x30: pointer_guard */
	t[7] = SF_ARCH_HELPER_MARK; /* 0x38: glibc's unused vgetcpu cache */
	return block;
}

/* Does the calling thread run on a helper's block (sf_arch_tcb_init)?
 * In a thread of the program %fs:0x38 is glibc's unused_vgetcpu_cache[0]
 * (0). */
static inline int sf_arch_in_helper(void)
{
	uintptr_t v;
	__asm__ volatile("mov %%fs:0x38, %0" : "=r"(v));
	return v == SF_ARCH_HELPER_MARK;
}

/* The syscall number register: for a SECCOMP_RET_TRAP the kernel (and
 * gVisor) rolls the result register back to the trapped call's number. */
static inline long sf_ctx_nr(const ucontext_t *uc)
{
	return (long)uc->uc_mcontext.gregs[REG_RAX];
}

/* Start a thread on STACK_TOP (16-byte aligned) that runs FN(ARG) and then
 * exits the thread with FN's return value. TLS, unless null, is its
 * thread control block (sf_arch_tcb_init; CLONE_SETTLS is added). TID,
 * unless null, gets the thread id before the call returns and is cleared
 * (and futex-woken, not private) by the kernel once the thread is gone
 * (CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID are added). Returns the tid
 * or -errno. Signal-safe: raw clone, the child touches nothing but its own
 * stack before FN. */
static inline long sf_arch_clone_thread(unsigned long flags, void *stack_top,
					int (*fn)(void *), void *arg,
					int *tid, void *tls)
{
	long ret;
	void **sp = (void **)stack_top;
	*--sp = arg;
	*--sp = (void *)fn;
	if (tid)
		flags |= 0x00100000 | 0x00200000; /* CLONE_PARENT_SETTID, CLONE_CHILD_CLEARTID */
	if (tls)
		flags |= 0x00080000; /* CLONE_SETTLS */
	register long r10 __asm__("r10") = (long)tid;
	register long r8 __asm__("r8") = (long)tls;
	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "xor %%ebp, %%ebp\n\t"
			 "pop %%rax\n\t"
			 "pop %%rdi\n\t"
			 "call *%%rax\n\t"
			 "mov %%eax, %%edi\n\t"
			 "mov %[exitnr], %%eax\n\t"
			 "syscall\n\t"
			 "hlt\n"
			 "1:\n\t"
			 : "=a"(ret)
			 : "a"((long)SF_NR_clone), "D"(flags), "S"(sp), "d"(tid),
			   "r"(r10), "r"(r8), [exitnr] "i"(SF_NR_exit)
			 : "rcx", "r11", "memory");
	return ret;
}

/* clone(FLAGS, CHILD_SP, PTID, CTID, TLS) where a copy of the caller's
 * signal frame (its ucontext, at CHILD_SP) is the child's start: the child
 * calls PREP(ARG) unless PREP is null, then leaves through rt_sigreturn
 * into the caller's code. Returns the child's id or -errno in the parent. */
static inline long sf_arch_clone_sigreturn(unsigned long flags,
					   uintptr_t child_sp, long ptid,
					   long ctid, long tls,
					   void (*prep)(void *), void *arg)
{
	long ret;
	register long r10 __asm__("r10") = ctid;
	register long r8 __asm__("r8") = tls;
	register long r9 __asm__("r9") = (long)prep;
	register long r12 __asm__("r12") = (long)arg;
	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "test %%r9, %%r9\n\t"
			 "jz 2f\n\t"
			 "mov %%r12, %%rdi\n\t"
			 "call *%%r9\n"
			 "2:\n\t"
			 "mov %[sr], %%eax\n\t"
			 "syscall\n\t"
			 "hlt\n"
			 "1:"
			 : "=a"(ret)
			 : "a"((long)SF_NR_clone), "D"(flags), "S"(child_sp),
			   "d"(ptid), "r"(r10), "r"(r8), "r"(r9), "r"(r12),
			   [sr] "i"(SF_NR_rt_sigreturn)
			 : "rcx", "r11", "memory");
	return ret;
}

/* Leave a signal handler through rt_sigreturn on FRAME (the handler's
 * own ucontext) with the thread pointer set to TLS first, as
 * clone(CLONE_SETTLS) sets it: nothing runs on the new TLS before the
 * caller's code. */
__attribute__((noreturn)) static inline void
sf_arch_settls_sigreturn(uintptr_t tls, ucontext_t *frame)
{
	__asm__ volatile("syscall\n\t"
			 "mov %[frame], %%rsp\n\t"
			 "mov %[sr], %%eax\n\t"
			 "syscall\n\t"
			 "hlt"
			 :
			 : "a"((long)SF_NR_arch_prctl), "D"(0x1002L /* ARCH_SET_FS */),
			   "S"(tls), [frame] "r"(frame),
			   [sr] "i"(SF_NR_rt_sigreturn)
			 : "rcx", "r11", "memory");
	__builtin_unreachable();
}

/* Run FN(ARG) on the stack whose top is SP (16-aligned), then leave the
 * signal handler through rt_sigreturn on FRAME (a ucontext copy above SP):
 * the handler's own frame is never returned to. */
__attribute__((noreturn)) static inline void
sf_arch_run_sigreturn(void (*fn)(void *), void *arg, uintptr_t sp,
		      ucontext_t *frame)
{
	__asm__ volatile("mov %[sp], %%rsp\n\t"
			 "call *%[fn]\n\t"
			 "mov %%rbx, %%rsp\n\t"
			 "mov %[sr], %%eax\n\t"
			 "syscall\n\t"
			 "hlt"
			 :
			 : [sp] "r"(sp), [fn] "r"(fn), "D"(arg), "b"(frame),
			   [sr] "i"(SF_NR_rt_sigreturn)
			 : "memory");
	__builtin_unreachable();
}

/* Where the kernel puts a signal frame below SP (get_sigframe,
 * setup_rt_frame): the red zone skipped, the FP state FPSIZE bytes below,
 * 64-byte aligned, the rt_sigframe (return address, ucontext, siginfo)
 * below that with its ucontext 16-byte aligned. Returns the ucontext's
 * address; *FP the FP state's. */
#define SF_SIGFRAME_SIZE (8 + SF_UC_KSIZE + 128)
static inline uintptr_t sf_arch_sigframe(uintptr_t sp, size_t fpsize,
					 uintptr_t *fp)
{
	sp -= 128;
	*fp = (sp - fpsize) & ~(uintptr_t)63;
	return (*fp - SF_SIGFRAME_SIZE) & ~(uintptr_t)15;
}

/* vfork where the parent's handler frame may be overwritten before it
 * runs again (the child shares the memory: the caller's own stack, or the
 * alternate stack the child takes its signals on): clone(FLAGS,
 * CHILD_SP, ...) and both sides leave through rt_sigreturn on a ucontext
 * copy the child cannot overwrite: the child on CHILD_FRAME after PREP
 * (unless null), the parent on FRAME once PARENT_DONE(child id or
 * -errno) has given the value for its return register. CHILD_SP 0: the
 * caller's stack. */
__attribute__((noreturn)) static inline void
sf_arch_clone_vfork_sigreturn(unsigned long flags, uintptr_t child_sp,
			      long ptid, long ctid, long tls, ucontext_t *frame,
			      ucontext_t *child_frame, void (*prep)(void),
			      long (*parent_done)(long))
{
	register long r10 __asm__("r10") = ctid;
	register long r8 __asm__("r8") = tls;
	register long r9 __asm__("r9") = (long)prep;
	register long r12 __asm__("r12") = (long)frame;
	register long r13 __asm__("r13") = (long)parent_done;
	register long r14 __asm__("r14") = (long)child_frame;
	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "test %%r9, %%r9\n\t"
			 "jz 2f\n\t"
			 "and $-16, %%rsp\n\t"
			 "call *%%r9\n"
			 "2:\n\t"
			 "mov %%r14, %%rsp\n\t"
			 "mov %[sr], %%eax\n\t"
			 "syscall\n\t"
			 "hlt\n"
			 "1:\n\t"
			 "and $-16, %%rsp\n\t"
			 "mov %%rax, %%rdi\n\t"
			 "call *%%r13\n\t"
			 "mov %%rax, %c[rax](%%r12)\n\t"
			 "mov %%r12, %%rsp\n\t"
			 "mov %[sr], %%eax\n\t"
			 "syscall\n\t"
			 "hlt"
			 :
			 : "a"((long)SF_NR_clone), "D"(flags), "S"(child_sp),
			   "d"(ptid), "r"(r10), "r"(r8), "r"(r9), "r"(r12),
			   "r"(r13), "r"(r14), [sr] "i"(SF_NR_rt_sigreturn),
			   [rax] "i"(__builtin_offsetof(ucontext_t, uc_mcontext) +
				     REG_RAX * sizeof(greg_t))
			 : "rcx", "r11", "memory");
	__builtin_unreachable();
}

/* Register access in a ptrace stop (struct user_regs_struct, for the
 * tracer): syscall number, the six arguments, result, stack and program
 * counter. SF_SYSCALL_INSN_LEN is the size of the `syscall` instruction,
 * to re-run it from a syscall-exit or signal-delivery stop. */
#include <sys/user.h>
#define SF_SYSCALL_INSN_LEN 2
static inline long sf_pt_nr(const struct user_regs_struct *r)
{
	return (long)r->orig_rax;
}
static inline void sf_pt_set_nr(struct user_regs_struct *r, long nr)
{
	r->orig_rax = (unsigned long long)nr;
}
static inline long sf_pt_arg(const struct user_regs_struct *r, int i)
{
	switch (i) {
	case 0: return (long)r->rdi;
	case 1: return (long)r->rsi;
	case 2: return (long)r->rdx;
	case 3: return (long)r->r10;
	case 4: return (long)r->r8;
	default: return (long)r->r9;
	}
}
static inline void sf_pt_set_args(struct user_regs_struct *r, const long a[6])
{
	r->rdi = (unsigned long long)a[0];
	r->rsi = (unsigned long long)a[1];
	r->rdx = (unsigned long long)a[2];
	r->r10 = (unsigned long long)a[3];
	r->r8 = (unsigned long long)a[4];
	r->r9 = (unsigned long long)a[5];
}
static inline long sf_pt_result(const struct user_regs_struct *r)
{
	return (long)r->rax;
}
static inline void sf_pt_set_result(struct user_regs_struct *r, long v)
{
	r->rax = (unsigned long long)v;
}
static inline uintptr_t sf_pt_sp(const struct user_regs_struct *r)
{
	return (uintptr_t)r->rsp;
}
static inline uintptr_t sf_pt_pc(const struct user_regs_struct *r)
{
	return (uintptr_t)r->rip;
}
static inline void sf_pt_set_pc(struct user_regs_struct *r, uintptr_t pc)
{
	r->rip = (unsigned long long)pc;
}
/* Bytes below the stack pointer a leaf function may use (x86_64 ABI). */
#define SF_RED_ZONE 128

/* Make the thread interrupted in UC (by a seccomp trap, which stops it
 * just after its `syscall` instruction) run syscall NR with ARGS when it
 * resumes: the program counter back over that instruction, the number and
 * the six arguments in their registers. The call is then the thread's own:
 * a signal interrupts it (EINTR) or restarts it (SA_RESTART) as the kernel
 * decides. */
static inline void sf_arch_ctx_reissue(ucontext_t *uc, long nr,
					const long a[6])
{
	static const int regs[6] = {REG_RDI, REG_RSI, REG_RDX,
				    REG_R10, REG_R8,  REG_R9};
	greg_t *g = uc->uc_mcontext.gregs;
	g[REG_RIP] -= SF_SYSCALL_INSN_LEN;
	g[REG_RAX] = (greg_t)nr;
	for (int i = 0; i < 6; i++)
		g[regs[i]] = (greg_t)a[i];
}

#endif
