package io.starling.cli.bench;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code starling bench}: a load generator for any MQTT broker. See docs/bench.md. */
@Command(name = "bench", description = "Load generator for any MQTT broker (see docs/bench.md)",
        synopsisSubcommandLabel = "SCENARIO",
        subcommands = {BenchCommand.Pub.class, BenchCommand.Sub.class, BenchCommand.Conn.class, BenchCommand.FanIn.class,
            BenchCommand.FanOut.class, BenchCommand.Pairs.class, BenchCommand.SharedFanIn.class, BenchCommand.ConnRamp.class,
            BenchCommand.Retained.class})
public final class BenchCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Option(names = "--help", usageHelp = true, description = "show this help")
    boolean help;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "a scenario is required: pub, sub, conn, fan-in, fan-out, pairs, "
                + "shared-fan-in, conn-ramp or retained");
    }

    /** A scenario: its plan from the options, then a {@link BenchRun}. */
    abstract static class Scenario implements Callable<Integer> {

        @Spec
        CommandSpec spec;

        @Mixin
        BenchOptions opts;

        abstract Plan plan(BenchOptions o);

        static int or(Integer value, int fallback) {
            return value != null ? value : fallback;
        }

        static String or(String value, String fallback) {
            return value != null ? value : fallback;
        }

        @Override
        public Integer call() throws InterruptedException {
            PrintWriter err = spec.commandLine().getErr();
            BenchRun run;
            try {
                run = new BenchRun(opts, plan(opts), spec.commandLine().getOut(), err);
            } catch (IllegalArgumentException e) {
                err.println("starling bench: " + e.getMessage());
                return 2;
            }
            return run.run();
        }
    }

    @Command(name = "pub", description = "Publishers only (default -c 10, -t bench/%%i)")
    static final class Pub extends Scenario {
        @Override
        Plan plan(BenchOptions o) {
            return new Plan("pub", or(o.clients, 10), or(o.topic, "bench/%i"), 0, null, 0, -1, true);
        }
    }

    @Command(name = "sub", description = "Subscribers only (default -c 10, -t bench/#); counted by arrival time")
    static final class Sub extends Scenario {
        @Override
        Plan plan(BenchOptions o) {
            return new Plan("sub", 0, null, or(o.clients, 10), or(o.filter, or(o.topic, "bench/#")), 0, -1, false);
        }
    }

    @Command(name = "conn", description = "Connections that connect and stay idle (default -c 1000)")
    static final class Conn extends Scenario {
        @Override
        Plan plan(BenchOptions o) {
            return new Plan("conn", 0, null, 0, null, or(o.clients, 1000), -1, false);
        }
    }

    @Command(name = "conn-ramp", description = "Connections opened at --connect-rate (default 1000/s), then idle (default -c 1000)")
    static final class ConnRamp extends Scenario {
        @Override
        Plan plan(BenchOptions o) {
            return new Plan("conn-ramp", 0, null, 0, null, or(o.clients, 1000), -1, false);
        }
    }

    @Command(name = "fan-in", description = "-c publishers (default 100) on bench/fan-in/%%i -> --subscribers (default 1) on "
            + "bench/fan-in/+")
    static final class FanIn extends Scenario {
        @Override
        Plan plan(BenchOptions o) {
            String topic = or(o.topic, "bench/fan-in/%i");
            int subs = or(o.subscribers, 1);
            return new Plan("fan-in", or(o.publishers, or(o.clients, 100)), topic, subs, or(o.filter, Plan.wildcardOf(topic)), 0,
                    subs, true);
        }
    }

    @Command(name = "fan-out", description = "--publishers (default 1) on bench/fan-out -> -c subscribers (default 500)")
    static final class FanOut extends Scenario {
        @Override
        Plan plan(BenchOptions o) {
            String topic = or(o.topic, "bench/fan-out");
            int subs = or(o.subscribers, or(o.clients, 500));
            return new Plan("fan-out", or(o.publishers, 1), topic, subs, or(o.filter, Plan.wildcardOf(topic)), 0, subs, true);
        }
    }

    @Command(name = "pairs", description = "-c publisher/subscriber pairs (default 50): publisher i -> subscriber i on bench/pairs/%%i")
    static final class Pairs extends Scenario {
        @Override
        Plan plan(BenchOptions o) {
            int n = or(o.clients, 50);
            String topic = or(o.topic, "bench/pairs/%i");
            return new Plan("pairs", n, topic, n, or(o.filter, topic), 0, 1, true);
        }
    }

    @Command(name = "shared-fan-in", description = "-c publishers (default 100) on bench/shared/%%i -> --subscribers (default 4) "
            + "sharing $share/bench/bench/shared/+")
    static final class SharedFanIn extends Scenario {
        @Override
        Plan plan(BenchOptions o) {
            String topic = or(o.topic, "bench/shared/%i");
            return new Plan("shared-fan-in", or(o.publishers, or(o.clients, 100)), topic, or(o.subscribers, 4),
                    or(o.filter, "$share/bench/" + Plan.wildcardOf(topic)), 0, 1, true);
        }
    }

    @Command(name = "retained", description = "-c publishers (default 4) retain --messages messages on distinct topics "
            + "(-t, default bench/retained/%%i/%%n), then --subscribers (default 1) subscribe to --filter (default "
            + "bench/retained/#) and are timed until each has them all; counted, not timed by --duration")
    static final class Retained implements Callable<Integer> {

        @Spec
        CommandSpec spec;

        @Mixin
        BenchOptions opts;

        @Option(names = "--messages", paramLabel = "N", defaultValue = "100000",
                description = "retained messages to publish, and to wait for per subscriber (default ${DEFAULT-VALUE})")
        long messages;

        @Override
        public Integer call() throws InterruptedException {
            PrintWriter err = spec.commandLine().getErr();
            RetainedRun run;
            try {
                run = new RetainedRun(opts, messages, Scenario.or(opts.publishers, Scenario.or(opts.clients, 4)),
                        Scenario.or(opts.subscribers, 1), spec.commandLine().getOut(), err);
            } catch (IllegalArgumentException e) {
                err.println("starling bench: " + e.getMessage());
                return 2;
            }
            return run.run();
        }
    }
}
