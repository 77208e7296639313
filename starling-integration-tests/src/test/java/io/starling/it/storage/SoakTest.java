package io.starling.it.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.starling.it.reliability.FaultyDisk;
import io.starling.it.BrokerProcess;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.assertj.core.api.SoftAssertions;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The soak run of {@code bench/soak.sh}, not part of the test suite (it runs only when {@code soak.minutes} is set):
 * the packaged broker in a child process with its data directory on a small tmpfs, for the given number of minutes
 * of mixed load — QoS 1 and QoS 2 publishers to persistent subscribers that are online, offline and reconnecting,
 * clean-session traffic, subscribers that never read, take-over churn, garbage and mutated packets — with faults
 * injected: SIGKILL and restart, the disk filled and freed. In the second half the broker is not killed, and its heap
 * (after a full GC) and resident memory are sampled every minute. At the end every message whose PUBACK or PUBREC a
 * publisher received must have reached every persistent subscriber (QoS 2 exactly once), and the figures are written
 * to {@code target/soak-summary.txt} for docs/benchmarks.md.
 */
class SoakTest {

    private static final Logger LOG = LoggerFactory.getLogger(SoakTest.class);
    private static final Path JAR = BrokerProcess.JAR;
    private static final String Q1 = "soak/q1";
    /** Messages per second of each persistent publisher. */
    private static final int RATE = 1000;
    private static final String Q2 = "soak/q2";

    @TempDir(cleanup = CleanupMode.ON_SUCCESS)
    Path dir;

    private Process broker;
    private int port;
    private Path dataDir;
    private final List<CrashClient> clients = new ArrayList<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    /** Counted down when the soak ends: the load's pauses end with it. */
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final List<Thread> threads = new ArrayList<>();
    private final List<String> summary = new ArrayList<>();

    private static int minutes() {
        String v = System.getProperty("soak.minutes", "");
        return v.isBlank() || v.startsWith("${") ? 0 : Integer.parseInt(v.trim());
    }

