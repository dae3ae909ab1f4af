/* train.c — the training loop, evaluation and metrics.
 *
 * Randomness: shuffle order of epoch e comes from al_rng_derive(seed, e),
 * augmentation of sample i in epoch e from a stream keyed by (e, i), and
 * dropout/stochastic activations of step t from a stream keyed by t; so
 * results do not depend on threads and resume is exact.
 * img/s counts the training loop only (batch assembly, forward, backward,
 * update), not data loading or evaluation.
 * Data-parallel runs (hooks->comm, supplied by src/dist/): each rank takes
 * its shard of every batch, scales its loss gradient by shard/batch, and
 * the gradients are summed over ranks before the (identical) update. Every
 * failure is made collective (a flag summed after each step, then agree()),
 * so no rank is left waiting in a collective call for one that quit.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actlab/train.h"

void al_train_result_free(al_train_result *r)
{
	if (r) {
		al_free(r->epochs);
		r->epochs = NULL;
	}
}

static int argmax(const float *z, int k)
{
	int b = 0;
	for (int j = 1; j < k; j++)
		if (z[j] > z[b])
			b = j;
	return b;
}

al_status al_evaluate(al_model *m, const al_dataset *d, const int32_t *idx, int n,
		      const al_norm *norm, int batch, al_loss_kind loss, al_eval_stats *out)
{
	memset(out, 0, sizeof *out);
	int k = al_model_classes(m);
	if (d->classes > k)
		return al_err(AL_EINVAL, "evaluate: data has %d classes, model outputs %d",
			      d->classes, k);
	if (!idx)
		n = d->n;
	if (n <= 0)
		return AL_OK;
	size_t per = (size_t)d->c * (size_t)d->h * (size_t)d->w;
	float *x = al_malloc((size_t)batch * per * sizeof(float));
	int32_t *y = al_malloc((size_t)batch * sizeof(int32_t));
	int32_t *ids = al_malloc((size_t)batch * sizeof(int32_t));
	long *tp = calloc((size_t)k, sizeof(long)), *fp = calloc((size_t)k, sizeof(long)),
	     *cnt = calloc((size_t)k, sizeof(long));
	al_status st = AL_OK;
	if (!x || !y || !ids || !tp || !fp || !cnt) {
		st = al_err(AL_ENOMEM, "evaluate: out of memory");
		goto done;
	}
	double total = 0;
	long correct = 0;
	for (int b = 0; b < n; b += batch) {
		int bn = n - b < batch ? n - b : batch;
		for (int i = 0; i < bn; i++)
			ids[i] = idx ? idx[b + i] : b + i;
		al_batch_assemble(d, ids, bn, norm, NULL, NULL, 0, x, y);
		const float *z;
		st = al_model_forward(m, x, bn, 0, &z);
		if (st != AL_OK)
			goto done;
		total += (loss == AL_LOSS_MSE ? al_mse_onehot(z, y, bn, k, NULL)
					       : al_softmax_xent(z, y, bn, k, NULL)) *
			 bn;
		for (int i = 0; i < bn; i++) {
			int p = argmax(z + (size_t)i * k, k);
			cnt[y[i]]++;
			if (p == y[i]) {
				correct++;
				tp[p]++;
			} else {
				fp[p]++;
			}
		}
	}
	out->loss = total / n;
	out->acc = (double)correct / n;
	double mp = 0, wp = 0, mr = 0, mf = 0;
	int present = 0;
	for (int c = 0; c < k; c++) {
		double prec = tp[c] + fp[c] ? (double)tp[c] / (double)(tp[c] + fp[c]) : 0;
		double rec = cnt[c] ? (double)tp[c] / (double)cnt[c] : 0;
		mp += prec;
		wp += prec * (double)cnt[c] / n;
		mr += rec;
		mf += prec + rec > 0 ? 2 * prec * rec / (prec + rec) : 0;
		present++;
	}
	out->macro_precision = mp / present;
	out->weighted_precision = wp;
	out->macro_recall = mr / present;
	out->macro_f1 = mf / present;
done:
	al_free(x);
	al_free(y);
	al_free(ids);
	free(tp);
	free(fp);
	free(cnt);
	return st;
}

static void progress(int epoch, int epochs, long done, long total, double ips, double loss,
		     double elapsed)
{
	int width = 30, fill = total ? (int)(width * done / total) : width;
	double eta = ips > 0 ? (double)(total - done) / ips : 0;
	fprintf(stderr, "\repoch %d/%d [", epoch, epochs);
	for (int i = 0; i < width; i++)
		fputc(i < fill ? '=' : (i == fill ? '>' : ' '), stderr);
	fprintf(stderr, "] %ld/%ld %.1fk img/s ETA %02d:%02d loss %.4f   ", done, total,
		ips / 1000, (int)eta / 60, (int)eta % 60, loss);
	(void)elapsed;
	fflush(stderr);
}

static al_status mkdir_p(const char *dir)
{
	char tmp[512];
	snprintf(tmp, sizeof tmp, "%s", dir);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			mkdir(tmp, 0755);
			*p = '/';
		}
	if (mkdir(tmp, 0755) != 0) {
		struct stat sb;
		if (stat(tmp, &sb) != 0 || !S_ISDIR(sb.st_mode))
			return al_err(AL_EIO, "cannot create run folder '%s'", dir);
	}
	return AL_OK;
}

/* Learned activation parameters per layer, appended to act_params.csv. */
static void log_act_params(FILE *f, al_model *m, int epoch)
{
	for (int i = 0; i < al_model_act_layers(m); i++) {
		const char *name;
		const al_act_spec *spec;
		const float *p;
		size_t groups;
		al_model_act_layer(m, i, &name, &spec, &p, &groups);
		int P = al_act_nparams(spec);
		for (size_t g = 0; g < groups; g++)
			for (int k = 0; k < P; k++) {
				char pn[64];
				al_act_param_name(spec, k, pn, sizeof pn);
				fprintf(f, "%d,%s,%s,%zu,%s,%.9g\n", epoch, name, spec->desc->name, g, pn,
					(double)p[g * (size_t)P + (size_t)k]);
			}
	}
	fflush(f);
}

