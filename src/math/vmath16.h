/* vmath16.h — 16-lane AVX-512 forms of vmath.h functions, for the few
 * element kernels written with intrinsics (src/act/catalog.c: sigmoid).
 *
 * For: kernels whose generic `omp simd` form (vmath.h inside elem_defs.h)
 * is bound by its instruction count on cores with 512-bit units (Zen 5):
 * vscalefps applies 2^k in one instruction (with gradual underflow) where
 * GCC's code for vmath.h's branch-free C needs four integer and float steps,
 * vpermt2ps reads a 32-entry table from two registers (so the exponential
 * needs a cubic instead of a degree-6 polynomial), the clamp of the
 * argument is one vmaxps (or, with |x|, one vrangeps) instead of a compare
 * and a blend, and vfixupimmps does a selection on the sign and class of x
 * in one instruction. The exponential is not al_expf_fast's (more accurate:
 * 0.53 ulp against 0.89), so results differ from the generic kernels in the
 * last bit for 0.2% (forward) and 0.5% (backward) of the floats, with the
 * same maximum errors. Defined only when the target has AVX-512F and
 * AVX-512DQ (AL_HAVE_VMATH16); callers keep the generic code otherwise.
 *
 * Not for: other vector widths.
 */
#ifndef ACTLAB_VMATH16_H
#define ACTLAB_VMATH16_H

#if defined(__AVX512F__) && defined(__AVX512DQ__)
#include <immintrin.h>

#define AL_HAVE_VMATH16 1
#define AL_V16INLINE static inline __attribute__((always_inline))

/* 2^(j/32), j = 0..31, as the nearest float and the float nearest to the
 * rest (their sum is 2^(j/32) within 2^-48 relative) */
static const float al__exp2_32_hi[32] __attribute__((aligned(64))) = {
	0x1.0p+0f, 0x1.059b0ep+0f, 0x1.0b5586p+0f, 0x1.11301ep+0f,
	0x1.172b84p+0f, 0x1.1d4874p+0f, 0x1.2387a6p+0f, 0x1.29e9ep+0f,
	0x1.306fep+0f, 0x1.371a74p+0f, 0x1.3dea64p+0f, 0x1.44e086p+0f,
	0x1.4bfdaep+0f, 0x1.5342b6p+0f, 0x1.5ab07ep+0f, 0x1.6247ecp+0f,
	0x1.6a09e6p+0f, 0x1.71f75ep+0f, 0x1.7a1148p+0f, 0x1.82589ap+0f,
	0x1.8ace54p+0f, 0x1.93737cp+0f, 0x1.9c4918p+0f, 0x1.a5503cp+0f,
	0x1.ae89fap+0f, 0x1.b7f77p+0f, 0x1.c199bep+0f, 0x1.cb720ep+0f,
	0x1.d5818ep+0f, 0x1.dfc974p+0f, 0x1.ea4afap+0f, 0x1.f50766p+0f};
static const float al__exp2_32_lo[32] __attribute__((aligned(64))) = {
	0x0.0p+0f, -0x1.9d4f52p-25f, 0x1.9f3122p-25f, -0x1.fdb496p-25f,
	-0x1.c15742p-27f, -0x1.d2e8cap-25f, 0x1.ceac48p-25f, -0x1.5c0424p-25f,
	0x1.4636e2p-25f, -0x1.18aac6p-25f, 0x1.824684p-25f, 0x1.8624b4p-30f,
	-0x1.593abcp-25f, -0x1.2c561p-25f, -0x1.5bd5ecp-27f, -0x1.f8b55p-25f,
	0x1.9fcef4p-26f, 0x1.1d8beep-25f, -0x1.829fdp-25f, -0x1.accc7cp-26f,
	0x1.15506ep-27f, -0x1.e64744p-25f, 0x1.51f848p-27f, -0x1.b83b54p-25f,
	-0x1.a94b14p-26f, -0x1.a09438p-25f, -0x1.3d56b2p-27f, -0x1.8837ccp-27f,
	-0x1.822dbcp-27f, -0x1.908c94p-25f, 0x1.52486cp-27f, -0x1.246ebp-26f};

