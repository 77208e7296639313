package io.starling.server.integration;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.starling.broker.config.WebhooksConfig;
import io.starling.broker.config.WebhooksConfig.Event;
import io.starling.broker.hook.BrokerHook;
import io.starling.broker.hook.HookStats;
import io.starling.broker.message.Message;
import io.starling.broker.metrics.StripedCounter;
import io.starling.broker.topic.Topics;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code webhooks}: a {@link BrokerHook} that POSTs a JSON event to each configured receiver.
 *
 * <p>On the event loop an event costs, per receiver that wants it, a topic filter match (published messages only)
 * and an enqueue into a lock-free queue bounded by {@code max-queued-events} and {@code max-queued-bytes} (counted
 * with atomic adds); an event beyond the bounds is dropped and counted, never waited for. JSON is written by the
 * receiver's own thread ({@code starling-webhook-N}), which sends batches of up to {@code batch-size} events with
 * the JDK's HTTP client, and retries a failed request (no answer within {@code timeout-ms}, a connection error, a
 * status other than 2xx) {@code max-retries} times after {@code retry-backoff-ms}, doubling each time; then the
 * events are counted as failed. So a slow or dead receiver costs the MQTT traffic nothing but the drops.
 *
 * <p>Thread-safety: the hook methods are called from every event loop; counters are striped or atomic.
 */
