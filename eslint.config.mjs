// ESLint checks what the TypeScript compiler and Biome (the formatter) do not: promises nobody awaits or
// handles, promises passed where a plain value is expected, and the usual slips. Type-aware rules read the
// project's tsconfig, so a promise from discord.js or node:fs is seen as reliably as one of our own.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test/fixtures/**', '.build-*/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's describe() and it() return promises the runner itself awaits.
        {
          allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite', 'before', 'after'] }],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Text cleaning (ftfy, tokenizer files, log scrubbing) matches control characters on purpose.
      'no-control-regex': 'off',
    },
  },
  {
    // Published constants (Cephes, Gauss–Legendre nodes) keep the digits of their source; each literal still
    // rounds to the one double the reference implementation uses.
    files: ['src/random/avx-mathfun.ts', 'src/schedulers/quadrature.ts'],
    rules: { 'no-loss-of-precision': 'off' },
  },
  {
    // Test helpers hand raw protocol payloads and JSON fixtures to assertions that check their shape.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
