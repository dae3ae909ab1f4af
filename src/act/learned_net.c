/* learned_net.c — the learned activations that are small networks: vaf
 * (one hidden layer of k units around a fixed catalog entry g, SPEC 2.1)
 * and meta (a meta-neuron: an MLP of L hidden layers of width H with g on
 * every node, residual links between hidden layers, SPEC 2.2).
 *
 * How. The block kernels evaluate the sub-network layer by layer over a
 * block of up to AL_LN_NB elements held in stack arrays ([unit][element]),
 * and apply g through the catalog entry's own stamped kernels once per
 * (block, layer) row; g'(u) comes from g's backward with an upstream
 * gradient of one. The backward recomputes the forward (an activation
 * layer keeps only x and y).
 *
 * Not for: piecewise and rational entries (learned.c), the driver
 * (learned_driver.h).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "act/learned.h"

#define AL_INLINE static inline __attribute__((always_inline))
#define NB AL_LN_NB

static double urand(al_rng *r, double lo, double hi)
{
	return lo + (hi - lo) * (double)al_rng_uniform(r);
}

/* The fixed inner activation: a parameter-free catalog entry, defaults. */
typedef struct {
	const al_act_desc *d;
	double hb[AL_ACT_MAXH];
	al_act_args a;
	int relu; /* g is relu: inlined by g_apply */
} inner_g;

static void inner_init(inner_g *g, double idx)
{
	g->d = al_act_get((int)idx);
	for (int i = 0; i < g->d->nhyper; i++)
		g->hb[i] = g->d->hyper[i].def;
	memset(&g->a, 0, sizeof g->a);
	g->a.h = g->hb;
	g->relu = !strcmp(g->d->name, "relu");
}

static const float ones[NB] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};
_Static_assert(NB == 64, "ones[] holds AL_LN_NB values");

/* f = g(u); fp = g'(u) when fp != NULL. relu (the default g) is inlined:
 * no call per row, and no second pass for g'. */
AL_INLINE void g_apply(const inner_g *g, size_t m, const float *restrict u, float *restrict f,
		       float *restrict fp)
{
	if (g->relu) {
		if (fp) {
#pragma omp simd
			for (size_t i = 0; i < m; i++) {
				const float v = u[i];
				f[i] = v < 0.0f ? 0.0f : v;
				fp[i] = v > 0.0f ? 1.0f : 0.0f;
			}
		} else {
#pragma omp simd
			for (size_t i = 0; i < m; i++) {
				const float v = u[i];
				f[i] = v < 0.0f ? 0.0f : v;
			}
		}
		return;
	}
	g->d->fwd(&g->a, m, u, f);
	if (fp)
		g->d->bwd(&g->a, m, u, f, ones, fp, NULL);
}

static double g_ref(const inner_g *g, double u, double *dg)
{
	return g->d->ref(g->hb, NULL, u, dg, NULL);
}

/* ======================================================================
 * vaf: sum_j beta_j g(alpha_j x + gamma_j) + delta
 * params alpha_1..k, beta_1..k, gamma_1..k, delta; hypers k, g, init
 * ====================================================================== */
enum { VAF_K, VAF_G, VAF_INIT };

typedef struct {
	int P, k;
	inner_g g;
} vaf_t;

static void vaf_cfg(const double *h, vaf_t *c)
{
	c->k = (int)h[VAF_K];
	c->P = 3 * c->k + 1;
	inner_init(&c->g, h[VAF_G]);
}

AL_INLINE void vaf_fwd_blk(const vaf_t *c, const float *restrict p, size_t ps, size_t ls,
			   size_t m, const float *restrict x, float *restrict y)
{
	float u[NB], f[NB];
	const int k = c->k;
	const float *pd = p + (size_t)(3 * k) * ps;
#pragma omp simd
	for (size_t i = 0; i < m; i++)
		y[i] = pd[i * ls];
	for (int j = 0; j < k; j++) {
		const float *pa = p + (size_t)j * ps, *pb = p + (size_t)(k + j) * ps,
			    *pc = p + (size_t)(2 * k + j) * ps;
#pragma omp simd
		for (size_t i = 0; i < m; i++)
			u[i] = pa[i * ls] * x[i] + pc[i * ls];
		g_apply(&c->g, m, u, f, NULL);
#pragma omp simd
		for (size_t i = 0; i < m; i++)
			y[i] += pb[i * ls] * f[i];
	}
}

