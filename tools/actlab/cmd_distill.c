/* cmd_distill.c — `actlab distill`: replaces every learned activation of a
 * checkpoint by a cheap fitted form (piecewise linear, lookup table or
 * rational) over the range its inputs take on the test data, reports the
 * fit error per layer and the test accuracy before and after, and writes a
 * checkpoint that runs the distilled forms.
 *
 * The distilled forms are catalog entries (adact with a free grid for pwl,
 * lut, pau for rational) with the same granularity as the layer they
 * replace, so the new checkpoint is an ordinary one. Layers at `act =
 * $ACT` sites are rewritten in the model description; the remaining $ACT
 * sites are the unselected ones, so the new checkpoint records
 * act_sites = none. Trainable activations given explicitly in the model
 * description are left as they are (reported). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act/learned.h"
#include "actlab/act.h"
#include "actlab/data.h"
#include "actlab/nn.h"
#include "actlab/train.h"
#include "cli.h"

static const char *help =
	"usage: actlab distill --ckpt FILE --to FORM --out FILE [--data SPEC] [--samples N]\n"
	"                      [--json]\n\n"
	"FORM: pwl:segments=N (linear interpolation between N+1 evenly spaced points,\n"
	"      the adact kernel), lut:size=N (piecewise-constant table of N entries),\n"
	"      rational:M,N (Pade P/Q of degrees M, N with Q = 1 + |sum b_k x^k|).\n"
	"Takes each trainable activation layer's input range recorded during training\n"
	"(checkpoint format 2; with --data or without a record: the range on the first\n"
	"N test samples, default 2000, of --data or the checkpoint's data), fits the form to\n"
	"every unit's learned function over that range, prints per layer the max and RMS\n"
	"error over the range (1001 points per unit) and the test accuracy before and\n"
	"after, and writes a checkpoint running the distilled forms (no optimizer state).\n"
	"The forms keep the layer's granularity; per neuron, pwl up to 16 segments, lut up\n"
	"to 64 entries and rational (every degree) have vectorised kernels, larger forms\n"
	"general (slower) ones.\n";

enum { TO_PWL, TO_LUT, TO_RAT };

static int parse_to(const char *s, int *kind, int *a, int *b)
{
	char tail;
	if (sscanf(s, "pwl:segments=%d%c", a, &tail) == 1 && *a >= 1 && *a < AL_LN_MAXP) {
		*kind = TO_PWL;
		return 1;
	}
	if (sscanf(s, "lut:size=%d%c", a, &tail) == 1 && *a >= 1 && *a <= AL_LN_MAXP) {
		*kind = TO_LUT;
		return 1;
	}
	if (sscanf(s, "rational:%d,%d%c", a, b, &tail) == 2 && *a >= 0 && *a <= 12 && *b >= 1 &&
	    *b <= 12) {
		*kind = TO_RAT;
		return 1;
	}
	return 0;
}

/* evaluates spec (one group's params p) at x[0..n) */
static void eval_group(const al_act_spec *s0, const float *p, int n, const float *x, float *y)
{
	al_act_spec s = *s0;
	s.per = AL_PER_LAYER;
	al_act_forward(&s, p, 1, n, 1, 1, x, y, 0, NULL);
}

