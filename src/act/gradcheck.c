/* gradcheck.c — finite-difference checks of catalog entries, shared by
 * `actlab gradcheck` and the tests. Element-wise entries are checked on
 * their double reference (FD vs analytic) and their float kernels against
 * that reference. Not for: layer or model gradients (tests/test_model.c). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "act/learned.h"
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

al_status al_act_gradcheck(const al_act_spec *s, int random_params_on, uint64_t seed, int points,
			   al_gradcheck_result *out)
{
	memset(out, 0, sizeof *out);
	const al_act_desc *d = s->desc;
	if (d->kind == AL_ACT_LEARNED && d->ref)
		return al_ln_gradcheck(s, random_params_on, seed, points, out);
	if (d->kind != AL_ACT_ELEMENT || !d->ref)
		return al_err(AL_EUNSUPPORTED, "gradcheck: '%s' is a %s entry; its checks run in the "
					       "test suite",
			      d->name, d->kind == AL_ACT_WINDOW ? "window" : "learned");
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
