/* cifar.c — reader for the CIFAR-10 / CIFAR-100 binary batches
 * (cifar-10-binary.tar.gz, cifar-100-binary.tar.gz, extracted).
 *
 * A record is 1 label byte (CIFAR-10) or 2 (CIFAR-100: coarse, then fine;
 * the fine label is used) followed by 3072 pixel bytes: 32x32 planes of R,
 * then G, then B, which is already NCHW. Each call appends one file's
 * records to a dataset, all or nothing. Every defect is an error naming the
 * file and a byte offset (and the record index for bad labels).
 * Not for: the Python pickle version of CIFAR, gzip'd batches, choosing
 * files (dataset.c knows which files make up train and test).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "actlab/data.h"

#define CIFAR_C 3
#define CIFAR_HW 32
#define CIFAR_PIXELS (CIFAR_C * CIFAR_HW * CIFAR_HW)
#define CIFAR_MAX_BYTES ((uint64_t)1 << 34)
#define CIFAR_CHUNK 512 /* records per read */

al_status al_cifar_read(const char *path, int label_bytes, int classes, al_dataset *d)
{
	if (!path || !d)
		return al_err(AL_EINVAL, "al_cifar_read: NULL argument");
	if (label_bytes != 1 && label_bytes != 2)
		return al_err(AL_EINVAL, "%s: label_bytes = %d, expected 1 (CIFAR-10) or 2 (CIFAR-100)",
			      path, label_bytes);
	if (classes < 1 || classes > 256)
		return al_err(AL_EINVAL, "%s: classes = %d, expected 1..256", path, classes);
	if (d->n > 0 && (d->c != CIFAR_C || d->h != CIFAR_HW || d->w != CIFAR_HW ||
			 d->classes != classes))
		return al_err(AL_EINVAL,
			      "%s: cannot append CIFAR records (3x32x32, %d classes) to a dataset of "
			      "%dx%dx%d with %d classes",
			      path, classes, d->c, d->h, d->w, d->classes);

	FILE *f = fopen(path, "rb");
	if (!f)
		return al_err(AL_EIO, "%s: cannot open: %s", path, strerror(errno));
	struct stat sb;
	if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
		fclose(f);
		return al_err(AL_EIO, "%s: not a regular file", path);
	}
	const long long rec = label_bytes + CIFAR_PIXELS;
	const long long size = (long long)sb.st_size;
	if (size == 0) {
		fclose(f);
		return al_err(AL_EFORMAT, "%s: offset 0: empty file, expected %lld-byte records", path,
			      rec);
	}
	if (size % rec != 0) {
		fclose(f);
		return al_err(AL_EFORMAT,
			      "%s: offset %lld: partial record (file size %lld is not a multiple of "
			      "the %lld-byte record; %lld bytes left over)",
			      path, size / rec * rec, size, rec, size % rec);
	}
	const long long nrec = size / rec;
	const long long total = (long long)d->n + nrec;
	if (total > INT_MAX || (uint64_t)total * CIFAR_PIXELS > CIFAR_MAX_BYTES) {
		fclose(f);
		return al_err(AL_ERANGE, "%s: %lld records would make %lld samples, over the limit",
			      path, nrec, total);
	}

	/* Build the grown arrays aside; d changes only on success. */
	uint8_t *img = al_malloc((size_t)total * CIFAR_PIXELS);
	int32_t *lab = al_malloc((size_t)total * sizeof *lab);
	uint8_t *buf = al_malloc((size_t)CIFAR_CHUNK * (size_t)rec);
	al_status st = AL_OK;
	if (!img || !lab || !buf) {
		st = al_err(AL_ENOMEM, "%s: cannot allocate %lld CIFAR samples", path, total);
		goto done;
	}
	if (d->n > 0) {
		memcpy(img, d->images, (size_t)d->n * CIFAR_PIXELS);
		memcpy(lab, d->labels, (size_t)d->n * sizeof *lab);
	}
	for (long long r0 = 0; r0 < nrec; r0 += CIFAR_CHUNK) {
		long long m = nrec - r0 < CIFAR_CHUNK ? nrec - r0 : CIFAR_CHUNK;
		size_t want = (size_t)(m * rec);
		size_t got = fread(buf, 1, want, f);
		if (got != want) {
			st = al_err(AL_EIO, "%s: offset %lld: %s", path, r0 * rec + (long long)got,
				    ferror(f) ? strerror(errno) : "file ended early (changed while read?)");
			goto done;
		}
		for (long long r = 0; r < m; r++) {
			const uint8_t *src = buf + r * rec;
			int label = src[label_bytes - 1];
			if (label >= classes) {
				long long ri = r0 + r;
				st = al_err(AL_ERANGE,
					    "%s: record %lld (offset %lld): label %d out of range [0, %d)",
					    path, ri, ri * rec + label_bytes - 1, label, classes);
				goto done;
			}
			size_t s = (size_t)(d->n + r0 + r);
			lab[s] = label;
			memcpy(img + s * CIFAR_PIXELS, src + label_bytes, CIFAR_PIXELS);
		}
	}
done:
	fclose(f);
	al_free(buf);
	if (st != AL_OK) {
		al_free(img);
		al_free(lab);
		return st;
	}
	al_free(d->images);
	al_free(d->labels);
	d->images = img;
	d->labels = lab;
	d->n = (int)total;
	d->c = CIFAR_C;
	d->h = CIFAR_HW;
	d->w = CIFAR_HW;
	d->classes = classes;
	return AL_OK;
}
