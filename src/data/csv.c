/* csv.c — tabular data from one CSV file ("csv:FILE[,label=NAME,...]").
 *
 * Fields are comma separated, optionally double-quoted ("" inside quotes
 * is a quote); spaces around fields are ignored; blank lines are skipped;
 * CRLF line ends and a UTF-8 byte order mark are accepted. The first row
 * is a header when header=1, or (header not given) when one of its
 * feature cells is not a number, or its label cell is not a number while
 * every other label cell is. The label
 * column is the one named by label=NAME (needs a header) or the last one.
 * Every other column is a numeric feature. Class labels are mapped to
 * 0..K-1 in sorted order: numerically when every label is a number, else
 * by byte order of the strings.
 *
 * A seeded stratified holdout (default 20%) becomes the test part. Features
 * are standardised with the mean and population std of the train part
 * (a constant feature is only centred), applied to both parts. Samples are
 * c = h = 1, w = number of features, stored as floats (al_dataset.features).
 * Every defect (ragged row, non-numeric or empty cell, unknown label column)
 * is an error naming the file and line. Not for: images (folder.c).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/internal.h"

#define CSV_MAX_BYTES ((long)1 << 31)

typedef struct {
	char **cell; /* rows * cols pointers into the (rewritten) file text */
	int *line;   /* line number of each row */
	int rows, cols, cap;
} csv_table;

static int is_space(char c) { return c == ' ' || c == '\t'; }

/* Parses one line (NUL-terminated, no newline) into fields, unquoting in
 * place. fields receives up to cap pointers; returns the field count, or -1
 * with an error set. */
static int split_line(char *s, char **fields, int cap, const char *path, int lno)
{
	int nf = 0;
	char *p = s;
	for (;;) {
		while (is_space(*p))
			p++;
		char *start = p, *end;
		if (*p == '"') {
			char *w = ++p;
			start = w;
			for (;;) {
				if (*p == 0) {
					al_err(AL_EFORMAT, "%s: line %d: field %d: unterminated quote",
					       path, lno, nf + 1);
					return -1;
				}
				if (*p == '"') {
					if (p[1] == '"') {
						*w++ = '"';
						p += 2;
						continue;
					}
					p++;
					break;
				}
				*w++ = *p++;
			}
			end = w;
			while (is_space(*p))
				p++;
			if (*p && *p != ',') {
				al_err(AL_EFORMAT, "%s: line %d: field %d: text after the closing quote",
				       path, lno, nf + 1);
				return -1;
			}
		} else {
			while (*p && *p != ',')
				p++;
			end = p;
			while (end > start && is_space(end[-1]))
				end--;
		}
		int more = *p == ',';
		*end = 0;
		if (nf < cap)
			fields[nf] = start;
		nf++;
		if (!more)
			break;
		p++;
	}
	return nf;
}

