package io.starling.broker.session;

import io.starling.broker.config.BrokerConfig;
import io.starling.broker.metrics.BrokerMetrics;
import io.starling.broker.store.InMemoryStore;
import io.starling.broker.store.Store;
import io.starling.broker.time.Clock;

/**
 * What every session of a broker shares: the settings, the counters, the sessions with a large queue (where the queue
 * budget sheds from), the store and the clock.
 *
 * @param config the broker's settings
 * @param metrics the broker-wide counters
 * @param largeQueues the sessions whose in-memory queue is large ({@link QueueBudget})
 * @param store the store; its {@link Store#sessions()} keeps the sessions that outlive their connection, if any
 * @param clock the broker's clock: message expiry, Will delay, session expiry
 */
public record SessionContext(BrokerConfig config, BrokerMetrics metrics, LargeQueues largeQueues, Store store,
        Clock clock) {

    /** A context with its own large-queue set, a store in memory and the system clock (tools and tests). */
    public static SessionContext of(BrokerConfig config, BrokerMetrics metrics) {
        return of(config, metrics, Clock.SYSTEM);
    }

    /** A context with its own large-queue set, a store in memory and {@code clock} (tests). */
    public static SessionContext of(BrokerConfig config, BrokerMetrics metrics, Clock clock) {
        return new SessionContext(config, metrics, new LargeQueues(), new InMemoryStore(), clock);
    }
}
