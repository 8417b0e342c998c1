import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Network-namespace tests share kernel state; files run in parallel but each file is serial.
    fileParallelism: true,
    // The JSON report lets .ci/run print one plain 'N passed, N failed' line for CI.
    reporters: ['default', 'json'],
    outputFile: { json: process.env['UDPKIT_NATIVE'] === '0' ? 'test-results/dgram.json' : 'test-results/main.json' },
  },
});
