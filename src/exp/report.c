/* report.c — reports from the store: finished runs grouped into cells (all
 * settings equal but seed/fold), the SPEC.md section 6 metrics per cell
 * (mean ± sample std over seeds or folds of final test accuracy, max
 * accuracy and its epoch, last-epoch macro precision, max precision and its
 * epoch, area under the training-loss curve; parameter count, epoch time),
 * the best entry per column, paired t-test and Wilcoxon signed-rank test of
 * final accuracy against the baseline activation's cell with the same other
 * settings (pairs matched by seed and fold), learned activation parameters
 * at the last epoch, as markdown, CSV, LaTeX or one self-contained HTML
 * file (plots from plot.c).
 * Not for: running sweeps, statistics code (stats.c), gnuplot (plot.c).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/act.h"
#include "exp/report_int.h"

al_report_opts al_report_opts_default(void)
{
	al_report_opts o;
	memset(&o, 0, sizeof o);
	o.format = AL_REPORT_MD;
	o.plots = 1;
	return o;
}

static void free_run(rep_run *r)
{
	free(r->acc);
	free(r->prec);
	free(r->loss);
	free(r->test_loss);
	free(r->val);
}

/* Frees what c holds and leaves it empty. */
static void free_cell(rep_cell *c)
{
	for (int k = 0; k < c->n; k++)
		free_run(&c->runs[k]);
	free(c->runs);
	free(c->cell);
	free(c->rest);
	c->runs = NULL;
	c->cell = c->rest = NULL;
	c->n = 0;
}

static void free_data(rep_data *d)
{
	for (int i = 0; i < d->n; i++)
		free_cell(&d->c[i]);
	free(d->c);
}

