/* test_learned_runs.c — the run kernels of the learned entries (the
 * per=layer and per=channel paths of learned_driver.h, vectorised for
 * adact, pau, lut and apl): on long runs that cross the driver's block and
 * flush boundaries and end in partial vectors, y and dx equal the block
 * kernels' (per=neuron with the same parameters in every neuron) bit for
 * bit (any NaN matching any NaN), including hinges, bin edges, signed
 * zeros, huge values, infinities and NaN; parameter gradients match the
 * double reference; results do not depend on the thread count. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act/learned.h"
#include "actlab/act.h"
#include "actlab/core.h"
#include "test.h"

static const char *run_specs[] = {
	"adact",
	"adact:init=leaky_relu,slope=0.1",
	"adact:ns=3,lo=-1,hi=1",
	"adact:ns=17,lo=-2.5,hi=3.1,zero=any", /* the pwl distillation form */
	"adact:ns=33,lo=-3,hi=3",              /* 32 segments: two-register tables */
	"adact:ns=65,lo=-4,hi=4",              /* 64: forward tables, block backward */
	"adact:ns=80,lo=-4,hi=4,zero=any",     /* beyond the tables */
	"pau",
	"pau:m=3,n=2,init=silu",
	"pau:m=7,n=6,init=tanh",
	"pau:m=4,n=4,init=tanh", /* forward degrees dispatched as constants */
	"pau:m=0,n=1",
	"pau:m=9,n=3,init=tanh", /* beyond the constant cases: run-time degrees */
	"lut",
	"lut:size=7,lo=-1,hi=2",
	"lut:size=40",
	"lut:size=128",
	"apl:per=channel",
	"apl:S=1",
	"apl:S=12,b_std=2",
	"bspline",
	"bspline:k=1,G=9",
	"bspline:k=5,G=4,lo=-1,hi=3",
	"bspline:G=30", /* beyond the vector path */
};

/* bit for bit, except that any two NaNs match (the sign and payload of a
 * NaN carry nothing, and unoptimised builds may flip the sign) */
static int same_bits(float a, float b) { return (a != a && b != b) || !memcmp(&a, &b, 4); }

static double urand(al_rng *r, double lo, double hi)
{
	return lo + (hi - lo) * (double)al_rng_uniform(r);
}

