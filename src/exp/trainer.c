/* trainer.c — sweep runs of seed 003's trainers: `trainer = adact | molf |
 * owo-bp | cg | lm | sgd | adam` in an experiment file makes runs of
 * al_adact_run (the two-layer MLP with hinge activations, SPEC.md section
 * 4) instead of back-prop runs of al_train_run. Their settings (hidden,
 * hinges, range, init, iters, per_unit, safeguard, precision, lm_mu, ridge, plus
 * the shared data, seed, kfold, kfold_seed, val, lr, momentum, batch, wd,
 * beta1, beta2, eps), the stored configuration text, and running one: every
 * iteration is one epoch row of the store (training MSE as the training
 * loss, test accuracy and macro precision of the held-out fold or the test
 * set; with val > 0 also the accuracy on the stratified validation
 * fraction of the training samples, from which `actlab report --select
 * best-val` picks each run's early-stopping iteration), written as it
 * happens; the learned hinge values and the mean
 * learned shape are stored at the end. There is no checkpoint: an
 * interrupted trainer run starts over (its rows are cleared first).
 * Not for: parsing experiment files (sweep_file.c), SQL (store.c).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/core.h"
#include "exp/store_int.h"
#include "exp/trainer_int.h"

static const char *const keys[] = {"trainer",   "hidden",    "hinges",    "range", "init",
				   "iters",     "per_unit",  "safeguard", "precision", "lm_mu",
				   "ridge"};

/* settings of back-prop runs that a trainer run has no use for */
static const char *const train_only[] = {"model", "act",    "act_sites", "sched",  "norm",
					 "epochs", "crop",  "flip",      "loss",
					 "opt",   "nesterov",  "act_lr", "act_wd",
					 "warmup", "eval_batch", "skip_bad"};

int xt_is_key(const char *key)
{
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		if (!strcmp(key, keys[i]))
			return 1;
	return 0;
}

int xt_is_train_only_key(const char *key)
{
	for (size_t i = 0; i < sizeof train_only / sizeof *train_only; i++)
		if (!strcmp(key, train_only[i]))
			return 1;
	return 0;
}

const char *xt_keys(void)
{
	return "trainer, hidden, hinges, range, init, iters, per_unit, safeguard, precision, "
	       "lm_mu, ridge";
}

int xt_is_trainer(const char *trainer) { return trainer[0] && strcmp(trainer, "train") != 0; }

static al_status get_long(const char *key, const char *v, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long x = strtol(v, &end, 10);
	if (errno || end == v || *end || x < lo || x > hi)
		return al_err(AL_EINVAL, "%s: '%s' is not an integer in [%ld, %ld]", key, v, lo, hi);
	*out = x;
	return AL_OK;
}

static al_status get_double(const char *key, const char *v, double *out)
{
	char *end;
	errno = 0;
	double x = strtod(v, &end);
	if (errno || end == v || *end || !isfinite(x))
		return al_err(AL_EINVAL, "%s: '%s' is not a number", key, v);
	*out = x;
	return AL_OK;
}

