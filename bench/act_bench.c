/* act_bench.c — element-wise activation kernels against the machine's copy
 * bandwidth: every AL_ACT_ELEMENT entry of the catalog, forward and
 * forward+backward, on an L2/L3-sized tensor [64,32,32,32] (8 MB) and a
 * DRAM-sized one [256,64,64,64] (256 MB), one JSON line per (variant, size).
 *
 * Byte accounting (per element, float32):
 *   forward           reads x, writes y                       8 bytes
 *   backward          reads x (or y) and dy, writes dx       12 bytes
 *   forward+backward  the two                                20 bytes
 *   copy              reads x, writes a second buffer          8 bytes
 * GB/s = bytes / median time (1 GB = 1e9 bytes). Write-allocate traffic and
 * the kernel's choice of reading x and/or y are not counted: the numbers are
 * what a fused kernel must move at least.
 *
 * Every repetition times, back to back on the same buffers: a copy (memcpy
 * and a plain loop, each split over the threads), the forward, and the
 * backward right after it; fwd+bwd of a repetition is forward + backward.
 * Medians are over the same repetitions for copy and kernels, so both see
 * the same machine conditions.
 *
 * Shared machines: on 2 cores, any other runnable process preempts one of
 * the two OpenMP threads and the other waits for it at the region's end, so
 * a 0.3 ms kernel takes a scheduler time slice (~8 ms). Each repetition
 * therefore counts the process's involuntary context switches
 * (getrusage ru_nivcsw); a repetition is clean with at most one per 50 ms of
 * its duration (none for the small size). When at least 3 and at least a
 * third of the repetitions are clean, the reported medians are over those
 * ("stat": "clean"), otherwise over all ("stat": "all"). all_*_gbs are
 * always over all repetitions, best_*_gbs the fastest one.
 *
 * Variants: each entry's default spec; entries with parameters at
 * per=layer and per=channel; gelu also at approximate=tanh; rrelu in
 * evaluation (train=0, the PyTorch comparison) and in training (train=1,
 * slopes drawn from the RNG). Everything else runs with train=0.
 *
 * Build (bench/run_act.sh does this; same flags as the Makefile):
 *   gcc -std=c11 -D_POSIX_C_SOURCE=200809L -O3 -march=native -fopenmp \
 *       -fno-math-errno -fno-trapping-math -ffp-contract=off -Iinclude -Isrc \
 *       bench/act_bench.c build/release/libactlab.a -lopenblas -llapacke \
 *       -linih -lsqlite3 -lz -lm -lpthread
 * Usage: act_bench [--threads N] [--reps R] [--reps-dram R] [--warmup W]
 *                  [--max-seconds S] [--only NAME[,NAME...]]
 *                  [--sizes small|dram|both] [--list] [--help]
 * Defaults: 2 threads, up to 30 repetitions (small) and 5 (DRAM) but no
 * more than S = 3 seconds of them per variant and size (at least 3), after
 * 2 warm-up repetitions (at most 1 at the DRAM size). --list prints
 * "entry key" per variant.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "actlab/act.h"
#include "actlab/core.h"

#define MAXV 128

typedef struct {
	char key[96];  /* "prelu:per=channel", "gelu:approximate=tanh", "rrelu[train]" */
	char spec[96]; /* what al_act_parse gets */
	const char *entry;
	int train;
} variant;

typedef struct {
	const char *name; /* "small" | "dram" */
	int n, c, h, w;
} size_desc;

static const size_desc SIZES[2] = {
	{"small", 64, 32, 32, 32},  /* 2^21 floats = 8 MB */
	{"dram", 256, 64, 64, 64},  /* 2^26 floats = 256 MB */
};

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

static int nthreads_now(void)
{
#ifdef _OPENMP
	return omp_get_max_threads();
#else
	return 1;
#endif
}

/* Contiguous share t of T threads of [0, n), 16-float aligned. */
static void share(size_t n, int t, int T, size_t *i0, size_t *len)
{
	size_t per = (n / (size_t)T + 15) & ~(size_t)15;
	size_t a = per * (size_t)t, b = a + per;
	a = a < n ? a : n;
	b = b < n ? b : n;
	*i0 = a;
	*len = b - a;
}

static void copy_memcpy(size_t n, const float *x, float *y)
{
#pragma omp parallel
	{
		int t = 0, T = 1;
#ifdef _OPENMP
		t = omp_get_thread_num();
		T = omp_get_num_threads();
#endif
		size_t i0, len;
		share(n, t, T, &i0, &len);
		memcpy(y + i0, x + i0, len * sizeof *x);
	}
}

/* A plain copy loop: regular (temporal) vector stores like the activation
 * kernels. The attribute keeps GCC from turning the loop into memcpy. */
