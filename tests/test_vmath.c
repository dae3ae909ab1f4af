/* test_vmath.c — accuracy, special values and vector/scalar identity of the
 * branch-free float math in src/math/vmath.h.
 *
 * Each accuracy test sweeps a dense, evenly spaced (in bit pattern) set of
 * floats over the function's whole domain plus denser windows where the
 * method changes (thresholds, subnormal and overflow boundaries, near 0) and
 * compares against double libm: err = |y - f(x)| / ulp(f(x)). The bounds are
 * the maxima measured over all 2^32 inputs (quoted in vmath.h), so a sample
 * can never legitimately exceed them.
 * Not for: the activation kernels themselves (their tests use the catalog).
 */
#include <float.h>
#include <stdint.h>
#include <string.h>

#include "math/vmath.h"
#include "math/vmath16.h"
#include "test.h"

/* Test names carry VMATH_SUFFIX: tests/test_vmath_contract.c includes this
 * file again, compiled with FMA contraction like the element kernels. */
#ifndef VMATH_SUFFIX
#define VMATH_SUFFIX
#endif
#define VTEST__(n, s) TEST(n##s)
#define VTEST_(n, s) VTEST__(n, s)
#define VTEST(n) VTEST_(n, VMATH_SUFFIX)

/* ---- bounds (ulp): the all-input maxima quoted in vmath.h, rounded up --- */
#define B_EXP 0.80
#define B_EXP_FAST 1.20
#define B_EXPM1 1.20
#define B_LOG 0.89
#define B_LOG1P 0.86
#define B_SIGMOID 2.01
#define B_TANH 1.25
#define B_SOFTPLUS 1.60
#define B_ERF 1.45
#define B_EXP_1M_OM 1.35   /* 1 - e^x of al_expf_fast_1m */
#define B_TANH_1M 2.70     /* (1 - w) / (1 + w) from it, w = e^-2a */

/* ---- helpers ------------------------------------------------------------ */

static uint32_t bits(float x)
{
	uint32_t u;
	memcpy(&u, &x, sizeof u);
	return u;
}

static float from_bits(uint32_t u)
{
	float x;
	memcpy(&x, &u, sizeof x);
	return x;
}

/* Monotone integer key: -inf < ... < -0 < +0 < ... < +inf. */
static int64_t fkey(float x)
{
	uint32_t u = bits(x);
	return (u & 0x80000000u) ? -(int64_t)(u & 0x7fffffffu) - 1 : (int64_t)u;
}

static float from_key(int64_t k)
{
	return k >= 0 ? from_bits((uint32_t)k) : from_bits(0x80000000u | (uint32_t)(-(k + 1)));
}


/* Error of y against the double reference, in ulp; 1e30 for a wrong class
 * (NaN vs number, inf vs finite). */
static double ulp_err(float y, double ref)
{
	if (isnan(ref))
		return isnan(y) ? 0.0 : 1e30;
	float rf = (float)ref;
	if (isinf(rf)) {
		if (y == rf)
			return 0.0;
		if (isnan(y) || isinf(y))
			return 1e30;
		return fabs((double)y - ref) / ulp_at((double)FLT_MAX);
	}
	if (isnan(y) || isinf(y))
		return 1e30;
	return fabs((double)y - ref) / ulp_at(ref);
}

static double ref_sigmoid(double x)
{
	return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
}

static double ref_softplus(double x)
{
	return (x > 0 ? x : 0.0) + log1p(exp(-fabs(x)));
}

/* Vector kernels: the same element functions inside `omp simd` loops, as
 * the activation kernels use them. */
typedef void (*vec_fn)(int n, float *restrict y, const float *restrict x);
#define VEC(fn)                                                                   \
	static void vec_##fn(int n, float *restrict y, const float *restrict x) \
	{                                                                         \
		_Pragma("omp simd") for (int i = 0; i < n; i++) y[i] = fn(x[i]);  \
	}
VEC(al_expf)
VEC(al_expf_fast)
VEC(al_expf_fast_ovf)
VEC(al_expm1f)
VEC(al_logf)
VEC(al_logf_pos)
VEC(al_log1pf)
VEC(al_sigmoidf)
VEC(al_tanhf)
VEC(al_softplusf)
VEC(al_erff)
VEC(al_fabsf)
VEC(al_sqrtf)
static inline float exp1m_w(float x)
{
	float om;
	return al_expf_fast_1m(x, &om);
}
static inline float exp1m_om(float x)
{
	float om;
	(void)al_expf_fast_1m(x, &om);
	return om;
}
static inline float exp1m_tanh(float a) /* a >= 0 */
{
	float om, w = al_expf_fast_1m(-2.0f * a, &om);
	return om / (1.0f + w);
}
VEC(exp1m_w)
VEC(exp1m_om)
VEC(exp1m_tanh)

