/* layers_zoo.c — layers the zoo networks need beyond the core set:
 * [lrn] local response normalisation across channels (AlexNet) with
 * PyTorch's LocalResponseNorm semantics, and [scale] (channel-wise product
 * of a (C, H, W) map and a (C, 1, 1) gate: the last step of
 * squeeze-excitation, whose other steps are [gap], 1x1 [conv] and [act]).
 *
 * Every (image) is independent: OpenMP runs over images and each thread
 * writes disjoint outputs, so results never depend on the thread count.
 * Not for: within-channel (spatial) LRN, batch or layer normalisation.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/layer.h"

#define PAR_MIN 32768

/* ---- lrn -----------------------------------------------------------------
 * PyTorch: s_c = k + alpha/size * sum_{c' = c - size/2}^{c + (size-1)/2} x_c'^2
 * (channels outside [0, C) count as zero; the divisor is always size),
 * y_c = x_c * s_c^-beta. Backward:
 * dx_j = dy_j s_j^-beta
 *      - 2 beta alpha/size x_j sum_{c : j in window(c)} dy_c x_c s_c^(-beta-1),
 * where j in window(c) <=> c in [j - (size-1)/2, j + size/2].
 * TensorFlow's tf.nn.lrn(depth_radius r, bias, alpha, beta) is size = 2r+1,
 * k = bias, alpha = alpha_tf * size. */
typedef struct {
	int size;
	double alpha, beta, k;
} lrn_cfg;

static void free_priv(al_layer *l)
{
	free(l->priv);
	l->priv = NULL;
}

static al_status lrn_setup1(al_layer *l, al_cfg_section *s)
{
	lrn_cfg *c = calloc(1, sizeof *c);
	if (!c)
		return al_err(AL_ENOMEM, "lrn: out of memory");
	l->priv = c;
	if (l->nin != 1)
		return al_err(AL_EINVAL, "lrn takes one input, got %d", l->nin);
	AL_TRY(al_cfg_int(s, "size", 0, 1, 1 << 16, &c->size));
	if (c->size == 0)
		return al_err(AL_EINVAL, "lrn needs size = N (channels in the window)");
	AL_TRY(al_cfg_float(s, "alpha", 1e-4, &c->alpha));
	AL_TRY(al_cfg_float(s, "beta", 0.75, &c->beta));
	AL_TRY(al_cfg_float(s, "k", 1.0, &c->k));
	if (!(c->k > 0) || !(c->alpha >= 0) || !(c->beta >= 0) || !isfinite(c->k + c->alpha + c->beta))
		return al_err(AL_ERANGE, "lrn: needs k > 0, alpha >= 0, beta >= 0 (k = %g, alpha = %g, "
					 "beta = %g)",
			      c->k, c->alpha, c->beta);
	l->out_c = l->in_c[0];
	l->out_h = l->in_h[0];
	l->out_w = l->in_w[0];
	return AL_OK;
}

static al_status lrn_setup(al_layer *l, al_cfg_section *s)
{
	al_status st = lrn_setup1(l, s);
	if (st != AL_OK)
		free_priv(l);
	return st;
}

/* scratch: s (the normaliser) of every element, for backward */
static size_t lrn_scratch(const al_layer *l, int n) { return (size_t)n * al_out_size(l); }

static void lrn_forward(al_layer *l, int n, int train)
{
	const lrn_cfg *c = l->priv;
	const int C = l->out_c, lo = c->size / 2, hi = (c->size - 1) / 2;
	const size_t hw = (size_t)l->out_h * (size_t)l->out_w, per = (size_t)C * hw;
	const float a = (float)(c->alpha / c->size), k = (float)c->k, beta = (float)c->beta;
#pragma omp parallel for schedule(static) if ((size_t)n * per >= PAR_MIN)
	for (int i = 0; i < n; i++) {
		const float *x = l->x[0] + (size_t)i * per;
		float *y = l->y + (size_t)i * per, *sc = l->scratch + (size_t)i * per;
		for (int ch = 0; ch < C; ch++) {
			float *sr = sc + (size_t)ch * hw;
			for (size_t j = 0; j < hw; j++)
				sr[j] = 0.0f;
			int c0 = ch - lo < 0 ? 0 : ch - lo, c1 = ch + hi >= C ? C - 1 : ch + hi;
			for (int q = c0; q <= c1; q++) {
				const float *xq = x + (size_t)q * hw;
				for (size_t j = 0; j < hw; j++)
					sr[j] += xq[j] * xq[j];
			}
			const float *xc = x + (size_t)ch * hw;
			float *yc = y + (size_t)ch * hw;
			for (size_t j = 0; j < hw; j++) {
				sr[j] = k + a * sr[j];
				yc[j] = xc[j] * powf(sr[j], -beta);
			}
		}
	}
}

