/* plot.c — the report's plots, drawn by gnuplot (Debian's gnuplot-nox) as
 * SVG: convergence curves per cell (mean test accuracy and training loss
 * over seeds with a ± std band), final accuracy bars with error bars,
 * learned activation parameter trajectories per layer (mean over seeds),
 * and learned activation shapes (one curve per layer and seed). The SVG
 * goes inline into the HTML report or into files referenced by md/tex.
 * Not for: tables and statistics (report.c).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exp/report_int.h"

#define MAX_SERIES 16

/* gnuplot single-quoted string: ' doubles */
static void gq(FILE *g, const char *s)
{
	fputc('\'', g);
	for (; *s; s++) {
		if (*s == '\'')
			fputc('\'', g);
		if (*s != '\n')
			fputc(*s, g);
	}
	fputc('\'', g);
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
		else
			fputc(*s, f);
	}
}

static void safe_name(const char *in, char *out, size_t cap)
{
	size_t i = 0;
	for (; in[i] && i < cap - 1; i++) {
		char c = in[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			 c == '-' || c == '_' || c == '.';
		out[i] = ok ? c : '_';
	}
	out[i] = 0;
}

typedef struct {
	char tmp[256];    /* scratch folder for data files */
	const char *dir;  /* NULL: inline */
	FILE *f;
	al_report_format fmt;
	char sweep[128];
	int count;
} plotctx;

/* Starts gnuplot writing svg to path (its messages to errlog); returns
 * the pipe. */
static char gp_log[300]; /* gnuplot's messages, in the scratch folder */

static FILE *gp_open(const char *svg, int w, int h)
{
	char cmd[700];
	snprintf(cmd, sizeof cmd, "gnuplot 2>'%s'", gp_log);
	FILE *g = popen(cmd, "w");
	if (!g)
		return NULL;
	fprintf(g, "set terminal svg size %d,%d font 'sans,11' background '#ffffff'\n", w, h);
	fprintf(g, "set output ");
	gq(g, svg);
	fprintf(g, "\nset termoption noenhanced\nset grid\nset key outside right top\n");
	return g;
}

/* Finishes a plot: runs gnuplot to completion and places the SVG. */
static al_status gp_close(plotctx *p, FILE *g, const char *svg, const char *caption)
{
	int rc = pclose(g);
	char msg[400] = "";
	const char *logp = gp_log;
	FILE *lf = fopen(logp, "r");
	if (lf) {
		size_t k = fread(msg, 1, sizeof msg - 1, lf);
		msg[k] = 0;
		fclose(lf);
		remove(logp);
	}
	if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0)
		return al_err(AL_EIO,
			      "gnuplot failed drawing '%s' (exit %d; is gnuplot-nox installed?): %s",
			      caption, WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, msg);
	if (p->dir) {
		const char *base = strrchr(svg, '/');
		base = base ? base + 1 : svg;
		if (p->fmt == AL_REPORT_MD)
			fprintf(p->f, "\n![%s](%s/%s)\n", caption, p->dir, base);
		else if (p->fmt == AL_REPORT_TEX)
			fprintf(p->f, "%% figure: %s/%s (%s)\n", p->dir, base, caption);
		p->count++;
		return AL_OK;
	}
	FILE *s = fopen(svg, "r");
	if (!s)
		return al_err(AL_EIO, "gnuplot wrote no %s", svg);
	fprintf(p->f, "<figure>\n");
	char line[8192];
	int in_svg = 0;
	while (fgets(line, sizeof line, s)) {
		if (!in_svg) {
			char *start = strstr(line, "<svg");
			if (!start)
				continue; /* XML declaration and DOCTYPE */
			in_svg = 1;
			fputs(start, p->f);
			continue;
		}
		fputs(line, p->f);
	}
	fclose(s);
	remove(svg);
	fprintf(p->f, "<figcaption>");
	html_escape(p->f, caption);
	fprintf(p->f, "</figcaption>\n</figure>\n");
	p->count++;
	return in_svg ? AL_OK : al_err(AL_EFORMAT, "gnuplot output for '%s' is not SVG", caption);
}

static void svg_path(plotctx *p, const char *what, char *buf, size_t cap)
{
	char sw[160];
	safe_name(p->sweep, sw, sizeof sw);
	if (p->dir)
		snprintf(buf, cap, "%s/%s-%s.svg", p->dir, sw, what);
	else
		snprintf(buf, cap, "%s/%s.svg", p->tmp, what);
}