__attribute__((optimize("no-tree-loop-distribute-patterns"))) static void
copy_loop(size_t n, const float *restrict x, float *restrict y)
{
#pragma omp parallel for simd schedule(static)
	for (size_t i = 0; i < n; i++)
		y[i] = x[i];
}

static float *alloc_f(size_t n)
{
	float *p = al_malloc(n * sizeof(float));
	if (!p) {
		fprintf(stderr, "act_bench: out of memory (%zu floats)\n", n);
		exit(2);
	}
	return p;
}

/* Standard normal values, generated in parallel from per-block streams. */
static void fill_normal(float *v, size_t n, uint64_t seed)
{
	al_rng base;
	al_rng_seed(&base, seed);
	size_t nb = (n + 65535) / 65536;
#pragma omp parallel for schedule(static)
	for (size_t b = 0; b < nb; b++) {
		al_rng r = al_rng_derive(&base, b);
		size_t e = (b + 1) * 65536 < n ? (b + 1) * 65536 : n;
		for (size_t i = b * 65536; i < e; i++)
			v[i] = (float)al_rng_normal(&r);
	}
}

static int build_variants(variant *v)
{
	int nv = 0;
	for (int i = 0; i < al_act_count(); i++) {
		const al_act_desc *d = al_act_get(i);
		if (d->kind != AL_ACT_ELEMENT)
			continue;
		if (d->nparams == 0) {
			snprintf(v[nv].key, sizeof v[nv].key, "%s", d->name);
			snprintf(v[nv].spec, sizeof v[nv].spec, "%s", d->name);
			v[nv].entry = d->name;
			v[nv++].train = 0;
		} else {
			static const char *pers[2] = {"layer", "channel"};
			for (int k = 0; k < 2; k++) {
				snprintf(v[nv].key, sizeof v[nv].key, "%s:per=%s", d->name, pers[k]);
				snprintf(v[nv].spec, sizeof v[nv].spec, "%s:per=%s", d->name, pers[k]);
				v[nv].entry = d->name;
				v[nv++].train = 0;
			}
		}
		if (strcmp(d->name, "gelu") == 0) {
			snprintf(v[nv].key, sizeof v[nv].key, "gelu:approximate=tanh");
			snprintf(v[nv].spec, sizeof v[nv].spec, "gelu:approximate=tanh");
			v[nv].entry = d->name;
			v[nv++].train = 0;
		}
		if (d->stochastic) {
			snprintf(v[nv].key, sizeof v[nv].key, "%s[train]", d->name);
			snprintf(v[nv].spec, sizeof v[nv].spec, "%s", d->name);
			v[nv].entry = d->name;
			v[nv++].train = 1;
		}
		if (nv + 4 > MAXV)
			break;
	}
	return nv;
}

/* --only: comma-separated entry names or variant keys. */
static int selected(const variant *v, const char *only)
{
	if (!only)
		return 1;
	char buf[1024];
	snprintf(buf, sizeof buf, "%s", only);
	for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ","))
		if (strcmp(tok, v->entry) == 0 || strcmp(tok, v->key) == 0)
			return 1;
	return 0;
}

typedef struct {
	float *x, *y, *dy, *dx, *cp;
} bufs;

typedef struct {
	double c_m, c_l, f, b, fb; /* copy (memcpy), copy (loop), fwd, bwd, fwd+bwd seconds */
	long csw;                  /* involuntary context switches during the repetition */
} rep_t;

typedef struct {
	double c_m, c_l, f, b, fb;  /* medians */
	double best_c, best_f, best_fb;
	long csw;                   /* total over the repetitions used */
} stats;

/* Involuntary context switches of the whole process (all threads) so far. */
static long nivcsw(void)
{
	struct rusage u;
	getrusage(RUSAGE_SELF, &u);
	return u.ru_nivcsw;
}