/* Scalar references: one call at a time through a non-inlined wrapper, so
 * the compiler cannot vectorise the loop that calls them. */
#define SCALAR(fn)                                                          \
	__attribute__((noinline, noclone)) static float sc_##fn(float x) \
	{                                                                   \
		return fn(x);                                               \
	}
SCALAR(al_expf)
SCALAR(al_expf_fast_ovf)
SCALAR(al_expm1f)
SCALAR(al_logf)
SCALAR(al_log1pf)
SCALAR(al_sigmoidf)
SCALAR(al_tanhf)
SCALAR(al_softplusf)
SCALAR(al_erff)
SCALAR(al_fabsf)
SCALAR(al_sqrtf)

struct worst {
	double err;
	float x, y;
	long n;
};

#define CHUNK 4096

/* Evaluates vf on about npts floats evenly spaced in bit pattern over
 * [lo, hi] (both ends included) and folds the worst error into w. */
static void sweep(struct worst *w, vec_fn vf, double (*ref)(double), float lo, float hi,
		  int64_t npts)
{
	static float xs[CHUNK], ys[CHUNK];
	int64_t a = fkey(lo), b = fkey(hi);
	int64_t step = (b - a) / npts;
	step = (step < 1 ? 1 : step) | 1; /* odd: mantissa patterns vary */
	int64_t k = a;
	while (k <= b) {
		int n = 0;
		for (; n < CHUNK && k <= b; n++, k += step)
			xs[n] = from_key(k);
		if (k > b && n < CHUNK && xs[n - 1] != hi)
			xs[n++] = hi;
		vf(n, ys, xs);
		for (int i = 0; i < n; i++) {
			double e = ulp_err(ys[i], ref((double)xs[i]));
			if (e > w->err) {
				w->err = e;
				w->x = xs[i];
				w->y = ys[i];
			}
		}
		w->n += n;
	}
}

#define CHECK_WORST(w, name, bound)                                                  \
	CHECK((w).err <= (bound), "%s: max %.3f ulp at x = %a (y = %.9g), bound %.2f", \
	      name, (w).err, (double)(w).x, (double)(w).y, (double)(bound))

/* Bitwise equality that also accepts any NaN for any NaN. */
static int same(float a, float b)
{
	return bits(a) == bits(b) || (isnan(a) && isnan(b));
}

/* ---- accuracy ------------------------------------------------------------ */

VTEST(vmath_exp_ulp)
{
	struct worst w = {0};
	sweep(&w, vec_al_expf, exp, -110.0f, 90.0f, 600000);
	sweep(&w, vec_al_expf, exp, -104.5f, -87.0f, 150000);  /* subnormal results */
	sweep(&w, vec_al_expf, exp, 88.6f, 88.8f, 20000);      /* overflow edge */
	sweep(&w, vec_al_expf, exp, -0x1p-20f, 0x1p-20f, 50000); /* around 0 */
	sweep(&w, vec_al_expf, exp, -1.0f, 1.0f, 100000);
	CHECK_WORST(w, "expf", B_EXP);
}

/* The cheaper exponential of the sigmoid, silu and gelu kernels, on its
 * contract x <= 43 (callers pass x <= 0), with gradual underflow. */
VTEST(vmath_expf_fast_ulp)
{
	struct worst w = {0};
	sweep(&w, vec_al_expf_fast, exp, -110.0f, 43.0f, 600000);
	sweep(&w, vec_al_expf_fast, exp, -104.5f, -87.0f, 150000); /* subnormal results */
	sweep(&w, vec_al_expf_fast, exp, -0x1p-20f, 0x1p-20f, 50000);
	sweep(&w, vec_al_expf_fast, exp, -1.0f, 1.0f, 100000);
	CHECK_WORST(w, "expf_fast", B_EXP_FAST);
	float nan = NAN;
	CHECK(al_expf_fast(nan) != al_expf_fast(nan), "expf_fast(NaN) not NaN");
	CHECK(al_expf_fast(-INFINITY) == 0.0f, "expf_fast(-inf) = %a", (double)al_expf_fast(-INFINITY));
	CHECK(al_expf_fast(0.0f) == 1.0f, "expf_fast(0) = %a", (double)al_expf_fast(0.0f));
	CHECK(al_expf_fast(-103.0f) > 0.0f && al_expf_fast(-103.0f) < 1e-44f, "expf_fast(-103) flushed");
}

