/* catalog.c — THE activation table. One row per entry: name, formula,
 * citation, hyper-parameters, trainable parameters (init, bounds) and
 * kernels. Everything else (spec parsing, `act list`, docs, gradient checks,
 * benchmarks, checkpoints) walks this table; adding an activation is one
 * row here plus its scalar functions in elem_defs.h.
 * Not for: whole-tensor logic (act.c) or window/learned kernels (own files).
 */
#include <math.h>
#include <string.h>

#include "act/elem.h"
#include "act/learned.h"
#include "act/window.h"
#include "actlab/act.h"
#include "math/vmath.h"
#include "math/vmath16.h"

/* ---- double versions of the helpers used by elem_defs.h ------------------ */
static inline double sigmoid_d(double x)
{
	double e = exp(-fabs(x));
	return x >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}

static inline double softplus_d(double x) { return (x > 0 ? x : 0) + log1p(exp(-fabs(x))); }

/* ---- stamp the scalar functions: float ----------------------------------- */
#define T float
#define C(v) ((float)(v))
#define F(name)                                                                           \
	static inline __attribute__((always_inline)) float name##_f_s(                    \
		float x, const float *restrict p, const double *restrict h)
#define DF(name)                                                                          \
	static inline __attribute__((always_inline)) float name##_df_s(                   \
		float x, float y, const float *restrict p, const double *restrict h,      \
		float *restrict dp)
#define PREP(name) static inline void name##_prep_s(float *restrict p, const double *restrict h)
#define DFS(name)                                                                         \
	static inline __attribute__((always_inline)) float name##_dfs_s(                  \
		float x, float y, float g_dy, const float *restrict p,                    \
		const double *restrict h, float *restrict g)
#define FIN(name)                                                                         \
	static inline void name##_fin_s(const float *restrict p, const double *restrict h, \
					const double *restrict S, double *restrict dp)
#define FS(name) name##_s
#define EXPN1M(v, om) al_expf_fast_1m(v, &(om))
#define EXP(v) al_expf(v)
#define EXPN(v) al_expf_fast(v)
#define EXP43(v) al_expf_fast(v)
#define EXPX(v) al_expf_fast_ovf(v)
#define LOGP(v) al_logf_pos(v)
#define TANHP(v) al__tanh_poly(v)
#define EXPM1(v) al_expm1f(v)
#define ERF(v) al_erff(v)
#define SOFTPLUS(v) al_softplusf(v)
#define COPYSIGN(a, b) al__copysign(a, b)
#define SQRT(v) al_sqrtf(v)
#define LOG(v) al_logf(v)
#define POW(a, b) al_powf_pos(a, b)
#define ABS(v) al_fabsf(v)
#define TANH(v) al_tanhf(v)
#define SIGMOID(v) al_sigmoidf(v)
#include "act/elem_defs.h"
#undef T
#undef C
#undef F
#undef DF
#undef PREP
#undef DFS
#undef FIN
#undef METHOD1_CORE
#undef METHOD1_TS
#undef METHOD2_TS
#undef SIG_PAIR
#undef FS
#undef EXPN1M
#undef TANH_SECH2_1M
#undef SIG1
#undef TANH1
#undef BLEND_PREP
#undef EXP
#undef EXPN
#undef EXP43
#undef EXPX
#undef LOGP
#undef TANHP
#undef TANH_SECH2
#undef EXPM1
#undef ERF
#undef SOFTPLUS
#undef COPYSIGN
#undef SQRT
#undef LOG
#undef POW
#undef TWO_SQRTPI
#undef BLEND_THETA_GRADS
#undef SELU_L
#undef SELU_A
#undef SQRT1_2
#undef INV_SQRT_2PI
#undef SQRT_2_PI
#undef ABS
#undef TANH
#undef SIGMOID

/* ---- and double --------------------------------------------------------- */
#define T double
#define C(v) ((double)(v))
#define F(name) static inline double name##_f_d(double x, const double *restrict p, const double *restrict h)
#define DF(name)                                                                          \
	static inline double name##_df_d(double x, double y, const double *restrict p,    \
					 const double *restrict h, double *restrict dp)
#define PREP(name) static inline void name##_prep_d(double *restrict p, const double *restrict h)
#define DFS(name)                                                                         \
	static inline double name##_dfs_d(double x, double y, double g_dy,                \
					 const double *restrict p, const double *restrict h, \
					 double *restrict g)
#define FIN(name)                                                                         \
	static inline void name##_fin_d(const double *restrict p, const double *restrict h, \
					const double *restrict S, double *restrict dp)
#define FS(name) name##_d
#define EXPN1M(v, om) ((om) = -expm1(v), exp(v))
#define EXP(v) exp(v)
#define EXPN(v) exp(v)
#define EXP43(v) exp(v)
#define EXPX(v) exp(v)
#define LOGP(v) log(v)
#define TANHP(v) tanh(v)
#define EXPM1(v) expm1(v)
#define ERF(v) erf(v)
#define SOFTPLUS(v) softplus_d(v)
#define COPYSIGN(a, b) copysign(a, b)
#define SQRT(v) sqrt(v)
#define LOG(v) log(v)
#define POW(a, b) pow(a, b)
#define ABS(v) fabs(v)
#define TANH(v) tanh(v)
#define SIGMOID(v) sigmoid_d(v)
#include "act/elem_defs.h"
#undef T
#undef C
#undef F
#undef DF
#undef PREP
#undef DFS
#undef FIN
#undef METHOD1_CORE
#undef METHOD1_TS
#undef SIG_PAIR
#undef BLEND_PREP
#undef EXP
#undef EXPN
#undef EXP43
#undef EXPX
#undef LOGP
#undef TANHP
#undef TANH_SECH2
#undef EXPM1
#undef ERF
#undef SOFTPLUS
#undef COPYSIGN
#undef SQRT
#undef LOG
#undef POW
#undef TWO_SQRTPI
#undef BLEND_THETA_GRADS
#undef SELU_L
#undef SELU_A
#undef SQRT1_2
#undef INV_SQRT_2PI
#undef SQRT_2_PI
#undef ABS
#undef TANH
#undef SIGMOID

AL_ELEM_KERNELS(identity, 0)
AL_ELEM_KERNELS(relu, 0)
AL_ELEM_KERNELS(leaky_relu, 0)
#ifdef AL_HAVE_VMATH16
/* the generic sigmoid_fwd/bwd are replaced below; sigmoid_ref stays */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
AL_ELEM_KERNELS(sigmoid, 0)
#pragma GCC diagnostic pop

/* sigmoid on 16 lanes (vmath16.h): F(sigmoid) and DF(sigmoid), with a
 * table-driven exponential (vpermt2ps, vscalefps) and vrangeps /
 * vfixupimmps for the selections; the same maximum errors as the generic
 * loops (2.40 and 4.22 ulp over all floats in [-105, 105]), the last bit
 * differs for 0.2% / 0.5% of them. The last n mod 16 elements go through
 * masked loads and stores. Per core (act_micro, [16,16,16,16]), against the
 * generic loops with al_sigmoidf and SIG_PAIR: forward 0.255 -> 0.155
 * ns/element, backward 0.220 -> 0.171 (docs/benchmarks.md). */
static void sigmoid_fwd16(const al_act_args *a, size_t n, const float *restrict x,
			  float *restrict y)
{
	(void)a;
	size_t i = 0;
	for (; i + 32 <= n; i += 32) { /* two vectors per step: 2-3% per core */
		__m512 u = al_sigmoidf16(_mm512_loadu_ps(x + i));
		__m512 v = al_sigmoidf16(_mm512_loadu_ps(x + i + 16));
		_mm512_storeu_ps(y + i, u);
		_mm512_storeu_ps(y + i + 16, v);
	}
	for (; i + 16 <= n; i += 16)
		_mm512_storeu_ps(y + i, al_sigmoidf16(_mm512_loadu_ps(x + i)));
	if (i < n) {
		__mmask16 m = (__mmask16)((1u << (n - i)) - 1);
		_mm512_mask_storeu_ps(y + i, m, al_sigmoidf16(_mm512_maskz_loadu_ps(m, x + i)));
	}
}

static void sigmoid_bwd16(const al_act_args *a, size_t n, const float *restrict x,
			  const float *restrict y, const float *restrict dy, float *restrict dx,
			  float *const *dp)
{
	(void)a;
	(void)y;
	(void)dp;
	size_t i = 0;
	for (; i + 32 <= n; i += 32) {
		__m512 u = _mm512_mul_ps(_mm512_loadu_ps(dy + i), al_dsigmoidf16(_mm512_loadu_ps(x + i)));
		__m512 v = _mm512_mul_ps(_mm512_loadu_ps(dy + i + 16),
					 al_dsigmoidf16(_mm512_loadu_ps(x + i + 16)));
		_mm512_storeu_ps(dx + i, u);
		_mm512_storeu_ps(dx + i + 16, v);
	}
	for (; i + 16 <= n; i += 16)
		_mm512_storeu_ps(dx + i, _mm512_mul_ps(_mm512_loadu_ps(dy + i),
						       al_dsigmoidf16(_mm512_loadu_ps(x + i))));
	if (i < n) {
		__mmask16 m = (__mmask16)((1u << (n - i)) - 1);
		_mm512_mask_storeu_ps(dx + i, m,
				      _mm512_mul_ps(_mm512_maskz_loadu_ps(m, dy + i),
						    al_dsigmoidf16(_mm512_maskz_loadu_ps(m, x + i))));
	}
}
#define SIGMOID_KERNELS .fwd = sigmoid_fwd16, .bwd = sigmoid_bwd16, .ref = sigmoid_ref
#else
AL_ELEM_KERNELS(sigmoid, 0)
#define SIGMOID_KERNELS AL_ELEM(sigmoid)
#endif
AL_ELEM_KERNELS(tanh, 0)
AL_ELEM_KERNELS(prelu, 1)
AL_ELEM_KERNELS(relu6, 0)
AL_ELEM_KERNELS(hardtanh, 0)
AL_ELEM_KERNELS(elu, 0)
AL_ELEM_KERNELS(celu, 0)
AL_ELEM_KERNELS(selu, 0)
AL_ELEM_KERNELS(gelu_none, 0)
AL_ELEM_KERNELS(gelu_tanh, 0)
AL_ELEM_KERNELS(silu, 0)
AL_ELEM_KERNELS(mish, 0)
AL_ELEM_KERNELS(hardswish, 0)
AL_ELEM_KERNELS(hardsigmoid, 0)
AL_ELEM_KERNELS(softplus, 0)
AL_ELEM_KERNELS(softsign, 0)
AL_ELEM_KERNELS(logsigmoid, 0)
AL_ELEM_KERNELS(tanhshrink, 0)
AL_ELEM_KERNELS(softshrink, 0)
AL_ELEM_KERNELS(hardshrink, 0)
AL_ELEM_KERNELS(sqrt, 0)
AL_ELEM_KERNELS(tanhexp, 0)
AL_ELEM_KERNELS(frelu, 2)
AL_ELEM_KERNELS(agsig, 2)
AL_ELEM_KERNELS(swish_beta, 1)
AL_ELEM_KERNELS(pelu, 2)
AL_ELEM_KERNELS(asigmoid, 4)
AL_ELEM_KERNELS(atanh, 4)
AL_ELEM_KERNELS(arelu, 4)
/* derived-slot preparation, float or double by the array's type */
#define AL_PREP(name, pv, h) _Generic((pv)[0], float: name##_prep_s, double: name##_prep_d)(pv, h)
#define METHOD2_PREP(pv, h) AL_PREP(method2, pv, h)
#define METHOD1_PREP(pv, h) AL_PREP(method1, pv, h)
AL_ELEM_KERNELS_X(method2, 3, 6, METHOD2_PREP)
AL_ELEM_SUMS(method1, 15, 6, METHOD1_PREP, 10)
AL_ELEM_KERNELS_XS(method1, 15, 6, METHOD1_PREP, method1_bwd_sums)
#ifdef AL_HAVE_VMATH16
/* method1 with shared parameters on 16 lanes (vmath16.h): F(method1) and
 * DFS(method1) with the table-driven exponential (al__expf16_1m for tanh's
 * w = e^(-2|u|) and 1 - w, al_expnegf16 for sigma's e^-|u|), the
 * multiply-adds fused, and the 10 per-element sums of the AL_ELEM_SUMS path
 * in 16 float lanes per block of AL_ELEM_BLK, then double lanes, in the
 * order of al_elem_lanes (the sums are the same rows, from differently
 * rounded terms); FIN(method1) maps them to the 15 gradients. Forward
 * y = (X0 b_t) tanh + (X1 b_s) sigma + X2 relu-line + (X0 d_t + X1 d_s).
 * Per-element parameters keep the stamped loops. Per core (act_micro), the
 * generic loops -> these: docs/benchmarks.md (issue 3, method1 16 lanes). */
