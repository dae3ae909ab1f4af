/* folder.c — image trees ("folder:DIR[,size=S,crop=C,c=1|3,...]").
 *
 * Layouts, recognised in this order:
 *   Tiny ImageNet  DIR/wnids.txt, DIR/train/<wnid>/..., DIR/val/images/... with
 *                  DIR/val/val_annotations.txt ("FILE<TAB>WNID<TAB>..."); the
 *                  official validation set is the test part.
 *   Caltech-101    DIR/101_ObjectCategories/<class>/... (or DIR itself holds
 *                  BACKGROUND_Google or is named 101_ObjectCategories);
 *                  BACKGROUND_Google is dropped; a seeded stratified
 *                  70/15/15 split gives train, validation (the train part's
 *                  own val_idx) and test.
 *   train/test     DIR/train/<class>/... and DIR/test/<class>/... (or val/).
 *   one tree       DIR/<class>/...; a stratified holdout (default 20%) is the
 *                  test part.
 * Classes are the sorted sub-directory names (hidden ones skipped); images
 * are the files below a class directory, recursively, whose extension is
 * .jpg, .jpeg, .png, .bmp, .gif, .ppm, .pgm or .tga (any case), in sorted
 * path order. Decoding uses stb_image (libstb) on OpenMP threads.
 *
 * Per image: decode to c channels (grey or RGB), centre crop C x C when
 * crop=C (zero padding where the image is smaller, as torchvision's
 * CenterCrop), then when size=S: a square is resized to S x S, any other
 * shape has its shorter side resized to S and is centre cropped to S x S
 * (stb_image_resize's triangle filter: bilinear, antialiased when
 * shrinking, like torchvision's Resize).
 * Without size, every image must have the first image's size. With
 * rcrop=R (> S) images are prepared at R instead and the samples are their
 * centre S x S crops; the train part keeps the R x R images
 * (al_dataset.crop_src) so augmented training batches crop S x S at random
 * (torchvision's Resize(R) + RandomCrop(S) for training, Resize(R) +
 * CenterCrop(S) for evaluation).
 *
 * Decoded images are cached on disk (cache=1, the default) in
 * $ACTLAB_CACHE_DIR, else $XDG_CACHE_HOME/actlab, else ~/.cache/actlab,
 * under a name hashed from the layout, options and every file's path, size
 * and modification time, so any change to the tree decodes again. A cache
 * is only written when no image was bad.
 *
 * An unreadable or undecodable image is an error naming the file, or with
 * skip_bad a warning and the image is left out; an empty class directory,
 * a class whose every image is bad, and defects of the annotation files
 * are always errors. Not for: tabular data (csv.c).
 */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>

#include "data/internal.h"

#define PATH_CAP 4096
#define MAX_SIDE 16384
#define CACHE_MAGIC "ACTLABDC"
#define CACHE_VERSION 1u
#define CALTECH_TEST 0.15
#define CALTECH_VAL 0.15
#define DEFAULT_HOLDOUT 0.2

/* ---- growable lists --------------------------------------------------- */
typedef struct {
	char **s;
	int n, cap;
} strlist;

static int strlist_add(strlist *l, const char *s)
{
	if (l->n == l->cap) {
		int nc = l->cap ? 2 * l->cap : 64;
		char **p = realloc(l->s, (size_t)nc * sizeof *p);
		if (!p)
			return -1;
		l->s = p;
		l->cap = nc;
	}
	l->s[l->n] = strdup(s);
	return l->s[l->n] ? l->n++, 0 : -1;
}

static void strlist_free(strlist *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->s[i]);
	free(l->s);
	memset(l, 0, sizeof *l);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int find_str(const strlist *l, const char *s)
{
	char *const *p = bsearch(&s, l->s, (size_t)l->n, sizeof *l->s, cmp_str);
	return p ? (int)(p - l->s) : -1;
}

/* The samples to decode: path, label, source part (0 train, 2 test). */
typedef struct {
	strlist path;
	int32_t *label;
	uint8_t *src;
	int cap;
} samples;

static al_status samples_add(samples *s, const char *path, int label, int src)
{
	if (s->path.n == s->cap) {
		int nc = s->cap ? 2 * s->cap : 256;
		int32_t *l = realloc(s->label, (size_t)nc * sizeof *l);
		if (l)
			s->label = l;
		uint8_t *p = realloc(s->src, (size_t)nc);
		if (p)
			s->src = p;
		if (!l || !p)
			return al_err(AL_ENOMEM, "folder: out of memory listing images");
		s->cap = nc;
	}
	s->label[s->path.n] = label;
	s->src[s->path.n] = (uint8_t)src;
	if (strlist_add(&s->path, path) != 0)
		return al_err(AL_ENOMEM, "folder: out of memory listing images");
	return AL_OK;
}

