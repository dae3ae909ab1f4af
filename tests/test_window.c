/* test_window.c — the window-based activations of seed 000 (SPEC.md 1):
 * nelu, pnelu, excitator, excitator_v2, inhibitor, inhibitor_v2,
 * softmax_relu, max_relu, max.
 *
 * The oracle is a plain double reference written from SPEC: explicit window
 * loops (edges=pad by literally zero-padding, computing and cropping),
 * explicit per-element forward formulas and Jacobians dy_i/dx_j, dy_i/dlambda_i.
 * Its Jacobians are checked by central differences of its own forward; the
 * float kernels (through al_act_forward / al_act_backward) are checked
 * against it on many shapes, window sizes, edge modes and lambda
 * granularities, with inputs resampled away from decision boundaries.
 * Then: Figure 2, inhibitor = nelu, thread independence, ties / zero /
 * one-sign windows, NaN policy, a model step, `actlab act eval`, and parity
 * with the authors' PyTorch functions through fixtures written by
 * tests/fixtures/gen_window.py (torch is not needed at run time).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/act.h"
#include "actlab/core.h"
#include "actlab/nn.h"
#include "actlab/tensor.h"
#include "test.h"

/* ---- the double reference ------------------------------------------------- */
enum { R_NELU, R_INHIB, R_INHV2, R_INHV2REF, R_PNELU, R_EXC, R_EXCV2, R_EXCREF, R_SMAX, R_MAXR,
       R_MAX };

typedef struct {
	int op;
	int dense, H, W, planes, C; /* plane geometry; C: planes per sample */
	int kh, kw, pad, col, first;
	double tau;
} rcfg;

/* A hyper by name; -1 when the entry has none. */
static double hyp(const al_act_spec *s, const char *name)
{
	for (int i = 0; i < s->desc->nhyper; i++)
		if (strcmp(s->desc->hyper[i].name, name) == 0)
			return s->hyper[i];
	return -1;
}

static int imin(int a, int b) { return a < b ? a : b; }

#define INF ((double)INFINITY)

static rcfg rcfg_make(const al_act_spec *s, int n, int c, int h, int w)
{
	rcfg r;
	memset(&r, 0, sizeof r);
	const char *nm = s->desc->name;
	int compat = hyp(s, "compat") > 0;
	if (!strcmp(nm, "nelu"))
		r.op = R_NELU;
	else if (!strcmp(nm, "inhibitor"))
		r.op = R_INHIB;
	else if (!strcmp(nm, "inhibitor_v2"))
		r.op = compat ? R_INHV2REF : R_INHV2;
	else if (!strcmp(nm, "pnelu"))
		r.op = R_PNELU;
	else if (!strcmp(nm, "excitator"))
		r.op = compat ? R_EXCREF : R_EXC;
	else if (!strcmp(nm, "excitator_v2"))
		r.op = R_EXCV2;
	else if (!strcmp(nm, "softmax_relu"))
		r.op = R_SMAX;
	else if (!strcmp(nm, "max_relu"))
		r.op = R_MAXR;
	else
		r.op = R_MAX;
	r.dense = h == 1 && w == 1;
	r.H = r.dense ? 1 : h;
	r.W = r.dense ? c : w;
	r.C = r.dense ? 1 : c;
	r.planes = n * r.C;
	int k = (int)hyp(s, "k"), kh = (int)hyp(s, "kh"), kw = (int)hyp(s, "kw");
	if (r.dense) {
		r.kh = 1;
		r.kw = imin(kw > 0 ? kw : k, r.W);
	} else if (kh <= 0 && kw <= 0) {
		r.kh = r.kw = imin(k, imin(r.H, r.W));
	} else {
		r.kh = imin(kh > 0 ? kh : k, r.H);
		r.kw = imin(kw > 0 ? kw : k, r.W);
	}
	r.pad = hyp(s, "edges") > 0;
	r.col = r.op == R_SMAX && hyp(s, "group") > 0;
	r.first = hyp(s, "ties") > 0;
	r.tau = hyp(s, "tau");
	return r;
}

/* Per-group quantities, for the Jacobian. */
typedef struct {
	double Sm, Sp, M;
	int n0, np, m, amax;
	double pre[4096], a[4096], wsm[4096], keep[4096];
} gctx;

/* One group of m elements (row-major; padded zeros included in pad mode):
 * y, dx = J^T g, dl_i = g_i dy_i/dlambda_i, and a decision margin per
 * element (distance of a mask's argument to its threshold). */
static void eval_group(const rcfg *cf, gctx *G, int m, const double *x, const double *l,
		       const double *g, double *y, double *dx, double *dl, double *mg)
{
	G->m = m;
	G->Sm = G->Sp = 0;
	G->M = -INF;
	G->n0 = G->np = 0;
	G->amax = 0;
	for (int i = 0; i < m; i++) {
		G->Sm += x[i] < 0 ? x[i] : 0;
		G->Sp += x[i] > 0 ? x[i] : 0;
		G->n0 += x[i] <= 0;
		G->np += x[i] >= 0;
		if (x[i] > G->M) {
			G->M = x[i];
			G->amax = i;
		}
	}
	double dyl[4096];
	for (int i = 0; i < m; i++) {
		double xi = x[i], li = l[i], p = 0, a = 0;
		dyl[i] = 0;
		if (mg)
			mg[i] = INF;
		double mx = fabs(xi);
		switch (cf->op) {
		case R_NELU: /* SPEC 1.3 */
			p = xi + li * G->Sm;
			a = p > 0;
			y[i] = a ? p : 0;
			dyl[i] = a * G->Sm;
			if (mg)
				mg[i] = fmin(mx, fabs(p));
			break;
		case R_INHIB:
		case R_INHV2REF: /* the reference's literal steps (SPEC 1.7, 1.8 compat) */
			p = xi >= 0 ? xi + li * G->Sm : (1 - li) * xi + li * G->Sm;
			a = p > 0;
			y[i] = a ? p : 0;
			dyl[i] = a * (xi >= 0 ? G->Sm : G->Sm - xi);
			if (mg)
				mg[i] = fmin(mx, fabs(p));
			break;
		case R_INHV2: { /* SPEC 1.8 */
			double d = G->np ? G->np : 1;
			p = xi + li * G->Sm / d;
			a = xi >= 0 && p > 0;
			y[i] = a ? p : 0;
			dyl[i] = a * G->Sm / d;
			if (mg)
				mg[i] = fmin(mx, xi >= 0 ? fabs(p) : INF);
			break;
		}
		case R_PNELU: /* SPEC 1.4 */
			a = xi > 0;
			y[i] = a * (xi + li * G->Sm);
			dyl[i] = a * G->Sm;
			if (mg)
				mg[i] = mx;
			break;
		case R_EXC:
		case R_EXCV2: { /* SPEC 1.5, 1.6 */
			double d = cf->op == R_EXCV2 ? (G->n0 ? G->n0 : 1) : 1;
			if (xi > 0) {
				y[i] = (1 - li) * xi;
				dyl[i] = -xi;
				if (mg)
					mg[i] = mx;
			} else {
				p = xi + li * G->Sp / d;
				a = p > 0;
				y[i] = a ? p : 0;
				dyl[i] = a * G->Sp / d;
				if (mg)
					mg[i] = fmin(mx, fabs(p));
			}
			break;
		}
		case R_EXCREF: /* SPEC 1.5 compat */
			p = xi - li * (xi > 0 ? xi : 0) + li * G->Sp;
			a = p > 0;
			y[i] = a ? p : 0;
			dyl[i] = a * (G->Sp - (xi > 0 ? xi : 0));
			if (mg)
				mg[i] = fmin(mx, fabs(p));
			break;
		default:
			break;
		}
		G->pre[i] = p;
		G->a[i] = a;
	}
	if (cf->op == R_SMAX) { /* SPEC 1.9 */
		double s = 0;
		for (int i = 0; i < m; i++)
			s += exp(x[i] - G->M);
		for (int i = 0; i < m; i++) {
			G->wsm[i] = exp(x[i] - G->M) / s;
			G->keep[i] = G->wsm[i] >= cf->tau;
			y[i] = G->keep[i] * x[i];
			if (mg)
				mg[i] = fabs(G->wsm[i] - cf->tau);
		}
	}
	if (cf->op == R_MAX || cf->op == R_MAXR) { /* SPEC 1.10, 1.11 */
		for (int i = 0; i < m; i++) {
			int k = cf->first ? i == G->amax : x[i] == G->M;
			if (cf->op == R_MAXR)
				k = k && x[i] > 0;
			G->keep[i] = k;
			y[i] = k * x[i];
			if (mg) {
				double gap = i == G->amax ? INF : G->M - x[i];
				if (gap < mg[G->amax])
					mg[G->amax] = gap;
				mg[i] = fmin(mg[i], gap);
				if (cf->op == R_MAXR && i == G->amax)
					mg[i] = fmin(mg[i], fabs(x[i]));
			}
		}
	}
	if (!g)
		return;
	/* dx_j = sum_i g_i dy_i/dx_j with the SPEC Jacobians */
	for (int j = 0; j < m; j++) {
		double s = 0;
		for (int i = 0; i < m; i++) {
			double J = 0, dij = i == j, li = l[i];
			switch (cf->op) {
			case R_NELU:
				J = G->a[i] * (dij + li * (x[j] < 0));
				break;
			case R_INHIB:
			case R_INHV2REF:
				J = G->a[i] * (dij * (x[i] >= 0 ? 1 : 1 - li) + li * (x[j] < 0));
				break;
			case R_INHV2:
				J = G->a[i] * (dij + li / (G->np ? G->np : 1) * (x[j] < 0));
				break;
			case R_PNELU:
				J = (x[i] > 0) * (dij + li * (x[j] < 0));
				break;
			case R_EXC:
			case R_EXCV2: {
				double d = cf->op == R_EXCV2 ? (G->n0 ? G->n0 : 1) : 1;
				J = x[i] > 0 ? (1 - li) * dij : G->a[i] * (dij + li / d * (x[j] > 0));
				break;
			}
			case R_EXCREF:
				J = G->a[i] * (dij * (1 - li * (x[i] > 0)) + li * (x[j] > 0));
				break;
			default:
				J = dij * G->keep[i];
			}
			s += g[i] * J;
		}
		dx[j] = s;
	}
	for (int i = 0; i < m; i++)
		dl[i] = g[i] * dyl[i];
}

/* x, lam (effective lambda of every element), g: (n, c, h, w) doubles.
 * Writes y; with g also dx and dl (per-element dL/dlambda_i); with mg the
 * per-element decision margin. */
