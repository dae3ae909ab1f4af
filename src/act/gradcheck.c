/* gradcheck.c — finite-difference checks of catalog entries, shared by
 * `actlab gradcheck` and the tests. Element-wise entries are checked on
 * their double reference (FD vs analytic) and their float kernels against
 * that reference; window entries by their float kernels' gradients against
 * differences of a double reference (window_ref.c). Not for: layer or model
 * gradients (tests/test_model.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act/learned.h"
#include "act/window.h"
#include "actlab/act.h"

static double urand(al_rng *r, double lo, double hi)
{
	return lo + (hi - lo) * (double)al_rng_uniform(r);
}

void al_act_random_params(const al_act_spec *s, al_rng *r, double *p)
{
	const al_act_desc *d = s->desc;
	for (int k = 0; k < d->nparams; k++) {
		double v = s->init[k] + urand(r, -0.3, 0.3) * (fabs(s->init[k]) + 0.5);
		if (al_param_bounded(&d->params[k])) {
			if (v < d->params[k].lo)
				v = d->params[k].lo + 0.1 * (fabs(d->params[k].lo) + 0.1);
			if (v > d->params[k].hi)
				v = d->params[k].hi;
		}
		p[k] = v;
	}
}

static double eval(const al_act_spec *s, const double *p0, double x, int k, double v)
{
	double p[AL_ACT_MAXP], dx, dp[AL_ACT_MAXP];
	memcpy(p, p0, sizeof p);
	if (k < 0)
		x = v;
	else
		p[k] = v;
	return s->desc->ref(s->hyper, p, x, &dx, dp);
}

static double relerr(double a, double b) { return fabs(a - b) / (1e-3 + fabs(a) + fabs(b)); }


/* ---- window entries ---------------------------------------------------------- */
/* Window entries are piecewise linear in x and lambda: away from decision
 * boundaries (signs, window maxima, ties, thresholds of the masks) central
 * differences of the double reference are exact up to rounding. Inputs are
 * drawn with |x| >= 0.05 and every coordinate (and every lambda) is then
 * checked to lie in a linear piece at least WIN_MARGIN wide (second
 * differences of the whole output vanish); coordinates that do not are
 * redrawn. The float kernels' dx and dlambda (al_act_backward) are compared
 * with these differences and their forward with the reference. */
#define WIN_MARGIN 0.02
#define WIN_LMARGIN 1e-3

typedef struct {
	const al_act_spec *s;
	int n, c, h, w;
	size_t N, G;
	double *x, *lam, *p, *y0, *y1, *y2; /* lam: per element, from p */
} wck;

static size_t win_group(const wck *k, size_t e)
{
	size_t hw = (size_t)k->h * (size_t)k->w, F = (size_t)k->c * hw;
	switch (k->s->per) {
	case AL_PER_LAYER: return 0;
	case AL_PER_CHANNEL: return (e % F) / hw;
	default: return e % F;
	}
}

static void win_lam(wck *k)
{
	double infl = k->s->hyper[AL_WIN_INFLUENCE];
	for (size_t e = 0; e < k->N; e++)
		k->lam[e] = k->G ? k->p[win_group(k, e)] : infl;
}

static void win_fwd(wck *k, double *y)
{
	win_lam(k);
	al_win_ref_forward(k->s, k->n, k->c, k->h, k->w, k->x, k->lam, y);
}

/* whether the output is linear along v (a coordinate of x or p) over
 * [v - m, v + m] */
static int win_linear(wck *k, double *v, double m)
{
	double v0 = *v;
	win_fwd(k, k->y0);
	*v = v0 + m;
	win_fwd(k, k->y1);
	*v = v0 - m;
	win_fwd(k, k->y2);
	*v = v0;
	for (size_t e = 0; e < k->N; e++) {
		double d2 = k->y1[e] - 2 * k->y0[e] + k->y2[e];
		if (fabs(d2) > 1e-9 * (1 + fabs(k->y0[e])))
			return 0;
	}
	return 1;
}

/* 4-point central difference of L = sum g y along v */
static double win_fd(wck *k, double *v, const double *g)
{
	const double hs = 1e-5, st[4] = {2, 1, -1, -2}, wt[4] = {-1, 8, -8, 1};
	double v0 = *v, num = 0;
	for (int t = 0; t < 4; t++) {
		*v = v0 + st[t] * hs;
		win_fwd(k, k->y1);
		double L = 0;
		for (size_t e = 0; e < k->N; e++)
			L += g[e] * k->y1[e];
		num += wt[t] * L;
	}
	*v = v0;
	return num / (12 * hs);
}

static double win_draw(al_rng *r)
{
	double a = urand(r, 0.05, 2);
	return al_rng_uniform(r) < 0.5f ? -a : a;
}

