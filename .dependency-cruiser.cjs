/**
 * The layout's rules (make lint): the runtime stands alone, folders never import each other in a
 * circle, and nothing that ships imports a test helper. See docs/architecture.md.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-folder-cycles',
      comment: 'Two folders that import each other cannot be understood or changed one at a time.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^(appliance|cli|tools|collector|models)/' },
      to: { circular: true },
    },
    {
      name: 'no-module-cycles',
      comment: 'A module cycle makes start-up order and mocking fragile.',
      severity: 'error',
      from: { path: '^(appliance|cli|tools|collector|models)/' },
      to: { circular: true },
    },
    {
      name: 'runtime-stands-alone',
      comment: 'appliance/ is what runs on the box: it never imports the CLI, the tools, the web pages or the collector.',
      severity: 'error',
      from: { path: '^appliance/' },
      to: { path: '^(cli|tools|web|collector)/' },
    },
    {
      name: 'no-test-helpers-in-shipped-code',
      comment: 'Code that ships (runtime, CLI, tools, collector, web pages) never imports test code.',
      severity: 'error',
      from: { path: '^(appliance|cli|tools|collector|models|web)/' },
      to: { path: '^test/' },
    },
    {
      name: 'web-pages-are-browser-code',
      comment: 'The web pages run in a browser: they may share protocol code with the runtime, never its Node side.',
      severity: 'error',
      from: { path: '^web/' },
      to: { path: '^(cli|tools|collector)/' },
    },
    {
      name: 'no-unresolvable',
      comment: 'An import that resolves to nothing is a typo or a missing dependency.',
      severity: 'error',
      from: {},
      // edgevox:catalogues is the pages' message catalogues, made at build time by web/i18n/esbuildCatalogues.mjs
      to: { couldNotResolve: true, pathNot: '^edgevox:catalogues$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules|native)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.tsx', '.js', '.mjs'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