/* which: 0 test accuracy, 1 training loss */
static al_status plot_curves(plotctx *p, rep_data *d, int from, int to, int which)
{
	char dat[400], svg[600];
	snprintf(dat, sizeof dat, "%s/curves%d.dat", p->tmp, which);
	FILE *o = fopen(dat, "w");
	if (!o)
		return al_err(AL_EIO, "%s: cannot write", dat);
	int ns = 0;
	for (int i = from; i < to && ns < MAX_SERIES; i++, ns++) {
		rep_cell *c = &d->c[i];
		for (int e = 0; e < c->E; e++) {
			double *v = malloc((size_t)c->n * sizeof *v);
			if (!v) {
				fclose(o);
				return al_err(AL_ENOMEM, "out of memory");
			}
			for (int k = 0; k < c->n; k++)
				v[k] = which ? c->runs[k].loss[e] : c->runs[k].acc[e];
			double m = al_stats_mean(v, c->n), s = al_stats_std(v, c->n);
			fprintf(o, "%d %.9g %.9g %.9g\n", e + 1, m, m - s, m + s);
			free(v);
		}
		fprintf(o, "\n\n");
	}
	fclose(o);
	svg_path(p, which ? "loss" : "accuracy", svg, sizeof svg);
	FILE *g = gp_open(svg, 820, 440);
	if (!g)
		return al_err(AL_EIO, "cannot run gnuplot (install gnuplot-nox)");
	int maxe = 1;
	for (int i = from; i < to; i++)
		maxe = d->c[i].E > maxe ? d->c[i].E : maxe;
	if (maxe <= 20)
		fprintf(g, "set xtics 1\n");
	fprintf(g, "set xlabel 'epoch'\nset ylabel '%s'\n",
		which ? "training loss (epoch mean)" : "test accuracy");
	fprintf(g, "set title 'convergence: mean over seeds, band = ±1 std'\n");
	fprintf(g, "set style fill transparent solid 0.18 noborder\n");
	fprintf(g, "plot ");
	for (int k = 0; k < ns; k++) {
		fprintf(g, "%s", k ? ", " : "");
		fprintf(g, "'%s' index %d using 1:3:4 with filledcurves lc %d notitle, ", dat, k, k + 1);
		fprintf(g, "'%s' index %d using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc %d title ",
			dat, k, k + 1);
		gq(g, d->c[from + k].label);
	}
	fprintf(g, "\n");
	return gp_close(p, g, svg,
			which ? "Training loss per epoch (mean ± std over seeds)"
			      : "Test accuracy per epoch (mean ± std over seeds)");
}

static al_status plot_bars(plotctx *p, rep_data *d, int from, int to)
{
	char dat[400], svg[600];
	snprintf(dat, sizeof dat, "%s/bars.dat", p->tmp);
	FILE *o = fopen(dat, "w");
	if (!o)
		return al_err(AL_EIO, "%s: cannot write", dat);
	double lo = (double)INFINITY;
	for (int i = from; i < to; i++) {
		rep_cell *c = &d->c[i];
		fprintf(o, "%d %.9g %.9g \"", i - from, c->final_acc.mean, c->final_acc.std);
		for (const char *s = c->label; *s; s++)
			if (*s != '"')
				fputc(*s, o);
		fprintf(o, "\"\n");
		double v = c->final_acc.mean - c->final_acc.std;
		lo = v < lo ? v : lo;
	}
	fclose(o);
	svg_path(p, "bars", svg, sizeof svg);
	int n = to - from;
	FILE *g = gp_open(svg, 160 + 60 * (n < 8 ? 8 : n), 440);
	if (!g)
		return al_err(AL_EIO, "cannot run gnuplot (install gnuplot-nox)");
	double ymin = floor((lo - 0.02) * 50) / 50;
	fprintf(g, "set title 'final test accuracy (mean ± std over seeds)'\nset key off\n");
	fprintf(g, "set style fill solid 0.6 border -1\nset boxwidth 0.6\n");
	fprintf(g, "set xtics rotate by -30\nset yrange [%g:*]\nset xrange [-0.7:%d.7]\n",
		ymin < 0 ? 0 : ymin, n - 1);
	fprintf(g, "plot '%s' using 1:2:xtic(4) with boxes lc 3, '' using 1:2:3 with yerrorbars "
		   "lc rgb '#000000' pt 0\n",
		dat);
	return gp_close(p, g, svg, "Final test accuracy with ± std error bars");
}

