// The Kafka Connect REST API, as plain functions that take an axios client (testable without Pulumi).
// Retries only what a worker reports as transient, and never lets a request's headers, body or a secret
// value into an error message: axios errors carry the whole request, credentials included.
import axios, { type AxiosInstance, type AxiosResponse } from "axios";
import { Agent } from "node:https";
import { z } from "zod";
import { redact } from "./redact";

const isHttpUrl = (value: string): boolean => {
  try {
    return ["http:", "https:"].includes(new URL(value).protocol);
  } catch {
    return false;
  }
};

const notAWorkerUrl = (issue: { input?: unknown }) =>
  `must be an http(s) URL of a Kafka Connect worker, got '${String(issue.input)}'`;

/** How to reach a Connect cluster, as a provider's inputs carry it. Secrets among the fields stay secret. */
export const connectConnectionSchema = z.strictObject(
  {
    /** Base URL of any worker's REST API. */
    url: z.string({ error: notAWorkerUrl }).refine(isHttpUrl, { error: notAWorkerUrl }),
    /** Basic-auth user name (with `password`). */
    username: z.string("must be a string").optional(),
    /** Basic-auth password. */
    password: z.string("must be a string").optional(),
    /** Bearer token, sent as `Authorization: Bearer <token>`. */
    token: z.string("must be a string").optional(),
    /** PEM CA bundle to trust for https. */
    caCert: z.string("must be a PEM string").optional(),
    /** PEM client certificate for mutual TLS (with `clientKey`). */
    clientCert: z.string("must be a PEM string").optional(),
    /** PEM client key for mutual TLS. */
    clientKey: z.string("must be a PEM string").optional(),
    /** Extra headers sent with every request. */
    headers: z.record(z.string(), z.string("must be a string"), "must be a map of header names to values").optional(),
  },
  {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `unknown ${issue.keys.length === 1 ? "key" : "keys"} ${issue.keys.join(", ")}: a connection has url, ` +
          "username/password, token, caCert, clientCert/clientKey and headers"
        : "must be a connection: { url, and optionally username/password, token, caCert, clientCert/clientKey, headers }",
  },
);

/** How to reach a Connect cluster. Every field but `url` is optional. */
export type ConnectConnection = z.infer<typeof connectConnectionSchema>;

/** The secret values of a connection, to be redacted from any message. */
export function connectionSecrets(conn: ConnectConnection): string[] {
  return [conn.password, conn.token, conn.clientKey, ...Object.values(conn.headers ?? {})].filter(
    (v): v is string => typeof v === "string" && v.length > 0,
  );
}

/**
 * Everything a connection carries besides its URL, as one flat map (headers as `headers.<name>`): what a
 * changed credential changes, whether secret (a token) or not (a CA bundle).
 */
export function connectionCredentials(conn: ConnectConnection): Record<string, string> {
  const { url: _url, headers, ...fields } = conn;
  return Object.fromEntries(
    [
      ...Object.entries(fields),
      ...Object.entries(headers ?? {}).map(([name, value]) => [`headers.${name}`, value] as const),
    ].filter((entry): entry is [string, string] => typeof entry[1] === "string"),
  );
}

/** An axios client for the connection. */
export function connectHttp(conn: ConnectConnection, timeoutMs = 15_000): AxiosInstance {
  // Without a JSON content type, body-less PUTs (pause, resume, stop) are refused with 415.
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    Accept: "application/json",
    ...conn.headers,
  };
  if (conn.token) headers.Authorization = `Bearer ${conn.token}`;
  const tls = conn.caCert || conn.clientCert || conn.clientKey;
  return axios.create({
    baseURL: conn.url.replace(/\/+$/, ""),
    timeout: timeoutMs,
    headers,
    auth: conn.username !== undefined ? { username: conn.username, password: conn.password ?? "" } : undefined,
    httpsAgent: tls ? new Agent({ ca: conn.caCert, cert: conn.clientCert, key: conn.clientKey }) : undefined,
  });
}

