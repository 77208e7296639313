package io.starling.broker.routing;

/** What became of a published message ({@link Router#publish(Message, boolean)}). */
public enum PublishOutcome {
    /** Routed; at least one subscription matched. */
    MATCHED,
    /** Routed; no subscription matched. */
    NO_MATCH,
    /** A retained message whose retention the limits refused, not routed either (the caller asked for that). */
    RETAIN_REFUSED
}
