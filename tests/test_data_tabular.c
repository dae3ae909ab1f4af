/* test_data_tabular.c — csv: data (header detection, label columns, class
 * mapping, standardisation, holdout, every row/cell defect with its line),
 * data set subsets, adapting images to a model's declared input, and the
 * k-fold / skip-bad training settings. Files are written by the tests into
 * test_tmpdir().
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/data.h"
#include "actlab/nn.h"
#include "actlab/train.h"
#include "test.h"

#define OUTCAP 16384

static int has(const char *s, const char *sub) { return strstr(s, sub) != NULL; }

/* Writes text to test_tmpdir()/name; returns the path (static slot). */
static const char *write_text(const char *name, const char *text)
{
	static char buf[8][512];
	static int slot;
	char *p = buf[slot++ % 8];
	snprintf(p, 512, "%s/%s", test_tmpdir(), name);
	FILE *f = fopen(p, "wb");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	return p;
}

static al_status load_csv(const char *path, const char *opts, al_dataset *tr, al_dataset *te)
{
	char spec[1024];
	snprintf(spec, sizeof spec, "csv:%s%s%s", path, opts ? "," : "", opts ? opts : "");
	return al_data_load(spec, tr, te);
}

/* ---- csv ------------------------------------------------------------------ */
TEST(csv_header_string_labels_standardised)
{
	const char *p = write_text("a.csv", "height,weight,species\n"
					    "1,10,dog\n"
					    "2,20,cat\n"
					    "3,30,dog\n"
					    "4,40,bird\n");
	al_dataset tr, te;
	REQUIRE_OK(load_csv(p, "holdout=0", &tr, &te));
	CHECK(tr.n == 4 && te.n == 0, "n %d / %d", tr.n, te.n);
	CHECK(tr.c == 1 && tr.h == 1 && tr.w == 2, "shape %dx%dx%d", tr.c, tr.h, tr.w);
	CHECK(tr.features && !tr.images, "tabular data must be float features");
	CHECK(tr.classes == 3, "classes %d", tr.classes);
	/* sorted: bird 0, cat 1, dog 2 */
	int want[4] = {2, 1, 2, 0};
	for (int i = 0; i < 4; i++)
		CHECK(tr.labels[i] == want[i], "label %d = %d, want %d", i, tr.labels[i], want[i]);
	/* height 1..4: mean 2.5, population std sqrt(1.25) */
	double sd = sqrt(1.25);
	for (int i = 0; i < 4; i++) {
		CHECK_NEAR(tr.features[i * 2], (i + 1 - 2.5) / sd, 1e-6);
		CHECK_NEAR(tr.features[i * 2 + 1], (10.0 * (i + 1) - 25.0) / (10 * sd), 1e-6);
	}
	CHECK(has(tr.name, "csv"), "name %s", tr.name);
	/* batches copy the features unchanged, whatever the normalisation */
	al_norm nm;
	al_norm_compute(&tr, &nm);
	int32_t idx[2] = {3, 0}, y[2];
	float x[4];
	al_batch_assemble(&tr, idx, 2, &nm, NULL, NULL, 0, x, y);
	CHECK(x[0] == tr.features[6] && x[1] == tr.features[7] && x[2] == tr.features[0] &&
		      y[0] == 0 && y[1] == 2,
	      "batch %g %g %g labels %d %d", (double)x[0], (double)x[1], (double)x[2], y[0], y[1]);
	al_dataset_free(&tr);
	al_dataset_free(&te);
}

TEST(csv_named_label_column_numeric_labels_sorted_by_value)
{
	/* label in the middle; numeric labels 10 > 9 > 2 by value, not text */
	const char *p = write_text("b.csv", "x, cls ,y\n0.5,10,1\n0.25,9,2\n1e1,2,3\n-4,10,4\n");
	al_dataset tr, te;
	REQUIRE_OK(load_csv(p, "label=cls,holdout=0", &tr, &te));
	CHECK(tr.w == 2 && tr.classes == 3, "w %d classes %d", tr.w, tr.classes);
	int want[4] = {2, 1, 0, 2};
	for (int i = 0; i < 4; i++)
		CHECK(tr.labels[i] == want[i], "label %d = %d, want %d", i, tr.labels[i], want[i]);
	/* column y (1..4) is the second feature */
	CHECK(tr.features[1] < tr.features[3] && tr.features[3] < tr.features[5], "y order");
	al_dataset_free(&tr);
	al_dataset_free(&te);
}

