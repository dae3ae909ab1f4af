/* learned.c — piecewise and rational learned-shape activations: adact
 * (hat-basis interpolation between fixed hinges, SPEC 4.2), apl (adaptive
 * piecewise linear, SPEC 4.1), pau (Pade rational with the safe
 * denominator) and bspline (KAN-style B-spline plus a SiLU base), each as
 * hooks, a double reference and block kernels stamped into whole-tensor
 * kernels by learned_driver.h; plus the rational least-squares fit that pau
 * starts from (and `actlab distill` reuses).
 *
 * Numerics. adact evaluates a[j] + (x - hinge_j) * slope_j, so with
 * power-of-two hinge spacing its relu initialisation reproduces relu
 * exactly (x - hinge_j is exact near the hinge). pau's polynomials are
 * Horner forms in float; for |x| beyond about 1e7 (degree 5) they overflow
 * and the output is NaN. bspline is zero outside its extended grid
 * [lo - k*d, hi + k*d) apart from the SiLU term.
 *
 * Not for: vaf and meta (learned_net.c), the gradient checks
 * (learned_check.c), parsing (act.c).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act/learned.h"
#include "math/vmath.h"
#ifdef __AVX512F__
#include <immintrin.h>
#endif

#define AL_INLINE static inline __attribute__((always_inline))
#define NB AL_LN_NB

#ifdef __AVX512F__
/* Run kernels (see learned_driver.h) with AVX-512 where the target has it;
 * elsewhere, and beyond their table sizes, the block kernels. */
#define LN_VEC 1
/* a table of up to 16 * nt floats (nt = 1, 2 or 4 registers) indexed by j */
AL_INLINE __m512 vtab(const __m512 *t, __m512i j, const int nt)
{
	if (nt == 1)
		return _mm512_permutexvar_ps(j, t[0]);
	__m512 r = _mm512_permutex2var_ps(t[0], j, t[1]);
	if (nt == 4) {
		__mmask16 hi = _mm512_cmpge_epi32_mask(j, _mm512_set1_epi32(32));
		r = _mm512_mask_mov_ps(r, hi, _mm512_permutex2var_ps(t[2], j, t[3]));
	}
	return r;
}
/* the 16 lanes of v summed in lane order, in double */
AL_INLINE double vsum_d(__m512 v)
{
	float l[16];
	_mm512_storeu_ps(l, v);
	double s = 0;
	for (int i = 0; i < 16; i++)
		s += (double)l[i];
	return s;
}
/* the driver's ln_flush for run kernels that use only lanes [0, nl) of
 * each parameter's slot (nl = 16 or 32): acc[k] += their sum, in double
 * by a fixed tree (so still a fixed order), and zeroes them */
AL_INLINE __m512d vcvt_sum(__m512 v)
{
	__m256 lo = _mm512_castps512_ps256(v),
	       hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
	return _mm512_add_pd(_mm512_cvtps_pd(lo), _mm512_cvtps_pd(hi));
}
AL_INLINE void vflush(float *ga, double *acc, size_t P, const int nl)
{
	for (size_t k = 0; k < P; k++) {
		float *a = ga + k * AL_LN_NB;
		__m512d s = vcvt_sum(_mm512_loadu_ps(a));
		_mm512_storeu_ps(a, _mm512_setzero_ps());
		if (nl == 32) {
			s = _mm512_add_pd(s, vcvt_sum(_mm512_loadu_ps(a + 16)));
			_mm512_storeu_ps(a + 16, _mm512_setzero_ps());
		}
		acc[k] += _mm512_reduce_add_pd(s);
	}
}
/* lanes [0, m) of p, zero beyond */
AL_INLINE __mmask16 vmask(size_t m) { return m >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << m) - 1); }
/* elements before y's next 64-byte boundary (at most len) */
AL_INLINE size_t vhead(const float *y, size_t len)
{
	size_t a = (16 - (((uintptr_t)y >> 2) & 15)) & 15;
	return a < len ? a : len;
}
/* y[0, len) = F(x) 16 elements at a time (F: a macro of one __m512): a
 * masked head up to y's next 64-byte boundary, aligned whole vectors, a
 * masked tail. Split cache lines matter here: with x and y 16 bytes off a
 * line (malloc's alignment), a stand-alone copy of the pwl loop ran at
 * 2.0-2.6x leaky_relu's time (2 threads, [64,32,32,32]), aligned by the head
 * at 0.86-0.96x */
#define VRUN(len, x, y, F, pf)                                                                     \
	do {                                                                                       \
		size_t i_ = vhead(y, len);                                                         \
		if (i_) {                                                                          \
			__mmask16 k_ = vmask(i_);                                                  \
			_mm512_mask_storeu_ps(y, k_, F(_mm512_maskz_loadu_ps(k_, x)));             \
		}                                                                                  \
		for (; i_ + 16 <= (len); i_ += 16) {                                               \
			if (pf) /* never faults, past the end included */                          \
				_mm_prefetch((const char *)((x) + i_ + RUN_PF), _MM_HINT_T0);      \
			_mm512_store_ps((y) + i_, F(_mm512_loadu_ps((x) + i_)));                   \
		}                                                                                  \
		if (i_ < (len)) {                                                                  \
			__mmask16 k_ = vmask((len) - i_);                                          \
			_mm512_mask_storeu_ps((y) + i_, k_, F(_mm512_maskz_loadu_ps(k_, (x) + i_))); \
		}                                                                                  \
	} while (0)
/* pf: the run kernels (rational, lut, pwl) read x with a software prefetch
 * RUN_PF floats (4 KiB) ahead. It depends on the core: on Intel Xeon
 * (2026-12-06) it took rational:5,4 from 1.05-1.09x relu to 1.01-1.02x
 * (leaky_relu 1.00-1.02) and pwl from 1.03-1.04x to 0.98-0.99x while they
 * stream from L3 (lut:64 unchanged, 1.00-1.01x), on AMD Zen 5
 * (2026-12-05) the same prefetch made them slower (1.12-1.28x relu against
 * 0.98-1.04), so run_prefetch turns it on for Intel only (a read of
 * libgcc's CPU model, filled in before main); the branch is loop-invariant
 * (GCC unswitches it) */
#define RUN_PF 1024
static int run_prefetch(void) { return __builtin_cpu_is("intel"); }
#endif

size_t al_ln_scratch_p(int P, al_per per, int n, int c, int hh, int w)
{
	if (n <= 0)
		return 0;
	/* per=channel: one backward state per channel (learned_driver.h) */
	if (per == AL_PER_CHANNEL && (size_t)hh * (size_t)w > 1)
		return (size_t)c * (2 * (size_t)P + 2 + (size_t)P * AL_LN_NB) + 2;
	if (per != AL_PER_LAYER)
		return 0;
	size_t total = (size_t)n * (size_t)c * (size_t)hh * (size_t)w;
	return (total + 16383) / 16384 * (size_t)P;
}

static int is_int(double v, double lo, double hi) { return v == floor(v) && v >= lo && v <= hi; }

static double urand(al_rng *r, double lo, double hi)
{
	return lo + (hi - lo) * (double)al_rng_uniform(r);
}

/* ======================================================================
 * adact: hinges ns_j = lo + j*d, j < N, d = (hi - lo)/(N - 1)
 * hypers: ns, lo, hi, init (relu|leaky_relu), slope
 * ====================================================================== */
enum { AD_NS, AD_LO, AD_HI, AD_INIT, AD_SLOPE, AD_ZERO };


typedef struct {
	int P, ns, fast;
	float lo, d, inv, top;
} adact_t;

static void adact_cfg(const double *h, adact_t *c)
{
	c->ns = (int)h[AD_NS];
	c->fast = h[AD_ZERO] != 0;
	c->P = c->ns;
	double d = (h[AD_HI] - h[AD_LO]) / (h[AD_NS] - 1);
	c->lo = (float)h[AD_LO];
	c->d = (float)d;
	c->inv = (float)(1 / d);
	c->top = (float)(c->ns - 2);
}

/* segment index (as a float, clamped; NaN -> 0); corrected by one where
 * rounding of (x - lo)/d put x on the wrong side of a hinge, so that the
 * segment always brackets x exactly (relu init is then exact) */
AL_INLINE float adact_seg(const adact_t *c, float x)
{
	float j = floorf((x - c->lo) * c->inv);
	j = j >= 0 ? j : 0.0f;
	j = j <= c->top ? j : c->top;
	j = (x < c->lo + j * c->d && j > 0) ? j - 1 : j;
	return (x >= c->lo + (j + 1) * c->d && j < c->top) ? j + 1 : j;
}

/* The forward of a free grid (zero=any, the pwl distillation form): the
 * segment from the float estimate alone, y = x * s_j + c_j in one fused
 * multiply-add with s_j = (a_{j+1} - a_j) / d and c_j = a_j - hinge_j * s_j.
 * The function is continuous, so where rounding puts x into the
 * neighbouring segment (within an ulp of a hinge) y changes by rounding
 * only; the exact bracket matters for the relu initialisation, which
 * zero=any does not promise, and for which hinge receives the gradient,
 * which the backward still decides exactly. Clamping order: NaN -> 0. */
AL_INLINE float adact_seg_est(const adact_t *c, float x)
{
	float j = floorf((x - c->lo) * c->inv);
	j = j >= 0 ? j : 0.0f;
	return j <= c->top ? j : c->top;
}

/* Segment selection without gathers: for up to AD_CHAIN segments the
 * block kernels pick the segment's values by a compare-and-select chain
 * over the hinges (x >= hinge_k, in float, the same hinges adact_seg
 * brackets x with), which vectorises to compares and blends; wider grids
 * gather. */
#define AD_CHAIN 16

/* The chain: a0, a1 = the hinge values around each element's segment js
 * (as a float). est: the segment is the float estimate (adact_seg_est, the
 * free grid's forward); otherwise x >= hinge_k, in float, the exact bracket
 * of adact_seg. */
AL_INLINE void adact_chain(const adact_t *c, const float *restrict p, size_t ps, size_t ls,
			   size_t m, const float *restrict x, const int est, float *restrict js,
			   float *restrict a0, float *restrict a1)
{
#pragma omp simd
	for (size_t i = 0; i < m; i++) {
		js[i] = est ? adact_seg_est(c, x[i]) : 0.0f;
		a0[i] = p[i * ls];
		a1[i] = p[ps + i * ls];
	}
	for (int k = 1; k <= c->ns - 2; k++) {
		const float fk = (float)k, hk = c->lo + fk * c->d;
		const float *pk = p + (size_t)(k + 1) * ps;
#pragma omp simd
		for (size_t i = 0; i < m; i++) {
			const int on = est ? js[i] >= fk : x[i] >= hk;
			const float nv = pk[i * ls], o0 = a0[i], o1 = a1[i];
			a0[i] = on ? o1 : o0;
			a1[i] = on ? nv : o1;
			if (!est)
				js[i] = on ? fk : js[i];
		}
	}
}

AL_INLINE void adact_fwd_blk(const adact_t *c, const float *restrict p, size_t ps, size_t ls,
			     size_t m, const float *restrict x, float *restrict y)
{
	if (c->ns - 1 <= AD_CHAIN) {
		float a0[NB], a1[NB], js[NB];
		if (c->fast) {
			adact_chain(c, p, ps, ls, m, x, 1, js, a0, a1);
#pragma omp simd
			for (size_t i = 0; i < m; i++) {
				float s = (a1[i] - a0[i]) * c->inv, h = c->lo + js[i] * c->d;
				y[i] = fmaf(x[i], s, a0[i] - h * s);
			}
		} else {
			adact_chain(c, p, ps, ls, m, x, 0, js, a0, a1);
#pragma omp simd
			for (size_t i = 0; i < m; i++)
				y[i] = a0[i] + (x[i] - (c->lo + js[i] * c->d)) *
						       ((a1[i] - a0[i]) * c->inv);
		}
		return;
	}
	if (c->fast) {
#pragma omp simd
		for (size_t i = 0; i < m; i++) {
			float j = adact_seg_est(c, x[i]);
			size_t ji = (size_t)(int)j;
			float a0 = p[ji * ps + i * ls], a1 = p[(ji + 1) * ps + i * ls];
			float s = (a1 - a0) * c->inv, h = c->lo + j * c->d;
			y[i] = fmaf(x[i], s, a0 - h * s);
		}
		return;
	}
#pragma omp simd
	for (size_t i = 0; i < m; i++) {
		float j = adact_seg(c, x[i]);
		size_t ji = (size_t)(int)j;
		float a0 = p[ji * ps + i * ls], a1 = p[(ji + 1) * ps + i * ls];
		float dxh = x[i] - (c->lo + j * c->d);
		y[i] = a0 + dxh * ((a1 - a0) * c->inv);
	}
}

AL_INLINE void adact_bwd_blk(const adact_t *c, const float *restrict p, size_t ps, size_t ls,
			     size_t m, const float *restrict x, const float *restrict y,
			     const float *restrict dy, float *restrict dx, float *restrict gp)
{
	float js[NB], w1[NB], w0[NB];
	if (c->ns - 1 <= AD_CHAIN) {
		float a0[NB], a1[NB];
		adact_chain(c, p, ps, ls, m, x, 0, js, a0, a1);
#pragma omp simd
		for (size_t i = 0; i < m; i++) {
			float t = (x[i] - (c->lo + js[i] * c->d)) * c->inv;
			dx[i] = dy[i] * ((a1[i] - a0[i]) * c->inv);
			w1[i] = dy[i] * t;
			w0[i] = dy[i] - w1[i];
		}
	} else {
#pragma omp simd
		for (size_t i = 0; i < m; i++) {
			float j = adact_seg(c, x[i]);
			size_t ji = (size_t)(int)j;
			float a0 = p[ji * ps + i * ls], a1 = p[(ji + 1) * ps + i * ls];
			float t = (x[i] - (c->lo + j * c->d)) * c->inv;
			dx[i] = dy[i] * ((a1 - a0) * c->inv);
			js[i] = j;
			w1[i] = dy[i] * t;
			w0[i] = dy[i] - w1[i];
		}
	}
	for (int k = 0; k < c->ns; k++) {
		float *g = gp + (size_t)k * NB;
		const float kf = (float)k, km = (float)(k - 1);
#pragma omp simd
		for (size_t i = 0; i < m; i++)
			g[i] = js[i] == kf ? w0[i] : (js[i] == km ? w1[i] : 0.0f);
	}
}

