/* sweep_file.c — experiment files (docs/experiments.md): INI parsing with
 * line numbers, lists ("a | b"), brace expansion ("k={2,3}"), integer
 * ranges ("1..5"), groups, command-line overrides, validation of every
 * expanded value, and the Cartesian product into runs with stable keys.
 * Not for: running the runs (sweep.c) or storing them (store.c).
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <math.h>

#include "actlab/act.h"
#include "actlab/data.h"
#include "actlab/nn.h"
#include "actlab/exp.h"
#include "actlab/optim.h"
#include "exp/trainer_int.h"

#define MAXSEC 64
#define MAXKEY 48
#define MAXITEMS 4096

typedef struct {
	char key[64];
	char *value; /* malloc'd */
	int line;    /* 0: command line */
} entry;

typedef struct {
	char name[64];
	int line;
	entry e[MAXKEY];
	int n;
} section;

typedef struct {
	char *item[MAXITEMS];
	int n;
} list;

static char *dupstr(const char *s)
{
	size_t l = strlen(s);
	char *d = malloc(l + 1);
	if (d)
		memcpy(d, s, l + 1);
	return d;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t l = strlen(s);
	while (l && isspace((unsigned char)s[l - 1]))
		s[--l] = 0;
	return s;
}

static void list_free(list *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->item[i]);
	l->n = 0;
}

static al_status list_add(list *l, const char *s, size_t len)
{
	if (l->n >= MAXITEMS)
		return al_err(AL_ERANGE, "more than %d values in one list", MAXITEMS);
	char *d = malloc(len + 1);
	if (!d)
		return al_err(AL_ENOMEM, "out of memory");
	memcpy(d, s, len);
	d[len] = 0;
	l->item[l->n++] = d;
	return AL_OK;
}

/* Expands the first {a,b,c} of s (recursively the rest) into l. */
static al_status expand_braces(const char *s, list *l)
{
	const char *open = strchr(s, '{');
	if (!open)
		return list_add(l, s, strlen(s));
	const char *close = strchr(open, '}');
	if (!close)
		return al_err(AL_EINVAL, "'%s': '{' without '}'", s);
	size_t pre = (size_t)(open - s);
	const char *p = open + 1;
	while (p <= close) {
		const char *q = p;
		while (q < close && *q != ',')
			q++;
		size_t alen = (size_t)(q - p);
		if (alen == 0)
			return al_err(AL_EINVAL, "'%s': empty alternative inside {}", s);
		size_t need = pre + alen + strlen(close + 1) + 1;
		char *buf = malloc(need);
		if (!buf)
			return al_err(AL_ENOMEM, "out of memory");
		memcpy(buf, s, pre);
		memcpy(buf + pre, p, alen);
		strcpy(buf + pre + alen, close + 1);
		al_status st = expand_braces(buf, l);
		free(buf);
		if (st != AL_OK)
			return st;
		p = q + 1;
	}
	return AL_OK;
}

/* "3..7" -> 3 4 5 6 7 (non-negative integers, at most MAXITEMS). */
static int parse_range(const char *s, long *lo, long *hi)
{
	char *end;
	if (!isdigit((unsigned char)s[0]))
		return 0;
	errno = 0;
	*lo = strtol(s, &end, 10);
	if (errno || strncmp(end, "..", 2) != 0)
		return 0;
	const char *r = end + 2;
	if (!isdigit((unsigned char)r[0]))
		return 0;
	*hi = strtol(r, &end, 10);
	return !errno && *end == 0;
}

/* Splits a value on '|', expands braces and ranges. */
static al_status expand_value(const char *value, list *out)
{
	char *v = dupstr(value);
	if (!v)
		return al_err(AL_ENOMEM, "out of memory");
	al_status st = AL_OK;
	char *save = NULL;
	int parts = 0;
	for (char *tok = strtok_r(v, "|", &save); tok; tok = strtok_r(NULL, "|", &save)) {
		char *t = trim(tok);
		parts++;
		if (!*t) {
			st = al_err(AL_EINVAL, "empty value in list '%s'", value);
			break;
		}
		list tmp = {0};
		st = expand_braces(t, &tmp);
		for (int i = 0; st == AL_OK && i < tmp.n; i++) {
			long lo, hi;
			if (parse_range(tmp.item[i], &lo, &hi)) {
				if (hi < lo || hi - lo >= MAXITEMS) {
					st = al_err(AL_EINVAL, "bad range '%s'", tmp.item[i]);
					break;
				}
				for (long k = lo; k <= hi && st == AL_OK; k++) {
					char num[32];
					snprintf(num, sizeof num, "%ld", k);
					st = list_add(out, num, strlen(num));
				}
			} else {
				st = list_add(out, tmp.item[i], strlen(tmp.item[i]));
			}
		}
		list_free(&tmp);
		if (st != AL_OK)
			break;
	}
	if (st == AL_OK && parts == 0)
		st = al_err(AL_EINVAL, "empty value");
	free(v);
	return st;
}