TEST(csv_no_header_quotes_crlf_blank_lines)
{
	const char *p = write_text("c.csv", "1,2,\"a,b\"\r\n\r\n 3 , 4 , \"x\"\"y\" \r\n5,6,\"a,b\"\n\n");
	al_dataset tr, te;
	REQUIRE_OK(load_csv(p, "holdout=0", &tr, &te));
	CHECK(tr.n == 3 && tr.w == 2 && tr.classes == 2, "n %d w %d classes %d", tr.n, tr.w,
	      tr.classes);
	/* "a,b" < "x\"y" */
	CHECK(tr.labels[0] == 0 && tr.labels[1] == 1 && tr.labels[2] == 0, "labels %d %d %d",
	      tr.labels[0], tr.labels[1], tr.labels[2]);
	al_dataset_free(&tr);
	al_dataset_free(&te);
	/* a UTF-8 byte order mark does not become part of the first name */
	p = write_text("bom.csv", "\xEF\xBB\xBF" "a,b\n1,x\n2,y\n");
	REQUIRE_OK(load_csv(p, "label=b,holdout=0", &tr, &te));
	CHECK(tr.n == 2 && tr.w == 1, "bom: n %d w %d", tr.n, tr.w);
	al_dataset_free(&tr);
	al_dataset_free(&te);
	p = write_text("bom2.csv", "\xEF\xBB\xBF" "a,b\nx,1\ny,2\n");
	REQUIRE_OK(load_csv(p, "label=a,holdout=0", &tr, &te));
	CHECK(tr.n == 2 && tr.classes == 2, "bom, first column named: n %d", tr.n);
	al_dataset_free(&tr);
	al_dataset_free(&te);
	/* header=1 forces a numeric-looking first row to be a header */
	p = write_text("c2.csv", "1,2,3\n4,5,0\n6,7,1\n");
	REQUIRE_OK(load_csv(p, "header=1,holdout=0", &tr, &te));
	CHECK(tr.n == 2, "n %d", tr.n);
	al_dataset_free(&tr);
	al_dataset_free(&te);
	REQUIRE_OK(load_csv(p, "holdout=0", &tr, &te));
	CHECK(tr.n == 3, "numeric first row is data: n %d", tr.n);
	al_dataset_free(&tr);
	al_dataset_free(&te);
}

TEST(csv_holdout_stratified_and_seeded)
{
	char text[8192];
	size_t l = 0;
	l += (size_t)snprintf(text + l, sizeof text - l, "f,label\n");
	for (int i = 0; i < 100; i++) /* 60 of class a, 40 of class b */
		l += (size_t)snprintf(text + l, sizeof text - l, "%d,%s\n", i, i % 5 < 3 ? "a" : "b");
	const char *p = write_text("d.csv", text);
	al_dataset tr, te, tr2, te2;
	REQUIRE_OK(load_csv(p, "holdout=0.25", &tr, &te));
	CHECK(tr.n == 75 && te.n == 25, "sizes %d / %d", tr.n, te.n);
	int cnt[2] = {0, 0};
	for (int i = 0; i < te.n; i++)
		cnt[te.labels[i]]++;
	CHECK(cnt[0] == 15 && cnt[1] == 10, "test per class %d %d", cnt[0], cnt[1]);
	/* train statistics: train features have mean 0, std 1 */
	double m = 0, s2 = 0;
	for (int i = 0; i < tr.n; i++)
		m += (double)tr.features[i];
	m /= tr.n;
	for (int i = 0; i < tr.n; i++)
		s2 += ((double)tr.features[i] - m) * ((double)tr.features[i] - m);
	CHECK_NEAR(m, 0.0, 1e-6);
	CHECK_NEAR(sqrt(s2 / tr.n), 1.0, 1e-5);
	REQUIRE_OK(load_csv(p, "holdout=0.25", &tr2, &te2));
	CHECK(te2.n == te.n && memcmp(te2.features, te.features, (size_t)te.n * 4) == 0,
	      "same seed, different split");
	al_dataset_free(&tr2);
	al_dataset_free(&te2);
	REQUIRE_OK(load_csv(p, "holdout=0.25,seed=7", &tr2, &te2));
	CHECK(memcmp(te2.features, te.features, (size_t)te.n * 4) != 0, "seed ignored");
	al_dataset_free(&tr2);
	al_dataset_free(&te2);
	/* default holdout is 20% */
	REQUIRE_OK(load_csv(p, NULL, &tr2, &te2));
	CHECK(te2.n == 20, "default holdout: %d test samples", te2.n);
	al_dataset_free(&tr2);
	al_dataset_free(&te2);
	al_dataset_free(&tr);
	al_dataset_free(&te);
}

