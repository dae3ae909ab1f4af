/* layers_pool.c — max pooling, average pooling and global average pooling
 * (NCHW), with PyTorch's semantics (floor output size, max-pool padding
 * acts as -inf, ties and NaN handled like PyTorch's CPU kernel: the first
 * maximum in row-major window order wins, a NaN always replaces).
 *
 * Every (image, channel) plane is independent, so OpenMP runs over planes
 * and each thread writes disjoint outputs: results never depend on the
 * thread count. Max pooling records the argmax of each output (an int32
 * index into the input plane) in scratch for backward.
 * Adaptive average and max pooling take the output size and use PyTorch's
 * window rule: output row o reads input rows [floor(o*H/OH),
 * ceil((o+1)*H/OH)), so windows may overlap and differ in size; they run
 * through the same per-window code as the fixed-size layers.
 * Not for: ceil_mode, learned (window) activations.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __AVX512F__
#include <immintrin.h>
#endif

#include "nn/layer.h"

#ifdef __AVX512F__
/* Masks of a 16-output step of the 2x2 pool with cnt = outputs left in the
 * row: mo the outputs, ml / mh the low / high 16 of the 2 * min(cnt, 16)
 * input columns of each row. */
static inline void pool2_masks(int cnt, __mmask16 *mo, __mmask16 *ml, __mmask16 *mh)
{
	cnt = cnt < 16 ? cnt : 16;
	*mo = (__mmask16)((1u << cnt) - 1u);
	*ml = (__mmask16)(2 * cnt >= 16 ? 0xffffu : (1u << (2 * cnt)) - 1u);
	*mh = (__mmask16)(2 * cnt <= 16 ? 0u : (1u << (2 * cnt - 16)) - 1u);
}
#endif

/* Below this many floats touched, a parallel region costs more than it
 * saves; running serially does not change any result. */
#define PAR_MIN 32768

typedef struct {
	int c, ih, iw, oh, ow;
	int k, s, p;
	int p1;          /* padding after (bottom/right); p before */
	int include_pad; /* avgpool: count_include_pad */
	/* window of output row o: input rows [hb[o], he[o]) (clipped to the
	 * input); likewise columns */
	int *hb, *he, *wb, *we;
} pool_cfg;

static void pool_free(al_layer *l)
{
	pool_cfg *c = l->priv;
	if (c) {
		free(c->hb);
		free(c->wb);
		free(c);
	}
	l->priv = NULL;
}

