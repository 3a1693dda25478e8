/*
 * test-tls-reload.c - horcruxd/server-tls.c without a running lws: the
 * material it loads into an SSL_CTX (as lws hands one over), and
 * server_tls_reload installing a new certificate into that same SSL_CTX.
 * An SSL made before the reload (an open connection) keeps the old
 * certificate; one made after gets the new one; a bad new pair, TLS
 * turned off or a key of another type changes nothing. The daemon's
 * start-up checks and real handshakes are tests/0800-tls.bats's; SIGHUP
 * is the reload work's.
 *
 * The certificates are made here with OpenSSL, in a temporary directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "server.h"
#include "tap.h"

static char dir[] = "/tmp/hx-tls-XXXXXX";

/* A self-signed certificate for cn, valid from..until (seconds from now). */
static X509 *
make_cert(EVP_PKEY *key, const char *cn, long from, long until)
{
	X509	  *x = X509_new();
	X509_NAME *n;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)time(NULL));
	X509_gmtime_adj(X509_getm_notBefore(x), from);
	X509_gmtime_adj(X509_getm_notAfter(x), until);
	X509_set_pubkey(x, key);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509_sign(x, key, EVP_sha256());
	return x;
}

/* Write x (if any) and key (if any) as PEM; return the path (static). */
static const char *
write_pem(const char *name, X509 *x, EVP_PKEY *key)
{
	static char path[8][256];
	static int  next;
	char	   *p = path[next++ % 8];
	FILE	   *f;

	snprintf(p, sizeof path[0], "%s/%s", dir, name);
	f = fopen(p, "w");
	if (x != NULL)
		PEM_write_X509(f, x);
	if (key != NULL)
		PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	return p;
}

/* The CN of the certificate an SSL or SSL_CTX would present. */
static const char *
cn_of(X509 *x)
{
	static char buf[64];

	buf[0] = '\0';
	if (x != NULL)
		X509_NAME_get_text_by_NID(X509_get_subject_name(x),
		    NID_commonName, buf, sizeof buf);
	return buf;
}

