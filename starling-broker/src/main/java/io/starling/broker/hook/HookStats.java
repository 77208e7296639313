package io.starling.broker.hook;

/**
 * Figures of a {@link BrokerHook} that delivers events somewhere (webhooks), for metrics. Thread-safe reads.
 */
public interface HookStats {

    /** Events delivered (acknowledged with a 2xx). */
    long sent();

    /** Events given up on after their retries. */
    long failed();

    /** Requests retried. */
    long retried();

    /** Events dropped because a queue was full. */
    long dropped();

    /** Events waiting now. */
    long queued();
}