/* The overflow-safe variant (tsqrt, tsqrt_tanh powers): the same bound over
 * the whole range, +inf beyond FLT_MAX, 0 below -104. */
VTEST(vmath_expf_fast_ovf_ulp)
{
	struct worst w = {0};
	sweep(&w, vec_al_expf_fast_ovf, exp, -110.0f, 90.0f, 600000);
	sweep(&w, vec_al_expf_fast_ovf, exp, -104.5f, -87.0f, 150000); /* subnormal results */
	sweep(&w, vec_al_expf_fast_ovf, exp, 88.6f, 88.8f, 20000);     /* overflow edge */
	sweep(&w, vec_al_expf_fast_ovf, exp, 40.0f, 50.0f, 50000);     /* al_expf_fast's limit */
	sweep(&w, vec_al_expf_fast_ovf, exp, -0x1p-20f, 0x1p-20f, 50000);
	sweep(&w, vec_al_expf_fast_ovf, exp, -1.0f, 1.0f, 100000);
	CHECK_WORST(w, "expf_fast_ovf", B_EXP_FAST);
}

/* al_expf_fast_1m (tanh from e^-2a without a polynomial: atanh, method1,
 * tsqrt_tanh): w as accurate as al_expf_fast, 1 - w without cancellation
 * near x = 0 (relative, down to tiny x), and the tanh built from both. */
static double ref_om(double x) { return -expm1(x); }
VTEST(vmath_expf_fast_1m_ulp)
{
	struct worst w = {0}, o = {0}, t = {0};
	sweep(&w, vec_exp1m_w, exp, -110.0f, 0.0f, 600000);
	sweep(&w, vec_exp1m_w, exp, -104.5f, -87.0f, 150000); /* subnormal results */
	sweep(&w, vec_exp1m_w, exp, -1.0f, 0.0f, 100000);
	CHECK_WORST(w, "expf_fast_1m w", B_EXP_FAST);
	sweep(&o, vec_exp1m_om, ref_om, -110.0f, -0x1p-149f, 600000);
	sweep(&o, vec_exp1m_om, ref_om, -1e-3f, -0x1p-149f, 200000); /* tiny: relative */
	sweep(&o, vec_exp1m_om, ref_om, -2.0f, 0.0f, 200000);       /* k = 0, -1, -2 */
	CHECK_WORST(o, "expf_fast_1m 1 - w", B_EXP_1M_OM);
	sweep(&t, vec_exp1m_tanh, tanh, 0.0f, 60.0f, 600000);
	sweep(&t, vec_exp1m_tanh, tanh, 0.0f, 1.0f, 300000);
	CHECK_WORST(t, "tanh from expf_fast_1m", B_TANH_1M);
	float om = -1, nan = NAN;
	CHECK(al_expf_fast_1m(0.0f, &om) == 1.0f && om == 0.0f, "x = 0: om %a", (double)om);
	CHECK(al_expf_fast_1m(-INFINITY, &om) == 0.0f && om == 1.0f, "x = -inf: om %a", (double)om);
	CHECK(al_expf_fast_1m(-200.0f, &om) == 0.0f && om == 1.0f, "x = -200: om %a", (double)om);
	CHECK(isnan(al_expf_fast_1m(nan, &om)) && isnan(om), "NaN");
}

VTEST(vmath_expm1_ulp)
{
	struct worst w = {0};
	sweep(&w, vec_al_expm1f, expm1, -40.0f, 90.0f, 500000);
	sweep(&w, vec_al_expm1f, expm1, -1e-3f, 1e-3f, 200000); /* tiny, incl. subnormal */
	sweep(&w, vec_al_expm1f, expm1, -2.0f, 2.0f, 200000);
	sweep(&w, vec_al_expm1f, expm1, 88.6f, 88.8f, 20000);
	CHECK_WORST(w, "expm1f", B_EXPM1);
}

