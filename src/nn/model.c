/* model.c — builds a model from cfg text, owns all its memory, and runs
 * forward and backward over the layer list.
 *
 * Layers run in file order; a layer's inputs are the previous layer unless
 * the section says `inputs = -1,-3` (relative) or names layers
 * (`inputs = c1,c3`); [shortcut] `from = -3` and [concat] `layers = ...`
 * are the darknet spellings. Backward visits layers in reverse: the first
 * consumer (in reverse order) of a layer writes its gradient directly, later
 * consumers write to a temporary that is added, so fan-out (residual
 * blocks) sums gradients without any zeroing pass.
 * Not for: layer math (layers_*.c), parsing (cfg.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/nn.h"
#include "nn/cfg.h"
#include "nn/layer.h"

struct al_model {
	int nl;
	al_layer *layers;
	char *cfg_text;
	char act_spec[256];
	float *params, *grads, *state;
	size_t np, nw, nstate;
	int classes, in_c, in_h, in_w;
	/* activation arena */
	int cap_n, cur_n, fwd_ready;
	float *arena;
	float *work; /* workspace shared by all layers */
	float **ybuf, **dybuf, **sbuf;
	float *tmp;          /* fan-out gradients: ntmp slots of tmp_floats */
	size_t tmp_floats;
	int ntmp;
	int *nconsumers;
	float *input_grad;
	int want_input_grad;
	al_rng step_rng;
	int nact; /* activation layers with parameters */
	int nsites; /* $ACT sites */
	int *act_idx;
};

al_model_opts al_model_opts_default(void)
{
	al_model_opts o;
	memset(&o, 0, sizeof o);
	o.act = "relu";
	o.act_sites = "all";
	o.in_c = 1;
	o.in_h = 28;
	o.in_w = 28;
	o.classes = 10;
	o.seed = 1;
	return o;
}

/* ---- $VAR substitution ---------------------------------------------------- */
static al_status substitute(const char *text, const al_model_opts *o, const char *where,
			    char **out)
{
	size_t cap = strlen(text) * 2 + 4096, l = 0;
	char *r = malloc(cap);
	if (!r)
		return al_err(AL_ENOMEM, "%s: out of memory", where);
	int comment = 0, line_start = 1;
	for (const char *p = text; *p;) {
		if (line_start) {
			const char *q = p;
			while (*q == ' ' || *q == '\t')
				q++;
			comment = *q == '#' || *q == ';';
		}
		line_start = *p == '\n';
		if (*p == '$' && !comment) {
			const char *e = p + 1;
			while ((*e >= 'A' && *e <= 'Z') || (*e >= '0' && *e <= '9') || *e == '_')
				e++;
			size_t nl = (size_t)(e - p - 1);
			char name[64], val[256];
			snprintf(name, sizeof name, "%.*s", (int)nl, p + 1);
			val[0] = 0;
			int found = 0;
			if (strcmp(name, "ACT") == 0) {
				snprintf(val, sizeof val, "$ACT"); /* resolved per site */
				found = 1;
			} else if (strcmp(name, "CLASSES") == 0) {
				snprintf(val, sizeof val, "%d", o->classes);
				found = 1;
			}
			for (int i = 0; i < 8 && o->vars[i] && !found; i++) {
				const char *eq = strchr(o->vars[i], '=');
				if (eq && (size_t)(eq - o->vars[i]) == nl &&
				    strncmp(o->vars[i], name, nl) == 0) {
					snprintf(val, sizeof val, "%s", eq + 1);
					found = 1;
				}
			}
			if (!found) {
				/* a default may follow: $WIDTH:256 */
				if (*e == ':') {
					const char *d = e + 1, *de = d;
					while (*de && *de != '\n' && *de != ' ' && *de != ',' && *de != ';')
						de++;
					snprintf(val, sizeof val, "%.*s", (int)(de - d), d);
					e = de;
					found = 1;
				}
			} else if (*e == ':') {
				while (*e && *e != '\n' && *e != ' ' && *e != ',' && *e != ';')
					e++;
			}
			if (!found) {
				free(r);
				return al_err(AL_EINVAL, "%s: variable $%s is not set (give %s=VALUE)",
					      where, name, name);
			}
			size_t vl = strlen(val);
			if (l + vl + 1 >= cap) {
				free(r);
				return al_err(AL_EINVAL, "%s: substituted text too long", where);
			}
			memcpy(r + l, val, vl);
			l += vl;
			p = e;
		} else {
			if (l + 2 >= cap) {
				free(r);
				return al_err(AL_EINVAL, "%s: text too long", where);
			}
			r[l++] = *p++;
		}
	}
	r[l] = 0;
	*out = r;
	return AL_OK;
}

/* ---- act sites ------------------------------------------------------------ */
static al_status site_selected(const char *sites, int site, int *sel)
{
	if (!sites || strcmp(sites, "all") == 0) {
		*sel = 1;
		return AL_OK;
	}
	if (strcmp(sites, "first") == 0) {
		*sel = site == 1;
		return AL_OK;
	}
	if (strcmp(sites, "none") == 0) {
		*sel = 0;
		return AL_OK;
	}
	*sel = 0;
	for (const char *p = sites; *p;) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p || v < 1)
			return al_err(AL_EINVAL,
				      "--act-sites '%s': expected all, first, none or a list of "
				      "1-based site numbers like 1,3",
				      sites);
		if (v == site)
			*sel = 1;
		p = end;
		while (*p == ',')
			p++;
	}
	return AL_OK;
}

/* [net] input = CxHxW: the model's default input shape (1x28x28 unless
 * said; channels/height/width, when given, are the default too). */