AL_INLINE void vaf_bwd_blk(const vaf_t *c, const float *restrict p, size_t ps, size_t ls,
			   size_t m, const float *restrict x, const float *restrict y,
			   const float *restrict dy, float *restrict dx, float *restrict gp)
{
	float u[NB], f[NB], fp[NB];
	const int k = c->k;
	float *gd = gp + (size_t)(3 * k) * NB;
#pragma omp simd
	for (size_t i = 0; i < m; i++) {
		dx[i] = 0;
		gd[i] = dy[i];
	}
	for (int j = 0; j < k; j++) {
		const float *pa = p + (size_t)j * ps, *pb = p + (size_t)(k + j) * ps,
			    *pc = p + (size_t)(2 * k + j) * ps;
		float *ga = gp + (size_t)j * NB, *gb = gp + (size_t)(k + j) * NB,
		      *gc = gp + (size_t)(2 * k + j) * NB;
#pragma omp simd
		for (size_t i = 0; i < m; i++)
			u[i] = pa[i * ls] * x[i] + pc[i * ls];
		g_apply(&c->g, m, u, f, fp);
#pragma omp simd
		for (size_t i = 0; i < m; i++) {
			float t = dy[i] * pb[i * ls] * fp[i];
			dx[i] += t * pa[i * ls];
			ga[i] = t * x[i];
			gb[i] = dy[i] * f[i];
			gc[i] = t;
		}
	}
}

#define LN_NAME vaf
#define LN_CFG vaf_t
#include "act/learned_driver.h"

int al_ln_vaf_nparams(const double *h) { return 3 * (int)h[VAF_K] + 1; }

void al_ln_vaf_name(const double *h, int k, char *buf, size_t cap)
{
	int K = (int)h[VAF_K];
	static const char *nm[] = {"alpha", "beta", "gamma"};
	if (k < 3 * K)
		snprintf(buf, cap, "%s%d", nm[k / K], k % K + 1);
	else
		snprintf(buf, cap, "delta");
}

void al_ln_vaf_init(const double *h, float *p, size_t groups, al_rng *r)
{
	int K = (int)h[VAF_K], P = 3 * K + 1;
	double lim = sqrt(6.0 / (1 + K)); /* Glorot-uniform, fan_in 1, fan_out k */
	for (size_t g = 0; g < groups; g++) {
		float *q = p + g * (size_t)P;
		for (int j = 0; j < K; j++) {
			q[j] = (float)urand(r, -lim, lim);
			q[K + j] = (float)urand(r, -lim, lim);
			q[2 * K + j] = 0;
		}
		q[3 * K] = 0;
		if (h[VAF_INIT] != 0) { /* init=relu: exactly g(x) */
			q[0] = 1;
			for (int j = 0; j < K; j++)
				q[K + j] = j == 0 ? 1.0f : 0.0f;
		}
	}
}

al_status al_ln_vaf_check(const double *h, al_per per, int per_given)
{
	if (!(h[VAF_K] == floor(h[VAF_K]) && h[VAF_K] >= 1 && 3 * h[VAF_K] + 1 <= AL_LN_MAXP))
		return al_err(AL_EINVAL, "k=%g: the unit count must be an integer in [1, %d]",
			      h[VAF_K], (AL_LN_MAXP - 1) / 3);
	return AL_OK;
}

double al_ln_vaf_ref(const double *h, const double *p, double x, double *dfdx, double *dfdp)
{
	inner_g g;
	inner_init(&g, h[VAF_G]);
	int K = (int)h[VAF_K];
	double y = p[3 * K], d = 0;
	for (int j = 0; j < K; j++) {
		double dg, u = p[j] * x + p[2 * K + j];
		double f = g_ref(&g, u, &dg);
		y += p[K + j] * f;
		d += p[K + j] * p[j] * dg;
		dfdp[j] = p[K + j] * dg * x;
		dfdp[K + j] = f;
		dfdp[2 * K + j] = p[K + j] * dg;
	}
	dfdp[3 * K] = 1;
	*dfdx = d;
	return y;
}

