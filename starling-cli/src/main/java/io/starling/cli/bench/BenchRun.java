package io.starling.cli.bench;

import io.starling.cli.client.ConnectOptions;
import io.starling.cli.client.Transport;
import io.starling.codec.Properties;
import io.starling.codec.ProtocolVersion;
import io.starling.codec.packet.ConnectPacket;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * One run of a scenario: connects the subscribers (and waits for their SUBACKs), then the publishers and idle
 * connections, starts publishing, opens the measured window after the warm-up, stops publishing at its end,
 * waits for the messages of the window to arrive (drain), prints the summary and disconnects everything.
 */
final class BenchRun {

    /** TCP connects and CONNECT/CONNACK handshakes outstanding at once when --connect-rate is not set. */
    private static final int MAX_HANDSHAKES = 1000;
    private static final long DRAIN_IDLE_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long DRAIN_MAX_NANOS = TimeUnit.SECONDS.toNanos(15);

    final Stats stats = new Stats();
    final int qos;
    final ProtocolVersion version;
    final int payloadSize;
    final double rate;
    final int inflight;
    final int keepAlive;
    final boolean stamped;
    volatile boolean publishing;

    private final BenchOptions o;
    private final Plan plan;
    private final PrintWriter out;
    private final PrintWriter progress;
    private final String idPrefix;
    private final byte[] password;
    private final List<InetAddress> sources = new ArrayList<>();
    private final Semaphore handshakes = new Semaphore(MAX_HANDSHAKES);
    private final Double connectRate;
    private volatile CountDownLatch phaseLatch;
    private volatile String phase = "connect";
    private volatile long lastSettled;
    private long started;
    private long connectedAt;
    private long lastPublished;
    private long lastAcked;
    private long lastDelivered;

    BenchRun(BenchOptions o, Plan plan, PrintWriter out, PrintWriter err) {
        this.o = o;
        this.plan = plan;
        this.out = out;
        this.progress = o.json ? err : out;
        this.qos = o.qos;
        this.version = parseVersion(o.conn.versionText());
        this.payloadSize = o.payloadSize;
        this.rate = o.rate;
        this.inflight = o.inflight;
        this.keepAlive = o.conn.keepAlive();
        this.stamped = plan.stamped();
        this.connectRate = o.connectRate != null ? o.connectRate : plan.scenario().equals("conn-ramp") ? Double.valueOf(1000) : null;
        this.idPrefix = o.prefix != null ? o.prefix : "bench-" + ProcessHandle.current().pid();
        this.password = o.conn.password();
        validate();
    }

    /** The version for a -V value: bench speaks 3.1.1 and 5.0; {@code IllegalArgumentException} for others. */
    static ProtocolVersion parseVersion(String v) {
        ProtocolVersion version;
        try {
            version = ConnectOptions.parseVersion(v);
        } catch (IllegalArgumentException e) {
            version = null;
        }
        if (version != ProtocolVersion.MQTT_3_1_1 && version != ProtocolVersion.MQTT_5) {
            throw new IllegalArgumentException("-V must be 311 or 5, not " + v);
        }
        return version;
    }

