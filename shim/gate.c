/* The syscall gate: one `syscall; ret` at a fixed address.
 *
 * In seccomp mode the filter traps rt_sigprocmask, so that no thread of the
 * program ever really blocks SIGSYS (a trap raised while SIGSYS is blocked
 * kills the process: see README). sysfill's own mask changes must not trap:
 * they go through this gate, and the filter lets rt_sigprocmask through
 * when it comes from here (seccomp_data.instruction_pointer). The address
 * is fixed, not wherever the library happens to be mapped, so that a filter
 * inherited through execve still recognises the gate of the library loaded
 * into the new program. */
#include <sys/mman.h>
#include "sf.h"

int sf_gate_ready;

int sf_gate_init(void)
{
	if (sf_gate_ready)
		return 0;
	/* MAP_FIXED_NOREPLACE: never replace a mapping of the program; a
	 * kernel before 4.17 takes it as a hint, hence the address check. */
	long p = sf_syscall6(SF_NR_mmap, SF_GATE_ADDR, 4096,
			     PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
			     -1, 0);
	if (p < 0 && p > -4096)
		return (int)p;
	if ((unsigned long)p != SF_GATE_ADDR) {
		sf_sys2(SF_NR_munmap, p, 4096);
		return -EEXIST;
	}
	sf_arch_gate_fill((unsigned char *)p);
	long r = sf_sys3(SF_NR_mprotect, p, 4096, PROT_READ | PROT_EXEC);
	if (r < 0) {
		sf_sys2(SF_NR_munmap, p, 4096);
		return (int)r;
	}
	sf_gate_ready = 1;
	return 0;
}

long sf_gate_call(long nr, long a, long b, long c, long d)
{
	if (sf_gate_ready)
		return sf_arch_gate_call4(nr, a, b, c, d);
	return sf_syscall6(nr, a, b, c, d, 0, 0);
}

long sf_sigmask(int how, const void *set, void *old)
{
	return sf_gate_call(SF_NR_rt_sigprocmask, how, (long)set, (long)old, 8);
}
