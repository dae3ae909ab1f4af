/* test_data_folder.c — folder: image trees: class order, pixel layout,
 * grey conversion, crop and resize geometry, the Tiny ImageNet and
 * Caltech-101 layouts, train/test trees, the on-disk cache (hit, and
 * invalidation when a file changes), thread independence, and every bad
 * input (truncated JPEG, unreadable, empty and garbage files, empty class
 * folder, mixed sizes) with and without skip_bad. The tests write their
 * PNG/JPEG files with stb_image_write into test_tmpdir().
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <stb/stb_image_write.h>

#include "actlab/core.h"
#include "actlab/data.h"
#include "test.h"

#define OUTCAP 16384

static int has(const char *s, const char *sub) { return strstr(s, sub) != NULL; }

/* test_tmpdir()/fmt..., created with its parents; static slot. */
static const char *mkpath(int make_dir, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *mkpath(int make_dir, const char *fmt, ...)
{
	static char buf[16][1024];
	static int slot;
	char *p = buf[slot++ % 16], rel[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rel, sizeof rel, fmt, ap);
	va_end(ap);
	snprintf(p, 1024, "%s/%s", test_tmpdir(), rel);
	char tmp[1024];
	snprintf(tmp, sizeof tmp, "%s", p);
	for (char *q = tmp + strlen(test_tmpdir()) + 1; *q; q++)
		if (*q == '/') {
			*q = 0;
			mkdir(tmp, 0755);
			*q = '/';
		}
	if (make_dir)
		mkdir(tmp, 0755);
	return p;
}

/* An RGB test image: pixel (x, y) = (base + x, base + 16*y, base ^ 0x55). */
static void fill_rgb(uint8_t *px, int w, int h, int base)
{
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			uint8_t *p = px + ((size_t)y * w + x) * 3;
			p[0] = (uint8_t)(base + x);
			p[1] = (uint8_t)(base + 16 * y);
			p[2] = (uint8_t)(base ^ 0x55);
		}
}

static int write_png(const char *path, int w, int h, int base)
{
	uint8_t *px = malloc((size_t)w * h * 3);
	fill_rgb(px, w, h, base);
	int ok = stbi_write_png(path, w, h, 3, px, w * 3);
	free(px);
	return ok;
}

