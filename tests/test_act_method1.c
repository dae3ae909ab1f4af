/* test_act_method1.c — method1's shared-parameter kernels (catalog.c: 16
 * lanes with the table exponential where the target has AVX-512, the
 * stamped loops otherwise) against the double formula with bounds tighter
 * than act_kernel_vs_reference's, and the 16-lane e^v, 1 - e^v they use
 * (vmath16.h al__expf16_1m) in ulp against libm in double.
 * Not for: the catalog-wide checks (test_act.c walks every entry).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/act.h"
#include "actlab/core.h"
#include "math/vmath16.h"
#include "test.h"

#ifdef AL_HAVE_VMATH16
/* w = e^v and 1 - e^v over [-104, 0]: every 61st float (low mantissa bits
 * vary), all floats in [-2^-5, -2^-8] (where 1 - w leaves the k = 0 table
 * entry: the maximum, 1.42 ulp at -0x1.630b8p-7), and the ends. The bounds
 * are the maxima over all floats in [-104, 0] (exhaustive run, 47 s, in
 * docs/benchmarks.md): w 0.754 ulp (0.534 for normal results), 1 - w 1.423. */
static void e1m_chunk(const float *v, int n, double *ww, double *wo)
{
	for (int i = 0; i < n; i += 16) {
		float w[16] __attribute__((aligned(64))), o[16] __attribute__((aligned(64)));
		int m = n - i < 16 ? n - i : 16;
		__mmask16 k = (__mmask16)((1u << m) - 1);
		__m512 om, wv = al__expf16_1m(_mm512_maskz_loadu_ps(k, v + i), &om);
		_mm512_store_ps(w, wv);
		_mm512_store_ps(o, om);
		for (int j = 0; j < m; j++) {
			double x = v[i + j], rw = exp(x), ro = -expm1(x);
			double ew = fabs((double)w[j] - rw) / ulp_at(rw), eo = fabs((double)o[j] - ro) / ulp_at(ro);
			*ww = ew > *ww ? ew : *ww;
			*wo = eo > *wo ? eo : *wo;
		}
	}
}

static void e1m_range(uint32_t from, uint32_t to, uint32_t step, double *ww, double *wo)
{
	enum { CH = 4096 };
	static float v[CH];
	int n = 0;
	for (uint64_t u = from; u <= to; u += step) {
		uint32_t b = (uint32_t)u;
		memcpy(&v[n++], &b, 4);
		if (n == CH) {
			e1m_chunk(v, n, ww, wo);
			n = 0;
		}
	}
	e1m_chunk(v, n, ww, wo);
}

static uint32_t fbits(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	return u;
}

TEST(act_expf16_1m_ulp)
{
	double ww = 0, wo = 0;
	e1m_range(0x80000000u, fbits(-104.0f), 61, &ww, &wo);
	e1m_range(fbits(-0x1p-8f), fbits(-0x1p-5f), 1, &ww, &wo);
	e1m_range(fbits(-103.0f), fbits(-104.0f), 1, &ww, &wo); /* subnormal w */
	CHECK(ww <= 0.755, "al__expf16_1m: w max %.3f ulp, bound 0.755", ww);
	CHECK(wo <= 1.424, "al__expf16_1m: 1 - w max %.3f ulp, bound 1.424", wo);
	CHECK(wo >= 1.0, "al__expf16_1m: 1 - w max %.3f ulp: the sample missed the maximum", wo);
	const float sp[3] = {-0.0f, 0.0f, NAN};
	float w[16] __attribute__((aligned(64))), o[16] __attribute__((aligned(64)));
	__m512 om, wv = al__expf16_1m(_mm512_maskz_loadu_ps(7, sp), &om);
	_mm512_store_ps(w, wv);
	_mm512_store_ps(o, om);
	CHECK(w[0] == 1.0f && w[1] == 1.0f && o[0] == 0.0f && o[1] == 0.0f, "e^-0 = %g, 1 - e^0 = %g",
	      (double)w[0], (double)o[0]);
	CHECK(isnan(w[2]) && isnan(o[2]), "NaN -> %g, %g", (double)w[2], (double)o[2]);
}
#endif

static double urand_(al_rng *r, double lo, double hi) { return lo + (hi - lo) * (double)al_rng_uniform(r); }

/* Method 1 in double, as SPEC.md 3.3 writes it (softmax weights), with the
 * magnitudes of its terms: f, df/dx and the sums of |term| they are made of
 * (the error scale of a float evaluation that cancels). */
static double m1_ref(const double *p, double x, double *dfdx, double *fs, double *ds)
{
	double m = fmax(p[0], fmax(p[1], p[2]));
	double e0 = exp(p[0] - m), e1 = exp(p[1] - m), e2 = exp(p[2] - m), se = e0 + e1 + e2;
	double X[3] = {e0 / se, e1 / se, e2 / se};
	double t = tanh(p[3] * x + p[5]), s = 1 / (1 + exp(-(p[7] * x + p[9])));
	double u1 = p[11] * x + p[13], u2 = p[12] * x + p[14];
	double r = u1 >= u2 ? u1 : u2, sl = u1 >= u2 ? p[11] : p[12];
	*fs = X[0] * (fabs(p[4] * t) + fabs(p[6])) + X[1] * (fabs(p[8] * s) + fabs(p[10])) +
	      X[2] * fabs(r);
	double dt = X[0] * p[3] * p[4] * (1 - t * t), dsg = X[1] * p[7] * p[8] * s * (1 - s);
	*dfdx = dt + dsg + X[2] * sl;
	*ds = fabs(dt) + fabs(dsg) + fabs(X[2] * sl);
	return X[0] * (p[4] * t + p[6]) + X[1] * (p[8] * s + p[10]) + X[2] * r;
}