TEST(learned_runs_match_block_kernels)
{
	/* hw = 1763 (not a multiple of 16), 4 * 3 * 1763 = 21156 > one block */
	const int n = 4, c = 3, h = 41, w = 43;
	const size_t hw = (size_t)h * w, F = (size_t)c * hw, N = (size_t)n * F;
	float *x = malloc(N * 4), *dy = malloc(N * 4), *y1 = malloc(N * 4), *y2 = malloc(N * 4),
	      *dx1 = malloc(N * 4), *dx2 = malloc(N * 4);
	REQUIRE(x && dy && y1 && y2 && dx1 && dx2, "out of memory");
	for (size_t v = 0; v < sizeof run_specs / sizeof *run_specs; v++) {
		al_act_spec s, sn;
		REQUIRE_OK(al_act_parse(run_specs[v], &s));
		sn = s;
		const int P = al_act_nparams(&s);
		float *p = malloc((size_t)c * P * 4), *pn = malloc(F * P * 4),
		      *dp1 = calloc(F * P, 4), *dp2 = calloc(F * P, 4);
		double kk[256], *pd = malloc((size_t)P * 8), *g = malloc((size_t)P * 8),
				*acc = calloc((size_t)c * P, 8), *aabs = calloc((size_t)c * P, 8);
		REQUIRE(p && pn && dp1 && dp2 && pd && g && acc && aabs, "out of memory");
		al_rng r;
		al_rng_seed(&r, 40 + v);
		al_act_init_params(&s, p, (size_t)c, &r);
		for (int q = 0; q < c * P; q++)
			p[q] += (float)(urand(&r, -0.2, 0.2) * (fabs((double)p[q]) + 0.2));
		for (int per = 0; per < 2; per++) {
			s.per = per ? AL_PER_CHANNEL : AL_PER_LAYER;
			const size_t G = per ? (size_t)c : 1;
			/* inputs: the kinks of every group, their float neighbours,
			 * specials, and random values over a range wider than the grid */
			int nk = 0;
			for (size_t gi = 0; gi < G; gi++) {
				for (int k = 0; k < P; k++)
					pd[k] = p[gi * P + k];
				nk += al_ln_kinks(&s, pd, kk + nk, (256 - nk) / (int)G);
			}
			const float sp[] = {0.0f, -0.0f, 1e30f, -1e30f, INFINITY, -INFINITY, NAN, 1e-30f};
			for (size_t e = 0; e < N; e++) {
				size_t q = e % 97;
				double lo = s.desc->check_lo - 2, hi = s.desc->check_hi + 2;
				if (q < 8)
					x[e] = sp[q];
				else if (q < 20 && nk > 0) {
					float k = (float)kk[(e / 97 + q) % (size_t)nk];
					x[e] = q % 3 == 0 ? k : nextafterf(k, q % 3 == 1 ? INFINITY : -INFINITY);
				} else
					x[e] = (float)urand(&r, lo, hi);
				dy[e] = (float)urand(&r, -1, 1);
			}
			/* the same parameters in every neuron: the block kernels */
			for (size_t f = 0; f < F; f++)
				memcpy(pn + f * P, p + (per ? f / hw : 0) * P, (size_t)P * 4);
			sn.per = AL_PER_NEURON;
			float *sc = calloc(al_act_scratch_floats(&s, n, c, h, w) + 1, 4);
			REQUIRE(sc, "out of memory");
			memset(dp1, 0, G * P * 4);
			memset(dp2, 0, F * P * 4);
			al_act_forward(&s, p, n, c, h, w, x, y1, 1, &r);
			al_act_backward(&s, p, n, c, h, w, x, y1, dy, dx1, dp1, sc, 1, &r);
			al_act_forward(&sn, pn, n, (int)F, 1, 1, x, y2, 1, &r);
			al_act_backward(&sn, pn, n, (int)F, 1, 1, x, y2, dy, dx2, dp2, NULL, 1, &r);
			size_t bad = N;
			for (size_t e = 0; e < N && bad == N; e++)
				if (!same_bits(y1[e], y2[e]) || !same_bits(dx1[e], dx2[e]))
					bad = e;
			CHECK(bad == N, "%s per=%s: x=%.9g: y %.9g dx %.9g, block kernels %.9g %.9g",
			      run_specs[v], per ? "channel" : "layer", (double)x[bad % N],
			      (double)y1[bad % N], (double)dx1[bad % N], (double)y2[bad % N],
			      (double)dx2[bad % N]);
			/* parameter gradients against the double reference, without
			 * the specials and the inputs within 1e-3 of a kink (their
			 * float and double segments may legitimately differ) */
			for (size_t e = 0; e < N; e++) {
				int near = e % 97 < 20 || !isfinite(x[e]);
				for (int k = 0; k < nk && !near; k++)
					near = fabs((double)x[e] - kk[k]) < 1e-3;
				if (near)
					dy[e] = 0;
			}
			for (size_t q = 0; q < G * P; q++)
				acc[q] = aabs[q] = 0;
			for (size_t e = 0; e < N; e++) {
				if (dy[e] == 0)
					continue;
				size_t gi = per ? e % F / hw : 0;
				for (int k = 0; k < P; k++)
					pd[k] = p[gi * P + k];
				double rdx;
				s.desc->ref(s.hyper, pd, (double)x[e], &rdx, g);
				for (int k = 0; k < P; k++) {
					acc[gi * P + k] += (double)dy[e] * g[k];
					aabs[gi * P + k] += fabs((double)dy[e] * g[k]);
				}
			}
			memset(dp1, 0, G * P * 4);
			al_act_backward(&s, p, n, c, h, w, x, y1, dy, dx1, dp1, sc, 1, &r);
			double worst = 0;
			size_t wq = 0;
			for (size_t q = 0; q < G * P; q++) {
				double err = fabs((double)dp1[q] - acc[q]) / (aabs[q] + 1e-3);
				if (err > worst)
					worst = err, wq = q;
			}
			CHECK(worst < 1e-5, "%s per=%s: d/dp%zu float %.9g, reference %.9g (sum |.| %.3g)",
			      run_specs[v], per ? "channel" : "layer", wq % P, (double)dp1[wq], acc[wq],
			      aabs[wq]);
			free(sc);
		}
		free(p);
		free(pn);
		free(dp1);
		free(dp2);
		free(pd);
		free(g);
		free(acc);
		free(aabs);
	}
	free(x);
	free(dy);
	free(y1);
	free(y2);
	free(dx1);
	free(dx2);
}

