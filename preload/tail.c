/* The tail call of the in-process front end: a blocking call the engine
 * leaves to the trapped thread is made by that thread itself, after the
 * SIGSYS handler returns, as an ordinary syscall (interruptible by the
 * program's signals, restarted under SA_RESTART), which the filter lets
 * through. Signal-safe. */
#include "preload.h"

struct tail_caller {
	struct sf_caller c; /* first: the engine's view */
	ucontext_t *uc;     /* the trapped thread's saved context */
};

/* The call is made from here, not from the program's own syscall
 * instruction: a syscall leaves every register but rax, rcx and r11 as
 * it found them, and the call we leave to the thread has other arguments
 * than the program's. The thread returns from the handler to
 * sf_tail_tramp with its stack pointer below the red zone, where its own
 * argument registers, the address after its syscall instruction and its
 * stack pointer are saved; after the call (restarted there under
 * SA_RESTART, as the kernel restarts any) they are put back and the thread
 * jumps on with rcx holding that address, as a syscall leaves it. */
__asm__(".text\n"
	".p2align 4\n"
	".type sf_tail_tramp, @function\n"
	"sf_tail_tramp:\n"
	"\tsyscall\n"
	"\tmov 0(%rsp), %rdi\n"
	"\tmov 8(%rsp), %rsi\n"
	"\tmov 16(%rsp), %rdx\n"
	"\tmov 24(%rsp), %r10\n"
	"\tmov 32(%rsp), %r8\n"
	"\tmov 40(%rsp), %r9\n"
	"\tmov 48(%rsp), %rcx\n"
	"\tmov 56(%rsp), %rsp\n"
	"\tjmp *%rcx\n"
	".size sf_tail_tramp, .-sf_tail_tramp\n");
extern const char sf_tail_tramp[];

static long tail_reissue(const struct sf_caller *c, long nr, const long a[6])
{
	const struct tail_caller *t = (const struct tail_caller *)c;
	greg_t *g = t->uc->uc_mcontext.gregs;
	const long keep[8] = {g[REG_RDI], g[REG_RSI], g[REG_RDX], g[REG_R10],
			      g[REG_R8],  g[REG_R9],  g[REG_RIP], g[REG_RSP]};
	uintptr_t sp = ((uintptr_t)g[REG_RSP] - SF_RED_ZONE - sizeof keep) &
		       ~(uintptr_t)15;
	sf_arch_ctx_reissue(t->uc, nr, a);
	/* A stack we cannot write to: the program's own instruction makes the
	 * call (its argument registers then keep the call's values). */
	if (c->write(c, sp, keep, sizeof keep) == 0) {
		g[REG_RSP] = (greg_t)sp;
		g[REG_RIP] = (greg_t)(uintptr_t)sf_tail_tramp;
	}
	return 0;
}

/* sf_engine_call for the thread trapped in UC, with the tail operation.
 * Returns the result for UC's return register, or SF_TAIL: UC now makes
 * the call itself when the handler returns (leave its registers alone). */
long pl_engine_call(ucontext_t *uc, long nr, const long a[6])
{
	struct tail_caller t = {sf_self_caller, uc};
	t.c.tail = tail_reissue;
	return sf_engine_call(&t.c, nr, a);
}