/**
 * An error of the Connect API: the request line, the status and the worker's message, nothing else.
 */
export interface ConnectError extends Error {
  name: "ConnectError";
  /** HTTP status, or undefined when no response came (refused, timed out). */
  status: number | undefined;
  /** Node's error code (ECONNREFUSED, ECONNABORTED...) when no response came. */
  code: string | undefined;
}

export function connectError(message: string, status: number | undefined, code: string | undefined): ConnectError {
  return Object.assign(new Error(message), { name: "ConnectError" as const, status, code });
}

export function isConnectError(err: unknown): err is ConnectError {
  return err instanceof Error && err.name === "ConnectError";
}

/** The HTTP status of a Connect API error; undefined for any other error or when no response came. */
export function httpStatusOf(err: unknown): number | undefined {
  return isConnectError(err) ? err.status : undefined;
}

/** Turns anything axios throws into a ConnectError with no headers, bodies or secrets. */
export function toConnectError(err: unknown, what: string, secrets: readonly string[] = []): ConnectError {
  const e = err as {
    response?: { status: number; data?: unknown };
    code?: string;
    message?: string;
  };
  if (e.response) {
    const data = e.response.data as { message?: unknown } | string | undefined;
    const serverMessage = typeof data === "string" ? data : typeof data?.message === "string" ? data.message : "";
    const text = `${what}: HTTP ${e.response.status}${serverMessage ? `: ${serverMessage}` : ""}`;
    return connectError(redact(text, secrets), e.response.status, undefined);
  }
  const text = `${what}: ${e.code ?? e.message ?? String(err)}`;
  return connectError(redact(text, secrets), undefined, e.code);
}

/**
 * Transient: a 409 while the group rebalances or its config is stale, a 5xx saying a rebalance is
 * expected or the request timed out, and a client-side timeout. A 409 "already exists" is not: the
 * caller decides what an existing connector means.
 */
export function isTransient(err: ConnectError): boolean {
  const msg = err.message.toLowerCase();
  if (err.status === 409) return !msg.includes("already exists");
  if (err.status !== undefined && err.status >= 500) {
    return /rebalanc|timed out|timeout|stale|leader/.test(msg);
  }
  return err.code === "ECONNABORTED" || err.code === "ETIMEDOUT" || err.code === "ECONNRESET";
}

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** First backoff ceiling in ms; doubles each attempt. */
  baseDelayMs: number;
  /** Largest backoff ceiling in ms. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, baseDelayMs: 250, maxDelayMs: 8_000 };

/** Delay before retry number `attempt` (0-based): full jitter under an exponential ceiling. */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt));
}

/**
 * One REST call with retries of transient failures. `what` names the call in errors ("PUT
 * /connectors/x/config"); `secrets` are redacted from every message.
 */
export async function call<T>(
  what: string,
  request: () => Promise<AxiosResponse<T>>,
  secrets: readonly string[],
  policy: RetryPolicy = DEFAULT_RETRY,
): Promise<AxiosResponse<T>> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await request();
    } catch (raw) {
      const err = toConnectError(raw, what, secrets);
      if (!isTransient(err) || attempt + 1 >= policy.attempts) throw err;
      await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt, policy)));
    }
  }
}

/** A Connect version such as "4.3.1" as comparable numbers. */
export function parseVersion(version: string): [number, number, number] {
  const [major = 0, minor = 0, patch = 0] = version.split(/[.-]/).map((part) => Number.parseInt(part, 10) || 0);
  return [major, minor, patch];
}

/** Whether `version` is at least major.minor. */
export function atLeast(version: string, major: number, minor: number): boolean {
  const [ma, mi] = parseVersion(version);
  return ma > major || (ma === major && mi >= minor);
}

/** What a worker of a given version supports (Apache Kafka release notes, KIP-875 and KIP-980). */
export function workerFeatures(version: string): { stop: boolean; offsets: boolean; initialState: boolean } {
  return { stop: atLeast(version, 3, 5), offsets: atLeast(version, 3, 6), initialState: atLeast(version, 3, 7) };
}
