# The image of the backup and watch containers (components/pipeline-containers.ts builds it on the stack's
# Docker host, with the project directory as its context): the operations CLI, run as
#   node ops/bin.cjs backup schedule --job /etc/cdc-backup/job.json
#   node ops/bin.cjs watch --connect-url http://connect:8083 --connector ... --metrics-port 9404
# with the PostgreSQL client (pg_dump, pg_restore, pg_basebackup, pg_receivewal) and tar that the backups
# spawn. The job file is uploaded into the container; CDC_SOURCE_PASSWORD and the bucket's credentials come
# from its environment: nothing secret is in the image. The root's .dockerignore lets into the context only
# what is copied below.

# The Node.js version the project pins (scripts/lib/common.sh NODE_VERSION), on Debian 12.
FROM node:22.23.3-bookworm-slim

# Debian 12's postgresql-client is PostgreSQL 15's, the client version the backup and restore commands use.
RUN apt-get update \
  && apt-get install -y --no-install-recommends postgresql-client tar \
  && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Exactly the lockfile's production packages. ops/bin.cjs runs the TypeScript CLI through ts-node, which with
# typescript is a devDependency, yet both stay: they are @pulumi/pulumi's (optional) peer dependencies, so the
# lockfile does not flag them dev and --omit=dev keeps them, at the versions package.json pins
# (test/unit/pipeline-containers.test.ts checks the lockfile). No install scripts: none is needed (protobufjs's
# postinstall only checks its own CLI's dependencies).
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && npm cache clean --force

# What `node ops/bin.cjs` loads: the CLI, the libraries and the configuration schema it imports, and the
# tsconfig.json ts-node compiles them with.
COPY tsconfig.json config.ts ./
COPY lib ./lib
COPY ops ./ops
# The CLI loads every module it imports before it parses its arguments: a missing one fails the build, not the
# container.
RUN node ops/bin.cjs --help > /dev/null

# The job file's directory, and the one SQL Server's backups pass through (SQLSERVER_BACKUP_DIR in
# components/pipeline-containers.ts): the volume mounted there, shared with the SQL Server container, is new
# and empty when this container first mounts it, and Docker gives it this directory's owner and mode, so that
# SQL Server (mssql: uid 10001, group 0) can write into it. That container runs this image as 10001:0 (SQL
# Server's user, which may read and delete what BACKUP wrote); everything above is root's and readable by any
# user, and nothing writes under /app at run time. Otherwise an unprivileged user (the node image's).
RUN mkdir -p /etc/cdc-backup \
  && install -d -o 10001 -g 0 -m 0770 /var/opt/mssql/cdc-backups
USER node

CMD ["node", "ops/bin.cjs", "backup", "schedule", "--job", "/etc/cdc-backup/job.json"]
