/* test_cli.c — tests of the actlab command-line tool as a user meets it:
 * help texts and their defaults, exit codes (0 ok, 1 runtime error,
 * 2 usage error) and messages that name the bad thing, cfg-file errors with
 * file and line, a tiny synthetic training run with --json, the activation
 * catalog as JSON, `act eval` on .npy files, and checkpoints (a good one
 * reproduces the trained accuracy; corrupted, truncated and foreign files
 * are rejected).
 * Not for: numerics of the kernels (test_act.c, test_parity.c).
 * Everything uses synthetic data, so it runs in a few seconds.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actlab/act.h"
#include "actlab/core.h"
#include "actlab/tensor.h"
#include "actlab/train.h"
#include "test.h"

#define OUTCAP 65536

/* ---- helpers ----------------------------------------------------------- */
/* test_tmpdir()/cli_<name>; rotating static buffers. */
static const char *tpath(const char *name)
{
	static char buf[16][512];
	static int slot;
	char *p = buf[slot++ % 16];
	snprintf(p, 512, "%s/cli_%s", test_tmpdir(), name);
	return p;
}

/* Runs `actlab ARGS`; out gets stdout and stderr together. */
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

/* Runs `actlab ARGS` with stderr discarded; out gets stdout only. */
static int cli_stdout(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int cli_stdout(char *out, const char *fmt, ...)
{
	char args[4096], cmd[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof cmd, "( %s %s 2>/dev/null )", actlab_bin(), args);
	return run_cmd(cmd, out, OUTCAP);
}

static int contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return 0;
}

static int file_exists(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0;
}

static int write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	int ok = fputs(text, f) >= 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* Last non-empty line of s, copied into line (cap bytes). */
static void last_line(const char *s, char *line, size_t cap)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	size_t b = n;
	while (b && s[b - 1] != '\n')
		b--;
	size_t l = n - b < cap - 1 ? n - b : cap - 1;
	memcpy(line, s + b, l);
	line[l] = 0;
}

/* The raw text of the value of "key" in a flat JSON object (up to , or }). */
static int json_raw(const char *json, const char *key, char *val, size_t cap)
{
	char pat[80];
	snprintf(pat, sizeof pat, "\"%s\":", key);
	const char *p = strstr(json, pat);
	if (!p)
		return -1;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	size_t l = strcspn(p, ",}");
	if (l >= cap)
		l = cap - 1;
	memcpy(val, p, l);
	val[l] = 0;
	while (l && isspace((unsigned char)val[l - 1]))
		val[--l] = 0;
	return 0;
}

static double json_num(const char *json, const char *key)
{
	char v[64];
	if (json_raw(json, key, v, sizeof v) != 0)
		return (double)NAN;
	char *end;
	double d = strtod(v, &end);
	return end == v ? (double)NAN : d;
}

/* Whether Debian's python3 (with its json module) can be run. */
static int have_python(void)
{
	static int cached = -1;
	if (cached < 0)
		cached = access("/usr/bin/python3", X_OK) == 0 &&
			 system("/usr/bin/python3 -c 'import json' >/dev/null 2>&1") == 0;
	return cached;
}

/* Message names the file and a line: "FILE:N" or "FILE ... line N". */
static int names_file_line(const char *msg, const char *file, int line)
{
	char a[600], b[32];
	snprintf(a, sizeof a, "%s:%d", file, line);
	snprintf(b, sizeof b, "line %d", line);
	if (strstr(msg, a))
		return 1;
	return strstr(msg, file) && strstr(msg, b);
}

static int write_f32(const char *path, int ndim, const int64_t *shape, const float *data)
{
	return al_npy_write(path, AL_NPY_F32, ndim, shape, data) == AL_OK ? 0 : -1;
}

/* ---- top level ------------------------------------------------------------ */
TEST(cli_no_args_exit_2)
{
	static char out[OUTCAP];
	int rc = cli(out, "%s", "");
	CHECK(rc == 2, "actlab with no arguments exited %d", rc);
	CHECK(contains_ci(out, "usage"), "no usage text: %s", out);
}

TEST(cli_unknown_command_exit_2)
{
	static char out[OUTCAP];
	int rc = cli(out, "frobnicate");
	CHECK(rc == 2, "unknown command exited %d", rc);
	CHECK(strstr(out, "frobnicate"), "message does not name the command: %s", out);
	rc = cli(out, "act frobnicate");
	CHECK(rc == 2, "unknown act subcommand exited %d", rc);
	CHECK(strstr(out, "frobnicate"), "act: message does not name the subcommand: %s", out);
	rc = cli(out, "act");
	CHECK(rc == 2, "`actlab act` without a subcommand exited %d", rc);
}

TEST(cli_version)
{
	static char out[OUTCAP];
	int rc = cli(out, "version");
	CHECK(rc == 0, "version exited %d", rc);
	CHECK(strstr(out, AL_VERSION), "version output lacks %s: %s", AL_VERSION, out);
	rc = cli(out, "--version");
	CHECK(rc == 0 && strstr(out, AL_VERSION), "--version: rc %d: %s", rc, out);
}

/* ---- help texts ------------------------------------------------------------- */
TEST(cli_help_main)
{
	static char out[OUTCAP];
	int rc = cli(out, "--help");
	CHECK(rc == 0, "--help exited %d", rc);
	static const char *cmds[] = {"train", "eval", "act list", "act eval", "models", "version"};
	for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
		CHECK(strstr(out, cmds[i]), "main help does not list '%s'", cmds[i]);
	CHECK(contains_ci(out, "default"), "main help mentions no default: %s", out);
	rc = cli(out, "help");
	CHECK(rc == 0, "`actlab help` exited %d", rc);
}