static int write_jpg(const char *path, int w, int h, int base)
{
	uint8_t *px = malloc((size_t)w * h * 3);
	fill_rgb(px, w, h, base);
	int ok = stbi_write_jpg(path, w, h, 3, px, 95);
	free(px);
	return ok;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* Keeps the first keep bytes of path. */
static void truncate_file(const char *path, long keep) { (void)!truncate(path, keep); }

static void use_tmp_cache(void)
{
	setenv("ACTLAB_CACHE_DIR", mkpath(1, "cache"), 1);
}

typedef struct {
	int n;
	char text[8192];
} warnings;

static void collect(void *user, const char *msg)
{
	warnings *w = user;
	size_t l = strlen(w->text);
	snprintf(w->text + l, sizeof w->text - l, "%s\n", msg);
	w->n++;
}

static al_status load(const char *dir, const char *opts, int skip, warnings *w, al_dataset *tr,
		      al_dataset *te)
{
	char spec[1200];
	snprintf(spec, sizeof spec, "folder:%s%s%s", dir, opts ? "," : "", opts ? opts : "");
	al_data_opts o = al_data_opts_default();
	o.skip_bad = skip;
	if (w) {
		memset(w, 0, sizeof *w);
		o.warn = collect;
		o.user = w;
	}
	return al_data_load_with(spec, &o, tr, te);
}

/* ---- a plain class tree ---------------------------------------------------- */
/* classes given unsorted on disk: zeta (3 images, one nested), alpha (2). */
static const char *make_tree(const char *name)
{
	mkpath(1, "%s", name);
	write_png(mkpath(0, "%s/zeta/b.png", name), 8, 6, 10);
	write_png(mkpath(0, "%s/zeta/a.png", name), 8, 6, 20);
	write_png(mkpath(0, "%s/zeta/deeper/c.PNG", name), 8, 6, 30);
	write_text(mkpath(0, "%s/zeta/notes.txt", name), "not an image");
	write_png(mkpath(0, "%s/alpha/x.png", name), 8, 6, 40);
	write_png(mkpath(0, "%s/alpha/y.png", name), 8, 6, 50);
	write_png(mkpath(0, "%s/.hidden/h.png", name), 8, 6, 60);
	return mkpath(0, "%s", name);
}

TEST(folder_tree_classes_sorted_pixels_planar)
{
	use_tmp_cache();
	char dir[1024];
	snprintf(dir, sizeof dir, "%s", make_tree("tree1"));
	al_dataset tr, te;
	REQUIRE_OK(load(dir, "holdout=0,cache=0", 0, NULL, &tr, &te));
	CHECK(tr.n == 5 && te.n == 0 && tr.classes == 2, "n %d/%d classes %d", tr.n, te.n,
	      tr.classes);
	CHECK(tr.c == 3 && tr.h == 6 && tr.w == 8 && tr.images && !tr.features, "shape %dx%dx%d",
	      tr.c, tr.h, tr.w);
	/* order: alpha/x, alpha/y, zeta/a, zeta/b, zeta/deeper/c */
	int base[5] = {40, 50, 20, 10, 30}, lab[5] = {0, 0, 1, 1, 1};
	int bad = 0;
	for (int i = 0; i < tr.n && i < 5; i++) {
		CHECK(tr.labels[i] == lab[i], "label %d = %d", i, tr.labels[i]);
		uint8_t ref[8 * 6 * 3];
		fill_rgb(ref, 8, 6, base[i]);
		for (int ch = 0; ch < 3; ch++)
			for (int k = 0; k < 48; k++)
				bad += tr.images[(size_t)i * 144 + ch * 48 + k] != ref[k * 3 + ch];
	}
	CHECK(bad == 0, "%d pixel values differ from the PNGs", bad);
	al_dataset_free(&tr);
	al_dataset_free(&te);
	/* grey: stb_image's luma (77 r + 150 g + 29 b) >> 8 */
	REQUIRE_OK(load(dir, "holdout=0,cache=0,c=1", 0, NULL, &tr, &te));
	CHECK(tr.c == 1, "c %d", tr.c);
	uint8_t ref[8 * 6 * 3];
	fill_rgb(ref, 8, 6, 40);
	int dev = 0;
	for (int k = 0; k < 48; k++) {
		int y = (ref[3 * k] * 77 + ref[3 * k + 1] * 150 + ref[3 * k + 2] * 29) >> 8;
		int d = abs(y - tr.images[k]);
		dev = d > dev ? d : dev;
	}
	CHECK(dev <= 1, "grey differs by %d", dev);
	al_dataset_free(&tr);
	al_dataset_free(&te);
	/* stratified seeded holdout; DIR:key=value form */
	char spec[1100];
	snprintf(spec, sizeof spec, "folder:%s:holdout=0.5,cache=0", dir);
	REQUIRE_OK(al_data_load(spec, &tr, &te));
	CHECK(tr.n + te.n == 5 && te.n == 3, "holdout: %d + %d", tr.n, te.n); /* 1 + 2 */
	al_dataset_free(&tr);
	al_dataset_free(&te);
}

TEST(folder_crop_and_resize_geometry)
{
	use_tmp_cache();
	mkpath(1, "geo");
	write_png(mkpath(0, "geo/k/a.png"), 8, 8, 0);
	al_dataset tr, te;
	const char *dir = mkpath(0, "geo");
	/* crop=4: rows 2..5, cols 2..5 */
	REQUIRE_OK(load(dir, "holdout=0,cache=0,crop=4", 0, NULL, &tr, &te));
	CHECK(tr.h == 4 && tr.w == 4, "crop size %dx%d", tr.h, tr.w);
	int bad = 0;
	for (int y = 0; y < 4; y++)
		for (int x = 0; x < 4; x++)
			bad += tr.images[y * 4 + x] != 2 + x || tr.images[16 + y * 4 + x] != 16 * (y + 2);
	CHECK(bad == 0, "crop=4: %d pixels wrong", bad);
	al_dataset_free(&tr);
	al_dataset_free(&te);
	/* crop=12 pads 2 zeros on every side */
	REQUIRE_OK(load(dir, "holdout=0,cache=0,crop=12", 0, NULL, &tr, &te));
	bad = 0;
	for (int y = 0; y < 12; y++)
		for (int x = 0; x < 12; x++) {
			int in = y >= 2 && y < 10 && x >= 2 && x < 10;
			bad += tr.images[y * 12 + x] != (in ? x - 2 : 0);
		}
	CHECK(tr.h == 12 && bad == 0, "crop=12: %d pixels wrong", bad);
	al_dataset_free(&tr);
	al_dataset_free(&te);
	/* size=S on a 16x8 image: shorter side to 4 (8x4), centre crop 4x4 =
	 * source columns 4..11; a constant band there stays constant */
	uint8_t px[16 * 8 * 3];
	for (int y = 0; y < 8; y++)
		for (int x = 0; x < 16; x++)
			for (int c = 0; c < 3; c++)
				px[(y * 16 + x) * 3 + c] = x >= 3 && x <= 12 ? 200 : 0;
	mkpath(1, "geo2/k");
	stbi_write_png(mkpath(0, "geo2/k/wide.png"), 16, 8, 3, px, 16 * 3);
	REQUIRE_OK(load(mkpath(0, "geo2"), "holdout=0,cache=0,size=4", 0, NULL, &tr, &te));
	CHECK(tr.h == 4 && tr.w == 4, "size=4 gives %dx%d", tr.h, tr.w);
	for (int y = 0; y < 4; y++)
		for (int x = 1; x < 3; x++)
			CHECK(abs(tr.images[y * 4 + x] - 200) <= 2, "(%d,%d) = %d", y, x,
			      tr.images[y * 4 + x]);
	al_dataset_free(&tr);
	al_dataset_free(&te);
}

TEST(folder_mixed_sizes_need_size)
{
	use_tmp_cache();
	mkpath(1, "mixed");
	write_png(mkpath(0, "mixed/a/1.png"), 8, 8, 0);
	write_png(mkpath(0, "mixed/b/2.png"), 10, 6, 0);
	al_dataset tr, te;
	al_status st = load(mkpath(0, "mixed"), "holdout=0,cache=0", 1, NULL, &tr, &te);
	CHECK(st == AL_EFORMAT && has(al_errmsg(), "2.png") && has(al_errmsg(), "10x6") &&
		      has(al_errmsg(), "size="),
	      "status %d: %s", st, al_errmsg());
	REQUIRE_OK(load(mkpath(0, "mixed"), "holdout=0,cache=0,size=5", 0, NULL, &tr, &te));
	CHECK(tr.n == 2 && tr.h == 5 && tr.w == 5, "n %d %dx%d", tr.n, tr.h, tr.w);
	al_dataset_free(&tr);
	al_dataset_free(&te);
}

TEST(folder_bad_images_error_or_skip)
{
	use_tmp_cache();
	char dir[1024];
	snprintf(dir, sizeof dir, "%s", mkpath(1, "bad"));
	for (int i = 0; i < 4; i++) {
		write_jpg(mkpath(0, "bad/cat/%d.jpg", i), 16, 16, i * 20);
		write_jpg(mkpath(0, "bad/dog/%d.jpg", i), 16, 16, 100 + i * 20);
	}
	static const struct {
		const char *file, *want;
	} cases[] = {
		{"cat/1.jpg", "truncated or corrupt JPEG"},
		{"cat/5.jpg", "cannot open"},
		{"dog/6.png", "empty file"},
		{"dog/7.jpg", "not a readable image"},
	};
	al_dataset tr, te;
	warnings w;
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		const char *p = mkpath(0, "bad/%s", cases[k].file);
		if (k == 0) {
			struct stat sb;
			stat(p, &sb);
			truncate_file(p, (long)sb.st_size * 2 / 3);
		} else if (k == 1) {
			symlink("/nonexistent/none.jpg", p);
		} else if (k == 2) {
			write_text(p, "");
		} else {
			write_text(p, "this is not a JPEG at all, only text");
		}
		al_status st = load(dir, "holdout=0,cache=0", 0, NULL, &tr, &te);
		CHECK(st != AL_OK && has(al_errmsg(), p) && has(al_errmsg(), cases[k].want) &&
			      has(al_errmsg(), "--skip-bad"),
		      "%s: status %d: %s", cases[k].file, st, al_errmsg());
		CHECK(tr.images == NULL && tr.n == 0, "not cleared");
		/* skipped with a warning naming the file */
		st = load(dir, "holdout=0,cache=0", 1, &w, &tr, &te);
		REQUIRE(st == AL_OK, "%s: skip_bad failed: %s", cases[k].file, al_errmsg());
		CHECK(tr.n == 8 - (k == 0) && tr.skipped == 1 && has(w.text, p) &&
			      has(w.text, cases[k].want),
		      "%s: n %d skipped %d warnings: %s", cases[k].file, tr.n, tr.skipped, w.text);
		al_dataset_free(&tr);
		al_dataset_free(&te);
		/* back to 8 good images */
		unlink(p);
		if (k == 0)
			write_jpg(p, 16, 16, 20);
	}
	/* a class whose every image is bad: an error even with skip_bad */
	mkpath(1, "bad2/ok");
	mkpath(1, "bad2/broken");
	write_png(mkpath(0, "bad2/ok/a.png"), 4, 4, 0);
	write_text(mkpath(0, "bad2/broken/a.png"), "garbage");
	al_status st = load(mkpath(0, "bad2"), "holdout=0,cache=0", 1, &w, &tr, &te);
	CHECK(st == AL_EFORMAT && has(al_errmsg(), "every image of class broken"), "status %d: %s",
	      st, al_errmsg());
}

