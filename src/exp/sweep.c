/* sweep.c — running a sweep: each unfinished run is claimed in the store,
 * trained through al_train_run into its own folder
 * (<runs>/<sweep>/<key>/), and ingested when it ends. A run interrupted
 * before (its folder holds a checkpoint) resumes from the checkpoint, with
 * its logs cut back to the checkpoint's epoch, so every epoch is counted
 * once. With jobs > 1 each run is a separate process (the actlab binary,
 * `sweep --exec-run ID`) with cores/jobs threads.
 * Not for: parsing experiment files (sweep_file.c), SQL (store.c).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exp/store_int.h"
#include "exp/trainer_int.h"

extern char **environ;

al_sweep_opts al_sweep_opts_default(void)
{
	al_sweep_opts o;
	memset(&o, 0, sizeof o);
	o.jobs = 1;
	return o;
}

void sw_emit(const al_sweep_opts *o, const char *fmt, ...)
{
	if (!o->on_line)
		return;
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	o->on_line(o->user, buf);
}

void sw_runs_dir(const al_store *s, const char *runs_dir, char *buf, size_t cap)
{
	if (runs_dir && *runs_dir) {
		snprintf(buf, cap, "%s", runs_dir);
		return;
	}
	const char *slash = strrchr(s->path, '/');
	if (slash)
		snprintf(buf, cap, "%.*s/runs", (int)(slash - s->path), s->path);
	else
		snprintf(buf, cap, "runs");
}

void sw_run_dir(const char *runs_dir, const char *sweep, const char *key, char *buf, size_t cap)
{
	char safe[160];
	size_t i = 0;
	for (; sweep[i] && i < sizeof safe - 1; i++) {
		char c = sweep[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			 c == '-' || c == '_' || c == '.';
		safe[i] = ok ? c : '_';
	}
	safe[i] = 0;
	if (!strcmp(safe, ".") || !strcmp(safe, ".."))
		safe[0] = '_';
	snprintf(buf, cap, "%s/%s/%s", runs_dir, safe, key);
}

/* Keeps the header and the rows whose first field (epoch) is <= upto. */
static al_status cut_log(const char *path, int upto)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return AL_OK;
	char tmp[1300];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *g = fopen(tmp, "w");
	if (!g) {
		fclose(f);
		return al_err(AL_EIO, "%s: cannot write", tmp);
	}
	char line[4096];
	int first = 1;
	while (fgets(line, sizeof line, f)) {
		if (first || atoi(line) <= upto)
			fputs(line, g);
		first = 0;
	}
	fclose(f);
	if (fclose(g) != 0 || rename(tmp, path) != 0)
		return al_err(AL_EIO, "%s: cannot rewrite", path);
	return AL_OK;
}

typedef struct {
	al_store *s;
	int64_t run;
	al_status st;
	char msg[512];
	const al_sweep_opts *o;
	const al_train_config *c;
} epoch_ctx;

static int on_epoch(void *user, const al_epoch_stats *e)
{
	epoch_ctx *c = user;
	if (c->o && c->o->on_line)
		sw_emit(c->o, "    run %lld (%s seed %llu): epoch %d/%d  train loss %.4f  test acc %.4f  "
			   "(%.1fs)",
		     (long long)c->run, c->c->act, (unsigned long long)c->c->seed, e->epoch,
		     c->c->epochs, e->train_loss, e->test_acc, e->seconds);
	al_status st = st_epoch(c->s, c->run, e);
	if (st != AL_OK) {
		c->st = st;
		snprintf(c->msg, sizeof c->msg, "%s", al_errmsg());
		return 1; /* stop: the run was taken over, or the store is unwritable */
	}
	return 0;
}

int sw_resume_epoch(const char *dir)
{
	char ckpath[1500];
	snprintf(ckpath, sizeof ckpath, "%s/ckpt.bin", dir);
	int resume_epoch = 0;
	al_checkpoint ck;
	if (access(ckpath, F_OK) == 0) {
		if (al_checkpoint_load(ckpath, &ck) == AL_OK) {
			resume_epoch = ck.epoch;
			al_checkpoint_free(&ck);
		} else {
			remove(ckpath); /* unreadable: start over */
		}
		al_err_clear();
	}
	return resume_epoch;
}

