package io.starling.server.protocol;

import io.netty.buffer.Unpooled;
import io.starling.broker.Broker;
import io.starling.broker.acl.Acl;
import io.starling.broker.acl.TopicAccess;
import io.starling.broker.config.BrokerConfig;
import io.starling.broker.log.RateLimitedLog;
import io.starling.broker.message.Message;
import io.starling.broker.metrics.BrokerMetrics;
import io.starling.broker.session.Session;
import io.starling.broker.store.Store;
import io.starling.broker.topic.TopicLimits;
import io.starling.codec.DecodeException;
import io.starling.codec.MqttStrings;
import io.starling.codec.Properties;
import io.starling.codec.ReasonCode;
import io.starling.codec.packet.PubAckPacket;
import io.starling.codec.packet.PubCompPacket;
import io.starling.codec.packet.PubRecPacket;
import io.starling.codec.packet.PubRelPacket;
import io.starling.codec.packet.PublishPacket;
import java.time.Duration;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * Inbound PUBLISH and PUBREL of one connection: topic alias resolution, the server's limits (Maximum QoS, Retain
 * Available, payload format), the ACL's write permission, QoS 2 de-duplication, hand-off to the router, and the
 * acknowledgement. Runs on the connection's event loop.
 */
final class PublishHandler {

    private static final Logger LOG = LoggerFactory.getLogger(PublishHandler.class);
    private static final Duration DENY_LOG_INTERVAL = Duration.ofSeconds(10);

    private final ConnectionPort connection;
    private final Broker broker;
    private final Store store;
    private final BrokerConfig config;
    private final TopicLimits topicLimits;
    private final BrokerMetrics metrics;
    private final LongSupplier nanoClock;
    /** max-publish-rate and max-publish-bytes-rate of the connection; {@code null} when neither is set. */
    private final PublishRateLimiter rateLimiter;
    /** The log line of refused PUBLISH packets, rate-limited per connection; created with the first refusal. */
    private RateLimitedLog deniedLog;
    /** Inbound Topic Alias → Topic Name (5.0), created on first use; index 0 is never used. */
    private String[] topicAliases;
    /** PUBLISH packets routed from this connection: the first of every {@code LATENCY_SAMPLE_EVERY} is sampled. */
    private int publishes;

    /**
     * @param broker where messages are routed
     * @param store what acknowledgements wait for
     * @param nanoClock the clock of the rate limit of log lines and of the publish rate
     * @param rateLimiter the connection's publish rate; {@code null} for none
     */
    PublishHandler(ConnectionPort connection, Broker broker, Store store, BrokerConfig config, TopicLimits topicLimits,
            BrokerMetrics metrics, LongSupplier nanoClock, PublishRateLimiter rateLimiter) {
        this.connection = connection;
        this.broker = broker;
        this.store = store;
        this.config = config;
        this.topicLimits = topicLimits;
        this.metrics = metrics;
        this.nanoClock = nanoClock;
        this.rateLimiter = rateLimiter;
    }

    /** The connection's publish rate, {@code null} without one; for tests. */
    PublishRateLimiter rateLimiter() {
        return rateLimiter;
    }

