/* config.c — the resolved run configuration as key=value text: defaults,
 * setting one key from a string (CLI flags, sweep files), and round trips
 * through checkpoints. Unknown keys are errors that list the valid ones. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/train.h"

al_train_config al_train_config_default(void)
{
	al_train_config c;
	memset(&c, 0, sizeof c);
	snprintf(c.model, sizeof c.model, "lenet5");
	snprintf(c.act, sizeof c.act, "relu");
	snprintf(c.act_sites, sizeof c.act_sites, "all");
	snprintf(c.data, sizeof c.data, "fashion-mnist");
	snprintf(c.sched, sizeof c.sched, "constant");
	snprintf(c.norm, sizeof c.norm, "standard");
	c.epochs = 10;
	c.batch = 64;
	c.threads = 2;
	c.seed = 1;
	c.loss = AL_LOSS_XENT;
	c.opt = al_optim_opts_default();
	c.eval_batch = 500;
	c.kfold_seed = 1;
	c.width = 1;
	return c;
}

#define KEYS                                                                                  \
	"model, act, act_sites, data, sched, norm, out, epochs, batch, threads, seed, val, crop, " \
	"flip, loss, opt, lr, momentum, wd, nesterov, beta1, beta2, eps, act_lr, act_wd, "        \
	"warmup, eval_batch, kfold, fold, kfold_seed, skip_bad, width"

static al_status to_int(const char *key, const char *v, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long x = strtol(v, &end, 10);
	if (end == v || *end || errno)
		return al_err(AL_EINVAL, "%s: '%s' is not an integer", key, v);
	if (x < lo || x > hi)
		return al_err(AL_ERANGE, "%s: %ld outside [%ld, %ld]", key, x, lo, hi);
	*out = x;
	return AL_OK;
}

static al_status to_num(const char *key, const char *v, double lo, double hi, double *out)
{
	char *end;
	double x = strtod(v, &end);
	if (end == v || *end)
		return al_err(AL_EINVAL, "%s: '%s' is not a number", key, v);
	if (!(x >= lo && x <= hi))
		return al_err(AL_ERANGE, "%s: %g outside [%g, %g]", key, x, lo, hi);
	*out = x;
	return AL_OK;
}

static al_status to_str(const char *key, const char *v, char *dst, size_t cap)
{
	if (strlen(v) >= cap)
		return al_err(AL_EINVAL, "%s: value too long (max %zu characters)", key, cap - 1);
	if (strchr(v, '\n'))
		return al_err(AL_EINVAL, "%s: value contains a newline", key);
	memcpy(dst, v, strlen(v) + 1);
	return AL_OK;
}

al_status al_train_config_set(al_train_config *c, const char *key, const char *v)
{
	long i = 0;
	double d = 0;
#define STR(k, f) \
	if (strcmp(key, k) == 0) return to_str(key, v, c->f, sizeof c->f)
	STR("model", model);
	STR("act", act);
	STR("act_sites", act_sites);
	STR("data", data);
	STR("sched", sched);
	STR("out", out);
#undef STR
	if (strcmp(key, "norm") == 0) {
		if (strcmp(v, "standard") && strcmp(v, "none"))
			return al_err(AL_EINVAL, "norm: '%s'; valid: standard, none", v);
		return to_str(key, v, c->norm, sizeof c->norm);
	}
#define INT(k, f, lo, hi)                                 \
	if (strcmp(key, k) == 0) {                        \
		AL_TRY(to_int(key, v, lo, hi, &i));       \
		c->f = (int)i;                            \
		return AL_OK;                             \
	}
	INT("epochs", epochs, 0, 1000000);
	INT("batch", batch, 1, 1 << 20);
	INT("threads", threads, 1, 1024);
	INT("crop", augment_crop, 0, 64);
	INT("flip", augment_flip, 0, 1);
	INT("eval_batch", eval_batch, 1, 1 << 20);
	INT("nesterov", opt.nesterov, 0, 1);
	INT("fold", fold, 0, 999);
	INT("skip_bad", skip_bad, 0, 1);
	if (strcmp(key, "kfold") == 0) {
		AL_TRY(to_int(key, v, 0, 1000, &i));
		if (i == 1)
			return al_err(AL_ERANGE, "kfold: 1 fold leaves no training data; use 0 (off) "
						 "or 2..1000");
		c->kfold = (int)i;
		return AL_OK;
	}
#undef INT
	if (strcmp(key, "seed") == 0 || strcmp(key, "kfold_seed") == 0) {
		char *end;
		errno = 0;
		unsigned long long s = strtoull(v, &end, 10);
		if (end == v || *end || errno || v[0] == '-')
			return al_err(AL_EINVAL, "%s: '%s' is not a non-negative integer", key, v);
		*(key[0] == 's' ? &c->seed : &c->kfold_seed) = s;
		return AL_OK;
	}
#define NUM(k, f, lo, hi)                                 \
	if (strcmp(key, k) == 0) {                        \
		AL_TRY(to_num(key, v, lo, hi, &d));       \
		c->f = d;                                 \
		return AL_OK;                             \
	}
	NUM("val", val, 0, 0.99);
	NUM("width", width, 1.0 / 64, 64);
	NUM("lr", opt.lr, 0, 1e6);
	NUM("momentum", opt.momentum, 0, 0.999999);
	NUM("wd", opt.wd, 0, 1e6);
	NUM("beta1", opt.beta1, 0, 0.999999);
	NUM("beta2", opt.beta2, 0, 0.999999999);
	NUM("eps", opt.eps, 1e-30, 1);
	NUM("act_lr", opt.act_lr, -1, 1e6);
	NUM("act_wd", opt.act_wd, 0, 1e6);
	NUM("warmup", warmup, 0, 1e6);
#undef NUM
	if (strcmp(key, "loss") == 0) {
		if (strcmp(v, "xent") == 0 || strcmp(v, "ce") == 0)
			c->loss = AL_LOSS_XENT;
		else if (strcmp(v, "mse") == 0)
			c->loss = AL_LOSS_MSE;
		else
			return al_err(AL_EINVAL, "loss: '%s'; valid: xent, mse", v);
		return AL_OK;
	}
	if (strcmp(key, "opt") == 0)
		return al_optim_parse_kind(v, &c->opt.kind);
	return al_err(AL_EINVAL, "unknown setting '%s'; valid: " KEYS, key);
}

void al_train_config_to_text(const al_train_config *c, char *buf, size_t cap)
{
	snprintf(buf, cap,
		 "model=%s\nact=%s\nact_sites=%s\ndata=%s\nsched=%s\nnorm=%s\nout=%s\n"
		 "epochs=%d\nbatch=%d\nthreads=%d\nseed=%llu\nval=%.17g\ncrop=%d\nflip=%d\n"
		 "loss=%s\nopt=%s\nlr=%.17g\nmomentum=%.17g\nwd=%.17g\nnesterov=%d\n"
		 "beta1=%.17g\nbeta2=%.17g\neps=%.17g\nact_lr=%.17g\nact_wd=%.17g\n"
		 "warmup=%.17g\neval_batch=%d\nkfold=%d\nfold=%d\nkfold_seed=%llu\nskip_bad=%d\n",
		 c->model, c->act, c->act_sites, c->data, c->sched, c->norm, c->out, c->epochs,
		 c->batch, c->threads, (unsigned long long)c->seed, c->val, c->augment_crop,
		 c->augment_flip, c->loss == AL_LOSS_MSE ? "mse" : "xent",
		 al_optim_kind_name(c->opt.kind), c->opt.lr, c->opt.momentum, c->opt.wd,
		 c->opt.nesterov, c->opt.beta1, c->opt.beta2, c->opt.eps, c->opt.act_lr,
		 c->opt.act_wd, c->warmup, c->eval_batch, c->kfold, c->fold,
		 (unsigned long long)c->kfold_seed, c->skip_bad);
	/* only when set, so runs without it keep their identity (sweep keys) */
	if (c->width != 1) {
		size_t l = strlen(buf);
		if (l < cap)
			snprintf(buf + l, cap - l, "width=%.17g\n", c->width);
	}
}

al_status al_train_config_from_text(const char *text, al_train_config *c)
{
	*c = al_train_config_default();
	for (const char *p = text; *p;) {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		char line[1024];
		if (l >= sizeof line)
			return al_err(AL_EFORMAT, "config line too long");
		memcpy(line, p, l);
		line[l] = 0;
		char *eq = strchr(line, '=');
		if (l && !eq)
			return al_err(AL_EFORMAT, "config line '%s' has no '='", line);
		if (eq) {
			*eq = 0;
			AL_TRY(al_train_config_set(c, line, eq + 1));
		}
		p = e ? e + 1 : p + l;
	}
	return AL_OK;
}
