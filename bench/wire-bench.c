/*
 * wire-bench.c - bench/wire's CPU side: the cost per frame of each wire
 * encoding, on frames a real horcruxd sent (one JSON text per line of
 * FILE, each line "LABEL<TAB>frame text").
 *
 *   wire-bench FILE [ITERATIONS]
 *
 * For every label it times, per frame, averaged over the frames of that
 * label and ITERATIONS rounds (CPU time of this thread):
 *   daemon, JSON       json_dumps of the frame's value (HX_JSON_FLAGS), the
 *                      serialization every frame already gets;
 *   daemon, MessagePack hx_msgpack_from_text on the final text, which is
 *                      what frame_binary adds once per frame for msgpack
 *                      sessions;
 *   deflate            zlib raw deflate, level 1, one stream kept across the
 *                      label's frames with a sync flush per frame (the
 *                      server's context takeover), of each encoding, and
 *                      the bytes it gives;
 *   client decode      json_loads of the text; hx_msgpack_decode of the
 *                      bytes (the same json_t); and what lib/hx-client-ws.c
 *                      does today: MessagePack to text, then the caller's
 *                      json_loads.
 * It prints a table and one JSON line. It measures the codecs alone: no
 * sockets, no lws; bench/wire counts the real bytes on the wire.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

#include "hx-event.h"
#include "hx-msgpack.h"
#include "hx-util.h"

#define MAX_FRAMES 4096

struct frame_in {
	char	      *label;
	char	      *text;
	size_t	       len;
	json_t	      *value;
	unsigned char *bin;
	size_t	       blen;
};

static double
cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Deflate each of n buffers through one stream; returns total bytes out. */
static size_t
deflate_all(const unsigned char *const *buf, const size_t *len, size_t n)
{
	static unsigned char out[1 << 20];
	z_stream	     z;
	size_t		     i, total = 0;

	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, 1, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	for (i = 0; i < n; i++) {
		z.next_in = (unsigned char *)(uintptr_t)buf[i];
		z.avail_in = (uInt)len[i];
		z.next_out = out;
		z.avail_out = sizeof out;
		if (deflate(&z, Z_SYNC_FLUSH) != Z_OK)
			abort();
		/* RFC 7692: the trailing 00 00 ff ff is not sent. */
		total += sizeof out - z.avail_out - 4;
	}
	deflateEnd(&z);
	return total;
}

struct result {
	double json_enc, mp_enc, json_defl, mp_defl, json_dec, mp_dec,
	    mp_dec_text;
	double json_bytes, mp_bytes, json_defl_bytes, mp_defl_bytes;
};

static void
measure(struct frame_in *f, size_t n, int iters, struct result *r)
{
	const unsigned char **bj = xcalloc(n, sizeof *bj), **bm;
	size_t		     *lj = xcalloc(n, sizeof *lj), *lm;
	double		      t;
	size_t		      i, dj = 0, dm = 0;
	int		      k;

	bm = xcalloc(n, sizeof *bm);
	lm = xcalloc(n, sizeof *lm);
	memset(r, 0, sizeof *r);
	for (i = 0; i < n; i++) {
		bj[i] = (const unsigned char *)f[i].text;
		lj[i] = f[i].len;
		bm[i] = f[i].bin;
		lm[i] = f[i].blen;
		r->json_bytes += (double)f[i].len;
		r->mp_bytes += (double)f[i].blen;
	}

	t = cpu_ns();
	for (k = 0; k < iters; k++)
		for (i = 0; i < n; i++)
			free(json_dumps(f[i].value, HX_JSON_FLAGS));
	r->json_enc = (cpu_ns() - t) / iters / (double)n;

	t = cpu_ns();
	for (k = 0; k < iters; k++)
		for (i = 0; i < n; i++) {
			size_t len;
			char  *err = NULL;

			free(hx_msgpack_from_text(f[i].text, f[i].len, 16, &len,
			    &err));
		}
	r->mp_enc = (cpu_ns() - t) / iters / (double)n;

	t = cpu_ns();
	for (k = 0; k < iters; k++)
		dj = deflate_all(bj, lj, n);
	r->json_defl = (cpu_ns() - t) / iters / (double)n;
	t = cpu_ns();
	for (k = 0; k < iters; k++)
		dm = deflate_all(bm, lm, n);
	r->mp_defl = (cpu_ns() - t) / iters / (double)n;
	r->json_defl_bytes = (double)dj;
	r->mp_defl_bytes = (double)dm;

	t = cpu_ns();
	for (k = 0; k < iters; k++)
		for (i = 0; i < n; i++)
			json_decref(json_loadb(f[i].text, f[i].len, 0, NULL));
	r->json_dec = (cpu_ns() - t) / iters / (double)n;

	t = cpu_ns();
	for (k = 0; k < iters; k++)
		for (i = 0; i < n; i++) {
			char *err = NULL;

			json_decref(hx_msgpack_decode(f[i].bin, f[i].blen,
			    &err));
		}
	r->mp_dec = (cpu_ns() - t) / iters / (double)n;

	t = cpu_ns();
	for (k = 0; k < iters; k++)
		for (i = 0; i < n; i++) {
			char  *err = NULL, *text;
			size_t tl;

			text = hx_msgpack_to_text(f[i].bin, f[i].blen, &tl,
			    &err);
			json_decref(json_loadb(text, tl, 0, NULL));
			free(text);
		}
	r->mp_dec_text = (cpu_ns() - t) / iters / (double)n;

	r->json_bytes /= (double)n;
	r->mp_bytes /= (double)n;
	r->json_defl_bytes /= (double)n;
	r->mp_defl_bytes /= (double)n;
	free(bj);
	free(lj);
	free(bm);
	free(lm);
}

