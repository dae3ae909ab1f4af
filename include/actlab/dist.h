/* dist.h — running one actlab job as several processes under an MPI
 * launcher (`mpirun -np N actlab ...`, Slurm's `srun`): data-parallel
 * training and distributed sweeps (docs/scale-out.md).
 *
 * A build without MPI (the default; `make MPI=1` builds ./actlab-mpi with
 * Open MPI) still recognises a launch by a launcher from its environment
 * and refuses it with a "built without MPI" error, so N copies never run
 * the same thing unknowingly. Every function here returns a status; none
 * exits, not even on a failed rank (the error names the rank instead).
 *
 * Not for: the training loop itself (train.h; it only sees the
 * al_train_comm below), the store (exp.h).
 */
#ifndef ACTLAB_DIST_H
#define ACTLAB_DIST_H

#include "actlab/exp.h"
#include "actlab/status.h"
#include "actlab/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when this build has MPI (make MPI=1). */
int al_dist_built(void);

/* Number of processes of the job this process was started in, read from
 * the launcher's environment (OMPI_COMM_WORLD_SIZE, PMI_SIZE, PMIX_SIZE),
 * or 1 when no launcher started it. */
int al_dist_launch_size(void);

/* Joins the job (MPI_Init) when a launcher started this process with more
 * than one rank; otherwise does nothing and reports rank 0 of 1. Without
 * MPI in the build and a launch size > 1: AL_EUNSUPPORTED, "built without
 * MPI". */
al_status al_dist_init(int *argc, char ***argv, int *rank, int *size);
/* Cores per rank on this node (1 process: online cores). */
int al_dist_cores_per_rank(void);
/* Leaves the job (MPI_Finalize) if al_dist_init joined one. */
void al_dist_finalize(void);
/* Ends the whole job after a fatal error on this rank (MPI_Abort), so the
 * other ranks do not wait for it forever. A no-op without a job. */
void al_dist_abort(int code);

typedef struct {
	int sync_bn;    /* batch-norm statistics over the whole global batch */
	int check_sync; /* verify after every step that every rank holds the
			   same parameters (a hash of their bytes) */
} al_dist_train_opts;

/* Data-parallel al_train_run over the ranks of the job: each rank takes a
 * disjoint, contiguous shard of every global batch (c->batch samples;
 * rank r gets [floor(n r / p), floor(n (r + 1) / p))), the per-rank
 * gradients are summed with one MPI_Allreduce over the flat gradient
 * buffer and every rank applies the same update. Only rank 0 logs (hooks
 * are honoured on rank 0 only), evaluates and writes c->out. A failure on
 * any rank fails every rank with "rank R: message". With one rank this is
 * al_train_run. */
al_status al_dist_train(const al_train_config *c, const al_train_hooks *hooks,
			const al_dist_train_opts *o, al_train_result *out);

/* Distributed sweep: rank 0 alone loads FILE, opens the store at
 * store_path, registers the sweep and hands its unfinished runs out on
 * demand to the other ranks (each asks for the next when idle); workers
 * train, rank 0 records their per-epoch rows and, when a run ends, writes
 * its run folder and ingests it. o->threads: threads per run (0: cores per
 * rank); o->on_line is called on rank 0 only. sum is filled on rank 0. */
al_status al_dist_sweep(const char *file, const char *const *overrides, int noverrides,
			const char *store_path, const al_sweep_opts *o, al_sweep_summary *sum);

#ifdef __cplusplus
}
#endif
#endif
