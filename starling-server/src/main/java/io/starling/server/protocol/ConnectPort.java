package io.starling.server.protocol;

import io.starling.broker.acl.TopicAccess;
import io.starling.broker.auth.CertificateIdentity;
import io.starling.broker.session.ClientConnection;
import io.starling.broker.session.Session;
import io.starling.codec.ProtocolVersion;
import io.starling.codec.ReasonCode;
import io.starling.codec.packet.ConnAckPacket;
import io.starling.codec.packet.DisconnectPacket;
import io.starling.codec.packet.Will;

/**
 * What {@link ConnectHandler} may ask of its connection on top of {@link ConnectionPort}: the steps of the
 * connection's state machine (which lives in {@link ConnectionState}, the only class that changes it) and what the
 * CONNECT negotiated; and the connection as the session manager sees it ({@link ClientConnection}), to open the
 * session for it. Everything on the connection's event loop.
 */
interface ConnectPort extends ConnectionPort, ClientConnection {

    @Override
    ProtocolVersion version();

    @Override
    TopicAccess topicAccess();

    @Override
    void write(io.starling.codec.packet.MqttPacket packet);

    /** Where the connection is in its life. */
    MqttConnection.State state();

    /** A CONNECT in {@code version} arrived: answers from now on are in that version. */
    void connecting(ProtocolVersion version);

    /** The client identifier of the connection (the client's, or the one assigned to it). */
    void identified(String clientId);

    /**
     * The CONNECT carried Mosquitto's bridge flag (3.x Protocol Level with bit 7 set): the client is a broker bridging
     * to this one, and its subscriptions are No Local and Retain As Published whatever it asks.
     */
    default void bridgeConnection() {
    }

    /**
     * What a 5.0 client announced in its CONNECT: Receive Maximum, Maximum Packet Size ({@code Long.MAX_VALUE} for
     * none), Topic Alias Maximum, and whether it accepts Reason Strings beyond CONNACK and DISCONNECT.
     */
    void clientLimits(int receiveMaximum, long maximumPacketSize, int topicAliasMaximum, boolean problemInformation);

    /** Starts the keep-alive of the CONNECT (seconds, 0 = none), counted from now. */
    void keepAlive(int seconds);

    /** AWAIT_CONNECT → AUTHENTICATING: a 5.0 AUTH exchange begins. */
    void startAuthenticating();

    /** → VERIFYING: credentials are checked off the loop; packets pipelined behind the CONNECT are held. */
    void startVerifying();

    /** The client's rights under the ACL, once it is authenticated ({@code null} without an ACL). */
    void authorized(TopicAccess access);

    /**
     * → OPENING: the session is being opened; the connect timeout no longer applies; packets are held. From now on
     * the connection keeps the CONNECT's Will ({@code null} for none), to publish should it end without a normal
     * DISCONNECT, and whether the CONNECT's session expiry was 0 (which a 5.0 DISCONNECT may not change).
     */
    void startOpening(Will will, boolean sessionExpiryWasZero);

    /** The session was attached to this connection. */
    void sessionOpened(Session session);

    /** OPENING → CONNECTED: writes the CONNACK, then handles what the client pipelined behind its CONNECT. */
    void accept(ConnAckPacket connAck);

    /** The client went away while its session was being opened: nothing more happens on this connection. */
    void abandon();

    /** The Will is not to be published (the session could not be stored: the client never connected). */
    void discardWill();

    /** Refuses the CONNECT: CONNACK with the reason (a 3.x return code where 3.x has one), then close; logged. */
    void refuseConnect(ReasonCode reason, String why);

    /** As {@link #refuseConnect(ReasonCode, String)}, without a log line (the caller logs, or logs at DEBUG). */
    void refuseConnectQuietly(ReasonCode reason, String why);

    /** Refuses the CONNECT with a CONNACK of the caller's (enhanced authentication failed), then close. */
    void refuseConnect(ConnAckPacket connAck);

    /** Refuses the CONNECT by closing the connection, for a refusal 3.x has no return code for; logged. */
    void closeWithoutConnAck(String why);

    /** Ends a connected client's connection with the caller's DISCONNECT (re-authentication failed). */
    void closeWith(DisconnectPacket disconnect);

    /** The names of the client's verified certificate, {@code null} without one. */
    CertificateIdentity certificate();
}
