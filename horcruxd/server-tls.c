/*
 * server-tls.c - the TCP listener's TLS (DESIGN §12): the certificate and
 * key of tls_cert/tls_key, checked with OpenSSL before lws ever sees them,
 * installed into each TLS vhost's SSL_CTX, and installed again on a
 * reload without closing a connection.
 *
 * lws creates each TCP vhost's SSL_CTX (LWS_SERVER_OPTION_CREATE_VHOST_SSL_
 * CTX, no file paths) and hands it to us once, in LOAD_EXTRA_SERVER_VERIFY_
 * CERTS: we keep the pointer, set TLS 1.2 as the minimum and install the
 * material loaded here. A reload installs new material into the same
 * SSL_CTX: every SSL made from it afterwards (each new connection) takes
 * the new certificate, while one already made keeps its own copy, so a
 * live session is never touched. The files are read once per load, into
 * memory: what was checked is exactly what is served.
 *
 * What it does not do: SNI, client certificates, OCSP, or watch the files
 * (a reload is asked for: SIGHUP).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "hx-log.h"
#include "server.h"

/* A PEM file larger than this is not a certificate chain or a key. */
#define TLS_FILE_MAX (1024 * 1024)

struct server_tls {
	X509 *cert; /* the leaf */
	STACK_OF(X509) * chain; /* what followed it in tls_cert */
	EVP_PKEY *key;
	SSL_CTX **ctxs; /* each TLS vhost's (lws owns them) */
	size_t	  nctxs;
};

static void
material_release(struct server_tls *t)
{
	X509_free(t->cert);
	t->cert = NULL;
	sk_X509_pop_free(t->chain, X509_free);
	t->chain = NULL;
	EVP_PKEY_free(t->key);
	t->key = NULL;
}

/* Never ask for a passphrase (there is no one to answer): fail instead. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/*
 * The whole of a regular file path into a memory BIO. NULL with *err
 * ("cannot read TLS certificate '/x': No such file or directory").
 */
static BIO *
read_file(const char *what, const char *path, char **err)
{
	struct stat st;
	BIO	   *bio;
	char	   *buf;
	ssize_t	    n;
	size_t	    got = 0;
	int	    fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		*err = xasprintf("cannot read %s '%s': %s", what, path,
		    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0) {
		*err = xasprintf("cannot read %s '%s': %s", what, path,
		    strerror(errno));
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > TLS_FILE_MAX) {
		*err = xasprintf("cannot read %s '%s': %s", what, path,
		    S_ISDIR(st.st_mode)	     ? strerror(EISDIR) :
			!S_ISREG(st.st_mode) ? "not a regular file" :
					       "larger than 1 MiB");
		close(fd);
		return NULL;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*err = xasprintf("cannot read %s '%s': %s", what, path,
			    n < 0 ? strerror(errno) : "it shrank while read");
			close(fd);
			free(buf);
			return NULL;
		}
		got += (size_t)n;
	}
	close(fd);
	bio = BIO_new(BIO_s_mem());
	if (bio == NULL || BIO_write(bio, buf, (int)got) != (int)got) {
		BIO_free(bio);
		explicit_bzero(buf, got);
		free(buf);
		*err = xasprintf("cannot read %s '%s': out of memory", what,
		    path);
		return NULL;
	}
	explicit_bzero(buf, got); /* it may be the private key */
	free(buf);
	return bio;
}

/* An ASN1_TIME as OpenSSL prints it ("Jan  2 00:00:00 2020 GMT"). */
static void
time_text(const ASN1_TIME *t, char *out, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	int  n = 0;

	out[0] = '\0';
	if (b == NULL)
		return;
	if (ASN1_TIME_print(b, t) == 1)
		n = BIO_read(b, out, (int)len - 1);
	out[n > 0 ? n : 0] = '\0';
	BIO_free(b);
}

/*
 * Load and check the pair: a PEM certificate (then its chain) and a PEM
 * private key that belongs to it, valid now. 0 with *t filled, or -1 with
 * *err naming the file (caller frees) and *t untouched.
 */
static int
material_load(const char *cert_path, const char *key_path, struct server_tls *t,
    char **err)
{
	struct server_tls m;
	BIO		 *bio;
	X509		 *x;
	char		  when[64];

	memset(&m, 0, sizeof m);
	ERR_clear_error();
	if ((bio = read_file("TLS certificate", cert_path, err)) == NULL)
		return -1;
	m.cert = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);
	if (m.cert == NULL) {
		BIO_free(bio);
		*err = xasprintf("TLS certificate '%s' holds no PEM "
				 "certificate",
		    cert_path);
		goto fail;
	}
	m.chain = sk_X509_new_null();
	while (
	    (x = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL)) != NULL) {
		if (sk_X509_push(m.chain, x) <= 0) {
			X509_free(x);
			BIO_free(bio);
			*err = xasprintf("cannot read TLS certificate '%s': "
					 "out of memory",
			    cert_path);
			goto fail;
		}
	}
	BIO_free(bio);
	ERR_clear_error(); /* the read past the last one */
	if (X509_cmp_current_time(X509_get0_notAfter(m.cert)) <= 0) {
		time_text(X509_get0_notAfter(m.cert), when, sizeof when);
		*err = xasprintf("TLS certificate '%s' expired on %s",
		    cert_path, when);
		goto fail;
	}
	if (X509_cmp_current_time(X509_get0_notBefore(m.cert)) > 0) {
		time_text(X509_get0_notBefore(m.cert), when, sizeof when);
		*err = xasprintf("TLS certificate '%s' is not valid before %s",
		    cert_path, when);
		goto fail;
	}
	if ((bio = read_file("TLS key", key_path, err)) == NULL)
		goto fail;
	m.key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	ERR_clear_error();
	if (m.key == NULL) {
		*err = xasprintf("TLS key '%s' holds no PEM private key (or "
				 "one protected by a passphrase)",
		    key_path);
		goto fail;
	}
	if (X509_check_private_key(m.cert, m.key) != 1) {
		ERR_clear_error();
		*err = xasprintf("TLS key '%s' does not belong to the "
				 "certificate in '%s'",
		    key_path, cert_path);
		goto fail;
	}
	*t = m;
	return 0;