static al_status win_check_shape(const al_act_spec *s, int random_params_on, al_rng *r, int n,
				 int c, int h, int w, al_gradcheck_result *out)
{
	wck k = {.s = s, .n = n, .c = c, .h = h, .w = w};
	k.N = (size_t)n * (size_t)c * (size_t)h * (size_t)w;
	k.G = al_act_groups(s, c, h, w);
	size_t N = k.N, G = k.G;
	double *buf = calloc(7 * N + 2 * G + 1, sizeof *buf);
	float *fb = calloc(5 * N + 2 * G + al_act_scratch_floats(s, n, c, h, w) + 1, sizeof *fb);
	if (!buf || !fb) {
		free(buf);
		free(fb);
		return al_err(AL_ENOMEM, "gradcheck: buffers for '%s'", s->text);
	}
	k.x = buf;
	k.lam = buf + N;
	k.y0 = buf + 2 * N;
	k.y1 = buf + 3 * N;
	k.y2 = buf + 4 * N;
	double *g = buf + 5 * N, *yr = buf + 6 * N;
	k.p = buf + 7 * N;
	float *xf = fb, *yf = fb + N, *gf = fb + 2 * N, *dxf = fb + 3 * N, *pf = fb + 5 * N,
	      *dpf = pf + G, *sc = dpf + G;
	/* parameters: the initial lambda, or random ones away from the clamps;
	 * float-representable values so that kernel and reference see the same */
	float l0 = (float)s->hyper[AL_WIN_INFLUENCE];
	for (size_t q = 0; q < G; q++) {
		pf[q] = random_params_on ? (float)urand(r, 0.05, 0.95) : l0;
		k.p[q] = (double)pf[q];
	}
	for (size_t e = 0; e < N; e++) {
		k.x[e] = (double)(float)win_draw(r);
		gf[e] = (float)urand(r, -1, 1);
		g[e] = (double)gf[e];
	}
	/* place x away from decision boundaries */
	int placed = 0;
	for (int pass = 0; pass < 200 && !placed; pass++) {
		placed = 1;
		for (size_t e = 0; e < N; e++)
			if (!win_linear(&k, &k.x[e], WIN_MARGIN)) {
				k.x[e] = (double)(float)win_draw(r);
				placed = 0;
			}
		for (size_t q = 0; q < G && placed; q++)
			if (!win_linear(&k, &k.p[q], WIN_LMARGIN)) {
				size_t e = (size_t)(al_rng_uniform(r) * (float)N) % N;
				k.x[e] = (double)(float)win_draw(r);
				placed = 0;
			}
	}
	if (!placed) {
		free(buf);
		free(fb);
		return al_err(AL_ENUMERIC,
			      "gradcheck: could not place inputs of '%s' away from its decision "
			      "boundaries",
			      s->text);
	}
	/* float kernels */
	for (size_t e = 0; e < N; e++)
		xf[e] = (float)k.x[e];
	al_act_forward(s, G ? pf : NULL, n, c, h, w, xf, yf, 0, NULL);
	al_act_backward(s, G ? pf : NULL, n, c, h, w, xf, yf, gf, dxf, dpf, sc, 0, NULL);
	win_fwd(&k, yr);
	char shape[48];
	snprintf(shape, sizeof shape, "[%d,%d,%d,%d]", n, c, h, w);
	for (size_t e = 0; e < N; e++) {
		double ek = relerr((double)yf[e], yr[e]);
		if (fabs((double)yf[e] - yr[e]) <= 1e-6 * (1 + fabs(yr[e])))
			ek = 0;
		if (ek > out->kernel_err) {
			out->kernel_err = ek;
			snprintf(out->kernel_at, sizeof out->kernel_at,
				 "%s element %zu: x=%.9g float y %.9g, reference %.9g", shape, e,
				 k.x[e], (double)yf[e], yr[e]);
		}
	}
	for (size_t v = 0; v < N + G; v++) {
		double *at = v < N ? &k.x[v] : &k.p[v - N];
		double num = win_fd(&k, at, g);
		double ana = v < N ? (double)dxf[v] : (double)dpf[v - N];
		double e = relerr(num, ana);
		if (fabs(num - ana) <= 1e-6 * (1 + fabs(num)))
			e = 0; /* float rounding of the kernel */
		out->points++;
		if (e > out->worst) {
			out->worst = e;
			snprintf(out->worst_at, sizeof out->worst_at,
				 "%s %s %zu (at %.6g): float kernel %.9g, differences %.9g", shape,
				 v < N ? "d/dx element" : "d/dlambda group", v < N ? v : v - N,
				 v < N ? k.x[v] : k.p[v - N], ana, num);
		}
	}
	free(buf);
	free(fb);
	return AL_OK;
}