/* ---- INI reading ----------------------------------------------------------- */
static const char *const sweep_keys[] = {"name", "description", "baseline", "kfold", "match_params",
					 "match_baseline"};

static int is_sweep_key(const char *k)
{
	for (size_t i = 0; i < sizeof sweep_keys / sizeof *sweep_keys; i++)
		if (!strcmp(k, sweep_keys[i]))
			return 1;
	return xt_is_key(k);
}

/* Keys a run configuration accepts (probe al_train_config_set). */
static int is_config_key(const char *k)
{
	if (!strcmp(k, "out") || !strcmp(k, "threads"))
		return 0; /* set per run by the sweep */
	al_train_config c = al_train_config_default();
	al_err_clear();
	al_status st = al_train_config_set(&c, k, "");
	int unknown = st != AL_OK && strncmp(al_errmsg(), "unknown setting", 15) == 0;
	al_err_clear();
	return !unknown;
}

static void where_line(char *buf, size_t cap, const char *where, int line)
{
	if (line > 0)
		snprintf(buf, cap, "%s:%d", where, line);
	else
		snprintf(buf, cap, "%s (command line)", where);
}

/* "unknown key" naming the sweep keys and the run settings (taken from the
 * training configuration's own list, minus out and threads). */
static al_status unknown_key(const char *where, int line, const char *k)
{
	al_train_config c = al_train_config_default();
	al_train_config_set(&c, "\x01", "");
	char valid[1024];
	const char *v = strstr(al_errmsg(), "valid: ");
	snprintf(valid, sizeof valid, "%s", v ? v + 7 : "");
	char loc[600];
	where_line(loc, sizeof loc, where, line);
	return al_err(AL_EINVAL,
		      "%s: unknown key '%s'; valid: name, description, baseline, kfold, match_params, "
		      "match_baseline, the seed-003 trainer settings %s, and "
		      "the run settings %s (out and threads are set per run)",
		      loc, k, xt_keys(), valid);
}

static entry *sec_find(section *s, const char *key)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->e[i].key, key))
			return &s->e[i];
	return NULL;
}

static al_status sec_set(section *s, const char *key, const char *value, int line)
{
	entry *e = sec_find(s, key);
	if (!e) {
		if (s->n >= MAXKEY)
			return al_err(AL_ERANGE, "too many keys in [%s]", s->name);
		e = &s->e[s->n++];
		snprintf(e->key, sizeof e->key, "%s", key);
	} else {
		free(e->value);
	}
	e->value = dupstr(value);
	e->line = line;
	return e->value ? AL_OK : al_err(AL_ENOMEM, "out of memory");
}

static void secs_free(section *secs, int n)
{
	for (int i = 0; i < n; i++)
		for (int k = 0; k < secs[i].n; k++)
			free(secs[i].e[k].value);
}

