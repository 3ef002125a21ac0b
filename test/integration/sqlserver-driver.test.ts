// The real mssql driver as the SQL Server code uses it, up to where a server would be needed: with
// nothing listening, the error names the server and hides the password.
import { expect, it } from "vitest";
import { withSqlServer } from "../../lib/sqlserver";
import { CLOSED_PORT } from "../harness";

it("an unreachable SQL Server fails naming the server, without the password", async () => {
  const password = "Unreachable-Pw-1";
  const message = await withSqlServer(
    {
      host: "127.0.0.1",
      port: CLOSED_PORT,
      database: "inventory",
      user: "sa",
      password,
      encrypt: true,
      trustServerCertificate: true,
    },
    (client) => client.query("SELECT 1"),
  ).then(
    () => "connected",
    (err: Error) => err.message,
  );
  expect(message).toMatch(/^SQL Server sa@127\.0\.0\.1:9\/inventory: Failed to connect to 127\.0\.0\.1:9/);
  expect(message).not.toContain(password);
});
