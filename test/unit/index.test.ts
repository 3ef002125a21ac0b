import { expect, it } from "vitest";
import { recordResources } from "./mocks";

it("an invalid configuration stops the program before any resource is declared", async () => {
  const registered = await recordResources("broken", {
    "cdc-pipeline:kafkaConnect": { url: "not a url" },
    "cdc-pipeline:target": { host: "t", port: 5432, database: "d", user: "u" },
    "cdc-pipeline:targetPassword": "s3cr3t-value",
  });
  const error = await import("../../index").then(
    () => undefined,
    (err: unknown) => err as Error,
  );
  expect(error?.name).toBe("StackConfigError");
  expect(error?.message).toContain("cdc-pipeline:kafkaConnect.url");
  expect(error?.message).toContain("cdc-pipeline:source is missing");
  expect(error?.message).toContain("pulumi config set --stack broken --secret sourcePassword");
  expect(error?.message).not.toContain("s3cr3t-value");
  expect(registered).toEqual([]);
});
