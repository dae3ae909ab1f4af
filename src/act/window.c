/* window.c — kernels of the window-based activations of seed 000 (SPEC.md
 * section 1): nelu, pnelu, excitator (compat=ref: the published
 * batch_accelerator), excitator_v2, inhibitor (= nelu), inhibitor_v2
 * (compat=ref = nelu), softmax_relu (group=window|column), max_relu and max
 * (ties=all|first), with partial or zero-padded edge tiles and an optional
 * trainable influence lambda.
 *
 * How. Every (sample, channel) plane (a dense input's feature row is a 1 x F
 * plane with 1 x kw windows) is cut into bands of kh rows. Three paths, each
 * a fused pass per window over x read in place (no unfold/fold copies, no
 * buffer beyond a few CWMAX-float stack arrays):
 *  - 8-column groups, for window widths 1, 2, 4, 8 (the common k = 2, 4):
 *    8 consecutive columns of a band hold whole windows, so the column
 *    statistics stay in one vector register per statistic, the per-window
 *    reduction is a butterfly of lane shuffles and outputs/gradients follow
 *    from the same registers (GCC vector extensions; vmaxps/vminps/vblendvps
 *    when AVX is on). For full bands of k = 2, 4 windows the row count is a
 *    compile-time constant and every row of x (and dy) is loaded once and
 *    kept in registers, dx stored once. A row that is not a multiple of 8
 *    ends with a group overlapping its neighbour (recomputing identical
 *    values; lambda gradients of the overlap are not counted twice); a
 *    partial window at the right edge goes to the chunk path.
 *    softmax_relu's full k = 2, 4 groups first decide their masks from a
 *    fast degree-3 exponential (relative error < 8.1e-5) and fall back to
 *    the exact computation (vexp_neg, 0.7 ulp) for a group in which some
 *    weight lies within a relative 3e-4 of tau (SMAX_FAST_MARGIN), or a
 *    NaN/inf appears: the masks are those of the exact computation either
 *    way (with the earlier margin 1e-3, about 0.5% of k = 4 groups and 1.4%
 *    of k = 2 groups of normal data took the fallback; 3e-4 cuts that 3x).
 *    With AVX-512 the full bands of k = 2, 4 (window and column groups,
 *    W >= 16) take 16-column groups (smax_fast16), the same masks (for
 *    tau >= 2^-30 from e^x without the group maximum, guarded against
 *    overflow and tiny sums: SMAX_NM_FLOOR); so do
 *    the full bands of the lambda entries (lam_bands16_*: same outputs and
 *    input gradients but for the sign of a zero gradient, the lambda
 *    gradient's lane partials summed in another order). Counts (n0, n+)
 *    divide as products with the correctly rounded reciprocal in every path
 *    (a table lookup on 16 lanes): no division per window statistic; the
 *    16-lane kernels also take lambda / divisor from a table scaled once, so
 *    excitator_v2 and inhibitor_v2 may differ there from the 8-lane and
 *    chunk paths in the last bit (all within the reference tolerance).
 *    max_relu and max keep 8 columns (16 measured no faster), but for rows
 *    of 28: 16-column groups in blocks of 4 rows stored as aligned vectors
 *    (rows28_store), as in the forwards of softmax_relu and of the lambda
 *    entries.
 *  - chunks, for other widths up to CW_NARROW: per chunk of at most CWMAX
 *    columns, per-column statistics over the band's rows, each window's value
 *    broadcast back to its columns, then the element pass (omp simd loops).
 *  - single windows, for wider windows and ties=first: scalar statistics,
 *    two passes over the window.
 * The backward of softmax_relu, max_relu and max reads the masks from the
 * forward's y (y_i = x_i keep_i) and recomputes them, the way the forward
 * did, only on planes holding an exact zero; the lambda entries recompute
 * their window statistics from x.
 *
 * Semantics: SPEC 1.1-1.11. Masks, counts and maxima are constants for the
 * gradient. Comparisons are written so that NaN takes the pass-through side:
 * a NaN input yields NaN outputs in its window. Edge tiles: edges=partial
 * uses only the real elements; edges=pad behaves as zero-padding the
 * bottom/right to a multiple of the window (the zeros count in n0/n+, can be
 * the maximum, take softmax mass), then cropping.
 *
 * Trainable lambda (learn=1): one value per group (per=layer|channel;
 * per=neuron = one per element, and dense per=channel = one per feature, where
 * lambda_i scales the impact element i receives). Values are read through a
 * clamp to [0, 1] and projected to [0, 1] after each optimizer step (the
 * rows' project hook); the gradient is the one at the clamped value. Threads: forward
 * over planes; backward over planes with one lambda partial per plane in
 * scratch summed in plane order, or, for per-element lambda, over
 * parameter-owning units with the samples in order. Results do not depend
 * on the thread count.
 *
 * Not for: parsing (act.c), the table rows (catalog.c), gradient checks
 * (tests/test_window.c holds the double reference).
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "act/window.h"
#include "math/vmath.h"
#ifdef __AVX__
#include <immintrin.h>
#endif

#if defined(__GNUC__) && !defined(__clang__)
/* 32-byte vectors in always-inline helpers: no ABI is crossed */
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

#define AL_INLINE static inline __attribute__((always_inline))
#define CWMAX 512    /* columns per chunk (floats per stack array) */
#define CW_NARROW 64 /* wider windows take the per-window path */
#define DENSE_CHUNK 256 /* features per unit for per-feature lambda gradients */

enum { OP_NELU, OP_INHV2, OP_PNELU, OP_EXC, OP_EXCV2, OP_EXCREF, OP_SMAX, OP_MAXR, OP_MAX };
/* How lambda is held: one constant for the plane (no gradient or a plane
 * partial), or one per element (its gradient accumulated in place). */
enum { LM_CONST, LM_LEARN, LM_ELEM };

typedef struct {
	int op;
	int H, W, C;  /* plane rows, columns; planes per sample (dense: 1, F, 1) */
	int dense;
	int kh, kw;   /* effective window */
	int pad;      /* edges=pad */
	int col;      /* softmax_relu group=column */
	int first;    /* ties=first */
	float tau;
} wcfg;

static int imin(int a, int b) { return a < b ? a : b; }

/* A window-size hyper as an int: values below 1 mean "unset" (0) */
static int hyper_int(double v)
{
	if (!(v >= 1))
		return 0;
	return v > 1e9 ? 1000000000 : (int)v;
}

static wcfg cfg_make(int op, const double *h, int c, int hh, int w)
{
	wcfg cf;
	memset(&cf, 0, sizeof cf);
	cf.op = op;
	cf.dense = hh == 1 && w == 1;
	cf.H = cf.dense ? 1 : hh;
	cf.W = cf.dense ? c : w;
	cf.C = cf.dense ? 1 : c;
	int k = hyper_int(h[AL_WIN_K]), kh = hyper_int(h[AL_WIN_KH]), kw = hyper_int(h[AL_WIN_KW]);
	if (k < 1)
		k = 1; /* k < 1 is not a window; treated as 1 */
	if (cf.dense) {
		cf.kh = 1;
		cf.kw = imin(kw ? kw : k, cf.W);
	} else if (!kh && !kw) {
		cf.kh = cf.kw = imin(k, imin(cf.H, cf.W)); /* the reference's square clamp */
	} else {
		cf.kh = imin(kh ? kh : k, cf.H);
		cf.kw = imin(kw ? kw : k, cf.W);
	}
	if (cf.kh < 1)
		cf.kh = 1;
	if (cf.kw < 1)
		cf.kw = 1;
	cf.pad = h[AL_WIN_EDGES] != 0;
	if (op == OP_SMAX) {
		cf.tau = (float)h[AL_WIN_TAU];
		cf.col = h[AL_WIN_GROUP] != 0;
	}
	if (op == OP_MAXR || op == OP_MAX)
		cf.first = h[AL_WIN_TIES] != 0;
	return cf;
}

void al_win_geometry(const double *h, int c, int hh, int w, int *H, int *W, int *C, int *kh,
		     int *kw)
{
	wcfg cf = cfg_make(OP_NELU, h, c, hh, w);
	*H = cf.H;
	*W = cf.W;
	*C = cf.C;
	*kh = cf.kh;
	*kw = cf.kw;
}

/* ---- element formulas of the lambda entries (SPEC 1.3-1.8) -------------- */
/* The window statistic I is S- (nelu, pnelu), S-/n+ (inhibitor_v2), S+
 * (excitator, compat=ref) or S+/n0 (excitator_v2). */
AL_INLINE float clamp01(float l) { return l < 0 ? 0.0f : (l > 1 ? 1.0f : l); }
AL_INLINE int src_pos(int op) { return op == OP_EXC || op == OP_EXCV2 || op == OP_EXCREF; }
AL_INLINE int has_cnt(int op) { return op == OP_INHV2 || op == OP_EXCV2; }

/* summed statistic: min(x, 0) or max(x, 0); NaN passes */
AL_INLINE float st_sum(int op, float x)
{
	return src_pos(op) ? (x < 0 ? 0.0f : x) : (x > 0 ? 0.0f : x);
}
/* counted statistic: [x >= 0] (n+) or [x <= 0] (n0) */
AL_INLINE float st_cnt(int op, float x)
{
	return op == OP_INHV2 ? (x < 0 ? 0.0f : 1.0f) : (x > 0 ? 0.0f : 1.0f);
}
/* divisor of a count statistic: count + phantom zeros, at least 1 */
AL_INLINE float cnt_div(float cnt, int z)
{
	float d = cnt + (float)z;
	return d < 1 ? 1.0f : d;
}
/* Its reciprocal: every path divides by the count as a product with the
 * correctly rounded 1/d (the 16-lane kernels look it up in a table, the
 * others compute it once per window), so all paths agree and a window
 * costs no division per statistic. */
AL_INLINE float cnt_rcp(float cnt, int z) { return 1.0f / cnt_div(cnt, z); }

AL_INLINE float relu_nan(float p) { return p <= 0 ? 0.0f : p; }

AL_INLINE float lam_fwd_el(int op, float x, float l, float I)
{
	switch (op) {
	case OP_PNELU: return x <= 0 ? 0.0f : x + l * I;
	case OP_EXC:
	case OP_EXCV2: {
		float n = relu_nan(x + l * I);
		return x > 0 ? (1 - l) * x : n;
	}
	case OP_EXCREF: {
		float xp = x > 0 ? x : 0.0f;
		return relu_nan(x - l * xp + l * I);
	}
	default: /* OP_NELU, OP_INHV2 */
		return relu_nan(x + l * I);
	}
}

/* Gradient pieces of element i: returns its own term of dx_i; *t is its
 * contribution lambda_i a_i g_i to the window sum T, *dl = g_i dy_i/dlambda_i. */
AL_INLINE float lam_bwd_el(int op, float x, float l, float I, float g, float *t, float *dl)
{
	switch (op) {
	case OP_PNELU: {
		float ag = x > 0 ? g : 0.0f;
		*t = l * ag;
		*dl = ag * I;
		return ag;
	}
	case OP_EXC:
	case OP_EXCV2: {
		int pos = x > 0;
		float ag = (!pos && x + l * I > 0) ? g : 0.0f;
		*t = l * ag;
		*dl = pos ? -x * g : ag * I;
		return pos ? (1 - l) * g : ag;
	}
	case OP_EXCREF: {
		float xp = x > 0 ? x : 0.0f;
		float ag = x - l * xp + l * I > 0 ? g : 0.0f;
		*t = l * ag;
		*dl = ag * (I - xp);
		return x > 0 ? (1 - l) * ag : ag;
	}
	default: { /* OP_NELU, OP_INHV2 */
		float ag = x + l * I > 0 ? g : 0.0f;
		*t = l * ag;
		*dl = ag * I;
		return ag;
	}
	}
}

/* whether x_j feeds the window statistic (receives T / divisor) */
AL_INLINE int src_el(int op, float x) { return src_pos(op) ? x > 0 : x < 0; }

/* ---- 8-column groups (windows of width 1, 2, 4, 8) ------------------------ */
/* The fast path: 8 consecutive columns of a band hold whole windows, so the
 * column statistics stay in registers and the per-window reduction is a
 * butterfly of lane shuffles. GCC vector extensions (any target; AVX2 here). */
#define VL 8
typedef float v8f __attribute__((vector_size(32)));
typedef int v8i __attribute__((vector_size(32)));

#if defined(__clang__)
#define SHUF(v, ...) __builtin_shufflevector(v, v, __VA_ARGS__)
#else
#define SHUF(v, ...) __builtin_shuffle(v, (v8i){__VA_ARGS__})
#endif

AL_INLINE v8f vload(const float *p)
{
	v8f v;
	memcpy(&v, p, sizeof v);
	return v;
}
AL_INLINE void vstore(float *p, v8f v) { memcpy(p, &v, sizeof v); }
/* A load that stays a plain load: GCC otherwise folds "m ? load : 0" into a
 * masked load (AVX-512), which cannot issue before the mask is computed and
 * puts the memory latency on every group's critical path (measured: the
 * excitator backward ran 3x slower). The empty asm only hides the value. */
AL_INLINE v8f vload_now(const float *p)
{
	v8f v = vload(p);
#if defined(__GNUC__) && defined(__AVX512F__)
	__asm__("" : "+v"(v));
#elif defined(__GNUC__) && defined(__AVX__)
	__asm__("" : "+x"(v));
#endif
	return v;
}

/* sums over aligned groups of kw lanes, broadcast to the group's lanes */
AL_INLINE v8f vgsum(v8f v, int kw)
{
	if (kw >= 2)
		v = v + SHUF(v, 1, 0, 3, 2, 5, 4, 7, 6);
	if (kw >= 4)
		v = v + SHUF(v, 2, 3, 0, 1, 6, 7, 4, 5);
	if (kw >= 8)
		v = v + SHUF(v, 4, 5, 6, 7, 0, 1, 2, 3);
	return v;
}

AL_INLINE v8f vb(float s) { return (v8f){s, s, s, s, s, s, s, s}; }
#define VZERO ((v8f){0, 0, 0, 0, 0, 0, 0, 0})
/* m ? a : b lane by lane (m: all-ones or all-zeros lanes of a comparison);
 * vmax2(a, b) = b > a ? b : a (a when either is NaN), which is vmaxps(b, a) */
#ifdef __AVX__
AL_INLINE v8f vsel(v8i m, v8f a, v8f b)
{
	return (v8f)_mm256_blendv_ps((__m256)b, (__m256)a, (__m256)m);
}
AL_INLINE v8f vmax2(v8f a, v8f b) { return (v8f)_mm256_max_ps((__m256)b, (__m256)a); }
#else
AL_INLINE v8f vsel(v8i m, v8f a, v8f b) { return (v8f)(((v8i)a & m) | ((v8i)b & ~m)); }
AL_INLINE v8f vmax2(v8f a, v8f b) { return vsel(b > a, b, a); }
#endif
/* m ? a : 0 */
AL_INLINE v8f vand(v8i m, v8f a) { return (v8f)((v8i)a & m); }

AL_INLINE v8f vgmax(v8f v, int kw)
{
	if (kw >= 2)
		v = vmax2(v, SHUF(v, 1, 0, 3, 2, 5, 4, 7, 6));
	if (kw >= 4)
		v = vmax2(v, SHUF(v, 2, 3, 0, 1, 6, 7, 4, 5));
	if (kw >= 8)
		v = vmax2(v, SHUF(v, 4, 5, 6, 7, 0, 1, 2, 3));
	return v;
}

/* The element formulas above, 8 lanes at a time (same operations, same
 * order, so the same results). */
AL_INLINE v8f vclamp01(v8f l) { return vsel(l < VZERO, VZERO, vsel(l > vb(1), vb(1), l)); }
#ifdef __AVX__
/* vmaxps/vminps return their second operand when either is NaN: one
 * instruction each for relu_nan (NaN kept) and the statistics (where a NaN
 * may be dropped: it still reaches the output through its own element). */
