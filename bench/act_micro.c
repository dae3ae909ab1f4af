/* act_micro.c — per-core cost of element-wise activation kernels: 1 thread,
 * x of shape [16,16,16,16] (64K elements, L2-resident, x ~ 2 N(0,1),
 * dy ~ N(0,1)), minimum over 300 calls of al_act_forward and of
 * al_act_backward, printed as ns per element. The minimum is robust to
 * other load on a shared machine; compare two libraries by linking this
 * file against each and running them alternately.
 * Build: gcc -std=c11 -D_POSIX_C_SOURCE=200809L -O3 -march=native -fopenmp \
 *   -Iinclude -Isrc bench/act_micro.c build/release/libactlab.a \
 *   -lopenblas -llapacke -linih -lsqlite3 -lz -lm -lpthread -o act_micro
 * Usage: act_micro SPEC [SPEC...]   e.g. act_micro sigmoid prelu:per=channel
 * ACT_MICRO_SHAPE=N,C,H,W sets another shape, e.g. 64,16,32,32 (16 MB per
 * tensor, out of L2: what kernels see inside LeNet-5 training).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include "actlab/act.h"
#include "actlab/core.h"
int main(int argc, char **argv)
{
	int R = 300;
	int n = 16, c = 16, h = 16, w = 16;
	const char *shape = getenv("ACT_MICRO_SHAPE");
	if (shape && (sscanf(shape, "%d,%d,%d,%d", &n, &c, &h, &w) != 4 || n < 1 || c < 1 || h < 1 || w < 1)) {
		fprintf(stderr, "ACT_MICRO_SHAPE=%s: expected N,C,H,W\n", shape);
		return 2;
	}
	omp_set_num_threads(1);
	size_t tot = (size_t)n * c * h * w;
	float *x = al_malloc(tot * 4), *y = al_malloc(tot * 4), *dy = al_malloc(tot * 4), *dx = al_malloc(tot * 4);
	al_rng r; al_rng_seed(&r, 7);
	for (size_t i = 0; i < tot; i++) { x[i] = (float)al_rng_normal(&r) * 2; dy[i] = (float)al_rng_normal(&r); }
	for (int a = 1; a < argc; a++) {
		al_act_spec s;
		if (al_act_parse(argv[a], &s) != AL_OK) { fprintf(stderr, "bad %s\n", argv[a]); return 2; }
		int P = al_act_nparams(&s);
		size_t G = al_act_groups(&s, c, h, w);
		float *pp = P ? al_malloc(G * P * 4) : NULL, *dp = P ? al_malloc(G * P * 4) : NULL;
		size_t ns = al_act_scratch_floats(&s, n, c, h, w);
		float *sc = ns ? al_malloc(ns * 4) : NULL;
		if (P) { al_act_init_params(&s, pp, G, &r); memset(dp, 0, G * P * 4); }
		double bf = 1e9, bb = 1e9;
		for (int k = 0; k < R; k++) {
			double t0 = al_now();
			al_act_forward(&s, pp, n, c, h, w, x, y, 0, NULL);
			double t1 = al_now();
			al_act_backward(&s, pp, n, c, h, w, x, y, dy, dx, dp, sc, 0, NULL);
			double t2 = al_now();
			if (t1 - t0 < bf) bf = t1 - t0;
			if (t2 - t1 < bb) bb = t2 - t1;
		}
		printf("%-28s fwd %6.3f  bwd %6.3f  ns/elem\n", argv[a], bf * 1e9 / tot, bb * 1e9 / tot);
		fflush(stdout);
	}
	return 0;
}