TEST(folder_empty_class_and_missing_dir)
{
	use_tmp_cache();
	mkpath(1, "empty/full");
	mkpath(1, "empty/vacant");
	write_png(mkpath(0, "empty/full/a.png"), 4, 4, 0);
	write_text(mkpath(0, "empty/vacant/readme.txt"), "no images here");
	al_dataset tr, te;
	al_status st = load(mkpath(0, "empty"), "cache=0", 1, NULL, &tr, &te);
	CHECK(st == AL_EFORMAT && has(al_errmsg(), "empty/vacant") && has(al_errmsg(), "no images"),
	      "status %d: %s", st, al_errmsg());
	st = load(mkpath(0, "nonexistent-dir"), NULL, 0, NULL, &tr, &te);
	CHECK(st == AL_EIO && has(al_errmsg(), "nonexistent-dir"), "status %d: %s", st,
	      al_errmsg());
	mkpath(1, "noclasses");
	st = load(mkpath(0, "noclasses"), NULL, 0, NULL, &tr, &te);
	CHECK(st == AL_EFORMAT && has(al_errmsg(), "no class"), "status %d: %s", st, al_errmsg());
	st = load(mkpath(0, "empty"), "c=2", 0, NULL, &tr, &te);
	CHECK(st == AL_ERANGE && has(al_errmsg(), "c=2"), "status %d: %s", st, al_errmsg());
}