TEST(cli_help_train)
{
	static char out[OUTCAP];
	int rc = cli(out, "train --help");
	CHECK(rc == 0, "train --help exited %d", rc);
	/* every default printed must be the library's actual default */
	al_train_config d = al_train_config_default();
	char want[16][96];
	int n = 0;
	snprintf(want[n++], 96, "default %s", d.model);
	snprintf(want[n++], 96, "default %s", d.act);
	snprintf(want[n++], 96, "default %s", d.act_sites);
	snprintf(want[n++], 96, "default %s", d.data);
	snprintf(want[n++], 96, "default %d)", d.epochs);
	snprintf(want[n++], 96, "default %d)", d.batch);
	snprintf(want[n++], 96, "default %s)", al_optim_kind_name(d.opt.kind));
	snprintf(want[n++], 96, "default %g)", d.opt.lr);
	snprintf(want[n++], 96, "default %s)", d.sched);
	snprintf(want[n++], 96, "default %llu)", (unsigned long long)d.seed);
	snprintf(want[n++], 96, "default %d)", d.threads);
	snprintf(want[n++], 96, "default %d)", d.eval_batch);
	snprintf(want[n++], 96, "default %s)", d.norm);
	for (int i = 0; i < n; i++)
		CHECK(strstr(out, want[i]), "train --help lacks '%s'", want[i]);
	static const char *opts[] = {"--model", "--act", "--data", "--epochs", "--batch", "--opt",
				     "--lr", "--momentum", "--wd", "--act-lr", "--act-wd",
				     "--sched", "--seed", "--out", "--json", "--quiet"};
	for (size_t i = 0; i < sizeof opts / sizeof *opts; i++)
		CHECK(strstr(out, opts[i]), "train --help lacks %s", opts[i]);
}

TEST(cli_help_eval)
{
	static char out[OUTCAP];
	int rc = cli(out, "eval --help");
	CHECK(rc == 0, "eval --help exited %d", rc);
	CHECK(contains_ci(out, "default"), "eval --help mentions no default: %s", out);
	CHECK(strstr(out, "--ckpt") && strstr(out, "--batch 500") && strstr(out, "--threads 2"),
	      "eval --help lacks --ckpt or its defaults: %s", out);
}

TEST(cli_help_act_eval)
{
	static char out[OUTCAP];
	int rc = cli(out, "act eval --help");
	CHECK(rc == 0, "act eval --help exited %d", rc);
	CHECK(contains_ci(out, "default"), "act eval --help mentions no default: %s", out);
	CHECK(strstr(out, "--threads 1") && strstr(out, "--seed 1"),
	      "act eval --help lacks its defaults: %s", out);
	CHECK(strstr(out, "--dy") && strstr(out, "--dparams") && strstr(out, "--params"),
	      "act eval --help lacks options: %s", out);
	rc = cli(out, "act --help");
	CHECK(rc == 0 && strstr(out, "list") && strstr(out, "eval"), "act --help: rc %d: %s", rc,
	      out);
}

TEST(cli_help_act_list)
{
	static char out[OUTCAP];
	int rc = cli(out, "act list --help");
	CHECK(rc == 0, "act list --help exited %d", rc);
	CHECK(strstr(out, "--json") && strstr(out, "--markdown"), "act list --help: %s", out);
	/* the default output (a plain table) should be stated */
	CHECK(contains_ci(out, "default"), "act list --help mentions no default: %s", out);
}

TEST(cli_help_models)
{
	static char out[OUTCAP];
	int rc = cli(out, "models --help");
	CHECK(rc == 0, "models --help exited %d", rc);
	CHECK(strstr(out, "--params"), "models --help lacks --params: %s", out);
	CHECK(contains_ci(out, "default"), "models --help mentions no default: %s", out);
}

/* ---- train: usage errors ------------------------------------------------------ */
TEST(cli_train_unknown_option)
{
	static char out[OUTCAP];
	int rc = cli(out, "train --bogus-flag 3 --data synthetic --model mlp:4 --epochs 1");
	CHECK(rc == 2, "unknown option exited %d: %s", rc, out);
	CHECK(strstr(out, "bogus"), "message does not name the option: %s", out);
	CHECK(contains_ci(out, "valid") && strstr(out, "epochs"), "message lists no valid options: %s",
	      out);
	rc = cli(out, "train stray-positional --data synthetic");
	CHECK(rc == 2 && strstr(out, "stray-positional"), "positional: rc %d: %s", rc, out);
}

TEST(cli_train_missing_value)
{
	static char out[OUTCAP];
	int rc = cli(out, "train --data synthetic --model mlp:4 --epochs");
	CHECK(rc == 2, "--epochs without a value exited %d", rc);
	CHECK(strstr(out, "epochs"), "message does not name --epochs: %s", out);
	rc = cli(out, "train --lr --epochs 1 --data synthetic --model mlp:4");
	CHECK(rc == 2, "--lr followed by another option exited %d", rc);
	CHECK(strstr(out, "lr"), "message does not name --lr: %s", out);
}

