package io.starling.broker.session;

import io.starling.broker.store.SessionRecord;
import io.starling.broker.topic.Subscription;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A session's subscriptions, by filter as subscribed ({@code $share} prefix included), and the store writes that
 * follow each change while the session is stored (the {@link SessionRecord} given with it, {@code null} while the
 * session is not stored). The subscription index is the caller's: it is updated the same way by whoever changes
 * the subscriptions here.
 *
 * <p>Cost: this object only, until the first subscription; the map is made then, and its read-only view when it is
 * first asked for, and both are kept for the session's life.
 *
 * <p>Thread-safety: confined to the session's owner loop.
 */
final class Subscriptions {

    private HashMap<String, Subscription> byFilter;
    private Map<String, Subscription> view;

    /** A read-only view of the subscriptions by filter; an empty map while there has never been one. */
    Map<String, Subscription> view() {
        if (byFilter == null) {
            return Collections.emptyMap();
        }
        if (view == null) {
            view = Collections.unmodifiableMap(byFilter);
        }
        return view;
    }

    /** Adds or replaces a subscription and writes it to {@code record} if stored; returns the one it replaced. */
    Subscription add(Subscription s, SessionRecord record) {
        if (byFilter == null) {
            byFilter = new HashMap<>();
        }
        Subscription old = byFilter.put(s.filter(), s);
        if (record != null) {
            record.saveSubscription(s);
        }
        return old;
    }

    /** Removes the subscription to {@code filter} and deletes it from {@code record} if stored; {@code null} if none. */
    Subscription remove(String filter, SessionRecord record) {
        Subscription old = byFilter == null ? null : byFilter.remove(filter);
        if (old != null && record != null) {
            record.deleteSubscription(filter);
        }
        return old;
    }

    /**
     * Puts the subscription to {@code filter} back to {@code restore} (none if {@code null}) after a store write for it
     * failed, provided it is still {@code current} (none if {@code null}): memory only, the store still holds the old
     * state. Returns whether it did.
     */
    boolean undo(String filter, Subscription current, Subscription restore) {
        if (get(filter) != current) {
            return false;
        }
        if (restore == null) {
            if (byFilter != null) {
                byFilter.remove(filter);
            }
        } else {
            if (byFilter == null) {
                byFilter = new HashMap<>();
            }
            byFilter.put(filter, restore);
        }
        return true;
    }

    /** The subscriptions of a session read from the store (memory only: the store has them). */
    void restore(List<Subscription> stored) {
        for (Subscription s : stored) {
            if (byFilter == null) {
                byFilter = new HashMap<>();
            }
            byFilter.put(s.filter(), s);
        }
    }

    /** Removes every subscription and returns them, in no particular order (memory only). */
    List<Subscription> removeAll() {
        if (byFilter == null) {
            return new ArrayList<>();
        }
        List<Subscription> all = new ArrayList<>(byFilter.values());
        byFilter.clear();
        return all;
    }

    /** Forgets every subscription (memory only). */
    void clear() {
        if (byFilter != null) {
            byFilter.clear();
        }
    }

    private Subscription get(String filter) {
        return byFilter == null ? null : byFilter.get(filter);
    }
}
