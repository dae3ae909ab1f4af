/* optim.c — SGD (momentum, Nesterov, weight decay), Adam, AdamW over flat
 * parameter memory with a weights group and an activation group, and
 * learning-rate schedules. Element-wise, so threads cannot change results.
 */
#include "actlab/optim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/core.h"

struct al_optim {
	al_optim_opts o;
	size_t n, nw;
	float *m, *v; /* SGD: m = momentum buffer; Adam: first and second moments */
	int64_t t;
};

al_optim_opts al_optim_opts_default(void)
{
	al_optim_opts o = {.kind = AL_OPT_SGD, .lr = 0.01, .momentum = 0, .wd = 0, .nesterov = 0,
			   .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .act_lr = -1, .act_wd = 0};
	return o;
}

static const char *kind_names[] = {"sgd", "adam", "adamw"};

const char *al_optim_kind_name(al_opt_kind k) { return kind_names[k]; }

al_status al_optim_parse_kind(const char *name, al_opt_kind *out)
{
	for (int i = 0; i < 3; i++)
		if (strcmp(name, kind_names[i]) == 0) {
			*out = (al_opt_kind)i;
			return AL_OK;
		}
	return al_err(AL_EINVAL, "unknown optimizer '%s'; valid: sgd, adam, adamw", name);
}

al_status al_optim_create(const al_optim_opts *o, size_t nparams, size_t nweights,
			  al_optim **out)
{
	*out = NULL;
	if (!(o->lr >= 0) || !(o->momentum >= 0 && o->momentum < 1) || !(o->wd >= 0) ||
	    !(o->act_wd >= 0) || isnan(o->act_lr) || isinf(o->act_lr) ||
	    !(o->beta1 >= 0 && o->beta1 < 1) || !(o->beta2 >= 0 && o->beta2 < 1) || !(o->eps > 0))
		return al_err(AL_EINVAL,
			      "optimizer: need lr >= 0, 0 <= momentum < 1, wd >= 0, act_wd >= 0, "
			      "finite act_lr, betas in [0,1), eps > 0");
	if (o->nesterov && (o->kind != AL_OPT_SGD || o->momentum <= 0))
		return al_err(AL_EINVAL, "optimizer: nesterov needs sgd with momentum > 0");
	if (nweights > nparams)
		return al_err(AL_EINVAL, "optimizer: %zu weights > %zu parameters", nweights, nparams);
	al_optim *p = calloc(1, sizeof *p);
	if (!p)
		return al_err(AL_ENOMEM, "optimizer: out of memory");
	p->o = *o;
	p->n = nparams;
	p->nw = nweights;
	int moments = o->kind == AL_OPT_SGD ? (o->momentum > 0) : 2;
	if (moments) {
		p->m = al_calloc((size_t)moments * nparams + 1, sizeof(float));
		if (!p->m) {
			free(p);
			return al_err(AL_ENOMEM, "optimizer: cannot allocate state for %zu parameters",
				      nparams);
		}
		p->v = moments == 2 ? p->m + nparams : NULL;
	}
	*out = p;
	return AL_OK;
}

void al_optim_free(al_optim *o)
{
	if (!o)
		return;
	al_free(o->m);
	free(o);
}

float *al_optim_state(al_optim *o, size_t *n)
{
	*n = o->m ? (o->v ? 2 * o->n : o->n) : 0;
	return o->m;
}

int64_t al_optim_steps(const al_optim *o) { return o->t; }
void al_optim_set_steps(al_optim *o, int64_t t) { o->t = t; }

static void sgd_range(const al_optim *o, float *restrict p, const float *restrict g,
		      float *restrict m, size_t n, float lr, float wd)
{
	const float mom = (float)o->o.momentum;
	const int first = o->t == 1;
	if (!m) {
#pragma omp parallel for simd schedule(static) if (n > 65536)
		for (size_t i = 0; i < n; i++)
			p[i] -= lr * (g[i] + wd * p[i]);
		return;
	}
	const int nest = o->o.nesterov;
#pragma omp parallel for simd schedule(static) if (n > 65536)
	for (size_t i = 0; i < n; i++) {
		float d = g[i] + wd * p[i];
		float b = first ? d : mom * m[i] + d;
		m[i] = b;
		float u = nest ? d + mom * b : b;
		p[i] -= lr * u;
	}
}

static void adam_range(const al_optim *o, float *restrict p, const float *restrict g,
		       float *restrict m, float *restrict v, size_t n, double lr, float wd,
		       int decoupled)
{
	const float b1 = (float)o->o.beta1, b2 = (float)o->o.beta2;
	/* 1 - beta in double, as PyTorch computes it: (1.0f - 0.999f) would be off
	 * by 1.3e-5 relative */
	const float c1 = (float)(1.0 - o->o.beta1), c2 = (float)(1.0 - o->o.beta2);
	const double bc1 = 1.0 - pow(o->o.beta1, (double)o->t);
	const double bc2 = 1.0 - pow(o->o.beta2, (double)o->t);
	const float step = (float)(lr / bc1);
	const float sbc2 = (float)sqrt(bc2);
	const float eps = (float)o->o.eps;
	const float decay = (float)(1.0 - lr * (double)wd);
#pragma omp parallel for simd schedule(static) if (n > 65536)
	for (size_t i = 0; i < n; i++) {
		float pi = p[i], d = g[i];
		if (decoupled)
			pi *= decay;
		else
			d += wd * pi;
		float mi = b1 * m[i] + c1 * d;
		float vi = b2 * v[i] + c2 * d * d;
		m[i] = mi;
		v[i] = vi;
		float den = __builtin_sqrtf(vi) / sbc2 + eps;
		p[i] = pi - step * (mi / den);
	}
}