static void samples_free(samples *s)
{
	strlist_free(&s->path);
	free(s->label);
	free(s->src);
	memset(s, 0, sizeof *s);
}

/* ---- directory walking ------------------------------------------------- */
static int is_dir(const char *p)
{
	struct stat sb;
	return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int is_file(const char *p)
{
	struct stat sb;
	return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

static al_status join(char *out, const char *a, const char *b)
{
	if (snprintf(out, PATH_CAP, "%s/%s", a, b) >= PATH_CAP)
		return al_err(AL_EINVAL, "folder: path too long: %s/%s", a, b);
	return AL_OK;
}

static int image_ext(const char *name)
{
	static const char *ext[] = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".ppm", ".pgm", ".tga"};
	const char *dot = strrchr(name, '.');
	if (!dot)
		return 0;
	for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
		if (strcasecmp(dot, ext[i]) == 0)
			return 1;
	return 0;
}

/* Sorted names of the sub-directories (dirs = 1) or image files (dirs = 0)
 * of dir, hidden entries skipped. */
static al_status list_dir(const char *dir, int dirs, strlist *out)
{
	DIR *d = opendir(dir);
	if (!d)
		return al_err(AL_EIO, "folder: cannot open directory %s: %s", dir, strerror(errno));
	struct dirent *e;
	al_status st = AL_OK;
	char path[PATH_CAP];
	while (st == AL_OK && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		st = join(path, dir, e->d_name);
		if (st != AL_OK)
			break;
		int isd = is_dir(path);
		if (dirs ? isd : (!isd && image_ext(e->d_name)))
			if (strlist_add(out, e->d_name) != 0)
				st = al_err(AL_ENOMEM, "folder: out of memory listing %s", dir);
	}
	closedir(d);
	if (st == AL_OK && out->n)
		qsort(out->s, (size_t)out->n, sizeof *out->s, cmp_str);
	return st;
}

/* Appends every image below dir (recursively, sorted) with label. */
static al_status add_tree(samples *s, const char *dir, int label, int src, int depth)
{
	if (depth > 16)
		return al_err(AL_EINVAL, "folder: %s: directories nested too deep", dir);
	strlist files = {0}, subs = {0};
	char path[PATH_CAP];
	al_status st = list_dir(dir, 0, &files);
	if (st == AL_OK)
		st = list_dir(dir, 1, &subs);
	/* files and sub-directories merged in name order */
	int i = 0, j = 0;
	while (st == AL_OK && (i < files.n || j < subs.n)) {
		int take_file = j >= subs.n || (i < files.n && strcmp(files.s[i], subs.s[j]) < 0);
		st = join(path, dir, take_file ? files.s[i] : subs.s[j]);
		if (st != AL_OK)
			break;
		if (take_file) {
			st = samples_add(s, path, label, src);
			i++;
		} else {
			st = add_tree(s, path, label, src, depth + 1);
			j++;
		}
	}
	strlist_free(&files);
	strlist_free(&subs);
	return st;
}

/* Classes = sorted sub-directories of root (minus drop); each must hold
 * at least one image. */
static al_status add_classes(samples *s, const char *root, const strlist *classes, int src)
{
	char path[PATH_CAP];
	for (int k = 0; k < classes->n; k++) {
		AL_TRY(join(path, root, classes->s[k]));
		int before = s->path.n;
		AL_TRY(add_tree(s, path, k, src, 0));
		if (s->path.n == before && src == 0)
			return al_err(AL_EFORMAT,
				      "folder: class directory %s holds no images (.jpg, .jpeg, .png, "
				      ".bmp, .gif, .ppm, .pgm, .tga)",
				      path);
	}
	return AL_OK;
}

static al_status class_dirs(const char *root, const char *drop, strlist *classes)
{
	AL_TRY(list_dir(root, 1, classes));
	if (drop) {
		int k = find_str(classes, drop);
		if (k >= 0) {
			free(classes->s[k]);
			memmove(classes->s + k, classes->s + k + 1,
				(size_t)(classes->n - k - 1) * sizeof *classes->s);
			classes->n--;
		}
	}
	if (classes->n == 0)
		return al_err(AL_EFORMAT, "folder: %s has no class sub-directories", root);
	return AL_OK;
}

/* ---- layouts ------------------------------------------------------------- */
enum { LAYOUT_TINY, LAYOUT_CALTECH, LAYOUT_SPLIT, LAYOUT_TREE };
static const char *layout_name[] = {"tiny-imagenet", "caltech101", "train/test", "class tree"};

static al_status read_lines(const char *path, strlist *out)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return al_err(AL_EIO, "folder: cannot open %s: %s", path, strerror(errno));
	char line[PATH_CAP];
	al_status st = AL_OK;
	while (st == AL_OK && fgets(line, sizeof line, f)) {
		size_t l = strlen(line);
		if (l == sizeof line - 1 && line[l - 1] != '\n')
			st = al_err(AL_EFORMAT, "folder: %s: line %d too long", path, out->n + 1);
		while (l && (line[l - 1] == '\n' || line[l - 1] == '\r'))
			line[--l] = 0;
		if (st == AL_OK && strlist_add(out, line) != 0)
			st = al_err(AL_ENOMEM, "folder: out of memory reading %s", path);
	}
	fclose(f);
	return st;
}

