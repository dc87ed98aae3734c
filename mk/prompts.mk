# Voice prompts: the default prompt files of every language, synthesised at build time (flite + sox
# from Debian, reproducible: same inputs, same bytes) into dist/prompts/<lang>/ with a manifest.
# A site's own recordings live in <dataDir>/prompts/<lang>/ and are uploaded from the console.
.PHONY: prompts

PROMPT_TEXTS := $(wildcard provisioning/prompts/texts.*.json)
PROMPT_MANIFESTS := $(patsubst provisioning/prompts/texts.%.json,dist/prompts/%/manifest.json,$(PROMPT_TEXTS))

prompts: $(PROMPT_MANIFESTS) ## synthesise the default voice prompts (flite, sox) into dist/prompts/<lang>/ with manifest.json

# flite and sox come from the apt list: `apt` (order-only, costs nothing when they are installed)
# runs first, and a language is rebuilt only when its texts or the build script change.
dist/prompts/%/manifest.json: provisioning/prompts/texts.%.json provisioning/prompts/build-prompts.mjs | apt
	node provisioning/prompts/build-prompts.mjs --lang $* --out dist/prompts

build: prompts
