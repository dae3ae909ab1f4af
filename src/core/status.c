/* status.c — thread-local error message behind al_status codes. */
#include "actlab/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char errbuf[1024];

const char *al_errmsg(void) { return errbuf; }

void al_err_clear(void) { errbuf[0] = 0; }

const char *al_status_str(al_status s)
{
	switch (s) {
	case AL_OK: return "ok";
	case AL_EINVAL: return "invalid argument";
	case AL_ENOMEM: return "out of memory";
	case AL_EIO: return "i/o error";
	case AL_EFORMAT: return "malformed file";
	case AL_ERANGE: return "value out of range";
	case AL_ESTATE: return "invalid state";
	case AL_EUNSUPPORTED: return "unsupported";
	case AL_ENUMERIC: return "numeric error";
	}
	return "unknown status";
}

al_status al_err(al_status s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof errbuf, fmt, ap);
	va_end(ap);
	return s;
}

al_status al_err_ctx(al_status s, const char *fmt, ...)
{
	char prefix[512], old[sizeof errbuf];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	memcpy(old, errbuf, sizeof old);
	snprintf(errbuf, sizeof errbuf, "%s: %s", prefix, old);
	return s;
}