typedef struct {
	__m512 at, ct, as, cs, a1, c1, a2, c2;
} m1_v16;
static inline __attribute__((always_inline)) m1_v16 m1_v16_set(const float *pv)
{
	m1_v16 c = {_mm512_set1_ps(pv[3]),  _mm512_set1_ps(pv[5]),  _mm512_set1_ps(pv[7]),
		    _mm512_set1_ps(pv[9]),  _mm512_set1_ps(pv[11]), _mm512_set1_ps(pv[13]),
		    _mm512_set1_ps(pv[12]), _mm512_set1_ps(pv[14])};
	return c;
}
/* tanh(u) and 1/(1 + w) with w = e^(-2|u|) (NaN passes the clamp) */
static inline __attribute__((always_inline)) __m512 m1_tanh16(__m512 u, __m512 *w, __m512 *r)
{
	const __m512 sgn = _mm512_set1_ps(-0.0f);
	__m512 v = _mm512_max_ps(_mm512_set1_ps(-104.0f),
				 _mm512_mul_ps(_mm512_set1_ps(-2.0f), _mm512_andnot_ps(sgn, u)));
	__m512 om;
	*w = al__expf16_1m(v, &om);
	*r = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_add_ps(_mm512_set1_ps(1.0f), *w));
	return _mm512_or_ps(_mm512_mul_ps(om, *r), _mm512_and_ps(sgn, u));
}
static inline __attribute__((always_inline)) __m512 m1_f16(const m1_v16 *c, __m512 kt, __m512 ks,
							  __m512 kr, __m512 k0, __m512 xv)
{
	const __m512 one = _mm512_set1_ps(1.0f);
	__m512 w, r;
	__m512 th = m1_tanh16(_mm512_fmadd_ps(c->at, xv, c->ct), &w, &r);
	__m512 us = _mm512_fmadd_ps(c->as, xv, c->cs), es = al_expnegf16(us);
	__m512 num = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(us, _mm512_setzero_ps(), _CMP_GE_OQ),
					  es, one);
	__m512 s = _mm512_div_ps(num, _mm512_add_ps(one, es));
	__m512 u1 = _mm512_fmadd_ps(c->a1, xv, c->c1), u2 = _mm512_fmadd_ps(c->a2, xv, c->c2);
	__m512 fr = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(u1, u2, _CMP_GE_OQ), u2, u1);
	return _mm512_fmadd_ps(kt, th, _mm512_fmadd_ps(ks, s, _mm512_fmadd_ps(kr, fr, k0)));
}
/* Shared parameters (pstride 0): the hyper-parameters into h, the
 * prepared scalars into pv[21], and their broadcast vectors. */
static m1_v16 m1_shared(const al_act_args *a, double *h, float *pv)
{
	for (int k = 0; k < AL_ACT_MAXH; k++)
		h[k] = a->h[k];
	for (int k = 0; k < 15; k++)
		pv[k] = a->p[k][0];
	method1_prep_s(pv, h);
	return m1_v16_set(pv);
}
static void method1_fwd16(const al_act_args *a, size_t n, const float *restrict x,
			  float *restrict y)
{
	if (a->pstride != 0) {
		method1_fwd(a, n, x, y);
		return;
	}
	double h[AL_ACT_MAXH];
	float pv[21] = {0};
	const m1_v16 c = m1_shared(a, h, pv);
	const __m512 kt = _mm512_set1_ps(pv[15] * pv[4]), ks = _mm512_set1_ps(pv[16] * pv[8]),
		     kr = _mm512_set1_ps(pv[17]), k0 = _mm512_set1_ps(pv[15] * pv[6] + pv[16] * pv[10]);
	size_t i = 0;
	for (; i + 16 <= n; i += 16)
		_mm512_storeu_ps(y + i, m1_f16(&c, kt, ks, kr, k0, _mm512_loadu_ps(x + i)));
	if (i < n) {
		__mmask16 m = (__mmask16)((1u << (n - i)) - 1);
		_mm512_mask_storeu_ps(y + i, m,
				      m1_f16(&c, kt, ks, kr, k0, _mm512_maskz_loadu_ps(m, x + i)));
	}
}

/* df/dx times dy of 16 elements, and their 10 sum terms added into L
 * (lanes with dy = 0, the masked tail, add zeros) */
typedef struct {
	__m512 dt, ds, r1, r2;
} m1_b16;
static inline __attribute__((always_inline)) __m512 m1_d16(const m1_v16 *c, const m1_b16 *k,
							  __m512 xv, __m512 g, __m512 *L)
{
	const __m512 one = _mm512_set1_ps(1.0f);
	__m512 w, r;
	__m512 tt = m1_tanh16(_mm512_fmadd_ps(c->at, xv, c->ct), &w, &r);
	__m512 td = _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(4.0f), w), _mm512_mul_ps(r, r));
	__m512 us = _mm512_fmadd_ps(c->as, xv, c->cs), es = al_expnegf16(us);
	__m512 rs = _mm512_div_ps(one, _mm512_add_ps(one, es)), ers = _mm512_mul_ps(es, rs);
	__m512 ss = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(us, _mm512_setzero_ps(), _CMP_GE_OQ),
					 ers, rs);
	__m512 sd = _mm512_mul_ps(ers, rs);
	__m512 u1 = _mm512_fmadd_ps(c->a1, xv, c->c1), u2 = _mm512_fmadd_ps(c->a2, xv, c->c2);
	__mmask16 f = _mm512_cmp_ps_mask(u1, u2, _CMP_GE_OQ);
	__m512 dfdx = _mm512_fmadd_ps(k->dt, td,
				      _mm512_fmadd_ps(k->ds, sd, _mm512_mask_blend_ps(f, k->r2, k->r1)));
	__m512 gx = _mm512_mul_ps(g, xv), gt = _mm512_mul_ps(g, td), gs = _mm512_mul_ps(g, sd);
	L[0] = _mm512_mask_add_ps(L[0], f, L[0], g);
	L[1] = _mm512_mask_add_ps(L[1], (__mmask16)~f, L[1], g);
	L[2] = _mm512_mask_add_ps(L[2], f, L[2], gx);
	L[3] = _mm512_mask_add_ps(L[3], (__mmask16)~f, L[3], gx);
	L[4] = _mm512_fmadd_ps(g, tt, L[4]);
	L[5] = _mm512_add_ps(L[5], gt);
	L[6] = _mm512_fmadd_ps(gt, xv, L[6]);
	L[7] = _mm512_fmadd_ps(g, ss, L[7]);
	L[8] = _mm512_add_ps(L[8], gs);
	L[9] = _mm512_fmadd_ps(gs, xv, L[9]);
	return _mm512_mul_ps(g, dfdx);
}
static void method1_bwd16(const al_act_args *a, size_t n, const float *restrict x,
			  const float *restrict y, const float *restrict dy, float *restrict dx,
			  float *const *dp)
{
	if (a->pstride != 0) {
		method1_bwd(a, n, x, y, dy, dx, dp);
		return;
	}
	double h[AL_ACT_MAXH], accl[10][AL_ELEM_LANES] = {{0}};
	float pv[21] = {0};
	const m1_v16 c = m1_shared(a, h, pv);
	const m1_b16 kb = {_mm512_set1_ps(pv[15] * pv[3] * pv[4]), _mm512_set1_ps(pv[16] * pv[7] * pv[8]),
			   _mm512_set1_ps(pv[17] * pv[11]), _mm512_set1_ps(pv[17] * pv[12])};
	for (size_t i0 = 0; i0 < n; i0 += AL_ELEM_BLK) {
		const size_t mb = n - i0 < AL_ELEM_BLK ? n - i0 : AL_ELEM_BLK;
		__m512 L[10];
		for (int q = 0; q < 10; q++)
			L[q] = _mm512_setzero_ps();
		size_t j = 0;
		for (; j + 16 <= mb; j += 16)
			_mm512_storeu_ps(dx + i0 + j, m1_d16(&c, &kb, _mm512_loadu_ps(x + i0 + j),
							     _mm512_loadu_ps(dy + i0 + j), L));
		if (j < mb) {
			__mmask16 m = (__mmask16)((1u << (mb - j)) - 1);
			_mm512_mask_storeu_ps(dx + i0 + j, m,
					      m1_d16(&c, &kb, _mm512_maskz_loadu_ps(m, x + i0 + j),
						     _mm512_maskz_loadu_ps(m, dy + i0 + j), L));
		}
		for (int q = 0; q < 10; q++) {
			float l[AL_ELEM_LANES] __attribute__((aligned(64)));
			_mm512_store_ps(l, L[q]);
			for (int k = 0; k < AL_ELEM_LANES; k++)
				accl[q][k] += (double)l[k];
		}
	}
	double S[10], out[15];
	for (int q = 0; q < 10; q++) {
		S[q] = 0;
		for (int k = 0; k < AL_ELEM_LANES; k++)
			S[q] += accl[q][k];
	}
	method1_fin_s(pv, h, S, out);
	for (int k = 0; k < 15; k++)
		dp[k][0] += (float)out[k];
	(void)y;
}
#define METHOD1_KERNELS .fwd = method1_fwd16, .bwd = method1_bwd16, .ref = method1_ref
#else
#define METHOD1_KERNELS AL_ELEM(method1)
#endif
AL_ELEM_KERNELS(tleaky_relu, 1)
AL_ELEM_KERNELS(thardswish, 1)
#define TGELU_PREP(pv, h) AL_PREP(tgelu, pv, h)
AL_ELEM_KERNELS_X(tgelu, 2, 1, TGELU_PREP)
AL_ELEM_KERNELS(tselu, 2)
AL_ELEM_KERNELS(tsqrt, 1)
AL_ELEM_KERNELS(tswish, 1)
AL_ELEM_KERNELS(tsqrt_tanh, 1)

