/* cfg.c — model description files: INI text with one section per layer
 * (darknet-like), parsed with Debian's libinih. Sections may repeat ([conv]
 * twice), so section headers are made unique ("conv#3") before inih sees
 * them. $NAME in values is substituted from the model options.
 * Not for: building layers (model.c).
 */
#include <ctype.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/core.h"
#include "nn/cfg.h"

static void trim(char *s)
{
	char *p = s;
	while (isspace((unsigned char)*p))
		p++;
	memmove(s, p, strlen(p) + 1);
	size_t l = strlen(s);
	while (l && isspace((unsigned char)s[l - 1]))
		s[--l] = 0;
}

typedef struct {
	al_cfg *cfg;
	const char *where;
	al_status st;
} parse_ctx;

static int handler(void *user, const char *section, const char *name, const char *value)
{
	parse_ctx *c = user;
	al_cfg *cfg = c->cfg;
	const char *hash = strrchr(section, '#');
	if (!hash) {
		c->st = al_err(AL_EFORMAT, "%s: key '%s' outside any [section]", c->where, name);
		return 0;
	}
	int idx = atoi(hash + 1);
	if (idx < 0 || idx >= cfg->nsec) {
		c->st = al_err(AL_EFORMAT, "%s: internal section index", c->where);
		return 0;
	}
	al_cfg_section *s = &cfg->sec[idx];
	if (s->nkv >= AL_CFG_MAXKV) {
		c->st = al_err(AL_EFORMAT, "%s:%d: [%s] has too many keys (max %d)", c->where, s->line,
			       s->type, AL_CFG_MAXKV);
		return 0;
	}
	for (int i = 0; i < s->nkv; i++)
		if (strcmp(s->kv[i].key, name) == 0) {
			c->st = al_err(AL_EFORMAT, "%s:%d: [%s] key '%s' given twice", c->where,
				       s->line, s->type, name);
			return 0;
		}
	if (strlen(name) >= sizeof s->kv[0].key || strlen(value) >= sizeof s->kv[0].val) {
		c->st = al_err(AL_EFORMAT, "%s:%d: [%s] key or value too long", c->where, s->line,
			       s->type);
		return 0;
	}
	strcpy(s->kv[s->nkv].key, name);
	strcpy(s->kv[s->nkv].val, value);
	s->kv[s->nkv].used = 0;
	s->nkv++;
	return 1;
}

al_status al_cfg_parse(const char *text, const char *where, al_cfg *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	size_t len = strlen(text);
	char *pre = malloc(len * 2 + 64 * 1024);
	if (!pre)
		return al_err(AL_ENOMEM, "%s: out of memory", where);
	size_t o = 0;
	int lineno = 0;
	al_status st = AL_OK;
	for (const char *p = text; *p;) {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		char line[512];
		lineno++;
		if (l >= sizeof line) {
			st = al_err(AL_EFORMAT, "%s:%d: line too long", where, lineno);
			goto fail;
		}
		memcpy(line, p, l);
		line[l] = 0;
		trim(line);
		if (line[0] == '[') {
			char *close = strchr(line, ']');
			if (!close) {
				st = al_err(AL_EFORMAT, "%s:%d: section header without ']'", where,
					    lineno);
				goto fail;
			}
			*close = 0;
			if (cfg->nsec >= AL_CFG_MAXSEC) {
				st = al_err(AL_EFORMAT, "%s:%d: too many sections (max %d)", where,
					    lineno, AL_CFG_MAXSEC);
				goto fail;
			}
			al_cfg_section *s = &cfg->sec[cfg->nsec];
			snprintf(s->type, sizeof s->type, "%s", line + 1);
			trim(s->type);
			s->line = lineno;
			snprintf(s->where, sizeof s->where, "%s", where);
			o += (size_t)sprintf(pre + o, "[%s#%d]\n", s->type, cfg->nsec);
			cfg->nsec++;
		} else if (line[0] == '#' || line[0] == ';') {
			/* comments are not inih's business (its lines end at 200 chars) */
			pre[o++] = '\n';
		} else {
			memcpy(pre + o, line, strlen(line));
			o += strlen(line);
			pre[o++] = '\n';
		}
		p = e ? e + 1 : p + l;
	}
	pre[o] = 0;
	parse_ctx c = {cfg, where, AL_OK};
	int r = ini_parse_string(pre, handler, &c);
	if (c.st != AL_OK) {
		st = c.st;
		goto fail;
	}
	if (r != 0) {
		st = al_err(AL_EFORMAT, "%s: syntax error near line %d (expected key = value)", where,
			    r);
		goto fail;
	}
	free(pre);
	return AL_OK;
fail:
	free(pre);
	return st;
}

static al_cfg_kv *find(al_cfg_section *s, const char *key)
{
	for (int i = 0; i < s->nkv; i++)
		if (strcmp(s->kv[i].key, key) == 0) {
			s->kv[i].used = 1;
			return &s->kv[i];
		}
	return NULL;
}

int al_cfg_has(al_cfg_section *s, const char *key)
{
	for (int i = 0; i < s->nkv; i++)
		if (strcmp(s->kv[i].key, key) == 0)
			return 1;
	return 0;
}

const char *al_cfg_str(al_cfg_section *s, const char *key, const char *def)
{
	al_cfg_kv *kv = find(s, key);
	return kv ? kv->val : def;
}

al_status al_cfg_int(al_cfg_section *s, const char *key, int def, int lo, int hi, int *out)
{
	al_cfg_kv *kv = find(s, key);
	if (!kv) {
		*out = def;
		return AL_OK;
	}
	char *end;
	long v = strtol(kv->val, &end, 10);
	if (end == kv->val || *end)
		return al_err(AL_EINVAL, "%s:%d: [%s] %s = '%s' is not an integer", s->where, s->line,
			      s->type, key, kv->val);
	if (v < lo || v > hi)
		return al_err(AL_ERANGE, "%s:%d: [%s] %s = %ld outside [%d, %d]", s->where, s->line,
			      s->type, key, v, lo, hi);
	*out = (int)v;
	return AL_OK;
}

al_status al_cfg_float(al_cfg_section *s, const char *key, double def, double *out)
{
	al_cfg_kv *kv = find(s, key);
	if (!kv) {
		*out = def;
		return AL_OK;
	}
	char *end;
	double v = strtod(kv->val, &end);
	if (end == kv->val || *end)
		return al_err(AL_EINVAL, "%s:%d: [%s] %s = '%s' is not a number", s->where, s->line,
			      s->type, key, kv->val);
	*out = v;
	return AL_OK;
}

al_status al_cfg_ints(al_cfg_section *s, const char *key, int *out, int max, int *count)
{
	al_cfg_kv *kv = find(s, key);
	*count = 0;
	if (!kv)
		return AL_OK;
	for (const char *p = kv->val; *p;) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p || *count >= max)
			return al_err(AL_EINVAL, "%s:%d: [%s] %s = '%s': expected up to %d integers",
				      s->where, s->line, s->type, key, kv->val, max);
		out[(*count)++] = (int)v;
		p = end;
		while (*p == ',' || *p == ' ')
			p++;
	}
	return AL_OK;
}

al_status al_cfg_check_unused(al_cfg_section *s, const char *valid)
{
	for (int i = 0; i < s->nkv; i++)
		if (!s->kv[i].used)
			return al_err(AL_EINVAL, "%s:%d: [%s] unknown key '%s'; valid keys: %s",
				      s->where, s->line, s->type, s->kv[i].key, valid);
	return AL_OK;
}