static al_status read_table(const char *path, char **text_out, csv_table *t)
{
	memset(t, 0, sizeof *t);
	*text_out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return al_err(AL_EIO, "csv: %s: cannot open: %s", path, strerror(errno));
	if (fseek(f, 0, SEEK_END) != 0) {
		fclose(f);
		return al_err(AL_EIO, "csv: %s: cannot seek (not a regular file?)", path);
	}
	long sz = ftell(f);
	if (sz < 0 || sz > CSV_MAX_BYTES) {
		fclose(f);
		return al_err(AL_EIO, "csv: %s: size unknown or over 2 GiB", path);
	}
	rewind(f);
	char *text = malloc((size_t)sz + 1);
	if (!text) {
		fclose(f);
		return al_err(AL_ENOMEM, "csv: %s: cannot allocate %ld bytes", path, sz);
	}
	size_t got = fread(text, 1, (size_t)sz, f);
	int rerr = ferror(f);
	fclose(f);
	if (rerr || got != (size_t)sz) {
		free(text);
		return al_err(AL_EIO, "csv: %s: read error", path);
	}
	text[got] = 0;
	if (memchr(text, 0, got)) {
		free(text);
		return al_err(AL_EFORMAT, "csv: %s: contains NUL bytes (not a text file)", path);
	}
	*text_out = text;

	char **fields = NULL;
	int fcap = 0, lno = 0;
	char *start = text;
	if (got >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		start += 3; /* UTF-8 byte order mark */
	for (char *p = start; *p;) {
		char *nl = strchr(p, '\n');
		char *next = nl ? nl + 1 : p + strlen(p);
		if (nl)
			*nl = 0;
		lno++;
		size_t len = strlen(p);
		if (len && p[len - 1] == '\r')
			p[--len] = 0;
		char *q = p;
		while (is_space(*q))
			q++;
		if (*q == 0) {
			p = next;
			continue;
		}
		int bound = 1;
		for (const char *c = p; *c; c++)
			bound += *c == ',';
		if (bound > fcap) {
			free(fields);
			fcap = bound;
			fields = malloc((size_t)fcap * sizeof *fields);
			if (!fields) {
				al_err(AL_ENOMEM, "csv: %s: out of memory", path);
				goto fail;
			}
		}
		int nf = split_line(p, fields, fcap, path, lno);
		if (nf < 0)
			goto fail;
		if (t->rows == 0) {
			t->cols = nf;
		} else if (nf != t->cols) {
			al_err(AL_EFORMAT, "csv: %s: line %d: %d fields, expected %d (as on line %d)",
			       path, lno, nf, t->cols, t->line[0]);
			goto fail;
		}
		if (t->rows == t->cap) {
			int nc = t->cap ? 2 * t->cap : 256;
			char **cell = realloc(t->cell, (size_t)nc * (size_t)t->cols * sizeof *cell);
			if (cell)
				t->cell = cell;
			int *ln = realloc(t->line, (size_t)nc * sizeof *ln);
			if (ln)
				t->line = ln;
			if (!cell || !ln || nc > (1 << 30) / (t->cols ? t->cols : 1)) {
				al_err(AL_ENOMEM, "csv: %s: too many rows", path);
				goto fail;
			}
			t->cap = nc;
		}
		memcpy(t->cell + (size_t)t->rows * t->cols, fields, (size_t)nf * sizeof *fields);
		t->line[t->rows++] = lno;
		p = next;
	}
	free(fields);
	return AL_OK;
fail:
	free(fields);
	free(t->cell);
	free(t->line);
	memset(t, 0, sizeof *t);
	free(text);
	*text_out = NULL;
	return AL_EFORMAT;
}

static int parse_num(const char *s, double *v)
{
	if (!*s)
		return 0;
	char *end;
	errno = 0;
	double x = strtod(s, &end);
	if (*end || !isfinite(x))
		return 0;
	*v = x;
	return 1;
}

typedef struct {
	const char *s;
	double v;
} label_key;

static int cmp_num(const void *a, const void *b)
{
	const label_key *x = a, *y = b;
	return (x->v > y->v) - (x->v < y->v);
}

static int cmp_str(const void *a, const void *b)
{
	const label_key *x = a, *y = b;
	return strcmp(x->s, y->s);
}

al_status data_csv_load(const char *path, const data_csv_params *p, al_dataset *train,
			al_dataset *test)
{
	char *text = NULL;
	csv_table t;
	AL_TRY(read_table(path, &text, &t));
	al_dataset all = {0};
	label_key *keys = NULL, *uniq = NULL;
	uint8_t *part = NULL;
	double *mean = NULL, *sd = NULL;
	al_status st = AL_OK;
	const int cols = t.cols;
#define CELL(r, k) t.cell[(size_t)(r) * cols + (k)]
	if (t.rows == 0) {
		st = al_err(AL_EFORMAT, "csv: %s: no rows", path);
		goto done;
	}
	if (cols < 2) {
		st = al_err(AL_EFORMAT, "csv: %s: line %d: %d column; need features and a label", path,
			    t.line[0], cols);
		goto done;
	}
	/* label column and header */
	int lab = cols - 1, header = p->header;
	double dummy;
	if (p->label) {
		if (header == 0) {
			st = al_err(AL_EINVAL, "csv: %s: label=%s names a column, but header=0", path,
				    p->label);
			goto done;
		}
		header = 1;
		lab = -1;
		for (int k = 0; k < cols; k++)
			if (strcmp(CELL(0, k), p->label) == 0)
				lab = k;
		if (lab < 0) {
			char names[512];
			size_t l = 0;
			names[0] = 0;
			for (int k = 0; k < cols && l + 1 < sizeof names; k++)
				l += (size_t)snprintf(names + l, sizeof names - l, "%s'%s'",
						      k ? ", " : "", CELL(0, k));
			st = al_err(AL_EINVAL, "csv: %s: line %d: no column named '%s'; columns: %s",
				    path, t.line[0], p->label, names);
			goto done;
		}
	} else if (header < 0) {
		header = 0;
		for (int k = 0; k < cols - 1; k++)
			if (!parse_num(CELL(0, k), &dummy))
				header = 1;
		if (!header && !parse_num(CELL(0, lab), &dummy) && t.rows > 1) {
			int rest_numeric = 1;
			for (int r = 1; r < t.rows && rest_numeric; r++)
				rest_numeric = parse_num(CELL(r, lab), &dummy);
			header = rest_numeric;
		}
	}
	const int r0 = header ? 1 : 0, n = t.rows - r0, nf = cols - 1;
	if (n <= 0) {
		st = al_err(AL_EFORMAT, "csv: %s: a header but no data rows", path);
		goto done;
	}
	/* classes */
	keys = malloc((size_t)n * sizeof *keys);
	uniq = malloc((size_t)n * sizeof *uniq);
	if (!keys || !uniq) {
		st = al_err(AL_ENOMEM, "csv: %s: out of memory", path);
		goto done;
	}
	int numeric_labels = 1;
	for (int i = 0; i < n; i++) {
		keys[i].s = CELL(r0 + i, lab);
		if (!*keys[i].s) {
			st = al_err(AL_EFORMAT, "csv: %s: line %d: empty label (column %d)", path,
				    t.line[r0 + i], lab + 1);
			goto done;
		}
		if (!parse_num(keys[i].s, &keys[i].v))
			numeric_labels = 0;
	}
	int (*cmp_label)(const void *, const void *) = numeric_labels ? cmp_num : cmp_str;
	memcpy(uniq, keys, (size_t)n * sizeof *keys);
	qsort(uniq, (size_t)n, sizeof *uniq, cmp_label);
	int K = 0;
	for (int i = 0; i < n; i++)
		if (K == 0 || cmp_label(&uniq[K - 1], &uniq[i]) != 0)
			uniq[K++] = uniq[i];

	all.n = n;
	all.c = all.h = 1;
	all.w = nf;
	all.classes = K;
	all.features = al_malloc((size_t)n * nf * sizeof(float));
	all.labels = al_malloc((size_t)n * sizeof(int32_t));
	part = al_malloc((size_t)n);
	mean = calloc((size_t)nf, sizeof *mean);
	sd = calloc((size_t)nf, sizeof *sd);
	if (!all.features || !all.labels || !part || !mean || !sd) {
		st = al_err(AL_ENOMEM, "csv: %s: cannot allocate %d x %d features", path, n, nf);
		goto done;
	}
	snprintf(all.name, sizeof all.name, "csv");
	for (int i = 0; i < n; i++) {
		label_key *u = bsearch(&keys[i], uniq, (size_t)K, sizeof *uniq, cmp_label);
		all.labels[i] = (int32_t)(u - uniq);
		float *row = all.features + (size_t)i * nf;
		for (int k = 0, j = 0; k < cols; k++) {
			if (k == lab)
				continue;
			double v;
			const char *s = CELL(r0 + i, k);
			if (!parse_num(s, &v)) {
				st = al_err(AL_EFORMAT,
					    "csv: %s: line %d: column %d%s%s%s: %s is not a number",
					    path, t.line[r0 + i], k + 1, header ? " ('" : "",
					    header ? CELL(0, k) : "", header ? "')" : "",
					    *s ? s : "empty cell");
				goto done;
			}
			if (fabs(v) > 3.0e38) {
				st = al_err(AL_ERANGE, "csv: %s: line %d: column %d: %s overflows float",
					    path, t.line[r0 + i], k + 1, s);
				goto done;
			}
			row[j++] = (float)v;
		}
	}
	st = data_split_parts(all.labels, n, K, p->holdout, 0.0, p->seed, part);
	if (st != AL_OK)
		goto done;
	st = data_apply_parts(&all, part, train, test);
	if (st != AL_OK)
		goto done;
	/* standardise with the train part's statistics */
	for (int i = 0; i < train->n; i++)
		for (int j = 0; j < nf; j++)
			mean[j] += (double)train->features[(size_t)i * nf + j];
	for (int j = 0; j < nf; j++)
		mean[j] /= train->n > 0 ? train->n : 1;
	for (int i = 0; i < train->n; i++)
		for (int j = 0; j < nf; j++) {
			double d = (double)train->features[(size_t)i * nf + j] - mean[j];
			sd[j] += d * d;
		}
	for (int j = 0; j < nf; j++) {
		sd[j] = train->n > 0 ? sqrt(sd[j] / train->n) : 0.0;
		if (!(sd[j] > 1e-9 * fabs(mean[j])) || sd[j] == 0.0)
			sd[j] = 1.0; /* constant feature: only centred */
	}
	al_dataset *parts[2] = {train, test};
	for (int q = 0; q < 2; q++)
		for (int i = 0; i < parts[q]->n; i++)
			for (int j = 0; j < nf; j++) {
				float *v = &parts[q]->features[(size_t)i * nf + j];
				*v = (float)(((double)*v - mean[j]) / sd[j]);
			}
done:
#undef CELL
	if (st != AL_OK)
		al_dataset_free(&all);
	free(keys);
	free(uniq);
	al_free(part);
	free(mean);
	free(sd);
	free(t.cell);
	free(t.line);
	free(text);
	return st;
}