static void lrn_backward(al_layer *l, int n)
{
	const lrn_cfg *c = l->priv;
	if (!l->dx[0])
		return;
	const int C = l->out_c, lo = c->size / 2, hi = (c->size - 1) / 2;
	const size_t hw = (size_t)l->out_h * (size_t)l->out_w, per = (size_t)C * hw;
	const float a = (float)(c->alpha / c->size), beta = (float)c->beta;
#pragma omp parallel for schedule(static) if ((size_t)n * per >= PAR_MIN)
	for (int i = 0; i < n; i++) {
		const float *x = l->x[0] + (size_t)i * per, *sc = l->scratch + (size_t)i * per;
		const float *dy = l->dy + (size_t)i * per;
		float *dx = l->dx[0] + (size_t)i * per;
		/* channel j: its own term, then the window channels that read it */
		for (int j = 0; j < C; j++) {
			float *dxj = dx + (size_t)j * hw;
			const float *xj = x + (size_t)j * hw, *sj = sc + (size_t)j * hw;
			const float *dyj = dy + (size_t)j * hw;
			for (size_t p = 0; p < hw; p++)
				dxj[p] = dyj[p] * powf(sj[p], -beta);
			int c0 = j - hi < 0 ? 0 : j - hi, c1 = j + lo >= C ? C - 1 : j + lo;
			for (int q = c0; q <= c1; q++) {
				const float *xq = x + (size_t)q * hw, *sq = sc + (size_t)q * hw;
				const float *dyq = dy + (size_t)q * hw;
				for (size_t p = 0; p < hw; p++)
					dxj[p] -= 2.0f * beta * a * xj[p] * dyq[p] * xq[p] *
						  powf(sq[p], -beta - 1.0f);
			}
		}
	}
}

const al_layer_ops al_layer_lrn = {
	.type = "lrn",
	.doc = "local response normalisation across channels (PyTorch LocalResponseNorm): size = N, "
	       "alpha = 1e-4, beta = 0.75, k = 1",
	.setup = lrn_setup,
	.scratch = lrn_scratch,
	.forward = lrn_forward,
	.backward = lrn_backward,
	.free = free_priv,
};

/* ---- scale: y = x0 * x1, x0 (C, H, W), x1 (C, 1, 1) ------------------------ */
static al_status scale_setup(al_layer *l, al_cfg_section *s)
{
	if (l->nin != 2)
		return al_err(AL_EINVAL,
			      "scale takes two inputs, a map and a per-channel gate: inputs = MAP, "
			      "GATE (got %d)",
			      l->nin);
	if (l->in_c[1] != l->in_c[0] || l->in_h[1] != 1 || l->in_w[1] != 1)
		return al_err(AL_EINVAL,
			      "scale: the gate (input 2) is %dx%dx%d, expected %dx1x1 (one value per "
			      "channel of the %dx%dx%d map)",
			      l->in_c[1], l->in_h[1], l->in_w[1], l->in_c[0], l->in_c[0], l->in_h[0],
			      l->in_w[0]);
	l->out_c = l->in_c[0];
	l->out_h = l->in_h[0];
	l->out_w = l->in_w[0];
	return AL_OK;
}

static void scale_forward(al_layer *l, int n, int train)
{
	const int C = l->out_c;
	const size_t hw = (size_t)l->out_h * (size_t)l->out_w;
	const long planes = (long)n * C;
#pragma omp parallel for schedule(static) if ((size_t)planes * hw >= PAR_MIN)
	for (long q = 0; q < planes; q++) {
		const float *x = l->x[0] + (size_t)q * hw;
		const float g = l->x[1][q];
		float *y = l->y + (size_t)q * hw;
		for (size_t j = 0; j < hw; j++)
			y[j] = x[j] * g;
	}
}

static void scale_backward(al_layer *l, int n)
{
	const int C = l->out_c;
	const size_t hw = (size_t)l->out_h * (size_t)l->out_w;
	const long planes = (long)n * C;
#pragma omp parallel for schedule(static) if ((size_t)planes * hw >= PAR_MIN)
	for (long q = 0; q < planes; q++) {
		const float *x = l->x[0] + (size_t)q * hw, *dy = l->dy + (size_t)q * hw;
		const float g = l->x[1][q];
		if (l->dx[0]) {
			float *dx = l->dx[0] + (size_t)q * hw;
			for (size_t j = 0; j < hw; j++)
				dx[j] = dy[j] * g;
		}
		if (l->dx[1]) {
			float sum = 0.0f;
			for (size_t j = 0; j < hw; j++)
				sum += dy[j] * x[j];
			l->dx[1][q] = sum;
		}
	}
}