int al_ln_vaf_kinks(const double *h, const double *p, double *out, int cap)
{
	inner_g g;
	inner_init(&g, h[VAF_G]);
	if (!g.d->kinks)
		return 0;
	double gk[8];
	int ng = g.d->kinks(g.hb, NULL, gk), n = 0, K = (int)h[VAF_K];
	for (int j = 0; j < K; j++)
		for (int q = 0; q < ng && n < cap; q++)
			if (p[j] != 0)
				out[n++] = (gk[q] - p[2 * K + j]) / p[j];
	return n;
}

/* ======================================================================
 * meta: h0 = g(x) (io) or x; h1 = g(W1 h0 + b1);
 *       hl = g(Wl h(l-1) + bl + h(l-1))  (residual=pre)
 *          | h(l-1) + g(Wl h(l-1) + bl) (residual=post), l = 2..L;
 *       y = g(v.hL + c) (io) or v.hL + c
 * params: W1[H], b1[H], then per l >= 2: Wl[H][H] (row = output unit),
 *         bl[H]; then v[H], c.  hypers: H, L, g, residual, io
 * ====================================================================== */
enum { META_H, META_L, META_G, META_RES, META_IO };
#define META_ROWS 32 /* L*H cap: stack rows of the backward */

typedef struct {
	int P, H, L, post, io;
	inner_g g;
} meta_t;

static int meta_np(int H, int L) { return 2 * H + (L - 1) * (H * H + H) + H + 1; }
static int meta_off(int H, int l) { return l == 1 ? 0 : 2 * H + (l - 2) * (H * H + H); }

static void meta_cfg(const double *h, meta_t *c)
{
	c->H = (int)h[META_H];
	c->L = (int)h[META_L];
	c->post = h[META_RES] != 0;
	c->io = h[META_IO] != 0;
	c->P = meta_np(c->H, c->L);
	inner_init(&c->g, h[META_G]);
}

/* Forward through the sub-network; keeps every pre-activation s (rows
 * (l-1)*H + j) and hidden output hs (rows l*H + j, row 0 = h0) when the
 * arrays are given room, else reuses two rows. out: the output node's
 * pre-activation so. */
AL_INLINE void meta_run(const meta_t *c, const float *restrict p, size_t ps, size_t ls, size_t m,
			const float *restrict x, float *restrict h0, float *restrict S,
			float *restrict Hs, int keep, float *restrict so)
{
	const int H = c->H, L = c->L;
	float t[NB];
	if (c->io)
		g_apply(&c->g, m, x, h0, NULL);
	else
#pragma omp simd
		for (size_t i = 0; i < m; i++)
			h0[i] = x[i];
	for (int l = 1; l <= L; l++) {
		const float *W = p + (size_t)meta_off(H, l) * ps;
		const int nin = l == 1 ? 1 : H;
		const float *B = W + (size_t)(nin * H) * ps;
		float *Sl = S + (size_t)(keep ? (l - 1) * H : 0) * NB;
		const float *Hp = l == 1 ? h0 : Hs + (size_t)(keep ? (l - 1) * H : ((l - 1) % 2) * H) * NB;
		float *Hl = Hs + (size_t)(keep ? l * H : (l % 2) * H) * NB;
		for (int j = 0; j < H; j++) {
			float *s = Sl + (size_t)j * NB;
			const float *bj = B + (size_t)j * ps;
#pragma omp simd
			for (size_t i = 0; i < m; i++)
				s[i] = bj[i * ls];
			for (int q = 0; q < nin; q++) {
				const float *w = W + (size_t)(j * nin + q) * ps;
				const float *hq = Hp + (size_t)q * NB;
#pragma omp simd
				for (size_t i = 0; i < m; i++)
					s[i] += w[i * ls] * hq[i];
			}
			const float *hj = Hp + (size_t)j * NB;
			float *o = Hl + (size_t)j * NB;
			if (l >= 2 && !c->post) {
#pragma omp simd
				for (size_t i = 0; i < m; i++)
					s[i] += hj[i];
				g_apply(&c->g, m, s, o, NULL);
			} else if (l >= 2) {
				g_apply(&c->g, m, s, t, NULL);
#pragma omp simd
				for (size_t i = 0; i < m; i++)
					o[i] = hj[i] + t[i];
			} else {
				g_apply(&c->g, m, s, o, NULL);
			}
		}
	}
	const float *HL = Hs + (size_t)(keep ? L * H : (L % 2) * H) * NB;
	const float *v = p + (size_t)meta_off(H, L + 1) * ps, *pc = v + (size_t)H * ps;
#pragma omp simd
	for (size_t i = 0; i < m; i++)
		so[i] = pc[i * ls];
	for (int j = 0; j < H; j++) {
		const float *vj = v + (size_t)j * ps, *hj = HL + (size_t)j * NB;
#pragma omp simd
		for (size_t i = 0; i < m; i++)
			so[i] += vj[i * ls] * hj[i];
	}
}