static al_status tiny_imagenet(const char *dir, samples *s, strlist *classes)
{
	char path[PATH_CAP], sub[PATH_CAP];
	strlist wnids = {0}, raw = {0}, dirs = {0}, ann = {0};
	AL_TRY(join(path, dir, "wnids.txt"));
	al_status st = read_lines(path, &raw);
	for (int i = 0; st == AL_OK && i < raw.n; i++) {
		char *w = raw.s[i];
		while (*w == ' ' || *w == '\t')
			w++;
		size_t l = strlen(w);
		while (l && (w[l - 1] == ' ' || w[l - 1] == '\t'))
			w[--l] = 0;
		if (!*w)
			continue;
		if (strchr(w, '/') || strchr(w, ' ') || strchr(w, '\t'))
			st = al_err(AL_EFORMAT, "folder: %s: line %d: '%s' is not a class id", path,
				    i + 1, w);
		else if (strlist_add(&wnids, w) != 0)
			st = al_err(AL_ENOMEM, "folder: out of memory");
	}
	if (st == AL_OK && wnids.n == 0)
		st = al_err(AL_EFORMAT, "folder: %s lists no classes", path);
	if (st == AL_OK) {
		qsort(wnids.s, (size_t)wnids.n, sizeof *wnids.s, cmp_str);
		for (int i = 1; i < wnids.n && st == AL_OK; i++)
			if (strcmp(wnids.s[i - 1], wnids.s[i]) == 0)
				st = al_err(AL_EFORMAT, "folder: %s: class %s listed twice", path,
					    wnids.s[i]);
	}
	/* train/<wnid>/: exactly the listed classes */
	if (st == AL_OK)
		st = join(sub, dir, "train");
	if (st == AL_OK)
		st = list_dir(sub, 1, &dirs);
	for (int i = 0; st == AL_OK && i < dirs.n; i++)
		if (find_str(&wnids, dirs.s[i]) < 0)
			st = al_err(AL_EFORMAT, "folder: %s/%s is not a class listed in %s/wnids.txt",
				    sub, dirs.s[i], dir);
	for (int i = 0; st == AL_OK && i < wnids.n; i++)
		if (find_str(&dirs, wnids.s[i]) < 0)
			st = al_err(AL_EFORMAT, "folder: class %s of %s/wnids.txt has no directory %s/%s",
				    wnids.s[i], dir, sub, wnids.s[i]);
	if (st == AL_OK)
		st = add_classes(s, sub, &wnids, 0);
	/* val/val_annotations.txt: FILE<TAB>WNID<TAB>box... */
	char vpath[PATH_CAP];
	if (st == AL_OK)
		st = join(path, dir, "val/val_annotations.txt");
	if (st == AL_OK)
		st = read_lines(path, &ann);
	for (int i = 0; st == AL_OK && i < ann.n; i++) {
		char *line = ann.s[i];
		if (!*line)
			continue;
		char *tab = strchr(line, '\t');
		char *tab2 = tab ? strchr(tab + 1, '\t') : NULL;
		if (!tab) {
			st = al_err(AL_EFORMAT, "folder: %s: line %d: expected FILE<TAB>CLASS", path,
				    i + 1);
			break;
		}
		*tab = 0;
		if (tab2)
			*tab2 = 0;
		int k = find_str(&wnids, tab + 1);
		if (k < 0) {
			st = al_err(AL_EFORMAT, "folder: %s: line %d: class '%s' is not in wnids.txt",
				    path, i + 1, tab + 1);
			break;
		}
		if (strchr(line, '/') || !*line) {
			st = al_err(AL_EFORMAT, "folder: %s: line %d: bad file name '%s'", path, i + 1,
				    line);
			break;
		}
		if (snprintf(vpath, sizeof vpath, "%s/val/images/%s", dir, line) >= (int)sizeof vpath)
			st = al_err(AL_EINVAL, "folder: path too long: %s", line);
		else
			st = samples_add(s, vpath, k, 2);
	}
	*classes = wnids; /* the caller frees */
	strlist_free(&raw);
	strlist_free(&dirs);
	strlist_free(&ann);
	return st;
}

