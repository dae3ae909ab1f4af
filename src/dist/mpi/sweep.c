/* sweep.c — a sweep over the ranks of an MPI job. Rank 0 is the only
 * process that opens the store: it loads the experiment file, registers the
 * sweep and serves the other ranks. An idle rank asks for work (REQ); rank
 * 0 claims the next unfinished run in the store (the claim/resume logic of
 * a one-process sweep, owner = rank 0's process) and sends its stored
 * configuration and folder (RUN), or STOP when none is left. The worker
 * trains it (resuming from the folder's checkpoint when it sees one),
 * sends every epoch's row (EPOCH, answered by ACK: go on or stop) and at
 * the end its status and the run folder's files (DONE); rank 0 writes the
 * folder and ingests it in one transaction, or marks the run failed with
 * "rank R: message". Finished runs are committed one by one, so a job that
 * dies loses only the runs in progress, which the next identical command
 * claims again (their owner, rank 0's process, is dead).
 * Messages are byte strings; numbers are in the host's layout, so all
 * ranks must share one architecture (as MPI jobs of one binary do).
 * Not for: the store's SQL (src/exp/store.c), training (src/train/).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "actlab/dist.h"
#include "dist/mpi/internal.h"
#include "exp/store_int.h"

enum { TAG_REQ = 101, TAG_RUN, TAG_STOP, TAG_EPOCH, TAG_ACK, TAG_DONE };

static const char *const run_files[] = {"log.csv", "act_params.csv", "ckpt.bin"};
#define NFILES 3
#define NOFILE UINT64_MAX

/* ---- byte buffers ------------------------------------------------------------ */
typedef struct {
	char *p;
	size_t n, cap;
	int oom;
} buf;

static void put(buf *b, const void *src, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n > b->cap) {
		size_t c = b->cap ? b->cap : 4096;
		while (c < b->n + n)
			c *= 2;
		char *q = realloc(b->p, c);
		if (!q) {
			b->oom = 1;
			return;
		}
		b->p = q;
		b->cap = c;
	}
	memcpy(b->p + b->n, src, n);
	b->n += n;
}

static void put_str(buf *b, const char *s) { put(b, s, strlen(s) + 1); }

/* Receives the next message (from src, or any rank) of any tag, polling
 * with short sleeps so a waiting rank does not hold a core. */
static char *recv_msg(int src, int *from, int *tag, size_t *len)
{
	MPI_Status ms;
	int flag = 0;
	struct timespec ts = {0, 2 * 1000 * 1000};
	for (;;) {
		MPI_Iprobe(src, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &ms);
		if (flag)
			break;
		nanosleep(&ts, NULL);
	}
	int n = 0;
	MPI_Get_count(&ms, MPI_BYTE, &n);
	char *p = malloc((size_t)n + 1);
	if (!p) {
		/* drain it so the protocol stays in step, then report */
		char dummy;
		MPI_Recv(&dummy, 0, MPI_BYTE, ms.MPI_SOURCE, ms.MPI_TAG, MPI_COMM_WORLD,
			 MPI_STATUS_IGNORE);
		*len = 0;
		*from = ms.MPI_SOURCE;
		*tag = ms.MPI_TAG;
		return NULL;
	}
	MPI_Recv(p, n, MPI_BYTE, ms.MPI_SOURCE, ms.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
	p[n] = 0;
	*from = ms.MPI_SOURCE;
	*tag = ms.MPI_TAG;
	*len = (size_t)n;
	return p;
}

static void send_buf(const buf *b, int dest, int tag)
{
	MPI_Send(b->p, (int)b->n, MPI_BYTE, dest, tag, MPI_COMM_WORLD);
}

static int read_all(const char *path, buf *b)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	char chunk[65536];
	size_t k;
	while ((k = fread(chunk, 1, sizeof chunk, f)) > 0)
		put(b, chunk, k);
	int ok = !ferror(f);
	fclose(f);
	return ok;
}

static al_status mkdirs(const char *dir)
{
	char tmp[1400];
	snprintf(tmp, sizeof tmp, "%s", dir);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			mkdir(tmp, 0755);
			*p = '/';
		}
	if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
		return al_err(AL_EIO, "cannot create run folder '%s'", dir);
	return AL_OK;
}

static al_status write_file(const char *dir, const char *name, const char *p, size_t n)
{
	char path[1500], tmp[1510];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	snprintf(tmp, sizeof tmp, "%s.part", path);
	FILE *f = fopen(tmp, "wb");
	if (!f)
		return al_err(AL_EIO, "%s: cannot write", tmp);
	size_t w = n ? fwrite(p, 1, n, f) : 0;
	if (fclose(f) != 0 || w != n || rename(tmp, path) != 0) {
		remove(tmp);
		return al_err(AL_EIO, "%s: cannot write", path);
	}
	return AL_OK;
}