/* ---- layouts ------------------------------------------------------------------ */
TEST(folder_tiny_imagenet_layout)
{
	use_tmp_cache();
	char dir[1024];
	snprintf(dir, sizeof dir, "%s", mkpath(1, "tiny"));
	write_text(mkpath(0, "tiny/wnids.txt"), "n0200\nn0100\n");
	for (int k = 0; k < 2; k++) {
		const char *w = k ? "n0200" : "n0100";
		for (int i = 0; i < 3; i++)
			write_jpg(mkpath(0, "tiny/train/%s/images/%s_%d.JPEG", w, w, i), 8, 8,
				  k * 100 + i);
		write_text(mkpath(0, "tiny/train/%s/%s_boxes.txt", w, w), "x\t0\t0\t1\t1\n");
	}
	for (int i = 0; i < 4; i++)
		write_jpg(mkpath(0, "tiny/val/images/val_%d.JPEG", i), 8, 8, i);
	write_text(mkpath(0, "tiny/val/val_annotations.txt"),
		   "val_0.JPEG\tn0200\t0\t0\t8\t8\nval_1.JPEG\tn0100\t1\t1\t7\t7\n"
		   "val_2.JPEG\tn0200\t0\t0\t8\t8\nval_3.JPEG\tn0200\t0\t0\t8\t8\n");
	mkpath(1, "tiny/test/images"); /* unlabelled; ignored */
	al_dataset tr, te;
	REQUIRE_OK(load(dir, "cache=0", 0, NULL, &tr, &te));
	CHECK(tr.n == 6 && te.n == 4 && tr.classes == 2 && tr.h == 8, "n %d/%d classes %d", tr.n,
	      te.n, tr.classes);
	CHECK(tr.labels[0] == 0 && tr.labels[5] == 1, "train labels %d..%d", tr.labels[0],
	      tr.labels[5]);
	CHECK(te.labels[0] == 1 && te.labels[1] == 0 && te.labels[2] == 1 && te.labels[3] == 1,
	      "val labels %d %d %d %d", te.labels[0], te.labels[1], te.labels[2], te.labels[3]);
	al_dataset_free(&tr);
	al_dataset_free(&te);
	al_status st = load(dir, "holdout=0.1", 0, NULL, &tr, &te);
	CHECK(st == AL_EINVAL && has(al_errmsg(), "tiny-imagenet"), "holdout: %d %s", st,
	      al_errmsg());
	/* an annotation naming an unknown class: file and line */
	write_text(mkpath(0, "tiny/val/val_annotations.txt"),
		   "val_0.JPEG\tn0200\t0\t0\t8\t8\nval_1.JPEG\tn0999\t1\t1\t7\t7\n");
	st = load(dir, "cache=0", 0, NULL, &tr, &te);
	CHECK(st == AL_EFORMAT && has(al_errmsg(), "val_annotations.txt: line 2") &&
		      has(al_errmsg(), "n0999"),
	      "status %d: %s", st, al_errmsg());
	/* a listed class without a train directory */
	write_text(mkpath(0, "tiny/wnids.txt"), "n0200\nn0100\nn0300\n");
	st = load(dir, "cache=0", 0, NULL, &tr, &te);
	CHECK(st == AL_EFORMAT && has(al_errmsg(), "n0300"), "status %d: %s", st, al_errmsg());
}