/* Value of key in "k=v\n" text ("" when absent). */
static void text_value(const char *text, const char *key, char *buf, size_t cap)
{
	size_t kl = strlen(key);
	buf[0] = 0;
	for (const char *p = text; p && *p;) {
		if (!strncmp(p, key, kl) && p[kl] == '=') {
			const char *v = p + kl + 1, *e = strchr(v, '\n');
			size_t l = e ? (size_t)(e - v) : strlen(v);
			snprintf(buf, cap, "%.*s", (int)l, v);
			return;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
}

static char *drop_keys(const char *text, const char *const *keys, int nk)
{
	char *out = malloc(strlen(text) + 1);
	if (!out)
		return NULL;
	char *o = out;
	for (const char *p = text; *p;) {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p + 1) : strlen(p);
		int drop = 0;
		for (int i = 0; i < nk; i++) {
			size_t kl = strlen(keys[i]);
			if (!strncmp(p, keys[i], kl) && p[kl] == '=')
				drop = 1;
		}
		if (!drop) {
			memcpy(o, p, l);
			o += l;
		}
		p += l;
	}
	*o = 0;
	return out;
}

static al_status load_epochs(al_store *s, rep_run *r)
{
	sqlite3_stmt *q;
	AL_TRY(st_prepare(s,
			  "SELECT epoch, test_acc, macro_precision, train_loss, test_loss, val_acc FROM epochs"
			  " WHERE run=? ORDER BY epoch",
			  &q));
	sqlite3_bind_int64(q, 1, r->id);
	int cap = 16, n = 0;
	r->acc = malloc((size_t)cap * sizeof(double));
	r->prec = malloc((size_t)cap * sizeof(double));
	r->loss = malloc((size_t)cap * sizeof(double));
	r->test_loss = malloc((size_t)cap * sizeof(double));
	r->val = malloc((size_t)cap * sizeof(double));
	al_status st = AL_OK;
	while (st == AL_OK && sqlite3_step(q) == SQLITE_ROW) {
		if (n == cap) {
			cap *= 2;
			double *a = realloc(r->acc, (size_t)cap * sizeof(double));
			if (a)
				r->acc = a;
			double *b = realloc(r->prec, (size_t)cap * sizeof(double));
			if (b)
				r->prec = b;
			double *c = realloc(r->loss, (size_t)cap * sizeof(double));
			if (c)
				r->loss = c;
			double *t = realloc(r->test_loss, (size_t)cap * sizeof(double));
			if (t)
				r->test_loss = t;
			double *u = realloc(r->val, (size_t)cap * sizeof(double));
			if (u)
				r->val = u;
			if (!a || !b || !c || !t || !u) {
				st = al_err(AL_ENOMEM, "out of memory");
				break;
			}
		}
		if (!r->acc || !r->prec || !r->loss || !r->test_loss || !r->val) {
			st = al_err(AL_ENOMEM, "out of memory");
			break;
		}
		if (sqlite3_column_int(q, 0) != n + 1) {
			st = al_err(AL_EFORMAT, "store %s: run %lld has a gap in its epochs at %d",
				    s->path, (long long)r->id, n + 1);
			break;
		}
		r->acc[n] = sqlite3_column_double(q, 1);
		r->prec[n] = sqlite3_column_double(q, 2);
		r->loss[n] = sqlite3_column_double(q, 3);
		r->test_loss[n] = sqlite3_column_double(q, 4);
		/* NULL (no validation set) reads as NaN */
		r->val[n] = sqlite3_column_type(q, 5) == SQLITE_NULL ? (double)NAN
								     : sqlite3_column_double(q, 5);
		n++;
	}
	sqlite3_finalize(q);
	r->E = n;
	return st;
}

static al_status load_sweep(al_store *s, const char *sweep, rep_data *d)
{
	sqlite3_stmt *q;
	AL_TRY(st_prepare(s,
			  "SELECT id, grp, act, act_canon, cell, seed, fold, params, epoch_seconds,"
			  " (SELECT COUNT(*) FROM act_params WHERE run=runs.id),"
			  " (SELECT COUNT(*) FROM shapes WHERE run=runs.id)"
			  " FROM runs WHERE sweep=? AND status='done' ORDER BY id",
			  &q));
	sqlite3_bind_text(q, 1, sweep, -1, SQLITE_TRANSIENT);
	al_status st = AL_OK;
	int first = d->n;
	while (st == AL_OK && sqlite3_step(q) == SQLITE_ROW) {
		const char *cell = (const char *)sqlite3_column_text(q, 4);
		if (!cell)
			cell = "";
		rep_cell *c = NULL;
		for (int i = first; i < d->n; i++)
			if (!strcmp(d->c[i].cell, cell))
				c = &d->c[i];
		if (!c) {
			if (d->n == d->cap) {
				int nc = d->cap ? d->cap * 2 : 16;
				rep_cell *nn = realloc(d->c, (size_t)nc * sizeof *nn);
				if (!nn) {
					st = al_err(AL_ENOMEM, "out of memory");
					break;
				}
				d->c = nn;
				d->cap = nc;
			}
			c = &d->c[d->n++];
			memset(c, 0, sizeof *c);
			snprintf(c->sweep, sizeof c->sweep, "%s", sweep);
			snprintf(c->group, sizeof c->group, "%s", (const char *)sqlite3_column_text(q, 1));
			snprintf(c->act, sizeof c->act, "%s", (const char *)sqlite3_column_text(q, 2));
			snprintf(c->act_canon, sizeof c->act_canon, "%s",
				 (const char *)sqlite3_column_text(q, 3));
			c->cell = strdup(cell);
			static const char *const drop[] = {"act", "group"};
			c->rest = drop_keys(cell, drop, 2);
			c->base = -1;
			if (!c->cell || !c->rest) {
				st = al_err(AL_ENOMEM, "out of memory");
				break;
			}
		}
		if (c->n == c->cap) {
			int nc = c->cap ? c->cap * 2 : 4;
			rep_run *nr = realloc(c->runs, (size_t)nc * sizeof *nr);
			if (!nr) {
				st = al_err(AL_ENOMEM, "out of memory");
				break;
			}
			c->runs = nr;
			c->cap = nc;
		}
		rep_run *r = &c->runs[c->n++];
		memset(r, 0, sizeof *r);
		r->id = sqlite3_column_int64(q, 0);
		r->seed = (uint64_t)sqlite3_column_int64(q, 5);
		r->fold = sqlite3_column_int(q, 6);
		r->params = sqlite3_column_double(q, 7);
		r->ep_s = sqlite3_column_double(q, 8);
		c->has_params |= sqlite3_column_int(q, 9) > 0;
		c->has_shapes |= sqlite3_column_int(q, 10) > 0;
		st = load_epochs(s, r);
	}
	sqlite3_finalize(q);
	return st;
}

/* ---- --tune: settings chosen per seed and fold on the validation set ---- */
static double best_val_of(const rep_run *r)
{
	double b = -(double)INFINITY;
	for (int i = 0; i < r->E; i++)
		if (!isnan(r->val[i]) && r->val[i] > b)
			b = r->val[i];
	return b;
}

/* Value of the tuned keys that vary[k] in a cell text, "k=v k2=v2"; an
 * absent key is 0 (the trainers store ridge and wd only when set), numbers
 * as %g. */
static void tuned_value(const char *cell, const char *const *keys, const int *vary, int nk,
			char *buf, size_t cap)
{
	size_t len = 0;
	buf[0] = 0;
	for (int k = 0; k < nk; k++) {
		char v[128], *end;
		if (!vary[k])
			continue;
		text_value(cell, keys[k], v, sizeof v);
		double x = strtod(v, &end);
		if (!v[0])
			snprintf(v, sizeof v, "0");
		else if (end != v && !*end)
			snprintf(v, sizeof v, "%g", x);
		if (len < cap)
			len += (size_t)snprintf(buf + len, cap - len, "%s%s=%s", len ? " " : "",
						keys[k], v);
	}
}

/* Cells [from, d->n) that differ only in the tuned keys become one cell
 * (the first's place); per (seed, fold) present in every cell of the
 * group, the run of highest best validation accuracy is kept (first cell
 * on ties). Runs without a pair in every cell are dropped. *merges counts
 * the rows made of more than one cell. */
enum { TUNE_MAXKEYS = 8, TUNE_MAXVALUES = 64 };
static al_status tune_cells(rep_data *d, int from, const char *tune, int *merges)
{
	char keybuf[256];
	const char *keys[TUNE_MAXKEYS + 1];
	int nk = 0;
	snprintf(keybuf, sizeof keybuf, "%s", tune);
	for (char *t = strtok(keybuf, ","); t; t = strtok(NULL, ",")) {
		if (nk == TUNE_MAXKEYS)
			return al_err(AL_EINVAL, "--tune %s: more than %d settings", tune,
				      TUNE_MAXKEYS);
		keys[nk++] = t;
	}
	if (nk == 0)
		return al_err(AL_EINVAL, "--tune: no setting named");
	int to = d->n, out = from;
	char **strip = calloc((size_t)(to - from), sizeof *strip);
	int *done = calloc((size_t)(to - from), sizeof *done);
	al_status st = strip && done ? AL_OK : al_err(AL_ENOMEM, "out of memory");
	/* candidates may sit in different groups (grids that are not crossed,
	 * e.g. one group per kind of regulariser): compare without the group */
	keys[nk] = "group";
	for (int i = from; i < to && st == AL_OK; i++)
		if (!(strip[i - from] = drop_keys(d->c[i].cell, keys, nk + 1)))
			st = al_err(AL_ENOMEM, "out of memory");
	for (int i = from; i < to && st == AL_OK; i++) {
		if (done[i - from])
			continue;
		int members[TUNE_MAXVALUES], nm = 0;
		for (int j = i; j < to && st == AL_OK; j++)
			if (!done[j - from] && !strcmp(strip[i - from], strip[j - from])) {
				if (nm == TUNE_MAXVALUES)
					st = al_err(AL_EINVAL, "--tune %s: %s (%s) has more than %d "
							       "candidate settings",
						    tune, d->c[i].act, d->c[i].sweep, TUNE_MAXVALUES);
				else
					members[nm++] = j, done[j - from] = 1;
			}
		if (st != AL_OK)
			break;
		rep_cell merged = d->c[i];
		merged.runs = NULL;
		merged.n = merged.cap = 0;
		for (int m = 1; m < nm; m++) { /* the groups it spans, "a+b" */
			const char *g = d->c[members[m]].group;
			size_t gl = strlen(merged.group);
			if (!strstr(merged.group, g) && gl + strlen(g) + 2 < sizeof merged.group)
				snprintf(merged.group + gl, sizeof merged.group - gl, "+%s", g);
		}
		merged.cell = strdup(strip[i - from]);
		static const char *const drop[] = {"act", "group"};
		merged.rest = merged.cell ? drop_keys(merged.cell, drop, 2) : NULL;
		merged.runs = malloc((size_t)d->c[i].n * sizeof *merged.runs);
		if (!merged.cell || !merged.rest || !merged.runs) {
			free(merged.cell);
			free(merged.rest);
			free(merged.runs);
			st = al_err(AL_ENOMEM, "out of memory");
			break;
		}
		int *chosen = calloc((size_t)nm, sizeof *chosen);
		for (int k = 0; chosen && k < d->c[i].n; k++) {
			const rep_run *r0 = &d->c[i].runs[k];
			int bm = 0, bk = k, all = 1;
			double bv = best_val_of(r0);
			for (int m = 1; m < nm && all; m++) {
				const rep_cell *c = &d->c[members[m]];
				int found = -1;
				for (int q = 0; q < c->n; q++)
					if (c->runs[q].seed == r0->seed && c->runs[q].fold == r0->fold)
						found = q;
				if (found < 0) {
					all = 0;
					break;
				}
				double v = best_val_of(&c->runs[found]);
				if (v > bv)
					bv = v, bm = m, bk = found;
			}
			if (!all)
				continue;
			rep_run *src = &d->c[members[bm]].runs[bk];
			merged.runs[merged.n++] = *src;
			src->acc = src->prec = src->loss = src->test_loss = src->val = NULL;
			chosen[bm]++;
		}
		merged.cap = d->c[i].n;
		size_t len = 0;
		merged.tuned[0] = 0;
		int vary[8] = {0};
		for (int k = 0; k < nk; k++) {
			char v0[128], v[128];
			text_value(d->c[i].cell, keys[k], v0, sizeof v0);
			for (int m = 1; m < nm; m++) {
				text_value(d->c[members[m]].cell, keys[k], v, sizeof v);
				vary[k] |= strcmp(v, v0) != 0;
			}
		}
		for (int m = 0; chosen && nm > 1 && m < nm; m++) {
			char v[200];
			tuned_value(d->c[members[m]].cell, keys, vary, nk, v, sizeof v);
			if (len < sizeof merged.tuned)
				len += (size_t)snprintf(merged.tuned + len, sizeof merged.tuned - len,
							"%s%s x%d", len ? ", " : "", v, chosen[m]);
		}
		if (!chosen)
			st = al_err(AL_ENOMEM, "out of memory");
		free(chosen);
		for (int m = 0; m < nm; m++)
			free_cell(&d->c[members[m]]);
		*merges += nm > 1;
		if (merged.n == 0 && st == AL_OK)
			st = al_err(AL_EINVAL, "--tune %s: cell %s (%s) has no seed and fold that every "
					       "value of the tuned settings ran",
				    tune, merged.act, merged.sweep);
		/* cells before i are merged ones or emptied members: slot out is free */
		d->c[out++] = merged;
	}
	/* on failure the cells past out are untouched or emptied (n = 0) */
	if (st == AL_OK)
		d->n = out;
	for (int i = 0; strip && i < to - from; i++)
		free(strip[i]);
	free(strip);
	free(done);
	return st;
}

/* max over epochs per run; epoch = argmax of the mean curve (first on ties) */
static void max_at_epoch(rep_cell *c, int which, rep_stat *st, int *ep)
{
	double *m = malloc((size_t)c->n * sizeof *m);
	if (!m)
		return;
	for (int k = 0; k < c->n; k++) {
		const double *v = which ? c->runs[k].prec : c->runs[k].acc;
		double b = v[0];
		for (int e = 1; e < c->E; e++)
			b = v[e] > b ? v[e] : b;
		m[k] = b;
	}
	st->mean = al_stats_mean(m, c->n);
	st->std = al_stats_std(m, c->n);
	free(m);
	double best = -(double)INFINITY;
	*ep = 1;
	for (int e = 0; e < c->E; e++) {
		double s = 0;
		for (int k = 0; k < c->n; k++)
			s += which ? c->runs[k].prec[e] : c->runs[k].acc[e];
		if (s / c->n > best) {
			best = s / c->n;
			*ep = e + 1;
		}
	}
}

/* Reported epoch of every run of c (rep_run.sel) over the common epochs
 * 0..E-1: the last, or with best_val the first of highest validation
 * accuracy; c->sel_ep = their median, 1-based. */
static al_status select_epochs(rep_cell *c, int best_val)
{
	int *e = malloc((size_t)c->n * sizeof *e);
	if (!e)
		return al_err(AL_ENOMEM, "out of memory");
	for (int k = 0; k < c->n; k++) {
		rep_run *r = &c->runs[k];
		r->sel = c->E - 1;
		if (best_val) {
			int b = -1;
			for (int i = 0; i < c->E; i++)
				if (!isnan(r->val[i]) && (b < 0 || r->val[i] > r->val[b]))
					b = i;
			if (b < 0) {
				free(e);
				return al_err(AL_EINVAL,
					      "--select best-val: run %lld (%s, sweep %s) has no "
					      "validation accuracy (run it with val > 0)",
					      (long long)r->id, c->act, c->sweep);
			}
			r->sel = b;
		}
		e[k] = r->sel + 1;
	}
	/* median (mean of the middle two for even counts) */
	for (int i = 1; i < c->n; i++)
		for (int j = i; j > 0 && e[j - 1] > e[j]; j--) {
			int x = e[j];
			e[j] = e[j - 1];
			e[j - 1] = x;
		}
	c->sel_ep = c->n % 2 ? e[c->n / 2] : 0.5 * (e[c->n / 2 - 1] + e[c->n / 2]);
	free(e);
	return AL_OK;
}

static al_status cell_metrics(rep_cell *c, int best_val)
{
	c->E = c->runs[0].E;
	for (int k = 1; k < c->n; k++)
		c->E = c->runs[k].E < c->E ? c->runs[k].E : c->E;
	if (c->E < 1)
		return al_err(AL_EFORMAT, "cell %s (%s) has a run without epochs", c->act, c->sweep);
	AL_TRY(select_epochs(c, best_val));
	double *v = malloc((size_t)c->n * 4 * sizeof *v);
	if (!v)
		return al_err(AL_ENOMEM, "out of memory");
	double *a = v, *p = v + c->n, *u = v + 2 * c->n, *t = v + 3 * c->n;
	for (int k = 0; k < c->n; k++) {
		a[k] = c->runs[k].acc[c->runs[k].sel];
		p[k] = c->runs[k].prec[c->runs[k].sel];
		u[k] = al_stats_aulc(c->runs[k].loss, c->E);
		t[k] = c->runs[k].ep_s;
	}
	c->final_acc = (rep_stat){al_stats_mean(a, c->n), al_stats_std(a, c->n)};
	c->prec = (rep_stat){al_stats_mean(p, c->n), al_stats_std(p, c->n)};
	c->aulc = (rep_stat){al_stats_mean(u, c->n), al_stats_std(u, c->n)};
	c->ep_s = al_stats_mean(t, c->n);
	for (int k = 0; k < c->n; k++)
		t[k] = c->runs[k].params;
	c->params = al_stats_mean(t, c->n);
	free(v);
	max_at_epoch(c, 0, &c->max_acc, &c->max_acc_ep);
	max_at_epoch(c, 1, &c->max_prec, &c->max_prec_ep);
	return AL_OK;
}

static int is_baseline(const rep_cell *c, const char *b, const char *b_canon)
{
	return !strcmp(c->act, b) || (b_canon[0] && !strcmp(c->act_canon, b_canon));
}

/* Baselines and paired tests of final accuracy for cells [from, to). */
static al_status pair_tests(rep_data *d, int from, int to, const char *b)
{
	char b_canon[768] = "";
	al_act_spec sp;
	if (al_act_parse(b, &sp) == AL_OK)
		snprintf(b_canon, sizeof b_canon, "%s", sp.text);
	al_err_clear();
	for (int i = from; i < to; i++)
		d->c[i].is_base = is_baseline(&d->c[i], b, b_canon);
	for (int i = from; i < to; i++) {
		rep_cell *c = &d->c[i];
		if (c->is_base)
			continue;
		for (int j = from; j < to; j++)
			if (d->c[j].is_base && !strcmp(d->c[j].rest, c->rest) && d->c[j].E == c->E)
				c->base = j;
		if (c->base < 0) {
			/* fall back: the only baseline cell with the same model, data and epochs */
			char m1[300], m2[300], d1[600], d2[600];
			text_value(c->cell, "model", m1, sizeof m1);
			text_value(c->cell, "data", d1, sizeof d1);
			int found = -1, count = 0;
			for (int j = from; j < to; j++) {
				if (!d->c[j].is_base)
					continue;
				text_value(d->c[j].cell, "model", m2, sizeof m2);
				text_value(d->c[j].cell, "data", d2, sizeof d2);
				if (!strcmp(m1, m2) && !strcmp(d1, d2) && d->c[j].E == c->E) {
					found = j;
					count++;
				}
			}
			if (count == 1)
				c->base = found;
		}
		if (c->base < 0)
			continue;
		rep_cell *bc = &d->c[c->base];
		double *x = malloc((size_t)c->n * 2 * sizeof *x);
		if (!x)
			return al_err(AL_ENOMEM, "out of memory");
		double *y = x + c->n;
		int n = 0;
		for (int k = 0; k < c->n; k++)
			for (int l = 0; l < bc->n; l++)
				if (bc->runs[l].seed == c->runs[k].seed &&
				    bc->runs[l].fold == c->runs[k].fold) {
					x[n] = c->runs[k].acc[c->runs[k].sel];
					y[n] = bc->runs[l].acc[bc->runs[l].sel];
					n++;
					break;
				}
		c->npairs = n;
		if (n > 0) {
			al_stats_ttest_paired(x, y, n, &c->tt);
			al_stats_wilcoxon(x, y, n, &c->wx);
		}
		free(x);
	}
	return AL_OK;
}

static void variants(rep_data *d, int from, int to)
{
	static const char *const keys[] = {"model", "data", "act_sites", "sched", "norm",
					   "epochs", "batch", "val", "crop", "flip", "loss",
					   "opt", "lr", "momentum", "wd", "nesterov", "beta1",
					   "beta2", "eps", "act_lr", "act_wd", "warmup", "kfold",
					   /* trainer runs */
					   "range", "init", "iters", "per_unit", "safeguard",
					   "precision", "lm_mu", "ridge"};
	int groups = 0;
	for (int i = from; i < to; i++)
		if (strcmp(d->c[i].group, d->c[from].group))
			groups = 1;
	for (int i = from; i < to; i++) {
		rep_cell *c = &d->c[i];
		c->variant[0] = 0;
		size_t len = 0;
		if (groups)
			len += (size_t)snprintf(c->variant + len, sizeof c->variant - len, "[%s]",
						c->group);
		for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
			char v0[600], v[600];
			text_value(d->c[from].cell, keys[k], v0, sizeof v0);
			int differ = 0;
			for (int j = from + 1; j < to && !differ; j++) {
				text_value(d->c[j].cell, keys[k], v, sizeof v);
				differ = strcmp(v, v0) != 0;
			}
			if (!differ)
				continue;
			text_value(c->cell, keys[k], v, sizeof v);
			if (len < sizeof c->variant)
				len += (size_t)snprintf(c->variant + len, sizeof c->variant - len, "%s%s=%s",
							len ? " " : "", keys[k], v);
		}
		if (c->tuned[0] && len < sizeof c->variant)
			len += (size_t)snprintf(c->variant + len, sizeof c->variant - len,
						"%s(tuned: %s)", len ? " " : "", c->tuned);
		if (c->variant[0])
			snprintf(c->label, sizeof c->label, "%s %s", c->act, c->variant);
		else
			snprintf(c->label, sizeof c->label, "%s", c->act);
	}
}