TEST(csv_constant_feature_is_centred_not_nan)
{
	const char *p = write_text("e.csv", "a,b,y\n7,1,0\n7,2,1\n7,3,0\n");
	al_dataset tr, te;
	REQUIRE_OK(load_csv(p, "holdout=0", &tr, &te));
	for (int i = 0; i < 3; i++)
		CHECK(tr.features[2 * i] == 0.0f, "constant feature -> %g", (double)tr.features[2 * i]);
	al_dataset_free(&tr);
	al_dataset_free(&te);
}

/* Each defect: status, and the message names the file and the line. */
TEST(csv_errors_name_file_and_line)
{
	static const struct {
		const char *name, *text, *opts, *want1, *want2;
		al_status st;
	} cases[] = {
		{"ragged.csv", "a,b,y\n1,2,0\n3,4,1\n5,0\n", NULL, "line 4", "2 fields, expected 3",
		 AL_EFORMAT},
		{"nonnum.csv", "a,b,y\n1,2,0\n3,x4,1\n", NULL, "line 3", "('b'): x4 is not a number",
		 AL_EFORMAT},
		{"empty.csv", "a,b,y\n1,,0\n", NULL, "line 2", "empty cell", AL_EFORMAT},
		{"nolabel.csv", "a,b,y\n1,2,\n", NULL, "line 2", "empty label", AL_EFORMAT},
		{"quote.csv", "a,b,y\n1,\"2,0\n", NULL, "line 2", "unterminated quote", AL_EFORMAT},
		{"after.csv", "a,b,y\n1,\"2\"x,0\n", NULL, "line 2", "after the closing quote",
		 AL_EFORMAT},
		{"headonly.csv", "a,b,y\n", NULL, "header but no data", "", AL_EFORMAT},
		{"blank.csv", "\n\n", NULL, "no rows", "", AL_EFORMAT},
		{"onecol.csv", "1\n2\n", NULL, "need features and a label", "", AL_EFORMAT},
		{"badname.csv", "a,b,y\n1,2,0\n", "label=z", "no column named 'z'", "'y'", AL_EINVAL},
		{"hdr0.csv", "a,b,y\n1,2,0\n", "label=y,header=0", "header=0", "", AL_EINVAL},
		{"nan.csv", "a,b,y\n1,nan,0\n", NULL, "line 2", "nan is not a number", AL_EFORMAT},
		{"big.csv", "a,b,y\n1,1e39,0\n", NULL, "line 2", "overflows float", AL_ERANGE},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *p = write_text(cases[i].name, cases[i].text);
		al_dataset tr, te;
		al_status st = load_csv(p, cases[i].opts, &tr, &te);
		const char *msg = al_errmsg();
		CHECK(st == cases[i].st && has(msg, cases[i].name) && has(msg, cases[i].want1) &&
			      has(msg, cases[i].want2),
		      "%s: status %d, message: %s", cases[i].name, st, msg);
		CHECK(tr.features == NULL && te.features == NULL && tr.n == 0, "%s: not cleared",
		      cases[i].name);
	}
	al_dataset tr, te;
	al_status st = al_data_load("csv:/nonexistent/x.csv", &tr, &te);
	CHECK(st == AL_EIO && has(al_errmsg(), "/nonexistent/x.csv"), "missing: %d %s", st,
	      al_errmsg());
	st = al_data_load("csv", &tr, &te);
	CHECK(st == AL_EINVAL && has(al_errmsg(), "missing file"), "no file: %d %s", st,
	      al_errmsg());
	st = al_data_load("csv:x.csv,holdout=1", &tr, &te);
	CHECK(st == AL_ERANGE && has(al_errmsg(), "holdout"), "holdout=1: %d %s", st, al_errmsg());
	st = al_data_load("csv:x.csv,size=3", &tr, &te);
	CHECK(st == AL_EINVAL && has(al_errmsg(), "'size'") && has(al_errmsg(), "label"),
	      "unknown key: %d %s", st, al_errmsg());
}