static void ref_eval(const al_act_spec *s, int n, int c, int h, int w, const double *x,
		     const double *lam, const double *g, double *y, double *dx, double *dl,
		     double *mg)
{
	rcfg cf = rcfg_make(s, n, c, h, w);
	static gctx G;
	double xv[4096], lv[4096], gv[4096], yv[4096], dxv[4096], dlv[4096], mv[4096];
	int idx[4096];
	size_t hw = (size_t)cf.H * cf.W;
	for (int p = 0; p < cf.planes; p++) {
		size_t base = (size_t)p * hw;
		for (int r0 = 0; r0 < cf.H; r0 += cf.kh)
			for (int c0 = 0; c0 < cf.W; c0 += cf.kw) {
				int rows = cf.pad ? cf.kh : imin(cf.kh, cf.H - r0);
				int cols = cf.pad ? cf.kw : imin(cf.kw, cf.W - c0);
				int ngroups = cf.col ? cols : 1;
				for (int gi = 0; gi < ngroups; gi++) {
					int m = 0;
					for (int r = 0; r < rows; r++)
						for (int cc = 0; cc < cols; cc++) {
							if (cf.col && cc != gi)
								continue;
							int real = r0 + r < cf.H && c0 + cc < cf.W;
							size_t e = base + (size_t)(r0 + r) * cf.W + (size_t)(c0 + cc);
							idx[m] = real ? (int)e : -1;
							xv[m] = real ? x[e] : 0;
							lv[m] = real ? lam[e] : 0;
							gv[m] = real && g ? g[e] : 0;
							m++;
						}
					eval_group(&cf, &G, m, xv, lv, g ? gv : NULL, yv, dxv, dlv,
						   mg ? mv : NULL);
					for (int i = 0; i < m; i++) {
						if (idx[i] < 0)
							continue;
						y[idx[i]] = yv[i];
						if (g) {
							dx[idx[i]] = dxv[i];
							dl[idx[i]] = dlv[i];
						}
						if (mg)
							mg[idx[i]] = mv[i];
					}
				}
			}
	}
}

/* ---- helpers ---------------------------------------------------------------- */
static double urand(al_rng *r, double lo, double hi)
{
	return lo + (hi - lo) * (double)al_rng_uniform(r);
}

/* Group of element e for the spec's granularity (as al_act_groups counts). */
static size_t group_of(const al_act_spec *s, int c, int h, int w, size_t e)
{
	size_t hw = (size_t)h * w, F = (size_t)c * hw;
	switch (s->per) {
	case AL_PER_LAYER: return 0;
	case AL_PER_CHANNEL: return (e % F) / hw;
	default: return e % F;
	}
}

/* Effective per-element lambda from the parameters (or the influence). */
static void lam_elems(const al_act_spec *s, int n, int c, int h, int w, const float *p,
		      double *lam)
{
	size_t N = (size_t)n * c * h * w;
	int learn = al_act_nparams(s) > 0;
	double infl = hyp(s, "influence");
	for (size_t e = 0; e < N; e++) {
		double v = learn ? (double)p[group_of(s, c, h, w, e)] : infl;
		lam[e] = learn ? (v < 0 ? 0 : v > 1 ? 1 : v) : v;
	}
}

/* Random x in [lo, hi], resampled until every decision margin of the
 * reference is at least `margin` (no ties, no element near a threshold). */
static int gen_input(const al_act_spec *s, int n, int c, int h, int w, const double *lam,
		     al_rng *r, double lo, double hi, double margin, float *x)
{
	size_t N = (size_t)n * c * h * w;
	double *xd = calloc(N, 8), *y = calloc(N, 8), *mg = calloc(N, 8);
	for (size_t e = 0; e < N; e++)
		x[e] = (float)urand(r, lo, hi);
	int ok = 0;
	for (int it = 0; it < 500 && !ok; it++) {
		for (size_t e = 0; e < N; e++)
			xd[e] = x[e];
		ref_eval(s, n, c, h, w, xd, lam, NULL, y, NULL, NULL, mg);
		ok = 1;
		for (size_t e = 0; e < N; e++)
			if (mg[e] < margin) {
				x[e] = (float)urand(r, lo, hi);
				ok = 0;
			}
	}
	free(xd);
	free(y);
	free(mg);
	return ok;
}

typedef struct {
	double y, dx, dp; /* worst relative errors */
	char where[256];
} kerr;

static double rel(double a, double b, double scale) { return fabs(a - b) / (scale + fabs(b)); }

/* The float kernels against the reference at x, params p; dy random.
 * Returns 0 when a 2-thread rerun differs bitwise. Leaves 2 threads set. */
static int kernel_vs_ref(const al_act_spec *s, int n, int c, int h, int w, const float *x,
			 const float *p, al_rng *r, kerr *E)
{
	size_t N = (size_t)n * c * h * w, G = al_act_groups(s, c, h, w),
	       P = (size_t)al_act_nparams(s);
	float *dy = malloc(N * 4), *y = malloc(N * 4), *dx = malloc(N * 4), *y2 = malloc(N * 4),
	      *dx2 = malloc(N * 4);
	float *dp = calloc(G * P + 1, 4), *dp2 = calloc(G * P + 1, 4);
	float *sc = calloc(al_act_scratch_floats(s, n, c, h, w) + 1, 4);
	double *xd = calloc(N, 8), *gd = calloc(N, 8), *lam = calloc(N, 8), *yr = malloc(N * 8),
	       *dxr = malloc(N * 8), *dlr = malloc(N * 8), *dpr = calloc(G + 1, 8);
	for (size_t e = 0; e < N; e++) {
		dy[e] = (float)urand(r, -1, 1);
		xd[e] = x[e];
		gd[e] = dy[e];
	}
	lam_elems(s, n, c, h, w, p, lam);
	ref_eval(s, n, c, h, w, xd, lam, gd, yr, dxr, dlr, NULL);
	for (size_t e = 0; e < N && P; e++)
		dpr[group_of(s, c, h, w, e)] += dlr[e];
	/* 1 thread; every 8th call also 2 threads (on a loaded 2-core machine
	 * thousands of tiny 2-thread regions wait on the scheduler) */
	static int calls;
	int same = 1;
	al_set_threads(1);
	al_act_forward(s, p, n, c, h, w, x, y, 1, NULL);
	al_act_backward(s, p, n, c, h, w, x, y, dy, dx, dp, sc, 1, NULL);
	if (calls++ % 8 == 0) {
		al_set_threads(2);
		al_act_forward(s, p, n, c, h, w, x, y2, 1, NULL);
		al_act_backward(s, p, n, c, h, w, x, y2, dy, dx2, dp2, sc, 1, NULL);
		same = !memcmp(y, y2, N * 4) && !memcmp(dx, dx2, N * 4) &&
		       !memcmp(dp, dp2, G * P * 4);
	}
	al_set_threads(2);
	double xs = 0;
	for (size_t e = 0; e < N; e++)
		xs = fmax(xs, fabs(xd[e]));
	memset(E, 0, sizeof *E);
	for (size_t e = 0; e < N; e++) {
		double ey = rel(y[e], yr[e], 1 + xs), ed = rel(dx[e], dxr[e], 1);
		if (!(ey <= E->y)) {
			E->y = isnan(ey) ? INF : ey;
			snprintf(E->where, sizeof E->where, "y[%zu] = %.9g, ref %.9g (x %.9g)", e,
				 (double)y[e], yr[e], xd[e]);
		}
		if (!(ed <= E->dx)) {
			E->dx = isnan(ed) ? INF : ed;
			snprintf(E->where, sizeof E->where, "dx[%zu] = %.9g, ref %.9g (x %.9g)", e,
				 (double)dx[e], dxr[e], xd[e]);
		}
	}
	for (size_t k = 0; k < G * P; k++) {
		double ep = rel(dp[k], dpr[k], 1);
		if (!(ep <= E->dp)) {
			E->dp = isnan(ep) ? INF : ep;
			snprintf(E->where, sizeof E->where, "dlambda[%zu] = %.9g, ref %.9g", k,
				 (double)dp[k], dpr[k]);
		}
	}
	free(dy);
	free(y);
	free(dx);
	free(y2);
	free(dx2);
	free(dp);
	free(dp2);
	free(sc);
	free(xd);
	free(gd);
	free(lam);
	free(yr);
	free(dxr);
	free(dlr);
	free(dpr);
	return same;
}

/* Parameters for spec s at (c, h, w): the initial values, or random ones in
 * (0.05, 0.95) when rnd. Caller frees. */
static float *make_params(const al_act_spec *s, int c, int h, int w, int rnd, al_rng *r)
{
	size_t G = al_act_groups(s, c, h, w), P = (size_t)al_act_nparams(s);
	float *p = calloc(G * P + 1, 4);
	al_act_init_params(s, p, G, r);
	for (size_t k = 0; rnd && k < G * P; k++)
		p[k] = (float)urand(r, 0.05, 0.95);
	return p;
}

static const char *lam_entries[] = {"nelu",        "pnelu",       "excitator",
				    "excitator:compat=ref", "excitator_v2", "inhibitor",
				    "inhibitor_v2", "inhibitor_v2:compat=ref"};
static const char *sel_entries[] = {"softmax_relu", "softmax_relu:group=column",
				    "softmax_relu:tau=0.1", "max_relu", "max",
				    "max_relu:ties=first", "max:ties=first"};
#define NLAM (int)(sizeof lam_entries / sizeof *lam_entries)
#define NSEL (int)(sizeof sel_entries / sizeof *sel_entries)

/* spec text = base + extra hypers (base may already have ':') */
static void join(char *buf, size_t cap, const char *base, const char *extra)
{
	snprintf(buf, cap, "%s%s%s", base, *extra ? (strchr(base, ':') ? "," : ":") : "", extra);
}

typedef struct {
	int n, c, h, w;
} shape4;

/* Runs kernel_vs_ref for one spec on one shape; reports failures. */
static void check_case(const char *spec, shape4 sh, int rnd, uint64_t seed)
{
	al_act_spec s;
	if (al_act_parse(spec, &s) != AL_OK) {
		test_fail(__FILE__, __LINE__, "parse '%s': %s", spec, al_errmsg());
		return;
	}
	al_rng r;
	al_rng_seed(&r, seed);
	size_t N = (size_t)sh.n * sh.c * sh.h * sh.w;
	float *x = malloc(N * 4), *p = make_params(&s, sh.c, sh.h, sh.w, rnd, &r);
	double *lam = malloc(N * 8);
	lam_elems(&s, sh.n, sh.c, sh.h, sh.w, p, lam);
	int ok = gen_input(&s, sh.n, sh.c, sh.h, sh.w, lam, &r, -2, 2, 1e-2, x);
	CHECK(ok, "%s %dx%dx%dx%d: could not place inputs away from thresholds", spec, sh.n, sh.c,
	      sh.h, sh.w);
	kerr E;
	int same = kernel_vs_ref(&s, sh.n, sh.c, sh.h, sh.w, x, p, &r, &E);
	CHECK(same, "%s %dx%dx%dx%d: 1 and 2 threads differ", spec, sh.n, sh.c, sh.h, sh.w);
	CHECK(E.y < 2e-6 && E.dx < 2e-5 && E.dp < 2e-5,
	      "%s %dx%dx%dx%d: errors y %.3g dx %.3g dlambda %.3g; worst %s", spec, sh.n, sh.c,
	      sh.h, sh.w, E.y, E.dx, E.dp, E.where);
	free(x);
	free(p);
	free(lam);
}

