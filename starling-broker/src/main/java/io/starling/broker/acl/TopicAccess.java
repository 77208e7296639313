package io.starling.broker.acl;

import io.starling.broker.config.ReloadingFile;
import io.starling.broker.topic.Topics;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One client's rights under the ACL: the rules that apply to it (bound once, again after a reload), and a cache of
 * decisions per topic so that the per-message check on delivery and on publish is usually one hash lookup.
 *
 * <p>Thread-safety: confined to the client's connection loop, which also owns its session while it is attached,
 * except {@link #mayReadFromAnyThread} and {@link #identity}, which any thread may call. Cost: a cache miss walks the
 * client's rules (see {@link AclRules}); the cache holds at most {@link #CACHE_LIMIT} topics and is emptied when full
 * or when the rules change.
 */
public final class TopicAccess {

    static final int CACHE_LIMIT = 4096;

    private static final byte READ_KNOWN = 1;
    private static final byte READ_OK = 2;
    private static final byte WRITE_KNOWN = 4;
    private static final byte WRITE_OK = 8;

    /** The client's rules bound for one version of the file; immutable, so any thread may read it. */
    private record Bound(long version, List<AclRules.BoundRule> rules, boolean shareRules) {
    }

    private final ReloadingFile<AclRules> file;
    private final ClientIdentity id;
    /** The rules bound for the file's current version; replaced (by any thread) when the file changes. */
    private volatile Bound bound;
    // the decision cache: confined to the connection's loop
    private final Map<String, Byte> decisions = new HashMap<>();
    private long cacheVersion = -1;

    TopicAccess(ReloadingFile<AclRules> file, ClientIdentity id) {
        this.file = file;
        this.id = id;
    }

    public ClientIdentity identity() {
        return id;
    }

    /** Whether the client may publish to the topic; never to {@code $SYS} [read-only for every client]. */
    public boolean canPublish(String topic) {
        return !Acl.isSystemTopic(topic) && decide(topic, AclRule.WRITE, WRITE_KNOWN, WRITE_OK);
    }

    /** Whether the client may receive a message published to the topic. */
    public boolean canRead(String topic) {
        return decide(topic, AclRule.READ, READ_KNOWN, READ_OK);
    }

    /**
     * Whether the client may receive a message published to the topic, from any thread: the rules are walked without
     * the decision cache (which belongs to the connection's loop). For choosing a shared subscription member on the
     * publisher's loop; costs a walk over the client's rules.
     */
    public boolean mayReadFromAnyThread(String topic) {
        return firstMatch(current().rules, topic, AclRule.READ);
    }

    /** Whether the client may subscribe to the filter (for a shared subscription: its topic filter part). */
    public boolean canSubscribe(String filter) {
        for (AclRules.BoundRule r : current().rules) {
            if ((r.rights() & AclRule.READ) == 0 || r.group() != null) {
                continue;
            }
            if (r.allow() ? FilterRelations.intersects(r.filter(), filter) : FilterRelations.covers(r.filter(), filter)) {
                return r.allow();
            }
        }
        return false;
    }

    /**
     * Whether the client may join the shared subscription group {@code $share/{group}/{filter}}, as far as the
     * {@code $share/} rules go (reading the filter's topics is {@link #canSubscribe}'s question). Without such rules in
     * the file every group may be joined; with them, the first {@code $share/} rule about this client whose group is
     * {@code +} or {@code group} decides when it allows a filter covering {@code filter} or denies one that shares a
     * topic with it; no such rule: denied.
     */
    public boolean canJoin(String group, String filter) {
        Bound b = current();
        if (!b.shareRules) {
            return true;
        }
        for (AclRules.BoundRule r : b.rules) {
            if (r.group() == null || !(r.group().equals("+") || r.group().equals(group))) {
                continue;
            }
            if (r.allow() ? FilterRelations.covers(r.filter(), filter) : FilterRelations.intersects(r.filter(), filter)) {
                return r.allow();
            }
        }
        return false;
    }

    /** The rule that decides a right on a topic, {@code null} if none (deny); for logs. */
    public AclRule decidingRule(String topic, int right) {
        for (AclRules.BoundRule r : current().rules) {
            if ((r.rights() & right) != 0 && r.group() == null && Topics.matches(r.filter(), topic)) {
                return r.rule();
            }
        }
        return null;
    }

    private boolean decide(String topic, int right, byte known, byte ok) {
        List<AclRules.BoundRule> rules = refresh();
        Byte cached = decisions.get(topic);
        int bits = cached == null ? 0 : cached;
        if ((bits & known) != 0) {
            return (bits & ok) != 0;
        }
        boolean allowed = firstMatch(rules, topic, right);
        if (cached == null && decisions.size() >= CACHE_LIMIT) {
            decisions.clear();
        }
        decisions.put(topic, (byte) (bits | known | (allowed ? ok : 0)));
        return allowed;
    }

    /** The first topic rule with the right that matches the topic decides; none: denied. */
    private static boolean firstMatch(List<AclRules.BoundRule> rules, String topic, int right) {
        for (AclRules.BoundRule r : rules) {
            if ((r.rights() & right) != 0 && r.group() == null && Topics.matches(r.filter(), topic)) {
                return r.allow();
            }
        }
        return false;
    }

    /** The bound rules; on the connection's loop, also drops the cached decisions when the file has changed. */
    private List<AclRules.BoundRule> refresh() {
        Bound b = current();
        if (b.version != cacheVersion) {
            cacheVersion = b.version;
            decisions.clear();
        }
        return b.rules;
    }

    /** The rules bound for the file's current version, bound again if it changed (any thread; the result is the same). */
    private Bound current() {
        ReloadingFile.Loaded<AclRules> loaded = file.loaded();
        Bound b = bound;
        if (b == null || b.version != loaded.version()) {
            b = new Bound(loaded.version(), loaded.value().bind(id), loaded.value().hasShareRules());
            bound = b;
        }
        return b;
    }
}
