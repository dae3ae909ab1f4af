/* layers_merge.c — layers with several inputs: [shortcut] (residual add of
 * identically shaped inputs: the previous layer and `from = -k`) and
 * [concat] (channel concatenation of inputs with equal H, W, in the order
 * given by `layers = ...`). The model resolves the input references into
 * l->src[] and sums gradients where one output feeds several consumers.
 * Not for: projection shortcuts (use a 1x1 [conv] on one branch), weighted
 * or activated shortcuts (darknet's), broadcasting.
 */
#include <stdio.h>
#include <string.h>

#include "nn/layer.h"

/* Below this many floats touched, a parallel region costs more than it
 * saves; running serially does not change any result. */
#define PAR_MIN 32768

/* "layer 3" (1-based, as in the model summary) or "the model input". */
static const char *src_name(const al_layer *l, int k, char *buf, size_t cap)
{
	if (l->src[k] < 0)
		snprintf(buf, cap, "the model input");
	else
		snprintf(buf, cap, "layer %d", l->src[k] + 1);
	return buf;
}

/* ---- shortcut: y = x0 + x1 (+ ...) ------------------------------------------ */
static al_status shortcut_setup(al_layer *l, al_cfg_section *s)
{
	if (l->nin < 2)
		return al_err(AL_EINVAL, "shortcut needs a second input: from = -K (K layers back)");
	for (int k = 1; k < l->nin; k++)
		if (l->in_c[k] != l->in_c[0] || l->in_h[k] != l->in_h[0] || l->in_w[k] != l->in_w[0]) {
			char a[32], b[32];
			return al_err(AL_EINVAL,
				      "shortcut: input shapes differ: %dx%dx%d (%s) and %dx%dx%d (%s); "
				      "a residual add needs identical shapes",
				      l->in_c[0], l->in_h[0], l->in_w[0], src_name(l, 0, a, sizeof a),
				      l->in_c[k], l->in_h[k], l->in_w[k], src_name(l, k, b, sizeof b));
		}
	l->out_c = l->in_c[0];
	l->out_h = l->in_h[0];
	l->out_w = l->in_w[0];
	return AL_OK;
}

static void shortcut_forward(al_layer *l, int n, int train)
{
	const size_t cnt = (size_t)n * al_out_size(l);
	const float *x0 = l->x[0], *x1 = l->x[1];
	float *y = l->y;
#pragma omp parallel for simd schedule(static) if (cnt >= PAR_MIN)
	for (size_t j = 0; j < cnt; j++)
		y[j] = x0[j] + x1[j];
	for (int k = 2; k < l->nin; k++) {
		const float *xk = l->x[k];
#pragma omp parallel for simd schedule(static) if (cnt >= PAR_MIN)
		for (size_t j = 0; j < cnt; j++)
			y[j] += xk[j];
	}
}

static void shortcut_backward(al_layer *l, int n)
{
	const size_t cnt = (size_t)n * al_out_size(l);
	for (int k = 0; k < l->nin; k++)
		if (l->dx[k])
			memcpy(l->dx[k], l->dy, cnt * sizeof(float));
}

const al_layer_ops al_layer_shortcut = {
	.type = "shortcut",
	.doc = "residual add of the previous layer and from = -K (same shape)",
	.setup = shortcut_setup,
	.forward = shortcut_forward,
	.backward = shortcut_backward,
};

/* ---- concat: channels of the inputs, in order ------------------------------ */
static al_status concat_setup(al_layer *l, al_cfg_section *s)
{
	if (l->nin < 1)
		return al_err(AL_EINVAL, "concat needs its inputs: layers = -1,-3,...");
	long c = 0;
	for (int k = 0; k < l->nin; k++) {
		if (l->in_h[k] != l->in_h[0] || l->in_w[k] != l->in_w[0]) {
			char a[32], b[32];
			return al_err(AL_EINVAL,
				      "concat: input %d (%s) is %dx%dx%d but input 1 (%s) is "
				      "%dx%dx%d; height and width must match",
				      k + 1, src_name(l, k, a, sizeof a), l->in_c[k], l->in_h[k],
				      l->in_w[k], src_name(l, 0, b, sizeof b), l->in_c[0],
				      l->in_h[0], l->in_w[0]);
		}
		c += l->in_c[k];
	}
	if (c > (1L << 24))
		return al_err(AL_ERANGE, "concat: %ld channels", c);
	l->out_c = (int)c;
	l->out_h = l->in_h[0];
	l->out_w = l->in_w[0];
	return AL_OK;
}

static void concat_forward(al_layer *l, int n, int train)
{
	const size_t out = al_out_size(l);
#pragma omp parallel for schedule(static) if ((size_t)n * out >= PAR_MIN)
	for (int i = 0; i < n; i++) {
		float *y = l->y + (size_t)i * out;
		for (int k = 0; k < l->nin; k++) {
			size_t sz = al_in_size(l, k);
			memcpy(y, l->x[k] + (size_t)i * sz, sz * sizeof(float));
			y += sz;
		}
	}
}

static void concat_backward(al_layer *l, int n)
{
	const size_t out = al_out_size(l);
#pragma omp parallel for schedule(static) if ((size_t)n * out >= PAR_MIN)
	for (int i = 0; i < n; i++) {
		const float *dy = l->dy + (size_t)i * out;
		for (int k = 0; k < l->nin; k++) {
			size_t sz = al_in_size(l, k);
			if (l->dx[k])
				memcpy(l->dx[k] + (size_t)i * sz, dy, sz * sizeof(float));
			dy += sz;
		}
	}
}

const al_layer_ops al_layer_concat = {
	.type = "concat",
	.doc = "channel concatenation of layers = -1,-3,... (same height and width), in order",
	.setup = concat_setup,
	.forward = concat_forward,
	.backward = concat_backward,
};