/* ---- output ------------------------------------------------------------------------ */
enum { COL_ACC, COL_MAXACC, COL_PREC, COL_MAXPREC, COL_AULC, COL_TIME, NCOL };

#define NFIELD 12
#define FIELDCAP 900 /* a row label (act, variant, tuned choices) fits whole */
static const int field_col[NFIELD] = {-1, -1, -1, COL_ACC, COL_MAXACC, COL_PREC, COL_MAXPREC,
				      COL_AULC, COL_TIME, -1, -1, -1};
static int field_col_of(int k) { return field_col[k]; }

static double col_value(const rep_cell *c, int col)
{
	switch (col) {
	case COL_ACC: return c->final_acc.mean;
	case COL_MAXACC: return c->max_acc.mean;
	case COL_PREC: return c->prec.mean;
	case COL_MAXPREC: return c->max_prec.mean;
	case COL_AULC: return c->aulc.mean;
	default: return c->ep_s;
	}
}

/* best[col]: index of a best cell; marked cells are those equal to it,
 * unless every cell is (nothing stands out). */
static void best_cols(const rep_data *d, int from, int to, int *best)
{
	for (int col = 0; col < NCOL; col++) {
		int lower = col == COL_AULC || col == COL_TIME;
		best[col] = -1;
		for (int i = from; i < to; i++) {
			double v = col_value(&d->c[i], col);
			if (!isfinite(v))
				continue;
			if (best[col] < 0 || (lower ? v < col_value(&d->c[best[col]], col)
						    : v > col_value(&d->c[best[col]], col)))
				best[col] = i;
		}
		int all = 1;
		for (int i = from; i < to && best[col] >= 0; i++)
			all &= col_value(&d->c[i], col) == col_value(&d->c[best[col]], col);
		if (all)
			best[col] = -1;
	}
}