/* e^v for v in [-104, 0] on 16 lanes (no clamp: the callers' arguments are
 * in range). Method: t = v log2 e rounded to a multiple of 1/32 by the
 * magic-number addition (1.5 2^18, whose float spacing is 1/32), so
 * v = t ln2 + r with |r| <= ln2/64 (r in two steps, t ln2_hi exact);
 * e^r = 1 + q with q = r + r^2 (1/2 + r/6) (truncation 6e-10 relative);
 * 2^(t - floor t) = T_hi + T_lo from the 32-entry tables by vpermt2ps,
 * whose index is the low 5 bits of the magic sum; (T_hi q + T_lo) + T_hi
 * (one large rounding); 2^floor(t) by vscalefps (gradual below FLT_MIN).
 * Against al_expf_fast's degree-6 polynomial on |r| <= ln2/2: two fewer
 * multiply-adds and a shorter dependency chain for two permutes (about 10
 * percent less time per sigmoid forward on Zen 5), and a smaller error.
 * Max error 0.53 ulp for normal results, 0.75 below FLT_MIN (all floats in
 * [-104, 0]); not bit-identical to al_expf_fast. */
AL_V16INLINE __m512 al__expf16_core(__m512 v)
{
	const __m512 magic = _mm512_set1_ps(0x1.8p18f);
	__m512 kf = _mm512_fmadd_ps(v, _mm512_set1_ps(0x1.715476p+0f), magic);
	__m512 t = _mm512_sub_ps(kf, magic);                            /* k/32, exact */
	__m512 r = _mm512_fnmadd_ps(t, _mm512_set1_ps(0x1.63p-1f), v); /* exact */
	r = _mm512_fmadd_ps(t, _mm512_set1_ps(0x1.bd0106p-13f), r);    /* ln2_hi - ln2 */
	__m512 c = _mm512_fmadd_ps(_mm512_set1_ps(0x1.555556p-3f), r, _mm512_set1_ps(0.5f));
	__m512 q = _mm512_fmadd_ps(_mm512_mul_ps(r, r), c, r);
	__m512i j = _mm512_castps_si512(kf); /* vpermt2ps reads its low 5 bits */
	__m512 th = _mm512_permutex2var_ps(_mm512_load_ps(al__exp2_32_hi), j,
					   _mm512_load_ps(al__exp2_32_hi + 16));
	__m512 tl = _mm512_permutex2var_ps(_mm512_load_ps(al__exp2_32_lo), j,
					   _mm512_load_ps(al__exp2_32_lo + 16));
	return _mm512_scalef_ps(_mm512_add_ps(_mm512_fmadd_ps(th, q, tl), th), t);
}

/* w = e^v and *om = 1 - e^v for v in [-104, 0] on 16 lanes (the role of
 * al_expf_fast_1m: tanh(a) = (1 - w)/(1 + w) with w = e^(-2a) at every
 * a >= 0, no small-argument polynomial). w exactly as al__expf16_core;
 * with s = 2^n (vscalefps of 1), 1 - w is formed as (1 - T_hi s) -
 * (T_hi q + T_lo) s in two fused multiply-adds: T_hi s is exact, and
 * 1 - T_hi s too where w >= 1/2 (Sterbenz), the only place where 1 - w
 * cancels (two vscalefps instead of three: the same maximum errors). Max error over all floats in [-104, 0]: w 0.53 ulp
 * for normal results (0.75 below FLT_MIN), 1 - w 1.42 ulp (at -0.0108,
 * where the k = 0 table entry ends); test act_expf16_1m_ulp in
 * tests/test_act_method1.c. -0 -> (1, 0), NaN -> NaN; v < -104 is outside
 * the contract (callers clamp). */
