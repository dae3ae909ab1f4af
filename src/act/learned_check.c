/* learned_check.c — gradient checks of the learned-shape entries: finite
 * differences of the double reference (input and every parameter) and the
 * float whole-tensor kernels against the reference in every granularity,
 * on conv-shaped and dense inputs. Shared by `actlab gradcheck` and the
 * tests (through al_act_gradcheck).
 * Not for: element-wise entries (gradcheck.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act/learned.h"

static double urand(al_rng *r, double lo, double hi)
{
	return lo + (hi - lo) * (double)al_rng_uniform(r);
}

static double relerr(double a, double b) { return fabs(a - b) / (1e-3 + fabs(a) + fabs(b)); }

void al_ln_check_params(const al_act_spec *s, int random, al_rng *r, double *p)
{
	int P = al_act_nparams(s);
	float tmp[AL_LN_MAXP];
	s->desc->t_init(s->hyper, tmp, 1, r);
	for (int k = 0; k < P; k++) {
		p[k] = tmp[k];
		if (random)
			p[k] += urand(r, -0.3, 0.3) * (fabs(p[k]) + 0.3);
	}
}

static double eval(const al_act_spec *s, const double *p0, double x, int k, double v, double *pw,
		   double *g)
{
	double dx;
	memcpy(pw, p0, sizeof(double) * (size_t)al_act_nparams(s));
	if (k < 0)
		x = v;
	else
		pw[k] = v;
	return s->desc->ref(s->hyper, pw, x, &dx, g);
}

/* float kernels vs the reference on one shape and granularity */
static void check_kernels(const al_act_spec *s0, al_per per, int n, int c, int hh, int w,
			  const double *p0, al_rng *r, al_gradcheck_result *out)
{
	al_act_spec s = *s0;
	s.per = per;
	const al_act_desc *d = s.desc;
	int P = al_act_nparams(&s);
	size_t G = al_act_groups(&s, c, hh, w), N = (size_t)n * c * hh * w;
	size_t hw = (size_t)hh * w, F = (size_t)c * hw;
	size_t sc = al_act_scratch_floats(&s, n, c, hh, w);
	float *pf = malloc(G * P * sizeof *pf), *dpf = calloc(G * P, sizeof *dpf);
	float *x = malloc(N * 4), *y = malloc(N * 4), *dy = malloc(N * 4), *dx = malloc(N * 4);
	float *scr = calloc(sc + 1, 4);
	double *pd = malloc(P * sizeof *pd), *g = malloc(P * sizeof *g),
	       *acc = calloc(G * P, sizeof *acc), *aabs = calloc(G * P, sizeof *aabs);
	if (!pf || !dpf || !x || !y || !dy || !dx || !scr || !pd || !g || !acc || !aabs)
		goto done;
	for (size_t gi = 0; gi < G; gi++)
		for (int k = 0; k < P; k++) {
			double v = p0[k];
			if (gi)
				v += urand(r, -0.2, 0.2) * (fabs(v) + 0.2);
			pf[gi * P + k] = (float)v;
		}
	al_per eff = per == AL_PER_CHANNEL && hw == 1 ? AL_PER_NEURON : per;
	/* inputs away from the declared kinks of their group */
	for (size_t e = 0; e < N; e++) {
		size_t f = e % F;
		size_t gi = eff == AL_PER_LAYER ? 0 : eff == AL_PER_CHANNEL ? f / hw : f;
		for (int k = 0; k < P; k++)
			pd[k] = pf[gi * P + k];
		double kk[256];
		int nk = al_ln_kinks(&s, pd, kk, 256), near;
		do {
			x[e] = (float)urand(r, d->check_lo, d->check_hi);
			near = 0;
			for (int j = 0; j < nk; j++)
				near |= fabs((double)x[e] - kk[j]) < 1e-3;
		} while (near);
		dy[e] = (float)urand(r, -1, 1);
	}
	d->t_fwd(s.hyper, s.per, pf, n, c, hh, w, x, y);
	d->t_bwd(s.hyper, s.per, pf, n, c, hh, w, x, y, dy, dx, dpf, scr);
	for (size_t e = 0; e < N; e++) {
		size_t f = e % F;
		size_t gi = eff == AL_PER_LAYER ? 0 : eff == AL_PER_CHANNEL ? f / hw : f;
		for (int k = 0; k < P; k++)
			pd[k] = pf[gi * P + k];
		const int near = 0;
		double rdx, ry = d->ref(s.hyper, pd, (double)x[e], &rdx, g);
		double fl = 1e-6 * (1 + fabs(ry));
		double ey = fabs((double)y[e] - ry) > fl ? relerr((double)y[e], ry) : 0;
		double want = (double)dy[e] * rdx;
		double ed = near ? 0 : fabs((double)dx[e] - want) > fl ? relerr((double)dx[e], want) : 0;
		double err = ey > ed ? ey : ed;
		if (err > out->kernel_err) {
			out->kernel_err = err;
			snprintf(out->kernel_at, sizeof out->kernel_at,
				 "per=%d shape %dx%dx%dx%d x=%.9g: float y %.9g dx %.9g, reference %.9g %.9g",
				 (int)per, n, c, hh, w, (double)x[e], (double)y[e], (double)dx[e], ry,
				 want);
		}
		for (int k = 0; k < P; k++) {
			acc[gi * P + k] += (double)dy[e] * g[k];
			aabs[gi * P + k] += fabs((double)dy[e] * g[k]);
		}
	}
	for (size_t q = 0; q < G * P; q++) {
		double fl = 1e-6 * (1 + aabs[q]);
		double err = fabs((double)dpf[q] - acc[q]) > fl ? relerr((double)dpf[q], acc[q]) : 0;
		if (err > out->kernel_err) {
			char nm[64];
			al_act_param_name(&s, (int)(q % P), nm, sizeof nm);
			out->kernel_err = err;
			snprintf(out->kernel_at, sizeof out->kernel_at,
				 "per=%d shape %dx%dx%dx%d group %zu d/d%s: float %.9g, reference %.9g",
				 (int)per, n, c, hh, w, q / P, nm, (double)dpf[q], acc[q]);
		}
	}
done:
	free(pf);
	free(dpf);
	free(x);
	free(y);
	free(dy);
	free(dx);
	free(scr);
	free(pd);
	free(g);
	free(acc);
	free(aabs);
}

