# isac: two commands. `make run` installs what is missing, builds, creates the
# demo data dir and serves; `make test` installs, builds under ASan+UBSan and
# runs every test, ending with one line "N passed, N failed".

BUILD      ?= build
TESTBUILD  ?= build-test
DEMO       ?= var/demo
LISTEN     ?= 127.0.0.1:8080
NINJA      ?= ninja

.PHONY: all deps run test unit e2e browser bench clean

all: deps $(BUILD)/build.ninja
	@$(NINJA) -C $(BUILD) >$(BUILD)/ninja.log 2>&1 || { cat $(BUILD)/ninja.log; exit 1; }

deps:
	@scripts/install-deps

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=release -Dwerror=true >/dev/null

$(TESTBUILD)/build.ninja:
	meson setup $(TESTBUILD) --buildtype=debug -Db_sanitize=address,undefined \
		-Db_lundef=false -Dwerror=true >/dev/null

run: all
	@test -f $(DEMO)/isac.db || $(BUILD)/isac init --data $(DEMO) --demo
	@echo; echo "isac demo: open http://$(LISTEN)/ in a browser"; cat $(DEMO)/demo-logins.txt; echo
	exec $(BUILD)/isac serve --data $(DEMO) --listen $(LISTEN)

test: 
	@scripts/install-deps --test
	@$(MAKE) --no-print-directory $(TESTBUILD)/build.ninja
	@$(NINJA) -C $(TESTBUILD) >$(TESTBUILD)/ninja.log 2>&1 || { cat $(TESTBUILD)/ninja.log; exit 1; }
	@tests/run.sh $(TESTBUILD)

bench: all
	@bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(TESTBUILD) tests/out
