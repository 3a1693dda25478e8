# Horcrux - build, test, run.
#
#   make            release build (-O2) of every program under build/release
#   make check      ASan+UBSan build, every test suite, one "N passed, N failed" line
#   make run        build, start horcruxd on the demo defaults (data under ./run)
#   make install    PREFIX=/usr/local SYSCONFDIR=/etc DESTDIR= (make uninstall)
#   make deb        the Debian package, into build/deb (scripts/build-deb)
#   make dist-check make install into a scratch DESTDIR and check it
#   make bench      benchmarks (bench/README.md); make fuzz: the parser fuzzers
#   make format     rewrite the C sources in the written style (.clang-format)
#   make clean
#   V=1 shows full compiler command lines
#
# Every public target first runs scripts/install-deps, which installs any
# missing Debian package and is a no-op otherwise; then it re-enters make
# with HX_DEPS=ok so pkg-config is only asked once the packages are there.

MODE	?= release
B	:= build/$(MODE)
PREFIX	?= /usr/local
DESTDIR	?=
# /etc whatever the PREFIX: horcruxd reads /etc/horcrux/horcrux.conf when
# not given --config. systemd reads units, sysusers.d and tmpfiles.d under
# /usr/local/lib as well as /usr/lib; Debian 12's debhelper wants units in
# /lib/systemd/system (debian/rules says so).
SYSCONFDIR ?= /etc
UNITDIR	?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
CC	?= cc

PKGS	:= libwebsockets jansson libargon2 libjwt libcrypto libssl sqlite3 libvirt libxml-2.0 libcurl msgpack ldap
# The clients link only what they use: a console that starts fast loads
# no libvirt, SQLite or Argon2.
CLIENT_PKGS := jansson libssl libcrypto msgpack
TOP_PKGS := ncursesw
# horcrux-cli reads SQLite for `admin backup` (a local, offline-capable copy).
CLI_PKGS := readline sqlite3

WARN	:= -Wall -Wextra -Wformat=2 -Wshadow -Wmissing-prototypes \
	   -Wstrict-prototypes -Wno-unused-parameter -Werror
BASE	:= -std=c11 -D_GNU_SOURCE -g -Ilib -MMD -MP
ifeq ($(MODE),asan)
# -Wformat-overflow misfires under -fsanitize (gcc 12 sees the sanitizer's
# own null checks as null arguments); release builds keep the warning.
OPT	:= -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	   -fno-sanitize-recover=undefined -Wno-format-overflow
# ASan's crypt() interceptor looks up the real crypt when the program
# starts; PAM's pam_unix.so brings libcrypt only later, by dlopen, and the
# interceptor then calls NULL. Loading libcrypt from the start avoids it.
SAN_LIBS := -Wl,--no-as-needed -lcrypt -Wl,--as-needed
else
OPT	:= -O2
endif