al_status al_ln_gradcheck(const al_act_spec *s, int random_params, uint64_t seed, int points,
			  al_gradcheck_result *out)
{
	memset(out, 0, sizeof *out);
	const al_act_desc *d = s->desc;
	int P = al_act_nparams(s);
	if (P > AL_LN_MAXP)
		return al_err(AL_EINVAL, "gradcheck: '%s' has %d parameters", d->name, P);
	al_rng r;
	al_rng_seed(&r, seed);
	double p[AL_LN_MAXP], pw[AL_LN_MAXP], g[AL_LN_MAXP], gw[AL_LN_MAXP], kk[256];
	al_ln_check_params(s, random_params, &r, p);
	int nk = al_ln_kinks(s, p, kk, 256);
	const double h = 1e-5;
	for (int i = 0; i < points; i++) {
		double x = urand(&r, d->check_lo, d->check_hi);
		int skip = 0;
		for (int j = 0; j < nk; j++)
			skip |= fabs(x - kk[j]) < 1e-2 + 4 * h;
		if (skip)
			continue;
		/* a kink not declared: one-sided slopes disagree */
		double f0 = eval(s, p, x, -1, x, pw, gw), fr = eval(s, p, x, -1, x + 4 * h, pw, gw),
		       fl = eval(s, p, x, -1, x - 4 * h, pw, gw);
		double sr = (fr - f0) / (4 * h), sl = (f0 - fl) / (4 * h);
		if (fabs(sr - sl) > 1e-3 * (1 + fabs(sr) + fabs(sl)))
			continue;
		out->points++;
		double dx;
		d->ref(s->hyper, p, x, &dx, g);
		for (int k = -1; k < P; k++) {
			double at = k < 0 ? x : p[k];
			double num = (-eval(s, p, x, k, at + 2 * h, pw, gw) +
				      8 * eval(s, p, x, k, at + h, pw, gw) -
				      8 * eval(s, p, x, k, at - h, pw, gw) +
				      eval(s, p, x, k, at - 2 * h, pw, gw)) /
				     (12 * h);
			double ana = k < 0 ? dx : g[k];
			if (k >= 0) {
				/* a parameter crossing a kink: one-sided slopes disagree */
				double c0 = eval(s, p, x, k, at, pw, gw),
				       cr = eval(s, p, x, k, at + 4 * h, pw, gw),
				       cl = eval(s, p, x, k, at - 4 * h, pw, gw);
				double qr = (cr - c0) / (4 * h), ql = (c0 - cl) / (4 * h);
				if (fabs(qr - ql) > 1e-3 * (1 + fabs(qr) + fabs(ql)))
					continue;
			}
			double e = relerr(num, ana);
			if (e > out->worst) {
				char nm[64] = "x";
				if (k >= 0)
					al_act_param_name(s, k, nm, sizeof nm);
				out->worst = e;
				snprintf(out->worst_at, sizeof out->worst_at,
					 "x=%.6g d/d%s: analytic %.9g, numeric %.9g", x, nm, ana, num);
			}
		}
	}
	/* float kernels: conv-shaped and dense inputs, every granularity */
	for (int per = 0; per < 3; per++) {
		check_kernels(s, (al_per)per, 3, 2, 3, 5, p, &r, out);
		check_kernels(s, (al_per)per, 4, 70, 1, 1, p, &r, out);
	}
	return AL_OK;
}