/* ---- tests ------------------------------------------------------------------- */

/* The reference's Jacobians against central differences of its forward:
 * L = sum r_i y_i, every input coordinate and every lambda group. */
TEST(window_reference_fd)
{
	static const char *extras[] = {"k=2", "k=3", "k=4,edges=pad", "k=3,edges=pad",
				       "kh=2,kw=3", "k=5"};
	static const shape4 shapes[] = {{2, 2, 5, 7}, {2, 6, 1, 1}};
	const char *all[NLAM + NSEL];
	for (int i = 0; i < NLAM; i++)
		all[i] = lam_entries[i];
	for (int i = 0; i < NSEL; i++)
		all[NLAM + i] = sel_entries[i];
	al_rng r;
	al_rng_seed(&r, 3);
	for (int e = 0; e < NLAM + NSEL; e++)
		for (int xi = 0; xi < 6; xi++)
			for (int si = 0; si < 2; si++) {
				char spec[256], ex[128];
				int lam = e < NLAM;
				snprintf(ex, sizeof ex, "%s%s", extras[xi],
					 lam ? (si ? ",learn=1,per=channel" : ",learn=1") : "");
				join(spec, sizeof spec, all[e], ex);
				al_act_spec s;
				REQUIRE_OK(al_act_parse(spec, &s));
				shape4 sh = shapes[si];
				size_t N = (size_t)sh.n * sh.c * sh.h * sh.w;
				float *p = make_params(&s, sh.c, sh.h, sh.w, 1, &r);
				float *xf = malloc(N * 4);
				double *x = malloc(N * 8), *lamv = malloc(N * 8), *g = malloc(N * 8),
				       *y = malloc(N * 8), *dx = malloc(N * 8), *dl = malloc(N * 8),
				       *y1 = malloc(N * 8);
				lam_elems(&s, sh.n, sh.c, sh.h, sh.w, p, lamv);
				CHECK(gen_input(&s, sh.n, sh.c, sh.h, sh.w, lamv, &r, -2, 2, 1e-2, xf),
				      "%s: inputs", spec);
				for (size_t k = 0; k < N; k++) {
					x[k] = xf[k];
					g[k] = urand(&r, -1, 1);
				}
				ref_eval(&s, sh.n, sh.c, sh.h, sh.w, x, lamv, g, y, dx, dl, NULL);
				const double hstep = 1e-6;
				double worst = 0;
				char at[128] = "";
				for (size_t k = 0; k < N; k++) {
					double L[2];
					for (int t = 0; t < 2; t++) {
						double old = x[k];
						x[k] = old + (t ? -hstep : hstep);
						ref_eval(&s, sh.n, sh.c, sh.h, sh.w, x, lamv, NULL, y1, NULL,
							 NULL, NULL);
						x[k] = old;
						L[t] = 0;
						for (size_t q = 0; q < N; q++)
							L[t] += g[q] * y1[q];
					}
					double fd = (L[0] - L[1]) / (2 * hstep);
					double err = fabs(fd - dx[k]) / (1e-6 + fabs(fd) + fabs(dx[k]));
					if (err > worst) {
						worst = err;
						snprintf(at, sizeof at, "dx[%zu]: fd %.9g, analytic %.9g", k,
							 fd, dx[k]);
					}
				}
				/* lambda groups */
				size_t G = al_act_groups(&s, sh.c, sh.h, sh.w);
				for (size_t gi = 0; lam && gi < G; gi++) {
					double L[2], an = 0;
					double *l2 = malloc(N * 8);
					for (int t = 0; t < 2; t++) {
						for (size_t k = 0; k < N; k++)
							l2[k] = lamv[k] + (group_of(&s, sh.c, sh.h, sh.w, k) == gi
										   ? (t ? -hstep : hstep)
										   : 0);
						ref_eval(&s, sh.n, sh.c, sh.h, sh.w, x, l2, NULL, y1, NULL,
							 NULL, NULL);
						L[t] = 0;
						for (size_t q = 0; q < N; q++)
							L[t] += g[q] * y1[q];
					}
					for (size_t k = 0; k < N; k++)
						if (group_of(&s, sh.c, sh.h, sh.w, k) == gi)
							an += dl[k];
					double fd = (L[0] - L[1]) / (2 * hstep);
					double err = fabs(fd - an) / (1e-6 + fabs(fd) + fabs(an));
					if (err > worst) {
						worst = err;
						snprintf(at, sizeof at, "dlambda[%zu]: fd %.9g, analytic %.9g",
							 gi, fd, an);
					}
					free(l2);
				}
				CHECK(worst < 1e-6, "%s on %dx%dx%dx%d: worst %.3g at %s", spec, sh.n,
				      sh.c, sh.h, sh.w, worst, at);
				free(p);
				free(xf);
				free(x);
				free(lamv);
				free(g);
				free(y);
				free(dx);
				free(dl);
				free(y1);
			}
}

/* Every fused kernel against the reference: k = 1..5 and larger than the
 * map, shapes that do and do not divide by k, rectangular windows, dense
 * inputs, both edge modes, lambda fixed / per layer / per channel / per
 * neuron. */
TEST(window_kernels_vs_reference)
{
	static const shape4 shapes[] = {{2, 3, 8, 8},  {2, 2, 7, 9}, {1, 2, 5, 5},
					{3, 10, 1, 1}, {2, 2, 12, 4}, {2, 1, 3, 21}};
	static const char *ks[] = {"k=1", "k=2", "k=3", "k=4", "k=5", "k=16", "kh=2,kw=3",
				   "kh=3,kw=1", "k=8", "kh=3,kw=8"};
	static const char *edges[] = {"", ",edges=pad"};
	static const char *learn[] = {"", ",learn=1", ",learn=1,per=channel",
				      ",learn=1,per=neuron"};
	uint64_t seed = 100;
	for (int si = 0; si < 6; si++)
		for (int ki = 0; ki < 10; ki++)
			for (int ei = 0; ei < 2; ei++) {
				for (int e = 0; e < NLAM; e++)
					for (int li = 0; li < 4; li++) {
						if (li && (ki % 2) != (e % 2))
							continue; /* a fair sample of the lambda modes */
						char ex[128], spec[256];
						snprintf(ex, sizeof ex, "%s%s%s", ks[ki], edges[ei],
							 learn[li]);
						join(spec, sizeof spec, lam_entries[e], ex);
						check_case(spec, shapes[si], li > 0, seed++);
					}
				for (int e = 0; e < NSEL; e++) {
					char ex[128], spec[256];
					snprintf(ex, sizeof ex, "%s%s", ks[ki], edges[ei]);
					join(spec, sizeof spec, sel_entries[e], ex);
					check_case(spec, shapes[si], 0, seed++);
				}
			}
}

/* Windows wider than the chunked path handles (per-window path). */
TEST(window_kernels_wide)
{
	static const shape4 shapes[] = {{2, 150, 1, 1}, {1, 2, 3, 80}};
	static const char *ks[] = {"k=70", "kh=2,kw=66", "k=100,edges=pad"};
	uint64_t seed = 900;
	for (int si = 0; si < 2; si++)
		for (int ki = 0; ki < 3; ki++) {
			for (int e = 0; e < NLAM; e++) {
				char spec[256], ex[128];
				snprintf(ex, sizeof ex, "%s%s", ks[ki], e % 2 ? ",learn=1,per=channel" : "");
				join(spec, sizeof spec, lam_entries[e], ex);
				check_case(spec, shapes[si], e % 2, seed++);
			}
			for (int e = 0; e < NSEL; e++) {
				char spec[256];
				join(spec, sizeof spec, sel_entries[e], ks[ki]);
				check_case(spec, shapes[si], 0, seed++);
			}
		}
}

/* Rows of 16 or more window columns (k = 2, 4): with AVX-512 the full bands
 * run in 16-column groups, the last one overlapping its neighbour when the
 * row is not a multiple of 16 (W = 28, 34, 40: lambda gradients of the
 * overlap counted once), a right-edge partial window (W = 34 with k = 4)
 * and partial bottom bands (H = 6) next to them. */
TEST(window_kernels_rows16)
{
	static const shape4 shapes[] = {{1, 2, 8, 16}, {2, 1, 8, 28}, {1, 2, 6, 34}, {1, 1, 4, 40},
					{2, 1, 4, 32}};
	static const char *ks[] = {"k=2", "k=4", "k=4,edges=pad"};
	static const char *learn[] = {"", ",learn=1", ",learn=1,per=channel"};
	uint64_t seed = 1900;
	for (int si = 0; si < 5; si++)
		for (int ki = 0; ki < 3; ki++) {
			for (int e = 0; e < NLAM; e++)
				for (int li = 0; li < 3; li++) {
					char spec[256], ex[128];
					snprintf(ex, sizeof ex, "%s%s", ks[ki], learn[li]);
					join(spec, sizeof spec, lam_entries[e], ex);
					check_case(spec, shapes[si], li > 0, seed++);
				}
			for (int e = 0; e < NSEL; e++) {
				char spec[256];
				join(spec, sizeof spec, sel_entries[e], ks[ki]);
				check_case(spec, shapes[si], 0, seed++);
			}
		}
}

/* Rows of 28 columns (k = 2, 4, full bands): with AVX-512 the forwards of
 * the lambda entries and softmax_relu, and max_relu and max both ways,
 * write blocks of 4 rows as 7 aligned vectors when y (dx) starts on a
 * 64-byte boundary and run the 16-column (8 for max) groups otherwise.
 * Every placement of y (0, 1, 3, 8 floats past a boundary) and of x (0, 5
 * floats) gives the same forward (and max backward) bit for bit, on
 * inputs away from thresholds (the aligned one also against the reference)
 * and on raw normal inputs with zeros and ties (softmax groups near tau
 * take the exact path inside a block); H = 26 leaves an odd band count for
 * k = 2 and a partial band for k = 4, H = 4 is a single block. */
