/* zoo.c — built-in model names: the the .cfg files under models/ files embedded at build
 * time (scripts/embed-models.sh), plus `mlp:W1,W2,...`, which generates an
 * MLP with the given hidden widths. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/nn.h"

extern const struct {
	const char *name, *doc, *text;
} al_zoo_data[];

int al_zoo_count(void)
{
	int n = 0;
	while (al_zoo_data[n].name)
		n++;
	return n;
}

const char *al_zoo_name(int i) { return i >= 0 && i < al_zoo_count() ? al_zoo_data[i].name : NULL; }
const char *al_zoo_doc(int i) { return i >= 0 && i < al_zoo_count() ? al_zoo_data[i].doc : NULL; }

static _Thread_local char mlp_text[8192];

const char *al_zoo_cfg(const char *name)
{
	if (strncmp(name, "mlp:", 4) == 0) {
		size_t l = (size_t)snprintf(mlp_text, sizeof mlp_text,
					    "# MLP with hidden widths %s\n", name + 4);
		for (const char *p = name + 4; *p;) {
			char *end;
			long w = strtol(p, &end, 10);
			if (end == p || w < 1 || w > (1 << 20) || (*end && *end != ','))
				return NULL;
			l += (size_t)snprintf(mlp_text + l, sizeof mlp_text - l,
					      "[dense]\nout = %ld\nact = $ACT\n\n", w);
			if (l >= sizeof mlp_text - 64)
				return NULL;
			p = *end ? end + 1 : end;
		}
		snprintf(mlp_text + l, sizeof mlp_text - l, "[dense]\nout = $CLASSES\n");
		return mlp_text;
	}
	for (int i = 0; al_zoo_data[i].name; i++)
		if (strcmp(al_zoo_data[i].name, name) == 0)
			return al_zoo_data[i].text;
	return NULL;
}