AL_INLINE v8f vrelu_nan(v8f p) { return _mm256_max_ps(VZERO, p); }
AL_INLINE v8f vst_sum(int op, v8f x)
{
	return src_pos(op) ? _mm256_max_ps(x, VZERO) : _mm256_min_ps(x, VZERO);
}
#else
AL_INLINE v8f vrelu_nan(v8f p) { return vsel(p <= VZERO, VZERO, p); }
AL_INLINE v8f vst_sum(int op, v8f x)
{
	return src_pos(op) ? vsel(x < VZERO, VZERO, x) : vsel(x > VZERO, VZERO, x);
}
#endif
/* elements not counted in n+ (x < 0, inhibitor_v2) or n0 (x > 0): -1 lanes */
AL_INLINE v8i vexcl(int op, v8f x) { return op == OP_INHV2 ? x < VZERO : x > VZERO; }
AL_INLINE v8i vsrc(int op, v8f x) { return src_pos(op) ? x > VZERO : x < VZERO; }

AL_INLINE v8f vlam_fwd(int op, v8f x, v8f l, v8f I)
{
	switch (op) {
	case OP_PNELU: return vsel(x <= VZERO, VZERO, x + l * I);
	case OP_EXC:
	case OP_EXCV2: return vsel(x > VZERO, (vb(1) - l) * x, vrelu_nan(x + l * I));
	case OP_EXCREF: {
		v8f xp = vand(x > VZERO, x);
		return vrelu_nan(x - l * xp + l * I);
	}
	default: return vrelu_nan(x + l * I);
	}
}

/* as lam_bwd_el, but *t = a_i g_i without the lambda_i factor */
AL_INLINE v8f vlam_bwd(int op, v8f x, v8f l, v8f I, v8f g, v8f *t, v8f *dl)
{
	switch (op) {
	case OP_PNELU: {
		v8f ag = vand(x > VZERO, g);
		*t = ag;
		*dl = ag * I;
		return ag;
	}
	case OP_EXC:
	case OP_EXCV2: {
		v8i pos = x > VZERO;
		v8f ag = vand(~pos & (x + l * I > VZERO), g);
		*t = ag;
		*dl = vsel(pos, -x * g, ag * I);
		return vsel(pos, (vb(1) - l) * g, ag);
	}
	case OP_EXCREF: {
		v8f xp = vand(x > VZERO, x);
		v8f ag = vand(x - l * xp + l * I > VZERO, g);
		*t = ag;
		*dl = ag * (I - xp);
		return vsel(x > VZERO, (vb(1) - l) * ag, ag);
	}
	default: {
		v8f ag = vand(x + l * I > VZERO, g);
		*t = ag;
		*dl = ag * I;
		return ag;
	}
	}
}

/* Window statistic I (and d = 1 / divisor) of the 8 columns of a band of hr rows;
 * z = padded zeros per window. */
AL_INLINE void lam_vg_stats(int op, int kw, int hr, int z, const float *restrict x, size_t ld,
			    v8f *I, v8f *d)
{
	/* counts: minus the number of elements left out of n+ (x < 0) or n0
	 * (x > 0), summed as comparison masks (-1 each) */
	v8f x0 = vload(x), A = vst_sum(op, x0);
	v8i C = vexcl(op, x0);
	for (int r = 1; r < hr; r++) {
		v8f xr = vload(x + (size_t)r * ld);
		A += vst_sum(op, xr);
		if (has_cnt(op))
			C += vexcl(op, xr);
	}
	A = vgsum(A, kw);
	*I = A;
	*d = vb(1);
	if (has_cnt(op)) {
		v8f B = vgsum(__builtin_convertvector(C, v8f), kw) + vb((float)(hr * kw + z));
		*d = vb(1) / vsel(B < vb(1), vb(1), B); /* 1 / divisor */
		*I = A * *d;
	}
}

AL_INLINE void lam_vg_fwd(int op, int lm, int kw, int hr, int z, const float *restrict x,
			  float *restrict y, const float *restrict lam, float l0, size_t ld)
{
	v8f I, d;
	lam_vg_stats(op, kw, hr, z, x, ld, &I, &d);
	const v8f l0v = vb(l0);
	for (int r = 0; r < hr; r++) {
		size_t o = (size_t)r * ld;
		v8f l = lm == LM_ELEM ? vclamp01(vload(lam + o)) : l0v;
		vstore(y + o, vlam_fwd(op, vload(x + o), l, I));
	}
}

/* dx of the group written; lambda gradient: LM_LEARN returns the lane
 * partials, LM_ELEM accumulates into dlam. Lanes below `from` were done by
 * an earlier group (the overlapping last group of a row): their lambda
 * gradient is not counted again. */
AL_INLINE v8f lam_vg_bwd(int op, int lm, int kw, int hr, int z, const float *restrict x,
			 const float *restrict dy, float *restrict dx, const float *restrict lam,
			 float l0, float *restrict dlam, size_t ld, int from)
{
	v8f I, d, T = VZERO, DL = VZERO;
	lam_vg_stats(op, kw, hr, z, x, ld, &I, &d);
	const v8f l0v = vb(l0);
	const v8i keep = (v8i){0, 1, 2, 3, 4, 5, 6, 7} >= (v8i){from, from, from, from, from, from, from, from};
	for (int r = 0; r < hr; r++) {
		size_t o = (size_t)r * ld;
		v8f l = lm == LM_ELEM ? vclamp01(vload(lam + o)) : l0v, t, dl;
		vstore(dx + o, vlam_bwd(op, vload(x + o), l, I, vload_now(dy + o), &t, &dl));
		T += lm == LM_ELEM ? l * t : t;
		if (lm == LM_ELEM)
			vstore(dlam + o, vload(dlam + o) + vand(keep, dl));
		else if (lm == LM_LEARN)
			DL += vand(keep, dl);
	}
	T = vgsum(T, kw);
	if (lm != LM_ELEM)
		T = l0v * T; /* a shared lambda multiplies the window sum once */
	if (has_cnt(op))
		T = T * d;
	for (int r = 0; r < hr; r++) {
		size_t o = (size_t)r * ld;
		vstore(dx + o, vload(dx + o) + vand(vsrc(op, vload(x + o)), T));
	}
	return DL;
}

/* The same group kernels for a compile-time row count KH (full bands of the
 * k = 2, 4 windows): every row of x (and dy) is loaded once and kept in
 * registers between the statistics and the element pass, dx is stored
 * once. Same operations in the same order as lam_vg_*, so the same
 * results. */
AL_INLINE void lam_vg_stats_r(int op, int kw, int KH, const v8f *xr, v8f *I, v8f *d)
{
	v8f A = vst_sum(op, xr[0]);
	v8i C = vexcl(op, xr[0]);
	for (int r = 1; r < KH; r++) {
		A += vst_sum(op, xr[r]);
		if (has_cnt(op))
			C += vexcl(op, xr[r]);
	}
	A = vgsum(A, kw);
	*I = A;
	*d = vb(1);
	if (has_cnt(op)) {
		v8f B = vgsum(__builtin_convertvector(C, v8f), kw) + vb((float)(KH * kw));
		*d = vb(1) / vsel(B < vb(1), vb(1), B); /* 1 / divisor */
		*I = A * *d;
	}
}

AL_INLINE void lam_vg_fwd_r(int op, int kw, int KH, const float *restrict x, float *restrict y,
			    float l0, size_t ld)
{
	v8f xr[8], I, d;
	for (int r = 0; r < KH; r++)
		xr[r] = vload(x + (size_t)r * ld);
	lam_vg_stats_r(op, kw, KH, xr, &I, &d);
	const v8f l = vb(l0);
	for (int r = 0; r < KH; r++)
		vstore(y + (size_t)r * ld, vlam_fwd(op, xr[r], l, I));
}

AL_INLINE v8f lam_vg_bwd_r(int op, int lm, int kw, int KH, const float *restrict x,
			   const float *restrict dy, float *restrict dx, float l0, size_t ld,
			   int from)
{
	v8f xr[8], own[8], I, d, T = VZERO, DL = VZERO;
	for (int r = 0; r < KH; r++)
		xr[r] = vload(x + (size_t)r * ld);
	lam_vg_stats_r(op, kw, KH, xr, &I, &d);
	const v8f l = vb(l0);
	const v8i keep = (v8i){0, 1, 2, 3, 4, 5, 6, 7} >= (v8i){from, from, from, from, from, from, from, from};
	for (int r = 0; r < KH; r++) {
		v8f t, dl;
		own[r] = vlam_bwd(op, xr[r], l, I, vload_now(dy + (size_t)r * ld), &t, &dl);
		T += t;
		if (lm == LM_LEARN)
			DL += vand(keep, dl);
	}
	T = l * vgsum(T, kw);
	if (has_cnt(op))
		T = T * d;
	for (int r = 0; r < KH; r++)
		vstore(dx + (size_t)r * ld, own[r] + vand(vsrc(op, xr[r]), T));
	return DL;
}

/* Full bands: nb bands of KH rows (KH = kw = 2 or 4, no padded zeros, a
 * shared lambda), row length W >= VL. Kept apart from the plane loops, in
 * functions of their own (lam_fast_*), so the column loop is a tight loop
 * with its pointers in registers; the last group of a row overlaps its
 * neighbour when Wf = W / kw * kw is not a multiple of VL. The groups are
 * the ones the plane loop would run, in the same order. */
AL_INLINE void lam_bands_fwd_r(int op, int kw, int KH, const float *x, float *y, float l0, int W,
			       int nb)
{
	const size_t ld = (size_t)W, bs = (size_t)KH * ld;
	const int last = W / kw * kw - VL;
	for (int b = 0; b < nb; b++, x += bs, y += bs) {
		for (int c = 0; c < last; c += VL)
			lam_vg_fwd_r(op, kw, KH, x + c, y + c, l0, ld);
		lam_vg_fwd_r(op, kw, KH, x + last, y + last, l0, ld);
	}
}

AL_INLINE v8f lam_bands_bwd_r(int op, int lm, int kw, int KH, const float *x, const float *dy,
			      float *dx, float l0, int W, int nb)
{
	const size_t ld = (size_t)W, bs = (size_t)KH * ld;
	const int last = W / kw * kw - VL, from = (last + VL - 1) / VL * VL - last;
	v8f DL = VZERO;
	for (int b = 0; b < nb; b++, x += bs, dy += bs, dx += bs) {
		for (int c = 0; c < last; c += VL)
			DL += lam_vg_bwd_r(op, lm, kw, KH, x + c, dy + c, dx + c, l0, ld, 0);
		DL += lam_vg_bwd_r(op, lm, kw, KH, x + last, dy + last, dx + last, l0, ld, from);
	}
	return DL;
}

#ifdef __AVX512F__
/* ---- 16-column groups (AVX-512) ------------------------------------------- */
/* The full-band kernels above on 16 columns per instruction: relu's kernel
 * streams 16-lane vectors, and on cores with 512-bit units (Zen 5) the
 * 8-lane window kernels were bound by their instruction count, not by
 * memory. Every lane runs the same operations in the same order as the
 * 8-lane code (the butterflies stay inside aligned groups of kw <= 4
 * lanes), so outputs and input gradients are the same; only the lambda
 * gradient's lane partials are summed in another order. */

/* max / sum over aligned groups of kw (1, 2, 4) lanes, broadcast */
AL_INLINE __m512 vgmax16(__m512 v, int kw)
{
	if (kw >= 2)
		v = _mm512_max_ps(_mm512_permute_ps(v, 0xB1), v);
	if (kw >= 4)
		v = _mm512_max_ps(_mm512_permute_ps(v, 0x4E), v);
	return v;
}
AL_INLINE __m512 vgsum16(__m512 v, int kw)
{
	if (kw >= 2)
		v = _mm512_add_ps(v, _mm512_permute_ps(v, 0xB1));
	if (kw >= 4)
		v = _mm512_add_ps(v, _mm512_permute_ps(v, 0x4E));
	return v;
}
/* A plain load, see vload_now; also keeps GCC from reloading x rows as
 * memory operands of later instructions (each a second cache-line split
 * load on rows that are not 64-byte aligned) instead of keeping them in
 * registers. */
AL_INLINE __m512 vload16_now(const float *p)
{
	__m512 v = _mm512_loadu_ps(p);
	__asm__("" : "+v"(v));
	return v;
}
#define Z16 _mm512_setzero_ps()
#define B16(s) _mm512_set1_ps(s)
#define GT16(a, b) _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ)
#define LT16(a, b) _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ)

/* vst_sum, vexcl, vsrc on 16 lanes (masks instead of all-ones lanes) */
AL_INLINE __m512 vst_sum16(int op, __m512 x)
{
	return src_pos(op) ? _mm512_max_ps(x, Z16) : _mm512_min_ps(x, Z16);
}
AL_INLINE __mmask16 vsrc16(int op, __m512 x) { return src_pos(op) ? GT16(x, Z16) : LT16(x, Z16); }
/* vexcl16 as 0 / 1 lanes, from s = vst_sum16(op, x) instead of x: s is
 * max(x, 0) (excitator_v2) or min(x, 0) (inhibitor_v2), +0 where x is a
 * zero of either sign or NaN (vmaxps / vminps return their second operand
 * there), so x > 0 exactly where s's bits are a positive integer and x < 0
 * exactly where s's sign bit is set: one integer operation instead of a
 * compare into a mask and a masked add */
AL_INLINE __m512i vexcl16_cnt(int op, __m512 s)
{
	__m512i b = _mm512_castps_si512(s);
	return op == OP_INHV2 ? _mm512_srli_epi32(b, 31) : _mm512_min_epu32(b, _mm512_set1_epi32(1));
}

/* vlam_fwd: lI = l * I (the product vlam_fwd forms) */
AL_INLINE __m512 vlam_fwd16(int op, __m512 x, __m512 l, __m512 lI)
{
	switch (op) {
	case OP_PNELU: /* x <= 0 ? 0 : x + l I */
		return _mm512_maskz_add_ps(_mm512_cmp_ps_mask(x, Z16, _CMP_NLE_UQ), x, lI);
	case OP_EXC:
	case OP_EXCV2:
		return _mm512_mask_mul_ps(_mm512_max_ps(Z16, _mm512_add_ps(x, lI)), GT16(x, Z16),
					  _mm512_sub_ps(B16(1), l), x);
	case OP_EXCREF: {
		__m512 xp = _mm512_maskz_mov_ps(GT16(x, Z16), x);
		return _mm512_max_ps(Z16, _mm512_add_ps(_mm512_sub_ps(x, _mm512_mul_ps(l, xp)), lI));
	}
	default: return _mm512_max_ps(Z16, _mm512_add_ps(x, lI));
	}
}

/* vlam_bwd on 16 lanes */
AL_INLINE __m512 vlam_bwd16(int op, __m512 x, __m512 l, __m512 I, __m512 lI, __m512 g, __m512 *t,
			    __m512 *dl)
{
	switch (op) {
	case OP_PNELU: {
		__m512 ag = _mm512_maskz_mov_ps(GT16(x, Z16), g);
		*t = ag;
		*dl = _mm512_mul_ps(ag, I);
		return ag;
	}
	case OP_EXC:
	case OP_EXCV2: {
		__mmask16 pos = GT16(x, Z16);
		__m512 ag = _mm512_maskz_mov_ps(_kandn_mask16(pos, GT16(_mm512_add_ps(x, lI), Z16)), g);
		*t = ag;
		*dl = _mm512_mask_mul_ps(_mm512_mul_ps(ag, I), pos,
					 _mm512_xor_ps(x, B16(-0.0f)), g);
		return _mm512_mask_mul_ps(ag, pos, _mm512_sub_ps(B16(1), l), g);
	}
	case OP_EXCREF: {
		__mmask16 pos = GT16(x, Z16);
		__m512 xp = _mm512_maskz_mov_ps(pos, x);
		__m512 p = _mm512_add_ps(_mm512_sub_ps(x, _mm512_mul_ps(l, xp)), lI);
		__m512 ag = _mm512_maskz_mov_ps(GT16(p, Z16), g);
		*t = ag;
		*dl = _mm512_mul_ps(ag, _mm512_sub_ps(I, xp));
		return _mm512_mask_mul_ps(ag, pos, _mm512_sub_ps(B16(1), l), ag);
	}
	default: {
		__m512 ag = _mm512_maskz_mov_ps(GT16(_mm512_add_ps(x, lI), Z16), g);
		*t = ag;
		*dl = _mm512_mul_ps(ag, I);
		return ag;
	}
	}
}

