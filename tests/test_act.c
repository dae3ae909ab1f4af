/* test_act.c — table-driven checks of every activation catalog entry:
 * finite differences of the double reference (input and every parameter,
 * at default and random parameters, kink-aware), float kernels against the
 * reference on odd lengths for shared and per-element parameters, the
 * layer-level forward/backward in every granularity, NaN/Inf policy, and the
 * spec parser. A new catalog row is covered without new test code. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/act.h"
#include "test.h"

static double urand(al_rng *r, double lo, double hi)
{
	return lo + (hi - lo) * (double)al_rng_uniform(r);
}

static void random_params(const al_act_spec *s, al_rng *r, double *p)
{
	al_act_random_params(s, r, p);
}

TEST(act_gradcheck_all)
{
	for (int i = 0; i < al_act_count(); i++) {
		const al_act_desc *d = al_act_get(i);
		if (d->kind != AL_ACT_ELEMENT)
			continue;
		al_act_spec s;
		REQUIRE_OK(al_act_parse(d->name, &s));
		for (int random = 0; random < 2; random++) {
			al_gradcheck_result g;
			REQUIRE_OK(al_act_gradcheck(&s, random, 11 + (uint64_t)i, 200, &g));
			CHECK(g.worst < 1e-6, "%s (%s params): worst relative error %.3g at %s", d->name,
			      random ? "random" : "default", g.worst, g.worst_at);
			CHECK(g.kernel_err < 1e-4, "%s: float kernel error %.3g at %s", d->name,
			      g.kernel_err, g.kernel_at);
			CHECK(g.points > 150, "%s: only %d points checked", d->name, g.points);
		}
	}
}

/* Compares float kernels to the double reference over odd lengths, for
 * shared (pstride 0) and per-element (pstride P) parameters. */
TEST(act_kernel_vs_reference)
{
	static const size_t lens[] = {1, 7, 33, 1001};
	al_rng r;
	al_rng_seed(&r, 12);
	for (int i = 0; i < al_act_count(); i++) {
		const al_act_desc *d = al_act_get(i);
		if (d->kind != AL_ACT_ELEMENT || d->stochastic)
			continue;
		al_act_spec s;
		REQUIRE_OK(al_act_parse(d->name, &s));
		int P = d->nparams;
		for (size_t li = 0; li < 4; li++) {
			size_t n = lens[li];
			for (int per_elem = 0; per_elem < 2; per_elem++) {
				if (per_elem && P == 0)
					continue;
				size_t G = per_elem ? n : 1;
				float *x = malloc(n * 4), *y = malloc(n * 4), *dy = malloc(n * 4),
				      *dx = malloc(n * 4);
				float *pf = malloc((G * (size_t)P + 1) * 4),
				      *dpf = calloc(G * (size_t)P + 1, 4);
				double *pd = malloc((G * (size_t)P + 1) * 8);
				for (size_t g = 0; g < G; g++) {
					double tmp[AL_ACT_MAXP];
					random_params(&s, &r, tmp);
					for (int k = 0; k < P; k++) {
						pf[g * (size_t)P + (size_t)k] = (float)tmp[k];
						pd[g * (size_t)P + (size_t)k] = (double)(float)tmp[k];
					}
				}
				for (size_t j = 0; j < n; j++) {
					x[j] = (float)urand(&r, d->check_lo * 1.5, d->check_hi * 1.5);
					dy[j] = (float)urand(&r, -1, 1);
				}
				al_act_args a = {.h = s.hyper, .pstride = per_elem ? (size_t)P : 0};
				float *dpp[AL_ACT_MAXP];
				for (int k = 0; k < P; k++) {
					a.p[k] = pf + k;
					dpp[k] = dpf + k;
				}
				d->fwd(&a, n, x, y);
				d->bwd(&a, n, x, y, dy, dx, dpp);
				double dsum[AL_ACT_MAXP] = {0}, dabs[AL_ACT_MAXP] = {0};
				int bad = 0;
				for (size_t j = 0; j < n; j++) {
					const double *pj = pd + (per_elem ? j * (size_t)P : 0);
					double rdx, rdp[AL_ACT_MAXP];
					double ry = d->ref(s.hyper, pj, (double)x[j], &rdx, rdp);
					/* relative 1e-5 (y) and 1e-4 (dx), with an absolute
					 * floor of 1e-7 (1 + |x|): the far tail of the
					 * GELU family, x*(1 + erf(x)) with 1 + erf(x) below
					 * an ulp of 1, is float noise (as in PyTorch) */
					double fl = 1e-7 * (1 + fabs((double)x[j]));
					double ey = fabs((double)y[j] - ry) - fl;
					double edx = fabs((double)dx[j] - rdx * (double)dy[j]) - fl;
					if (!bad && (ey > 1e-5 * fabs(ry) ||
						     edx > 1e-4 * fabs(rdx * (double)dy[j]))) {
						bad = 1;
						CHECK(0,
						      "%s n=%zu per_elem=%d x=%.9g: y %.9g ref %.9g, dx %.9g "
						      "ref %.9g",
						      d->name, n, per_elem, (double)x[j], (double)y[j], ry,
						      (double)dx[j], rdx * (double)dy[j]);
					}
					for (int k = 0; k < P; k++) {
						double v = rdp[k] * (double)dy[j];
						if (per_elem) {
							double got = (double)dpf[j * (size_t)P + (size_t)k];
							CHECK(fabs(got - v) <= 1e-4 * (1e-3 + fabs(v)) + 1e-7,
							      "%s dp[%d] elem %zu: %.9g vs %.9g", d->name, k, j,
							      got, v);
						} else {
							dsum[k] += v;
							dabs[k] += fabs(v);
						}
					}
				}
				for (int k = 0; k < P && !per_elem; k++)
					CHECK(fabs((double)dpf[k] - dsum[k]) <= 1e-4 * (1e-3 + dabs[k]),
					      "%s n=%zu shared dp[%d]: %.9g vs %.9g", d->name, n, k,
					      (double)dpf[k], dsum[k]);
				free(x);
				free(y);
				free(dy);
				free(dx);
				free(pf);
				free(dpf);
				free(pd);
			}
		}
	}
}

