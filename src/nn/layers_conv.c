/* layers_conv.c — 2-D convolution, NCHW, weights laid out as in PyTorch:
 * W (out, in/groups, kh, kw) then bias (out).
 *
 * Each image is one OpenBLAS sgemm per group on its own im2col matrix,
 * which stays in L1/L2 (DESIGN.md: per-image GEMMs of LeNet-size convs beat
 * one whole-batch im2col GEMM). 1x1 stride-1 unpadded convs use the input
 * as their column matrix. Stride-1 convs first copy a padded image into the
 * work buffer, so every im2col row is a plain full-width copy (vector body,
 * overlapping vector tail) and col2im a plain add. The weight gradient of
 * convs with at most 8 filters per group (LeNet conv1) uses a small
 * register-blocked kernel, because sgemm with M = 6 runs at ~17 GFLOP/s.
 *
 * OpenBLAS runs single-threaded; OpenMP runs over the AL_NPART fixed batch
 * partitions (partition p = images [p*n/AL_NPART, (p+1)*n/AL_NPART)), each
 * with its own work buffer and its own partial weight gradient, summed in
 * partition order afterwards, so every thread count gives bit-identical
 * results. Backward recomputes im2col instead of keeping the forward's
 * column matrices (memory).
 * Not for: pooling (layers_pool.c), transposed or 3-D convolution.
 */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "nn/layer.h"

/* Below this many floats touched, a parallel region costs more than it
 * saves; running serially does not change any result. */
#define PAR_MIN 32768

typedef struct {
	int cin, ih, iw;             /* input per sample */
	int cout, oh, ow;            /* output per sample */
	int kh, kw, sh, sw, ph, pw, dh, dw;
	int ph1, pw1;                /* padding after the input (bottom, right) */
	int groups, cin_g, cout_g, bias;
	int kg;                      /* cin_g*kh*kw: GEMM inner size */
	int direct;                  /* 1x1, stride 1, pad 0: no im2col */
	int s1;                      /* stride 1: im2col from a padded input */
	int padcopy;                 /* s1 with padding: pad into the work buffer */
	int hp, wp;                  /* padded input size */
	size_t nwk;                  /* weight count without bias */
	/* For kernel row ki, output rows [oy0[ki], oy1[ki]) read inside the
	 * image; likewise columns for kernel column kj. */
	int *oy0, *oy1, *ox0, *ox1;
} conv_cfg;

static void conv_free(al_layer *l)
{
	conv_cfg *c = l->priv;
	if (c) {
		free(c->oy0);
		free(c->ox0);
		free(c);
	}
	l->priv = NULL;
}

/* Output positions o in [0, out) whose input index o*s + off lies in
 * [0, in): [*b, *e), with *e >= *b. */
static void valid_range(int in, int out, int s, int off, int *b, int *e)
{
	int lo = off >= 0 ? 0 : (-off + s - 1) / s;
	int hi = in - 1 - off < 0 ? 0 : (in - 1 - off) / s + 1;
	lo = lo < out ? lo : out;
	hi = hi < out ? hi : out;
	*b = lo;
	*e = hi > lo ? hi : lo;
}