/* An activation layer that rewrote its shape at an epoch end (verbose). */
static void report_epoch_end(void *user, const char *layer, const al_act_spec *spec)
{
	(void)user;
	if (spec->desc->n_state_hyper == 2)
		fprintf(stderr, "%s (%s): %s %g, %s %g\n", layer, spec->desc->name,
			spec->desc->hyper[spec->desc->state_hyper[0]].name,
			spec->hyper[spec->desc->state_hyper[0]],
			spec->desc->hyper[spec->desc->state_hyper[1]].name,
			spec->hyper[spec->desc->state_hyper[1]]);
}

static al_status prepare_loaded(const al_train_config *c, al_dataset *train, al_dataset *test);

static void warn_stderr(void *user, const char *msg)
{
	(void)user;
	fprintf(stderr, "warning: %s\n", msg);
}

al_status al_train_load_data(const al_train_config *c, al_dataset *train, al_dataset *test)
{
	al_data_opts dopt = al_data_opts_default();
	dopt.skip_bad = c->skip_bad;
	dopt.warn = warn_stderr;
	AL_TRY(al_data_load_with(c->data, &dopt, train, test));
	al_status st = prepare_loaded(c, train, test);
	if (st != AL_OK) {
		al_dataset_free(train);
		al_dataset_free(test);
	}
	return st;
}

static al_status prepare_loaded(const al_train_config *c, al_dataset *train, al_dataset *test)
{
	al_status st = AL_OK;
	if (train->crop_src && c->augment_crop > 0)
		return al_err(AL_EINVAL, "%s: rcrop= already crops at random; drop --crop", c->data);
	if (train->features && (c->augment_crop > 0 || c->augment_flip))
		return al_err(AL_EINVAL, "%s: --crop and --flip augment images; this data is tabular",
			      c->data);
	al_model_opts mo = al_model_opts_default();
	mo.classes = train->classes;
	int mc, mh, mw;
	AL_TRY(al_model_declared_input(c->model, &mo, &mc, &mh, &mw));
	if (mc || mh || mw) {
		mc = mc ? mc : train->c;
		mh = mh ? mh : train->h;
		mw = mw ? mw : train->w;
		char what[320];
		st = al_dataset_adapt(train, mc, mh, mw, what, sizeof what);
		if (st == AL_OK)
			st = al_dataset_adapt(test, mc, mh, mw, NULL, 0);
		if (st != AL_OK)
			return al_err_ctx(st, "model %s", c->model);
		if (what[0])
			fprintf(stderr, "note: %s (model %s)\n", what, c->model);
	}
	if (c->kfold) {
		if (c->fold >= c->kfold)
			return al_err(AL_ERANGE, "fold %d outside [0, %d) for kfold=%d", c->fold, c->kfold,
				      c->kfold);
		int32_t *tr = NULL, *te = NULL;
		int ntr = 0, nte = 0;
		AL_TRY(al_kfold_split(train->labels, train->n, train->classes, c->kfold, c->fold,
				      c->kfold_seed, &tr, &ntr, &te, &nte));
		al_dataset ftr = {0}, fte = {0};
		char sfx[48];
		snprintf(sfx, sizeof sfx, "[fold %d/%d]", c->fold, c->kfold);
		st = al_dataset_subset(train, tr, ntr, sfx, &ftr);
		if (st == AL_OK)
			st = al_dataset_subset(train, te, nte, sfx, &fte);
		al_free(tr);
		al_free(te);
		if (st != AL_OK) {
			al_dataset_free(&ftr);
			return st;
		}
		al_dataset_free(train);
		al_dataset_free(test);
		*train = ftr;
		*test = fte;
	}
	return AL_OK;
}