/* The common case L = 1 with g = relu and H <= 8: row-wise loops over the
 * block without stored hidden rows or calls (params W1[H], b1[H], v[H],
 * c); H is a literal at each call (the switches below), so the unit loops
 * unroll. */
#define META_RELU(v) ((v) < 0.0f ? 0.0f : (v))
AL_INLINE void meta1_out(const meta_t *c, const int H, const float *restrict p, size_t ps,
			 size_t ls, size_t m, const float *restrict x, float *restrict h0,
			 float *restrict so)
{
	const float *W = p, *B = p + (size_t)H * ps, *V = p + (size_t)(2 * H) * ps,
		    *C = p + (size_t)(3 * H) * ps;
	if (c->io) {
#pragma omp simd
		for (size_t i = 0; i < m; i++)
			h0[i] = META_RELU(x[i]);
	} else {
#pragma omp simd
		for (size_t i = 0; i < m; i++)
			h0[i] = x[i];
	}
#pragma omp simd
	for (size_t i = 0; i < m; i++)
		so[i] = C[i * ls];
	for (int j = 0; j < H; j++) {
		const float *Wj = W + (size_t)j * ps, *Bj = B + (size_t)j * ps, *Vj = V + (size_t)j * ps;
#pragma omp simd
		for (size_t i = 0; i < m; i++) {
			const float s = Wj[i * ls] * h0[i] + Bj[i * ls];
			so[i] += Vj[i * ls] * META_RELU(s);
		}
	}
}

AL_INLINE void meta1_fwd(const meta_t *c, const int H, const float *restrict p, size_t ps,
			 size_t ls, size_t m, const float *restrict x, float *restrict y)
{
	float h0[NB], so[NB];
	meta1_out(c, H, p, ps, ls, m, x, h0, so);
	if (c->io) {
#pragma omp simd
		for (size_t i = 0; i < m; i++)
			y[i] = META_RELU(so[i]);
	} else {
#pragma omp simd
		for (size_t i = 0; i < m; i++)
			y[i] = so[i];
	}
}

AL_INLINE void meta1_bwd(const meta_t *c, const int H, const float *restrict p, size_t ps,
			 size_t ls, size_t m, const float *restrict x, const float *restrict dy,
			 float *restrict dx, float *restrict gp)
{
	const float *W = p, *B = p + (size_t)H * ps, *V = p + (size_t)(2 * H) * ps;
	float h0[NB], so[NB], dh0[NB], gd[NB]; /* gd: the output node's gradient */
	meta1_out(c, H, p, ps, ls, m, x, h0, so);
	if (c->io) {
#pragma omp simd
		for (size_t i = 0; i < m; i++)
			gd[i] = so[i] > 0.0f ? dy[i] : 0.0f;
	} else {
#pragma omp simd
		for (size_t i = 0; i < m; i++)
			gd[i] = dy[i];
	}
#pragma omp simd
	for (size_t i = 0; i < m; i++)
		dh0[i] = 0;
	for (int j = 0; j < H; j++) {
		const float *Wj = W + (size_t)j * ps, *Bj = B + (size_t)j * ps, *Vj = V + (size_t)j * ps;
		float *gw = gp + (size_t)j * NB, *gb = gp + (size_t)(H + j) * NB,
		      *gv = gp + (size_t)(2 * H + j) * NB;
#pragma omp simd
		for (size_t i = 0; i < m; i++) {
			/* loads unconditional: a load under a select does not vectorise */
			const float w = Wj[i * ls], b = Bj[i * ls], v = Vj[i * ls], g = gd[i];
			const float s = w * h0[i] + b, gvv = g * v;
			const float dp = s > 0.0f ? gvv : 0.0f;
			gv[i] = g * META_RELU(s);
			gb[i] = dp;
			gw[i] = dp * h0[i];
			dh0[i] += w * dp;
		}
	}
	memcpy(gp + (size_t)(3 * H) * NB, gd, m * sizeof *gd); /* dL/dc */
	if (c->io) {
#pragma omp simd
		for (size_t i = 0; i < m; i++)
			dx[i] = x[i] > 0.0f ? dh0[i] : 0.0f;
	} else {
#pragma omp simd
		for (size_t i = 0; i < m; i++)
			dx[i] = dh0[i];
	}
}