TEST(cli_train_bad_numbers)
{
	static char out[OUTCAP];
	static const struct {
		const char *args, *frag;
	} bad[] = {
		{"--epochs abc", "abc"},  {"--epochs 1.5", "1.5"},  {"--epochs -1", "epochs"},
		{"--batch 0", "batch"},   {"--batch 12x", "12x"},   {"--lr fast", "fast"},
		{"--lr -0.1", "lr"},      {"--momentum 1", "momentum"}, {"--seed -3", "seed"},
		{"--threads 0", "threads"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		int rc = cli(out, "train %s --data synthetic --model mlp:4 --quiet", bad[i].args);
		CHECK(rc == 2, "train %s exited %d: %s", bad[i].args, rc, out);
		CHECK(strstr(out, bad[i].frag), "train %s: message lacks '%s': %s", bad[i].args,
		      bad[i].frag, out);
	}
}

TEST(cli_train_unknown_act_lists_names)
{
	static char out[OUTCAP];
	int rc = cli(out, "train --act nosuchact --data synthetic --model mlp:4 --epochs 1");
	CHECK(rc == 2, "unknown --act exited %d", rc);
	CHECK(strstr(out, "nosuchact"), "message does not name the activation: %s", out);
	for (int i = 0; i < al_act_count(); i++)
		CHECK(strstr(out, al_act_get(i)->name), "message does not list '%s': %s",
		      al_act_get(i)->name, out);
	/* a bad key of a valid activation */
	rc = cli(out, "train --act leaky_relu:bogus=1 --data synthetic --model mlp:4 --epochs 1");
	CHECK(rc == 2, "unknown --act key exited %d", rc);
	CHECK(strstr(out, "bogus"), "message does not name the key: %s", out);
}

TEST(cli_train_unknown_opt)
{
	static char out[OUTCAP];
	int rc = cli(out, "train --opt rmsprop --data synthetic --model mlp:4 --epochs 1");
	CHECK(rc == 2, "unknown --opt exited %d", rc);
	CHECK(strstr(out, "rmsprop"), "message does not name the optimizer: %s", out);
	CHECK(strstr(out, "sgd") && strstr(out, "adam"), "message lists no valid optimizers: %s", out);
}

TEST(cli_train_bad_sched)
{
	static char out[OUTCAP];
	static const char *bad[] = {"wobble", "step:0", "multistep:a,b", "cosine:min=7"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		int rc = cli(out, "train --sched %s --data synthetic --model mlp:4 --epochs 1 --quiet",
			     bad[i]);
		CHECK(rc == 2, "--sched %s exited %d: %s", bad[i], rc, out);
		/* the message names the offending text (the whole spec or the bad part) */
		const char *frag = strchr(bad[i], ':') ? strchr(bad[i], ':') + 1 : bad[i];
		CHECK(strstr(out, bad[i]) || strstr(out, frag), "--sched %s: message: %s", bad[i], out);
	}
}

TEST(cli_train_missing_model_file)
{
	static char out[OUTCAP];
	const char *path = tpath("no_such_model.cfg");
	int rc = cli(out, "train --model %s --data synthetic --epochs 1 --quiet", path);
	CHECK(rc != 0, "missing model file exited 0");
	CHECK(strstr(out, path), "message does not name the file: %s", out);
}

TEST(cli_train_cfg_errors_name_file_and_line)
{
	static char out[OUTCAP];
	static const struct {
		const char *name, *text, *frag;
		int line, alt_line; /* the defect's line; alt: its section's line */
	} bad[] = {
		{"badtype.cfg", "[dense]\nout = 8\n[bogus_layer]\nx = 1\n[dense]\nout = $CLASSES\n",
		 "bogus_layer", 3, 3},
		{"badkey.cfg", "# comment\n[dense]\nout = 8\nfrobs = 3\n[dense]\nout = $CLASSES\n",
		 "frobs", 4, 2},
		{"badline.cfg", "[dense]\nout = 8\nthis line has no equals sign\n[dense]\nout = $CLASSES\n",
		 NULL, 3, 3},
		{"badheader.cfg", "[dense]\nout = 8\n[dense\nout = $CLASSES\n", NULL, 3, 3},
		{"badint.cfg", "[dense]\nout = 8\n\n[dense]\nout = many\n", "many", 5, 4},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		const char *path = tpath(bad[i].name);
		REQUIRE(write_text(path, bad[i].text) == 0, "cannot write %s", path);
		int rc = cli(out, "train --model %s --data synthetic --epochs 1 --quiet", path);
		CHECK(rc != 0, "%s: exited 0", bad[i].name);
		CHECK(strstr(out, "actlab: error") || strstr(out, "actlab: usage error"),
		      "%s: no 'actlab: error' prefix: %s", bad[i].name, out);
		CHECK(names_file_line(out, path, bad[i].line) ||
			      names_file_line(out, path, bad[i].alt_line),
		      "%s: message lacks file and line %d: %s", bad[i].name, bad[i].line, out);
		CHECK(!bad[i].frag || strstr(out, bad[i].frag), "%s: message lacks '%s': %s",
		      bad[i].name, bad[i].frag, out);
	}
}

/* ---- train: a tiny synthetic run ------------------------------------------------- */
TEST(cli_train_synthetic_json)
{
	static char out[OUTCAP];
	double t0 = al_now();
	int rc = cli_stdout(out, "train --model mlp:16 --epochs 1 --data synthetic --json --quiet");
	double dt = al_now() - t0;
	REQUIRE(rc == 0, "train exited %d: %s", rc, out);
	CHECK(dt < 10, "a 1-epoch synthetic run took %.1f s", dt);
	char line[OUTCAP];
	last_line(out, line, sizeof line);
	size_t l = strlen(line);
	CHECK(l > 2 && line[0] == '{' && line[l - 1] == '}', "last stdout line is not an object: %s",
	      line);
	/* --quiet: stdout holds the JSON line only */
	CHECK(strcmp(line, out) == 0 || (strncmp(out, line, l) == 0 && out[l] == '\n' && !out[l + 1]),
	      "stdout has more than the JSON line: %s", out);
	static const char *keys[] = {"test_acc", "test_loss", "macro_precision", "img_per_s",
				     "params",   "peak_rss_mb", "epochs",        "seconds"};
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
		char pat[64];
		snprintf(pat, sizeof pat, "\"%s\":", keys[i]);
		CHECK(strstr(line, pat), "JSON lacks key %s: %s", keys[i], line);
	}
	double acc = json_num(line, "test_acc");
	CHECK(acc >= 0 && acc <= 1, "test_acc %g", acc);
	CHECK(json_num(line, "epochs") == 1, "epochs %g", json_num(line, "epochs"));
	CHECK(json_num(line, "params") > 0, "params %g", json_num(line, "params"));
	CHECK(json_num(line, "img_per_s") > 0, "img_per_s %g", json_num(line, "img_per_s"));
	CHECK(json_num(line, "peak_rss_mb") > 0, "peak_rss_mb %g", json_num(line, "peak_rss_mb"));
	CHECK(isfinite(json_num(line, "test_loss")), "test_loss %g", json_num(line, "test_loss"));
	if (have_python()) {
		char path[600], cmd[1400], pout[4096];
		snprintf(path, sizeof path, "%s", tpath("train.json"));
		REQUIRE(write_text(path, line) == 0, "write");
		snprintf(cmd, sizeof cmd,
			 "/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
			 "assert isinstance(d, dict); print(d[\"epochs\"])' %s",
			 path);
		int prc = run_cmd(cmd, pout, sizeof pout);
		CHECK(prc == 0, "train --json output is not valid JSON: %s", pout);
	}
}

