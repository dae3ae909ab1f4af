/* layers_core.c — dense, activation and flatten layers.
 * Dense uses OpenBLAS sgemm on fixed partitions of the output (or input)
 * features, one partition per OpenMP task, so results are identical for any
 * thread count and BLAS is never threaded inside OpenMP.
 */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/layer.h"

/* Number of fixed column partitions for a GEMM with `cols` output columns. */
static int col_parts(int cols, int rows)
{
	int p = cols / 64;
	if ((long)cols * rows < 64 * 1024)
		p = 1; /* too small to be worth splitting */
	return p < 1 ? 1 : (p > AL_NPART ? AL_NPART : p);
}

static void part_range(int total, int parts, int i, int *b, int *e)
{
	/* multiples of 16 keep the column blocks vector-aligned */
	int step = ((total + parts - 1) / parts + 15) & ~15;
	*b = i * step < total ? i * step : total;
	*e = (i + 1) * step < total ? (i + 1) * step : total;
}

/* ---- dense: y = x W^T + b, W (out, in) as in PyTorch ---------------------- */
typedef struct {
	int in, out, bias;
} dense_cfg;

static al_status dense_setup(al_layer *l, al_cfg_section *s)
{
	dense_cfg *c = calloc(1, sizeof *c);
	if (!c)
		return al_err(AL_ENOMEM, "dense: out of memory");
	l->priv = c;
	if (l->nin != 1)
		return al_err(AL_EINVAL, "dense takes one input");
	int out = 0;
	AL_TRY(al_cfg_int(s, "out", 0, 1, 1 << 24, &out));
	if (out == 0)
		return al_err(AL_EINVAL, "dense needs out = N");
	AL_TRY(al_cfg_int(s, "bias", 1, 0, 1, &c->bias));
	size_t in = al_in_size(l, 0);
	if (in > (1u << 28))
		return al_err(AL_ERANGE, "dense: input of %zu features is too large", in);
	c->in = (int)in;
	c->out = out;
	l->out_c = out;
	l->out_h = l->out_w = 1;
	l->nw = (size_t)out * in + (c->bias ? (size_t)out : 0);
	return AL_OK;
}

static void dense_init(al_layer *l, al_rng *r)
{
	dense_cfg *c = l->priv;
	al_init_fill((al_init_kind)l->init_kind, l->w, (size_t)c->out * (size_t)c->in, c->in,
		     c->out, r);
	if (c->bias && l->init_kind == AL_INIT_TORCH)
		al_init_fill(AL_INIT_TORCH, l->w + (size_t)c->out * (size_t)c->in, (size_t)c->out,
			     c->in, c->out, r);
}

static void dense_forward(al_layer *l, int n, int train)
{
	dense_cfg *c = l->priv;
	const float *x = l->x[0], *W = l->w, *b = l->w + (size_t)c->out * (size_t)c->in;
	float *y = l->y;
	int parts = col_parts(c->out, n);
#pragma omp parallel for schedule(static)
	for (int p = 0; p < parts; p++) {
		int o0, o1;
		part_range(c->out, parts, p, &o0, &o1);
		if (o1 <= o0)
			continue;
		/* y[:, o0:o1] = x W[o0:o1]^T (+ b) */
		if (c->bias)
			for (int i = 0; i < n; i++)
				memcpy(y + (size_t)i * c->out + o0, b + o0,
				       (size_t)(o1 - o0) * sizeof(float));
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, o1 - o0, c->in, 1.0f, x,
			    c->in, W + (size_t)o0 * c->in, c->in, c->bias ? 1.0f : 0.0f, y + o0,
			    c->out);
	}
}

static void dense_backward(al_layer *l, int n)
{
	dense_cfg *c = l->priv;
	const float *x = l->x[0], *W = l->w, *dy = l->dy;
	float *dW = l->dw, *db = l->dw + (size_t)c->out * (size_t)c->in;
	int parts = col_parts(c->out, c->in);
	/* dW[o0:o1] += dy[:, o0:o1]^T x ; db[o] += sum_i dy[i, o] */
#pragma omp parallel for schedule(static)
	for (int p = 0; p < parts; p++) {
		int o0, o1;
		part_range(c->out, parts, p, &o0, &o1);
		if (o1 <= o0)
			continue;
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, o1 - o0, c->in, n, 1.0f, dy + o0,
			    c->out, x, c->in, 1.0f, dW + (size_t)o0 * c->in, c->in);
		if (c->bias)
			for (int i = 0; i < n; i++) {
				const float *d = dy + (size_t)i * c->out;
				for (int o = o0; o < o1; o++)
					db[o] += d[o];
			}
	}
	if (!l->dx[0])
		return;
	/* dx[:, j0:j1] = dy W[:, j0:j1] */
	int iparts = col_parts(c->in, n);
