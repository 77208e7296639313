package io.starling.broker.message;


/**
 * A Will that a connection hands to the session manager when it ends without a normal DISCONNECT.
 *
 * @param message the Will Message, ready to publish
 * @param delaySeconds the Will Delay Interval (5.0), 0 when absent
 */
public record PendingWill(Message message, long delaySeconds) {
}