/* ---- act list ------------------------------------------------------------------ */
TEST(cli_act_list_json)
{
	static char out[OUTCAP];
	int rc = cli_stdout(out, "act list --json");
	REQUIRE(rc == 0, "act list --json exited %d", rc);
	const char *p = out;
	while (isspace((unsigned char)*p))
		p++;
	CHECK(*p == '[', "output does not start with '[': %.40s", p);
	size_t l = strlen(out);
	while (l && isspace((unsigned char)out[l - 1]))
		l--;
	CHECK(l && out[l - 1] == ']', "output does not end with ']'");
	static const char *keys[] = {"\"name\":", "\"kind\":", "\"hyper\":", "\"params\":"};
	for (size_t i = 0; i < 4; i++)
		CHECK(strstr(out, keys[i]), "no %s in the catalog JSON", keys[i]);
	/* every catalog entry appears by name, with its kind */
	for (int i = 0; i < al_act_count(); i++) {
		char pat[128];
		snprintf(pat, sizeof pat, "\"name\": \"%s\"", al_act_get(i)->name);
		const char *e = strstr(out, pat);
		CHECK(e, "entry %s missing", al_act_get(i)->name);
		if (e) {
			const char *end = strchr(e, '\n');
			const char *k = strstr(e, "\"kind\":"), *h = strstr(e, "\"hyper\":"),
				   *pr = strstr(e, "\"params\":");
			CHECK(k && h && pr && (!end || (k < end && h < end && pr < end)),
			      "entry %s lacks kind/hyper/params", al_act_get(i)->name);
		}
	}
	if (have_python()) {
		char path[600], cmd[1600], pout[4096];
		snprintf(path, sizeof path, "%s", tpath("acts.json"));
		REQUIRE(write_text(path, out) == 0, "write");
		snprintf(cmd, sizeof cmd,
			 "/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
			 "assert isinstance(d, list); "
			 "assert all(isinstance(e, dict) and {\"name\",\"kind\",\"hyper\",\"params\"} <= "
			 "set(e) for e in d); print(len(d))' %s",
			 path);
		int prc = run_cmd(cmd, pout, sizeof pout);
		CHECK(prc == 0, "act list --json is not a valid JSON array of entries: %s", pout);
		CHECK(prc != 0 || atoi(pout) == al_act_count(), "JSON has %d entries, catalog %d",
		      atoi(pout), al_act_count());
	}
}

/* ---- act eval --------------------------------------------------------------------- */
static float xval(int i) { return (float)(((i * 37) % 23) - 11) * 0.25f + 0.125f; } /* never 0 */

TEST(cli_act_eval_2d)
{
	static char out[OUTCAP];
	float x[15];
	for (int i = 0; i < 15; i++)
		x[i] = xval(i);
	int64_t sh[2] = {3, 5};
	const char *xp = tpath("x2.npy"), *yp = tpath("y2.npy");
	REQUIRE(write_f32(xp, 2, sh, x) == 0, "write x: %s", al_errmsg());
	int rc = cli_stdout(out, "act eval --act leaky_relu:slope=0.2 --in %s --out %s --json", xp,
			    yp);
	REQUIRE(rc == 0, "act eval exited %d", rc);
	CHECK(strstr(out, "\"n\": 3") && strstr(out, "\"c\": 5"), "json: %s", out);
	al_tensor y;
	REQUIRE_OK(al_npy_read_f32(yp, &y));
	CHECK(y.ndim == 2 && y.shape[0] == 3 && y.shape[1] == 5, "y shape %d-D", y.ndim);
	for (int i = 0; i < 15; i++) {
		double want = x[i] > 0 ? (double)x[i] : 0.2 * (double)x[i];
		CHECK_NEAR(y.data[i], want, 1e-6);
	}
	al_tensor_free(&y);
	/* other dtypes are converted (float64 input) */
	double xd[15];
	for (int i = 0; i < 15; i++)
		xd[i] = x[i];
	const char *xdp = tpath("x2d.npy");
	REQUIRE_OK(al_npy_write(xdp, AL_NPY_F64, 2, sh, xd));
	rc = cli(out, "act eval --act relu --in %s --out %s", xdp, yp);
	REQUIRE(rc == 0, "act eval of float64 exited %d: %s", rc, out);
	REQUIRE_OK(al_npy_read_f32(yp, &y));
	for (int i = 0; i < 15; i++)
		CHECK_NEAR(y.data[i], x[i] > 0 ? (double)x[i] : 0.0, 0);
	al_tensor_free(&y);
}

