/* tensor.c — tensor allocation and NumPy .npy reading/writing.
 * Writes go to a temporary file that is renamed, so a failed write never
 * leaves a partial file under the final name. */
#define _GNU_SOURCE
#include "actlab/tensor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actlab/core.h"

size_t al_tensor_numel(const al_tensor *t)
{
	size_t n = 1;
	for (int i = 0; i < t->ndim; i++)
		n *= (size_t)t->shape[i];
	return t->ndim ? n : 0;
}

al_status al_tensor_alloc(al_tensor *t, int ndim, const int64_t *shape)
{
	memset(t, 0, sizeof *t);
	if (ndim < 1 || ndim > AL_MAXDIM)
		return al_err(AL_EINVAL, "tensor: %d dimensions (1..%d allowed)", ndim, AL_MAXDIM);
	size_t n = 1;
	for (int i = 0; i < ndim; i++) {
		if (shape[i] <= 0 || (size_t)shape[i] > ((size_t)1 << 40) / n)
			return al_err(AL_EINVAL, "tensor: bad dimension %d = %lld", i,
				      (long long)shape[i]);
		n *= (size_t)shape[i];
		t->shape[i] = shape[i];
	}
	t->data = al_calloc(n, sizeof(float));
	if (!t->data)
		return al_err(AL_ENOMEM, "tensor: cannot allocate %zu floats", n);
	t->ndim = ndim;
	t->owned = 1;
	return AL_OK;
}

void al_tensor_free(al_tensor *t)
{
	if (!t)
		return;
	if (t->owned)
		al_free(t->data);
	memset(t, 0, sizeof *t);
}

/* ---- .npy ------------------------------------------------------------ */
static const struct {
	const char *descr;
	al_npy_dtype dt;
	size_t size;
} npy_types[] = {
	{"<f4", AL_NPY_F32, 4}, {"<f8", AL_NPY_F64, 8}, {"<i8", AL_NPY_I64, 8},
	{"<i4", AL_NPY_I32, 4}, {"|u1", AL_NPY_U8, 1},  {"<u1", AL_NPY_U8, 1},
};

static size_t dtype_size(al_npy_dtype dt)
{
	for (size_t i = 0; i < sizeof npy_types / sizeof *npy_types; i++)
		if (npy_types[i].dt == dt)
			return npy_types[i].size;
	return 0;
}

/* Finds 'key': in a Python dict literal; returns pointer after the colon. */
static const char *dict_value(const char *hdr, const char *key)
{
	char pat[32];
	snprintf(pat, sizeof pat, "'%s'", key);
	const char *p = strstr(hdr, pat);
	if (!p)
		return NULL;
	p = strchr(p + strlen(pat), ':');
	if (!p)
		return NULL;
	p++;
	while (*p == ' ')
		p++;
	return p;
}