TEST(csv_spec_colon_options_and_limits)
{
	const char *p = write_text("f.csv", "a,y\n1,0\n2,1\n3,0\n4,1\n5,0\n");
	char spec[700];
	snprintf(spec, sizeof spec, "csv:%s:holdout=0,train=3", p);
	al_dataset tr, te;
	REQUIRE_OK(al_data_load(spec, &tr, &te));
	CHECK(tr.n == 3 && te.n == 0, "sizes %d %d", tr.n, te.n);
	al_dataset_free(&tr);
	al_dataset_free(&te);
}

/* ---- subsets and adaptation ------------------------------------------------ */
TEST(dataset_subset_copies_samples_in_order)
{
	al_dataset tr, te, sub;
	REQUIRE_OK(al_data_load("synthetic:n=10,test=1,c=2,h=3,w=3", &tr, &te));
	int32_t idx[3] = {7, 2, 7};
	REQUIRE_OK(al_dataset_subset(&tr, idx, 3, "/sub", &sub));
	CHECK(sub.n == 3 && sub.c == 2 && sub.classes == tr.classes && has(sub.name, "/sub"),
	      "n %d name %s", sub.n, sub.name);
	for (int i = 0; i < 3; i++) {
		CHECK(memcmp(sub.images + i * 18, tr.images + idx[i] * 18, 18) == 0, "sample %d", i);
		CHECK(sub.labels[i] == tr.labels[idx[i]], "label %d", i);
	}
	al_dataset_free(&sub);
	int32_t bad[1] = {10};
	al_status st = al_dataset_subset(&tr, bad, 1, "", &sub);
	CHECK(st == AL_ERANGE, "index out of range accepted: %d", st);
	al_dataset_free(&tr);
	al_dataset_free(&te);
}

TEST(adapt_pad_replicate_channels)
{
	al_dataset tr, te;
	REQUIRE_OK(al_data_load("synthetic:n=3,test=1,c=1,h=28,w=28", &tr, &te));
	uint8_t *orig = malloc(3 * 28 * 28);
	REQUIRE(orig, "malloc");
	memcpy(orig, tr.images, 3 * 28 * 28);
	char what[320];
	REQUIRE_OK(al_dataset_adapt(&tr, 3, 32, 32, what, sizeof what));
	CHECK(tr.c == 3 && tr.h == 32 && tr.w == 32, "shape %dx%dx%d", tr.c, tr.h, tr.w);
	CHECK(has(what, "1x28x28") && has(what, "3x32x32") && has(what, "replicated") &&
		      has(what, "zero-padded 2 px"),
	      "message: %s", what);
	int bad = 0;
	for (int i = 0; i < 3; i++)
		for (int ch = 0; ch < 3; ch++)
			for (int y = 0; y < 32; y++)
				for (int x = 0; x < 32; x++) {
					uint8_t v = tr.images[((i * 3 + ch) * 32 + y) * 32 + x];
					int in = y >= 2 && y < 30 && x >= 2 && x < 30;
					uint8_t want = in ? orig[(i * 28 + y - 2) * 28 + x - 2] : 0;
					bad += v != want;
				}
	CHECK(bad == 0, "%d pixels differ from the padded original", bad);
	free(orig);
	/* same shape: nothing done */
	REQUIRE_OK(al_dataset_adapt(&tr, 3, 32, 32, what, sizeof what));
	CHECK(what[0] == 0, "message for a no-op: %s", what);
	/* 3 -> 1 luma, then a resize of a constant image stays constant */
	memset(tr.images, 0, 3 * 3 * 32 * 32);
	for (int k = 0; k < 32 * 32; k++) {
		tr.images[k] = 200;               /* R */
		tr.images[32 * 32 + k] = 100;     /* G */
		tr.images[2 * 32 * 32 + k] = 50;  /* B */
	}
	REQUIRE_OK(al_dataset_adapt(&tr, 1, 32, 32, what, sizeof what));
	int luma = (299 * 200 + 587 * 100 + 114 * 50 + 500) / 1000;
	CHECK(tr.images[0] == luma && tr.images[32 * 32 - 1] == luma && has(what, "grey"),
	      "luma %d want %d (%s)", tr.images[0], luma, what);
	REQUIRE_OK(al_dataset_adapt(&tr, 1, 64, 48, what, sizeof what));
	CHECK(tr.h == 64 && tr.w == 48 && has(what, "resized 32x32 -> 64x48"), "%s", what);
	CHECK(tr.images[0] == luma && tr.images[64 * 48 / 2 + 7] == luma, "resized constant: %d %d",
	      tr.images[0], tr.images[64 * 48 / 2 + 7]);
	/* impossible: 2 channels; tabular data */
	al_dataset t2, e2;
	REQUIRE_OK(al_data_load("synthetic:n=2,test=1,c=2,h=4,w=4", &t2, &e2));
	al_status st = al_dataset_adapt(&t2, 3, 4, 4, what, sizeof what);
	CHECK(st == AL_EINVAL && has(al_errmsg(), "2 channels"), "%d %s", st, al_errmsg());
	al_dataset_free(&t2);
	al_dataset_free(&e2);
	const char *p = write_text("g.csv", "a,b,y\n1,2,0\n3,4,1\n");
	REQUIRE_OK(load_csv(p, "holdout=0", &t2, &e2));
	st = al_dataset_adapt(&t2, 1, 28, 28, what, sizeof what);
	CHECK(st == AL_EINVAL && has(al_errmsg(), "tabular"), "%d %s", st, al_errmsg());
	al_dataset_free(&t2);
	al_dataset_free(&e2);
	al_dataset_free(&tr);
	al_dataset_free(&te);
}

