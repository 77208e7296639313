package io.starling.broker.store;

import io.starling.broker.retain.RetainedStore;

/**
 * The storage SPI: what the broker keeps beyond a connection, and the durability barrier that acknowledgements
 * wait for. {@link InMemoryStore} is the implementation for {@code storage: memory} and the only one so far;
 * the durable-storage work adds a RocksDB implementation and extends this interface with session, queue and
 * inflight records (sessions currently live only in {@link io.starling.broker.session.SessionManager}).
 *
 * <p>Thread-safety: called from every event loop; implementations never block an event loop.
 */
public interface Store extends AutoCloseable {

    RetainedStore retained();

    /**
     * Runs {@code action} on the calling event loop once everything the caller has handed to the store so far
     * is as durable as the configuration promises. PUBACK, PUBREC, SUBACK and CONNACK (session present) are
     * sent through it, so nothing is acknowledged before it is stored.
     */
    void whenDurable(Runnable action);

    @Override
    void close();
}