static int is_best(const rep_data *d, const int *best, int field, int i)
{
	int col = field_col_of(field);
	return col >= 0 && best[col] >= 0 && col_value(&d->c[i], col) == col_value(&d->c[best[col]], col);
}

static void fmt_pm(char *buf, size_t cap, rep_stat s, int n, int digits)
{
	if (n > 1)
		snprintf(buf, cap, "%.*f ± %.*f", digits, s.mean, digits, s.std);
	else
		snprintf(buf, cap, "%.*f", digits, s.mean);
}

static void fmt_p(char *buf, size_t cap, double p)
{
	if (isnan(p))
		snprintf(buf, cap, "–");
	else if (p < 1e-3)
		snprintf(buf, cap, "%.1e", p);
	else
		snprintf(buf, cap, "%.3f", p);
}

static void fmt_diff(char *buf, size_t cap, const rep_cell *c)
{
	if (c->npairs == 0) {
		snprintf(buf, cap, "–");
		return;
	}
	if (isnan(c->tt.ci_lo))
		snprintf(buf, cap, "%+.4f", c->tt.mean_diff);
	else
		snprintf(buf, cap, "%+.4f [%+.4f, %+.4f]", c->tt.mean_diff, c->tt.ci_lo, c->tt.ci_hi);
}

