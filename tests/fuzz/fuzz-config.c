/*
 * fuzz-config.c - libFuzzer target for the config file parser: arbitrary
 * bytes as a horcrux.conf against a table with every option type.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hx-config.h"
#include "hx-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *choices[] = { "a", "b", NULL };

static const struct hx_opt table[] = {
	{ "s", 0, HX_OPT_STRING, "x", 0, 0, NULL, "S", "s", 0, NULL },
	{ "i", 0, HX_OPT_INT, "1", -5, 5, NULL, "N", "i", 0, NULL },
	{ "d", 0, HX_OPT_SECONDS, "1", 0.1, 10, NULL, "S", "d", 0, NULL },
	{ "b", 0, HX_OPT_BOOL, "no", 0, 0, NULL, NULL, "b", 0, NULL },
	{ "c", 0, HX_OPT_CHOICE, "a", 0, 0, choices, "C", "c", 0, NULL },
	{ "l", 0, HX_OPT_LIST, "/", 0, 0, NULL, "L", "l", 0, NULL },
	{ "f", 'f', HX_OPT_BOOL, "no", 0, 0, NULL, NULL, "f", HX_OPT_CLI_ONLY,
	  NULL },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hx_config	 cfg;
	char			*text, *err = NULL;

	text = xmalloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	hx_config_init(&cfg, table, HX_ARRAY_SIZE(table));
	(void)hx_config_load_text(&cfg, "fuzz.conf", text, &err);
	free(err);
	hx_config_release(&cfg);
	free(text);
	return 0;
}