/* Whole-tensor forward/backward in every granularity against a loop over the
 * reference, including the parameter-gradient reduction over the batch. */
TEST(act_layer_granularity)
{
	const int n = 3, c = 4, h = 5, w = 3;
	const size_t F = (size_t)c * h * w, N = (size_t)n * F;
	al_rng r;
	al_rng_seed(&r, 13);
	float *x = malloc(N * 4), *y = malloc(N * 4), *dy = malloc(N * 4), *dx = malloc(N * 4);
	for (size_t j = 0; j < N; j++) {
		x[j] = (float)urand(&r, -3, 3);
		dy[j] = (float)urand(&r, -1, 1);
	}
	static const char *pers[] = {"layer", "channel", "neuron"};
	for (int i = 0; i < al_act_count(); i++) {
		const al_act_desc *d = al_act_get(i);
		if (d->kind != AL_ACT_ELEMENT || d->stochastic)
			continue;
		for (int pi = 0; pi < (d->nparams ? 3 : 1); pi++) {
			char spec[128];
			snprintf(spec, sizeof spec, d->nparams ? "%s:per=%s" : "%s", d->name, pers[pi]);
			al_act_spec s;
			REQUIRE_OK(al_act_parse(spec, &s));
			int P = d->nparams;
			size_t G = al_act_groups(&s, c, h, w);
			float *p = malloc((G * (size_t)P + 1) * 4), *dp = calloc(G * (size_t)P + 1, 4);
			double *ref_dp = calloc(G * (size_t)P + 1, 8);
			for (size_t g = 0; g < G; g++) {
				double tmp[AL_ACT_MAXP];
				random_params(&s, &r, tmp);
				for (int k = 0; k < P; k++)
					p[g * (size_t)P + (size_t)k] = (float)tmp[k];
			}
			float *scratch = calloc(al_act_scratch_floats(&s, n, c, h, w) + 1, 4);
			al_act_forward(&s, p, n, c, h, w, x, y, 0, NULL);
			al_act_backward(&s, p, n, c, h, w, x, y, dy, dx, dp, scratch, 0, NULL);
			int bad = 0;
			for (size_t j = 0; j < N && !bad; j++) {
				size_t f = j % F, ch = f / ((size_t)h * w);
				size_t g = G == 1 ? 0 : (G == (size_t)c ? ch : f);
				double pj[AL_ACT_MAXP], rdx, rdp[AL_ACT_MAXP];
				for (int k = 0; k < P; k++)
					pj[k] = (double)p[g * (size_t)P + (size_t)k];
				double ry = d->ref(s.hyper, pj, (double)x[j], &rdx, rdp);
				if (fabs((double)y[j] - ry) > 1e-5 * (1 + fabs(ry)) ||
				    fabs((double)dx[j] - rdx * (double)dy[j]) > 1e-4 * (1 + fabs(rdx))) {
					bad = 1;
					CHECK(0, "%s: element %zu y %.9g ref %.9g dx %.9g ref %.9g", spec, j,
					      (double)y[j], ry, (double)dx[j], rdx * (double)dy[j]);
				}
				for (int k = 0; k < P; k++)
					ref_dp[g * (size_t)P + (size_t)k] += rdp[k] * (double)dy[j];
			}
			for (size_t q = 0; q < G * (size_t)P; q++)
				CHECK(fabs((double)dp[q] - ref_dp[q]) <= 1e-4 * (1 + fabs(ref_dp[q])),
				      "%s: dparam %zu = %.9g, reference %.9g", spec, q, (double)dp[q],
				      ref_dp[q]);
			free(p);
			free(dp);
			free(ref_dp);
			free(scratch);
		}
	}
	free(x);
	free(y);
	free(dy);
	free(dx);
}