al_status al_npy_read(const char *path, al_npy *out)
{
	memset(out, 0, sizeof *out);
	FILE *f = fopen(path, "rb");
	if (!f)
		return al_err(AL_EIO, "%s: cannot open: %s", path, strerror(errno));
	al_status st = AL_OK;
	char *hdr = NULL;
	unsigned char magic[10];
	if (fread(magic, 1, 8, f) != 8 || memcmp(magic, "\x93NUMPY", 6) != 0) {
		st = al_err(AL_EFORMAT, "%s: offset 0: not a .npy file (bad magic)", path);
		goto done;
	}
	uint32_t hlen;
	long hoff;
	if (magic[6] == 1) {
		unsigned char b[2];
		if (fread(b, 1, 2, f) != 2) {
			st = al_err(AL_EFORMAT, "%s: offset 8: truncated header", path);
			goto done;
		}
		hlen = b[0] | (uint32_t)b[1] << 8;
		hoff = 10;
	} else if (magic[6] == 2 || magic[6] == 3) {
		unsigned char b[4];
		if (fread(b, 1, 4, f) != 4) {
			st = al_err(AL_EFORMAT, "%s: offset 8: truncated header", path);
			goto done;
		}
		hlen = b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
		hoff = 12;
	} else {
		st = al_err(AL_EFORMAT, "%s: offset 6: unsupported .npy version %d", path, magic[6]);
		goto done;
	}
	if (hlen > (1u << 20)) {
		st = al_err(AL_EFORMAT, "%s: offset %ld: header length %u too large", path, hoff, hlen);
		goto done;
	}
	hdr = malloc(hlen + 1);
	if (!hdr) {
		st = al_err(AL_ENOMEM, "%s: out of memory", path);
		goto done;
	}
	if (fread(hdr, 1, hlen, f) != hlen) {
		st = al_err(AL_EFORMAT, "%s: offset %ld: truncated header", path, hoff);
		goto done;
	}
	hdr[hlen] = 0;
	const char *d = dict_value(hdr, "descr");
	const char *fo = dict_value(hdr, "fortran_order");
	const char *sh = dict_value(hdr, "shape");
	if (!d || !fo || !sh || *d != '\'' || *sh != '(') {
		st = al_err(AL_EFORMAT, "%s: offset %ld: malformed header '%s'", path, hoff, hdr);
		goto done;
	}
	int found = 0;
	for (size_t i = 0; i < sizeof npy_types / sizeof *npy_types; i++) {
		size_t l = strlen(npy_types[i].descr);
		if (strncmp(d + 1, npy_types[i].descr, l) == 0 && d[1 + l] == '\'') {
			out->dtype = npy_types[i].dt;
			found = 1;
		}
	}
	if (!found) {
		const char *e = strchr(d + 1, '\'');
		st = al_err(AL_EFORMAT,
			    "%s: dtype %.*s not supported (float32, float64, int64, int32, uint8; "
			    "little-endian)",
			    path, e ? (int)(e - d + 1) : 8, d);
		goto done;
	}
	if (strncmp(fo, "True", 4) == 0) {
		st = al_err(AL_EFORMAT, "%s: Fortran-order arrays are not supported (save C order)",
			    path);
		goto done;
	}
	const char *p = sh + 1;
	size_t n = 1;
	while (1) {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == ')')
			break;
		char *end;
		long long v = strtoll(p, &end, 10);
		if (end == p || v < 0 || out->ndim >= 8) {
			st = al_err(AL_EFORMAT, "%s: malformed shape in header '%s'", path, hdr);
			goto done;
		}
		if (v > 0 && n > (((size_t)1 << 40) / (size_t)v)) {
			st = al_err(AL_ERANGE, "%s: shape too large", path);
			goto done;
		}
		out->shape[out->ndim++] = v;
		n *= (size_t)v;
		p = end;
	}
	size_t es = dtype_size(out->dtype);
	long data_off = ftell(f);
	fseek(f, 0, SEEK_END);
	long fsize = ftell(f);
	fseek(f, data_off, SEEK_SET);
	if (data_off < 0 || fsize < data_off || (size_t)(fsize - data_off) / es < n) {
		st = al_err(AL_EFORMAT,
			    "%s: offset %ld: truncated data (%zu elements declared, the file ends "
			    "after %ld data bytes)",
			    path, fsize, n, fsize - data_off);
		goto done;
	}
	out->data = al_malloc(n * es > 0 ? n * es : 1);
	if (!out->data) {
		st = al_err(AL_ENOMEM, "%s: cannot allocate %zu bytes", path, n * es);
		goto done;
	}
	size_t got = fread(out->data, es, n, f);
	if (got != n) {
		st = al_err(AL_EFORMAT, "%s: offset %ld: truncated data (%zu of %zu elements)", path,
			    hoff + (long)hlen + (long)(got * es), got, n);
		goto done;
	}
done:
	free(hdr);
	fclose(f);
	if (st != AL_OK) {
		al_free(out->data);
		out->data = NULL;
	}
	return st;
}

void al_npy_free(al_npy *a)
{
	if (a) {
		al_free(a->data);
		a->data = NULL;
	}
}