AL_V16INLINE __m512 al__expf16_1m(__m512 v, __m512 *om)
{
	const __m512 magic = _mm512_set1_ps(0x1.8p18f);
	__m512 kf = _mm512_fmadd_ps(v, _mm512_set1_ps(0x1.715476p+0f), magic);
	__m512 t = _mm512_sub_ps(kf, magic);
	__m512 r = _mm512_fnmadd_ps(t, _mm512_set1_ps(0x1.63p-1f), v);
	r = _mm512_fmadd_ps(t, _mm512_set1_ps(0x1.bd0106p-13f), r);
	__m512 c = _mm512_fmadd_ps(_mm512_set1_ps(0x1.555556p-3f), r, _mm512_set1_ps(0.5f));
	__m512 q = _mm512_fmadd_ps(_mm512_mul_ps(r, r), c, r);
	__m512i j = _mm512_castps_si512(kf);
	__m512 th = _mm512_permutex2var_ps(_mm512_load_ps(al__exp2_32_hi), j,
					   _mm512_load_ps(al__exp2_32_hi + 16));
	__m512 tl = _mm512_permutex2var_ps(_mm512_load_ps(al__exp2_32_lo), j,
					   _mm512_load_ps(al__exp2_32_lo + 16));
	__m512 lo = _mm512_fmadd_ps(th, q, tl);
	__m512 s = _mm512_scalef_ps(_mm512_set1_ps(1.0f), t);
	*om = _mm512_fnmadd_ps(lo, s, _mm512_fnmadd_ps(th, s, _mm512_set1_ps(1.0f)));
	return _mm512_scalef_ps(_mm512_add_ps(lo, th), t);
}

/* e^-min(|x|, 104) on 16 lanes, in [0, 1] (the role of al_expf_fast(-|x|)).
 * -|x| by setting the sign bit, the clamp by vmaxps, which returns its
 * second operand when one is NaN: NaN -> NaN. +-inf -> e^-104 (0 after
 * rounding). Max error as al__expf16_core. */
AL_V16INLINE __m512 al_expnegf16(__m512 x)
{
	__m512 v = _mm512_castsi512_ps(
		_mm512_or_si512(_mm512_castps_si512(x), _mm512_set1_epi32((int)0x80000000u)));
	return al__expf16_core(_mm512_max_ps(_mm512_set1_ps(-104.0f), v));
}

/* sigma(x) = (x >= 0 ? 1 : e) / (1 + e), e = e^-|x|: the catalog's
 * F(sigmoid) (elem_defs.h). One division, no compensation of the rounding
 * of 1 + e. Max error 2.40 ulp, relative 1.76e-7 for normal results
 * (all floats in [-105, 105]); sigma(-100) = 3.7e-44 (subnormal, not
 * flushed), sigma(+-inf) = 1 / 0, sigma(-0) = 0.5, NaN -> NaN.
 * Two instructions do the selections: vrangeps (imm 0x0E: the operand of
 * smaller magnitude, sign bit set) gives -min(|x|, 104), but a NaN x
 * comes out as -104; vfixupimmps then forms the numerator from x's class
 * (NaN: x's NaN; +-0, positive, +inf: 1; negative, -inf: e; table
 * 0xA0A0AA22), which also restores the NaN. */