/* Finite in -> finite out; saturation at +-100 without overflow; NaN in ->
 * NaN out (never silently a number). */
TEST(act_nan_inf_policy)
{
	const float xs[] = {-100.f, -30.f, -1e-4f, -0.f, 0.f, 1e-4f, 30.f, 100.f, 88.f, -88.f};
	const size_t n = sizeof xs / sizeof *xs;
	for (int i = 0; i < al_act_count(); i++) {
		const al_act_desc *d = al_act_get(i);
		if (d->kind != AL_ACT_ELEMENT)
			continue;
		al_act_spec s;
		REQUIRE_OK(al_act_parse(d->name, &s));
		float p[AL_ACT_MAXP], dpv[AL_ACT_MAXP] = {0}, y[16], dx[16], dy[16];
		for (int k = 0; k < d->nparams; k++)
			p[k] = (float)s.init[k];
		for (size_t j = 0; j < n; j++)
			dy[j] = 1;
		al_act_args a = {.h = s.hyper};
		float *dpp[AL_ACT_MAXP];
		for (int k = 0; k < d->nparams; k++) {
			a.p[k] = p + k;
			dpp[k] = dpv + k;
		}
		d->fwd(&a, n, xs, y);
		d->bwd(&a, n, xs, y, dy, dx, dpp);
		for (size_t j = 0; j < n; j++)
			CHECK(isfinite(y[j]) && isfinite(dx[j]), "%s(%g) = %g, dx %g", d->name,
			      (double)xs[j], (double)y[j], (double)dx[j]);
		for (int k = 0; k < d->nparams; k++)
			CHECK(isfinite(dpv[k]), "%s: dparam %d not finite", d->name, k);
		float nanx = NAN, ny;
		d->fwd(&a, 1, &nanx, &ny);
		CHECK(isnan(ny), "%s(NaN) = %g: NaN must propagate", d->name, (double)ny);
	}
}

/* The sigmoid kernels (catalog.c: 16-lane AVX-512 code where the target
 * has it, the generic loops otherwise) against the double formula, in ulp
 * of the exact value: a dense sample over [-105, 105] (evenly spaced, low
 * mantissa bits varied, plus denser windows near 0, around the maxima and
 * where the results are subnormal),
 * forward and backward with dy = 1. The bounds are the maxima over all
 * floats in [-105, 105] (2.40 and 4.22 ulp, docs/benchmarks.md). Then every
 * length 1..40: dx = dy * (dx at dy = 1) exactly, nothing written past n;
 * and the special values. */

static void sig_sweep(const al_act_desc *d, float lo, float hi, int npts, double *wf, double *wb)
{
	enum { CH = 4096 };
	static float x[CH], y[CH], one[CH], dx[CH];
	al_act_args a = {0};
	for (int i = 0; i < CH; i++)
		one[i] = 1;
	double step = ((double)hi - (double)lo) / npts;
	for (int i0 = 0; i0 <= npts; i0 += CH) {
		int n = npts + 1 - i0 < CH ? npts + 1 - i0 : CH;
		for (int j = 0; j < n; j++) {
			float v = (float)((double)lo + step * (i0 + j));
			uint32_t u;
			memcpy(&u, &v, 4);
			u += (uint32_t)(i0 + j) % 7; /* vary the low mantissa bits */
			memcpy(&x[j], &u, 4);
		}
		d->fwd(&a, (size_t)n, x, y);
		d->bwd(&a, (size_t)n, x, y, one, dx, NULL);
		for (int j = 0; j < n; j++) {
			double X = x[j], e = exp(-fabs(X)), ys = X >= 0 ? 1 / (1 + e) : e / (1 + e);
			double sd = e / ((1 + e) * (1 + e));
			double ef = fabs((double)y[j] - ys) / ulp_at(ys);
			double eb = fabs((double)dx[j] - sd) / ulp_at(sd);
			*wf = ef > *wf ? ef : *wf;
			*wb = eb > *wb ? eb : *wb;
		}
	}
}

