/* layers_norm.c — batch normalisation and dropout (NCHW; a dense input is
 * (C, 1, 1)), with PyTorch's conventions.
 *
 * batchnorm: weights gamma (C) then beta (C); state running mean (C) then
 * running var (C), var starting at 1, updated with momentum (new =
 * (1 - momentum) * old + momentum * batch) and the unbiased batch variance.
 * Training normalises with the biased batch variance; per-channel sums run
 * in double in a fixed order (image, then position), one channel per
 * OpenMP iteration, so results do not depend on the thread count.
 * Synchronised batch norm (l->stat_sum set by al_model_set_stat_sum, in
 * training): the per-channel sums are totalled over processes before use,
 * so each process normalises its shard with the global batch's mean and
 * biased variance (two passes, as here) and backward uses the global
 * sums of dy and dy * xhat; weight gradients stay per process.
 * dropout: inverted dropout; the keep mask of sample i is drawn from
 * al_rng_derive(&l->rng, i), so it depends only on the step's RNG and the
 * sample index, never on threads. The mask is kept in scratch for backward.
 * Not for: layer/group/instance norm.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/layer.h"

/* Below this many floats touched, a parallel region costs more than it
 * saves; running serially does not change any result. */
#define PAR_MIN 32768

/* ---- batchnorm ------------------------------------------------------------ */
typedef struct {
	int c;
	size_t hw;
	double eps, momentum;
	int affine;
	int train; /* mode of the last forward, for backward */
	int synced; /* the last forward used global statistics */
	double m;   /* global count of the last synchronised forward */
	double red[]; /* 2C + 1: sums exchanged with the other processes */
} bn_cfg;

static void free_priv(al_layer *l)
{
	free(l->priv);
	l->priv = NULL;
}

static al_status bn_setup1(al_layer *l, al_cfg_section *s)
{
	bn_cfg *c = calloc(1, sizeof *c + (2 * (size_t)(l->nin > 0 ? l->in_c[0] : 0) + 1) *
					     sizeof(double));
	if (!c)
		return al_err(AL_ENOMEM, "batchnorm: out of memory");
	l->priv = c;
	if (l->nin != 1)
		return al_err(AL_EINVAL, "batchnorm takes one input, got %d", l->nin);
	AL_TRY(al_cfg_float(s, "momentum", 0.1, &c->momentum));
	AL_TRY(al_cfg_float(s, "eps", 1e-5, &c->eps));
	AL_TRY(al_cfg_int(s, "affine", 1, 0, 1, &c->affine));
	if (!(c->momentum >= 0.0 && c->momentum <= 1.0))
		return al_err(AL_ERANGE, "batchnorm: momentum = %g outside [0, 1]", c->momentum);
	if (!(c->eps > 0.0))
		return al_err(AL_ERANGE, "batchnorm: eps = %g must be positive", c->eps);
	c->c = l->in_c[0];
	c->hw = (size_t)l->in_h[0] * (size_t)l->in_w[0];
	l->out_c = l->in_c[0];
	l->out_h = l->in_h[0];
	l->out_w = l->in_w[0];
	l->nw = c->affine ? 2 * (size_t)c->c : 0;
	l->nstate = 2 * (size_t)c->c;
	return AL_OK;
}

/* The model does not free a layer whose setup failed: free priv here. */
static al_status bn_setup(al_layer *l, al_cfg_section *s)
{
	al_status st = bn_setup1(l, s);
	if (st != AL_OK)
		free_priv(l);
	return st;
}

/* scratch: the mean and 1/sqrt(var + eps) used by the last forward */
static size_t bn_scratch(const al_layer *l, int n) { return 2 * (size_t)l->out_c; }

static void bn_init(al_layer *l, al_rng *r)
{
	bn_cfg *c = l->priv;
	if (c->affine)
		for (int i = 0; i < c->c; i++)
			l->w[i] = 1.0f;
	for (int i = 0; i < c->c; i++)
		l->state[c->c + i] = 1.0f;
}