static int adact_fwd_units_raw(const adact_t *c, const float *p, size_t m, int n, size_t F,
			       const float *x, float *y);
#define LN_NAME adact
#define LN_CFG adact_t
#define LN_RUN
#define LN_UNITS_RAW
#include "act/learned_driver.h"

#ifdef LN_VEC
/* Per run, up to 64 segments: tables indexed by the segment j of the left
 * hinge value a = p[j], slope s = (p[j+1] - p[j]) * inv, hinge h, the hinge
 * below which j is one too high (lo; -inf for j = 0) and the one at which
 * it is one too low (up; NaN for the top segment); y = a + (x - h) * s,
 * the block kernels' arithmetic, so the results are bit-identical. */
typedef struct {
	__m512 a[4], s[4], h[4], lo[4], up[4], c[4];
} ad_tab;

static int ad_tab_make(const adact_t *c, const float *p, ad_tab *T)
{
	float a[64], s[64], h[64], lo[64], up[64];
	const int nseg = c->ns - 1, nt = nseg <= 16 ? 1 : nseg <= 32 ? 2 : 4;
	for (int j = 0; j < 16 * nt; j++) {
		int k = j < nseg ? j : nseg - 1;
		a[j] = p[k];
		s[j] = (p[k + 1] - p[k]) * c->inv;
		h[j] = c->lo + (float)k * c->d;
		lo[j] = k > 0 ? h[j] : -INFINITY;
		up[j] = k < nseg - 1 ? c->lo + (float)(k + 1) * c->d : NAN;
	}
	for (int r = 0; r < nt; r++) {
		T->a[r] = _mm512_loadu_ps(a + 16 * r);
		T->s[r] = _mm512_loadu_ps(s + 16 * r);
		T->h[r] = _mm512_loadu_ps(h + 16 * r);
		T->lo[r] = _mm512_loadu_ps(lo + 16 * r);
		T->up[r] = _mm512_loadu_ps(up + 16 * r);
	}
	return nt;
}

/* the free-grid forward's two tables alone (ad_vf_est): s and c */
static void ad_tab_make_est(const adact_t *c, const float *p, ad_tab *T, const int nt)
{
	float s[64], cc[64];
	const int nseg = c->ns - 1;
	/* contiguous loads (a clamped index would make the compiler gather) */
	for (int j = 0; j < nseg; j++) {
		s[j] = (p[j + 1] - p[j]) * c->inv;
		cc[j] = p[j] - (c->lo + (float)j * c->d) * s[j];
	}
	for (int j = nseg; j < 16 * nt; j++) {
		s[j] = s[nseg - 1];
		cc[j] = cc[nseg - 1];
	}
	for (int r = 0; r < nt; r++) {
		T->s[r] = _mm512_loadu_ps(s + 16 * r);
		T->c[r] = _mm512_loadu_ps(cc + 16 * r);
	}
}

/* floor((x - lo) * inv) clamped to [0, top], NaN -> 0, as an index (the
 * scalar bins' arithmetic). No rounding instruction: truncation equals
 * floor from 0 up, and whatever it makes of a negative f (0 or less) the
 * clamp makes 0. The minimum passes NaN on (its second operand), whose
 * conversion, like that of anything below -2^31, is INT_MIN; the integer
 * maximum makes it 0 */
AL_INLINE __m512i vbin(float lo, float inv, float top, __m512 x)
{
	__m512 f = _mm512_mul_ps(_mm512_sub_ps(x, _mm512_set1_ps(lo)), _mm512_set1_ps(inv));
	f = _mm512_min_ps(_mm512_set1_ps(top), f);
	return _mm512_max_epi32(_mm512_cvttps_epi32(f), _mm512_setzero_si512());
}

/* adact_fwd_blk's free-grid forward (adact_seg_est, one FMA) from the
 * slope and offset tables s and cc */
AL_INLINE __m512 ad_vf_est(const adact_t *c, const __m512 *s, const __m512 *cc, __m512 x,
			   const int nt)
{
	__m512i j = vbin(c->lo, c->inv, c->top, x);
	return _mm512_fmadd_ps(x, vtab(s, j, nt), vtab(cc, j, nt));
}

/* the segment of x: adact_seg's arithmetic (floor estimate, clamped, one
 * correction each way against the float hinges), NaN -> 0 */
AL_INLINE __m512i ad_vseg(const adact_t *c, const ad_tab *T, __m512 x, const int nt)
{
	__m512i j = vbin(c->lo, c->inv, c->top, x), one = _mm512_set1_epi32(1);
	j = _mm512_mask_sub_epi32(j, _mm512_cmp_ps_mask(x, vtab(T->lo, j, nt), _CMP_LT_OQ), j, one);
	return _mm512_mask_add_epi32(j, _mm512_cmp_ps_mask(x, vtab(T->up, j, nt), _CMP_GE_OQ), j,
				     one);
}

AL_INLINE __m512 ad_vf(const adact_t *c, const ad_tab *T, __m512 x, const int nt)
{
	__m512i j = ad_vseg(c, T, x, nt);
	__m512 d = _mm512_mul_ps(_mm512_sub_ps(x, vtab(T->h, j, nt)), vtab(T->s, j, nt));
	return _mm512_add_ps(vtab(T->a, j, nt), d);
}

AL_INLINE void ad_fwd_v(const adact_t *c, const ad_tab *T, size_t len, const float *restrict x,
			float *restrict y, const int nt, const int pf)
{
#define AD_EST(v) ad_vf_est(c, T->s, T->c, v, nt)
#define AD_EXACT(v) ad_vf(c, T, v, nt)
	if (c->fast)
		VRUN(len, x, y, AD_EST, pf);
	else
		VRUN(len, x, y, AD_EXACT, pf);
#undef AD_EST
#undef AD_EXACT
}

static void adact_fwd_run(const adact_t *c, const float *p, size_t len, const float *x, float *y)
{
	if (c->ns - 1 > 64) {
		adact_fwd_runb(c, p, len, x, y);
		return;
	}
	ad_tab T;
	const int pf = run_prefetch();
	if (c->fast) {
		const int nseg = c->ns - 1;
		if (nseg <= 16) {
			ad_tab_make_est(c, p, &T, 1);
			ad_fwd_v(c, &T, len, x, y, 1, pf);
		} else if (nseg <= 32) {
			ad_tab_make_est(c, p, &T, 2);
			ad_fwd_v(c, &T, len, x, y, 2, pf);
		} else {
			ad_tab_make_est(c, p, &T, 4);
			ad_fwd_v(c, &T, len, x, y, 4, pf);
		}
		return;
	}
	int nt = ad_tab_make(c, p, &T);
	if (nt == 1)
		ad_fwd_v(c, &T, len, x, y, 1, pf);
	else if (nt == 2)
		ad_fwd_v(c, &T, len, x, y, 2, pf);
	else
		ad_fwd_v(c, &T, len, x, y, 4, pf);
}

/* Backward of a run: dx = dy * s; the element's weights w1 = dy * t,
 * w0 = dy - w1 (t = (x - h) * inv) go to hinges j and j + 1, summed per
 * segment in 16 float lanes (a compare and two masked adds per segment).
 * Between runs the lane sums live in st->ga: hinge k's lanes 0-15 hold
 * segment k's w0 sums, lanes 16-31 segment k-1's w1 sums; flushed to
 * double every LN_FLUSH elements. Up to 16 segments the sums are named
 * registers (AD_SEGS lists them; GCC keeps arrays of vectors in memory). */
#define AD_SEGS8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define AD_SEGS16(X) AD_SEGS8(X) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)
#define AD_DECL(k)                                                                                 \
	__m512 s0_##k = _mm512_setzero_ps(), s1_##k = s0_##k;                                      \
	if (k < nseg) {                                                                            \
		s0_##k = _mm512_loadu_ps(st->ga + (size_t)(k)*NB);                                 \
		s1_##k = _mm512_loadu_ps(st->ga + (size_t)(k + 1) * NB + 16);                      \
	}
#define AD_ACC(k)                                                                                  \
	{                                                                                          \
		__mmask16 on = _mm512_cmpeq_epi32_mask(j, _mm512_set1_epi32(k));                   \
		s0_##k = _mm512_mask_add_ps(s0_##k, on, s0_##k, w0);                               \
		s1_##k = _mm512_mask_add_ps(s1_##k, on, s1_##k, w1);                               \
	}