int
main(void)
{
	struct options o;
	struct server  srv;
	EVP_PKEY      *ka, *kb, *kec;
	X509	      *ca, *cb, *cold, *cec;
	SSL_CTX	      *ctx;
	SSL	      *before, *after;
	const char    *cert_a, *key_a, *cert_b, *key_b, *cert_old, *cert_ec;
	const char    *key_ec;
	char	      *err = NULL;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	ka = EVP_RSA_gen(2048);
	kb = EVP_RSA_gen(2048);
	kec = EVP_EC_gen("P-256");
	ca = make_cert(ka, "a.example", -60, 86400);
	cb = make_cert(kb, "b.example", -60, 86400);
	cold = make_cert(kb, "old.example", -86400 * 2, -86400);
	cec = make_cert(kec, "ec.example", -60, 86400);
	cert_a = write_pem("a.pem", ca, NULL);
	key_a = write_pem("a.key", NULL, ka);
	cert_b = write_pem("b.pem", cb, NULL);
	key_b = write_pem("b.key", NULL, kb);
	cert_old = write_pem("old.pem", cold, NULL);
	cert_ec = write_pem("ec.pem", cec, NULL);
	key_ec = write_pem("ec.key", NULL, kec);

	/* Start: pair A loaded, then lws's SSL_CTX filled. */
	memset(&o, 0, sizeof o);
	memset(&srv, 0, sizeof srv);
	srv.opts = &o;
	o.tls_cert = "";
	o.tls_key = "";
	is_int(server_tls_load(&srv, &o, &err), 0, "no TLS: nothing to load");
	ok(!server_tls_on(&srv), "and TLS is off");
	o.tls_cert = cert_a;
	o.tls_key = key_a;
	is_int(server_tls_load(&srv, &o, &err), 0, "pair A loads");
	ok(server_tls_on(&srv), "TLS is on");
	ctx = SSL_CTX_new(TLS_server_method());
	is_int(server_tls_ctx_ready(&srv, ctx), 0,
	    "the vhost's SSL_CTX is filled");
	is_int(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION,
	    "TLS 1.2 is the minimum");
	is_str(cn_of(SSL_CTX_get0_certificate(ctx)), "a.example",
	    "the SSL_CTX serves A");
	before = SSL_new(ctx);
	is_str(cn_of(SSL_get_certificate(before)), "a.example",
	    "a connection made now has A");

	/* Rotation to B. */
	o.tls_cert = cert_b;
	o.tls_key = key_b;
	is_int(server_tls_reload(&srv, &o, &err), 0, "reload to pair B");
	is_str(cn_of(SSL_CTX_get0_certificate(ctx)), "b.example",
	    "the same SSL_CTX now serves B");
	after = SSL_new(ctx);
	is_str(cn_of(SSL_get_certificate(after)), "b.example",
	    "a new connection gets B");
	is_str(cn_of(SSL_get_certificate(before)), "a.example",
	    "the open connection keeps A");
	ok(X509_check_private_key(SSL_get_certificate(after),
	       SSL_get_privatekey(after)) == 1,
	    "the new connection's key is B's");
	SSL_free(after);

	/* Refusals: each leaves B in service. */
	o.tls_cert = cert_a;
	o.tls_key = key_b;
	is_int(server_tls_reload(&srv, &o, &err), -1,
	    "a mismatched pair fails");
	ok(err != NULL && strstr(err, "does not belong to the certificate"),
	    "and says why: %s", err ? err : "(none)");
	free(err);
	err = NULL;
	o.tls_cert = cert_old;
	o.tls_key = key_b;
	is_int(server_tls_reload(&srv, &o, &err), -1, "an expired one fails");
	ok(err != NULL && strstr(err, "expired on"), "and says why: %s",
	    err ? err : "(none)");
	free(err);
	err = NULL;
	o.tls_cert = "/nonexistent/cert.pem";
	is_int(server_tls_reload(&srv, &o, &err), -1, "a missing file fails");
	is_str(err,
	    "cannot read TLS certificate '/nonexistent/cert.pem': "
	    "No such file or directory",
	    "and names it");
	free(err);
	err = NULL;
	o.tls_cert = cert_ec;
	o.tls_key = key_ec;
	is_int(server_tls_reload(&srv, &o, &err), -1,
	    "a key of another type fails");
	is_str(err,
	    "the new TLS key is of another type (EC, was RSA): that "
	    "needs a restart",
	    "and says a restart is needed");
	free(err);
	err = NULL;
	o.tls_cert = "";
	o.tls_key = "";
	is_int(server_tls_reload(&srv, &o, &err), -1, "TLS off fails");
	is_str(err, "turning TLS off (tls_cert, tls_key) needs a restart",
	    "and says a restart is needed");
	free(err);
	err = NULL;
	is_str(cn_of(SSL_CTX_get0_certificate(ctx)), "b.example",
	    "after every refusal the SSL_CTX still serves B");
	after = SSL_new(ctx);
	is_str(cn_of(SSL_get_certificate(after)), "b.example",
	    "and a new connection gets B");
	SSL_free(after);

	/* The same pair again is fine (a reload with nothing renewed). */
	o.tls_cert = cert_b;
	o.tls_key = key_b;
	is_int(server_tls_reload(&srv, &o, &err), 0, "B again reloads");

	SSL_free(before);
	SSL_CTX_free(ctx);
	server_tls_free(&srv);
	server_tls_free(&srv); /* NULL-safe */
	X509_free(ca);
	X509_free(cb);
	X509_free(cold);
	X509_free(cec);
	EVP_PKEY_free(ka);
	EVP_PKEY_free(kb);
	EVP_PKEY_free(kec);
	{
		const char *f[] = { "a.pem", "a.key", "b.pem", "b.key",
			"old.pem", "ec.pem", "ec.key" };
		char	    p[256];
		size_t	    i;

		for (i = 0; i < sizeof f / sizeof f[0]; i++) {
			snprintf(p, sizeof p, "%s/%s", dir, f[i]);
			unlink(p);
		}
		rmdir(dir);
	}
	return done_testing();
}
