/* window_bench.c — the window-based activations (seed 000) against relu in the
 * same run: forward and forward+backward time of every window entry (k = 2
 * and k = 4, the default, plus compat and learned-lambda variants) relative
 * to relu, on [64,32,32,32] and [64,6,28,28].
 *
 * Every repetition runs all variants back to back (relu included) on the
 * same buffers, so all see the same machine conditions; the reported time of
 * a variant is the median over repetitions, and the ratio divides it by
 * relu's median of the same size. Forward+backward of a repetition is its
 * forward time plus the backward right after it. The table also gives the
 * ratio of the fastest repetitions (min / relu's min): on a shared machine,
 * where a 2-thread region may wait for a busy core, medians can be swamped
 * by scheduling delays that minima mostly escape.
 *
 * Build (bench/run_window.sh does this; the Makefile's flags):
 *   gcc -std=c11 -D_POSIX_C_SOURCE=200809L -O3 -march=native -fopenmp \
 *       -fno-math-errno -fno-trapping-math -ffp-contract=off -Iinclude -Isrc \
 *       bench/window_bench.c build/release/libactlab.a -lopenblas -llapacke \
 *       -linih -lsqlite3 -lz -lm -lpthread
 * Usage: window_bench [--threads N] [--reps R] [--only SUBSTR] [--cpu] [--hot] [--json]
 * Defaults: 2 threads, 31 repetitions (after 3 warm-up ones), wall time;
 * --cpu times by process CPU time (all threads' CPU time summed), which a
 * busy shared machine disturbs less than wall time (a descheduled thread
 * costs nothing; with OMP_WAIT_POLICY=passive neither does waiting).
 * --hot runs each variant once more, untimed, right before its timed call,
 * so every variant (relu too) starts from the cache state its own call
 * leaves instead of the one the previous variant left.
 */
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/act.h"
#include "actlab/core.h"

static const char *VARIANTS[] = {
	"relu",
	"nelu:k=2",
	"nelu",
	"nelu:learn=1",
	"nelu:k=2,learn=1,per=channel",
	"pnelu:k=2",
	"pnelu",
	"excitator:k=2",
	"excitator",
	"excitator:compat=ref",
	"excitator_v2:k=2",
	"excitator_v2",
	"inhibitor",
	"inhibitor_v2:k=2",
	"inhibitor_v2",
	"softmax_relu:k=2",
	"softmax_relu",
	"softmax_relu:group=column",
	"max_relu:k=2",
	"max_relu",
	"max:k=2",
	"max",
	"nelu:k=3,edges=pad",
	"nelu:k=8",
};
#define NV (int)(sizeof VARIANTS / sizeof *VARIANTS)

static const struct {
	int n, c, h, w;
} SIZES[2] = {{64, 32, 32, 32}, {64, 6, 28, 28}};

