/* checkpoint.c — save/load of a training run's full state.
 *
 * Layout (little-endian): "ACTLABCK" | u32 version | u32 config length |
 * config text | u32 cfg length | model cfg text | i32 in_c,in_h,in_w,classes |
 * i32 norm channels | f32 mean[4] | f32 std[4] | i32 epoch | i64 optimizer
 * steps | u64 nparams | params | u64 nstate | state | u64 nopt | opt state |
 * u32 CRC-32 of every byte before it.
 * Saved to PATH.tmp, flushed, then renamed over PATH: a crash never leaves a
 * half-written checkpoint under the real name.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actlab/train.h"

#define CK_MAGIC "ACTLABCK"
#define CK_VERSION 3u /* 2: trainable activations keep input statistics in the state;
			 3: and the hypers training rewrites (a B-spline's grid) */

typedef struct {
	FILE *f;
	uint32_t crc;
	int ok;
} writer;

static void w_bytes(writer *w, const void *p, size_t n)
{
	if (!w->ok || n == 0)
		return;
	if (fwrite(p, 1, n, w->f) != n)
		w->ok = 0;
	w->crc = al_crc32(w->crc, p, n);
}

static void w_u32(writer *w, uint32_t v) { w_bytes(w, &v, 4); }
static void w_u64(writer *w, uint64_t v) { w_bytes(w, &v, 8); }

static void w_str(writer *w, const char *s)
{
	uint32_t l = (uint32_t)strlen(s);
	w_u32(w, l);
	w_bytes(w, s, l);
}

al_status al_checkpoint_save(const char *path, const al_checkpoint *ck)
{
	char tmp[1024];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "wb");
	if (!f)
		return al_err(AL_EIO, "%s: cannot write checkpoint: %s", path, strerror(errno));
	writer w = {f, 0, 1};
	char *cfg = malloc(16384);
	if (!cfg) {
		fclose(f);
		remove(tmp);
		return al_err(AL_ENOMEM, "checkpoint: out of memory");
	}
	al_train_config_to_text(&ck->config, cfg, 16384);
	w_bytes(&w, CK_MAGIC, 8);
	w_u32(&w, CK_VERSION);
	w_str(&w, cfg);
	w_str(&w, ck->cfg_text ? ck->cfg_text : "");
	int32_t dims[5] = {ck->in_c, ck->in_h, ck->in_w, ck->classes, ck->norm.c};
	w_bytes(&w, dims, sizeof dims);
	w_bytes(&w, ck->norm.mean, sizeof ck->norm.mean);
	w_bytes(&w, ck->norm.std, sizeof ck->norm.std);
	int32_t ep = ck->epoch;
	w_bytes(&w, &ep, 4);
	int64_t steps = ck->opt_steps;
	w_bytes(&w, &steps, 8);
	w_u64(&w, ck->nparams);
	w_bytes(&w, ck->params, ck->nparams * sizeof(float));
	w_u64(&w, ck->nstate);
	w_bytes(&w, ck->state, ck->nstate * sizeof(float));
	w_u64(&w, ck->nopt);
	w_bytes(&w, ck->opt_state, ck->nopt * sizeof(float));
	uint32_t crc = w.crc;
	if (w.ok && fwrite(&crc, 4, 1, f) != 1)
		w.ok = 0;
	free(cfg);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		w.ok = 0;
	if (fclose(f) != 0)
		w.ok = 0;
	if (!w.ok || rename(tmp, path) != 0) {
		remove(tmp);
		return al_err(AL_EIO, "%s: writing checkpoint failed: %s", path, strerror(errno));
	}
	return AL_OK;
}

typedef struct {
	const unsigned char *p;
	size_t len, off;
	const char *path;
} reader;

static al_status r_bytes(reader *r, void *dst, size_t n, const char *what)
{
	if (n > r->len - r->off)
		return al_err(AL_EFORMAT, "%s: offset %zu: truncated checkpoint (reading %s)",
			      r->path, r->off, what);
	memcpy(dst, r->p + r->off, n);
	r->off += n;
	return AL_OK;
}

static al_status r_str(reader *r, char **out, const char *what)
{
	uint32_t l = 0;
	AL_TRY(r_bytes(r, &l, 4, what));
	if (l > r->len - r->off)
		return al_err(AL_EFORMAT, "%s: offset %zu: %s length %u exceeds file", r->path,
			      r->off, what, l);
	*out = malloc((size_t)l + 1);
	if (!*out)
		return al_err(AL_ENOMEM, "checkpoint: out of memory");
	memcpy(*out, r->p + r->off, l);
	(*out)[l] = 0;
	r->off += l;
	return AL_OK;
}

static al_status r_floats(reader *r, float **out, size_t *n, const char *what)
{
	uint64_t cnt = 0;
	AL_TRY(r_bytes(r, &cnt, 8, what));
	if (cnt > (r->len - r->off) / 4)
		return al_err(AL_EFORMAT, "%s: offset %zu: %s count %llu exceeds file", r->path,
			      r->off, what, (unsigned long long)cnt);
	*n = (size_t)cnt;
	*out = al_malloc((size_t)cnt * 4 + 4);
	if (!*out)
		return al_err(AL_ENOMEM, "checkpoint: out of memory");
	return r_bytes(r, *out, (size_t)cnt * 4, what);
}

