package io.starling.broker.session;

import io.netty.util.concurrent.EventExecutor;
import io.starling.broker.acl.TopicAccess;
import io.starling.broker.message.PendingWill;
import io.starling.codec.ProtocolVersion;
import io.starling.codec.ReasonCode;
import io.starling.codec.packet.MqttPacket;

/**
 * What a session needs from the network connection it is attached to. Implemented by the transport; every
 * method is called on {@link #eventLoop()} only.
 */
public interface ClientConnection {

    ProtocolVersion version();

    /** The event loop that owns the connection and, while attached, its session. */
    EventExecutor eventLoop();

    /** False while the socket's outbound buffer is above its high-water mark: stop writing until it drains. */
    boolean isWritable();

    /** Writes a packet; the flush happens once at the end of the event loop's current batch. */
    void write(MqttPacket packet);

    /** The most QoS 1/2 PUBLISH packets the client accepts unacknowledged (v5 Receive Maximum). */
    int clientReceiveMaximum();

    /** The largest packet the client accepts (v5 Maximum Packet Size), {@code Long.MAX_VALUE} when unlimited. */
    long clientMaximumPacketSize();

    /**
     * Closes the connection on the server's initiative because another connection took its session over: v5
     * clients get DISCONNECT 0x8E first [MQTT-3.1.4-2]. The Will has been taken by then ({@link #takeWill}).
     */
    void closeForTakeover();

    /**
     * Takes the connection's Will away (it will not publish it itself), for the session manager to publish or
     * drop as the specification says; {@code null} when there is none.
     */
    PendingWill takeWill();

    /** The connection's Will as it would be published now, without taking it (for the store); {@code null} if none. */
    default PendingWill peekWill() {
        return null;
    }

    /** Closes the connection on the server's initiative with a reason (sent as DISCONNECT on v5). */
    void closeWithReason(ReasonCode reason);

    /**
     * The client's rights under the ACL, checked for every message sent to it; {@code null} when the broker has no
     * ACL (then nothing is checked). Taken by the session when the connection is attached.
     */
    default TopicAccess topicAccess() {
        return null;
    }

    /**
     * Who is connected, for operators (the admin API); {@code null} when the transport does not say. Fixed once the
     * session is opened for the connection.
     */
    default ConnectionInfo info() {
        return null;
    }
}