static al_status net_input(al_cfg_section *s, int *c, int *h, int *w)
{
	int hc = al_cfg_has(s, "channels"), hh = al_cfg_has(s, "height"), hw = al_cfg_has(s, "width");
	AL_TRY(al_cfg_int(s, "channels", 1, 1, 1 << 16, c));
	AL_TRY(al_cfg_int(s, "height", 28, 1, 1 << 16, h));
	AL_TRY(al_cfg_int(s, "width", 28, 1, 1 << 16, w));
	const char *in = al_cfg_str(s, "input", NULL);
	if (!in)
		return AL_OK;
	int ic, ih, iw, used = 0;
	if (sscanf(in, "%dx%dx%d%n", &ic, &ih, &iw, &used) != 3 || in[used] || ic < 1 || ih < 1 ||
	    iw < 1 || ic > (1 << 16) || ih > (1 << 16) || iw > (1 << 16))
		return al_err(AL_EINVAL, "%s:%d: [net] input = '%s': expected CxHxW, e.g. 3x32x32",
			      s->where, s->line, in);
	if ((hc && ic != *c) || (hh && ih != *h) || (hw && iw != *w))
		return al_err(AL_EINVAL,
			      "%s:%d: [net] input = %s contradicts channels/height/width %dx%dx%d",
			      s->where, s->line, in, *c, *h, *w);
	*c = ic;
	*h = ih;
	*w = iw;
	return AL_OK;
}

al_status al_model_defaults(const char *desc, int *c, int *h, int *w, int *classes)
{
	*c = 1;
	*h = *w = 28;
	*classes = 10;
	char *text = NULL;
	const char *src = al_zoo_cfg(desc);
	if (!src) {
		FILE *f = fopen(desc, "rb");
		if (!f)
			return al_err(AL_EINVAL, "model '%s' is neither a zoo name nor a readable file",
				      desc);
		text = malloc((1 << 22) + 1);
		size_t got = text ? fread(text, 1, 1 << 22, f) : 0;
		fclose(f);
		if (!text)
			return al_err(AL_ENOMEM, "%s: out of memory", desc);
		text[got] = 0;
		src = text;
	}
	al_cfg *cfg = malloc(sizeof *cfg);
	al_status st = cfg ? al_cfg_parse(src, desc, cfg) : al_err(AL_ENOMEM, "out of memory");
	if (st == AL_OK && cfg->nsec > 0 && strcmp(cfg->sec[0].type, "net") == 0) {
		st = net_input(&cfg->sec[0], c, h, w);
		if (st == AL_OK)
			st = al_cfg_int(&cfg->sec[0], "classes", 10, 1, 1 << 24, classes);
	}
	free(cfg);
	free(text);
	return st;
}

/* A site list may only name sites the model has. */
static al_status sites_in_range(const char *sites, int nsites, const char *where)
{
	if (!sites || !strcmp(sites, "all") || !strcmp(sites, "first") || !strcmp(sites, "none"))
		return AL_OK;
	for (const char *p = sites; *p;) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p)
			break; /* site_selected reported the syntax */
		if (v > nsites)
			return al_err(AL_EINVAL,
				      "--act-sites '%s': %s has %d activation site%s ($ACT), no site %ld",
				      sites, where, nsites, nsites == 1 ? "" : "s", v);
		p = end;
		while (*p == ',')
			p++;
	}
	return AL_OK;
}

static const al_layer_ops *find_kind(const char *type)
{
	for (int i = 0; al_layer_kinds[i]; i++)
		if (strcmp(al_layer_kinds[i]->type, type) == 0)
			return al_layer_kinds[i];
	return NULL;
}

static void kind_list(char *buf, size_t cap)
{
	size_t l = 0;
	buf[0] = 0;
	for (int i = 0; al_layer_kinds[i] && l + 1 < cap; i++)
		l += (size_t)snprintf(buf + l, cap - l, "%s%s", i ? ", " : "", al_layer_kinds[i]->type);
}

/* Resolves one input reference: a relative index (-1 = previous layer) or
 * a layer name. cur = index of the layer being built. */
static al_status resolve_ref(al_model *m, al_cfg_section *s, int cur, const char *ref, int *out)
{
	char *end;
	long v = strtol(ref, &end, 10);
	if (end != ref && *end == 0) {
		long idx = v < 0 ? cur + v : v;
		if (idx < -1 || idx >= cur)
			return al_err(AL_EINVAL, "%s:%d: [%s] input %s refers to no earlier layer",
				      s->where, s->line, s->type, ref);
		*out = (int)idx;
		return AL_OK;
	}
	if (strcmp(ref, "input") == 0) {
		*out = -1;
		return AL_OK;
	}
	for (int i = cur - 1; i >= 0; i--)
		if (strcmp(m->layers[i].name, ref) == 0) {
			*out = i;
			return AL_OK;
		}
	return al_err(AL_EINVAL, "%s:%d: [%s] input '%s' is not the name of an earlier layer",
		      s->where, s->line, s->type, ref);
}

static al_status parse_inputs(al_model *m, al_cfg_section *s, int cur, al_layer *l)
{
	const char *v = NULL;
	int prepend_prev = 0;
	if (al_cfg_has(s, "inputs"))
		v = al_cfg_str(s, "inputs", NULL);
	else if (al_cfg_has(s, "layers"))
		v = al_cfg_str(s, "layers", NULL);
	else if (al_cfg_has(s, "from")) {
		v = al_cfg_str(s, "from", NULL);
		prepend_prev = 1;
	}
	l->nin = 0;
	if (!v || prepend_prev)
		l->src[l->nin++] = cur - 1;
	for (const char *p = v; p && *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		if (!*p)
			break;
		char ref[64];
		size_t k = 0;
		while (*p && *p != ',' && *p != ' ' && k + 1 < sizeof ref)
			ref[k++] = *p++;
		ref[k] = 0;
		if (l->nin >= AL_MAX_INPUTS)
			return al_err(AL_EINVAL, "%s:%d: [%s] more than %d inputs", s->where, s->line,
				      s->type, AL_MAX_INPUTS);
		AL_TRY(resolve_ref(m, s, cur, ref, &l->src[l->nin]));
		l->nin++;
	}
	for (int k = 0; k < l->nin; k++) {
		int sidx = l->src[k];
		if (sidx < 0) {
			l->in_c[k] = m->in_c;
			l->in_h[k] = m->in_h;
			l->in_w[k] = m->in_w;
		} else {
			l->in_c[k] = m->layers[sidx].out_c;
			l->in_h[k] = m->layers[sidx].out_h;
			l->in_w[k] = m->layers[sidx].out_w;
		}
	}
	return AL_OK;
}