/* ---- worker ----------------------------------------------------------------- */
typedef struct {
	int64_t run;
} wctx;

static int worker_epoch(void *user, const al_epoch_stats *e)
{
	wctx *w = user;
	double v[13] = {(double)w->run, (double)e->epoch, e->train_loss, e->train_acc,
			e->val_loss, e->val_acc, e->test_loss, e->test_acc,
			e->macro_precision, e->lr, e->seconds, e->img_per_s, 0};
	MPI_Send(v, 13, MPI_DOUBLE, 0, TAG_EPOCH, MPI_COMM_WORLD);
	int from, tag;
	size_t len;
	char *ack = recv_msg(0, &from, &tag, &len);
	int stop = !ack || tag != TAG_ACK || len < 1 || ack[0] != 0;
	free(ack);
	return stop;
}

static al_status worker(int threads)
{
	for (;;) {
		MPI_Send(NULL, 0, MPI_BYTE, 0, TAG_REQ, MPI_COMM_WORLD);
		int from, tag;
		size_t len;
		char *m = recv_msg(0, &from, &tag, &len);
		if (!m)
			return al_err(AL_ENOMEM, "sweep worker: out of memory");
		if (tag == TAG_STOP) {
			free(m);
			return AL_OK;
		}
		if (tag != TAG_RUN || len < 10) {
			free(m);
			return al_err(AL_ESTATE, "sweep worker: unexpected message %d from rank 0", tag);
		}
		wctx w;
		memcpy(&w.run, m, sizeof w.run);
		const char *config = m + 8, *dir = config + strlen(config) + 1;
		size_t params = 0;
		int stopped = 0;
		al_status st = sw_train_dir(config, dir, threads, worker_epoch, &w, &stopped, NULL,
					    &params);
		buf b = {0};
		int32_t status = (int32_t)st, stop32 = stopped;
		uint64_t p64 = params;
		put(&b, &w.run, 8);
		put(&b, &status, 4);
		put(&b, &stop32, 4);
		put(&b, &p64, 8);
		put_str(&b, st == AL_OK ? "" : al_errmsg());
		for (int i = 0; i < NFILES && st == AL_OK; i++) {
			char path[1500];
			snprintf(path, sizeof path, "%s/%s", dir, run_files[i]);
			buf f = {0};
			uint64_t n = read_all(path, &f) && !f.oom ? f.n : NOFILE;
			put(&b, &n, 8);
			if (n != NOFILE)
				put(&b, f.p, f.n);
			free(f.p);
		}
		free(m);
		if (b.oom) {
			free(b.p);
			return al_err(AL_ENOMEM, "sweep worker: out of memory");
		}
		send_buf(&b, 0, TAG_DONE);
		free(b.p);
	}
}

/* ---- rank 0 ------------------------------------------------------------------- */
typedef struct {
	al_store *s;
	const al_sweep *sw;
	const al_sweep_opts *o;
	int64_t *ids;
	char rd[1024];
	int next;
	int *cur;     /* run index per rank, -1 idle */
	double *t0;
	char (*epmsg)[512]; /* why rank 0 stopped a worker's run */
	al_status store_st; /* first store failure: hand out nothing more */
	char store_msg[1024];
	al_sweep_summary *sum;
} master;

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void store_failed(master *M, al_status st)
{
	if (M->store_st == AL_OK) {
		M->store_st = st;
		snprintf(M->store_msg, sizeof M->store_msg, "%s", al_errmsg());
	}
}

