/* adapt.c — al_dataset_adapt: reshapes image data to the input a model
 * declares (e.g. Fashion-MNIST 1x28x28 for a CIFAR ResNet at 3x32x32).
 *
 * Channels first (1 -> C replicated, 3 -> 1 luma with BT.601 weights
 * 0.299/0.587/0.114 rounded to the nearest byte, 4 -> 3 drops alpha), then
 * the size: when the target is larger on both sides by at most a quarter
 * of the source (28 -> 32, 32 -> 40) the image is zero-padded, centred
 * (the extra pixel of an odd difference goes to the bottom/right);
 * otherwise it is resampled with stb_image_resize's triangle filter
 * (bilinear, antialiased when shrinking, like torchvision's Resize).
 * Tabular data cannot be adapted. Not for: augmentation (batch.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb/stb_image_resize.h>

#include "actlab/data.h"

#define MAX_SIDE 4096

static int pad_ok(int from, int to) { return to >= from && (to - from) * 4 <= from; }

al_status al_dataset_adapt(al_dataset *d, int c, int h, int w, char *what, size_t cap)
{
	if (what && cap)
		what[0] = 0;
	if (d->c == c && d->h == h && d->w == w)
		return AL_OK;
	if (d->features)
		return al_err(AL_EINVAL,
			      "%s: tabular data (%d features) cannot feed a model that takes %dx%dx%d "
			      "images; use a model with %d inputs (e.g. --model mlp)",
			      d->name, d->w, c, h, w, d->w);
	if (d->crop_src)
		return al_err(AL_EINVAL,
			      "%s: %dx%dx%d images with random-crop sources (rcrop=) cannot be adapted "
			      "to %dx%dx%d; load them at the model's size (size=, c=)",
			      d->name, d->c, d->h, d->w, c, h, w);
	if (c < 1 || h < 1 || w < 1 || h > MAX_SIDE || w > MAX_SIDE)
		return al_err(AL_EINVAL, "%s: cannot adapt to input %dx%dx%d", d->name, c, h, w);
	int chan_ok = d->c == c || d->c == 1 || (d->c == 3 && c == 1) || (d->c == 4 && c == 3);
	if (!chan_ok)
		return al_err(AL_EINVAL,
			      "%s: images have %d channels, the model takes %d; only 1 -> N, 3 -> 1 "
			      "and 4 -> 3 can be converted",
			      d->name, d->c, c);
	const int pad = pad_ok(d->h, h) && pad_ok(d->w, w);
	const size_t ihw = (size_t)d->h * d->w, ohw = (size_t)h * w;
	const size_t ichw = (size_t)d->c * ihw, ochw = (size_t)c * ohw;
	uint8_t *out = al_malloc((size_t)(d->n ? d->n : 1) * ochw);
	if (!out)
		return al_err(AL_ENOMEM, "%s: cannot allocate %d adapted images of %dx%dx%d", d->name,
			      d->n, c, h, w);
	const int top = (h - d->h) / 2, left = (w - d->w) / 2;
	int bad = 0;
	const uint8_t *images = d->images;
	const int n = d->n, sc = d->c, sh = d->h, sw = d->w;
#pragma omp parallel for schedule(static) reduction(| : bad)
	for (int i = 0; i < n; i++) {
		uint8_t *tmp = malloc(ihw * (size_t)c);
		if (!tmp) {
			bad |= 2;
			continue;
		}
		const uint8_t *src = images + (size_t)i * ichw;
		uint8_t *dst = out + (size_t)i * ochw;
		/* channels into tmp (planar, c planes of the source size) */
		for (int ch = 0; ch < c; ch++) {
			uint8_t *tp = tmp + (size_t)ch * ihw;
			if (sc == c || sc == 4)
				memcpy(tp, src + (size_t)ch * ihw, ihw);
			else if (sc == 1)
				memcpy(tp, src, ihw);
			else /* 3 -> 1 */
				for (size_t k = 0; k < ihw; k++)
					tp[k] = (uint8_t)((299 * src[k] + 587 * src[ihw + k] +
							   114 * src[2 * ihw + k] + 500) / 1000);
		}
		for (int ch = 0; ch < c; ch++) {
			const uint8_t *tp = tmp + (size_t)ch * ihw;
			uint8_t *op = dst + (size_t)ch * ohw;
			if (pad) {
				memset(op, 0, ohw);
				for (int y = 0; y < sh; y++)
					memcpy(op + (size_t)(y + top) * w + left, tp + (size_t)y * sw,
					       (size_t)sw);
			} else if (!stbir_resize_uint8_generic(tp, sw, sh, 0, op, w, h, 0, 1,
							       STBIR_ALPHA_CHANNEL_NONE, 0,
							       STBIR_EDGE_CLAMP, STBIR_FILTER_TRIANGLE,
							       STBIR_COLORSPACE_LINEAR, NULL)) {
				bad |= 1;
			}
		}
		free(tmp);
	}
	if (bad) {
		al_free(out);
		return al_err(bad & 2 ? AL_ENOMEM : AL_EINVAL, "%s: resizing %dx%d to %dx%d failed%s",
			      d->name, d->h, d->w, h, w, bad & 2 ? " (out of memory)" : "");
	}
	if (what && cap) {
		char chan[96] = "";
		if (d->c != c)
			snprintf(chan, sizeof chan, "%s",
				 d->c == 1   ? "channel replicated"
				 : d->c == 3 ? "RGB converted to grey (BT.601 luma)"
					     : "alpha channel dropped");
		char size[128] = "";
		if (d->h != h || d->w != w) {
			if (pad)
				snprintf(size, sizeof size, "zero-padded %d px top, %d bottom, %d left, %d right",
					 top, h - d->h - top, left, w - d->w - left);
			else
				snprintf(size, sizeof size, "resized %dx%d -> %dx%d", d->h, d->w, h, w);
		}
		snprintf(what, cap, "%s: %dx%dx%d images adapted to the model's %dx%dx%d input: %s%s%s",
			 d->name, d->c, d->h, d->w, c, h, w, chan, chan[0] && size[0] ? ", " : "",
			 size);
	}
	al_free(d->images);
	d->images = out;
	d->c = c;
	d->h = h;
	d->w = w;
	return AL_OK;
}