/* lam_vg_stats_r on 16 lanes. The count of elements left out (x < 0 for
 * n+, x > 0 for n0) is an integer in every order of summation, so
 * B = KH kw - excluded equals the 8-lane code's value. */
AL_INLINE void lam_stats16(int op, int kw, int KH, const __m512 *xr, float l0, __m512 *I,
			   __m512 *d, __m512 *lI, __m512 *ld)
{
	__m512 A = Z16;
	__m512i C = _mm512_setzero_si512();
	for (int r = 0; r < KH; r++) {
		__m512 s = vst_sum16(op, xr[r]);
		A = r ? _mm512_add_ps(A, s) : s;
		if (has_cnt(op))
			C = _mm512_add_epi32(C, vexcl16_cnt(op, s));
	}
	A = vgsum16(A, kw);
	*I = A;
	*d = B16(1);
	*ld = B16(l0);
	*lI = _mm512_mul_ps(*ld, A);
	if (has_cnt(op)) {
		/* 1 / max(B, 1) for the integer B = KH kw - excluded <= 16 from a
		 * table of the correctly rounded reciprocals: the value the other
		 * paths compute, without a division */
		const __m512 rcp = _mm512_setr_ps(1.0f, 1.0f / 2, 1.0f / 3, 1.0f / 4, 1.0f / 5,
						  1.0f / 6, 1.0f / 7, 1.0f / 8, 1.0f / 9, 1.0f / 10,
						  1.0f / 11, 1.0f / 12, 1.0f / 13, 1.0f / 14,
						  1.0f / 15, 1.0f / 16);
		if (kw >= 2)
			C = _mm512_add_epi32(C, _mm512_castps_si512(_mm512_permute_ps(
							_mm512_castsi512_ps(C), 0xB1)));
		if (kw >= 4)
			C = _mm512_add_epi32(C, _mm512_castps_si512(_mm512_permute_ps(
							_mm512_castsi512_ps(C), 0x4E)));
		/* index max(B, 1) - 1 */
		__m512i ix = _mm512_max_epi32(_mm512_sub_epi32(_mm512_set1_epi32(KH * kw - 1), C),
					      _mm512_setzero_si512());
		*d = _mm512_permutexvar_ps(ix, rcp);
		*I = _mm512_mul_ps(A, *d);
		/* lambda / divisor from a table scaled once (loop-invariant), so
		 * l I = A (l / d) and the backward's window term T (l / d) cost
		 * one product each; they may differ from the other paths' l (A / d)
		 * and (l T) / d in the last bit */
		*ld = _mm512_permutexvar_ps(ix, _mm512_mul_ps(B16(l0), rcp));
		*lI = _mm512_mul_ps(A, *ld);
	}
}

/* One 16-column group of KH rows held in registers: xr in, yr out */
AL_INLINE void lam_g16_fwd_v(int op, int kw, int KH, const __m512 *xr, __m512 *yr, float l0)
{
	__m512 I, d, lI, lq;
	lam_stats16(op, kw, KH, xr, l0, &I, &d, &lI, &lq);
	const __m512 l = B16(l0);
	for (int r = 0; r < KH; r++)
		yr[r] = vlam_fwd16(op, xr[r], l, lI);
}

AL_INLINE void lam_g16_fwd(int op, int kw, int KH, const float *restrict x, float *restrict y,
			   float l0, size_t ld)
{
	__m512 xr[4], yr[4];
	for (int r = 0; r < KH; r++)
		xr[r] = vload16_now(x + (size_t)r * ld);
	lam_g16_fwd_v(op, kw, KH, xr, yr, l0);
	for (int r = 0; r < KH; r++)
		_mm512_storeu_ps(y + (size_t)r * ld, yr[r]);
}

/* keep: lanes whose lambda gradient counts (not done by an earlier group) */
AL_INLINE __m512 lam_g16_bwd(int op, int lm, int kw, int KH, const float *restrict x,
			     const float *restrict dy, float *restrict dx, float l0, size_t ld,
			     __mmask16 keep)
{
	__m512 xr[4], own[4], I, d, T = Z16, DL = Z16;
	for (int r = 0; r < KH; r++)
		xr[r] = vload16_now(x + (size_t)r * ld);
	__m512 lI, lq;
	lam_stats16(op, kw, KH, xr, l0, &I, &d, &lI, &lq);
	const __m512 l = B16(l0);
	for (int r = 0; r < KH; r++) {
		__m512 t, dl;
		own[r] = vlam_bwd16(op, xr[r], l, I, lI, vload16_now(dy + (size_t)r * ld), &t, &dl);
		T = _mm512_add_ps(T, t);
		if (lm == LM_LEARN)
			DL = _mm512_add_ps(DL, _mm512_maskz_mov_ps(keep, dl));
	}
	T = has_cnt(op) ? _mm512_mul_ps(vgsum16(T, kw), lq) : _mm512_mul_ps(l, vgsum16(T, kw));
	/* src ? own + T : own, one masked add (the 8-lane code adds 0 to the
	 * other lanes: the same values but for the sign of a zero) */
	for (int r = 0; r < KH; r++)
		_mm512_storeu_ps(dx + (size_t)r * ld,
				 _mm512_mask_add_ps(own[r], vsrc16(op, xr[r]), own[r], T));
	return DL;
}

/* Two adjacent 16-column groups, x read row by row in address order (both
 * 64-byte halves of each row piece before the next row). For nelu and
 * pnelu (the cheapest, memory-bound forwards) this ran faster than two
 * lam_g16_fwd calls on [64,32,32,32] (1 thread, same-run ratio to relu:
 * nelu 1.09-1.17 -> 0.84-1.07, pnelu 1.14 -> 0.94-0.95); excitator
 * (0.96 -> 1.36 in window_bench) and inhibitor_v2 (1.01 -> 1.22) ran slower
 * and keep single groups. Same groups, same operations. */
AL_INLINE void lam_g16x2_fwd(int op, int kw, int KH, const float *restrict x, float *restrict y,
			     float l0, size_t ld)
{
	__m512 xr[4], xs[4], I, d, J, e;
	for (int r = 0; r < KH; r++) {
		xr[r] = vload16_now(x + (size_t)r * ld);
		xs[r] = vload16_now(x + (size_t)r * ld + 16);
	}
	__m512 lI, lJ, lq, le;
	lam_stats16(op, kw, KH, xr, l0, &I, &d, &lI, &lq);
	lam_stats16(op, kw, KH, xs, l0, &J, &e, &lJ, &le);
	const __m512 l = B16(l0);
	for (int r = 0; r < KH; r++) {
		_mm512_storeu_ps(y + (size_t)r * ld, vlam_fwd16(op, xr[r], l, lI));
		_mm512_storeu_ps(y + (size_t)r * ld + 16, vlam_fwd16(op, xs[r], l, lJ));
	}
}

/* Full bands in 16-column groups (W / kw * kw >= 16), the last group of a
 * row overlapping its neighbour; the windows and their order are those of
 * lam_bands_*_r. */
AL_INLINE void lam_bands16_fwd(int op, int kw, int KH, const float *x, float *y, float l0, int W,
			       int nb)
{
	const size_t ld = (size_t)W, bs = (size_t)KH * ld;
	const int last = W / kw * kw - 16;
	if ((op == OP_NELU || op == OP_PNELU) && (last + 16) % 32 == 0) { /* pairs cover the row */
		for (int b = 0; b < nb; b++, x += bs, y += bs)
			for (int c = 0; c < last; c += 32)
				lam_g16x2_fwd(op, kw, KH, x + c, y + c, l0, ld);
		return;
	}
	for (int b = 0; b < nb; b++, x += bs, y += bs) {
		for (int c = 0; c < last; c += 16)
			lam_g16_fwd(op, kw, KH, x + c, y + c, l0, ld);
		lam_g16_fwd(op, kw, KH, x + last, y + last, l0, ld);
	}
}

AL_INLINE __m512 lam_bands16_bwd(int op, int lm, int kw, int KH, const float *x, const float *dy,
				 float *dx, float l0, int W, int nb)
{
	const size_t ld = (size_t)W, bs = (size_t)KH * ld;
	const int last = W / kw * kw - 16, from = (last + 15) / 16 * 16 - last;
	const __mmask16 klast = (__mmask16)(0xffffu << from);
	__m512 DL = Z16;
	for (int b = 0; b < nb; b++, x += bs, dy += bs, dx += bs) {
		for (int c = 0; c < last; c += 16)
			DL = _mm512_add_ps(DL, lam_g16_bwd(op, lm, kw, KH, x + c, dy + c, dx + c, l0,
							   ld, 0xffff));
		DL = _mm512_add_ps(DL, lam_g16_bwd(op, lm, kw, KH, x + last, dy + last, dx + last,
						   l0, ld, klast));
	}
	return DL;
}

/* ---- rows of 28 columns, 4 rows at a time (AVX-512) ---------------------- */
/* A row of 28 floats is two overlapping 16-column groups (cols 0-15 and
 * 12-27), and rows start at byte offsets 112 r, so most of the 16-float
 * stores of those groups split a cache line. 4 rows are 112 floats, 7 whole
 * 64-byte vectors when the plane starts 64-byte aligned (a 28 x 28 plane
 * is 49 vectors, so every plane of an aligned tensor does): the forwards
 * below compute the 8 row groups of such a block as before (loaded row by
 * row; cutting them out of 7 aligned loads with valignd measured no faster,
 * and slower in the backward, whose compares already load the shuffle
 * port), put the 7 output vectors together from them (cols 12-15 are
 * computed by both groups, identically; 3 valignd and 2 vpermt2ps) and
 * store 7 aligned vectors instead of 8 split ones. Same groups, same
 * operations, same outputs. Measured (docs/benchmarks.md): forward 0.8-0.95x
 * the 16-column groups for nelu, pnelu, excitator (compat=ref too) and
 * softmax_relu on [64,6,28,28]; for the counting entries (excitator_v2,
 * inhibitor_v2) it measured nothing under passive thread waiting, where the
 * wake-up swamps a 30 us call, but with spinning threads (OMP_WAIT_POLICY=
 * active, 2026-12-06 third session) their forwards went from 1.16-1.46x
 * relu to 0.95-1.18x, and they use it too. Every backward keeps the groups
 * (the same join measured 0.96-1.04x there). max_relu and max, 8-column groups elsewhere, take 16-column
 * groups in these blocks, forward and backward (max_bands28: 0.80-0.85x
 * and 0.89-0.94x the 8-column bands). Only W = 28 (the 28 x 28 maps of
 * LeNet-style nets); other widths 16 < W < 32 need other shuffles and were
 * not measured. */
#define ALR16(hi, lo, s)                                                                   \
	_mm512_castsi512_ps(_mm512_alignr_epi32(_mm512_castps_si512(hi), _mm512_castps_si512(lo), s))

/* the rows' groups of a block of 4 rows at x: h[r] = cols 0-15, t[r] =
 * cols 12-27 of row r */
AL_INLINE void rows28_load(const float *x, __m512 *h, __m512 *t)
{
	for (int r = 0; r < 4; r++) {
		h[r] = vload16_now(x + 28 * r);
		t[r] = vload16_now(x + 28 * r + 12);
	}
}

/* floats 0-111 of a block of 4 rows from the rows' groups h, t (as
 * rows28_load's; cols 12-15 taken from h), stored as 7 aligned vectors at y */
AL_INLINE void rows28_store(const __m512 *h, const __m512 *t, float *y)
{
	__m512 O[7];
	const __m512i i2 = _mm512_setr_epi32(4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 20, 21, 22, 23);
	const __m512i i4 = _mm512_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15, 20, 21, 22, 23, 24, 25, 26, 27);
	O[0] = h[0];
	O[1] = ALR16(h[1], t[0], 4);
	O[2] = _mm512_permutex2var_ps(h[1], i2, t[1]);
	O[3] = ALR16(h[2], t[1], 8);
	O[4] = _mm512_permutex2var_ps(h[2], i4, t[2]);
	O[5] = ALR16(h[3], t[2], 12);
	O[6] = t[3];
	for (int i = 0; i < 7; i++)
		_mm512_store_ps(y + 16 * i, O[i]);
}

/* lam_bands16_fwd for W = 28 and a 64-byte aligned y: nb bands of KH (2, 4)
 * rows in blocks of 4 rows; with KH = 2 and nb odd the last band by the
 * 16-column groups */
AL_INLINE void lam_bands28_fwd(int op, int kw, int KH, const float *x, float *y, float l0, int nb)
{
	const int nblk = nb * KH / 4;
	for (int b = 0; b < nblk; b++, x += 112, y += 112) {
		__m512 h[4], t[4], hy[4], ty[4];
		rows28_load(x, h, t);
		for (int r0 = 0; r0 < 4; r0 += KH) {
			lam_g16_fwd_v(op, kw, KH, h + r0, hy + r0, l0);
			lam_g16_fwd_v(op, kw, KH, t + r0, ty + r0, l0);
		}
		rows28_store(hy, ty, y);
	}
	if (nblk * 4 < nb * KH)
		lam_bands16_fwd(op, kw, KH, x, y, l0, 28, 1);
}
#endif

#define LAM_OPS(X) X(OP_NELU) X(OP_INHV2) X(OP_PNELU) X(OP_EXC) X(OP_EXCV2) X(OP_EXCREF)

static __attribute__((noinline)) void lam_fast_fwd(int op, int kw, const float *x, float *y,
						   float l0, int W, int nb)
{
#ifdef __AVX512F__
	/* rows of 28 in blocks of 4 (see rows28_store): an aligned y */
	const int blk28 = W == 28 && ((uintptr_t)y & 63) == 0;
#define CASE(OP)                                                                          \
	case OP:                                                                          \
		if (W / kw * kw < 16 && kw == 2)                                          \
			lam_bands_fwd_r(OP, 2, 2, x, y, l0, W, nb);                       \
		else if (W / kw * kw < 16)                                                \
			lam_bands_fwd_r(OP, 4, 4, x, y, l0, W, nb);                       \
		else if (blk28 && kw == 2)                                                \
			lam_bands28_fwd(OP, 2, 2, x, y, l0, nb);                          \
		else if (blk28)                                                           \
			lam_bands28_fwd(OP, 4, 4, x, y, l0, nb);                          \
		else if (kw == 2)                                                         \
			lam_bands16_fwd(OP, 2, 2, x, y, l0, W, nb);                       \
		else                                                                      \
			lam_bands16_fwd(OP, 4, 4, x, y, l0, W, nb);                       \
		break;
#else
#define CASE(OP)                                                                          \
	case OP:                                                                          \
		if (kw == 2)                                                              \
			lam_bands_fwd_r(OP, 2, 2, x, y, l0, W, nb);                       \
		else                                                                      \
			lam_bands_fwd_r(OP, 4, 4, x, y, l0, W, nb);                       \
		break;
#endif
	switch (op) { LAM_OPS(CASE) }
#undef CASE
}

