// The Kafka Connect REST API, as plain functions that take an axios client (testable without Pulumi).
// Retries only what a worker reports as transient, and never lets a request's headers, body or a secret
// value into an error message: axios errors carry the whole request, credentials included.
import type { AxiosInstance, AxiosResponse } from "axios";
import { redact } from "./redact";

/** How to reach a Connect cluster. Every field but `url` is optional; secrets among them stay secret. */
export interface ConnectConnection {
  /** Base URL of any worker's REST API. */
  url: string;
  /** Basic-auth user name (with `password`). */
  username?: string;
  /** Basic-auth password. */
  password?: string;
  /** Bearer token, sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** PEM CA bundle to trust for https. */
  caCert?: string;
  /** PEM client certificate for mutual TLS (with `clientKey`). */
  clientCert?: string;
  /** PEM client key for mutual TLS. */
  clientKey?: string;
  /** Extra headers sent with every request. */
  headers?: Record<string, string>;
}

/** The secret values of a connection, to be redacted from any message. */
export function connectionSecrets(conn: ConnectConnection): string[] {
  return [conn.password, conn.token, conn.clientKey, ...Object.values(conn.headers ?? {})].filter(
    (v): v is string => typeof v === "string" && v.length > 0,
  );
}

/** An axios client for the connection. Requires its modules when called (README, "Dynamic providers"). */
export function connectHttp(conn: ConnectConnection, timeoutMs = 15_000): AxiosInstance {
  const axios = require("axios") as import("axios").AxiosStatic;
  const https = require("node:https") as typeof import("node:https");
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
    httpsAgent: tls ? new https.Agent({ ca: conn.caCert, cert: conn.clientCert, key: conn.clientKey }) : undefined,
  });
}

/**
 * An error of the Connect API: the request line, the status and the worker's message, nothing else.
 * A plain Error with fields rather than a subclass: Pulumi serializes a dynamic provider's code, and an
 * Error subclass comes out of that serialization without its message.
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
