package io.starling.cli;

import io.starling.cli.client.ClientException;
import io.starling.cli.client.ConnectOptions;
import io.starling.cli.client.MqttClient;
import io.starling.cli.client.Transport;
import io.starling.codec.ReasonCode;
import io.starling.codec.packet.ConnectPacket;
import io.starling.codec.packet.PublishPacket;
import io.starling.codec.packet.TopicSubscription;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code starling sub}: subscribe and print messages, like mosquitto_sub. */
@Command(name = "sub", description = "Subscribe and print messages, like mosquitto_sub",
        footer = {"", "Exit status: 0 done (-C count reached), 1 network error or connection lost, 2 usage error,",
            "3 refused by the broker (CONNACK or SUBACK with an error, DISCONNECT), 27 -W timeout."})
public final class SubCommand implements Callable<Integer> {

    /** Exit status when -W expires, as mosquitto_sub. */
    static final int TIMED_OUT = 27;

    @Spec
    CommandSpec spec;

    @Mixin
    ConnectOptions conn;

    @Mixin
    ClientOptions opts;

    @Option(names = "-t", paramLabel = "FILTER", required = true, description = "topic filter (repeatable)")
    List<String> filters;

    @Option(names = "-q", paramLabel = "QOS", description = "maximum QoS of the subscription (default ${DEFAULT-VALUE})",
            defaultValue = "0")
    int qos;

    @Option(names = "-C", paramLabel = "COUNT", description = "exit after COUNT messages")
    Integer count;

    @Option(names = "-v", description = "print the topic before the payload")
    boolean verbose;

    @Option(names = "-W", paramLabel = "SECONDS", description = "exit with status 27 after SECONDS")
    Integer timeoutSeconds;

    @Option(names = "-R", description = "do not print retained messages (stale ones)")
    boolean noRetained;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ConnectPacket connect;
        try {
            if (qos < 0 || qos > 2) {
                throw new IllegalArgumentException("-q must be 0, 1 or 2");
            }
            connect = opts.connectPacket(conn, "sub");
        } catch (IllegalArgumentException e) {
            err.println("starling sub: " + e.getMessage());
            return 2;
        }
        BlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
        try (Transport transport = Transport.forOneConnection();
                MqttClient client = MqttClient.connect(transport, conn.host(), conn.port(), connect, opts.timeoutMillis)) {
            client.onMessage(inbox::add);
            client.closedFuture().thenAccept(inbox::add);
            List<TopicSubscription> subs = new ArrayList<>();
            for (String f : filters) {
                subs.add(TopicSubscription.of(f, qos));
            }
            List<ReasonCode> codes = client.subscribe(subs);
            for (int i = 0; i < codes.size(); i++) {
                if (codes.get(i).isError()) {
                    err.println("starling sub: subscription to " + filters.get(i) + " refused: " + MqttClient.describe(codes.get(i)));
                    return ClientException.REFUSED;
                }
            }
            if (opts.debug) {
                err.println("subscribed to " + String.join(", ", filters) + " (granted " + codes + ")");
                err.flush();
            }
            return receive(inbox, out, err);
        } catch (ClientException e) {
            err.println("starling sub: " + e.getMessage());
            return e.exitCode();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        } finally {
            out.flush();
        }
    }

    private int receive(BlockingQueue<Object> inbox, PrintWriter out, PrintWriter err) throws InterruptedException {
        long deadline = timeoutSeconds == null ? Long.MAX_VALUE : System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        int received = 0;
        while (count == null || received < count) {
            long left = deadline - System.nanoTime();
            Object item = timeoutSeconds == null ? inbox.take() : inbox.poll(Math.max(0, left), TimeUnit.NANOSECONDS);
            if (item == null) {
                err.println("starling sub: timed out after " + timeoutSeconds + " s");
                return TIMED_OUT;
            }
            if (item instanceof String reason) {
                err.println("starling sub: " + reason);
                return reason.startsWith("DISCONNECT") ? ClientException.REFUSED : ClientException.NETWORK;
            }
            PublishPacket p = (PublishPacket) item;
            if (noRetained && p.retain()) {
                continue;
            }
            String payload = new String(p.payload(), StandardCharsets.UTF_8);
            out.println(verbose ? p.topic() + " " + payload : payload);
            out.flush();
            received++;
        }
        return 0;
    }
}