/* lm: LM_CONST or LM_LEARN; *DL receives the lambda-gradient lane partials */
static __attribute__((noinline)) void lam_fast_bwd(int op, int lm, int kw, const float *x,
						   const float *dy, float *dx, float l0, int W,
						   int nb, v8f *DL)
{
#ifdef __AVX512F__
	if (W / kw * kw >= 16) {
		/* the 16 lane partials folded to 8 */
#define KWS16(OP, LM)                                                                     \
	(kw == 2 ? lam_bands16_bwd(OP, LM, 2, 2, x, dy, dx, l0, W, nb)                    \
		 : lam_bands16_bwd(OP, LM, 4, 4, x, dy, dx, l0, W, nb))
#define CASE(OP)                                                                          \
	case OP:                                                                          \
		D = lm == LM_LEARN ? KWS16(OP, LM_LEARN) : KWS16(OP, LM_CONST);           \
		break;
		__m512 D = Z16;
		switch (op) { LAM_OPS(CASE) }
#undef CASE
#undef KWS16
		*DL = (v8f)_mm256_add_ps(_mm512_castps512_ps256(D), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(D), 1)));
		return;
	}
#endif
#define KWS(OP, LM)                                                                       \
	(kw == 2 ? lam_bands_bwd_r(OP, LM, 2, 2, x, dy, dx, l0, W, nb)                    \
		 : lam_bands_bwd_r(OP, LM, 4, 4, x, dy, dx, l0, W, nb))
#define CASE(OP)                                                                          \
	case OP:                                                                          \
		*DL = lm == LM_LEARN ? KWS(OP, LM_LEARN) : KWS(OP, LM_CONST);             \
		break;
	switch (op) { LAM_OPS(CASE) }
#undef CASE
#undef KWS
}

/* ---- lambda entries: chunk path -------------------------------------------- */
/* Per-column sums over hr rows: cA statistic, cB count. */
AL_INLINE void lam_cols(int op, const float *restrict x, size_t ld, int hr, int wc,
			float *restrict cA, float *restrict cB)
{
	for (int j = 0; j < wc; j++) {
		cA[j] = st_sum(op, x[j]);
		if (has_cnt(op))
			cB[j] = st_cnt(op, x[j]);
	}
	for (int r = 1; r < hr; r++) {
		const float *restrict xr = x + (size_t)r * ld;
		for (int j = 0; j < wc; j++) {
			cA[j] += st_sum(op, xr[j]);
			if (has_cnt(op))
				cB[j] += st_cnt(op, xr[j]);
		}
	}
}

/* Window values: wI[j] = I, wD[j] = 1 / divisor (count ops) for the window of
 * column j. zfull = kh*kw in pad mode (phantom zeros = zfull - hr*wn). */
AL_INLINE void lam_wins(int op, int kw, int zfull, int hr, int wc, const float *restrict cA,
			const float *restrict cB, float *restrict wI, float *restrict wD)
{
	int nfull = wc / kw, j0 = 0;
	for (int q = 0; q < nfull; q++, j0 += kw) {
		float A = 0, B = 0;
		for (int j = 0; j < kw; j++) {
			A += cA[j0 + j];
			if (has_cnt(op))
				B += cB[j0 + j];
		}
		float I = A, d = 1;
		if (has_cnt(op)) {
			d = cnt_rcp(B, zfull ? zfull - hr * kw : 0);
			I = A * d;
		}
		for (int j = 0; j < kw; j++) {
			wI[j0 + j] = I;
			if (has_cnt(op))
				wD[j0 + j] = d;
		}
	}
	if (j0 < wc) { /* the plane's right edge */
		int wn = wc - j0;
		float A = 0, B = 0;
		for (int j = 0; j < wn; j++) {
			A += cA[j0 + j];
			if (has_cnt(op))
				B += cB[j0 + j];
		}
		float I = A, d = 1;
		if (has_cnt(op)) {
			d = cnt_rcp(B, zfull ? zfull - hr * wn : 0);
			I = A * d;
		}
		for (int j = 0; j < wn; j++) {
			wI[j0 + j] = I;
			if (has_cnt(op))
				wD[j0 + j] = d;
		}
	}
}

/* Window sums of cT (T divided by the count for count ops) into wT. */
AL_INLINE void lam_wins_T(int op, int kw, int wc, const float *restrict cT,
			  const float *restrict wD, float *restrict wT)
{
	for (int j0 = 0; j0 < wc; j0 += kw) {
		int wn = imin(kw, wc - j0);
		float T = 0;
		for (int j = 0; j < wn; j++)
			T += cT[j0 + j];
		if (has_cnt(op))
			T = T * wD[j0];
		for (int j = 0; j < wn; j++)
			wT[j0 + j] = T;
	}
}

/* x, y: band of hr rows x wc columns, row stride ld; lam: the band's lambda
 * (LM_ELEM: same layout as x) or unused (l0). */
AL_INLINE void lam_band_fwd(int op, int lm, int kw, int zfull, const float *restrict x,
			    float *restrict y, const float *restrict lam, float l0, size_t ld,
			    int hr, int wc)
{
	float cA[CWMAX], cB[CWMAX], wI[CWMAX], wD[CWMAX];
	if (wc < 1 || hr < 1)
		__builtin_unreachable();
	lam_cols(op, x, ld, hr, wc, cA, cB);
	lam_wins(op, kw, zfull, hr, wc, cA, cB, wI, wD);
	for (int r = 0; r < hr; r++) {
		const float *restrict xr = x + (size_t)r * ld;
		const float *restrict lr = lam + (lm == LM_ELEM ? (size_t)r * ld : 0);
		float *restrict yr = y + (size_t)r * ld;
#pragma omp simd
		for (int j = 0; j < wc; j++)
			yr[j] = lam_fwd_el(op, xr[j], lm == LM_ELEM ? clamp01(lr[j]) : l0, wI[j]);
	}
}

/* Returns the band's lambda-gradient sum (LM_LEARN); LM_ELEM accumulates
 * into dlam (layout of x). dx is written. */
AL_INLINE double lam_band_bwd(int op, int lm, int kw, int zfull, const float *restrict x,
			     const float *restrict dy, float *restrict dx, const float *restrict lam,
			     float l0, float *restrict dlam, size_t ld, int hr, int wc)
{
	float cA[CWMAX], cB[CWMAX], wI[CWMAX], wD[CWMAX];
	if (wc < 1 || hr < 1)
		__builtin_unreachable();
	lam_cols(op, x, ld, hr, wc, cA, cB);
	lam_wins(op, kw, zfull, hr, wc, cA, cB, wI, wD);
	for (int j = 0; j < wc; j++)
		cA[j] = 0;
	double dls = 0; /* a sum of many signed terms: double, like the reference */
	for (int r = 0; r < hr; r++) {
		size_t o = (size_t)r * ld;
		const float *restrict xr = x + o, *restrict gr = dy + o;
		const float *restrict lr = lam + (lm == LM_ELEM ? o : 0);
		float *restrict dlr = dlam + (lm == LM_ELEM ? o : 0);
#pragma omp simd reduction(+ : dls)
		for (int j = 0; j < wc; j++) {
			float t, d;
			float l = lm == LM_ELEM ? clamp01(lr[j]) : l0;
			(void)lam_bwd_el(op, xr[j], l, wI[j], gr[j], &t, &d);
			cA[j] += t;
			if (lm == LM_ELEM)
				dlr[j] += d;
			else if (lm == LM_LEARN)
				dls += (double)d;
		}
	}
	/* dx = own term + the window's T, the own term recomputed (the same
	 * operations) rather than stored in the first pass and read back: a
	 * vector load of values just stored by a scalar remainder loop stalls on
	 * store forwarding */
	lam_wins_T(op, kw, wc, cA, wD, cB);
	for (int r = 0; r < hr; r++) {
		size_t o = (size_t)r * ld;
		const float *restrict xr = x + o, *restrict gr = dy + o;
		const float *restrict lr = lam + (lm == LM_ELEM ? o : 0);
		float *restrict dxr = dx + o;
#pragma omp simd
		for (int j = 0; j < wc; j++) {
			float t, d;
			float l = lm == LM_ELEM ? clamp01(lr[j]) : l0;
			float own = lam_bwd_el(op, xr[j], l, wI[j], gr[j], &t, &d);
			dxr[j] = own + (src_el(op, xr[j]) ? cB[j] : 0.0f);
		}
	}
	return dls;
}

/* ---- lambda entries: per-window path (wide windows) ---------------------- */
AL_INLINE void lam_win_stats(int op, const float *restrict x, size_t ld, int hr, int wn, int z,
			     float *I, float *d)
{
	float A = 0, B = 0;
	for (int r = 0; r < hr; r++) {
		const float *restrict xr = x + (size_t)r * ld;
		float a = 0, b = 0;
#pragma omp simd reduction(+ : a, b)
		for (int j = 0; j < wn; j++) {
			a += st_sum(op, xr[j]);
			if (has_cnt(op))
				b += st_cnt(op, xr[j]);
		}
		A += a;
		B += b;
	}
	*I = A;
	*d = 1;
	if (has_cnt(op)) {
		*d = cnt_rcp(B, z);
		*I = A * *d;
	}
}

AL_INLINE void lam_win_fwd(int op, int lm, int z, const float *restrict x, float *restrict y,
			   const float *restrict lam, float l0, size_t ld, int hr, int wn)
{
	float I, d;
	lam_win_stats(op, x, ld, hr, wn, z, &I, &d);
	for (int r = 0; r < hr; r++) {
		size_t o = (size_t)r * ld;
		const float *restrict xr = x + o;
		const float *restrict lr = lam + (lm == LM_ELEM ? o : 0);
		float *restrict yr = y + o;
#pragma omp simd
		for (int j = 0; j < wn; j++)
			yr[j] = lam_fwd_el(op, xr[j], lm == LM_ELEM ? clamp01(lr[j]) : l0, I);
	}
}

AL_INLINE double lam_win_bwd(int op, int lm, int z, const float *restrict x,
			    const float *restrict dy, float *restrict dx, const float *restrict lam,
			    float l0, float *restrict dlam, size_t ld, int hr, int wn)
{
	float I, d;
	lam_win_stats(op, x, ld, hr, wn, z, &I, &d);
	float T = 0;
	double dls = 0;
	for (int r = 0; r < hr; r++) {
		size_t o = (size_t)r * ld;
		const float *restrict xr = x + o, *restrict gr = dy + o;
		const float *restrict lr = lam + (lm == LM_ELEM ? o : 0);
		float *restrict dlr = dlam + (lm == LM_ELEM ? o : 0);
		float *restrict dxr = dx + o;
		float tr = 0;
#pragma omp simd reduction(+ : tr, dls)
		for (int j = 0; j < wn; j++) {
			float t, dd;
			float l = lm == LM_ELEM ? clamp01(lr[j]) : l0;
			dxr[j] = lam_bwd_el(op, xr[j], l, I, gr[j], &t, &dd);
			tr += t;
			if (lm == LM_ELEM)
				dlr[j] += dd;
			else if (lm == LM_LEARN)
				dls += (double)dd;
		}
		T += tr;
	}
	if (has_cnt(op))
		T = T * d;
	for (int r = 0; r < hr; r++) {
		size_t o = (size_t)r * ld;
		const float *restrict xr = x + o;
		float *restrict dxr = dx + o;
#pragma omp simd
		for (int j = 0; j < wn; j++)
			dxr[j] += src_el(op, xr[j]) ? T : 0.0f;
	}
	return dls;
}

/* ---- lambda entries: planes ------------------------------------------------ */
/* Whether the 8-column group path applies: windows of width 1, 2, 4 or 8
 * and a row of at least 8 columns. */
static int use_groups(int kw, int W) { return kw <= VL && VL % kw == 0 && W >= VL; }

/* kwc: the window width as a compile-time constant (2, 3, 4) or 0 (cf->kw). */
AL_INLINE void lam_plane_fwd(int op, int lm, int kwc, const wcfg *cf, const float *x, float *y,
			     const float *lam, float l0)
{
	const int H = cf->H, W = cf->W, kh = cf->kh, kw = kwc ? kwc : cf->kw;
	const int zfull = cf->pad ? kh * kw : 0;
	const size_t ld = (size_t)W;
	if (use_groups(kw, W)) {
		/* full windows in 8-column groups (the last one overlapping its
		 * neighbour when the row is not a multiple of 8), then the partial
		 * window at the right edge */
		const int Wf = W / kw * kw;
		int r0 = 0;
		if ((kwc == 2 || kwc == 4) && kh == kwc && lm != LM_ELEM) {
			/* full bands (no padded zeros in them), then their right edges */
			const int nb = H / kh;
			lam_fast_fwd(op, kw, x, y, l0, W, nb);
			for (; Wf < W && r0 < nb * kh; r0 += kh) {
				size_t o = (size_t)r0 * ld + (size_t)Wf;
				lam_band_fwd(op, lm, kw, zfull, x + o, y + o, lam, l0, ld, kh, W - Wf);
			}
			r0 = nb * kh;
		}
		for (; r0 < H; r0 += kh) {
			int hr = imin(kh, H - r0), z = zfull ? zfull - hr * kw : 0;
			size_t o0 = (size_t)r0 * ld;
			for (int c0 = 0; c0 < Wf; c0 += VL) {
				int c = c0 + VL <= Wf ? c0 : Wf - VL;
				size_t o = o0 + (size_t)c;
				const float *lp = lam + (lm == LM_ELEM ? o : 0);
				if ((kwc == 2 || kwc == 4) && hr == kwc)
					lam_vg_fwd(op, lm, kw, kwc, z, x + o, y + o, lp, l0, ld);
				else
					lam_vg_fwd(op, lm, kw, hr, z, x + o, y + o, lp, l0, ld);
			}
			if (Wf < W)
				lam_band_fwd(op, lm, kw, zfull, x + o0 + Wf, y + o0 + Wf,
					     lam + (lm == LM_ELEM ? o0 + Wf : 0), l0, ld, hr, W - Wf);
		}
		return;
	}
	if (kw <= CW_NARROW) {
		const int CW = CWMAX / kw * kw;
		for (int r0 = 0; r0 < H; r0 += kh) {
			int hr = imin(kh, H - r0);
			for (int c0 = 0; c0 < W; c0 += CW) {
				size_t o = (size_t)r0 * ld + (size_t)c0;
				lam_band_fwd(op, lm, kw, zfull, x + o, y + o,
					     lam + (lm == LM_ELEM ? o : 0), l0, ld, hr, imin(CW, W - c0));
			}
		}
		return;
	}
	for (int r0 = 0; r0 < H; r0 += kh) {
		int hr = imin(kh, H - r0);
		for (int c0 = 0; c0 < W; c0 += kw) {
			int wn = imin(kw, W - c0);
			size_t o = (size_t)r0 * ld + (size_t)c0;
			lam_win_fwd(op, lm, zfull ? zfull - hr * wn : 0, x + o, y + o,
				    lam + (lm == LM_ELEM ? o : 0), l0, ld, hr, wn);
		}
	}
}