static al_status pool_setup1(al_layer *l, al_cfg_section *s, const char *what, int avg)
{
	pool_cfg *c = calloc(1, sizeof *c);
	if (!c)
		return al_err(AL_ENOMEM, "%s: out of memory", what);
	l->priv = c;
	if (l->nin != 1)
		return al_err(AL_EINVAL, "%s takes one input, got %d", what, l->nin);
	AL_TRY(al_cfg_int(s, "size", 0, 1, 1 << 16, &c->k));
	if (c->k == 0)
		return al_err(AL_EINVAL, "%s needs size = K (window)", what);
	AL_TRY(al_cfg_int(s, "stride", c->k, 1, 1 << 16, &c->s));
	/* pad = N, or pad = B,A: B before (top/left), A after (bottom/right),
	 * e.g. TensorFlow's 'SAME' pooling */
	const char *ps = al_cfg_str(s, "pad", "0");
	char *end;
	long pb = strtol(ps, &end, 10), pa = pb;
	if (end != ps && *end == ',') {
		const char *q = end + 1;
		pa = strtol(q, &end, 10);
		if (end == q)
			pa = -1;
	}
	if (end == ps || *end || pb < 0 || pa < 0 || pb > (1 << 16) || pa > (1 << 16))
		return al_err(AL_EINVAL, "%s: pad = '%s': expected N or B,A (before, after)", what,
			      ps);
	c->p = (int)pb;
	c->p1 = (int)pa;
	if (avg)
		AL_TRY(al_cfg_int(s, "count_include_pad", 1, 0, 1, &c->include_pad));
	if (c->p > c->k / 2 || c->p1 > c->k / 2)
		return al_err(AL_EINVAL, "%s: pad = %s is more than half the window size %d", what,
			      ps, c->k);
	c->c = l->in_c[0];
	c->ih = l->in_h[0];
	c->iw = l->in_w[0];
	int ph = c->ih + c->p + c->p1, pw = c->iw + c->p + c->p1;
	if (c->k > ph || c->k > pw)
		return al_err(AL_EINVAL, "%s: window %d larger than padded input %dx%d", what, c->k,
			      ph, pw);
	if ((long long)c->ih * c->iw >= (1LL << 31))
		return al_err(AL_ERANGE, "%s: input plane %dx%d is too large", what, c->ih, c->iw);
	c->oh = (ph - c->k) / c->s + 1;
	c->ow = (pw - c->k) / c->s + 1;
	c->hb = malloc(2 * (size_t)c->oh * sizeof(int));
	c->wb = malloc(2 * (size_t)c->ow * sizeof(int));
	if (!c->hb || !c->wb)
		return al_err(AL_ENOMEM, "%s: out of memory", what);
	c->he = c->hb + c->oh;
	c->we = c->wb + c->ow;
	for (int o = 0; o < c->oh; o++) {
		int b = o * c->s - c->p, e = b + c->k;
		c->hb[o] = b < 0 ? 0 : b;
		c->he[o] = e > c->ih ? c->ih : e;
	}
	for (int o = 0; o < c->ow; o++) {
		int b = o * c->s - c->p, e = b + c->k;
		c->wb[o] = b < 0 ? 0 : b;
		c->we[o] = e > c->iw ? c->iw : e;
	}
	l->out_c = c->c;
	l->out_h = c->oh;
	l->out_w = c->ow;
	return AL_OK;
}

/* The model does not free a layer whose setup failed: free priv here. */
static al_status pool_setup(al_layer *l, al_cfg_section *s, const char *what, int avg)
{
	al_status st = pool_setup1(l, s, what, avg);
	if (st != AL_OK)
		pool_free(l);
	return st;
}

/* ---- maxpool ------------------------------------------------------------ */
static al_status maxpool_setup(al_layer *l, al_cfg_section *s)
{
	return pool_setup(l, s, "maxpool", 0);
}

/* argmax indices: one int32 per output (int32 and float have the same size) */
static size_t maxpool_scratch(const al_layer *l, int n) { return (size_t)n * al_out_size(l); }

/* 2x2 stride 2 unpadded windows (LeNet, VGG): the window a b / d e is
 * reduced as sel(sel(a, b), sel(d, e)), where sel(m, v) takes v when
 * v > m or v is NaN; that equals the row-major scan a, b, d, e with the
 * same rule (first maximum wins, a NaN always replaces, so the last NaN
 * wins; -0 and +0 tie), written as compare masks and selects instead of
 * data-dependent branches: with relu, zeros and ties make such branches
 * predictable, with smooth activations they mispredict. Where AVX-512 is
 * available, 16 outputs of a row pair at a time with masked loads and
 * stores for the rest of the row (LeNet's rows have 14 and 5 outputs),
 * else the same selects per output. */
#define POOL2_SEL(m, i, v, iv)                                                                   \
	do {                                                                                     \
		const int t_ = (v) > (m) || (v) != (v);                                          \
		(m) = t_ ? (v) : (m);                                                            \
		(i) = t_ ? (iv) : (i);                                                           \
	} while (0)

