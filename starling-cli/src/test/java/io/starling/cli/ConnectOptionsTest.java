package io.starling.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.starling.cli.client.ConnectOptions;
import io.starling.codec.ProtocolVersion;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

/** Every command that connects to a broker takes the one shared {@link ConnectOptions}; parsed only, nothing connects. */
class ConnectOptionsTest {

    /** The commands that connect to a broker, by their path under {@code starling}. */
    private static final List<String> CONNECTING = List.of("pub", "sub", "bench pub", "bench sub", "bench conn",
            "bench conn-ramp", "bench fan-in", "bench fan-out", "bench pairs", "bench shared-fan-in", "bench retained");

    /** Arguments a command needs besides the connection options to parse. */
    private static final Map<String, List<String>> REQUIRED = Map.of(
            "pub", List.of("-t", "a/b", "-m", "x"),
            "sub", List.of("-t", "a/#"));

    private static final List<String> SHARED = List.of("-h", "broker.example", "-p", "18830", "-u", "alice", "-P", "secret",
            "-V", "5", "-k", "30");

    /** The {@link ConnectOptions} a command was given, looked for among its mixins and theirs. */
    private static ConnectOptions connectOptionsOf(CommandSpec spec) {
        if (spec.userObject() instanceof ConnectOptions c) {
            return c;
        }
        for (CommandSpec mixin : spec.mixins().values()) {
            ConnectOptions c = connectOptionsOf(mixin);
            if (c != null) {
                return c;
            }
        }
        return null;
    }

    /** Every command under {@code starling} that has the connection options, by path. */
    private static Map<String, CommandLine> commandsWithConnectOptions(CommandLine cl, String path, Map<String, CommandLine> into) {
        if (connectOptionsOf(cl.getCommandSpec()) != null) {
            into.put(path, cl);
        }
        for (Map.Entry<String, CommandLine> sub : cl.getSubcommands().entrySet()) {
            commandsWithConnectOptions(sub.getValue(), path.isEmpty() ? sub.getKey() : path + " " + sub.getKey(), into);
        }
        return into;
    }

    @Test
    void everyConnectingCommandHasTheSharedOptionsAndNoOtherHas() {
        Map<String, CommandLine> found = commandsWithConnectOptions(Main.commandLine(), "", new TreeMap<>());

        assertThat(found.keySet()).containsExactlyInAnyOrderElementsOf(CONNECTING);
    }

    @Test
    void eachConnectingCommandAcceptsTheSharedOptions() {
        for (String path : CONNECTING) {
            List<String> args = new ArrayList<>(List.of(path.split(" ")));
            args.addAll(SHARED);
            args.addAll(REQUIRED.getOrDefault(path, List.of()));
            ParseResult parsed = Main.commandLine().parseArgs(args.toArray(String[]::new));
            while (parsed.hasSubcommand()) {
                parsed = parsed.subcommand();
            }

            ConnectOptions c = connectOptionsOf(parsed.commandSpec());
            assertThat(c).as(path).isNotNull();
            assertThat(c.host()).as(path).isEqualTo("broker.example");
            assertThat(c.port()).as(path).isEqualTo(18830);
            assertThat(c.username()).as(path).isEqualTo("alice");
            assertThat(c.password()).as(path).isEqualTo("secret".getBytes(StandardCharsets.UTF_8));
            assertThat(c.version()).as(path).isEqualTo(ProtocolVersion.MQTT_5);
            assertThat(c.keepAlive()).as(path).isEqualTo(30);
        }
    }

    @Test
    void theDefaultsAreTheSameForEveryCommand() {
        for (String path : CONNECTING) {
            List<String> args = new ArrayList<>(List.of(path.split(" ")));
            args.addAll(REQUIRED.getOrDefault(path, List.of()));
            ParseResult parsed = Main.commandLine().parseArgs(args.toArray(String[]::new));
            while (parsed.hasSubcommand()) {
                parsed = parsed.subcommand();
            }

            ConnectOptions c = connectOptionsOf(parsed.commandSpec());
            assertThat(c.host()).as(path).isEqualTo("127.0.0.1");
            assertThat(c.port()).as(path).isEqualTo(1883);
            assertThat(c.username()).as(path).isNull();
            assertThat(c.password()).as(path).isNull();
            assertThat(c.version()).as(path).isEqualTo(ProtocolVersion.MQTT_3_1_1);
            assertThat(c.keepAlive()).as(path).isEqualTo(60);
        }
    }

    @Test
    void eachConnectingCommandListsTheSharedOptionsInItsHelp() {
        for (String path : CONNECTING) {
            List<String> args = new ArrayList<>(List.of(path.split(" ")));
            args.add("--help");
            StringWriter out = new StringWriter();
            CommandLine cl = Main.commandLine();
            cl.setOut(new PrintWriter(out, true));

            assertThat(cl.execute(args.toArray(String[]::new))).as(path).isZero();
            assertThat(out.toString()).as(path).contains("-h=HOST", "broker host (default 127.0.0.1)", "-p=PORT",
                    "broker port (default 1883)", "-u=USER", "-P=PASSWORD", "-V=VERSION", "-k=SECONDS",
                    "keep-alive (default 60)", "--help");
        }
    }

    @Test
    void aKeepAliveOutOfRangeIsAUsageErrorForEveryCommand() {
        for (String path : List.of("pub", "sub", "bench pairs", "bench retained")) {
            List<String> args = new ArrayList<>(List.of(path.split(" ")));
            args.addAll(List.of("-p", "1", "-k", "65536"));
            args.addAll(REQUIRED.getOrDefault(path, List.of()));
            StringWriter err = new StringWriter();
            CommandLine cl = Main.commandLine();
            cl.setOut(new PrintWriter(new StringWriter(), true));
            cl.setErr(new PrintWriter(err, true));

            assertThat(cl.execute(args.toArray(String[]::new))).as(path).isEqualTo(2);
            assertThat(err.toString()).as(path).contains("-k must be 0..65535");
        }
    }

    @Test
    void benchRefusesMqtt31AsBefore() {
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setErr(new PrintWriter(err, true));

        assertThat(cl.execute("bench", "pairs", "-p", "1", "-V", "31")).isEqualTo(2);
        assertThat(err.toString()).contains("-V must be 311 or 5, not 31");
    }
}