#define AD_STORE(k)                                                                                \
	if (k < nseg) {                                                                            \
		_mm512_storeu_ps(st->ga + (size_t)(k)*NB, s0_##k);                                 \
		_mm512_storeu_ps(st->ga + (size_t)(k + 1) * NB + 16, s1_##k);                      \
	}

/* one vector of the run at i (m lanes valid): dx, and j, w0, w1 */
AL_INLINE void ad_bwd_el(const adact_t *c, const ad_tab *T, const float *restrict x,
			 const float *restrict dy, float *restrict dx, size_t m, const int nt,
			 __m512i *j, __m512 *w0, __m512 *w1)
{
	/* masked loads and stores only at the tail (they are slow on some
	 * targets); lanes beyond the run load x = dy = 0: zero weights */
	__mmask16 mk = vmask(m);
	__m512 xv, g;
	if (m >= 16) {
		xv = _mm512_loadu_ps(x);
		g = _mm512_loadu_ps(dy);
	} else {
		xv = _mm512_maskz_loadu_ps(mk, x);
		g = _mm512_maskz_loadu_ps(mk, dy);
	}
	*j = ad_vseg(c, T, xv, nt);
	__m512 t = _mm512_mul_ps(_mm512_sub_ps(xv, vtab(T->h, *j, nt)), _mm512_set1_ps(c->inv));
	__m512 d = _mm512_mul_ps(g, vtab(T->s, *j, nt));
	if (m >= 16)
		_mm512_storeu_ps(dx, d);
	else
		_mm512_mask_storeu_ps(dx, mk, d);
	*w1 = _mm512_mul_ps(g, t);
	*w0 = _mm512_sub_ps(g, *w1);
}

#define AD_BWD_FN(name, SEGS, K, nt)                                                               \
	static void name(const adact_t *c, const ad_tab *T, size_t len, const float *restrict x,  \
			 const float *restrict dy, float *restrict dx, ln_state *st)               \
	{                                                                                          \
		const int nseg = c->ns - 1;                                                        \
		for (size_t c0 = 0; c0 < len;) {                                                   \
			const size_t e = ln_min(len, c0 + (LN_FLUSH - st->pending));               \
			SEGS(AD_DECL)                                                              \
			for (size_t i = c0; i < e; i += 16) {                                      \
				__m512i j;                                                         \
				__m512 w0, w1;                                                     \
				ad_bwd_el(c, T, x + i, dy + i, dx + i, e - i, nt, &j, &w0, &w1);   \
				SEGS(AD_ACC)                                                       \
			}                                                                          \
			SEGS(AD_STORE)                                                             \
			st->pending += e - c0;                                                     \
			if (st->pending >= LN_FLUSH) {                                             \
				vflush(st->ga, st->acc, (size_t)c->P, 32);                           \
				st->pending = 0;                                                   \
			}                                                                          \
			c0 = e;                                                                    \
		}                                                                                  \
	}
AD_BWD_FN(ad_bwd_v8, AD_SEGS8, 8, 1)
AD_BWD_FN(ad_bwd_v16, AD_SEGS16, 16, 1)

/* 17-32 segments: the lane sums stay in st->ga */
static void ad_bwd_v32(const adact_t *c, const ad_tab *T, size_t len, const float *restrict x,
		       const float *restrict dy, float *restrict dx, ln_state *st)
{
	const int nseg = c->ns - 1;
	for (size_t c0 = 0; c0 < len;) {
		const size_t e = ln_min(len, c0 + (LN_FLUSH - st->pending));
		for (size_t i = c0; i < e; i += 16) {
			__m512i j;
			__m512 w0, w1;
			ad_bwd_el(c, T, x + i, dy + i, dx + i, e - i, 2, &j, &w0, &w1);
			for (int k = 0; k < nseg; k++) {
				__mmask16 on = _mm512_cmpeq_epi32_mask(j, _mm512_set1_epi32(k));
				float *g0 = st->ga + (size_t)k * NB, *g1 = st->ga + (size_t)(k + 1) * NB + 16;
				_mm512_storeu_ps(g0, _mm512_mask_add_ps(_mm512_loadu_ps(g0), on,
									_mm512_loadu_ps(g0), w0));
				_mm512_storeu_ps(g1, _mm512_mask_add_ps(_mm512_loadu_ps(g1), on,
									_mm512_loadu_ps(g1), w1));
			}
		}
		st->pending += e - c0;
		if (st->pending >= LN_FLUSH) {
			vflush(st->ga, st->acc, (size_t)c->P, 32);
			st->pending = 0;
		}
		c0 = e;
	}
}

static void adact_bwd_run(const adact_t *c, const float *p, size_t len, const float *x,
			  const float *y, const float *dy, float *dx, ln_state *st)
{
	const int nseg = c->ns - 1;
	if (nseg > 32) {
		adact_bwd_runb(c, p, len, x, y, dy, dx, st);
		return;
	}
	ad_tab T;
	ad_tab_make(c, p, &T);
	if (nseg <= 8)
		ad_bwd_v8(c, &T, len, x, dy, dx, st);
	else if (nseg <= 16)
		ad_bwd_v16(c, &T, len, x, dy, dx, st);
	else
		ad_bwd_v32(c, &T, len, x, dy, dx, st);
}

/* r[0..15] (rows) transposed in place: r[i] lane j <- r[j] lane i */
AL_INLINE void tr16(__m512 r[16])
{
	__m512 a[16], b[16];
	for (int k = 0; k < 8; k++) {
		a[2 * k] = _mm512_unpacklo_ps(r[2 * k], r[2 * k + 1]);
		a[2 * k + 1] = _mm512_unpackhi_ps(r[2 * k], r[2 * k + 1]);
	}
	/* b[4m + c], 128-bit lane q: column 4q + c of rows 4m..4m+3 */
	for (int m = 0; m < 4; m++)
		for (int h = 0; h < 2; h++) {
			__m512d lo = _mm512_castps_pd(a[4 * m + h]), hi = _mm512_castps_pd(a[4 * m + h + 2]);
			b[4 * m + 2 * h] = _mm512_castpd_ps(_mm512_unpacklo_pd(lo, hi));
			b[4 * m + 2 * h + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(lo, hi));
		}
	for (int c = 0; c < 4; c++) {
		__m512 e0 = _mm512_shuffle_f32x4(b[c], b[4 + c], 0x44),
		       e1 = _mm512_shuffle_f32x4(b[c], b[4 + c], 0xEE),
		       f0 = _mm512_shuffle_f32x4(b[8 + c], b[12 + c], 0x44),
		       f1 = _mm512_shuffle_f32x4(b[8 + c], b[12 + c], 0xEE);
		r[c] = _mm512_shuffle_f32x4(e0, f0, 0x88);
		r[c + 4] = _mm512_shuffle_f32x4(e0, f0, 0xDD);
		r[c + 8] = _mm512_shuffle_f32x4(e1, f1, 0x88);
		r[c + 12] = _mm512_shuffle_f32x4(e1, f1, 0xDD);
	}
}

/* a tile of 16 rows (the first `rows` at x + i*F, the rest zero) in,
 * transposed: r[l] = column l */
AL_INLINE void tile_in(const float *x, size_t F, int rows, __m512 r[16])
{
	for (int i = 0; i < 16; i++)
		r[i] = i < rows ? _mm512_loadu_ps(x + (size_t)i * F) : _mm512_setzero_ps();
	tr16(r);
}
/* the tile transposed back, its first `rows` rows out to y + i*F */
AL_INLINE void tile_out(float *y, size_t F, int rows, __m512 r[16])
{
	tr16(r);
	for (int i = 0; i < rows; i++)
		_mm512_storeu_ps(y + (size_t)i * F, r[i]);
}
/* A block's first ng * 16 units in all n samples (x + s*F), tile by tile,
 * sample-major so that each sample's row of the block is read whole: each
 * transposed column (unit u over 16 samples) becomes U(u, column) (U: a
 * macro) */
#define VTILES(n, ng, F, x, y, U)                                                                  \
	do {                                                                                       \
		for (int s0_ = 0; s0_ < (n); s0_ += 16) {                                          \
			const int rows_ = (n) - s0_ < 16 ? (n) - s0_ : 16;                         \
			for (int g_ = 0; g_ < (ng); g_++) {                                        \
				const size_t u0_ = (size_t)g_ * 16, o_ = (size_t)s0_ * (F) + u0_;  \
				__m512 r_[16];                                                     \
				tile_in((x) + o_, F, rows_, r_);                                   \
				for (int l_ = 0; l_ < 16; l_++)                                    \
					r_[l_] = U(u0_ + (size_t)l_, r_[l_]);                      \
				tile_out((y) + o_, F, rows_, r_);                                  \
			}                                                                          \
		}                                                                                  \
	} while (0)

/* The free-grid forward per neuron (up to 16 segments), a block of units
 * across the samples: tiles of 16 samples x 16 units are transposed so that
 * a register holds one unit in 16 samples, whose two tables (ad_tab_make_est's
 * arithmetic, built from the unit's contiguous hinge values) are picked by
 * permutes, then transposed back (VTILES). The arithmetic is ad_vf_est's,
 * so the results equal the run and block kernels' bit for bit; the block
 * kernel's compare-and-select chain costs about three instructions per
 * segment instead. The tables are built 16 segments at once from each
 * unit's contiguous values (ad_tab_make_est's arithmetic: its scalar loop
 * per unit would cost more than the unit's samples). Units beyond the last full 16 go to the block kernel; batches
 * under 16 samples are left to the driver. */
static int adact_fwd_units_raw(const adact_t *c, const float *p, size_t m, int n, size_t F,
			       const float *x, float *y)
{
	const int nseg = c->ns - 1, P = c->P;
	if (!c->fast || nseg > 16 || n < 16 || m < 16)
		return 0;
	const int ng = (int)(m / 16);
	const size_t m16 = (size_t)ng * 16;
	__m512 S[NB], C[NB]; /* unit u's tables */
	const __m512i idx = _mm512_min_epi32(
		_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
		_mm512_set1_epi32(nseg - 1));
	const __m512 h = _mm512_add_ps(_mm512_set1_ps(c->lo),
				       _mm512_mul_ps(_mm512_cvtepi32_ps(idx), _mm512_set1_ps(c->d)));
	const __mmask16 ka = vmask((size_t)P), kb = vmask((size_t)P - 1);
	for (size_t u = 0; u < m16; u++) {
		const float *a = p + u * (size_t)P;
		__m512 a0 = _mm512_permutexvar_ps(idx, _mm512_maskz_loadu_ps(ka, a)),
		       a1 = _mm512_permutexvar_ps(idx, _mm512_maskz_loadu_ps(kb, a + 1));
		S[u] = _mm512_mul_ps(_mm512_sub_ps(a1, a0), _mm512_set1_ps(c->inv));
		C[u] = _mm512_sub_ps(a0, _mm512_mul_ps(h, S[u]));
	}
#define AD_UNIT(u, v) ad_vf_est(c, &S[u], &C[u], v, 1)
	VTILES(n, ng, F, x, y, AD_UNIT);
#undef AD_UNIT
	for (int s = 0; s < n && m16 < m; s++)
		adact_fwd_blk(c, p + m16 * (size_t)P, 1, (size_t)P, m - m16, x + (size_t)s * F + m16,
			      y + (size_t)s * F + m16);
	return 1;
}
#else
static int adact_fwd_units_raw(const adact_t *c, const float *p, size_t m, int n, size_t F,
			       const float *x, float *y)
{
	return 0;
}
static void adact_fwd_run(const adact_t *c, const float *p, size_t len, const float *x, float *y)
{
	adact_fwd_runb(c, p, len, x, y);
}
static void adact_bwd_run(const adact_t *c, const float *p, size_t len, const float *x,
			  const float *y, const float *dy, float *dx, ln_state *st)
{
	adact_bwd_runb(c, p, len, x, y, dy, dx, st);
}
#endif

int al_ln_adact_nparams(const double *h) { return (int)h[AD_NS]; }

void al_ln_adact_name(const double *h, int k, char *buf, size_t cap)
{
	snprintf(buf, cap, "a%d", k);
}

void al_ln_adact_init(const double *h, float *p, size_t groups, al_rng *r)
{
	int ns = (int)h[AD_NS];
	double d = (h[AD_HI] - h[AD_LO]) / (ns - 1);
	for (int j = 0; j < ns; j++) {
		double v = h[AD_LO] + j * d;
		double a = v > 0 ? v : (h[AD_INIT] != 0 ? h[AD_SLOPE] * v : 0.0);
		for (size_t g = 0; g < groups; g++)
			p[g * (size_t)ns + (size_t)j] = (float)a;
	}
}

al_status al_ln_adact_check(const double *h, al_per per, int per_given)
{
	if (!is_int(h[AD_NS], 2, AL_LN_MAXP))
		return al_err(AL_EINVAL, "ns=%g: the hinge count must be an integer in [2, %d]",
			      h[AD_NS], AL_LN_MAXP);
	if (!(h[AD_LO] < h[AD_HI]))
		return al_err(AL_EINVAL, "lo=%g, hi=%g: need lo < hi", h[AD_LO], h[AD_HI]);
	double k0 = -h[AD_LO] / ((h[AD_HI] - h[AD_LO]) / (h[AD_NS] - 1));
	if (h[AD_ZERO] == 0 && (!(k0 > -1e-9 && k0 < h[AD_NS] - 1 + 1e-9) ||
				 fabs(k0 - nearbyint(k0)) > 1e-9))
		return al_err(AL_EINVAL,
			      "0 must be a hinge: with ns=%g on [%g, %g] the hinges are lo + j*%g "
			      "(use an odd ns on a symmetric range, or zero=any)",
			      h[AD_NS], h[AD_LO], h[AD_HI], (h[AD_HI] - h[AD_LO]) / (h[AD_NS] - 1));
	return AL_OK;
}

double al_ln_adact_ref(const double *h, const double *p, double x, double *dfdx, double *dfdp)
{
	int ns = (int)h[AD_NS];
	double d = (h[AD_HI] - h[AD_LO]) / (ns - 1);
	double j = floor((x - h[AD_LO]) / d);
	j = j >= 0 ? j : 0;
	j = j <= ns - 2 ? j : ns - 2;
	j = (x < h[AD_LO] + j * d && j > 0) ? j - 1 : j;
	j = (x >= h[AD_LO] + (j + 1) * d && j < ns - 2) ? j + 1 : j;
	int ji = (int)j;
	double t = (x - (h[AD_LO] + j * d)) / d;
	for (int k = 0; k < ns; k++)
		dfdp[k] = 0;
	dfdp[ji] = 1 - t;
	dfdp[ji + 1] = t;
	*dfdx = (p[ji + 1] - p[ji]) / d;
	return p[ji] + t * (p[ji + 1] - p[ji]);
}

int al_ln_adact_kinks(const double *h, const double *p, double *out, int cap)
{
	int ns = (int)h[AD_NS], n = 0;
	double d = (h[AD_HI] - h[AD_LO]) / (ns - 1);
	for (int j = 0; j < ns && n < cap; j++)
		out[n++] = h[AD_LO] + j * d;
	return n;
}

/* ======================================================================
 * apl: max(0, x) + sum_s a_s max(0, b_s - x); params a_1..a_S, b_1..b_S
 * hypers: S, a_range (a ~ U(-a_range/S, a_range/S)), b_std (b ~ N(0, b_std^2))
 * ====================================================================== */
enum { APL_S, APL_AR, APL_BS };

typedef struct {
	int P, S;
} apl_t;

static void apl_cfg(const double *h, apl_t *c)
{
	c->S = (int)h[APL_S];
	c->P = 2 * c->S;
}

AL_INLINE void apl_fwd_blk(const apl_t *c, const float *restrict p, size_t ps, size_t ls,
			   size_t m, const float *restrict x, float *restrict y)
{
	const int S = c->S;
#pragma omp simd
	for (size_t i = 0; i < m; i++)
		y[i] = x[i] < 0 ? 0.0f : x[i];
	for (int s = 0; s < S; s++) {
		const float *pa = p + (size_t)s * ps, *pb = p + (size_t)(S + s) * ps;
#pragma omp simd
		for (size_t i = 0; i < m; i++) {
			float v = pb[i * ls] - x[i];
			y[i] += pa[i * ls] * (v > 0 ? v : 0.0f);
		}
	}
}

AL_INLINE void apl_bwd_blk(const apl_t *c, const float *restrict p, size_t ps, size_t ls,
			   size_t m, const float *restrict x, const float *restrict y,
			   const float *restrict dy, float *restrict dx, float *restrict gp)
{
	const int S = c->S;
	float sl[NB];
#pragma omp simd
	for (size_t i = 0; i < m; i++)
		sl[i] = x[i] > 0 ? 1.0f : 0.0f;
	for (int s = 0; s < S; s++) {
		const float *pa = p + (size_t)s * ps, *pb = p + (size_t)(S + s) * ps;
		float *ga = gp + (size_t)s * NB, *gb = gp + (size_t)(S + s) * NB;
#pragma omp simd
		for (size_t i = 0; i < m; i++) {
			float v = pb[i * ls] - x[i];
			int on = v > 0;
			float a = pa[i * ls];
			sl[i] -= on ? a : 0.0f;
			ga[i] = dy[i] * (on ? v : 0.0f);
			gb[i] = on ? dy[i] * a : 0.0f;
		}
	}
#pragma omp simd
	for (size_t i = 0; i < m; i++)
		dx[i] = dy[i] * sl[i];
}

#define LN_NAME apl
#define LN_CFG apl_t
#define LN_RUN
#include "act/learned_driver.h"

#ifdef LN_VEC
/* Per run: a_s, b_s broadcast once, the block kernels' arithmetic in the
 * same order (y and dx bit-identical), the 2S gradients as lane sums in
 * st->ga; S = 5 (the default) unrolled. */
AL_INLINE void apl_fwd_v(const float *p, size_t len, const float *restrict x, float *restrict y,
			 const int S)
{
	const __m512 zero = _mm512_setzero_ps();
	for (size_t i = 0; i < len; i += 16) {
		__mmask16 mk = vmask(len - i);
		__m512 xv = len - i >= 16 ? _mm512_loadu_ps(x + i) : _mm512_maskz_loadu_ps(mk, x + i);
		/* x < 0 ? 0 : x (NaN and -0 pass) */
		__m512 r = _mm512_mask_mov_ps(xv, _mm512_cmp_ps_mask(xv, zero, _CMP_LT_OQ), zero);
		for (int k = 0; k < S; k++) {
			__m512 v = _mm512_sub_ps(_mm512_set1_ps(p[S + k]), xv);
			v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ), v);
			r = _mm512_add_ps(r, _mm512_mul_ps(_mm512_set1_ps(p[k]), v));
		}
		if (len - i >= 16)
			_mm512_storeu_ps(y + i, r);
		else
			_mm512_mask_storeu_ps(y + i, mk, r);
	}
}

static void apl_fwd_run(const apl_t *c, const float *p, size_t len, const float *x, float *y)
{
	if (c->S == 5)
		apl_fwd_v(p, len, x, y, 5);
	else
		apl_fwd_v(p, len, x, y, c->S);
}

AL_INLINE void apl_bwd_v(const apl_t *c, const float *p, size_t len, const float *restrict x,
			 const float *restrict dy, float *restrict dx, ln_state *st, const int S)
{
	const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
	for (size_t c0 = 0; c0 < len;) {
		const size_t e = ln_min(len, c0 + (LN_FLUSH - st->pending));
		__m512 ga[AL_LN_MAXP];
		for (int k = 0; k < 2 * S; k++)
			ga[k] = _mm512_loadu_ps(st->ga + (size_t)k * NB);
		for (size_t i = c0; i < e; i += 16) {
			/* lanes beyond the run: x = dy = 0, zero contributions */
			__mmask16 mk = vmask(e - i);
			__m512 xv, g;
			if (e - i >= 16) {
				xv = _mm512_loadu_ps(x + i);
				g = _mm512_loadu_ps(dy + i);
			} else {
				xv = _mm512_maskz_loadu_ps(mk, x + i);
				g = _mm512_maskz_loadu_ps(mk, dy + i);
			}
			__m512 sl = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(xv, zero, _CMP_GT_OQ), one);
			for (int k = 0; k < S; k++) {
				const __m512 a = _mm512_set1_ps(p[k]);
				__m512 v = _mm512_sub_ps(_mm512_set1_ps(p[S + k]), xv);
				__mmask16 on = _mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ);
				sl = _mm512_mask_sub_ps(sl, on, sl, a);
				ga[k] = _mm512_add_ps(ga[k], _mm512_mul_ps(g, _mm512_maskz_mov_ps(on, v)));
				ga[S + k] = _mm512_mask_add_ps(ga[S + k], on, ga[S + k], _mm512_mul_ps(g, a));
			}
			__m512 d = _mm512_mul_ps(g, sl);
			if (e - i >= 16)
				_mm512_storeu_ps(dx + i, d);
			else
				_mm512_mask_storeu_ps(dx + i, mk, d);
		}
		for (int k = 0; k < 2 * S; k++)
			_mm512_storeu_ps(st->ga + (size_t)k * NB, ga[k]);
		st->pending += e - c0;
		if (st->pending >= LN_FLUSH) {
			vflush(st->ga, st->acc, (size_t)c->P, 16);
			st->pending = 0;
		}
		c0 = e;
	}
}

