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
 * <p>Thread-safety: not thread-safe; confined to the client's connection loop, which also owns its session while
 * it is attached. Cost: a cache miss walks the client's rules (see {@link AclRules}); the cache holds at most
 * {@link #CACHE_LIMIT} topics and is emptied when full or when the rules change.
 */
public final class TopicAccess {

    static final int CACHE_LIMIT = 4096;

    private static final byte READ_KNOWN = 1;
    private static final byte READ_OK = 2;
    private static final byte WRITE_KNOWN = 4;
    private static final byte WRITE_OK = 8;

    private final ReloadingFile<AclRules> file;
    private final ClientIdentity id;
    private final Map<String, Byte> decisions = new HashMap<>();
    private long version = -1;
    private List<AclRules.BoundRule> rules = List.of();

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

    /** Whether the client may subscribe to the filter (for a shared subscription: its topic filter part). */
    public boolean canSubscribe(String filter) {
        refresh();
        for (AclRules.BoundRule r : rules) {
            if ((r.rights() & AclRule.READ) == 0) {
                continue;
            }
            if (r.allow() ? FilterRelations.intersects(r.filter(), filter) : FilterRelations.covers(r.filter(), filter)) {
                return r.allow();
            }
        }
        return false;
    }

    /** The rule that decides a right on a topic, {@code null} if none (deny); for logs. */
    public AclRule decidingRule(String topic, int right) {
        refresh();
        for (AclRules.BoundRule r : rules) {
            if ((r.rights() & right) != 0 && Topics.matches(r.filter(), topic)) {
                return r.rule();
            }
        }
        return null;
    }

    private boolean decide(String topic, int right, byte known, byte ok) {
        refresh();
        Byte cached = decisions.get(topic);
        int bits = cached == null ? 0 : cached;
        if ((bits & known) != 0) {
            return (bits & ok) != 0;
        }
        boolean allowed = false;
        for (AclRules.BoundRule r : rules) {
            if ((r.rights() & right) != 0 && Topics.matches(r.filter(), topic)) {
                allowed = r.allow();
                break;
            }
        }
        if (cached == null && decisions.size() >= CACHE_LIMIT) {
            decisions.clear();
        }
        decisions.put(topic, (byte) (bits | known | (allowed ? ok : 0)));
        return allowed;
    }

    private void refresh() {
        ReloadingFile.Loaded<AclRules> loaded = file.loaded();
        if (loaded.version() != version) {
            version = loaded.version();
            rules = loaded.value().bind(id);
            decisions.clear();
        }
    }
}
