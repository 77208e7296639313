package io.starling.broker.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * One MQTT bridge of the {@code bridges} section of the config file (docs/configuration.md, docs/integrations.md):
 * Starling connects as a client to a remote broker and forwards the topics of its mappings in either or both
 * directions. Immutable.
 *
 * @param name the bridge's name: its local session is {@code $bridge/<name>}, its state topic
 *     {@code $SYS/broker/connection/<name>/state}
 * @param addresses the remote broker's addresses, tried in order (failover)
 * @param tls TLS to the remote; {@code null} for plain TCP
 * @param username the user name sent to the remote; {@code null} for none
 * @param password the password sent to the remote; {@code null} for none
 * @param protocol the MQTT version spoken to the remote
 * @param keepAliveSeconds keep-alive of the connection to the remote (PINGREQ when idle)
 * @param clientId the client id on the remote
 * @param cleanStart whether the remote discards the bridge's session on each connection
 * @param sessionExpirySeconds Session Expiry Interval asked of the remote (5.0 only)
 * @param bridgeFlag on 3.1.1, whether the CONNECT carries the bridge flag (protocol level 0x84)
 * @param connectTimeout how long to wait for the remote's CONNACK
 * @param reconnectMin the first delay before connecting again
 * @param reconnectMax the longest delay before connecting again
 * @param mappings the topics forwarded
 * @param localUsername the user name the bridge has under the broker's ACL (client id {@code $bridge/<name>});
 *     {@code null} for none
 * @param maxQueuedMessages the bound of the local session's queue in messages; {@code null} for the broker's
 *     {@code max-queued-messages}
 * @param maxQueuedBytes the bound of the local session's queue in bytes; {@code null} for the broker's
 *     {@code max-queued-bytes}
 */
public record BridgeConfig(String name, List<Address> addresses, Tls tls, String username, String password,
        Protocol protocol, int keepAliveSeconds, String clientId, boolean cleanStart, long sessionExpirySeconds,
        boolean bridgeFlag, Duration connectTimeout, Duration reconnectMin, Duration reconnectMax,
        List<Mapping> mappings, String localUsername, Integer maxQueuedMessages, Long maxQueuedBytes) {

    /** The beginning of the client ids of the bridges' local sessions. */
    public static final String LOCAL_CLIENT_ID_PREFIX = "$bridge/";

    public BridgeConfig {
        addresses = List.copyOf(addresses);
        mappings = List.copyOf(mappings);
        if ((maxQueuedMessages != null && maxQueuedMessages < 0) || (maxQueuedBytes != null && maxQueuedBytes < 0)) {
            throw new IllegalArgumentException("queue limits must not be negative");
        }
    }

    /**
     * The limits of the bridge's local session: the broker's {@code sessions}, with this bridge's queue bounds where
     * it sets them; {@code sessions} itself when it sets none.
     */
    public BrokerConfig.SessionLimits sessionLimits(BrokerConfig.SessionLimits sessions) {
        if (maxQueuedMessages == null && maxQueuedBytes == null) {
            return sessions;
        }
        return new BrokerConfig.SessionLimits(sessions.maxInflightMessages(), sessions.receiveMaximum(),
                maxQueuedMessages != null ? maxQueuedMessages : sessions.maxQueuedMessages(),
                maxQueuedBytes != null ? maxQueuedBytes : sessions.maxQueuedBytes(), sessions.queueQos0Messages(),
                sessions.dropPolicy(), sessions.v3SessionExpiry(), sessions.maxSessionExpirySeconds(),
                sessions.maxSubscriptionsPerClient());
    }

    /** The client id of the bridge's local session: {@code $bridge/<name>}, refused to MQTT clients. */
    public String localClientId() {
        return LOCAL_CLIENT_ID_PREFIX + name;
    }

    /** The MQTT version spoken to the remote. */
    public enum Protocol {
        /** MQTT 3.1.1. */
        MQTT311,
        /** MQTT 5.0. */
        MQTT5
    }

    /** Which way a mapping forwards. */
    public enum Direction {
        /** Local messages to the remote. */
        OUT,
        /** Remote messages into the local broker. */
        IN,
        /** Both ways. */
        BOTH;

        public boolean out() {
            return this != IN;
        }

        public boolean in() {
            return this != OUT;
        }
    }

    /**
     * A remote address.
     *
     * @param host host name or IP address
     * @param port TCP port
     */
    public record Address(String host, int port) {
        @Override
        public String toString() {
            return host + ":" + port;
        }
    }

    /**
     * TLS to the remote.
     *
     * @param ca PEM certificates the remote's certificate must chain to; {@code null} for the JDK's trusted ones
     * @param cert PEM client certificate chain; {@code null} for none
     * @param key PEM private key (PKCS#8) of {@code cert}
     * @param verifyHostname whether the remote's certificate must name the host connected to
     */
    public record Tls(Path ca, Path cert, Path key, boolean verifyHostname) {
    }

    /**
     * One forwarded topic pattern, with Mosquitto's prefix semantics: locally the topics are
     * {@code localPrefix + pattern}, remotely {@code remotePrefix + pattern}; a forwarded message's topic has the one
     * prefix replaced by the other.
     *
     * @param pattern a Topic Filter (wildcards allowed)
     * @param direction which way it forwards
     * @param qos the subscription QoS on the side it is read from (0, 1 or 2)
     * @param localPrefix prefix of the local topics, empty for none
     * @param remotePrefix prefix of the remote topics, empty for none
     */
    public record Mapping(String pattern, Direction direction, int qos, String localPrefix, String remotePrefix) {

        /** The local Topic Filter: what the bridge's local session subscribes to for {@code out}. */
        public String localFilter() {
            return localPrefix + pattern;
        }

        /** The remote Topic Filter: what the bridge subscribes to on the remote for {@code in}. */
        public String remoteFilter() {
            return remotePrefix + pattern;
        }
    }
}
