/* idx.c — readers for IDX files (the MNIST / Fashion-MNIST / KMNIST layout),
 * gzip'd or plain: zlib's gzread reads both transparently.
 *
 * For: unsigned-byte images (magic 0x00000803: n, rows, cols) and labels
 * (magic 0x00000801: n). Every defect is an error naming the file and the
 * byte offset where it was found; for .gz files offsets count bytes of the
 * decompressed stream. Header integers are big-endian.
 * Not for: other IDX data types (int16, float, ...), label range checks (the
 * caller knows the class count, see dataset.c), writing IDX files.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "actlab/data.h"

/* Largest payload accepted (16 GiB): a header asking for more is corrupt. */
#define IDX_MAX_BYTES ((uint64_t)1 << 34)
#define IDX_UBYTE 0x08
#define IDX_IMAGES 0x00000803u
#define IDX_LABELS 0x00000801u

typedef struct {
	gzFile f;
	const char *path;
	uint64_t off; /* bytes consumed from the (decompressed) stream */
} idx_file;

static uint32_t be32(const unsigned char *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

static al_status idx_open(idx_file *x, const char *path)
{
	x->path = path;
	x->off = 0;
	errno = 0;
	x->f = gzopen(path, "rb");
	if (!x->f)
		return al_err(AL_EIO, "%s: cannot open: %s", path,
			      errno ? strerror(errno) : "out of memory");
	gzbuffer(x->f, 1u << 17); /* fewer read() calls; failure is harmless */
	return AL_OK;
}

/* Error for a gzread that returned -1 at byte offset off. */
static al_status idx_stream_error(const idx_file *x, uint64_t off)
{
	int zerr = Z_OK;
	const char *msg = gzerror(x->f, &zerr);
	if (zerr == Z_ERRNO)
		return al_err(AL_EIO, "%s: offset %llu: read error: %s", x->path,
			      (unsigned long long)off, strerror(errno));
	return al_err(AL_EFORMAT, "%s: offset %llu: corrupt gzip stream: %s", x->path,
		      (unsigned long long)off, msg);
}

/* Reads exactly len bytes into buf; `what` names the field for messages. */
static al_status idx_read(idx_file *x, void *buf, uint64_t len, const char *what)
{
	unsigned char *p = buf;
	uint64_t done = 0;
	while (done < len) {
		uint64_t want = len - done;
		unsigned chunk = want > (1u << 30) ? (1u << 30) : (unsigned)want;
		int r = gzread(x->f, p + done, chunk);
		if (r < 0)
			return idx_stream_error(x, x->off + done);
		if (r == 0)
			break;
		done += (uint64_t)r;
	}
	x->off += done;
	if (done < len) {
		int zerr = Z_OK;
		gzerror(x->f, &zerr);
		return al_err(AL_EFORMAT,
			      "%s: offset %llu: file ends inside %s (%llu of %llu bytes present%s)",
			      x->path, (unsigned long long)x->off, what, (unsigned long long)done,
			      (unsigned long long)len,
			      zerr == Z_BUF_ERROR ? "; gzip stream truncated" : "");
	}
	return AL_OK;
}

/* After the payload: the file must end here (and a gzip trailer must check). */
static al_status idx_expect_end(idx_file *x, const char *items, uint32_t n)
{
	unsigned char extra;
	int r = gzread(x->f, &extra, 1);
	if (r < 0)
		return idx_stream_error(x, x->off);
	if (r > 0)
		return al_err(AL_EFORMAT,
			      "%s: offset %llu: unexpected data after the last of the %u %s the "
			      "header declares",
			      x->path, (unsigned long long)x->off, n, items);
	int zerr = Z_OK;
	const char *msg = gzerror(x->f, &zerr);
	if (zerr != Z_OK)
		return al_err(AL_EFORMAT, "%s: offset %llu: gzip stream incomplete: %s", x->path,
			      (unsigned long long)x->off, msg);
	return AL_OK;
}

/* Reads and checks the magic and the dimensions (ndims = magic & 0xff). */
static al_status idx_header(idx_file *x, uint32_t want, uint32_t *dims)
{
	const char *kind = want == IDX_IMAGES ? "images" : "labels";
	int nd = (int)(want & 0xff);
	unsigned char b[4];
	AL_TRY(idx_read(x, b, 4, "the header (4-byte magic number)"));
	uint32_t magic = be32(b);
	if (b[0] || b[1])
		return al_err(AL_EFORMAT,
			      "%s: offset 0: bad magic 0x%08x, expected 0x%08x (IDX unsigned-byte %s); "
			      "not an IDX file?",
			      x->path, magic, want, kind);
	if (b[2] != IDX_UBYTE)
		return al_err(AL_EFORMAT,
			      "%s: offset 2: magic 0x%08x has data type byte 0x%02x, expected 0x%02x "
			      "(unsigned byte)",
			      x->path, magic, b[2], IDX_UBYTE);
	if (b[3] != nd)
		return al_err(AL_EFORMAT,
			      "%s: offset 3: magic 0x%08x declares %d dimensions, expected %d "
			      "(IDX %s have magic 0x%08x)",
			      x->path, magic, b[3], nd, kind, want);
	for (int k = 0; k < nd; k++) {
		char what[64];
		snprintf(what, sizeof what, "the header (dimension %d)", k);
		AL_TRY(idx_read(x, b, 4, what));
		dims[k] = be32(b);
		if (dims[k] == 0)
			return al_err(AL_EFORMAT, "%s: offset %d: dimension %d of the header is 0",
				      x->path, 4 + 4 * k, k);
	}
	/* Payload size, overflow-safe: bytes * d > MAX  <=>  d > MAX / bytes. */
	uint64_t bytes = 1;
	for (int k = 0; k < nd; k++) {
		if (dims[k] > IDX_MAX_BYTES / bytes) {
			if (nd == 3)
				return al_err(AL_ERANGE,
					      "%s: offset 4: header dimensions %u x %u x %u exceed the "
					      "limit of 2^34 bytes",
					      x->path, dims[0], dims[1], dims[2]);
			return al_err(AL_ERANGE,
				      "%s: offset 4: header declares %u labels, over the limit of "
				      "2^34 bytes",
				      x->path, dims[0]);
		}
		bytes *= dims[k];
	}
	if (dims[0] > INT_MAX)
		return al_err(AL_ERANGE, "%s: offset 4: %u %s, more than the limit of %d", x->path,
			      dims[0], kind, INT_MAX);
	if (nd == 3 && (uint64_t)dims[1] * dims[2] > INT_MAX)
		return al_err(AL_ERANGE, "%s: offset 8: images of %u x %u pixels are too large",
			      x->path, dims[1], dims[2]);
	return AL_OK;
}

al_status al_idx_read_images(const char *path, al_dataset *d)
{
	if (!path || !d)
		return al_err(AL_EINVAL, "al_idx_read_images: NULL argument");
	memset(d, 0, sizeof *d);
	idx_file x;
	AL_TRY(idx_open(&x, path));
	uint32_t dims[3] = {0, 0, 0};
	al_status st = idx_header(&x, IDX_IMAGES, dims);
	uint8_t *img = NULL;
	size_t bytes = (size_t)dims[0] * dims[1] * dims[2];
	if (st == AL_OK) {
		img = al_malloc(bytes);
		if (!img)
			st = al_err(AL_ENOMEM, "%s: cannot allocate %zu bytes for %u images of %ux%u",
				    path, bytes, dims[0], dims[1], dims[2]);
	}
	if (st == AL_OK)
		st = idx_read(&x, img, bytes, "the image data");
	if (st == AL_OK)
		st = idx_expect_end(&x, "images", dims[0]);
	gzclose(x.f);
	if (st != AL_OK) {
		al_free(img);
		return st;
	}
	d->n = (int)dims[0];
	d->c = 1;
	d->h = (int)dims[1];
	d->w = (int)dims[2];
	d->images = img;
	return AL_OK;
}

al_status al_idx_read_labels(const char *path, int32_t **labels, int *n)
{
	if (!path || !labels || !n)
		return al_err(AL_EINVAL, "al_idx_read_labels: NULL argument");
	*labels = NULL;
	*n = 0;
	idx_file x;
	AL_TRY(idx_open(&x, path));
	uint32_t dims[1] = {0};
	al_status st = idx_header(&x, IDX_LABELS, dims);
	uint8_t *raw = NULL;
	int32_t *lab = NULL;
	if (st == AL_OK) {
		raw = al_malloc(dims[0]);
		lab = al_malloc((size_t)dims[0] * sizeof *lab);
		if (!raw || !lab)
			st = al_err(AL_ENOMEM, "%s: cannot allocate %u labels", path, dims[0]);
	}
	if (st == AL_OK)
		st = idx_read(&x, raw, dims[0], "the label data");
	if (st == AL_OK)
		st = idx_expect_end(&x, "labels", dims[0]);
	gzclose(x.f);
	if (st == AL_OK)
		for (uint32_t i = 0; i < dims[0]; i++)
			lab[i] = raw[i];
	al_free(raw);
	if (st != AL_OK) {
		al_free(lab);
		return st;
	}
	*labels = lab;
	*n = (int)dims[0];
	return AL_OK;
}