/* The cell's run ids as a JSON array for `IN (SELECT value FROM
 * json_each(?))`: a cell's runs are not always all runs with its cell text
 * (report --tune picks one per seed and fold). malloc'd; NULL: no memory. */
static char *run_ids_json(const rep_cell *c)
{
	size_t cap = 3 + (size_t)c->n * 21, len = 0;
	char *b = malloc(cap);
	if (!b)
		return NULL;
	b[len++] = '[';
	for (int k = 0; k < c->n; k++)
		len += (size_t)snprintf(b + len, cap - len, "%s%lld", k ? "," : "",
					(long long)c->runs[k].id);
	snprintf(b + len, cap - len, "]");
	return b;
}

/* Prepares sql, whose only parameter is the JSON id list of c's runs. */
static al_status prepare_for_runs(al_store *s, const char *sql, const rep_cell *c,
				  sqlite3_stmt **q)
{
	char *ids = run_ids_json(c);
	if (!ids)
		return al_err(AL_ENOMEM, "out of memory");
	al_status st = st_prepare(s, sql, q);
	if (st == AL_OK)
		sqlite3_bind_text(*q, 1, ids, -1, SQLITE_TRANSIENT);
	free(ids);
	return st;
}

static al_status plot_params(al_store *s, plotctx *p, rep_cell *c, int idx)
{
	sqlite3_stmt *q;
	AL_TRY(prepare_for_runs(s,
				"SELECT layer, param, epoch, AVG(mean) FROM act_params WHERE run IN"
				" (SELECT value FROM json_each(?))"
				" GROUP BY layer, param, epoch ORDER BY layer, param, epoch",
				c, &q));
	char dat[400], svg[600], what[64];
	snprintf(dat, sizeof dat, "%s/params%d.dat", p->tmp, idx);
	FILE *o = fopen(dat, "w");
	if (!o) {
		sqlite3_finalize(q);
		return al_err(AL_EIO, "%s: cannot write", dat);
	}
	char names[MAX_SERIES][140];
	int ns = 0;
	char cur[140] = "";
	while (sqlite3_step(q) == SQLITE_ROW) {
		char key[140];
		snprintf(key, sizeof key, "%s %s", (const char *)sqlite3_column_text(q, 0),
			 (const char *)sqlite3_column_text(q, 1));
		if (strcmp(key, cur)) {
			if (ns == MAX_SERIES)
				break;
			if (ns)
				fprintf(o, "\n\n");
			snprintf(names[ns++], sizeof names[0], "%s", key);
			snprintf(cur, sizeof cur, "%s", key);
		}
		fprintf(o, "%d %.9g\n", sqlite3_column_int(q, 2), sqlite3_column_double(q, 3));
	}
	sqlite3_finalize(q);
	fclose(o);
	if (!ns)
		return AL_OK;
	snprintf(what, sizeof what, "params-%d", idx);
	svg_path(p, what, svg, sizeof svg);
	FILE *g = gp_open(svg, 820, 440);
	if (!g)
		return al_err(AL_EIO, "cannot run gnuplot (install gnuplot-nox)");
	if (c->E <= 20)
		fprintf(g, "set xtics 1\n");
	fprintf(g, "set xlabel 'epoch (0 = initial value)'\nset ylabel 'value (mean over the "
		   "layer, then over seeds)'\nset title ");
	char title[900];
	snprintf(title, sizeof title, "learned parameters: %s", c->label);
	gq(g, title);
	fprintf(g, "\nplot ");
	for (int k = 0; k < ns; k++) {
		fprintf(g, "%s'%s' index %d using 1:2 with linespoints lw 2 pt 7 ps 0.5 title ",
			k ? ", " : "", dat, k);
		gq(g, names[k]);
	}
	fprintf(g, "\n");
	char cap[900];
	snprintf(cap, sizeof cap, "Learned activation parameters per layer and epoch: %s",
		 c->label);
	return gp_close(p, g, svg, cap);
}