/* tsqrt with shared z: the log over a block of AL_ELEM_BLK elements into a
 * stack buffer, then the exponential and the rest (as tsqrt_tanh below;
 * y and dx bit for bit those of the stamped kernels). */
static void tsqrt_fwd_st(const al_act_args *a, size_t n, const float *restrict x,
			 float *restrict y)
{
	if (a->pstride != 0) {
		tsqrt_fwd(a, n, x, y);
		return;
	}
	const float z = a->p[0][0];
	float L[AL_ELEM_BLK] __attribute__((aligned(64)));
	for (size_t i0 = 0; i0 < n; i0 += AL_ELEM_BLK) {
		const size_t m = n - i0 < AL_ELEM_BLK ? n - i0 : AL_ELEM_BLK;
		const float *restrict xb = x + i0;
		float *restrict yb = y + i0;
#pragma omp simd
		for (size_t j = 0; j < m; j++)
			L[j] = al_logf(al_fabsf(xb[j]));
#pragma omp simd
		for (size_t j = 0; j < m; j++)
			yb[j] = tsq_y_s(xb[j], z, L[j]);
	}
}

static void tsqrt_bwd_st(const al_act_args *a, size_t n, const float *restrict x,
			 const float *restrict y, const float *restrict dy, float *restrict dx,
			 float *const *dp)
{
	if (a->pstride != 0) {
		tsqrt_bwd(a, n, x, y, dy, dx, dp);
		return;
	}
	const float z = a->p[0][0];
	float L[AL_ELEM_BLK] __attribute__((aligned(64))), td[AL_ELEM_BLK] __attribute__((aligned(64)));
	double accl[AL_ELEM_LANES] = {0};
	for (size_t i0 = 0; i0 < n; i0 += AL_ELEM_BLK) {
		const size_t m = n - i0 < AL_ELEM_BLK ? n - i0 : AL_ELEM_BLK;
		const float *restrict xb = x + i0, *restrict gb = dy + i0;
		float *restrict dxb = dx + i0;
#pragma omp simd
		for (size_t j = 0; j < m; j++)
			L[j] = tsq_lnac_s(xb[j]);
#pragma omp simd
		for (size_t j = 0; j < m; j++) {
			float d;
			dxb[j] = gb[j] * tsq_d_s(xb[j], z, L[j], &d);
			td[j] = gb[j] * d;
		}
		for (size_t j = m; j < AL_ELEM_BLK; j++)
			td[j] = 0;
		al_elem_lanes(td, accl);
	}
	double acc = 0;
	for (int q = 0; q < AL_ELEM_LANES; q++)
		acc += accl[q];
	dp[0][0] += (float)acc;
}

#ifdef AL_HAVE_VMATH16
/* tsqrt_tanh with shared k on 16 lanes, in base 2 (vmath16.h's log2 and
 * exp2 with vgetexpps / vgetmantps / vscalefps and a 32-entry table for
 * the log): L = log2 |x|, A = 2^(k L + log2 log2 e) = |x|^k log2 e (k L
 * clamped to [-200, 100]: x = 0 gives A = 0), U = sgn(x) A (u = U ln2),
 * P = 2^(min(U, 20 log2 e) + log2(2 log2 e)) = 2 E log2 e (u clamped at 20
 * as in elem_defs.h), w = 2^-P = e^(-2E) with 1 - w, tanh E = (1 - w) /
 * (1 + w), sech^2 E = 4 w / (1 + w)^2. About 55 instructions per 16
 * elements forward against about 80 for the generic stages (vmath.h's
 * logf alone is about 25). Each stage runs over a block of AL_ELEM_BLK
 * elements into stack buffers before the next (log | power | E | the rest
 * forward, w and 1 - w a stage of its own backward): one loop of the whole
 * chain was 60% slower forward, two stages 20% slower forward and 33%
 * backward (act_micro, [16^4]). Masked loads only for the tail.
 * Not bit for bit the generic stages' results (which per-element k and
 * builds without AVX-512 keep): test act_tsqrt_tanh_kernels bounds both
 * against double. */
#define TST16_KL 0x1.0eba78p-1f	/* log2 log2 e */
#define TST16_KP 0x1.875d3cp+0f	/* log2 (2 log2 e) */
#define TST16_UMAX 0x1.cda992p+4f /* 20 log2 e, rounded down */
#define TST16_SGN _mm512_set1_epi32((int)0x80000000u)
/* x[j..j+16) of a block of m elements, mv = m rounded down to 16, masked
 * (zero-filled) for the tail only */
static inline __attribute__((always_inline)) __m512 tst16_ld(const float *p, size_t j, size_t mv,
							     __mmask16 tm)
{
	return j < mv ? _mm512_loadu_ps(p + j) : _mm512_maskz_loadu_ps(tm, p + j);
}
static inline __attribute__((always_inline)) void tst16_st(float *p, size_t j, size_t mv,
							   __mmask16 tm, __m512 v)
{
	if (j < mv)
		_mm512_storeu_ps(p + j, v);
	else
		_mm512_mask_storeu_ps(p + j, tm, v);
}
static inline __attribute__((always_inline)) __m512 tst16_pow(__m512 k, __m512 L)
{
	__m512 t = _mm512_fmadd_ps(k, L, _mm512_set1_ps(TST16_KL));
	return al__exp2f16(
		_mm512_max_ps(_mm512_set1_ps(-200.0f), _mm512_min_ps(t, _mm512_set1_ps(100.0f))));
}
/* U = sgn(x) A */
static inline __attribute__((always_inline)) __m512 tst16_u(__m512 x, __m512 A)
{
	return _mm512_castsi512_ps(_mm512_ternarylogic_epi32(
		_mm512_castps_si512(A), _mm512_castps_si512(x), TST16_SGN, 0xF8)); /* A | (x & sgn) */
}
static inline __attribute__((always_inline)) __m512 tst16_e(__m512 U)
{
	return al__exp2f16(_mm512_add_ps(_mm512_min_ps(U, _mm512_set1_ps(TST16_UMAX)),
					 _mm512_set1_ps(TST16_KP)));
}
static inline __attribute__((always_inline)) __m512 tst16_w(__m512 P, __m512 *om)
{
	return al__exp2f16_1m(_mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(P), TST16_SGN)),
			      om);
}
/* the stages shared by both directions: L, A, P (and A, L kept backward) */
#define TST16_STAGES(LB, AB, PB)                                                                  \
	for (size_t j = 0; j < m; j += 16)                                                         \
		_mm512_store_ps(LB + j, al__log2f16(_mm512_abs_ps(tst16_ld(xb, j, mv, tm))));      \
	for (size_t j = 0; j < m; j += 16)                                                         \
		_mm512_store_ps(AB + j, tst16_pow(k, _mm512_load_ps(LB + j)));                     \
	for (size_t j = 0; j < m; j += 16)                                                         \
		_mm512_store_ps(PB + j, tst16_e(tst16_u(tst16_ld(xb, j, mv, tm), _mm512_load_ps(AB + j))));
static void tsqrt_tanh_fwd_sh(const al_act_args *a, size_t n, const float *restrict x,
			      float *restrict y)
{
	const __m512 k = _mm512_set1_ps(a->p[0][0]), one = _mm512_set1_ps(1.0f);
	float B[AL_ELEM_BLK] __attribute__((aligned(64)));
	for (size_t i0 = 0; i0 < n; i0 += AL_ELEM_BLK) {
		const size_t m = n - i0 < AL_ELEM_BLK ? n - i0 : AL_ELEM_BLK, mv = m & ~(size_t)15;
		const __mmask16 tm = (__mmask16)((1u << (m - mv)) - 1);
		const float *restrict xb = x + i0;
		TST16_STAGES(B, B, B)
		for (size_t j = 0; j < m; j += 16) {
			__m512 om, w = tst16_w(_mm512_load_ps(B + j), &om);
			tst16_st(y + i0, j, mv, tm,
				 _mm512_mul_ps(tst16_ld(xb, j, mv, tm), _mm512_div_ps(om, _mm512_add_ps(one, w))));
		}
	}
}

static void tsqrt_tanh_bwd_sh(const al_act_args *a, size_t n, const float *restrict x,
			      const float *restrict y, const float *restrict dy,
			      float *restrict dx, float *const *dp)
{
	(void)y;
	const float kf = a->p[0][0];
	/* kc = k ln2^2 / 2: k u E = kc U P */
	const __m512 k = _mm512_set1_ps(kf), kc = _mm512_set1_ps(kf * 0x1.ebfbep-3f),
		     one = _mm512_set1_ps(1.0f);
	float Lb[AL_ELEM_BLK] __attribute__((aligned(64))), Ab[AL_ELEM_BLK] __attribute__((aligned(64))),
		Pb[AL_ELEM_BLK] __attribute__((aligned(64))), Wb[AL_ELEM_BLK] __attribute__((aligned(64))),
		Ob[AL_ELEM_BLK] __attribute__((aligned(64)));
	double accl[AL_ELEM_LANES] = {0};
	for (size_t i0 = 0; i0 < n; i0 += AL_ELEM_BLK) {
		const size_t m = n - i0 < AL_ELEM_BLK ? n - i0 : AL_ELEM_BLK, mv = m & ~(size_t)15;
		const __mmask16 tm = (__mmask16)((1u << (m - mv)) - 1);
		const float *restrict xb = x + i0, *restrict gb = dy + i0;
		TST16_STAGES(Lb, Ab, Pb)
		for (size_t j = 0; j < m; j += 16) {
			__m512 om, w = tst16_w(_mm512_load_ps(Pb + j), &om);
			_mm512_store_ps(Wb + j, w);
			_mm512_store_ps(Ob + j, om);
		}
		__m512 G = _mm512_setzero_ps();
		for (size_t j = 0; j < m; j += 16) {
			__m512 xv = tst16_ld(xb, j, mv, tm), g = tst16_ld(gb, j, mv, tm);
			__m512 A = _mm512_load_ps(Ab + j), U = tst16_u(xv, A), P = _mm512_load_ps(Pb + j);
			__m512 w = _mm512_load_ps(Wb + j), r = _mm512_div_ps(one, _mm512_add_ps(one, w));
			__m512 th = _mm512_mul_ps(_mm512_load_ps(Ob + j), r);
			/* P sech^2 E = P 4 w r^2 */
			__m512 ps2 = _mm512_mul_ps(_mm512_mul_ps(P, w), _mm512_mul_ps(_mm512_set1_ps(4.0f), _mm512_mul_ps(r, r)));
			__mmask16 live = _mm512_cmp_ps_mask(U, _mm512_set1_ps(TST16_UMAX), _CMP_LT_OQ);
			/* dy/dx = tanh E + k u E sech^2 E (u < 20) */
			__m512 d = _mm512_mask_mov_ps(th, live, _mm512_fmadd_ps(_mm512_mul_ps(kc, U), ps2, th));
			/* dy/dk = sech^2 E E |x|^k |x| ln|x| = ps2 A |x| L ln2^3 / 2 (u < 20,
			 * x != 0, where |x| L = 0 (-inf)) */
			__mmask16 livek = _mm512_mask_cmp_ps_mask(live, xv, _mm512_setzero_ps(), _CMP_NEQ_UQ);
			__m512 dk = _mm512_maskz_mul_ps(livek, _mm512_mul_ps(ps2, A),
							_mm512_mul_ps(_mm512_abs_ps(xv), _mm512_load_ps(Lb + j)));
			G = _mm512_fmadd_ps(g, dk, G);
			tst16_st(dx + i0, j, mv, tm, _mm512_mul_ps(g, d));
		}
		float l[AL_ELEM_LANES] __attribute__((aligned(64)));
		_mm512_store_ps(l, G);
		for (int q = 0; q < AL_ELEM_LANES; q++)
			accl[q] += (double)l[q];
	}
	double acc = 0;
	for (int q = 0; q < AL_ELEM_LANES; q++)
		acc += accl[q];
	dp[0][0] += (float)(acc * 0x1.55046a143788fp-3); /* ln2^3 / 2 */
}
#else
/* tsqrt_tanh with shared k (no AVX-512): the stages of elem_defs.h, each over a block of
 * AL_ELEM_BLK elements into stack buffers before the next, so the loops
 * are not one long dependent chain. y and dx are bit for bit those of the
 * stamped kernels (which per-element k still uses); the k gradient is summed
 * in the same lane order, from products rounded before the add (the stamped
 * loop may fuse them), so its last bits can differ. */