TEST(window_rows28_blocks)
{
	static const char *ents[] = {"nelu",         "pnelu",        "excitator",
				     "excitator:compat=ref",       "excitator_v2",
				     "inhibitor_v2", "nelu:learn=1,per=channel",
				     "softmax_relu", "softmax_relu:group=column",
				     "softmax_relu:tau=0.1",       "softmax_relu:tau=1e-20",
				     "max_relu",     "max"};
	static const int hs[] = {28, 26, 4}, yoffs[] = {0, 1, 3, 8}, xoffs[] = {0, 5};
	const int n = 2, c = 3, w = 28;
	al_rng r;
	al_rng_seed(&r, 2828);
	for (int hi = 0; hi < 3; hi++) {
		const int h = hs[hi];
		const size_t N = (size_t)n * c * h * w, cap = (N + 16 + 15) / 16 * 64;
		float *xa = aligned_alloc(64, cap), *ya = aligned_alloc(64, cap),
		      *xb = aligned_alloc(64, cap), *yb = aligned_alloc(64, cap),
		      *dy = aligned_alloc(64, cap), *dxa = aligned_alloc(64, cap),
		      *dxb = aligned_alloc(64, cap);
		for (size_t i = 0; i < N; i++)
			dy[i] = (float)urand(&r, -1, 1);
		double *xd = malloc(N * 8), *lam = malloc(N * 8), *yr = malloc(N * 8);
		for (int k = 4; k >= 2; k -= 2)
			for (int ei = 0; ei < (int)(sizeof ents / sizeof *ents); ei++) {
				char spec[128], kk[8];
				snprintf(kk, sizeof kk, "k=%d", k);
				join(spec, sizeof spec, ents[ei], kk);
				al_act_spec s;
				REQUIRE_OK(al_act_parse(spec, &s));
				float *p = make_params(&s, c, h, w, 1, &r);
				lam_elems(&s, n, c, h, w, p, lam);
				for (int raw = 0; raw < 2; raw++) {
					if (raw) {
						for (size_t i = 0; i < N; i++) {
							double u = al_rng_uniform(&r);
							xa[i] = u < 0.05  ? 0.0f
								: u < 0.1 ? xa[i / 2]
									  : (float)al_rng_normal(&r);
						}
					} else {
						CHECK(gen_input(&s, n, c, h, w, lam, &r, -2, 2, 1e-2, xa),
						      "%s h %d: inputs", spec, h);
					}
					/* backward too where it needs no parameters */
					const int bwd = al_act_nparams(&s) == 0;
					al_act_forward(&s, p, n, c, h, w, xa, ya, 1, NULL);
					if (bwd)
						al_act_backward(&s, NULL, n, c, h, w, xa, ya, dy, dxa, NULL,
								NULL, 1, NULL);
					if (!raw) {
						for (size_t i = 0; i < N; i++)
							xd[i] = xa[i];
						ref_eval(&s, n, c, h, w, xd, lam, NULL, yr, NULL, NULL, NULL);
						double err = 0;
						for (size_t i = 0; i < N; i++)
							err = fmax(err, rel(ya[i], yr[i], 3));
						CHECK(err < 2e-6, "%s h %d: aligned y error %.3g", spec, h, err);
					}
					for (int xo = 0; xo < 2; xo++)
						for (int yo = xo ? 0 : 1; yo < 4; yo++) {
							float *xp = xb + xoffs[xo], *yp = yb + yoffs[yo];
							memcpy(xp, xa, N * 4);
							float *dxp = dxb + yoffs[yo];
							al_act_forward(&s, p, n, c, h, w, xp, yp, 1, NULL);
							CHECK(!memcmp(yp, ya, N * 4),
							      "%s h %d raw %d: y at +%d, x at +%d differ from "
							      "the aligned forward",
							      spec, h, raw, yoffs[yo], xoffs[xo]);
							if (!bwd)
								continue;
							al_act_backward(&s, NULL, n, c, h, w, xp, yp, dy, dxp,
									NULL, NULL, 1, NULL);
							CHECK(!memcmp(dxp, dxa, N * 4),
							      "%s h %d raw %d: dx at +%d, x at +%d differ from "
							      "the aligned backward",
							      spec, h, raw, yoffs[yo], xoffs[xo]);
						}
				}
				free(p);
			}
		free(xa);
		free(ya);
		free(xb);
		free(yb);
		free(dy);
		free(dxa);
		free(dxb);
		free(xd);
		free(lam);
		free(yr);
	}
}

/* excitator_v2 and inhibitor_v2 count the window's positive (resp.
 * negative) elements; the 16-lane kernels take the count from max(x, 0)
 * (resp. min(x, 0)) instead of a compare, where a zero of either sign must
 * not count. Windows of positives, negatives, +0 and -0 (no input near a
 * threshold: the zeros' outputs are 0 or l I either way), on rows of 28
 * (the 4-row blocks), 32 (16-column groups) and 12 (narrow bands), k = 2
 * and 4, against the reference forward and backward. */
TEST(window_count_signed_zeros)
{
	static const char *ents[] = {"excitator_v2", "inhibitor_v2"};
	static const int ws[] = {28, 32, 12};
	static const float vals[] = {0.0f, -0.0f, 1.0f, -5.0f};
	const int n = 2, c = 3, h = 8;
	al_rng r;
	al_rng_seed(&r, 4321);
	for (int wi = 0; wi < 3; wi++)
		for (int k = 2; k <= 4; k += 2)
			for (int ei = 0; ei < 2; ei++) {
				const int w = ws[wi];
				const size_t N = (size_t)n * c * h * w;
				char spec[64];
				snprintf(spec, sizeof spec, "%s:k=%d", ents[ei], k);
				al_act_spec s;
				REQUIRE_OK(al_act_parse(spec, &s));
				float *x = aligned_alloc(64, (N + 15) / 16 * 64);
				int nz = 0;
				for (size_t i = 0; i < N; i++) {
					float v = vals[(int)(al_rng_uniform(&r) * 4) & 3];
					x[i] = v == 1.0f ? (float)urand(&r, 1, 2) : v;
					nz += x[i] == 0 && signbit(x[i]);
				}
				kerr E;
				kernel_vs_ref(&s, n, c, h, w, x, NULL, &r, &E);
				CHECK(nz > 0 && E.y < 1e-6 && E.dx < 1e-6,
				      "%s w %d: y error %.3g, dx error %.3g (%s)", spec, w, E.y, E.dx,
				      E.where);
				free(x);
			}
}

/* SPEC 1.5 Figure 2: the 3x3 example with lambda = 1/7. */
TEST(window_figure2)
{
	const float x[9] = {0.9f, 0.2f, -0.4f, -0.7f, 0.3f, -0.8f, -0.2f, 0.1f, 0.7f};
	float y[9];
	al_act_spec s;
	REQUIRE_OK(al_act_parse("excitator:k=3,influence=1/7", &s));
	al_act_forward(&s, NULL, 1, 1, 3, 3, x, y, 0, NULL);
	const double ex[9] = {0.9 * 6 / 7, 0.2 * 6 / 7, 0, 0, 0.3 * 6 / 7, 0, -0.2 + 2.2 / 7,
			      0.1 * 6 / 7, 0.7 * 6 / 7};
	for (int i = 0; i < 9; i++)
		CHECK_NEAR(y[i], ex[i], 1e-6);
	CHECK(fabs((double)y[6] - 0.114) < 1e-3 && fabs((double)y[0] - 0.771) < 1e-3, "figure values %g %g",
	      (double)y[6], (double)y[0]);
	const char *nl[] = {"nelu:k=3,influence=1/7", "inhibitor:k=3,influence=1/7",
			    "inhibitor_v2:k=3,influence=1/7,compat=ref"};
	for (int e = 0; e < 3; e++) {
		REQUIRE_OK(al_act_parse(nl[e], &s));
		al_act_forward(&s, NULL, 1, 1, 3, 3, x, y, 0, NULL);
		for (int i = 0; i < 9; i++)
			CHECK_NEAR(y[i], i == 0 ? 0.6 : i == 8 ? 0.4 : 0.0, 1e-6);
	}
	/* max: only 0.9 */
	REQUIRE_OK(al_act_parse("max:k=3", &s));
	al_act_forward(&s, NULL, 1, 1, 3, 3, x, y, 0, NULL);
	for (int i = 0; i < 9; i++)
		CHECK(y[i] == (i == 0 ? 0.9f : 0.0f), "max y[%d] = %g", i, (double)y[i]);
}

/* Inhibitor is NeLU exactly, and so is inhibitor_v2 compat=ref (SPEC 1.7,
 * 1.8): forward, input gradient and lambda gradient, bit for bit. */
TEST(window_inhibitor_is_nelu)
{
	const int n = 3, c = 4, h = 9, w = 10;
	size_t N = (size_t)n * c * h * w;
	float *x = malloc(N * 4), *dy = malloc(N * 4), *y[3], *dx[3];
	al_rng r;
	al_rng_seed(&r, 5);
	for (size_t e = 0; e < N; e++) {
		x[e] = (float)urand(&r, -2, 2);
		dy[e] = (float)urand(&r, -1, 1);
	}
	static const char *mods[] = {"k=4", "k=3,edges=pad,influence=0.3", "k=2,learn=1,per=channel",
				     "k=4,learn=1,per=neuron"};
	for (int mi = 0; mi < 4; mi++) {
		const char *names[3] = {"nelu", "inhibitor", "inhibitor_v2:compat=ref"};
		float *dp[3];
		size_t GP = 0;
		for (int e = 0; e < 3; e++) {
			char spec[128];
			join(spec, sizeof spec, names[e], mods[mi]);
			al_act_spec s;
			REQUIRE_OK(al_act_parse(spec, &s));
			GP = al_act_groups(&s, c, h, w) * (size_t)al_act_nparams(&s);
			float *p = calloc(GP + 1, 4), *sc = calloc(al_act_scratch_floats(&s, n, c, h, w) + 1, 4);
			al_act_init_params(&s, p, al_act_groups(&s, c, h, w), &r);
			y[e] = malloc(N * 4);
			dx[e] = malloc(N * 4);
			dp[e] = calloc(GP + 1, 4);
			al_act_forward(&s, p, n, c, h, w, x, y[e], 1, NULL);
			al_act_backward(&s, p, n, c, h, w, x, y[e], dy, dx[e], dp[e], sc, 1, NULL);
			free(p);
			free(sc);
		}
		for (int e = 1; e < 3; e++)
			CHECK(!memcmp(y[0], y[e], N * 4) && !memcmp(dx[0], dx[e], N * 4) &&
				      !memcmp(dp[0], dp[e], GP * 4),
			      "%s:%s differs from nelu", names[e], mods[mi]);
		for (int e = 0; e < 3; e++) {
			free(y[e]);
			free(dx[e]);
			free(dp[e]);
		}
	}
	free(x);
	free(dy);
}

/* 1 and 2 threads give bit-identical results for every entry and mode, on a
 * size where every thread gets many planes. */