TEST(cli_act_eval_4d_backward)
{
	static char out[OUTCAP];
	enum { N = 2 * 3 * 4 * 5 };
	float x[N], dy[N];
	for (int i = 0; i < N; i++) {
		x[i] = xval(i);
		dy[i] = (float)((i % 7) - 3) * 0.5f + 0.25f;
	}
	int64_t sh[4] = {2, 3, 4, 5};
	const char *xp = tpath("x4.npy"), *yp = tpath("y4.npy"), *dyp = tpath("dy4.npy"),
		   *dxp = tpath("dx4.npy");
	REQUIRE(write_f32(xp, 4, sh, x) == 0 && write_f32(dyp, 4, sh, dy) == 0, "write");
	int rc = cli(out, "act eval --act relu --in %s --out %s --dy %s --dx %s", xp, yp, dyp, dxp);
	REQUIRE(rc == 0, "act eval exited %d: %s", rc, out);
	al_tensor y, dx;
	REQUIRE_OK(al_npy_read_f32(yp, &y));
	REQUIRE_OK(al_npy_read_f32(dxp, &dx));
	CHECK(y.ndim == 4 && dx.ndim == 4 && dx.shape[3] == 5, "shapes");
	for (int i = 0; i < N; i++) {
		CHECK_NEAR(y.data[i], x[i] > 0 ? (double)x[i] : 0.0, 0);
		CHECK_NEAR(dx.data[i], x[i] > 0 ? (double)dy[i] : 0.0, 0);
	}
	al_tensor_free(&y);
	al_tensor_free(&dx);
}

TEST(cli_act_eval_3d_input_rejected)
{
	static char out[OUTCAP];
	float x[24] = {0};
	int64_t sh[3] = {2, 3, 4};
	const char *xp = tpath("x3.npy"), *yp = tpath("y3.npy");
	REQUIRE(write_f32(xp, 3, sh, x) == 0, "write");
	int rc = cli(out, "act eval --act relu --in %s --out %s", xp, yp);
	CHECK(rc != 0, "3-D input accepted");
	CHECK(strstr(out, "x3.npy"), "message does not name the input: %s", out);
	CHECK(strstr(out, "3-D") || contains_ci(out, "3 dim"), "message does not say 3-D: %s", out);
	CHECK(strstr(out, "2-D") && strstr(out, "4-D"), "message does not say what is valid: %s", out);
	CHECK(!file_exists(yp), "an output was written for a rejected input");
}

TEST(cli_act_eval_dy_without_dx)
{
	static char out[OUTCAP];
	float x[4] = {1, -1, 2, -2};
	int64_t sh[2] = {2, 2};
	const char *xp = tpath("xdy.npy");
	REQUIRE(write_f32(xp, 2, sh, x) == 0, "write");
	int rc = cli(out, "act eval --act relu --in %s --out %s --dy %s", xp, tpath("ydy.npy"), xp);
	CHECK(rc == 2, "--dy without --dx exited %d", rc);
	CHECK(strstr(out, "--dx"), "message does not mention --dx: %s", out);
	rc = cli(out, "act eval --act relu --in %s --out %s --dx %s", xp, tpath("ydy.npy"),
		 tpath("dxdy.npy"));
	CHECK(rc == 2, "--dx without --dy exited %d", rc);
	rc = cli(out, "act eval --act relu --in %s", xp);
	CHECK(rc == 2, "missing --out exited %d", rc);
	rc = cli(out, "act eval --act nosuch --in %s --out %s", xp, tpath("ydy.npy"));
	CHECK(rc == 2 && strstr(out, "nosuch"), "unknown --act: rc %d: %s", rc, out);
	rc = cli(out, "act eval --act relu --in %s --out %s", tpath("missing.npy"), tpath("ydy.npy"));
	CHECK(rc == 1 && strstr(out, "missing.npy"), "missing input: rc %d: %s", rc, out);
}

TEST(cli_act_eval_dy_numel_mismatch)
{
	static char out[OUTCAP];
	float x[120] = {0}, dy[96] = {0};
	int64_t sx[4] = {2, 3, 4, 5}, sd[4] = {2, 3, 4, 4};
	const char *xp = tpath("xm.npy"), *dyp = tpath("dym.npy");
	REQUIRE(write_f32(xp, 4, sx, x) == 0 && write_f32(dyp, 4, sd, dy) == 0, "write");
	int rc = cli(out, "act eval --act relu --in %s --out %s --dy %s --dx %s", xp,
		     tpath("ym.npy"), dyp, tpath("dxm.npy"));
	CHECK(rc != 0, "dy of another size accepted");
	CHECK(strstr(out, "dym.npy"), "message does not name the dy file: %s", out);
	CHECK(!file_exists(tpath("dxm.npy")), "dx written despite the mismatch");
}

