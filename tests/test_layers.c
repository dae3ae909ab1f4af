/* test_layers.c — the layer kinds conv, maxpool, avgpool, gap, batchnorm,
 * dropout, shortcut and concat, tested through small models built from cfg
 * text: finite-difference gradients of a random-projection loss on every
 * parameter and input coordinate, forward values against closed forms and a
 * naive convolution, PyTorch's tie/padding conventions, running statistics,
 * dropout masks, setup errors, and bit-identical results for 1 and 2
 * threads.
 * Not for: PyTorch parity fixtures (tests/fixtures), activation kernels.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/core.h"
#include "actlab/nn.h"
#include "nn/layer.h"
#include "test.h"

/* ---- helpers ---------------------------------------------------------------- */

static al_model *build(const char *label, const char *cfg, int c, int h, int w, int classes)
{
	al_model_opts o = al_model_opts_default();
	o.in_c = c;
	o.in_h = h;
	o.in_w = w;
	o.classes = classes;
	o.seed = 11;
	al_model *m = NULL;
	if (al_model_create_text(cfg, label, &o, &m) != AL_OK) {
		test_fail(__FILE__, __LINE__, "%s: model: %s", label, al_errmsg());
		return NULL;
	}
	al_rng r;
	al_rng_seed(&r, 5);
	al_model_set_rng(m, &r);
	return m;
}

/* Message of building cfg, which must fail ("" if it did not). */
static const char *build_error(const char *cfg, int c, int h, int w, int classes)
{
	al_model_opts o = al_model_opts_default();
	o.in_c = c;
	o.in_h = h;
	o.in_w = w;
	o.classes = classes;
	al_model *m = NULL;
	if (al_model_create_text(cfg, "err.cfg", &o, &m) == AL_OK) {
		al_model_free(m);
		return "";
	}
	return al_errmsg();
}

static void fill_normal(float *x, size_t n, uint64_t seed)
{
	al_rng r;
	al_rng_seed(&r, seed);
	for (size_t i = 0; i < n; i++)
		x[i] = (float)al_rng_normal(&r);
}

/* A shuffled grid of distinct values 0.1 apart, so that no max-pool window
 * holds two values within a finite-difference step of each other. */
static void fill_distinct(float *x, size_t n, uint64_t seed)
{
	int32_t *idx = malloc(n * sizeof *idx);
	for (size_t i = 0; i < n; i++)
		idx[i] = (int32_t)i;
	al_rng r;
	al_rng_seed(&r, seed);
	al_rng_shuffle(&r, idx, n);
	for (size_t i = 0; i < n; i++)
		x[i] = 0.1f * (float)idx[i] - 0.05f * (float)n;
	free(idx);
}

/* L = sum(r * logits), accumulated in double. */
static double proj_loss(al_model *m, const float *x, int n, int train, const float *r, int k)
{
	const float *lg = NULL;
	if (al_model_forward(m, x, n, train, &lg) != AL_OK)
		return NAN;
	double L = 0.0;
	for (size_t i = 0; i < (size_t)n * (size_t)k; i++)
		L += (double)r[i] * (double)lg[i];
	return L;
}

typedef struct {
	int c, h, w, classes, n;
	int train;
	int distinct;       /* input from fill_distinct (max pooling) */
	double eps;         /* finite-difference step (default 1e-2) */
	double rtol, atol;  /* defaults 1e-2 and 2e-3 */
	const float *state; /* copied into the model's state before checking */
} gc_opts;

/* One central difference on *v (a parameter or input float); the actual
 * float step is used, not the nominal one. */
static double central(al_model *m, const float *x, float *v, const gc_opts *o, const float *r)
{
	const float v0 = *v;
	const float vp = (float)((double)v0 + o->eps), vm = (float)((double)v0 - o->eps);
	*v = vp;
	double lp = proj_loss(m, x, o->n, o->train, r, o->classes);
	*v = vm;
	double lm = proj_loss(m, x, o->n, o->train, r, o->classes);
	*v = v0;
	return (lp - lm) / ((double)vp - (double)vm);
}

static int gradcheck1(const char *label, const char *cfg, gc_opts o)
{
	if (o.eps == 0)
		o.eps = 1e-2;
	if (o.rtol == 0)
		o.rtol = 1e-2;
	if (o.atol == 0)
		o.atol = 2e-3;
	al_model *m = build(label, cfg, o.c, o.h, o.w, o.classes);
	if (!m)
		return 1;
	if (o.state)
		memcpy(al_model_state(m), o.state, al_model_nstate(m) * sizeof(float));
	size_t nin = (size_t)o.n * (size_t)o.c * (size_t)o.h * (size_t)o.w;
	size_t nout = (size_t)o.n * (size_t)o.classes, np = al_model_nparams(m);
	float *x = malloc(nin * sizeof(float)), *r = malloc(nout * sizeof(float));
	float *g = malloc((np + 1) * sizeof(float)), *gx = malloc(nin * sizeof(float));
	if (o.distinct)
		fill_distinct(x, nin, 3);
	else
		fill_normal(x, nin, 3);
	fill_normal(r, nout, 4);
	al_model_want_input_grad(m, 1);
	int bad = 0;
	if (al_model_forward(m, x, o.n, o.train, NULL) != AL_OK) {
		test_fail(__FILE__, __LINE__, "%s: forward: %s", label, al_errmsg());
		bad = 1;
		goto done;
	}
	al_model_zero_grad(m);
	if (al_model_backward(m, r) != AL_OK) {
		test_fail(__FILE__, __LINE__, "%s: backward: %s", label, al_errmsg());
		bad = 1;
		goto done;
	}
	memcpy(g, al_model_grads(m), np * sizeof(float));
	memcpy(gx, al_model_input_grad(m), nin * sizeof(float));
	float *params = al_model_params(m);
	double worst = 0; /* largest error / tolerance */
	for (size_t j = 0; j < np + nin; j++) {
		int is_in = j >= np;
		size_t k = is_in ? j - np : j;
		double fd = central(m, x, is_in ? &x[k] : &params[k], &o, r);
		double an = is_in ? (double)gx[k] : (double)g[k];
		double err = fabs(fd - an), scale = fmax(fabs(fd), fabs(an));
		worst = fmax(worst, err / (o.atol + o.rtol * scale));
		if (!(err <= o.atol + o.rtol * scale)) {
			if (bad < 4)
				test_fail(__FILE__, __LINE__,
					  "%s: %s %zu: backward %.6g, finite difference %.6g", label,
					  is_in ? "input" : "param", k, an, fd);
			bad++;
		}
	}
	if (bad > 4)
		test_fail(__FILE__, __LINE__, "%s: %d coordinates wrong in all", label, bad);
	if (getenv("AL_TEST_VERBOSE"))
		printf("  %s: %zu coordinates, worst error %.3f of tolerance\n", label, np + nin,
		       worst);
done:
	free(x);
	free(r);
	free(g);
	free(gx);
	al_model_free(m);
	return bad;
}

/* Finite-difference check of every parameter and input coordinate of the
 * model built from cfg, against backward with dlogits = r. Returns the
 * number of mismatches (each also recorded as a test failure). Runs on one
 * thread: thousands of tiny forwards would mostly measure OpenMP barriers
 * on a loaded machine, and layers_threads_bit_identical shows that the
 * thread count does not change any result. */