al_status al_npy_read_f32(const char *path, al_tensor *t)
{
	memset(t, 0, sizeof *t);
	al_npy a;
	AL_TRY(al_npy_read(path, &a));
	if (a.ndim < 1 || a.ndim > AL_MAXDIM) {
		al_npy_free(&a);
		return al_err(AL_EINVAL, "%s: %d dimensions (1..%d supported)", path, a.ndim,
			      AL_MAXDIM);
	}
	size_t n = 1;
	for (int i = 0; i < a.ndim; i++)
		n *= (size_t)a.shape[i];
	float *x = a.dtype == AL_NPY_F32 ? a.data : al_malloc(n * sizeof(float) + 1);
	if (!x) {
		al_npy_free(&a);
		return al_err(AL_ENOMEM, "%s: out of memory", path);
	}
	for (size_t i = 0; i < n && a.dtype != AL_NPY_F32; i++) {
		switch (a.dtype) {
		case AL_NPY_F64: x[i] = (float)((double *)a.data)[i]; break;
		case AL_NPY_I64: x[i] = (float)((int64_t *)a.data)[i]; break;
		case AL_NPY_I32: x[i] = (float)((int32_t *)a.data)[i]; break;
		case AL_NPY_U8: x[i] = (float)((uint8_t *)a.data)[i]; break;
		default: break;
		}
	}
	if (x != a.data)
		al_npy_free(&a);
	t->data = x;
	t->ndim = a.ndim;
	for (int i = 0; i < a.ndim; i++)
		t->shape[i] = a.shape[i];
	t->owned = 1;
	return AL_OK;
}

al_status al_npy_write(const char *path, al_npy_dtype dtype, int ndim, const int64_t *shape,
		       const void *data)
{
	const char *descr = NULL;
	for (size_t i = 0; i < sizeof npy_types / sizeof *npy_types; i++)
		if (npy_types[i].dt == dtype && !descr)
			descr = npy_types[i].descr;
	if (!descr || ndim < 0 || ndim > 8)
		return al_err(AL_EINVAL, "%s: bad dtype or %d dimensions", path, ndim);
	for (int i = 0; i < ndim; i++)
		if (shape[i] < 0 || shape[i] > ((int64_t)1 << 40))
			return al_err(AL_EINVAL, "%s: bad dimension %d = %lld", path, i,
				      (long long)shape[i]);
	char hdr[256];
	int l = snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': False, 'shape': (",
			 descr);
	size_t n = 1;
	for (int i = 0; i < ndim; i++) {
		l += snprintf(hdr + l, sizeof hdr - (size_t)l, "%lld,%s", (long long)shape[i],
			      (i + 1 < ndim) ? " " : "");
		n *= (size_t)shape[i];
	}
	if (ndim > 1)
		l--; /* numpy writes (2, 3) but (5,) */
	l += snprintf(hdr + l, sizeof hdr - (size_t)l, "), }");
	int total = 10 + l + 1;
	int pad = (64 - total % 64) % 64;
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "wb");
	if (!f)
		return al_err(AL_EIO, "%s: cannot write: %s", path, strerror(errno));
	unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0};
	uint16_t hl = (uint16_t)(l + pad + 1);
	pre[8] = (unsigned char)(hl & 0xff);
	pre[9] = (unsigned char)(hl >> 8);
	int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(hdr, 1, (size_t)l, f) == (size_t)l;
	for (int i = 0; i < pad && ok; i++)
		ok = fputc(' ', f) != EOF;
	ok = ok && fputc('\n', f) != EOF;
	size_t es = dtype_size(dtype);
	ok = ok && (n == 0 || fwrite(data, es, n, f) == n);
	ok = (fclose(f) == 0) && ok;
	if (!ok || rename(tmp, path) != 0) {
		remove(tmp);
		return al_err(AL_EIO, "%s: write failed: %s", path, strerror(errno));
	}
	return AL_OK;
}

al_status al_npy_write_f32(const char *path, const al_tensor *t)
{
	return al_npy_write(path, AL_NPY_F32, t->ndim, t->shape, t->data);
}
