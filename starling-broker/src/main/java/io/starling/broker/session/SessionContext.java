package io.starling.broker.session;

import io.starling.broker.config.BrokerConfig;
import io.starling.broker.metrics.BrokerMetrics;
import io.starling.broker.store.InMemoryStore;
import io.starling.broker.store.Store;

/**
 * What every session of a broker shares: the settings, the counters, the sessions with a large queue (where the queue
 * budget sheds from) and the store.
 *
 * @param config the broker's settings
 * @param metrics the broker-wide counters
 * @param largeQueues the sessions whose in-memory queue is large ({@link QueueBudget})
 * @param store the store; its {@link Store#sessions()} keeps the sessions that outlive their connection, if any
 */
public record SessionContext(BrokerConfig config, BrokerMetrics metrics, LargeQueues largeQueues, Store store) {

    /** A context with its own large-queue set and a store in memory (tools and tests). */
    public static SessionContext of(BrokerConfig config, BrokerMetrics metrics) {
        return new SessionContext(config, metrics, new LargeQueues(), new InMemoryStore());
    }
}