static int gradcheck(const char *label, const char *cfg, gc_opts o)
{
	int threads = al_get_threads();
	al_set_threads(1);
	int bad = gradcheck1(label, cfg, o);
	al_set_threads(threads);
	return bad;
}

/* ---- conv gradients --------------------------------------------------------- */

TEST(layers_conv_grad_stride_pad)
{
	gradcheck("conv s2 p1 on 7x6",
		  "[conv]\nfilters = 3\nsize = 3\nstride = 2\npad = 1\n"
		  "[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 2, .h = 7, .w = 6, .classes = 3, .n = 2});
	gradcheck("conv s1 no pad, 2 layers",
		  "[conv]\nfilters = 3\nsize = 3\n[conv]\nfilters = 2\nsize = 2\nstride = 2\n"
		  "[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 2, .h = 6, .w = 7, .classes = 2, .n = 3});
}

TEST(layers_conv_grad_wide)
{
	/* more than 8 filters per group: the weight gradient goes through sgemm */
	gradcheck("conv 10 filters",
		  "[conv]\nfilters = 10\nsize = 3\npad = 1\n[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 2, .h = 4, .w = 3, .classes = 2, .n = 2});
	gradcheck("conv 18 filters groups 2 stride 2",
		  "[conv]\nfilters = 18\nsize = 2\nstride = 2\ngroups = 2\n[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 2, .h = 4, .w = 5, .classes = 2, .n = 2});
	/* rows of 8 or more floats take the vector copy/add paths, with tails */
	gradcheck("conv on a wide image, pad 1",
		  "[conv]\nfilters = 2\nsize = 3\npad = 1\n[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 1, .h = 3, .w = 19, .classes = 2, .n = 2});
	gradcheck("conv on a wide image, no pad",
		  "[conv]\nfilters = 2\nsize = 3\n[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 2, .h = 3, .w = 18, .classes = 2, .n = 1});
	gradcheck("conv 1x8 output rows",
		  "[conv]\nfilters = 1\nsize_h = 1\nsize_w = 3\n[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 1, .h = 2, .w = 10, .classes = 2, .n = 1});
}

TEST(layers_conv_grad_groups)
{
	gradcheck("conv groups 2 pad same",
		  "[conv]\nfilters = 4\nsize = 3\ngroups = 2\npad = same\n"
		  "[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 4, .h = 5, .w = 4, .classes = 2, .n = 2});
	gradcheck("depthwise 1x1",
		  "[conv]\nfilters = 6\nsize = 1\ngroups = 3\n[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 3, .h = 3, .w = 4, .classes = 2, .n = 2});
	/* EfficientNet's depthwise convs: one 3x3 (5x5) filter per channel */
	gradcheck("depthwise 3x3 stride 2 pad 1 no bias",
		  "[conv]\nfilters = 4\nsize = 3\nstride = 2\npad = 1\ngroups = 4\nbias = 0\n"
		  "[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 4, .h = 5, .w = 6, .classes = 2, .n = 2});
	gradcheck("depthwise 5x5 pad 2",
		  "[conv]\nfilters = 3\nsize = 5\npad = 2\ngroups = 3\n[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 3, .h = 5, .w = 5, .classes = 2, .n = 2});
}

TEST(layers_conv_grad_1x1)
{
	gradcheck("conv 1x1 (direct GEMM)",
		  "[conv]\nfilters = 2\nsize = 1\n[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 3, .h = 4, .w = 5, .classes = 2, .n = 3});
	gradcheck("conv 1x1 stride 2 pad 1",
		  "[conv]\nfilters = 2\nsize = 1\nstride = 2\npad = 1\nbias = 0\n"
		  "[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 3, .h = 4, .w = 5, .classes = 2, .n = 2});
}

TEST(layers_conv_grad_rect_dilation)
{
	gradcheck("conv 2x3 kernel no bias",
		  "[conv]\nfilters = 2\nsize_h = 2\nsize_w = 3\npad = 1\nbias = 0\n"
		  "[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 2, .h = 5, .w = 6, .classes = 2, .n = 2});
	gradcheck("conv dilation 2",
		  "[conv]\nfilters = 2\nsize = 3\ndilation = 2\npad = 1\nstride = 2\n"
		  "[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 2, .h = 7, .w = 8, .classes = 2, .n = 2});
	gradcheck("conv dilation 2 pad same",
		  "[conv]\nfilters = 2\nsize = 3\ndilation = 2\npad = same\n"
		  "[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 1, .h = 5, .w = 6, .classes = 2, .n = 2});
}

/* Naive direct convolution in double. */
static void conv_ref(const float *x, const float *W, const float *b, double *y, int n, int ci,
		     int ih, int iw, int co, int kh, int kw, int s, int p, int d, int g, int oh,
		     int ow)
{
	int cig = ci / g, cog = co / g;
	for (int i = 0; i < n; i++)
		for (int o = 0; o < co; o++)
			for (int oy = 0; oy < oh; oy++)
				for (int ox = 0; ox < ow; ox++) {
					double acc = b ? (double)b[o] : 0.0;
					int grp = o / cog;
					for (int c = 0; c < cig; c++)
						for (int ky = 0; ky < kh; ky++)
							for (int kx = 0; kx < kw; kx++) {
								int yy = oy * s - p + ky * d,
								    xx = ox * s - p + kx * d;
								if (yy < 0 || yy >= ih || xx < 0 || xx >= iw)
									continue;
								acc += (double)W[((o * cig + c) * kh + ky) * kw + kx] *
								       (double)x[((i * ci + grp * cig + c) * ih + yy) * iw + xx];
							}
					y[((i * co + o) * oh + oy) * ow + ox] = acc;
				}
}

TEST(layers_conv_forward_naive)
{
	static const struct {
		int ci, ih, iw, co, kh, kw, s, p, d, g, bias;
	} cs[] = {
		{1, 28, 28, 6, 5, 5, 1, 2, 1, 1, 1}, {6, 14, 14, 16, 5, 5, 1, 0, 1, 1, 1},
		{4, 9, 7, 6, 3, 2, 2, 1, 1, 2, 0},   {3, 8, 8, 3, 3, 3, 1, 2, 2, 3, 1},
		{5, 6, 5, 4, 1, 1, 1, 0, 1, 1, 1},   {2, 5, 5, 4, 3, 3, 3, 2, 1, 2, 1},
	};
	for (size_t t = 0; t < sizeof cs / sizeof cs[0]; t++) {
		int oh = (cs[t].ih + 2 * cs[t].p - cs[t].d * (cs[t].kh - 1) - 1) / cs[t].s + 1;
		int ow = (cs[t].iw + 2 * cs[t].p - cs[t].d * (cs[t].kw - 1) - 1) / cs[t].s + 1;
		int classes = cs[t].co * oh * ow, n = 3;
		char cfg[512];
		snprintf(cfg, sizeof cfg,
			 "[conv]\nfilters = %d\nsize_h = %d\nsize_w = %d\nstride = %d\npad = %d\n"
			 "dilation = %d\ngroups = %d\nbias = %d\n[flatten]\n",
			 cs[t].co, cs[t].kh, cs[t].kw, cs[t].s, cs[t].p, cs[t].d, cs[t].g, cs[t].bias);
		al_model *m = build("conv naive", cfg, cs[t].ci, cs[t].ih, cs[t].iw, classes);
		REQUIRE(m, "case %zu", t);
		size_t nin = (size_t)n * (size_t)(cs[t].ci * cs[t].ih * cs[t].iw);
		size_t nout = (size_t)n * (size_t)classes;
		float *x = malloc(nin * sizeof(float));
		double *ref = malloc(nout * sizeof(double));
		fill_normal(x, nin, 9);
		const float *W = al_model_params(m);
		size_t nwk = (size_t)cs[t].co * (size_t)(cs[t].ci / cs[t].g * cs[t].kh * cs[t].kw);
		CHECK(al_model_nparams(m) == nwk + (cs[t].bias ? (size_t)cs[t].co : 0),
		      "case %zu: %zu params", t, al_model_nparams(m));
		conv_ref(x, W, cs[t].bias ? W + nwk : NULL, ref, n, cs[t].ci, cs[t].ih, cs[t].iw,
			 cs[t].co, cs[t].kh, cs[t].kw, cs[t].s, cs[t].p, cs[t].d, cs[t].g, oh, ow);
		const float *y = NULL;
		REQUIRE_OK(al_model_forward(m, x, n, 0, &y));
		double worst = 0;
		for (size_t j = 0; j < nout; j++)
			worst = fmax(worst, fabs((double)y[j] - ref[j]));
		CHECK(worst < 1e-5, "case %zu: max |conv - naive| = %g", t, worst);
		free(x);
		free(ref);
		al_model_free(m);
	}
}

TEST(layers_conv_init_torch)
{
	/* PyTorch default: weights and bias ~ U(+-1/sqrt(fan_in)), fan_in = 2*3*3 */
	al_model *m = build("conv init", "[conv]\nfilters = 64\nsize = 3\ngroups = 2\n[gap]\n", 4,
			    5, 5, 64);
	REQUIRE(m, "model");
	const float *p = al_model_params(m);
	size_t nw = 64 * 2 * 9, np = al_model_nparams(m);
	REQUIRE(np == nw + 64, "%zu params", np);
	double bound = 1.0 / sqrt(18.0), mx = 0, mb = 0;
	for (size_t j = 0; j < nw; j++)
		mx = fmax(mx, fabs((double)p[j]));
	for (size_t j = nw; j < np; j++)
		mb = fmax(mb, fabs((double)p[j]));
	CHECK(mx <= bound && mx > 0.9 * bound, "max |w| = %g, bound %g", mx, bound);
	CHECK(mb <= bound && mb > 0.5 * bound, "max |b| = %g, bound %g", mb, bound);
	al_model_free(m);
}

/* The uniform initialisers' inlined generator draws exactly al_rng_uniform's
 * sequence and leaves the RNG where n calls would. */
TEST(layers_init_bulk_uniform)
{
	enum { N = 1003 };
	static float w[N];
	al_rng a, b;
	al_rng_seed(&a, 12345);
	b = a;
	al_init_fill(AL_INIT_TORCH, w, N, 18, 7, &a);
	double bound = 1.0 / sqrt(18.0);
	size_t bad = 0;
	for (size_t i = 0; i < N; i++)
		bad += w[i] != (float)(bound * (2.0 * (double)al_rng_uniform(&b) - 1.0));
	CHECK(bad == 0, "%zu of %d draws differ from al_rng_uniform's", bad, N);
	CHECK(al_rng_u64(&a) == al_rng_u64(&b), "RNG state after the fill differs");
	al_init_fill(AL_INIT_GLOROT_UNIFORM, w, 5, 3, 4, &a);
	bound = sqrt(6.0 / 7.0);
	for (size_t i = 0; i < 5; i++)
		CHECK(w[i] == (float)(bound * (2.0 * (double)al_rng_uniform(&b) - 1.0)),
		      "glorot_uniform draw %zu", i);
}

/* ---- pooling ------------------------------------------------------------------ */

TEST(layers_maxpool_grad)
{
	gradcheck("maxpool 3 s2 p1",
		  "[maxpool]\nsize = 3\nstride = 2\npad = 1\n[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 2, .h = 7, .w = 6, .classes = 2, .n = 2, .distinct = 1});
	gradcheck("maxpool 2 s1 (overlapping)",
		  "[maxpool]\nsize = 2\nstride = 1\n[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 2, .h = 4, .w = 5, .classes = 2, .n = 2, .distinct = 1});
	gradcheck("maxpool 2 s2 odd input",
		  "[maxpool]\nsize = 2\n[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 2, .h = 7, .w = 5, .classes = 2, .n = 2, .distinct = 1});
}

/* 1x4x4 input -> maxpool -> flatten; backward with ones shows the argmax. */
static void pool_probe(const char *cfg, const float *x, int classes, float *y, float *gx)
{
	al_model *m = build("pool probe", cfg, 1, 4, 4, classes);
	if (!m)
		return;
	al_model_want_input_grad(m, 1);
	const float *lg = NULL;
	float ones[16];
	for (int i = 0; i < 16; i++)
		ones[i] = 1.0f;
	if (al_model_forward(m, x, 1, 1, &lg) == AL_OK && al_model_backward(m, ones) == AL_OK) {
		memcpy(y, lg, (size_t)classes * sizeof(float));
		memcpy(gx, al_model_input_grad(m), 16 * sizeof(float));
	}
	al_model_free(m);
}

TEST(layers_maxpool_ties_and_padding)
{
	/* ties: the first element in row-major window order wins (PyTorch) */
	const float x[16] = {1, 1, 0, 2, 1, 1, 2, 2, -1, 3, 5, 0, 3, -2, 5, 5};
	float y[4] = {0}, gx[16] = {0};
	pool_probe("[maxpool]\nsize = 2\n[flatten]\n", x, 4, y, gx);
	const float ey[4] = {1, 2, 3, 5};
	const float eg[16] = {1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0};
	CHECK(memcmp(y, ey, sizeof ey) == 0, "2x2 values %g %g %g %g", (double)y[0], (double)y[1],
	      (double)y[2], (double)y[3]);
	CHECK(memcmp(gx, eg, sizeof eg) == 0, "2x2 ties: argmax pattern wrong");
	/* general path: 3x3 windows, stride 2, pad 1 -> 2x2; padding is -inf */
	const float neg[16] = {-5, -5, -5, -5, -5, -5, -5, -5, -5, -5, -5, -5, -5, -5, -5, -5};
	float yn[4] = {0}, gn[16] = {0};
	pool_probe("[maxpool]\nsize = 3\nstride = 2\npad = 1\n[flatten]\n", neg, 4, yn, gn);
	for (int i = 0; i < 4; i++)
		CHECK(yn[i] == -5.0f, "padded max %d = %g, expected -5 (padding must be -inf)", i,
		      (double)yn[i]);
	/* windows start at rows/cols -1 and 1: first valid elements (0,0), (0,1),
	 * (1,0), (1,1) */
	const float egn[16] = {1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	CHECK(memcmp(gn, egn, sizeof egn) == 0, "padded ties: argmax pattern wrong");
	/* overlapping windows send one input's gradient to several outputs */
	float ys[9] = {0}, gs[16] = {0};
	const float one_peak[16] = {0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	pool_probe("[maxpool]\nsize = 2\nstride = 1\n[flatten]\n", one_peak, 9, ys, gs);
	CHECK(gs[5] == 4.0f, "peak in 4 windows: gradient %g", (double)gs[5]);
}

/* The 2x2 stride-2 path is a vectorised select loop: 20 windows in one
 * row pair (16 lanes plus a tail), each holding ties, NaNs or distinct
 * values in a different place, against the rule written out: the window is
 * scanned a, b, c, d in row-major order and v replaces the running max when
 * v > max or v is NaN. */
TEST(layers_maxpool_2x2_vector_rule)
{
	enum { W = 40, O = 20 };
	float x[2 * W];
	const float pat[][4] = {{1, 1, 1, 1}, {0, 2, 2, 1}, {3, 1, 3, 3}, {-1, -2, -3, -1},
				{NAN, 1, 2, 3}, {1, NAN, 5, NAN}, {0, 0, 0, 7}, {-0.0f, 0.0f, 0, 0},
				{4, 3, 2, 1}, {1, 2, 3, 4}, {5, 5, 6, 6}, {2, NAN, NAN, 1}};
	const int np = (int)(sizeof pat / sizeof *pat);
	for (int o = 0; o < O; o++) {
		const float *q = pat[(o * 5) % np];
		x[2 * o] = q[0], x[2 * o + 1] = q[1], x[W + 2 * o] = q[2], x[W + 2 * o + 1] = q[3];
	}
	al_model *m = build("pool 2x2 vector", "[maxpool]\nsize = 2\n[flatten]\n", 1, 2, W, O);
	if (!m)
		return;
	al_model_want_input_grad(m, 1);
	const float *lg = NULL;
	float ones[O];
	for (int i = 0; i < O; i++)
		ones[i] = 1.0f;
	REQUIRE(al_model_forward(m, x, 1, 1, &lg) == AL_OK && al_model_backward(m, ones) == AL_OK,
		"2x2 pool forward/backward");
	const float *gx = al_model_input_grad(m);
	for (int o = 0; o < O; o++) {
		const int at[4] = {2 * o, 2 * o + 1, W + 2 * o, W + 2 * o + 1};
		float mx = x[at[0]];
		int win = at[0];
		for (int k = 1; k < 4; k++)
			if (x[at[k]] > mx || x[at[k]] != x[at[k]])
				mx = x[at[k]], win = at[k];
		CHECK(memcmp(&lg[o], &mx, 4) == 0 || (lg[o] != lg[o] && mx != mx),
		      "window %d: max %g, expected %g", o, (double)lg[o], (double)mx);
		for (int k = 0; k < 4; k++)
			CHECK(gx[at[k]] == (at[k] == win ? 1.0f : 0.0f),
			      "window %d: gradient at %d is %g, winner %d", o, at[k], (double)gx[at[k]],
			      win);
	}
	al_model_free(m);
}

/* The 2x2 stride-2 path on whole planes of several shapes, 2 samples x 2
 * channels: rows of 5, 14, 16 and 35 outputs (one masked chunk, a full one,
 * two plus a tail), odd heights and widths (a row or column left out: the
 * backward then takes the memset-and-scatter path), inputs drawn from
 * {-1, -0, 0, 1, 2, NaN} so ties, signed zeros and NaNs fill the windows,
 * output gradients with -0 among them; values, arguments and input
 * gradients bit for bit against the rule of layers_maxpool_2x2_vector_rule
 * (rows of fewer than 8 outputs also take the memset-and-scatter backward). */
TEST(layers_maxpool_2x2_planes)
{
	const int shapes[][2] = {{10, 10}, {28, 28}, {9, 11}, {4, 70}, {5, 32}, {2, 2}};
	const float vals[6] = {-1.0f, -0.0f, 0.0f, 1.0f, 2.0f, NAN};
	for (size_t sh = 0; sh < sizeof shapes / sizeof *shapes; sh++) {
		const int H = shapes[sh][0], W = shapes[sh][1], C = 2, N = 2;
		const int OH = H / 2, OW = W / 2, O = C * OH * OW;
		const size_t nin = (size_t)N * C * H * W, nout = (size_t)N * O;
		float *x = malloc(nin * sizeof *x), *ey = malloc(nout * sizeof *ey);
		float *g = malloc(nout * sizeof *g), *egx = calloc(nin, sizeof *egx);
		REQUIRE(x && ey && g && egx, "alloc");
		uint32_t st = 12345u + (uint32_t)sh;
		for (size_t i = 0; i < nin; i++) {
			st = st * 1664525u + 1013904223u;
			x[i] = vals[(st >> 8) % 6];
		}
		for (size_t j = 0; j < nout; j++)
			g[j] = j % 7 == 3 ? -0.0f : (float)(j % 11) - 4.0f;
		for (int q = 0; q < N * C; q++)
			for (int oy = 0; oy < OH; oy++)
				for (int ox = 0; ox < OW; ox++) {
					const size_t p0 = (size_t)q * H * W;
					const size_t at[4] = {p0 + (size_t)(2 * oy) * W + 2 * ox,
							      p0 + (size_t)(2 * oy) * W + 2 * ox + 1,
							      p0 + (size_t)(2 * oy + 1) * W + 2 * ox,
							      p0 + (size_t)(2 * oy + 1) * W + 2 * ox + 1};
					float mx = x[at[0]];
					size_t win = at[0];
					for (int k = 1; k < 4; k++)
						if (x[at[k]] > mx || x[at[k]] != x[at[k]])
							mx = x[at[k]], win = at[k];
					const size_t j = (size_t)q * OH * OW + (size_t)oy * OW + ox;
					ey[j] = mx;
					egx[win] += g[j];
				}
		al_model *m = build("pool 2x2 planes", "[maxpool]\nsize = 2\n[flatten]\n", C, H, W, O);
		if (!m)
			return;
		al_model_want_input_grad(m, 1);
		const float *lg = NULL;
		REQUIRE(al_model_forward(m, x, N, 1, &lg) == AL_OK && al_model_backward(m, g) == AL_OK,
			"2x2 pool planes forward/backward");
		const float *gx = al_model_input_grad(m);
		int bad = 0;
		for (size_t j = 0; j < nout && bad < 5; j++)
			if (memcmp(&lg[j], &ey[j], 4) != 0 && !(lg[j] != lg[j] && ey[j] != ey[j])) {
				CHECK(0, "%dx%d: output %zu is %g, expected %g", H, W, j, (double)lg[j],
				      (double)ey[j]);
				bad++;
			}
		for (size_t i = 0; i < nin && bad < 5; i++)
			if (memcmp(&gx[i], &egx[i], 4) != 0) {
				CHECK(0, "%dx%d: input gradient %zu is %g, expected %g", H, W, i,
				      (double)gx[i], (double)egx[i]);
				bad++;
			}
		al_model_free(m);
		free(x);
		free(ey);
		free(g);
		free(egx);
	}
}

TEST(layers_avgpool)
{
	gradcheck("avgpool 3 s2 p1 include pad",
		  "[avgpool]\nsize = 3\nstride = 2\npad = 1\n[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 2, .h = 7, .w = 6, .classes = 2, .n = 2});
	gradcheck("avgpool 3 s2 p1 exclude pad",
		  "[avgpool]\nsize = 3\nstride = 2\npad = 1\ncount_include_pad = 0\n"
		  "[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 2, .h = 7, .w = 6, .classes = 2, .n = 2});
	/* closed form on ones: the corner window holds 4 of 9 cells */
	float ones[16], y[4] = {0}, gx[16];
	for (int i = 0; i < 16; i++)
		ones[i] = 1.0f;
	pool_probe("[avgpool]\nsize = 3\nstride = 2\npad = 1\n[flatten]\n", ones, 4, y, gx);
	CHECK_NEAR(y[0], 4.0 / 9.0, 1e-7);
	CHECK_NEAR(y[3], 1.0, 1e-7);
	CHECK_NEAR(gx[0], 1.0 / 9.0, 1e-7);
	pool_probe("[avgpool]\nsize = 3\nstride = 2\npad = 1\ncount_include_pad = 0\n[flatten]\n",
		   ones, 4, y, gx);
	CHECK_NEAR(y[0], 1.0, 1e-7);
	CHECK_NEAR(gx[0], 0.25, 1e-7);
	CHECK_NEAR(gx[5], 0.25 + 1.0 / 6 + 1.0 / 6 + 1.0 / 9, 1e-6);
}

TEST(layers_gap)
{
	gradcheck("conv + gap",
		  "[conv]\nfilters = 3\nsize = 3\npad = 1\n[gap]\n",
		  (gc_opts){.c = 2, .h = 4, .w = 5, .classes = 3, .n = 2});
	al_model *m = build("gap", "[gap]\n", 2, 2, 3, 2);
	REQUIRE(m, "model");
	const float x[12] = {1, 2, 3, 4, 5, 6, -1, -1, -1, -1, -1, 5};
	const float *y;
	REQUIRE_OK(al_model_forward(m, x, 1, 0, &y));
	CHECK_NEAR(y[0], 3.5, 1e-7);
	CHECK_NEAR(y[1], 0.0, 1e-7);
	al_model_free(m);
}

/* ---- batchnorm ------------------------------------------------------------------ */

TEST(layers_batchnorm_grad_train)
{
	gradcheck("conv + batchnorm (train)",
		  "[conv]\nfilters = 3\nsize = 3\npad = 1\n[batchnorm]\n[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 2, .h = 4, .w = 3, .classes = 2, .n = 3, .train = 1, .eps = 3e-3});
	/* 4 samples: strongly curved batch statistics, so a smaller step */
	gradcheck("dense + batchnorm (train)",
		  "[dense]\nout = 5\n[batchnorm]\nmomentum = 0.3\n[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 3, .h = 2, .w = 1, .classes = 3, .n = 4, .train = 1, .eps = 3e-3});
	gradcheck("batchnorm affine = 0 (train)",
		  "[batchnorm]\naffine = 0\n[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 2, .h = 2, .w = 2, .classes = 2, .n = 3, .train = 1});
}

TEST(layers_batchnorm_grad_eval)
{
	/* running mean and var (C = 3) made non-trivial */
	const float st[6] = {0.3f, -0.2f, 0.1f, 0.5f, 2.0f, 1.3f};
	gradcheck("conv + batchnorm (eval)",
		  "[conv]\nfilters = 3\nsize = 3\npad = 1\n[batchnorm]\n[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 2, .h = 4, .w = 3, .classes = 2, .n = 2, .state = st});
}

TEST(layers_batchnorm_running_stats)
{
	/* input (3, 1, 1), n = 5: the logits are the normalised input */
	const int C = 3, n = 5;
	al_model *m = build("bn stats", "[batchnorm]\nmomentum = 0.25\n", C, 1, 1, C);
	REQUIRE(m, "model");
	REQUIRE(al_model_nstate(m) == 6 && al_model_nparams(m) == 6, "state %zu params %zu",
		al_model_nstate(m), al_model_nparams(m));
	float x[15], x2[15];
	fill_normal(x, 15, 21);
	fill_normal(x2, 15, 22);
	for (int j = 0; j < 15; j++)
		x2[j] = 3.0f * x2[j] + 1.0f;
	const float *st = al_model_state(m);
	CHECK(st[0] == 0 && st[3] == 1, "initial running mean %g var %g", (double)st[0],
	      (double)st[3]);
	double rm[3] = {0, 0, 0}, rv[3] = {1, 1, 1};
	const float *y;
	for (int step = 0; step < 2; step++) {
		const float *xs = step ? x2 : x;
		REQUIRE_OK(al_model_forward(m, xs, n, 1, &y));
		for (int c = 0; c < C; c++) {
			double s = 0, ss = 0;
			for (int i = 0; i < n; i++)
				s += (double)xs[i * C + c];
			double mean = s / n;
			for (int i = 0; i < n; i++)
				ss += ((double)xs[i * C + c] - mean) * ((double)xs[i * C + c] - mean);
			double var = ss / n;
			rm[c] = 0.75 * rm[c] + 0.25 * mean;
			rv[c] = 0.75 * rv[c] + 0.25 * ss / (n - 1);
			CHECK_NEAR(st[c], rm[c], 1e-6);
			CHECK_NEAR(st[C + c], rv[c], 1e-5);
			for (int i = 0; i < n; i++)
				CHECK_NEAR(y[i * C + c], ((double)xs[i * C + c] - mean) / sqrt(var + 1e-5),
					   1e-5);
		}
	}
	/* evaluation uses the running statistics and leaves them alone */
	REQUIRE_OK(al_model_forward(m, x, n, 0, &y));
	for (int c = 0; c < C; c++) {
		for (int i = 0; i < n; i++)
			CHECK_NEAR(y[i * C + c], ((double)x[i * C + c] - rm[c]) / sqrt(rv[c] + 1e-5),
				   1e-5);
		CHECK_NEAR(st[c], rm[c], 1e-6);
	}
	al_model_free(m);
}

/* ---- dropout ------------------------------------------------------------------ */

/* Input (k, 1, 1) -> dropout -> logits; returns logits and the input
 * gradient for dlogits = 1. */
static int dropout_run(double p, int k, int n, int train, const float *x, float *y, float *gx,
		       uint64_t step_seed)
{
	char cfg[64];
	snprintf(cfg, sizeof cfg, "[dropout]\np = %g\n", p);
	al_model *m = build("dropout", cfg, k, 1, 1, k);
	if (!m)
		return 0;
	al_rng r;
	al_rng_seed(&r, step_seed);
	al_model_set_rng(m, &r);
	al_model_want_input_grad(m, 1);
	size_t cnt = (size_t)n * (size_t)k;
	float *ones = malloc(cnt * sizeof(float));
	for (size_t j = 0; j < cnt; j++)
		ones[j] = 1.0f;
	const float *lg = NULL;
	int ok = al_model_forward(m, x, n, train, &lg) == AL_OK &&
		 al_model_backward(m, ones) == AL_OK;
	if (ok) {
		memcpy(y, lg, cnt * sizeof(float));
		memcpy(gx, al_model_input_grad(m), cnt * sizeof(float));
	}
	free(ones);
	al_model_free(m);
	return ok;
}

TEST(layers_dropout)
{
	const int k = 5000, n = 8; /* large enough to run in parallel */
	const size_t cnt = (size_t)k * n;
	float *x = malloc(cnt * sizeof(float)), *y = malloc(cnt * sizeof(float));
	float *gx = malloc(cnt * sizeof(float)), *y2 = malloc(cnt * sizeof(float));
	float *g2 = malloc(cnt * sizeof(float));
	for (size_t j = 0; j < cnt; j++)
		x[j] = 1.0f + 0.001f * (float)(j % 997);
	/* evaluation: identity, gradient passes through */
	REQUIRE(dropout_run(0.5, k, n, 0, x, y, gx, 1), "eval run");
	CHECK(memcmp(x, y, cnt * sizeof(float)) == 0, "eval dropout is not the identity");
	int pass = 1;
	for (size_t j = 0; j < cnt; j++)
		pass &= gx[j] == 1.0f;
	CHECK(pass, "eval dropout gradient is not dy");
	/* training: drop fraction ~p, kept values scaled by 1/(1-p), gradient = mask */
	const double p = 0.3;
	const float scale = (float)(1.0 / (1.0 - p));
	REQUIRE(dropout_run(p, k, n, 1, x, y, gx, 1), "train run");
	size_t zeros = 0, badv = 0, badg = 0;
	for (size_t j = 0; j < cnt; j++) {
		if (y[j] == 0.0f) {
			zeros++;
			badg += gx[j] != 0.0f;
		} else {
			badv += y[j] != x[j] * scale;
			badg += gx[j] != scale;
		}
	}
	CHECK(fabs((double)zeros / (double)cnt - p) < 0.03, "dropped fraction %g, p = %g",
	      (double)zeros / (double)cnt, p);
	CHECK(badv == 0, "%zu kept values not scaled by 1/(1-p)", badv);
	CHECK(badg == 0, "%zu gradients do not match the mask", badg);
	/* samples get different masks */
	size_t same = 0;
	for (int j = 0; j < k; j++)
		same += (y[j] == 0.0f) == (y[k + j] == 0.0f);
	CHECK(same < (size_t)k * 9 / 10, "samples 0 and 1 share %zu of %d mask entries", same, k);
	/* the same step RNG gives the same mask for 1 and 2 threads */
	al_set_threads(1);
	REQUIRE(dropout_run(p, k, n, 1, x, y2, g2, 1), "1-thread run");
	al_set_threads(2);
	CHECK(memcmp(y, y2, cnt * sizeof(float)) == 0, "mask differs between 1 and 2 threads");
	CHECK(memcmp(gx, g2, cnt * sizeof(float)) == 0, "gradient differs between 1 and 2 threads");
	/* a different step RNG gives a different mask */
	REQUIRE(dropout_run(p, k, n, 1, x, y2, g2, 2), "other step");
	CHECK(memcmp(y, y2, cnt * sizeof(float)) != 0, "mask ignores the step RNG");
	/* p = 0 is the identity even in training */
	REQUIRE(dropout_run(0.0, k, n, 1, x, y2, g2, 1), "p = 0");
	CHECK(memcmp(x, y2, cnt * sizeof(float)) == 0, "p = 0 changes the input");
	free(x);
	free(y);
	free(gx);
	free(y2);
	free(g2);
}

TEST(layers_dropout_grad)
{
	gradcheck("conv + dropout (train)",
		  "[conv]\nfilters = 3\nsize = 3\npad = 1\n[dropout]\np = 0.4\n[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 2, .h = 4, .w = 3, .classes = 2, .n = 2, .train = 1});
}

/* ---- shortcut and concat ------------------------------------------------------- */

TEST(layers_shortcut_grad)
{
	/* c1 feeds both c2 and the shortcut: the model must sum its gradients */
	gradcheck("residual block",
		  "[conv]\nname = c1\nfilters = 2\nsize = 3\npad = 1\n"
		  "[conv]\nfilters = 2\nsize = 3\npad = 1\n"
		  "[shortcut]\nfrom = -2\n"
		  "[conv]\nfilters = 2\nsize = 3\nstride = 2\n[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 2, .h = 5, .w = 5, .classes = 2, .n = 2});
	gradcheck("shortcut by name, three-way fan-out",
		  "[conv]\nname = a\nfilters = 2\nsize = 1\n"
		  "[conv]\nfilters = 2\nsize = 3\npad = same\n"
		  "[shortcut]\nfrom = a\n"
		  "[shortcut]\nfrom = a\n[gap]\n",
		  (gc_opts){.c = 3, .h = 4, .w = 4, .classes = 2, .n = 2});
}

TEST(layers_concat_grad)
{
	gradcheck("concat of two branches",
		  "[conv]\nname = a\nfilters = 2\nsize = 3\npad = 1\n"
		  "[conv]\nfilters = 3\nsize = 1\n"
		  "[concat]\nlayers = -1,-2\n"
		  "[conv]\nfilters = 2\nsize = 3\nstride = 2\n[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 2, .h = 4, .w = 5, .classes = 2, .n = 2});
	/* forward order: channels of the first listed input come first; one
	 * layer may be listed twice */
	al_model *m = build("concat order",
			    "[maxpool]\nname = mx\nsize = 2\n"
			    "[avgpool]\ninputs = input\nsize = 2\n"
			    "[concat]\nlayers = -1,mx,-1\n[flatten]\n",
			    1, 2, 2, 3);
	REQUIRE(m, "model");
	const float x[4] = {1, 2, 3, 4};
	const float *y;
	REQUIRE_OK(al_model_forward(m, x, 1, 0, &y));
	CHECK(y[0] == 2.5f && y[1] == 4 && y[2] == 2.5f, "concat gives %g %g %g", (double)y[0],
	      (double)y[1], (double)y[2]);
	al_model_free(m);
}

/* ---- errors ------------------------------------------------------------------- */

/* Building cfg must fail with a message containing each of want[] (NULL
 * terminated). */
static void expect_error(int line, const char *cfg, int c, int h, int w, int k,
			 const char *const *want)
{
	char e[1024];
	snprintf(e, sizeof e, "%s", build_error(cfg, c, h, w, k));
	if (!e[0]) {
		test_fail(__FILE__, line, "no error for:\n%s", cfg);
		return;
	}
	for (; *want; want++)
		if (!strstr(e, *want))
			test_fail(__FILE__, line, "message '%s' lacks '%s'", e, *want);
}

#define CHECK_ERR(cfg, c, h, w, k, ...) \
	expect_error(__LINE__, cfg, c, h, w, k, (const char *const[]){__VA_ARGS__, NULL})

TEST(layers_errors)
{
	CHECK_ERR("[conv]\nfilters = 4\nsize = 3\ngroups = 2\n[gap]\n", 3, 8, 8, 4,
		  "err.cfg:1", "conv1", "input has 3 channels, groups = 2 does not divide it");
	CHECK_ERR("[conv]\nfilters = 3\nsize = 3\ngroups = 2\n[gap]\n", 4, 8, 8, 3,
		  "filters = 3 is not divisible by groups = 2");
	CHECK_ERR("[conv]\nfilters = 2\nsize = 5\n[gap]\n", 1, 4, 4, 2,
		  "kernel 5x5 larger than padded input 4x4");
	CHECK_ERR("[conv]\nfilters = 2\nsize = 3\ndilation = 3\n[gap]\n", 1, 6, 6, 2,
		  "dilation 3", "7x7", "6x6");
	CHECK_ERR("[conv]\nfilters = 2\nsize = 3\nstride = 2\npad = same\n[gap]\n", 1, 8, 8, 2,
		  "pad = same needs stride 1");
	CHECK_ERR("[conv]\nfilters = 2\nsize = 3\npad = wide\n[gap]\n", 1, 8, 8, 2, "pad = 'wide'",
		  "same");
	CHECK_ERR("[conv]\nsize = 3\n[gap]\n", 1, 8, 8, 2, "filters");
	CHECK_ERR("[conv]\nfilters = 2\n[gap]\n", 1, 8, 8, 2, "size");
	CHECK_ERR("[conv]\nfilters = 2\nsize = 3\nsise = 3\n[gap]\n", 1, 8, 8, 2,
		  "unknown key 'sise'");
	CHECK_ERR("[conv]\nfilters = 2\nsize = 3\nstride = 0\n[gap]\n", 1, 8, 8, 2, "stride = 0");
	CHECK_ERR("[maxpool]\nsize = 5\n[gap]\n", 2, 4, 4, 2, "window 5 larger than padded input 4x4");
	CHECK_ERR("[maxpool]\nsize = 2\npad = 2\n[gap]\n", 2, 4, 4, 2, "pad = 2", "half");
	CHECK_ERR("[avgpool]\nsize = 2\ncount_include_pad = 2\n[gap]\n", 2, 4, 4, 2,
		  "count_include_pad = 2");
	CHECK_ERR("[conv]\nfilters = 4\nsize = 1\n[conv]\nfilters = 2\nsize = 1\n"
		  "[shortcut]\nfrom = -2\n[gap]\n",
		  1, 5, 5, 2, "shortcut", "2x5x5", "4x5x5", "identical shapes");
	CHECK_ERR("[conv]\nfilters = 2\nsize = 1\n[shortcut]\n[gap]\n", 1, 5, 5, 2, "from = -K");
	CHECK_ERR("[conv]\nfilters = 2\nsize = 1\n[maxpool]\nsize = 2\n[concat]\nlayers = -1,-2\n"
		  "[gap]\n",
		  1, 4, 4, 4, "concat", "2x2x2", "2x4x4", "height and width");
	CHECK_ERR("[dropout]\np = 1.5\n[gap]\n", 2, 4, 4, 2, "p = 1.5");
	CHECK_ERR("[batchnorm]\nmomentum = 2\n[gap]\n", 2, 4, 4, 2, "momentum = 2");
	CHECK_ERR("[batchnorm]\neps = 0\n[gap]\n", 2, 4, 4, 2, "eps = 0");
}

/* ---- determinism --------------------------------------------------------------- */

/* LeNet-like net without activations; returns logits, grads, input grad
 * and state concatenated. */
static float *det_run(int threads, int n, size_t *len)
{
	static const char *cfg = "[conv]\nfilters = 6\nsize = 5\npad = 2\n"
				 "[maxpool]\nsize = 2\n"
				 "[batchnorm]\n"
				 "[conv]\nfilters = 16\nsize = 5\n"
				 "[dropout]\np = 0.2\n"
				 "[avgpool]\nsize = 2\n"
				 "[conv]\nfilters = 8\nsize = 1\ngroups = 2\n"
				 "[dense]\nout = $CLASSES\n";
	al_set_threads(threads);
	al_model *m = build("determinism", cfg, 1, 28, 28, 10);
	if (!m)
		return NULL;
	al_model_want_input_grad(m, 1);
	size_t nin = (size_t)n * 784, nout = (size_t)n * 10, np = al_model_nparams(m);
	size_t ns = al_model_nstate(m);
	*len = nout + np + nin + ns;
	float *out = malloc(*len * sizeof(float)), *x = malloc(nin * sizeof(float));
	float *r = malloc(nout * sizeof(float));
	fill_normal(x, nin, 31);
	fill_normal(r, nout, 32);
	const float *lg;
	al_model_zero_grad(m);
	if (al_model_forward(m, x, n, 1, &lg) != AL_OK || al_model_backward(m, r) != AL_OK) {
		test_fail(__FILE__, __LINE__, "run: %s", al_errmsg());
		free(out);
		out = NULL;
	} else {
		memcpy(out, lg, nout * sizeof(float));
		memcpy(out + nout, al_model_grads(m), np * sizeof(float));
		memcpy(out + nout + np, al_model_input_grad(m), nin * sizeof(float));
		memcpy(out + nout + np + nin, al_model_state(m), ns * sizeof(float));
	}
	free(x);
	free(r);
	al_model_free(m);
	return out;
}

TEST(layers_threads_bit_identical)
{
	for (int n = 5; n <= 37; n += 32) { /* 37: every layer runs in parallel */
		size_t l1 = 0, l2 = 0, l3 = 0;
		float *a = det_run(1, n, &l1), *b = det_run(2, n, &l2), *c = det_run(3, n, &l3);
		al_set_threads(2);
		REQUIRE(a && b && c && l1 == l2 && l1 == l3, "runs failed");
		CHECK(memcmp(a, b, l1 * sizeof(float)) == 0, "n = %d: 1 and 2 threads differ", n);
		CHECK(memcmp(a, c, l1 * sizeof(float)) == 0, "n = %d: 1 and 3 threads differ", n);
		free(a);
		free(b);
		free(c);
	}
}

/* ---- adaptive pooling ------------------------------------------------------------ */

TEST(layers_adaptive_pool_grad)
{
	/* 7 -> 3 rows and 6 -> 4 columns: overlapping windows of sizes 3 and 2 */
	gradcheck("adaptive_avgpool 7x6 -> 3x4",
		  "[adaptive_avgpool]\nout_h = 3\nout_w = 4\n[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 2, .h = 7, .w = 6, .classes = 2, .n = 2});
	gradcheck("adaptive_maxpool 7x6 -> 3x4",
		  "[adaptive_maxpool]\nout_h = 3\nout_w = 4\n[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 2, .h = 7, .w = 6, .classes = 2, .n = 2, .distinct = 1});
	/* upsampling: output larger than the input repeats cells (VGG's 7x7 head on 1x1) */
	gradcheck("adaptive_avgpool 2x3 -> 5x5",
		  "[adaptive_avgpool]\nout = 5\n[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 2, .h = 2, .w = 3, .classes = 2, .n = 2});
	gradcheck("adaptive_maxpool to 1 (global max)",
		  "[adaptive_maxpool]\nout = 1\n[flatten]\n",
		  (gc_opts){.c = 3, .h = 5, .w = 4, .classes = 3, .n = 2, .distinct = 1});
}

TEST(layers_adaptive_pool_windows)
{
	/* 1x4x4 -> 3x3: rows [0,2), [1,3), [2,4) (PyTorch's floor/ceil rule) */
	float x[16], y[9] = {0}, gx[16] = {0};
	for (int i = 0; i < 16; i++)
		x[i] = (float)i;
	pool_probe("[adaptive_avgpool]\nout = 3\n[flatten]\n", x, 9, y, gx);
	CHECK_NEAR(y[0], (0 + 1 + 4 + 5) / 4.0, 1e-6);
	CHECK_NEAR(y[4], (5 + 6 + 9 + 10) / 4.0, 1e-6);
	CHECK_NEAR(y[8], (10 + 11 + 14 + 15) / 4.0, 1e-6);
	/* cell (1,1) lies in 2x2 windows, a corner in one */
	CHECK_NEAR(gx[5], 4 * 0.25, 1e-6);
	CHECK_NEAR(gx[0], 0.25, 1e-6);
	pool_probe("[adaptive_maxpool]\nout = 3\n[flatten]\n", x, 9, y, gx);
	CHECK(y[0] == 5 && y[4] == 10 && y[8] == 15, "adaptive max %g %g %g", (double)y[0],
	      (double)y[4], (double)y[8]);
	/* window maxima: 5, 6, 7 / 9, 10, 11 / 13, 14, 15, each its own cell */
	CHECK(gx[5] == 1 && gx[10] == 1 && gx[15] == 1 && gx[0] == 0 && gx[4] == 0,
	      "adaptive max argmax pattern wrong");
	/* ties: the first element in row-major order, as in PyTorch */
	float flat[16];
	for (int i = 0; i < 16; i++)
		flat[i] = 1.0f;
	pool_probe("[adaptive_maxpool]\nout = 1\n[flatten]\n", flat, 1, y, gx);
	CHECK(gx[0] == 1 && gx[1] == 0, "adaptive max ties: first element must win");
	CHECK(strstr(build_error("[adaptive_avgpool]\n[flatten]\n", 1, 4, 4, 16), "out = N"),
	      "missing out accepted");
}

/* ---- conv pad = same with even kernels, lrn, scale ------------------------------- */

TEST(layers_conv_same_even_kernel)
{
	/* PyTorch's padding='same': total k-1 = 3, one row/column more at the end */
	gradcheck("conv 4x4 pad same",
		  "[conv]\nfilters = 2\nsize = 4\npad = same\n[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 2, .h = 5, .w = 6, .classes = 2, .n = 2});
	al_model *m = build("same even", "[conv]\nfilters = 1\nsize = 2\npad = same\nbias = 0\n"
			    "[flatten]\n", 1, 3, 3, 9);
	REQUIRE(m, "model");
	float *w = al_model_params(m);
	w[0] = 1, w[1] = 0, w[2] = 0, w[3] = 0; /* picks the window's top-left: y = x */
	const float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
	const float *y;
	REQUIRE_OK(al_model_forward(m, x, 1, 0, &y));
	CHECK(memcmp(y, x, sizeof x) == 0, "2x2 same conv must start at the top-left pixel");
	w[0] = 0, w[3] = 1; /* bottom-right: shifted, zero past the end */
	REQUIRE_OK(al_model_forward(m, x, 1, 0, &y));
	CHECK(y[0] == 5 && y[2] == 0 && y[4] == 9 && y[8] == 0, "2x2 same conv: %g %g %g %g",
	      (double)y[0], (double)y[2], (double)y[4], (double)y[8]);
	al_model_free(m);
}

TEST(layers_conv_pad_before_after)
{
	/* pad = B,A: TensorFlow's 'SAME' for strided convs (AlexNet's conv1) */
	gradcheck("conv pad 1,2 stride 2",
		  "[conv]\nfilters = 2\nsize = 3\nstride = 2\npad = 1,2\n[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 2, .h = 6, .w = 5, .classes = 2, .n = 2});
	gradcheck("conv pad 0,2 stride 1",
		  "[conv]\nfilters = 2\nsize = 3\npad = 0,2\n[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 1, .h = 4, .w = 5, .classes = 2, .n = 2});
	CHECK(strstr(build_error("[conv]\nfilters = 2\nsize = 3\npad = 1,\n[gap]\n", 1, 8, 8, 2),
		     "B,A"),
	      "pad = '1,' accepted");
}

TEST(layers_pool_pad_before_after)
{
	/* TensorFlow 'SAME' 3x3/2 pooling of an even map: nothing before, 1 after */
	gradcheck("maxpool 3 s2 pad 0,1",
		  "[maxpool]\nsize = 3\nstride = 2\npad = 0,1\n[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 2, .h = 6, .w = 4, .classes = 2, .n = 2, .distinct = 1});
	gradcheck("maxpool 2 s2 pad 0,1 (odd map)",
		  "[maxpool]\nsize = 2\nstride = 2\npad = 0,1\n[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 1, .h = 5, .w = 5, .classes = 2, .n = 2, .distinct = 1});
	gradcheck("avgpool 3 s2 pad 1,0",
		  "[avgpool]\nsize = 3\nstride = 2\npad = 1,0\n[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 2, .h = 5, .w = 6, .classes = 2, .n = 2});
	CHECK(strstr(build_error("[maxpool]\nsize = 2\npad = 0,2\n[flatten]\n", 1, 4, 4, 4),
		     "more than half"),
	      "pool pad after larger than half the window accepted");
}

TEST(layers_lrn_grad)
{
	gradcheck("lrn size 3",
		  "[lrn]\nsize = 3\nalpha = 0.5\nbeta = 0.75\nk = 1\n[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 5, .h = 3, .w = 2, .classes = 2, .n = 2});
	/* even window (asymmetric: two channels before, one after), k = 2 */
	gradcheck("lrn size 4 k 2",
		  "[lrn]\nsize = 4\nalpha = 1.0\nbeta = 0.6\nk = 2\n[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 6, .h = 2, .w = 2, .classes = 2, .n = 2});
	/* window wider than the channels */
	gradcheck("lrn size 11 on 3 channels",
		  "[conv]\nfilters = 3\nsize = 1\n[lrn]\nsize = 11\nalpha = 0.3\n[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 2, .h = 2, .w = 3, .classes = 2, .n = 2});
	CHECK(strstr(build_error("[lrn]\n[flatten]\n", 2, 2, 2, 8), "size = N"), "lrn without size");
	CHECK(strstr(build_error("[lrn]\nsize = 3\nk = 0\n[flatten]\n", 2, 2, 2, 8), "k > 0"),
	      "lrn with k = 0");
}

TEST(layers_scale_squeeze_excitation)
{
	/* squeeze-excitation: x * sigmoid(conv1x1(silu(conv1x1(gap(x))))) */
	const char *se = "[conv]\nname = map\nfilters = 4\nsize = 3\npad = 1\n"
			 "[gap]\n[conv]\nfilters = 2\nsize = 1\nact = silu\n"
			 "[conv]\nfilters = 4\nsize = 1\nact = sigmoid\n"
			 "[scale]\ninputs = map, -1\n[dense]\nout = $CLASSES\n";
	gradcheck("squeeze-excitation", se,
		  (gc_opts){.c = 3, .h = 4, .w = 3, .classes = 2, .n = 2});
	CHECK(strstr(build_error("[gap]\n[scale]\ninputs = -1, input\n[flatten]\n", 2, 2, 2, 8),
		     "expected 2x1x1"),
	      "scale with a map as gate accepted");
	CHECK(strstr(build_error("[scale]\n[flatten]\n", 2, 2, 2, 8), "two inputs"),
	      "scale with one input accepted");
}

TEST(layers_chanpad)
{
	/* option-A shortcut: subsample by 2, two zero channels each side */
	gradcheck("chanpad stride 2",
		  "[chanpad]\nbefore = 2\nafter = 1\nstride = 2\n[dense]\nout = $CLASSES\n",
		  (gc_opts){.c = 2, .h = 5, .w = 4, .classes = 2, .n = 2});
	al_model *m = build("chanpad", "[chanpad]\nbefore = 1\nafter = 1\nstride = 2\n[flatten]\n", 1,
			    3, 3, 12);
	REQUIRE(m, "model");
	const float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
	const float want[12] = {0, 0, 0, 0, 1, 3, 7, 9, 0, 0, 0, 0};
	const float *y;
	REQUIRE_OK(al_model_forward(m, x, 1, 0, &y));
	CHECK(memcmp(y, want, sizeof want) == 0, "chanpad values");
	al_model_free(m);
}
