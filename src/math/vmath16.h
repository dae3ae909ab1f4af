/* vmath16.h — 16-lane AVX-512 forms of vmath.h functions, for the few
 * element kernels written with intrinsics (src/act/catalog.c: sigmoid).
 *
 * For: kernels whose generic `omp simd` form (vmath.h inside elem_defs.h)
 * is bound by its instruction count on cores with 512-bit units (Zen 5):
 * vscalefps applies 2^k in one instruction (with gradual underflow) where
 * GCC's code for vmath.h's branch-free C needs four integer and float steps,
 * the clamp of the argument is one vmaxps (or, with |x|, one vrangeps)
 * instead of a compare and a blend, and vfixupimmps does a selection on the
 * sign and class of x in one instruction.
 * Every function here does the same floating-point operations in the same
 * order as its vmath.h counterpart compiled with FMA contraction (the
 * catalog's mode), so the results are the same bits; only the instruction
 * selection differs. Defined only when the target has AVX-512F and
 * AVX-512DQ (AL_HAVE_VMATH16); callers keep the generic code otherwise.
 *
 * Not for: code compiled without -ffp-contract=fast (the generic
 * counterparts then round differently), or other vector widths.
 */
#ifndef ACTLAB_VMATH16_H
#define ACTLAB_VMATH16_H

#if defined(__AVX512F__) && defined(__AVX512DQ__)
#include <immintrin.h>

#define AL_HAVE_VMATH16 1
#define AL_V16INLINE static inline __attribute__((always_inline))

/* e^v for v in [-104, 0] on 16 lanes: al_expf_fast's method (k =
 * round(v log2 e) by the magic-number addition; r = v - k ln2 in two steps;
 * p = 1 + r (1 + r P(r)) with al__exp_poly's coefficients), then p 2^k by
 * vscalefps: one rounding, gradual below FLT_MIN, as al_expf_fast's
 * 2^(k+64) 2^-64. No clamp: the callers' arguments are already in range. */
AL_V16INLINE __m512 al__expf16_core(__m512 v)
{
	const __m512 magic = _mm512_set1_ps(0x1.8p23f);
	__m512 n = _mm512_sub_ps(_mm512_fmadd_ps(v, _mm512_set1_ps(0x1.715476p+0f), magic), magic);
	__m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.63p-1f), v);
	r = _mm512_fmadd_ps(n, _mm512_set1_ps(0x1.bd0106p-13f), r);
	__m512 p = _mm512_fmadd_ps(_mm512_set1_ps(0x1.6a1a5cp-10f), r, _mm512_set1_ps(0x1.123fd2p-7f));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0x1.555916p-5f));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0x1.55548ap-3f));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0x1.fffffcp-2f));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
	return _mm512_scalef_ps(p, n);
}

/* al_expf_fast(-|x|) on 16 lanes: e^-min(|x|, 104), in [0, 1].
 * -|x| by setting the sign bit, the clamp by vmaxps, which returns its
 * second operand when one is NaN: NaN -> NaN. +-inf -> e^-104 (0 after
 * rounding). Max error 0.89 ulp (al_expf_fast's, FMA form). */
AL_V16INLINE __m512 al_expnegf16(__m512 x)
{
	__m512 v = _mm512_castsi512_ps(
		_mm512_or_si512(_mm512_castps_si512(x), _mm512_set1_epi32((int)0x80000000u)));
	return al__expf16_core(_mm512_max_ps(_mm512_set1_ps(-104.0f), v));
}

/* sigma(x) = (x >= 0 ? 1 : e) / (1 + e), e = e^-|x|: the catalog's
 * F(sigmoid) (elem_defs.h). One division, no compensation of the rounding
 * of 1 + e. Max error 2.40 ulp, relative 1.8e-7 for normal results
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

#endif
#endif
