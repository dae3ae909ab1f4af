/* cmd_sweep.c — `actlab sweep` (run or resume an experiment file, show
 * progress) and `actlab report` (tables and plots from the store). Thin
 * over the library's exp module (include/actlab/exp.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actlab/dist.h"
#include "actlab/exp.h"
#include "cli.h"

static const char *sweep_help =
	"usage: actlab sweep FILE.ini [-j N] [--status] [--store DB] [--runs-dir DIR]\n"
	"                    [--threads N] [--retry-failed] [--KEY VALUE ...]\n"
	"       actlab sweep --status [--store DB]\n\n"
	"Expands the experiment file (docs/experiments.md) into runs and runs those not\n"
	"finished yet; an interrupted run resumes from its last checkpoint. Results go to\n"
	"the store (default " AL_STORE_DEFAULT "), run folders to <store folder>/runs.\n\n"
	"  -j N            runs at once, each in its own process with cores/N threads\n"
	"  --threads N     threads per run (default: cores / N)\n"
	"  --status        show progress (of FILE's runs, or of every sweep in the store)\n"
	"  --retry-failed  rerun runs that failed before (default: leave them failed)\n"
	"  --list          print the expanded runs and exit\n"
	"  --KEY VALUE     override KEY of [sweep] and every group, e.g. --epochs 1\n"
	"                  --seed 1..2 --act 'relu | elu'\n\n"
	"Under mpirun/srun with N ranks (./actlab-mpi, docs/scale-out.md) rank 0 alone\n"
	"opens the store and hands the runs out to ranks 1..N-1 as they become idle\n"
	"(--threads: threads per run, default cores per rank; -j does not apply).\n";


static void print_line(void *user, const char *line)
{
	(void)user;
	fprintf(stderr, "%s\n", line);
	fflush(stderr);
}

static int print_progress(const char *name, const al_sweep_progress *p)
{
	printf("%-32s %4d/%-4d done  %3d running  %3d pending  %3d failed", name, p->done,
	       p->total, p->running, p->pending, p->failed);
	if (p->epochs_total)
		printf("  %ld/%ld epochs", p->epochs_done, p->epochs_total);
	printf("\n");
	return 0;
}

static int exec_run(const char *store, const char *id_text, int threads, const char *runs_dir,
		    int retry)
{
	char *end;
	long long id = strtoll(id_text, &end, 10);
	if (end == id_text || *end || id <= 0)
		return cli_usage_error("--exec-run: '%s' is not a run id", id_text);
	al_store *s;
	al_status st = al_store_open(store, &s);
	if (st != AL_OK)
		return cli_runtime_error(st);
	int claimed = 0;
	al_sweep_opts o = al_sweep_opts_default();
	o.threads = threads;
	o.runs_dir = runs_dir;
	o.retry_failed = retry;
	o.on_line = print_line;
	st = al_sweep_run_one(s, id, &o, &claimed);
	al_store_close(s);
	if (st != AL_OK)
		return cli_runtime_error(st);
	return claimed ? 0 : 3;
}

int cmd_sweep(int argc, char **argv)
{
	const char *file = NULL, *store = AL_STORE_DEFAULT, *runs_dir = NULL, *exec = NULL;
	int jobs = 1, threads = 0, status = 0, retry = 0, list = 0;
	char **ov = calloc((size_t)argc + 1, sizeof *ov);
	int nov = 0;
	if (!ov)
		return cli_runtime_error(al_err(AL_ENOMEM, "out of memory"));
	int rc = -1;
	for (int i = 0; i < argc && rc < 0; i++) {
		const char *arg = argv[i];
		if (!strcmp(arg, "-j") || !strncmp(arg, "-j", 2) || !strcmp(arg, "--jobs")) {
			const char *v = NULL;
			if (arg[1] == 'j' && arg[2])
				v = arg + 2;
			else if (i + 1 < argc)
				v = argv[++i];
			char *end;
			long j = v ? strtol(v, &end, 10) : 0;
			if (!v || end == v || *end || j < 1 || j > 256)
				rc = cli_usage_error("-j needs a number of processes in [1, 256]");
			jobs = (int)j;
			continue;
		}
		if (strncmp(arg, "--", 2) != 0) {
			if (file)
				rc = cli_usage_error("sweep: one experiment file at a time ('%s', '%s')",
						     file, arg);
			file = arg;
			continue;
		}
		char name[64];
		const char *eq = strchr(arg, '=');
		const char *val = NULL;
		if (eq) {
			snprintf(name, sizeof name, "%.*s", (int)(eq - arg - 2), arg + 2);
			val = eq + 1;
		} else {
			snprintf(name, sizeof name, "%s", arg + 2);
		}
		for (char *p = name; *p; p++)
			if (*p == '-')
				*p = '_';
		if (!strcmp(name, "help") || !strcmp(name, "h")) {
			fputs(sweep_help, stdout);
			rc = 0;
			break;
		}
		if (!strcmp(name, "status")) {
			status = 1;
			continue;
		}
		if (!strcmp(name, "retry_failed")) {
			retry = 1;
			continue;
		}
		if (!strcmp(name, "list")) {
			list = 1;
			continue;
		}
		if (!val) {
			if (i + 1 >= argc) {
				rc = cli_usage_error("--%s needs a value", name);
				break;
			}
			val = argv[++i];
		}
		if (!strcmp(name, "store"))
			store = val;
		else if (!strcmp(name, "runs_dir"))
			runs_dir = val;
		else if (!strcmp(name, "exec_run"))
			exec = val;
		else if (!strcmp(name, "threads")) {
			threads = atoi(val);
			if (threads < 1 || threads > 1024)
				rc = cli_usage_error("--threads must be in [1, 1024]");
		} else {
			size_t l = strlen(name) + strlen(val) + 2;
			ov[nov] = malloc(l);
			if (!ov[nov])
				rc = cli_runtime_error(al_err(AL_ENOMEM, "out of memory"));
			else
				snprintf(ov[nov++], l, "%s=%s", name, val);
		}
	}
	if (rc < 0 && cli_size > 1) {
		/* under an MPI launcher: rank 0 answers --status/--list alone */
		if (exec || jobs > 1)
			rc = cli_usage_error("sweep: %s does not apply under mpirun (each rank is a "
					     "worker)",
					     exec ? "--exec-run" : "-j");
		else if ((status || list) && cli_rank != 0)
			rc = 0;
		else if (!status && !list && !file)
			rc = cli_usage_error("sweep needs an experiment file (see actlab sweep --help)");
		else if (!status && !list) {
			al_sweep_opts o = al_sweep_opts_default();
			o.threads = threads;
			o.runs_dir = runs_dir;
			o.retry_failed = retry;
			o.on_line = cli_rank == 0 ? print_line : NULL;
			al_sweep_summary sum;
			al_status st = al_dist_sweep(file, (const char *const *)ov, nov, store, &o, &sum);
			if (cli_rank == 0)
				fprintf(stderr,
					"sweep: %d run now, %d finished, %d failed, %d skipped (done before "
					"or running elsewhere)\n",
					sum.started, sum.finished, sum.failed, sum.skipped);
			rc = st == AL_OK ? 0 : cli_runtime_error(st);
		}
	}
	if (rc < 0 && exec)
		rc = exec_run(store, exec, threads, runs_dir, retry);
	al_store *s = NULL;
	al_sweep *sw = NULL;
	if (rc < 0 && !file && !status)
		rc = cli_usage_error("sweep needs an experiment file (see actlab sweep --help)");
	if (rc < 0 && file) {
		al_status st = al_sweep_load(file, (const char *const *)ov, nov, &sw);
		if (st != AL_OK)
			rc = cli_usage_error("%s", al_errmsg());
	}
	if (rc < 0 && list) {
		for (int i = 0; i < sw->nruns; i++) {
			const al_sweep_run *r = &sw->runs[i];
			if (r->trainer[0] && strcmp(r->trainer, "train") != 0)
				printf("%s  %-10s trainer %-20s hidden=%d hinges=%d data=%s seed=%llu "
				       "iters=%d",
				       r->key, r->group, r->trainer, r->adact.hidden, r->adact.hinges,
				       r->config.data, (unsigned long long)r->config.seed,
				       r->adact.iters);
			else
				printf("%s  %-10s %-28s model=%s data=%s seed=%llu epochs=%d", r->key,
				       r->group, r->act, r->config.model, r->config.data,
				       (unsigned long long)r->config.seed, r->config.epochs);
			if (r->config.width != 1)
				printf(" width=%g", r->config.width);
			if (r->kfold)
				printf(" fold=%d/%d", r->fold + 1, r->kfold);
			printf("\n");
		}
		rc = 0;
	}
	if (rc < 0) {
		al_status st = al_store_open(store, &s);
		if (st != AL_OK)
			rc = cli_runtime_error(st);
	}
	if (rc < 0 && status) {
		al_sweep_progress p;
		if (sw) {
			al_status st = al_sweep_progress_of(s, sw, &p);
			rc = st == AL_OK ? print_progress(sw->name, &p) : cli_runtime_error(st);
		} else {
			char **names;
			int n;
			al_status st = al_store_sweeps(s, &names, &n);
			for (int i = 0; st == AL_OK && i < n; i++) {
				st = al_store_progress(s, names[i], &p);
				if (st == AL_OK)
					print_progress(names[i], &p);
			}
			if (st == AL_OK)
				al_store_free_names(names, n);
			if (st == AL_OK && n == 0)
				printf("no sweeps in %s\n", store);
			rc = st == AL_OK ? 0 : cli_runtime_error(st);
		}
	}
	if (rc < 0) {
		al_status st = al_store_add_sweep(s, sw);
		al_sweep_opts o = al_sweep_opts_default();
		o.jobs = jobs;
		o.threads = threads;
		o.runs_dir = runs_dir;
		o.exe = "/proc/self/exe";
		o.retry_failed = retry;
		o.on_line = print_line;
		al_sweep_summary sum;
		if (st == AL_OK) {
			fprintf(stderr, "sweep %s: %d runs, store %s\n", sw->name, sw->nruns, store);
			st = al_sweep_execute(s, sw, &o, &sum);
			fprintf(stderr,
				"sweep %s: %d run now, %d finished, %d failed, %d skipped (done before "
				"or running elsewhere)\n",
				sw->name, sum.started, sum.finished, sum.failed, sum.skipped);
		}
		rc = st == AL_OK ? 0 : cli_runtime_error(st);
	}
	al_sweep_free(sw);
	al_store_close(s);
	for (int i = 0; i < nov; i++)
		free(ov[i]);
	free(ov);
	return rc;
}

