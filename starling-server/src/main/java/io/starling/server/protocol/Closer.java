package io.starling.server.protocol;

import io.starling.broker.Broker;
import io.starling.broker.message.Message;
import io.starling.broker.message.PendingWill;
import io.starling.broker.session.Session;
import io.starling.codec.Properties;
import io.starling.codec.ProtocolVersion;
import io.starling.codec.ReasonCode;
import io.starling.codec.packet.ConnAckPacket;
import io.starling.codec.packet.DisconnectPacket;
import io.starling.codec.packet.Will;
import io.starling.server.wire.DecodeFailure;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a connection ends: the single place where a failure becomes a refusing CONNACK, a DISCONNECT with a reason
 * (5.0, with its grace period) or a closed socket (3.x), with its log line and metric; the client's own DISCONNECT
 * and its effect on the Will and the session expiry; and the Will of a connection that has gone. It decides; the
 * {@link MqttConnection} performs the end and its transition to CLOSED ({@code end*} methods), which stays the only
 * place the state changes.
 *
 * <p>Stateless (static methods): an idle connection pays nothing for it. Its log lines are the connection's (logged
 * under {@link MqttConnection}'s logger). Thread-safety: called on the connection's event loop only.
 */
final class Closer {

    private static final Logger LOG = LoggerFactory.getLogger(MqttConnection.class);
    /** How long a DISCONNECT sent before closing may take to leave before the connection is closed anyway. */
    static final long CLOSE_GRACE_NANOS = TimeUnit.SECONDS.toNanos(5);

    private Closer() {
    }

    /** Closes the connection; 5.0 clients that completed CONNECT get DISCONNECT with the reason first. */
    static void closeWithReason(MqttConnection c, ReasonCode reason, String reasonString) {
        MqttConnection.State state = c.state();
        if (state == MqttConnection.State.CLOSED) {
            return;
        }
        ProtocolVersion version = c.version();
        if (version != null && version.isV5() && state == MqttConnection.State.CONNECTED && c.channel().isWritable()) {
            // a reason string the client's Maximum Packet Size has no room for is left out (OutboundPackets); a
            // client that stops reading now would keep the DISCONNECT, and the connection, pending for ever: closed
            // after the grace period whether or not it has left
            c.endWith(new DisconnectPacket(reason, c.reasonProperties(reasonString, true)), CLOSE_GRACE_NANOS);
        } else {
            // 3.x, or a client that does not read what it is sent: a DISCONNECT would wait behind the rest
            c.endAfterFlush();
        }
    }

    /** Ends the connection on the server's initiative: counted as a protocol error and logged, then closed. */
    static void disconnect(MqttConnection c, ReasonCode reason, String why) {
        c.broker().metrics().protocolErrors.increment();
        LOG.info("Client '{}' ({}): {}; disconnecting with {}", c.clientId(), c.channel().remoteAddress(), why, reason);
        closeWithReason(c, reason, why);
    }

    /** The store could not keep what a packet of {@code what} brought: see {@link ConnectionPort#storeFailed}. */
    static void storeFailed(MqttConnection c, String what) {
        LOG.debug("Client '{}' ({}): the store could not keep what its {} brought; closing the connection", c.clientId(),
                c.channel().remoteAddress(), what);
        closeWithReason(c, ReasonCode.UNSPECIFIED_ERROR, ConnectionPort.STORE_FAILED);
    }

    /** A failure of the channel: closed with 5.0's Unspecified error. */
    static void failed(MqttConnection c, Throwable cause) {
        if (cause instanceof java.io.IOException) {
            LOG.debug("Client '{}' connection error: {}", c.clientId(), cause.toString());
        } else {
            LOG.warn("Client '{}' unexpected error, closing the connection", c.clientId(), cause);
        }
        closeWithReason(c, ReasonCode.UNSPECIFIED_ERROR, null);
    }

    /** 1.5 times the Keep Alive passed without a packet from the client; {@code gate} is the connection's, or null. */
    static void keepAliveExpired(MqttConnection c, ReadGate gate) {
        if (gate != null && gate.readsNothingItIsSent()) {
            // its PINGREQs may wait unread in the socket, but it has not taken a byte for a whole keep-alive period
            // (1.5 times Keep Alive): dead, or not working as a client (it would not see a PINGRESP either)
            LOG.info("Client '{}' has read nothing it was sent for a keep-alive period, disconnecting", c.clientId());
        } else if (gate != null && gate.isPaused()) {
            return; // not reading by our own choice: the client's PINGREQs wait unread in the socket, it is not silent
        } else {
            // [MQTT-3.1.2-24] (3.1.1) / [MQTT-3.1.2-22] (5.0) nothing received within 1.5 times the Keep Alive: close
            // as a network failure
            LOG.info("Client '{}' keep-alive timeout, disconnecting", c.clientId());
        }
        closeWithReason(c, ReasonCode.KEEP_ALIVE_TIMEOUT, "keep-alive timeout");
    }