void al_model_free(al_model *m)
{
	if (!m)
		return;
	for (int i = 0; i < m->nl; i++)
		if (m->layers[i].ops && m->layers[i].ops->free)
			m->layers[i].ops->free(&m->layers[i]);
	free(m->layers);
	free(m->cfg_text);
	al_free(m->params);
	al_free(m->grads);
	al_free(m->state);
	al_free(m->arena);
	al_free(m->work);
	al_free(m->tmp);
	al_free(m->input_grad);
	free(m->ybuf);
	free(m->dybuf);
	free(m->sbuf);
	free(m->nconsumers);
	free(m->act_idx);
	free(m);
}

/* The hypers an activation layer's training may rewrite (its entry's
 * state_hyper) live in the layer state after the input statistics. */
static void state_hypers_store(al_layer *l)
{
	for (int k = 0; al_layer_has_hist(l) && k < l->act.desc->n_state_hyper; k++)
		l->state[AL_ACT_HIST_STATE + k] = (float)l->act.hyper[l->act.desc->state_hyper[k]];
}

/* ... and back: a float state value that differs from the hyper's rounding
 * replaces it (a spec's own value is kept when the state still holds it). */
static void state_hypers_load(al_layer *l)
{
	for (int k = 0; al_layer_has_hist(l) && k < l->act.desc->n_state_hyper; k++) {
		double *h = &l->act.hyper[l->act.desc->state_hyper[k]];
		float v = l->state[AL_ACT_HIST_STATE + k];
		if ((float)*h != v)
			*h = (double)v;
	}
}