/* Text cells of one row: 0 label, 1 n, 2 params, 3..8 metrics, 9 diff, 10 p_t, 11 p_w */
static void row_fields(const rep_cell *c, int best_val, char f[NFIELD][FIELDCAP])
{
	char t[160];
	snprintf(f[0], FIELDCAP, "%s", c->label);
	snprintf(f[1], FIELDCAP, "%d", c->n);
	snprintf(f[2], FIELDCAP, "%.0f", c->params);
	fmt_pm(f[3], FIELDCAP, c->final_acc, c->n, 4);
	if (best_val) { /* with the median early-stopping epoch */
		snprintf(t, sizeof t, " (%g)", c->sel_ep);
		size_t l = strlen(f[3]);
		snprintf(f[3] + l, FIELDCAP - l, "%s", t);
	}
	fmt_pm(t, sizeof t, c->max_acc, c->n, 4);
	snprintf(f[4], FIELDCAP, "%s (%d)", t, c->max_acc_ep);
	fmt_pm(f[5], FIELDCAP, c->prec, c->n, 4);
	fmt_pm(t, sizeof t, c->max_prec, c->n, 4);
	snprintf(f[6], FIELDCAP, "%s (%d)", t, c->max_prec_ep);
	fmt_pm(f[7], FIELDCAP, c->aulc, c->n, 3);
	snprintf(f[8], FIELDCAP, "%.3g", c->ep_s);
	if (c->is_base) {
		snprintf(f[9], FIELDCAP, "baseline");
		snprintf(f[10], FIELDCAP, "–");
		snprintf(f[11], FIELDCAP, "–");
	} else {
		fmt_diff(f[9], FIELDCAP, c);
		/* one pair tests nothing (docs/experiments.md: fewer than 2 pairs: –) */
		fmt_p(f[10], FIELDCAP, c->npairs >= 2 ? c->tt.p : (double)NAN);
		fmt_p(f[11], FIELDCAP, c->npairs >= 2 ? c->wx.p : (double)NAN);
	}
}


static void html_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if (*s == '&')
			fputs("&amp;", f);
		else if (*s == '"')
			fputs("&quot;", f);
		else
			fputc(*s, f);
	}
}

static void tex_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '_': case '%': case '&': case '#': case '$': case '{': case '}':
			fprintf(f, "\\%c", *s);
			break;
		case '\\': fputs("\\textbackslash{}", f); break;
		case '~': fputs("\\textasciitilde{}", f); break;
		case '^': fputs("\\textasciicircum{}", f); break;
		default:
			if (!strncmp(s, "±", strlen("±"))) {
				fputs("$\\pm$", f);
				s += strlen("±") - 1;
			} else if (!strncmp(s, "–", strlen("–"))) {
				fputs("--", f);
				s += strlen("–") - 1;
			} else {
				fputc(*s, f);
			}
		}
	}
}

static void csv_field(FILE *f, const char *s)
{
	if (strpbrk(s, ",\"\n")) {
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	} else {
		fputs(s, f);
	}
}

static void csv_num(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, ",%.9g", v);
	else
		fputs(",", f);
}

static const char *head_default[NFIELD] = {"activation", "n", "params", "final acc", "max acc (epoch)",
				   "macro prec", "max prec (epoch)", "AULC", "s/epoch",
				   "Δ acc vs baseline [95% CI]", "p (t-test)", "p (Wilcoxon)"};

/* Cells of seed 003's trainers (rows named by the trainer, epochs are
 * iterations): 2 all of [from, to), 1 some, 0 none. */
static int trainer_cells(const rep_data *d, int from, int to)
{
	int n = 0;
	for (int i = from; i < to; i++)
		n += strstr(d->c[i].cell, "\ntrainer=") != NULL;
	return n == 0 ? 0 : n == to - from ? 2 : 1;
}

static void write_table(FILE *f, al_report_format fmt, const rep_data *d, int from, int to)
{
	const char *head[NFIELD];
	memcpy(head, head_default, sizeof head);
	int tc = trainer_cells(d, from, to);
	if (tc)
		head[0] = tc == 2 ? "trainer" : "activation / trainer";
	if (d->best_val) {
		head[3] = "acc at best val (median epoch)";
		head[5] = "macro prec at best val";
	}
	int best[NCOL];
	best_cols(d, from, to, best);
	char fld[NFIELD][FIELDCAP];
	if (fmt == AL_REPORT_MD) {
		for (int k = 0; k < NFIELD; k++)
			fprintf(f, "| %s ", head[k]);
		fprintf(f, "|\n");
		for (int k = 0; k < NFIELD; k++)
			fprintf(f, "|%s", k == 0 ? "---" : "---:");
		fprintf(f, "|\n");
		for (int i = from; i < to; i++) {
			row_fields(&d->c[i], d->best_val, fld);
			for (int k = 0; k < NFIELD; k++) {
				int b = is_best(d, best, k, i);
				fprintf(f, "| %s%s%s ", b ? "**" : "", fld[k], b ? "**" : "");
			}
			fprintf(f, "|\n");
		}
	} else if (fmt == AL_REPORT_TEX) {
		fprintf(f, "\\begin{tabular}{l");
		for (int k = 1; k < NFIELD; k++)
			fprintf(f, "r");
		fprintf(f, "}\n\\toprule\n");
		for (int k = 0; k < NFIELD; k++) {
			fprintf(f, "%s", k ? " & " : "");
			if (k == 9)
				fputs("$\\Delta$ acc [95\\% CI]", f);
			else
				tex_escape(f, head[k]);
		}
		fprintf(f, " \\\\\n\\midrule\n");
		for (int i = from; i < to; i++) {
			row_fields(&d->c[i], d->best_val, fld);
			for (int k = 0; k < NFIELD; k++) {
				int b = is_best(d, best, k, i);
				fprintf(f, "%s%s", k ? " & " : "", b ? "\\textbf{" : "");
				tex_escape(f, fld[k]);
				fprintf(f, "%s", b ? "}" : "");
			}
			fprintf(f, " \\\\\n");
		}
		fprintf(f, "\\bottomrule\n\\end{tabular}\n");
	} else if (fmt == AL_REPORT_HTML) {
		fprintf(f, "<table class=\"results\">\n<thead><tr>");
		for (int k = 0; k < NFIELD; k++) {
			fprintf(f, "<th>");
			html_escape(f, head[k]);
			fprintf(f, "</th>");
		}
		fprintf(f, "</tr></thead>\n<tbody>\n");
		for (int i = from; i < to; i++) {
			row_fields(&d->c[i], d->best_val, fld);
			fprintf(f, "<tr%s>", d->c[i].is_base ? " class=\"baseline\"" : "");
			for (int k = 0; k < NFIELD; k++) {
				int b = is_best(d, best, k, i);
				fprintf(f, "<td%s>", b ? " class=\"best\"" : "");
				html_escape(f, fld[k]);
				fprintf(f, "</td>");
			}
			fprintf(f, "</tr>\n");
		}
		fprintf(f, "</tbody>\n</table>\n");
	}
}