AL_INLINE double lam_plane_bwd(int op, int lm, int kwc, const wcfg *cf, const float *x,
			       const float *dy, float *dx, const float *lam, float l0, float *dlam)
{
	const int H = cf->H, W = cf->W, kh = cf->kh, kw = kwc ? kwc : cf->kw;
	const int zfull = cf->pad ? kh * kw : 0;
	const size_t ld = (size_t)W;
	double dl = 0;
	if (use_groups(kw, W)) {
		const int Wf = W / kw * kw;
		v8f DL = {0};
		int r0 = 0;
		if ((kwc == 2 || kwc == 4) && kh == kwc && lm != LM_ELEM) {
			/* full bands, then their right edges: the lambda partials are
			 * summed in the order of the band loop below (groups in DL,
			 * edges in dl) */
			const int nb = H / kh;
			lam_fast_bwd(op, lm, kw, x, dy, dx, l0, W, nb, &DL);
			for (; Wf < W && r0 < nb * kh; r0 += kh) {
				size_t o = (size_t)r0 * ld + (size_t)Wf;
				dl += (double)lam_band_bwd(op, lm, kw, zfull, x + o, dy + o, dx + o, lam,
							   l0, dlam, ld, kh, W - Wf);
			}
			r0 = nb * kh;
		}
		for (; r0 < H; r0 += kh) {
			int hr = imin(kh, H - r0), z = zfull ? zfull - hr * kw : 0;
			size_t o0 = (size_t)r0 * ld;
			for (int c0 = 0; c0 < Wf; c0 += VL) {
				int c = c0 + VL <= Wf ? c0 : Wf - VL, from = c0 - c;
				size_t o = o0 + (size_t)c, e = lm == LM_ELEM ? o : 0;
				if ((kwc == 2 || kwc == 4) && hr == kwc)
					DL += lam_vg_bwd(op, lm, kw, kwc, z, x + o, dy + o, dx + o, lam + e,
							 l0, dlam + e, ld, from);
				else
					DL += lam_vg_bwd(op, lm, kw, hr, z, x + o, dy + o, dx + o, lam + e,
							 l0, dlam + e, ld, from);
			}
			if (Wf < W) {
				size_t o = o0 + (size_t)Wf, e = lm == LM_ELEM ? o : 0;
				dl += (double)lam_band_bwd(op, lm, kw, zfull, x + o, dy + o, dx + o,
							   lam + e, l0, dlam + e, ld, hr, W - Wf);
			}
		}
		for (int u = 0; u < VL; u++)
			dl += (double)DL[u];
		return dl;
	}
	if (kw <= CW_NARROW) {
		const int CW = CWMAX / kw * kw;
		for (int r0 = 0; r0 < H; r0 += kh) {
			int hr = imin(kh, H - r0);
			for (int c0 = 0; c0 < W; c0 += CW) {
				size_t o = (size_t)r0 * ld + (size_t)c0, e = lm == LM_ELEM ? o : 0;
				dl += (double)lam_band_bwd(op, lm, kw, zfull, x + o, dy + o, dx + o, lam + e,
						   l0, dlam + e, ld, hr, imin(CW, W - c0));
			}
		}
		return dl;
	}
	for (int r0 = 0; r0 < H; r0 += kh) {
		int hr = imin(kh, H - r0);
		for (int c0 = 0; c0 < W; c0 += kw) {
			int wn = imin(kw, W - c0);
			size_t o = (size_t)r0 * ld + (size_t)c0, e = lm == LM_ELEM ? o : 0;
			dl += (double)lam_win_bwd(op, lm, zfull ? zfull - hr * wn : 0, x + o, dy + o, dx + o,
					  lam + e, l0, dlam + e, ld, hr, wn);
		}
	}
	return dl;
}

/* Runtime op / mode / width to the specialised plane functions. */

static void lam_plane_fwd_any(const wcfg *cf, int lm, const float *x, float *y, const float *lam,
			      float l0)
{
#define CASE(OP)                                                                          \
	case OP:                                                                          \
		if (lm == LM_ELEM)                                                        \
			lam_plane_fwd(OP, LM_ELEM, 0, cf, x, y, lam, l0);                 \
		else if (cf->kw == 2)                                                     \
			lam_plane_fwd(OP, LM_CONST, 2, cf, x, y, lam, l0);                \
		else if (cf->kw == 4)                                                     \
			lam_plane_fwd(OP, LM_CONST, 4, cf, x, y, lam, l0);                \
		else if (cf->kw == 3)                                                     \
			lam_plane_fwd(OP, LM_CONST, 3, cf, x, y, lam, l0);                \
		else                                                                      \
			lam_plane_fwd(OP, LM_CONST, 0, cf, x, y, lam, l0);                \
		break;
	switch (cf->op) { LAM_OPS(CASE) }
#undef CASE
}

static double lam_plane_bwd_any(const wcfg *cf, int lm, const float *x, const float *dy, float *dx,
				const float *lam, float l0, float *dlam)
{
#define KWS(OP, LM)                                                                       \
	(cf->kw == 2   ? lam_plane_bwd(OP, LM, 2, cf, x, dy, dx, lam, l0, dlam)           \
	 : cf->kw == 4 ? lam_plane_bwd(OP, LM, 4, cf, x, dy, dx, lam, l0, dlam)           \
	 : cf->kw == 3 ? lam_plane_bwd(OP, LM, 3, cf, x, dy, dx, lam, l0, dlam)           \
		       : lam_plane_bwd(OP, LM, 0, cf, x, dy, dx, lam, l0, dlam))
#define CASE(OP)                                                                          \
	case OP:                                                                          \
		return lm == LM_ELEM    ? lam_plane_bwd(OP, LM_ELEM, 0, cf, x, dy, dx, lam, l0, dlam) \
		       : lm == LM_LEARN ? KWS(OP, LM_LEARN)                               \
					: KWS(OP, LM_CONST);
	switch (cf->op) { LAM_OPS(CASE) }
#undef CASE
#undef KWS
	return 0;
}

/* lambda per element: per=neuron, or per=channel on a dense input */
static int lam_elem(const wcfg *cf, al_per per)
{
	return per == AL_PER_NEURON || (cf->dense && per == AL_PER_CHANNEL);
}

static void lam_forward(int op, const double *h, al_per per, const float *params, int n, int c,
			int hh, int w, const float *x, float *y)
{
	wcfg cf = cfg_make(op, h, c, hh, w);
	if (n <= 0 || cf.H <= 0 || cf.W <= 0 || cf.C <= 0)
		return;
	const int learn = h[AL_WIN_LEARN] != 0 && params;
	const int elem = learn && lam_elem(&cf, per);
	const float lconst = (float)h[AL_WIN_INFLUENCE];
	const size_t hw = (size_t)cf.H * (size_t)cf.W, C = (size_t)cf.C, np = (size_t)n * C;
	/* static: schedule(guided, 4) ran faster by wall time on a busy machine
	 * (a late-woken thread takes fewer planes) but the backward that follows
	 * took 1.13-1.27x the CPU time of static on [64,32,32,32] (A/B in one
	 * process, 301 reps) */
#pragma omp parallel for schedule(static)
	for (size_t p = 0; p < np; p++) {
		size_t ch = p % C;
		const float *lam = &lconst;
		float l0 = lconst;
		if (elem) {
			lam = params + ch * hw;
		} else if (learn) {
			lam = params + (per == AL_PER_CHANNEL ? ch : 0);
			l0 = clamp01(*lam);
		}
		lam_plane_fwd_any(&cf, elem ? LM_ELEM : LM_CONST, x + p * hw, y + p * hw, lam, l0);
	}
}

static void lam_backward(int op, const double *h, al_per per, const float *params, int n, int c,
			 int hh, int w, const float *x, const float *dy, float *dx, float *dparams,
			 float *scratch)
{
	wcfg cf = cfg_make(op, h, c, hh, w);
	if (n <= 0 || cf.H <= 0 || cf.W <= 0 || cf.C <= 0)
		return;
	const int learn = h[AL_WIN_LEARN] != 0 && params && dparams;
	const float lconst = (float)h[AL_WIN_INFLUENCE];
	const size_t hw = (size_t)cf.H * (size_t)cf.W, C = (size_t)cf.C, np = (size_t)n * C;
	if (!learn || !lam_elem(&cf, per)) {
		const int lm = learn ? LM_LEARN : LM_CONST;
#pragma omp parallel for schedule(static)
		for (size_t p = 0; p < np; p++) {
			size_t ch = p % C;
			const float *lam = &lconst;
			float l0 = lconst, dummy = 0;
			if (learn) {
				lam = params + (per == AL_PER_CHANNEL ? ch : 0);
				l0 = clamp01(*lam);
			}
			double d = lam_plane_bwd_any(&cf, lm, x + p * hw, dy + p * hw, dx + p * hw,
						     lam, l0, &dummy);
			if (learn)
				scratch[p] = (float)d;
		}
		if (learn && per == AL_PER_CHANNEL) {
			for (size_t ch = 0; ch < C; ch++) {
				double s = 0;
				for (int i = 0; i < n; i++)
					s += (double)scratch[(size_t)i * C + ch];
				dparams[ch] += (float)s;
			}
		} else if (learn) {
			double s = 0;
			for (size_t p = 0; p < np; p++)
				s += (double)scratch[p];
			dparams[0] += (float)s;
		}
		return;
	}
	/* lambda per element: each unit owns a slice of dparams, samples in order */
	if (!cf.dense) {
#pragma omp parallel for schedule(static)
		for (size_t ch = 0; ch < C; ch++)
			for (int i = 0; i < n; i++) {
				size_t o = ((size_t)i * C + ch) * hw;
				lam_plane_bwd_any(&cf, LM_ELEM, x + o, dy + o, dx + o, params + ch * hw,
						  0, dparams + ch * hw);
			}
		return;
	}
	const int F = cf.W, Q = cf.kw >= DENSE_CHUNK ? cf.kw : DENSE_CHUNK / cf.kw * cf.kw;
	const int nq = (F + Q - 1) / Q;
#pragma omp parallel for schedule(static)
	for (int q = 0; q < nq; q++) {
		wcfg sub = cf;
		size_t f0 = (size_t)q * (size_t)Q;
		sub.W = imin(Q, F - (int)f0);
		for (int i = 0; i < n; i++) {
			size_t o = (size_t)i * (size_t)F + f0;
			lam_plane_bwd_any(&sub, LM_ELEM, x + o, dy + o, dx + o, params + f0, 0,
					  dparams + f0);
		}
	}
}

/* ---- softmax_relu (SPEC 1.9) --------------------------------------------- */
/* exp of 8 lanes (GCC vectorises the lane loop over the branch-free al_expf) */
AL_INLINE v8f vexp(v8f v)
{
	v8f r;
	for (int u = 0; u < VL; u++)
		r[u] = al_expf(v[u]);
	return r;
}

/* exp(t) of the softmax arguments t = x - M <= 0, 8 lanes in vector
 * operations: al_expf's reduction and polynomial, operation for operation
 * (same results wherever exp(t) is a normal float), with t clamped below
 * at -87 (exp(-87) = 1.6e-38 instead of a subnormal or 0: far below any
 * threshold tau * sum, which is at least tau). NaN propagates. */
AL_INLINE v8f vexp_neg(v8f t)
{
	t = vsel(t < vb(-87.0f), vb(-87.0f), t);
	const v8f magic = vb(0x1.8p23f);
	v8f kf = t * vb(0x1.715476p+0f) + magic;
	v8i k = (v8i)kf - (v8i)magic;
	v8f n = kf - magic;
	v8f hi = t - n * vb(0x1.63p-1f);
	v8f lo = n * vb(-0x1.bd0106p-13f);
	v8f r = hi - lo;
	v8f cr = (hi - r) - lo;
	v8f P = (((vb(0x1.6a1a5cp-10f) * r + vb(0x1.123fd2p-7f)) * r + vb(0x1.555916p-5f)) * r +
		 vb(0x1.55548ap-3f)) * r + vb(0x1.fffffcp-2f);
	v8f S = vb(1.0f) + r;
	v8f E = (vb(1.0f) - S) + r;
	v8f p = S + ((P * (r * r) + cr) + E);
	return p * (v8f)((k + 127) << 23);
}

/* a * b + c, fused where the target has FMA (only the fast path below uses
 * it: its results are approximations whose error is bounded either way) */
AL_INLINE v8f vfma(v8f a, v8f b, v8f c)
{
#ifdef __FMA__
	return (v8f)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)c);
#else
	return a * b + c;
#endif
}

/* exp(d) for d <= 0, d clamped below at -87 as in vexp_neg: reduction
 * d = n ln2 + f, |f| <= ln2/2, and a degree-3 minimax polynomial for e^f.
 * Relative error below 8e-5 (7.5e-5 for the polynomial, a few float
 * roundings); NaN gives NaN (the scale is a multiplication, not an
 * exponent-field addition). */
#define SMAX_FAST_EPS 8e-5f
AL_INLINE v8f vexp_fast(v8f d)
{
	d = vmax2(d, vb(-87.0f)); /* -87 > d ? -87 : d; NaN passes */
	const v8f magic = vb(0x1.8p23f);
	v8f kf = vfma(d, vb(0x1.715476p+0f), magic);
	v8f n = kf - magic;
	v8f f = vfma(n, vb(-0x1.62e43p-1f), d);
	v8f p = vfma(vfma(vfma(vb(0x1.5349f6p-3f), f, vb(0x1.028a8cp-1f)), f, vb(0x1.000ac2p+0f)),
		     f, vb(0x1.fff692p-1f));
	v8i k = (v8i)kf - (v8i)vb(0x1.8p23f) + 127; /* n + 127 in [1, 127] */
	return p * (v8f)(k << 23);
}

/* The margin of the fast decisions: e_i >= tau S is decided from the
 * approximations only when |e_i - tau S| >= SMAX_FAST_MARGIN tau S (both
 * computed from the approximations). Why that decides as the exact path
 * does: both exponentials see the same float argument x - M; the fast one
 * (vexp_fast, vexp_fast16) is within eps = 8.1e-5 of exp where its result
 * is a normal float, vexp_neg within 1e-7, so fast e_j = exact e_j (1 + a_j)
 * with |a_j| <= A = 8.2e-5, and the fast sum of at most 16 terms is the
 * exact sum times (1 + b) with |b| <= A + 2e-6 (each sum rounds 15 times,
 * 2^-24 each). The fast ratio r' = e_i / (tau S) is the exact ratio r
 * times (1 + a_i) / (1 + b), so |r' / r - 1| <= 2 (A + 2e-6) / (1 - A)
 * < 1.7e-4, plus a few roundings (tau S, e_i - tau S, margin tau S: 2e-7).
 * |r' - 1| >= 3e-4 therefore puts r on the same side of 1 as r' (a factor
 * 1.75 to spare). Subnormal exponentials (relative error unbounded) only
 * occur below 2^-126, far under any threshold the fast path sees (tau = 0
 * or tau > 1e-30 and S >= 1), and add at most 16 * 2^-149 to S. The
 * margin was 1e-3; 3e-4 sends about 3x fewer groups to the exact rerun. */
#define SMAX_FAST_MARGIN 3e-4f

AL_INLINE int vall(v8i m)
{
#ifdef __AVX__
	return _mm256_movemask_ps((__m256)m) == 0xff;
#else
	int a = 1;
	for (int u = 0; u < VL; u++)
		a &= m[u] != 0;
	return a;
#endif
}

/* Fast softmax_relu group: KH (compile-time) full rows of 8 columns, no
 * padded zeros. The masks come from vexp_fast; when a lane's exponential
 * lies within SMAX_FAST_MARGIN of its threshold (or a NaN/inf made the
 * comparison unordered) nothing is written and 0 is returned: the caller
 * reruns the group with smax_vg, the exact computation. Otherwise the
 * masks are the ones smax_vg computes (see SMAX_FAST_MARGIN), so outputs do
 * not depend on which path ran. */
AL_INLINE int smax_vg_fast(int dir, int kw, int KH, float tau, const float *restrict x,
			   const float *restrict g, float *restrict out, size_t ld)
{
	v8f xr[8], e[8];
	for (int r = 0; r < KH; r++)
		xr[r] = vload(x + (size_t)r * ld);
	v8f M = xr[0];
	for (int r = 1; r < KH; r++)
		M = vmax2(M, xr[r]);
	M = vgmax(M, kw);
	v8f S = e[0] = vexp_fast(xr[0] - M);
	for (int r = 1; r < KH; r++) {
		e[r] = vexp_fast(xr[r] - M);
		S += e[r];
	}
	const v8f thr = vb(tau) * vgsum(S, kw), mthr = thr * vb(SMAX_FAST_MARGIN);
	/* certain where |e - thr| >= mthr in every row (false for NaN) */
	v8i cert = vb(0) == vb(0), keep[8];
	for (int r = 0; r < KH; r++) {
		v8f d = e[r] - thr;
		keep[r] = d >= VZERO;
		cert &= vand(~(v8i)vb(-0.0f), d) >= mthr;
	}
	if (!vall(cert))
		return 0;
	for (int r = 0; r < KH; r++)
		vstore(out + (size_t)r * ld, vand(keep[r], dir ? vload_now(g + (size_t)r * ld) : xr[r]));
	return 1;
}

