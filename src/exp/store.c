/* store.c — the SQLite results store: schema (versioned with
 * PRAGMA user_version), runs and their ownership (claims by "host:pid"
 * with a heartbeat, so an interrupted run can be taken over and a live one
 * is never run twice), per-epoch rows, and the ingestion of a finished run
 * folder (log.csv, act_params.csv aggregated per layer, learned activation
 * shapes sampled from the checkpoint) in one transaction.
 *
 * Every statement binds user values as parameters; WAL journal and a busy
 * timeout make concurrent sweeps on one store safe.
 * Not for: deciding what to run (sweep.c) or statistics (stats.c, report.c).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "actlab/act.h"
#include "actlab/nn.h"
#include "exp/store_int.h"
#include "exp/trainer_int.h"

#define BUSY_MS 60000
#define STALE_SECONDS 900.0 /* a foreign host's run is orphaned after this */
#define SHAPE_POINTS 161
#define SHAPE_MAX_GROUPS 256

static double wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

al_status st_fail(al_store *s, const char *what)
{
	return al_err(AL_EIO, "store %s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

al_status st_prepare(al_store *s, const char *sql, sqlite3_stmt **out)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, out, NULL) != SQLITE_OK)
		return st_fail(s, "prepare");
	return AL_OK;
}

al_status st_exec(al_store *s, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		al_status st = al_err(AL_EIO, "store %s: %s", s->path, msg ? msg : "error");
		sqlite3_free(msg);
		return st;
	}
	return AL_OK;
}

al_status st_begin(al_store *s) { return st_exec(s, "BEGIN IMMEDIATE"); }
al_status st_commit(al_store *s) { return st_exec(s, "COMMIT"); }
void st_rollback(al_store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Start time of a process in clock ticks since boot (/proc/PID/stat field
 * 22), or 0 when unknown or the process has ended (zombie): with the pid it names a process uniquely, so a
 * reused pid is not mistaken for the owner of an interrupted run. */
static unsigned long long proc_start(long pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')'); /* the command name may contain spaces */
	if (!p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
		return 0; /* a zombie owns nothing: it has ended, only not been reaped */
	unsigned long long v = 0;
	int field = 2;
	for (char *t = p + 1; *t && field < 22; t++)
		if (*t == ' ') {
			field++;
			if (field == 22)
				v = strtoull(t + 1, NULL, 10);
		}
	return v;
}

void st_owner(char *buf, size_t cap)
{
	char host[128] = "localhost";
	gethostname(host, sizeof host - 1);
	host[sizeof host - 1] = 0;
	long pid = (long)getpid();
	snprintf(buf, cap, "%s:%ld:%llu", host, pid, proc_start(pid));
}

int st_owner_alive(const char *owner, double heartbeat)
{
	if (!owner || !*owner)
		return 0;
	char me[160];
	st_owner(me, sizeof me);
	/* owner = host:pid:start */
	const char *c2 = strrchr(owner, ':');
	if (!c2 || c2 == owner)
		return 0;
	const char *c1 = c2 - 1;
	while (c1 > owner && *c1 != ':')
		c1--;
	if (*c1 != ':')
		return 0;
	size_t hl = (size_t)(c1 - owner);
	const char *m1 = strchr(me, ':');
	if ((size_t)(m1 - me) == hl && !strncmp(owner, me, hl)) {
		long pid = strtol(c1 + 1, NULL, 10);
		unsigned long long start = strtoull(c2 + 1, NULL, 10);
		if (pid <= 0)
			return 0;
		if (!(kill((pid_t)pid, 0) == 0 || errno == EPERM))
			return 0;
		return start == 0 || proc_start(pid) == start;
	}
	return wall_now() - heartbeat < STALE_SECONDS;
}

static const char *schema_sql =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);"
	"CREATE TABLE IF NOT EXISTS sweeps(name TEXT PRIMARY KEY, description TEXT, file TEXT,"
	"  created REAL);"
	"CREATE TABLE IF NOT EXISTS runs(id INTEGER PRIMARY KEY, sweep TEXT NOT NULL,"
	"  key TEXT NOT NULL, grp TEXT, act TEXT, act_canon TEXT, model TEXT, data TEXT,"
	"  seed INTEGER, kfold INTEGER, fold INTEGER, epochs INTEGER, cell TEXT, config TEXT,"
	"  status TEXT NOT NULL DEFAULT 'pending', owner TEXT, heartbeat REAL, attempts INTEGER"
	"  NOT NULL DEFAULT 0, params INTEGER, started REAL, finished REAL, seconds REAL,"
	"  epoch_seconds REAL, img_per_s REAL, dir TEXT, error TEXT, UNIQUE(sweep, key));"
	"CREATE INDEX IF NOT EXISTS runs_sweep ON runs(sweep, status);"
	"CREATE TABLE IF NOT EXISTS epochs(run INTEGER NOT NULL REFERENCES runs(id),"
	"  epoch INTEGER NOT NULL, train_loss REAL, train_acc REAL, val_loss REAL, val_acc REAL,"
	"  test_loss REAL, test_acc REAL, macro_precision REAL, lr REAL, seconds REAL,"
	"  img_per_s REAL, PRIMARY KEY(run, epoch));"
	"CREATE TABLE IF NOT EXISTS act_params(run INTEGER NOT NULL REFERENCES runs(id),"
	"  epoch INTEGER NOT NULL, layer TEXT NOT NULL, act TEXT, param TEXT NOT NULL,"
	"  groups INTEGER, mean REAL, std REAL, min REAL, max REAL,"
	"  PRIMARY KEY(run, epoch, layer, param));"
	"CREATE TABLE IF NOT EXISTS shapes(run INTEGER NOT NULL REFERENCES runs(id),"
	"  layer TEXT NOT NULL, act TEXT, idx INTEGER NOT NULL, x REAL, y REAL,"
	"  PRIMARY KEY(run, layer, idx));"
	"CREATE TABLE IF NOT EXISTS events(id INTEGER PRIMARY KEY, run INTEGER, kind TEXT,"
	"  time REAL, owner TEXT, detail TEXT);";

