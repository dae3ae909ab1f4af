/* cfg.h — parsed model description: sections of key = value pairs. */
#ifndef ACTLAB_NN_CFG_H
#define ACTLAB_NN_CFG_H

#include "actlab/status.h"
#include "nn/layer.h"

#define AL_CFG_MAXSEC 1024
#define AL_CFG_MAXKV 24

typedef struct {
	char key[48];
	char val[200];
	int used;
} al_cfg_kv;

struct al_cfg_section {
	char type[32];
	char where[200];
	int line;
	int nkv;
	al_cfg_kv kv[AL_CFG_MAXKV];
};

typedef struct {
	int nsec;
	al_cfg_section sec[AL_CFG_MAXSEC];
} al_cfg;

/* Parses cfg text (already $-substituted). `where` names it in errors. */
al_status al_cfg_parse(const char *text, const char *where, al_cfg *cfg);
/* Error naming the first key of s that no one read. */
al_status al_cfg_check_unused(al_cfg_section *s, const char *valid);

#endif