static al_status conv_setup1(al_layer *l, al_cfg_section *s)
{
	conv_cfg *c = calloc(1, sizeof *c);
	if (!c)
		return al_err(AL_ENOMEM, "conv: out of memory");
	l->priv = c;
	if (l->nin != 1)
		return al_err(AL_EINVAL, "conv takes one input, got %d", l->nin);
	const int big = 1 << 20, kbig = 1 << 12; /* kbig: dilation * size fits an int */
	int size, same = 0, pad = 0, pad_after = 0, stride, dil;
	AL_TRY(al_cfg_int(s, "filters", 0, 1, big, &c->cout));
	if (c->cout == 0)
		return al_err(AL_EINVAL, "conv needs filters = N (output channels)");
	AL_TRY(al_cfg_int(s, "size", 0, 1, kbig, &size));
	AL_TRY(al_cfg_int(s, "size_h", size, 1, kbig, &c->kh));
	AL_TRY(al_cfg_int(s, "size_w", size, 1, kbig, &c->kw));
	if (c->kh == 0 || c->kw == 0)
		return al_err(AL_EINVAL, "conv needs size = K (or size_h = KH and size_w = KW)");
	AL_TRY(al_cfg_int(s, "stride", 1, 1, big, &stride));
	AL_TRY(al_cfg_int(s, "dilation", 1, 1, kbig, &dil));
	AL_TRY(al_cfg_int(s, "groups", 1, 1, big, &c->groups));
	AL_TRY(al_cfg_int(s, "bias", 1, 0, 1, &c->bias));
	const char *ps = al_cfg_str(s, "pad", "0");
	if (strcmp(ps, "same") == 0) {
		same = 1;
	} else {
		/* pad = N, or pad = B,A: B before (top/left), A after (bottom/right),
		 * e.g. TensorFlow's 'SAME' for strided convs */
		char *end;
		long v = strtol(ps, &end, 10), v1 = v;
		if (end != ps && *end == ',') {
			const char *q = end + 1;
			v1 = strtol(q, &end, 10);
			if (end == q)
				v1 = -1;
		}
		if (end == ps || *end || v < 0 || v > big || v1 < 0 || v1 > big)
			return al_err(AL_EINVAL,
				      "conv: pad = '%s': expected a non-negative integer, B,A (before, "
				      "after) or 'same'",
				      ps);
		pad = (int)v;
		pad_after = (int)v1;
	}
	c->sh = c->sw = stride;
	c->dh = c->dw = dil;
	if (same) {
		/* PyTorch's padding='same' (and TensorFlow's): total dil*(k-1), the
		 * odd one at the bottom/right for even kernels */
		if (stride != 1)
			return al_err(AL_EINVAL,
				      "conv: pad = same needs stride 1 (stride %d); give pad = N "
				      "instead",
				      stride);
		c->ph = dil * (c->kh - 1) / 2;
		c->pw = dil * (c->kw - 1) / 2;
		c->ph1 = dil * (c->kh - 1) - c->ph;
		c->pw1 = dil * (c->kw - 1) - c->pw;
	} else {
		c->ph = c->pw = pad;
		c->ph1 = c->pw1 = pad_after;
	}
	c->cin = l->in_c[0];
	c->ih = l->in_h[0];
	c->iw = l->in_w[0];
	if (c->cin % c->groups)
		return al_err(AL_EINVAL, "conv: input has %d channels, groups = %d does not divide it",
			      c->cin, c->groups);
	if (c->cout % c->groups)
		return al_err(AL_EINVAL, "conv: filters = %d is not divisible by groups = %d",
			      c->cout, c->groups);
	long ekh = (long)dil * (c->kh - 1) + 1, ekw = (long)dil * (c->kw - 1) + 1;
	long pih = (long)c->ih + c->ph + c->ph1, piw = (long)c->iw + c->pw + c->pw1;
	if (ekh > pih || ekw > piw) {
		if (dil > 1)
			return al_err(AL_EINVAL,
				      "conv: kernel %dx%d with dilation %d spans %ldx%ld, larger than "
				      "the padded input %ldx%ld",
				      c->kh, c->kw, dil, ekh, ekw, pih, piw);
		return al_err(AL_EINVAL, "conv: kernel %dx%d larger than padded input %ldx%ld", c->kh,
			      c->kw, pih, piw);
	}
	c->oh = (int)((pih - ekh) / c->sh + 1);
	c->ow = (int)((piw - ekw) / c->sw + 1);
	c->cin_g = c->cin / c->groups;
	c->cout_g = c->cout / c->groups;
	long long kg = (long long)c->cin_g * c->kh * c->kw, P = (long long)c->oh * c->ow;
	if (kg * P >= (1LL << 31) || (long long)c->cout * kg >= (1LL << 31) ||
	    (long long)c->cout * P >= (1LL << 31) ||
	    (long long)c->cin * c->ih * c->iw >= (1LL << 31))
		return al_err(AL_ERANGE, "conv: %d->%d channels, kernel %dx%d on %dx%d is too large",
			      c->cin, c->cout, c->kh, c->kw, c->ih, c->iw);
	c->kg = (int)kg;
	c->direct = c->kh == 1 && c->kw == 1 && c->sh == 1 && c->sw == 1 && c->ph == 0 &&
		    c->pw == 0 && c->ph1 == 0 && c->pw1 == 0;
	c->s1 = c->sh == 1 && c->sw == 1;
	c->padcopy = c->s1 && (c->ph > 0 || c->pw > 0 || c->ph1 > 0 || c->pw1 > 0);
	c->hp = (int)pih;
	c->wp = (int)piw;
	if ((long long)c->cin_g * c->hp * c->wp >= (1LL << 31))
		return al_err(AL_ERANGE, "conv: padded input %dx%dx%d is too large", c->cin_g, c->hp,
			      c->wp);
	c->nwk = (size_t)c->cout * (size_t)c->kg;
	c->oy0 = malloc(2 * (size_t)c->kh * sizeof(int));
	c->ox0 = malloc(2 * (size_t)c->kw * sizeof(int));
	if (!c->oy0 || !c->ox0)
		return al_err(AL_ENOMEM, "conv: out of memory");
	c->oy1 = c->oy0 + c->kh;
	c->ox1 = c->ox0 + c->kw;
	for (int k = 0; k < c->kh; k++)
		valid_range(c->ih, c->oh, c->sh, k * c->dh - c->ph, &c->oy0[k], &c->oy1[k]);
	for (int k = 0; k < c->kw; k++)
		valid_range(c->iw, c->ow, c->sw, k * c->dw - c->pw, &c->ox0[k], &c->ox1[k]);
	l->out_c = c->cout;
	l->out_h = c->oh;
	l->out_w = c->ow;
	l->nw = c->nwk + (c->bias ? (size_t)c->cout : 0);
	return AL_OK;
}