#pragma omp parallel for schedule(static)
	for (int p = 0; p < iparts; p++) {
		int j0, j1;
		part_range(c->in, iparts, p, &j0, &j1);
		if (j1 <= j0)
			continue;
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, j1 - j0, c->out, 1.0f, dy,
			    c->out, W + j0, c->in, 0.0f, l->dx[0] + j0, c->in);
	}
}

static void free_priv(al_layer *l)
{
	free(l->priv);
	l->priv = NULL;
}

const al_layer_ops al_layer_dense = {
	.type = "dense",
	.doc = "fully connected: out = N, bias = 1|0, init; flattens its input",
	.setup = dense_setup,
	.init = dense_init,
	.forward = dense_forward,
	.backward = dense_backward,
	.free = free_priv,
};

/* ---- act: the activation catalog as a layer ------------------------------ */
static al_status act_setup(al_layer *l, al_cfg_section *s)
{
	if (l->nin != 1)
		return al_err(AL_EINVAL, "act takes one input");
	l->out_c = l->in_c[0];
	l->out_h = l->in_h[0];
	l->out_w = l->in_w[0];
	size_t g = al_act_groups(&l->act, l->out_c, l->out_h, l->out_w);
	l->nap = g * (size_t)al_act_nparams(&l->act);
	l->nstate = l->nap ? AL_ACT_HIST_STATE + (size_t)l->act.desc->n_state_hyper : 0;
	return AL_OK;
}

/* Input statistics of a trainable activation (see al_model_act_layer_hist);
 * on one thread, so they do not depend on the thread count. The min/max
 * pass is a vector reduction (min and max do not depend on the order) and
 * the bin indices are computed a chunk at a time in a vector loop, then
 * counted in integers (exact), four interleaved copies so that runs of the
 * same bin do not form one dependency chain. */
#define ACT_REC_CHUNK 1024
static void act_record(al_layer *l, int n)
{
	float *st = l->state, *bins = st + 4;
	double seen = (double)st[3];
	st[3] = (float)(seen + 1);
	if (fmod(seen, AL_ACT_HIST_EVERY) != 0)
		return;
	const float *x = l->x[0];
	size_t N = (size_t)n * al_out_size(l);
	float mn = INFINITY, mx = -INFINITY;
#pragma omp simd reduction(min : mn) reduction(max : mx)
	for (size_t i = 0; i < N; i++) {
		float v = x[i];
		int fin = v - v == 0; /* not NaN, not infinite */
		float a = fin ? v : INFINITY, b = fin ? v : -INFINITY;
		mn = a < mn ? a : mn;
		mx = b > mx ? b : mx;
	}
	if (!(mn <= mx))
		return;
	const double s0 = (double)st[0], s1 = (double)st[1], s2 = (double)st[2];
	const double dmn = (double)mn, dmx = (double)mx;
	double lo = s2 > 0 ? s0 : dmn, hi = s2 > 0 ? s1 : dmx;
	double nlo = dmn < lo ? dmn : lo, nhi = dmx > hi ? dmx : hi;
	if (!(nhi > nlo)) { /* one value so far: a unit-wide range around it */
		nlo -= 0.5;
		nhi += 0.5;
	}
	if (s2 > 0 && (nlo != s0 || nhi != s1)) {
		/* range grew: move each old bin's count to the new bin of its centre */
		float old[AL_ACT_HIST_BINS];
		memcpy(old, bins, sizeof old);
		memset(bins, 0, sizeof old);
		double ow = (s1 - s0) / AL_ACT_HIST_BINS;
		for (int b = 0; b < AL_ACT_HIST_BINS; b++) {
			double c = s0 + (b + 0.5) * ow;
			int nb = (int)((c - nlo) / (nhi - nlo) * AL_ACT_HIST_BINS);
			nb = nb < 0 ? 0 : (nb >= AL_ACT_HIST_BINS ? AL_ACT_HIST_BINS - 1 : nb);
			bins[nb] += old[b];
		}
	}
	st[0] = (float)nlo;
	st[1] = (float)nhi;
	/* the float range may round outward or inward: bin against it */
	double flo = (double)st[0], fhi = (double)st[1], scale = AL_ACT_HIST_BINS / (fhi - flo);
	/* bin AL_ACT_HIST_BINS collects the non-finite values (not counted) */
	unsigned cnt[4][AL_ACT_HIST_BINS + 1] = {{0}};
	int bi[ACT_REC_CHUNK];
	for (size_t i0 = 0; i0 < N; i0 += ACT_REC_CHUNK) {
		size_t m = N - i0 < ACT_REC_CHUNK ? N - i0 : ACT_REC_CHUNK;
		const float *xc = x + i0;
#pragma omp simd
		for (size_t j = 0; j < m; j++) {
			float v = xc[j];
			int fin = v - v == 0;
			double dv = fin ? (double)v : flo;
			int b = (int)((dv - flo) * scale);
			b = b < 0 ? 0 : (b >= AL_ACT_HIST_BINS ? AL_ACT_HIST_BINS - 1 : b);
			bi[j] = fin ? b : AL_ACT_HIST_BINS;
		}
		size_t j = 0;
		for (; j + 4 <= m; j += 4) {
			cnt[0][bi[j]]++;
			cnt[1][bi[j + 1]]++;
			cnt[2][bi[j + 2]]++;
			cnt[3][bi[j + 3]]++;
		}
		for (; j < m; j++)
			cnt[0][bi[j]]++;
	}
	double total = 0;
	for (int b = 0; b < AL_ACT_HIST_BINS; b++) {
		double c = (double)cnt[0][b] + (double)cnt[1][b] + (double)cnt[2][b] +
			   (double)cnt[3][b];
		bins[b] = (float)((double)bins[b] + c);
		total += c;
	}
	st[2] = (float)(s2 + total);
}