static int detect(const char *dir, char *root)
{
	char p[PATH_CAP], q[PATH_CAP];
	snprintf(p, sizeof p, "%s/wnids.txt", dir);
	snprintf(q, sizeof q, "%s/val/val_annotations.txt", dir);
	if (is_file(p) && is_file(q)) {
		snprintf(root, PATH_CAP, "%s", dir);
		return LAYOUT_TINY;
	}
	snprintf(p, sizeof p, "%s/101_ObjectCategories", dir);
	if (is_dir(p)) {
		snprintf(root, PATH_CAP, "%s", p);
		return LAYOUT_CALTECH;
	}
	snprintf(p, sizeof p, "%s/BACKGROUND_Google", dir);
	const char *base = strrchr(dir, '/');
	base = base ? base + 1 : dir;
	if (is_dir(p) || strcmp(base, "101_ObjectCategories") == 0) {
		snprintf(root, PATH_CAP, "%s", dir);
		return LAYOUT_CALTECH;
	}
	snprintf(p, sizeof p, "%s/train", dir);
	if (is_dir(p)) {
		snprintf(q, sizeof q, "%s/test", dir);
		if (!is_dir(q))
			snprintf(q, sizeof q, "%s/val", dir);
		if (is_dir(q)) {
			snprintf(root, PATH_CAP, "%s", dir);
			return LAYOUT_SPLIT;
		}
	}
	snprintf(root, PATH_CAP, "%s", dir);
	return LAYOUT_TREE;
}

/* ---- decoding ----------------------------------------------------------- */
typedef struct {
	int c, crop, size;
	int oh, ow; /* output size (0: from the first image) */
} xform;

static const char *format_of(const uint8_t *b, size_t n)
{
	if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF)
		return "JPEG";
	if (n >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0)
		return "PNG";
	return "image";
}

static char *fmt_msg(const char *fmt, const char *a, const char *b)
{
	size_t l = strlen(fmt) + strlen(a) + (b ? strlen(b) : 0) + 1;
	char *m = malloc(l);
	if (m)
		snprintf(m, l, fmt, a, b ? b : "");
	return m;
}

enum { IMG_OK, IMG_BAD, IMG_FATAL };

/* Decodes path into out (c x oh x ow planar); with out NULL only reports
 * the transformed size in th, tw. Returns IMG_OK, IMG_BAD (unreadable or
 * corrupt: may be skipped) or IMG_FATAL (out of memory, a size that
 * differs from the first image's) with a malloc'd message in *msg. */
