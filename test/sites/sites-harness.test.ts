// scripts/sites.sh: two sites, each in a network namespace of its own with its own address, reached from the
// machine and not from each other; the shared S3 server reached from both; a site cut off drops packets (a
// client times out, nothing answers "refused") and goes on inside; `up` clears what a killed run left;
// `down` leaves the machine's network as it found it. Each site runs only its PostgreSQL clusters here (the
// brokers and workers are the other files' business): what is tested is the network.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withClient } from "../../lib/postgres";
import { networkState, site, sites, sitesEnv } from "./sites";

const SERVICES = "pg-source pg-target";
const SHARED_ADDR = "10.77.0.1";
const before = networkState();
let leftoverGone: Promise<unknown>;
let s3LeftoverGone: Promise<unknown>;
const otherRunDir = mkdtempSync(path.join(tmpdir(), "cdc-sites-other-"));
chmodSync(otherRunDir, 0o755);

beforeAll(async () => {
  // What a killed run leaves: the primary's namespace with a process in it, the sites' route, and its S3
  // server, which holds the shared address (a socket keeps it after the address is gone).
  expect(spawnSync("ip", ["netns", "add", "cdc-site-primary"]).status).toBe(0);
  const leftover = spawn("ip", ["netns", "exec", "cdc-site-primary", "sleep", "600"], { stdio: "ignore" });
  leftoverGone = new Promise((resolve) => leftover.once("exit", resolve));
  spawnSync("ip", ["route", "add", "unreachable", "10.77.0.0/16"]);
  spawnSync("ip", ["addr", "add", `${SHARED_ADDR}/32`, "dev", "lo"]);
  const s3Leftover = spawn("python3", ["-m", "http.server", "--bind", SHARED_ADDR, "9000"], { stdio: "ignore" });
  s3LeftoverGone = new Promise((resolve) => s3Leftover.once("exit", resolve));
  await until(() => spawnSync("ss", ["-Hltn", `src ${SHARED_ADDR}:9000`], { encoding: "utf8" }).stdout !== "");
  spawnSync("ip", ["addr", "delete", `${SHARED_ADDR}/32`, "dev", "lo"]);
  const up = sites(["up"], SERVICES);
  expect(up.status, up.stderr).toBe(0);
}, 600_000);

afterAll(() => {
  const down = sites(["down"]);
  expect(down.status, down.stderr).toBe(0);
  rmSync(otherRunDir, { recursive: true, force: true });
  // Nothing the sites made is left, and nothing else was touched.
  expect(networkState()).toEqual(before);
}, 300_000);

/** Polls `check` every 100 ms for up to 10 s. */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  expect(check()).toBe(true);
}

/** Whether a process runs (a zombie, killed and not yet reaped, does not). */
function running(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1][0] !== "Z";
  } catch {
    return false;
  }
}

/** The postmaster's pid of a site's cluster in a run directory. */
const postmaster = (dir: string, name: string, cluster: string) =>
  Number(readFileSync(path.join(dir, name, cluster, "data/postmaster.pid"), "utf8").split("\n")[0]);

/** Seconds a command takes, and its exit status. */
function timed(cmd: string, args: string[]): { status: number | null; seconds: number } {
  const start = performance.now();
  const run = spawnSync(cmd, args, { encoding: "utf8", timeout: 30_000 });
  return { status: run.status, seconds: (performance.now() - start) / 1000 };
}

const curlIn = (netns: string, url: string) =>
  timed("ip", ["netns", "exec", netns, "curl", "-s", "-o", "/dev/null", "--max-time", "2", url]);
const PG_BIN = process.env.CDC_PG_BIN ?? "/usr/lib/postgresql/15/bin";
const PG_ISREADY = path.join(PG_BIN, "pg_isready");
const PG_CTL = path.join(PG_BIN, "pg_ctl");
/** The clusters belong to the postgres user when the harness runs as root. */
const postgresUid = () => Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
/** pg_isready of a site's source, from the machine or from inside a namespace. */
const pgReady = (host: string, netns?: string) =>
  timed(netns ? "ip" : PG_ISREADY, [
    ...(netns ? ["netns", "exec", netns, PG_ISREADY] : []),
    "-h",
    host,
    "-p",
    "5432",
    "-t",
    "3",
  ]);