AL_INLINE void meta_fwd_blk(const meta_t *c, const float *restrict p, size_t ps, size_t ls,
			    size_t m, const float *restrict x, float *restrict y)
{
	if (c->L == 1 && c->g.relu && c->H <= 8) {
		switch (c->H) {
#define META1_F(h)                                                                                 \
	case h:                                                                                    \
		meta1_fwd(c, h, p, ps, ls, m, x, y);                                               \
		return;
			META1_F(1) META1_F(2) META1_F(3) META1_F(4) META1_F(5) META1_F(6) META1_F(7)
			META1_F(8)
#undef META1_F
		}
	}
	float h0[NB], S[16 * NB], Hs[2 * 16 * NB], so[NB];
	/* two alternating rows of width H <= 16 */
	meta_run(c, p, ps, ls, m, x, h0, S, Hs, 0, so);
	if (c->io)
		g_apply(&c->g, m, so, y, NULL);
	else
		memcpy(y, so, m * sizeof *y);
}

AL_INLINE void meta_bwd_blk(const meta_t *c, const float *restrict p, size_t ps, size_t ls,
			    size_t m, const float *restrict x, const float *restrict y,
			    const float *restrict dy, float *restrict dx, float *restrict gp)
{
	float h0[NB], S[META_ROWS * NB], Hs[(META_ROWS + 16) * NB], so[NB], t[NB], gd[NB];
	float dl[16 * NB], dpre[16 * NB], dprev[16 * NB];
	const int H = c->H, L = c->L;
	if (L == 1 && c->g.relu && H <= 8) {
		switch (H) {
#define META1_B(h)                                                                                 \
	case h:                                                                                    \
		meta1_bwd(c, h, p, ps, ls, m, x, dy, dx, gp);                                      \
		return;
			META1_B(1) META1_B(2) META1_B(3) META1_B(4) META1_B(5) META1_B(6) META1_B(7)
			META1_B(8)
#undef META1_B
		}
	}
	meta_run(c, p, ps, ls, m, x, h0, S, Hs, 1, so);
	/* output node */
	const int ov = meta_off(H, L + 1);
	if (c->io) {
		g_apply(&c->g, m, so, t, gd);
#pragma omp simd
		for (size_t i = 0; i < m; i++)
			gd[i] *= dy[i];
	} else {
		memcpy(gd, dy, m * sizeof *gd);
	}
	memcpy(gp + (size_t)(ov + H) * NB, gd, m * sizeof *gd); /* c */
	for (int j = 0; j < H; j++) {
		const float *vj = p + (size_t)(ov + j) * ps, *hj = Hs + (size_t)(L * H + j) * NB;
		float *g = gp + (size_t)(ov + j) * NB, *d = dl + (size_t)j * NB;
#pragma omp simd
		for (size_t i = 0; i < m; i++) {
			g[i] = gd[i] * hj[i];
			d[i] = gd[i] * vj[i * ls];
		}
	}
	/* hidden layers, top down; dl = dL/dh_l */
	for (int l = L; l >= 1; l--) {
		const int nin = l == 1 ? 1 : H, off = meta_off(H, l);
		const float *Hp = l == 1 ? h0 : Hs + (size_t)((l - 1) * H) * NB;
		for (int j = 0; j < H; j++) {
			const float *s = S + (size_t)((l - 1) * H + j) * NB;
			float *dp = dpre + (size_t)j * NB;
			const float *d = dl + (size_t)j * NB;
			g_apply(&c->g, m, s, t, dp);
#pragma omp simd
			for (size_t i = 0; i < m; i++)
				dp[i] *= d[i];
			float *gb = gp + (size_t)(off + nin * H + j) * NB;
			memcpy(gb, dp, m * sizeof *dp);
			for (int q = 0; q < nin; q++) {
				float *gw = gp + (size_t)(off + j * nin + q) * NB;
				const float *hq = Hp + (size_t)q * NB;
#pragma omp simd
				for (size_t i = 0; i < m; i++)
					gw[i] = dp[i] * hq[i];
			}
		}
		/* gradient w.r.t. the layer's input h(l-1) */
		for (int q = 0; q < nin; q++) {
			float *dq = dprev + (size_t)q * NB;
			const float *skip = l >= 2 ? (c->post ? dl : dpre) + (size_t)q * NB : NULL;
#pragma omp simd
			for (size_t i = 0; i < m; i++)
				dq[i] = skip ? skip[i] : 0.0f;
			for (int j = 0; j < H; j++) {
				const float *w = p + (size_t)(off + j * nin + q) * ps;
				const float *dp = dpre + (size_t)j * NB;
#pragma omp simd
				for (size_t i = 0; i < m; i++)
					dq[i] += w[i * ls] * dp[i];
			}
		}
		memcpy(dl, dprev, (size_t)nin * NB * sizeof *dl);
	}
	/* input node: dl row 0 = dL/dh0 */
	if (c->io) {
		g_apply(&c->g, m, x, t, gd);
#pragma omp simd
		for (size_t i = 0; i < m; i++)
			dx[i] = dl[i] * gd[i];
	} else {
		memcpy(dx, dl, m * sizeof *dx);
	}
}