static void tsqrt_tanh_fwd_sh(const al_act_args *a, size_t n, const float *restrict x,
			      float *restrict y)
{
	const float k = a->p[0][0];
	float ak[AL_ELEM_BLK] __attribute__((aligned(64))), om[AL_ELEM_BLK] __attribute__((aligned(64)));
	for (size_t i0 = 0; i0 < n; i0 += AL_ELEM_BLK) {
		const size_t m = n - i0 < AL_ELEM_BLK ? n - i0 : AL_ELEM_BLK;
		const float *restrict xb = x + i0;
		float *restrict yb = y + i0;
#pragma omp simd
		for (size_t j = 0; j < m; j++)
			ak[j] = tst_ln_s(xb[j]);
#pragma omp simd
		for (size_t j = 0; j < m; j++)
			ak[j] = tst_ak_s(xb[j], k, ak[j]);
#pragma omp simd
		for (size_t j = 0; j < m; j++)
			ak[j] = tst_e_s(xb[j], ak[j]);
#pragma omp simd
		for (size_t j = 0; j < m; j++)
			ak[j] = tst_w_s(ak[j], &om[j]);
#pragma omp simd
		for (size_t j = 0; j < m; j++)
			yb[j] = tst_y_s(xb[j], ak[j], om[j]);
	}
}

static void tsqrt_tanh_bwd_sh(const al_act_args *a, size_t n, const float *restrict x,
			      const float *restrict y, const float *restrict dy,
			      float *restrict dx, float *const *dp)
{
	const float k = a->p[0][0];
	float ak[AL_ELEM_BLK] __attribute__((aligned(64))), lna[AL_ELEM_BLK] __attribute__((aligned(64))),
		E[AL_ELEM_BLK] __attribute__((aligned(64))), td[AL_ELEM_BLK] __attribute__((aligned(64))),
		w[AL_ELEM_BLK] __attribute__((aligned(64))), om[AL_ELEM_BLK] __attribute__((aligned(64)));
	double accl[AL_ELEM_LANES] = {0};
	for (size_t i0 = 0; i0 < n; i0 += AL_ELEM_BLK) {
		const size_t m = n - i0 < AL_ELEM_BLK ? n - i0 : AL_ELEM_BLK;
		const float *restrict xb = x + i0, *restrict gb = dy + i0;
		float *restrict dxb = dx + i0;
#pragma omp simd
		for (size_t j = 0; j < m; j++)
			lna[j] = tst_ln_s(xb[j]);
#pragma omp simd
		for (size_t j = 0; j < m; j++)
			ak[j] = tst_ak_s(xb[j], k, lna[j]);
#pragma omp simd
		for (size_t j = 0; j < m; j++)
			E[j] = tst_e_s(xb[j], ak[j]);
#pragma omp simd
		for (size_t j = 0; j < m; j++)
			w[j] = tst_w_s(E[j], &om[j]);
#pragma omp simd
		for (size_t j = 0; j < m; j++) {
			float d;
			dxb[j] = gb[j] * tst_d_s(xb[j], k, lna[j], ak[j], E[j], w[j], om[j], &d);
			td[j] = gb[j] * d;
		}
		for (size_t j = m; j < AL_ELEM_BLK; j++)
			td[j] = 0;
		al_elem_lanes(td, accl);
	}
	double acc = 0;
	for (int q = 0; q < AL_ELEM_LANES; q++)
		acc += accl[q];
	dp[0][0] += (float)acc;
}

#endif

/* tsqrt_tanh: shared k takes the staged kernels above, per-element k the
 * stamped ones */
static void tsqrt_tanh_fwd_st(const al_act_args *a, size_t n, const float *restrict x,
			      float *restrict y)
{
	if (a->pstride != 0)
		tsqrt_tanh_fwd(a, n, x, y);
	else
		tsqrt_tanh_fwd_sh(a, n, x, y);
}

static void tsqrt_tanh_bwd_st(const al_act_args *a, size_t n, const float *restrict x,
			      const float *restrict y, const float *restrict dy,
			      float *restrict dx, float *const *dp)
{
	if (a->pstride != 0)
		tsqrt_tanh_bwd(a, n, x, y, dy, dx, dp);
	else
		tsqrt_tanh_bwd_sh(a, n, x, y, dy, dx, dp);
}

/* tanhexp: the stages of elem_defs.h (e^x | w = e^(-2E), 1 - w | the
 * division and the rest), each over a block of AL_ELEM_BLK elements into
 * stack buffers before the next; y and dx are those of the stamped
 * kernels, which calls shorter than one vector still take. tanhexp_fb_st
 * is the fused f, f' for adaptive:base=tanhexp. */
#define TEX_STAGES(xb, m)                                                                      \
	_Pragma("omp simd") for (size_t j = 0; j < (m); j++) E[j] = tex_e_s((xb)[j]);         \
	_Pragma("omp simd") for (size_t j = 0; j < (m); j++) w[j] = tst_w_s(E[j], &om[j]);
static void tanhexp_fwd_st(const al_act_args *a, size_t n, const float *restrict x,
			   float *restrict y)
{
	if (n < AL_ELEM_LANES) {
		tanhexp_fwd(a, n, x, y);
		return;
	}
	float E[AL_ELEM_BLK] __attribute__((aligned(64))), w[AL_ELEM_BLK] __attribute__((aligned(64))),
		om[AL_ELEM_BLK] __attribute__((aligned(64)));
	for (size_t i0 = 0; i0 < n; i0 += AL_ELEM_BLK) {
		const size_t m = n - i0 < AL_ELEM_BLK ? n - i0 : AL_ELEM_BLK;
		const float *restrict xb = x + i0;
		float *restrict yb = y + i0;
		TEX_STAGES(xb, m)
#pragma omp simd
		for (size_t j = 0; j < m; j++)
			yb[j] = tex_y_s(xb[j], w[j], om[j]);
	}
}

static void tanhexp_bwd_st(const al_act_args *a, size_t n, const float *restrict x,
			   const float *restrict y, const float *restrict dy, float *restrict dx,
			   float *const *dp)
{
	if (n < AL_ELEM_LANES) {
		tanhexp_bwd(a, n, x, y, dy, dx, dp);
		return;
	}
	float E[AL_ELEM_BLK] __attribute__((aligned(64))), w[AL_ELEM_BLK] __attribute__((aligned(64))),
		om[AL_ELEM_BLK] __attribute__((aligned(64)));
	for (size_t i0 = 0; i0 < n; i0 += AL_ELEM_BLK) {
		const size_t m = n - i0 < AL_ELEM_BLK ? n - i0 : AL_ELEM_BLK;
		const float *restrict xb = x + i0, *restrict gb = dy + i0;
		float *restrict dxb = dx + i0;
		TEX_STAGES(xb, m)
#pragma omp simd
		for (size_t j = 0; j < m; j++)
			dxb[j] = gb[j] * tex_d_s(xb[j], E[j], w[j], om[j]);
	}
}

/* gelu: the approximate= hyper picks a stamped kernel once per call */
static void gelu_fwd(const al_act_args *a, size_t n, const float *x, float *y)
{
	(a->h[0] != 0 ? gelu_tanh_fwd : gelu_none_fwd)(a, n, x, y);
}
static void gelu_bwd(const al_act_args *a, size_t n, const float *x, const float *y,
		     const float *dy, float *dx, float *const *dp)
{
	(a->h[0] != 0 ? gelu_tanh_bwd : gelu_none_bwd)(a, n, x, y, dy, dx, dp);
}
static double gelu_ref(const double *h, const double *p, double x, double *dfdx, double *dfdp)
{
	return (h[0] != 0 ? gelu_tanh_ref : gelu_none_ref)(h, p, x, dfdx, dfdp);
}

/* ---- rrelu: random negative slope in training, the mean in evaluation ---- */
/* Hand-written: the slope of every non-positive element is drawn from the
 * block's RNG stream, and the backward redraws the same slopes in the same
 * order (same stream, same x), so no mask has to be stored. */
static void rrelu_fwd(const al_act_args *a, size_t n, const float *x, float *y)
{
	const float lo = (float)a->h[0], hi = (float)a->h[1];
	if (!a->train || !a->rng) {
		const float s = (float)(0.5 * (a->h[0] + a->h[1]));
#pragma omp simd
		for (size_t i = 0; i < n; i++)
			y[i] = x[i] > 0 ? x[i] : s * x[i];
		return;
	}
	al_rng r = *a->rng;
	for (size_t i = 0; i < n; i++)
		y[i] = x[i] > 0 ? x[i] : (lo + (hi - lo) * al_rng_uniform(&r)) * x[i];
}

static void rrelu_bwd(const al_act_args *a, size_t n, const float *x, const float *y,
		      const float *dy, float *dx, float *const *dp)
{
	const float lo = (float)a->h[0], hi = (float)a->h[1];
	if (!a->train || !a->rng) {
		const float s = (float)(0.5 * (a->h[0] + a->h[1]));
#pragma omp simd
		for (size_t i = 0; i < n; i++)
			dx[i] = x[i] > 0 ? dy[i] : s * dy[i];
		return;
	}
	al_rng r = *a->rng;
	for (size_t i = 0; i < n; i++)
		dx[i] = x[i] > 0 ? dy[i] : (lo + (hi - lo) * al_rng_uniform(&r)) * dy[i];
}

static double rrelu_ref(const double *h, const double *p, double x, double *dfdx, double *dfdp)
{
	double s = 0.5 * (h[0] + h[1]);
	*dfdx = x > 0 ? 1 : s;
	return x > 0 ? x : s * x;
}


/* ---- adaptive:base=NAME: b*f(a*x + c) + d around any fixed entry ---------
 * Composes the base entry's own kernels blockwise (no per-element calls
 * through function pointers): u = a x + c into a stack block, f(u) and f'(u)
 * by the base's stamped loops, then the affine outer part. */
#define ADAPT_BLK AL_ELEM_BLK
typedef float al_v16 __attribute__((vector_size(64)));

/* Fused f, f' loops for the bases where they measured faster than the
 * base's forward then backward (act_micro: silu, tanhexp, mish, tanhshrink;
 * for sigmoid, tanh, gelu, elu, selu, softplus they were not): picked by
 * the base's forward kernel; the others keep the two calls. */