    // ---------------------------------------------------------------- before CONNACK

    /** Refuses the CONNECT: CONNACK with the reason, then close; logged at INFO if {@code log}. */
    static void refuse(MqttConnection c, ReasonCode reason, String why, boolean log) {
        c.broker().metrics().connectRefused(reason);
        if (log) {
            LOG.info("{}: CONNECT refused: {} ({})", c.channel().remoteAddress(), why, reason);
        }
        // [MQTT-3.2.2-4] (3.1.1) / [MQTT-3.2.2-6] (5.0) Session Present is 0 with a refusal
        c.endWith(new ConnAckPacket(false, reason, c.reasonProperties(why, true)), 0);
    }

    /** Refuses the CONNECT by closing, for a refusal 3.x has no return code for. */
    static void closeWithoutConnAck(MqttConnection c, String why) {
        LOG.info("{}: CONNECT refused: {}; closing without CONNACK", c.channel().remoteAddress(), why);
        c.end();
    }

    /** No CONNECT, or authentication not done, within the connect timeout. */
    static void connectTimedOut(MqttConnection c) {
        LOG.debug("{}: no CONNECT within {} ms, closing", c.channel().remoteAddress(),
                c.broker().config().connectTimeout().toMillis());
        c.end();
    }

    /** A packet could not be decoded (or broke a limit of the transport). */
    static void decodeFailed(MqttConnection c, DecodeFailure f) {
        if (!f.logged()) { // limits on incomplete packets are logged (rate-limited) where they are enforced
            c.broker().metrics().protocolErrors.increment();
            LOG.info("{} client '{}': {} ({}), closing", c.channel().remoteAddress(), c.clientId(), f.message(),
                    f.reasonCode());
        }
        if (!f.duringConnect()) {
            closeWithReason(c, f.reasonCode(), f.message());
            return;
        }
        ReasonCode r = f.reasonCode();
        if (r == ReasonCode.UNSUPPORTED_PROTOCOL_VERSION) {
            // [MQTT-3.1.2-2] CONNACK 0x01 (3.x) / 0x84 (5.0), then close
            c.connecting(f.version() == ProtocolVersion.MQTT_5 ? f.version() : ProtocolVersion.MQTT_3_1_1);
            refuse(c, r, null, false);
        } else if (f.version() == ProtocolVersion.MQTT_5) {
            // [MQTT-3.1.4-1] 5.0: a CONNACK with the reason code may precede the close
            c.connecting(f.version());
            refuse(c, r, f.message(), false);
        } else {
            c.end();
        }
    }

    // ---------------------------------------------------------------- the client's DISCONNECT, the Will

    /**
     * The client sent DISCONNECT: 5.0 may set a new session expiry (not from 0 [MQTT-3.14.2-2]) and keep the Will
     * with reason 0x04; otherwise the Will is discarded [MQTT-3.1.2-10] (3.1.1) [MQTT-3.14.4-3] (5.0). What was
     * written goes out, then the connection closes [MQTT-3.14.4-1] (3.1.1).
     *
     * @param expiryWasZero the session expiry of the CONNECT was 0
     */
    static void clientDisconnected(MqttConnection c, DisconnectPacket d, boolean expiryWasZero) {
        if (c.version().isV5()) {
            Long newExpiry = d.properties().sessionExpiryInterval();
            if (newExpiry != null) {
                if (expiryWasZero && newExpiry != 0) {
                    c.protocolError("session expiry changed from 0 at DISCONNECT");
                    return;
                }
                c.session().expiryIntervalSeconds(Math.min(newExpiry, c.broker().config().maxSessionExpirySeconds()));
            }
            if (d.reasonCode() != ReasonCode.DISCONNECT_WITH_WILL_MESSAGE) {
                c.discardWill();
            }
        } else {
            c.discardWill();
        }
        c.endAfterFlush();
    }

    /**
     * The channel has closed, in state {@code previous}: a session that was attached goes back to the session
     * manager with the Will still held, to be published [MQTT-3.1.2-8] (no normal DISCONNECT).
     */
    static void closed(MqttConnection c, MqttConnection.State previous) {
        Session session = c.session();
        if (session != null && (previous == MqttConnection.State.CONNECTED || previous == MqttConnection.State.CLOSED)) {
            c.broker().sessions().onConnectionClosed(session, c, c.takeWill());
        }
    }

    /** The Will as a message to publish now, or {@code null} without one. */
    static PendingWill pendingWill(Will w, String clientId, Broker broker) {
        if (w == null) {
            return null;
        }
        Properties p = w.properties();
        Long delay = p.willDelayInterval();
        if (delay != null) {
            p = p.toBuilder().willDelayInterval(null).build();
        }
        return new PendingWill(Message.published(w.topic(), w.qos(), w.retain(), w.payload(), p, clientId,
                broker.clock().millis()), delay == null ? 0 : delay);
    }
}