/* per=neuron, the fused case (L = 1, g = relu, H <= 8): a chunk of MT_VL
 * units at a time across all samples, with the unit parameters and the
 * parameter-gradient sums in registers (GCC vector extensions, any target;
 * 16 lanes with AVX-512, 8 otherwise). Same float operations in the same
 * order as meta1_fwd / meta1_bwd and the driver's per-sample sums, so the
 * results are those of the block kernels. */
#if defined(__GNUC__) && !defined(__clang__)
#define MT_VEC 1
#pragma GCC diagnostic ignored "-Wpsabi" /* vectors only in always-inline helpers */
#ifdef __AVX512F__
#define MT_VL 16
#else
#define MT_VL 8
#endif
typedef float mt_vf __attribute__((vector_size(4 * MT_VL)));
typedef int mt_vi __attribute__((vector_size(4 * MT_VL)));

AL_INLINE mt_vf mt_ld(const float *p, size_t avail)
{
	mt_vf v;
	if (avail >= MT_VL) {
		memcpy(&v, p, sizeof v);
		return v;
	}
	v = (mt_vf){0};
	for (size_t i = 0; i < avail; i++)
		v[i] = p[i];
	return v;
}

AL_INLINE void mt_st(float *p, mt_vf v, size_t avail)
{
	if (avail >= MT_VL)
		memcpy(p, &v, sizeof v);
	else
		for (size_t i = 0; i < avail; i++)
			p[i] = v[i];
}

/* v < 0 ? 0 : v (NaN and -0 pass, as META_RELU) */
AL_INLINE mt_vf mt_relu(mt_vf v)
{
	const mt_vf z = {0};
	return (mt_vf)((mt_vi)v & ~(v < z));
}

/* one sample of a chunk: y (forward) or dx and the gradient sums */
AL_INLINE void meta1_usample(const int H, const int io, const mt_vf *restrict W,
			     const mt_vf *restrict B, const mt_vf *restrict V, mt_vf C, size_t o,
			     size_t av, mt_vf xv, mt_vf dyv, int bwd, float *restrict y, float *restrict dx, mt_vf *restrict aw,
			     mt_vf *restrict ab, mt_vf *restrict avv, mt_vf *restrict ac)
{
	const mt_vf z = {0};
	const mt_vf h0 = io ? mt_relu(xv) : xv;
	mt_vf S[8], so = C;
	for (int j = 0; j < H; j++) {
		S[j] = W[j] * h0 + B[j];
		so += V[j] * mt_relu(S[j]);
	}
	if (!bwd) {
		mt_st(y + o, io ? mt_relu(so) : so, av);
		return;
	}
	const mt_vf gd = io ? (mt_vf)((mt_vi)dyv & (so > z)) : dyv;
	mt_vf dh0 = z;
	for (int j = 0; j < H; j++) {
		const mt_vf dp = (mt_vf)((mt_vi)(gd * V[j]) & (S[j] > z));
		avv[j] += gd * mt_relu(S[j]);
		ab[j] += dp;
		aw[j] += dp * h0;
		dh0 += W[j] * dp;
	}
	*ac += gd;
	mt_st(dx + o, io ? (mt_vf)((mt_vi)dh0 & (xv > z)) : dh0, av);
}