static al_status read_ini(const char *text, const char *where, section *secs, int *nsec)
{
	int n = 0, lineno = 0;
	const char *p = text;
	section *cur = NULL;
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		lineno++;
		char *line = malloc(l + 1);
		if (!line)
			return al_err(AL_ENOMEM, "out of memory");
		memcpy(line, p, l);
		line[l] = 0;
		p = e ? e + 1 : p + l;
		/* inline comment: ';' or '#' after whitespace */
		for (char *c = line; *c; c++)
			if ((*c == ';' || *c == '#') && (c == line || isspace((unsigned char)c[-1]))) {
				*c = 0;
				break;
			}
		char *t = trim(line);
		al_status st = AL_OK;
		if (!*t) {
		} else if (*t == '[') {
			char *close = strchr(t, ']');
			if (!close || close[1]) {
				st = al_err(AL_EFORMAT, "%s:%d: malformed section header '%s'", where,
					    lineno, t);
			} else {
				*close = 0;
				char *name = trim(t + 1);
				if (!*name || strlen(name) >= sizeof secs[0].name) {
					st = al_err(AL_EFORMAT, "%s:%d: bad section name", where, lineno);
				} else {
					for (int i = 0; i < n; i++)
						if (!strcmp(secs[i].name, name))
							st = al_err(AL_EFORMAT,
								    "%s:%d: section [%s] appears twice "
								    "(first at line %d)",
								    where, lineno, name, secs[i].line);
					if (st == AL_OK && n >= MAXSEC)
						st = al_err(AL_ERANGE, "%s:%d: more than %d sections",
							    where, lineno, MAXSEC);
					if (st == AL_OK) {
						if (n == 0 && strcmp(name, "sweep") != 0)
							st = al_err(AL_EFORMAT,
								    "%s:%d: the first section must be "
								    "[sweep], found [%s]",
								    where, lineno, name);
						cur = &secs[n++];
						memset(cur, 0, sizeof *cur);
						snprintf(cur->name, sizeof cur->name, "%s", name);
						cur->line = lineno;
					}
				}
			}
		} else {
			char *eq = strchr(t, '=');
			if (!eq) {
				st = al_err(AL_EFORMAT, "%s:%d: expected 'key = value', found '%s'", where,
					    lineno, t);
			} else if (!cur) {
				st = al_err(AL_EFORMAT, "%s:%d: key outside a section (start with [sweep])",
					    where, lineno);
			} else {
				*eq = 0;
				char *k = trim(t), *v = trim(eq + 1);
				for (char *c = k; *c; c++)
					if (*c == '-')
						*c = '_';
				entry *old = sec_find(cur, k);
				if (!*k)
					st = al_err(AL_EFORMAT, "%s:%d: empty key", where, lineno);
				else if (old)
					st = al_err(AL_EFORMAT, "%s:%d: key '%s' set twice in [%s] (first "
								"at line %d)",
						    where, lineno, k, cur->name, old->line);
				else if (!is_sweep_key(k) && !is_config_key(k))
					st = unknown_key(where, lineno, k);
				else if (!strcmp(k, "fold"))
					st = al_err(AL_EINVAL,
						    "%s:%d: 'fold' is set per run by 'kfold = K' (folds 0..K-1)",
						    where, lineno);
				else if ((!strcmp(k, "name") || !strcmp(k, "description") ||
					  !strcmp(k, "baseline")) &&
					 strcmp(cur->name, "sweep") != 0)
					st = al_err(AL_EINVAL, "%s:%d: '%s' belongs in [sweep]", where,
						    lineno, k);
				else if (!*v)
					st = al_err(AL_EINVAL, "%s:%d: key '%s' has no value", where,
						    lineno, k);
				else
					st = sec_set(cur, k, v, lineno);
			}
		}
		free(line);
		if (st != AL_OK) {
			*nsec = n;
			return st;
		}
	}
	*nsec = n;
	if (n == 0)
		return al_err(AL_EFORMAT, "%s: no [sweep] section", where);
	return AL_OK;
}

/* ---- expansion ------------------------------------------------------------------ */
static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

/* Removes lines starting with any of the given "key=" prefixes. */
static char *drop_lines(const char *text, const char *const *prefixes, int np)
{
	char *out = malloc(strlen(text) + 1);
	if (!out)
		return NULL;
	char *o = out;
	for (const char *p = text; *p;) {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p + 1) : strlen(p);
		int drop = 0;
		for (int i = 0; i < np; i++)
			if (!strncmp(p, prefixes[i], strlen(prefixes[i])))
				drop = 1;
		if (!drop) {
			memcpy(o, p, l);
			o += l;
		}
		p += l;
	}
	*o = 0;
	return out;
}

typedef struct {
	char key[64];
	int line;
	list vals;
} axis;

static al_status validate_item(const char *key, const char *v)
{
	al_train_config c = al_train_config_default();
	if (!strcmp(key, "act")) {
		al_act_spec s;
		return al_act_parse(v, &s);
	}
	if (!strcmp(key, "sched")) {
		al_sched sc = al_sched_default();
		return al_sched_parse(v, &sc);
	}
	if (!strcmp(key, "kfold")) {
		char *end;
		long k = strtol(v, &end, 10);
		if (end == v || *end || k < 0 || k == 1 || k > 1000)
			return al_err(AL_EINVAL, "'%s' is not a fold count (0 = off, or 2..1000)", v);
		return AL_OK;
	}
	if (!strcmp(key, "match_params")) {
		if (strcmp(v, "0") && strcmp(v, "1"))
			return al_err(AL_EINVAL, "'%s': use 0 or 1", v);
		return AL_OK;
	}
	if (!strcmp(key, "match_baseline")) {
		al_act_spec sp;
		return al_act_parse(v, &sp);
	}
	if (xt_is_key(key)) {
		char tr[16];
		al_adact_opts o = al_adact_opts_default();
		return xt_set(tr, sizeof tr, &o, key, v);
	}
	return al_train_config_set(&c, key, v);
}

/* The run's identity (config text without out/threads, plus group and
 * fold) and key; with cell != 0 also its cell (identity without seed and
 * fold). */