AL_ELEM_FB(silu)
AL_ELEM_FB(mish)
AL_ELEM_FB(tanhshrink)
/* tanhexp's f, f' as its staged kernels compute them (the stamped fused
 * loop was one dependent chain too) */
static void tanhexp_fb_st(const al_act_args *a, size_t n, const float *restrict x,
			  float *restrict f, float *restrict fp)
{
	(void)a;
	float E[AL_ELEM_BLK] __attribute__((aligned(64))), w[AL_ELEM_BLK] __attribute__((aligned(64))),
		om[AL_ELEM_BLK] __attribute__((aligned(64)));
	for (size_t i0 = 0; i0 < n; i0 += AL_ELEM_BLK) {
		const size_t m = n - i0 < AL_ELEM_BLK ? n - i0 : AL_ELEM_BLK;
		const float *restrict xb = x + i0;
		TEX_STAGES(xb, m)
#pragma omp simd
		for (size_t j = 0; j < m; j++) {
			fp[i0 + j] = tex_fd_s(xb[j], E[j], w[j], om[j], &f[i0 + j]);
		}
	}
}
static al_elem_fb_fn adaptive_fb(const al_act_desc *b)
{
	static const struct {
		al_act_fwd_fn fwd;
		al_elem_fb_fn fb;
	} t[] = {{silu_fwd, silu_fb},
		 {mish_fwd, mish_fb},
		 {tanhshrink_fwd, tanhshrink_fb},
		 {tanhexp_fwd_st, tanhexp_fb_st}};
	for (size_t i = 0; i < sizeof t / sizeof *t; i++)
		if (b->fwd == t[i].fwd)
			return t[i].fb;
	return NULL;
}

static const al_act_desc *adaptive_base(const double *h, double *hb)
{
	const al_act_desc *b = al_act_get((int)h[0]);
	for (int i = 0; i < b->nhyper; i++)
		hb[i] = b->hyper[i].def;
	return b;
}

static void adaptive_fwd(const al_act_args *a, size_t n, const float *x, float *y)
{
	double hb[AL_ACT_MAXH];
	const al_act_desc *b = adaptive_base(a->h, hb);
	al_act_args ba = {.h = hb};
	const size_t s = a->pstride;
	float u[ADAPT_BLK];
	for (size_t i0 = 0; i0 < n; i0 += ADAPT_BLK) {
		size_t m = n - i0 < ADAPT_BLK ? n - i0 : ADAPT_BLK;
		const float *pa = a->p[0] + i0 * s, *pc = a->p[2] + i0 * s;
		const float *pb = a->p[1] + i0 * s, *pd = a->p[3] + i0 * s;
		if (s == 0) { /* shared: invariant scalars, so the loops vectorise */
			const float av = *pa, bv = *pb, cv = *pc, dv = *pd;
			for (size_t i = 0; i < m; i++)
				u[i] = av * x[i0 + i] + cv;
			b->fwd(&ba, m, u, y + i0);
			for (size_t i = 0; i < m; i++)
				y[i0 + i] = bv * y[i0 + i] + dv;
			continue;
		}
		for (size_t i = 0; i < m; i++)
			u[i] = pa[i * s] * x[i0 + i] + pc[i * s];
		b->fwd(&ba, m, u, y + i0);
		for (size_t i = 0; i < m; i++)
			y[i0 + i] = pb[i * s] * y[i0 + i] + pd[i * s];
	}
}

static void adaptive_bwd(const al_act_args *a, size_t n, const float *x, const float *y,
			 const float *dy, float *dx, float *const *dp)
{
	double hb[AL_ACT_MAXH];
	const al_act_desc *b = adaptive_base(a->h, hb);
	const al_elem_fb_fn fb = adaptive_fb(b);
	al_act_args ba = {.h = hb};
	const size_t s = a->pstride;
	float u[ADAPT_BLK], f[ADAPT_BLK], fp[ADAPT_BLK], one[ADAPT_BLK], td[4][ADAPT_BLK];
	double acc[4] = {0, 0, 0, 0};
	for (size_t i = 0; i < ADAPT_BLK; i++)
		one[i] = 1.0f;
	for (size_t i0 = 0; i0 < n; i0 += ADAPT_BLK) {
		size_t m = n - i0 < ADAPT_BLK ? n - i0 : ADAPT_BLK;
		const float *pa = a->p[0] + i0 * s, *pb = a->p[1] + i0 * s, *pc = a->p[2] + i0 * s;
		if (s == 0) {
			const float av = *pa, cv = *pc;
			for (size_t i = 0; i < m; i++)
				u[i] = av * x[i0 + i] + cv;
		} else {
			for (size_t i = 0; i < m; i++)
				u[i] = pa[i * s] * x[i0 + i] + pc[i * s];
		}
		if (fb) {
			fb(&ba, m, u, f, fp);
		} else {
			b->fwd(&ba, m, u, f);
			b->bwd(&ba, m, u, f, one, fp, NULL); /* fp = f'(u) */
		}
		if (s == 0 && m == ADAPT_BLK) {
			/* shared parameters, full block: the four rows summed in
			 * 16 float lanes inside the loop, in al_elem_rowsum's order
			 * (a product may now be fused into its add), instead of
			 * stored and summed after the loop. GCC vector types keep
			 * the lanes in registers (a float[4][16] array was loaded
			 * and stored back every 16 elements). */
			const float av = pa[0], bv = pb[0];
			al_v16 l0 = {0}, l1 = {0}, l2 = {0}, l3 = {0};
			for (size_t j0 = 0; j0 < ADAPT_BLK; j0 += AL_ELEM_LANES) {
				al_v16 g, fpv, xv, fv;
				memcpy(&g, dy + i0 + j0, sizeof g);
				memcpy(&fpv, fp + j0, sizeof fpv);
				memcpy(&xv, x + i0 + j0, sizeof xv);
				memcpy(&fv, f + j0, sizeof fv);
				const al_v16 gb = g * bv * fpv, dxv = gb * av;
				memcpy(dx + i0 + j0, &dxv, sizeof dxv);
				l0 += gb * xv;
				l1 += g * fv;
				l2 += gb;
				l3 += g;
			}
			float ln[4][AL_ELEM_LANES];
			memcpy(ln[0], &l0, sizeof l0);
			memcpy(ln[1], &l1, sizeof l1);
			memcpy(ln[2], &l2, sizeof l2);
			memcpy(ln[3], &l3, sizeof l3);
			for (int k = 0; k < 4; k++) {
				double sk = 0;
				for (int q = 0; q < AL_ELEM_LANES; q++)
					sk += (double)ln[k][q];
				acc[k] += sk;
			}
			continue;
		}
		if (s == 0) { /* shared parameters: block sums as in elem.h */
			const float av = pa[0], bv = pb[0];
			for (size_t i = 0; i < m; i++) {
				float g = dy[i0 + i], gb = g * bv * fp[i];
				dx[i0 + i] = gb * av;
				td[0][i] = gb * x[i0 + i];
				td[1][i] = g * f[i];
				td[2][i] = gb;
				td[3][i] = g;
			}
			for (int k = 0; k < 4; k++)
				acc[k] += al_elem_rowsum(td[k], m);
			continue;
		}
		for (size_t i = 0; i < m; i++) {
			float g = dy[i0 + i], av = pa[i * s], bv = pb[i * s];
			float gb = g * bv * fp[i];
			dx[i0 + i] = gb * av;
			float d[4] = {gb * x[i0 + i], g * f[i], gb, g};
			for (int k = 0; k < 4; k++)
				dp[k][(i0 + i) * s] += d[k];
		}
	}
	if (s == 0)
		for (int k = 0; k < 4; k++)
			dp[k][0] += (float)acc[k];
}

static double adaptive_ref(const double *h, const double *p, double x, double *dfdx, double *dfdp)
{
	double hb[AL_ACT_MAXH], fp;
	const al_act_desc *b = adaptive_base(h, hb);
	double u = p[0] * x + p[2];
	double f = b->ref(hb, NULL, u, &fp, NULL);
	*dfdx = p[0] * p[1] * fp;
	dfdp[0] = p[1] * fp * x;
	dfdp[1] = f;
	dfdp[2] = p[1] * fp;
	dfdp[3] = 1;
	return p[1] * f + p[3];
}

static int adaptive_kinks(const double *h, const double *p, double *out)
{
	double hb[AL_ACT_MAXH], k[8];
	const al_act_desc *b = adaptive_base(h, hb);
	if (!b->kinks || p[0] == 0)
		return 0;
	int n = b->kinks(hb, NULL, k);
	for (int i = 0; i < n; i++)
		out[i] = (k[i] - p[2]) / p[0];
	return n;
}

/* ---- hyper-dependent initial values --------------------------------------- */
/* arelu: (a, b, c, d) = (1, 0, 0, 0) is relu; compat=hu2022 starts at
 * (1, 1, 0, 0), the identity Hu et al.'s code starts from. */
static void arelu_init(const double *h, double *p)
{
	p[1] = h[0] != 0 ? 1.0 : 0.0;
}
/* method1/2: softmax thetas start at 0, ratio weights at 1 (both give 1/3);
 * method1's AReLU component follows compat like arelu. */
static void method2_init(const double *h, double *p)
{
	for (int r = 0; r < 3; r++)
		p[r] = h[0] == 1 ? 1.0 : 0.0;
}
static void method1_init(const double *h, double *p)
{
	method2_init(h, p);
	p[12] = h[4] != 0 ? 1.0 : 0.0;
}
/* ratio mode keeps its weights >= 1e-3 (SPEC 3.3); other modes are free */
static void method_project(const double *h, float *p, size_t groups, int P)
{
	if (h[0] != 1)
		return;
	for (size_t g = 0; g < groups; g++)
		for (int r = 0; r < 3; r++) {
			float *v = &p[g * (size_t)P + (size_t)r];
			*v = *v < 1e-3f ? 1e-3f : *v;
		}
}

/* ---- kinks -------------------------------------------------------------- */
static int kink_param0(const double *h, const double *p, double *out)
{
	out[0] = -p[0];
	return 1;
}
static int kink_pm_p0(const double *h, const double *p, double *out)
{
	out[0] = -p[0];
	out[1] = p[0];
	return 2;
}
static int kink_arelu(const double *h, const double *p, double *out)
{
	if (p[0] == p[1])
		return 0;
	out[0] = (p[3] - p[2]) / (p[0] - p[1]);
	return 1;
}
static int kink_method1(const double *h, const double *p, double *out)
{
	out[0] = 0;
	return kink_arelu(h, p + 11, out + 1) + 1;
}
static int kink_zero(const double *h, const double *p, double *out)
{
	out[0] = 0;
	return 1;
}
static int kink_relu6(const double *h, const double *p, double *out)
{
	out[0] = 0;
	out[1] = 6;
	return 2;
}
static int kink_h01(const double *h, const double *p, double *out)
{
	out[0] = h[0];
	out[1] = h[1];
	return 2;
}
static int kink_pm3(const double *h, const double *p, double *out)
{
	out[0] = -3;
	out[1] = 3;
	return 2;
}
static int kink_pm_h0(const double *h, const double *p, double *out)
{
	out[0] = -h[0];
	out[1] = h[0];
	return 2;
}
static int kink_softplus(const double *h, const double *p, double *out)
{
	out[0] = h[1] / h[0];
	return 1;
}

/* ---- the table ---------------------------------------------------------- */
#define NOPARAMS .nparams = 0

