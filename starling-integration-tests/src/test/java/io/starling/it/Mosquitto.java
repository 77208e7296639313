package io.starling.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** Runs {@code mosquitto_pub} and {@code mosquitto_sub} (Debian's, from /usr/bin). */
public final class Mosquitto {

    /** Output format of the subscribers: QoS, retain flag, topic, payload. */
    public static final String FORMAT = "%q %r %t %p";

    private Mosquitto() {
    }

    /** {@code -V} argument for a protocol level (3, 4, 5). */
    public static String version(int protocolLevel) {
        return switch (protocolLevel) {
            case 3 -> "mqttv31";
            case 4 -> "mqttv311";
            case 5 -> "mqttv5";
            default -> throw new IllegalArgumentException("protocol level " + protocolLevel);
        };
    }

    /** Common arguments: version, host, port. */
    public static List<String> base(String command, int protocolLevel, BrokerExtension broker) {
        List<String> args = new ArrayList<>();
        args.add("/usr/bin/" + command);
        args.add("-V");
        args.add(version(protocolLevel));
        args.add("-h");
        args.add(broker.host());
        args.add("-p");
        args.add(Integer.toString(broker.port()));
        return args;
    }

    /** Runs {@code mosquitto_pub} with the extra arguments and fails unless it exits 0 within 20 s. */
    public static void pub(int protocolLevel, BrokerExtension broker, String... extra) throws IOException, InterruptedException {
        List<String> args = base("mosquitto_pub", protocolLevel, broker);
        args.addAll(List.of(extra));
        Process p = new ProcessBuilder(args).redirectErrorStream(true).start();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("mosquitto_pub did not exit: " + args);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new AssertionError("mosquitto_pub exited " + p.exitValue() + ": " + args + "\n" + out);
        }
    }

    /** A running {@code mosquitto_sub}; its lines are parsed into {@link Msg}s (with {@link #FORMAT}). */
    public static final class Sub implements AutoCloseable {
        private final Process process;
        private final BlockingQueue<Msg> messages;
        private final BlockingQueue<String> otherLines = new LinkedBlockingQueue<>();
        private final Thread reader;

        private Sub(Process process, BlockingQueue<Msg> messages) {
            this.process = process;
            this.messages = messages;
            this.reader = new Thread(this::readLines, "mosquitto_sub-reader");
            reader.setDaemon(true);
            reader.start();
        }

        /** Starts {@code mosquitto_sub} with {@code -F FORMAT} and the extra arguments. */
        public static Sub start(int protocolLevel, BrokerExtension broker, BlockingQueue<Msg> sink, List<String> extra)
                throws IOException {
            List<String> args = base("mosquitto_sub", protocolLevel, broker);
            args.add("-F");
            args.add(FORMAT);
            args.addAll(extra);
            Process p = new ProcessBuilder(args).redirectErrorStream(true).start();
            return new Sub(p, sink);
        }

        private void readLines() {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    String[] parts = line.split(" ", 4);
                    if (parts.length >= 3 && parts[0].matches("[012]") && parts[1].matches("[01]")) {
                        String payload = parts.length == 4 ? parts[3] : "";
                        messages.add(new Msg(parts[2], payload.getBytes(StandardCharsets.UTF_8),
                                Integer.parseInt(parts[0]), "1".equals(parts[1])));
                    } else {
                        otherLines.add(line);
                    }
                }
            } catch (IOException e) {
                // process ended
            }
        }

        public Process process() {
            return process;
        }

        /** Lines that were not messages (errors). */
        public BlockingQueue<String> otherLines() {
            return otherLines;
        }

        /** Waits for the process to exit on its own; returns its exit code. */
        public int awaitExit(long seconds) throws InterruptedException {
            if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
                throw new AssertionError("mosquitto_sub still running after " + seconds + " s");
            }
            reader.join(5_000);
            return process.exitValue();
        }

        /** SIGKILL: the TCP connection drops without DISCONNECT. */
        public void kill() throws InterruptedException {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }

        /** SIGTERM: mosquitto_sub disconnects cleanly. */
        @Override
        public void close() {
            process.destroy();
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
    }
}