fail:
	material_release(&m);
	ERR_clear_error();
	return -1;
}

/*
 * An SSL_CTX holds one certificate per key type: a new RSA pair replaces
 * the old RSA one, but an EC pair would sit beside it and a client could
 * still be served the old one. -1 with *err when key would do that.
 */
static int
same_key_type(SSL_CTX *ctx, EVP_PKEY *key, char **err)
{
	EVP_PKEY *cur = SSL_CTX_get0_privatekey(ctx);

	if (cur == NULL ||
	    EVP_PKEY_get_base_id(cur) == EVP_PKEY_get_base_id(key))
		return 0;
	*err = xasprintf("the new TLS key is of another type (%s, was %s): "
			 "that needs a restart",
	    EVP_PKEY_get0_type_name(key), EVP_PKEY_get0_type_name(cur));
	return -1;
}

/* Install t's material into ctx. 0, or -1 with *err. */
static int
material_install(const struct server_tls *t, SSL_CTX *ctx, char **err)
{
	unsigned long e;
	char	      buf[256];

	if (same_key_type(ctx, t->key, err) != 0)
		return -1;
	ERR_clear_error();
	if (SSL_CTX_use_cert_and_key(ctx, t->cert, t->key, t->chain, 1) != 1) {
		e = ERR_get_error();
		ERR_error_string_n(e, buf, sizeof buf);
		ERR_clear_error();
		*err = xasprintf("cannot use the TLS certificate: %s", buf);
		return -1;
	}
	return 0;
}

/* "CN=host, not after Jan  2 00:00:00 2030 GMT" for the log. */
static void
log_material(const char *verb, const struct options *o,
    const struct server_tls *t)
{
	char subject[256], until[64];

	X509_NAME_oneline(X509_get_subject_name(t->cert), subject,
	    sizeof subject);
	time_text(X509_get0_notAfter(t->cert), until, sizeof until);
	log_info("TLS: %s '%s' (%s, %d more in the chain, valid until %s)",
	    verb, o->tls_cert, subject, sk_X509_num(t->chain), until);
}

int
server_tls_load(struct server *srv, const struct options *o, char **err)
{
	struct server_tls m;

	if (o->tls_cert[0] == '\0')
		return 0;
	if (material_load(o->tls_cert, o->tls_key, &m, err) != 0)
		return -1;
	if (srv->tls != NULL)
		material_release(srv->tls);
	else
		srv->tls = xcalloc(1, sizeof *srv->tls);
	srv->tls->cert = m.cert;
	srv->tls->chain = m.chain;
	srv->tls->key = m.key;
	return 0;
}

int
server_tls_ctx_ready(struct server *srv, void *ssl_ctx)
{
	SSL_CTX *ctx = ssl_ctx;
	char	*err = NULL;

	if (srv->tls == NULL || srv->tls->cert == NULL) {
		log_error("TLS: a TLS listener without a certificate");
		return -1;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    material_install(srv->tls, ctx, &err) != 0) {
		log_error("TLS: %s", err ? err : "cannot require TLS 1.2");
		free(err);
		return -1;
	}
	srv->tls->ctxs = xrealloc(srv->tls->ctxs,
	    (srv->tls->nctxs + 1) * sizeof *srv->tls->ctxs);
	srv->tls->ctxs[srv->tls->nctxs++] = ctx;
	if (srv->tls->nctxs == 1)
		log_material("serving", srv->opts, srv->tls);
	return 0;
}

int
server_tls_reload(struct server *srv, const struct options *o, char **err)
{
	struct server_tls m;
	size_t		  i;

	if ((o->tls_cert[0] != '\0') != (srv->tls != NULL)) {
		*err = xasprintf("turning TLS %s (tls_cert, tls_key) needs a "
				 "restart",
		    srv->tls != NULL ? "off" : "on");
		return -1;
	}
	if (srv->tls == NULL)
		return 0;
	if (material_load(o->tls_cert, o->tls_key, &m, err) != 0)
		return -1;
	m.ctxs = srv->tls->ctxs;
	m.nctxs = srv->tls->nctxs;
	/* Check every context first, so a refusal changes none of them. */
	for (i = 0; i < m.nctxs; i++) {
		if (same_key_type(m.ctxs[i], m.key, err) != 0) {
			material_release(&m);
			return -1;
		}
	}
	for (i = 0; i < m.nctxs; i++) {
		if (material_install(&m, m.ctxs[i], err) != 0) {
			material_release(&m);
			return -1;
		}
	}
	material_release(srv->tls);
	srv->tls->cert = m.cert;
	srv->tls->chain = m.chain;
	srv->tls->key = m.key;
	log_material("now serving", o, srv->tls);
	return 0;
}

int
server_tls_on(const struct server *srv)
{
	return srv->tls != NULL;
}

void
server_tls_free(struct server *srv)
{
	if (srv->tls == NULL)
		return;
	material_release(srv->tls);
	free(srv->tls->ctxs);
	free(srv->tls);
	srv->tls = NULL;
}
