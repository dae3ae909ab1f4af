/* fit.c — evaluation of an AdAct network, training runs with per-iteration
 * timing and validation, and whole experiments from a data spec (plain
 * train/test or stratified k-fold cross-validation).
 * Not for: the training algorithms themselves (adact.c, baselines.c).
 */
#include <cblas.h>
#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <string.h>
#include <time.h>

#include "internal.h"

enum { EVAL_CHUNK = 512 };

/* CPU seconds of the whole process (all threads). */
static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

al_status al_adact_evaluate(const al_adact_net *net, const al_adact_data *d, double *mse,
			    double *acc)
{
	return al_adact_evaluate_prec(net, d, mse, acc, NULL);
}

al_status al_adact_evaluate_prec(const al_adact_net *net, const al_adact_data *d, double *mse,
				 double *acc, double *macro_prec)
{
	if (!net || !d || d->ni != net->ni || d->no != net->no)
		return al_err(AL_EINVAL, "adact evaluate: data has %d inputs and %d outputs, the "
					 "network %d and %d",
			      d ? d->ni : -1, d ? d->no : -1, net ? net->ni : -1,
			      net ? net->no : -1);
	const int n = d->n, ni = d->ni, nh = net->nh, no = net->no, nu = ni + nh;
	const int nchunks = (n + EVAL_CHUNK - 1) / EVAL_CHUNK;
	double *sse = al_calloc((size_t)nchunks, sizeof *sse);
	long long *hits = al_calloc((size_t)nchunks, sizeof *hits);
	int32_t *pred = macro_prec ? al_malloc((size_t)n * sizeof *pred) : NULL;
	int th = (double)n * nu * nh < 262144.0 ? 1 : al_get_threads();
	double *buf = al_malloc((size_t)th * EVAL_CHUNK * (2 * nh + no) * sizeof *buf);
	if (!sse || !hits || !buf || (macro_prec && !pred)) {
		al_free(sse);
		al_free(hits);
		al_free(buf);
		al_free(pred);
		return al_err(AL_ENOMEM, "adact evaluate: out of memory");
	}
#pragma omp parallel for schedule(static) num_threads(th)
	for (int c = 0; c < nchunks; c++) {
		int tid = 0;
#ifdef _OPENMP
		tid = omp_get_thread_num();
#endif
		double *N = buf + (size_t)tid * EVAL_CHUNK * (2 * nh + no);
		double *O = N + (size_t)EVAL_CHUNK * nh, *Y = O + (size_t)EVAL_CHUNK * nh;
		int p0 = c * EVAL_CHUNK, cs = n - p0 < EVAL_CHUNK ? n - p0 : EVAL_CHUNK;
		const double *X = d->X + (size_t)p0 * ni;
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, cs, nh, ni, 1.0, X, ni, net->W,
			    ni, 0.0, N, nh);
		for (int q = 0; q < cs; q++)
			for (int k = 0; k < nh; k++)
				O[(size_t)q * nh + k] = al_adact_pla(net, k, N[(size_t)q * nh + k], NULL);
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, cs, no, ni, 1.0, X, ni, net->Wo,
			    nu, 0.0, Y, no);
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, cs, no, nh, 1.0, O, nh,
			    net->Wo + ni, nu, 1.0, Y, no);
		double s = 0;
		long long h = 0;
		for (int q = 0; q < cs; q++) {
			const double *y = Y + (size_t)q * no, *tt = d->T + (size_t)(p0 + q) * no;
			int best = 0;
			for (int i = 0; i < no; i++) {
				s += (tt[i] - y[i]) * (tt[i] - y[i]);
				if (y[i] > y[best])
					best = i;
			}
			h += best == d->labels[p0 + q];
			if (pred)
				pred[p0 + q] = best;
		}
		sse[c] = s;
		hits[c] = h;
	}
	double s = 0;
	long long h = 0;
	for (int c = 0; c < nchunks; c++) {
		s += sse[c];
		h += hits[c];
	}
	if (mse)
		*mse = s / n;
	if (acc)
		*acc = (double)h / n;
	if (macro_prec) {
		/* mean over classes of TP / (TP + FP), 0/0 = 0 */
		long long *tp = al_calloc((size_t)no * 2, sizeof *tp);
		if (!tp) {
			al_free(sse);
			al_free(hits);
			al_free(buf);
			al_free(pred);
			return al_err(AL_ENOMEM, "adact evaluate: out of memory");
		}
		for (int p = 0; p < n; p++) {
			tp[no + pred[p]]++;
			tp[pred[p]] += pred[p] == d->labels[p];
		}
		double mp = 0;
		for (int i = 0; i < no; i++)
			mp += tp[no + i] ? (double)tp[i] / (double)tp[no + i] : 0;
		*macro_prec = mp / no;
		al_free(tp);
	}
	al_free(sse);
	al_free(hits);
	al_free(buf);
	al_free(pred);
	return AL_OK;
}