static al_status build(al_model *m, al_cfg *cfg, const al_model_opts *o, const char *where)
{
	int site = 0;
	int cap = cfg->nsec * 2 + 1;
	m->layers = calloc((size_t)cap, sizeof *m->layers);
	if (!m->layers)
		return al_err(AL_ENOMEM, "%s: out of memory", where);
	al_init_kind net_init = AL_INIT_TORCH;
	for (int si = 0; si < cfg->nsec; si++) {
		al_cfg_section *s = &cfg->sec[si];
		if (strcmp(s->type, "net") == 0) {
			if (si != 0)
				return al_err(AL_EINVAL, "%s:%d: [net] must be the first section",
					      s->where, s->line);
			const char *init = al_cfg_str(s, "init", "torch");
			if (al_init_parse(init, &net_init) != AL_OK)
				return al_err_ctx(AL_EINVAL, "%s:%d: [net]", s->where, s->line);
			int c, h, w;
			AL_TRY(al_cfg_int(s, "channels", m->in_c, 1, 1 << 16, &c));
			AL_TRY(al_cfg_int(s, "height", m->in_h, 1, 1 << 16, &h));
			AL_TRY(al_cfg_int(s, "width", m->in_w, 1, 1 << 16, &w));
			if (c != m->in_c || h != m->in_h || w != m->in_w)
				return al_err(AL_EINVAL,
					      "%s:%d: model expects input %dx%dx%d, data gives %dx%dx%d",
					      s->where, s->line, c, h, w, m->in_c, m->in_h, m->in_w);
			(void)al_cfg_str(s, "doc", NULL);
			/* defaults for tools (al_model_defaults), not checked here */
			int dc, dh, dw, dk;
			AL_TRY(net_input(s, &dc, &dh, &dw));
			AL_TRY(al_cfg_int(s, "classes", 10, 1, 1 << 24, &dk));
			AL_TRY(al_cfg_check_unused(s, "init, channels, height, width, input, classes, "
						      "doc"));
			continue;
		}
		const al_layer_ops *ops = find_kind(s->type);
		if (!ops) {
			char kinds[1024];
			kind_list(kinds, sizeof kinds);
			return al_err(AL_EINVAL, "%s:%d: unknown layer type [%s]; valid: %s", s->where,
				      s->line, s->type, kinds);
		}
		/* The section may carry a trailing activation (`act = ...`). */
		int layer_count = (strcmp(s->type, "act") != 0 && al_cfg_has(s, "act")) ? 2 : 1;
		for (int part = 0; part < layer_count; part++) {
			int li = m->nl;
			al_layer *l = &m->layers[li];
			l->index = li;
			const char *nm = part == 0 ? al_cfg_str(s, "name", NULL) : NULL;
			/* default names: type + count of that type (conv1, conv2, dense1);
			 * a trailing activation is named after its layer (conv1_act) */
			if (nm) {
				snprintf(l->name, sizeof l->name, "%s", nm);
			} else if (part) {
				char parent[48];
				memcpy(parent, m->layers[li - 1].name, sizeof parent);
				parent[40] = 0;
				snprintf(l->name, sizeof l->name, "%s_act", parent);
			} else {
				int same = 1;
				for (int j = 0; j < li; j++)
					same += m->layers[j].ops == ops;
				snprintf(l->name, sizeof l->name, "%s%d", s->type, same);
			}
			for (int j = 0; j < li && nm; j++)
				if (strcmp(m->layers[j].name, nm) == 0)
					return al_err(AL_EINVAL, "%s:%d: layer name '%s' used twice",
						      s->where, s->line, nm);
			if (part == 0) {
				AL_TRY(parse_inputs(m, s, li, l));
			} else {
				l->nin = 1;
				l->src[0] = li - 1;
				l->in_c[0] = m->layers[li - 1].out_c;
				l->in_h[0] = m->layers[li - 1].out_h;
				l->in_w[0] = m->layers[li - 1].out_w;
			}
			const al_layer_ops *lops = part == 0 ? ops : find_kind("act");
			l->ops = lops;
			m->nl++; /* counted now, so al_model_free releases it on failure */
			al_init_kind ik = net_init;
			if (part == 0 && al_cfg_has(s, "init") &&
			    al_init_parse(al_cfg_str(s, "init", ""), &ik) != AL_OK)
				return al_err_ctx(AL_EINVAL, "%s:%d: [%s]", s->where, s->line, s->type);
			l->init_kind = (int)ik;
			/* activation spec for act layers */
			if (lops == find_kind("act")) {
				const char *spec = al_cfg_str(s, "act", "$ACT");
				const char *def = al_cfg_str(s, "default", "relu");
				if (strcmp(spec, "$ACT") == 0) {
					int sel;
					site++;
					AL_TRY(site_selected(o->act_sites, site, &sel));
					spec = sel ? o->act : def;
					l->act_site = site;
				}
				if (al_act_parse(spec, &l->act) != AL_OK)
					return al_err_ctx(AL_EINVAL, "%s:%d: [%s]", s->where, s->line,
							  s->type);
			}
			if (part == 0) {
				al_status st = lops->setup(l, s);
				if (st != AL_OK) {
					if (strstr(al_errmsg(), s->where) == al_errmsg())
						return st;
					return al_err_ctx(st, "%s:%d: [%s] '%s'", s->where, s->line,
							  s->type, l->name);
				}
				(void)al_cfg_str(s, "name", NULL);
				(void)al_cfg_str(s, "inputs", NULL);
				(void)al_cfg_str(s, "act", NULL);
				(void)al_cfg_str(s, "default", NULL);
				char valid[512];
				snprintf(valid, sizeof valid, "%s; and name, inputs, act, init",
					 lops->doc ? lops->doc : "see docs/models.md");
				AL_TRY(al_cfg_check_unused(s, valid));
			} else {
				AL_TRY(lops->setup(l, NULL));
			}
			if (l->out_c <= 0 || l->out_h <= 0 || l->out_w <= 0)
				return al_err(AL_EINVAL, "%s:%d: [%s] '%s' has empty output %dx%dx%d",
					      s->where, s->line, s->type, l->name, l->out_c, l->out_h,
					      l->out_w);
		}
	}
	if (m->nl == 0)
		return al_err(AL_EINVAL, "%s: no layers", where);
	m->nsites = site;
	AL_TRY(sites_in_range(o->act_sites, site, where));
	al_layer *last = &m->layers[m->nl - 1];
	if (last->out_h != 1 || last->out_w != 1 || last->out_c != m->classes)
		return al_err(AL_EINVAL, "%s: last layer '%s' outputs %dx%dx%d, expected %d classes",
			      where, last->name, last->out_c, last->out_h, last->out_w, m->classes);
	/* parameter arenas: weights first, then activation parameters */
	size_t nw = 0, na = 0, ns = 0;
	for (int i = 0; i < m->nl; i++) {
		nw += m->layers[i].nw;
		na += m->layers[i].nap;
		ns += m->layers[i].nstate;
	}
	m->nw = nw;
	m->np = nw + na;
	m->nstate = ns;
	m->params = al_calloc(m->np + 1, sizeof(float));
	m->grads = al_calloc(m->np + 1, sizeof(float));
	m->state = al_calloc(ns + 1, sizeof(float));
	m->nconsumers = calloc((size_t)m->nl, sizeof(int));
	m->act_idx = calloc((size_t)m->nl, sizeof(int));
	if (!m->params || !m->grads || !m->state || !m->nconsumers || !m->act_idx)
		return al_err(AL_ENOMEM, "%s: cannot allocate %zu parameters", where, m->np);
	size_t ow = 0, oa = nw, os = 0;
	al_rng r;
	al_rng_seed(&r, o->seed);
	for (int i = 0; i < m->nl; i++) {
		al_layer *l = &m->layers[i];
		l->w = m->params + ow;
		l->dw = m->grads + ow;
		ow += l->nw;
		l->ap = m->params + oa;
		l->dap = m->grads + oa;
		oa += l->nap;
		l->state = m->state + os;
		os += l->nstate;
		state_hypers_store(l);
		al_rng lr = al_rng_derive(&r, (uint64_t)i);
		if (l->ops->init && !o->no_init)
			l->ops->init(l, &lr);
		if (l->nap) {
			m->act_idx[m->nact++] = i;
		}
		for (int k = 0; k < l->nin; k++)
			if (l->src[k] >= 0)
				m->nconsumers[l->src[k]]++;
	}
	return AL_OK;
}

static al_status create_text(const char *text, const char *where, const al_model_opts *opts,
			     al_model **out);

/* Value of a "key = N" line (leading spaces allowed, comment after
 * ';' or '#'): 1 and *v when N is a literal positive integer. */
static int literal_line(const char *line, size_t len, const char *key, long *v)
{
	size_t kl = strlen(key), i = 0;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (len - i < kl || strncmp(line + i, key, kl) != 0)
		return 0;
	i += kl;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i >= len || line[i] != '=')
		return 0;
	i++;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i >= len || line[i] < '0' || line[i] > '9')
		return 0;
	long x = 0;
	while (i < len && line[i] >= '0' && line[i] <= '9' && x < 100000000)
		x = x * 10 + (line[i++] - '0');
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i < len && line[i] != ';' && line[i] != '#' && line[i] != '\r')
		return 0;
	*v = x;
	return x > 0;
}

