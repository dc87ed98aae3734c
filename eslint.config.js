// ESLint flat config: typescript-eslint with type-checked rules over the TypeScript sources.
import js from '@eslint/js';
import globals from 'globals';
import i18next from 'eslint-plugin-i18next';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', 'node_modules/**', 'var/**', '.cache/**', 'test-output/**', 'test/bench-results/**', 'native/**/build/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-floating-promises': 'error',
      // fastify handlers are async by convention even when they do not await.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // The runtime draws from node:crypto (appliance/randomness.ts): Math.random's state can be
    // recovered from a few outputs, and ids, tokens, sequence numbers and privacy noise must not be predictable.
    files: ['appliance/**/*.ts', 'collector/**/*.ts', 'cli/**/*.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'use appliance/randomness.ts (node:crypto) in the runtime' },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests poke at JSON responses; strictness there costs more than it catches.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  { files: ['**/*.js', '**/*.mjs', '**/*.cjs'], ...tseslint.configs.disableTypeChecked },
  { files: ['**/*.js', '**/*.mjs', '**/*.cjs'], languageOptions: { globals: { ...globals.node } } },
  {
    files: ['web/**', 'tools/webrtc/client/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // Every string a page shows comes from the message catalogues (web/i18n): literal text in JSX,
    // and literal labels, titles, placeholders and alt texts, are errors. Single lowercase tokens
    // (CSS classes, kinds, test ids) and paths are not text.
    files: ['web/**/*.tsx'],
    plugins: { i18next },
    rules: {
      'i18next/no-literal-string': [
        'error',
        {
          mode: 'jsx-only',
          'jsx-attributes': { include: ['label', 'title', 'placeholder', 'aria-label', 'alt', 'hint', 'value'] },
          words: { exclude: ['^[0-9!-/:-@[-`{-~\\s·•—–…×%]+$', '^[a-z][\\w.-]*$', '^[/#?]', '^[A-Z_-]+$', '^EdgeVox$'] },
        },
      ],
    },
  },
);
