// The change topics the installed Debezium plugins themselves compute, asked of the plugin's own classes
// the way its connector task asks them. Run as a single-file program against a plugin's jars:
//
//   java -cp "$CDC_CONNECT_PLUGINS/debezium-connector-sqlserver/*:$CDC_KAFKA_LIBS/*" \
//     test/jvm/DebeziumTopicNames.java sqlserver < connector.properties
//
// stdin: Java properties (unicode escapes keep any name intact): the connector's config, and the tables as
// topic-names.table.<i>.schema / topic-names.table.<i>.name from 0 up. Prints one topic per table, a line
// each, in that order (Debezium's topic names are ASCII).
import io.debezium.config.CommonConnectorConfig;
import io.debezium.config.Configuration;
import io.debezium.relational.TableId;
import io.debezium.spi.topic.TopicNamingStrategy;
import java.util.Properties;

public class DebeziumTopicNames {
    private static CommonConnectorConfig connectorConfig(String className, Configuration config) throws Exception {
        return (CommonConnectorConfig) Class.forName(className).getConstructor(Configuration.class).newInstance(config);
    }

    @SuppressWarnings("unchecked")
    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: DebeziumTopicNames sqlserver|postgres < config.properties");
            System.exit(2);
        }
        Properties props = new Properties();
        props.load(System.in);
        Configuration config = Configuration.from(props);
        String engine = args[0];
        TopicNamingStrategy<TableId> strategy;
        String catalog;
        // Each plugin runs on its own class path, so its config class is loaded by name.
        switch (engine) {
            case "sqlserver": {
                // SqlServerConnectorTask.start builds its strategy in multi-partition mode, one partition
                // per entry of database.names; its table ids carry the database as the catalog.
                CommonConnectorConfig connector = connectorConfig("io.debezium.connector.sqlserver.SqlServerConnectorConfig", config);
                strategy = connector.getTopicNamingStrategy(CommonConnectorConfig.TOPIC_NAMING_STRATEGY, true);
                catalog = config.getString("database.names").split(",")[0].trim();
                break;
            }
            case "postgres": {
                CommonConnectorConfig connector = connectorConfig("io.debezium.connector.postgresql.PostgresConnectorConfig", config);
                strategy = connector.getTopicNamingStrategy(CommonConnectorConfig.TOPIC_NAMING_STRATEGY);
                // The PostgreSQL connector's table ids have no catalog.
                catalog = null;
                break;
            }
            default:
                throw new IllegalArgumentException("engine must be sqlserver or postgres, got " + engine);
        }
        for (int i = 0; props.containsKey("topic-names.table." + i + ".schema"); i++) {
            String schema = props.getProperty("topic-names.table." + i + ".schema");
            String table = props.getProperty("topic-names.table." + i + ".name");
            System.out.println(strategy.dataChangeTopic(new TableId(catalog, schema, table)));
        }
    }
}