static const char *report_help =
	"usage: actlab report [--store DB] [--sweep NAME] [--format md|csv|tex|html]\n"
	"                     [--baseline ACT] [--select last|best-val] [--tune KEY[,KEY]]\n"
	"                     [--out FILE]\n"
	"                     [--plots DIR] [--no-plots]\n\n"
	"Tables of the store's finished runs, one per sweep: mean +- std over seeds (or\n"
	"folds) of final test accuracy, max accuracy (at epoch), macro precision, max\n"
	"precision (at epoch), area under the training-loss curve, parameter count and\n"
	"epoch time, the best entry per column marked, and a paired t-test and Wilcoxon\n"
	"signed-rank test of final accuracy against the baseline activation (default\n"
	"relu) with the 95%% confidence interval of the difference. html is one\n"
	"self-contained file with inline SVG plots (gnuplot); md and tex write SVG plots\n"
	"to --plots DIR when given. Default format md, output stdout.\n"
	"--select best-val: each run's result (final accuracy, macro precision, the\n"
	"paired tests) is its first epoch of highest validation accuracy (early\n"
	"stopping; the runs must have a validation set, val > 0) instead of its last.\n"
	"--tune KEY[,KEY] (with --select best-val): rows that differ only in these\n"
	"settings (e.g. ridge, wd, lr) and in their group become one row that takes,\n"
	"for every seed and fold, the run of highest validation accuracy, i.e. the\n"
	"setting tuned per fold on validation data; the row names how often each value\n"
	"was chosen. A KEY that no rows differ in is an error.\n";