/* The model does not free a layer whose setup failed: free priv here. */
static al_status conv_setup(al_layer *l, al_cfg_section *s)
{
	al_status st = conv_setup1(l, s);
	if (st != AL_OK)
		conv_free(l);
	return st;
}

static size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

/* Per-partition work floats: the column matrix, then (stride 1 with
 * padding) a zero-padded copy of one group's input or input gradient. */
static size_t col_floats(const conv_cfg *c)
{
	return c->direct ? 0 : round16((size_t)c->kg * (size_t)c->oh * (size_t)c->ow);
}
static size_t pad_floats(const conv_cfg *c)
{
	return c->padcopy ? round16((size_t)c->cin_g * (size_t)c->hp * (size_t)c->wp) : 0;
}
static size_t work_floats(const conv_cfg *c) { return col_floats(c) + pad_floats(c); }
static size_t part_floats(const al_layer *l) { return round16(l->nw); }

/* workspace: AL_NPART work buffers, then AL_NPART partial weight gradients
 * (needed only within one forward or backward call, so shared by layers) */
static size_t conv_work(const al_layer *l, int n)
{
	const conv_cfg *c = l->priv;
	return AL_NPART * (work_floats(c) + part_floats(l));
}

static void conv_init(al_layer *l, al_rng *r)
{
	conv_cfg *c = l->priv;
	/* PyTorch: fan_in = in/groups*kh*kw, fan_out = out*kh*kw */
	int fan_in = c->kg, fan_out = c->cout * c->kh * c->kw;
	al_init_fill((al_init_kind)l->init_kind, l->w, c->nwk, fan_in, fan_out, r);
	if (c->bias && l->init_kind == AL_INIT_TORCH)
		al_init_fill(AL_INIT_TORCH, l->w + c->nwk, (size_t)c->cout, fan_in, fan_out, r);
}

/* d[0, len) = s[0, len), len >= 8. Rows are short (LeNet: 10 and 28
 * floats): whole 8-float vectors, the tail as one overlapping vector. */
static inline void copy_row8(float *restrict d, const float *restrict s, int len)
{
	float *de = d + len - 8;
	const float *se = s + len - 8;
	for (; d < de; d += 8, s += 8)
		memcpy(d, s, 8 * sizeof(float));
	memcpy(de, se, 8 * sizeof(float));
}

static inline void copy_row(float *restrict d, const float *restrict s, int len)
{
	if (len >= 8)
		copy_row8(d, s, len);
	else
		memcpy(d, s, (size_t)len * sizeof(float));
}

