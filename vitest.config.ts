import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // Not timed tests: room for a machine busy with the engine suites next to them.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 1_200_000,
          hookTimeout: 1_200_000,
          fileParallelism: false,
          // Later tests build on the state earlier ones left: stop at the first failure.
          bail: 1,
        },
      },
      {
        test: {
          // The real images for linux/arm64 under qemu: run by scripts/test-arm64.sh, not by
          // a plain `vitest run` (an emulated build takes many minutes).
          name: 'arm64',
          include: ['test/arm64/**/*.test.ts'],
          testTimeout: 900_000,
          hookTimeout: 5_400_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          // Real git servers, databases and app processes; no Docker engine.
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          // The real Docker engine (run on each engine lane: scripts/test.sh).
          name: 'engine',
          include: ['test/engine/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 600_000,
          // Engine files share one engine and one machine with 2 cores.
          fileParallelism: false,
        },
      },
    ],
  },
});