TEST(model_declared_input)
{
	const char *p = write_text("net.cfg", "[net]\nchannels = 3\nheight = 12\nwidth = 10\n\n"
					      "[dense]\nout = $CLASSES\n");
	int c, h, w;
	REQUIRE_OK(al_model_declared_input(p, NULL, &c, &h, &w));
	CHECK(c == 3 && h == 12 && w == 10, "declared %dx%dx%d", c, h, w);
	REQUIRE_OK(al_model_declared_input("lenet5", NULL, &c, &h, &w));
	CHECK(c == 0 && h == 0 && w == 0, "lenet5 declares %dx%dx%d", c, h, w);
	p = write_text("net2.cfg", "[net]\nheight = 16\n\n[dense]\nout = $CLASSES\n");
	REQUIRE_OK(al_model_declared_input(p, NULL, &c, &h, &w));
	CHECK(c == 0 && h == 16 && w == 0, "declared %dx%dx%d", c, h, w);
}

/* ---- training settings -------------------------------------------------------- */
TEST(train_config_kfold_roundtrip)
{
	al_train_config c = al_train_config_default(), d;
	REQUIRE_OK(al_train_config_set(&c, "kfold", "10"));
	REQUIRE_OK(al_train_config_set(&c, "fold", "3"));
	REQUIRE_OK(al_train_config_set(&c, "kfold_seed", "99"));
	REQUIRE_OK(al_train_config_set(&c, "skip_bad", "1"));
	char text[16384];
	al_train_config_to_text(&c, text, sizeof text);
	REQUIRE_OK(al_train_config_from_text(text, &d));
	CHECK(d.kfold == 10 && d.fold == 3 && d.kfold_seed == 99 && d.skip_bad == 1,
	      "round trip: kfold %d fold %d seed %llu skip %d", d.kfold, d.fold,
	      (unsigned long long)d.kfold_seed, d.skip_bad);
	al_status st = al_train_config_set(&c, "kfold", "1");
	CHECK(st == AL_ERANGE && has(al_errmsg(), "kfold"), "kfold=1: %d %s", st, al_errmsg());
	st = al_train_config_set(&c, "fold", "-1");
	CHECK(st == AL_ERANGE, "fold=-1: %d", st);
	st = al_train_config_set(&c, "bogus", "1");
	CHECK(st == AL_EINVAL && has(al_errmsg(), "kfold") && has(al_errmsg(), "skip_bad"),
	      "key list: %s", al_errmsg());
}

