/* test_act_tsqrt_tanh.c — tsqrt_tanh's shared-k kernels (catalog.c: 16
 * lanes in base 2 where the target has AVX-512, the generic stages
 * otherwise) and the per-element (stamped) kernels against a double
 * evaluation of SPEC.md 5's formulas, over |x| from subnormal to 2^14 of
 * both signs and k from 0.05 to 3; and the 16-lane log2 / exp2 they use
 * (vmath16.h) against libm in double.
 * Not for: the catalog-wide checks (test_act.c walks every entry).
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/act.h"
#include "actlab/core.h"
#include "math/vmath16.h"
#include "test.h"

#ifdef AL_HAVE_VMATH16
#define TT_V16 1
#else
#define TT_V16 0
#endif

#ifdef AL_HAVE_VMATH16
static uint32_t tt_bits(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	return u;
}

static float tt_float(uint32_t u)
{
	float f;
	memcpy(&f, &u, 4);
	return f;
}

enum { TT_LOG2, TT_EXP2, TT_EXP2_1M };
#define TT_STR_(v) #v
#define TT_STR(v) TT_STR_(v)
#define LOG2_BOUND 2.1
#define EXP2_BOUND 0.9
#define W_BOUND 1.15
#define OM_BOUND 1.6

/* max error in ulp of the result over the floats from..to (bit patterns,
 * step apart); for TT_EXP2_1M *e2 gets 1 - w's */
static void tt_sweep(int fn, uint32_t from, uint32_t to, uint32_t step, double *e1, double *e2)
{
	float v[16] __attribute__((aligned(64))), o1[16] __attribute__((aligned(64))),
		o2[16] __attribute__((aligned(64)));
	int n = 0;
	for (uint64_t u = from;; u += step) {
		int last = u + step > to;
		v[n++] = tt_float((uint32_t)u);
		if (n == 16 || last) {
			__mmask16 m = (__mmask16)((1u << n) - 1);
			__m512 xv = _mm512_maskz_loadu_ps(m, v), om = _mm512_setzero_ps(), r;
			if (fn == TT_LOG2)
				r = al__log2f16(xv);
			else if (fn == TT_EXP2)
				r = al__exp2f16(xv);
			else
				r = al__exp2f16_1m(xv, &om);
			_mm512_store_ps(o1, r);
			_mm512_store_ps(o2, om);
			for (int j = 0; j < n; j++) {
				double x = v[j];
				double ref = fn == TT_LOG2 ? log2(x) : exp2(x);
				double e = fabs((double)o1[j] - ref) / ulp_at(ref);
				*e1 = e > *e1 ? e : *e1;
				if (fn == TT_EXP2_1M) {
					double ro = -expm1(x * 0.69314718055994530942);
					e = fabs((double)o2[j] - ro) / ulp_at(ro);
					*e2 = e > *e2 ? e : *e2;
				}
			}
			n = 0;
		}
		if (last)
			break;
	}
}

/* al__log2f16 over every 127th positive float (subnormals included) and
 * every 7th in [1/2, 2] (relative accuracy near log2 = 0); al__exp2f16 over
 * every 17th float in [-150, 128] (subnormal results included);
 * al__exp2f16_1m (w = 2^t, 1 - w) over every 17th float in [-150, 0] and
 * every 3rd in [-2, -2^-8]. Bounds: the measured maxima rounded up (log2
 * 2.02, exp2 0.85, w 1.10, 1 - w 1.57 ulp of the result; ulp 2^-149 for
 * subnormal results). Special values: log2 0 = -inf, log2 inf = inf,
 * NaN -> NaN, 2^200 = inf, 2^-200 = 0 (2^-inf is outside the contract). */
