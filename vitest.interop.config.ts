import { defineConfig } from 'vitest/config';

/** `make interop-sip`: SIP interop matrices against third-party phones (minutes; not part of `make test`). */
export default defineConfig({
  test: {
    include: ['test/interop/**/*.interop.ts'],
    testTimeout: 600_000,
    hookTimeout: 60_000,
    maxWorkers: 1,
    reporters: ['default'],
  },
});
