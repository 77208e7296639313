package io.starling.broker.session;

import io.starling.broker.retain.RetainedFeed;
import java.util.ArrayDeque;

/**
 * The retained messages of a session's new subscriptions still to be handed over ({@link RetainedFeed}), one feed
 * after the other in the order of the subscriptions. While any is running, live deliveries wait behind them in the
 * session's queue, so that a retained message never follows a newer message of its topic [MQTT-4.6.0-6]. Confined to
 * the session's owner loop.
 */
final class RetainedFeeds {

    /** Created on first use: most sessions never subscribe to anything retained. */
    private ArrayDeque<RetainedFeed> feeds;

    /** Whether retained messages are being handed over. */
    boolean isFeeding() {
        return feeds != null && !feeds.isEmpty();
    }

    /** Whether there are feeds to pump (possibly finished ones). */
    boolean any() {
        return feeds != null;
    }

    /** Adds a feed behind the others; one for the same filter that has not finished is cancelled and replaced. */
    void add(RetainedFeed feed) {
        cancel(feed.filter());
        if (feeds == null) {
            feeds = new ArrayDeque<>(2);
        }
        feeds.addLast(feed);
    }

    /** Stops the feed of a filter (it was unsubscribed). */
    void cancel(String filter) {
        if (feeds != null) {
            feeds.removeIf(f -> {
                if (f.filter().equals(filter)) {
                    f.cancel();
                    return true;
                }
                return false;
            });
        }
    }

    /** Pumps the feeds in order into {@code target} until one has to wait (for room or a page). */
    void pump(RetainedFeed.Target target) {
        RetainedFeed f;
        while (feeds != null && (f = feeds.peekFirst()) != null) {
            if (!f.pump(target)) {
                return;
            }
            // a write may have drained the session from within pump (writability), which may have removed f already
            feeds.remove(f);
        }
    }

    /** Cancels every feed (the session's state is dropped). */
    void clear() {
        if (feeds != null) {
            feeds.forEach(RetainedFeed::cancel);
            feeds = null;
        }
    }
}
