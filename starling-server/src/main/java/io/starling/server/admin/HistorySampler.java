package io.starling.server.admin;

import io.netty.util.concurrent.EventExecutor;
import io.starling.broker.Broker;
import io.starling.broker.metrics.BrokerMetrics;
import io.starling.broker.session.Session;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The recent history of the broker for {@code GET /api/v1/history} and the rates of {@code /api/v1/overview}: every
 * {@link #INTERVAL_SECONDS} s a sample of the open connections, the messages received, sent and dropped per second
 * since the previous sample and the messages queued over all sessions; the last {@link #CAPACITY} samples (15 minutes)
 * are kept, oldest first.
 *
 * <p>Threads: {@link #sample} runs on the admin event loop. The queued messages belong to the sessions' loops: the
 * sessions with bytes queued are grouped by loop and each loop counts its own in one task; the sample is added on the
 * admin loop when every loop has answered (without a count if one does not in time). The samples are read on the
 * admin loop only.
 */
final class HistorySampler {

    static final int INTERVAL_SECONDS = 5;
    static final int CAPACITY = 180;

    /** One sample; {@code queuedMessages} is {@code null} when the sessions' loops did not answer in time. */
    record Sample(long t, long connections, double receivedPerSecond, double sentPerSecond, double droppedPerSecond,
            Long queuedMessages) {
    }

    private final AdminContext ctx;
    private final EventExecutor adminLoop;
    private final LongSupplier nanoClock;
    private final ArrayDeque<Sample> samples = new ArrayDeque<>(CAPACITY);
    private long lastNanos;
    private long lastReceived;
    private long lastSent;
    private long lastDropped;

    HistorySampler(AdminContext ctx, EventExecutor adminLoop, LongSupplier nanoClock) {
        this.ctx = ctx;
        this.adminLoop = adminLoop;
        this.nanoClock = nanoClock;
        BrokerMetrics m = ctx.broker().metrics();
        lastNanos = nanoClock.getAsLong();
        lastReceived = m.messagesReceived();
        lastSent = m.messagesDelivered();
        lastDropped = m.messagesDropped.sum();
    }

    /** Starts sampling every {@link #INTERVAL_SECONDS} s on the admin loop. */
    void start() {
        adminLoop.scheduleAtFixedRate(this::sample, INTERVAL_SECONDS, INTERVAL_SECONDS, TimeUnit.SECONDS);
    }

    /** Takes a sample now (on the admin loop); it is added once the queued messages are counted. */
    void sample() {
        Broker broker = ctx.broker();
        BrokerMetrics m = broker.metrics();
        long now = nanoClock.getAsLong();
        double seconds = Math.max(1e-3, (now - lastNanos) / 1e9);
        long received = m.messagesReceived();
        long sent = m.messagesDelivered();
        long dropped = m.messagesDropped.sum();
        long t = System.currentTimeMillis();
        long connections = ctx.gate().openConnections();
        double rr = (received - lastReceived) / seconds;
        double sr = (sent - lastSent) / seconds;
        double dr = (dropped - lastDropped) / seconds;
        lastNanos = now;
        lastReceived = received;
        lastSent = sent;
        lastDropped = dropped;
        queuedMessages(broker).orTimeout(INTERVAL_SECONDS, TimeUnit.SECONDS).whenComplete((q, e) ->
                adminLoop.execute(() -> add(new Sample(t, connections, rr, sr, dr, e == null ? q : null))));
    }

    private void add(Sample s) {
        if (samples.size() == CAPACITY) {
            samples.removeFirst();
        }
        samples.addLast(s);
    }

    /** The messages queued over all sessions: one task per loop that owns a session with bytes queued. */
    private static CompletableFuture<Long> queuedMessages(Broker broker) {
        Map<EventExecutor, List<Session>> byLoop = new HashMap<>();
        for (Session s : broker.sessions().all()) {
            if (s.queuedBytes() > 0) {
                byLoop.computeIfAbsent(s.owner(), k -> new ArrayList<>()).add(s);
            }
        }
        List<CompletableFuture<Long>> parts = new ArrayList<>(byLoop.size());
        for (Map.Entry<EventExecutor, List<Session>> e : byLoop.entrySet()) {
            CompletableFuture<Long> f = new CompletableFuture<>();
            parts.add(f);
            EventExecutor loop = e.getKey();
            try {
                loop.execute(() -> {
                    long n = 0;
                    for (Session s : e.getValue()) {
                        if (s.owner() == loop && !s.isDiscarded()) { // one that moved since is left out
                            n += s.queuedCount();
                        }
                    }
                    f.complete(n);
                });
            } catch (RejectedExecutionException ex) {
                f.completeExceptionally(ex);
            }
        }
        return CompletableFuture.allOf(parts.toArray(new CompletableFuture<?>[0]))
                .thenApply(v -> parts.stream().mapToLong(CompletableFuture::join).sum());
    }

    /** The samples, oldest first (on the admin loop). */
    List<Sample> samples() {
        return List.copyOf(samples);
    }

    /** The newest sample, {@code null} before the first (on the admin loop). */
    Sample latest() {
        return samples.peekLast();
    }

    /** The body of {@code /api/v1/history}. */
    Map<String, Object> body() {
        List<Map<String, Object>> list = new ArrayList<>(samples.size());
        for (Sample s : samples) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("t", s.t());
            o.put("connections", s.connections());
            o.put("receivedPerSecond", s.receivedPerSecond());
            o.put("sentPerSecond", s.sentPerSecond());
            o.put("droppedPerSecond", s.droppedPerSecond());
            o.put("queuedMessages", s.queuedMessages());
            list.add(o);
        }
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("intervalSeconds", INTERVAL_SECONDS);
        o.put("samples", list);
        return o;
    }
}
