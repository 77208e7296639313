package io.starling.cli;

import io.starling.cli.bench.BenchCommand;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code starling} command. With no subcommand it runs the broker with its embedded defaults. */
@Command(name = "starling", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Starling MQTT broker")
public final class Main implements Callable<Integer> {

    /** The subcommands, in the order {@code starling --help} lists them. */
    private static final Map<String, Supplier<Object>> SUBCOMMANDS = subcommands();

    private static Map<String, Supplier<Object>> subcommands() {
        Map<String, Supplier<Object>> m = new LinkedHashMap<>();
        m.put("broker", BrokerCommand::new);
        m.put("pub", PubCommand::new);
        m.put("sub", SubCommand::new);
        m.put("passwd", PasswdCommand::new);
        m.put("bench", BenchCommand::new);
        m.put("version", VersionCommand::new);
        return m;
    }

    public static void main(String[] args) {
        int code = commandLine(args).execute(args);
        // A client command ends the process as soon as it is done: threads that outlive it (Netty's global executor
        // waits a second for more work before it ends) would otherwise hold the exit back. A broker that ran has
        // returned from its shutdown hook, where the process is ending already.
        if (code != 0 || !BrokerCommand.ran()) {
            System.exit(code);
        }
    }

    /**
     * The command line that runs {@code args}. picocli builds the model of every registered command by reflection
     * before it parses anything, and the bench commands alone take longer than a whole {@code pub}: when the first
     * argument names a subcommand, only that one is registered; otherwise (no subcommand, an option such as
     * {@code --help}, a mistyped name) all of them are.
     */
    public static CommandLine commandLine(String... args) {
        CommandLine cl = new CommandLine(new Main());
        Supplier<Object> named = args.length > 0 ? SUBCOMMANDS.get(args[0]) : null;
        if (named != null) {
            cl.addSubcommand(args[0], named.get());
        } else {
            SUBCOMMANDS.forEach((name, command) -> cl.addSubcommand(name, command.get()));
        }
        return cl;
    }

    /** No subcommand: the broker, with its exit status (a broker that cannot start exits with 1 or 2). */
    @Override
    public Integer call() {
        return new BrokerCommand().call();
    }
}