static double cpu_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* sorts v */
static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int main(int argc, char **argv)
{
	int threads = 2, reps = 31, warm = 3, json = 0, cpu = 0, hot = 0;
	const char *only = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			threads = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
		else if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--cpu"))
			cpu = 1;
		else if (!strcmp(argv[i], "--hot"))
			hot = 1;
		else {
			fprintf(stderr, "usage: window_bench [--threads N] [--reps R] [--only SUBSTR] "
					"[--cpu] [--hot] [--json]\n");
			return 2;
		}
	}
	if (threads < 1 || reps < 1) {
		fprintf(stderr, "window_bench: --threads and --reps must be >= 1\n");
		return 2;
	}
	al_set_threads(threads);
	int use[NV];
	al_act_spec spec[NV];
	for (int v = 0; v < NV; v++) {
		if (al_act_parse(VARIANTS[v], &spec[v]) != AL_OK) {
			fprintf(stderr, "window_bench: %s: %s\n", VARIANTS[v], al_errmsg());
			return 2;
		}
		use[v] = v == 0 || !only || strstr(VARIANTS[v], only);
	}
	double (*now)(void) = cpu ? cpu_now : al_now;
	if (!json)
		printf("threads %d, %d repetitions, %s; times are medians in ms; ratio = variant / "
		       "relu (medians), min = ratio of the minima\n",
		       threads, reps, cpu ? "process CPU time" : "wall time");
	for (int si = 0; si < 2; si++) {
		int n = SIZES[si].n, c = SIZES[si].c, h = SIZES[si].h, w = SIZES[si].w;
		size_t N = (size_t)n * c * h * w;
		float *x = al_malloc(N * 4), *y = al_malloc(N * 4), *dy = al_malloc(N * 4),
		      *dx = al_malloc(N * 4);
		al_rng r;
		al_rng_seed(&r, 1);
		for (size_t i = 0; i < N; i++) {
			x[i] = (float)al_rng_normal(&r);
			dy[i] = (float)al_rng_normal(&r);
		}
		float *p[NV], *dp[NV], *sc[NV];
		for (int v = 0; v < NV; v++) {
			size_t G = al_act_groups(&spec[v], c, h, w) * (size_t)al_act_nparams(&spec[v]);
			p[v] = al_calloc(G + 1, 4);
			dp[v] = al_calloc(G + 1, 4);
			sc[v] = al_calloc(al_act_scratch_floats(&spec[v], n, c, h, w) + 1, 4);
			al_act_init_params(&spec[v], p[v], al_act_groups(&spec[v], c, h, w), &r);
		}
		double *tf = calloc((size_t)NV * reps, 8), *tb = calloc((size_t)NV * reps, 8);
		for (int rep = -warm; rep < reps; rep++)
			for (int v = 0; v < NV; v++) {
				if (!use[v])
					continue;
				if (hot) { /* the same variant once, untimed, right before */
					al_act_forward(&spec[v], p[v], n, c, h, w, x, y, 1, NULL);
					al_act_backward(&spec[v], p[v], n, c, h, w, x, y, dy, dx, dp[v],
							sc[v], 1, NULL);
				}
				double t0 = now();
				al_act_forward(&spec[v], p[v], n, c, h, w, x, y, 1, NULL);
				double t1 = now();
				al_act_backward(&spec[v], p[v], n, c, h, w, x, y, dy, dx, dp[v], sc[v], 1,
						NULL);
				double t2 = now();
				if (rep >= 0) {
					tf[v * reps + rep] = t1 - t0;
					tb[v * reps + rep] = t2 - t0;
				}
			}
		double f0 = median(tf, reps), b0 = median(tb, reps), mf0 = tf[0], mb0 = tb[0];
		if (!json)
			printf("\n[%d,%d,%d,%d]  relu: forward %.3f ms, forward+backward %.3f ms "
			       "(medians; minima %.3f, %.3f)\n"
			       "%-30s %8s %6s %8s %6s | %9s %9s\n",
			       n, c, h, w, 1e3 * f0, 1e3 * b0, 1e3 * mf0, 1e3 * mb0, "variant", "fwd ms",
			       "ratio", "f+b ms", "ratio", "min fwd", "min f+b");
		for (int v = 1; v < NV; v++) {
			if (!use[v])
				continue;
			double f = median(tf + v * reps, reps), b = median(tb + v * reps, reps);
			double mf = tf[v * reps], mb = tb[v * reps];
			if (json)
				printf("{\"size\": [%d, %d, %d, %d], \"variant\": \"%s\", \"threads\": %d, "
				       "\"fwd_ms\": %.4f, \"fwdbwd_ms\": %.4f, \"relu_fwd_ms\": %.4f, "
				       "\"relu_fwdbwd_ms\": %.4f, \"fwd_ratio\": %.3f, "
				       "\"fwdbwd_ratio\": %.3f, \"min_fwd_ratio\": %.3f, "
				       "\"min_fwdbwd_ratio\": %.3f, \"cpu_time\": %d}\n",
				       n, c, h, w, VARIANTS[v], threads, 1e3 * f, 1e3 * b, 1e3 * f0,
				       1e3 * b0, f / f0, b / b0, mf / mf0, mb / mb0, cpu);
			else
				printf("%-30s %8.3f %6.2f %8.3f %6.2f | %9.2f %9.2f\n", VARIANTS[v], 1e3 * f,
				       f / f0, 1e3 * b, b / b0, mf / mf0, mb / mb0);
		}
		for (int v = 0; v < NV; v++) {
			al_free(p[v]);
			al_free(dp[v]);
			al_free(sc[v]);
		}
		free(tf);
		free(tb);
		al_free(x);
		al_free(y);
		al_free(dy);
		al_free(dx);
	}
	return 0;
}