/* 8-column group of softmax groups of width kw (1, 2, 4, 8; group=column is
 * kw = 1) and hr rows, z padded zeros per group: one pass per group with
 * the exponentials parked in out (L1). dir 0: out = x [w >= tau]; dir 1:
 * out = dy [w >= tau]. */
AL_INLINE void smax_vg(int dir, int kw, int hr, int z, float tau, const float *restrict x,
		       const float *restrict g, float *restrict out, size_t ld)
{
	v8f M = vload(x);
	for (int r = 1; r < hr; r++)
		M = vmax2(M, vload(x + (size_t)r * ld));
	M = vgmax(M, kw);
	if (z > 0)
		M = vsel(M < VZERO, VZERO, M);
	v8f S = VZERO;
	for (int r = 0; r < hr; r++) {
		v8f e = vexp_neg(vload(x + (size_t)r * ld) - M);
		S += e;
		vstore(out + (size_t)r * ld, e);
	}
	S = vgsum(S, kw);
	if (z > 0)
		S += vb((float)z) * vexp_neg(-M);
	const v8f thr = vb(tau) * S;
	for (int r = 0; r < hr; r++) {
		size_t o = (size_t)r * ld;
		vstore(out + o, vsel(vload(out + o) < thr, VZERO, vload((dir ? g : x) + o)));
	}
}

/* Full bands of softmax groups: nb bands of KH rows (KH = 2, 4; group width
 * kw = KH, or 1 for group=column), no padded zeros, W >= VL; each group
 * tries the fast masks and falls back to smax_vg. Same groups, same order as
 * the plane loop. */
AL_INLINE void smax_bands(int dir, int kw, int KH, int fast, float tau, const float *x,
			  const float *g, float *out, int W, int nb)
{
	const size_t ld = (size_t)W, bs = (size_t)KH * ld;
	const int last = W / kw * kw - VL;
	for (int b = 0; b < nb; b++) {
		for (int c = 0;; c += VL) {
			if (c > last)
				c = last;
			size_t o = (size_t)b * bs + (size_t)c;
			const float *gp = dir ? g + o : NULL;
			if (!(fast && smax_vg_fast(dir, kw, KH, tau, x + o, gp, out + o, ld)))
				smax_vg(dir, kw, KH, 0, tau, x + o, gp, out + o, ld);
			if (c == last)
				break;
		}
	}
}

static __attribute__((noinline)) void smax_fast(int dir, int kw, int KH, int fast, float tau,
						const float *x, const float *g, float *out, int W,
						int nb)
{
#define BANDS(D, KW, K) smax_bands(D, KW, K, fast, tau, x, g, out, W, nb)
	if (dir && KH == 2)
		kw == 1 ? BANDS(1, 1, 2) : BANDS(1, 2, 2);
	else if (dir)
		kw == 1 ? BANDS(1, 1, 4) : BANDS(1, 4, 4);
	else if (KH == 2)
		kw == 1 ? BANDS(0, 1, 2) : BANDS(0, 2, 2);
	else
		kw == 1 ? BANDS(0, 1, 4) : BANDS(0, 4, 4);
#undef BANDS
}

#ifdef __AVX512F__
/* 16-lane groups (AVX-512): the fast masks of smax_vg_fast on 16 columns
 * per instruction, which halves the instruction count of this
 * compute-bound loop on cores with 512-bit units (Zen 5, 1 thread,
 * [64,32,32,32]: softmax_relu:k=2 forward 1.00 -> 0.49 ms, docs/benchmarks.md).
 * vexp_fast16(d) = exp(d) for d = x - M <= 0 in base 2: t = d log2(e)
 * (one rounding, relative 2^-24 of |t|), f = t - floor(t) in [0, 1) by
 * vreduceps (exact), 2^f by a degree-3 minimax polynomial (relative error
 * 7.5e-5) and the scale 2^floor(t) by vscalefps, which takes floor(t)
 * itself: 6 operations after the subtraction instead of 8, and no clamp
 * (t far below -126 gives f = 0 and a 0 or subnormal result, which lies
 * below every threshold the fast path sees; NaN stays NaN and inf - inf
 * is NaN, so those groups fail the certainty test as before). Relative
 * error below 7.5e-5 + 126 * 2^-24 ln 2 < 8.1e-5 where the result is a
 * normal float, so SMAX_FAST_MARGIN's argument holds (3 * 8.1e-5 + 4e-6
 * < 2.5e-4 < 1e-3). */
AL_INLINE __m512 vexp_fast16(__m512 d)
{
	__m512 t = _mm512_mul_ps(d, _mm512_set1_ps(0x1.715476p+0f));
	/* imm 0x01: round toward -inf, 0 fraction bits kept: f = t - floor(t) */
	__m512 f = _mm512_reduce_ps(t, 0x01);
	__m512 p = _mm512_fmadd_ps(_mm512_set1_ps(0x1.3f9654p-4f), f, _mm512_set1_ps(0x1.cefc56p-3f));
	p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0x1.64445p-1f));
	p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0x1.fff632p-1f));
	return _mm512_scalef_ps(p, t);
}

/* The no-max variant (nm) of the 16-lane masks: w_i = e^(x_i) / sum_j e^(x_j)
 * without the maximum, which only guards exp against overflow: for
 * |x| < 88 every e^x is a normal float, and the weights are the same
 * ratios. Saves the group maximum (a max per row, the lane butterfly) and
 * the subtraction per row. Why the masks are those of the exact path:
 * vexp_fast16(x) = e^x (1 + a) with |a| <= 7.5e-5 + 128 * 2^-24 ln 2 <
 * 8.1e-5 where the result is normal (|t| < 128); the exact path's
 * e_i = e^(x_i - M) (1 + c), |c| <= 1e-7 + 87 * 2^-24 < 5.3e-6 (the
 * rounding of x - M; elements it clamps at e^-87 lie far below any
 * threshold here). Fast and exact ratios e_i / (tau S) then differ by a
 * factor within 2 (8.1e-5 + 5.3e-6) + 2e-6 < 1.8e-4 < SMAX_FAST_MARGIN
 * (1.7x to spare). Guards: the certainty test is D > SMAX_FAST_MARGIN
 * thr + SMAX_NM_FLOOR (strict), and D <= S (|e - thr| <= max(e, thr)
 * <= S), so a certain group has S > 2^-70: with tau >= SMAX_NM_TAU = 2^-30
 * (smax_plane's condition) thr > 2^-100, so the elements near it are
 * normal and subnormal terms add < 2^-145 to S. An overflow (x > 88.7)
 * makes S and thr inf, and inf > inf is false: the exact rerun; NaN fails
 * the ordered compare. Relative to thr, the floor costs nothing on data
 * whose sums are not tiny (S > 2^-70 needs some x > -48.5). */
#define SMAX_NM_FLOOR 0x1p-70f
#define SMAX_NM_TAU 0x1p-30f

/* 16 columns x KH rows of softmax groups of width kw (1, 2, 4), no padded
 * zeros. Lanes whose masks are all certain are written from the fast
 * exponentials; an 8-column half holding an uncertain lane (or NaN/inf) is
 * rerun with smax_vg, the exact computation. The certainty test stays in
 * vector registers: D = min over the rows of |e - thr| (vrangeps: the
 * minimum of absolute values, sign cleared, in one operation), then one
 * ordered compare D >= SMAX_FAST_MARGIN thr per group, false where thr or
 * an e is NaN (NaN/inf inputs make thr NaN) and true for tau = 0 (thr = 0,
 * every weight passes, as in smax_vg); nm: see SMAX_NM_FLOOR. The output
 * is x (or dy) where d = e - thr >= 0 and +0 where d < 0, one vfixupimmps
 * per row: its table maps d's classes "negative" and "-inf" to +0 and keeps
 * the destination otherwise (zero, positive; NaN d only occurs in
 * uncertain groups, whose lanes are not stored). */
/* The masks of a group held in registers: d[r] = e - thr of row r (kept
 * where d >= 0); returns the lanes whose masks are certain */
AL_INLINE __mmask16 smax_g16_d(int kw, int KH, int nm, float tau, const __m512 *xr, __m512 *d)
{
	__m512 M = xr[0];
	if (!nm) {
		for (int r = 1; r < KH; r++)
			M = _mm512_max_ps(xr[r], M);
		M = vgmax16(M, kw);
	}
	__m512 S = d[0] = vexp_fast16(nm ? xr[0] : _mm512_sub_ps(xr[0], M));
	for (int r = 1; r < KH; r++) {
		d[r] = vexp_fast16(nm ? xr[r] : _mm512_sub_ps(xr[r], M));
		S = _mm512_add_ps(S, d[r]);
	}
	const __m512 thr = _mm512_mul_ps(_mm512_set1_ps(tau), vgsum16(S, kw));
	for (int r = 0; r < KH; r++)
		d[r] = _mm512_sub_ps(d[r], thr);
	/* imm 0x0a: minimum of the absolute values, sign bit cleared */
	__m512 D = _mm512_range_ps(d[0], d[1], 0x0a);
	for (int r = 2; r < KH; r++)
		D = _mm512_range_ps(d[r], D, 0x0a);
	const __mmask16 cert =
		nm ? _mm512_cmp_ps_mask(D,
					_mm512_fmadd_ps(thr, _mm512_set1_ps(SMAX_FAST_MARGIN),
							_mm512_set1_ps(SMAX_NM_FLOOR)),
					_CMP_GT_OQ)
		   : _mm512_cmp_ps_mask(D, _mm512_mul_ps(thr, _mm512_set1_ps(SMAX_FAST_MARGIN)),
					_CMP_GE_OQ);
	return cert;
}

/* vfixupimmps table: classes -inf (4) and negative (6) -> +0 (code 8) */
#define SMAX_ZNEG _mm512_set1_epi32(0x08080000)

AL_INLINE void smax_g16(int dir, int kw, int KH, int nm, float tau, const float *restrict x,
			const float *restrict g, float *restrict out, size_t ld)
{
	__m512 xr[4], d[4];
	for (int r = 0; r < KH; r++)
		xr[r] = _mm512_loadu_ps(x + (size_t)r * ld);
	const __mmask16 cert = smax_g16_d(kw, KH, nm, tau, xr, d);
	const __m512i zneg = SMAX_ZNEG;
	if (cert == 0xffff) {
		for (int r = 0; r < KH; r++) {
			size_t o = (size_t)r * ld;
			_mm512_storeu_ps(out + o, _mm512_fixupimm_ps(dir ? vload16_now(g + o) : xr[r],
								     d[r], zneg, 0));
		}
		return;
	}
	for (int r = 0; r < KH; r++) {
		size_t o = (size_t)r * ld;
		_mm512_mask_storeu_ps(
			out + o, cert,
			_mm512_fixupimm_ps(dir ? vload16_now(g + o) : xr[r], d[r], zneg, 0));
	}
	if ((cert & 0xff) != 0xff)
		smax_vg(dir, kw, KH, 0, tau, x, g, out, ld);
	if ((cert >> 8) != 0xff)
		smax_vg(dir, kw, KH, 0, tau, x + VL, dir ? g + VL : NULL, out + VL, ld);
}

/* Full bands of 16-column groups (W / kw * kw >= 16), the last group of a
 * row overlapping its neighbour; same groups and masks as smax_bands. */
AL_INLINE void smax_bands16(int dir, int kw, int KH, int nm, float tau, const float *x,
			    const float *g, float *out, int W, int nb)
{
	const size_t ld = (size_t)W, bs = (size_t)KH * ld;
	const int last = W / kw * kw - 16;
	for (int b = 0; b < nb; b++) {
		for (int c = 0;; c += 16) {
			if (c > last)
				c = last;
			size_t o = (size_t)b * bs + (size_t)c;
			smax_g16(dir, kw, KH, nm, tau, x + o, dir ? g + o : NULL, out + o, ld);
			if (c == last)
				break;
		}
	}
}

/* The forward of smax_bands16 for W = 28 and a 64-byte aligned y, in
 * blocks of 4 rows (see rows28_store): when every mask of the block's 8 row
 * groups is certain, the outputs are joined and stored as 7 aligned
 * vectors; otherwise the block runs as smax_bands16 does, group by group.
 * Same masks, same outputs. The backward keeps smax_bands16 (it mostly
 * reads its masks from y). */
AL_INLINE void smax_bands28_fwd(int kw, int KH, int nm, float tau, const float *x, float *y,
				int nb)
{
	const int nblk = nb * KH / 4;
	for (int b = 0; b < nblk; b++, x += 112, y += 112) {
		__m512 h[4], t[4], dh[4], dt[4];
		__mmask16 cert = 0xffff;
		rows28_load(x, h, t);
		for (int r0 = 0; r0 < 4; r0 += KH) {
			cert &= smax_g16_d(kw, KH, nm, tau, h + r0, dh + r0);
			cert &= smax_g16_d(kw, KH, nm, tau, t + r0, dt + r0);
		}
		if (cert != 0xffff) {
			for (int r0 = 0; r0 < 4; r0 += KH) {
				smax_g16(0, kw, KH, nm, tau, x + 28 * r0, NULL, y + 28 * r0, 28);
				smax_g16(0, kw, KH, nm, tau, x + 28 * r0 + 12, NULL, y + 28 * r0 + 12, 28);
			}
			continue;
		}
		for (int r = 0; r < 4; r++) {
			dh[r] = _mm512_fixupimm_ps(h[r], dh[r], SMAX_ZNEG, 0);
			dt[r] = _mm512_fixupimm_ps(t[r], dt[r], SMAX_ZNEG, 0);
		}
		rows28_store(dh, dt, y);
	}
	if (nblk * 4 < nb * KH)
		smax_bands16(0, kw, KH, nm, tau, x, NULL, y, 28, 1);
}

/* nm: the no-max masks (tau >= SMAX_NM_TAU) */
static __attribute__((noinline)) void smax_fast16(int dir, int kw, int KH, int nm, float tau,
						  const float *x, const float *g, float *out, int W,
						  int nb)
{
#define BANDS(D, KW, K)                                                                  \
	(nm ? smax_bands16(D, KW, K, 1, tau, x, g, out, W, nb)                           \
	    : smax_bands16(D, KW, K, 0, tau, x, g, out, W, nb))
#define B28(KW, K)                                                                       \
	(nm ? smax_bands28_fwd(KW, K, 1, tau, x, out, nb)                                \
	    : smax_bands28_fwd(KW, K, 0, tau, x, out, nb))
	if (dir && KH == 2)
		kw == 1 ? BANDS(1, 1, 2) : BANDS(1, 2, 2);
	else if (dir)
		kw == 1 ? BANDS(1, 1, 4) : BANDS(1, 4, 4);
	else if (W == 28 && ((uintptr_t)out & 63) == 0)
		KH == 2 ? (kw == 1 ? B28(1, 2) : B28(2, 2)) : (kw == 1 ? B28(1, 4) : B28(4, 4));
	else if (KH == 2)
		kw == 1 ? BANDS(0, 1, 2) : BANDS(0, 2, 2);
	else
		kw == 1 ? BANDS(0, 1, 4) : BANDS(0, 4, 4);
#undef BANDS
#undef B28
}
#endif

/* dir 0: out = y = x [w >= tau]; dir 1: out = dx = dy [w >= tau]. The
 * exponentials are parked in out between passes 2 and 3. */
/* Softmax maxima of a band chunk (hr rows x wc columns): wM[j] = the max of
 * column j's group (its window, or itself with col), padded zeros included. */
