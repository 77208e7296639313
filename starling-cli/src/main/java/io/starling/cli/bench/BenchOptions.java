package io.starling.cli.bench;

import io.starling.cli.client.ConnectOptions;
import java.util.List;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The options every {@code starling bench} scenario takes (see docs/bench.md), the connection options included. */
public final class BenchOptions {

    /** Host, port, user, password, MQTT version, keep-alive and --help: the options shared with pub and sub. */
    @Mixin
    ConnectOptions conn;

    @Option(names = "-c", paramLabel = "CLIENTS", description = "clients: publishers, subscribers, pairs or connections, per scenario")
    Integer clients;

    @Option(names = "--publishers", paramLabel = "N", description = "publishers, where the scenario has another role for -c")
    Integer publishers;

    @Option(names = "--subscribers", paramLabel = "N", description = "subscribers, where the scenario has another role for -c")
    Integer subscribers;

    @Option(names = "-q", paramLabel = "QOS", defaultValue = "0",
            description = "QoS of publishes and subscriptions (default ${DEFAULT-VALUE})")
    int qos;

    @Option(names = "-s", paramLabel = "BYTES", defaultValue = "64",
            description = "payload size, at least 8: the first 8 bytes carry the send time (default ${DEFAULT-VALUE})")
    int payloadSize;

    @Option(names = "-t", paramLabel = "TEMPLATE", description = "topic template (filter for 'sub'); %%i is the client index")
    String topic;

    @Option(names = "--filter", paramLabel = "TEMPLATE", description = "subscription filter template (default from the topic)")
    String filter;

    @Option(names = "--rate", paramLabel = "N", defaultValue = "0",
            description = "messages per second per publisher, 0 = flat out (default ${DEFAULT-VALUE})")
    double rate;

    @Option(names = "--inflight", paramLabel = "N", defaultValue = "1",
            description = "unacknowledged QoS 1/2 messages per publisher, 1..65535 (default ${DEFAULT-VALUE})")
    int inflight;

    @Option(names = "--duration", paramLabel = "S", defaultValue = "10",
            description = "measured window in seconds (default ${DEFAULT-VALUE})")
    double duration;

    @Option(names = "--warmup", paramLabel = "S", defaultValue = "2",
            description = "seconds of load before the window opens (default ${DEFAULT-VALUE})")
    double warmup;

    @Option(names = "--ifaddr", paramLabel = "ADDR", split = ",",
            description = "local source addresses, used round-robin (e.g. 127.0.0.1,127.0.0.2)")
    List<String> ifaddr;

    @Option(names = "--connect-rate", paramLabel = "N", description = "connections per second (default: as fast as possible, "
            + "1000 handshakes at a time; conn-ramp: 1000)")
    Double connectRate;

    @Option(names = "--json", description = "print the summary as one JSON object on stdout (progress goes to stderr)")
    boolean json;

    @Option(names = "--session-expiry", paramLabel = "S", defaultValue = "0",
            description = "0: clean sessions (default); otherwise sessions that outlive their connections: 5.0 Session "
                    + "Expiry Interval S, 3.1.1 Clean Session 0")
    long sessionExpiry;

    @Option(names = "--prefix", paramLabel = "PREFIX", description = "client identifier prefix (default bench-PID)")
    String prefix;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "1", description = "event loop threads (default ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--quiet", description = "no progress lines")
    boolean quiet;
}