    void onPublish(PublishPacket p) {
        if (rateLimiter != null) {
            // every PUBLISH read counts, whatever becomes of it; over the rate, the following ones wait unread
            long wait = rateLimiter.onPublish(p, connection.version(), nanoClock.getAsLong());
            if (wait > 0) {
                connection.publishRateExceeded(rateLimiter, wait);
            }
        }
        boolean v5 = connection.version().isV5();
        Properties props = p.properties();
        String topic = p.topic();
        String tooBig = topic.isEmpty() ? null : topicLimits.violation(topic);
        if (tooBig != null) {
            refuseTopic(p, v5, tooBig);
            return;
        }
        Integer alias = props.topicAlias();
        if (alias != null) {
            if (alias == 0 || alias > config.topicAliasMaximum()) {
                // [MQTT-3.3.2-9] [MQTT-3.3.2-10] (5.0) an alias of 0 or above our Topic Alias Maximum
                connection.disconnect(ReasonCode.TOPIC_ALIAS_INVALID, "topic alias " + alias + " out of range");
                return;
            }
            if (topicAliases == null) {
                topicAliases = new String[config.topicAliasMaximum() + 1];
            }
            if (topic.isEmpty()) {
                topic = topicAliases[alias];
                if (topic == null) {
                    // 5.0 3.3.4: an empty Topic Name with an alias that has no mapping is a Protocol Error
                    connection.protocolError("topic alias " + alias + " used before it was set");
                    return;
                }
            } else {
                topicAliases[alias] = topic; // 5.0 3.3.2.3.4: a non-empty topic (re)sets the mapping
            }
            props = props.toBuilder().topicAlias(null).build();
        }
        if (p.qos() > config.maximumQos()) {
            // [MQTT-3.2.2-11] (5.0) publishing above the announced Maximum QoS
            connection.disconnect(ReasonCode.QOS_NOT_SUPPORTED, "QoS " + p.qos() + " above maximum " + config.maximumQos());
            return;
        }
        if (p.retain() && !config.retainAvailable()) {
            // [MQTT-3.2.2-14] (5.0) RETAIN=1 while Retain Available is 0
            connection.disconnect(ReasonCode.RETAIN_NOT_SUPPORTED, "retain not available");
            return;
        }
        if (v5 && config.validateUtf8Payloads() && Integer.valueOf(1).equals(props.payloadFormatIndicator())
                && !isWellFormedUtf8(p.payload())) {
            // 5.0 3.3.2.3.2: a payload flagged as UTF-8 that is not: PUBACK/PUBREC 0x99, or DISCONNECT 0x99 at QoS 0
            if (p.qos() == 0) {
                connection.disconnect(ReasonCode.PAYLOAD_FORMAT_INVALID, "payload is not valid UTF-8");
            } else {
                acknowledge(p, ReasonCode.PAYLOAD_FORMAT_INVALID, "payload is not valid UTF-8");
            }
            return;
        }
        if (!mayPublish(topic)) {
            notAuthorized(p, topic);
            return;
        }
        // sampled for the publish-to-delivery latency (not a retained one: it may be delivered much later, on subscribe)
        long stamp = (publishes++ & (BrokerMetrics.LATENCY_SAMPLE_EVERY - 1)) == 0 && !p.retain() ? System.nanoTime() : 0;
        Message m = Message.published(topic, p.qos(), p.retain(), p.payload(), props, connection.clientId(),
                broker.clock().millis(), stamp);
        Session session = connection.session();
        switch (p.qos()) {
            case 0 -> broker.publish(m);
            case 1 -> {
                // [MQTT-4.3.2-2] PUBACK once the message is as durable as configured (0x97: retention refused, 5.0)
                acknowledge(p, broker.publish(m, v5));
            }
            case 2 -> {
                if (session.inboundQos2Count() >= config.receiveMaximum() && v5
                        && !session.isAwaitingRelease(p.packetId())) {
                    // [MQTT-3.3.4-7] (5.0) more unacknowledged QoS 2 than our Receive Maximum
                    connection.disconnect(ReasonCode.RECEIVE_MAXIMUM_EXCEEDED, "receive maximum exceeded");
                    return;
                }
                ReasonCode[] rc = {ReasonCode.SUCCESS};
                boolean[] began = {false};
                // the packet id and the message it brought are stored together: a crash between them would make a
                // re-sent PUBLISH look like a duplicate of a message that was never stored, or route it twice
                store.atomically(() -> {
                    if (session.beginInboundQos2(p.packetId())) {
                        began[0] = true;
                        rc[0] = broker.publish(m, v5);
                    }
                });
                // [MQTT-4.3.3-2] (3.1.1) PUBREC again for a duplicate, without routing it a second time
                acknowledge(p, rc[0], null, began[0]);
            }
            default -> throw new IllegalStateException("QoS " + p.qos());
        }
    }

    /**
     * A Topic Name over max-topic-length or max-topic-levels. 5.0: PUBACK/PUBREC 0x90 Topic Name invalid ("correctly
     * formed, but not accepted by this Server", 5.0 3.4.2.1), the connection stays; at QoS 0 there is no ack, so
     * DISCONNECT 0x90. 3.x has no way to refuse a PUBLISH: the connection is closed [MQTT-3.3.5-2] (3.1.1). An alias set with
     * the refused topic is not set.
     */
    private void refuseTopic(PublishPacket p, boolean v5, String why) {
        if (!v5 || p.qos() == 0) {
            connection.disconnect(ReasonCode.TOPIC_NAME_INVALID, why);
        } else {
            acknowledge(p, ReasonCode.TOPIC_NAME_INVALID, why);
        }
    }

    /** The ACL's answer if there is one; without, only {@code $SYS} is refused (read-only for every client). */
    private boolean mayPublish(String topic) {
        TopicAccess access = connection.topicAccess();
        if (access != null) {
            return access.canPublish(topic);
        }
        return topic.isEmpty() || topic.charAt(0) != '$' || !Acl.isSystemTopic(topic);
    }