static void maxpool2_plane(const pool_cfg *c, const float *restrict x, float *restrict y,
			   int32_t *restrict arg)
{
	const int iw = c->iw, ow = c->ow;
	for (int oy = 0; oy < c->oh; oy++) {
		const float *r0 = x + (size_t)(2 * oy) * (size_t)iw, *r1 = r0 + iw;
		float *yr = y + (size_t)oy * (size_t)ow;
		int32_t *ar = arg + (size_t)oy * (size_t)ow;
		const int32_t base = 2 * oy * iw;
#ifdef __AVX512F__
		const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24,
						     26, 28, 30);
		const __m512i od = _mm512_add_epi32(ev, _mm512_set1_epi32(1));
		const __m512i one = _mm512_set1_epi32(1), vw = _mm512_set1_epi32(iw);
		for (int ox = 0; ox < ow; ox += 16) {
			__mmask16 mo, ml, mh;
			pool2_masks(ow - ox, &mo, &ml, &mh);
			const float *p0 = r0 + 2 * ox, *p1 = r1 + 2 * ox;
			const __m512 l0 = _mm512_maskz_loadu_ps(ml, p0),
				     h0 = _mm512_maskz_loadu_ps(mh, p0 + 16);
			const __m512 l1 = _mm512_maskz_loadu_ps(ml, p1),
				     h1 = _mm512_maskz_loadu_ps(mh, p1 + 16);
			const __m512 a = _mm512_permutex2var_ps(l0, ev, h0),
				     b = _mm512_permutex2var_ps(l0, od, h0);
			const __m512 d = _mm512_permutex2var_ps(l1, ev, h1),
				     e = _mm512_permutex2var_ps(l1, od, h1);
			const __mmask16 kb = _mm512_cmp_ps_mask(b, a, _CMP_GT_OQ) |
					     _mm512_cmp_ps_mask(b, b, _CMP_UNORD_Q);
			const __mmask16 ke = _mm512_cmp_ps_mask(e, d, _CMP_GT_OQ) |
					     _mm512_cmp_ps_mask(e, e, _CMP_UNORD_Q);
			const __m512 m1 = _mm512_mask_blend_ps(kb, a, b),
				     m2 = _mm512_mask_blend_ps(ke, d, e);
			const __mmask16 k2 = _mm512_cmp_ps_mask(m2, m1, _CMP_GT_OQ) |
					     _mm512_cmp_ps_mask(m2, m2, _CMP_UNORD_Q);
			/* offsets in the window: 0, 1 (row 0), iw, iw + 1 (row 1) */
			const __m512i i1 = _mm512_maskz_mov_epi32(kb, one),
				      i2 = _mm512_mask_add_epi32(vw, ke, vw, one);
			const __m512i off = _mm512_mask_blend_epi32(k2, i1, i2);
			/* base + 2 (ox + lane) */
			const __m512i at = _mm512_add_epi32(_mm512_set1_epi32(base + 2 * ox), ev);
			_mm512_mask_storeu_ps(yr + ox, mo, _mm512_mask_blend_ps(k2, m1, m2));
			_mm512_mask_storeu_epi32(ar + ox, mo, _mm512_add_epi32(at, off));
		}
#else
		for (int ox = 0; ox < ow; ox++) {
			const int32_t j = base + 2 * ox;
			float m1 = r0[2 * ox], m2 = r1[2 * ox];
			int32_t i1 = j, i2 = j + iw;
			POOL2_SEL(m1, i1, r0[2 * ox + 1], j + 1);
			POOL2_SEL(m2, i2, r1[2 * ox + 1], j + iw + 1);
			POOL2_SEL(m1, i1, m2, i2);
			yr[ox] = m1;
			ar[ox] = i1;
		}
#endif
	}
}

