/*
 * graph.h - horcrux-top's graph view (key g): one CPU% series of the host
 * or a VM over 15 min, 1 h or 24 h as the history API answered it,
 * plotted with block characters in the terminal's size, with the range's
 * min/avg/max. Drawing only: the loop in horcrux-top.c fetches.
 */
#ifndef TOP_GRAPH_H
#define TOP_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "screen.h"

/* Draw the graph view in rows x cols (the key bar is below rows). */
void graph_draw(struct top_ui *ui, int rows, int cols);

#endif
