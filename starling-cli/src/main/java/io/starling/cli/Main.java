package io.starling.cli;

import io.starling.cli.bench.BenchCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code starling} command. With no subcommand it runs the broker with its embedded defaults. */
@Command(name = "starling", mixinStandardHelpOptions = true, version = "Starling 0.1.0",
        description = "Starling MQTT broker",
        subcommands = {BrokerCommand.class, PubCommand.class, SubCommand.class, PasswdCommand.class, BenchCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        int code = new CommandLine(new Main()).execute(args);
        if (code != 0) {
            System.exit(code);
        }
    }

    @Override
    public void run() {
        new BrokerCommand().call();
    }
}
