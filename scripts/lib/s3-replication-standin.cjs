// A STAND-IN for S3 Cross-Region Replication, which moto (the harness's S3 server) does not implement: it
// runs on the harness only (scripts/services.sh starts it as the service s3-replication), never against AWS.
// Every CDC_S3_REPLICATION_INTERVAL seconds (default 2) it lists each source bucket of
// CDC_S3_REPLICATION_PAIRS (SOURCE:DESTINATION,...) and copies to the destination, metadata kept, each object
// the destination lacks or whose ETag changed since this process copied it. Like S3's replication, it is
// asynchronous: a backup reaches the replica up to one interval (plus the copy) after it was written, so an
// RPO measured on the harness includes a replication delay.
// It compares the source's ETag with the one it copied, not with the destination's: a copy of a multipart
// object gets an ETag of its own (the MD5 of its bytes, not "<hash>-<parts>"), in moto as in S3. A
// destination object found at start with the source's size counts as copied.
// Logs "replicating PAIRS every N s" once started, then one line per copy ("... after N ms": since the source
// object's LastModified); an error is logged and the copy tried again at the next pass. Exits on SIGTERM
// (or SIGINT) once a pass under way is done.
const { CopyObjectCommand, ListObjectsV2Command, S3Client } = require("@aws-sdk/client-s3");

const endpoint = process.env.CDC_S3_ENDPOINT ?? "http://127.0.0.1:55000";
const intervalSeconds = Number(process.env.CDC_S3_REPLICATION_INTERVAL ?? "2");
const pairsText =
  process.env.CDC_S3_REPLICATION_PAIRS ??
  "cdc-local-backups:cdc-local-backups-replica,cdc-local-dr-backups:cdc-local-dr-backups-replica";

function log(line) {
  console.log(`${new Date().toISOString()} ${line}`);
}

/** "a:b,c:d" as [{ source: "a", destination: "b" }, ...]; exits on anything else. */
function parsePairs(text) {
  return text.split(",").map((pair) => {
    const [source, destination, ...rest] = pair.split(":");
    if (!source || !destination || rest.length > 0) {
      console.error(`CDC_S3_REPLICATION_PAIRS: '${pair}' is not SOURCE:DESTINATION (in '${text}')`);
      process.exit(2);
    }
    return { source, destination };
  });
}

if (!(intervalSeconds > 0)) {
  console.error(`CDC_S3_REPLICATION_INTERVAL: '${process.env.CDC_S3_REPLICATION_INTERVAL}' is not a positive number`);
  process.exit(2);
}
const pairs = parsePairs(pairsText);

// moto takes any credentials. One attempt per request, as a failure is logged and retried at the next pass;
// and bounded: a hung request must not stall every later pass.
const client = new S3Client({
  region: "us-east-1",
  endpoint,
  forcePathStyle: true,
  credentials: { accessKeyId: "harness", secretAccessKey: "harness" },
  maxAttempts: 1,
  requestHandler: { connectionTimeout: 5_000, requestTimeout: 60_000, throwOnRequestTimeout: true },
});

/** Every object of a bucket (all pages): key -> { etag, size, modified }. */
async function listObjects(bucket) {
  const objects = new Map();
  let token;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      objects.set(o.Key, { etag: o.ETag, size: o.Size, modified: o.LastModified });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return objects;
}

// "SOURCE\0KEY" -> the source ETag this process copied (or found already copied at start).
const copied = new Map();

async function replicatePair({ source, destination }) {
  const [objects, present] = await Promise.all([listObjects(source), listObjects(destination)]);
  for (const [key, object] of objects) {
    const id = `${source}\0${key}`;
    const there = present.get(key);
    if (there && !copied.has(id) && there.size === object.size) copied.set(id, object.etag);
    if (there && copied.get(id) === object.etag) continue;
    try {
      await client.send(
        new CopyObjectCommand({
          Bucket: destination,
          Key: key,
          CopySource: `${source}/${encodeURIComponent(key)}`,
          MetadataDirective: "COPY",
          // Computed for the copy: otherwise moto gives the single-part copy of a multipart object the
          // source's composite checksum, and the SDK refuses to read it ("Checksum mismatch").
          ChecksumAlgorithm: "CRC32",
        }),
      );
      copied.set(id, object.etag);
      // The replication lag: since the source object was written (LastModified has whole seconds).
      log(`replicated s3://${source}/${key} -> s3://${destination}/${key} after ${Date.now() - object.modified} ms`);
    } catch (error) {
      log(`error: copying s3://${source}/${key} -> s3://${destination}/${key}: ${describe(error)} (retried next pass)`);
    }
  }
}

function describe(error) {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

let timer;
let passing = false;
let stopping = false;

async function pass() {
  passing = true;
  for (const pair of pairs) {
    try {
      await replicatePair(pair);
    } catch (error) {
      log(`error: listing s3://${pair.source} or s3://${pair.destination}: ${describe(error)} (retried next pass)`);
    }
  }
  passing = false;
  if (stopping) process.exit(0);
  timer = setTimeout(() => void pass(), intervalSeconds * 1000);
}

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    stopping = true;
    clearTimeout(timer);
    log(`${signal}: stopping`);
    if (!passing) process.exit(0);
  });
}

log(
  `replicating ${pairs.map((p) => `s3://${p.source} -> s3://${p.destination}`).join(", ")} every ${intervalSeconds} s`,
);
void pass();