static int decode_one(const char *path, const xform *x, uint8_t *out, int *th, int *tw,
		      char **msg)
{
	*msg = NULL;
#define BAD(m) return (*msg = (m), IMG_BAD)
#define FATAL(m) return (*msg = (m), IMG_FATAL)
	FILE *f = fopen(path, "rb");
	if (!f)
		BAD(fmt_msg("cannot open %s: %s", path, strerror(errno)));
	uint8_t *buf = NULL;
	long n = -1;
	if (fseek(f, 0, SEEK_END) == 0)
		n = ftell(f);
	if (n < 0 || n > (1L << 30) || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		BAD(fmt_msg("cannot read %s%s", path, n > (1L << 30) ? " (over 1 GiB)" : ""));
	}
	buf = malloc((size_t)n + 1);
	size_t got = buf ? fread(buf, 1, (size_t)n, f) : 0;
	int rerr = ferror(f);
	fclose(f);
	if (!buf)
		FATAL(fmt_msg("out of memory reading %s%s", path, NULL));
	if (rerr || got != (size_t)n) {
		free(buf);
		BAD(fmt_msg("read error on %s%s", path, NULL));
	}
	if (n == 0) {
		free(buf);
		BAD(fmt_msg("%s: empty file%s", path, NULL));
	}
	const char *kind = format_of(buf, (size_t)n);
	int w, h, comp;
	if (!stbi_info_from_memory(buf, (int)n, &w, &h, &comp)) {
		char why[160];
		snprintf(why, sizeof why, ": not a readable %s (stb_image: %s)", kind,
			 stbi_failure_reason() ? stbi_failure_reason() : "unknown");
		free(buf);
		BAD(fmt_msg("%s%s", path, why));
	}
	if (w > MAX_SIDE || h > MAX_SIDE) {
		free(buf);
		BAD(fmt_msg("%s: image larger than 16384 pixels on a side%s", path, NULL));
	}
	uint8_t *sp = stbi_load_from_memory(buf, (int)n, &w, &h, &comp, x->c);
	free(buf);
	if (!sp) {
		char why[160];
		snprintf(why, sizeof why, ": truncated or corrupt %s (stb_image: %s)", kind,
			 stbi_failure_reason() ? stbi_failure_reason() : "unknown");
		BAD(fmt_msg("%s%s", path, why));
	}
	/* px: the current pixels, HWC; malloc'd once a step has replaced sp */
	uint8_t *px = malloc((size_t)w * h * x->c);
	if (!px) {
		stbi_image_free(sp);
		FATAL(fmt_msg("out of memory decoding %s%s", path, NULL));
	}
	memcpy(px, sp, (size_t)w * h * x->c);
	stbi_image_free(sp);
	const int c = x->c;
	/* centre crop C x C with zero padding */
	if (x->crop) {
		const int C = x->crop;
		uint8_t *cr = calloc((size_t)C * C * c, 1);
		if (!cr) {
			free(px);
			FATAL(fmt_msg("out of memory cropping %s%s", path, NULL));
		}
		int sy = h >= C ? (h - C) / 2 : -((C - h) / 2);
		int sx = w >= C ? (w - C) / 2 : -((C - w) / 2);
		for (int y = 0; y < C; y++) {
			int ys = y + sy;
			if (ys < 0 || ys >= h)
				continue;
			for (int xx = 0; xx < C; xx++) {
				int xs = xx + sx;
				if (xs >= 0 && xs < w)
					memcpy(cr + ((size_t)y * C + xx) * c, px + ((size_t)ys * w + xs) * c,
					       (size_t)c);
			}
		}
		free(px);
		px = cr;
		w = h = C;
	}
	/* size=S: square -> S x S; else shorter side -> S, centre crop */
	if (x->size && (w != x->size || h != x->size)) {
		const int S = x->size;
		int rw = S, rh = S;
		if (w < h)
			rh = (int)(((long long)h * S + w / 2) / w);
		else if (h < w)
			rw = (int)(((long long)w * S + h / 2) / h);
		uint8_t *rs = malloc((size_t)rw * rh * c);
		if (!rs || !stbir_resize_uint8_generic(px, w, h, 0, rs, rw, rh, 0, c,
						       STBIR_ALPHA_CHANNEL_NONE, 0, STBIR_EDGE_CLAMP,
						       STBIR_FILTER_TRIANGLE, STBIR_COLORSPACE_LINEAR,
						       NULL)) {
			free(rs);
			free(px);
			FATAL(fmt_msg("out of memory resizing %s%s", path, NULL));
		}
		free(px);
		uint8_t *cc = malloc((size_t)S * S * c);
		if (!cc) {
			free(rs);
			FATAL(fmt_msg("out of memory resizing %s%s", path, NULL));
		}
		int oy = (rh - S) / 2, ox = (rw - S) / 2;
		for (int y = 0; y < S; y++)
			memcpy(cc + (size_t)y * S * c, rs + ((size_t)(y + oy) * rw + ox) * c,
			       (size_t)S * c);
		free(rs);
		px = cc;
		w = h = S;
	}
	*th = h;
	*tw = w;
	if (out) {
		if (h != x->oh || w != x->ow) {
			free(px);
			char why[160];
			snprintf(why, sizeof why,
				 ": image is %dx%d but the first image is %dx%d; give size=S to resize",
				 w, h, x->ow, x->oh);
			FATAL(fmt_msg("%s%s", path, why));
		}
		/* interleaved HWC -> planar CHW */
		const size_t hw = (size_t)h * w;
		for (int ch = 0; ch < c; ch++)
			for (size_t k = 0; k < hw; k++)
				out[ch * hw + k] = px[k * c + ch];
	}
	free(px);
	return IMG_OK;
#undef BAD
#undef FATAL
}

/* ---- on-disk cache --------------------------------------------------------- */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static int cache_dir(char *out)
{
	const char *e = getenv("ACTLAB_CACHE_DIR");
	if (e && *e)
		return snprintf(out, PATH_CAP, "%s", e) < PATH_CAP;
	e = getenv("XDG_CACHE_HOME");
	if (e && *e)
		return snprintf(out, PATH_CAP, "%s/actlab", e) < PATH_CAP;
	e = getenv("HOME");
	if (e && *e)
		return snprintf(out, PATH_CAP, "%s/.cache/actlab", e) < PATH_CAP;
	return 0;
}

/* Hash of everything that determines the decoded images. 0 when a file
 * cannot be stat'ed (decoding will report it). */
static uint64_t cache_key(const char *dir, int layout, const xform *x, const samples *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	uint32_t hdr[5] = {CACHE_VERSION, (uint32_t)layout, (uint32_t)x->c, (uint32_t)x->crop,
			   (uint32_t)x->size};
	h = fnv(h, hdr, sizeof hdr);
	char real[PATH_CAP];
	const char *d = realpath(dir, real) ? real : dir;
	h = fnv(h, d, strlen(d) + 1);
	for (int i = 0; i < s->path.n; i++) {
		struct stat sb;
		if (stat(s->path.s[i], &sb) != 0)
			return 0;
		int64_t v[4] = {(int64_t)sb.st_size, (int64_t)sb.st_mtim.tv_sec,
				(int64_t)sb.st_mtim.tv_nsec, (int64_t)s->label[i] * 4 + s->src[i]};
		h = fnv(h, s->path.s[i], strlen(s->path.s[i]) + 1);
		h = fnv(h, v, sizeof v);
	}
	return h ? h : 1;
}

