// typescript-eslint's recommended rules over batt's TypeScript sources (dist/ and generated files aside).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.bench/**', 'packages/batt/bin/**', 'packages/core/drizzle/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // Tests read JSON that batt printed; `any` is what JSON.parse gives.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      // `cond ? a() : b()`, `x && y()` and out`…` (output.ts) as statements are this codebase's style.
      '@typescript-eslint/no-unused-expressions': ['error', { allowShortCircuit: true, allowTernary: true, allowTaggedTemplates: true }],
    },
  },
  // Tests look for the control characters batt must never print.
  { files: ['test/**/*.ts', '**/*.test.ts'], rules: { 'no-control-regex': 'off' } },
);
