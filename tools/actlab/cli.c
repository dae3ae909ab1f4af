/* cli.c — option scanning and error reporting for the actlab CLI. */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void cli_init(cli_args *a, int argc, char **argv)
{
	memset(a, 0, sizeof *a);
	a->argc = argc;
	a->argv = argv;
	a->i = 0;
}

int cli_next(cli_args *a)
{
	if (a->i >= a->argc)
		return 0;
	const char *s = a->argv[a->i++];
	a->value = NULL;
	a->name[0] = 0;
	if (strncmp(s, "--", 2) != 0 || s[2] == 0) {
		a->value = s;
		return 1;
	}
	const char *eq = strchr(s, '=');
	if (eq) {
		snprintf(a->name, sizeof a->name, "%.*s", (int)(eq - s - 2), s + 2);
		snprintf(a->inline_val, sizeof a->inline_val, "%s", eq + 1);
		a->value = a->inline_val;
	} else {
		snprintf(a->name, sizeof a->name, "%s", s + 2);
		if (a->i < a->argc &&
		    (strncmp(a->argv[a->i], "--", 2) != 0 || a->argv[a->i][2] == 0))
			a->value = a->argv[a->i++];
	}
	for (char *p = a->name; *p; p++)
		if (*p == '-')
			*p = '_';
	return 1;
}

const char *cli_value(cli_args *a) { return a->value; }

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("actlab: usage error: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return EXIT_USAGE;
}

int cli_runtime_error(al_status s)
{
	const char *m = al_errmsg()[0] ? al_errmsg() : al_status_str(s);
	if (cli_rank != 0) /* rank 0 speaks for the job; the others say who they are */
		fprintf(stderr, "actlab (rank %d): error: %s\n", cli_rank, m);
	else
		fprintf(stderr, "actlab: error: %s\n", m);
	return EXIT_RUNTIME;
}

void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}