static al_status mkdirs_for(const char *path)
{
	char tmp[1024];
	snprintf(tmp, sizeof tmp, "%s", path);
	char *slash = strrchr(tmp, '/');
	if (!slash)
		return AL_OK;
	*slash = 0;
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			mkdir(tmp, 0755);
			*p = '/';
		}
	if (tmp[0] && mkdir(tmp, 0755) != 0 && errno != EEXIST)
		return al_err(AL_EIO, "cannot create folder '%s' for the store", tmp);
	return AL_OK;
}

al_status al_store_open(const char *path, al_store **out)
{
	*out = NULL;
	if (!path || !*path)
		path = AL_STORE_DEFAULT;
	AL_TRY(mkdirs_for(path));
	al_store *s = calloc(1, sizeof *s);
	if (!s)
		return al_err(AL_ENOMEM, "out of memory");
	snprintf(s->path, sizeof s->path, "%s", path);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		al_status st = al_err(AL_EIO, "store %s: cannot open: %s", path,
				      s->db ? sqlite3_errmsg(s->db) : "out of memory");
		sqlite3_close(s->db);
		free(s);
		return st;
	}
	sqlite3_busy_timeout(s->db, BUSY_MS);
	al_status st = st_exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
	int version = 0;
	if (st == AL_OK) {
		sqlite3_stmt *q;
		st = st_prepare(s, "PRAGMA user_version", &q);
		if (st == AL_OK) {
			if (sqlite3_step(q) == SQLITE_ROW)
				version = sqlite3_column_int(q, 0);
			else
				st = st_fail(s, "reading the schema version (is it an SQLite file?)");
			sqlite3_finalize(q);
		}
	}
	if (st == AL_OK && version > AL_STORE_SCHEMA)
		st = al_err(AL_EFORMAT,
			    "store %s has schema version %d; this actlab reads up to %d (upgrade "
			    "actlab)",
			    path, version, AL_STORE_SCHEMA);
	if (st == AL_OK && version < AL_STORE_SCHEMA) {
		st = st_begin(s);
		if (st == AL_OK)
			st = st_exec(s, schema_sql);
		if (st == AL_OK) {
			char sql[64];
			snprintf(sql, sizeof sql, "PRAGMA user_version=%d", AL_STORE_SCHEMA);
			st = st_exec(s, sql);
		}
		if (st == AL_OK)
			st = st_commit(s);
		else
			st_rollback(s);
	}
	if (st != AL_OK) {
		sqlite3_close(s->db);
		free(s);
		return st;
	}
	*out = s;
	return AL_OK;
}

void al_store_close(al_store *s)
{
	if (!s)
		return;
	sqlite3_close(s->db);
	free(s);
}

const char *al_store_path(const al_store *s) { return s->path; }

