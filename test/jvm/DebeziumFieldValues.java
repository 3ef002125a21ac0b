// The settings of an installed Debezium plugin that take one of a fixed set of values, as the plugin's own
// fields declare them (Field.allowedValues). Run as a single-file program against the plugin's jars:
//
//   java -cp "$CDC_CONNECT_PLUGINS/debezium-connector-jdbc/*:$CDC_KAFKA_LIBS/*" \
//     test/jvm/DebeziumFieldValues.java io.debezium.connector.jdbc.JdbcSinkConnectorConfig
//
// Prints one line per such field, sorted: name=value,value,... (the values sorted).
import io.debezium.config.Field;
import java.util.TreeMap;
import java.util.TreeSet;

public class DebeziumFieldValues {
    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: DebeziumFieldValues <connector config class>");
            System.exit(2);
        }
        Field.Set fields = (Field.Set) Class.forName(args[0]).getField("ALL_FIELDS").get(null);
        TreeMap<String, String> enumerated = new TreeMap<>();
        for (Field field : fields) {
            if (!field.allowedValues().isEmpty()) {
                TreeSet<String> values = new TreeSet<>();
                for (Object value : field.allowedValues()) values.add(String.valueOf(value));
                enumerated.put(field.name(), String.join(",", values));
            }
        }
        enumerated.forEach((name, values) -> System.out.println(name + "=" + values));
    }
}