TEST(act_sigmoid_kernel_ulp)
{
	al_act_spec s;
	REQUIRE_OK(al_act_parse("sigmoid", &s));
	const al_act_desc *d = s.desc;
	double wf = 0, wb = 0;
	sig_sweep(d, -105.0f, 105.0f, 2000000, &wf, &wb);
	sig_sweep(d, -1.0f, 1.0f, 200000, &wf, &wb);
	sig_sweep(d, -6.0f, -2.0f, 400000, &wf, &wb); /* where the maxima are */
	sig_sweep(d, 2.0f, 6.0f, 400000, &wf, &wb);
	sig_sweep(d, -104.5f, -87.0f, 100000, &wf, &wb); /* subnormal results */
	CHECK(wf <= 2.41, "sigmoid forward: max %.3f ulp, bound 2.41", wf);
	CHECK(wb <= 4.22, "sigmoid backward: max %.3f ulp, bound 4.22", wb);

	al_rng r;
	al_rng_seed(&r, 5);
	float x[48], y[48], dy[48], one[48], d1[48], dx[48];
	al_act_args a = {0};
	for (size_t n = 1; n <= 40; n++) {
		for (size_t j = 0; j < 48; j++) {
			x[j] = (float)urand(&r, -12, 12);
			dy[j] = (float)urand(&r, -2, 2);
			one[j] = 1;
			y[j] = dx[j] = d1[j] = -7;
		}
		d->fwd(&a, n, x, y);
		d->bwd(&a, n, x, y, one, d1, NULL);
		d->bwd(&a, n, x, y, dy, dx, NULL);
		for (size_t j = 0; j < n; j++) {
			double X = x[j], ys = 1 / (1 + exp(-X));
			CHECK(fabs((double)y[j] - ys) <= 2.41 * ulp_at(ys), "n=%zu: sigmoid(%.9g) = %.9g", n, X,
			      (double)y[j]);
			CHECK(dx[j] == dy[j] * d1[j], "n=%zu j=%zu: dx %.9g, dy * sigma' %.9g", n, j,
			      (double)dx[j], (double)(dy[j] * d1[j]));
		}
		for (size_t j = n; j < 48; j++)
			CHECK(y[j] == -7 && dx[j] == -7 && d1[j] == -7, "n=%zu: element %zu written", n, j);
	}

	const float sx[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, -100.0f, 100.0f, 0x1p-140f};
	float sy[8], sone[8] = {1, 1, 1, 1, 1, 1, 1, 1}, sdx[8];
	d->fwd(&a, 8, sx, sy);
	d->bwd(&a, 8, sx, sy, sone, sdx, NULL);
	CHECK(isnan(sy[0]) && isnan(sdx[0]), "sigmoid(NaN) = %g, sigma' %g", (double)sy[0],
	      (double)sdx[0]);
	CHECK(sy[1] == 1 && sy[2] == 0 && sdx[1] == 0 && sdx[2] == 0,
	      "sigmoid(+-inf) = %g %g, sigma' %g %g", (double)sy[1], (double)sy[2], (double)sdx[1],
	      (double)sdx[2]);
	CHECK(sy[3] == 0.5f && sy[4] == 0.5f && sdx[3] == 0.25f && sdx[4] == 0.25f,
	      "sigmoid(+-0) = %g %g, sigma' %g %g", (double)sy[3], (double)sy[4], (double)sdx[3],
	      (double)sdx[4]);
	CHECK(sy[5] > 3.7e-44f && sy[5] < 3.9e-44f && sdx[5] > 3.7e-44f && sdx[5] < 3.9e-44f,
	      "sigmoid(-100) = %g, sigma' %g: subnormal, not flushed", (double)sy[5],
	      (double)sdx[5]);
	CHECK(sy[6] == 1 && sdx[6] > 3.7e-44f && sdx[6] < 3.9e-44f, "sigmoid(100) = %g, sigma' %g",
	      (double)sy[6], (double)sdx[6]);
	CHECK(sy[7] == 0.5f && sdx[7] == 0.25f, "sigmoid(2^-140) = %g, sigma' %g", (double)sy[7],
	      (double)sdx[7]);
}

