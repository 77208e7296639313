package io.starling.it;

/** Every client library and protocol version the end-to-end tests drive. */
public enum ClientKind {
    PAHO_V31(3),
    PAHO_V311(4),
    PAHO_V5(5),
    HIVEMQ_V3(4),
    HIVEMQ_V5(5),
    MOSQUITTO_CLI_V31(3),
    MOSQUITTO_CLI_V311(4),
    MOSQUITTO_CLI_V5(5);

    private final int protocolLevel;

    ClientKind(int protocolLevel) {
        this.protocolLevel = protocolLevel;
    }

    /** 3 = MQTT 3.1, 4 = 3.1.1, 5 = 5.0. */
    public int protocolLevel() {
        return protocolLevel;
    }

    public boolean isCli() {
        return name().startsWith("MOSQUITTO_CLI");
    }

    /** Connects a clean-session client with a fresh id. */
    public TestClient connect(BrokerExtension broker) throws Exception {
        return connect(broker, Names.clientId(shortName()), true, 0);
    }

    /**
     * Connects a client.
     *
     * @param clean clean session (3.x) / clean start (5)
     * @param sessionExpirySeconds v5 Session Expiry Interval; ignored by 3.x
     */
    public TestClient connect(BrokerExtension broker, String clientId, boolean clean, long sessionExpirySeconds)
            throws Exception {
        return switch (this) {
            case PAHO_V31, PAHO_V311 -> PahoV3Client.connect(this, broker, clientId, clean);
            case PAHO_V5 -> PahoV5Client.connect(broker, clientId, clean, sessionExpirySeconds);
            case HIVEMQ_V3 -> HiveMqV3Client.connect(broker, clientId, clean);
            case HIVEMQ_V5 -> HiveMqV5Client.connect(broker, clientId, clean, sessionExpirySeconds);
            case MOSQUITTO_CLI_V31, MOSQUITTO_CLI_V311, MOSQUITTO_CLI_V5 ->
                    new MosquittoCliClient(this, broker, clientId, clean, sessionExpirySeconds);
        };
    }

    /** Short form for client ids. */
    public String shortName() {
        return switch (this) {
            case PAHO_V31 -> "p31";
            case PAHO_V311 -> "p311";
            case PAHO_V5 -> "p5";
            case HIVEMQ_V3 -> "h3";
            case HIVEMQ_V5 -> "h5";
            case MOSQUITTO_CLI_V31 -> "m31";
            case MOSQUITTO_CLI_V311 -> "m311";
            case MOSQUITTO_CLI_V5 -> "m5";
        };
    }
}
