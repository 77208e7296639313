package io.starling.broker.acl;

import io.starling.broker.config.ReloadingFile;
import java.nio.file.Path;

/**
 * The authorization rules of the broker (key {@code acl-file}): the parsed {@link AclRules} of the file, reloaded
 * when it changes (a broken file is logged and the previous rules stay). When the broker has no ACL file there is
 * no {@code Acl} at all and nothing is checked (no cost per message); with one, every client gets a
 * {@link TopicAccess} when it connects.
 *
 * <p>Independently of any file, no client may publish to {@code $SYS} or below it ({@link #isSystemTopic}).
 *
 * <p>Thread-safety: thread-safe; {@link #reloadIfChanged()} from one thread at a time.
 */
public final class Acl {

    private final ReloadingFile<AclRules> file;

    /**
     * Loads the ACL file.
     *
     * @throws IllegalArgumentException naming the file, the line and the reason if it cannot be read or parsed
     */
    public Acl(Path aclFile) {
        this.file = new ReloadingFile<>(aclFile, "ACL file", AclRules::read, ReloadingFile.Exposure.OWNER_WRITES);
    }

    /** The file, to reload it and look at its version and failures. */
    public ReloadingFile<AclRules> file() {
        return file;
    }

    /** Reloads the file if it changed; see {@link ReloadingFile#reloadIfChanged()}. */
    public boolean reloadIfChanged() {
        return file.reloadIfChanged();
    }

    /** A client's view of the rules, for its connection (not thread-safe: confined to the connection's loop). */
    public TopicAccess accessFor(ClientIdentity id) {
        return new TopicAccess(file, id);
    }

    /** {@code $SYS} and everything below it: read-only for every client, whatever the rules say. */
    public static boolean isSystemTopic(String topic) {
        return topic.startsWith("$SYS") && (topic.length() == 4 || topic.charAt(4) == '/');
    }

    @Override
    public String toString() {
        return "Acl[" + file.path() + ", " + file.current() + ", version " + file.version() + "]";
    }
}