describe("two sites on the machine", () => {
  it("cleared a killed run's namespace, its process and its S3 server before starting", async () => {
    const timeout = new Promise((resolve) => setTimeout(() => resolve("still running"), 5000));
    expect(await Promise.race([leftoverGone, timeout])).not.toBe("still running");
    expect(await Promise.race([s3LeftoverGone, timeout])).not.toBe("still running");
    expect(
      networkState()
        .netns.filter((n) => n.startsWith("cdc-site-"))
        .sort(),
    ).toEqual(["cdc-site-dr", "cdc-site-primary"]);
  });

  it("serves each site's PostgreSQL at the site's own address, to clients of the machine", async () => {
    for (const name of ["primary", "dr"] as const) {
      const s = site(name);
      const [row] = await withClient(
        { ...s.source, password: s.pgPassword },
        async (c) => (await c.query<{ addr: string }>("SELECT host(inet_server_addr()) AS addr")).rows,
      );
      expect(row.addr).toBe(s.host);
    }
  });

  it("lets a site reach the shared S3 server, never the other site", () => {
    const s3 = `${sitesEnv().CDC_SITES_S3_ENDPOINT}/moto-api/config`;
    const primary = site("primary");
    const dr = site("dr");
    expect(curlIn(dr.netns, s3).status).toBe(0);
    expect(curlIn(primary.netns, s3).status).toBe(0);
    // curl's 28: timed out. Nothing forwards between the sites.
    expect(curlIn(dr.netns, `http://${primary.host}:5432/`).status).toBe(28);
  });

  it("cuts a site off: its clients time out (packets dropped, not refused) while it goes on inside; heals it", () => {
    const primary = site("primary");
    expect(pgReady(primary.host).status).toBe(0);
    expect(sites(["cut", "primary"]).status).toBe(0);
    // pg_isready's 2: no response (a refused connection is 2 too, but at once: this one waits out -t 3).
    const cut = pgReady(primary.host);
    expect(cut.status).toBe(2);
    expect(cut.seconds).toBeGreaterThan(2.5);
    const status = sites(["status"], SERVICES);
    expect(status.status).toBe(1);
    expect(status.stderr).toContain("CUT OFF");
    expect(pgReady(primary.host, primary.netns).status).toBe(0);
    expect(pgReady(site("dr").host).status).toBe(0);
    expect(sites(["heal", "primary"]).status).toBe(0);
    expect(pgReady(primary.host).status).toBe(0);
  });

  it("up again keeps the network and the running services, and starts a stopped one", () => {
    const primary = site("primary");
    const pidFile = path.join(sitesEnv().CDC_SITES_DIR, "primary/pg-target/data/postmaster.pid");
    const pid = readFileSync(pidFile, "utf8").split("\n")[0];
    spawnSync(PG_CTL, ["-D", path.dirname(pidFile), "-m", "immediate", "stop"], { uid: postgresUid() });
    const again = sites(["up"], SERVICES);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toContain("the sites' network is there");
    expect(again.stderr).toContain("==> pg-source already running");
    expect(again.stderr).toContain("==> start pg-target");
    expect(readFileSync(pidFile, "utf8").split("\n")[0]).not.toBe(pid);
    expect(pgReady(primary.host).status).toBe(0);
  });

  it("up from another run's directory removes these sites whole, processes and all, and starts its own", async () => {
    const thisRunDir = sitesEnv().CDC_SITES_DIR;
    const pids = (["primary", "dr"] as const).map((name) => postmaster(thisRunDir, name, "pg-source"));
    const s3Pid = Number(readFileSync(path.join(thisRunDir, "shared/s3/pid"), "utf8"));
    const up = sites(["up"], SERVICES, { CDC_SITES_DIR: otherRunDir });
    expect(up.status, up.stderr).toBe(0);
    expect(up.stderr).not.toContain("the sites' network is there");
    expect([...pids, s3Pid].filter(running)).toEqual([]);
    const primary = site("primary");
    const password = readFileSync(path.join(otherRunDir, "primary/pg-password"), "utf8").trim();
    const [row] = await withClient(
      { ...primary.source, password },
      async (c) => (await c.query<{ dir: string }>("SELECT current_setting('data_directory') AS dir")).rows,
    );
    expect(row.dir).toBe(path.join(otherRunDir, "primary/pg-source/data"));
  });

  it("up back in this run's directory starts its clusters again, over the pid files the killed ones left", () => {
    const thisRunDir = sitesEnv().CDC_SITES_DIR;
    expect(readFileSync(path.join(thisRunDir, "primary/pg-source/data/postmaster.pid"), "utf8")).not.toBe("");
    const up = sites(["up"], SERVICES);
    expect(up.status, up.stderr).toBe(0);
    expect(up.stderr).toContain("==> start pg-source");
    expect(pgReady(site("primary").host).status).toBe(0);
  });

  it("refuses an unknown site", () => {
    const run = sites(["cut", "tertiary"]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("unknown site 'tertiary': expected one of primary dr");
  });
});