AL_V16INLINE __m512 al_sigmoidf16(__m512 x)
{
	__m512 e = al__expf16_core(_mm512_range_ps(x, _mm512_set1_ps(104.0f), 0x0E));
	__m512 num = _mm512_fixupimm_ps(e, x, _mm512_set1_epi32((int)0xA0A0AA22u), 0);
	return _mm512_div_ps(num, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

/* sigma'(x) = e / (1 + e)^2, e = e^-|x|: the catalog's DF(sigmoid).
 * Max error 4.22 ulp, relative 2.9e-7 for normal results (all floats in
 * [-105, 105]); +-inf -> 0, NaN -> NaN. */
AL_V16INLINE __m512 al_dsigmoidf16(__m512 x)
{
	__m512 e = al_expnegf16(x), d = _mm512_add_ps(_mm512_set1_ps(1.0f), e);
	return _mm512_div_ps(e, _mm512_mul_ps(d, d));
}

/* ---- log2 and exp2 on 16 lanes (tsqrt_tanh's staged kernels, catalog.c) */

/* 1/c_j and log2 c_j (as -log2 of the rounded 1/c_j) for the intervals
 * of vgetmantps' m in [3/4, 3/2) with the top 5 fraction bits j:
 * [1 + j/32, 1 + (j+1)/32) for j < 16, half that for j >= 16; c_j the
 * midpoints, except c = 1 for j = 0 and j = 31 (the intervals next to 1) */
static const float al__log2_32_inv[32] __attribute__((aligned(64))) = {
	0x1p+0f, 0x1.e9131ap-1f, 0x1.dae608p-1f, 0x1.cd8568p-1f,
	0x1.c0e07p-1f, 0x1.b4e81cp-1f, 0x1.a98ef6p-1f, 0x1.9ec8eap-1f,
	0x1.948b1p-1f, 0x1.8acb9p-1f, 0x1.818182p-1f, 0x1.78a4c8p-1f,
	0x1.702e06p-1f, 0x1.681682p-1f, 0x1.605816p-1f, 0x1.58ed24p-1f,
	0x1.51d07ep+0f, 0x1.4afd6ap+0f, 0x1.446f86p+0f, 0x1.3e22ccp+0f,
	0x1.381382p+0f, 0x1.323e34p+0f, 0x1.2c9fb4p+0f, 0x1.27350cp+0f,
	0x1.21fb78p+0f, 0x1.1cf06ap+0f, 0x1.181182p+0f, 0x1.135c82p+0f,
	0x1.0ecf56p+0f, 0x1.0a681p+0f, 0x1.0624dep+0f, 0x1p+0f};
static const float al__log2_32_c[32] __attribute__((aligned(64))) = {
	0x0p+0f, 0x1.0eb392p-4f, 0x1.bc841cp-4f, 0x1.32aea2p-3f,
	0x1.84c2bep-3f, 0x1.d49eep-3f, 0x1.11307ep-2f, 0x1.37124ap-2f,
	0x1.5c01a2p-2f, 0x1.800a5ap-2f, 0x1.a3375ep-2f, 0x1.c592fcp-2f,
	0x1.e726aap-2f, 0x1.03fda8p-1f, 0x1.140cap-1f, 0x1.23c41cp-1f,
	-0x1.99b07p-2f, -0x1.7b89fp-2f, -0x1.5dfdcep-2f, -0x1.410602p-2f,
	-0x1.249cd6p-2f, -0x1.08bcdep-2f, -0x1.dac224p-3f, -0x1.a5095p-3f,
	-0x1.704602p-3f, -0x1.3c6faep-3f, -0x1.097e42p-3f, -0x1.aed3a6p-4f,
	-0x1.4c56p-4f, -0x1.d6ebb6p-5f, -0x1.184bb4p-5f, 0x0p+0f};

/* log2 a for a >= 0 (subnormals included; 0 -> -inf, +inf -> +inf, NaN
 * -> NaN). Method: a = 2^e m with m in [3/4, 3/2) (vgetmantps; e =
 * getexp(a) - getexp(m)), j = the top 5 fraction bits of m, f = m/c_j - 1
 * in one fused multiply-add (|f| <= 1/32), log2(1 + f) = f P(f) with P a
 * degree-4 least-squares fit on [-1/64, 1/32] (truncation 8e-11 relative),
 * log2 a = (e + log2 c_j) + f P(f). |log2 c_j| <= 0.6, and log2 c = 0
 * next to 1, so the result keeps a relative accuracy of a few ulp also
 * near a = 1. 14 instructions against about 25 for vmath.h's logf.
 * Max error (test act_log2f16_exp2f16): see LOG2_BOUND there. */
AL_V16INLINE __m512 al__log2f16(__m512 a)
{
	__m512 m = _mm512_getmant_ps(a, _MM_MANT_NORM_p75_1p5, _MM_MANT_SIGN_zero);
	__m512 e = _mm512_sub_ps(_mm512_getexp_ps(a), _mm512_getexp_ps(m));
	__m512i j = _mm512_srli_epi32(_mm512_castps_si512(m), 18); /* vpermt2ps: low 5 bits */
	__m512 iv = _mm512_permutex2var_ps(_mm512_load_ps(al__log2_32_inv), j,
					   _mm512_load_ps(al__log2_32_inv + 16));
	__m512 lc = _mm512_permutex2var_ps(_mm512_load_ps(al__log2_32_c), j,
					   _mm512_load_ps(al__log2_32_c + 16));
	__m512 f = _mm512_fmsub_ps(m, iv, _mm512_set1_ps(1.0f));
	__m512 p = _mm512_fmadd_ps(f, _mm512_set1_ps(0x1.1e33bcp-2f), _mm512_set1_ps(-0x1.7159fp-2f));
	p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0x1.ec714ep-2f));
	p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(-0x1.715476p-1f));
	p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0x1.715476p+0f));
	return _mm512_fmadd_ps(p, f, _mm512_add_ps(e, lc));
}

