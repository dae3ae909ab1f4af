/* launch.c — what every build knows about MPI launchers: whether this
 * process was started as one of several ranks (from the launcher's
 * environment), and, in a build without MPI, the refusal of such a launch
 * and of the distributed entry points. The MPI implementation of dist.h is
 * src/dist/mpi/ (compiled only by `make MPI=1` / `make actlab-mpi`, which
 * links it instead of this file's stubs).
 * Not for: anything that calls MPI.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actlab/dist.h"

static int env_int(const char *name)
{
	const char *v = getenv(name);
	if (!v || !*v)
		return 0;
	char *end;
	long n = strtol(v, &end, 10);
	return *end == 0 && n > 0 && n < 1000000 ? (int)n : 0;
}

int al_dist_launch_size(void)
{
	/* Open MPI's mpirun; Slurm's srun and MPICH/Hydra (PMI); PMIx launchers */
	static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"};
	for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
		int n = env_int(vars[i]);
		if (n)
			return n;
	}
	return 1;
}

#ifndef AL_MPI
int al_dist_built(void) { return 0; }

static al_status no_mpi(const char *what)
{
	return al_err(AL_EUNSUPPORTED,
		      "%s: this actlab was built without MPI; build ./actlab-mpi with `make MPI=1` "
		      "(Debian's openmpi-bin and libopenmpi-dev) and launch that under mpirun",
		      what);
}

al_status al_dist_init(int *argc, char ***argv, int *rank, int *size)
{
	(void)argc;
	(void)argv;
	*rank = 0;
	*size = 1;
	int n = al_dist_launch_size();
	if (n > 1) {
		char what[64];
		snprintf(what, sizeof what, "started as one of %d ranks by an MPI launcher", n);
		return no_mpi(what);
	}
	return AL_OK;
}

int al_dist_cores_per_rank(void)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	return cores > 0 ? (int)cores : 1;
}

void al_dist_finalize(void) {}
void al_dist_abort(int code) { (void)code; }

al_status al_dist_train(const al_train_config *c, const al_train_hooks *hooks,
			const al_dist_train_opts *o, al_train_result *out)
{
	if (o && (o->sync_bn || o->check_sync)) {
		memset(out, 0, sizeof *out);
		return no_mpi(o->sync_bn ? "--sync-bn" : "--check-sync");
	}
	return al_train_run(c, hooks, out);
}

al_status al_dist_sweep(const char *file, const char *const *overrides, int noverrides,
			const char *store_path, const al_sweep_opts *o, al_sweep_summary *sum)
{
	(void)file;
	(void)overrides;
	(void)noverrides;
	(void)store_path;
	(void)o;
	(void)sum;
	return no_mpi("distributed sweep");
}
#endif