VTEST(vmath_log_ulp)
{
	struct worst w = {0};
	sweep(&w, vec_al_logf, log, 0x1p-149f, INFINITY, 600000); /* all positives */
	sweep(&w, vec_al_logf, log, 0.7f, 1.5f, 200000);          /* near 1 */
	CHECK_WORST(w, "logf", B_LOG);
	struct worst wp = {0};
	sweep(&wp, vec_al_logf_pos, log, FLT_MIN, INFINITY, 600000); /* its domain */
	sweep(&wp, vec_al_logf_pos, log, 0.7f, 1.5f, 200000);
	CHECK_WORST(wp, "logf_pos", B_LOG);
}

VTEST(vmath_log1p_ulp)
{
	struct worst w = {0};
	sweep(&w, vec_al_log1pf, log1p, -1.0f, 1e30f, 500000);
	sweep(&w, vec_al_log1pf, log1p, -1e-3f, 1e-3f, 200000);
	sweep(&w, vec_al_log1pf, log1p, -0.5f, 4.0f, 200000);
	sweep(&w, vec_al_log1pf, log1p, 1e6f, 1e8f, 50000); /* correction term dies */
	CHECK_WORST(w, "log1pf", B_LOG1P);
}

VTEST(vmath_sigmoid_ulp)
{
	struct worst w = {0};
	sweep(&w, vec_al_sigmoidf, ref_sigmoid, -120.0f, 120.0f, 600000);
	sweep(&w, vec_al_sigmoidf, ref_sigmoid, -8.0f, 8.0f, 200000);
	sweep(&w, vec_al_sigmoidf, ref_sigmoid, -104.5f, -86.0f, 50000);
	CHECK_WORST(w, "sigmoidf", B_SIGMOID);
}

#ifdef AL_HAVE_VMATH16
/* The 16-lane exponential of the sigmoid kernels (vmath16.h), e^-min(|x|,
 * 104): table-driven, 0.53 ulp for normal results and 0.75 below FLT_MIN
 * over all floats in [-104, 0]; the odd lengths exercise the masked tail. */
static void vec_expneg16(int n, float *restrict y, const float *restrict x)
{
	int i = 0;
	for (; i + 16 <= n; i += 16)
		_mm512_storeu_ps(y + i, al_expnegf16(_mm512_loadu_ps(x + i)));
	if (i < n) {
		__mmask16 m = (__mmask16)((1u << (n - i)) - 1);
		_mm512_mask_storeu_ps(y + i, m, al_expnegf16(_mm512_maskz_loadu_ps(m, x + i)));
	}
}

static double ref_expnegabs(double x) { return exp(-fabs(x)); }

VTEST(vmath_expnegf16_ulp)
{
	struct worst w = {0};
	sweep(&w, vec_expneg16, ref_expnegabs, -110.0f, 110.0f, 600001);
	sweep(&w, vec_expneg16, ref_expnegabs, -104.5f, -87.0f, 150001); /* subnormal results */
	sweep(&w, vec_expneg16, ref_expnegabs, 87.0f, 104.5f, 150001);
	sweep(&w, vec_expneg16, ref_expnegabs, -0x1p-20f, 0x1p-20f, 50001);
	sweep(&w, vec_expneg16, ref_expnegabs, -1.0f, 1.0f, 100001);
	CHECK_WORST(w, "expnegf16", 0.76);
	const float sx[4] = {NAN, INFINITY, -INFINITY, -0.0f};
	float sy[4];
	vec_expneg16(4, sy, sx);
	CHECK(isnan(sy[0]) && sy[1] == 0.0f && sy[2] == 0.0f && sy[3] == 1.0f,
	      "expnegf16(NaN, inf, -inf, -0) = %g %g %g %g", (double)sy[0], (double)sy[1],
	      (double)sy[2], (double)sy[3]);
}
#endif

VTEST(vmath_tanh_ulp)
{
	struct worst w = {0};
	sweep(&w, vec_al_tanhf, tanh, -12.0f, 12.0f, 600000);
	sweep(&w, vec_al_tanhf, tanh, 0.5f, 0.6f, 100000); /* method switch at 0.55 */
	sweep(&w, vec_al_tanhf, tanh, -1e-3f, 1e-3f, 100000);
	sweep(&w, vec_al_tanhf, tanh, 8.5f, 9.5f, 20000); /* saturation */
	CHECK_WORST(w, "tanhf", B_TANH);
}