LIB_SRC		:= $(wildcard lib/*.c)
HXD_SRC		:= $(wildcard horcruxd/*.c)
TOP_SRC		:= $(wildcard horcrux-top/*.c)
CLI_SRC		:= $(wildcard horcrux-cli/*.c)
UNIT_SRC	:= $(wildcard tests/unit/test-*.c)
TOOL_SRC	:= $(wildcard tests/tools/*.c)
BENCH_SRC	:= $(wildcard bench/*.c)

O		:= $(B)/obj
LIB_OBJ		:= $(LIB_SRC:%.c=$(O)/%.o)
HXD_OBJ		:= $(HXD_SRC:%.c=$(O)/%.o)
TOP_OBJ		:= $(TOP_SRC:%.c=$(O)/%.o)
CLI_OBJ		:= $(CLI_SRC:%.c=$(O)/%.o)
LIBHX		:= $(B)/libhorcrux.a
PROGS		:= $(B)/horcruxd $(if $(TOP_SRC),$(B)/horcrux-top) $(if $(CLI_SRC),$(B)/horcrux-cli)
UNITS		:= $(UNIT_SRC:%.c=$(B)/%)
TOOLS		:= $(TOOL_SRC:%.c=$(B)/%)
BENCHES		:= $(BENCH_SRC:%.c=$(B)/%)
WEB_VENDOR	:= share/web/vendor/uPlot.js share/web/vendor/uPlot.min.css
# A gzip -9 copy beside each text file of the page, which horcruxd sends to
# clients that accept gzip (horcruxd/http-static.c); git-ignored.
WEB_TEXT	:= $(sort $(WEB_VENDOR) $(shell find share/web -type f \( \
		   -name '*.js' -o -name '*.css' -o -name '*.html' \) 2>/dev/null))
WEB_GZ		:= $(WEB_TEXT:%=%.gz)

.PHONY: all check run install uninstall deb dist-check bench fuzz format clean \
	build build-tests build-fuzz do-install do-uninstall
.SECONDARY:

ifneq ($(HX_DEPS),ok)
# --- public entry points: install what is missing, then re-enter ----------
all:
	@scripts/install-deps
	@$(MAKE) --no-print-directory HX_DEPS=ok MODE=$(MODE) build

check:
	@scripts/install-deps
	@$(MAKE) --no-print-directory HX_DEPS=ok MODE=asan build build-tests
	@tests/run build/asan

run:
	@scripts/install-deps
	@$(MAKE) --no-print-directory HX_DEPS=ok MODE=$(MODE) build build-tests
	@scripts/run-demo $(B)

install:
	@scripts/install-deps
	@$(MAKE) --no-print-directory HX_DEPS=ok MODE=release build
	@$(MAKE) --no-print-directory HX_DEPS=ok MODE=release do-install

uninstall:
	@$(MAKE) --no-print-directory HX_DEPS=ok MODE=release do-uninstall

# Out of tree (a copy in a temporary directory): debian/'s build droppings
# never reach the checkout.
deb:
	@scripts/install-deps --dist
	@scripts/build-deb build/deb

# tests/0820 (make install) is in make check too; tests/dist/0825 (the
# package: a release build and lintian, ~2.5 min) does not fit its time.
dist-check:
	@scripts/install-deps --dist
	@$(MAKE) --no-print-directory HX_DEPS=ok MODE=release build build-tests
	@HX_TESTS="0820 0825" tests/run build/release

bench:
	@scripts/install-deps --bench
	@$(MAKE) --no-print-directory HX_DEPS=ok MODE=release build build-tests
	@bench/run build/release

fuzz:
	@scripts/install-deps
	@$(MAKE) --no-print-directory HX_DEPS=ok MODE=fuzz CC=clang build-fuzz
	@tests/fuzz/run build/fuzz

clean:
	rm -rf build

else
# --- the real build ---------------------------------------------------------
PKG_CFLAGS	:= $(shell pkg-config --cflags $(PKGS) $(TOP_PKGS) $(CLI_PKGS))
PKG_LIBS	:= $(shell pkg-config --libs $(PKGS)) -lpam -lpthread -lm $(SAN_LIBS)
CLIENT_LIBS	:= $(shell pkg-config --libs $(CLIENT_PKGS)) -lm $(SAN_LIBS)
CFLAGS		:= $(BASE) $(OPT) $(WARN) $(PKG_CFLAGS) \
		   -DHX_DATADIR='"$(PREFIX)/share/horcrux"' $(EXTRA_CFLAGS)
LDFLAGS		:= $(OPT) $(EXTRA_LDFLAGS)

build: $(PROGS) $(WEB_VENDOR) $(WEB_GZ)
build-tests: $(UNITS) $(TOOLS) $(BENCHES)

ifeq ($(V),1)
Q :=
else
Q := @
endif

$(O)/%.o: %.c
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(LIBHX): $(LIB_OBJ)
	@mkdir -p $(@D)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

$(B)/horcruxd: $(HXD_OBJ) $(LIBHX)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/horcrux-top: $(TOP_OBJ) $(LIBHX)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CLIENT_LIBS) $(shell pkg-config --libs $(TOP_PKGS))

$(B)/horcrux-cli: $(CLI_OBJ) $(LIBHX)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(CLIENT_LIBS) $(shell pkg-config --libs $(CLI_PKGS))

# A unit test of a daemon module links the horcruxd/ objects it drives
# that need no running lws context, named here, before libhorcrux.a.
$(B)/tests/unit/test-snapshot: $(addprefix $(O)/horcruxd/,snapshot.o frame.o mailbox.o)
$(O)/tests/unit/test-snapshot.o: CFLAGS += -Ihorcruxd
$(B)/tests/unit/test-prom: $(O)/horcruxd/prom.o
$(O)/tests/unit/test-prom.o: CFLAGS += -Ihorcruxd
$(B)/tests/unit/test-spark: $(addprefix $(O)/horcrux-top/,spark.o model.o)
$(O)/tests/unit/test-spark.o: CFLAGS += -Ihorcrux-top
$(B)/tests/unit/test-notify-post: $(addprefix $(O)/horcruxd/,notify.o \
    mailbox.o worker.o frame.o)
$(O)/tests/unit/test-notify-post.o: CFLAGS += -Ihorcruxd
$(B)/tests/unit/test-jobq: $(O)/horcruxd/jobq.o
$(O)/tests/unit/test-jobq.o: CFLAGS += -Ihorcruxd
$(B)/tests/unit/test-replay: $(addprefix $(O)/horcruxd/,replay.o frame.o \
    ws-parse.o)
$(O)/tests/unit/test-replay.o: CFLAGS += -Ihorcruxd
$(B)/tests/unit/test-admit: $(O)/horcruxd/admit.o
$(O)/tests/unit/test-admit.o: CFLAGS += -Ihorcruxd
$(B)/tests/unit/test-tls-reload: $(O)/horcruxd/server-tls.o
$(O)/tests/unit/test-tls-reload.o: CFLAGS += -Ihorcruxd

$(B)/tests/unit/%: $(O)/tests/unit/%.o $(LIBHX)
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter-out $(LIBHX),$^) $(LIBHX) $(PKG_LIBS)

$(B)/tests/tools/%: $(O)/tests/tools/%.o $(LIBHX)
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# hx-test-tool drives pure modules of the programs: it links their
# objects (those that need no running lws context or curses) beside
# libhorcrux, and sees their private headers.
TESTTOOL_OBJ	:= $(O)/horcruxd/http-parse.o $(O)/horcruxd/access.o \
		   $(O)/horcruxd/outq.o $(O)/horcruxd/frame.o \
		   $(O)/horcruxd/ldap-realm.o \
		   $(O)/horcrux-top/model.o $(O)/horcrux-top/spark.o
$(O)/tests/tools/hx-test-tool.o: CFLAGS += -Ihorcruxd -Ihorcrux-top
$(B)/tests/tools/hx-test-tool: $(O)/tests/tools/hx-test-tool.o \
    $(TESTTOOL_OBJ) $(LIBHX)
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# bench/wire's codec timings deflate as permessage-deflate does.
$(B)/bench/wire-bench: PKG_LIBS += -lz

$(B)/bench/%: $(O)/bench/%.o $(LIBHX)
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

FUZZ_SRC	:= $(wildcard tests/fuzz/fuzz-*.c)
FUZZERS		:= $(FUZZ_SRC:tests/fuzz/%.c=$(B)/%)

build-fuzz: $(FUZZERS)

# libFuzzer links its own main: build each target straight from the
# sources, with the fuzzer and sanitizers, and no libhorcrux.a. The
# daemon's targets add the lws-free parts of horcruxd/ they drive.
$(B)/fuzz-http: horcruxd/http-parse.c
$(B)/fuzz-ws: horcruxd/ws-parse.c
$(B)/fuzz-%: tests/fuzz/fuzz-%.c $(LIB_SRC)
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  FUZZ    $@"
	$(Q)$(CC) $(BASE) -Ihorcruxd -O1 -fsanitize=fuzzer,address,undefined \
		$(PKG_CFLAGS) -o $@ $(filter %.c,$^) $(PKG_LIBS)

# uPlot for the page's charts, from node_modules (npm ci of package-lock.json,
# run by scripts/install-deps) into the git-ignored share/web/vendor/. The
# minified IIFE becomes an ES module by exporting its one global.
share/web/vendor/uPlot.js: node_modules/uplot/dist/uPlot.iife.min.js
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  VENDOR  $@"
	$(Q){ cat $<; printf '\nexport default uPlot;\n'; } >$@.tmp && mv $@.tmp $@
share/web/vendor/uPlot.min.css: node_modules/uplot/dist/uPlot.min.css
	@mkdir -p $(@D)
	$(Q)cp $< $@

# -n: no name or time inside, so the same file always gives the same bytes.
share/web/%.gz: share/web/%
	@[ "$(V)" = 1 ] || echo "  GZIP    $@"
	$(Q)gzip -9 -n -c $< >$@.tmp && mv $@.tmp $@

# options.c compiles $(PREFIX)/share/horcrux in as web_root's default:
# when PREFIX changes, so must options.o (make tracks no variables).
PREFIX_STAMP	:= $(B)/prefix.stamp
$(shell mkdir -p $(B) && { [ "$$(cat $(PREFIX_STAMP) 2>/dev/null)" = \
	'$(PREFIX)' ] || printf '%s\n' '$(PREFIX)' >$(PREFIX_STAMP); })
$(O)/horcruxd/options.o: $(PREFIX_STAMP)

D		:= $(DESTDIR)$(PREFIX)
CONF		:= $(DESTDIR)$(SYSCONFDIR)/horcrux/horcrux.conf
# The files of dist/ with the install's own paths in them.
DIST_SED	:= sed -e 's|@SBINDIR@|$(PREFIX)/sbin|g' \
		   -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		   -e 's|@DATADIR@|$(PREFIX)/share/horcrux|g'
PROGS_BIN	:= horcrux-top horcrux-cli
MAN1		:= horcrux-top.1 horcrux-cli.1
COMPLETED	:= horcruxd horcrux-top horcrux-cli

do-install:
	install -d $(D)/sbin $(D)/bin $(D)/share/horcrux/web \
		$(D)/share/man/man1 $(D)/share/man/man5 $(D)/share/man/man8 \
		$(D)/share/bash-completion/completions \
		$(D)/share/zsh/vendor-completions \
		$(D)/share/fish/vendor_completions.d \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
		$(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(SYSCONFDIR)/horcrux
	install -m 755 $(B)/horcruxd $(D)/sbin/horcruxd
	install -m 755 $(addprefix $(B)/,$(PROGS_BIN)) $(D)/bin/
	install -m 644 $(addprefix man/,$(MAN1)) $(D)/share/man/man1/
	install -m 644 man/horcrux.conf.5 $(D)/share/man/man5/
	install -m 644 man/horcruxd.8 $(D)/share/man/man8/
	# Times kept: horcruxd sends FILE.gz only when it is as new as FILE.
	cp -R --preserve=timestamps share/web/. $(D)/share/horcrux/web/
	for p in $(COMPLETED); do \
		install -m 644 completions/$$p.bash \
			$(D)/share/bash-completion/completions/$$p && \
		install -m 644 completions/_$$p $(D)/share/zsh/vendor-completions/ && \
		install -m 644 completions/$$p.fish \
			$(D)/share/fish/vendor_completions.d/ || exit 1; \
	done
	$(DIST_SED) dist/horcruxd.service.in >$(DESTDIR)$(UNITDIR)/horcruxd.service
	chmod 644 $(DESTDIR)$(UNITDIR)/horcruxd.service
	install -m 644 dist/horcrux.sysusers $(DESTDIR)$(SYSUSERSDIR)/horcrux.conf
	install -m 644 dist/horcrux.tmpfiles $(DESTDIR)$(TMPFILESDIR)/horcrux.conf
	# An existing horcrux.conf is the operator's: never overwritten.
	$(DIST_SED) dist/horcrux.conf.in >$(B)/horcrux.conf.sample
	if [ -e $(CONF) ]; then \
		echo "keeping $(CONF); the new sample is $(CONF).new"; \
		install -m 644 $(B)/horcrux.conf.sample $(CONF).new; \
	else \
		install -m 644 $(B)/horcrux.conf.sample $(CONF); \
	fi

# Removes what do-install put, and horcrux.conf only while it is still the
# sample (an edited one is the operator's; it stays, and is named).
do-uninstall:
	rm -f $(D)/sbin/horcruxd $(addprefix $(D)/bin/,$(PROGS_BIN)) \
		$(addprefix $(D)/share/man/man1/,$(MAN1)) \
		$(D)/share/man/man5/horcrux.conf.5 $(D)/share/man/man8/horcruxd.8 \
		$(addprefix $(D)/share/bash-completion/completions/,$(COMPLETED)) \
		$(addprefix $(D)/share/zsh/vendor-completions/_,$(COMPLETED)) \
		$(patsubst %,$(D)/share/fish/vendor_completions.d/%.fish,$(COMPLETED)) \
		$(DESTDIR)$(UNITDIR)/horcruxd.service \
		$(DESTDIR)$(SYSUSERSDIR)/horcrux.conf \
		$(DESTDIR)$(TMPFILESDIR)/horcrux.conf $(CONF).new
	rm -rf $(D)/share/horcrux
	$(DIST_SED) dist/horcrux.conf.in | cmp -s - $(CONF) && rm -f $(CONF); \
	if [ -e $(CONF) ]; then echo "kept $(CONF): it was edited"; \
	else rmdir $(DESTDIR)$(SYSCONFDIR)/horcrux 2>/dev/null || true; fi

-include $(shell find $(B) -name '*.d' 2>/dev/null)
endif

# Not a build step: clang-format is no build dependency.
format:
	@scripts/format
