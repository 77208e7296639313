package io.starling.store.rocksdb;

import io.starling.broker.config.BrokerConfig.Fsync;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.starling.broker.message.Message;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Kills a process that writes through the store (SIGKILL, in the middle of group commits) several times, and
 * checks after each kill that every write whose whenDurable action ran is in the database. Both fsync modes
 * promise this: a killed process loses nothing that was acknowledged.
 */
class CrashTest {

    @TempDir
    Path dir;

    static byte[] key(long n) {
        return String.format("%012d", n).getBytes(StandardCharsets.US_ASCII);
    }

    @ParameterizedTest
    @EnumSource(Fsync.class)
    void acknowledgedWritesSurviveSigkill(Fsync mode) throws Exception {
        Path dataDir = dir.resolve("data");
        long next = 0;
        for (int cycle = 0; cycle < 3; cycle++) {
            Path acked = dir.resolve("acked-" + cycle);
            Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx128m", "-cp", System.getProperty("java.class.path"), CrashChild.class.getName(),
                    dataDir.toString(), mode.configValue(), acked.toString(), Long.toString(next))
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("child-" + cycle + ".log").toFile())
                    .start();
            try {
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
                        .until(() -> !child.isAlive() || ackedNumbers(acked).size() >= 500);
                Path log = dir.resolve("child-" + cycle + ".log");
                assertThat(child.isAlive()).as("child still running; its log: %s", Files.exists(log) ? Files.readString(log) : "")
                        .isTrue();
                Thread.sleep(ThreadLocalRandom.current().nextInt(100)); // a random kill point, not a wait
            } finally {
                child.destroyForcibly();
                child.waitFor(30, TimeUnit.SECONDS);
            }
            List<Long> numbers = ackedNumbers(acked);
            assertThat(numbers).hasSizeGreaterThanOrEqualTo(500);
            long last = numbers.stream().mapToLong(Long::longValue).max().orElseThrow();
            try (RocksDbStore store = RocksDbStore.open(dataDir)) {
                List<Long> missing = new ArrayList<>();
                for (long n : numbers) {
                    if (store.get(KeySpace.MESSAGES, key(n)) == null) {
                        missing.add(n);
                    }
                }
                assertThat(missing).as("acknowledged but lost after SIGKILL (cycle %d, fsync %s)", cycle, mode).isEmpty();
                // each retained topic holds an acknowledged number or a later one
                List<Message> retained = Retained.match(store.retained(), "crash/#");
                assertThat(retained).hasSize(16);
                for (Message m : retained) {
                    long n = Long.parseLong(new String(m.payload(), StandardCharsets.US_ASCII));
                    int topic = Integer.parseInt(m.topic().substring("crash/".length()));
                    long lastAckedOfTopic = numbers.stream().filter(x -> x % 16 == topic).mapToLong(Long::longValue).max().orElse(-1);
                    assertThat(n).as("retained crash/%d", topic).isGreaterThanOrEqualTo(lastAckedOfTopic);
                }
            }
            next = last + 1_000_000;
        }
    }

    /** The numbers in the acked file; a last line cut off by the kill is ignored. */
    private static List<Long> ackedNumbers(Path acked) throws Exception {
        List<Long> out = new ArrayList<>();
        if (!Files.exists(acked)) {
            return out;
        }
        String text = Files.readString(acked, StandardCharsets.US_ASCII);
        int end = text.lastIndexOf('\n');
        if (end < 0) {
            return out;
        }
        for (String line : text.substring(0, end).split("\n")) {
            out.add(Long.parseLong(line));
        }
        return out;
    }
}
