/* A static program (it cannot load the library) that installs a handler
 * whose sa_mask holds every signal and makes a raw pidfd call from it:
 * exec'd from an emulating process, it runs under trace mode with the
 * library's inherited filter, whose trap of the pidfd call, raised while
 * the handler blocks SIGSYS, the kernel forces through to the
 * supervisor's signal-delivery stop. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
static volatile long got = -99;
static void h(int s){ got = syscall(434, getpid(), 0); }
int main(){ struct sigaction sa = {.sa_handler = h}; sigfillset(&sa.sa_mask); if (sigaction(SIGUSR1, &sa, 0)) perror("sigaction"); raise(SIGUSR1); struct sigaction o; sigaction(SIGUSR1, 0, &o); printf("static handler: pidfd %s, mask kept %d\n", got >= 0 ? "ok" : "failed", sigismember(&o.sa_mask, SIGSYS)); return 0; }