static long scale_count(long n, double f, long mult)
{
	long v = (long)floor(n * f / mult + 0.5) * mult;
	return v < mult ? mult : v;
}

/* The literal `filters` of the cfg section holding position p (0: none). */
static long section_filters(const char *text, const char *p)
{
	const char *q = p;
	while (q > text && !(q[-1] == '\n' && q[0] == '['))
		q--;
	long fl = 0;
	for (const char *r = q; *r;) {
		const char *re = strchr(r, '\n');
		size_t rl = re ? (size_t)(re - r) : strlen(r);
		long x;
		if (r > q && r[0] == '[')
			break;
		if (literal_line(r, rl, "filters", &x))
			fl = x;
		r = re ? re + 1 : r + rl;
	}
	return fl;
}

/* The cfg text with every literal filters/out count scaled by f (see
 * al_model_opts.width). */
static al_status scale_widths(const char *text, double f, const char *where, char **out)
{
	*out = NULL;
	/* grouped (not depthwise) convolutions: every filter count becomes a
	 * multiple of the lcm of their group counts */
	long mult = 1;
	for (const char *p = text; *p;) {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		long g;
		if (literal_line(p, l, "groups", &g) && g > 1 && section_filters(text, p) != g) {
			long a = mult, b = g;
			while (b) {
				long t = a % b;
				a = b;
				b = t;
			}
			mult = mult / a * g;
			if (mult > 64)
				return al_err(AL_EUNSUPPORTED,
					      "%s: width scaling: its grouped convolutions need every "
					      "channel count to be a multiple of %ld",
					      where, mult);
		}
		p = e ? e + 1 : p + l;
	}
	size_t cap = strlen(text) * 2 + 64;
	char *r = malloc(cap);
	if (!r)
		return al_err(AL_ENOMEM, "%s: out of memory", where);
	size_t o = 0;
	for (const char *p = text; *p;) {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		long v;
		char buf[64];
		buf[0] = 0;
		if (literal_line(p, l, "filters", &v))
			snprintf(buf, sizeof buf, "filters = %ld", scale_count(v, f, mult));
		else if (literal_line(p, l, "out", &v))
			snprintf(buf, sizeof buf, "out = %ld", scale_count(v, f, 1));
		else if (literal_line(p, l, "groups", &v) && v > 1 && section_filters(text, p) == v)
			snprintf(buf, sizeof buf, "groups = %ld", scale_count(v, f, mult));
		if (buf[0]) {
			size_t bl = strlen(buf);
			memcpy(r + o, buf, bl);
			o += bl;
		} else {
			memcpy(r + o, p, l);
			o += l;
		}
		if (e)
			r[o++] = '\n';
		p = e ? e + 1 : p + l;
	}
	r[o] = 0;
	*out = r;
	return AL_OK;
}

al_status al_model_create_text(const char *text, const char *where, const al_model_opts *opts,
			       al_model **out)
{
	if (opts && opts->width > 0 && opts->width != 1) {
		if (!(opts->width >= 1.0 / 64 && opts->width <= 64))
			return al_err(AL_ERANGE, "%s: width %g outside [1/64, 64]", where,
				      opts->width);
		char *scaled;
		AL_TRY(scale_widths(text, opts->width, where, &scaled));
		al_model_opts o = *opts;
		o.width = 0;
		al_status st = al_model_create_text(scaled, where, &o, out);
		free(scaled);
		return st;
	}
	return create_text(text, where, opts, out);
}

static al_status create_text(const char *text, const char *where, const al_model_opts *opts,
			     al_model **out)
{
	*out = NULL;
	al_model_opts o = opts ? *opts : al_model_opts_default();
	if (!o.act)
		o.act = "relu";
	if (o.in_c <= 0 || o.in_h <= 0 || o.in_w <= 0 || o.classes <= 0)
		return al_err(AL_EINVAL, "model: bad input shape %dx%dx%d or classes %d", o.in_c,
			      o.in_h, o.in_w, o.classes);
	al_act_spec probe;
	if (al_act_parse(o.act, &probe) != AL_OK)
		return al_err_ctx(AL_EINVAL, "--act");
	al_model *m = calloc(1, sizeof *m);
	if (!m)
		return al_err(AL_ENOMEM, "model: out of memory");
	m->in_c = o.in_c;
	m->in_h = o.in_h;
	m->in_w = o.in_w;
	m->classes = o.classes;
	snprintf(m->act_spec, sizeof m->act_spec, "%s", o.act);
	al_status st = substitute(text, &o, where, &m->cfg_text);
	al_cfg *cfg = NULL;
	if (st == AL_OK) {
		cfg = malloc(sizeof *cfg);
		st = cfg ? al_cfg_parse(m->cfg_text, where, cfg)
			 : al_err(AL_ENOMEM, "%s: out of memory", where);
	}
	if (st == AL_OK)
		st = build(m, cfg, &o, where);
	free(cfg);
	if (st != AL_OK) {
		al_model_free(m);
		return st;
	}
	*out = m;
	return AL_OK;
}