void al_adact_fit_result_free(al_adact_fit_result *r)
{
	if (!r)
		return;
	al_free(r->mse);
	al_free(r->val);
	al_free(r->test);
	al_free(r->test_prec);
	al_free(r->hinges);
	memset(r, 0, sizeof *r);
}

al_status al_adact_fit(const al_adact_opts *o, const al_adact_data *train,
		       const al_adact_data *val, const al_adact_data *test,
		       al_adact_progress cb, void *ctx, al_adact_fit_result *r)
{
	memset(r, 0, sizeof *r);
	r->val_acc = r->test_acc = r->test_mse = -1;
	AL_TRY(al_adact_opts_check(o));
	r->mse = al_malloc((size_t)(o->iters + 1) * sizeof *r->mse);
	if (val)
		r->val = al_malloc((size_t)(o->iters + 1) * sizeof *r->val);
	if (test) {
		r->test = al_malloc((size_t)(o->iters + 1) * sizeof *r->test);
		r->test_prec = al_malloc((size_t)(o->iters + 1) * sizeof *r->test_prec);
	}
	if (!r->mse || (val && !r->val) || (test && (!r->test || !r->test_prec))) {
		al_adact_fit_result_free(r);
		return al_err(AL_ENOMEM, "adact fit: out of memory");
	}
	double t0 = al_now();
	al_adact *t;
	al_status s = al_adact_create(o, train, &t);
	if (s != AL_OK) {
		al_adact_fit_result_free(r);
		return s;
	}
	r->seconds_init = al_now() - t0;
	r->mse[0] = al_adact_mse(t);
	/* with a validation set, the network of the iteration with the best
	 * validation accuracy (first on ties) is the one tested: snapshots.
	 * The candidates are iterations 1..iters (the initial network only
	 * when iters = 0), the iterations the progress callback reports, so
	 * that a choice made afterwards from the reported validation and test
	 * accuracies (the experiment store, `actlab report --select best-val`)
	 * picks the same network. */
	const al_adact_net *nt = &t->net;
	const size_t nW = (size_t)nt->nh * nt->ni, nA = (size_t)nt->nh * nt->ns;
	const size_t nWo = (size_t)nt->no * (nt->ni + nt->nh);
	double *best = NULL, best_acc = -1;
	if (val) {
		best = al_malloc((nW + nA + nWo) * sizeof *best);
		if (!best) {
			al_adact_free(t);
			al_adact_fit_result_free(r);
			return al_err(AL_ENOMEM, "adact fit: out of memory");
		}
		al_adact_evaluate(nt, val, NULL, &r->val[0]);
		best_acc = r->val[0];
		r->best_iter = 0;
		memcpy(best, nt->W, nW * sizeof *best);
		memcpy(best + nW, nt->A, nA * sizeof *best);
		memcpy(best + nW + nA, nt->Wo, nWo * sizeof *best);
	}
	if (test)
		al_adact_evaluate_prec(nt, test, NULL, &r->test[0], &r->test_prec[0]);
	double busy = 0, cpu = 0;
	for (int it = 1; it <= o->iters; it++) {
		al_adact_iter info;
		double t1 = al_now(), c1 = cpu_now();
		s = al_adact_iterate(t, &info);
		double dt = al_now() - t1;
		cpu += cpu_now() - c1;
		busy += dt;
		if (s != AL_OK)
			break;
		r->mse[it] = info.mse;
		double va = -1;
		if (val) {
			al_adact_evaluate(nt, val, NULL, &va);
			r->val[it] = va;
			if (va > best_acc || it == 1) {
				best_acc = va;
				r->best_iter = it;
				memcpy(best, nt->W, nW * sizeof *best);
				memcpy(best + nW, nt->A, nA * sizeof *best);
				memcpy(best + nW + nA, nt->Wo, nWo * sizeof *best);
			}
		}
		info.test_acc = info.test_prec = -1;
		if (test) {
			al_adact_evaluate_prec(nt, test, NULL, &r->test[it], &r->test_prec[it]);
			info.test_acc = r->test[it];
			info.test_prec = r->test_prec[it];
		}
		r->iters = it;
		if (cb)
			cb(ctx, it, &info, va, dt);
	}
	if (s != AL_OK) {
		al_free(best);
		al_adact_free(t);
		al_adact_fit_result_free(r);
		return s;
	}
	if (best) {
		memcpy(nt->W, best, nW * sizeof *best);
		memcpy(nt->A, best + nW, nA * sizeof *best);
		memcpy(nt->Wo, best + nW + nA, nWo * sizeof *best);
		al_free(best);
	}
	r->seconds_per_iter = r->iters > 0 ? busy / r->iters : 0;
	r->cpu_seconds_per_iter = r->iters > 0 ? cpu / r->iters : 0;
	al_adact_evaluate(nt, train, &r->train_mse, &r->train_acc);
	r->val_acc = val ? best_acc : -1;
	if (!val)
		r->best_iter = r->iters;
	if (test)
		s = al_adact_evaluate(&t->net, test, &r->test_mse, &r->test_acc);
	r->nh = nt->nh;
	r->ns = nt->ns;
	r->lo = nt->lo;
	r->delta = nt->delta;
	r->hinges = al_malloc(nA * sizeof *r->hinges);
	if (s == AL_OK && !r->hinges)
		s = al_err(AL_ENOMEM, "adact fit: out of memory");
	if (s == AL_OK)
		memcpy(r->hinges, nt->A, nA * sizeof *r->hinges);
	r->nparams = nW + nWo;
	if (o->algo == AL_ADACT_ADACT || o->algo == AL_ADACT_SGD || o->algo == AL_ADACT_ADAM)
		r->nparams += nA;
	al_adact_free(t);
	if (s != AL_OK)
		al_adact_fit_result_free(r);
	return s;
}

