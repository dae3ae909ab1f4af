/* vmath.h — branch-free float transcendentals for activation kernels.
 *
 * For: the element functions in src/act/ and any other float kernel that
 * needs exp, log, tanh, erf, sigmoid or softplus inside a `#pragma omp simd`
 * loop. Every function is always inlined (AL_VINLINE) and branch-free: data-dependent
 * choices are ternaries that become blends, float<->int reinterpretation goes
 * through memcpy, and 2^k is built by integer arithmetic on the exponent
 * field. Only + - * / and sqrt are used (no libm calls), so GCC 12
 * vectorises callers under -O3 without -ffast-math and the vector and scalar
 * results are bit-identical. Under the project default -ffp-contract=off the
 * results do not depend on the x86-64 level; src/act/catalog.c (the
 * element kernels) is compiled with -ffp-contract=fast, which fuses
 * multiply-adds into FMAs where the target has them (the error-free
 * transformations below stay exact under fusion), and tests/test_vmath.c
 * checks the bounds below in both modes.
 *
 * Not for: double precision, correctly rounded results, or bit-exact
 * agreement with libm.
 *
 * "Max error" below is the maximum over all 2^32 float inputs (measured with
 * GCC 12, glibc double libm as the reference), in ulp: |y - f(x)| / ulp(f(x))
 * with f(x) the double libm value and ulp the float spacing at f(x) (2^-149
 * for subnormal results); a correctly rounded function scores <= 0.5.
 * tests/test_vmath.c re-checks these bounds on a dense sample. Subnormal
 * inputs and results are handled: nothing is flushed to zero.
 *
 * Summary (max ulp): expf 0.78, expf_fast and expf_fast_ovf 0.89 (1.18
 * without FMA contraction), expf_fast_1m 1.13 (1.18) and its 1 - e^x 1.28
 * (1.34), tanh as (1 - w)/(1 + w) from it 2.64 (2.67), expm1f 1.17, logf and logf_pos 0.89, log1pf 0.85, sigmoidf 1.97 (2.00
 * without FMA contraction), tanhf 1.23, softplusf 1.58, erff 1.13 (1.43
 * without FMA contraction), sqrtf 0.5, powf_pos 1 + 2|z ln a|.
 */