/* 8-float vectors (GCC/Clang vector extension; plain SIMD loads/stores) */
typedef float v8f __attribute__((vector_size(32)));

static inline v8f load8(const float *p)
{
	v8f v;
	memcpy(&v, p, sizeof v);
	return v;
}
static inline void store8(float *p, v8f v) { memcpy(p, &v, sizeof v); }

/* d[0, len) += s[0, len): whole 8-float vectors; a ragged tail is one
 * vector overlapping the last whole one. Both are computed from d before
 * either is stored, and the last whole vector is stored after the tail, so
 * the overlap gets its sum once (and no load waits on an overlapping
 * store). */
static inline void add_row(float *restrict d, const float *restrict s, int len)
{
	if (len < 8) {
		for (int j = 0; j < len; j++)
			d[j] += s[j];
		return;
	}
	int j = 0;
	for (; j + 16 <= len; j += 8)
		store8(d + j, load8(d + j) + load8(s + j));
	/* len - j in [8, 16) */
	const v8f last = load8(d + j) + load8(s + j);
	if (j + 8 < len)
		store8(d + len - 8, load8(d + len - 8) + load8(s + len - 8));
	store8(d + j, last);
}

/* xp: (cin_g, hp, wp) <- x: (cin_g, ih, iw) with zero borders. */
static void pad_copy(const conv_cfg *c, const float *restrict x, float *restrict xp)
{
	memset(xp, 0, (size_t)c->cin_g * (size_t)c->hp * (size_t)c->wp * sizeof(float));
	for (int ci = 0; ci < c->cin_g; ci++)
		for (int iy = 0; iy < c->ih; iy++)
			copy_row(xp + ((size_t)ci * c->hp + (size_t)(iy + c->ph)) * (size_t)c->wp +
					 (size_t)c->pw,
				 x + ((size_t)ci * c->ih + (size_t)iy) * (size_t)c->iw, c->iw);
}

/* Stride 1: col (cin_g*kh*kw, oh*ow) <- xp (cin_g, hp, wp), already padded:
 * every row is a full-width copy, no bounds or zero handling. */
static void im2col_s1(const conv_cfg *c, const float *restrict xp, float *restrict col)
{
	const int oh = c->oh, ow = c->ow;
	const size_t wp = (size_t)c->wp, P = (size_t)oh * (size_t)ow;
	for (int ci = 0; ci < c->cin_g; ci++)
		for (int ki = 0; ki < c->kh; ki++)
			for (int kj = 0; kj < c->kw; kj++, col += P) {
				const float *s = xp + ((size_t)ci * c->hp + (size_t)(ki * c->dh)) * wp +
						 (size_t)(kj * c->dw);
				float *d = col;
				if (ow >= 8)
					for (int oy = 0; oy < oh; oy++, d += ow, s += wp)
						copy_row8(d, s, ow);
				else
					for (int oy = 0; oy < oh; oy++, d += ow, s += wp)
						memcpy(d, s, (size_t)ow * sizeof(float));
			}
}

/* Stride 1: dxp (cin_g, hp, wp) += col2im(col). */
static void col2im_s1(const conv_cfg *c, const float *restrict col, float *restrict dxp)
{
	const int oh = c->oh, ow = c->ow;
	const size_t wp = (size_t)c->wp, P = (size_t)oh * (size_t)ow;
	for (int ci = 0; ci < c->cin_g; ci++)
		for (int ki = 0; ki < c->kh; ki++)
			for (int kj = 0; kj < c->kw; kj++, col += P) {
				float *d = dxp + ((size_t)ci * c->hp + (size_t)(ki * c->dh)) * wp +
					   (size_t)(kj * c->dw);
				for (int oy = 0; oy < oh; oy++)
					add_row(d + (size_t)oy * wp, col + (size_t)oy * (size_t)ow, ow);
			}
}

/* Any stride: col (cin_g*kh*kw, oh*ow) <- x (cin_g, ih, iw), zeros where
 * the window reads padding. The valid output range of each kernel offset
 * is precomputed, so there are no per-element bounds tests. */
