/* The SYSFILL_* settings: how their values are spelled. One parser for the
 * library (shim/log.c, shim/probe.c, preload/) and the `sysfill` command
 * (tracer/env.c), so that a value means the same to both.
 *
 * Booleans: 1/0, yes/no, true/false, on/off, in any case. Log levels:
 * error, warn (warning), info, debug, in any case, or 0-3. Anything else is
 * reported once, naming the variable and the value, and the default is
 * kept. The parsers are pure (no allocation, no errno): signal-safe. */
#ifndef SYSFILL_ENV_H
#define SYSFILL_ENV_H

/* 1 if A equals B ignoring ASCII case. */
static inline int sf_env_eq(const char *a, const char *b)
{
	for (;; a++, b++) {
		char x = *a, y = *b;
		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			return 0;
		if (!x)
			return 1;
	}
}

/* Returns 1 (true), 0 (false) or -1 (not a boolean). */
static inline int sf_parse_bool(const char *v)
{
	static const char *const yes[] = {"1", "yes", "true", "on", 0};
	static const char *const no[] = {"0", "no", "false", "off", 0};
	for (int i = 0; yes[i]; i++) {
		if (sf_env_eq(v, yes[i]))
			return 1;
		if (sf_env_eq(v, no[i]))
			return 0;
	}
	return -1;
}

/* Returns 0 error, 1 warn, 2 info, 3 debug, or -1 (not a level). */
static inline int sf_parse_level(const char *v)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	for (int i = 0; i < 4; i++)
		if (sf_env_eq(v, names[i]))
			return i;
	if (sf_env_eq(v, "warning"))
		return 1;
	if (v[0] >= '0' && v[0] <= '3' && !v[1])
		return v[0] - '0';
	return -1;
}

/* Returns the index of V in the NULL-terminated CHOICES (any case), or -1. */
static inline int sf_parse_choice(const char *v, const char *const *choices)
{
	for (int i = 0; choices[i]; i++)
		if (sf_env_eq(v, choices[i]))
			return i;
	return -1;
}

#define SF_BOOL_SPELLINGS "1/0, yes/no, true/false, on/off"
#define SF_LEVEL_SPELLINGS "error, warn, info, debug or 0-3"

/* Library side (shim/log.c). Constructor time only (getenv): the value of
 * NAME as a boolean, DFLT when unset or empty; a value that is none of
 * the spellings is reported once at warn level and gives DFLT. */
__attribute__((visibility("hidden"))) int sf_env_bool(const char *name,
						      int dflt);
/* The index of NAME's value in the NULL-terminated CHOICES, DFLT when unset, empty or (reported once) none of them. */
__attribute__((visibility("hidden"))) int
sf_env_choice(const char *name, const char *const *choices, int dflt);

#endif