/* Train/validation indices from the data set's own validation list. */
static al_status own_split(const al_dataset *d, int32_t **tr, int *ntr, int32_t **va, int *nva)
{
	*tr = al_malloc((size_t)d->n * sizeof **tr);
	*va = al_malloc((size_t)d->nval * sizeof **va);
	uint8_t *is_val = al_calloc((size_t)d->n, 1);
	if (!*tr || !*va || !is_val) {
		al_free(is_val);
		return al_err(AL_ENOMEM, "split of '%s': out of memory", d->name);
	}
	for (int i = 0; i < d->nval; i++)
		is_val[d->val_idx[i]] = 1;
	*ntr = *nva = 0;
	for (int i = 0; i < d->n; i++) {
		if (is_val[i])
			(*va)[(*nva)++] = i;
		else
			(*tr)[(*ntr)++] = i;
	}
	al_free(is_val);
	return AL_OK;
}

al_status al_train_run(const al_train_config *cin, const al_train_hooks *hooks,
		       al_train_result *out)
{
	memset(out, 0, sizeof *out);
	al_train_config c = *cin;
	al_train_hooks hk = {0};
	if (hooks)
		hk = *hooks;
	const al_train_comm *cm = hk.comm && hk.comm->size > 1 ? hk.comm : NULL;
	const int rank0 = !cm || cm->rank == 0;
	int synced = 0; /* every rank passed setup (agree() was called) */
	if (!rank0) {
		c.out[0] = 0;
		hk.progress = hk.verbose = 0;
		hk.on_epoch = NULL;
	}
	if (c.opt.act_lr < 0)
		c.opt.act_lr = c.opt.lr;
	al_set_threads(c.threads);
	double t_start = al_now();

	al_dataset train = {0}, test = {0};
	al_model *m = NULL;
	al_optim *opt = NULL;
	int32_t *tr_idx = NULL, *va_idx = NULL, *order = NULL, *y = NULL;
	float *x = NULL, *dz = NULL;
	FILE *log = NULL, *plog = NULL;
	al_checkpoint ck = {0};
	al_norm norm;
	int ntr = 0, nva = 0;
	al_model_opts mo = al_model_opts_default();
	al_status st = al_train_load_data(&c, &train, &test);
	if (st != AL_OK)
		goto done;
	norm = strcmp(c.norm, "none") == 0 ? al_norm_none(train.c) : (al_norm){0};
	if (strcmp(c.norm, "standard") == 0)
		al_norm_compute(&train, &norm);
	if (c.val == 0 && train.nval > 0) {
		/* the data set's own validation split (Caltech-101's 15%) */
		st = own_split(&train, &tr_idx, &ntr, &va_idx, &nva);
	} else {
		st = al_data_split(&train, c.val, c.seed, &tr_idx, &ntr, &va_idx, &nva);
	}
	if (st != AL_OK)
		goto done;
	if (ntr == 0) {
		st = al_err(AL_EINVAL, "no training samples");
		goto done;
	}
	mo.act = c.act;
	mo.act_sites = c.act_sites;
	mo.in_c = train.c;
	mo.in_h = train.h;
	mo.in_w = train.w;
	mo.classes = train.classes;
	mo.seed = c.seed;
	mo.width = c.width;
	st = al_model_create(c.model, &mo, &m);
	if (st != AL_OK)
		goto done;
	st = al_optim_create(&c.opt, al_model_nparams(m), al_model_nweights(m), &opt);
	if (st != AL_OK)
		goto done;
	al_sched sched = al_sched_default();
	sched.epochs = c.epochs;
	sched.warmup = c.warmup;
	st = al_sched_parse(c.sched, &sched);
	if (st != AL_OK)
		goto done;

	int start_epoch = 0;
	if (hk.resume) {
		st = al_checkpoint_load(hk.resume, &ck);
		if (st != AL_OK)
			goto done;
		/* older formats: less activation state (al_model_nstate_format) */
		size_t want_ns = al_model_nstate_format(m, ck.version);
		if (strcmp(ck.cfg_text, al_model_cfg_text(m)) != 0 ||
		    strcmp(ck.config.act, c.act) != 0 || ck.nparams != al_model_nparams(m) ||
		    ck.nstate != want_ns) {
			st = al_err(AL_EINVAL,
				    "%s: checkpoint is for a different model or activation "
				    "(model %s, act %s)",
				    hk.resume, ck.config.model, ck.config.act);
			goto done;
		}
		size_t nopt;
		float *os = al_optim_state(opt, &nopt);
		if (nopt != ck.nopt) {
			st = al_err(AL_EINVAL, "%s: optimizer state does not match --opt %s", hk.resume,
				    al_optim_kind_name(c.opt.kind));
			goto done;
		}
		memcpy(al_model_params(m), ck.params, ck.nparams * sizeof(float));
		al_model_set_state_format(m, ck.state, ck.version);
		if (nopt)
			memcpy(os, ck.opt_state, nopt * sizeof(float));
		al_optim_set_steps(opt, ck.opt_steps);
		start_epoch = ck.epoch;
	}

	size_t per = (size_t)train.c * (size_t)train.h * (size_t)train.w;
	int B = c.batch, K = train.classes;
	x = al_malloc((size_t)B * per * sizeof(float));
	y = al_malloc((size_t)B * sizeof(int32_t));
	dz = al_malloc((size_t)B * (size_t)K * sizeof(float));
	order = al_malloc((size_t)ntr * sizeof(int32_t));
	out->epochs = al_calloc((size_t)(c.epochs > 0 ? c.epochs : 1), sizeof(al_epoch_stats));
	if (!x || !y || !dz || !order || !out->epochs) {
		st = al_err(AL_ENOMEM, "train: out of memory");
		goto done;
	}
	st = al_model_reserve(m, B > c.eval_batch ? B : c.eval_batch);
	if (st != AL_OK)
		goto done;
	if (cm && cm->sync_bn) {
		int last = (int)(ntr % B);
		if (B < cm->size || (last > 0 && last < cm->size)) {
			st = al_err(AL_EINVAL,
				    "--sync-bn: a batch of %d samples leaves a rank of %d without "
				    "samples (--batch %d, %d training samples)",
				    B < cm->size ? B : last, cm->size, B, ntr);
			goto done;
		}
		al_model_set_stat_sum(m, cm->sum_d, cm->ctx);
	}
	if (c.out[0]) {
		st = mkdir_p(c.out);
		if (st != AL_OK)
			goto done;
		char path[600];
		snprintf(path, sizeof path, "%s/log.csv", c.out);
		log = fopen(path, start_epoch ? "a" : "w");
		snprintf(path, sizeof path, "%s/act_params.csv", c.out);
		plog = fopen(path, start_epoch ? "a" : "w");
		if (!log || !plog) {
			st = al_err(AL_EIO, "cannot write logs in '%s'", c.out);
			goto done;
		}
		if (!start_epoch) {
			fprintf(log, "epoch,train_loss,train_acc,val_loss,val_acc,test_loss,test_acc,"
				     "macro_precision,lr,seconds,img_per_s\n");
			fprintf(plog, "epoch,layer,act,group,param,value\n");
			log_act_params(plog, m, 0);
		}
	}
	al_rng seed_rng;
	al_rng_seed(&seed_rng, c.seed);
	al_rng shuf_base = al_rng_derive(&seed_rng, 0x5348554646ull);
	al_rng aug_base = al_rng_derive(&seed_rng, 0x415547ull);
	al_rng step_base = al_rng_derive(&seed_rng, 0x53544550ull);
	al_augment aug = {c.augment_crop, c.augment_flip};
	int use_aug = c.augment_crop > 0 || c.augment_flip || train.crop_src;
	long nb = (ntr + B - 1) / B;
	double train_time = 0;
	long train_imgs = 0;
	int64_t step = al_optim_steps(opt);
	int tty = hk.progress;
	if (cm) {
		synced = 1;
		st = cm->agree(cm->ctx, st);
		if (st != AL_OK)
			goto done;
	}

	for (int ep = start_epoch; ep < c.epochs; ep++) {
		double t_ep = al_now(), t_loop = 0;
		memcpy(order, tr_idx, (size_t)ntr * sizeof(int32_t));
		al_rng sr = al_rng_derive(&shuf_base, (uint64_t)ep);
		al_rng_shuffle(&sr, order, (size_t)ntr);
		al_rng ar = al_rng_derive(&aug_base, (uint64_t)ep);
		double loss_sum = 0;
		long correct = 0;
		double lr_f = 0;
		for (long b = 0; b < nb; b++) {
			double t0 = al_now();
			int bn = (int)(ntr - b * B < B ? ntr - b * B : B);
			/* this rank's shard [lo, hi) of the batch (all of it alone) */
			int lo = cm ? (int)((int64_t)bn * cm->rank / cm->size) : 0;
			int hi = cm ? (int)((int64_t)bn * (cm->rank + 1) / cm->size) : bn;
			int sn = hi - lo;
			al_model_zero_grad(m);
			if (sn > 0) {
				al_batch_assemble(&train, order + b * B + lo, sn, &norm,
						  use_aug ? &aug : NULL, &ar, (uint64_t)(b * B + lo), x, y);
				al_rng sr2 = al_rng_derive(&step_base, (uint64_t)step);
				if (cm)
					sr2 = al_rng_derive(&sr2, 0x52414e4bull + (uint64_t)cm->rank);
				al_model_set_rng(m, &sr2);
				const float *z;
				st = al_model_forward(m, x, sn, 1, &z);
				double l = 0;
				if (st == AL_OK) {
					l = c.loss == AL_LOSS_MSE ? al_mse_onehot(z, y, sn, K, dz)
								  : al_softmax_xent(z, y, sn, K, dz);
					if (!isfinite(l))
						st = al_err(AL_ENUMERIC,
							    "training diverged: loss is %g at epoch %d, "
							    "batch %ld (try a smaller --lr)",
							    l, ep + 1, b + 1);
				}
				if (st == AL_OK) {
					for (int i = 0; i < sn; i++)
						correct += argmax(z + (size_t)i * K, K) == y[i];
					loss_sum += l * sn;
					if (sn != bn) { /* mean over the shard -> over the batch */
						const float f = (float)sn / (float)bn;
						for (size_t i = 0; i < (size_t)sn * (size_t)K; i++)
							dz[i] *= f;
					}
					st = al_model_backward(m, dz);
				}
			}
			if (cm) {
				/* a failure on any rank ends every rank, with its message */
				double fail = st != AL_OK;
				cm->sum_d(cm->ctx, &fail, 1);
				if (fail > 0) {
					st = cm->agree(cm->ctx, st);
					goto done;
				}
				cm->sum_f(cm->ctx, al_model_grads(m), al_model_nparams(m));
			} else if (st != AL_OK) {
				goto done;
			}
			lr_f = al_sched_factor(&sched, ep + (double)(b + 1) / (double)nb);
			al_optim_step(opt, al_model_params(m), al_model_grads(m), lr_f);
			al_model_project(m);
			step++;
			if (cm && cm->check_sync &&
			    !cm->same(cm->ctx, al_model_params(m),
				      al_model_nparams(m) * sizeof(float))) {
				st = al_err(AL_ESTATE,
					    "ranks hold different parameters after step %lld (epoch %d, "
					    "batch %ld)",
					    (long long)step, ep + 1, b + 1);
				goto done;
			}
			double dt = al_now() - t0;
			t_loop += dt;
			if (tty && (b % 20 == 0 || b == nb - 1))
				progress(ep + 1, c.epochs, (long)(b * B + bn), ntr,
					 t_loop > 0 ? (double)(b * B + bn) / t_loop : 0,
					 loss_sum / (double)(b * B + bn), al_now() - t_ep);
		}
		if (tty)
			fputc('\n', stderr);
		if (cm) {
			double sums[2] = {loss_sum, (double)correct};
			cm->sum_d(cm->ctx, sums, 2);
			loss_sum = sums[0];
			correct = (long)sums[1];
			if ((!cm->sync_bn || al_model_epoch_end_due(m, ep + 1)) && al_model_nstate(m)) {
				/* per-rank batch-norm running statistics and activation
				 * input records: their mean (the same on every rank, so
				 * grid updates below agree) */
				float *sv = al_model_state(m);
				size_t ns = al_model_nstate(m);
				cm->sum_f(cm->ctx, sv, ns);
				for (size_t i = 0; i < ns; i++)
					sv[i] /= (float)cm->size;
				al_model_state_loaded(m);
			}
		}
		st = al_model_epoch_end(m, ep + 1, hk.verbose ? report_epoch_end : NULL, NULL);
		if (st != AL_OK)
			goto done;
		train_time += t_loop;
		train_imgs += ntr;
		al_epoch_stats es = {0};
		es.epoch = ep + 1;
		es.train_loss = loss_sum / ntr;
		es.train_acc = (double)correct / ntr;
		es.img_per_s = t_loop > 0 ? ntr / t_loop : 0;
		es.lr = c.opt.lr * lr_f;
		al_eval_stats ev;
		int stop = 0;
		if (!rank0)
			goto epoch_end;
		if (nva) {
			st = al_evaluate(m, &train, va_idx, nva, &norm, c.eval_batch, c.loss, &ev);
			if (st != AL_OK)
				goto epoch_end;
			es.val_loss = ev.loss;
			es.val_acc = ev.acc;
		}
		st = al_evaluate(m, &test, NULL, test.n, &norm, c.eval_batch, c.loss, &ev);
		if (st != AL_OK)
			goto epoch_end;
		es.test_loss = ev.loss;
		es.test_acc = ev.acc;
		es.macro_precision = ev.macro_precision;
		es.seconds = al_now() - t_ep;
		out->epochs[out->epochs_done++] = es;
		out->last = es;
		if (hk.verbose)
			fprintf(stderr,
				"epoch %d/%d  train loss %.4f acc %.4f | %stest loss %.4f acc %.4f "
				"prec %.4f | %.0f img/s %.1fs\n",
				es.epoch, c.epochs, es.train_loss, es.train_acc,
				nva ? "" : "", es.test_loss, es.test_acc, es.macro_precision,
				es.img_per_s, es.seconds);
		if (log) {
			fprintf(log, "%d,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.4f,%.1f\n", es.epoch,
				es.train_loss, es.train_acc, es.val_loss, es.val_acc, es.test_loss,
				es.test_acc, es.macro_precision, es.lr, es.seconds, es.img_per_s);
			fflush(log);
			log_act_params(plog, m, es.epoch);
			al_checkpoint save = {0};
			save.config = c;
			save.cfg_text = (char *)al_model_cfg_text(m);
			save.norm = norm;
			save.in_c = train.c;
			save.in_h = train.h;
			save.in_w = train.w;
			save.classes = K;
			save.epoch = ep + 1;
			save.opt_steps = al_optim_steps(opt);
			save.params = al_model_params(m);
			save.nparams = al_model_nparams(m);
			save.state = al_model_state(m);
			save.nstate = al_model_nstate(m);
			save.opt_state = al_optim_state(opt, &save.nopt);
			char path[600];
			snprintf(path, sizeof path, "%s/ckpt.bin", c.out);
			st = al_checkpoint_save(path, &save);
			if (st != AL_OK)
				goto epoch_end;
		}
		if (hk.on_epoch && hk.on_epoch(hk.user, &es))
			stop = 1;
	epoch_end:
		if (cm) {
			double ctl[2] = {st != AL_OK, stop};
			cm->sum_d(cm->ctx, ctl, 2);
			if (ctl[0] > 0) {
				st = cm->agree(cm->ctx, st);
				goto done;
			}
			stop = ctl[1] > 0;
		} else if (st != AL_OK) {
			goto done;
		}
		if (stop)
			break;
	}
	out->img_per_s = train_time > 0 ? (double)train_imgs / train_time : 0;
	out->params = al_model_nparams(m);
done:
	if (cm && !synced)
		st = cm->agree(cm->ctx, st);
	out->seconds = al_now() - t_start;
	out->peak_rss_mb = al_peak_rss_mb();
	if (log)
		fclose(log);
	if (plog)
		fclose(plog);
	al_checkpoint_free(&ck);
	al_free(x);
	al_free(y);
	al_free(dz);
	al_free(order);
	al_free(tr_idx);
	al_free(va_idx);
	al_optim_free(opt);
	al_model_free(m);
	al_dataset_free(&train);
	al_dataset_free(&test);
	return st;
}