TEST(cli_act_eval_dy_same_numel_other_shape)
{
	/* dy (2,3,5,4) for x (2,3,4,5): same element count, different shape */
	static char out[OUTCAP];
	float x[120] = {0}, dy[120] = {0};
	int64_t sx[4] = {2, 3, 4, 5}, sd[4] = {2, 3, 5, 4};
	const char *xp = tpath("xp.npy"), *dyp = tpath("dyp.npy");
	REQUIRE(write_f32(xp, 4, sx, x) == 0 && write_f32(dyp, 4, sd, dy) == 0, "write");
	int rc = cli(out, "act eval --act relu --in %s --out %s --dy %s --dx %s", xp,
		     tpath("yp.npy"), dyp, tpath("dxp.npy"));
	CHECK(rc != 0, "dy of shape (2,3,5,4) accepted for x of shape (2,3,4,5)");
	CHECK(rc == 0 || strstr(out, "dyp.npy"), "message does not name the dy file: %s", out);
}

/* x (2,3,4,5) with a prelu:per=channel spec; alpha per channel */
static void write_prelu_inputs(float *x, float *dy, const char **xp, const char **dyp)
{
	for (int i = 0; i < 120; i++) {
		x[i] = xval(i);
		dy[i] = (float)((i % 5) - 2) * 0.5f + 0.25f;
	}
	int64_t sh[4] = {2, 3, 4, 5};
	*xp = tpath("xpr.npy");
	*dyp = tpath("dypr.npy");
	if (write_f32(*xp, 4, sh, x) || write_f32(*dyp, 4, sh, dy))
		fprintf(stderr, "write failed: %s\n", al_errmsg());
}

TEST(cli_act_eval_params_wrong_count)
{
	static char out[OUTCAP];
	float x[120], dy[120];
	const char *xp, *dyp;
	write_prelu_inputs(x, dy, &xp, &dyp);
	float a[4] = {0.1f, 0.2f, 0.3f, 0.4f};
	int64_t sa[2] = {4, 1};
	const char *ap = tpath("alpha4.npy");
	REQUIRE(write_f32(ap, 2, sa, a) == 0, "write");
	int rc = cli(out, "act eval --act prelu:per=channel --in %s --out %s --params %s", xp,
		     tpath("ypw.npy"), ap);
	CHECK(rc != 0, "4 alphas accepted for 3 channels");
	CHECK(strstr(out, "alpha4.npy"), "message does not name the params file: %s", out);
	CHECK(strstr(out, "[3, 1]"), "message does not give the expected shape [3, 1]: %s", out);
}

TEST(cli_act_eval_prelu_per_channel)
{
	static char out[OUTCAP];
	float x[120], dy[120];
	const char *xp, *dyp;
	write_prelu_inputs(x, dy, &xp, &dyp);
	const float a[3] = {0.1f, 0.2f, 0.3f};
	int64_t sa[2] = {3, 1};
	const char *ap = tpath("alpha3.npy"), *yp = tpath("ypr.npy"), *dxp = tpath("dxpr.npy"),
		   *dpp = tpath("dppr.npy");
	REQUIRE(write_f32(ap, 2, sa, a) == 0, "write");
	int rc = cli(out,
		     "act eval --act prelu:per=channel --in %s --out %s --params %s --dy %s --dx %s "
		     "--dparams %s",
		     xp, yp, ap, dyp, dxp, dpp);
	REQUIRE(rc == 0, "act eval exited %d: %s", rc, out);
	al_tensor y, dx;
	REQUIRE_OK(al_npy_read_f32(yp, &y));
	REQUIRE_OK(al_npy_read_f32(dxp, &dx));
	double dp_want[3] = {0, 0, 0};
	for (int i = 0; i < 120; i++) {
		int c = (i / 20) % 3;
		double xi = x[i], ai = a[c];
		CHECK_NEAR(y.data[i], xi > 0 ? xi : ai * xi, 1e-6);
		CHECK_NEAR(dx.data[i], xi > 0 ? (double)dy[i] : ai * (double)dy[i], 1e-6);
		if (xi <= 0)
			dp_want[c] += (double)dy[i] * xi;
	}
	al_tensor_free(&y);
	al_tensor_free(&dx);
	al_npy dp;
	REQUIRE_OK(al_npy_read(dpp, &dp));
	CHECK(dp.dtype == AL_NPY_F32, "dparams dtype %d", (int)dp.dtype);
	CHECK(dp.ndim == 2 && dp.shape[0] == 3 && dp.shape[1] == 1,
	      "dparams shape %d-D (%lld, %lld), expected (3, 1)", dp.ndim, (long long)dp.shape[0],
	      (long long)dp.shape[1]);
	if (dp.ndim == 2 && dp.shape[0] == 3)
		for (int c = 0; c < 3; c++)
			CHECK_NEAR(((float *)dp.data)[c], dp_want[c], 1e-4 * (1 + fabs(dp_want[c])));
	al_npy_free(&dp);
}

/* ---- checkpoints ---------------------------------------------------------------- */
/* One tiny training run with --out, shared by the checkpoint tests. */
static char ck_dir[600], ck_path[700], ck_json[OUTCAP];
static int ck_state; /* 0 not tried, 1 ok, -1 failed */