/* ---- whole runs ---------------------------------------------------------- */
al_adact_run_opts al_adact_run_opts_default(void)
{
	return (al_adact_run_opts){.data = "fashion-mnist", .kfold = 0, .fold = -1, .val = 0,
				   .split_seed = 1};
}

void al_adact_report_free(al_adact_report *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->nruns; i++)
		al_adact_fit_result_free(&r->runs[i]);
	al_free(r->runs);
	al_free(r->fold);
	memset(r, 0, sizeof *r);
}

typedef struct {
	al_adact_run_progress cb;
	void *ctx;
	int fold;
} fold_ctx;

static void fold_cb(void *c, int iter, const al_adact_iter *info, double val_acc, double sec)
{
	fold_ctx *f = c;
	f->cb(f->ctx, f->fold, iter, info, val_acc, sec);
}

/* Standardised sets from index lists (stats from the training list). */
static al_status make_sets(const al_dataset *src, const int32_t *tr, int ntr,
			   const al_dataset *tsrc, const int32_t *te, int nte, const int32_t *va,
			   int nva, al_adact_data *dtr, al_adact_data *dte, al_adact_data *dva)
{
	size_t f = (size_t)src->c * src->h * src->w;
	double *mean = al_malloc(f * sizeof *mean), *std = al_malloc(f * sizeof *std);
	al_status s = mean && std ? AL_OK : al_err(AL_ENOMEM, "adact: out of memory");
	if (s == AL_OK)
		s = al_adact_input_stats(src, tr, ntr, mean, std);
	if (s == AL_OK)
		s = al_adact_data_make(src, tr, ntr, mean, std, dtr);
	if (s == AL_OK && nte > 0)
		s = al_adact_data_make(tsrc, te, nte, mean, std, dte);
	if (s == AL_OK && nva > 0)
		s = al_adact_data_make(src, va, nva, mean, std, dva);
	al_free(mean);
	al_free(std);
	return s;
}

/* Stratified split of the samples idx[0..n) (idx NULL: 0..n-1): in every
 * class, round(frac * count) samples drawn by a seeded shuffle go to val,
 * the rest to tr; both lists ascend. */
static al_status split_validation(const int32_t *labels, int classes, const int32_t *idx, int n,
				  double frac, uint64_t seed, int32_t **tr, int32_t **va, int *nva)
{
	*tr = *va = NULL;
	*nva = 0;
	int32_t *pos = al_malloc((size_t)n * sizeof *pos);
	unsigned char *is_val = al_calloc((size_t)n, 1);
	if (!pos || !is_val) {
		al_free(pos);
		al_free(is_val);
		return al_err(AL_ENOMEM, "adact: out of memory");
	}
	for (int c = 0; c < classes; c++) {
		int cnt = 0;
		for (int i = 0; i < n; i++)
			if (labels[idx ? idx[i] : i] == c)
				pos[cnt++] = i;
		al_rng r;
		al_rng_seed(&r, seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)(c + 1)));
		al_rng_shuffle(&r, pos, (size_t)cnt);
		int take = (int)floor(frac * cnt + 0.5);
		for (int i = 0; i < take; i++)
			is_val[pos[i]] = 1;
		*nva += take;
	}
	*tr = al_malloc((size_t)(n - *nva > 0 ? n - *nva : 1) * sizeof **tr);
	*va = al_malloc((size_t)(*nva > 0 ? *nva : 1) * sizeof **va);
	if (!*tr || !*va) {
		al_free(*tr);
		al_free(*va);
		*tr = *va = NULL;
		al_free(pos);
		al_free(is_val);
		return al_err(AL_ENOMEM, "adact: out of memory");
	}
	int a = 0, b = 0;
	for (int i = 0; i < n; i++) {
		int32_t v = idx ? idx[i] : i;
		if (is_val[i])
			(*va)[b++] = v;
		else
			(*tr)[a++] = v;
	}
	al_free(pos);
	al_free(is_val);
	if (a == 0 || b == 0) {
		al_free(*tr);
		al_free(*va);
		*tr = *va = NULL;
		return al_err(AL_ERANGE, "adact: validation fraction %g leaves %d training and %d "
					 "validation samples",
			      frac, a, b);
	}
	return AL_OK;
}

