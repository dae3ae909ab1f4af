/* cmd_adact.c — `actlab adact`: the second-order MLP trainer of seed 003
 * (AdAct = MOLF + hinge step + OWO) and its baselines, with k-fold
 * cross-validation. argv -> options -> al_adact_run -> print. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actlab/adact.h"
#include "actlab/core.h"
#include "actlab/exp.h"
#include "cli.h"

static void adact_help(FILE *f)
{
	al_adact_opts d = al_adact_opts_default();
	fprintf(f,
		"usage: actlab adact [options]\n\n"
		"Full-batch training of a two-layer MLP with bypass weights and piecewise-linear\n"
		"hinge activations (Manry convention: standardised inputs, net-control init,\n"
		"output weights by OWO). MSE on one-hot targets; accuracy by argmax.\n\n"
		"  --data SPEC          data set (default fashion-mnist; options :train=N,test=N)\n"
		"  --algo A             adact | molf | owo-bp | cg | lm | sgd | adam (default %s)\n"
		"  --hidden N           hidden units N_h (default %d)\n"
		"  --hinges N           hinges per unit N_s (default %d)\n"
		"  --range LO,HI        hinge range (default %g,%g; odd N_s and a symmetric range\n"
		"                       put a hinge at 0, so the initial relu is exact)\n"
		"  --init relu|leaky_relu  hinge values at init (default relu)\n"
		"  --iters N            iterations; epochs for sgd/adam (default %d)\n"
		"  --per-unit           hinge step with one learning factor per unit\n"
		"  --safeguard N        halvings of a learning factor that raises E (default %d;\n"
		"                       0: off)\n"
		"  --kfold K            stratified K-fold cross-validation over the training part\n"
		"                       (K >= 2; default 0: train/test split)\n"
		"  --fold I             with --kfold: run only fold I\n"
		"  --val F              stratified validation fraction of the training samples\n"
		"                       (of each fold's with --kfold); the iteration with the best\n"
		"                       validation accuracy is the network tested (early stopping)\n"
		"  --seed N             initial weights and batch order (default %llu)\n"
		"  --split-seed N       fold / validation assignment (default 1)\n"
		"  --lr X               sgd/adam learning rate (default: adam 1e-3, sgd 1e-4)\n"
		"  --momentum X         sgd momentum (default %g)\n"
		"  --batch N            sgd/adam batch (default %d)\n"
		"  --lm-mu X            initial Levenberg-Marquardt damping (default %g)\n"
		"  --ridge MU           L2 penalty MU |Wo|^2 on the output weights (bias\n"
		"                       column excluded): OWO solves (R + MU I) Wo = C, sgd/adam\n"
		"                       add 2 MU Wo to the gradient (default 0; not cg, lm)\n"
		"  --wd X               sgd/adam weight decay on W and Wo, biases excluded:\n"
		"                       gradient += X w, as PyTorch's weight_decay (default 0)\n"
		"  --precision P        double | mixed: products with the inputs by sgemm with\n"
		"                       double accumulation per 1024 samples (default mixed)\n"
		"  --threads N          OpenMP threads (default 2)\n"
		"  --store DB           record the run(s) in the experiment store DB as sweep\n"
		"                       --sweep NAME (default adact), one run per fold, so\n"
		"                       `actlab report` tables them (no --fold, --json; with\n"
		"                       --val, `actlab report --select best-val` tests each\n"
		"                       run's best validation iteration)\n"
		"  --sweep NAME         sweep name in the store (with --store)\n"
		"  --json               end with one JSON object on stdout\n"
		"  --quiet              no per-iteration lines on stderr\n",
		al_adact_algo_name(d.algo), d.hidden, d.hinges, d.lo, d.hi, d.iters, d.safeguard,
		(unsigned long long)d.seed, d.momentum, d.batch, d.lm_mu);
}

static int parse_int(const char *name, const char *v, long lo, long hi, int *out)
{
	char *end;
	errno = 0;
	long x = strtol(v, &end, 10);
	if (errno || end == v || *end || x < lo || x > hi)
		return cli_usage_error("--%s: '%s' is not an integer in [%ld, %ld]", name, v, lo, hi);
	*out = (int)x;
	return 0;
}

static int parse_double(const char *name, const char *v, double *out)
{
	char *end;
	errno = 0;
	double x = strtod(v, &end);
	if (errno || end == v || *end)
		return cli_usage_error("--%s: '%s' is not a number", name, v);
	*out = x;
	return 0;
}

static int parse_u64(const char *name, const char *v, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long x = strtoull(v, &end, 10);
	if (errno || end == v || *end || v[0] == '-')
		return cli_usage_error("--%s: '%s' is not a non-negative integer", name, v);
	*out = x;
	return 0;
}

typedef struct {
	int verbose;
} progress_ctx;

static void progress(void *c, int fold, int iter, const al_adact_iter *info, double val_acc,
		     double sec)
{
	progress_ctx *p = c;
	if (!p->verbose)
		return;
	if (fold >= 0)
		fprintf(stderr, "fold %d ", fold);
	fprintf(stderr, "iter %4d  mse %.6f  z %.4g  z_hinge %.4g  halvings %d  rejected %d", iter,
		info->mse, info->z_mean, info->z_hinge, info->halvings, info->rejected);
	if (val_acc >= 0)
		fprintf(stderr, "  val_acc %.4f", val_acc);
	fprintf(stderr, "  %.3fs\n", sec);
}

static void print_json(const al_adact_opts *o, const al_adact_run_opts *ro, int threads,
		       const al_adact_report *r)
{
	printf("{\"algo\": ");
	json_string(stdout, al_adact_algo_name(o->algo));
	printf(", \"data\": ");
	json_string(stdout, ro->data);
	printf(", \"hidden\": %d, \"hinges\": %d, \"range\": [%g, %g], \"init\": \"%s\"", o->hidden,
	       o->hinges, o->lo, o->hi, o->init_leaky ? "leaky_relu" : "relu");
	printf(", \"precision\": \"%s\"", o->precision == AL_ADACT_MIXED ? "mixed" : "double");
	printf(", \"per_unit\": %d, \"safeguard\": %d, \"seed\": %llu, \"split_seed\": %llu",
	       o->per_unit, o->safeguard, (unsigned long long)o->seed,
	       (unsigned long long)ro->split_seed);
	printf(", \"threads\": %d, \"kfold\": %d, \"n_train\": %d, \"n_val\": %d, \"n_test\": %d",
	       threads, ro->kfold, r->n_train, r->n_val, r->n_test);
	printf(", \"runs\": [");
	for (int i = 0; i < r->nruns; i++) {
		const al_adact_fit_result *f = &r->runs[i];
		printf("%s{\"fold\": %d, \"test_acc\": %.6f, \"test_mse\": %.6f, \"train_mse\": %.6f, "
		       "\"train_acc\": %.6f, \"val_acc\": %.6f, \"best_iter\": %d, \"seconds_init\": %.4f, "
		       "\"seconds_per_iter\": %.4f, \"cpu_seconds_per_iter\": %.4f, \"mse\": [",
		       i ? ", " : "", r->fold[i], f->test_acc, f->test_mse, f->train_mse,
		       f->train_acc, f->val_acc, f->best_iter, f->seconds_init, f->seconds_per_iter,
		       f->cpu_seconds_per_iter);
		for (int it = 0; it <= f->iters; it++)
			printf("%s%.8g", it ? ", " : "", f->mse[it]);
		printf("]");
		if (f->val) {
			printf(", \"val\": [");
			for (int it = 0; it <= f->iters; it++)
				printf("%s%.6f", it ? ", " : "", f->val[it]);
			printf("]");
		}
		if (f->test) {
			printf(", \"test\": [");
			for (int it = 0; it <= f->iters; it++)
				printf("%s%.6f", it ? ", " : "", f->test[it]);
			printf("]");
		}
		printf("}");
	}
	printf("], \"test_acc\": %.6f, \"test_acc_std\": %.6f, \"train_mse\": %.8g, "
	       "\"seconds_per_iter\": %.4f, \"iters\": %d}\n",
	       r->test_acc_mean, r->test_acc_std, r->train_mse_mean, r->seconds_per_iter_mean,
	       r->nruns ? r->runs[0].iters : 0);
}

static void store_line(void *user, const char *line)
{
	(void)user;
	fprintf(stderr, "%s\n", line);
}

/* --store: the run as a one-cell sweep (trainer = ALGO) of the store, so it
 * is resumable, skipped when done, and tabled by `actlab report`. */
