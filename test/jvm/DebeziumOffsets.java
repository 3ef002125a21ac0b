// What the installed Debezium SQL Server plugin makes of offsets the project writes (a resume point): the
// plugin's own offset loader reads them the way its connector task does at start. Run as a single-file program
// against the plugin's jars:
//
//   java -cp "$CDC_CONNECT_PLUGINS/debezium-connector-sqlserver/*:$CDC_KAFKA_LIBS/*" \
//     test/jvm/DebeziumOffsets.java < connector-and-offset.properties
//
// stdin: Java properties, the connector's config, and the offset's string values as offset.<key>=<value>.
// Prints the position it resumes from and whether it would take a snapshot, as key=value lines.
import io.debezium.config.Configuration;
import io.debezium.connector.sqlserver.SqlServerConnectorConfig;
import io.debezium.connector.sqlserver.SqlServerOffsetContext;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

public class DebeziumOffsets {
    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        props.load(System.in);
        Properties config = new Properties();
        Map<String, Object> offset = new HashMap<>();
        for (String key : props.stringPropertyNames()) {
            if (key.startsWith("offset.")) offset.put(key.substring("offset.".length()), props.getProperty(key));
            else config.setProperty(key, props.getProperty(key));
        }
        SqlServerConnectorConfig connectorConfig = new SqlServerConnectorConfig(Configuration.from(config));
        SqlServerOffsetContext context = new SqlServerOffsetContext.Loader(connectorConfig).load(offset);
        System.out.println("commit_lsn=" + context.getChangePosition().getCommitLsn());
        System.out.println("change_lsn=" + context.getChangePosition().getInTxLsn());
        System.out.println("snapshot=" + context.getSnapshot().map(Object::toString).orElse("none"));
        System.out.println("snapshot_running=" + context.isInitialSnapshotRunning());
        System.out.println("snapshot_completed=" + context.isSnapshotCompleted());
    }
}