static al_status run_identity(al_sweep_run *r, int cell)
{
	char text[8192];
	if (xt_is_trainer(r->trainer))
		xt_to_text(r, -1, text, sizeof text);
	else
		al_train_config_to_text(&r->config, text, sizeof text);
	static const char *const drop_run[] = {"out=", "threads="};
	char *base = drop_lines(text, drop_run, 2);
	if (!base)
		return al_err(AL_ENOMEM, "out of memory");
	size_t need = strlen(base) + strlen(r->group) + 64;
	free(r->ident);
	r->ident = malloc(need);
	if (!r->ident) {
		free(base);
		return al_err(AL_ENOMEM, "out of memory");
	}
	snprintf(r->ident, need, "group=%s\n%skfold=%d\nfold=%d\n", r->group, base, r->kfold,
		 r->fold);
	free(base);
	if (cell) {
		static const char *const drop_cell[] = {"seed=", "fold="};
		free(r->cell);
		r->cell = drop_lines(r->ident, drop_cell, 2);
		if (!r->cell)
			return al_err(AL_ENOMEM, "out of memory");
	}
	snprintf(r->key, sizeof r->key, "%016llx", (unsigned long long)fnv1a(r->ident));
	return AL_OK;
}

static al_status add_run(al_sweep *sw, int *cap, const char *group, axis *ax, int nax,
			 const int *pick, int kfold, int fold, const char *where)
{
	if (sw->nruns == *cap) {
		int nc = *cap ? *cap * 2 : 16;
		al_sweep_run *r = realloc(sw->runs, (size_t)nc * sizeof *r);
		if (!r)
			return al_err(AL_ENOMEM, "out of memory");
		sw->runs = r;
		*cap = nc;
	}
	al_sweep_run *r = &sw->runs[sw->nruns];
	memset(r, 0, sizeof *r);
	r->config = al_train_config_default();
	snprintf(r->group, sizeof r->group, "%s", group);
	snprintf(r->act, sizeof r->act, "%s", r->config.act);
	r->kfold = kfold;
	r->fold = kfold ? fold : 0;
	r->adact = al_adact_opts_default();
	int lr_set = 0, mom_set = 0, wd_set = 0, any_train = 1;
	for (int a = 0; a < nax; a++)
		if (!strcmp(ax[a].key, "trainer")) {
			any_train = 0;
			for (int k = 0; k < ax[a].vals.n; k++)
				any_train |= !strcmp(ax[a].vals.item[k], "train");
		}
	for (int a = 0; a < nax; a++) {
		const char *v = ax[a].vals.item[pick[a]];
		if (!strcmp(ax[a].key, "kfold") || !strcmp(ax[a].key, "match_params") ||
		    !strcmp(ax[a].key, "match_baseline"))
			continue;
		if (xt_is_key(ax[a].key)) {
			al_status st = xt_set(r->trainer, sizeof r->trainer, &r->adact, ax[a].key, v);
			if (st != AL_OK) {
				char w[600];
				where_line(w, sizeof w, where, ax[a].line);
				return al_err_ctx(st, "%s: key '%s'", w, ax[a].key);
			}
			continue;
		}
		lr_set |= !strcmp(ax[a].key, "lr");
		mom_set |= !strcmp(ax[a].key, "momentum");
		wd_set |= !strcmp(ax[a].key, "wd");
		al_status st = al_train_config_set(&r->config, ax[a].key, v);
		if (st != AL_OK) {
			char w[600];
			where_line(w, sizeof w, where, ax[a].line);
			return al_err_ctx(st, "%s: key '%s'", w, ax[a].key);
		}
		if (!strcmp(ax[a].key, "act"))
			snprintf(r->act, sizeof r->act, "%s", v);
	}
	if (kfold && !xt_is_trainer(r->trainer)) {
		char k[16], f[16];
		snprintf(k, sizeof k, "%d", kfold);
		snprintf(f, sizeof f, "%d", fold);
		if (al_train_config_set(&r->config, "kfold", k) != AL_OK ||
		    al_train_config_set(&r->config, "fold", f) != AL_OK)
			return al_err(AL_EUNSUPPORTED,
				      "%s: kfold = %d: the training configuration has no k-fold "
				      "setting in this build (%s)",
				      where, kfold, al_errmsg());
	}
	/* keys that only one kind of run uses are errors unless the group has
	 * both kinds (trainer = train | adact | ...) */
	for (int a = 0; a < nax; a++) {
		char w[600];
		where_line(w, sizeof w, where, ax[a].line);
		if (xt_is_trainer(r->trainer) && !any_train && xt_is_train_only_key(ax[a].key))
			return al_err(AL_EINVAL,
				      "%s: key '%s' does not apply to trainer %s (its network is the "
				      "two-layer MLP set by hidden, hinges and range; add trainer = "
				      "train to also run back-prop)",
				      w, ax[a].key, r->trainer);
		if (!xt_is_trainer(r->trainer) && xt_is_key(ax[a].key) &&
		    strcmp(ax[a].key, "trainer") != 0) {
			int any_xt = 0;
			for (int b = 0; b < nax; b++)
				if (!strcmp(ax[b].key, "trainer"))
					for (int k = 0; k < ax[b].vals.n; k++)
						any_xt |= xt_is_trainer(ax[b].vals.item[k]);
			if (!any_xt)
				return al_err(AL_EINVAL,
					      "%s: key '%s' applies only to seed 003's trainers (set "
					      "trainer = adact | molf | owo-bp | cg | lm | sgd | adam)",
					      w, ax[a].key);
		}
	}
	if (xt_is_trainer(r->trainer)) {
		al_adact_opts *o = &r->adact;
		o->seed = r->config.seed;
		o->batch = r->config.batch;
		o->beta1 = r->config.opt.beta1;
		o->beta2 = r->config.opt.beta2;
		o->eps = r->config.opt.eps;
		if (lr_set)
			o->lr = r->config.opt.lr;
		if (mom_set)
			o->momentum = r->config.opt.momentum;
		if (wd_set)
			o->wd = r->config.opt.wd;
		if (al_adact_opts_check(o) != AL_OK)
			return al_err_ctx(AL_EINVAL, "%s: trainer %s", where, r->trainer);
		r->config.epochs = o->iters;
		r->config.kfold = kfold;
		r->config.fold = r->fold;
		snprintf(r->act, sizeof r->act, "%s", r->trainer);
	}
	AL_TRY(run_identity(r, 1));
	sw->nruns++;
	return AL_OK;
}