    @AfterEach
    void tearDown() throws Exception {
        stopSoak();
        clients.forEach(CrashClient::stop);
        for (Thread t : threads) {
            t.join(5_000);
        }
        if (broker != null) {
            broker.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private void startBroker() throws IOException {
        Path config = dir.resolve("starling.yaml");
        Files.writeString(config, String.join("\n",
                "bind: 127.0.0.1",
                "port: " + port,
                "data-dir: " + dataDir,
                "storage: rocksdb",
                "fsync: always",
                "max-queued-messages: 1000000",
                "max-queued-bytes: 1000000000",
                "flapping-max-connects: 0", // the churn bursts take sessions over, they are not banned
                ""), StandardCharsets.UTF_8);
        broker = BrokerProcess.start(dir, config, port, Duration.ofSeconds(120), "-Xms256m", "-Xmx512m", "-XX:+UseParallelGC");
    }

    private CrashClient client(String id) {
        CrashClient c = new CrashClient(id, port);
        clients.add(c);
        return c;
    }

    private void background(String name, Runnable body) {
        Thread t = new Thread(() -> {
            while (running.get()) {
                try {
                    body.run();
                } catch (RuntimeException e) {
                    LOG.debug("{}: {}", name, e.toString());
                }
            }
        }, name);
        t.setDaemon(true);
        threads.add(t);
        t.start();
    }

    private void stopSoak() {
        running.set(false);
        stopped.countDown();
    }

    /**
     * The pacing of the load (a stalled client's PINGREQ every 20 s, the disk full for 30 s, one tick of the main
     * loop a second): waits {@code millis}, or less if the soak ends meanwhile.
     */
    private void pause(long millis) {
        try {
            stopped.await(millis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Sends bytes and reads whatever comes back for a moment; the broker may close the socket. */
    private void exchange(byte[] bytes, long readMillis) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            s.setSoTimeout((int) readMillis);
            OutputStream out = s.getOutputStream();
            out.write(bytes);
            out.flush();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[4096];
            while (in.read(buf) >= 0) {
                // discard
            }
        } catch (IOException e) {
            // closed by the broker, timed out, or the broker is down
        }
    }

    private static byte[] packet(int first, byte[]... parts) {
        int len = 0;
        for (byte[] p : parts) {
            len += p.length;
        }
        java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
        o.write(first);
        int l = len;
        do {
            int d = l % 128;
            l /= 128;
            o.write(l > 0 ? d | 0x80 : d);
        } while (l > 0);
        for (byte[] p : parts) {
            o.writeBytes(p);
        }
        return o.toByteArray();
    }

    private static byte[] str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return java.nio.ByteBuffer.allocate(b.length + 2).putShort((short) b.length).put(b).array();
    }

    private static byte[] connect5(String clientId, int flags, long expiry) {
        byte[] props = expiry == 0 ? new byte[] {0}
                : java.nio.ByteBuffer.allocate(6).put((byte) 5).put((byte) 0x11).putInt((int) expiry).array();
        return packet(0x10, str("MQTT"), new byte[] {5, (byte) flags, 0, 30}, props, str(clientId));
    }

    private static byte[] cat(byte[]... parts) {
        java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) {
            o.writeBytes(p);
        }
        return o.toByteArray();
    }

    /** Resident memory of the broker process, in MiB, from /proc. */
    private long rssMib() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(broker.pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
            }
        }
        return -1;
    }

    /** Heap in use right after a full GC of the broker process, in MiB (jcmd). */
    private long heapAfterGcMib() throws Exception {
        String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
        String pid = Long.toString(broker.pid());
        new ProcessBuilder(jcmd, pid, "GC.run").redirectErrorStream(true).start().waitFor(60, TimeUnit.SECONDS);
        Process p = new ProcessBuilder(jcmd, pid, "GC.heap_info").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(60, TimeUnit.SECONDS);
        long usedK = 0;
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("used (\\d+)K").matcher(out);
        while (m.find()) {
            usedK += Long.parseLong(m.group(1));
        }
        return usedK / 1024;
    }

    private int acked(CrashClient... publishers) {
        int n = 0;
        for (CrashClient p : publishers) {
            n += p.ackedCount();
        }
        return n;
    }

    @Test
    void mixedLoadWithFaultsLosesNothingAcknowledgedAndMemoryStaysFlat() throws Exception {
        int total = minutes();
        org.junit.jupiter.api.Assumptions.assumeTrue(total > 0, "a soak run: bench/soak.sh (-Dsoak.minutes=N)");
        assertThat(JAR).as("the broker jar (built by starling-cli)").exists();
        long end = System.nanoTime() + TimeUnit.MINUTES.toNanos(total);
        long half = System.nanoTime() + TimeUnit.MINUTES.toNanos(total) / 2;
        try (FaultyDisk disk = FaultyDisk.tmpfs(1024)) {
            dataDir = disk.path("data");
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort();
            }
            startBroker();
            CrashClient online = client("soak-online").subscribe(Q1, 1).subscribe(Q2, 2).start();
            CrashClient offline = client("soak-offline").subscribe(Q1, 1).subscribe(Q2, 2).start();
            CrashClient flappy = client("soak-flappy").subscribe(Q1, 1).subscribe(Q2, 2).start();
            await().atMost(Duration.ofSeconds(60)).until(() -> online.isConnected() && offline.isConnected()
                    && flappy.isConnected());
            offline.offline();
            // a steady rate that the persistent subscribers can take (unpaced, the publishers outran them and their
            // bounded queues dropped, as designed, which says nothing about loss)
            CrashClient pub1 = client("soak-pub1").publish(Q1, 1, 50).paced().start();
            CrashClient pub2 = client("soak-pub2").publish(Q2, 2, 50).paced().start();
            background("pacer", () -> {
                pub1.credit(RATE / 10);
                pub2.credit(RATE / 10);
                pause(100);
            });

            Random random = new Random(42);
            AtomicLong churnCycles = new AtomicLong();
            AtomicLong fuzzPackets = new AtomicLong();
            AtomicLong cleanMessages = new AtomicLong();
            // clean sessions: QoS 0 and 1 traffic that never touches the store
            AtomicLong cleanIds = new AtomicLong();
            background("clean-traffic", () -> {
                exchange(cat(connect5("soak-clean-" + cleanIds.incrementAndGet() % 1000, 0x02, 0),
                        packet(0x82, new byte[] {0, 1, 0}, str("clean/#"), new byte[] {1}),
                        packet(0x30, str("clean/a"), "q0".getBytes(StandardCharsets.UTF_8)),
                        packet(0x32, str("clean/b"), new byte[] {0, 7, 0}, "q1".getBytes(StandardCharsets.UTF_8))), 200);
                cleanMessages.addAndGet(2);
            });
            // subscribers that subscribe to everything and never read
            for (int i = 0; i < 5; i++) {
                int n = i;
                background("stalled-" + i, () -> {
                    try (Socket s = new Socket()) {
                        s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                        s.getOutputStream().write(cat(connect5("soak-stalled-" + n, 0x02, 0),
                                packet(0x82, new byte[] {0, 1, 0}, str("#"), new byte[] {1})));
                        while (running.get() && !s.isClosed()) {
                            pause(20_000);
                            s.getOutputStream().write(new byte[] {(byte) 0xC0, 0}); // PINGREQ, never reading
                        }
                    } catch (IOException e) {
                        pause(500);
                    }
                });
            }
            // garbage and mutated valid packets
            background("fuzz", () -> {
                byte[] valid = cat(connect5("soak-fuzz", 0x02, 0), packet(0x32, str("fuzz/t"), new byte[] {0, 1, 0},
                        "payload".getBytes(StandardCharsets.UTF_8)), packet(0x82, new byte[] {0, 2, 0}, str("fuzz/#"),
                        new byte[] {2}));
                byte[] mutated = valid.clone();
                for (int i = 0; i < 1 + random.nextInt(4); i++) {
                    mutated[random.nextInt(mutated.length)] = (byte) random.nextInt(256);
                }
                exchange(mutated, 50);
                fuzzPackets.incrementAndGet();
                pause(20);
            });
            long killAt = System.nanoTime() + TimeUnit.MINUTES.toNanos(Math.max(1, total / 10));
            long fillAt = System.nanoTime() + TimeUnit.MINUTES.toNanos(Math.max(1, total / 6));
            long churnAt = System.nanoTime() + TimeUnit.MINUTES.toNanos(Math.max(1, total / 8));
            long sampleAt = half;
            // the offline subscriber comes back now and then to take its stored queue (all of it that was
            // acknowledged when it came), then goes offline again: its queue stays within max-queued-messages
            long drainEvery = TimeUnit.MINUTES.toNanos(Math.max(1, total / 6));
            long drainAt = System.nanoTime() + drainEvery;
            long drainTarget = 0;
            long drainStarted = 0;
            int drains = 0;
            int kills = 0;
            int fills = 0;
            int churns = 0;
            List<long[]> samples = new ArrayList<>();
            while (System.nanoTime() < end) {
                long now = System.nanoTime();
                if (now < half && now >= killAt) {
                    LOG.info("soak: SIGKILL, {} acknowledged", acked(pub1, pub2));
                    broker.destroyForcibly().waitFor();
                    startBroker();
                    kills++;
                    killAt = now + TimeUnit.MINUTES.toNanos(Math.max(1, total / 10));
                }
                if (now >= fillAt) {
                    LOG.info("soak: disk full for 30 s");
                    disk.fill();
                    pause(30_000);
                    disk.free();
                    fills++;
                    fillAt = System.nanoTime() + TimeUnit.MINUTES.toNanos(Math.max(1, total / 6));
                }
                if (now >= churnAt) {
                    LOG.info("soak: take-over churn for 20 s");
                    long churnEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                    List<Thread> churners = new ArrayList<>();
                    for (int t = 0; t < 8; t++) {
                        Thread th = new Thread(() -> {
                            while (System.nanoTime() < churnEnd && running.get()) {
                                exchange(cat(connect5("soak-churn", 0x02, 300),
                                        packet(0x82, new byte[] {0, 1, 0}, str("churn/#"), new byte[] {1})), 5);
                                churnCycles.incrementAndGet();
                            }
                        });
                        th.start();
                        churners.add(th);
                    }
                    for (Thread th : churners) {
                        th.join();
                    }
                    churns++;
                    churnAt = System.nanoTime() + TimeUnit.MINUTES.toNanos(Math.max(1, total / 8));
                }
                if (now >= sampleAt) {
                    long[] sample = {(now - half) / 1_000_000_000L, heapAfterGcMib(), rssMib(), acked(pub1, pub2)};
                    samples.add(sample);
                    LOG.info("soak: t+{} s heap after GC {} MiB, RSS {} MiB, {} acknowledged", sample[0], sample[1],
                            sample[2], sample[3]);
                    sampleAt = now + TimeUnit.MINUTES.toNanos(1);
                }
                if (!offline.isConnected() && drainStarted == 0 && now >= drainAt) {
                    drainTarget = acked(pub1, pub2);
                    drainStarted = now;
                    offline.online();
                } else if (drainStarted != 0 && (offline.receivedCount() >= drainTarget
                        || now - drainStarted > TimeUnit.MINUTES.toNanos(2))) {
                    LOG.info("soak: offline subscriber drained {} messages", offline.receivedCount());
                    offline.offline();
                    drains++;
                    drainStarted = 0;
                    drainAt = System.nanoTime() + drainEvery;
                }
                if (flappy.isConnected() && random.nextInt(20) == 0) {
                    flappy.offline();
                } else if (!flappy.isConnected() && random.nextInt(5) == 0) {
                    flappy.online();
                }
                pause(1000);
            }
            stopSoak();
            pub1.stopPublishing();
            pub2.stopPublishing();
            await().atMost(Duration.ofMinutes(2)).until(() -> pub1.inflightCount() == 0 && pub2.inflightCount() == 0);
            offline.online();
            flappy.online();
            List<Integer> acked1 = pub1.acked();
            List<Integer> acked2 = pub2.acked();
            List<CrashClient> subscribers = List.of(online, offline, flappy);
            try {
                await().atMost(Duration.ofMinutes(3)).until(() -> subscribers.stream().allMatch(sub ->
                        missing(sub.received(Q1), acked1).isEmpty() && missing(sub.received(Q2), acked2).isEmpty()));
            } catch (ConditionTimeoutException e) {
                // the assertions below say what is missing
            }
            summary.add(String.format("minutes %d, SIGKILLs %d, disk filled %d times (30 s each), churn bursts %d (%d"
                    + " take-overs), fuzz packets %d, clean-session messages %d, offline subscriber back %d times",
                    total, kills, fills, churns, churnCycles.get(), fuzzPackets.get(), cleanMessages.get(), drains));
            summary.add(String.format("acknowledged: %d at QoS 1, %d at QoS 2", acked1.size(), acked2.size()));
            SoftAssertions soft = new SoftAssertions();
            for (CrashClient sub : subscribers) {
                List<Integer> lost1 = missing(sub.received(Q1), acked1);
                List<Integer> lost2 = missing(sub.received(Q2), acked2);
                List<Integer> q2 = sub.received(Q2);
                long dups = q2.size() - new HashSet<>(q2).size();
                summary.add(String.format("%s: %d QoS 1 and %d QoS 2 received; acknowledged but missing: %d QoS 1, %d"
                        + " QoS 2; QoS 2 duplicates: %d", sub, sub.received(Q1).size(), q2.size(), lost1.size(),
                        lost2.size(), dups));
                soft.assertThat(lost1).as("%s: acknowledged QoS 1 not delivered", sub).isEmpty();
                soft.assertThat(lost2).as("%s: acknowledged QoS 2 not delivered", sub).isEmpty();
                soft.assertThat(dups).as("%s: QoS 2 duplicates", sub).isZero();
            }
            for (long[] s : samples) {
                summary.add(String.format("t+%d s (second half, no kills): heap after full GC %d MiB, RSS %d MiB", s[0],
                        s[1], s[2]));
            }
            Files.write(Path.of("target", "soak-summary.txt"), summary, StandardCharsets.UTF_8);
            summary.forEach(line -> LOG.info("soak: {}", line));
            soft.assertAll();
        }
    }

    private static List<Integer> missing(List<Integer> received, List<Integer> acked) {
        Set<Integer> got = new HashSet<>(received);
        return acked.stream().filter(n -> !got.contains(n)).toList();
    }
}
