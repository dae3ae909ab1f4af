/* test_exp.c — the experiment harness: experiment-file expansion (lists,
 * braces, ranges, groups, overrides) and its errors with file and line;
 * the store's contents after a real sweep; resume after killing a sweep
 * mid-run (every run finishes exactly once, no epoch lost or doubled);
 * several processes (-j 2); statistics against scipy (fixtures from
 * tests/fixtures/gen_stats.py); every report format; the HTML report in
 * headless Chromium. Tiny synthetic data and mlp:16-sized models keep
 * each test to a few seconds.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "actlab/exp.h"
#include "test.h"

#define OUTCAP 262144

static const char *tp(const char *name)
{
	static char buf[16][512];
	static int slot;
	char *p = buf[slot++ % 16];
	snprintf(p, 512, "%s/exp_%s", test_tmpdir(), name);
	return p;
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return 0;
	fputs(text, f);
	return fclose(f) == 0;
}

static int cli(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int cli(char *out, const char *fmt, ...)
{
	char args[4096], cmd[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof cmd, "%s %s", actlab_bin(), args);
	return run_cmd(cmd, out, OUTCAP);
}

/* one integer from a query on the store file */
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

/* all rows of a query, fields separated by '|', rows by newlines */
static void dump(const char *db, const char *sql, char *out, size_t cap)
{
	sqlite3 *h;
	out[0] = 0;
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(h);
		return;
	}
	sqlite3_stmt *q;
	size_t len = 0;
	if (sqlite3_prepare_v2(h, sql, -1, &q, NULL) == SQLITE_OK) {
		while (sqlite3_step(q) == SQLITE_ROW)
			for (int i = 0; i < sqlite3_column_count(q) && len + 1 < cap; i++) {
				const char *t = (const char *)sqlite3_column_text(q, i);
				len += (size_t)snprintf(out + len, cap - len, "%s%s", t ? t : "",
							i + 1 < sqlite3_column_count(q) ? "|" : "\n");
			}
		sqlite3_finalize(q);
	}
	sqlite3_close(h);
}

static int contains(const char *hay, const char *needle) { return strstr(hay, needle) != NULL; }

#define TINY_DATA "synthetic:n=300,test=150,classes=4,h=6,w=6"

/* ---- expansion ----------------------------------------------------------------- */
TEST(sweep_expand_lists_braces_ranges)
{
	const char *text = "; comment\n"
			   "[sweep]\n"
			   "name = ex1      ; inline comment\n"
			   "model = mlp:16\n"
			   "data = " TINY_DATA "\n"
			   "act = relu | pnelu:k={2,3} | elu:alpha={0.5,1}\n"
			   "seed = 1..3\n"
			   "lr = 1e-3 | 1e-2\n"
			   "epochs = 1\n";
	al_sweep *sw;
	REQUIRE_OK(al_sweep_parse(text, "ex1.ini", NULL, 0, &sw));
	CHECK(!strcmp(sw->name, "ex1"), "name %s", sw->name);
	CHECK(sw->nruns == 5 * 3 * 2, "runs %d, expected 30", sw->nruns);
	/* seeds vary slowest; act labels as written after brace expansion */
	CHECK(sw->runs[0].config.seed == 1 && sw->runs[29].config.seed == 3, "seed order");
	CHECK(!strcmp(sw->runs[0].act, "relu"), "first act %s", sw->runs[0].act);
	int pnelu3 = 0, lr2 = 0;
	for (int i = 0; i < sw->nruns; i++) {
		pnelu3 += !strcmp(sw->runs[i].act, "pnelu:k=3");
		lr2 += sw->runs[i].config.opt.lr == 1e-2;
		CHECK(sw->runs[i].config.epochs == 1, "epochs");
		for (int j = 0; j < i; j++)
			CHECK(strcmp(sw->runs[i].key, sw->runs[j].key), "duplicate key %d %d", i, j);
		/* a cell is the run without its seed */
		CHECK(!strstr(sw->runs[i].cell, "\nseed=") && strncmp(sw->runs[i].cell, "seed=", 5),
		      "cell has the seed");
	}
	CHECK(pnelu3 == 6, "pnelu:k=3 runs %d", pnelu3);
	CHECK(lr2 == 15, "lr 1e-2 runs %d", lr2);
	/* keys are stable: the same file gives the same keys */
	al_sweep *again;
	REQUIRE_OK(al_sweep_parse(text, "ex1.ini", NULL, 0, &again));
	for (int i = 0; i < sw->nruns; i++)
		CHECK(!strcmp(sw->runs[i].key, again->runs[i].key), "key %d changed", i);
	al_sweep_free(again);
	al_sweep_free(sw);
}

TEST(sweep_expand_groups_and_overrides)
{
	const char *text = "[sweep]\n"
			   "model = mlp:16\n"
			   "data = " TINY_DATA "\n"
			   "act = relu\n"
			   "seed = 1 | 2\n"
			   "epochs = 2\n"
			   "[fixed]\n"
			   "act = relu | tanh\n"
			   "[trainable]\n"
			   "act = prelu\n"
			   "act_lr = 1e-4\n";
	al_sweep *sw;
	REQUIRE_OK(al_sweep_parse(text, "dir/ex2.ini", NULL, 0, &sw));
	CHECK(!strcmp(sw->name, "ex2"), "default name from the file: %s", sw->name);
	CHECK(sw->nruns == 2 * 2 + 2, "runs %d, expected 6 (groups replace the bare sweep)",
	      sw->nruns);
	int tr = 0;
	for (int i = 0; i < sw->nruns; i++)
		if (!strcmp(sw->runs[i].group, "trainable")) {
			tr++;
			CHECK(sw->runs[i].config.opt.act_lr == 1e-4, "group setting");
			CHECK(!strcmp(sw->runs[i].act, "prelu"), "group act %s", sw->runs[i].act);
		} else {
			CHECK(sw->runs[i].config.opt.act_lr < 0, "fixed group kept the default act_lr");
		}
	CHECK(tr == 2, "trainable runs %d", tr);
	al_sweep_free(sw);
	/* overrides replace the key everywhere */
	const char *ov[] = {"epochs=1", "seed=7..9", "act=elu"};
	REQUIRE_OK(al_sweep_parse(text, "ex2.ini", ov, 3, &sw));
	CHECK(sw->nruns == 2 * 3, "runs with overrides %d, expected 6", sw->nruns);
	for (int i = 0; i < sw->nruns; i++) {
		CHECK(sw->runs[i].config.epochs == 1, "override epochs");
		CHECK(!strcmp(sw->runs[i].act, "elu"), "override act in group: %s", sw->runs[i].act);
		CHECK(sw->runs[i].config.seed >= 7 && sw->runs[i].config.seed <= 9, "override seed");
	}
	al_sweep_free(sw);
}