    private void validate() {
        require(qos >= 0 && qos <= 2, "-q must be 0, 1 or 2");
        require(payloadSize >= 8, "-s must be at least 8: the payload carries the send time");
        require(payloadSize <= 256 * 1024 * 1024, "-s is too large");
        require(rate >= 0, "--rate must be >= 0");
        require(inflight >= 1 && inflight <= 65535, "--inflight must be 1..65535");
        require(o.duration > 0, "--duration must be > 0");
        require(o.warmup >= 0, "--warmup must be >= 0");
        require(o.threads >= 1, "--threads must be >= 1");
        require(keepAlive >= 0 && keepAlive <= 65535, "-k must be 0..65535");
        require(connectRate == null || connectRate > 0, "--connect-rate must be > 0");
        require(plan.total() > 0, "nothing to run: no clients");
        require(plan.publishers() >= 0 && plan.subscribers() >= 0 && plan.idle() >= 0, "client counts must be >= 0");
        if (o.ifaddr != null) {
            for (String a : o.ifaddr) {
                try {
                    sources.add(InetAddress.getByName(a.trim()));
                } catch (UnknownHostException e) {
                    throw new IllegalArgumentException("--ifaddr: unknown address " + a);
                }
            }
        }
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    ConnectPacket connectPacket(String clientId) {
        if (o.sessionExpiry <= 0) {
            return new ConnectPacket(version, clientId, true, keepAlive, o.conn.username(), password, null, Properties.EMPTY);
        }
        // a session that outlives the connection (stored by a durable broker): 5.0 Clean Start 1 with a Session
        // Expiry Interval; 3.1.1 Clean Session 0 (client ids are unique per run, so no earlier session is resumed)
        return version.isV5()
                ? new ConnectPacket(version, clientId, true, keepAlive, o.conn.username(), password, null,
                        Properties.builder().sessionExpiryInterval(o.sessionExpiry).build())
                : new ConnectPacket(version, clientId, false, keepAlive, o.conn.username(), password, null, Properties.EMPTY);
    }

    /** Called once per client on its event loop: ready (CONNACK, and SUBACK for subscribers) or failed. */
    void settled(BenchClient client, boolean ok) {
        lastSettled = System.nanoTime();
        if (connectRate == null) {
            handshakes.release();
        }
        CountDownLatch latch = phaseLatch;
        if (latch != null) {
            latch.countDown();
        }
    }

    /** Runs the scenario; returns the exit status. */
    int run() throws InterruptedException {
        List<BenchClient> subs = new ArrayList<>();
        List<BenchClient> others = new ArrayList<>();
        for (int i = 0; i < plan.subscribers(); i++) {
            subs.add(new BenchClient(this, BenchClient.Role.SUBSCRIBER, idPrefix + "-s" + i, Plan.expand(plan.filterTemplate(), i)));
        }
        List<BenchClient> pubs = new ArrayList<>();
        for (int i = 0; i < plan.publishers(); i++) {
            BenchClient c = new BenchClient(this, BenchClient.Role.PUBLISHER, idPrefix + "-p" + i, Plan.expand(plan.topicTemplate(), i));
            pubs.add(c);
            others.add(c);
        }
        for (int i = 0; i < plan.idle(); i++) {
            others.add(new BenchClient(this, BenchClient.Role.IDLE, idPrefix + "-c" + i, null));
        }
        progress.printf(Locale.ROOT, "bench %s: %d publishers, %d subscribers, %d connections, QoS %d, %d B, MQTT %s, %s:%d%n",
                plan.scenario(), plan.publishers(), plan.subscribers(), plan.idle(), qos, payloadSize,
                version == ProtocolVersion.MQTT_5 ? "5" : "3.1.1", o.conn.host(), o.conn.port());
        progress.flush();
        ScheduledExecutorService reporter = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "bench-report");
            t.setDaemon(true);
            return t;
        });
        List<BenchClient> all = new ArrayList<>(subs);
        all.addAll(others);
        try (Transport transport = new Transport(o.threads)) {
            started = System.nanoTime();
            if (!o.quiet) {
                reporter.scheduleAtFixedRate(this::report, 1, 1, TimeUnit.SECONDS);
            }
            InetSocketAddress remote = new InetSocketAddress(o.conn.host(), o.conn.port());
            connectAll(transport, remote, subs);
            connectAll(transport, remote, others);
            connectedAt = lastSettled;
            if (stats.connected.get() == 0) {
                reporter.shutdownNow();
                String why = stats.firstError.get();
                progress.println("bench: no client connected" + (why == null ? "" : ": " + why));
                progress.flush();
                return 1;
            }
            long t0 = System.nanoTime();
            long windowStart = t0 + (long) (o.warmup * 1e9);
            long windowEnd = windowStart + (long) (o.duration * 1e9);
            stats.windowStart = windowStart;
            stats.windowEnd = windowEnd;
            publishing = true;
            phase = o.warmup > 0 ? "warmup" : "run";
            for (BenchClient c : pubs) {
                if (c.channel() != null && c.channel().isActive()) {
                    c.startPublishing();
                }
            }
            parkUntil(windowStart);
            phase = "run";
            long cpu0 = processCpuNanos();
            parkUntil(windowEnd);
            long cpu1 = processCpuNanos();
            int connectedAtEnd = stats.connected.get();
            publishing = false;
            phase = "drain";
            drain();
            reporter.shutdownNow();
            Summary summary = summary(cpu0 < 0 || cpu1 < 0 ? -1 : (cpu1 - cpu0) / (o.duration * 1e9) * 100, connectedAtEnd,
                    transport.kind());
            out.println(o.json ? summary.toJson() : summary.toText());
            out.flush();
            for (BenchClient c : all) {
                c.close();
            }
            for (BenchClient c : all) {
                if (c.channel() != null) {
                    c.channel().closeFuture().await(2, TimeUnit.SECONDS);
                }
            }
            return 0;
        } finally {
            reporter.shutdownNow();
        }
    }

    private void connectAll(Transport transport, InetSocketAddress remote, List<BenchClient> clients) throws InterruptedException {
        if (clients.isEmpty()) {
            return;
        }
        CountDownLatch latch = new CountDownLatch(clients.size());
        phaseLatch = latch;
        long start = System.nanoTime();
        int k = 0;
        for (BenchClient c : clients) {
            if (connectRate != null) {
                parkUntil(start + (long) (k * 1e9 / connectRate));
            } else {
                handshakes.acquire();
            }
            InetSocketAddress local = sources.isEmpty() ? null : new InetSocketAddress(sources.get(k % sources.size()), 0);
            transport.connect(remote, local, c, 10_000).addListener(f -> {
                if (!f.isSuccess()) {
                    c.connectFailed(f.cause());
                }
            });
            k++;
        }
        latch.await();
    }

    private static void parkUntil(long deadline) {
        for (long left = deadline - System.nanoTime(); left > 0; left = deadline - System.nanoTime()) {
            LockSupport.parkNanos(left);
        }
    }

    /** Waits until the window's messages are acknowledged and delivered, or nothing moves for a second. */
    private void drain() {
        long start = System.nanoTime();
        long lastChange = start;
        long lastSum = -1;
        while (true) {
            boolean acksDone = qos == 0 || plan.publishers() == 0 || stats.acked.sum() >= stats.published.sum();
            long expected = expectedDeliveries();
            boolean deliveriesDone = expected < 0 || stats.deliveredWindow.sum() >= expected;
            if (acksDone && deliveriesDone) {
                return;
            }
            long now = System.nanoTime();
            long sum = stats.acked.sum() + stats.delivered.sum();
            if (sum != lastSum) {
                lastSum = sum;
                lastChange = now;
            }
            if (now - lastChange > DRAIN_IDLE_NANOS || now - start > DRAIN_MAX_NANOS) {
                return;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
    }

    /** Deliveries of the window's messages expected in this process, or -1 when unknown. */
    private long expectedDeliveries() {
        if (!stamped || plan.copies() < 0 || plan.subscribers() == 0) {
            return -1;
        }
        return stats.publishedWindow.sum() * plan.copies();
    }

    private static long processCpuNanos() {
        java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            return sun.getProcessCpuTime();
        }
        return -1;
    }

    // ---------------------------------------------------------------- output

    private void report() {
        try {
            long now = System.nanoTime();
            long pub = stats.published.sum();
            long ack = stats.acked.sum();
            long dlv = stats.delivered.sum();
            Histogram lat = stats.latency.getIntervalHistogram();
            Histogram con = stats.connectLatencyProgress.getIntervalHistogram();
            StringBuilder b = new StringBuilder();
            b.append(String.format(Locale.ROOT, "%5.0fs %-6s pub %8d/s  ack %8d/s  dlv %8d/s  conn %d/%d", (now - started) / 1e9,
                    phase, pub - lastPublished, ack - lastAcked, dlv - lastDelivered, stats.connected.get(), plan.total()));
            if (lat.getTotalCount() > 0) {
                b.append(String.format(Locale.ROOT, "  lat ms p50 %.2f p99 %.2f max %.2f", ms(lat.getValueAtPercentile(50)),
                        ms(lat.getValueAtPercentile(99)), ms(lat.getMaxValue())));
            } else if (con.getTotalCount() > 0) {
                b.append(String.format(Locale.ROOT, "  connack ms p50 %.2f p99 %.2f max %.2f (%d)", ms(con.getValueAtPercentile(50)),
                        ms(con.getValueAtPercentile(99)), ms(con.getMaxValue()), con.getTotalCount()));
            }
            if (stats.connectFailures.get() + stats.lost.get() > 0) {
                b.append("  failed ").append(stats.connectFailures.get()).append(" lost ").append(stats.lost.get());
            }
            lastPublished = pub;
            lastAcked = ack;
            lastDelivered = dlv;
            progress.println(b);
            progress.flush();
        } catch (RuntimeException e) {
            progress.println("bench: progress report failed: " + e);
        }
    }

    static double ms(long micros) {
        return micros / 1000.0;
    }

    private Summary summary(double cpuPercent, int connectedAtEnd, String transportKind) {
        Histogram lat = stats.windowLatency.getIntervalHistogram();
        Histogram con = stats.connectLatency.getIntervalHistogram();
        return new Summary(plan, o, version, connectRate, transportKind,
                stats.publishedWindow.sum(), stats.ackedWindow.sum(), stats.deliveredWindow.sum(), stats.receivedWindow.sum(),
                expectedDeliveries(),
                stats.published.sum(), stats.acked.sum(), stats.delivered.sum(), stats.ackErrors.sum(),
                connectedAtEnd, stats.connectFailures.get(), stats.lost.get(), (connectedAt - started) / 1e9,
                lat, con, cpuPercent, stats.firstError.get());
    }
}