static size_t act_scratch(const al_layer *l, int n)
{
	return al_act_scratch_floats(&l->act, n, l->out_c, l->out_h, l->out_w);
}

static void act_init(al_layer *l, al_rng *r)
{
	size_t g = al_act_groups(&l->act, l->out_c, l->out_h, l->out_w);
	if (l->nap)
		al_act_init_params(&l->act, l->ap, g, r);
}

static void act_forward(al_layer *l, int n, int train)
{
	if (train && al_layer_has_hist(l))
		act_record(l, n);
	al_act_forward(&l->act, l->ap, n, l->out_c, l->out_h, l->out_w, l->x[0], l->y, train,
		       &l->rng);
}

static void act_backward(al_layer *l, int n)
{
	al_act_backward(&l->act, l->ap, n, l->out_c, l->out_h, l->out_w, l->x[0], l->y, l->dy,
			l->dx[0], l->dap, l->scratch, l->train, &l->rng);
}

const al_layer_ops al_layer_act = {
	.type = "act",
	.doc = "activation: act = SPEC | $ACT (the activation under study), default = SPEC for "
	       "$ACT sites not selected by --act-sites",
	.setup = act_setup,
	.scratch = act_scratch,
	.init = act_init,
	.forward = act_forward,
	.backward = act_backward,
	.always_dx = 1,
};

/* ---- flatten ------------------------------------------------------------ */
static al_status flatten_setup(al_layer *l, al_cfg_section *s)
{
	if (l->nin != 1)
		return al_err(AL_EINVAL, "flatten takes one input");
	size_t f = al_in_size(l, 0);
	if (f > (1u << 30))
		return al_err(AL_ERANGE, "flatten: %zu features", f);
	l->out_c = (int)f;
	l->out_h = l->out_w = 1;
	return AL_OK;
}

static void flatten_forward(al_layer *l, int n, int train)
{
	memcpy(l->y, l->x[0], (size_t)n * al_out_size(l) * sizeof(float));
}

static void flatten_backward(al_layer *l, int n)
{
	if (l->dx[0])
		memcpy(l->dx[0], l->dy, (size_t)n * al_out_size(l) * sizeof(float));
}

const al_layer_ops al_layer_flatten = {
	.type = "flatten",
	.doc = "reshape (C, H, W) to (C*H*W)",
	.setup = flatten_setup,
	.forward = flatten_forward,
	.backward = flatten_backward,
};
