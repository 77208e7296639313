package io.starling.server.protocol;

import io.starling.broker.acl.TopicAccess;
import io.starling.broker.session.Session;
import io.starling.codec.Properties;
import io.starling.codec.ProtocolVersion;
import io.starling.codec.ReasonCode;
import io.starling.codec.packet.MqttPacket;
import java.net.SocketAddress;

/**
 * What the packet handlers of a connected client ({@link PublishHandler}, {@link SubscribeHandler}) may ask of
 * their connection: who the client is, writing an answer, and ending the connection. Implemented by
 * {@link MqttConnection}; everything on the connection's event loop.
 */
interface ConnectionPort {

    /** Reason string when an acknowledgement is refused because the store could not write. */
    String STORE_FAILED = "the broker could not store it; send it again later";

    /** The version of the CONNECT; {@code null} before it. */
    ProtocolVersion version();

    /** The client identifier (assigned when the client sent none); {@code null} before CONNECT. */
    String clientId();

    /** Whether the client is a broker bridging to this one (Mosquitto's bridge flag in its CONNECT). */
    default boolean isBridge() {
        return false;
    }

    /** The attached session; {@code null} before it is opened. */
    Session session();

    /** The client's rights under the ACL, {@code null} without an ACL. */
    TopicAccess topicAccess();

    /** The client's address, for log lines. */
    SocketAddress remoteAddress();

    /** Writes a packet; it is flushed at the end of the event loop's current batch. */
    void write(MqttPacket packet);

    /**
     * Properties carrying a Reason String, if the client allows it: always on CONNACK and DISCONNECT, elsewhere only
     * when Request Problem Information is not 0 [MQTT-3.1.2-29] (5.0). Empty on 3.x.
     */
    Properties reasonProperties(String reasonString, boolean connackOrDisconnect);

    /**
     * A PUBLISH took the client over its publish rate: the connection stops being read (what was read already is
     * still handled) until {@code limiter} allows the next PUBLISH, {@code waitNanos} from now or later.
     */
    void publishRateExceeded(PublishRateLimiter limiter, long waitNanos);

    /** Ends the connection on the server's initiative with a reason (DISCONNECT on 5.0, close on 3.x), logged once. */
    void disconnect(ReasonCode reason, String why);

    /** Ends the connection for a protocol violation: DISCONNECT 0x82 on 5.0, close on 3.x; the Will is sent. */
    void protocolError(String why);

    /**
     * The store could not write what an acknowledgement of {@code what} depends on, and the protocol has no error
     * code for it (3.x, or a PUBCOMP): the connection closes without the acknowledgement (5.0: DISCONNECT 0x80), so
     * the client re-sends on its next connection.
     */
    void storeFailed(String what);
}
