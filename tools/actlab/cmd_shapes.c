/* cmd_shapes.c — `actlab act shapes`: what every trainable activation of a
 * checkpoint learned, over the range its inputs actually take (as recorded
 * during training, al_model_act_layer_hist, or on test data). Runs the
 * model (evaluation mode) over samples of the test part, records each
 * trainable activation layer's input range and histogram, samples every
 * unit's function (each group of parameters) over that range, and writes
 * per layer a CSV of the curves (each unit when there are at most 8, else
 * mean, mean -/+ std, min and max over units), a CSV of the histogram and a
 * gnuplot PNG with the curves above the histogram. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "actlab/act.h"
#include "actlab/data.h"
#include "actlab/nn.h"
#include "actlab/train.h"
#include "cli.h"

#define NBINS 60
#define MAXUNITS 8 /* more units: mean and band */

static const char *help =
	"usage: actlab act shapes --ckpt FILE --out DIR [--layer NAME] [--data SPEC]\n"
	"                         [--samples N] [--points N] [--no-plot]\n\n"
	"For every activation layer of the checkpoint with trainable parameters (or the\n"
	"one named by --layer): takes the layer's input range and 60-bin histogram\n"
	"recorded during training (checkpoint format 2); with --data, or for a layer\n"
	"without a record, runs the model in evaluation mode over the first N test\n"
	"samples (default 2000) of --data (or the checkpoint's data) instead and\n"
	"records range and histogram there. Then samples each unit's learned\n"
	"function at --points x values (default 201) over that range, and writes\n"
	"DIR/LAYER.csv (x, then each unit's f when there are at most 8, else mean,\n"
	"lo = mean - std, hi = mean + std, min, max over units), DIR/LAYER_hist.csv\n"
	"(bin centre, count, density) and DIR/LAYER.png (curves above the histogram,\n"
	"gnuplot; --no-plot skips it).\n";

typedef struct {
	const char *name;
	const al_act_spec *spec;
	const float *params;
	size_t groups;
	double lo, hi;
	double hist[NBINS];
	double total;
	int recorded; /* range and histogram recorded during training */
} lrec;

static void safe_name(const char *in, char *out, size_t cap)
{
	size_t j = 0;
	for (; *in && j + 1 < cap; in++)
		out[j++] = (isalnum((unsigned char)*in) || *in == '-' || *in == '_') ? *in : '_';
	out[j] = 0;
}

/* runs the forward over the samples; pass 0 records ranges, pass 1 histograms */
static al_status scan(al_model *m, const al_dataset *te, const al_norm *norm, int nsamp,
		      lrec *L, const int *ai, int nl, int pass)
{
	int c, h, w;
	al_model_input_shape(m, &c, &h, &w);
	const int B = 256;
	size_t per = (size_t)c * h * w;
	float *x = malloc((size_t)B * per * sizeof *x);
	int32_t *y = malloc((size_t)B * sizeof *y), *idx = malloc((size_t)B * sizeof *idx);
	al_status st = x && y && idx ? al_model_reserve(m, B) : al_err(AL_ENOMEM, "act shapes: out of memory");
	for (int s0 = 0; st == AL_OK && s0 < nsamp; s0 += B) {
		int n = nsamp - s0 < B ? nsamp - s0 : B;
		for (int i = 0; i < n; i++)
			idx[i] = s0 + i;
		al_batch_assemble(te, idx, n, norm, NULL, NULL, 0, x, y);
		const float *logits;
		st = al_model_forward(m, x, n, 0, &logits);
		for (int k = 0; st == AL_OK && k < nl; k++) {
			const float *in;
			int lc, lh, lw;
			al_model_act_layer_input(m, ai[k], &in, &lc, &lh, &lw);
			size_t N = (size_t)n * lc * lh * lw;
			lrec *r = &L[k];
			if (r->recorded)
				continue;
			for (size_t e = 0; e < N; e++) {
				double v = in[e];
				if (!isfinite(v))
					continue;
				if (pass == 0) {
					r->lo = v < r->lo ? v : r->lo;
					r->hi = v > r->hi ? v : r->hi;
				} else {
					int b = (int)((v - r->lo) / (r->hi - r->lo) * NBINS);
					b = b < 0 ? 0 : (b >= NBINS ? NBINS - 1 : b);
					r->hist[b] += 1;
					r->total += 1;
				}
			}
		}
	}
	free(x);
	free(y);
	free(idx);
	return st;
}

