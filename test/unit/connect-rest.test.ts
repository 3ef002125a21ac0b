import type { AxiosResponse } from "axios";
import { describe, expect, it } from "vitest";
import {
  backoffDelay,
  call,
  connectError,
  connectHttp,
  connectionCredentials,
  connectionSecrets,
  isTransient,
  toConnectError,
  workerFeatures,
} from "../../lib/connect-rest";
import { reached, summarizeTrace } from "../../lib/connector-api";

/** An error shaped as axios throws it, request config and headers included. */
function httpError(status: number, message: string) {
  return Object.assign(new Error(`Request failed with status code ${status}`), {
    response: { status, data: { error_code: status, message } },
    config: { headers: { Authorization: "Basic c2VjcmV0LXRva2Vu" }, data: '{"database.password":"pw-123"}' },
  });
}

const fast = { attempts: 4, baseDelayMs: 1, maxDelayMs: 2 };

describe("Connect REST errors and retries", () => {
  it("keeps status and server message, drops request headers and bodies, redacts secrets", () => {
    const err = toConnectError(httpError(400, "bad value pw-123 for x"), "PUT /connectors/a/config", ["pw-123"]);
    expect(err.message).toBe("PUT /connectors/a/config: HTTP 400: bad value [secret] for x");
    expect(JSON.stringify(err)).not.toContain("c2VjcmV0LXRva2Vu");
    expect(err.status).toBe(400);
  });

  it("classifies rebalances, stale config and timeouts as transient, 'already exists' and 400 as not", () => {
    const transient = (status: number, msg: string) => isTransient(toConnectError(httpError(status, msg), "x"));
    expect(transient(409, "Cannot complete request because of a conflicting operation (e.g. worker rebalance)")).toBe(
      true,
    );
    expect(transient(409, "Cannot complete request momentarily due to stale configuration")).toBe(true);
    expect(transient(500, "Request timed out")).toBe(true);
    expect(transient(503, "Cannot complete request because a rebalance is expected")).toBe(true);
    expect(transient(409, "Connector x already exists")).toBe(false);
    expect(transient(500, "Cannot invoke ... because ... is null")).toBe(false);
    expect(transient(400, "Connector configuration is invalid")).toBe(false);
    expect(isTransient(connectError("x: ECONNABORTED", undefined, "ECONNABORTED"))).toBe(true);
    expect(isTransient(connectError("x: ECONNREFUSED", undefined, "ECONNREFUSED"))).toBe(false);
  });

  it("retries a transient failure until it succeeds, and gives up after the bounded attempts", async () => {
    let calls = 0;
    const flaky = () => {
      calls++;
      if (calls < 3) return Promise.reject(httpError(409, "worker rebalance in progress"));
      return Promise.resolve({ status: 200, data: "ok" } as AxiosResponse<string>);
    };
    expect((await call("GET /", flaky, [], fast)).data).toBe("ok");
    expect(calls).toBe(3);

    calls = 0;
    const always = () => {
      calls++;
      return Promise.reject(httpError(409, "worker rebalance in progress"));
    };
    await expect(call("GET /", always, [], fast)).rejects.toThrow("GET /: HTTP 409: worker rebalance in progress");
    expect(calls).toBe(4);
  });

  it("does not retry a 409 'already exists'", async () => {
    let calls = 0;
    const exists = () => {
      calls++;
      return Promise.reject(httpError(409, "Connector a already exists"));
    };
    await expect(call("POST /connectors", exists, [], fast)).rejects.toMatchObject({ status: 409 });
    expect(calls).toBe(1);
  });

  it("backs off exponentially under a ceiling, with jitter", () => {
    const policy = { attempts: 10, baseDelayMs: 100, maxDelayMs: 1000 };
    expect([0, 1, 2, 3, 4].map((n) => backoffDelay(n, policy, () => 0.999))).toEqual([99, 199, 399, 799, 999]);
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
  });

  it("knows which worker versions support stop, offsets and initial_state", () => {
    expect(workerFeatures("3.4.1")).toEqual({ stop: false, offsets: false, initialState: false });
    expect(workerFeatures("3.5.0")).toEqual({ stop: true, offsets: false, initialState: false });
    expect(workerFeatures("3.6.2")).toEqual({ stop: true, offsets: true, initialState: false });
    expect(workerFeatures("4.3.1")).toEqual({ stop: true, offsets: true, initialState: true });
  });

  it("collects the secret values of a connection", () => {
    expect(
      connectionSecrets({ url: "u", username: "admin", password: "p", token: "t", headers: { "X-Key": "k" } }),
    ).toEqual(["p", "t", "k"]);
  });

  it("collects everything a connection carries besides its URL, headers by name, as its credentials", () => {
    expect(
      connectionCredentials({
        url: "https://c:8083",
        username: "admin",
        password: "p",
        caCert: "CA",
        headers: { "X-Key": "k", Tenant: "t1" },
      }),
    ).toEqual({ username: "admin", password: "p", caCert: "CA", "headers.X-Key": "k", "headers.Tenant": "t1" });
    expect(connectionCredentials({ url: "http://c:8083", token: undefined })).toEqual({});
  });

  it("reduces a Java trace to its exception chain", () => {
    const trace =
      "org.a.X: outer\n\tat a.b(C.java:1)\n\tat d.e(F.java:2)\nCaused by: org.b.Y: root\n\tat g.h(I.java:3)\n\t... 4 more";
    expect(summarizeTrace(trace)).toBe("org.a.X: outer\n  Caused by: org.b.Y: root");
  });

  it("counts a state as reached only with all tasks in it (stopped: none; paused: maybe none)", () => {
    const task = (state: "RUNNING" | "PAUSED" | "FAILED") => ({ id: 0, state, workerId: "w" });
    const status = (state: "RUNNING" | "PAUSED" | "STOPPED", tasks: ReturnType<typeof task>[]) => ({
      state,
      workerId: "w",
      tasks,
      traces: [],
    });
    expect(reached(status("RUNNING", [task("RUNNING")]), "running")).toBe(true);
    expect(reached(status("RUNNING", []), "running")).toBe(false);
    expect(reached(status("RUNNING", [task("FAILED")]), "running")).toBe(false);
    expect(reached(status("PAUSED", [task("PAUSED")]), "paused")).toBe(true);
    expect(reached(status("PAUSED", [task("RUNNING")]), "paused")).toBe(false);
    // Connect creates no task for a connector created paused.
    expect(reached(status("PAUSED", []), "paused")).toBe(true);
    expect(reached(status("STOPPED", []), "stopped")).toBe(true);
  });
});

describe("connectHttp", () => {
  it("sends basic auth, a bearer token, extra headers and a JSON content type; trusts the given CA", () => {
    const http = connectHttp({
      url: "https://connect:8083/",
      username: "admin",
      password: "pw",
      token: "tok",
      caCert: "-----BEGIN CERTIFICATE-----",
      headers: { "X-Tenant": "t1" },
    });
    expect(http.defaults.baseURL).toBe("https://connect:8083");
    expect(http.defaults.auth).toEqual({ username: "admin", password: "pw" });
    expect(http.defaults.headers).toMatchObject({
      Authorization: "Bearer tok",
      "X-Tenant": "t1",
      "Content-Type": "application/json",
    });
    expect((http.defaults.httpsAgent as { options: { ca: string } }).options.ca).toBe("-----BEGIN CERTIFICATE-----");
    expect(connectHttp({ url: "http://c:8083" }).defaults.httpsAgent).toBeUndefined();
  });
});