al_status sw_train_dir(const char *config, const char *dir, int threads, al_epoch_cb cb,
		       void *user, int *stopped, al_train_config *cfg, size_t *params)
{
	*params = 0;
	*stopped = 0;
	int resume_epoch = sw_resume_epoch(dir);
	char ckpath[1500];
	snprintf(ckpath, sizeof ckpath, "%s/ckpt.bin", dir);
	al_train_config c;
	al_status st = al_train_config_from_text(config, &c);
	if (st != AL_OK)
		return al_err(st, "stored configuration: %s", al_errmsg());
	snprintf(c.out, sizeof c.out, "%s", dir);
	if (threads > 0)
		c.threads = threads;
	if (cfg)
		*cfg = c;
	char p1[1500], p2[1500];
	snprintf(p1, sizeof p1, "%s/log.csv", dir);
	snprintf(p2, sizeof p2, "%s/act_params.csv", dir);
	if (resume_epoch > 0) {
		st = cut_log(p1, resume_epoch);
		if (st == AL_OK)
			st = cut_log(p2, resume_epoch);
	}
	al_train_hooks hk = {0};
	hk.resume = resume_epoch > 0 ? ckpath : NULL;
	hk.on_epoch = cb;
	hk.user = user;
	al_train_result r;
	memset(&r, 0, sizeof r);
	if (st == AL_OK)
		st = al_train_run(&c, &hk, &r);
	if (st == AL_OK && r.epochs_done + resume_epoch < c.epochs) {
		*stopped = 1;
		st = al_err(AL_ESTATE, "run stopped after %d of %d epochs",
			    r.epochs_done + resume_epoch, c.epochs);
	}
	*params = r.params;
	al_train_result_free(&r);
	return st;
}

al_status al_sweep_run_one(al_store *s, int64_t run_id, const al_sweep_opts *oin, int *claimed)
{
	*claimed = 0;
	al_sweep_opts o = oin ? *oin : al_sweep_opts_default();
	char *config = NULL, sweep[256], key[64], status[32], rd[1024], dir[1400];
	AL_TRY(st_run_info(s, run_id, &config, sweep, sizeof sweep, key, sizeof key, status,
			   sizeof status));
	if (!strcmp(status, "done")) {
		free(config);
		return AL_OK;
	}
	if (!strncmp(config, "trainer=", 8)) {
		al_status ts = xt_run_one(s, run_id, config, &o, claimed);
		free(config);
		return ts;
	}
	sw_runs_dir(s, o.runs_dir, rd, sizeof rd);
	sw_run_dir(rd, sweep, key, dir, sizeof dir);
	int resume_epoch = sw_resume_epoch(dir);
	al_status st = st_claim(s, run_id, o.retry_failed, resume_epoch > 0, claimed);
	if (st != AL_OK || !*claimed) {
		free(config);
		return st;
	}
	al_train_config c; /* for progress lines: filled before the first epoch */
	memset(&c, 0, sizeof c);
	epoch_ctx ctx = {s, run_id, AL_OK, "", &o, &c};
	size_t params = 0;
	int stopped = 0;
	st = sw_train_dir(config, dir, o.threads, on_epoch, &ctx, &stopped, &c, &params);
	free(config);
	if (ctx.st != AL_OK && (st == AL_OK || stopped))
		st = al_err(ctx.st, "%s", ctx.msg);
	if (st == AL_OK) {
		st = st_finish(s, run_id, dir, params);
	} else {
		char msg[1024];
		snprintf(msg, sizeof msg, "%s", al_errmsg());
		st_failed(s, run_id, msg);
		al_err(st, "%s", msg);
	}
	return st;
}

/* ---- the whole sweep ----------------------------------------------------------- */
typedef struct {
	int64_t id;
	int idx;
} job;