static void bn_forward_sync(al_layer *l, int n)
{
	bn_cfg *c = l->priv;
	const int C = c->c;
	const size_t hw = c->hw, stride = (size_t)C * hw;
	double *red = c->red, *ss = c->red + C + 1;
	float *rmean = l->state, *rvar = l->state + C;
	float *smean = l->scratch, *sinv = l->scratch + C;
	c->train = 1;
	c->synced = 1;
#pragma omp parallel for schedule(static) if ((size_t)n * stride >= PAR_MIN)
	for (int ch = 0; ch < C; ch++) {
		const float *x = l->x[0] + (size_t)ch * hw;
		double sum = 0.0;
		for (int i = 0; i < n; i++)
#pragma omp simd reduction(+ : sum)
			for (size_t j = 0; j < hw; j++)
				sum += (double)x[(size_t)i * stride + j];
		red[ch] = sum;
	}
	red[C] = (double)n * (double)hw;
	l->stat_sum(l->stat_ctx, red, (size_t)C + 1);
	const double m = red[C];
	c->m = m;
#pragma omp parallel for schedule(static) if ((size_t)n * stride >= PAR_MIN)
	for (int ch = 0; ch < C; ch++) {
		const float *x = l->x[0] + (size_t)ch * hw;
		const double mean = red[ch] / m;
		double acc = 0.0;
		for (int i = 0; i < n; i++)
#pragma omp simd reduction(+ : acc)
			for (size_t j = 0; j < hw; j++) {
				double d = (double)x[(size_t)i * stride + j] - mean;
				acc += d * d;
			}
		ss[ch] = acc;
	}
	l->stat_sum(l->stat_ctx, ss, (size_t)C);
#pragma omp parallel for schedule(static) if ((size_t)n * stride >= PAR_MIN)
	for (int ch = 0; ch < C; ch++) {
		const float *x = l->x[0] + (size_t)ch * hw;
		float *y = l->y + (size_t)ch * hw;
		const double mean = red[ch] / m, var = ss[ch] / m;
		double unbiased = m > 1.0 ? ss[ch] / (m - 1.0) : var;
		rmean[ch] = (float)((1.0 - c->momentum) * (double)rmean[ch] + c->momentum * mean);
		rvar[ch] = (float)((1.0 - c->momentum) * (double)rvar[ch] + c->momentum * unbiased);
		double inv = 1.0 / sqrt(var + c->eps);
		smean[ch] = (float)mean;
		sinv[ch] = (float)inv;
		const float mu = (float)mean;
		const float a = c->affine ? (float)(inv * (double)l->w[ch]) : (float)inv;
		const float b = c->affine ? l->w[C + ch] : 0.0f;
		for (int i = 0; i < n; i++) {
			const float *xi = x + (size_t)i * stride;
			float *yi = y + (size_t)i * stride;
			for (size_t j = 0; j < hw; j++)
				yi[j] = (xi[j] - mu) * a + b;
		}
	}
}

static void bn_forward(al_layer *l, int n, int train)
{
	bn_cfg *c = l->priv;
	if (train && l->stat_sum) {
		bn_forward_sync(l, n);
		return;
	}
	c->synced = 0;
	const int C = c->c;
	const size_t hw = c->hw, stride = (size_t)C * hw;
	const double m = (double)n * (double)hw;
	float *rmean = l->state, *rvar = l->state + C;
	float *smean = l->scratch, *sinv = l->scratch + C;
	c->train = train;
#pragma omp parallel for schedule(static) if ((size_t)n * stride >= PAR_MIN)
	for (int ch = 0; ch < C; ch++) {
		const float *x = l->x[0] + (size_t)ch * hw;
		float *y = l->y + (size_t)ch * hw;
		double mean, var;
		if (train) {
			double sum = 0.0;
			for (int i = 0; i < n; i++)
#pragma omp simd reduction(+ : sum)
				for (size_t j = 0; j < hw; j++)
					sum += (double)x[(size_t)i * stride + j];
			mean = sum / m;
			double ss = 0.0;
			for (int i = 0; i < n; i++)
#pragma omp simd reduction(+ : ss)
				for (size_t j = 0; j < hw; j++) {
					double d = (double)x[(size_t)i * stride + j] - mean;
					ss += d * d;
				}
			var = ss / m;
			double unbiased = m > 1.0 ? ss / (m - 1.0) : var;
			rmean[ch] = (float)((1.0 - c->momentum) * (double)rmean[ch] +
					    c->momentum * mean);
			rvar[ch] = (float)((1.0 - c->momentum) * (double)rvar[ch] +
					   c->momentum * unbiased);
		} else {
			mean = (double)rmean[ch];
			var = (double)rvar[ch];
		}
		double inv = 1.0 / sqrt(var + c->eps);
		smean[ch] = (float)mean;
		sinv[ch] = (float)inv;
		/* y = (x - mean) * gamma * inv + beta */
		const float mu = (float)mean;
		const float a = c->affine ? (float)(inv * (double)l->w[ch]) : (float)inv;
		const float b = c->affine ? l->w[C + ch] : 0.0f;
		for (int i = 0; i < n; i++) {
			const float *xi = x + (size_t)i * stride;
			float *yi = y + (size_t)i * stride;
			for (size_t j = 0; j < hw; j++)
				yi[j] = (xi[j] - mu) * a + b;
		}
	}
}