/* Rewrites $ACT site `site` of cfg to `act = spec`. Returns a malloc'd text. */
static char *rewrite_site(const char *cfg, int site, const char *spec)
{
	size_t cap = strlen(cfg) + strlen(spec) + 64;
	char *out = malloc(cap);
	if (!out)
		return NULL;
	size_t o = 0;
	int count = 0, in_act_sec = 0, sec_has_act = 0;
	size_t sec_hdr_end = 0; /* output position after the [act] header line */
	const char *p = cfg;
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p + 1) : strlen(p);
		const char *q = p;
		while (q < p + len && (*q == ' ' || *q == '\t'))
			q++;
		if (*q == '[') {
			/* the previous [act] section without an act key was a site */
			if (in_act_sec && !sec_has_act && ++count == site) {
				char line[512];
				int l = snprintf(line, sizeof line, "act = %s\n", spec);
				memmove(out + sec_hdr_end + l, out + sec_hdr_end, o - sec_hdr_end);
				memcpy(out + sec_hdr_end, line, (size_t)l);
				o += (size_t)l;
			}
			in_act_sec = strncmp(q, "[act]", 5) == 0;
			sec_has_act = 0;
			memcpy(out + o, p, len);
			o += len;
			sec_hdr_end = o;
			p += len;
			continue;
		}
		if (strncmp(q, "act", 3) == 0) {
			const char *r = q + 3;
			while (*r == ' ' || *r == '\t')
				r++;
			if (*r == '=') {
				sec_has_act = 1;
				r++;
				while (*r == ' ' || *r == '\t')
					r++;
				if (strncmp(r, "$ACT", 4) == 0 && !isalnum((unsigned char)r[4]) &&
				    ++count == site) {
					o += (size_t)snprintf(out + o, cap - o, "act = %s\n", spec);
					p += len;
					continue;
				}
			}
		}
		memcpy(out + o, p, len);
		o += len;
		p += len;
	}
	if (in_act_sec && !sec_has_act && ++count == site) {
		if (o && out[o - 1] != '\n')
			out[o++] = '\n';
		o += (size_t)snprintf(out + o, cap - o, "act = %s\n", spec);
	}
	out[o] = 0;
	return out;
}

typedef struct {
	const char *name;
	const al_act_spec *spec;
	const float *params;
	size_t groups;
	int site;
	double lo, hi, max_err, rms_err;
	char to[256];
	float *newp;
} dlayer;