VTEST(vmath_softplus_ulp)
{
	struct worst w = {0};
	sweep(&w, vec_al_softplusf, ref_softplus, -120.0f, 120.0f, 600000);
	sweep(&w, vec_al_softplusf, ref_softplus, -4.0f, 4.0f, 200000);
	sweep(&w, vec_al_softplusf, ref_softplus, -104.5f, -86.0f, 50000);
	CHECK_WORST(w, "softplusf", B_SOFTPLUS);
}

VTEST(vmath_erf_ulp)
{
	struct worst w = {0};
	sweep(&w, vec_al_erff, erf, -5.0f, 5.0f, 600000);
	sweep(&w, vec_al_erff, erf, 0.85f, 1.0f, 100000); /* switch at 0.921875 */
	sweep(&w, vec_al_erff, erf, 3.8f, 4.0f, 20000);   /* saturation at 3.92 */
	sweep(&w, vec_al_erff, erf, -1e-3f, 1e-3f, 100000);
	CHECK_WORST(w, "erff", B_ERF);
}

/* a^z: the rounding of y = z*log(a) is amplified by exp, so the bound is
 * 1 + 2|y| ulp (measured (err - 1)/|y| <= 1.91 on 2e7 random pairs). */
VTEST(vmath_powf_pos_ulp)
{
	double worst = 0;
	float wa = 0, wz = 0;
	for (int i = 0; i <= 2000; i++) {
		float a = (float)ldexp(1.0 + (double)(i % 1000) / 1000.0, i / 100 - 10);
		for (int j = 0; j <= 200; j++) {
			float z = -4.0f + 0.04f * (float)j;
			double ref = pow((double)a, (double)z);
			double e = ulp_err(al_powf_pos(a, z), ref);
			double allowed = 1.0 + 2.0 * fabs((double)z * log((double)a));
			if (e - allowed > worst) {
				worst = e - allowed;
				wa = a;
				wz = z;
			}
		}
	}
	CHECK(worst <= 0.0, "powf_pos: error exceeds 1 + 2|z log a| ulp by %.3f at a=%a z=%a",
	      worst, (double)wa, (double)wz);
	CHECK(al_powf_pos(5.0f, 0.0f) == 1.0f, "a^0 != 1");
	CHECK(al_powf_pos(NAN, 0.0f) == 1.0f, "NaN^0 != 1");
	CHECK(al_powf_pos(1.0f, 3.7f) == 1.0f, "1^z != 1");
	CHECK_NEAR(al_powf_pos(4.0f, 0.5f), 2.0, 4e-7);
	CHECK(al_powf_pos(0.0f, 2.0f) == 0.0f, "0^2 != 0");
	CHECK(isinf(al_powf_pos(0.0f, -2.0f)), "0^-2 != inf");
	CHECK(isinf(al_powf_pos(INFINITY, 0.5f)), "inf^0.5 != inf");
	CHECK(isnan(al_powf_pos(NAN, 0.5f)), "NaN^0.5 not NaN");
}

VTEST(vmath_sqrt_fabs)
{
	for (int64_t k = fkey(-INFINITY); k <= fkey(INFINITY); k += 1000003) {
		float x = from_key(k);
		CHECK(bits(al_fabsf(x)) == (bits(x) & 0x7fffffffu), "fabs(%a)", (double)x);
		float ax = al_fabsf(x);
		CHECK(same(al_sqrtf(ax), sqrtf(ax)), "sqrt(%a)", (double)ax);
	}
	CHECK(bits(al_fabsf(-0.0f)) == 0, "fabs(-0) keeps the sign");
	CHECK(isnan(al_fabsf(-NAN)) && !signbit(al_fabsf(-NAN)), "fabs(-NaN)");
	CHECK(isnan(al_sqrtf(-1.0f)), "sqrt(-1) not NaN");
	CHECK(bits(al_sqrtf(-0.0f)) == bits(-0.0f), "sqrt(-0) != -0");
}

/* ---- special values -------------------------------------------------- */

struct sv {
	float x, want; /* want NaN means "must be NaN" */
};

static void check_specials(const char *name, float (*f)(float), const struct sv *t, int n)
{
	for (int i = 0; i < n; i++) {
		float y = f(t[i].x);
		if (isnan(t[i].want))
			CHECK(isnan(y), "%s(%a) = %a, want NaN", name, (double)t[i].x, (double)y);
		else
			CHECK(bits(y) == bits(t[i].want), "%s(%a) = %a, want %a", name,
			      (double)t[i].x, (double)y, (double)t[i].want);
	}
}