/* The free grid's forward (zero=any, the pwl distillation form) takes the
 * segment from the float estimate alone and one fused multiply-add per
 * element: at every hinge, its float neighbours, far outside the grid and
 * at random points it equals the double reference up to rounding (the
 * function is continuous, so a hinge input may take either segment), at
 * per=layer, per=channel and per=neuron, inside and beyond the register
 * tables (per=neuron: the units path's 16 x 16 tiles and the block kernel
 * for the units and samples left over). */
TEST(learned_adact_free_grid_forward)
{
	static const char *specs[] = {
		"adact:ns=17,lo=-2.5,hi=3.1,zero=any",
		"adact:ns=6,lo=-1.3,hi=2.9,zero=any",
		"adact:ns=33,lo=-3,hi=3,zero=any",
		"adact:ns=50,lo=-0.7,hi=0.9,zero=any",
		"adact:ns=80,lo=-4,hi=4,zero=any",
	};
	/* 19 samples: one tile of 16 and 3 left over; F = 90 units: blocks of
	 * 64 and 26 units, i.e. 5 tiles of 16 and 10 units left over */
	const int n = 19, c = 2, h = 5, w = 9;
	const size_t hw = (size_t)h * w, F = (size_t)c * hw, N = (size_t)n * F;
	float *x = malloc(N * 4), *y = malloc(N * 4);
	REQUIRE(x && y, "out of memory");
	for (size_t v = 0; v < sizeof specs / sizeof *specs; v++) {
		al_act_spec s;
		REQUIRE_OK(al_act_parse(specs[v], &s));
		const int P = al_act_nparams(&s);
		float *p = malloc(F * P * 4);
		double *pd = malloc((size_t)P * 8), *g = malloc((size_t)P * 8), kk[128];
		REQUIRE(p && pd && g, "out of memory");
		al_rng r;
		al_rng_seed(&r, 90 + v);
		for (size_t q = 0; q < F * P; q++)
			p[q] = (float)urand(&r, -2, 2);
		for (int per = 0; per < 3; per++) {
			s.per = per == 0 ? AL_PER_LAYER : per == 1 ? AL_PER_CHANNEL : AL_PER_NEURON;
			for (int k = 0; k < P; k++)
				pd[k] = p[k];
			const int nk = al_ln_kinks(&s, pd, kk, 128); /* the hinges */
			for (size_t e = 0; e < N; e++) {
				size_t q = e % 11;
				float k = (float)kk[(e / 11) % (size_t)nk];
				if (q < 6)
					x[e] = q == 0 ? k : nextafterf(k, q % 2 ? INFINITY : -INFINITY);
				else if (q == 6)
					x[e] = (float)urand(&r, -1e6, 1e6);
				else
					x[e] = (float)urand(&r, kk[0] - 2, kk[nk - 1] + 2);
			}
			if (per == 2)
				al_act_forward(&s, p, n, (int)F, 1, 1, x, y, 0, &r);
			else
				al_act_forward(&s, p, n, c, h, w, x, y, 0, &r);
			double worst = 0;
			size_t we = 0;
			for (size_t e = 0; e < N; e++) {
				size_t gi = per == 0 ? 0 : per == 1 ? e % F / hw : e % F;
				double amax = 0, smax = 0, dfdx;
				for (int k = 0; k < P; k++) {
					pd[k] = p[gi * P + k];
					amax = fmax(amax, fabs(pd[k]));
				}
				for (int k = 1; k < nk; k++)
					smax = fmax(smax, fabs(pd[k] - pd[k - 1]) / (kk[k] - kk[k - 1]));
				double ref = s.desc->ref(s.hyper, pd, (double)x[e], &dfdx, g);
				double scale =
					amax + smax * (fabs((double)x[e]) + fabs(kk[0]) + fabs(kk[nk - 1]));
				double err = fabs((double)y[e] - ref) / scale;
				if (err > worst)
					worst = err, we = e;
			}
			CHECK(worst < 4 * (double)FLT_EPSILON,
			      "%s per=%d: x=%.9g: y %.9g, scaled error %.3g against the reference",
			      specs[v], per, (double)x[we], (double)y[we], worst);
		}
		free(p);
		free(pd);
		free(g);
	}
	free(x);
	free(y);
}

