import { defineConfig } from "vitest/config";

// Three projects, run in this order by scripts/test.sh: unit tests need nothing; integration tests talk
// to the harness's services; end-to-end tests run the real Pulumi CLI in the project directory.
export default defineConfig({
  test: {
    projects: [
      { test: { name: "unit", include: ["test/unit/**/*.test.ts"] } },
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
    ],
  },
});