/* Claims the next unfinished run for rank r and sends it; 0 when none. */
static int hand_out(master *M, int r)
{
	const al_sweep *sw = M->sw;
	int n = sw->nruns;
	while (M->store_st == AL_OK && M->next < n) {
		int i = M->next++;
		char status[32], err[512], d[400], key_dir[1400];
		double acc;
		sw_run_state(M->s, M->ids[i], status, sizeof status, &acc, err, sizeof err);
		if (!strcmp(status, "done") || (!strcmp(status, "failed") && !M->o->retry_failed)) {
			M->sum->skipped++;
			continue;
		}
		char *config = NULL, sweep[256], key[64];
		al_status st = st_run_info(M->s, M->ids[i], &config, sweep, sizeof sweep, key,
					   sizeof key, status, sizeof status);
		if (st != AL_OK) {
			store_failed(M, st);
			break;
		}
		sw_describe(&sw->runs[i], d, sizeof d);
		if (!strncmp(config, "trainer=", 8)) {
			/* seed 003's trainer runs write the store as they go: they
			 * run in one process (a plain `actlab sweep`) */
			free(config);
			M->sum->skipped++;
			sw_emit(M->o,
				"[%d/%d] %s: skipped (trainer runs are not distributed; run them "
				"with actlab sweep without mpirun)",
				i + 1, n, d);
			continue;
		}
		sw_run_dir(M->rd, sweep, key, key_dir, sizeof key_dir);
		int claimed = 0;
		st = st_claim(M->s, M->ids[i], M->o->retry_failed, sw_resume_epoch(key_dir) > 0,
			      &claimed);
		if (st != AL_OK) {
			free(config);
			store_failed(M, st);
			break;
		}
		if (!claimed) {
			free(config);
			M->sum->skipped++;
			sw_emit(M->o, "[%d/%d] %s: skipped (owned by another live process)", i + 1, n,
				d);
			continue;
		}
		buf b = {0};
		put(&b, &M->ids[i], 8);
		put_str(&b, config);
		put_str(&b, key_dir);
		free(config);
		if (b.oom) {
			free(b.p);
			store_failed(M, al_err(AL_ENOMEM, "sweep: out of memory"));
			break;
		}
		send_buf(&b, r, TAG_RUN);
		free(b.p);
		M->cur[r] = i;
		M->t0[r] = mono();
		M->epmsg[r][0] = 0;
		M->sum->started++;
		sw_emit(M->o, "[%d/%d] %s: running on rank %d", i + 1, n, d, r);
		return 1;
	}
	return 0;
}

static void on_epoch_row(master *M, int r, const char *m, size_t len)
{
	char ack = 1;
	int i = M->cur[r];
	if (len == 13 * sizeof(double) && i >= 0) {
		double v[13];
		memcpy(v, m, sizeof v);
		al_epoch_stats e = {0};
		e.epoch = (int)v[1];
		e.train_loss = v[2];
		e.train_acc = v[3];
		e.val_loss = v[4];
		e.val_acc = v[5];
		e.test_loss = v[6];
		e.test_acc = v[7];
		e.macro_precision = v[8];
		e.lr = v[9];
		e.seconds = v[10];
		e.img_per_s = v[11];
		const al_sweep_run *run = &M->sw->runs[i];
		sw_emit(M->o,
			"    run %lld (%s seed %llu, rank %d): epoch %d/%d  train loss %.4f  test acc "
			"%.4f  (%.1fs)",
			(long long)M->ids[i], run->act, (unsigned long long)run->config.seed, r, e.epoch,
			run->config.epochs, e.train_loss, e.test_acc, e.seconds);
		al_status st = st_epoch(M->s, M->ids[i], &e);
		if (st == AL_OK)
			ack = 0;
		else
			snprintf(M->epmsg[r], sizeof M->epmsg[r], "%s", al_errmsg());
	}
	MPI_Send(&ack, 1, MPI_BYTE, r, TAG_ACK, MPI_COMM_WORLD);
}

static void on_done(master *M, int r, const char *m, size_t len)
{
	int i = M->cur[r];
	M->cur[r] = -1;
	if (i < 0 || len < 25)
		return;
	int64_t run;
	int32_t status, stopped;
	uint64_t params;
	memcpy(&run, m, 8);
	memcpy(&status, m + 8, 4);
	memcpy(&stopped, m + 12, 4);
	memcpy(&params, m + 16, 8);
	const char *msg = m + 24, *p = msg + strlen(msg) + 1, *end = m + len;
	char dir[1400], sweep[256], key[64], stt[32], *config = NULL;
	al_status st = st_run_info(M->s, run, &config, sweep, sizeof sweep, key, sizeof key, stt,
				   sizeof stt);
	free(config);
	char fail[1200] = "";
	if (st == AL_OK && status == AL_OK) {
		sw_run_dir(M->rd, sweep, key, dir, sizeof dir);
		st = mkdirs(dir);
		for (int k = 0; k < NFILES && st == AL_OK; k++) {
			uint64_t n;
			if (p + 8 > end) {
				st = al_err(AL_EFORMAT, "rank %d: truncated results of run %lld", r,
					    (long long)run);
				break;
			}
			memcpy(&n, p, 8);
			p += 8;
			if (n == NOFILE)
				continue;
			if (n > (uint64_t)(end - p)) {
				st = al_err(AL_EFORMAT, "rank %d: truncated results of run %lld", r,
					    (long long)run);
				break;
			}
			st = write_file(dir, run_files[k], p, (size_t)n);
			p += n;
		}
		if (st == AL_OK)
			st = st_finish(M->s, run, dir, (size_t)params);
		if (st != AL_OK)
			snprintf(fail, sizeof fail, "%s", al_errmsg());
	} else if (st == AL_OK) {
		if (stopped && M->epmsg[r][0])
			snprintf(fail, sizeof fail, "%s", M->epmsg[r]);
		else
			snprintf(fail, sizeof fail, "rank %d: %s", r, msg);
	} else {
		snprintf(fail, sizeof fail, "%s", al_errmsg());
	}
	if (fail[0])
		st_failed(M->s, run, fail);
	sw_report_end(M->s, M->sw, M->o, i, M->ids[i], M->sw->nruns, M->sum, mono() - M->t0[r]);
}

