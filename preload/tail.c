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

static long tail_reissue(const struct sf_caller *c, long nr, const long a[6])
{
	const struct tail_caller *t = (const struct tail_caller *)c;
	sf_arch_ctx_reissue(t->uc, nr, a);
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