static int cache_path(uint64_t key, char *out)
{
	char dir[PATH_CAP];
	if (!cache_dir(dir))
		return 0;
	return snprintf(out, PATH_CAP, "%s/folder-%016llx.bin", dir, (unsigned long long)key) <
	       PATH_CAP;
}

typedef struct {
	char magic[8];
	uint32_t version, n, c, h, w, pad;
	uint64_t key;
} cache_hdr;

/* Reads a cache into *images (al_malloc'd); 0 when absent or not matching. */
static int cache_read(uint64_t key, int n, int c, uint8_t **images, int *h, int *w)
{
	char path[PATH_CAP];
	if (!key || !cache_path(key, path))
		return 0;
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	cache_hdr hd;
	int ok = fread(&hd, sizeof hd, 1, f) == 1 && memcmp(hd.magic, CACHE_MAGIC, 8) == 0 &&
		 hd.version == CACHE_VERSION && hd.key == key && hd.n == (uint32_t)n &&
		 hd.c == (uint32_t)c && hd.h > 0 && hd.w > 0 && hd.h <= MAX_SIDE && hd.w <= MAX_SIDE;
	uint8_t *img = NULL;
	if (ok) {
		size_t bytes = (size_t)n * c * hd.h * hd.w;
		img = al_malloc(bytes ? bytes : 1);
		ok = img && fread(img, 1, bytes, f) == bytes && fgetc(f) == EOF;
	}
	fclose(f);
	if (!ok) {
		al_free(img);
		return 0;
	}
	*images = img;
	*h = (int)hd.h;
	*w = (int)hd.w;
	return 1;
}

static void cache_write(uint64_t key, int n, int c, int h, int w, const uint8_t *images,
			const al_data_opts *o)
{
	char dir[PATH_CAP], path[PATH_CAP], tmp[PATH_CAP + 32];
	if (!key || !cache_dir(dir) || !cache_path(key, path))
		return;
	/* mkdir -p */
	for (char *p = dir + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			mkdir(dir, 0755);
			*p = '/';
		}
	mkdir(dir, 0755);
	snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
	FILE *f = fopen(tmp, "wb");
	cache_hdr hd;
	memset(&hd, 0, sizeof hd);
	memcpy(hd.magic, CACHE_MAGIC, 8);
	hd.version = CACHE_VERSION;
	hd.n = (uint32_t)n;
	hd.c = (uint32_t)c;
	hd.h = (uint32_t)h;
	hd.w = (uint32_t)w;
	hd.key = key;
	size_t bytes = (size_t)n * c * h * w;
	int ok = f && fwrite(&hd, sizeof hd, 1, f) == 1 && fwrite(images, 1, bytes, f) == bytes;
	if (f)
		ok = fclose(f) == 0 && ok;
	if (ok)
		ok = rename(tmp, path) == 0;
	if (!ok) {
		unlink(tmp);
		if (o->warn) {
			char msg[PATH_CAP + 64];
			snprintf(msg, sizeof msg, "folder: could not write the image cache %s", path);
			o->warn(o->user, msg);
		}
	}
}

/* ---- entry point ---------------------------------------------------------- */
static al_status decode_all(const samples *s, const xform *x0, const al_data_opts *o,
			    al_dataset *d, uint8_t *bad)
{
	const int n = s->path.n, c = x0->c;
	xform x = *x0;
	/* the output size: size=S, crop=C, or the first image's */
	if (x.size) {
		x.oh = x.ow = x.size;
	} else if (x.crop) {
		x.oh = x.ow = x.crop;
	} else {
		int first = -1;
		for (int i = 0; i < n && first < 0; i++) {
			int th, tw;
			char *m;
			int r = decode_one(s->path.s[i], &x, NULL, &th, &tw, &m);
			if (r == IMG_OK) {
				first = i;
				x.oh = th;
				x.ow = tw;
			} else if (r == IMG_FATAL || !o->skip_bad) {
				al_status st = al_err(AL_EFORMAT, "folder: %s", m);
				free(m);
				return st;
			} else {
				free(m);
			}
		}
		if (first < 0)
			return al_err(AL_EFORMAT, "folder: none of the %d images could be decoded", n);
	}
	const size_t chw = (size_t)c * x.oh * x.ow;
	d->images = al_calloc((size_t)(n ? n : 1), chw);
	if (!d->images)
		return al_err(AL_ENOMEM, "folder: cannot allocate %d images of %dx%dx%d", n, c, x.oh,
			      x.ow);
	d->n = n;
	d->c = c;
	d->h = x.oh;
	d->w = x.ow;
	char **msg = calloc((size_t)(n ? n : 1), sizeof *msg);
	uint8_t *res = calloc((size_t)(n ? n : 1), 1);
	if (!msg || !res) {
		free(msg);
		free(res);
		return al_err(AL_ENOMEM, "folder: out of memory");
	}
	uint8_t *images = d->images;
#pragma omp parallel for schedule(dynamic, 16)
	for (int i = 0; i < n; i++) {
		int th, tw;
		res[i] = (uint8_t)decode_one(s->path.s[i], &x, images + (size_t)i * chw, &th, &tw,
					     &msg[i]);
	}
	/* the first failure in file order decides, so the message does not
	 * depend on thread timing */
	al_status st = AL_OK;
	for (int i = 0; i < n; i++) {
		if (res[i] == IMG_OK)
			continue;
		const char *m = msg[i] ? msg[i] : "out of memory";
		if (st == AL_OK && (res[i] == IMG_FATAL || !o->skip_bad))
			st = al_err(strncmp(m, "out of memory", 13) == 0 ? AL_ENOMEM
				    : strncmp(m, "cannot open", 11) == 0 ? AL_EIO
									 : AL_EFORMAT,
				    "folder: %s%s", m,
				    res[i] == IMG_BAD ? " (--skip-bad leaves bad images out)" : "");
		bad[i] = 1;
		if (st == AL_OK && o->warn) {
			char w[PATH_CAP + 256];
			snprintf(w, sizeof w, "folder: skipped %s", m);
			o->warn(o->user, w);
		}
		free(msg[i]);
	}
	free(msg);
	free(res);
	return st;
}