/* Conv shapes whose maps do and do not divide by the window, and a dense one. */
static al_status win_gradcheck(const al_act_spec *s, int random_params_on, uint64_t seed,
			       int points, al_gradcheck_result *out)
{
	static const int shapes[][4] = {{2, 3, 8, 8}, {2, 2, 7, 9}, {3, 13, 1, 1}};
	al_rng r;
	al_rng_seed(&r, seed);
	int rounds = points < 100 ? 1 : points / 100;
	for (int t = 0; t < rounds; t++)
		for (int i = 0; i < 3; i++)
			AL_TRY(win_check_shape(s, random_params_on, &r, shapes[i][0], shapes[i][1],
					       shapes[i][2], shapes[i][3], out));
	return AL_OK;
}

al_status al_act_gradcheck(const al_act_spec *s, int random_params_on, uint64_t seed, int points,
			   al_gradcheck_result *out)
{
	memset(out, 0, sizeof *out);
	const al_act_desc *d = s->desc;
	if (d->kind == AL_ACT_LEARNED && d->ref)
		return al_ln_gradcheck(s, random_params_on, seed, points, out);
	if (d->kind == AL_ACT_WINDOW)
		return win_gradcheck(s, random_params_on, seed, points, out);
	if (d->kind != AL_ACT_ELEMENT || !d->ref)
		return al_err(AL_EUNSUPPORTED, "gradcheck: '%s' is a %s entry; its checks run in the "
					       "test suite",
			      d->name, "learned");
	al_rng r;
	al_rng_seed(&r, seed);
	double p[AL_ACT_MAXP] = {0};
	for (int k = 0; k < d->nparams; k++)
		p[k] = s->init[k];
	if (random_params_on)
		al_act_random_params(s, &r, p);
	const double h = 1e-5;
	double kinks[8];
	int nk = d->kinks ? d->kinks(s->hyper, p, kinks) : 0;
	float pf[AL_ACT_MAXP];
	double pd[AL_ACT_MAXP];
	for (int k = 0; k < d->nparams; k++) {
		pf[k] = (float)p[k];
		pd[k] = (double)pf[k];
	}
	for (int i = 0; i < points; i++) {
		double x = urand(&r, d->check_lo, d->check_hi);
		int skip = 0;
		for (int j = 0; j < nk; j++)
			skip |= fabs(x - kinks[j]) < 1e-2 + 4 * h;
		if (skip)
			continue;
		out->points++;
		double dx, dp[AL_ACT_MAXP];
		d->ref(s->hyper, p, x, &dx, dp);
		for (int k = -1; k < d->nparams; k++) {
			double at = k < 0 ? x : p[k];
			double num = (-eval(s, p, x, k, at + 2 * h) + 8 * eval(s, p, x, k, at + h) -
				      8 * eval(s, p, x, k, at - h) + eval(s, p, x, k, at - 2 * h)) /
				     (12 * h);
			double ana = k < 0 ? dx : dp[k];
			double e = relerr(num, ana);
			if (e > out->worst) {
				out->worst = e;
				snprintf(out->worst_at, sizeof out->worst_at,
					 "x=%.6g d/d%s: analytic %.9g, numeric %.9g", x,
					 k < 0 ? "x" : d->params[k].name, ana, num);
			}
		}
		/* float kernels at the same point, with the float parameters */
		if (d->stochastic)
			continue;
		float xf = (float)x, yf, gf = 1.0f, dxf, dpf[AL_ACT_MAXP] = {0};
		al_act_args a = {.h = s->hyper};
		float *dpp[AL_ACT_MAXP];
		for (int k = 0; k < d->nparams; k++) {
			a.p[k] = &pf[k];
			dpp[k] = &dpf[k];
		}
		d->fwd(&a, 1, &xf, &yf);
		d->bwd(&a, 1, &xf, &yf, &gf, &dxf, dpp);
		double rdx, rdp[AL_ACT_MAXP];
		double ry = d->ref(s->hyper, pd, (double)xf, &rdx, rdp);
		/* float noise floor ~ 1e-7 (1 + |x|) (see docs/design.md) */
		double fl = 1e-7 * (1 + fabs(x));
		double ey = fabs((double)yf - ry) > fl ? relerr((double)yf, ry) : 0;
		double ed = fabs((double)dxf - rdx) > fl ? relerr((double)dxf, rdx) : 0;
		for (int k = 0; k < d->nparams; k++) {
			double e = fabs((double)dpf[k] - rdp[k]) > fl ? relerr((double)dpf[k], rdp[k]) : 0;
			ed = e > ed ? e : ed;
		}
		double e = ey > ed ? ey : ed;
		if (e > out->kernel_err) {
			out->kernel_err = e;
			snprintf(out->kernel_at, sizeof out->kernel_at,
				 "x=%.9g: float y %.9g dy/dx %.9g, reference %.9g %.9g", (double)xf,
				 (double)yf, (double)dxf, ry, rdx);
		}
	}
	return AL_OK;
}