static void apl_bwd_run(const apl_t *c, const float *p, size_t len, const float *x,
			const float *y, const float *dy, float *dx, ln_state *st)
{
	if (c->S == 5)
		apl_bwd_v(c, p, len, x, dy, dx, st, 5);
	else
		apl_bwd_v(c, p, len, x, dy, dx, st, c->S);
}
#else
static void apl_fwd_run(const apl_t *c, const float *p, size_t len, const float *x, float *y)
{
	apl_fwd_runb(c, p, len, x, y);
}
static void apl_bwd_run(const apl_t *c, const float *p, size_t len, const float *x,
			const float *y, const float *dy, float *dx, ln_state *st)
{
	apl_bwd_runb(c, p, len, x, y, dy, dx, st);
}
#endif

int al_ln_apl_nparams(const double *h) { return 2 * (int)h[APL_S]; }

void al_ln_apl_name(const double *h, int k, char *buf, size_t cap)
{
	int S = (int)h[APL_S];
	snprintf(buf, cap, "%c%d", k < S ? 'a' : 'b', (k < S ? k : k - S) + 1);
}

void al_ln_apl_init(const double *h, float *p, size_t groups, al_rng *r)
{
	int S = (int)h[APL_S];
	double ar = h[APL_AR] / S;
	for (size_t g = 0; g < groups; g++)
		for (int s = 0; s < S; s++) {
			p[g * (size_t)(2 * S) + (size_t)s] = (float)urand(r, -ar, ar);
			p[g * (size_t)(2 * S) + (size_t)(S + s)] = (float)(h[APL_BS] * al_rng_normal(r));
		}
}

al_status al_ln_apl_check(const double *h, al_per per, int per_given)
{
	if (!is_int(h[APL_S], 1, AL_LN_MAXP / 2))
		return al_err(AL_EINVAL, "S=%g: the hinge count must be an integer in [1, %d]",
			      h[APL_S], AL_LN_MAXP / 2);
	if (!(h[APL_AR] >= 0) || !(h[APL_BS] >= 0))
		return al_err(AL_EINVAL, "a_range=%g, b_std=%g: must be >= 0", h[APL_AR], h[APL_BS]);
	return AL_OK;
}

double al_ln_apl_ref(const double *h, const double *p, double x, double *dfdx, double *dfdp)
{
	int S = (int)h[APL_S];
	double y = x > 0 ? x : 0, d = x > 0 ? 1 : 0;
	for (int s = 0; s < S; s++) {
		double v = p[S + s] - x;
		int on = v > 0;
		y += p[s] * (on ? v : 0);
		d -= on ? p[s] : 0;
		dfdp[s] = on ? v : 0;
		dfdp[S + s] = on ? p[s] : 0;
	}
	*dfdx = d;
	return y;
}

int al_ln_apl_kinks(const double *h, const double *p, double *out, int cap)
{
	int S = (int)h[APL_S], n = 0;
	if (n < cap)
		out[n++] = 0;
	for (int s = 0; s < S && n < cap; s++)
		out[n++] = p[S + s];
	return n;
}

/* ======================================================================
 * pau: (a_0 + a_1 x + ... + a_m x^m) / (1 + |b_1 x + ... + b_n x^n|)
 * hypers: m, n, init (@act), fit_lo, fit_hi
 * ====================================================================== */
enum { PAU_M, PAU_N, PAU_INIT, PAU_LO, PAU_HI };

typedef struct {
	int P, m, n;
} pau_t;

static void pau_cfg(const double *h, pau_t *c)
{
	c->m = (int)h[PAU_M];
	c->n = (int)h[PAU_N];
	c->P = c->m + 1 + c->n;
}

/* num[i] = P(x), w[i] = W(x) = B(x) / x = sum_k b_k x^(k-1), by Horner */
AL_INLINE void pau_polys(const pau_t *c, const float *restrict p, size_t ps, size_t ls, size_t m,
			 const float *restrict x, float *restrict num, float *restrict w)
{
	const float *pm = p + (size_t)c->m * ps;
#pragma omp simd
	for (size_t i = 0; i < m; i++)
		num[i] = pm[i * ls];
	for (int j = c->m - 1; j >= 0; j--) {
		const float *pj = p + (size_t)j * ps;
#pragma omp simd
		for (size_t i = 0; i < m; i++)
			num[i] = fmaf(num[i], x[i], pj[i * ls]);
	}
	const float *pn = p + (size_t)(c->m + c->n) * ps; /* n >= 1 */
#pragma omp simd
	for (size_t i = 0; i < m; i++)
		w[i] = pn[i * ls];
	for (int k = c->n - 1; k >= 1; k--) {
		const float *pk = p + (size_t)(c->m + k) * ps;
#pragma omp simd
		for (size_t i = 0; i < m; i++)
			w[i] = fmaf(w[i], x[i], pk[i * ls]);
	}
}

/* the safe denominator 1 + |B(x)| = 1 + |W(x)| |x| in one rounding (one
 * fused multiply-add where B = W x, then 1 + |B|, took a multiply and an
 * add) */
AL_INLINE float pau_den(float w, float x) { return fmaf(al_fabsf(w), al_fabsf(x), 1.0f); }

AL_INLINE void pau_fwd_blk(const pau_t *c, const float *restrict p, size_t ps, size_t ls,
			   size_t m, const float *restrict x, float *restrict y)
{
	float num[NB], w[NB];
	pau_polys(c, p, ps, ls, m, x, num, w);
#pragma omp simd
	for (size_t i = 0; i < m; i++)
		y[i] = num[i] / pau_den(w[i], x[i]);
}

AL_INLINE void pau_bwd_blk(const pau_t *c, const float *restrict p, size_t ps, size_t ls,
			   size_t m, const float *restrict x, const float *restrict y,
			   const float *restrict dy, float *restrict dx, float *restrict gp)
{
	float num[NB], w[NB], dnum[NB], dden[NB], ga[NB], gb[NB], pw[NB];
	pau_polys(c, p, ps, ls, m, x, num, w);
	/* derivatives of P and B by Horner */
#pragma omp simd
	for (size_t i = 0; i < m; i++)
		dnum[i] = dden[i] = 0;
	for (int j = c->m; j >= 1; j--) {
		const float *pj = p + (size_t)j * ps;
		const float fj = (float)j;
#pragma omp simd
		for (size_t i = 0; i < m; i++)
			dnum[i] = fmaf(dnum[i], x[i], fj * pj[i * ls]);
	}
	for (int k = c->n; k >= 1; k--) {
		const float *pk = p + (size_t)(c->m + k) * ps;
		const float fk = (float)k;
#pragma omp simd
		for (size_t i = 0; i < m; i++)
			dden[i] = fmaf(dden[i], x[i], fk * pk[i * ls]);
	}
#pragma omp simd
	for (size_t i = 0; i < m; i++) {
		float q = 1.0f / pau_den(w[i], x[i]), den = w[i] * x[i];
		float sb = den > 0 ? 1.0f : (den < 0 ? -1.0f : 0.0f);
		float yv = num[i] * q;
		dx[i] = dy[i] * (dnum[i] - yv * sb * dden[i]) * q;
		ga[i] = dy[i] * q;
		gb[i] = -dy[i] * yv * sb * q;
		pw[i] = 1.0f;
	}
	for (int j = 0; j <= c->m; j++) {
		float *g = gp + (size_t)j * NB;
#pragma omp simd
		for (size_t i = 0; i < m; i++) {
			g[i] = ga[i] * pw[i];
			pw[i] *= x[i];
		}
	}
#pragma omp simd
	for (size_t i = 0; i < m; i++)
		pw[i] = x[i];
	for (int k = 1; k <= c->n; k++) {
		float *g = gp + (size_t)(c->m + k) * NB;
#pragma omp simd
		for (size_t i = 0; i < m; i++) {
			g[i] = gb[i] * pw[i];
			pw[i] *= x[i];
		}
	}
}

static int pau_fwd_units(const pau_t *c, const float *pt, size_t m, int n, size_t F,
			 const float *x, float *y);
static int pau_bwd_units(const pau_t *c, const float *pt, size_t m, int n, size_t F,
			 const float *x, const float *y, const float *dy, float *dx, float *ga)
{
	return 0;
}
#define LN_NAME pau
#define LN_CFG pau_t
#define LN_RUN
#define LN_UNITS
#include "act/learned_driver.h"

#ifdef LN_VEC
/* Per run: the coefficients broadcast once; the block kernels' arithmetic
 * in the same order (y and dx bit-identical to them; the denominator is
 * pau_den's single fused multiply-add in both), 16 elements at a time in
 * registers. The backward adds each coefficient's gradient
 * dy q x^j (resp. -dy y sgn(B) q x^k) to 16 float lanes of st->ga. */
#define PAU_MAXD 12 /* degrees the run kernels take (distill: m, n <= 12) */

/* 16 lanes of coefficients (per=neuron: one unit per lane) */
typedef struct {
	__m512 a[PAU_MAXD + 1], b[PAU_MAXD + 1];
} pau_vc;

/* P(x) and W(x) = B(x) / x = sum_k b_k x^(k-1) by Horner (a[j], b[k]:
 * the coefficients broadcast) */
AL_INLINE void pau_vpolys(const __m512 *a, const __m512 *b, const int m, const int n, __m512 x,
			  __m512 *num, __m512 *w)
{
	__m512 u = a[m], v = b[n];
	for (int j = m - 1; j >= 0; j--)
		u = _mm512_fmadd_ps(u, x, a[j]);
	for (int k = n - 1; k >= 1; k--)
		v = _mm512_fmadd_ps(v, x, b[k]);
	*num = u;
	*w = v;
}

AL_INLINE __m512 vabs(__m512 v)
{
	return _mm512_castsi512_ps(
		_mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32(0x7fffffff)));
}

/* pau_den: 1 + |W(x)| |x| */
AL_INLINE __m512 pau_vden(__m512 w, __m512 x)
{
	return _mm512_fmadd_ps(vabs(w), vabs(x), _mm512_set1_ps(1.0f));
}

AL_INLINE __m512 pau_vfab(const __m512 *a, const __m512 *b, __m512 x, const int m, const int n)
{
	__m512 num, w;
	pau_vpolys(a, b, m, n, x, &num, &w);
	return _mm512_div_ps(num, pau_vden(w, x));
}

AL_INLINE __m512 pau_vf(const pau_vc *V, __m512 x, const int m, const int n)
{
	return pau_vfab(V->a, V->b, x, m, n);
}

/* The coefficients are broadcast here, into the loop's own registers (with
 * a pau_vc built by the caller, all 4 (PAU_MAXD + 1) vectors were written
 * to the stack for every run, against 64 vectors of work per channel plane
 * at [64,32,32,32]); two vectors per step. Per vector: m + n fused
 * multiply-adds and one division, which runs beside them (a loop with a
 * multiply in its place was only 8% faster per core). Measured and
 * dropped (docs/benchmarks.md, 2026-12-05 evening): Estrin forms (one more
 * multiply each), vrcp14ps with a Newton step instead of the division
 * (three more fused multiply-adds; the multiply-add ports are the bound,
 * and no faster on Intel either, 2026-12-06), a VRUN-style aligned head (no
 * change: the library's planes are aligned when hw is a multiple of 16;
 * earlier, 1.4-1.9x relu against 1.1x without).
 * pf: the prefetch of x RUN_PF ahead, as in VRUN (x only: prefetching
 * y for writing as well was 1-2% slower on Intel, 2026-12-06). */
AL_INLINE void pau_fwd_v(const float *p, size_t len, const float *restrict x, float *restrict y,
			 const int m, const int n, const int pf)
{
	__m512 a[PAU_MAXD + 1], b[PAU_MAXD + 1];
	for (int j = 0; j <= m; j++)
		a[j] = _mm512_set1_ps(p[j]);
	for (int k = 1; k <= n; k++)
		b[k] = _mm512_set1_ps(p[m + k]);
	size_t i = 0;
	for (; i + 32 <= len; i += 32) {
		if (pf) { /* prefetches never fault, past the end included */
			_mm_prefetch((const char *)(x + i + RUN_PF), _MM_HINT_T0);
			_mm_prefetch((const char *)(x + i + RUN_PF + 16), _MM_HINT_T0);
		}
		__m512 r0 = pau_vfab(a, b, _mm512_loadu_ps(x + i), m, n);
		__m512 r1 = pau_vfab(a, b, _mm512_loadu_ps(x + i + 16), m, n);
		_mm512_storeu_ps(y + i, r0);
		_mm512_storeu_ps(y + i + 16, r1);
	}
	for (; i < len; i += 16) {
		__mmask16 mk = vmask(len - i);
		_mm512_mask_storeu_ps(y + i, mk, pau_vfab(a, b, _mm512_maskz_loadu_ps(mk, x + i), m, n));
	}
}

static void pau_fwd_run(const pau_t *c, const float *p, size_t len, const float *x, float *y)
{
	if (c->m > PAU_MAXD || c->n > PAU_MAXD) {
		pau_fwd_runb(c, p, len, x, y);
		return;
	}
	const int pf = run_prefetch();
	/* degrees as compile-time constants, so the coefficients stay in
	 * registers and the Horner loops unroll: every (m, n) with m <= 8 and
	 * n <= 6 (distill's rational:M,N forms); with run-time degrees the loop
	 * reloads them from memory (rational:4,4 ran 2x relu that way, not 1.3x) */
#define PAU_N_CASES(M)                                                                         \
	case M * 8 + 1: pau_fwd_v(p, len, x, y, M, 1, pf); return;                             \
	case M * 8 + 2: pau_fwd_v(p, len, x, y, M, 2, pf); return;                             \
	case M * 8 + 3: pau_fwd_v(p, len, x, y, M, 3, pf); return;                             \
	case M * 8 + 4: pau_fwd_v(p, len, x, y, M, 4, pf); return;                             \
	case M * 8 + 5: pau_fwd_v(p, len, x, y, M, 5, pf); return;                             \
	case M * 8 + 6: pau_fwd_v(p, len, x, y, M, 6, pf); return;
	switch (c->n <= 6 && c->m <= 8 ? c->m * 8 + c->n : -1) {
		PAU_N_CASES(0) PAU_N_CASES(1) PAU_N_CASES(2) PAU_N_CASES(3) PAU_N_CASES(4)
		PAU_N_CASES(5) PAU_N_CASES(6) PAU_N_CASES(7) PAU_N_CASES(8)
	default: pau_fwd_v(p, len, x, y, c->m, c->n, pf);
	}
#undef PAU_N_CASES
}