/* x: (ih, iw) plane -> y: (oh, ow), arg: index into the plane. */
static void maxpool_plane(const pool_cfg *c, const float *restrict x, float *restrict y,
			  int32_t *restrict arg)
{
	const int iw = c->iw, ow = c->ow;
	if (c->k == 2 && c->s == 2 && c->p == 0 && c->p1 == 0) {
		maxpool2_plane(c, x, y, arg);
		return;
	}
	for (int oy = 0; oy < c->oh; oy++) {
		const int hb = c->hb[oy], he = c->he[oy];
		for (int ox = 0; ox < ow; ox++) {
			const int wb = c->wb[ox], we = c->we[ox];
			float m = -INFINITY;
			int32_t idx = hb * iw + wb;
			for (int h = hb; h < he; h++) {
				const float *r = x + (size_t)h * (size_t)iw;
				for (int w = wb; w < we; w++) {
					float v = r[w];
					if (v > m || v != v) {
						m = v;
						idx = h * iw + w;
					}
				}
			}
			y[(size_t)oy * (size_t)ow + (size_t)ox] = m;
			arg[(size_t)oy * (size_t)ow + (size_t)ox] = idx;
		}
	}
}

/* Backward of 2x2 stride 2 windows that tile the plane exactly (ih = 2 oh,
 * iw = 2 ow): every input belongs to one window, so each gets dy of its
 * window or 0, written once (no memset, no read-modify-write scatter). */
static void maxpool2_plane_backward(const pool_cfg *c, const float *restrict dy,
				    const int32_t *restrict arg, float *restrict dx)
{
	const int iw = c->iw, ow = c->ow;
	for (int oy = 0; oy < c->oh; oy++) {
		float *r0 = dx + (size_t)(2 * oy) * (size_t)iw, *r1 = r0 + iw;
		const float *g = dy + (size_t)oy * (size_t)ow;
		const int32_t *ar = arg + (size_t)oy * (size_t)ow;
		const int32_t base = 2 * oy * iw;
#ifdef __AVX512F__
		const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24,
						     26, 28, 30);
		/* interleave lanes: (lo half of a, b), (hi half of a, b) */
		const __m512i zl = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6,
						     22, 7, 23);
		const __m512i zh = _mm512_add_epi32(zl, _mm512_set1_epi32(8));
		const __m512i one = _mm512_set1_epi32(1), vw = _mm512_set1_epi32(iw);
		const __m512i vw1 = _mm512_add_epi32(vw, one);
		for (int ox = 0; ox < ow; ox += 16) {
			__mmask16 mo, ml, mh;
			pool2_masks(ow - ox, &mo, &ml, &mh);
			/* + 0: dy = -0 gives +0 as the memset-and-add path did */
			const __m512 gv = _mm512_add_ps(_mm512_maskz_loadu_ps(mo, g + ox),
							_mm512_setzero_ps());
			const __m512i off = _mm512_sub_epi32(
				_mm512_maskz_loadu_epi32(mo, ar + ox),
				_mm512_add_epi32(_mm512_set1_epi32(base + 2 * ox), ev));
			const __m512 a = _mm512_maskz_mov_ps(
				_mm512_cmpeq_epi32_mask(off, _mm512_setzero_si512()), gv);
			const __m512 b = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(off, one), gv);
			const __m512 d = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(off, vw), gv);
			const __m512 e = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(off, vw1), gv);
			float *p0 = r0 + 2 * ox, *p1 = r1 + 2 * ox;
			_mm512_mask_storeu_ps(p0, ml, _mm512_permutex2var_ps(a, zl, b));
			_mm512_mask_storeu_ps(p0 + 16, mh, _mm512_permutex2var_ps(a, zh, b));
			_mm512_mask_storeu_ps(p1, ml, _mm512_permutex2var_ps(d, zl, e));
			_mm512_mask_storeu_ps(p1 + 16, mh, _mm512_permutex2var_ps(d, zh, e));
		}
#else
		for (int ox = 0; ox < ow; ox++) {
			const int32_t off = ar[ox] - (base + 2 * ox);
			const float v = g[ox] + 0.0f; /* -0 -> +0 as memset-and-add */
			r0[2 * ox] = off == 0 ? v : 0.0f;
			r0[2 * ox + 1] = off == 1 ? v : 0.0f;
			r1[2 * ox] = off == iw ? v : 0.0f;
			r1[2 * ox + 1] = off == iw + 1 ? v : 0.0f;
		}
