/*
 * hx-store-backup.c - an online backup of a data directory's databases
 * (horcrux.db, the identity store, and metrics.db, the history) into one
 * tar archive, consistent while horcruxd writes to them.
 *
 * Each database is copied by `VACUUM INTO` on a read-only connection of
 * its own: that is one read transaction, and under WAL a reader sees one
 * committed state whatever the daemon commits meanwhile, without holding
 * the daemon up. The two files are two snapshots taken one after the
 * other (they share no rows, so nothing ties them tighter). The copies are
 * checked (`PRAGMA quick_check`) before they go into the archive, so a
 * backup that exists is one that opens.
 *
 * The archive is plain ustar (`tar -xf FILE -C DIR` restores it):
 * horcrux-backup.json first (what was saved, each file's schema version
 * and size, the version of the code that wrote it), then the databases,
 * mode 0600, owned as the originals were. It is written beside its final
 * name in a private 0700 directory and moved into place once complete and
 * synced: an interrupted or failed backup leaves nothing behind and never
 * a half archive under the name asked for. Without force the final step is
 * link(2), so an existing file is never replaced, even one created while
 * the backup ran.
 *
 * What it does not do: copy jwt.key (a restored daemon makes a new one, so
 * sessions of the old data directory end; passwords and API keys keep
 * working), talk to the daemon (points of the history not yet flushed
 * are not on disk, so not in the backup), or print.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "hx-store.h"
#include "hx-util.h"

#include "banned.h"

#define BACKUP_MANIFEST "horcrux-backup.json"
#define TAR_BLOCK 512

/* The files a backup holds, in archive order after the manifest. */
static const struct {
	const char *name;
	const char *what;
	int	    required;
} backup_files[] = {
	{ "horcrux.db", "identity", 1 },
	{ "metrics.db", "metrics", 0 },
};

/* The directory part of path ("." when there is none); caller frees. */
static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/* Remove the private directory and whatever this code put in it. */
static void
remove_tmpdir(const char *tmp)
{
	char  *path;
	size_t i;

	for (i = 0; i < HX_ARRAY_SIZE(backup_files); i++) {
		path = xasprintf("%s/%s", tmp, backup_files[i].name);
		unlink(path);
		free(path);
	}
	path = xasprintf("%s/archive.tar", tmp);
	unlink(path);
	free(path);
	rmdir(tmp);
}

/*
 * Copy the database src into dst (a new file) in one read transaction,
 * check the copy and read its schema version. Returns HX_STORE_OK or
 * HX_STORE_ERROR with *err.
 */