al_status sw_run_ids(al_store *s, const al_sweep *sw, int64_t *ids)
{
	sqlite3_stmt *q;
	AL_TRY(st_prepare(s, "SELECT id FROM runs WHERE sweep=? AND key=?", &q));
	al_status st = AL_OK;
	for (int i = 0; i < sw->nruns && st == AL_OK; i++) {
		sqlite3_reset(q);
		sqlite3_bind_text(q, 1, sw->name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(q, 2, sw->runs[i].key, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(q) == SQLITE_ROW)
			ids[i] = sqlite3_column_int64(q, 0);
		else
			st = al_err(AL_ESTATE, "store %s: run %s of sweep %s is not registered",
				    s->path, sw->runs[i].key, sw->name);
	}
	sqlite3_finalize(q);
	return st;
}

al_status al_sweep_progress_of(al_store *s, const al_sweep *sw, al_sweep_progress *out)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *q;
	AL_TRY(st_prepare(s,
			  "SELECT status, owner, heartbeat, (SELECT COUNT(*) FROM epochs WHERE"
			  " run=runs.id) FROM runs WHERE sweep=? AND key=?",
			  &q));
	for (int i = 0; i < sw->nruns; i++) {
		sqlite3_reset(q);
		sqlite3_bind_text(q, 1, sw->name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(q, 2, sw->runs[i].key, -1, SQLITE_TRANSIENT);
		out->total++;
		out->epochs_total += sw->runs[i].config.epochs;
		if (sqlite3_step(q) != SQLITE_ROW) {
			out->pending++;
			continue;
		}
		out->epochs_done += sqlite3_column_int(q, 3);
		const char *stt = (const char *)sqlite3_column_text(q, 0);
		if (!strcmp(stt, "done"))
			out->done++;
		else if (!strcmp(stt, "failed"))
			out->failed++;
		else if (!strcmp(stt, "running") &&
			 st_owner_alive((const char *)sqlite3_column_text(q, 1),
					sqlite3_column_double(q, 2)))
			out->running++;
		else
			out->pending++;
	}
	sqlite3_finalize(q);
	return AL_OK;
}

/* status and last test accuracy of a run, for progress lines */
void sw_run_state(al_store *s, int64_t id, char *status, size_t cap, double *acc, char *err,
		      size_t ecap)
{
	sqlite3_stmt *q;
	snprintf(status, cap, "?");
	*acc = -1;
	err[0] = 0;
	if (st_prepare(s,
		       "SELECT status, error, (SELECT test_acc FROM epochs WHERE run=runs.id ORDER BY"
		       " epoch DESC LIMIT 1) FROM runs WHERE id=?",
		       &q) != AL_OK)
		return;
	sqlite3_bind_int64(q, 1, id);
	if (sqlite3_step(q) == SQLITE_ROW) {
		snprintf(status, cap, "%s", (const char *)sqlite3_column_text(q, 0));
		const char *e = (const char *)sqlite3_column_text(q, 1);
		snprintf(err, ecap, "%s", e ? e : "");
		if (sqlite3_column_type(q, 2) != SQLITE_NULL)
			*acc = sqlite3_column_double(q, 2);
	}
	sqlite3_finalize(q);
}

void sw_describe(const al_sweep_run *r, char *buf, size_t cap)
{
	if (r->kfold)
		snprintf(buf, cap, "%s%s%s seed %llu fold %d/%d", strcmp(r->group, "sweep") ? r->group : "",
			 strcmp(r->group, "sweep") ? ": " : "", r->act,
			 (unsigned long long)r->config.seed, r->fold + 1, r->kfold);
	else
		snprintf(buf, cap, "%s%s%s seed %llu", strcmp(r->group, "sweep") ? r->group : "",
			 strcmp(r->group, "sweep") ? ": " : "", r->act,
			 (unsigned long long)r->config.seed);
}

void sw_report_end(al_store *s, const al_sweep *sw, const al_sweep_opts *o, int i, int64_t id,
		       int n, al_sweep_summary *sum, double secs)
{
	char status[32], err[512], d[400];
	double acc;
	sw_run_state(s, id, status, sizeof status, &acc, err, sizeof err);
	sw_describe(&sw->runs[i], d, sizeof d);
	if (!strcmp(status, "done")) {
		sum->finished++;
		sw_emit(o, "[%d/%d] %s: done, test acc %.4f (%.1fs)", i + 1, n, d, acc, secs);
	} else if (!strcmp(status, "failed")) {
		sum->failed++;
		sw_emit(o, "[%d/%d] %s: failed: %s", i + 1, n, d, err);
	} else {
		sum->skipped++;
		sw_emit(o, "[%d/%d] %s: %s (owned by another process)", i + 1, n, d, status);
	}
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

al_status al_sweep_execute(al_store *s, const al_sweep *sw, const al_sweep_opts *oin,
			   al_sweep_summary *sum)
{
	memset(sum, 0, sizeof *sum);
	al_sweep_opts o = oin ? *oin : al_sweep_opts_default();
	if (o.jobs < 1)
		return al_err(AL_EINVAL, "sweep: jobs must be >= 1 (got %d)", o.jobs);
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	if (cores < 1)
		cores = 1;
	int threads = o.threads > 0 ? o.threads : (int)(cores / o.jobs > 0 ? cores / o.jobs : 1);
	char rd[1024];
	sw_runs_dir(s, o.runs_dir, rd, sizeof rd);
	int64_t *ids = malloc((size_t)sw->nruns * sizeof *ids);
	if (!ids)
		return al_err(AL_ENOMEM, "out of memory");
	al_status st = sw_run_ids(s, sw, ids);
	int n = sw->nruns;
	if (st == AL_OK && o.jobs == 1) {
		for (int i = 0; i < n; i++) {
			char status[32], err[512], d[400];
			double acc;
			sw_run_state(s, ids[i], status, sizeof status, &acc, err, sizeof err);
			if (!strcmp(status, "done") || (!strcmp(status, "failed") && !o.retry_failed)) {
				sum->skipped++;
				continue;
			}
			sw_describe(&sw->runs[i], d, sizeof d);
			sw_emit(&o, "[%d/%d] %s: running (%d threads)", i + 1, n, d, threads);
			double t0 = mono();
			int claimed = 0;
			al_sweep_opts one = o;
			one.threads = threads;
			one.runs_dir = rd;
			al_status rs = al_sweep_run_one(s, ids[i], &one, &claimed);
			if (rs == AL_OK && !claimed) {
				sum->skipped++;
				sw_emit(&o, "[%d/%d] %s: skipped (owned by another live process)", i + 1, n, d);
				continue;
			}
			sum->started++;
			sw_report_end(s, sw, &o, i, ids[i], n, sum, mono() - t0);
		}
	} else if (st == AL_OK) {
		if (!o.exe || !*o.exe) {
			free(ids);
			return al_err(AL_EINVAL, "sweep: jobs > 1 needs the actlab binary path");
		}
		pid_t *pids = calloc((size_t)o.jobs, sizeof *pids);
		int *slot_run = calloc((size_t)o.jobs, sizeof *slot_run);
		double *slot_t0 = calloc((size_t)o.jobs, sizeof *slot_t0);
		if (!pids || !slot_run || !slot_t0) {
			free(pids);
			free(slot_run);
			free(slot_t0);
			free(ids);
			return al_err(AL_ENOMEM, "out of memory");
		}
		int next = 0, active = 0;
		while (st == AL_OK && (next < n || active > 0)) {
			/* fill free slots */
			for (int j = 0; j < o.jobs && next < n; j++) {
				if (pids[j])
					continue;
				char status[32], err[512], d[400];
				double acc;
				int i = next++;
				sw_run_state(s, ids[i], status, sizeof status, &acc, err, sizeof err);
				if (!strcmp(status, "done") ||
				    (!strcmp(status, "failed") && !o.retry_failed)) {
					sum->skipped++;
					j--; /* try this slot again with the next run */
					continue;
				}
				char idtxt[32], thr[16];
				snprintf(idtxt, sizeof idtxt, "%lld", (long long)ids[i]);
				snprintf(thr, sizeof thr, "%d", threads);
				char *argv[16];
				int a = 0;
				argv[a++] = (char *)o.exe;
				argv[a++] = "sweep";
				argv[a++] = "--exec-run";
				argv[a++] = idtxt;
				argv[a++] = "--store";
				argv[a++] = s->path;
				argv[a++] = "--threads";
				argv[a++] = thr;
				argv[a++] = "--runs-dir";
				argv[a++] = rd;
				if (o.retry_failed)
					argv[a++] = "--retry-failed";
				argv[a] = NULL;
				sw_describe(&sw->runs[i], d, sizeof d);
				pid_t pid;
				int rc = posix_spawn(&pid, o.exe, NULL, NULL, argv, environ);
				if (rc != 0) {
					st = al_err(AL_EIO, "sweep: cannot start %s: %s", o.exe, strerror(rc));
					break;
				}
				sw_emit(&o, "[%d/%d] %s: running in process %ld (%d threads)", i + 1, n, d,
				     (long)pid, threads);
				pids[j] = pid;
				slot_run[j] = i;
				slot_t0[j] = mono();
				active++;
				sum->started++;
			}
			/* reap */
			int reaped = 0;
			for (int j = 0; j < o.jobs; j++) {
				if (!pids[j])
					continue;
				int ws;
				pid_t r = waitpid(pids[j], &ws, WNOHANG);
				if (r == pids[j] || (r < 0 && errno == ECHILD)) {
					pids[j] = 0;
					active--;
					reaped = 1;
					sw_report_end(s, sw, &o, slot_run[j], ids[slot_run[j]], n, sum,
						   mono() - slot_t0[j]);
				}
			}
			if (!reaped && active > 0) {
				struct timespec ts = {0, 50 * 1000 * 1000};
				nanosleep(&ts, NULL);
			}
		}
		/* on error, wait for the children already started */
		for (int j = 0; j < o.jobs; j++)
			if (pids[j]) {
				int ws;
				waitpid(pids[j], &ws, 0);
			}
		free(pids);
		free(slot_run);
		free(slot_t0);
	}
	free(ids);
	if (st != AL_OK)
		return st;
	al_sweep_progress pr;
	AL_TRY(al_sweep_progress_of(s, sw, &pr));
	if (pr.done < pr.total)
		return al_err(AL_ESTATE, "sweep %s: %d of %d runs done, %d failed, %d running elsewhere",
			      sw->name, pr.done, pr.total, pr.failed, pr.running);
	return AL_OK;
}