static void write_csv(FILE *f, const rep_data *d, int from, int to, int header)
{
	if (header)
		fprintf(f, "sweep,group,act,variant,n,params,final_acc_mean,final_acc_std,"
			   "max_acc_mean,max_acc_std,max_acc_epoch,macro_precision_mean,"
			   "macro_precision_std,max_precision_mean,max_precision_std,"
			   "max_precision_epoch,aulc_mean,aulc_std,epoch_seconds,baseline,pairs,"
			   "diff_mean,diff_ci_lo,diff_ci_hi,t,p_ttest,wilcoxon_w,p_wilcoxon\n");
	for (int i = from; i < to; i++) {
		const rep_cell *c = &d->c[i];
		csv_field(f, c->sweep);
		fputc(',', f);
		csv_field(f, c->group);
		fputc(',', f);
		csv_field(f, c->act);
		fputc(',', f);
		csv_field(f, c->variant);
		fprintf(f, ",%d,%.0f", c->n, c->params);
		csv_num(f, c->final_acc.mean);
		csv_num(f, c->n > 1 ? c->final_acc.std : (double)NAN);
		csv_num(f, c->max_acc.mean);
		csv_num(f, c->n > 1 ? c->max_acc.std : (double)NAN);
		fprintf(f, ",%d", c->max_acc_ep);
		csv_num(f, c->prec.mean);
		csv_num(f, c->n > 1 ? c->prec.std : (double)NAN);
		csv_num(f, c->max_prec.mean);
		csv_num(f, c->n > 1 ? c->max_prec.std : (double)NAN);
		fprintf(f, ",%d", c->max_prec_ep);
		csv_num(f, c->aulc.mean);
		csv_num(f, c->n > 1 ? c->aulc.std : (double)NAN);
		csv_num(f, c->ep_s);
		fputc(',', f);
		if (c->is_base)
			fputs("self", f);
		else if (c->base >= 0)
			csv_field(f, d->c[c->base].act);
		fprintf(f, ",%d", c->npairs);
		int t = c->npairs > 0 && !c->is_base;
		csv_num(f, t ? c->tt.mean_diff : (double)NAN);
		csv_num(f, t ? c->tt.ci_lo : (double)NAN);
		csv_num(f, t ? c->tt.ci_hi : (double)NAN);
		csv_num(f, t ? c->tt.t : (double)NAN);
		csv_num(f, t ? c->tt.p : (double)NAN);
		csv_num(f, t ? c->wx.w : (double)NAN);
		csv_num(f, t ? c->wx.p : (double)NAN);
		fputc('\n', f);
	}
}

/* Learned activation parameters at each run's last epoch: per layer and
 * parameter, mean over the layer's groups, then mean ± std over runs. */
static al_status write_params(al_store *s, FILE *f, al_report_format fmt, const rep_data *d,
			      int from, int to)
{
	int any = 0;
	for (int i = from; i < to; i++)
		any |= d->c[i].has_params;
	if (!any || fmt == AL_REPORT_CSV)
		return AL_OK;
	sqlite3_stmt *q;
	AL_TRY(st_prepare(s,
			  "SELECT layer, param, mean, groups FROM act_params WHERE run=?1 AND epoch="
			  "(SELECT MAX(epoch) FROM act_params WHERE run=?1) ORDER BY rowid",
			  &q));
	if (fmt == AL_REPORT_MD)
		fprintf(f, "\nLearned activation parameters at the last epoch (mean over each layer's "
			   "channels/neurons; ± std over runs):\n\n| activation | layer | parameter | "
			   "value |\n|---|---|---|---:|\n");
	else if (fmt == AL_REPORT_HTML)
		fprintf(f, "<h3>Learned activation parameters (last epoch)</h3>\n<table "
			   "class=\"params\">\n<thead><tr><th>activation</th><th>layer</th>"
			   "<th>parameter</th><th>value (mean ± std over runs)</th></tr></thead>\n"
			   "<tbody>\n");
	else
		fprintf(f, "\n\\begin{tabular}{lllr}\n\\toprule\nactivation & layer & parameter & "
			   "value \\\\\n\\midrule\n");
	al_status st = AL_OK;
	for (int i = from; i < to && st == AL_OK; i++) {
		const rep_cell *c = &d->c[i];
		if (!c->has_params)
			continue;
		/* rows of the first run define the order; values gathered across runs */
		enum { MAXR = 512 };
		char (*names)[2][64] = calloc(MAXR, sizeof *names);
		double *vals = calloc((size_t)MAXR * (size_t)c->n, sizeof *vals);
		int *cnt = calloc(MAXR, sizeof *cnt);
		int nr = 0, shared = 1;
		if (!names || !vals || !cnt) {
			free(names);
			free(vals);
			free(cnt);
			st = al_err(AL_ENOMEM, "out of memory");
			break;
		}
		for (int k = 0; k < c->n; k++) {
			sqlite3_reset(q);
			sqlite3_bind_int64(q, 1, c->runs[k].id);
			while (sqlite3_step(q) == SQLITE_ROW) {
				const char *layer = (const char *)sqlite3_column_text(q, 0);
				const char *param = (const char *)sqlite3_column_text(q, 1);
				int r = -1;
				for (int j = 0; j < nr; j++)
					if (!strcmp(names[j][0], layer) && !strcmp(names[j][1], param))
						r = j;
				if (r < 0 && nr < MAXR) {
					r = nr++;
					snprintf(names[r][0], 64, "%s", layer);
					snprintf(names[r][1], 64, "%s", param);
				}
				if (r >= 0)
					vals[(size_t)r * (size_t)c->n + (size_t)cnt[r]++] =
						sqlite3_column_double(q, 2);
				if (r >= 0 && sqlite3_column_int(q, 3) != 1)
					shared = 0;
			}
		}
		/* method1/method2 with one theta per layer: the blend weights X, Y, Z
		 * of seed 002's Tables 3-4, per run, from theta1..3 */
		int blend = !strncmp(c->act_canon, "method1", 7) || !strncmp(c->act_canon, "method2", 7);
		int ratio = strstr(c->act_canon, "mode=ratio") != NULL;
		if (blend && shared && !strstr(c->act_canon, "mode=fixed")) {
			int base_nr = nr;
			for (int r1 = 0; r1 < base_nr; r1++) {
				if (strcmp(names[r1][1], "theta1"))
					continue;
				int r2 = -1, r3 = -1;
				for (int j = 0; j < base_nr; j++)
					if (!strcmp(names[j][0], names[r1][0])) {
						if (!strcmp(names[j][1], "theta2"))
							r2 = j;
						if (!strcmp(names[j][1], "theta3"))
							r3 = j;
					}
				if (r2 < 0 || r3 < 0 || nr + 3 > MAXR || cnt[r1] != cnt[r2] ||
				    cnt[r1] != cnt[r3])
					continue;
				static const char *const xyz[3] = {"X", "Y", "Z"};
				for (int w = 0; w < 3; w++) {
					snprintf(names[nr + w][0], 64, "%s", names[r1][0]);
					snprintf(names[nr + w][1], 64, "%s (%s)", xyz[w],
						 ratio ? "theta/sum" : "softmax of theta");
					cnt[nr + w] = cnt[r1];
				}
				for (int k = 0; k < cnt[r1]; k++) {
					double t[3] = {vals[(size_t)r1 * (size_t)c->n + (size_t)k],
						       vals[(size_t)r2 * (size_t)c->n + (size_t)k],
						       vals[(size_t)r3 * (size_t)c->n + (size_t)k]};
					double m = t[0] > t[1] ? t[0] : t[1], sum = 0;
					m = m > t[2] ? m : t[2];
					double e[3];
					for (int w = 0; w < 3; w++) {
						e[w] = ratio ? t[w] : exp(t[w] - m);
						sum += e[w];
					}
					for (int w = 0; w < 3; w++)
						vals[(size_t)(nr + w) * (size_t)c->n + (size_t)k] = e[w] / sum;
				}
				nr += 3;
			}
		}
		for (int r = 0; r < nr; r++) {
			rep_stat v = {al_stats_mean(vals + (size_t)r * (size_t)c->n, cnt[r]),
				      al_stats_std(vals + (size_t)r * (size_t)c->n, cnt[r])};
			char val[160];
			fmt_pm(val, sizeof val, v, cnt[r], 4);
			if (fmt == AL_REPORT_MD) {
				fprintf(f, "| %s | %s | %s | %s |\n", c->label, names[r][0], names[r][1],
					val);
			} else if (fmt == AL_REPORT_HTML) {
				fprintf(f, "<tr><td>");
				html_escape(f, c->label);
				fprintf(f, "</td><td>");
				html_escape(f, names[r][0]);
				fprintf(f, "</td><td>");
				html_escape(f, names[r][1]);
				fprintf(f, "</td><td>");
				html_escape(f, val);
				fprintf(f, "</td></tr>\n");
			} else {
				tex_escape(f, c->label);
				fprintf(f, " & ");
				tex_escape(f, names[r][0]);
				fprintf(f, " & ");
				tex_escape(f, names[r][1]);
				fprintf(f, " & ");
				tex_escape(f, val);
				fprintf(f, " \\\\\n");
			}
		}
		free(names);
		free(vals);
		free(cnt);
	}
	sqlite3_finalize(q);
	if (fmt == AL_REPORT_HTML)
		fprintf(f, "</tbody>\n</table>\n");
	else if (fmt == AL_REPORT_TEX)
		fprintf(f, "\\bottomrule\n\\end{tabular}\n");
	return st;
}

