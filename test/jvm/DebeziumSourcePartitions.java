// The source partitions the installed Debezium plugins store a connector's offsets under, asked of the
// plugin's own partition providers the way its connector task asks them. Run as a single-file program against
// a plugin's jars:
//
//   java -cp "$CDC_CONNECT_PLUGINS/debezium-connector-postgres/*:$CDC_KAFKA_LIBS/*" \
//     test/jvm/DebeziumSourcePartitions.java postgres < connector.properties
//
// stdin: Java properties, the connector's config. Prints each partition's keys and values as key=value lines,
// sorted, one partition after another separated by a blank line.
import io.debezium.config.Configuration;
import io.debezium.pipeline.spi.Partition;
import java.lang.reflect.Constructor;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;

public class DebeziumSourcePartitions {
    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: DebeziumSourcePartitions sqlserver|postgres < config.properties");
            System.exit(2);
        }
        Properties props = new Properties();
        props.load(System.in);
        Configuration config = Configuration.from(props);
        Object provider;
        // The providers are package-private: the connector task builds them; each plugin runs on its own
        // class path, so its classes are loaded by name.
        switch (args[0]) {
            case "sqlserver": {
                Class<?> configClass = Class.forName("io.debezium.connector.sqlserver.SqlServerConnectorConfig");
                Object connectorConfig = configClass.getConstructor(Configuration.class).newInstance(config);
                Constructor<?> c = Class.forName("io.debezium.connector.sqlserver.SqlServerPartition$Provider")
                        .getDeclaredConstructor(configClass);
                c.setAccessible(true);
                provider = c.newInstance(connectorConfig);
                break;
            }
            case "postgres": {
                Class<?> configClass = Class.forName("io.debezium.connector.postgresql.PostgresConnectorConfig");
                Object connectorConfig = configClass.getConstructor(Configuration.class).newInstance(config);
                Constructor<?> c = Class.forName("io.debezium.connector.postgresql.PostgresPartition$Provider")
                        .getDeclaredConstructor(configClass, Configuration.class);
                c.setAccessible(true);
                provider = c.newInstance(connectorConfig, config);
                break;
            }
            default:
                throw new IllegalArgumentException("engine must be sqlserver or postgres, got " + args[0]);
        }
        @SuppressWarnings("unchecked")
        Set<? extends Partition> partitions = ((Partition.Provider<? extends Partition>) provider).getPartitions();
        for (Partition partition : partitions) {
            for (Map.Entry<String, String> e : new TreeMap<>(partition.getSourcePartition()).entrySet()) {
                System.out.println(e.getKey() + "=" + e.getValue());
            }
            System.out.println();
        }
    }
}