al_status xt_set(char *trainer, size_t cap, al_adact_opts *o, const char *key, const char *v)
{
	long x = 0;
	if (!strcmp(key, "trainer")) {
		if (!strcmp(v, "train")) {
			snprintf(trainer, cap, "train");
			return AL_OK;
		}
		al_adact_algo a;
		if (al_adact_parse_algo(v, &a) != AL_OK)
			return al_err(AL_EINVAL,
				      "trainer: unknown '%s' (valid: train = back-prop of the model, or "
				      "seed 003's adact, molf, owo-bp, cg, lm, sgd, adam)",
				      v);
		o->algo = a;
		snprintf(trainer, cap, "%s", al_adact_algo_name(a));
		return AL_OK;
	}
	if (!strcmp(key, "hidden")) {
		AL_TRY(get_long(key, v, 1, 100000, &x));
		o->hidden = (int)x;
	} else if (!strcmp(key, "hinges")) {
		AL_TRY(get_long(key, v, 2, 1000, &x));
		o->hinges = (int)x;
	} else if (!strcmp(key, "iters")) {
		AL_TRY(get_long(key, v, 1, 1000000, &x));
		o->iters = (int)x;
	} else if (!strcmp(key, "per_unit")) {
		AL_TRY(get_long(key, v, 0, 1, &x));
		o->per_unit = (int)x;
	} else if (!strcmp(key, "safeguard")) {
		AL_TRY(get_long(key, v, 0, 60, &x));
		o->safeguard = (int)x;
	} else if (!strcmp(key, "range")) {
		char *end;
		errno = 0;
		double lo = strtod(v, &end);
		if (errno || end == v || *end != ',')
			return al_err(AL_EINVAL, "range: '%s' is not LO,HI", v);
		const char *h = end + 1;
		double hi = strtod(h, &end);
		if (errno || end == h || *end || !(lo < hi) || !isfinite(lo) || !isfinite(hi))
			return al_err(AL_EINVAL, "range: '%s' is not LO,HI with LO < HI", v);
		o->lo = lo;
		o->hi = hi;
	} else if (!strcmp(key, "init")) {
		if (!strcmp(v, "relu"))
			o->init_leaky = 0;
		else if (!strcmp(v, "leaky_relu"))
			o->init_leaky = 1;
		else
			return al_err(AL_EINVAL, "init: unknown '%s' (valid: relu, leaky_relu)", v);
	} else if (!strcmp(key, "precision")) {
		if (!strcmp(v, "double"))
			o->precision = AL_ADACT_DOUBLE;
		else if (!strcmp(v, "mixed"))
			o->precision = AL_ADACT_MIXED;
		else
			return al_err(AL_EINVAL, "precision: unknown '%s' (valid: double, mixed)", v);
	} else if (!strcmp(key, "lm_mu")) {
		double d = 0;
		AL_TRY(get_double(key, v, &d));
		if (!(d > 0))
			return al_err(AL_EINVAL, "lm_mu: %g must be > 0", d);
		o->lm_mu = d;
	} else if (!strcmp(key, "ridge")) {
		double d = 0;
		AL_TRY(get_double(key, v, &d));
		if (!(d >= 0))
			return al_err(AL_EINVAL, "ridge: %g must be >= 0", d);
		o->ridge = d;
	} else {
		return al_err(AL_EINVAL, "unknown trainer setting '%s' (valid: %s)", key, xt_keys());
	}
	return AL_OK;
}

void xt_model_name(const al_adact_opts *o, char *buf, size_t cap)
{
	snprintf(buf, cap, "mlp-pla:h=%d,ns=%d", o->hidden, o->hinges);
}

void xt_to_text(const al_sweep_run *r, int threads, char *buf, size_t cap)
{
	const al_adact_opts *o = &r->adact;
	const al_train_config *c = &r->config;
	char model[64], th[32] = "";
	xt_model_name(o, model, sizeof model);
	if (threads >= 0)
		snprintf(th, sizeof th, "threads=%d\n", threads);
	snprintf(buf, cap,
		 "trainer=%s\nmodel=%s\ndata=%s\nhidden=%d\nhinges=%d\nrange=%.17g,%.17g\n"
		 "init=%s\niters=%d\nper_unit=%d\nsafeguard=%d\nprecision=%s\nseed=%llu\n"
		 "lr=%.17g\nmomentum=%.17g\nbatch=%d\nbeta1=%.17g\nbeta2=%.17g\neps=%.17g\n"
		 "lm_mu=%.17g\nkfold=%d\nfold=%d\nkfold_seed=%llu\n%s",
		 al_adact_algo_name(o->algo), model, c->data, o->hidden, o->hinges, o->lo, o->hi,
		 o->init_leaky ? "leaky_relu" : "relu", o->iters, o->per_unit, o->safeguard,
		 o->precision == AL_ADACT_MIXED ? "mixed" : "double", (unsigned long long)o->seed,
		 o->lr, o->momentum, o->batch, o->beta1, o->beta2, o->eps, o->lm_mu, r->kfold,
		 r->fold, (unsigned long long)c->kfold_seed, th);
	/* only with a validation set, so configurations without one keep their
	 * stored text (and run keys) */
	size_t used = strlen(buf);
	if (c->val > 0 && used < cap)
		snprintf(buf + used, cap - used, "val=%.17g\n", c->val);
	/* likewise the regularisers, only when set */
	used = strlen(buf);
	if (o->ridge > 0 && used < cap)
		snprintf(buf + used, cap - used, "ridge=%.17g\n", o->ridge);
	used = strlen(buf);
	if (o->wd > 0 && used < cap)
		snprintf(buf + used, cap - used, "wd=%.17g\n", o->wd);
}