/* m, n: the degrees, compile-time constants for the common (5, 4) */
AL_INLINE void pau_bwd_v(const pau_t *c, const float *p, size_t len, const float *restrict x,
			 const float *restrict dy, float *restrict dx, ln_state *st, const int m,
			 const int n)
{
	/* the coefficients broadcast here, as in pau_fwd_v (not a pau_vc
	 * copied in whole) */
	__m512 a[PAU_MAXD + 1], b[PAU_MAXD + 1], ja[PAU_MAXD + 1], kb[PAU_MAXD + 1];
	for (int j = 0; j <= m; j++) {
		a[j] = _mm512_set1_ps(p[j]);
		ja[j] = _mm512_set1_ps((float)j * p[j]);
	}
	for (int k = 1; k <= n; k++) {
		b[k] = _mm512_set1_ps(p[m + k]);
		kb[k] = _mm512_set1_ps((float)k * p[m + k]);
	}
	const __m512 one = _mm512_set1_ps(1.0f), zero = _mm512_setzero_ps();
	for (size_t c0 = 0; c0 < len;) {
		const size_t e = ln_min(len, c0 + (LN_FLUSH - st->pending));
		__m512 ga[2 * PAU_MAXD + 1];
		for (int k = 0; k <= m + n; k++)
			ga[k] = _mm512_loadu_ps(st->ga + (size_t)k * NB);
		for (size_t i = c0; i < e; i += 16) {
			/* lanes beyond the run: x = dy = 0, zero contributions */
			__mmask16 mk = vmask(e - i);
			__m512 xv, g;
			if (e - i >= 16) {
				xv = _mm512_loadu_ps(x + i);
				g = _mm512_loadu_ps(dy + i);
			} else {
				xv = _mm512_maskz_loadu_ps(mk, x + i);
				g = _mm512_maskz_loadu_ps(mk, dy + i);
			}
			__m512 num, w, dn = zero, dd = zero;
			pau_vpolys(a, b, m, n, xv, &num, &w);
			__m512 den = _mm512_mul_ps(w, xv);
			for (int j = m; j >= 1; j--)
				dn = _mm512_fmadd_ps(dn, xv, ja[j]);
			for (int k = n; k >= 1; k--)
				dd = _mm512_fmadd_ps(dd, xv, kb[k]);
			__m512 q = _mm512_div_ps(one, pau_vden(w, xv));
			__m512 sb = _mm512_mask_mov_ps(zero, _mm512_cmp_ps_mask(den, zero, _CMP_GT_OQ), one);
			sb = _mm512_mask_mov_ps(sb, _mm512_cmp_ps_mask(den, zero, _CMP_LT_OQ),
						_mm512_set1_ps(-1.0f));
			__m512 yv = _mm512_mul_ps(num, q), ys = _mm512_mul_ps(yv, sb);
			__m512 d = _mm512_mul_ps(
				_mm512_mul_ps(g, _mm512_sub_ps(dn, _mm512_mul_ps(ys, dd))), q);
			if (e - i >= 16)
				_mm512_storeu_ps(dx + i, d);
			else
				_mm512_mask_storeu_ps(dx + i, mk, d);
			__m512 gav = _mm512_mul_ps(g, q);
			__m512 gbv = _mm512_mul_ps(
				_mm512_mul_ps(_mm512_mul_ps(_mm512_sub_ps(zero, g), yv), sb), q);
			__m512 pw = one;
			for (int j = 0; j <= m; j++) {
				ga[j] = _mm512_add_ps(ga[j], _mm512_mul_ps(gav, pw));
				pw = _mm512_mul_ps(pw, xv);
			}
			pw = xv;
			for (int k = 1; k <= n; k++) {
				ga[m + k] = _mm512_add_ps(ga[m + k], _mm512_mul_ps(gbv, pw));
				pw = _mm512_mul_ps(pw, xv);
			}
		}
		for (int k = 0; k <= m + n; k++)
			_mm512_storeu_ps(st->ga + (size_t)k * NB, ga[k]);
		st->pending += e - c0;
		if (st->pending >= LN_FLUSH) {
			vflush(st->ga, st->acc, (size_t)c->P, 16);
			st->pending = 0;
		}
		c0 = e;
	}
}

static void pau_bwd_run(const pau_t *c, const float *p, size_t len, const float *x,
			const float *y, const float *dy, float *dx, ln_state *st)
{
	if (c->m > PAU_MAXD || c->n > PAU_MAXD) {
		pau_bwd_runb(c, p, len, x, y, dy, dx, st);
		return;
	}
	if (c->m == 5 && c->n == 4)
		pau_bwd_v(c, p, len, x, dy, dx, st, 5, 4);
	else
		pau_bwd_v(c, p, len, x, dy, dx, st, c->m, c->n);
}

/* ng tiles of 16 units (lane = unit), sample by sample so that each
 * sample's row of the block is read whole; pau_vf's arithmetic */
AL_INLINE void pau_units(const float *pt, int ng, int n, size_t F, const float *x, float *y,
			 const int m, const int nd)
{
	pau_vc V[NB / 16];
	for (int g = 0; g < ng; g++) {
		for (int j = 0; j <= m; j++)
			V[g].a[j] = _mm512_loadu_ps(pt + (size_t)j * NB + 16 * g);
		for (int k = 1; k <= nd; k++)
			V[g].b[k] = _mm512_loadu_ps(pt + (size_t)(m + k) * NB + 16 * g);
	}
	for (int s = 0; s < n; s++)
		for (int g = 0; g < ng; g++) {
			const size_t o = (size_t)s * F + 16 * (size_t)g;
			_mm512_storeu_ps(y + o, pau_vf(&V[g], _mm512_loadu_ps(x + o), m, nd));
		}
}

/* per neuron: the coefficients of the block's units loaded once for all
 * the samples (pau_fwd_v's arithmetic, so the results equal the run
 * kernels'); the units beyond the last 16 go to the block kernel */
static int pau_fwd_units(const pau_t *c, const float *pt, size_t m, int n, size_t F,
			 const float *x, float *y)
{
	if (c->m > PAU_MAXD || c->n > PAU_MAXD || m < 16)
		return 0;
	const int ng = (int)(m / 16);
	const size_t m16 = (size_t)ng * 16;
	if (c->m == 5 && c->n == 4)
		pau_units(pt, ng, n, F, x, y, 5, 4);
	else
		pau_units(pt, ng, n, F, x, y, c->m, c->n);
	for (int s = 0; s < n && m16 < m; s++)
		pau_fwd_blk(c, pt + m16, NB, 1, m - m16, x + (size_t)s * F + m16,
			    y + (size_t)s * F + m16);
	return 1;
}
#else
static int pau_fwd_units(const pau_t *c, const float *pt, size_t m, int n, size_t F,
			 const float *x, float *y)
{
	return 0;
}
static void pau_fwd_run(const pau_t *c, const float *p, size_t len, const float *x, float *y)
{
	pau_fwd_runb(c, p, len, x, y);
}
static void pau_bwd_run(const pau_t *c, const float *p, size_t len, const float *x,
			const float *y, const float *dy, float *dx, ln_state *st)
{
	pau_bwd_runb(c, p, len, x, y, dy, dx, st);
}
#endif

int al_ln_pau_nparams(const double *h) { return (int)h[PAU_M] + 1 + (int)h[PAU_N]; }

void al_ln_pau_name(const double *h, int k, char *buf, size_t cap)
{
	int m = (int)h[PAU_M];
	if (k <= m)
		snprintf(buf, cap, "a%d", k);
	else
		snprintf(buf, cap, "b%d", k - m);
}

/* The initial coefficients: a fit of the named entry on [fit_lo, fit_hi]. */
static int pau_fit_init(const double *h, double *coef)
{
	const al_act_desc *b = al_act_get((int)h[PAU_INIT]);
	double hb[AL_ACT_MAXH];
	for (int i = 0; i < b->nhyper; i++)
		hb[i] = b->hyper[i].def;
	enum { NPTS = 1001 };
	double lo = h[PAU_LO], hi = h[PAU_HI];
	double *xv = malloc(2 * NPTS * sizeof *xv);
	if (!xv)
		return -1;
	double *fv = xv + NPTS;
	for (int i = 0; i < NPTS; i++) {
		double dfx;
		xv[i] = lo + (hi - lo) * i / (NPTS - 1);
		fv[i] = b->ref(hb, NULL, xv[i], &dfx, NULL);
	}
	double rms = al_ln_rational_fit(xv, fv, NPTS, (int)h[PAU_M], (int)h[PAU_N], coef);
	free(xv);
	return rms < 0 ? -1 : 0;
}

void al_ln_pau_init(const double *h, float *p, size_t groups, al_rng *r)
{
	int P = al_ln_pau_nparams(h);
	double coef[AL_LN_MAXP];
	if (pau_fit_init(h, coef) != 0) {
		/* allocation failed: start from the identity */
		for (int k = 0; k < P; k++)
			coef[k] = k == 1 ? 1 : 0;
	}
	for (size_t g = 0; g < groups; g++)
		for (int k = 0; k < P; k++)
			p[g * (size_t)P + (size_t)k] = (float)coef[k];
}

al_status al_ln_pau_check(const double *h, al_per per, int per_given)
{
	if (!is_int(h[PAU_M], 0, 12) || !is_int(h[PAU_N], 1, 12))
		return al_err(AL_EINVAL, "m=%g, n=%g: degrees must be integers, m in [0, 12], n in "
			      "[1, 12]",
			      h[PAU_M], h[PAU_N]);
	if (!(h[PAU_LO] < h[PAU_HI]))
		return al_err(AL_EINVAL, "fit_lo=%g, fit_hi=%g: need fit_lo < fit_hi", h[PAU_LO],
			      h[PAU_HI]);
	return AL_OK;
}

double al_ln_pau_ref(const double *h, const double *p, double x, double *dfdx, double *dfdp)
{
	int m = (int)h[PAU_M], n = (int)h[PAU_N];
	double num = 0, dnum = 0, den = 0, dden = 0, pw = 1;
	for (int j = 0; j <= m; j++) {
		if (j)
			dnum += j * p[j] * pw, pw *= x;
		num += p[j] * pw;
	}
	pw = 1;
	for (int k = 1; k <= n; k++) {
		dden += k * p[m + k] * pw;
		pw *= x;
		den += p[m + k] * pw;
	}
	double q = 1 / (1 + fabs(den)), sb = den > 0 ? 1 : (den < 0 ? -1 : 0), y = num * q;
	*dfdx = (dnum - y * sb * dden) * q;
	pw = 1;
	for (int j = 0; j <= m; j++, pw *= x)
		dfdp[j] = pw * q;
	pw = x;
	for (int k = 1; k <= n; k++, pw *= x)
		dfdp[m + k] = -y * sb * q * pw;
	return y;
}

/* kinks where the denominator polynomial changes sign (bisection on a grid) */
int al_ln_pau_kinks(const double *h, const double *p, double *out, int cap)
{
	int m = (int)h[PAU_M], n = (int)h[PAU_N], cnt = 0;
	double lo = -50, hi = 50;
	int steps = 20000;
	double prev = 0;
	for (int s = 0; s <= steps && cnt < cap; s++) {
		double x = lo + (hi - lo) * s / steps, den = 0, pw = 1;
		for (int k = 1; k <= n; k++)
			pw *= x, den += p[m + k] * pw;
		if (s && ((prev < 0) != (den < 0) || den == 0))
			out[cnt++] = x;
		prev = den;
	}
	return cnt;
}

/* ---- rational least squares ------------------------------------------ */
/* Solves the symmetric system A z = b (n x n, row-major; destroyed) by
 * Gaussian elimination with partial pivoting. Returns 0, or -1 if singular. */
static int solve_dense(double *A, double *b, int n)
{
	for (int c = 0; c < n; c++) {
		int piv = c;
		for (int r = c + 1; r < n; r++)
			if (fabs(A[r * n + c]) > fabs(A[piv * n + c]))
				piv = r;
		if (!(fabs(A[piv * n + c]) > 1e-300))
			return -1;
		if (piv != c) {
			for (int k = 0; k < n; k++) {
				double t = A[c * n + k];
				A[c * n + k] = A[piv * n + k];
				A[piv * n + k] = t;
			}
			double t = b[c];
			b[c] = b[piv];
			b[piv] = t;
		}
		for (int r = c + 1; r < n; r++) {
			double f = A[r * n + c] / A[c * n + c];
			for (int k = c; k < n; k++)
				A[r * n + k] -= f * A[c * n + k];
			b[r] -= f * b[c];
		}
	}
	for (int c = n - 1; c >= 0; c--) {
		double s = b[c];
		for (int k = c + 1; k < n; k++)
			s -= A[c * n + k] * b[k];
		b[c] = s / A[c * n + c];
	}
	return 0;
}

/* sum of squared residuals of coef on the samples, and optionally the
 * Gauss-Newton system J^T J, J^T r */
static double rat_cost(const double *xs, const double *fs, int npts, int m, int n,
		       const double *coef, double *JtJ, double *Jtr)
{
	int P = m + 1 + n;
	double h[2] = {m, n}, g[AL_LN_MAXP], cost = 0, dfx;
	if (JtJ) {
		memset(JtJ, 0, sizeof(double) * (size_t)(P * P));
		memset(Jtr, 0, sizeof(double) * (size_t)P);
	}
	for (int i = 0; i < npts; i++) {
		double r = al_ln_pau_ref(h, coef, xs[i], &dfx, g) - fs[i];
		cost += r * r;
		if (!JtJ)
			continue;
		for (int a = 0; a < P; a++) {
			Jtr[a] += g[a] * r;
			for (int b = 0; b <= a; b++)
				JtJ[a * P + b] += g[a] * g[b];
		}
	}
	if (JtJ)
		for (int a = 0; a < P; a++)
			for (int b = a + 1; b < P; b++)
				JtJ[a * P + b] = JtJ[b * P + a];
	return cost;
}