static al_status serve(master *M, int size)
{
	int active = size - 1;
	while (active > 0) {
		int r, tag;
		size_t len;
		char *m = recv_msg(MPI_ANY_SOURCE, &r, &tag, &len);
		if (!m && tag != TAG_REQ)
			store_failed(M, al_err(AL_ENOMEM, "sweep: out of memory"));
		if (tag == TAG_REQ) {
			if (!hand_out(M, r)) {
				MPI_Send(NULL, 0, MPI_BYTE, r, TAG_STOP, MPI_COMM_WORLD);
				active--;
			}
		} else if (tag == TAG_EPOCH) {
			on_epoch_row(M, r, m ? m : "", m ? len : 0);
		} else if (tag == TAG_DONE) {
			on_done(M, r, m ? m : "", m ? len : 0);
		}
		free(m);
	}
	if (M->store_st != AL_OK)
		return al_err(M->store_st, "%s", M->store_msg);
	return AL_OK;
}

al_status al_dist_sweep(const char *file, const char *const *overrides, int noverrides,
			const char *store_path, const al_sweep_opts *oin, al_sweep_summary *sum)
{
	memset(sum, 0, sizeof *sum);
	al_sweep_opts o = oin ? *oin : al_sweep_opts_default();
	int rank = dist_rank(), size = dist_size();
	int threads = o.threads > 0 ? o.threads : al_dist_cores_per_rank();
	if (size < 2)
		return al_err(AL_EINVAL, "distributed sweep: needs at least 2 ranks (got %d)", size);
	if (rank != 0) {
		o.on_line = NULL;
		/* did rank 0 get the sweep going? */
		al_status st = dist_agree(AL_OK);
		if (st != AL_OK)
			return st;
		return worker(threads);
	}
	al_store *s = NULL;
	al_sweep *sw = NULL;
	master M;
	memset(&M, 0, sizeof M);
	al_status st = al_sweep_load(file, overrides, noverrides, &sw);
	if (st == AL_OK)
		st = al_store_open(store_path, &s);
	if (st == AL_OK)
		st = al_store_add_sweep(s, sw);
	if (st == AL_OK) {
		M.ids = malloc((size_t)sw->nruns * sizeof *M.ids + 1);
		M.cur = malloc((size_t)size * sizeof *M.cur);
		M.t0 = calloc((size_t)size, sizeof *M.t0);
		M.epmsg = calloc((size_t)size, sizeof *M.epmsg);
		if (!M.ids || !M.cur || !M.t0 || !M.epmsg)
			st = al_err(AL_ENOMEM, "sweep: out of memory");
	}
	if (st == AL_OK)
		st = sw_run_ids(s, sw, M.ids);
	st = dist_agree(st);
	if (st == AL_OK) {
		for (int r = 0; r < size; r++)
			M.cur[r] = -1;
		M.s = s;
		M.sw = sw;
		M.o = &o;
		M.sum = sum;
		sw_runs_dir(s, o.runs_dir, M.rd, sizeof M.rd);
		sw_emit(&o, "sweep %s: %d runs, store %s, %d worker ranks x %d threads", sw->name,
			sw->nruns, store_path, size - 1, threads);
		st = serve(&M, size);
	}
	if (st == AL_OK) {
		al_sweep_progress pr;
		st = al_sweep_progress_of(s, sw, &pr);
		if (st == AL_OK && pr.done < pr.total)
			st = al_err(AL_ESTATE,
				    "sweep %s: %d of %d runs done, %d failed, %d running elsewhere",
				    sw->name, pr.done, pr.total, pr.failed, pr.running);
	}
	free(M.ids);
	free(M.cur);
	free(M.t0);
	free(M.epmsg);
	al_sweep_free(sw);
	al_store_close(s);
	return st;
}
