/* test_dist.c — running under MPI: the "built without MPI" refusal of the
 * default build, and (when mpirun and ./actlab-mpi exist; skipped with a
 * note otherwise) data-parallel training and distributed sweeps with
 * `mpirun --oversubscribe -np 2` on loopback: parameters of 2 ranks vs 1
 * process at the same global batch, every rank identical after every step,
 * synchronised batch norm, a rank that cannot read its data, the store of a
 * 2-rank sweep vs a 1-process sweep, and a sweep whose worker is killed and
 * that is run again.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "actlab/train.h"
#include "test.h"

#define DATA "synthetic:n=640,test=100,h=8,w=8,classes=4"

static const char *mpi_bin(void)
{
	const char *b = getenv("ACTLAB_MPI_BIN");
	return b && *b ? b : "./actlab-mpi";
}

/* mpirun and the MPI build present; otherwise one note per test. */
static int have_mpi(const char *test)
{
	static int cached = -1;
	if (cached < 0)
		cached = system("command -v mpirun >/dev/null 2>&1") == 0 &&
			 access(mpi_bin(), X_OK) == 0;
	if (!cached)
		fprintf(stderr, "note: %s skipped: needs mpirun and %s (make actlab-mpi)\n", test,
			mpi_bin());
	return cached;
}

/* mpirun on loopback that also works as root in a container */
#define MPIRUN                                                                             \
	"OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader "  \
	"OMPI_MCA_rmaps_base_oversubscribe=1 mpirun --oversubscribe"

static int abs_path(const char *p, char *out, size_t cap)
{
	if (p[0] == '/') {
		snprintf(out, cap, "%s", p);
		return 1;
	}
	char cwd[1024];
	if (!getcwd(cwd, sizeof cwd))
		return 0;
	snprintf(out, cap, "%s/%s", cwd, p);
	return 1;
}

TEST(dist_without_mpi)
{
	char out[4096], cmd[2048];
	snprintf(cmd, sizeof cmd,
		 "OMPI_COMM_WORLD_SIZE=2 OMPI_COMM_WORLD_RANK=0 %s train --data '" DATA
		 "' --model mlp:8 --epochs 1 --quiet",
		 actlab_bin());
	int rc = run_cmd(cmd, out, sizeof out);
	CHECK(rc == 2, "train as one of 2 ranks without MPI: exit %d: %s", rc, out);
	CHECK(strstr(out, "built without MPI") && strstr(out, "2 ranks"), "message: %s", out);
	snprintf(cmd, sizeof cmd, "PMI_SIZE=4 %s sweep --status", actlab_bin());
	rc = run_cmd(cmd, out, sizeof out);
	CHECK(rc == 2 && strstr(out, "built without MPI"), "srun-style launch: exit %d: %s", rc,
	      out);
	snprintf(cmd, sizeof cmd,
		 "%s train --data '" DATA "' --model mlp:8 --epochs 1 --quiet --sync-bn",
		 actlab_bin());
	rc = run_cmd(cmd, out, sizeof out);
	CHECK(rc == 2 && strstr(out, "--sync-bn") && strstr(out, "built without MPI"),
	      "--sync-bn without MPI: exit %d: %s", rc, out);
	/* one rank is just a process */
	snprintf(cmd, sizeof cmd,
		 "OMPI_COMM_WORLD_SIZE=1 %s train --data '" DATA "' --model mlp:8 --epochs 1 --quiet",
		 actlab_bin());
	rc = run_cmd(cmd, out, sizeof out);
	CHECK(rc == 0, "a launch with 1 rank: exit %d: %s", rc, out);
}

/* Trains `args` into dir with np ranks (0: the plain binary, no mpirun). */
static int train_run(int np, const char *dir, const char *args, char *out, size_t cap)
{
	char cmd[4096];
	if (np == 0)
		snprintf(cmd, sizeof cmd, "%s train %s --out '%s' --quiet", actlab_bin(), args, dir);
	else
		snprintf(cmd, sizeof cmd, MPIRUN " -np %d %s train %s --out '%s' --quiet", np,
			 mpi_bin(), args, dir);
	return run_cmd(cmd, out, cap);
}