/* Levenberg-Marquardt from coef (in place); returns the final cost. */
static double rat_refine(const double *xs, const double *fs, int npts, int m, int n, double *coef)
{
	int P = m + 1 + n;
	double JtJ[AL_LN_MAXP * AL_LN_MAXP / 4], Jtr[AL_LN_MAXP], A[AL_LN_MAXP * AL_LN_MAXP / 4],
		z[AL_LN_MAXP], trial[AL_LN_MAXP];
	double lambda = 1e-3;
	double cost = rat_cost(xs, fs, npts, m, n, coef, JtJ, Jtr);
	for (int it = 0; it < 200 && cost > 0; it++) {
		memcpy(A, JtJ, sizeof(double) * (size_t)(P * P));
		for (int a = 0; a < P; a++) {
			A[a * P + a] += lambda * (JtJ[a * P + a] + 1e-12);
			z[a] = -Jtr[a];
		}
		if (solve_dense(A, z, P) != 0) {
			lambda *= 10;
			continue;
		}
		for (int a = 0; a < P; a++)
			trial[a] = coef[a] + z[a];
		double c2 = rat_cost(xs, fs, npts, m, n, trial, NULL, NULL);
		if (c2 < cost) {
			double rel = (cost - c2) / cost;
			memcpy(coef, trial, sizeof(double) * (size_t)P);
			cost = rat_cost(xs, fs, npts, m, n, coef, JtJ, Jtr);
			lambda = lambda / 3 > 1e-12 ? lambda / 3 : 1e-12;
			if (rel < 1e-12)
				break;
		} else {
			lambda *= 4;
			if (lambda > 1e12)
				break;
		}
	}
	return cost;
}

double al_ln_rational_fit(const double *xs, const double *fs, int npts, int m, int n,
			  double *coef)
{
	int P = m + 1 + n;
	if (P > 26 || npts < P)
		return -1;
	double A[26 * 26], b[26], best[26], bestc = INFINITY;
	/* start 1: the linearised problem P(x) - f(x) B(x) = f(x) */
	memset(A, 0, sizeof A);
	memset(b, 0, sizeof b);
	double scale = 0;
	for (int i = 0; i < npts; i++)
		scale = fabs(xs[i]) > scale ? fabs(xs[i]) : scale;
	for (int i = 0; i < npts; i++) {
		double row[26], pw = 1;
		for (int j = 0; j <= m; j++, pw *= xs[i])
			row[j] = pw;
		pw = xs[i];
		for (int k = 1; k <= n; k++, pw *= xs[i])
			row[m + k] = -fs[i] * pw;
		for (int a = 0; a < P; a++) {
			b[a] += row[a] * fs[i];
			for (int c = 0; c < P; c++)
				A[a * P + c] += row[a] * row[c];
		}
	}
	for (int a = 0; a < P; a++)
		A[a * P + a] *= 1 + 1e-12;
	double c1[26];
	if (solve_dense(A, b, P) == 0) {
		memcpy(c1, b, sizeof(double) * (size_t)P);
		double c = rat_refine(xs, fs, npts, m, n, c1);
		if (c < bestc) {
			bestc = c;
			memcpy(best, c1, sizeof(double) * (size_t)P);
		}
	}
	/* start 2: the least-squares polynomial with a small denominator */
	memset(A, 0, sizeof A);
	memset(b, 0, sizeof b);
	for (int i = 0; i < npts; i++) {
		double row[26], pw = 1;
		for (int j = 0; j <= m; j++, pw *= xs[i])
			row[j] = pw;
		for (int a = 0; a <= m; a++) {
			b[a] += row[a] * fs[i];
			for (int c = 0; c <= m; c++)
				A[a * (m + 1) + c] += row[a] * row[c];
		}
	}
	if (solve_dense(A, b, m + 1) == 0) {
		memset(c1, 0, sizeof c1);
		memcpy(c1, b, sizeof(double) * (size_t)(m + 1));
		for (int k = 1; k <= n; k++)
			c1[m + k] = 1e-3 / pow(scale > 0 ? scale : 1, k);
		double c = rat_refine(xs, fs, npts, m, n, c1);
		if (c < bestc) {
			bestc = c;
			memcpy(best, c1, sizeof(double) * (size_t)P);
		}
	}
	if (!isfinite(bestc))
		return -1;
	memcpy(coef, best, sizeof(double) * (size_t)P);
	return sqrt(bestc / npts);
}

/* ======================================================================
 * bspline: wb silu(x) + ws sum_i c_i B_i(x); B_i of degree k on the
 * uniform knots t_i = lo + (i - k) d, d = (hi - lo)/G, i = 0..G+2k;
 * G + k basis functions (KAN's extended grid).
 * hypers: G, k, lo, hi, noise, update, trim (the grid update is in
 * learned_grid.c; kernels read the current grid from h[BS_LO], h[BS_HI])
 * ====================================================================== */
enum { BS_G, BS_K, BS_LO, BS_HI, BS_NOISE, BS_UPDATE, BS_TRIM };
#define BS_KMAX 5
#define BS_CHAIN 24 /* spans up to which coefficients are selected, not gathered */

typedef struct {
	int P, G, k, nc;
	float t0, inv, d, spans;
} bspline_t;

static void bspline_cfg(const double *h, bspline_t *c)
{
	c->G = (int)h[BS_G];
	c->k = (int)h[BS_K];
	c->nc = c->G + c->k;
	c->P = c->nc + 2;
	double d = (h[BS_HI] - h[BS_LO]) / c->G;
	c->d = (float)d;
	c->inv = (float)(1 / d);
	c->t0 = (float)(h[BS_LO] - c->k * d);
	c->spans = (float)(c->G + 2 * c->k);
}

/* Local basis of every lane: N[r*NB + i] = B_{j-k+r}(x_i), r = 0..k, and
 * (deriv) D[r*NB + i] = d/dx of the same; js[i] = span j (float; -1 outside
 * the extended grid, where every N is 0). */
AL_INLINE void bspline_basis(const bspline_t *c, size_t m, const float *restrict x,
			     float *restrict js, float *restrict N, float *restrict D)
{
	float u[NB];
	const int k = c->k;
#pragma omp simd
	for (size_t i = 0; i < m; i++) {
		const float t = (x[i] - c->t0) * c->inv;
		const float j = floorf(t);
		const int in = (t >= 0) & (t < c->spans);
		js[i] = in ? j : -1.0f;
		u[i] = in ? t - j : 0.0f;
		N[i] = in ? 1.0f : 0.0f;
	}
	for (int d = 1; d <= k; d++) {
		/* N^{d} from N^{d-1} in place, from the top row down */
		const float inv_d = 1.0f / (float)d;
		if (d == k && D) {
			/* derivative from N^{k-1}: (N_{r-1} - N_r) / delta */
			for (int r = 0; r <= k; r++) {
				float *Dr = D + (size_t)r * NB;
				const float *Nl = N + (size_t)(r > 0 ? r - 1 : 0) * NB,
					    *Nr = N + (size_t)(r < k ? r : 0) * NB;
#pragma omp simd
				for (size_t i = 0; i < m; i++)
					Dr[i] = ((r > 0 ? Nl[i] : 0.0f) - (r < k ? Nr[i] : 0.0f)) *
						c->inv;
			}
		}
		for (int r = d; r >= 0; r--) {
			float *Nd = N + (size_t)r * NB;
			const float *Nl = N + (size_t)(r > 0 ? r - 1 : 0) * NB;
			const float a = (float)(d - r), b = (float)(r + 1);
#pragma omp simd
			for (size_t i = 0; i < m; i++) {
				float left = r > 0 ? (a + u[i]) * Nl[i] : 0.0f;
				float right = r < d ? (b - u[i]) * Nd[i] : 0.0f;
				Nd[i] = (left + right) * inv_d;
			}
		}
	}
	if (k == 0 && D)
#pragma omp simd
		for (size_t i = 0; i < m; i++)
			D[i] = 0;
}

/* s[i] = sum_r c_{j-k+r} N_r, ds[i] likewise with D */
AL_INLINE void bspline_sum(const bspline_t *c, const float *restrict p, size_t ps, size_t ls,
			   size_t m, const float *restrict js, const float *restrict N,
			   const float *restrict D, float *restrict s, float *restrict ds)
{
#pragma omp simd
	for (size_t i = 0; i < m; i++)
		s[i] = ds[i] = 0;
	const int k = c->k, nsp = c->G + 2 * k;
	for (int r = 0; r <= k; r++) {
		const float *Nr = N + (size_t)r * NB, *Dr = D ? D + (size_t)r * NB : NULL;
		const int off = r - k, top = c->nc - 1;
		float cv[NB];
		if (nsp <= BS_CHAIN) {
			/* coefficient c_{j-k+r} of each lane's span j by a select chain
			 * over the spans (no gather; 0 where the index is off the grid) */
#pragma omp simd
			for (size_t i = 0; i < m; i++)
				cv[i] = 0;
			for (int j = 0; j < nsp; j++) {
				const int idx = j + off;
				if (idx < 0 || idx > top)
					continue;
				const float jf = (float)j;
				const float *pc = p + (size_t)idx * ps;
#pragma omp simd
				for (size_t i = 0; i < m; i++) {
					const float v = pc[i * ls], o = cv[i];
					cv[i] = js[i] == jf ? v : o;
				}
			}
		} else {
#pragma omp simd
			for (size_t i = 0; i < m; i++) {
				int idx = (int)js[i] + off;
				int ok = js[i] >= 0 && idx >= 0 && idx <= top;
				int ic = idx < 0 ? 0 : (idx > top ? top : idx);
				cv[i] = ok ? p[(size_t)ic * ps + i * ls] : 0.0f;
			}
		}
#pragma omp simd
		for (size_t i = 0; i < m; i++)
			s[i] += cv[i] * Nr[i];
		if (Dr)
#pragma omp simd
			for (size_t i = 0; i < m; i++)
				ds[i] += cv[i] * Dr[i];
	}
}

/* The vector path: GCC vector extensions (any target; 16 lanes with
 * AVX-512, 8 otherwise), one chunk of lanes at a time with everything in
 * registers. With uniform knots the k + 1 non-zero bases of a span are
 * fixed polynomials of the fractional position u in the span (bs_poly:
 * N_r(u) = B_{j-k+r}(x) on span j), so there is no Cox-de Boor recursion;
 * broadcast coefficients are picked per lane by a permute from a table of
 * at most 2 vectors (c at index q + k, zeros around it: G + 3k entries),
 * per-unit ones by compare-selects over the coefficients. The coefficient
 * gradient rows g_q = gw B_q(x) are compare-selects of gw N_r. */
#if defined(__GNUC__) && !defined(__clang__)
#define BS_VEC 1
#pragma GCC diagnostic ignored "-Wpsabi" /* vectors only in always-inline helpers */
#ifdef __AVX512F__
#define BS_VL 16
#else
#define BS_VL 8
#endif
typedef float bs_vf __attribute__((vector_size(4 * BS_VL)));
typedef int bs_vi __attribute__((vector_size(4 * BS_VL)));

/* bs_poly[k][r][p]: N_r(u) = sum_p bs_poly[k][r][p] u^p, the piece of the
 * cardinal B-spline of degree k on [k - r, k - r + 1) (exact rationals) */
static const float bs_poly[BS_KMAX + 1][BS_KMAX + 1][BS_KMAX + 1] = {
	{{1}},
	{{1, -1}, {0, 1}},
	{{1.0 / 2, -1, 1.0 / 2}, {1.0 / 2, 1, -1}, {0, 0, 1.0 / 2}},
	{{1.0 / 6, -1.0 / 2, 1.0 / 2, -1.0 / 6},
	 {2.0 / 3, 0, -1, 1.0 / 2},
	 {1.0 / 6, 1.0 / 2, 1.0 / 2, -1.0 / 2},
	 {0, 0, 0, 1.0 / 6}},
	{{1.0 / 24, -1.0 / 6, 1.0 / 4, -1.0 / 6, 1.0 / 24},
	 {11.0 / 24, -1.0 / 2, -1.0 / 4, 1.0 / 2, -1.0 / 6},
	 {11.0 / 24, 1.0 / 2, -1.0 / 4, -1.0 / 2, 1.0 / 4},
	 {1.0 / 24, 1.0 / 6, 1.0 / 4, 1.0 / 6, -1.0 / 6},
	 {0, 0, 0, 0, 1.0 / 24}},
	{{1.0 / 120, -1.0 / 24, 1.0 / 12, -1.0 / 12, 1.0 / 24, -1.0 / 120},
	 {13.0 / 60, -5.0 / 12, 1.0 / 6, 1.0 / 6, -1.0 / 6, 1.0 / 24},
	 {11.0 / 20, 0, -1.0 / 2, 0, 1.0 / 4, -1.0 / 12},
	 {13.0 / 60, 5.0 / 12, 1.0 / 6, -1.0 / 6, -1.0 / 6, 1.0 / 12},
	 {1.0 / 120, 1.0 / 24, 1.0 / 12, 1.0 / 12, 1.0 / 24, -1.0 / 24},
	 {0, 0, 0, 0, 0, 1.0 / 120}},
};

AL_INLINE bs_vf bs_ld(const float *p, size_t avail)
{
	bs_vf v = {0};
	if (avail >= BS_VL)
		memcpy(&v, p, sizeof v);
	else
		for (size_t i = 0; i < avail; i++)
			v[i] = p[i];
	return v;
}

/* nonzero terms of row r of bs_poly[K] */
AL_INLINE int bs_nnz(const int K, int r)
{
	int n = 0;
	for (int p = 0; p <= K; p++)
		n += bs_poly[K][r][p] != 0;
	return n;
}

/* N_r and dN_r/du of u in [0, 1). By symmetry N_r(u) = N_{K-r}(1 - u):
 * each row is summed in powers of u or of 1 - u, whichever has fewer
 * terms (K is a literal: the choice and the zero terms fold away). */