TEST(act_log2f16_exp2f16)
{
	double el = 0, ee = 0, ew = 0, eo = 0, dummy = 0;
	tt_sweep(TT_LOG2, 1, tt_bits(FLT_MAX), 127, &el, &dummy);
	tt_sweep(TT_LOG2, tt_bits(0.5f), tt_bits(2.0f), 7, &el, &dummy);
	tt_sweep(TT_EXP2, tt_bits(-0.0f), tt_bits(-150.0f), 17, &ee, &dummy);
	tt_sweep(TT_EXP2, 0, tt_bits(127.99f), 17, &ee, &dummy);
	tt_sweep(TT_EXP2_1M, tt_bits(-0.0f), tt_bits(-150.0f), 17, &ew, &eo);
	tt_sweep(TT_EXP2_1M, tt_bits(-0x1p-8f), tt_bits(-2.0f), 3, &ew, &eo);
	if (getenv("ACTLAB_TEST_VERBOSE"))
		printf("log2 %.3f, exp2 %.3f, w %.3f, 1 - w %.3f ulp\n", el, ee, ew, eo);
	CHECK(el <= LOG2_BOUND, "al__log2f16: max %.3f ulp, bound " TT_STR(LOG2_BOUND), el);
	CHECK(ee <= EXP2_BOUND, "al__exp2f16: max %.3f ulp, bound " TT_STR(EXP2_BOUND), ee);
	CHECK(ew <= W_BOUND, "al__exp2f16_1m: w max %.3f ulp, bound " TT_STR(W_BOUND), ew);
	CHECK(eo <= OM_BOUND, "al__exp2f16_1m: 1 - w max %.3f ulp, bound " TT_STR(OM_BOUND), eo);
	const float sp[6] = {0.0f, INFINITY, NAN, 200.0f, -200.0f, 1.0f};
	float o[16] __attribute__((aligned(64)));
	_mm512_store_ps(o, al__log2f16(_mm512_maskz_loadu_ps(0x3F, sp)));
	CHECK(o[0] == -INFINITY && o[1] == INFINITY && isnan(o[2]) && o[5] == 0.0f,
	      "log2 0, inf, NaN, 1: %g %g %g %g", (double)o[0], (double)o[1], (double)o[2],
	      (double)o[5]);
	_mm512_store_ps(o, al__exp2f16(_mm512_maskz_loadu_ps(0x3F, sp)));
	CHECK(o[3] == INFINITY && o[4] == 0.0f && o[0] == 1.0f, "2^200, 2^-200, 2^0: %g %g %g",
	      (double)o[3], (double)o[4], (double)o[0]);
}
#endif

/* SPEC.md 5 in double, u clamped at 20, |x|^k := 0 at x = 0 (lo > 0: |x|
 * replaced by max(|x|, lo) in |x|^k and ln|x|, as elem_defs.h's stages do
 * with lo = 1e-30). Error scales of a float evaluation, in units of 2^-24
 * relative plus 2^-149 absolute (E = e^u below FLT_MIN has an absolute
 * error): with c = 1 + |u| (2 + |k ln|x||) (the rounding of k ln|x| moves
 * |x|^k by |k ln|x|| 2^-24 relative and E by |u| times that: tsqrt_tanh is
 * that ill-conditioned, an ulp of x moves y by k |u| ulp), s[0] for y =
 * 2^-24 c |y| + 2^-149 (1 + |x|), s[1] for dy/dx = 2^-24 c (|tanh E| +
 * (1 + 2E) |k u E sech^2 E|) + 2^-149 (1 + k |u| (1 + 4E)), s[2] for
 * dy/dk = 2^-24 (1 + 2E) (c + |k ln|x||) |dy/dk| + 2^-149 (1 + (1 + 4E)
 * |x|^k |x ln|x||) (w = e^(-2E) moves by 2E times E's relative error;
 * dy/dk is proportional to |x|^k; E, w and sech^2 E pass below FLT_MIN for
 * u < -87 and E > 44). */
