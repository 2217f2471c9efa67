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
"  features [--markdown]\n"
"                      the process API by kernel version: which kernel\n"
"                      introduced each feature, what older ones answer\n"
"\n"
"options:\n"
"  -h, --help          this help; COMMAND --help: that command's\n"
"  -V, --version       print the version\n"
"\n"
"environment (of sysfill and of programs using libsysfill.so):\n"
"  SYSFILL_FORCE=1     emulate even where the kernel has the calls\n"
"  SYSFILL_LOG=LEVEL   error, warn (default), info or debug\n"
"  SYSFILL_LOG_FILE=F  log to F instead of stderr\n"
"  SYSFILL_CLONE3=enosys  answer clone3 with ENOSYS instead of emulating it\n"
"See sysfill(1) and libsysfill(3) for the others.\n");
}

/* `sysfill features [--markdown]`: the feature table of tracer/kernels.c,
 * as text or as the Markdown table the README carries (tests/suite-dist.sh
 * checks that the README's copy equals this output). */
static int cmd_features(int argc, char **argv)
{
	int md = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--markdown")) {
			md = 1;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: sysfill features [--markdown]\n\n"
			       "Each process-API feature, the kernel version that "
			       "introduced it, what\nolder kernels answer, whether "
			       "libsysfill.so emulates it and whether\n"
			       "`sysfill run --kernel` can simulate its absence.\n");
			return 0;
		} else {
			fprintf(stderr, "sysfill features: unknown option '%s'\n"
				"usage: sysfill features [--markdown]\n", argv[i]);
			return EXIT_SF_USAGE;
		}
	}
	if (!md) {
		kfeatures_print(stdout);
		return 0;
	}
	char v[16];
	printf("| feature | system call | since | before that | libsysfill.so "
	       "| `sysfill run --kernel` |\n");
	printf("| --- | --- | --- | --- | --- | --- |\n");
	for (int i = 0; i < KF_COUNT; i++) {
		const struct kfeature *k = &kfeatures[i];
		const char *sim = k->kind == KF_IGNORED ? "flag cleared by the supervisor (trace mode)"
				: k->kind == KF_PROPERTY ? "not simulated"
				: "errno rule";
		printf("| %s | `%s` | %s | %s | %s | %s |\n", k->name, k->syscall,
		       kversion_str(k->since, v, sizeof v), k->before,
		       k->emulated ? "emulated" : "not emulated", sim);
	}
	return 0;
}

int main(int argc, char **argv)
{
	selftrap_init();
	if (argc < 2) {
		help(stderr);
		return EXIT_SF_USAGE;
	}
	const char *c = argv[1];
	int is_help = !strcmp(c, "--help") || !strcmp(c, "-h") || !strcmp(c, "help");
	int is_version = !strcmp(c, "--version") || !strcmp(c, "-V");
	if ((is_help || is_version) && argc > 2) {
		fprintf(stderr, "sysfill: %s takes no arguments (got '%s'; see "
			"sysfill --help)\n", c, argv[2]);
		return EXIT_SF_USAGE;
	}
	if (is_help) {
		help(stdout);
		return 0;
	}
	if (is_version) {
		printf("sysfill %s\n", SYSFILL_VERSION);
		return 0;
	}
	if (!strcmp(c, "probe"))
		return cmd_probe(argc - 1, argv + 1);
	if (!strcmp(c, "check"))
		return cmd_check(argc - 1, argv + 1);
	if (!strcmp(c, "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(c, "features"))
		return cmd_features(argc - 1, argv + 1);
	fprintf(stderr, "sysfill: unknown command '%s' (see sysfill --help)\n", c);
	return EXIT_SF_USAGE;
}