TEST(folder_caltech101_layout_70_15_15)
{
	use_tmp_cache();
	char dir[1024];
	snprintf(dir, sizeof dir, "%s", mkpath(1, "caltech"));
	const char *cls[3] = {"airplanes", "accordion", "BACKGROUND_Google"};
	for (int k = 0; k < 3; k++)
		for (int i = 0; i < 20; i++)
			write_png(mkpath(0, "caltech/101_ObjectCategories/%s/image_%04d.png", cls[k], i),
				  4, 4, k * 50 + i);
	al_dataset tr, te, tr2, te2;
	REQUIRE_OK(load(dir, "cache=0", 0, NULL, &tr, &te));
	/* 2 classes of 20: 3 test, 3 validation, 14 train each */
	CHECK(tr.classes == 2 && te.n == 6 && tr.n == 34 && tr.nval == 6, "classes %d n %d/%d val %d",
	      tr.classes, tr.n, te.n, tr.nval);
	int cnt[2] = {0, 0};
	for (int i = 0; i < tr.nval; i++)
		cnt[tr.labels[tr.val_idx[i]]]++;
	CHECK(cnt[0] == 3 && cnt[1] == 3, "validation per class %d %d", cnt[0], cnt[1]);
	/* seeded: same split again, another with seed=2 */
	REQUIRE_OK(load(dir, "cache=0", 0, NULL, &tr2, &te2));
	CHECK(memcmp(te.images, te2.images, (size_t)te.n * 48) == 0, "split not reproducible");
	al_dataset_free(&tr2);
	al_dataset_free(&te2);
	REQUIRE_OK(load(dir, "cache=0,seed=2", 0, NULL, &tr2, &te2));
	CHECK(memcmp(te.images, te2.images, (size_t)te.n * 48) != 0, "seed ignored");
	al_dataset_free(&tr2);
	al_dataset_free(&te2);
	/* DIR pointing at 101_ObjectCategories itself */
	REQUIRE_OK(load(mkpath(0, "caltech/101_ObjectCategories"), "cache=0", 0, NULL, &tr2, &te2));
	CHECK(tr2.classes == 2 && te2.n == 6, "direct: classes %d", tr2.classes);
	al_dataset_free(&tr2);
	al_dataset_free(&te2);
	/* train=N keeps the validation indices below N */
	REQUIRE_OK(load(dir, "cache=0,train=10", 0, NULL, &tr2, &te2));
	int okv = 1;
	for (int i = 0; i < tr2.nval; i++)
		okv &= tr2.val_idx[i] < 10;
	CHECK(tr2.n == 10 && okv, "train=10: n %d nval %d", tr2.n, tr2.nval);
	al_dataset_free(&tr2);
	al_dataset_free(&te2);
	al_dataset_free(&tr);
	al_dataset_free(&te);
}