static al_status plot_shapes(al_store *s, plotctx *p, rep_cell *c, int idx)
{
	sqlite3_stmt *q;
	AL_TRY(prepare_for_runs(s,
				"SELECT r.seed, r.fold, sh.layer, sh.x, sh.y FROM shapes sh JOIN runs r ON"
				" r.id = sh.run WHERE r.id IN (SELECT value FROM json_each(?))"
				" ORDER BY sh.layer, r.seed, r.fold, sh.idx",
				c, &q));
	char dat[400], svg[600], what[64];
	snprintf(dat, sizeof dat, "%s/shapes%d.dat", p->tmp, idx);
	FILE *o = fopen(dat, "w");
	if (!o) {
		sqlite3_finalize(q);
		return al_err(AL_EIO, "%s: cannot write", dat);
	}
	enum { MAXC = 24 };
	char names[MAXC][140];
	int layer_of[MAXC];
	char layers[MAXC][64];
	int nl = 0, ns = 0;
	char cur[140] = "";
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *layer = (const char *)sqlite3_column_text(q, 2);
		char key[140];
		snprintf(key, sizeof key, "%s seed %lld%s", layer, sqlite3_column_int64(q, 0),
			 c->runs[0].fold || sqlite3_column_int(q, 1) ? " fold" : "");
		if (strcmp(key, cur)) {
			if (ns == MAXC)
				break;
			if (ns)
				fprintf(o, "\n\n");
			int l = -1;
			for (int k = 0; k < nl; k++)
				if (!strcmp(layers[k], layer))
					l = k;
			if (l < 0 && nl < MAXC) {
				l = nl++;
				snprintf(layers[l], sizeof layers[0], "%s", layer);
			}
			layer_of[ns] = l < 0 ? 0 : l;
			snprintf(names[ns++], sizeof names[0], "%s", key);
			snprintf(cur, sizeof cur, "%s", key);
		}
		fprintf(o, "%.9g %.9g\n", sqlite3_column_double(q, 3), sqlite3_column_double(q, 4));
	}
	sqlite3_finalize(q);
	fclose(o);
	if (!ns)
		return AL_OK;
	snprintf(what, sizeof what, "shapes-%d", idx);
	svg_path(p, what, svg, sizeof svg);
	FILE *g = gp_open(svg, 820, 440);
	if (!g)
		return al_err(AL_EIO, "cannot run gnuplot (install gnuplot-nox)");
	fprintf(g, "set xlabel 'x'\nset ylabel 'f(x), mean over the layer''s groups'\n"
		   "set xzeroaxis\nset yzeroaxis\nset title ");
	char title[900];
	snprintf(title, sizeof title, "learned shapes after training: %s", c->label);
	gq(g, title);
	fprintf(g, "\nplot ");
	for (int k = 0; k < ns; k++) {
		fprintf(g, "%s'%s' index %d using 1:2 with lines lw 1.5 lc %d title ", k ? ", " : "",
			dat, k, layer_of[k] + 1);
		gq(g, names[k]);
	}
	fprintf(g, "\n");
	char cap[900];
	snprintf(cap, sizeof cap, "Learned activation shapes, one curve per layer and seed: %s",
		 c->label);
	return gp_close(p, g, svg, cap);
}

al_status rep_plots(al_store *s, rep_data *d, int from, int to, const char *dir, FILE *f,
		    al_report_format fmt)
{
	plotctx p;
	memset(&p, 0, sizeof p);
	p.dir = dir;
	p.f = f;
	p.fmt = fmt;
	snprintf(p.sweep, sizeof p.sweep, "%s", d->c[from].sweep);
	snprintf(p.tmp, sizeof p.tmp, "/tmp/actlab-plot-XXXXXX");
	if (!mkdtemp(p.tmp))
		return al_err(AL_EIO, "cannot create a temporary folder for plots");
	snprintf(gp_log, sizeof gp_log, "%s/gnuplot.log", p.tmp);
	if (dir && mkdir(dir, 0755) != 0) {
		struct stat sb;
		if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
			rmdir(p.tmp);
			return al_err(AL_EIO, "cannot create plot folder '%s'", dir);
		}
	}
	if (!dir && fmt == AL_REPORT_HTML)
		fprintf(f, "<h3>Plots</h3>\n<div class=\"plots\">\n");
	al_status st = plot_curves(&p, d, from, to, 0);
	if (st == AL_OK)
		st = plot_curves(&p, d, from, to, 1);
	if (st == AL_OK)
		st = plot_bars(&p, d, from, to);
	for (int i = from; i < to && st == AL_OK; i++)
		if (d->c[i].has_params)
			st = plot_params(s, &p, &d->c[i], i - from);
	for (int i = from; i < to && st == AL_OK; i++)
		if (d->c[i].has_shapes)
			st = plot_shapes(s, &p, &d->c[i], i - from);
	if (!dir && fmt == AL_REPORT_HTML)
		fprintf(f, "</div>\n");
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", p.tmp);
	if (system(cmd) != 0) {
		/* leftover scratch files in /tmp are harmless */
	}
	return st;
}