AL_INLINE void smax_max(int col, int kw, int zfull, int zcol, const float *restrict x,
			size_t ld, int hr, int wc, float *restrict wM)
{
	float cM[CWMAX];
	if (wc < 1 || hr < 1)
		__builtin_unreachable();
	for (int j = 0; j < wc; j++)
		cM[j] = x[j];
	for (int r = 1; r < hr; r++) {
		const float *restrict xr = x + (size_t)r * ld;
		for (int j = 0; j < wc; j++)
			cM[j] = xr[j] > cM[j] ? xr[j] : cM[j];
	}
	if (col) {
		int zc = zcol ? zcol - hr : 0; /* padded zeros per column */
		for (int j = 0; j < wc; j++)
			wM[j] = zc > 0 && cM[j] < 0 ? 0.0f : cM[j];
		return;
	}
	int j0 = 0;
	if (VL % kw == 0) { /* whole 8-column groups: lane butterflies */
		const int zf = zfull ? zfull - hr * kw : 0, wcf = wc / kw * kw;
		for (; j0 + VL <= wcf; j0 += VL) {
			v8f M = vgmax(vload(cM + j0), kw);
			vstore(wM + j0, zf > 0 ? vsel(M < VZERO, VZERO, M) : M);
		}
	}
	for (; j0 < wc; j0 += kw) {
		int wn = imin(kw, wc - j0);
		float M = cM[j0];
		for (int j = 1; j < wn; j++)
			M = cM[j0 + j] > M ? cM[j0 + j] : M;
		if (zfull && zfull - hr * wn > 0 && M < 0)
			M = 0;
		for (int j = 0; j < wn; j++)
			wM[j0 + j] = M;
	}
}

/* Step 1 for a band chunk: out = x - M of the element's group. */
AL_INLINE void smax_shift(int col, int kw, int zfull, int zcol, const float *restrict x,
			  float *restrict out, size_t ld, int hr, int wc)
{
	float wM[CWMAX];
	if (wc < 1 || hr < 1)
		__builtin_unreachable();
	smax_max(col, kw, zfull, zcol, x, ld, hr, wc, wM);
	for (int r = 0; r < hr; r++) {
		const float *restrict xr = x + (size_t)r * ld;
		float *restrict outr = out + (size_t)r * ld;
#pragma omp simd
		for (int j = 0; j < wc; j++)
			outr[j] = xr[j] - wM[j];
	}
}

/* Step 3 for a band chunk, out holding the exponentials: the group sums s
 * (plus z exp(-M) for z padded zeros), then out = [e >= tau s] * (x or dy). */
AL_INLINE void smax_mask(int dir, int col, int kw, int zfull, int zcol, float tau,
			 const float *restrict x, const float *restrict g, float *restrict out,
			 size_t ld, int hr, int wc)
{
	float cS[CWMAX], thr[CWMAX], wM[CWMAX];
	if (wc < 1 || hr < 1)
		__builtin_unreachable();
	const int zc = zcol ? zcol - hr : 0;
	const int pads = col ? zc > 0 : zfull > 0; /* padded zeros in some group */
	if (pads)
		smax_max(col, kw, zfull, zcol, x, ld, hr, wc, wM);
	else
		memset(wM, 0, (size_t)wc * sizeof *wM); /* unused; quiets -Wmaybe-uninitialized */
	for (int j = 0; j < wc; j++)
		cS[j] = out[j];
	for (int r = 1; r < hr; r++) {
		const float *restrict er = out + (size_t)r * ld;
		for (int j = 0; j < wc; j++)
			cS[j] += er[j];
	}
	if (col) {
		for (int j = 0; j < wc; j++)
			thr[j] = tau * (pads ? cS[j] + (float)zc * al_expf(-wM[j]) : cS[j]);
	} else {
		int j0 = 0;
		if (VL % kw == 0) {
			const int zf = zfull ? zfull - hr * kw : 0, wcf = wc / kw * kw;
			for (; j0 + VL <= wcf; j0 += VL) {
				v8f S = vgsum(vload(cS + j0), kw);
				if (pads && zf > 0)
					S += vb((float)zf) * vexp(-vload(wM + j0));
				vstore(thr + j0, vb(tau) * S);
			}
		}
		for (; j0 < wc; j0 += kw) {
			int wn = imin(kw, wc - j0), z = zfull ? zfull - hr * wn : 0;
			float sum = 0;
			for (int j = 0; j < wn; j++)
				sum += cS[j0 + j];
			if (pads && z > 0)
				sum += (float)z * al_expf(-wM[j0]);
			for (int j = 0; j < wn; j++)
				thr[j0 + j] = tau * sum;
		}
	}
	for (int r = 0; r < hr; r++) {
		size_t o = (size_t)r * ld;
		const float *restrict vr = dir ? g + o : x + o;
		float *restrict er = out + o;
#pragma omp simd
		for (int j = 0; j < wc; j++)
			er[j] = er[j] < thr[j] ? 0.0f : vr[j];
	}
}

AL_INLINE void smax_win(int dir, int z, float tau, const float *restrict x,
			const float *restrict g, float *restrict out, size_t ld, int hr, int wn)
{
	float M = x[0];
	for (int r = 0; r < hr; r++) {
		const float *restrict xr = x + (size_t)r * ld;
		float m = M;
#pragma omp simd reduction(max : m)
		for (int j = 0; j < wn; j++)
			m = xr[j] > m ? xr[j] : m;
		M = m > M ? m : M;
	}
	if (z > 0 && M < 0)
		M = 0;
	float s = 0;
	for (int r = 0; r < hr; r++) {
		const float *restrict xr = x + (size_t)r * ld;
		float *restrict er = out + (size_t)r * ld;
		float sr = 0;
#pragma omp simd reduction(+ : sr)
		for (int j = 0; j < wn; j++) {
			float e = al_expf(xr[j] - M);
			er[j] = e;
			sr += e;
		}
		s += sr;
	}
	if (z > 0)
		s += (float)z * al_expf(-M);
	const float thr = tau * s;
	for (int r = 0; r < hr; r++) {
		size_t o = (size_t)r * ld;
		const float *restrict vr = dir ? g + o : x + o;
		float *restrict er = out + o;
#pragma omp simd
		for (int j = 0; j < wn; j++)
			er[j] = er[j] < thr ? 0.0f : vr[j];
	}
}

/* dir 0: out = y = x [w >= tau]; dir 1: out = dx = dy [w >= tau]. Three
 * steps over the plane, out holding the intermediate values: x - M per
 * band, one vector exp loop over the whole plane (no per-row remainders),
 * then the sums, thresholds and masks per band. Windows wider than
 * CW_NARROW go one by one. */
AL_INLINE void smax_plane(int dir, int kwc, const wcfg *cf, const float *x, const float *g,
			  float *out)
{
	const int H = cf->H, W = cf->W, kh = cf->kh, kw = kwc ? kwc : cf->kw;
	const int zfull = cf->pad ? kh * kw : 0, zcol = cf->pad ? kh : 0;
	const size_t ld = (size_t)W, n = (size_t)H * (size_t)W;
	if (!cf->col && kw > CW_NARROW) {
		for (int r0 = 0; r0 < H; r0 += kh) {
			int hr = imin(kh, H - r0);
			for (int c0 = 0; c0 < W; c0 += kw) {
				int wn = imin(kw, W - c0);
				size_t o = (size_t)r0 * ld + (size_t)c0;
				smax_win(dir, zfull ? zfull - hr * wn : 0, cf->tau, x + o,
					 dir ? g + o : NULL, out + o, ld, hr, wn);
			}
		}
		return;
	}
	const int kwv = cf->col ? 1 : kw; /* a column group is a window of width 1 */
	/* the fast masks need a threshold that is 0 or a normal float */
	const int fast = cf->tau == 0 || cf->tau > 1e-30f;
	if (use_groups(kwv, W)) {
		const int Wf = W / kwv * kwv, zv = cf->col ? zcol : zfull;
		int r0 = 0;
#ifdef __AVX512F__
		/* 16-column groups for the full bands of k = 2, 4 (window and
		 * column groups) */
		const int f16 = fast && (kwc == 2 || kwc == 4) && kh == kwc && Wf >= 16;
#else
		const int f16 = 0;
#endif
		if (f16 || (kwc == 2 && kh == 2 && !cf->col)) {
			/* full bands (no padded zeros in them), then their right edges;
			 * without AVX-512, k = 4 and column groups run faster in the
			 * plane loop below */
			const int nb = H / kh;
#ifdef __AVX512F__
			if (f16)
				smax_fast16(dir, kwv, kwc, cf->tau >= SMAX_NM_TAU, cf->tau, x, g, out, W,
					    nb);
			else
#endif
				smax_fast(dir, kwv, kwc, fast, cf->tau, x, g, out, W, nb);
			for (; Wf < W && r0 < nb * kh; r0 += kh) {
				size_t o = (size_t)r0 * ld + (size_t)Wf;
				int wc = W - Wf;
				smax_shift(cf->col, kw, zfull, zcol, x + o, out + o, ld, kh, wc);
				for (int r = 0; r < kh; r++)
					for (int j = 0; j < wc; j++)
						out[o + (size_t)r * ld + (size_t)j] =
							al_expf(out[o + (size_t)r * ld + (size_t)j]);
				smax_mask(dir, cf->col, kw, zfull, zcol, cf->tau, x + o,
					  dir ? g + o : NULL, out + o, ld, kh, wc);
			}
			r0 = nb * kh;
		}
		for (; r0 < H; r0 += kh) {
			int hr = imin(kh, H - r0), z = zv ? zv - hr * kwv : 0;
			size_t o0 = (size_t)r0 * ld;
			for (int c0 = 0; c0 < Wf; c0 += VL) {
				size_t o = o0 + (size_t)(c0 + VL <= Wf ? c0 : Wf - VL);
				const float *gp = dir ? g + o : NULL;
				if ((kwc == 2 || kwc == 4) && hr == kwc) {
					if (!(fast && z == 0 &&
					      smax_vg_fast(dir, kwv, kwc, cf->tau, x + o, gp, out + o, ld)))
						smax_vg(dir, kwv, kwc, z, cf->tau, x + o, gp, out + o, ld);
				}
				else
					smax_vg(dir, kwv, hr, z, cf->tau, x + o, gp, out + o, ld);
			}
			if (Wf < W) { /* the partial window at the right edge */
				size_t o = o0 + (size_t)Wf;
				int wc = W - Wf;
				smax_shift(cf->col, kw, zfull, zcol, x + o, out + o, ld, hr, wc);
				for (int r = 0; r < hr; r++)
					for (int j = 0; j < wc; j++)
						out[o + (size_t)r * ld + (size_t)j] =
							al_expf(out[o + (size_t)r * ld + (size_t)j]);
				smax_mask(dir, cf->col, kw, zfull, zcol, cf->tau, x + o,
					  dir ? g + o : NULL, out + o, ld, hr, wc);
			}
		}
		return;
	}
	const int CW = cf->col ? CWMAX : CWMAX / kw * kw;
	for (int r0 = 0; r0 < H; r0 += kh)
		for (int c0 = 0; c0 < W; c0 += CW) {
			size_t o = (size_t)r0 * ld + (size_t)c0;
			smax_shift(cf->col, kw, zfull, zcol, x + o, out + o, ld, imin(kh, H - r0),
				   imin(CW, W - c0));
		}
#pragma omp simd
	for (size_t i = 0; i < n; i++)
		out[i] = al_expf(out[i]);
	for (int r0 = 0; r0 < H; r0 += kh)
		for (int c0 = 0; c0 < W; c0 += CW) {
			size_t o = (size_t)r0 * ld + (size_t)c0;
			smax_mask(dir, cf->col, kw, zfull, zcol, cf->tau, x + o, dir ? g + o : NULL,
				  out + o, ld, imin(kh, H - r0), imin(CW, W - c0));
		}
}

/* ---- max_relu, max (SPEC 1.10, 1.11) --------------------------------------- */
/* keep x_i (dir 0) or dy_i (dir 1) where x_i = M (and x_i > 0 for max_relu) */
AL_INLINE void max_band(int dir, int relu, int kw, int zfull, const float *restrict x,
			const float *restrict g, float *restrict out, size_t ld, int hr, int wc)
{
	float cM[CWMAX], wM[CWMAX];
	for (int j = 0; j < wc; j++)
		cM[j] = x[j];
	for (int r = 1; r < hr; r++) {
		const float *restrict xr = x + (size_t)r * ld;
		for (int j = 0; j < wc; j++)
			cM[j] = xr[j] > cM[j] ? xr[j] : cM[j];
	}
	for (int j0 = 0; j0 < wc; j0 += kw) {
		int wn = imin(kw, wc - j0);
		float M = cM[j0];
		for (int j = 1; j < wn; j++)
			M = cM[j0 + j] > M ? cM[j0 + j] : M;
		if (zfull && zfull - hr * wn > 0 && M < 0)
			M = 0;
		for (int j = 0; j < wn; j++)
			wM[j0 + j] = M;
	}
	for (int r = 0; r < hr; r++) {
		size_t o = (size_t)r * ld;
		const float *restrict xr = x + o, *restrict vr = dir ? g + o : x + o;
		float *restrict outr = out + o;
#pragma omp simd
		for (int j = 0; j < wc; j++)
			outr[j] = xr[j] < wM[j] || (relu && xr[j] <= 0) ? 0.0f : vr[j];
	}
}

/* Per-window path: wide windows (ties=all) and ties=first (any width). With
 * ties=first only the row-major first maximum of the (padded) window passes;
 * a window holding a NaN passes every element. */
static void max_win(int dir, int relu, int first, int kh, int kw, int pad, const float *x,
		    const float *g, float *out, size_t ld, int hr, int wn)
{
	float M = -INFINITY;
	int nan = 0;
	for (int r = 0; r < hr; r++)
		for (int j = 0; j < wn; j++) {
			float v = x[(size_t)r * ld + (size_t)j];
			nan |= v != v;
			M = v > M ? v : M;
		}
	int z = pad ? kh * kw - hr * wn : 0;
	if (z > 0 && M < 0)
		M = 0;
	int sr = -1, sc = -1;
	if (first && !nan) {
		int rows = z > 0 ? kh : hr, cols = z > 0 ? kw : wn;
		for (int r = 0; r < rows && sr < 0; r++)
			for (int j = 0; j < cols; j++) {
				float v = r < hr && j < wn ? x[(size_t)r * ld + (size_t)j] : 0.0f;
				if (v == M) {
					sr = r;
					sc = j;
					break;
				}
			}
	}
	for (int r = 0; r < hr; r++)
		for (int j = 0; j < wn; j++) {
			size_t o = (size_t)r * ld + (size_t)j;
			float v = x[o];
			int keep = first ? (nan || (r == sr && j == sc)) : !(v < M);
			if (relu && v <= 0)
				keep = 0;
			out[o] = keep ? (dir ? g[o] : v) : 0.0f;
		}
}

/* 8-column group, ties=all, windows of width 1, 2, 4, 8 */
AL_INLINE void max_vg(int dir, int relu, int kw, int hr, int z, const float *restrict x,
		      const float *restrict g, float *restrict out, size_t ld)
{
	v8f M = vload(x);
	for (int r = 1; r < hr; r++)
		M = vmax2(M, vload(x + (size_t)r * ld));
	M = vgmax(M, kw);
	if (z > 0)
		M = vsel(M < VZERO, VZERO, M);
	/* max_relu drops v < M or v <= 0; as v <= M (M is the maximum of v's
	 * window, or NaN, or v is NaN and kept either way) that is v < T with
	 * T = max(M, smallest positive float), and T = 2^-149 where M is NaN
	 * (then only v <= 0 drops): one comparison per row */
	if (relu)
		M = vmax2(vb(0x1p-149f), M);
	for (int r = 0; r < hr; r++) {
		size_t o = (size_t)r * ld;
		v8f v = vload(x + o);
		vstore(out + o, vsel(v < M, VZERO, dir ? vload_now(g + o) : v));
	}
}

/* Full bands of max groups: nb bands of KH = kw = 2, 4 rows, no padded
 * zeros, W >= VL (same groups, same order as the plane loop). */