static int cli(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int cli(char *out, const char *fmt, ...)
{
	char args[4096], cmd[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof cmd, "%s %s", actlab_bin(), args);
	return run_cmd(cmd, out, OUTCAP);
}

TEST(cli_train_kfold_csv_and_adapt)
{
	static char out[OUTCAP];
	/* a separable 2-feature, 3-class table learned by an MLP */
	char text[16384];
	size_t l = snprintf(text, sizeof text, "u,v,kind\n");
	for (int i = 0; i < 150; i++) {
		int k = i % 3;
		double u = k * 2.0 + 0.3 * ((i * 37) % 11) / 11.0, v = -k + 0.2 * ((i * 17) % 7) / 7.0;
		l += (size_t)snprintf(text + l, sizeof text - l, "%.4f,%.4f,%s\n", u, v,
				      k == 0 ? "low" : k == 1 ? "mid" : "high");
	}
	const char *p = write_text("sep.csv", text);
	int rc = cli(out,
		     "train --model mlp:32 --data csv:%s --epochs 30 --opt adam --lr 0.01 --batch 16 "
		     "--quiet --json",
		     p);
	CHECK(rc == 0 && has(out, "\"test_acc\": 1.0"), "rc %d: %s", rc, out);
	/* a k-fold run: eval of its checkpoint tests on the same fold */
	char run[600];
	snprintf(run, sizeof run, "%s/kfold-run", test_tmpdir());
	rc = cli(out, "train --model mlp:8 --data csv:%s,holdout=0 --kfold 5 --fold 4 --epochs 2 "
		      "--quiet --json --out %s 2>/dev/null", p, run);
	const char *acc = strstr(out, "\"test_acc\": ");
	CHECK(rc == 0 && acc, "kfold: rc %d: %s", rc, out);
	double train_acc = acc ? atof(acc + 12) : -1;
	rc = cli(out, "eval --ckpt %s/ckpt.bin --json 2>/dev/null", run);
	acc = strstr(out, "\"test_acc\": ");
	CHECK(rc == 0 && acc && fabs(atof(acc + 12) - train_acc) < 1e-6 &&
		      has(out, "\"samples\": 30"),
	      "eval of the fold: rc %d: %s (train reported %g)", rc, out, train_acc);
	rc = cli(out, "train --model mlp:8 --data csv:%s --kfold 5 --fold 5 --epochs 1 --quiet", p);
	CHECK(rc == 1 && has(out, "fold 5 outside [0, 5)"), "fold range: rc %d: %s", rc, out);
	rc = cli(out, "train --model mlp:8 --data csv:%s --crop 2 --epochs 1 --quiet", p);
	CHECK(rc == 1 && has(out, "tabular"), "crop on tabular: rc %d: %s", rc, out);
	/* a model declaring 1x12x12: 10x10 images are padded, 1x6x6 resized */
	const char *cfg = write_text("in12.cfg", "[net]\nchannels = 3\nheight = 12\nwidth = 12\n\n"
						 "[conv]\nfilters = 4\nsize = 3\nact = $ACT\n\n"
						 "[dense]\nout = $CLASSES\n");
	rc = cli(out, "train --model %s --data synthetic:n=64,test=16,h=10,w=10 --epochs 1", cfg);
	CHECK(rc == 0 && has(out, "note:") && has(out, "1x10x10") && has(out, "3x12x12") &&
		      has(out, "zero-padded 1 px") && has(out, "channel replicated"),
	      "pad: rc %d: %s", rc, out);
	rc = cli(out, "train --model %s --data synthetic:n=64,test=16,h=6,w=6 --epochs 1", cfg);
	CHECK(rc == 0 && has(out, "resized 6x6 -> 12x12"), "resize: rc %d: %s", rc, out);
	rc = cli(out, "train --model %s --data synthetic:n=64,test=16,c=2,h=12,w=12 --epochs 1",
		 cfg);
	CHECK(rc == 1 && has(out, "2 channels") && has(out, cfg), "impossible: rc %d: %s", rc,
	      out);
	rc = cli(out, "train --model %s --data csv:%s --epochs 1 --quiet", cfg, p);
	CHECK(rc == 1 && has(out, "tabular"), "tabular into conv: rc %d: %s", rc, out);
}
