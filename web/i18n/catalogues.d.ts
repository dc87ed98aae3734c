// The message catalogues, gathered at build time by esbuildCatalogues.mjs from web/i18n/<language>/<namespace>.json.
declare module 'edgevox:catalogues' {
  const catalogues: Record<string, Record<string, Record<string, unknown>>>;
  export default catalogues;
}