void al_optim_step(al_optim *o, float *params, const float *grads, double lr_scale)
{
	o->t++;
	struct {
		size_t b, e;
		double lr, wd;
	} groups[2] = {
		{0, o->nw, o->o.lr * lr_scale, o->o.wd},
		{o->nw, o->n, (o->o.act_lr >= 0 ? o->o.act_lr : o->o.lr) * lr_scale, o->o.act_wd},
	};
	for (int gi = 0; gi < 2; gi++) {
		size_t b = groups[gi].b, n = groups[gi].e - groups[gi].b;
		if (!n)
			continue;
		float *p = params + b;
		const float *g = grads + b;
		if (o->o.kind == AL_OPT_SGD)
			sgd_range(o, p, g, o->m ? o->m + b : NULL, n, (float)groups[gi].lr,
				  (float)groups[gi].wd);
		else
			adam_range(o, p, g, o->m + b, o->v + b, n, groups[gi].lr, (float)groups[gi].wd,
				   o->o.kind == AL_OPT_ADAMW);
	}
}

/* ---- schedules ------------------------------------------------------------ */
al_sched al_sched_default(void)
{
	al_sched s;
	memset(&s, 0, sizeof s);
	s.kind = AL_SCHED_CONSTANT;
	s.gamma = 0.1;
	return s;
}

al_status al_sched_parse(const char *text, al_sched *out)
{
	al_sched s = al_sched_default();
	s.warmup = out->warmup;
	s.epochs = out->epochs;
	char buf[256];
	snprintf(buf, sizeof buf, "%s", text);
	char *colon = strchr(buf, ':');
	if (colon)
		*colon++ = 0;
	if (strcmp(buf, "constant") == 0)
		s.kind = AL_SCHED_CONSTANT;
	else if (strcmp(buf, "step") == 0)
		s.kind = AL_SCHED_STEP;
	else if (strcmp(buf, "multistep") == 0)
		s.kind = AL_SCHED_MULTISTEP;
	else if (strcmp(buf, "cosine") == 0)
		s.kind = AL_SCHED_COSINE;
	else
		return al_err(AL_EINVAL,
			      "unknown schedule '%s'; valid: constant, step:N[,gamma=G], "
			      "multistep:E1,E2[,gamma=G], cosine[:min=F]",
			      buf);
	for (char *tok = colon ? strtok(colon, ",") : NULL; tok; tok = strtok(NULL, ",")) {
		char *end;
		if (strncmp(tok, "gamma=", 6) == 0) {
			s.gamma = strtod(tok + 6, &end);
			if (end == tok + 6 || *end || !(s.gamma > 0))
				return al_err(AL_EINVAL, "schedule '%s': bad gamma '%s'", text, tok + 6);
		} else if (strncmp(tok, "min=", 4) == 0) {
			s.min_factor = strtod(tok + 4, &end);
			if (end == tok + 4 || *end || s.min_factor < 0 || s.min_factor > 1)
				return al_err(AL_EINVAL, "schedule '%s': bad min '%s'", text, tok + 4);
		} else {
			long v = strtol(tok, &end, 10);
			if (end == tok || *end || v < 1)
				return al_err(AL_EINVAL, "schedule '%s': bad value '%s'", text, tok);
			if (s.kind == AL_SCHED_STEP && s.step_size == 0)
				s.step_size = (int)v;
			else if (s.kind == AL_SCHED_MULTISTEP && s.nmilestones < 16)
				s.milestones[s.nmilestones++] = (int)v;
			else
				return al_err(AL_EINVAL, "schedule '%s': unexpected value '%s'", text,
					      tok);
		}
	}
	if (s.kind == AL_SCHED_STEP && s.step_size < 1)
		return al_err(AL_EINVAL, "schedule step needs a period: step:N");
	if (s.kind == AL_SCHED_MULTISTEP && s.nmilestones == 0)
		return al_err(AL_EINVAL, "schedule multistep needs epochs: multistep:E1,E2");
	*out = s;
	return AL_OK;
}

double al_sched_factor(const al_sched *s, double e)
{
	int ep = (int)floor(e);
	double f = 1;
	switch (s->kind) {
	case AL_SCHED_CONSTANT: break;
	case AL_SCHED_STEP: f = pow(s->gamma, (double)(ep / s->step_size)); break;
	case AL_SCHED_MULTISTEP:
		for (int i = 0; i < s->nmilestones; i++)
			if (ep >= s->milestones[i])
				f *= s->gamma;
		break;
	case AL_SCHED_COSINE: {
		int E = s->epochs > 0 ? s->epochs : 1;
		double c = 0.5 * (1 + cos(3.141592653589793 * (double)(ep < E ? ep : E) / E));
		f = s->min_factor + (1 - s->min_factor) * c;
		break;
	}
	}
	if (s->warmup > 0 && e < s->warmup)
		f *= (e + 1e-12) / s->warmup > 1 ? 1 : (e + 1e-12) / s->warmup;
	return f;
}