AL_INLINE void meta1_units(const meta_t *c, const int H, const float *restrict pt, size_t m,
			   int n, size_t F, const float *restrict x, const float *restrict dy,
			   float *restrict y, float *restrict dx, float *restrict ga)
{
	const mt_vf z = {0};
	const int io = c->io;
	for (size_t i0 = 0; i0 < m; i0 += MT_VL) {
		const size_t av = m - i0;
		mt_vf W[8], B[8], V[8], aw[8], ab[8], avv[8], ac = z, C;
		for (int j = 0; j < H; j++) {
			memcpy(&W[j], pt + (size_t)j * NB + i0, sizeof(mt_vf));
			memcpy(&B[j], pt + (size_t)(H + j) * NB + i0, sizeof(mt_vf));
			memcpy(&V[j], pt + (size_t)(2 * H + j) * NB + i0, sizeof(mt_vf));
			aw[j] = ab[j] = avv[j] = z;
		}
		memcpy(&C, pt + (size_t)(3 * H) * NB + i0, sizeof C);
		for (int s = 0; s < n; s++) {
			const size_t o = (size_t)s * F + i0;
			meta1_usample(H, io, W, B, V, C, o, av, mt_ld(x + o, av),
				      dy ? mt_ld(dy + o, av) : z, dy != NULL, y, dx, aw, ab, avv, &ac);
		}
		if (dy) {
			for (int j = 0; j < H; j++) {
				memcpy(ga + (size_t)j * NB + i0, &aw[j], sizeof(mt_vf));
				memcpy(ga + (size_t)(H + j) * NB + i0, &ab[j], sizeof(mt_vf));
				memcpy(ga + (size_t)(2 * H + j) * NB + i0, &avv[j], sizeof(mt_vf));
			}
			memcpy(ga + (size_t)(3 * H) * NB + i0, &ac, sizeof ac);
		}
	}
}

AL_INLINE int meta1_units_k(const meta_t *c, const float *restrict pt, size_t m, int n, size_t F,
			    const float *restrict x, const float *restrict dy, float *restrict y,
			    float *restrict dx, float *restrict ga)
{
	if (!(c->L == 1 && c->g.relu && c->H <= 8))
		return 0;
	switch (c->H) {
#define META1_U(h)                                                                                 \
	case h:                                                                                    \
		meta1_units(c, h, pt, m, n, F, x, dy, y, dx, ga);                                  \
		return 1;
		META1_U(1) META1_U(2) META1_U(3) META1_U(4) META1_U(5) META1_U(6) META1_U(7) META1_U(8)
#undef META1_U
	}
	return 0;
}

static int meta_fwd_units(const meta_t *c, const float *pt, size_t m, int n, size_t F,
			  const float *x, float *y)
{
	return meta1_units_k(c, pt, m, n, F, x, NULL, y, NULL, NULL);
}

static int meta_bwd_units(const meta_t *c, const float *pt, size_t m, int n, size_t F,
			  const float *x, const float *y, const float *dy, float *dx, float *ga)
{
	return meta1_units_k(c, pt, m, n, F, x, dy, NULL, dx, ga);
}
#define LN_UNITS
#endif

#define LN_NAME meta
#define LN_CFG meta_t
#include "act/learned_driver.h"

int al_ln_meta_nparams(const double *h) { return meta_np((int)h[META_H], (int)h[META_L]); }

void al_ln_meta_name(const double *h, int k, char *buf, size_t cap)
{
	int H = (int)h[META_H], L = (int)h[META_L];
	int ov = meta_off(H, L + 1);
	if (k >= ov) {
		if (k < ov + H)
			snprintf(buf, cap, "v%d", k - ov + 1);
		else
			snprintf(buf, cap, "c");
		return;
	}
	int l = 1;
	while (l < L && k >= meta_off(H, l + 1))
		l++;
	int r = k - meta_off(H, l), nin = l == 1 ? 1 : H;
	if (r < nin * H) {
		if (nin == 1)
			snprintf(buf, cap, "w%d_%d", l, r + 1);
		else
			snprintf(buf, cap, "w%d_%d_%d", l, r / nin + 1, r % nin + 1);
	} else {
		snprintf(buf, cap, "b%d_%d", l, r - nin * H + 1);
	}
}

