package io.starling.server.protocol;

import io.starling.broker.acl.Acl;
import io.starling.broker.acl.ClientIdentity;
import io.starling.broker.acl.Placeholders;
import io.starling.broker.acl.TopicAccess;
import io.starling.broker.auth.AuthExchange;
import io.starling.broker.auth.AuthFailureLimiter;
import io.starling.broker.auth.AuthRequest;
import io.starling.broker.auth.AuthResult;
import io.starling.broker.auth.AuthStep;
import io.starling.broker.auth.Authenticator;
import io.starling.broker.auth.CertificateIdentity;
import io.starling.broker.auth.EnhancedAuthenticator;
import io.starling.broker.auth.ListenerSecurity;
import io.starling.broker.Broker;
import io.starling.broker.config.BrokerConfig;
import io.starling.broker.config.ListenerConfig;
import io.starling.broker.metrics.BrokerMetrics;
import io.starling.broker.session.ConnectionInfo;
import io.starling.broker.session.Session;
import io.starling.broker.store.Store;
import io.starling.codec.Properties;
import io.starling.codec.ProtocolVersion;
import io.starling.codec.ReasonCode;
import io.starling.codec.packet.AuthPacket;
import io.starling.codec.packet.ConnAckPacket;
import io.starling.codec.packet.ConnectPacket;
import io.starling.codec.packet.DisconnectPacket;
import io.starling.codec.packet.MqttPacket;
import io.starling.codec.packet.Will;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * CONNECT and enhanced authentication (AUTH, 5.0 section 4.12, re-authentication included) of one connection:
 * client identifier rules, keep-alive, session expiry, the Will, the server's capabilities announced in CONNACK, and
 * opening the session; it also holds the packets pipelined behind the CONNECT until CONNACK. CONNECT-time state:
 * the connection drops it once connected, unless the client may re-authenticate ({@link #mayReauthenticate}).
 * Runs on the connection's event loop.
 */
final class ConnectHandler {

    /** Client ids of the broker's own bridge sessions ({@code $bridge/<name>}); refused to clients. */
    static final String BRIDGE_CLIENT_ID_PREFIX = "$bridge/";

    private static final Logger LOG = LoggerFactory.getLogger(ConnectHandler.class);
    /** An authentication backend that is down fails every login: one line every 10 s for the whole broker. */
    private static final io.starling.broker.log.RateLimitedLog AUTH_ERRORS = new io.starling.broker.log.RateLimitedLog(
            LOG, org.slf4j.event.Level.WARN, java.time.Duration.ofSeconds(10));

    private final ConnectPort c;
    private final Broker broker;
    private final ListenerSecurity security;
    private final Store store;
    private final LongSupplier nanoClock;
    private final BrokerConfig config;
    /** The CONNECT, until the client is connected (what is needed later is kept on its own). */
    private ConnectPacket connect;
    private String username;
    private String authMethod;
    private AuthExchange exchange;
    private boolean reauthenticating;
    private boolean assignedId;
    private Integer serverKeepAlive;
    private Long cappedSessionExpiry;
    private long sessionExpiry;
    private String authenticatedUser;
    /** The Keep Alive in force (the Server Keep Alive where one was set), for {@link ConnectionInfo}. */
    private int keepAliveInForce;
    /** Who connected, as operators see it; made when the session is to be opened. */
    private ConnectionInfo info;
    private CompletableFuture<AuthResult> pendingAuth;
    /** Attributes of the authenticator's answer, for {@code %{name}} in ACL rules. */
    private java.util.Map<String, String> attributes = java.util.Map.of();
    private CertificateIdentity certificate;
    private boolean certificateRead;
    /** Packets pipelined behind the CONNECT while VERIFYING/OPENING; created for the first one. */
    private ArrayDeque<MqttPacket> held;

    /**
     * @param security how the listener authenticates clients
     * @param store where the session's record is made durable before CONNACK
     * @param nanoClock the clock of the flapping detection
     */
    ConnectHandler(ConnectPort connection, Broker broker, ListenerSecurity security, Store store,
            LongSupplier nanoClock) {
        this.c = connection;
        this.broker = broker;
        this.security = security;
        this.store = store;
        this.nanoClock = nanoClock;
        this.config = broker.config();
    }

    // ---------------------------------------------------------------- CONNECT

    void onConnect(ConnectPacket p) {
        connect = p;
        username = p.username();
        c.connecting(p.version());
        ProtocolVersion version = p.version();
        InetAddress address = remoteAddress();
        if (security.limiter().isBlocked(address)) {
            // too many failed logins from this address: refused without looking at the credentials (logged at DEBUG
            // only: the block itself was logged when it started)
            LOG.debug("{}: CONNECT refused, address blocked after failed logins", c.remoteAddress());
            c.refuseConnectQuietly(ReasonCode.BANNED, "too many failed logins from this address, try again later");
            return;
        }
        Properties props = p.properties();
        String id = p.clientId();
        if (id.isEmpty()) {
            if (version == ProtocolVersion.MQTT_3_1 || (version == ProtocolVersion.MQTT_3_1_1 && !p.cleanStart())) {
                // [MQTT-3.1.3-8] (3.1.1) a zero-byte ClientId needs CleanSession=1 (3.1 always requires an id)
                c.refuseConnect(ReasonCode.CLIENT_IDENTIFIER_NOT_VALID, "empty client id without clean session");
                return;
            }
            // [MQTT-3.1.3-6] assign a unique ClientId; 5.0 returns it in CONNACK [MQTT-3.2.2-16]
            id = "starling-" + UUID.randomUUID();
            assignedId = true;
        } else if (id.length() > config.maxClientIdLength()) {
            c.refuseConnect(ReasonCode.CLIENT_IDENTIFIER_NOT_VALID, "client id longer than " + config.maxClientIdLength());
            return;
        } else if (id.startsWith(Broker.RESERVED_PREFIX)) {
            // the broker's own stored records (the cluster's) use these ids: a client must not take them over
            c.refuseConnect(ReasonCode.CLIENT_IDENTIFIER_NOT_VALID, "client ids beginning with "
                    + Broker.RESERVED_PREFIX + " are reserved");
            return;
        }
        if (id.startsWith(BRIDGE_CLIENT_ID_PREFIX)) {
            // the local sessions of the broker's own bridges: never reachable by a client
            c.refuseConnect(ReasonCode.CLIENT_IDENTIFIER_NOT_VALID, "client ids beginning with "
                    + BRIDGE_CLIENT_ID_PREFIX + " are reserved for the broker's bridges");
            return;
        }
        c.identified(id);
        if (p.bridge()) {
            // Mosquitto's bridge flag: the remote broker is not sent back its own messages (as No Local)
            c.bridgeConnection();
        }
        String willTopicTooBig = p.will() == null ? null : broker.topicLimits().violation(p.will().topic());
        if (willTopicTooBig != null) {
            if (version.isV5()) {
                // CONNACK 0x90: "The Will Topic Name is not malformed, but is not accepted by this Server" (5.0 3.2.2.2)
                c.refuseConnect(ReasonCode.TOPIC_NAME_INVALID, "will " + willTopicTooBig);
            } else {
                // 3.x has no fitting return code: close without CONNACK (docs/security.md, Limits)
                broker.metrics().connectRefused(ReasonCode.TOPIC_NAME_INVALID); // as it is refused on 5.0
                c.closeWithoutConnAck("will " + willTopicTooBig);
            }
            return;
        }
        if (version.isV5()) {
            long requested = props.sessionExpiryInterval() == null ? 0 : props.sessionExpiryInterval();
            sessionExpiry = Math.min(requested, config.maxSessionExpirySeconds());
            if (sessionExpiry != requested) {
                cappedSessionExpiry = sessionExpiry; // told to the client in CONNACK [MQTT-3.2.2-?]
            }
            c.clientLimits(props.receiveMaximum() == null ? 65_535 : props.receiveMaximum(),
                    props.maximumPacketSize() == null ? Long.MAX_VALUE : props.maximumPacketSize(),
                    props.topicAliasMaximum() == null ? 0 : props.topicAliasMaximum(),
                    !Integer.valueOf(0).equals(props.requestProblemInformation()));
            Will w = p.will();
            if (w != null && w.qos() > config.maximumQos()) {
                c.refuseConnect(ReasonCode.QOS_NOT_SUPPORTED, "will QoS above the maximum"); // [MQTT-3.2.2-12] (5.0)
                return;
            }
            if (w != null && w.retain() && !config.retainAvailable()) {
                c.refuseConnect(ReasonCode.RETAIN_NOT_SUPPORTED, "retain not available"); // [MQTT-3.2.2-13] (5.0)
                return;
            }
        } else if (p.cleanStart()) {
            sessionExpiry = 0;
        } else {
            Duration d = config.v3SessionExpiry();
            sessionExpiry = d == null ? 0xFFFF_FFFFL : Math.max(1, d.toSeconds());
        }
        startKeepAlive(p.keepAliveSeconds());
        if (version.isV5() && props.authenticationMethod() != null) {
            startEnhancedAuth(props.authenticationMethod(), props.authenticationData());
            return;
        }
        authenticate();
    }

    // ---------------------------------------------------------------- user name and password, certificates

    /**
     * Decides who the client is (see {@link ListenerSecurity}): the certificate's name on a listener with
     * use-identity-as-username, else the authenticator's answer for the User Name and Password, else anonymous if
     * the listener allows it. A username on a listener without authentication is not verified, so it is not used
     * as the identity.
     */
    private void authenticate() {
        ListenerConfig listener = security.listener();
        CertificateIdentity cert = security.authenticates() || broker.acl() != null ? certificate() : null;
        if (listener.usesCertificateIdentity() && cert != null) {
            String name = listener.useIdentityAsUsername() == ListenerConfig.CertIdentity.CN ? cert.commonName()
                    : cert.firstSubjectAltName();
            if (name == null || name.isEmpty()) {
                c.refuseConnect(ReasonCode.NOT_AUTHORIZED, "the client certificate has no "
                        + listener.useIdentityAsUsername().name());
                return;
            }
            onAuthenticated(name, null);
            return;
        }
        byte[] password = connect.password();
        Authenticator authenticator = security.authenticator();
        if (authenticator != null && (username != null || password != null)) {
            // checks in progress count against the failed-login limit: refused before anything expensive is done
            InetAddress address = remoteAddress();
            AuthFailureLimiter limiter = security.limiter();
            AuthFailureLimiter.Admission admission = limiter.tryBegin(address);
            if (admission != AuthFailureLimiter.Admission.ALLOWED) {
                LOG.debug("{}: CONNECT refused, {}", c.remoteAddress(), admission);
                if (admission == AuthFailureLimiter.Admission.BLOCKED) {
                    c.refuseConnectQuietly(ReasonCode.BANNED, "too many failed logins from this address, try again later");
                } else {
                    c.refuseConnectQuietly(ReasonCode.CONNECTION_RATE_EXCEEDED,
                            "too many logins from this address being checked, try again later");
                }
                return;
            }
            c.startVerifying();
            CompletionStage<AuthResult> stage;
            try {
                stage = authenticator.authenticate(new AuthRequest(listener, c.clientId(), username, password, cert,
                        c.remoteAddress() instanceof InetSocketAddress a ? a : null));
            } catch (RuntimeException e) {
                limiter.end(address, false);
                onAuthResult(null, e);
                return;
            }
            pendingAuth = stage.toCompletableFuture();
            // on the future that onClosed cancels, so that a cancelled check ends too
            pendingAuth.whenComplete((result, error) -> {
                // counted when the check ends, even if the client has gone (a check that never ran was cancelled)
                boolean failed = error == null && result != null
                        && (result.outcome() == AuthResult.Outcome.BAD_CREDENTIALS
                        || (result.outcome() == AuthResult.Outcome.IGNORE && !security.anonymousAllowed()));
                if (failed) {
                    broker.metrics().authFailures.increment();
                }
                if (limiter.end(address, failed)) {
                    LOG.warn("Blocking {} after too many failed logins ({}): its CONNECTs are refused for a while",
                            address, limiter);
                }
                try {
                    c.eventLoop().execute(() -> onAuthResult(result, error));
                } catch (RejectedExecutionException e) {
                    // the broker is stopping
                }
            });
            return;
        }
        if (security.anonymousAllowed()) {
            onAuthenticated(null, null);
            return;
        }
        c.refuseConnect(ReasonCode.NOT_AUTHORIZED, username == null ? "a user name is required"
                : "user names cannot be checked on this listener");
    }

    private void onAuthResult(AuthResult result, Throwable error) {
        pendingAuth = null;
        if (c.state() != MqttConnection.State.VERIFYING) {
            return; // closed meanwhile
        }
        if (error != null) {
            Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            if (cause instanceof RejectedExecutionException) {
                c.refuseConnect(ReasonCode.SERVER_BUSY, "too many logins being checked, try again later");
            } else {
                // the cause's stack trace goes with the line; the clients left out are counted in the next one
                AUTH_ERRORS.log("Client '{}' ({}): authentication failed with an error", c.clientId(),
                        c.remoteAddress(), cause);
                c.refuseConnect(ReasonCode.SERVER_UNAVAILABLE, "authentication is not available");
            }
            return;
        }
        switch (result.outcome()) {
            case ALLOW -> {
                attributes = result.attributes();
                if (result.expiresAtMillis() > 0) {
                    disconnectAtExpiry(result.expiresAtMillis());
                }
                onAuthenticated(result.identity(), null);
            }
            case IGNORE -> {
                // no authenticator knew these credentials: anonymous where the listener allows it (as a client
                // without a User Name), else refused as bad credentials (counted against the address)
                if (security.anonymousAllowed()) {
                    onAuthenticated(null, null);
                } else {
                    LOG.info("Client '{}' ({}): failed login as user '{}' (no authenticator answered)", c.clientId(),
                            c.remoteAddress(), username);
                    c.refuseConnect(ReasonCode.BAD_USER_NAME_OR_PASSWORD, "bad user name or password");
                }
            }
            case BAD_CREDENTIALS -> {
                // counted against the address when the check ended (authenticate)
                LOG.info("Client '{}' ({}): failed login as user '{}'", c.clientId(), c.remoteAddress(), username);
                c.refuseConnect(ReasonCode.BAD_USER_NAME_OR_PASSWORD, "bad user name or password");
            }
            case NOT_AUTHORIZED -> c.refuseConnect(ReasonCode.NOT_AUTHORIZED, "not authorized");
            default -> throw new IllegalStateException(result.toString());
        }
    }

    /**
     * Ends the connection when the credentials expire (a JWT's {@code exp}, when its backend says so): DISCONNECT
     * 0xA0 Maximum connect time on 5.0 (no reason code names expired credentials; 0xA0 says that the time this
     * connection was authorized for is over, and a client may reconnect with fresh credentials), a plain close on
     * 3.x. The timer holds the connection weakly: a connection that closed before is not kept until then.
     */
    private void disconnectAtExpiry(long expiresAtMillis) {
        long delay = Math.max(0, expiresAtMillis - System.currentTimeMillis());
        java.lang.ref.WeakReference<ConnectPort> ref = new java.lang.ref.WeakReference<>(c);
        c.eventLoop().schedule(() -> {
            ConnectPort conn = ref.get();
            if (conn != null && conn.state() == MqttConnection.State.CONNECTED) {
                conn.disconnect(ReasonCode.MAXIMUM_CONNECT_TIME, "the credentials expired");
            }
        }, delay, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /** The names of the client's verified certificate, {@code null} without one (read once per connection). */
    private CertificateIdentity certificate() {
        if (!certificateRead) {
            certificateRead = true;
            certificate = c.certificate();
        }
        return certificate;
    }

    /** Counts a failed login against the client's address; logs when that starts a block. */
    private void loginFailed(String who) {
        broker.metrics().authFailures.increment();
        InetAddress address = remoteAddress();
        AuthFailureLimiter limiter = security.limiter();
        if (limiter.recordFailure(address)) {
            LOG.warn("Blocking {} after too many failed logins ({}): its CONNECTs are refused for a while", address,
                    limiter);
        }
        LOG.info("Client '{}' ({}): failed login as {}", c.clientId(), c.remoteAddress(), who);
    }

    private InetAddress remoteAddress() {
        return c.remoteAddress() instanceof InetSocketAddress a ? a.getAddress() : null;
    }

    /**
     * The client is who it is (identity {@code null} = anonymous): its rights under the ACL, the Will's topic, then
     * the session.
     */
    private void onAuthenticated(String identity, byte[] finalAuthData) {
        authenticatedUser = identity;
        if (identity != null) {
            LOG.debug("Client '{}' ({}) authenticated as '{}'", c.clientId(), c.remoteAddress(), identity);
        }
        Acl acl = broker.acl();
        TopicAccess access = null;
        if (acl != null) {
            CertificateIdentity cert = certificate();
            access = acl.accessFor(new ClientIdentity(identity, c.clientId(), cert == null ? List.of() : cert.names(),
                    identity == null ? java.util.Map.of() : attributes));
        }
        c.authorized(access);
        Will w = connect.will();
        if (w != null && connect.bridge() && Acl.isSystemTopic(w.topic())) {
            // a Mosquitto bridge's notification Will (by default on $SYS/broker/connection/<id>/state): no client
            // publishes to $SYS, so the Will is dropped rather than the bridge refused (its state messages there are
            // dropped as any PUBLISH to $SYS)
            LOG.info("Client '{}' ({}) is a bridge with a Will on '{}': dropped, $SYS is the broker's", c.clientId(),
                    c.remoteAddress(), w.topic());
            connect = new ConnectPacket(connect.version(), connect.clientId(), connect.cleanStart(),
                    connect.keepAliveSeconds(), connect.username(), connect.password(), null, connect.properties(),
                    true);
            w = null;
        }
        if (w != null && (Acl.isSystemTopic(w.topic()) || (access != null && !access.canPublish(w.topic())))) {
            // the Will would be a PUBLISH the client may not make: refuse the connection rather than drop it later
            broker.metrics().aclDenied(BrokerMetrics.AclAction.PUBLISH);
            c.refuseConnect(ReasonCode.NOT_AUTHORIZED, "not authorized to publish the will to " + w.topic());
            return;
        }
        openSession(finalAuthData);
    }

    /** Who connected, as operators see it; {@code null} until the session is to be opened. */
    ConnectionInfo info() {
        return info;
    }

    /** The client's address as {@code ip:port}, for operators. */
    private String addressText() {
        if (c.remoteAddress() instanceof InetSocketAddress a) {
            String host = a.getAddress() == null ? a.getHostString() : a.getAddress().getHostAddress();
            return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
        }
        return String.valueOf(c.remoteAddress());
    }

    /** {@code 3.1}, {@code 3.1.1} or {@code 5.0}. */
    static String protocolText(ProtocolVersion v) {
        return switch (v) {
            case MQTT_3_1 -> "3.1";
            case MQTT_3_1_1 -> "3.1.1";
            case MQTT_5 -> "5.0";
        };
    }

    /** The connection closed: a credentials check still waiting for the verifier need not run. */
    void onClosed() {
        CompletableFuture<AuthResult> p = pendingAuth;
        if (p != null) {
            pendingAuth = null;
            p.cancel(false);
        }
    }

    private void startKeepAlive(int requested) {
        int keepAlive = requested;
        int max = config.maxKeepAliveSeconds();
        if (connect.version().isV5() && max > 0 && (keepAlive == 0 || keepAlive > max)) {
            keepAlive = max;
            serverKeepAlive = keepAlive; // [MQTT-3.2.2-21] (5.0) the client must use the Server Keep Alive
        }
        keepAliveInForce = keepAlive;
        c.keepAlive(keepAlive);
    }

    // ---------------------------------------------------------------- enhanced authentication

    private void startEnhancedAuth(String method, byte[] data) {
        EnhancedAuthenticator authenticator = broker.enhancedAuth().find(method);
        if (authenticator == null) {
            c.refuseConnect(ReasonCode.BAD_AUTHENTICATION_METHOD, "authentication method " + method + " not supported");
            return;
        }
        authMethod = method;
        exchange = authenticator.start(c.clientId(), username);
        c.startAuthenticating();
        onAuthStep(exchange.step(data));
    }

    void onAuth(AuthPacket a) {
        String method = a.properties().authenticationMethod();
        if (authMethod == null || !authMethod.equals(method)) {
            // [MQTT-4.12.0-5] / [MQTT-4.12.1-1] AUTH only with the method chosen at CONNECT
            fail(notTheMethodOfConnect(a));
            return;
        }
        if (c.state() == MqttConnection.State.CONNECTED && a.reasonCode() == ReasonCode.RE_AUTHENTICATE
                && !reauthenticating) {
            // 5.0 4.12.1: re-authentication on a live connection, with a fresh exchange
            reauthenticating = true;
            exchange = broker.enhancedAuth().find(method).start(c.clientId(), username);
        } else if (a.reasonCode() != ReasonCode.CONTINUE_AUTHENTICATION || exchange == null
                || (c.state() == MqttConnection.State.CONNECTED && !reauthenticating)) {
            fail("unexpected AUTH " + a.reasonCode());
            return;
        }
        onAuthStep(exchange.step(a.properties().authenticationData()));
    }

    /** Why an AUTH with another method than the CONNECT's (or none) is refused. */
    static String notTheMethodOfConnect(AuthPacket a) {
        return "AUTH with method " + a.properties().authenticationMethod() + ", not the one of CONNECT";
    }

    /** Whether the client may re-authenticate (it connected with an authentication method): kept once connected. */
    boolean mayReauthenticate() {
        return authMethod != null;
    }

    /** Holds a packet pipelined behind the CONNECT until CONNACK. */
    void hold(MqttPacket packet) {
        if (held == null) {
            held = new ArrayDeque<>(2);
        }
        held.add(packet);
    }

    /** The packets held behind the CONNECT, in order ({@code null} for none); no longer held. */
    ArrayDeque<MqttPacket> takeHeld() {
        ArrayDeque<MqttPacket> h = held;
        held = null;
        return h;
    }

    private void fail(String why) {
        if (c.state() == MqttConnection.State.AUTHENTICATING) {
            c.refuseConnect(ReasonCode.PROTOCOL_ERROR, why);
        } else {
            c.protocolError(why);
        }
    }

    private void onAuthStep(AuthStep step) {
        switch (step.outcome()) {
            case CONTINUE -> c.write(new AuthPacket(ReasonCode.CONTINUE_AUTHENTICATION, authProperties(step.data())));
            case SUCCESS -> {
                exchange = null;
                if (reauthenticating) {
                    reauthenticating = false;
                    if (authenticatedUser != null && !authenticatedUser.equals(step.user())) {
                        // re-authentication may renew credentials, not change who the client is
                        c.disconnect(ReasonCode.NOT_AUTHORIZED, "re-authenticated as another user");
                        return;
                    }
                    c.write(new AuthPacket(ReasonCode.SUCCESS, authProperties(step.data())));
                } else {
                    onAuthenticated(step.user(), step.data());
                }
            }
            case FAILURE, REDIRECT -> {
                exchange = null;
                Properties props = step.serverReference() == null ? Properties.EMPTY
                        : Properties.builder().serverReference(step.serverReference()).build();
                LOG.info("Client '{}' authentication with {} failed: {}", c.clientId(), authMethod, step.reasonCode());
                if (!reauthenticating && (step.reasonCode() == ReasonCode.NOT_AUTHORIZED
                        || step.reasonCode() == ReasonCode.BAD_USER_NAME_OR_PASSWORD)) {
                    loginFailed(authMethod + " user '" + username + "'");
                }
                if (reauthenticating) {
                    c.closeWith(new DisconnectPacket(step.reasonCode(), props));
                } else {
                    c.refuseConnect(new ConnAckPacket(false, step.reasonCode(), props));
                }
            }
            default -> throw new IllegalStateException(step.outcome().toString());
        }
    }

    private Properties authProperties(byte[] data) {
        return Properties.builder().authenticationMethod(authMethod).authenticationData(data).build();
    }

    // ---------------------------------------------------------------- session and CONNACK

    private void openSession(byte[] finalAuthData) {
        if (!broker.sessions().acceptsConnections()) {
            // a cluster node that sees fewer members than the cluster's minimum size: 5.0 0x88 Server unavailable,
            // 3.x 0x03; logged at DEBUG only (the loss of members was logged when it happened)
            LOG.debug("{}: CONNECT refused, the cluster is below its minimum size", c.remoteAddress());
            c.refuseConnectQuietly(ReasonCode.SERVER_UNAVAILABLE, "the cluster is below its minimum size");
            return;
        }
        long banned = broker.flapping().connect(c.clientId());
        if (banned > 0) {
            // flapping detection: 5.0 0x9F Connection rate exceeded, 3.x 0x03 Server unavailable (try again later);
            // logged at DEBUG only: the ban itself was logged when it started, and a client in a reconnect loop must
            // not be able to fill the log
            LOG.debug("{}: CONNECT refused, client id '{}' banned for flapping", c.remoteAddress(), c.clientId());
            c.refuseConnectQuietly(ReasonCode.CONNECTION_RATE_EXCEEDED, "client id connects too often; refused for "
                    + Math.max(1, banned / 1_000_000_000L) + " s");
            return;
        }
        info = new ConnectionInfo(authenticatedUser, addressText(), security.listener().type().configName(),
                protocolText(connect.version()), keepAliveInForce, connect.cleanStart(), broker.clock().millis());
        c.startOpening(connect.will(), sessionExpiry == 0);
        broker.sessions().open(c.clientId(), connect.cleanStart(), sessionExpiry, c,
                (s, present) -> onSessionOpened(s, present, finalAuthData));
    }

    private void onSessionOpened(Session s, boolean present, byte[] finalAuthData) {
        c.sessionOpened(s);
        if (c.state() != MqttConnection.State.OPENING) {
            // the client went away while the session was being opened
            c.abandon();
            broker.sessions().onConnectionClosed(s, c, c.takeWill());
            return;
        }
        // the record of a stored session (written when it was attached) is durable before CONNACK
        store.whenDurable(() -> {
            if (c.state() != MqttConnection.State.OPENING) {
                c.abandon();
                broker.sessions().onConnectionClosed(s, c, c.takeWill());
                return;
            }
            // [MQTT-3.2.2-1..3] Session Present: 1 only when an existing session is resumed
            ConnAckPacket connAck = new ConnAckPacket(present, ReasonCode.SUCCESS, connAckProperties(finalAuthData));
            connect = null; // what is needed of it from now on is kept on its own
            c.accept(connAck);
        }, () -> {
            // the session's record was not stored: refused as "server unavailable" (3.x: 0x03), so the client tries
            // again later; it never connected, so there is no Will to publish
            c.discardWill();
            if (c.state() == MqttConnection.State.OPENING) {
                c.refuseConnect(ReasonCode.SERVER_UNAVAILABLE, "the broker could not store the session");
            } else {
                c.abandon();
            }
            broker.sessions().onConnectionClosed(s, c, null);
        });
    }

    private Properties connAckProperties(byte[] finalAuthData) {
        if (!c.version().isV5()) {
            return Properties.EMPTY;
        }
        Properties.Builder b = Properties.builder();
        if (assignedId) {
            b.assignedClientIdentifier(c.clientId()); // [MQTT-3.2.2-16] (5.0)
        }
        if (serverKeepAlive != null) {
            b.serverKeepAlive(serverKeepAlive);
        }
        if (cappedSessionExpiry != null) {
            b.sessionExpiryInterval(cappedSessionExpiry);
        }
        if (config.receiveMaximum() != 65_535) {
            b.receiveMaximum(config.receiveMaximum());
        }
        if (config.maxPacketSize() < BrokerConfig.MQTT_MAX_PACKET_SIZE) {
            b.maximumPacketSize((long) config.maxPacketSize());
        }
        if (config.maximumQos() < 2) {
            b.maximumQos(config.maximumQos());
        }
        if (!config.retainAvailable()) {
            b.retainAvailable(0);
        }
        if (!config.wildcardSubscriptionsAvailable()) {
            b.wildcardSubscriptionAvailable(0);
        }
        if (!config.subscriptionIdentifiersAvailable()) {
            b.subscriptionIdentifierAvailable(0);
        }
        if (!config.sharedSubscriptionsAvailable()) {
            b.sharedSubscriptionAvailable(0);
        }
        if (config.topicAliasMaximum() > 0) {
            b.topicAliasMaximum(config.topicAliasMaximum());
        }
        if (Integer.valueOf(1).equals(connect.properties().requestResponseInformation())
                && config.responseInformation() != null) {
            // 5.0 3.2.2.3.15: Response Information only when the client asked for it; none when the client id cannot
            // stand in a topic level (empty, '/', '+', '#', or a leading '$' at the start): "responses/a/b" for client
            // "a/b" would be below client "a"'s "responses/a/#", "responses/#" a wildcard
            String info = Placeholders.expandClientId(config.responseInformation(), c.clientId());
            if (info != null) {
                b.responseInformation(info);
            } else {
                LOG.info("Client '{}': no Response Information, the client id cannot stand in '{}'", c.clientId(),
                        config.responseInformation());
            }
        }
        if (authMethod != null) {
            b.authenticationMethod(authMethod).authenticationData(finalAuthData);
        }
        return b.build();
    }
}
