import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: new URL('../../..', import.meta.url).pathname,
    include: ['test/support/guard-fixture/*.fixture.ts'],
    setupFiles: ['test/support/contract-guard.ts'],
    pool: 'forks',
    reporters: ['default'],
  },
});
