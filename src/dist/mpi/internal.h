/* internal.h — shared by the MPI files of src/dist/mpi/. Not public. */
#ifndef ACTLAB_DIST_MPI_INTERNAL_H
#define ACTLAB_DIST_MPI_INTERNAL_H

#include "actlab/status.h"

/* Rank and size of the joined job (0 and 1 without one). */
int dist_rank(void);
int dist_size(void);
/* Collective: AL_OK when st is AL_OK on every rank, else the lowest failing
 * rank's status with "rank R: message" on every rank. */
al_status dist_agree(al_status st);

#endif
