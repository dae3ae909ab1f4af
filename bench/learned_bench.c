/* learned_bench.c — forward+backward time of the learned-shape entries
 * relative to relu on one tensor (default [64,32,32,32]), at per=layer,
 * per=channel and per=neuron, next to relu, leaky_relu and prelu.
 *
 * Each repetition times relu and then every variant back to back on the
 * same buffers (forward, then backward right after it), so each variant's
 * ratio to relu is taken within the same repetition; reported: the median
 * over repetitions of (variant time / relu time of that repetition), for
 * forward+backward and for the forward alone (what inference and a
 * distilled form pay), and the median times. Threads: 2 by default (the
 * team machine's cores).
 *
 * --fwd K: inference, as a distilled checkpoint runs: each repetition
 * times K forwards back to back (no backward between them, so the caches
 * hold what a stream of forwards leaves) and reports their mean in both
 * columns.
 *
 * Build (bench/run_learned.sh does this; same flags as the Makefile):
 *   gcc -std=c11 -D_POSIX_C_SOURCE=200809L -O3 -march=native -fopenmp \
 *       -fno-math-errno -fno-trapping-math -ffp-contract=off -Iinclude -Isrc \
 *       bench/learned_bench.c build/release/libactlab.a -lopenblas -llapacke \
 *       -linih -lsqlite3 -lz -lm -lpthread
 * Usage: learned_bench [--threads N] [--reps R] [--cpu] [--fwd K] [--shape N,C,H,W]
 *                      [--only SPEC[;SPEC...]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actlab/act.h"
#include "actlab/core.h"

static const char *default_specs[] = {
	"leaky_relu",
	"prelu:per=channel",
	"adact:per=layer",
	"adact:per=channel",
	"adact:per=neuron",
	"pau:per=layer",
	"pau:per=channel",
	"pau:per=neuron",
	"apl:per=layer",
	"apl:per=channel",
	"apl:per=neuron",
	"vaf:per=layer",
	"vaf:per=channel",
	"bspline:per=layer",
	"bspline:per=channel",
	"bspline:per=neuron",
	"meta:per=layer",
	"meta:per=channel",
	"meta:per=neuron",
	"meta:per=neuron,g=tanh",
	/* distillation targets (forward only matters for inference) */
	"lut:per=channel",
	"adact:ns=17,lo=-2.5,hi=3.1,zero=any,per=channel",
};

/* --cpu: process CPU time (all threads) instead of wall time: robust to
 * preemption on a loaded machine; with OMP_WAIT_POLICY=passive it counts
 * the work done, not the time waited */
static clockid_t clk = CLOCK_MONOTONIC;
static int fwd_only; /* --fwd K: K forwards per repetition, no backward */