/* Expands one group (the [sweep] section overlaid by grp, or [sweep] alone). */
static al_status expand_group(al_sweep *sw, int *cap, section *base, section *grp,
			      const char *where)
{
	axis ax[MAXKEY * 2];
	int nax = 0;
	al_status st = AL_OK;
	section *layers[2] = {base, grp};
	int seed_axis = -1, kfold = 0;
	for (int L = 0; L < 2 && st == AL_OK; L++) {
		section *s = layers[L];
		if (!s)
			continue;
		for (int i = 0; i < s->n && st == AL_OK; i++) {
			entry *e = &s->e[i];
			if (!strcmp(e->key, "name") || !strcmp(e->key, "description") ||
			    !strcmp(e->key, "baseline"))
				continue;
			if (L == 0 && grp && sec_find(grp, e->key))
				continue; /* the group overrides it */
			axis *a = &ax[nax];
			memset(a, 0, sizeof *a);
			snprintf(a->key, sizeof a->key, "%s", e->key);
			a->line = e->line;
			char w[600];
			where_line(w, sizeof w, where, e->line);
			st = expand_value(e->value, &a->vals);
			if (st != AL_OK) {
				st = al_err_ctx(st, "%s: key '%s'", w, e->key);
				list_free(&a->vals);
				break;
			}
			nax++;
			for (int k = 0; k < a->vals.n && st == AL_OK; k++) {
				st = validate_item(e->key, a->vals.item[k]);
				if (st != AL_OK)
					st = al_err_ctx(st, "%s: key '%s' value '%s'", w, e->key,
							a->vals.item[k]);
			}
			if (st != AL_OK)
				break;
			if (!strcmp(e->key, "kfold")) {
				if (a->vals.n != 1)
					st = al_err(AL_EINVAL, "%s: key 'kfold' takes one value", w);
				else
					kfold = atoi(a->vals.item[0]);
			}
			if (!strcmp(e->key, "match_params")) {
				if (a->vals.n != 1)
					st = al_err(AL_EINVAL, "%s: key 'match_params' takes one value", w);
				else
					sw->match_params |= atoi(a->vals.item[0]);
			}
			if (!strcmp(e->key, "match_baseline")) {
				if (a->vals.n != 1)
					st = al_err(AL_EINVAL, "%s: key 'match_baseline' takes one value", w);
				else
					snprintf(sw->match_baseline, sizeof sw->match_baseline, "%s",
						 a->vals.item[0]);
			}
			if (!strcmp(e->key, "seed"))
				seed_axis = nax - 1;
		}
	}
	if (st == AL_OK) {
		/* seeds vary slowest, so a partial sweep already holds whole tables */
		if (seed_axis > 0) {
			axis tmp = ax[seed_axis];
			memmove(&ax[1], &ax[0], (size_t)seed_axis * sizeof *ax);
			ax[0] = tmp;
		}
		int pick[MAXKEY * 2] = {0};
		int folds = kfold ? kfold : 1;
		for (;;) {
			for (int f = 0; f < folds && st == AL_OK; f++)
				st = add_run(sw, cap, grp ? grp->name : "sweep", ax, nax, pick, kfold, f,
					     where);
			if (st != AL_OK)
				break;
			int a = nax - 1;
			while (a >= 0 && ++pick[a] == ax[a].vals.n) {
				pick[a] = 0;
				a--;
			}
			if (a < 0)
				break;
			if (sw->nruns > 1000000) {
				st = al_err(AL_ERANGE, "%s: more than a million runs", where);
				break;
			}
		}
	}
	for (int i = 0; i < nax; i++)
		list_free(&ax[i].vals);
	return st;
}

