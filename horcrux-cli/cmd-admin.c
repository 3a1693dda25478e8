/*
 * cmd-admin.c - `admin backup FILE`: an online backup of a data
 * directory's databases, made on this host while horcruxd runs.
 *
 * It reads the data directory itself, not through the daemon: the
 * archive holds every password hash, key hash and notification secret,
 * so the right to make one is the right to read the data directory
 * (root or the daemon's user), as with the files of any service, and no
 * route hands these out over the network. Consistency comes from SQLite
 * (one read transaction per database under WAL: hx_store_backup), so the
 * daemon need not stop or even run. Restore is in horcrux-cli(1).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hx-store.h"

#define DEFAULT_CONFIG "/etc/horcrux/horcrux.conf"
#define DEFAULT_DATA_DIR "/var/lib/horcrux"
#define CONFIG_MAX (1024 * 1024)

/*
 * data_dir as horcruxd's configuration file sets it (the last
 * `data_dir = VALUE` line), or NULL when the file does not set it. A
 * missing file is no error unless it was named (*failed set, message
 * printed). Caller frees.
 */
static char *
config_data_dir(const char *path, int named, int *failed)
{
	char *text, *line, *save = NULL, *found = NULL, *k, *v, *end;

	*failed = 0;
	if ((text = hx_read_file(path, CONFIG_MAX, NULL)) == NULL) {
		if (named || errno != ENOENT) {
			cli_error("cannot read '%s': %s", path,
			    strerror(errno));
			*failed = 1;
		}
		return NULL;
	}
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		k = line + strspn(line, " \t");
		if (strncmp(k, "data_dir", 8) != 0)
			continue;
		v = k + 8 + strspn(k + 8, " \t");
		if (*v != '=')
			continue;
		v += 1 + strspn(v + 1, " \t");
		end = v + strlen(v);
		while (end > v && strchr(" \t\r", end[-1]) != NULL)
			*--end = '\0';
		if (end - v >= 2 && *v == '"' && end[-1] == '"') {
			end[-1] = '\0';
			v++;
		}
		free(found);
		found = xstrdup(v);
	}
	free(text);
	return found;
}

int
cmd_admin_backup(struct cli *cli, const struct cmd_entry *e, struct cmd_args *a)
{
	const char *flag_dir = cmd_flag(e, a, "data-dir");
	const char *conf = cmd_flag(e, a, "config");
	char	   *dir = NULL, *manifest = NULL, *err = NULL;
	json_t	   *m, *f;
	size_t	    i;
	int	    rc, failed;

	if (flag_dir != NULL && conf != NULL)
		return cli_usage(e,
		    "--data-dir and --config exclude each other");
	if (a->argv[0][0] == '\0')
		return cli_usage(e, "FILE is empty");
	if (flag_dir != NULL)
		dir = xstrdup(flag_dir);
	else {
		dir = config_data_dir(conf != NULL ? conf : DEFAULT_CONFIG,
		    conf != NULL, &failed);
		if (failed)
			return CLI_ERR;
		if (dir == NULL)
			dir = xstrdup(DEFAULT_DATA_DIR);
	}
	rc = hx_store_backup(dir, a->argv[0], cmd_flag_count(e, a, "force"),
	    &manifest, &err);
	if (rc == HX_STORE_CONFLICT) {
		cli_error("cannot back up to '%s': it exists (--force replaces "
			  "it)",
		    a->argv[0]);
		free(err);
		free(dir);
		return CLI_ERR;
	}
	if (rc != HX_STORE_OK) {
		cli_error("cannot back up: %s", err);
		free(err);
		free(dir);
		return CLI_ERR;
	}
	free(dir);
	m = json_loads(manifest, 0, NULL);
	free(manifest);
	if (cli->out == OUT_JSON) {
		out_json(m);
	} else {
		printf("backup written to '%s'\n", a->argv[0]);
		f = json_object_get(m, "files");
		for (i = 0; i < json_array_size(f); i++) {
			const json_t *o = json_array_get(f, i);
			char	      n[32], b[32];

			printf("  %-12s %-9s schema %s, %s\n", jstr(o, "name"),
			    jstr(o, "what"), jnum(o, "schema", n, sizeof n),
			    hx_fmt_bytes((double)json_integer_value(
					     json_object_get(o, "bytes")),
				b, sizeof b));
		}
	}
	json_decref(m);
	return CLI_OK;
}