static double now(void)
{
	struct timespec t;
	clock_gettime(clk, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

typedef struct {
	al_act_spec s;
	float *p, *dp, *sc;
	size_t np;
} inst;

static int inst_make(inst *in, const char *spec, int n, int c, int h, int w, al_rng *r)
{
	if (al_act_parse(spec, &in->s) != AL_OK) {
		fprintf(stderr, "learned_bench: %s\n", al_errmsg());
		return -1;
	}
	size_t G = al_act_groups(&in->s, c, h, w);
	in->np = G * (size_t)al_act_nparams(&in->s);
	in->p = malloc((in->np + 1) * sizeof *in->p);
	in->dp = calloc(in->np + 1, sizeof *in->dp);
	in->sc = calloc(al_act_scratch_floats(&in->s, n, c, h, w) + 1, sizeof *in->sc);
	if (!in->p || !in->dp || !in->sc)
		return -1;
	al_act_init_params(&in->s, in->p, G, r);
	return 0;
}

/* forward+backward seconds; *fwd: the forward's */
static double run(inst *in, int n, int c, int h, int w, const float *x, float *y,
		  const float *dy, float *dx, al_rng *r, double *fwd)
{
	double t0 = now();
	if (fwd_only) {
		for (int k = 0; k < fwd_only; k++)
			al_act_forward(&in->s, in->p, n, c, h, w, x, y, 0, r);
		*fwd = (now() - t0) / fwd_only;
		return *fwd;
	}
	al_act_forward(&in->s, in->p, n, c, h, w, x, y, 1, r);
	double t1 = now();
	al_act_backward(&in->s, in->p, n, c, h, w, x, y, dy, dx, in->dp, in->sc, 1, r);
	*fwd = t1 - t0;
	return now() - t0;
}

int main(int argc, char **argv)
{
	int threads = 2, reps = 15, n = 64, c = 32, h = 32, w = 32;
	const char *specs[64];
	int ns = 0;
	char only[4096] = "";
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			threads = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--cpu"))
			clk = CLOCK_PROCESS_CPUTIME_ID;
		else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--fwd") && i + 1 < argc)
			fwd_only = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--shape") && i + 1 < argc) {
			if (sscanf(argv[++i], "%d,%d,%d,%d", &n, &c, &h, &w) != 4) {
				fprintf(stderr, "learned_bench: --shape N,C,H,W\n");
				return 2;
			}
		} else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			snprintf(only, sizeof only, "%s", argv[++i]);
		else {
			fprintf(stderr, "usage: learned_bench [--threads N] [--reps R] [--cpu] [--fwd K] "
					"[--shape N,C,H,W] [--only SPEC[;SPEC...]]\n");
			return 2;
		}
	}
	if (only[0])
		for (char *t = strtok(only, ";"); t && ns < 64; t = strtok(NULL, ";"))
			specs[ns++] = t;
	else
		for (size_t i = 0; i < sizeof default_specs / sizeof *default_specs; i++)
			specs[ns++] = default_specs[i];
	if (reps < 3 || fwd_only < 0 || n < 1 || c < 1 || h < 1 || w < 1) {
		fprintf(stderr, "learned_bench: need --reps >= 3, --fwd >= 0 and a positive shape\n");
		return 2;
	}
	al_set_threads(threads);
	size_t N = (size_t)n * c * h * w;
	/* 64-byte aligned, as the library's own tensors are (al_malloc) */
	float *x = al_malloc(N * 4), *y = al_malloc(N * 4), *dy = al_malloc(N * 4),
	      *dx = al_malloc(N * 4);
	al_rng r;
	al_rng_seed(&r, 1);
	for (size_t i = 0; i < N; i++) {
		x[i] = 4 * al_rng_uniform(&r) - 2;
		dy[i] = al_rng_uniform(&r) - 0.5f;
	}
	inst relu, *v = calloc((size_t)ns, sizeof *v);
	if (inst_make(&relu, "relu", n, c, h, w, &r))
		return 1;
	for (int i = 0; i < ns; i++)
		if (inst_make(&v[i], specs[i], n, c, h, w, &r))
			return 1;
	double *tr = malloc((size_t)reps * sizeof *tr), *tv = malloc((size_t)reps * ns * sizeof *tv),
	       *ratio = malloc((size_t)reps * ns * sizeof *ratio),
	       *fr = malloc((size_t)reps * sizeof *fr), *fv = malloc((size_t)reps * ns * sizeof *fv),
	       *fratio = malloc((size_t)reps * ns * sizeof *fratio), dummy;
	/* warm-up */
	run(&relu, n, c, h, w, x, y, dy, dx, &r, &dummy);
	for (int i = 0; i < ns; i++)
		run(&v[i], n, c, h, w, x, y, dy, dx, &r, &dummy);
	for (int k = 0; k < reps; k++) {
		tr[k] = run(&relu, n, c, h, w, x, y, dy, dx, &r, &fr[k]);
		for (int i = 0; i < ns; i++) {
			tv[i * reps + k] = run(&v[i], n, c, h, w, x, y, dy, dx, &r, &fv[i * reps + k]);
			ratio[i * reps + k] = tv[i * reps + k] / tr[k];
			fratio[i * reps + k] = fv[i * reps + k] / fr[k];
		}
	}
	printf("# learned_bench: [%d,%d,%d,%d], %d threads, %d reps, %s time; ratios = median over "
	       "reps of (time / relu time of the same rep)%s\n",
	       n, c, h, w, threads, reps, clk == CLOCK_MONOTONIC ? "wall" : "process CPU",
	       fwd_only ? "; --fwd: forwards only, both columns" : "");
	printf("| spec | params | fwd+bwd ms | fwd+bwd vs relu | fwd ms | fwd vs relu |\n"
	       "|---|---|---|---|---|---|\n");
	double rm = median(tr, reps), rf = median(fr, reps);
	printf("| relu | 0 | %.3f | 1.00 | %.3f | 1.00 |\n", rm * 1e3, rf * 1e3);
	for (int i = 0; i < ns; i++)
		printf("| %s | %zu | %.3f | %.2f | %.3f | %.2f |\n", specs[i], v[i].np,
		       median(tv + (size_t)i * reps, reps) * 1e3, median(ratio + (size_t)i * reps, reps),
		       median(fv + (size_t)i * reps, reps) * 1e3, median(fratio + (size_t)i * reps, reps));
	return 0;
}