static const char *loadavg(void)
{
	static char buf[64];
	FILE *f = fopen("/proc/loadavg", "r");
	buf[0] = 0;
	if (f) {
		if (!fgets(buf, sizeof buf, f))
			buf[0] = 0;
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = 0;
	return buf;
}

/* A repetition is clean when it was preempted at most once per 50 ms: a quiet
 * machine preempts a long repetition now and then for microseconds (kernel
 * threads), a busy one every few milliseconds for a whole time slice. */
static int rep_clean(const rep_t *r)
{
	double t = r->c_m + r->c_l + r->fb;
	return (double)r->csw * 0.05 <= t;
}

/* Medians over all repetitions (clean_only = 0) or over the clean ones
 * (clean_only = 1); returns how many repetitions were used. */
static int rep_stats(const rep_t *R, int nr, int clean_only, stats *out)
{
	double *v[5];
	int m = 0;
	for (int k = 0; k < 5; k++)
		v[k] = malloc(sizeof(double) * (size_t)(nr > 0 ? nr : 1));
	memset(out, 0, sizeof *out);
	for (int i = 0; i < nr; i++) {
		out->csw += R[i].csw;
		if (clean_only && !rep_clean(&R[i]))
			continue;
		v[0][m] = R[i].c_m;
		v[1][m] = R[i].c_l;
		v[2][m] = R[i].f;
		v[3][m] = R[i].b;
		v[4][m] = R[i].fb;
		m++;
	}
	if (m > 0) {
		out->c_m = median(v[0], m);
		out->c_l = median(v[1], m);
		out->f = median(v[2], m);
		out->b = median(v[3], m);
		out->fb = median(v[4], m);
		/* median() sorted: [0] is the fastest */
		out->best_c = fmin(v[0][0], v[1][0]);
		out->best_f = v[2][0];
		out->best_fb = v[4][0];
	}
	for (int k = 0; k < 5; k++)
		free(v[k]);
	return m;
}

static void run_variant(const variant *v, const size_desc *sz, const bufs *B, int reps,
			int warmup, double max_sec, int threads)
{
	al_act_spec s;
	if (al_act_parse(v->spec, &s) != AL_OK) {
		fprintf(stderr, "act_bench: %s: %s\n", v->spec, al_errmsg());
		exit(2);
	}
	const int n = sz->n, c = sz->c, h = sz->h, w = sz->w;
	const size_t total = (size_t)n * c * h * w;
	int P = al_act_nparams(&s);
	size_t G = al_act_groups(&s, c, h, w);
	float *params = P ? alloc_f(G * (size_t)P) : NULL;
	float *dparams = P ? alloc_f(G * (size_t)P) : NULL;
	size_t ns = al_act_scratch_floats(&s, n, c, h, w);
	float *scratch = ns ? alloc_f(ns) : NULL;
	al_rng rng;
	al_rng_seed(&rng, 1234);
	if (P) {
		al_act_init_params(&s, params, G, &rng);
		memset(dparams, 0, G * (size_t)P * sizeof(float));
	}
	al_rng *rp = v->train ? &rng : NULL;

	rep_t *R = malloc(sizeof(rep_t) * (size_t)reps);
	int nr = 0;
	double t_begin = al_now();
	for (int r = -warmup; r < reps; r++) {
		long c0 = nivcsw();
		double t0 = al_now();
		copy_memcpy(total, B->x, B->cp);
		double t1 = al_now();
		copy_loop(total, B->x, B->cp);
		double t2 = al_now();
		al_act_forward(&s, params, n, c, h, w, B->x, B->y, v->train, rp);
		double t3 = al_now();
		al_act_backward(&s, params, n, c, h, w, B->x, B->y, B->dy, B->dx, dparams, scratch,
				v->train, rp);
		double t4 = al_now();
		long c1 = nivcsw();
		if (r < 0)
			continue;
		R[nr++] = (rep_t){t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t2, c1 - c0};
		if (nr >= 3 && al_now() - t_begin > max_sec)
			break; /* time budget spent: at least 3 repetitions */
	}
	/* keep the results observable */
	volatile float sink = B->y[total / 3] + B->dx[total / 5] + B->cp[total / 7];
	(void)sink;
	stats all, clean;
	rep_stats(R, nr, 0, &all);
	int nclean = rep_stats(R, nr, 1, &clean);
	/* Repetitions during which a thread of ours was preempted (involuntary
	 * context switch) measure the other processes on the machine; use the
	 * median of the others when there are enough of them. */
	int use_clean = nclean >= 3 && 3 * nclean >= nr;
	const stats *S = use_clean ? &clean : &all;
	double nb = (double)total;
	printf("{\"impl\": \"actlab\", \"key\": \"%s\", \"entry\": \"%s\", \"spec\": \"%s\", "
	       "\"train\": %d, \"size\": \"%s\", \"shape\": [%d, %d, %d, %d], \"elements\": %zu, "
	       "\"threads\": %d, \"reps\": %d, \"clean_reps\": %d, \"stat\": \"%s\", "
	       "\"preemptions\": %ld, "
	       "\"bytes_fwd\": %.0f, \"bytes_bwd\": %.0f, \"bytes_fwdbwd\": %.0f, "
	       "\"t_copy_memcpy_ms\": %.4f, \"t_copy_loop_ms\": %.4f, \"t_fwd_ms\": %.4f, "
	       "\"t_bwd_ms\": %.4f, \"t_fwdbwd_ms\": %.4f, "
	       "\"copy_memcpy_gbs\": %.3f, \"copy_loop_gbs\": %.3f, \"copy_gbs\": %.3f, "
	       "\"fwd_gbs\": %.3f, \"bwd_gbs\": %.3f, \"fwdbwd_gbs\": %.3f, "
	       "\"all_copy_gbs\": %.3f, \"all_fwd_gbs\": %.3f, \"all_fwdbwd_gbs\": %.3f, "
	       "\"best_copy_gbs\": %.3f, \"best_fwd_gbs\": %.3f, \"best_fwdbwd_gbs\": %.3f, "
	       "\"loadavg\": \"%s\"}\n",
	       v->key, v->entry, s.text, v->train, sz->name, n, c, h, w, total, threads, nr, nclean,
	       use_clean ? "clean" : "all", all.csw, 8 * nb, 12 * nb, 20 * nb, S->c_m * 1e3,
	       S->c_l * 1e3, S->f * 1e3, S->b * 1e3, S->fb * 1e3, 8 * nb / S->c_m / 1e9,
	       8 * nb / S->c_l / 1e9, 8 * nb / fmin(S->c_m, S->c_l) / 1e9, 8 * nb / S->f / 1e9,
	       12 * nb / S->b / 1e9, 20 * nb / S->fb / 1e9, 8 * nb / fmin(all.c_m, all.c_l) / 1e9,
	       8 * nb / all.f / 1e9, 20 * nb / all.fb / 1e9, 8 * nb / all.best_c / 1e9,
	       8 * nb / all.best_f / 1e9, 20 * nb / all.best_fb / 1e9, loadavg());
	fflush(stdout);
	free(R);
	al_free(params);
	al_free(dparams);
	al_free(scratch);
}

static void usage(int status)
{
	fprintf(status ? stderr : stdout, "usage: act_bench [--threads N] [--reps R] [--reps-dram R] [--warmup W]\n"
			"                 [--max-seconds S] [--only NAME[,NAME...]]\n"
			"                 [--sizes small|dram|both] [--list]\n");
	exit(status);
}

int main(int argc, char **argv)
{
	int threads = 2, reps = 30, reps_dram = 5, warmup = 2, list = 0;
	double max_sec = 3;
	const char *only = NULL, *sizes = "both";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
			usage(0);
		if (strcmp(a, "--list") == 0) {
			list = 1;
			continue;
		}
		if (!val)
			usage(2);
		if (strcmp(a, "--threads") == 0)
			threads = atoi(val);
		else if (strcmp(a, "--reps") == 0)
			reps = atoi(val);
		else if (strcmp(a, "--reps-dram") == 0)
			reps_dram = atoi(val);
		else if (strcmp(a, "--max-seconds") == 0)
			max_sec = atof(val);
		else if (strcmp(a, "--warmup") == 0)
			warmup = atoi(val);
		else if (strcmp(a, "--only") == 0)
			only = val;
		else if (strcmp(a, "--sizes") == 0)
			sizes = val;
		else
			usage(2);
		i++;
	}
	if (threads < 1 || reps < 1 || reps_dram < 1 || warmup < 0 || !(max_sec > 0))
		usage(2);
	int do_small = strcmp(sizes, "small") == 0 || strcmp(sizes, "both") == 0;
	int do_dram = strcmp(sizes, "dram") == 0 || strcmp(sizes, "both") == 0;
	if (!do_small && !do_dram)
		usage(2);

	static variant V[MAXV];
	int nv = build_variants(V);
	if (list) {
		for (int i = 0; i < nv; i++)
			printf("%s %s\n", V[i].entry, V[i].key);
		return 0;
	}
	int any = 0;
	for (int i = 0; i < nv; i++)
		any |= selected(&V[i], only);
	if (!any) {
		fprintf(stderr, "act_bench: --only %s matches no element-wise entry\n", only);
		return 2;
	}
	al_set_threads(threads);
	threads = nthreads_now();

	for (int si = 0; si < 2; si++) {
		if ((si == 0 && !do_small) || (si == 1 && !do_dram))
			continue;
		const size_desc *sz = &SIZES[si];
		size_t total = (size_t)sz->n * sz->c * sz->h * sz->w;
		bufs B = {alloc_f(total), alloc_f(total), alloc_f(total), alloc_f(total),
			  alloc_f(total)};
		fill_normal(B.x, total, 1);
		fill_normal(B.dy, total, 2);
		copy_loop(total, B.x, B.y); /* first touch of every page, in parallel */
		copy_loop(total, B.x, B.dx);
		copy_loop(total, B.x, B.cp);
		for (int i = 0; i < nv; i++)
			if (selected(&V[i], only))
				run_variant(&V[i], sz, &B, si == 0 ? reps : reps_dram,
					    si == 0 || warmup < 1 ? warmup : 1, max_sec, threads);
		al_free(B.x);
		al_free(B.y);
		al_free(B.dy);
		al_free(B.dx);
		al_free(B.cp);
	}
	return 0;
}
