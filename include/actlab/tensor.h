/* tensor.h — plain float32 tensors (C order, up to 4 dims) and .npy I/O.
 *
 * al_tensor is a transparent struct: data points at shape-product floats.
 * `owned` tells whether al_tensor_free releases data. Layers see activations
 * as NCHW; a dense activation (N, F) is viewed as (N, F, 1, 1).
 */
#ifndef ACTLAB_TENSOR_H
#define ACTLAB_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "actlab/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AL_MAXDIM 4

typedef struct {
	float *data;
	int ndim;
	int64_t shape[AL_MAXDIM];
	int owned;
} al_tensor;

/* Allocates a zeroed tensor of the given shape (dims > 0). */
al_status al_tensor_alloc(al_tensor *t, int ndim, const int64_t *shape);
void al_tensor_free(al_tensor *t);
size_t al_tensor_numel(const al_tensor *t);

/* ---- NumPy .npy (format versions 1.0-3.0, little-endian, C order) ----- */
typedef enum { AL_NPY_F32, AL_NPY_F64, AL_NPY_I64, AL_NPY_I32, AL_NPY_U8 } al_npy_dtype;

typedef struct {
	al_npy_dtype dtype;
	int ndim;
	int64_t shape[8];
	void *data;  /* al_malloc'd; free with al_free */
} al_npy;

/* Reads any supported dtype. Fortran order, big-endian and object arrays
 * are errors naming the file. */
al_status al_npy_read(const char *path, al_npy *out);
/* Reads and converts to float32 (from f32, f64, i64, i32, u8). */
al_status al_npy_read_f32(const char *path, al_tensor *t);
al_status al_npy_write(const char *path, al_npy_dtype dtype, int ndim, const int64_t *shape,
		       const void *data);
al_status al_npy_write_f32(const char *path, const al_tensor *t);
void al_npy_free(al_npy *a);

#ifdef __cplusplus
}
#endif
#endif