al_status al_store_add_sweep(al_store *s, const al_sweep *sw)
{
	AL_TRY(st_begin(s));
	sqlite3_stmt *q = NULL, *r = NULL;
	al_status st = st_prepare(s,
				  "INSERT INTO sweeps(name, description, file, created) VALUES(?,?,?,?)"
				  " ON CONFLICT(name) DO UPDATE SET description=excluded.description,"
				  " file=excluded.file",
				  &q);
	if (st == AL_OK) {
		sqlite3_bind_text(q, 1, sw->name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(q, 2, sw->description, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(q, 3, sw->file, -1, SQLITE_TRANSIENT);
		sqlite3_bind_double(q, 4, wall_now());
		if (sqlite3_step(q) != SQLITE_DONE)
			st = st_fail(s, "adding the sweep");
	}
	if (st == AL_OK) {
		/* the report's default baseline for this sweep (meta: baseline:NAME) */
		sqlite3_stmt *m = NULL;
		char key[160];
		snprintf(key, sizeof key, "baseline:%s", sw->name);
		st = st_prepare(s,
				sw->baseline[0] ? "INSERT OR REPLACE INTO meta(key, value) VALUES(?,?)"
						: "DELETE FROM meta WHERE key=?",
				&m);
		if (st == AL_OK) {
			sqlite3_bind_text(m, 1, key, -1, SQLITE_TRANSIENT);
			if (sw->baseline[0])
				sqlite3_bind_text(m, 2, sw->baseline, -1, SQLITE_TRANSIENT);
			if (sqlite3_step(m) != SQLITE_DONE)
				st = st_fail(s, "recording the sweep's baseline");
			sqlite3_finalize(m);
		}
	}
	if (st == AL_OK)
		st = st_prepare(s,
				"INSERT OR IGNORE INTO runs(sweep, key, grp, act, act_canon, model, data,"
				" seed, kfold, fold, epochs, cell, config) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
				&r);
	for (int i = 0; st == AL_OK && i < sw->nruns; i++) {
		const al_sweep_run *u = &sw->runs[i];
		char text[8192], model[256];
		al_train_config c = u->config;
		c.out[0] = 0;
		al_act_spec spec;
		const char *canon;
		if (xt_is_trainer(u->trainer)) {
			xt_to_text(u, c.threads, text, sizeof text);
			xt_model_name(&u->adact, model, sizeof model);
			canon = u->act;
		} else {
			al_train_config_to_text(&c, text, sizeof text);
			snprintf(model, sizeof model, "%s", u->config.model);
			canon = al_act_parse(u->act, &spec) == AL_OK ? spec.text : u->act;
		}
		sqlite3_reset(r);
		sqlite3_bind_text(r, 1, sw->name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(r, 2, u->key, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(r, 3, u->group, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(r, 4, u->act, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(r, 5, canon, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(r, 6, model, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(r, 7, u->config.data, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(r, 8, (sqlite3_int64)u->config.seed);
		sqlite3_bind_int(r, 9, u->kfold);
		sqlite3_bind_int(r, 10, u->fold);
		sqlite3_bind_int(r, 11, u->config.epochs);
		sqlite3_bind_text(r, 12, u->cell, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(r, 13, text, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(r) != SQLITE_DONE)
			st = st_fail(s, "adding a run");
	}
	sqlite3_finalize(q);
	sqlite3_finalize(r);
	if (st == AL_OK)
		return st_commit(s);
	st_rollback(s);
	return st;
}

al_status al_store_progress(al_store *s, const char *sweep, al_sweep_progress *out)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *q;
	AL_TRY(st_prepare(s, "SELECT status, owner, heartbeat FROM runs WHERE sweep = ?", &q));
	sqlite3_bind_text(q, 1, sweep, -1, SQLITE_TRANSIENT);
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *stt = (const char *)sqlite3_column_text(q, 0);
		out->total++;
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
	if (rc != SQLITE_DONE)
		return st_fail(s, "reading progress");
	return AL_OK;
}

al_status al_store_sweeps(al_store *s, char ***names, int *n)
{
	*names = NULL;
	*n = 0;
	sqlite3_stmt *q;
	AL_TRY(st_prepare(s, "SELECT name FROM sweeps ORDER BY created, name", &q));
	int cap = 0, rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			char **nn = realloc(*names, (size_t)cap * sizeof *nn);
			if (!nn) {
				sqlite3_finalize(q);
				return al_err(AL_ENOMEM, "out of memory");
			}
			*names = nn;
		}
		const char *t = (const char *)sqlite3_column_text(q, 0);
		(*names)[*n] = strdup(t ? t : "");
		(*n)++;
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? AL_OK : st_fail(s, "listing sweeps");
}

void al_store_free_names(char **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static al_status event(al_store *s, int64_t run, const char *kind, const char *detail)
{
	char owner[160];
	st_owner(owner, sizeof owner);
	sqlite3_stmt *q;
	AL_TRY(st_prepare(s, "INSERT INTO events(run, kind, time, owner, detail) VALUES(?,?,?,?,?)",
			  &q));
	sqlite3_bind_int64(q, 1, run);
	sqlite3_bind_text(q, 2, kind, -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(q, 3, wall_now());
	sqlite3_bind_text(q, 4, owner, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 5, detail ? detail : "", -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(q);
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? AL_OK : st_fail(s, "recording an event");
}

al_status st_claim(al_store *s, int64_t run, int retry_failed, int resuming, int *claimed)
{
	*claimed = 0;
	AL_TRY(st_begin(s));
	sqlite3_stmt *q;
	al_status st = st_prepare(s, "SELECT status, owner, heartbeat FROM runs WHERE id = ?", &q);
	int ok = 0;
	if (st == AL_OK) {
		sqlite3_bind_int64(q, 1, run);
		if (sqlite3_step(q) == SQLITE_ROW) {
			const char *stt = (const char *)sqlite3_column_text(q, 0);
			const char *own = (const char *)sqlite3_column_text(q, 1);
			double hb = sqlite3_column_double(q, 2);
			if (!strcmp(stt, "pending"))
				ok = 1;
			else if (!strcmp(stt, "failed"))
				ok = retry_failed;
			else if (!strcmp(stt, "running"))
				ok = !st_owner_alive(own, hb);
		} else {
			st = al_err(AL_EINVAL, "store %s: no run with id %lld", s->path,
				    (long long)run);
		}
		sqlite3_finalize(q);
	}
	if (st == AL_OK && ok) {
		char owner[160];
		st_owner(owner, sizeof owner);
		st = st_prepare(s,
				"UPDATE runs SET status='running', owner=?, heartbeat=?, started=?,"
				" attempts=attempts+1, error=NULL WHERE id=?",
				&q);
		if (st == AL_OK) {
			double now = wall_now();
			sqlite3_bind_text(q, 1, owner, -1, SQLITE_TRANSIENT);
			sqlite3_bind_double(q, 2, now);
			sqlite3_bind_double(q, 3, now);
			sqlite3_bind_int64(q, 4, run);
			if (sqlite3_step(q) != SQLITE_DONE)
				st = st_fail(s, "claiming a run");
			sqlite3_finalize(q);
		}
		if (st == AL_OK)
			st = event(s, run, resuming ? "resume" : "start", NULL);
	}
	if (st == AL_OK) {
		st = st_commit(s);
		if (st == AL_OK)
			*claimed = ok;
	} else {
		st_rollback(s);
	}
	return st;
}

/* Binds the owner check "WHERE id=? AND owner=? AND status='running'". */
static al_status owned(al_store *s, int64_t run, int *yes)
{
	char owner[160];
	st_owner(owner, sizeof owner);
	sqlite3_stmt *q;
	AL_TRY(st_prepare(s, "SELECT 1 FROM runs WHERE id=? AND owner=? AND status='running'", &q));
	sqlite3_bind_int64(q, 1, run);
	sqlite3_bind_text(q, 2, owner, -1, SQLITE_TRANSIENT);
	*yes = sqlite3_step(q) == SQLITE_ROW;
	sqlite3_finalize(q);
	return AL_OK;
}

static void bind_epoch(sqlite3_stmt *q, int64_t run, const al_epoch_stats *e)
{
	sqlite3_bind_int64(q, 1, run);
	sqlite3_bind_int(q, 2, e->epoch);
	sqlite3_bind_double(q, 3, e->train_loss);
	sqlite3_bind_double(q, 4, e->train_acc);
	sqlite3_bind_double(q, 5, e->val_loss);
	sqlite3_bind_double(q, 6, e->val_acc);
	sqlite3_bind_double(q, 7, e->test_loss);
	sqlite3_bind_double(q, 8, e->test_acc);
	sqlite3_bind_double(q, 9, e->macro_precision);
	sqlite3_bind_double(q, 10, e->lr);
	sqlite3_bind_double(q, 11, e->seconds);
	sqlite3_bind_double(q, 12, e->img_per_s);
}

static const char *epoch_sql =
	"INSERT OR REPLACE INTO epochs(run, epoch, train_loss, train_acc, val_loss, val_acc,"
	" test_loss, test_acc, macro_precision, lr, seconds, img_per_s)"
	" VALUES(?,?,?,?,?,?,?,?,?,?,?,?)";

al_status st_epoch(al_store *s, int64_t run, const al_epoch_stats *e)
{
	AL_TRY(st_begin(s));
	int yes = 0;
	al_status st = owned(s, run, &yes);
	sqlite3_stmt *q = NULL;
	if (st == AL_OK && !yes)
		st = al_err(AL_ESTATE, "store %s: run %lld was taken over by another process",
			    s->path, (long long)run);
	if (st == AL_OK)
		st = st_prepare(s, epoch_sql, &q);
	if (st == AL_OK) {
		bind_epoch(q, run, e);
		if (sqlite3_step(q) != SQLITE_DONE)
			st = st_fail(s, "recording an epoch");
		sqlite3_finalize(q);
	}
	if (st == AL_OK)
		st = st_prepare(s, "UPDATE runs SET heartbeat=? WHERE id=?", &q);
	if (st == AL_OK) {
		sqlite3_bind_double(q, 1, wall_now());
		sqlite3_bind_int64(q, 2, run);
		if (sqlite3_step(q) != SQLITE_DONE)
			st = st_fail(s, "heartbeat");
		sqlite3_finalize(q);
	}
	if (st == AL_OK)
		return st_commit(s);
	st_rollback(s);
	return st;
}

/* ---- ingestion of a run folder ---------------------------------------------------- */
static al_status ingest_log(al_store *s, int64_t run, const char *dir, int *epochs,
			    double *ep_seconds, double *ips)
{
	char path[1200];
	snprintf(path, sizeof path, "%s/log.csv", dir);
	FILE *f = fopen(path, "r");
	if (!f)
		return al_err(AL_EIO, "%s: cannot open", path);
	sqlite3_stmt *q;
	al_status st = st_prepare(s, epoch_sql, &q);
	char line[2048];
	int lineno = 0;
	double sum_s = 0, sum_ips = 0;
	*epochs = 0;
	while (st == AL_OK && fgets(line, sizeof line, f)) {
		lineno++;
		if (lineno == 1)
			continue;
		al_epoch_stats e = {0};
		if (sscanf(line, "%d,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf", &e.epoch,
			   &e.train_loss, &e.train_acc, &e.val_loss, &e.val_acc, &e.test_loss,
			   &e.test_acc, &e.macro_precision, &e.lr, &e.seconds, &e.img_per_s) != 11) {
			st = al_err(AL_EFORMAT, "%s:%d: malformed row", path, lineno);
			break;
		}
		sqlite3_reset(q);
		bind_epoch(q, run, &e);
		if (sqlite3_step(q) != SQLITE_DONE)
			st = st_fail(s, "storing an epoch");
		(*epochs)++;
		sum_s += e.seconds;
		sum_ips += e.img_per_s;
	}
	sqlite3_finalize(q);
	fclose(f);
	*ep_seconds = *epochs ? sum_s / *epochs : 0;
	*ips = *epochs ? sum_ips / *epochs : 0;
	return st;
}

typedef struct {
	int epoch;
	char layer[64], act[64], param[48];
	double sum, sumsq, mn, mx;
	long n;
} agg;

static uint64_t agg_hash(int epoch, const char *layer, const char *param)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)epoch;
	for (const char *p = layer; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	h = (h ^ '|') * 1099511628211ull;
	for (const char *p = param; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return h;
}

static al_status ingest_params(al_store *s, int64_t run, const char *dir)
{
	char path[1200];
	snprintf(path, sizeof path, "%s/act_params.csv", dir);
	FILE *f = fopen(path, "r");
	if (!f)
		return AL_OK; /* no trainable activation parameters logged */
	size_t cap = 1024, n = 0;
	agg *a = calloc(cap, sizeof *a);
	int *slot = malloc(cap * 2 * sizeof(int));
	if (!a || !slot) {
		free(a);
		free(slot);
		fclose(f);
		return al_err(AL_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < cap * 2; i++)
		slot[i] = -1;
	char line[1024];
	int lineno = 0;
	al_status st = AL_OK;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		if (lineno == 1)
			continue;
		char layer[64], act[64], param[48];
		int epoch;
		long group;
		double v;
		if (sscanf(line, "%d,%63[^,],%63[^,],%ld,%47[^,],%lf", &epoch, layer, act, &group,
			   param, &v) != 6) {
			st = al_err(AL_EFORMAT, "%s:%d: malformed row", path, lineno);
			break;
		}
		uint64_t h = agg_hash(epoch, layer, param);
		size_t m = cap * 2, k = (size_t)(h % m);
		while (slot[k] >= 0 && !(a[slot[k]].epoch == epoch && !strcmp(a[slot[k]].layer, layer) &&
					  !strcmp(a[slot[k]].param, param)))
			k = (k + 1) % m;
		if (slot[k] < 0) {
			if (n == cap) { /* grow and rehash */
				size_t nc = cap * 2;
				agg *na = realloc(a, nc * sizeof *na);
				int *ns = malloc(nc * 2 * sizeof(int));
				if (!na || !ns) {
					free(ns);
					if (na)
						a = na;
					st = al_err(AL_ENOMEM, "out of memory");
					break;
				}
				a = na;
				free(slot);
				slot = ns;
				cap = nc;
				for (size_t i = 0; i < cap * 2; i++)
					slot[i] = -1;
				for (size_t i = 0; i < n; i++) {
					size_t kk = (size_t)(agg_hash(a[i].epoch, a[i].layer, a[i].param) %
							     (cap * 2));
					while (slot[kk] >= 0)
						kk = (kk + 1) % (cap * 2);
					slot[kk] = (int)i;
				}
				m = cap * 2;
				k = (size_t)(h % m);
				while (slot[k] >= 0)
					k = (k + 1) % m;
			}
			agg *g = &a[n];
			memset(g, 0, sizeof *g);
			g->epoch = epoch;
			snprintf(g->layer, sizeof g->layer, "%s", layer);
			snprintf(g->act, sizeof g->act, "%s", act);
			snprintf(g->param, sizeof g->param, "%s", param);
			g->mn = g->mx = v;
			slot[k] = (int)n++;
		}
		agg *g = &a[slot[k]];
		g->sum += v;
		g->sumsq += v * v;
		g->mn = v < g->mn ? v : g->mn;
		g->mx = v > g->mx ? v : g->mx;
		g->n++;
	}
	fclose(f);
	sqlite3_stmt *q = NULL;
	if (st == AL_OK)
		st = st_prepare(s,
				"INSERT OR REPLACE INTO act_params(run, epoch, layer, act, param, groups,"
				" mean, std, min, max) VALUES(?,?,?,?,?,?,?,?,?,?)",
				&q);
	for (size_t i = 0; st == AL_OK && i < n; i++) {
		agg *g = &a[i];
		double mean = g->sum / (double)g->n;
		double var = g->n > 1 ? (g->sumsq - g->sum * mean) / (double)(g->n - 1) : 0;
		sqlite3_reset(q);
		sqlite3_bind_int64(q, 1, run);
		sqlite3_bind_int(q, 2, g->epoch);
		sqlite3_bind_text(q, 3, g->layer, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(q, 4, g->act, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(q, 5, g->param, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(q, 6, g->n);
		sqlite3_bind_double(q, 7, mean);
		sqlite3_bind_double(q, 8, var > 0 ? sqrt(var) : 0);
		sqlite3_bind_double(q, 9, g->mn);
		sqlite3_bind_double(q, 10, g->mx);
		if (sqlite3_step(q) != SQLITE_DONE)
			st = st_fail(s, "storing activation parameters");
	}
	sqlite3_finalize(q);
	free(a);
	free(slot);
	return st;
}

/* Learned activation shapes: the mean over the layer's groups of f(x) on a
 * grid, from the final checkpoint (element-wise and learned-shape entries;
 * window activations are not functions of one input). */
static al_status ingest_shapes(al_store *s, int64_t run, const char *dir)
{
	char path[1200];
	snprintf(path, sizeof path, "%s/ckpt.bin", dir);
	al_checkpoint ck;
	al_status st = al_checkpoint_load(path, &ck);
	if (st != AL_OK)
		return st;
	al_model *m = NULL;
	st = al_checkpoint_model(&ck, &m);
	sqlite3_stmt *q = NULL;
	if (st == AL_OK)
		st = st_prepare(s,
				"INSERT OR REPLACE INTO shapes(run, layer, act, idx, x, y)"
				" VALUES(?,?,?,?,?,?)",
				&q);
	float x[SHAPE_POINTS], y[SHAPE_POINTS];
	double acc[SHAPE_POINTS];
	for (int i = 0; st == AL_OK && m && i < al_model_act_layers(m); i++) {
		const char *name;
		const al_act_spec *spec;
		const float *p;
		size_t groups;
		al_model_act_layer(m, i, &name, &spec, &p, &groups);
		if (spec->desc->kind == AL_ACT_WINDOW || spec->desc->stochastic)
			continue;
		al_act_spec one = *spec;
		one.per = AL_PER_LAYER;
		int P = al_act_nparams(spec);
		double lo = spec->desc->check_lo, hi = spec->desc->check_hi;
		if (!(lo < hi)) {
			lo = -4;
			hi = 4;
		}
		for (int k = 0; k < SHAPE_POINTS; k++) {
			x[k] = (float)(lo + (hi - lo) * k / (SHAPE_POINTS - 1));
			acc[k] = 0;
		}
		size_t G = groups > SHAPE_MAX_GROUPS ? SHAPE_MAX_GROUPS : groups;
		for (size_t g = 0; g < G; g++) {
			al_act_forward(&one, p + g * (size_t)P, 1, SHAPE_POINTS, 1, 1, x, y, 0, NULL);
			for (int k = 0; k < SHAPE_POINTS; k++)
				acc[k] += (double)y[k];
		}
		for (int k = 0; st == AL_OK && k < SHAPE_POINTS; k++) {
			sqlite3_reset(q);
			sqlite3_bind_int64(q, 1, run);
			sqlite3_bind_text(q, 2, name, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(q, 3, spec->desc->name, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int(q, 4, k);
			sqlite3_bind_double(q, 5, (double)x[k]);
			sqlite3_bind_double(q, 6, acc[k] / (double)(G ? G : 1));
			if (sqlite3_step(q) != SQLITE_DONE)
				st = st_fail(s, "storing a shape");
		}
	}
	sqlite3_finalize(q);
	al_model_free(m);
	al_checkpoint_free(&ck);
	return st;
}

static al_status delete_rows(al_store *s, const char *sql, int64_t run)
{
	sqlite3_stmt *q;
	AL_TRY(st_prepare(s, sql, &q));
	sqlite3_bind_int64(q, 1, run);
	int rc = sqlite3_step(q);
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? AL_OK : st_fail(s, "deleting rows");
}

al_status st_finish(al_store *s, int64_t run, const char *dir, size_t params)
{
	AL_TRY(st_begin(s));
	int yes = 0, epochs = 0;
	double ep_s = 0, ips = 0;
	al_status st = owned(s, run, &yes);
	if (st == AL_OK && !yes)
		st = al_err(AL_ESTATE, "store %s: run %lld is no longer owned by this process",
			    s->path, (long long)run);
	if (st == AL_OK)
		st = delete_rows(s, "DELETE FROM epochs WHERE run=?", run);
	if (st == AL_OK)
		st = delete_rows(s, "DELETE FROM act_params WHERE run=?", run);
	if (st == AL_OK)
		st = delete_rows(s, "DELETE FROM shapes WHERE run=?", run);
	if (st == AL_OK)
		st = ingest_log(s, run, dir, &epochs, &ep_s, &ips);
	if (st == AL_OK)
		st = ingest_params(s, run, dir);
	if (st == AL_OK)
		st = ingest_shapes(s, run, dir);
	sqlite3_stmt *q;
	if (st == AL_OK)
		st = st_prepare(s,
				"UPDATE runs SET status='done', owner=NULL, params=?1, finished=?2,"
				" seconds=(SELECT SUM(seconds) FROM epochs WHERE run=?3),"
				" epoch_seconds=?4, img_per_s=?5, dir=?6 WHERE id=?7",
				&q);
	if (st == AL_OK) {
		sqlite3_bind_int64(q, 1, (sqlite3_int64)params);
		sqlite3_bind_double(q, 2, wall_now());
		sqlite3_bind_int64(q, 3, run);
		sqlite3_bind_double(q, 4, ep_s);
		sqlite3_bind_double(q, 5, ips);
		sqlite3_bind_text(q, 6, dir, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(q, 7, run);
		if (sqlite3_step(q) != SQLITE_DONE)
			st = st_fail(s, "finishing a run");
		sqlite3_finalize(q);
	}
	if (st == AL_OK) {
		char detail[64];
		snprintf(detail, sizeof detail, "%d epochs", epochs);
		st = event(s, run, "finish", detail);
	}
	if (st == AL_OK)
		return st_commit(s);
	st_rollback(s);
	return st;
}

al_status st_failed(al_store *s, int64_t run, const char *msg)
{
	AL_TRY(st_begin(s));
	sqlite3_stmt *q;
	char owner[160];
	st_owner(owner, sizeof owner);
	al_status st = st_prepare(s,
				  "UPDATE runs SET status='failed', owner=NULL, error=? WHERE id=? AND"
				  " owner=?",
				  &q);
	if (st == AL_OK) {
		sqlite3_bind_text(q, 1, msg, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(q, 2, run);
		sqlite3_bind_text(q, 3, owner, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(q) != SQLITE_DONE)
			st = st_fail(s, "marking a run failed");
		sqlite3_finalize(q);
	}
	if (st == AL_OK)
		st = event(s, run, "fail", msg);
	if (st == AL_OK)
		return st_commit(s);
	st_rollback(s);
	return st;
}

al_status st_run_info(al_store *s, int64_t run, char **config, char *sweep, size_t scap,
		      char *key, size_t kcap, char *status, size_t stcap)
{
	*config = NULL;
	sqlite3_stmt *q;
	AL_TRY(st_prepare(s, "SELECT config, sweep, key, status FROM runs WHERE id=?", &q));
	sqlite3_bind_int64(q, 1, run);
	al_status st = AL_OK;
	if (sqlite3_step(q) == SQLITE_ROW) {
		const char *c = (const char *)sqlite3_column_text(q, 0);
		*config = strdup(c ? c : "");
		snprintf(sweep, scap, "%s", (const char *)sqlite3_column_text(q, 1));
		snprintf(key, kcap, "%s", (const char *)sqlite3_column_text(q, 2));
		snprintf(status, stcap, "%s", (const char *)sqlite3_column_text(q, 3));
		if (!*config)
			st = al_err(AL_ENOMEM, "out of memory");
	} else {
		st = al_err(AL_EINVAL, "store %s: no run with id %lld", s->path, (long long)run);
	}
	sqlite3_finalize(q);
	return st;
}

/* ---- trainer runs (rows written while running) -------------------------------------- */
al_status st_clear_run(al_store *s, int64_t run)
{
	AL_TRY(st_begin(s));
	int yes = 0;
	al_status st = owned(s, run, &yes);
	if (st == AL_OK && !yes)
		st = al_err(AL_ESTATE, "store %s: run %lld is no longer owned by this process",
			    s->path, (long long)run);
	if (st == AL_OK)
		st = delete_rows(s, "DELETE FROM epochs WHERE run=?", run);
	if (st == AL_OK)
		st = delete_rows(s, "DELETE FROM act_params WHERE run=?", run);
	if (st == AL_OK)
		st = delete_rows(s, "DELETE FROM shapes WHERE run=?", run);
	if (st == AL_OK)
		return st_commit(s);
	st_rollback(s);
	return st;
}

/* f of hinge row a (ns values, hinge j at lo + j*delta) at x: linear
 * interpolation, end segments extrapolated (SPEC.md 4.2) */
static double pla_at(const double *a, int ns, double lo, double delta, double x)
{
	int m = (int)floor((x - lo) / delta);
	m = m < 0 ? 0 : m > ns - 2 ? ns - 2 : m;
	double t = (x - (lo + m * delta)) / delta;
	return (1 - t) * a[m] + t * a[m + 1];
}

static al_status hinge_rows(al_store *s, int64_t run, int epoch, const char *act, int nh, int ns,
			    const double *A)
{
	sqlite3_stmt *q;
	AL_TRY(st_prepare(s,
			  "INSERT OR REPLACE INTO act_params(run, epoch, layer, act, param, groups,"
			  " mean, std, min, max) VALUES(?,?,?,?,?,?,?,?,?,?)",
			  &q));
	al_status st = AL_OK;
	for (int j = 0; j < ns && st == AL_OK; j++) {
		double sum = 0, sq = 0, mn = A[j], mx = A[j];
		for (int k = 0; k < nh; k++) {
			double v = A[(size_t)k * ns + j];
			sum += v;
			sq += v * v;
			mn = v < mn ? v : mn;
			mx = v > mx ? v : mx;
		}
		double mean = sum / nh, var = nh > 1 ? (sq - sum * mean) / (nh - 1) : 0;
		char param[16];
		snprintf(param, sizeof param, "a%d", j);
		sqlite3_reset(q);
		sqlite3_bind_int64(q, 1, run);
		sqlite3_bind_int(q, 2, epoch);
		sqlite3_bind_text(q, 3, "hidden", -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 4, act, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(q, 5, param, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(q, 6, nh);
		sqlite3_bind_double(q, 7, mean);
		sqlite3_bind_double(q, 8, var > 0 ? sqrt(var) : 0);
		sqlite3_bind_double(q, 9, mn);
		sqlite3_bind_double(q, 10, mx);
		if (sqlite3_step(q) != SQLITE_DONE)
			st = st_fail(s, "storing hinge values");
	}
	sqlite3_finalize(q);
	return st;
}

al_status st_finish_rows(al_store *s, int64_t run, int epochs, size_t params, const char *act,
			 int nh, int ns, double lo, double delta, const double *init0,
			 const double *A)
{
	AL_TRY(st_begin(s));
	int yes = 0;
	al_status st = owned(s, run, &yes);
	if (st == AL_OK && !yes)
		st = al_err(AL_ESTATE, "store %s: run %lld is no longer owned by this process",
			    s->path, (long long)run);
	sqlite3_stmt *q = NULL;
	if (st == AL_OK)
		st = st_prepare(s, "SELECT COUNT(*), MIN(epoch), MAX(epoch) FROM epochs WHERE run=?",
				&q);
	if (st == AL_OK) {
		sqlite3_bind_int64(q, 1, run);
		if (sqlite3_step(q) != SQLITE_ROW || sqlite3_column_int(q, 0) != epochs ||
		    (epochs > 0 && (sqlite3_column_int(q, 1) != 1 || sqlite3_column_int(q, 2) != epochs)))
			st = al_err(AL_ESTATE, "store %s: run %lld has %d of %d iteration rows",
				    s->path, (long long)run, sqlite3_column_int(q, 0), epochs);
		sqlite3_finalize(q);
		q = NULL;
	}
	if (st == AL_OK && A && init0)
		st = hinge_rows(s, run, 0, act, nh, ns, init0);
	if (st == AL_OK && A)
		st = hinge_rows(s, run, epochs, act, nh, ns, A);
	if (st == AL_OK && A)
		st = st_prepare(s,
				"INSERT OR REPLACE INTO shapes(run, layer, act, idx, x, y)"
				" VALUES(?,?,?,?,?,?)",
				&q);
	for (int k = 0; st == AL_OK && A && k < SHAPE_POINTS; k++) {
		double a = lo - delta, b = lo + (ns - 1) * delta + delta;
		double x = a + (b - a) * k / (SHAPE_POINTS - 1), y = 0;
		for (int u = 0; u < nh; u++)
			y += pla_at(A + (size_t)u * ns, ns, lo, delta, x);
		sqlite3_reset(q);
		sqlite3_bind_int64(q, 1, run);
		sqlite3_bind_text(q, 2, "hidden", -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 3, act, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(q, 4, k);
		sqlite3_bind_double(q, 5, x);
		sqlite3_bind_double(q, 6, y / nh);
		if (sqlite3_step(q) != SQLITE_DONE)
			st = st_fail(s, "storing a shape");
	}
	if (A && q) {
		sqlite3_finalize(q);
		q = NULL;
	}
	if (st == AL_OK)
		st = st_prepare(s,
				"UPDATE runs SET status='done', owner=NULL, params=?1, finished=?2,"
				" seconds=(SELECT SUM(seconds) FROM epochs WHERE run=?3),"
				" epoch_seconds=(SELECT AVG(seconds) FROM epochs WHERE run=?3),"
				" img_per_s=(SELECT AVG(img_per_s) FROM epochs WHERE run=?3), dir=NULL"
				" WHERE id=?3",
				&q);
	if (st == AL_OK) {
		sqlite3_bind_int64(q, 1, (sqlite3_int64)params);
		sqlite3_bind_double(q, 2, wall_now());
		sqlite3_bind_int64(q, 3, run);
		if (sqlite3_step(q) != SQLITE_DONE)
			st = st_fail(s, "finishing a run");
		sqlite3_finalize(q);
	}
	if (st == AL_OK) {
		char detail[64];
		snprintf(detail, sizeof detail, "%d iterations", epochs);
		st = event(s, run, "finish", detail);
	}
	if (st == AL_OK)
		return st_commit(s);
	st_rollback(s);
	return st;
}