static void im2col_strided(const conv_cfg *c, const float *restrict x, float *restrict col)
{
	const int oh = c->oh, ow = c->ow, iw = c->iw, sh = c->sh, sw = c->sw;
	const size_t P = (size_t)oh * (size_t)ow;
	for (int ci = 0; ci < c->cin_g; ci++) {
		const float *xc = x + (size_t)ci * (size_t)c->ih * (size_t)iw;
		for (int ki = 0; ki < c->kh; ki++) {
			const int y0 = c->oy0[ki], y1 = c->oy1[ki], offy = ki * c->dh - c->ph;
			for (int kj = 0; kj < c->kw; kj++, col += P) {
				const int x0 = c->ox0[kj], x1 = c->ox1[kj], offx = kj * c->dw - c->pw;
				memset(col, 0, (size_t)y0 * (size_t)ow * sizeof(float));
				for (int oy = y0; oy < y1; oy++) {
					float *d = col + (size_t)oy * (size_t)ow;
					const float *srow = xc + (size_t)(oy * sh + offy) * (size_t)iw;
					for (int ox = 0; ox < x0; ox++)
						d[ox] = 0.0f;
					for (int ox = x0; ox < x1; ox++)
						d[ox] = srow[ox * sw + offx];
					for (int ox = x1; ox < ow; ox++)
						d[ox] = 0.0f;
				}
				memset(col + (size_t)y1 * (size_t)ow, 0,
				       (size_t)(oh - y1) * (size_t)ow * sizeof(float));
			}
		}
	}
}

/* Any stride: dx (cin_g, ih, iw) += col2im(col). */
static void col2im_strided(const conv_cfg *c, const float *restrict col, float *restrict dx)
{
	const int ow = c->ow, iw = c->iw, sh = c->sh, sw = c->sw;
	const size_t P = (size_t)c->oh * (size_t)ow;
	for (int ci = 0; ci < c->cin_g; ci++) {
		float *xc = dx + (size_t)ci * (size_t)c->ih * (size_t)iw;
		for (int ki = 0; ki < c->kh; ki++) {
			const int y0 = c->oy0[ki], y1 = c->oy1[ki], offy = ki * c->dh - c->ph;
			for (int kj = 0; kj < c->kw; kj++, col += P) {
				const int x0 = c->ox0[kj], x1 = c->ox1[kj], offx = kj * c->dw - c->pw;
				for (int oy = y0; oy < y1; oy++) {
					const float *srow = col + (size_t)oy * (size_t)ow;
					float *d = xc + (size_t)(oy * sh + offy) * (size_t)iw;
					for (int ox = x0; ox < x1; ox++)
						d[ox * sw + offx] += srow[ox];
				}
			}
		}
	}
}

/* The column matrix of one group's input xg (cin_g, ih, iw): xg itself for
 * direct convs, else built in work. */
static const float *columns(const conv_cfg *c, const float *xg, float *work)
{
	if (c->direct)
		return xg;
	if (!c->s1) {
		im2col_strided(c, xg, work);
		return work;
	}
	const float *xp = xg;
	if (c->padcopy) {
		float *pb = work + col_floats(c);
		pad_copy(c, xg, pb);
		xp = pb;
	}
	im2col_s1(c, xp, work);
	return work;
}

/* dxg (cin_g, ih, iw) = col2im(dcol), dcol in work (not for direct). */
static void columns_back(const conv_cfg *c, float *work, float *dxg)
{
	const size_t gsz = (size_t)c->cin_g * (size_t)c->ih * (size_t)c->iw;
	if (!c->s1) {
		memset(dxg, 0, gsz * sizeof(float));
		col2im_strided(c, work, dxg);
		return;
	}
	if (!c->padcopy) {
		memset(dxg, 0, gsz * sizeof(float));
		col2im_s1(c, work, dxg);
		return;
	}
	float *pb = work + col_floats(c);
	memset(pb, 0, (size_t)c->cin_g * (size_t)c->hp * (size_t)c->wp * sizeof(float));
	col2im_s1(c, work, pb);
	for (int ci = 0; ci < c->cin_g; ci++)
		for (int iy = 0; iy < c->ih; iy++)
			copy_row(dxg + ((size_t)ci * c->ih + (size_t)iy) * (size_t)c->iw,
				 pb + ((size_t)ci * c->hp + (size_t)(iy + c->ph)) * (size_t)c->wp +
					 (size_t)c->pw,
				 c->iw);
}