al_status al_model_create(const char *desc, const al_model_opts *opts, al_model **out)
{
	*out = NULL;
	if (!desc || !*desc)
		return al_err(AL_EINVAL, "model: empty description");
	const char *zoo = al_zoo_cfg(desc);
	if (zoo) {
		char where[128];
		snprintf(where, sizeof where, "model '%s'", desc);
		return al_model_create_text(zoo, where, opts, out);
	}
	FILE *f = fopen(desc, "rb");
	if (!f) {
		char names[1024];
		size_t l = 0;
		names[0] = 0;
		for (int i = 0; i < al_zoo_count() && l + 1 < sizeof names; i++)
			l += (size_t)snprintf(names + l, sizeof names - l, "%s%s", i ? ", " : "",
					      al_zoo_name(i));
		return al_err(AL_EINVAL, "model '%s' is neither a zoo name (%s) nor a readable file",
			      desc, names);
	}
	fseek(f, 0, SEEK_END);
	long sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	if (sz < 0 || sz > (1 << 22)) {
		fclose(f);
		return al_err(AL_EFORMAT, "%s: cfg file too large", desc);
	}
	char *text = malloc((size_t)sz + 1);
	if (!text) {
		fclose(f);
		return al_err(AL_ENOMEM, "%s: out of memory", desc);
	}
	size_t got = fread(text, 1, (size_t)sz, f);
	fclose(f);
	text[got] = 0;
	al_status st = al_model_create_text(text, desc, opts, out);
	free(text);
	return st;
}

al_status al_model_reserve(al_model *m, int n)
{
	if (n <= m->cap_n)
		return AL_OK;
	if (n <= 0)
		return al_err(AL_EINVAL, "model: batch size %d", n);
	al_free(m->arena);
	al_free(m->work);
	al_free(m->tmp);
	al_free(m->input_grad);
	m->arena = NULL;
	m->work = NULL;
	m->tmp = NULL;
	m->input_grad = NULL;
	free(m->ybuf);
	free(m->dybuf);
	free(m->sbuf);
	m->ybuf = calloc((size_t)m->nl, sizeof(float *));
	m->dybuf = calloc((size_t)m->nl, sizeof(float *));
	m->sbuf = calloc((size_t)m->nl, sizeof(float *));
	if (!m->ybuf || !m->dybuf || !m->sbuf)
		return al_err(AL_ENOMEM, "model: out of memory");
	size_t total = 0, maxout = 0, maxwork = 0;
	int maxtmp = 0;
	for (int i = 0; i < m->nl; i++) {
		al_layer *l = &m->layers[i];
		size_t o = al_out_size(l) * (size_t)n;
		size_t sc = l->ops->scratch ? l->ops->scratch(l, n) : 0;
		size_t wk = l->ops->work ? l->ops->work(l, n) : 0;
		if (wk > maxwork)
			maxwork = wk;
		total += 2 * ((o + 15) & ~(size_t)15) + ((sc + 15) & ~(size_t)15);
		if (o > maxout)
			maxout = o;
		if (l->nin > maxtmp)
			maxtmp = l->nin;
	}
	size_t in_floats = (size_t)n * (size_t)m->in_c * (size_t)m->in_h * (size_t)m->in_w;
	m->arena = al_malloc(total * sizeof(float) + 64);
	size_t in_floats0 = (size_t)n * (size_t)m->in_c * (size_t)m->in_h * (size_t)m->in_w;
	if (in_floats0 > maxout)
		maxout = in_floats0; /* a temporary may hold an input gradient */
	m->tmp = al_malloc((size_t)maxtmp * maxout * sizeof(float) + 64);
	m->input_grad = al_malloc(in_floats * sizeof(float) + 64);
	m->work = al_malloc(maxwork * sizeof(float) + 64);
	if (!m->arena || !m->tmp || !m->input_grad || !m->work)
		return al_err(AL_ENOMEM, "model: cannot allocate activations for batch %d (%zu MB)",
			      n, total * sizeof(float) >> 20);
	m->ntmp = maxtmp;
	m->tmp_floats = maxout;
	float *p = m->arena;
	for (int i = 0; i < m->nl; i++) {
		al_layer *l = &m->layers[i];
		size_t o = al_out_size(l) * (size_t)n;
		size_t sc = l->ops->scratch ? l->ops->scratch(l, n) : 0;
		m->ybuf[i] = p;
		p += (o + 15) & ~(size_t)15;
		m->dybuf[i] = p;
		p += (o + 15) & ~(size_t)15;
		m->sbuf[i] = p;
		p += (sc + 15) & ~(size_t)15;
		l->y = m->ybuf[i];
		l->dy = m->dybuf[i];
		l->scratch = m->sbuf[i];
		l->work = m->work;
	}
	m->cap_n = n;
	return AL_OK;
}

al_status al_model_forward(al_model *m, const float *x, int n, int train, const float **logits)
{
	if (n <= 0)
		return al_err(AL_EINVAL, "model forward: batch size %d", n);
	AL_TRY(al_model_reserve(m, n));
	for (int i = 0; i < m->nl; i++) {
		al_layer *l = &m->layers[i];
		for (int k = 0; k < l->nin; k++)
			l->x[k] = l->src[k] < 0 ? x : m->ybuf[l->src[k]];
		l->rng = al_rng_derive(&m->step_rng, (uint64_t)i);
		l->train = train;
		l->ops->forward(l, n, train);
	}
	m->cur_n = n;
	m->fwd_ready = 1;
	if (logits)
		*logits = m->ybuf[m->nl - 1];
	return AL_OK;
}