/* ---- parameter matching ------------------------------------------------------------ */
/* Input shape and classes of a data spec, loaded once per spec. */
typedef struct {
	char data[512];
	int c, h, w, classes;
} shape_cache;

static al_status data_shape(const char *spec, shape_cache *cache, int *ncache, int cap,
			    shape_cache **out)
{
	for (int i = 0; i < *ncache; i++)
		if (!strcmp(cache[i].data, spec)) {
			*out = &cache[i];
			return AL_OK;
		}
	if (*ncache >= cap)
		return al_err(AL_ERANGE, "match_params: more than %d data specs", cap);
	al_dataset tr = {0}, te = {0};
	AL_TRY(al_data_load(spec, &tr, &te));
	shape_cache *e = &cache[(*ncache)++];
	snprintf(e->data, sizeof e->data, "%s", spec);
	e->c = tr.c;
	e->h = tr.h;
	e->w = tr.w;
	e->classes = tr.classes;
	al_dataset_free(&tr);
	al_dataset_free(&te);
	*out = e;
	return AL_OK;
}

/* Hidden widths of an "mlp" or "mlp:W1,W2,..." model (0: another model). */
static int mlp_widths(const char *model, long *w, int cap)
{
	if (!strcmp(model, "mlp")) {
		w[0] = w[1] = 256;
		return 2;
	}
	if (strncmp(model, "mlp:", 4) != 0)
		return 0;
	int n = 0;
	for (const char *p = model + 4; *p && n < cap;) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p || v < 1)
			return 0;
		w[n++] = v;
		p = *end == ',' ? end + 1 : end;
	}
	return n;
}

static al_status count_params_w(const char *model, const char *act, const char *sites,
				const shape_cache *sh, double width, size_t *out)
{
	al_model_opts mo = al_model_opts_default();
	mo.width = width;
	mo.no_init = 1;
	/* images are adapted to the input a model declares (al_train_load_data) */
	int dc = 0, dh = 0, dw = 0;
	mo.classes = sh->classes;
	if (al_model_declared_input(model, &mo, &dc, &dh, &dw) != AL_OK)
		al_err_clear();
	mo.act = act;
	mo.act_sites = sites;
	mo.in_c = dc ? dc : sh->c;
	mo.in_h = dh ? dh : sh->h;
	mo.in_w = dw ? dw : sh->w;
	mo.classes = sh->classes;
	al_model *m = NULL;
	AL_TRY(al_model_create(model, &mo, &m));
	*out = al_model_nparams(m);
	al_model_free(m);
	return AL_OK;
}

static al_status count_params(const char *model, const char *act, const char *sites,
			      const shape_cache *sh, size_t *out)
{
	return count_params_w(model, act, sites, sh, 1, out);
}

#define MATCH_TOL 0.02 /* relative distance to the baseline's count */

/* Models other than mlp: the common width multiplier of every literal conv
 * filter count and dense width (al_model_opts.width) whose parameter count
 * is the closest to target; the count must come within MATCH_TOL. */
static al_status match_width(al_sweep_run *r, const shape_cache *sh, size_t target, size_t cur,
			     const char *where)
{
	double lo = 1.0 / 64, hi = 64, best = 1;
	size_t bestd = cur > target ? cur - target : target - cur, p;
	for (int it = 0; it < 50 && hi / lo > 1 + 1e-4; it++) {
		double mid = sqrt(lo * hi);
		al_status st = count_params_w(r->config.model, r->config.act, r->config.act_sites,
					      sh, mid, &p);
		if (st != AL_OK)
			return al_err_ctx(st, "%s: match_params: model '%s' cannot be widened or "
					      "narrowed",
					  where, r->config.model);
		size_t d = p > target ? p - target : target - p;
		if (d < bestd || (d == bestd && fabs(mid - 1) < fabs(best - 1))) {
			bestd = d;
			best = mid;
		}
		if (p > target)
			hi = mid;
		else
			lo = mid;
	}
	if ((double)bestd > MATCH_TOL * (double)target)
		return al_err(AL_ERANGE,
			      "%s: match_params: model '%s' with '%s' gets no closer than %zu "
			      "parameters to the baseline's %zu (tolerance %.0f%%)",
			      where, r->config.model, r->config.act, bestd, target, MATCH_TOL * 100);
	/* a short, stable text: the smallest rounding of best with the same count */
	size_t want;
	AL_TRY(count_params_w(r->config.model, r->config.act, r->config.act_sites, sh, best, &want));
	for (int digits = 2; digits <= 12; digits++) {
		char t[32];
		snprintf(t, sizeof t, "%.*g", digits, best);
		double v = strtod(t, NULL);
		if (count_params_w(r->config.model, r->config.act, r->config.act_sites, sh, v, &p) ==
			    AL_OK &&
		    p == want) {
			best = v;
			break;
		}
	}
	r->config.width = best;
	return AL_OK;
}