static const char *notes =
	"final acc: test accuracy after the last epoch; max acc (epoch): mean over runs of each "
	"run's best epoch, with the epoch where the mean curve peaks; macro prec: macro-averaged "
	"test precision after the last epoch; AULC: area under the training-loss curve "
	"(trapezoid, unit spacing; lower converges faster); s/epoch: wall time per epoch "
	"including evaluation. Values are mean ± sample std over seeds (or folds); the best "
	"entry per column is marked. Δ acc: final accuracy minus the baseline's, paired by seed "
	"and fold, with the 95% t confidence interval; p-values: two-sided paired t-test and "
	"Wilcoxon signed-rank test (exact for n ≤ 50 without ties).";

static const char *best_val_note =
	"Early stopping (--select best-val): every run's result is its first epoch of highest "
	"validation accuracy, not its last; final acc, macro prec, Δ acc and the p-values use "
	"that epoch, with the median selected epoch in parentheses. ";

static const char *trainer_note =
	" Rows of seed 003's trainers (adact, molf, owo-bp, cg, lm, sgd, adam): an epoch is one "
	"iteration (one epoch for sgd and adam), the training loss is the MSE on one-hot "
	"targets, and the learned parameters a0..a8 are the hinge values of the hidden units.";

static const char *html_head =
	"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	"<title>actlab report</title>\n<style>\n"
	"body{font-family:sans-serif;margin:2em;color:#222;max-width:1400px}\n"
	"table{border-collapse:collapse;margin:1em 0;font-size:0.9em}\n"
	"th,td{border:1px solid #ccc;padding:0.3em 0.6em;text-align:right}\n"
	"th:first-child,td:first-child{text-align:left}\n"
	"thead th{background:#f0f0f0}\n"
	"td.best{font-weight:bold;background:#e8f4e8}\n"
	"tr.baseline td{font-style:italic}\n"
	"figure{display:inline-block;margin:0.5em;vertical-align:top}\n"
	"figure svg{max-width:100%;height:auto}\n"
	"figcaption{font-size:0.85em;color:#555}\n"
	"p.notes{font-size:0.85em;color:#555;max-width:60em}\n"
	"</style>\n</head>\n<body>\n";

