# Web console: Preact + esbuild front end built offline into dist/console, served at /.
.PHONY: console-build console-typecheck test-console

CONSOLE_SOURCES := $(shell find web/console -type f -not -path '*/node_modules/*' 2>/dev/null)
CONSOLE_STAMP := dist/console/index.html

console-build: $(CONSOLE_STAMP) ## build the web console front end into dist/console
$(CONSOLE_STAMP): $(NPM_STAMP) $(CONSOLE_SOURCES)
	node web/console/build.mjs

console-typecheck: deps ## typecheck the console front end (DOM + JSX, its own tsconfig)
	npx tsc -p web/console/tsconfig.json

test-console: setup ## console API tests and the Playwright browser tests (headless Chromium)
	npx vitest run test/unit/console test/integration/auth test/e2e/console

setup: console-build