al_status al_model_backward(al_model *m, const float *dlogits)
{
	if (!m->fwd_ready)
		return al_err(AL_ESTATE, "model backward called before forward");
	int n = m->cur_n;
	int last = m->nl - 1;
	memcpy(m->dybuf[last], dlogits,
	       (size_t)n * al_out_size(&m->layers[last]) * sizeof(float));
	char *written = calloc((size_t)m->nl, 1);
	if (!written)
		return al_err(AL_ENOMEM, "model backward: out of memory");
	written[last] = 1;
	int input_written = 0;
	for (int i = last; i >= 0; i--) {
		al_layer *l = &m->layers[i];
		if (!written[i])
			memset(m->dybuf[i], 0, (size_t)n * al_out_size(l) * sizeof(float));
		int use_tmp[AL_MAX_INPUTS] = {0}, slot = 0;
		for (int k = 0; k < l->nin; k++) {
			int s = l->src[k];
			if (s < 0) {
				if (!m->want_input_grad && !l->ops->always_dx) {
					l->dx[k] = NULL;
				} else if (!input_written) {
					l->dx[k] = m->input_grad;
					input_written = 1;
				} else {
					l->dx[k] = m->tmp + (size_t)slot * m->tmp_floats;
					use_tmp[k] = 1;
					slot++;
				}
			} else if (!written[s]) {
				l->dx[k] = m->dybuf[s];
				written[s] = 1;
			} else {
				l->dx[k] = m->tmp + (size_t)slot * m->tmp_floats;
				use_tmp[k] = 1;
				slot++;
			}
		}
		l->ops->backward(l, n);
		for (int k = 0; k < l->nin; k++) {
			if (!use_tmp[k])
				continue;
			float *dst = l->src[k] < 0 ? m->input_grad : m->dybuf[l->src[k]];
			const float *src = l->dx[k];
			size_t cnt = (size_t)n * al_in_size(l, k);
#pragma omp parallel for schedule(static)
			for (size_t j = 0; j < cnt; j++)
				dst[j] += src[j];
		}
	}
	free(written);
	return AL_OK;
}

void al_model_zero_grad(al_model *m) { memset(m->grads, 0, m->np * sizeof(float)); }
const float *al_model_input_grad(const al_model *m) { return m->input_grad; }
void al_model_want_input_grad(al_model *m, int on) { m->want_input_grad = on; }
float *al_model_params(al_model *m) { return m->params; }
float *al_model_grads(al_model *m) { return m->grads; }
size_t al_model_nparams(const al_model *m) { return m->np; }
size_t al_model_nweights(const al_model *m) { return m->nw; }
float *al_model_state(al_model *m) { return m->state; }
size_t al_model_nstate(const al_model *m) { return m->nstate; }
int al_model_classes(const al_model *m) { return m->classes; }
const char *al_model_cfg_text(const al_model *m) { return m->cfg_text; }
void al_model_set_rng(al_model *m, const al_rng *r) { m->step_rng = *r; }

void al_model_set_stat_sum(al_model *m, void (*sum)(void *ctx, double *buf, size_t n), void *ctx)
{
	for (int i = 0; i < m->nl; i++) {
		m->layers[i].stat_sum = sum;
		m->layers[i].stat_ctx = ctx;
	}
}

void al_model_input_shape(const al_model *m, int *c, int *h, int *w)
{
	*c = m->in_c;
	*h = m->in_h;
	*w = m->in_w;
}

void al_model_project(al_model *m)
{
	for (int i = 0; i < m->nl; i++) {
		al_layer *l = &m->layers[i];
		if (l->nap)
			al_act_project(&l->act, l->ap,
				       al_act_groups(&l->act, l->in_c[0], l->in_h[0], l->in_w[0]));
	}
}

int al_model_act_layers(const al_model *m) { return m->nact; }
int al_model_act_sites(const al_model *m) { return m->nsites; }

void al_model_act_layer(const al_model *m, int i, const char **name, const al_act_spec **spec,
			const float **params, size_t *groups)
{
	const al_layer *l = &m->layers[m->act_idx[i]];
	*name = l->name;
	*spec = &l->act;
	*params = l->ap;
	*groups = al_act_groups(&l->act, l->in_c[0], l->in_h[0], l->in_w[0]);
}

void al_model_act_layer_input(const al_model *m, int i, const float **x, int *c, int *h, int *w)
{
	const al_layer *l = &m->layers[m->act_idx[i]];
	*x = l->x[0];
	*c = l->in_c[0];
	*h = l->in_h[0];
	*w = l->in_w[0];
}

int al_model_act_layer_site(const al_model *m, int i)
{
	return m->layers[m->act_idx[i]].act_site;
}

double al_model_act_layer_hist(const al_model *m, int i, double *lo, double *hi, double *bins)
{
	const al_layer *l = &m->layers[m->act_idx[i]];
	if (!al_layer_has_hist(l) || !(l->state[2] > 0))
		return 0;
	if (lo)
		*lo = l->state[0];
	if (hi)
		*hi = l->state[1];
	for (int b = 0; bins && b < AL_ACT_HIST_BINS; b++)
		bins[b] = l->state[4 + b];
	return l->state[2];
}

/* Floats of a layer's state in checkpoint format `version` (1: no
 * activation input statistics; 2: statistics but no rewritable hypers). */
static size_t layer_nstate_format(const al_layer *l, unsigned version)
{
	if (!al_layer_has_hist(l) || version >= 3)
		return l->nstate;
	return version == 1 ? 0 : AL_ACT_HIST_STATE;
}

size_t al_model_nstate_format(const al_model *m, unsigned version)
{
	size_t n = 0;
	for (int i = 0; i < m->nl; i++)
		n += layer_nstate_format(&m->layers[i], version);
	return n;
}

void al_model_set_state_format(al_model *m, const float *state, unsigned version)
{
	for (int i = 0; i < m->nl; i++) {
		al_layer *l = &m->layers[i];
		size_t n = layer_nstate_format(l, version);
		memset(l->state, 0, l->nstate * sizeof *state);
		memcpy(l->state, state, n * sizeof *state);
		state += n;
		if (n < l->nstate)
			state_hypers_store(l); /* not in the file: the spec's values */
	}
	al_model_state_loaded(m);
}