#ifndef ACTLAB_VMATH_H
#define ACTLAB_VMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Always inlined: a call left out of line inside a kernel loop stops GCC
 * from vectorising that loop (the callers are large blends of several of
 * these functions, past GCC's inlining budget). */
#define AL_VINLINE static inline __attribute__((always_inline))

/* ---- bit helpers ------------------------------------------------------ */

AL_VINLINE uint32_t al__f2u(float x)
{
	uint32_t u;
	memcpy(&u, &x, sizeof u);
	return u;
}

AL_VINLINE float al__u2f(uint32_t u)
{
	float x;
	memcpy(&x, &u, sizeof x);
	return x;
}

/* 2^k for integer k in [-126, 127]. */
AL_VINLINE float al__pow2i(int32_t k)
{
	return al__u2f((uint32_t)(k + 127) << 23);
}

/* |x| by clearing the sign bit (NaN stays NaN). */
AL_VINLINE float al_fabsf(float x)
{
	return al__u2f(al__f2u(x) & 0x7fffffffu);
}

/* sqrt, correctly rounded (vsqrtps; no errno with -fno-math-errno). */
AL_VINLINE float al_sqrtf(float x)
{
	return __builtin_sqrtf(x);
}

/* |r| with the sign bit of s (copysignf without the libm call). */
AL_VINLINE float al_copysignf(float r, float s)
{
	return al__u2f((al__f2u(r) & 0x7fffffffu) | (al__f2u(s) & 0x80000000u));
}

/* Older internal spelling, kept for existing callers. */
AL_VINLINE float al__copysign(float r, float s)
{
	return al_copysignf(r, s);
}

/* ---- exp family ------------------------------------------------------- */

/* Cody–Waite reduction x = k ln2 + r + cr, |r| <= ln2/2 (+ rounding): returns
 * r, stores the integer k and cr, the rounding error of r. x*log2(e) is
 * rounded to an integer by adding 1.5*2^23; valid for |x| < 2^22 (k stays in
 * [-151, 129] for the clamped inputs used here). */
AL_VINLINE float al__exp_reduce(float x, int32_t *k, float *cr)
{
	const float magic = 0x1.8p23f;
	float kf = x * 0x1.715476p+0f + magic;
	*k = (int32_t)(al__f2u(kf) - al__f2u(magic));
	float n = kf - magic;
	float hi = x - n * 0x1.63p-1f; /* ln2 hi has 9 bits: n*hi and hi exact */
	float lo = n * -0x1.bd0106p-13f; /* ln2 - ln2 hi */
	float r = hi - lo;
	*cr = (hi - r) - lo;
	return r;
}

/* (exp(r) - 1 - r) / r^2 on |r| <= 0.35, minimax relative to exp(r)
 * (approximation error 3.3e-9 relative). */
AL_VINLINE float al__exp_poly(float r)
{
	return (((0x1.6a1a5cp-10f * r + 0x1.123fd2p-7f) * r + 0x1.555916p-5f) * r +
		0x1.55548ap-3f) * r + 0x1.fffffcp-2f;
}

/* exp(r + cr) for the reduced argument: 1 + r summed exactly (Fast2Sum),
 * so the only large rounding is the last addition. */
AL_VINLINE float al__exp_kernel(float r, float cr)
{
	float S = 1.0f + r;
	float E = (1.0f - S) + r;
	return S + ((al__exp_poly(r) * (r * r) + cr) + E);
}

/* exp(x) for x in [-87.3, 88.7] (normal results), no special cases. */
AL_VINLINE float al__expf_core(float x)
{
	int32_t k;
	float cr;
	float r = al__exp_reduce(x, &k, &cr);
	return al__exp_kernel(r, cr) * al__pow2i(k);
}

/* the fast exponentials' reduction x = k ln2 + r, |r| <= ln2/2: k by the
 * magic-number rounding, r in two steps (ln2 split in a 17-bit head and a
 * tail) */
AL_VINLINE float al__exp_reduce_fast(float x, int32_t *k)
{
	const float magic = 0x1.8p23f;
	float kf = x * 0x1.715476p+0f + magic;
	*k = (int32_t)(al__f2u(kf) - al__f2u(magic));
	float n = kf - magic;
	float r = x - n * 0x1.63p-1f; /* exact: n * ln2_hi has at most 17 bits */
	return r + n * 0x1.bd0106p-13f;
}

/* al_expf_fast: exp(x) for x <= 43, the cheaper exponential of the sigmoid,
 * silu and gelu kernels (their arguments are <= 0).
 * Method: the al_expf reduction without its rounding term cr, the same
 * polynomial in Horner form 1 + r (1 + r P(r)) (no Fast2Sum), and 2^k
 * applied as 2^(k+64) (exact) times 2^-64 (one rounding, so results below
 * FLT_MIN are gradual, not flushed). About half of al_expf's operations.
 * x < -104 -> 0 (clamped), NaN -> NaN; x > 43.6 is outside the contract
 * (2^(k+64) overflows). Max error 0.88 ulp for normal results (all floats
 * in [-104, 43] with FMA contraction, 1.18 without), 0.88 ulp below
 * FLT_MIN. al__expf_fast_core: the same without the clamp, for x in
 * [-131, 43]. */
AL_VINLINE float al__expf_fast_core(float x)
{
	int32_t k;
	float r = al__exp_reduce_fast(x, &k);
	float p = al__exp_poly(r);
	p = p * r + 1.0f;
	p = p * r + 1.0f;
	return p * al__pow2i(k + 64) * 0x1p-64f;
}

AL_VINLINE float al_expf_fast(float x)
{
	x = x < -104.0f ? -104.0f : x; /* NaN passes */
	return al__expf_fast_core(x);
}

/* al_expf_fast_1m: w = exp(x) for x <= 0 and *om = 1 - exp(x) without
 * cancellation, for tanh(a) = (1 - w)/(1 + w) with w = e^(-2a) at every
 * a >= 0 (no separate small-argument polynomial).
 * Method: al_expf_fast's reduction x = k ln2 + r and polynomial, q = e^r - 1
 * = r (1 + r P(r)) (no cancellation), w = (1 + q) 2^k (2^k applied as
 * al_expf_fast does, so results below FLT_MIN are gradual), and
 * 1 - w = (1 - 2^k) - 2^k q in one fused multiply-add (1 - 2^k is exact;
 * k clamped at -30, where 1 - w rounds to 1 anyway). x < -104 -> w = 0,
 * om = 1; NaN -> NaN; x > 0 is outside the contract. Not bit-identical to
 * al_expf_fast (q is rounded before 1 + q). Max error over all floats in
 * [-120, 0]: w 1.13 ulp (1.18 without FMA contraction), 1 - w 1.28 (1.34),
 * tanh(a) = (1 - w)/(1 + w) with w = e^(-2a) 2.64 (2.67) ulp, near a = 0.2. */
AL_VINLINE float al_expf_fast_1m(float x, float *om)
{
	x = x < -104.0f ? -104.0f : x; /* NaN passes */
	int32_t k;
	float r = al__exp_reduce_fast(x, &k);
	float p = al__exp_poly(r);
	p = p * r + 1.0f;
	float q = p * r;
	float s = al__pow2i(k < -30 ? -30 : k);
	*om = (1.0f - s) - s * q;
	return (1.0f + q) * al__pow2i(k + 64) * 0x1p-64f;
}

/* al_expf_fast_ovf: exp(x) over the whole float range with al_expf_fast's
 * method, for arguments that may be large and positive (the powers a^z of
 * tsqrt and tsqrt_tanh). Clamps x to [-104, 88.8] and scales by
 * 2^(k-64) * 2^64 for k > 0 (k <= 128: both factors exact, the last
 * product overflows to +inf when it should) and by 2^(k+64) * 2^-64 for
 * k <= 0 (gradual underflow, as al_expf_fast); the choice is integer
 * arithmetic on k's sign (selects cost more here).
 * x > 88.7228 -> +inf, x < -104 -> 0, NaN -> NaN.
 * Max error over all floats in [-104, 88.8]: 0.89 ulp for normal results
 * with FMA contraction (1.18 without), 0.88 below FLT_MIN (0.82 without);
 * every result beyond FLT_MAX is +inf. */
AL_VINLINE float al_expf_fast_ovf(float x)
{
	x = x < -104.0f ? -104.0f : x; /* NaN passes both clamps */
	x = x > 88.8f ? 88.8f : x;
	int32_t k;
	float r = al__exp_reduce_fast(x, &k);
	float p = al__exp_poly(r);
	p = p * r + 1.0f;
	p = p * r + 1.0f;
	int32_t b = ((k - 1) >> 31) & 128; /* 128 for k <= 0, 0 for k > 0 */
	return p * al__pow2i(k - 64 + b) * al__u2f((uint32_t)(191 - b) << 23);
}

/* al_expf: exp(x).
 * Method: clamp to [-104, 88.8], Cody–Waite reduction, degree-6 polynomial
 * 1 + r + r^2 P(r) with the reduction and 1 + r rounding errors carried
 * separately, scale by 2^k as 2^(k/2) * 2^(k - k/2) so that overflow gives
 * +inf and results below FLT_MIN are gradual (not flushed).
 * x > 88.7228 -> +inf, x < -103.98 -> 0, NaN -> NaN.
 * Max error 0.70 ulp for normal results, 0.78 ulp for subnormal ones. */
AL_VINLINE float al_expf(float x)
{
	x = x < -104.0f ? -104.0f : x; /* NaN passes both clamps */
	x = x > 88.8f ? 88.8f : x;
	int32_t k;
	float cr;
	float r = al__exp_reduce(x, &k, &cr);
	float p = al__exp_kernel(r, cr);
	int32_t k1 = k / 2;
	return p * al__pow2i(k1) * al__pow2i(k - k1);
}

/* al_expm1f: exp(x) - 1, accurate near 0.
 * Method: the al_expf reduction x = k ln2 + r; expm1(x) =
 * 2^k ((1 - 2^-k) + r + r^2 P(r)). For k = 0 this is r + r^2 P(r) with r = x
 * exactly, so the error stays relative for tiny x; for k = +-1 the
 * cancelling sum (1 - 2^-k) + r is formed exactly.
 * x < -30 -> -1, x > 88.7228 -> +inf, NaN -> NaN, -0 -> -0.
 * Max error 1.17 ulp (near x = 0.35, where k switches 0 -> 1); 0.87 ulp
 * for x < 0. */
AL_VINLINE float al_expm1f(float x)
{
	float xc = x < -30.0f ? -30.0f : x;
	xc = xc > 88.8f ? 88.8f : xc;
	int32_t k;
	float cr;
	float r = al__exp_reduce(xc, &k, &cr);
	int32_t kc = k > 127 ? 127 : k;
	float s = al__pow2i(kc);
	/* expm1(x) = 2^k ((1 - 2^-k) + r + cr + r^2 P(r)); 1 - 2^-k is exact
	 * for |k| <= 24 and c1 + r is summed exactly (Fast2Sum, |c1| >= |r|
	 * unless c1 = 0), so the cancellation for x in [-1, 1] costs nothing. */
	float c1 = 1.0f - al__pow2i(-kc); /* 2^-127 -> 0, harmless */
	float S = c1 + r;
	float E = r - (S - c1);
	float res = s * (S + ((al__exp_poly(r) * (r * r) + cr) + E));
	res = k > 127 ? res * 2.0f : res;
	return x == 0.0f ? x : res;
}

/* ---- log family ------------------------------------------------------- */

/* Shared by al_log1pf and al_softplusf: for f in [sqrt(1/2)-1, sqrt(2)-1],
 * log(1+f) = f - hfsq + s (hfsq + R(s^2)), s = f/(2+f), hfsq = f^2/2, with
 * the degree-8 odd polynomial of fdlibm/musl logf. Returns
 * s (hfsq + R) and stores hfsq; the callers add the large terms last. */
AL_VINLINE float al__log_kernel(float f, float *hfsq)
{
	float s = f / (2.0f + f);
	float z = s * s, w = z * z;
	float t1 = w * (0x1.999c26p-2f + w * 0x1.f13c4cp-3f);
	float t2 = z * (0x1.555552p-1f + w * 0x1.23d3dcp-2f);
	float h = 0.5f * f * f;
	*hfsq = h;
	return s * (h + (t2 + t1));
}

#define AL__LN2_HI 0x1.62e3p-1f /* k * hi is exact for |k| <= 150 */
#define AL__LN2_LO 0x1.2fefa2p-17f

/* Shared by al_logf and al_logf_pos: for f in [sqrt(1/2)-1, sqrt(2)-1],
 * log(1+f) = f - f^2/2 + f^3 P(f), P of degree 7 (a least-squares fit,
 * relative approximation error 6.5e-9 of log(1+f)), evaluated in Estrin
 * form: no division and a short dependency chain, which on this machine
 * costs about 40% less than al__log_kernel's s = f/(2+f). Returns
 * f^3 P(f) and stores f^2/2. */
AL_VINLINE float al__logf_poly(float f, float *hfsq)
{
	float f2 = f * f, f4 = f2 * f2;
	float p01 = 0x1.55555ep-2f - 0x1.000236p-2f * f;
	float p23 = 0x1.999b7ep-3f - 0x1.546b4p-3f * f;
	float p45 = 0x1.232d44p-3f - 0x1.0e1402p-3f * f;
	float p67 = 0x1.03896ep-3f - 0x1.319688p-4f * f;
	float P = (p01 + f2 * p23) + f4 * (p45 + f2 * p67);
	*hfsq = 0.5f * f2;
	return f2 * f * P;
}

/* log of a positive normal x times 2^kadj: x = 2^k (1 + f) with 1 + f in
 * [sqrt(2)/2, sqrt(2)), log = k ln2 + log(1 + f) (ln2 in two parts) */
AL_VINLINE float al__logf_core(float x, int32_t kadj)
{
	uint32_t ix = al__f2u(x) + (0x3f800000u - 0x3f3504f3u);
	int32_t k = (int32_t)(ix >> 23) - 0x7f + kadj;
	ix = (ix & 0x007fffffu) + 0x3f3504f3u;
	float f = al__u2f(ix) - 1.0f;
	float hfsq;
	float t = al__logf_poly(f, &hfsq);
	float dk = (float)k;
	return t + dk * AL__LN2_LO - hfsq + f + dk * AL__LN2_HI;
}

/* al_logf: natural log.
 * Method: subnormals scaled by 2^25; x = 2^k * (1+f) with 1+f in
 * [sqrt(1/2), sqrt(2)); log(1+f) = f - f^2/2 + f^3 P(f) (al__logf_poly);
 * k*ln2 split in hi/lo, the large terms added last.
 * log(0) = -inf, log(x<0) = NaN, log(+inf) = +inf, NaN -> NaN.
 * Max error 0.89 ulp (all positive floats; with and without FMA
 * contraction; 0.84 with the earlier f/(2+f) kernel). */
AL_VINLINE float al_logf(float x)
{
	int sub = x < 0x1p-126f; /* also true for 0 and negatives: fixed below */
	float xs = sub ? x * 0x1p25f : x;
	int32_t kadj = sub ? -25 : 0;
	float res = al__logf_core(xs, kadj);
	res = x == INFINITY ? x : res;
	res = x == 0.0f ? -INFINITY : res;
	res = x < 0.0f ? NAN : res;
	return x != x ? x : res;
}

/* al_logf_pos: al_logf for x in [FLT_MIN, +inf] (positive normal or
 * +inf), without the subnormal scaling and the 0 / negative / NaN cases:
 * for callers that clamp their argument below (tsqrt, tsqrt_tanh). Same
 * method and results as al_logf on that range (bit-identical, checked
 * over all floats in [FLT_MIN, inf]; max error 0.89 ulp). */
AL_VINLINE float al_logf_pos(float x)
{
	float res = al__logf_core(x, 0);
	return x == INFINITY ? x : res;
}

/* al_log1pf: log(1 + x), accurate near 0.
 * Method: u = 1 + x reduced as in al_logf, plus the first-order correction
 * c/u for the rounding of 1 + x (c = x - (u-1) or 1 - (u-x)); for
 * 1 + x in [sqrt(1/2), sqrt(2)) f = x is used directly (musl log1pf).
 * x = -1 -> -inf, x < -1 -> NaN, +inf -> +inf, NaN -> NaN, -0 -> -0.
 * Max error 0.85 ulp. */
AL_VINLINE float al_log1pf(float x)
{
	float u = 1.0f + x;
	uint32_t iu = al__f2u(u) + (0x3f800000u - 0x3f3504f3u);
	int32_t k = (int32_t)(iu >> 23) - 0x7f;
	float c = k >= 2 ? 1.0f - (u - x) : x - (u - 1.0f);
	c = c / u;
	c = k < 25 ? c : 0.0f;
	iu = (iu & 0x007fffffu) + 0x3f3504f3u;
	float f = al__u2f(iu) - 1.0f;
	f = k == 0 ? x : f;
	c = k == 0 ? 0.0f : c;
	float hfsq;
	float t = al__log_kernel(f, &hfsq);
	float dk = (float)k;
	float res = t + (dk * AL__LN2_LO + c) - hfsq + f + dk * AL__LN2_HI;
	res = x == INFINITY ? x : res;
	res = x == -1.0f ? -INFINITY : res;
	res = x < -1.0f ? NAN : res;
	res = x == 0.0f ? x : res;
	return x != x ? x : res;
}

/* ---- activations ------------------------------------------------------ */

/* al_sigmoidf: 1 / (1 + exp(-x)).
 * Method: e = exp(-|x|) (never overflows), d = 1 + e; one division
 * q = e/d = sigmoid(-|x|), with the rounding of 1 + e compensated to first
 * order (1/d ~ 1 - q); x >= 0: 1 - q, else q. (A division per branch, as
 * GCC if-converts "x >= 0 ? 1/d : e/d", costs a second vdivps per vector.)
 * sigmoid(-100) = 3.7e-44 (subnormal, not flushed), sigmoid(+inf) = 1,
 * sigmoid(-inf) = 0, NaN -> NaN.
 * e from al_expf_fast. Max error 1.97 ulp with FMA contraction, 2.00
 * without (x < 0, where the result is e/(1+e) and inherits the error of e
 * at up to twice the relative ulp; all floats in [-105, 105]). */
AL_VINLINE float al_sigmoidf(float x)
{
	float e = al_expf_fast(-al_fabsf(x));
	float d = 1.0f + e;
	float de = e - (d - 1.0f); /* 1 + e = d + de exactly */
	float q = e / d;
	q = q - q * (de * (1.0f - q)); /* e / (d + de) */
	return x >= 0.0f ? 1.0f - q : q;
}

/* al_tanhf: tanh(x), odd.
 * Method: |x| < 0.6875: |x| + |x| s P(s), s = x^2, P minimax degree 5;
 * otherwise 1 - 2/(e + 1), e = exp(2|x|), with the rounding of e + 1
 * compensated to first order and |x| clamped to 9.1 (tanh rounds to 1
 * beyond 9.01). Sign copied from x (so -0 -> -0, NaN -> NaN).
 * Max error 1.23 ulp (just above the switch at 0.6875). */
/* tanh(a) for |a| < 0.6875: a + a s P(s), s = a^2, P minimax degree 5 (the
 * small-argument branch of al_tanhf; also used alone by kernels that get
 * tanh for larger arguments from an exponential they already have). */
AL_VINLINE float al__tanh_poly(float a)
{
	float s = a * a;
	float p = (((((0x1.072ecp-9f * s - 0x1.0781ap-7f) * s + 0x1.62cb9cp-6f) * s -
		     0x1.b9e392p-5f) * s + 0x1.11106cp-3f) * s - 0x1.555556p-2f) * s;
	return a * p + a;
}

AL_VINLINE float al_tanhf(float x)
{
	float a = al_fabsf(x);
	float p = al__tanh_poly(a);
	float ac = a > 9.1f ? 9.1f : a;
	float e = al__expf_fast_core(2.0f * ac);
	float d = e + 1.0f;
	float de = 1.0f - (d - e); /* e + 1 = d + de exactly */
	float t = 2.0f / d;
	float q = (1.0f - t) + 0.5f * t * t * de; /* 1 - 2/(d + de) */
	return al__copysign(a < 0.6875f ? p : q, x);
}

/* al_softplusf: log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)).
 * Method: e = exp(-|x|) in (0, 1], so u = 1 + e is in [1, 2] and the
 * al_log1pf reduction has k = 0 (f = e exactly) or k = 1; there the
 * rounding c = e - (u - 1) of 1 + e enters as c/u, a correction below
 * 1.4 ulp of the result, so 1/u is taken from a linear minimax fit on
 * [sqrt 2, 2] (1.5% relative) instead of a second division.
 * Never overflows; softplus(-100) = 3.7e-44, softplus(+inf) = +inf,
 * softplus(-inf) = 0, NaN -> NaN.
 * Max error 1.58 ulp. */
AL_VINLINE float al_softplusf(float x)
{
	float m = x > 0.0f ? x : 0.0f;
	float e = al_expf(-al_fabsf(x));
	float u = 1.0f + e;
	uint32_t iu = al__f2u(u) + (0x3f800000u - 0x3f3504f3u);
	int32_t k = (int32_t)(iu >> 23) - 0x7f;
	iu = (iu & 0x007fffffu) + 0x3f3504f3u;
	float f = al__u2f(iu) - 1.0f;
	float c = (e - (u - 1.0f)) * (1.189062f - 0.348270f * u);
	f = k == 0 ? e : f;
	c = k == 0 ? 0.0f : c;
	float hfsq;
	float t = al__log_kernel(f, &hfsq);
	float dk = (float)k;
	return m + (t + (dk * AL__LN2_LO + c) - hfsq + f + dk * AL__LN2_HI);
}

/* al_erff: erf(x), odd (for GELU: 0.5 x (1 + erf(x / sqrt 2))).
 * Method: |x| < 0.921875: x + x P(x^2), P minimax degree 6;
 * |x| < 3.92: 1 - exp(Q(|x|)), Q a degree-7 minimax fit of log(erfc);
 * |x| >= 3.92: 1 (erf rounds to 1 beyond 3.9192); the exponential is
 * al__expf_fast_core. Sign copied from x (-0 -> -0, NaN -> NaN). Max
 * error 1.13 ulp with FMA contraction, 1.43 without (just below the
 * switch at 0.921875; all floats in [-5, 5]). */
AL_VINLINE float al_erff(float x)
{
	float a = al_fabsf(x);
	float s = a * a;
	float p = (((((0x1.5f1144p-14f * s - 0x1.aae986p-11f) * s + 0x1.54dad8p-8f) * s -
		     0x1.b8107cp-6f) * s + 0x1.ce2e2p-4f) * s - 0x1.812744p-2f) * s +
		  0x1.06eba8p-3f;
	p = a * p + a;
	float ac = a > 3.92f ? 3.92f : a;
	float q = ((((((-0x1.63695ap-16f * ac + 0x1.c8a18p-12f) * ac - 0x1.11abf2p-8f) * ac +
		      0x1.9bc3p-6f) * ac - 0x1.bb97d4p-4f) * ac - 0x1.4443d4p-1f) * ac -
		   0x1.21286ep+0f) * ac + 0x1.71dbp-13f;
	q = 1.0f - al__expf_fast_core(q);
	float r = a < 0.921875f ? p : q;
	r = a >= 3.92f ? 1.0f : r;
	return al__copysign(r, x);
}

/* al_powf_pos: a^z = exp(z log a) for a > 0 (a^0 = 1 for every a); the
 * exponential is al_expf_fast_ovf.
 * The rounding of y = z*log(a) is amplified by exp: measured error
 * <= 1 + 2|y| ulp (max (err - 1)/|y| = 1.91 over 2e7 random pairs with
 * a in [2^-20, 2^21], |z| <= 4), i.e. ~2 ulp for |y| <~ 0.5, ~20 ulp at
 * |y| = 10. a = 0 gives 0 (z > 0) or +inf (z < 0); a < 0 gives NaN. */
AL_VINLINE float al_powf_pos(float a, float z)
{
	float r = al_expf_fast_ovf(z * al_logf(a));
	return z == 0.0f ? 1.0f : r;
}

#endif
