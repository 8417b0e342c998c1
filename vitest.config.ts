import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Network-namespace tests share kernel state; files run in parallel but each file is serial.
    fileParallelism: true,
    reporters: ['default'],
  },
});