TEST(act_spec_parse)
{
	al_act_spec s;
	REQUIRE_OK(al_act_parse("leaky_relu:slope=0.2", &s));
	CHECK_NEAR(s.hyper[0], 0.2, 0);
	CHECK(strcmp(s.text, "leaky_relu:slope=0.2") == 0, "canonical text '%s'", s.text);
	REQUIRE_OK(al_act_parse("lrelu:slope=1/5", &s));
	CHECK(strcmp(s.desc->name, "leaky_relu") == 0, "alias resolves to %s", s.desc->name);
	CHECK_NEAR(s.hyper[0], 0.2, 1e-16);
	REQUIRE_OK(al_act_parse("relu", &s));
	CHECK(strcmp(s.text, "relu") == 0, "canonical '%s'", s.text);
	CHECK(al_act_parse("relux", &s) == AL_EINVAL, "unknown name accepted");
	CHECK(strstr(al_errmsg(), "relux") && strstr(al_errmsg(), "leaky_relu"),
	      "message should name the bad name and list valid ones: %s", al_errmsg());
	CHECK(al_act_parse("leaky_relu:slop=0.1", &s) == AL_EINVAL, "unknown key accepted");
	CHECK(strstr(al_errmsg(), "slop") && strstr(al_errmsg(), "slope"),
	      "message should list valid keys: %s", al_errmsg());
	CHECK(al_act_parse("leaky_relu:slope=abc", &s) == AL_EINVAL, "bad number accepted");
	CHECK(al_act_parse("leaky_relu:slope", &s) == AL_EINVAL, "missing value accepted");
	CHECK(al_act_parse("leaky_relu:per=row", &s) == AL_EINVAL, "bad per accepted");
	CHECK(al_act_parse("", &s) == AL_EINVAL, "empty spec accepted");
	/* every entry's canonical text parses back to itself */
	for (int i = 0; i < al_act_count(); i++) {
		al_act_spec a, b;
		REQUIRE_OK(al_act_parse(al_act_get(i)->name, &a));
		REQUIRE_OK(al_act_parse(a.text, &b));
		CHECK(strcmp(a.text, b.text) == 0, "%s: '%s' re-parses to '%s'", a.desc->name, a.text,
		      b.text);
	}
}