AL_INLINE void bs_vpoly(const int K, bs_vf u, bs_vf *restrict N, bs_vf *restrict D)
{
	const bs_vf one = {0};
	bs_vf up[BS_KMAX + 1], vp[BS_KMAX + 1];
	up[0] = vp[0] = one + 1.0f;
	if (K >= 1) {
		up[1] = u;
		vp[1] = up[0] - u;
	}
	for (int q = 2; q <= K; q++) {
		up[q] = up[q - 1] * u;
		vp[q] = vp[q - 1] * vp[1];
	}
	for (int r = 0; r <= K; r++) {
		const int sym = bs_nnz(K, K - r) < bs_nnz(K, r);
		const float *a = bs_poly[K][sym ? K - r : r];
		const bs_vf *w = sym ? vp : up;
		bs_vf n = one + a[0], d = one;
		for (int q = 1; q <= K; q++)
			if (a[q] != 0) {
				n += a[q] * w[q];
				/* d/du of w^q: q w^(q-1), times -1 for w = 1 - u */
				d += (sym ? -(float)q * a[q] : (float)q * a[q]) * w[q - 1];
			}
		N[r] = n;
		D[r] = d;
	}
}

/* One block (m <= NB lanes, parameters as in the driver) of degree K: the
 * spline sum s into s[]; with dy (backward) also its x-derivative into
 * ds[] and the coefficient gradient rows gp[q*NB + i] = dy ws B_q(x)
 * (written, or with acc added to the lane sums already there). */
AL_INLINE void bs_vblk(const bspline_t *c, const int K, const float *restrict p, size_t ps,
		       size_t ls, size_t m, const float *restrict x, const float *restrict dy,
		       float *restrict s, float *restrict ds, float *restrict gp, const int acc)
{
	const int nc = c->nc;
	const bs_vf zero = {0};
	bs_vf tlo = zero, thi = zero;
	if (ls == 0) {
		float tab[2 * BS_VL] = {0};
		for (int q = 0; q < nc; q++)
			tab[q + K] = p[(size_t)q * ps];
		memcpy(&tlo, tab, sizeof tlo);
		memcpy(&thi, tab + BS_VL, sizeof thi);
	}
	const float *ws = p + (size_t)(nc + 1) * ps;
	for (size_t i0 = 0; i0 < m; i0 += BS_VL) {
		const bs_vf xv = bs_ld(x + i0, m - i0);
		const bs_vf t = (xv - c->t0) * c->inv;
		const bs_vi in = (t >= zero) & (t < zero + c->spans); /* NaN: out */
		const bs_vf tc = (bs_vf)((bs_vi)t & in);
		const bs_vi ji = __builtin_convertvector(tc, bs_vi); /* span; 0 outside */
		bs_vf N[BS_KMAX + 1], D[BS_KMAX + 1], cv[BS_KMAX + 1], gN[BS_KMAX + 1];
		bs_vpoly(K, tc - __builtin_convertvector(ji, bs_vf), N, D);
		bs_vf gw = zero;
		if (dy) {
			gw = bs_ld(dy + i0, m - i0) * (ls ? bs_ld(ws + i0, BS_VL) : zero + ws[0]);
			gw = (bs_vf)((bs_vi)gw & in);
			for (int r = 0; r <= K; r++)
				gN[r] = gw * N[r];
		}
		if (ls == 0) {
			for (int r = 0; r <= K; r++)
				cv[r] = __builtin_shuffle(tlo, thi, ji + r);
		} else {
			for (int r = 0; r <= K; r++)
				cv[r] = zero;
		}
		if (ls != 0 || dy) {
			/* basis q is N_r of the lane's span j when j - q = K - r: at
			 * most one r per lane, so the selects are ORs of masked values */
			bs_vi d = ji;
			for (int q = 0; q < nc; q++, d -= 1) {
				const bs_vi cq = ls ? (bs_vi)bs_ld(p + (size_t)q * ps + i0, BS_VL) : (bs_vi)zero;
				bs_vi g = (bs_vi)zero;
				for (int r = 0; r <= K; r++) {
					const bs_vi hit = d == K - r;
					if (ls)
						cv[r] = (bs_vf)((bs_vi)cv[r] | (cq & hit));
					if (dy)
						g |= (bs_vi)gN[r] & hit;
				}
				if (dy && acc) { /* lane sums (bs_bwd_run) */
					float *a = gp + (size_t)q * NB + i0;
					bs_vf sum;
					memcpy(&sum, a, sizeof sum);
					sum += (bs_vf)g;
					memcpy(a, &sum, sizeof sum);
				} else if (dy) {
					memcpy(gp + (size_t)q * NB + i0, &g, sizeof g);
				}
			}
		}
		if (!dy) { /* the forward needs no derivative */
			bs_vf sv = cv[0] * N[0];
			for (int r = 1; r <= K; r++)
				sv += cv[r] * N[r];
			sv = (bs_vf)((bs_vi)sv & in);
			memcpy(s + i0, &sv, sizeof sv);
			continue;
		}
		bs_vf sv = cv[0] * N[0], dv = cv[0] * D[0];
		for (int r = 1; r <= K; r++) {
			sv += cv[r] * N[r];
			dv += cv[r] * D[r];
		}
		sv = (bs_vf)((bs_vi)sv & in);
		dv = (bs_vf)((bs_vi)(dv * c->inv) & in);
		memcpy(s + i0, &sv, sizeof sv);
		memcpy(ds + i0, &dv, sizeof dv);
	}
}

/* whether the vector path takes this grid (the permute table fits) */
AL_INLINE int bs_vec_ok(const bspline_t *c) { return c->G + 3 * c->k <= 2 * BS_VL; }

AL_INLINE void bs_vblk_k(const bspline_t *c, const float *restrict p, size_t ps, size_t ls,
			 size_t m, const float *restrict x, const float *restrict dy,
			 float *restrict s, float *restrict ds, float *restrict gp, const int acc)
{
	switch (c->k) {
#define BS_K(K)                                                                                    \
	case K:                                                                                    \
		bs_vblk(c, K, p, ps, ls, m, x, dy, s, ds, gp, acc);                                \
		break;
		BS_K(0) BS_K(1) BS_K(2) BS_K(3) BS_K(4) BS_K(5)
#undef BS_K
	}
}
#else
#define BS_VEC 0
#endif

AL_INLINE void bspline_fwd_blk(const bspline_t *c, const float *restrict p, size_t ps, size_t ls,
			       size_t m, const float *restrict x, float *restrict y)
{
	float s[NB], ds[NB];
#if BS_VEC
	if (bs_vec_ok(c))
		bs_vblk_k(c, p, ps, ls, m, x, NULL, s, ds, NULL, 0);
	else
#endif
	{
		float js[NB], N[(BS_KMAX + 1) * NB];
		bspline_basis(c, m, x, js, N, NULL);
		bspline_sum(c, p, ps, ls, m, js, N, NULL, s, ds);
	}
	const float *wb = p + (size_t)c->nc * ps, *ws = p + (size_t)(c->nc + 1) * ps;
#pragma omp simd
	for (size_t i = 0; i < m; i++)
		y[i] = wb[i * ls] * (x[i] * al_sigmoidf(x[i])) + ws[i * ls] * s[i];
}

AL_INLINE void bspline_bwd_blk(const bspline_t *c, const float *restrict p, size_t ps, size_t ls,
			       size_t m, const float *restrict x, const float *restrict y,
			       const float *restrict dy, float *restrict dx, float *restrict gp)
{
	float js[NB], N[(BS_KMAX + 1) * NB], D[(BS_KMAX + 1) * NB], s[NB], ds[NB], gw[NB];
#if BS_VEC
	const int vec = bs_vec_ok(c);
	if (vec)
		bs_vblk_k(c, p, ps, ls, m, x, dy, s, ds, gp, 0);
	else
#endif
	{
		bspline_basis(c, m, x, js, N, D);
		bspline_sum(c, p, ps, ls, m, js, N, D, s, ds);
	}
	const float *wb = p + (size_t)c->nc * ps, *ws = p + (size_t)(c->nc + 1) * ps;
	float *gwb = gp + (size_t)c->nc * NB, *gws = gp + (size_t)(c->nc + 1) * NB;
#pragma omp simd
	for (size_t i = 0; i < m; i++) {
		float sg = al_sigmoidf(x[i]), si = x[i] * sg;
		float dsi = sg * (1.0f + x[i] * (1.0f - sg));
		dx[i] = dy[i] * (wb[i * ls] * dsi + ws[i * ls] * ds[i]);
		gwb[i] = dy[i] * si;
		gws[i] = dy[i] * s[i];
		gw[i] = dy[i] * ws[i * ls];
	}
#if BS_VEC
	if (vec)
		return;
#endif
	/* basis b is N_r of span j when b = j - k + r: row by row, selects
	 * instead of a gather of N (js = -1 outside the grid matches nothing) */
	const int k = c->k;
	for (int b = 0; b < c->nc; b++) {
		float *g = gp + (size_t)b * NB;
#pragma omp simd
		for (size_t i = 0; i < m; i++)
			g[i] = 0;
		for (int r = 0; r <= k; r++) {
			const float jr = (float)(b + k - r);
			const float *Nr = N + (size_t)r * NB;
#pragma omp simd
			for (size_t i = 0; i < m; i++) {
				const float v = Nr[i], o = g[i];
				g[i] = js[i] == jr ? v : o;
			}
		}
#pragma omp simd
		for (size_t i = 0; i < m; i++)
			g[i] *= gw[i];
	}
}

#define LN_NAME bspline
#define LN_CFG bspline_t
#if BS_VEC
#define LN_RUN
#endif
#include "act/learned_driver.h"

#if BS_VEC
static void bspline_fwd_run(const bspline_t *c, const float *p, size_t len, const float *x,
			    float *y)
{
	bspline_fwd_runb(c, p, len, x, y);
}

/* The backward of a run: the block kernel's arithmetic, with the gradient
 * rows added straight to the run's lane sums (no row buffer pass). */
static void bspline_bwd_run(const bspline_t *c, const float *p, size_t len, const float *x,
			    const float *y, const float *dy, float *dx, ln_state *st)
{
	if (!bs_vec_ok(c)) {
		bspline_bwd_runb(c, p, len, x, y, dy, dx, st);
		return;
	}
	const size_t P = (size_t)c->P;
	const float wb = p[c->nc], ws = p[c->nc + 1];
	float *gwb = st->ga + (size_t)c->nc * NB, *gws = st->ga + (size_t)(c->nc + 1) * NB;
	for (size_t i0 = 0; i0 < len; i0 += NB) {
		const size_t m = ln_min(NB, len - i0);
		const float *xb = x + i0, *dyb = dy + i0;
		float *dxb = dx + i0;
		float s[NB], ds[NB];
		bs_vblk_k(c, p, 1, 0, m, xb, dyb, s, ds, st->ga, 1);
#pragma omp simd
		for (size_t i = 0; i < m; i++) {
			float sg = al_sigmoidf(xb[i]), si = xb[i] * sg;
			float dsi = sg * (1.0f + xb[i] * (1.0f - sg));
			dxb[i] = dyb[i] * (wb * dsi + ws * ds[i]);
			gwb[i] += dyb[i] * si;
			gws[i] += dyb[i] * s[i];
		}
		st->pending += m;
		if (st->pending >= LN_FLUSH) {
			ln_flush(st->ga, st->acc, P);
			st->pending = 0;
		}
	}
}
#endif

int al_ln_bspline_nparams(const double *h) { return (int)h[BS_G] + (int)h[BS_K] + 2; }

void al_ln_bspline_name(const double *h, int k, char *buf, size_t cap)
{
	int nc = (int)h[BS_G] + (int)h[BS_K];
	if (k < nc)
		snprintf(buf, cap, "c%d", k);
	else
		snprintf(buf, cap, "%s", k == nc ? "wb" : "ws");
}

void al_ln_bspline_init(const double *h, float *p, size_t groups, al_rng *r)
{
	int nc = (int)h[BS_G] + (int)h[BS_K], P = nc + 2;
	for (size_t g = 0; g < groups; g++) {
		for (int i = 0; i < nc; i++)
			p[g * (size_t)P + (size_t)i] =
				(float)(h[BS_NOISE] * urand(r, -0.5, 0.5) / h[BS_G]);
		p[g * (size_t)P + (size_t)nc] = 1;
		p[g * (size_t)P + (size_t)nc + 1] = 1;
	}
}

al_status al_ln_bspline_check(const double *h, al_per per, int per_given)
{
	if (!is_int(h[BS_K], 0, BS_KMAX))
		return al_err(AL_EINVAL, "k=%g: the spline degree must be an integer in [0, %d]",
			      h[BS_K], BS_KMAX);
	if (!is_int(h[BS_G], 1, AL_LN_MAXP - 2 - h[BS_K]))
		return al_err(AL_EINVAL, "G=%g: the interval count must be an integer in [1, %g]",
			      h[BS_G], AL_LN_MAXP - 2 - h[BS_K]);
	if (!(h[BS_LO] < h[BS_HI]))
		return al_err(AL_EINVAL, "lo=%g, hi=%g: need lo < hi", h[BS_LO], h[BS_HI]);
	if (!(h[BS_NOISE] >= 0))
		return al_err(AL_EINVAL, "noise=%g: must be >= 0", h[BS_NOISE]);
	if (!is_int(h[BS_UPDATE], 0, 1e6))
		return al_err(AL_EINVAL, "update=%g: the number of epochs with a grid update must be "
					 "an integer >= 0", h[BS_UPDATE]);
	if (!(h[BS_TRIM] >= 0 && h[BS_TRIM] < 0.5))
		return al_err(AL_EINVAL, "trim=%g: the fraction of inputs left outside each end of "
					 "an updated grid must be in [0, 0.5)", h[BS_TRIM]);
	return AL_OK;
}

/* B_i(x) of degree k by Cox-de Boor, double */
void al_ln_bspline_basis(const double *h, double x, double *B, double *dB)
{
	int G = (int)h[BS_G], k = (int)h[BS_K], nc = G + k;
	double d = (h[BS_HI] - h[BS_LO]) / G, t0 = h[BS_LO] - k * d;
	int nk = G + 2 * k + 1; /* knots */
	double N[AL_LN_MAXP + 2 * BS_KMAX + 2], Nm[AL_LN_MAXP + 2 * BS_KMAX + 2];
	for (int i = 0; i < nk - 1; i++)
		N[i] = (x >= t0 + i * d && x < t0 + (i + 1) * d) ? 1 : 0;
	for (int deg = 1; deg <= k; deg++) {
		memcpy(Nm, N, sizeof N);
		for (int i = 0; i < nk - 1 - deg; i++) {
			double ti = t0 + i * d;
			N[i] = ((x - ti) * Nm[i] + (ti + (deg + 1) * d - x) * Nm[i + 1]) / (deg * d);
		}
	}
	for (int i = 0; i < nc; i++) {
		B[i] = N[i];
		/* derivative from degree k-1 (Nm holds it when k >= 1) */
		dB[i] = k == 0 ? 0 : (Nm[i] - Nm[i + 1]) / d;
	}
}