#define SPECIALS(name, f, ...)                                               \
	do {                                                                 \
		const struct sv t_[] = {__VA_ARGS__};                        \
		check_specials(name, f, t_, (int)(sizeof t_ / sizeof t_[0])); \
	} while (0)

VTEST(vmath_special_values)
{
	const float inf = INFINITY, nan = NAN;
	SPECIALS("expf", al_expf, {nan, nan}, {-nan, nan}, {inf, inf}, {-inf, 0.0f},
		 {0.0f, 1.0f}, {-0.0f, 1.0f}, {89.0f, inf}, {88.73f, inf}, {1e30f, inf},
		 {-104.0f, 0.0f}, {-1e30f, 0.0f}, {0x1p-149f, 1.0f});
	CHECK(isfinite(al_expf(88.72283f)) && al_expf(88.72283f) > 3e38f, "expf(88.72283)");
	CHECK(al_expf(-103.0f) > 0.0f && al_expf(-103.0f) < 1e-44f, "expf(-103) flushed");

	SPECIALS("expf_fast_ovf", al_expf_fast_ovf, {nan, nan}, {-nan, nan}, {inf, inf},
		 {-inf, 0.0f}, {0.0f, 1.0f}, {-0.0f, 1.0f}, {89.0f, inf}, {88.73f, inf},
		 {1e30f, inf}, {-104.0f, 0.0f}, {-1e30f, 0.0f});
	CHECK(isfinite(al_expf_fast_ovf(88.72283f)) && al_expf_fast_ovf(88.72283f) > 3e38f,
	      "expf_fast_ovf(88.72283)");
	CHECK(al_expf_fast_ovf(-103.0f) > 0.0f && al_expf_fast_ovf(-103.0f) < 1e-44f,
	      "expf_fast_ovf(-103) flushed");
	SPECIALS("logf_pos", al_logf_pos, {inf, inf}, {1.0f, 0.0f});

	SPECIALS("expm1f", al_expm1f, {nan, nan}, {inf, inf}, {-inf, -1.0f}, {0.0f, 0.0f},
		 {-0.0f, -0.0f}, {0x1p-149f, 0x1p-149f}, {-0x1p-149f, -0x1p-149f},
		 {1e-20f, 1e-20f}, {89.0f, inf}, {-30.0f, -1.0f}, {-1e30f, -1.0f});

	SPECIALS("logf", al_logf, {nan, nan}, {inf, inf}, {-inf, nan}, {0.0f, -inf},
		 {-0.0f, -inf}, {-1.0f, nan}, {-0x1p-149f, nan}, {1.0f, 0.0f});
	CHECK_NEAR(al_logf(0x1p-149f), -103.27892990343185, 2e-5);
	CHECK_NEAR(al_logf(FLT_MAX), 88.72283905206835, 1e-5);

	SPECIALS("log1pf", al_log1pf, {nan, nan}, {inf, inf}, {-inf, nan}, {0.0f, 0.0f},
		 {-0.0f, -0.0f}, {-1.0f, -inf}, {-1.5f, nan}, {0x1p-149f, 0x1p-149f},
		 {-0x1p-149f, -0x1p-149f}, {1e-20f, 1e-20f});

	SPECIALS("sigmoidf", al_sigmoidf, {nan, nan}, {inf, 1.0f}, {-inf, 0.0f}, {0.0f, 0.5f},
		 {-0.0f, 0.5f}, {100.0f, 1.0f}, {1e30f, 1.0f}, {-1e30f, 0.0f});
	float s100 = al_sigmoidf(-100.0f);
	CHECK(s100 > 0.0f && ulp_err(s100, ref_sigmoid(-100.0)) <= B_SIGMOID,
	      "sigmoid(-100) = %a", (double)s100);

	SPECIALS("tanhf", al_tanhf, {nan, nan}, {inf, 1.0f}, {-inf, -1.0f}, {0.0f, 0.0f},
		 {-0.0f, -0.0f}, {100.0f, 1.0f}, {-100.0f, -1.0f}, {9.1f, 1.0f},
		 {-9.1f, -1.0f}, {0x1p-149f, 0x1p-149f}, {-0x1p-149f, -0x1p-149f});

	SPECIALS("softplusf", al_softplusf, {nan, nan}, {inf, inf}, {-inf, 0.0f},
		 {100.0f, 100.0f}, {1e30f, 1e30f}, {-1e30f, 0.0f});
	CHECK(fabsf(al_softplusf(0.0f) - 0.6931472f) <= 6e-8f, "softplus(0)");
	float sp100 = al_softplusf(-100.0f);
	CHECK(sp100 > 0.0f && ulp_err(sp100, ref_softplus(-100.0)) <= B_SOFTPLUS,
	      "softplus(-100) = %a", (double)sp100);

	SPECIALS("erff", al_erff, {nan, nan}, {inf, 1.0f}, {-inf, -1.0f}, {0.0f, 0.0f},
		 {-0.0f, -0.0f}, {3.92f, 1.0f}, {-3.92f, -1.0f}, {10.0f, 1.0f},
		 {-1e30f, -1.0f});
}

