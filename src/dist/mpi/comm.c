/* comm.c — the MPI side of dist.h: joining the job, the collective
 * operations a data-parallel training run needs (al_train_comm over
 * MPI_COMM_WORLD) and al_dist_train. Compiled only into ./actlab-mpi.
 *
 * Communication failures are left to MPI's default error handler
 * (MPI_ERRORS_ARE_FATAL: the launcher ends the whole job and says which
 * rank failed); every other failure is returned as a status.
 * Not for: the training loop (src/train/), the sweep protocol (sweep.c).
 */
#include <limits.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actlab/dist.h"
#include "dist/mpi/internal.h"

static int g_joined, g_rank, g_size, g_local = 1;

int al_dist_built(void) { return 1; }

al_status al_dist_init(int *argc, char ***argv, int *rank, int *size)
{
	*rank = 0;
	*size = 1;
	if (al_dist_launch_size() <= 1 || g_joined) {
		*rank = g_rank;
		*size = g_joined ? g_size : 1;
		return AL_OK;
	}
	/* idle ranks (a sweep's rank 0, a rank waiting in a collective) yield
	 * the core instead of spinning: the machine is usually shared */
	setenv("OMPI_MCA_mpi_yield_when_idle", "1", 0);
	int provided = 0;
	if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
		return al_err(AL_EIO, "MPI_Init failed (launched by mpirun/srun with %d ranks)",
			      al_dist_launch_size());
	MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
	MPI_Comm_size(MPI_COMM_WORLD, &g_size);
	MPI_Comm node;
	if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) ==
	    MPI_SUCCESS) {
		MPI_Comm_size(node, &g_local);
		MPI_Comm_free(&node);
	}
	g_joined = 1;
	*rank = g_rank;
	*size = g_size;
	return AL_OK;
}

int al_dist_cores_per_rank(void)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	if (cores < 1)
		cores = 1;
	long per = cores / (g_local > 0 ? g_local : 1);
	return per > 0 ? (int)per : 1;
}

void al_dist_finalize(void)
{
	if (g_joined) {
		MPI_Finalize();
		g_joined = 0;
	}
}

void al_dist_abort(int code)
{
	if (g_joined)
		MPI_Abort(MPI_COMM_WORLD, code);
}

/* ---- collectives ------------------------------------------------------------ */
#define CHUNK ((size_t)1 << 28) /* MPI counts are int */

static void sum_f(void *ctx, float *buf, size_t n)
{
	(void)ctx;
	for (size_t o = 0; o < n; o += CHUNK) {
		size_t k = n - o < CHUNK ? n - o : CHUNK;
		MPI_Allreduce(MPI_IN_PLACE, buf + o, (int)k, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
	}
}

static void sum_d(void *ctx, double *buf, size_t n)
{
	(void)ctx;
	for (size_t o = 0; o < n; o += CHUNK) {
		size_t k = n - o < CHUNK ? n - o : CHUNK;
		MPI_Allreduce(MPI_IN_PLACE, buf + o, (int)k, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
	}
}

al_status dist_agree(al_status st)
{
	int mine = st == AL_OK ? INT_MAX : g_rank, first = INT_MAX;
	MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
	if (first == INT_MAX)
		return AL_OK;
	struct {
		int status;
		char msg[1000];
	} m;
	memset(&m, 0, sizeof m);
	if (g_rank == first) {
		m.status = (int)st;
		snprintf(m.msg, sizeof m.msg, "%s", al_errmsg()[0] ? al_errmsg() : al_status_str(st));
	}
	MPI_Bcast(&m, (int)sizeof m, MPI_BYTE, first, MPI_COMM_WORLD);
	if (!strncmp(m.msg, "rank ", 5))
		return al_err((al_status)m.status, "%s", m.msg);
	return al_err((al_status)m.status, "rank %d: %s", first, m.msg);
}

static al_status agree(void *ctx, al_status st)
{
	(void)ctx;
	return dist_agree(st);
}

/* FNV-1a over the bytes; equal hashes on every rank iff max(h) and
 * max(~h) are this rank's h and ~h everywhere. */
static int same(void *ctx, const void *buf, size_t nbytes)
{
	(void)ctx;
	const unsigned char *p = buf;
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < nbytes; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	uint64_t v[2] = {h, ~h}, mx[2];
	MPI_Allreduce(v, mx, 2, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
	return mx[0] == ~mx[1];
}

int dist_rank(void) { return g_joined ? g_rank : 0; }
int dist_size(void) { return g_joined ? g_size : 1; }

al_status al_dist_train(const al_train_config *c, const al_train_hooks *hooks,
			const al_dist_train_opts *o, al_train_result *out)
{
	if (!g_joined || g_size == 1)
		return al_train_run(c, hooks, out);
	al_train_comm cm;
	memset(&cm, 0, sizeof cm);
	cm.rank = g_rank;
	cm.size = g_size;
	cm.sum_f = sum_f;
	cm.sum_d = sum_d;
	cm.agree = agree;
	cm.same = same;
	cm.sync_bn = o ? o->sync_bn : 0;
	cm.check_sync = o ? o->check_sync : 0;
	al_train_hooks hk;
	memset(&hk, 0, sizeof hk);
	if (hooks)
		hk = *hooks;
	hk.comm = &cm;
	return al_train_run(c, &hk, out);
}