TEST(sweep_file_errors_name_file_line_key)
{
	struct {
		const char *text, *want;
	} bad[] = {
		{"[sweep]\nmodel = mlp\nactt = relu\n", "ex.ini:3: unknown key 'actt'"},
		{"[sweep]\nact = relu | nosuchact\n", "ex.ini:2: key 'act' value 'nosuchact'"},
		{"[sweep]\nact = relu:k=2\n", "ex.ini:2"},
		{"[sweep]\nepochs = ten\n", "ex.ini:2: key 'epochs'"},
		{"[sweep]\nseed = 5..2\n", "bad range"},
		{"[sweep]\nact = pnelu:k={2,3\n", "without '}'"},
		{"[other]\nact = relu\n", "first section must be [sweep]"},
		{"model = mlp\n", "outside a section"},
		{"[sweep]\nact = relu\nact = elu\n", "set twice"},
		{"[sweep]\nact = relu | | elu\n", "empty value"},
		{"[sweep]\nopt = sgdd\n", "ex.ini:2"},
		{"[sweep]\nkfold = 1\n", "fold count"},
		{"[sweep]\nmatch_params = 1\nmodel = resnet20\nact = relu | prelu:per=channel\n"
		 "data = synthetic:n=100,test=50,classes=4,h=28,w=28\n",
		 "match_params: model 'resnet20'"},
		{"[sweep]\nmatch_params = 1\nmatch_baseline = nosuch\n", "nosuch"},
		{"[sweep]\n[g]\nname = x\n", "belongs in [sweep]"},
		{"[sweep]\nact = relu\nact = relu\n", "set twice"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		al_sweep *sw = NULL;
		al_status st = al_sweep_parse(bad[i].text, "ex.ini", NULL, 0, &sw);
		CHECK(st != AL_OK, "case %zu accepted", i);
		CHECK(contains(al_errmsg(), bad[i].want), "case %zu: message '%s' lacks '%s'", i,
		      al_errmsg(), bad[i].want);
		CHECK(sw == NULL, "case %zu: output set on error", i);
		al_sweep_free(sw);
	}
	const char *ov[] = {"nokey=1"};
	al_sweep *sw = NULL;
	CHECK(al_sweep_parse("[sweep]\nact = relu\n", "ex.ini", ov, 1, &sw) != AL_OK &&
		      contains(al_errmsg(), "nokey"),
	      "bad override accepted: %s", al_errmsg());
	CHECK(al_sweep_load(tp("missing.ini"), NULL, 0, &sw) == AL_EIO, "missing file");
	/* CLI: usage error (exit 2) naming file and line */
	char out[OUTCAP];
	REQUIRE(write_file(tp("bad.ini"), "[sweep]\nact = relu\nepochs = -3\n"), "write");
	int rc = cli(out, "sweep %s --store %s", tp("bad.ini"), tp("bad.db"));
	CHECK(rc == 2, "exit %d, expected 2: %s", rc, out);
	CHECK(contains(out, "bad.ini:3"), "message without file:line: %s", out);
	CHECK(access(tp("bad.db"), F_OK) != 0, "store created for an invalid file");
	rc = cli(out, "sweep %s --store %s -j 0", tp("bad.ini"), tp("bad.db"));
	CHECK(rc == 2, "-j 0 exit %d", rc);
	rc = cli(out, "report --store %s", tp("nonexistent.db"));
	CHECK(rc == 1 && contains(out, "does not exist"), "report without store: %d %s", rc, out);
}

/* ---- store and sequential sweep ---------------------------------------------------- */
static const char *small_ini =
	"[sweep]\n"
	"name = small\n"
	"description = a small comparison\n"
	"model = mlp:16\n"
	"data = " TINY_DATA "\n"
	"act = relu | prelu | elu\n"
	"seed = 1..3\n"
	"epochs = 2\n"
	"opt = adam\n"
	"lr = 1e-2\n";

TEST(sweep_store_contents)
{
	char out[OUTCAP];
	const char *db = tp("small.db");
	REQUIRE(write_file(tp("small.ini"), small_ini), "write");
	int rc = cli(out, "sweep %s --store %s", tp("small.ini"), db);
	REQUIRE(rc == 0, "sweep failed (%d): %s", rc, out);
	CHECK(q1(db, "PRAGMA user_version") == AL_STORE_SCHEMA, "schema version");
	CHECK(q1(db, "SELECT COUNT(*) FROM runs WHERE sweep='small' AND status='done'") == 9,
	      "9 done runs");
	CHECK(q1(db, "SELECT COUNT(*) FROM epochs") == 18, "18 epoch rows");
	CHECK(q1(db, "SELECT COUNT(*) FROM runs WHERE params IS NULL OR params <= 0") == 0,
	      "parameter counts");
	/* prelu has one more parameter per hidden unit group: per=layer default adds 1 */
	CHECK(q1(db, "SELECT MAX(params) - MIN(params) FROM runs") > 0, "prelu's extra params");
	CHECK(q1(db, "SELECT COUNT(*) FROM act_params a JOIN runs r ON r.id=a.run WHERE "
		     "r.act='prelu' AND a.epoch=0") == 3,
	      "prelu initial parameters per run");
	CHECK(q1(db, "SELECT COUNT(DISTINCT epoch) FROM act_params") == 3, "epochs 0..2 of params");
	CHECK(q1(db, "SELECT COUNT(DISTINCT run) FROM shapes") == 3, "shapes of the prelu runs");
	CHECK(q1(db, "SELECT COUNT(*) FROM shapes s JOIN runs r ON r.id=s.run WHERE "
		     "r.act='relu'") == 0,
	      "no shapes for fixed activations");
	/* shapes are the learned function: prelu(x) = x for x > 0 */
	CHECK(q1(db, "SELECT COUNT(*) FROM shapes WHERE x > 0 AND abs(y - x) > 1e-6") == 0,
	      "prelu shape for x > 0");
	CHECK(q1(db, "SELECT COUNT(*) FROM events WHERE kind='finish'") == 9, "finish events");
	CHECK(q1(db, "SELECT COUNT(*) FROM epochs e JOIN runs r ON r.id=e.run WHERE "
		     "e.test_acc < 0 OR e.test_acc > 1 OR e.train_loss <= 0") == 0,
	      "metric ranges");
	/* the stored epochs equal the run folder's log.csv */
	char dir[700];
	snprintf(dir, sizeof dir, "%s/runs/small", test_tmpdir());
	CHECK(access(dir, F_OK) == 0, "run folders next to the store (%s)", dir);
	/* rerun: nothing to do */
	rc = cli(out, "sweep %s --store %s", tp("small.ini"), db);
	CHECK(rc == 0 && contains(out, "0 run now"), "rerun did work: %s", out);
	CHECK(q1(db, "SELECT COUNT(*) FROM events WHERE kind='start'") == 9, "no new starts");
	rc = cli(out, "sweep --status --store %s", db);
	CHECK(rc == 0 && contains(out, "9/9"), "status: %s", out);
	rc = cli(out, "sweep %s --status --store %s --epochs 3", tp("small.ini"), db);
	CHECK(rc == 0 && contains(out, "0/9"), "status of an overridden expansion: %s", out);
}

/* ---- resume after a kill ------------------------------------------------------------ */
static pid_t spawn_sweep(const char *ini, const char *db, const char *extra)
{
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		setpgid(0, 0);
		if (extra)
			execl(actlab_bin(), actlab_bin(), "sweep", ini, "--store", db, extra, "2",
			      (char *)NULL);
		else
			execl(actlab_bin(), actlab_bin(), "sweep", ini, "--store", db, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static const char *kill_ini =
	"[sweep]\n"
	"name = killed\n"
	"model = mlp:32\n"
	"data = synthetic:n=3000,test=300,classes=6,h=16,w=16\n"
	"act = relu | prelu\n"
	"seed = 1..2\n"
	"epochs = 4\n"
	"opt = adam\n"
	"lr = 1e-3\n";

static void check_exactly_once(const char *db, int runs, int epochs)
{
	char sql[512];
	CHECK(q1(db, "SELECT COUNT(*) FROM runs WHERE status='done'") == runs, "all runs done");
	CHECK(q1(db, "SELECT COUNT(*) FROM events WHERE kind='finish'") == runs,
	      "finish events %lld, expected %d", q1(db, "SELECT COUNT(*) FROM events WHERE kind='finish'"),
	      runs);
	CHECK(q1(db, "SELECT COUNT(*) FROM (SELECT run FROM events WHERE kind='finish' GROUP BY "
		     "run HAVING COUNT(*) > 1)") == 0,
	      "a run finished twice");
	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM epochs");
	CHECK(q1(db, sql) == (long long)runs * epochs, "epoch rows %lld, expected %d", q1(db, sql),
	      runs * epochs);
	snprintf(sql, sizeof sql,
		 "SELECT COUNT(*) FROM runs r WHERE (SELECT COUNT(*) FROM epochs e WHERE "
		 "e.run=r.id) != %d OR (SELECT MAX(epoch) FROM epochs e WHERE e.run=r.id) != %d",
		 epochs, epochs);
	CHECK(q1(db, sql) == 0, "a run with missing or extra epochs");
	snprintf(sql, sizeof sql,
		 "SELECT COUNT(*) FROM (SELECT run, epoch, layer, param FROM act_params GROUP BY "
		 "run, epoch, layer, param HAVING COUNT(*) > 1)");
	CHECK(q1(db, sql) == 0, "duplicated parameter rows");
	snprintf(sql, sizeof sql,
		 "SELECT COUNT(*) FROM runs r WHERE r.act='prelu' AND (SELECT COUNT(DISTINCT epoch) "
		 "FROM act_params a WHERE a.run=r.id) != %d",
		 epochs + 1);
	CHECK(q1(db, sql) == 0, "prelu parameter epochs");
	/* every run folder's log.csv has epochs 1..E exactly once */
	char cmd[1024], out[4096];
	snprintf(cmd, sizeof cmd,
		 "for f in $(dirname %s)/runs/*/*/log.csv; do tail -n +2 $f | cut -d, -f1 | tr "
		 "'\\n' ' '; echo; done | sort | uniq -c",
		 db);
	run_cmd(cmd, out, sizeof out);
	char want[128] = "";
	for (int e = 1; e <= epochs; e++)
		snprintf(want + strlen(want), sizeof want - strlen(want), "%d ", e);
	CHECK(contains(out, want), "log.csv epochs: %s", out);
	int lines = 0;
	for (char *p = out; *p; p++)
		lines += *p == '\n';
	CHECK(lines == 1, "log.csv files differ: %s", out);
}

TEST(sweep_resume_after_kill)
{
	const char *db = tp("killed.db"), *ini = tp("killed.ini");
	REQUIRE(mkdir(tp("k1"), 0755) == 0, "mkdir");
	char dbp[600], inip[600];
	snprintf(dbp, sizeof dbp, "%s/killed.db", tp("k1"));
	snprintf(inip, sizeof inip, "%s", ini);
	db = dbp;
	REQUIRE(write_file(inip, kill_ini), "write");
	/* kill it while a run is in its second epoch or later, after one run finished */
	int killed_mid = 0;
	for (int attempt = 0; attempt < 3 && !killed_mid; attempt++) {
		pid_t pid = spawn_sweep(inip, db, NULL);
		REQUIRE(pid > 0, "fork");
		for (int t = 0; t < 4000; t++) {
			sleep_ms(2);
			long long mid = q1(db, "SELECT COUNT(*) FROM runs r WHERE r.status='running' AND "
					       "(SELECT COUNT(*) FROM epochs e WHERE e.run=r.id) >= 1 AND "
					       "(SELECT COUNT(*) FROM runs WHERE status='done') >= 1");
			if (mid > 0) {
				kill(pid, SIGKILL);
				killed_mid = 1;
				break;
			}
			int ws;
			if (waitpid(pid, &ws, WNOHANG) == pid) {
				pid = 0;
				break;
			}
		}
		if (pid > 0) {
			int ws;
			kill(pid, SIGKILL);
			waitpid(pid, &ws, 0);
		}
		if (!killed_mid) {
			/* it finished before we caught it: start over */
			char cmd[1300];
			snprintf(cmd, sizeof cmd, "rm -rf '%s'/*", tp("k1"));
			run_cmd(cmd, NULL, 0);
		}
	}
	REQUIRE(killed_mid, "never caught the sweep mid-run");
	long long done_before = q1(db, "SELECT COUNT(*) FROM runs WHERE status='done'");
	CHECK(done_before >= 1 && done_before < 4, "done before the rerun: %lld", done_before);
	CHECK(q1(db, "SELECT COUNT(*) FROM runs WHERE status='running'") == 1,
	      "the killed run is left 'running'");
	char out[OUTCAP];
	int rc = cli(out, "sweep %s --store %s", inip, db);
	REQUIRE(rc == 0, "rerun failed (%d): %s", rc, out);
	CHECK(q1(db, "SELECT COUNT(*) FROM events WHERE kind='resume'") == 1,
	      "the interrupted run resumed from its checkpoint");
	check_exactly_once(db, 4, 4);
	/* the resumed run matches an uninterrupted one: rerun everything fresh elsewhere */
	char db2[600];
	REQUIRE(mkdir(tp("k2"), 0755) == 0, "mkdir");
	snprintf(db2, sizeof db2, "%s/fresh.db", tp("k2"));
	rc = cli(out, "sweep %s --store %s", inip, db2);
	REQUIRE(rc == 0, "fresh sweep failed: %s", out);
	char a[8192], b[8192];
	const char *sql = "SELECT r.act, r.seed, e.epoch, printf('%.9g', e.test_acc), "
			  "printf('%.9g', e.train_loss) FROM epochs e JOIN runs r ON r.id=e.run "
			  "ORDER BY r.act, r.seed, e.epoch";
	dump(db, sql, a, sizeof a);
	dump(db2, sql, b, sizeof b);
	CHECK(strlen(a) > 100 && !strcmp(a, b), "resumed results differ from a fresh sweep:\n%s\n--\n%s",
	      a, b);
}

TEST(sweep_parallel_processes)
{
	REQUIRE(mkdir(tp("j2"), 0755) == 0, "mkdir");
	char db[600], ini[600], out[OUTCAP];
	snprintf(db, sizeof db, "%s/j.db", tp("j2"));
	snprintf(ini, sizeof ini, "%s/j.ini", tp("j2"));
	REQUIRE(write_file(ini, small_ini), "write");
	int rc = cli(out, "sweep %s --store %s -j 2", ini, db);
	REQUIRE(rc == 0, "sweep -j 2 failed (%d): %s", rc, out);
	CHECK(contains(out, "running in process"), "runs were not separate processes: %s", out);
	check_exactly_once(db, 9, 2);
	CHECK(q1(db, "SELECT COUNT(DISTINCT owner) FROM events WHERE kind='start'") == 9,
	      "each run in its own process");
	/* the same results as the sequential sweep (determinism per seed) */
	char db1[600];
	REQUIRE(mkdir(tp("j1"), 0755) == 0, "mkdir");
	snprintf(db1, sizeof db1, "%s/s.db", tp("j1"));
	rc = cli(out, "sweep %s --store %s --threads 1", ini, db1);
	REQUIRE(rc == 0, "sequential sweep failed: %s", out);
	char a[16384], b[16384];
	const char *q = "SELECT r.act, r.seed, e.epoch, printf('%.9g', e.test_acc) FROM epochs e "
			"JOIN runs r ON r.id=e.run ORDER BY r.act, r.seed, e.epoch";
	dump(db, q, a, sizeof a);
	dump(db1, q, b, sizeof b);
	CHECK(strlen(a) > 100 && !strcmp(a, b), "-j 2 results differ from sequential");
}

/* ---- statistics against scipy --------------------------------------------------------- */
static int read_doubles(char **p, double *out, int n)
{
	for (int i = 0; i < n; i++) {
		char *end;
		out[i] = strtod(*p, &end);
		if (end == *p)
			return 0;
		*p = end;
	}
	return 1;
}

static double relerr(double a, double b) { return fabs(a - b) / (1e-300 + fabs(b)); }

TEST(stats_against_scipy)
{
	FILE *f = fopen("tests/fixtures/stats/cases.txt", "r");
	REQUIRE(f, "tests/fixtures/stats/cases.txt missing (run from the repository root)");
	char line[16384];
	int nt = 0, nw = 0, nc = 0, nq = 0;
	while (fgets(line, sizeof line, f)) {
		char kind[16];
		int off = 0;
		if (line[0] == '#' || sscanf(line, "%15s%n", kind, &off) != 1)
			continue;
		char *p = line + off;
		if (!strcmp(kind, "ttest") || !strcmp(kind, "wilcoxon")) {
			int n = (int)strtol(p, &p, 10);
			double a[128], b[128], r[4];
			REQUIRE(n > 0 && n <= 128, "bad n");
			REQUIRE(read_doubles(&p, a, n) && read_doubles(&p, b, n), "bad line");
			if (kind[0] == 't') {
				REQUIRE(read_doubles(&p, r, 4), "bad ttest line");
				al_ttest t;
				REQUIRE_OK(al_stats_ttest_paired(a, b, n, &t));
				CHECK(relerr(t.t, r[0]) < 1e-9, "n=%d t %.17g vs scipy %.17g", n, t.t, r[0]);
				CHECK(relerr(t.p, r[1]) < 1e-7, "n=%d p %.17g vs scipy %.17g", n, t.p, r[1]);
				CHECK(relerr(t.ci_lo, r[2]) < 1e-9 && relerr(t.ci_hi, r[3]) < 1e-9,
				      "n=%d CI [%.17g, %.17g] vs [%.17g, %.17g]", n, t.ci_lo, t.ci_hi, r[2],
				      r[3]);
				nt++;
			} else {
				REQUIRE(read_doubles(&p, r, 2), "bad wilcoxon line");
				al_wilcoxon w;
				REQUIRE_OK(al_stats_wilcoxon(a, b, n, &w));
				CHECK(w.w == r[0], "n=%d W %.17g vs scipy %.17g", n, w.w, r[0]);
				CHECK(relerr(w.p, r[1]) < 1e-7, "n=%d p %.17g vs scipy %.17g (exact %d)", n,
				      w.p, r[1], w.exact);
				nw++;
			}
		} else if (!strcmp(kind, "tcdf") || !strcmp(kind, "tppf")) {
			double v[3];
			REQUIRE(read_doubles(&p, v, 3), "bad line");
			double got = kind[1] == 'c' ? al_stats_t_cdf(v[0], v[1])
						    : al_stats_t_quantile(v[0], v[1]);
			/* scipy's t.ppf is itself accurate to ~1e-9 only (its own cdf of
			 * its ppf misses p by up to 4e-10); the quantile is also checked
			 * as the inverse of the CDF */
			double tol = kind[1] == 'c' ? 1e-10 : 1e-8;
			CHECK(fabs(got - v[2]) <= tol * (1 + fabs(v[2])), "%s(%g, df %g) = %.17g, scipy %.17g",
			      kind, v[0], v[1], got, v[2]);
			if (kind[1] == 'p')
				CHECK(fabs(al_stats_t_cdf(got, v[1]) - v[0]) < 1e-13,
				      "cdf(quantile(%g)) = %.17g", v[0], al_stats_t_cdf(got, v[1]));
			if (kind[1] == 'c')
				nc++;
			else
				nq++;
		}
	}
	fclose(f);
	CHECK(nt >= 10 && nw >= 10 && nc >= 20 && nq >= 20, "too few cases read (%d %d %d %d)", nt,
	      nw, nc, nq);
	/* edge cases: undefined tests give NaN, not numbers */
	double a[3] = {0.5, 0.6, 0.7}, b[3] = {0.5, 0.6, 0.7}, c[3] = {0.6, 0.7, 0.8};
	al_ttest t;
	al_wilcoxon w;
	REQUIRE_OK(al_stats_ttest_paired(a, b, 3, &t));
	CHECK(isnan(t.p) && t.mean_diff == 0, "identical samples: p %g", t.p);
	REQUIRE_OK(al_stats_wilcoxon(a, b, 3, &w));
	CHECK(w.n == 0 && isnan(w.p), "Wilcoxon without non-zero differences");
	REQUIRE_OK(al_stats_ttest_paired(a, a, 1, &t));
	CHECK(isnan(t.p) && isnan(t.ci_lo), "one pair");
	REQUIRE_OK(al_stats_ttest_paired(c, a, 3, &t));
	CHECK(fabs(t.mean_diff - 0.1) < 1e-12, "constant shift mean");
	CHECK(al_stats_ttest_paired(a, b, 0, &t) != AL_OK, "no pairs accepted");
	double loss[4] = {2, 1, 0.5, 0.5};
	CHECK_NEAR(al_stats_aulc(loss, 4), 1.5 + 0.75 + 0.5, 1e-12);
	CHECK_NEAR(al_stats_std(loss, 4), sqrt(0.5), 1e-12);
}

/* ---- reports ------------------------------------------------------------------------- */
/* A store with a sweep whose numbers are known: epochs inserted by hand
 * through a finished sweep's rows would be circular, so the report is
 * checked against statistics recomputed here from the stored epochs. */
TEST(report_formats)
{
	char out[OUTCAP];
	REQUIRE(mkdir(tp("rep"), 0755) == 0, "mkdir");
	char db[600], ini[600];
	snprintf(db, sizeof db, "%s/r.db", tp("rep"));
	snprintf(ini, sizeof ini, "%s/r.ini", tp("rep"));
	REQUIRE(write_file(ini, "[sweep]\nname = rep\nmodel = mlp:8\n"
				"data = synthetic:n=200,test=100,classes=5,h=5,w=5\n"
				"act = relu | prelu | tanh | method2\nseed = 1..3\nepochs = 3\nopt = sgd\n"
				"lr = 0.05\n"),
		"write");
	int rc = cli(out, "sweep %s --store %s", ini, db);
	REQUIRE(rc == 0, "sweep: %s", out);
	/* markdown */
	rc = cli(out, "report --store %s --format md", db);
	REQUIRE(rc == 0, "md: %s", out);
	CHECK(contains(out, "## rep") && contains(out, "| activation |") &&
		      contains(out, "| prelu |") && contains(out, "| tanh |") &&
		      contains(out, "baseline") && contains(out, "Learned activation parameters"),
	      "md table: %s", out);
	/* method2's blend weights per layer (seed 002's Tables 3-4) sum to one */
	double xyz = 0;
	int nxyz = 0;
	for (const char *p = strstr(out, "| method2 | dense1_act | X"); p && nxyz < 3;
	     p = strstr(p + 1, "| method2 | dense1_act | ")) {
		const char *v = strstr(p, "theta) | ");
		if (!v)
			break;
		xyz += strtod(v + strlen("theta) | "), NULL);
		nxyz++;
	}
	CHECK(nxyz == 3 && fabs(xyz - 1) < 2e-4, "X + Y + Z = %g over %d rows: %s", xyz, nxyz, out);
	/* CSV: numbers equal to statistics recomputed from the store */
	rc = cli(out, "report --store %s --format csv 2>/dev/null", db);
	REQUIRE(rc == 0, "csv: %s", out);
	char *line = strstr(out, "\nrep,sweep,tanh,");
	REQUIRE(line, "no tanh row: %s", out);
	double v[8];
	REQUIRE(sscanf(line + 1, "rep,sweep,tanh,,%lf,%lf,%lf,%lf", &v[0], &v[1], &v[2], &v[3]) == 4,
		"tanh row: %s", line);
	CHECK(v[0] == 3, "n = %g", v[0]);
	sqlite3 *h;
	REQUIRE(sqlite3_open(db, &h) == SQLITE_OK, "open");
	sqlite3_stmt *q;
	REQUIRE(sqlite3_prepare_v2(h,
				   "SELECT r.seed, e.test_acc FROM epochs e JOIN runs r ON r.id=e.run "
				   "WHERE r.act=? AND e.epoch=3 ORDER BY r.seed",
				   -1, &q, NULL) == SQLITE_OK,
		"prepare");
	double acc[2][3];
	const char *acts[2] = {"tanh", "relu"};
	for (int k = 0; k < 2; k++) {
		sqlite3_reset(q);
		sqlite3_bind_text(q, 1, acts[k], -1, SQLITE_STATIC);
		for (int i = 0; i < 3; i++) {
			REQUIRE(sqlite3_step(q) == SQLITE_ROW, "rows");
			acc[k][i] = sqlite3_column_double(q, 1);
		}
	}
	sqlite3_finalize(q);
	sqlite3_close(h);
	double m = (acc[0][0] + acc[0][1] + acc[0][2]) / 3;
	double sd = sqrt(((acc[0][0] - m) * (acc[0][0] - m) + (acc[0][1] - m) * (acc[0][1] - m) +
			  (acc[0][2] - m) * (acc[0][2] - m)) /
			 2);
	CHECK(fabs(v[2] - m) < 1e-8, "final acc mean %.9g, recomputed %.9g", v[2], m);
	CHECK(fabs(v[3] - sd) < 1e-8, "final acc std %.9g, recomputed %.9g", v[3], sd);
	/* the paired difference against relu */
	char *f = line + 1;
	for (int k = 0; k < 21; k++)
		f = strchr(f, ',') + 1;
	double diff = strtod(f, NULL);
	double want = (acc[0][0] - acc[1][0] + acc[0][1] - acc[1][1] + acc[0][2] - acc[1][2]) / 3;
	CHECK(fabs(diff - want) < 1e-8, "diff %.9g, recomputed %.9g (%s)", diff, want, line);
	/* LaTeX */
	rc = cli(out, "report --store %s --format tex", db);
	CHECK(rc == 0 && contains(out, "\\begin{tabular}") && contains(out, "\\bottomrule") &&
		      contains(out, "$\\pm$"),
	      "tex: %s", out);
	/* baseline choice and errors */
	rc = cli(out, "report --store %s --baseline tanh", db);
	CHECK(rc == 0 && contains(out, "| tanh | 3 |"), "baseline tanh: %s", out);
	rc = cli(out, "report --store %s --baseline gelu", db);
	CHECK(rc == 1 && contains(out, "gelu"), "unknown baseline: %d %s", rc, out);
	rc = cli(out, "report --store %s --format pdf", db);
	CHECK(rc == 2, "bad format exit %d", rc);
	rc = cli(out, "report --store %s --sweep nosuch", db);
	CHECK(rc == 1 && contains(out, "no finished runs"), "unknown sweep: %s", out);
	/* md with plot files */
	char plots[600];
	snprintf(plots, sizeof plots, "%s/plots", tp("rep"));
	rc = cli(out, "report --store %s --format md --plots %s", db, plots);
	CHECK(rc == 0 && contains(out, "![Test accuracy per epoch"), "md plots: %s", out);
	char svg[700];
	snprintf(svg, sizeof svg, "%s/rep-accuracy.svg", plots);
	CHECK(access(svg, F_OK) == 0, "%s missing", svg);
}

/* The HTML report renders in headless Chromium without console messages and
 * shows its tables and plots (the page's own script counts them). */
TEST(report_html_in_chromium)
{
	char out[OUTCAP];
	REQUIRE(mkdir(tp("html"), 0755) == 0, "mkdir");
	char db[600], ini[600], html[600];
	snprintf(db, sizeof db, "%s/h.db", tp("html"));
	snprintf(ini, sizeof ini, "%s/h.ini", tp("html"));
	snprintf(html, sizeof html, "%s/report.html", tp("html"));
	REQUIRE(write_file(ini, "[sweep]\nname = h\nmodel = mlp:8\n"
				"data = synthetic:n=200,test=100,classes=5,h=5,w=5\n"
				"act = relu | prelu\nseed = 1..2\nepochs = 2\nopt = sgd\nlr = 0.05\n"),
		"write");
	int rc = cli(out, "sweep %s --store %s", ini, db);
	REQUIRE(rc == 0, "sweep: %s", out);
	rc = cli(out, "report --store %s --format html --out %s", db, html);
	REQUIRE(rc == 0, "html: %s", out);
	char cmd[2000];
	/* self-contained: no external resources */
	snprintf(cmd, sizeof cmd, "grep -Eci '(src|href)=\"(https?:)?//|url\\(https?:|<link ' %s",
		 html);
	rc = run_cmd(cmd, out, sizeof out);
	CHECK(atoi(out) == 0, "external references in the report: %s", out);
	const char *chromium = NULL;
	if (access("/usr/bin/chromium", X_OK) == 0)
		chromium = "/usr/bin/chromium";
	else if (access("/usr/bin/chromium-browser", X_OK) == 0)
		chromium = "/usr/bin/chromium-browser";
	if (!chromium) {
		fprintf(stderr, "  [skip] report_html_in_chromium: chromium is not installed "
				"(scripts/install-deps.sh installs Debian's chromium)\n");
		return;
	}
	char prof[600], log[700], dom[700];
	snprintf(prof, sizeof prof, "%s/profile", tp("html"));
	snprintf(log, sizeof log, "%s/chromium.log", tp("html"));
	snprintf(dom, sizeof dom, "%s/dom.html", tp("html"));
	snprintf(cmd, sizeof cmd,
		 "timeout 120 %s --headless=new --no-sandbox --disable-gpu --no-first-run "
		 "--user-data-dir=%s --enable-logging=stderr --v=0 --dump-dom file://%s > %s 2> %s",
		 chromium, prof, html, dom, log);
	rc = run_cmd(cmd, out, sizeof out);
	REQUIRE(rc == 0, "chromium failed (%d): %s", rc, out);
	snprintf(cmd, sizeof cmd, "grep -c ':CONSOLE' %s", log);
	run_cmd(cmd, out, sizeof out);
	CHECK(atoi(out) == 0, "console messages while loading the report: see %s", log);
	if (atoi(out)) {
		snprintf(cmd, sizeof cmd, "grep ':CONSOLE' %s | head -5", log);
		run_cmd(cmd, out, sizeof out);
		fprintf(stderr, "%s", out);
	}
	FILE *f = fopen(dom, "r");
	REQUIRE(f, "no DOM dump");
	static char text[1 << 20];
	size_t n = fread(text, 1, sizeof text - 1, f);
	text[n] = 0;
	fclose(f);
	CHECK(contains(text, "data-tables=\"1\""), "the page did not count its table");
	int plots = 0;
	char *p = strstr(text, "data-plots=\"");
	if (p)
		plots = atoi(p + strlen("data-plots=\""));
	/* accuracy, loss, bars, prelu parameters, prelu shapes */
	CHECK(plots == 5, "plots rendered: %d, expected 5", plots);
	CHECK(contains(text, "<td>prelu</td>") && contains(text, "<path"),
	      "table rows or plot paths missing");
}

/* kfold = K repeats every run over K folds; tables pool seeds and folds */
TEST(sweep_kfold_runs)
{
	char out[OUTCAP];
	REQUIRE(mkdir(tp("kf"), 0755) == 0, "mkdir");
	char db[600], ini[600];
	snprintf(db, sizeof db, "%s/kf.db", tp("kf"));
	snprintf(ini, sizeof ini, "%s/kf.ini", tp("kf"));
	REQUIRE(write_file(ini, "[sweep]\nname = kf\nmodel = mlp:8\n"
				"data = synthetic:n=300,test=100,classes=3,h=5,w=5\n"
				"act = relu | tanh\nseed = 1\nkfold = 3\nepochs = 1\n"),
		"write");
	int rc = cli(out, "sweep %s --store %s", ini, db);
	REQUIRE(rc == 0, "sweep: %s", out);
	CHECK(q1(db, "SELECT COUNT(*) FROM runs WHERE kfold=3") == 6, "6 runs");
	CHECK(q1(db, "SELECT COUNT(DISTINCT fold) FROM runs") == 3, "3 folds");
	CHECK(q1(db, "SELECT COUNT(*) FROM runs WHERE config LIKE '%kfold=3%'") == 6,
	      "the training configuration carries kfold");
	rc = cli(out, "report --store %s --format md", db);
	CHECK(rc == 0 && contains(out, "| tanh | 3 |"), "3 folds pooled per row: %s", out);
	al_sweep *sw = NULL;
	CHECK(al_sweep_parse("[sweep]\nfold = 2\n", "f.ini", NULL, 0, &sw) != AL_OK &&
		      contains(al_errmsg(), "kfold"),
	      "fold set by hand: %s", al_errmsg());
}

/* Every shipped experiment file expands and validates (nothing is run). */
TEST(experiment_files_validate)
{
	char out[OUTCAP];
	int rc = run_cmd("ls experiments/*.ini", out, sizeof out);
	REQUIRE(rc == 0, "no experiment files (run from the repository root): %s", out);
	int n = 0;
	char *save = NULL;
	for (char *f = strtok_r(out, "\n", &save); f; f = strtok_r(NULL, "\n", &save)) {
		al_sweep *sw = NULL;
		al_status st = al_sweep_load(f, NULL, 0, &sw);
		CHECK(st == AL_OK, "%s: %s", f, al_errmsg());
		if (st == AL_OK) {
			CHECK(sw->nruns > 0, "%s: no runs", f);
			for (int i = 0; i < sw->nruns; i++) {
				const char *m = sw->runs[i].config.model;
				if (strchr(m, '/'))
					CHECK(access(m, R_OK) == 0, "%s: model file %s missing", f, m);
			}
		}
		al_sweep_free(sw);
		n++;
	}
	CHECK(n >= 5, "only %d experiment files", n);
}

static void exec_sql(const char *db, const char *sql)
{
	sqlite3 *h;
	if (sqlite3_open(db, &h) == SQLITE_OK) {
		sqlite3_busy_timeout(h, 5000);
		sqlite3_exec(h, sql, NULL, NULL, NULL);
	}
	sqlite3_close(h);
}

/* A run that fails is marked failed with its message and the sweep goes on
 * (exit 1); --retry-failed reruns it. A run owned by a live process is left
 * alone; one whose owner pid now names another process (start time differs)
 * is taken over. */
TEST(sweep_failures_and_owners)
{
	char out[OUTCAP];
	REQUIRE(mkdir(tp("own"), 0755) == 0, "mkdir");
	char db[600], ini[600];
	snprintf(db, sizeof db, "%s/o.db", tp("own"));
	snprintf(ini, sizeof ini, "%s/o.ini", tp("own"));
	REQUIRE(write_file(ini, "[sweep]\nname = own\nmodel = nosuchmodel\n"
				"data = synthetic:n=200,test=100,classes=3,h=5,w=5\n"
				"act = relu | tanh\nseed = 1..2\nepochs = 1\n"),
		"write");
	int rc = cli(out, "sweep %s --store %s", ini, db);
	CHECK(rc == 1, "failing sweep exit %d: %s", rc, out);
	CHECK(contains(out, "failed") && contains(out, "nosuchmodel"), "message: %s", out);
	CHECK(q1(db, "SELECT COUNT(*) FROM runs WHERE status='failed' AND error LIKE "
		     "'%nosuchmodel%'") == 4,
	      "failed runs with their message");
	rc = cli(out, "sweep %s --store %s", ini, db);
	CHECK(rc == 1 && q1(db, "SELECT COUNT(*) FROM events WHERE kind='start'") == 4,
	      "failed runs rerun without --retry-failed");
	rc = cli(out, "sweep %s --store %s --retry-failed", ini, db);
	CHECK(rc == 1 && q1(db, "SELECT COUNT(*) FROM events WHERE kind='start'") == 8,
	      "--retry-failed did not rerun: %s", out);
	/* owners */
	REQUIRE(write_file(ini, "[sweep]\nname = own2\nmodel = mlp:8\n"
				"data = synthetic:n=200,test=100,classes=3,h=5,w=5\n"
				"act = relu | tanh\nseed = 1\nepochs = 1\n"),
		"write");
	rc = cli(out, "sweep %s --store %s", ini, db);
	REQUIRE(rc == 0, "sweep own2: %s", out);
	char host[128] = "localhost", sql[1024];
	gethostname(host, sizeof host - 1);
	/* this test process is alive: its runs must not be taken */
	FILE *f = fopen("/proc/self/stat", "r");
	REQUIRE(f, "/proc/self/stat");
	char st[1024];
	size_t n = fread(st, 1, sizeof st - 1, f);
	st[n] = 0;
	fclose(f);
	char *p = strrchr(st, ')');
	unsigned long long start = 0;
	int field = 2;
	for (char *t = p + 1; *t && field < 22; t++)
		if (*t == ' ' && ++field == 22)
			start = strtoull(t + 1, NULL, 10);
	snprintf(sql, sizeof sql,
		 "UPDATE runs SET status='running', owner='%s:%ld:%llu' WHERE sweep='own2' AND "
		 "act='relu'; UPDATE runs SET status='running', owner='%s:%ld:%llu' WHERE "
		 "sweep='own2' AND act='tanh'",
		 host, (long)getpid(), start, host, (long)getpid(), start + 12345);
	exec_sql(db, sql);
	rc = cli(out, "sweep %s --store %s", ini, db);
	CHECK(rc == 1, "sweep with a live owner exit %d: %s", rc, out);
	CHECK(q1(db, "SELECT COUNT(*) FROM runs WHERE sweep='own2' AND act='relu' AND "
		     "status='running'") == 1,
	      "a run owned by a live process was taken");
	CHECK(q1(db, "SELECT COUNT(*) FROM runs WHERE sweep='own2' AND act='tanh' AND "
		     "status='done'") == 1,
	      "a run whose owner pid was reused was not taken over: %s", out);
	CHECK(contains(out, "another live process"), "skip message: %s", out);
}

/* match_params = 1 scales the MLP widths of activations with extra
 * parameters to the baseline's count; rows and pairing stay per activation */
TEST(sweep_match_params)
{
	const char *text = "[sweep]\nname = mp\nmodel = mlp:32,32\n"
			   "data = synthetic:n=300,test=100,classes=4,h=6,w=6\n"
			   "act = relu | prelu:per=neuron | tanh\nmatch_params = 1\nseed = 1..2\n"
			   "epochs = 1\n";
	al_sweep *sw;
	REQUIRE_OK(al_sweep_parse(text, "mp.ini", NULL, 0, &sw));
	/* relu: 36*32+32 + 32*32+32 + 32*4+4 = 2372; prelu per neuron adds 64 at
	 * width 32 (2436); at width 31 it has 2329: the closest to 2372 */
	for (int i = 0; i < sw->nruns; i++) {
		const al_sweep_run *r = &sw->runs[i];
		if (!strcmp(r->act, "prelu:per=neuron"))
			CHECK(!strcmp(r->config.model, "mlp:31,31"), "matched model %s", r->config.model);
		else
			CHECK(!strcmp(r->config.model, "mlp:32,32"), "unmatched model %s",
			      r->config.model);
		CHECK(strstr(r->cell, "model=mlp:32,32\n") != NULL, "cell keeps the requested model");
	}
	al_sweep_free(sw);
	char out[OUTCAP];
	REQUIRE(mkdir(tp("mp"), 0755) == 0, "mkdir");
	char db[600], ini[600];
	snprintf(db, sizeof db, "%s/mp.db", tp("mp"));
	snprintf(ini, sizeof ini, "%s/mp.ini", tp("mp"));
	REQUIRE(write_file(ini, text), "write");
	int rc = cli(out, "sweep %s --store %s", ini, db);
	REQUIRE(rc == 0, "sweep: %s", out);
	CHECK(q1(db, "SELECT params FROM runs WHERE act='prelu:per=neuron' LIMIT 1") == 2329,
	      "stored parameter count %lld", q1(db, "SELECT params FROM runs WHERE act='prelu:per=neuron' LIMIT 1"));
	rc = cli(out, "report --store %s --format csv", db);
	CHECK(rc == 0 && contains(out, "mp,sweep,prelu:per=neuron,,2,2329,"),
	      "matched row in the table: %s", out);
	CHECK(contains(out, ",relu,2,"), "paired with relu: %s", out);
}

/* ---- seed 003's trainers in sweeps ------------------------------------------------ */
#define TR_DATA "synthetic:n=300,test=120,classes=3,h=5,w=5"

/* trainer = ... expands to al_adact_run runs; keys that do not apply are
 * errors naming them */
TEST(sweep_trainer_expand)
{
	al_sweep *sw = NULL;
	REQUIRE_OK(al_sweep_parse("[sweep]\nname = tr\ndata = " TR_DATA "\n"
				  "trainer = adact | owo-bp\nhidden = 6\niters = 3\nseed = 1..2\n"
				  "kfold = 3\nbaseline = owo-bp\n",
				  "tr.ini", NULL, 0, &sw));
	CHECK(sw->nruns == 12, "2 trainers x 2 seeds x 3 folds: %d", sw->nruns);
	CHECK(!strcmp(sw->baseline, "owo-bp"), "baseline '%s'", sw->baseline);
	for (int i = 0; i < sw->nruns; i++) {
		const al_sweep_run *r = &sw->runs[i];
		CHECK(!strcmp(r->act, r->trainer), "row label is the trainer: %s", r->act);
		CHECK(r->adact.hidden == 6 && r->adact.iters == 3 && r->config.epochs == 3,
		      "settings");
		CHECK(r->adact.seed == r->config.seed, "seed");
		CHECK(strstr(r->ident, "trainer=") && strstr(r->ident, "hidden=6\n") &&
			      !strstr(r->ident, "act="),
		      "identity: %s", r->ident);
		for (int j = 0; j < i; j++)
			CHECK(strcmp(sw->runs[j].key, r->key) != 0, "duplicate key");
	}
	al_sweep_free(sw);
	/* adam's default learning rate stays the trainer's unless lr is set */
	REQUIRE_OK(al_sweep_parse("[sweep]\ndata = " TR_DATA "\ntrainer = adam\nlr = 0.005\n",
				  "tr.ini", NULL, 0, &sw));
	CHECK(sw->runs[0].adact.lr == 0.005, "lr %g", sw->runs[0].adact.lr);
	al_sweep_free(sw);
	REQUIRE_OK(al_sweep_parse("[sweep]\ndata = " TR_DATA "\ntrainer = adam\n", "tr.ini", NULL, 0,
				  &sw));
	CHECK(sw->runs[0].adact.lr == 0 && sw->runs[0].adact.momentum == 0.9, "defaults");
	al_sweep_free(sw);
	/* back-prop and trainers in one sweep */
	REQUIRE_OK(al_sweep_parse("[sweep]\ndata = " TR_DATA "\ntrainer = train | adact\n"
				  "model = mlp:8\nhidden = 8\nepochs = 2\niters = 3\n",
				  "tr.ini", NULL, 0, &sw));
	CHECK(sw->nruns == 2 && !strcmp(sw->runs[0].trainer, "train") &&
		      !strcmp(sw->runs[1].trainer, "adact") && !strcmp(sw->runs[0].config.model, "mlp:8"),
	      "mixed: %d runs", sw->nruns);
	al_sweep_free(sw);
	static const char *const bad[][2] = {
		{"[sweep]\ntrainer = adact\nmodel = lenet5\n", "'model' does not apply"},
		{"[sweep]\nhidden = 5\n", "'hidden' applies only"},
		{"[sweep]\ntrainer = newton\n", "newton"},
		{"[sweep]\ntrainer = adact\nval = 1.5\n", "val"},
		{"[sweep]\ntrainer = adact\nhinges = 1\n", "hinges"},
		{"[sweep]\ntrainer = adact\nrange = 4,-4\n", "range"},
		{"[sweep]\ntrainer = adact\n[g]\nbaseline = relu\n", "belongs in [sweep]"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		CHECK(al_sweep_parse(bad[i][0], "bad.ini", NULL, 0, &sw) != AL_OK &&
			      contains(al_errmsg(), bad[i][1]) && contains(al_errmsg(), "bad.ini"),
		      "'%s': %s", bad[i][0], al_errmsg());
	}
}

/* a value after `"key": [` in JSON text (index i) */
static double json_at(const char *text, const char *key, int i)
{
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\": [", key);
	const char *p = strstr(text, pat);
	if (!p)
		return NAN;
	p += strlen(pat);
	for (int k = 0; k < i && p; k++) {
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return p ? strtod(p, NULL) : (double)NAN;
}

/* A trainer sweep stores every iteration (MSE as the training loss, test
 * accuracy of the held-out fold) equal to what `actlab adact` computes for
 * the same settings, parameter counts, hinge values and shapes; the report
 * pairs against the file's baseline trainer; an interrupted trainer run
 * starts over with its rows cleared; `actlab adact --store` records runs. */
TEST(sweep_trainer_store)
{
	char out[OUTCAP], json[OUTCAP];
	REQUIRE(mkdir(tp("tr"), 0755) == 0, "mkdir");
	char db[600], ini[600];
	snprintf(db, sizeof db, "%s/tr.db", tp("tr"));
	snprintf(ini, sizeof ini, "%s/tr.ini", tp("tr"));
	REQUIRE(write_file(ini, "[sweep]\nname = tr\ndata = " TR_DATA "\n"
				"trainer = adact | owo-bp\nhidden = 6\niters = 4\nseed = 1..2\n"
				"kfold = 3\nbaseline = owo-bp\n"),
		"write");
	int rc = cli(out, "sweep %s --store %s --threads 1", ini, db);
	REQUIRE(rc == 0, "sweep: %s", out);
	CHECK(q1(db, "SELECT COUNT(*) FROM runs WHERE status='done'") == 12, "12 done");
	CHECK(q1(db, "SELECT COUNT(*) FROM epochs") == 48, "4 iterations x 12 runs: %lld",
	      q1(db, "SELECT COUNT(*) FROM epochs"));
	/* 26 inputs (+1), 6 hidden, 3 outputs: W 6*26 + Wo 3*(26+6) = 252; adact adds
	 * the 6*9 hinge values */
	CHECK(q1(db, "SELECT COUNT(*) FROM runs WHERE act='owo-bp' AND params=252") == 6,
	      "owo-bp params");
	CHECK(q1(db, "SELECT COUNT(*) FROM runs WHERE act='adact' AND params=306") == 6,
	      "adact params");
	CHECK(q1(db, "SELECT COUNT(DISTINCT run) FROM act_params") == 6 &&
		      q1(db, "SELECT COUNT(*) FROM act_params WHERE epoch=0 AND param='a8' AND "
			     "abs(mean - 4) > 1e-12") == 0,
	      "hinge values of the adact runs (relu at init)");
	CHECK(q1(db, "SELECT COUNT(DISTINCT run) FROM shapes") == 6, "adact shapes");
	/* the stored history is the trainer's own */
	rc = cli(json, "adact --data " TR_DATA " --hidden 6 --iters 4 --kfold 3 --fold 1 --seed 2 "
		       "--threads 1 --json --quiet");
	REQUIRE(rc == 0, "adact: %s", json);
	char sql[512];
	for (int it = 1; it <= 4; it++) {
		snprintf(sql, sizeof sql,
			 "SELECT CAST(round(e.train_loss * 1e9) AS INTEGER) FROM epochs e JOIN runs r"
			 " ON r.id=e.run WHERE r.act='adact' AND r.seed=2 AND r.fold=1 AND e.epoch=%d",
			 it);
		long long v = q1(db, sql);
		CHECK(llabs(v - llround(json_at(json, "mse", it) * 1e9)) <= 1,
		      "iteration %d: stored mse %lld vs %.9f", it, v, json_at(json, "mse", it));
	}
	snprintf(sql, sizeof sql,
		 "SELECT CAST(round(e.test_acc * 1e6) AS INTEGER) FROM epochs e JOIN runs r ON "
		 "r.id=e.run WHERE r.act='adact' AND r.seed=2 AND r.fold=1 AND e.epoch=4");
	const char *ta = strstr(json, "\"test_acc\": ");
	REQUIRE(ta, "json test_acc");
	CHECK(llabs(q1(db, sql) - llround(strtod(ta + 12, NULL) * 1e6)) <= 1, "final test acc");
	rc = cli(out, "report --store %s --format csv", db);
	CHECK(rc == 0 && contains(out, "tr,sweep,adact,,6,306,") && contains(out, ",owo-bp,6,"),
	      "adact row paired with owo-bp over 6 seed/fold pairs: %s", out);
	rc = cli(out, "report --store %s --format md", db);
	CHECK(rc == 0 && contains(out, "iterations 4; baseline owo-bp"), "md: %s", out);
	/* an interrupted run (dead owner, partial rows) starts over */
	exec_sql(db, "UPDATE runs SET status='running', owner='nohost:999999:1', heartbeat=0 "
		     "WHERE id=(SELECT MIN(id) FROM runs); INSERT INTO epochs(run, epoch, "
		     "train_loss) VALUES((SELECT MIN(id) FROM runs), 9, 1.0)");
	rc = cli(out, "sweep %s --store %s --threads 1", ini, db);
	CHECK(rc == 0 && contains(out, "1 run now"), "rerun: %s", out);
	CHECK(q1(db, "SELECT COUNT(*) FROM epochs") == 48 &&
		      q1(db, "SELECT COUNT(*) FROM events WHERE kind='finish'") == 13,
	      "restarted run: rows %lld", q1(db, "SELECT COUNT(*) FROM epochs"));
	/* actlab adact --store */
	rc = cli(out, "adact --data " TR_DATA " --hidden 5 --iters 2 --algo molf --store %s "
		      "--sweep one --quiet",
		 db);
	CHECK(rc == 0 && q1(db, "SELECT COUNT(*) FROM runs WHERE sweep='one' AND status='done' "
				"AND act='molf'") == 1,
	      "adact --store: %s", out);
	rc = cli(out, "adact --data " TR_DATA " --iters 2 --store %s --fold 1 --kfold 2", db);
	CHECK(rc == 2 && contains(out, "--fold"), "--store with --fold: %d %s", rc, out);
}

/* CSV field `col` (0-based) of the first line of text starting with prefix */
static double csv_col(const char *text, const char *prefix, int col)
{
	const char *p = text;
	while (p && strncmp(p, prefix, strlen(prefix)) != 0) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	for (int k = 0; k < col && p; k++) {
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return p ? strtod(p, NULL) : (double)NAN;
}

/* Early stopping through the harness: trainer runs with val > 0 store the
 * validation accuracy of every iteration (the same as `actlab adact
 * --val`), and `actlab report --select best-val` reports each run's test
 * accuracy at its first best validation iteration, i.e. the network that
 * `actlab adact --val` tests; without --select the last iteration's; runs
 * without validation are refused by --select best-val. */
/* Regularisers tuned on validation through the harness: `ridge` and `wd`
 * are trainer settings (stored only when set), and `report --tune` turns
 * the cells that differ only in them into one row that takes, per fold,
 * the run of highest validation accuracy; its accuracy is the mean of
 * those runs' early-stopped test accuracies, recomputed here from the
 * store. */
TEST(sweep_trainer_tuned_regularisers)
{
	char out[OUTCAP], sql[1024];
	REQUIRE(mkdir(tp("tune"), 0755) == 0, "mkdir");
	char db[600], ini[600];
	snprintf(db, sizeof db, "%s/tune.db", tp("tune"));
	snprintf(ini, sizeof ini, "%s/tune.ini", tp("tune"));
	REQUIRE(write_file(ini, "[sweep]\nname = tune\ndata = " TR_DATA "\nhidden = 6\n"
				"iters = 6\nseed = 1\nkfold = 3\nval = 0.2\nbaseline = adam\n"
				"[owo]\ntrainer = adact\nridge = 0 | 0.5\n"
				"[bp]\ntrainer = adam\nwd = 0 | 0.001\n"
				"[bp2]\ntrainer = adam\nridge = 0.5\n"),
		"write");
	int rc = cli(out, "sweep %s --store %s --threads 1", ini, db);
	REQUIRE(rc == 0, "sweep: %s", out);
	CHECK(q1(db, "SELECT COUNT(*) FROM runs WHERE act='adact' AND config LIKE '%ridge=0.5%'") ==
			  3 &&
		      q1(db, "SELECT COUNT(*) FROM runs WHERE act='adam' AND config LIKE "
			     "'%wd=0.001%'") == 3 &&
		      q1(db, "SELECT COUNT(*) FROM runs WHERE config LIKE '%ridge=%' OR config LIKE "
			     "'%wd=%'") == 9,
	      "ridge and wd stored only when set");
	/* expected: per fold, the ridge whose run has the higher best validation
	 * accuracy (ridge 0 on ties: it comes first), its test accuracy at the
	 * first epoch of that validation accuracy */
	long long want = 0;
	int chosen_half = 0;
	for (int f = 0; f < 3; f++) {
		long long bv[2], ta[2];
		for (int r = 0; r < 2; r++) {
			const char *like = r ? "LIKE" : "NOT LIKE";
			snprintf(sql, sizeof sql,
				 "SELECT CAST(round(MAX(e.val_acc) * 1e6) AS INTEGER) FROM epochs e JOIN "
				 "runs r ON r.id=e.run WHERE r.act='adact' AND r.fold=%d AND r.cell %s "
				 "'%%ridge=%%'",
				 f, like);
			bv[r] = q1(db, sql);
			snprintf(sql, sizeof sql,
				 "SELECT CAST(round(e.test_acc * 1e6) AS INTEGER) FROM epochs e JOIN runs "
				 "r ON r.id=e.run WHERE r.act='adact' AND r.fold=%d AND r.cell %s "
				 "'%%ridge=%%' AND CAST(round(e.val_acc * 1e6) AS INTEGER)=%lld ORDER BY "
				 "e.epoch LIMIT 1",
				 f, like, bv[r]);
			ta[r] = q1(db, sql);
		}
		int pick = bv[1] > bv[0];
		chosen_half += pick;
		want += ta[pick];
	}
	rc = cli(out, "report --store %s --format csv --select best-val --tune ridge,wd", db);
	REQUIRE(rc == 0, "report --tune: %s", out);
	/* the variant field is quoted (it holds commas): n, params, then acc */
	const char *row = strstr(out, "\ntune,owo,adact,\"");
	const char *endq = row ? strstr(row, ")\",") : NULL;
	double got = endq ? csv_col(endq, ")\",", 3) : (double)NAN;
	CHECK(fabs(got - want / 3e6) < 2e-6, "tuned adact %.6f, recomputed %.6f", got, want / 3e6);
	char counts[128];
	snprintf(counts, sizeof counts, "ridge=0 x%d, ridge=0.5 x%d)", 3 - chosen_half, chosen_half);
	/* adam's candidates span two groups: one row over all three */
	CHECK(contains(out, counts) && contains(out, "tune,bp+bp2,adam,\"[bp+bp2] (tuned: ridge=0 "
						"wd=0 x") &&
		      contains(out, "ridge=0 wd=0.001 x") && contains(out, "ridge=0.5 wd=0 x"),
	      "choices %s in: %s", counts, out);
	CHECK(contains(out, "tune,owo,adact,") && !contains(out, "tune,owo,adact,\"[owo]\",") &&
		      !contains(out, "tune,bp,adam") && contains(out, ",adam,3,"),
	      "one adact row, paired with the tuned adam over 3 folds: %s", out);
	/* without --tune: four rows; --tune without --select best-val: refused */
	rc = cli(out, "report --store %s --format csv --select best-val", db);
	CHECK(rc == 0 && contains(out, "ridge=0.5") && !contains(out, "tuned"), "untuned: %s",
	      out);
	rc = cli(out, "report --store %s --tune ridge", db);
	CHECK(rc != 0 && contains(out, "best-val"), "--tune without best-val: %d %s", rc, out);
	/* a setting that no rows differ in (a typo) is an error, not a silent no-op */
	rc = cli(out, "report --store %s --select best-val --tune ridg", db);
	CHECK(rc != 0 && contains(out, "ridg") && contains(out, "differ"), "--tune ridg: %d %s",
	      rc, out);
	rc = cli(out, "report --store %s --select best-val --tune a,b,c,d,e,f,g,h,i", db);
	CHECK(rc != 0 && contains(out, "more than 8"), "nine --tune settings: %d %s", rc, out);
	/* regularisers where they are not defined: errors naming the setting */
	REQUIRE(write_file(ini, "[sweep]\nname = bad\ndata = " TR_DATA "\ntrainer = adact\n"
				"wd = 0.1\n"),
		"write");
	rc = cli(out, "sweep %s --store %s --threads 1", ini, db);
	CHECK(rc != 0 && contains(out, "wd"), "wd on adact: %d %s", rc, out);
	REQUIRE(write_file(ini, "[sweep]\nname = bad\ndata = " TR_DATA "\ntrainer = cg\n"
				"ridge = 0.1\n"),
		"write");
	rc = cli(out, "sweep %s --store %s --threads 1", ini, db);
	CHECK(rc != 0 && contains(out, "ridge"), "ridge on cg: %d %s", rc, out);
}

TEST(sweep_trainer_early_stopping)
{
	char out[OUTCAP], json[OUTCAP];
	REQUIRE(mkdir(tp("es"), 0755) == 0, "mkdir");
	char db[600], ini[600];
	snprintf(db, sizeof db, "%s/es.db", tp("es"));
	snprintf(ini, sizeof ini, "%s/es.ini", tp("es"));
	REQUIRE(write_file(ini, "[sweep]\nname = es\ndata = " TR_DATA "\n"
				"trainer = adact | adam\nhidden = 6\niters = 8\nseed = 1\n"
				"kfold = 3\nval = 0.2\nbaseline = adam\n"),
		"write");
	int rc = cli(out, "sweep %s --store %s --threads 1", ini, db);
	REQUIRE(rc == 0, "sweep: %s", out);
	CHECK(q1(db, "SELECT COUNT(*) FROM epochs") == 48 &&
		      q1(db, "SELECT COUNT(*) FROM epochs WHERE val_acc IS NULL") == 0,
	      "8 iterations x 6 runs, each with a validation accuracy");
	const char *algo[2] = {"adact", "adam"};
	for (int a = 0; a < 2; a++) {
		rc = cli(json, "adact --data " TR_DATA " --algo %s --hidden 6 --iters 8 --kfold 3 "
			       "--val 0.2 --seed 1 --threads 1 --json --quiet",
			 algo[a]);
		REQUIRE(rc == 0, "adact: %s", json);
		char sql[512];
		for (int it = 1; it <= 8; it++) {
			snprintf(sql, sizeof sql,
				 "SELECT CAST(round(e.val_acc * 1e6) AS INTEGER) FROM epochs e JOIN "
				 "runs r ON r.id=e.run WHERE r.act='%s' AND r.fold=0 AND e.epoch=%d",
				 algo[a], it);
			CHECK(llabs(q1(db, sql) - llround(json_at(json, "val", it) * 1e6)) <= 1,
			      "%s iteration %d: stored val %lld vs %.6f", algo[a], it, q1(db, sql),
			      json_at(json, "val", it));
		}
		/* the mean over the folds of the early-stopped test accuracy */
		const char *ta = strstr(json, "], \"test_acc\": ");
		REQUIRE(ta, "json test_acc");
		double want = strtod(ta + 15, NULL);
		rc = cli(out, "report --store %s --format csv --select best-val", db);
		REQUIRE(rc == 0, "report: %s", out);
		char pre[64];
		snprintf(pre, sizeof pre, "es,sweep,%s,", algo[a]);
		double got = csv_col(out, pre, 6);
		CHECK(fabs(got - want) < 2e-6, "%s: report --select best-val %.6f, adact --val %.6f",
		      algo[a], got, want);
		if (a == 0)
			CHECK(contains(out, ",adam,3,"), "paired with adam over 3 folds: %s", out);
	}
	rc = cli(out, "report --store %s --format md --select best-val", db);
	CHECK(rc == 0 && contains(out, "acc at best val (median epoch)") &&
		      contains(out, "Early stopping"),
	      "md: %s", out);
	rc = cli(out, "report --store %s --select bogus", db);
	CHECK(rc == 2 && contains(out, "best-val"), "bad --select: %d %s", rc, out);
	/* runs without validation: refused */
	rc = cli(out, "adact --data " TR_DATA " --hidden 5 --iters 2 --store %s --sweep noval "
		      "--quiet",
		 db);
	REQUIRE(rc == 0, "adact --store: %s", out);
	rc = cli(out, "report --store %s --sweep noval --select best-val", db);
	CHECK(rc != 0 && contains(out, "validation"), "no validation: %d %s", rc, out);
	rc = cli(out, "report --store %s --sweep noval", db);
	CHECK(rc == 0, "last epoch without validation: %s", out);
	/* actlab adact --store --val records the validation accuracies */
	rc = cli(out, "adact --data " TR_DATA " --hidden 5 --iters 2 --val 0.2 --store %s "
		      "--sweep withval --quiet",
		 db);
	CHECK(rc == 0 && q1(db, "SELECT COUNT(*) FROM epochs e JOIN runs r ON r.id=e.run WHERE "
				"r.sweep='withval' AND e.val_acc IS NOT NULL") == 2,
	      "adact --store --val: %s", out);
	/* one pair (a plain train/test run per trainer) has a difference but no
	 * p-values */
	for (int a = 0; a < 2; a++) {
		rc = cli(out, "adact --data synthetic:n=200,test=200,classes=6,h=4,w=4 --hidden 5 "
			      "--iters 2 --val 0.2 --algo %s --store %s --sweep onepair --quiet",
			 algo[a], db);
		REQUIRE(rc == 0, "%s --store: %s", algo[a], out);
	}
	rc = cli(out, "report --store %s --sweep onepair --select best-val --baseline adam", db);
	CHECK(rc == 0 && !contains(out, "| +0.0000 |") && contains(out, "| – | – |\n") &&
		      !contains(out, "| 1.000 |"),
	      "one pair with a difference: %s", out);
}

/* parameters of model (with a width multiplier) for act on 1x28x28, 10 classes */
static size_t nparams_of(const char *model, const char *act, double width)
{
	al_model_opts mo = al_model_opts_default();
	mo.act = act;
	mo.width = width;
	mo.no_init = 1;
	int c = 0, h = 0, w = 0;
	if (al_model_declared_input(model, &mo, &c, &h, &w) != AL_OK)
		al_err_clear();
	mo.in_c = c ? c : 1;
	mo.in_h = h ? h : 28;
	mo.in_w = w ? w : 28;
	al_model *m = NULL;
	if (al_model_create(model, &mo, &m) != AL_OK)
		return 0;
	size_t n = al_model_nparams(m);
	al_model_free(m);
	return n;
}

/* match_params on CNNs: a common width multiplier of the literal conv
 * filter counts and dense widths brings each activation's count within 2%
 * of the baseline's (and closer than unscaled); models whose channels are
 * tied by fixed counts are refused by name */
TEST(sweep_match_params_cnn)
{
	al_sweep *sw = NULL;
	REQUIRE_OK(al_sweep_parse("[sweep]\nname = mpc\n"
				  "data = synthetic:n=100,test=50,classes=10,h=28,w=28\n"
				  "model = lenet5 | lenet-hu | experiments/models/vgg2-blocks.cfg\n"
				  "act = relu | adact | prelu:per=channel | tsqrt\nmatch_params = 1\n"
				  "epochs = 1\n",
				  "mpc.ini", NULL, 0, &sw));
	int scaled = 0;
	for (int i = 0; i < sw->nruns; i++) {
		const al_sweep_run *r = &sw->runs[i];
		size_t base = nparams_of(r->config.model, "relu", 1);
		size_t plain = nparams_of(r->config.model, r->act, 1);
		size_t got = nparams_of(r->config.model, r->act, r->config.width);
		REQUIRE(base && plain && got, "%s %s: model not built: %s", r->config.model, r->act,
			al_errmsg());
		double rel = fabs((double)got - (double)base) / (double)base;
		if (!strcmp(r->act, "relu")) {
			CHECK(r->config.width == 1, "baseline scaled");
			continue;
		}
		CHECK(rel <= 0.02, "%s %s: %zu vs relu %zu (width %g)", r->config.model, r->act, got,
		      base, r->config.width);
		CHECK(llabs((long long)got - (long long)base) <= llabs((long long)plain - (long long)base),
		      "%s %s: matched %zu is no closer to %zu than %zu", r->config.model, r->act, got,
		      base, plain);
		CHECK(strstr(r->cell, "width=") == NULL, "the cell stays the requested model");
		scaled += r->config.width != 1;
	}
	CHECK(scaled >= 3, "only %d runs scaled", scaled);
	al_sweep_free(sw);
	/* the scaled cfg: lenet5's 6/16 filters and 120/84 units scale, the
	 * classifier keeps $CLASSES outputs */
	al_model_opts mo = al_model_opts_default();
	mo.width = 2;
	al_model *m = NULL;
	REQUIRE_OK(al_model_create("lenet5", &mo, &m));
	const char *cfg = al_model_cfg_text(m);
	CHECK(strstr(cfg, "filters = 12") && strstr(cfg, "filters = 32") && strstr(cfg, "out = 240") &&
		      strstr(cfg, "out = 168") && strstr(cfg, "out = 10"),
	      "scaled cfg:\n%s", cfg);
	al_model_free(m);
	CHECK(al_sweep_parse("[sweep]\ndata = synthetic:n=100,test=50,classes=10,h=28,w=28\n"
			     "model = resnet20\nact = relu | prelu:per=channel\nmatch_params = 1\n",
			     "r.ini", NULL, 0, &sw) != AL_OK &&
		      contains(al_errmsg(), "resnet20") && contains(al_errmsg(), "match_params"),
	      "resnet20: %s", al_errmsg());
}