/* max |a - b| / max |a| over the parameters of two runs' checkpoints */
static double param_rel_diff(const char *d1, const char *d2, size_t *n)
{
	char p1[1024], p2[1024];
	snprintf(p1, sizeof p1, "%s/ckpt.bin", d1);
	snprintf(p2, sizeof p2, "%s/ckpt.bin", d2);
	al_checkpoint a, b;
	*n = 0;
	if (al_checkpoint_load(p1, &a) != AL_OK)
		return INFINITY;
	if (al_checkpoint_load(p2, &b) != AL_OK) {
		al_checkpoint_free(&a);
		return INFINITY;
	}
	double dmax = 0, amax = 0;
	if (a.nparams != b.nparams || a.opt_steps != b.opt_steps)
		dmax = INFINITY;
	else
		for (size_t i = 0; i < a.nparams; i++) {
			dmax = fmax(dmax, fabs((double)a.params[i] - (double)b.params[i]));
			amax = fmax(amax, fabs((double)a.params[i]));
		}
	*n = a.nparams;
	al_checkpoint_free(&a);
	al_checkpoint_free(&b);
	return amax > 0 ? dmax / amax : dmax;
}

TEST(dist_train_parity)
{
	if (!have_mpi("dist_train_parity"))
		return;
	char d1[512], d2[512], out[8192];
	snprintf(d1, sizeof d1, "%s/dp1", test_tmpdir());
	snprintf(d2, sizeof d2, "%s/dp2", test_tmpdir());
	/* 640 samples, batch 32: 20 SGD steps (momentum, weight decay) */
	const char *args = "--data '" DATA "' --model mlp:32 --epochs 1 --batch 32 --opt sgd "
			   "--lr 0.1 --momentum 0.9 --wd 1e-4 --threads 1 --seed 3";
	int rc = train_run(0, d1, args, out, sizeof out);
	REQUIRE(rc == 0, "1 process: exit %d: %s", rc, out);
	/* --check-sync: every rank holds the same parameters after every step */
	char a2[1024];
	snprintf(a2, sizeof a2, "%s --check-sync", args);
	rc = train_run(2, d2, a2, out, sizeof out);
	REQUIRE(rc == 0, "2 ranks: exit %d: %s", rc, out);
	size_t n;
	double rel = param_rel_diff(d1, d2, &n);
	CHECK(n > 2000 && rel <= 1e-5, "2 ranks vs 1 process after 20 steps: rel diff %g (%zu params)",
	      rel, n);
	/* the per-epoch row agrees too (losses are summed over the ranks) */
	char l1[1024], l2[1024], row1[512] = "", row2[512] = "";
	snprintf(l1, sizeof l1, "%s/log.csv", d1);
	snprintf(l2, sizeof l2, "%s/log.csv", d2);
	FILE *f1 = fopen(l1, "r"), *f2 = fopen(l2, "r");
	REQUIRE(f1 && f2, "log.csv missing");
	while (fgets(row1, sizeof row1, f1)) {
	}
	while (fgets(row2, sizeof row2, f2)) {
	}
	fclose(f1);
	fclose(f2);
	double tl1, ta1, tl2, ta2;
	REQUIRE(sscanf(row1, "1,%lf,%lf", &tl1, &ta1) == 2 && sscanf(row2, "1,%lf,%lf", &tl2, &ta2) == 2,
		"rows '%s' '%s'", row1, row2);
	CHECK_NEAR(tl2, tl1, 1e-5 * tl1);
	CHECK_NEAR(ta2, ta1, 1e-12);
}