/* The per-neuron unit paths (16 x 16 tiles for adact zero=any and lut, 16
 * units per register for pau) against the run kernels: per=neuron with each
 * channel's values in all its neurons equals per=channel bit for bit, on
 * 19 samples (a tile and 3 left over) of 90 units (blocks of 64 and 26:
 * tiles and 10 units left over), with kinks, bin edges and specials. */
TEST(learned_units_paths_match_runs)
{
	static const char *specs[] = {
		"adact:ns=17,lo=-2.5,hi=3.1,zero=any", "adact:ns=6,lo=-1.3,hi=2.9,zero=any",
		"lut",	 "lut:size=7,lo=-1,hi=2",	"lut:size=40", "lut:size=64,lo=-3,hi=2",
		"lut:size=65", "pau",	 "pau:m=3,n=2,init=silu",	"pau:m=2,n=1",
	};
	const int n = 19, c = 2, h = 5, w = 9;
	const size_t hw = (size_t)h * w, F = (size_t)c * hw, N = (size_t)n * F;
	float *x = malloc(N * 4), *y = malloc(N * 4), *yc = malloc(N * 4);
	REQUIRE(x && y && yc, "out of memory");
	for (size_t v = 0; v < sizeof specs / sizeof *specs; v++) {
		al_act_spec s;
		REQUIRE_OK(al_act_parse(specs[v], &s));
		const int P = al_act_nparams(&s);
		float *p = malloc((size_t)c * P * 4), *pn = malloc(F * P * 4);
		double pd[128], kk[256];
		REQUIRE(p && pn, "out of memory");
		al_rng r;
		al_rng_seed(&r, 70 + v);
		al_act_init_params(&s, p, (size_t)c, &r);
		for (int q = 0; q < c * P; q++)
			p[q] += (float)(urand(&r, -0.2, 0.2) * (fabs((double)p[q]) + 0.2));
		for (int k = 0; k < P; k++)
			pd[k] = p[k];
		s.per = AL_PER_CHANNEL;
		const int nk = al_ln_kinks(&s, pd, kk, 256);
		const float sp[] = {0.0f, -0.0f, 1e30f, -1e30f, INFINITY, -INFINITY, NAN, 1e-30f};
		for (size_t e = 0; e < N; e++) {
			size_t q = e % 29;
			if (q < 8)
				x[e] = sp[q];
			else if (q < 16 && nk > 0) {
				float k = (float)kk[(e / 29 + q) % (size_t)nk];
				x[e] = q % 3 == 0 ? k : nextafterf(k, q % 3 == 1 ? INFINITY : -INFINITY);
			} else
				x[e] = (float)urand(&r, s.desc->check_lo - 2, s.desc->check_hi + 2);
		}
		for (size_t f = 0; f < F; f++)
			memcpy(pn + f * P, p + f / hw * P, (size_t)P * 4);
		al_act_forward(&s, p, n, c, h, w, x, yc, 0, &r);
		s.per = AL_PER_NEURON;
		al_act_forward(&s, pn, n, (int)F, 1, 1, x, y, 0, &r);
		size_t bad = N;
		for (size_t e = 0; e < N && bad == N; e++)
			if (!same_bits(y[e], yc[e]))
				bad = e;
		CHECK(bad == N, "%s: per=neuron %.9g, per=channel %.9g at element %zu (x=%.9g)",
		      specs[v], (double)y[bad % N], (double)yc[bad % N], bad, (double)x[bad % N]);
		free(p);
		free(pn);
	}
	free(x);
	free(y);
	free(yc);
}