static int run_in_store(const char *store, const char *name, const char *ini, int threads)
{
	al_sweep *sw = NULL;
	al_status st = al_sweep_parse(ini, "actlab adact", NULL, 0, &sw);
	if (st != AL_OK)
		return cli_usage_error("%s", al_errmsg());
	al_store *s = NULL;
	st = al_store_open(store, &s);
	if (st == AL_OK)
		st = al_store_add_sweep(s, sw);
	al_sweep_summary sum;
	if (st == AL_OK) {
		al_sweep_opts o = al_sweep_opts_default();
		o.threads = threads;
		o.on_line = store_line;
		st = al_sweep_execute(s, sw, &o, &sum);
		fprintf(stderr, "sweep %s: %d run now, %d finished, %d failed, %d done before; "
				"store %s (actlab report --store %s --sweep %s)\n",
			name, sum.started, sum.finished, sum.failed, sum.skipped, store, store, name);
	}
	al_store_close(s);
	al_sweep_free(sw);
	return st == AL_OK ? 0 : cli_runtime_error(st);
}

int cmd_adact(int argc, char **argv)
{
	al_adact_opts o = al_adact_opts_default();
	al_adact_run_opts ro = al_adact_run_opts_default();
	int json = 0, threads = 2, fold_set = 0;
	const char *store = NULL, *sweep_name = "adact";
	/* the settings as experiment-file keys, for --store */
	char ini[4096];
	size_t il = 0;
	ini[0] = 0;
	progress_ctx pc = {1};
	cli_args a;
	cli_init(&a, argc, argv);
	while (cli_next(&a)) {
		if (!a.name[0])
			return cli_usage_error("adact: unexpected argument '%s'", a.value);
		const char *n = a.name, *v = a.value;
		if (!strcmp(n, "help") || !strcmp(n, "h")) {
			adact_help(stdout);
			return 0;
		}
		if (!strcmp(n, "json") || !strcmp(n, "quiet") || !strcmp(n, "per_unit")) {
			if (v)
				return cli_usage_error("--%s is a flag and takes no value", n);
			if (!strcmp(n, "json"))
				json = 1;
			else if (!strcmp(n, "quiet"))
				pc.verbose = 0;
			else
				o.per_unit = 1;
			continue;
		}
		if (!v)
			return cli_usage_error("--%s needs a value (see actlab adact --help)", n);
		int rc = 0;
		static const char *const as_key[][2] = {
			{"data", "data"},       {"algo", "trainer"},     {"hidden", "hidden"},
			{"hinges", "hinges"},   {"range", "range"},      {"init", "init"},
			{"iters", "iters"},     {"safeguard", "safeguard"}, {"kfold", "kfold"},
			{"seed", "seed"},       {"split_seed", "kfold_seed"}, {"lr", "lr"},
			{"momentum", "momentum"}, {"batch", "batch"},    {"lm_mu", "lm_mu"},
			{"precision", "precision"}, {"val", "val"},  {"ridge", "ridge"},
			{"wd", "wd"}};
		for (size_t k = 0; k < sizeof as_key / sizeof *as_key; k++)
			if (!strcmp(n, as_key[k][0]) && il < sizeof ini && !strchr(v, '\n'))
				il += (size_t)snprintf(ini + il, sizeof ini - il, "%s = %s\n",
						       as_key[k][1], v);
		if (!strcmp(n, "store"))
			store = v;
		else if (!strcmp(n, "sweep"))
			sweep_name = v;
		else if (!strcmp(n, "data"))
			ro.data = v;
		else if (!strcmp(n, "algo")) {
			if (al_adact_parse_algo(v, &o.algo) != AL_OK)
				return cli_usage_error("--algo: %s", al_errmsg());
		} else if (!strcmp(n, "hidden"))
			rc = parse_int(n, v, 1, 100000, &o.hidden);
		else if (!strcmp(n, "hinges"))
			rc = parse_int(n, v, 2, 1000, &o.hinges);
		else if (!strcmp(n, "range")) {
			char *end;
			errno = 0;
			o.lo = strtod(v, &end);
			if (errno || end == v || *end != ',')
				return cli_usage_error("--range: '%s' is not LO,HI", v);
			const char *h = end + 1;
			o.hi = strtod(h, &end);
			if (errno || end == h || *end || !(o.lo < o.hi))
				return cli_usage_error("--range: '%s' is not LO,HI with LO < HI", v);
		} else if (!strcmp(n, "init")) {
			if (!strcmp(v, "relu"))
				o.init_leaky = 0;
			else if (!strcmp(v, "leaky_relu"))
				o.init_leaky = 1;
			else
				return cli_usage_error("--init: unknown '%s' (valid: relu, leaky_relu)",
						       v);
		} else if (!strcmp(n, "precision")) {
			if (!strcmp(v, "double"))
				o.precision = AL_ADACT_DOUBLE;
			else if (!strcmp(v, "mixed"))
				o.precision = AL_ADACT_MIXED;
			else
				return cli_usage_error("--precision: unknown '%s' (valid: double, mixed)",
						       v);
		} else if (!strcmp(n, "iters"))
			rc = parse_int(n, v, 0, 1000000, &o.iters);
		else if (!strcmp(n, "safeguard"))
			rc = parse_int(n, v, 0, 60, &o.safeguard);
		else if (!strcmp(n, "kfold"))
			rc = parse_int(n, v, 2, 1000, &ro.kfold);
		else if (!strcmp(n, "fold")) {
			rc = parse_int(n, v, 0, 999, &ro.fold);
			fold_set = 1;
		} else if (!strcmp(n, "val"))
			rc = parse_double(n, v, &ro.val);
		else if (!strcmp(n, "seed"))
			rc = parse_u64(n, v, &o.seed);
		else if (!strcmp(n, "split_seed"))
			rc = parse_u64(n, v, &ro.split_seed);
		else if (!strcmp(n, "lr"))
			rc = parse_double(n, v, &o.lr);
		else if (!strcmp(n, "momentum"))
			rc = parse_double(n, v, &o.momentum);
		else if (!strcmp(n, "batch"))
			rc = parse_int(n, v, 1, 1 << 30, &o.batch);
		else if (!strcmp(n, "lm_mu"))
			rc = parse_double(n, v, &o.lm_mu);
		else if (!strcmp(n, "ridge"))
			rc = parse_double(n, v, &o.ridge);
		else if (!strcmp(n, "wd"))
			rc = parse_double(n, v, &o.wd);
		else if (!strcmp(n, "threads"))
			rc = parse_int(n, v, 1, 1024, &threads);
		else
			return cli_usage_error("adact: unknown option --%s (see actlab adact --help)",
					       n);
		if (rc)
			return rc;
	}
	if (fold_set && !ro.kfold)
		return cli_usage_error("--fold needs --kfold K");
	if (fold_set && ro.fold >= ro.kfold)
		return cli_usage_error("--fold %d: expected 0..%d for --kfold %d", ro.fold,
				       ro.kfold - 1, ro.kfold);
	if (!(ro.val >= 0 && ro.val < 1))
		return cli_usage_error("--val: %g outside [0, 1)", ro.val);
	if (al_adact_opts_check(&o) != AL_OK)
		return cli_usage_error("%s", al_errmsg());
	al_set_threads(threads);
	if (store) {
		if (fold_set || json)
			return cli_usage_error("--store runs every fold: --fold and --json do not "
					       "combine with it");
		if (strchr(sweep_name, '\n') || !*sweep_name)
			return cli_usage_error("--sweep: bad name");
		char text[5000];
		snprintf(text, sizeof text, "[sweep]\nname = %s\ndescription = actlab adact\n%s%s%s",
			 sweep_name, o.per_unit ? "per_unit = 1\n" : "",
			 strstr(ini, "trainer =") ? "" : "trainer = adact\n", ini);
		return run_in_store(store, sweep_name, text, threads);
	}
	al_adact_report r;
	al_status st = al_adact_run(&o, &ro, progress, &pc, &r);
	if (st != AL_OK)
		return cli_runtime_error(st);
	if (json)
		print_json(&o, &ro, threads, &r);
	if (pc.verbose || !json) {
		if (r.nruns > 1)
			fprintf(stderr, "%s: test accuracy %.4f ± %.4f over %d folds, train mse %.6f, "
					"%.3f s/iter\n",
				al_adact_algo_name(o.algo), r.test_acc_mean, r.test_acc_std, r.nruns,
				r.train_mse_mean, r.seconds_per_iter_mean);
		else
			fprintf(stderr, "%s: test accuracy %.4f, train mse %.6f, %.3f s/iter\n",
				al_adact_algo_name(o.algo), r.test_acc_mean, r.train_mse_mean,
				r.seconds_per_iter_mean);
	}
	al_adact_report_free(&r);
	return 0;
}
