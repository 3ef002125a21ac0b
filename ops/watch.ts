// `cdc-pipeline watch`: a long-running loop (for a container or a service unit) that restarts the stack's
// FAILED connectors and tasks between deploys (lib/connector-watch, with Strimzi's backoff from
// lib/restart-policy), serves its metrics for Prometheus, and stops at the end of the pass it is in on
// SIGTERM or SIGINT. It never changes a configuration.
import { createServer, type Server } from "node:http";
import { connectHttp } from "../lib/connect-rest";
import { EMPTY_WATCH, watchMetrics, watchPass, type WatchState } from "../lib/connector-watch";
import { pipelineNames } from "../lib/pipeline-names";
import { redact } from "../lib/redact";
import { DEFAULT_RESTART_POLICY, type RestartPolicy } from "../lib/restart-policy";
import type { WatchSettings } from "../config";
import type { StackSite } from "./stacks";

export interface WatchOptions {
  /** Time between passes. */
  readonly intervalMs: number;
  readonly policy: RestartPolicy;
  /** Port of the metrics endpoint (GET /metrics); none: no endpoint. */
  readonly metricsPort?: number;
  /** Progress lines. */
  readonly log: (line: string) => void;
  /** Ends the loop after the pass it is in. */
  readonly signal: AbortSignal;
  /**
   * None of the connectors on the cluster is an error (the wrong stack, or `pulumi up` never ran). Off for the
   * watch container, which starts before the first `pulumi up` has created them. Default: on.
   */
  readonly requireConnectors?: boolean;
}

/** What is watched: a Connect cluster's REST API, the connectors' names, and what never to log. */
export interface WatchTarget {
  readonly url: string;
  readonly connectors: readonly string[];
  /** Passwords taken out of what is logged (a failed task's trace may quote a connection string). */
  readonly secrets: readonly string[];
}

/** The stack's connectors (its source and its sink) on its Connect cluster. */
export function stackWatchTarget(site: StackSite): WatchTarget {
  const names = pipelineNames(site.settings.pipeline, site.settings.source);
  return {
    url: site.settings.kafkaConnect.url,
    connectors: [names.sourceConnector, names.sinkConnector],
    secrets: [site.sourcePassword, site.targetPassword],
  };
}

/** The restart policy of the stack's `watch` settings. */
export const restartPolicyOf = (watch: WatchSettings): RestartPolicy => ({
  ...DEFAULT_RESTART_POLICY,
  unitMs: watch.unitSeconds * 1000,
  maxRestarts: watch.maxRestarts,
  healthyUnits: watch.healthyUnits,
});

const pause = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });

/** Runs the watch until the signal ends it; returns what it knew then. */
export async function watchConnectors(target: WatchTarget, options: WatchOptions): Promise<WatchState> {
  const { url, connectors, secrets } = target;
  const http = connectHttp({ url }, 10_000);
  let state = EMPTY_WATCH;
  const runPass = async () => {
    const pass = await watchPass(http, connectors, state, options.policy, Date.now(), secrets);
    state = pass.state;
    for (const e of pass.events) options.log(`watch    ${e.connector}: ${e.what}: ${e.detail}`);
  };
  await runPass();
  // Nothing to watch is a mistake (the wrong stack, or `pulumi up` never ran): said before the loop starts.
  if ((options.requireConnectors ?? true) && connectors.every((name) => state.statuses.get(name) === undefined)) {
    throw new Error(
      `none of the connectors (${connectors.join(", ")}) is on ${url}: deploy them with pulumi up, or give the right --stack`,
    );
  }
  let server: Server | undefined;
  if (options.metricsPort !== undefined) {
    server = createServer((req, res) => {
      if (req.url === "/metrics") {
        res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(watchMetrics(state));
      } else res.writeHead(404).end();
    });
    await new Promise<void>((resolve, reject) => server!.once("error", reject).listen(options.metricsPort, resolve));
  }
  options.log(`watch    ${connectors.join(", ")} on ${url} every ${options.intervalMs / 1000} s`);
  try {
    for (;;) {
      await pause(options.intervalMs, options.signal);
      if (options.signal.aborted) break;
      // The worker unreachable for a while is what a watcher outlives: said, and tried again next pass.
      await runPass().catch((err: Error) => options.log(`watch    pass failed: ${redact(err.message, secrets)}`));
    }
  } finally {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
  options.log("watch    stopped");
  return state;
}