/* dw (m, kg) += dy (m, P) col (kg, P)^T for few output channels, where
 * OpenBLAS's sgemm is slow (LeNet conv1, m = 6: 17 GFLOP/s): for each
 * column row, m dot products share its loads. Lane sums in a fixed order. */
#define DW_SMALL_M 8
static inline __attribute__((always_inline)) void dw_small_m(const int m, int kg, int P,
							    const float *restrict dy,
							    const float *restrict col,
							    float *restrict dw)
{
	for (int k = 0; k < kg; k++) {
		const float *cr = col + (size_t)k * (size_t)P;
		v8f acc[DW_SMALL_M];
		for (int o = 0; o < m; o++)
			acc[o] = (v8f){0};
		int j = 0;
		for (; j + 8 <= P; j += 8) {
			const v8f cv = load8(cr + j);
			for (int o = 0; o < m; o++)
				acc[o] += cv * load8(dy + (size_t)o * (size_t)P + (size_t)j);
		}
		for (int o = 0; o < m; o++) {
			float lanes[8];
			memcpy(lanes, &acc[o], sizeof lanes);
			float sum = ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) +
				    ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
			const float *dr = dy + (size_t)o * (size_t)P;
			for (int t = j; t < P; t++)
				sum += cr[t] * dr[t];
			dw[(size_t)o * (size_t)kg + (size_t)k] += sum;
		}
	}
}

static void dw_small(int m, int kg, int P, const float *dy, const float *col, float *dw)
{
	switch (m) { /* constant m: accumulators stay in registers */
	case 1: dw_small_m(1, kg, P, dy, col, dw); break;
	case 2: dw_small_m(2, kg, P, dy, col, dw); break;
	case 3: dw_small_m(3, kg, P, dy, col, dw); break;
	case 4: dw_small_m(4, kg, P, dy, col, dw); break;
	case 5: dw_small_m(5, kg, P, dy, col, dw); break;
	case 6: dw_small_m(6, kg, P, dy, col, dw); break;
	case 7: dw_small_m(7, kg, P, dy, col, dw); break;
	default: dw_small_m(8, kg, P, dy, col, dw); break;
	}
}

static void part_images(int n, int p, int *b, int *e)
{
	*b = (int)((long)p * n / AL_NPART);
	*e = (int)((long)(p + 1) * n / AL_NPART);
}

/* Whether a batch is worth a parallel region: at least ~64k multiply-adds. */
static int par_worth(const conv_cfg *c, int n)
{
	return (double)n * (double)c->oh * (double)c->ow * (double)c->cout * (double)c->kg >=
	       65536.0;
}

static void conv_forward(al_layer *l, int n, int train)
{
	conv_cfg *c = l->priv;
	const size_t P = (size_t)c->oh * (size_t)c->ow, insz = al_in_size(l, 0);
	const size_t outsz = al_out_size(l), xg_sz = (size_t)c->cin_g * (size_t)c->ih * (size_t)c->iw;
	const float *W = l->w, *b = l->w + c->nwk;
#pragma omp parallel for schedule(static) if (par_worth(c, n))
	for (int p = 0; p < AL_NPART; p++) {
		int i0, i1;
		part_images(n, p, &i0, &i1);
		float *work = l->work + (size_t)p * work_floats(c);
		for (int i = i0; i < i1; i++) {
			/* x: (cin, ih, iw), y: (cout, oh, ow) of image i */
			const float *x = l->x[0] + (size_t)i * insz;
			float *y = l->y + (size_t)i * outsz;
			if (c->bias)
				for (int o = 0; o < c->cout; o++) {
					float *yo = y + (size_t)o * P, bo = b[o];
					for (size_t j = 0; j < P; j++)
						yo[j] = bo;
				}
			for (int g = 0; g < c->groups; g++) {
				const float *col = columns(c, x + (size_t)g * xg_sz, work);
				/* y_g (cout_g, P) = W_g (cout_g, kg) col (kg, P) (+ y_g) */
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, c->cout_g, (int)P,
					    c->kg, 1.0f, W + (size_t)g * c->cout_g * c->kg, c->kg, col,
					    (int)P, c->bias ? 1.0f : 0.0f, y + (size_t)g * c->cout_g * P,
					    (int)P);
			}
		}
	}
}

