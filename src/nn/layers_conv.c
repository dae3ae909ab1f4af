/* layers_conv.c — 2-D convolution, NCHW, weights laid out as in PyTorch:
 * W (out, in/groups, kh, kw) then bias (out).
 *
 * Each image is one GEMM per group on its own im2col matrix, which stays in
 * L1/L2 (DESIGN.md: per-image GEMMs of LeNet-size convs run ~2x faster than
 * one whole-batch im2col GEMM). 1x1 stride-1 unpadded convs use the input
 * as its column matrix. OpenBLAS runs single-threaded; OpenMP runs over the
 * AL_NPART fixed batch partitions (partition p = images
 * [p*n/AL_NPART, (p+1)*n/AL_NPART)), each with its own column buffer and
 * its own partial weight gradient, summed in partition order afterwards, so
 * every thread count gives bit-identical results. Backward recomputes
 * im2col instead of keeping the forward's column matrices.
 * Not for: pooling (layers_pool.c), transposed or 3-D convolution.
 */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "nn/layer.h"

typedef struct {
	int cin, ih, iw;             /* input per sample */
	int cout, oh, ow;            /* output per sample */
	int kh, kw, sh, sw, ph, pw, dh, dw;
	int groups, cin_g, cout_g, bias;
	int kg;                      /* cin_g*kh*kw: GEMM inner size */
	int direct;                  /* 1x1, stride 1, pad 0: no im2col */
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

static al_status conv_setup(al_layer *l, al_cfg_section *s)
{
	conv_cfg *c = calloc(1, sizeof *c);
	if (!c)
		return al_err(AL_ENOMEM, "conv: out of memory");
	l->priv = c;
	if (l->nin != 1)
		return al_err(AL_EINVAL, "conv takes one input, got %d", l->nin);
	const int big = 1 << 20;
	int size, same = 0, pad = 0, stride, dil;
	AL_TRY(al_cfg_int(s, "filters", 0, 1, big, &c->cout));
	if (c->cout == 0)
		return al_err(AL_EINVAL, "conv needs filters = N (output channels)");
	AL_TRY(al_cfg_int(s, "size", 0, 1, big, &size));
	AL_TRY(al_cfg_int(s, "size_h", size, 1, big, &c->kh));
	AL_TRY(al_cfg_int(s, "size_w", size, 1, big, &c->kw));
	if (c->kh == 0 || c->kw == 0)
		return al_err(AL_EINVAL, "conv needs size = K (or size_h = KH and size_w = KW)");
	AL_TRY(al_cfg_int(s, "stride", 1, 1, big, &stride));
	AL_TRY(al_cfg_int(s, "dilation", 1, 1, big, &dil));
	AL_TRY(al_cfg_int(s, "groups", 1, 1, big, &c->groups));
	AL_TRY(al_cfg_int(s, "bias", 1, 0, 1, &c->bias));
	const char *ps = al_cfg_str(s, "pad", "0");
	if (strcmp(ps, "same") == 0) {
		same = 1;
	} else {
		char *end;
		long v = strtol(ps, &end, 10);
		if (end == ps || *end || v < 0 || v > big)
			return al_err(AL_EINVAL,
				      "conv: pad = '%s': expected a non-negative integer or 'same'", ps);
		pad = (int)v;
	}
	c->sh = c->sw = stride;
	c->dh = c->dw = dil;
	if (same) {
		if (c->kh % 2 == 0 || c->kw % 2 == 0 || stride != 1)
			return al_err(AL_EINVAL,
				      "conv: pad = same needs an odd kernel and stride 1 (kernel %dx%d, "
				      "stride %d); give pad = N instead",
				      c->kh, c->kw, stride);
		c->ph = dil * (c->kh - 1) / 2;
		c->pw = dil * (c->kw - 1) / 2;
	} else {
		c->ph = c->pw = pad;
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
	long pih = c->ih + 2L * c->ph, piw = c->iw + 2L * c->pw;
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
		    c->pw == 0;
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

/* Column buffer floats per partition. */
static size_t col_floats(const conv_cfg *c)
{
	return c->direct ? 0 : (((size_t)c->kg * (size_t)c->oh * (size_t)c->ow + 15) & ~(size_t)15);
}

static size_t part_floats(const al_layer *l) { return (l->nw + 15) & ~(size_t)15; }

/* scratch: AL_NPART column buffers, then AL_NPART partial weight gradients */
static size_t conv_scratch(const al_layer *l, int n)
{
	const conv_cfg *c = l->priv;
	return AL_NPART * (col_floats(c) + part_floats(l));
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

/* col: (cin_g*kh*kw, oh*ow) <- x: (cin_g, ih, iw), zeros where the window
 * reads padding. Rows of col are contiguous; no per-element bounds tests. */
static void im2col(const conv_cfg *c, const float *restrict x, float *restrict col)
{
	const int oh = c->oh, ow = c->ow, iw = c->iw, sw = c->sw;
	const size_t P = (size_t)oh * (size_t)ow;
	for (int ci = 0; ci < c->cin_g; ci++) {
		const float *xc = x + (size_t)ci * (size_t)c->ih * (size_t)iw;
		for (int ki = 0; ki < c->kh; ki++) {
			const int y0 = c->oy0[ki], y1 = c->oy1[ki], offy = ki * c->dh - c->ph;
			for (int kj = 0; kj < c->kw; kj++, col += P) {
				const int x0 = c->ox0[kj], x1 = c->ox1[kj], offx = kj * c->dw - c->pw;
				if (y0 > 0)
					memset(col, 0, (size_t)y0 * (size_t)ow * sizeof(float));
				for (int oy = y0; oy < y1; oy++) {
					float *d = col + (size_t)oy * (size_t)ow;
					const float *srow = xc + (size_t)(oy * c->sh + offy) * (size_t)iw;
					for (int ox = 0; ox < x0; ox++)
						d[ox] = 0.0f;
					if (sw == 1) {
						memcpy(d + x0, srow + x0 + offx,
						       (size_t)(x1 - x0) * sizeof(float));
					} else {
						for (int ox = x0; ox < x1; ox++)
							d[ox] = srow[ox * sw + offx];
					}
					for (int ox = x1; ox < ow; ox++)
						d[ox] = 0.0f;
				}
				if (y1 < oh)
					memset(col + (size_t)y1 * (size_t)ow, 0,
					       (size_t)(oh - y1) * (size_t)ow * sizeof(float));
			}
		}
	}
}

/* dx: (cin_g, ih, iw) += col2im(col: (cin_g*kh*kw, oh*ow)). */
static void col2im_add(const conv_cfg *c, const float *restrict col, float *restrict dx)
{
	const int ow = c->ow, iw = c->iw, sw = c->sw;
	const size_t P = (size_t)c->oh * (size_t)ow;
	for (int ci = 0; ci < c->cin_g; ci++) {
		float *xc = dx + (size_t)ci * (size_t)c->ih * (size_t)iw;
		for (int ki = 0; ki < c->kh; ki++) {
			const int y0 = c->oy0[ki], y1 = c->oy1[ki], offy = ki * c->dh - c->ph;
			for (int kj = 0; kj < c->kw; kj++, col += P) {
				const int x0 = c->ox0[kj], x1 = c->ox1[kj], offx = kj * c->dw - c->pw;
				for (int oy = y0; oy < y1; oy++) {
					const float *srow = col + (size_t)oy * (size_t)ow;
					float *d = xc + (size_t)(oy * c->sh + offy) * (size_t)iw;
					if (sw == 1) {
						float *dd = d + offx;
#pragma omp simd
						for (int ox = x0; ox < x1; ox++)
							dd[ox] += srow[ox];
					} else {
						for (int ox = x0; ox < x1; ox++)
							d[ox * sw + offx] += srow[ox];
					}
				}
			}
		}
	}
}

static void part_images(int n, int p, int *b, int *e)
{
	*b = (int)((long)p * n / AL_NPART);
	*e = (int)((long)(p + 1) * n / AL_NPART);
}

static void conv_forward(al_layer *l, int n, int train)
{
	conv_cfg *c = l->priv;
	const size_t P = (size_t)c->oh * (size_t)c->ow, insz = al_in_size(l, 0);
	const size_t outsz = al_out_size(l), xg_sz = (size_t)c->cin_g * (size_t)c->ih * (size_t)c->iw;
	const float *W = l->w, *b = l->w + c->nwk;
#pragma omp parallel for schedule(static)
	for (int p = 0; p < AL_NPART; p++) {
		int i0, i1;
		part_images(n, p, &i0, &i1);
		float *col = l->scratch + (size_t)p * col_floats(c);
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
				const float *xg = x + (size_t)g * xg_sz;
				if (!c->direct)
					im2col(c, xg, col);
				/* y_g (cout_g, P) = W_g (cout_g, kg) col (kg, P) */
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, c->cout_g, (int)P,
					    c->kg, 1.0f, W + (size_t)g * c->cout_g * c->kg, c->kg,
					    c->direct ? xg : col, (int)P, c->bias ? 1.0f : 0.0f,
					    y + (size_t)g * c->cout_g * P, (int)P);
			}
		}
	}
}

static void conv_backward(al_layer *l, int n)
{
	conv_cfg *c = l->priv;
	const size_t P = (size_t)c->oh * (size_t)c->ow, insz = al_in_size(l, 0);
	const size_t outsz = al_out_size(l), xg_sz = (size_t)c->cin_g * (size_t)c->ih * (size_t)c->iw;
	const size_t colf = col_floats(c), partf = part_floats(l);
	float *parts = l->scratch + AL_NPART * colf;
	const float *W = l->w;
	float *dxall = l->dx[0];
#pragma omp parallel for schedule(static)
	for (int p = 0; p < AL_NPART; p++) {
		int i0, i1;
		part_images(n, p, &i0, &i1);
		float *col = l->scratch + (size_t)p * colf;
		float *pdw = parts + (size_t)p * partf, *pdb = pdw + c->nwk;
		memset(pdw, 0, l->nw * sizeof(float));
		for (int i = i0; i < i1; i++) {
			const float *x = l->x[0] + (size_t)i * insz;
			const float *dy = l->dy + (size_t)i * outsz;
			float *dx = dxall ? dxall + (size_t)i * insz : NULL;
			if (dx && !c->direct)
				memset(dx, 0, insz * sizeof(float));
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
				const float *xg = x + (size_t)g * xg_sz;
				const float *dyg = dy + (size_t)g * c->cout_g * P;
				const float *Wg = W + (size_t)g * c->cout_g * c->kg;
				if (!c->direct)
					im2col(c, xg, col);
				/* dW_g (cout_g, kg) += dy_g (cout_g, P) col^T (P, kg) */
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, c->cout_g, c->kg,
					    (int)P, 1.0f, dyg, (int)P, c->direct ? xg : col, (int)P,
					    1.0f, pdw + (size_t)g * c->cout_g * c->kg, c->kg);
				if (!dx)
					continue;
				/* dcol (kg, P) = W_g^T (kg, cout_g) dy_g (cout_g, P) */
				float *dxg = dx + (size_t)g * xg_sz;
				cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, c->kg, (int)P,
					    c->cout_g, 1.0f, Wg, c->kg, dyg, (int)P, 0.0f,
					    c->direct ? dxg : col, (int)P);
				if (!c->direct)
					col2im_add(c, col, dxg);
			}
		}
	}
	/* dw += sum of the partitions' partials, in partition order */
	float *dw = l->dw;
	const size_t nw = l->nw;
#pragma omp parallel for schedule(static)
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
	       "pad = 0|N|same, dilation = 1, groups = 1, bias = 1|0, init; weights "
	       "(out, in/groups, kh, kw) then bias (out) as in PyTorch",
	.setup = conv_setup,
	.scratch = conv_scratch,
	.init = conv_init,
	.forward = conv_forward,
	.backward = conv_backward,
	.free = conv_free,
};