static int write_layer(const lrec *r, const char *dir, int points, int plot)
{
	char base[256], path[1024], hpath[1024], png[1024];
	safe_name(r->name, base, sizeof base);
	snprintf(path, sizeof path, "%s/%s.csv", dir, base);
	snprintf(hpath, sizeof hpath, "%s/%s_hist.csv", dir, base);
	snprintf(png, sizeof png, "%s/%s.png", dir, base);
	al_act_spec s = *r->spec;
	s.per = AL_PER_LAYER; /* one group at a time */
	int P = al_act_nparams(&s);
	size_t G = r->groups;
	float *x = malloc((size_t)points * sizeof *x), *ys = malloc((size_t)points * G * sizeof *ys);
	if (!x || !ys) {
		free(x);
		free(ys);
		fprintf(stderr, "actlab: error: act shapes: out of memory\n");
		return EXIT_RUNTIME;
	}
	for (int i = 0; i < points; i++)
		x[i] = (float)(r->lo + (r->hi - r->lo) * i / (points - 1));
	for (size_t g = 0; g < G; g++)
		al_act_forward(&s, r->params + g * (size_t)P, 1, points, 1, 1, x, ys + g * points, 0,
			       NULL);
	FILE *f = fopen(path, "w");
	if (!f) {
		free(x);
		free(ys);
		fprintf(stderr, "actlab: error: %s: cannot write\n", path);
		return EXIT_RUNTIME;
	}
	int each = G <= MAXUNITS;
	fprintf(f, "x");
	if (each)
		for (size_t g = 0; g < G; g++)
			fprintf(f, ",unit%zu", g);
	else
		fprintf(f, ",mean,lo,hi,min,max");
	fprintf(f, "\n");
	for (int i = 0; i < points; i++) {
		fprintf(f, "%.9g", (double)x[i]);
		if (each) {
			for (size_t g = 0; g < G; g++)
				fprintf(f, ",%.9g", (double)ys[g * points + i]);
		} else {
			double sum = 0, sq = 0, mn = INFINITY, mx = -INFINITY;
			for (size_t g = 0; g < G; g++) {
				double v = ys[g * points + i];
				sum += v;
				sq += v * v;
				mn = v < mn ? v : mn;
				mx = v > mx ? v : mx;
			}
			double mean = sum / (double)G, var = sq / (double)G - mean * mean;
			double sd = var > 0 ? sqrt(var) : 0;
			fprintf(f, ",%.9g,%.9g,%.9g,%.9g,%.9g", mean, mean - sd, mean + sd, mn, mx);
		}
		fprintf(f, "\n");
	}
	fclose(f);
	free(x);
	free(ys);
	f = fopen(hpath, "w");
	if (!f) {
		fprintf(stderr, "actlab: error: %s: cannot write\n", hpath);
		return EXIT_RUNTIME;
	}
	fprintf(f, "center,count,density\n");
	double bw = (r->hi - r->lo) / NBINS;
	for (int b = 0; b < NBINS; b++)
		fprintf(f, "%.9g,%.9g,%.9g\n", r->lo + (b + 0.5) * bw, r->hist[b],
			r->total ? (double)r->hist[b] / ((double)r->total * bw) : 0.0);
	fclose(f);
	fprintf(stderr, "wrote %s, %s\n", path, hpath);
	if (!plot)
		return 0;
	FILE *gp = popen("gnuplot 2>&1", "w");
	if (!gp) {
		fprintf(stderr, "actlab: error: cannot run gnuplot (install gnuplot-nox)\n");
		return EXIT_RUNTIME;
	}
	fprintf(gp, "set terminal pngcairo size 700,650\nset output '%s'\n", png);
	fprintf(gp, "set datafile separator ','\nset multiplot layout 2,1\nset grid\n");
	fprintf(gp, "set xrange [%.9g:%.9g]\n", r->lo, r->hi);
	fprintf(gp, "set title \"%s: %s (%zu unit%s)\" noenhanced\nset key top left\n", r->name,
		r->spec->text, G, G == 1 ? "" : "s");
	if (each) {
		fprintf(gp, "plot ");
		for (size_t g = 0; g < G; g++)
			fprintf(gp, "%s'%s' skip 1 using 1:%zu with lines lw 2 title 'unit %zu'",
				g ? ", " : "", path, g + 2, g);
		fprintf(gp, "\n");
	} else {
		fprintf(gp, "plot '%s' skip 1 using 1:5:6 with filledcurves fs transparent solid 0.15 "
			    "title 'min..max', '%s' skip 1 using 1:3:4 with filledcurves fs transparent "
			    "solid 0.35 title 'mean +- std', '%s' skip 1 using 1:2 with lines lw 2 "
			    "title 'mean'\n",
			path, path, path);
	}
	fprintf(gp, "set title 'input histogram (%.0f values%s)'\nunset key\nset style fill solid 0.5\n",
		r->total, r->recorded ? ", recorded in training" : ", test data");
	fprintf(gp, "plot '%s' skip 1 using 1:3 with boxes\nunset multiplot\n", hpath);
	int rc = pclose(gp);
	if (rc != 0) {
		fprintf(stderr, "actlab: error: gnuplot failed (exit %d) writing %s\n",
			WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, png);
		return EXIT_RUNTIME;
	}
	fprintf(stderr, "wrote %s\n", png);
	return 0;
}