AL_INLINE void max_bands(int dir, int relu, int kw, int KH, const float *x, const float *g,
			 float *out, int W, int nb)
{
	const size_t ld = (size_t)W, bs = (size_t)KH * ld;
	const int last = W / kw * kw - VL;
	for (int b = 0; b < nb; b++) {
		for (int c = 0;; c += VL) {
			if (c > last)
				c = last;
			size_t o = (size_t)b * bs + (size_t)c;
			max_vg(dir, relu, kw, KH, 0, x + o, dir ? g + o : NULL, out + o, ld);
			if (c == last)
				break;
		}
	}
}

#ifdef __AVX512F__
/* max_vg on the rows of a 16-column group held in registers (xr, and the
 * dy rows gr for dir 1): the same operations in the same order, so the same
 * outputs */
AL_INLINE void max_g16_v(int dir, int relu, int kw, int KH, const __m512 *xr, const __m512 *gr,
			 __m512 *out)
{
	__m512 M = xr[0];
	for (int r = 1; r < KH; r++)
		M = _mm512_max_ps(xr[r], M);
	M = vgmax16(M, kw);
	if (relu) /* see max_vg */
		M = _mm512_max_ps(M, B16(0x1p-149f));
	for (int r = 0; r < KH; r++)
		out[r] = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(xr[r], M, _CMP_NLT_UQ),
					     dir ? gr[r] : xr[r]);
}

/* max_bands for W = 28 and a 64-byte aligned out, in blocks of 4 rows of
 * 16-column groups (see rows28_store); with KH = 2 and nb odd the last band
 * by max_bands */
AL_INLINE void max_bands28(int dir, int relu, int kw, int KH, const float *x, const float *g,
			   float *out, int nb)
{
	const int nblk = nb * KH / 4;
	for (int b = 0; b < nblk; b++) {
		const size_t o = (size_t)b * 112;
		__m512 h[4], t[4], hg[4], tg[4], ho[4], to[4];
		rows28_load(x + o, h, t);
		if (dir)
			rows28_load(g + o, hg, tg);
		for (int r0 = 0; r0 < 4; r0 += KH) {
			max_g16_v(dir, relu, kw, KH, h + r0, hg + r0, ho + r0);
			max_g16_v(dir, relu, kw, KH, t + r0, tg + r0, to + r0);
		}
		rows28_store(ho, to, out + o);
	}
	if (nblk * 4 < nb * KH) {
		const size_t o = (size_t)nblk * 112;
		max_bands(dir, relu, kw, KH, x + o, dir ? g + o : NULL, out + o, 28, 1);
	}
}
#endif

static __attribute__((noinline)) void max_fast(int dir, int relu, int kw, const float *x,
					       const float *g, float *out, int W, int nb)
{
#ifdef __AVX512F__
	/* rows of 28 in blocks of 4 rows when out is 64-byte aligned */
	const int b28 = W == 28 && ((uintptr_t)out & 63) == 0;
#define BANDS(D, R, K)                                                                     \
	(b28 ? max_bands28(D, R, K, K, x, g, out, nb) : max_bands(D, R, K, K, x, g, out, W, nb))
#else
#define BANDS(D, R, K) max_bands(D, R, K, K, x, g, out, W, nb)
#endif
	if (dir && relu)
		kw == 2 ? BANDS(1, 1, 2) : BANDS(1, 1, 4);
	else if (dir)
		kw == 2 ? BANDS(1, 0, 2) : BANDS(1, 0, 4);
	else if (relu)
		kw == 2 ? BANDS(0, 1, 2) : BANDS(0, 1, 4);
	else
		kw == 2 ? BANDS(0, 0, 2) : BANDS(0, 0, 4);
#undef BANDS
}

AL_INLINE void max_plane(int dir, int relu, int kwc, const wcfg *cf, const float *x,
			 const float *g, float *out)
{
	const int H = cf->H, W = cf->W, kh = cf->kh, kw = kwc ? kwc : cf->kw;
	const int zfull = cf->pad ? kh * kw : 0;
	const size_t ld = (size_t)W;
	if (!cf->first && use_groups(kw, W)) {
		const int Wf = W / kw * kw;
		int r0 = 0;
		if ((kwc == 2 || kwc == 4) && kh == kwc) {
			/* full bands (no padded zeros in them), then their right edges */
			const int nb = H / kh;
			max_fast(dir, relu, kw, x, g, out, W, nb);
			for (; Wf < W && r0 < nb * kh; r0 += kh) {
				size_t o = (size_t)r0 * ld + (size_t)Wf;
				max_band(dir, relu, kw, zfull, x + o, dir ? g + o : NULL, out + o, ld, kh,
					 W - Wf);
			}
			r0 = nb * kh;
		}
		for (; r0 < H; r0 += kh) {
			int hr = imin(kh, H - r0), z = zfull ? zfull - hr * kw : 0;
			size_t o0 = (size_t)r0 * ld;
			for (int c0 = 0; c0 < Wf; c0 += VL) {
				size_t o = o0 + (size_t)(c0 + VL <= Wf ? c0 : Wf - VL);
				const float *gp = dir ? g + o : NULL;
				if ((kwc == 2 || kwc == 4) && hr == kwc)
					max_vg(dir, relu, kw, kwc, z, x + o, gp, out + o, ld);
				else
					max_vg(dir, relu, kw, hr, z, x + o, gp, out + o, ld);
			}
			if (Wf < W) {
				size_t o = o0 + (size_t)Wf;
				max_band(dir, relu, kw, zfull, x + o, dir ? g + o : NULL, out + o, ld, hr,
					 W - Wf);
			}
		}
		return;
	}
	if (!cf->first && kw <= CW_NARROW) {
		const int CW = CWMAX / kw * kw;
		for (int r0 = 0; r0 < H; r0 += kh) {
			int hr = imin(kh, H - r0);
			for (int c0 = 0; c0 < W; c0 += CW) {
				size_t o = (size_t)r0 * ld + (size_t)c0;
				max_band(dir, relu, kw, zfull, x + o, dir ? g + o : NULL, out + o, ld,
					 hr, imin(CW, W - c0));
			}
		}
		return;
	}
	for (int r0 = 0; r0 < H; r0 += kh) {
		int hr = imin(kh, H - r0);
		for (int c0 = 0; c0 < W; c0 += kw) {
			size_t o = (size_t)r0 * ld + (size_t)c0;
			max_win(dir, relu, cf->first, kh, kw, cf->pad, x + o, dir ? g + o : NULL,
				out + o, ld, hr, imin(kw, W - c0));
		}
	}
}

#define KW_SPLIT(CALL)                                                                  \
	do {                                                                            \
		if (cf->kw == 2)                                                        \
			CALL(2);                                                        \
		else if (cf->kw == 4)                                                   \
			CALL(4);                                                        \
		else if (cf->kw == 3)                                                   \
			CALL(3);                                                        \
		else                                                                    \
			CALL(0);                                                        \
	} while (0)

/* direction, entry and width as compile-time constants */
AL_INLINE void sel_plane_dir(int dir, const wcfg *cf, const float *x, const float *g,
			     float *out)
{
#define SMAX(K) smax_plane(dir, K, cf, x, g, out)
#define MAXR(K) max_plane(dir, 1, K, cf, x, g, out)
#define MAX(K) max_plane(dir, 0, K, cf, x, g, out)
	switch (cf->op) {
	case OP_SMAX: KW_SPLIT(SMAX); break;
	case OP_MAXR: KW_SPLIT(MAXR); break;
	default: KW_SPLIT(MAX);
	}
#undef SMAX
#undef MAXR
#undef MAX
}

static void sel_plane(int dir, const wcfg *cf, const float *x, const float *g, float *out)
{
	if (dir)
		sel_plane_dir(1, cf, x, g, out);
	else
		sel_plane_dir(0, cf, x, g, out);
}

/* Backward from the forward's output: y_i = x_i keep_i, so keep_i = [y_i != 0]
 * wherever x_i != 0 (a NaN passed forward passes its gradient). Writes dx;
 * returns whether x holds an exact zero, whose mask y cannot tell. */
static int mask_from_y(const float *restrict x, const float *restrict y,
		       const float *restrict g, float *restrict dx, size_t n)
{
	int zero = 0;
	size_t i = 0;
	v8i z = {0, 0, 0, 0, 0, 0, 0, 0};
	for (; i + VL <= n; i += VL) {
		v8f xv = vload(x + i);
		vstore(dx + i, vand(vload(y + i) != VZERO, vload_now(g + i)));
		z |= xv == VZERO;
	}
	for (int u = 0; u < VL; u++)
		zero |= z[u] != 0;
	for (; i < n; i++) {
		float gi = g[i]; /* read unconditionally: a blend, not a masked load */
		dx[i] = y[i] != 0 ? gi : 0.0f;
		zero |= x[i] == 0;
	}
	return zero;
}

/* plane p of sel_run */
AL_INLINE void sel_one(int op, int dir, const wcfg *cf, int from_y, size_t hw, size_t p,
		       const float *x, const float *y, const float *g, float *out)
{
	size_t o = p * hw;
	if (from_y && (!mask_from_y(x + o, y + o, g + o, out + o, hw) || op == OP_MAXR))
		return;
	sel_plane(dir, cf, x + o, dir ? g + o : NULL, out + o);
}

/* softmax_relu, max_relu, max: no parameters. Forward: out = y (g, y NULL).
 * Backward: out = dx, g = dy; with the forward's y the masks are read from
 * it (max_relu: always; softmax_relu, max: unless the plane holds an exact
 * zero, then the plane's masks are recomputed exactly as the forward did). */
static void sel_run(int op, int dir, const double *h, int n, int c, int hh, int w,
		    const float *x, const float *y, const float *g, float *out)
{
	wcfg cf = cfg_make(op, h, c, hh, w);
	if (n <= 0 || cf.H <= 0 || cf.W <= 0 || cf.C <= 0)
		return;
	const size_t hw = (size_t)cf.H * (size_t)cf.W, np = (size_t)n * (size_t)cf.C;
	/* max_relu and max recompute their masks from x where the group path
	 * applies: as cheap as reading them from y, and one input stream fewer */
	const int grp = op != OP_SMAX && !cf.first && use_groups(cf.kw, cf.W);
	const int from_y = dir && y && !grp;
#pragma omp parallel for schedule(static)
	for (size_t p = 0; p < np; p++)
		sel_one(op, dir, &cf, from_y, hw, p, x, y, g, out);
}

/* ---- hyper checks ------------------------------------------------------------ */
#define WIN_MAX 1e9 /* larger windows are clamped to the map anyway */

static al_status check_size(const char *key, double v, int zero_ok)
{
	if (v != floor(v) || v > WIN_MAX || v < (zero_ok ? 0 : 1))
		return al_err(AL_EINVAL, "%s=%.17g: the window %s must be a whole number %s", key, v,
			      key[1] == 'h' ? "height" : key[1] == 'w' ? "width" : "side",
			      zero_ok ? ">= 0 (0: use k)" : ">= 1");
	return AL_OK;
}

static const char *per_word(al_per per)
{
	return per == AL_PER_LAYER ? "layer" : per == AL_PER_CHANNEL ? "channel" : "neuron";
}

static al_status check_common(const double *h, al_per per, int per_given, int learn)
{
	AL_TRY(check_size("k", h[AL_WIN_K], 0));
	AL_TRY(check_size("kh", h[AL_WIN_KH], 1));
	AL_TRY(check_size("kw", h[AL_WIN_KW], 1));
	if (per_given && !learn)
		return al_err(AL_EINVAL,
			      "per=%s applies to trainable parameters and this entry has none",
			      per_word(per));
	return AL_OK;
}

al_status al_win_check_lambda(const double *h, al_per per, int per_given)
{
	int learn = h[AL_WIN_LEARN] != 0;
	if (per_given && !learn)
		return al_err(AL_EINVAL,
			      "per=%s needs a trainable lambda (influence=learn or learn=1); with a "
			      "fixed influence there are no parameters",
			      per_word(per));
	AL_TRY(check_common(h, per, 0, learn));
	double l = h[AL_WIN_INFLUENCE];
	if (!(l >= 0 && l <= 1))
		return al_err(AL_ERANGE, "influence=%.17g outside [0, 1] (SPEC 1.2: lambda in [0, 1])",
			      l);
	return AL_OK;
}

al_status al_win_check_softmax(const double *h, al_per per, int per_given)
{
	AL_TRY(check_common(h, per, per_given, 0));
	double t = h[AL_WIN_TAU];
	if (!(t >= 0 && t <= 1))
		return al_err(AL_ERANGE, "tau=%.17g outside [0, 1] (a threshold on softmax weights)",
			      t);
	return AL_OK;
}

al_status al_win_check_max(const double *h, al_per per, int per_given)
{
	return check_common(h, per, per_given, 0);
}

/* ---- hooks ----------------------------------------------------------------- */
int al_win_lambda_nparams(const double *h) { return h[AL_WIN_LEARN] != 0 ? 1 : 0; }

void al_win_lambda_name(const double *h, int k, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s", k == 0 ? "lambda" : "?");
}

void al_win_lambda_init(const double *h, float *p, size_t groups, al_rng *r)
{
	float l = clamp01((float)h[AL_WIN_INFLUENCE]);
	for (size_t g = 0; g < groups * (size_t)al_win_lambda_nparams(h); g++)
		p[g] = l;
}

size_t al_win_lambda_scratch(const double *h, al_per per, int n, int c, int hh, int w)
{
	if (h[AL_WIN_LEARN] == 0 || n <= 0)
		return 0;
	int dense = hh == 1 && w == 1;
	if (per == AL_PER_NEURON || (dense && per == AL_PER_CHANNEL))
		return 0;
	return (size_t)n * (size_t)(dense ? 1 : c);
}

void al_win_lambda_project(const double *h, float *p, size_t groups, int P)
{
	for (size_t g = 0; g < groups * (size_t)P; g++)
		p[g] = clamp01(p[g]);
}

#define LAM_ENTRY(e, OPX)                                                                      \
	void al_win_##e##_fwd(const double *h, al_per per, const float *params, int n, int c,  \
			      int hh, int w, const float *x, float *y)                         \
	{                                                                                      \
		lam_forward(OPX, h, per, params, n, c, hh, w, x, y);                           \
	}                                                                                      \
	void al_win_##e##_bwd(const double *h, al_per per, const float *params, int n, int c,  \
			      int hh, int w, const float *x, const float *y, const float *dy,  \
			      float *dx, float *dparams, float *scratch)                       \
	{                                                                                      \
		lam_backward(OPX, h, per, params, n, c, hh, w, x, dy, dx, dparams, scratch);   \
	}
LAM_ENTRY(nelu, OP_NELU)
LAM_ENTRY(pnelu, OP_PNELU)
LAM_ENTRY(excitator, h[AL_WIN_COMPAT] != 0 ? OP_EXCREF : OP_EXC)
LAM_ENTRY(excitator_v2, OP_EXCV2)
LAM_ENTRY(inhibitor, OP_NELU) /* SPEC 1.7: identical to nelu */
LAM_ENTRY(inhibitor_v2, h[AL_WIN_COMPAT] != 0 ? OP_NELU : OP_INHV2)

#define SEL_ENTRY(e, OPX)                                                                      \
	void al_win_##e##_fwd(const double *h, al_per per, const float *params, int n, int c,  \
			      int hh, int w, const float *x, float *y)                         \
	{                                                                                      \
		sel_run(OPX, 0, h, n, c, hh, w, x, NULL, NULL, y);                                   \
	}                                                                                      \
	void al_win_##e##_bwd(const double *h, al_per per, const float *params, int n, int c,  \
			      int hh, int w, const float *x, const float *y, const float *dy,  \
			      float *dx, float *dparams, float *scratch)                       \
	{                                                                                      \
		sel_run(OPX, 1, h, n, c, hh, w, x, y, dy, dx);                                    \
	}
SEL_ENTRY(softmax_relu, OP_SMAX)
SEL_ENTRY(max_relu, OP_MAXR)
SEL_ENTRY(max, OP_MAX)
