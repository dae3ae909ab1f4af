/* main.c — `actlab` command dispatch. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actlab/core.h"
#include "actlab/dist.h"
#include "cli.h"

int cli_rank = 0, cli_size = 1;

static void usage(FILE *f)
{
	fputs("actlab " AL_VERSION " — activation-function research toolkit\n\n"
	      "usage: actlab COMMAND [options]   (actlab COMMAND --help for options)\n\n"
	      "commands:\n"
	      "  train      train a model (default: LeNet-5 on Fashion-MNIST)\n"
	      "  eval       evaluate a checkpoint on a data set\n"
	      "  act list   list the activation catalog [--json|--markdown]\n"
	      "  act eval   evaluate an activation (and its gradient) on .npy tensors\n"
	      "  act plot   draw an activation and its derivative (gnuplot)\n"
	      "  act params learned activation parameters of a run, per layer\n"
	      "  act shapes learned activation shapes of a checkpoint over their input range\n"
	      "  distill    replace learned activations by fitted pwl / lut / rational forms\n"
	      "  gradcheck  finite-difference checks of the catalog [--act SPEC | --all]\n"
	      "  models     list the model zoo [--params]\n"
	      "  adact      second-order MLP trainer of seed 003 (AdAct, MOLF, OWO-BP, CG, LM)\n"
	      "  sweep      run or resume an experiment file (activation x model x data x seed)\n"
	      "  report     tables, statistics and plots of finished sweeps (md|csv|tex|html)\n"
	      "  version    print the version\n",
	      f);
}

/* OpenMP threads that spin-wait at barriers collapse on a shared machine:
 * when another process holds a core, every barrier waits for a descheduled
 * thread (measured: LeNet-5 at 2 threads fell from ~10k to ~1.3k img/s under
 * load with libgomp's default spinning, and stayed at 4-10k with passive
 * waiting). libgomp reads its settings when it loads, so the CLI re-executes
 * itself once with OMP_WAIT_POLICY=passive unless the user chose a policy
 * (OMP_WAIT_POLICY or GOMP_SPINCOUNT set). */
static void prefer_passive_wait(char **argv)
{
	if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT") || getenv("ACTLAB_REEXEC"))
		return;
	setenv("OMP_WAIT_POLICY", "passive", 1);
	setenv("ACTLAB_REEXEC", "1", 1);
	execv("/proc/self/exe", argv);
	/* exec failed: carry on with the default policy */
}

static int run(int argc, char **argv);

/* Under mpirun/srun with several ranks (docs/scale-out.md): join the job;
 * only `train` (data-parallel) and `sweep` (runs handed out by rank 0) are
 * distributed. A build without MPI refuses such a launch (exit 2). */
int main(int argc, char **argv)
{
	prefer_passive_wait(argv);
	al_status st = al_dist_init(&argc, &argv, &cli_rank, &cli_size);
	if (st != AL_OK) {
		fprintf(stderr, "actlab: error: %s\n", al_errmsg());
		return EXIT_USAGE;
	}
	int rc;
	if (cli_size > 1 && (argc < 2 || (strcmp(argv[1], "train") && strcmp(argv[1], "sweep")))) {
		if (cli_rank == 0)
			fprintf(stderr,
				"actlab: usage error: under an MPI launcher with %d ranks only "
				"`actlab train` and `actlab sweep` run (got '%s')\n",
				cli_size, argc < 2 ? "" : argv[1]);
		rc = EXIT_USAGE;
	} else {
		rc = run(argc, argv);
	}
	al_dist_finalize();
	return rc;
}

static int run(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("actlab %s\n", AL_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "train"))
		return cmd_train(argc - 2, argv + 2);
	if (!strcmp(cmd, "eval"))
		return cmd_eval(argc - 2, argv + 2);
	if (!strcmp(cmd, "act"))
		return cmd_act(argc - 2, argv + 2);
	if (!strcmp(cmd, "gradcheck"))
		return cmd_gradcheck(argc - 2, argv + 2);
	if (!strcmp(cmd, "adact"))
		return cmd_adact(argc - 2, argv + 2);
	if (!strcmp(cmd, "sweep"))
		return cmd_sweep(argc - 2, argv + 2);
	if (!strcmp(cmd, "report"))
		return cmd_report(argc - 2, argv + 2);
	if (!strcmp(cmd, "distill"))
		return cmd_distill(argc - 2, argv + 2);
	if (!strcmp(cmd, "models"))
		return cmd_models(argc - 2, argv + 2);
	fprintf(stderr, "actlab: usage error: unknown command '%s'\n", cmd);
	usage(stderr);
	return EXIT_USAGE;
}