/* Backward of a synchronised forward: local sums, their totals over the
 * processes for dx, the local ones for the weight gradients. */
/* One channel's sum(dy) and sum(dy * xhat), xhat = (x - mean) * inv, over
 * n samples of hw values spaced `stride` apart (vectorised double sums). */
static void bn_dsums(const float *x, const float *dy, float mu, float inv, int n, size_t hw,
		     size_t stride, double *sdy_out, double *sdyx_out)
{
	double sdy = 0.0, sdyx = 0.0;
	for (int i = 0; i < n; i++)
#pragma omp simd reduction(+ : sdy, sdyx)
		for (size_t j = 0; j < hw; j++) {
			size_t k = (size_t)i * stride + j;
			sdy += (double)dy[k];
			sdyx += (double)dy[k] * (double)((x[k] - mu) * inv);
		}
	*sdy_out = sdy;
	*sdyx_out = sdyx;
}

static void bn_backward_sync(al_layer *l, int n)
{
	bn_cfg *c = l->priv;
	const int C = c->c;
	const size_t hw = c->hw, stride = (size_t)C * hw;
	const float *smean = l->scratch, *sinv = l->scratch + C;
	double *red = c->red;
	float *dx = l->dx[0];
#pragma omp parallel for schedule(static) if ((size_t)n * stride >= PAR_MIN)
	for (int ch = 0; ch < C; ch++) {
		const float *x = l->x[0] + (size_t)ch * hw, *dy = l->dy + (size_t)ch * hw;
		const float mu = smean[ch], inv = sinv[ch];
		double sdy, sdyx;
		bn_dsums(x, dy, mu, inv, n, hw, stride, &sdy, &sdyx);
		if (c->affine) {
			l->dw[ch] += (float)sdyx;
			l->dw[C + ch] += (float)sdy;
		}
		red[ch] = sdy;
		red[C + ch] = sdyx;
	}
	l->stat_sum(l->stat_ctx, red, 2 * (size_t)C);
	if (!dx)
		return;
	const double m = c->m;
#pragma omp parallel for schedule(static) if ((size_t)n * stride >= PAR_MIN)
	for (int ch = 0; ch < C; ch++) {
		const float *x = l->x[0] + (size_t)ch * hw, *dy = l->dy + (size_t)ch * hw;
		const float mu = smean[ch], inv = sinv[ch];
		const double gamma = c->affine ? (double)l->w[ch] : 1.0;
		const float g = (float)(gamma * (double)inv);
		const float mdy = (float)(red[ch] / m), mdyx = (float)(red[C + ch] / m);
		float *d = dx + (size_t)ch * hw;
		for (int i = 0; i < n; i++)
			for (size_t j = 0; j < hw; j++) {
				size_t k = (size_t)i * stride + j;
				float xh = (x[k] - mu) * inv;
				d[k] = g * (dy[k] - mdy - xh * mdyx);
			}
	}
}

static void bn_backward(al_layer *l, int n)
{
	bn_cfg *c = l->priv;
	if (c->synced) {
		bn_backward_sync(l, n);
		return;
	}
	const int C = c->c;
	const size_t hw = c->hw, stride = (size_t)C * hw;
	const double m = (double)n * (double)hw;
	const float *smean = l->scratch, *sinv = l->scratch + C;
	float *dx = l->dx[0];
#pragma omp parallel for schedule(static) if ((size_t)n * stride >= PAR_MIN)
	for (int ch = 0; ch < C; ch++) {
		const float *x = l->x[0] + (size_t)ch * hw, *dy = l->dy + (size_t)ch * hw;
		const float mu = smean[ch], inv = sinv[ch];
		double sdy, sdyx;
		bn_dsums(x, dy, mu, inv, n, hw, stride, &sdy, &sdyx);
		const double gamma = c->affine ? (double)l->w[ch] : 1.0;
		if (c->affine) {
			l->dw[ch] += (float)sdyx;
			l->dw[C + ch] += (float)sdy;
		}
		if (!dx)
			continue;
		float *d = dx + (size_t)ch * hw;
		const float g = (float)(gamma * (double)inv);
		if (c->train) {
			/* dx = gamma * inv * (dy - mean(dy) - xhat * mean(dy * xhat)) */
			const float mdy = (float)(sdy / m), mdyx = (float)(sdyx / m);
			for (int i = 0; i < n; i++)
				for (size_t j = 0; j < hw; j++) {
					size_t k = (size_t)i * stride + j;
					float xh = (x[k] - mu) * inv;
					d[k] = g * (dy[k] - mdy - xh * mdyx);
				}
		} else {
			/* running statistics are constants */
			for (int i = 0; i < n; i++)
				for (size_t j = 0; j < hw; j++) {
					size_t k = (size_t)i * stride + j;
					d[k] = g * dy[k];
				}
		}
	}
}