public final class Webhooks implements BrokerHook, HookStats, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Webhooks.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** What an event is counted as beyond its payload and topic, against {@code max-queued-bytes}. */
    private static final int EVENT_OVERHEAD = 128;

    private final List<Receiver> receivers = new ArrayList<>();
    /** The receivers that want {@code message.published} events (often none). */
    private final Receiver[] messageReceivers;
    private final LongAdder sent = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final LongAdder retried = new LongAdder();
    /**
     * Counted on the event loops for every event a full queue refuses (every message, while a receiver is slow): a
     * slot per thread, so that two loops dropping at once do not pass one cache line between cores.
     */
    private final StripedCounter dropped = new StripedCounter();
    private final HttpClient http;
    private volatile boolean closed;
    /** A dead receiver fails every batch: one line every 10 s, with the count of the others. */
    private final io.starling.broker.log.RateLimitedLog failureLog = new io.starling.broker.log.RateLimitedLog(LOG,
            org.slf4j.event.Level.WARN, java.time.Duration.ofSeconds(10));

    /** One queued event: what happened, when, and its fields; JSON is made on the sender thread. */
    private record Queued(Event type, long timeMillis, String clientId, BrokerHook.Client info, String reason,
            boolean sessionPresent, String filter, int qos, Message message, int bytes) {
    }

    /** Starts a sender thread per receiver. */
    public Webhooks(WebhooksConfig config) {
        this.http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
        int n = 0;
        for (WebhooksConfig.Hook h : config.hooks()) {
            Receiver r = new Receiver(h, n++);
            receivers.add(r);
            r.thread.start();
        }
        this.messageReceivers = receivers.stream().filter(r -> r.wantsMessages).toArray(Receiver[]::new);
    }

    // ---------------------------------------------------------------- the hook (event loops)

    @Override
    public void clientConnected(String clientId, BrokerHook.Client info, boolean sessionPresent) {
        offer(new Queued(Event.CLIENT_CONNECTED, System.currentTimeMillis(), clientId, info, null, sessionPresent, null,
                0, null, EVENT_OVERHEAD + clientId.length()));
    }

    @Override
    public void clientDisconnected(String clientId, BrokerHook.Client info, String reason) {
        offer(new Queued(Event.CLIENT_DISCONNECTED, System.currentTimeMillis(), clientId, info, reason, false, null, 0,
                null, EVENT_OVERHEAD + clientId.length()));
    }

    @Override
    public void sessionCreated(String clientId) {
        offer(new Queued(Event.SESSION_CREATED, System.currentTimeMillis(), clientId, null, null, false, null, 0, null,
                EVENT_OVERHEAD + clientId.length()));
    }

    @Override
    public void sessionExpired(String clientId) {
        offer(new Queued(Event.SESSION_EXPIRED, System.currentTimeMillis(), clientId, null, null, false, null, 0, null,
                EVENT_OVERHEAD + clientId.length()));
    }

    @Override
    public void subscribed(String clientId, String filter, int qos) {
        offer(new Queued(Event.CLIENT_SUBSCRIBED, System.currentTimeMillis(), clientId, null, null, false, filter, qos,
                null, EVENT_OVERHEAD + clientId.length() + filter.length()));
    }

    @Override
    public void unsubscribed(String clientId, String filter) {
        offer(new Queued(Event.CLIENT_UNSUBSCRIBED, System.currentTimeMillis(), clientId, null, null, false, filter, 0,
                null, EVENT_OVERHEAD + clientId.length() + filter.length()));
    }

    @Override
    public void published(Message m) {
        // kept small (it is inlined into the publish path): the array holds only the receivers of messages, the
        // filters are matched without allocating, and a full queue is found with two plain reads
        Receiver[] rs = messageReceivers;
        for (int i = 0; i < rs.length; i++) {
            Receiver r = rs[i];
            if (r.wantsMessage(m.topic())) {
                // base64 makes the payload 4/3 as large in the JSON
                int bytes = EVENT_OVERHEAD + m.topic().length() + m.payload().length / 3 * 4 + 4;
                if (r.full(bytes)) {
                    dropped.increment(); // a full queue costs two reads and a striped increment: nothing is made
                } else {
                    enqueue(r, m, bytes);
                }
            }
        }
    }

    /** Out of {@link #published}'s way: the event is made and queued only when there is room for it. */
    private void enqueue(Receiver r, Message m, int bytes) {
        String id = m.publisherId() == null ? "" : m.publisherId();
        r.offer(new Queued(Event.MESSAGE_PUBLISHED, System.currentTimeMillis(), id, null, null, false, null, m.qos(), m,
                bytes));
    }

    private void offer(Queued q) {
        for (Receiver r : receivers) {
            if (r.hook.events().contains(q.type())) {
                r.offer(q);
            }
        }
    }

    // ---------------------------------------------------------------- stats

    @Override
    public long sent() {
        return sent.sum();
    }

    @Override
    public long failed() {
        return failed.sum();
    }

    @Override
    public long retried() {
        return retried.sum();
    }

    @Override
    public long dropped() {
        return dropped.sum();
    }

    @Override
    public long queued() {
        long n = 0;
        for (Receiver r : receivers) {
            n += r.count.get();
        }
        return n;
    }

    @Override
    public void close() {
        closed = true;
        for (Receiver r : receivers) {
            r.thread.interrupt();
        }
    }

    // ---------------------------------------------------------------- one receiver

    private final class Receiver implements Runnable {
        private final WebhooksConfig.Hook hook;
        private final boolean wantsMessages;
        /** The {@code topics} filters; {@code #} alone is noted as {@link #everyTopic}. */
        private final String[] filters;
        /** One of the filters is {@code #}: every topic but those beginning with {@code $} [MQTT-4.7.2-1]. */
        private final boolean everyTopic;
        private final Queue<Queued> queue = new ConcurrentLinkedQueue<>();
        private final AtomicLong count = new AtomicLong();
        private final AtomicLong bytes = new AtomicLong();
        private final Thread thread;
        private volatile boolean parked;

        Receiver(WebhooksConfig.Hook hook, int index) {
            this.hook = hook;
            this.wantsMessages = hook.events().contains(Event.MESSAGE_PUBLISHED);
            this.filters = hook.topics().toArray(String[]::new);
            this.everyTopic = hook.topics().contains("#");
            this.thread = new Thread(this, "starling-webhook-" + index);
            thread.setDaemon(true);
        }

        boolean wantsMessage(String topic) {
            if (everyTopic && (topic.isEmpty() || topic.charAt(0) != '$')) {
                return true;
            }
            for (String f : filters) {
                if (Topics.matches(f, topic)) {
                    return true;
                }
            }
            return false;
        }

        /**
         * Whether an event of {@code eventBytes} would find the queue full: plain reads, so that while a stalled
         * receiver's queue is full the event loops do not write to the counters' cache lines.
         */
        boolean full(int eventBytes) {
            return count.get() >= hook.maxQueuedEvents() || bytes.get() + eventBytes > hook.maxQueuedBytes();
        }

        /** On an event loop: enqueue within the bounds, or drop and count. Never blocks. */
        void offer(Queued q) {
            if (full(q.bytes())) {
                drop();
                return;
            }
            if (count.incrementAndGet() > hook.maxQueuedEvents()) {
                count.decrementAndGet();
                drop();
                return;
            }
            if (bytes.addAndGet(q.bytes()) > hook.maxQueuedBytes()) {
                bytes.addAndGet(-q.bytes());
                count.decrementAndGet();
                drop();
                return;
            }
            queue.offer(q);
            if (parked) {
                LockSupport.unpark(thread);
            }
        }

        private void drop() {
            dropped.increment();
        }

        @Override
        public void run() {
            List<Queued> batch = new ArrayList<>(hook.batchSize());
            while (!closed) {
                Queued q = queue.poll();
                if (q == null) {
                    parked = true;
                    if (queue.isEmpty()) {
                        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
                    }
                    parked = false;
                    continue;
                }
                batch.add(q);
                while (batch.size() < hook.batchSize() && (q = queue.poll()) != null) {
                    batch.add(q);
                }
                long taken = 0;
                for (Queued b : batch) {
                    taken += b.bytes();
                }
                try {
                    deliver(batch);
                } finally {
                    count.addAndGet(-batch.size());
                    bytes.addAndGet(-taken);
                    batch.clear();
                }
            }
        }

        /** Sends one batch, retrying; counts it as sent or failed. */
        private void deliver(List<Queued> batch) {
            byte[] body = json(batch);
            long backoff = hook.retryBackoff().toMillis();
            for (int attempt = 0; !closed; attempt++) {
                String problem;
                try {
                    HttpRequest.Builder rb = HttpRequest.newBuilder(hook.url()).timeout(hook.timeout())
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
                    hook.headers().forEach(rb::header);
                    HttpResponse<Void> resp = http.send(rb.build(), HttpResponse.BodyHandlers.discarding());
                    if (resp.statusCode() / 100 == 2) {
                        sent.add(batch.size());
                        return;
                    }
                    problem = "HTTP status " + resp.statusCode();
                } catch (IOException e) {
                    problem = e.toString();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                if (attempt >= hook.maxRetries()) {
                    failed.add(batch.size());
                    failureLog.log("Webhook {}: {} event(s) not delivered after {} attempt(s): {}", hook.url(),
                            batch.size(), attempt + 1, problem);
                    return;
                }
                retried.increment();
                LOG.debug("Webhook {}: {}; retrying in {} ms", hook.url(), problem, backoff);
                try {
                    Thread.sleep(backoff); // the receiver's own thread: only its queue waits
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                backoff = Math.min(backoff * 2, TimeUnit.MINUTES.toMillis(5));
            }
        }

        private byte[] json(List<Queued> batch) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(256 * batch.size());
            try (JsonGenerator g = JSON.getFactory().createGenerator(out)) {
                if (hook.batchSize() > 1) {
                    g.writeStartArray();
                }
                for (Queued q : batch) {
                    write(g, q);
                }
                if (hook.batchSize() > 1) {
                    g.writeEndArray();
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return out.toByteArray();
        }
    }

    /** One event as a JSON object (the fields are listed in docs/integrations.md). */
    static void write(JsonGenerator g, Queued q) throws IOException {
        g.writeStartObject();
        g.writeStringField("event", q.type().configName());
        g.writeNumberField("timestamp", q.timeMillis());
        g.writeStringField("clientId", q.clientId());
        switch (q.type()) {
            case CLIENT_CONNECTED, CLIENT_DISCONNECTED -> {
                BrokerHook.Client i = q.info();
                g.writeStringField("username", i == null ? null : i.user());
                g.writeStringField("address", i == null ? null : i.address());
                g.writeStringField("listener", i == null ? null : i.listener());
                g.writeStringField("protocol", i == null ? null : i.protocol());
                if (q.type() == Event.CLIENT_CONNECTED) {
                    g.writeBooleanField("sessionPresent", q.sessionPresent());
                    g.writeNumberField("keepAlive", i == null ? 0 : i.keepAliveSeconds());
                } else {
                    g.writeStringField("reason", q.reason());
                }
            }
            case CLIENT_SUBSCRIBED -> {
                g.writeStringField("filter", q.filter());
                g.writeNumberField("qos", q.qos());
            }
            case CLIENT_UNSUBSCRIBED -> g.writeStringField("filter", q.filter());
            case MESSAGE_PUBLISHED -> {
                Message m = q.message();
                g.writeStringField("topic", m.topic());
                g.writeNumberField("qos", m.qos());
                g.writeBooleanField("retain", m.retain());
                g.writeStringField("payload", Base64.getEncoder().encodeToString(m.payload()));
            }
            default -> {
                // session.created, session.expired: the client id says it all
            }
        }
        g.writeEndObject();
    }
}
