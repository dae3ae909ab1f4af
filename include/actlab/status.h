/* status.h — error reporting for every fallible actlab call.
 *
 * Every fallible function returns an al_status and, on failure, leaves a
 * message in a thread-local buffer that says what went wrong, where, and
 * which value ("conv2d 'c2': input has 3 channels, layer expects 1").
 * The library never exits or aborts on bad input.
 */
#ifndef ACTLAB_STATUS_H
#define ACTLAB_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
	AL_OK = 0,
	AL_EINVAL,   /* bad argument, unknown name or key, impossible shape */
	AL_ENOMEM,   /* allocation failed */
	AL_EIO,      /* file could not be opened, read or written */
	AL_EFORMAT,  /* a file exists but its contents are malformed */
	AL_ERANGE,   /* a value is outside what is allowed (label, size) */
	AL_ESTATE,   /* call made in the wrong state (e.g. backward before forward) */
	AL_EUNSUPPORTED, /* feature not available in this build */
	AL_ENUMERIC  /* non-finite values where finite ones are required */
} al_status;

/* Message of the last failure on this thread ("" if none). */
const char *al_errmsg(void);
/* Short name of a status code ("invalid argument", ...). */
const char *al_status_str(al_status s);
/* Sets the thread-local message (printf-style) and returns s. */
al_status al_err(al_status s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Prepends "context: " to the current message and returns s. */
al_status al_err_ctx(al_status s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void al_err_clear(void);

#define AL_TRY(expr)                     \
	do {                             \
		al_status al__s = (expr); \
		if (al__s != AL_OK)      \
			return al__s;    \
	} while (0)

#ifdef __cplusplus
}
#endif
#endif
