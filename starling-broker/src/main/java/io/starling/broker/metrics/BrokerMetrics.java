package io.starling.broker.metrics;

import java.util.concurrent.atomic.LongAdder;

/** Broker-wide counters. Thread-safe; cheap to increment from any event loop. */
public final class BrokerMetrics {

    public final LongAdder connectionsAccepted = new LongAdder();
    public final LongAdder messagesReceived = new LongAdder();
    public final LongAdder messagesDelivered = new LongAdder();
    public final LongAdder messagesDropped = new LongAdder();
    public final LongAdder messagesExpired = new LongAdder();
    public final LongAdder protocolErrors = new LongAdder();
    public final LongAdder sessionsExpired = new LongAdder();
    /** Gauge: bytes queued over all sessions (as {@code max-queued-bytes} counts them); see QueueBudget. */
    public final LongAdder queuedBytes = new LongAdder();
    /** Messages dropped from the largest queues because max-queued-bytes-total was reached (also in messagesDropped). */
    public final LongAdder messagesShed = new LongAdder();
    /** Stored deliveries the budget sent back from memory to the store, to be read again later (nothing lost). */
    public final LongAdder storedUnloaded = new LongAdder();
    /** Deliveries withheld and PUBLISHes dropped because the ACL does not allow them. */
    public final LongAdder messagesNotAuthorized = new LongAdder();
    /** Retained PUBLISHes whose retention the limits refused (max-retained-messages, max-retained-bytes). */
    public final LongAdder retainedRefused = new LongAdder();
    /** Times a connection stopped being read because it published over max-publish-rate or max-publish-bytes-rate. */
    public final LongAdder publishRateLimited = new LongAdder();
}