void al_ln_meta_init(const double *h, float *p, size_t groups, al_rng *r)
{
	int H = (int)h[META_H], L = (int)h[META_L], P = meta_np(H, L);
	for (size_t g = 0; g < groups; g++) {
		float *q = p + g * (size_t)P;
		for (int l = 1; l <= L + 1; l++) {
			int nin = l == 1 ? 1 : H, nout = l == L + 1 ? 1 : H, off = meta_off(H, l);
			double lim = sqrt(6.0 / (nin + nout)); /* Glorot-uniform, zero biases */
			for (int k = 0; k < nin * nout; k++)
				q[off + k] = (float)urand(r, -lim, lim);
			for (int k = 0; k < nout; k++)
				q[off + nin * nout + k] = 0;
		}
	}
}

al_status al_ln_meta_check(const double *h, al_per per, int per_given)
{
	double H = h[META_H], L = h[META_L];
	if (!(H == floor(H) && H >= 1 && H <= 16) || !(L == floor(L) && L >= 1 && L <= 8))
		return al_err(AL_EINVAL, "H=%g, L=%g: need integers H in [1, 16], L in [1, 8]", H, L);
	if (H * L > META_ROWS || meta_np((int)H, (int)L) > AL_LN_MAXP) {
		return al_err(AL_EINVAL, "H=%g, L=%g: %d parameters per unit; the kernels take at most %d (and "
			      "H*L <= %d)",
			      H, L, meta_np((int)H, (int)L), AL_LN_MAXP, META_ROWS);
	}
	return AL_OK;
}

double al_ln_meta_ref(const double *h, const double *p, double x, double *dfdx, double *dfdp)
{
	inner_g g;
	inner_init(&g, h[META_G]);
	int H = (int)h[META_H], L = (int)h[META_L], post = h[META_RES] != 0, io = h[META_IO] != 0;
	double hs[9][16], ss[9][16], gs[9][16], h0, g0 = 1;
	h0 = io ? g_ref(&g, x, &g0) : x;
	for (int l = 1; l <= L; l++) {
		int nin = l == 1 ? 1 : H, off = meta_off(H, l);
		for (int j = 0; j < H; j++) {
			double s = p[off + nin * H + j];
			for (int q = 0; q < nin; q++)
				s += p[off + j * nin + q] * (l == 1 ? h0 : hs[l - 1][q]);
			if (l >= 2 && !post)
				s += hs[l - 1][j];
			ss[l][j] = s;
			double f = g_ref(&g, s, &gs[l][j]);
			hs[l][j] = l >= 2 && post ? hs[l - 1][j] + f : f;
		}
	}
	int ov = meta_off(H, L + 1);
	double so = p[ov + H];
	for (int j = 0; j < H; j++)
		so += p[ov + j] * hs[L][j];
	double go = 1, y = io ? g_ref(&g, so, &go) : so;
	dfdp[ov + H] = go;
	double dl[16], dn[16];
	for (int j = 0; j < H; j++) {
		dfdp[ov + j] = go * hs[L][j];
		dl[j] = go * p[ov + j];
	}
	for (int l = L; l >= 1; l--) {
		int nin = l == 1 ? 1 : H, off = meta_off(H, l);
		double dp[16];
		for (int j = 0; j < H; j++) {
			dp[j] = dl[j] * gs[l][j];
			dfdp[off + nin * H + j] = dp[j];
			for (int q = 0; q < nin; q++)
				dfdp[off + j * nin + q] = dp[j] * (l == 1 ? h0 : hs[l - 1][q]);
		}
		for (int q = 0; q < nin; q++) {
			dn[q] = l >= 2 ? (post ? dl[q] : dp[q]) : 0;
			for (int j = 0; j < H; j++)
				dn[q] += p[off + j * nin + q] * dp[j];
		}
		memcpy(dl, dn, sizeof dl);
	}
	(void)ss;
	*dfdx = dl[0] * (io ? g0 : 1);
	return y;
}

int al_ln_meta_kinks(const double *h, const double *p, double *out, int cap)
{
	/* not enumerated: the gradient check detects kinks by one-sided
	 * differences for this entry */
	return 0;
}