/* Shared parameters (one group): y and dx within 8 units of 2^-24 of the
 * magnitude of their terms (measured: 2.6 and 3.5 over these samples; the generic loops 2.2, 3.5),
 * the 15 gradients against the catalog's double reference summed in double
 * within 2e-6 of the sum of |term| (measured 7.6e-7, as the generic loops;
 * act_kernel_vs_reference: 1e-4); lengths around the vector and block
 * sizes: nothing written past n, dx = dy times dx at dy = 1 bit for bit. */
TEST(act_method1_kernels)
{
	al_act_spec s;
	REQUIRE_OK(al_act_parse("method1", &s));
	const al_act_desc *d = s.desc;
	REQUIRE(d->nparams == 15, "method1 has %d parameters", d->nparams);
	enum { N = 3000, PAD = 8 };
	float *x = al_malloc((N + PAD) * 4), *y = al_malloc((N + PAD) * 4),
	      *dy = al_malloc((N + PAD) * 4), *dx = al_malloc((N + PAD) * 4),
	      *one = al_malloc((N + PAD) * 4), *d1 = al_malloc((N + PAD) * 4);
	REQUIRE(x && y && dy && dx && one && d1, "alloc");
	al_rng r;
	al_rng_seed(&r, 31);
	double wy = 0, wd = 0, wg = 0;
	static const size_t lens[] = {1, 2, 15, 16, 17, 31, 40, 127, 128, 129, 1001, 3000};
	for (int set = 0; set < 24; set++) {
		double pd[15];
		float pf[15], dpf[15] = {0}, dq[15] = {0};
		for (int k = 0; k < 15; k++)
			pf[k] = (float)(k < 3 ? urand_(&r, -1, 1) : urand_(&r, -2, 2));
		if (set == 0) /* the default start: thetas 0, (a, b, c, d) = (1, 1, 0, 0), relu */
			for (int k = 0; k < 15; k++)
				pf[k] = (k == 3 || k == 4 || k == 7 || k == 8 || k == 11) ? 1.0f : 0.0f;
		for (int k = 0; k < 15; k++)
			pd[k] = pf[k];
		size_t n = lens[set % 12];
		double xs = set < 12 ? 3 : 30;
		for (size_t j = 0; j < n + PAD; j++) {
			x[j] = (float)urand_(&r, -xs, xs);
			dy[j] = (float)urand_(&r, -1, 1);
			one[j] = 1;
			y[j] = dx[j] = d1[j] = -7;
		}
		al_act_args a = {.h = s.hyper, .pstride = 0};
		float *dpp[AL_ACT_MAXP], *dqq[AL_ACT_MAXP];
		for (int k = 0; k < 15; k++) {
			a.p[k] = pf + k;
			dpp[k] = dpf + k;
			dqq[k] = dq + k;
		}
		d->fwd(&a, n, x, y);
		d->bwd(&a, n, x, y, dy, dx, dpp);
		d->bwd(&a, n, x, y, one, d1, dqq);
		double gs[15] = {0}, ga[15] = {0};
		for (size_t j = 0; j < n; j++) {
			double rdx, fs, ds, rdp[15], rdx2;
			double ry = m1_ref(pd, (double)x[j], &rdx, &fs, &ds);
			double ry2 = d->ref(s.hyper, pd, (double)x[j], &rdx2, rdp);
			CHECK(fabs(ry - ry2) <= 1e-12 * (1 + fs) && fabs(rdx - rdx2) <= 1e-12 * (1 + ds),
			      "reference mismatch at x=%.9g: %.17g %.17g", (double)x[j], ry, ry2);
			double ey = fabs((double)y[j] - ry) / (0x1p-24 * fs),
			       ed = fabs((double)d1[j] - rdx) / (0x1p-24 * ds);
			if (ey > wy)
				wy = ey;
			if (ed > wd)
				wd = ed;
			CHECK(dx[j] == dy[j] * d1[j], "set %d n=%zu j=%zu: dx %.9g, dy * dx1 %.9g", set, n, j,
			      (double)dx[j], (double)(dy[j] * d1[j]));
			for (int k = 0; k < 15; k++) {
				gs[k] += rdp[k] * (double)dy[j];
				ga[k] += fabs(rdp[k] * (double)dy[j]);
			}
		}
		for (size_t j = n; j < n + PAD; j++)
			CHECK(y[j] == -7 && dx[j] == -7 && d1[j] == -7, "n=%zu: element %zu written", n, j);
		for (int k = 0; k < 15; k++) {
			double e = fabs((double)dpf[k] - gs[k]) / (1e-30 + ga[k]);
			if (e > wg)
				wg = e;
		}
	}
	CHECK(wy <= 8, "method1 y: max error %.2f units of 2^-24 of its terms, bound 8", wy);
	CHECK(wd <= 8, "method1 df/dx: max error %.2f units of 2^-24 of its terms, bound 8", wd);
	CHECK(wg <= 2e-6, "method1 shared gradients: max error %.3g of sum |term|, bound 2e-6", wg);
	if (getenv("ACTLAB_TEST_VERBOSE"))
		printf("method1: y %.2f, dx %.2f units of 2^-24; gradients %.3g\n", wy, wd, wg);
	al_free(x);
	al_free(y);
	al_free(dy);
	al_free(dx);
	al_free(one);
	al_free(d1);
}