TEST(learned_runs_threads_bitwise)
{
	const int n = 6, c = 5, h = 17, w = 29;
	const size_t N = (size_t)n * c * h * w;
	float *x = malloc(N * 4), *dy = malloc(N * 4), *y1 = malloc(N * 4), *y2 = malloc(N * 4),
	      *dx1 = malloc(N * 4), *dx2 = malloc(N * 4);
	REQUIRE(x && dy && y1 && y2 && dx1 && dx2, "out of memory");
	al_rng r;
	al_rng_seed(&r, 77);
	for (size_t e = 0; e < N; e++) {
		x[e] = (float)urand(&r, -5, 5);
		dy[e] = (float)urand(&r, -1, 1);
	}
	for (size_t v = 0; v < sizeof run_specs / sizeof *run_specs; v++)
		for (int per = 0; per < 2; per++) {
			al_act_spec s;
			REQUIRE_OK(al_act_parse(run_specs[v], &s));
			s.per = per ? AL_PER_CHANNEL : AL_PER_LAYER;
			size_t G = al_act_groups(&s, c, h, w), P = (size_t)al_act_nparams(&s);
			float *p = malloc(G * P * 4), *dp1 = calloc(G * P, 4), *dp2 = calloc(G * P, 4),
			      *sc = calloc(al_act_scratch_floats(&s, n, c, h, w) + 1, 4);
			REQUIRE(p && dp1 && dp2 && sc, "out of memory");
			al_act_init_params(&s, p, G, &r);
			for (size_t q = 0; q < G * P; q++)
				p[q] += (float)urand(&r, -0.1, 0.1);
			al_set_threads(1);
			al_act_forward(&s, p, n, c, h, w, x, y1, 1, &r);
			al_act_backward(&s, p, n, c, h, w, x, y1, dy, dx1, dp1, sc, 1, &r);
			al_set_threads(2);
			al_act_forward(&s, p, n, c, h, w, x, y2, 1, &r);
			al_act_backward(&s, p, n, c, h, w, x, y2, dy, dx2, dp2, sc, 1, &r);
			CHECK(!memcmp(y1, y2, N * 4) && !memcmp(dx1, dx2, N * 4) &&
				      !memcmp(dp1, dp2, G * P * 4),
			      "%s per=%s: 1 and 2 threads differ", run_specs[v],
			      per ? "channel" : "layer");
			free(p);
			free(dp1);
			free(dp2);
			free(sc);
		}
	free(x);
	free(dy);
	free(y1);
	free(y2);
	free(dx1);
	free(dx2);
}

/* pau's forward arithmetic, pinned: in every granularity (run kernels,
 * per-neuron units, block kernels) y = P(x) / fmaf(|W(x)|, |x|, 1) with
 * P and W = B / x by fused Horner steps, bit for bit; and against the double
 * reference within the a-priori bound of that evaluation (u = 2^-24):
 * |y - y_ref| <= 4u ((m + 1) sum |a_j x^j| + (n + 1) |y| sum |b_k x^k|) / D
 * + 4u |y|, D = 1 + |B(x)| (the Horner error terms with a factor 2 to
 * spare). A reciprocal estimate without its Newton step (2^-14 relative)
 * or a denominator rounded twice fails it. */
