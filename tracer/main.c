/* sysfill: the command. Dispatches to the subcommands; this is the only
 * code path that prints and chooses an exit status. */
#include <stdio.h>
#include <string.h>
#include "tracer.h"

static void help(FILE *f)
{
	fprintf(f,
"usage: sysfill COMMAND [ARGS...]\n"
"\n"
"The Linux 5.x process API (pidfd_open, pidfd_send_signal, pidfd_getfd,\n"
"waitid(P_PIDFD), clone3, CLONE_PIDFD) where the kernel lacks it.\n"
"\n"
"commands:\n"
"  probe [--json]      what this kernel or sandbox has, and what that means\n"
"  check FILE...       how a program is linked and which calls it imports\n"
"  run [OPTIONS] -- PROG [ARGS...]\n"
"                      run PROG with the emulation, or under a simulated\n"
"                      older kernel (sysfill run --help)\n"
"  --help, --version\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		help(stderr);
		return EXIT_SF_USAGE;
	}
	const char *c = argv[1];
	if (!strcmp(c, "--help") || !strcmp(c, "-h") || !strcmp(c, "help")) {
		help(stdout);
		return 0;
	}
	if (!strcmp(c, "--version") || !strcmp(c, "-V")) {
		printf("sysfill %s\n", SYSFILL_VERSION);
		return 0;
	}
	if (!strcmp(c, "probe"))
		return cmd_probe(argc - 1, argv + 1);
	if (!strcmp(c, "check"))
		return cmd_check(argc - 1, argv + 1);
	if (!strcmp(c, "run"))
		return cmd_run(argc - 1, argv + 1);
	fprintf(stderr, "sysfill: unknown command '%s' (see sysfill --help)\n", c);
	return EXIT_SF_USAGE;
}