TEST(window_threads_bitwise)
{
	const int n = 8, c = 6, h = 28, w = 28;
	size_t N = (size_t)n * c * h * w;
	float *x = malloc(N * 4), *dy = malloc(N * 4), *y1 = malloc(N * 4), *y2 = malloc(N * 4),
	      *dx1 = malloc(N * 4), *dx2 = malloc(N * 4);
	al_rng r;
	al_rng_seed(&r, 8);
	for (size_t e = 0; e < N; e++) {
		x[e] = (float)urand(&r, -3, 3);
		dy[e] = (float)urand(&r, -1, 1);
	}
	static const char *mods[] = {"", "k=2", "k=3,edges=pad", "k=4,learn=1",
				     "k=4,learn=1,per=channel", "k=2,learn=1,per=neuron"};
	for (int e = 0; e < NLAM + NSEL; e++)
		for (int mi = 0; mi < 6; mi++) {
			if (e >= NLAM && strstr(mods[mi], "learn"))
				continue;
			char spec[256];
			join(spec, sizeof spec, e < NLAM ? lam_entries[e] : sel_entries[e - NLAM],
			     mods[mi]);
			al_act_spec s;
			REQUIRE_OK(al_act_parse(spec, &s));
			for (int dense = 0; dense < 2; dense++) {
				int cc = dense ? c * h * w : c, hh = dense ? 1 : h, ww = dense ? 1 : w;
				size_t G = al_act_groups(&s, cc, hh, ww), P = (size_t)al_act_nparams(&s);
				float *p = make_params(&s, cc, hh, ww, 1, &r);
				float *dp1 = calloc(G * P + 1, 4), *dp2 = calloc(G * P + 1, 4);
				float *sc = calloc(al_act_scratch_floats(&s, n, cc, hh, ww) + 1, 4);
				al_set_threads(1);
				al_act_forward(&s, p, n, cc, hh, ww, x, y1, 1, NULL);
				al_act_backward(&s, p, n, cc, hh, ww, x, y1, dy, dx1, dp1, sc, 1, NULL);
				al_set_threads(2);
				al_act_forward(&s, p, n, cc, hh, ww, x, y2, 1, NULL);
				al_act_backward(&s, p, n, cc, hh, ww, x, y2, dy, dx2, dp2, sc, 1, NULL);
				CHECK(!memcmp(y1, y2, N * 4) && !memcmp(dx1, dx2, N * 4) &&
					      !memcmp(dp1, dp2, G * P * 4),
				      "%s (%s): 1 and 2 threads differ", spec, dense ? "dense" : "conv");
				free(p);
				free(dp1);
				free(dp2);
				free(sc);
			}
		}
	free(x);
	free(dy);
	free(y1);
	free(y2);
	free(dx1);
	free(dx2);
}

/* Windows that are tied, zero, all negative or all positive, against the
 * reference (no finite differences: ties are decision boundaries). */
TEST(window_special_windows)
{
	const int n = 1, c = 1, h = 4, w = 8; /* k=2 and k=4 windows side by side */
	static const float pats[][32] = {
		/* zeros */
		{0},
		/* all negative */
		{-1, -2, -3, -.5f, -1, -2, -3, -.5f, -1, -1, -1, -1, -4, -3, -2, -1,
		 -1, -2, -3, -.5f, -1, -2, -3, -.5f, -1, -1, -1, -1, -4, -3, -2, -1},
		/* all positive */
		{1, 2, 3, .5f, 1, 2, 3, .5f, 1, 1, 1, 1, 4, 3, 2, 1,
		 1, 2, 3, .5f, 1, 2, 3, .5f, 1, 1, 1, 1, 4, 3, 2, 1},
		/* ties at the max, mixed signs */
		{2, 2, -1, 2, 1, 1, 1, 1, -1, -1, -3, -1, 0, 0, -1, 0,
		 2, -2, 2, 2, .5f, 1, 1, -1, -1, 3, 3, -1, 0, 2, 2, 0},
		/* constants */
		{.5f, .5f, .5f, .5f, .5f, .5f, .5f, .5f, -.5f, -.5f, -.5f, -.5f, -.5f, -.5f, -.5f, -.5f,
		 .5f, .5f, .5f, .5f, .5f, .5f, .5f, .5f, -.5f, -.5f, -.5f, -.5f, -.5f, -.5f, -.5f, -.5f},
	};
	static const char *ks[] = {"k=2", "k=4", "k=3", "k=3,edges=pad", "k=1"};
	al_rng r;
	al_rng_seed(&r, 77);
	for (int pi = 0; pi < 5; pi++)
		for (int ki = 0; ki < 5; ki++)
			for (int e = 0; e < NLAM + NSEL; e++) {
				char spec[256];
				join(spec, sizeof spec, e < NLAM ? lam_entries[e] : sel_entries[e - NLAM],
				     ks[ki]);
				al_act_spec s;
				REQUIRE_OK(al_act_parse(spec, &s));
				float p[1] = {0};
				kerr E;
				kernel_vs_ref(&s, n, c, h, w, pats[pi], p, &r, &E);
				CHECK(E.y < 2e-6 && E.dx < 2e-5,
				      "%s on pattern %d: errors y %.3g dx %.3g; worst %s", spec, pi, E.y,
				      E.dx, E.where);
			}
	/* explicit tie semantics */
	const float t[4] = {1, 3, 3, -2};
	float y[4], dx[4], g[4] = {1, 1, 1, 1};
	al_act_spec s;
	REQUIRE_OK(al_act_parse("max:k=2", &s));
	al_act_forward(&s, NULL, 1, 1, 2, 2, t, y, 0, NULL);
	al_act_backward(&s, NULL, 1, 1, 2, 2, t, y, g, dx, NULL, NULL, 0, NULL);
	CHECK(y[0] == 0 && y[1] == 3 && y[2] == 3 && y[3] == 0 && dx[1] == 1 && dx[2] == 1 &&
		      dx[0] == 0,
	      "ties=all: %g %g %g %g", (double)y[0], (double)y[1], (double)y[2], (double)y[3]);
	REQUIRE_OK(al_act_parse("max_relu:k=2,ties=first", &s));
	al_act_forward(&s, NULL, 1, 1, 2, 2, t, y, 0, NULL);
	al_act_backward(&s, NULL, 1, 1, 2, 2, t, y, g, dx, NULL, NULL, 0, NULL);
	CHECK(y[1] == 3 && y[2] == 0 && dx[1] == 1 && dx[2] == 0, "ties=first: %g %g",
	      (double)y[1], (double)y[2]);
	/* a zero window: softmax weights 1/4 = tau pass (y = 0, gradient 1) */
	const float z[4] = {0, 0, 0, 0};
	REQUIRE_OK(al_act_parse("softmax_relu:k=2", &s));
	al_act_forward(&s, NULL, 1, 1, 2, 2, z, y, 0, NULL);
	al_act_backward(&s, NULL, 1, 1, 2, 2, z, y, g, dx, NULL, NULL, 0, NULL);
	CHECK(dx[0] == 1 && dx[3] == 1 && y[0] == 0, "zero window softmax: dx %g", (double)dx[0]);
	/* edges=pad: an all-negative edge tile's max is a padded zero */
	const float neg[3] = {-1, -2, -3};
	float y3[3];
	REQUIRE_OK(al_act_parse("max:k=2,edges=pad", &s));
	al_act_forward(&s, NULL, 1, 3, 1, 1, neg, y3, 0, NULL);
	CHECK(y3[0] == -1 && y3[2] == 0, "pad max: %g %g %g", (double)y3[0], (double)y3[1],
	      (double)y3[2]);
	REQUIRE_OK(al_act_parse("max:k=2", &s));
	al_act_forward(&s, NULL, 1, 3, 1, 1, neg, y3, 0, NULL);
	CHECK(y3[2] == -3, "partial max: %g", (double)y3[2]);
}

/* softmax_relu, max_relu and max read their backward masks from the
 * forward's y (recomputing them where an input is exactly 0): the result
 * equals the full recomputation (y = NULL) bit for bit. */
TEST(window_backward_from_y)
{
	const int n = 3, c = 2, h = 12, w = 13;
	size_t N = (size_t)n * c * h * w;
	float *x = malloc(N * 4), *y = malloc(N * 4), *dy = malloc(N * 4), *d1 = malloc(N * 4),
	      *d2 = malloc(N * 4);
	al_rng r;
	al_rng_seed(&r, 31);
	static const char *mods[] = {"k=2", "k=4", "k=3", "k=3,edges=pad", "k=8", "kh=2,kw=16"};
	for (int zeros = 0; zeros < 2; zeros++)
		for (int e = 0; e < NSEL; e++)
			for (int mi = 0; mi < 6; mi++) {
				for (size_t i = 0; i < N; i++) {
					x[i] = (float)urand(&r, -2, 2);
					if (zeros && i % 7 == 0)
						x[i] = 0;
					dy[i] = (float)urand(&r, -1, 1);
				}
				char spec[256];
				join(spec, sizeof spec, sel_entries[e], mods[mi]);
				al_act_spec s;
				REQUIRE_OK(al_act_parse(spec, &s));
				al_act_forward(&s, NULL, n, c, h, w, x, y, 1, NULL);
				al_act_backward(&s, NULL, n, c, h, w, x, y, dy, d1, NULL, NULL, 1, NULL);
				al_act_backward(&s, NULL, n, c, h, w, x, NULL, dy, d2, NULL, NULL, 1, NULL);
				CHECK(!memcmp(d1, d2, N * 4), "%s (zeros %d): masks from y differ", spec,
				      zeros);
			}
	free(x);
	free(y);
	free(dy);
	free(d1);
	free(d2);
}

/* softmax_relu decides most 8-column groups from a fast approximate
 * exponential (relative error up to 8.1e-5) and reruns the exact
 * computation when a weight is within its margin (relative 3e-4) of tau.
 * Here one element of every softmax group is placed at weight tau (1 + u):
 * in half the groups |u| <= 3e-3 uniformly, so many decisions fall inside
 * and just outside that margin; in the other half |u| is log-uniform in
 * [1e-5, 5e-4], so many fall where the fast exponentials alone can decide
 * wrong (|u| below about 2e-4): a certainty test that let those through
 * (or a margin below the error bound) fails here. Forward masks and
 * backward gradients must agree with the double reference wherever the
 * reference's margin exceeds the float computation's error
 * (|w - tau| >= 1e-5). */
static void softmax_near_threshold(int h, int w, int shifted);

/* W = 16: one 16-column group per band row (AVX-512 path); W = 28: the
 * last group overlaps its neighbour (as on 28x28 maps); W = 40: two full
 * groups and an overlapping one. */
TEST(window_softmax_near_threshold)
{
	softmax_near_threshold(8, 16, 0);
	softmax_near_threshold(12, 28, 0);
	softmax_near_threshold(4, 40, 0);
}

/* The same groups, each shifted by a common offset (weights unchanged up
 * to the rounding of x): with AVX-512 and tau >= 2^-30 the fast masks
 * take e^x without subtracting the group maximum, so offsets that make
 * e^x overflow (x > 88.7, the sum of four e^88.5), subnormal (x < -87)
 * or 0 (x < -104) must send the group to the exact computation, and
 * offsets just inside the range must still decide as the reference does.
 * tau = 2^-30 is the smallest tau of that path (thresholds near 2^-100
 * with the offsets below -47); tau = 0.9 * 2^-30 takes the path with the
 * maximum. A certainty test that accepted an infinite or tiny sum fails
 * here. */
TEST(window_softmax_shifted_groups)
{
	softmax_near_threshold(8, 16, 1);
	softmax_near_threshold(12, 28, 1);
}