TEST(learned_pau_forward_arithmetic)
{
	static const char *specs[] = {"pau", "pau:m=4,n=4,init=tanh", "pau:m=3,n=2,init=silu",
				      "pau:m=0,n=1", "pau:m=9,n=3,init=tanh"};
	const int n = 3, c = 5, h = 7, w = 9; /* hw = 63: partial vectors; F = 315 units */
	const size_t hw = (size_t)h * w, F = (size_t)c * hw, N = (size_t)n * F;
	float *x = malloc(N * 4), *y = malloc(N * 4);
	REQUIRE(x && y, "out of memory");
	al_rng r;
	al_rng_seed(&r, 77);
	const float sp[] = {0.0f, -0.0f, 1e-30f, -1e-30f, 1e-6f, 8.0f, -8.0f};
	for (size_t e = 0; e < N; e++)
		x[e] = e % 41 < 7 ? sp[e % 41] : (float)urand(&r, -4, 4);
	for (size_t v = 0; v < sizeof specs / sizeof *specs; v++)
		for (int per = 0; per < 3; per++) {
			al_act_spec s;
			REQUIRE_OK(al_act_parse(specs[v], &s));
			s.per = (al_per)per;
			const int m = (int)s.hyper[0], nd = (int)s.hyper[1];
			const size_t P = (size_t)al_act_nparams(&s), G = al_act_groups(&s, c, h, w);
			REQUIRE(P == (size_t)(m + 1 + nd), "%s: %zu parameters", specs[v], P);
			float *p = malloc(G * P * 4);
			REQUIRE(p, "out of memory");
			al_act_init_params(&s, p, G, &r);
			for (size_t q = 0; q < G * P; q++)
				p[q] += (float)(urand(&r, -0.2, 0.2) * (fabs((double)p[q]) + 0.2));
			al_act_forward(&s, p, n, c, h, w, x, y, 2, &r);
			size_t bad = N, far = N;
			double worst = 0;
			float wbad = 0;
			for (size_t e = 0; e < N; e++) {
				const size_t f = e % F,
					     g = per == AL_PER_LAYER ? 0 : per == AL_PER_CHANNEL ? f / hw : f;
				const float *pg = p + g * P, xe = x[e];
				float u = pg[m], wv = pg[m + nd];
				for (int j = m - 1; j >= 0; j--)
					u = fmaf(u, xe, pg[j]);
				for (int k = nd - 1; k >= 1; k--)
					wv = fmaf(wv, xe, pg[m + k]);
				const float want = u / fmaf(fabsf(wv), fabsf(xe), 1.0f);
				if (bad == N && !same_bits(y[e], want)) {
					bad = e;
					wbad = want;
				}
				double pd[32], gd[32], d, pa = 0, ba = 0, xp = 1;
				for (size_t k = 0; k < P; k++)
					pd[k] = pg[k];
				const double yr = s.desc->ref(s.hyper, pd, xe, &d, gd);
				for (int j = 0; j <= m; j++, xp *= fabs((double)xe))
					pa += fabs(pd[j]) * xp;
				xp = fabs((double)xe);
				for (int k = 1; k <= nd; k++, xp *= fabs((double)xe))
					ba += fabs(pd[m + k]) * xp;
				const double u24 = ldexp(1, -24);
				double den = 1, bx = 0;
				xp = xe;
				for (int k = 1; k <= nd; k++, xp *= (double)xe)
					bx += pd[m + k] * xp;
				den += fabs(bx);
				const double bound = 4 * u24 * ((m + 1) * pa + (nd + 1) * fabs(yr) * ba) / den +
						     4 * u24 * fabs(yr);
				const double err = fabs((double)y[e] - yr);
				if (err / bound > worst) {
					worst = err / bound;
					far = e;
				}
			}
			CHECK(bad == N, "%s per=%d: x=%.9g: y %.9g, fused Horner and fmaf denominator %.9g",
			      specs[v], per, (double)x[bad % N], (double)y[bad % N], (double)wbad);
			CHECK(worst <= 1, "%s per=%d: x=%.9g: error %.3g of the bound", specs[v], per,
			      (double)x[far % N], worst);
			free(p);
		}
	free(x);
	free(y);
}