TEST(folder_train_test_layout)
{
	use_tmp_cache();
	char dir[1024];
	snprintf(dir, sizeof dir, "%s", mkpath(1, "split"));
	write_png(mkpath(0, "split/train/b/1.png"), 4, 4, 1);
	write_png(mkpath(0, "split/train/a/1.png"), 4, 4, 2);
	write_png(mkpath(0, "split/train/a/2.png"), 4, 4, 3);
	write_png(mkpath(0, "split/test/b/1.png"), 4, 4, 4);
	al_dataset tr, te;
	REQUIRE_OK(load(dir, "cache=0", 0, NULL, &tr, &te));
	CHECK(tr.n == 3 && te.n == 1 && te.labels[0] == 1 && tr.labels[0] == 0, "n %d/%d", tr.n,
	      te.n);
	al_dataset_free(&tr);
	al_dataset_free(&te);
	write_png(mkpath(0, "split/test/zebra/1.png"), 4, 4, 4);
	al_status st = load(dir, "cache=0", 0, NULL, &tr, &te);
	CHECK(st == AL_EFORMAT && has(al_errmsg(), "zebra"), "status %d: %s", st, al_errmsg());
}

/* ---- cache and threads ---------------------------------------------------------- */
TEST(folder_cache_hit_and_invalidation)
{
	use_tmp_cache();
	char cdir[1024];
	snprintf(cdir, sizeof cdir, "%s", mkpath(1, "cache-t"));
	setenv("ACTLAB_CACHE_DIR", cdir, 1);
	char dir[1024];
	snprintf(dir, sizeof dir, "%s", make_tree("tree-cache"));
	al_dataset tr, te;
	REQUIRE_OK(load(dir, "holdout=0", 0, NULL, &tr, &te));
	const int first = tr.images[0], flipped = 255 - first;
	al_dataset_free(&tr);
	al_dataset_free(&te);
	/* exactly one cache file; flip the first pixel byte inside it */
	char cmd[2048], out[OUTCAP];
	snprintf(cmd, sizeof cmd, "ls %s | grep -c '^folder-.*\\.bin$'", cdir);
	run_cmd(cmd, out, sizeof out);
	CHECK(atoi(out) == 1, "cache files: %s", out);
	snprintf(cmd, sizeof cmd, "ls %s/folder-*.bin", cdir);
	run_cmd(cmd, out, sizeof out);
	out[strcspn(out, "\n")] = 0;
	FILE *f = fopen(out, "r+b");
	REQUIRE(f, "cannot open cache %s", out);
	fseek(f, 40, SEEK_SET); /* header is 40 bytes */
	fputc(flipped, f);
	fclose(f);
	REQUIRE_OK(load(dir, "holdout=0", 0, NULL, &tr, &te));
	CHECK(tr.images[0] == flipped, "second load did not read the cache");
	al_dataset_free(&tr);
	al_dataset_free(&te);
	/* cache=0 decodes */
	REQUIRE_OK(load(dir, "holdout=0,cache=0", 0, NULL, &tr, &te));
	CHECK(tr.images[0] == first, "cache=0 read the cache");
	al_dataset_free(&tr);
	al_dataset_free(&te);
	/* a changed file (new modification time) invalidates */
	const char *img = mkpath(0, "tree-cache/alpha/x.png");
	struct timespec ts[2] = {{0, UTIME_OMIT}, {1000000000, 0}};
	utimensat(AT_FDCWD, img, ts, 0);
	REQUIRE_OK(load(dir, "holdout=0", 0, NULL, &tr, &te));
	CHECK(tr.images[0] == first, "stale cache used after a file changed");
	al_dataset_free(&tr);
	al_dataset_free(&te);
}

