package io.starling.broker.topic;

import io.starling.broker.config.BrokerConfig.SharedSubscriptionStrategy;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The members of one shared subscription group ({@code $share/{name}/{filter}}, 5.0 4.8.2): each matching message
 * goes to one member, chosen by the configured strategy among the members that may receive it (under the ACL) and are
 * online (among those that may receive it when none is online); with no member that may receive it, the group does
 * not take the message.
 *
 * <p>Thread-safety: members are an immutable array swapped under the index's write lock; {@link #pick} is
 * lock-free and may run on any loop.
 */
public final class SharedGroup {

    private final String name;
    private final String topicFilter;
    private volatile Subscription[] members = new Subscription[0];
    private final AtomicInteger next = new AtomicInteger();
    private volatile String sticky;

    SharedGroup(String name, String topicFilter) {
        this.name = name;
        this.topicFilter = topicFilter;
    }

    public String name() {
        return name;
    }

    public String topicFilter() {
        return topicFilter;
    }

    /** Adds or replaces the member's subscription (index write lock held); returns the old one. */
    Subscription put(Subscription s) {
        Subscription[] m = members;
        for (int i = 0; i < m.length; i++) {
            if (m[i].clientId().equals(s.clientId())) {
                Subscription[] copy = m.clone();
                Subscription old = copy[i];
                copy[i] = s;
                members = copy;
                return old;
            }
        }
        Subscription[] copy = new Subscription[m.length + 1];
        System.arraycopy(m, 0, copy, 0, m.length);
        copy[m.length] = s;
        members = copy;
        return null;
    }

    /** Removes a member (index write lock held); returns its subscription or {@code null}. */
    Subscription remove(String clientId) {
        Subscription[] m = members;
        List<Subscription> kept = new ArrayList<>(m.length);
        Subscription removed = null;
        for (Subscription s : m) {
            if (s.clientId().equals(clientId)) {
                removed = s;
            } else {
                kept.add(s);
            }
        }
        if (removed != null) {
            members = kept.toArray(new Subscription[0]);
        }
        return removed;
    }

    boolean isEmpty() {
        return members.length == 0;
    }

    /** The members now (a copy); from any thread. */
    public java.util.List<Subscription> members() {
        return java.util.List.of(members);
    }

    public int size() {
        return members.length;
    }

    /** What {@link #pick} needs to know about a member for one message. */
    @FunctionalInterface
    public interface Members {
        /** The member may not receive the message (the ACL does not let it read the topic, or it has no session). */
        int EXCLUDED = 0;
        /** The member may receive it but is not connected. */
        int OFFLINE = 1;
        /** The member may receive it and is connected. */
        int ONLINE = 2;

        /** {@link #EXCLUDED}, {@link #OFFLINE} or {@link #ONLINE} for the member with this client id and topic. */
        int state(String clientId, String topic);
    }

    /**
     * The member to deliver a message to, or {@code null} if there is none that may receive it (apart from
     * {@code excludedClientId}): members the ACL does not let read the topic are passed over, online members are
     * preferred.
     *
     * @param strategy how to choose
     * @param publisherId the publisher's client id, for {@link SharedSubscriptionStrategy#HASH_CLIENT_ID}
     * @param topic the message's topic
     * @param check whether a member may receive the message and is online
     * @param excludedClientId a member not to choose (the one a message is being taken from), or {@code null}
     */
    public Subscription pick(SharedSubscriptionStrategy strategy, String publisherId, String topic, Members check,
            String excludedClientId) {
        Subscription[] m = members;
        int n = m.length;
        if (n == 0) {
            return null;
        }
        if (strategy == SharedSubscriptionStrategy.STICKY) {
            String current = sticky;
            if (current != null && !current.equals(excludedClientId)
                    && check.state(current, topic) == Members.ONLINE) {
                for (Subscription s : m) {
                    if (s.clientId().equals(current)) {
                        return s;
                    }
                }
            }
        }
        int start = switch (strategy) {
            case ROUND_ROBIN -> Math.floorMod(next.getAndIncrement(), n);
            case RANDOM -> ThreadLocalRandom.current().nextInt(n);
            case HASH_CLIENT_ID -> Math.floorMod(publisherId == null ? 0 : publisherId.hashCode(), n);
            case STICKY -> 0;
        };
        Subscription fallback = null;
        for (int i = 0; i < n; i++) {
            Subscription s = m[(start + i) % n];
            if (s.clientId().equals(excludedClientId)) {
                continue;
            }
            int state = check.state(s.clientId(), topic);
            if (state == Members.ONLINE) {
                if (strategy == SharedSubscriptionStrategy.STICKY) {
                    sticky = s.clientId();
                }
                return s;
            }
            if (state == Members.OFFLINE && fallback == null) {
                fallback = s;
            }
        }
        return fallback;
    }
}