double al_ln_bspline_ref(const double *h, const double *p, double x, double *dfdx, double *dfdp)
{
	int nc = (int)h[BS_G] + (int)h[BS_K];
	double B[AL_LN_MAXP + 2 * BS_KMAX + 2], dB[AL_LN_MAXP + 2 * BS_KMAX + 2];
	al_ln_bspline_basis(h, x, B, dB);
	double s = 0, ds = 0;
	for (int i = 0; i < nc; i++) {
		s += p[i] * B[i];
		ds += p[i] * dB[i];
		dfdp[i] = p[nc + 1] * B[i];
	}
	double e = exp(-fabs(x)), sg = x >= 0 ? 1 / (1 + e) : e / (1 + e);
	double si = x * sg, dsi = sg * (1 + x * (1 - sg));
	dfdp[nc] = si;
	dfdp[nc + 1] = s;
	*dfdx = p[nc] * dsi + p[nc + 1] * ds;
	return p[nc] * si + p[nc + 1] * s;
}

int al_ln_bspline_kinks(const double *h, const double *p, double *out, int cap)
{
	/* degree <= 1 has derivative jumps at the knots; also the grid ends,
	 * where a truncated basis can jump */
	int G = (int)h[BS_G], k = (int)h[BS_K], n = 0;
	double d = (h[BS_HI] - h[BS_LO]) / G, t0 = h[BS_LO] - k * d;
	for (int i = 0; i <= G + 2 * k && n < cap; i++)
		if (k <= 1 || i == 0 || i == G + 2 * k)
			out[n++] = t0 + i * d;
	return n;
}

/* ======================================================================
 * lut: t[j], j = clamp(floor((x - lo) N / (hi - lo)), 0, N - 1): a
 * piecewise-constant lookup table (a distillation target)
 * hypers: size, lo, hi
 * ====================================================================== */
enum { LUT_N, LUT_LO, LUT_HI };

typedef struct {
	int P;
	float lo, inv, top;
} lut_t;

static void lut_cfg(const double *h, lut_t *c)
{
	c->P = (int)h[LUT_N];
	c->lo = (float)h[LUT_LO];
	c->inv = (float)(h[LUT_N] / (h[LUT_HI] - h[LUT_LO]));
	c->top = (float)(c->P - 1);
}

/* bin index as a float; NaN -> 0 (the output is then NaN) */
AL_INLINE float lut_bin(const lut_t *c, float x)
{
	float j = floorf((x - c->lo) * c->inv);
	j = j >= 0 ? j : 0.0f;
	return j <= c->top ? j : c->top;
}

AL_INLINE void lut_fwd_blk(const lut_t *c, const float *restrict p, size_t ps, size_t ls,
			   size_t m, const float *restrict x, float *restrict y)
{
#pragma omp simd
	for (size_t i = 0; i < m; i++) {
		size_t j = (size_t)(int)lut_bin(c, x[i]);
		float v = p[j * ps + i * ls];
		y[i] = x[i] != x[i] ? x[i] : v;
	}
}

AL_INLINE void lut_bwd_blk(const lut_t *c, const float *restrict p, size_t ps, size_t ls,
			   size_t m, const float *restrict x, const float *restrict y,
			   const float *restrict dy, float *restrict dx, float *restrict gp)
{
	float js[NB];
#pragma omp simd
	for (size_t i = 0; i < m; i++) {
		js[i] = lut_bin(c, x[i]);
		dx[i] = 0;
	}
	for (int k = 0; k < c->P; k++) {
		float *g = gp + (size_t)k * NB;
		const float kf = (float)k;
#pragma omp simd
		for (size_t i = 0; i < m; i++)
			g[i] = js[i] == kf ? dy[i] : 0.0f;
	}
}

static int lut_fwd_units_raw(const lut_t *c, const float *p, size_t m, int n, size_t F,
			     const float *x, float *y);
#define LN_NAME lut
#define LN_CFG lut_t
#define LN_RUN
#define LN_UNITS_RAW
#include "act/learned_driver.h"

#ifdef LN_VEC
/* the bins of 16 elements: lut_bin's arithmetic, NaN -> 0 */
AL_INLINE __m512i lut_vbin(const lut_t *c, __m512 x) { return vbin(c->lo, c->inv, c->top, x); }

/* per run, the table in registers (pairs of 32 entries, picked by permutes
 * and a blend per pair); NaN passes through */
AL_INLINE __m512 lut_vf(const lut_t *c, const __m512 *T, __m512 xv, const int np)
{
	__m512i j = lut_vbin(c, xv);
	__m512 r = _mm512_permutex2var_ps(T[0], j, T[1]);
	if (np == 2) /* entries 32-63: bit 5 of the bin, one test */
		r = _mm512_mask_mov_ps(r, _mm512_test_epi32_mask(j, _mm512_set1_epi32(32)),
				       _mm512_permutex2var_ps(T[2], j, T[3]));
	else
		for (int q = 1; q < np; q++)
			r = _mm512_mask_mov_ps(
				r, _mm512_cmpeq_epi32_mask(_mm512_srli_epi32(j, 5), _mm512_set1_epi32(q)),
				_mm512_permutex2var_ps(T[2 * q], j, T[2 * q + 1]));
	/* NaN passes through: with two or more table pairs by vfixupimmps
	 * (response 1, x, for x's classes QNaN and SNaN: 0x11; 0, r kept, for
	 * the rest), one port-0 operation beside the pairs' permutes and tests
	 * on port 5 (lut:64 on L2-resident data 1.13-1.23x relu -> 1.13-1.15x);
	 * with one pair a compare and a blend (the vfixupimmps there: lut:32
	 * 1.05-1.07x -> 1.08-1.10x), 2026-12-06 */
	if (np >= 2)
		return _mm512_fixupimm_ps(r, xv, _mm512_set1_epi32(0x11), 0);
	return _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(xv, xv, _CMP_UNORD_Q), xv);
}

AL_INLINE void lut_fwd_v(const lut_t *c, const __m512 *T, size_t len, const float *restrict x,
			 float *restrict y, const int np, const int pf)
{
#define LUT_F(v) lut_vf(c, T, v, np)
	VRUN(len, x, y, LUT_F, pf);
#undef LUT_F
}

static void lut_fwd_run(const lut_t *c, const float *p, size_t len, const float *x, float *y)
{
	__m512 T[AL_LN_MAXP / 16];
	const int np = (c->P + 31) / 32;
	const int pf = run_prefetch();
	/* straight from p: entries past P are never picked (bins stop at P - 1) */
	for (int r = 0; r < 2 * np; r++) {
		const int left = c->P - 16 * r;
		T[r] = _mm512_maskz_loadu_ps(vmask(left > 0 ? (size_t)left : 0), p + 16 * r);
	}
	if (np == 1)
		lut_fwd_v(c, T, len, x, y, 1, pf);
	else if (np == 2)
		lut_fwd_v(c, T, len, x, y, 2, pf);
	else
		lut_fwd_v(c, T, len, x, y, np, pf);
}

/* dx = 0; dy summed per bin into four interleaved float histograms (lanes
 * 0-3 of st->ga's slot of each entry; element i goes to lane i % 4), which
 * breaks the store-to-load chains of repeated bins */
static void lut_bwd_run(const lut_t *c, const float *p, size_t len, const float *x,
			const float *y, const float *dy, float *dx, ln_state *st)
{
	int js[LN_FLUSH];
	for (size_t c0 = 0; c0 < len;) {
		const size_t e = ln_min(len, c0 + (LN_FLUSH - st->pending));
		for (size_t i = c0; i < e; i += 16) {
			__mmask16 mk = vmask(e - i);
			__m512 xv = e - i >= 16 ? _mm512_loadu_ps(x + i) : _mm512_maskz_loadu_ps(mk, x + i);
			__m512i j = _mm512_slli_epi32(lut_vbin(c, xv), 6); /* * NB */
			if (e - i >= 16) {
				_mm512_storeu_si512(js + (i - c0), j);
				_mm512_storeu_ps(dx + i, _mm512_setzero_ps());
			} else {
				_mm512_mask_storeu_epi32(js + (i - c0), mk, j);
				_mm512_mask_storeu_ps(dx + i, mk, _mm512_setzero_ps());
			}
		}
		float *ga = st->ga;
		const float *g = dy + c0;
		size_t m = e - c0, i = 0;
		for (; i + 4 <= m; i += 4) {
			ga[js[i]] += g[i];
			ga[js[i + 1] + 1] += g[i + 1];
			ga[js[i + 2] + 2] += g[i + 2];
			ga[js[i + 3] + 3] += g[i + 3];
		}
		for (; i < m; i++)
			ga[js[i] + (int)(i % 4)] += g[i];
		st->pending += m;
		if (st->pending >= LN_FLUSH) {
			vflush(st->ga, st->acc, (size_t)c->P, 16);
			st->pending = 0;
		}
		c0 = e;
	}
}

static int lut_fwd_units_raw(const lut_t *c, const float *p, size_t m, int n, size_t F,
			     const float *x, float *y)
{
	const int P = c->P;
	if (P > 64 || n < 16 || m < 16)
		return 0;
	const int ng = (int)(m / 16), np = (P + 31) / 32;
	const size_t m16 = (size_t)ng * 16;
	__m512 T[NB][4]; /* unit u's entries 16q..16q+15 in T[u][q] (past P: never picked) */
	for (size_t u = 0; u < m16; u++)
		for (int q = 0; q < 2 * np; q++) {
			const int left = P - 16 * q;
			T[u][q] = _mm512_maskz_loadu_ps(vmask(left > 0 ? (size_t)left : 0),
							 p + u * (size_t)P + 16 * q);
		}
	/* adact_fwd_units_raw's scheme, lut_vf's arithmetic */
#define LUT_UNIT1(u, v) lut_vf(c, T[u], v, 1)
#define LUT_UNIT2(u, v) lut_vf(c, T[u], v, 2)
	if (np == 1)
		VTILES(n, ng, F, x, y, LUT_UNIT1);
	else
		VTILES(n, ng, F, x, y, LUT_UNIT2);
#undef LUT_UNIT1
#undef LUT_UNIT2
	for (int s = 0; s < n && m16 < m; s++)
		lut_fwd_blk(c, p + m16 * (size_t)P, 1, (size_t)P, m - m16, x + (size_t)s * F + m16,
			    y + (size_t)s * F + m16);
	return 1;
}
#else
static int lut_fwd_units_raw(const lut_t *c, const float *p, size_t m, int n, size_t F,
			     const float *x, float *y)
{
	return 0;
}
static void lut_fwd_run(const lut_t *c, const float *p, size_t len, const float *x, float *y)
{
	lut_fwd_runb(c, p, len, x, y);
}
static void lut_bwd_run(const lut_t *c, const float *p, size_t len, const float *x,
			const float *y, const float *dy, float *dx, ln_state *st)
{
	lut_bwd_runb(c, p, len, x, y, dy, dx, st);
}
#endif

int al_ln_lut_nparams(const double *h) { return (int)h[LUT_N]; }

void al_ln_lut_name(const double *h, int k, char *buf, size_t cap) { snprintf(buf, cap, "t%d", k); }

/* identity at the bin centres */
void al_ln_lut_init(const double *h, float *p, size_t groups, al_rng *r)
{
	int N = (int)h[LUT_N];
	double d = (h[LUT_HI] - h[LUT_LO]) / N;
	for (size_t g = 0; g < groups; g++)
		for (int j = 0; j < N; j++)
			p[g * (size_t)N + (size_t)j] = (float)(h[LUT_LO] + (j + 0.5) * d);
}

al_status al_ln_lut_check(const double *h, al_per per, int per_given)
{
	if (!is_int(h[LUT_N], 1, AL_LN_MAXP))
		return al_err(AL_EINVAL, "size=%g: the table size must be an integer in [1, %d]",
			      h[LUT_N], AL_LN_MAXP);
	if (!(h[LUT_LO] < h[LUT_HI]))
		return al_err(AL_EINVAL, "lo=%g, hi=%g: need lo < hi", h[LUT_LO], h[LUT_HI]);
	return AL_OK;
}

double al_ln_lut_ref(const double *h, const double *p, double x, double *dfdx, double *dfdp)
{
	int N = (int)h[LUT_N];
	double j = floor((x - h[LUT_LO]) * (N / (h[LUT_HI] - h[LUT_LO])));
	j = j >= 0 ? j : 0;
	j = j <= N - 1 ? j : N - 1;
	for (int k = 0; k < N; k++)
		dfdp[k] = k == (int)j ? 1 : 0;
	*dfdx = 0;
	return x != x ? x : p[(int)j];
}

int al_ln_lut_kinks(const double *h, const double *p, double *out, int cap)
{
	int N = (int)h[LUT_N], n = 0;
	double d = (h[LUT_HI] - h[LUT_LO]) / N;
	for (int j = 1; j < N && n < cap; j++)
		out[n++] = h[LUT_LO] + j * d;
	return n;
}

/* kinks of any learned entry, by its kernels */
int al_ln_kinks(const al_act_spec *s, const double *p, double *out, int cap)
{
	const al_act_desc *d = s->desc;
	if (d->t_fwd == al_ln_adact_fwd)
		return al_ln_adact_kinks(s->hyper, p, out, cap);
	if (d->t_fwd == al_ln_apl_fwd)
		return al_ln_apl_kinks(s->hyper, p, out, cap);
	if (d->t_fwd == al_ln_pau_fwd)
		return al_ln_pau_kinks(s->hyper, p, out, cap);
	if (d->t_fwd == al_ln_bspline_fwd)
		return al_ln_bspline_kinks(s->hyper, p, out, cap);
	if (d->t_fwd == al_ln_vaf_fwd)
		return al_ln_vaf_kinks(s->hyper, p, out, cap);
	if (d->t_fwd == al_ln_meta_fwd)
		return al_ln_meta_kinks(s->hyper, p, out, cap);
	if (d->t_fwd == al_ln_lut_fwd)
		return al_ln_lut_kinks(s->hyper, p, out, cap);
	return 0;
}
