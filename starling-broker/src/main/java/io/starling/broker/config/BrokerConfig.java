package io.starling.broker.config;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The broker's configuration: immutable, every value with a default (see docs/configuration.md for the keys
 * of the config file). Built with {@link #builder()}; tests build their own instead of changing shared state.
 *
 * <p>The values come in groups: the top-level components below, and records for what belongs together and is
 * read together: {@link SessionLimits} (the inflight window, the queue beyond it and how long sessions live),
 * {@link Capabilities} (the features offered to clients), {@link Limits} (limits against misbehaving clients),
 * {@link SecurityConfig} and {@link Flapping}. The accessors of the values that moved into a group (such as
 * {@link #maximumQos()} or {@link #maxQueuedMessages()}) are kept and read from their group.
 *
 * @param bindAddress address of the MQTT TCP listener
 * @param port port of the MQTT TCP listener, 0 for an ephemeral port
 * @param dataDir data directory
 * @param connectTimeout time a new connection has to send CONNECT
 * @param maxPacketSize largest packet accepted from a client, in bytes
 * @param maxClientIdLength longest client identifier accepted
 * @param maxKeepAliveSeconds largest keep-alive the server accepts (v5 answers with Server Keep Alive);
 *     0 = no limit
 * @param sharedSubscriptionStrategy how a shared subscription group picks the member for a message
 * @param responseInformation Response Information given to v5 clients that request it, {@code %c} replaced by
 *     the client id; {@code null} = none
 * @param validateUtf8Payloads check payloads flagged as UTF-8 (Payload Format Indicator 1): 0x99 if invalid
 * @param ioThreads event loops for client connections; 0 = one per available processor
 * @param scramUsers users of the built-in SCRAM-SHA-256 enhanced authentication, name → password (turned into
 *     salted keys at start-up)
 * @param storage where state is kept ({@code memory} or {@code rocksdb})
 * @param fsync durability of a RocksDB commit
 * @param listeners the listeners of the {@code listeners} key; empty = one TCP listener on
 *     {@code bindAddress:port} (see {@link #effectiveListeners()})
 * @param sessions per-session limits: inflight window, queue, subscriptions, session expiry (see {@link SessionLimits})
 * @param capabilities the features offered to clients (see {@link Capabilities})
 * @param limits limits against misbehaving clients that have no older key of their own (see {@link Limits})
 * @param security password file, ACL file and the rate limit of failed logins
 * @param flapping flapping detection: client ids that connect too often are refused for a while
 * @param sysIntervalSeconds how often the broker publishes its state under {@code $SYS/broker/}; 0 = never
 * @param admin the admin listener (metrics, health checks); {@link AdminConfig#OFF} unless asked for
 * @param authentication the authentication backends ({@code authentication}); {@link AuthenticationConfig#NONE}
 * @param webhooks the webhook receivers ({@code webhooks}); {@link WebhooksConfig#NONE}
 * @param bridges the MQTT bridges to other brokers (docs/integrations.md); empty for none
 * @param cluster the {@code cluster} section (see docs/cluster.md); {@code null} for a single node
 */
public record BrokerConfig(
        String bindAddress,
        int port,
        Path dataDir,
        Duration connectTimeout,
        int maxPacketSize,
        int maxClientIdLength,
        int maxKeepAliveSeconds,
        SharedSubscriptionStrategy sharedSubscriptionStrategy,
        String responseInformation,
        boolean validateUtf8Payloads,
        int ioThreads,
        java.util.Map<String, String> scramUsers,
        java.util.List<ListenerConfig> listeners,
        Storage storage,
        Fsync fsync,
        SessionLimits sessions,
        Capabilities capabilities,
        Limits limits,
        SecurityConfig security,
        Flapping flapping,
        int sysIntervalSeconds,
        AdminConfig admin,
        AuthenticationConfig authentication,
        WebhooksConfig webhooks,
        java.util.List<BridgeConfig> bridges,
        ClusterConfig cluster) {

    /** The default of {@code sys-interval-seconds}. */
    public static final int DEFAULT_SYS_INTERVAL_SECONDS = 10;

    public BrokerConfig {
        if (sysIntervalSeconds < 0) {
            throw new IllegalArgumentException("sys-interval-seconds must not be negative");
        }
        sessions = sessions == null ? SessionLimits.DEFAULTS : sessions;
        capabilities = capabilities == null ? Capabilities.DEFAULTS : capabilities;
        flapping = flapping == null ? Flapping.DEFAULTS : flapping;
        listeners = listeners == null ? java.util.List.of() : java.util.List.copyOf(listeners);
        if (limits == null) {
            limits = Limits.DEFAULTS;
        }
        security = security == null ? SecurityConfig.defaults() : security;
        admin = admin == null ? AdminConfig.OFF : admin;
        authentication = authentication == null ? AuthenticationConfig.NONE : authentication;
        webhooks = webhooks == null ? WebhooksConfig.NONE : webhooks;
        bridges = bridges == null ? java.util.List.of() : java.util.List.copyOf(bridges);
    }

    /**
     * Per-session limits: the window of unacknowledged messages each way, the queue beyond it, the subscriptions a
     * session may hold, and how long a session outlives its connection.
     *
     * @param maxInflightMessages outbound QoS 1/2 messages unacknowledged at once per session (v5: at most the
     *     client's Receive Maximum)
     * @param receiveMaximum inbound QoS 2 messages a client may have unacknowledged (v5 Receive Maximum)
     * @param maxQueuedMessages messages queued per session beyond the inflight window
     * @param maxQueuedBytes payload bytes queued per session beyond the inflight window
     * @param queueQos0Messages whether QoS 0 messages are queued for offline persistent sessions
     * @param dropPolicy what a full queue does with the next message
     * @param v3SessionExpiry how long an MQTT 3.x persistent session lives after disconnect; {@code null} = forever
     * @param maxSessionExpirySeconds cap on the v5 Session Expiry Interval
     * @param maxSubscriptionsPerClient subscriptions one session may hold (0 = unlimited); more: 0x97 quota exceeded
     */
    public record SessionLimits(int maxInflightMessages, int receiveMaximum, int maxQueuedMessages, long maxQueuedBytes,
            boolean queueQos0Messages, DropPolicy dropPolicy, Duration v3SessionExpiry, long maxSessionExpirySeconds,
            int maxSubscriptionsPerClient) {

        /** The defaults. */
        public static final SessionLimits DEFAULTS = new SessionLimits(32, 65_535, 1000, 64L * 1024 * 1024, false,
                DropPolicy.DROP_NEW, null, 0xFFFF_FFFFL, 0);

        public SessionLimits {
            if (maxSubscriptionsPerClient < 0) {
                throw new IllegalArgumentException("max-subscriptions-per-client must not be negative");
            }
            if (maxInflightMessages < 1 || maxInflightMessages > 65_535) {
                throw new IllegalArgumentException("max-inflight-messages must be 1..65535");
            }
            if (receiveMaximum < 1 || receiveMaximum > 65_535) {
                throw new IllegalArgumentException("receive-maximum must be 1..65535");
            }
            if (maxQueuedMessages < 0 || maxQueuedBytes < 0) {
                throw new IllegalArgumentException("queue limits must not be negative");
            }
        }
    }

    /**
     * The features the broker offers clients; MQTT 5 clients learn them from the CONNACK properties, and they hold
     * for every version.
     *
     * @param maximumQos highest QoS clients may publish and subscribe with (v5 Maximum QoS)
     * @param retainAvailable whether retained messages are supported (v5 Retain Available)
     * @param wildcardSubscriptionsAvailable whether filters may contain wildcards
     * @param subscriptionIdentifiersAvailable whether Subscription Identifiers are supported
     * @param sharedSubscriptionsAvailable whether {@code $share/} subscriptions are supported
     * @param topicAliasMaximum Topic Alias Maximum the server accepts from a v5 client (0 = none)
     */
    public record Capabilities(int maximumQos, boolean retainAvailable, boolean wildcardSubscriptionsAvailable,
            boolean subscriptionIdentifiersAvailable, boolean sharedSubscriptionsAvailable, int topicAliasMaximum) {

        /** The defaults: everything offered, QoS 2, 10 topic aliases. */
        public static final Capabilities DEFAULTS = new Capabilities(2, true, true, true, true, 10);

        public Capabilities {
            if (maximumQos < 0 || maximumQos > 2) {
                throw new IllegalArgumentException("maximum-qos must be 0, 1 or 2");
            }
            if (topicAliasMaximum < 0 || topicAliasMaximum > 65_535) {
                throw new IllegalArgumentException("topic-alias-maximum must be 0..65535");
            }
        }
    }

    /**
     * Limits against misbehaving clients (docs/security.md, Limits).
     *
     * @param maxConnections client connections open at once over all listeners; 0 = unlimited. More are closed at
     *     accept, before any byte is read
     * @param maxConnectRatePerAddress new connections per second accepted from one source address (token bucket);
     *     0 = unlimited. More are closed at accept
     * @param connectBurstPerAddress connections one address may open at once before the rate applies (bucket size)
     * @param maxTopicLength longest Topic Name or Topic Filter accepted, in UTF-8 bytes
     * @param maxTopicLevels most levels ({@code /}-separated parts) in a Topic Name or Topic Filter
     * @param maxQueuedBytesTotal bytes queued over all sessions (counted as {@code max-queued-bytes} counts them)
     *     at which connections that publish stop being read; 0 = no global budget
     * @param maxStoredBytesTotal bytes of stored queues over all sessions (counted as {@code max-queued-bytes}
     *     counts them) beyond which the store refuses new messages for stored sessions; 0 = no global bound
     * @param maxIncompletePacketBytesTotal bytes received and buffered for packets (and WebSocket frames) that are not
     *     complete yet, over all connections; a connection whose incomplete packet would take more is closed;
     *     0 = no bound
     * @param incompletePacketTimeout time a packet (or WebSocket frame) may take from its first byte to its last;
     *     a connection that takes longer is closed; {@link Duration#ZERO} = no limit
     * @param maxConnectPacketSize largest CONNECT (and AUTH) packet accepted, in bytes; the effective limit is the
     *     smaller of this and {@code maxPacketSize}
     * @param maxRetainedMessages retained messages (topics) kept at most; 0 = no limit
     * @param maxRetainedBytes bytes of retained messages (payload + topic length) kept at most; 0 = no limit,
     *     {@link #RETAINED_BYTES_BY_STORAGE} = the default of the storage (see {@link BrokerConfig#maxRetainedBytes()})
     * @param maxPublishRate PUBLISH packets per second one connection may send (token bucket, one second's worth of
     *     burst); 0 = unlimited. A client over it is not read until its bucket has refilled
     * @param maxPublishBytesRate bytes of PUBLISH packets per second one connection may send (token bucket, one
     *     second's worth of burst, at least {@code max-packet-size}); 0 = unlimited
     */
    public record Limits(int maxConnections, double maxConnectRatePerAddress, int connectBurstPerAddress,
            int maxTopicLength, int maxTopicLevels, long maxQueuedBytesTotal, long maxStoredBytesTotal,
            long maxIncompletePacketBytesTotal, Duration incompletePacketTimeout, int maxConnectPacketSize,
            long maxRetainedMessages, long maxRetainedBytes, long maxPublishRate, long maxPublishBytesRate) {

        /** Default of {@code max-stored-bytes-total}: 8 GiB. */
        public static final long DEFAULT_STORED_BYTES_TOTAL = 8L << 30;
        /** Default of {@code max-retained-messages}. */
        public static final long DEFAULT_RETAINED_MESSAGES = 1_000_000;
        /** {@code max-retained-bytes} not set: {@link BrokerConfig#maxRetainedBytes()} chooses by storage. */
        public static final long RETAINED_BYTES_BY_STORAGE = -1;

        /** Default of {@code incomplete-packet-timeout-seconds}: 30 s. */
        public static final Duration DEFAULT_INCOMPLETE_PACKET_TIMEOUT = Duration.ofSeconds(30);

        /** Default of {@code max-connect-packet-size}: 128 KiB, room for the largest Will payload and the strings. */
        public static final int DEFAULT_CONNECT_PACKET_SIZE = 128 * 1024;

        /**
         * The defaults, with the global queue budget at {@link #DEFAULT_QUEUED_BYTES_TOTAL_PERCENT}% of the heap and
         * the bound of incomplete packets at {@link #DEFAULT_INCOMPLETE_PACKET_BYTES_PERCENT}% of the direct memory.
         */
        public static final Limits DEFAULTS = new Limits(0, 0, 0, MQTT_MAX_TOPIC_LENGTH, 128,
                heapPercent(DEFAULT_QUEUED_BYTES_TOTAL_PERCENT), DEFAULT_STORED_BYTES_TOTAL,
                directMemoryPercent(DEFAULT_INCOMPLETE_PACKET_BYTES_PERCENT), DEFAULT_INCOMPLETE_PACKET_TIMEOUT,
                DEFAULT_CONNECT_PACKET_SIZE, DEFAULT_RETAINED_MESSAGES, RETAINED_BYTES_BY_STORAGE, 0, 0);

        public Limits {
            if (maxConnections < 0) {
                throw new IllegalArgumentException("max-connections must not be negative");
            }
            if (maxConnectRatePerAddress < 0 || Double.isNaN(maxConnectRatePerAddress)
                    || Double.isInfinite(maxConnectRatePerAddress)) {
                throw new IllegalArgumentException("max-connect-rate-per-address must be a number >= 0");
            }
            if (connectBurstPerAddress < 0) {
                throw new IllegalArgumentException("connect-burst-per-address must not be negative");
            }
            if (maxTopicLength < 1 || maxTopicLength > MQTT_MAX_TOPIC_LENGTH) {
                throw new IllegalArgumentException("max-topic-length must be 1.." + MQTT_MAX_TOPIC_LENGTH);
            }
            if (maxTopicLevels < 1) {
                throw new IllegalArgumentException("max-topic-levels must be at least 1");
            }
            if (maxStoredBytesTotal < 0) {
                throw new IllegalArgumentException("max-stored-bytes-total must not be negative");
            }
            if (maxQueuedBytesTotal < 0) {
                throw new IllegalArgumentException("max-queued-bytes-total must not be negative");
            }
            if (maxIncompletePacketBytesTotal < 0) {
                throw new IllegalArgumentException("max-incomplete-packet-bytes-total must not be negative");
            }
            if (incompletePacketTimeout == null || incompletePacketTimeout.isNegative()) {
                throw new IllegalArgumentException("incomplete-packet-timeout-seconds must not be negative");
            }
            if (maxConnectPacketSize < 16 || maxConnectPacketSize > MQTT_MAX_PACKET_SIZE) {
                throw new IllegalArgumentException("max-connect-packet-size must be 16.." + MQTT_MAX_PACKET_SIZE);
            }
            if (maxRetainedMessages < 0) {
                throw new IllegalArgumentException("max-retained-messages must not be negative");
            }
            if (maxRetainedBytes < 0 && maxRetainedBytes != RETAINED_BYTES_BY_STORAGE) {
                throw new IllegalArgumentException("max-retained-bytes must not be negative");
            }
            if (maxPublishRate < 0) {
                throw new IllegalArgumentException("max-publish-rate must not be negative");
            }
            if (maxPublishBytesRate < 0) {
                throw new IllegalArgumentException("max-publish-bytes-rate must not be negative");
            }
        }

        /**
         * The bucket size of the per-address connect rate: {@link #connectBurstPerAddress()}, or when that is 0
         * twice the rate (at least 1).
         */
        public int effectiveConnectBurst() {
            if (connectBurstPerAddress > 0) {
                return connectBurstPerAddress;
            }
            return (int) Math.max(1, Math.min(Integer.MAX_VALUE, Math.ceil(2 * maxConnectRatePerAddress)));
        }
    }

    /**
     * Flapping detection (docs/security.md, Limits): a client id that connects more than {@code maxConnects} times
     * within {@code window} is refused (5.0 CONNACK 0x9F, 3.x 0x03) for {@code ban}. The default allows a reconnect
     * every 0.2 s for a whole minute, which no ordinary client (nor a conformance suite) comes near; it exists against
     * two clients fighting over one client id, or a client stuck in a reconnect loop.
     *
     * @param maxConnects connects of one client id within the window before it is refused; 0 = no detection
     * @param window the window connects are counted in
     * @param ban how long a flapping client id is refused
     */
    public record Flapping(int maxConnects, Duration window, Duration ban) {

        public static final Flapping DEFAULTS = new Flapping(300, Duration.ofMinutes(1), Duration.ofMinutes(1));
        /** No detection. */
        public static final Flapping OFF = new Flapping(0, Duration.ofMinutes(1), Duration.ofMinutes(1));

        public Flapping {
            if (maxConnects < 0) {
                throw new IllegalArgumentException("flapping-max-connects must not be negative");
            }
            if (window == null || window.isNegative() || window.isZero()) {
                throw new IllegalArgumentException("flapping-window must be positive");
            }
            if (ban == null || ban.isNegative() || ban.isZero()) {
                throw new IllegalArgumentException("flapping-ban must be positive");
            }
        }
    }

    /**
     * The limits of the session of {@code clientId}: {@link #sessions()}, except for a bridge's local session
     * ({@code $bridge/<name>}) whose entry sets its own queue bounds ({@link BridgeConfig#sessionLimits}).
     */
    public SessionLimits sessionLimits(String clientId) {
        if (!bridges.isEmpty() && clientId.startsWith(BridgeConfig.LOCAL_CLIENT_ID_PREFIX)) {
            for (BridgeConfig b : bridges) {
                if (b.localClientId().equals(clientId)) {
                    return b.sessionLimits(sessions);
                }
            }
        }
        return sessions;
    }

    // The values grouped in SessionLimits and Capabilities, read where they were read before the grouping.

    /** {@link SessionLimits#maxInflightMessages()}. */
    public int maxInflightMessages() {
        return sessions.maxInflightMessages();
    }

    /** {@link SessionLimits#receiveMaximum()}. */
    public int receiveMaximum() {
        return sessions.receiveMaximum();
    }

    /** {@link SessionLimits#maxQueuedMessages()}. */
    public int maxQueuedMessages() {
        return sessions.maxQueuedMessages();
    }

    /** {@link SessionLimits#maxQueuedBytes()}. */
    public long maxQueuedBytes() {
        return sessions.maxQueuedBytes();
    }

    /** {@link SessionLimits#queueQos0Messages()}. */
    public boolean queueQos0Messages() {
        return sessions.queueQos0Messages();
    }

    /** {@link SessionLimits#dropPolicy()}. */
    public DropPolicy dropPolicy() {
        return sessions.dropPolicy();
    }

    /** {@link SessionLimits#v3SessionExpiry()}. */
    public Duration v3SessionExpiry() {
        return sessions.v3SessionExpiry();
    }

    /** {@link SessionLimits#maxSessionExpirySeconds()}. */
    public long maxSessionExpirySeconds() {
        return sessions.maxSessionExpirySeconds();
    }

    /** {@link SessionLimits#maxSubscriptionsPerClient()}. */
    public int maxSubscriptionsPerClient() {
        return sessions.maxSubscriptionsPerClient();
    }

    /** {@link Capabilities#maximumQos()}. */
    public int maximumQos() {
        return capabilities.maximumQos();
    }

    /** {@link Capabilities#retainAvailable()}. */
    public boolean retainAvailable() {
        return capabilities.retainAvailable();
    }

    /** {@link Capabilities#wildcardSubscriptionsAvailable()}. */
    public boolean wildcardSubscriptionsAvailable() {
        return capabilities.wildcardSubscriptionsAvailable();
    }

    /** {@link Capabilities#subscriptionIdentifiersAvailable()}. */
    public boolean subscriptionIdentifiersAvailable() {
        return capabilities.subscriptionIdentifiersAvailable();
    }

    /** {@link Capabilities#sharedSubscriptionsAvailable()}. */
    public boolean sharedSubscriptionsAvailable() {
        return capabilities.sharedSubscriptionsAvailable();
    }

    /** {@link Capabilities#topicAliasMaximum()}. */
    public int topicAliasMaximum() {
        return capabilities.topicAliasMaximum();
    }

    /** Default of {@code max-queued-bytes-total}: this share of the maximum heap, in percent. */
    public static final int DEFAULT_QUEUED_BYTES_TOTAL_PERCENT = 25;

    /** Default of {@code max-incomplete-packet-bytes-total}: this share of the maximum direct memory, in percent. */
    public static final int DEFAULT_INCOMPLETE_PACKET_BYTES_PERCENT = 25;

    /**
     * {@code percent}% of the direct memory Netty may allocate ({@code -XX:MaxDirectMemorySize}, by default the
     * maximum heap; {@code -Dio.netty.maxDirectMemory} if set), in bytes: where packets being received are buffered.
     */
    public static long directMemoryPercent(int percent) {
        if (percent < 0 || percent > 100) {
            throw new IllegalArgumentException("a share of the direct memory must be 0%..100%, not " + percent + "%");
        }
        long max = io.netty.util.internal.PlatformDependent.maxDirectMemory();
        if (max <= 0) {
            max = Runtime.getRuntime().maxMemory();
        }
        return max / 100 * percent;
    }

    /** Default of {@code max-retained-bytes} with {@code storage: memory}: this share of the maximum heap. */
    public static final int DEFAULT_RETAINED_BYTES_HEAP_PERCENT = 25;

    /** Default of {@code max-retained-bytes} with {@code storage: rocksdb} (payloads on disk): 4 GiB. */
    public static final long DEFAULT_RETAINED_BYTES_ON_DISK = 4L << 30;

    /**
     * {@code max-retained-bytes} in effect: as configured, or by default {@value #DEFAULT_RETAINED_BYTES_HEAP_PERCENT}%
     * of the maximum heap with {@code storage: memory} (where the payloads live in the heap) and 4 GiB with
     * {@code storage: rocksdb} (where they live on disk and only the index is in the heap); 0 = no limit.
     */
    public long maxRetainedBytes() {
        return maxRetainedBytes(storage != Storage.MEMORY);
    }

    /** {@code max-retained-bytes} in effect for a store that keeps the payloads on disk, or in the heap. */
    public long maxRetainedBytes(boolean payloadsOnDisk) {
        long v = limits.maxRetainedBytes();
        if (v != Limits.RETAINED_BYTES_BY_STORAGE) {
            return v;
        }
        return payloadsOnDisk ? DEFAULT_RETAINED_BYTES_ON_DISK : heapPercent(DEFAULT_RETAINED_BYTES_HEAP_PERCENT);
    }

    /** {@code percent}% of the JVM's maximum heap ({@code -Xmx}), in bytes. */
    public static long heapPercent(int percent) {
        if (percent < 0 || percent > 100) {
            throw new IllegalArgumentException("a share of the heap must be 0%..100%, not " + percent + "%");
        }
        return Runtime.getRuntime().maxMemory() / 100 * percent;
    }

    /** Longest UTF-8 string MQTT can carry, so the longest topic [MQTT-4.7.3-3]. */
    public static final int MQTT_MAX_TOPIC_LENGTH = 65_535;

    /**
     * The listeners the broker runs: {@link #listeners()}, or when that is empty one TCP listener on
     * {@code bindAddress:port} (not anonymous-allowed, so it must be on a loopback address).
     */
    public java.util.List<ListenerConfig> effectiveListeners() {
        return listeners.isEmpty() ? java.util.List.of(ListenerConfig.tcp(bindAddress, port)) : listeners;
    }

    /** Largest value of the MQTT Remaining Length plus the fixed header. */
    public static final int MQTT_MAX_PACKET_SIZE = 268_435_455 + 5;

    /** Where the broker keeps its state (key {@code storage}). */
    public enum Storage {
        /** In the heap only: nothing survives a restart. */
        MEMORY,
        /**
         * RocksDB under {@code <data-dir>/db}: persistent sessions (subscriptions, queued and in-flight messages) and
         * retained messages survive a restart.
         */
        ROCKSDB
    }

    /** When a commit of the durable store counts as durable (key {@code fsync}). */
    public enum Fsync {
        /**
         * {@code fsync: always} (default): every group commit is written to the write-ahead log and fsynced before
         * its acknowledgements go out. An acknowledged message survives a killed process and a power cut, as far
         * as the disk honours fsync.
         */
        ALWAYS,
        /**
         * {@code fsync: os}: every group commit is written to the write-ahead log (a {@code write(2)} into the
         * operating system's page cache) before its acknowledgements go out, without fsync. An acknowledged message
         * survives a killed process (SIGKILL, OOM kill, JVM crash), not a power cut or a kernel crash: the commits
         * of the last seconds before one may be lost (the store then recovers to the last intact commit).
         */
        OS;

        /** The mode of a config value: {@code always} or {@code os}, case-insensitive, surrounding blanks ignored. */
        public static Fsync parse(String value) {
            switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
                case "always":
                    return ALWAYS;
                case "os":
                    return OS;
                default:
                    throw new IllegalArgumentException("fsync must be \"always\" or \"os\", not \"" + value + "\"");
            }
        }

        /** The config value: {@code always} or {@code os}. */
        public String configValue() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** How a shared subscription group chooses the member that gets a message. */
    public enum SharedSubscriptionStrategy {
        /** Each member in turn. */
        ROUND_ROBIN,
        /** A member at random. */
        RANDOM,
        /** The same member until it leaves the group or goes offline. */
        STICKY,
        /** A member chosen by the hash of the publisher's client id, so one publisher's messages stay together. */
        HASH_CLIENT_ID
    }

    /** What a full session queue does with one more message. */
    public enum DropPolicy {
        /** Keep what is queued, drop the arriving message (Mosquitto's behaviour). */
        DROP_NEW,
        /** Drop the oldest queued message to make room. */
        DROP_OLDEST
    }

    public static Builder builder() {
        return new Builder();
    }

    public static BrokerConfig defaults() {
        return builder().build();
    }

    @Override
    public String toString() {
        return "BrokerConfig[" + bindAddress + ":" + port + ", dataDir=" + dataDir + ", scramUsers="
                + scramUsers.size() + " (passwords not shown)]";
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Builder with the embedded defaults. */
    public static final class Builder {
        private String bindAddress = "127.0.0.1";
        private int port = 1883;
        private Path dataDir = Path.of("data");
        private Duration connectTimeout = Duration.ofSeconds(10);
        private int maxPacketSize = 16 * 1024 * 1024;
        private int maxInflightMessages = SessionLimits.DEFAULTS.maxInflightMessages();
        private int receiveMaximum = SessionLimits.DEFAULTS.receiveMaximum();
        private int maxQueuedMessages = SessionLimits.DEFAULTS.maxQueuedMessages();
        private long maxQueuedBytes = SessionLimits.DEFAULTS.maxQueuedBytes();
        private boolean queueQos0Messages = SessionLimits.DEFAULTS.queueQos0Messages();
        private DropPolicy dropPolicy = SessionLimits.DEFAULTS.dropPolicy();
        private Duration v3SessionExpiry = SessionLimits.DEFAULTS.v3SessionExpiry();
        private long maxSessionExpirySeconds = SessionLimits.DEFAULTS.maxSessionExpirySeconds();
        private int maxClientIdLength = 65_535;
        private int maxKeepAliveSeconds;
        private int maximumQos = Capabilities.DEFAULTS.maximumQos();
        private boolean retainAvailable = Capabilities.DEFAULTS.retainAvailable();
        private boolean wildcardSubscriptionsAvailable = Capabilities.DEFAULTS.wildcardSubscriptionsAvailable();
        private boolean subscriptionIdentifiersAvailable = Capabilities.DEFAULTS.subscriptionIdentifiersAvailable();
        private boolean sharedSubscriptionsAvailable = Capabilities.DEFAULTS.sharedSubscriptionsAvailable();
        private int topicAliasMaximum = Capabilities.DEFAULTS.topicAliasMaximum();
        private SharedSubscriptionStrategy sharedSubscriptionStrategy = SharedSubscriptionStrategy.ROUND_ROBIN;
        private String responseInformation;
        private boolean validateUtf8Payloads;
        private int maxSubscriptionsPerClient = SessionLimits.DEFAULTS.maxSubscriptionsPerClient();
        private int ioThreads;
        private Storage storage = Storage.ROCKSDB;
        private Fsync fsync = Fsync.ALWAYS;
        private java.util.Map<String, String> scramUsers = java.util.Map.of();
        private java.util.List<ListenerConfig> listeners = java.util.List.of();
        private int maxConnections;
        private double maxConnectRatePerAddress;
        private int connectBurstPerAddress;
        private int maxTopicLength = Limits.DEFAULTS.maxTopicLength();
        private int maxTopicLevels = Limits.DEFAULTS.maxTopicLevels();
        private long maxQueuedBytesTotal = Limits.DEFAULTS.maxQueuedBytesTotal();
        private long maxStoredBytesTotal = Limits.DEFAULTS.maxStoredBytesTotal();
        private long maxIncompletePacketBytesTotal = Limits.DEFAULTS.maxIncompletePacketBytesTotal();
        /** Whether {@code maxIncompletePacketBytesTotal} was set, rather than the default share of direct memory. */
        private boolean incompletePacketBytesSet;
        private Duration incompletePacketTimeout = Limits.DEFAULTS.incompletePacketTimeout();
        private int maxConnectPacketSize = Limits.DEFAULTS.maxConnectPacketSize();
        private long maxRetainedMessages = Limits.DEFAULTS.maxRetainedMessages();
        private long maxRetainedBytes = Limits.DEFAULTS.maxRetainedBytes();
        private long maxPublishRate;
        private long maxPublishBytesRate;
        private SecurityConfig security = SecurityConfig.defaults();
        private Flapping flapping = Flapping.DEFAULTS;
        private int sysIntervalSeconds = DEFAULT_SYS_INTERVAL_SECONDS;
        private AdminConfig admin = AdminConfig.OFF;
        /** Whether {@code admin} was set, rather than left at the embedded default. */
        private boolean adminSet;
        private AuthenticationConfig authentication = AuthenticationConfig.NONE;
        private WebhooksConfig webhooks = WebhooksConfig.NONE;
        private java.util.List<BridgeConfig> bridges = java.util.List.of();
        private ClusterConfig cluster;

        private Builder() {
        }

        private Builder(BrokerConfig c) {
            bindAddress = c.bindAddress;
            port = c.port;
            dataDir = c.dataDir;
            connectTimeout = c.connectTimeout;
            maxPacketSize = c.maxPacketSize;
            maxInflightMessages = c.sessions.maxInflightMessages();
            receiveMaximum = c.sessions.receiveMaximum();
            maxQueuedMessages = c.sessions.maxQueuedMessages();
            maxQueuedBytes = c.sessions.maxQueuedBytes();
            queueQos0Messages = c.sessions.queueQos0Messages();
            dropPolicy = c.sessions.dropPolicy();
            v3SessionExpiry = c.sessions.v3SessionExpiry();
            maxSessionExpirySeconds = c.sessions.maxSessionExpirySeconds();
            maxClientIdLength = c.maxClientIdLength;
            maxKeepAliveSeconds = c.maxKeepAliveSeconds;
            maximumQos = c.capabilities.maximumQos();
            retainAvailable = c.capabilities.retainAvailable();
            wildcardSubscriptionsAvailable = c.capabilities.wildcardSubscriptionsAvailable();
            subscriptionIdentifiersAvailable = c.capabilities.subscriptionIdentifiersAvailable();
            sharedSubscriptionsAvailable = c.capabilities.sharedSubscriptionsAvailable();
            topicAliasMaximum = c.capabilities.topicAliasMaximum();
            sharedSubscriptionStrategy = c.sharedSubscriptionStrategy;
            responseInformation = c.responseInformation;
            validateUtf8Payloads = c.validateUtf8Payloads;
            maxSubscriptionsPerClient = c.sessions.maxSubscriptionsPerClient();
            scramUsers = c.scramUsers;
            ioThreads = c.ioThreads;
            storage = c.storage;
            fsync = c.fsync;
            listeners = c.listeners;
            maxConnections = c.limits.maxConnections();
            maxConnectRatePerAddress = c.limits.maxConnectRatePerAddress();
            connectBurstPerAddress = c.limits.connectBurstPerAddress();
            maxTopicLength = c.limits.maxTopicLength();
            maxTopicLevels = c.limits.maxTopicLevels();
            maxQueuedBytesTotal = c.limits.maxQueuedBytesTotal();
            maxStoredBytesTotal = c.limits.maxStoredBytesTotal();
            maxIncompletePacketBytesTotal = c.limits.maxIncompletePacketBytesTotal();
            incompletePacketTimeout = c.limits.incompletePacketTimeout();
            maxConnectPacketSize = c.limits.maxConnectPacketSize();
            maxRetainedMessages = c.limits.maxRetainedMessages();
            maxRetainedBytes = c.limits.maxRetainedBytes();
            maxPublishRate = c.limits.maxPublishRate();
            maxPublishBytesRate = c.limits.maxPublishBytesRate();
            security = c.security;
            flapping = c.flapping;
            sysIntervalSeconds = c.sysIntervalSeconds;
            admin = c.admin;
            adminSet = true;
            authentication = c.authentication;
            webhooks = c.webhooks;
            bridges = c.bridges;
            cluster = c.cluster;
        }

        /** The MQTT bridges ({@code bridges}); empty for none. */
        public Builder bridges(java.util.List<BridgeConfig> v) {
            bridges = v == null ? java.util.List.of() : v;
            return this;
        }

        /** The {@code cluster} section; {@code null} (the default) for a single node. */
        public Builder cluster(ClusterConfig v) {
            cluster = v;
            return this;
        }

        public Builder bindAddress(String v) {
            bindAddress = v;
            return this;
        }

        public Builder port(int v) {
            port = v;
            return this;
        }

        public Builder dataDir(Path v) {
            dataDir = v;
            return this;
        }

        public Builder connectTimeout(Duration v) {
            connectTimeout = v;
            return this;
        }

        public Builder maxPacketSize(int v) {
            maxPacketSize = v;
            return this;
        }

        public Builder maxInflightMessages(int v) {
            maxInflightMessages = v;
            return this;
        }

        public Builder receiveMaximum(int v) {
            receiveMaximum = v;
            return this;
        }

        public Builder maxQueuedMessages(int v) {
            maxQueuedMessages = v;
            return this;
        }

        public Builder maxQueuedBytes(long v) {
            maxQueuedBytes = v;
            return this;
        }

        public Builder queueQos0Messages(boolean v) {
            queueQos0Messages = v;
            return this;
        }

        public Builder dropPolicy(DropPolicy v) {
            dropPolicy = v;
            return this;
        }

        public Builder v3SessionExpiry(Duration v) {
            v3SessionExpiry = v;
            return this;
        }

        public Builder maxSessionExpirySeconds(long v) {
            maxSessionExpirySeconds = v;
            return this;
        }

        public Builder maxClientIdLength(int v) {
            maxClientIdLength = v;
            return this;
        }

        public Builder maxKeepAliveSeconds(int v) {
            maxKeepAliveSeconds = v;
            return this;
        }

        public Builder maximumQos(int v) {
            maximumQos = v;
            return this;
        }

        public Builder retainAvailable(boolean v) {
            retainAvailable = v;
            return this;
        }

        public Builder wildcardSubscriptionsAvailable(boolean v) {
            wildcardSubscriptionsAvailable = v;
            return this;
        }

        public Builder subscriptionIdentifiersAvailable(boolean v) {
            subscriptionIdentifiersAvailable = v;
            return this;
        }

        public Builder sharedSubscriptionsAvailable(boolean v) {
            sharedSubscriptionsAvailable = v;
            return this;
        }

        public Builder topicAliasMaximum(int v) {
            topicAliasMaximum = v;
            return this;
        }

        public Builder sharedSubscriptionStrategy(SharedSubscriptionStrategy v) {
            sharedSubscriptionStrategy = v;
            return this;
        }

        public Builder responseInformation(String v) {
            responseInformation = v;
            return this;
        }

        public Builder validateUtf8Payloads(boolean v) {
            validateUtf8Payloads = v;
            return this;
        }

        public Builder maxSubscriptionsPerClient(int v) {
            maxSubscriptionsPerClient = v;
            return this;
        }

        public Builder storage(Storage v) {
            storage = v;
            return this;
        }

        public Builder fsync(Fsync v) {
            fsync = v;
            return this;
        }

        public Builder ioThreads(int v) {
            ioThreads = v;
            return this;
        }

        public Builder scramUsers(java.util.Map<String, String> v) {
            scramUsers = java.util.Map.copyOf(v);
            return this;
        }

        /** The listeners; empty (the default) = one TCP listener on {@code bindAddress:port}. */
        public Builder listeners(java.util.List<ListenerConfig> v) {
            listeners = java.util.List.copyOf(v);
            return this;
        }

        /** Client connections open at once over all listeners; 0 = unlimited. */
        public Builder maxConnections(int v) {
            maxConnections = v;
            return this;
        }

        /** New connections per second from one source address; 0 = unlimited. */
        public Builder maxConnectRatePerAddress(double v) {
            maxConnectRatePerAddress = v;
            return this;
        }

        /** Connections one address may open at once before its rate applies; 0 = twice the rate. */
        public Builder connectBurstPerAddress(int v) {
            connectBurstPerAddress = v;
            return this;
        }

        /** Longest Topic Name or Topic Filter accepted, in UTF-8 bytes. */
        public Builder maxTopicLength(int v) {
            maxTopicLength = v;
            return this;
        }

        /** Most levels in a Topic Name or Topic Filter. */
        public Builder maxTopicLevels(int v) {
            maxTopicLevels = v;
            return this;
        }

        /** Bytes queued over all sessions at which publishers are paused; 0 = no global budget. */
        public Builder maxQueuedBytesTotal(long v) {
            maxQueuedBytesTotal = v;
            return this;
        }

        /** Bytes of stored queues over all sessions beyond which new messages for stored sessions are refused. */
        public Builder maxStoredBytesTotal(long v) {
            maxStoredBytesTotal = v;
            return this;
        }

        /** The admin listener; {@link AdminConfig#OFF} (the default of this builder) for none. */
        public Builder admin(AdminConfig v) {
            admin = v;
            adminSet = true;
            return this;
        }

        /** The authentication backends ({@code authentication}). */
        public Builder authentication(AuthenticationConfig v) {
            authentication = v;
            return this;
        }

        /** The webhook receivers ({@code webhooks}). */
        public Builder webhooks(WebhooksConfig v) {
            webhooks = v;
            return this;
        }

        /** The admin listener set so far. */
        public AdminConfig admin() {
            return admin;
        }

        /** Whether {@link #admin(AdminConfig)} was called (a config file's {@code admin} section, say). */
        public boolean adminSet() {
            return adminSet;
        }

        /** Flapping detection; {@link Flapping#OFF} for none. */
        public Builder flapping(Flapping v) {
            flapping = v;
            return this;
        }

        /** How often the broker publishes its state under {@code $SYS/broker/} ({@code sys-interval-seconds}); 0 = never. */
        public Builder sysIntervalSeconds(int v) {
            sysIntervalSeconds = v;
            return this;
        }

        /** The flapping detection set so far. */
        public Flapping flapping() {
            return flapping;
        }

        /** Bytes buffered for incomplete packets over all connections beyond which one is closed; 0 = no bound. */
        public Builder maxIncompletePacketBytesTotal(long v) {
            maxIncompletePacketBytesTotal = v;
            incompletePacketBytesSet = true;
            return this;
        }

        /** Time a packet may take from its first byte to its last; {@link Duration#ZERO} = no limit. */
        public Builder incompletePacketTimeout(Duration v) {
            incompletePacketTimeout = v;
            return this;
        }

        /** Largest CONNECT (and AUTH) packet accepted; at most {@code maxPacketSize} applies either way. */
        public Builder maxConnectPacketSize(int v) {
            maxConnectPacketSize = v;
            return this;
        }

        /** Retained messages kept at most; 0 = no limit. */
        public Builder maxRetainedMessages(long v) {
            maxRetainedMessages = v;
            return this;
        }

        /** Bytes of retained messages kept at most; 0 = no limit; -1 = the storage's default. */
        public Builder maxRetainedBytes(long v) {
            maxRetainedBytes = v;
            return this;
        }

        /** PUBLISH packets per second one connection may send; 0 = unlimited. */
        public Builder maxPublishRate(long v) {
            maxPublishRate = v;
            return this;
        }

        /** Bytes of PUBLISH packets per second one connection may send; 0 = unlimited. */
        public Builder maxPublishBytesRate(long v) {
            maxPublishBytesRate = v;
            return this;
        }

        /** The security settings (password file, ACL file, failed-login limit). */
        public Builder security(SecurityConfig v) {
            security = v;
            return this;
        }

        /** The security settings set so far. */
        public SecurityConfig security() {
            return security;
        }

        /** The broker's password file ({@code password-file}); {@code null} = none. */
        public Builder passwordFile(java.nio.file.Path v) {
            security = security.withPasswordFile(v);
            return this;
        }

        /** The ACL file ({@code acl-file}); {@code null} = none. */
        public Builder aclFile(java.nio.file.Path v) {
            security = security.withAclFile(v);
            return this;
        }

        public BrokerConfig build() {
            Capabilities capabilities = new Capabilities(maximumQos, retainAvailable, wildcardSubscriptionsAvailable,
                    subscriptionIdentifiersAvailable, sharedSubscriptionsAvailable, topicAliasMaximum);
            if (ioThreads < 0) {
                throw new IllegalArgumentException("io-threads must not be negative");
            }
            SessionLimits sessions = new SessionLimits(maxInflightMessages, receiveMaximum, maxQueuedMessages,
                    maxQueuedBytes, queueQos0Messages, dropPolicy, v3SessionExpiry, maxSessionExpirySeconds,
                    maxSubscriptionsPerClient);
            if (port < 0 || port > 65_535) {
                throw new IllegalArgumentException("port must be 0..65535, not " + port);
            }
            if (maxPacketSize < 16 || maxPacketSize > MQTT_MAX_PACKET_SIZE) {
                throw new IllegalArgumentException("max-packet-size must be 16.." + MQTT_MAX_PACKET_SIZE);
            }
            long incompleteBytes = maxIncompletePacketBytesTotal;
            if (incompleteBytes > 0 && incompleteBytes < maxPacketSize) {
                if (incompletePacketBytesSet) {
                    // a packet between the two could never be received
                    throw new IllegalArgumentException("max-incomplete-packet-bytes-total (" + incompleteBytes
                            + ") must be 0 or at least max-packet-size (" + maxPacketSize + ")");
                }
                incompleteBytes = maxPacketSize; // the default share of a small direct memory
            }
            return new BrokerConfig(bindAddress, port, dataDir, connectTimeout, maxPacketSize, maxClientIdLength,
                    maxKeepAliveSeconds, sharedSubscriptionStrategy, responseInformation, validateUtf8Payloads, ioThreads,
                    scramUsers, listeners, storage, fsync, sessions, capabilities,
                    new Limits(maxConnections, maxConnectRatePerAddress, connectBurstPerAddress, maxTopicLength,
                            maxTopicLevels, maxQueuedBytesTotal, maxStoredBytesTotal, incompleteBytes,
                            incompletePacketTimeout, maxConnectPacketSize, maxRetainedMessages, maxRetainedBytes,
                            maxPublishRate, maxPublishBytesRate),
                    security, flapping, sysIntervalSeconds, admin, authentication, webhooks,
                    bridges, cluster);
        }
    }
}