TEST(folder_threads_identical)
{
	use_tmp_cache();
	char dir[1024];
	snprintf(dir, sizeof dir, "%s", mkpath(1, "thr"));
	for (int i = 0; i < 40; i++)
		write_jpg(mkpath(0, "thr/c%d/%02d.jpg", i % 3, i), 12, 10, i * 5);
	al_dataset a, b, ta, tb;
	al_set_threads(1);
	REQUIRE_OK(load(dir, "cache=0,size=6", 0, NULL, &a, &ta));
	al_set_threads(2);
	REQUIRE_OK(load(dir, "cache=0,size=6", 0, NULL, &b, &tb));
	CHECK(a.n == b.n && memcmp(a.images, b.images, (size_t)a.n * 3 * 36) == 0 &&
		      memcmp(ta.images, tb.images, (size_t)ta.n * 3 * 36) == 0,
	      "thread count changed the data");
	al_dataset_free(&a);
	al_dataset_free(&b);
	al_dataset_free(&ta);
	al_dataset_free(&tb);
}

TEST(cli_train_folder_skip_bad)
{
	use_tmp_cache();
	char dir[1024];
	snprintf(dir, sizeof dir, "%s", mkpath(1, "clif"));
	for (int i = 0; i < 12; i++)
		write_png(mkpath(0, "clif/c%d/%02d.png", i % 2, i), 8, 8, i * 9);
	write_text(mkpath(0, "clif/c0/zz.png"), "broken");
	char out[OUTCAP];
	char cmd[2048];
	snprintf(cmd, sizeof cmd, "%s train --model mlp:8 --data folder:%s --epochs 1 --quiet",
		 actlab_bin(), dir);
	int rc = run_cmd(cmd, out, sizeof out);
	CHECK(rc == 1 && has(out, "zz.png") && has(out, "--skip-bad"), "rc %d: %s", rc, out);
	snprintf(cmd, sizeof cmd,
		 "%s train --model mlp:8 --data folder:%s --skip-bad --epochs 1 --quiet --json",
		 actlab_bin(), dir);
	rc = run_cmd(cmd, out, sizeof out);
	CHECK(rc == 0 && has(out, "warning: folder: skipped") && has(out, "zz.png") &&
		      has(out, "test_acc"),
	      "rc %d: %s", rc, out);
	/* random crops from 8x8 sources for 6x6 training samples */
	snprintf(cmd, sizeof cmd,
		 "%s train --model mlp:8 --data folder:%s,size=6,rcrop=8 --skip-bad --flip "
		 "--epochs 1 --quiet --json",
		 actlab_bin(), dir);
	rc = run_cmd(cmd, out, sizeof out);
	CHECK(rc == 0 && has(out, "test_acc"), "rcrop: rc %d: %s", rc, out);
	snprintf(cmd, sizeof cmd,
		 "%s train --model mlp:8 --data folder:%s,size=6,rcrop=8 --skip-bad --crop 2 "
		 "--epochs 1 --quiet",
		 actlab_bin(), dir);
	rc = run_cmd(cmd, out, sizeof out);
	CHECK(rc == 1 && has(out, "drop --crop"), "rcrop with --crop: rc %d: %s", rc, out);
}