static double tt_ref(double x, double k, double lo, double *dx, double *dk, double *sc)
{
	double a = fabs(x), ac = a > lo ? a : lo, A = a == 0 ? 0 : pow(ac, k), u = copysign(A, x);
	double uc = u < 20 ? u : 20, E = exp(uc), T = tanh(E), w = exp(-2 * E);
	double s2 = 4 * w / ((1 + w) * (1 + w)), D = u < 20 ? k * u * E * s2 : 0;
	double L = a > 0 ? log(ac) : 0;
	*dx = T + D;
	*dk = (u < 20 && a > 0) ? s2 * E * A * a * L : 0;
	double c = 1 + fabs(uc) * (2 + fabs(k * L));
	sc[0] = 0x1p-24 * c * fabs(x * T) + 0x1p-149 * (1 + a);
	sc[1] = 0x1p-24 * c * (fabs(T) + (1 + 2 * E) * fabs(D)) +
		0x1p-149 * (1 + k * fabs(u) * (1 + 4 * E));
	sc[2] = 0x1p-24 * (1 + 2 * E) * (c + fabs(k * L)) * fabs(*dk) +
		0x1p-149 * (1 + (1 + 4 * E) * A * a * fabs(L));
	return x * T;
}

/* y, dx and the per-element dk of the shared-k kernels (one call over all
 * for y, dx and the k sum, n = 1 calls for dk) and of the per-element
 * (stamped) kernels, in units of tt_ref's error scales, over x = +-m 2^e,
 * e uniform in [-140, 14] (subnormal to 32768: saturation both ways), plus
 * 0, -0, +-1, +-(1 +- 2^-20) and the smallest subnormal, and k in
 * {0.05, ..., 3}, the lengths' tails included (4099 = 32 blocks of 128 +
 * 3). Bounds: the measured maxima rounded up: shared 16-lane y 2.93, dx
 * 3.79, dk 1.47 (the generic stages: 2.89, 3.32, and dk 22.2 per element,
 * 34.8 shared in the x86-64-v3 build, where their product for dk passes
 * below FLT_MIN); the k sum over the call
 * within 2e-7 of sum |term| (measured 4.3e-8). Every y and dx finite. */