static const al_act_desc catalog[] = {
	{.name = "identity", .aliases = "linear", .kind = AL_ACT_ELEMENT, .family = "linear",
	 .formula = "x", .citation = "-", NOPARAMS, .check_lo = -3, .check_hi = 3,
	 AL_ELEM(identity)},
	{.name = "relu", .kind = AL_ACT_ELEMENT, .family = "relu", .formula = "max(0, x)",
	 .citation = "Nair & Hinton 2010", NOPARAMS, .check_lo = -3, .check_hi = 3,
	 .kinks = kink_zero, AL_ELEM(relu)},
	{.name = "leaky_relu", .aliases = "lrelu", .kind = AL_ACT_ELEMENT, .family = "relu",
	 .formula = "x if x > 0 else slope*x", .citation = "Maas et al. 2013",
	 .nhyper = 1, .hyper = {{"slope", 0.01, NULL, "negative-side slope"}}, NOPARAMS,
	 .check_lo = -3, .check_hi = 3, .kinks = kink_zero, AL_ELEM(leaky_relu)},
	{.name = "sigmoid", .aliases = "logistic", .kind = AL_ACT_ELEMENT, .family = "sigmoid",
	 .formula = "1 / (1 + exp(-x))", .citation = "-", NOPARAMS, .check_lo = -8,
	 .check_hi = 8, SIGMOID_KERNELS},
	{.name = "tanh", .kind = AL_ACT_ELEMENT, .family = "sigmoid", .formula = "tanh(x)",
	 .citation = "-", NOPARAMS, .check_lo = -5, .check_hi = 5, AL_ELEM(tanh)},
	{.name = "prelu", .kind = AL_ACT_ELEMENT, .family = "relu",
	 .formula = "x if x > 0 else alpha*x", .citation = "He et al. 2015 (PReLU)", .nparams = 1,
	 .params = {{"alpha", 0.25, 0, 0, "negative-side slope"}}, .default_per = AL_PER_CHANNEL,
	 .check_lo = -3, .check_hi = 3, .kinks = kink_zero, AL_ELEM(prelu)},
	{.name = "relu6", .kind = AL_ACT_ELEMENT, .family = "relu", .formula = "min(max(0, x), 6)",
	 .citation = "Krizhevsky 2010", NOPARAMS, .check_lo = -3, .check_hi = 9,
	 .kinks = kink_relu6, AL_ELEM(relu6)},
	{.name = "rrelu", .kind = AL_ACT_ELEMENT, .family = "relu",
	 .formula = "x if x > 0 else r*x; r ~ U(lower, upper) in training, (lower+upper)/2 in evaluation",
	 .citation = "Xu et al. 2015", .nhyper = 2,
	 .hyper = {{"lower", 0.125, NULL, "lower bound of the random slope"},
		   {"upper", 1.0 / 3.0, NULL, "upper bound of the random slope"}},
	 NOPARAMS, .check_lo = -3, .check_hi = 3, .kinks = kink_zero, .stochastic = 1,
	 AL_ELEM(rrelu)},
	{.name = "elu", .kind = AL_ACT_ELEMENT, .family = "exponential",
	 .formula = "x if x > 0 else alpha*(exp(x) - 1)", .citation = "Clevert et al. 2016",
	 .nhyper = 1, .hyper = {{"alpha", 1.0, NULL, "negative saturation"}}, NOPARAMS,
	 .check_lo = -5, .check_hi = 3, .kinks = kink_zero, AL_ELEM(elu)},
	{.name = "celu", .kind = AL_ACT_ELEMENT, .family = "exponential",
	 .formula = "max(0, x) + min(0, alpha*(exp(x/alpha) - 1))", .citation = "Barron 2017",
	 .nhyper = 1, .hyper = {{"alpha", 1.0, NULL, "negative saturation and scale"}}, NOPARAMS,
	 .check_lo = -5, .check_hi = 3, .kinks = kink_zero, AL_ELEM(celu)},
	{.name = "selu", .kind = AL_ACT_ELEMENT, .family = "exponential",
	 .formula = "lambda*(x if x > 0 else alpha*(exp(x) - 1)), lambda = 1.0507, alpha = 1.6733",
	 .citation = "Klambauer et al. 2017", NOPARAMS, .check_lo = -5, .check_hi = 3,
	 .kinks = kink_zero, AL_ELEM(selu)},
	{.name = "gelu", .kind = AL_ACT_ELEMENT, .family = "gated",
	 .formula = "x*Phi(x) = 0.5*x*(1 + erf(x/sqrt(2))); tanh: 0.5*x*(1 + tanh(sqrt(2/pi)*(x + 0.044715*x^3)))",
	 .citation = "Hendrycks & Gimpel 2016", .nhyper = 1,
	 .hyper = {{"approximate", 0, "none|tanh", "exact erf form or the tanh approximation"}},
	 NOPARAMS, .check_lo = -5, .check_hi = 5, AL_ELEM(gelu)},
	{.name = "silu", .aliases = "swish", .kind = AL_ACT_ELEMENT, .family = "gated",
	 .formula = "x*sigmoid(x)", .citation = "Elfwing et al. 2018; Ramachandran et al. 2017",
	 NOPARAMS, .check_lo = -8, .check_hi = 8, AL_ELEM(silu)},
	{.name = "mish", .kind = AL_ACT_ELEMENT, .family = "gated",
	 .formula = "x*tanh(softplus(x))", .citation = "Misra 2019", NOPARAMS, .check_lo = -8,
	 .check_hi = 8, AL_ELEM(mish)},
	{.name = "hardswish", .kind = AL_ACT_ELEMENT, .family = "gated",
	 .formula = "x*relu6(x + 3)/6", .citation = "Howard et al. 2019", NOPARAMS,
	 .check_lo = -5, .check_hi = 5, .kinks = kink_pm3, AL_ELEM(hardswish)},
	{.name = "hardsigmoid", .kind = AL_ACT_ELEMENT, .family = "sigmoid",
	 .formula = "relu6(x + 3)/6", .citation = "Howard et al. 2019", NOPARAMS, .check_lo = -5,
	 .check_hi = 5, .kinks = kink_pm3, AL_ELEM(hardsigmoid)},
	{.name = "hardtanh", .kind = AL_ACT_ELEMENT, .family = "sigmoid",
	 .formula = "clamp(x, min_val, max_val)", .citation = "Collobert 2004", .nhyper = 2,
	 .hyper = {{"min_val", -1.0, NULL, "lower clamp"}, {"max_val", 1.0, NULL, "upper clamp"}},
	 NOPARAMS, .check_lo = -3, .check_hi = 3, .kinks = kink_h01, AL_ELEM(hardtanh)},
	{.name = "softplus", .kind = AL_ACT_ELEMENT, .family = "relu",
	 .formula = "log(1 + exp(beta*x))/beta; x where beta*x > threshold",
	 .citation = "Dugas et al. 2001", .nhyper = 2,
	 .hyper = {{"beta", 1.0, NULL, "sharpness"},
		   {"threshold", 20.0, NULL, "linear above beta*x > threshold"}},
	 NOPARAMS, .check_lo = -8, .check_hi = 8, .kinks = kink_softplus, AL_ELEM(softplus)},
	{.name = "softsign", .kind = AL_ACT_ELEMENT, .family = "sigmoid", .formula = "x/(1 + |x|)",
	 .citation = "Turian et al. 2009", NOPARAMS, .check_lo = -5, .check_hi = 5,
	 .kinks = kink_zero, AL_ELEM(softsign)},
	{.name = "logsigmoid", .kind = AL_ACT_ELEMENT, .family = "sigmoid",
	 .formula = "log(sigmoid(x)) = -softplus(-x)", .citation = "-", NOPARAMS, .check_lo = -8,
	 .check_hi = 8, AL_ELEM(logsigmoid)},
	{.name = "tanhshrink", .kind = AL_ACT_ELEMENT, .family = "shrink",
	 .formula = "x - tanh(x)", .citation = "-", NOPARAMS, .check_lo = -5, .check_hi = 5,
	 AL_ELEM(tanhshrink)},
	{.name = "softshrink", .kind = AL_ACT_ELEMENT, .family = "shrink",
	 .formula = "x - lambda*sgn(x) if |x| > lambda else 0", .citation = "Donoho 1995",
	 .nhyper = 1, .hyper = {{"lambda", 0.5, NULL, "dead zone half-width"}}, NOPARAMS,
	 .check_lo = -3, .check_hi = 3, .kinks = kink_pm_h0, AL_ELEM(softshrink)},
	{.name = "hardshrink", .kind = AL_ACT_ELEMENT, .family = "shrink",
	 .formula = "x if |x| > lambda else 0", .citation = "-", .nhyper = 1,
	 .hyper = {{"lambda", 0.5, NULL, "dead zone half-width"}}, NOPARAMS, .check_lo = -3,
	 .check_hi = 3, .kinks = kink_pm_h0, AL_ELEM(hardshrink)},
	{.name = "sqrt", .kind = AL_ACT_ELEMENT, .family = "sqrt",
	 .formula = "sgn(x)*sqrt(|x|); derivative 1/(2 sqrt(max(|x|, 1e-6)))",
	 .citation = "Yang et al. 2018 (seed 004)", NOPARAMS, .check_lo = -3, .check_hi = 3,
	 .kinks = kink_zero, AL_ELEM(sqrt)},
	{.name = "tanhexp", .kind = AL_ACT_ELEMENT, .family = "gated",
	 .formula = "x*tanh(exp(x)); x beyond x = 20", .citation = "Liu & Di 2020 (seed 004)",
	 NOPARAMS, .check_lo = -6, .check_hi = 3, .fwd = tanhexp_fwd_st, .bwd = tanhexp_bwd_st,
	 .ref = tanhexp_ref},
	/* ---- trainable ---------------------------------------------------- */
	{.name = "frelu", .kind = AL_ACT_ELEMENT, .family = "relu",
	 .formula = "relu(x + delta) + eta", .citation = "Qiu et al. 2018 (seed 001)", .nhyper = 1,
	 .hyper = {{"hshift", 1, NULL, "1: delta (horizontal shift) trains; 0: fixed at its init"}},
	 .nparams = 2,
	 .params = {{"delta", 0, 0, 0, "horizontal shift"}, {"eta", 0, 0, 0, "vertical shift"}},
	 .check_lo = -3, .check_hi = 3, .kinks = kink_param0, AL_ELEM(frelu)},
	{.name = "agsig", .kind = AL_ACT_ELEMENT, .family = "sigmoid",
	 .formula = "alpha / (1 + exp(-beta*x))", .citation = "Hu 1992 (seed 001)", .nparams = 2,
	 .params = {{"alpha", 1, 0, 0, "amplitude"}, {"beta", 1, 0, 0, "slope"}},
	 .check_lo = -6, .check_hi = 6, AL_ELEM(agsig)},
	{.name = "swish_beta", .kind = AL_ACT_ELEMENT, .family = "gated",
	 .formula = "x*sigmoid(beta*x)", .citation = "Ramachandran et al. 2017 (seed 002 code)",
	 .nparams = 1, .params = {{"beta", 1, 0, 0, "gate sharpness"}}, .check_lo = -6,
	 .check_hi = 6, AL_ELEM(swish_beta)},
	{.name = "pelu", .kind = AL_ACT_ELEMENT, .family = "exponential",
	 .formula = "(a/b)*x if x >= 0 else a*(exp(x/b) - 1); a, b >= 0.1",
	 .citation = "Trottier et al. 2017 (seed 002)", .nparams = 2,
	 .params = {{"a", 1, 0.1, HUGE_VAL, "scale"}, {"b", 1, 0.1, HUGE_VAL, "exponential decay"}},
	 .check_lo = -5, .check_hi = 3, .kinks = kink_zero, AL_ELEM(pelu)},
	{.name = "asigmoid", .kind = AL_ACT_ELEMENT, .family = "adaptive",
	 .formula = "b*sigmoid(a*x + c) + d", .citation = "Hu et al. 2022 (seed 002)", .nparams = 4,
	 .params = {{"a", 1, 0, 0, "x-scale"}, {"b", 1, 0, 0, "y-scale"}, {"c", 0, 0, 0, "x-shift"},
		    {"d", 0, 0, 0, "y-shift"}},
	 .check_lo = -6, .check_hi = 6, AL_ELEM(asigmoid)},
	{.name = "atanh", .kind = AL_ACT_ELEMENT, .family = "adaptive",
	 .formula = "b*tanh(a*x + c) + d", .citation = "Hu et al. 2022 (seed 002)", .nparams = 4,
	 .params = {{"a", 1, 0, 0, "x-scale"}, {"b", 1, 0, 0, "y-scale"}, {"c", 0, 0, 0, "x-shift"},
		    {"d", 0, 0, 0, "y-shift"}},
	 .check_lo = -4, .check_hi = 4, AL_ELEM(atanh)},
	{.name = "arelu", .kind = AL_ACT_ELEMENT, .family = "adaptive",
	 .formula = "max(a*x + c, b*x + d); init relu (compat=hu2022: identity, a = b = 1)",
	 .citation = "Hu et al. 2022 (seed 002)", .nhyper = 1,
	 .hyper = {{"compat", 0, "paper|hu2022", "hu2022 starts from the identity like the reference code"}},
	 .nparams = 4,
	 .params = {{"a", 1, 0, 0, "slope of the first line"}, {"b", 0, 0, 0, "slope of the second line"},
		    {"c", 0, 0, 0, "offset of the first line"}, {"d", 0, 0, 0, "offset of the second line"}},
	 .check_lo = -3, .check_hi = 3, .kinks = kink_arelu, .init = arelu_init, AL_ELEM(arelu)},
	{.name = "adaptive", .kind = AL_ACT_ELEMENT, .family = "adaptive",
	 .formula = "b*f(a*x + c) + d around any parameter-free entry f (base=NAME)",
	 .citation = "Hu et al. 2022 (seed 002); seed 001's four-shift proposal", .nhyper = 1,
	 .hyper = {{"base", 1 /* catalog index of relu */, "@act", "the wrapped entry"}},
	 .nparams = 4,
	 .params = {{"a", 1, 0, 0, "x-scale"}, {"b", 1, 0, 0, "y-scale"}, {"c", 0, 0, 0, "x-shift"},
		    {"d", 0, 0, 0, "y-shift"}},
	 .check_lo = -3, .check_hi = 3, .kinks = adaptive_kinks, .fwd = adaptive_fwd,
	 .bwd = adaptive_bwd, .ref = adaptive_ref},
	{.name = "method1", .kind = AL_ACT_ELEMENT, .family = "blend",
	 .formula = "X*atanh(x) + Y*asigmoid(x) + Z*arelu(x); (X,Y,Z) = softmax(theta) | theta/sum | fixed",
	 .citation = "seed 002 (Method 1)", .nhyper = 5,
	 .hyper = {{"mode", 0, "softmax|ratio|fixed", "how theta becomes the weights X, Y, Z"},
		   {"wx", 1.0 / 3.0, NULL, "X in mode=fixed"}, {"wy", 1.0 / 3.0, NULL, "Y in mode=fixed"},
		   {"wz", 1.0 / 3.0, NULL, "Z in mode=fixed"},
		   {"compat", 0, "paper|hu2022", "AReLU component init (hu2022: identity)"}},
	 .nparams = 15,
	 .params = {{"theta1", 0, 0, 0, "weight of atanh"}, {"theta2", 0, 0, 0, "weight of asigmoid"},
		    {"theta3", 0, 0, 0, "weight of arelu"}, {"tanh_a", 1, 0, 0, ""}, {"tanh_b", 1, 0, 0, ""},
		    {"tanh_c", 0, 0, 0, ""}, {"tanh_d", 0, 0, 0, ""}, {"sigmoid_a", 1, 0, 0, ""},
		    {"sigmoid_b", 1, 0, 0, ""}, {"sigmoid_c", 0, 0, 0, ""}, {"sigmoid_d", 0, 0, 0, ""},
		    {"relu_a", 1, 0, 0, ""}, {"relu_b", 0, 0, 0, ""}, {"relu_c", 0, 0, 0, ""},
		    {"relu_d", 0, 0, 0, ""}},
	 .check_lo = -3, .check_hi = 3, .kinks = kink_method1, .init = method1_init,
	 .project = method_project, METHOD1_KERNELS},
	{.name = "method2", .kind = AL_ACT_ELEMENT, .family = "blend",
	 .formula = "X*tanh(x) + Y*sigmoid(x) + Z*relu(x); (X,Y,Z) = softmax(theta) | theta/sum | fixed",
	 .citation = "seed 002 (Method 2)", .nhyper = 4,
	 .hyper = {{"mode", 0, "softmax|ratio|fixed", "how theta becomes the weights X, Y, Z"},
		   {"wx", 1.0 / 3.0, NULL, "X in mode=fixed"}, {"wy", 1.0 / 3.0, NULL, "Y in mode=fixed"},
		   {"wz", 1.0 / 3.0, NULL, "Z in mode=fixed"}},
	 .nparams = 3,
	 .params = {{"theta1", 0, 0, 0, "weight of tanh"}, {"theta2", 0, 0, 0, "weight of sigmoid"},
		    {"theta3", 0, 0, 0, "weight of relu"}},
	 .check_lo = -3, .check_hi = 3, .kinks = kink_zero, .init = method2_init,
	 .project = method_project, AL_ELEM(method2)},
	{.name = "tleaky_relu", .kind = AL_ACT_ELEMENT, .family = "relu",
	 .formula = "x if x > 0 else z*x", .citation = "seed 004", .nparams = 1,
	 .params = {{"z", 0.01, 0, 0, "negative-side slope"}}, .check_lo = -3, .check_hi = 3,
	 .kinks = kink_zero, AL_ELEM(tleaky_relu)},
	{.name = "thardswish", .kind = AL_ACT_ELEMENT, .family = "gated",
	 .formula = "0 (x <= -z), x (x >= z), x*(x + z)/(2z) between; z >= 1e-3",
	 .citation = "seed 004", .nparams = 1,
	 .params = {{"z", 3, 1e-3, HUGE_VAL, "half-width of the transition (3: hardswish)"}},
	 .check_lo = -5, .check_hi = 5, .kinks = kink_pm_p0, AL_ELEM(thardswish)},
	{.name = "tgelu", .kind = AL_ACT_ELEMENT, .family = "gated",
	 .formula = "z*x*(1 + erf(x/w)); w >= 1e-3", .citation = "seed 004", .nparams = 2,
	 .params = {{"z", 0.5, 0, 0, "scale (1/2: gelu)"},
		    {"w", 1.4142135623730951, 1e-3, HUGE_VAL, "gate width (sqrt 2: gelu)"}},
	 .check_lo = -5, .check_hi = 5, AL_ELEM(tgelu)},
	{.name = "tselu", .kind = AL_ACT_ELEMENT, .family = "exponential",
	 .formula = "z*x if x >= 0 else z*w*(exp(x) - 1)", .citation = "seed 004", .nparams = 2,
	 .params = {{"z", 1.0507009873554805, 0, 0, "scale (selu's lambda)"},
		    {"w", 1.6732632423543772, 0, 0, "negative saturation (selu's alpha)"}},
	 .check_lo = -5, .check_hi = 3, .kinks = kink_zero, AL_ELEM(tselu)},
	{.name = "tsqrt", .kind = AL_ACT_ELEMENT, .family = "sqrt",
	 .formula = "sgn(x)*|x|^z; z >= 0.05", .citation = "seed 004", .nparams = 1,
	 .params = {{"z", 0.5, 0.05, HUGE_VAL, "exponent (1/2: sqrt)"}}, .check_lo = -3,
	 .check_hi = 3, .kinks = kink_zero, .fwd = tsqrt_fwd_st, .bwd = tsqrt_bwd_st,
	 .ref = tsqrt_ref},
	{.name = "tswish", .kind = AL_ACT_ELEMENT, .family = "gated",
	 .formula = "x/(1 + z^(-x)) = x*sigmoid(x*ln z); z >= 1e-3", .citation = "seed 004",
	 .nparams = 1, .params = {{"z", 2.718281828459045, 1e-3, HUGE_VAL, "base (e: swish)"}},
	 .check_lo = -6, .check_hi = 6, AL_ELEM(tswish)},
	{.name = "tsqrt_tanh", .kind = AL_ACT_ELEMENT, .family = "gated",
	 .formula = "x*tanh(exp(sgn(x)*|x|^k)); k >= 0.05 (k = 1: tanhexp)", .citation = "seed 004",
	 .nparams = 1, .params = {{"k", 0.5, 0.05, HUGE_VAL, "exponent (1: tanhexp)"}},
	 .check_lo = -3, .check_hi = 3, .kinks = kink_zero, .fwd = tsqrt_tanh_fwd_st,
	 .bwd = tsqrt_tanh_bwd_st, .ref = tsqrt_tanh_ref},
	/* ---- window-based activations (seed 000, SPEC 1; kernels in window.c) ---- */
	{.name = "nelu", .kind = AL_ACT_WINDOW, .family = "window",
	 .formula = "per k x k window: y_i = relu(x_i + lambda*S-), S- = sum of min(x_j, 0)",
	 .citation = "seed 000 (NeLU); reference batch_nelu", .nhyper = 6,
	 .hyper = {AL_WIN_HYPERS_COMMON, AL_WIN_HYPERS_LAMBDA}, NOPARAMS, AL_WIN_LAMBDA_HOOKS,
	 AL_WIN_KERNELS(nelu)},
	{.name = "pnelu", .aliases = "passive_nelu", .kind = AL_ACT_WINDOW, .family = "window",
	 .formula = "per window: y_i = [x_i > 0] (x_i + lambda*S-) (may be negative)",
	 .citation = "seed 000 (Passive NeLU); reference batch_passive_nelu", .nhyper = 6,
	 .hyper = {AL_WIN_HYPERS_COMMON, AL_WIN_HYPERS_LAMBDA}, NOPARAMS, AL_WIN_LAMBDA_HOOKS,
	 AL_WIN_KERNELS(pnelu)},
	{.name = "excitator", .kind = AL_ACT_WINDOW, .family = "window",
	 .formula = "per window, S+ = sum of max(x_j, 0): y_i = (1-lambda) x_i if x_i > 0, else "
		    "relu(x_i + lambda*S+); compat=ref: relu(x_i - lambda*max(x_i, 0) + lambda*S+) "
		    "for every element (the published runs)",
	 .citation = "seed 000 (Excitator, Figure 2); reference batch_accelerator", .nhyper = 7,
	 .hyper = {AL_WIN_HYPERS_COMMON, AL_WIN_HYPERS_LAMBDA,
		   {"compat", 0, "paper|ref",
		    "ref: the impact is added to every element, as batch_accelerator did"}},
	 NOPARAMS, AL_WIN_LAMBDA_HOOKS, AL_WIN_KERNELS(excitator)},
	{.name = "excitator_v2", .kind = AL_ACT_WINDOW, .family = "window",
	 .formula = "per window: y_i = (1-lambda) x_i if x_i > 0, else relu(x_i + lambda*S+/n0), "
		    "n0 = #{x_j <= 0} (mass-conserving)",
	 .citation = "seed 000 (Excitator v2, Table 2); reference batch_excitator_v2",
	 .nhyper = 6, .hyper = {AL_WIN_HYPERS_COMMON, AL_WIN_HYPERS_LAMBDA}, NOPARAMS,
	 AL_WIN_LAMBDA_HOOKS, AL_WIN_KERNELS(excitator_v2)},
	{.name = "inhibitor", .kind = AL_ACT_WINDOW, .family = "window",
	 .formula = "identical to nelu (SPEC 1.7: the reference's negatives always end at 0)",
	 .citation = "seed 000 (Inhibitor, Table 1); reference batch_inhibitor", .nhyper = 6,
	 .hyper = {AL_WIN_HYPERS_COMMON, AL_WIN_HYPERS_LAMBDA}, NOPARAMS, AL_WIN_LAMBDA_HOOKS,
	 AL_WIN_KERNELS(inhibitor)},
	{.name = "inhibitor_v2", .kind = AL_ACT_WINDOW, .family = "window",
	 .formula = "per window: y_i = [x_i >= 0] relu(x_i + lambda*S-/n+), n+ = #{x_j >= 0}; "
		    "compat=ref: nelu (the reference never uses n+)",
	 .citation = "seed 000 (Inhibitor v2, Table 2); reference batch_inhibitor_v2",
	 .nhyper = 7,
	 .hyper = {AL_WIN_HYPERS_COMMON, AL_WIN_HYPERS_LAMBDA,
		   {"compat", 0, "paper|ref", "ref: equal to nelu, as batch_inhibitor_v2 computed"}},
	 NOPARAMS, AL_WIN_LAMBDA_HOOKS, AL_WIN_KERNELS(inhibitor_v2)},
	{.name = "softmax_relu", .kind = AL_ACT_WINDOW, .family = "window",
	 .formula = "y_i = x_i [softmax(x)_i >= tau], softmax over the window (group=column: over "
		    "each column of the tile, as the reference); no gradient through the softmax",
	 .citation = "seed 000 (Softmax Threshold); reference batch_softmax_relu", .nhyper = 6,
	 .hyper = {AL_WIN_HYPERS_COMMON,
		   {"tau", 0.25, NULL, "threshold in [0, 1] on the softmax weight (uniform weight is 1/n)"},
		   {"group", 0, "window|column",
		    "softmax over the whole window, or over each column (reference)"}},
	 NOPARAMS, .check = al_win_check_softmax, AL_WIN_KERNELS(softmax_relu)},
	{.name = "max_relu", .kind = AL_ACT_WINDOW, .family = "window",
	 .formula = "y_i = x_i if x_i = max of the window and x_i > 0, else 0",
	 .citation = "seed 000 (MaxReLU); reference batch_max_relu", .nhyper = 5,
	 .hyper = {AL_WIN_HYPERS_COMMON,
		   {"ties", 0, "all|first",
		    "all: every element equal to the max passes (reference); first: row-major first"}},
	 NOPARAMS, .check = al_win_check_max, AL_WIN_KERNELS(max_relu)},
	{.name = "max", .kind = AL_ACT_WINDOW, .family = "window",
	 .formula = "y_i = x_i if x_i = max of the window, else 0 (any sign)",
	 .citation = "seed 000 (Max); reference batch_max", .nhyper = 5,
	 .hyper = {AL_WIN_HYPERS_COMMON,
		   {"ties", 0, "all|first",
		    "all: every element equal to the max passes (reference); first: row-major first"}},
	 NOPARAMS, .check = al_win_check_max, AL_WIN_KERNELS(max)},
	/* ---- learned-shape activations (seeds 001, 003; kernels in learned*.c) ---- */
	{.name = "adact", .family = "learned",
	 .formula = "linear interpolation of hinge values a_j at fixed hinges lo + j*(hi-lo)/(ns-1) "
		    "(0 is a hinge), linear extrapolation outside; init a_j = relu|leaky_relu(hinge)",
	 .citation = "seed 003 (AdAct PLA, SPEC 4.2)", .nhyper = 6,
	 .hyper = {{"ns", 9, NULL, "hinge count N_s"}, {"lo", -4, NULL, "first hinge"},
		   {"hi", 4, NULL, "last hinge"},
		   {"init", 0, "relu|leaky_relu", "initial hinge values phi(hinge)"},
		   {"slope", 0.01, NULL, "negative slope of init=leaky_relu"},
		   {"zero", 0, "hinge|any", "hinge: 0 must be a hinge (exact relu init); any: free grid"}},
	 NOPARAMS, .default_per = AL_PER_CHANNEL, .check_lo = -6, .check_hi = 6,
	 AL_LN_HOOKS(adact)},
	{.name = "apl", .family = "learned",
	 .formula = "max(0, x) + sum_s a_s max(0, -x + b_s); a ~ U(+-a_range/S), b ~ N(0, b_std^2)",
	 .citation = "Agostinelli et al. 2015 (cited by seed 003, SPEC 4.1)", .nhyper = 3,
	 .hyper = {{"S", 5, NULL, "hinge count"},
		   {"a_range", 0.5, NULL, "initial slopes a_s ~ U(-a_range/S, a_range/S)"},
		   {"b_std", 0.5, NULL, "initial hinges b_s ~ N(0, b_std^2)"}},
	 NOPARAMS, .default_per = AL_PER_NEURON, .check_lo = -3, .check_hi = 3,
	 AL_LN_HOOKS(apl)},
	{.name = "pau", .family = "learned",
	 .formula = "(a_0 + a_1 x + ... + a_m x^m) / (1 + |b_1 x + ... + b_n x^n|); init: least-squares "
		    "fit of the named entry on [fit_lo, fit_hi]",
	 .citation = "Molina et al. 2020 (Pade Activation Units)", .nhyper = 5,
	 .hyper = {{"m", 5, NULL, "numerator degree"}, {"n", 4, NULL, "denominator degree"},
		   {"init", 1 /* catalog index of relu */, "@act", "entry the coefficients are fitted to"},
		   {"fit_lo", -3, NULL, "fit range start"}, {"fit_hi", 3, NULL, "fit range end"}},
	 NOPARAMS, .default_per = AL_PER_LAYER, .check_lo = -3, .check_hi = 3, AL_LN_HOOKS(pau)},
	{.name = "vaf", .family = "learned",
	 .formula = "sum_j beta_j g(alpha_j x + gamma_j) + delta, j = 1..k; Glorot alpha, beta, zero "
		    "gamma, delta (init=relu: alpha_1 = beta_1 = 1, other beta 0: exactly g)",
	 .citation = "Apicella et al. 2019 (VAF, cited by seed 001, SPEC 2.1)", .nhyper = 3,
	 .hyper = {{"k", 5, NULL, "hidden units"},
		   {"g", 1 /* catalog index of relu */, "@act", "fixed inner activation"},
		   {"init", 0, "glorot|relu", "glorot: random; relu: starts as g"}},
	 NOPARAMS, .default_per = AL_PER_LAYER, .check_lo = -3, .check_hi = 3, AL_LN_HOOKS(vaf)},
	{.name = "bspline", .aliases = "kan", .family = "learned",
	 .formula = "wb*silu(x) + ws*sum_i c_i B_i(x), B_i of degree k on G intervals of [lo, hi] "
		    "extended by k knots each side; c ~ noise*U(-1/2, 1/2)/G, wb = ws = 1",
	 .citation = "Liu et al. 2024 (KAN)", .nhyper = 7,
	 .hyper = {{"G", 5, NULL, "grid intervals"}, {"k", 3, NULL, "spline degree"},
		   {"lo", -2, NULL, "grid start (moved by grid updates)"},
		   {"hi", 2, NULL, "grid end (moved by grid updates)"},
		   {"noise", 0.1, NULL, "scale of the random initial coefficients"},
		   {"update", 0, NULL,
		    "grid updates: at the end of each of the first N training epochs the grid "
		    "moves to the layer's observed input range and c is refitted to keep the "
		    "spline over the inputs (0: fixed grid)"},
		   {"trim", 0, NULL,
		    "fraction of the observed inputs an updated grid leaves outside each end"}},
	 NOPARAMS, .default_per = AL_PER_CHANNEL, .check_lo = -3, .check_hi = 3,
	 .n_state_hyper = 2, .state_hyper = {AL_BS_LO, AL_BS_HI},
	 .t_epoch_end = al_ln_bspline_epoch_end, AL_LN_HOOKS(bspline)},
	{.name = "meta", .family = "learned",
	 .formula = "per unit an MLP 1 -> H (x L layers, residual) -> 1 with g on every node: "
		    "h0 = g(x), h1 = g(W1 h0 + b1), hl = g(Wl h(l-1) + bl + h(l-1)) (post: "
		    "h(l-1) + g(Wl h(l-1) + bl)), y = g(v.hL + c); io=0: no g on input/output",
	 .citation = "seed 001 (meta-neurons, SPEC 2.2)", .nhyper = 5,
	 .hyper = {{"H", 5, NULL, "hidden width"}, {"L", 1, NULL, "hidden layers"},
		   {"g", 1 /* catalog index of relu */, "@act", "fixed activation of every node"},
		   {"residual", 0, "pre|post", "g after (pre) or before (post) the skip addition"},
		   {"io", 1, "0|1", "1: g on the input and output nodes too"}},
	 NOPARAMS, .default_per = AL_PER_NEURON, .check_lo = -3, .check_hi = 3,
	 AL_LN_HOOKS(meta)},
	{.name = "lut", .family = "learned",
	 .formula = "t_j for x in bin j of size equal bins over [lo, hi] (end bins extend to "
		    "-inf, +inf); piecewise constant; init: the identity at the bin centres",
	 .citation = "-", .nhyper = 3,
	 .hyper = {{"size", 64, NULL, "table entries"}, {"lo", -4, NULL, "table start"},
		   {"hi", 4, NULL, "table end"}},
	 NOPARAMS, .default_per = AL_PER_CHANNEL, .check_lo = -5, .check_hi = 5, AL_LN_HOOKS(lut)},
};

int al_act_count(void) { return (int)(sizeof catalog / sizeof *catalog); }

const al_act_desc *al_act_get(int i)
{
	return i >= 0 && i < al_act_count() ? &catalog[i] : NULL;
}

const al_act_desc *al_act_find(const char *name)
{
	size_t l = strlen(name);
	for (int i = 0; i < al_act_count(); i++) {
		const al_act_desc *d = &catalog[i];
		if (strcmp(d->name, name) == 0)
			return d;
		for (const char *a = d->aliases; a && *a;) {
			const char *e = strchr(a, ' ');
			size_t al = e ? (size_t)(e - a) : strlen(a);
			if (al == l && strncmp(a, name, l) == 0)
				return d;
			a = e ? e + 1 : NULL;
		}
	}
	return NULL;
}