#endif
	}
}

static void maxpool_forward(al_layer *l, int n, int train)
{
	const pool_cfg *c = l->priv;
	const size_t in_pl = (size_t)c->ih * (size_t)c->iw, out_pl = (size_t)c->oh * (size_t)c->ow;
	const long planes = (long)n * c->c;
	const int par = (size_t)planes * in_pl >= PAR_MIN;
	int32_t *arg = (int32_t *)(void *)l->scratch;
#pragma omp parallel for schedule(static) if (par)
	for (long q = 0; q < planes; q++)
		maxpool_plane(c, l->x[0] + (size_t)q * in_pl, l->y + (size_t)q * out_pl,
			      arg + (size_t)q * out_pl);
}

static void maxpool_backward(al_layer *l, int n)
{
	const pool_cfg *c = l->priv;
	if (!l->dx[0])
		return;
	const size_t in_pl = (size_t)c->ih * (size_t)c->iw, out_pl = (size_t)c->oh * (size_t)c->ow;
	const long planes = (long)n * c->c;
	const int par = (size_t)planes * in_pl >= PAR_MIN;
	const int32_t *arg = (const int32_t *)(const void *)l->scratch;
	/* rows of fewer than 8 outputs (LeNet's second pool: 5) keep the
	 * memset and scatter below, which measured faster for them */
	const int tile2 = c->k == 2 && c->s == 2 && c->p == 0 && c->p1 == 0 &&
			  c->ih == 2 * c->oh && c->iw == 2 * c->ow && c->ow >= 8;
	/* overlapping windows (stride < size) may pick one input twice: += */
#pragma omp parallel for schedule(static) if (par)
	for (long q = 0; q < planes; q++) {
		float *dx = l->dx[0] + (size_t)q * in_pl;
		const float *dy = l->dy + (size_t)q * out_pl;
		const int32_t *a = arg + (size_t)q * out_pl;
		if (tile2) {
			maxpool2_plane_backward(c, dy, a, dx);
			continue;
		}
		memset(dx, 0, in_pl * sizeof(float));
		for (size_t j = 0; j < out_pl; j++)
			dx[a[j]] += dy[j];
	}
}

const al_layer_ops al_layer_maxpool = {
	.type = "maxpool",
	.doc = "max pooling: size = K, stride = K, pad = 0|N|B,A (at most K/2, acts as -inf); "
	       "ties go to the first element",
	.setup = maxpool_setup,
	.scratch = maxpool_scratch,
	.forward = maxpool_forward,
	.backward = maxpool_backward,
	.free = pool_free,
};

/* ---- avgpool ------------------------------------------------------------ */
static al_status avgpool_setup(al_layer *l, al_cfg_section *s)
{
	return pool_setup(l, s, "avgpool", 1);
}

/* Divisor of output (oy, ox): the window area including padding (always
 * K*K with floor output sizes) or only the part inside the input. Divided,
 * not multiplied by a reciprocal, to round like PyTorch. */
static inline float avg_div(const pool_cfg *c, int oy, int ox)
{
	int cnt = c->include_pad ? c->k * c->k
				 : (c->he[oy] - c->hb[oy]) * (c->we[ox] - c->wb[ox]);
	return (float)cnt;
}

static void avgpool_forward(al_layer *l, int n, int train)
{
	const pool_cfg *c = l->priv;
	const size_t in_pl = (size_t)c->ih * (size_t)c->iw, out_pl = (size_t)c->oh * (size_t)c->ow;
	const long planes = (long)n * c->c;
	const int par = (size_t)planes * in_pl >= PAR_MIN;
	const int iw = c->iw, ow = c->ow;
#pragma omp parallel for schedule(static) if (par)
	for (long q = 0; q < planes; q++) {
		const float *x = l->x[0] + (size_t)q * in_pl;
		float *y = l->y + (size_t)q * out_pl;
		for (int oy = 0; oy < c->oh; oy++)
			for (int ox = 0; ox < ow; ox++) {
				float sum = 0.0f;
				for (int h = c->hb[oy]; h < c->he[oy]; h++)
					for (int w = c->wb[ox]; w < c->we[ox]; w++)
						sum += x[(size_t)h * (size_t)iw + (size_t)w];
				y[(size_t)oy * (size_t)ow + (size_t)ox] = sum / avg_div(c, oy, ox);
			}
	}
}

