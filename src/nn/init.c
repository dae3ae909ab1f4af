/* init.c — weight initialisers (He/Glorot, normal/uniform, PyTorch's
 * default), drawn from an explicit RNG. */
#include <math.h>
#include <string.h>

#include "nn/layer.h"

static const char *names[] = {"he_normal", "he_uniform", "glorot_normal", "glorot_uniform",
			      "torch"};

const char *al_init_names(void) { return "he_normal, he_uniform, glorot_normal, glorot_uniform, torch"; }

al_status al_init_parse(const char *name, al_init_kind *out)
{
	for (int i = 0; i < 5; i++)
		if (strcmp(name, names[i]) == 0) {
			*out = (al_init_kind)i;
			return AL_OK;
		}
	if (strcmp(name, "xavier_normal") == 0) {
		*out = AL_INIT_GLOROT_NORMAL;
		return AL_OK;
	}
	if (strcmp(name, "xavier_uniform") == 0) {
		*out = AL_INIT_GLOROT_UNIFORM;
		return AL_OK;
	}
	return al_err(AL_EINVAL, "unknown initialiser '%s'; valid: %s", name, al_init_names());
}

void al_init_fill(al_init_kind k, float *w, size_t n, int fan_in, int fan_out, al_rng *r)
{
	double fi = fan_in > 0 ? fan_in : 1, fo = fan_out > 0 ? fan_out : 1;
	double std = 0, bound = 0;
	int normal = 0;
	switch (k) {
	case AL_INIT_HE_NORMAL: std = sqrt(2.0 / fi); normal = 1; break;
	case AL_INIT_HE_UNIFORM: bound = sqrt(6.0 / fi); break;
	case AL_INIT_GLOROT_NORMAL: std = sqrt(2.0 / (fi + fo)); normal = 1; break;
	case AL_INIT_GLOROT_UNIFORM: bound = sqrt(6.0 / (fi + fo)); break;
	case AL_INIT_TORCH: bound = 1.0 / sqrt(fi); break;
	}
	if (normal) {
		for (size_t i = 0; i < n; i++)
			w[i] = (float)(std * al_rng_normal(r));
		return;
	}
	/* al_rng_uniform's draws, inlined on a local copy of the state (the
	 * same xoshiro256** steps, bit for bit; test layers_init_bulk_uniform):
	 * an out-of-line call per weight made initialising VGG-11's 133M
	 * parameters take seconds. */
	uint64_t s0 = r->s[0], s1 = r->s[1], s2 = r->s[2], s3 = r->s[3];
	for (size_t i = 0; i < n; i++) {
		uint64_t x = s1 * 5, t = s1 << 17;
		uint64_t res = ((x << 7) | (x >> 57)) * 9;
		s2 ^= s0;
		s3 ^= s1;
		s1 ^= s2;
		s0 ^= s3;
		s2 ^= t;
		s3 = (s3 << 45) | (s3 >> 19);
		float u = (float)(res >> 40) * (1.0f / 16777216.0f);
		w[i] = (float)(bound * (2.0 * (double)u - 1.0));
	}
	r->s[0] = s0;
	r->s[1] = s1;
	r->s[2] = s2;
	r->s[3] = s3;
}