/* P(r) with 2^r - 1 = r P(r) for |r| <= 1/2, P a degree-5 least-squares
 * fit (truncation about 2e-9 relative) */
AL_V16INLINE __m512 al__exp2f16_p(__m512 r)
{
	__m512 p = _mm512_fmadd_ps(r, _mm512_set1_ps(0x1.44400ap-13f), _mm512_set1_ps(0x1.5f08a8p-10f));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0x1.3b2a1cp-7f));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0x1.c6af6cp-5f));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0x1.ebfbep-3f));
	return _mm512_fmadd_ps(p, r, _mm512_set1_ps(0x1.62e43p-1f));
}

/* 2^t - 1 for |t| <= 1/2 */
AL_V16INLINE __m512 al__exp2m1f16_poly(__m512 r) { return _mm512_mul_ps(al__exp2f16_p(r), r); }

/* 2^t for finite t (overflow to +inf, gradual underflow to 0 by
 * vscalefps): n = t rounded to an integer, r = t - n exact, 2^r =
 * 1 + r P(r). Max error about 1 ulp (test act_log2f16_exp2f16). */
AL_V16INLINE __m512 al__exp2f16(__m512 t)
{
	__m512 n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
	__m512 r = _mm512_sub_ps(t, n);
	return _mm512_scalef_ps(_mm512_fmadd_ps(al__exp2f16_p(r), r, _mm512_set1_ps(1.0f)), n);
}

/* w = 2^t and *om = 1 - 2^t for t in [-150, 0] (tanh(a) = (1 - w)/(1 + w)
 * with w = e^(-2a), a >= 0): q = 2^r - 1, s = 2^n, w = s + s q (one
 * rounding), 1 - w = (1 - s) - s q (1 - s exact) without cancellation. */
AL_V16INLINE __m512 al__exp2f16_1m(__m512 t, __m512 *om)
{
	__m512 n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
	__m512 q = al__exp2m1f16_poly(_mm512_sub_ps(t, n));
	__m512 s = _mm512_scalef_ps(_mm512_set1_ps(1.0f), n);
	*om = _mm512_fnmadd_ps(s, q, _mm512_sub_ps(_mm512_set1_ps(1.0f), s));
	return _mm512_fmadd_ps(s, q, s);
}

#endif
#endif