/* Parses what xt_to_text wrote. */
static al_status from_text(const char *text, al_adact_opts *o, al_adact_run_opts *ro,
			   char *data, size_t dcap, int *threads)
{
	*o = al_adact_opts_default();
	*ro = al_adact_run_opts_default();
	*threads = 0;
	data[0] = 0;
	char tr[16] = "";
	al_status st = AL_OK;
	for (const char *p = text; *p && st == AL_OK;) {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		char line[1024];
		snprintf(line, sizeof line, "%.*s", (int)(l < sizeof line ? l : sizeof line - 1), p);
		p = e ? e + 1 : p + l;
		char *eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = 0;
		const char *k = line, *v = eq + 1;
		long x = 0;
		double d = 0;
		if (!strcmp(k, "model"))
			continue;
		if (!strcmp(k, "data")) {
			snprintf(data, dcap, "%s", v);
		} else if (xt_is_key(k)) {
			st = xt_set(tr, sizeof tr, o, k, v);
		} else if (!strcmp(k, "seed")) {
			o->seed = strtoull(v, NULL, 10);
		} else if (!strcmp(k, "kfold_seed")) {
			ro->split_seed = strtoull(v, NULL, 10);
		} else if (!strcmp(k, "lr") || !strcmp(k, "momentum") || !strcmp(k, "beta1") ||
			   !strcmp(k, "beta2") || !strcmp(k, "eps") || !strcmp(k, "wd")) {
			st = get_double(k, v, &d);
			*(k[0] == 'l' ? &o->lr : k[0] == 'm' ? &o->momentum : !strcmp(k, "beta1") ? &o->beta1
				: !strcmp(k, "beta2") ? &o->beta2 : k[0] == 'w' ? &o->wd : &o->eps) = d;
		} else if (!strcmp(k, "batch")) {
			st = get_long(k, v, 1, 1L << 30, &x);
			o->batch = (int)x;
		} else if (!strcmp(k, "kfold")) {
			st = get_long(k, v, 0, 1000, &x);
			ro->kfold = (int)x;
		} else if (!strcmp(k, "fold")) {
			st = get_long(k, v, 0, 999, &x);
			ro->fold = (int)x;
		} else if (!strcmp(k, "val")) {
			st = get_double(k, v, &d);
			if (st == AL_OK && !(d >= 0 && d < 1))
				st = al_err(AL_EFORMAT, "trainer run: val = %g outside [0, 1)", d);
			ro->val = d;
		} else if (!strcmp(k, "threads")) {
			st = get_long(k, v, 0, 1024, &x);
			*threads = (int)x;
		} else {
			st = al_err(AL_EFORMAT, "trainer run: unknown setting '%s'", k);
		}
	}
	if (st == AL_OK && !xt_is_trainer(tr))
		st = al_err(AL_EFORMAT, "trainer run: no trainer in the stored configuration");
	if (st == AL_OK && !data[0])
		st = al_err(AL_EFORMAT, "trainer run: no data in the stored configuration");
	if (st == AL_OK && !ro->kfold)
		ro->fold = -1;
	return st;
}

typedef struct {
	al_store *s;
	int64_t run;
	const al_sweep_opts *o;
	const char *name;
	uint64_t seed;
	int iters, n_train;
	al_status st;
	char msg[512];
} iter_ctx;