const al_layer_ops al_layer_scale = {
	.type = "scale",
	.doc = "channel-wise product of a map and a (C, 1, 1) gate: inputs = MAP, GATE "
	       "(squeeze-excitation)",
	.setup = scale_setup,
	.forward = scale_forward,
	.backward = scale_backward,
};

/* ---- chanpad: zero channels before and after, optional spatial subsampling --
 * The parameter-free "option A" shortcut of the CIFAR ResNets (He et al.
 * 2016): y = pad_channels(x[:, :, ::stride, ::stride], before, after). */
typedef struct {
	int before, after, stride;
} chanpad_cfg;

static al_status chanpad_setup1(al_layer *l, al_cfg_section *s)
{
	chanpad_cfg *c = calloc(1, sizeof *c);
	if (!c)
		return al_err(AL_ENOMEM, "chanpad: out of memory");
	l->priv = c;
	if (l->nin != 1)
		return al_err(AL_EINVAL, "chanpad takes one input, got %d", l->nin);
	AL_TRY(al_cfg_int(s, "before", 0, 0, 1 << 16, &c->before));
	AL_TRY(al_cfg_int(s, "after", 0, 0, 1 << 16, &c->after));
	AL_TRY(al_cfg_int(s, "stride", 1, 1, 1 << 16, &c->stride));
	l->out_c = l->in_c[0] + c->before + c->after;
	l->out_h = (l->in_h[0] + c->stride - 1) / c->stride;
	l->out_w = (l->in_w[0] + c->stride - 1) / c->stride;
	return AL_OK;
}

static al_status chanpad_setup(al_layer *l, al_cfg_section *s)
{
	al_status st = chanpad_setup1(l, s);
	if (st != AL_OK)
		free_priv(l);
	return st;
}

static void chanpad_forward(al_layer *l, int n, int train)
{
	const chanpad_cfg *c = l->priv;
	const int ih = l->in_h[0], iw = l->in_w[0], oh = l->out_h, ow = l->out_w, s = c->stride;
	const size_t opl = (size_t)oh * (size_t)ow, ipl = (size_t)ih * (size_t)iw;
	const size_t out = al_out_size(l), in = al_in_size(l, 0);
#pragma omp parallel for schedule(static) if ((size_t)n * out >= PAR_MIN)
	for (int i = 0; i < n; i++) {
		float *y = l->y + (size_t)i * out;
		const float *x = l->x[0] + (size_t)i * in;
		memset(y, 0, (size_t)c->before * opl * sizeof(float));
		for (int ch = 0; ch < l->in_c[0]; ch++) {
			float *yc = y + (size_t)(ch + c->before) * opl;
			const float *xc = x + (size_t)ch * ipl;
			for (int oy = 0; oy < oh; oy++)
				for (int ox = 0; ox < ow; ox++)
					yc[(size_t)oy * ow + ox] = xc[(size_t)oy * s * iw + (size_t)ox * s];
		}
		memset(y + (size_t)(c->before + l->in_c[0]) * opl, 0,
		       (size_t)c->after * opl * sizeof(float));
	}
}

static void chanpad_backward(al_layer *l, int n)
{
	const chanpad_cfg *c = l->priv;
	if (!l->dx[0])
		return;
	const int ih = l->in_h[0], iw = l->in_w[0], oh = l->out_h, ow = l->out_w, s = c->stride;
	const size_t opl = (size_t)oh * (size_t)ow, ipl = (size_t)ih * (size_t)iw;
	const size_t out = al_out_size(l), in = al_in_size(l, 0);
#pragma omp parallel for schedule(static) if ((size_t)n * out >= PAR_MIN)
	for (int i = 0; i < n; i++) {
		const float *dy = l->dy + (size_t)i * out;
		float *dx = l->dx[0] + (size_t)i * in;
		if (s > 1)
			memset(dx, 0, in * sizeof(float));
		for (int ch = 0; ch < l->in_c[0]; ch++) {
			const float *dyc = dy + (size_t)(ch + c->before) * opl;
			float *dxc = dx + (size_t)ch * ipl;
			for (int oy = 0; oy < oh; oy++)
				for (int ox = 0; ox < ow; ox++)
					dxc[(size_t)oy * s * iw + (size_t)ox * s] = dyc[(size_t)oy * ow + ox];
		}
	}
}

const al_layer_ops al_layer_chanpad = {
	.type = "chanpad",
	.doc = "zero channels around the input: before = 0, after = 0, stride = 1 (keeps every "
	       "stride-th row and column; the CIFAR ResNets' option-A shortcut)",
	.setup = chanpad_setup,
	.forward = chanpad_forward,
	.backward = chanpad_backward,
	.free = free_priv,
};
