import { defineConfig } from "vitest/config";

// Four projects, run in this order by scripts/test.sh: unit tests need nothing; integration tests talk
// to the harness's services; end-to-end tests run the real Pulumi CLI in the project directory; the
// two-site tests run two sites of their own in network namespaces (scripts/sites.sh).
export default defineConfig({
  test: {
    projects: [
      // Under mocks a test runs the whole program, transformed from TypeScript in each worker: on a loaded
      // 2-core machine that alone took more than vitest's 5 s default.
      { test: { name: "unit", include: ["test/unit/**/*.test.ts"], testTimeout: 60_000, hookTimeout: 60_000 } },
      { test: { name: "integration", include: ["test/integration/**/*.test.ts"], testTimeout: 60_000 } },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          testTimeout: 600_000,
          hookTimeout: 600_000,
          // Each file drives the CLI against the same project directory: one at a time.
          fileParallelism: false,
        },
      },
      // The two-site tests (root: network namespaces): each file starts and stops scripts/sites.sh itself.
      {
        test: {
          name: "sites",
          include: ["test/sites/**/*.test.ts"],
          testTimeout: 600_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