static void avgpool_backward(al_layer *l, int n)
{
	const pool_cfg *c = l->priv;
	if (!l->dx[0])
		return;
	const size_t in_pl = (size_t)c->ih * (size_t)c->iw, out_pl = (size_t)c->oh * (size_t)c->ow;
	const long planes = (long)n * c->c;
	const int par = (size_t)planes * in_pl >= PAR_MIN;
	const int iw = c->iw, ow = c->ow;
#pragma omp parallel for schedule(static) if (par)
	for (long q = 0; q < planes; q++) {
		float *dx = l->dx[0] + (size_t)q * in_pl;
		const float *dy = l->dy + (size_t)q * out_pl;
		memset(dx, 0, in_pl * sizeof(float));
		for (int oy = 0; oy < c->oh; oy++)
			for (int ox = 0; ox < ow; ox++) {
				float g = dy[(size_t)oy * (size_t)ow + (size_t)ox] / avg_div(c, oy, ox);
				for (int h = c->hb[oy]; h < c->he[oy]; h++)
					for (int w = c->wb[ox]; w < c->we[ox]; w++)
						dx[(size_t)h * (size_t)iw + (size_t)w] += g;
			}
	}
}

const al_layer_ops al_layer_avgpool = {
	.type = "avgpool",
	.doc = "average pooling: size = K, stride = K, pad = 0|N|B,A (at most K/2), "
	       "count_include_pad = 1|0 (as in PyTorch)",
	.setup = avgpool_setup,
	.forward = avgpool_forward,
	.backward = avgpool_backward,
	.free = pool_free,
};

/* ---- gap: global average pooling (C, H, W) -> (C, 1, 1) ------------------ */
static al_status gap_setup(al_layer *l, al_cfg_section *s)
{
	if (l->nin != 1)
		return al_err(AL_EINVAL, "gap takes one input, got %d", l->nin);
	l->out_c = l->in_c[0];
	l->out_h = l->out_w = 1;
	return AL_OK;
}

static void gap_forward(al_layer *l, int n, int train)
{
	const size_t hw = (size_t)l->in_h[0] * (size_t)l->in_w[0];
	const long planes = (long)n * l->out_c;
	const int par = (size_t)planes * hw >= PAR_MIN;
	const float cnt = (float)hw;
#pragma omp parallel for schedule(static) if (par)
	for (long q = 0; q < planes; q++) {
		const float *x = l->x[0] + (size_t)q * hw;
		float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
		for (size_t j = 0; j < hw; j++)
			sum += x[j];
		l->y[q] = sum / cnt;
	}
}

static void gap_backward(al_layer *l, int n)
{
	if (!l->dx[0])
		return;
	const size_t hw = (size_t)l->in_h[0] * (size_t)l->in_w[0];
	const long planes = (long)n * l->out_c;
	const int par = (size_t)planes * hw >= PAR_MIN;
	const float cnt = (float)hw;
#pragma omp parallel for schedule(static) if (par)
	for (long q = 0; q < planes; q++) {
		float *dx = l->dx[0] + (size_t)q * hw, g = l->dy[q] / cnt;
		for (size_t j = 0; j < hw; j++)
			dx[j] = g;
	}
}