/* Odd functions are exactly odd (sign copied), saturating ones monotone at
 * their switch points. */
VTEST(vmath_symmetry)
{
	for (int64_t k = 0; k <= fkey(20.0f); k += 9973) {
		float x = from_key(k);
		CHECK(bits(al_tanhf(-x)) == (bits(al_tanhf(x)) ^ 0x80000000u), "tanh odd at %a",
		      (double)x);
		CHECK(bits(al_erff(-x)) == (bits(al_erff(x)) ^ 0x80000000u), "erf odd at %a",
		      (double)x);
		/* sigmoid(x) + sigmoid(-x) = 1 up to rounding */
		CHECK(fabsf(al_sigmoidf(x) + al_sigmoidf(-x) - 1.0f) <= 1.2e-7f,
		      "sigmoid symmetry at %a", (double)x);
	}
}

/* ---- vector == scalar -------------------------------------------------- */

VTEST(vmath_simd_matches_scalar)
{
	static const vec_fn vf[] = {vec_al_expf,      vec_al_expm1f,   vec_al_logf,
				    vec_al_log1pf,    vec_al_sigmoidf, vec_al_tanhf,
				    vec_al_softplusf, vec_al_erff,     vec_al_fabsf,
				    vec_al_sqrtf,     vec_al_expf_fast_ovf};
	static float (*const sf[])(float) = {sc_al_expf,      sc_al_expm1f,   sc_al_logf,
					     sc_al_log1pf,    sc_al_sigmoidf, sc_al_tanhf,
					     sc_al_softplusf, sc_al_erff,     sc_al_fabsf,
					     sc_al_sqrtf,     sc_al_expf_fast_ovf};
	static const char *names[] = {"exp",  "expm1",    "log", "log1p", "sigmoid",
				      "tanh", "softplus", "erf", "fabs",  "sqrt", "exp_fast_ovf"};
	static const float specials[] = {0.0f,  -0.0f,  INFINITY, -INFINITY, NAN,
					 1.0f,  -1.0f,  0.55f,    0.921875f, 3.92f,
					 88.8f, -104.f, -100.0f,  100.0f,    0x1p-149f,
					 FLT_MAX, -FLT_MAX, 1e-30f, -0.999999f, 9.1f};
	enum { NS = sizeof specials / sizeof specials[0] };
	static const int lens[] = {1, 7, 33, 1001};
	static float x[1001 + 3], y[1001 + 3];
	uint64_t s = 0x9e3779b97f4a7c15u;
	for (size_t f = 0; f < sizeof vf / sizeof vf[0]; f++) {
		for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
			int n = lens[l];
			/* start at offset 1 too, so the vector loop is misaligned */
			for (int off = 0; off < 2; off++) {
				float *xp = x + off, *yp = y + off;
				for (int i = 0; i < n; i++) {
					s ^= s << 13, s ^= s >> 7, s ^= s << 17;
					if (i % 5 == 0)
						xp[i] = specials[(s >> 8) % NS];
					else if (i % 5 == 1) /* any float bit pattern */
						xp[i] = from_bits((uint32_t)(s >> 16));
					else /* the interesting range */
						xp[i] = (float)((double)(s >> 11) * 0x1p-53 * 30.0 - 15.0);
				}
				vf[f](n, yp, xp);
				int bad = 0;
				for (int i = 0; i < n; i++) {
					float r = sf[f](xp[i]);
					if (!same(yp[i], r) && bad++ < 3)
						CHECK(0, "%s n=%d off=%d x[%d]=%a: simd %a, scalar %a",
						      names[f], n, off, i, (double)xp[i], (double)yp[i],
						      (double)r);
				}
			}
		}
	}
}