int
main(int argc, char **argv)
{
	static struct frame_in f[MAX_FRAMES];
	struct hx_buf	       js;
	FILE		      *fp;
	char		      *line = NULL;
	size_t		       cap = 0, n = 0, i, start;
	ssize_t		       got;
	int		       iters = argc > 2 ? atoi(argv[2]) : 200;

	if (argc < 2 || iters < 1) {
		fprintf(stderr, "usage: wire-bench FILE [ITERATIONS]\n");
		return 2;
	}
	if ((fp = fopen(argv[1], "r")) == NULL) {
		perror(argv[1]);
		return 1;
	}
	while ((got = getline(&line, &cap, fp)) > 0 && n < MAX_FRAMES) {
		char *tab = strchr(line, '\t'), *err = NULL;

		if (tab == NULL)
			continue;
		line[got - 1] = line[got - 1] == '\n' ? '\0' : line[got - 1];
		*tab = '\0';
		f[n].label = xstrdup(line);
		f[n].text = xstrdup(tab + 1);
		f[n].len = strlen(f[n].text);
		f[n].value = json_loads(f[n].text, 0, NULL);
		f[n].bin = hx_msgpack_from_text(f[n].text, f[n].len, 0,
		    &f[n].blen, &err);
		if (f[n].value == NULL || f[n].bin == NULL) {
			fprintf(stderr, "wire-bench: bad frame %zu: %s\n", n,
			    err ? err : "not JSON");
			return 1;
		}
		n++;
	}
	free(line);
	fclose(fp);

	printf("  %-26s %9s %9s %9s %9s | %9s %9s %9s %9s | %9s %9s %9s\n",
	    "frames (per frame)", "json B", "mp B", "json+df", "mp+df",
	    "enc json", "enc mp", "defl js", "defl mp", "dec json",
	    "dec mp", "mp->text");
	hx_buf_init(&js, 0);
	hx_buf_addf(&js, "{\"bench\":\"wire-cpu\",\"iterations\":%d,\"kinds\":{",
	    iters);
	for (start = 0; start < n; start = i) {
		struct result r;

		for (i = start; i < n && strcmp(f[i].label, f[start].label) == 0;
		    i++)
			;
		measure(f + start, i - start, iters, &r);
		printf("  %-20s %5zu %9.0f %9.0f %9.0f %9.0f | %7.1fus "
		       "%7.1fus %7.1fus %7.1fus | %7.1fus %7.1fus %7.1fus\n",
		    f[start].label, i - start, r.json_bytes, r.mp_bytes,
		    r.json_defl_bytes, r.mp_defl_bytes, r.json_enc / 1e3,
		    r.mp_enc / 1e3, r.json_defl / 1e3, r.mp_defl / 1e3,
		    r.json_dec / 1e3, r.mp_dec / 1e3, r.mp_dec_text / 1e3);
		hx_buf_addf(&js,
		    "%s\"%s\":{\"frames\":%zu,\"json_bytes\":%.0f,"
		    "\"msgpack_bytes\":%.0f,\"json_deflate_bytes\":%.0f,"
		    "\"msgpack_deflate_bytes\":%.0f,\"encode_json_us\":%.2f,"
		    "\"encode_msgpack_us\":%.2f,\"deflate_json_us\":%.2f,"
		    "\"deflate_msgpack_us\":%.2f,\"decode_json_us\":%.2f,"
		    "\"decode_msgpack_us\":%.2f,"
		    "\"decode_msgpack_as_text_us\":%.2f}",
		    start ? "," : "", f[start].label, i - start, r.json_bytes,
		    r.mp_bytes, r.json_defl_bytes, r.mp_defl_bytes,
		    r.json_enc / 1e3, r.mp_enc / 1e3, r.json_defl / 1e3,
		    r.mp_defl / 1e3, r.json_dec / 1e3, r.mp_dec / 1e3,
		    r.mp_dec_text / 1e3);
	}
	hx_buf_add(&js, "}}", 2);
	puts(js.data);
	hx_buf_release(&js);
	for (i = 0; i < n; i++) {
		free(f[i].label);
		free(f[i].text);
		json_decref(f[i].value);
		free(f[i].bin);
	}
	return 0;
}
