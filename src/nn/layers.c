/* layers.c — the list of layer kinds the cfg parser knows. One row per kind. */
#include "nn/layer.h"

extern const al_layer_ops al_layer_dense, al_layer_act, al_layer_flatten;
extern const al_layer_ops al_layer_conv;
extern const al_layer_ops al_layer_maxpool, al_layer_avgpool, al_layer_gap;
extern const al_layer_ops al_layer_adaptive_avgpool, al_layer_adaptive_maxpool;
extern const al_layer_ops al_layer_batchnorm, al_layer_dropout;
extern const al_layer_ops al_layer_shortcut, al_layer_concat;
extern const al_layer_ops al_layer_lrn, al_layer_scale, al_layer_chanpad;

const al_layer_ops *const al_layer_kinds[] = {
	&al_layer_dense,
	&al_layer_act,
	&al_layer_flatten,
	&al_layer_conv,
	&al_layer_maxpool,
	&al_layer_avgpool,
	&al_layer_gap,
	&al_layer_adaptive_avgpool,
	&al_layer_adaptive_maxpool,
	&al_layer_batchnorm,
	&al_layer_dropout,
	&al_layer_shortcut,
	&al_layer_concat,
	&al_layer_lrn,
	&al_layer_scale,
	&al_layer_chanpad,
	NULL,
};
