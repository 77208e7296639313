package io.starling.server;

import io.starling.broker.config.BrokerConfig;

/**
 * A running Starling broker: listeners, event loops and the engine. Start with {@link #start(BrokerConfig)},
 * stop with {@link #close()}. Thread-safe.
 */
public final class StarlingServer implements AutoCloseable {

    private final int port;

    private StarlingServer(int port) {
        this.port = port;
    }

    /** Starts a broker and returns once its listener accepts connections. */
    public static StarlingServer start(BrokerConfig config) {
        throw new UnsupportedOperationException("not yet");
    }

    /** The port the MQTT listener is bound to (the ephemeral one when the config said 0). */
    public int port() {
        return port;
    }

    @Override
    public void close() {
    }
}
