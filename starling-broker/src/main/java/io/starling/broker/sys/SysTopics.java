package io.starling.broker.sys;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.starling.broker.Broker;
import io.starling.broker.message.Message;
import io.starling.broker.metrics.BrokerMetrics;
import io.starling.broker.session.Session;
import io.starling.codec.Properties;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The broker's state as retained messages under {@code $SYS/broker/}, with Mosquitto's topic names: every
 * {@code sys-interval-seconds} a topic is published if its value changed since the last time (the uptime every time),
 * QoS 0, retained, through the broker's routing, so subscribers get the values live, a new subscriber the last ones,
 * and the ACL decides who reads them. The version is published once, at {@link #start}. Everything is read from
 * counters and sizes the broker keeps anyway; only {@code clients/connected} walks the sessions (once an interval).
 * The task runs on one event loop; times come from the broker's clock.
 */
public final class SysTopics {

    /** The publisher id of the {@code $SYS} messages. */
    public static final String PUBLISHER = "$SYS";
    static final String PREFIX = "$SYS/broker/";

    private static final String[] LOAD_WINDOWS = {"1min", "5min", "15min"};

    private final Broker broker;
    private final String version;
    private final long startNanos;
    private final LoadAverage received;
    private final LoadAverage sent;
    private final LoadAverage connections;
    private final LoadAverage dropped;
    private final LoadAverage bytesReceived;
    private final LoadAverage bytesSent;
    private final Map<String, String> published = new HashMap<>();
    private long maxConnected;
    private volatile ScheduledFuture<?> task;

    /** The topics of {@code broker}, its uptime counted from now. */
    public SysTopics(Broker broker) {
        this(broker, currentVersion());
    }

    SysTopics(Broker broker, String version) {
        this.broker = broker;
        this.version = version;
        long now = broker.clock().nanos();
        this.startNanos = now;
        BrokerMetrics m = broker.metrics();
        this.received = new LoadAverage(m.messagesReceived(), now);
        this.sent = new LoadAverage(m.messagesDelivered(), now);
        this.connections = new LoadAverage(m.connectionsAccepted.sum(), now);
        this.dropped = new LoadAverage(m.messagesDropped.sum(), now);
        this.bytesReceived = new LoadAverage(m.bytesReceived.sum(), now);
        this.bytesSent = new LoadAverage(m.bytesSent.sum(), now);
    }

    /** The version line of {@code $SYS/broker/version}, e.g. {@code starling 0.1.0}. */
    public String version() {
        return version;
    }

    /**
     * Publishes the version and schedules the publication of the other topics every {@code sys-interval-seconds} on
     * {@code loop}, the first one after one interval; does nothing if the interval is 0.
     */
    public void start(EventExecutor loop) {
        int interval = broker.config().sysIntervalSeconds();
        if (interval <= 0) {
            return;
        }
        loop.execute(() -> publish("version", version));
        task = loop.scheduleAtFixedRate(this::publishNow, interval, interval, TimeUnit.SECONDS);
    }

    /** Cancels the publication; the retained values stay as they are. */
    public void stop() {
        ScheduledFuture<?> t = task;
        if (t != null) {
            t.cancel(false);
        }
    }

    /** Works out every topic's value now and publishes those that changed (and the uptime); on an event loop. */
    public void publishNow() {
        for (Map.Entry<String, String> e : values().entrySet()) {
            String topic = e.getKey();
            if (topic.equals("uptime") || !e.getValue().equals(published.get(topic))) {
                publish(topic, e.getValue());
            }
        }
    }

    /** The values of the topics now, by name below {@code $SYS/broker/}; updates the load averages. */
    Map<String, String> values() {
        long now = broker.clock().nanos();
        BrokerMetrics m = broker.metrics();
        long total = 0;
        long connected = 0;
        for (Session s : broker.sessions().all()) {
            total++;
            if (s.isOnline()) {
                connected++;
            }
        }
        maxConnected = Math.max(maxConnected, connected);
        long messagesReceived = m.messagesReceived();
        long messagesSent = m.messagesDelivered();
        long messagesDropped = m.messagesDropped.sum();
        received.update(messagesReceived, now);
        sent.update(messagesSent, now);
        connections.update(m.connectionsAccepted.sum(), now);
        dropped.update(messagesDropped, now);
        long bytesIn = m.bytesReceived.sum();
        long bytesOut = m.bytesSent.sum();
        bytesReceived.update(bytesIn, now);
        bytesSent.update(bytesOut, now);
        Map<String, String> v = new LinkedHashMap<>();
        v.put("uptime", TimeUnit.NANOSECONDS.toSeconds(now - startNanos) + " seconds");
        v.put("clients/connected", Long.toString(connected));
        v.put("clients/disconnected", Long.toString(total - connected));
        v.put("clients/total", Long.toString(total));
        v.put("clients/maximum", Long.toString(maxConnected));
        v.put("clients/expired", Long.toString(m.sessionsExpired.sum()));
        // Starling counts Application Messages (PUBLISH), not packets of every type: the same under both names
        v.put("messages/received", Long.toString(messagesReceived));
        v.put("messages/sent", Long.toString(messagesSent));
        v.put("publish/messages/received", Long.toString(messagesReceived));
        v.put("publish/messages/sent", Long.toString(messagesSent));
        v.put("publish/messages/dropped", Long.toString(messagesDropped));
        v.put("store/messages/bytes", Long.toString(m.queuedBytes.sum()));
        // as Mosquitto: the retained messages and those queued for sessions (Starling: queued in memory)
        v.put("messages/stored", Long.toString(m.queuedMessages.sum() + broker.retained().size()));
        v.put("bytes/received", Long.toString(bytesIn));
        v.put("bytes/sent", Long.toString(bytesOut));
        v.put("subscriptions/count", Long.toString(broker.subscriptionIndex().size()));
        v.put("retained messages/count", Long.toString(broker.retained().size()));
        for (int i = 0; i < LOAD_WINDOWS.length; i++) {
            v.put("load/messages/received/" + LOAD_WINDOWS[i], load(received.average(i)));
            v.put("load/messages/sent/" + LOAD_WINDOWS[i], load(sent.average(i)));
            v.put("load/publish/received/" + LOAD_WINDOWS[i], load(received.average(i)));
            v.put("load/publish/sent/" + LOAD_WINDOWS[i], load(sent.average(i)));
            v.put("load/publish/dropped/" + LOAD_WINDOWS[i], load(dropped.average(i)));
            v.put("load/connections/" + LOAD_WINDOWS[i], load(connections.average(i)));
            v.put("load/bytes/received/" + LOAD_WINDOWS[i], load(bytesReceived.average(i)));
            v.put("load/bytes/sent/" + LOAD_WINDOWS[i], load(bytesSent.average(i)));
        }
        return v;
    }

    private static String load(double perMinute) {
        return String.format(Locale.ROOT, "%.2f", perMinute);
    }

    private void publish(String topic, String value) {
        published.put(topic, value);
        broker.publishSystem(new Message(PREFIX + topic, 0, true, value.getBytes(StandardCharsets.UTF_8),
                Properties.EMPTY, PUBLISHER, Message.NEVER));
    }

    /** {@code starling} and the version the build wrote into {@code version.properties}. */
    private static String currentVersion() {
        try (InputStream in = SysTopics.class.getResourceAsStream("version.properties")) {
            java.util.Properties p = new java.util.Properties();
            if (in != null) {
                p.load(in);
            }
            String v = p.getProperty("version", "");
            return "starling " + (v.isBlank() || v.startsWith("${") ? "unknown" : v.trim());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