static void softmax_near_threshold(int h, int w, int shifted)
{
	const int n = 2, c = 64;
	size_t N = (size_t)n * c * h * w;
	float *x = malloc(N * 4), *y = malloc(N * 4), *dy = malloc(N * 4), *dx = malloc(N * 4);
	double *xd = malloc(N * 8), *gd = malloc(N * 8), *lam = calloc(N, 8), *yr = malloc(N * 8),
	       *dxr = malloc(N * 8), *dlr = malloc(N * 8), *mg = malloc(N * 8);
	static const char *specs[] = {"softmax_relu:k=2",
				      "softmax_relu:k=4",
				      "softmax_relu:k=4,group=column",
				      "softmax_relu:k=2,tau=0.3",
				      "softmax_relu:k=4,tau=0.1",
				      "softmax_relu:k=2,tau=9.31322574615478515625e-10",
				      "softmax_relu:k=4,group=column,tau=9.31322574615478515625e-10",
				      "softmax_relu:k=2,tau=8.4e-10"};
	static const double offs[] = {0,   -47, -49, -60,  -86, -100, -110, -140,
				      40,  86,  87.5, 88.5, 90, 100, 1e4,  -1e4};
	const int nspec = shifted ? 8 : 5;
	al_rng r;
	al_rng_seed(&r, shifted ? 4343 : 4242);
	for (int si = 0; si < nspec; si++) {
		al_act_spec s;
		REQUIRE_OK(al_act_parse(specs[si], &s));
		int k = (int)hyp(&s, "k"), col = hyp(&s, "group") != 0;
		double tau = hyp(&s, "tau");
		for (size_t e = 0; e < N; e++) {
			x[e] = (float)urand(&r, -2, 2);
			dy[e] = (float)urand(&r, 0.5, 1);
		}
		/* per group: element t gets weight tau (1 + u) given the others */
		for (int p = 0; p < n * c; p++)
			for (int r0 = 0; r0 < h; r0 += k)
				for (int c0 = 0; c0 < w; c0 += k)
					for (int gc = 0; gc < (col ? k : 1); gc++) {
						size_t base = (size_t)p * h * w;
						int tr = (int)(al_rng_uniform(&r) * k),
						    tc = col ? gc : (int)(al_rng_uniform(&r) * k);
						double R = 0;
						for (int i = 0; i < k; i++)
							for (int j = 0; j < k; j++) {
								if ((col && j != gc) || (i == tr && j == tc))
									continue;
								R += exp(x[base + (size_t)(r0 + i) * w + c0 + j]);
							}
						double u = (p + r0 / k + c0 / k + gc) % 2
								   ? urand(&r, -3e-3, 3e-3)
								   : (al_rng_uniform(&r) < 0.5f ? -1 : 1) *
									     pow(10, urand(&r, -5, -3.3));
						double t = tau * (1 + u);
						x[base + (size_t)(r0 + tr) * w + c0 + tc] =
							(float)log(t * R / (1 - t));
						if (!shifted)
							continue;
						double off = offs[(p * 7 + r0 / k * 3 + c0 / k) % 16];
						for (int i = 0; i < k; i++)
							for (int j = 0; j < k; j++) {
								if (col && j != gc)
									continue;
								size_t e = base + (size_t)(r0 + i) * w + c0 + j;
								x[e] = (float)((double)x[e] + off);
							}
					}
		for (size_t e = 0; e < N; e++) {
			xd[e] = x[e];
			gd[e] = dy[e];
		}
		ref_eval(&s, n, c, h, w, xd, lam, gd, yr, dxr, dlr, mg);
		al_act_forward(&s, NULL, n, c, h, w, x, y, 1, NULL);
		al_act_backward(&s, NULL, n, c, h, w, x, y, dy, dx, NULL, NULL, 1, NULL);
		size_t checked = 0, band = 0, sens = 0, bad = 0;
		/* shifted: tau down to 2^-30, so a margin relative to tau */
		const double skip = shifted ? 2e-5 * tau : 1e-5;
		for (size_t e = 0; e < N; e++) {
			if (mg[e] < skip)
				continue;
			checked++;
			band += mg[e] < 3e-4 * tau;
			sens += mg[e] < 2e-4 * tau;
			if (y[e] != (float)yr[e] || dx[e] != (float)dxr[e]) {
				if (!bad++)
					test_fail(__FILE__, __LINE__,
						  "%s: element %zu (margin %.3g): y %g ref %g, dx %g ref %g",
						  specs[si], e, mg[e], (double)y[e], yr[e], (double)dx[e],
						  dxr[e]);
			}
		}
		CHECK(bad == 0, "%s: %zu of %zu decisions differ from the reference", specs[si], bad,
		      checked);
		/* the test must reach into the fast path's margin, and below
		 * the fast exponentials' error bound */
		CHECK(band > (shifted ? 50u : 100u) && sens > (shifted ? 25u : 50u),
		      "%s: only %zu / %zu elements within 3e-4 / 2e-4 tau of the threshold",
		      specs[si], band, sens);
	}
	free(x);
	free(y);
	free(dy);
	free(dx);
	free(xd);
	free(gd);
	free(lam);
	free(yr);
	free(dxr);
	free(dlr);
	free(mg);
}

/* The 16-lane fast exponential has no clamp: arguments x - M far below
 * -126 give 0 or a subnormal, which must decide the same masks as the
 * exact computation (clamped at exp(-87)); -inf itself is left out (the
 * reference's y is -inf * 0 = NaN). Windows mix values
 * 0, -40 (weight e^-40 = 4e-18, above tau = 1e-20), -50, -100, -200, -1e4,
 * -1e30 and 80 with normal data, on maps whose full bands take the 16-lane
 * path (W = 16, 28, 40). */
TEST(window_softmax_wide_spread)
{
	static const int hw[3][2] = {{8, 16}, {12, 28}, {4, 40}};
	static const char *specs[] = {"softmax_relu:k=2", "softmax_relu:k=4",
				      "softmax_relu:k=4,group=column", "softmax_relu:k=2,tau=1e-20",
				      "softmax_relu:k=4,tau=1e-20"};
	static const float vals[] = {0.0f, -40.0f, -50.0f, -100.0f, -200.0f, -1e30f, -1e4f, 80.0f};
	al_rng r;
	al_rng_seed(&r, 777);
	for (int si = 0; si < 3; si++) {
		const int n = 2, c = 5, h = hw[si][0], w = hw[si][1];
		size_t N = (size_t)n * c * h * w;
		float *x = malloc(N * 4), *y = malloc(N * 4), *dy = malloc(N * 4), *dx = malloc(N * 4);
		double *xd = malloc(N * 8), *gd = malloc(N * 8), *lam = calloc(N, 8),
		       *yr = malloc(N * 8), *dxr = malloc(N * 8), *dlr = malloc(N * 8),
		       *mg = malloc(N * 8);
		for (int sp = 0; sp < 5; sp++) {
			al_act_spec s;
			REQUIRE_OK(al_act_parse(specs[sp], &s));
			for (size_t e = 0; e < N; e++) {
				double u = al_rng_uniform(&r);
				x[e] = u < 0.6 ? vals[(int)(al_rng_uniform(&r) * 8) & 7]
					       : (float)al_rng_normal(&r);
				dy[e] = (float)urand(&r, 0.5, 1);
				xd[e] = x[e];
				gd[e] = dy[e];
			}
			ref_eval(&s, n, c, h, w, xd, lam, gd, yr, dxr, dlr, mg);
			al_act_forward(&s, NULL, n, c, h, w, x, y, 1, NULL);
			al_act_backward(&s, NULL, n, c, h, w, x, y, dy, dx, NULL, NULL, 1, NULL);
			size_t bad = 0, checked = 0;
			for (size_t e = 0; e < N; e++) {
				if (!(mg[e] >= 1e-5))
					continue;
				checked++;
				int ok = (y[e] == (float)yr[e] || (y[e] != y[e] && yr[e] != yr[e])) &&
					 dx[e] == (float)dxr[e];
				if (!ok && !bad++)
					test_fail(__FILE__, __LINE__,
						  "%s on %dx%d: element %zu (x %g): y %g ref %g, dx %g ref %g",
						  specs[sp], h, w, e, (double)x[e], (double)y[e], yr[e],
						  (double)dx[e], dxr[e]);
			}
			CHECK(bad == 0 && checked > N / 8, "%s on %dx%d: %zu of %zu differ", specs[sp], h,
			      w, bad, checked);
		}
		free(x);
		free(y);
		free(dy);
		free(dx);
		free(xd);
		free(gd);
		free(lam);
		free(yr);
		free(dxr);
		free(dlr);
		free(mg);
	}
}

/* Finite input never gives NaN (large magnitudes included); a NaN input
 * gives a NaN output in its window. */
TEST(window_nan_policy)
{
	const int n = 1, c = 2, h = 8, w = 8;
	size_t N = (size_t)n * c * h * w;
	float x[128], y[128], dx[128], dy[128];
	al_rng r;
	al_rng_seed(&r, 9);
	for (int e = 0; e < NLAM + NSEL; e++)
		for (int ki = 0; ki < 3; ki++) {
			char spec[256];
			join(spec, sizeof spec, e < NLAM ? lam_entries[e] : sel_entries[e - NLAM],
			     ki == 0 ? "k=2" : ki == 1 ? "k=4" : "k=3,edges=pad");
			al_act_spec s;
			REQUIRE_OK(al_act_parse(spec, &s));
			for (size_t i = 0; i < N; i++) {
				x[i] = (float)urand(&r, -1, 1) * (i % 3 ? 1e3f : 1e30f);
				dy[i] = 1;
			}
			al_act_forward(&s, NULL, n, c, h, w, x, y, 0, NULL);
			al_act_backward(&s, NULL, n, c, h, w, x, y, dy, dx, NULL, NULL, 0, NULL);
			int bad = 0;
			for (size_t i = 0; i < N; i++)
				bad += isnan(y[i]) || isnan(dx[i]);
			CHECK(!bad, "%s: NaN from finite input", spec);
			/* NaN at (1, 5) of channel 1: its window must show a NaN */
			for (size_t i = 0; i < N; i++)
				x[i] = (float)urand(&r, -1, 1);
			x[64 + 8 + 5] = NAN;
			al_act_forward(&s, NULL, n, c, h, w, x, y, 0, NULL);
			int kk = ki == 0 ? 2 : ki == 1 ? 4 : 3, found = 0;
			for (int rr = 0; rr < kk; rr++)
				for (int cc = (5 / kk) * kk; cc < (5 / kk) * kk + kk && cc < 8; cc++)
					found |= isnan(y[64 + rr * 8 + cc]);
			CHECK(found, "%s: NaN input vanished from its window", spec);
		}
}