const al_layer_ops al_layer_batchnorm = {
	.type = "batchnorm",
	.doc = "batch normalisation over (N, H, W) per channel: momentum = 0.1 (PyTorch "
	       "convention), eps = 1e-5, affine = 1|0; weights gamma (C), beta (C); state "
	       "running mean (C), running var (C)",
	.setup = bn_setup,
	.scratch = bn_scratch,
	.init = bn_init,
	.forward = bn_forward,
	.backward = bn_backward,
	.free = free_priv,
};

/* ---- dropout -------------------------------------------------------------- */
typedef struct {
	double p;
	float scale; /* 1 / (1 - p), 0 when p = 1 */
	int masked;  /* the last forward applied a mask (training, p > 0) */
} dropout_cfg;

static al_status dropout_setup1(al_layer *l, al_cfg_section *s)
{
	dropout_cfg *c = calloc(1, sizeof *c);
	if (!c)
		return al_err(AL_ENOMEM, "dropout: out of memory");
	l->priv = c;
	if (l->nin != 1)
		return al_err(AL_EINVAL, "dropout takes one input, got %d", l->nin);
	AL_TRY(al_cfg_float(s, "p", 0.5, &c->p));
	if (!(c->p >= 0.0 && c->p <= 1.0))
		return al_err(AL_ERANGE, "dropout: p = %g outside [0, 1]", c->p);
	c->scale = c->p < 1.0 ? (float)(1.0 / (1.0 - c->p)) : 0.0f;
	l->out_c = l->in_c[0];
	l->out_h = l->in_h[0];
	l->out_w = l->in_w[0];
	return AL_OK;
}

static al_status dropout_setup(al_layer *l, al_cfg_section *s)
{
	al_status st = dropout_setup1(l, s);
	if (st != AL_OK)
		free_priv(l);
	return st;
}

/* scratch: the mask (0 or 1/(1-p)) of the last training forward */
static size_t dropout_scratch(const al_layer *l, int n) { return (size_t)n * al_out_size(l); }

static void dropout_forward(al_layer *l, int n, int train)
{
	dropout_cfg *c = l->priv;
	const size_t sz = al_out_size(l);
	c->masked = train && c->p > 0.0;
	if (!c->masked) {
		memcpy(l->y, l->x[0], (size_t)n * sz * sizeof(float));
		return;
	}
	const float p = (float)c->p, scale = c->scale;
#pragma omp parallel for schedule(static) if ((size_t)n * sz >= PAR_MIN)
	for (int i = 0; i < n; i++) {
		al_rng r = al_rng_derive(&l->rng, (uint64_t)i);
		const float *x = l->x[0] + (size_t)i * sz;
		float *y = l->y + (size_t)i * sz, *mask = l->scratch + (size_t)i * sz;
		for (size_t j = 0; j < sz; j++) {
			float k = al_rng_uniform(&r) >= p ? scale : 0.0f;
			mask[j] = k;
			y[j] = x[j] * k;
		}
	}
}

static void dropout_backward(al_layer *l, int n)
{
	dropout_cfg *c = l->priv;
	const size_t cnt = (size_t)n * al_out_size(l);
	float *dx = l->dx[0];
	if (!dx)
		return;
	if (!c->masked) {
		memcpy(dx, l->dy, cnt * sizeof(float));
		return;
	}
	const float *mask = l->scratch, *dy = l->dy;
#pragma omp parallel for simd schedule(static) if (cnt >= PAR_MIN)
	for (size_t j = 0; j < cnt; j++)
		dx[j] = dy[j] * mask[j];
}

const al_layer_ops al_layer_dropout = {
	.type = "dropout",
	.doc = "inverted dropout: p = 0.5 (drop probability); identity in evaluation",
	.setup = dropout_setup,
	.scratch = dropout_scratch,
	.forward = dropout_forward,
	.backward = dropout_backward,
	.free = free_priv,
};