TEST(dist_train_sync_bn)
{
	if (!have_mpi("dist_train_sync_bn"))
		return;
	char cfg[512], d1[512], d2[512], d3[512], out[8192];
	snprintf(cfg, sizeof cfg, "%s/bn.cfg", test_tmpdir());
	FILE *f = fopen(cfg, "w");
	REQUIRE(f, "write %s", cfg);
	fputs("[dense]\nout = 16\n[batchnorm]\nact = $ACT\n[dense]\nout = $CLASSES\n", f);
	fclose(f);
	snprintf(d1, sizeof d1, "%s/bn1", test_tmpdir());
	snprintf(d2, sizeof d2, "%s/bn2sync", test_tmpdir());
	snprintf(d3, sizeof d3, "%s/bn2local", test_tmpdir());
	char args[1024];
	snprintf(args, sizeof args,
		 "--data '" DATA "' --model '%s' --epochs 1 --batch 32 --opt sgd --lr 0.1 "
		 "--threads 1",
		 cfg);
	int rc = train_run(0, d1, args, out, sizeof out);
	REQUIRE(rc == 0, "1 process: exit %d: %s", rc, out);
	char a2[1200], a3[1200];
	snprintf(a2, sizeof a2, "%s --check-sync --sync-bn", args);
	snprintf(a3, sizeof a3, "%s --check-sync", args);
	rc = train_run(2, d2, a2, out, sizeof out);
	REQUIRE(rc == 0, "2 ranks --sync-bn: exit %d: %s", rc, out);
	rc = train_run(2, d3, a3, out, sizeof out);
	REQUIRE(rc == 0, "2 ranks, per-rank bn: exit %d: %s", rc, out);
	size_t n;
	double rs = param_rel_diff(d1, d2, &n), rl = param_rel_diff(d1, d3, &n);
	CHECK(rs <= 1e-5, "--sync-bn vs 1 process: rel diff %g", rs);
	/* per-rank statistics normalise each half-batch by itself: not the same */
	CHECK(rl > 1e-3 && isfinite(rl), "per-rank bn vs 1 process: rel diff %g", rl);
}

TEST(dist_train_rank_data_error)
{
	if (!have_mpi("dist_train_rank_data_error"))
		return;
	/* rank 1 starts in a folder without the data file (a node without its
	 * copy of the data): the job ends, and rank 0 reports rank 1's error */
	char a[512], b[512], bin[1024], out[8192], cmd[4096];
	snprintf(a, sizeof a, "%s/nodeA", test_tmpdir());
	snprintf(b, sizeof b, "%s/nodeB", test_tmpdir());
	mkdir(a, 0755);
	mkdir(b, 0755);
	char csv[600];
	snprintf(csv, sizeof csv, "%s/d.csv", a);
	FILE *f = fopen(csv, "w");
	REQUIRE(f, "write %s", csv);
	fputs("label,x,y\n", f);
	for (int i = 0; i < 60; i++)
		fprintf(f, "%d,%d.5,%d\n", i % 2, i % 7, i % 2 ? 1 : -1);
	fclose(f);
	REQUIRE(abs_path(mpi_bin(), bin, sizeof bin), "getcwd");
	const char *args = "train --data csv:d.csv --model mlp:4 --epochs 1 --quiet";
	snprintf(cmd, sizeof cmd, MPIRUN " -np 1 -wdir '%s' %s %s : -np 1 -wdir '%s' %s %s", a, bin,
		 args, b, bin, args);
	int rc = run_cmd(cmd, out, sizeof out);
	CHECK(rc != 0, "a rank without its data: exit 0: %s", out);
	CHECK(strstr(out, "actlab: error: rank 1: ") && strstr(out, "d.csv"),
	      "rank 0 names rank 1 and the file: %s", out);
	/* and with the data on both ranks the same command works */
	char csv2[600];
	snprintf(csv2, sizeof csv2, "cp '%s' '%s/'", csv, b);
	REQUIRE(system(csv2) == 0, "copy");
	rc = run_cmd(cmd, out, sizeof out);
	CHECK(rc == 0, "both ranks with data: exit %d: %s", rc, out);
}

/* ---- sweeps ---------------------------------------------------------------------- */
static long long q1(const char *db, const char *sql)
{
	sqlite3 *h;
	long long v = -1;
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(h);
		return -1;
	}
	sqlite3_busy_timeout(h, 5000);
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(h, sql, -1, &q, NULL) == SQLITE_OK) {
		if (sqlite3_step(q) == SQLITE_ROW)
			v = sqlite3_column_int64(q, 0);
		sqlite3_finalize(q);
	}
	sqlite3_close(h);
	return v;
}