/* Learned lambda: layout, names, initial values, projection. */
TEST(window_learned_lambda)
{
	al_act_spec s;
	REQUIRE_OK(al_act_parse("nelu", &s));
	CHECK(al_act_nparams(&s) == 0 && al_act_groups(&s, 3, 4, 4) == 0, "nelu has parameters");
	CHECK(strcmp(s.text, "nelu:k=4,kh=0,kw=0,edges=partial,influence=0.1,learn=0") == 0,
	      "canonical '%s'", s.text);
	REQUIRE_OK(al_act_parse("excitator:learn=1,influence=0.3,per=channel", &s));
	CHECK(al_act_nparams(&s) == 1 && al_act_groups(&s, 3, 4, 4) == 3, "layout");
	char nm[32];
	al_act_param_name(&s, 0, nm, sizeof nm);
	CHECK(strcmp(nm, "lambda") == 0, "name '%s'", nm);
	float p[3];
	al_rng r;
	al_rng_seed(&r, 1);
	al_act_init_params(&s, p, 3, &r);
	CHECK(p[0] == 0.3f && p[2] == 0.3f, "init %g", (double)p[0]);
	al_act_spec b;
	REQUIRE_OK(al_act_parse(s.text, &b));
	CHECK(strcmp(s.text, b.text) == 0, "'%s' re-parses to '%s'", s.text, b.text);
	CHECK(strstr(s.text, "per=channel") != NULL, "canonical '%s'", s.text);
	/* values outside [0, 1] act as the bound; the descriptor's projection clamps */
	const float x[16] = {1, -2, 3, -1, 2, 2, -1, .5f, 1, 1, 1, -3, -1, 2, 3, 4};
	float y1[16], y2[16], pp[1] = {1.7f}, one[1] = {1.0f};
	REQUIRE_OK(al_act_parse("nelu:learn=1", &s));
	al_act_forward(&s, pp, 1, 1, 4, 4, x, y1, 1, NULL);
	al_act_forward(&s, one, 1, 1, 4, 4, x, y2, 1, NULL);
	CHECK(!memcmp(y1, y2, sizeof y1), "lambda 1.7 does not act as 1");
	CHECK(s.desc->project != NULL, "no projection hook");
	s.desc->project(s.hyper, pp, 1, 1);
	CHECK(pp[0] == 1.0f, "projected to %g", (double)pp[0]);
	CHECK(al_act_parse("max:ties=some", &s) == AL_EINVAL && strstr(al_errmsg(), "all|first"),
	      "bad ties accepted: %s", al_errmsg());
	CHECK(al_act_parse("nelu:learn=2", &s) == AL_EINVAL, "learn=2 accepted");
}

/* A small CNN with a window activation trains a few steps without NaN and
 * its loss goes down; the act layer carries per-channel lambdas. */
TEST(window_model_step)
{
	static const char *acts[] = {"nelu:k=2", "excitator:k=2,learn=1,per=channel",
				     "softmax_relu:k=2", "max_relu:k=3,edges=pad",
				     "inhibitor_v2:k=4,learn=1"};
	for (int a = 0; a < 5; a++) {
		char cfg[512];
		snprintf(cfg, sizeof cfg,
			 "[conv]\nfilters = 3\nsize = 3\npad = 1\nact = %s\n[gap]\n[dense]\nout = "
			 "$CLASSES\n",
			 acts[a]);
		al_model_opts o = al_model_opts_default();
		o.in_c = 2;
		o.in_h = 7;
		o.in_w = 7;
		o.classes = 3;
		o.seed = 4;
		al_model *m = NULL;
		REQUIRE_OK(al_model_create_text(cfg, "window.cfg", &o, &m));
		const int n = 6;
		REQUIRE_OK(al_model_reserve(m, n));
		float x[6 * 2 * 49];
		int32_t lab[6];
		al_rng r;
		al_rng_seed(&r, 2);
		for (int i = 0; i < 6 * 98; i++)
			x[i] = (float)al_rng_normal(&r);
		for (int i = 0; i < n; i++)
			lab[i] = i % 3;
		double first = 0, last = 0;
		float dl[6 * 3];
		for (int step = 0; step < 20; step++) {
			const float *z;
			REQUIRE_OK(al_model_forward(m, x, n, 1, &z));
			double L = al_softmax_xent(z, lab, n, 3, dl);
			CHECK(isfinite(L), "%s: loss %g at step %d", acts[a], L, step);
			if (step == 0)
				first = L;
			last = L;
			al_model_zero_grad(m);
			REQUIRE_OK(al_model_backward(m, dl));
			float *p = al_model_params(m), *g = al_model_grads(m);
			size_t np = al_model_nparams(m);
			int bad = 0;
			for (size_t i = 0; i < np; i++) {
				bad += !isfinite(g[i]);
				p[i] -= 0.1f * g[i];
			}
			CHECK(!bad, "%s: non-finite gradients", acts[a]);
			al_model_project(m);
		}
		CHECK(last < first, "%s: loss %g -> %g", acts[a], first, last);
		if (a == 1)
			CHECK(al_model_nparams(m) - al_model_nweights(m) == 3, "%s: %zu act params",
			      acts[a], al_model_nparams(m) - al_model_nweights(m));
		al_model_free(m);
	}
}

/* max |a - b| / (1 + |b|); infinite when a NaN appears */
static double max_rel(const float *a, const float *b, size_t n)
{
	double m = 0;
	for (size_t i = 0; i < n; i++) {
		double e = fabs((double)a[i] - (double)b[i]) / (1 + fabs((double)b[i]));
		m = e <= m ? m : isnan(e) ? INF : e;
	}
	return m;
}

/* `actlab act eval` on (N, C, H, W) and (N, F) inputs matches the library. */
TEST(window_cli_eval)
{
	const char *dir = test_tmpdir();
	al_rng r;
	al_rng_seed(&r, 12);
	struct {
		int ndim;
		int64_t shape[4];
		const char *spec;
	} cases[] = {{4, {2, 3, 6, 5}, "nelu:k=2"},
		     {2, {4, 10}, "nelu:k=4"},
		     {4, {2, 2, 4, 4}, "excitator:k=2,learn=1,per=channel"},
		     {2, {3, 9}, "softmax_relu:k=3,edges=pad"}};
	for (int ci = 0; ci < 4; ci++) {
		size_t N = 1;
		for (int d = 0; d < cases[ci].ndim; d++)
			N *= (size_t)cases[ci].shape[d];
		float *x = malloc(N * 4), *dy = malloc(N * 4), *y = malloc(N * 4), *dx = malloc(N * 4);
		for (size_t e = 0; e < N; e++) {
			x[e] = (float)urand(&r, -2, 2);
			dy[e] = (float)urand(&r, -1, 1);
		}
		char px[512], pdy[512], py[512], pdx[512], pdp[512], cmd[4096], out[4096];
		snprintf(px, sizeof px, "%s/wx%d.npy", dir, ci);
		snprintf(pdy, sizeof pdy, "%s/wdy%d.npy", dir, ci);
		snprintf(py, sizeof py, "%s/wy%d.npy", dir, ci);
		snprintf(pdx, sizeof pdx, "%s/wdx%d.npy", dir, ci);
		snprintf(pdp, sizeof pdp, "%s/wdp%d.npy", dir, ci);
		REQUIRE_OK(al_npy_write(px, AL_NPY_F32, cases[ci].ndim, cases[ci].shape, x));
		REQUIRE_OK(al_npy_write(pdy, AL_NPY_F32, cases[ci].ndim, cases[ci].shape, dy));
		snprintf(cmd, sizeof cmd,
			 "%s act eval --act '%s' --in %s --out %s --dy %s --dx %s --dparams %s "
			 "--threads 2",
			 actlab_bin(), cases[ci].spec, px, py, pdy, pdx, pdp);
		int rc = run_cmd(cmd, out, sizeof out);
		CHECK(rc == 0, "%s: exit %d: %s", cmd, rc, out);
		if (rc != 0)
			continue;
		al_tensor ty, tdx;
		REQUIRE_OK(al_npy_read_f32(py, &ty));
		REQUIRE_OK(al_npy_read_f32(pdx, &tdx));
		CHECK(al_tensor_numel(&ty) == N && ty.ndim == cases[ci].ndim, "y shape");
		int n = (int)cases[ci].shape[0], c = (int)cases[ci].shape[1];
		int h = cases[ci].ndim == 4 ? (int)cases[ci].shape[2] : 1;
		int w = cases[ci].ndim == 4 ? (int)cases[ci].shape[3] : 1;
		al_act_spec s;
		REQUIRE_OK(al_act_parse(cases[ci].spec, &s));
		float *p = make_params(&s, c, h, w, 0, &r);
		size_t GP = al_act_groups(&s, c, h, w) * (size_t)al_act_nparams(&s);
		float *dp = calloc(GP + 1, 4), *sc = calloc(al_act_scratch_floats(&s, n, c, h, w) + 1, 4);
		al_act_forward(&s, p, n, c, h, w, x, y, 0, NULL);
		al_act_backward(&s, p, n, c, h, w, x, y, dy, dx, dp, sc, 0, NULL);
		/* the CLI may come from another build (SAN=1 tests run the release
		 * binary): vectorised reductions may round differently */
		CHECK(max_rel(y, ty.data, N) < 1e-6 && max_rel(dx, tdx.data, N) < 1e-6,
		      "%s: CLI result differs from the library", cases[ci].spec);
		if (GP) {
			al_tensor tdp;
			REQUIRE_OK(al_npy_read_f32(pdp, &tdp));
			CHECK(al_tensor_numel(&tdp) == GP && max_rel(dp, tdp.data, GP) < 1e-6,
			      "%s: dparams differ", cases[ci].spec);
			al_tensor_free(&tdp);
		}
		al_tensor_free(&ty);
		al_tensor_free(&tdx);
		free(p);
		free(dp);
		free(sc);
		free(x);
		free(dy);
		free(y);
		free(dx);
	}
}

/* Parity with the authors' batched PyTorch functions (compat modes) on
 * fixtures from tests/fixtures/gen_window.py. MANIFEST lines: case spec. */