static void scaled_model(const long *w, int n, double f, char *buf, size_t cap)
{
	size_t l = (size_t)snprintf(buf, cap, "mlp:");
	for (int i = 0; i < n; i++) {
		long v = (long)(w[i] * f + 0.5);
		l += (size_t)snprintf(buf + l, cap > l ? cap - l : 0, "%s%ld", i ? "," : "",
				      v < 1 ? 1 : v);
	}
}

/* Scales the hidden widths of each run's MLP so that its total parameter
 * count is the closest to the baseline activation's on the unscaled
 * model. The run's cell stays the unscaled one (its table row and its
 * pairing with the baseline), its identity and key are the scaled run. */
static al_status match_params(al_sweep *sw, const char *where)
{
	const char *base = sw->match_baseline[0] ? sw->match_baseline : "relu";
	shape_cache cache[16];
	int ncache = 0;
	for (int i = 0; i < sw->nruns; i++) {
		al_sweep_run *r = &sw->runs[i];
		if (xt_is_trainer(r->trainer))
			continue; /* the trainers share one network per hidden/hinges */
		long w[64];
		int n = mlp_widths(r->config.model, w, 64);
		shape_cache *sh = NULL;
		AL_TRY(data_shape(r->config.data, cache, &ncache, 16, &sh));
		size_t target, cur;
		al_status cs = count_params(r->config.model, base, r->config.act_sites, sh, &target);
		if (cs == AL_OK)
			cs = count_params(r->config.model, r->config.act, r->config.act_sites, sh, &cur);
		if (cs != AL_OK)
			return al_err_ctx(cs, "%s: match_params: model '%s'", where, r->config.model);
		if (cur == target)
			continue;
		if (!n) {
			/* runs equal but for seed/fold/group share the result */
			int done = 0;
			for (int j = 0; j < i && !done; j++) {
				const al_sweep_run *q = &sw->runs[j];
				if (!xt_is_trainer(q->trainer) && !strcmp(q->config.model, r->config.model) &&
				    !strcmp(q->config.act, r->config.act) &&
				    !strcmp(q->config.act_sites, r->config.act_sites) &&
				    !strcmp(q->config.data, r->config.data)) {
					r->config.width = q->config.width;
					done = 1;
				}
			}
			if (!done)
				AL_TRY(match_width(r, sh, target, cur, where));
			AL_TRY(run_identity(r, 0));
			continue;
		}
		/* parameters grow with the scale: bisect, then take the closest of
		 * the two neighbouring width vectors */
		double lo = 1.0 / 64, hi = 64;
		char model[256], best[256];
		size_t p;
		snprintf(best, sizeof best, "%s", r->config.model);
		size_t bestd = cur > target ? cur - target : target - cur;
		for (int it = 0; it < 60; it++) {
			double mid = sqrt(lo * hi);
			scaled_model(w, n, mid, model, sizeof model);
			AL_TRY(count_params(model, r->config.act, r->config.act_sites, sh, &p));
			size_t d = p > target ? p - target : target - p;
			if (d < bestd) {
				bestd = d;
				snprintf(best, sizeof best, "%s", model);
			}
			if (p > target)
				hi = mid;
			else
				lo = mid;
		}
		if ((double)bestd > MATCH_TOL * (double)target)
			return al_err(AL_ERANGE,
				      "%s: match_params: model '%s' with '%s' gets no closer than %zu "
				      "parameters to the baseline's %zu (tolerance %.0f%%)",
				      where, r->config.model, r->config.act, bestd, target,
				      MATCH_TOL * 100);
		snprintf(r->config.model, sizeof r->config.model, "%s", best);
		AL_TRY(run_identity(r, 0));
	}
	return AL_OK;
}

void al_sweep_free(al_sweep *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->nruns; i++) {
		free(s->runs[i].ident);
		free(s->runs[i].cell);
	}
	free(s->runs);
	free(s);
}