static int trained_ckpt(void)
{
	if (ck_state)
		return ck_state > 0;
	static char out[OUTCAP];
	snprintf(ck_dir, sizeof ck_dir, "%s", tpath("run"));
	snprintf(ck_path, sizeof ck_path, "%s/ckpt.bin", ck_dir);
	int rc = cli_stdout(out,
			    "train --model mlp:8 --epochs 2 --data synthetic --out %s --json --quiet",
			    ck_dir);
	last_line(out, ck_json, sizeof ck_json);
	ck_state = rc == 0 && file_exists(ck_path) && strstr(ck_json, "\"test_acc\"") ? 1 : -1;
	if (ck_state < 0)
		fprintf(stderr, "checkpoint training failed (rc %d): %s\n", rc, out);
	return ck_state > 0;
}

/* Copies the trained checkpoint to name, optionally truncated to len bytes
 * (len < 0: whole) and with byte flip_at XOR 0xff (flip_at < 0: none). */
static const char *ckpt_variant(const char *name, long len, long flip_at, long *size)
{
	const char *dst = tpath(name);
	FILE *f = fopen(ck_path, "rb");
	if (!f)
		return NULL;
	unsigned char *b = malloc(1 << 22);
	long n = b ? (long)fread(b, 1, 1 << 22, f) : 0;
	fclose(f);
	if (size)
		*size = n;
	if (flip_at >= 0 && flip_at < n)
		b[flip_at] ^= 0xff;
	if (len >= 0 && len < n)
		n = len;
	FILE *o = fopen(dst, "wb");
	int ok = o && fwrite(b, 1, (size_t)n, o) == (size_t)n;
	if (o)
		ok = fclose(o) == 0 && ok;
	free(b);
	return ok ? dst : NULL;
}

TEST(cli_eval_ckpt_reproduces_test_acc)
{
	REQUIRE(trained_ckpt(), "tiny training run failed");
	static char out[OUTCAP];
	char acc_train[64], acc_hist[64], acc_eval[64], line[OUTCAP];
	REQUIRE(json_raw(ck_json, "test_acc", acc_train, sizeof acc_train) == 0, "train json: %s",
		ck_json);
	/* the last history entry is the last epoch: the same value */
	const char *hist = strstr(ck_json, "\"history\"");
	const char *lastep = hist;
	for (const char *p = hist; p && (p = strstr(p + 1, "{\"epoch\""));)
		lastep = p;
	REQUIRE(lastep && lastep != hist, "no history in %s", ck_json);
	REQUIRE(json_raw(lastep, "test_acc", acc_hist, sizeof acc_hist) == 0, "history");
	CHECK(strcmp(acc_train, acc_hist) == 0, "test_acc %s but last epoch %s", acc_train, acc_hist);
	CHECK(json_num(lastep, "epoch") == 2, "last history epoch %g", json_num(lastep, "epoch"));

	int rc = cli_stdout(out, "eval --ckpt %s --json", ck_path);
	REQUIRE(rc == 0, "eval exited %d: %s", rc, out);
	last_line(out, line, sizeof line);
	REQUIRE(json_raw(line, "test_acc", acc_eval, sizeof acc_eval) == 0, "eval json: %s", line);
	CHECK(strcmp(acc_eval, acc_train) == 0, "eval test_acc %s, train printed %s", acc_eval,
	      acc_train);
	CHECK_NEAR(json_num(line, "test_loss"), json_num(ck_json, "test_loss"), 2e-6);
	CHECK(json_num(line, "epoch") == 2, "eval reports epoch %g", json_num(line, "epoch"));
	CHECK(json_num(line, "seconds") > 0 && json_num(line, "img_per_s") > 0,
	      "eval timing: %s", line);
	/* the result does not depend on threads or evaluation batch size */
	rc = cli_stdout(out, "eval --ckpt %s --json --threads 1 --batch 7", ck_path);
	REQUIRE(rc == 0, "eval --threads 1 --batch 7 exited %d", rc);
	last_line(out, line, sizeof line);
	REQUIRE(json_raw(line, "test_acc", acc_eval, sizeof acc_eval) == 0, "eval json: %s", line);
	CHECK(strcmp(acc_eval, acc_train) == 0, "eval (1 thread, batch 7) test_acc %s, train %s",
	      acc_eval, acc_train);
}

TEST(cli_eval_ckpt_corrupted_byte)
{
	REQUIRE(trained_ckpt(), "tiny training run failed");
	static char out[OUTCAP];
	long size = 0;
	const char *bad = ckpt_variant("flipped.bin", -1, -1, &size);
	REQUIRE(bad && size > 100, "copy failed");
	bad = ckpt_variant("flipped.bin", -1, size / 2, NULL);
	REQUIRE(bad, "copy failed");
	int rc = cli(out, "eval --ckpt %s --json", bad);
	CHECK(rc == 1, "corrupted checkpoint: exit %d, expected 1: %s", rc, out);
	CHECK(strstr(out, "CRC"), "message does not mention the CRC: %s", out);
	CHECK(strstr(out, "flipped.bin"), "message does not name the file: %s", out);
	CHECK(strstr(out, "actlab: error:"), "no 'actlab: error:' prefix: %s", out);
	/* the last byte (inside the CRC itself) too */
	bad = ckpt_variant("flipped_end.bin", -1, size - 1, NULL);
	REQUIRE(bad, "copy failed");
	rc = cli(out, "eval --ckpt %s", bad);
	CHECK(rc == 1 && strstr(out, "CRC"), "flipped CRC byte: rc %d: %s", rc, out);
}