/* ---- adaptive_avgpool / adaptive_maxpool ------------------------------------ */
static al_status adaptive_setup1(al_layer *l, al_cfg_section *s, const char *what)
{
	pool_cfg *c = calloc(1, sizeof *c);
	if (!c)
		return al_err(AL_ENOMEM, "%s: out of memory", what);
	l->priv = c;
	if (l->nin != 1)
		return al_err(AL_EINVAL, "%s takes one input, got %d", what, l->nin);
	int out;
	AL_TRY(al_cfg_int(s, "out", 0, 1, 1 << 16, &out));
	AL_TRY(al_cfg_int(s, "out_h", out, 1, 1 << 16, &c->oh));
	AL_TRY(al_cfg_int(s, "out_w", out, 1, 1 << 16, &c->ow));
	if (c->oh == 0 || c->ow == 0)
		return al_err(AL_EINVAL, "%s needs out = N (output size; or out_h and out_w)", what);
	c->c = l->in_c[0];
	c->ih = l->in_h[0];
	c->iw = l->in_w[0];
	if ((long long)c->ih * c->iw >= (1LL << 31))
		return al_err(AL_ERANGE, "%s: input plane %dx%d is too large", what, c->ih, c->iw);
	/* k = 0 marks variable windows (no fixed-size fast path); the average
	 * divides by each window's own area */
	c->k = c->s = c->p = 0;
	c->include_pad = 0;
	c->hb = malloc(2 * (size_t)c->oh * sizeof(int));
	c->wb = malloc(2 * (size_t)c->ow * sizeof(int));
	if (!c->hb || !c->wb)
		return al_err(AL_ENOMEM, "%s: out of memory", what);
	c->he = c->hb + c->oh;
	c->we = c->wb + c->ow;
	/* PyTorch: start = floor(o*in/out), end = ceil((o+1)*in/out) */
	for (int o = 0; o < c->oh; o++) {
		c->hb[o] = (int)((long long)o * c->ih / c->oh);
		c->he[o] = (int)(((long long)(o + 1) * c->ih + c->oh - 1) / c->oh);
	}
	for (int o = 0; o < c->ow; o++) {
		c->wb[o] = (int)((long long)o * c->iw / c->ow);
		c->we[o] = (int)(((long long)(o + 1) * c->iw + c->ow - 1) / c->ow);
	}
	l->out_c = c->c;
	l->out_h = c->oh;
	l->out_w = c->ow;
	return AL_OK;
}

static al_status adaptive_avgpool_setup(al_layer *l, al_cfg_section *s)
{
	al_status st = adaptive_setup1(l, s, "adaptive_avgpool");
	if (st != AL_OK)
		pool_free(l);
	return st;
}

static al_status adaptive_maxpool_setup(al_layer *l, al_cfg_section *s)
{
	al_status st = adaptive_setup1(l, s, "adaptive_maxpool");
	if (st != AL_OK)
		pool_free(l);
	return st;
}

const al_layer_ops al_layer_adaptive_avgpool = {
	.type = "adaptive_avgpool",
	.doc = "adaptive average pooling to out = N (or out_h, out_w) with PyTorch's windows "
	       "[floor(o*H/OH), ceil((o+1)*H/OH))",
	.setup = adaptive_avgpool_setup,
	.forward = avgpool_forward,
	.backward = avgpool_backward,
	.free = pool_free,
};

const al_layer_ops al_layer_adaptive_maxpool = {
	.type = "adaptive_maxpool",
	.doc = "adaptive max pooling to out = N (or out_h, out_w) with PyTorch's windows "
	       "[floor(o*H/OH), ceil((o+1)*H/OH)); ties go to the first element",
	.setup = adaptive_maxpool_setup,
	.scratch = maxpool_scratch,
	.forward = maxpool_forward,
	.backward = maxpool_backward,
	.free = pool_free,
};

const al_layer_ops al_layer_gap = {
	.type = "gap",
	.doc = "global average pooling: (C, H, W) -> (C, 1, 1)",
	.setup = gap_setup,
	.forward = gap_forward,
	.backward = gap_backward,
};