#define WFIX "tests/fixtures/window"
TEST(window_torch_parity)
{
	FILE *f = fopen(WFIX "/MANIFEST", "r");
	REQUIRE(f, "missing %s/MANIFEST (run /usr/bin/python3 tests/fixtures/gen_window.py)", WFIX);
	char line[512];
	int cases = 0;
	while (fgets(line, sizeof line, f)) {
		char name[128], spec[256];
		if (line[0] == '#' || sscanf(line, "%127s %255s", name, spec) != 2)
			continue;
		char path[512];
		al_tensor x, dy, ty, tdx;
		snprintf(path, sizeof path, WFIX "/%s_x.npy", name);
		REQUIRE_OK(al_npy_read_f32(path, &x));
		snprintf(path, sizeof path, WFIX "/%s_dy.npy", name);
		REQUIRE_OK(al_npy_read_f32(path, &dy));
		snprintf(path, sizeof path, WFIX "/%s_y.npy", name);
		REQUIRE_OK(al_npy_read_f32(path, &ty));
		snprintf(path, sizeof path, WFIX "/%s_dx.npy", name);
		REQUIRE_OK(al_npy_read_f32(path, &tdx));
		int n = (int)x.shape[0], c = (int)x.shape[1];
		int h = x.ndim == 4 ? (int)x.shape[2] : 1, w = x.ndim == 4 ? (int)x.shape[3] : 1;
		size_t N = al_tensor_numel(&x);
		al_act_spec s;
		REQUIRE_OK(al_act_parse(spec, &s));
		float *y = malloc(N * 4), *dx = malloc(N * 4);
		al_act_forward(&s, NULL, n, c, h, w, x.data, y, 0, NULL);
		al_act_backward(&s, NULL, n, c, h, w, x.data, y, dy.data, dx, NULL, NULL, 0, NULL);
		double wy = 0, wdx = 0;
		size_t at = 0;
		for (size_t e = 0; e < N; e++) {
			double ey = fabs(y[e] - ty.data[e]) / (1 + fabs(ty.data[e]));
			double ed = fabs(dx[e] - tdx.data[e]) / (1 + fabs(tdx.data[e]));
			if (!(ey <= wy) || !(ed <= wdx))
				at = e;
			wy = fmax(wy, isnan(ey) ? INF : ey);
			wdx = fmax(wdx, isnan(ed) ? INF : ed);
		}
		CHECK(wy < 1e-5 && wdx < 1e-5,
		      "%s (%s): y err %.3g, dx err %.3g; at %zu: y %.9g torch %.9g, dx %.9g torch %.9g",
		      name, spec, wy, wdx, at, (double)y[at], (double)ty.data[at], (double)dx[at],
		      (double)tdx.data[at]);
		cases++;
		free(y);
		free(dx);
		al_tensor_free(&x);
		al_tensor_free(&dy);
		al_tensor_free(&ty);
		al_tensor_free(&tdx);
	}
	fclose(f);
	CHECK(cases >= 10, "only %d parity cases", cases);
}

/* ---- hyper-parameter validation ------------------------------------------- */
/* Bad window hypers: each is refused by the parser with a message that
 * names the spec and the offending key, and by `actlab act eval` with exit
 * code 2 and the same message. */
static const struct {
	const char *spec, *key;
} BAD_WIN[] = {
	{"nelu:k=0", "k=0"},
	{"nelu:k=-2", "k=-2"},
	{"nelu:k=2.5", "k=2.5"},
	{"nelu:k=1/2", "k=0.5"},
	{"max:k=1e12", "k=1000000000000"},
	{"pnelu:kh=1.5", "kh=1.5"},
	{"pnelu:kw=-1", "kw=-1"},
	{"max_relu:kh=2,kw=0.25", "kw=0.25"},
	{"nelu:k=learn", "k=learn"},
	{"nelu:k=two", "k=two"},
	{"nelu:influence=-0.1", "influence=-0.1"},
	{"excitator:influence=1.5", "influence=1.5"},
	{"nelu:influence=abc", "influence=abc"},
	{"nelu:influence=Learn", "influence=Learn"},
	{"nelu:influence=learn,learn=0", "influence=learn"},
	{"nelu:learn=0,influence=learn", "influence=learn"},
	{"nelu:learn=2", "learn=2"},
	{"nelu:per=channel", "per=channel"},
	{"inhibitor_v2:k=2,per=neuron", "per=neuron"},
	{"nelu:per=pixel,influence=learn", "per=pixel"},
	{"softmax_relu:per=channel", "per=channel"},
	{"max:per=layer", "per=layer"},
	{"softmax_relu:influence=learn", "influence"},
	{"softmax_relu:tau=-0.5", "tau=-0.5"},
	{"softmax_relu:tau=2", "tau=2"},
	{"softmax_relu:group=row", "group=row"},
	{"nelu:edges=zero", "edges=zero"},
	{"nelu:edges=1", "edges=1"},
	{"max:ties=last", "ties=last"},
	{"max_relu:ties=", "ties="},
	{"excitator:compat=torch", "compat=torch"},
	{"excitator_v2:compat=ref", "compat"},
	{"nelu:compat=ref", "compat"},
	{"max_relu:tau=0.3", "tau"},
};

TEST(window_bad_hypers_parse)
{
	for (size_t i = 0; i < sizeof BAD_WIN / sizeof *BAD_WIN; i++) {
		al_act_spec s;
		al_status st = al_act_parse(BAD_WIN[i].spec, &s);
		const char *msg = al_errmsg();
		CHECK(st == AL_EINVAL || st == AL_ERANGE, "%s: accepted (status %d)", BAD_WIN[i].spec,
		      (int)st);
		/* the entry's name (or the whole spec) and the key with its value */
		char name[64];
		snprintf(name, sizeof name, "%.*s", (int)strcspn(BAD_WIN[i].spec, ":"),
			 BAD_WIN[i].spec);
		CHECK(strstr(msg, name) && strstr(msg, BAD_WIN[i].key), "%s: message '%s'",
		      BAD_WIN[i].spec, msg);
	}
}

TEST(window_good_hypers_parse)
{
	static const char *good[] = {"nelu:k=2.0",
				     "nelu:k=1",
				     "nelu:kh=2,kw=3",
				     "nelu:k=1e9",
				     "nelu:influence=0",
				     "nelu:influence=1",
				     "nelu:influence=1/7",
				     "softmax_relu:tau=0",
				     "softmax_relu:tau=1,group=column",
				     "max:ties=first,edges=pad",
				     "excitator:compat=ref,influence=learn,per=neuron",
				     "nelu:influence=learn,learn=1,per=channel"};
	for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
		al_act_spec s;
		CHECK(al_act_parse(good[i], &s) == AL_OK, "%s: %s", good[i], al_errmsg());
	}
	/* influence=learn is learn=1 with the influence's value (default or
	 * given, in either order) as the initial lambda */
	static const char *same[][2] = {
		{"nelu:influence=learn", "nelu:learn=1"},
		{"nelu:k=2,influence=learn,per=channel", "nelu:k=2,learn=1,per=channel"},
		{"pnelu:influence=0.3,influence=learn", "pnelu:influence=0.3,learn=1"},
	};
	for (size_t i = 0; i < sizeof same / sizeof *same; i++) {
		al_act_spec a, b;
		REQUIRE_OK(al_act_parse(same[i][0], &a));
		REQUIRE_OK(al_act_parse(same[i][1], &b));
		CHECK(!strcmp(a.text, b.text) && al_act_nparams(&a) == 1, "%s -> %s, %s -> %s",
		      same[i][0], a.text, same[i][1], b.text);
	}
	al_act_spec s;
	REQUIRE_OK(al_act_parse("inhibitor:influence=learn,influence=0.3,per=channel", &s));
	float p[3];
	al_act_init_params(&s, p, 3, NULL);
	CHECK(p[0] == 0.3f && p[2] == 0.3f && s.per == AL_PER_CHANNEL, "initial lambda %g", (double)p[0]);
}

TEST(window_bad_hypers_cli)
{
	char px[512], py[512], out[4096], cmd[4096];
	snprintf(px, sizeof px, "%s/bx.npy", test_tmpdir());
	snprintf(py, sizeof py, "%s/by.npy", test_tmpdir());
	float x[2 * 3 * 4 * 4];
	for (int i = 0; i < 96; i++)
		x[i] = (float)(i % 7) - 3.25f;
	int64_t shape[4] = {2, 3, 4, 4};
	REQUIRE_OK(al_npy_write(px, AL_NPY_F32, 4, shape, x));
	for (size_t i = 0; i < sizeof BAD_WIN / sizeof *BAD_WIN; i++) {
		snprintf(cmd, sizeof cmd, "%s act eval --act '%s' --in %s --out %s", actlab_bin(),
			 BAD_WIN[i].spec, px, py);
		int rc = run_cmd(cmd, out, sizeof out);
		CHECK(rc == 2 && strstr(out, BAD_WIN[i].key), "%s: exit %d: %s", BAD_WIN[i].spec, rc,
		      out);
	}
	/* and a good one runs */
	snprintf(cmd, sizeof cmd, "%s act eval --act 'nelu:k=2,influence=learn' --in %s --out %s",
		 actlab_bin(), px, py);
	int rc = run_cmd(cmd, out, sizeof out);
	CHECK(rc == 0, "%s: exit %d: %s", cmd, rc, out);
}

/* ---- actlab gradcheck on window entries ------------------------------------ */
static int hyp_index(const al_act_desc *d, const char *name)
{
	for (int i = 0; i < d->nhyper; i++)
		if (!strcmp(d->hyper[i].name, name))
			return i;
	return -1;
}

/* al_act_gradcheck covers the window kinds: the float kernels' gradients
 * against differences of its double reference, at inputs placed away from
 * decision boundaries, for every entry (default and a learned lambda or a
 * mode of its own), initial and random parameters. */
TEST(window_gradcheck_lib)
{
	for (int i = 0; i < al_act_count(); i++) {
		const al_act_desc *d = al_act_get(i);
		if (d->kind != AL_ACT_WINDOW)
			continue;
		char specs[2][96];
		snprintf(specs[0], sizeof specs[0], "%s", d->name);
		if (hyp_index(d, "learn") >= 0)
			snprintf(specs[1], sizeof specs[1], "%s:k=3,edges=pad,influence=learn,per=channel",
				 d->name);
		else if (hyp_index(d, "ties") >= 0)
			snprintf(specs[1], sizeof specs[1], "%s:k=2,ties=first", d->name);
		else
			snprintf(specs[1], sizeof specs[1], "%s:k=4,group=column,edges=pad", d->name);
		for (int v = 0; v < 2; v++) {
			al_act_spec s;
			REQUIRE_OK(al_act_parse(specs[v], &s));
			al_gradcheck_result g;
			al_status st = al_act_gradcheck(&s, v, 7 + (uint64_t)v, 100, &g);
			CHECK(st == AL_OK, "%s: %s", specs[v], al_errmsg());
			if (st != AL_OK)
				continue;
			CHECK(g.points >= 384 + 252 + 39 && g.worst < 1e-4 && g.kernel_err < 1e-4,
			      "%s: %d points, gradient error %.3g at %s; forward error %.3g at %s",
			      specs[v], g.points, g.worst, g.worst_at, g.kernel_err, g.kernel_at);
		}
	}
}

TEST(window_gradcheck_cli)
{
	char out[8192];
	char cmd[1024];
	snprintf(cmd, sizeof cmd,
		 "%s gradcheck --act 'excitator_v2:k=2,influence=learn,per=neuron' --points 100 --json",
		 actlab_bin());
	int rc = run_cmd(cmd, out, sizeof out);
	CHECK(rc == 0 && strstr(out, "\"ok\": true") && !strstr(out, "skipped"), "%s: exit %d: %s",
	      cmd, rc, out);
	snprintf(cmd, sizeof cmd, "%s gradcheck --act 'max_relu:k=0' --points 100", actlab_bin());
	rc = run_cmd(cmd, out, sizeof out);
	CHECK(rc == 2 && strstr(out, "k=0"), "%s: exit %d: %s", cmd, rc, out);
}