static int
copy_db(const char *src, const char *dst, int *schema, char **err)
{
	sqlite3	     *db = NULL, *out = NULL;
	sqlite3_stmt *s = NULL;
	int	      rc, ret = HX_STORE_ERROR;

	rc = sqlite3_open_v2(src, &db, SQLITE_OPEN_READONLY, NULL);
	if (rc != SQLITE_OK) {
		hx_fail(err, ret, "cannot open '%s': %s", src,
		    db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		goto out;
	}
	sqlite3_busy_timeout(db, 10000);
	if (sqlite3_prepare_v2(db, "VACUUM INTO ?", -1, &s, NULL) != SQLITE_OK)
		goto db_failed;
	sqlite3_bind_text(s, 1, dst, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		goto db_failed;
	sqlite3_finalize(s);
	s = NULL;

	/* The copy, not the source: its version is what the archive holds. */
	if (sqlite3_open_v2(dst, &out, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		hx_fail(err, ret, "cannot open the copy of '%s': %s", src,
		    sqlite3_errmsg(out));
		goto out;
	}
	if (sqlite3_prepare_v2(out, "PRAGMA quick_check", -1, &s, NULL) !=
		SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW) {
		hx_fail(err, ret, "cannot check the copy of '%s': %s", src,
		    sqlite3_errmsg(out));
		goto out;
	}
	if (strcmp((const char *)sqlite3_column_text(s, 0), "ok") != 0) {
		hx_fail(err, ret, "the copy of '%s' is damaged: %s", src,
		    (const char *)sqlite3_column_text(s, 0));
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (sqlite3_prepare_v2(out, "PRAGMA user_version", -1, &s, NULL) !=
		SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW) {
		hx_fail(err, ret, "cannot read the schema version of '%s': %s",
		    src, sqlite3_errmsg(out));
		goto out;
	}
	*schema = sqlite3_column_int(s, 0);
	ret = HX_STORE_OK;
	goto out;

db_failed:
	hx_fail(err, ret, "cannot copy '%s': %s", src, sqlite3_errmsg(db));
out:
	sqlite3_finalize(s);
	sqlite3_close(out);
	sqlite3_close(db);
	return ret;
}

/* An octal tar number field of len bytes (NUL-ended); base-256 beyond. */
static void
tar_num(char *field, size_t len, unsigned long long v)
{
	size_t i;

	if (v < (1ULL << (3 * (len - 1)))) {
		snprintf(field, len, "%0*llo", (int)(len - 1), v);
		return;
	}
	/* GNU's base-256 form, for sizes of 8 GiB and more. */
	memset(field, 0, len);
	for (i = len - 1; i > 0 && v != 0; i--, v >>= 8)
		field[i] = (char)(v & 0xff);
	field[0] = (char)0x80;
}

/* Write all of buf, or -1 with errno. */
static int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t	    n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One ustar header for a regular file. Returns write_all's result. */
static int
tar_header(int fd, const char *name, unsigned long long size, uid_t uid,
    gid_t gid, time_t mtime)
{
	unsigned char h[TAR_BLOCK];
	unsigned      sum = 0;
	size_t	      i;

	memset(h, 0, sizeof h);
	hx_strlcpy((char *)h, name, 100);
	tar_num((char *)h + 100, 8, 0600);
	tar_num((char *)h + 108, 8, uid);
	tar_num((char *)h + 116, 8, gid);
	tar_num((char *)h + 124, 12, size);
	tar_num((char *)h + 136, 12, (unsigned long long)mtime);
	h[156] = '0';
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	for (i = 0; i < sizeof h; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
	return write_all(fd, h, sizeof h);
}

/* Zeros up to the next block boundary after len bytes. */
static int
tar_pad(int fd, unsigned long long len)
{
	static const char zero[TAR_BLOCK];
	size_t		  rest = (size_t)(len % TAR_BLOCK);

	return rest == 0 ? 0 : write_all(fd, zero, TAR_BLOCK - rest);
}

/* Append the file at path to the archive as name. */
static int
tar_add_file(int fd, const char *path, const char *name, uid_t uid, gid_t gid,
    time_t now, const char *archive, char **err)
{
	char		   buf[65536];
	struct stat	   st;
	ssize_t		   n;
	int		   in;
	unsigned long long done = 0;

	if ((in = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    fstat(in, &st) != 0) {
		hx_fail(err, 0, "cannot read '%s': %s", path, strerror(errno));
		if (in >= 0)
			close(in);
		return -1;
	}
	if (tar_header(fd, name, (unsigned long long)st.st_size, uid, gid,
		now) != 0)
		goto write_failed;
	while ((n = read(in, buf, sizeof buf)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			hx_fail(err, 0, "cannot read '%s': %s", path,
			    strerror(errno));
			close(in);
			return -1;
		}
		if (write_all(fd, buf, (size_t)n) != 0)
			goto write_failed;
		done += (unsigned long long)n;
	}
	close(in);
	/* The copy is ours alone: it cannot have changed under us. */
	if (done != (unsigned long long)st.st_size) {
		hx_fail(err, 0, "'%s' changed size while archived", path);
		return -1;
	}
	if (tar_pad(fd, done) != 0) {
		hx_fail(err, 0, "cannot write '%s': %s", archive,
		    strerror(errno));
		return -1;
	}
	return 0;

write_failed:
	hx_fail(err, 0, "cannot write '%s': %s", archive, strerror(errno));
	close(in);
	return -1;
}

int
hx_store_backup(const char *data_dir, const char *path, int force,
    char **manifest, char **err)
{
	/* tmp is kept short enough for every name made in it. */
	char tmp[PATH_MAX / 2], src[PATH_MAX], copy[PATH_MAX];
	char tarpath[PATH_MAX], when[32], *dir = NULL, *text = NULL;
	static const char zero[2 * TAR_BLOCK];
	struct stat	  st;
	json_t		 *man = NULL, *files;
	uid_t		  uid = getuid();
	gid_t		  gid = getgid();
	time_t		  now = time(NULL);
	int		  fd = -1, schema, ret = HX_STORE_ERROR, made = 0;
	size_t		  i;

	if (manifest != NULL)
		*manifest = NULL;
	if (!force && lstat(path, &st) == 0)
		return hx_fail(err, HX_STORE_CONFLICT, "'%s' already exists",
		    path);
	if (strlen(data_dir) >= sizeof tmp)
		return hx_fail(err, HX_STORE_ERROR,
		    "cannot read data directory '%s': path too long", data_dir);
	if (stat(data_dir, &st) != 0)
		return hx_fail(err,
		    errno == ENOENT ? HX_STORE_NOT_FOUND : HX_STORE_ERROR,
		    "cannot read data directory '%s': %s", data_dir,
		    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return hx_fail(err, HX_STORE_NOT_FOUND,
		    "data directory '%s' is not a directory", data_dir);
	snprintf(src, sizeof src, "%s/horcrux.db", data_dir);
	if (stat(src, &st) != 0)
		return hx_fail(err,
		    errno == ENOENT ? HX_STORE_NOT_FOUND : HX_STORE_ERROR,
		    "cannot read '%s': %s", src, strerror(errno));
	if (access(src, R_OK) != 0)
		return hx_fail(err, HX_STORE_ERROR, "cannot read '%s': %s", src,
		    strerror(errno));

	/* Beside the final name: same file system, so the rename is atomic,
	 * and a full disk shows up before anything is named path. */
	dir = dir_of(path);
	if ((size_t)snprintf(tmp, sizeof tmp, "%s/.horcrux-backup.XXXXXX",
		dir) >= sizeof tmp) {
		hx_fail(err, ret, "cannot write '%s': path too long", path);
		goto out;
	}
	if (mkdtemp(tmp) == NULL) {
		hx_fail(err, ret, "cannot write '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	made = 1;

	man = json_pack("{s:s,s:i,s:s,s:s,s:s,s:[]}", "format",
	    "horcrux-backup", "version", 1, "created",
	    hx_rfc3339_ms((int64_t)now * 1000, when, sizeof when) == 0 ? when :
									 "",
	    "horcrux_version", HX_VERSION, "data_dir", data_dir, "files");
	files = json_object_get(man, "files");
	for (i = 0; i < HX_ARRAY_SIZE(backup_files); i++) {
		snprintf(src, sizeof src, "%s/%s", data_dir,
		    backup_files[i].name);
		snprintf(copy, sizeof copy, "%s/%s", tmp, backup_files[i].name);
		if (!backup_files[i].required && lstat(src, &st) != 0 &&
		    errno == ENOENT)
			continue;
		if (copy_db(src, copy, &schema, err) != HX_STORE_OK)
			goto out;
		if (stat(copy, &st) != 0) {
			hx_fail(err, ret, "cannot read '%s': %s", copy,
			    strerror(errno));
			goto out;
		}
		json_array_append_new(files,
		    json_pack("{s:s,s:s,s:i,s:I}", "name", backup_files[i].name,
			"what", backup_files[i].what, "schema", schema, "bytes",
			(json_int_t)st.st_size));
	}
	text = json_dumps(man, JSON_INDENT(2));

	snprintf(tarpath, sizeof tarpath, "%s/archive.tar", tmp);
	fd = open(tarpath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		hx_fail(err, ret, "cannot write '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	/* Owned as the data directory's files are, for a restore as root. */
	snprintf(src, sizeof src, "%s/horcrux.db", data_dir);
	if (stat(src, &st) == 0) {
		uid = st.st_uid;
		gid = st.st_gid;
	}
	if (tar_header(fd, BACKUP_MANIFEST, strlen(text), uid, gid, now) != 0 ||
	    write_all(fd, text, strlen(text)) != 0 ||
	    tar_pad(fd, strlen(text)) != 0) {
		hx_fail(err, ret, "cannot write '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	for (i = 0; i < json_array_size(files); i++) {
		const char *name = json_string_value(
		    json_object_get(json_array_get(files, i), "name"));

		snprintf(copy, sizeof copy, "%s/%s", tmp, name);
		if (tar_add_file(fd, copy, name, uid, gid, now, path, err) != 0)
			goto out;
	}
	if (write_all(fd, zero, sizeof zero) != 0 || fsync(fd) != 0) {
		hx_fail(err, ret, "cannot write '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		hx_fail(err, ret, "cannot write '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	fd = -1;
	if ((force ? rename(tarpath, path) : link(tarpath, path)) != 0) {
		if (!force && errno == EEXIST)
			ret = hx_fail(err, HX_STORE_CONFLICT,
			    "'%s' already exists", path);
		else
			hx_fail(err, ret, "cannot write '%s': %s", path,
			    strerror(errno));
		goto out;
	}
	ret = HX_STORE_OK;
	if (manifest != NULL) {
		*manifest = text;
		text = NULL;
	}

out:
	if (fd >= 0)
		close(fd);
	if (made)
		remove_tmpdir(tmp);
	free(text);
	free(dir);
	json_decref(man);
	return ret;
}
