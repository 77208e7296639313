package io.starling.cli;

import io.starling.cli.client.ClientException;
import io.starling.cli.client.ConnectOptions;
import io.starling.cli.client.MqttClient;
import io.starling.cli.client.Transport;
import io.starling.codec.packet.ConnectPacket;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code starling pub}: publish one message (or one per line of stdin), like mosquitto_pub. */
@Command(name = "pub", description = "Publish a message, like mosquitto_pub",
        footer = {"", "Exit status: 0 sent (and acknowledged for QoS 1/2), 1 network error, 2 usage error,",
            "3 refused by the broker (CONNACK, PUBACK/PUBREC or DISCONNECT with an error)."})
public final class PubCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    ConnectOptions conn;

    @Mixin
    ClientOptions opts;

    @Option(names = "-t", paramLabel = "TOPIC", required = true, description = "topic to publish to")
    String topic;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Message message;

    static final class Message {
        @Option(names = "-m", paramLabel = "MESSAGE", description = "message payload")
        String text;

        @Option(names = "-f", paramLabel = "FILE", description = "send the contents of a file as the message")
        Path file;

        @Option(names = "-n", description = "send an empty (null) message")
        boolean empty;

        @Option(names = "-s", description = "read the message from stdin, all of it")
        boolean stdin;

        @Option(names = "-l", description = "read stdin, send one message per line")
        boolean lines;
    }

    @Option(names = "-q", paramLabel = "QOS", description = "QoS 0, 1 or 2 (default ${DEFAULT-VALUE})", defaultValue = "0")
    int qos;

    @Option(names = "-r", description = "retain the message")
    boolean retain;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        ConnectPacket connect;
        try {
            if (qos < 0 || qos > 2) {
                throw new IllegalArgumentException("-q must be 0, 1 or 2");
            }
            connect = opts.connectPacket(conn, "pub");
        } catch (IllegalArgumentException e) {
            err.println("starling pub: " + e.getMessage());
            return 2;
        }
        try (Transport transport = Transport.forOneConnection();
                MqttClient client = MqttClient.connect(transport, conn.host(), conn.port(), connect, opts.timeoutMillis)) {
            if (opts.debug) {
                err.println("connected to " + conn.host() + ":" + conn.port() + " as " + connect.clientId());
            }
            if (message.lines) {
                BufferedReader r = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    client.publish(topic, line.getBytes(StandardCharsets.UTF_8), qos, retain);
                }
            } else {
                client.publish(topic, payload(), qos, retain);
            }
            return 0;
        } catch (ClientException e) {
            err.println("starling pub: " + e.getMessage());
            return e.exitCode();
        } catch (IOException e) {
            err.println("starling pub: " + e);
            return 1;
        }
    }

    private byte[] payload() throws IOException {
        if (message.text != null) {
            return message.text.getBytes(StandardCharsets.UTF_8);
        }
        if (message.file != null) {
            return Files.readAllBytes(message.file);
        }
        if (message.stdin) {
            return System.in.readAllBytes();
        }
        return new byte[0];
    }
}