al_status al_sweep_parse(const char *text, const char *where, const char *const *overrides,
			 int noverrides, al_sweep **out)
{
	*out = NULL;
	section *secs = calloc(MAXSEC, sizeof *secs);
	al_sweep *sw = calloc(1, sizeof *sw);
	if (!secs || !sw) {
		free(secs);
		free(sw);
		return al_err(AL_ENOMEM, "out of memory");
	}
	int nsec = 0, cap = 0;
	al_status st = read_ini(text, where, secs, &nsec);
	for (int i = 0; st == AL_OK && i < noverrides; i++) {
		const char *eq = strchr(overrides[i], '=');
		char key[64];
		if (!eq || eq == overrides[i] || (size_t)(eq - overrides[i]) >= sizeof key) {
			st = al_err(AL_EINVAL, "override '%s': expected key=value", overrides[i]);
			break;
		}
		snprintf(key, sizeof key, "%.*s", (int)(eq - overrides[i]), overrides[i]);
		for (char *c = key; *c; c++)
			if (*c == '-')
				*c = '_';
		if (!is_sweep_key(key) && !is_config_key(key)) {
			st = unknown_key(where, 0, key);
			break;
		}
		if (!eq[1]) {
			st = al_err(AL_EINVAL, "override '%s': no value", overrides[i]);
			break;
		}
		for (int s = 0; s < nsec && st == AL_OK; s++) {
			if (s > 0 && (!strcmp(key, "name") || !strcmp(key, "description") ||
				      !strcmp(key, "baseline")))
				continue;
			if (s > 0 && !sec_find(&secs[s], key))
				continue;
			st = sec_set(&secs[s], key, eq + 1, 0);
		}
	}
	if (st == AL_OK) {
		section *base = &secs[0];
		entry *e = sec_find(base, "name");
		if (e) {
			snprintf(sw->name, sizeof sw->name, "%s", e->value);
		} else {
			const char *b = strrchr(where, '/');
			b = b ? b + 1 : where;
			snprintf(sw->name, sizeof sw->name, "%s", b);
			size_t l = strlen(sw->name);
			if (l > 4 && !strcmp(sw->name + l - 4, ".ini"))
				sw->name[l - 4] = 0;
		}
		e = sec_find(base, "baseline");
		if (e) {
			if (strchr(e->value, '|'))
				st = al_err(AL_EINVAL, "%s:%d: key 'baseline' takes one value", where,
					    e->line);
			else
				snprintf(sw->baseline, sizeof sw->baseline, "%s", e->value);
		}
		e = sec_find(base, "description");
		if (e)
			snprintf(sw->description, sizeof sw->description, "%s", e->value);
		snprintf(sw->file, sizeof sw->file, "%s", where);
		if (nsec == 1)
			st = expand_group(sw, &cap, base, NULL, where);
		for (int g = 1; g < nsec && st == AL_OK; g++)
			st = expand_group(sw, &cap, base, &secs[g], where);
	}
	if (st == AL_OK && sw->nruns == 0)
		st = al_err(AL_EINVAL, "%s: the sweep has no runs", where);
	if (st == AL_OK && sw->match_params)
		st = match_params(sw, where);
	/* two cells that expand to the same run are one run */
	for (int i = 0; st == AL_OK && i < sw->nruns; i++)
		for (int j = 0; j < i; j++)
			if (!strcmp(sw->runs[i].key, sw->runs[j].key)) {
				st = al_err(AL_EINVAL,
					    "%s: two entries expand to the same run (group %s, act "
					    "%s, seed %llu); remove the duplicate",
					    where, sw->runs[i].group, sw->runs[i].act,
					    (unsigned long long)sw->runs[i].config.seed);
				break;
			}
	secs_free(secs, nsec);
	free(secs);
	if (st != AL_OK) {
		al_sweep_free(sw);
		return st;
	}
	*out = sw;
	return AL_OK;
}

al_status al_sweep_load(const char *path, const char *const *overrides, int noverrides,
			al_sweep **out)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return al_err(AL_EIO, "%s: cannot open experiment file", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	if (n < 0 || n > (1 << 24)) {
		fclose(f);
		return al_err(AL_EFORMAT, "%s: not a readable experiment file", path);
	}
	char *text = malloc((size_t)n + 1);
	if (!text) {
		fclose(f);
		return al_err(AL_ENOMEM, "out of memory");
	}
	size_t got = fread(text, 1, (size_t)n, f);
	fclose(f);
	text[got] = 0;
	if (memchr(text, 0, got)) {
		free(text);
		return al_err(AL_EFORMAT, "%s: contains NUL bytes (not a text file)", path);
	}
	al_status st = al_sweep_parse(text, path, overrides, noverrides, out);
	free(text);
	return st;
}
