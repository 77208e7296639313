package io.starling.broker.session;

import io.starling.broker.acl.TopicAccess;
import io.starling.broker.message.Delivery;
import io.starling.broker.message.Message;
import io.starling.broker.time.Clock;
import io.starling.codec.PacketEncoder;
import io.starling.codec.Properties;
import io.starling.codec.ProtocolVersion;
import io.starling.codec.packet.PublishPacket;

/**
 * What of a delivery reaches the attached connection, and as what PUBLISH: the one place on the session side for the
 * checks made on every outbound message: the ACL's read check, message expiry and the client's Maximum Packet Size.
 * One per attached connection; confined to the session's owner loop.
 */
final class DeliveryFilter {

    /** Why a delivery is not sent. */
    enum Verdict {
        /** It is sent. */
        SEND,
        /** The client may not read its topic under the ACL. */
        NOT_AUTHORIZED,
        /** Its Message Expiry Interval has passed [MQTT-3.3.2-5]. */
        EXPIRED
    }

    /** The client's rights under the ACL; {@code null} without an ACL (nothing to check). */
    private final TopicAccess access;
    private final ProtocolVersion version;
    /** The client's Maximum Packet Size (5.0), {@code Long.MAX_VALUE} when unlimited. */
    private final long maxPacketSize;
    private final Clock clock;

    /** For a connection: its rights, protocol version and Maximum Packet Size, all fixed by its CONNECT. */
    DeliveryFilter(TopicAccess access, ProtocolVersion version, long maxPacketSize, Clock clock) {
        this.access = access;
        this.version = version;
        this.maxPacketSize = maxPacketSize;
        this.clock = clock;
    }

    /** The client's rights under the ACL, {@code null} without an ACL. */
    TopicAccess access() {
        return access;
    }

    /**
     * Whether the client may read a topic: a wildcard subscription, a retained, a queued or a re-sent message never
     * shows a topic the client may not read (checked per delivered topic, with the client's decision cache).
     */
    boolean mayRead(String topic) {
        return access == null || access.canRead(topic);
    }

    /** Whether {@code d} is sent, checked before it gets a packet id. */
    Verdict check(Delivery d) {
        Message m = d.message();
        if (!mayRead(m.topic())) {
            return Verdict.NOT_AUTHORIZED;
        }
        // [MQTT-3.3.2-5] expired before onward delivery started: this subscriber's copy is deleted
        if (m.expiresAtMillis() != Message.NEVER && m.isExpired(clock.millis())) {
            return Verdict.EXPIRED;
        }
        return Verdict.SEND;
    }

    /**
     * Whether the PUBLISH fits the client's Maximum Packet Size; one that does not is discarded as if it had been
     * delivered [MQTT-3.1.2-25].
     */
    boolean fits(PublishPacket packet) {
        return maxPacketSize == Long.MAX_VALUE || PacketEncoder.encodedSize(packet, version) <= maxPacketSize;
    }

    /**
     * The PUBLISH of {@code d} for this connection: on 5.0 with its Subscription Identifiers and, if the message
     * expires, the interval left [MQTT-3.3.2-6]; on 3.x without properties.
     */
    PublishPacket toPacket(Delivery d, int packetId, boolean dup) {
        Message m = d.message();
        Properties props = m.properties();
        if (version.isV5()) {
            boolean expires = m.expiresAtMillis() != Message.NEVER;
            if (!d.subscriptionIds().isEmpty() || expires) {
                Properties.Builder b = props.toBuilder();
                d.subscriptionIds().forEach(b::addSubscriptionIdentifier);
                if (expires) {
                    // [MQTT-3.3.2-6] forward the interval minus the time the message waited here
                    b.messageExpiryInterval(Math.max(1, m.remainingExpirySeconds(clock.millis())));
                }
                props = b.build();
            }
        } else {
            props = Properties.EMPTY;
        }
        return new PublishPacket(m.topic(), d.qos(), d.retain(), dup, packetId, props, m.payload());
    }
}