/* d holds R x R images: they become d->crop_src (keep) or are freed, and
 * d->images their centre S x S crops. */
static al_status centre_crops(al_dataset *d, int S, int keep)
{
	const int R = d->h, c = d->c;
	const size_t rr = (size_t)R * R, ss = (size_t)S * S;
	uint8_t *out = al_malloc((size_t)(d->n ? d->n : 1) * c * ss);
	if (!out)
		return al_err(AL_ENOMEM, "folder: cannot allocate %d crops of %dx%dx%d", d->n, c, S,
			      S);
	const int o = (R - S) / 2;
	for (int i = 0; i < d->n; i++)
		for (int ch = 0; ch < c; ch++)
			for (int y = 0; y < S; y++)
				memcpy(out + ((size_t)i * c + ch) * ss + (size_t)y * S,
				       d->images + ((size_t)i * c + ch) * rr + (size_t)(y + o) * R + o,
				       (size_t)S);
	if (keep) {
		d->crop_src = d->images;
		d->crop_size = R;
	} else {
		al_free(d->images);
	}
	d->images = out;
	d->h = d->w = S;
	return AL_OK;
}

al_status data_folder_load(const char *dir, const data_folder_params *p, const al_data_opts *o,
			   al_dataset *train, al_dataset *test)
{
	if (!is_dir(dir))
		return al_err(AL_EIO, "folder: directory %s not found", dir);
	if (p->rcrop && (!p->size || p->rcrop <= p->size))
		return al_err(AL_EINVAL,
			      "folder: rcrop=%d needs size=S with S < %d (training crops S x S at "
			      "random from the image resized to %d)",
			      p->rcrop, p->rcrop, p->rcrop);
	if (p->c != 1 && p->c != 3)
		return al_err(AL_ERANGE, "folder: c=%d; images load as 1 (grey) or 3 (RGB) channels",
			      p->c);
	char root[PATH_CAP], sub[PATH_CAP];
	const int layout = detect(dir, root);
	samples s = {0};
	strlist classes = {0}, tcls = {0};
	int K = 0;
	al_status st = AL_OK;
	switch (layout) {
	case LAYOUT_TINY: st = tiny_imagenet(root, &s, &classes); break;
	case LAYOUT_CALTECH:
		st = class_dirs(root, "BACKGROUND_Google", &classes);
		if (st == AL_OK)
			st = add_classes(&s, root, &classes, 0);
		break;
	case LAYOUT_SPLIT:
		st = join(sub, root, "train");
		if (st == AL_OK)
			st = class_dirs(sub, NULL, &classes);
		if (st == AL_OK)
			st = add_classes(&s, sub, &classes, 0);
		if (st == AL_OK) {
			snprintf(sub, sizeof sub, "%s/test", root);
			if (!is_dir(sub))
				snprintf(sub, sizeof sub, "%s/val", root);
			st = list_dir(sub, 1, &tcls);
		}
		for (int i = 0; st == AL_OK && i < tcls.n; i++)
			if (find_str(&classes, tcls.s[i]) < 0)
				st = al_err(AL_EFORMAT, "folder: %s/%s is not a class of %s/train", sub,
					    tcls.s[i], root);
		for (int i = 0; st == AL_OK && i < tcls.n; i++) {
			char cp[PATH_CAP];
			st = join(cp, sub, tcls.s[i]);
			if (st == AL_OK)
				st = add_tree(&s, cp, find_str(&classes, tcls.s[i]), 2, 0);
		}
		break;
	default:
		st = class_dirs(root, NULL, &classes);
		if (st == AL_OK)
			st = add_classes(&s, root, &classes, 0);
		break;
	}
	if (st == AL_OK && p->holdout >= 0 && layout != LAYOUT_TREE)
		st = al_err(AL_EINVAL,
			    "folder: holdout= applies to a single class tree; %s is a %s layout with "
			    "its own test part",
			    dir, layout_name[layout]);
	K = classes.n;
	strlist_free(&tcls);
	if (st == AL_OK && s.path.n == 0)
		st = al_err(AL_EFORMAT, "folder: %s holds no images", dir);
	if (st != AL_OK) {
		samples_free(&s);
		strlist_free(&classes);
		return st;
	}

	const int n = s.path.n;
	xform x = {p->c, p->crop, p->rcrop ? p->rcrop : p->size, 0, 0};
	al_dataset all = {0};
	all.classes = K;
	snprintf(all.name, sizeof all.name, "folder");
	uint8_t *bad = calloc((size_t)n, 1), *part = al_malloc((size_t)n);
	int32_t *keep = al_malloc((size_t)n * sizeof *keep);
	if (!bad || !part || !keep) {
		st = al_err(AL_ENOMEM, "folder: out of memory");
		goto done;
	}
	uint64_t key = p->cache ? cache_key(dir, layout, &x, &s) : 0;
	int hit = 0;
	if (key && cache_read(key, n, p->c, &all.images, &all.h, &all.w)) {
		hit = 1;
		all.n = n;
		all.c = p->c;
	} else {
		st = decode_all(&s, &x, o, &all, bad);
		if (st != AL_OK)
			goto done;
	}
	all.labels = al_malloc((size_t)n * sizeof *all.labels);
	if (!all.labels) {
		st = al_err(AL_ENOMEM, "folder: out of memory");
		goto done;
	}
	memcpy(all.labels, s.label, (size_t)n * sizeof *all.labels);
	int nkeep = 0, nbad = 0;
	for (int i = 0; i < n; i++) {
		if (bad[i])
			nbad++;
		else
			keep[nkeep++] = i;
	}
	if (!hit && nbad == 0 && key)
		cache_write(key, n, all.c, all.h, all.w, all.images, o);
	if (nbad) {
		/* every class of the training part must keep an image */
		int *cnt = calloc((size_t)K, sizeof *cnt), *had = calloc((size_t)K, sizeof *had);
		if (!cnt || !had) {
			free(cnt);
			free(had);
			st = al_err(AL_ENOMEM, "folder: out of memory");
			goto done;
		}
		for (int i = 0; i < n; i++)
			if (s.src[i] == 0) {
				had[s.label[i]]++;
				cnt[s.label[i]] += !bad[i];
			}
		for (int k = 0; k < K && st == AL_OK; k++)
			if (had[k] && !cnt[k])
				st = al_err(AL_EFORMAT, "folder: %s: every image of class %s was bad", dir,
					    classes.s[k]);
		free(cnt);
		free(had);
		if (st != AL_OK)
			goto done;
		al_dataset kept;
		st = al_dataset_subset(&all, keep, nkeep, "", &kept);
		if (st != AL_OK)
			goto done;
		int j = 0;
		for (int i = 0; i < n; i++)
			if (!bad[i])
				s.src[j++] = s.src[i];
		al_dataset_free(&all);
		all = kept;
		if (o->warn) {
			char w[256];
			snprintf(w, sizeof w, "folder: %s: skipped %d of %d images", dir, nbad, n);
			o->warn(o->user, w);
		}
	}
	/* parts */
	if (layout == LAYOUT_CALTECH)
		st = data_split_parts(all.labels, all.n, K, CALTECH_TEST, CALTECH_VAL, p->seed, part);
	else if (layout == LAYOUT_TREE)
		st = data_split_parts(all.labels, all.n, K,
				      p->holdout >= 0 ? p->holdout : DEFAULT_HOLDOUT, 0.0, p->seed,
				      part);
	else
		memcpy(part, s.src, (size_t)all.n);
	if (st == AL_OK) {
		int nb = nbad;
		st = data_apply_parts(&all, part, train, test);
		if (st == AL_OK)
			train->skipped = nb;
	}
	if (st == AL_OK && p->rcrop) {
		st = centre_crops(train, p->size, 1);
		if (st == AL_OK)
			st = centre_crops(test, p->size, 0);
	}
done:
	if (st != AL_OK)
		al_dataset_free(&all);
	free(bad);
	al_free(part);
	al_free(keep);
	samples_free(&s);
	strlist_free(&classes);
	return st;
}