/* every row of sql, '|' between fields, '\n' between rows, %.17g reals */
static void dump(const char *db, const char *sql, char *out, size_t cap)
{
	out[0] = 0;
	sqlite3 *h;
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(h);
		return;
	}
	sqlite3_stmt *q;
	size_t len = 0;
	if (sqlite3_prepare_v2(h, sql, -1, &q, NULL) == SQLITE_OK) {
		while (sqlite3_step(q) == SQLITE_ROW && len + 256 < cap) {
			for (int i = 0; i < sqlite3_column_count(q); i++) {
				if (sqlite3_column_type(q, i) == SQLITE_FLOAT)
					len += (size_t)snprintf(out + len, cap - len, "%.17g|",
								sqlite3_column_double(q, i));
				else
					len += (size_t)snprintf(out + len, cap - len, "%s|",
								(const char *)sqlite3_column_text(q, i)
									? (const char *)sqlite3_column_text(q, i)
									: "NULL");
				if (len >= cap)
					len = cap - 1;
			}
			len += (size_t)snprintf(out + len, cap - len, "\n");
			if (len >= cap)
				len = cap - 1;
		}
		sqlite3_finalize(q);
	}
	sqlite3_close(h);
}

/* The results of a store, without timings, owners or paths. */
static const char *const result_sql[] = {
	"SELECT key, grp, act, model, seed, epochs, status, params, attempts, error FROM runs "
	"ORDER BY key",
	"SELECT r.key, e.epoch, e.train_loss, e.train_acc, e.val_loss, e.val_acc, e.test_loss, "
	"e.test_acc, e.macro_precision, e.lr FROM epochs e JOIN runs r ON r.id = e.run ORDER BY "
	"r.key, e.epoch",
	"SELECT r.key, a.epoch, a.layer, a.act, a.param, a.groups, a.mean, a.std, a.min, a.max "
	"FROM act_params a JOIN runs r ON r.id = a.run ORDER BY r.key, a.epoch, a.layer, a.param",
	"SELECT r.key, s.layer, s.idx, s.x, s.y FROM shapes s JOIN runs r ON r.id = s.run ORDER BY "
	"r.key, s.layer, s.idx",
};

static int write_sweep(const char *path, const char *name, const char *data, int epochs,
		       const char *seeds)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return 0;
	fprintf(f,
		"[sweep]\nname = %s\nmodel = mlp:16\ndata = %s\nact = relu | prelu\n"
		"seed = %s\nepochs = %d\nbatch = 32\nlr = 0.05\n",
		name, data, seeds, epochs);
	return fclose(f) == 0;
}

TEST(dist_sweep_same_store)
{
	if (!have_mpi("dist_sweep_same_store"))
		return;
	char ini[512], s1[512], s2[512], out[16384], cmd[4096];
	snprintf(ini, sizeof ini, "%s/dsw.ini", test_tmpdir());
	REQUIRE(write_sweep(ini, "dsw", "synthetic:n=200,test=60,h=6,w=6,classes=3", 2, "1..3"),
		"write %s", ini);
	snprintf(s1, sizeof s1, "%s/one/s.db", test_tmpdir());
	snprintf(s2, sizeof s2, "%s/two/s.db", test_tmpdir());
	snprintf(cmd, sizeof cmd, "%s sweep '%s' --store '%s' --threads 1", actlab_bin(), ini, s1);
	int rc = run_cmd(cmd, out, sizeof out);
	REQUIRE(rc == 0, "1-process sweep: exit %d: %s", rc, out);
	snprintf(cmd, sizeof cmd, MPIRUN " -np 2 %s sweep '%s' --store '%s' --threads 1", mpi_bin(),
		 ini, s2);
	rc = run_cmd(cmd, out, sizeof out);
	REQUIRE(rc == 0, "2-rank sweep: exit %d: %s", rc, out);
	CHECK(strstr(out, "running on rank 1"), "runs handed to rank 1: %s", out);
	CHECK(q1(s2, "SELECT COUNT(*) FROM runs WHERE status='done'") == 6, "6 runs done");
	static char a[200000], b[200000];
	for (size_t i = 0; i < sizeof result_sql / sizeof *result_sql; i++) {
		dump(s1, result_sql[i], a, sizeof a);
		dump(s2, result_sql[i], b, sizeof b);
		CHECK(a[0] && !strcmp(a, b), "store contents differ for\n  %s\n1 process:\n%.600s\n2 ranks:\n%.600s",
		      result_sql[i], a, b);
	}
	/* the stored run folders hold the same results */
	CHECK(q1(s2, "SELECT COUNT(*) FROM events WHERE kind='finish'") == 6, "6 finish events");
}

