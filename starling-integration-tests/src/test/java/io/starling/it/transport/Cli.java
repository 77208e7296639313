package io.starling.it.transport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** Runs mosquitto_pub/mosquitto_sub (and other commands) for the transport tests. */
final class Cli {

    private Cli() {
    }

    /** Exit code and combined output of a finished command. */
    record Result(int exit, String output) {
        boolean ok() {
            return exit == 0;
        }
    }

    static Result run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("did not exit within 30 s: " + cmd);
        }
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    /** {@code mosquitto_pub -h 127.0.0.1 -p PORT -q 1 -t TOPIC -m MESSAGE} plus the extra arguments. */
    static Result pub(int port, String topic, String message, String... extra) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("mosquitto_pub", "-h", "127.0.0.1", "-p", Integer.toString(port),
                "-q", "1", "-t", topic, "-m", message));
        cmd.addAll(List.of(extra));
        return run(cmd);
    }

    /** A running {@code mosquitto_sub -v}; its output lines are collected. */
    static final class Sub implements AutoCloseable {
        final Process process;
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

        Sub(int port, String topic, String... extra) throws IOException {
            List<String> cmd = new ArrayList<>(List.of("mosquitto_sub", "-h", "127.0.0.1", "-p", Integer.toString(port),
                    "-q", "1", "-v", "-t", topic));
            cmd.addAll(List.of(extra));
            process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    for (String line = r.readLine(); line != null; line = r.readLine()) {
                        lines.add(line);
                    }
                } catch (IOException e) {
                    lines.add("read error: " + e);
                }
            }, "mosquitto_sub-reader");
            reader.setDaemon(true);
            reader.start();
        }

        String next(long seconds) throws InterruptedException {
            return lines.poll(seconds, TimeUnit.SECONDS);
        }

        @Override
        public void close() {
            process.destroy();
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
