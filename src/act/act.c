/* act.c — everything around the catalog table: spec-string parsing,
 * parameter layout, initialisation and projection, whole-tensor forward and
 * backward with per-layer / per-channel / per-neuron parameters, and the
 * catalog listings (text, JSON, markdown).
 * Not for: the scalar math of entries (elem_defs.h) or the table (catalog.c).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/act.h"

static const char *per_names[] = {"layer", "channel", "neuron"};

/* Shortest decimal that reads back to the same double. */
static void fmt_num(char *buf, size_t cap, double v)
{
	for (int prec = 6; prec <= 17; prec++) {
		snprintf(buf, cap, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

/* Reads a number; also accepts a fraction "1/3" and "e" (Euler's number). */
static int parse_num(const char *s, double *out)
{
	char *end;
	if (strcmp(s, "e") == 0) {
		*out = 2.718281828459045;
		return 1;
	}
	double v = strtod(s, &end);
	if (end == s)
		return 0;
	if (*end == '/') {
		const char *d = end + 1;
		double w = strtod(d, &end);
		if (end == d || w == 0)
			return 0;
		v /= w;
	}
	if (*end || !isfinite(v))
		return 0;
	*out = v;
	return 1;
}

/* Word-valued hypers list their choices as "a|b|c"; the special list
 * "@act" means any parameter-free, deterministic element-wise entry of the
 * catalog (the base of `adaptive`), valued by its catalog index. */
static int base_ok(const al_act_desc *d)
{
	return d && d->kind == AL_ACT_ELEMENT && d->nparams == 0 && !d->stochastic;
}

static int choice_index(const char *choices, const char *word)
{
	if (strcmp(choices, "@act") == 0) {
		const al_act_desc *d = al_act_find(word);
		if (!base_ok(d))
			return -1;
		for (int i = 0; i < al_act_count(); i++)
			if (al_act_get(i) == d)
				return i;
		return -1;
	}
	int i = 0;
	size_t l = strlen(word);
	for (const char *c = choices; c && *c; i++) {
		const char *e = strchr(c, '|');
		size_t cl = e ? (size_t)(e - c) : strlen(c);
		if (cl == l && strncmp(c, word, l) == 0)
			return i;
		c = e ? e + 1 : NULL;
	}
	return -1;
}

static void choice_word(const char *choices, int idx, char *buf, size_t cap)
{
	if (strcmp(choices, "@act") == 0) {
		const al_act_desc *d = al_act_get(idx);
		snprintf(buf, cap, "%s", d ? d->name : "?");
		return;
	}
	const char *c = choices;
	for (int i = 0; i < idx && c; i++) {
		c = strchr(c, '|');
		if (c)
			c++;
	}
	if (!c) {
		snprintf(buf, cap, "?");
		return;
	}
	const char *e = strchr(c, '|');
	snprintf(buf, cap, "%.*s", e ? (int)(e - c) : (int)strlen(c), c);
}

/* The choices spelled out for messages and listings. */
static const char *choices_text(const char *choices, char *buf, size_t cap)
{
	if (strcmp(choices, "@act") != 0)
		return choices;
	size_t l = 0;
	buf[0] = 0;
	for (int i = 0; i < al_act_count() && l + 1 < cap; i++)
		if (base_ok(al_act_get(i)))
			l += (size_t)snprintf(buf + l, cap - l, "%s%s", l ? "|" : "",
					      al_act_get(i)->name);
	return buf;
}

int al_act_nparams(const al_act_spec *s)
{
	return s->desc->t_nparams ? s->desc->t_nparams(s->hyper) : s->desc->nparams;
}

void al_act_param_name(const al_act_spec *s, int k, char *buf, size_t cap)
{
	if (s->desc->t_param_name)
		s->desc->t_param_name(s->hyper, k, buf, cap);
	else
		snprintf(buf, cap, "%s", k < s->desc->nparams ? s->desc->params[k].name : "?");
}

static void list_names(char *buf, size_t cap)
{
	size_t l = 0;
	buf[0] = 0;
	for (int i = 0; i < al_act_count() && l + 1 < cap; i++)
		l += (size_t)snprintf(buf + l, cap - l, "%s%s", i ? ", " : "", al_act_get(i)->name);
}

static void list_keys(const al_act_desc *d, char *buf, size_t cap)
{
	size_t l = 0;
	buf[0] = 0;
	for (int i = 0; i < d->nhyper && l + 1 < cap; i++) {
		if (d->hyper[i].choices) {
			char cb[1024];
			l += (size_t)snprintf(buf + l, cap - l, "%s=%s, ", d->hyper[i].name,
					      choices_text(d->hyper[i].choices, cb, sizeof cb));
		}
		else
			l += (size_t)snprintf(buf + l, cap - l, "%s, ", d->hyper[i].name);
	}
	for (int i = 0; i < d->nparams && l + 1 < cap; i++)
		l += (size_t)snprintf(buf + l, cap - l, "%s (initial value), ", d->params[i].name);
	if (l + 1 < cap)
		snprintf(buf + l, cap - l, "per=layer|channel|neuron");
}

/* A numeric hyper directly followed by a 0|1 hyper named "learn" (the
 * window entries' influence) also takes the value "learn": KEY=learn is
 * learn=1 with KEY's value as the initial one. Returns the learn index. */
static int learn_hyper(const al_act_desc *d, int i)
{
	if (i + 1 < d->nhyper && !d->hyper[i].choices && strcmp(d->hyper[i + 1].name, "learn") == 0 &&
	    d->hyper[i + 1].choices && strcmp(d->hyper[i + 1].choices, "0|1") == 0)
		return i + 1;
	return -1;
}

al_status al_act_parse(const char *text, al_act_spec *out)
{
	memset(out, 0, sizeof *out);
	if (!text || !*text)
		return al_err(AL_EINVAL, "activation spec is empty");
	char buf[512];
	if (strlen(text) >= sizeof buf)
		return al_err(AL_EINVAL, "activation spec too long: '%.40s...'", text);
	strcpy(buf, text);
	char *colon = strchr(buf, ':');
	if (colon)
		*colon = 0;
	const al_act_desc *d = al_act_find(buf);
	if (!d) {
		char names[4096];
		list_names(names, sizeof names);
		return al_err(AL_EINVAL, "unknown activation '%s'; valid names: %s", buf, names);
	}
	out->desc = d;
	out->per = d->default_per;
	for (int i = 0; i < d->nhyper; i++)
		out->hyper[i] = d->hyper[i].def;
	int set_init[AL_ACT_MAXP] = {0}, per_given = 0, learn_word = -1, learn_given = 0;
	double init_val[AL_ACT_MAXP];
	for (char *kv = colon ? colon + 1 : NULL; kv && *kv;) {
		char *next = strchr(kv, ',');
		if (next)
			*next++ = 0;
		char *eq = strchr(kv, '=');
		if (!eq || eq == kv || !eq[1]) {
			char keys[2048];
			list_keys(d, keys, sizeof keys);
			return al_err(AL_EINVAL, "activation '%s': expected key=value, got '%s'; keys: %s",
				      d->name, kv, keys);
		}
		*eq = 0;
		const char *key = kv, *val = eq + 1;
		int done = 0;
		if (strcmp(key, "per") == 0) {
			int idx = choice_index("layer|channel|neuron", val);
			if (idx < 0)
				return al_err(AL_EINVAL,
					      "activation '%s': per=%s; valid: layer, channel, neuron",
					      d->name, val);
			out->per = (al_per)idx;
			per_given = done = 1;
		}
		for (int i = 0; i < d->nhyper && !done; i++) {
			if (strcmp(d->hyper[i].name, key) != 0)
				continue;
			done = 1;
			if (d->hyper[i].choices) {
				int idx = choice_index(d->hyper[i].choices, val);
				char cb[1024];
				if (idx < 0)
					return al_err(AL_EINVAL, "activation '%s': %s=%s; valid: %s",
						      d->name, key, val,
						      choices_text(d->hyper[i].choices, cb, sizeof cb));
				out->hyper[i] = idx;
				if (strcmp(key, "learn") == 0)
					learn_given = 1;
			} else if (strcmp(val, "learn") == 0 && learn_hyper(d, i) >= 0) {
				/* KEY=learn: the parameter KEY is trained (learn=1),
				 * starting from KEY's default or given value */
				learn_word = i;
			} else if (!parse_num(val, &out->hyper[i])) {
				return al_err(AL_EINVAL, "activation '%s': %s=%s is not a number%s",
					      d->name, key, val,
					      learn_hyper(d, i) >= 0 ? " (or 'learn')" : "");
			}
		}
		for (int i = 0; i < d->nparams && !done; i++) {
			if (strcmp(d->params[i].name, key) != 0)
				continue;
			done = 1;
			if (!parse_num(val, &init_val[i]))
				return al_err(AL_EINVAL, "activation '%s': %s=%s is not a number",
					      d->name, key, val);
			set_init[i] = 1;
		}
		if (!done) {
			char keys[2048];
			list_keys(d, keys, sizeof keys);
			return al_err(AL_EINVAL, "activation '%s': unknown key '%s'; keys: %s", d->name,
				      key, keys);
		}
		kv = next;
	}
	if (learn_word >= 0) {
		int li = learn_hyper(d, learn_word);
		if (learn_given && out->hyper[li] == 0)
			return al_err(AL_EINVAL, "activation spec '%s': %s=learn contradicts learn=0",
				      text, d->hyper[learn_word].name);
		out->hyper[li] = 1;
	}
	if (d->check) {
		al_status st = d->check(out->hyper, out->per, per_given);
		if (st != AL_OK)
			return al_err_ctx(st, "activation spec '%s'", text);
	}
	for (int i = 0; i < d->nparams; i++)
		out->init[i] = d->params[i].init;
	if (d->init)
		d->init(out->hyper, out->init);
	for (int i = 0; i < d->nparams; i++) {
		if (set_init[i])
			out->init[i] = init_val[i];
		if (al_param_bounded(&d->params[i]) &&
		    (out->init[i] < d->params[i].lo || out->init[i] > d->params[i].hi))
			return al_err(AL_ERANGE, "activation '%s': initial %s=%g outside [%g, %g]",
				      d->name, d->params[i].name, out->init[i], d->params[i].lo,
				      d->params[i].hi);
	}
	/* canonical text: every default spelled out */
	size_t l = (size_t)snprintf(out->text, sizeof out->text, "%s", d->name);
	char sep = ':';
	for (int i = 0; i < d->nhyper; i++) {
		char v[64];
		if (d->hyper[i].choices)
			choice_word(d->hyper[i].choices, (int)out->hyper[i], v, sizeof v);
		else
			fmt_num(v, sizeof v, out->hyper[i]);
		l += (size_t)snprintf(out->text + l, sizeof out->text - l, "%c%s=%s", sep,
				      d->hyper[i].name, v);
		sep = ',';
	}
	if (al_act_nparams(out) > 0) {
		l += (size_t)snprintf(out->text + l, sizeof out->text - l, "%cper=%s", sep,
				      per_names[out->per]);
		for (int i = 0; i < d->nparams && l < sizeof out->text; i++) {
			char v[64];
			fmt_num(v, sizeof v, out->init[i]);
			l += (size_t)snprintf(out->text + l, sizeof out->text - l, ",%s=%s",
					      d->params[i].name, v);
		}
	}
	return AL_OK;
}

size_t al_act_groups(const al_act_spec *s, int c, int h, int w)
{
	if (al_act_nparams(s) == 0)
		return 0;
	switch (s->per) {
	case AL_PER_LAYER: return 1;
	case AL_PER_CHANNEL: return (size_t)c;
	case AL_PER_NEURON: return (size_t)c * (size_t)h * (size_t)w;
	}
	return 1;
}

void al_act_init_params(const al_act_spec *s, float *params, size_t groups, al_rng *r)
{
	if (s->desc->t_init) {
		s->desc->t_init(s->hyper, params, groups, r);
		return;
	}
	int P = s->desc->nparams;
	for (size_t g = 0; g < groups; g++)
		for (int k = 0; k < P; k++)
			params[g * (size_t)P + (size_t)k] = (float)s->init[k];
}

void al_act_project(const al_act_spec *s, float *params, size_t groups)
{
	const al_act_desc *d = s->desc;
	int P = al_act_nparams(s);
	if (d->project) {
		d->project(s->hyper, params, groups, P);
		return;
	}
	if (d->t_nparams)
		return; /* whole-tensor entries without a hook have no static bounds */
	for (int k = 0; k < P; k++) {
		float lo = (float)d->params[k].lo, hi = (float)d->params[k].hi;
		if (!al_param_bounded(&d->params[k]))
			continue;
		for (size_t g = 0; g < groups; g++) {
			float *v = &params[g * (size_t)P + (size_t)k];
			*v = *v < lo ? lo : (*v > hi ? hi : *v);
		}
	}
}

/* ---- whole-tensor kernels ------------------------------------------------- */
/* Per-layer parameters: the flat tensor is cut into fixed blocks; the
 * backward reduces per-block partial parameter sums in block order, so the
 * result is the same for any thread count. */
#define ACT_BLOCK 16384

static size_t nblocks(size_t total) { return (total + ACT_BLOCK - 1) / ACT_BLOCK; }

size_t al_act_scratch_floats(const al_act_spec *s, int n, int c, int h, int w)
{
	if (s->desc->kind != AL_ACT_ELEMENT)
		return s->desc->t_scratch ? s->desc->t_scratch(s->hyper, s->per, n, c, h, w) : 0;
	int P = al_act_nparams(s);
	size_t hw = (size_t)h * (size_t)w;
	if (P == 0 || s->per == AL_PER_NEURON || (s->per == AL_PER_CHANNEL && hw == 1))
		return 0;
	if (s->per == AL_PER_CHANNEL)
		return (size_t)n * (size_t)c * (size_t)P; /* one partial sum per (sample, channel) */
	return nblocks(n * (size_t)c * hw) * (size_t)P;
}

static void set_args(al_act_args *a, const al_act_spec *s, const float *p, size_t stride,
		     int train, al_rng *rng)
{
	memset(a, 0, sizeof *a);
	a->h = s->hyper;
	for (int k = 0; k < s->desc->nparams; k++)
		a->p[k] = p ? p + k : NULL;
	a->pstride = stride;
	a->train = train;
	a->rng = rng;
}

/* Per-block RNG streams for stochastic entries. */
static al_rng block_rng(const al_rng *r, size_t b)
{
	al_rng z = {{0}};
	return r ? al_rng_derive(r, b) : z;
}

void al_act_forward(const al_act_spec *s, const float *params, int n, int c, int h, int w,
		    const float *x, float *y, int train, al_rng *rng)
{
	const al_act_desc *d = s->desc;
	if (d->kind != AL_ACT_ELEMENT) {
		d->t_fwd(s->hyper, s->per, params, n, c, h, w, x, y);
		return;
	}
	int P = d->nparams;
	size_t hw = (size_t)h * (size_t)w, F = (size_t)c * hw;
	size_t total = (size_t)n * F;
	al_per per = s->per;
	if (per == AL_PER_CHANNEL && hw == 1)
		per = AL_PER_NEURON; /* dense input: a channel is a neuron */
	if (P == 0 || per == AL_PER_LAYER) {
		size_t nb = nblocks(total);
#pragma omp parallel for schedule(static)
		for (size_t b = 0; b < nb; b++) {
			size_t i0 = b * ACT_BLOCK, len = total - i0 < ACT_BLOCK ? total - i0 : ACT_BLOCK;
			al_act_args a;
			al_rng r = block_rng(rng, b);
			set_args(&a, s, P ? params : NULL, 0, train, &r);
			d->fwd(&a, len, x + i0, y + i0);
		}
	} else if (per == AL_PER_CHANNEL) {
		size_t ns = (size_t)n * (size_t)c;
#pragma omp parallel for schedule(static)
		for (size_t sl = 0; sl < ns; sl++) {
			size_t ch = sl % (size_t)c;
			al_act_args a;
			al_rng r = block_rng(rng, sl);
			set_args(&a, s, params + ch * (size_t)P, 0, train, &r);
			d->fwd(&a, hw, x + sl * hw, y + sl * hw);
		}
	} else {
		size_t fb = nblocks(F), nt = (size_t)n * fb;
#pragma omp parallel for schedule(static)
		for (size_t t = 0; t < nt; t++) {
			size_t i = t / fb, f0 = (t % fb) * ACT_BLOCK;
			size_t len = F - f0 < ACT_BLOCK ? F - f0 : ACT_BLOCK;
			al_act_args a;
			al_rng r = block_rng(rng, t);
			set_args(&a, s, params + f0 * (size_t)P, (size_t)P, train, &r);
			d->fwd(&a, len, x + i * F + f0, y + i * F + f0);
		}
	}
}

void al_act_backward(const al_act_spec *s, const float *params, int n, int c, int h, int w,
		     const float *x, const float *y, const float *dy, float *dx, float *dparams,
		     float *scratch, int train, al_rng *rng)
{
	const al_act_desc *d = s->desc;
	if (d->kind != AL_ACT_ELEMENT) {
		d->t_bwd(s->hyper, s->per, params, n, c, h, w, x, y, dy, dx, dparams, scratch);
		return;
	}
	int P = d->nparams;
	size_t hw = (size_t)h * (size_t)w, F = (size_t)c * hw;
	size_t total = (size_t)n * F;
	al_per per = s->per;
	if (per == AL_PER_CHANNEL && hw == 1)
		per = AL_PER_NEURON;
	if (P == 0 || per == AL_PER_LAYER) {
		size_t nb = nblocks(total);
#pragma omp parallel for schedule(static)
		for (size_t b = 0; b < nb; b++) {
			size_t i0 = b * ACT_BLOCK, len = total - i0 < ACT_BLOCK ? total - i0 : ACT_BLOCK;
			al_act_args a;
			al_rng r = block_rng(rng, b);
			set_args(&a, s, P ? params : NULL, 0, train, &r);
			float *dp[AL_ACT_MAXP];
			for (int k = 0; k < P; k++) {
				scratch[b * (size_t)P + (size_t)k] = 0;
				dp[k] = &scratch[b * (size_t)P + (size_t)k];
			}
			d->bwd(&a, len, x + i0, y + i0, dy + i0, dx + i0, dp);
		}
		for (size_t b = 0; b < nb && P; b++)
			for (int k = 0; k < P; k++)
				dparams[k] += scratch[b * (size_t)P + (size_t)k];
	} else if (per == AL_PER_CHANNEL) {
		/* Planes (sample i, channel ch) in memory order, in parallel, each
		 * writing its P partial sums to scratch[(i c + ch) P + k]; then each
		 * channel's partials are added in sample order. Same sums, same order
		 * as one thread walking a channel's planes, for any thread count. */
		size_t ns = (size_t)n * (size_t)c;
#pragma omp parallel for schedule(static)
		for (size_t sl = 0; sl < ns; sl++) {
			size_t ch = sl % (size_t)c;
			al_act_args a;
			al_rng r = block_rng(rng, sl);
			set_args(&a, s, params + ch * (size_t)P, 0, train, &r);
			float *dp[AL_ACT_MAXP];
			for (int k = 0; k < P; k++) {
				scratch[sl * (size_t)P + (size_t)k] = 0;
				dp[k] = &scratch[sl * (size_t)P + (size_t)k];
			}
			d->bwd(&a, hw, x + sl * hw, y + sl * hw, dy + sl * hw, dx + sl * hw, dp);
		}
		for (int ch = 0; ch < c; ch++)
			for (int k = 0; k < P; k++) {
				float acc = 0;
				for (int i = 0; i < n; i++)
					acc += scratch[((size_t)i * (size_t)c + (size_t)ch) * (size_t)P +
						       (size_t)k];
				dparams[(size_t)ch * (size_t)P + (size_t)k] += acc;
			}
	} else {
		size_t fb = nblocks(F);
#pragma omp parallel for schedule(static)
		for (size_t b = 0; b < fb; b++) {
			size_t f0 = b * ACT_BLOCK, len = F - f0 < ACT_BLOCK ? F - f0 : ACT_BLOCK;
			float *dp[AL_ACT_MAXP];
			for (int k = 0; k < P; k++)
				dp[k] = dparams + f0 * (size_t)P + (size_t)k;
			for (int i = 0; i < n; i++) {
				al_act_args a;
				al_rng r = block_rng(rng, (size_t)i * fb + b);
				set_args(&a, s, params + f0 * (size_t)P, (size_t)P, train, &r);
				size_t o = (size_t)i * F + f0;
				d->bwd(&a, len, x + o, y + o, dy + o, dx + o, dp);
			}
		}
	}
}

/* ---- listings -------------------------------------------------------------- */
static const char *kind_name(al_act_kind k)
{
	return k == AL_ACT_ELEMENT ? "element" : k == AL_ACT_WINDOW ? "window" : "learned";
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void json_num(FILE *f, double v)
{
	char b[64];
	if (isinf(v)) {
		fputs(v > 0 ? "\"inf\"" : "\"-inf\"", f);
		return;
	}
	fmt_num(b, sizeof b, v);
	fputs(b, f);
}

void al_act_list_json(FILE *f)
{
	fputs("[\n", f);
	for (int i = 0; i < al_act_count(); i++) {
		const al_act_desc *d = al_act_get(i);
		al_act_spec s;
		char buf[64];
		al_act_parse(d->name, &s);
		fputs("  {\"name\": ", f);
		json_str(f, d->name);
		fputs(", \"aliases\": [", f);
		for (const char *a = d->aliases, *first = a; a && *a;) {
			const char *e = strchr(a, ' ');
			snprintf(buf, sizeof buf, "%.*s", e ? (int)(e - a) : (int)strlen(a), a);
			fprintf(f, "%s", a == first ? "" : ", ");
			json_str(f, buf);
			a = e ? e + 1 : NULL;
		}
		fputs("], \"kind\": ", f);
		json_str(f, kind_name(d->kind));
		fputs(", \"family\": ", f);
		json_str(f, d->family);
		fputs(", \"formula\": ", f);
		json_str(f, d->formula);
		fputs(", \"citation\": ", f);
		json_str(f, d->citation);
		fputs(", \"hyper\": {", f);
		for (int k = 0; k < d->nhyper; k++) {
			fprintf(f, "%s", k ? ", " : "");
			json_str(f, d->hyper[k].name);
			fputs(": ", f);
			if (d->hyper[k].choices) {
				choice_word(d->hyper[k].choices, (int)d->hyper[k].def, buf, sizeof buf);
				json_str(f, buf);
			} else {
				json_num(f, d->hyper[k].def);
			}
		}
		fputs("}, \"params\": [", f);
		int P = al_act_nparams(&s);
		for (int k = 0; k < P; k++) {
			al_act_param_name(&s, k, buf, sizeof buf);
			fprintf(f, "%s{\"name\": ", k ? ", " : "");
			json_str(f, buf);
			fputs(", \"init\": ", f);
			json_num(f, k < AL_ACT_MAXP ? s.init[k] : 0);
			if (k < d->nparams && al_param_bounded(&d->params[k])) {
				fputs(", \"lo\": ", f);
				json_num(f, d->params[k].lo);
				fputs(", \"hi\": ", f);
				json_num(f, d->params[k].hi);
			}
			fputs("}", f);
		}
		fputs("], \"per\": ", f);
		json_str(f, per_names[d->default_per]);
		fputs(", \"spec\": ", f);
		json_str(f, s.text);
		fprintf(f, "}%s\n", i + 1 < al_act_count() ? "," : "");
	}
	fputs("]\n", f);
}

static void hyper_text(const al_act_desc *d, char *buf, size_t cap)
{
	size_t l = 0;
	buf[0] = 0;
	for (int k = 0; k < d->nhyper && l + 1 < cap; k++) {
		char v[64];
		if (d->hyper[k].choices) {
			char w[32];
			choice_word(d->hyper[k].choices, (int)d->hyper[k].def, w, sizeof w);
			char cb[1024];
			snprintf(v, sizeof v, "%s (%s)", w,
				 strcmp(d->hyper[k].choices, "@act") == 0
					 ? "any parameter-free entry"
					 : choices_text(d->hyper[k].choices, cb, sizeof cb));
		} else {
			fmt_num(v, sizeof v, d->hyper[k].def);
		}
		l += (size_t)snprintf(buf + l, cap - l, "%s%s=%s", k ? ", " : "", d->hyper[k].name, v);
	}
}

static void param_text(const al_act_spec *s, char *buf, size_t cap)
{
	size_t l = 0;
	buf[0] = 0;
	int P = al_act_nparams(s);
	for (int k = 0; k < P && l + 1 < cap; k++) {
		char nm[64], v[64];
		al_act_param_name(s, k, nm, sizeof nm);
		fmt_num(v, sizeof v, k < AL_ACT_MAXP ? s->init[k] : 0);
		l += (size_t)snprintf(buf + l, cap - l, "%s%s=%s", k ? ", " : "", nm, v);
	}
}

void al_act_list_text(FILE *f)
{
	fprintf(f, "%-14s %-8s %-10s %-34s %s\n", "name", "kind", "family", "hyper-parameters",
		"parameters (init)");
	for (int i = 0; i < al_act_count(); i++) {
		const al_act_desc *d = al_act_get(i);
		al_act_spec s;
		char hb[512], pb[512];
		al_act_parse(d->name, &s);
		hyper_text(d, hb, sizeof hb);
		param_text(&s, pb, sizeof pb);
		fprintf(f, "%-14s %-8s %-10s %-34s %s\n", d->name, kind_name(d->kind), d->family,
			*hb ? hb : "-", *pb ? pb : "-");
	}
}

void al_act_list_markdown(FILE *f)
{
	fputs("# Activation catalog\n\n"
	      "Generated by `make docs` (`actlab act list --markdown`) from the catalog table in\n"
	      "`src/act/catalog.c`; do not edit by hand.\n\n"
	      "Spec strings: `NAME[:key=value,...]`. Keys are the hyper-parameters below, the\n"
	      "initial value of any trainable parameter by its name, and `per=layer|channel|neuron`\n"
	      "for entries with parameters. Parameters are stored as `[G, P]` (G groups: 1, C or\n"
	      "C*H*W), in the order listed.\n\n",
	      f);
	fputs("| name | kind | formula | hyper-parameters (defaults) | parameters (init) | per "
	      "(paper default) | citation |\n",
	      f);
	fputs("|---|---|---|---|---|---|---|\n", f);
	for (int i = 0; i < al_act_count(); i++) {
		const al_act_desc *d = al_act_get(i);
		al_act_spec s;
		char hb[512], pb[512];
		al_act_parse(d->name, &s);
		hyper_text(d, hb, sizeof hb);
		param_text(&s, pb, sizeof pb);
		fprintf(f, "| `%s`%s%s%s | %s | `%s` | %s | %s | %s | %s |\n", d->name,
			d->aliases ? " (alias " : "", d->aliases ? d->aliases : "", d->aliases ? ")" : "", kind_name(d->kind),
			d->formula, *hb ? hb : "-", *pb ? pb : "-",
			al_act_nparams(&s) ? per_names[d->default_per] : "-", d->citation);
	}
}