/* pid of the child of ppid whose environment says OMPI_COMM_WORLD_RANK=rank */
static pid_t rank_pid(pid_t ppid, int rank)
{
	DIR *d = opendir("/proc");
	if (!d)
		return 0;
	struct dirent *e;
	pid_t found = 0;
	char want[64];
	snprintf(want, sizeof want, "OMPI_COMM_WORLD_RANK=%d", rank);
	while (!found && (e = readdir(d))) {
		pid_t pid = (pid_t)atol(e->d_name);
		if (pid <= 0)
			continue;
		char path[64], buf[65536];
		snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = 0;
		char *p = strrchr(buf, ')');
		int pp = 0;
		if (!p || sscanf(p + 2, "%*c %d", &pp) != 1 || pp != (int)ppid)
			continue;
		snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
		f = fopen(path, "r");
		if (!f)
			continue;
		n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		for (size_t i = 0; i < n;) {
			if (!strcmp(buf + i, want))
				found = pid;
			i += strlen(buf + i) + 1;
		}
	}
	closedir(d);
	return found;
}

/* whether pid names a process that has not ended (zombies have) */
static int proc_live(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

TEST(dist_sweep_kill_rerun)
{
	if (!have_mpi("dist_sweep_kill_rerun"))
		return;
	char ini[512], db[512], cmd[4096], out[16384], log[600];
	snprintf(ini, sizeof ini, "%s/kill.ini", test_tmpdir());
	/* runs of a few tenths of a second each, so the kill lands mid-sweep */
	REQUIRE(write_sweep(ini, "kill", "synthetic:n=3000,test=200,h=10,w=10,classes=4", 3, "1..4"),
		"write %s", ini);
	snprintf(db, sizeof db, "%s/kill/s.db", test_tmpdir());
	snprintf(log, sizeof log, "%s/kill.log", test_tmpdir());
	pid_t pid = fork();
	REQUIRE(pid >= 0, "fork");
	if (pid == 0) { /* mpirun itself, so the ranks are its children */
		FILE *lf = freopen(log, "w", stdout);
		if (!lf || dup2(1, 2) < 0)
			_exit(127);
		setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
		setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
		setenv("OMPI_MCA_btl", "self,vader", 1);
		setenv("OMPI_MCA_rmaps_base_oversubscribe", "1", 1);
		execlp("mpirun", "mpirun", "--oversubscribe", "-np", "3", mpi_bin(), "sweep", ini,
		       "--store", db, "--threads", "1", (char *)NULL);
		_exit(127);
	}
	pid_t victim = 0;
	long long done = 0;
	int ws = 0, exited = 0;
	for (int t = 0; t < 1200 && !victim; t++) {
		struct timespec ts = {0, 25 * 1000 * 1000};
		nanosleep(&ts, NULL);
		done = access(db, F_OK) == 0 ? q1(db, "SELECT COUNT(*) FROM runs WHERE status='done'")
					     : 0;
		if (done >= 1)
			victim = rank_pid(pid, 1);
		if (waitpid(pid, &ws, WNOHANG) == pid) {
			exited = 1;
			break;
		}
	}
	pid_t others[2] = {rank_pid(pid, 0), rank_pid(pid, 2)};
	if (victim)
		kill(victim, SIGKILL);
	if (!exited)
		waitpid(pid, &ws, 0);
	/* mpirun may exit before the ranks it signalled have ended: rerun
	 * once they have (a rerun while they live finds their runs owned) */
	for (int t = 0; t < 400; t++) {
		int alive = 0;
		for (int k = 0; k < 2; k++)
			if (others[k] > 0 && proc_live(others[k]))
				alive = 1;
		if (!alive)
			break;
		struct timespec ts = {0, 25 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	REQUIRE(victim, "no rank 1 found while the sweep ran (%lld runs done)", done);
	CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) != 0, "the killed job reported failure");
	long long after = q1(db, "SELECT COUNT(*) FROM runs WHERE status='done'");
	CHECK(after >= 1 && after < 8, "killed mid-sweep: %lld of 8 runs done", after);
	/* the same command again finishes the rest */
	snprintf(cmd, sizeof cmd, MPIRUN " -np 3 %s sweep '%s' --store '%s' --threads 1", mpi_bin(),
		 ini, db);
	int rc = run_cmd(cmd, out, sizeof out);
	REQUIRE(rc == 0, "rerun: exit %d: %s", rc, out);
	CHECK(q1(db, "SELECT COUNT(*) FROM runs WHERE status='done'") == 8, "all 8 runs done");
	/* exactly once: one finish per run; the runs done before the kill were
	 * not started again */
	CHECK(q1(db, "SELECT COUNT(*) FROM events WHERE kind='finish'") == 8, "8 finish events");
	CHECK(q1(db, "SELECT MAX(c) FROM (SELECT COUNT(*) c FROM events WHERE kind='finish' GROUP "
		     "BY run)") == 1,
	      "a run finished twice");
	CHECK(q1(db, "SELECT COUNT(*) FROM events e WHERE kind IN ('start', 'resume') AND time > "
		     "(SELECT MAX(time) FROM events f WHERE f.run = e.run AND f.kind = 'finish')") == 0,
	      "a finished run was started again");
	CHECK(q1(db, "SELECT COUNT(*) FROM epochs") == 8 * 3, "every epoch stored once");
}

TEST(dist_sweep_rank_data_error)
{
	if (!have_mpi("dist_sweep_rank_data_error"))
		return;
	/* the worker starts where the sweep's relative data path does not
	 * exist: its runs fail with its message, the sweep reports them; with
	 * the data there, --retry-failed finishes them */
	char a[512], b[512], bin[1024], out[8192], cmd[4096], path[700];
	snprintf(a, sizeof a, "%s/swA", test_tmpdir());
	snprintf(b, sizeof b, "%s/swB", test_tmpdir());
	mkdir(a, 0755);
	mkdir(b, 0755);
	snprintf(path, sizeof path, "%s/d.csv", a);
	FILE *f = fopen(path, "w");
	REQUIRE(f, "write %s", path);
	fputs("label,x,y\n", f);
	for (int i = 0; i < 60; i++)
		fprintf(f, "%d,%d.5,%d\n", i % 2, i % 7, i % 2 ? 1 : -1);
	fclose(f);
	snprintf(path, sizeof path, "%s/f.ini", a);
	REQUIRE(write_sweep(path, "nodata", "csv:d.csv", 1, "1"), "write %s", path);
	REQUIRE(abs_path(mpi_bin(), bin, sizeof bin), "getcwd");
	char db[600];
	snprintf(db, sizeof db, "%s/s.db", a);
	snprintf(cmd, sizeof cmd,
		 MPIRUN " -np 1 -wdir '%s' %s sweep f.ini --store '%s' --threads 1 : -np 1 -wdir '%s' "
			"%s sweep f.ini --store '%s' --threads 1",
		 a, bin, db, b, bin, db);
	int rc = run_cmd(cmd, out, sizeof out);
	CHECK(rc != 0, "sweep with a worker without data: exit 0: %s", out);
	CHECK(strstr(out, "failed: rank 1: csv: d.csv: cannot open"), "rank 0 reports: %s", out);
	CHECK(q1(db, "SELECT COUNT(*) FROM runs WHERE status='failed' AND error LIKE 'rank 1: %d.csv%'") == 2,
	      "2 runs failed with rank 1's message");
	snprintf(path, sizeof path, "cp '%s/d.csv' '%s/'", a, b);
	REQUIRE(system(path) == 0, "copy");
	snprintf(cmd, sizeof cmd,
		 MPIRUN " -np 1 -wdir '%s' %s sweep f.ini --store '%s' --threads 1 --retry-failed : "
			"-np 1 -wdir '%s' %s sweep f.ini --store '%s' --threads 1 --retry-failed",
		 a, bin, db, b, bin, db);
	rc = run_cmd(cmd, out, sizeof out);
	CHECK(rc == 0, "--retry-failed with the data: exit %d: %s", rc, out);
	CHECK(q1(db, "SELECT COUNT(*) FROM runs WHERE status='done'") == 2, "2 runs done");
}