    /**
     * A PUBLISH the client may not make is dropped. 3.x has no way to say so: QoS 1/2 get a normal PUBACK/PUBREC, as
     * [MQTT-3.3.5-2] allows ("either make a positive acknowledgement ... or close the Network Connection"); 5.0 gets
     * PUBACK/PUBREC 0x87 Not authorized (3.4.2.1, 3.5.2.1). Logged at most once per 10 s per connection.
     */
    private void notAuthorized(PublishPacket p, String topic) {
        metrics.aclDenied(BrokerMetrics.AclAction.PUBLISH);
        if (deniedLog == null) {
            deniedLog = new RateLimitedLog(LOG, Level.INFO, DENY_LOG_INTERVAL, nanoClock);
        }
        deniedLog.log("Client '{}' ({}) may not publish to '{}': dropped", connection.clientId(),
                connection.remoteAddress(), topic);
        boolean v5 = connection.version().isV5();
        if (p.qos() == 0) {
            return; // nothing to answer
        }
        if (v5) {
            acknowledge(p, ReasonCode.NOT_AUTHORIZED, "not authorized");
            return;
        }
        if (p.qos() == 2) {
            // the 3.x flow goes on as for an accepted message: PUBREC, then PUBREL/PUBCOMP
            connection.session().beginInboundQos2(p.packetId());
        }
        acknowledge(p, ReasonCode.SUCCESS); // [MQTT-3.3.5-2] (3.1.1)
    }

    private void acknowledge(PublishPacket p, ReasonCode rc) {
        acknowledge(p, rc, null, false);
    }

    private void acknowledge(PublishPacket p, ReasonCode rc, String reasonString) {
        acknowledge(p, rc, reasonString, false);
    }

    /**
     * PUBACK or PUBREC once what the message brought is stored. If the store lost it, the publisher is told so and
     * re-sends: 5.0 gets the same acknowledgement with 0x80 Unspecified error, 3.x (which has no way to refuse) no
     * acknowledgement and a closed connection. A QoS 2 packet id this PUBLISH began to await PUBREL is forgotten
     * then, so the re-sent PUBLISH is routed again rather than taken for a duplicate of a message never stored.
     */
    private void acknowledge(PublishPacket p, ReasonCode rc, String reasonString, boolean beganQos2) {
        int id = p.packetId();
        // [MQTT-3.1.2-29] (5.0) a Reason String only if the client did not set Request Problem Information to 0
        Properties props = connection.reasonProperties(reasonString, false);
        Runnable failed = () -> {
            Session session = connection.session();
            if (beganQos2) {
                session.execute(() -> session.undoInboundQos2(id, false));
            }
            if (!connection.version().isV5()) {
                connection.storeFailed("PUBLISH");
            } else if (p.qos() == 1) {
                connection.write(new PubAckPacket(id, ReasonCode.UNSPECIFIED_ERROR,
                        connection.reasonProperties(ConnectionPort.STORE_FAILED, false)));
            } else {
                connection.write(new PubRecPacket(id, ReasonCode.UNSPECIFIED_ERROR,
                        connection.reasonProperties(ConnectionPort.STORE_FAILED, false)));
            }
        };
        if (p.qos() == 1) {
            PubAckPacket ack = new PubAckPacket(id, rc, props);
            store.whenDurable(() -> connection.write(ack), failed);
        } else {
            PubRecPacket rec = new PubRecPacket(id, rc, props);
            if (rc.isError()) {
                // a refused QoS 2 message is over with the PUBREC: its packet id is free again
                connection.session().releaseInboundQos2(id);
            }
            store.whenDurable(() -> connection.write(rec), failed);
        }
    }

    void onPubRel(PubRelPacket p) {
        Session session = connection.session();
        int id = p.packetId();
        boolean known = session.releaseInboundQos2(id);
        ReasonCode rc = known || !connection.version().isV5() ? ReasonCode.SUCCESS
                : ReasonCode.PACKET_IDENTIFIER_NOT_FOUND;
        // [MQTT-4.3.3-2] (3.1.1) PUBCOMP for every PUBREL; once the packet id's release is durable, so that a later PUBLISH
        // reusing it after a crash is not taken for a duplicate. If the release was not stored, the id awaits PUBREL
        // again and the connection closes without PUBCOMP (5.0 has no error code for it): the client re-sends PUBREL.
        PubCompPacket comp = new PubCompPacket(id, rc, Properties.EMPTY);
        store.whenDurable(() -> connection.write(comp), () -> {
            if (known) {
                session.execute(() -> session.undoInboundQos2(id, true));
            }
            connection.storeFailed("PUBREL");
        });
    }

    private static boolean isWellFormedUtf8(byte[] payload) {
        try {
            MqttStrings.decode(Unpooled.wrappedBuffer(payload), 0, payload.length);
            return true;
        } catch (DecodeException e) {
            return false;
        }
    }
}
