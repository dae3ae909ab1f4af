/* cmd_plot.c — `actlab act plot`: an activation and its derivative over a
 * range, drawn by gnuplot (Debian's gnuplot-nox) to PNG or SVG. The data
 * come from the float kernels, so the plot shows what training uses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actlab/act.h"
#include "actlab/tensor.h"
#include "cli.h"

static const char *help =
	"usage: actlab act plot --act SPEC --out FILE.png|FILE.svg [--params p.npy]\n"
	"                       [--range LO,HI] [--points N] [--csv FILE]\n\n"
	"Draws f(x) and f'(x) with gnuplot. --params takes the entry's parameters as [P]\n"
	"(per=layer) or [G, P]: one curve per group (at most 16 drawn). Defaults: the\n"
	"entry's check range widened by half, --points 801.\n";

int cmd_act_plot(int argc, char **argv)
{
	const char *spec = NULL, *out = NULL, *pp = NULL, *range = NULL, *csv = NULL;
	int points = 801;
	cli_args a;
	cli_init(&a, argc, argv);
	while (cli_next(&a)) {
		if (!strcmp(a.name, "help")) {
			fputs(help, stdout);
			return 0;
		}
		if (!a.name[0] || !a.value)
			return cli_usage_error("act plot: bad argument '%s'", a.name[0] ? a.name : a.value);
		if (!strcmp(a.name, "act"))
			spec = a.value;
		else if (!strcmp(a.name, "out"))
			out = a.value;
		else if (!strcmp(a.name, "params"))
			pp = a.value;
		else if (!strcmp(a.name, "range"))
			range = a.value;
		else if (!strcmp(a.name, "points"))
			points = atoi(a.value);
		else if (!strcmp(a.name, "csv"))
			csv = a.value;
		else
			return cli_usage_error("act plot: unknown option --%s", a.name);
	}
	if (!spec || !out)
		return cli_usage_error("act plot needs --act SPEC --out FILE.png|svg");
	size_t ol = strlen(out);
	int svg = ol > 4 && !strcmp(out + ol - 4, ".svg");
	if (!svg && !(ol > 4 && !strcmp(out + ol - 4, ".png")))
		return cli_usage_error("act plot: --out must end in .png or .svg");
	if (points < 2 || points > 1000000)
		return cli_usage_error("act plot: --points must be in [2, 1000000]");
	al_act_spec s;
	if (al_act_parse(spec, &s) != AL_OK)
		return cli_usage_error("--act: %s", al_errmsg());
	if (s.desc->kind != AL_ACT_ELEMENT)
		return cli_usage_error("act plot: '%s' is not element-wise; use `actlab act shapes`",
				       s.desc->name);
	double lo = s.desc->check_lo * 1.5, hi = s.desc->check_hi * 1.5;
	if (range && (sscanf(range, "%lf,%lf", &lo, &hi) != 2 || !(lo < hi)))
		return cli_usage_error("act plot: --range must be LO,HI with LO < HI");
	int P = al_act_nparams(&s);
	size_t G = 1;
	float *params = calloc((size_t)(P ? P : 1) * 16, sizeof(float));
	al_act_init_params(&s, params, 1, NULL);
	if (pp) {
		al_tensor t;
		al_status st = al_npy_read_f32(pp, &t);
		if (st != AL_OK) {
			free(params);
			return cli_runtime_error(st);
		}
		size_t n = al_tensor_numel(&t);
		if (P == 0 || n % (size_t)P) {
			al_tensor_free(&t);
			free(params);
			return cli_usage_error("act plot: %s holds %zu values; '%s' has %d parameters per "
					       "group",
					       pp, n, s.desc->name, P);
		}
		G = n / (size_t)P > 16 ? 16 : n / (size_t)P;
		memcpy(params, t.data, G * (size_t)P * sizeof(float));
		al_tensor_free(&t);
	}
	s.per = AL_PER_LAYER;
	float *x = malloc((size_t)points * sizeof(float)), *y = malloc((size_t)points * sizeof(float)),
	      *dy = malloc((size_t)points * sizeof(float)), *dx = malloc((size_t)points * sizeof(float)),
	      *dp = calloc((size_t)(P ? P : 1), sizeof(float));
	float sc[AL_ACT_MAXP * 64];
	char dat[600];
	if (csv)
		snprintf(dat, sizeof dat, "%s", csv);
	else
		snprintf(dat, sizeof dat, "%s.dat", out);
	FILE *f = fopen(dat, "w");
	if (!f) {
		fprintf(stderr, "actlab: error: %s: cannot write\n", dat);
		return EXIT_RUNTIME;
	}
	fprintf(f, "x");
	for (size_t g = 0; g < G; g++)
		fprintf(f, ",f%zu,df%zu", g, g);
	fprintf(f, "\n");
	for (int i = 0; i < points; i++) {
		x[i] = (float)(lo + (hi - lo) * i / (points - 1));
		dy[i] = 1;
	}
	float *ys = malloc((size_t)points * G * 2 * sizeof(float));
	for (size_t g = 0; g < G; g++) {
		const float *pg = params + g * (size_t)P;
		al_act_forward(&s, pg, 1, points, 1, 1, x, y, 0, NULL);
		al_act_backward(&s, pg, 1, points, 1, 1, x, y, dy, dx, dp, sc, 0, NULL);
		for (int i = 0; i < points; i++) {
			ys[((size_t)i * G + g) * 2] = y[i];
			ys[((size_t)i * G + g) * 2 + 1] = dx[i];
		}
	}
	for (int i = 0; i < points; i++) {
		fprintf(f, "%.9g", (double)x[i]);
		for (size_t g = 0; g < G; g++)
			fprintf(f, ",%.9g,%.9g", (double)ys[((size_t)i * G + g) * 2],
				(double)ys[((size_t)i * G + g) * 2 + 1]);
		fprintf(f, "\n");
	}
	fclose(f);
	free(x);
	free(y);
	free(dy);
	free(dx);
	free(dp);
	free(ys);
	free(params);
	/* gnuplot script on stdin; the title is the canonical spec */
	FILE *gp = popen("gnuplot 2>&1", "w");
	if (!gp) {
		fprintf(stderr, "actlab: error: cannot run gnuplot (install gnuplot-nox)\n");
		return EXIT_RUNTIME;
	}
	fprintf(gp, "set terminal %s size 800,500%s\n", svg ? "svg" : "pngcairo",
		svg ? " dynamic" : "");
	fprintf(gp, "set output '%s'\nset datafile separator ','\nset key top left\n", out);
	fprintf(gp, "set title \"%s\" noenhanced\nset grid\nset xlabel 'x'\n", s.text);
	fprintf(gp, "set xzeroaxis\nset yzeroaxis\n");
	fprintf(gp, "plot ");
	for (size_t g = 0; g < G; g++)
		fprintf(gp, "%s'%s' skip 1 using 1:%zu with lines lw 2 title 'f%s', '%s' skip 1 using "
			    "1:%zu with lines dt 2 title \"f'%s\"",
			g ? ", " : "", dat, 2 + 2 * g, G > 1 ? "" : "", dat, 3 + 2 * g, "");
	fprintf(gp, "\n");
	int rc = pclose(gp);
	if (!csv)
		remove(dat);
	if (rc != 0) {
		fprintf(stderr, "actlab: error: gnuplot failed (exit %d) writing %s\n",
			WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, out);
		return EXIT_RUNTIME;
	}
	fprintf(stderr, "wrote %s\n", out);
	return 0;
}