al_status al_report_write(al_store *s, const al_report_opts *oin, FILE *f)
{
	al_report_opts o = oin ? *oin : al_report_opts_default();
	if (o.tune && !o.best_val)
		return al_err(AL_EINVAL, "--tune %s needs --select best-val (settings are chosen by "
					 "validation accuracy)",
			      o.tune);
	char **names = NULL;
	int nn = 0;
	if (o.sweep) {
		names = malloc(sizeof *names);
		if (!names)
			return al_err(AL_ENOMEM, "out of memory");
		names[0] = strdup(o.sweep);
		nn = 1;
	} else {
		AL_TRY(al_store_sweeps(s, &names, &nn));
	}
	rep_data d;
	memset(&d, 0, sizeof d);
	d.best_val = o.best_val;
	int *bounds = calloc((size_t)nn + 1, sizeof *bounds), merges = 0;
	al_status st = bounds ? AL_OK : al_err(AL_ENOMEM, "out of memory");
	for (int i = 0; i < nn && st == AL_OK; i++) {
		bounds[i] = d.n;
		st = load_sweep(s, names[i], &d);
		if (st == AL_OK && o.tune)
			st = tune_cells(&d, bounds[i], o.tune, &merges);
	}
	if (st == AL_OK && o.tune && merges == 0)
		st = al_err(AL_EINVAL, "--tune %s: no rows of %s%s differ only in %s", o.tune,
			    o.sweep ? "sweep " : "the store's sweeps", o.sweep ? o.sweep : "",
			    strchr(o.tune, ',') ? "these settings" : "this setting");
	if (st == AL_OK)
		bounds[nn] = d.n;
	if (st == AL_OK && d.n == 0)
		st = al_err(AL_EINVAL, "store %s: no finished runs%s%s", s->path,
			    o.sweep ? " in sweep " : "", o.sweep ? o.sweep : "");
	for (int i = 0; i < d.n && st == AL_OK; i++)
		st = cell_metrics(&d.c[i], o.best_val);
	/* baseline per sweep: --baseline, else the file's `baseline`, else relu */
	char (*bases)[256] = calloc((size_t)nn + 1, sizeof *bases);
	if (!bases && st == AL_OK)
		st = al_err(AL_ENOMEM, "out of memory");
	for (int i = 0; i < nn && st == AL_OK; i++) {
		snprintf(bases[i], sizeof bases[i], "%s", o.baseline ? o.baseline : "relu");
		sqlite3_stmt *mq;
		char key[160];
		snprintf(key, sizeof key, "baseline:%s", names[i]);
		if (!o.baseline && st_prepare(s, "SELECT value FROM meta WHERE key=?", &mq) == AL_OK) {
			sqlite3_bind_text(mq, 1, key, -1, SQLITE_TRANSIENT);
			if (sqlite3_step(mq) == SQLITE_ROW && sqlite3_column_text(mq, 0))
				snprintf(bases[i], sizeof bases[i], "%s",
					 (const char *)sqlite3_column_text(mq, 0));
			sqlite3_finalize(mq);
		}
		variants(&d, bounds[i], bounds[i + 1]);
		st = pair_tests(&d, bounds[i], bounds[i + 1], bases[i]);
	}
	if (st == AL_OK && o.baseline) {
		int found = 0;
		for (int i = 0; i < d.n; i++)
			found |= d.c[i].is_base;
		if (!found)
			st = al_err(AL_EINVAL, "baseline '%s' is not an activation of %s%s", o.baseline,
				    o.sweep ? "sweep " : "the store's sweeps",
				    o.sweep ? o.sweep : "");
	}
	if (st == AL_OK && o.format == AL_REPORT_HTML)
		fputs(html_head, f);
	for (int i = 0; i < nn && st == AL_OK; i++) {
		int from = bounds[i], to = bounds[i + 1];
		if (from == to)
			continue;
		sqlite3_stmt *q;
		char desc[512] = "";
		if (st_prepare(s, "SELECT description FROM sweeps WHERE name=?", &q) == AL_OK) {
			sqlite3_bind_text(q, 1, names[i], -1, SQLITE_TRANSIENT);
			if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
				snprintf(desc, sizeof desc, "%s", (const char *)sqlite3_column_text(q, 0));
			sqlite3_finalize(q);
		}
		char common[1200] = "";
		const char *baseline = bases[i];
		{
			/* settings shared by every row ("varies" otherwise: see the rows) */
			/* trainer runs count iterations */
			char ep[600];
			text_value(d.c[from].cell, "epochs", ep, sizeof ep);
			int iters = !ep[0];
			static const char *const keys_e[3] = {"model", "data", "epochs"};
			static const char *const keys_i[3] = {"model", "data", "iters"};
			const char *const *keys = iters ? keys_i : keys_e;
			char v[3][600];
			for (int k = 0; k < 3; k++) {
				text_value(d.c[from].cell, keys[k], v[k], sizeof v[k]);
				for (int j = from + 1; j < to; j++) {
					char o2[600];
					text_value(d.c[j].cell, keys[k], o2, sizeof o2);
					if (strcmp(o2, v[k])) {
						snprintf(v[k], sizeof v[k], "varies");
						break;
					}
				}
			}
			snprintf(common, sizeof common, "model %s, data %s, %s %s; baseline %s", v[0],
				 v[1], iters ? "iterations" : "epochs", v[2], baseline);
		}
		switch (o.format) {
		case AL_REPORT_MD:
			fprintf(f, "%s## %s\n\n", i ? "\n" : "", names[i]);
			if (desc[0])
				fprintf(f, "%s\n\n", desc);
			fprintf(f, "%s.\n\n", common);
			write_table(f, o.format, &d, from, to);
			st = write_params(s, f, o.format, &d, from, to);
			fprintf(f, "\n%s%s%s\n", d.best_val ? best_val_note : "", notes,
				trainer_cells(&d, from, to) ? trainer_note : "");
			if (st == AL_OK && o.plots_dir)
				st = rep_plots(s, &d, from, to, o.plots_dir, f, o.format);
			break;
		case AL_REPORT_CSV:
			write_csv(f, &d, from, to, i == 0);
			break;
		case AL_REPORT_TEX:
			fprintf(f, "%% %s\n", names[i]);
			fprintf(f, "\\begin{table}[t]\n\\centering\n\\caption{");
			tex_escape(f, names[i]);
			if (desc[0]) {
				fprintf(f, ": ");
				tex_escape(f, desc);
			}
			fprintf(f, " (");
			tex_escape(f, common);
			fprintf(f, ")}\n\\small\n");
			write_table(f, o.format, &d, from, to);
			st = write_params(s, f, o.format, &d, from, to);
			fprintf(f, "\\end{table}\n\n");
			if (st == AL_OK && o.plots_dir)
				st = rep_plots(s, &d, from, to, o.plots_dir, f, o.format);
			break;
		case AL_REPORT_HTML:
			fprintf(f, "<section class=\"sweep\">\n<h2>");
			html_escape(f, names[i]);
			fprintf(f, "</h2>\n");
			if (desc[0]) {
				fprintf(f, "<p>");
				html_escape(f, desc);
				fprintf(f, "</p>\n");
			}
			fprintf(f, "<p>");
			html_escape(f, common);
			fprintf(f, ".</p>\n");
			write_table(f, o.format, &d, from, to);
			fprintf(f, "<p class=\"notes\">");
			if (d.best_val)
				html_escape(f, best_val_note);
			html_escape(f, notes);
			if (trainer_cells(&d, from, to))
				html_escape(f, trainer_note);
			fprintf(f, "</p>\n");
			st = write_params(s, f, o.format, &d, from, to);
			if (st == AL_OK && o.plots)
				st = rep_plots(s, &d, from, to, NULL, f, o.format);
			fprintf(f, "</section>\n");
			break;
		}
	}
	if (st == AL_OK && o.format == AL_REPORT_HTML)
		fprintf(f, "<script>\n// self-check: the report's tables and plots are in the page\n"
			   "document.body.setAttribute('data-tables', "
			   "document.querySelectorAll('table.results').length);\n"
			   "document.body.setAttribute('data-plots', "
			   "document.querySelectorAll('figure svg').length);\n"
			   "</script>\n</body>\n</html>\n");
	free_data(&d);
	free(bounds);
	free(bases);
	al_store_free_names(names, nn);
	return st;
}