static void conv_backward(al_layer *l, int n)
{
	conv_cfg *c = l->priv;
	const size_t P = (size_t)c->oh * (size_t)c->ow, insz = al_in_size(l, 0);
	const size_t outsz = al_out_size(l), xg_sz = (size_t)c->cin_g * (size_t)c->ih * (size_t)c->iw;
	const size_t workf = work_floats(c), partf = part_floats(l);
	float *parts = l->work + AL_NPART * workf;
	const float *W = l->w;
	float *dxall = l->dx[0];
#pragma omp parallel for schedule(static) if (par_worth(c, n))
	for (int p = 0; p < AL_NPART; p++) {
		int i0, i1;
		part_images(n, p, &i0, &i1);
		float *work = l->work + (size_t)p * workf;
		float *pdw = parts + (size_t)p * partf, *pdb = pdw + c->nwk;
		memset(pdw, 0, l->nw * sizeof(float));
		for (int i = i0; i < i1; i++) {
			const float *x = l->x[0] + (size_t)i * insz;
			const float *dy = l->dy + (size_t)i * outsz;
			if (c->bias)
				for (int o = 0; o < c->cout; o++) {
					const float *d = dy + (size_t)o * P;
					float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
					for (size_t j = 0; j < P; j++)
						sum += d[j];
					pdb[o] += sum;
				}
			for (int g = 0; g < c->groups; g++) {
				const float *dyg = dy + (size_t)g * c->cout_g * P;
				const float *Wg = W + (size_t)g * c->cout_g * c->kg;
				const float *col = columns(c, x + (size_t)g * xg_sz, work);
				/* dW_g (cout_g, kg) += dy_g (cout_g, P) col^T (P, kg) */
				float *pdwg = pdw + (size_t)g * c->cout_g * c->kg;
				if (c->cout_g <= DW_SMALL_M)
					dw_small(c->cout_g, c->kg, (int)P, dyg, col, pdwg);
				else
					cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, c->cout_g,
						    c->kg, (int)P, 1.0f, dyg, (int)P, col, (int)P, 1.0f,
						    pdwg, c->kg);
				if (!dxall)
					continue;
				/* dcol (kg, P) = W_g^T (kg, cout_g) dy_g (cout_g, P) */
				float *dxg = dxall + (size_t)i * insz + (size_t)g * xg_sz;
				cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, c->kg, (int)P,
					    c->cout_g, 1.0f, Wg, c->kg, dyg, (int)P, 0.0f,
					    c->direct ? dxg : work, (int)P);
				if (!c->direct)
					columns_back(c, work, dxg);
			}
		}
	}
	/* dw += sum of the partitions' partials, in partition order */
	float *dw = l->dw;
	const size_t nw = l->nw;
#pragma omp parallel for schedule(static) if (nw >= PAR_MIN)
	for (size_t j0 = 0; j0 < nw; j0 += 256) {
		size_t j1 = j0 + 256 < nw ? j0 + 256 : nw;
		float acc[256];
		memcpy(acc, parts + j0, (j1 - j0) * sizeof(float));
		for (int p = 1; p < AL_NPART; p++) {
			const float *pp = parts + (size_t)p * partf;
			for (size_t j = j0; j < j1; j++)
				acc[j - j0] += pp[j];
		}
		for (size_t j = j0; j < j1; j++)
			dw[j] += acc[j - j0];
	}
}

const al_layer_ops al_layer_conv = {
	.type = "conv",
	.doc = "2-D convolution: filters = N, size = K (or size_h, size_w), stride = 1, "
	       "pad = 0|N|B,A (before, after)|same (PyTorch's: the odd pixel of even kernels at the bottom/right), dilation = 1, groups = 1, bias = 1|0, init; weights "
	       "(out, in/groups, kh, kw) then bias (out) as in PyTorch",
	.setup = conv_setup,
	.work = conv_work,
	.init = conv_init,
	.forward = conv_forward,
	.backward = conv_backward,
	.free = conv_free,
};