int cmd_report(int argc, char **argv)
{
	const char *store = AL_STORE_DEFAULT, *out = NULL;
	al_report_opts o = al_report_opts_default();
	int no_plots = 0;
	cli_args a;
	cli_init(&a, argc, argv);
	while (cli_next(&a)) {
		if (!strcmp(a.name, "help") || !strcmp(a.name, "h")) {
			printf(report_help, "");
			return 0;
		}
		if (!strcmp(a.name, "no_plots")) {
			no_plots = 1;
			continue;
		}
		if (!a.name[0])
			return cli_usage_error("report: unexpected argument '%s'", a.value);
		if (!a.value)
			return cli_usage_error("--%s needs a value (see actlab report --help)", a.name);
		if (!strcmp(a.name, "store"))
			store = a.value;
		else if (!strcmp(a.name, "sweep"))
			o.sweep = a.value;
		else if (!strcmp(a.name, "baseline"))
			o.baseline = a.value;
		else if (!strcmp(a.name, "out"))
			out = a.value;
		else if (!strcmp(a.name, "plots"))
			o.plots_dir = a.value;
		else if (!strcmp(a.name, "tune"))
			o.tune = a.value;
		else if (!strcmp(a.name, "select")) {
			if (!strcmp(a.value, "last"))
				o.best_val = 0;
			else if (!strcmp(a.value, "best-val"))
				o.best_val = 1;
			else
				return cli_usage_error("--select '%s'; valid: last, best-val", a.value);
		}
		else if (!strcmp(a.name, "format")) {
			if (!strcmp(a.value, "md"))
				o.format = AL_REPORT_MD;
			else if (!strcmp(a.value, "csv"))
				o.format = AL_REPORT_CSV;
			else if (!strcmp(a.value, "tex"))
				o.format = AL_REPORT_TEX;
			else if (!strcmp(a.value, "html"))
				o.format = AL_REPORT_HTML;
			else
				return cli_usage_error("--format '%s'; valid: md, csv, tex, html",
						       a.value);
		} else
			return cli_usage_error("report: unknown option --%s", a.name);
	}
	o.plots = !no_plots;
	if (access(store, F_OK) != 0)
		return cli_runtime_error(al_err(AL_EIO, "store %s does not exist (run actlab sweep "
							"first, or give --store)",
						store));
	al_store *s;
	al_status st = al_store_open(store, &s);
	if (st != AL_OK)
		return cli_runtime_error(st);
	FILE *f = stdout;
	char tmp[1100];
	if (out) {
		snprintf(tmp, sizeof tmp, "%s.tmp", out);
		f = fopen(tmp, "w");
		if (!f) {
			al_store_close(s);
			return cli_runtime_error(al_err(AL_EIO, "%s: cannot write", tmp));
		}
	}
	st = al_report_write(s, &o, f);
	al_store_close(s);
	if (out) {
		if (fclose(f) != 0 && st == AL_OK)
			st = al_err(AL_EIO, "%s: write failed", tmp);
		if (st == AL_OK && rename(tmp, out) != 0)
			st = al_err(AL_EIO, "%s: cannot rename to %s", tmp, out);
		if (st != AL_OK)
			remove(tmp);
		else
			fprintf(stderr, "wrote %s\n", out);
	} else {
		fflush(stdout);
	}
	return st == AL_OK ? 0 : cli_runtime_error(st);
}