int cmd_act_shapes(int argc, char **argv)
{
	const char *ckpt = NULL, *out = NULL, *layer = NULL, *data = NULL;
	int samples = 2000, points = 201, plot = 1;
	cli_args a;
	cli_init(&a, argc, argv);
	while (cli_next(&a)) {
		if (!strcmp(a.name, "help")) {
			fputs(help, stdout);
			return 0;
		} else if (!strcmp(a.name, "no_plot")) {
			plot = 0;
		} else if (!a.name[0] || !a.value) {
			return cli_usage_error("act shapes: bad argument '%s'",
					       a.name[0] ? a.name : a.value);
		} else if (!strcmp(a.name, "ckpt")) {
			ckpt = a.value;
		} else if (!strcmp(a.name, "out")) {
			out = a.value;
		} else if (!strcmp(a.name, "layer")) {
			layer = a.value;
		} else if (!strcmp(a.name, "data")) {
			data = a.value;
		} else if (!strcmp(a.name, "samples")) {
			samples = atoi(a.value);
		} else if (!strcmp(a.name, "points")) {
			points = atoi(a.value);
		} else {
			return cli_usage_error("act shapes: unknown option --%s", a.name);
		}
	}
	if (!ckpt || !out)
		return cli_usage_error("act shapes needs --ckpt FILE and --out DIR");
	if (samples < 1 || points < 2)
		return cli_usage_error("act shapes: --samples must be >= 1 and --points >= 2");
	al_checkpoint ck;
	al_status st = al_checkpoint_load(ckpt, &ck);
	if (st != AL_OK)
		return cli_runtime_error(st);
	al_model *m = NULL;
	al_dataset tr = {0}, te = {0};
	st = al_checkpoint_model(&ck, &m);
	/* without --data, layers that recorded their inputs in training use that */
	int need_data = data != NULL;
	if (st == AL_OK && !need_data)
		for (int i = 0; i < al_model_act_layers(m); i++) {
			const char *nm;
			const al_act_spec *sp;
			const float *pp;
			size_t gg;
			al_model_act_layer(m, i, &nm, &sp, &pp, &gg);
			if ((!layer || !strcmp(layer, nm)) &&
			    al_model_act_layer_hist(m, i, NULL, NULL, NULL) <= 0)
				need_data = 1;
		}
	if (st == AL_OK && need_data)
		st = al_data_load(data ? data : ck.config.data, &tr, &te);
	if (st == AL_OK && need_data && (te.c != ck.in_c || te.h != ck.in_h || te.w != ck.in_w)) {
		char what[320];
		st = al_dataset_adapt(&te, ck.in_c, ck.in_h, ck.in_w, what, sizeof what);
	}
	int nl = 0, rc = 0;
	int *ai = NULL;
	lrec *L = NULL;
	if (st == AL_OK) {
		int na = al_model_act_layers(m);
		ai = calloc((size_t)na + 1, sizeof *ai);
		L = calloc((size_t)na + 1, sizeof *L);
		for (int i = 0; i < na; i++) {
			lrec r = {0};
			al_model_act_layer(m, i, &r.name, &r.spec, &r.params, &r.groups);
			if (layer && strcmp(layer, r.name))
				continue;
			r.lo = INFINITY;
			r.hi = -INFINITY;
			if (!data) {
				double bins[AL_ACT_HIST_BINS];
				_Static_assert(AL_ACT_HIST_BINS == NBINS, "one histogram size");
				r.total = al_model_act_layer_hist(m, i, &r.lo, &r.hi, bins);
				r.recorded = r.total > 0;
				for (int b = 0; r.recorded && b < NBINS; b++)
					r.hist[b] = bins[b];
				if (!r.recorded) {
					r.lo = INFINITY;
					r.hi = -INFINITY;
					r.total = 0;
				}
			}
			ai[nl] = i;
			L[nl++] = r;
		}
		if (nl == 0) {
			char names[1024] = "";
			size_t l = 0;
			for (int i = 0; i < na && l + 1 < sizeof names; i++) {
				lrec r;
				al_model_act_layer(m, i, &r.name, &r.spec, &r.params, &r.groups);
				l += (size_t)snprintf(names + l, sizeof names - l, "%s%s", i ? ", " : "",
						      r.name);
			}
			st = layer ? al_err(AL_EINVAL, "act shapes: no trainable activation layer '%s'; "
						       "layers: %s",
					    layer, na ? names : "(none)")
				   : al_err(AL_EINVAL, "act shapes: %s has no activation with "
						       "trainable parameters",
					    ckpt);
		}
	}
	int ns = te.n < samples ? te.n : samples;
	if (st == AL_OK && need_data)
		st = scan(m, &te, &ck.norm, ns, L, ai, nl, 0);
	for (int k = 0; st == AL_OK && k < nl; k++)
		if (!L[k].recorded && !(L[k].hi > L[k].lo)) { /* constant or no finite input */
			double c0 = isfinite(L[k].lo) ? L[k].lo : 0;
			L[k].lo = c0 - 1;
			L[k].hi = c0 + 1;
		}
	if (st == AL_OK && need_data)
		st = scan(m, &te, &ck.norm, ns, L, ai, nl, 1);
	if (st == AL_OK && mkdir(out, 0777) != 0) {
		struct stat sb;
		if (stat(out, &sb) != 0 || !S_ISDIR(sb.st_mode))
			st = al_err(AL_EIO, "act shapes: cannot create directory %s", out);
	}
	if (st != AL_OK) {
		rc = cli_runtime_error(st);
	} else {
		for (int k = 0; k < nl && rc == 0; k++)
			rc = write_layer(&L[k], out, points, plot);
	}
	free(ai);
	free(L);
	al_model_free(m);
	al_dataset_free(&tr);
	al_dataset_free(&te);
	al_checkpoint_free(&ck);
	return rc;
}