int cmd_distill(int argc, char **argv)
{
	const char *ckpt = NULL, *out = NULL, *to = NULL, *data = NULL;
	int samples = 2000, json = 0;
	cli_args a;
	cli_init(&a, argc, argv);
	while (cli_next(&a)) {
		if (!strcmp(a.name, "help")) {
			fputs(help, stdout);
			return 0;
		} else if (!strcmp(a.name, "json")) {
			json = 1;
		} else if (!a.name[0] || !a.value) {
			return cli_usage_error("distill: bad argument '%s'", a.name[0] ? a.name : a.value);
		} else if (!strcmp(a.name, "ckpt")) {
			ckpt = a.value;
		} else if (!strcmp(a.name, "out")) {
			out = a.value;
		} else if (!strcmp(a.name, "to")) {
			to = a.value;
		} else if (!strcmp(a.name, "data")) {
			data = a.value;
		} else if (!strcmp(a.name, "samples")) {
			samples = atoi(a.value);
		} else {
			return cli_usage_error("distill: unknown option --%s", a.name);
		}
	}
	if (!ckpt || !out || !to)
		return cli_usage_error("distill needs --ckpt FILE, --to FORM and --out FILE");
	int kind = 0, A = 0, B = 0;
	if (!parse_to(to, &kind, &A, &B))
		return cli_usage_error("distill: --to %s; valid: pwl:segments=N (1..%d), lut:size=N "
				       "(1..%d), rational:M,N (M in 0..12, N in 1..12)",
				       to, AL_LN_MAXP - 1, AL_LN_MAXP);
	if (samples < 1)
		return cli_usage_error("distill: --samples must be >= 1");
	al_checkpoint ck;
	al_status st = al_checkpoint_load(ckpt, &ck);
	if (st != AL_OK)
		return cli_runtime_error(st);
	al_model *m = NULL, *m2 = NULL;
	al_dataset tr = {0}, te = {0};
	dlayer *L = NULL;
	char *text = NULL;
	int nl = 0, rc = 0;
	float *x = NULL;
	int32_t *yl = NULL, *idx = NULL;
	st = al_checkpoint_model(&ck, &m);
	if (st == AL_OK)
		st = al_data_load(data ? data : ck.config.data, &tr, &te);
	if (st == AL_OK && (te.c != ck.in_c || te.h != ck.in_h || te.w != ck.in_w)) {
		char what[320];
		st = al_dataset_adapt(&te, ck.in_c, ck.in_h, ck.in_w, what, sizeof what);
	}
	if (st == AL_OK) {
		nl = al_model_act_layers(m);
		L = calloc((size_t)nl + 1, sizeof *L);
		if (!L)
			st = al_err(AL_ENOMEM, "distill: out of memory");
		for (int i = 0; st == AL_OK && i < nl; i++) {
			al_model_act_layer(m, i, &L[i].name, &L[i].spec, &L[i].params, &L[i].groups);
			L[i].site = al_model_act_layer_site(m, i);
			L[i].lo = INFINITY;
			L[i].hi = -INFINITY;
		}
		if (st == AL_OK && nl == 0)
			st = al_err(AL_EINVAL, "distill: %s has no activation with trainable parameters",
				    ckpt);
	}
	/* observed input ranges */
	int c, h, w, ns = te.n < samples ? te.n : samples;
	const int BATCH = 256;
	if (st == AL_OK) {
		al_model_input_shape(m, &c, &h, &w);
		x = malloc((size_t)BATCH * c * h * w * sizeof *x);
		yl = malloc(BATCH * sizeof *yl);
		idx = malloc(BATCH * sizeof *idx);
		st = x && yl && idx ? al_model_reserve(m, BATCH) : al_err(AL_ENOMEM, "distill: out of memory");
	}
	for (int s0 = 0; st == AL_OK && s0 < ns; s0 += BATCH) {
		int n = ns - s0 < BATCH ? ns - s0 : BATCH;
		for (int i = 0; i < n; i++)
			idx[i] = s0 + i;
		al_batch_assemble(&te, idx, n, &ck.norm, NULL, NULL, 0, x, yl);
		const float *logits;
		st = al_model_forward(m, x, n, 0, &logits);
		for (int k = 0; st == AL_OK && k < nl; k++) {
			const float *in;
			int lc, lh, lw;
			al_model_act_layer_input(m, k, &in, &lc, &lh, &lw);
			size_t N = (size_t)n * lc * lh * lw;
			for (size_t e = 0; e < N; e++)
				if (isfinite(in[e])) {
					double v = (double)in[e];
					L[k].lo = v < L[k].lo ? v : L[k].lo;
					L[k].hi = v > L[k].hi ? v : L[k].hi;
				}
		}
	}
	/* the range recorded during training wins (without --data): it is the
	 * range the layer saw, not the test set's */
	for (int k = 0; st == AL_OK && !data && k < nl; k++) {
		double rlo, rhi;
		if (al_model_act_layer_hist(m, k, &rlo, &rhi, NULL) > 0) {
			L[k].lo = rlo;
			L[k].hi = rhi;
		}
	}
	/* fit every unit of every site layer */
	enum { GRID = 1001, FITPTS = 401 };
	float gx[GRID], gy[GRID], gz[GRID];
	for (int k = 0; st == AL_OK && k < nl; k++) {
		dlayer *d = &L[k];
		if (!(d->hi > d->lo)) {
			double c0 = isfinite(d->lo) ? d->lo : 0;
			d->lo = c0 - 1;
			d->hi = c0 + 1;
		}
		if (d->site == 0)
			continue;
		const char *per = d->spec->per == AL_PER_LAYER     ? "layer"
				  : d->spec->per == AL_PER_CHANNEL ? "channel"
								   : "neuron";
		if (kind == TO_PWL)
			snprintf(d->to, sizeof d->to, "adact:ns=%d,lo=%.9g,hi=%.9g,zero=any,per=%s", A + 1,
				 d->lo, d->hi, per);
		else if (kind == TO_LUT)
			snprintf(d->to, sizeof d->to, "lut:size=%d,lo=%.9g,hi=%.9g,per=%s", A, d->lo,
				 d->hi, per);
		else
			snprintf(d->to, sizeof d->to, "pau:m=%d,n=%d,per=%s", A, B, per);
		al_act_spec ns2;
		st = al_act_parse(d->to, &ns2);
		if (st != AL_OK)
			break;
		int P = al_act_nparams(d->spec), P2 = al_act_nparams(&ns2);
		d->newp = malloc(d->groups * (size_t)P2 * sizeof *d->newp);
		if (!d->newp) {
			st = al_err(AL_ENOMEM, "distill: out of memory");
			break;
		}
		for (int i = 0; i < GRID; i++)
			gx[i] = (float)(d->lo + (d->hi - d->lo) * i / (GRID - 1));
		double sq = 0;
		for (size_t g = 0; g < d->groups; g++) {
			const float *pg = d->params + g * (size_t)P;
			float *q = d->newp + g * (size_t)P2;
			float sx[FITPTS], sy[FITPTS];
			if (kind == TO_PWL || kind == TO_LUT) {
				int npt = kind == TO_PWL ? A + 1 : A;
				double step = (d->hi - d->lo) / A;
				for (int j = 0; j < npt; j++)
					sx[j] = (float)(d->lo + (kind == TO_PWL ? j : j + 0.5) * step);
				eval_group(d->spec, pg, npt, sx, q);
			} else {
				double xs[FITPTS], fs[FITPTS], coef[32];
				for (int j = 0; j < FITPTS; j++)
					sx[j] = (float)(d->lo + (d->hi - d->lo) * j / (FITPTS - 1));
				eval_group(d->spec, pg, FITPTS, sx, sy);
				for (int j = 0; j < FITPTS; j++) {
					xs[j] = sx[j];
					fs[j] = sy[j];
				}
				if (al_ln_rational_fit(xs, fs, FITPTS, A, B, coef) < 0) {
					st = al_err(AL_ERANGE, "distill: rational fit failed in layer '%s'",
						    d->name);
					break;
				}
				for (int j = 0; j < P2; j++)
					q[j] = (float)coef[j];
			}
			eval_group(d->spec, pg, GRID, gx, gy);
			eval_group(&ns2, q, GRID, gx, gz);
			for (int i = 0; i < GRID; i++) {
				double e = fabs((double)gz[i] - (double)gy[i]);
				d->max_err = e > d->max_err ? e : d->max_err;
				sq += e * e;
			}
		}
		d->rms_err = sqrt(sq / ((double)GRID * (double)d->groups));
	}
	/* the distilled model: rewritten description, same weights and state */
	int ndist = 0;
	if (st == AL_OK) {
		text = strdup(ck.cfg_text);
		if (!text)
			st = al_err(AL_ENOMEM, "distill: out of memory");
		/* from the last site down, so earlier site numbers stay valid */
		for (int k = nl - 1; st == AL_OK && k >= 0; k--) {
			if (!L[k].site)
				continue;
			char *t2 = rewrite_site(text, L[k].site, L[k].to);
			free(text);
			text = t2;
			ndist++;
			if (!text)
				st = al_err(AL_ENOMEM, "distill: out of memory");
		}
		if (st == AL_OK && ndist == 0)
			st = al_err(AL_EINVAL, "distill: no trainable activation of %s is at an $ACT "
					       "site (explicit specs are not rewritten)",
				    ckpt);
	}
	al_train_config cfg2 = ck.config;
	if (st == AL_OK) {
		snprintf(cfg2.act_sites, sizeof cfg2.act_sites, "none");
		al_model_opts mo = al_model_opts_default();
		mo.act = cfg2.act;
		mo.act_sites = cfg2.act_sites;
		mo.in_c = ck.in_c;
		mo.in_h = ck.in_h;
		mo.in_w = ck.in_w;
		mo.classes = ck.classes;
		mo.seed = cfg2.seed;
		st = al_model_create_text(text, "distilled model", &mo, &m2);
	}
	if (st == AL_OK && (al_model_nweights(m2) != al_model_nweights(m) ||
			    al_model_act_layers(m2) != nl || al_model_copy_state(m2, m) != AL_OK))
		st = al_err(AL_EFORMAT, "distill: the rewritten model does not match the original");
	if (st == AL_OK) {
		float *P2 = al_model_params(m2);
		memcpy(P2, al_model_params(m), al_model_nweights(m) * sizeof *P2);
		for (int k = 0; k < nl; k++) {
			const char *nm;
			const al_act_spec *sp;
			const float *pp;
			size_t G;
			al_model_act_layer(m2, k, &nm, &sp, &pp, &G);
			size_t off = (size_t)(pp - P2), cnt = G * (size_t)al_act_nparams(sp);
			memcpy(P2 + off, L[k].site ? L[k].newp : L[k].params, cnt * sizeof *P2);
		}
	}
	al_eval_stats before = {0}, after = {0};
	if (st == AL_OK)
		st = al_evaluate(m, &te, NULL, te.n, &ck.norm, 256, ck.config.loss, &before);
	if (st == AL_OK)
		st = al_evaluate(m2, &te, NULL, te.n, &ck.norm, 256, ck.config.loss, &after);
	if (st == AL_OK) {
		al_checkpoint nck = ck;
		nck.config = cfg2;
		nck.cfg_text = text;
		nck.params = al_model_params(m2);
		nck.nparams = al_model_nparams(m2);
		nck.state = al_model_state(m2);
		nck.nstate = al_model_nstate(m2);
		nck.opt_state = NULL;
		nck.nopt = 0;
		nck.opt_steps = 0;
		st = al_checkpoint_save(out, &nck);
	}
	if (st != AL_OK) {
		rc = cli_runtime_error(st);
	} else if (json) {
		printf("{\"to\": \"%s\", \"test_acc_before\": %.6f, \"test_acc_after\": %.6f, "
		       "\"test_loss_before\": %.6f, \"test_loss_after\": %.6f, \"layers\": [",
		       to, before.acc, after.acc, before.loss, after.loss);
		int first = 1;
		for (int k = 0; k < nl; k++) {
			if (!L[k].site)
				continue;
			printf("%s{\"layer\": \"%s\", \"from\": \"%s\", \"to\": \"%s\", \"units\": %zu, "
			       "\"lo\": %.9g, \"hi\": %.9g, \"max_err\": %.6g, \"rms_err\": %.6g}",
			       first ? "" : ", ", L[k].name, L[k].spec->text, L[k].to, L[k].groups,
			       L[k].lo, L[k].hi, L[k].max_err, L[k].rms_err);
			first = 0;
		}
		printf("], \"out\": \"%s\"}\n", out);
	} else {
		printf("%-16s %-8s %-22s %-12s %-12s %s\n", "layer", "units", "range", "max error",
		       "RMS error", "distilled form");
		for (int k = 0; k < nl; k++) {
			char range[64];
			snprintf(range, sizeof range, "[%.4g, %.4g]", L[k].lo, L[k].hi);
			if (!L[k].site)
				printf("%-16s %-8zu %-22s %-12s %-12s kept (explicit spec %s)\n", L[k].name,
				       L[k].groups, range, "-", "-", L[k].spec->text);
			else
				printf("%-16s %-8zu %-22s %-12.4g %-12.4g %s\n", L[k].name, L[k].groups,
				       range, L[k].max_err, L[k].rms_err, L[k].to);
		}
		printf("test accuracy: %.4f before, %.4f after (loss %.4f, %.4f); wrote %s\n",
		       before.acc, after.acc, before.loss, after.loss, out);
	}
	for (int k = 0; k < nl && L; k++)
		free(L[k].newp);
	free(L);
	free(text);
	free(x);
	free(yl);
	free(idx);
	al_model_free(m);
	al_model_free(m2);
	al_dataset_free(&tr);
	al_dataset_free(&te);
	al_checkpoint_free(&ck);
	return rc;
}
