/*
 * http-static.h - the dashboard's static files, served from web_root.
 */
#ifndef HORCRUXD_HTTP_STATIC_H
#define HORCRUXD_HTTP_STATIC_H

#include "http-int.h"

/*
 * Answer r (a path outside /api) with the file under web_root it names,
 * or 404/405. Returns what an lws HTTP callback returns.
 */
int http_static_serve(struct request *r);

#endif