TEST(cli_eval_ckpt_truncated)
{
	REQUIRE(trained_ckpt(), "tiny training run failed");
	static char out[OUTCAP];
	long size = 0;
	REQUIRE(ckpt_variant("whole.bin", -1, -1, &size) && size > 100, "copy failed");
	const char *bad = ckpt_variant("half.bin", size / 2, -1, NULL);
	REQUIRE(bad, "copy failed");
	int rc = cli(out, "eval --ckpt %s", bad);
	CHECK(rc == 1, "truncated checkpoint: exit %d: %s", rc, out);
	CHECK(strstr(out, "CRC") || contains_ci(out, "truncated"), "message: %s", out);
	CHECK(strstr(out, "half.bin"), "message does not name the file: %s", out);
	bad = ckpt_variant("short.bin", 10, -1, NULL);
	REQUIRE(bad, "copy failed");
	rc = cli(out, "eval --ckpt %s", bad);
	CHECK(rc == 1 && strstr(out, "short.bin"), "10-byte checkpoint: rc %d: %s", rc, out);
	bad = ckpt_variant("minus4.bin", size - 4, -1, NULL);
	REQUIRE(bad, "copy failed");
	rc = cli(out, "eval --ckpt %s", bad);
	CHECK(rc == 1, "checkpoint without its CRC: rc %d: %s", rc, out);
}

TEST(cli_eval_ckpt_bad_magic)
{
	static char out[OUTCAP];
	const char *path = tpath("not_a_ckpt.bin");
	REQUIRE(write_text(path, "This is a plain text file, certainly not a checkpoint.\n") == 0,
		"write");
	int rc = cli(out, "eval --ckpt %s", path);
	CHECK(rc == 1, "non-checkpoint: exit %d: %s", rc, out);
	CHECK(strstr(out, "bad magic"), "message does not say bad magic: %s", out);
	CHECK(strstr(out, "not_a_ckpt.bin"), "message does not name the file: %s", out);
}

TEST(cli_eval_ckpt_missing_or_directory)
{
	static char out[OUTCAP];
	const char *path = tpath("no_such_ckpt.bin");
	int rc = cli(out, "eval --ckpt %s", path);
	CHECK(rc == 1, "missing checkpoint: exit %d: %s", rc, out);
	CHECK(strstr(out, "no_such_ckpt.bin"), "message does not name the file: %s", out);
	rc = cli(out, "eval --json");
	CHECK(rc == 2, "eval without --ckpt: exit %d", rc);
	/* a directory is not a checkpoint, and reading it is not "out of memory" */
	const char *dir = tpath("ckptdir");
	REQUIRE(mkdir(dir, 0755) == 0 || file_exists(dir), "mkdir");
	rc = cli(out, "eval --ckpt %s", dir);
	CHECK(rc == 1, "directory as checkpoint: exit %d: %s", rc, out);
	CHECK(strstr(out, "ckptdir"), "message does not name the directory: %s", out);
	CHECK(!contains_ci(out, "out of memory"), "a directory reported as out of memory: %s", out);
}

TEST(cli_gradcheck)
{
	char cmd[1024], out[65536];
	snprintf(cmd, sizeof cmd, "%s gradcheck --act tsqrt_tanh --json", actlab_bin());
	int rc = run_cmd(cmd, out, sizeof out);
	CHECK(rc == 0 && strstr(out, "\"ok\": true") && strstr(out, "tsqrt_tanh"), "rc %d: %s", rc,
	      out);
	snprintf(cmd, sizeof cmd, "%s gradcheck --all --points 50", actlab_bin());
	rc = run_cmd(cmd, out, sizeof out);
	CHECK(rc == 0 && strstr(out, "0 failed") && strstr(out, "method1"), "rc %d: %.300s", rc,
	      out);
	snprintf(cmd, sizeof cmd, "%s gradcheck --act nosuch", actlab_bin());
	rc = run_cmd(cmd, out, sizeof out);
	CHECK(rc == 2 && strstr(out, "nosuch"), "rc %d: %s", rc, out);
}

TEST(cli_act_plot)
{
	char cmd[1024], out[8192], path[600];
	snprintf(path, sizeof path, "%s/gelu.png", test_tmpdir());
	snprintf(cmd, sizeof cmd, "%s act plot --act gelu:approximate=tanh --out %s", actlab_bin(),
		 path);
	int rc = run_cmd(cmd, out, sizeof out);
	if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
		CHECK(rc == 1 && strstr(out, "gnuplot"), "without gnuplot: rc %d: %s", rc, out);
		return;
	}
	CHECK(rc == 0, "rc %d: %s", rc, out);
	FILE *f = fopen(path, "rb");
	unsigned char magic[8] = {0};
	if (f) {
		CHECK(fread(magic, 1, 8, f) == 8, "short file");
		fclose(f);
	}
	CHECK(f && !memcmp(magic, "\x89PNG", 4), "%s is not a PNG", path);
	snprintf(cmd, sizeof cmd, "%s act plot --act relu --out %s/x.jpg", actlab_bin(),
		 test_tmpdir());
	CHECK(run_cmd(cmd, out, sizeof out) == 2, "a .jpg output was accepted: %s", out);
	snprintf(cmd, sizeof cmd, "%s act plot --act relu --range 3,1 --out %s/x.svg", actlab_bin(),
		 test_tmpdir());
	CHECK(run_cmd(cmd, out, sizeof out) == 2, "an empty range was accepted: %s", out);
}