static void emit(const al_sweep_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(const al_sweep_opts *o, const char *fmt, ...)
{
	if (!o || !o->on_line)
		return;
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	o->on_line(o->user, buf);
}

static void on_iter(void *user, int fold, int iter, const al_adact_iter *info, double val_acc,
		    double seconds)
{
	iter_ctx *c = user;
	if (c->st != AL_OK)
		return;
	al_epoch_stats e;
	memset(&e, 0, sizeof e);
	e.epoch = iter;
	e.train_loss = info->mse;
	e.train_acc = e.val_loss = e.test_loss = (double)NAN;
	e.val_acc = val_acc >= 0 ? val_acc : (double)NAN;
	e.test_acc = info->test_acc >= 0 ? info->test_acc : (double)NAN;
	e.macro_precision = info->test_prec >= 0 ? info->test_prec : (double)NAN;
	e.lr = info->z_mean;
	e.seconds = seconds;
	e.img_per_s = seconds > 0 ? c->n_train / seconds : 0;
	emit(c->o, "    run %lld (%s seed %llu): iteration %d/%d  train mse %.5f  test acc %.4f  "
		   "(%.2fs)",
	     (long long)c->run, c->name, (unsigned long long)c->seed, iter, c->iters, info->mse,
	     info->test_acc, seconds);
	al_status st = st_epoch(c->s, c->run, &e);
	if (st != AL_OK) {
		c->st = st;
		snprintf(c->msg, sizeof c->msg, "%s", al_errmsg());
	}
}

al_status xt_run_one(al_store *s, int64_t run_id, const char *config, const al_sweep_opts *o,
		     int *claimed)
{
	*claimed = 0;
	al_adact_opts ao;
	al_adact_run_opts ro;
	char data[512];
	int threads = 0;
	al_status st = from_text(config, &ao, &ro, data, sizeof data, &threads);
	if (st == AL_OK)
		st = al_adact_opts_check(&ao);
	AL_TRY(st_claim(s, run_id, o->retry_failed, 0, claimed));
	if (!*claimed)
		return AL_OK;
	if (st == AL_OK)
		st = st_clear_run(s, run_id);
	if (st != AL_OK) {
		char msg[600];
		snprintf(msg, sizeof msg, "stored configuration: %s", al_errmsg());
		st_failed(s, run_id, msg);
		return al_err(st, "%s", msg);
	}
	ro.data = data;
	if (o->threads > 0)
		threads = o->threads;
	if (threads > 0)
		al_set_threads(threads);
	/* the training set size for img/s: known after the run; k-fold trains on
	 * (K-1)/K of the training part, close enough for a rate */
	iter_ctx ctx = {s, run_id, o, al_adact_algo_name(ao.algo), ao.seed, ao.iters, 0, AL_OK, ""};
	{
		al_dataset tr = {0}, te = {0};
		if (al_data_load(data, &tr, &te) == AL_OK)
			ctx.n_train = ro.kfold ? tr.n - tr.n / ro.kfold : tr.n;
		al_dataset_free(&tr);
		al_dataset_free(&te);
		al_err_clear();
	}
	al_adact_report rep;
	memset(&rep, 0, sizeof rep);
	st = al_adact_run(&ao, &ro, on_iter, &ctx, &rep);
	if (st == AL_OK && ctx.st != AL_OK)
		st = al_err(ctx.st, "%s", ctx.msg);
	if (st == AL_OK && (rep.nruns != 1 || rep.runs[0].iters != ao.iters))
		st = al_err(AL_ESTATE, "trainer run stopped after %d of %d iterations",
			    rep.nruns ? rep.runs[0].iters : 0, ao.iters);
	if (st == AL_OK && !rep.runs[0].test)
		st = al_err(AL_EINVAL, "data '%s' has no test part (use a data set with test "
				       "samples, or kfold)",
			    data);
	if (st == AL_OK) {
		const al_adact_fit_result *f = &rep.runs[0];
		int trains_a = ao.algo == AL_ADACT_ADACT || ao.algo == AL_ADACT_SGD ||
			       ao.algo == AL_ADACT_ADAM;
		double *init0 = NULL;
		if (trains_a) {
			init0 = malloc((size_t)f->nh * f->ns * sizeof *init0);
			if (!init0)
				st = al_err(AL_ENOMEM, "out of memory");
			for (int k = 0; init0 && k < f->nh; k++)
				for (int j = 0; j < f->ns; j++) {
					double x = f->lo + j * f->delta;
					init0[(size_t)k * f->ns + j] =
						x > 0 ? x : ao.init_leaky ? 0.01 * x : 0;
				}
		}
		if (st == AL_OK)
			st = st_finish_rows(s, run_id, f->iters, f->nparams, "adact-pla", f->nh, f->ns,
					    f->lo, f->delta, init0, trains_a ? f->hinges : NULL);
		free(init0);
	}
	if (st != AL_OK) {
		char msg[1024];
		snprintf(msg, sizeof msg, "%s", al_errmsg());
		st_failed(s, run_id, msg);
		al_err(st, "%s", msg);
	}
	al_adact_report_free(&rep);
	return st;
}