al_status al_model_copy_state(al_model *dst, const al_model *src)
{
	if (dst->nl != src->nl)
		return al_err(AL_EINVAL, "state copy: %d layers into %d", src->nl, dst->nl);
	for (int i = 0; i < src->nl; i++) {
		const al_layer *a = &src->layers[i];
		al_layer *b = &dst->layers[i];
		size_t n = a->nstate;
		if (al_layer_has_hist(a) && al_layer_has_hist(b))
			n = AL_ACT_HIST_STATE; /* the record; b keeps its own hypers */
		else if (a->nstate != b->nstate)
			return al_err(AL_EINVAL, "state copy: layer %s holds %zu state values, %s %zu",
				      a->name, a->nstate, b->name, b->nstate);
		memcpy(b->state, a->state, n * sizeof *a->state);
	}
	al_model_state_loaded(dst);
	return AL_OK;
}

void al_model_state_loaded(al_model *m)
{
	for (int i = 0; i < m->nl; i++)
		state_hypers_load(&m->layers[i]);
}

static int epoch_end_hook(const al_layer *l)
{
	return al_layer_has_hist(l) && l->act.desc->t_epoch_end != NULL;
}

int al_model_epoch_end_due(const al_model *m, int epoch)
{
	for (int i = 0; i < m->nl; i++)
		if (epoch_end_hook(&m->layers[i]))
			return 1;
	(void)epoch; /* conservative: any layer that may update */
	return 0;
}

al_status al_model_epoch_end(al_model *m, int epoch, al_model_epoch_end_fn report, void *user)
{
	for (int i = 0; i < m->nl; i++) {
		al_layer *l = &m->layers[i];
		if (!epoch_end_hook(l))
			continue;
		double bins[AL_ACT_HIST_BINS];
		for (int b = 0; b < AL_ACT_HIST_BINS; b++)
			bins[b] = l->state[4 + b];
		al_act_record rec = {.lo = l->state[0], .hi = l->state[1], .count = l->state[2],
				     .bins = bins, .nbins = AL_ACT_HIST_BINS};
		size_t g = al_act_groups(&l->act, l->out_c, l->out_h, l->out_w);
		int changed = 0;
		al_status st = l->act.desc->t_epoch_end(l->act.hyper, epoch, &rec, l->ap, g, &changed);
		if (st != AL_OK)
			return al_err_ctx(st, "layer %s (%s), end of epoch %d", l->name, l->act.text,
					  epoch);
		if (changed) {
			state_hypers_store(l);
			if (report)
				report(user, l->name, &l->act);
		}
	}
	return AL_OK;
}

void al_model_summary(const al_model *m, FILE *f)
{
	fprintf(f, "%-4s %-14s %-10s %-18s %-12s %s\n", "#", "name", "type", "output", "params",
		"inputs / activation");
	for (int i = 0; i < m->nl; i++) {
		const al_layer *l = &m->layers[i];
		char shape[64], ins[128];
		snprintf(shape, sizeof shape, "%dx%dx%d", l->out_c, l->out_h, l->out_w);
		size_t len = 0;
		ins[0] = 0;
		if (l->ops == find_kind("act") && l->act_site)
			snprintf(ins, sizeof ins, "%s (site %d)", l->act.text, l->act_site);
		else if (l->ops == find_kind("act"))
			snprintf(ins, sizeof ins, "%s", l->act.text);
		else
			for (int k = 0; k < l->nin && len + 1 < sizeof ins; k++)
				len += (size_t)snprintf(ins + len, sizeof ins - len, "%s%s",
							k ? "," : "",
							l->src[k] < 0 ? "input" : m->layers[l->src[k]].name);
		fprintf(f, "%-4d %-14s %-10s %-18s %-12zu %s\n", i + 1, l->name, l->ops->type, shape,
			l->nw + l->nap, ins);
	}
	fprintf(f, "parameters: %zu (weights %zu, activation %zu); $ACT sites: %d\n", m->np, m->nw,
		m->np - m->nw, m->nsites);
}

/* The input a model description declares in its [net] section (channels,
 * height, width; 0 for each one it leaves out), read without building it. */
al_status al_model_declared_input(const char *desc, const al_model_opts *opts, int *c, int *h,
				  int *w)
{
	*c = *h = *w = 0;
	if (!desc || !*desc)
		return al_err(AL_EINVAL, "model: empty description");
	al_model_opts o = opts ? *opts : al_model_opts_default();
	char *text = NULL;
	const char *zoo = al_zoo_cfg(desc);
	if (!zoo) {
		FILE *f = fopen(desc, "rb");
		if (!f) /* al_model_create reports this with the zoo names */
			return AL_OK;
		fseek(f, 0, SEEK_END);
		long sz = ftell(f);
		fseek(f, 0, SEEK_SET);
		text = sz >= 0 && sz <= (1 << 22) ? malloc((size_t)sz + 1) : NULL;
		if (!text) {
			fclose(f);
			return al_err(AL_EFORMAT, "%s: cfg file too large or unreadable", desc);
		}
		size_t got = fread(text, 1, (size_t)sz, f);
		fclose(f);
		text[got] = 0;
	}
	char *sub = NULL;
	al_status st = substitute(zoo ? zoo : text, &o, desc, &sub);
	free(text);
	if (st != AL_OK)
		return st;
	al_cfg *cfg = malloc(sizeof *cfg);
	st = cfg ? al_cfg_parse(sub, desc, cfg) : al_err(AL_ENOMEM, "%s: out of memory", desc);
	if (st == AL_OK && cfg->nsec > 0 && strcmp(cfg->sec[0].type, "net") == 0) {
		al_cfg_section *s = &cfg->sec[0];
		st = al_cfg_int(s, "channels", 0, 0, 1 << 16, c);
		if (st == AL_OK)
			st = al_cfg_int(s, "height", 0, 0, 1 << 16, h);
		if (st == AL_OK)
			st = al_cfg_int(s, "width", 0, 0, 1 << 16, w);
	}
	free(cfg);
	free(sub);
	return st;
}