al_status al_adact_run(const al_adact_opts *o, const al_adact_run_opts *ro,
		       al_adact_run_progress cb, void *ctx, al_adact_report *out)
{
	memset(out, 0, sizeof *out);
	AL_TRY(al_adact_opts_check(o));
	if (ro->kfold == 1 || ro->kfold < 0)
		return al_err(AL_ERANGE, "adact: kfold = %d, expected 0 (off) or >= 2", ro->kfold);
	if (ro->kfold && (ro->fold < -1 || ro->fold >= ro->kfold))
		return al_err(AL_ERANGE, "adact: fold = %d, expected -1 (all) or 0..%d", ro->fold,
			      ro->kfold - 1);
	if (!(ro->val >= 0 && ro->val < 1))
		return al_err(AL_ERANGE, "adact: validation fraction %g outside [0, 1)", ro->val);
	al_dataset train = {0}, test = {0};
	AL_TRY(al_data_load(ro->data, &train, &test));
	int nruns = ro->kfold == 0 ? 1 : ro->fold >= 0 ? 1 : ro->kfold;
	out->runs = al_calloc((size_t)nruns, sizeof *out->runs);
	out->fold = al_calloc((size_t)nruns, sizeof *out->fold);
	al_status s = out->runs && out->fold ? AL_OK : al_err(AL_ENOMEM, "adact: out of memory");
	for (int r = 0; s == AL_OK && r < nruns; r++) {
		int fold = ro->kfold == 0 ? -1 : ro->fold >= 0 ? ro->fold : r;
		int32_t *tr = NULL, *te = NULL;
		int ntr = 0, nte = 0, nva = 0;
		int32_t *va = NULL;
		const al_dataset *tsrc = &train;
		if (ro->kfold) {
			s = al_kfold_split(train.labels, train.n, train.classes, ro->kfold, fold,
					   ro->split_seed, &tr, &ntr, &te, &nte);
		} else {
			tsrc = &test;
			ntr = train.n;
			nte = test.n;
		}
		if (s == AL_OK && ro->val > 0) {
			int32_t *tr2 = NULL;
			s = split_validation(train.labels, train.classes, tr, ntr, ro->val,
					     ro->split_seed, &tr2, &va, &nva);
			if (s == AL_OK) {
				al_free(tr);
				tr = tr2;
				ntr -= nva;
			}
		}
		al_adact_data dtr = {0}, dte = {0}, dva = {0};
		if (s == AL_OK)
			s = make_sets(&train, tr, ntr, tsrc, te, nte, va, nva, &dtr, &dte, &dva);
		if (s == AL_OK) {
			fold_ctx fc = {cb, ctx, fold};
			s = al_adact_fit(o, &dtr, nva ? &dva : NULL, nte ? &dte : NULL,
					 cb ? fold_cb : NULL, &fc, &out->runs[r]);
			if (s == AL_OK) {
				out->nruns = r + 1;
				out->fold[r] = fold;
				if (r == 0) {
					out->n_train = ntr;
					out->n_val = nva;
					out->n_test = nte;
				}
			} else if (ro->kfold) {
				al_err_ctx(s, "fold %d of %d", fold, ro->kfold);
			}
		}
		al_adact_data_free(&dtr);
		al_adact_data_free(&dte);
		al_adact_data_free(&dva);
		al_free(tr);
		al_free(te);
		al_free(va);
	}
	al_dataset_free(&train);
	al_dataset_free(&test);
	if (s != AL_OK) {
		al_adact_report_free(out);
		return s;
	}
	double sa = 0, sm = 0, st = 0;
	for (int r = 0; r < out->nruns; r++) {
		sa += out->runs[r].test_acc;
		sm += out->runs[r].train_mse;
		st += out->runs[r].seconds_per_iter;
	}
	out->test_acc_mean = sa / out->nruns;
	out->train_mse_mean = sm / out->nruns;
	out->seconds_per_iter_mean = st / out->nruns;
	double v = 0;
	for (int r = 0; r < out->nruns; r++)
		v += (out->runs[r].test_acc - out->test_acc_mean) *
		     (out->runs[r].test_acc - out->test_acc_mean);
	out->test_acc_std = out->nruns > 1 ? sqrt(v / (out->nruns - 1)) : 0;
	return AL_OK;
}