TEST(act_tsqrt_tanh_kernels)
{
	al_act_spec s;
	REQUIRE_OK(al_act_parse("tsqrt_tanh", &s));
	const al_act_desc *d = s.desc;
	enum { N = 4099 };
	float *x = al_malloc(N * 4), *y = al_malloc(N * 4), *dy = al_malloc(N * 4),
	      *dx = al_malloc(N * 4), *ye = al_malloc(N * 4), *dxe = al_malloc(N * 4),
	      *kp = al_malloc(N * 4), *dkp = al_malloc(N * 4);
	REQUIRE(x && y && dy && dx && ye && dxe && kp && dkp, "alloc");
	static const float ks[] = {0.05f, 0.2f, 0.5f, 0.73f, 1.0f, 1.5f, 3.0f};
	static const float sp[] = {0.0f, -0.0f, 1.0f, -1.0f, 1.0f + 0x1p-20f, 1.0f - 0x1p-20f,
				   -1.0f - 0x1p-20f, -1.0f + 0x1p-20f, 1e-45f, -1e-45f};
	al_rng r;
	al_rng_seed(&r, 41);
	double wy[2] = {0}, wd[2] = {0}, wk[2] = {0}, wg = 0;
	char at[2][160] = {"", ""};
	for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ki++) {
		float k = ks[ki];
		for (int j = 0; j < N; j++) {
			if (j < (int)(sizeof sp / sizeof *sp)) {
				x[j] = sp[j];
			} else {
				double e = -140 + 154 * (double)al_rng_uniform(&r);
				x[j] = (float)ldexp(1 + (double)al_rng_uniform(&r), (int)floor(e));
				if (al_rng_uniform(&r) < 0.5f)
					x[j] = -x[j];
			}
			dy[j] = (float)(1 - 2 * (double)al_rng_uniform(&r));
			kp[j] = k;
			dkp[j] = 0;
		}
		/* shared k: one call (y, dx, the k sum), then n = 1 calls (dk per element) */
		float kk = k, dks = 0, *pp[AL_ACT_MAXP] = {&dks};
		al_act_args a = {.h = s.hyper, .pstride = 0};
		a.p[0] = &kk;
		d->fwd(&a, N, x, y);
		d->bwd(&a, N, x, y, dy, dx, pp);
		/* per element: the stamped kernels */
		al_act_args ae = {.h = s.hyper, .pstride = 1};
		ae.p[0] = kp;
		float *pe[AL_ACT_MAXP] = {dkp};
		d->fwd(&ae, N, x, ye);
		d->bwd(&ae, N, x, ye, dy, dxe, pe);
		double gs = 0, ga = 0;
		for (int j = 0; j < N; j++) {
			float one1 = 1.0f, dk1 = 0, d1, y1 = y[j], *p1[AL_ACT_MAXP] = {&dk1};
			d->bwd(&a, 1, &x[j], &y1, &one1, &d1, p1);
			double g = (double)dy[j], rdx, rdk, sc[3];
			const double got[2][3] = {{y[j], dx[j], dk1}, {ye[j], dxe[j], dkp[j]}};
			for (int v = 0; v < 2; v++) {
				/* the generic stages clamp |x| at 1e-30 (as the per-element kernels) */
				double lo = v == 1 || !TT_V16 ? 1e-30 : 0;
				double ry = tt_ref((double)x[j], (double)k, lo, &rdx, &rdk, sc);
				double ey = fabs(got[v][0] - ry) / sc[0];
				double ed = fabs(got[v][1] - rdx * g) / (sc[1] * fabs(g));
				/* per element: dy dk as accumulated (rounded below FLT_MIN) */
				double ek = v == 0 ? fabs(got[v][2] - rdk) / sc[2]
						   : fabs(got[v][2] - rdk * g) / (sc[2] * fabs(g) + 0x1p-150);
				if (ek > wk[v])
					snprintf(at[v], sizeof at[v], "k=%g x=%.9g: y %.9g/%.9g dx %.9g/%.9g dk %.9g/%.9g",
						 (double)k, (double)x[j], got[v][0], ry, got[v][1], rdx * g,
						 got[v][2], rdk);
				wy[v] = ey > wy[v] ? ey : wy[v];
				wd[v] = ed > wd[v] ? ed : wd[v];
				wk[v] = ek > wk[v] ? ek : wk[v];
				if (v == 0) {
					gs += rdk * g;
					ga += fabs(rdk * g);
				}
			}
			CHECK(isfinite(y[j]) && isfinite(dx[j]), "k=%g x=%g: y %g dx %g", (double)k,
			      (double)x[j], (double)y[j], (double)dx[j]);
		}
		double eg = fabs((double)dks - gs) / (ga + DBL_MIN);
		wg = eg > wg ? eg : wg;
	}
	if (getenv("ACTLAB_TEST_VERBOSE")) {
		printf("shared: y %.2f dx %.2f dk %.2f (%s)\n", wy[0], wd[0], wk[0], at[0]);
		printf("per-element: y %.2f dx %.2f dk %.2f (%s)\n", wy[1], wd[1], wk[1], at[1]);
		printf("k sum: %.3g of sum |term|\n", wg);
	}
	/* without AVX-512 the shared-k kernels are the generic stages */
	const double bk = TT_V16 ? 2 : 40;
	CHECK(wy[0] <= 3.5 && wd[0] <= 4.5 && wk[0] <= bk,
	      "shared k: y %.2f, dx %.2f, dk %.2f units (bounds 3.5, 4.5, %g); worst dk %s", wy[0],
	      wd[0], wk[0], bk, at[0]);
	CHECK(wy[1] <= 3.5 && wd[1] <= 4 && wk[1] <= 24,
	      "per-element k: y %.2f, dx %.2f, dk %.2f units (bounds 3.5, 4, 24); worst dk %s", wy[1],
	      wd[1], wk[1], at[1]);
	CHECK(wg <= 2e-7, "shared k sum: %.3g of sum |term|, bound 2e-7", wg);
	al_free(x);
	al_free(y);
	al_free(dy);
	al_free(dx);
	al_free(ye);
	al_free(dxe);
	al_free(kp);
	al_free(dkp);
}
