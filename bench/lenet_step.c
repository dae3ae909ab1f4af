/* lenet_step.c — per-core cost of one LeNet-5 training step per activation,
 * for before/after comparisons on a shared machine: 1 thread, batch 64 of
 * synthetic 1x28x28 inputs (x ~ N(0,1), dlogits ~ N(0, 0.01)), zero_grad +
 * forward + backward (no optimizer step, no data loading), the minimum over
 * 60 rounds; each round steps relu and then every given spec, so load that
 * comes and goes hits them alike. Prints ms per step and the ratio to relu.
 * Synthetic inputs make data-dependent costs (branches on values) look the
 * same for every activation; the training loop also spends time outside
 * the step (batch assembly, loss, optimizer), so these ratios read a few
 * percent above those of bench/run_lenet_acts.sh. Compare two libraries by
 * linking this file against each and running them alternately.
 * Build: gcc -std=c11 -D_POSIX_C_SOURCE=200809L -O2 -march=native -fopenmp \
 *   -Iinclude -Isrc bench/lenet_step.c build/release/libactlab.a \
 *   -lopenblas -llapacke -linih -lsqlite3 -lstb -lz -lm -lpthread -o lenet_step
 * Usage: OPENBLAS_NUM_THREADS=1 lenet_step SPEC [SPEC...]
 */
#include <stdio.h>
#include <stdlib.h>
#include <omp.h>
#include "actlab/core.h"
#include "actlab/nn.h"
int main(int argc, char **argv)
{
	const int R = 60, N = 64, na = argc; /* specs argv[1..]; 0 is relu */
	omp_set_num_threads(1);
	const char **acts = malloc(sizeof *acts * (size_t)na);
	al_model **m = calloc((size_t)na, sizeof *m);
	double *best = malloc(sizeof *best * (size_t)na);
	float *x = al_malloc((size_t)N * 784 * 4), *dl = al_malloc((size_t)N * 10 * 4);
	if (!acts || !m || !best || !x || !dl)
		return 2;
	acts[0] = "relu";
	for (int i = 1; i < na; i++)
		acts[i] = argv[i];
	al_rng r;
	al_rng_seed(&r, 1);
	for (int i = 0; i < N * 784; i++)
		x[i] = (float)al_rng_normal(&r);
	for (int i = 0; i < N * 10; i++)
		dl[i] = 0.1f * (float)al_rng_normal(&r);
	for (int a = 0; a < na; a++) {
		al_model_opts o = al_model_opts_default();
		o.act = acts[a];
		o.in_c = 1, o.in_h = 28, o.in_w = 28, o.classes = 10, o.seed = 3;
		if (al_model_create("lenet5", &o, &m[a]) != AL_OK ||
		    al_model_reserve(m[a], N) != AL_OK) {
			fprintf(stderr, "%s: %s\n", acts[a], al_errmsg());
			return 2;
		}
		best[a] = 1e9;
	}
	for (int k = 0; k < R; k++)
		for (int a = 0; a < na; a++) {
			const float *lg;
			double t0 = al_now();
			al_model_zero_grad(m[a]);
			if (al_model_forward(m[a], x, N, 1, &lg) != AL_OK ||
			    al_model_backward(m[a], dl) != AL_OK) {
				fprintf(stderr, "%s: %s\n", acts[a], al_errmsg());
				return 2;
			}
			double t = al_now() - t0;
			if (t < best[a])
				best[a] = t;
		}
	for (int a = 0; a < na; a++) {
		printf("%-28s %.3f ms  %.3f x relu\n", acts[a], best[a] * 1e3, best[a] / best[0]);
		al_model_free(m[a]);
	}
	return 0;
}
