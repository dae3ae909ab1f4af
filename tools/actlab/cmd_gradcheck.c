/* cmd_gradcheck.c — `actlab gradcheck`: finite-difference checks of one
 * catalog entry or all of them, at the initial and at random parameters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/act.h"
#include "cli.h"

#define FD_TOL 1e-6
#define KERNEL_TOL 1e-4

static const char *help =
	"usage: actlab gradcheck [--act SPEC | --all] [--points N] [--seed N] [--json]\n\n"
	"Checks d/dx and d/dparam of element-wise and learned-shape entries by 4-point\n"
	"central differences of the double reference (kinks skipped), at the initial\n"
	"parameters and at random ones near them, and the float kernels against the\n"
	"reference (learned entries: whole-tensor kernels per layer, channel and neuron).\n"
	"Prints the worst relative error per entry; fails (exit 1) above 1e-6 (finite\n"
	"differences) or 1e-4 (kernels).\n"
	"Window entries: the float kernels' dx and dlambda against central differences of a\n"
	"double reference, on [2,3,8,8], [2,2,7,9] and dense [3,13] inputs placed away from\n"
	"decision boundaries (no ties, nothing near 0, a window maximum or a threshold);\n"
	"both errors must stay below 1e-4. --all also checks, per window entry, a learned\n"
	"lambda (per=channel and per=neuron), edges=pad and the compat, group and ties modes.\n"
	"Defaults: --all, --points 400, --seed 1.\n";

static int check_one(const al_act_spec *s, int points, uint64_t seed, int json, int *first)
{
	al_gradcheck_result g[2];
	for (int r = 0; r < 2; r++)
		if (al_act_gradcheck(s, r, seed + (uint64_t)r, points, &g[r]) != AL_OK) {
			if (json) {
				printf("%s{\"act\": ", *first ? "" : ",\n ");
				json_string(stdout, s->text);
				printf(", \"skipped\": ");
				json_string(stdout, al_errmsg());
				printf("}");
				*first = 0;
			} else {
				printf("%-40s skipped: %s\n", s->text, al_errmsg());
			}
			return 1;
		}
	double worst = g[0].worst > g[1].worst ? g[0].worst : g[1].worst;
	double kern = g[0].kernel_err > g[1].kernel_err ? g[0].kernel_err : g[1].kernel_err;
	const al_gradcheck_result *w = g[0].worst >= g[1].worst ? &g[0] : &g[1];
	/* window entries: the analytic side is the float kernel */
	int ok = worst < (s->desc->kind == AL_ACT_WINDOW ? KERNEL_TOL : FD_TOL) && kern < KERNEL_TOL;
	if (json) {
		printf("%s{\"act\": ", *first ? "" : ",\n ");
		json_string(stdout, s->text);
		printf(", \"ok\": %s, \"fd_error\": %.3g, \"kernel_error\": %.3g, \"points\": %d, "
		       "\"worst_at\": ",
		       ok ? "true" : "false", worst, kern, g[0].points + g[1].points);
		json_string(stdout, w->worst_at);
		printf("}");
		*first = 0;
	} else {
		printf("%-4s %-48.48s fd %.2e  kernel %.2e  %s\n", ok ? "ok" : "FAIL", s->text, worst,
		       kern, ok ? "" : w->worst_at);
	}
	return ok;
}

static int has_hyper(const al_act_desc *d, const char *name)
{
	for (int i = 0; i < d->nhyper; i++)
		if (!strcmp(d->hyper[i].name, name))
			return 1;
	return 0;
}

/* The specs --all checks for an entry: its defaults, and for window entries
 * the modes their hypers offer. */
static int window_variants(const al_act_desc *d, char specs[6][128])
{
	int n = 0;
	snprintf(specs[n++], 128, "%s", d->name);
	if (d->kind != AL_ACT_WINDOW)
		return n;
	if (has_hyper(d, "learn")) {
		snprintf(specs[n++], 128, "%s:k=2,influence=learn,per=channel", d->name);
		snprintf(specs[n++], 128, "%s:k=3,edges=pad,influence=learn,per=neuron", d->name);
	} else {
		snprintf(specs[n++], 128, "%s:k=3,edges=pad", d->name);
	}
	if (has_hyper(d, "compat"))
		snprintf(specs[n++], 128, "%s:k=2,compat=ref,influence=learn", d->name);
	if (has_hyper(d, "group"))
		snprintf(specs[n++], 128, "%s:k=4,group=column", d->name);
	if (has_hyper(d, "ties"))
		snprintf(specs[n++], 128, "%s:k=2,ties=first", d->name);
	return n;
}

int cmd_gradcheck(int argc, char **argv)
{
	const char *spec = NULL;
	int all = 0, json = 0, points = 400;
	unsigned long long seed = 1;
	cli_args a;
	cli_init(&a, argc, argv);
	while (cli_next(&a)) {
		if (!strcmp(a.name, "help")) {
			fputs(help, stdout);
			return 0;
		} else if (!strcmp(a.name, "all")) {
			all = 1;
		} else if (!strcmp(a.name, "json")) {
			json = 1;
		} else if (!a.name[0] || !a.value) {
			return cli_usage_error("gradcheck: bad argument '%s'",
					       a.name[0] ? a.name : a.value);
		} else if (!strcmp(a.name, "act")) {
			spec = a.value;
		} else if (!strcmp(a.name, "points")) {
			points = atoi(a.value);
		} else if (!strcmp(a.name, "seed")) {
			seed = strtoull(a.value, NULL, 10);
		} else {
			return cli_usage_error("gradcheck: unknown option --%s", a.name);
		}
	}
	if (points < 1)
		return cli_usage_error("gradcheck: --points must be >= 1");
	if (spec && all)
		return cli_usage_error("gradcheck: give --act SPEC or --all, not both");
	int failed = 0, first = 1;
	if (json)
		printf("[");
	if (spec) {
		al_act_spec s;
		if (al_act_parse(spec, &s) != AL_OK)
			return cli_usage_error("--act: %s", al_errmsg());
		failed += !check_one(&s, points, seed, json, &first);
	} else {
		for (int i = 0; i < al_act_count(); i++) {
			const al_act_desc *d = al_act_get(i);
			char specs[6][128];
			int ns = window_variants(d, specs);
			for (int v = 0; v < ns; v++) {
				al_act_spec s;
				if (al_act_parse(specs[v], &s) != AL_OK)
					return cli_runtime_error(AL_EINVAL);
				failed += !check_one(&s, points, seed, json, &first);
			}
		}
	}
	if (json)
		printf("]\n");
	else
		printf("%d failed\n", failed);
	return failed ? EXIT_RUNTIME : 0;
}