/* rcrop=R: samples are centre crops, training batches random windows */
TEST(folder_rcrop_random_windows)
{
	use_tmp_cache();
	mkpath(1, "rc");
	for (int i = 0; i < 4; i++) /* 6x6 images: decoding at R = 6 needs no resize */
		write_png(mkpath(0, "rc/k%d/%d.png", i % 2, i), 6, 6, 30 * i);
	al_dataset tr, te;
	REQUIRE_OK(load(mkpath(0, "rc"), "holdout=0.5,cache=0,size=4,rcrop=6", 0, NULL, &tr, &te));
	REQUIRE(tr.crop_src && tr.crop_size == 6 && tr.h == 4 && tr.w == 4 && !te.crop_src &&
			te.h == 4,
		"train %dx%d src %p size %d, test %dx%d src %p", tr.h, tr.w, (void *)tr.crop_src,
		tr.crop_size, te.h, te.w, (void *)te.crop_src);
	/* images = centre crop (offset 1) of the source, which is the PNG */
	int bad = 0;
	for (int i = 0; i < tr.n; i++)
		for (int ch = 0; ch < 3; ch++)
			for (int y = 0; y < 4; y++)
				for (int x = 0; x < 4; x++)
					bad += tr.images[((i * 3 + ch) * 4 + y) * 4 + x] !=
					       tr.crop_src[((i * 3 + ch) * 6 + y + 1) * 6 + x + 1];
	CHECK(bad == 0, "%d centre-crop pixels differ", bad);
	/* augmented batches: every output is a (maybe mirrored) window; all 9
	 * offsets and both mirror states occur */
	al_norm nm = al_norm_none(3);
	al_augment aug = {0, 1};
	al_rng rng;
	al_rng_seed(&rng, 5);
	int seen[3][3][2] = {{{0}}};
	float xb[3 * 16];
	for (int key = 0; key < 400; key++) {
		int32_t idx = key % tr.n, yl;
		al_batch_assemble(&tr, &idx, 1, &nm, &aug, &rng, (uint64_t)key, xb, &yl);
		int found = 0;
		for (int oy = 0; oy < 3 && !found; oy++)
			for (int ox = 0; ox < 3 && !found; ox++)
				for (int m = 0; m < 2 && !found; m++) {
					int ok = 1;
					for (int ch = 0; ch < 3 && ok; ch++)
						for (int y = 0; y < 4 && ok; y++)
							for (int x = 0; x < 4 && ok; x++) {
								int sx = m ? 3 - x : x;
								uint8_t v = tr.crop_src[((idx * 3 + ch) * 6 + oy + y) * 6 +
											ox + sx];
								ok = fabsf(xb[(ch * 4 + y) * 4 + x] - v / 255.0f) < 1e-6f;
							}
					if (ok) {
						found = 1;
						seen[oy][ox][m]++;
					}
				}
		CHECK(found, "key %d: output is no window of the source", key);
		if (!found)
			break;
	}
	int all = 1;
	for (int a = 0; a < 3; a++)
		for (int b = 0; b < 3; b++)
			all &= seen[a][b][0] > 0 && seen[a][b][1] > 0;
	CHECK(all, "not every offset/mirror occurred");
	/* no augmentation: the centre crop */
	int32_t idx0 = 0;
	al_batch_assemble(&tr, &idx0, 1, &nm, NULL, NULL, 0, xb, NULL);
	CHECK(fabsf(xb[0] - tr.images[0] / 255.0f) < 1e-6f, "evaluation batch is not the centre");
	/* subsets keep the sources; adapting is refused */
	al_dataset sub;
	int32_t pick[1] = {1};
	REQUIRE_OK(al_dataset_subset(&tr, pick, 1, "", &sub));
	CHECK(sub.crop_src && memcmp(sub.crop_src, tr.crop_src + 108, 108) == 0, "subset sources");
	al_status st = al_dataset_adapt(&sub, 3, 8, 8, NULL, 0);
	CHECK(st == AL_EINVAL && has(al_errmsg(), "rcrop"), "adapt: %d %s", st, al_errmsg());
	al_dataset_free(&sub);
	al_dataset_free(&tr);
	al_dataset_free(&te);
	st = load(mkpath(0, "rc"), "rcrop=6", 0, NULL, &tr, &te);
	CHECK(st == AL_EINVAL && has(al_errmsg(), "needs size"), "%d %s", st, al_errmsg());
	st = load(mkpath(0, "rc"), "size=6,rcrop=6", 0, NULL, &tr, &te);
	CHECK(st == AL_EINVAL, "rcrop = size accepted: %d", st);
}