void al_checkpoint_free(al_checkpoint *ck)
{
	if (!ck)
		return;
	free(ck->cfg_text);
	al_free(ck->params);
	al_free(ck->state);
	al_free(ck->opt_state);
	memset(ck, 0, sizeof *ck);
}

al_status al_checkpoint_load(const char *path, al_checkpoint *ck)
{
	memset(ck, 0, sizeof *ck);
	struct stat sb;
	if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
		return al_err(AL_EIO, "%s: not a regular file (a checkpoint is a file, e.g. "
				      "RUN/ckpt.bin)", path);
	FILE *f = fopen(path, "rb");
	if (!f)
		return al_err(AL_EIO, "%s: cannot open checkpoint: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	long sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	if (sz < 16) {
		fclose(f);
		return al_err(AL_EFORMAT, "%s: %ld bytes is too short for a checkpoint", path, sz);
	}
	unsigned char *buf = malloc((size_t)sz);
	if (!buf) {
		fclose(f);
		return al_err(AL_ENOMEM, "%s: out of memory", path);
	}
	size_t got = fread(buf, 1, (size_t)sz, f);
	fclose(f);
	al_status st = AL_OK;
	char *cfg = NULL;
	if (got != (size_t)sz) {
		st = al_err(AL_EIO, "%s: read failed", path);
		goto fail;
	}
	if (memcmp(buf, CK_MAGIC, 8) != 0) {
		st = al_err(AL_EFORMAT, "%s: offset 0: not an actlab checkpoint (bad magic)", path);
		goto fail;
	}
	uint32_t stored;
	memcpy(&stored, buf + sz - 4, 4);
	if (al_crc32(0, buf, (size_t)sz - 4) != stored) {
		st = al_err(AL_EFORMAT, "%s: CRC mismatch: the checkpoint is corrupted or truncated",
			    path);
		goto fail;
	}
	reader r = {buf, (size_t)sz - 4, 8, path};
	uint32_t ver;
	if ((st = r_bytes(&r, &ver, 4, "version")) != AL_OK)
		goto fail;
	if (ver < 1 || ver > CK_VERSION) {
		st = al_err(AL_EFORMAT, "%s: checkpoint format version %u, this build reads 1 to %u",
			    path, ver, CK_VERSION);
		goto fail;
	}
	ck->version = ver;
	if ((st = r_str(&r, &cfg, "config")) != AL_OK)
		goto fail;
	if ((st = al_train_config_from_text(cfg, &ck->config)) != AL_OK) {
		st = al_err_ctx(st, "%s: config", path);
		goto fail;
	}
	if ((st = r_str(&r, &ck->cfg_text, "model description")) != AL_OK)
		goto fail;
	int32_t dims[5];
	if ((st = r_bytes(&r, dims, sizeof dims, "shape")) != AL_OK)
		goto fail;
	ck->in_c = dims[0];
	ck->in_h = dims[1];
	ck->in_w = dims[2];
	ck->classes = dims[3];
	ck->norm.c = dims[4];
	if ((st = r_bytes(&r, ck->norm.mean, sizeof ck->norm.mean, "norm")) != AL_OK ||
	    (st = r_bytes(&r, ck->norm.std, sizeof ck->norm.std, "norm")) != AL_OK)
		goto fail;
	int32_t ep;
	if ((st = r_bytes(&r, &ep, 4, "epoch")) != AL_OK ||
	    (st = r_bytes(&r, &ck->opt_steps, 8, "steps")) != AL_OK)
		goto fail;
	ck->epoch = ep;
	if ((st = r_floats(&r, &ck->params, &ck->nparams, "parameters")) != AL_OK ||
	    (st = r_floats(&r, &ck->state, &ck->nstate, "state")) != AL_OK ||
	    (st = r_floats(&r, &ck->opt_state, &ck->nopt, "optimizer state")) != AL_OK)
		goto fail;
	if (r.off != r.len) {
		st = al_err(AL_EFORMAT, "%s: offset %zu: %zu unexpected bytes before the CRC", path,
			    r.off, r.len - r.off);
		goto fail;
	}
	free(cfg);
	free(buf);
	return AL_OK;
fail:
	free(cfg);
	free(buf);
	al_checkpoint_free(ck);
	return st;
}

al_status al_checkpoint_model(const al_checkpoint *ck, al_model **out)
{
	al_model_opts mo = al_model_opts_default();
	mo.act = ck->config.act;
	mo.act_sites = ck->config.act_sites;
	mo.in_c = ck->in_c;
	mo.in_h = ck->in_h;
	mo.in_w = ck->in_w;
	mo.classes = ck->classes;
	mo.seed = ck->config.seed;
	AL_TRY(al_model_create_text(ck->cfg_text, "checkpoint model", &mo, out));
	/* older formats lack some activation state (al_model_nstate_format) */
	size_t np = al_model_nparams(*out), ns = al_model_nstate_format(*out, ck->version);
	if (np != ck->nparams || ns != ck->nstate) {
		al_model_free(*out);
		*out = NULL;
		return al_err(AL_EFORMAT,
			      "checkpoint holds %zu parameters and %zu state values, its model "
			      "description builds %zu and %zu",
			      ck->nparams, ck->nstate, np, ns);
	}
	memcpy(al_model_params(*out), ck->params, ck->nparams * sizeof(float));
	al_model_set_state_format(*out, ck->state, ck->version);
	return AL_OK;
}