/* Results of the threaded whole-tensor kernels do not depend on threads. */
TEST(act_threads_bitwise)
{
	const int n = 16, c = 8, h = 32, w = 32;
	size_t N = (size_t)n * c * h * w;
	float *x = malloc(N * 4), *dy = malloc(N * 4), *y1 = malloc(N * 4), *y2 = malloc(N * 4),
	      *dx1 = malloc(N * 4), *dx2 = malloc(N * 4);
	al_rng r;
	al_rng_seed(&r, 14);
	for (size_t j = 0; j < N; j++) {
		x[j] = (float)urand(&r, -4, 4);
		dy[j] = (float)urand(&r, -1, 1);
	}
	for (int i = 0; i < al_act_count(); i++) {
		const al_act_desc *d = al_act_get(i);
		al_act_spec s;
		REQUIRE_OK(al_act_parse(d->name, &s));
		size_t G = al_act_groups(&s, c, h, w), P = (size_t)al_act_nparams(&s);
		float *p = malloc((G * P + 1) * 4), *dp1 = calloc(G * P + 1, 4),
		      *dp2 = calloc(G * P + 1, 4);
		float *sc = calloc(al_act_scratch_floats(&s, n, c, h, w) + 1, 4);
		al_act_init_params(&s, p, G, &r);
		al_set_threads(1);
		al_act_forward(&s, p, n, c, h, w, x, y1, 1, &r);
		al_act_backward(&s, p, n, c, h, w, x, y1, dy, dx1, dp1, sc, 1, &r);
		al_set_threads(2);
		al_act_forward(&s, p, n, c, h, w, x, y2, 1, &r);
		al_act_backward(&s, p, n, c, h, w, x, y2, dy, dx2, dp2, sc, 1, &r);
		CHECK(!memcmp(y1, y2, N * 4) && !memcmp(dx1, dx2, N * 4) &&
			      !memcmp(dp1, dp2, G * P * 4),
		      "%s: 1 and 2 threads differ", d->name);
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

/* per=channel backward: planes run in parallel, each channel's parameter
 * gradient is the sum of its planes' partial sums in sample order. Checked
 * bitwise against that sum taken by hand (one kernel call per plane) and
 * across 1, 2 and 3 threads, on a shape with an odd plane size. */
TEST(act_per_channel_backward_order)
{
	const int n = 5, c = 3, h = 7, w = 9;
	const size_t hw = (size_t)h * w, N = (size_t)n * c * hw;
	float *x = malloc(N * 4), *dy = malloc(N * 4), *y = malloc(N * 4), *dx = malloc(N * 4),
	      *dx1 = malloc(N * 4);
	al_rng r;
	al_rng_seed(&r, 15);
	for (size_t j = 0; j < N; j++) {
		x[j] = (float)urand(&r, -3, 3);
		dy[j] = (float)urand(&r, -1, 1);
	}
	int saved = al_get_threads();
	for (int i = 0; i < al_act_count(); i++) {
		const al_act_desc *d = al_act_get(i);
		if (d->kind != AL_ACT_ELEMENT || d->nparams == 0 || d->stochastic)
			continue;
		char spec[128];
		snprintf(spec, sizeof spec, "%s:per=channel", d->name);
		al_act_spec s;
		REQUIRE_OK(al_act_parse(spec, &s));
		const int P = d->nparams;
		float *p = malloc((size_t)(c * P) * 4), ref[3 * AL_ACT_MAXP] = {0};
		for (int ch = 0; ch < c; ch++) {
			double tmp[AL_ACT_MAXP];
			random_params(&s, &r, tmp);
			for (int k = 0; k < P; k++)
				p[ch * P + k] = (float)tmp[k];
		}
		/* by hand: one call per plane, partials added per channel in sample order */
		for (int ch = 0; ch < c; ch++)
			for (int smp = 0; smp < n; smp++) {
				size_t o = ((size_t)smp * c + (size_t)ch) * hw;
				al_act_args a = {.h = s.hyper};
				float part[AL_ACT_MAXP] = {0}, *dpp[AL_ACT_MAXP];
				for (int k = 0; k < P; k++) {
					a.p[k] = p + ch * P + k;
					dpp[k] = part + k;
				}
				d->fwd(&a, hw, x + o, y + o);
				d->bwd(&a, hw, x + o, y + o, dy + o, dx1 + o, dpp);
				for (int k = 0; k < P; k++)
					ref[ch * P + k] += part[k];
			}
		float *sc = calloc(al_act_scratch_floats(&s, n, c, h, w) + 1, 4);
		for (int t = 1; t <= 3; t++) {
			float dp[3 * AL_ACT_MAXP] = {0};
			al_set_threads(t);
			al_act_forward(&s, p, n, c, h, w, x, y, 0, NULL);
			al_act_backward(&s, p, n, c, h, w, x, y, dy, dx, dp, sc, 0, NULL);
			CHECK(!memcmp(dx, dx1, N * 4), "%s, %d threads: dx differs from per-plane calls",
			      spec, t);
			CHECK(!memcmp(dp, ref, (size_t)(c * P) * 4),
			      "%s, %d threads: dparams differ from the per-plane sums in sample order "
			      "(first: %.9g vs %.9g)",
			      spec, t, (double)dp[0], (double)ref[0]);
		}
		free(sc);
		free(p);
	}
	al_set_threads(saved);
	free(x);
	free(dy);
	free(y);
	free(dx);
	free(dx1);
}

/* rrelu in training: slopes of negative inputs are drawn in [lower, upper],
 * vary across elements, and the backward uses exactly the forward's slopes;
 * in evaluation the slope is the mean. */
TEST(act_rrelu_training)
{
	al_act_spec s;
	REQUIRE_OK(al_act_parse("rrelu:lower=0.1,upper=0.3", &s));
	const int n = 4, c = 3, h = 50, w = 50;
	size_t N = (size_t)n * c * h * w;
	float *x = malloc(N * 4), *y = malloc(N * 4), *dy = malloc(N * 4), *dx = malloc(N * 4);
	for (size_t i = 0; i < N; i++) {
		x[i] = -1.0f - (float)(i % 7);
		dy[i] = 1.0f;
	}
	al_rng r;
	al_rng_seed(&r, 21);
	al_act_forward(&s, NULL, n, c, h, w, x, y, 1, &r);
	al_act_backward(&s, NULL, n, c, h, w, x, y, dy, dx, NULL, NULL, 1, &r);
	double lo = 1, hi = 0, mean = 0;
	int mismatch = 0;
	for (size_t i = 0; i < N; i++) {
		double slope = (double)y[i] / (double)x[i];
		lo = slope < lo ? slope : lo;
		hi = slope > hi ? slope : hi;
		mean += slope / (double)N;
		mismatch += fabs(slope - (double)dx[i]) > 1e-6;
	}
	CHECK(lo >= 0.1 - 1e-6 && hi <= 0.3 + 1e-6, "slopes in [%g, %g]", lo, hi);
	CHECK(hi - lo > 0.15, "slopes hardly vary: [%g, %g]", lo, hi);
	CHECK(fabs(mean - 0.2) < 0.01, "mean slope %g", mean);
	CHECK(mismatch == 0, "%d elements: backward slope differs from forward", mismatch);
	al_act_forward(&s, NULL, n, c, h, w, x, y, 0, &r);
	CHECK_NEAR((double)y[0] / (double)x[0], 0.2, 1e-6);
	free(x);
	free(y);
	free(dy);
	free(dx);
}

/* Float kernels of two specs agree on a grid (within float rounding). */
static int kernels_agree(const char *sa, const char *sb, char *why, size_t cap)
{
	al_act_spec a, b;
	if (al_act_parse(sa, &a) != AL_OK || al_act_parse(sb, &b) != AL_OK) {
		snprintf(why, cap, "parse: %s", al_errmsg());
		return 0;
	}
	enum { N = 2001 };
	static float x[N], ya[N], yb[N], dy[N], dxa[N], dxb[N];
	for (int i = 0; i < N; i++) {
		x[i] = -8.0f + 16.0f * (float)i / (N - 1) + 1e-3f;
		dy[i] = 1.0f;
	}
	float pa[AL_ACT_MAXP] = {0}, pb[AL_ACT_MAXP] = {0}, dpa[AL_ACT_MAXP] = {0},
	      dpb[AL_ACT_MAXP] = {0};
	al_act_init_params(&a, pa, 1, NULL);
	al_act_init_params(&b, pb, 1, NULL);
	al_act_forward(&a, pa, 1, N, 1, 1, x, ya, 0, NULL);
	al_act_forward(&b, pb, 1, N, 1, 1, x, yb, 0, NULL);
	float sc[64];
	if (a.desc->nparams)
		a.per = AL_PER_LAYER;
	al_act_backward(&a, pa, 1, N, 1, 1, x, ya, dy, dxa, dpa, sc, 0, NULL);
	al_act_backward(&b, pb, 1, N, 1, 1, x, yb, dy, dxb, dpb, sc, 0, NULL);
	for (int i = 0; i < N; i++) {
		double tol = 2e-6 * (1 + fabs((double)x[i]));
		if (fabs((double)ya[i] - (double)yb[i]) > tol ||
		    fabs((double)dxa[i] - (double)dxb[i]) > 10 * tol) {
			snprintf(why, cap, "x=%g: %s = %.9g / %.9g, %s = %.9g / %.9g", (double)x[i], sa,
				 (double)ya[i], (double)dxa[i], sb, (double)yb[i], (double)dxb[i]);
			return 0;
		}
	}
	return 1;
}

/* Trainable entries at their initial values are the function they extend. */
TEST(act_init_equals_base)
{
	static const char *pairs[][2] = {
		{"asigmoid:per=layer", "sigmoid"},
		{"atanh:per=layer", "tanh"},
		{"arelu:per=layer", "relu"},
		{"arelu:per=layer,compat=hu2022", "identity"},
		{"frelu:per=layer", "relu"},
		{"agsig:per=layer", "sigmoid"},
		{"swish_beta:per=layer", "silu"},
		{"pelu:per=layer", "elu"},
		{"tleaky_relu:per=layer", "leaky_relu"},
		{"thardswish:per=layer", "hardswish"},
		{"tgelu:per=layer", "gelu"},
		{"tselu:per=layer", "selu"},
		{"tsqrt:per=layer", "sqrt"},
		{"tswish:per=layer", "silu"},
		{"tsqrt_tanh:per=layer,k=1", "tanhexp"},
		{"prelu:per=layer,alpha=0.01", "leaky_relu"},
		{"method1:per=layer,mode=fixed,wx=1,wy=0,wz=0", "tanh"},
		{"method1:per=layer,mode=fixed,wx=0,wy=0,wz=1", "relu"},
		{"method2:per=layer,mode=fixed,wx=0,wy=1,wz=0", "sigmoid"},
		{"method2:per=layer,mode=fixed,wx=0,wy=0,wz=1", "relu"},
	};
	char why[512];
	for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++)
		CHECK(kernels_agree(pairs[i][0], pairs[i][1], why, sizeof why), "%s vs %s: %s",
		      pairs[i][0], pairs[i][1], why);
	/* the generic wrapper around every possible base */
	int bases = 0;
	for (int i = 0; i < al_act_count(); i++) {
		const al_act_desc *d = al_act_get(i);
		if (d->kind != AL_ACT_ELEMENT || d->nparams || d->stochastic)
			continue;
		char spec[128];
		snprintf(spec, sizeof spec, "adaptive:base=%s,per=layer", d->name);
		CHECK(kernels_agree(spec, d->name, why, sizeof why), "%s: %s", spec, why);
		al_act_spec s;
		REQUIRE_OK(al_act_parse(spec, &s));
		al_gradcheck_result g;
		REQUIRE_OK(al_act_gradcheck(&s, 1, 99, 200, &g));
		CHECK(g.worst < 1e-6 && g.kernel_err < 1e-4, "%s: errors %.3g (%s), kernel %.3g (%s)",
		      spec, g.worst, g.worst_at, g.kernel_err, g.kernel_at);
		bases++;
	}
	CHECK(bases > 20, "only %d bases", bases);
	al_act_spec s;
	REQUIRE_OK(al_act_parse("adaptive", &s));
	CHECK(strcmp(s.text, "adaptive:base=relu,per=layer,a=1,b=1,c=0,d=0") == 0, "default '%s'",
	      s.text);
	CHECK(al_act_parse("adaptive:base=prelu", &s) == AL_EINVAL && strstr(al_errmsg(), "gelu"),
	      "a trainable base must be refused with the list: %s", al_errmsg());
}

/* method1/2 weights: softmax of theta at init is 1/3 each; the ratio mode
 * projects its weights to >= 1e-3 after a step. */
TEST(act_blend_modes)
{
	al_act_spec s;
	REQUIRE_OK(al_act_parse("method2", &s));
	CHECK(s.init[0] == 0 && s.init[1] == 0 && s.init[2] == 0, "softmax init");
	char why[512];
	CHECK(kernels_agree("method2:per=layer", "method2:per=layer,mode=fixed", why, sizeof why),
	      "softmax(0) should equal fixed 1/3: %s", why);
	CHECK(kernels_agree("method2:per=layer,mode=ratio", "method2:per=layer,mode=fixed", why,
			    sizeof why),
	      "ratio(1,1,1) should equal fixed 1/3: %s", why);
	REQUIRE_OK(al_act_parse("method2:mode=ratio", &s));
	CHECK(s.init[0] == 1, "ratio init %g", s.init[0]);
	float p[3] = {-5, 0.5f, 0};
	al_act_project(&s, p, 1);
	CHECK(p[0] == 1e-3f && p[1] == 0.5f && p[2] == 1e-3f, "projection %g %g %g", (double)p[0],
	      (double)p[1], (double)p[2]);
	REQUIRE_OK(al_act_parse("method2", &s));
	p[0] = -5;
	al_act_project(&s, p, 1);
	CHECK(p[0] == -5, "softmax thetas are free, got %g", (double)p[0]);
	REQUIRE_OK(al_act_parse("pelu", &s));
	float q[2] = {0.01f, 3};
	al_act_project(&s, q, 1);
	CHECK(q[0] == 0.1f && q[1] == 3, "pelu projection %g %g", (double)q[0], (double)q[1]);
}

/* Hooked projections apply to whole-tensor entries too: a learned window
 * influence is kept in [0, 1] after every step. */
TEST(act_project_window_lambda)
{
	al_act_spec s;
	REQUIRE_OK(al_act_parse("nelu:learn=1,per=channel", &s));
	REQUIRE(al_act_nparams(&s) == 1, "nelu learn=1 has %d parameters", al_act_nparams(&s));
	float p[3] = {1.5f, -0.2f, 0.3f};
	al_act_project(&s, p, 3);
	CHECK(p[0] == 1.0f && p[1] == 0.0f && p[2] == 0.3f, "projected to %g %g %g", (double)p[0],
	      (double)p[1], (double)p[2]);
}
